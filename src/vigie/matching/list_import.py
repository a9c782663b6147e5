"""Importing a hash list into a case: read and validate, store, index, match the case, audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vigie.config import Settings
from vigie.matching.engine import build_list_segment, match_pending
from vigie.matching.hashlists import ParsedList, category_notes, read_hash_list
from vigie.matching.roles import ListStore


class ListImportError(Exception):
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
) -> ImportResult:
    name = name or path.stem
    parsed: ParsedList = read_hash_list(path, fmt, scheme, signal)
    for existing in store.hash_lists():
        if existing.name == name:
            if existing.file_sha256 == parsed.file_sha256:
                return ImportResult(name, existing.id, existing.entry_count, 0, [], already_imported=True)
            raise ListImportError(
                f"the case already has a list named {name!r} from another file; choose another --name"
            )
    if category is not None:
        for entry in parsed.entries:
            if entry.category is None:
                entry.category, entry.category_scheme = category, scheme or "custom"
    parsed.notes.extend(category_notes(parsed.entries))
    list_id = store.add_hash_list(name, parsed.format, str(path), parsed.file_sha256, parsed.entries, parsed.problems,
                                  parsed.notes)
    indexed = build_list_segment(store, list_id, settings)
    matches = match_pending(store, settings, [list_id])
    store.append_audit(actor, "hashlist-import", {
        "list": name, "list_id": list_id, "file": str(path), "file_sha256": parsed.file_sha256,
        "format": parsed.format, "entries": len(parsed.entries), "skipped": parsed.skipped,
        "notes": parsed.notes, "new_matches": matches,
    })
    store.record_case_state(actor)
    return ImportResult(name, list_id, len(parsed.entries), parsed.skipped, parsed.problems, parsed.notes, indexed,
                        matches)
