"""The thumbnail a JPEG's EXIF keeps (IFD1): the picture as the camera wrote it, which an edit (a crop, a
retouch, a pasted face) often leaves behind, so it can show another picture than the file."""

from __future__ import annotations

import struct
from typing import NamedTuple

EXIF_THUMBNAIL_NAME = b"exif-thumbnail.jpg"  # the thumbnail's name on an item's path (its "member" name)


def names_before_a_zip_behind(media_type: str) -> tuple[bytes, ...]:
    """Names whose first occurrence on a file's path is not a member of a zip behind its content: a JPEG's
    thumbnail comes first, so such a member of that name is the second (the scan and reopen count so)."""
    return (EXIF_THUMBNAIL_NAME,) if media_type == "image/jpeg" else ()

_EXIF_HEADER = b"Exif\x00\x00"
_THUMBNAIL_OFFSET, _THUMBNAIL_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat, JPEGInterchangeFormatLength
_STRIP_OFFSETS = 0x0111  # an uncompressed thumbnail's pixels
_NUMBER_FORMATS = {3: "H", 4: "I", 9: "i"}  # SHORT, LONG, SLONG
_STANDALONE = frozenset(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI and TEM: markers without a length
_MAX_SEGMENTS = 10_000  # cameras write a dozen; a walk of millions of 4-byte segments would stall a scan


class ExifThumbnail(NamedTuple):
    """The thumbnail's bytes, or why a thumbnail the EXIF points to could not be read (both None: none kept)."""

    data: bytes | None
    problem: str | None


_NONE = ExifThumbnail(None, None)


def exif_thumbnail(jpeg: bytes) -> ExifThumbnail:
    """The JPEG thumbnail of the first EXIF segment of `jpeg` that holds one, read only inside its segment; else
    the first problem met."""
    segments, walked = _exif_segments(jpeg)
    problem = None if walked else f"EXIF thumbnail not looked for past {_MAX_SEGMENTS:,} header segments"
    for tiff in segments:
        try:
            found = _thumbnail_in(tiff)
        except struct.error:
            found = ExifThumbnail(None, "EXIF thumbnail not read: the EXIF segment is cut short")
        if found.data is not None:
            return found
        problem = problem or found.problem
    return ExifThumbnail(None, problem)


def _exif_segments(jpeg: bytes) -> tuple[list[bytes], bool]:
    """The TIFF structure of each APP1 Exif segment before the scan data, and whether the headers were walked
    to their end (a file of countless tiny segments is not). Bytes between segments are skipped up to the
    next marker, as libjpeg does."""
    found: list[bytes] = []
    if not jpeg.startswith(b"\xff\xd8"):
        return found, True
    position = 2
    for _ in range(_MAX_SEGMENTS):
        if position + 4 > len(jpeg):
            return found, True
        if jpeg[position] != 0xFF:
            position = jpeg.find(b"\xff", position)
            if position < 0:
                return found, True
            continue
        marker = jpeg[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        if marker == 0xDA:  # start of scan: the headers are over
            return found, True
        length = int.from_bytes(jpeg[position + 2:position + 4], "big")
        if length < 2:  # a length that cannot be: look for the next marker
            position += 4
            continue
        body = jpeg[position + 4:position + 2 + length]
        if marker == 0xE1 and body.startswith(_EXIF_HEADER):
            found.append(body[len(_EXIF_HEADER):])
        position += 2 + length
    return found, False


def _thumbnail_in(tiff: bytes) -> ExifThumbnail:
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or struct.unpack(order + "H", tiff[2:4])[0] != 42:
        return ExifThumbnail(None, "EXIF thumbnail not read: the EXIF segment's TIFF header is not valid")
    ifd0 = struct.unpack(order + "I", tiff[4:8])[0]
    count = struct.unpack(order + "H", tiff[ifd0:ifd0 + 2])[0]
    ifd1 = struct.unpack(order + "I", tiff[ifd0 + 2 + 12 * count:ifd0 + 6 + 12 * count])[0]
    if ifd1 == 0:
        return _NONE
    tags = _ifd_numbers(tiff, ifd1, order)
    if _THUMBNAIL_OFFSET not in tags and _THUMBNAIL_LENGTH not in tags:
        if _STRIP_OFFSETS in tags:
            return ExifThumbnail(None, "EXIF thumbnail not read: it is stored uncompressed, in TIFF strips")
        return _NONE
    offset, length = tags.get(_THUMBNAIL_OFFSET), tags.get(_THUMBNAIL_LENGTH)
    if offset is None or length is None or offset < 0 or length <= 0:
        return ExifThumbnail(None, f"EXIF thumbnail not read: IFD1 gives it the offset {offset} and the length "
                                   f"{length}")
    if offset + length > len(tiff):
        return ExifThumbnail(None, f"EXIF thumbnail not read: it is said to lie at {offset:,}+{length:,}, "
                                   f"beyond the EXIF segment's {len(tiff):,} bytes")
    data = tiff[offset:offset + length]
    if not data.startswith(b"\xff\xd8"):
        return ExifThumbnail(None, "EXIF thumbnail not read: the bytes it points to are not a JPEG")
    return ExifThumbnail(data, None)


def _ifd_numbers(tiff: bytes, offset: int, order: str) -> dict[int, int | None]:
    """The values of one IFD's entries that hold a single SHORT, LONG or SLONG, by tag (None: another form)."""
    count = struct.unpack(order + "H", tiff[offset:offset + 2])[0]
    numbers: dict[int, int | None] = {}
    for index in range(count):
        start = offset + 2 + 12 * index
        tag, kind, values = struct.unpack(order + "HHI", tiff[start:start + 8])
        number_format = _NUMBER_FORMATS.get(kind)
        if values != 1 or number_format is None:
            numbers[tag] = None
            continue
        numbers[tag] = struct.unpack_from(order + number_format, tiff, start + 8)[0]
    return numbers
