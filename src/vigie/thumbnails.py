"""Blurred greyscale thumbnails, made only when a report asks for them."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter, ImageOps

from vigie.config import Settings
from vigie.signals.image import ImageError
from vigie.sources.reopen import read_item_bytes

THUMB_SIZE = 160


def blur_image(image: Image.Image, size: int = THUMB_SIZE, blur_fraction: float = 0.06) -> bytes:
    """A small greyscale JPEG blurred enough that no detail can be recognised."""
    grey = ImageOps.grayscale(image)
    grey.thumbnail((size, size))
    blurred = grey.filter(ImageFilter.GaussianBlur(max(2.0, blur_fraction * max(grey.size))))
    out = io.BytesIO()
    blurred.save(out, "JPEG", quality=70)
    return out.getvalue()


def blurred_thumbnail(data: bytes, size: int = THUMB_SIZE) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("L", (size * 2, size * 2))
            return blur_image(image, size)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(str(exc)) from exc


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
