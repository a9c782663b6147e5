"""CSV lists with a header: a column per registered signal (its name or CSV aliases), a `hash` column typed
by length (or --signal), PhotoDNA, category, label, series and the like; other columns kept as extras."""

from __future__ import annotations

import contextlib
import csv
import re
from collections.abc import Iterator

from vigie.matching.lists.common import (
    HASH_LIKE,
    SIGNAL_LABELS,
    HashListError,
    ParsedList,
    field_key,
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
_FIELDS = {field_key(name): column for name, column in {
    **{alias: s.name for s in SIGNALS.values() for alias in (s.name, s.label, *s.csv_aliases)},
    "pdq_quality": "pdq_quality", "quality": "pdq_quality",
    "photodna": "photodna",
    "hash": "hash",
    "category": "category", "cat": "category",
    "category_scheme": "category_scheme", "scheme": "category_scheme",
    "label": "label", "name": "label", "description": "label", "comment": "label",
    "filename": "label", "file_name": "label",
    "series": "series",
    "victim_identified": "victim_identified",
}.items()}
_HASH_COLUMNS = (*SIGNALS, "hash", "photodna")
_NOT_HASHES = ("label", "series", "category", "category_scheme")  # a value there that looks like a hash is said
_HEADER_SEARCH = 10  # lines a header may come after: comments, Excel's `sep=,` line, a title
_HEADER_MAX = 64 << 10  # characters
_EXCEL_SEP = re.compile(r'"?sep=(.)"?')
_NO_VALUE = frozenset({"n/a", "-", "null", "none"})  # what a spreadsheet or a database export writes for none
_LINE_BREAK = re.compile(r"\r\n?|\n")  # CRLF, LF, or a lone CR (the classic Mac OS's, and old Excel's for Mac)


def _line_end(text: str, start: int, stop: int) -> int:
    """Where the line from `start` ends, its break included (`stop` for a last line without one)."""
    found = _LINE_BREAK.search(text, start, stop)
    return stop if found is None else found.end()


def _is_header(line: str) -> bool:
    return any(_FIELDS.get(field_key(cell)) in _HASH_COLUMNS for cell in header_cells(line))


def sniff(head: str) -> bool:
    return any(_is_header(line) for line in head.lstrip("\ufeff").splitlines()[:_HEADER_SEARCH])


def _before_header(text: str, parsed: ParsedList) -> tuple[int, int, str | None]:
    """(offset of the header line, lines before it, the delimiter Excel's `sep=` line names): a header may come
    after a few lines (comments, a title), said in a note; one of them that holds a hash is a problem. Without
    a header among the first lines, the first is the header (and refused if it names no hash column)."""
    start, sep = 0, None
    comments: list[tuple[int, str]] = []
    hashed: list[int] = []
    for number in range(1, _HEADER_SEARCH + 1):
        end = _line_end(text, start, len(text))
        line = text[start:min(end, start + _HEADER_MAX)].strip()  # a longer line is no header, nor copied
        if end - start <= _HEADER_MAX and _is_header(line):
            for at in hashed:
                parsed.problem(f"line {at}", "a hash before the CSV header: not read")
            if comments:
                shown = "; ".join(f"{at}: {said[:60]!r}" for at, said in comments[:3])
                parsed.notes.append(f"{len(comments)} line(s) before the CSV header (line {number}) read as "
                                    f"comments ({shown}{'; …' if len(comments) > 3 else ''})")
            return start, number - 1, sep
        if number == 1 and (excel := _EXCEL_SEP.fullmatch(line)):
            sep = excel[1]
        elif HASH_LIKE.search(text, start, end):
            hashed.append(number)
        elif line:
            comments.append((number, line))
        if end >= len(text):
            break
        start = end
    return 0, 0, None


class _Lines:
    """The text's lines from `start` to `stop`, one slice at a time (the text is never copied whole, so a huge
    line costs its size once more, not a copy of the file), and where the lines of the row being read start."""

    def __init__(self, text: str, start: int = 0, stop: int | None = None) -> None:
        self.text, self.end, self.stop = text, start, len(text) if stop is None else stop
        self.row: list[int] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        start = self.end
        if start >= self.stop:
            raise StopIteration
        self.end = _line_end(self.text, start, self.stop)
        self.row.append(start)
        return self.text[start:self.end]


def _csv_rows(text: str, dialect: type[csv.Dialect] | csv.Dialect, start: int = 0,
              base: int = 0) -> Iterator[tuple[int, list[str] | str]]:
    """(line, row) pairs from offset `start` (line `base` + 1); a row the csv module cannot read comes as
    (line, message) and reading goes on.

    A stray quote would swallow the lines after it into one field, hiding their hashes: when it is never
    closed, or when the lines it swallows hold hashes, its line is reported and reading starts again on
    the next line.
    """
    lines = _Lines(text, start)
    for _ in range(MAX_RUNAWAY_QUOTES + 1):
        reader = csv.reader(lines, dialect, strict=True)
        last = 0
        while True:
            first = base + last + 1
            lines.row.clear()
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
                try:
                    yield from ((end, lenient) for lenient in
                                csv.reader(_Lines(text, lines.row[0], lines.end), dialect))
                except csv.Error as lenient_error:
                    yield end, str(lenient_error)
                last = reader.line_num
                continue
            last = reader.line_num
            if len(lines.row) > 1 and HASH_LIKE.search(text, lines.row[1], lines.end):
                problem = f"a quote opened on this line runs to line {base + last}, over lines that hold hashes"
                break
            yield base + last, row
        yield first, f"{problem}; the line is skipped and the next ones are read on their own"
        base = first
        if len(lines.row) > 1:  # on from the line after the quote's
            lines.end = lines.row[1]
    raise HashListError(f"more than {MAX_RUNAWAY_QUOTES} quotes run over several lines: the file is not CSV "
                        "(try --format text)")


def read(name: str, text: str, scheme: str | None, signal: str | None) -> ParsedList:
    parsed = ParsedList(format=NAME, entries=[])
    start, base, sep = _before_header(text, parsed)
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    if sep is not None:
        class Excel(csv.excel):
            delimiter = sep or ","
        dialect = Excel
    else:
        with contextlib.suppress(csv.Error):  # the csv module's default then
            sample = text[start:start + 4096]
            dialect = csv.Sniffer().sniff(_LINE_BREAK.sub("\n", sample), delimiters=",;\t")
    rows = _csv_rows(text, dialect, start, base)
    header: list[str] | None = None
    for number, row in rows:
        if isinstance(row, str):
            raise HashListError(f"line {number}: the CSV header cannot be read: {row}")
        if any(cell.strip() for cell in row):
            header = row
            break
    if header is None:
        raise HashListError("the CSV file is empty")
    columns = [_FIELDS.get(field_key(h)) for h in header]
    if not any(c in _HASH_COLUMNS for c in columns):
        raise HashListError(
            f"the CSV header {header!r} names no hash column ({spoken_list(list(_HASH_COLUMNS))})"
        )
    first: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        if column is not None and first.setdefault(column, index) != index:  # one of two values would be lost
            raise HashListError(f"the CSV header names {column} twice (columns {first[column]} and {index}): "
                                "keep one column for each field")
    hashes_aside: dict[str, list[int]] = {}  # a column Vigie does not match on -> lines where it holds a hash
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
                    if HASH_LIKE.fullmatch(value):
                        hashes_aside.setdefault(title, []).append(number)
                continue
            if not value or value.lower() in _NO_VALUE:
                continue
            if column == "photodna" or (column in _NOT_HASHES and HASH_LIKE.fullmatch(value)):
                hashes_aside.setdefault(title, []).append(number)
            if column == "pdq_quality" and parse_quality(value) is None:
                odd_qualities.append(number)
                entry.extra[title] = value
                continue
            _set_field(entry, column, value, signal, bad)
        kept = has_hash(entry)
        if bad:  # a bad cell loses its value only: the line's valid hashes are kept, the line not skipped
            parsed.problem(f"line {number}", "; ".join(bad) + (
                f"; {'that cell' if len(bad) == 1 else 'those cells'} not read, the line's other values kept"
                if kept else ""), skipped=not kept)
        if not kept:
            if not bad:
                parsed.problem(f"line {number}", "no hash on this line")
            continue
        entry.category_scheme = category_scheme(entry.category, scheme or entry.category_scheme)
        parsed.entries.append(entry)
    if odd_qualities:
        shown = ", ".join(map(str, odd_qualities[:10])) + (", …" if len(odd_qualities) > 10 else "")
        parsed.notes.append(f"{len(odd_qualities)} line(s) give a PDQ quality that is not a whole number from 0 to "
                            f"100 (line {shown}): their hashes are kept, matched, and the value kept as given")
    for title, numbers in hashes_aside.items():
        shown = ", ".join(map(str, numbers[:10])) + (", …" if len(numbers) > 10 else "")
        what = ("hashes Vigie does not compute" if _FIELDS.get(field_key(title)) == "photodna" else
                f"values that look like {SIGNAL_LABELS} hashes in a column Vigie does not read as one (a hash "
                "column is named md5, sha1, sha256, pdq or hash)")
        parsed.notes.append(f"column {title}: {what}, not matched: {len(numbers)} line(s) (line {shown})")
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
