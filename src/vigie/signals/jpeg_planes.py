"""A JPEG's planes as stored, from one decode: Y at full size, Cb and Cr at their own sampling.

libjpeg-turbo's TurboJPEG API decodes them without upsampling the chroma or converting colour: the Y plane is
the one a decode to Pillow's "L" gives (PDQ hashes it), and the chroma is what the watermark readers want and
what the detector's crops are upsampled from (vigie.detector.colour), where a full-size decode to YCbCr cost
more than the rest of the AI stage together.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

# TurboJPEG's subsampling codes (TJSAMP_444, TJSAMP_422, TJSAMP_420) and the chroma's factors across and down;
# other samplings are decoded by Pillow as before.
_SAMPLING = {0: (1, 1), 1: (2, 1), 2: (2, 2)}
_YCBCR = 1  # TJCS_YCbCr: a JPEG stored as RGB or CMYK has no such planes


@dataclass(frozen=True)
class JpegPlanes:
    y: np.ndarray  # (height, width) uint8
    cb: np.ndarray  # (ceil(height / v), ceil(width / h)) uint8, as stored
    cr: np.ndarray
    h: int  # the chroma's subsampling across (1 or 2)
    v: int  # and down

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as Pillow gives an image's."""
        return self.y.shape[1], self.y.shape[0]


@lru_cache(maxsize=1)
def _turbojpeg() -> Any:
    """TurboJPEG on the system's libturbojpeg (Debian's libturbojpeg0); None where either is missing."""
    try:
        from turbojpeg import TurboJPEG

        return TurboJPEG()
    except (ImportError, OSError, RuntimeError):
        return None


def planes_available() -> bool:
    """Whether JPEGs can be decoded to their planes here (else every stage reads Pillow's decode)."""
    return _turbojpeg() is not None


def decode_planes(data: bytes) -> JpegPlanes | None:
    """The planes of a baseline or progressive YCbCr JPEG subsampled 4:4:4, 4:2:2 or 4:2:0; None for other
    JPEGs, where TurboJPEG is not installed, or where libjpeg-turbo reports anything, even a warning (the
    caller then decodes with Pillow, which says what is wrong)."""
    turbo = _turbojpeg()
    if turbo is None:
        return None
    with warnings.catch_warnings():
        # PyTurboJPEG reports libjpeg-turbo's warnings (a damaged stream, whose rest it fills) as UserWarning
        warnings.simplefilter("error", UserWarning)
        try:
            width, height, sampling, colourspace = turbo.decode_header(data)
            if sampling not in _SAMPLING or colourspace != _YCBCR:
                return None
            y, cb, cr = turbo.decode_to_yuv_planes(data)
        except (OSError, ValueError, UserWarning):
            return None
    h, v = _SAMPLING[sampling]
    # TurboJPEG pads each plane to whole chroma samples; the chroma's own size is what libjpeg upsamples from
    return JpegPlanes(y[:height, :width], cb[: -(-height // v), : -(-width // h)],
                      cr[: -(-height // v), : -(-width // h)], h, v)
