"""Leave-one-generator-family-out validation (`vigie ai lofo`): for each generator family, a candidate
detector is trained on the other families and on camera photos from other sources, then scores the held-out
family and the held-out photos, as they are and after travel. Photos are split into folds by source
(repository or folder), so no source is both learnt and tested; a fold's held-out photos are never tuned on.

Candidates (`Candidate`) differ only in how an image is represented and how a scorer is fitted, so they are
compared on the same splits, views and travel. The shipped ONNX model (which never saw this corpus) is scored
on the same images for comparison."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PIL import Image

from vigie.detector.evaluation import (
    CONDITIONS,
    OVERALL,
    Sample,
    Scorer,
    condition_image,
    evaluate,
    threshold_at_fpr,
)
from vigie.detector.residual import equalise, features, fit_logistic
from vigie.detector.runtime import DetectorError

BatchScorer = Callable[[np.ndarray], np.ndarray]  # stacked representations to one logit each


class Candidate(Protocol):
    """A detector under validation: `represent` turns an (equalised or travelled) image into an array of one
    shape (None when it cannot), `fit` learns from stacked representations and 0/1 labels."""

    name: str

    def represent(self, image: Image.Image) -> np.ndarray | None: ...

    def fit(self, x: np.ndarray, y: np.ndarray) -> BatchScorer: ...


class ResidualCandidate:
    """Pooled residual statistics with a logistic head (`detector/residual.py`)."""

    name = "residual"

    def represent(self, image: Image.Image) -> np.ndarray | None:
        return features(image)

    def fit(self, x: np.ndarray, y: np.ndarray) -> BatchScorer:
        return fit_logistic(x, y).logits


class EnsembleCandidate:
    """The mean of its parts' scores, each put on one scale by the fit's camera photos (median and
    interquartile range of their training scores), so no part outweighs another by its units."""

    def __init__(self, parts: Sequence[Candidate]) -> None:
        self.parts = list(parts)
        self.name = "ensemble(" + ", ".join(part.name for part in self.parts) + ")"
        self.layouts: list[tuple[tuple[int, ...], np.dtype[Any]]] = []

    def represent(self, image: Image.Image) -> np.ndarray | None:
        pieces = [part.represent(image) for part in self.parts]
        if any(piece is None for piece in pieces):
            return None
        if not self.layouts:
            self.layouts = [(piece.shape, piece.dtype) for piece in pieces if piece is not None]
        return np.concatenate([piece.astype(np.float32).ravel() for piece in pieces if piece is not None])

    def _split(self, x: np.ndarray) -> list[np.ndarray]:
        blocks, start = [], 0
        for shape, dtype in self.layouts:
            size = int(np.prod(shape))
            blocks.append(x[:, start : start + size].reshape(-1, *shape).astype(dtype))
            start += size
        return blocks

    def fit(self, x: np.ndarray, y: np.ndarray) -> BatchScorer:
        scales = []
        for part, block in zip(self.parts, self._split(x), strict=True):
            scorer = part.fit(block, y)
            low, centre, high = np.percentile(scorer(block[y == 0]), [25, 50, 75])
            scales.append((scorer, float(centre), float(high - low) or 1.0))

        def score(xs: np.ndarray) -> np.ndarray:
            blocks = self._split(xs)
            scaled = [(scorer(block) - centre) / spread
                      for (scorer, centre, spread), block in zip(scales, blocks, strict=True)]
            mean: np.ndarray = np.stack(scaled).mean(axis=0)
            return mean

        return score


def photo_folds(samples: list[Sample], folds: int) -> dict[str, int]:
    """Each photo source to a fold, largest sources first into the emptiest fold (deterministic)."""
    counts: dict[str, int] = {}
    for sample in samples:
        if not sample.generated:
            counts[sample.source] = counts.get(sample.source, 0) + 1
    sizes = [0] * folds
    assigned = {}
    for source in sorted(counts, key=lambda name: (-counts[name], name)):
        fold = sizes.index(min(sizes))
        assigned[source] = fold
        sizes[fold] += counts[source]
    return assigned


@dataclass(frozen=True)
class FeatureSet:
    """Training views (equalised, several per image) and evaluation features per condition; None where an
    image could not be read or was too small (named in `unscored`)."""

    train: list[list[np.ndarray]]
    held: dict[str, list[np.ndarray | None]]
    unscored: list[str]


def extract(samples: list[Sample], candidate: Candidate, views: int, seed: int, log: Callable[[str], None],
            conditions: Sequence[str] = CONDITIONS) -> FeatureSet:
    """`views` equalised training views of each sample, and its evaluation features under `conditions`."""
    train: list[list[np.ndarray]] = []
    held: dict[str, list[np.ndarray | None]] = {condition: [] for condition in conditions}
    unscored = []
    for index, sample in enumerate(samples):
        if index % 100 == 0:
            log(f"  features of {index}/{len(samples)} images")
        try:
            original = condition_image(sample.path, "as-is", 0)
            rng = random.Random(seed * 100_003 + index)
            train.append([f for f in (candidate.represent(equalise(original, rng)) for _ in range(views))
                          if f is not None])
            for condition in conditions:  # the same seeded travel as `vigie ai eval`
                held[condition].append(candidate.represent(condition_image(sample.path, condition, 5 + index)))
        except (OSError, ValueError) as error:
            unscored.append(f"{sample.path}: {error}")
            train.append([])
            for condition in conditions:
                held[condition].append(None)
    return FeatureSet(train, held, unscored)


def stacked_views(samples: list[Sample], feature_set: FeatureSet, chosen: Sequence[int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The chosen images' training views, stacked, and their 0/1 labels (1: generated)."""
    x = [view for i in chosen for view in feature_set.train[i]]
    y = [float(samples[i].generated) for i in chosen for _ in feature_set.train[i]]
    return np.stack(x), np.array(y)


def fit(candidate: Candidate, samples: list[Sample], feature_set: FeatureSet, chosen: list[int]) -> BatchScorer:
    return candidate.fit(*stacked_views(samples, feature_set, chosen))


def calibrated(scorer: BatchScorer, feature_set: FeatureSet, photos: Sequence[int], max_fpr: float = 0.01) -> float:
    """The lowest threshold that at most `max_fpr` of these photos exceed, as they are and after travel."""
    levels = []
    for condition in CONDITIONS:
        kept = [f for i in photos if (f := feature_set.held[condition][i]) is not None]
        levels.append(threshold_at_fpr(scorer(np.stack(kept)), max_fpr))
    return max(levels)


def held_out_families(samples: list[Sample], held_out: Sequence[str] = ()) -> list[str]:
    """The families to hold out in turn: those named, or every one; a name not in the corpus is refused."""
    present = sorted({s.group for s in samples if s.generated})
    if len(present) < 2 or all(s.generated for s in samples):
        raise DetectorError("leave-one-family-out needs camera photos and at least two generator families",
                            exit_code=2)
    if unknown := sorted(set(held_out) - set(present)):
        raise DetectorError(f"no generator family {', '.join(unknown)} in the corpus; its families are "
                            f"{', '.join(present)}", exit_code=2)
    return sorted(set(held_out)) or present


def lofo(samples: list[Sample], folds: int = 3, views: int = 4, seed: int = 7,
         log: Callable[[str], None] = lambda _: None, shipped: tuple[Scorer, float] | None = None,
         candidate: Candidate | None = None, held_out: Sequence[str] = (),
         conditions: Sequence[str] = CONDITIONS) -> dict[str, object]:
    """{condition: {family | "overall": {candidate name: metrics, "shipped": metrics}}} (residual by default).

    Candidate scores are logits minus the threshold calibrated (<= 1% FPR, as-is and after travel) on the
    fold's training photos, so 0 is the threshold; a held-out family's score is the mean over the photo folds'
    models. "overall" pools every held-out family's scores against each photo's mean held-out score. Every
    family is held out in turn, or only those of `held_out` (a quicker comparison; the others still train).
    `conditions` are those reported (e.g. with `JPEG_FIRST`); thresholds are always set as-is and after travel."""
    families = held_out_families(samples, held_out)
    fold_of = photo_folds(samples, folds)
    if len(set(fold_of.values())) < folds:
        raise DetectorError(f"{folds} photo folds need photos from at least {folds} sources (repositories or "
                            f"folders); there are {len(fold_of)}", exit_code=2)
    photo_fold = {i: fold_of[s.source] for i, s in enumerate(samples) if not s.generated}
    candidate = candidate or ResidualCandidate()
    feature_set = extract(samples, candidate, views, seed, log, tuple(dict.fromkeys([*CONDITIONS, *conditions])))
    scored = {c: [i for i, f in enumerate(feature_set.held[c]) if f is not None] for c in conditions}
    family_scores: dict[str, dict[str, dict[int, list[float]]]] = {c: {} for c in conditions}
    for family in families:
        log(f"  holding out {family}")
        for fold in range(folds):
            train = [i for i, s in enumerate(samples)
                     if (s.generated and s.group != family) or (not s.generated and photo_fold[i] != fold)]
            scorer = fit(candidate, samples, feature_set, train)
            threshold = calibrated(scorer, feature_set, [i for i in train if not samples[i].generated])
            for condition in conditions:
                tested = [i for i in scored[condition] if (samples[i].generated and samples[i].group == family)
                          or (not samples[i].generated and photo_fold[i] == fold)]
                held = np.stack([f for i in tested if (f := feature_set.held[condition][i]) is not None])
                bucket = family_scores[condition].setdefault(family, {})
                for i, value in zip(tested, scorer(held) - threshold, strict=True):
                    bucket.setdefault(i, []).append(float(value))
    results: dict[str, object] = {"candidate": candidate.name, "folds": folds, "views": views, "seed": seed,
                                  "held_out_families": families, "photo_folds": fold_of,
                                  "unscored": feature_set.unscored}
    reference = shipped_scores(samples, shipped, feature_set.unscored, conditions) if shipped else None
    for condition in conditions:
        table: dict[str, dict[str, object]] = {}
        pooled_real: dict[int, list[float]] = {}
        pooled_generated: list[float] = []
        for family in families:
            bucket = family_scores[condition][family]
            real = np.array([np.mean(v) for i, v in bucket.items() if not samples[i].generated])
            generated = np.array([np.mean(v) for i, v in bucket.items() if samples[i].generated])
            for i, v in bucket.items():
                if not samples[i].generated:
                    pooled_real.setdefault(i, []).extend(v)
            pooled_generated.extend(generated)
            if len(generated):  # a family none of whose images could be scored is named in `unscored`
                table[family] = {candidate.name: evaluate(real, generated, 0.0)}
        table[OVERALL] = {candidate.name: evaluate(np.array([np.mean(v) for v in pooled_real.values()]),
                                               np.array(pooled_generated), 0.0)}
        if reference is not None and shipped is not None:
            for family in table:
                table[family]["shipped"] = shipped_report(samples, reference[condition],
                                                          families if family == OVERALL else [family], shipped[1])
        results[condition] = table
    return results


def shipped_scores(samples: list[Sample], shipped: tuple[Scorer, float], unscored: list[str],
                   conditions: Sequence[str] = CONDITIONS) -> dict[str, dict[int, float]]:
    """The compared model's scores per condition; images it cannot score are added to `unscored`."""
    scores: dict[str, dict[int, float]] = {}
    for condition in conditions:
        scores[condition] = {}
        for index, sample in enumerate(samples):
            try:
                value = shipped[0](condition_image(sample.path, condition, 5 + index))
            except (OSError, ValueError):
                continue  # already named in the candidate's `unscored`
            if value is None:
                unscored.append(f"{sample.path} ({condition}): too small for the compared model")
            else:
                scores[condition][index] = value
    return scores


def shipped_report(samples: list[Sample], scores: dict[int, float], families: Sequence[str], threshold: float
                   ) -> dict[str, object]:
    """The fixed model on these families' images against every photo: it never saw the corpus."""
    real = np.array([v for i, v in scores.items() if not samples[i].generated])
    generated = np.array([v for i, v in scores.items() if samples[i].generated and samples[i].group in families])
    if not len(real) or not len(generated):  # nothing it could score: counts only, reasons in `unscored`
        return {"real": len(real), "generated": len(generated)}
    return evaluate(real, generated, threshold)
