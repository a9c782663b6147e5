"""One entry point for every export, used by the CLI and the console alike; each export is audited with
the SHA-256 of what it produced."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from vigie.exports.case_report import find_pdf_browser, html_to_pdf, render_case_report
from vigie.exports.cybertip import Reporter, cybertip_document
from vigie.exports.roles import ReportStore
from vigie.exports.selection import select_items
from vigie.exports.tables import decisions_csv, hashlist_csv
from vigie.exports.vics import vics_case, vics_document
from vigie.records import AuditEntry

# format -> (media type, file name suffix)
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "vics": ("application/json", "-vics-2.0.json"),
    "vics-1.3": ("application/json", "-vics-1.3.json"),
    "csv": ("text/csv", "-decisions.csv"),
    "hashlist": ("text/csv", "-hashlist.csv"),
    "cybertip": ("application/xml", "-cybertip-draft.xml"),
    "case-report": ("text/html", "-case-report.html"),
    "case-report-pdf": ("application/pdf", "-case-report.pdf"),
}


class ExportError(ValueError):
    pass


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    file_name: str
    items: int
    audit: AuditEntry


def run_export(
    store: ReportStore, actor: str, fmt: str, item_ids: Sequence[int] | None = None,
    categories: Sequence[str] | None = None, reporter: Reporter | None = None, destination: str = "",
) -> Export:
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    case_name = store.case_dir.resolve().name
    count = 0
    if fmt.startswith("case-report"):
        html = render_case_report(store)
        if fmt == "case-report-pdf":
            browser = find_pdf_browser()
            if browser is None:
                raise ExportError("a PDF needs Chromium (Debian package chromium); write the HTML report and "
                                  "print it from a browser instead")
            content = html_to_pdf(html, browser)
        else:
            content = html.encode()
    else:
        items = select_items(store, item_ids, categories)
        if not items:
            raise ExportError("nothing to export: no reviewed item in the selection (categorise items first)")
        count = len(items)
        if fmt in ("vics", "vics-1.3"):
            text = vics_document(vics_case(store), items, "1.3" if fmt == "vics-1.3" else "2.0")
        elif fmt == "csv":
            text = decisions_csv(items)
        elif fmt == "hashlist":
            text = hashlist_csv(items)
        else:
            text = cybertip_document(items, reporter or Reporter())
        content = text.encode()
    media_type, suffix = EXPORT_FORMATS[fmt]
    entry = store.append_audit(actor, "export", {
        "format": fmt, "files": count, "sha256": hashlib.sha256(content).hexdigest(), "destination": destination,
        "selection": None if item_ids is None else list(item_ids), "categories": list(categories or []),
    })
    return Export(content, media_type, f"{case_name}{suffix}", count, entry)
