"""A NCMEC CyberTipline report draft: the `report` document and one `fileDetails` document per file, in the
element order of the CyberTipline reporting API schema. A person completes and submits it; Vigie never sends."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from vigie import __version__
from vigie.exports.format import ExportOptions, Reporter
from vigie.exports.roles import ReportStore
from vigie.exports.selection import ExportItem, LeftOut, kept
from vigie.i18n import N_
from vigie.signals.registry import SIGNALS
from vigie.sources.base import shown_leaf_name
from vigie.vocabulary import AI_PROVENANCE, GENERATIVE_TAGS, category_label

INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"
# What XML 1.0 cannot hold (C0 controls but TAB, LF, CR; lone surrogates, as non-UTF-8 names decode to; U+FFFE,
# U+FFFF), and in file names also what a parser would change or a reader would not see (TAB, LF, CR, DEL, C1).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_IN_A_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def name_text(path: str) -> str:
    """A file name or path as visible text: control characters and undecodable bytes as \\xNN escapes."""
    return _NOT_IN_A_NAME.sub(lambda found: _escape(found[0]), path)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = _NOT_XML.sub(lambda found: _escape(found[0]), text)
    return element


def is_generative(export_item: ExportItem) -> bool:
    """The reviewer tagged it as made or altered by generative AI, or it carries a generator's mark."""
    ai = export_item.item.get("ai") or {}
    return bool(GENERATIVE_TAGS & set(export_item.decision["ai_tags"])) or ai.get("verdict") == AI_PROVENANCE


def _report(reporter: Reporter, items: list[ExportItem], when: datetime) -> ET.Element:
    report = ET.Element("report")
    summary = _add(report, "incidentSummary")
    _add(summary, "incidentType", INCIDENT_TYPE)
    _add(summary, "incidentDateTime", when.isoformat(timespec="seconds"))
    _add(summary, "incidentDateTimeDescription", "Date the files were reviewed in Vigie; replace with the date of "
                                                 "the incident where known.")
    person = _add(_add(report, "reporter"), "reportingPerson")
    _add(person, "firstName", reporter.first_name)
    _add(person, "lastName", reporter.last_name)
    _add(person, "email", reporter.email)
    generative = sum(is_generative(e) for e in items)
    _add(report, "additionalInfo", f"Draft prepared with Vigie {__version__}: {len(items)} file(s), {generative} "
                                   f"marked as made or altered with generative AI.")
    return report


def _file_details(number: int, export_item: ExportItem) -> ET.Element:
    item, decision = export_item.item, export_item.decision
    details = ET.Element("fileDetails")
    _add(details, "reportId", "0")  # the id NCMEC returns for the submitted report
    _add(details, "fileId", f"pending-{number}")  # the id NCMEC returns for the uploaded file
    _add(details, "originalFileName", name_text(shown_leaf_name(item["path"])))
    _add(details, "locationOfFile", name_text(item["path"]))
    if is_generative(export_item):
        _add(_add(details, "fileAnnotations"), "generativeAi")
    if decision.get("industry_class"):
        _add(details, "industryClassification", decision["industry_class"])
    for signal in SIGNALS.values():
        if signal.cybertip_hash_type and item.get(signal.name):
            _add(details, "originalFileHash", item[signal.name], hashType=signal.cybertip_hash_type)
    label = category_label(decision["scheme"], decision["category"]) or "none"
    info = [f"Category ({decision['scheme']}): {label}", f"Reviewed by {decision['by']} at {decision['at']}"]
    info += [f"Also found at: {name_text(path)}" for path in export_item.paths if path != item["path"]]
    _add(details, "additionalInfo", "\n".join(info))
    return details


def cybertip_document(items: list[ExportItem], reporter: Reporter, when: datetime | None = None) -> str:
    """One XML file holding the report and the fileDetails to send after each upload."""
    root = ET.Element("cyberTiplineDraft", {"generator": f"Vigie {__version__}"})
    root.append(ET.Comment(" Submit <report> first; then upload each file and send its <fileDetails> with the "
                           "reportId and fileId NCMEC returned. Fields marked TO COMPLETE need a person. "))
    root.append(_report(reporter, items, when or datetime.now(UTC)))
    missing = [e.item["path"] for e in items if not e.decision.get("industry_class")]
    if missing:
        root.append(ET.Comment(f" {len(missing)} file(s) have no industry classification yet "))
    for number, export_item in enumerate(items, start=1):
        root.append(_file_details(number, export_item))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def left_out(items: list[ExportItem]) -> list[LeftOut]:
    """A report to NCMEC holds what is reported: not the files decided not pertinent."""
    not_pertinent = [e for e in items if not e.pertinent]
    why = N_("decided not pertinent (a report holds what is reported)")
    return [LeftOut("not-pertinent", why, not_pertinent)] if not_pertinent else []


def render(store: ReportStore, items: list[ExportItem], options: ExportOptions) -> bytes:
    return cybertip_document(kept(items, left_out(items)), options.reporter).encode()
