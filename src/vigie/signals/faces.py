"""Faces: detection (dlib HOG, or OpenCV's YuNet when a model file is given) and dlib's 128-d embedding.

The embedding is dlib's ResNet (`face_recognition_models`), aligned with its 5-point landmark model; the
68-point model is not used (its licence is non-commercial). Everything runs on the CPU, offline: the
model files ship inside the `face_recognition_models` wheel, and YuNet's is a path the user gives.
"""

from __future__ import annotations

import importlib.util
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vigie.errors import VigieError
from vigie.records import Face

DETECTORS = ("hog", "yunet")
CROP_SIDE = 112
_HOG_UPSAMPLE = 1  # finds faces down to about 40 px
_YUNET_SCORE = 0.7


class FaceModelError(VigieError):
    """The face models are missing (the `faces` extra) or a model file is unreadable."""
    exit_code = 2


@lru_cache(maxsize=1)
def _dlib_models() -> tuple[Any, Any, Any]:
    # face_recognition_models' own helpers import pkg_resources, which new setuptools no longer ship:
    # find its model folder without importing it.
    spec = importlib.util.find_spec("face_recognition_models")
    try:
        import dlib
    except ImportError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError(
            "face analysis needs the optional face models: pip install 'vigie[faces]' (dlib-bin, "
            "face_recognition_models, opencv-python-headless)"
        )
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    detector = dlib.get_frontal_face_detector()
    landmarks = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    embedder = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
    return detector, landmarks, embedder


@lru_cache(maxsize=2)
def _yunet(model_path: str) -> Any:
    try:
        import cv2
    except ImportError as exc:
        raise FaceModelError("the YuNet detector needs opencv-python-headless (the `faces` extra)") from exc
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # keep OpenCV's notices off the output
    try:
        return cv2.FaceDetectorYN.create(model_path, "", (320, 320), _YUNET_SCORE, 0.3, 5000)
    except cv2.error as exc:
        raise FaceModelError(f"cannot load the YuNet model {model_path}: {exc}") from exc


def check_models(detector: str, yunet_model: str) -> None:
    """Fail early, with the reason, before a scan starts."""
    if detector not in DETECTORS:
        raise FaceModelError(f"unknown face detector {detector!r}; choose from {', '.join(DETECTORS)}")
    _dlib_models()
    if detector == "yunet":
        if not yunet_model:
            raise FaceModelError("the yunet detector needs a model file: --face-model PATH")
        _yunet(yunet_model)


def _boxes_hog(rgb: np.ndarray) -> list[tuple[int, int, int, int, float]]:
    detector, _, _ = _dlib_models()
    rects, scores, _ = detector.run(rgb, _HOG_UPSAMPLE, 0.0)
    return [(r.left(), r.top(), r.width(), r.height(), float(s)) for r, s in zip(rects, scores, strict=True)]


def _boxes_yunet(rgb: np.ndarray, model_path: str) -> list[tuple[int, int, int, int, float]]:
    net = _yunet(model_path)
    height, width = rgb.shape[:2]
    net.setInputSize((width, height))
    _, found = net.detect(np.ascontiguousarray(rgb[:, :, ::-1]))
    if found is None:
        return []
    return [(int(f[0]), int(f[1]), int(f[2]), int(f[3]), float(f[14])) for f in found]


def _crop(image: Image.Image, box: tuple[int, int, int, int]) -> bytes:
    x, y, w, h = box
    margin = max(w, h) // 4
    region = image.crop((x - margin, y - margin, x + w + margin, y + h + margin)).convert("RGB")
    region.thumbnail((CROP_SIDE, CROP_SIDE))
    out = io.BytesIO()
    region.save(out, "JPEG", quality=80)
    return out.getvalue()


def find_faces(image: Image.Image, detector: str = "hog", yunet_model: str = "", max_side: int = 1600) -> list[Face]:
    """Every face in `image`, with its embedding. Large images are scaled to `max_side` for the work.

    A picture decoded to YCbCr (a JPEG) is scaled before it is converted to RGB: converting a 12-MP photo
    whole costs more than the scaling."""
    import dlib

    if image.mode not in ("RGB", "YCbCr"):
        image = image.convert("RGB")
    scale = min(1.0, max_side / max(image.size))
    work = image if scale == 1.0 else image.resize((round(image.width * scale), round(image.height * scale)))
    rgb = np.asarray(work.convert("RGB"))
    boxes = _boxes_yunet(rgb, yunet_model) if detector == "yunet" else _boxes_hog(rgb)
    _, landmarks_model, embedder = _dlib_models()
    faces = []
    for x, y, w, h, score in boxes:
        rect = dlib.rectangle(max(0, x), max(0, y), min(rgb.shape[1] - 1, x + w), min(rgb.shape[0] - 1, y + h))
        shape = landmarks_model(rgb, rect)
        embedding = np.array(embedder.compute_face_descriptor(rgb, shape), dtype=np.float32)
        box = tuple(round(v / scale) for v in (x, y, w, h))
        points = tuple((round(p.x / scale, 1), round(p.y / scale, 1)) for p in shape.parts())
        faces.append(Face(box, points, embedding, round(score, 3), detector, _crop(image, box)))  # type: ignore[arg-type]
    return faces
