"""CSV lists with a header: a column per registered signal (its name or CSV aliases), a `hash` column typed
by length (or --signal), PhotoDNA, category, label, series and the like; other columns kept as extras."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from vigie.matching.lists.common import (
    HASH_LIKE,
    HashListError,
    ParsedList,
    first_line,
    has_hash,
    header_cells,
    norm_category,
    parse_bool,
    parse_quality,
    set_by_length,
    set_signal,
)
from vigie.records import ListEntry
from vigie.signals.registry import SIGNALS, InvalidHash, spoken_list
from vigie.vocabulary import category_scheme

NAME = "csv"
MAX_RUNAWAY_QUOTES = 20
_FIELDS = {
    **{alias: s.name for s in SIGNALS.values() for alias in (s.name, *s.csv_aliases)},
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
_HASH_COLUMNS = (*SIGNALS, "hash", "photodna")


def sniff(head: str) -> bool:
    return any(_FIELDS.get(c) in _HASH_COLUMNS for c in header_cells(first_line(head)))


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
    for _ in range(MAX_RUNAWAY_QUOTES + 1):
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
            if base + last > first and HASH_LIKE.search(text[after(first):after(base + last)]):
                problem = f"a quote opened on this line runs to line {base + last}, over lines that hold hashes"
                break
            yield base + last, row
        yield first, f"{problem}; the line is skipped and the next ones are read on their own"
        base = first
        stream.seek(after(first))
    raise HashListError(f"more than {MAX_RUNAWAY_QUOTES} quotes run over several lines: the file is not CSV "
                        "(try --format text)")


def read(name: str, text: str, scheme: str | None, signal: str | None) -> ParsedList:
    parsed = ParsedList(format=NAME, entries=[])
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
    columns = [_FIELDS.get(h.strip().lower().replace(" ", "_")) for h in header]
    if not any(c in _HASH_COLUMNS for c in columns):
        raise HashListError(
            f"the CSV header {header!r} names no hash column ({spoken_list(list(_HASH_COLUMNS))})"
        )
    first: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        if column is not None and first.setdefault(column, index) != index:  # one of two values would be lost
            raise HashListError(f"the CSV header names {column} twice (columns {first[column]} and {index}): "
                                "keep one column for each field")
    odd_qualities: list[int] = []  # lines whose quality is not 0-100: their hashes are kept without it
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
        for title, column, cell in zip(header, columns, row, strict=True):
            value = cell.strip()
            if column is None:
                if value:
                    entry.extra[title] = value
                continue
            if not value:
                continue
            if column == "pdq_quality" and parse_quality(value) is None:
                odd_qualities.append(number)
                entry.extra[title] = value
                continue
            _set_field(entry, column, value, signal, bad)
        if bad:
            for message in bad:
                parsed.problem(f"line {number}", message)
            continue
        if not has_hash(entry):
            parsed.problem(f"line {number}", "no hash on this line")
            continue
        entry.category_scheme = category_scheme(entry.category, scheme or entry.category_scheme)
        parsed.entries.append(entry)
    if odd_qualities:
        shown = ", ".join(map(str, odd_qualities[:10])) + (", …" if len(odd_qualities) > 10 else "")
        parsed.notes.append(f"{len(odd_qualities)} line(s) give a PDQ quality that is not a whole number from 0 to "
                            f"100 (line {shown}): their hashes are kept, matched, and the value kept as given")
    return parsed


def _set_field(entry: ListEntry, column: str, value: str, forced_signal: str | None, bad: list[str]) -> None:
    try:
        if column in SIGNALS:
            set_signal(entry, SIGNALS[column], SIGNALS[column].validate(value))
        elif column == "hash":
            if set_by_length(entry, value, SIGNALS[forced_signal] if forced_signal else None) is None:
                raise InvalidHash(f"hash {value[:80]!r} has no known length ({len(value)})")
        elif column == "pdq_quality":
            entry.pdq_quality = parse_quality(value)
        elif column == "photodna":
            entry.photodna = value
        elif column == "category":
            entry.category = norm_category(value)
        elif column == "victim_identified":
            entry.victim_identified = parse_bool(value)
        else:
            setattr(entry, column, value)
    except InvalidHash as exc:
        bad.append(str(exc))
    except ValueError:
        bad.append(f"{column} {value!r} is not a number")
