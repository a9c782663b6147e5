"""Triage: stacks of exact duplicates and PDQ near-duplicates (flips, rotations and crops included), so a
reviewer sees each image once, through its best copy. The review order is the queue's (store/review.py)."""

from __future__ import annotations

import numpy as np

from vigie.config import Settings
from vigie.matching.pdq_index import PdqSegment
from vigie.store.sqlite import SqliteCaseStore


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


def build_stacks(store: SqliteCaseStore, settings: Settings) -> int:
    """Recompute all stacks; returns how many there are."""
    groups = _UnionFind()
    exact_pairs: set[frozenset[int]] = set()
    for group in store.exact_duplicate_groups():
        for other in group[1:]:
            groups.union(group[0], other)
        exact_pairs.add(frozenset(group))
    rows = store.item_pdq(settings.pdq_min_quality)
    if len(rows.ids):
        segment = PdqSegment.build(rows.ids, rows.hashes)
        for item_id, blob in store.item_pdq_variants(None, settings.pdq_min_quality):
            queries = np.frombuffer(blob, dtype=np.uint8).reshape(-1, 32)
            for hit in segment.query(queries, settings.stack_threshold):
                if hit.id != item_id:
                    groups.union(item_id, hit.id)
    members: dict[int, list[int]] = {}
    for item_id in list(groups.parent):
        members.setdefault(groups.find(item_id), []).append(item_id)
    facts = store.stack_facts()
    stacks = []
    for group in members.values():
        if len(group) < 2:
            continue
        representative = max(group, key=lambda i: (facts[i][0], facts[i][1], -i))
        exact_only = len({facts[i][2] for i in group}) == 1
        stacks.append((representative, sorted(group), exact_only))
    store.replace_stacks(stacks)
    return len(stacks)

