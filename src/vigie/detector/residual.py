"""A cheap candidate detector meant to transfer across generators: pooled statistics of pixel residuals
(NPR's neighbouring-pixel residual `x - up(down(x))`, fixed high-pass filters, the residual's radial spectrum,
cross-channel residual correlation) on equalised images, scored by a logistic head in numpy.

Equalising (random crop, resize to 50-100%, JPEG at a random quality, metadata gone with the decode) is the
same for both classes, so file format, picture size and EXIF cannot become the answer."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDE = 256  # features are pooled over a centre square at most this wide (cost stays bounded)
RADIAL_BINS = 8

HIGH_PASS = {
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "horizontal": np.array([[0, 0, 0], [1, -2, 1], [0, 0, 0]], dtype=np.float64),
    "vertical": np.array([[0, 1, 0], [0, -2, 0], [0, 1, 0]], dtype=np.float64),
    "diagonal": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], dtype=np.float64),
    "mean3": np.full((3, 3), -1 / 9) + np.pad([[1.0]], 1),
}


def equalise(image: Image.Image, rng: random.Random) -> Image.Image:
    """A random crop (60-100% a side), a resize to 50-100%, JPEG q70-95: the same for both classes."""
    rgb = image.convert("RGB")
    share = rng.uniform(0.6, 1.0)
    width, height = max(1, round(rgb.width * share)), max(1, round(rgb.height * share))
    left, top = rng.randint(0, rgb.width - width), rng.randint(0, rgb.height - height)
    scale = rng.uniform(0.5, 1.0)
    cropped = rgb.crop((left, top, left + width, top + height))
    small = cropped.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=rng.randint(70, 95))
    return Image.open(buffer).convert("RGB")


def _filter(gray: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'valid' 3x3 correlation by shifted sums (no SciPy)."""
    height, width = gray.shape
    result = np.zeros((height - 2, width - 2))
    for dy in range(3):
        for dx in range(3):
            if kernel[dy, dx]:
                result += kernel[dy, dx] * gray[dy : dy + height - 2, dx : dx + width - 2]
    return result


def _stats(residual: np.ndarray) -> list[float]:
    """Scale, tail weight and share of flat pixels of one residual."""
    magnitude = np.abs(residual)
    variance = residual.var() + 1e-6
    return [float(np.log(magnitude.mean() + 1e-3)), float(np.log((residual**4).mean() / variance**2 + 1e-6)),
            float((magnitude < 0.5).mean())]


def _radial_spectrum(residual: np.ndarray) -> list[float]:
    """Shares of the residual's power in RADIAL_BINS frequency rings, and the peak at the Nyquist rows/columns
    against its neighbours (upsampling leaves periodic traces there)."""
    power = np.abs(np.fft.fftshift(np.fft.fft2(residual - residual.mean()))) ** 2
    height, width = power.shape
    fy, fx = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    radius = np.minimum(np.sqrt(fx**2 + fy**2), 0.999)
    rings = np.bincount((radius * RADIAL_BINS).astype(int).ravel(), power.ravel(), RADIAL_BINS)
    shares = np.log(rings / (rings.sum() + 1e-9) + 1e-9)
    edge = np.concatenate([power[0, :], power[:, 0]]).mean()
    inner = np.concatenate([power[2, :], power[:, 2]]).mean()
    half = np.concatenate([power[height // 4, :], power[:, width // 4]]).mean()
    return [*map(float, shares), float(np.log((edge + 1e-9) / (inner + 1e-9))),
            float(np.log((half + 1e-9) / (power.mean() + 1e-9)))]


def features(image: Image.Image) -> np.ndarray | None:
    """The feature vector of one (already equalised or travelled) image; None under 32 pixels a side."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
    height, width = rgb.shape[:2]
    if min(height, width) < 32:
        return None
    side = min(SIDE, height, width) // 2 * 2
    top, left = (height - side) // 2, (width - side) // 2
    rgb = rgb[top : top + side, left : left + side]
    gray = rgb @ np.array([0.299, 0.587, 0.114])
    values: list[float] = []
    # NPR: nearest down/up by 2 leaves a residual that is zero on one phase; its other three phases differ
    # in strength when the picture was itself made by upsampling
    npr = gray - np.repeat(np.repeat(gray[::2, ::2], 2, axis=0), 2, axis=1)
    base = np.abs(npr).mean() + 1e-3
    values += _stats(npr)
    values += [float(np.log((np.abs(npr[a::2, b::2]).mean() + 1e-3) / base)) for a, b in ((0, 1), (1, 0), (1, 1))]
    for kernel in HIGH_PASS.values():
        values += _stats(_filter(gray, kernel))
    laplacian = _filter(gray, HIGH_PASS["laplacian"])
    values += _radial_spectrum(laplacian)
    channels = [_filter(rgb[..., c], HIGH_PASS["laplacian"]).ravel() for c in range(3)]
    values += [float(np.corrcoef(channels[a], channels[b])[0, 1]) if channels[a].std() and channels[b].std()
               else 0.0 for a, b in ((0, 1), (1, 2), (0, 2))]
    return np.nan_to_num(np.array(values, dtype=np.float64))


@dataclass(frozen=True)
class LogisticHead:
    """Standardised features, a weight per feature and a bias: logit = ((x - mean) / scale) . weights + bias."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.scale) @ self.weights + self.bias)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 25) -> LogisticHead:
    """L2-regularised logistic regression by Newton steps, classes weighted equally (the corpus is unbalanced)."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    weight = np.where(y > 0.5, 0.5 / max(1, int(y.sum())), 0.5 / max(1, int((1 - y).sum())))
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    theta = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(z @ theta, -30, 30)))
        gradient = z.T @ (weight * (p - y)) + penalty * theta
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        theta -= np.linalg.solve(hessian, gradient)
    return LogisticHead(mean, scale, theta[:-1], float(theta[-1]))
