"""A disk image's media bytes, read at any offset: an EWF (E01) image through libewf, or Vigie's own EWF reader
where libewf refuses it or it is damaged, or the pieces of a (split) raw image; and what an E01 stored of itself
(its MD5/SHA-1)."""

from __future__ import annotations

import bisect
import io
import os
import re
from typing import Any

from vigie.sources.base import escape_name
from vigie.sources.ewf import (
    EwfImage,
    ZeroChunkCheck,
    damaged_image,
    libewf_refusal,
    linked_beside,
    linked_segments,
    open_image,
)

EWF_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"


class Media:
    """The image's media bytes, read at any offset: an EWF handle, or the segments of a (split) raw image."""

    def __init__(self, size: int, ewf: Any = None, segments: list[tuple[int, int, int]] | None = None,
                 own_ewf: EwfImage | None = None, check: ZeroChunkCheck | None = None) -> None:
        self.size = size
        self._ewf = ewf
        self._own_ewf = own_ewf  # Vigie's own EWF reader, where libewf refused the image or it is damaged
        self._check = check
        self.unread: str | None = None  # why a read by The Sleuth Kit came back empty (an E01's bad chunk)
        self._segments = segments or []  # (start offset, length, descriptor)
        self._starts = [start for start, _, _ in self._segments]

    @classmethod
    def open(cls, path: str) -> Media:
        if _is_ewf(path):
            import pyewf

            handle = pyewf.handle()
            try:
                handle.open(_ewf_segments(path))
                if not handle.get_media_size():  # an E01 cut short after its file header: libewf sees no disk
                    handle.close()
                    raise OSError("libewf found no media in it")
            except (OSError, RuntimeError) as exc:
                try:
                    own = open_image(path, libewf_refusal(exc))
                except OSError as own_exc:
                    raise OSError(f"cannot open the EWF image: {exc}; nor can Vigie's own EWF reader: "
                                  f"{own_exc}") from exc
                return cls(own.size, own_ewf=own)
            if (damaged := damaged_image(path)) is not None:  # libewf would fail or zero-fill where damaged
                handle.close()
                return cls(damaged.size, own_ewf=damaged)
            return cls(int(handle.get_media_size()), ewf=handle,
                       check=ZeroChunkCheck(path, int(handle.get_chunk_size())))
        segments = []
        start = 0
        for segment in _raw_segments(path):
            nofollow = 0 if segment == path else getattr(os, "O_NOFOLLOW", 0)  # a piece swapped for a link since
            fd = os.open(segment, os.O_RDONLY | getattr(os, "O_BINARY", 0) | nofollow)
            length = os.fstat(fd).st_size
            segments.append((start, length, fd))
            start += length
        return cls(start, segments=segments)

    def stored_digests(self) -> tuple[tuple[str, str], ...]:
        """The MD5/SHA-1 the acquisition tool stored in an E01, as lowercase hex."""
        if self._own_ewf is not None:
            return self._own_ewf.stored_digests()
        if self._ewf is None:
            return ()
        found = []
        for name, key in (("md5", "MD5"), ("sha1", "SHA1")):
            try:
                value = self._ewf.get_hash_value(key)
            except (OSError, RuntimeError):
                value = None
            if value and value.strip("0"):
                found.append((name, value.lower()))
        return tuple(found)

    def read_at(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b""
        if self._own_ewf is not None:
            return self._own_ewf.read_at(offset, length)
        if self._ewf is not None:
            try:
                data = bytes(self._ewf.read_buffer_at_offset(length, offset))
            except (OSError, RuntimeError) as exc:
                raise OSError(f"EWF image unreadable at offset {offset:,}: {exc}") from exc
            if self._check is not None:
                self._check.check(offset, data)
            return data
        parts = []
        while length > 0:
            index = bisect.bisect_right(self._starts, offset) - 1
            start, size, fd = self._segments[index]
            chunk = os.pread(fd, min(length, start + size - offset), offset - start)
            if not chunk:
                break
            parts.append(chunk)
            offset += len(chunk)
            length -= len(chunk)
        return b"".join(parts)

    def digest_damage(self) -> str | None:
        return None if self._own_ewf is None else self._own_ewf.digest_damage()

    def survey(self) -> str | None:
        """Where Vigie's own EWF reader reads the image: why libewf refused it, and what could be read."""
        return None if self._own_ewf is None else self._own_ewf.survey()

    def close(self) -> None:
        if self._ewf is not None:
            self._ewf.close()
        for reader in (self._own_ewf, self._check):
            if reader is not None:
                reader.close()
        for _, _, fd in self._segments:
            os.close(fd)
        self._segments = []

    def __enter__(self) -> Media:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _is_ewf(path: str) -> bool:
    with open(path, "rb") as stream:
        return stream.read(len(EWF_SIGNATURE)) == EWF_SIGNATURE


def _ewf_segments(path: str) -> list[str]:
    """The segment files of the EWF set `path` belongs to, as libewf finds them, but those that are symbolic
    links (`linked_segments_note`): libewf then reads the set as one with those segments missing."""
    import pyewf

    try:
        found = list(pyewf.glob(path))
    except MemoryError as exc:  # pyewf's answer where the set's first segment (.E01) is not beside `path`
        raise OSError(f"no first segment (.E01) of this EWF set lies beside it: scan the set from its .E01 "
                      f"({exc})") from exc
    return [segment for segment in found if not linked_beside(segment, path)]


def _link_target(path: str) -> str:
    try:
        return escape_name(os.readlink(os.fsencode(path)))
    except OSError as exc:  # replaced since it was seen
        return f"? ({exc.strerror or exc})"


def linked_segments_note(path: str) -> str | None:
    """Said against an E01 whose set holds segment files that are symbolic links: they are not read, so the
    chunks they hold, and the files lying there, are missing."""
    try:
        linked = linked_segments(path) if _is_ewf(path) else []
    except OSError:  # said by the reading of its media
        return None
    if not linked:
        return None
    shown = "; ".join(f"{os.path.basename(segment)} -> {_link_target(segment)}" for segment in linked)
    return (f"EWF segment file(s) of this set that are symbolic links, not followed (no link inside evidence is): "
            f"{shown}; the set was read without them: files lying in their chunks are missing or damaged")


def _raw_segments(path: str) -> list[str]:
    """A split raw image named x.001 continues in x.002, x.003, ...; any other raw image is one file."""
    stem, suffix = os.path.splitext(path)
    if not re.fullmatch(r"\.0*1", suffix):
        return [path]
    segments = [path]
    while (os.path.isfile(candidate := f"{stem}.{len(segments) + 1:0{len(suffix) - 1}d}")
           and not linked_beside(candidate, path)):
        segments.append(candidate)
    return segments


def split_gap_note(path: str) -> str | None:
    """Said against a split raw image whose pieces stop at a missing one while later ones are there, or at one
    that is a symbolic link: only the pieces before it are read, so files lying further in are missing from
    the scan."""
    stem, suffix = os.path.splitext(path)
    if not re.fullmatch(r"\.0*1", suffix):
        return None
    read = len(_raw_segments(path))
    width = len(suffix) - 1
    following = f"{stem}.{read + 1:0{width}d}"
    if linked_beside(following, path):
        return (f"split image piece {os.path.basename(following)} is a symbolic link to {_link_target(following)}; "
                f"not followed (no link inside evidence is): only the first {read} piece(s) were read; files "
                "lying further in the image are missing or damaged")
    prefix = os.path.basename(stem) + "."
    numbers = (name[len(prefix):] for name in os.listdir(os.path.dirname(path)) if name.startswith(prefix))
    later = sorted(int(number) for number in numbers if re.fullmatch(rf"[0-9]{{{width}}}", number)
                   and int(number) > read)
    if not later:
        return None
    missing = f"{os.path.basename(stem)}.{read + 1:0{width}d}"
    return (f"split image piece {missing} is missing (piece .{later[0]:0{width}d} follows it): only the first "
            f"{read} piece(s) were read; files lying further in the image are missing or damaged")


class Stream(io.RawIOBase):
    """A read-only, seekable stream over something read at offsets (the media, or a file inside it)."""

    def __init__(self, read_at: Any, size: int, close: Any = None) -> None:
        self._read_at = read_at
        self._size = size
        self._position = 0
        self._on_close = close

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        data = self._read_at(self._position, wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed and self._on_close is not None:
            self._on_close()
        super().close()


def stored_digests(path: str) -> tuple[tuple[str, str], ...]:
    """The digests an image file holds of its own media (an E01's), read again; () for a raw image."""
    with Media.open(path) as media:
        return media.stored_digests()


def stored_digests_damage(path: str) -> str | None:
    """Said where an E01's hash or digest section is damaged: the digests it stored are not all read (None
    where the image cannot be opened: said by the reading of its media)."""
    try:
        with Media.open(path) as media:
            return media.digest_damage()
    except OSError:
        return None
