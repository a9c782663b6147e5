"""The statistical detector: metrics, the ONNX runtime, the verdict it feeds, and a training smoke run."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes, shared_data
from PIL import Image

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.detector.evaluation import auc, evaluate, tpr_at_fpr
from vigie.detector.runtime import GRID, detector_findings, image_crops, load_detector
from vigie.records import Finding
from vigie.signals.provenance.verdict import ai_verdict


def test_auc_and_tpr_on_known_scores() -> None:
    real, generated = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.35, 0.5, 0.6, 0.7])
    assert auc(real, generated) == pytest.approx(15 / 16)
    assert auc(real, real) == pytest.approx(0.5)
    assert tpr_at_fpr(real, generated, 0.01) == pytest.approx(0.75)
    report = evaluate(np.linspace(0, 1, 200), np.linspace(0.5, 1.5, 200))
    assert report["auc"].low <= report["auc"].value <= report["auc"].high  # type: ignore[attr-defined]


def test_crops_cover_the_image_at_native_resolution() -> None:
    crops = image_crops(draw_picture(1, (300, 200)))
    assert crops is not None and crops.shape == (GRID * GRID, 3, 64, 64) and crops.max() <= 1.0
    assert image_crops(draw_picture(1, (50, 40))) is None


def test_shipped_detector_scores_images() -> None:
    detector = load_detector()
    assert detector is not None, "the default model ships in the package"
    assert {"threshold", "command", "held_out_photos"} <= set(detector.info)
    score = detector.score(draw_picture(2, (320, 240)))
    assert isinstance(score, float) and np.isfinite(score)


def test_detector_gives_ai_indicated_never_provenance() -> None:
    detector = load_detector()
    assert detector is not None
    always = type(detector)(detector.session, -1e9, detector.info)
    findings = detector_findings(draw_picture(3, (320, 240)), always)
    assert [f.kind for f in findings] == ["statistical-detector"]
    assert ai_verdict(findings)["verdict"] == "ai-indicated"
    stronger = [*findings, Finding("generator-metadata", "x", "y", "deterministic")]
    assert ai_verdict(stronger)["verdict"] == "ai-provenance"


def test_camera_photos_kept_out_of_training_stay_undetermined() -> None:
    detector = load_detector()
    assert detector is not None
    held_out = sorted(shared_data("photos", "nikon-natural").glob("*"))
    results = CliRunner().invoke(main, ["provenance", *map(str, held_out)]).output.splitlines()
    verdicts = [json.loads(line)["ai"]["verdict"] for line in results]
    assert verdicts.count("undetermined") >= len(held_out) - 1, verdicts


@pytest.mark.slow
def test_training_smoke_run(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="training needs the `train` extra")
    photos = shared_data("photos", "kodak24")
    models = shared_data("models")
    output = tmp_path / "model"
    result = CliRunner().invoke(main, [
        "ai", "train", "--real", str(photos), "--autoencoder", str(models), "--hold-out", "none",
        "--held-out-share", "0.3", "--tiles-per-photo", "1", "--pairs-per-tile", "2", "--epochs", "1",
        "--workers", "1", "-o", str(output),
    ])
    assert result.exit_code == 0, result.output
    info = json.loads(output.with_suffix(".json").read_text())
    assert len(info["held_out_photos"]) == 7 and output.with_suffix(".onnx").exists()
    tiles = tmp_path / "tiles"
    made = CliRunner().invoke(main, ["ai", "synthesize", "--real", str(photos), "--autoencoder", str(models),
                                     "--held-out-of", str(output.with_suffix(".json")), "--tiles-per-photo", "1",
                                     "-o", str(tiles)])
    assert made.exit_code == 0, made.output
    assert len(list((tiles / "autoencoded").iterdir())) == 7
    evaluated = CliRunner().invoke(main, ["ai", "eval", "--real", str(tiles / "real"), "--generated",
                                          str(tiles / "autoencoded"), "--model", str(output.with_suffix(".onnx")),
                                          "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    figures = json.loads(evaluated.output)
    assert {"as-is", "travel-jpeg-q70-95-resized-50-100"} <= set(figures) and "auc" in figures["as-is"]["overall"]


def test_crops_of_a_jpeg_decoded_to_ycbcr_are_those_of_its_rgb_decode() -> None:
    """Scans decode a JPEG once, to YCbCr; the detector's crops must keep the RGB it was calibrated on."""
    data = jpeg_bytes(draw_picture(4, (333, 250)), 85)
    picture = Image.open(io.BytesIO(data))
    picture.draft("YCbCr", picture.size)
    assert picture.mode == "YCbCr"
    crops, reference = image_crops(picture), image_crops(Image.open(io.BytesIO(data)).convert("RGB"))
    assert crops is not None and reference is not None
    assert np.array_equal(crops, reference)
