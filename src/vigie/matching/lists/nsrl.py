"""NSRL RDS: lists of known software files, as the legacy NSRLFile.txt (a CSV) or an RDSv3 SQLite database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from vigie.matching.lists import csv
from vigie.matching.lists.common import HashListError, ParsedList, first_line, has_hash, header_cells, set_signal
from vigie.records import ListEntry
from vigie.signals.registry import DIGESTS, InvalidHash

NAME = "nsrl"
SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER = ("sha-1", "md5", "crc32", "filename", "filesize", "productcode")


def sniff(head: str) -> bool:
    return tuple(header_cells(first_line(head))[: len(_HEADER)]) == _HEADER


def read(name: str, text: str, scheme: str | None, signal: str | None) -> ParsedList:
    """NSRLFile.txt: a CSV whose SHA-1 and MD5 columns the CSV reader knows."""
    parsed = csv.read(name, text, scheme, signal)
    _mark(parsed, "nsrl-rds")
    return parsed


def _mark(parsed: ParsedList, fmt: str) -> None:
    parsed.format = fmt
    parsed.notes.append("NSRL RDS lists files of known software: a match means a known, usually ordinary, file")


def read_sqlite(path: Path) -> ParsedList:
    """NSRL RDSv3: a SQLite database whose FILE view (or METADATA table) holds sha256, sha1, md5, file_name..."""
    parsed = ParsedList(format="nsrl-rdsv3", entries=[])
    try:
        # immutable: the list is read as evidence is, never written (no journal, no lock)
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise HashListError(f"{path} is a SQLite file that cannot be opened: {exc}") from exc
    try:
        for table in ("FILE", "METADATA"):
            columns = {row[1].lower() for row in db.execute(f"PRAGMA table_info({table})")}
            if {"sha256", "sha1", "md5"} & columns:
                break
        else:
            raise HashListError(f"{path} is a SQLite database without an NSRL RDSv3 FILE table (sha256, sha1, md5)")
        digests = [s for s in reversed(DIGESTS) if s.name in columns]  # the strongest first, as RDSv3 has them
        wanted = [*(s.name for s in digests), *(c for c in ("file_name", "file_size") if c in columns)]
        for number, row in enumerate(db.execute(f"SELECT {', '.join(wanted)} FROM {table}"), start=1):
            record = dict(zip(wanted, row, strict=True))
            entry = ListEntry(line=number, label=record.get("file_name") or None)
            try:
                for signal in digests:
                    if record.get(signal.name):
                        set_signal(entry, signal, signal.validate(str(record[signal.name])))
            except InvalidHash as exc:
                parsed.problem(f"{table} row {number}", str(exc))
                continue
            if not has_hash(entry):
                parsed.problem(f"{table} row {number}", "no hash in this row")
                continue
            if record.get("file_size") is not None:
                entry.extra["file_size"] = record["file_size"]
            parsed.entries.append(entry)
    except sqlite3.Error as exc:
        raise HashListError(f"{path}: cannot read the NSRL database: {exc}") from exc
    finally:
        db.close()
    _mark(parsed, "nsrl-rdsv3")
    return parsed
