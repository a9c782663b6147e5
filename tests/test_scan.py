from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes
from PIL import Image

from vigie.cli import main
from vigie.config import MiB, Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.sources.reopen import read_item_bytes
from vigie.store.sqlite import open_case


def _report(case: Path) -> dict:  # type: ignore[type-arg]
    store = open_case(case)
    try:
        return json.loads(render(store, "json"))
    finally:
        store.close()


def _by_path(report: dict, root: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return {item["path"].removeprefix(str(root) + "/"): item for item in report["items"]}


def _scanned_items(evidence: Path, case: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """Scan `evidence` into a new case; its report's items by path under the evidence."""
    store = open_case(case, create=True)
    run_scan(store, [str(evidence)], Settings(workers=1))
    store.close()
    return _by_path(_report(case), evidence)


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _errors(item: dict) -> str:  # type: ignore[type-arg]
    return " ".join(e["message"] for e in item["errors"])


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A folder of everything that goes wrong in real seizures."""
    root = tmp_path / "evidence"
    root.mkdir()
    good = jpeg_bytes(draw_picture(1, (320, 240)))
    (root / "good.jpg").write_bytes(good)
    (root / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (root / "empty.png").write_bytes(b"")
    (root / "garbage.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(300))
    bomb = io.BytesIO()
    Image.new("L", (12_000, 12_000)).save(bomb, "PNG")  # 144 MP of zeros, a few KB on disk
    (root / "pixel-bomb.png").write_bytes(bomb.getvalue())
    with zipfile.ZipFile(root / "zip-bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (40 * MiB))
        archive.writestr("ok.jpg", good)
    with zipfile.ZipFile(root / "traversal.zip", "w") as archive:
        archive.writestr("../../etc/evil.jpg", good)
        archive.writestr("/abs/path.jpg", good)
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tar:
        info = tarfile.TarInfo("deep/photo.jpg")
        info.size = len(good)
        tar.addfile(info, io.BytesIO(good))
    with zipfile.ZipFile(root / "nested.zip", "w") as archive:
        archive.writestr("inner.tar.gz", inner.getvalue())
    (root / "corrupt.zip").write_bytes(b"PK\x03\x04" + os.urandom(200))
    (root / "loop-a").symlink_to(root / "loop-b")
    (root / "loop-b").symlink_to(root / "loop-a")
    (root / "subdir").mkdir()
    (root / "subdir" / "up").symlink_to(root)
    os.mkfifo(root / "pipe")
    return root


def test_hostile_input_is_recorded_and_the_scan_finishes(tmp_path: Path, hostile: Path) -> None:
    case = tmp_path / "case"
    settings_file = case / "vigie.toml"
    case.mkdir()
    settings_file.write_text("max_image_pixels = 100_000_000\nratio_floor_bytes = 1_048_576\n")
    result = CliRunner().invoke(main, ["scan", str(hostile), "--case", str(case), "--workers", "2"])
    assert result.exit_code == 0, result.output
    items = _by_path(_report(case), hostile)
    listed = {p.name for p in hostile.iterdir()} - {"subdir"} | {"subdir/up"}
    top_level = {p for p in items if "!/" not in p}
    assert top_level == listed, "every input file appears in the report"
    assert items["good.jpg"]["pdq"] and not items["good.jpg"]["errors"]
    assert "truncated" in _errors(items["truncated.jpg"])
    assert items["truncated.jpg"]["sha256"], "unreadable images are still hashed"
    assert "empty file" in _errors(items["empty.png"])
    assert "corrupt" in _errors(items["garbage.jpg"])
    assert "decompression bomb" in _errors(items["pixel-bomb.png"])
    assert "compression ratio" in _errors(items["zip-bomb.zip!/zeros.bin"])
    assert items["zip-bomb.zip!/ok.jpg"]["pdq"], "a zip keeps going past a bomb member"
    assert "path traversal" in _errors(items["traversal.zip!/../../etc/evil.jpg"])
    assert "absolute member name" in _errors(items["traversal.zip!//abs/path.jpg"])
    assert items["nested.zip!/inner.tar.gz!/deep/photo.jpg"]["sha256"] == items["good.jpg"]["sha256"]
    assert "corrupt or unreadable archive" in _errors(items["corrupt.zip"])
    assert "symbolic link" in _errors(items["loop-a"])
    assert "not followed" in _errors(items["subdir/up"])
    assert "not a regular file" in _errors(items["pipe"])


@pytest.mark.slow
def test_evidence_is_not_modified(tmp_path: Path, hostile: Path) -> None:
    def snapshot() -> dict[str, tuple[int, float]]:
        return {str(p): (p.lstat().st_size, p.lstat().st_mtime) for p in hostile.rglob("*")}

    before = snapshot()
    run_scan(open_case(tmp_path / "case", create=True), [str(hostile)], Settings(workers=1))
    assert snapshot() == before


def test_rescan_skips_finished_items(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    for seed in range(3):
        (evidence / f"{seed}.jpg").write_bytes(jpeg_bytes(draw_picture(seed, (200, 150))))
    store = open_case(tmp_path / "case", create=True)
    first = run_scan(store, [str(evidence)], Settings(workers=1))
    (evidence / "new.jpg").write_bytes(jpeg_bytes(draw_picture(9, (200, 150))))
    second = run_scan(store, [str(evidence)], Settings(workers=1))
    assert (first.items_added, second.items_added, second.files_skipped) == (3, 1, 3)


@pytest.mark.slow
def test_kill_minus_nine_loses_no_finished_item(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    data = [jpeg_bytes(draw_picture(seed, (1600, 1200))) for seed in range(4)]
    for index in range(400):
        (evidence / f"{index:04d}.jpg").write_bytes(data[index % 4] + index.to_bytes(4, "big"))
    case = tmp_path / "case"
    command = [sys.executable, "-m", "vigie.cli", "scan", str(evidence), "--case", str(case), "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and stored < 40:
        time.sleep(0.2)
        if (case / "case.sqlite").exists():
            try:
                store = open_case(case)
                stored = len(store.item_ids())
                store.close()
            except Exception:
                continue
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < stored < 400, "the scan was killed part-way"
    store = open_case(case)
    survived = len(store.item_ids())
    store.close()
    assert survived >= stored
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    report = _report(case)
    paths = [i["path"] for i in report["items"]]
    assert len(paths) == len(set(paths)) == 400
    assert all(i["pdq"] for i in report["items"])


def test_single_files_and_archives_given_directly(tmp_path: Path) -> None:
    good = jpeg_bytes(draw_picture(2, (300, 200)))
    image = tmp_path / "photo.jpg"
    image.write_bytes(good)
    archive = tmp_path / "backup.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("DCIM/1.jpg", good)
    tarball = tmp_path / "backup.tar.xz"
    with tarfile.open(tarball, "w:xz") as tar:
        tar.add(image, arcname="x/2.jpg")
    case = tmp_path / "case"
    result = CliRunner().invoke(main, ["scan", str(image), str(archive), str(tarball), "--case", str(case)])
    assert result.exit_code == 0, result.output
    paths = {i["path"] for i in _report(case)["items"]}
    assert {f"{archive}!/DCIM/1.jpg", f"{tarball}!/x/2.jpg", str(image)} <= paths


@pytest.mark.parametrize("mode", ["gz", "xz"])
def test_a_compressed_tar_cut_short_keeps_every_member_before_the_cut_and_says_so(tmp_path: Path, mode: str) -> None:
    """A small archive decompresses in one buffer: the members before the cut must not go with it."""
    members = {f"m{n}.jpg": jpeg_bytes(draw_picture(n, (64, 64))) for n in range(3)}
    whole = io.BytesIO()
    with tarfile.open(fileobj=whole, mode=f"w:{mode}") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    cut = evidence / f"cut.tar.{mode}"
    cut.write_bytes(whole.getvalue()[: len(whole.getvalue()) * 2 // 3])  # the last member, or the end, lost
    items = _scanned_items(evidence, tmp_path / "case")
    read = {path.split("!/")[1]: item for path, item in items.items() if "!/" in path}
    complete = [name for name, item in read.items() if not item["errors"]]
    assert complete and all(read[name]["sha256"] == hashlib.sha256(members[name]).hexdigest() for name in complete)
    assert "m0.jpg" in complete, "the first member lies wholly before the cut"
    assert "corrupt or unreadable archive" in _errors(items[cut.name]), "the cut is said on the archive"


class _Unseekable(io.RawIOBase):
    """Where zipfile writes each member's sizes after its data (a data descriptor), as streaming zippers do."""

    def __init__(self, sink: io.BytesIO) -> None:
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.sink.write(data)


@pytest.mark.parametrize(("method", "streamed"), [(zipfile.ZIP_DEFLATED, False), (zipfile.ZIP_STORED, False),
                                                  (zipfile.ZIP_DEFLATED, True)])
def test_a_zip_cut_short_keeps_every_member_before_the_cut(tmp_path: Path, method: int, streamed: bool) -> None:
    """Without its central directory (at the end, so lost first) zipfile reads nothing: the members are read
    from their local headers instead, and the cut is said on the archive."""
    members = {f"m{n}.jpg": jpeg_bytes(draw_picture(n, (64, 64))) for n in range(3)}
    whole = io.BytesIO()
    with zipfile.ZipFile(_Unseekable(whole) if streamed else whole, "w", method) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    data = whole.getvalue()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "cut.zip").write_bytes(data[: data.index(b"PK\x01\x02") - 40])  # into the last member
    damaged = bytearray(data[: data.index(b"PK\x01\x02")])
    damaged[data.index(b"m1.jpg") + 200] ^= 0xFF  # a byte of the second member's data
    (evidence / "damaged.zip").write_bytes(bytes(damaged))
    items = _scanned_items(evidence, tmp_path / "case")
    for archive, complete in (("cut.zip", ["m0.jpg", "m1.jpg"]), ("damaged.zip", ["m0.jpg", "m2.jpg"])):
        read = {path.split("!/")[1]: item for path, item in items.items() if path.startswith(archive + "!/")}
        assert [n for n, item in sorted(read.items()) if not item["errors"]] == complete, (archive, read)
        assert all(read[n]["sha256"] == hashlib.sha256(members[n]).hexdigest() for n in complete)
        assert "central directory is missing" in _errors(items[archive])
        assert all(read[n]["errors"] and not read[n]["sha256"] for n in read if n not in complete), "never a wrong hash"
    assert read_item_bytes(str(evidence), "cut.zip!/m1.jpg", Settings(), 10**7) == members["m1.jpg"]


def test_a_tar_stopping_at_a_bad_header_and_a_zip_file_named_like_a_folder_are_never_silent(tmp_path: Path) -> None:
    picture = jpeg_bytes(draw_picture(4, (64, 64)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    first, known = tarfile.TarInfo("a.txt"), tarfile.TarInfo("k.jpg")
    first.size, known.size = 3, len(picture)
    blocks = bytearray(first.tobuf() + b"abc".ljust(512, b"\0") + known.tobuf())
    blocks[1024 + 148:1024 + 156] = b"0000000\0"  # the second header's checksum, wrong
    (evidence / "badsum.tar").write_bytes(bytes(blocks) + picture.ljust(-(-len(picture) // 512) * 512, b"\0")
                                          + b"\0" * 1024)
    with zipfile.ZipFile(evidence / "slash.zip", "w") as zipped:
        zipped.writestr("photo.jpg/", picture)  # a folder's name, a picture's bytes
    odd = tarfile.TarInfo("odd.jpg")
    odd.type, odd.size = b"Z", len(picture)  # a type tarfile does not know: GNU tar extracts it as a file
    with tarfile.open(evidence / "odd.tar", "w") as tar:
        tar.addfile(odd, io.BytesIO(picture))
    (evidence / "joined.tar").write_bytes((evidence / "odd.tar").read_bytes() * 2)  # `cat a.tar b.tar`
    items = _scanned_items(evidence, tmp_path / "case")
    assert "a header that cannot be read at byte 1,024" in _errors(items["badsum.tar"])
    assert not items["joined.tar"]["errors"]  # a tar joined behind: read, below
    member = items["slash.zip!/photo.jpg/"]
    assert member["sha256"] == hashlib.sha256(picture).hexdigest() and "named like a folder" in _errors(member)
    odd_member = items["odd.tar!/odd.jpg"]
    assert odd_member["sha256"] == hashlib.sha256(picture).hexdigest() and "unknown type" in _errors(odd_member)


def test_tars_joined_behind_each_other_are_all_read_and_what_follows_an_end_is_said(tmp_path: Path) -> None:
    """`cat a.tar b.tar`: tarfile (and GNU tar without --ignore-zeros) stops at the first end-of-archive zeros."""
    pictures = [jpeg_bytes(draw_picture(seed, (64, 64))) for seed in (18, 19, 20)]

    def tar_of(name: str, data: bytes) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w") as tar:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return out.getvalue()

    joined = tar_of("a.jpg", pictures[0]) + tar_of("b/a.jpg", pictures[1]) + tar_of("a.jpg", pictures[2])
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "joined.tar").write_bytes(joined)
    (evidence / "joined.tar.gz").write_bytes(gzip.compress(joined))
    (evidence / "trailing.tar").write_bytes(tar_of("a.jpg", pictures[0]) + b"junk" * 100)
    items = _scanned_items(evidence, tmp_path / "case")
    for archive in ("joined.tar", "joined.tar.gz"):
        assert not items[archive]["errors"]
        for member, picture, joined_behind in (("a.jpg", 0, False), ("b/a.jpg", 1, True), ("a.jpg!2", 2, True)):
            item = items[f"{archive}!/{member}"]
            assert item["sha256"] == hashlib.sha256(pictures[picture]).hexdigest(), (archive, member)
            assert ("joined behind another tar's end" in _errors(item)) == joined_behind
            # read again as the console does
            assert read_item_bytes(str(evidence), f"{archive}!/{member}", Settings(), 10**7) == pictures[picture]
    assert items["trailing.tar!/a.jpg"]["sha256"] == hashlib.sha256(pictures[0]).hexdigest()
    assert "data that is not a tar header at byte 10,240, after the end of the archive" in _errors(
        items["trailing.tar"])


def test_archives_vigie_does_not_read_are_typed_and_said_never_passed_over(tmp_path: Path) -> None:
    """A zstd, LZ4, 7-Zip or RAR archive may hold known pictures: typed by its magic, and said on its item."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    made = {"a.jpg.zst": (b"\x28\xb5\x2f\xfd", "application/zstd", "zstd-compressed"),
            "a.jpg.lz4": (b"\x04\x22\x4d\x18", "application/x-lz4", "LZ4-compressed"),
            "a.7z": (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", "7-Zip"),
            "a.rar": (b"Rar!\x1a\x07\x01\x00", "application/vnd.rar", "RAR")}
    for name, (magic, _, _) in made.items():
        (evidence / name).write_bytes(magic + bytes(range(256)) * 4)
    items = _scanned_items(evidence, tmp_path / "case")
    for name, (_, media_type, said) in made.items():
        assert items[name]["media_type"] == media_type
        assert f"a {said} archive: Vigie does not read what it holds" in _errors(items[name])


def test_missing_evidence_path_fails_the_scan(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "nope"), "--case", str(tmp_path / "case")])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_stacks_group_duplicates_and_altered_copies(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    base = draw_picture(4, (640, 480))
    (evidence / "a.jpg").write_bytes(jpeg_bytes(base))
    shutil.copy(evidence / "a.jpg", evidence / "a-copy.jpg")
    (evidence / "a-mirror.jpg").write_bytes(jpeg_bytes(base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 70))
    (evidence / "a-small.jpg").write_bytes(jpeg_bytes(base.resize((320, 240))))
    (evidence / "other.jpg").write_bytes(jpeg_bytes(draw_picture(5, (640, 480))))
    store = open_case(tmp_path / "case", create=True)
    result = run_scan(store, [str(evidence)], Settings(workers=1))
    assert result.stacks == 1
    items = _by_path(_report(tmp_path / "case"), evidence)
    stack_ids = {items[n]["stack"]["id"] for n in ("a.jpg", "a-copy.jpg", "a-mirror.jpg", "a-small.jpg")}
    assert len(stack_ids) == 1 and items["other.jpg"]["stack"] is None
    representatives = [n for n, i in items.items() if i["stack"] and i["stack"]["representative"]]
    assert len(representatives) == 1 and representatives[0] in ("a.jpg", "a-copy.jpg")


def test_unreadable_file_is_listed_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vigie.sources.directory as directory

    evidence = tmp_path / "ev"
    evidence.mkdir()
    (evidence / "locked.jpg").write_bytes(jpeg_bytes(draw_picture(1, (100, 80))))
    (evidence / "open.jpg").write_bytes(jpeg_bytes(draw_picture(2, (100, 80))))
    real_open = directory.open_evidence

    def deny(path: str, **where: int) -> object:  # where: the folder's descriptor the source opens it in
        if str(path).endswith("locked.jpg"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, **where)

    monkeypatch.setattr(directory, "open_evidence", deny)
    run_scan(open_case(tmp_path / "case", create=True), [str(evidence)], Settings(workers=1))
    items = _by_path(_report(tmp_path / "case"), evidence)
    assert "Permission denied" in _errors(items["locked.jpg"])
    assert items["locked.jpg"]["sha256"] is None
    assert items["open.jpg"]["pdq"]


def test_overlapping_sources_are_flagged(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    (evidence / "inner").mkdir(parents=True)
    (evidence / "inner" / "a.jpg").write_bytes(jpeg_bytes(draw_picture(1, (100, 80))))
    case = tmp_path / "case"
    runner = CliRunner()
    runner.invoke(main, ["scan", str(evidence / "inner"), "--case", str(case)])
    result = runner.invoke(main, ["scan", str(evidence), "--case", str(case)])
    assert result.exit_code == 0
    assert "overlaps" in result.output


def test_a_file_changed_since_it_was_scanned_is_said_on_its_item_not_skipped_in_silence(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.jpg").write_bytes(jpeg_bytes(draw_picture(1, (64, 64))))
    (evidence / "b.jpg").write_bytes(jpeg_bytes(draw_picture(2, (64, 64))))
    case = tmp_path / "case"
    assert CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"]).exit_code == 0
    (evidence / "a.jpg").write_bytes(jpeg_bytes(draw_picture(3, (80, 80))))  # another picture at the same path
    again = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"])
    assert again.exit_code == 0 and "changed since scanned" in again.output
    for _ in range(2):  # said once, however many scans see it
        items = _by_path(_report(case), evidence)
        assert [e["stage"] for e in items["a.jpg"]["errors"]] == ["changed"] and not items["b.jpg"]["errors"]
        CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"])


def test_a_zip_behind_a_picture_or_a_self_extractor_is_read(tmp_path: Path) -> None:
    """Data before a zip is allowed by the format: a picture with a zip appended hides the zip's members from
    any tool that types the file by its first bytes."""
    hidden = jpeg_bytes(draw_picture(7, (64, 64)))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("hidden/k.jpg", hidden)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "cover.jpg").write_bytes(jpeg_bytes(draw_picture(8, (64, 64))) + zipped.getvalue())
    (evidence / "setup.exe").write_bytes(b"MZ" + bytes(1022) + zipped.getvalue())
    (evidence / "plain.jpg").write_bytes(jpeg_bytes(draw_picture(9, (64, 64))))
    with zipfile.ZipFile(evidence / "sent.zip", "w") as archive:  # and a picture with a zip behind it, sent on
        archive.writestr("cover.png", _png_bytes(draw_picture(12, (64, 64))) + zipped.getvalue())
    items = _scanned_items(evidence, tmp_path / "case")
    for outer in ("cover.jpg", "setup.exe", "sent.zip!/cover.png"):
        assert items[f"{outer}!/hidden/k.jpg"]["sha256"] == hashlib.sha256(hidden).hexdigest()
        assert "a zip archive follows this file's own content" in _errors(items[outer])
    assert items["cover.jpg"]["media_type"] == "image/jpeg" and items["cover.jpg"]["pdq"]  # still a picture too
    for relpath in ("cover.jpg!/hidden/k.jpg", "setup.exe!/hidden/k.jpg", "sent.zip!/cover.png!/hidden/k.jpg"):
        # read again as the console does
        assert read_item_bytes(str(evidence), relpath, Settings(), 10**7) == hidden
    assert not items["plain.jpg"]["errors"] and not [p for p in items if p.startswith("plain.jpg!/")]


def test_a_zip_behind_a_self_extractor_inside_a_zip_is_read_and_one_too_large_to_hold_is_said(tmp_path: Path) -> None:
    hidden = jpeg_bytes(draw_picture(17, (64, 64)))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("hidden/k.jpg", hidden)
    extractor = b"MZ" + bytes(1022) + zipped.getvalue()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    with zipfile.ZipFile(evidence / "tools.zip", "w") as archive:
        archive.writestr("setup.exe", extractor)
        archive.writestr("large.exe", b"MZ" + bytes(100_000) + zipped.getvalue())
        archive.writestr("notes.bin", b"MZ" + bytes(100_000))  # nothing behind it: nothing said
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("setup.exe", extractor)
    with zipfile.ZipFile(evidence / "outer.zip", "w") as archive:  # a zip held in memory: its members too
        archive.writestr("inner.zip", inner.getvalue())
    settings = Settings(workers=1, max_nested_archive_bytes=50_000)
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(evidence)], settings)
    store.close()
    items = _by_path(_report(tmp_path / "case"), evidence)
    for outer in ("tools.zip!/setup.exe", "outer.zip!/inner.zip!/setup.exe"):
        assert items[f"{outer}!/hidden/k.jpg"]["sha256"] == hashlib.sha256(hidden).hexdigest(), outer
        assert "a zip archive follows this file's own content" in _errors(items[outer]), outer
        assert read_item_bytes(str(evidence), f"{outer}!/hidden/k.jpg", settings, 10**7) == hidden, outer
    assert "a zip's end record ends this member" in _errors(items["tools.zip!/large.exe"])
    assert not items["tools.zip!/notes.bin"]["errors"]


def test_a_zip_behind_a_picture_is_read_cut_short_with_a_false_end_record_or_in_front_of_another(
    tmp_path: Path
) -> None:
    """zipfile finds a zip by its end record: behind a picture, a zip cut short, one whose comment holds a false
    end record, and the first of two are read from their local headers, never missed in silence."""
    first, second = jpeg_bytes(draw_picture(14, (64, 64))), jpeg_bytes(draw_picture(15, (64, 64)))

    def zipped(name: str, data: bytes, comment: bytes = b"") -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
            archive.comment = comment
        return out.getvalue()

    cover = jpeg_bytes(draw_picture(16, (64, 64)))
    whole = zipped("k.jpg", first)
    false_end = b"PK\x05\x06" + bytes(18)  # an end record for an empty zip, in the real one's comment
    files = {
        "cut.jpg": cover + whole[: len(whole) - 40],  # its directory and end record lost
        "false-end.jpg": cover + zipped("k.jpg", first, comment=false_end + b"x"),
        "two.jpg": cover + whole + zipped("l.jpg", second),
    }
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    with zipfile.ZipFile(evidence / "sent.zip", "w") as archive:  # read in memory, as members are
        archive.writestr("cut.png", _png_bytes(draw_picture(17, (64, 64))) + whole[: len(whole) - 40])
    items = _scanned_items(evidence, tmp_path / "case")
    for outer in (*files, "sent.zip!/cut.png"):
        assert items[f"{outer}!/k.jpg"]["sha256"] == hashlib.sha256(first).hexdigest(), outer
        assert "a zip archive follows this file's own content" in _errors(items[outer])
        assert read_item_bytes(str(evidence), f"{outer}!/k.jpg", Settings(), 10**7) == first
    assert "central directory is missing" in _errors(items["cut.jpg"])
    assert items["two.jpg!/l.jpg"]["sha256"] == hashlib.sha256(second).hexdigest()
    assert read_item_bytes(str(evidence), "two.jpg!/l.jpg", Settings(), 10**7) == second


def test_what_stops_a_zip_read_from_its_local_headers_and_what_follows_a_zip_are_never_silent(
    tmp_path: Path
) -> None:
    first, second = jpeg_bytes(draw_picture(25, (64, 64))), jpeg_bytes(draw_picture(26, (64, 64)))

    def zipped(name: str, data: bytes, **options: Any) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(name, "w", **options) as w:
            w.write(data)
        return out.getvalue()

    cover = jpeg_bytes(draw_picture(27, (64, 64)))
    later = zipped("l.jpg", second)
    odd_date = bytearray(zipped("k.jpg", first))
    odd_date[12:14] = ((2024 - 1980) << 9 | 13 << 5 | 1).to_bytes(2, "little")  # month 13: readers ignore it
    files = {
        "zip64-in-front.jpg": cover + zipped("k.jpg", first, force_zip64=True) + later,  # salvage stops at zip64
        "cut-behind-whole.zip": zipped("k.jpg", first) + later[:-30],
        "junk-after.zip": zipped("k.jpg", first) + b"junk" * 10,
        "odd-date-cut.jpg": cover + bytes(odd_date[:-30]),
        "two-zips.exe": b"MZ" + bytes(1022) + zipped("k.jpg", first) + later,  # a self-extractor's two zips
        "three.zip": zipped("a.jpg", cover) + zipped("k.jpg", first) + later,  # `cat a.zip b.zip c.zip`
        "lying-comment.zip": zipped("a.jpg", cover)[:-2] + b"\xff\xff" + later[:-30],  # a comment of 65,535?
    }
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = _scanned_items(evidence, tmp_path / "case")
    assert "read from its local headers: 0 member(s), then member 'k.jpg' is zip64" in _errors(
        items["zip64-in-front.jpg"])
    assert items["zip64-in-front.jpg!/l.jpg"]["sha256"] == hashlib.sha256(second).hexdigest()
    assert items["cut-behind-whole.zip!/l.jpg"]["sha256"] == hashlib.sha256(second).hexdigest()
    assert "joined behind the end" in _errors(items["cut-behind-whole.zip!/l.jpg"])
    assert "40 bytes after the zip's end record" in _errors(items["junk-after.zip"])
    assert items["odd-date-cut.jpg!/k.jpg"]["sha256"] == hashlib.sha256(first).hexdigest()
    assert items["two-zips.exe!/k.jpg"]["sha256"] == hashlib.sha256(first).hexdigest()
    assert items["two-zips.exe!/l.jpg"]["sha256"] == hashlib.sha256(second).hexdigest()
    assert items["three.zip!/k.jpg"]["sha256"] == hashlib.sha256(first).hexdigest()  # the middle one
    assert items["lying-comment.zip!/l.jpg"]["sha256"] == hashlib.sha256(second).hexdigest()
    for relpath in ("cut-behind-whole.zip!/l.jpg", "odd-date-cut.jpg!/k.jpg", "two-zips.exe!/k.jpg",
                    "three.zip!/k.jpg", "lying-comment.zip!/l.jpg"):
        assert read_item_bytes(str(evidence), relpath, Settings(), 10**7) is not None


def _streamed_zip(members: dict[str, bytes]) -> bytes:
    """A zip written to a stream that cannot seek: its members carry data descriptors (no sizes in their headers),
    as `zip -` and jar tools write them."""
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.data += bytes(b)
            return len(b)

    out = Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for name, data in members.items():
            archive.writestr(name, data)
    return bytes(out.data)


def _three_zips(seeds: tuple[int, int, int], *folder: str) -> tuple[list[bytes], list[bytes]]:
    """Three drawn pictures, and a deflated zip of each (`a.jpg`, `b.jpg`, `c.jpg`), after the `folder` entries."""
    pictures = [jpeg_bytes(draw_picture(seed, (64, 64))) for seed in seeds]
    zips = []
    for name, data in zip(("a.jpg", "b.jpg", "c.jpg"), pictures, strict=True):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in folder:
                archive.writestr(entry, b"")
            archive.writestr(name, data)
        zips.append(out.getvalue())
    return pictures, zips


def test_zips_joined_with_lying_lengths_padding_folders_and_bombs_are_read_or_said(tmp_path: Path) -> None:
    from vigie.sources.archives import iter_members
    from vigie.sources.members import ArchiveLimitError, Expansion

    pictures, zips = _three_zips((29, 30, 31), "d/")  # a folder entry, deflated to 2 bytes: no member
    lying = zips[0][:-2] + b"\x0a\x00"  # its end record claims a comment of 10 bytes it does not have
    huge = zips[0][:-22] + b"PK\x06\x06" + b"\xff" * 8 + zips[0][-22:]  # a zip64 end record of 2^64-1 bytes
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "padded.zip").write_bytes(zips[0] + bytes(16) + zips[1] + zips[2])
    (evidence / "lying.zip").write_bytes(lying + zips[1] + zips[2])
    (evidence / "huge.zip").write_bytes(huge + zips[1] + zips[2])
    items = _scanned_items(evidence, tmp_path / "case")
    for archive in ("padded.zip", "lying.zip"):
        for name, picture in zip(("a.jpg", "b.jpg", "c.jpg"), pictures, strict=True):
            assert items[f"{archive}!/{name}"]["sha256"] == hashlib.sha256(picture).hexdigest(), (archive, name)
        assert not [path for path in items if path.startswith(archive) and path.endswith("d/")]
    assert items["huge.zip"]["sha256"] and items["huge.zip!/c.jpg"]["sha256"]
    assert "claims 18,446,744,073,709,551,615 bytes past the end of the file" in _errors(items["huge.zip"])
    # a member with no length in its header still meets the ratio cap; one with its length, by that length
    bomb = _streamed_zip({"zeros.bin": bytes(8 << 20)}) + zips[2]
    settings = Settings(ratio_floor_bytes=1 << 20)
    with pytest.raises(ArchiveLimitError, match="compression ratio over"):
        for member in iter_members(io.BytesIO(bomb), "application/zip", settings, Expansion(), b"bomb.zip"):
            if member.stream is not None:
                member.stream.read()
    front_loaded = io.BytesIO()  # 4 MiB of zeros, then random bytes: 60:1 over all, far more at its start
    with zipfile.ZipFile(front_loaded, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mixed.bin", bytes(4 << 20) + os.urandom(1 << 16))
    read = [len(m.stream.read()) for m in iter_members(io.BytesIO(front_loaded.getvalue() + zips[2]),
                                                        "application/zip", settings, Expansion(), b"f.zip")
            if m.stream is not None]
    assert read == [(4 << 20) + (1 << 16), len(pictures[2])]


def test_what_lies_between_joined_zips_is_never_read_as_a_member_nor_passed_over(tmp_path: Path) -> None:
    pictures, zips = _three_zips((32, 33, 34))
    decoy = io.BytesIO()  # a comment that holds a local header: never a member
    with zipfile.ZipFile(decoy, "w") as archive:
        archive.writestr("fake.txt", b"not a member")
    commented = zips[0][:-2] + len(decoy.getvalue()[:60]).to_bytes(2, "little") + decoy.getvalue()[:60]
    bad_folder = bytearray(_streamed_zip({"d/": b""}))
    bad_folder[14:18] = (0x12345678).to_bytes(4, "little")  # a folder entry whose CRC-32 is wrong
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "comment.zip").write_bytes(commented + bytes(16) + zips[1] + zips[2])
    (evidence / "junk.zip").write_bytes(zips[0] + jpeg_bytes(draw_picture(35, (32, 32))) + zips[1] + zips[2])
    (evidence / "folder.zip").write_bytes(bytes(bad_folder) + zips[1] + zips[2])
    items = _scanned_items(evidence, tmp_path / "case")
    assert not [path for path in items if path.endswith("fake.txt")]
    assert items["comment.zip!/b.jpg"]["sha256"] == hashlib.sha256(pictures[1]).hexdigest()
    assert "data after the end record at byte" in _errors(items["junk.zip"])  # said, never passed over
    assert items["junk.zip!/c.jpg"]["sha256"] == hashlib.sha256(pictures[2]).hexdigest()
    for name, picture in (("b.jpg", pictures[1]), ("c.jpg", pictures[2])):  # past a damaged folder entry
        assert items[f"folder.zip!/{name}"]["sha256"] == hashlib.sha256(picture).hexdigest()


def test_a_picture_made_of_false_zip_signatures_costs_a_bounded_search_and_says_where_it_stopped(
    tmp_path: Path
) -> None:
    from vigie.sources.zipbehind import MOST_FALSE_SIGNATURES

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "bait.jpg").write_bytes(jpeg_bytes(draw_picture(28, (64, 64))) + b"PK\x03\x04" * 2_000_000)
    items = _scanned_items(evidence, tmp_path / "case")
    assert f"{MOST_FALSE_SIGNATURES:,} zip header signatures that start no header" in _errors(items["bait.jpg"])


def test_zip_clues_find_a_plausible_local_header_split_between_chunks_never_at_the_start() -> None:
    from vigie.sources.zipbehind import ZipClues

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("k.jpg", b"k")
    bait = b"PK\x03\x04" + b"\xff" * 40  # a signature by chance: no header the format allows follows it
    data = b"\xff\xd8" + bait + bytes(100) + zipped.getvalue()
    for cut in range(len(data) + 1):
        clues = ZipClues(headers=True)
        clues.feed(data[:cut])
        clues.feed(data[cut:])
        assert clues.local_header == 2 + len(bait) + 100, cut
    at_start = ZipClues(headers=True)
    at_start.feed(zipped.getvalue())
    assert at_start.local_header is None
    unsought = ZipClues(headers=False)
    unsought.feed(data[:-22])  # without its end record
    assert not unsought.worth_a_look


def test_a_file_is_read_once_unless_its_tail_may_end_a_zip(tmp_path: Path) -> None:
    """The tail is kept as the file is hashed: a disk image's file is not read again to look for a zip."""
    from vigie.signals.analysis import analyse_entry
    from vigie.sources.directory import FileSource

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("k.jpg", b"k")
    picture = jpeg_bytes(draw_picture(13, (64, 64)))
    commented = io.BytesIO()
    with zipfile.ZipFile(commented, "w") as archive:
        archive.writestr("k.jpg", b"k")
        archive.comment = b"c" * 65535
    # the end record as far from the end as zipfile still looks: the longest comment, and a byte after it
    farthest = (tmp_path / "far.jpg")
    farthest.write_bytes(jpeg_bytes(draw_picture(13, (64, 64))) + commented.getvalue() + b"X")
    assert [r.relpath for r in analyse_entry(next(FileSource(str(farthest)).entries()),
                                             lambda: FileSource(str(farthest)).open(""), Settings())] == ["", "!/k.jpg"]
    # (file, bytes, times opened: hashing, then the zip's check and its members, items)
    for name, data, opens, items in (("plain.jpg", picture, 1, 1), ("cover.jpg", picture + zipped.getvalue(), 3, 2)):
        (tmp_path / name).write_bytes(data)
        source = FileSource(str(tmp_path / name))
        opened = []

        def open_entry(source: FileSource = source, opened: list[int] = opened) -> object:
            opened.append(1)
            return source.open("")

        records = analyse_entry(next(source.entries()), open_entry, Settings())
        assert (len(opened), len(records)) == (opens, items), name


def test_a_gzip_with_data_after_its_stream_keeps_its_whole_content_and_a_cut_one_never_a_wrong_hash(
    tmp_path: Path
) -> None:
    picture = jpeg_bytes(draw_picture(3, (64, 64)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "trail.jpg.gz").write_bytes(gzip.compress(picture) + b"garbage!")  # the member is whole (CRC)
    (evidence / "cut.jpg.gz").write_bytes(gzip.compress(picture)[:-30])
    items = _scanned_items(evidence, tmp_path / "case")
    assert items["trail.jpg.gz!/trail.jpg"]["sha256"] == hashlib.sha256(picture).hexdigest()
    assert "data after the compressed stream" in _errors(items["trail.jpg.gz"])
    assert not items["cut.jpg.gz!/cut.jpg"]["sha256"] and _errors(items["cut.jpg.gz!/cut.jpg"])


def test_two_zips_joined_are_both_read(tmp_path: Path) -> None:
    """`cat a.zip b.zip`: zipfile finds only the last directory; the zip in front is read from its headers."""
    front, back = jpeg_bytes(draw_picture(10, (64, 64))), jpeg_bytes(draw_picture(11, (64, 64)))
    zips = []
    for name, data in (("front.jpg", front), ("back.jpg", back)):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        zips.append(out.getvalue())
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "joined.zip").write_bytes(b"".join(zips))
    items = _scanned_items(evidence, tmp_path / "case")
    assert items["joined.zip!/front.jpg"]["sha256"] == hashlib.sha256(front).hexdigest()
    assert "joined in front" in _errors(items["joined.zip!/front.jpg"])
    assert items["joined.zip!/back.jpg"]["sha256"] == hashlib.sha256(back).hexdigest()
    assert not items["joined.zip!/back.jpg"]["errors"] and not items["joined.zip"]["errors"]
    assert read_item_bytes(str(evidence), "joined.zip!/front.jpg", Settings(), 10**7) == front


def _listing_only(data: bytes, listed: set[str], between: bytes = b"") -> bytes:
    """A zip whose central directory is rewritten to list only the members named in `listed` (a directory forged
    to show a decoy), with `between` put in front of the directory."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        start, infos = archive.start_dir, archive.infolist()
    entries, at = [], start
    for info in infos:  # each directory entry: 46 bytes, then its name, extra and comment
        size = 46 + sum(int.from_bytes(data[at + o:at + o + 2], "little") for o in (28, 30, 32))
        if info.filename in listed:
            entries.append(data[at:at + size])
        at += size
    directory = b"".join(entries)  # the members' offsets stand: `between` goes after them
    end = bytearray(data[at:at + 22])
    end[8:10] = end[10:12] = len(entries).to_bytes(2, "little")
    end[12:16] = len(directory).to_bytes(4, "little")
    end[16:20] = (start + len(between)).to_bytes(4, "little")
    return data[:start] + between + directory + bytes(end)


def test_members_a_forged_central_directory_does_not_list_are_read_and_marked(tmp_path: Path) -> None:
    """A directory rewritten to list a decoy hides the other members from every zip tool; their local headers
    are still in the file, where a well-formed zip holds nothing else."""
    pictures = {name: jpeg_bytes(draw_picture(seed, (64, 64))) for name, seed in
                (("hidden.jpg", 36), ("decoy.jpg", 37), ("tail.jpg", 38))}

    def zipped(names: tuple[str, ...], streamed: bool = False) -> bytes:
        if streamed:
            return _streamed_zip({name: pictures[name] for name in names})
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.writestr(name, pictures[name])
        return out.getvalue()

    everything = ("hidden.jpg", "decoy.jpg", "tail.jpg")
    files = {
        "first.zip": _listing_only(zipped(everything), {"decoy.jpg", "tail.jpg"}),
        "between.zip": _listing_only(zipped(("decoy.jpg", "hidden.jpg", "tail.jpg")), {"decoy.jpg", "tail.jpg"}),
        "last.zip": _listing_only(zipped(("decoy.jpg", "tail.jpg", "hidden.jpg")), {"decoy.jpg", "tail.jpg"}),
        "streamed.zip": _listing_only(zipped(("decoy.jpg", "hidden.jpg", "tail.jpg"), streamed=True),
                                      {"decoy.jpg", "tail.jpg"}),
    }
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    (evidence / "whole-streamed.zip").write_bytes(zipped(everything, streamed=True))
    (evidence / "junk.zip").write_bytes(_listing_only(zipped(everything), set(everything), b"\x01" * 40))
    (evidence / "zeros.zip").write_bytes(_listing_only(zipped(everything), set(everything), bytes(40)))
    signed = b"\x07" * 40 + b"APK Sig Block 42"
    (evidence / "signed.apk").write_bytes(_listing_only(zipped(everything), set(everything), signed))
    items = _scanned_items(evidence, tmp_path / "case")
    for archive in files:
        assert items[f"{archive}!/hidden.jpg"]["sha256"] == hashlib.sha256(pictures["hidden.jpg"]).hexdigest()
        assert "does not list" in _errors(items[f"{archive}!/hidden.jpg"]), archive
        assert not items[f"{archive}!/decoy.jpg"]["errors"] and not items[f"{archive}!/tail.jpg"]["errors"]
        assert len([path for path in items if path.startswith(f"{archive}!/")]) == 3, archive
        assert read_item_bytes(str(evidence), f"{archive}!/hidden.jpg", Settings(), 10**7) == pictures["hidden.jpg"]
    for archive in ("whole-streamed.zip", "zeros.zip", "signed.apk"):
        assert not items[archive]["errors"], archive
        assert not [item for path, item in items.items() if path.startswith(archive) and item["errors"]], archive
    assert "40 bytes at byte" in _errors(items["junk.zip"]) and "no member listed" in _errors(items["junk.zip"])
    assert items["junk.zip!/tail.jpg"]["sha256"] == hashlib.sha256(pictures["tail.jpg"]).hexdigest()
