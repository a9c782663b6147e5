"""What every hash-list reader shares: the parsed list, its problems, decoding, and the registry's signals
set on an entry."""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.errors import VigieError
from vigie.records import PROBLEMS_KEPT, ListEntry, problems_cut
from vigie.signals.registry import SIGNALS, SignalType, signals_of_length, spoken_list
from vigie.vocabulary import PROJECT_VIC_US, UK_CAID

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"), (codecs.BOM_UTF8, "utf-8-sig"))
_LENGTHS = sorted({s.hex_length for s in SIGNALS.values()}, reverse=True)
HASH_LIKE = re.compile(rf"\b(?:{'|'.join(f'[0-9a-fA-F]{{{n}}}' for n in _LENGTHS)})\b")
SIGNAL_LABELS = spoken_list([s.label for s in SIGNALS.values()])  # "MD5, SHA-1, SHA-256 or PDQ"


class HashListError(VigieError):
    """The file cannot be read as a hash list at all (its message says why)."""


@dataclass
class ParsedList:
    format: str
    entries: list[ListEntry]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: int = 0  # lines (or media) not read
    problem_lines: int = 0  # lines with a problem: those skipped, and those read without a bad cell's value
    file_sha256: str = ""

    _last_where: str | None = field(default=None, repr=False)
    _last_skipped: bool = field(default=False, repr=False)

    def problem(self, where: str, message: str, skipped: bool = True) -> None:
        """A line (or media) with a problem, skipped unless `skipped` is False (the line is read without the
        value at fault); a second problem of the same line joins its first."""
        if where == self._last_where:
            if skipped and not self._last_skipped:
                self.skipped += 1
                self._last_skipped = True
            if self.problem_lines <= PROBLEMS_KEPT:
                self.problems[-1] += f"; {message}"
            return
        self._last_where, self._last_skipped = where, skipped
        self.problem_lines += 1
        self.skipped += skipped
        if self.problem_lines <= PROBLEMS_KEPT:
            self.problems.append(f"{where}: {message}")
        else:  # one line past those kept says how many lines had a problem in all
            del self.problems[PROBLEMS_KEPT:]
            self.problems.append(problems_cut(self.problem_lines))


def set_signal(entry: ListEntry, signal: SignalType, value: str) -> None:
    """Put a validated value in the entry's field for its signal: PDQ's own, or the exact digests'."""
    if signal.exact:
        entry.digests[signal.name] = value
    else:
        entry.pdq = value


def has_hash(entry: ListEntry) -> bool:
    return bool(entry.digests or entry.pdq or entry.photodna)


def set_by_length(entry: ListEntry, value: str, forced: SignalType | None) -> SignalType | None:
    """A bare value typed by its length (or `forced`); a length several signals share (SHA-256 and PDQ) is
    untyped: the value goes to each, matched every way. None when no signal has this length."""
    candidates = (forced,) if forced else signals_of_length(len(value))
    if not candidates:
        return None
    validated = candidates[0].validate(value)
    for signal in candidates:
        set_signal(entry, signal, validated)
    if len(candidates) > 1:
        entry.untyped = True
    return candidates[0]


def decode(raw: bytes, path: Path) -> tuple[str, str | None]:
    """The list's text, and a note when it was not UTF-8: UTF-8 with a few bad bytes (a cut character) read
    with U+FFFD there, or Windows-1252 (a CSV saved by Excel). Its hashes are ASCII either way; only its labels
    may read otherwise than meant."""
    codec = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    note = None
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        refused = HashListError(f"{path} is not {codec.upper()} text (byte {exc.start}); is it a hash list?")
        if codec != "utf-8" or b"\x00" in raw:
            raise refused from exc
        text = raw.decode("utf-8", "replace")
        if any(ord(char) > 0x7F and char != "\ufffd" for char in text):  # UTF-8 with a few bad bytes (a cut)
            note = (f"not UTF-8 at byte {exc.start} (and {text.count(chr(0xFFFD)) - 1} more): those bytes read "
                    "as \ufffd; labels there may show other characters than were meant")
        else:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                raise refused from exc
            note = (f"not UTF-8 (byte {exc.start}): read as Windows-1252, the encoding Excel saves CSV files in; "
                    "labels may show other characters than were meant")
    if "\x00" in text:
        raise HashListError(f"{path} holds NUL characters: binary data (or UTF-16 without a byte-order mark), "
                            "not a hash list")
    return text, note


def first_line(head: str) -> str:
    stripped = head.lstrip("\ufeff \t\r\n")
    return stripped.splitlines()[0].strip() if stripped else ""


def header_cells(line: str) -> list[str]:
    """A header line's cells, whichever of comma, semicolon or tab separates them."""
    return [c.strip().strip('"').lower() for c in line.replace(";", ",").replace("\t", ",").split(",")]


def field_key(name: str) -> str:
    """A column or HashName as lists spell it, compared: lower case, without spaces, dashes or underscores, nor
    a trailing "hash" or "value" ("SHA-256 Hash", "PDQ Value" and "pdq_hash" are "sha256", "pdq", "pdq")."""
    key = re.sub(r"[\s_-]+", "", name.strip().strip('"').lower())
    trimmed = re.sub(r"(?:hash|value)$", "", key)
    return trimmed or key


def norm_category(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text.upper() if text.upper() in UK_CAID else text


def parse_quality(value: str) -> int | None:
    """A PDQ quality as lists write it: a whole number from 0 to 100 in ASCII digits; None for anything else
    ("²" and "٣" are digits to Python, not qualities)."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) <= 100 else None


def parse_bool(value: Any) -> bool | None:
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
