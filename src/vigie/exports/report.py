"""The case report as data (JSON), as a table (CSV), and as a readable page (HTML)."""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, select_autoescape

from vigie import __version__
from vigie.config import Settings
from vigie.exports.cells import write_csv_rows
from vigie.exports.roles import ReportStore
from vigie.i18n import N_, Language, language
from vigie.signals.registry import DIGESTS, SIGNALS
from vigie.signals.thumbnails import report_thumbnails
from vigie.sources.base import shown_os_path
from vigie.store.review import QueueFilter
from vigie.store.sqlite import now_iso
from vigie.vocabulary import (
    UNDETERMINED,
    category_label,
    finding_kind_name,
    shown_code,
    stage_name,
    variant_name,
)

CSV_COLUMNS = [
    "id", "path", "source", "deleted", "size", *(s.name for s in DIGESTS), "media_type", "width", "height",
    *(column for s in SIGNALS.values() if s.computed_by == "image" for column in s.columns),
    "stack", "stack_size", "stack_representative", "match_lists", "match_signals", "best_distance", "categories",
    "errors",
]


def case_info(store: ReportStore) -> dict[str, Any]:
    return {
        "path": shown_os_path(str(store.case_dir)),  # a name that is not UTF-8 escaped, as item paths are
        "created_at": store.get_meta("created_at"),
        "generated_at": now_iso(),
        "vigie_version": __version__,
        "audit_head": store.get_meta("audit_head"),
        "sources": [{"given": s.given, "root": shown_os_path(s.root), "kind": s.kind} for s in store.sources()],
        "hash_lists": [
            {"name": h.name, "format": h.format, "file": h.file_name, "sha256": h.file_sha256,
             "imported_at": h.imported_at, "entries": h.entry_count, "skipped": h.skipped}
            for h in store.hash_lists()
        ],
        "hash_lists_refused": refused_lists(store),
    }


def refused_lists(store: ReportStore) -> list[dict[str, Any]]:
    """Lists refused at import (a scan's --hashlist included) and not imported from that file since: the case
    was never matched against them, and a report that named only the lists imported would read as if it was."""
    refused: dict[str, dict[str, Any]] = {}
    for entry in store.audit_entries(action="hashlist-rejected"):
        file = entry.details.get("file", "")
        refused[file] = {"file": file, "reason": entry.details.get("reason"), "at": entry.at,
                         "audit_seq": entry.seq}
    for entry in store.audit_entries(action="hashlist-import"):
        earlier = refused.get(entry.details.get("file", ""))
        if earlier and earlier["audit_seq"] < entry.seq:
            del refused[earlier["file"]]
    return sorted(refused.values(), key=lambda r: r["audit_seq"])


def _public_item(item: dict[str, Any]) -> dict[str, Any]:
    public = {k: v for k, v in item.items() if k != "relpath"}  # the id is what --item and --stack take
    public["matches"] = [
        {k: v for k, v in m.items() if k != "entry_id"} | {"category_label": category_label(m["category_scheme"],
                                                                                            m["category"])}
        for m in item["matches"]
    ]
    return public


class _Tally:
    """The report's summary counts, gathered one item at a time."""

    def __init__(self, lang: Language | None = None) -> None:
        self.lang = lang or language()  # the words of the category counts (the JSON report's are English)
        self.by_list: Counter[str] = Counter()
        self.by_category: Counter[str] = Counter()
        self.by_type: Counter[str] = Counter()
        self.verdicts: Counter[str] = Counter()
        self.unmatched_images = 0

    def add(self, item: dict[str, Any]) -> None:
        self.by_type[item["media_type"] or "unread"] += 1
        for name in {m["list"] for m in item["matches"]}:
            self.by_list[name] += 1
        for label in {category_label(m["category_scheme"], m["category"], self.lang) or self.lang.gettext(N_(
                "uncategorised")) for m in item["matches"]}:
            self.by_category[label] += 1
        if (item["media_type"] or "").startswith("image/") and not item["matches"] and item["pdq"]:
            self.unmatched_images += 1
        if item.get("ai"):
            self.verdicts[item["ai"]["verdict"]] += 1

    def summary(self, store: ReportStore) -> dict[str, Any]:
        return store.summary() | {
            "ai_verdicts": dict(self.verdicts.most_common()),
            "new_images": self.unmatched_images,
            "matched_by_list": dict(self.by_list.most_common()),
            "matched_by_category": dict(self.by_category.most_common()),
            "media_types": dict(self.by_type.most_common()),
        }


def build_summary(store: ReportStore, items: list[dict[str, Any]], lang: Language | None = None) -> dict[str, Any]:
    tally = _Tally(lang)
    for item in items:
        tally.add(item)
    return tally.summary(store)


def collect(store: ReportStore, lang: Language | None = None) -> dict[str, Any]:
    items = list(store.iter_report_items())
    return {"case": case_info(store), "items": items, "summary": build_summary(store, items, lang)}


def _streamed_items(store: ReportStore) -> Iterator[dict[str, Any]]:
    for batch in store.report_batches():
        yield from store.iter_report_items(batch)


def _nested(value: Any, depth: int) -> str:
    """`value` as json.dump(indent=1) writes it `depth` levels down (JSON strings hold no raw newline)."""
    return json.dumps(value, indent=1, ensure_ascii=False).replace("\n", "\n" + " " * depth)


def write_json(store: ReportStore, out: TextIO) -> None:
    """The report, item by item: the same text as one json.dump of the whole, without the whole in memory."""
    tally = _Tally()
    out.write('{\n "case": ' + _nested(case_info(store), 1) + ',\n "items": [')
    written = 0
    for item in _streamed_items(store):
        tally.add(item)
        out.write((",\n  " if written else "\n  ") + _nested(_public_item(item), 2))
        written += 1
    out.write(("\n ]" if written else "]") + ',\n "summary": ' + _nested(tally.summary(store), 1) + "\n}\n")


def csv_rows(items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        stack = item["stack"] or {}
        yield {
            **{k: item[k] for k in CSV_COLUMNS if k in item and k != "stack"},
            "stack": stack.get("id"),
            "stack_size": stack.get("size"),
            "stack_representative": stack.get("representative"),
            "match_lists": ";".join(sorted({m["list"] for m in item["matches"]})),
            "match_signals": ";".join(sorted({m["signal"] for m in item["matches"]})),
            "best_distance": min((m["distance"] for m in item["matches"]), default=None),
            "categories": ";".join(sorted({f"{m['category_scheme']}:{m['category']}" for m in item["matches"]
                                           if m["category"] is not None})),
            "errors": " | ".join(f"{e['stage']}: {e['message']}" for e in item["errors"]),
        }


def write_csv(store: ReportStore, out: TextIO) -> None:
    write_csv_rows(out, CSV_COLUMNS, csv_rows(_streamed_items(store)))


def clock(seconds: float) -> str:
    """A time in a video as h:mm:ss.mmm, as the report and the console show it."""
    return f"{int(seconds) // 3600}:{int(seconds) // 60 % 60:02d}:{seconds % 60:06.3f}"


def template_environment(lang: Language) -> Environment:
    """The report templates, with `_` and the vocabulary's words (the `code` filter) in `lang`."""
    env = Environment(loader=PackageLoader("vigie", "templates"), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["code"] = lambda code: shown_code(code, lang)
    env.filters["variant"] = lambda code: variant_name(code, lang)
    env.filters["stage"] = lambda code: stage_name(code, lang)
    env.filters["finding"] = lambda code: finding_kind_name(code, lang)
    env.globals["lang"] = lang.code
    return env


def write_html(store: ReportStore, out: TextIO, thumbnails: dict[int, bytes] | None = None,
               lang: Language | None = None) -> None:
    lang = lang or language()
    data = collect(store, lang)
    items = data["items"]
    stacks: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        if item["stack"]:
            stacks.setdefault(item["stack"]["id"], []).append(item)
    stack_views = [
        {"id": sid, "members": sorted(members, key=lambda i: not i["stack"]["representative"])}
        for sid, members in sorted(stacks.items(), key=lambda kv: -len(kv[1]))
    ]
    env = template_environment(lang)
    env.filters["category"] = lambda m: category_label(m["category_scheme"], m["category"], lang) or "—"
    env.filters["clock"] = clock
    thumbs = {k: base64.b64encode(v).decode() for k, v in (thumbnails or {}).items()}
    out.write(env.get_template("report.html").render(
        case=data["case"], summary=data["summary"], stacks=stack_views,
        matched=[i for i in items if i["matches"]],
        errors=[i for i in items if i["errors"]],
        videos=[i for i in items if i["video"]],
        generated=[i for i in items if i.get("ai") and i["ai"]["verdict"] != UNDETERMINED],
        queue=store.review_tables().queue(QueueFilter(status="all"), limit=200)[1],
        thumbs=thumbs,
    ))


def write_report(store: ReportStore, fmt: str, out: TextIO, thumbnails: dict[int, bytes] | None = None,
                 lang: Language | None = None) -> None:
    """The report in `fmt`; `lang` is the HTML page's language (JSON and CSV are data, in English)."""
    if fmt == "json":
        write_json(store, out)
    elif fmt == "csv":
        write_csv(store, out)
    elif fmt == "html":
        write_html(store, out, thumbnails, lang)
    else:
        raise ValueError(f"unknown report format {fmt!r}")


def write_case_report(store: ReportStore, fmt: str, out: TextIO, actor: str, output: str,
                      thumbnails: dict[int, bytes] | None = None, lang: Language | None = None) -> None:
    """`write_report`, then the report is audited (`output`: where it went, as the log names it)."""
    lang = lang or language()
    write_report(store, fmt, out, thumbnails, lang)
    details = {"format": fmt, "output": output, "thumbnails": bool(thumbnails)}
    store.append_audit(actor, "report", details | ({"language": lang.code} if fmt == "html" else {}))


def matched_thumbnails(store: ReportStore, settings: Settings) -> dict[int, bytes]:
    """Blurred greyscale thumbnails of the matched images, and the first still of each matched video."""
    thumbs = report_thumbnails(store.matched_image_locations(), settings)
    for item_id in store.matched_video_ids():
        stills = store.video_stills(item_id)
        if stills:
            thumbs[item_id] = stills[0][2]  # stored blurred at scan time
    return thumbs


def render(store: ReportStore, fmt: str, thumbnails: dict[int, bytes] | None = None,
           lang: Language | None = None) -> str:
    buffer = io.StringIO()
    write_report(store, fmt, buffer, thumbnails, lang)
    return buffer.getvalue()
