"""Training the detector (`vigie ai train`): aligned pairs, a small CNN from scratch, ONNX export, and
a threshold calibrated for at most 1% false positives on camera photos kept out of training."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from vigie.detector.autoencoder import TinyAutoencoder
from vigie.detector.runtime import CROP, DetectorError, image_crops
from vigie.detector.synthetic import (
    TILE,
    augment_pair,
    list_images,
    partial_reconstruction,
    photo_tiles,
    upsampling_stack,
)


class HighPass(nn.Module):
    """A fixed residual filter (pixel minus its 3x3 mean), as forensic CNNs start: it hides the picture's
    content and leaves the traces a generator's decoder leaves. Without it the network did not learn."""

    def __init__(self) -> None:
        super().__init__()
        kernel = -torch.ones(3, 3) / 9
        kernel[1, 1] += 1
        self.register_buffer("kernel", kernel.expand(3, 1, 3, 3).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel: torch.Tensor = self.kernel  # type: ignore[assignment]
        return nn.functional.conv2d(x, kernel, padding=1, groups=3) * 10


class SmallDetector(nn.Module):
    """About 100k parameters, trained from scratch on 64-pixel crops."""

    def __init__(self) -> None:
        super().__init__()

        def block(n_in: int, n_out: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(n_in, n_out, 3, stride, 1), nn.BatchNorm2d(n_out), nn.ReLU())

        self.features = nn.Sequential(
            HighPass(), block(3, 16, 1), block(16, 32, 2), block(32, 64, 2), block(64, 64, 1), block(64, 96, 2),
        )
        self.head = nn.Linear(96, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.features(x).mean(dim=(2, 3)))
        return logits


_autoencoder: TinyAutoencoder | None = None


def _init_worker(encoder: str, decoder: str) -> None:
    global _autoencoder
    torch.set_num_threads(1)
    _autoencoder = TinyAutoencoder(Path(encoder), Path(decoder))


def _make_tiles(job: tuple[str, int, int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(real, autoencoded, upsampling stack, partial) tiles of one photo."""
    path, per_photo, seed = job
    assert _autoencoder is not None
    rng = random.Random(seed)
    out = []
    for tile in photo_tiles(Path(path), per_photo, rng):
        reconstructed = _autoencoder.reconstruct(tile)
        out.append((tile, reconstructed, upsampling_stack(tile, rng), partial_reconstruction(tile, reconstructed, rng)))
    return out


def build_pairs(photos: list[Path], autoencoder: tuple[Path, Path], per_photo: int, pairs_per_tile: int,
                workers: int, seed: int, log: Callable[[str], None]) -> tuple[np.ndarray, np.ndarray]:
    jobs = [(str(p), per_photo, seed + i) for i, p in enumerate(photos)]
    tiles = []
    started = time.monotonic()
    encoder, decoder = autoencoder
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(str(encoder), str(decoder))) as pool:
        for index, result in enumerate(pool.map(_make_tiles, jobs)):
            tiles.extend(result)
            if index % 20 == 0:
                log(f"  autoencoded tiles of {index + 1}/{len(jobs)} photos ({time.monotonic() - started:.0f} s)")
    rng = random.Random(seed)
    crops, labels = [], []
    for real, auto, stack, partial in tiles:
        for _ in range(pairs_per_tile):
            roll = rng.random()
            fake, centre = (auto, False) if roll < 0.6 else (stack, False) if roll < 0.85 else (partial, True)
            a, b = augment_pair(real, fake, rng, centre)
            crops += [a, b]
            labels += [0.0, 1.0]
    x = np.stack(crops).transpose(0, 3, 1, 2)
    return x, np.array(labels, dtype=np.float32)


def train_model(
    x: np.ndarray, y: np.ndarray, epochs: int, seed: int, log: Callable[[str], None],
    network: Callable[[], nn.Module] = SmallDetector,
) -> tuple[nn.Module, float]:
    """`network` from scratch on uint8 crops (n, 3, CROP, CROP) with 0/1 labels; (model, last epoch's loss)."""
    torch.manual_seed(seed)
    model = network()
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    size = max(1, min(128, len(x)))  # a set smaller than a batch still trains
    steps = epochs * (len(x) // size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=max(1, steps))
    loss_fn = nn.BCEWithLogitsLoss()
    generator = np.random.default_rng(seed)
    loss_value = float("nan")
    model.train()
    for epoch in range(epochs):
        order = generator.permutation(len(x))
        losses = []
        for start in range(0, len(order) - size + 1, size):
            batch = order[start : start + size]
            inputs = torch.from_numpy(x[batch]).float() / 255
            if generator.random() < 0.5:
                inputs = inputs.flip(3)
            logits = model(inputs).squeeze(1)
            loss = loss_fn(logits, torch.from_numpy(y[batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
        loss_value = float(np.mean(losses))
        log(f"  epoch {epoch + 1}/{epochs}: loss {loss_value:.4f}")
    model.eval()
    return model, loss_value


def export_onnx(model: nn.Module, path: Path) -> None:
    torch.onnx.export(model, (torch.zeros(1, 3, CROP, CROP),), str(path), input_names=["crops"],
                      output_names=["logits"], dynamic_axes={"crops": {0: "n"}, "logits": {0: "n"}}, dynamo=False)


def score_images(model: nn.Module, images: list[Image.Image]) -> np.ndarray:
    scores = []
    with torch.no_grad():
        for image in images:
            crops = image_crops(image)
            if crops is not None:
                scores.append(float(model(torch.from_numpy(crops)).mean()))
    return np.array(scores)


def _photo_scores(model: nn.Module, photos: list[Path]) -> np.ndarray:
    images = []
    for path in photos:
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    return np.sort(score_images(model, images))


def calibrate(model: nn.Module, held_out_real: list[Path], train_real: list[Path],
              max_fpr: float = 0.01) -> tuple[float, int]:
    """The lowest threshold with at most `max_fpr` of the held-out camera photos, as they are, above it,
    and never below the score of a photo the model was trained on as real.

    With fewer than 100 held-out photos that means above every one of them (a share of perturbed copies
    would let originals through: it did, 2 of 56). A training photo above it means the model never learnt
    that kind of image (it happened with a film scan), so the threshold rises over it too.
    """
    held_out = _photo_scores(model, held_out_real)
    allowed = int(np.floor(max_fpr * len(held_out)))
    threshold = max(float(held_out[len(held_out) - 1 - allowed]), float(_photo_scores(model, train_real)[-1]))
    return threshold + 1e-3, len(held_out)


def split_photos(photos: list[Path], held_out_share: float, always_held_out: str, seed: int) -> tuple[list[Path], ...]:
    rng = random.Random(seed)
    held = [p for p in photos if always_held_out and always_held_out in p.parts]
    rest = [p for p in photos if p not in held]
    rng.shuffle(rest)
    cut = round(len(rest) * held_out_share)
    return sorted(rest[cut:]), sorted(held + rest[:cut])


def write_model(model: nn.Module, output: Path, info: dict[str, object]) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model, output.with_suffix(".onnx"))
    output.with_suffix(".json").write_text(json.dumps(info, indent=1) + "\n")


def unaligned_crops(images: list[Path], per_image: int, seed: int) -> np.ndarray:
    """Crops of generated images a user adds, with the pairs' augmentation (there is no real twin)."""
    rng = random.Random(seed)
    crops = []
    for path in images:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
        if min(rgb.shape[:2]) < TILE:
            continue
        for _ in range(per_image):
            y, x = rng.randrange(0, rgb.shape[0] - TILE + 1), rng.randrange(0, rgb.shape[1] - TILE + 1)
            tile = rgb[y : y + TILE, x : x + TILE]
            crops.append(augment_pair(tile, tile, rng, False)[1])
    return np.stack(crops).transpose(0, 3, 1, 2) if crops else np.zeros((0, 3, CROP, CROP), dtype=np.uint8)


def autoencoder_files(folder: Path) -> tuple[Path, Path]:
    encoder, decoder = folder / "taef2_encoder.pth", folder / "taef2_decoder.pth"
    if not (encoder.exists() and decoder.exists()):
        raise DetectorError(f"{folder} must hold taef2_encoder.pth and taef2_decoder.pth (the tiny autoencoder's "
                            "weights)", exit_code=2)
    return encoder, decoder


@dataclass(frozen=True)
class TrainedModel:
    threshold: float
    info: dict[str, object]  # written beside the model as PATH.json


def train_detector(real: list[Path], generated: list[Path], autoencoder: Path, hold_out: str, held_out_share: float,
                   tiles_per_photo: int, pairs_per_tile: int, epochs: int, seed: int, workers: int, output: Path,
                   command: str, log: Callable[[str], None], name: str = "", version: str = "1") -> TrainedModel:
    """Train from scratch on aligned pairs, calibrate for <= 1% false positives, write PATH.onnx and PATH.json."""
    torch.set_num_threads(workers)
    started = time.monotonic()
    photos = list_images(real)
    train_photos, held_out = split_photos(photos, held_out_share, hold_out, seed)
    log(f"{len(photos)} photos: {len(train_photos)} train, {len(held_out)} held out")
    x, y = build_pairs(train_photos, autoencoder_files(autoencoder), tiles_per_photo, pairs_per_tile, workers, seed,
                       log)
    if generated:
        extra = unaligned_crops(list_images(generated), pairs_per_tile, seed)
        x, y = np.concatenate([x, extra]), np.concatenate([y, np.ones(len(extra), dtype=np.float32)])
    log(f"{len(y)} crops ({int(y.sum())} generated), training")
    model, loss = train_model(x, y, epochs, seed, log)
    threshold, calibration_images = calibrate(model, held_out, train_photos)
    info: dict[str, object] = {
        "name": name or output.name, "version": version,
        "threshold": round(threshold, 4),
        "crop": CROP, "grid": 3,
        "command": command,
        "train_photos": len(train_photos), "held_out_photos": [p.name for p in held_out],
        "calibration_images": calibration_images, "training_crops": len(y), "final_loss": round(loss, 4),
        "epochs": epochs, "seed": seed, "minutes": round((time.monotonic() - started) / 60, 1),
    }
    write_model(model, output, info)
    return TrainedModel(threshold, info)


def synthesize_tiles(real: list[Path], autoencoder: Path, held_out_of: Path | None, tiles_per_photo: int, seed: int,
                     output: Path) -> tuple[int, int]:
    """Aligned 256-px tiles in OUTPUT/real, OUTPUT/autoencoded and OUTPUT/upsampled; (tiles, photos).
    `held_out_of`: a model's .json, to use only the photos it held out of training."""
    photos = list_images(real)
    if held_out_of:
        keep = set(json.loads(held_out_of.read_text())["held_out_photos"])
        photos = [p for p in photos if p.name in keep]
    for name in ("real", "autoencoded", "upsampled"):
        (output / name).mkdir(parents=True, exist_ok=True)
    _init_worker(*map(str, autoencoder_files(autoencoder)))
    count = 0
    for index, photo in enumerate(photos):
        for tile_index, tiles in enumerate(_make_tiles((str(photo), tiles_per_photo, seed + index))):
            stem = f"{photo.stem}-{tile_index}.png"
            for name, tile in zip(("real", "autoencoded", "upsampled"), tiles[:3], strict=True):
                Image.fromarray(tile).save(output / name / stem)
            count += 1
    return count, len(photos)
