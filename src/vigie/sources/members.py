"""What an archive gives: its members as streams, with the caps that protect against archive bombs, and the
checks on their names."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from vigie.config import Settings
from vigie.sources.base import escape_name


class ArchiveLimitError(Exception):
    """Reading further would pass a cap that protects against archive bombs."""


def read_held(fileobj: BinaryIO, settings: Settings, what: str, unread: str) -> bytes:
    """The whole of a file read by its structure in memory, at most `max_nested_archive_bytes` of it; past that,
    ArchiveLimitError saying `what` is too large and what of it is `unread`."""
    most = settings.max_nested_archive_bytes
    data = fileobj.read(most + 1)
    if len(data) > most:
        raise ArchiveLimitError(f"{what} of more than {most:,} bytes (the cap of what is held in memory, setting "
                                f"max_nested_archive_bytes): {unread}")
    return data


@dataclass
class Member:
    name: bytes  # the name's raw bytes as stored, for the item's path
    stream: BinaryIO | None
    size: int | None
    mtime: float | None
    error: str | None = None  # a problem with the member itself (still listed as an item)
    name_problem: str | None = None  # a problem with the name only; the member is still read


@dataclass
class Expansion:
    """Bytes expanded so far from one top-level archive, shared by its nested archives."""

    expanded: int = 0


def unsafe_name_reason(name: bytes) -> str | None:
    if not name:
        return "empty member name"
    shown = escape_name(name)
    normalised = name.replace(b"\\", b"/")
    if normalised.startswith(b"/") or normalised[1:2] == b":":
        return f"absolute member name '{shown}' (path traversal if extracted); read as a stream only"
    if b".." in normalised.split(b"/"):
        return f"member name '{shown}' climbs out of the archive with '..' (path traversal); read as a stream only"
    return None


class CompressedCount(Protocol):
    """Where a member's compressed bytes are counted as they are read (its ratio cap where sizes are unknown)."""

    consumed: int  # compressed bytes read so far
    expanded: int  # bytes they gave, counted by CappedReader


class CountingReader(io.RawIOBase):
    """Counts compressed bytes consumed, so expansion ratios can be checked on streamed archives."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.consumed = 0
        self.expanded = 0  # bytes decompressed from this stream alone

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.consumed += n
        return n


class CappedReader(io.RawIOBase):
    def __init__(
        self,
        inner: BinaryIO,
        settings: Settings,
        expansion: Expansion,
        compressed_size: int | None,
        compressed_counter: CompressedCount | None = None,
    ) -> None:
        self._inner = inner
        self._settings = settings
        self._expansion = expansion
        self._compressed_size = compressed_size
        self._counter = compressed_counter
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.read_bytes += n
        self._expansion.expanded += n
        if self._counter is not None:
            self._counter.expanded += n
        self._check()
        return n

    def _check(self) -> None:
        s = self._settings
        if self.read_bytes > s.max_member_bytes:
            raise ArchiveLimitError(f"member expands past the cap of {s.max_member_bytes:,} bytes")
        if self._expansion.expanded > s.max_archive_expanded_bytes:
            raise ArchiveLimitError(f"archive expands past the cap of {s.max_archive_expanded_bytes:,} bytes")
        compressed = self._compressed_size
        if self._counter is not None:
            compressed = self._counter.consumed
        if compressed is not None and self.read_bytes > s.ratio_floor_bytes:
            total = self._counter.expanded if self._counter is not None else self.read_bytes
            if total > s.max_compression_ratio * max(compressed, 1):
                raise ArchiveLimitError(
                    f"compression ratio over {s.max_compression_ratio}:1 "
                    f"({total:,} bytes from {compressed:,}); possible archive bomb"
                )


class ZlibReader(io.RawIOBase):
    """zlib-compressed bytes held in memory, inflated as they are read (fed to the inflater _PIECE bytes at a time,
    so that what it leaves unread is never copied whole); `ended` tells whether the compressed stream ended."""

    _PIECE = 1 << 16

    def __init__(self, compressed: bytes) -> None:
        self._view = memoryview(compressed)
        self._at = 0
        self._inflater = zlib.decompressobj()
        self._pending: bytes | memoryview = b""

    def readable(self) -> bool:
        return True

    @property
    def ended(self) -> bool:
        return self._inflater.eof

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._inflater.eof:
            if not self._pending:
                if self._at >= len(self._view):
                    return 0  # cut short: it ends here, and `ended` says so
                self._pending = self._view[self._at:self._at + self._PIECE]
                self._at += self._PIECE
            data = self._inflater.decompress(self._pending, len(buffer))
            self._pending = self._inflater.unconsumed_tail
            if data:
                buffer[:len(data)] = data
                return len(data)
        return 0


def decoded_member(name: bytes, data: bytes, settings: Settings, expansion: Expansion,
                   name_problem: str | None = None) -> Member:
    """A member already decoded into memory (an e-mail's attachment, a database's BLOB, a page's data: URI),
    counted against the top-level file's expansion cap as any member is."""
    stream = io.BufferedReader(CappedReader(io.BytesIO(data), settings, expansion, len(data)))
    return Member(name, stream, len(data), None, name_problem=name_problem)
