"""Every export format, one line each: `run_export`, the CLI's `--format` choices and the console's Export
dialog read this table. A new format is its module (a render function) and a line here."""

from __future__ import annotations

from vigie.exports import case_report, cybertip, tables, vics
from vigie.exports.format import CaseExport, ExportFormat, ItemExport
from vigie.i18n import N_

EXPORTS: dict[str, ExportFormat] = {export.name: export for export in (
    ItemExport("vics", "Project VIC VICS 2.0 (JSON)", "application/json", "-vics-2.0.json", vics.render_2_0,
               vics.left_out_2_0),
    ItemExport("vics-1.3", "Project VIC VICS 1.3 (JSON)", "application/json", "-vics-1.3.json", vics.render_1_3,
               vics.left_out_1_3),
    ItemExport("csv", N_("Decisions (CSV)"), "text/csv", "-decisions.csv", tables.render_decisions),
    ItemExport("hashlist", N_("Hash list: MD5, SHA-1, PDQ, category (CSV)"), "text/csv", "-hashlist.csv",
               tables.render_hashlist, tables.hashlist_left_out),
    ItemExport("cybertip", N_("NCMEC CyberTipline report draft (XML)"), "application/xml", "-cybertip-draft.xml",
               cybertip.render, cybertip.left_out),
    CaseExport("case-report", N_("Case report (HTML)"), "text/html", "-case-report.html", case_report.render_html),
    CaseExport("case-report-pdf", N_("Case report (PDF)"), "application/pdf", "-case-report.pdf",
               case_report.render_pdf),
)}
