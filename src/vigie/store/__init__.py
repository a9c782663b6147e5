"""The case store: one SQLite file per case behind the `CaseStore` interface, and its audit log."""

from vigie.records import HashListRow, ListEntry, MatchRow, PdqRows, SourceRow
from vigie.store.base import CaseStore
from vigie.store.sqlite import CaseNotFoundError, SqliteCaseStore, open_case

__all__ = [
    "CaseNotFoundError",
    "CaseStore",
    "HashListRow",
    "ListEntry",
    "MatchRow",
    "PdqRows",
    "SourceRow",
    "SqliteCaseStore",
    "open_case",
]
