"""A small CNN on NPR's neighbouring-pixel residual (Tan et al., CVPR 2024): `x - up(down(x))` with nearest
down- and upsampling by 2. A generator's upsampling leaves its trace in how the four pixels of each 2x2 block
relate, whatever the picture shows; the residual keeps that and drops most of the content.

`CnnCandidate` trains it from scratch on the grid crops the runtime scores (9 crops of 64 pixels per image), from
equalised views of a corpus: for each fit of `vigie ai lofo`, and once for the shipped model (`detector/corpus.py`).
The aligned taef2 pairs (`vigie ai train`'s crops) may join every fit, and the previous model's high-pass network
may stand in for it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image
from torch import nn

from vigie.detector.lofo import BatchScorer
from vigie.detector.runtime import CROP, GRID, image_crops
from vigie.detector.training import SmallDetector, train_model


class NprResidual(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up = nn.functional.interpolate(x[:, :, ::2, ::2], scale_factor=2.0, mode="nearest")
        return (x - up) * 10  # residuals are a few hundredths of the [0, 1] range


class MultiScaleResidual(nn.Module):
    """NPR's residual at three scales and interpolations, stacked as 9 channels: nearest by 2 (`NprResidual`),
    bilinear by 2 (a 2x2 mean, then bilinear upsampling: a decoder's smooth upsampling rather than a copy), and
    nearest by 4 (two upsampling steps of a decoder seen at once)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nearest_2 = nn.functional.interpolate(x[:, :, ::2, ::2], scale_factor=2.0, mode="nearest")
        bilinear_2 = nn.functional.interpolate(nn.functional.avg_pool2d(x, 2), scale_factor=2.0, mode="bilinear",
                                               align_corners=False)
        nearest_4 = nn.functional.interpolate(x[:, :, ::4, ::4], scale_factor=4.0, mode="nearest")
        return torch.cat([x - nearest_2, x - bilinear_2, x - nearest_4], dim=1) * 10


class NprDetector(nn.Module):
    """About 15k parameters, strided from the first layer, so that it trains on a CPU core in seconds per
    epoch and scores 9 crops in a few milliseconds; `multi_scale` feeds it `MultiScaleResidual`'s 9 channels."""

    def __init__(self, multi_scale: bool = False) -> None:
        super().__init__()

        def block(n_in: int, n_out: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(n_in, n_out, 3, stride, 1), nn.BatchNorm2d(n_out), nn.ReLU())

        residual, channels = (MultiScaleResidual(), 9) if multi_scale else (NprResidual(), 3)
        self.features = nn.Sequential(
            residual, block(channels, 8, 2), block(8, 16, 2), block(16, 32, 2), block(32, 32, 1),
        )
        self.head = nn.Linear(32, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.features(x).mean(dim=(2, 3)))
        return logits


def crop_logits(model: nn.Module, crops: np.ndarray) -> np.ndarray:
    """Mean logit of each image's crops: `crops` is (images, GRID * GRID, 3, CROP, CROP) uint8."""
    flat = torch.from_numpy(crops.reshape(-1, 3, CROP, CROP)).float() / 255
    with torch.no_grad():
        logits = torch.cat([model(flat[start : start + 1024]) for start in range(0, len(flat), 1024)])
    return logits.reshape(len(crops), -1).mean(dim=1).double().numpy()


NETWORKS: dict[str, Callable[[], nn.Module]] = {
    "npr-cnn": NprDetector, "npr-multi": lambda: NprDetector(multi_scale=True), "highpass-cnn": SmallDetector,
}


class CnnCandidate:
    """`pairs`: labelled crops (n, 3, CROP, CROP) uint8 and 0/1 labels, added to every fit: up to as many as the
    fit's own crops, so neither source outweighs the other."""

    def __init__(self, network: str, epochs: int, train_crops: int, seed: int,
                 pairs: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.network, self.epochs, self.train_crops, self.seed, self.pairs = network, epochs, train_crops, seed, pairs
        self.name = network + ("+pairs" if pairs is not None else "")

    def represent(self, image: Image.Image) -> np.ndarray | None:
        crops = image_crops(image)
        return None if crops is None else np.round(crops * 255).astype(np.uint8)  # a quarter of the memory

    def fit(self, x: np.ndarray, y: np.ndarray) -> BatchScorer:
        model = self.train(x, y)
        return lambda crops: crop_logits(model, crops)

    def train(self, x: np.ndarray, y: np.ndarray, log: Callable[[str], None] = lambda _: None) -> nn.Module:
        """The network trained from scratch on the views' crops (`x`: views, GRID * GRID crops each) and pairs."""
        crops, labels = x.reshape(-1, 3, CROP, CROP), np.repeat(y, GRID * GRID).astype(np.float32)
        if len(crops) > self.train_crops:
            chosen = np.sort(np.random.default_rng(self.seed).choice(len(crops), self.train_crops, replace=False))
            crops, labels = crops[chosen], labels[chosen]
        if self.pairs is not None:
            pair_crops, pair_labels = self.pairs
            if len(pair_crops) > len(crops):
                rng = np.random.default_rng(self.seed + 1)
                chosen = np.sort(rng.choice(len(pair_crops), len(crops), replace=False))
                pair_crops, pair_labels = pair_crops[chosen], pair_labels[chosen]
            crops, labels = np.concatenate([crops, pair_crops]), np.concatenate([labels, pair_labels])
        model, _ = train_model(crops, labels, self.epochs, self.seed, log, NETWORKS[self.network])
        return model
