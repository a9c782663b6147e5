"""Tar members, streamed, and those of tars joined behind the first (`cat a.tar b.tar`)."""

from __future__ import annotations

import io
import tarfile
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.base import escape_name
from vigie.sources.members import CappedReader, CountingReader, Expansion, Member

_CHUNK_OF_ZEROS = 1 << 16


def tar_members(
    stream: BinaryIO, settings: Settings, expansion: Expansion, counter: CountingReader | None
) -> Iterator[Member]:
    """A tar's members, then those of any tar joined behind its end (`cat a.tar b.tar`: GNU tar reads the second
    only with --ignore-zeros). tarfile ends quietly at a header it cannot read (after the first): what follows
    would be lost unsaid, so it is said."""
    start, note = 0, None
    while True:
        recorded = _Recording(stream)
        # Names are kept as their raw bytes: surrogateescape turns every byte that is not UTF-8 back into itself.
        with tarfile.open(fileobj=recorded, mode="r|", encoding="utf-8", errors="surrogateescape") as archive:
            yield from _tar_entries(archive, settings, expansion, counter, note)
            end = archive.offset  # the header tarfile stopped at, read whole
        stopped_at = recorded.since(end)
        if stopped_at[: tarfile.BLOCKSIZE].strip(b"\0"):
            raise tarfile.ReadError(f"a header that cannot be read at byte {start + end:,} (damaged): the members "
                                    "after it are not read")
        joined = _tar_behind(stopped_at[tarfile.BLOCKSIZE:], stream, start + end + tarfile.BLOCKSIZE)
        if joined is None:
            return
        start, stream = joined
        note = _JOINED_TAR


_JOINED_TAR = "member of a tar joined behind another tar's end (GNU tar reads it only with --ignore-zeros)"


class _Recording(io.RawIOBase):
    """A stream that keeps what was last read from it: where a streamed tar stopped, and what tarfile read
    ahead (it reads in records of 10 KiB)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._read = 0
        self._recent: deque[tuple[int, bytes]] = deque(maxlen=3)  # (offset, bytes) of the last reads

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._recent.append((self._read, data))
        self._read += len(data)
        return data

    def since(self, offset: int) -> bytes:
        """The bytes read from `offset` on, where it is among the last reads."""
        kept = [data[max(0, offset - at):] for at, data in self._recent if at + len(data) > offset]
        return b"".join(kept)


def _tar_behind(after_end: bytes, stream: BinaryIO, offset: int) -> tuple[int, BinaryIO] | None:
    """What follows a tar's end-of-archive block at `offset`: None for zeros to the end; a tar joined behind
    (its offset, and a stream from its first header); a ReadError for anything else."""
    pending, at = after_end, 0
    while True:
        if len(pending) - at < tarfile.BLOCKSIZE:
            more = stream.read(_CHUNK_OF_ZEROS)
            if not more:
                if pending[at:].strip(b"\0"):
                    raise tarfile.ReadError(f"data that is not a tar header at byte {offset:,}, after the end of the "
                                            "archive: not read")
                return None
            pending, at = pending[at:] + more, 0
            continue
        block = pending[at: at + tarfile.BLOCKSIZE]
        if block.strip(b"\0"):
            break
        at += tarfile.BLOCKSIZE
        offset += tarfile.BLOCKSIZE
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError as exc:
        raise tarfile.ReadError(f"data that is not a tar header at byte {offset:,}, after the end of the archive "
                                f"({exc}): not read") from None
    return offset, io.BufferedReader(_Prefixed(pending[at:], stream))


class _Prefixed(io.RawIOBase):
    """`head`, then the rest of `stream`."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head, self._stream = head, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._head[: len(buffer)] if self._head else self._stream.read(len(buffer))
        self._head = self._head[len(data):] if self._head else b""
        buffer[: len(data)] = data
        return len(data)


def _tar_entries(archive: tarfile.TarFile, settings: Settings, expansion: Expansion,
                 counter: CountingReader | None, note: str | None) -> Iterator[Member]:
    """Its members, each name marked with `note` (a tar joined behind another)."""
    for info in archive:
        if info.isdir():
            continue
        name = info.name.encode("utf-8", "surrogateescape")
        if info.issym() or info.islnk():
            target = escape_name(info.linkname.encode("utf-8", "surrogateescape"))
            yield Member(name, None, None, info.mtime, f"link in archive to '{target}'; not followed", note)
            continue
        unknown = info.type not in tarfile.SUPPORTED_TYPES  # read as a file, as GNU tar extracts it
        if not info.isfile() and not unknown:
            yield Member(name, None, None, info.mtime, "special file in archive (device or pipe); not read", note)
            continue
        extracted = archive.extractfile(info)
        if extracted is None:
            continue
        capped = CappedReader(extracted, settings, expansion, None, counter)  # type: ignore[arg-type]
        problem = f"member of unknown type {info.type!r}; read as a file" if unknown else note
        yield Member(name, io.BufferedReader(capped), info.size, float(info.mtime), name_problem=problem)
