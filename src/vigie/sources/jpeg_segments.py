"""A JPEG's header segments, walked as libjpeg walks them: where its metadata (EXIF, XMP, Photoshop's resources)
and the pictures that metadata hides are read from."""

from __future__ import annotations

from typing import NamedTuple

APP1, APP2, APP11, APP13 = 0xE1, 0xE2, 0xEB, 0xED
COM = 0xFE
HEADER_MARKERS = frozenset({*range(0xE0, 0xF0), COM})  # APP0 to APP15 and comments: those metadata lies in
_STANDALONE = frozenset(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI and TEM: markers without a length
MAX_SEGMENTS = 10_000  # cameras write a dozen; a walk of millions of 4-byte segments would stall a scan


class Segments(NamedTuple):
    """The bodies of the wanted segments before the scan data, in order, as (marker, body); and whether the
    headers were walked to their end (a file of countless tiny segments is not)."""

    found: list[tuple[int, bytes]]
    walked: bool


def jpeg_segments(jpeg: bytes, markers: frozenset[int] = frozenset({APP1, APP13})) -> Segments:
    """The segments of `jpeg` whose marker is one of `markers`. Bytes between segments are skipped up to the
    next marker, as libjpeg does."""
    found: list[tuple[int, bytes]] = []
    if not jpeg.startswith(b"\xff\xd8"):
        return Segments(found, True)
    position = 2
    for _ in range(MAX_SEGMENTS):
        if position + 4 > len(jpeg):
            return Segments(found, True)
        if jpeg[position] != 0xFF:
            position = jpeg.find(b"\xff", position)
            if position < 0:
                return Segments(found, True)
            continue
        marker = jpeg[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _STANDALONE:
            position += 2
            continue
        if marker == 0xDA:  # start of scan: the headers are over
            return Segments(found, True)
        length = int.from_bytes(jpeg[position + 2:position + 4], "big")
        if length < 2:  # a length that cannot be: look for the next marker
            position += 4
            continue
        if marker in markers:
            found.append((marker, jpeg[position + 4:position + 2 + length]))
        position += 2 + length
    return Segments(found, False)
