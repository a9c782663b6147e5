"""Triage: stacks of exact duplicates and PDQ near-duplicates (flips, rotations and crops included), so a
reviewer sees each image once, through its best copy. The review order is the queue's (store/review.py).

Stacking is incremental: each run takes only the items not yet stacked (queued with each item as it is stored:
no id range, since in PostgreSQL a lower id may commit after a higher one was stacked), links them to earlier
items through a persistent index of the case's item hashes (memory-mapped segments under `index/items/`, one
appended per run, merged as they pile up) and through their SHA-256, and unions them into the stacks already
stored. A change of PDQ settings starts the stacks over.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vigie.config import Settings
from vigie.matching.pdq_index import PdqSegment, stacked_variants
from vigie.matching.roles import StackStore
from vigie.workers import start_worker

ITEM_INDEX_DIR = Path("index") / "items"
STATE_KEY = "stacks_state"
# Every item probes the index with its 24 query variants: brute force would grow as n squared at any size.
_MULTI_INDEX = True
# Items from which the `workers` processes share the probing (each maps the index segments from disk).
_PARALLEL_FROM = 20_000


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


@dataclass
class _State:
    """What the stored stacks were built under: these settings, the items indexed in `segments`."""

    threshold: int
    min_quality: int
    segments: list[tuple[str, int]] = field(default_factory=list)  # (folder name, rows), oldest first


def build_stacks(store: StackStore, settings: Settings) -> int:
    """Bring the stacks up to date with the items not yet stacked; returns how many there are."""
    state = _load_state(store, settings)
    index_dir = store.case_dir / ITEM_INDEX_DIR
    try:
        segments = [PdqSegment.load(index_dir / name)[0] for name, _ in state.segments]
    except (OSError, ValueError):  # a damaged index: the store is the source of truth, start over from it
        state = _start_over(store, settings)
        segments = []
    fresh_ids = store.unstacked_item_ids()  # read after a start over, which queues every item
    if not fresh_ids:
        return store.stack_count()
    quality = settings.pdq_min_quality
    fresh_rows = store.item_pdq(fresh_ids, quality)
    fresh = PdqSegment.build(fresh_rows.ids, fresh_rows.hashes, _MULTI_INDEX) if len(fresh_rows.ids) else None
    groups = _UnionFind()
    for item_id, other in store.exact_duplicate_links(fresh_ids):
        groups.union(item_id, other)
    if fresh is not None:
        # saved first, for the workers; unlisted (and removed) until the stacks are stored. Named by its first
        # and last item: items are indexed once, so no two listed segments share a first item
        first, last = int(fresh_rows.ids[0]), int(fresh_rows.ids[-1])
        name = f"items-{first}-{last}"
        fresh.save(index_dir / name, {"first_item": first, "last_item": last})
        listed = [index_dir / folder for folder, _ in state.segments]
        _link_near_copies(settings, store.item_pdq_variant_batches(fresh_ids, quality), len(fresh_ids),
                          [*segments, fresh], [*listed, index_dir / name], groups)
        indexed = sum(rows for _, rows in state.segments)
        if indexed:  # an earlier item whose query variant (an uncropped guess) reaches a new item's hash
            new = set(fresh_ids)
            earlier = ([row for row in batch if row[0] not in new]
                       for batch in store.item_pdq_variant_batches(None, quality))
            _link_near_copies(settings, (batch for batch in earlier if batch), indexed, [fresh],
                              [index_dir / name], groups)
        state.segments.append((name, len(fresh)))
        segments.append(fresh)
    _compact(index_dir, state, dict(zip((name for name, _ in state.segments), segments, strict=True)))
    with store.transaction():
        store.save_stacks(_stacks(store, groups))
        store.set_meta(STATE_KEY, json.dumps(asdict(state)))
        store.forget_unstacked(fresh_ids)
    _remove_unlisted(index_dir, state)
    return store.stack_count()


def _link_near_copies(settings: Settings, batches: Iterator[list[tuple[int, bytes]]], count: int,
                      segments: list[PdqSegment], folders: list[Path], groups: _UnionFind) -> None:
    """Union each item of `batches` (about `count` items) with every indexed item one of its query variants
    reaches; `folders` hold `segments` on disk, for the worker processes."""
    if settings.workers > 1 and count >= _PARALLEL_FROM:
        with ProcessPoolExecutor(settings.workers, initializer=_init_worker,
                                 initargs=([str(f) for f in folders], os.getpid())) as pool:
            # a batch is handed out as soon as one is done (the workers never wait for the slowest of a
            # window), and at most 2 per worker are in flight: not the whole case in memory
            pending: deque[Future[list[tuple[int, int]]]] = deque()
            for batch in batches:
                pending.append(pool.submit(_worker_links, batch, settings.stack_threshold))
                if len(pending) > 2 * settings.workers:
                    _union_all(groups, pending.popleft().result())
            for future in pending:
                _union_all(groups, future.result())
    else:
        for batch in batches:
            _union_all(groups, _links(segments, batch, settings.stack_threshold))


def _links(segments: Sequence[PdqSegment], batch: Sequence[tuple[int, bytes]], threshold: int
           ) -> list[tuple[int, int]]:
    """(item, indexed item) for each pair of distinct items where the first's query variant reaches the second;
    items with the same query hashes reach the same items, so one of them is looked up, the others linked to it
    (N copies of one picture would otherwise give N² pairs)."""
    first_with: dict[bytes, int] = {}
    for item_id, blob in batch:
        first_with.setdefault(blob, item_id)
    found = {(item_id, first_with[blob]) for item_id, blob in batch}
    queries, counts = stacked_variants(list(first_with))
    owners = np.repeat(np.array(list(first_with.values()), dtype=np.int64), counts)
    for segment in segments:
        query_idx, hit_ids = segment.pairs(queries, threshold)
        found.update(zip(owners[query_idx].tolist(), hit_ids.tolist(), strict=True))
    return [(a, b) for a, b in found if a != b]


def _union_all(groups: _UnionFind, links: Iterable[tuple[int, int]]) -> None:
    for a, b in links:
        groups.union(a, b)


_worker_segments: list[PdqSegment] = []


def _init_worker(folders: list[str], parent_pid: int) -> None:
    start_worker(parent_pid)
    _worker_segments[:] = [PdqSegment.load(Path(folder))[0] for folder in folders]


def _worker_links(batch: list[tuple[int, bytes]], threshold: int) -> list[tuple[int, int]]:
    return _links(_worker_segments, batch, threshold)


def _stacks(store: StackStore, groups: _UnionFind) -> list[tuple[int, list[int], bool]]:
    """The stacks touched by this run's links, whole: their earlier members included, best copy picked again."""
    for members in store.stack_members_of(list(groups.parent)).values():
        for other in members[1:]:
            groups.union(members[0], other)
    members_of: dict[int, list[int]] = {}
    for item_id in list(groups.parent):
        members_of.setdefault(groups.find(item_id), []).append(item_id)
    facts = store.stack_facts(list(groups.parent))
    stacks = []
    for group in members_of.values():
        if len(group) < 2:
            continue
        representative = max(group, key=lambda i: (facts[i][0], facts[i][1], -i))
        exact_only = len({facts[i][2] for i in group}) == 1
        stacks.append((representative, sorted(group), exact_only))
    return stacks


def _load_state(store: StackStore, settings: Settings) -> _State:
    """The stored state, or a fresh one (stacks cleared) when there is none or the settings changed."""
    text = store.get_meta(STATE_KEY)
    if text:
        stored = json.loads(text)
        state = _State(stored["threshold"], stored["min_quality"],
                       [(name, rows) for name, rows in stored["segments"]])
        index_dir = store.case_dir / ITEM_INDEX_DIR
        if ((state.threshold, state.min_quality) == (settings.stack_threshold, settings.pdq_min_quality)
                and all((index_dir / name / "segment.json").exists() for name, _ in state.segments)):
            return state
    return _start_over(store, settings)


def _start_over(store: StackStore, settings: Settings) -> _State:
    state = _State(settings.stack_threshold, settings.pdq_min_quality)
    store.clear_stacks()
    store.set_meta(STATE_KEY, json.dumps(asdict(state)))
    return state


def _compact(index_dir: Path, state: _State, loaded: dict[str, PdqSegment]) -> None:
    """Merge the newest segments while the older is no more than twice their size: about log2(n) segments,
    each item rebuilt about log2(n) times in all. `loaded`: every listed segment, already in memory."""
    while len(state.segments) >= 2 and state.segments[-2][1] <= 2 * state.segments[-1][1]:
        (older, older_rows), (newer, newer_rows) = state.segments[-2], state.segments[-1]
        parts = [loaded.pop(older), loaded.pop(newer)]
        merged = PdqSegment.build(np.concatenate([p.ids for p in parts]), np.concatenate([p.hashes for p in parts]),
                                  _MULTI_INDEX)
        name = f"items-{older.split('-')[1]}-{newer.split('-')[2]}"
        merged.save(index_dir / name, {"merged": [older, newer]})
        loaded[name] = merged
        state.segments[-2:] = [(name, older_rows + newer_rows)]


def _remove_unlisted(index_dir: Path, state: _State) -> None:
    """Segments merged away, or written by a run that stopped before its stacks were stored."""
    listed = {name for name, _ in state.segments}
    for folder in index_dir.glob("items-*"):
        if folder.name not in listed:
            shutil.rmtree(folder, ignore_errors=True)
