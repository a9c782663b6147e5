"""A JPEG's EXIF thumbnail, once the picture is decoded: whether it shows the picture (then its hashes are the
file's too), or is an item of its own (another picture, or one that cannot be compared)."""

from __future__ import annotations

import io
from typing import NamedTuple

from PIL import Image

from vigie.config import Settings
from vigie.records import ItemRecord
from vigie.signals.budget import FileTimeout, file_budget
from vigie.signals.image import read_thumbnail, thumbnail_shows
from vigie.signals.pdq import pdq_from_image
from vigie.sources.exif_thumbnail import EXIF_THUMBNAIL_NAME, ExifThumbnail, exif_thumbnail


class HeldThumbnail(NamedTuple):
    """An EXIF thumbnail to read as an item of its own."""

    data: bytes
    inside_variants: tuple[str, ...]  # PDQ variants of the picture inside its black bars, if it has some


def thumbnail_to_read(record: ItemRecord, data: bytes, picture: Image.Image | None, picture_hashes: tuple[str, ...],
                      settings: Settings) -> HeldThumbnail | None:
    """A JPEG's EXIF thumbnail to read as an item, unless it shows `picture` (PDQ variants `picture_hashes`):
    where it shows another picture (the picture before a crop or an edit, another shot), where it cannot be
    compared, or where the picture could not be decoded (None), a known picture may be there alone."""
    if record.media_type != "image/jpeg":
        return None
    return _decided(record, exif_thumbnail(data), picture, picture_hashes, settings)


def _decided(record: ItemRecord, found: ExifThumbnail, picture: Image.Image | None, picture_hashes: tuple[str, ...],
             settings: Settings) -> HeldThumbnail | None:
    if found.problem is not None:
        record.add_error("exif-thumbnail", found.problem)
    if found.data is None:
        return None
    thumbnail = read_thumbnail(found.data)
    if thumbnail is None:
        note = UNCOMPARED_THUMBNAIL_NOTE
    elif picture is None:
        note = UNDECODED_PICTURE_NOTE
    elif thumbnail_shows(thumbnail, picture, picture_hashes, settings.pdq_threshold):
        if record.pdq is not None:  # a listed picture nearer the thumbnail than the picture still matches
            record.pdq_variants += thumbnail.hashes[-1].variants
        return None
    else:
        note = THUMBNAIL_NOTE
    record.add_error("exif-thumbnail", f"{note}: read as an item of its own, this file's path followed by "
                                       f"!/{EXIF_THUMBNAIL_NAME.decode()}")
    inside = thumbnail.hashes[-1].variants if thumbnail is not None and thumbnail.framed else ()
    return HeldThumbnail(found.data, inside)


THUMBNAIL_NOTE = "its EXIF thumbnail shows another picture (the picture before a crop or an edit, or another shot)"
UNDECODED_PICTURE_NOTE = "its picture could not be decoded, and its EXIF thumbnail may show it"
UNCOMPARED_THUMBNAIL_NOTE = ("its EXIF thumbnail could not be compared with its picture (not a JPEG Vigie can "
                             "decode, or larger than a thumbnail)")


def copy_thumbnail_to_read(record: ItemRecord, data: bytes | None, settings: Settings) -> HeldThumbnail | None:
    """A copy's EXIF thumbnail, which is an item at the copy's own path: its picture is not decoded again, but
    glimpsed at a reduced scale in the DCT domain, enough to compare with a thumbnail."""
    if data is None or record.media_type != "image/jpeg" or (found := exif_thumbnail(data)) == (None, None):
        return None
    try:
        with file_budget(settings.file_seconds, record.relpath):
            picture = _glimpse(data, settings.max_image_pixels)
            hashes = () if picture is None else pdq_from_image(picture).variants
            return _decided(record, found, picture, hashes, settings)
    except FileTimeout as exc:
        record.add_error("timeout", str(exc))
        return None


_GLIMPSE_SIDE = 320  # twice a camera thumbnail's


def _glimpse(jpeg: bytes, max_pixels: int) -> Image.Image | None:
    """A JPEG's luma reduced by up to 8 in the DCT domain, keeping `_GLIMPSE_SIDE` pixels a side where it has
    them; None where a scan could not decode it."""
    try:
        image = Image.open(io.BytesIO(jpeg))
        if image.width * image.height > max_pixels:
            return None
        image.draft("L", (min(image.width, _GLIMPSE_SIDE), min(image.height, _GLIMPSE_SIDE)))
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, ZeroDivisionError, Image.DecompressionBombError):
        return None
    return image
