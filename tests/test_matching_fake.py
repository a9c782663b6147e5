"""Matching and stacking as units, against the in-memory store (tests/fakes.py): no SQLite, no scan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeStore

from vigie.config import Settings
from vigie.matching import stacks as stacking
from vigie.matching.engine import match_pending
from vigie.matching.stacks import build_stacks
from vigie.records import ListEntry
from vigie.signals.pdq import VARIANT_NAMES

SETTINGS = Settings(workers=1)


def _hash(rng: np.random.Generator) -> np.ndarray:
    """A realistic PDQ hash: 128 of 256 bits set."""
    bits = np.zeros(256, dtype=np.uint8)
    bits[rng.choice(256, size=128, replace=False)] = 1
    return np.packbits(bits)


def _flip(rng: np.random.Generator, hashed: np.ndarray, flips: int) -> str:
    bits = np.unpackbits(hashed)
    bits[rng.choice(256, size=flips, replace=False)] ^= 1
    return np.packbits(bits).tobytes().hex()


def _hex(hashed: np.ndarray) -> str:
    return hashed.tobytes().hex()


def test_exact_matches_by_each_digest_count_a_pair_once(tmp_path: Path) -> None:
    store = FakeStore(tmp_path)
    by_md5 = store.add_item(md5="1" * 32, sha256="a" * 64)
    by_both = store.add_item(md5="2" * 32, sha256="b" * 64)
    store.add_item(md5="3" * 32, sha256="c" * 64)  # listed nowhere
    store.add_list("known", [ListEntry(digests={"md5": "1" * 32}),
                             ListEntry(digests={"md5": "2" * 32, "sha256": "b" * 64})])
    assert match_pending(store, SETTINGS) == {"exact": 2, "pdq": 0, "video": 0}
    assert sorted((i, e, s) for i, e, s in store.matches) == [(by_md5, 1, "md5"), (by_both, 2, "md5"),
                                                             (by_both, 2, "sha256")]
    assert match_pending(store, SETTINGS) == {"exact": 0, "pdq": 0, "video": 0}  # every item matched already


def test_pdq_matches_name_the_closest_variant_within_the_threshold(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    listed = _hash(rng)
    store = FakeStore(tmp_path)
    # the item's second variant (a mirror) is the near copy of the listed picture
    near = store.add_item(pdq_variants=(_hex(_hash(rng)), _flip(rng, listed, 12)))
    store.add_item(pdq_variants=(_flip(rng, listed, 60),))  # too far
    store.add_item(pdq_variants=(_flip(rng, listed, 3),), pdq_quality=10)  # too flat to match on
    store.add_list("known", [ListEntry(pdq=_hex(listed), pdq_quality=100)])
    assert match_pending(store, SETTINGS)["pdq"] == 1
    [match] = store.matches.values()
    assert (match.item_id, match.signal, match.distance, match.variant) == (near, "pdq", 12, VARIANT_NAMES[1])


def test_a_later_run_matches_only_the_items_added_since(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    listed = _hash(rng)
    store = FakeStore(tmp_path)
    store.add_item(pdq_variants=(_flip(rng, listed, 4),))
    store.add_list("known", [ListEntry(pdq=_hex(listed), pdq_quality=100)])
    match_pending(store, SETTINGS)
    later = store.add_item(pdq_variants=(_flip(rng, listed, 8),))
    asked: list[list[int] | None] = []
    variants = store.item_pdq_variants
    monkeypatch.setattr(store, "item_pdq_variants", lambda ids, quality: asked.append(ids) or variants(ids, quality))
    assert match_pending(store, SETTINGS)["pdq"] == 1
    assert asked == [[later]] and store.through == {1: later}


def test_exact_and_near_copies_stack_behind_their_best_copy(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    picture, other = _hash(rng), _hash(rng)
    store = FakeStore(tmp_path)
    first = store.add_item(sha256="a" * 64, pdq_variants=(_hex(picture),), pdq=_hex(picture))
    copy = store.add_item(sha256="a" * 64, pdq_variants=(_hex(picture),), pdq=_hex(picture))
    larger = _flip(rng, picture, 6)
    bigger = store.add_item(sha256="b" * 64, pdq_variants=(larger,), pdq=larger, width=400, height=300)
    alone = store.add_item(sha256="c" * 64, pdq_variants=(_hex(other),), pdq=_hex(other))
    assert build_stacks(store, SETTINGS) == 1
    assert store.stacked() == [[first, copy, bigger]]
    [(stack_id, (representative, size, exact_only))] = store.stacks.items()
    assert (representative, size, exact_only) == (bigger, 3, False)
    # a later run: a byte copy joins the stack it belongs to, which keeps its id; a near copy of `alone` stacks
    again = store.add_item(sha256="a" * 64, pdq_variants=(_hex(picture),), pdq=_hex(picture))
    near_alone = _flip(rng, other, 9)
    pair = store.add_item(sha256="d" * 64, pdq_variants=(near_alone,), pdq=near_alone)
    assert build_stacks(store, SETTINGS) == 2
    assert store.stacked() == [[first, copy, bigger, again], [alone, pair]]
    assert store.items[again].stack_id == stack_id


def test_merging_index_segments_reuses_those_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    store = FakeStore(tmp_path)
    loads: list[str] = []
    load = stacking.PdqSegment.load
    monkeypatch.setattr(stacking.PdqSegment, "load", lambda folder: loads.append(Path(folder).name) or load(folder))
    for run in range(4):  # equal runs: each merges its segment with the one before
        for _ in range(5):
            hashed = _hex(_hash(rng))
            store.add_item(sha256=None, pdq_variants=(hashed,), pdq=hashed)
        listed = [name for name, _ in stacking._load_state(store, SETTINGS).segments]
        loads.clear()
        build_stacks(store, SETTINGS)
        assert sorted(loads) == sorted(listed), run  # each listed segment read once, none read again to merge
    assert _segments(store) == [["items-1-15", 15], ["items-16-20", 5]]  # 5+5, then 10+5; 15 and 5 stay apart
    assert sorted(p.name for p in (tmp_path / stacking.ITEM_INDEX_DIR).iterdir()) == ["items-1-15", "items-16-20"]


def _segments(store: FakeStore) -> list[list[object]]:
    return list(json.loads(store.meta.get(stacking.STATE_KEY) or '{"segments": []}')["segments"])
