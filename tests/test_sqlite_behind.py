"""What follows an SQLite database's own pages (its header's page size times its page count): a zip appended
there is read as the database's members after its BLOBs, a picture as its member `after-the-end`, other bytes are
said, padding is not; a header that lies about the database's length is said and costs no BLOB. Everything read
is read back by its path, and `vigie verify` finds the evidence unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile
from pathlib import Path

from click.testing import CliRunner
from conftest import jpeg_bytes

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.matching.list_import import import_hash_list
from vigie.scan.pipeline import run_scan
from vigie.sources.reopen import read_item_bytes
from vigie.store.sqlite import open_case

_APPENDED = "a zip archive follows this file's own content"


def _database(path: Path, blobs: list[bytes]) -> bytes:
    """A database as an app keeps one (WAL mode, checkpointed), its table `t` holding `blobs`; its bytes."""
    database = sqlite3.connect(path)
    database.execute("PRAGMA journal_mode = WAL")
    database.execute("CREATE TABLE t (b BLOB)")
    database.executemany("INSERT INTO t VALUES (?)", [(blob,) for blob in blobs])
    database.commit()
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    data = path.read_bytes()
    path.unlink()
    Path(f"{path}-wal").unlink(missing_ok=True)
    Path(f"{path}-shm").unlink(missing_ok=True)
    return data


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _scanned(tmp_path: Path, known: list[bytes]) -> dict[str, dict]:  # type: ignore[type-arg]
    """tmp_path/evidence scanned against the SHA-256 of `known`, then verified: the report's items by path."""
    listed = tmp_path / "known.csv"
    listed.write_text("sha256,label\n" + "".join(f"{hashlib.sha256(data).hexdigest()},known {number}\n"
                                                 for number, data in enumerate(known)))
    store = open_case(tmp_path / "case", create=True)
    try:
        import_hash_list(store, listed, Settings())
        run_scan(store, [str(tmp_path / "evidence")], Settings(workers=1))
        report = json.loads(render(store, "json"))
    finally:
        store.close()
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case"), "--workers", "1"])
    assert verified.exit_code == 0, verified.output
    return {item["path"].split("/evidence/", 1)[1]: item for item in report["items"]}


def _said(item: dict) -> str:  # type: ignore[type-arg]
    return " ".join(error["message"] for error in item["errors"])


def _read_back(tmp_path: Path, items: dict[str, dict], expected: dict[str, bytes]) -> None:  # type: ignore[type-arg]
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(tmp_path / "evidence"), path, Settings(), 10**7) == data, path


def test_a_zip_or_a_picture_appended_to_a_database_is_read_after_its_blobs(tmp_path: Path) -> None:
    known, blob, other = (jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (110, 111, 112))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    database = _database(tmp_path / "app.db", [blob, _zip({"inside.jpg": other})])  # its last BLOB a zip
    appended = _zip({"hidden.jpg": known, "t/1/b": other})  # a member named as a BLOB is numbered after it
    (evidence / "msgstore.db").write_bytes(database + appended)
    (evidence / "seized.zip").write_bytes(_zip({"phone/msgstore.db": database + appended}))
    (evidence / "picture.db").write_bytes(database + known)
    (evidence / "padded.db").write_bytes(database + bytes(5000))
    (evidence / "notes.db").write_bytes(database + b"a note kept behind the database " * 8)
    (evidence / "plain.db").write_bytes(database)
    items = _scanned(tmp_path, [known])
    expected = {"msgstore.db!/t/1/b": blob, "msgstore.db!/hidden.jpg": known, "msgstore.db!/t/1/b!2": other,
                "seized.zip!/phone/msgstore.db!/hidden.jpg": known, "seized.zip!/phone/msgstore.db!/t/1/b!2": other,
                "picture.db!/after-the-end": known, "picture.db!/t/2/b!/inside.jpg": other}
    _read_back(tmp_path, items, expected)
    for path in ("msgstore.db!/hidden.jpg", "seized.zip!/phone/msgstore.db!/hidden.jpg", "picture.db!/after-the-end"):
        assert items[path]["matches"], path
    for name in ("msgstore.db", "seized.zip!/phone/msgstore.db"):
        assert _APPENDED in _said(items[name]), name
    said = _said(items["picture.db"])
    assert f"{len(known):,} bytes after the database's own end (byte {len(database):,}), which SQLite never " \
           "reads" in said and "read as this item's member after-the-end" in said and _APPENDED not in said
    assert "not read: nothing in them starts like a picture" in _said(items["notes.db"])
    for name in ("padded.db", "plain.db"):  # its last BLOB's zip end record is no zip behind it
        assert not items[name]["errors"], name
        assert not [path for path in items if path.startswith(f"{name}!/") and "/t/" not in path], name


def _pages(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:18], "big"), int.from_bytes(data[28:32], "big")


def test_a_header_that_lies_about_the_databases_length_is_said_and_costs_no_blob(tmp_path: Path) -> None:
    pictures = [jpeg_bytes(draw_picture(seed, (320, 240))) for seed in (113, 114, 115)]  # in overflow pages
    known = jpeg_bytes(draw_picture(116, (96, 72)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    database = _database(tmp_path / "app.db", pictures)
    page, pages = _pages(database)
    assert pages * page == len(database) and pages > 6
    more = bytearray(database)
    more[28:32] = (pages + 50).to_bytes(4, "big")  # more pages than the file holds: SQLite refuses it
    (evidence / "more.db").write_bytes(bytes(more))
    fewer = bytearray(database)
    fewer[28:32] = (2).to_bytes(4, "big")  # fewer than its table uses: SQLite finds it damaged
    (evidence / "fewer.db").write_bytes(bytes(fewer) + known)
    items = _scanned(tmp_path, [known])
    for name in ("more.db", "fewer.db"):
        _read_back(tmp_path, items, {f"{name}!/t/{row}/b": data for row, data in enumerate(pictures, 1)})
        assert "damaged" not in _said(items[name]), name
    assert f"its header says the database is {pages + 50:,} pages of {page:,} bytes" in _said(items["more.db"])
    said = _said(items["fewer.db"])
    assert f"its header says the database is 2 pages of {page:,} bytes, but its tables use pages up to page " \
           f"{pages:,}: a header that lies" in said
    assert f"after the database's own end (byte {len(database):,})" in said  # what follows its last page
    _read_back(tmp_path, items, {"fewer.db!/after-the-end": known})
    assert items["fewer.db!/after-the-end"]["matches"]


def test_a_page_count_raised_over_an_appended_picture_is_said_and_free_pages_are_the_databases(tmp_path: Path
                                                                                                ) -> None:
    known = jpeg_bytes(draw_picture(117, (96, 72)))
    pictures = [jpeg_bytes(draw_picture(seed, (320, 240))) for seed in (118, 119)]  # in overflow pages
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    database = _database(tmp_path / "app.db", [b"x" * 100])
    page, pages = _pages(database)
    appended = known + bytes(-len(known) % page)  # padded to whole pages, the count raised over them: SQLite
    raised = bytearray(database)  # trusts it, and opens the database as it was
    raised[28:32] = (pages + len(appended) // page).to_bytes(4, "big")
    (evidence / "raised.db").write_bytes(bytes(raised) + appended)
    path = tmp_path / "deleted.db"  # rows deleted: their pages on the freelist, the last pages of the file
    kept = sqlite3.connect(path)
    kept.execute("CREATE TABLE t (b BLOB)")
    kept.executemany("INSERT INTO t VALUES (?)", [(b"y" * 100,)] + [(data,) for data in pictures])
    kept.commit()
    kept.execute("DELETE FROM t WHERE rowid > 1")
    kept.commit()
    assert kept.execute("PRAGMA freelist_count").fetchone()[0] > 2
    kept.close()
    deleted = path.read_bytes()
    (evidence / "deleted.db").write_bytes(deleted)
    broken = bytearray(deleted)  # a freelist that leaves the file: said, its pages read as what follows
    broken[32:36] = (10**6).to_bytes(4, "big")
    (evidence / "broken.db").write_bytes(bytes(broken))
    items = _scanned(tmp_path, [known])
    said = _said(items["raised.db"])
    assert f"the database is {pages + len(appended) // page:,} pages of {page:,} bytes, but its tables, indexes " \
           f"and freelist use pages only up to page {pages:,}: pages {pages + 1:,} to" in said
    _read_back(tmp_path, items, {"raised.db!/after-the-end": known})
    assert items["raised.db!/after-the-end"]["matches"]
    assert not items["deleted.db"]["errors"] and not [path for path in items if path.startswith("deleted.db!/")]
    assert "its freelist (the pages its deleted rows freed) cannot be walked" in _said(items["broken.db"])
