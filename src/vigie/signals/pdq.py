"""PDQ perceptual hash, bit-compatible in layout with Meta's reference (pdqhashing/hasher/pdq_hasher.cpp).

The steps follow the reference: luma, two passes of a Jarosz box filter sized from the image, decimation
to 64x64, a 16x16 DCT (without the DC row/column), and bits set where a coefficient exceeds the median.
The eight dihedral variants (flips and rotations) come from sign changes and transposition of the DCT,
as in the reference, so a mirrored or rotated copy can be matched without re-decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

_ROW_BLOCK = 256
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
# An item's stored query hashes: its picture's variants, then, where it has an EXIF thumbnail, the variants of
# the thumbnail's picture (black bars left out): a JPEG's thumbnail that shows the picture, so a listed picture
# closer to the thumbnail than to the file still matches; a thumbnail item's own picture inside its bars.
EXIF_THUMBNAIL = "exif-thumbnail"
QUERY_NAMES = VARIANT_NAMES + tuple(f"{EXIF_THUMBNAIL}+{name}" for name in VARIANT_NAMES)


@dataclass(frozen=True)
class PdqResult:
    hash: str
    quality: int
    variants: tuple[str, ...]  # hex hashes in VARIANT_NAMES order; variants[0] == hash


def _jarosz_window(old_dimension: int) -> int:
    return (old_dimension + 2 * _GRID - 1) // (2 * _GRID)


@lru_cache(maxsize=64)
def _operator(length: int, pad: int) -> np.ndarray:
    """The reference's filter-and-decimate along one axis as a (64, length) matrix.

    Two passes of box1DFloat (a centred running mean that shrinks at the edges) over the axis padded by
    `pad` repeated edge pixels, sampled at the 64 decimation points, folded back onto the real pixels.
    Being linear, the whole PDQ downsampling is then A_rows @ luma @ A_cols.T: two matrix products.
    """
    padded = length + 2 * pad
    window = _jarosz_window(padded)
    half = (window + 2) // 2
    positions = np.arange(padded)
    hi = np.minimum(padded, positions + half)
    lo = np.maximum(0, positions - (window - half))
    counts = (hi - lo).astype(np.float64)
    samples = (((np.arange(_GRID) + 0.5) * padded) / _GRID).astype(np.int64)
    operator = np.zeros((_GRID, padded))
    for row, sample in enumerate(samples):
        first = np.arange(lo[sample], hi[sample])  # one box: row `sample` of the filter
        weights = 1.0 / counts[sample] / counts[first]  # the second box, applied as the transpose of the filter
        # its reach only: the rest of the row is exactly zero, so _grids multiplies only the rows that reach
        # a block of pixels
        start, end = lo[first[0]], hi[first[-1]]
        spread = np.bincount(lo[first] - start, weights, minlength=end - start + 1) \
            - np.bincount(hi[first] - start, weights, minlength=end - start + 1)
        operator[row, start:end] = np.cumsum(spread)[: end - start]
    if pad:
        folded = operator[:, pad : pad + length].copy()
        folded[:, 0] += operator[:, :pad].sum(axis=1)
        folded[:, -1] += operator[:, pad + length :].sum(axis=1)
        operator = folded
    return operator.astype(np.float32)


def _pixels(image: Image.Image) -> np.ndarray:
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    return np.asarray(image)


def _grids(pixels: np.ndarray, guesses: tuple[float, ...]) -> np.ndarray:
    """64x64 grids of the image and of each un-cropped guess, from one pass over the pixels."""
    rows, cols = pixels.shape[:2]
    pads = [(0, 0)] + [(round(rows * g / (1 - 2 * g)), round(cols * g / (1 - 2 * g))) for g in guesses]
    row_ops = np.concatenate([_operator(rows, pr) for pr, _ in pads])
    flat = pixels.reshape(rows, -1)
    reduced = np.zeros((row_ops.shape[0], flat.shape[1]), dtype=np.float32)  # (64 * variants, cols * channels)
    for start in range(0, rows, _ROW_BLOCK):  # blocks keep the float copy small and in cache
        block = flat[start : start + _ROW_BLOCK].astype(np.float32)
        ops = row_ops[:, start : start + _ROW_BLOCK]
        reaching = np.flatnonzero(ops.any(axis=1))  # each grid row reads a band of about rows/64 pixel rows
        reduced[reaching] += ops[reaching] @ block
    luma = reduced.reshape(len(pads) * _GRID, cols, 3) @ _LUMA if pixels.ndim == 3 else reduced
    per_variant = luma.reshape(len(pads), _GRID, cols)
    return np.stack([per_variant[i] @ _operator(cols, pc).T for i, (_, pc) in enumerate(pads)])


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


def pdq_from_pixels(pixels: np.ndarray) -> PdqResult:
    """PDQ of an (h, w) luma or (h, w, 3) RGB uint8 array, with every query variant."""
    grids = _grids(pixels, UNCROP_GUESSES)
    hashes: tuple[str, ...] = ()
    for grid in grids:
        hashes += _dihedral_hashes(grid)
    return PdqResult(hash=hashes[0], quality=_quality(grids[0]), variants=hashes)


def pdq_from_image(image: Image.Image) -> PdqResult:
    return pdq_from_pixels(_pixels(image))

