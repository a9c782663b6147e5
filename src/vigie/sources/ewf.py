"""EWF-E01 segment files (.E01, .E02, ...) read by Vigie itself, as ewfacquire and EnCase write them.

libewf refuses a whole image for one bad structure (a hash section's checksum, a segment cut before its
table) and fills a chunk whose checksum fails with zeros. This reader serves the chunks that are present
and whose checksums hold, and says which are not, so that a damaged E01 is read as far as it can be and a
damaged chunk is never taken for zeros.

A segment file: a 13-byte file header, then sections, each opened by a 76-byte descriptor (type, offset of
the next section, size, Adler-32 of the descriptor): header/header2, volume (or disk; "data" repeats it),
sectors (the chunks), table and table2 (the chunks' offsets, relative to a base offset; bit 31: compressed),
hash (MD5), digest (MD5 and SHA-1), and next or done. A chunk is a zlib stream, or stored with its Adler-32
after it. A segment whose table is lost has its chunks found by reading its sectors section in order.
"""

from __future__ import annotations

import bisect
import os
import re
import struct
import zlib
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import lru_cache

SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
_FILE_HEADER = 13
_DESCRIPTOR = 76
_TABLE_HEADER = 24
_VOLUME = 1052  # an EnCase volume section's data, its Adler-32 last
_MAX_CHUNK_BYTES = 16 << 20  # ewfacquire's largest chunk is 32,768 sectors of 512 bytes
_ZLIB_SLACK = 4096  # a zlib stream is at most this much longer than the chunk it holds (else it is stored)
_MAX_TABLE_ENTRIES = 1 << 16  # EnCase writes at most 16,375 per table
_CACHE_BYTES = 8 << 20  # decoded chunks kept per open image
_TABLES_KEPT = 16  # loaded tables kept per open image
_FDS_KEPT = 16  # segment files kept open per open image
_MAX_SEGMENTS = 14_971  # E01..E99, EAA..ZZZ
_SHOWN_RANGES = 5
_OFFSET = (1 << 63) - 1


class EwfError(OSError):
    """A chunk, section or segment of the E01 that cannot be read."""


class DamagedChunk(EwfError):
    """A chunk that is present but whose checksum fails."""


@dataclass(frozen=True)
class _Group:
    """The chunks one table (or, its table lost, one read of its sectors section) places in a segment."""

    first: int  # the media's chunk index of its first chunk
    count: int
    segment: int
    end: int  # where its last chunk's bytes end in the segment file
    entries_at: int = 0  # the table's entries array (count + 1 words: the last is their Adler-32)
    base: int = 0
    mirror_at: int | None = None  # table2's entries array, which repeats them
    found: array[int] | None = None  # chunks found in order, their table lost: offset | compressed << 63


@dataclass
class _Layout:
    """What the segment files' sections say, read once per file version."""

    paths: list[str]
    chunk_size: int = 0
    media_size: int = 0
    groups: list[_Group] = field(default_factory=list)
    digests: tuple[tuple[str, str], ...] = ()
    damage: list[str] = field(default_factory=list)  # sections damaged or missing, said to the examiner
    digest_damage: list[str] = field(default_factory=list)  # hash and digest sections whose values are not used

    @property
    def chunk_count(self) -> int:
        return -(-self.media_size // self.chunk_size) if self.chunk_size else 0


def segment_paths(path: str) -> list[tuple[int, str]]:
    """The segment files of the E01 `path` names that exist (named in the sequence, with an EWF signature),
    numbered (1: .E01), in order; a gap is a segment missing from the set."""
    return [(number, candidate) for number, candidate in _numbered(path)
            if number == 1 or (not linked_beside(candidate, path) and _signed(candidate))]


def linked_segments(path: str) -> list[str]:
    """The files named as segments of the E01 `path` names that are symbolic links: not read."""
    return [candidate for _, candidate in _numbered(path) if linked_beside(candidate, path)]


def linked_beside(candidate: str, named: str) -> bool:
    """Whether a piece or segment found beside the image file the user named is a symbolic link: never
    followed, as no link inside evidence is (the named file itself may be one: a path the user typed)."""
    return candidate != named and os.path.islink(candidate)


def _numbered(path: str) -> list[tuple[int, str]]:
    """The files beside an E01 named in its segment sequence, numbered (1: .E01), in order."""
    stem, suffix = os.path.splitext(path)
    if not re.fullmatch(r"\.[eE]01", suffix):
        return [(1, path)]
    prefix = os.path.basename(stem) + "."
    folder = os.path.dirname(path) or "."
    return sorted((number, os.path.join(folder, name)) for name in os.listdir(folder)
                  if name.startswith(prefix) and (number := _segment_number(name[len(prefix):])))


def _signed(path: str) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(len(SIGNATURE)) == SIGNATURE
    except OSError:  # a folder, or unreadable: not a segment
        return False


def _segment_number(extension: str) -> int | None:
    """1 for E01 ... 99 for E99, then 100 for EAA, EAB, ..., EZZ, FAA, ... ZZZ; None for another name."""
    extension = extension.upper()
    if re.fullmatch(r"E[0-9]{2}", extension) and extension != "E00":
        return int(extension[1:])
    if re.fullmatch(r"[E-Z][A-Z]{2}", extension):
        return 100 + (ord(extension[0]) - ord("E")) * 676 + (ord(extension[1]) - 65) * 26 + ord(extension[2]) - 65
    return None


def libewf_refusal(exc: BaseException) -> str:
    """libewf's error chain cut to its cause and the section it names, for the examiner."""
    parts = [part.strip().rstrip(".") for part in str(exc).split(". ") if part.strip()]
    said = parts[1:2] + [part for part in parts if "unable to read section:" in part][:1] or parts[:1]
    return f"libewf refused this E01 ({'; '.join(dict.fromkeys(said)) or type(exc).__name__})"


def open_image(path: str, refused: str) -> EwfImage:
    """The E01 at `path`, read by this module; `refused`: what libewf made of it, for the examiner."""
    try:
        versions = tuple((number, p, (info := os.stat(p)).st_size, info.st_mtime_ns)
                         for number, p in segment_paths(path))
        layout = _layout(versions)
    except (ValueError, struct.error) as exc:  # a structure this module misjudged: said, never a crash
        raise EwfError(f"its structures cannot be read: {exc}") from exc
    except EwfError:
        raise
    except OSError as exc:
        raise EwfError(f"a segment file cannot be read: {exc}") from exc
    return EwfImage(layout, refused)


def damaged_image(path: str) -> EwfImage | None:
    """This module's reader for an E01 libewf opened but whose structures are damaged (a segment cut short
    loses its table, and libewf then reads none of its chunks); None where they are sound, or where this
    module does not read the image (libewf's reading stands)."""
    try:
        image = open_image(path, "libewf opened this E01, but its structures are damaged")
    except OSError:
        return None
    if image.damaged:
        return image
    image.close()
    return None


@lru_cache(maxsize=4)
def _layout(versions: tuple[tuple[int, str, int, int], ...]) -> _Layout:
    """The segments from .E01 on, each placed after the one before; past a missing segment, the last ones
    are placed back from the media's end (the final segment, closed by "done", holds its last chunks)."""
    layout = _Layout([path for _, path, _, _ in versions])
    numbers = [number for number, _, _, _ in versions]
    first, closing, segment = 0, "", 0
    while segment < len(numbers) and numbers[segment] == segment + 1 and first >= 0:
        first, closing = _opened(segment, numbers[segment], first, layout)
        segment += 1
    if not layout.chunk_size:
        raise EwfError("its volume section is missing or damaged: the chunk size and media size are unknown")
    if (closing == "next" and segment == len(numbers)) or (segment < len(numbers) and first >= 0):
        layout.damage.append(f"segment {segment + 1} is missing from the set: the chunks it held are missing")
    tail = segment
    while tail < len(numbers) and numbers[-1] - numbers[tail] != len(numbers) - 1 - tail:
        tail += 1  # the segments after the last gap, which run without one to the final segment
    if tail > segment:
        layout.damage.append(f"{_segments(numbers[segment], numbers[tail - 1])} not read: where their chunks lie in "
                             "the media is unknown")
    if tail < len(numbers):
        _place_from_end(layout, numbers, tail, max((g.first + g.count for g in layout.groups), default=0))
    return layout


def _segments(first: int, last: int) -> str:
    return f"segment {first:,} is" if first == last else f"segments {first:,}-{last:,} are"


def _opened(segment: int, number: int, first: int, layout: _Layout) -> tuple[int, str]:
    with open(layout.paths[segment], "rb") as stream:
        return _read_segment(stream.fileno(), segment, number, first, layout)


def _place_from_end(layout: _Layout, numbers: list[int], tail: int, placed_end: int) -> None:
    """Places segments tail.. (numbered without a gap, the last closed by "done") back from the media's end,
    each ending where the next begins; stops at one whose chunks cannot all be counted."""
    scratch = _Layout(layout.paths, layout.chunk_size, layout.media_size)
    counted: list[tuple[int, int, list[_Group]]] = []  # (segment, chunks, groups placed from 0)
    for segment in range(tail, len(numbers)):
        start = len(scratch.groups)
        count, closing = _opened(segment, numbers[segment], 0, scratch)
        counted.append((segment, count if segment + 1 < len(numbers) or closing == "done" else -1,
                        scratch.groups[start:]))
    layout.damage += scratch.damage
    layout.digest_damage += scratch.digest_damage
    layout.digests = tuple(sorted({**dict(scratch.digests), **dict(layout.digests)}.items()))
    end, segments = layout.chunk_count, 0
    placed: list[_Group] = []
    for _, count, groups in reversed(counted):
        if count < 0 or end - count < placed_end:
            break
        end -= count
        placed = [replace(group, first=group.first + end) for group in groups] + placed
        segments += 1
    layout.groups += placed
    if segments:
        layout.damage.append(f"{_segments(numbers[-segments], numbers[-1])} placed back from the media's end (the "
                             "final segment holds its last chunks)")
    if segments < len(counted):
        layout.damage.append(f"{_segments(numbers[tail], numbers[-1 - segments])} not read: where their chunks lie in "
                             "the media is unknown")


def _read_segment(fd: int, segment: int, number: int, first: int, layout: _Layout) -> tuple[int, str]:
    """Reads segment file `number` (layout.paths[segment]) into `layout`, its chunks from index `first`: the
    index its successor's start at (-1: unknown, as its chunks could not all be found), and the section that
    closes it ("next", "done"; "" where none does)."""
    size = os.fstat(fd).st_size
    name = f"segment {number} ({os.path.basename(layout.paths[segment])})"
    head = os.pread(fd, _FILE_HEADER, 0)
    if len(head) < _FILE_HEADER or head[:8] != SIGNATURE or struct.unpack_from("<H", head, 9)[0] != number:
        layout.damage.append(f"{name} has no EWF file header for segment {number}")
        return -1, ""
    offset, table_seen, closing = _FILE_HEADER, False, ""
    sectors: tuple[int, int] | None = None  # the current sectors section: its offset and declared end
    while offset + _DESCRIPTOR <= size and first >= 0:
        descriptor = os.pread(fd, _DESCRIPTOR, offset)
        kind = descriptor[:16].rstrip(b"\0").decode("ascii", "replace")
        following, length = struct.unpack_from("<QQ", descriptor, 16)
        if struct.unpack_from("<I", descriptor, 72)[0] != zlib.adler32(descriptor[:72]):
            layout.damage.append(f"{name}: the section descriptor at byte {offset:,} is damaged")
            if not (offset < following <= size - _DESCRIPTOR and _sound_descriptor(fd, following)):
                break
            offset = following
            continue
        if kind in ("next", "done"):
            closing = kind
            break
        if kind == "sectors":
            if sectors is not None and not table_seen:
                first = _find_chunks(fd, name, segment, sectors, first, layout)
            sectors, table_seen = (offset, offset + length), False
        elif kind in ("table", "table2"):
            group = _table(fd, segment, offset, min(length, size - offset), first)
            if group is None:
                layout.damage.append(f"{name}: the {kind} section at byte {offset:,} is damaged")
            elif not table_seen:
                layout.groups.append(group)
                table_seen = True
                first += group.count
            elif kind == "table2" and layout.groups[-1].count == group.count:
                layout.groups[-1] = replace(layout.groups[-1], mirror_at=group.entries_at)
        elif kind in ("volume", "disk", "data") and not layout.chunk_size:
            if not _volume(os.pread(fd, _VOLUME, offset + _DESCRIPTOR), layout):
                layout.damage.append(f"{name}: the {kind} section at byte {offset:,} is damaged")
        elif kind in ("hash", "digest"):
            _digest(kind, os.pread(fd, 80, offset + _DESCRIPTOR), name, offset, layout)
        if following <= offset or following > size:  # a loop, or a segment cut short inside this section
            break
        offset = following
    if sectors is not None and not table_seen and first >= 0:
        first = _find_chunks(fd, name, segment, sectors, first, layout)
    if not closing:
        layout.damage.append(f"{name}: its sections stop before a done or next section (the file is cut short at "
                             f"{size:,} bytes, or a section points back)")
    return first, closing


def _sound_descriptor(fd: int, offset: int) -> bool:
    descriptor = os.pread(fd, _DESCRIPTOR, offset)
    return len(descriptor) == _DESCRIPTOR and struct.unpack_from("<I", descriptor, 72)[0] == zlib.adler32(
        descriptor[:72])


def _volume(data: bytes, layout: _Layout) -> bool:
    """Chunk and media size from a volume section (EnCase's layout; its data section repeats it); False where
    it is damaged or claims sizes no acquisition writes."""
    if len(data) < _VOLUME or struct.unpack_from("<I", data, _VOLUME - 4)[0] != zlib.adler32(data[:_VOLUME - 4]):
        return False
    sectors_per_chunk, bytes_per_sector, sectors = struct.unpack_from("<IIQ", data, 8)
    chunk_size = sectors_per_chunk * bytes_per_sector
    if not 0 < chunk_size <= _MAX_CHUNK_BYTES or not sectors:
        return False
    layout.chunk_size = chunk_size
    layout.media_size = min(sectors * bytes_per_sector, chunk_size << 32)  # at most 2^32 chunks
    return True


def _table(fd: int, segment: int, offset: int, length: int, first: int) -> _Group | None:
    """A table section's header and where its entries lie; None where its header's checksum fails."""
    header = os.pread(fd, _TABLE_HEADER, offset + _DESCRIPTOR)
    if len(header) < _TABLE_HEADER or struct.unpack_from("<I", header, 20)[0] != zlib.adler32(header[:20]):
        return None
    count, _, base = struct.unpack_from("<IIQ", header)
    room = (length - _DESCRIPTOR - _TABLE_HEADER) // 4  # a count past the section's own bytes is hostile
    if not 0 < count <= min(room, _MAX_TABLE_ENTRIES):
        return None
    return _Group(first, count, segment, end=offset, entries_at=offset + _DESCRIPTOR + _TABLE_HEADER, base=base)


def _digest(kind: str, data: bytes, name: str, offset: int, layout: _Layout) -> None:
    """The MD5 (hash section) or MD5 and SHA-1 (digest section) the acquisition stored, where sound."""
    span = 32 if kind == "hash" else 76
    if len(data) < span + 4 or struct.unpack_from("<I", data, span)[0] != zlib.adler32(data[:span]):
        said = (f"{name}: the {kind} section at byte {offset:,} is damaged (its checksum fails): the "
                f"{'MD5' if kind == 'hash' else 'MD5 and SHA-1'} it stores not used")
        layout.damage.append(said)
        layout.digest_damage.append(said)
        return
    found = dict(layout.digests)
    values = [("md5", data[:16])] + ([("sha1", data[16:36])] if kind == "digest" else [])
    for algorithm, value in values:
        if value.strip(b"\0"):
            found.setdefault(algorithm, value.hex())
    layout.digests = tuple(sorted(found.items()))


def _find_chunks(fd: int, name: str, segment: int, sectors: tuple[int, int], first: int, layout: _Layout) -> int:
    """The chunks of a sectors section whose table is lost, found in order: each a zlib stream, or stored with
    its Adler-32. Stops where neither fits (a damaged chunk, or the file's end); the chunk index the next
    sectors section starts at, or -1 where the rest of this one could not be read (so that is unknown)."""
    end = min(sectors[1], os.fstat(fd).st_size)
    position, found = sectors[0] + _DESCRIPTOR, array("Q")
    while position < end and first + len(found) < layout.chunk_count:
        expected = _chunk_length(layout, first + len(found))
        window = os.pread(fd, min(expected + _ZLIB_SLACK, end - position), position)
        length, compressed = _chunk_span(window, expected)
        if length is None:
            break
        found.append(position | compressed << 63)
        position += length
    if found:
        layout.groups.append(_Group(first, len(found), segment, end=position, found=found))
    said = f"{name}: its sectors section has no sound table: {len(found):,} chunks found by reading it"
    if position < sectors[1]:
        layout.damage.append(f"{said} in order, up to byte {position:,} (the file is cut short or a chunk is damaged "
                             "there); the chunks after it cannot be placed")
        return -1
    layout.damage.append(f"{said} in order")
    return first + len(found)


def _chunk_span(window: bytes, expected: int) -> tuple[int | None, int]:
    """How many bytes of `window` a chunk of `expected` bytes takes, and whether it is compressed."""
    if _stored(window, expected) is not None:
        return expected + 4, 0
    inflated = _inflate(window, expected)
    return (None, 0) if inflated is None else (inflated[1], 1)


def _chunk_length(layout: _Layout, index: int) -> int:
    return min(layout.chunk_size, layout.media_size - index * layout.chunk_size)


class EwfImage:
    """An E01's media, read chunk by chunk: a read that meets a missing or damaged chunk fails, saying which."""

    def __init__(self, layout: _Layout, refused: str) -> None:
        self._layout = layout
        self.refused = refused
        self.size = layout.media_size
        self.chunk_size = layout.chunk_size
        self._fds: OrderedDict[int, int] = OrderedDict()  # segment -> descriptor, the most recent last
        self._firsts = [group.first for group in layout.groups]
        self._tables: OrderedDict[int, array[int]] = OrderedDict()
        self._chunks: OrderedDict[int, bytes] = OrderedDict()
        self._kept = max(2, _CACHE_BYTES // layout.chunk_size)

    @property
    def damaged(self) -> bool:
        return bool(self._layout.damage)

    def stored_digests(self) -> tuple[tuple[str, str], ...]:
        return self._layout.digests

    def digest_damage(self) -> str | None:
        """Said where a hash or digest section is damaged, so that what it stored is not used."""
        return "; ".join(self._layout.digest_damage) or None

    def read_at(self, offset: int, length: int) -> bytes:
        """`length` media bytes from `offset` (fewer at the media's end); an EwfError where a chunk they lie in
        is missing or damaged."""
        length = max(0, min(length, self.size - offset))
        parts: list[bytes] = []
        while length > 0:
            index, start = divmod(offset, self.chunk_size)
            data = self.chunk(index)
            part = data[start: start + length]
            parts.append(part)
            offset += len(part)
            length -= len(part)
        return b"".join(parts)

    def chunk(self, index: int) -> bytes:
        """Chunk `index`'s bytes, its checksum checked; an EwfError that says why where it cannot be read."""
        data = self._chunks.get(index)
        if data is not None:
            self._chunks.move_to_end(index)
            return data
        data = self._decode(index)
        self._chunks[index] = data
        if len(self._chunks) > self._kept:
            self._chunks.popitem(last=False)
        return data

    def _decode(self, index: int) -> bytes:
        at = index * self.chunk_size
        where = (f"its content lies in chunks of the E01 that are missing or damaged: chunk {index:,} (media bytes "
                 f"{at:,}-{at + _chunk_length(self._layout, index) - 1:,})")
        slot = bisect.bisect_right(self._firsts, index) - 1
        group = self._layout.groups[slot] if slot >= 0 else None
        if group is None or index >= group.first + group.count:  # past a cut, or in a segment not placed
            raise EwfError(f"{where} is missing (its segment file or table is missing or cut short)")
        entries = self._entries(slot, group)
        entry, following = entries[index - group.first], entries[index - group.first + 1]
        if not entry:
            raise DamagedChunk(f"{where} is not placed: its table entry is damaged")
        expected = _chunk_length(self._layout, index)
        offset, end = entry & _OFFSET, (following & _OFFSET) or group.end
        span = min(end - offset, expected + _ZLIB_SLACK)
        raw = os.pread(self._fd(group.segment), span, offset) if span > 0 else b""
        if entry >> 63:  # compressed
            inflated = _inflate(raw, expected)
            data = None if inflated is None else inflated[0]
        else:
            data = _stored(raw, expected)
        if data is None:
            raise DamagedChunk(f"{where} is damaged (its checksum fails)")
        return data

    def _entries(self, slot: int, group: _Group) -> array[int]:
        """The group's chunk offsets (| compressed << 63), then 0; 0 also for an entry not to be trusted. A table
        whose checksum fails is read from table2, and where both fail only the entries they agree on are kept."""
        entries = self._tables.get(slot)
        if entries is not None:
            self._tables.move_to_end(slot)
            return entries
        if group.found is not None:
            entries = array("Q", group.found)
        else:
            fd = self._fd(group.segment)
            tables = [_entry_words(fd, at, group.count) for at in (group.entries_at, group.mirror_at) if at]
            sound = [words for words, ok in tables if ok]
            if sound:
                words = sound[0]
            elif len(tables) == 2:
                words = [a if a == b else None for a, b in zip(tables[0][0], tables[1][0], strict=True)]
            else:
                words = [None] * group.count
            entries = array("Q", (0 if word is None else (group.base + (word & 0x7FFFFFFF)) | (word >> 31) << 63
                                  for word in words))
        entries.append(0)
        self._tables[slot] = entries
        if len(self._tables) > _TABLES_KEPT:
            self._tables.popitem(last=False)
        return entries

    def survey(self) -> str:
        """What the examiner must know of this E01: libewf's refusal, and how many chunks were read. Checks each
        chunk present once (as hashing the media does); work grows with the chunks present, not those claimed."""
        total = self._layout.chunk_count
        bad: list[tuple[int, int]] = []  # ranges of chunk indexes missing or damaged, last one included
        next_index = 0
        for group in self._layout.groups:
            for index in range(max(next_index, group.first), min(group.first + group.count, total)):
                if index > next_index:
                    _extend(bad, next_index, index - 1)
                try:
                    self._decode(index)
                except EwfError:
                    _extend(bad, index, index)
                next_index = index + 1
        if next_index < total:
            _extend(bad, next_index, total - 1)
        missing = sum(last - start + 1 for start, last in bad)
        shown = ", ".join(f"{start:,}" if start == last else f"{start:,}-{last:,}" for start, last in
                          bad[:_SHOWN_RANGES]) + (", ..." if len(bad) > _SHOWN_RANGES else "")
        parts = [f"{self.refused}; Vigie's own EWF reader read {total - missing:,} of {total:,} chunks"]
        if bad:
            parts.append(f"chunks missing or damaged: {shown} (files whose content lies in them are not hashed)")
        return "; ".join(parts + self._layout.damage)

    def _fd(self, segment: int) -> int:
        """Segment `segment`'s descriptor: a set of thousands of segments keeps only a few open."""
        fd = self._fds.get(segment)
        if fd is None:
            fd = self._fds[segment] = os.open(self._layout.paths[segment], os.O_RDONLY | getattr(os, "O_BINARY", 0))
            if len(self._fds) > _FDS_KEPT:
                os.close(self._fds.popitem(last=False)[1])
        else:
            self._fds.move_to_end(segment)
        return fd

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


def _extend(ranges: list[tuple[int, int]], start: int, last: int) -> None:
    """Adds chunks start..last to sorted ranges, joining the last range where they follow it."""
    if ranges and ranges[-1][1] == start - 1:
        ranges[-1] = (ranges[-1][0], last)
    else:
        ranges.append((start, last))


def _entry_words(fd: int, at: int, count: int) -> tuple[list[int | None], bool]:
    """A table's entries and whether their Adler-32 (the word after them) holds."""
    data = os.pread(fd, 4 * count + 4, at)
    if len(data) < 4 * count:
        return [None] * count, False
    words: list[int | None] = list(struct.unpack_from(f"<{count}I", data))
    return words, len(data) == 4 * count + 4 and struct.unpack_from("<I", data, 4 * count)[0] == zlib.adler32(
        data[:4 * count])


def _stored(raw: bytes, expected: int) -> bytes | None:
    """A chunk kept as it is: its `expected` bytes, or None where the Adler-32 after them fails."""
    if len(raw) >= expected + 4 and struct.unpack_from("<I", raw, expected)[0] == zlib.adler32(raw[:expected]):
        return raw[:expected]
    return None


def _inflate(raw: bytes, expected: int) -> tuple[bytes, int] | None:
    """A compressed chunk: its `expected` bytes and how many bytes of `raw` its zlib stream takes, or None where
    the stream is damaged (zlib checks its own Adler-32) or holds another length."""
    decoder = zlib.decompressobj()
    try:
        data = decoder.decompress(raw, expected + 1)  # a stream holding more stops here: no bomb
    except zlib.error:
        return None
    if not decoder.eof or len(data) != expected:
        return None
    return data, len(raw) - len(decoder.unused_data)


class ZeroChunkCheck:
    """libewf hands back a chunk whose checksum fails as zeros, silently: a chunk libewf reads as all zeros is
    checked by this module before it is believed."""

    _REMEMBERED = 1 << 20

    def __init__(self, path: str, chunk_size: int) -> None:
        self._path = path
        self._chunk_size = chunk_size
        self._image: EwfImage | None = None
        self._usable = 0 < chunk_size <= _MAX_CHUNK_BYTES
        self._sound: set[int] = set()

    def check(self, offset: int, data: bytes) -> None:
        """Raises EwfError where `data` (read at `offset`) holds zeros libewf put for a damaged chunk."""
        if not self._usable or not data:
            return
        size = self._chunk_size
        for index in range(offset // size, (offset + len(data) - 1) // size + 1):
            start, end = max(0, index * size - offset), min(len(data), (index + 1) * size - offset)
            if index in self._sound or data.count(0, start, end) != end - start:
                continue
            image = self._open()
            if image is None:
                return
            try:
                image.chunk(index)
            except DamagedChunk:
                raise
            except EwfError:  # a chunk this module does not place: libewf's reading stands
                continue
            if len(self._sound) >= self._REMEMBERED:
                self._sound.clear()
            self._sound.add(index)

    def _open(self) -> EwfImage | None:
        if self._image is None:
            try:
                self._image = open_image(self._path, "")
            except OSError:  # a variant this module does not read: libewf's bytes stand
                self._usable = False
                return None
        return self._image

    def close(self) -> None:
        if self._image is not None:
            self._image.close()
