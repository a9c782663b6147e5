"""`vigie ai`: train the statistical AI-image detector, make aligned synthetic copies, evaluate it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from vigie.cli.common import err, out

if TYPE_CHECKING:
    import numpy as np

    from vigie.detector.lofo import Candidate


def invoked_as() -> str:
    """The command as typed, recorded with what it made so that a figure or a model can be made again."""
    return " ".join(["vigie", *sys.argv[1:]])


@click.group()
def ai() -> None:
    """The statistical AI-image detector: train it, make aligned synthetic copies, evaluate it.

    Training needs PyTorch (`pip install -e '.[train]'`); scanning uses the ONNX model alone.
    """


@ai.command("train")
@click.option("--real", "real", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of camera photos (repeatable; optional with --manifest).")
@click.option("--generated", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of generated images to add, unaligned (repeatable, optional).")
@click.option("--autoencoder", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with taef2_encoder.pth and taef2_decoder.pth, to make the aligned synthetic copies of the "
              "--real photos (optional with --manifest: without it, no pairs).")
@click.option("--hold-out", "hold_out", default="nikon-natural", show_default=True,
              help="Photos under a folder of this name never train; they calibrate and evaluate.")
@click.option("--held-out-share", default=0.2, show_default=True, help="Share of the other photos held out too.")
@click.option("--tiles-per-photo", default=8, show_default=True)
@click.option("--pairs-per-tile", default=48, show_default=True)
@click.option("--epochs", default=16, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--workers", type=click.IntRange(1, 256), default=os.cpu_count() or 1)
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also learn from a corpus manifest (the ai-train layout), as `vigie ai lofo` validates its CNN "
              "candidates: equalised views of every image, its photos of one source fold held out to calibrate.")
@click.option("--network", type=click.Choice(["npr-cnn", "highpass-cnn"]), default="npr-cnn", show_default=True,
              help="With --manifest: the network trained (without --manifest it is the high-pass CNN).")
@click.option("--views", type=click.IntRange(1, 64), default=4, show_default=True,
              help="With --manifest: equalised views per corpus image.")
@click.option("--train-crops", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="With --manifest: at most this many of the views' crops (as many pair crops again at most).")
@click.option("--folds", type=click.IntRange(2, 20), default=3, show_default=True,
              help="With --manifest: folds of the corpus's photo sources.")
@click.option("--held-out-fold", type=click.IntRange(0), default=0, show_default=True,
              help="With --manifest: the fold of photo sources that never trains.")
@click.option("--name", default="", help="The model's name, as reports show it [the output's file name].")
@click.option("--version", "model_version", default="1", show_default=True, help="The model's version.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model path without suffix: writes PATH.onnx and PATH.json.")
def ai_train(real: tuple[Path, ...], generated: tuple[Path, ...], autoencoder: Path, hold_out: str,
             held_out_share: float, tiles_per_photo: int, pairs_per_tile: int, epochs: int, seed: int, workers: int,
             manifest: Path | None, network: str, views: int, train_crops: int, folds: int, held_out_fold: int,
             name: str, model_version: str, output: Path) -> None:
    """Train the detector from scratch on aligned pairs (and a corpus, with --manifest) and calibrate it for
    <= 1% false positives."""
    command = invoked_as()
    if manifest is None and not (real and autoencoder):
        raise click.UsageError("give --real and --autoencoder (aligned pairs), or --manifest (a corpus)")
    if manifest is not None:
        if generated:
            raise click.UsageError("--generated and --manifest do not go together: the manifest names its images")
        from vigie.detector.corpus import train_on_corpus

        trained = train_on_corpus(manifest, list(real), autoencoder, hold_out, held_out_share, network, views, epochs,
                                  train_crops, tiles_per_photo, pairs_per_tile, folds, held_out_fold, seed, workers,
                                  output, command, err.print, name, model_version)
    else:
        from vigie.detector.training import train_detector

        assert autoencoder is not None  # checked above
        trained = train_detector(list(real), list(generated), autoencoder, hold_out, held_out_share,
                                 tiles_per_photo, pairs_per_tile, epochs, seed, workers, output, command, err.print,
                                 name, model_version)
    err.print(f"Wrote {output.with_suffix('.onnx')} (threshold {trained.threshold:.3f}) in "
              f"{trained.info['minutes']} min")


@ai.command("synthesize")
@click.option("--real", "real", multiple=True, required=True, type=click.Path(exists=True, file_okay=False,
              path_type=Path))
@click.option("--autoencoder", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--held-out-of", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A model's .json: use only the photos it held out of training.")
@click.option("--tiles-per-photo", default=2, show_default=True)
@click.option("--seed", default=11, show_default=True)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True)
def ai_synthesize(real: tuple[Path, ...], autoencoder: Path, held_out_of: Path | None, tiles_per_photo: int, seed: int,
                  output: Path) -> None:
    """Write aligned 256-px tiles: OUTPUT/real, OUTPUT/autoencoded, OUTPUT/upsampled (for `ai eval`)."""
    from vigie.detector.training import synthesize_tiles

    count, photos = synthesize_tiles(list(real), autoencoder, held_out_of, tiles_per_photo, seed, output)
    out.print(f"{count} aligned tiles from {photos} photos in {output}")


@ai.command("eval")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A corpus manifest (the ai-train layout: file, class, family or camera).")
@click.option("--real", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of camera photos (without --manifest).")
@click.option("--generated", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of generated images, one family per subfolder (without --manifest).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="ONNX model [the shipped one].")
@click.option("--jpeg-before-travel", is_flag=True,
              help="Also score every image after a JPEG at q90-95 and then the same travel: a generator serving "
              "JPEG, or a picture forwarded twice (generated images never compressed before must not be told from "
              "photos by that alone).")
@click.option("--json", "as_json", is_flag=True)
def ai_eval(manifest: Path | None, real: Path | None, generated: Path | None, model: str | None,
            jpeg_before_travel: bool, as_json: bool) -> None:
    """Per generator family and overall: AUC, TPR at 1% and 5% FPR, FPR and TPR at the model's threshold, with
    bootstrap 95% intervals, as the images are and after travel (resize to 50-100%, JPEG q70-95, seeded)."""
    from vigie.detector.evaluation import evaluate_model, read_folders, read_manifest

    if manifest is not None:
        samples = read_manifest(manifest)
    elif real is not None and generated is not None:
        samples = read_folders(real, generated)
    else:
        raise click.UsageError("give --manifest, or both --real and --generated")
    print_evaluation(evaluate_model(model or "", samples, reported_conditions(jpeg_before_travel)), as_json)


def reported_conditions(jpeg_before_travel: bool) -> tuple[str, ...]:
    from vigie.detector.evaluation import CONDITIONS, JPEG_FIRST

    return (*CONDITIONS, JPEG_FIRST) if jpeg_before_travel else CONDITIONS


def print_evaluation(results: dict[str, object], as_json: bool) -> None:
    from vigie.detector.evaluation import CONDITIONS, JPEG_FIRST, TABLE_HEADER, as_plain, table_rows

    if as_json:
        print(json.dumps(as_plain(results)))
        return
    for key in ("model", "threshold"):
        if key in results:
            out.print(f"{key}: {results[key]}")
    for condition in [c for c in (*CONDITIONS, JPEG_FIRST) if c in results]:
        out.print(f"\n{condition} (bootstrap 95% intervals)", markup=False)
        for row in [TABLE_HEADER, *table_rows(results[condition])]:  # type: ignore[arg-type]
            out.print(" | ".join(row), markup=False, soft_wrap=True)
    for reason in results.get("unscored", []):  # type: ignore[attr-defined]
        err.print(f"not scored: {reason}")


PAIR_TILES_PER_PHOTO, PAIRS_PER_TILE = 4, 8  # 2,712 pairs from ../shared/data/photos: fewer than a fit's crops
CNN_EPOCHS, CNN_TRAIN_CROPS = 3, 6000  # so that 42 fits run on a CPU in minutes


@ai.command("lofo")
@click.option("--manifest", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A corpus manifest (the ai-train layout: file, class, family or camera, repository).")
@click.option("--folds", type=click.IntRange(2, 20), default=3, show_default=True,
              help="Photo folds, split by source (repository or folder).")
@click.option("--views", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Equalised training views per image (crop, resize, JPEG).")
@click.option("--seed", default=7, show_default=True)
@click.option("--candidate", "candidates", type=click.Choice(["residual", "npr-cnn", "npr-multi", "highpass-cnn"]),
              multiple=True,
              help="The detector validated [residual]: residual statistics with a logistic head, the small NPR CNN "
              "(npr-multi: on NPR residuals at three scales and interpolations), or the previous model's high-pass "
              "CNN, each trained from scratch (the CNNs need PyTorch, the `train` extra). Given more than once: the "
              "ensemble of them (the mean of their scores, each scaled on the fit's training photos).")
@click.option("--pairs-from", "pairs_from", multiple=True, type=click.Path(exists=True, file_okay=False,
              path_type=Path), help="Camera photos (repeatable) whose aligned taef2 pairs, as `vigie ai train` makes "
              "them, are added to every CNN fit. Needs --autoencoder.")
@click.option("--autoencoder", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder with taef2_encoder.pth and taef2_decoder.pth, for --pairs-from.")
@click.option("--epochs", type=click.IntRange(1, 100), default=CNN_EPOCHS, show_default=True,
              help="Epochs of each CNN fit.")
@click.option("--train-crops", type=click.IntRange(1), default=CNN_TRAIN_CROPS, show_default=True,
              help="Crops drawn from the views for each CNN fit (as many pairs again with --pairs-from).")
@click.option("--family", "held_out", multiple=True, metavar="NAME",
              help="Hold out only this generator family (repeatable) [every family in turn]: a quicker comparison. "
              "The other families still train; OVERALL pools only the families held out.")
@click.option("--backbone", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Instead of --candidate: a frozen CLIP-style ONNX image tower (224 px in, embedding out) with a "
              "logistic head on its embeddings.")
@click.option("--model", type=click.Path(exists=True, dir_okay=False),
              help="ONNX model to compare on the same images [the shipped one].")
@click.option("--jpeg-before-travel", is_flag=True,
              help="Also score the held-out images after a JPEG at q90-95 and then the same travel: a generator "
              "serving JPEG, or a picture forwarded twice (generated images never compressed before must not be told "
              "from photos by that alone).")
@click.option("--json", "as_json", is_flag=True)
def ai_lofo(manifest: Path, folds: int, views: int, seed: int, candidates: tuple[str, ...],
            pairs_from: tuple[Path, ...], autoencoder: Path | None, epochs: int, train_crops: int,
            held_out: tuple[str, ...], backbone: Path | None, model: str | None, jpeg_before_travel: bool,
            as_json: bool) -> None:
    """Leave one generator family out: train a candidate detector on the other families and on photos of
    other sources, score the held-out family and photos as they are and after travel, and compare with the
    ONNX model on the same images."""
    from vigie.detector.calibration import TRAINED_CORPUS_PHOTOS
    from vigie.detector.evaluation import OVERALL, as_plain, read_manifest
    from vigie.detector.lofo import EnsembleCandidate, held_out_families, lofo
    from vigie.detector.runtime import DetectorError, load_detector

    if pairs_from and autoencoder is None:
        raise click.UsageError("--pairs-from needs --autoencoder")
    samples = read_manifest(manifest)
    held_out_families(samples, held_out)  # a misspelt family is refused before minutes of pairs
    detector = load_detector(model or "")
    if detector is None:
        raise DetectorError("no detector model to compare with: train one with `vigie ai train`")
    if trained_on := detector.info.get(TRAINED_CORPUS_PHOTOS):
        err.print(f"note: the compared model {detector.model} trained on a corpus ({len(trained_on)} of its photos and "
                  "its generated images): where that corpus is this one, its figures here are in-sample; compare "
                  "a model that never saw it with --model", markup=False, soft_wrap=True)
    chosen: Candidate
    if backbone is not None:
        from vigie.detector.backbone import BackboneCandidate

        chosen = BackboneCandidate(backbone)
    else:
        pairs = None
        if pairs_from and autoencoder is not None:
            from vigie.detector.synthetic import list_images
            from vigie.detector.training import autoencoder_files, build_pairs

            pairs = build_pairs(list_images(list(pairs_from)), autoencoder_files(autoencoder), PAIR_TILES_PER_PHOTO,
                                PAIRS_PER_TILE, os.cpu_count() or 1, seed, err.print)
            err.print(f"  {len(pairs[1])} crops of aligned pairs, added to each CNN fit")
        parts = [lofo_candidate(name, seed, pairs, epochs, train_crops) for name in candidates or ("residual",)]
        chosen = parts[0] if len(parts) == 1 else EnsembleCandidate(parts)
    conditions = reported_conditions(jpeg_before_travel)
    results = lofo(samples, folds, views, seed, err.print, (detector.score, detector.threshold), chosen, held_out,
                   conditions)
    if as_json:
        print(json.dumps({"model": detector.model, "command": invoked_as(),
                          **as_plain(results)}))  # type: ignore[dict-item]
        return
    name = chosen.name
    out.print(f"held-out family against held-out photos; compared with {detector.model}", markup=False,
              soft_wrap=True)
    for condition in conditions:
        out.print(f"\n{condition} (bootstrap 95% intervals; {name} threshold: <= 1% FPR on the fold's training "
                  "photos)", markup=False, soft_wrap=True)
        out.print(f"family | generated / real | {name} AUC | {name} TPR@1%FPR | {name} FPR@threshold | "
                  f"{name} TPR@threshold | model AUC | model TPR@1%FPR", markup=False, soft_wrap=True)
        table: dict[str, dict[str, dict[str, object]]] = results[condition]  # type: ignore[assignment]
        for family, compared in table.items():
            mine, theirs = compared[name], compared["shipped"]
            label = family.upper() if family == OVERALL else family
            out.print(f"{label} | {mine['generated']} / {mine['real']} | {mine['auc']} | {mine['tpr_at_1pct_fpr']} | "
                      f"{mine['fpr_at_threshold']} | {mine['tpr_at_threshold']} | {theirs.get('auc', '-')} | "
                      f"{theirs.get('tpr_at_1pct_fpr', '-')}", markup=False, soft_wrap=True)
    for reason in results["unscored"]:  # type: ignore[attr-defined]
        err.print(f"not scored: {reason}", markup=False)


def lofo_candidate(name: str, seed: int, pairs: tuple[np.ndarray, np.ndarray] | None, epochs: int,
                   train_crops: int) -> Candidate:
    from vigie.detector.lofo import ResidualCandidate

    if name == "residual":
        return ResidualCandidate()
    from vigie.detector.npr import CnnCandidate

    return CnnCandidate(name, epochs, train_crops, seed, pairs)


@ai.command("calibrate")
@click.option("--manifest", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A corpus manifest: its camera photos the model's JSON does not name as trained on.")
@click.option("--real", "real", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of camera photos to calibrate on too; only those the model's JSON names as held out "
              "of its training (repeatable).")
@click.option("--folds", type=click.IntRange(2, 20), default=3, show_default=True,
              help="Folds of photo sources: the threshold holds on each, and each is measured at the others' level.")
@click.option("--max-fpr", type=click.FloatRange(0.0, 0.5), default=0.01, show_default=True)
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="ONNX model [the shipped one].")
def ai_calibrate(manifest: Path, real: tuple[Path, ...], folds: int, max_fpr: float, model: str | None) -> None:
    """Set the model's threshold for at most --max-fpr false positives on camera photos it never trained on, in
    every fold of their sources, as they are and after travel; record it, the photos and this command in the
    model's JSON."""
    from vigie.detector.calibration import held_out_photos, recalibrate, untrained_corpus_photos
    from vigie.detector.runtime import DetectorError, default_model_path

    path = Path(model) if model else default_model_path()
    try:
        info = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError) as error:
        raise DetectorError(f"{path.with_suffix('.json')}: cannot read the model's JSON ({error})") from error
    photos = untrained_corpus_photos(manifest, info)
    for folder in real:
        photos += held_out_photos(folder, info)
    record = recalibrate(model or "", photos, folds, max_fpr, invoked_as())
    out.print(f"threshold {record['previous_threshold']} -> {record['threshold']} on {len(photos)} photos "
              f"(folds' levels {record['fold_levels']}); FPR {record['fpr']}; each fold at the others' level "
              f"{record['fpr_on_sources_not_calibrated_on']}", markup=False, soft_wrap=True)

COMMANDS = [ai]
