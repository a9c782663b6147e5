"""`vigie case copy`: a case moved whole between SQLite and PostgreSQL (either way), row for row, ids and audit
log as they are. The source's chain is verified before, the copy's before it commits; the copy then records
where it came from in its own log."""

from __future__ import annotations

from dataclasses import dataclass

from vigie.errors import VigieError
from vigie.store.sqlite import SqliteCaseStore

# Every table, parents before children (the foreign keys hold at each insert)
TABLES = (
    "meta", "sources", "scans", "items", "stacks", "item_errors", "hash_lists", "list_entries", "matches",
    "audit_log", "video_frames", "video_stills", "list_video_frames", "item_findings", "persons", "faces",
    "users", "sessions", "reveals", "reviews", "notes", "review_queue", "item_search", "list_match_state",
    "review_dirty", "review_versions", "review_claims", "unmatched_items", "unstacked_items",
)
COPY_ACTION = "case-copy"
_BATCH = 5_000


class CaseCopyError(VigieError):
    pass


@dataclass
class CopyResult:
    rows: dict[str, int]
    audit_entries: int
    head: str | None


def copy_case(source: SqliteCaseStore, target: SqliteCaseStore, actor: str, source_name: str) -> CopyResult:
    tables = set(source.table_names())
    if tables != set(TABLES) or set(target.table_names()) != set(TABLES):
        unknown = (tables | set(target.table_names())) ^ set(TABLES)
        raise CaseCopyError(f"the cases hold tables this copy does not know: {', '.join(sorted(unknown))}")
    held = target.db.execute("SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM audit_log) + "
                             "(SELECT count(*) FROM hash_lists) + (SELECT count(*) FROM users)").fetchone()[0]
    if held:
        raise CaseCopyError("the destination already holds a case (items, lists, accounts or an audit log): "
                            "copy into a new one")
    before = source.verify_audit()
    if not before.ok:
        raise CaseCopyError("the source's audit log does not verify, so it is not copied: "
                            + "; ".join(before.problems[:5]))
    rows: dict[str, int] = {}
    with target.transaction():
        target.db.execute("DELETE FROM meta")  # the new case's own created_at gives way to the source's
        for table in TABLES:
            rows[table] = _copy_table(source, target, table)
        target.renumber_after_copy()
        after = target.verify_audit()
        if not after.ok or after.head != before.head:
            raise CaseCopyError("the copy's audit log does not verify; nothing was written: "
                                + "; ".join(after.problems[:5] or ["its head differs from the source's"]))
    entry = target.append_audit(actor, COPY_ACTION, {
        "from": source_name, "source_head": f"{before.head_seq}:{before.head}", "rows": rows})
    return CopyResult(rows, before.entries, entry.hash)


def _copy_table(source: SqliteCaseStore, target: SqliteCaseStore, table: str) -> int:
    # the full-text table's row ids are the item ids: named, as SQLite's FTS5 hides them from `*`
    columns = "rowid, path, metadata" if table == "item_search" else "*"
    cursor = source.db.execute(f"SELECT {columns} FROM {table} ORDER BY 1")
    count = 0
    while batch := cursor.fetchmany(_BATCH):
        names = list(batch[0].keys())
        target.db.executemany(
            f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [tuple(row) for row in batch])
        count += len(batch)
    return count
