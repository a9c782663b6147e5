"""Zip and tar members as streams, with caps against archive bombs and unsafe names."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import stat
import sys
import tarfile
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from vigie.config import Settings
from vigie.sources.base import escape_name
from vigie.sources.zipbehind import clues_of
from vigie.sources.zipnames import UTF8_FLAG, FlagClearingView, misflagged_names
from vigie.sources.zipsalvage import (
    END_SIGNATURE,
    LOCAL_HEADER,
    LOCAL_SIGNATURE,
    ZIP_END_SEARCH,
    LocalHeader,
    SalvageStop,
    local_members,
)

_TAR_MAGIC_OFFSET = 257
_CHUNK_OF_ZEROS = 1 << 16
_LOCAL_FLAGS_OFFSET = 6  # where a zip local header's flags start


class ArchiveLimitError(Exception):
    """Reading further would pass a cap that protects against archive bombs."""


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


class _CountingReader(io.RawIOBase):
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


class _UpToTheCut(io.RawIOBase):
    """A decompressed stream handed on in the pieces it decompresses (`read1`), so that a compressed file cut
    short or damaged gives every byte before the damage. With `hold`, the error is held there (the stream just
    ends) until the reader asks for it: a tar is read in records of 10 KiB, and a read that raised would drop
    the bytes it had gathered, which may be every member of a small archive."""

    def __init__(self, decompressed: Any) -> None:
        self._decompressed = decompressed
        self.hold = False
        self.held: Exception | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._decompressed.read1(len(buffer))
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            # Bytes that are not a gzip member after a whole one (checked by its CRC): that member is complete
            trailing = isinstance(exc, gzip.BadGzipFile) and str(exc).startswith("Not a gzipped file")
            if not (self.hold or trailing):
                raise
            self.held = exc
            return 0
        buffer[: len(data)] = data
        return len(data)


class _CappedReader(io.RawIOBase):
    def __init__(
        self,
        inner: BinaryIO,
        settings: Settings,
        expansion: Expansion,
        compressed_size: int | None,
        compressed_counter: _CountingReader | None = None,
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


def _zip_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, start: int) -> Iterator[Member]:
    """The members of the zip whose local headers start at `start` (behind other data: vigie.sources.zipbehind)."""
    view = FlagClearingView(fileobj)
    misflagged: set[int] = set()
    try:
        try:
            archive = zipfile.ZipFile(view)
        except UnicodeDecodeError:  # a name flagged UTF-8 that is not: read such names by their raw bytes
            for index, flags_offset in misflagged_names(fileobj):
                misflagged.add(index)
                view.clear_utf8_flag(flags_offset)
            archive = zipfile.ZipFile(view)
    except zipfile.BadZipFile as refused:
        yield from _salvaged_zip_members(fileobj, start, settings, expansion, refused)
        return
    with archive:
        # a directory that lists nothing (a false end record in a comment) leaves every local header in front
        first = min((info.header_offset for info in archive.infolist()), default=sys.maxsize)
        if start == 0 and 0 < first < sys.maxsize and not _local_header_at(fileobj, 0):
            start = _zip_in_front(fileobj, first)
        stopped = None
        if start < first:  # a zip joined in front (`cat a.zip b.zip`) is read from its local headers
            stopped = yield from _joined_in_front(fileobj, start, first, settings, expansion)
        yield from _listed_members(archive, view, misflagged, settings, expansion)
    if stopped is not None:
        raise zipfile.BadZipFile(f"the zip joined in front of this one was read from its local headers until "
                                 f"{stopped}")
    yield from _behind_the_end(fileobj, settings, expansion)


def _listed_members(archive: zipfile.ZipFile, view: FlagClearingView, misflagged: set[int], settings: Settings,
                    expansion: Expansion) -> Iterator[Member]:
    """The members the zip's central directory lists."""
    for index, info in enumerate(archive.infolist()):
        if info.is_dir() and not info.file_size:
            continue
        name = info.orig_filename.encode("utf-8" if info.flag_bits & UTF8_FLAG else "cp437")
        mtime = _zip_time(info.date_time)
        problem = _MISFLAGGED if index in misflagged else _FOLDER_WITH_DATA if info.is_dir() else None
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            yield Member(name, None, info.file_size, mtime, "symbolic link in archive; not followed", problem)
            continue
        if info.flag_bits & 0x1:
            yield Member(name, None, info.file_size, mtime, "encrypted member; cannot be read", problem)
            continue
        try:
            raw = _open_zip_member(archive, info, view)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, ValueError) as exc:
            yield Member(name, None, info.file_size, mtime, f"cannot open member: {exc}", problem)
            continue
        with raw:
            capped = _CappedReader(raw, settings, expansion, info.compress_size)
            yield Member(name, io.BufferedReader(capped), info.file_size, mtime, name_problem=problem)


_MISFLAGGED = "member name is flagged as UTF-8 but is not valid UTF-8; read by its raw bytes"
_FOLDER_WITH_DATA = "member named like a folder (a trailing '/') holds data; read as a file"


_JOINED = "member of a zip joined in front of the one whose directory was read (read from its local header)"
_BEHIND = "member of a zip joined behind the end of the one whose directory was read (read from its local header)"


def _joined_in_front(fileobj: BinaryIO, start: int, first: int, settings: Settings,
                     expansion: Expansion) -> Generator[Member, None, SalvageStop | None]:
    """The members of a zip from `start` to where this one's first member starts; nothing when other data (a
    self-extractor's program) is there. Where they stop is the zip's business: the one behind is read after;
    returns why the reading stopped early, to be said once the zip behind is read."""
    if not _local_header_at(fileobj, start):
        return None
    try:
        for header, stream, problem in local_members(fileobj, start):
            if fileobj.tell() > first:
                return None
            if (member := _local_member(header, stream, problem, settings, expansion, _JOINED)) is not None:
                yield member
    except SalvageStop as exc:
        return exc
    return None


def _zip_in_front(fileobj: BinaryIO, first: int) -> int:
    """Where a zip in front of this one starts, behind other data (a self-extractor's program with two zips
    behind it); `first` (none) when only other data is there."""
    found = clues_of(fileobj, headers=True, until=first + LOCAL_HEADER.size - 1).local_header
    return found if found is not None and found < first else first


def _behind_the_end(fileobj: BinaryIO, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """What follows a zip's end record and its comment (where zipfile stops): nothing, zeros, or a zip cut short
    joined behind (read from its local headers); anything else is said."""
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(max(0, size - ZIP_END_SEARCH))
    tail_start = fileobj.tell()
    tail = fileobj.read(ZIP_END_SEARCH)
    found = tail.rfind(END_SIGNATURE)  # the record zipfile took, found as it finds it
    if found < 0 or len(tail) < found + 22:
        return
    end = tail_start + found + 22 + int.from_bytes(tail[found + 20:found + 22], "little")
    claimed_past_the_file = end > size  # a comment the file does not hold: what follows the record is looked at
    if claimed_past_the_file:
        end = tail_start + found + 22
    after = tail[end - tail_start:]
    if not after.strip(b"\0"):
        return
    if _local_header_at(fileobj, end):
        read = 0
        try:
            for header, stream, problem in local_members(fileobj, end):
                read += 1
                if (member := _local_member(header, stream, problem, settings, expansion, _BEHIND)) is not None:
                    yield member
        except SalvageStop as exc:
            raise zipfile.BadZipFile(f"a zip behind this one's end, read from its local headers: {read} "
                                     f"member(s), then {exc}") from exc
        return
    comment = " (its comment claims more bytes than the file holds)" if claimed_past_the_file else ""
    raise zipfile.BadZipFile(f"{size - end:,} bytes after the zip's end record (at byte {end:,}){comment}, not read")


def _local_header_at(fileobj: BinaryIO, start: int) -> bool:
    """Whether a member's local header is at `start` (then its first bytes are left read)."""
    fileobj.seek(start)
    return fileobj.read(len(LOCAL_SIGNATURE)) == LOCAL_SIGNATURE


def _local_member(header: LocalHeader, stream: BinaryIO | None, problem: str | None, settings: Settings,
                  expansion: Expansion, note: str | None) -> Member | None:
    """A member read from its local header (None for a folder), its name marked with `note`."""
    if header.name.endswith(b"/") and header.compressed_size == 0:
        return None
    mtime = _zip_time(((header.date >> 9) + 1980, (header.date >> 5) & 0xF, header.date & 0x1F,
                       header.time >> 11, (header.time >> 5) & 0x3F, (header.time & 0x1F) * 2))
    if stream is None:
        return Member(header.name, None, header.size, mtime, problem, note)
    capped = _CappedReader(stream, settings, expansion, header.compressed_size)
    return Member(header.name, io.BufferedReader(capped), header.size or None, mtime, name_problem=note)


def _salvaged_zip_members(fileobj: BinaryIO, start: int, settings: Settings, expansion: Expansion,
                          refused: zipfile.BadZipFile) -> Iterator[Member]:
    """A zip without its central directory, read from its local headers (`zipsalvage.py`); the archive's error,
    raised once its members are read, says the directory is missing and how many members were read."""
    if not _local_header_at(fileobj, start):
        raise refused
    read = 0
    missing = f"{refused}: its central directory is missing (the file cut short?)"
    try:
        for header, stream, problem in local_members(fileobj, start):
            read += 1
            folder_like = _FOLDER_WITH_DATA if header.name.endswith(b"/") and stream is not None else None
            if (member := _local_member(header, stream, problem, settings, expansion, folder_like)) is not None:
                yield member
    except SalvageStop as exc:
        raise zipfile.BadZipFile(f"{missing}; {read} member(s) read from their local headers, then {exc}") from exc
    raise zipfile.BadZipFile(f"{missing}; {read} member(s) read from their local headers")


def _open_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, view: FlagClearingView) -> BinaryIO:
    try:
        return archive.open(info)  # type: ignore[return-value]
    except UnicodeDecodeError:  # the member's own header repeats a misleading UTF-8 flag
        view.clear_utf8_flag(info.header_offset + _LOCAL_FLAGS_OFFSET)
        return archive.open(info)  # type: ignore[return-value]


def _zip_time(date_time: tuple[int, int, int, int, int, int]) -> float | None:
    try:
        return datetime(*date_time).timestamp()
    except ValueError:
        return None


def _tar_members(
    stream: BinaryIO, settings: Settings, expansion: Expansion, counter: _CountingReader | None
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
                 counter: _CountingReader | None, note: str | None) -> Iterator[Member]:
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
        capped = _CappedReader(extracted, settings, expansion, None, counter)  # type: ignore[arg-type]
        problem = f"member of unknown type {info.type!r}; read as a file" if unknown else note
        yield Member(name, io.BufferedReader(capped), info.size, float(info.mtime), name_problem=problem)


_DECOMPRESSORS: dict[str, Callable[[Any], Any]] = {
    "application/gzip": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    "application/x-bzip2": lambda raw: bz2.BZ2File(raw),
    "application/x-xz": lambda raw: lzma.LZMAFile(raw),  # noqa: SIM115
}


def iter_members(
    fileobj: BinaryIO, media_type: str, settings: Settings, expansion: Expansion, outer_name: bytes,
    zip_start: int = 0,
) -> Iterator[Member]:
    """Members of a zip (its local headers from `zip_start`), tar, or compressed tar; a compressed single file is
    one member, named after `outer_name` (the archive's own name) less its suffix."""
    if media_type == "application/zip":
        yield from _zip_members(fileobj, settings, expansion, zip_start)
        return
    if media_type == "application/x-tar":
        yield from _tar_members(fileobj, settings, expansion, None)
        return
    counter = _CountingReader(fileobj)
    decompressed = _DECOMPRESSORS[media_type](io.BufferedReader(counter))
    cut = _UpToTheCut(decompressed)
    buffered = io.BufferedReader(cut, buffer_size=1 << 20)
    head = buffered.peek(_TAR_MAGIC_OFFSET + 5)[: _TAR_MAGIC_OFFSET + 5]
    if head[_TAR_MAGIC_OFFSET:] == b"ustar":
        cut.hold = True  # the members before the damage are read; then the damage is said on the archive
        yield from _tar_members(buffered, settings, expansion, counter)
        if cut.held is not None:
            raise cut.held
        return
    stem = posixpath.basename(outer_name)
    for suffix in (b".gz", b".tgz", b".bz2", b".xz"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    capped = _CappedReader(buffered, settings, expansion, None, counter)
    yield Member(stem or b"content", io.BufferedReader(capped), None, None)
    if cut.held is not None:  # after a whole compressed stream: its content was read; what follows is said
        raise gzip.BadGzipFile(f"data after the compressed stream, not read ({cut.held})")
