"""LOFO candidates on the same splits (the NPR CNN, a frozen ONNX backbone) and `vigie ai calibrate`, on drawn
pictures only."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from detector_corpus import tiny_corpus
from PIL import Image

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.detector.backbone import SIDE, clip_input
from vigie.detector.evaluation import CONDITIONS, OVERALL
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


def test_multi_scale_residual_keeps_each_scale_and_interpolation_apart(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from vigie.detector.npr import NETWORKS, MultiScaleResidual
    from vigie.detector.training import export_onnx

    small = torch.rand(1, 3, 16, 16)
    by_4 = small.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)
    residual = MultiScaleResidual()(by_4)
    assert residual.shape == (1, 9, 64, 64)
    assert float(residual[:, :3].abs().max()) == 0.0 and float(residual[:, 6:].abs().max()) == 0.0  # nearest
    assert float(residual[:, 3:6].abs().max()) > 0.1  # a copy is not a bilinear upsampling
    ramp = (torch.arange(64.0) / 64).expand(1, 3, 64, 64)  # a smooth gradient, as a bilinear upsampling leaves
    on_ramp = MultiScaleResidual()(ramp)[..., 1:-1]  # (the edges are clamped)
    assert float(on_ramp[:, 3:6].abs().max()) < 1e-4 and float(on_ramp[:, :3].abs().max()) > 0.1
    model = NETWORKS["npr-multi"]().eval()
    crops = torch.rand(9, 3, 64, 64)
    export_onnx(model, tmp_path / "multi.onnx")  # the runtime's ONNX, as the shipped network
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "multi.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(crops).numpy()
    assert np.allclose(session.run(None, {"crops": crops.numpy()})[0], expected, atol=1e-5)


def held_families(result_stdout: str, name: str) -> dict[str, object]:
    figures = json.loads(result_stdout)
    assert figures["candidate"] == name
    for condition in CONDITIONS:
        assert set(figures[condition]) == {"blurry", "sharp", OVERALL}
        held = figures[condition]["blurry"]
        assert held[name]["generated"] == 3 and held[name]["real"] == 6 and held["shipped"]["real"] == 6
    return figures  # type: ignore[no-any-return]


@pytest.mark.parametrize("network", ["npr-cnn", "npr-multi"])
def test_lofo_trains_the_npr_cnn_on_the_same_splits(tmp_path: Path, network: str) -> None:
    pytest.importorskip("torch")
    manifest = tiny_corpus(tmp_path)
    result = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--views", "1", "--candidate",
                                       network, "--json"])
    assert result.exit_code == 0, result.output
    held_families(result.stdout, network)


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


def test_calibrate_holds_every_source_fold_and_records_how(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    shutil.copy(default_model_path(), model)
    shutil.copy(default_model_path().with_suffix(".json"), model.with_suffix(".json"))
    manifest = tiny_corpus(tmp_path / "corpus")
    result = CliRunner().invoke(main, ["ai", "calibrate", "--manifest", str(manifest), "--max-fpr", "0",
                                       "--model", str(model)])
    assert result.exit_code == 0, result.output
    info = json.loads(model.with_suffix(".json").read_text())
    record = info["calibration"]
    assert info["threshold"] == record["threshold"]
    assert max(record["fold_levels"]) <= record["threshold"] <= max(record["fold_levels"]) + 0.0002  # the highest
    assert len(record["photos"]) == 6 and sorted(record["source_folds"].values()) == [0, 1, 2]
    assert set(record["fpr"].values()) == {0.0}  # no photo reaches it, as it is or after travel
    unseen = record["fpr_on_sources_not_calibrated_on"]
    assert set(unseen) == {"fold 0", "fold 1", "fold 2"} and set(unseen["fold 0"]) >= set(CONDITIONS)
    detector = load_detector(str(model))
    assert detector is not None and detector.threshold == info["threshold"]
    too_many = CliRunner().invoke(main, ["ai", "calibrate", "--manifest", str(manifest), "--folds", "4", "--model",
                                         str(model)])
    assert too_many.exit_code == 2 and "at least 4 sources" in too_many.output


def test_training_on_fewer_crops_than_a_batch_still_learns() -> None:
    pytest.importorskip("torch")
    from vigie.detector.npr import NprDetector
    from vigie.detector.training import train_model

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (20, 3, 64, 64), dtype=np.uint8)
    _, loss = train_model(crops, (np.arange(20) % 2).astype(np.float32), 2, 0, lambda _: None, NprDetector)
    assert np.isfinite(loss)  # it used to skip every step under 128 crops and report nan


def test_crops_are_cut_before_conversion_and_match_the_whole_image(monkeypatch: pytest.MonkeyPatch) -> None:
    from vigie.detector.runtime import image_crops

    picture = draw_picture(5, (400, 300))
    for mode in ("RGB", "L", "P", "RGBA", "CMYK"):
        image = picture.convert(mode)
        whole = np.asarray(image.convert("RGB"))
        crops = image_crops(image)
        assert crops is not None
        assert np.array_equal(crops[-1], whole[-64:, -64:].transpose(2, 0, 1) / np.float32(255))  # same pixels
    converted: list[tuple[int, int]] = []
    original = Image.Image.convert

    def recording(self: Image.Image, *args: object, **kwargs: object) -> Image.Image:
        converted.append(self.size)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "convert", recording)
    image_crops(picture)
    assert converted and max(converted) == (64, 64)  # never the whole picture


def test_lofo_validates_an_ensemble_of_candidates(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    manifest = tiny_corpus(tmp_path)
    result = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--views", "1", "--candidate",
                                       "residual", "--candidate", "npr-cnn", "--json"])
    assert result.exit_code == 0, result.output
    held_families(result.stdout, "ensemble(residual, npr-cnn)")
    unpaired = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--candidate", "npr-cnn",
                                         "--pairs-from", str(tmp_path / "photos")])
    assert unpaired.exit_code == 2 and "--pairs-from needs --autoencoder" in unpaired.output


class Fixed:
    """A stand-in candidate whose representation is its score, times a scale of its own."""

    def __init__(self, name: str, scale: float) -> None:
        self.name, self.scale = name, scale

    def represent(self, image: Image.Image) -> np.ndarray | None:
        return np.array([float(np.asarray(image).mean()) * self.scale]) if image.width > 1 else None

    def fit(self, x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        return lambda xs: xs[:, 0]


def test_an_ensemble_puts_its_parts_on_one_scale() -> None:
    from vigie.detector.lofo import EnsembleCandidate

    ensemble = EnsembleCandidate([Fixed("small", 1.0), Fixed("huge", 1000.0)])
    assert ensemble.name == "ensemble(small, huge)"
    grey = [Image.new("RGB", (4, 4), (value, value, value)) for value in (10, 20, 30, 40)]
    x = np.stack([f for f in map(ensemble.represent, grey) if f is not None])
    scorer = ensemble.fit(x, np.array([0.0, 0.0, 0.0, 1.0]))
    scores = scorer(x)
    # both parts scaled by the photos' spread (10 and 10,000): each moves the mean by the same amount
    assert np.allclose(np.diff(scores), 1.0)
    assert ensemble.represent(Image.new("RGB", (1, 1))) is None  # a part that cannot represent it: none can


def test_pairs_join_every_cnn_fit_but_never_outnumber_its_own_crops(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    from vigie.detector import npr

    trained: list[np.ndarray] = []

    def recording(x: np.ndarray, y: np.ndarray, *args: object) -> tuple[object, float]:
        trained.append(y)
        return object(), 0.0

    monkeypatch.setattr(npr, "train_model", recording)
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 255, (500, 3, 64, 64), dtype=np.uint8), (np.arange(500) % 2).astype(np.float32)
    candidate = npr.CnnCandidate("npr-cnn", 3, 6000, 1, pairs)
    assert candidate.name == "npr-cnn+pairs"
    own = rng.integers(0, 255, (10, 9, 3, 64, 64), dtype=np.uint8)  # 10 views of 9 crops each
    candidate.fit(own, np.zeros(10))
    assert len(trained[0]) == 180 and trained[0][:90].sum() == 0 and 30 < trained[0][90:].sum() < 60
    assert npr.CnnCandidate("highpass-cnn", 3, 6000, 1).name == "highpass-cnn"


def test_train_on_a_corpus_as_lofo_validates_and_calibrate_leaves_its_training_photos_out(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from vigie.detector.calibration import untrained_corpus_photos

    manifest = tiny_corpus(tmp_path / "corpus")
    output = tmp_path / "model"
    result = CliRunner().invoke(main, ["ai", "train", "--manifest", str(manifest), "--network", "npr-cnn", "--views",
                                       "2", "--epochs", "1", "--workers", "1", "--name", "tiny", "--version", "3",
                                       "-o", str(output)])
    assert result.exit_code == 0, result.output
    info = json.loads(output.with_suffix(".json").read_text())
    assert (info["network"], info["views"], info["held_out_fold"]) == ("npr-cnn", 2, 0)
    trained = info["trained_corpus_photos"]
    assert len(trained) == 4 and all(name.startswith("photos/") for name in trained)  # one source fold of 3 held out
    held = untrained_corpus_photos(manifest, info)
    assert len(held) == 2 and not {str(s.path.relative_to(manifest.parent)) for s in held} & set(trained)
    detector = load_detector(str(output.with_suffix(".onnx")))
    assert detector is not None and detector.threshold == info["threshold"]
    assert detector.model.startswith("tiny 3 (onnx sha256 ")
    score = detector.score(draw_picture(7, (200, 150)))
    assert score is not None and np.isfinite(score)
    neither = CliRunner().invoke(main, ["ai", "train", "-o", str(output)])
    assert neither.exit_code == 2 and "give --real and --autoencoder" in neither.output
    both = CliRunner().invoke(main, ["ai", "train", "--manifest", str(manifest), "--generated", str(tmp_path),
                                     "-o", str(output)])
    assert both.exit_code == 2 and "do not go together" in both.output
