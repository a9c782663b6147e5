"""An in-memory case store with the match and stack roles, so matching and stacking are tested without SQLite.

It keeps what those roles read and write in plain dicts, with the SQLite store's rules: exact matches by MD5,
SHA-1 and SHA-256, a match unique per (item, entry, signal), hashes below the quality floor left out, a stack
that takes in earlier stacks keeping the lowest of their ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vigie.records import HashListRow, ListEntry, MatchRow, PdqRows
from vigie.signals.registry import DIGESTS

_EXACT = tuple(s.name for s in DIGESTS)


@dataclass
class FakeItem:
    id: int
    sha256: str | None = None
    md5: str | None = None
    sha1: str | None = None
    media_type: str = "image/jpeg"
    size: int = 1000
    width: int = 100
    height: int = 100
    pdq: str | None = None
    pdq_quality: int = 100
    pdq_variants: tuple[str, ...] = ()  # the first is the hash itself
    stack_id: int | None = None


@dataclass
class FakeStore:
    case_dir: Path
    items: dict[int, FakeItem] = field(default_factory=dict)
    lists: dict[int, HashListRow] = field(default_factory=dict)
    entries: dict[int, tuple[int, ListEntry]] = field(default_factory=dict)  # entry id -> (list id, entry)
    matches: dict[tuple[int, int, str], MatchRow] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    through: dict[int, int] = field(default_factory=dict)
    unmatched: set[int] = field(default_factory=set)
    unstacked: set[int] = field(default_factory=set)
    stacks: dict[int, tuple[int, int, bool]] = field(default_factory=dict)  # id -> (representative, size, exact)

    # --- filling it (what a scan and a list import would do) -------------------------------------

    def add_item(self, **facts: object) -> int:
        item_id = max(self.items, default=0) + 1
        self.items[item_id] = FakeItem(item_id, **facts)  # type: ignore[arg-type]
        self.unmatched.add(item_id)
        self.unstacked.add(item_id)
        return item_id

    def add_list(self, name: str, entries: Sequence[ListEntry]) -> int:
        list_id = max(self.lists, default=0) + 1
        self.lists[list_id] = HashListRow(list_id, name, "text", f"{name}.txt", "0" * 64, "", len(entries), [])
        for entry in entries:
            self.entries[max(self.entries, default=0) + 1] = (list_id, entry)
        return list_id

    # --- match role --------------------------------------------------------------------------------

    def hash_lists(self) -> list[HashListRow]:
        return list(self.lists.values())

    def list_pdq(self, list_id: int) -> PdqRows:
        rows = [(entry_id, e.pdq) for entry_id, (owner, e) in sorted(self.entries.items())
                if owner == list_id and e.pdq]
        return _pdq_rows(rows)

    def list_video_frames(self, list_ids: Sequence[int] | None, min_quality: int
                          ) -> list[tuple[int, int | None, float | None, str]]:
        return [(entry_id, number, timestamp, pdq) for entry_id, (owner, e) in sorted(self.entries.items())
                if list_ids is None or owner in list_ids
                for number, quality, pdq, timestamp in e.video_frames if quality >= min_quality]

    def match_exact(self, item_ids: Sequence[int] | None = None, list_id: int | None = None) -> int:
        found = {(item.id, entry_id, signal)
                 for item in self._items(item_ids) for entry_id, (owner, entry) in self.entries.items()
                 if list_id in (None, owner)
                 for signal in _EXACT if getattr(item, signal) and getattr(item, signal) == entry.digests.get(signal)}
        had = {(i, e) for i, e, signal in self.matches if signal in _EXACT}
        new_pairs = {(i, e) for i, e, _ in found} - had
        for key in found:
            self.matches.setdefault(key, MatchRow(key[0], key[1], key[2], 0))
        return len(new_pairs)

    def item_pdq_variants(self, item_ids: Sequence[int] | None, min_quality: int) -> Iterator[tuple[int, bytes]]:
        for item in self._items(item_ids):
            if item.pdq_variants and item.pdq_quality >= min_quality:
                yield item.id, _blob(item.pdq_variants)

    def item_video_frames(self, item_ids: Sequence[int] | None, min_quality: int
                          ) -> dict[int, list[tuple[int, float, str, bytes]]]:
        return {}  # the fake holds no videos nor multi-page images

    def image_item_ids(self, item_ids: Sequence[int]) -> set[int]:
        return {i.id for i in self._items(item_ids) if i.media_type.startswith("image/")}

    def add_matches(self, matches: Iterable[MatchRow]) -> int:
        added = 0
        for match in matches:
            key = (match.item_id, match.entry_id, match.signal)
            if key not in self.matches:
                self.matches[key] = match
                added += 1
        return added

    def last_item_id(self) -> int:
        return max(self.items, default=0)

    def unmatched_item_ids(self) -> list[int]:
        return sorted(self.unmatched)

    def forget_unmatched(self, item_ids: Sequence[int]) -> None:
        self.unmatched.difference_update(item_ids)

    def matched_through(self) -> dict[int, int]:
        return {list_id: self.through.get(list_id, 0) for list_id in self.lists}

    def set_matched_through(self, list_ids: Sequence[int], item_id: int) -> None:
        self.through.update(dict.fromkeys(list_ids, item_id))

    # --- stack role --------------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        return nullcontext()

    def get_meta(self, key: str) -> str | None:
        return self.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value

    def unstacked_item_ids(self) -> list[int]:
        return sorted(self.unstacked)

    def forget_unstacked(self, item_ids: Sequence[int]) -> None:
        self.unstacked.difference_update(item_ids)

    def item_pdq(self, item_ids: Sequence[int], min_quality: int) -> PdqRows:
        return _pdq_rows([(i.id, i.pdq) for i in self._items(item_ids) if i.pdq and i.pdq_quality >= min_quality])

    def item_pdq_variant_batches(self, item_ids: Sequence[int] | None, min_quality: int
                                 ) -> Iterator[list[tuple[int, bytes]]]:
        batch = list(self.item_pdq_variants(item_ids, min_quality))
        if batch:
            yield batch

    def exact_duplicate_links(self, item_ids: Sequence[int]) -> list[tuple[int, int]]:
        copies: dict[str, list[int]] = {}
        for item in self._items(None):
            if item.sha256 and item.size > 0:
                copies.setdefault(item.sha256, []).append(item.id)
        return [(i.id, min(others)) for i in self._items(item_ids)
                if i.sha256 and i.size > 0 and (others := [o for o in copies[i.sha256] if o != i.id])]

    def stack_members_of(self, item_ids: Sequence[int]) -> dict[int, list[int]]:
        wanted = {self.items[i].stack_id for i in item_ids if i in self.items} - {None}
        members: dict[int, list[int]] = {}
        for item in self._items(None):
            if item.stack_id in wanted:
                members.setdefault(item.stack_id, []).append(item.id)  # type: ignore[arg-type]
        return members

    def stack_facts(self, item_ids: Sequence[int]) -> dict[int, tuple[int, int, str | None]]:
        return {i.id: (i.width * i.height, i.size, i.sha256) for i in self._items(item_ids)}

    def save_stacks(self, stacks: Sequence[tuple[int, list[int], bool]]) -> None:
        for representative, members, exact_only in stacks:
            earlier = sorted(self.stack_members_of(members))
            stack_id = earlier[0] if earlier else max(self.stacks, default=0) + 1
            for other in earlier[1:]:
                del self.stacks[other]
            self.stacks[stack_id] = (representative, len(members), exact_only)
            for member in members:
                self.items[member].stack_id = stack_id

    def clear_stacks(self) -> None:
        for item in self.items.values():
            item.stack_id = None
        self.stacks.clear()
        self.unstacked.update(self.items)

    def stack_count(self) -> int:
        return len(self.stacks)

    # --- reading it back in tests ---------------------------------------------------------------------

    def stacked(self) -> list[list[int]]:
        """Each stack's members, stacks in the order of their first member."""
        return sorted(self.stack_members_of(list(self.items)).values())

    def _items(self, item_ids: Sequence[int] | None) -> list[FakeItem]:
        ids = sorted(self.items) if item_ids is None else sorted(set(item_ids) & set(self.items))
        return [self.items[i] for i in ids]


def _blob(hashes: Sequence[str]) -> bytes:
    return b"".join(bytes.fromhex(h) for h in hashes)


def _pdq_rows(rows: Sequence[tuple[int, str | None]]) -> PdqRows:
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    hashes = np.frombuffer(_blob([r[1] or "" for r in rows]), dtype=np.uint8).reshape(-1, 32)
    return PdqRows(ids=ids, hashes=hashes)
