"""`vigie ai eval`: per-family metrics with bootstrap intervals, as-is and after travel, from a manifest or
folders; drawn pictures only (the shared corpus in one slow test)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import shared_data
from detector_corpus import tiny_corpus
from PIL import Image

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.detector.evaluation import (
    CONDITIONS,
    JPEG_FIRST,
    OVERALL,
    TRAVEL,
    Sample,
    auc,
    condition_image,
    evaluate_corpus,
    read_manifest,
    tpr_at_fpr,
    travel,
)
from vigie.detector.lofo import lofo, photo_folds
from vigie.detector.residual import equalise, features, fit_logistic


def test_auc_and_tpr_with_ties() -> None:
    real, generated = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.3, 0.5, 0.6, 0.7])
    assert auc(real, generated) == pytest.approx((2.5 + 4 + 4 + 4) / 16)
    assert tpr_at_fpr(real, generated, 0.5) == pytest.approx(1.0)  # two reals of four may pass: above 0.2
    assert tpr_at_fpr(real, generated, 0.01) == pytest.approx(0.75)


def test_travel_resizes_and_reencodes_the_same_way_each_run() -> None:
    image = draw_picture(4, (200, 100))
    first, again = travel(image, random.Random(3)), travel(image, random.Random(3))
    assert 100 <= first.width <= 200 and first.size == again.size
    assert np.array_equal(np.asarray(first), np.asarray(again))


def test_a_jpeg_before_travel_changes_only_the_pixels_a_first_compression_changes(tmp_path: Path) -> None:
    path = tmp_path / "drawn.png"  # lossless, as most of the corpus's generated images
    draw_picture(6, (240, 160)).save(path)
    travelled, first = condition_image(path, TRAVEL, 9), condition_image(path, JPEG_FIRST, 9)
    assert first.size == travelled.size  # the same travel draw: same scale (and quality)
    assert not np.array_equal(np.asarray(first), np.asarray(travelled))
    assert np.array_equal(np.asarray(first), np.asarray(condition_image(path, JPEG_FIRST, 9)))
    assert np.abs(np.asarray(first, dtype=np.int16) - np.asarray(travelled, dtype=np.int16)).mean() < 4


def test_each_family_and_overall_with_intervals(tmp_path: Path) -> None:
    samples = read_manifest(tiny_corpus(tmp_path))
    assert {s.group for s in samples if s.generated} == {"blurry", "sharp"}

    def blur_scorer(image: Image.Image) -> float:  # low edge energy = "generated"
        return -float(np.abs(np.diff(np.asarray(image.convert("L"), dtype=np.float64), axis=1)).mean())

    results = evaluate_corpus(blur_scorer, 0.0, samples)
    for condition in CONDITIONS:
        report = results[condition]
        assert set(report) == {"blurry", "sharp", OVERALL}  # type: ignore[arg-type]
        blurry = report["blurry"]  # type: ignore[index]
        assert blurry["generated"] == 3 and blurry["real"] == 6
        for metric in ("auc", "tpr_at_1pct_fpr", "tpr_at_5pct_fpr", "fpr_at_threshold", "tpr_at_threshold"):
            value = blurry[metric]
            assert value.low <= value.value <= value.high, metric
    assert results["as-is"]["blurry"]["auc"].value == 1.0  # type: ignore[index]
    assert results["as-is"]["sharp"]["auc"].value < 0.5  # type: ignore[index]
    assert results["as-is"]["overall"]["fpr_at_threshold"].value == 0.0  # type: ignore[index]
    assert results["unscored"] == []


def test_unreadable_and_too_small_images_are_named_not_dropped_silently(tmp_path: Path) -> None:
    manifest = tiny_corpus(tmp_path)
    (tmp_path / "photos" / "p0.jpg").write_bytes(b"not a picture")
    samples = [*read_manifest(manifest), Sample(tmp_path / "generated" / "sharp" / "g0.png", True, "tiny")]
    results = evaluate_corpus(lambda image: None if image.width < 100 else 0.5, None, samples)
    reasons = "\n".join(results["unscored"])  # type: ignore[arg-type]
    assert "p0.jpg" in reasons and "too small" in reasons


def test_cli_eval_from_a_manifest_and_from_folders(tmp_path: Path) -> None:
    manifest = tiny_corpus(tmp_path)
    result = CliRunner().invoke(main, ["ai", "eval", "--manifest", str(manifest), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert set(figures[TRAVEL]) == {"blurry", "sharp", OVERALL} and "vigie" in figures["model"]
    assert set(figures["as-is"]["sharp"]["tpr_at_1pct_fpr"]) == {"value", "low", "high"}
    table = CliRunner().invoke(main, ["ai", "eval", "--real", str(tmp_path / "photos"), "--generated",
                                      str(tmp_path / "generated")])
    assert table.exit_code == 0, table.output
    assert "blurry" in table.output and "TPR@5%FPR" in table.output and TRAVEL in table.output
    assert JPEG_FIRST not in figures and JPEG_FIRST not in table.output
    first = CliRunner().invoke(main, ["ai", "eval", "--manifest", str(manifest), "--jpeg-before-travel"])
    assert first.exit_code == 0 and JPEG_FIRST in first.output and TRAVEL in first.output
    missing = CliRunner().invoke(main, ["ai", "eval", "--real", str(tmp_path / "photos")])
    assert missing.exit_code == 2 and "--manifest" in missing.output


def test_a_manifest_with_one_class_is_refused(tmp_path: Path) -> None:
    manifest = tiny_corpus(tmp_path)
    rows = [row for row in json.loads(manifest.read_text()) if row["class"] == "camera"]
    manifest.write_text(json.dumps(rows))
    result = CliRunner().invoke(main, ["ai", "eval", "--manifest", str(manifest)])
    assert result.exit_code == 2 and "both generated and camera" in result.output


@pytest.mark.slow
def test_eval_on_the_shared_training_corpus() -> None:
    manifest = shared_data("ai-train", "manifest.json")
    result = CliRunner().invoke(main, ["ai", "eval", "--manifest", str(manifest), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert {"sd1", "flux", "stylegan2", OVERALL} <= set(figures[TRAVEL])
    assert figures["as-is"][OVERALL]["real"] >= 400 and figures["unscored"] == []


def test_photo_folds_keep_each_source_in_one_fold(tmp_path: Path) -> None:
    samples = read_manifest(tiny_corpus(tmp_path))
    folds = photo_folds(samples, 3)
    assert set(folds) == {"source0", "source1", "source2"} and sorted(folds.values()) == [0, 1, 2]


def test_lofo_holds_each_family_out_and_compares_with_the_model(tmp_path: Path) -> None:
    manifest = tiny_corpus(tmp_path)
    result = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--views", "2", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)  # progress goes to stderr
    for condition in CONDITIONS:
        assert set(figures[condition]) == {"blurry", "sharp", OVERALL}
        held = figures[condition]["blurry"]
        assert held["residual"]["generated"] == 3 and held["residual"]["real"] == 6  # every photo held out once
        assert held["shipped"]["real"] == 6 and "value" in held["residual"]["auc"]
    assert sorted(figures["photo_folds"].values()) == [0, 1, 2]
    table = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--views", "1", "--folds", "2"])
    assert table.exit_code == 0 and "residual AUC" in table.output and "OVERALL" in table.output


def test_lofo_scores_the_held_out_images_after_a_first_jpeg_with_the_same_fits_and_thresholds(tmp_path: Path) -> None:
    samples = read_manifest(tiny_corpus(tmp_path))
    plain = lofo(samples, views=1)
    both = lofo(samples, views=1, conditions=(*CONDITIONS, JPEG_FIRST))
    for condition in CONDITIONS:  # the added condition leaves the usual figures as they were
        assert both[condition] == plain[condition]
    assert JPEG_FIRST not in plain and set(both[JPEG_FIRST]) == {"blurry", "sharp", OVERALL}  # type: ignore[arg-type]
    assert both[JPEG_FIRST]["blurry"]["residual"]["generated"] == 3  # type: ignore[index]
    table = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(tmp_path / "manifest.json"), "--views", "1",
                                      "--jpeg-before-travel"])
    assert table.exit_code == 0 and JPEG_FIRST in table.output


def test_lofo_holds_out_only_the_families_named_and_refuses_a_misspelt_one(tmp_path: Path) -> None:
    manifest = tiny_corpus(tmp_path)
    result = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--views", "1", "--family", "blurry",
                                       "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["held_out_families"] == ["blurry"]
    for condition in CONDITIONS:
        assert set(figures[condition]) == {"blurry", OVERALL}
        overall = figures[condition][OVERALL]
        assert overall["residual"]["generated"] == 3 and overall["shipped"]["generated"] == 3  # blurry's images only
    misspelt = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(manifest), "--family", "blury"])
    assert misspelt.exit_code == 2 and "no generator family blury" in misspelt.output and "sharp" in misspelt.output


def test_lofo_needs_as_many_photo_sources_as_folds(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ai", "lofo", "--manifest", str(tiny_corpus(tmp_path)), "--folds", "4"])
    assert result.exit_code == 2 and "at least 4 sources" in result.output


def test_logistic_head_learns_a_separable_feature() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 1] > 0).astype(np.float64)
    head = fit_logistic(x, y)
    assert auc(head.logits(x[y == 0]), head.logits(x[y == 1])) > 0.99 and abs(head.weights[1]) > abs(head.weights[0])


def test_residual_features_are_finite_and_equalising_hides_the_format() -> None:
    image = draw_picture(6, (256, 192))
    view = equalise(image, random.Random(1))
    assert view.format is None or view.format == "JPEG"
    assert not view.getexif() and view.width <= 256
    vector = features(view)
    assert vector is not None and np.isfinite(vector).all()
    assert features(draw_picture(6, (20, 20))) is None


def test_lofo_names_images_the_compared_model_cannot_score(tmp_path: Path) -> None:
    samples = read_manifest(tiny_corpus(tmp_path))
    results = lofo(samples, views=1, shipped=(lambda image: None if image.width < 150 else 0.0, 0.0))  # 128-px ones
    assert any("too small for the compared model" in reason for reason in results["unscored"])  # type: ignore[attr-defined]
    assert results["as-is"]["sharp"]["shipped"] == {"real": 6, "generated": 0}  # type: ignore[index]
