"""The pictures of an ASF file's metadata (a WMA's or a WMV's cover art, `WM/Picture`): in its Extended Content
Description object (pictures under 64 KiB) and in its Header Extension's Metadata Library object (any size). Only
its header object is read, at most _MOST_OBJECTS objects in it.
"""

from __future__ import annotations

from collections.abc import Iterator

from vigie.sources.id3 import Picture
from vigie.sources.members import ArchiveLimitError

ASF_TYPE = "application/vnd.ms-asf"  # WMA and WMV alike: its pictures read, not its sound nor its frames
ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")  # the header object's GUID, as stored
ASF_HEADER_SIZE = 30  # its GUID, size, object count and two reserved bytes
_OBJECT = 24  # an object's GUID and size
_EXTENDED_CONTENT = bytes.fromhex("40a4d0d207e3d21197f000a0c95ea850")
_HEADER_EXTENSION = bytes.fromhex("b503bf5f2ea9cf118ee300c00c205365")
_METADATA_LIBRARY = bytes.fromhex("941c23449894d149a1411d134e457054")
_PICTURE_NAME = "WM/Picture\0".encode("utf-16-le")
_BYTES = 1  # a value's type: a byte array
_MOST_OBJECTS = 4096  # writers put a dozen


def asf_pictures(objects: bytes, depth: int = 0) -> Iterator[Picture]:
    """The `WM/Picture` values of the header's `objects` (and of those its Header Extension holds)."""
    at = 0
    for _ in range(_MOST_OBJECTS):
        if at + _OBJECT > len(objects):
            return
        guid, size = objects[at:at + 16], int.from_bytes(objects[at + 16:at + 24], "little")
        if size < _OBJECT:
            raise ValueError(f"an ASF header object at byte {at:,} smaller than its own header: the objects after "
                             "it not read")
        data = objects[at + _OBJECT:at + size]
        at += size
        if guid == _EXTENDED_CONTENT:
            yield from _descriptors(data)
        elif guid == _METADATA_LIBRARY:
            yield from _library(data)
        elif guid == _HEADER_EXTENSION and depth == 0:  # two reserved fields and its size, then its objects
            yield from asf_pictures(data[22:], 1)
    raise ArchiveLimitError(f"more than {_MOST_OBJECTS:,} objects in an ASF header: the objects after them not read")


def _descriptors(data: bytes) -> Iterator[Picture]:
    """An Extended Content Description's values: a name and a value, each after its 16-bit length."""
    at = 2
    for _ in range(int.from_bytes(data[0:2], "little")):
        name_length = int.from_bytes(data[at:at + 2], "little")
        name = data[at + 2:at + 2 + name_length]
        at += 2 + name_length
        if at + 4 > len(data):
            return  # the count lies: the values end with the object
        kind, length = int.from_bytes(data[at:at + 2], "little"), int.from_bytes(data[at + 2:at + 4], "little")
        if name == _PICTURE_NAME and kind == _BYTES:
            yield _picture(data[at + 4:at + 4 + length])
        at += 4 + length


def _library(data: bytes) -> Iterator[Picture]:
    """A Metadata Library's records: language, stream, the name's length, type, the value's 32-bit length, name,
    value."""
    at = 2
    for _ in range(int.from_bytes(data[0:2], "little")):
        if at + 12 > len(data):
            return
        name_length = int.from_bytes(data[at + 4:at + 6], "little")
        kind, length = int.from_bytes(data[at + 6:at + 8], "little"), int.from_bytes(data[at + 8:at + 12], "little")
        name = data[at + 12:at + 12 + name_length]
        if name == _PICTURE_NAME and kind == _BYTES:
            yield _picture(data[at + 12 + name_length:at + 12 + name_length + length])
        at += 12 + name_length + length


def _picture(value: bytes) -> Picture:
    """A WM/Picture value: the picture's type, its length, MIME type and description (UTF-16, each ended by a zero
    character), then the picture."""
    length = int.from_bytes(value[1:5], "little")
    mime_end = _text_end(value, 5)
    description_end = _text_end(value, mime_end)
    if description_end > len(value):
        return Picture(b"bin", None, "a WM/Picture value whose MIME type or description has no end: not read")
    extension = value[5:mime_end - 2].decode("utf-16-le", "replace").rsplit("/", 1)[-1].lower().encode()
    extension = extension if extension.isalnum() and len(extension) <= 10 else b"bin"
    picture = value[description_end:description_end + length]
    if len(picture) < length:
        return Picture(extension, picture, f"its WM/Picture value is cut short: {len(picture):,} of the {length:,} "
                                           "bytes it declares, read as they are")
    return Picture(extension, picture)


def _text_end(value: bytes, at: int) -> int:
    """Where a UTF-16 text starting at `at` ends, after its zero character (past `value`'s end where it has none)."""
    while at + 2 <= len(value):
        if value[at:at + 2] == b"\0\0":
            return at + 2
        at += 2
    return len(value) + 1
