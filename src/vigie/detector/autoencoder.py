"""The tiny latent-diffusion autoencoder (madebyollin/taesd layout, FLUX.2 variant "taef2", MIT), used
to make aligned synthetic copies of real photos: the same picture, through a generator's decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


def _conv(n_in: int, n_out: int, **kwargs: object) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)  # type: ignore[arg-type]


class _Clamp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class _Block(nn.Module):
    def __init__(self, n_in: int, n_out: int, midblock_norm: bool = False) -> None:
        super().__init__()
        self.conv = nn.Sequential(_conv(n_in, n_out), nn.ReLU(), _conv(n_out, n_out), nn.ReLU(), _conv(n_out, n_out))
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()
        self.pool = None
        if midblock_norm:
            self.pool = nn.Sequential(nn.Conv2d(n_in, n_in * 4, 1, bias=False), nn.GroupNorm(4, n_in * 4), nn.ReLU(),
                                      nn.Conv2d(n_in * 4, n_in, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        fused: torch.Tensor = self.fuse(self.conv(x) + self.skip(x))
        return fused


def encoder(latent: int = 32) -> nn.Sequential:
    return nn.Sequential(
        _conv(3, 64), _Block(64, 64),
        _conv(64, 64, stride=2, bias=False), _Block(64, 64), _Block(64, 64), _Block(64, 64),
        _conv(64, 64, stride=2, bias=False), _Block(64, 64), _Block(64, 64), _Block(64, 64),
        _conv(64, 64, stride=2, bias=False), _Block(64, 64, True), _Block(64, 64, True), _Block(64, 64, True),
        _conv(64, latent),
    )


def decoder(latent: int = 32) -> nn.Sequential:
    return nn.Sequential(
        _Clamp(), _conv(latent, 64), nn.ReLU(),
        _Block(64, 64, True), _Block(64, 64, True), _Block(64, 64, True), nn.Upsample(scale_factor=2),
        _conv(64, 64, bias=False),
        _Block(64, 64), _Block(64, 64), _Block(64, 64), nn.Upsample(scale_factor=2), _conv(64, 64, bias=False),
        _Block(64, 64), _Block(64, 64), _Block(64, 64), nn.Upsample(scale_factor=2), _conv(64, 64, bias=False),
        _Block(64, 64), _conv(64, 3),
    )


class TinyAutoencoder:
    def __init__(self, encoder_path: Path, decoder_path: Path) -> None:
        self.encoder, self.decoder = encoder(), decoder()
        self.encoder.load_state_dict(torch.load(encoder_path, map_location="cpu", weights_only=True))
        self.decoder.load_state_dict(torch.load(decoder_path, map_location="cpu", weights_only=True))
        self.encoder.eval()
        self.decoder.eval()

    @torch.no_grad()
    def reconstruct(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 (h, w, 3) -> its reconstruction, cropped to a multiple of 8."""
        height, width = rgb.shape[0] // 8 * 8, rgb.shape[1] // 8 * 8
        x = torch.from_numpy(rgb[:height, :width].copy()).permute(2, 0, 1)[None].float() / 255
        y = self.decoder(self.encoder(x)).clamp(0, 1)
        pixels: np.ndarray = (y[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        return pixels
