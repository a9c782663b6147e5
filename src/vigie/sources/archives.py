"""Members of an archive, whatever its kind: zip (`zips.py`), tar (`tars.py`), an e-mail or a mailbox, and
what an S/MIME signature holds (`mail.py`), the BLOBs of an SQLite database (`sqlite_blobs.py`), the data: URIs of
a web page, an SVG drawing or other text (`data_uris.py`; with other text's uuencoded files and base64 further in,
`text_members.py`), the file a base64 file holds (`textborne.py`), the
pictures of an audio file's tags (`audio_pictures.py`), or a single file or tar compressed with gzip, bzip2 or
xz."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import posixpath
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from vigie.config import Settings
from vigie.sources.audio_pictures import AUDIO_TYPES, audio_members
from vigie.sources.cms import COMPRESSED_TYPE, SIGNED_TYPE
from vigie.sources.data_uris import HTML_TYPE, SVG_TYPE, data_uri_members
from vigie.sources.mail import MAIL_TYPE, MBOX_TYPE, mail_members, signed_members
from vigie.sources.mediatype import SNIFF_BYTES, SQLITE_TYPE
from vigie.sources.members import CappedReader, CountingReader, Expansion, Member
from vigie.sources.sqlite_blobs import sqlite_members
from vigie.sources.tars import tar_members
from vigie.sources.text_members import base64_file_members, text_members
from vigie.sources.textborne import BASE64_TYPE, TEXT_TYPE
from vigie.sources.zips import zip_members

_TAR_MAGIC_OFFSET = 257


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
        yield from zip_members(fileobj, settings, expansion, zip_start)
        return
    if media_type == "application/x-tar":
        yield from tar_members(fileobj, settings, expansion, None)
        return
    if media_type in (MAIL_TYPE, MBOX_TYPE):
        yield from mail_members(fileobj, media_type == MBOX_TYPE, settings, expansion)
        return
    if media_type in (SIGNED_TYPE, COMPRESSED_TYPE):
        yield from signed_members(fileobj, settings, expansion, outer_name)
        return
    if media_type == SQLITE_TYPE:
        yield from sqlite_members(fileobj, settings, expansion)
        return
    if media_type in (HTML_TYPE, SVG_TYPE):
        yield from data_uri_members(fileobj, settings, expansion)
        return
    if media_type == TEXT_TYPE:
        yield from text_members(fileobj, settings, expansion)
        return
    if media_type == BASE64_TYPE:
        yield from base64_file_members(fileobj, settings, expansion, outer_name, SNIFF_BYTES)
        return
    if media_type in AUDIO_TYPES:
        yield from audio_members(fileobj, media_type, settings, expansion)
        return
    counter = CountingReader(fileobj)
    decompressed = _DECOMPRESSORS[media_type](io.BufferedReader(counter))
    cut = _UpToTheCut(decompressed)
    buffered = io.BufferedReader(cut, buffer_size=1 << 20)
    head = buffered.peek(_TAR_MAGIC_OFFSET + 5)[: _TAR_MAGIC_OFFSET + 5]
    if head[_TAR_MAGIC_OFFSET:] == b"ustar":
        cut.hold = True  # the members before the damage are read; then the damage is said on the archive
        yield from tar_members(buffered, settings, expansion, counter)
        if cut.held is not None:
            raise cut.held
        return
    stem = posixpath.basename(outer_name)
    for suffix in (b".gz", b".tgz", b".bz2", b".xz"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    capped = CappedReader(buffered, settings, expansion, None, counter)
    yield Member(stem or b"content", io.BufferedReader(capped), None, None)
    if cut.held is not None:  # after a whole compressed stream: its content was read; what follows is said
        raise gzip.BadGzipFile(f"data after the compressed stream, not read ({cut.held})")
