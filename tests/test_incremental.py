"""Incremental post-scan stages give what a full recompute gives: stacks, the review queue, the search index."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from vigie.cli import main
from vigie.config import Settings
from vigie.exports.report import _public_item, write_json
from vigie.matching import stacks as triage
from vigie.matching.engine import match_pending
from vigie.matching.pdq_index import brute_force
from vigie.matching.stacks import ITEM_INDEX_DIR, build_stacks
from vigie.records import DETERMINISTIC, INDICATIVE, Finding, ItemRecord, ListEntry
from vigie.signals.provenance.verdict import conclude
from vigie.store.review import Decision, QueueFilter, ReviewTables
from vigie.store.sqlite import SqliteCaseStore

StackSet = set[tuple[frozenset[int], int, bool]]


def _random_hash(rng: np.random.Generator) -> np.ndarray:
    bits = np.zeros(256, dtype=np.uint8)
    bits[rng.choice(256, size=128, replace=False)] = 1
    return np.packbits(bits)


def _flip(rng: np.random.Generator, hashed: np.ndarray, flips: int) -> np.ndarray:
    bits = np.unpackbits(hashed)
    bits[rng.choice(256, size=flips, replace=False)] ^= 1
    return np.packbits(bits)


class _Case:
    """Synthetic items with PDQ hashes and query variants; some share bytes, some are near copies."""

    def __init__(self, root: Path, seed: int) -> None:
        self.store = SqliteCaseStore(root / "case")
        self.source = self.store.add_source("seizure", str(root / "seizure"), "directory")
        self.rng = np.random.default_rng(seed)
        self.hashes: list[np.ndarray] = []
        self.digests: list[str] = []
        self.count = 0

    def record(self, hashed: np.ndarray, variants: list[np.ndarray] | None = None,
               digest: str | None = None) -> ItemRecord:
        self.count += 1
        rng = self.rng
        others = variants or []
        others += [_random_hash(rng) for _ in range(23 - len(others))]
        digest = digest or hashlib.sha256(f"{self.count}".encode()).hexdigest()
        strength = (None, INDICATIVE, DETERMINISTIC)[self.count % 5 % 3]
        findings = [Finding("marker", f"mark {self.count % 7}", None, strength)] if strength else []
        self.hashes.append(hashed)
        self.digests.append(digest)
        record = ItemRecord(
            relpath=f"dir{self.count % 3}/img{self.count}.jpg", size=int(rng.integers(1, 5)) * 1000,
            digests={"sha256": digest}, media_type="image/jpeg", width=int(rng.integers(1, 3)) * 100, height=100,
            exif={"Model": f"camera {self.count % 4}"}, pdq=hashed.tobytes().hex(), pdq_quality=100,
            pdq_variants=tuple(h.tobytes().hex() for h in [hashed, *others]), findings=findings,
        )
        conclude(record)  # as analysis does: the verdicts vary across the queue
        return record

    def scan(self, records: list[ItemRecord]) -> None:
        scan_id = self.store.begin_scan({"paths": ["seizure"]})
        self.store.add_items(self.source, scan_id, records)
        self.store.finish_scan(scan_id, "complete", {})

    def some_scan(self, size: int) -> list[ItemRecord]:
        """New pictures, near copies of earlier ones, byte copies, and earlier items' uncropped originals."""
        rng = self.rng
        records = []
        for _ in range(size):
            roll = rng.random()
            if roll < 0.25 and self.hashes:
                records.append(self.record(_flip(rng, self.hashes[rng.integers(len(self.hashes))], 6)))
            elif roll < 0.35 and self.digests:
                pick = int(rng.integers(len(self.digests)))
                records.append(self.record(_random_hash(rng), digest=self.digests[pick]))
            else:
                records.append(self.record(_random_hash(rng)))
        return records


def _stored_stacks(store: SqliteCaseStore) -> StackSet:
    rows = store.db.execute(
        """SELECT s.representative_id, s.exact_only, s.size, group_concat(i.id) FROM stacks s
           JOIN items i ON i.stack_id = s.id GROUP BY s.id"""
    ).fetchall()
    assert all(size == len(members.split(",")) for _, _, size, members in rows)
    return {(frozenset(int(x) for x in members.split(",")), rep, bool(exact)) for rep, exact, _, members in rows}


def _full_recompute(store: SqliteCaseStore, settings: Settings) -> StackSet:
    """Stacking as it was done before it was incremental: every item against every item."""
    rows = store.db.execute(
        "SELECT id, pdq, pdq_variants FROM items WHERE pdq_quality >= ? ORDER BY id", (settings.pdq_min_quality,)
    ).fetchall()
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    ids = np.array([r[0] for r in rows], dtype=np.int64)
    hashes = np.array([np.frombuffer(bytes.fromhex(r[1]), dtype=np.uint8) for r in rows])
    for item_id, _, variants in rows:
        queries = np.frombuffer(variants, dtype=np.uint8).reshape(-1, 32)
        for hit in brute_force(ids, hashes, queries, settings.stack_threshold):
            if hit.id != item_id:
                union(item_id, hit.id)
    facts = {r[0]: (r[1], r[2], r[3]) for r in store.db.execute(
        "SELECT id, coalesce(width * height, 0), coalesce(size, 0), sha256 FROM items")}
    by_digest: dict[str, list[int]] = {}
    for item_id, (_, size, digest) in facts.items():
        if digest and size > 0:
            by_digest.setdefault(digest, []).append(item_id)
    for group in by_digest.values():
        for other in group[1:]:
            union(group[0], other)
    members: dict[int, list[int]] = {}
    for item_id in list(parent):
        members.setdefault(find(item_id), []).append(item_id)
    return {
        (frozenset(group), max(group, key=lambda i: (facts[i][0], facts[i][1], -i)),
         len({facts[i][2] for i in group}) == 1)
        for group in members.values() if len(group) > 1
    }


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "worker-pool"])
@pytest.mark.parametrize("multi_index", [False, True], ids=["brute-force", "multi-index"])
def test_incremental_stacks_equal_a_full_recompute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   multi_index: bool, workers: int) -> None:
    monkeypatch.setattr(triage, "_MULTI_INDEX", multi_index)
    monkeypatch.setattr(triage, "_PARALLEL_FROM", 1)  # worker processes even for cases this small
    settings = Settings(workers=workers)
    case = _Case(tmp_path, seed=3)
    rng = case.rng
    a, far = _random_hash(rng), _random_hash(rng)
    b = _flip(rng, a, 50)  # too far from a for one stack...
    bridge_bits = np.unpackbits(a) ^ np.unpackbits(b)
    bridge = np.unpackbits(a).copy()
    changed = np.flatnonzero(bridge_bits)[:25]
    bridge[changed] ^= 1
    cropped = _random_hash(rng)
    uncropped = _flip(rng, cropped, 40)
    scans = [
        [case.record(a), case.record(_flip(rng, a, 4)), case.record(b), case.record(_flip(rng, b, 4)),
         case.record(far), case.record(cropped, variants=[_flip(rng, uncropped, 3)]), *case.some_scan(30)],
        case.some_scan(40),
        # ...until a copy halfway between them bridges their two stacks; an uncropped original arrives, which
        # only the earlier cropped copy's variant reaches
        [case.record(np.packbits(bridge)), case.record(uncropped), *case.some_scan(25)],
        case.some_scan(5),
        [],
        case.some_scan(60),
    ]
    for records in scans:
        case.scan(records)
        build_stacks(case.store, settings)
        assert _stored_stacks(case.store) == _full_recompute(case.store, settings)
    stacks = {members for members, _, _ in _stored_stacks(case.store)}
    assert any({1, 2, 3, 4, 7 + 30 + 40} <= members for members in stacks), "the bridge joins both stacks"
    assert any({6, 7 + 30 + 40 + 1} <= members for members in stacks), "the cropped copy joins its original"
    segments = list((case.store.case_dir / ITEM_INDEX_DIR).iterdir())
    assert 1 <= len(segments) < len(scans), "segments are merged as they pile up, and nothing else is left"


def test_changed_settings_start_the_stacks_over(tmp_path: Path, settings: Settings) -> None:
    case = _Case(tmp_path, seed=5)
    case.scan(case.some_scan(40))
    build_stacks(case.store, settings)
    stricter = Settings(workers=1, stack_threshold=2)
    build_stacks(case.store, stricter)
    assert _stored_stacks(case.store) == _full_recompute(case.store, stricter)


def _queue_and_search(store: SqliteCaseStore) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    queue = [tuple(r) for r in store.db.execute("SELECT * FROM review_queue ORDER BY representative_id")]
    search = [tuple(r) for r in store.db.execute("SELECT rowid, path, metadata FROM item_search ORDER BY rowid")]
    return queue, search


def test_incremental_queue_and_search_equal_a_full_rebuild(tmp_path: Path, settings: Settings,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    case = _Case(tmp_path, seed=11)
    updates: list[int] = []
    update = ReviewTables._update
    monkeypatch.setattr(ReviewTables, "_update", lambda self, *a: updates.append(1) or update(self, *a))
    first = case.some_scan(40)
    case.scan(first)
    listed = [ListEntry(digests={"sha256": r.sha256}, category="1") for r in first[:3]]
    listed += [ListEntry(pdq=r.pdq, pdq_quality=100, category="2") for r in first[10:14]]

    def step(n: int, decide: bool) -> None:
        if n:
            case.scan(case.some_scan(n))
        match_pending(case.store, settings)
        build_stacks(case.store, settings)
        review = ReviewTables(case.store)
        if decide:
            _, page = review.queue(QueueFilter(), limit=3)
            for entry in page:
                review.decide("analyst", review.members(entry["id"]), Decision("vics", "1"), "stack")
        found = review.queue(QueueFilter(status="all", text="mark 3"), limit=1000)
        incremental = _queue_and_search(case.store)
        case.store.set_meta("review_queue_built_for", "")
        full = ReviewTables(case.store)
        full.refresh()
        assert _queue_and_search(case.store) == incremental
        assert full.queue(QueueFilter(status="all", text="mark 3"), limit=1000) == found

    step(0, decide=False)  # the first build is whole
    case.store.add_hash_list("known", "csv", "known.csv", "0" * 64, listed, [])
    step(0, decide=True)  # new matches only
    for n in (30, 5, 50):
        step(n, decide=True)
    assert len(updates) == 4, "after the first build, the queue is only updated"


def test_json_report_streams_item_by_item(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _Case(tmp_path, seed=13)
    case.scan(case.some_scan(30))
    build_stacks(case.store, settings)
    whole = [_public_item(i) for i in case.store.iter_report_items()]
    out = io.StringIO()
    written_before_batch: list[int] = []
    items_of, batches = SqliteCaseStore.iter_report_items, SqliteCaseStore.report_batches

    def one_batch(store: SqliteCaseStore, item_ids: list[int] | None = None) -> Iterator[dict[str, Any]]:
        assert item_ids is not None and len(item_ids) <= 10, "never the whole case at once"
        written_before_batch.append(out.getvalue().count('"sha256"'))
        yield from items_of(store, item_ids)

    monkeypatch.setattr(SqliteCaseStore, "iter_report_items", one_batch)
    monkeypatch.setattr(SqliteCaseStore, "report_batches", lambda store: batches(store, 10))
    write_json(case.store, out)
    assert written_before_batch == [0, 10, 20]
    report = json.loads(out.getvalue())
    assert report["items"] == whole
    assert report["summary"]["items"] == 30


def test_a_damaged_item_index_is_rebuilt_from_the_store(tmp_path: Path, settings: Settings) -> None:
    case = _Case(tmp_path, seed=7)
    case.scan(case.some_scan(40))
    build_stacks(case.store, settings)
    for segment in (case.store.case_dir / ITEM_INDEX_DIR).iterdir():
        (segment / "segment.json").write_text("{not json")
    case.scan(case.some_scan(20))
    build_stacks(case.store, settings)
    assert _stored_stacks(case.store) == _full_recompute(case.store, settings)


def test_report_command_streams_json_to_its_file(tmp_path: Path, settings: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    case = _Case(tmp_path, seed=17)
    case.scan(case.some_scan(25))
    build_stacks(case.store, settings)
    whole = [_public_item(i) for i in case.store.iter_report_items()]
    case.store.close()
    items_of, batches = SqliteCaseStore.iter_report_items, SqliteCaseStore.report_batches

    def one_batch(store: SqliteCaseStore, item_ids: list[int] | None = None) -> Iterator[dict[str, Any]]:
        assert item_ids is not None and len(item_ids) <= 10, "never the whole case at once"
        yield from items_of(store, item_ids)

    monkeypatch.setattr(SqliteCaseStore, "iter_report_items", one_batch)
    monkeypatch.setattr(SqliteCaseStore, "report_batches", lambda store: batches(store, 10))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["report", "--case", str(tmp_path / "case"), "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["items"] == whole
    audit = SqliteCaseStore(tmp_path / "case").audit_entries()
    assert [e.details["output"] for e in audit if e.action == "report"] == [str(out)]
