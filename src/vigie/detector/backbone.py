"""A frozen image backbone as a LOFO candidate: a CLIP-style ONNX image tower (224-px centre square, CLIP's
normalisation, unit-length embedding) with a logistic head. Vigie ships no backbone: the ONNX file is the
user's (`vigie ai lofo --backbone PATH`), used for the comparison only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from vigie.detector.lofo import BatchScorer
from vigie.detector.residual import fit_logistic
from vigie.detector.runtime import onnx_session

SIDE = 224
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
L2 = 0.1  # 512 correlated inputs for a few thousand views: a firmer prior than the residual head's (set a priori)


def clip_input(image: Image.Image) -> np.ndarray:
    """Shorter side to 224 (bicubic), centre square, CLIP mean/std: (1, 3, 224, 224) float32."""
    rgb = image.convert("RGB")
    scale = SIDE / min(rgb.size)
    width, height = max(SIDE, round(rgb.width * scale)), max(SIDE, round(rgb.height * scale))
    resized = rgb.resize((width, height), Image.Resampling.BICUBIC)
    left, top = (width - SIDE) // 2, (height - SIDE) // 2
    pixels = np.asarray(resized.crop((left, top, left + SIDE, top + SIDE)), dtype=np.float32) / 255
    return ((pixels - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)[None].copy()


class BackboneCandidate:
    """Embeddings of a frozen ONNX image tower (first output), scored by a logistic head."""

    name = "backbone"

    def __init__(self, model: Path) -> None:
        self.session = onnx_session(model)
        self.input = self.session.get_inputs()[0].name

    def represent(self, image: Image.Image) -> np.ndarray | None:
        embedding: np.ndarray = np.asarray(self.session.run(None, {self.input: clip_input(image)})[0],
                                           dtype=np.float64)[0]
        return embedding / max(float(np.linalg.norm(embedding)), 1e-12)

    def fit(self, x: np.ndarray, y: np.ndarray) -> BatchScorer:
        return fit_logistic(x, y, l2=L2).logits
