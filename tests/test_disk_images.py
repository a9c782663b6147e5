"""Disk images as sources: partitions and file systems read in place, deleted files, damaged images.

The images are built here with Debian's tools (mkfs.vfat, mtools, mkfs.ext4, sfdisk, ewfacquire) and hold
drawn pictures only. Each test skips, saying why, where a tool or the `disk` extra is missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.signals.pdq import pdq_from_image
from vigie.sources import open_source
from vigie.sources.base import parse_relpath
from vigie.sources.diskimage import extra_installed
from vigie.sources.reopen import read_item_bytes

_SECTOR = 512


def _need(*tools: str, extra: bool = True) -> None:
    if extra and not extra_installed():
        pytest.skip("the `disk` extra (pytsk3, libewf-python) is not installed")
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (scripts/install-debian-packages.sh installs it)")


def _run(*command: str | Path) -> None:
    subprocess.run([str(part) for part in command], check=True, capture_output=True, stdin=subprocess.DEVNULL)


def _picture(seed: int) -> bytes:
    return jpeg_bytes(draw_picture(seed, (320, 240)))


def _fat(path: Path, kib: int, steps: list[tuple[str, ...]], scratch: Path) -> None:
    """A FAT file system image; steps: ("mkdir", "::D"), ("copy", data-name, "::D/X.JPG"), ("del", "::X")."""
    _run("mkfs.vfat", "-C", path, str(kib))
    for step in steps:
        if step[0] == "mkdir":
            _run("mmd", "-i", path, step[1])
        elif step[0] == "copy":
            _run("mcopy", "-i", path, scratch / step[1], step[2])
        else:
            _run("mdel", "-i", path, step[1])


def _disk(path: Path, label: str, partitions: list[Path]) -> list[int]:
    """A disk with an MBR ("dos") or GPT holding `partitions` (file system images) in order; their starts."""
    starts, start = [], 2048
    for part in partitions:
        starts.append(start)
        start += part.stat().st_size // _SECTOR
    with path.open("wb") as disk:
        disk.truncate((start + 2048) * _SECTOR)
    kind = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" if label == "gpt" else "c"
    rows = zip(starts, partitions, strict=True)
    table = f"label: {label}\n" + "".join(f"start={s}, size={p.stat().st_size // _SECTOR}, type={kind}\n"
                                            for s, p in rows)
    subprocess.run(["sfdisk", "-q", str(path)], input=table.encode(), check=True, capture_output=True)
    with path.open("r+b") as disk:
        for part_start, part in zip(starts, partitions, strict=True):
            disk.seek(part_start * _SECTOR)
            disk.write(part.read_bytes())
    return starts


def _e01(raw: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    _run("ewfacquire", "-u", "-q", "-d", "sha1", "-c", "deflate:fast", "-t", target, raw)
    return target.with_suffix(".E01")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def seizure(tmp_path: Path) -> dict[str, object]:
    """A GPT disk: p1 FAT with a camera folder, a deleted picture beside a live one of the same shown name and
    a zip in a zip; p2 ext4 with one picture and one deleted. Returned with the originals' bytes."""
    _need("mkfs.vfat", "mcopy", "mkfs.ext4", "debugfs", "sfdisk", extra=False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    originals = {
        "IMG_0001.JPG": _picture(1), "XIMG.JPG": _picture(2), "_IMG.JPG": _picture(3), "c.jpg": _picture(4),
        "b.jpg": _picture(5), "gone.jpg": _picture(6),
    }
    originals["ALBUM.ZIP"] = _zip({"inner.zip": _zip({"c.jpg": originals["c.jpg"]})})
    for name, data in originals.items():
        (scratch / name).write_bytes(data)
    fat = tmp_path / "p1.fat"
    _fat(fat, 8192, [("mkdir", "::DCIM"), ("mkdir", "::DCIM/100APPLE"), ("copy", "XIMG.JPG", "::XIMG.JPG"),
                     ("copy", "_IMG.JPG", "::_IMG.JPG"), ("copy", "IMG_0001.JPG", "::DCIM/100APPLE/IMG_0001.JPG"),
                     ("copy", "ALBUM.ZIP", "::ALBUM.ZIP"), ("del", "::XIMG.JPG")], scratch)
    tree = tmp_path / "tree"
    (tree / "photos").mkdir(parents=True)
    (tree / "photos" / "b.jpg").write_bytes(originals["b.jpg"])
    (tree / "photos" / "gone.jpg").write_bytes(originals["gone.jpg"])
    ext4 = tmp_path / "p2.ext4"
    _run("mkfs.ext4", "-q", "-d", tree, ext4, "4M")
    _run("debugfs", "-w", "-R", "rm photos/gone.jpg", ext4)
    raw = tmp_path / "disk.raw"
    _disk(raw, "gpt", [fat, ext4])
    return {"raw": raw, "originals": originals, "scratch": scratch}


def _scan(case: Path, *evidence: Path | str, hashlist: Path | None = None) -> dict[str, dict[str, object]]:
    arguments = ["scan", *map(str, evidence), "--case", str(case), "--workers", "1"]
    if hashlist:
        arguments += ["--hashlist", str(hashlist)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    report = case / "report.json"
    result = CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json", "-o", str(report)])
    assert result.exit_code == 0, result.output
    return {item["path"]: item for item in json.loads(report.read_text())["items"]}


def test_e01_files_in_every_partition_with_hashes_times_deleted_flag_and_matches(seizure, tmp_path: Path) -> None:
    _need("ewfacquire")
    originals: dict[str, bytes] = seizure["originals"]  # type: ignore[assignment]
    image = _e01(seizure["raw"], tmp_path / "evidence" / "disk")  # type: ignore[arg-type]
    deleted = originals["XIMG.JPG"]
    listing = tmp_path / "known.txt"
    listing.write_text(f"{hashlib.md5(deleted).hexdigest()}\n"
                       f"{pdq_from_image(draw_picture(2, (320, 240))).hash}\n")
    items = _scan(tmp_path / "case", image, hashlist=listing)
    given = str(image)
    md5 = {path: item["md5"] for path, item in items.items()}
    assert md5[f"{given}!/p1/DCIM/100APPLE/IMG_0001.JPG"] == hashlib.md5(originals["IMG_0001.JPG"]).hexdigest()
    assert md5[f"{given}!/p2/photos/b.jpg"] == hashlib.md5(originals["b.jpg"]).hexdigest()
    nested = f"{given}!/p1/ALBUM.ZIP!/inner.zip!/c.jpg"
    assert md5[nested] == hashlib.md5(originals["c.jpg"]).hexdigest()
    # FAT shows a deleted name with its first letter gone: the deleted copy and the live _IMG.JPG share a path
    gone, live = items[f"{given}!/p1/_IMG.JPG"], items[f"{given}!/p1/_IMG.JPG!2"]
    assert (gone["deleted"], live["deleted"]) == (True, False)
    assert gone["md5"] == hashlib.md5(deleted).hexdigest()
    assert live["md5"] == hashlib.md5(originals["_IMG.JPG"]).hexdigest()
    assert {m["signal"] for m in gone["matches"]} >= {"md5", "pdq"} and not live["matches"]
    camera = items[f"{given}!/p1/DCIM/100APPLE/IMG_0001.JPG"]
    assert camera["inode"] and camera["mtime"] and not camera["deleted"] and not camera["errors"]
    assert items[f"{given}!/p2/photos/b.jpg"]["inode"] > 11  # ext4 keeps inodes 1-11 for itself
    media = items[given]
    raw_bytes = seizure["raw"].read_bytes()  # type: ignore[attr-defined]
    assert media["md5"] == hashlib.md5(raw_bytes).hexdigest()
    assert media["stored_hashes"]["md5"]["check"] == "match"
    assert media["stored_hashes"]["sha1"] == {"stored": hashlib.sha1(raw_bytes).hexdigest(),
                                              "computed": hashlib.sha1(raw_bytes).hexdigest(), "check": "match"}
    # items are read back through the image: the console's and exports' path
    settings = Settings(workers=1)
    root = str(image.resolve())
    for path, data in [("!/p1/_IMG.JPG", deleted), ("!/p1/_IMG.JPG!2", originals["_IMG.JPG"]),
                       ("!/p1/ALBUM.ZIP!/inner.zip!/c.jpg", originals["c.jpg"])]:
        assert read_item_bytes(root, path, settings, 1 << 20) == data
    assert parse_relpath("!/p1/_IMG.JPG!2").members[0].occurrence == 2

    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "stored MD5" in result.output and "matches" in result.output


def test_raw_dd_and_split_raw_read_alike(seizure, tmp_path: Path) -> None:
    _need()
    raw: Path = seizure["raw"]  # type: ignore[assignment]
    whole = tmp_path / "evidence" / "usb.dd"
    whole.parent.mkdir()
    shutil.copy(raw, whole)
    data = raw.read_bytes()
    half = len(data) // 2
    (tmp_path / "evidence" / "split.001").write_bytes(data[:half])
    (tmp_path / "evidence" / "split.002").write_bytes(data[half:])
    items = _scan(tmp_path / "case", whole, tmp_path / "evidence" / "split.001")
    originals: dict[str, bytes] = seizure["originals"]  # type: ignore[assignment]
    for given in (str(whole), str(tmp_path / "evidence" / "split.001")):
        assert items[given]["sha256"] == hashlib.sha256(data).hexdigest()
        assert items[f"{given}!/p2/photos/b.jpg"]["sha256"] == hashlib.sha256(originals["b.jpg"]).hexdigest()
        gone = items[f"{given}!/p2/photos/gone.jpg"]
        assert gone["deleted"] and gone["sha256"] == hashlib.sha256(originals["gone.jpg"]).hexdigest()
    # a second run finds every file of the images done, as it does a folder's
    result = CliRunner().invoke(main, ["scan", str(whole), "--case", str(tmp_path / "case"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    skipped = re.search(r"Already done, skipped\s*│\s*(\d+)", result.output)
    added = re.search(r"Items added[^│]*│\s*(\d+)", result.output)
    assert skipped and added and int(added.group(1)) == 0
    assert int(skipped.group(1)) == len([p for p in items if p.startswith(str(whole))]) - 2  # the zip's members


def test_deleted_file_whose_clusters_were_reused_has_no_hash(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "old.jpg").write_bytes(_picture(8))
    (scratch / "new.jpg").write_bytes(_picture(9))
    stick = tmp_path / "stick.img"
    _fat(stick, 4096, [("mkdir", "::DCIM"), ("copy", "old.jpg", "::OLD.JPG"), ("del", "::OLD.JPG"),
                       ("copy", "new.jpg", "::DCIM/NEW.JPG")], scratch)
    items = _scan(tmp_path / "case", stick)
    reused = items[f"{stick}!/p0/_LD.JPG"]  # a file system without a partition table is "p0"
    assert reused["deleted"] and reused["md5"] is None
    assert "clusters were reused" in reused["errors"][0]["message"]
    assert items[f"{stick}!/p0/DCIM/NEW.JPG"]["md5"] == hashlib.md5(_picture(9)).hexdigest()
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output


def test_bad_partition_and_truncated_e01_are_recorded_and_the_rest_is_read(seizure, tmp_path: Path) -> None:
    _need("ewfacquire")
    garbage = tmp_path / "garbage.part"
    garbage.write_bytes(b"\x5a" * (2048 * _SECTOR))
    fat = tmp_path / "ok.fat"
    scratch: Path = seizure["scratch"]  # type: ignore[assignment]
    _fat(fat, 4096, [("copy", "b.jpg", "::B.JPG")], scratch)
    damaged = tmp_path / "damaged.fat"  # a sound boot sector, then tables and root folder overwritten
    damaged.write_bytes(fat.read_bytes()[:_SECTOR] + b"\xff" * (40 * _SECTOR) + fat.read_bytes()[41 * _SECTOR:])
    mbr = tmp_path / "evidence" / "mbr.img"
    mbr.parent.mkdir()
    _disk(mbr, "dos", [garbage, fat, damaged])
    image = _e01(seizure["raw"], tmp_path / "evidence" / "whole")  # type: ignore[arg-type]
    truncated = tmp_path / "evidence" / "cut.E01"
    truncated.write_bytes(image.read_bytes()[: image.stat().st_size // 2])
    items = _scan(tmp_path / "case", mbr, truncated)  # exit code 0 asserted inside
    bad = items[f"{mbr}!/p1"]
    assert "no readable file system" in bad["errors"][0]["message"] and "partition 1" in bad["errors"][0]["message"]
    assert items[f"{mbr}!/p2/B.JPG"]["md5"] == hashlib.md5(scratch.joinpath("b.jpg").read_bytes()).hexdigest()
    assert "no file found" in items[f"{mbr}!/p3"]["errors"][0]["message"]
    cut = [item for path, item in items.items() if path.startswith(str(truncated))]
    assert cut and any(item["errors"] for item in cut)
    assert items[str(truncated)]["sha256"] is None  # the media cannot be read whole: no digest claimed


def test_plain_file_stays_a_plain_file(tmp_path: Path) -> None:
    _need()
    blob = tmp_path / "random.img"
    blob.write_bytes(hashlib.sha256(b"x").digest() * 4096)
    assert open_source(str(blob)).kind == "file"


def test_without_the_extra_an_image_is_hashed_whole_with_a_note(seizure, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import vigie.sources.directory as directory
    import vigie.sources.diskimage as diskimage

    monkeypatch.setattr(diskimage, "extra_installed", lambda: False)
    monkeypatch.setattr(directory, "extra_installed", lambda: False)
    diskimage._probe.cache_clear()
    items = _scan(tmp_path / "case", seizure["raw"])  # type: ignore[arg-type]
    diskimage._probe.cache_clear()
    assert list(items) == [str(seizure["raw"])]
    (note,) = items[str(seizure["raw"])]["errors"]
    assert "`disk` extra" in note["message"] and items[str(seizure["raw"])]["sha256"]
    # once the extra is there, the same scan reads the files inside
    monkeypatch.undo()
    if not extra_installed():
        return
    items = _scan(tmp_path / "case", seizure["raw"])  # type: ignore[arg-type]
    assert f"{seizure['raw']}!/p2/photos/b.jpg" in items


def test_vics_export_says_which_file_was_deleted(seizure, tmp_path: Path) -> None:
    from vigie.store.review import Decision, QueueFilter, ReviewTables
    from vigie.store.sqlite import open_case

    _need()
    image = tmp_path / "usb.dd"
    shutil.copy(seizure["raw"], image)  # type: ignore[arg-type]
    _scan(tmp_path / "case", image)
    store = open_case(tmp_path / "case")
    review = ReviewTables(store)
    _, entries = review.queue(QueueFilter(status="all"))
    for entry in entries:
        review.decide("tester", review.members(entry["id"]), Decision("projectvic-us", "3", [], None), "stack")
    store.close()
    target = tmp_path / "vics.json"
    result = CliRunner().invoke(main, ["export", "--case", str(tmp_path / "case"), "--format", "vics",
                                       "-o", str(target)])
    assert result.exit_code == 0, result.output
    files = {f["FilePath"]: f for media in json.loads(target.read_text())["value"][0]["Media"]
             for f in media["MediaFiles"]}
    assert files[f"{image}!/p1/_IMG.JPG"]["Deleted"] is True
    assert "Deleted" not in files[f"{image}!/p1/_IMG.JPG!2"]
    assert "Deleted" not in files[f"{image}!/p1/DCIM/100APPLE/IMG_0001.JPG"]


def test_an_image_whose_media_differs_from_its_stored_digest_says_so() -> None:
    from vigie.signals.analysis import analyse_entry
    from vigie.sources.base import Entry

    media = b"\x00" * 4096
    right = hashlib.sha1(media).hexdigest()
    entry = Entry(relpath="", size=len(media), stored_digests=(("md5", "0" * 31 + "1"), ("sha1", right)))
    (record,) = analyse_entry(entry, lambda: io.BytesIO(media), Settings(workers=1))
    assert record.stored_hashes["sha1"]["check"] == "match"
    assert record.stored_hashes["md5"] == {"stored": "0" * 31 + "1", "computed": hashlib.md5(media).hexdigest(),
                                           "check": "mismatch"}
    assert [stage for stage, _ in record.errors] == ["image-hash"]


@pytest.mark.parametrize("file_system", ["ntfs", "iso9660"])
def test_ntfs_and_iso9660_file_systems(file_system: str, tmp_path: Path) -> None:
    picture = _picture(10)
    (tmp_path / "IMG_0001.JPG").write_bytes(picture)
    image = tmp_path / f"{file_system}.img"
    if file_system == "ntfs":
        _need("mkntfs", "ntfscp")
        with image.open("wb") as blank:
            blank.truncate(8 << 20)
        _run("mkntfs", "-F", "-Q", "-q", image)
        _run("ntfscp", image, tmp_path / "IMG_0001.JPG", "IMG_0001.JPG")
        inside = "IMG_0001.JPG"
    else:
        _need("genisoimage")
        (tmp_path / "cd" / "DCIM").mkdir(parents=True)
        (tmp_path / "cd" / "DCIM" / "IMG_0001.JPG").write_bytes(picture)
        _run("genisoimage", "-quiet", "-R", "-J", "-o", image, tmp_path / "cd")
        inside = "DCIM/IMG_0001.JPG"
    items = _scan(tmp_path / "case", image)
    assert items[f"{image}!/p0/{inside}"]["md5"] == hashlib.md5(picture).hexdigest()


def test_exfat_files_live_deleted_and_one_named_like_a_structure(tmp_path: Path) -> None:
    """exFAT (no Debian tool fills one without mounting it: tests/exfat.py writes the entries, fsck.exfat checks
    them). Its bitmap, up-case table and label entries are not items; a user's file named like one is."""
    from exfat import ExfatFile, add_files

    _need("mkfs.exfat", "fsck.exfat", "sfdisk")
    pictures = {name: _picture(seed) for seed, name in enumerate(["IMG_0001.JPG", "$UPCASE_TABLE", "GONE.JPG"], 20)}
    volume = tmp_path / "p1.exfat"
    with volume.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkfs.exfat", "-L", "SEIZED", volume)
    add_files(volume, [ExfatFile(name, data, deleted=name == "GONE.JPG") for name, data in pictures.items()])
    _run("fsck.exfat", "-n", volume)
    disk = tmp_path / "disk.raw"
    _disk(disk, "dos", [volume])
    items = _scan(tmp_path / "case", disk)
    inside = {path.split("!/p1/", 1)[1]: item for path, item in items.items() if "!/p1/" in path}
    assert set(inside) == set(pictures), "the file system's own structures are not items"
    for name, data in pictures.items():
        assert inside[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert inside[name]["deleted"] is (name == "GONE.JPG")
        assert inside[name]["mtime"] is not None
