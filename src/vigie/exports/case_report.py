"""The printable case report: figures, charts of categories and sources, every decision, and the audit-log
head at the time of printing. PDF through headless Chromium when it is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from vigie.exports.format import ExportError, ExportOptions
from vigie.exports.report import case_info, template_environment
from vigie.exports.roles import ReportStore
from vigie.exports.selection import select_items
from vigie.i18n import N_, Language, language
from vigie.vocabulary import category_label, tag_label

PDF_BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _bars(counts: Counter[str], width: int = 360) -> list[dict[str, Any]]:
    """Rows of a horizontal bar chart, drawn as SVG by the template (no script, no external file)."""
    top = max(counts.values(), default=1)
    return [{"label": label if len(label) <= 34 else "…" + label[-33:], "count": count,
             "width": max(2, round(width * count / top))} for label, count in counts.most_common(20)]


def render_case_report(store: ReportStore, lang: Language | None = None) -> str:
    lang = lang or language()
    review = store.review_tables()
    decided = select_items(store)
    categories: Counter[str] = Counter(
        category_label(e.decision["scheme"], e.decision["category"], lang) or lang.gettext(N_("no category"))
        for e in decided
    )
    tags: Counter[str] = Counter(tag_label(tag, lang) for e in decided for tag in e.decision["ai_tags"])
    sources: Counter[str] = Counter(store.items_per_source())
    audit = store.verify_audit()
    env = template_environment(lang)
    env.filters["category"] = lambda d: category_label(d["scheme"], d["category"], lang) or "—"
    env.filters["tag"] = lambda code: tag_label(code, lang)
    return env.get_template("case_report.html").render(
        case=case_info(store), summary=store.summary(), progress=review.progress(), decided=decided,
        category_bars=_bars(categories), tag_bars=_bars(tags), source_bars=_bars(sources),
        audit={"entries": audit.entries, "head_seq": audit.head_seq, "head": audit.head, "ok": audit.ok,
               "problems": [lang.say(p) for p in audit.problems]},
    )


def find_pdf_browser() -> str | None:
    return next((path for name in PDF_BROWSERS if (path := shutil.which(name))), None)


def html_to_pdf(html: str, browser: str) -> bytes:
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch, "report.html")
        page.write_text(html, encoding="utf-8")
        pdf = Path(scratch, "report.pdf")
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", f"--user-data-dir={scratch}/profile", "--no-pdf-header-footer",
             f"--print-to-pdf={pdf}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
        return pdf.read_bytes()


def render_html(store: ReportStore, options: ExportOptions) -> bytes:
    return render_case_report(store, language(options.language)).encode()


def render_pdf(store: ReportStore, options: ExportOptions) -> bytes:
    browser = find_pdf_browser()
    if browser is None:
        raise ExportError("a PDF needs Chromium (Debian package chromium); write the HTML report and "
                          "print it from a browser instead")
    return html_to_pdf(render_case_report(store, language(options.language)), browser)
