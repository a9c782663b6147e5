"""Images for human eyes: blurred (greyscale by default) thumbnails, and the bounded re-encoded copy of one
item a reviewer asked to see. Evidence bytes never go to a browser as they are."""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageFilter, ImageOps

from vigie.config import Settings
from vigie.signals.image import ImageError, open_image
from vigie.sources.reopen import read_item_bytes

THUMB_SIZE = 160
REVEAL_SIZE = 1600
# The most pixels decoded for one picture shown in the console, after JPEG's reduced decoding (draft): RGBA at
# this size is 256 MB. Larger pictures are refused with a message, so a small PNG of 100 MP cannot take the
# server's memory; a JPEG of any size decodes at 1/2 to 1/8 scale and is shown.
DECODE_PIXELS = 64_000_000
DEFAULT_BLUR = 0.06
MIN_BLUR = 0.03  # the weakest blur a user may choose still hides detail at thumbnail size


def blur_image(image: Image.Image, size: int = THUMB_SIZE, blur_fraction: float = DEFAULT_BLUR,
               greyscale: bool = True) -> bytes:
    """A small JPEG blurred enough that no detail can be recognised."""
    small = ImageOps.grayscale(image) if greyscale else image.convert("RGB")
    small.thumbnail((size, size))
    radius = max(2.0, max(MIN_BLUR, blur_fraction) * max(small.size))
    out = io.BytesIO()
    small.filter(ImageFilter.GaussianBlur(radius)).save(out, "JPEG", quality=70)
    return out.getvalue()


def _open_bounded(data: bytes, max_pixels: int) -> Image.Image:
    image = open_image(data)
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(f"image declares {width}x{height} pixels, over the cap of {max_pixels:,}")
    return image


def _decode_reduced(image: Image.Image, mode: str, size: int, decode_pixels: int) -> None:
    """Set the image to decode at the smallest scale that still gives `size` (JPEG), and refuse it before
    any decoding when that still holds more than `decode_pixels`."""
    width, height = image.size
    image.draft(mode, (size, size))
    if image.width * image.height > decode_pixels:
        raise ImageError(f"image of {width}x{height} pixels is too large to show: the console decodes at most "
                         f"{decode_pixels:,} pixels per picture")


def blurred_thumbnail(data: bytes, size: int = THUMB_SIZE, blur_fraction: float = DEFAULT_BLUR,
                      greyscale: bool = True, max_pixels: int = 200_000_000,
                      decode_pixels: int = DECODE_PIXELS) -> bytes:
    try:
        with _open_bounded(data, max_pixels) as image:
            _decode_reduced(image, "L" if greyscale else "RGB", size * 2, decode_pixels)
            image.thumbnail((size, size))  # shrink before any conversion copies the pixels
            return blur_image(image, size, blur_fraction, greyscale)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(str(exc) or type(exc).__name__) from exc


def revealed_copy(data: bytes, max_pixels: int, size: int = REVEAL_SIZE, decode_pixels: int = DECODE_PIXELS) -> bytes:
    """A clear JPEG re-encoded from the evidence: bounded in size, with no metadata, so the browser never
    parses the original file."""
    try:
        with _open_bounded(data, max_pixels) as image:
            _decode_reduced(image, "RGB", size, decode_pixels)
            image.thumbnail((size, size))  # shrink before the turn and the conversion copy the pixels
            clear = ImageOps.exif_transpose(image).convert("RGB")
            out = io.BytesIO()
            clear.save(out, "JPEG", quality=88)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(str(exc) or type(exc).__name__) from exc


def report_thumbnails(items: list[tuple[int, str, str, str | None]], settings: Settings, limit: int = 500
                      ) -> dict[int, bytes]:
    """item id -> JPEG bytes, for (id, source root, relpath, SHA-256 as scanned) of image items; unreadable ones,
    and ones whose bytes are no longer those scanned (a file replaced since), are left out."""
    thumbs: dict[int, bytes] = {}
    for item_id, root, relpath, sha256 in items[:limit]:
        data = read_item_bytes(root, relpath, settings, settings.max_image_bytes)
        if data is None or hashlib.sha256(data).hexdigest() != sha256:
            continue
        try:
            thumbs[item_id] = blurred_thumbnail(data)
        except ImageError:
            continue
    return thumbs
