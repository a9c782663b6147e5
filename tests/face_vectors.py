"""Synthetic face embeddings, for the face-grouping tests and benchmarks/bench_faces.py."""

from __future__ import annotations

import numpy as np


def synthetic_embeddings(sizes: list[int], outliers: int, noise: float = 0.02, seed: int = 0) -> np.ndarray:
    """Clusters of the given sizes around random centres, then lone outliers.

    Centres and outliers lie on the 0.6 sphere where dlib's embeddings sit, so strangers are ~0.85 apart;
    `noise` per dimension puts a cluster's members ~0.32 apart (noise 0.02), inside the match distance.
    """
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(len(sizes) + outliers, 128))
    points *= 0.6 / np.linalg.norm(points, axis=1, keepdims=True)
    members = [points[c] + rng.normal(scale=noise, size=(size, 128)) for c, size in enumerate(sizes)]
    return np.concatenate([*members, points[len(sizes):]]).astype(np.float32)
