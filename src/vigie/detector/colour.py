"""libjpeg's YCbCr to RGB conversion, bit for bit (jdcolor.c, 16-bit fixed point).

A JPEG decoded once to YCbCr gives its crops the very RGB a decode to RGB would have: the detector was
calibrated on those, and Pillow's own conversion differs from libjpeg's by one level on about half the values.
"""

from __future__ import annotations

import numpy as np

_BITS = 16
_HALF = 1 << (_BITS - 1)
_CENTRED = np.arange(256, dtype=np.int64) - 128


def _fixed(x: float) -> int:
    return int(x * (1 << _BITS) + 0.5)


_CR_R = (_fixed(1.40200) * _CENTRED + _HALF) >> _BITS
_CB_B = (_fixed(1.77200) * _CENTRED + _HALF) >> _BITS
_CR_G = -_fixed(0.71414) * _CENTRED
_CB_G = -_fixed(0.34414) * _CENTRED + _HALF


def rgb_from_ycbcr(ycbcr: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 YCbCr as libjpeg converts it to (..., 3) uint8 RGB."""
    y = ycbcr[..., 0].astype(np.int64)
    cb, cr = ycbcr[..., 1], ycbcr[..., 2]
    rgb = np.stack([y + _CR_R[cr], y + ((_CB_G[cb] + _CR_G[cr]) >> _BITS), y + _CB_B[cb]], axis=-1)
    converted: np.ndarray = np.clip(rgb, 0, 255).astype(np.uint8)
    return converted
