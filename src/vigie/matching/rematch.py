"""`vigie match`: the whole case against every hash list again, the stacks brought up to date, audited."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from vigie.config import Settings
from vigie.matching.engine import match_case
from vigie.matching.roles import MATCHING_LOCK
from vigie.matching.stacks import build_stacks
from vigie.store.audit import record_case_state
from vigie.store.sqlite import SqliteCaseStore


@dataclass(frozen=True)
class Rematch:
    new_matches: dict[str, int]  # exact, pdq, video
    stacks: int
    summary: dict[str, Any]  # the case's counts afterwards


def rematch_case(store: SqliteCaseStore, settings: Settings, actor: str) -> Rematch:
    started = time.monotonic()
    with store.exclusive(MATCHING_LOCK):
        found = match_case(store, settings)
        stacks = build_stacks(store, settings)
    summary = store.summary()
    store.append_audit(actor, "match", {"items": summary["items"], "hash_lists": summary["hash_lists"],
                                        "new_matches": found, "stacks": stacks,
                                        "seconds": round(time.monotonic() - started, 2)})
    record_case_state(store, actor)
    return Rematch(found, stacks, summary)
