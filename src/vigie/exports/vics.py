"""Project VIC VICS JSON: 2.0 (a case holding media) and 1.3 (a flat media list). What is written here,
`vigie hashlist import` reads back: the hashes and category into their columns, everything else as extras.

VICS 2.0 declares only what the Project VIC 2.0 data model (OData CSDL, namespace CEModel) declares: hashes
it has no property for go to AlternativeHashes, Vigie's own fields to MediaMetadata and CaseMetadata."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from vigie import __version__
from vigie.exports.format import ExportOptions
from vigie.exports.roles import ReportStore
from vigie.exports.selection import ExportItem, LeftOut, hashless, kept
from vigie.i18n import N_, Phrase
from vigie.matching.lists.vics import VICS_CONTEXT_SCHEMES, VIGIE_CATEGORY, VIGIE_CATEGORY_SCHEME, VIGIE_PDQ_QUALITY
from vigie.review.categories import case_scheme
from vigie.signals.registry import MD5, SIGNALS
from vigie.sources.base import shown_leaf_name
from vigie.vocabulary import AI_TAGS, UK_CAID_VICS_NUMBERS

VICS_2_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{part}/$metadata#Cases"
VICS_1_3_METADATA = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
CASE_ID_META = "vics_case_id"
_CONTEXT_PARTS = {scheme: part for part, scheme in VICS_CONTEXT_SCHEMES.items()}
_TAG_LABELS = {t.code: t.label for t in AI_TAGS}
_KEY = MD5  # the VICS data model keys a Media (and its files, metadata and alternative hashes) by its MD5


@dataclass(frozen=True)
class VicsCase:
    number: str  # CaseNumber: the case folder's name
    case_id: str  # CaseID: a GUID made at the first export and kept in the case
    scheme: str  # the scheme the case is reviewed under; it names the context (US, UK or CUSTOM)
    custom_categories: list[str] | None = None


def vics_case(store: ReportStore) -> VicsCase:
    case_id = store.get_meta(CASE_ID_META)
    if case_id is None:
        case_id = str(uuid.uuid4())
        store.set_meta(CASE_ID_META, case_id)
    scheme, categories = case_scheme(store)
    return VicsCase(store.case_dir.resolve().name, case_id, scheme,
                    [c.code for c in categories] if scheme == "custom" else None)

MD5_SHARED = "Vigie.LeftOutMD5Shared"


def left_out_2_0(items: list[ExportItem]) -> list[LeftOut]:
    return _left_out(items, Phrase(N_("its MD5 is also another file's (of another SHA-256), and VICS knows a file "
                                      "by its MD5: each named, with its hashes, in CaseMetadata %(field)s"),
                                   field=MD5_SHARED))


def left_out_1_3(items: list[ExportItem]) -> list[LeftOut]:
    return _left_out(items, N_("its MD5 is also another file's (of another SHA-256), and VICS knows a file by its "
                               "MD5"))


def _left_out(items: list[ExportItem], md5_shared: str) -> list[LeftOut]:
    """What a VICS document cannot carry: a file with no MD5 (it could not be read), and files of different
    content (SHA-256) that share one MD5 (a crafted collision): VICS knows a file by its MD5, so an importer
    would keep one of them under the other's category. Neither is written as Media; the 2.0 case names them."""
    by_md5: dict[str, list[ExportItem]] = {}
    for e in items:
        if e.item.get(_KEY.name):
            by_md5.setdefault(e.item[_KEY.name], []).append(e)
    groups = [LeftOut("no-md5", N_("no MD5: the file could not be read"), hashless(items, [_KEY.name])),
              LeftOut("md5-shared", md5_shared, [e for shared in by_md5.values() if len(shared) > 1 for e in shared])]
    return [group for group in groups if group.items]


def _md5_shared(groups: list[LeftOut]) -> str | None:
    """The files left out for a shared MD5, as JSON: their hashes, decision and paths, for a person to read."""
    shared = [e for group in groups if group.code == "md5-shared" for e in group.items]
    return json.dumps([{s.vics_name: e.item[s.name] for s in SIGNALS.values() if e.item.get(s.name)}
                       | {"Category": e.decision["category"], "CategoryScheme": e.decision["scheme"],
                          "FilePaths": e.paths} for e in shared], ensure_ascii=False) if shared else None


def _category_number(decision: dict[str, Any], scheme: str) -> int | None:
    """The decision as the number the context's scheme gives it; None where the number cannot say it."""
    code = decision["category"]
    if code is None or decision["scheme"] != scheme:
        return None
    if scheme == "projectvic-us":
        return int(code) if code.isdigit() else None
    if scheme == "uk-caid":
        return UK_CAID_VICS_NUMBERS.get(code)
    return None


def _properties(key: dict[str, str], values: dict[str, Any]) -> list[dict[str, Any]]:
    """MediaMetadata / CaseMetadata rows: the parent's key, then PropertyName and PropertyValue (a string)."""
    return [key | {"PropertyName": name, "PropertyValue": str(value)} for name, value in values.items()
            if value is not None]


def media_record_2_0(number: int, export_item: ExportItem, scheme: str) -> dict[str, Any]:
    item, decision = export_item.item, export_item.decision
    md5 = item[_KEY.name]
    key = {_KEY.vics_name: md5}
    media: dict[str, Any] = {"MediaID": number}
    category = _category_number(decision, scheme)
    if category is not None:
        media["Category"] = category
    media |= key
    for signal in SIGNALS.values():
        if signal.vics_property and signal is not _KEY and item.get(signal.name):
            media[signal.vics_name] = item[signal.name]
    series = sorted({m["series"] for m in item["matches"] if m.get("series")})
    if series:
        media["Series"] = series[0]
    if decision["ai_tags"]:
        media["Tags"] = "; ".join(_TAG_LABELS.get(tag, tag) for tag in decision["ai_tags"])
    if export_item.notes:
        media["Comments"] = "\n".join(f"{n['author']} {n['at']}: {n['text']}" for n in export_item.notes)
    media["DateUpdated"] = decision["at"]
    media["MediaSize"] = item["size"]
    media["IsPrecategorized"] = bool(item["matches"])
    if item["matches"]:
        media["PrecategorizationSource"] = ", ".join(sorted({m["list"] for m in item["matches"]}))
    if item.get("media_type"):
        media["MimeType"] = item["media_type"]
    media["AlternativeHashes"] = [key | {"HashName": s.vics_name, "HashValue": item[s.name]}
                                  for s in SIGNALS.values() if not s.vics_property and item.get(s.name)]
    # Deleted (declared by the 2.0 model) is said only of files read from a disk image as deleted
    media["MediaFiles"] = [key | {"FileName": shown_leaf_name(path), "FilePath": path}
                           | ({"Deleted": True} if path in export_item.deleted_paths else {})
                           for path in export_item.paths]
    unsaid = category is None and decision["category"] is not None
    media["MediaMetadata"] = _properties(key, {
        VIGIE_CATEGORY: decision["category"] if unsaid else None,
        VIGIE_CATEGORY_SCHEME: decision["scheme"] if unsaid else None,
        "Vigie.CategorisedBy": decision["by"],
        "Vigie.IndustryClassification": decision.get("industry_class"),
        "Vigie.AiVerdict": (item.get("ai") or {}).get("verdict"),
        VIGIE_PDQ_QUALITY: item.get("pdq_quality") if item.get("pdq") else None,
    })
    return media


def vics_2_0(case: VicsCase, items: list[ExportItem]) -> dict[str, Any]:
    groups = left_out_2_0(items)
    unread = [e.item["path"] for group in groups if group.code == "no-md5" for e in group.items]
    return {
        "@odata.context": VICS_2_CONTEXT.format(part=_CONTEXT_PARTS.get(case.scheme, "CUSTOM")),
        "value": [{
            "CaseID": case.case_id,
            "CaseNumber": case.number,
            "SourceApplicationName": "Vigie",
            "SourceApplicationVersion": __version__,
            "CaseMetadata": _properties({"CaseID": case.case_id}, {
                "Vigie.CategoryScheme": case.scheme,
                "Vigie.CustomCategories": json.dumps(case.custom_categories) if case.custom_categories else None,
                "Vigie.LeftOutWithoutMD5": json.dumps(unread, ensure_ascii=False) if unread else None,
                MD5_SHARED: _md5_shared(groups),
            }),
            "Media": [media_record_2_0(n, e, case.scheme) for n, e in enumerate(kept(items, groups), start=1)],
        }],
    }


def media_record_1_3(number: int, export_item: ExportItem) -> dict[str, Any]:
    item, decision = export_item.item, export_item.decision
    code = decision["category"]
    media: dict[str, Any] = {
        "MediaID": number,
        "Category": int(code) if code is not None and decision["scheme"] == "projectvic-us" else code,
    }
    if decision["scheme"] != "projectvic-us":
        media["CategoryScheme"] = decision["scheme"]
    for signal in SIGNALS.values():
        if item.get(signal.name):
            media[signal.vics_name] = item[signal.name]
    series = sorted({m["series"] for m in item["matches"] if m.get("series")})
    if series:
        media["Series"] = series[0]
    media["MediaSize"] = item["size"]
    media["IsPrecategorized"] = bool(item["matches"])
    if decision["ai_tags"]:
        media["Tags"] = [_TAG_LABELS.get(tag, tag) for tag in decision["ai_tags"]]
    if export_item.notes:
        media["Comments"] = "\n".join(f"{n['author']} {n['at']}: {n['text']}" for n in export_item.notes)
    media["MediaFiles"] = [{"FileName": shown_leaf_name(path), "FilePath": path} for path in export_item.paths]
    media["CategorisedBy"] = decision["by"]
    media["CategorisedAt"] = decision["at"]
    return media


def vics_document(case: VicsCase, items: list[ExportItem], version: str = "2.0") -> str:
    if version == "1.3":
        document: dict[str, Any] = {"odata.metadata": VICS_1_3_METADATA,
                                    "value": [media_record_1_3(n, e)
                                              for n, e in enumerate(kept(items, left_out_1_3(items)), start=1)]}
    elif version == "2.0":
        document = vics_2_0(case, items)
    else:
        raise ValueError(f"unknown VICS version {version!r} (2.0 or 1.3)")
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def render_2_0(store: ReportStore, items: list[ExportItem], options: ExportOptions) -> bytes:
    return vics_document(vics_case(store), items, "2.0").encode()


def render_1_3(store: ReportStore, items: list[ExportItem], options: ExportOptions) -> bytes:
    return vics_document(vics_case(store), items, "1.3").encode()
