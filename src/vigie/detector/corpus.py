"""Training the detector on a corpus manifest (`vigie ai train --manifest`): the recipe `vigie ai lofo` validates
for its CNN candidates, fitted once on every generator family. Each image's equalised views (crop, resize, JPEG;
the same for both classes) give the grid crops the runtime scores, and the aligned taef2 pairs of the --real
photos join them. The corpus's photos of one source fold never train: they calibrate, with the --real photos
held out, and the model's JSON names every corpus photo it trained on, so `vigie ai calibrate` leaves them out."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from vigie.detector.calibration import TRAINED_CORPUS_PHOTOS
from vigie.detector.evaluation import read_manifest
from vigie.detector.lofo import extract, photo_folds, stacked_views
from vigie.detector.npr import CnnCandidate
from vigie.detector.runtime import CROP, GRID, DetectorError
from vigie.detector.synthetic import list_images
from vigie.detector.training import (
    TrainedModel,
    autoencoder_files,
    build_pairs,
    calibrate,
    split_photos,
    write_model,
)


def train_on_corpus(manifest: Path, real: list[Path], autoencoder: Path | None, hold_out: str, held_out_share: float,
                    network: str, views: int, epochs: int, train_crops: int, tiles_per_photo: int,
                    pairs_per_tile: int, folds: int, held_fold: int, seed: int, workers: int, output: Path,
                    command: str, log: Callable[[str], None], name: str = "", version: str = "1") -> TrainedModel:
    torch.set_num_threads(workers)
    started = time.monotonic()
    samples = read_manifest(manifest)
    fold_of = photo_folds(samples, folds)
    if len(set(fold_of.values())) < folds or held_fold >= folds:
        raise DetectorError(f"holding out photo fold {held_fold} of {folds} needs photos from at least {folds} "
                            f"sources (repositories or folders) and a fold number under {folds}; the corpus has "
                            f"{len(fold_of)} sources", exit_code=2)
    trained = [s for s in samples if s.generated or fold_of[s.source] != held_fold]
    corpus_held = [s.path for s in samples if not s.generated and fold_of[s.source] == held_fold]
    photos = list_images(real)
    train_photos, held_out = split_photos(photos, held_out_share, hold_out, seed)
    log(f"{len(trained)} corpus images train ({sum(s.generated for s in trained)} generated), {len(corpus_held)} "
        f"corpus photos held out (fold {held_fold}); {len(train_photos)} photos give aligned pairs, {len(held_out)} "
        "held out")
    pairs = None
    if autoencoder is not None and train_photos:
        pairs = build_pairs(train_photos, autoencoder_files(autoencoder), tiles_per_photo, pairs_per_tile, workers,
                            seed, log)
    candidate = CnnCandidate(network, epochs, train_crops, seed, pairs)
    features = extract(trained, candidate, views, seed, log, conditions=())
    x, y = stacked_views(trained, features, range(len(trained)))
    log(f"{len(x) * GRID * GRID} crops of {CROP} px from {len(x)} views, and up to as many of "
        f"{0 if pairs is None else len(pairs[1])} crops of aligned pairs: training")
    model = candidate.train(x, y, log)
    threshold, calibration_images = calibrate(model, held_out + corpus_held,
                                              train_photos + [s.path for s in trained if not s.generated])
    info: dict[str, object] = {
        "name": name or output.name, "version": version,
        "threshold": round(threshold, 4),
        "crop": CROP, "grid": GRID,
        "command": command,
        "network": network, "views": views, "epochs": epochs, "train_crops": train_crops, "seed": seed,
        "train_photos": len(train_photos), "held_out_photos": [p.name for p in held_out],
        "photo_folds": fold_of, "held_out_fold": held_fold,
        TRAINED_CORPUS_PHOTOS: sorted(str(s.path.relative_to(manifest.parent)) for s in trained if not s.generated),
        "calibration_images": calibration_images, "unread": features.unscored,
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    write_model(model, output, info)
    return TrainedModel(threshold, info)
