"""Scoring images with the ONNX detector: several native-resolution crops, averaged logits."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vigie.detector.colour import rgb_from_ycbcr, ycbcr_crops
from vigie.errors import VigieError
from vigie.records import CONTEXT, DETECTOR_KIND, INDICATIVE, Finding
from vigie.signals.jpeg_planes import JpegPlanes

CROP = 64
GRID = 3  # crops per side of a grid over the image: GRID * GRID crops


class DetectorError(VigieError):
    """No model to evaluate, or training inputs that are not there (the message says which)."""


@dataclass(frozen=True)
class Detector:
    session: Any
    threshold: float  # on the mean crop logit; chosen for <= 1% false positives on held-out camera photos
    info: dict[str, Any]
    model: str = ""  # name and version, as reports show it: which model gave a score

    def score(self, image: Image.Image | JpegPlanes) -> float | None:
        crops = image_crops(image)
        if crops is None:
            return None
        logits = self.session.run(None, {"crops": crops})[0].reshape(-1)
        return float(np.mean(logits))


def image_crops(image: Image.Image | JpegPlanes) -> np.ndarray | None:
    """GRID x GRID crops of CROP pixels at native resolution, as (n, 3, CROP, CROP) float32 in [0, 1].

    Each crop is cut before it is converted: converting a 12-MP photo whole took 90 ms, the crops 0.5. A
    JPEG decoded to YCbCr, or to its planes, is converted as libjpeg would have (its chroma upsampled crop by
    crop), so its crops are those of a decode to RGB."""
    width, height = image.size
    if height < CROP or width < CROP:
        return None
    ys = np.linspace(0, height - CROP, GRID).astype(int)
    xs = np.linspace(0, width - CROP, GRID).astype(int)
    corners = [(int(x), int(y)) for y in ys for x in xs]
    if isinstance(image, JpegPlanes):
        crops = rgb_from_ycbcr(ycbcr_crops(image.y, image.cb, image.cr, image.h, image.v, corners, CROP))
    else:
        cut = [image.crop((x, y, x + CROP, y + CROP)) for x, y in corners]
        if image.mode == "YCbCr":  # converted together: crop by crop, numpy's calls cost more than the arithmetic
            crops = rgb_from_ycbcr(np.stack([np.asarray(crop) for crop in cut]))
        else:
            crops = np.stack([np.asarray(crop.convert("RGB")) for crop in cut])
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
    try:
        info = json.loads(model.with_suffix(".json").read_text())
        return Detector(onnx_session(model), float(info["threshold"]), info, model_name(model, info))
    except Exception as exc:  # onnxruntime raises its own types; any of them means the same for the user
        raise DetectorError(f"detector model {model} cannot be loaded ({type(exc).__name__}: {exc}); "
                            f"`vigie ai train` writes a model and its JSON (with its threshold) side by side") from exc


def model_name(model: Path, info: dict[str, Any]) -> str:
    """Name and version from the model's JSON, and the ONNX file's digest, which no edit of the JSON changes."""
    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    return f"{info.get('name', model.stem)} {info.get('version', '?')} (onnx sha256 {digest})"


def detector_findings(image: Image.Image | JpegPlanes, detector: Detector) -> list[Finding]:
    """Always one finding, so the score is reported whatever it is: indicative above the threshold, else
    context (it then says nothing, and never "real")."""
    score = detector.score(image)
    value = {"score": None if score is None else round(score, 4), "threshold": detector.threshold,
             "model": detector.model}
    if score is None:
        return [Finding(DETECTOR_KIND, f"not scored: the image is smaller than {CROP} pixels a side", value, CONTEXT)]
    above = score >= detector.threshold
    return [Finding(
        DETECTOR_KIND,
        f"the image-statistics detector scores {score:.2f} over {GRID * GRID} crops, "
        f"{'above' if above else 'below'} its threshold {detector.threshold:.2f} (set for at most 1% false positives "
        "on held-out camera photos); "
        + ("a statistical indication, not proof" if above else "below it, the score says nothing either way"),
        value,
        INDICATIVE if above else CONTEXT,
    )]
