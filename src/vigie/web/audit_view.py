"""An audit-log entry as the console shows it: what was done, in the reader's language, and its details as
labelled fields. Labels and vocabulary codes (scopes, roles, tags, categories) are translated; the values
themselves are data, shown as they are. The log keeps its codes and JSON: nothing here is written back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vigie.i18n import LANGUAGES, N_, Language
from vigie.records import AuditEntry
from vigie.vocabulary import AUDIT_ACTIONS, category_label, scheme_name, shown_code, tag_label

FIELDS = {
    "items": N_("items"), "sha256": N_("SHA-256"), "scope": N_("applies to"), "scheme": N_("category scheme"),
    "category": N_("category"), "ai_tags": N_("AI tags"), "industry_class": N_("industry classification"),
    "undoes": N_("undoes entry"), "restore": N_("restored to"), "until": N_("until"), "text": N_("text"),
    "user": N_("account"), "role": N_("role"), "address": N_("address"), "case": N_("case"),
    "folder": N_("folder"), "format": N_("format"), "output": N_("written to"), "thumbnails": N_("thumbnails"),
    "language": N_("language"), "files": N_("files"), "destination": N_("destination"),
    "selection": N_("selected items"), "categories": N_("categories"), "list": N_("hash list"),
    "list_id": N_("list number"), "file": N_("file"), "file_sha256": N_("file SHA-256"),
    "entries": N_("entries"), "skipped": N_("entries skipped"), "notes": N_("notes"),
    "new_matches": N_("new matches"), "reason": N_("reason"), "hash_lists": N_("hash lists"),
    "stacks": N_("stacks"), "seconds": N_("seconds"), "images": N_("images"), "faces": N_("faces"),
    "not_searched": N_("not searched"), "detector": N_("detector"), "persons": N_("persons"),
    "threshold": N_("threshold"), "person": N_("person"), "name": N_("name"), "keep": N_("kept person"),
    "absorb": N_("merged person"), "absorb_name": N_("merged person's name"),
    "new_person": N_("new person"), "faces_moved": N_("faces moved"),
    "references_sha256": N_("reference photos"), "hits": N_("hits"), "from": N_("copied from"),
    "source_head": N_("source log head"), "rows": N_("rows"),
    "signed": N_("signed"), "rule": N_("chain rule"), "from_seq": N_("from entry"),
    "item_rows": N_("items"), "items_sha256": N_("items digest"), "match_rows": N_("matches"),
    "matches_sha256": N_("matches digest"), "problems": N_("problems"), "changed": N_("changed files"),
    "scan_id": N_("scan number"), "paths": N_("evidence paths"), "status": N_("status"),
    "noticed_by_scan": N_("found interrupted by scan"),
    "files_seen": N_("files seen"), "files_skipped_as_done": N_("files already scanned"),
    "files_changed_since_scanned": N_("files changed since scanned"),
    "items_added": N_("items added"), "items_with_errors": N_("items with errors"), "blur": N_("blur"),
    "greyscale": N_("greyscale"), "density": N_("grid density"), "hold_to_reveal": N_("hold to reveal"),
    "new_faces": N_("new faces"), "index": N_("face index"), "already_in_case": N_("already in the case"),
    "never_read": N_("never read"),
}
# The kinds of match a scan or an import counts (`new_matches`)
MATCH_KINDS = {"exact": N_("exact hash"), "pdq": "PDQ", "video": N_("video frames")}
# Values that are Vigie's own words, not data: the scope of a decision, a scan's end, where an export went.
WORDS = {"stack": N_("whole stack"), "item": N_("this copy only"), "complete": N_("complete"),
         "interrupted": N_("interrupted"), "running": N_("running"), "console": N_("console"),
         "console download": N_("console download"), "stdout": N_("standard output")}
LISTED = 5  # values of a list shown before "and N more"
# What any account, read-only too, adds to an item's history at will: an item's panel lists the latest of each
VIEW_ACTIONS = ("reveal", "export")
VIEWS_LISTED = 20


def item_history(entries: Iterable[AuditEntry]) -> tuple[list[AuditEntry], dict[str, int]]:
    """An item's history as its panel lists it: every decision and note, and the latest VIEWS_LISTED reveals
    and exports (thousands of reveals made a panel of megabytes); how many earlier ones of each it leaves out."""
    listed: list[AuditEntry] = []
    seen: dict[str, int] = {}
    for entry in reversed(list(entries)):
        if entry.action in VIEW_ACTIONS:
            seen[entry.action] = seen.get(entry.action, 0) + 1
            if seen[entry.action] > VIEWS_LISTED:
                continue
        listed.append(entry)
    listed.reverse()
    return listed, {action: count - VIEWS_LISTED for action, count in seen.items() if count > VIEWS_LISTED}


def shown_entry(entry: AuditEntry, lang: Language, hidden: tuple[str, ...] = ()) -> dict[str, Any]:
    """`what`: the action as `lang` says it (its code where Vigie has no name for it); `fields`: each detail
    but `hidden` as [label, value], labels translated (a key Vigie has no label for is shown as it is)."""
    label = AUDIT_ACTIONS.get(entry.action)
    details = {k: v for k, v in entry.details.items() if k not in hidden}
    return {"what": lang.gettext(label) if label else entry.action,
            "fields": [[lang.gettext(FIELDS[k]) if k in FIELDS else k, _value(k, v, details, lang)]
                       for k, v in details.items()]}


def _value(key: str, value: Any, details: dict[str, Any], lang: Language) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return lang.gettext(N_("yes")) if value else lang.gettext(N_("no"))
    if key == "category":
        label = category_label(details.get("scheme"), str(value), lang)
        return str(value) if label == value else f"{value} — {label}"
    if key == "ai_tags" and isinstance(value, list):
        return ", ".join(tag_label(str(t), lang) for t in value) or "—"
    if key == "restore" and isinstance(value, list):
        return "; ".join(_decision(d, lang) for d in value)
    if key == "role" and isinstance(value, str):
        return shown_code(value, lang)
    if key == "scheme" and isinstance(value, str):
        return scheme_name(value).read(lang)
    if key == "language" and isinstance(value, str):
        return LANGUAGES.get(value, value)
    if key == "until" and isinstance(value, str):  # a claim's end, as the console says it (the log keeps its ISO time)
        return f"{value[:10]} {value[11:16]} UTC"
    if key == "scope" and isinstance(value, str) and value.startswith("list:"):
        return lang.format(N_("hash list %(list)s"), list=value.removeprefix("list:"))
    if isinstance(value, str):
        return lang.gettext(WORDS[value]) if value in WORDS and key in ("scope", "status", "destination") else value
    if isinstance(value, dict):
        return ", ".join(f"{lang.gettext(MATCH_KINDS.get(str(k), str(k)))} {_value(k, v, value, lang)}"
                         for k, v in value.items()) or "—"
    if isinstance(value, list) and not value:
        return "—"
    if isinstance(value, list):
        shown = ", ".join(_value(key, v, details, lang) for v in value[:LISTED])
        more = len(value) - LISTED
        return shown if more <= 0 else shown + " " + lang.ngettext("and %(n)s more", "and %(n)s more", more) % {
            "n": more}
    return str(value)


def _decision(decision: Any, lang: Language) -> str:
    """A decision an undo restored: its category and tags, or undecided."""
    if not isinstance(decision, dict):
        return lang.gettext(N_("undecided"))
    parts = [] if decision.get("category") is None else [
        str(category_label(decision.get("scheme"), str(decision["category"]), lang))]
    parts += [tag_label(str(t), lang) for t in decision.get("ai_tags") or []]
    return " · ".join(parts) or lang.gettext(N_("undecided"))
