"""An MP4's (QuickTime's, 3GP's, M4A's) top-level boxes walked to their end, by reading each box's header and
seeking past it: where the file's own content ends (what follows is no player's), and the pictures of its iTunes
metadata (`moov/udta/meta/ilst/covr`, cover art), each read whole, at most `most_bytes` in all.

A box is a 32-bit size (1: a 64-bit size follows; 0: to the file's end) and a four-character type. The content
ends where the next bytes are no box (an unprintable type, a size smaller than its header, a second `ftyp`:
another file starts); a box that runs past the file's end is a file cut short (or a size that lies over bytes
appended), whose end is not known. The top-level boxes no player reads (`free`, `skip`, `wide`, and those of a
type no reader of these files knows) are listed, for what they hold to be looked at (`video_members.py`), as are
the bytes of a `moov` after its last box and a last box that runs past the file's end; a `uuid` box of C2PA's UUID
(its manifest store) or of XMP's is listed apart, read by their readers (`c2pa_thumbnails.py`, XMP's pictures).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import BinaryIO

_MOST_TOP_BOXES = 1_000_000  # a fragmented video has a `moof` and an `mdat` per second or so: hours of them
_MOST_BOXES = 100_000  # children of one box
_COVER_PATH = (b"moov", b"udta", b"meta", b"ilst", b"covr")
_EXTENSIONS = {13: b"jpg", 14: b"png", 27: b"bmp"}  # a `data` box's type indicator
_MOST_COVERS = 4096  # pictures of one `covr`: taggers write one or two
# top-level boxes players and readers know (ISO 14496-12, QuickTime, Apple, the DASH segments): the others, and
# free space, are read by no one
_KNOWN_TOP = frozenset({b"ftyp", b"moov", b"mdat", b"moof", b"mfra", b"sidx", b"ssix", b"styp", b"pdin", b"prft",
                        b"emsg", b"meta", b"meco", b"uuid", b"udta", b"pnot", b"jP  ", b"bloc", b"lvd "})
_FREE = frozenset({b"free", b"skip", b"wide"})
# known, but read by no player at the top level, nor by Vigie (its cover art reader reads `moov/udta`): looked into
# for pictures, said only where one is there (an XMP or a camera's `uuid` box is common; an AVI's `JUNK` chunk too)
KNOWN_UNREAD = frozenset({b"uuid", b"udta", b"meta", b"JUNK"})
_MOST_UNREAD = 1_000  # boxes no player reads, listed: more are said
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")  # a `uuid` box that holds a C2PA manifest store
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # one that holds an XMP packet
_MOST_METADATA = 16  # such boxes read by their readers: a writer puts one of each (more are looked into as unread)


@dataclass
class Found:
    """A file found inside a video: its bytes, or why they were not read (`problem`, said on its item)."""

    name: bytes
    data: bytes | None
    problem: str | None = None


@dataclass
class Walk:
    """What a walk over a video's structure found."""

    end: int | None = None  # where its own content ends; None where unknown (cut short, a cap reached)
    members: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what stopped it, said on the video
    held: int = 0  # bytes of the members read
    unread: list[tuple[bytes, int, int]] = field(default_factory=list)  # boxes no player reads: type, payload, end
    unread_seen: int = 0  # those met, listed or not
    cut: tuple[bytes, int, int, int] | None = None  # the last box, past the file's end: type, where it and its
    # payload start, where it says it ends
    metadata: list[tuple[bytes, int, int]] = field(default_factory=list)  # C2PA's and XMP's `uuid` boxes: UUID,
    # where its payload (the UUID first) starts, where it ends
    unit: str = "box"  # what the structure is made of, as said: an MP4's boxes, an AVI's chunks
    units: str = "top-level boxes"


def walk_boxes(stream: BinaryIO, size: int, most_bytes: int, first: int = 0) -> Walk:
    """The file's top-level boxes, from its start (or from `first`, where it starts in `stream`), and the pictures
    its `covr` holds."""
    walk = Walk()
    at = first
    for _ in range(_MOST_TOP_BOXES):
        box = _box(stream, at, size, top=True)
        if box is None or (box[0] == b"ftyp" and at > first):
            walk.end = at
            return walk
        kind, start, end = box
        if end > size:  # cut short (the decoder says what it can play), or a size that lies over what follows
            walk.cut = (kind, at, start, end)
            return walk
        if kind == b"moov":
            children_end = _covers(stream, start, end, 1, walk, most_bytes)
            if children_end < end:  # bytes after its last box, in no box: no player reads them
                note_unread(walk, kind, children_end, end)
        elif kind == b"uuid" and len(walk.metadata) < _MOST_METADATA and end - start >= 16 \
                and (uuid := _read_at(stream, start, 16)) in (C2PA_UUID, XMP_UUID):
            walk.metadata.append((uuid, start, end))
        elif start < end and (kind in _FREE or kind in KNOWN_UNREAD or kind not in _KNOWN_TOP):
            note_unread(walk, kind, start, end)
        at = end
    walk.notes.append(f"more than {_MOST_TOP_BOXES:,} top-level boxes: the video's structure was not walked past them "
                      "(its end, and cover art after them, not looked for)")
    return walk


def note_unread(walk: Walk, kind: bytes, start: int, end: int) -> None:
    """A top-level box (an AVI's chunk) no player reads, listed for what it holds to be looked at (at most
    _MOST_UNREAD)."""
    walk.unread_seen += 1
    if walk.unread_seen <= _MOST_UNREAD:
        walk.unread.append((kind, start, end))
    elif walk.unread_seen == _MOST_UNREAD + 1:
        walk.notes.append(f"more than {_MOST_UNREAD:,} {walk.units} no player reads (`free`, `JUNK`, or of a type "
                          f"no reader knows): what those from byte {start:,} hold not looked at")


def _read_at(stream: BinaryIO, at: int, length: int) -> bytes:
    stream.seek(at)
    return stream.read(length)


def content_end(data: bytes, start: int = 0) -> int | None:
    """Where an MP4 in memory (from `start`) ends; None where unknown."""
    return walk_boxes(io.BytesIO(data), len(data), 0, start).end


def _box(stream: BinaryIO, at: int, size: int, top: bool = False) -> tuple[bytes, int, int] | None:
    """The box at `at`: its type, where its payload starts, where it ends (perhaps past `size`); None where the
    bytes there are no box (at the `top` level, also a type that is not printable: another file starts; inside a
    box, iTunes' item types start with 0xA9, `©nam`)."""
    if at + 8 > size:
        return None
    stream.seek(at)
    header = stream.read(16)
    length, kind = struct.unpack_from(">I4s", header)
    start = at + 8
    if length == 1:
        if len(header) < 16:
            return None
        length, start = struct.unpack_from(">Q", header, 8)[0], at + 16
    elif length == 0:
        length = size - at
    if length < start - at or (top and not all(0x20 <= byte < 0x7F for byte in kind)):
        return None
    return kind, start, at + length


def _covers(stream: BinaryIO, start: int, end: int, depth: int, walk: Walk, most_bytes: int) -> int:
    """Down the path to `covr` (`depth`: the box on it whose children these are), then its `data` boxes; returns
    where the children walked end (`end` where there are none)."""
    if depth == len(_COVER_PATH):
        for kind, payload, box_end in _children(stream, start, end, walk):
            if kind == b"data" and len(walk.members) == _MOST_COVERS:
                walk.notes.append(f"more than {_MOST_COVERS:,} pictures of cover art: those after them not read")
                return end
            if kind == b"data":
                _cover(stream, payload, box_end, walk, most_bytes)
        return end
    if _COVER_PATH[depth] == b"ilst":
        stream.seek(start)
        if stream.read(4) == b"\0\0\0\0":  # ISO's meta is a full box (QuickTime's is not)
            start += 4
    children = _children(stream, start, end, walk)
    for kind, payload, box_end in children:
        if kind == _COVER_PATH[depth]:
            _covers(stream, payload, box_end, depth + 1, walk, most_bytes)
    return children[-1][2] if children else start


def child_boxes(data: bytes, start: int, end: int, what: str) -> tuple[list[tuple[bytes, int, int]], list[str]]:
    """The boxes inside `data[start:end]` (a box's payload, or a whole file), each as its type, where its payload
    starts, where it ends; and what stopped the walk short (`what`: what is then not read)."""
    walk = Walk()
    return _children(io.BytesIO(data), start, end, walk, what), walk.notes


def _children(stream: BinaryIO, start: int, end: int, walk: Walk, what: str = "the cover art"
              ) -> list[tuple[bytes, int, int]]:
    """The boxes inside a box's payload, up to the first that is no box."""
    found: list[tuple[bytes, int, int]] = []
    at = start
    while (box := _box(stream, at, end)) is not None:
        if box[2] > end:
            kind = box[0].decode("latin-1")  # inside a box, any four bytes (iTunes' `\xa9nam`)
            walk.notes.append(f"a {kind} box at byte {at:,} runs past the box that holds it (cut short, or its size "
                              f"lies): {what} in it not read")
            break
        if len(found) == _MOST_BOXES:
            walk.notes.append(f"a box of more than {_MOST_BOXES:,} boxes: {what} after them not looked for")
            break
        found.append(box)
        at = box[2]
    return found


def _cover(stream: BinaryIO, start: int, end: int, walk: Walk, most_bytes: int) -> None:
    """One `data` box of `covr`: its type indicator, a locale, then the picture."""
    stream.seek(start)
    kind = int.from_bytes(stream.read(8)[:4], "big") & 0xFFFFFF
    name = b"picture-%d.%s" % (len(walk.members) + 1, _EXTENSIONS.get(kind, b"bin"))
    length = end - start - 8
    if walk.held + length > most_bytes:
        walk.members.append(Found(name, None, f"cover art of {length:,} bytes, past the cap of {most_bytes:,} bytes "
                                              "held from one video (setting max_nested_archive_bytes): not read"))
        return
    walk.members.append(Found(name, stream.read(length)))
    walk.held += length
