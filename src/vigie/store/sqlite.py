"""The case store as one SQLite file (WAL), which a user can open with any SQLite tool."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache, partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vigie.errors import VigieError
from vigie.records import (
    AuditEntry,
    Face,
    Finding,
    HashListRow,
    ItemRecord,
    ListEntry,
    MatchRow,
    PdqRows,
    SourceRow,
    ai_block,
)
from vigie.signals.registry import DIGESTS, SIGNALS
from vigie.sources.base import archive_depth, join_path, legacy_relpath, shown_os_path
from vigie.sources.mediatype import frame_name
from vigie.store.connection import SQLITE, Connection, Dialect
from vigie.store.locator import case_store_url, is_store_url, local_case_folder
from vigie.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from vigie.store.audit import AuditCheck
    from vigie.store.review import ReviewTables

CASE_DB_NAME = "case.sqlite"
GENESIS_HASH = "0" * 64
# The chained entry that switches a log to rule 2 (exact stored text) for itself and every later entry.
AUDIT_RULE_ACTION = "audit-rule"
AUDIT_RULE_TAG = "vigie-audit/2"
PERSONS_ISSUED = "persons_issued_through"  # the highest person id ever given: none is given twice
# The signals matched by equality, as an SQL list: each has a column of its name in items and list_entries
_EXACT_SIGNALS = tuple(s.name for s in SIGNALS.values() if s.exact)
_EXACT_IN = "(" + ", ".join(f"'{name}'" for name in _EXACT_SIGNALS) + ")"
_ENTRY_COLUMNS = ("list_id", "line", *_EXACT_SIGNALS, "pdq", "pdq_quality", "photodna", "category_scheme", "category",
                  "label", "series", "victim_identified", "extra", "untyped")
_ITEM_COLUMNS = ("source_id", "relpath", "archive_depth", "scan_id", "size", "mtime", "ctime", "atime",
                 *(s.name for s in DIGESTS), "media_type", "width", "height", "exif", "pdq", "pdq_quality",
                 "pdq_variants", "duration", "codec", "frame_rate", "ai_verdict", "deleted", "inode", "stored_hashes",
                 "ai_score")
# Errors about where a file sits, not what its content is, and what a copy says itself (the pictures its metadata
# hides, at its own path): never copied to another file with the same content.
_LOCATION_STAGES = ("read", "link", "archive-name", "archive", "archive-stopped", "archive-limit", "exif-thumbnail",
                    "hidden-picture")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def audit_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, details: dict[str, Any]) -> str:
    """Rule 1 (entries before the case's `audit-rule` entry): a compact re-serialisation of the details."""
    body = json.dumps(
        {"seq": seq, "at": at, "actor": actor, "action": action, "details": details},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def audit_hash_exact(prev_hash: str, seq: int, at: str, actor: str, action: str, details: bytes) -> str:
    """Rule 2: the details exactly as stored (their UTF-8 bytes), so no edit of the stored text passes."""
    head = json.dumps([AUDIT_RULE_TAG, seq, at, actor, action], ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{head}\n".encode() + details).hexdigest()


class CaseNotFoundError(VigieError):
    pass


class NotACaseError(Exception):
    """A case folder's database file that no Vigie wrote: emptied, truncated to nothing, or another program's."""


class CaseReadOnlyError(Exception):
    """A write (an audit entry) asked of a case opened read-only."""


# Set to 1 to open every case read-only, as from a read-only mount (also how tests run as root check it).
READ_ONLY_ENV = "VIGIE_READ_ONLY"
# Tables derived from the evidence, rebuilt on demand: a read-only case gets empty private copies of them.
_DERIVED_TABLES = ("meta", "review_queue", "item_search", "review_dirty")


class SqliteCaseStore:
    dialect: Dialect = SQLITE
    # what a failed read or write raises, for callers that must fail closed on it
    database_errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    db: Connection

    def __init__(self, case_dir: Path, create: bool = True, read_only: bool | None = None) -> None:
        self.case_dir = Path(case_dir)
        db_path = self.case_dir / CASE_DB_NAME
        if not db_path.exists():
            if not create:
                raise CaseNotFoundError(f"no case at {self.case_dir} (expected {db_path})")
            self.case_dir.mkdir(parents=True, exist_ok=True)
        if read_only is None:
            read_only = os.environ.get(READ_ONLY_ENV) == "1" or not (
                os.access(self.case_dir, os.W_OK) and (not db_path.exists() or os.access(db_path, os.W_OK)))
        self.read_only = read_only
        # In a read-only case, audit entries that could not be written; None: refuse them (CaseReadOnlyError).
        self.unrecorded: list[AuditEntry] | None = None
        if read_only:
            db = _connect_read_only(db_path)
        else:
            db = sqlite3.connect(db_path, timeout=60, isolation_level=None)
            if not create and db.execute("PRAGMA user_version").fetchone()[0] == 0:
                db.close()  # a case file emptied or replaced is said, never quietly made a new, empty case
                raise NotACaseError(f"{db_path} is not a Vigie case (an empty or foreign database); it was left "
                                    "as it is")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.row_factory = sqlite3.Row
        self.db = db
        if read_only:
            self._shadow_derived_tables()  # foreign keys stay off: the TEMP copies' keys name TEMP tables
        else:
            db.execute("PRAGMA foreign_keys=ON")
            # migration 8 rewrites relpaths stored before names were escaped
            db.create_function("vigie_legacy_relpath", 1, legacy_relpath, deterministic=True)
            self._migrate()

    # --- plumbing -------------------------------------------------------------------------------

    def _migrate(self) -> None:
        # Each step re-reads the version under the write lock: two processes opening a new case at once
        # must not both run a migration.
        created = False
        while True:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise RuntimeError(f"case schema version {version} is newer than this Vigie supports "
                                       f"({SCHEMA_VERSION}); upgrade Vigie")
                if version == SCHEMA_VERSION:
                    self.db.execute("COMMIT")
                    break
                for statement in _split_sql(MIGRATIONS[version]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {version + 1}")
                self.db.execute("COMMIT")
                created = created or version == 0
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        if created:
            self.set_meta("created_at", now_iso())

    def _shadow_derived_tables(self) -> None:
        """Give the derived tables empty TEMP copies, which SQLite reads and writes before the main ones, so
        that the queue and search index can be rebuilt in memory and the case file is never written."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise CaseReadOnlyError(
                f"the case has schema version {version} and this Vigie reads {SCHEMA_VERSION}; its folder is "
                "read-only, so it cannot be upgraded: copy the case folder to a writable place first"
            )
        for name in _DERIVED_TABLES:
            sql = self.db.execute("SELECT sql FROM main.sqlite_master WHERE name = ?", (name,)).fetchone()[0]
            self.db.execute(sql.replace("CREATE TABLE ", "CREATE TEMP TABLE ", 1)
                            .replace("CREATE VIRTUAL TABLE ", "CREATE VIRTUAL TABLE temp.", 1))
        self.db.execute("INSERT INTO temp.meta SELECT * FROM main.meta WHERE key != 'review_queue_built_for'")

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    @contextlib.contextmanager
    def exclusive(self, purpose: str) -> Iterator[None]:
        """Held by one process of this machine at a time (matching and stacking: two scans of one case would each
        bring the stacks up to date unaware of the other). A lock file beside the case, released if the process
        dies."""
        try:
            handle = open(self.case_dir / f".vigie-{purpose}.lock", "a")  # noqa: SIM115 (closed below)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise CaseReadOnlyError(f"the {purpose} lock cannot be written beside the case: {exc.strerror}") from exc
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def table_names(self) -> list[str]:
        """The case's tables (not FTS5's own beneath item_search), for `vigie case copy`."""
        rows = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
                               "AND name NOT LIKE 'item_search_%'")
        return [r[0] for r in rows]

    def renumber_after_copy(self) -> None:
        """Rows were copied in with their ids: SQLite numbers new rows on from the highest by itself."""

    def close(self) -> None:
        if self._running_scan is not None:  # a scan not finished: the next scan says it was interrupted
            self._running_scan[1].close()
        self.db.close()

    def discard(self) -> None:
        """Close and remove this case, made moments ago by a command that then failed (a case copy): the
        database's files, and its folder where nothing else is in it."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            (self.case_dir / f"{CASE_DB_NAME}{suffix}").unlink(missing_ok=True)
        remove_if_empty(self.case_dir)

    # --- case -----------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                        (key, value, value))

    # --- evidence -------------------------------------------------------------------------------

    def add_source(self, given: str, root: str, kind: str) -> int:
        # A root that is not UTF-8 is stored escaped for reading, and as raw bytes to be opened again.
        shown_root = shown_os_path(root)
        raw_root = None if shown_root == root else os.fsencode(root)
        row = self.db.execute("SELECT id, kind FROM sources WHERE root = ?", (shown_root,)).fetchone()
        if row:
            if kind == "disk-image" and row[1] != kind:  # scanned before as one file, without the `disk` extra
                self.db.execute("UPDATE sources SET kind = ? WHERE id = ?", (kind, row[0]))
            return int(row[0])
        cursor = self.db.execute(
            "INSERT INTO sources(given, root, root_raw, kind, added_at) VALUES (?, ?, ?, ?, ?)",
            (shown_os_path(given), shown_root, raw_root, kind, now_iso()),
        )
        return int(cursor.lastrowid or 0)

    def sources(self) -> list[SourceRow]:
        rows = self.db.execute("SELECT id, given, root, root_raw, kind FROM sources ORDER BY id")
        return [SourceRow(r["id"], r["given"], source_root(r["root"], r["root_raw"]), r["kind"]) for r in rows]

    def finished_files(self, source_id: int) -> dict[str, tuple[int | None, float | None]]:
        """relpath -> (size, mtime) as scanned, of the source's files already in the case. Members of an archive
        come back in one piece with their archive, so top-level paths suffice."""
        rows = self.db.execute("SELECT relpath, size, mtime FROM items WHERE source_id = ? AND archive_depth = 0",
                               (source_id,))
        return {r[0]: (r[1], r[2]) for r in rows}

    def note_changed(self, source_id: int, relpaths: Sequence[str], message: str) -> None:
        """Say on each file's item that it changed since it was scanned (once, however many scans see it)."""
        with self.transaction():
            self.db.executemany(
                """INSERT INTO item_errors(item_id, stage, message) SELECT i.id, 'changed', ? FROM items i
                   WHERE i.source_id = ? AND i.relpath = ? AND i.archive_depth = 0 AND NOT EXISTS
                   (SELECT 1 FROM item_errors e WHERE e.item_id = i.id AND e.stage = 'changed')""",
                [(message, source_id, relpath) for relpath in relpaths])

    # A running scan holds a lock that its process's end releases, however it ends: a scan left `running` whose
    # lock is free was killed (SIGKILL, a machine lost), and the next scan of the case says so.
    _running_scan: tuple[int, Any] | None = None  # this store's running scan, and the lock it holds

    def begin_scan(self, arguments: dict[str, Any]) -> int:
        with self.transaction():  # its lock is held before its row is seen: no scan takes it for a killed one
            cursor = self.db.execute(
                "INSERT INTO scans(started_at, status, arguments) VALUES (?, 'running', ?)",
                (now_iso(), json.dumps(arguments)),
            )
            scan_id = int(cursor.lastrowid or 0)
            self._hold_scan(scan_id)
        return scan_id

    def finish_scan(self, scan_id: int, status: str, counts: dict[str, Any]) -> None:
        self.db.execute("UPDATE scans SET finished_at = ?, status = ?, counts = ? WHERE id = ?",
                        (now_iso(), status, json.dumps(counts), scan_id))
        self._let_go_of_scan(scan_id)

    def notice_interrupted_scans(self, scan_id: int) -> list[tuple[int, str]]:
        """The scans other than `scan_id` left `running` by a process that is gone, marked `interrupted` now
        (their counts say when that was noticed, and by which scan): the id and arguments (JSON) of each."""
        running = list(self.db.execute("SELECT id, arguments FROM scans WHERE status = 'running' AND id <> ? "
                                       "ORDER BY id", (scan_id,)))
        noticed: list[tuple[int, str]] = []
        for earlier, arguments in running:
            if not self._scan_gone(int(earlier)):
                continue
            said = json.dumps({"noticed_interrupted_at": now_iso(), "noticed_by_scan": scan_id})
            cursor = self.db.execute("UPDATE scans SET status = 'interrupted', counts = ? WHERE id = ? "
                                     "AND status = 'running'", (said, earlier))
            if cursor.rowcount:  # not finished meanwhile, nor noticed by another scan
                noticed.append((int(earlier), str(arguments)))
        return noticed

    def _scan_lock(self, scan_id: int) -> Path:
        return self.case_dir / f".vigie-scan-{scan_id}.lock"

    def _hold_scan(self, scan_id: int) -> None:
        handle = open(self._scan_lock(scan_id), "a")  # noqa: SIM115 (closed when the scan ends, or the store)
        fcntl.flock(handle, fcntl.LOCK_EX)
        self._running_scan = (scan_id, handle)

    def _let_go_of_scan(self, scan_id: int) -> None:
        if self._running_scan is None or self._running_scan[0] != scan_id:
            return
        handle = self._running_scan[1]
        self._running_scan = None
        self._scan_lock(scan_id).unlink(missing_ok=True)
        handle.close()

    def _scan_gone(self, scan_id: int) -> bool:
        """Whether the process of a scan left `running` is gone: its lock is free (a scan from before these
        locks has none)."""
        with open(self._scan_lock(scan_id), "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self._scan_lock(scan_id).unlink(missing_ok=True)
            return True

    def scan_arguments(self) -> list[tuple[int, str]]:
        """(scan id, its arguments as stored: JSON text) of every scan, oldest first."""
        return [(r[0], r[1]) for r in self.db.execute("SELECT id, arguments FROM scans ORDER BY id")]

    def copy_finder(self, scans: tuple[int, ...], unfinished_stages: tuple[str, ...], too_large_note: str
                    ) -> Callable[[str], int | None]:
        """For scan workers, in other processes: the first copy of a SHA-256 among the items of `scans` whose
        analysis finished (no error of `unfinished_stages`, nor one naming `too_large_note`), read read-only."""
        # the case's creation time is part of the key: a case made again at the same path (a long-lived worker,
        # a test) is read afresh, never through a connection still open on the deleted one's file
        connect = partial(_worker_connection, str(self.case_dir / CASE_DB_NAME), self.get_meta("created_at"))
        return partial(first_finished_copy, connect, scans, unfinished_stages, too_large_note)

    def item_writer(self, scan_id: int) -> Callable[[int, list[ItemRecord]], int] | None:
        """A picklable function that workers on other machines call to store a unit's records of `scan_id`
        themselves, returning how many items it added; None: a SQLite case has one writer, the scan's process."""
        return None

    def add_items(self, source_id: int, scan_id: int, records: Sequence[ItemRecord]) -> list[int]:
        ids: list[int] = []
        # a disk image's files are its first "!/" members, yet files of their own (read, verified, resumed)
        kind = self.db.execute("SELECT kind FROM sources WHERE id = ?", (source_id,)).fetchone()
        levels = 1 if kind is not None and kind[0] == "disk-image" else 0
        with self.transaction():
            for record in records:
                cursor = self.db.execute(
                    f"""INSERT OR IGNORE INTO items({", ".join(_ITEM_COLUMNS)})
                        VALUES ({", ".join("?" * len(_ITEM_COLUMNS))})""",
                    (
                        source_id, record.relpath, max(0, archive_depth(record.relpath) - levels), scan_id,
                        record.size, record.mtime,
                        record.ctime, record.atime,
                        *(record.digests.get(s.name) for s in DIGESTS), record.media_type, record.width, record.height,
                        json.dumps(record.exif) if record.exif else None, record.pdq, record.pdq_quality,
                        b"".join(bytes.fromhex(h) for h in record.pdq_variants) or None,
                        record.duration, record.codec, record.frame_rate,
                        record.ai_verdict,
                        int(record.deleted), record.inode,
                        json.dumps(record.stored_hashes) if record.stored_hashes else None,
                        record.ai_score,
                    ),
                )
                if cursor.rowcount == 0:
                    continue
                item_id = int(cursor.lastrowid or 0)
                ids.append(item_id)
                self.db.executemany(
                    "INSERT INTO item_errors(item_id, stage, message) VALUES (?, ?, ?)",
                    [(item_id, stage, message) for stage, message in record.errors],
                )
                self.db.executemany(
                    """INSERT INTO video_frames(item_id, frame_number, timestamp, quality, pdq, pdq_variants)
                       VALUES (?, ?, ?, ?, ?, ?)""",
                    [(item_id, f.frame_number, f.timestamp, f.quality, f.pdq,
                      b"".join(bytes.fromhex(h) for h in f.variants)) for f in record.frames],
                )
                self._insert_faces(item_id, record.faces)
                self.db.executemany(
                    "INSERT INTO item_findings(item_id, kind, detail, value, strength) VALUES (?, ?, ?, ?, ?)",
                    [(item_id, f.kind, f.detail, json.dumps(f.value), f.strength) for f in record.findings],
                )
                self.db.executemany(
                    "INSERT INTO video_stills(item_id, frame_number, timestamp, jpeg) VALUES (?, ?, ?, ?)",
                    [(item_id, number, timestamp, jpeg) for number, timestamp, jpeg in record.stills],
                )
                if record.analysed_as is not None or record.analysed_as_path is not None:
                    self._copy_findings(source_id, record, item_id)
            # queued with the item, in its transaction: matching, stacking and the review queue take what is
            # queued, not an id range
            for queue in ("unmatched_items", "unstacked_items", "review_dirty"):
                self.db.executemany(f"INSERT INTO {queue}(item_id) VALUES (?)", ((i,) for i in ids))
        return ids

    def _copy_findings(self, source_id: int, record: ItemRecord, item_id: int) -> None:
        """A file whose SHA-256 was analysed before takes the first copy's findings, and names that copy."""
        first = record.analysed_as
        if first is None:  # an earlier file of the same batch, stored just before
            row = self.db.execute(
                "SELECT coalesce(analysed_as, id) FROM items WHERE source_id = ? AND relpath = ? AND sha256 = ?",
                (source_id, record.analysed_as_path, record.sha256)).fetchone()
            first = None if row is None else int(row[0])
        if first is None:
            self.db.execute("INSERT INTO item_errors(item_id, stage, message) VALUES (?, 'internal', ?)",
                            (item_id, "the first copy of this content was not found: its findings could not be "
                                      "copied; scan it again with a new case"))
            return
        one = "WHERE item_id = ? ORDER BY id"
        self.db.execute(
            """UPDATE items SET (width, height, exif, pdq, pdq_quality, pdq_variants, duration, codec, frame_rate,
                   ai_verdict, ai_score, analysed_as) = (SELECT width, height, exif, pdq, pdq_quality, pdq_variants,
                   duration, codec, frame_rate, ai_verdict, ai_score, id FROM items WHERE id = ?) WHERE id = ?""",
            (first, item_id))
        self.db.execute(  # the copy's own reading may have noted the same thing (a file too large to open)
            f"""INSERT INTO item_errors(item_id, stage, message) SELECT ?, e.stage, e.message FROM item_errors e
                WHERE e.item_id = ? AND e.stage NOT IN {_LOCATION_STAGES} AND NOT EXISTS (SELECT 1 FROM item_errors
                    o WHERE o.item_id = ? AND o.stage = e.stage AND o.message = e.message) ORDER BY e.id""",
            (item_id, first, item_id))
        self.db.execute(f"""INSERT INTO video_frames(item_id, frame_number, timestamp, quality, pdq, pdq_variants)
                            SELECT ?, frame_number, timestamp, quality, pdq, pdq_variants FROM video_frames {one}""",
                        (item_id, first))
        self.db.execute(f"""INSERT INTO faces(item_id, x, y, width, height, landmarks, embedding, score, detector, crop)
                            SELECT ?, x, y, width, height, landmarks, embedding, score, detector, crop FROM faces
                            {one}""", (item_id, first))
        self.db.execute(f"""INSERT INTO item_findings(item_id, kind, detail, value, strength)
                            SELECT ?, kind, detail, value, strength FROM item_findings {one}""", (item_id, first))
        self.db.execute(f"""INSERT INTO video_stills(item_id, frame_number, timestamp, jpeg)
                            SELECT ?, frame_number, timestamp, jpeg FROM video_stills {one}""", (item_id, first))

    def _insert_faces(self, item_id: int, faces: Sequence[Face]) -> None:
        self.db.executemany(
            """INSERT INTO faces(item_id, x, y, width, height, landmarks, embedding, score, detector, crop)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(item_id, *face.box, json.dumps(face.landmarks), face.embedding.astype(np.float32).tobytes(),
              face.score, face.detector, face.crop) for face in faces],
        )

    def add_faces(self, item_id: int, faces: Sequence[Face], error: str | None = None) -> None:
        """Faces found in an item after its scan (`vigie faces scan`), or why they could not be searched; they
        replace the item's purged faces (boxes whose embeddings `faces purge` removed)."""
        with self.transaction():
            self.db.execute("DELETE FROM faces WHERE item_id = ? AND embedding IS NULL AND crop IS NULL", (item_id,))
            self._insert_faces(item_id, faces)
            if error is not None:
                self.db.execute("INSERT INTO item_errors(item_id, stage, message) VALUES (?, 'faces', ?)",
                                (item_id, error))

    def any_faces(self) -> bool:
        return self.db.execute("SELECT 1 FROM faces LIMIT 1").fetchone() is not None

    def purged_faces(self) -> int:
        """Faces whose embedding `faces purge` removed: a search cannot see them."""
        return int(self.db.execute("SELECT count(*) FROM faces WHERE embedding IS NULL").fetchone()[0])

    def images_without_faces(self) -> list[tuple[int, str, str, str | None]]:
        """(item id, source root, relpath, SHA-256) of each image that holds no face (or only purged ones), for a
        faces scan."""
        roots = {s.id: s.root for s in self.sources()}
        rows = self.db.execute(
            """SELECT i.id, i.source_id, i.relpath, i.sha256 FROM items i WHERE i.media_type LIKE 'image/%'
               AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.item_id = i.id AND f.embedding IS NOT NULL)
               ORDER BY i.id"""
        ).fetchall()
        return [(r[0], roots[r[1]], r[2], r[3]) for r in rows]

    def item_ids(self, scan_id: int | None = None) -> list[int]:
        if scan_id is None:
            return [r[0] for r in self.db.execute("SELECT id FROM items ORDER BY id")]
        return [r[0] for r in self.db.execute("SELECT id FROM items WHERE scan_id = ? ORDER BY id", (scan_id,))]

    def top_level_items(self) -> Iterator[tuple[SourceRow, str, str | None]]:
        """(source, relpath, sha256) of every item that is a file of its own, for verification."""
        sources = {s.id: s for s in self.sources()}
        rows = self.db.execute(
            "SELECT source_id, relpath, sha256 FROM items WHERE archive_depth = 0 ORDER BY source_id, relpath"
        )
        for row in rows:
            yield sources[row[0]], row[1], row[2]

    def matched_image_locations(self) -> list[tuple[int, str, str, str | None]]:
        """(item id, source root, relpath, SHA-256 as scanned) of matched images, for report thumbnails."""
        roots = {s.id: s.root for s in self.sources()}
        rows = self.db.execute(
            """SELECT DISTINCT i.id, i.source_id, i.relpath, i.sha256 FROM items i JOIN matches m ON m.item_id = i.id
               WHERE i.media_type LIKE 'image/%' ORDER BY i.id"""
        )
        return [(r[0], roots[r[1]], r[2], r[3]) for r in rows]

    def matched_video_ids(self) -> list[int]:
        rows = self.db.execute(
            """SELECT DISTINCT i.id FROM items i JOIN matches m ON m.item_id = i.id
               WHERE i.codec IS NOT NULL ORDER BY i.id"""
        )
        return [r[0] for r in rows]


    # --- hash lists -----------------------------------------------------------------------------

    def add_hash_list(
        self, name: str, fmt: str, file_name: str, file_sha256: str, entries: Iterable[ListEntry], problems: list[str],
        notes: Sequence[str] = (), skipped: int = 0,
    ) -> int:
        with self.transaction():
            cursor = self.db.execute(
                """INSERT INTO hash_lists(name, format, file_name, file_sha256, imported_at, entry_count, problems,
                       notes, skipped) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)""",
                (name, fmt, file_name, file_sha256, now_iso(), json.dumps(problems), json.dumps(list(notes)),
                 skipped),
            )
            list_id = int(cursor.lastrowid or 0)
            count = 0
            batch: list[tuple[Any, ...]] = []
            for entry in entries:
                if entry.video_frames:
                    count += self._insert_video_entry(list_id, entry)
                    continue
                batch.append((
                    list_id, entry.line, *(entry.digests.get(name) for name in _EXACT_SIGNALS), entry.pdq,
                    entry.pdq_quality,
                    entry.photodna, entry.category_scheme, entry.category, entry.label, entry.series,
                    None if entry.victim_identified is None else int(entry.victim_identified),
                    json.dumps(entry.extra, ensure_ascii=False) if entry.extra else None, int(entry.untyped) or None,
                ))
                if len(batch) >= 10_000:
                    count += self._insert_entries(batch)
            count += self._insert_entries(batch)
            # problems may grow while entries are read (they are a generator's side effect)
            self.db.execute("UPDATE hash_lists SET entry_count = ?, problems = ? WHERE id = ?",
                            (count, json.dumps(problems), list_id))
        return list_id

    def _insert_video_entry(self, list_id: int, entry: ListEntry) -> int:
        cursor = self.db.execute(
            """INSERT INTO list_entries(list_id, line, category_scheme, category, label, series, extra)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (list_id, entry.line, entry.category_scheme, entry.category, entry.label, entry.series,
             json.dumps(entry.extra, ensure_ascii=False) if entry.extra else None),
        )
        entry_id = cursor.lastrowid
        self.db.executemany(
            "INSERT INTO list_video_frames(entry_id, frame_number, quality, pdq, timestamp) VALUES (?, ?, ?, ?, ?)",
            [(entry_id, *frame) for frame in entry.video_frames],
        )
        return 1

    def _insert_entries(self, batch: list[tuple[Any, ...]]) -> int:
        self.db.executemany(
            f"""INSERT INTO list_entries({", ".join(_ENTRY_COLUMNS)})
                VALUES ({", ".join("?" * len(_ENTRY_COLUMNS))})""",
            batch,
        )
        count = len(batch)
        batch.clear()
        return count

    def hash_lists(self) -> list[HashListRow]:
        rows = self.db.execute("SELECT * FROM hash_lists ORDER BY id")
        return [
            HashListRow(r["id"], r["name"], r["format"], r["file_name"], r["file_sha256"], r["imported_at"],
                        r["entry_count"], json.loads(r["problems"]), json.loads(r["notes"]), r["skipped"])
            for r in rows
        ]

    def list_pdq(self, list_id: int) -> PdqRows:
        rows = self.db.execute(
            "SELECT id, pdq FROM list_entries WHERE list_id = ? AND pdq IS NOT NULL ORDER BY id", (list_id,)
        ).fetchall()
        return PdqRows.from_hex(rows)

    # --- matching and stacks --------------------------------------------------------------------

    def item_pdq_variants(self, item_ids: Sequence[int] | None, min_quality: int) -> Iterator[tuple[int, bytes]]:
        rows = select_in(self.db, """SELECT id, pdq_variants FROM items WHERE pdq_variants IS NOT NULL
                                     AND pdq_quality >= ? AND {in} ORDER BY id""", "id", item_ids, min_quality)
        yield from ((r[0], r[1]) for r in rows)

    def match_exact(self, item_ids: Sequence[int] | None = None, list_id: int | None = None) -> int:
        """Add exact matches; returns how many (item, entry) pairs are new (MD5 and SHA-256 of one pair count once)."""
        with self.transaction():
            self.db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS exact_found(item_id INTEGER, entry_id INTEGER, signal TEXT)"
            )
            self.db.execute("DELETE FROM exact_found")
            if item_ids is not None:
                self.db.execute("CREATE TEMP TABLE IF NOT EXISTS match_scope(id INTEGER PRIMARY KEY)")
                self.db.execute("DELETE FROM match_scope")
                self.db.executemany("INSERT INTO match_scope(id) VALUES (?)", ((i,) for i in item_ids))
            # a scope of new items drives the join (SQLite keeps a CROSS JOIN's order): read from a big list
            # first, a +1% scan took longer than the whole list's import
            items = "items i" if item_ids is None else "match_scope s CROSS JOIN items i"
            for signal in _EXACT_SIGNALS:
                conditions = [f"i.{signal} IS NOT NULL"]
                params: list[Any] = []
                if item_ids is not None:
                    conditions.append("i.id = s.id")
                if list_id is not None:
                    conditions.append("e.list_id = ?")
                    params.append(list_id)
                self.db.execute(
                    f"""INSERT INTO exact_found(item_id, entry_id, signal)
                        SELECT i.id, e.id, '{signal}' FROM {items} JOIN list_entries e ON e.{signal} = i.{signal}
                        WHERE {" AND ".join(conditions)}""",
                    params,
                )
            new_pairs = self.db.execute(
                f"""SELECT count(*) FROM (SELECT DISTINCT item_id, entry_id FROM exact_found f WHERE NOT EXISTS
                       (SELECT 1 FROM matches m WHERE m.item_id = f.item_id AND m.entry_id = f.entry_id
                        AND m.signal IN {_EXACT_IN})) AS new_pairs"""
            ).fetchone()[0]
            self.db.execute("""INSERT OR IGNORE INTO matches(item_id, entry_id, signal, distance)
                               SELECT item_id, entry_id, signal, 0 FROM exact_found""")
        return int(new_pairs)

    def last_item_id(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0])

    def unmatched_item_ids(self) -> list[int]:
        """The committed items not yet matched against every list, ascending."""
        return [r[0] for r in self.db.execute("SELECT item_id FROM unmatched_items ORDER BY item_id")]

    def forget_unmatched(self, item_ids: Sequence[int]) -> None:
        self._dequeue("unmatched_items", item_ids)

    def _dequeue(self, queue: str, item_ids: Sequence[int]) -> None:
        with self.transaction():
            for chunk in chunks(item_ids):
                self.db.execute(f"DELETE FROM {queue} WHERE item_id IN ({','.join('?' * len(chunk or []))})", chunk)

    def matched_through(self) -> dict[int, int]:
        """list id -> the highest item id every item up to which has been matched against the list (0: none)."""
        rows = self.db.execute(
            """SELECT l.id, coalesce(s.matched_through, 0) FROM hash_lists l
               LEFT JOIN list_match_state s ON s.list_id = l.id"""
        )
        return {r[0]: r[1] for r in rows}

    def set_matched_through(self, list_ids: Sequence[int], item_id: int) -> None:
        with self.transaction():
            self.db.executemany(
                """INSERT INTO list_match_state(list_id, matched_through) VALUES (?, ?)
                   ON CONFLICT(list_id) DO UPDATE SET matched_through = excluded.matched_through""",
                ((list_id, item_id) for list_id in list_ids),
            )

    def add_matches(self, matches: Iterable[MatchRow]) -> int:
        with self.transaction():
            cursor = self.db.executemany(
                """INSERT OR IGNORE INTO matches(item_id, entry_id, signal, distance, variant, frame_number, timestamp,
                       detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                ((m.item_id, m.entry_id, m.signal, m.distance, m.variant, m.frame_number, m.timestamp,
                  json.dumps(m.detail) if m.detail else None) for m in matches),
            )
        return cursor.rowcount  # the rows inserted: an ignored pair counts none

    def item_video_frames(
        self, item_ids: Sequence[int] | None, min_quality: int
    ) -> dict[int, list[tuple[int, float, str, bytes]]]:
        """item id -> [(frame_number, timestamp, pdq, variants blob)] of frames of usable quality."""
        frames: dict[int, list[tuple[int, float, str, bytes]]] = {}
        for r in select_in(self.db, """SELECT item_id, frame_number, timestamp, pdq, pdq_variants FROM video_frames
                                       WHERE quality >= ? AND {in} ORDER BY item_id, frame_number""",
                           "item_id", item_ids, min_quality):
            frames.setdefault(r[0], []).append((r[1], r[2], r[3], r[4]))
        return frames

    def image_item_ids(self, item_ids: Sequence[int]) -> set[int]:
        """Those of `item_ids` that are images: their frames are later pages or frames, not a video's."""
        return {r[0] for r in select_in(self.db, "SELECT id FROM items WHERE media_type LIKE 'image/%' AND {in}",
                                        "id", item_ids)}

    def list_video_frames(
        self, list_ids: Sequence[int] | None, min_quality: int
    ) -> list[tuple[int, int | None, float | None, str]]:
        """[(entry id, frame_number, timestamp, pdq)] of the video hash lists' frames of usable quality."""
        rows = select_in(self.db, """SELECT f.entry_id, f.frame_number, f.timestamp, f.pdq FROM list_video_frames f
                                     JOIN list_entries e ON e.id = f.entry_id WHERE f.quality >= ? AND {in}
                                     ORDER BY f.id""", "e.list_id", list_ids, min_quality)
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def video_stills(self, item_id: int) -> list[tuple[int, float, bytes]]:
        rows = self.db.execute(
            "SELECT frame_number, timestamp, jpeg FROM video_stills WHERE item_id = ? ORDER BY frame_number",
            (item_id,),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def unstacked_item_ids(self) -> list[int]:
        """The committed items not yet stacked, ascending."""
        return [r[0] for r in self.db.execute("SELECT item_id FROM unstacked_items ORDER BY item_id")]

    def forget_unstacked(self, item_ids: Sequence[int]) -> None:
        self._dequeue("unstacked_items", item_ids)

    def item_pdq(self, item_ids: Sequence[int], min_quality: int) -> PdqRows:
        """PDQ hashes of the given items (ascending ids: so are the rows), for the case's item index."""
        rows = list(select_in(self.db, """SELECT id, pdq FROM items WHERE pdq IS NOT NULL AND pdq_quality >= ?
                                          AND {in} ORDER BY id""", "id", item_ids, min_quality))
        return PdqRows.from_hex(rows)

    def item_pdq_variant_batches(self, item_ids: Sequence[int] | None, min_quality: int
                                 ) -> Iterator[list[tuple[int, bytes]]]:
        """Batches of (item id, query hashes blob) of the given items (None: all)."""
        rows = self.item_pdq_variants(item_ids, min_quality)
        while batch := list(islice(rows, 4096)):
            yield batch

    def exact_duplicate_links(self, item_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(item, another item with the same bytes) for each of the given items that has a copy."""
        rows = select_in(self.db, """SELECT n.id, (SELECT min(o.id) FROM items o WHERE o.sha256 = n.sha256
                                                   AND o.size > 0 AND o.id <> n.id)
                                     FROM items n WHERE {in} AND n.sha256 IS NOT NULL AND n.size > 0
                                     ORDER BY n.id""",
                         "n.id", item_ids)
        return [(r[0], r[1]) for r in rows if r[1] is not None]

    def stack_members_of(self, item_ids: Sequence[int]) -> dict[int, list[int]]:
        """stack id -> every member, for the stacks that hold any of `item_ids`."""
        stack_ids = {r[0] for r in select_in(
            self.db, "SELECT DISTINCT stack_id FROM items WHERE {in} AND stack_id IS NOT NULL", "id", item_ids)}
        members: dict[int, list[int]] = {}
        for item_id, stack_id in select_in(self.db, "SELECT id, stack_id FROM items WHERE {in} ORDER BY id",
                                           "stack_id", sorted(stack_ids)):
            members.setdefault(stack_id, []).append(item_id)
        return members

    def stack_facts(self, item_ids: Sequence[int]) -> dict[int, tuple[int, int, str | None]]:
        """item id -> (pixels, size, sha256): what picks a stack's best copy."""
        rows = select_in(self.db, "SELECT id, coalesce(width * height, 0), coalesce(size, 0), sha256 FROM items "
                                  "WHERE {in}", "id", item_ids)
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def sha256s(self, item_ids: Sequence[int]) -> dict[int, str | None]:
        """item id -> SHA-256, for those of `item_ids` the case holds."""
        return {r[0]: r[1] for r in select_in(self.db, "SELECT id, sha256 FROM items WHERE {in}", "id", item_ids)}

    def save_stacks(self, stacks: Sequence[tuple[int, list[int], bool]]) -> None:
        """Write stacks (representative, members, exact only); a stack that takes in earlier stacks keeps the
        lowest of their ids and the others go. Members are marked for the review queue to pick up."""
        with self.transaction():
            for representative, members, exact_only in stacks:
                earlier = sorted(self.stack_members_of(members))
                if earlier:
                    stack_id = earlier[0]
                    self.db.execute("UPDATE stacks SET representative_id = ?, size = ?, exact_only = ? WHERE id = ?",
                                    (representative, len(members), int(exact_only), stack_id))
                    self.db.executemany("DELETE FROM stacks WHERE id = ?", ((other,) for other in earlier[1:]))
                else:
                    stack_id = int(self.db.execute(
                        "INSERT INTO stacks(representative_id, size, exact_only) VALUES (?, ?, ?)",
                        (representative, len(members), int(exact_only)),
                    ).lastrowid or 0)
                self.db.executemany("UPDATE items SET stack_id = ? WHERE id = ?", ((stack_id, m) for m in members))
                self.db.executemany("INSERT OR IGNORE INTO review_dirty(item_id) VALUES (?)", ((m,) for m in members))

    def clear_stacks(self) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO review_dirty(item_id) SELECT id FROM items WHERE stack_id IS NOT NULL")
            self.db.execute("UPDATE items SET stack_id = NULL WHERE stack_id IS NOT NULL")
            self.db.execute("DELETE FROM stacks")
            self.db.execute("INSERT OR IGNORE INTO unstacked_items(item_id) SELECT id FROM items")

    def stack_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM stacks").fetchone()[0])

    # --- faces and persons ----------------------------------------------------------------------

    def face_vectors(self, grouped: bool | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(face ids, item ids, embeddings (n, 128) float32) of every face that still has its embedding, by id;
        `grouped` narrows them to the faces in a person (True) or in none yet (False)."""
        person = {None: "", True: " AND person_id IS NOT NULL", False: " AND person_id IS NULL"}[grouped]
        rows = self.db.execute(
            f"SELECT id, item_id, embedding FROM faces WHERE embedding IS NOT NULL{person} ORDER BY id")
        data = rows.fetchall()
        ids = np.array([r[0] for r in data], dtype=np.int64)
        items = np.array([r[1] for r in data], dtype=np.int64)
        vectors = np.frombuffer(b"".join(r[2] for r in data), dtype=np.float32).reshape(-1, 128)
        return ids, items, vectors

    def face_sizes(self) -> dict[int, tuple[int, int | None]]:
        """face id -> (box area, person id)."""
        rows = self.db.execute("SELECT id, width * height, person_id FROM faces")
        return {r[0]: (r[1], r[2]) for r in rows}

    def named_persons(self) -> dict[int, str]:
        return {r[0]: r[1] for r in self.db.execute("SELECT id, name FROM persons WHERE name IS NOT NULL")}

    def grouped_face_ids(self) -> np.ndarray:
        """Ids of the faces in a person that still have their embedding, ascending."""
        rows = self.db.execute("SELECT id FROM faces WHERE embedding IS NOT NULL AND person_id IS NOT NULL ORDER BY id")
        return np.array([r[0] for r in rows], dtype=np.int64)

    def update_person_groups(self, groups: list[tuple[int | None, list[int], int]]) -> None:
        """groups: (person id to keep or None for a new one, face ids moved into it, representative face id);
        a person left without a face is removed."""
        with self.transaction():
            for person, faces, representative in groups:
                if person is None:
                    person = self._insert_person(representative)
                else:
                    self.db.execute(
                        "UPDATE persons SET representative_face_id = ? WHERE id = ?", (representative, person)
                    )
                self.db.executemany("UPDATE faces SET person_id = ? WHERE id = ?", ((person, f) for f in faces))
            self.db.execute(
                "DELETE FROM persons WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id = persons.id)")

    def name_person(self, person_id: int, name: str) -> bool:
        return self.db.execute("UPDATE persons SET name = ? WHERE id = ?", (name, person_id)).rowcount == 1

    def person_faces(self, person_id: int) -> list[int] | None:
        """The ids of a person's faces, ascending; None when the case has no such person."""
        if self.db.execute("SELECT 1 FROM persons WHERE id = ?", (person_id,)).fetchone() is None:
            return None
        return [r[0] for r in self.db.execute("SELECT id FROM faces WHERE person_id = ? ORDER BY id", (person_id,))]

    def placed_faces(self) -> set[int]:
        """Faces a reviewer placed (a split or a merge): a grouping never moves them."""
        return {r[0] for r in self.db.execute("SELECT id FROM faces WHERE placed = 1")}

    def merge_persons(self, keep: int, absorb: int) -> int:
        with self.transaction():
            moved = self.db.execute("UPDATE faces SET person_id = ? WHERE person_id = ?", (keep, absorb)).rowcount
            self.db.execute("UPDATE persons SET name = (SELECT name FROM persons WHERE id = ?)"
                            " WHERE id = ? AND name IS NULL", (absorb, keep))
            self.db.execute("DELETE FROM persons WHERE id = ?", (absorb,))
            self._place_person(keep)
        return moved

    def split_person(self, person_id: int, face_ids: Sequence[int]) -> int:
        """Move `face_ids` (faces of `person_id`) into a new person; returns its id."""
        with self.transaction():
            new = self._insert_person(None)
            self.db.executemany("UPDATE faces SET person_id = ? WHERE id = ? AND person_id = ?",
                                ((new, face, person_id) for face in face_ids))
            self._place_person(person_id)
            self._place_person(new)
        return new

    def _insert_person(self, representative: int | None) -> int:
        """A new person, under an id no person of the case ever had: a colleague's screen may still name a person
        merged away, and must not reach another through it (SQLite gives a deleted highest id again)."""
        highest = self.db.execute("SELECT coalesce(max(id), 0) FROM persons").fetchone()[0]
        person = max(int(self.get_meta(PERSONS_ISSUED) or 0), int(highest)) + 1
        self.db.execute("INSERT INTO persons(id, representative_face_id, created_at) VALUES (?, ?, ?)",
                        (person, representative, now_iso()))
        self.set_meta(PERSONS_ISSUED, str(person))
        return person

    def _place_person(self, person_id: int) -> None:
        """Pin a person's faces where a reviewer put them, and pick its representative again (its largest face)."""
        self.db.execute("UPDATE faces SET placed = 1 WHERE person_id = ?", (person_id,))
        self.db.execute("""UPDATE persons SET representative_face_id = (SELECT id FROM faces WHERE person_id = ?
                           ORDER BY width * height DESC, id LIMIT 1) WHERE id = ?""", (person_id, person_id))

    def persons(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            """SELECT p.id, p.name, p.representative_face_id, count(f.id), count(DISTINCT f.item_id)
               FROM persons p LEFT JOIN faces f ON f.person_id = p.id GROUP BY p.id ORDER BY count(f.id) DESC, p.id"""
        )
        return [{"id": r[0], "name": r[1], "representative_face": r[2], "faces": r[3], "items": r[4]} for r in rows]


    def face_crop(self, face_id: int) -> tuple[int, bytes | None] | None:
        """(item id, the face's stored JPEG crop, None once purged) of a face, None for no such face."""
        row = self.db.execute("SELECT item_id, crop FROM faces WHERE id = ?", (face_id,)).fetchone()
        return None if row is None else (row[0], row[1])

    def face_locations(self, face_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """face id -> path and box, for search results."""
        sources = {s.id: s for s in self.sources()}
        rows = select_in(self.db, """SELECT f.id, i.source_id, i.relpath, f.x, f.y, f.width, f.height, f.person_id,
                                         i.id FROM faces f JOIN items i ON i.id = f.item_id WHERE {in}""",
                         "f.id", face_ids)
        return {r[0]: {"path": join_path(sources[r[1]].given, r[2]), "box": [r[3], r[4], r[5], r[6]], "person": r[7],
                       "item_id": r[8]} for r in rows}

    def purge_faces(self) -> int:
        """Remove every face embedding and crop, and the persons built from them (`reclaim_space` after)."""
        with self.transaction():
            count = self.db.execute(
                "UPDATE faces SET embedding = NULL, crop = NULL, person_id = NULL, placed = 0"
                " WHERE embedding IS NOT NULL OR crop IS NOT NULL"
            ).rowcount
            self.db.execute("DELETE FROM persons")
        return count

    def reclaim_space(self) -> None:
        """Rewrite the file without its freed pages (outside any transaction)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")

    # --- reports --------------------------------------------------------------------------------

    def iter_report_items(self, item_ids: Sequence[int] | None = None) -> Iterator[dict[str, Any]]:
        """Every item with its matches, faces, findings and errors; `item_ids` narrows it to a few items."""
        sources = {s.id: s for s in self.sources()}
        marks = "" if item_ids is None else ",".join("?" * len(item_ids))
        scope = {"where": "" if item_ids is None else f" WHERE item_id IN ({marks})",
                 "and": "" if item_ids is None else f" AND m.item_id IN ({marks})"}
        params = list(item_ids or [])
        errors: dict[int, list[dict[str, str]]] = {}
        for row in self.db.execute(
            f"SELECT item_id, stage, message FROM item_errors{scope['where']} ORDER BY id", params
        ):
            errors.setdefault(row[0], []).append({"stage": row[1], "message": row[2]})
        matches: dict[int, list[dict[str, Any]]] = {}
        for row in self.db.execute(
            f"""SELECT m.item_id, l.name, m.signal, m.distance, m.variant, e.category_scheme, e.category, e.label,
                      e.series, e.id, m.frame_number, m.timestamp, m.detail, e.untyped FROM matches m
                      JOIN list_entries e ON e.id = m.entry_id
                      JOIN hash_lists l ON l.id = e.list_id WHERE TRUE{scope['and']}
                      ORDER BY m.item_id, m.distance, l.name, m.id""", params
        ):
            match = {
                "list": row[1], "signal": row[2], "distance": row[3], "variant": row[4],
                "category_scheme": row[5], "category": row[6], "label": row[7], "series": row[8],
                "entry_id": row[9],
            }
            if row[10] is not None:
                match |= {"frame_number": row[10], "timestamp": row[11]}
            if row[12]:
                match["detail"] = json.loads(row[12])
            if row[13]:  # the list did not say SHA-256 or PDQ: `signal` says which way it matched
                match["untyped_list_value"] = True
            matches.setdefault(row[0], []).append(match)
        frame_counts = dict(self.db.execute(
            f"SELECT item_id, count(*) FROM video_frames{scope['where']} GROUP BY item_id", params
        ).fetchall())
        faces: dict[int, list[dict[str, Any]]] = {}
        for r in self.db.execute(
            f"SELECT id, item_id, x, y, width, height, score, detector, person_id FROM faces{scope['where']}", params
        ):
            faces.setdefault(r[1], []).append({"id": r[0], "box": [r[2], r[3], r[4], r[5]], "score": r[6],
                                               "detector": r[7], "person": r[8]})
        findings: dict[int, list[Finding]] = {}
        for r in self.db.execute(
            f"SELECT item_id, kind, detail, value, strength FROM item_findings{scope['where']} ORDER BY id", params
        ):
            findings.setdefault(r[0], []).append(Finding(r[1], r[2], json.loads(r[3]), r[4]))
        where = "" if item_ids is None else f" WHERE id IN ({marks})"
        firsts = {r[0]: join_path(sources[r[1]].given, r[2]) for r in self.db.execute(
            f"SELECT id, source_id, relpath FROM items WHERE id IN (SELECT analysed_as FROM items{where})", params)}
        stacks = {r[0]: (r[1], r[2]) for r in self.db.execute(
            f"SELECT id, representative_id, size FROM stacks WHERE id IN (SELECT stack_id FROM items{where})", params)}
        for row in self.db.execute(f"SELECT * FROM items{where} ORDER BY source_id, relpath", params):
            source = sources[row["source_id"]]
            stack = stacks.get(row["stack_id"])
            yield {
                "id": row["id"],
                "path": join_path(source.given, row["relpath"]),
                "source": source.given,
                "relpath": row["relpath"],
                "size": row["size"],
                "mtime": _iso(row["mtime"]),
                "ctime": _iso(row["ctime"]),
                "atime": _iso(row["atime"]),
                **{s.name: row[s.name] for s in DIGESTS},
                "media_type": row["media_type"],
                "width": row["width"],
                "height": row["height"],
                "exif": json.loads(row["exif"]) if row["exif"] else {},
                "pdq": row["pdq"],
                "pdq_quality": row["pdq_quality"],
                "stack": None if stack is None else {
                    "id": row["stack_id"], "size": stack[1], "representative": stack[0] == row["id"]
                },
                "video": None if row["codec"] is None else {
                    "duration": row["duration"], "codec": row["codec"], "frame_rate": row["frame_rate"],
                    "frames_hashed": frame_counts.get(row["id"], 0),
                },
                "image_frames": _image_frames(row["media_type"], frame_counts.get(row["id"], 0)),
                "ai": None if row["ai_verdict"] is None else ai_block(row["ai_verdict"], findings.get(row["id"], []),
                                                                       row["media_type"]),
                # a copy of content analysed before: its findings are the first copy's
                "analysed_as": None if row["analysed_as"] is None else {
                    "id": row["analysed_as"], "path": firsts[row["analysed_as"]]},
                "faces": faces.get(row["id"], []),
                "matches": _name_image_frames(matches.get(row["id"], []), row["media_type"],
                                              frame_counts.get(row["id"], 0)),
                "errors": errors.get(row["id"], []),
                "deleted": bool(row["deleted"]),
                "inode": row["inode"],
                "stored_hashes": json.loads(row["stored_hashes"]) if row["stored_hashes"] else None,
            }

    def report_batches(self, size: int = 1000) -> Iterator[list[int]]:
        """Item ids in report order (source, path), a batch at a time: a report streams without the whole case
        in memory."""
        cursor = self.db.execute("SELECT id FROM items ORDER BY source_id, relpath")
        while batch := cursor.fetchmany(size):
            yield [r[0] for r in batch]

    def items_per_source(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT s.given, count(i.id) FROM sources s LEFT JOIN items i ON i.source_id = s.id GROUP BY s.id"
        )
        return {r[0]: r[1] for r in rows}

    def summary(self) -> dict[str, Any]:
        one = self.db.execute
        return {
            "items": one("SELECT count(*) FROM items").fetchone()[0],
            "images": one("SELECT count(*) FROM items WHERE media_type LIKE 'image/%'").fetchone()[0],
            "videos": one("SELECT count(*) FROM items WHERE media_type LIKE 'video/%'").fetchone()[0],
            "archives_members": one("SELECT count(*) FROM items WHERE archive_depth > 0").fetchone()[0],
            "items_with_errors": one("SELECT count(DISTINCT item_id) FROM item_errors").fetchone()[0],
            "matched_items": one("SELECT count(DISTINCT item_id) FROM matches").fetchone()[0],
            "exact_matched_items": one(
                f"SELECT count(DISTINCT item_id) FROM matches WHERE signal IN {_EXACT_IN}").fetchone()[0],
            "near_matched_items": one(
                f"""SELECT count(DISTINCT item_id) FROM matches WHERE signal NOT IN {_EXACT_IN} AND item_id NOT IN
                   (SELECT item_id FROM matches WHERE signal IN {_EXACT_IN})""").fetchone()[0],
            "stacks": one("SELECT count(*) FROM stacks").fetchone()[0],
            "items_in_stacks": one("SELECT count(*) FROM items WHERE stack_id IS NOT NULL").fetchone()[0],
            "hash_lists": one("SELECT count(*) FROM hash_lists").fetchone()[0],
            "list_entries": one("SELECT count(*) FROM list_entries").fetchone()[0],
        }

    # --- audit log ------------------------------------------------------------------------------

    def wait_for_writers(self) -> None:
        """Inside a transaction: hold the case's writers off until it ends, so what it reads next stays true
        until it writes (claims). SQLite's `BEGIN IMMEDIATE` already did."""

    def append_audit(self, actor: str, action: str, details: dict[str, Any]) -> AuditEntry:
        if self.read_only:
            return self._unrecorded(actor, action, details)
        with self.transaction():
            last = self.db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (1, GENESIS_HASH) if last is None else (last[0] + 1, last[1])
            if not self._exact_rule_in_force():
                switch = self._insert_audit(seq, prev, actor, AUDIT_RULE_ACTION, {"rule": 2, "from_seq": seq})
                seq, prev = seq + 1, switch.hash
            entry = self._insert_audit(seq, prev, actor, action, details)
            self.set_meta("audit_head", f"{seq}:{entry.hash}")
        return entry

    def has_audit_action(self, action: str) -> bool:
        return self.db.execute("SELECT 1 FROM audit_log WHERE action = ? LIMIT 1", (action,)).fetchone() is not None

    def record_case_state(self, actor: str) -> AuditEntry:
        """Write the digest of the items and matches to the log (end of every scan, list import and match run)."""
        from vigie.store.audit import record_case_state  # the audit module builds on this one

        return record_case_state(self, actor)

    def verify_audit(self) -> AuditCheck:
        from vigie.store.audit import verify_audit_log  # the audit module builds on this one

        return verify_audit_log(self)

    def review_tables(self) -> ReviewTables:
        """The decisions, notes, queue and search of this case."""
        from vigie.store.review import ReviewTables  # the review tables build on this module

        return ReviewTables(self)

    def _unrecorded(self, actor: str, action: str, details: dict[str, Any]) -> AuditEntry:
        """An entry a read-only case cannot hold: kept for the caller to report (seq 0), or refused."""
        if self.unrecorded is None:
            raise CaseReadOnlyError(f"the case at {self.case_dir} is read-only: {action!r} cannot be recorded in "
                                    "its audit log")
        entry = AuditEntry(0, now_iso(), actor, action, details, "", "")
        self.unrecorded.append(entry)
        return entry

    def _exact_rule_in_force(self) -> bool:
        # Not cached: a rolled-back transaction may have held the switch. The switch sits early in the log.
        return self.db.execute(
            "SELECT 1 FROM audit_log WHERE action = ? LIMIT 1", (AUDIT_RULE_ACTION,)).fetchone() is not None

    def _insert_audit(self, seq: int, prev: str, actor: str, action: str, details: dict[str, Any]) -> AuditEntry:
        at = now_iso()
        text = json.dumps(details, sort_keys=True, ensure_ascii=False)
        if not text.isascii() and _has_surrogates(text):  # names that were not UTF-8: kept as \udcXX escapes
            text = json.dumps(details, sort_keys=True)
        digest = audit_hash_exact(prev, seq, at, actor, action, text.encode())
        self.db.execute(
            "INSERT INTO audit_log(seq, at, actor, action, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, at, actor, action, text, prev, digest),
        )
        return AuditEntry(seq, at, actor, action, details, prev, digest)

    def audit_entries(self, naming_item: int | None = None, action: str | None = None) -> Iterator[AuditEntry]:
        """The whole log, only the entries whose `items` name one item (its history), or those of one action."""
        if action is not None:
            rows = self.db.execute("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", (action,))
        elif naming_item is None:
            rows = self.db.execute("SELECT * FROM audit_log ORDER BY seq")
        else:
            rows = self.db.execute(f"SELECT * FROM audit_log a WHERE {self.dialect.names_item} ORDER BY seq",
                                   (naming_item,))
        for r in rows:
            yield AuditEntry(r["seq"], r["at"], r["actor"], r["action"], _audit_details(r["details"]),
                             r["prev_hash"], r["hash"])

    def audit_page(self, before: int | None, limit: int) -> list[AuditEntry]:
        """Newest first, at most `limit` entries older than seq `before` (from the head when None)."""
        rows = self.db.execute("SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                               (2**63 - 1 if before is None else before, limit))
        return [AuditEntry(r["seq"], r["at"], r["actor"], r["action"], _audit_details(r["details"]), r["prev_hash"],
                           r["hash"]) for r in rows]


class _Transaction:
    def __init__(self, db: Connection) -> None:
        self.db = db
        self.outer = False

    def __enter__(self) -> None:
        self.outer = not self.db.in_transaction
        if self.outer:
            self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if not self.outer:
            return
        if not exc_type:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:  # SQLite itself may have rolled back (a full disk): keep the first error
            self.db.execute("ROLLBACK")


def _image_frames(media_type: str | None, later_frames: int) -> dict[str, int] | None:
    if not later_frames or not (media_type or "").startswith("image/"):
        return None
    return {"hashed": 1 + later_frames}


def _name_image_frames(matches: list[dict[str, Any]], media_type: str | None, later_frames: int
                       ) -> list[dict[str, Any]]:
    """A multi-page or multi-frame image's perceptual matches name the page or frame that matched ("page 2"),
    never a time. Against a listed video, frame_number and timestamp stay the video's."""
    if _image_frames(media_type, later_frames) is None:
        return matches
    for match in matches:
        detail = match.get("detail") or {}
        if "item_frame" in detail:
            match["image_frame"] = frame_name(media_type, detail["item_frame"])
        elif match["signal"] == "pdq-frame":
            match.pop("timestamp", None)
            match["image_frame"] = frame_name(media_type, match["frame_number"])
        elif match["signal"] == "pdq":
            match["image_frame"] = frame_name(media_type, 0)
    return matches


def first_finished_copy(connect: Callable[[int], Connection], scans: tuple[int, ...],
                        unfinished_stages: tuple[str, ...], too_large_note: str, sha256: str) -> int | None:
    """See SqliteCaseStore.copy_finder; `connect(pid)` gives this process's own read connection."""
    if not scans:
        return None
    row = connect(os.getpid()).execute(
        f"""SELECT i.id FROM items i WHERE i.sha256 = ? AND i.analysed_as IS NULL AND i.scan_id IN
            ({",".join("?" * len(scans))}) AND NOT EXISTS (SELECT 1 FROM item_errors e WHERE e.item_id = i.id AND
                (e.stage IN ({",".join("?" * len(unfinished_stages))}) OR instr(e.message, ?) > 0))
            ORDER BY i.id LIMIT 1""",
        (sha256, *scans, *unfinished_stages, too_large_note),
    ).fetchone()
    return None if row is None else int(row[0])


@lru_cache(maxsize=2)
def _worker_connection(case_db: str, created_at: str | None, pid: int) -> sqlite3.Connection:
    """One read-only connection per case and worker process (never one a forked worker inherited); it sees each
    batch the scan has committed."""
    return sqlite3.connect(f"{Path(case_db).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False)


def source_root(root: str, root_raw: bytes | None) -> str:
    """A source's root as this machine names it: its raw bytes where the name is not UTF-8."""
    return os.fsdecode(root_raw) if root_raw else root


def chunks(ids: Sequence[int] | None, size: int = 500) -> Iterator[list[int] | None]:
    """SQL `IN` lists of bounded length; None means no restriction."""
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def select_in(db: Connection, sql: str, column: str, ids: Sequence[int] | None, *params: Any
              ) -> Iterator[Any]:
    """The rows of `sql` for `ids`, a bounded `IN` list at a time: `{in}` in `sql` becomes `column IN (?, ...)`,
    or true when `ids` is None (no restriction). `params` are the placeholders before `{in}`."""
    for chunk in chunks(ids):
        condition = "TRUE" if chunk is None else f"{column} IN ({','.join('?' * len(chunk))})"
        yield from db.execute(sql.replace("{in}", condition), (*params, *(chunk or [])))


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _split_sql(script: str) -> list[str]:
    """Statements of a migration; triggers keep their inner semicolons."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        joined = "\n".join(current).strip()
        if joined.endswith(";") and (not joined.upper().startswith("CREATE TRIGGER") or joined.endswith("END;")):
            statements.append(joined)
            current = []
    if "\n".join(current).strip():
        statements.append("\n".join(current).strip())
    return statements


def _has_surrogates(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _audit_details(text: str) -> dict[str, Any]:
    """An entry's details; text edited into something else is shown as it is (`audit verify` reports it)."""
    try:
        details = json.loads(text)
    except (TypeError, ValueError):
        details = None
    return details if isinstance(details, dict) else {"unreadable_details": text}


def _connect_read_only(db_path: Path) -> sqlite3.Connection:
    """Without a write-ahead log no one has the case open: immutable=1 reads the file as it is and creates
    nothing beside it. With one, mode=ro reads it too where SQLite can create its index (-shm)."""
    uri = db_path.resolve().as_uri()
    wal = db_path.with_name(db_path.name + "-wal")
    if wal.exists():
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            db.close()
        if wal.stat().st_size > 0:
            raise CaseReadOnlyError(f"{wal} holds changes that cannot be read from a read-only folder (the case "
                                    "was not closed cleanly): copy the case folder to a writable place first")
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)


def remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # something else is in it, or it is gone
        folder.rmdir()


def open_case(case_dir: Path | str, create: bool = False) -> SqliteCaseStore:
    """The case in a folder, or in PostgreSQL: given by its URL, or by a folder whose vigie.toml names it."""
    url = str(case_dir) if isinstance(case_dir, str) and is_store_url(case_dir) else case_store_url(Path(case_dir))
    if url is None:
        return SqliteCaseStore(Path(case_dir), create=create)
    try:
        from vigie.store.postgres import PostgresCaseStore
    except ImportError as exc:
        raise VigieError(f"a PostgreSQL case needs the cluster extra (pip install 'vigie[cluster]'): {exc}") from exc
    return PostgresCaseStore(url, local_case_folder(url) if url == str(case_dir) else Path(case_dir), create=create)
