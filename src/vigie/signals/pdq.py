"""PDQ perceptual hash, bit-compatible in layout with Meta's reference (pdqhashing/hasher/pdq_hasher.cpp).

The steps follow the reference: luma, two passes of a Jarosz box filter sized from the image, decimation
to 64x64, a 16x16 DCT (without the DC row/column), and bits set where a coefficient exceeds the median.
The eight dihedral variants (flips and rotations) come from sign changes and transposition of the DCT,
as in the reference, so a mirrored or rotated copy can be matched without re-decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

HASH_BITS = 256
HASH_HEX_LEN = 64
_GRID = 64

# Reference luma coefficients (pdq_hasher.cpp: luma_from_R_coeff ...).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# Rows 1..16 of the 64-point DCT-II basis: the reference drops the DC term.
_DCT = (
    np.sqrt(2.0 / _GRID)
    * np.cos(np.pi / 2 / _GRID * np.outer(np.arange(1, 17), 2 * np.arange(_GRID) + 1))
).astype(np.float64)

# Sign masks for mirroring in the DCT domain: coefficient u (1-based) changes sign when u is odd.
_ODD = (np.arange(1, 17) % 2 == 1)
_FLIP_COLS = np.where(_ODD[np.newaxis, :], -1.0, 1.0)
_FLIP_ROWS = np.where(_ODD[:, np.newaxis], -1.0, 1.0)

# Query variants for cropped copies: PDQ moves ~15 bits per 1% cropped from each side, so a copy with
# a thin border cut off is also hashed as if the border were back (edge pixels repeated outwards).
UNCROP_GUESSES = (0.015, 0.03)

DIHEDRAL_NAMES = (
    "original",
    "mirror-left-right",
    "mirror-top-bottom",
    "rotate-180",
    "transpose",
    "rotate-90-clockwise",
    "rotate-90-counterclockwise",
    "transverse",
)


VARIANT_NAMES = DIHEDRAL_NAMES + tuple(
    f"uncropped-{guess:.1%}+{name}" for guess in UNCROP_GUESSES for name in DIHEDRAL_NAMES
)


@dataclass(frozen=True)
class PdqResult:
    hash: str
    quality: int
    variants: tuple[str, ...]  # hex hashes in VARIANT_NAMES order; variants[0] == hash


def _jarosz_window(old_dimension: int) -> int:
    return (old_dimension + 2 * _GRID - 1) // (2 * _GRID)


def _box_filter(values: np.ndarray, window: int, axis: int) -> np.ndarray:
    """The reference's box1DFloat: a centred running mean that shrinks at the edges."""
    n = values.shape[axis]
    half = (window + 2) // 2
    cumulative = np.cumsum(values, axis=axis, dtype=np.float64)
    pad = [(0, 0)] * values.ndim
    pad[axis] = (1, 0)
    cumulative = np.pad(cumulative, pad)
    positions = np.arange(n)
    hi = np.minimum(n, positions + half)
    lo = np.maximum(0, positions - (window - half))
    counts = (hi - lo).astype(np.float64)
    if axis == 0:
        return (cumulative[hi] - cumulative[lo]) / counts[:, np.newaxis]
    return (cumulative[:, hi] - cumulative[:, lo]) / counts[np.newaxis, :]


def _luma(image: Image.Image) -> np.ndarray:
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    pixels = np.asarray(image, dtype=np.float32)
    if pixels.ndim == 2:
        return pixels
    return pixels @ _LUMA


def _downsample_64(luma: np.ndarray) -> np.ndarray:
    rows, cols = luma.shape
    row_window = _jarosz_window(cols)
    col_window = _jarosz_window(rows)
    filtered = luma
    for _ in range(2):
        filtered = _box_filter(filtered, row_window, axis=1)
        filtered = _box_filter(filtered, col_window, axis=0)
    row_index = (((np.arange(_GRID) + 0.5) * rows) / _GRID).astype(np.int64)
    col_index = (((np.arange(_GRID) + 0.5) * cols) / _GRID).astype(np.int64)
    return filtered[np.ix_(row_index, col_index)].astype(np.float32)


def _quality(grid: np.ndarray) -> int:
    vertical = np.trunc((grid[:-1, :] - grid[1:, :]) * np.float32(100) / np.float32(255))
    horizontal = np.trunc((grid[:, :-1] - grid[:, 1:]) * np.float32(100) / np.float32(255))
    gradient_sum = int(np.abs(vertical).sum() + np.abs(horizontal).sum())
    return min(100, gradient_sum // 90)


def _bits_to_hex(coefficients: np.ndarray) -> str:
    flat = coefficients.reshape(-1)
    median = np.partition(flat, 127)[127]  # the reference's Torben median: the lower middle value
    bits = flat > median
    # Bit k (k = row*16 + col) is bit k of the 256-bit number the reference prints as hex.
    return np.packbits(bits[::-1]).tobytes().hex()


def _dihedral_hashes(grid: np.ndarray) -> tuple[str, ...]:
    coefficients = _DCT @ grid.astype(np.float64) @ _DCT.T
    transposed = coefficients.T
    variants = (
        coefficients,
        coefficients * _FLIP_COLS,
        coefficients * _FLIP_ROWS,
        coefficients * _FLIP_COLS * _FLIP_ROWS,
        transposed,
        transposed * _FLIP_COLS,
        transposed * _FLIP_ROWS,
        transposed * _FLIP_COLS * _FLIP_ROWS,
    )
    return tuple(_bits_to_hex(v) for v in variants)


def _uncropped(luma: np.ndarray, guess: float) -> np.ndarray:
    rows, cols = luma.shape
    pad_rows, pad_cols = round(rows * guess / (1 - 2 * guess)), round(cols * guess / (1 - 2 * guess))
    return np.pad(luma, ((pad_rows, pad_rows), (pad_cols, pad_cols)), mode="edge")


def pdq_from_luma(luma: np.ndarray) -> PdqResult:
    grid = _downsample_64(luma)
    hashes = _dihedral_hashes(grid)
    for guess in UNCROP_GUESSES:
        hashes += _dihedral_hashes(_downsample_64(_uncropped(luma, guess)))
    return PdqResult(hash=hashes[0], quality=_quality(grid), variants=hashes)


def pdq_from_image(image: Image.Image) -> PdqResult:
    return pdq_from_luma(_luma(image))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
