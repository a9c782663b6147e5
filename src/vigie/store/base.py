"""The case store interface and the plain records it trades in. Callers never write SQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vigie.signals.analysis import ItemRecord


@dataclass(frozen=True)
class SourceRow:
    id: int
    given: str
    root: str
    kind: str


@dataclass(frozen=True)
class HashListRow:
    id: int
    name: str
    format: str
    file_name: str
    file_sha256: str
    imported_at: str
    entry_count: int
    problems: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class ListEntry:
    """One hash-list record; any of the hashes may be missing, `extra` keeps fields we do not model."""

    line: int | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    photodna: str | None = None
    category_scheme: str | None = None
    category: str | None = None
    label: str | None = None
    series: str | None = None
    victim_identified: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # a 64-digit value that did not say whether it is SHA-256 or PDQ: it sits in both, matched both ways
    untyped: bool = False
    # a video's vPDQ hash: (frame_number, quality, pdq, timestamp) per sampled frame
    video_frames: list[tuple[int | None, int, str, float | None]] = field(default_factory=list)


@dataclass(frozen=True)
class MatchRow:
    item_id: int
    entry_id: int
    signal: str
    distance: int
    variant: str | None = None
    frame_number: int | None = None  # where in the video (the item's or the list's) the match sits
    timestamp: float | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class PdqRows:
    """Parallel arrays: row ids and 256-bit hashes as (n, 32) uint8, for the matching indexes."""

    ids: np.ndarray
    hashes: np.ndarray


class CaseStore(Protocol):
    def close(self) -> None: ...

    # case
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...

    # evidence
    def add_source(self, given: str, root: str, kind: str) -> int: ...
    def sources(self) -> list[SourceRow]: ...
    def finished_relpaths(self, source_id: int) -> set[str]: ...
    def begin_scan(self, arguments: dict[str, Any]) -> int: ...
    def finish_scan(self, scan_id: int, status: str, counts: dict[str, Any]) -> None: ...
    def add_items(self, source_id: int, scan_id: int, records: Sequence[ItemRecord]) -> list[int]: ...
    def item_ids(self, scan_id: int | None = None) -> list[int]: ...

    # hash lists
    def add_hash_list(
        self, name: str, fmt: str, file_name: str, file_sha256: str, entries: Iterable[ListEntry], problems: list[str],
        notes: Sequence[str] = (),
    ) -> int: ...
    def hash_lists(self) -> list[HashListRow]: ...
    def list_pdq(self, list_id: int, min_quality: int) -> PdqRows: ...

    # matching and stacks
    def item_pdq_variants(self, item_ids: Sequence[int] | None, min_quality: int) -> Iterator[tuple[int, bytes]]: ...
    def match_exact(self, item_ids: Sequence[int] | None = None, list_id: int | None = None) -> int: ...
    def add_matches(self, matches: Iterable[MatchRow]) -> int: ...
    def stack_facts(self, item_ids: Sequence[int]) -> dict[int, tuple[int, int, str | None]]: ...
    def save_stacks(self, stacks: Sequence[tuple[int, list[int], bool]]) -> None: ...

    # reports
    def iter_report_items(self) -> Iterator[dict[str, Any]]: ...
    def summary(self) -> dict[str, Any]: ...

    # audit log
    def append_audit(self, actor: str, action: str, details: dict[str, Any]) -> AuditEntry: ...
    def audit_entries(self) -> Iterator[AuditEntry]: ...
