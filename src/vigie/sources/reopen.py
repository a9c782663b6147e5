"""Reading one stored item's bytes again, through any archives it sits in (thumbnails, the console, exports)."""

from __future__ import annotations

import io
import lzma
import tarfile
import zipfile
import zlib
from typing import Any, BinaryIO, NamedTuple

from vigie.config import Settings
from vigie.sources.archives import iter_members
from vigie.sources.base import MemberRef, parse_relpath
from vigie.sources.cms import CMS_TYPES
from vigie.sources.directory import open_source
from vigie.sources.hidden_pictures import hidden_picture, names_before_a_zip_behind
from vigie.sources.mediatype import (
    SNIFF_BYTES,
    SQLITE_TYPE,
    is_archive,
    is_image,
    is_video,
    may_hide_a_zip_behind,
    sniff,
)
from vigie.sources.members import ArchiveLimitError, Expansion
from vigie.sources.signature_end import past_signature
from vigie.sources.sqlite_end import past_the_database
from vigie.sources.textborne import CLUES_CHUNK, TEXT_TYPE, clues_in, looks_like_text
from vigie.sources.trailing import AFTER_END_NAME, trailing
from vigie.sources.unread_segments import UNREAD_TYPES, in_unread_segments
from vigie.sources.video_members import IN_BOX_NAME, video_held
from vigie.sources.zipbehind import clues_of, zip_behind


def read_item_bytes(root: str, relpath: str, settings: Settings, limit: int) -> bytes | None:
    """The item's bytes, or None when it is gone or larger than `limit`."""
    try:
        path = parse_relpath(relpath)
        source = open_source(root)
        stream = source.open(relpath)  # the file in the source; archive members are read from it below
    except (OSError, ValueError):
        return None
    opened = path.members[:source.members_opened]  # a disk image's file is opened by the source itself
    members = path.members[source.members_opened:]
    with stream:
        if not members:
            data = stream.read(limit + 1)
            return data if len(data) <= limit else None
        current: BinaryIO = stream
        name = opened[-1].name if opened else path.file
        for depth, wanted in enumerate(members):
            cap = limit if depth == len(members) - 1 else _container_cap(settings)
            found = _member_bytes(current, name, wanted, settings, cap)
            if found is None:
                return None
            if depth == len(members) - 1:
                return found
            current, name = io.BytesIO(found), wanted.name
    return None


def _container_cap(settings: Settings) -> int:
    """How much of a member that holds the wanted item is read: as much as the scan read of any member it took
    items from (a nested archive, and a picture or a video with a zip behind it or pictures in its metadata)."""
    return max(settings.max_nested_archive_bytes, settings.max_image_bytes, settings.max_member_video_bytes)


def _holds_clues(buffered: Any) -> bool:
    """Whether a text holds what the scan took it for text/plain for (past the cap on tries, where the scan stopped
    looking, nothing), read again as the scan read it; `buffered` left at its start."""
    found = clues_in(iter(lambda: buffered.read(CLUES_CHUNK), b"")).found
    buffered.seek(0)
    return found


def _member_bytes(archive: BinaryIO, archive_name: bytes, wanted: MemberRef, settings: Settings,
                  cap: int) -> bytes | None:
    """The bytes of the `wanted.occurrence`-th member named `wanted.name`, counted as the scan counts them (a
    picture's hidden pictures, its EXIF thumbnail among them, are the first of their names)."""
    buffered: Any = archive if hasattr(archive, "peek") else io.BufferedReader(archive)
    head = buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    media_type = sniff(head)
    if wanted.name == AFTER_END_NAME and is_image(media_type):
        after = trailing(buffered.read(settings.max_image_bytes + 1), media_type)
        if after is not None and wanted.occurrence <= len(after.members):
            found = after.members[wanted.occurrence - 1]
            return found if len(found) <= cap else None
        wanted = MemberRef(wanted.name, wanted.occurrence - (0 if after is None else len(after.members)))
        buffered.seek(0)  # a zip behind the picture holds it
    if wanted.name == IN_BOX_NAME and media_type in UNREAD_TYPES:  # in its chunks no viewer reads, as scanned
        data = buffered.read(settings.max_image_bytes + 1)
        chunks = in_unread_segments(data, media_type)[0] if len(data) <= settings.max_image_bytes else ()
        boxed = [found for chunk in chunks for found in chunk.members]
        if wanted.occurrence <= len(boxed):
            return boxed[wanted.occurrence - 1] if len(boxed[wanted.occurrence - 1]) <= cap else None
        wanted = MemberRef(wanted.name, wanted.occurrence - len(boxed))  # of a zip behind the picture
        buffered.seek(0)
    if media_type == SQLITE_TYPE:
        return _database_member(buffered, archive_name, wanted, settings, cap)
    if is_video(media_type):  # its cover art, attachments and what follows its end, read as the scan read them
        try:
            held = video_held(buffered, media_type, settings)
        except OSError:
            return None
        named = [member.data for member in held.members + held.boxed if member.name == wanted.name]
        if wanted.occurrence <= len(named):
            data = named[wanted.occurrence - 1]
            return data if data is not None and len(data) <= cap else None
        wanted = MemberRef(wanted.name, wanted.occurrence - len(named))
        ends = held.after.members if held.after is not None and wanted.name == AFTER_END_NAME else ()
        if wanted.occurrence <= len(ends):
            return ends[wanted.occurrence - 1] if len(ends[wanted.occurrence - 1]) <= cap else None
        wanted = MemberRef(wanted.name, wanted.occurrence - len(ends))  # of a zip behind the video
    if wanted.name in names_before_a_zip_behind(media_type):
        if wanted.occurrence == 1:
            hidden = hidden_picture(buffered.read(settings.max_image_bytes + 1), media_type, wanted.name)
            return hidden if hidden is not None and len(hidden) <= cap else None
        wanted = MemberRef(wanted.name, wanted.occurrence - 1)  # of a zip behind the JPEG
    sniffed = media_type  # how a zip behind it is looked for, as the scan looked (a text-looking PPM is a picture)
    if not is_archive(media_type) and looks_like_text(head) and _holds_clues(buffered):
        media_type = TEXT_TYPE  # text that holds data: URIs, base64 or uuencoding, typed as the scan hashed it
    if media_type in CMS_TYPES:
        return _signature_member(buffered, media_type, archive_name, wanted, settings, cap)
    if is_archive(media_type):
        own = _nth_member(buffered, media_type, archive_name, wanted, settings, cap, 0)
        if own.found or not may_hide_a_zip_behind(media_type):
            return own.data
        wanted = MemberRef(wanted.name, wanted.occurrence - own.seen)  # of a zip behind it, numbered on
    # a zip behind a picture, a self-extractor or a file read by its own structure, as the scan read it
    clues = clues_of(buffered, headers=is_image(sniffed) or is_video(sniffed))
    if (behind := zip_behind(buffered, clues)) is None:
        return None
    return _nth_member(buffered, "application/zip", archive_name, wanted, settings, cap, behind).data


def _database_member(buffered: Any, archive_name: bytes, wanted: MemberRef, settings: Settings,
                     cap: int) -> bytes | None:
    """A database's BLOB, or what follows its pages (a picture there, or a member of a zip there, numbered after
    its BLOBs), as the scan read them (sqlite_end.py)."""
    if wanted.name != AFTER_END_NAME:  # a BLOB's name has its table and row in it
        own = _nth_member(buffered, SQLITE_TYPE, archive_name, wanted, settings, cap, 0)
        if own.found:
            return own.data
        wanted = MemberRef(wanted.name, wanted.occurrence - own.seen)
    buffered.seek(0)
    data = buffered.read(settings.max_nested_archive_bytes + 1)
    if len(data) > settings.max_nested_archive_bytes:
        return None
    past = past_the_database(data)
    ends = past.after.members if past.after is not None and wanted.name == AFTER_END_NAME else ()
    if wanted.occurrence <= len(ends):
        return ends[wanted.occurrence - 1] if len(ends[wanted.occurrence - 1]) <= cap else None
    if past.zip_start is None:
        return None
    wanted = MemberRef(wanted.name, wanted.occurrence - len(ends))
    return _nth_member(io.BytesIO(data), "application/zip", archive_name, wanted, settings, cap, past.zip_start).data


def _signature_member(buffered: Any, media_type: str, archive_name: bytes, wanted: MemberRef, settings: Settings,
                      cap: int) -> bytes | None:
    """What an S/MIME structure holds, or what follows its end, numbered as the scan numbers them: a picture
    there first, then what it signed (or compressed; a detached signature, an encryption: nothing), then a zip there
    (signature_end.py)."""
    past = past_signature(buffered, settings.max_nested_archive_bytes)
    ends = past.after.members if past.after is not None and wanted.name == AFTER_END_NAME else ()
    if wanted.occurrence <= len(ends):
        return ends[wanted.occurrence - 1] if len(ends[wanted.occurrence - 1]) <= cap else None
    wanted = MemberRef(wanted.name, wanted.occurrence - len(ends))
    own = _nth_member(buffered, media_type, archive_name, wanted, settings, cap, 0) if is_archive(media_type) \
        else _Nth(None, False, 0)
    if own.found or past.zip_start is None:
        return own.data
    wanted = MemberRef(wanted.name, wanted.occurrence - own.seen)  # of a zip past the signature's end, numbered on
    return _nth_member(buffered, "application/zip", archive_name, wanted, settings, cap, past.zip_start).data


class _Nth(NamedTuple):
    data: bytes | None  # the member's bytes, where found and readable within the cap
    found: bool  # it was met: nothing further holds it (a reading that failed before it did not meet it, and
    # the scan read on from what follows the content, as it is read here)
    seen: int  # members of its name met


def _nth_member(buffered: Any, media_type: str, archive_name: bytes, wanted: MemberRef, settings: Settings,
                cap: int, zip_start: int) -> _Nth:
    """The `wanted.occurrence`-th member named `wanted.name` that `iter_members` gives."""
    seen = 0
    buffered.seek(0)
    try:
        for member in iter_members(buffered, media_type, settings, Expansion(), archive_name, zip_start):
            if member.name != wanted.name:
                continue
            seen += 1
            if seen == wanted.occurrence:
                if member.stream is None:
                    return _Nth(None, True, seen)
                data = member.stream.read(cap + 1)
                return _Nth(data if len(data) <= cap else None, True, seen)
    except (OSError, ValueError, EOFError, ArchiveLimitError, zipfile.BadZipFile, tarfile.TarError, zlib.error,
            lzma.LZMAError):
        return _Nth(None, seen >= wanted.occurrence, seen)
    return _Nth(None, False, seen)
