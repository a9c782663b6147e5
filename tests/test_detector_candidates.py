"""LOFO candidates on the same splits (the NPR CNN, a frozen ONNX backbone) and `vigie ai calibrate`, on drawn
pictures only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from detector_corpus import tiny_corpus
from PIL import Image

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.detector.backbone import SIDE, clip_input
from vigie.detector.calibration import calibration_split
from vigie.detector.evaluation import CONDITIONS, OVERALL, read_manifest
from vigie.detector.runtime import default_model_path, load_detector


def test_clip_input_is_the_centre_square_normalised() -> None:
    tensor = clip_input(draw_picture(2, (300, 150)))
    assert tensor.shape == (1, 3, SIDE, SIDE) and tensor.dtype == np.float32
    assert tensor.min() > -2.0 and tensor.max() < 2.5  # CLIP's mean/std, not raw bytes
    grey = clip_input(Image.new("RGB", (224, 224), (123, 117, 104)))
    assert np.abs(grey).max() < 0.02  # CLIP's mean colour maps to zero


def test_npr_residual_vanishes_on_nearest_upsampled_pictures() -> None:
    torch = pytest.importorskip("torch")
    from vigie.detector.npr import NprDetector, NprResidual

    small = torch.rand(1, 3, 32, 32)
    upsampled = small.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    assert float(NprResidual()(upsampled).abs().max()) == 0.0
    assert float(NprResidual()(torch.rand(1, 3, 64, 64)).abs().max()) > 0.1
    assert NprDetector()(torch.rand(9, 3, 64, 64)).shape == (9, 1)


def held_families(result_stdout: str, name: str) -> dict[str, object]:
    figures = json.loads(result_stdout)
    assert figures["candidate"] == name
    for condition in CONDITIONS:
        assert set(figures[condition]) == {"blurry", "sharp", OVERALL}
        held = figures[condition]["blurry"]
        assert held[name]["generated"] == 3 and held[name]["real"] == 6 and held["shipped"]["real"] == 6
    return figures  # type: ignore[no-any-return]


def test_lofo_trains_the_npr_cnn_on_the_same_splits(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    manifest = tiny_corpus(tmp_path)
    result = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--views", "1", "--candidate",
                                       "npr-cnn", "--json"])
    assert result.exit_code == 0, result.output
    held_families(result.stdout, "npr-cnn")


def test_lofo_with_a_frozen_onnx_backbone(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")

    class Tower(torch.nn.Module):  # a stand-in image tower: pooled colour statistics as the "embedding"
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pooled = torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)
            return torch.cat([pooled, x.std(dim=(2, 3))], dim=1)

    tower = tmp_path / "tower.onnx"
    torch.onnx.export(Tower(), (torch.zeros(1, 3, SIDE, SIDE),), str(tower), input_names=["pixel_values"],
                      output_names=["image_embeds"], dynamo=False)
    manifest = tiny_corpus(tmp_path / "corpus")
    result = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--views", "1", "--backbone",
                                       str(tower), "--json"])
    assert result.exit_code == 0, result.output
    held_families(result.stdout, "backbone")


def test_calibration_keeps_one_source_fold_for_evaluation(tmp_path: Path) -> None:
    samples = read_manifest(tiny_corpus(tmp_path))
    calibration, kept = calibration_split(samples, 3, 0)
    assert len(calibration) == 2 and len(kept) == 4 and not any(s.generated for s in calibration + kept)
    assert not {s.source for s in calibration} & {s.source for s in kept}


def test_calibrate_sets_the_threshold_and_records_how(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    shutil.copy(default_model_path(), model)
    shutil.copy(default_model_path().with_suffix(".json"), model.with_suffix(".json"))
    manifest = tiny_corpus(tmp_path / "corpus")
    result = CliRunner().invoke(main, ["ai", "calibrate", "--manifest", str(manifest), "--folds", "3",
                                       "--max-fpr", "0", "--model", str(model)])
    assert result.exit_code == 0, result.output
    info = json.loads(model.with_suffix(".json").read_text())
    record = info["calibration"]
    assert info["threshold"] == record["threshold"] and len(record["photos"]) == 2
    assert set(record["fpr_on_calibration_photos"].values()) == {0.0}  # none of them reaches it, either condition
    assert record["kept_for_evaluation"] == 4 and set(record["fpr_on_kept_photos"]) == set(CONDITIONS)
    detector = load_detector(str(model))
    assert detector is not None and detector.threshold == info["threshold"]
    bad = CliRunner().invoke(main, ["ai", "calibrate", "--manifest", str(manifest), "--fold", "2", "--model",
                                    str(model)])
    assert bad.exit_code == 2 and "--fold" in bad.output
