"""Matching new items against a large hash list reads from the new items, not from the whole list: a +1% scan
of a case with a list of a million digests must not walk the list (work counted in SQLite's steps, not timed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from vigie.records import ItemRecord, ListEntry
from vigie.store.sqlite import SqliteCaseStore


def _digest(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def _steps(store: SqliteCaseStore, item_ids: list[int], list_id: int) -> tuple[int, int]:
    """(new matches, SQLite virtual-machine steps in thousands) of one exact match of the given items."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    store.db.set_progress_handler(count, 1000)
    try:
        found = store.match_exact(item_ids, list_id)  # as matching asks, list by list
    finally:
        store.db.set_progress_handler(None, 0)
    return found, steps[0]


def test_exact_matching_of_new_items_does_not_walk_the_whole_list(tmp_path: Path) -> None:
    store = SqliteCaseStore(tmp_path / "case")
    source = store.add_source("seizure", str(tmp_path / "seizure"), "directory")
    scan = store.begin_scan({"paths": ["seizure"]})
    store.add_items(source, scan, [
        ItemRecord(relpath=f"IMG_{n}.JPG", size=n, digests={"sha256": _digest(n)}, media_type="image/jpeg")
        for n in range(3)
    ])
    store.finish_scan(scan, "complete", {})
    listed = [ListEntry(digests={"sha256": _digest(n)}, category="1") for n in range(1, 20_001)]
    list_id = store.add_hash_list("known", "csv", "known.csv", "0" * 64, listed, [])

    found_all, steps_all = _steps(store, [1, 2, 3], list_id)
    found_again, steps_one = _steps(store, [3], list_id)
    assert (found_all, found_again) == (2, 0)  # items 2 and 3 are listed; the second run adds nothing new
    # the whole list walked once per exact signal is well over 20,000 rows; one item's lookups are a few dozen
    assert steps_all < 20 and steps_one < 20, (steps_all, steps_one)
    store.close()
