"""Image facts from decoded content: dimensions, an EXIF summary and the PDQ hash."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from vigie.signals.pdq import PdqResult, pdq_from_pixels

try:  # HEIC/HEIF through libheif; AVIF is native in Pillow >= 11.2
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a core dependency
    pass

# Our own pixel cap (Settings.max_image_pixels) is checked before decoding, with a clearer message.
Image.MAX_IMAGE_PIXELS = None

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825


class ImageError(Exception):
    """An image that cannot be decoded safely; the message says why."""


@dataclass
class ImageFacts:
    width: int
    height: int
    exif: dict[str, Any] = field(default_factory=dict)
    pdq: PdqResult | None = None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip("\x00 ").strip()
    return text or None


def exif_summary(image: Image.Image) -> dict[str, Any]:
    exif = image.getexif()
    if not exif:
        return {}
    sub = exif.get_ifd(_EXIF_IFD)
    gps = exif.get_ifd(_GPS_IFD)
    summary = {
        "make": _text(exif.get(ExifTags.Base.Make)),
        "model": _text(exif.get(ExifTags.Base.Model)),
        "software": _text(exif.get(ExifTags.Base.Software)),
        "capture_time": _text(sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)),
        "gps_present": bool(gps),
    }
    return {key: value for key, value in summary.items() if value is not None}


def luma_for_pdq(image: Image.Image, full_decode_pixels: int) -> np.ndarray:
    """The luma plane PDQ hashes, decoded as cheaply as compatibility allows.

    JPEGs are decoded straight to their Y plane (no colour conversion or chroma upsampling): JPEG's Y is
    the same 0.299/0.587/0.114 luma PDQ computes from RGB. Images over `full_decode_pixels` are decoded
    at reduced scale (JPEG: in the DCT domain). `benchmarks/bench_scan.py` measures the bits this costs.
    """
    width, height = image.size
    factor = 1
    while width * height > full_decode_pixels * factor * factor:
        factor *= 2
    if image.format == "JPEG":
        image.draft("L", (width // factor, height // factor))
    elif factor > 1:
        image = image.reduce(factor)
    if image.mode != "L":
        image = image.convert("L")
    return np.asarray(image)


def analyse_image(data: bytes, max_pixels: int, pdq_full_decode_pixels: int) -> ImageFacts:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width <= 0 or height <= 0:
                raise ImageError(f"image declares an empty size {width}x{height}")
            if width * height > max_pixels:
                raise ImageError(
                    f"image declares {width}x{height} = {width * height:,} pixels, over the cap of "
                    f"{max_pixels:,} (possible decompression bomb); not decoded"
                )
            exif = exif_summary(image)
            pdq = pdq_from_pixels(luma_for_pdq(image, pdq_full_decode_pixels))
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError("not a decodable image (unknown or corrupt header)") from exc
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        message = str(exc) or type(exc).__name__
        if "truncated" in message:
            message = f"truncated image: {message}"
        raise ImageError(f"corrupt image: {message}") from exc
    except MemoryError as exc:
        raise ImageError("image too large to decode in memory") from exc
    return ImageFacts(width=width, height=height, exif=exif, pdq=pdq)
