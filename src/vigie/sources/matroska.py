"""A Matroska's (WebM's, MKA's) attachments (`Segment/Attachments/AttachedFile`): any file a muxer attached, a
cover picture, a font, anything else, each a member of the video named after its `FileName`; and where the
Segment ends, what follows being no player's.

EBML elements are an ID and a size, both variable-length integers; the walk reads each element's header and seeks
past it, descending only into the Segment, its Attachments, and an element of unknown size (a Cluster a live
muxer could not size: its blocks are passed over one by one). At most _MOST_ELEMENTS are walked, _MOST_ATTACHMENTS
read, and `most_bytes` held from one video; a size that runs past the file's end is said.
"""

from __future__ import annotations

from typing import BinaryIO

from vigie.sources.bmff import Found, Walk

_EBML, _SEGMENT, _ATTACHMENTS, _ATTACHED_FILE = 0x1A45DFA3, 0x18538067, 0x1941A469, 0x61A7
_FILE_NAME, _FILE_DATA = 0x466E, 0x465C
_MOST_ELEMENTS = 1_000_000  # a two-hour video of unsized clusters passes over a few hundred thousand blocks
_MOST_ATTACHMENTS = 4096
_MOST_NAME = 1024  # bytes of a file name


class _Walker:
    """Reads element headers, counting them."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.elements = 0

    def header(self, at: int) -> tuple[int, int, int | None] | None:
        """The element at `at`: its ID, where its payload starts, its size (None: unknown); None where the bytes
        there are no element header."""
        self.stream.seek(at)
        raw = self.stream.read(12)
        identifier = _vint(raw, 0, 4)
        if identifier is None:
            return None
        length = _vint(raw, identifier[1], 8)
        if length is None:
            return None
        value, used = length
        unknown = value == (1 << (7 * (used - identifier[1]))) - 1
        self.elements += 1
        return identifier[0], at + used, None if unknown else value


def _vint(raw: bytes, at: int, most: int) -> tuple[int, int] | None:
    """The variable-length integer at `at` (its marker bit removed) and where it ends; None where there is none.
    An ID keeps its marker: `most` 4 marks an ID, and then the marker is put back."""
    if at >= len(raw) or raw[at] == 0:
        return None
    length = 9 - raw[at].bit_length()
    if length > most or at + length > len(raw):
        return None
    value = int.from_bytes(raw[at:at + length], "big")
    if most == 8:
        value &= (1 << (7 * length)) - 1
    return value, at + length


def walk_matroska(stream: BinaryIO, size: int, most_bytes: int) -> Walk:
    """The Segment's attachments, and where it ends."""
    walk = Walk()
    walker = _Walker(stream)
    first = walker.header(0)
    if first is None or first[0] != _EBML or first[2] is None:
        walk.notes.append("an EBML header that cannot be read: the attachments not looked for")
        return walk
    segment = walker.header(first[1] + first[2])
    if segment is None or segment[0] != _SEGMENT:
        walk.notes.append("no Segment after the EBML header: the attachments not looked for")
        return walk
    segment_end = size if segment[2] is None else segment[1] + segment[2]
    if segment_end > size:
        walk.notes.append(f"its Segment's size runs {segment_end - size:,} bytes past the file's end (cut short, or "
                          "the size lies): read to the file's end")
        segment_end = size
    at = segment[1]
    while at < segment_end:
        if walker.elements >= _MOST_ELEMENTS:
            walk.notes.append(f"more than {_MOST_ELEMENTS:,} elements: the attachments after them not looked for")
            return walk
        element = walker.header(at)
        if element is None:
            if segment[2] is None:  # an unsized Segment ends where its elements do
                segment_end = at
                break
            walk.notes.append(f"its Segment's elements break off at byte {at:,} (damaged): the attachments after "
                              "that not looked for")
            return walk
        identifier, start, length = element
        if length is None:  # unsized: its children follow, passed over as the Segment's own
            at = start
            continue
        if start + length > segment_end:
            walk.notes.append(f"an element at byte {at:,} whose size runs past its Segment's end (cut short, or the "
                              "size lies): the walk stops there" + (", the attachments in it read up to that end"
                                                                    if identifier == _ATTACHMENTS else ""))
            if identifier == _ATTACHMENTS:
                _attachments(walker, start, segment_end, walk, most_bytes)
            return walk
        if identifier == _ATTACHMENTS:
            _attachments(walker, start, start + length, walk, most_bytes)
        at = start + length
    walk.end = segment_end
    return walk


def _attachments(walker: _Walker, start: int, end: int, walk: Walk, most_bytes: int) -> None:
    at = start
    count = 0
    while at < end and (element := walker.header(at)) is not None:
        identifier, payload, length = element
        if length is None or payload + length > end:
            walk.notes.append(f"an attachment at byte {at:,} whose size runs past the Attachments' end (or is "
                              "unknown): the attachments from there not read")
            return
        if identifier == _ATTACHED_FILE:
            count += 1
            if count > _MOST_ATTACHMENTS:
                walk.notes.append(f"more than {_MOST_ATTACHMENTS:,} attachments: those after them not read")
                return
            _attached_file(walker, payload, payload + length, count, walk, most_bytes)
        at = payload + length


def _attached_file(walker: _Walker, start: int, end: int, number: int, walk: Walk, most_bytes: int) -> None:
    """One attached file: its name (else `attachment-N`) and its data, read whole."""
    name = b"attachment-%d" % number
    data: tuple[int, int] | None = None
    at = start
    while at < end and (element := walker.header(at)) is not None:
        identifier, payload, length = element
        if length is None or payload + length > end:
            break
        if identifier == _FILE_NAME and 0 < length <= _MOST_NAME:
            walker.stream.seek(payload)
            name = walker.stream.read(length).rstrip(b"\0") or name
        elif identifier == _FILE_DATA:
            data = payload, length
        at = payload + length
    if data is None:
        walk.members.append(Found(name, None, "an attachment without its data (damaged, or its size lies)"))
        return
    if walk.held + data[1] > most_bytes:
        walk.members.append(Found(name, None, f"an attachment of {data[1]:,} bytes, past the cap of {most_bytes:,} "
                                              "bytes held from one video (setting max_nested_archive_bytes): not "
                                              "read"))
        return
    walker.stream.seek(data[0])
    walk.members.append(Found(name, walker.stream.read(data[1])))
    walk.held += data[1]
