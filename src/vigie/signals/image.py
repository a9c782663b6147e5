"""Image facts from decoded content: dimensions, an EXIF summary, the PDQ hash of the first picture and of
each later page or frame (multi-page TIFF, animated GIF/WebP/PNG, HEIF image collections, MPO)."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from vigie.signals.jpeg_planes import JpegPlanes, decode_planes
from vigie.signals.pdq import PdqResult, pdq_from_pixels
from vigie.signals.png_chunks import readable_png
from vigie.signals.registry import hamming
from vigie.sources.mediatype import frame_name

try:  # HEIC/HEIF through libheif; AVIF is native in Pillow >= 11.2
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a core dependency
    pass

# Our own pixel cap (Settings.max_image_pixels) is checked before decoding, with a clearer message; Pillow's is
# set to it while the picture is decoded (`analyse_image`): only Pillow sees the canvas a GIF frame grows, and
# the picture an icon holds beside the size it declares.
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
    picture: Image.Image | None = None  # the first picture, decoded once (decode_picture) for every later stage
    planes: JpegPlanes | None = None  # a JPEG's planes as stored, when decoded so (`planes`); picture is their Y
    opened: Image.Image | None = None  # then the opened file, for its header (its EXIF read once)


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


def _reduction(width: int, height: int, full_decode_pixels: int) -> int:
    """The power of two an image over `full_decode_pixels` is reduced by for PDQ."""
    factor = 1
    while width * height > full_decode_pixels * factor * factor:
        factor *= 2
    return factor


def stored_as_ycbcr(image: Image.Image) -> bool:
    """Whether libjpeg can hand over a 3-component JPEG's planes as they are stored: its own rule
    (jdapimin.c), since a JPEG stored as RGB cannot be decoded to YCbCr."""
    if image.info.get("jfif") is not None:
        return True
    if "adobe_transform" in image.info:
        return bool(image.info["adobe_transform"] != 0)
    return [layer[0] for layer in getattr(image, "layer", [])[:3]] != [82, 71, 66]  # component ids 'R', 'G', 'B'


def decode_picture(image: Image.Image, full_decode_pixels: int, colour: bool = True) -> Image.Image:
    """Decode the current picture once, for every stage that reads pixels: PDQ, watermarks, the detector, faces.

    A JPEG is decoded by libjpeg without colour conversion: to YCbCr when a stage needs colour, else its Y
    plane alone (no chroma decoded); over `full_decode_pixels` at reduced scale in the DCT domain, which
    bounds its memory. Other formats are decoded in their own mode at full size; PDQ reduces them after.
    """
    if image.format == "JPEG":
        factor = _reduction(*image.size, full_decode_pixels)
        wanted = ("YCbCr" if stored_as_ycbcr(image) else image.mode) if colour else "L"
        image.draft(wanted, (image.width // factor, image.height // factor))
    image.load()
    return image


def ycbcr_plane(picture: Image.Image, band: str) -> np.ndarray:
    """One plane ("Y", "Cb" or "Cr") of a YCbCr picture, packed once (getchannel copies it twice)."""
    return np.frombuffer(picture.tobytes("raw", band), np.uint8).reshape(picture.height, picture.width)


def luma_for_pdq(picture: Image.Image, full_decode_pixels: int) -> np.ndarray:
    """The luma plane PDQ hashes, from a picture decode_picture decoded.

    A JPEG's Y plane is the same 0.299/0.587/0.114 luma PDQ computes from RGB, and it is already at PDQ's
    scale. `benchmarks/bench_scan.py` measures the bits this costs against the reference.
    """
    if picture.mode == "YCbCr":
        return ycbcr_plane(picture, "Y")
    factor = 1 if picture.format == "JPEG" else _reduction(*picture.size, full_decode_pixels)
    if factor > 1:
        picture = picture.reduce(factor)
    if picture.mode in _WIDE_GREY_MODES:
        return _eight_bit(np.asarray(picture, dtype=np.float64), picture.mode)
    if picture.mode != "L":
        picture = picture.convert("L")
    return np.asarray(picture)


_WIDE_GREY_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def _eight_bit(values: np.ndarray, mode: str) -> np.ndarray:
    """Grey of 16 or 32 bits, or floating point, brought to 0-255 by its range: Pillow's conversion to "L"
    clips it, so a 16-bit copy of a known picture would hash as a white page."""
    if mode.startswith("I;16") or (mode == "I" and values.min() >= 0 and values.max() <= 65535):
        top = 65535.0
    elif mode == "F" and values.min() >= 0 and values.max() <= 1:
        top = 1.0
    else:  # another range: stretched from its own lowest to highest value
        values = values - values.min()
        top = float(values.max()) or 1.0
    return np.clip(np.rint(values * (255 / top)), 0, 255).astype(np.uint8)


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
        # TypeError: a page with no size (a TIFF's JPEG thumbnail); the warning: a canvas grown past the cap
        except (*_DECODE_ERRORS, TypeError, Image.DecompressionBombWarning) as exc:
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
            picture = decode_picture(image, pdq_full_decode_pixels, colour=False)
            frames.append((index, pdq_from_pixels(luma_for_pdq(picture, pdq_full_decode_pixels))))
        except (*_DECODE_ERRORS, MemoryError) as exc:
            notes.append(f"{name(index)} not decoded: {exc or type(exc).__name__}")
    return frames, notes



def analyse_image(data: bytes, max_pixels: int, pdq_full_decode_pixels: int, max_frames: int = 1,
                  media_type: str | None = None, colour: bool = False, planes: bool = False) -> ImageFacts:
    """Facts of the first picture, and PDQ of later pages or frames up to `max_frames` pictures in all.

    The first picture is decoded once and kept in the facts for later stages (`colour`: one of them reads
    colour); an image with more pictures keeps a copy, since reading the next one reuses the decoder's.
    With `planes` too (the stages that read colour read a JPEG's planes), a JPEG decoded at full size is
    decoded to its planes as stored where it can be (vigie.signals.jpeg_planes): the picture is their Y, the
    one a decode without colour gives, and the chroma is never upsampled."""
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
                    + ("; nor its later pages or frames, which may hold other pictures"
                       if getattr(image, "n_frames", 1) > 1 else "")
                )
            try:  # Pillow's own cap, from here on: a GIF frame placed far out grows the canvas as it is read (a
                # 19 KB file took 23 GB), and an icon's PNG may be far larger than the size its header declares
                Image.MAX_IMAGE_PIXELS = max_pixels
                exif = exif_summary(image)
                # asked before the decode: asking may seek the file
                more_pictures = max_frames > 1 and getattr(image, "is_animated", False)
                stored = jpeg_planes(image, readable.data, pdq_full_decode_pixels) if colour and planes else None
                if stored is not None:
                    picture = Image.fromarray(stored.y)
                    pdq = pdq_from_pixels(stored.y)
                else:
                    picture = decode_picture(image, pdq_full_decode_pixels, colour)
                    pdq = pdq_from_pixels(luma_for_pdq(picture, pdq_full_decode_pixels))
                if more_pictures:
                    picture = picture.copy()
                frames, frame_notes = _later_frames(image, max_pixels, pdq_full_decode_pixels, max_frames,
                                                    lambda index: frame_name(media_type, index))
            finally:
                Image.MAX_IMAGE_PIXELS = None
            notes = [("png-chunk", note) for note in readable.notes] + [("image-frames", n) for n in frame_notes]
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError("not a decodable image (unknown or corrupt header)") from exc
    except (*_DECODE_ERRORS, Image.DecompressionBombWarning) as exc:
        message = str(exc) or type(exc).__name__
        if "truncated" in message:
            message = f"truncated image: {message}"
        raise ImageError(f"corrupt image: {message}") from exc
    except MemoryError as exc:
        raise ImageError("image too large to decode in memory") from exc
    return ImageFacts(width=width, height=height, exif=exif, pdq=pdq, frames=frames,
                      notes=notes, data=readable.data, picture=picture, planes=stored,
                      opened=None if stored is None else image)


# Camera thumbnails follow their picture's luma at 0.91-1.00; another shot of the scene, or the picture
# before a crop, falls below. A pasted patch can keep the luma close: PDQ must agree too.
_SAME_PICTURE = 0.9
_THUMBNAIL_MAX_PIXELS = 1 << 18  # an EXIF thumbnail holds 64 KiB; more pixels would only slow the comparison
_COMPARED_MAX_PIXELS = 1 << 22  # a larger hidden picture (a C2PA thumbnail: 1024 pixels a side) is brought down
_BAR_LUMA = 24  # letterbox bars around a thumbnail of another shape are black


@dataclass(frozen=True)
class Thumbnail:
    """An EXIF thumbnail decoded once: its luma, and the picture inside its black bars (the same array when it
    has none)."""

    luma: np.ndarray
    inside: np.ndarray

    @property
    def framed(self) -> bool:
        return self.inside.shape != self.luma.shape

    @property
    def lumas(self) -> tuple[np.ndarray, ...]:
        """The thumbnail as it is, then the picture inside its bars where it has some."""
        return (self.luma, self.inside) if self.framed else (self.luma,)

    @cached_property
    def hashes(self) -> list[PdqResult]:
        """PDQ of each of `lumas`."""
        return [pdq_from_pixels(pixels.astype(np.uint8)) for pixels in self.lumas]


def read_thumbnail(data: bytes) -> Thumbnail | None:
    """A thumbnail's luma, brought down to `_THUMBNAIL_MAX_PIXELS` where it has more (a JPEG's in the DCT domain);
    None where it cannot be decoded, is tiny, or is too large for a thumbnail."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                pixels = opened.width * opened.height
                if pixels > _COMPARED_MAX_PIXELS:
                    return None
                if pixels > _THUMBNAIL_MAX_PIXELS:
                    scale = (_THUMBNAIL_MAX_PIXELS / pixels) ** 0.5
                    opened.thumbnail((max(8, int(opened.width * scale)), max(8, int(opened.height * scale))),
                                     Image.Resampling.BOX)
                luma = np.asarray(opened.convert("L"), dtype=np.float32)
    except (*_DECODE_ERRORS, UnidentifiedImageError, Image.DecompressionBombWarning):
        return None
    if min(luma.shape) < 8:
        return None
    inside = _without_bars(luma)
    return Thumbnail(luma, inside if min(inside.shape) >= 8 else luma)


def thumbnail_shows(thumbnail: Thumbnail, picture: Image.Image, picture_hashes: tuple[str, ...],
                    within: int) -> bool:
    """Whether a thumbnail shows `picture` (whose PDQ variants are `picture_hashes`): its luma, as it is or
    inside its bars, follows the picture's brought to its size, and its PDQ is `within` bits of the picture's."""
    if picture.mode not in ("L", "RGB", "YCbCr"):
        picture = picture.convert("RGB")
    alike = any(_correlation(luma, _resized_luma(picture, luma.shape)) >= _SAME_PICTURE for luma in thumbnail.lumas)
    return alike and (not picture_hashes or min(
        hamming(pdq.hash, variant) for pdq in thumbnail.hashes for variant in picture_hashes) <= within)


def _resized_luma(picture: Image.Image, shape: tuple[int, ...]) -> np.ndarray:
    resized = picture.resize((shape[1], shape[0]), Image.Resampling.BOX, reducing_gap=2.0)
    band = resized.getchannel(0) if resized.mode in ("L", "YCbCr") else resized.convert("L")
    return np.asarray(band, dtype=np.float32)


def _without_bars(luma: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(luma.max(axis=1) > _BAR_LUMA)
    columns = np.flatnonzero(luma.max(axis=0) > _BAR_LUMA)
    if rows.size == 0 or columns.size == 0:  # a dark picture: nothing is a bar
        return luma
    return luma[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]


def _correlation(first: np.ndarray, second: np.ndarray) -> float:
    first, second = first - first.mean(), second - second.mean()
    spread = float(np.sqrt((first * first).sum() * (second * second).sum()))
    if spread < 1e-6 * first.size:  # a flat picture: alike only if both are flat
        return 1.0 if max(np.abs(first).max(), np.abs(second).max()) < 2 else 0.0
    return float((first * second).sum()) / spread


def jpeg_planes(image: Image.Image, data: bytes, full_decode_pixels: int) -> JpegPlanes | None:
    """A JPEG's planes, where it is decoded at full size and they can be had (else None: Pillow decodes it)."""
    if image.format != "JPEG" or _reduction(*image.size, full_decode_pixels) > 1:
        return None
    return decode_planes(data)
