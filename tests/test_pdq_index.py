from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vigie.matching import pdq_index
from vigie.matching.pdq_index import BRUTE_FORCE_BELOW, PdqSegment, brute_force, chunk_layout


def _with_flips(rng: np.random.Generator, hashes: np.ndarray, flips: int) -> np.ndarray:
    bits = np.unpackbits(hashes)
    positions = rng.choice(256, size=flips, replace=False)
    bits[positions] ^= 1
    return np.packbits(bits)


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n = BRUTE_FORCE_BELOW * 3
    return np.arange(n, dtype=np.int64) * 10, rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def _as_set(hits: list) -> set[tuple[int, int, int]]:  # type: ignore[type-arg]
    return {(h.row, h.id, h.distance) for h in hits}


@pytest.mark.parametrize("threshold", [0, 10, 31, 40])
def test_index_is_exact_against_brute_force(corpus: tuple[np.ndarray, np.ndarray], threshold: int) -> None:
    ids, hashes = corpus
    segment = PdqSegment.build(ids, hashes)
    assert segment.widths, "large segments use the multi-index"
    rng = np.random.default_rng(threshold)
    for distance in range(0, 48, 3):
        row = int(rng.integers(len(ids)))
        query = _with_flips(rng, hashes[row], distance)[np.newaxis, :]
        found = segment.query(query, threshold)
        assert _as_set(found) == _as_set(brute_force(ids, hashes, query, threshold))
        assert (row in {h.row for h in found}) == (distance <= threshold)


def test_a_million_rows_are_cut_in_wide_chunks() -> None:
    """Buckets of about 1/16 row: a query's cost is its probes, not random reads of candidate rows
    (13 chunks of 19-20 bits before: about one row per bucket, 2.3 times slower at 1M rows)."""
    widths = chunk_layout(1_000_000)
    assert sum(widths) == 256
    assert len(widths) == 11 and set(widths) == {23, 24}
    assert len(chunk_layout(60_000)) == 13  # the corpus above: radius 2 in some chunks, 1 in the others


@pytest.mark.parametrize("sweep", [100, 1_000, 1 << 21])
def test_pairs_of_many_queries_equal_brute_force(corpus: tuple[np.ndarray, np.ndarray],
                                                 monkeypatch: pytest.MonkeyPatch, sweep: int) -> None:
    """Many independent queries at once (stacking), probed in key order in sweeps short or long."""
    monkeypatch.setattr(pdq_index, "_SWEEP_PROBES", sweep)
    ids, hashes = corpus
    segment = PdqSegment.build(ids, hashes)
    rng = np.random.default_rng(11)
    rows = rng.integers(len(ids), size=400)
    queries = np.stack([_with_flips(rng, hashes[row], int(rng.integers(0, 40))) for row in rows])
    query_idx, hit_ids = segment.pairs(queries, 31)
    expected = {(q, h.id) for q in range(len(queries))
                for h in brute_force(ids, hashes, queries[q : q + 1], 31)}
    assert set(zip(query_idx.tolist(), hit_ids.tolist(), strict=True)) == expected
    assert len(expected) > 200


def test_several_query_variants_report_the_best(corpus: tuple[np.ndarray, np.ndarray]) -> None:
    ids, hashes = corpus
    segment = PdqSegment.build(ids, hashes)
    rng = np.random.default_rng(3)
    far = _with_flips(rng, hashes[5], 30)
    near = _with_flips(rng, hashes[5], 4)
    hits = segment.query(np.stack([far, near]), 31)
    mine = [h for h in hits if h.row == 5]
    assert len(mine) == 1 and mine[0].distance == 4 and mine[0].variant == 1 and mine[0].id == 50


def test_saved_segment_is_memory_mapped_and_answers_the_same(
    tmp_path: Path, corpus: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, hashes = corpus
    built = PdqSegment.build(ids, hashes)
    built.save(tmp_path / "seg", {"list_id": 1})
    loaded, info = PdqSegment.load(tmp_path / "seg")
    assert info["list_id"] == 1
    assert isinstance(loaded.order, np.memmap)
    assert not any(p.suffix == ".pkl" for p in (tmp_path / "seg").iterdir())
    query = _with_flips(np.random.default_rng(1), hashes[77], 12)[np.newaxis, :]
    assert _as_set(loaded.query(query, 31)) == _as_set(built.query(query, 31))


def test_small_segments_use_brute_force() -> None:
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 256, size=(50, 32), dtype=np.uint8)
    segment = PdqSegment.build(np.arange(50), hashes)
    assert segment.widths == ()
    assert [h.row for h in segment.query(hashes[3:4], 0)] == [3]


def test_row_distances_count_every_bit_up_to_all_256() -> None:
    """The byte-wise sum of the four words' bit counts must not wrap: 256 differing bits is not 0."""
    rows = np.zeros((4, 32), dtype=np.uint8)
    rows[1, 0] = 0b1011
    rows[2] = 0xFF
    rows[3, ::2] = 0xFF
    differ = pdq_index.as_words(rows).reshape(-1)
    assert pdq_index._row_distances(differ).tolist() == [0, 3, 256, 128]
