"""Importing a hash list into a case: read and validate, store, index, match the case, audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vigie.config import Settings
from vigie.errors import VigieError
from vigie.matching.engine import build_list_segment, match_pending
from vigie.matching.lists import HashListError, ParsedList, category_notes, read_hash_list
from vigie.matching.roles import MATCHING_LOCK, ListStore
from vigie.sources.base import shown_os_path


class ListImportError(VigieError):
    pass


@dataclass
class ImportResult:
    name: str
    list_id: int | None
    entries: int
    skipped: int
    problems: list[str]
    notes: list[str] = field(default_factory=list)
    pdq_indexed: int = 0
    new_matches: dict[str, int] = field(default_factory=dict)
    already_imported: bool = False
    problem_lines: int = 0  # lines with a problem: `skipped`, and those read without a bad cell's value


def import_hash_list(
    store: ListStore,
    path: Path,
    settings: Settings,
    name: str | None = None,
    fmt: str = "auto",
    scheme: str | None = None,
    signal: str | None = None,
    category: str | None = None,
    actor: str = "vigie",
    tolerate_errors: bool = False,
) -> ImportResult:
    """Import one list, audited; a list refused is audited too ("hashlist-rejected", with the reason).

    With `tolerate_errors` (a scan goes on whatever a list holds) an unexpected error is refused like a bad
    list, as a ListImportError."""
    try:
        return _import(store, path, settings, name, fmt, scheme, signal, category, actor)
    except (HashListError, ListImportError) as exc:
        _reject(store, path, str(exc), actor)
        raise
    except Exception as exc:
        if not tolerate_errors:
            raise
        reason = f"unexpected error reading the list: {type(exc).__name__}: {exc}"
        _reject(store, path, reason, actor)
        raise ListImportError(reason) from exc


def _reject(store: ListStore, path: Path, reason: str, actor: str) -> None:
    store.append_audit(actor, "hashlist-rejected", {"file": shown_os_path(str(path)), "reason": shown_os_path(reason)})


def _import(store: ListStore, path: Path, settings: Settings, name: str | None, fmt: str, scheme: str | None,
            signal: str | None, category: str | None, actor: str) -> ImportResult:
    name = shown_os_path(name or path.stem)  # a name that is not UTF-8, escaped as evidence names are
    parsed: ParsedList = read_hash_list(path, fmt, scheme, signal)
    for existing in store.hash_lists():
        if existing.name == name:
            if existing.file_sha256 == parsed.file_sha256:
                matches = _match_again(store, existing.id, name, path, parsed.file_sha256, settings, actor)
                return ImportResult(name, existing.id, existing.entry_count, 0, [], new_matches=matches,
                                    already_imported=True)
            raise ListImportError(
                f"the case already has a list named {name!r} from another file; choose another --name"
            )
    if category is not None:
        for entry in parsed.entries:
            if entry.category is None:
                entry.category, entry.category_scheme = category, scheme or "custom"
    parsed.notes.extend(category_notes(parsed.entries))
    list_id = store.add_hash_list(name, parsed.format, shown_os_path(str(path)), parsed.file_sha256,
                                  parsed.entries, parsed.problems, parsed.notes, parsed.skipped)
    with store.exclusive(MATCHING_LOCK):
        indexed = build_list_segment(store, list_id)
        matches = match_pending(store, settings, [list_id])
    store.append_audit(actor, "hashlist-import", {
        "list": name, "list_id": list_id, "file": shown_os_path(str(path)), "file_sha256": parsed.file_sha256,
        "format": parsed.format, "entries": len(parsed.entries), "skipped": parsed.skipped,
        "notes": parsed.notes, "new_matches": matches,
    })
    store.record_case_state(actor)
    return ImportResult(name, list_id, len(parsed.entries), parsed.skipped, parsed.problems, parsed.notes, indexed,
                        matches, problem_lines=parsed.problem_lines)


def _match_again(store: ListStore, list_id: int, name: str, path: Path, file_sha256: str, settings: Settings,
                 actor: str) -> dict[str, int]:
    """The same list again: the items not yet matched against it (a killed import or scan) are matched now,
    audited; {} when there were none."""
    with store.exclusive(MATCHING_LOCK):
        if store.matched_through().get(list_id, 0) >= store.last_item_id() and not store.unmatched_item_ids():
            return {}
        matches = match_pending(store, settings, [list_id])
    store.append_audit(actor, "hashlist-import", {
        "list": name, "list_id": list_id, "file": shown_os_path(str(path)), "file_sha256": file_sha256,
        "already_in_case": True,
        "new_matches": matches,
    })
    store.record_case_state(actor)
    return matches
