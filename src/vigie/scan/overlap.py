"""Sources that overlap: a folder scanned again from above or below adds its files as new items."""

from __future__ import annotations

from vigie.records import SourceRow
from vigie.store.sqlite import SqliteCaseStore


def overlapping_sources(store: SqliteCaseStore, root: str) -> list[SourceRow]:
    """Earlier sources that contain, or sit inside, `root` (the same root is a resume, not an overlap)."""
    def inside(child: str, parent: str) -> bool:
        return child.startswith(parent.rstrip("/") + "/")

    return [s for s in store.sources() if s.root != root and (inside(root, s.root) or inside(s.root, root))]
