"""Image facts from decoded content: dimensions, an EXIF summary, the PDQ hash of the first picture and of
each later page or frame (multi-page TIFF, animated GIF/WebP/PNG, HEIF image collections, MPO)."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from vigie.signals.pdq import PdqResult, pdq_from_pixels
from vigie.signals.png_chunks import readable_png
from vigie.sources.mediatype import frame_name

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
    frames: list[tuple[int, PdqResult]] = field(default_factory=list)  # (0-based index, PDQ) after the first
    notes: list[tuple[str, str]] = field(default_factory=list)  # (stage, what was left out or not hashed)
    data: bytes = b""  # the bytes decoded: the file, or a PNG without the ancillary chunks named in notes


def open_image(data: bytes) -> Image.Image:
    """Open image bytes as a browser would show them: a PNG's ancillary chunks that Pillow refuses (text
    bombs, bad checksums) are left out. For thumbnails and the console; analyse_image does the same and
    keeps the notes for the item."""
    return Image.open(io.BytesIO(readable_png(data).data))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip("\x00 ").strip()
    return text or None


def _gps_degrees(dms: Any, ref: Any, refs: str, limit: float) -> float | None:
    """EXIF degrees/minutes/seconds as signed decimal degrees; None where a value is missing or impossible."""
    try:
        degrees, minutes, seconds = (float(part) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(value) or abs(value) > limit:
        return None
    return -value if _text(ref) == refs[1] else value


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
        "gps_latitude": _gps_degrees(gps.get(2), gps.get(1), "NS", 90),
        "gps_longitude": _gps_degrees(gps.get(4), gps.get(3), "EW", 180),
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


_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


def _later_frames(image: Image.Image, max_pixels: int, pdq_full_decode_pixels: int, max_frames: int,
                  name: Callable[[int], str]) -> tuple[list[tuple[int, PdqResult]], list[str]]:
    """PDQ of pages/frames 2..max_frames, each checked against the pixel cap; what was not hashed is said."""
    frames: list[tuple[int, PdqResult]] = []
    notes: list[str] = []
    max_frames = max(1, max_frames)  # the first picture is always hashed
    for index in range(1, max_frames + 1):
        try:
            image.seek(index)
        except EOFError:
            return frames, notes
        except _DECODE_ERRORS as exc:
            notes.append(f"{name(index)} cannot be read: {exc or type(exc).__name__}; later ones were not hashed")
            return frames, notes
        if index == max_frames:
            notes.append(f"more than {max_frames} pages or frames: only the first {max_frames} were hashed "
                         "(setting max_image_frames)")
            return frames, notes
        width, height = image.size
        if width * height > max_pixels:
            notes.append(f"{name(index)} declares {width}x{height} pixels, over the cap of {max_pixels:,}; not decoded")
            continue
        try:
            frames.append((index, pdq_from_pixels(luma_for_pdq(image, pdq_full_decode_pixels))))
        except (*_DECODE_ERRORS, MemoryError) as exc:
            notes.append(f"{name(index)} not decoded: {exc or type(exc).__name__}")
    return frames, notes



def analyse_image(data: bytes, max_pixels: int, pdq_full_decode_pixels: int, max_frames: int = 1,
                  media_type: str | None = None) -> ImageFacts:
    """Facts of the first picture, and PDQ of later pages or frames up to `max_frames` pictures in all."""
    readable = readable_png(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(readable.data))
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
            frames, frame_notes = _later_frames(image, max_pixels, pdq_full_decode_pixels, max_frames,
                                                lambda index: frame_name(media_type, index))
            notes = [("png-chunk", note) for note in readable.notes] + [("image-frames", n) for n in frame_notes]
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError("not a decodable image (unknown or corrupt header)") from exc
    except _DECODE_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        if "truncated" in message:
            message = f"truncated image: {message}"
        raise ImageError(f"corrupt image: {message}") from exc
    except MemoryError as exc:
        raise ImageError("image too large to decode in memory") from exc
    return ImageFacts(width=width, height=height, exif=exif, pdq=pdq, frames=frames,
                      notes=notes, data=readable.data)
