"""An item committed late by a concurrent writer is still matched, stacked and put in the review queue and the
search index (issue 14). In PostgreSQL ids come
from a sequence and transactions commit in any order: a scan's matching may run while a lower id is still
uncommitted. (SQLite is not exposed: BEGIN IMMEDIATE gives one writer at a time, so ids commit in order.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from schema_rewind import rewind_schema
from test_incremental import _flip, _random_hash

from vigie.config import Settings
from vigie.matching.engine import match_pending
from vigie.matching.stacks import STATE_KEY, build_stacks
from vigie.records import ItemRecord, ListEntry
from vigie.store.review import QueueFilter, ReviewTables
from vigie.store.sqlite import SqliteCaseStore, open_case


def _picture(name: str, hashed: np.ndarray) -> ItemRecord:
    rng = np.random.default_rng(len(name))
    variants = [hashed, *(_random_hash(rng) for _ in range(23))]
    return ItemRecord(relpath=name, size=1000, digests={"sha256": hashlib.sha256(name.encode()).hexdigest()},
                      media_type="image/jpeg", width=100, height=100, pdq=hashed.tobytes().hex(), pdq_quality=100,
                      pdq_variants=tuple(h.tobytes().hex() for h in variants))


def _post_scan(store: SqliteCaseStore, settings: Settings) -> None:
    """What a finishing scan runs (scan/pipeline.py), under the same lock."""
    with store.exclusive("matching"):
        match_pending(store, settings)
        build_stacks(store, settings)


def test_an_item_committed_after_a_higher_id_is_matched_and_stacked(postgres_case: str) -> None:
    settings = Settings(workers=1)
    rng = np.random.default_rng(14)
    original = _random_hash(rng)
    early = _picture("early.jpg", original)
    late = _picture("late.jpg", _flip(rng, original, 6))  # a near copy of the early picture
    a = open_case(postgres_case, create=True)
    b = open_case(postgres_case)
    try:
        source = a.add_source("seizure", "/seizure", "directory")
        a.add_hash_list("known", "csv", "known.csv", "0" * 64,
                        [ListEntry(digests={"sha256": late.digests["sha256"]}, category="1")], [])
        match_pending(a, settings)  # the list is matched against the (empty) case: its mark is set
        scan_a, scan_b = a.begin_scan({"paths": ["a"]}), b.begin_scan({"paths": ["b"]})
        with b.transaction():  # scan B's worker takes the lower id and has not committed yet
            (late_id,) = b.add_items(source, scan_b, [late])
            (early_id,) = a.add_items(source, scan_a, [early])  # scan A's worker takes a higher id, commits
            assert early_id > late_id
            _post_scan(a, settings)  # scan A finishes: it cannot see the late item
        _post_scan(b, settings)  # scan B finishes after its commit
        matched = b.db.execute("SELECT item_id FROM matches").fetchall()
        assert [r[0] for r in matched] == [late_id]
        stacked = b.db.execute("SELECT id, stack_id FROM items ORDER BY id").fetchall()
        assert stacked[0][1] is not None and stacked[0][1] == stacked[1][1], stacked
    finally:
        a.close()
        b.close()


def test_an_item_committed_late_reaches_the_review_queue_and_the_search_index(postgres_case: str) -> None:
    rng = np.random.default_rng(16)
    a = open_case(postgres_case, create=True)
    b = open_case(postgres_case)
    try:
        source = a.add_source("seizure", "/seizure", "directory")
        scan_a, scan_b = a.begin_scan({"paths": ["a"]}), b.begin_scan({"paths": ["b"]})
        with b.transaction():  # neither matched nor stacked: only its own row says it is new
            (late_id,) = b.add_items(source, scan_b, [_picture("late.jpg", _random_hash(rng))])
            (early_id,) = a.add_items(source, scan_a, [_picture("early.jpg", _random_hash(rng))])
            assert early_id > late_id
            ReviewTables(a).refresh()  # a reviewer's page while scan B's item is not committed yet
        review = ReviewTables(b)
        _, entries = review.queue(QueueFilter(status="all"), limit=10)
        assert sorted(e["path"] for e in entries) == ["seizure/early.jpg", "seizure/late.jpg"], entries
        _, found = ReviewTables(b).queue(QueueFilter(status="all", text="late"), limit=10)
        assert [e["path"] for e in found] == ["seizure/late.jpg"]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_case_from_before_the_queues_queues_what_its_marks_had_not_reached(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    case = request.getfixturevalue("postgres_case") if kind == "postgresql" else tmp_path / "case"
    store = open_case(case, create=True)
    source = store.add_source("seizure", "/seizure", "directory")
    scan = store.begin_scan({"paths": ["seizure"]})
    rng = np.random.default_rng(15)
    store.add_items(source, scan, [_picture(f"{n}.jpg", _random_hash(rng)) for n in range(5)])
    first = store.add_hash_list("one", "csv", "one.csv", "0" * 64, [ListEntry(digests={"md5": "0" * 32})], [])
    second = store.add_hash_list("two", "csv", "two.csv", "1" * 64, [ListEntry(digests={"md5": "1" * 32})], [])
    store.set_matched_through([first], 3)
    store.set_matched_through([second], 4)
    store.set_meta(STATE_KEY, json.dumps({"threshold": 31, "min_quality": 50, "through": 2, "segments": []}))
    # as the case was before the queues' migration: no queues, its marks say how far matching and stacking went
    store.db.execute("DROP TABLE unmatched_items")
    store.db.execute("DROP TABLE unstacked_items")
    store.db.execute("ALTER TABLE faces DROP COLUMN placed")  # later migrations'
    store.db.execute("ALTER TABLE hash_lists DROP COLUMN skipped")
    rewind_schema(store, kind, "CREATE TABLE unmatched_items")
    store.close()
    store = open_case(case)
    assert (store.unmatched_item_ids(), store.unstacked_item_ids()) == ([4, 5], [3, 4, 5])
    store.close()

