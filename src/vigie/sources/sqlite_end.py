"""Where an SQLite database's own pages end, and what follows them: a zip or a picture appended to hide it there
is never read by SQLite, nor seen by anyone who opens the database.

Its header says its length: the page size (bytes 16-17, 1 for 65,536) times the page count (bytes 28-31), which
SQLite trusts where the change counter it was written at (bytes 92-95) is the file's (bytes 24-27) and it is not
zero; else the database is the file's whole pages. A header that says more pages than the file holds, or fewer
than its tables use (SQLite's dbstat tells which), lies: that is said, and the BLOBs are read from every page the
file holds all the same (`readable`). Pages past the last its tables, indexes and freelist use (a page count raised
over bytes appended to the file, which SQLite trusts) are said, and looked at as what follows the database.

What follows is looked at as what follows a picture's end is (`trailing.py`): padding passed over, a picture or a
video read as the member `after-the-end`, other bytes said; a zip there (`zipbehind.py`) is read as the database's
members after its BLOBs.
"""

from __future__ import annotations

import io
import sqlite3
from typing import NamedTuple

from vigie.sources.trailing import PADDING, Following, what_follows

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


def past_the_database(data: bytes) -> Following:
    """What follows the pages of the database in `data` (the whole file)."""
    header = _header(data)
    if not header.page:
        return Following((), None, None)
    notes: list[str] = []
    end = header.pages * header.page if header.pages else len(data) - len(data) % header.page
    if end > len(data):
        notes.append(f"its header says the database is {header.pages:,} pages of {header.page:,} bytes ({end:,} "
                     f"bytes), more than the file's {len(data):,}: a header that lies, or a database cut short; its "
                     "BLOBs are read from the pages the file holds")
        end = len(data)
    used = _last_page_used(data, header.page, notes)
    if used is not None and used * header.page > end and header.pages:
        notes.append(f"its header says the database is {header.pages:,} pages of {header.page:,} bytes, but its "
                     f"tables use pages up to page {used:,}: a header that lies; its BLOBs are read from every page "
                     f"the file holds, and what follows page {used:,} is looked at as what follows the database")
        end = used * header.page
    elif used is not None and used * header.page < end and data[used * header.page:end].strip(PADDING):
        # SQLite trusts the page count: one raised over bytes appended to the file hides them in the database
        notes.append(f"the database is {end // header.page:,} pages of {header.page:,} bytes, but its tables, "
                     f"indexes and freelist use pages only up to page {used:,}: pages {used + 1:,} to "
                     f"{end // header.page:,}, which nothing in the database uses, are looked at as what follows "
                     "the database")
        end = used * header.page
    following = what_follows(io.BytesIO(data), end, len(data), "database", len(data))
    return following._replace(notes=tuple(notes) + following.notes)


def _last_page_used(data: bytes, page: int, notes: list[str]) -> int | None:
    """The last page the database uses: its tables' and indexes' (SQLite's dbstat tells), and its freelist's
    (walked from its header: dbstat does not list free pages); None where SQLite cannot tell (a damaged database,
    an SQLite built without dbstat). A freelist that cannot be walked is said, its pages not counted."""
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
    if not row or row[0] is None:
        return None
    free = _last_free_page(data, page)
    if free is None:
        notes.append("its freelist (the pages its deleted rows freed) cannot be walked from its header: the pages "
                     "after its tables' last are looked at as what follows the database")
        return int(row[0])
    return max(int(row[0]), free)


def _last_free_page(data: bytes, page: int) -> int | None:
    """The last page on the database's freelist (0 where it has none): its trunk pages, chained from the header
    (bytes 32-35), each listing its leaf pages, as many in all as the header counts (bytes 36-39); None where the
    chain leaves the file, loops, or holds another count than the header's."""
    pages = len(data) // page
    trunk, count = int.from_bytes(data[32:36], "big"), int.from_bytes(data[36:40], "big")
    last, seen, trunks = 0, 0, set()
    while trunk:
        if trunk in trunks or trunk > pages or seen >= count:
            return None
        trunks.add(trunk)
        at = (trunk - 1) * page
        following, leaves = int.from_bytes(data[at:at + 4], "big"), int.from_bytes(data[at + 4:at + 8], "big")
        if leaves > (page - 8) // 4 or seen + 1 + leaves > count:
            return None
        listed = [int.from_bytes(data[at + 8 + 4 * n:at + 12 + 4 * n], "big") for n in range(leaves)]
        if any(not 0 < leaf <= pages for leaf in listed):
            return None
        last = max(last, trunk, *listed)
        seen += 1 + leaves
        trunk = following
    return last if seen == count else None
