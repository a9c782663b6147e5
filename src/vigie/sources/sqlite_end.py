"""Where an SQLite database's own pages end, and what follows them: a zip or a picture appended to hide it there
is never read by SQLite, nor seen by anyone who opens the database.

Its header says its length: the page size (bytes 16-17, 1 for 65,536) times the page count (bytes 28-31), which
SQLite trusts where the change counter it was written at (bytes 92-95) is the file's (bytes 24-27) and it is not
zero; else the database is the file's whole pages. A header that says more pages than the file holds, or fewer
than its tables use (SQLite's dbstat tells which, looked at only when bytes follow the pages it says), lies: that
is said, and the BLOBs are read from every page the file holds all the same (`readable`). What follows is looked at
as what follows a picture's end is (`trailing.py`): padding passed over, a picture or a video read as the member
`after-the-end`, other bytes said; a zip there (`zipbehind.py`) is read as the database's members after its BLOBs.
"""

from __future__ import annotations

import io
import sqlite3
from typing import NamedTuple

from vigie.sources.trailing import PADDING, Trailing, trailing_after
from vigie.sources.zipbehind import ZipClues, search_stopped_note, zip_behind

_HEADER = 100  # bytes: the database header, on its first page


class _Header(NamedTuple):
    page: int  # the page size; 0 where it is none SQLite allows (a database it cannot read: said as its BLOBs are)
    pages: int  # the page count it says; 0 where SQLite does not trust it


def _header(data: bytes) -> _Header:
    page = int.from_bytes(data[16:18], "big")
    page = 65_536 if page == 1 else page
    if len(data) < _HEADER or not 512 <= page <= 65_536 or page & (page - 1):
        return _Header(0, 0)
    pages = int.from_bytes(data[28:32], "big")
    return _Header(page, pages if data[92:96] == data[24:28] else 0)


def readable(data: bytes) -> bytes | bytearray:
    """The database's bytes as SQLite is given them: a WAL-mode database as the rollback-journal file it is once
    checkpointed (SQLite cannot open WAL mode in memory), and a page count the file's length belies cleared, so
    that SQLite counts the file's pages (a header that lies hides no BLOB; bytes behind the database are in no
    table)."""
    header = _header(data)
    wal = data[18:20] == b"\x02\x02"
    belied = header.pages != 0 and header.pages * header.page != len(data)
    if not wal and not belied:
        return data
    copy = bytearray(data)
    if wal:
        copy[18:20] = b"\x01\x01"
    if belied:
        copy[28:32] = bytes(4)
    return copy


def in_memory(data: bytes) -> sqlite3.Connection:
    """The database deserialised (the evidence file is never opened by SQLite, which would write beside it):
    sqlite3.Error where SQLite cannot read it."""
    database = sqlite3.connect(":memory:")
    try:
        database.deserialize(readable(data))
    except (sqlite3.Error, MemoryError) as exc:  # MemoryError: SQLite's refusal of a buffer it cannot take
        database.close()
        raise sqlite3.DatabaseError(str(exc) or type(exc).__name__) from exc
    return database


class PastTheEnd(NamedTuple):
    """What follows a database's own pages."""

    end: int  # where its pages end
    notes: tuple[str, ...]  # what its header lies about; a search for a zip that stopped
    after: Trailing | None  # what follows, said, and the pictures and videos in it to read
    zip_start: int | None  # a zip follows: its members are read from there, after the BLOBs


def past_the_database(data: bytes) -> PastTheEnd:
    """What follows the pages of the database in `data` (the whole file)."""
    header = _header(data)
    if not header.page:
        return PastTheEnd(len(data), (), None, None)
    notes: list[str] = []
    end = header.pages * header.page if header.pages else len(data) - len(data) % header.page
    if end > len(data):
        notes.append(f"its header says the database is {header.pages:,} pages of {header.page:,} bytes ({end:,} "
                     f"bytes), more than the file's {len(data):,}: a header that lies, or a database cut short; its "
                     "BLOBs are read from the pages the file holds")
        end = len(data)
    if not data[end:].strip(PADDING):
        return PastTheEnd(end, tuple(notes), None, None)
    used = _last_page_used(data) if header.pages else None
    if used is not None and used * header.page > end:
        notes.append(f"its header says the database is {header.pages:,} pages of {header.page:,} bytes, but its "
                     f"tables use pages up to page {used:,}: a header that lies; its BLOBs are read from every page "
                     f"the file holds, and what follows page {used:,} is looked at as what follows the database")
        end = used * header.page
        if not data[end:].strip(PADDING):
            return PastTheEnd(end, tuple(notes), None, None)
    rest = data[end:]
    clues = ZipClues(headers=True, start=end)  # a zip behind it, from its first local header: its end record
    clues.feed(rest)  # may be a BLOB's, so none is looked for in the database's pages
    if (stopped := search_stopped_note(clues)) is not None:
        notes.append(stopped)
    behind = zip_behind(io.BytesIO(data), clues)
    return PastTheEnd(end, tuple(notes), trailing_after(rest, end, "database"),
                      None if behind is None else max(behind, end))


def _last_page_used(data: bytes) -> int | None:
    """The last page the database's tables and indexes use, where SQLite can tell (a damaged database, or an
    SQLite built without dbstat, cannot)."""
    try:
        database = in_memory(data)
    except sqlite3.Error:
        return None
    try:
        row = database.execute("SELECT max(pageno) FROM dbstat").fetchone()
    except sqlite3.Error:
        return None
    finally:
        database.close()
    return int(row[0]) if row and row[0] is not None else None
