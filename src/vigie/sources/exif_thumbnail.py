"""The thumbnail a picture's EXIF keeps (IFD1): the picture as the camera wrote it, which an edit (a crop, a
retouch, a pasted face) often leaves behind, so it can show another picture than the file. EXIF is found in a
JPEG's APP1 segments, a PNG's `eXIf` chunk or its legacy "Raw profile type exif" text (hex, as ImageMagick
writes it), a WebP's `EXIF` chunk, a HEIC's or AVIF's `Exif` item (`heif_exif.py`); a TIFF (a camera raw too) is
itself the structure EXIF borrows, its IFD1 thumbnail read the same way."""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from vigie.sources.heif_exif import HEIF_TYPES, heif_exif
from vigie.sources.jpeg_segments import APP1, MAX_SEGMENTS, Segments, jpeg_segments

EXIF_THUMBNAIL_NAME = b"exif-thumbnail.jpg"  # the thumbnail's name on an item's path (its "member" name)
# a later EXIF's thumbnail (a JPEG with two EXIF segments: an edit's, and the one it left), up to the fourth
EXIF_THUMBNAIL_NAMES = (EXIF_THUMBNAIL_NAME, *(b"exif-thumbnail-%d.jpg" % number for number in range(2, 5)))

_EXIF_HEADER = b"Exif\x00\x00"
_THUMBNAIL_OFFSET, _THUMBNAIL_LENGTH = 0x0201, 0x0202  # JPEGInterchangeFormat, JPEGInterchangeFormatLength
_STRIP_OFFSETS = 0x0111  # an uncompressed thumbnail's pixels
_NUMBER_FORMATS = {3: "H", 4: "I", 9: "i"}  # SHORT, LONG, SLONG
MAX_CHUNKS = 100_000  # a PNG's or WebP's chunks walked: a real file has some thousands at most
_RAW_PROFILES = (b"Raw profile type exif", b"Raw profile type APP1")
_MAX_RAW_PROFILE_BYTES = 4 << 20  # a raw profile's hex text inflated: twice an EXIF of 2 MiB


class ExifThumbnail(NamedTuple):
    """The thumbnail's bytes, or why a thumbnail the EXIF points to could not be read (both None: none kept)."""

    data: bytes | None
    problem: str | None


_NONE = ExifThumbnail(None, None)


class _Exif(NamedTuple):
    tiff: bytes  # the EXIF's TIFF structure
    where: str  # what holds it, for notes
    pages: bool = False  # a TIFF file: an IFD1 of strips is its second page, no thumbnail


def exif_thumbnails(data: bytes, media_type: str = "image/jpeg", segments: Segments | None = None
                    ) -> list[ExifThumbnail]:
    """The JPEG thumbnail of each EXIF of `data` that holds one (the same bytes once), each read only inside its
    EXIF; then each problem met (once). `segments`: a JPEG's header segments, APP1 among them, walked already."""
    blocks, problem = _exif_blocks(data, media_type, segments)
    found: dict[bytes, ExifThumbnail] = {}
    problems = dict.fromkeys([problem] if problem else [])
    for block in blocks:
        try:
            one = _thumbnail_in(block)
        except struct.error:
            one = ExifThumbnail(None, f"EXIF thumbnail not read: the {block.where} is cut short")
        if one.data is not None:
            found.setdefault(one.data, one)
        elif one.problem is not None:
            problems[one.problem] = None
    return [*found.values(), *(ExifThumbnail(None, problem) for problem in problems)]


def _exif_blocks(data: bytes, media_type: str, segments: Segments | None) -> tuple[list[_Exif], str | None]:
    """Each EXIF structure of a picture, and why some may not have been looked for."""
    if media_type == "image/jpeg":
        segments = segments if segments is not None else jpeg_segments(data, frozenset({APP1}))
        problem = None if segments.walked else (f"EXIF thumbnail and other pictures in its metadata not looked "
                                                f"for past {MAX_SEGMENTS:,} header segments")
        return [_Exif(body[len(_EXIF_HEADER):], "EXIF segment") for marker, body in segments.found
                if marker == APP1 and body.startswith(_EXIF_HEADER)], problem
    if media_type == "image/tiff":
        return [_Exif(data, "file", pages=True)], None
    if media_type in HEIF_TYPES:
        items = heif_exif(data)
        return [_Exif(tiff.removeprefix(_EXIF_HEADER), "EXIF item") for tiff in items.found], \
            "; ".join(items.problems) or None
    chunks = {"image/png": png_chunks, "image/webp": riff_chunks}.get(media_type)
    if chunks is None:
        return [], None
    found, walked = chunks(data)
    blocks = []
    problem = None if walked else f"EXIF thumbnail not looked for past {MAX_CHUNKS:,} chunks"
    for kind, body in found:
        if kind in (b"eXIf", b"EXIF"):
            blocks.append(_Exif(body.removeprefix(_EXIF_HEADER), f"{kind.decode()} chunk"))
        elif kind in (b"tEXt", b"zTXt") and (profile := _raw_profile(kind, body)) is not None:
            if isinstance(profile, str):
                problem = problem or profile
            else:
                blocks.append(_Exif(profile.removeprefix(_EXIF_HEADER), "raw EXIF profile"))
    return blocks, problem


def png_chunks(png: bytes) -> tuple[list[tuple[bytes, bytes]], bool]:
    """A PNG's chunks other than its pixels, as (type, body); and whether they were walked to their end."""
    found: list[tuple[bytes, bytes]] = []
    at = 8
    for _ in range(MAX_CHUNKS):
        if at + 8 > len(png):
            return found, True
        length, kind = struct.unpack_from(">I4s", png, at)
        if kind not in (b"IDAT", b"IEND"):
            found.append((kind, png[at + 8:at + 8 + length]))
        if kind == b"IEND":
            return found, True
        at += 12 + length
    return found, False


_WEBP_PIXELS = frozenset({b"VP8 ", b"VP8L", b"ALPH", b"ANMF"})


def riff_chunks(riff: bytes) -> tuple[list[tuple[bytes, bytes]], bool]:
    """A WebP's chunks (RIFF, padded to even lengths) other than its pixels, as (type, body); and whether they were
    walked to their end."""
    found: list[tuple[bytes, bytes]] = []
    at = 12
    for _ in range(MAX_CHUNKS):
        if at + 8 > len(riff):
            return found, True
        kind, length = struct.unpack_from("<4sI", riff, at)
        if kind not in _WEBP_PIXELS:  # not copied: each reader of metadata walks the chunks
            found.append((kind, riff[at + 8:at + 8 + length]))
        at += 8 + length + (length & 1)
    return found, False


def _raw_profile(kind: bytes, body: bytes) -> bytes | str | None:
    """The EXIF of a PNG text chunk holding ImageMagick's "Raw profile type exif" (hex lines after the type and
    the length); a problem where it cannot be read; None where the chunk is other text."""
    keyword, _, text = body.partition(b"\x00")
    if keyword not in _RAW_PROFILES:
        return None
    if kind == b"zTXt":
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text[1:], _MAX_RAW_PROFILE_BYTES)
        except zlib.error:
            return "EXIF thumbnail not read: the raw EXIF profile's compressed text is corrupt"
        if inflater.unconsumed_tail:
            return (f"EXIF thumbnail not read: the raw EXIF profile's text inflates past "
                    f"{_MAX_RAW_PROFILE_BYTES:,} bytes")
    lines = text.split(b"\n", 3)  # "", the profile's type, its length, its hex
    try:
        return bytes.fromhex(lines[3].decode("ascii")) if len(lines) == 4 else b""
    except (ValueError, UnicodeDecodeError):
        return "EXIF thumbnail not read: the raw EXIF profile is not hexadecimal"


def _thumbnail_in(block: _Exif) -> ExifThumbnail:
    tiff = block.tiff
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or struct.unpack(order + "H", tiff[2:4])[0] != 42:
        if block.pages:  # a BigTIFF, whose IFDs Vigie does not walk (its pages are Pillow's)
            return _NONE
        return ExifThumbnail(None, f"EXIF thumbnail not read: the {block.where}'s TIFF header is not valid")
    ifd0 = struct.unpack(order + "I", tiff[4:8])[0]
    count = struct.unpack(order + "H", tiff[ifd0:ifd0 + 2])[0]
    ifd1 = struct.unpack(order + "I", tiff[ifd0 + 2 + 12 * count:ifd0 + 6 + 12 * count])[0]
    if ifd1 == 0:
        return _NONE
    tags = ifd_numbers(tiff, ifd1, order)
    if _THUMBNAIL_OFFSET not in tags and _THUMBNAIL_LENGTH not in tags:
        if _STRIP_OFFSETS in tags and not block.pages:
            return ExifThumbnail(None, "EXIF thumbnail not read: it is stored uncompressed, in TIFF strips")
        return _NONE
    offset, length = tags.get(_THUMBNAIL_OFFSET), tags.get(_THUMBNAIL_LENGTH)
    if offset is None or length is None or offset < 0 or length <= 0:
        return ExifThumbnail(None, f"EXIF thumbnail not read: IFD1 gives it the offset {offset} and the length "
                                   f"{length}")
    if offset + length > len(tiff):
        return ExifThumbnail(None, f"EXIF thumbnail not read: it is said to lie at {offset:,}+{length:,}, "
                                   f"beyond the {block.where}'s {len(tiff):,} bytes")
    data = tiff[offset:offset + length]
    if not data.startswith(b"\xff\xd8"):
        return ExifThumbnail(None, "EXIF thumbnail not read: the bytes it points to are not a JPEG")
    return ExifThumbnail(data, None)


def ifd_numbers(tiff: bytes, offset: int, order: str) -> dict[int, int | None]:
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
