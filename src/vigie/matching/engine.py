"""Matching a case against its hash lists: exact digests in the store, PDQ through the list index.

What is matched follows from the case, not from the run: each item is queued as unmatched in the transaction
that stores it, and leaves the queue once matched against every list; a list is matched against the whole case
once (its mark, the highest item id then, is no longer 0). No id range is trusted: in PostgreSQL a lower id may
commit after a higher one was matched (a concurrent scan's, a Ray worker's), and its queue entry commits with it.
Matching is idempotent (INSERT OR IGNORE), so a run killed part-way is simply matched again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from vigie.config import Settings
from vigie.matching.pdq_index import PdqSegment, stacked_variants
from vigie.matching.roles import MatchStore
from vigie.matching.video import frames_against_images, match_video_lists
from vigie.records import MatchRow
from vigie.signals.pdq import QUERY_NAMES
from vigie.workers import start_worker

INDEX_DIR = Path("index") / "pdq"
_PARALLEL_FROM = 4_000
# Items probed at once: ~100k query variants let the index sweep its bucket tables in key order (at 1M list
# hashes, 4,096 items a batch took 0.68 times the CPU of 1,000).
_BATCH = 4_096

Progress = Callable[[int], None]


def segment_dir(case_dir: Path, list_id: int) -> Path:
    return case_dir / INDEX_DIR / f"list-{list_id}"


# Every listed PDQ hash is matched, whatever the quality the list gives it (a partner listed it; flat items are
# kept out by their own quality). Segments saved without this mark left out entries of quality < 50: rebuilt.
_EVERY_QUALITY = {"entries": "every PDQ hash, whatever its quality"}


def build_list_segment(store: MatchStore, list_id: int) -> int:
    rows = store.list_pdq(list_id)
    folder = segment_dir(store.case_dir, list_id)
    if len(rows.ids) == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return 0
    PdqSegment.build(rows.ids, rows.hashes).save(folder, {"list_id": list_id, **_EVERY_QUALITY})
    return len(rows.ids)


def load_list_segments(store: MatchStore) -> dict[int, PdqSegment]:
    """One segment per hash list with PDQ hashes; a missing, unreadable or older segment is rebuilt from the
    store."""
    segments: dict[int, PdqSegment] = {}
    for hash_list in store.hash_lists():
        folder = segment_dir(store.case_dir, hash_list.id)
        if not (folder / "segment.json").exists() and build_list_segment(store, hash_list.id) == 0:
            continue
        try:
            segment, meta = PdqSegment.load(folder)
            if meta.get("entries") != _EVERY_QUALITY["entries"]:
                raise ValueError(f"{folder}: built without the entries of low quality")
            segments[hash_list.id] = segment
        except (OSError, ValueError):
            if build_list_segment(store, hash_list.id):
                segments[hash_list.id] = PdqSegment.load(folder)[0]
    return segments


def _query_batch(
    segments: dict[int, PdqSegment], batch: Sequence[tuple[int, bytes]], threshold: int
) -> list[MatchRow]:
    """Every item's variants in one probe per segment; per (item, entry) the best distance, ties to the
    first variant (as a query of that item alone gives)."""
    if not batch:
        return []
    queries, counts = stacked_variants([blob for _, blob in batch])
    first_variant = np.cumsum(counts) - counts
    groups = np.repeat(np.arange(len(batch), dtype=np.int64), counts)
    matches = []
    for segment in segments.values():
        found, entries, distances, query_idx = segment.best_pairs(queries, groups, threshold)
        variants = query_idx - first_variant[found]
        for g, entry, distance, variant in zip(found.tolist(), entries.tolist(), distances.tolist(),
                                               variants.tolist(), strict=True):
            matches.append(MatchRow(batch[g][0], entry, "pdq", distance, QUERY_NAMES[variant]))
    return matches


_worker_segments: dict[int, PdqSegment] = {}


def _init_worker(folders: dict[int, str], parent_pid: int) -> None:
    start_worker(parent_pid)
    _worker_segments.clear()
    for list_id, folder in folders.items():
        _worker_segments[list_id] = PdqSegment.load(Path(folder))[0]


def _worker_query(batch: list[tuple[int, bytes]], threshold: int) -> list[MatchRow]:
    return _query_batch(_worker_segments, batch, threshold)


def match_items(
    store: MatchStore,
    settings: Settings,
    item_ids: Sequence[int] | None = None,
    list_ids: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Match items (all, or the given ones) against lists (all, or the given ones). Returns new match counts."""
    exact = 0
    for list_id in list_ids or [None]:  # type: ignore[list-item]
        exact += store.match_exact(item_ids, list_id)
    segments = load_list_segments(store)
    if list_ids is not None:
        segments = {k: v for k, v in segments.items() if k in set(list_ids)}
    near = 0
    if segments:
        pending = list(store.item_pdq_variants(item_ids, settings.pdq_min_quality))
        batches = [pending[i : i + _BATCH] for i in range(0, len(pending), _BATCH)]
        if len(pending) >= _PARALLEL_FROM and settings.workers > 1:
            folders = {k: str(segment_dir(store.case_dir, k)) for k in segments}
            with ProcessPoolExecutor(settings.workers, initializer=_init_worker,
                                     initargs=(folders, os.getpid())) as pool:
                for batch, found in zip(
                    batches, pool.map(_worker_query, batches, [settings.pdq_threshold] * len(batches)), strict=True
                ):
                    near += store.add_matches(found)
                    if progress:
                        progress(len(batch))
        else:
            for batch in batches:
                near += store.add_matches(_query_batch(segments, batch, settings.pdq_threshold))
                if progress:
                    progress(len(batch))
    item_frames = store.item_video_frames(item_ids, settings.pdq_min_quality)
    video_rows = frames_against_images(item_frames, segments, settings.pdq_threshold) if segments else []
    video_rows += match_video_lists(store, settings, item_frames, item_ids, list_ids)
    video = store.add_matches(video_rows)
    return {"exact": exact, "pdq": near, "video": video}


def _add(totals: dict[str, int], found: dict[str, int]) -> None:
    for kind, count in found.items():
        totals[kind] = totals.get(kind, 0) + count


def match_pending(
    store: MatchStore,
    settings: Settings,
    list_ids: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Match every item not yet matched against each list (all lists, or the given ones); new match counts."""
    upto = store.last_item_id()
    pending = store.unmatched_item_ids()
    marks = {k: v for k, v in store.matched_through().items() if list_ids is None or k in list_ids}
    whole = [list_id for list_id, done in marks.items() if done == 0]  # new (or its first matching was killed)
    since = [list_id for list_id, done in marks.items() if done > 0]
    totals = {"exact": 0, "pdq": 0, "video": 0}
    if whole and upto:
        _add(totals, match_items(store, settings, None, whole, progress))
        store.set_matched_through(whole, upto)
    if since and pending:
        _add(totals, match_items(store, settings, pending, since, progress))
        store.set_matched_through(since, upto)
    if list_ids is None:  # matched against every list: out of the queue (one committed later stays in it)
        store.forget_unmatched(pending)
    return totals


def match_case(store: MatchStore, settings: Settings, progress: Progress | None = None) -> dict[str, int]:
    """Match the whole case against every list again (after a change of settings, or to check); idempotent."""
    upto = store.last_item_id()
    pending = store.unmatched_item_ids()
    lists = [hash_list.id for hash_list in store.hash_lists()]
    if not lists:
        return {"exact": 0, "pdq": 0, "video": 0}
    found = match_items(store, settings, None, lists, progress)
    store.set_matched_through(lists, upto)
    store.forget_unmatched(pending)
    return found
