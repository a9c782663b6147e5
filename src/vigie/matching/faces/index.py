"""Pairs of face embeddings closer than a threshold, through an approximate-neighbour index (usearch HNSW).

Grouping needs every pair within the match distance. Comparing all pairs costs N²; instead each face asks
the index for its k nearest faces, and pairs within the threshold become edges. A face whose k-th
neighbour is still within the threshold may have more: it asks again with 2k, up to `max_k`. So the
edges equal the all-pairs ones (up to the index's recall, which is near 1 on these sizes) unless a face
has more than `max_k - 1` others within the threshold; such a face keeps only its `max_k - 1` nearest,
which normally still join it to its person, but the edge set is then a subset of the exact one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vigie.signals.faces import FaceModelError

FIRST_K = 32
MAX_K = 512
_CONNECTIVITY = 16  # HNSW links per node: usearch's default, enough for 128-d embeddings
_EXPANSION_ADD = 64  # 32 lost about 1% of the close pairs among 30k synthetic faces; 64 none
_EXPANSION_SEARCH = 64
_CHUNK = 1 << 20  # rows x k per search batch, to bound its memory


class FaceIndexError(FaceModelError):
    """The approximate-neighbour library (usearch, in the `faces` extra) is missing."""


def _build_index(vectors: np.ndarray) -> Any:
    try:
        from usearch.index import Index
    except ImportError as exc:
        raise FaceIndexError("face grouping needs usearch: pip install 'vigie[faces]'") from exc
    # Squared L2 matches the Euclidean threshold dlib's embeddings are calibrated for.
    index = Index(ndim=128, metric="l2sq", dtype="f32", connectivity=_CONNECTIVITY,
                  expansion_add=_EXPANSION_ADD, expansion_search=_EXPANSION_SEARCH)
    # One thread: usearch's concurrent inserts lost neighbours on clustered embeddings (hundreds of
    # close pairs in 50k, differing run to run); serial inserts build the same graph every time.
    index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=1)
    return index


def _close_neighbours(
    index: Any, vectors: np.ndarray, rows: np.ndarray, k: int, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(neighbour rows (len(rows), k), which of them lie within `threshold`): for `pairs_within`."""
    matches = index.search(vectors[rows], k)
    keys = np.asarray(matches.keys, dtype=np.int64).reshape(len(rows), -1)
    approximate = np.asarray(matches.distances, dtype=np.float64).reshape(len(rows), -1)  # padding is NaN
    # The index only proposes: neighbours near the threshold by its float32 distance are measured again
    # in float64, and that measure decides.
    candidate_rows, candidate_cols = np.nonzero(approximate <= threshold**2 * (1 + 1e-4) + 1e-6)
    gaps = vectors[keys[candidate_rows, candidate_cols]].astype(np.float64) - vectors[rows[candidate_rows]]
    close = np.zeros(keys.shape, dtype=bool)
    close[candidate_rows, candidate_cols] = np.sqrt((gaps**2).sum(axis=1)) <= threshold
    return keys, close


def pairs_within(
    vectors: np.ndarray, threshold: float, first_k: int = FIRST_K, max_k: int = MAX_K
) -> list[tuple[int, int]]:
    """Row pairs (i < j) with Euclidean distance <= `threshold`, sorted, found through the kNN graph."""
    count = len(vectors)
    if count < 2:
        return []
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = _build_index(vectors)
    pairs: set[tuple[int, int]] = set()
    pending = np.arange(count)
    k = min(first_k, count)
    while len(pending):
        saturated = []
        batch = max(1, _CHUNK // k)
        for start in range(0, len(pending), batch):
            rows = pending[start : start + batch]
            keys, close = _close_neighbours(index, vectors, rows, k, threshold)
            near_rows, near_cols = np.nonzero(close & (keys != rows[:, None]))
            for a, b in zip(rows[near_rows].tolist(), keys[near_rows, near_cols].tolist(), strict=True):
                pairs.add((a, b) if a < b else (b, a))
            saturated.append(rows[close.all(axis=1)])
        if k >= min(max_k, count):
            break
        # A full row of close neighbours may hide more: ask those faces again with a larger k.
        pending = np.concatenate(saturated)
        k = min(k * 2, max_k, count)
    return sorted(pairs)
