"""An exact PDQ index: multi-index hashing over memory-mapped segments, one segment per hash list.

Why it is exact: the 256 bits are cut into m chunks. Two hashes within distance r differ, by the
pigeonhole principle, in at most r // m bits of at least one chunk, so probing every key within r // m
bits of each query chunk finds every hash within r, and the full distance is then checked. Sharper (as in
Norouzi et al.'s multi-index hashing): with r = m * a + b, one of the first b + 1 chunks is within a bits
or one of the others within a - 1, so the others are probed one bit less deep.

Why segments: adding a hash list writes one new segment and leaves the others untouched (no rebuild).
Each segment is a folder of `.npy` files opened with `mmap_mode="r"` (no pickle, no parse step), so the
operating system shares one copy between all worker processes.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from vigie.records import HASH_BYTES

FORMAT_VERSION = 1
BRUTE_FORCE_BELOW = 20_000
_MAX_CHUNK_BITS = 24
_MIN_CHUNK_BITS = 8
# Chunks this many bits wider than log2(rows): a bucket holds about 1/16 row, so a query costs its probes
# (cheap, sequential in each bucket table) rather than candidate rows (a random read of each row's hash):
# at 1M rows and a threshold of 31, 11 chunks of 23-24 bits ran 2.3 times faster than 13 of 19-20.
_BITS_OVER_LOG2 = 4
_KEY_BLOCK = 1 << 18
_QUERY_BLOCK = 48  # queries probed at once: bounds the (queries x chunks x probes) arrays
_PAIR_BLOCK = 1 << 17  # independent queries probed at once by `pairs`: many, so probes sweep in key order
_SWEEP_PROBES = 1 << 21  # probes looked up at once: bounds the temporaries of one sweep
_DISTANCE_CELLS = 1 << 19  # (query, row) distances computed at once by brute force: fast in cache


@dataclass(frozen=True)
class IndexHit:
    row: int  # row within the segment
    id: int  # the caller's id for that row (a list entry or an item)
    distance: int
    variant: int  # which query hash (e.g. which dihedral variant) matched best


def as_words(hashes: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 -> (n, 4) uint64 for XOR/popcount; byte order is irrelevant to Hamming distance."""
    return np.ascontiguousarray(hashes, dtype=np.uint8).view(np.uint64).reshape(-1, 4)


def hex_to_array(hex_hashes: list[str]) -> np.ndarray:
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hex_hashes), dtype=np.uint8).reshape(-1, HASH_BYTES)


def _distances(words: np.ndarray, query_words: np.ndarray) -> np.ndarray:
    """Hamming distances, shape (len(query_words), len(words)); word by word, so temporaries stay small."""
    total = np.zeros((len(query_words), len(words)), dtype=np.int32)
    for k in range(4):
        total += np.bitwise_count(np.bitwise_xor.outer(query_words[:, k], words[:, k]))
    return total


def _as_rows(words: np.ndarray) -> np.ndarray:
    """(n, 4) uint64 -> n opaque 32-byte rows: `np.take` copies such rows in half the time of `axis=0`."""
    return np.ascontiguousarray(words).view(np.dtype((np.void, HASH_BYTES))).reshape(-1)


def _row_distances(differ: np.ndarray) -> np.ndarray:
    """Hamming weight of each 256-bit row of XORed words (flat uint64, 4 a row): the 4 words' bit counts
    (a byte each) summed in two steps of 16-bit lanes, as each sum can reach 256. Four times faster than
    `np.add.reduce(..., axis=1)` on rows this short."""
    counts = np.bitwise_count(differ).view(np.uint32)
    pairs = (counts & 0x00FF00FF) + ((counts >> 8) & 0x00FF00FF)
    distances: np.ndarray = ((pairs & 0xFFFF) + (pairs >> 16)).astype(np.int32)
    return distances


def _best_per_row(rows: np.ndarray, distances: np.ndarray, variants: np.ndarray, threshold: int,
                  ids: np.ndarray) -> list[IndexHit]:
    keep = distances <= threshold
    rows, distances, variants = rows[keep], distances[keep], variants[keep]
    if rows.size == 0:
        return []
    best = _best_of_each(rows, distances, variants)
    return [
        IndexHit(int(r), int(ids[r]), int(d), int(v))
        for r, d, v in zip(rows[best], distances[best], variants[best], strict=True)
    ]


def _best_of_each(keys: np.ndarray, distances: np.ndarray, variants: np.ndarray) -> np.ndarray:
    """Indices of one entry per key: the smallest distance, ties to the lowest variant (query index)."""
    order = np.lexsort((variants, distances, keys))
    first = np.ones(order.size, dtype=bool)
    first[1:] = keys[order[1:]] != keys[order[:-1]]
    return order[first]


def brute_force(ids: np.ndarray, hashes: np.ndarray, queries: np.ndarray, threshold: int) -> list[IndexHit]:
    """The reference: compare every query with every row. Indexes are tested against this."""
    words = as_words(hashes)
    query_words = as_words(queries)
    hits: list[IndexHit] = []
    block = max(1, 4_000_000 // max(1, len(query_words)))
    for start in range(0, len(words), block):
        dist = _distances(words[start : start + block], query_words)
        variant_idx, rows = np.nonzero(dist <= threshold)
        hits.extend(
            IndexHit(int(start + r), 0, int(dist[v, r]), int(v)) for v, r in zip(variant_idx, rows, strict=True)
        )
    if not hits:
        return []
    rows_arr = np.array([h.row for h in hits])
    return _best_per_row(rows_arr, np.array([h.distance for h in hits]), np.array([h.variant for h in hits]),
                         threshold, ids)


def chunk_layout(n: int) -> tuple[int, ...]:
    """Chunk widths for n rows: about log2(n) + 4 bits each (so few rows share a bucket), at most 24."""
    bits = min(_MAX_CHUNK_BITS, max(_MIN_CHUNK_BITS, math.ceil(math.log2(max(n, 2))) + _BITS_OVER_LOG2))
    chunks = math.ceil(256 / bits)
    base, extra = divmod(256, chunks)
    return tuple(base + 1 if i < extra else base for i in range(chunks))


def chunk_keys(hashes: np.ndarray, widths: tuple[int, ...]) -> np.ndarray:
    """(n, 32) uint8 -> (n, m) uint32: each chunk's bits read big-endian from the hash bytes."""
    keys = np.empty((hashes.shape[0], len(widths)), dtype=np.uint32)
    for block in range(0, hashes.shape[0], _KEY_BLOCK):  # bounded temporaries for 10M-row lists
        rows = hashes[block : block + _KEY_BLOCK]
        padded = np.zeros((rows.shape[0], HASH_BYTES + 5), dtype=np.uint64)
        padded[:, :HASH_BYTES] = rows
        start = 0
        for c, width in enumerate(widths):
            byte, offset = divmod(start, 8)
            window = np.zeros(rows.shape[0], dtype=np.uint64)
            for k in range(5):
                window |= padded[:, byte + k] << np.uint64(8 * (4 - k))
            keys[block : block + _KEY_BLOCK, c] = (window >> np.uint64(40 - offset - width)) & np.uint64(
                (1 << width) - 1
            )
            start += width
    return keys


@lru_cache(maxsize=64)
def _probe_masks(width: int, radius: int) -> np.ndarray:
    masks = [0]
    for flips in range(1, min(radius, width) + 1):
        masks.extend(sum(1 << b for b in combo) for combo in itertools.combinations(range(width), flips))
    return np.array(masks, dtype=np.uint32)


def _sweeps(sorted_keys: np.ndarray, masks: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first query, its block of keys, the block's probe buckets laid out mask by mask) in steps of about
    `_SWEEP_PROBES` probes: keys sorted, then XORed by one mask, stay sorted in their high bits, so each mask's
    probes move forward through the bucket table."""
    for start in range(0, len(sorted_keys), _SWEEP_PROBES):
        block = sorted_keys[start : start + _SWEEP_PROBES]
        per_step = max(1, _SWEEP_PROBES // len(block))
        for first in range(0, len(masks), per_step):
            yield start, block, (masks[first : first + per_step, np.newaxis] ^ block[np.newaxis, :]).reshape(-1)


def stacked_variants(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """The query hashes of several items' variant blobs in one array, and how many each item has."""
    rows = [variant_rows(blob) for blob in blobs]
    return np.concatenate(rows), np.array([len(r) for r in rows], dtype=np.int64)


def variant_rows(blob: bytes) -> np.ndarray:
    """One item's stored variants (a blob of 32-byte hashes) as rows of bytes."""
    return np.frombuffer(blob, dtype=np.uint8).reshape(-1, HASH_BYTES)


class PdqSegment:
    """An immutable set of hashes with their ids, searchable exactly within any threshold."""

    def __init__(self, ids: np.ndarray, hashes: np.ndarray, widths: tuple[int, ...],
                 order: np.ndarray | None, offsets: np.ndarray | None) -> None:
        self.ids = ids
        self.hashes = hashes
        self.words = np.asarray(hashes).view(np.uint64).reshape(-1, 4)
        self.widths = widths
        self.order = order
        self.offsets = offsets
        self._occupied_by_chunk: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def build(cls, ids: np.ndarray, hashes: np.ndarray, multi_index: bool | None = None) -> PdqSegment:
        """`multi_index`: None decides by size; True for a segment that many queries will probe at once."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        hashes = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        n = len(ids)
        if not multi_index and (multi_index is False or n < BRUTE_FORCE_BELOW):
            return cls(ids, hashes, (), None, None)
        widths = chunk_layout(n)
        buckets = 1 << max(widths)
        order = np.empty((len(widths), n), dtype=np.uint32)
        offsets = np.empty((len(widths), buckets + 1), dtype=np.uint32)
        keys = chunk_keys(hashes, widths)
        for c in range(len(widths)):
            column = keys[:, c]
            order[c] = np.argsort(column, kind="stable")
            offsets[c, 0] = 0
            np.cumsum(np.bincount(column, minlength=buckets), out=offsets[c, 1:])
        return cls(ids, hashes, widths, order, offsets)

    def query(self, queries: np.ndarray, threshold: int) -> list[IndexHit]:
        """Rows within `threshold` of any of `queries` ((k, 32) uint8), each with its best distance."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if self.order is None or self.offsets is None:
            return brute_force(self.ids, np.asarray(self.hashes), queries, threshold)
        if len(queries) <= _QUERY_BLOCK:
            return self._query_block(queries, threshold, 0)
        hits = [h for start in range(0, len(queries), _QUERY_BLOCK)
                for h in self._query_block(queries[start : start + _QUERY_BLOCK], threshold, start)]
        return _best_per_row(np.array([h.row for h in hits], dtype=np.int64),
                             np.array([h.distance for h in hits], dtype=np.int32),
                             np.array([h.variant for h in hits], dtype=np.int64), threshold, self.ids)

    def _query_block(self, queries: np.ndarray, threshold: int, first_variant: int) -> list[IndexHit]:
        rows, variants, distances = self._candidates(queries, threshold)
        return _best_per_row(rows, distances, variants + first_variant, threshold, self.ids)

    def pairs(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
        """Every (query index, id) within `threshold`, for many independent queries at once (stacking)."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        found = list(self._within(queries, threshold))
        if not found:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        rows = np.concatenate([r for _, r, _ in found])
        return np.concatenate([q for q, _, _ in found]).astype(np.int64), np.asarray(self.ids)[rows].astype(np.int64)

    def best_pairs(self, queries: np.ndarray, groups: np.ndarray, threshold: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Many groups of queries at once (each item's variants; `groups[i]` is query i's group): every
        (group, row) within `threshold`, once, with its best distance and, of the queries at that distance,
        the first. Returns (group, id, distance, query index) arrays; the same answer as `query` per group."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        found = list(self._within(queries, threshold))
        query_idx = np.concatenate([q for q, _, _ in found]) if found else np.empty(0, dtype=np.int64)
        if query_idx.size == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty, empty
        rows = np.concatenate([r for _, r, _ in found]).astype(np.int64)
        distances = np.concatenate([d for _, _, d in found]).astype(np.int64)
        group_of = np.asarray(groups, dtype=np.int64)[query_idx]
        best = _best_of_each(group_of * len(self) + rows, distances, query_idx)
        return group_of[best], np.asarray(self.ids)[rows[best]].astype(np.int64), distances[best], query_idx[best]

    def _within(self, queries: np.ndarray, threshold: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(query index, row, distance) of the pairs within `threshold`, block by block; the multi-index
        layout may give a pair more than once."""
        if self.order is None:
            block = max(1, _DISTANCE_CELLS // max(1, len(self)))
            for start in range(0, len(queries), block):
                dist = _distances(self.words, as_words(queries[start : start + block]))
                query_idx, rows = np.nonzero(dist <= threshold)
                yield query_idx + start, rows, dist[query_idx, rows]
        else:
            for start in range(0, len(queries), _PAIR_BLOCK):
                rows, variants, distances = self._candidates(queries[start : start + _PAIR_BLOCK], threshold)
                yield variants + start, rows, distances

    def _candidates(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, query index, distance) of every row within `threshold` that shares a probed chunk key with a
        query (a pair may come more than once, through several chunks)."""
        assert self.order is not None and self.offsets is not None
        # threshold = m * radius + spare: were the first spare + 1 chunks each more than radius bits off
        # and the others more than radius - 1, the distance would exceed the threshold. So those others
        # need only the probes of radius - 1 (none at all when radius is 0).
        radius, spare = divmod(threshold, len(self.widths))
        keys = chunk_keys(queries, self.widths)  # (k, m)
        query_words = as_words(queries)
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for chunk, width in enumerate(self.widths):
            depth = radius if chunk <= spare else radius - 1
            if depth >= 0:
                masks = _probe_masks(width, depth)  # within the chunk's width, so every probe is a real key
                found.extend(self._chunk_candidates(chunk, keys[:, chunk], masks, query_words, threshold))
        if not found:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty.astype(np.int32)
        rows, owners, distances = zip(*found, strict=True)
        return np.concatenate(rows), np.concatenate(owners), np.concatenate(distances)

    def _occupied(self, chunk: int) -> np.ndarray:
        """Which buckets of a chunk hold rows, one byte each: most probes find an empty bucket, and this
        answers them at a quarter of the cost of reading the bucket table's two offsets."""
        assert self.offsets is not None
        if chunk not in self._occupied_by_chunk:
            table = self.offsets[chunk]
            self._occupied_by_chunk[chunk] = table[1:] != table[:-1]
        return self._occupied_by_chunk[chunk]

    def _chunk_candidates(self, chunk: int, column: np.ndarray, masks: np.ndarray, query_words: np.ndarray,
                          threshold: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """One chunk's share of `_candidates`. The queries are taken in key order and probed mask by mask, so
        each mask's probes sweep the bucket table forward instead of jumping about it: the table of a large
        index (64 MB a chunk at 1M rows) is read as a stream rather than one cache miss a probe."""
        assert self.order is not None and self.offsets is not None
        table, order = self.offsets[chunk], self.order[chunk]
        by_key = np.argsort(column, kind="stable")
        sorted_keys = column[by_key].astype(np.intp)  # index arrays of the platform's type: no conversion per probe
        sorted_words = np.take(_as_rows(query_words), by_key)  # a sweep then reads its queries' hashes in order
        index_words = _as_rows(self.words)
        occupied = self._occupied(chunk)
        for start, block, bucket in _sweeps(sorted_keys, masks.astype(np.intp)):
            present = np.flatnonzero(occupied[bucket])
            if present.size == 0:
                continue
            hit = bucket[present]
            first = table[hit].astype(np.intp)
            length = table[hit + 1] - first
            total = int(length.sum())
            rows = np.take(order, np.repeat(first - np.cumsum(length) + length, length) + np.arange(total)
                           ).astype(np.intp)
            owners = np.repeat(start + present % len(block), length)  # in key order
            differ = np.take(index_words, rows).view(np.uint64)  # take, then xor in place: no third array
            differ ^= np.take(sorted_words, owners).view(np.uint64)
            distances = _row_distances(differ)
            keep = distances <= threshold
            yield rows[keep], by_key[owners[keep]], distances[keep]

    # --- persistence ----------------------------------------------------------------------------

    def save(self, folder: Path, info: dict[str, object]) -> None:
        """Write to `folder` atomically: a half-written segment is never visible."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
        np.save(staging / "ids.npy", self.ids)
        np.save(staging / "hashes.npy", np.asarray(self.hashes))
        if self.order is not None and self.offsets is not None:
            np.save(staging / "order.npy", self.order)
            np.save(staging / "offsets.npy", self.offsets)
        meta = {"format": FORMAT_VERSION, "rows": len(self), "widths": list(self.widths), **info}
        (staging / "segment.json").write_text(json.dumps(meta, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)

    @classmethod
    def load(cls, folder: Path) -> tuple[PdqSegment, dict[str, object]]:
        meta = json.loads((folder / "segment.json").read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: unsupported index format {meta.get('format')!r}")

        def array(name: str) -> np.ndarray:
            loaded: np.ndarray = np.load(folder / name, mmap_mode="r", allow_pickle=False)
            return loaded

        ids, hashes = array("ids.npy"), array("hashes.npy")
        widths = tuple(int(w) for w in meta["widths"])
        order = array("order.npy") if widths else None
        offsets = array("offsets.npy") if widths else None
        if hashes.shape != (len(ids), HASH_BYTES):
            raise ValueError(f"{folder}: hashes and ids disagree in length; `vigie match` rebuilds it from the case")
        return cls(ids, hashes, widths, order, offsets), meta
