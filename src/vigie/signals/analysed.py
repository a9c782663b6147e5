"""Content analysed before: a file whose SHA-256 was already analysed in the case is not decoded again.

The digest is known only once a worker has hashed the file, so the worker asks here: first the files of its
own batch analysed so far, then the case (the store's `copy_finder`, read-only). A copy is marked with where
its findings are (`analysed_as`), and the store copies them from that first copy when it stores the batch.
Only first copies analysed under the same analysis settings count, and never one whose analysis did not
finish (a timeout, a crash, a defect of ours) or whose bytes were too large to open where it was found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vigie.config import Settings
from vigie.sources.base import ARCHIVE_SEPARATOR

if TYPE_CHECKING:
    from vigie.records import ItemRecord

# Stages whose error means the analysis did not run to its end: such a copy is analysed again.
UNFINISHED_STAGES = ("timeout", "crash", "internal")
# The note of a file kept out of memory; a copy found elsewhere (a file, not an archive member) may be opened.
TOO_LARGE_NOTE = "too large to open in memory"
# Raise it when what the analysis of a file finds changes (a new stage, a new model's scores): findings
# made before are then not copied, and their copies are analysed afresh.
ANALYSIS_VERSION = 3  # 3: a JPEG's EXIF thumbnail that shows another picture is an item
# Settings that change what is done with findings, not the findings of a file.
_NOT_ANALYSIS = ("pdq_threshold", "pdq_min_quality", "stack_threshold", "vpdq_match_percent", "workers",
                 "file_seconds")


def analysis_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if k not in _NOT_ANALYSIS}


def reusable_scans(scans: Iterable[tuple[int, str]], settings: Settings) -> tuple[int, ...]:
    """Of the case's scans (id, stored arguments), the running one included, those whose files were analysed
    as `settings` would."""
    wanted = analysis_settings(settings.as_dict())
    found = []
    for scan_id, arguments in scans:
        try:
            given = json.loads(arguments)
        except (TypeError, ValueError):
            continue
        if (isinstance(given, dict) and given.get("analysis") == ANALYSIS_VERSION
                and isinstance(given.get("settings"), dict) and analysis_settings(given["settings"]) == wanted):
            found.append(scan_id)
    return tuple(found)


@dataclass
class Analysed:
    """Sent with each batch to a worker: how to find a first copy in the case (None: no scan counts), and the
    batch's own digests."""

    first_copy: Callable[[str], int | None] | None  # SHA-256 -> item id; picklable (the store's copy_finder)
    batch: dict[str, str] = field(default_factory=dict)  # SHA-256 -> relpath of its first copy in the batch

    def mark_copy(self, record: ItemRecord) -> bool:
        """Mark `record` as a copy when its content was analysed before; True when it was."""
        if record.sha256 is None or any(TOO_LARGE_NOTE in message for _, message in record.errors):
            return False
        if record.sha256 in self.batch:
            record.analysed_as_path = self.batch[record.sha256]
            return True
        first = self.first_copy(record.sha256) if self.first_copy is not None else None
        record.analysed_as = first
        return first is not None

    def remember(self, record: ItemRecord) -> None:
        """A record just analysed: later files of the batch with its content take its findings."""
        if record.sha256 is None or record.sha256 in self.batch:
            return
        if any(stage in UNFINISHED_STAGES or TOO_LARGE_NOTE in message for stage, message in record.errors):
            return
        self.batch[record.sha256] = record.relpath

    def forget(self, relpath: str) -> None:
        """Drop what a file (and its archive members) taught the batch, when its records are lost."""
        self.batch = {digest: path for digest, path in self.batch.items()
                      if path != relpath and not path.startswith(relpath + ARCHIVE_SEPARATOR)}

