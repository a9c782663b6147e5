"""Zip members whose names are flagged UTF-8 (flag bit 11) but are not valid UTF-8.

Python's zipfile refuses the whole archive over one such name, which would hide every other member. A
read-only view of the archive clears that flag where the name is not UTF-8, so zipfile reads the name by
its raw bytes (as the historical code page, which maps every byte back) and every member stays readable.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

UTF8_FLAG = 0x800
_FLAG_HIGH_BIT = 0x08  # bit 11 of the little-endian flags sits in their second byte
_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR_SIZE = 20
_END64 = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # one central directory record, before its name
_MAX_COMMENT = 0xFFFF


class FlagClearingView(io.RawIOBase):
    """The archive's bytes with the UTF-8 flag cleared at chosen offsets; the evidence is never written."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self._cleared: set[int] = set()

    def clear_utf8_flag(self, flags_offset: int) -> None:
        """`flags_offset`: where a header's 2-byte flags field starts in the archive."""
        self._cleared.add(flags_offset + 1)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        start = self._inner.tell()
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        for offset in self._cleared:
            if start <= offset < start + n:
                buffer[offset - start] &= ~_FLAG_HIGH_BIT & 0xFF
        return n


def misflagged_names(archive: BinaryIO) -> list[tuple[int, int]]:
    """(index in the central directory, offset of its flags) of every name flagged UTF-8 that is not."""
    located = _central_directory(archive)
    if located is None:
        return []
    start, size = located
    archive.seek(start)
    directory = archive.read(size)
    found = []
    position = index = 0
    while position + _CENTRAL.size <= len(directory) and directory[position : position + 4] == b"PK\x01\x02":
        record = _CENTRAL.unpack_from(directory, position)
        flags, name_length, extra_length, comment_length = record[5], record[12], record[13], record[14]
        name = directory[position + _CENTRAL.size : position + _CENTRAL.size + name_length]
        if flags & UTF8_FLAG and not _is_utf8(name):
            found.append((index, start + position + 8))
        position += _CENTRAL.size + name_length + extra_length + comment_length
        index += 1
    return found


def _central_directory(archive: BinaryIO) -> tuple[int, int] | None:
    """(start, size) of the central directory, found from the end record as zipfile finds it."""
    length = archive.seek(0, io.SEEK_END)
    tail_start = max(0, length - _END.size - _MAX_COMMENT)
    archive.seek(tail_start)
    tail = archive.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _END.size > len(tail):
        return None
    size = _END.unpack_from(tail, at)[5]
    end = tail_start + at  # the directory ends where the end record (or the zip64 one) begins
    locator = at - _END64_LOCATOR_SIZE
    if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        end = tail_start + locator - _END64.size
        archive.seek(end)
        record = archive.read(_END64.size)
        if len(record) < _END64.size or record[:4] != b"PK\x06\x06":
            return None
        size = _END64.unpack(record)[8]
    return (end - size, size) if end >= size else None


def _is_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
