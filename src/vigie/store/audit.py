"""Checking the audit log's hash chain: any edited, inserted or deleted entry breaks it."""

from __future__ import annotations

from dataclasses import dataclass, field

from vigie.store.sqlite import GENESIS_HASH, SqliteCaseStore, audit_hash


@dataclass
class AuditCheck:
    entries: int = 0
    head: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit_log(store: SqliteCaseStore) -> AuditCheck:
    check = AuditCheck()
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for entry in store.audit_entries():
        check.entries += 1
        if entry.seq != expected_seq:
            check.problems.append(f"entry {expected_seq} is missing (next entry found is {entry.seq})")
        if entry.prev_hash != expected_prev:
            check.problems.append(f"entry {entry.seq}: does not link to the entry before it (deleted or altered)")
        recomputed = audit_hash(entry.prev_hash, entry.seq, entry.at, entry.actor, entry.action, entry.details)
        if recomputed != entry.hash:
            check.problems.append(f"entry {entry.seq}: content does not match its hash (edited)")
        expected_prev, expected_seq = entry.hash, entry.seq + 1
        check.head = entry.hash
    recorded = store.get_meta("audit_head")
    if recorded is not None:
        seq, _, digest = recorded.partition(":")
        if digest != check.head:
            check.problems.append(f"the log ends before entry {seq}, which the case recorded as its last (deleted)")
    elif check.entries:
        check.problems.append("the case's record of the last audit entry is missing")
    return check
