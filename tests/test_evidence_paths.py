"""Evidence paths: names that are not UTF-8, entries that share a path, mis-flagged zip names, links,
pipes and folder links swapped in before `verify`, and folder access times."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.scan.verify import verify_case
from vigie.sources.base import ItemPath, MemberRef, format_relpath, legacy_relpath, parse_relpath
from vigie.sources.reopen import read_item_bytes
from vigie.store.schema import MIGRATIONS
from vigie.store.sqlite import _split_sql, open_case

DAY = 86_400


def _picture(seed: int) -> bytes:
    return jpeg_bytes(draw_picture(seed, (160, 120)))


def _scan(case: Path, *arguments: str) -> None:
    result = CliRunner().invoke(main, ["scan", *arguments, "--case", str(case), "--workers", "1"])
    assert result.exit_code == 0, result.output


def _items(case: Path) -> dict[str, dict[str, Any]]:
    """Items by the path the report shows, with the stored relpath and the source root to reopen them."""
    store = open_case(case)
    try:
        roots = {s.given: s.root for s in store.sources()}
        items = {i["path"]: i | {"root": roots[i["source"]]} for i in store.iter_report_items()}
        shown = [i["path"] for i in json.loads(render(store, "json"))["items"]]
    finally:
        store.close()
    assert sorted(shown) == sorted(items), "the JSON report shows every item, each by its own path"
    return items


def _reopened(item: dict[str, Any]) -> bytes | None:
    return read_item_bytes(item["root"], item["relpath"], Settings(), 50_000_000)


def _errors(item: dict[str, Any]) -> str:
    return " ".join(f"{e['stage']}: {e['message']}" for e in item["errors"])


def _verify(case: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["verify", "--case", str(case), "--workers", "1"])
    store = open_case(case)
    try:
        details = [e for e in store.audit_entries() if e.action == "verify"][-1].details
    finally:
        store.close()
    return result.exit_code, details


def _zip_with_raw_names(members: list[tuple[bytes, bytes, bool]]) -> bytes:
    """A zip of (raw name, content, flagged UTF-8) members; zipfile itself only writes valid names."""
    buffer = io.BytesIO()
    placeholders = []
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # "Duplicate name" is what some tests want
        for index, (name, content, flagged) in enumerate(members):
            if name.isascii() and not flagged:
                archive.writestr(name.decode(), content)
                continue
            # a placeholder of the name's length; zipfile flags it UTF-8 when it holds "é"
            mark = f"é{index:02d}" if flagged else f"~{index:02d}"
            placeholder = mark.encode().ljust(len(name), b"~")
            placeholders.append((placeholder, name))
            archive.writestr(placeholder.decode(), content)
    data = buffer.getvalue()
    for placeholder, name in placeholders:
        assert data.count(placeholder) == 2, "one local header, one central record"
        data = data.replace(placeholder, name)
    return data


def test_the_path_grammar_reads_back_every_name() -> None:
    path = ItemPath(b"X!/latin1-\xe9\\.zip", (MemberRef(b"x!/y", 1), MemberRef(b"dup.jpg", 3), MemberRef(b"")))
    text = format_relpath(path)
    assert text == "X\\!/latin1-\\xe9\\\\.zip!/x\\!/y!/dup.jpg!3!/"
    assert parse_relpath(text) == path
    assert format_relpath(ItemPath("tab\there\u202egpj.exe".encode())) == "tab\\x09here\\xe2\\x80\\xaegpj.exe"
    for bad in ("a\\q", "a!b", "a!2", "a.zip!/b!0", "a\\x4"):
        with pytest.raises(ValueError):
            parse_relpath(bad)


def test_names_that_are_not_utf8_are_stored_shown_escaped_and_verified(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    pictures = [_picture(seed) for seed in range(4)]
    raw_root = os.fsencode(evidence)
    Path(os.fsdecode(raw_root + b"/latin1-\xe9.jpg")).write_bytes(pictures[0])
    (evidence / "tab\there.jpg").write_bytes(pictures[1])
    with tarfile.open(evidence / "names.tar", "w", encoding="utf-8", errors="surrogateescape") as tar:
        info = tarfile.TarInfo(b"caf\xe9.jpg".decode("utf-8", "surrogateescape"))
        info.size = len(pictures[2])
        tar.addfile(info, io.BytesIO(pictures[2]))
    (evidence / "names.zip").write_bytes(_zip_with_raw_names([(b"zip-\x82.jpg", pictures[3], False)]))
    case = tmp_path / "case"
    _scan(case, str(evidence))

    items = _items(case)
    expected = {
        "latin1-\\xe9.jpg": pictures[0], "tab\\x09here.jpg": pictures[1],
        "names.tar!/caf\\xe9.jpg": pictures[2], "names.zip!/zip-\\x82.jpg": pictures[3],
    }
    for relpath, content in expected.items():
        item = items[f"{evidence}/{relpath}"]
        assert item["pdq"] and not item["errors"], relpath
        assert _reopened(item) == content, f"{relpath} reads back its own bytes"

    code, details = _verify(case)
    assert code == 0 and details["problems"] == 0
    Path(os.fsdecode(raw_root + b"/latin1-\xe9.jpg")).write_bytes(pictures[1])
    code, details = _verify(case)
    assert code == 3 and details["changed"] == [f"{evidence}/latin1-\\xe9.jpg"]


def test_entries_that_share_a_path_are_each_stored_and_read_back(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    (evidence / "X!").mkdir(parents=True)
    pictures = [_picture(seed) for seed in range(10, 16)]
    listed = pictures[1]
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("y.jpg", pictures[2])
    (evidence / "dups.zip").write_bytes(_zip_with_raw_names([
        (b"dup.jpg", pictures[0], False), (b"dup.jpg", listed, False),
        (b"x", inner.getvalue(), False), (b"x!/y.jpg", pictures[3], False),
    ]))
    (evidence / "X!" / "a.jpg").write_bytes(pictures[4])
    with zipfile.ZipFile(evidence / "X", "w") as archive:
        archive.writestr("a.jpg", pictures[5])
    hash_list = tmp_path / "partner.csv"
    hash_list.write_text(f"SHA-256,Label\n{hashlib.sha256(listed).hexdigest()},listed\n")
    case = tmp_path / "case"
    _scan(case, str(evidence), "--hashlist", str(hash_list))

    items = _items(case)
    expected = {
        "dups.zip!/dup.jpg": pictures[0], "dups.zip!/dup.jpg!2": listed, "dups.zip!/x!/y.jpg": pictures[2],
        "dups.zip!/x\\!/y.jpg": pictures[3], "X\\!/a.jpg": pictures[4], "X!/a.jpg": pictures[5],
    }
    for relpath, content in expected.items():
        item = items[f"{evidence}/{relpath}"]
        assert _reopened(item) == content, f"{relpath} reads back its own bytes"
        assert bool(item["matches"]) == (content == listed), relpath
    assert [m["list"] for m in items[f"{evidence}/dups.zip!/dup.jpg!2"]["matches"]] == ["partner"]
    store = open_case(case)
    assert store.summary()["archives_members"] == 6  # the five above and the nested zip "x" itself
    store.close()
    code, details = _verify(case)
    assert code == 0 and details["files"] == 3


def test_a_zip_name_flagged_utf8_that_is_not_hides_nothing(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    pictures = [_picture(seed) for seed in range(20, 23)]
    (evidence / "mixed.zip").write_bytes(_zip_with_raw_names([
        (b"first.jpg", pictures[0], False), (b"bad-\xe9.jpg", pictures[1], True), ("é.jpg".encode(), pictures[2], True),
    ]))
    case = tmp_path / "case"
    _scan(case, str(evidence))

    items = _items(case)
    assert not items[f"{evidence}/mixed.zip"]["errors"]
    for relpath, content in (("first.jpg", pictures[0]), ("bad-\\xe9.jpg", pictures[1]), ("é.jpg", pictures[2])):
        item = items[f"{evidence}/mixed.zip!/{relpath}"]
        assert item["pdq"], relpath
        assert _reopened(item) == content
    bad = items[f"{evidence}/mixed.zip!/bad-\\xe9.jpg"]
    assert "flagged as UTF-8 but is not valid UTF-8" in _errors(bad)
    assert not items[f"{evidence}/mixed.zip!/é.jpg"]["errors"]


def test_links_are_recorded_with_their_target_and_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "examiner"
    outside.mkdir()
    secret = _picture(30)
    (outside / "secret.jpg").write_bytes(secret)
    evidence = tmp_path / "ev"
    (evidence / "sub").mkdir(parents=True)
    (evidence / "photo.jpg").write_bytes(_picture(31))
    (evidence / "absolute").symlink_to(outside / "secret.jpg")
    (evidence / "sub" / "climbs").symlink_to("../../examiner/secret.jpg")
    (evidence / "sub" / "inside").symlink_to("../photo.jpg")
    case = tmp_path / "case"
    _scan(case, str(evidence))

    items = _items(case)
    secret_sha = hashlib.sha256(secret).hexdigest()
    assert all(item["sha256"] != secret_sha for item in items.values()), "nothing of the examiner's is hashed"
    absolute, climbs, inside = (items[f"{evidence}/{p}"] for p in ("absolute", "sub/climbs", "sub/inside"))
    for link in (absolute, climbs, inside):
        assert link["media_type"] == "inode/symlink" and link["sha256"] is None and link["pdq"] is None
        assert "not followed" in _errors(link) and _errors(link).startswith("link: symbolic link to ")
    assert f"{outside}/secret.jpg (absolute, outside the evidence)" in _errors(absolute)
    assert "../../examiner/secret.jpg (leaves the evidence)" in _errors(climbs)
    assert "../photo.jpg (inside the evidence, listed on its own)" in _errors(inside)
    assert items[f"{evidence}/photo.jpg"]["pdq"]
    assert _verify(case)[0] == 0

    typed = tmp_path / "typed-case"
    _scan(typed, str(evidence / "absolute"))  # a link the user names on the command line is followed
    assert [i["sha256"] for i in _items(typed).values()] == [secret_sha]


def test_a_pipe_swapped_in_after_the_scan_does_not_hang_verify(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    (evidence / "a.jpg").write_bytes(_picture(40))
    (evidence / "b.jpg").write_bytes(_picture(41))
    case = tmp_path / "case"
    _scan(case, str(evidence))
    (evidence / "a.jpg").unlink()
    os.mkfifo(evidence / "a.jpg")
    command = [sys.executable, "-m", "vigie.cli", "verify", "--case", str(case), "--workers", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    store = open_case(case)
    details = [e for e in store.audit_entries() if e.action == "verify"][-1].details
    store.close()
    assert details["changed"] == [f"{evidence}/a.jpg"]
    assert "not a regular file" in done.stdout


def test_a_folder_swapped_for_a_link_after_the_scan_is_reported_changed_not_followed(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    (evidence / "sub" / "deeper").mkdir(parents=True)
    (evidence / "top.jpg").write_bytes(_picture(42))
    (evidence / "sub" / "a.jpg").write_bytes(_picture(43))
    (evidence / "sub" / "deeper" / "b.jpg").write_bytes(_picture(44))
    case = tmp_path / "case"
    _scan(case, str(evidence))
    copy = tmp_path / "elsewhere" / "sub"
    shutil.copytree(evidence / "sub", copy)  # the very same bytes: only the path tells
    shutil.rmtree(evidence / "sub")
    (evidence / "sub").symlink_to(copy)

    code, details = _verify(case)
    assert code == 3
    assert sorted(details["changed"]) == [f"{evidence}/sub/a.jpg", f"{evidence}/sub/deeper/b.jpg"]
    store = open_case(case)
    [source] = store.sources()
    items = [item for item in store.top_level_items() if item[1] == "sub/deeper/b.jpg"]
    store.close()
    [finding] = verify_case(items, workers=1)
    assert (finding.status, finding.detail) == ("changed", f"the folder sub is now a symbolic link to {copy}; "
                                                           "not followed")
    assert read_item_bytes(source.root, "sub/a.jpg", Settings(), 1_000_000) is None, "nor shown in the console"


def test_a_folder_replaced_by_a_file_after_the_scan_is_reported_changed_naming_the_folder(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    (evidence / "sub" / "deeper").mkdir(parents=True)
    (evidence / "top.jpg").write_bytes(_picture(45))
    (evidence / "sub" / "deeper" / "b.jpg").write_bytes(_picture(46))
    case = tmp_path / "case"
    _scan(case, str(evidence))
    shutil.rmtree(evidence / "sub" / "deeper")
    (evidence / "sub" / "deeper").write_bytes(_picture(46))  # a file where the folder was

    code, details = _verify(case)
    assert code == 3 and details["changed"] == [f"{evidence}/sub/deeper/b.jpg"]
    store = open_case(case)
    [source] = store.sources()
    items = [item for item in store.top_level_items() if item[1] == "sub/deeper/b.jpg"]
    store.close()
    [finding] = verify_case(items, workers=1)
    assert (finding.status, finding.detail) == ("changed", "the folder sub/deeper is now a file, not a folder")
    assert read_item_bytes(source.root, "sub/deeper/b.jpg", Settings(), 1_000_000) is None
    shutil.rmtree(evidence)
    (tmp_path / "ev").write_bytes(_picture(45))  # the evidence folder itself: a file holding top.jpg's bytes
    code, details = _verify(case)
    assert code == 3 and sorted(details["changed"]) == [f"{evidence}/sub/deeper/b.jpg", f"{evidence}/top.jpg"]
    [finding] = verify_case(items, workers=1)
    assert (finding.status, finding.detail) == ("changed", f"the evidence folder {evidence} is no longer a folder")


def test_a_scan_leaves_folder_access_times_alone(tmp_path: Path) -> None:
    control = tmp_path / "control"
    control.mkdir()
    days_ago = time.time() - 3 * DAY
    os.utime(control, (days_ago, days_ago))
    os.listdir(control)
    if os.stat(control).st_atime == days_ago:
        pytest.skip("this file system does not record folder access times")
    evidence = tmp_path / "ev"
    (evidence / "sub" / "deeper").mkdir(parents=True)
    (evidence / "sub" / "deeper" / "a.jpg").write_bytes(_picture(50))
    folders = [evidence, evidence / "sub", evidence / "sub" / "deeper"]
    for folder in reversed(folders):
        os.utime(folder, (days_ago, days_ago))
    _scan(tmp_path / "case", str(evidence))
    assert [os.stat(folder).st_atime for folder in folders] == [days_ago] * 3


def test_a_case_from_before_escaping_is_migrated(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    db = sqlite3.connect(case / "case.sqlite", isolation_level=None)
    for number in range(5):
        for statement in _split_sql(MIGRATIONS[number]):
            db.execute(statement)
    db.execute("PRAGMA user_version = 5")
    db.execute("INSERT INTO sources VALUES (1, 'ev', '/ev', 'directory', 'now')")
    db.execute("INSERT INTO scans(id, started_at, status, arguments) VALUES (1, 'now', 'complete', '{}')")
    for relpath in ("wow!.zip", "wow!.zip!/a\\b.jpg", "back\\slash.jpg"):
        db.execute("INSERT INTO items(source_id, relpath, scan_id) VALUES (1, ?, 1)", (relpath,))
    db.close()
    store = open_case(case)
    rows = store.db.execute("SELECT relpath, archive_depth FROM items ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [("wow\\!.zip", 0), ("wow\\!.zip!/a\\\\b.jpg", 1), ("back\\\\slash.jpg", 0)]
    assert set(store.finished_files(1)) == {"wow\\!.zip", "back\\\\slash.jpg"}
    store.close()
    assert legacy_relpath("a!/b") == "a!/b"


def test_a_source_folder_whose_own_name_is_not_utf8_is_stored_and_reopened(tmp_path: Path) -> None:
    root = os.fsdecode(os.fsencode(tmp_path) + b"/fat-\xe9")
    os.mkdir(root)
    picture = _picture(60)
    Path(root, "a.jpg").write_bytes(picture)
    store = open_case(tmp_path / "case", create=True)
    source_id = store.add_source(root, root, "directory")
    assert store.add_source(root, root, "directory") == source_id
    [source] = store.sources()
    store.close()
    assert source.given == f"{tmp_path}/fat-\\xe9" and source.root == root
    assert read_item_bytes(source.root, "a.jpg", Settings(), 1_000_000) == picture
    [finding] = verify_case([(source, "a.jpg", hashlib.sha256(picture).hexdigest())], workers=1)
    assert (finding.status, finding.path) == ("ok", f"{tmp_path}/fat-\\xe9/a.jpg")


def test_a_scanned_file_replaced_by_a_folder_is_changed_not_unreadable(tmp_path: Path) -> None:
    evidence = tmp_path / "photo.jpg"
    evidence.write_bytes(_picture(46))
    case = tmp_path / "case"
    store = open_case(case, create=True)
    run_scan(store, [str(evidence)], Settings(workers=1))
    items = list(store.top_level_items())
    store.close()
    evidence.unlink()
    evidence.mkdir()
    (evidence / "photo.jpg").write_bytes(_picture(46))  # the same bytes, one level down
    [finding] = verify_case(items, workers=1)
    assert (finding.status, finding.detail) == ("changed", f"the evidence file {evidence} is now a folder")
