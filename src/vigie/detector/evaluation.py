"""Detector metrics with their uncertainty, per generator family and overall: AUC, true-positive rate at 1% and
5% false positives, the false-positive rate at the model's threshold, each with a bootstrap 95% interval (the
test sets are small; a single figure would overstate what is known), on the images as they are and after the
"travel" that chats and platforms apply (resize, JPEG), and optionally after a JPEG re-encode before that travel
(`JPEG_FIRST`): the corpus's generated images are mostly lossless and its camera photos JPEGs, so a detector may
learn "compressed once after travel = generated"; this condition shows whether it leans on that."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vigie.detector.runtime import DetectorError, load_detector
from vigie.detector.synthetic import list_images

TRAVEL = "travel-jpeg-q70-95-resized-50-100"
CONDITIONS = ("as-is", TRAVEL)
JPEG_FIRST = "jpeg-q90-95-then-" + TRAVEL  # a generator serving JPEG, or a picture forwarded twice
OVERALL = "overall"
ROUNDS = 1000

Scorer = Callable[[Image.Image], float | None]


@dataclass(frozen=True)
class Sample:
    """One image of an evaluation corpus: `group` is the generator family, or the photos' camera or source."""

    path: Path
    generated: bool
    group: str
    source: str = ""  # where the file came from (a repository, a folder): held-out photos are split by it


def read_manifest(manifest: Path) -> list[Sample]:
    """The ai-train layout: a JSON list of {file, class ("generated" or "camera"), family | camera, repository},
    files relative to the manifest's folder."""
    try:
        rows = json.loads(manifest.read_text())
        samples = [
            Sample(manifest.parent / row["file"], row["class"] == "generated",
                   str(row.get("family") or row.get("camera") or row.get("repository") or "unknown"),
                   str(row.get("repository") or Path(row["file"]).parent))
            for row in rows
        ]
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise DetectorError(f"{manifest}: not a manifest of images ({error})", exit_code=2) from error
    if not any(s.generated for s in samples) or all(s.generated for s in samples):
        raise DetectorError(f"{manifest}: needs both generated and camera images", exit_code=2)
    return samples


def read_folders(real: Path, generated: Path) -> list[Sample]:
    """Camera photos under `real`; generated images under `generated`, one family per subfolder (or the
    folder's own name for files directly in it)."""
    photos = [Sample(p, False, p.parent.name, p.parent.name) for p in list_images([real])]
    made = [Sample(p, True, p.relative_to(generated).parts[0] if len(p.relative_to(generated).parts) > 1
                   else generated.name, p.parent.name) for p in list_images([generated])]
    return photos + made


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return Image.open(buffer).convert("RGB")


def travel(image: Image.Image, rng: random.Random) -> Image.Image:
    """Resize to 50-100% then JPEG at q70-95: how pictures travel through chats and platforms."""
    scale = rng.uniform(0.5, 1.0)
    rgb = image.convert("RGB")
    small = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                       Image.Resampling.BICUBIC)
    return jpeg(small, rng.randint(70, 95))


def auc(real: np.ndarray, generated: np.ndarray) -> float:
    """Probability that a generated image scores above a real one (ties count half)."""
    ordered = np.sort(real)
    below = np.searchsorted(ordered, generated, "left")
    tied = np.searchsorted(ordered, generated, "right") - below
    return float((below.sum() + tied.sum() / 2) / (len(real) * len(generated)))


def threshold_at_fpr(real: np.ndarray, fpr: float) -> float:
    """The lowest score that at most `fpr` of the real images exceed."""
    allowed = int(np.floor(fpr * len(real)))
    return float(np.sort(real)[len(real) - 1 - allowed])


def tpr_at_fpr(real: np.ndarray, generated: np.ndarray, fpr: float = 0.01) -> float:
    return float((generated > threshold_at_fpr(real, fpr)).mean())


def tpr_at_5pct_fpr(real: np.ndarray, generated: np.ndarray) -> float:
    return tpr_at_fpr(real, generated, 0.05)


@dataclass(frozen=True)
class Metric:
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def with_interval(metric: Callable[[np.ndarray, np.ndarray], float], real: np.ndarray, generated: np.ndarray,
                  rounds: int = ROUNDS, seed: int = 0) -> Metric:
    """The metric and its percentile bootstrap 95% interval, both classes resampled (same draws every run)."""
    rng = np.random.default_rng(seed)
    samples = [metric(rng.choice(real, len(real)), rng.choice(generated, len(generated))) for _ in range(rounds)]
    low, high = np.percentile(samples, [2.5, 97.5])
    return Metric(metric(real, generated), float(low), float(high))


def evaluate(real: np.ndarray, generated: np.ndarray, threshold: float | None = None) -> dict[str, object]:
    report: dict[str, object] = {
        "real": len(real),
        "generated": len(generated),
        "auc": with_interval(auc, real, generated),
        "tpr_at_1pct_fpr": with_interval(tpr_at_fpr, real, generated),
        "tpr_at_5pct_fpr": with_interval(tpr_at_5pct_fpr, real, generated),
    }
    if threshold is not None:
        report["fpr_at_threshold"] = with_interval(lambda r, _g: float((r >= threshold).mean()), real, generated)
        report["tpr_at_threshold"] = with_interval(lambda _r, g: float((g >= threshold).mean()), real, generated)
    return report


@dataclass(frozen=True)
class Scores:
    """Scores of one corpus under one condition; `unscored` names images the scorer could not score."""

    samples: list[Sample]
    values: np.ndarray
    unscored: list[str]


def condition_image(path: Path, condition: str, seed: int) -> Image.Image:
    """The image as it is, or after `travel` drawn from `seed`; under `JPEG_FIRST`, a JPEG at q90-95 first, then
    the same travel as under `TRAVEL` (same scale and quality), so the two conditions differ only by that JPEG."""
    with Image.open(path) as opened:
        if condition == "as-is":
            return opened.convert("RGB")
        if condition == JPEG_FIRST:
            return travel(jpeg(opened, random.Random(f"jpeg-first {seed}").randint(90, 95)), random.Random(seed))
        return travel(opened, random.Random(seed))


def score_samples(scorer: Scorer, samples: Iterable[Sample], condition: str, seed: int = 5) -> Scores:
    """Every sample scored as it is or after `travel` (one seeded draw per image, so runs repeat)."""
    kept, values, unscored = [], [], []
    for index, sample in enumerate(samples):
        try:
            image = condition_image(sample.path, condition, seed + index)
        except (OSError, ValueError) as error:
            unscored.append(f"{sample.path}: {error}")
            continue
        score = scorer(image)
        if score is None:
            unscored.append(f"{sample.path}: too small to score")
            continue
        kept.append(sample)
        values.append(score)
    return Scores(kept, np.array(values, dtype=np.float64), unscored)


def by_family(scores: Scores, threshold: float | None) -> dict[str, dict[str, object]]:
    """Each generator family against all the camera photos, then every generated image against them."""
    generated = np.array([s.generated for s in scores.samples], dtype=bool)
    real = scores.values[~generated]
    if not len(real) or not generated.any():
        raise DetectorError("the evaluation needs scored images of both classes", exit_code=2)
    families = sorted({s.group for s in scores.samples if s.generated})
    report = {}
    for family in families:
        chosen = np.array([s.generated and s.group == family for s in scores.samples], dtype=bool)
        report[family] = evaluate(real, scores.values[chosen], threshold)
    report[OVERALL] = evaluate(real, scores.values[generated], threshold)
    return report


def evaluate_corpus(scorer: Scorer, threshold: float | None, samples: list[Sample],
                    conditions: Sequence[str] = CONDITIONS) -> dict[str, object]:
    """{condition: {family | "overall": metrics}} plus the images that could not be scored."""
    results: dict[str, object] = {}
    unscored: list[str] = []
    for condition in conditions:
        scores = score_samples(scorer, samples, condition)
        results[condition] = by_family(scores, threshold)
        unscored += [f"{condition}: {reason}" for reason in scores.unscored]
    results["unscored"] = unscored
    return results


def evaluate_model(model: str, samples: list[Sample], conditions: Sequence[str] = CONDITIONS) -> dict[str, object]:
    """`evaluate_corpus` with an ONNX detector (`model`: its path, or "" for the shipped one)."""
    detector = load_detector(model)
    if detector is None:
        raise DetectorError("no detector model: train one with `vigie ai train`")
    results = evaluate_corpus(detector.score, detector.threshold, samples, conditions)
    return {"model": detector.model, "threshold": detector.threshold, **results}


def as_plain(value: object) -> object:
    """Metrics as JSON-ready dicts."""
    if isinstance(value, Metric):
        return asdict(value)
    if isinstance(value, dict):
        return {key: as_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_plain(item) for item in value]
    return value


def table_rows(report: dict[str, dict[str, object]]) -> list[list[str]]:
    """One row per family: family, counts, AUC, TPR at 1% and 5% FPR, FPR and TPR at the threshold."""
    rows = []
    for family, metrics in report.items():
        row = [family, f"{metrics['generated']} / {metrics['real']}", str(metrics["auc"]),
               str(metrics["tpr_at_1pct_fpr"]), str(metrics["tpr_at_5pct_fpr"])]
        row += [str(metrics.get("fpr_at_threshold", "-")), str(metrics.get("tpr_at_threshold", "-"))]
        rows.append(row)
    return rows


TABLE_HEADER = ["family", "generated / real", "AUC", "TPR@1%FPR", "TPR@5%FPR", "FPR@threshold", "TPR@threshold"]
