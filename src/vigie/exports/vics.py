"""Project VIC VICS JSON: 2.0 (a case holding media) and 1.3 (a flat media list). What is written here,
`vigie hashlist import` reads back: the hashes and category into their columns, everything else as extras."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from vigie import __version__
from vigie.categories import AI_TAGS
from vigie.exports.selection import ExportItem

VICS_2_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Cases"
VICS_1_3_METADATA = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
_TAG_LABELS = {t.code: t.label for t in AI_TAGS}


def _category(decision: dict[str, Any]) -> int | str | None:
    code = decision["category"]
    if code is not None and decision["scheme"] == "projectvic-us":
        return int(code)
    return code


def media_record(number: int, export_item: ExportItem) -> dict[str, Any]:
    item, decision = export_item.item, export_item.decision
    media: dict[str, Any] = {"MediaID": number, "Category": _category(decision)}
    if decision["scheme"] != "projectvic-us":
        media["CategoryScheme"] = decision["scheme"]
    for key, field in (("MD5", "md5"), ("SHA1", "sha1"), ("SHA256", "sha256"), ("PDQ", "pdq")):
        if item.get(field):
            media[key] = item[field]
    series = sorted({m["series"] for m in item["matches"] if m.get("series")})
    if series:
        media["Series"] = series[0]
    media["MediaSize"] = item["size"]
    media["IsPrecategorized"] = bool(item["matches"])
    if decision["ai_tags"]:
        media["Tags"] = [_TAG_LABELS.get(tag, tag) for tag in decision["ai_tags"]]
    if export_item.notes:
        media["Comments"] = "\n".join(f"{n['author']} {n['at']}: {n['text']}" for n in export_item.notes)
    media["MediaFiles"] = [
        {"FileName": PurePosixPath(path.rsplit("!/", 1)[-1]).name, "FilePath": path} for path in export_item.paths
    ]
    media["CategorisedBy"] = decision["by"]
    media["CategorisedAt"] = decision["at"]
    return media


def vics_document(case_name: str, items: list[ExportItem], version: str = "2.0") -> str:
    media = [media_record(n, e) for n, e in enumerate(items, start=1)]
    if version == "1.3":
        document: dict[str, Any] = {"odata.metadata": VICS_1_3_METADATA, "value": media}
    elif version == "2.0":
        document = {
            "@odata.context": VICS_2_CONTEXT,
            "value": [{
                "CaseNumber": case_name,
                "SourceApplicationName": "Vigie",
                "SourceApplicationVersion": __version__,
                "Media": media,
            }],
        }
    else:
        raise ValueError(f"unknown VICS version {version!r} (2.0 or 1.3)")
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
