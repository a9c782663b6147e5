"""Detector metrics with their uncertainty: AUC, true-positive rate at 1% false positives, and bootstrap
95% intervals (the test sets are small; a single figure would overstate what is known)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
