"""One entry point for every export, used by the CLI and the console alike; each export is audited with
the SHA-256 of what it produced."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from vigie.exports.format import CaseExport, ExportError, ExportOptions, Reporter
from vigie.exports.registry import EXPORTS
from vigie.exports.roles import ReportStore
from vigie.exports.selection import LeftOut, select_items
from vigie.i18n import DEFAULT_LANGUAGE, N_, Phrase
from vigie.records import AuditEntry


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    file_name: str
    items: int
    audit: AuditEntry
    decided_differently: list[list[int]]  # per content whose copies were decided differently, their item ids
    left_out: list[LeftOut]  # reviewed items the format does not write, and why
    unreviewed: list[int]  # ids asked for but not reviewed, left out (only with `unreviewed_left_out`)


def run_export(
    store: ReportStore, actor: str, fmt: str, item_ids: Sequence[int] | None = None,
    categories: Sequence[str] | None = None, reporter: Reporter | None = None, destination: str = "",
    language: str = DEFAULT_LANGUAGE, unreviewed_left_out: bool = False,
) -> Export:
    """`item_ids` that name nothing are refused, and so are those not reviewed unless `unreviewed_left_out`
    (then they are left out, and named in `unreviewed` and the audit entry)."""
    export_format = EXPORTS.get(fmt)
    if export_format is None:
        raise ExportError(Phrase(N_("unknown export format '%(format)s' (one of %(formats)s)"), format=fmt,
                                 formats=", ".join(EXPORTS)))
    case_name = store.case_dir.resolve().name
    count = 0
    conflicts: list[list[int]] = []
    left_out: list[LeftOut] = []
    unreviewed: list[int] = []
    options = ExportOptions(reporter or Reporter(), language)
    if isinstance(export_format, CaseExport):
        content = export_format.render(store, options)
    else:
        if item_ids is not None:  # an id that names nothing, or nothing reviewed, is said, never left out in silence
            review = store.review_tables()
            missing = sorted(set(item_ids) - set(review.existing_ids(list(item_ids))))
            if missing:
                raise ExportError(Phrase(N_("no item %(ids)s in this case"), ids=", ".join(map(str, missing))))
            unreviewed = sorted(set(item_ids) - set(review.decisions(list(item_ids))))
            if unreviewed and not unreviewed_left_out:
                raise ExportError(Phrase(N_("item %(ids)s not reviewed: decide first, or leave out of the "
                                            "selection"), ids=", ".join(map(str, unreviewed))))
        items = select_items(store, item_ids, categories)
        if not items:
            raise ExportError(N_("nothing to export: no reviewed item in the selection (categorise items first)"))
        left_out = export_format.leaves_out(items)
        count = len(items) - sum(len(group.items) for group in left_out)
        conflicts = [item.decided_differently for item in items if item.decided_differently]
        content = export_format.render(store, items, options)
    entry = store.append_audit(actor, "export", {
        "format": fmt, "files": count, "sha256": hashlib.sha256(content).hexdigest(), "destination": destination,
        "selection": None if item_ids is None else list(item_ids), "categories": list(categories or []),
    } | ({"decided_differently": conflicts} if conflicts else {})
      | ({"left_out": {group.code: len(group.items) for group in left_out}} if left_out else {})
      | ({"unreviewed": unreviewed} if unreviewed else {}))
    return Export(content, export_format.media_type, f"{case_name}{export_format.suffix}", count, entry, conflicts,
                  left_out, unreviewed)
