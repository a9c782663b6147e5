"""The plain records every stage trades in: an evidence item and what was found in it, and the case's rows.

They sit below the signals and the store, so persistence never imports image decoding or models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# Strengths, from a mark that settles the question to a fact kept for context.
DETERMINISTIC = "deterministic"  # a mark of generation written by the generator or a signed claim
INDICATIVE = "indicative"  # a statistical or unsigned hint
CONTEXT = "context"  # recorded, but says nothing about generation (e.g. a camera capture claim)
PROBLEM = "problem"  # the mark is there but broken (tampered manifest, unreachable remote manifest)
# The statistical detector's findings: a score below its threshold is kept (CONTEXT) but is no signal.
DETECTOR_KIND = "statistical-detector"


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    value: Any
    strength: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FrameHash:
    frame_number: int
    timestamp: float
    quality: int
    pdq: str
    variants: tuple[str, ...]

    def vpdq_line(self) -> str:
        """vPDQ's text form: frame_number,quality,pdq_hex,timestamp."""
        return f"{self.frame_number},{self.quality},{self.pdq},{self.timestamp:.3f}"


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, width, height in the image's pixels
    landmarks: tuple[tuple[float, float], ...]  # dlib's 5 points
    embedding: np.ndarray  # 128 float32
    score: float
    detector: str
    crop: bytes  # a small JPEG of the face, for reviewers and person groups


@dataclass
class ItemRecord:
    relpath: str
    size: int | None = None
    mtime: float | None = None
    ctime: float | None = None
    atime: float | None = None
    # signal name -> hex digest of the file's bytes, for every digest the signal registry names
    digests: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None
    width: int | None = None
    height: int | None = None
    exif: dict[str, Any] = field(default_factory=dict)
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_variants: tuple[str, ...] = ()
    duration: float | None = None
    codec: str | None = None
    frame_rate: float | None = None
    frames: list[FrameHash] = field(default_factory=list)  # a video's sampled frames, or an image's later pages
    stills: list[tuple[int, float, bytes]] = field(default_factory=list)  # blurred JPEGs
    findings: list[Finding] = field(default_factory=list)  # provenance marks
    # what analysis concluded from the findings (vigie.signals.provenance.verdict): stored as they are
    ai_verdict: str | None = None  # an image's or video's only
    ai_score: float | None = None
    faces: list[Face] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    inode: int | None = None  # read from a disk image: the file system's metadata address
    deleted: bool = False
    stored_hashes: dict[str, dict[str, str]] = field(default_factory=dict)  # a disk image's own, and their check
    # A copy of content analysed before is not decoded: the store copies the first copy's findings, found by
    # item id (an earlier scan or batch) or by path (an earlier file of the same batch).
    analysed_as: int | None = None
    analysed_as_path: str | None = None

    @property
    def sha256(self) -> str | None:
        """The item's identity: copies of one content share it."""
        return self.digests.get("sha256")

    def add_error(self, stage: str, message: str) -> None:
        self.errors.append((stage, message))


@dataclass(frozen=True)
class SourceRow:
    id: int
    given: str
    root: str
    kind: str


@dataclass(frozen=True)
class ItemLocation:
    """Where an item is read again (the console), and the bytes the scan read there."""
    root: str
    relpath: str
    media_type: str | None
    sha256: str | None  # None: not read when scanned


@dataclass(frozen=True)
class HashListRow:
    id: int
    name: str
    format: str
    file_name: str
    file_sha256: str
    imported_at: str
    entry_count: int
    problems: list[str]  # the first PROBLEMS_KEPT, then problems_cut's line when there were more
    notes: list[str] = field(default_factory=list)
    skipped: int = 0  # lines (or media) not read at import, those past the problems kept included


PROBLEMS_KEPT = 1000  # lines with a problem whose problem a list keeps; past them, one line says how many in all


def problems_cut(total: int) -> str:
    """The line standing for the lines with a problem past the PROBLEMS_KEPT kept."""
    more = total - PROBLEMS_KEPT
    return (f"{more} more line{'' if more == 1 else 's'} with a problem not listed ({total} in all; only the "
            f"first {PROBLEMS_KEPT} are kept)")


@dataclass
class ListEntry:
    """One hash-list record; any of the hashes may be missing, `extra` keeps fields we do not model."""

    line: int | None = None
    digests: dict[str, str] = field(default_factory=dict)  # signal name -> value, for the registry's exact digests
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


HASH_BYTES = 32  # a PDQ hash, 256 bits


@dataclass(frozen=True)
class PdqRows:
    """Parallel arrays: row ids and 256-bit hashes as (n, HASH_BYTES) uint8, for the matching indexes."""

    ids: np.ndarray
    hashes: np.ndarray

    @classmethod
    def from_hex(cls, rows: Sequence[tuple[int, str]]) -> PdqRows:
        """From (id, hex hash) rows, as the store holds them."""
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        hashes = np.frombuffer(b"".join(bytes.fromhex(row[1]) for row in rows), dtype=np.uint8)
        return cls(ids=ids, hashes=hashes.reshape(-1, HASH_BYTES))


def is_ai_signal(kind: str, strength: str) -> bool:
    """Whether a finding bears on AI generation: all do but a detector score below its threshold."""
    return kind != DETECTOR_KIND or strength == INDICATIVE


def detector_block(findings: list[Finding]) -> dict[str, Any] | None:
    """{"score", "threshold", "model"} of the detector's finding; None when it did not run (or, in a case
    scanned before scores were kept, when only a score above the threshold was stored)."""
    for finding in findings:
        if finding.kind == DETECTOR_KIND and isinstance(finding.value, dict):
            return dict(finding.value)
    return None


def ai_block(verdict: str, findings: list[Finding], media_type: str | None) -> dict[str, Any]:
    """An item's AI block as reports show it: the verdict, the findings that are signals and, for an image,
    the detector's score. Built here, below the store, so a case is read back without the signals layer."""
    block: dict[str, Any] = {"verdict": verdict,
                             "signals": [f.as_dict() for f in findings if is_ai_signal(f.kind, f.strength)]}
    if (media_type or "").startswith("image/"):
        block["detector"] = detector_block(findings)
    return block
