"""Recalibrating a model's threshold (`vigie ai calibrate`) for at most 1% false positives on camera photos
the model never trained on, as they are and after travel.

A threshold set on some photo sources does not hold on others (with the shipped model, one half of the corpus's
sources gave 0.84 and the other 2.22). So the photos are split into folds by source, each fold's 1% level is
found alone, and the threshold is the highest of them: every fold of sources stays at or under 1%. How well a
threshold carries to sources it never saw is measured the same way: each fold at the level the other folds set."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from vigie.detector.evaluation import CONDITIONS, Sample, read_manifest, score_samples, threshold_at_fpr
from vigie.detector.lofo import photo_folds
from vigie.detector.runtime import DetectorError, default_model_path, load_detector
from vigie.detector.synthetic import list_images

TRAINED_CORPUS_PHOTOS = "trained_corpus_photos"  # in a model's JSON: the corpus photos it learnt from


def untrained_corpus_photos(manifest: Path, info: dict[str, object]) -> list[Sample]:
    """The manifest's camera photos, less those the model's JSON names as trained on (`vigie ai train
    --manifest`); files are named relative to the manifest's folder."""
    named = info.get(TRAINED_CORPUS_PHOTOS)
    trained = set(named) if isinstance(named, list) else set()
    return [s for s in read_manifest(manifest)
            if not s.generated and str(s.path.relative_to(manifest.parent)) not in trained]


def held_out_photos(folder: Path, info: dict[str, object]) -> list[Sample]:
    """Photos under `folder` that the model's JSON names as held out of its training (all of them if it names
    none: the model never saw the folder). They form one source."""
    named = info.get("held_out_photos")
    keep = set(named) if isinstance(named, list) else None
    return [Sample(p, False, folder.name, folder.name) for p in list_images([folder]) if keep is None or p.name in keep]


def rounded_up(level: float) -> float:
    return math.floor(level * 10_000 + 1) / 10_000  # a photo at the level itself stays below


def recalibrate(model: str, photos: list[Sample], folds: int, max_fpr: float, command: str) -> dict[str, object]:
    """Set the threshold of `model` ("" for the shipped one) to the highest of the source folds' `max_fpr`
    levels, as they are and after travel; write it, the photos and the command into the model's JSON, and return
    that calibration record (with each fold's false-positive rate at the level the other folds set)."""
    detector = load_detector(model)
    if detector is None:
        raise DetectorError("no detector model to calibrate: train one with `vigie ai train`")
    fold_of = photo_folds(photos, folds)
    if len(set(fold_of.values())) < folds:
        raise DetectorError(f"{folds} folds need photos from at least {folds} sources; there are {len(fold_of)}",
                            exit_code=2)
    scored = {c: score_samples(detector.score, photos, c) for c in CONDITIONS}
    by_fold = {c: {k: np.array([v for s, v in zip(scores.samples, scores.values, strict=True)
                                if fold_of[s.source] == k]) for k in range(folds)} for c, scores in scored.items()}
    levels = [max(threshold_at_fpr(by_fold[c][k], max_fpr) for c in CONDITIONS if len(by_fold[c][k]))
              for k in range(folds)]
    threshold = rounded_up(max(levels))
    unseen = {}
    for k in range(folds):
        others = rounded_up(max(level for j, level in enumerate(levels) if j != k))
        unseen[f"fold {k}"] = {"threshold_from_the_other_folds": others,
                               **{c: round(float((by_fold[c][k] >= others).mean()), 4) for c in CONDITIONS}}
    record: dict[str, object] = {
        "command": command,
        "max_fpr": max_fpr,
        "previous_threshold": detector.threshold,
        "threshold": threshold,
        "photos": sorted(str(s.path.name) for s in photos),
        "source_folds": fold_of,
        "fold_levels": [round(level, 4) for level in levels],
        "fpr": {c: round(float((scores.values >= threshold).mean()), 4) for c, scores in scored.items()},
        "fpr_on_sources_not_calibrated_on": unseen,
        "unscored": [reason for scores in scored.values() for reason in scores.unscored],
    }
    path = (Path(model) if model else default_model_path()).with_suffix(".json")
    info = json.loads(path.read_text())
    info["threshold"] = threshold
    info["calibration"] = record
    path.write_text(json.dumps(info, indent=1) + "\n")
    load_detector.cache_clear()  # the next load reads the new threshold
    return record
