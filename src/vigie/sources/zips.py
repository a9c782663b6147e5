"""Zip members: by the central directory as zipfile reads it, and by their local headers where it is missing
or where other zips are joined in front of it or behind it."""

from __future__ import annotations

import io
import stat
import struct
import sys
import zipfile
import zlib
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.members import CappedReader, Expansion, Member
from vigie.sources.zipbehind import clues_of
from vigie.sources.zipnames import UTF8_FLAG, FlagClearingView, misflagged_names
from vigie.sources.zipsalvage import (
    DESCRIPTOR_FLAG,
    DESCRIPTOR_SIGNATURE,
    END_SIGNATURE,
    LOCAL_HEADER,
    LOCAL_SIGNATURE,
    ZIP_END_SEARCH,
    LocalMember,
    SalvageStop,
    local_members,
)

_LOCAL_FLAGS_OFFSET = 6  # where a zip local header's flags start


def zip_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, start: int) -> Iterator[Member]:
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
        said = []
        if start < first:  # a zip joined in front (`cat a.zip b.zip`) is read from its local headers
            stopped = yield from _joined_in_front(fileobj, start, first, settings, expansion)
            if stopped is not None:
                said.append(stopped)
        yield from _listed_members(archive, view, misflagged, settings, expansion)
        said += yield from _unlisted_members(fileobj, archive, first, settings, expansion)
    try:
        yield from _behind_the_end(fileobj, settings, expansion)
    except zipfile.BadZipFile as exc:
        said.append(str(exc))
    if said:
        raise zipfile.BadZipFile("; ".join(said))


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
            capped = CappedReader(raw, settings, expansion, info.compress_size)
            yield Member(name, io.BufferedReader(capped), info.file_size, mtime, name_problem=problem)


_MISFLAGGED = "member name is flagged as UTF-8 but is not valid UTF-8; read by its raw bytes"
_FOLDER_WITH_DATA = "member named like a folder (a trailing '/') holds data; read as a file"


_UNLISTED = ("member that the zip's central directory does not list, read from its local header (a directory "
             "may be forged to hide members from zip tools)")
_UNLISTED_READ = "members the central directory does not list, read from their local headers"
_APK_SIGNING_BLOCK = b"APK Sig Block 42"  # Android's signature, between the last member and the directory


def _unlisted_members(fileobj: BinaryIO, archive: zipfile.ZipFile, first: int, settings: Settings,
                      expansion: Expansion) -> Generator[Member, None, list[str]]:
    """The members whose local headers lie between the listed members' data, or between the last and the
    directory, where a well-formed zip holds nothing; returns what was found there and not read, to be said."""
    if first == sys.maxsize:
        return []
    said = []
    for gap_start, gap_end in _gaps(fileobj, archive, first):
        found = clues_of(fileobj, headers=True, until=gap_end - gap_start, start=gap_start).local_header
        unexplained = (found if found is not None else gap_end) - gap_start
        if unexplained >= LOCAL_HEADER.size and not _padding_or_signing(fileobj, gap_start, gap_end):
            said.append(f"{unexplained:,} bytes at byte {gap_start:,} that no member listed in the central "
                        "directory holds, not read")
        if found is None:
            continue
        stopped = yield from _members_between(fileobj, found, gap_end, _UNLISTED, settings, expansion,
                                              f"{_UNLISTED_READ} at byte {found:,}")
        if stopped is not None:
            said.append(stopped)
    return said


def _gaps(fileobj: BinaryIO, archive: zipfile.ZipFile, first: int) -> list[tuple[int, int]]:
    """The byte ranges from the first listed member to the central directory that no listed member's local
    header, data or data descriptor takes."""
    gaps = []
    cursor = first
    for begin, end in sorted(_extent(fileobj, info) for info in archive.infolist()):
        if begin > cursor:
            gaps.append((cursor, begin))
        cursor = max(cursor, end)
    if archive.start_dir > cursor:
        gaps.append((cursor, archive.start_dir))
    return gaps


def _extent(fileobj: BinaryIO, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Where a listed member's local header starts and its data (and data descriptor) ends; its header alone
    where no local header is there (zipfile says so when it opens the member)."""
    fileobj.seek(info.header_offset)
    raw = fileobj.read(LOCAL_HEADER.size)
    if len(raw) < LOCAL_HEADER.size or raw[:4] != LOCAL_SIGNATURE:
        return info.header_offset, info.header_offset
    name_length, extra_length = struct.unpack("<HH", raw[26:30])
    end = info.header_offset + LOCAL_HEADER.size + name_length + extra_length + info.compress_size
    if info.flag_bits & DESCRIPTOR_FLAG:
        fileobj.seek(end)
        signed = fileobj.read(4) == DESCRIPTOR_SIGNATURE
        zip64 = max(info.compress_size, info.file_size) >= 0xFFFFFFFF
        end += (4 if signed else 0) + (20 if zip64 else 12)
    return info.header_offset, end


def _padding_or_signing(fileobj: BinaryIO, start: int, end: int) -> bool:
    """Whether a gap holds zeros alone, or ends with Android's signing block (an APK's signature)."""
    fileobj.seek(start)
    left = end - start
    while left > 0:
        piece = fileobj.read(min(left, 1 << 20))
        if not piece:
            return True
        left -= len(piece)
        if piece.strip(b"\0"):
            fileobj.seek(end - len(_APK_SIGNING_BLOCK))
            return fileobj.read(len(_APK_SIGNING_BLOCK)) == _APK_SIGNING_BLOCK
    return True


_JOINED = "member of a zip joined in front of the one whose directory was read (read from its local header)"
_BEHIND = "member of a zip joined behind the end of the one whose directory was read (read from its local header)"


def _joined_in_front(fileobj: BinaryIO, start: int, first: int, settings: Settings,
                     expansion: Expansion) -> Generator[Member, None, str | None]:
    """The members from `start` to where this one's first listed member starts: a zip joined in front (its end
    record just before), or members this one's directory does not list; nothing when other data (a
    self-extractor's program) is there. Returns why the reading stopped early, to be said once the zip behind is
    read (where they stop is their zip's business)."""
    if not _local_header_at(fileobj, start):
        return None
    before = min(first, fileobj.seek(0, io.SEEK_END))  # a directory that lists nothing: up to the file's end
    fileobj.seek(max(start, before - ZIP_END_SEARCH))
    joined = END_SIGNATURE in fileobj.read(before - fileobj.tell())
    if joined:
        return (yield from _members_between(fileobj, start, first, _JOINED, settings, expansion,
                                            "the zip joined in front of this one was read from its local headers"))
    return (yield from _members_between(fileobj, start, first, _UNLISTED, settings, expansion, _UNLISTED_READ))


def _members_between(fileobj: BinaryIO, start: int, end: int, note: str, settings: Settings, expansion: Expansion,
                     reading: str) -> Generator[Member, None, str | None]:
    """The members whose local headers lie from `start` to `end`, marked with `note`; returns where `reading`
    stopped, when it stopped early."""
    read = 0
    try:
        for found in local_members(fileobj, start, end):
            read += 1
            if (member := _local_member(found, settings, expansion, note)) is not None:
                yield member
    except SalvageStop as exc:
        return f"{reading}: {read} member(s), then {exc}"
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
            for behind in local_members(fileobj, end):
                read += 1
                if (member := _local_member(behind, settings, expansion, _BEHIND)) is not None:
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


def _local_member(found: LocalMember, settings: Settings, expansion: Expansion, note: str | None) -> Member | None:
    """A member read from its local header (None for a folder that holds nothing), its name marked with
    `note`. Its compressed bytes are counted as read, so the ratio cap holds where the header gives no length."""
    header = found.header
    mtime = _zip_time(((header.date >> 9) + 1980, (header.date >> 5) & 0xF, header.date & 0x1F,
                       header.time >> 11, (header.time >> 5) & 0x3F, (header.time & 0x1F) * 2))
    if found.stream is None:
        return None if header.name.endswith(b"/") else Member(header.name, None, header.size, mtime, found.problem,
                                                              note)
    # where the header gives no length, the compressed bytes read so far are what the ratio is measured on
    counted = found.compressed if header.compressed_size is None else None
    capped = io.BufferedReader(CappedReader(found.stream, settings, expansion, header.compressed_size, counted))
    if header.name.endswith(b"/") and _holds_nothing(capped):  # a folder (deflated to 2 bytes, or a descriptor)
        return None
    return Member(header.name, capped, header.size or None, mtime, name_problem=note)


def _holds_nothing(stream: io.BufferedReader[CappedReader]) -> bool:
    """Whether a member gives no byte; a damaged one is a member, whose reader says its damage."""
    try:
        return not stream.peek(1)
    except (zlib.error, EOFError, OSError, ValueError):
        return False


def _salvaged_zip_members(fileobj: BinaryIO, start: int, settings: Settings, expansion: Expansion,
                          refused: zipfile.BadZipFile) -> Iterator[Member]:
    """A zip without its central directory, read from its local headers (`zipsalvage.py`); the archive's error,
    raised once its members are read, says the directory is missing and how many members were read."""
    if not _local_header_at(fileobj, start):
        raise refused
    read = 0
    missing = f"{refused}: its central directory is missing (the file cut short?)"
    try:
        for found in local_members(fileobj, start):
            read += 1
            folder_like = _FOLDER_WITH_DATA if found.header.name.endswith(b"/") else None
            if (member := _local_member(found, settings, expansion, folder_like)) is not None:
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
