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
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A corpus manifest (the ai-train layout: file, class, family or camera).")
@click.option("--real", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of camera photos (without --manifest).")
@click.option("--generated", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of generated images, one family per subfolder (without --manifest).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="ONNX model [the shipped one].")
@click.option("--json", "as_json", is_flag=True)
def ai_eval(manifest: Path | None, real: Path | None, generated: Path | None, model: str | None,
            as_json: bool) -> None:
    """Per generator family and overall: AUC, TPR at 1% and 5% FPR, FPR and TPR at the model's threshold, with
    bootstrap 95% intervals, as the images are and after travel (resize to 50-100%, JPEG q70-95, seeded)."""
    from vigie.detector.evaluation import evaluate_model, read_folders, read_manifest

    if manifest is not None:
        samples = read_manifest(manifest)
    elif real is not None and generated is not None:
        samples = read_folders(real, generated)
    else:
        raise click.UsageError("give --manifest, or both --real and --generated")
    print_evaluation(evaluate_model(model or "", samples), as_json)


def print_evaluation(results: dict[str, object], as_json: bool) -> None:
    from vigie.detector.evaluation import CONDITIONS, TABLE_HEADER, as_plain, table_rows

    if as_json:
        print(json.dumps(as_plain(results)))
        return
    for key in ("model", "threshold"):
        if key in results:
            out.print(f"{key}: {results[key]}")
    for condition in CONDITIONS:
        out.print(f"\n{condition} (bootstrap 95% intervals)", markup=False)
        for row in [TABLE_HEADER, *table_rows(results[condition])]:  # type: ignore[arg-type]
            out.print(" | ".join(row), markup=False, soft_wrap=True)
    for reason in results.get("unscored", []):  # type: ignore[attr-defined]
        err.print(f"not scored: {reason}")


COMMANDS = [ai]
