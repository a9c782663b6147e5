"""Triage: stacks (exact duplicates and PDQ near-duplicates, flips, rotations and crops included, so a
reviewer sees each image once, through its best copy) and the order in which to look at them."""

from __future__ import annotations

from typing import Any

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


# Review order: a possible real child first. Unknown images showing a face and no mark of generation
# come first, then other unknown material, then AI-indicated or AI-marked items, then items the hash
# lists already know (categorised by a partner). Larger stacks first within a class.
PRIORITY_CLASSES = (
    "unknown-with-face",
    "unknown",
    "ai-indicated-or-marked",
    "known",
)


def priority_class(item: dict[str, Any]) -> str:
    if item["matches"]:
        return "known"
    verdict = (item.get("ai") or {}).get("verdict", "undetermined")
    if verdict != "undetermined":
        return "ai-indicated-or-marked"
    return "unknown-with-face" if item.get("faces") else "unknown"


def review_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per stack (its representative) and per unstacked image or video, in review order."""
    queue = [
        item for item in items
        if (item["media_type"] or "").startswith(("image/", "video/"))
        and (item["stack"] is None or item["stack"]["representative"])
    ]
    return sorted(queue, key=lambda i: (PRIORITY_CLASSES.index(priority_class(i)),
                                        -(i["stack"] or {"size": 1})["size"], i["path"]))
