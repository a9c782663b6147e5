"""Flat exports of reviewed items: a CSV of decisions, and a hash list for sharing or takedown."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

from vigie.exports.cells import write_csv_rows
from vigie.exports.format import ExportOptions
from vigie.exports.roles import ReportStore
from vigie.exports.selection import ExportItem, LeftOut, hashless, kept
from vigie.i18n import N_
from vigie.signals.registry import IDENTITY, SIGNALS
from vigie.vocabulary import category_label

_SIGNALS = [IDENTITY.name, *(s.name for s in SIGNALS.values() if s is not IDENTITY)]  # the item's identity first
_SIGNAL_COLUMNS = [column for s in SIGNALS.values() for column in s.columns]  # each signal, then its quality
DECISION_COLUMNS = [
    "path", "deleted", *_SIGNALS, "media_type", "size", "category_scheme", "category", "category_label",
    "ai_tags", "industry_class", "ai_verdict", "matched_lists", "decided_by", "decided_at", "notes", "also_found_at",
    "also_found_deleted",
]
HASHLIST_COLUMNS = [*_SIGNAL_COLUMNS, "category_scheme", "category", "label"]


def _json_list(values: list[str]) -> str:
    """A cell holding a list, as a JSON array: a path or a list's name may hold any character a separator would
    be (`;`, `,`, quotes), and reads back whole."""
    return json.dumps(values, ensure_ascii=False)


def _decision_rows(items: list[ExportItem]) -> Iterator[dict[str, Any]]:
    for export_item in items:
        item, decision = export_item.item, export_item.decision
        yield {
            **{k: item.get(k) for k in ("path", *_SIGNALS, "media_type", "size")},
            "deleted": item["path"] in export_item.deleted_paths,  # read from a disk image as a deleted file
            "category_scheme": decision["scheme"],
            "category": decision["category"],
            "category_label": category_label(decision["scheme"], decision["category"]),
            "ai_tags": _json_list(decision["ai_tags"]),
            "industry_class": decision.get("industry_class"),
            "ai_verdict": (item.get("ai") or {}).get("verdict"),
            "matched_lists": _json_list(sorted({m["list"] for m in item["matches"]})),
            "decided_by": decision["by"],
            "decided_at": decision["at"],
            "notes": " | ".join(n["text"] for n in export_item.notes),
            "also_found_at": _json_list([p for p in export_item.paths if p != item["path"]]),
            "also_found_deleted": _json_list([p for p in export_item.paths
                                              if p != item["path"] and p in export_item.deleted_paths]),
        }


def decisions_csv(items: list[ExportItem]) -> str:
    out = io.StringIO()
    write_csv_rows(out, DECISION_COLUMNS, _decision_rows(items))
    return out.getvalue()


def hashlist_left_out(items: list[ExportItem]) -> list[LeftOut]:
    """A list to share is a list of what must be found and removed: pertinent items, each with a hash."""
    not_pertinent = [e for e in items if not e.pertinent]
    groups = [LeftOut("not-pertinent", N_("decided not pertinent (a list to share holds what is to be found)"),
                      not_pertinent),
              LeftOut("no-hash", N_("no hash: the file could not be read"),
                      hashless([e for e in items if e.pertinent], _SIGNALS))]
    return [group for group in groups if group.items]


def hashlist_csv(items: list[ExportItem]) -> str:
    out = io.StringIO()
    write_csv_rows(out, HASHLIST_COLUMNS, (
        {**{column: e.item[column] for column in _SIGNAL_COLUMNS}, "category_scheme": e.decision["scheme"],
         "category": e.decision["category"], "label": ";".join(e.decision["ai_tags"]) or None}
        for e in kept(items, hashlist_left_out(items))
    ))
    return out.getvalue()


def render_decisions(store: ReportStore, items: list[ExportItem], options: ExportOptions) -> bytes:
    return decisions_csv(items).encode()


def render_hashlist(store: ReportStore, items: list[ExportItem], options: ExportOptions) -> bytes:
    return hashlist_csv(items).encode()
