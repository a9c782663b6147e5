"""The AI-generation verdict, computed from findings in one place. It never says an image is real.

Rule: `ai-provenance` when a deterministic mark of generation was found: a C2PA manifest that validates
(with or without a trusted signer, or with a certificate that no longer holds) declaring a generated digital
source type, or an edit or composite whose ingredient's manifest declares one; an IPTC digital source type in
XMP declaring one; a generator's own generation record in the metadata; or an invisible watermark decoded
above its "very likely" threshold. Generated means made by a trained model, as IPTC's vocabulary says
(`trainedAlgorithmicMedia`, `compositeWithTrainedAlgorithmicMedia`); `algorithmicMedia` (a pure algorithm,
not trained on sampled data) is a signal only. Else `ai-indicated` when the statistical detector scores the
image above its threshold (calibrated for at most 1% false positives on held-out camera photos). Otherwise
`undetermined`; a "likely" watermark is a signal only.
A camera-capture claim is kept as a signal and never turns into "real".

An image's block also carries the detector's score, above its threshold or not (`detector`: score, threshold,
model; null when the detector did not run). A score below the threshold is not a signal: it says nothing.
"""

from __future__ import annotations

from typing import Any

from vigie.records import DETERMINISTIC, INDICATIVE, Finding
from vigie.vocabulary import AI_INDICATED, AI_PROVENANCE, UNDETERMINED

DETECTOR_KIND = "statistical-detector"


def ai_verdict(findings: list[Finding], media_type: str | None = None) -> dict[str, Any]:
    signals = [f for f in findings if f.kind != DETECTOR_KIND or f.strength == INDICATIVE]
    if any(f.strength == DETERMINISTIC for f in signals):
        verdict = AI_PROVENANCE
    elif any(f.kind == DETECTOR_KIND for f in signals):
        verdict = AI_INDICATED
    else:
        verdict = UNDETERMINED
    block: dict[str, Any] = {"verdict": verdict, "signals": [f.as_dict() for f in signals]}
    if (media_type or "").startswith("image/"):
        block["detector"] = detector_block(findings)
    return block


def detector_block(findings: list[Finding]) -> dict[str, Any] | None:
    """{"score", "threshold", "model"} of the detector's finding; None when it did not run (or, in a case
    scanned before scores were kept, when only a score above the threshold was stored)."""
    for finding in findings:
        if finding.kind == DETECTOR_KIND and isinstance(finding.value, dict):
            return dict(finding.value)
    return None


def detector_score(findings: list[Finding]) -> float | None:
    block = detector_block(findings)
    return None if block is None else block.get("score")
