"""The items an export carries: reviewed items, with their decision, notes and every path of the same content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vigie.exports.roles import ReportStore
from vigie.vocabulary import NOT_PERTINENT_TAG, is_not_pertinent


@dataclass
class ExportItem:
    item: dict[str, Any]  # as ReportStore.iter_report_items gives it
    decision: dict[str, Any]
    notes: list[dict[str, Any]]
    paths: list[str]
    deleted_paths: set[str] = field(default_factory=set)  # those read from a disk image as deleted files
    # the ids of every decided copy, where copies of this content were decided differently (the latest is kept)
    decided_differently: list[int] = field(default_factory=list)

    @property
    def pertinent(self) -> bool:
        """False where the reviewer said the item is not pertinent: by its category in any scheme (Project VIC
        US 0, a custom "Not pertinent"; `is_not_pertinent` is the one rule) or by the AI tag."""
        decision = self.decision
        return not is_not_pertinent(decision["scheme"], decision["category"]) and \
            NOT_PERTINENT_TAG not in decision["ai_tags"]


@dataclass(frozen=True)
class LeftOut:
    """Items of the selection a format does not write, and why: the command line says it, the audit counts it."""

    code: str  # in the audit entry ("left_out": {code: count})
    why: str  # marked N_ (or a Phrase): in English on the command line, in the user's language in the console
    items: list[ExportItem]


def kept(items: list[ExportItem], left_out: list[LeftOut]) -> list[ExportItem]:
    """The items a format writes: those `left_out` does not name."""
    out = {e.item["id"] for group in left_out for e in group.items}
    return [e for e in items if e.item["id"] not in out]


def hashless(items: list[ExportItem], signals: Sequence[str]) -> list[ExportItem]:
    """Items with none of these hashes: a file that could not be read has none, and a row of no hash finds
    nothing (a list to share must never hold one)."""
    return [e for e in items if not any(e.item.get(name) for name in signals)]


def select_items(store: ReportStore, item_ids: Sequence[int] | None = None,
                 categories: Sequence[str] | None = None) -> list[ExportItem]:
    """Reviewed items (all, or those of `item_ids`), one per content (SHA-256), optionally of some categories.
    Copies of one content decided differently carry the latest decision, and say so (`decided_differently`)."""
    review = store.review_tables()
    decisions = review.decisions(item_ids)
    chosen: dict[str, ExportItem] = {}
    paths: dict[str, list[str]] = {}
    decided: dict[str, dict[int, dict[str, Any]]] = {}
    scope = sorted(decisions) if len(decisions) < 20_000 else None
    for item in store.iter_report_items(scope):
        if item["id"] not in decisions:
            continue
        key = item["sha256"] or f"item:{item['id']}"
        paths.setdefault(key, []).append(item["path"])
        decided.setdefault(key, {})[item["id"]] = decisions[item["id"]]
        if key not in chosen:
            chosen[key] = ExportItem(item, decisions[item["id"]], review.notes(item["id"]), paths[key])
        if item["deleted"]:
            chosen[key].deleted_paths.add(item["path"])
    copies_of = {key: review.same_content_paths(export_item.item["id"]) for key, export_item in chosen.items()}
    if item_ids is not None:  # the copies left out of the selection were decided too: they count
        unselected = sorted({c["id"] for copies in copies_of.values() for c in copies} - set(decisions))
        decided_elsewhere = review.decisions(unselected)
        for key, copies in copies_of.items():
            decided[key] |= {c["id"]: decided_elsewhere[c["id"]] for c in copies if c["id"] in decided_elsewhere}
    for key, copies_decided in decided.items():
        if len({_said(decision) for decision in copies_decided.values()}) > 1:
            chosen[key].decision = max(copies_decided.values(), key=lambda decision: decision["audit_seq"] or 0)
            chosen[key].decided_differently = sorted(copies_decided)
    if categories:
        chosen = {key: e for key, e in chosen.items() if e.decision["category"] in set(categories)}
    for key, export_item in chosen.items():
        for other in copies_of[key]:
            if other["path"] not in paths[key]:
                paths[key].append(other["path"])
            if other["deleted"]:
                export_item.deleted_paths.add(other["path"])
    return sorted(chosen.values(), key=lambda e: e.item["id"])


def _said(decision: dict[str, Any]) -> tuple[Any, ...]:
    """What a decision says of the content (not who made it, nor when)."""
    return (decision["scheme"], decision["category"], tuple(decision["ai_tags"]), decision["industry_class"])

