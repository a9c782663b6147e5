"""`vigie ai`: train the statistical AI-image detector, make aligned synthetic copies, evaluate it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from vigie.cli.common import err, out


@click.group()
def ai() -> None:
    """The statistical AI-image detector: train it, make aligned synthetic copies, evaluate it.

    Training needs PyTorch (`pip install -e '.[train]'`); scanning uses the ONNX model alone.
    """


@ai.command("train")
@click.option("--real", "real", multiple=True, required=True, type=click.Path(exists=True, file_okay=False,
              path_type=Path), help="Folder of camera photos (repeatable).")
@click.option("--generated", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of generated images to add, unaligned (repeatable, optional).")
@click.option("--autoencoder", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Folder with taef2_encoder.pth and taef2_decoder.pth, to make the aligned synthetic copies.")
@click.option("--hold-out", "hold_out", default="nikon-natural", show_default=True,
              help="Photos under a folder of this name never train; they calibrate and evaluate.")
@click.option("--held-out-share", default=0.2, show_default=True, help="Share of the other photos held out too.")
@click.option("--tiles-per-photo", default=8, show_default=True)
@click.option("--pairs-per-tile", default=48, show_default=True)
@click.option("--epochs", default=16, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--workers", type=click.IntRange(1, 256), default=os.cpu_count() or 1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model path without suffix: writes PATH.onnx and PATH.json.")
def ai_train(real: tuple[Path, ...], generated: tuple[Path, ...], autoencoder: Path, hold_out: str,
             held_out_share: float, tiles_per_photo: int, pairs_per_tile: int, epochs: int, seed: int, workers: int,
             output: Path) -> None:
    """Train the detector from scratch on aligned pairs and calibrate it for <= 1% false positives."""
    from vigie.detector.training import train_detector

    trained = train_detector(list(real), list(generated), autoencoder, hold_out, held_out_share, tiles_per_photo,
                             pairs_per_tile, epochs, seed, workers, output,
                             "vigie " + " ".join(sys.argv[1:]) if sys.argv else "", err.print)
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
@click.option("--real", "real", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--generated", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="ONNX model [the shipped one].")
@click.option("--json", "as_json", is_flag=True)
def ai_eval(real: Path, generated: Path, model: str | None, as_json: bool) -> None:
    """AUC and true-positive rate at 1% false positives, with bootstrap 95% intervals, as the images are and
    after JPEG q75-95 and resizing to 50-90%."""
    from vigie.detector.evaluation import evaluate_model

    results = evaluate_model(model or "", real, generated)
    if as_json:
        print(json.dumps({k: {m: (v.__dict__ if hasattr(v, "__dict__") else v) for m, v in r.items()}
                          for k, r in results.items()}))
        return
    for condition, result in results.items():
        out.print(f"{condition}: {result['real']} real, {result['generated']} generated; AUC {result['auc']}; "
                  f"TPR at 1% FPR {result['tpr_at_1pct_fpr']}; at the model's threshold: FPR "
                  f"{result['fpr_at_threshold']:.3f}, TPR {result['tpr_at_threshold']:.3f}")


COMMANDS = [ai]
