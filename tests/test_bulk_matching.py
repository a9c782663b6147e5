"""Matching probes a list's index with a whole batch of items at once, and finds what brute force finds.

The reference compares every item variant with every list entry through the PDQ signal type's own
distance; the expected match per (item, entry) is the smallest distance, ties to the first variant.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from vigie.config import Settings
from vigie.matching import engine, pdq_index
from vigie.matching.engine import match_case, segment_dir
from vigie.matching.pdq_index import PdqSegment
from vigie.records import ItemRecord, ListEntry
from vigie.signals.pdq import VARIANT_NAMES
from vigie.signals.registry import PDQ
from vigie.store.sqlite import SqliteCaseStore

_LIST_SIZE = 1_500
_ITEMS = 250
_VARIANTS = 8
_WIDEST = 40  # the reference keeps pairs up to this distance, so any threshold up to it can be checked
_NEAR = (0, 5, 12, 29, 30, 31, 32, 33, 40)  # around the default threshold (31) and the wider one tested

Match = tuple[int, int, int, str]  # item, entry, distance, variant name


def _random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Realistic PDQ hashes: exactly 128 of 256 bits set."""
    bits = np.zeros((n, 256), dtype=np.uint8)
    for row in bits:
        row[rng.choice(256, size=128, replace=False)] = 1
    return np.packbits(bits, axis=1)


def _flip(rng: np.random.Generator, hashed: np.ndarray, flips: int) -> np.ndarray:
    bits = np.unpackbits(hashed)
    bits[rng.choice(256, size=flips, replace=False)] ^= 1
    return np.packbits(bits)


def _seizure(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """List hashes, and items' variants: a third of the items hold near copies of entries, some two
    variants at the same distance of one entry (a tie), some a worse variant before a better one."""
    rng = np.random.default_rng(seed)
    listed = _random_hashes(rng, _LIST_SIZE)
    items = _random_hashes(rng, _ITEMS * _VARIANTS).reshape(_ITEMS, _VARIANTS, 32)
    for item in range(0, _ITEMS, 3):
        entry = listed[rng.integers(_LIST_SIZE)]
        first, second = sorted(rng.choice(_VARIANTS, size=2, replace=False))
        distance = int(rng.choice(_NEAR))
        items[item, first] = _flip(rng, entry, distance)
        shape = item % 9
        if shape == 0:  # a tie: the first of the two variants is the one named
            items[item, second] = _flip(rng, entry, distance)
        elif shape == 3:  # a later variant closer than the first
            items[item, second] = _flip(rng, entry, max(0, distance - 7))
    return listed, items


def _case(root: Path, listed: np.ndarray, items: np.ndarray) -> SqliteCaseStore:
    store = SqliteCaseStore(root / "case")
    source = store.add_source("seizure", str(root / "seizure"), "directory")
    scan_id = store.begin_scan({"paths": ["seizure"]})
    store.add_items(source, scan_id, [
        ItemRecord(relpath=f"img{n}.jpg", digests={"sha256": f"{n:064x}"}, media_type="image/jpeg",
                   pdq=variants[0].tobytes().hex(), pdq_quality=100,
                   pdq_variants=tuple(v.tobytes().hex() for v in variants))
        for n, variants in enumerate(items)
    ])
    store.finish_scan(scan_id, "complete", {})
    entries = [ListEntry(pdq=h.tobytes().hex(), pdq_quality=100, category="1") for h in listed]
    store.add_hash_list("known", "text", "known.txt", "0" * 64, entries, [])
    return store


@functools.cache
def _reference(seed: int) -> dict[tuple[int, int], tuple[int, str]]:
    """(item, entry) -> (best distance, variant name) within _WIDEST, by the signal type over every pair.
    Ids as the store gives them: items and entries are numbered from 1 in the order written."""
    listed, items = _seizure(seed)
    entries = [h.tobytes().hex() for h in listed]
    best: dict[tuple[int, int], tuple[int, str]] = {}
    for item, variants in enumerate(items, start=1):
        for index, variant in enumerate(variants):
            query = variant.tobytes().hex()
            for entry, listed_hex in enumerate(entries, start=1):
                distance = PDQ.distance(query, listed_hex)
                if distance <= _WIDEST and ((item, entry) not in best or distance < best[item, entry][0]):
                    best[item, entry] = (distance, VARIANT_NAMES[index])
    return best


def _expected(seed: int, threshold: int) -> set[Match]:
    return {(item, entry, distance, variant)
            for (item, entry), (distance, variant) in _reference(seed).items() if distance <= threshold}


def _found(store: SqliteCaseStore) -> set[Match]:
    rows = store.db.execute("SELECT item_id, entry_id, distance, variant FROM matches WHERE signal = 'pdq'")
    return {(r[0], r[1], r[2], r[3]) for r in rows}


def test_the_fixture_holds_near_misses_ties_and_better_later_variants() -> None:
    listed, items = _seizure(1)
    reference = _reference(1)
    assert {29, 30, 31, 32, 33} <= {distance for distance, _ in reference.values()}
    tied = better_later = 0
    for (item, entry), (distance, variant) in reference.items():
        entry_hex = listed[entry - 1].tobytes().hex()
        each = [PDQ.distance(v.tobytes().hex(), entry_hex) for v in items[item - 1]]
        tied += each.count(distance) >= 2
        better_later += any(d <= _WIDEST for d in each[: VARIANT_NAMES.index(variant)])
    assert tied >= 5 and better_later >= 5


@pytest.mark.parametrize("multi_index", [False, True], ids=["brute-force", "multi-index"])
@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "worker-pool"])
def test_bulk_matching_equals_brute_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          multi_index: bool, workers: int) -> None:
    if multi_index:
        monkeypatch.setattr(pdq_index, "BRUTE_FORCE_BELOW", 0)  # a list this small would be brute force
    monkeypatch.setattr(engine, "_BATCH", 64)  # several batches, the last one short
    monkeypatch.setattr(engine, "_PARALLEL_FROM", 100)
    store = _case(tmp_path, *_seizure(1))
    settings = Settings(workers=workers)
    match_case(store, settings)
    meta = json.loads((segment_dir(store.case_dir, 1) / "segment.json").read_text())
    assert bool(meta["widths"]) is multi_index
    expected = _expected(1, settings.pdq_threshold)
    assert len(expected) > 50
    assert _found(store) == expected


def test_a_wider_threshold_probes_further_and_still_equals_brute_force(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdq_index, "BRUTE_FORCE_BELOW", 0)
    store = _case(tmp_path, *_seizure(1))
    settings = Settings(workers=1, pdq_threshold=_WIDEST)  # two flipped bits per chunk key, not one
    match_case(store, settings)
    assert _found(store) == _expected(1, _WIDEST)


def test_queries_probed_in_many_short_sweeps_still_equal_brute_force(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk takes the queries in key order, a few hundred probes at a time: no sweep's edge loses a pair."""
    monkeypatch.setattr(pdq_index, "BRUTE_FORCE_BELOW", 0)
    monkeypatch.setattr(pdq_index, "_SWEEP_PROBES", 997)
    store = _case(tmp_path, *_seizure(1))
    settings = Settings(workers=1)
    match_case(store, settings)
    assert _found(store) == _expected(1, settings.pdq_threshold)


def test_a_batch_is_one_probe_per_segment_not_one_per_item(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probes: list[int] = []
    bulk = PdqSegment.best_pairs

    def counted(segment: PdqSegment, queries: np.ndarray, groups: np.ndarray, threshold: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        probes.append(len(queries))
        return bulk(segment, queries, groups, threshold)

    def per_item(*_: object) -> None:
        raise AssertionError("matching queried the index one item at a time")

    monkeypatch.setattr(PdqSegment, "best_pairs", counted)
    monkeypatch.setattr(PdqSegment, "query", per_item)
    monkeypatch.setattr(engine, "_BATCH", 100)
    store = _case(tmp_path, *_seizure(1))
    match_case(store, Settings(workers=1))
    assert probes == [100 * _VARIANTS, 100 * _VARIANTS, 50 * _VARIANTS]


def _spread(rng: np.random.Generator, hashed: np.ndarray, widths: tuple[int, ...], flips: list[int]) -> np.ndarray:
    """`hashed` with flips[c] bits flipped inside chunk c (chunks read big-endian, as the index reads them)."""
    bits = np.unpackbits(hashed)
    start = 0
    for width, count in zip(widths, flips, strict=True):
        bits[start + rng.choice(width, size=count, replace=False)] ^= 1
        start += width
    return np.packbits(bits)


@pytest.mark.parametrize("threshold", [31, 40])
def test_a_copy_reachable_through_one_chunk_only_is_found(threshold: int) -> None:
    """At distance exactly the threshold (m * a + b), a copy whose only chunk within reach is chunk b (at a
    bits), or one of the later chunks (at a - 1 bits), is still found: the sharper pigeonhole's edges."""
    rng = np.random.default_rng(threshold)
    listed = _random_hashes(rng, 2_000)
    segment = PdqSegment.build(np.arange(10, 2_010), listed, multi_index=True)
    m = len(segment.widths)
    a, b = divmod(threshold, m)
    through_b = [a + 1] * b + [a] * (m - b)
    through_later = [a + 1] * (b + 1) + [a - 1] + [a] * (m - b - 2)
    for flips in (through_b, through_later):
        assert sum(flips) == threshold
        target = int(rng.integers(2_000))
        query = _spread(rng, listed[target], segment.widths, flips)
        assert PDQ.distance(query.tobytes().hex(), listed[target].tobytes().hex()) == threshold
        _, ids, distances, _ = segment.best_pairs(query[np.newaxis], np.zeros(1, dtype=np.int64), threshold)
        assert (10 + target, threshold) in set(zip(ids.tolist(), distances.tolist(), strict=True))
        assert 10 + target in segment.pairs(query[np.newaxis], threshold)[1].tolist()
