"""The pictures of an ID3v2 tag (an MP3's cover art, a band's photo): its `APIC` frames (ID3v2.3 and v2.4) and
`PIC` frames (v2.2), undoing unsynchronisation and zlib compression where the tag or the frame says so.

A tag is read in memory (its size is at most 256 MiB by its 28-bit field); its frames are walked to its padding
or its end, at most _MOST_FRAMES of them. What cannot be read (an encrypted frame, one cut short, a link to a
picture elsewhere) is said on a member of its own, never dropped.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from vigie.sources.members import ArchiveLimitError

ID3_HEADER = 10  # bytes: "ID3", version, revision, flags, size
_MOST_FRAMES = 65_536  # taggers write dozens; a tag of countless empty frames would stall a scan
_LINK = b"-->"  # an APIC's MIME type that says its data is a URL, not a picture


@dataclass(frozen=True)
class Picture:
    """A picture found in a tag: its bytes (None where they cannot be read, and `problem` says why), and the
    file-name extension its declared type gives."""

    extension: bytes
    data: bytes | None
    problem: str | None = None


def tag_size(header: bytes) -> int | None:
    """The size of the tag that `header` starts (its frames, after the 10-byte header, and a v2.4 footer);
    None when it is no ID3v2 header."""
    if len(header) < ID3_HEADER or header[:3] != b"ID3" or header[3] not in (2, 3, 4) or header[4] == 0xFF \
            or any(byte & 0x80 for byte in header[6:10]):
        return None
    footer = 10 if header[3] == 4 and header[5] & 0x10 else 0
    return _syncsafe(header[6:10]) + footer


def tag_pictures(header: bytes, body: bytes, most_bytes: int) -> Iterator[Picture]:
    """The pictures of the tag whose header is `header` and whose frames are `body`; a compressed frame gives at
    most `most_bytes`."""
    major, flags = header[3], header[5]
    if major == 4 and flags & 0x10 and body[-10:-7] == b"3DI":  # a footer ends the tag: no frame
        body = body[:-10]
    if major < 4 and flags & 0x80:  # the whole tag is unsynchronised (v2.4 says so on each frame)
        body = _resync(body)
    at = 0
    if flags & 0x40:
        if major == 2:  # v2.2's compression flag: no scheme was ever defined
            yield Picture(b"bin", None, "an ID3v2.2 tag flagged as compressed, which no scheme defines: its "
                                        "frames were not read")
            return
        at = 4 + int.from_bytes(body[0:4], "big") if major == 3 else _syncsafe(body[0:4])  # the extended header
    id_length, header_length = (3, 6) if major == 2 else (4, 10)
    for _ in range(_MOST_FRAMES):
        if at + header_length > len(body) or body[at] == 0:  # the end, or the padding
            return
        frame_id = body[at:at + id_length]
        size = _frame_size(body, at, major)
        frame_flags = 0 if major == 2 else int.from_bytes(body[at + 8:at + 10], "big")
        data = body[at + header_length:at + header_length + size]
        at += header_length + size
        if frame_id not in (b"APIC", b"PIC"):
            continue
        if len(data) < size:
            yield Picture(b"bin", None, f"an attached-picture frame cut short: {len(data):,} of its {size:,} bytes "
                                        "are in the tag; not read")
            return
        yield _frame_picture(data, major, frame_flags, bool(flags & 0x80), most_bytes)
    raise ArchiveLimitError(f"an ID3 tag of more than {_MOST_FRAMES:,} frames: the frames after them not read")


def _frame_size(body: bytes, at: int, major: int) -> int:
    """The size of the frame at `at`: v2.4's is syncsafe, but iTunes wrote plain sizes there; the one after
    which a frame, the padding or the tag's end follows is taken (the syncsafe one where both or neither do)."""
    if major == 2:
        return int.from_bytes(body[at + 3:at + 6], "big")
    plain = int.from_bytes(body[at + 4:at + 8], "big")
    if major == 3:
        return plain
    syncsafe = _syncsafe(body[at + 4:at + 8])
    if syncsafe != plain and not _frame_follows(body, at + 10 + syncsafe) and _frame_follows(body, at + 10 + plain):
        return plain
    return syncsafe


def _frame_follows(body: bytes, at: int) -> bool:
    return at >= len(body) or body[at] == 0 or (at + 4 <= len(body) and body[at:at + 4].isalnum()
                                                  and body[at:at + 4].upper() == body[at:at + 4])


def _frame_picture(data: bytes, major: int, flags: int, unsynchronised: bool, most_bytes: int) -> Picture:
    """The picture of one APIC or PIC frame, its frame flags undone."""
    if major == 3:
        compressed, encrypted = bool(flags & 0x0080), bool(flags & 0x0040)
        extra = (4 if compressed else 0) + (1 if encrypted else 0) + (1 if flags & 0x0020 else 0)
    else:
        compressed, encrypted = bool(flags & 0x0008), bool(flags & 0x0004)
        extra = (1 if flags & 0x0040 else 0) + (1 if encrypted else 0) + (4 if flags & 0x0001 else 0)
    data = data[extra:]
    if encrypted:
        return Picture(b"bin", None, "an attached-picture frame that is encrypted: its picture cannot be read")
    if major == 4 and (unsynchronised or flags & 0x0002):
        data = _resync(data)
    if compressed:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, most_bytes + 1)
        except zlib.error as exc:
            return Picture(b"bin", None, f"an attached-picture frame whose compression is damaged ({exc}): not read")
        if len(data) > most_bytes:
            return Picture(b"bin", None, f"an attached-picture frame that inflates past {most_bytes:,} bytes (the "
                                         "cap of what is held in memory): not read")
    return _payload(data, major)


def _payload(data: bytes, major: int) -> Picture:
    """An APIC frame: text encoding, MIME type, picture type, description, then the picture (PIC: a three-letter
    format in place of the MIME type)."""
    encoding = data[0] if data else 0
    if major == 2:
        mime, at = data[1:4], 5
        extension = mime.lower()
    else:
        end = data.find(b"\0", 1)
        if end < 0:
            return Picture(b"bin", None, "an attached-picture frame whose MIME type has no end: not read")
        mime, at = data[1:end], end + 2
        extension = mime.rsplit(b"/", 1)[-1].lower()
    wide = encoding in (1, 2)  # UTF-16: the description ends with two zero bytes, on an even offset
    end = at
    while True:
        end = data.find(b"\0\0" if wide else b"\0", end)
        if end < 0 or not wide or (end - at) % 2 == 0:
            break
        end += 1
    if end < 0:
        return Picture(b"bin", None, "an attached-picture frame whose description has no end: not read")
    picture = data[end + (2 if wide else 1):]
    if mime == _LINK:
        link = picture[:200].decode("latin-1")
        return Picture(b"url", None, f"links to a picture elsewhere ({link}), which the file does not hold")
    if not extension.isalnum() or len(extension) > 10:
        extension = b"bin"
    return Picture(extension, picture)


def _syncsafe(field: bytes) -> int:
    value = 0
    for byte in field:
        value = (value << 7) | (byte & 0x7F)
    return value


def _resync(data: bytes) -> bytes:
    """Undo unsynchronisation: a zero byte inserted after each 0xFF."""
    return data.replace(b"\xff\x00", b"\xff")
