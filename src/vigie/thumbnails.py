"""Images for human eyes: blurred (greyscale by default) thumbnails, and the bounded re-encoded copy of one
item a reviewer asked to see. Evidence bytes never go to a browser as they are."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter, ImageOps

from vigie.config import Settings
from vigie.signals.image import ImageError, open_image
from vigie.sources.reopen import read_item_bytes

THUMB_SIZE = 160
REVEAL_SIZE = 1600
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


def blurred_thumbnail(data: bytes, size: int = THUMB_SIZE, blur_fraction: float = DEFAULT_BLUR,
                      greyscale: bool = True, max_pixels: int = 200_000_000) -> bytes:
    try:
        with _open_bounded(data, max_pixels) as image:
            image.draft("L" if greyscale else "RGB", (size * 2, size * 2))
            return blur_image(image, size, blur_fraction, greyscale)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(str(exc) or type(exc).__name__) from exc


def revealed_copy(data: bytes, max_pixels: int, size: int = REVEAL_SIZE) -> bytes:
    """A clear JPEG re-encoded from the evidence: bounded in size, with no metadata, so the browser never
    parses the original file."""
    try:
        with _open_bounded(data, max_pixels) as image:
            image.draft("RGB", (size, size))
            clear = ImageOps.exif_transpose(image).convert("RGB")
            clear.thumbnail((size, size))
            out = io.BytesIO()
            clear.save(out, "JPEG", quality=88)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(str(exc) or type(exc).__name__) from exc


def report_thumbnails(items: list[tuple[int, str, str]], settings: Settings, limit: int = 500) -> dict[int, bytes]:
    """item id -> JPEG bytes, for (id, source root, relpath) of image items; unreadable ones are left out."""
    thumbs: dict[int, bytes] = {}
    for item_id, root, relpath in items[:limit]:
        data = read_item_bytes(root, relpath, settings, settings.max_image_bytes)
        if data is None:
            continue
        try:
            thumbs[item_id] = blurred_thumbnail(data)
        except ImageError:
            continue
    return thumbs
