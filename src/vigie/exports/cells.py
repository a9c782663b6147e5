"""CSV that a spreadsheet opens as data: a text cell that a spreadsheet would run as a formula (it starts with
=, +, -, @, a tab or a carriage return) gets a leading apostrophe. Hashes are hexadecimal digits, so no hash is
ever changed; numbers stay numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv_rows(out: TextIO, columns: list[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Every CSV Vigie writes goes through here."""
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows({name: csv_cell(value) for name, value in row.items()} for row in rows)
