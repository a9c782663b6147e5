"""A finding carries its evidence: what kind of mark, exactly where and what it said, and how strong it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Strengths, from a mark that settles the question to a fact kept for context.
DETERMINISTIC = "deterministic"  # a mark of generation written by the generator or a signed claim
INDICATIVE = "indicative"  # a statistical or unsigned hint
CONTEXT = "context"  # recorded, but says nothing about generation (e.g. a camera capture claim)
PROBLEM = "problem"  # the mark is there but broken (tampered manifest, unreachable remote manifest)


@dataclass(frozen=True)
class Finding:
    kind: str
    detail: str
    value: Any
    strength: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
