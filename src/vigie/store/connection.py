"""What the store's SQL runs on: a connection shaped like `sqlite3.Connection` (SQLite's own, or PostgreSQL's
through `store/postgres.py`, which rewrites the SQL), and the few phrases that differ between the two and cannot
be rewritten mechanically (full-text search, reading JSON inside a column)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int | None = ...) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """Rows are read by position or by column name; `?` marks parameters; statements outside `BEGIN` commit
    on their own."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Dialect:
    # A condition on `item_search s` with one parameter, `search_term(text)`: the text found in a path or metadata.
    search_match: str
    search_term: Callable[[str], str]
    # A condition on `audit_log a` with one parameter, an item id: the entry's details list it in `items`.
    names_item: str


def _fts_phrase(text: str) -> str:
    """User text as one FTS5 phrase, so quotes and operators in it are taken literally."""
    return '"' + text.replace('"', '""') + '"'


SQLITE = Dialect(
    search_match="item_search MATCH ?",
    search_term=_fts_phrase,
    names_item="json_valid(a.details) AND EXISTS (SELECT 1 FROM json_each(a.details, '$.items') WHERE value = ?)",
)
POSTGRESQL = Dialect(
    # chr(1) between the columns: a phrase never spans the path and the metadata
    search_match="strpos(lower(s.path || chr(1) || s.metadata), ?) > 0",
    search_term=str.lower,  # FTS5's trigram tokenizer, as SQLite cases use it, ignores case too
    names_item="audit_names_item(a.details, ?)",
)
