"""A zip whose central directory is gone (a download or copy cut short): its members read from their local
headers, front to back, up to the cut. `zipfile` needs the directory at the end of the file, so without this
every member of a cut zip, complete or not, would be lost with it."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

LOCAL_SIGNATURE = b"PK\x03\x04"
END_SIGNATURE = b"PK\x05\x06"  # the end-of-central-directory record's
ZIP_END_SEARCH = 22 + (1 << 16)  # the end record and a comment after it, as zipfile searches
# signature, version, flags, method, time, date, crc, sizes, name and extra lengths
LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
DESCRIPTOR_SIGNATURE = b"PK\x07\x08"  # before a data descriptor, where it has one
DESCRIPTOR_FLAG = 0x8  # a member whose sizes follow its data
_ENCRYPTED = 0x1
_STORED, _DEFLATED = 0, 8
_CHUNK = 1 << 16
_SKIP_LIMIT = 1 << 30  # bytes inflated and dropped to find where an unread member ends


class SalvageStop(Exception):
    """Where reading the local headers had to stop; the members before it were read."""


class LocalHeader:
    def __init__(self, raw: bytes, name: bytes) -> None:
        (_, _, self.flags, self.method, self.time, self.date, self.crc, size, self.size, _,
         _) = LOCAL_HEADER.unpack(raw)
        self.name = name
        self.compressed_size: int | None = None if self.flags & DESCRIPTOR_FLAG else size


class LocalMember(NamedTuple):
    header: LocalHeader
    stream: BinaryIO | None  # the member's data, decompressed as it is read; None: it cannot be read
    problem: str | None  # why it cannot be read
    compressed: MemberStream | None  # what counts the compressed bytes read (for the bomb caps' ratio)


def local_members(fileobj: BinaryIO, start: int, end: int | None = None) -> Iterator[LocalMember]:
    """Each member read from its local header, from `start` (the zip's start in the file), each read before the
    next is looked for, up to `end` (where other members start). Past a central directory and its end records,
    the members of a zip joined behind are read on (`cat a.zip b.zip c.zip`). Ends at the first thing that is
    neither (the end, a directory cut short), raising SalvageStop when that is damage."""
    fileobj.seek(start)
    while end is None or fileobj.tell() < end:
        raw = fileobj.read(LOCAL_HEADER.size)
        if raw[:4] != LOCAL_SIGNATURE:
            if raw[:4] in _DIRECTORY_SIGNATURES and _past_the_directory(fileobj, raw):
                continue
            if raw[:4] == b"" or raw[:4] in _DIRECTORY_SIGNATURES:
                return  # the end, or a directory with nothing behind it (or cut further on)
            raise SalvageStop("the file ends, or is damaged, inside a member's header")
        if len(raw) < LOCAL_HEADER.size:
            raise SalvageStop("the file ends inside a member's header")
        name_length, extra_length = struct.unpack("<HH", raw[26:30])
        name = fileobj.read(name_length)
        fileobj.read(extra_length)
        header = LocalHeader(raw, name)
        if header.compressed_size == 0xFFFFFFFF:
            raise SalvageStop(f"member '{name.decode('utf-8', 'replace')}' is zip64, which salvage does not read")
        problem = _problem(header)
        if problem is not None:
            if header.compressed_size is None:
                raise SalvageStop(f"{problem}, and its length is not in its header: the members after it are lost")
            fileobj.seek(header.compressed_size, io.SEEK_CUR)
            yield LocalMember(header, None, problem, None)
            continue
        stream = MemberStream(fileobj, header)
        yield LocalMember(header, io.BufferedReader(stream), None, stream)
        try:
            stream.finish()  # past the member's data, read or not
        except EOFError as exc:
            raise SalvageStop(str(exc)) from exc


_DIRECTORY_SIGNATURES = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06")  # a directory entry; end; zip64 end


def _past_the_directory(fileobj: BinaryIO, raw: bytes) -> bool:
    """From a central directory's first record (`raw`, just read), past the directory and its end records:
    whether another zip's local header follows (the file left there), False at the file's end. A record that
    claims bytes past the file's end, or anything else than zeros or a zip after the end record, raises
    SalvageStop: what follows is said, never passed over."""
    fileobj.seek(-len(raw), io.SEEK_CUR)
    here = fileobj.tell()
    size = fileobj.seek(0, io.SEEK_END)
    fileobj.seek(here)
    while True:
        at = fileobj.tell()
        signature = fileobj.read(4)
        if signature == b"PK\x01\x02":  # a directory entry: 42 more bytes, then its name, extra and comment
            fixed = fileobj.read(42)
            skip = sum(struct.unpack("<HHH", fixed[24:30])) if len(fixed) == 42 else 0
        elif signature == b"PK\x06\x06":  # the zip64 end record: its size, then that many bytes
            fixed = fileobj.read(8)
            skip = int.from_bytes(fixed, "little") if len(fixed) == 8 else 0
        elif signature == b"PK\x06\x07":  # the zip64 end locator: 16 more bytes
            fixed, skip = fileobj.read(16), 0
        elif signature == END_SIGNATURE:  # the end record: 18 more bytes, then its comment
            fixed = fileobj.read(18)
            if len(fixed) < 18:
                return False
            return _after_the_end(fileobj, int.from_bytes(fixed[16:18], "little"), at)
        elif not signature:
            return False
        else:
            raise SalvageStop(f"a central directory that cannot be walked at byte {at:,} (damaged): what follows "
                              "is not read")
        if fileobj.tell() + skip > size:  # a file cut inside its directory, or a length that lies: said
            raise SalvageStop(f"a central directory record at byte {at:,} claims {skip:,} bytes past the end of "
                              "the file: what follows is not read")
        fileobj.seek(skip, io.SEEK_CUR)


_LOOK_AHEAD = 1 << 16  # how far past an end record a zip joined behind is looked for


def _after_the_end(fileobj: BinaryIO, comment: int, record: int) -> bool:
    """Past an end record whose comment claims `comment` bytes: a zip joined behind, right after the comment,
    right after the record (a comment length that lies), or after zeros that pad the comment. Anything else
    there is said: a header inside a comment is never read, nor other data passed over."""
    start = fileobj.tell()
    ahead = fileobj.read(comment + _LOOK_AHEAD)
    after = ahead[comment:]
    padded = len(after) - len(after.lstrip(b"\0"))
    if plausible_header_at(after, padded):
        at = comment + padded
    elif not after.strip(b"\0") and len(ahead) < comment + _LOOK_AHEAD:
        return False  # the file ends here, or after zeros
    elif plausible_header_at(ahead, 0):  # the comment's length lies: the record is followed by a zip
        at = 0
    else:
        raise SalvageStop(f"data after the end record at byte {record:,} that is not a zip: it and what follows "
                          "are not read")
    fileobj.seek(start + at)
    return True


_METHODS = frozenset({0, 1, 6, 8, 9, 12, 14, 19, 93, 95, 96, 97, 98, 99})  # APPNOTE's, and WinZip's AES (99)


def plausible_header_at(data: bytes, at: int) -> bool:
    """Whether `data` holds, at `at`, the whole fixed part of a local header a zip reader reads: a version it
    knows, a compression method the format names, and a name (four bytes matching the signature by chance
    rarely go on so; flags and dates are left to the reader, which ignores what it does not know)."""
    header = data[at:at + LOCAL_HEADER.size]
    if len(header) < LOCAL_HEADER.size or header[:4] != LOCAL_SIGNATURE:
        return False
    _, version, _, method, _, _, _, _, _, name_length, _ = LOCAL_HEADER.unpack(header)
    return (version & 0xFF) <= 63 and method in _METHODS and name_length > 0


def _problem(header: LocalHeader) -> str | None:
    if header.flags & _ENCRYPTED:
        return "encrypted member; cannot be read"
    if header.method not in (_STORED, _DEFLATED):
        return f"compression method {header.method} is not read"
    if header.method == _STORED and header.compressed_size is None:
        return "stored member without its length"
    return None


class MemberStream(io.RawIOBase):
    """One member's data, decompressed as it is read; a member cut short raises EOFError at the cut, and one whose
    CRC-32 differs from its header's raises zlib.error at its end (its bytes are not what was zipped)."""

    def __init__(self, fileobj: BinaryIO, header: LocalHeader) -> None:
        self._file, self._header = fileobj, header
        self._left = header.compressed_size  # compressed bytes still to read; None: up to the deflate stream's end
        self.consumed = 0  # compressed bytes read so far
        self.expanded = 0  # counted by the reader that caps it
        self._inflate = zlib.decompressobj(-15) if header.method == _DEFLATED else None
        self._pending = b""
        self._crc = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            self._pending = self._next_piece(len(buffer))
        data, self._pending = self._pending[: len(buffer)], self._pending[len(buffer):]
        buffer[: len(data)] = data
        return len(data)

    def _next_piece(self, wanted: int) -> bytes:
        if self._inflate is not None and self._inflate.eof:
            return self._end(b"")
        if self._left == 0:
            return self._end(self._inflate.flush() if self._inflate is not None else b"")
        compressed = self._inflate.unconsumed_tail if self._inflate is not None else b""
        if not compressed:
            compressed = self._file.read(_CHUNK if self._left is None else min(_CHUNK, self._left))
            if not compressed:
                raise EOFError("the zip is cut short inside this member")
            self.consumed += len(compressed)
            if self._left is not None:
                self._left -= len(compressed)
        if self._inflate is None:
            return self._checked(compressed)
        data = self._inflate.decompress(compressed, max(wanted, _CHUNK))
        if self._inflate.eof and self._inflate.unused_data:  # read past the member's data: give it back
            self._file.seek(-len(self._inflate.unused_data), io.SEEK_CUR)
            self.consumed -= len(self._inflate.unused_data)
            if self._left is not None:
                self._left += len(self._inflate.unused_data)
        return self._checked(data)

    def _checked(self, data: bytes) -> bytes:
        self._crc = zlib.crc32(data, self._crc)
        return data

    def _end(self, data: bytes) -> bytes:
        self._checked(data)
        self._done = True
        if self._left:  # the deflate stream ended before the length the header gives
            self._file.seek(self._left, io.SEEK_CUR)
            self._left = 0
        crc = self._header.crc
        if self._header.flags & DESCRIPTOR_FLAG:
            crc = self._descriptor_crc()
        if self._crc != crc:
            raise zlib.error(f"CRC-32 {self._crc:08x} where the zip says {crc:08x}: the member is damaged")
        return data

    def _descriptor_crc(self) -> int:
        first = self._file.read(4)
        if first != DESCRIPTOR_SIGNATURE:  # the descriptor's signature is optional
            self._file.seek(-len(first), io.SEEK_CUR)
        descriptor = self._file.read(12)
        if len(descriptor) < 12:
            raise EOFError("the zip is cut short inside a member's data descriptor")
        return int(struct.unpack("<I", descriptor[:4])[0])

    def finish(self) -> None:
        """Move past the member's data, whether or not it was read to its end (its damage is its reader's to
        say: the members after it are still read). A member whose length is known is stepped over; one ended by
        a data descriptor must be inflated to find its end, up to a limit (a bomb left unread by its reader)."""
        self._pending = b""
        if self._left and not self._done:
            self._file.seek(self._left, io.SEEK_CUR)
            self._left, self._done = 0, True
        skipped = 0
        while not self._done:
            try:
                skipped += len(self._next_piece(_CHUNK))
            except zlib.error:
                if not self._done:  # damaged inside the deflate stream: where it ends cannot be known
                    raise EOFError("a member's compressed data is damaged: the members after it are lost") from None
            if skipped > _SKIP_LIMIT:
                raise EOFError("a member with no length in its header expands past what is inflated only to find "
                               "its end: the members after it are lost")
