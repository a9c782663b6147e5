"""Pairs of face embeddings closer than a threshold, through an approximate-neighbour index (usearch HNSW).

Grouping needs every pair within the match distance. Comparing all pairs costs N²; instead each face asks
the index for its k nearest faces, and pairs within the threshold become edges. A face whose k-th
neighbour is still within the threshold may have more: it asks again with 2k, up to `max_k`. So the
edges equal the all-pairs ones (up to the index's recall, which is near 1 on these sizes) unless a face
has more than `max_k - 1` others within the threshold; such a face keeps only its `max_k - 1` nearest,
which normally still join it to its person, but the edge set is then a subset of the exact one.

The index is keyed by face id, so faces can be added to it later and only they asked about
(`vigie.matching.faces.grouping` keeps it in the case folder between groupings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vigie.signals.faces import FaceModelError

FIRST_K = 32
MAX_K = 512
_CONNECTIVITY = 16  # HNSW links per node: usearch's default, enough for 128-d embeddings
_EXPANSION_ADD = 64  # 32 lost about 1% of the close pairs among 30k synthetic faces; 64 none
_EXPANSION_SEARCH = 64
_CHUNK = 1 << 20  # rows x k per search batch, to bound its memory
# What a saved index must have been built with to be reused.
PARAMETERS = {"library": "usearch", "ndim": 128, "metric": "l2sq", "dtype": "f32", "connectivity": _CONNECTIVITY,
              "expansion_add": _EXPANSION_ADD, "expansion_search": _EXPANSION_SEARCH, "first_k": FIRST_K,
              "max_k": MAX_K}


class FaceIndexError(FaceModelError):
    """The approximate-neighbour library (usearch, in the `faces` extra) is missing."""


def _new_index() -> Any:
    try:
        from usearch.index import Index
    except ImportError as exc:
        raise FaceIndexError("face grouping needs usearch: pip install 'vigie[faces]'") from exc
    # Squared L2 matches the Euclidean threshold dlib's embeddings are calibrated for.
    return Index(ndim=128, metric="l2sq", dtype="f32", connectivity=_CONNECTIVITY,
                 expansion_add=_EXPANSION_ADD, expansion_search=_EXPANSION_SEARCH)


class FaceIndex:
    """Face embeddings keyed by face id in usearch's HNSW graph."""

    def __init__(self) -> None:
        self._index = _new_index()

    @classmethod
    def load(cls, path: Path) -> FaceIndex:
        """A saved index (usearch's own file format); ValueError when the file is not one of this shape."""
        loaded = cls()
        try:
            loaded._index.load(str(path))
        except (RuntimeError, ValueError) as exc:  # usearch's words for a truncated or foreign file
            raise ValueError(f"usearch cannot read it ({exc})") from exc
        index = loaded._index
        shape = (index.ndim, str(index.metric).rsplit(".", 1)[-1].lower(), str(index.dtype).rsplit(".", 1)[-1].lower(),
                 index.connectivity)
        if shape != (128, "l2sq", "f32", _CONNECTIVITY):
            raise ValueError(f"it is not a face index of this version (dimensions, metric, type, links: {shape})")
        index.expansion_add, index.expansion_search = _EXPANSION_ADD, _EXPANSION_SEARCH  # not kept in the file
        return loaded

    def save(self, path: Path) -> None:
        self._index.save(str(path))

    def __len__(self) -> int:
        return len(self._index)

    def ids(self) -> np.ndarray:
        """Every face id held, ascending."""
        return np.sort(np.asarray(self._index.keys, dtype=np.int64))

    def add(self, face_ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(face_ids):
            # One thread: usearch's concurrent inserts lost neighbours on clustered embeddings (hundreds of
            # close pairs in 50k, differing run to run); serial inserts build the same graph every time.
            self._index.add(np.asarray(face_ids, dtype=np.uint64), np.ascontiguousarray(vectors, dtype=np.float32),
                            threads=1)

    def vectors(self, face_ids: np.ndarray) -> np.ndarray:
        """The stored embeddings of these faces (each must be held), in their order."""
        if not len(face_ids):
            return np.zeros((0, 128), dtype=np.float32)
        unique, where = np.unique(face_ids, return_inverse=True)
        return np.stack(self._index.get(unique.astype(np.uint64)))[where]

    def _close_neighbours(self, faces: np.ndarray, k: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(neighbour ids (len(faces), k), which of them lie within `threshold`): for `close_pairs`."""
        queries = self.vectors(faces)
        matches = self._index.search(queries, k)
        keys = np.asarray(matches.keys, dtype=np.int64).reshape(len(faces), -1)
        approximate = np.asarray(matches.distances, dtype=np.float64).reshape(len(faces), -1)  # padding is NaN
        # The index only proposes: neighbours near the threshold by its float32 distance are measured again
        # in float64, and that measure decides.
        candidate_rows, candidate_cols = np.nonzero(approximate <= threshold**2 * (1 + 1e-4) + 1e-6)
        gaps = (self.vectors(keys[candidate_rows, candidate_cols]).astype(np.float64)
                - queries[candidate_rows].astype(np.float64))
        close = np.zeros(keys.shape, dtype=bool)
        close[candidate_rows, candidate_cols] = np.sqrt((gaps**2).sum(axis=1)) <= threshold
        return keys, close

    def close_pairs(self, face_ids: np.ndarray, threshold: float, first_k: int = FIRST_K, max_k: int = MAX_K
                    ) -> set[tuple[int, int]]:
        """Id pairs (a < b) within `threshold` where a or b is one of `face_ids` (all held by the index)."""
        count = len(self)
        pairs: set[tuple[int, int]] = set()
        pending = np.asarray(face_ids, dtype=np.int64)
        k = min(first_k, count)
        while len(pending) and count >= 2:
            saturated = []
            batch = max(1, _CHUNK // k)
            for start in range(0, len(pending), batch):
                faces = pending[start : start + batch]
                keys, close = self._close_neighbours(faces, k, threshold)
                near_rows, near_cols = np.nonzero(close & (keys != faces[:, None]))
                for a, b in zip(faces[near_rows].tolist(), keys[near_rows, near_cols].tolist(), strict=True):
                    pairs.add((a, b) if a < b else (b, a))
                saturated.append(faces[close.all(axis=1)])
            if k >= min(max_k, count):
                break
            # A full row of close neighbours may hide more: ask those faces again with a larger k.
            pending = np.concatenate(saturated)
            k = min(k * 2, max_k, count)
        return pairs


def pairs_within(
    vectors: np.ndarray, threshold: float, first_k: int = FIRST_K, max_k: int = MAX_K
) -> list[tuple[int, int]]:
    """Row pairs (i < j) with Euclidean distance <= `threshold`, sorted, found through the kNN graph."""
    if len(vectors) < 2:
        return []
    index = FaceIndex()
    rows = np.arange(len(vectors))
    index.add(rows, vectors)
    return sorted(index.close_pairs(rows, threshold, first_k, max_k))
