"""What follows a picture's own content: a JPEG's end marker, a PNG's IEND chunk, a GIF's trailer.

Viewers stop there, and so does the decoder, so bytes behind it are seen by no one: a phone's motion photo keeps
its video there (Google's MicroVideo, Samsung's MotionPhoto_Data), an MPO written without its index its second
picture, and anyone may append a picture to hide it. A zip there is read as the picture's members
(`sources/zipbehind.py`); anything else is said, and read as the picture's member `after-the-end` from where a
picture or a video starts in it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

AFTER_END_NAME = b"after-the-end"  # what follows a picture's content, as a member of it on its item's path

_PADDING = b"\0\xff"  # what cameras and editors pad a file with
_TOO_FEW = 64  # bytes: fewer, and none starting like a picture or a video, are not said
# signatures of what may be hidden behind a picture, and how they are named: (signature, offset in it, name)
_KINDS = ((b"\xff\xd8\xff", 0, "a JPEG"), (b"\x89PNG\r\n\x1a\n", 0, "a PNG"), (b"GIF8", 0, "a GIF"),
          (b"ftyp", 4, "an MP4 or QuickTime video"), (b"RIFF", 0, "a RIFF file (WebP, AVI)"))


def content_end(data: bytes, media_type: str) -> int | None:
    """Where a JPEG, PNG or GIF's own content ends; None for another format, or one whose structure breaks off
    (its damage is the decoder's to say)."""
    walk = {"image/jpeg": _jpeg_end, "image/png": _png_end, "image/gif": _gif_end}.get(media_type)
    try:
        return walk(data) if walk is not None else None
    except (IndexError, ValueError, struct.error):
        return None


@dataclass(frozen=True)
class Trailing:
    """What follows a picture's own content: said, and where it starts like a picture or a video, read as the
    picture's member AFTER_END_NAME."""

    note: str
    member: bytes | None


def trailing(data: bytes, media_type: str) -> Trailing | None:
    """What follows the picture in `data`; None where nothing does, or only padding, or a zip (read as the
    picture's members)."""
    end = content_end(data, media_type)
    if end is None or end >= len(data) or (media_type == "image/jpeg" and b"MPF\0" in data[:end]):
        return None  # an MPO's index names the pictures after the first: read as its later frames
    rest = data[end:]
    if not rest.strip(_PADDING) or b"PK\x03\x04" in rest or b"PK\x05\x06" in rest:
        return None
    found = sorted((at - offset, name) for signature, offset, name in _KINDS
                   if (at := rest.find(signature, offset)) >= 0)
    said = f"{len(rest):,} bytes after the picture's own end (byte {end:,}), which no viewer shows"
    if not found:  # a few stray bytes (a writer's slip) hold no picture
        return None if len(rest) < _TOO_FEW else Trailing(
            said + ", not read: nothing in them starts like a picture or a video", None)
    start, kind = found[0]
    return Trailing(f"{said}: what starts like {kind} at byte {end + start:,} (a motion photo's video, a picture "
                    f"appended to hide it?) is read as this item's member {AFTER_END_NAME.decode()}", rest[start:])


def _jpeg_end(data: bytes) -> int | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    at = 2
    while True:
        at = data.index(b"\xff", at)  # stray bytes between segments are skipped, as libjpeg skips them
        marker = data[at + 1]
        if marker == 0xD9:  # the end of the image
            return at + 2
        if marker == 0xFF or 0xD0 <= marker <= 0xD8 or marker == 0x01:  # fill, restart, a lone marker
            at += 1 if marker == 0xFF else 2
            continue
        at += 2 + int(struct.unpack_from(">H", data, at + 2)[0])
        if marker == 0xDA:  # a scan's entropy-coded data: up to the next marker that is no stuffing nor restart
            while True:
                at = data.index(b"\xff", at)
                following = data[at + 1]
                if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    at += 1
                    continue
                break


def _png_end(data: bytes) -> int | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    at = 8
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        at += 12 + int(length)
        if kind == b"IEND":
            return at
    return None


def _gif_end(data: bytes) -> int | None:
    if not data.startswith(b"GIF8"):
        return None
    flags = data[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # the screen descriptor and its colour table
    while True:
        block = data[at]
        if block == 0x3B:  # the trailer
            return at + 1
        if block == 0x2C:  # an image: its descriptor, its colour table, the LZW code size, then sub-blocks
            flags = data[at + 9]
            at += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
        elif block == 0x21:  # an extension: its label, then sub-blocks
            at += 2
        else:
            return None
        while (size := data[at]) != 0:
            at += 1 + size
        at += 1
