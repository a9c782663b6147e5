"""libjpeg's YCbCr to RGB conversion, bit for bit (jdcolor.c, 16-bit fixed point), and its chroma upsampling.

A JPEG decoded once to YCbCr, or to its planes as stored, gives its crops the very RGB a decode to RGB would
have: the detector was calibrated on those, and Pillow's own conversion differs from libjpeg's by one level on
about half the values.
"""

from __future__ import annotations

import numpy as np

_BITS = 16
_HALF = 1 << (_BITS - 1)
_CENTRED = np.arange(256, dtype=np.int64) - 128


def _fixed(x: float) -> int:
    return int(x * (1 << _BITS) + 0.5)


_CR_R = ((_fixed(1.40200) * _CENTRED + _HALF) >> _BITS).astype(np.int16)
_CB_B = ((_fixed(1.77200) * _CENTRED + _HALF) >> _BITS).astype(np.int16)
# G's offset by (Cb, Cr), summed before the shift as libjpeg sums it; a table keeps the arithmetic in 16 bits
_CB_CR_G = ((-_fixed(0.34414) * _CENTRED[:, None] + _HALF - _fixed(0.71414) * _CENTRED[None, :]) >> _BITS
            ).astype(np.int16)


def rgb_from_ycbcr(ycbcr: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 YCbCr as libjpeg converts it to (..., 3) uint8 RGB."""
    y = ycbcr[..., 0].astype(np.int16)
    cb, cr = ycbcr[..., 1], ycbcr[..., 2]
    rgb = np.empty(ycbcr.shape, np.uint8)
    for band, offset in enumerate((_CR_R[cr], _CB_CR_G[cb, cr], _CB_B[cb])):
        offset += y
        rgb[..., band] = np.clip(offset, 0, 255, out=offset)
    return rgb


def ycbcr_crops(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, h: int, v: int, corners: list[tuple[int, int]],
                size: int) -> np.ndarray:
    """(n, size, size, 3) uint8 YCbCr crops at the (x, y) `corners`, from a JPEG's planes as stored (chroma
    subsampled by `h` across and `v` down, 1 or 2), with the chroma upsampled as libjpeg's "fancy" upsampling
    does (jdsample.c h2v1/h2v2_fancy_upsample): the crops of a full-size decode, bit for bit."""
    crops = np.empty((len(corners), size, size, 3), np.uint8)
    for index, (left, top) in enumerate(corners):
        crops[index, ..., 0] = y[top : top + size, left : left + size]
    lefts, tops = (np.array(axis) for axis in zip(*corners, strict=True))
    for band, plane in ((1, cb), (2, cr)):
        upsampled, row_offsets, col_offsets = _fancy_upsampled(plane, tops, lefts, size, h, v)
        for index, (row, col) in enumerate(zip(row_offsets, col_offsets, strict=True)):
            crops[index, ..., band] = upsampled[index, row : row + size, col : col + size]
    return crops


def _fancy_upsampled(plane: np.ndarray, tops: np.ndarray, lefts: np.ndarray, size: int, h: int,
                     v: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored chroma around each crop, upsampled, and where each crop starts in it.

    Down, each output row is 3/4 of its stored row and 1/4 of the nearer neighbour; across, the same on those
    sums, then rounded: with biases 8 and 7 and a shift of 4 after both (h2v2), 1 and 2 and a shift of 2
    across alone (h2v1). Neighbours past an edge are the edge sample again, as libjpeg's special cases for the
    first and last column, and its context rows, give."""
    def window(firsts: np.ndarray, count: int, length: int) -> np.ndarray:
        return np.clip(firsts[:, None] + np.arange(count), 0, length - 1)

    if h == 1:  # 4:4:4: nothing to upsample
        rows, cols = window(tops, size, plane.shape[0]), window(lefts, size, plane.shape[1])
        return plane[rows[:, :, None], cols[:, None, :]], np.zeros_like(tops), np.zeros_like(lefts)
    # the stored samples under each crop, with a neighbour on each side along a subsampled axis
    rows = window(tops // 2 - 1, size // 2 + 3, plane.shape[0]) if v == 2 else window(tops, size, plane.shape[0])
    cols = window(lefts // 2 - 1, size // 2 + 3, plane.shape[1])
    stored = plane[rows[:, :, None], cols[:, None, :]].astype(np.int32)
    if v == 2:
        centre = 3 * stored[:, 1:-1]
        sums = np.empty((len(stored), 2 * centre.shape[1], centre.shape[2]), np.int32)
        sums[:, 0::2] = centre + stored[:, :-2]  # an upper row: the row above is nearer
        sums[:, 1::2] = centre + stored[:, 2:]
    else:
        sums = stored
    (even, odd), shift = ((8, 7), 4) if v == 2 else ((1, 2), 2)
    centre = 3 * sums[..., 1:-1]
    upsampled = np.empty((*sums.shape[:2], 2 * centre.shape[2]), np.uint8)
    upsampled[..., 0::2] = (centre + sums[..., :-2] + even) >> shift  # a left column: the one before is nearer
    upsampled[..., 1::2] = (centre + sums[..., 2:] + odd) >> shift
    return upsampled, tops % 2 if v == 2 else np.zeros_like(tops), lefts % 2
