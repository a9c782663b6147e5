"""The pictures of an APE tag (APEv2, as Monkey's Audio, WavPack, Musepack and foobar2000 or MP3Gain on an MP3
write it): its binary items (`Cover Art (Front)`, `Cover Art (Back)`, ...), each a file name, a zero byte, then
the picture. A tag is located by its 32-byte footer (or header) `APETAGEX`; its items are walked to the count it
declares or to its end, at most _MOST_ITEMS of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from vigie.sources.id3 import Picture
from vigie.sources.members import ArchiveLimitError

APE_MARK = b"APETAGEX"
APE_FOOTER = 32  # bytes: the mark, version, size, item count, flags, 8 reserved
_HAS_HEADER, _NO_FOOTER, _IS_HEADER = 1 << 31, 1 << 30, 1 << 29
_BINARY, _LINK = 1, 2  # an item's kind, in bits 1 and 2 of its flags (0: text)
_MOST_ITEMS = 65_536  # taggers write dozens


class ApeBounds(NamedTuple):
    """Where a tag lies, told by its footer or header: `size` covers its items and its footer (not its header)."""

    size: int
    items: int
    header: bool  # a 32-byte header precedes its items
    footer: bool  # a 32-byte footer follows them


def ape_bounds(block: bytes) -> ApeBounds | None:
    """The tag a 32-byte footer or header declares; None when `block` is none."""
    if len(block) < APE_FOOTER or not block.startswith(APE_MARK):
        return None
    size, count, flags = (int.from_bytes(block[at:at + 4], "little") for at in (12, 16, 20))
    if size < APE_FOOTER * (0 if flags & _NO_FOOTER else 1):
        return None
    # APEv1 (version 1000) has no header and no flags: its footer alone
    return ApeBounds(size, count, bool(flags & (_HAS_HEADER | _IS_HEADER)), not flags & _NO_FOOTER)


def ape_pictures(items: bytes, count: int) -> Iterator[Picture]:
    """The pictures of the binary items in `items` (the tag less its header and footer), `count` declared."""
    at = 0
    for index in range(count):
        if at + 9 > len(items):
            return  # the count lies: the items end with the tag
        if index == _MOST_ITEMS:
            raise ArchiveLimitError(f"an APE tag of more than {_MOST_ITEMS:,} items: the items after them not read")
        size = int.from_bytes(items[at:at + 4], "little")
        kind = (int.from_bytes(items[at + 4:at + 8], "little") >> 1) & 3
        key_end = items.find(b"\0", at + 8)
        if key_end < 0:
            return
        key, value = items[at + 8:key_end], items[key_end + 1:key_end + 1 + size]
        at = key_end + 1 + size
        if kind == _LINK and key.lower().startswith(b"cover art"):
            yield Picture(b"url", None, f"links to a picture elsewhere ({value[:200].decode('latin-1')}), which "
                                        "the file does not hold")
        elif kind == _BINARY:
            yield _binary_picture(value, size)


def _binary_picture(value: bytes, size: int) -> Picture:
    """A binary item: a file name, a zero byte, then the picture (the name's extension is its type)."""
    name, zero, picture = value.partition(b"\0")
    if not zero or len(name) > 255 or not name.isascii():
        name, picture = b"", value  # no file name: the item is the picture
    extension = name.rsplit(b".", 1)[-1].lower() if b"." in name else b"bin"
    extension = extension if extension.isalnum() and len(extension) <= 10 else b"bin"
    if len(value) < size:
        return Picture(extension, picture, f"its APE item is cut short: {len(value):,} of the {size:,} bytes it "
                                           "declares, read as they are")
    return Picture(extension, picture)
