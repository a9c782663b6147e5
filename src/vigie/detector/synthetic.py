"""Aligned training pairs: a tile of a real photo, and the same tile passed through a generator-like
process (the tiny autoencoder; random upsampling stacks like generators' decoders; an autoencoded patch
blended into the real tile, as inpainting does). Both members of a pair get identical augmentation, so a
model cannot learn the file format or the processing instead of the generator."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

TILE = 256
CROP = 64
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


def list_images(folders: list[Path]) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def photo_tiles(path: Path, per_photo: int, rng: random.Random) -> list[np.ndarray]:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    height, width = rgb.shape[:2]
    if height < TILE or width < TILE:
        return []
    count = max(1, min(per_photo, (height * width) // (TILE * TILE * 2)))
    tiles = []
    for _ in range(count):
        y, x = rng.randrange(0, height - TILE + 1), rng.randrange(0, width - TILE + 1)
        tiles.append(rgb[y : y + TILE, x : x + TILE].copy())
    return tiles


def upsampling_stack(tile: np.ndarray, rng: random.Random) -> np.ndarray:
    """Downscale, then upsample by 2 repeatedly, each step followed by a random small smoothing kernel."""
    factor = rng.choice([2, 4])
    image = Image.fromarray(tile).reduce(factor)
    while image.width < TILE:
        method = rng.choice([Image.Resampling.NEAREST, Image.Resampling.BILINEAR])
        image = image.resize((image.width * 2, image.height * 2), method)
        weights = np.array([rng.uniform(0.2, 1.0) for _ in range(9)])
        image = image.filter(ImageFilter.Kernel((3, 3), (weights / weights.sum()).tolist(), 1))
    return np.asarray(image)[:TILE, :TILE]


def partial_reconstruction(tile: np.ndarray, reconstructed: np.ndarray, rng: random.Random) -> np.ndarray:
    """The autoencoded tile blended into the real one inside a feathered ellipse around the centre."""
    mask = Image.new("L", (TILE, TILE), 0)
    radius = rng.randint(70, 110)
    from PIL import ImageDraw

    ImageDraw.Draw(mask).ellipse((128 - radius, 128 - radius, 128 + radius, 128 + radius), fill=255)
    alpha = np.asarray(mask.filter(ImageFilter.GaussianBlur(8)), dtype=np.float32)[..., None] / 255
    return (reconstructed * alpha + tile * (1 - alpha)).astype(np.uint8)


def augment_pair(real: np.ndarray, fake: np.ndarray, rng: random.Random, centre: bool) -> tuple[np.ndarray, ...]:
    """The same crop, rescale, blur and JPEG quality for both members of a pair."""
    scale = rng.uniform(0.6, 1.0)
    size = min(TILE, round(CROP / scale))
    if centre:
        y = x = (TILE - size) // 2 + rng.randint(-8, 8)
    else:
        y, x = rng.randrange(0, TILE - size + 1), rng.randrange(0, TILE - size + 1)
    blur = rng.choice([0.0, 0.0, 0.0, 0.5, 1.0])
    quality = rng.choice(range(70, 101, 5)) if rng.random() < 0.5 else None
    out = []
    for tile in (real, fake):
        image = Image.fromarray(tile[y : y + size, x : x + size])
        if size != CROP:
            image = image.resize((CROP, CROP), Image.Resampling.BICUBIC)
        if blur:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        if quality:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality)
            image = Image.open(buffer).convert("RGB")
        out.append(np.asarray(image))
    return tuple(out)
