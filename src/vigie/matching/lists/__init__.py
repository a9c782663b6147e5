"""Hash-list readers, one module per format, each with `sniff` (does the file's head look like it) and
`read`: plain text (with python-threatexchange's lines, `tx`), CSV with a header, Project VIC VICS JSON 1.3
and 2.0, vPDQ video hashes, NSRL RDS (legacy CSV and RDSv3 SQLite).

Every hash is validated here, at the edge, by the signal registry. Bad lines are reported with their line
(or media) number and skipped; they are never dropped silently. Fields we do not model are kept in `extra`
so that nothing a partner sent is lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigie.matching.lists import csv, nsrl, text, vics, vpdq
from vigie.matching.lists.common import HashListError, ParsedList, category_notes, decode
from vigie.signals.registry import SIGNALS

__all__ = ["FORMATS", "HashListError", "ParsedList", "category_notes", "read_hash_list"]


@dataclass(frozen=True)
class ListFormat:
    name: str
    sniff: Callable[[str], bool]
    read: Callable[[str, str, str | None, str | None], ParsedList]  # (file name, text, scheme, signal)


READERS = {m.NAME: ListFormat(m.NAME, m.sniff, m.read) for m in (text, csv, vics, vpdq, nsrl)}
FORMATS = ("auto", *READERS)
# The order formats are sniffed in: the first whose `sniff` says yes reads the file (text takes the rest)
_SNIFFED = [READERS[name] for name in ("vics", "vpdq", "nsrl", "csv", "text")]
_HEAD = 4096


def read_hash_list(path: Path, fmt: str = "auto", scheme: str | None = None, signal: str | None = None) -> ParsedList:
    if path.is_dir():
        if fmt not in ("auto", "vpdq"):
            raise HashListError(f"{path} is a folder: only vPDQ lists (one video per file) come as folders")
        return vpdq.read_folder(path)
    if fmt not in FORMATS:
        raise HashListError(f"unknown hash-list format {fmt!r}; choose from {', '.join(FORMATS)}")
    if signal is not None and signal not in SIGNALS:
        raise HashListError(f"unknown signal {signal!r}; choose from {', '.join(SIGNALS)}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HashListError(f"cannot read {path}: {exc.strerror or exc}") from exc
    file_sha256 = hashlib.sha256(raw).hexdigest()
    if raw.startswith(nsrl.SQLITE_MAGIC) and fmt in ("auto", "nsrl"):
        parsed = nsrl.read_sqlite(path)
    else:
        content, encoding_note = decode(raw, path)
        del raw  # read from its text alone: the file is held once, not twice, while it is read
        head = content[:_HEAD]
        if fmt == "auto":
            fmt = next(f.name for f in _SNIFFED if f.sniff(head))
        elif fmt == "csv" and nsrl.sniff(head):
            fmt = "nsrl"  # a CSV with NSRL's header is an NSRL list
        try:
            parsed = READERS[fmt].read(path.name, content, scheme, signal)
        except RecursionError as exc:
            raise HashListError(f"{path} is nested too deeply to be a hash list") from exc
        if encoding_note is not None:
            parsed.notes.append(encoding_note)
    if not parsed.entries:  # imported, it would stand in the report as a list the case was matched against
        first = f"; {parsed.problem_lines} problem(s), the first: {parsed.problems[0]}" if parsed.problems else ""
        raise HashListError(f"{path} holds no hash that can be read{first} (an empty or cut download?): "
                            "nothing imported")
    untyped = sum(entry.untyped for entry in parsed.entries)
    if untyped:
        parsed.notes.append(
            f"{untyped} 64-digit value(s) do not say whether they are SHA-256 or PDQ: each is matched both ways, "
            "exactly as SHA-256 and perceptually as PDQ (use --signal, a `sha256`/`pdq` column or prefix to choose)"
        )
    parsed.file_sha256 = file_sha256
    return parsed
