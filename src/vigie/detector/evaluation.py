"""Detector metrics with their uncertainty: AUC, true-positive rate at 1% false positives, and bootstrap
95% intervals (the test sets are small; a single figure would overstate what is known)."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vigie.detector.runtime import DetectorError, load_detector
from vigie.detector.synthetic import list_images

CONDITIONS = ("as-is", "jpeg-q75-95-resized")


def auc(real: np.ndarray, generated: np.ndarray) -> float:
    """Probability that a generated image scores above a real one (ties count half)."""
    scores = np.concatenate([real, generated])
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable").astype(np.float64) + 1
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    generated_ranks = ranks[len(real):].sum()
    return float((generated_ranks - len(generated) * (len(generated) + 1) / 2) / (len(real) * len(generated)))


def tpr_at_fpr(real: np.ndarray, generated: np.ndarray, fpr: float = 0.01) -> float:
    allowed = int(np.floor(fpr * len(real)))
    threshold = np.sort(real)[len(real) - 1 - allowed]
    return float((generated > threshold).mean())


@dataclass(frozen=True)
class Metric:
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def with_interval(metric: object, real: np.ndarray, generated: np.ndarray, rounds: int = 1000, seed: int = 0) -> Metric:
    rng = np.random.default_rng(seed)
    value = metric(real, generated)  # type: ignore[operator]
    samples = [
        metric(rng.choice(real, len(real)), rng.choice(generated, len(generated)))  # type: ignore[operator]
        for _ in range(rounds)
    ]
    low, high = np.percentile(samples, [2.5, 97.5])
    return Metric(float(value), float(low), float(high))


def evaluate(real: np.ndarray, generated: np.ndarray, threshold: float | None = None) -> dict[str, object]:
    report: dict[str, object] = {
        "real": len(real),
        "generated": len(generated),
        "auc": with_interval(auc, real, generated),
        "tpr_at_1pct_fpr": with_interval(tpr_at_fpr, real, generated),
    }
    if threshold is not None:
        report["fpr_at_threshold"] = float((real >= threshold).mean())
        report["tpr_at_threshold"] = float((generated >= threshold).mean())
    return report


def perturbed(image: Image.Image, rng: random.Random) -> Image.Image:
    """JPEG at q75-95 after a resize to 50-90%: how photos travel through chats and platforms."""
    scale = rng.uniform(0.5, 0.9)
    small = image.convert("RGB").resize((max(64, round(image.width * scale)), max(64, round(image.height * scale))),
                                        Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=rng.randint(75, 95))
    return Image.open(buffer).convert("RGB")


def evaluate_model(model: str, real: Path, generated: Path) -> dict[str, dict[str, object]]:
    """`evaluate` for each condition: the images as they are, and after `perturbed` (same draws every run).
    `model`: an ONNX file, or "" for the shipped one."""
    detector = load_detector(model)
    if detector is None:
        raise DetectorError("no detector model: train one with `vigie ai train`")
    results = {}
    for condition in CONDITIONS:
        rng = random.Random(5)
        scores = []
        for folder in (real, generated):
            values = []
            for path in list_images([folder]):
                with Image.open(path) as opened:
                    image = opened.convert("RGB") if condition == "as-is" else perturbed(opened, rng)
                    score = detector.score(image)
                if score is not None:
                    values.append(score)
            scores.append(np.array(values))
        results[condition] = evaluate(scores[0], scores[1], detector.threshold)
    return results
