"""Recalibrating a model's threshold (`vigie ai calibrate`) for at most 1% false positives on camera photos
the model never trained on, as they are and after travel. The corpus's photos are split by source: one share
calibrates, the rest is kept for evaluation and only reported, never tuned on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from vigie.detector.evaluation import CONDITIONS, Sample, score_samples, threshold_at_fpr
from vigie.detector.lofo import photo_folds
from vigie.detector.runtime import DetectorError, default_model_path, load_detector
from vigie.detector.synthetic import list_images


def calibration_split(samples: list[Sample], folds: int, fold: int) -> tuple[list[Sample], list[Sample]]:
    """The camera photos of one source fold (calibration) and those of the others (kept for evaluation)."""
    assigned = photo_folds(samples, folds)
    photos = [s for s in samples if not s.generated]
    return [s for s in photos if assigned[s.source] == fold], [s for s in photos if assigned[s.source] != fold]


def held_out_photos(folder: Path, info: dict[str, object]) -> list[Sample]:
    """Photos under `folder` that the model's JSON names as held out of its training (all of them if it names
    none: the model never saw the folder)."""
    named = info.get("held_out_photos")
    keep = set(named) if isinstance(named, list) else None
    return [Sample(p, False, folder.name, folder.name) for p in list_images([folder]) if keep is None or p.name in keep]


def false_positive_rates(scores: dict[str, np.ndarray], threshold: float) -> dict[str, float]:
    return {condition: round(float((values >= threshold).mean()), 4) for condition, values in scores.items()}


def recalibrate(model: str, calibration: list[Sample], kept: list[Sample], max_fpr: float, command: str
                ) -> dict[str, object]:
    """Set the threshold of `model` ("" for the shipped one) to the lowest that at most `max_fpr` of the
    calibration photos reach, as they are and after travel; write it with the photos and the command into the
    model's JSON, and return that calibration record (with the false-positive rates on the kept photos)."""
    detector = load_detector(model)
    if detector is None:
        raise DetectorError("no detector model to calibrate: train one with `vigie ai train`")
    if not calibration:
        raise DetectorError("no camera photos to calibrate on", exit_code=2)
    scored = {c: score_samples(detector.score, calibration, c) for c in CONDITIONS}
    levels = [threshold_at_fpr(s.values, max_fpr) for s in scored.values() if len(s.values)]
    threshold = math.floor(max(levels) * 10_000 + 1) / 10_000  # a photo at the level itself stays below
    kept_scores = {c: score_samples(detector.score, kept, c).values for c in CONDITIONS} if kept else {}
    record: dict[str, object] = {
        "command": command,
        "max_fpr": max_fpr,
        "previous_threshold": detector.threshold,
        "threshold": threshold,
        "photos": sorted(str(s.path.name) for s in calibration),
        "fpr_on_calibration_photos": false_positive_rates({c: s.values for c, s in scored.items()}, threshold),
        "kept_for_evaluation": len(kept),
        "fpr_on_kept_photos": false_positive_rates(kept_scores, threshold) if kept else {},
        "unscored": [reason for s in scored.values() for reason in s.unscored],
    }
    path = (Path(model) if model else default_model_path()).with_suffix(".json")
    info = json.loads(path.read_text())
    info["threshold"] = threshold
    info["calibration"] = record
    path.write_text(json.dumps(info, indent=1) + "\n")
    load_detector.cache_clear()  # the next load reads the new threshold
    return record
