"""Pictures, videos and archives kept as BLOBs in an SQLite database: phone apps keep their thumbnails and
caches so (WhatsApp's msgstore.db, Telegram's cache4.db, a browser's favicons, iOS's Photos.sqlite).

The database is read in memory (`sqlite3` deserialises it: the evidence file is never opened by SQLite, which
would write beside it), at most `max_nested_archive_bytes`. Every BLOB that starts like something Vigie reads
(a picture, a video, an archive) is a member named `TABLE/ROW/COLUMN`, ROW counting the table's rows from 1 in
the order SQLite reads them; other BLOBs are not. A write-ahead log beside a database (`-wal`) is not merged in.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.mediatype import SNIFF_BYTES, sniff
from vigie.sources.members import ArchiveLimitError, CappedReader, Expansion, Member

_SMALLEST = 32  # bytes: no picture or archive is smaller


def sqlite_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """The database's BLOBs that start like something Vigie reads."""
    data = fileobj.read(settings.max_nested_archive_bytes + 1)
    if len(data) > settings.max_nested_archive_bytes:
        raise ArchiveLimitError(f"an SQLite database of more than {settings.max_nested_archive_bytes:,} bytes (the "
                                "cap of what is held in memory, setting max_nested_archive_bytes): its BLOBs not read")
    if data[18:20] == b"\x02\x02":  # WAL mode (most apps' databases), which SQLite cannot open in memory: read
        data = data[:18] + b"\x01\x01" + data[20:]  # as the rollback-journal file it is once checkpointed
    database = sqlite3.connect(":memory:")
    try:
        database.deserialize(data)
        tables = [row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            yield from _blobs(database, table, settings, expansion)
    except sqlite3.Error as exc:  # a damaged database: the BLOBs read before the damage stay members
        raise ValueError(f"a damaged SQLite database: {exc}") from exc
    finally:
        database.close()


def _blobs(database: sqlite3.Connection, table: str, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    quoted = '"' + table.replace('"', '""') + '"'
    columns = [row[1] for row in database.execute(f"PRAGMA table_info({quoted})")]
    for column in columns:
        name = '"' + column.replace('"', '""') + '"'
        query = f"SELECT CASE WHEN typeof({name}) = 'blob' AND length({name}) >= {_SMALLEST} THEN {name} END " \
                f"FROM {quoted}"
        for row, (value,) in enumerate(database.execute(query), 1):
            if value is None or sniff(bytes(value[:SNIFF_BYTES])) == "application/octet-stream":
                continue
            data = bytes(value)
            stream = io.BufferedReader(CappedReader(io.BytesIO(data), settings, expansion, len(data)))
            yield Member(f"{table}/{row}/{column}".encode("utf-8", "surrogateescape"), stream, len(data), None)
