"""The case store in PostgreSQL (the `cluster` extra: psycopg 3 and its pool): the SQLite store's own methods
and SQL, run on a PostgreSQL connection that rewrites SQLite's phrasing (`?`, `INSERT OR IGNORE`, `lastrowid`,
...). One schema per case; the audit log stays one chain under concurrent writers (an advisory lock)."""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import socket
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from vigie.config import CASE_CONFIG_NAME
from vigie.errors import VigieError
from vigie.records import AuditEntry, ItemRecord
from vigie.store.connection import POSTGRESQL, Connection, Cursor, Dialect
from vigie.store.locator import forget_local_folder, parse_store_url, shown_url, write_whole
from vigie.store.pg_schema import ID_TABLES, MIGRATIONS, SCHEMA_VERSION
from vigie.store.sqlite import CaseNotFoundError, SqliteCaseStore, first_finished_copy, now_iso

# The local folder's record of which case it was filled for: a case made again under the same name starts over.
_FOLDER_STAMP = ".vigie-store"
_POOL_SIZE = 8


class _Row(tuple[Any, ...]):
    """A row read by position or by column name, as sqlite3.Row."""

    names: dict[str, int] = {}  # noqa: RUF012 (set on each row class)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self.names[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        return list(self.names)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[_Row]:
    return type("Row", (_Row,), {"names": {name: i for i, name in enumerate(names)}})


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], _Row]:
    row_class = _row_class(tuple(column.name for column in cursor.description or ()))
    return row_class


_INSERT = re.compile(r"\s*INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+(\w+)", re.IGNORECASE)
_REWRITES = (
    (re.compile(r"\bBEGIN IMMEDIATE\b"), "BEGIN"),
    (re.compile(r"\binstr\("), "strpos("),
    (re.compile(r"\bCAST\(([\w.]+) AS BLOB\)"), r"convert_to(\1, 'UTF8')"),
    (re.compile(r"\btemp\."), "pg_temp."),
    (re.compile(r"\bINSERT OR IGNORE INTO\b"), "INSERT INTO"),
)


@lru_cache(maxsize=2048)
def translate(statement: str, returning: bool) -> tuple[str, bool]:
    """SQLite's phrasing as PostgreSQL's: (the statement, whether it returns the new row's id)."""
    ignore = "INSERT OR IGNORE" in statement
    parts = re.split(r"('(?:[^']|'')*')", statement)  # string literals stay as they are, bar psycopg's %
    for i, part in enumerate(parts):
        part = part.replace("%", "%%")
        if i % 2 == 0:
            part = part.replace("?", "%s")
            for pattern, replacement in _REWRITES:
                part = pattern.sub(replacement, part)
        parts[i] = part
    text = "".join(parts).rstrip().rstrip(";")
    if ignore:
        text += " ON CONFLICT DO NOTHING"
    insert = _INSERT.match(statement)
    returns_id = returning and insert is not None and insert.group(1) in ID_TABLES and "VALUES" in statement
    if returns_id:
        text += " RETURNING id"
    return text, returns_id


class PgCursor:
    def __init__(self, cursor: psycopg.Cursor[Any], returns_id: bool, ran: bool = True) -> None:
        self.cursor = cursor
        self.returns_id = returns_id
        self.ran = ran  # False: an executemany of no rows, which changed none
        self._id: int | None = None

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount if self.ran else 0

    @property
    def lastrowid(self) -> int | None:
        if self.returns_id and self._id is None:
            row = self.cursor.fetchone()
            self._id = None if row is None else int(row[0])
        return self._id

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self.cursor.fetchall()

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        return self.cursor.fetchmany(size or 1)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.cursor)


def _values(parameters: Iterable[Any]) -> tuple[Any, ...]:
    """PostgreSQL's text holds no NUL character (SQLite's does): one read from evidence metadata is kept as the
    four characters `\\x00` rather than failing the write."""
    return tuple(v.replace("\x00", "\\x00") if isinstance(v, str) and "\x00" in v else v for v in parameters)


class PgConnection:
    """A psycopg connection (autocommit: a statement outside BEGIN commits alone) that takes the store's SQL."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, statement: str, parameters: Any = (), /) -> Cursor:
        text, returns_id = translate(statement, True)
        return PgCursor(self.raw.execute(text, _values(parameters)), returns_id)

    def executemany(self, statement: str, parameters: Iterable[Any], /) -> Cursor:
        text, _ = translate(statement, False)
        cursor = self.raw.cursor()
        rows = [_values(p) for p in parameters]
        if rows:  # nothing to send: no round trip (an item's errors, frames, faces... are mostly none)
            cursor.executemany(text, rows)
        return PgCursor(cursor, False, ran=bool(rows))

    def close(self) -> None:
        self.raw.close()


@lru_cache(maxsize=8)
def _pool(conninfo: str) -> ConnectionPool[Any]:
    """One pool per server in a process: each store (a command, a console request) borrows a connection."""
    return ConnectionPool(conninfo, min_size=1, max_size=_POOL_SIZE, open=True,
                          kwargs={"autocommit": True, "row_factory": _row_factory})


def lock_key(purpose: str, case: str) -> int:
    """An advisory lock's key (a signed 64-bit number) for one purpose in one case."""
    return int.from_bytes(hashlib.sha256(f"vigie:{purpose}:{case}".encode()).digest()[:8], "big", signed=True)


def _use_case(raw: psycopg.Connection[Any], case: str) -> None:
    raw.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(case)))


class PostgresCaseStore(SqliteCaseStore):
    dialect: Dialect = POSTGRESQL
    database_errors: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)

    def __init__(self, url: str, case_dir: Path, create: bool = True, local_folder: bool = True) -> None:
        self.url = url
        self.conninfo, self.case_name = parse_store_url(url)
        self.case_dir = Path(case_dir)
        self.read_only = False  # the database says who may write
        self.unrecorded: list[AuditEntry] | None = None
        self._pool = _pool(self.conninfo)
        self._raw = self._pool.getconn()
        try:
            _use_case(self._raw, self.case_name)
            self.db = PgConnection(self._raw)
            exists = self.db.execute("SELECT 1 FROM pg_namespace WHERE nspname = ?", (self.case_name,)).fetchone()
            if exists is None and not create:
                forget_local_folder(self.case_dir)
                raise CaseNotFoundError(f"no case {self.case_name!r} in {shown_url(self.conninfo)}")
            self._migrate()
        except BaseException:
            self._pool.putconn(self._raw)
            raise
        if local_folder:
            self._stamp_folder()

    def _version(self) -> int | None:
        """The case's schema version; None before its schema is made."""
        if self.db.execute("SELECT to_regclass('schema_version')").fetchone()[0] is None:
            return None
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        return None if row is None else int(row[0])

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:  # the usual open: no lock, and no right to create needed
            return
        # One transaction (PostgreSQL's DDL is transactional), under a lock: two processes opening a new case
        # at once run each migration once.
        created = False
        with self.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (lock_key("migrate", self.case_name),))
            self._raw.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.case_name)))
            self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self.db.execute("SELECT version FROM schema_version").fetchone()
            version = 0 if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"case schema version {version} is newer than this Vigie supports "
                                   f"({SCHEMA_VERSION}); upgrade Vigie")
            for script in MIGRATIONS[version:]:
                self._raw.execute(script)
            if row is None:
                self.db.execute("INSERT INTO schema_version(version) VALUES (?)", (SCHEMA_VERSION,))
                created = True
            elif version < SCHEMA_VERSION:
                self.db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            if created:
                self.set_meta("created_at", now_iso())

    def _stamp_folder(self) -> None:
        """The local folder holds only what is rebuilt from the store: emptied when it was filled for another
        case of the same name (one dropped and made again)."""
        stamp = f"{self.case_name} {self.get_meta('created_at')}\n"
        self.case_dir.mkdir(parents=True, exist_ok=True)
        marker = self.case_dir / _FOLDER_STAMP
        found = marker.read_text() if marker.exists() else None
        if found == stamp:
            return
        if found is not None:
            for path in self.case_dir.iterdir():
                if path.name != CASE_CONFIG_NAME:
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        write_whole(marker, stamp)

    def close(self) -> None:
        if self._running_scan is not None:  # a scan not finished (the next one says so): its lock goes with the
            with contextlib.suppress(psycopg.Error):  # store, not with the connection the pool keeps
                self.db.execute("SELECT pg_advisory_unlock(?)", (self._running_scan[1],))
        self._pool.putconn(self._raw)

    def _hold_scan(self, scan_id: int) -> None:
        """A session-level advisory lock: released when the scan's connection ends, from whatever machine."""
        key = lock_key(f"scan-{scan_id}", self.case_name)
        self.db.execute("SELECT pg_advisory_lock(?)", (key,))
        self._running_scan = (scan_id, key)

    def _let_go_of_scan(self, scan_id: int) -> None:
        if self._running_scan is None or self._running_scan[0] != scan_id:
            return
        key = self._running_scan[1]
        self._running_scan = None
        self.db.execute("SELECT pg_advisory_unlock(?)", (key,))

    def _scan_gone(self, scan_id: int) -> bool:
        key = lock_key(f"scan-{scan_id}", self.case_name)
        if not self.db.execute("SELECT pg_try_advisory_lock(?)", (key,)).fetchone()[0]:
            return False
        self.db.execute("SELECT pg_advisory_unlock(?)", (key,))
        return True

    @contextmanager
    def exclusive(self, purpose: str) -> Iterator[None]:
        """Held by one connection to the case at a time, from any machine (a session-level advisory lock, released
        if the connection is lost)."""
        key = lock_key(purpose, self.case_name)
        self.db.execute("SELECT pg_advisory_lock(?)", (key,))
        try:
            yield
        finally:
            self.db.execute("SELECT pg_advisory_unlock(?)", (key,))

    def discard(self) -> None:
        self._raw.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.case_name)))
        self.close()
        forget_local_folder(self.case_dir)

    def wait_for_writers(self) -> None:
        # The audit lock every writer takes: held to the transaction's end; each later statement (read committed)
        # then sees what the writers before it committed.
        self.db.execute("SELECT pg_advisory_xact_lock(?)", (lock_key("audit", self.case_name),))

    def append_audit(self, actor: str, action: str, details: dict[str, Any]) -> AuditEntry:
        # Every writer takes the case's audit lock before reading the head: one chain, in order. The lock is held
        # until the caller's transaction ends (a decision and its entry commit together).
        with self.transaction():
            self.wait_for_writers()
            return super().append_audit(actor, action, details)

    def copy_finder(self, scans: tuple[int, ...], unfinished_stages: tuple[str, ...], too_large_note: str
                    ) -> Callable[[str], int | None]:
        return partial(first_finished_copy, partial(_worker_connection, self.conninfo, self.case_name), scans,
                       unfinished_stages, too_large_note)

    def item_writer(self, scan_id: int) -> Callable[[int, list[ItemRecord]], int] | None:
        return partial(write_items, self.url, self.case_dir, scan_id)

    def table_names(self) -> list[str]:
        rows = self.db.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                               "AND table_name <> 'schema_version'", (self.case_name,))
        return [r[0] for r in rows]

    def renumber_after_copy(self) -> None:
        """Rows were copied in with their ids: each identity goes on from the highest."""
        for table in sorted(ID_TABLES):
            self.db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, "
                            f"false) FROM {table}")

    def reclaim_space(self) -> None:
        """Rewrite the tables the purged faces were in, so their pages are gone (VACUUM FULL)."""
        self.db.execute("VACUUM FULL faces")
        self.db.execute("VACUUM FULL persons")


@lru_cache(maxsize=2)
def _worker_connection(conninfo: str, case: str, pid: int) -> Connection:
    """One connection per worker process, as SQLite's read-only one."""
    raw = psycopg.connect(conninfo, autocommit=True, row_factory=_row_factory)
    _use_case(raw, case)
    return PgConnection(raw)


def write_items(url: str, case_dir: Path, scan_id: int, source_id: int, records: list[ItemRecord]) -> int:
    """A scan worker's write of a unit's records (in one transaction: a worker lost mid-write leaves none of
    them, and its files are run again); how many items it added. The store is opened for the unit and closed
    after it: its connection goes back to the worker process's pool, which keeps it open for the next unit (a
    long-lived worker serving many cases holds no connection between them)."""
    try:
        store = PostgresCaseStore(url, case_dir, create=False, local_folder=False)
        try:
            return len(store.add_items(source_id, scan_id, records))
        finally:
            store.close()
    except psycopg.OperationalError as exc:  # a node that cannot reach the database: a set-up error
        raise VigieError(f"a scan worker on {socket.gethostname()} cannot write to the case's PostgreSQL "
                         f"({shown_url(url)}): {exc}") from None


def open_postgres_case(url: str, case_dir: Path, create: bool = False) -> PostgresCaseStore:
    return PostgresCaseStore(url, case_dir, create=create)
