"""Hash-list readers: plain text and python-threatexchange's lines, CSV with a header, Project VIC VICS JSON
1.3 and 2.0, vPDQ video hashes (vPDQ's and tx's forms), NSRL RDS (legacy CSV and RDSv3 SQLite).

Every hash is validated here, at the edge. Bad lines are reported with their line (or media) number and
skipped; they are never dropped silently. Fields we do not model are kept in `extra` so that nothing a
partner sent is lost.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.records import ListEntry
from vigie.signals.registry import (
    MD5,
    SHA1,
    SHA256,
    SIGNALS,
    InvalidHash,
)
from vigie.vocabulary import PROJECT_VIC_US, SCHEMES, UK_CAID, UK_CAID_VICS_NUMBERS, category_scheme

# python-threatexchange's signal type names (`tx hash`, its file exchange: `<signal_type> <value>` lines)
TX_FILE_SIGNALS = {name: s for s in SIGNALS.values() for name in (s.name, *s.tx_names)}
TX_OTHER_SIGNALS = ("url", "url_md5", "raw_text", "trend_query")  # about URLs and text: never a file's hash
FORMATS = ("auto", "text", "csv", "vics", "vpdq", "nsrl")
_CSV_ALIASES = {
    "md5": "md5", "md5hash": "md5", "md5_hash": "md5",
    "sha1": "sha1", "sha-1": "sha1", "sha1hash": "sha1",
    "sha256": "sha256", "sha-256": "sha256", "sha256hash": "sha256",
    "pdq": "pdq", "pdqhash": "pdq", "pdq_hash": "pdq",
    "pdq_quality": "pdq_quality", "quality": "pdq_quality",
    "photodna": "photodna",
    "hash": "hash",
    "category": "category", "cat": "category",
    "category_scheme": "category_scheme", "scheme": "category_scheme",
    "label": "label", "name": "label", "description": "label", "comment": "label",
    "filename": "label", "file_name": "label",
    "series": "series",
    "victim_identified": "victim_identified", "victimidentified": "victim_identified",
}
_HASH_COLUMNS = {"md5", "sha1", "sha256", "pdq", "hash", "photodna"}
_MAX_PROBLEMS_KEPT = 1000


class HashListError(Exception):
    """The file cannot be read as a hash list at all (its message says why)."""


@dataclass
class ParsedList:
    format: str
    entries: list[ListEntry]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: int = 0
    file_sha256: str = ""

    def problem(self, where: str, message: str) -> None:
        self.skipped += 1
        if len(self.problems) < _MAX_PROBLEMS_KEPT:
            self.problems.append(f"{where}: {message}")
        elif len(self.problems) == _MAX_PROBLEMS_KEPT:
            self.problems.append("further problems not listed")


def _norm_category(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text.upper() if text.upper() in UK_CAID else text


def _parse_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    return None


_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"  # tx writes timestamps with `{t:.3}`: 100.0 becomes 1e+02
_VPDQ_LINE = re.compile(rf"^(\d+),(\d+),([0-9a-fA-F]{{64}}),({_NUMBER})$")  # frame_number,quality,pdq,timestamp
_VPDQ_COMPACT = re.compile(rf"^([0-9a-fA-F]{{64}}),(\d+),({_NUMBER})$")  # threatexchange's pdq,quality,timestamp
# `tx hash --photo-preprocess rotations` prefixes each line with the orientation it hashed
_TX_ROTATIONS = ("ORIGINAL", "ROTATE90", "ROTATE180", "ROTATE270", "FLIPX", "FLIPY", "FLIPPLUS1", "FLIPMINUS1")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NSRL_HEADER = ("sha-1", "md5", "crc32", "filename", "filesize", "productcode")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF8, "utf-8-sig"))
_MAX_RUNAWAY_QUOTES = 20
_HASH_LIKE = re.compile(r"\b(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})\b")


def _sniff_format(text_head: str) -> str:
    stripped = text_head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return "vics"
    if stripped.startswith("["):
        return "vpdq"  # tx's vpdq_to_json: a JSON array of "pdq_hex,quality,timestamp" strings
    first_line = stripped.splitlines()[0] if stripped else ""
    if _VPDQ_LINE.match(first_line.strip()) or _VPDQ_COMPACT.match(first_line.strip()):
        return "vpdq"
    cells = [c.strip().strip('"').lower() for c in first_line.replace(";", ",").split(",")]
    if tuple(cells[: len(_NSRL_HEADER)]) == _NSRL_HEADER:
        return "nsrl"
    if any(_CSV_ALIASES.get(c) in _HASH_COLUMNS for c in cells):
        return "csv"
    return "text"


def _decode(raw: bytes, path: Path) -> str:
    codec = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise HashListError(f"{path} is not {codec.upper()} text (byte {exc.start}); is it a hash list?") from exc
    if "\x00" in text:
        raise HashListError(f"{path} holds NUL characters: binary data (or UTF-16 without a byte-order mark), "
                            "not a hash list")
    return text


def read_hash_list(path: Path, fmt: str = "auto", scheme: str | None = None, signal: str | None = None) -> ParsedList:
    if path.is_dir():
        if fmt not in ("auto", "vpdq"):
            raise HashListError(f"{path} is a folder: only vPDQ lists (one video per file) come as folders")
        return _read_vpdq_folder(path)
    if fmt not in FORMATS:
        raise HashListError(f"unknown hash-list format {fmt!r}; choose from {', '.join(FORMATS)}")
    if signal is not None and signal not in SIGNALS:
        raise HashListError(f"unknown signal {signal!r}; choose from {', '.join(SIGNALS)}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HashListError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if raw.startswith(_SQLITE_MAGIC) and fmt in ("auto", "nsrl"):
        parsed = _read_nsrl_sqlite(path)
    else:
        text = _decode(raw, path)
        if fmt == "auto":
            fmt = _sniff_format(text[:4096])
        try:
            parsed = _read_text_format(path.name, text, fmt, scheme, signal)
        except RecursionError as exc:
            raise HashListError(f"{path} is nested too deeply to be a hash list") from exc
    untyped = sum(entry.untyped for entry in parsed.entries)
    if untyped:
        parsed.notes.append(
            f"{untyped} 64-digit value(s) do not say whether they are SHA-256 or PDQ: each is matched both ways, "
            "exactly as SHA-256 and perceptually as PDQ (use --signal, a `sha256`/`pdq` column or prefix to choose)"
        )
    parsed.file_sha256 = hashlib.sha256(raw).hexdigest()
    return parsed


def _read_text_format(name: str, text: str, fmt: str, scheme: str | None, signal: str | None) -> ParsedList:
    if fmt == "vpdq":
        parsed = ParsedList(format="vpdq", entries=[])
        _read_vpdq(name, text, parsed)
        return parsed
    if fmt == "vics":
        return _read_vics(text, scheme)
    if fmt in ("csv", "nsrl"):
        parsed = _read_csv(text, scheme, signal)
        if fmt == "nsrl" or _sniff_format(text[:4096]) == "nsrl":
            _mark_nsrl(parsed, "nsrl-rds")
        return parsed
    return _read_text(name, text, signal)


def category_notes(entries: list[ListEntry]) -> list[str]:
    """Categories that the scheme an entry declares does not define (a typo, or the wrong --scheme)."""
    schemes = {"projectvic-us": PROJECT_VIC_US, "uk-caid": UK_CAID}
    misfits = Counter(
        (entry.category_scheme, entry.category) for entry in entries
        if entry.category_scheme in schemes and entry.category is not None
        and entry.category not in schemes[entry.category_scheme]
    )
    return [f"category {category!r} is not a {scheme} category ({', '.join(schemes[scheme])}): {count} entr"
            f"{'y' if count == 1 else 'ies'} kept as given; check --scheme"
            for (scheme, category), count in sorted(misfits.items())]


# --- plain text, and python-threatexchange's `<signal_type> <value>` lines ----------------------


def _read_text(name: str, text: str, forced_signal: str | None) -> ParsedList:
    parsed = ParsedList(format="text", entries=[])
    original: ListEntry | None = None  # the last `ORIGINAL` line, which its rotations follow
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"line {number}"
        words = stripped.split(None, 1)
        rotation = words[0].upper() if len(words) == 2 and words[0].upper() in _TX_ROTATIONS else None
        if rotation:
            words = words[1].split(None, 1)
        kind = words[0].lower()
        if kind == "vpdq" and len(words) == 2:
            _read_vpdq_json(f"{name} {where}", words[1], parsed)  # one video a line, named by its place
            continue
        if kind in TX_OTHER_SIGNALS and len(words) == 2:
            parsed.problem(where, f"{kind} is a python-threatexchange signal about URLs or text, not a file's hash: "
                                  "not matched against files")
            continue
        entry = _text_entry(number, words, forced_signal, parsed)
        if entry is None:
            continue
        if rotation not in (None, "ORIGINAL") and original is not None and original.pdq and entry.pdq:
            # Vigie hashes every item in the 8 orientations itself: the ORIGINAL hash already finds them
            original.extra.setdefault("tx_rotations", {})[rotation] = entry.pdq
            continue
        if rotation:
            entry.extra["tx_rotation"] = rotation
        original = entry if rotation == "ORIGINAL" else None
        parsed.entries.append(entry)
    return parsed


def _text_entry(number: int, words: list[str], forced_signal: str | None, parsed: ParsedList) -> ListEntry | None:
    """One `hash [label or quality]`, `type:hash ...` or tx `type hash ...` line; None after noting a problem."""
    entry = ListEntry(line=number)
    signal = None
    kind = words[0].lower()
    if kind in TX_FILE_SIGNALS and len(words) == 2:
        signal = TX_FILE_SIGNALS[kind]
        token, _, rest = words[1].partition(" ")
        if kind.startswith("video_"):
            entry.extra["tx_signal"] = kind
    else:
        token, _, rest = " ".join(words).replace("\t", " ").replace(",", " ").partition(" ")
        if ":" in token:
            prefix, _, token = token.partition(":")
            prefix = prefix.lower().replace("-", "")
            if prefix not in SIGNALS:
                parsed.problem(f"line {number}", f"unknown hash type prefix {prefix!r}")
                return None
            signal = SIGNALS[prefix]
    signal = signal or (SIGNALS[forced_signal] if forced_signal else {32: MD5, 40: SHA1}.get(len(token)))
    if signal is None and len(token) == 64:
        entry.untyped = True
        signal = SHA256
    if signal is None:
        parsed.problem(f"line {number}", f"{token[:80]!r} is not an MD5, SHA-1, SHA-256 or PDQ hash (length "
                                         f"{len(token)})")
        return None
    try:
        value = signal.validate(token)
    except InvalidHash as exc:
        parsed.problem(f"line {number}", str(exc))
        return None
    setattr(entry, signal.name, value)
    if entry.untyped:
        entry.pdq = value
    rest = rest.strip()
    if rest:
        if entry.pdq and rest.isdigit() and int(rest) <= 100:
            entry.pdq_quality = int(rest)
        else:
            entry.label = rest
    return entry


# --- CSV ----------------------------------------------------------------------------------------


def _csv_rows(text: str, dialect: type[csv.Dialect] | csv.Dialect) -> Iterator[tuple[int, list[str] | str]]:
    """(line, row) pairs; a row the csv module cannot read comes as (line, message) and reading goes on.

    A stray quote would swallow the lines after it into one field, hiding their hashes: when it is never
    closed, or when the lines it swallows hold hashes, its line is reported and reading starts again on
    the next line.
    """
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def after(line: int) -> int:  # offset where the line after `line` (1-based) starts
        return starts[line] if line < len(starts) else len(text)

    stream = io.StringIO(text)
    base = 0  # lines before the current reader's start
    for _ in range(_MAX_RUNAWAY_QUOTES + 1):
        reader = csv.reader(stream, dialect, strict=True)
        last = 0
        while True:
            first = base + last + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    problem = "a quote opened on this line is never closed"
                    break
                # strict only to see runaway quotes: a stray quote elsewhere is read as the csv module reads
                # it by default; what even that cannot read (a huge field) is this row's problem
                end = base + reader.line_num
                chunk = io.StringIO(text[after(first - 1):after(end)])
                try:
                    yield from ((end, lenient) for lenient in csv.reader(chunk, dialect))
                except csv.Error as lenient_error:
                    yield end, str(lenient_error)
                last = reader.line_num
                continue
            last = reader.line_num
            if base + last > first and _HASH_LIKE.search(text[after(first):after(base + last)]):
                problem = f"a quote opened on this line runs to line {base + last}, over lines that hold hashes"
                break
            yield base + last, row
        yield first, f"{problem}; the line is skipped and the next ones are read on their own"
        base = first
        stream.seek(after(first))
    raise HashListError(f"more than {_MAX_RUNAWAY_QUOTES} quotes run over several lines: the file is not CSV "
                        "(try --format text)")


def _read_csv(text: str, scheme: str | None, forced_signal: str | None) -> ParsedList:
    parsed = ParsedList(format="csv", entries=[])
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = _csv_rows(text, dialect)
    header: list[str] | None = None
    for number, row in rows:
        if isinstance(row, str):
            raise HashListError(f"line {number}: the CSV header cannot be read: {row}")
        if any(cell.strip() for cell in row):
            header = row
            break
    if header is None:
        raise HashListError("the CSV file is empty")
    columns = [_CSV_ALIASES.get(h.strip().lower().replace(" ", "_")) for h in header]
    if not any(c in _HASH_COLUMNS for c in columns):
        raise HashListError(
            f"the CSV header {header!r} names no hash column (md5, sha1, sha256, pdq, hash or photodna)"
        )
    for number, row in rows:
        if isinstance(row, str):
            parsed.problem(f"line {number}", row)
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            parsed.problem(f"line {number}", f"{len(row)} fields where the header has {len(header)}")
            continue
        entry = ListEntry(line=number)
        bad: list[str] = []
        for name, column, cell in zip(header, columns, row, strict=True):
            value = cell.strip()
            if column is None:
                if value:
                    entry.extra[name] = value
                continue
            if not value:
                continue
            _set_csv_field(entry, column, value, forced_signal, bad)
        if bad:
            for message in bad:
                parsed.problem(f"line {number}", message)
            continue
        if not (entry.md5 or entry.sha1 or entry.sha256 or entry.pdq or entry.photodna):
            parsed.problem(f"line {number}", "no hash on this line")
            continue
        entry.category_scheme = category_scheme(entry.category, scheme or entry.category_scheme)
        parsed.entries.append(entry)
    return parsed


def _set_csv_field(entry: ListEntry, column: str, value: str, forced_signal: str | None, bad: list[str]) -> None:
    try:
        if column in ("md5", "sha1", "sha256", "pdq"):
            setattr(entry, column, SIGNALS[column].validate(value))
        elif column == "hash":
            signal = SIGNALS[forced_signal] if forced_signal else {32: MD5, 40: SHA1, 64: SHA256}.get(len(value))
            if signal is None:
                raise InvalidHash(f"hash {value[:80]!r} has no known length ({len(value)})")
            setattr(entry, signal.name, signal.validate(value))
            if forced_signal is None and len(value) == 64:  # SHA-256 or PDQ: matched both ways
                entry.pdq, entry.untyped = entry.sha256, True
        elif column == "pdq_quality":
            entry.pdq_quality = int(value)
        elif column == "photodna":
            entry.photodna = value
        elif column == "category":
            entry.category = _norm_category(value)
        elif column == "victim_identified":
            entry.victim_identified = _parse_bool(value)
        else:
            setattr(entry, column, value)
    except InvalidHash as exc:
        bad.append(str(exc))
    except ValueError:
        bad.append(f"{column} {value!r} is not a number")


# --- NSRL RDS -----------------------------------------------------------------------------------


def _mark_nsrl(parsed: ParsedList, fmt: str) -> None:
    parsed.format = fmt
    parsed.notes.append("NSRL RDS lists files of known software: a match means a known, usually ordinary, file")


def _read_nsrl_sqlite(path: Path) -> ParsedList:
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
        wanted = [c for c in ("sha256", "sha1", "md5", "file_name", "file_size") if c in columns]
        for number, row in enumerate(db.execute(f"SELECT {', '.join(wanted)} FROM {table}"), start=1):
            record = dict(zip(wanted, row, strict=True))
            entry = ListEntry(line=number, label=record.get("file_name") or None)
            try:
                for signal in (SHA256, SHA1, MD5):
                    if record.get(signal.name):
                        setattr(entry, signal.name, signal.validate(str(record[signal.name])))
            except InvalidHash as exc:
                parsed.problem(f"{table} row {number}", str(exc))
                continue
            if not (entry.sha256 or entry.sha1 or entry.md5):
                parsed.problem(f"{table} row {number}", "no hash in this row")
                continue
            if record.get("file_size") is not None:
                entry.extra["file_size"] = record["file_size"]
            parsed.entries.append(entry)
    except sqlite3.Error as exc:
        raise HashListError(f"{path}: cannot read the NSRL database: {exc}") from exc
    finally:
        db.close()
    _mark_nsrl(parsed, "nsrl-rdsv3")
    return parsed


# --- Project VIC VICS ---------------------------------------------------------------------------

# Fields read into the entry's columns; every other field of a media is kept in `extra`.
_VICS_MODELLED = {"MD5", "SHA1", "SHA256", "PDQ", "PhotoDNA", "Category", "CategoryScheme", "Series",
                  "VictimIdentified"}
_VICS_HASHES = {"MD5": "md5", "SHA1": "sha1", "SHA256": "sha256", "PDQ": "pdq", "PHOTODNA": "photodna"}
_VICS_ALTERNATIVES = ("AlternativeHashes", "Hashes")
# The scheme part of a VICS context: http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata
VICS_CONTEXT_SCHEMES = {"US": "projectvic-us", "UK": "uk-caid"}
_VICS_CONTEXT_SCHEME = re.compile(r"/(US|UK)(?=[/#$]|$)", re.IGNORECASE)
# Vigie's own MediaMetadata properties (exports/vics.py): a category the number cannot carry, PDQ quality.
VIGIE_CATEGORY, VIGIE_CATEGORY_SCHEME, VIGIE_PDQ_QUALITY = "Vigie.Category", "Vigie.CategoryScheme", "Vigie.PdqQuality"
# A media is a few levels deep; deeper is hostile, and would be stored as such.
VICS_MAX_DEPTH = 32


@dataclass(frozen=True)
class _Unreadable:
    reason: str


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    kinds = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return next((kind for cls, kind in kinds.items() if isinstance(value, cls)), "null")


def _deeper_than(value: Any, limit: int) -> bool:
    pending = [(value, 1)]  # no recursion: the depth is what is being checked
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def vics_context_scheme(context: str) -> str | None:
    found = _VICS_CONTEXT_SCHEME.search(context)
    return VICS_CONTEXT_SCHEMES[found[1].upper()] if found else None


def _media_entries(text: str) -> tuple[str, str | None, Iterator[tuple[str, dict[str, Any], Any]]]:
    """(VICS version, scheme named by the context, (where, case fields, media or _Unreadable) per media)."""
    try:
        document = json.loads(text)
    except RecursionError as exc:
        raise HashListError("the JSON is nested too deeply to be a VICS file") from exc
    except json.JSONDecodeError as exc:
        raise HashListError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise HashListError(f"not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise HashListError("a VICS file is a JSON object with 'value'")
    context = document.get("@odata.context", document.get("odata.metadata")) or ""
    if not isinstance(context, str):
        raise HashListError(f"the @odata.context is {_json_kind(context)}, not a URL")
    values = document.get("value")
    if not isinstance(values, list):
        raise HashListError("no 'value' array: not a Project VIC VICS file")
    scheme = vics_context_scheme(context)
    if "#Cases" in context or (values and isinstance(values[0], dict) and "Media" in values[0]):
        def cases() -> Iterator[tuple[str, dict[str, Any], Any]]:
            for c, case in enumerate(values, start=1):
                if not isinstance(case, dict):
                    yield f"case {c}", {}, _Unreadable(f"the case is {_json_kind(case)}, not an object")
                    continue
                media_list = case.get("Media", [])
                if not isinstance(media_list, list):
                    yield f"case {c}", {}, _Unreadable(f"its 'Media' is {_json_kind(media_list)}, not an array")
                    continue
                case_fields = {k: v for k, v in case.items() if k != "Media"}
                if _deeper_than(case_fields, VICS_MAX_DEPTH):
                    raise HashListError(f"case {c}: its fields are nested more than {VICS_MAX_DEPTH} levels deep")
                for m, media in enumerate(media_list, start=1):
                    yield f"case {c} media {m}", case_fields, media
        return "vics-2.0", scheme, cases()
    if "#Media" in context or "odata.metadata" in document:
        return "vics-1.3", scheme, ((f"media {m}", {}, media) for m, media in enumerate(values, start=1))
    raise HashListError(f"unknown VICS context {context!r} (expected ...#Media for 1.3 or ...#Cases for 2.0)")


def _vics_hash(media: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[Any]], list[str]]:
    """The hashes of a media, its own fields first, then those its AlternativeHashes name:
    (entry field -> value, the alternative hashes not read into a field, problems)."""
    found: dict[str, str] = {}
    problems: list[str] = []
    for key, column in _VICS_HASHES.items():
        value = media.get("PhotoDNA" if column == "photodna" else key)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            found[column] = value
        else:
            problems.append(f"{key} is {_json_kind(value)}, not a string")
    kept: dict[str, list[Any]] = {}
    for key in _VICS_ALTERNATIVES:
        alternatives = media.get(key)
        if alternatives is None:
            continue
        if not isinstance(alternatives, list):
            problems.append(f"{key} is {_json_kind(alternatives)}, not an array")
            continue
        kept[key] = []
        for alternative in alternatives:
            name = alternative.get("HashName") if isinstance(alternative, dict) else None
            known = _VICS_HASHES.get(name.upper().replace("-", "").replace("_", "")) if isinstance(name, str) else None
            if known is None or known in found:
                kept[key].append(alternative)  # a hash Vigie does not match on, or a second value: kept as given
                continue
            value = alternative.get("HashValue")
            if isinstance(value, str) and value:
                found[known] = value
            else:
                problems.append(f"{key} {name}: the HashValue is {_json_kind(value)}, not a string of its digits")
    return found, kept, problems


def _vics_category(value: Any, scheme: str) -> str | None:
    """A VICS Category as the scheme's code (numbers for Project VIC US and UK); ValueError if it is no value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"Category is {_json_kind(value)}, not a number")
    code = _norm_category(value)
    if scheme == "uk-caid":
        by_number = {str(n): letter for letter, n in UK_CAID_VICS_NUMBERS.items()}
        return by_number.get(code or "", code)
    return code


def _fits_scheme(code: str, scheme: str) -> bool:
    return {"projectvic-us": code in PROJECT_VIC_US, "uk-caid": code in UK_CAID}.get(scheme, True)


def _vigie_metadata(media: dict[str, Any]) -> dict[str, str]:
    """Vigie's own MediaMetadata properties (string values only; the metadata itself stays in `extra`)."""
    metadata = media.get("MediaMetadata")
    if not isinstance(metadata, list):
        return {}
    return {p["PropertyName"]: p["PropertyValue"] for p in metadata
            if isinstance(p, dict) and str(p.get("PropertyName", "")).startswith("Vigie.")
            and isinstance(p.get("PropertyValue"), str)}


def _read_vics(text: str, scheme: str | None) -> ParsedList:
    version, context_scheme, media_items = _media_entries(text)
    parsed = ParsedList(format=version, entries=[])
    misfits: dict[str, set[str]] = {}
    wrong_types: list[str] = []
    for where, case_fields, media in media_items:
        if not isinstance(media, dict):
            parsed.problem(where, media.reason if isinstance(media, _Unreadable) else
                           f"media is {_json_kind(media)}, not an object")
            continue
        if _deeper_than(media, VICS_MAX_DEPTH):
            parsed.problem(where, f"media nested more than {VICS_MAX_DEPTH} levels deep")
            continue
        hashes, alternatives, bad = _vics_hash(media)
        entry = ListEntry()
        for column, value in hashes.items():
            try:
                setattr(entry, column, value if column == "photodna" else SIGNALS[column].validate(value))
            except InvalidHash as exc:
                bad.append(str(exc))
        if bad:
            for message in bad:
                parsed.problem(where, message)
            continue
        if not (entry.md5 or entry.sha1 or entry.sha256 or entry.pdq or entry.photodna):
            parsed.problem(where, "media has no MD5, SHA1, SHA256, PDQ or PhotoDNA value")
            continue
        entry.extra = {k: v for k, v in media.items() if k not in _VICS_MODELLED and k not in alternatives}
        entry.extra |= {k: v for k, v in alternatives.items() if v}
        vigie = _vigie_metadata(media)
        declared = next((s for s in (scheme, vigie.get(VIGIE_CATEGORY_SCHEME), media.get("CategoryScheme"),
                                     context_scheme) if s in SCHEMES), "projectvic-us")
        if media.get("CategoryScheme") not in (None, *SCHEMES):
            entry.extra["CategoryScheme"] = media["CategoryScheme"]
        try:
            entry.category = _vics_category(vigie.get(VIGIE_CATEGORY, media.get("Category")), declared)
        except ValueError as exc:
            wrong_types.append(f"{where}: {exc}")
            entry.extra["Category"] = media["Category"]
        if entry.category is not None and not _fits_scheme(entry.category, declared):
            misfits.setdefault(declared, set()).add(entry.category)
        entry.category_scheme = category_scheme(entry.category, declared)
        series, victim = media.get("Series"), media.get("VictimIdentified")
        if isinstance(series, str | int) and not isinstance(series, bool):
            entry.series = str(series) or None
        elif series is not None:
            wrong_types.append(f"{where}: Series is {_json_kind(series)}, not a name")
            entry.extra["Series"] = series
        if isinstance(victim, bool | int | str):
            entry.victim_identified = _parse_bool(victim)
        elif victim is not None:
            wrong_types.append(f"{where}: VictimIdentified is {_json_kind(victim)}, not true or false")
            entry.extra["VictimIdentified"] = victim
        quality = vigie.get(VIGIE_PDQ_QUALITY, "")
        if entry.pdq and quality.isdigit() and int(quality) <= 100:
            entry.pdq_quality = int(quality)
        if case_fields:
            entry.extra["@case"] = case_fields
        parsed.entries.append(entry)
    for declared_scheme, codes in misfits.items():
        listed = ", ".join(sorted(codes)[:10]) + (", …" if len(codes) > 10 else "")
        parsed.notes.append(f"categories that are not {declared_scheme} categories ({listed}) were kept as given; "
                            f"is the list of another scheme (--scheme)?")
    if wrong_types:
        more = f" (and {len(wrong_types) - 5} more)" if len(wrong_types) > 5 else ""
        parsed.notes.append(f"{len(wrong_types)} field(s) of the wrong type, imported with their media's hashes and "
                            f"kept as given in the entry's extra fields: {'; '.join(wrong_types[:5])}{more}")
    return parsed


# --- vPDQ ---------------------------------------------------------------------------------------

Frame = tuple[int | None, int, str, float | None]


def _vpdq_frame(feature: str) -> Frame | str:
    """One sampled frame's hash, or why the text is not one."""
    stripped = feature.strip()
    full, compact = _VPDQ_LINE.match(stripped), _VPDQ_COMPACT.match(stripped)
    if full:
        frame, quality, pdq, timestamp = int(full[1]), int(full[2]), full[3].lower(), float(full[4])
    elif compact:
        frame, pdq, quality, timestamp = None, compact[1].lower(), int(compact[2]), float(compact[3])
    else:
        return "not a vPDQ frame (frame_number,quality,pdq_hex,timestamp or pdq_hex,quality,timestamp)"
    if quality > 100:
        return f"quality {quality} is over 100"
    return frame, quality, pdq, timestamp


def _add_video(label: str, features: list[tuple[str, str]], parsed: ParsedList) -> None:
    """One video's entry from its (where, frame text) features; each bad frame is a problem of its own."""
    entry = ListEntry(label=label)
    for where, feature in features:
        frame = _vpdq_frame(feature)
        if isinstance(frame, str):
            parsed.problem(where, frame)
        else:
            entry.video_frames.append(frame)
    if entry.video_frames:
        entry.extra = {"frames": len(entry.video_frames)}
        parsed.entries.append(entry)
    else:
        parsed.problem(label, "no vPDQ frame hash here")


def _read_vpdq_json(where: str, payload: str, parsed: ParsedList) -> None:
    """tx's vpdq_to_json: a JSON array of "pdq_hex,quality,timestamp" strings (alone, or after `vpdq `)."""
    try:
        features = json.loads(payload)
    except json.JSONDecodeError as exc:
        parsed.problem(where, f"vPDQ JSON is not valid: {exc.msg} at column {exc.colno}")
        return
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        parsed.problem(where, "vPDQ JSON is not an array of \"pdq_hex,quality,timestamp\" strings")
        return
    _add_video(where, [(f"{where} frame {n}", f) for n, f in enumerate(features, start=1)], parsed)


def _read_vpdq(name: str, text: str, parsed: ParsedList) -> None:
    """One video's frame hashes: vPDQ's `frame_number,quality,pdq_hex,timestamp` lines, or tx's forms."""
    if text.lstrip("\ufeff \t\r\n").startswith("["):
        _read_vpdq_json(name, text, parsed)
        return
    features = [(f"{name} line {number}", line) for number, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.strip().startswith("#")]
    _add_video(name, features, parsed)


def _read_vpdq_folder(folder: Path) -> ParsedList:
    parsed = ParsedList(format="vpdq", entries=[])
    digest = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise HashListError(f"{folder} holds no files")
    for path in files:
        raw = path.read_bytes()
        digest.update(f"{path.name}\0{hashlib.sha256(raw).hexdigest()}\n".encode())
        try:
            _read_vpdq(path.name, _decode(raw, path), parsed)
        except HashListError as exc:
            parsed.problem(path.name, f"{exc}; not a vPDQ file")
    parsed.file_sha256 = digest.hexdigest()
    return parsed
