"""What `vigie audit verify` checks. The hash chain: any edited, inserted or deleted entry breaks it. And the
state exports are built from: decisions and notes are rebuilt from the log and compared with their tables,
items' hashes with what decisions recorded, and items and matches with the digest of the last recorded state."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vigie.i18n import N_, Phrase
from vigie.records import AuditEntry
from vigie.store.sqlite import (
    AUDIT_RULE_ACTION,
    GENESIS_HASH,
    SqliteCaseStore,
    audit_hash,
    audit_hash_exact,
)

CASE_STATE_ACTION = "case-state"
DECIDE_ACTION = "categorise"
UNDECIDE_ACTION = "undecide"  # items set back to undecided
UNDO_ACTION = "undo"  # an earlier decision undone: each item back to what it was before it (`restore`)
_DECISION_FIELDS = ("category_scheme", "category", "ai_tags", "industry_class", "decided_by", "decided_at",
                    "audit_seq")
_NOTE_FIELDS = ("item_id", "author", "at", "text")


@dataclass
class AuditCheck:
    entries: int = 0
    head_seq: int = 0
    head: str | None = None
    decisions: int = 0
    notes: int = 0
    state_seq: int | None = None  # the entry whose recorded state the items and matches were compared with
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Replay:
    """What the log says the decision and note tables hold."""
    decisions: dict[int, dict[str, Any]] = field(default_factory=dict)
    sha256: dict[int, tuple[int, str]] = field(default_factory=dict)  # item -> (entry, SHA-256 at its decision)
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)  # entry -> note
    state: tuple[int, dict[str, Any]] | None = None

    def _decide(self, item: int, decision: dict[str, Any], actor: str, at: str, seq: int) -> None:
        self.decisions[item] = {
            "category_scheme": decision.get("scheme"), "category": decision.get("category"),
            "ai_tags": decision.get("ai_tags", []), "industry_class": decision.get("industry_class"),
            "decided_by": actor, "decided_at": at, "audit_seq": seq,
        }

    def apply(self, seq: int, at: str, actor: str, action: str, details: dict[str, Any]) -> None:
        items = details.get("items", [])
        if action in (DECIDE_ACTION, UNDECIDE_ACTION, UNDO_ACTION):
            # A later entry on an item replaces what the earlier one decided, as ReviewTables does.
            restore = details.get("restore", []) if action == UNDO_ACTION else [details] * len(items)
            if action == UNDECIDE_ACTION:
                restore = [None] * len(items)
            for item, decision in zip(items, restore, strict=True):
                if decision is None:
                    self.decisions.pop(item, None)
                elif action == UNDO_ACTION:  # a restored decision keeps who made it and when (where it says)
                    self._decide(item, decision, decision.get("by", actor), decision.get("at", at), seq)
                else:
                    self._decide(item, decision, actor, at, seq)
            for item, digest in zip(items, details.get("sha256") or [], strict=False):
                if digest:
                    self.sha256[item] = (seq, digest)
        elif action == "note":
            for item in items:
                self.notes[seq] = {"item_id": item, "author": actor, "at": at, "text": details.get("text")}
        elif action == CASE_STATE_ACTION:
            self.state = (seq, details)


def decision_before(history: Iterable[AuditEntry], item: int, seq: int) -> dict[str, Any] | None:
    """The item's decision as its `history` (the log's entries naming it) had it just before entry `seq` (None:
    undecided), for undo."""
    replay = _Replay()
    for entry in history:
        if entry.seq >= seq:
            break
        replay.apply(entry.seq, entry.at, entry.actor, entry.action, entry.details)
    decided = replay.decisions.get(item)
    return None if decided is None else {
        "scheme": decided["category_scheme"], "category": decided["category"], "ai_tags": decided["ai_tags"],
        "industry_class": decided["industry_class"], "by": decided["decided_by"], "at": decided["decided_at"]}


def verify_audit_log(store: SqliteCaseStore) -> AuditCheck:
    check = AuditCheck()
    replay = _Replay()
    _check_chain(store, check, replay)
    _check_decisions(store, check, replay)
    _check_notes(store, check, replay)
    _check_item_hashes(store, check, replay)
    _check_state(store, check, replay)
    return check


def check_chain(store: SqliteCaseStore) -> AuditCheck:
    """The hash chain alone, for a log that records no decisions (the server's log of account changes)."""
    check = AuditCheck()
    _check_chain(store, check, _Replay())
    return check


def _check_chain(store: SqliteCaseStore, check: AuditCheck, replay: _Replay) -> None:
    expected_prev = GENESIS_HASH
    expected_seq = 1
    exact_rule = False  # rule 2 from the `audit-rule` entry on; never back (no downgrade)
    rows = store.db.execute("SELECT seq, at, actor, action, CAST(details AS BLOB), prev_hash, hash FROM audit_log "
                            "ORDER BY seq")
    for seq, at, actor, action, raw, prev_hash, digest in rows:
        raw = bytes(raw or b"")
        check.entries += 1
        if seq != expected_seq:
            check.problems.append(Phrase(N_("entry %(seq)s is missing (next entry found is %(found)s)"),
                                         seq=expected_seq, found=seq))
        if prev_hash != expected_prev:
            check.problems.append(Phrase(N_("entry %(seq)s: does not link to the entry before it (deleted or "
                                            "altered)"), seq=seq))
        exact_rule = exact_rule or action == AUDIT_RULE_ACTION
        details = _parse(raw)
        if details is None:
            check.problems.append(Phrase(N_("entry %(seq)s: its details are not a JSON object (edited)"), seq=seq))
        if exact_rule:
            recomputed = audit_hash_exact(prev_hash, seq, at, actor, action, raw)
        else:
            recomputed = audit_hash(prev_hash, seq, at, actor, action, details or {})
        if recomputed != digest:
            check.problems.append(Phrase(N_("entry %(seq)s: content does not match its hash (edited)"), seq=seq))
        if details is not None:
            try:
                replay.apply(seq, at, actor, action, details)
            except (TypeError, AttributeError, ValueError):
                check.problems.append(Phrase(N_("entry %(seq)s: its details do not have the shape a '%(action)s' "
                                                "entry has"), seq=seq, action=action))
        expected_prev, expected_seq = digest, seq + 1
        check.head_seq, check.head = seq, digest
    recorded = store.get_meta("audit_head")
    if recorded is not None:
        seq_text, _, recorded_hash = recorded.partition(":")
        if recorded_hash != check.head:
            check.problems.append(Phrase(N_("the log ends before entry %(seq)s, which the case recorded as its "
                                            "last (deleted)"), seq=seq_text))
    elif check.entries:
        check.problems.append(N_("the case's record of the last audit entry is missing"))
    if not check.entries:
        held = store.db.execute("SELECT (SELECT count(*) FROM scans), (SELECT count(*) FROM items), "
                                "(SELECT count(*) FROM reviews)").fetchone()
        if any(held):
            check.problems.append(Phrase(N_("the log is empty, but the case holds %(scans)s scan(s), %(items)s "
                                            "item(s) and %(decisions)s decision(s): the log was wiped"),
                                         scans=held[0], items=held[1], decisions=held[2]))


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _check_decisions(store: SqliteCaseStore, check: AuditCheck, replay: _Replay) -> None:
    logged = replay.decisions
    check.decisions = len(logged)
    columns = ", ".join(_DECISION_FIELDS)
    seen: set[int] = set()
    for row in store.db.execute(f"SELECT item_id, {columns} FROM reviews ORDER BY item_id"):
        item, values = row[0], dict(zip(_DECISION_FIELDS, row[1:], strict=True))
        values["ai_tags"] = _loads_or_text(values["ai_tags"])
        seen.add(item)
        expected = logged.get(item)
        if expected is None:
            check.problems.append(Phrase(N_("item %(item)s: the reviews table holds a decision (%(category)s, "
                                            "entry %(seq)s) that no audit entry records"),
                                         item=item, category=repr(values["category"]), seq=values["audit_seq"]))
            continue
        for name in _DECISION_FIELDS:
            if values[name] != expected[name]:
                check.problems.append(Phrase(N_("item %(item)s: decision %(field)s is %(table)s in the reviews "
                                                "table, %(log)s in the log (entry %(seq)s)"),
                                             item=item, field=name, table=repr(values[name]),
                                             log=repr(expected[name]), seq=expected["audit_seq"]))
    for item in sorted(set(logged) - seen):
        check.problems.append(Phrase(N_("item %(item)s: the decision of entry %(seq)s is missing from the reviews "
                                        "table"), item=item, seq=logged[item]["audit_seq"]))


def _check_notes(store: SqliteCaseStore, check: AuditCheck, replay: _Replay) -> None:
    logged = replay.notes
    check.notes = len(logged)
    seen: set[int] = set()
    for note_id, seq, *values in store.db.execute(
        f"SELECT id, audit_seq, {', '.join(_NOTE_FIELDS)} FROM notes ORDER BY id"
    ):
        row = dict(zip(_NOTE_FIELDS, values, strict=True))
        expected = logged.get(seq)
        if expected is None or seq in seen:
            check.problems.append(Phrase(N_("note %(note)s on item %(item)s: no audit entry records it (its entry "
                                            "%(seq)s is not a note, or is claimed twice)"),
                                         note=note_id, item=row["item_id"], seq=seq))
            continue
        seen.add(seq)
        for name in _NOTE_FIELDS:
            if row[name] != expected[name]:
                check.problems.append(Phrase(N_("note %(note)s on item %(item)s: %(field)s is %(table)s in the "
                                                "notes table, %(log)s in the log (entry %(seq)s)"),
                                             note=note_id, item=row["item_id"], field=name, table=repr(row[name]),
                                             log=repr(expected[name]), seq=seq))
    for seq in sorted(set(logged) - seen):
        check.problems.append(Phrase(N_("item %(item)s: the note of entry %(seq)s is missing from the notes table"),
                                     item=logged[seq]["item_id"], seq=seq))


def _check_item_hashes(store: SqliteCaseStore, check: AuditCheck, replay: _Replay) -> None:
    """The SHA-256 each decision recorded must still be the item's: exports name items by these hashes."""
    decided = sorted(replay.sha256)
    current = store.sha256s(decided)
    for item, (seq, digest) in sorted(replay.sha256.items()):
        if current.get(item) != digest:
            check.problems.append(Phrase(N_("item %(item)s: SHA-256 is %(table)s in the items table, %(log)s in the "
                                            "log (decision, entry %(seq)s)"),
                                         item=item, table=current.get(item), log=digest, seq=seq))


# --- the recorded state of items and matches -------------------------------------------------------


def case_state(store: SqliteCaseStore) -> dict[str, Any]:
    """Digests of the items' identities and hashes and of the matches, which the exports are built from."""
    item_rows, items_sha256 = _digest(store.db.execute(
        "SELECT id, relpath, md5, sha1, sha256 FROM items ORDER BY id"))
    match_rows, matches_sha256 = _digest(store.db.execute(
        """SELECT item_id, entry_id, signal, distance, variant, frame_number, timestamp, detail FROM matches
           ORDER BY item_id, entry_id, signal, frame_number, distance, variant, timestamp, detail"""))
    return {"item_rows": item_rows, "items_sha256": items_sha256, "match_rows": match_rows,
            "matches_sha256": matches_sha256}


def record_case_state(store: SqliteCaseStore, actor: str) -> AuditEntry:
    """Write the state digest to the log: called at the end of every scan, list import and match run."""
    return store.append_audit(actor, CASE_STATE_ACTION, case_state(store))


def _digest(rows: Iterable[tuple[Any, ...]]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for row in rows:
        count += 1
        values = [["blob", v.hex()] if isinstance(v, bytes) else v for v in row]
        digest.update(json.dumps(values, ensure_ascii=True).encode() + b"\n")
    return count, digest.hexdigest()


def _check_state(store: SqliteCaseStore, check: AuditCheck, replay: _Replay) -> None:
    if replay.state is None:
        return  # a case from before state digests, or never scanned
    seq, recorded = replay.state
    check.state_seq = seq
    now = case_state(store)
    for table, rows, digest in (("items", "item_rows", "items_sha256"), ("matches", "match_rows", "matches_sha256")):
        if now[digest] != recorded.get(digest):
            check.problems.append(Phrase(
                N_("the %(table)s table differs from the state recorded by entry %(seq)s (%(then)s rows then, "
                   "%(now)s now): edited by hand, or changed by a run that stopped before recording it"),
                table=table, seq=seq, then=recorded.get(rows), now=now[rows]))


def _loads_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
