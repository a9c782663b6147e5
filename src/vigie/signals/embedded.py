"""Pictures a picture's metadata hides (its EXIF thumbnail, Photoshop's, Google's in its XMP, a raw's
previews: vigie.sources.hidden_pictures), once the picture is decoded: whether each shows the picture (then an
EXIF thumbnail's hashes are the file's too), or is an item of its own (another picture, or one that cannot be
compared)."""

from __future__ import annotations

import io
from typing import NamedTuple

from PIL import Image

from vigie.config import Settings
from vigie.records import ItemRecord
from vigie.signals.budget import FileTimeout, file_budget
from vigie.signals.image import read_thumbnail, thumbnail_shows
from vigie.signals.pdq import pdq_from_image
from vigie.sources.exif_thumbnail import EXIF_THUMBNAIL_NAMES
from vigie.sources.hidden_pictures import Hidden, hidden_pictures
from vigie.sources.jpeg_segments import Segments


class HeldPicture(NamedTuple):
    """A hidden picture to read as an item of its own."""

    name: bytes  # its member name
    what: str  # what notes call it
    data: bytes
    inside_variants: tuple[str, ...]  # PDQ variants of an EXIF thumbnail's picture inside its black bars


def hidden_stage(name: bytes) -> str:
    """The stage a hidden picture's notes are recorded against."""
    return "exif-thumbnail" if name in EXIF_THUMBNAIL_NAMES else "hidden-picture"


def pictures_to_read(record: ItemRecord, data: bytes, picture: Image.Image | None, picture_hashes: tuple[str, ...],
                     settings: Settings, segments: Segments | None = None) -> tuple[HeldPicture, ...]:
    """The pictures a picture's metadata hides to read as items, each unless it shows `picture` (PDQ variants
    `picture_hashes`): where one shows another picture (the picture before a crop or an edit, another shot),
    where it cannot be compared, or where the picture could not be decoded (None), a known picture may be there
    alone. `segments`: a JPEG's header segments, walked already."""
    found = hidden_pictures(data, record.media_type or "", segments)
    return tuple(held for hidden in found if (held := _decided(record, hidden, picture, picture_hashes, settings)))


def _decided(record: ItemRecord, found: Hidden, picture: Image.Image | None, picture_hashes: tuple[str, ...],
             settings: Settings) -> HeldPicture | None:
    stage = hidden_stage(found.name)
    if found.problem is not None:
        record.add_error(stage, found.problem)
    if found.data is None:
        return None
    thumbnail = read_thumbnail(found.data)
    if thumbnail is None:
        note = _uncompared_note(found.what)
    elif picture is None:
        note = f"its picture could not be decoded, and its {found.what} may show it"
    elif thumbnail_shows(thumbnail, picture, picture_hashes, settings.pdq_threshold):
        if stage != "exif-thumbnail":
            return None
        # a listed picture nearer the thumbnail than the picture still matches (the variants name it so); and
        # the thumbnail is an item, without a note, for lists of exact hashes (a listed file may be the thumbnail)
        if record.pdq is not None:
            record.pdq_variants += thumbnail.hashes[-1].variants
        return HeldPicture(found.name, found.what, found.data, ())
    else:
        note = f"its {found.what} shows another picture (the picture before a crop or an edit, or another shot)"
    record.add_error(stage, f"{note}: read as an item of its own, this file's path followed by "
                            f"!/{found.name.decode()}")
    framed = thumbnail is not None and thumbnail.framed and stage == "exif-thumbnail"
    inside = thumbnail.hashes[-1].variants if thumbnail is not None and framed else ()
    return HeldPicture(found.name, found.what, found.data, inside)


def _uncompared_note(what: str) -> str:
    return (f"its {what} could not be compared with its picture (not a picture Vigie can decode, or larger than "
            "a thumbnail)")


def copy_pictures_to_read(record: ItemRecord, data: bytes | None, settings: Settings,
                          segments: Segments | None = None) -> tuple[HeldPicture, ...]:
    """A copy's hidden pictures, which are items at the copy's own path: its picture is not decoded again, but
    glimpsed at a reduced scale in the DCT domain, enough to compare with a thumbnail."""
    if data is None or not (found := hidden_pictures(data, record.media_type or "", segments)):
        return ()
    try:
        with file_budget(settings.file_seconds, record.relpath):
            picture = _glimpse(data, settings.max_image_pixels)
            hashes = () if picture is None else pdq_from_image(picture).variants
            return tuple(held for hidden in found if (held := _decided(record, hidden, picture, hashes, settings)))
    except FileTimeout as exc:
        record.add_error("timeout", str(exc))
        return ()


_GLIMPSE_SIDE = 320  # twice a camera thumbnail's


def _glimpse(data: bytes, max_pixels: int) -> Image.Image | None:
    """A picture's luma, a JPEG's reduced by up to 8 in the DCT domain, keeping `_GLIMPSE_SIDE` pixels a side
    where it has them; None where a scan could not decode it."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > max_pixels:
            return None
        image.draft("L", (min(image.width, _GLIMPSE_SIDE), min(image.height, _GLIMPSE_SIDE)))
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, ZeroDivisionError, Image.DecompressionBombError):
        return None
    return image
