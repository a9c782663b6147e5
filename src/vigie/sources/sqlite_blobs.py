"""Pictures, videos and archives kept as BLOBs in an SQLite database: phone apps keep their thumbnails and
caches so (WhatsApp's msgstore.db, Telegram's cache4.db, a browser's favicons, iOS's Photos.sqlite).

The database is read in memory (`sqlite3` deserialises it: the evidence file is never opened by SQLite, which
would write beside it), at most `max_nested_archive_bytes`, from every page the file holds whatever its header
says (`sqlite_end.py`, which also reads what follows its pages), each table in one pass over its rows. Every BLOB or
TEXT value that starts like something Vigie reads (a picture, a video, an archive) is a member named
`TABLE/ROW/COLUMN`, ROW counting the table's rows from 1 in the order SQLite reads them; other values are not. A
damaged table costs that table alone. A write-ahead log beside a database (`-wal`) is not merged in: it is said
on its own item.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.mediatype import SNIFF_BYTES, sniff
from vigie.sources.members import Expansion, Member, decoded_member, read_held
from vigie.sources.sqlite_end import in_memory

_SMALLEST = 32  # bytes: no picture or archive is smaller


def sqlite_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """The database's BLOBs that start like something Vigie reads."""
    data = read_held(fileobj, settings, "an SQLite database", "its BLOBs, and what may follow its pages, not read")
    try:
        database = in_memory(data)
    except sqlite3.Error as exc:
        raise ValueError(f"a damaged SQLite database: {exc}") from exc
    database.text_factory = bytes  # a picture stored as TEXT is bytes too, never decoded as UTF-8
    damaged: list[str] = []
    try:
        tables = [row[0].decode("utf-8", "replace") for row in
                  database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    except sqlite3.Error as exc:
        database.close()
        raise ValueError(f"a damaged SQLite database: {exc}") from exc
    try:
        for table in tables:  # each on its own: a damaged one (or an unknown module) costs that table alone
            try:
                yield from _values(database, table, settings, expansion)
            except sqlite3.Error as exc:
                damaged.append(f"{table} ({exc})")
    finally:
        database.close()
    if damaged:
        raise ValueError(f"a damaged SQLite database: the tables {', '.join(damaged)} were read up to the damage "
                         "or not at all")


def _values(database: sqlite3.Connection, table: str, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """The table's values, BLOB or TEXT, that start like something Vigie reads, in one pass over its rows."""
    cursor = database.execute('SELECT * FROM "' + table.replace('"', '""') + '"')
    columns = [column[0] for column in cursor.description]
    for row, values in enumerate(cursor, 1):
        for column, value in zip(columns, values, strict=True):
            if not isinstance(value, bytes) or len(value) < _SMALLEST \
                    or sniff(value[:SNIFF_BYTES]) == "application/octet-stream":
                continue
            yield decoded_member(f"{table}/{row}/{column}".encode("utf-8", "surrogateescape"), value, settings,
                                 expansion)
