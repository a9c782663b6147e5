"""The case store: one SQLite file per case, and its audit log. Its consumers type it by the small role each
uses (`ScanStore`, `MatchStore`, `StackStore`, `FaceStore`, `ReviewStore`, `AccountStore`, `ReportStore`), each
defined in the consumer's own package."""

from vigie.records import HashListRow, ListEntry, MatchRow, PdqRows, SourceRow
from vigie.store.sqlite import CaseNotFoundError, SqliteCaseStore, open_case

__all__ = [
    "CaseNotFoundError",
    "HashListRow",
    "ListEntry",
    "MatchRow",
    "PdqRows",
    "SourceRow",
    "SqliteCaseStore",
    "open_case",
]
