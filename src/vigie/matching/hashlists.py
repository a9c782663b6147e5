"""Hash-list readers: plain text, CSV with a header, Project VIC VICS JSON 1.3 and 2.0, vPDQ video hashes.

Every hash is validated here, at the edge. Bad lines are reported with their line (or media) number and
skipped; they are never dropped silently. Fields we do not model are kept in `extra` so that nothing a
partner sent is lost.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.matching.signal_types import MD5, PDQ, SHA1, SHA256, SIGNALS, InvalidHash, looks_like_pdq
from vigie.store.base import ListEntry

FORMATS = ("auto", "text", "csv", "vics", "vpdq")
SCHEMES = ("projectvic-us", "uk-caid", "custom")

PROJECT_VIC_US = {
    "0": "Non-pertinent",
    "1": "Child abuse material",
    "2": "Child exploitive (non-CAM) / age difficult",
    "3": "CGI / animation",
    "4": "Comparison images",
}
UK_CAID = {"A": "Category A", "B": "Category B", "C": "Category C"}

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


def category_scheme(category: str | None, declared: str | None) -> str | None:
    if category is None:
        return None
    if declared:
        return declared
    if category.upper() in UK_CAID:
        return "uk-caid"
    if category in PROJECT_VIC_US:
        return "projectvic-us"
    return "custom"


def category_label(scheme: str | None, category: str | None) -> str | None:
    if category is None:
        return None
    if scheme == "projectvic-us":
        return PROJECT_VIC_US.get(category, category)
    if scheme == "uk-caid":
        return UK_CAID.get(category.upper(), category)
    return category


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


_VPDQ_LINE = re.compile(r"^(\d+),(\d+),([0-9a-fA-F]{64}),([0-9.]+)$")  # frame_number,quality,pdq,timestamp
_VPDQ_COMPACT = re.compile(r"^([0-9a-fA-F]{64}),(\d+),([0-9.]+)$")  # threatexchange's pdq,quality,timestamp


def _sniff_format(text_head: str) -> str:
    stripped = text_head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return "vics"
    first_line = stripped.splitlines()[0] if stripped else ""
    if _VPDQ_LINE.match(first_line.strip()) or _VPDQ_COMPACT.match(first_line.strip()):
        return "vpdq"
    cells = [c.strip().strip('"').lower() for c in first_line.replace(";", ",").split(",")]
    if any(_CSV_ALIASES.get(c) in _HASH_COLUMNS for c in cells):
        return "csv"
    return "text"


def read_hash_list(path: Path, fmt: str = "auto", scheme: str | None = None, signal: str | None = None) -> ParsedList:
    if path.is_dir():
        if fmt not in ("auto", "vpdq"):
            raise HashListError(f"{path} is a folder: only vPDQ lists (one video per file) come as folders")
        return _read_vpdq_folder(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HashListError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HashListError(f"{path} is not UTF-8 text (byte {exc.start}); is it a hash list?") from exc
    if fmt == "auto":
        fmt = _sniff_format(text[:4096])
    if fmt not in FORMATS:
        raise HashListError(f"unknown hash-list format {fmt!r}; choose from {', '.join(FORMATS)}")
    if signal is not None and signal not in SIGNALS:
        raise HashListError(f"unknown signal {signal!r}; choose from {', '.join(SIGNALS)}")
    if fmt == "vpdq":
        parsed = ParsedList(format="vpdq", entries=[])
        _read_vpdq(path.name, text, parsed)
    elif fmt == "vics":
        parsed = _read_vics(text, scheme)
    elif fmt == "csv":
        parsed = _read_csv(text, scheme, signal)
    else:
        parsed = _read_text(text, signal)
    parsed.file_sha256 = hashlib.sha256(raw).hexdigest()
    return parsed


# --- plain text ---------------------------------------------------------------------------------


def _read_text(text: str, forced_signal: str | None) -> ParsedList:
    parsed = ParsedList(format="text", entries=[])
    rows: list[tuple[int, str, str | None, str]] = []  # line, hash, explicit signal, rest
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        token, _, rest = stripped.replace("\t", " ").replace(",", " ").partition(" ")
        explicit = None
        if ":" in token:
            explicit, _, token = token.partition(":")
            explicit = explicit.lower().replace("-", "")
            if explicit not in SIGNALS:
                parsed.problem(f"line {number}", f"unknown hash type prefix {explicit!r}")
                continue
        rows.append((number, token, explicit, rest.strip()))
    sixty_four = [token.lower() for _, token, explicit, _ in rows if explicit is None and len(token) == 64]
    valid_64 = [t for t in sixty_four if _is_hex(t)]
    pdq_for_64 = forced_signal == "pdq" or (
        forced_signal is None and bool(valid_64) and all(looks_like_pdq(t) for t in valid_64)
    )
    if valid_64 and forced_signal is None:
        parsed.notes.append(
            "64-digit hashes read as PDQ: every one has exactly 128 bits set, as PDQ hashes do (use --signal sha256 "
            "to override)" if pdq_for_64 else
            "64-digit hashes read as SHA-256 (use --signal pdq if they are PDQ hashes)"
        )
    by_length = {32: MD5, 40: SHA1, 64: PDQ if pdq_for_64 else SHA256}
    for number, token, explicit, rest in rows:
        signal = SIGNALS[explicit] if explicit else (SIGNALS[forced_signal] if forced_signal else None)
        signal = signal or by_length.get(len(token))
        if signal is None:
            parsed.problem(f"line {number}", f"{token[:80]!r} is not an MD5, SHA-1, SHA-256 or PDQ hash (length "
                                             f"{len(token)})")
            continue
        try:
            value = signal.validate(token)
        except InvalidHash as exc:
            parsed.problem(f"line {number}", str(exc))
            continue
        entry = ListEntry(line=number)
        setattr(entry, signal.name, value)
        if rest:
            if signal is PDQ and rest.isdigit() and int(rest) <= 100:
                entry.pdq_quality = int(rest)
            else:
                entry.label = rest
        parsed.entries.append(entry)
    return parsed


def _is_hex(value: str) -> bool:
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


# --- CSV ----------------------------------------------------------------------------------------


def _read_csv(text: str, scheme: str | None, forced_signal: str | None) -> ParsedList:
    parsed = ParsedList(format="csv", entries=[])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise HashListError("the CSV file is empty") from exc
    columns = [_CSV_ALIASES.get(h.strip().lower().replace(" ", "_")) for h in header]
    if not any(c in _HASH_COLUMNS for c in columns):
        raise HashListError(
            f"the CSV header {header!r} names no hash column (md5, sha1, sha256, pdq, hash or photodna)"
        )
    for row in reader:
        number = reader.line_num
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
            signal = SIGNALS[forced_signal] if forced_signal else {32: MD5, 40: SHA1}.get(len(value))
            if signal is None and len(value) == 64:
                signal = PDQ if _is_hex(value) and looks_like_pdq(value) else SHA256
            if signal is None:
                raise InvalidHash(f"hash {value[:80]!r} has no known length ({len(value)})")
            setattr(entry, signal.name, signal.validate(value))
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


# --- Project VIC VICS ---------------------------------------------------------------------------

_VICS_MODELLED = {"MD5", "SHA1", "SHA256", "PDQ", "PhotoDNA", "Category", "CategoryScheme", "Series",
                  "VictimIdentified"}


def _media_entries(text: str) -> tuple[str, Iterator[tuple[str, dict[str, Any], dict[str, Any]]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HashListError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    if not isinstance(document, dict):
        raise HashListError("a VICS file is a JSON object with 'value'")
    context = str(document.get("@odata.context") or document.get("odata.metadata") or "")
    values = document.get("value")
    if not isinstance(values, list):
        raise HashListError("no 'value' array: not a Project VIC VICS file")
    if "#Cases" in context or (values and isinstance(values[0], dict) and "Media" in values[0]):
        def cases() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
            for c, case in enumerate(values, start=1):
                if not isinstance(case, dict) or not isinstance(case.get("Media", []), list):
                    yield f"case {c}", {}, {"__bad__": "case is not an object with a 'Media' array"}
                    continue
                case_fields = {k: v for k, v in case.items() if k != "Media"}
                for m, media in enumerate(case.get("Media", []), start=1):
                    yield f"case {c} media {m}", case_fields, media
        return "vics-2.0", cases()
    if "#Media" in context or "odata.metadata" in document:
        return "vics-1.3", ((f"media {m}", {}, media) for m, media in enumerate(values, start=1))
    raise HashListError(f"unknown VICS context {context!r} (expected ...#Media for 1.3 or ...#Cases for 2.0)")


def _vics_hash(media: dict[str, Any], key: str) -> Any:
    if media.get(key):
        return media[key]
    for alternative in media.get("AlternativeHashes") or media.get("Hashes") or []:
        if isinstance(alternative, dict) and str(alternative.get("HashName", "")).upper() == key.upper():
            return alternative.get("HashValue")
    return None


def _read_vics(text: str, scheme: str | None) -> ParsedList:
    version, media_items = _media_entries(text)
    parsed = ParsedList(format=version, entries=[])
    for where, case_fields, media in media_items:
        if not isinstance(media, dict) or "__bad__" in media:
            parsed.problem(where, media.get("__bad__", "media is not an object") if isinstance(media, dict)
                           else "media is not an object")
            continue
        entry = ListEntry()
        bad = []
        for signal in (MD5, SHA1, SHA256, PDQ):
            value = _vics_hash(media, signal.name.upper())
            if value in (None, ""):
                continue
            try:
                setattr(entry, signal.name, signal.validate(str(value)))
            except InvalidHash as exc:
                bad.append(str(exc))
        if bad:
            for message in bad:
                parsed.problem(where, message)
            continue
        entry.photodna = media.get("PhotoDNA") or None
        if not (entry.md5 or entry.sha1 or entry.sha256 or entry.pdq or entry.photodna):
            parsed.problem(where, "media has no MD5, SHA1, SHA256, PDQ or PhotoDNA value")
            continue
        entry.category = _norm_category(media.get("Category"))
        # VICS categories are Project VIC's unless the file names another scheme (Vigie writes CategoryScheme)
        entry.category_scheme = category_scheme(entry.category, scheme or media.get("CategoryScheme")
                                                or "projectvic-us")
        entry.series = media.get("Series") or None
        entry.victim_identified = _parse_bool(media.get("VictimIdentified"))
        entry.extra = {k: v for k, v in media.items() if k not in _VICS_MODELLED}
        if case_fields:
            entry.extra["@case"] = case_fields
        parsed.entries.append(entry)
    return parsed


# --- vPDQ ---------------------------------------------------------------------------------------


def _read_vpdq(name: str, text: str, parsed: ParsedList) -> None:
    """One video's frame hashes, one `frame_number,quality,pdq_hex,timestamp` line per sampled frame."""
    entry = ListEntry(label=name)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        full, compact = _VPDQ_LINE.match(stripped), _VPDQ_COMPACT.match(stripped)
        if full:
            frame, quality, pdq, timestamp = int(full[1]), int(full[2]), full[3].lower(), float(full[4])
        elif compact:
            frame, pdq, quality, timestamp = None, compact[1].lower(), int(compact[2]), float(compact[3])
        else:
            parsed.problem(f"{name} line {number}", "not a vPDQ line (frame_number,quality,pdq_hex,timestamp)")
            continue
        if quality > 100:
            parsed.problem(f"{name} line {number}", f"quality {quality} is over 100")
            continue
        entry.video_frames.append((frame, quality, pdq, timestamp))
    if entry.video_frames:
        entry.extra = {"frames": len(entry.video_frames)}
        parsed.entries.append(entry)
    else:
        parsed.problem(name, "no vPDQ frame hash in this file")


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
            _read_vpdq(path.name, raw.decode("utf-8-sig"), parsed)
        except UnicodeDecodeError:
            parsed.problem(path.name, "not UTF-8 text; not a vPDQ file")
    parsed.file_sha256 = digest.hexdigest()
    return parsed
