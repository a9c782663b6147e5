"""Scoring images with the ONNX detector: several native-resolution crops, averaged logits."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vigie.signals.findings import INDICATIVE, Finding

CROP = 64
GRID = 3  # crops per side of a grid over the image: GRID * GRID crops


@dataclass(frozen=True)
class Detector:
    session: Any
    threshold: float  # on the mean crop logit; chosen for <= 1% false positives on held-out camera photos
    info: dict[str, Any]

    def score(self, image: Image.Image) -> float | None:
        crops = image_crops(image)
        if crops is None:
            return None
        logits = self.session.run(None, {"crops": crops})[0].reshape(-1)
        return float(np.mean(logits))


def image_crops(image: Image.Image) -> np.ndarray | None:
    """GRID x GRID crops of CROP pixels at native resolution, as (n, 3, CROP, CROP) float32 in [0, 1]."""
    rgb = np.asarray(image.convert("RGB"))
    height, width = rgb.shape[:2]
    if height < CROP or width < CROP:
        return None
    ys = np.linspace(0, height - CROP, GRID).astype(int)
    xs = np.linspace(0, width - CROP, GRID).astype(int)
    crops = np.stack([rgb[y : y + CROP, x : x + CROP] for y in ys for x in xs])
    return (crops.transpose(0, 3, 1, 2).astype(np.float32) / 255.0).copy()


def onnx_session(model: Path) -> Any:
    """An onnxruntime session on the CPU, with onnxruntime's telemetry off. Every ONNX session is made here.

    The telemetry starts when the native module loads: it writes a device id under ~/.cache and a session
    file in $TMPDIR, and later resolves its vendor's collector. The variable must be set before the first
    import; the call stops events should another library have imported onnxruntime first.
    """
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # scans parallelise with processes
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def default_model_path() -> Path:
    return Path(str(resources.files("vigie") / "models" / "detector.onnx"))


@lru_cache(maxsize=2)
def load_detector(path: str = "") -> Detector | None:
    """The detector at `path` (default: the one shipped in the package); None when it is absent."""
    model = Path(path) if path else default_model_path()
    if not model.exists():
        return None
    info = json.loads(model.with_suffix(".json").read_text())
    return Detector(onnx_session(model), float(info["threshold"]), info)


def detector_findings(image: Image.Image, detector: Detector) -> list[Finding]:
    score = detector.score(image)
    if score is None or score < detector.threshold:
        return []
    return [Finding(
        "statistical-detector",
        f"the image-statistics detector scores {score:.2f} over {GRID * GRID} crops, above its threshold "
        f"{detector.threshold:.2f} (set for at most 1% false positives on held-out camera photos); a statistical "
        "indication, not proof",
        round(score, 3),
        INDICATIVE,
    )]
