r"""Forensic disk images (EWF/E01, raw, split raw) read in place through libewf and The Sleuth Kit.

Nothing is mounted or extracted. In the path grammar of `sources/base.py` the image is the source and each
file of each file system is one member of it, entered by "!/":

    relpath  := ""                            the image's media bytes (what an E01's stored MD5/SHA-1 cover)
              | "!/" partition "/" path       a file: shown as image.E01!/p1/DCIM/IMG_0001.JPG
    partition := "p" N                        N = 1, 2, ...: the allocated partitions in partition-table order;
                                              "p0": a file system that fills the image: with no partition table,
                                              or the ISO 9660 tree of a hybrid CD image (beside an HFS+ one)

Two entries that share a path (a deleted file beside a live one of the same name) are numbered "!2", "!3"
in walk order, as repeated archive members are. Archives found in the image are expanded by the analysis
as any other file's are (their members follow with a further "!/"). A stored item path therefore reads back
to (partition, path, occurrence) through `parse_relpath`, and `open` finds the file again by the same walk.

Deleted files whose content The Sleuth Kit can still read are listed with `deleted`, orphans (under TSK's
`$OrphanFiles`) too; a deleted file whose clusters now belong to another file, or whose metadata is gone, is
listed with an error and no content. A file system's own structures (NTFS's metafiles, FAT's tables, ...) are
not items. Unallocated space and file slack are not read.
"""

from __future__ import annotations

import bisect
import io
import os
import re
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any, BinaryIO

from vigie.sources.apm import read_apm
from vigie.sources.base import ARCHIVE_SEPARATOR, Entry, escape_name, member_relpath, parse_relpath
from vigie.sources.ewf import EwfError, EwfImage, ZeroChunkCheck, damaged_image, libewf_refusal, open_image
from vigie.sources.fatdir import (
    LABEL_SUFFIX,
    ROOT_ADDRESS,
    FatEntry,
    FatLayoutError,
    FatVolume,
    erased_entry,
    holds_nothing,
    label_entry,
    read_runs,
)
from vigie.sources.gpt import SECTOR, read_gpt
from vigie.sources.mediatype import EWF_TYPE, SNIFF_BYTES, sniff

EWF_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
IMAGE_SUFFIXES = (".e01", ".ex01", ".raw", ".dd", ".img", ".001", ".iso")
EXTRA_MISSING_NOTE = ("this looks like a disk image, but the `disk` extra (pytsk3, libewf-python) is not "
                      "installed: it was hashed as one file and the files inside it were not read "
                      "(pip install 'vigie[disk]')")
# The Sleuth Kit's bindings raise RuntimeError where a read of ours failed inside it
_TSK_ERRORS = (OSError, RuntimeError)
_MIN_IMAGE_BYTES = 32 * 1024  # smaller than any file system The Sleuth Kit reads
_SLASH_NOTE = ('a name on its path holds a "/" (a corrupt or hostile file system): shown as \\x00 so that it is '
               "not taken for a folder",)
_SKIPPED_NOTE = ("The Sleuth Kit skipped this file's directory entry (a byte FAT forbids in its short name, or in "
                 "a folder's above it): Vigie's own FAT reader read it",)
_ERASED_NOTE = ("The Sleuth Kit listed this file as live, but its directory entry on disk is a deleted one (first byte "
                "0xE5): it read this FAT volume in its \"Android\" mode (no entry of its root folder holds a valid 8.3 "
                "name), where deleted entries count as live. Vigie's own FAT reader recovered it as a deleted file",)
_ERASED_UNREAD = ("deleted file The Sleuth Kit listed as live (its FAT directory entry starts 0xE5) that Vigie's own "
                  "FAT reader did not find: content not read")
_LABEL_NOTE = ("a FAT volume label entry pointing at content (a real label has no first cluster and no size: a "
               "hostile or corrupt file system?): read as a file, as far as its size covers",)
_MAX_HOLE_BYTES = 1 << 30  # zeros a sparse file may claim past its stored data before it is not hashed
_BEYOND_ANY_DISK = 1 << 60  # bytes: a size no partition table entry exceeds
_MAX_DEPTH = 64  # folders nested deeper are a corrupt (looping) file system
_PARTITION = re.compile(rb"p(0|[1-9][0-9]*)")
_PIECE = re.compile(rb"\.[0-9]{3}$")  # a piece of a split raw image: .001, .002, ...


def extra_installed() -> bool:
    try:
        import pyewf  # noqa: F401
        import pytsk3  # noqa: F401
    except ImportError:
        return False
    return True


def looks_like_image(path: str) -> bool:
    """An EWF signature, or a usual disk image file name: what deserves the missing-extra note."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(len(EWF_SIGNATURE))
    except OSError:
        return False
    return head == EWF_SIGNATURE or path.lower().endswith(IMAGE_SUFFIXES) or bool(_PIECE.search(os.fsencode(path)))


def nested_image_note(relpath: str, media_type: str) -> str | None:
    """What to record against a disk image found inside a scanned folder, archive or image: it is not opened
    (its files would need a source of their own). Told by its EWF signature, or a raw one by its name."""
    if relpath == "":  # the file the user named: opened as an image where it is one (`probe`)
        return None
    leaf = parse_relpath(relpath).leaf_name.lower()
    named_like = leaf.endswith(tuple(s.encode() for s in IMAGE_SUFFIXES)) or _PIECE.search(leaf)
    if media_type != EWF_TYPE and not (media_type == "application/octet-stream" and named_like):
        return None
    kind = "an EWF (E01) disk image" if media_type == EWF_TYPE else "named like a disk image"
    return (f"{kind}: a disk image inside a scanned folder, archive or image is not opened and the files inside "
            "it were not read; scan the image itself (vigie scan IMAGE)")


def probe(path: str) -> bool:
    """Whether `path` is a disk image this module reads: an EWF file, or a partition table or file system
    The Sleuth Kit recognises. Cached per file version, as workers open the source again for every batch."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return _probe(path, info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=64)
def _probe(path: str, size: int, mtime_ns: int) -> bool:
    if not extra_installed():
        return False
    try:
        with open(path, "rb") as stream:
            head = stream.read(SNIFF_BYTES)
    except OSError:
        return False
    if head.startswith(EWF_SIGNATURE):  # however small: a segment cut short is said, not hashed as a plain file
        return True
    if size < _MIN_IMAGE_BYTES:
        return False
    if sniff(head) != "application/octet-stream":  # a picture, video or archive is never taken for a disk
        return False
    try:
        with _Media.open(path) as media:
            return bool(_file_systems(media))
    except _TSK_ERRORS:
        return False


class _Media:
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
    def open(cls, path: str) -> _Media:
        with open(path, "rb") as stream:
            is_ewf = stream.read(len(EWF_SIGNATURE)) == EWF_SIGNATURE
        if is_ewf:
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
            fd = os.open(segment, os.O_RDONLY | getattr(os, "O_BINARY", 0))
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

    def __enter__(self) -> _Media:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _ewf_segments(path: str) -> list[str]:
    """The segment files of the EWF set `path` belongs to, as libewf finds them."""
    import pyewf

    try:
        return list(pyewf.glob(path))
    except MemoryError as exc:  # pyewf's answer where the set's first segment (.E01) is not beside `path`
        raise OSError(f"no first segment (.E01) of this EWF set lies beside it: scan the set from its .E01 "
                      f"({exc})") from exc


def _raw_segments(path: str) -> list[str]:
    """A split raw image named x.001 continues in x.002, x.003, ...; any other raw image is one file."""
    stem, suffix = os.path.splitext(path)
    if not re.fullmatch(r"\.0*1", suffix):
        return [path]
    segments = [path]
    while os.path.isfile(candidate := f"{stem}.{len(segments) + 1:0{len(suffix) - 1}d}"):
        segments.append(candidate)
    return segments


def split_gap_note(path: str) -> str | None:
    """Said against a split raw image whose pieces stop at a missing one while later ones are there: only the
    pieces before the gap are read, so files lying further in are missing from the scan."""
    stem, suffix = os.path.splitext(path)
    if not re.fullmatch(r"\.0*1", suffix):
        return None
    read = len(_raw_segments(path))
    width = len(suffix) - 1
    prefix = os.path.basename(stem) + "."
    numbers = (name[len(prefix):] for name in os.listdir(os.path.dirname(path)) if name.startswith(prefix))
    later = sorted(int(number) for number in numbers if re.fullmatch(rf"[0-9]{{{width}}}", number)
                   and int(number) > read)
    if not later:
        return None
    missing = f"{os.path.basename(stem)}.{read + 1:0{width}d}"
    return (f"split image piece {missing} is missing (piece .{later[0]:0{width}d} follows it): only the first "
            f"{read} piece(s) were read; files lying further in the image are missing or damaged")


class _Stream(io.RawIOBase):
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


@dataclass(frozen=True)
class _FileSystem:
    label: str  # "p1", ...: the partition component of item paths
    offset: int  # bytes from the image's start
    description: str
    error: str | None = None  # no file system read
    note: str | None = None  # read, with this said against the partition


def _tsk_image(media: _Media, size: int | None = None) -> Any:
    """The media as The Sleuth Kit reads it; `size` makes it claim more bytes than it holds (reads past the
    end come back short)."""
    import pytsk3

    class TskImage(pytsk3.Img_Info):  # type: ignore[misc]  # The Sleuth Kit reads through our media
        def __init__(self) -> None:
            super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

        def read(self, offset: int, length: int) -> bytes:
            try:
                return media.read_at(offset, length)
            except EwfError as exc:  # an empty read, as past a cut image's end: an exception here fails all of TSK
                media.unread = str(exc)
                return b""

        def get_size(self) -> int:
            return media.size if size is None else size

        def close(self) -> None:  # the media is closed by its owner
            pass

    return TskImage()


def _file_systems(media: _Media) -> list[_FileSystem]:
    """The file systems of the image: one per allocated partition (an error where none is readable), or the
    whole image's; empty when there is neither."""
    import pytsk3

    image = _tsk_image(media)
    try:
        volume = pytsk3.Volume_Info(image)
    except _TSK_ERRORS:
        try:  # TSK refuses a whole table where one entry points past the image's end; read the others
            volume = pytsk3.Volume_Info(_tsk_image(media, _BEYOND_ANY_DISK))
        except _TSK_ERRORS:
            volume = None
    protective = volume is not None and all(b"(0xee)" in part.desc for part in volume
                                            if part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC)
    last_sector = media.size // SECTOR - 1
    if (volume is None or protective) and read_gpt(media.read_at, 1) is None and last_sector > 1:
        backup = read_gpt(media.read_at, last_sector)
        if backup:  # the primary GPT is damaged: the backup lists the partitions
            return [_partition(image, media, number, part.first, part.last - part.first + 1, SECTOR,
                               part.name or "GPT", "read from the backup GPT: the primary GPT is damaged")
                    for number, part in enumerate(sorted(backup, key=lambda p: p.first), 1)]
    if volume is not None:
        block_size = int(volume.info.block_size)
        parts = [(int(part.start), int(part.len), part.desc.decode("utf-8", "replace"))
                 for part in volume if part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC]  # not unallocated space
    elif apm := read_apm(media.read_at):  # a map in blocks The Sleuth Kit does not read
        block_size, parts = apm[0], [(part.start, part.blocks, part.kind) for part in apm[1]]
    else:
        try:
            pytsk3.FS_Info(image, offset=0)
        except _TSK_ERRORS:
            return []
        return [_FileSystem("p0", 0, "the file system filling the image")]
    iso_end = _hybrid_iso_end(image, parts)
    systems = [_FileSystem("p0", 0, "the ISO 9660 file system filling the image")] if iso_end else []
    for number, (start, length, kind) in enumerate(parts, 1):
        system = _partition(image, media, number, start, length, block_size, kind)
        if not (system.error and _holds_no_file_system(start + length, kind, block_size, iso_end)):
            systems.append(system)
    return systems


def _hybrid_iso_end(image: Any, parts: list[tuple[int, int, str]]) -> int:
    """Where the ISO 9660 file system filling a hybrid CD image ends, in bytes; 0 where there is none. Such an
    image carries a partition table (an Apple partition map beside an HFS+ tree) in the ISO's system area, and
    no partition of it starts where the ISO 9660 tree does."""
    import pytsk3

    if any(start == 0 for start, _, _ in parts):
        return 0
    try:
        fs = pytsk3.FS_Info(image, offset=0, type=pytsk3.TSK_FS_TYPE_ISO9660)
    except _TSK_ERRORS:
        return 0
    return int(fs.info.block_count) * int(fs.info.block_size)


def _holds_no_file_system(end: int, kind: str, block_size: int, iso_end: int) -> bool:
    """A partition (ending at block `end`) that has no file system by design, not worth an error: an Apple
    partition map's entry for the map itself, or a piece of a hybrid image's ISO 9660 data (xorriso's
    "ISO9660_data"), read whole as p0."""
    if kind == "Apple_partition_map":
        return True
    return end * block_size <= iso_end and not kind.startswith("Apple_HFS")  # an HFS+ view that fails is said


def _partition(image: Any, media: _Media, number: int, start: int, sectors: int, sector_size: int,
               kind: str, said: str | None = None) -> _FileSystem:
    """Partition `number` (from 1), `sectors` long from sector `start`, and whether a file system is read;
    `said`: what to record against it all the same."""
    import pytsk3

    offset = start * sector_size
    description = f"partition {number} ({kind}, sectors {start:,}-{start + sectors - 1:,})"
    if offset >= media.size:
        return _FileSystem(f"p{number}", offset, description,
                           f"{description}: starts past the end of the image ({media.size:,} bytes): a truncated "
                           "image or a bad partition table; not read")
    cut = (f"{description}: ends past the end of the image ({media.size:,} bytes): a truncated image or a bad "
           "partition table; its files lying past the end are missing or damaged"
           if offset + sectors * sector_size > media.size else said and f"{description}: {said}")
    try:
        pytsk3.FS_Info(image, offset=offset)
    except _TSK_ERRORS as exc:
        return _FileSystem(f"p{number}", offset, description,
                           f"{description}: no readable file system ({_tsk_reason(exc)})")
    return _FileSystem(f"p{number}", offset, description, note=cut)


def backup_gpt_note(media: _Media) -> str | None:
    """Said against an image whose primary GPT is sound but whose backup (the last sector) is not."""
    last_sector = media.size // SECTOR - 1
    if read_gpt(media.read_at, 1) is None or read_gpt(media.read_at, last_sector) is not None:
        return None
    return ("the backup GPT (the disk's last sector) is missing or damaged while the primary is sound: the disk "
            "was altered or cut short after it was partitioned; partitions read from the primary")


def _tsk_reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.split(": ", 1)[-1] if text else type(exc).__name__


@dataclass
class _Walk:
    """What one file system's walk gathers: entries, the allocated files' clusters, deleted files to judge."""

    block_size: int
    own_entries: frozenset[int] = frozenset()  # the file system's structures TSK lists as files (exFAT's)
    iso9660: Any = None  # the file system, where it is ISO 9660 (which deletes nothing)
    fs: Any = None  # the file system, to read its orphans' records
    occurrences: dict[bytes, int] = field(default_factory=dict)
    allocated: list[tuple[int, int]] = field(default_factory=list)  # (first block, end block)
    deleted: list[tuple[Entry, list[tuple[int, int]], int]] = field(default_factory=list)  # entry, runs, covered
    listed: dict[int, bytes] | None = None  # metadata address -> path of every name listed, where FAT wants it
    fat_labels: Callable[[int], bytes | None] | None = None  # FAT: the volume label entry at an address
    fat_erased: Callable[[int], bool] | None = None  # FAT, where Vigie's reader runs: an entry deleted on disk
    erased: set[int] = field(default_factory=set)  # FAT: live to TSK, deleted on disk: left to Vigie's reader

    def relpath(self, label: str, path: bytes) -> str:
        name = label.encode() + path
        self.occurrences[name] = occurrence = self.occurrences.get(name, 0) + 1
        return ARCHIVE_SEPARATOR + escape_name(name) + (f"!{occurrence}" if occurrence > 1 else "")


def _times(meta: Any) -> tuple[float | None, float | None, float | None]:
    """(mtime, ctime, atime) as the file system records them; None where it records none."""
    def seconds(whole: int, nano: int) -> float | None:
        return whole + nano / 1e9 if whole else None

    # FAT keeps no change time; its creation time stands in, as in the file system's own listing
    ctime = seconds(meta.ctime, meta.ctime_nano) or seconds(meta.crtime, meta.crtime_nano)
    return seconds(meta.mtime, meta.mtime_nano), ctime, seconds(meta.atime, meta.atime_nano)


def _data_runs(tsk_file: Any, block_size: int) -> tuple[list[tuple[int, int]], int | None]:
    """The default data stream's clusters as (first, end) blocks, and how many bytes they hold (None: the
    content sits in the metadata record itself, or the stream is not found)."""
    import pytsk3

    data_types = {pytsk3.TSK_FS_ATTR_TYPE_DEFAULT, pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA,
                  pytsk3.TSK_FS_ATTR_TYPE_HFS_DATA}
    for attribute in tsk_file:
        if int(attribute.info.type) not in data_types or attribute.info.name:
            continue
        if attribute.info.flags & pytsk3.TSK_FS_ATTR_RES:
            return [], None
        runs = [(int(run.addr), int(run.addr + run.len)) for run in attribute
                if not run.flags & (pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER | pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE)]
        covered = sum(int(run.len) for run in attribute) * block_size
        return runs, covered
    return [], None


def _exfat_own_entries(read_at: Callable[[int, int], bytes], start: int) -> frozenset[int]:
    """TSK's addresses for the exFAT root folder's allocation bitmap, up-case table and volume label entries,
    which it lists as regular files (`$ALLOC_BITMAP`, `$UPCASE_TABLE`, `NAME (Volume Label Entry)`). Told apart
    by their entry type on disk, not by name: a file a user named `$UPCASE_TABLE` is still read."""
    boot = read_at(start, 512)
    if len(boot) < 512 or boot[3:11] != b"EXFAT   ":
        return frozenset()
    heap, _, root = struct.unpack_from("<III", boot, 88)
    sector_shift, cluster_shift = boot[108], boot[109]
    if not 9 <= sector_shift <= 12 or cluster_shift > 25 - sector_shift or root < 2:
        return frozenset()
    cluster = read_at(start + ((heap + ((root - 2) << cluster_shift)) << sector_shift), 1 << 16)
    per_sector_shift = sector_shift - 5  # 32-byte entries
    first = (root - 2) << (cluster_shift + per_sector_shift)
    own = set()
    for index in range(min(len(cluster), 1 << (sector_shift + cluster_shift)) // 32):
        kind = cluster[index * 32]
        if kind == 0:  # the end of the folder
            break
        if kind in _EXFAT_STRUCTURES:
            own.add(first + index + _TSK_FIRST_FAT_INODE)
    return frozenset(own)


# exFAT's allocation bitmap, up-case table and volume label entries (the in-use forms)
_EXFAT_STRUCTURES = {0x81, 0x82, 0x83}
_TSK_FIRST_FAT_INODE = 3  # TSK numbers FAT/exFAT directory entries from 3, in order on disk from the data area
# HFS+ catalog node IDs below 16 are the volume's own (TN1150): TSK lists the extents overflow, catalog, bad block,
# allocation, startup and attributes files among the root's files as `$ExtentsFile`, `$CatalogFile`, ...
_HFS_RESERVED_IDS = frozenset(range(16))
# NTFS's metafiles are MFT entries 0-15 ($MFT, $MFTMirr, $LogFile, $Volume, $AttrDef, the root, $Bitmap, $Boot,
# $BadClus, $Secure, $UpCase, $Extend, and 12-15 reserved): never a user's file, whatever its name. $Extend (11)
# is not entered: only NTFS writes in it ($ObjId, $Quota, $Reparse, $UsnJrnl, $RmMetadata, ...)
_NTFS_METAFILES = frozenset(range(16))


def _own_entries(fs: Any, read_at: Callable[[int, int], bytes], offset: int) -> frozenset[int]:
    """The addresses of the structures a file system (at `offset` in the media) lists as regular files."""
    import pytsk3

    kind = int(fs.info.ftype)
    if kind & pytsk3.TSK_FS_TYPE_HFS_DETECT:
        return _HFS_RESERVED_IDS
    if kind & pytsk3.TSK_FS_TYPE_NTFS_DETECT:
        return _NTFS_METAFILES
    return _exfat_own_entries(read_at, offset) if kind == pytsk3.TSK_FS_TYPE_EXFAT else frozenset()


def _is_structure(kind: Any, address: int, own_entries: frozenset[int]) -> bool:
    """The file system's own structures, which TSK lists beside files ($MBR, $FAT1, exFAT's bitmap): not items."""
    import pytsk3

    return bool(kind == pytsk3.TSK_FS_META_TYPE_VIRT or address in own_entries)


def _walk(fs: Any, label: str, read_at: Callable[[int, int], bytes], offset: int, fat: FatVolume | str | None = None,
          fat_files: dict[str, FatEntry] | None = None) -> Iterator[Entry]:
    """Every file of one file system (at `offset` in the media), depth first in listing order; deleted files
    once the walk knows which clusters live files hold; last, on FAT, the files only Vigie's reader `fat`
    lists (each also put in `fat_files` by relpath)."""
    import pytsk3

    walk = _Walk(block_size=int(fs.info.block_size), own_entries=_own_entries(fs, read_at, offset),
                 listed={} if isinstance(fat, FatVolume) else None, fat_labels=_fat_labels(fs, read_at, offset),
                 iso9660=fs if int(fs.info.ftype) == pytsk3.TSK_FS_TYPE_ISO9660 else None, fs=fs,
                 fat_erased=partial(erased_entry, read_at, offset) if isinstance(fat, FatVolume) else None)
    try:
        root = fs.open_dir("/")
    except _TSK_ERRORS as exc:
        yield Entry(relpath=ARCHIVE_SEPARATOR + label, error=f"root folder unreadable: {_tsk_reason(exc)}")
        return
    yield from _walk_dir(root, b"/", label, walk, (), 0)
    walk.allocated.sort()
    starts = [start for start, _ in walk.allocated]
    for entry, runs, covered in walk.deleted:
        if not entry.size:
            yield Entry(relpath=entry.relpath, mtime=entry.mtime, ctime=entry.ctime, atime=entry.atime,
                        inode=entry.inode, deleted=True,
                        error="deleted file whose metadata records no size: content not recoverable")
        elif covered < entry.size or any(_overlaps(walk.allocated, starts, run) for run in runs):
            yield Entry(relpath=entry.relpath, size=entry.size, mtime=entry.mtime, ctime=entry.ctime,
                        atime=entry.atime, inode=entry.inode, deleted=True,
                        error="deleted file whose clusters were reused by another file: content not recoverable")
        else:
            yield entry
    if isinstance(fat, FatVolume) and walk.listed is not None:
        yield from _fat_skipped(fat, label, walk.listed, walk, fat_files)


def _fat_volume(fs: Any, read_at: Callable[[int, int], bytes], offset: int) -> FatVolume | str | None:
    """Vigie's own reader of a FAT file system; None for another file system; text: why it cannot run."""
    bits = _fat_bits(fs)
    if bits is None:
        return None
    try:
        return FatVolume(read_at, offset, bits)
    except (FatLayoutError, OSError) as exc:
        return f"Vigie's own FAT reader could not cross-check The Sleuth Kit's listing: {exc}"


def _fat_bits(fs: Any) -> int | None:
    """12, 16 or 32 for a FAT file system; None for another."""
    import pytsk3

    return {pytsk3.TSK_FS_TYPE_FAT12: 12, pytsk3.TSK_FS_TYPE_FAT16: 16,
            pytsk3.TSK_FS_TYPE_FAT32: 32}.get(int(fs.info.ftype))


def _fat_labels(fs: Any, read_at: Callable[[int, int], bytes], offset: int) -> Callable[[int], bytes | None] | None:
    """On FAT12/16/32 (at `offset` in the media): the volume label entry at a metadata address, read from disk."""
    return None if _fat_bits(fs) is None else partial(label_entry, read_at, offset)


def _fat_label(name: bytes, address: int, labels: Callable[[int], bytes | None] | None) -> bytes | None:
    """The volume label entry The Sleuth Kit lists as the regular file `name` ("NAME (Volume Label Entry)"),
    told by its attributes on disk; None for any other file (one merely named so included)."""
    return labels(address) if labels is not None and name.endswith(LABEL_SUFFIX) else None


def _fat_skipped(fat: FatVolume, label: str, listed: dict[int, bytes], walk: _Walk,
                 found: dict[str, FatEntry] | None) -> Iterator[Entry]:
    """The files Vigie's FAT reader finds that The Sleuth Kit did not list (`listed`: what it did), or listed as
    live while they are deleted on disk (`walk.erased`), as entries of their own; folders keep the paths The
    Sleuth Kit gave them."""
    folders = {ROOT_ADDRESS: b""}
    unread = set(walk.erased)
    for file in fat.entries():
        path = listed.get(file.address) or folders[file.parent] + b"/" + _component(file.name)
        if file.is_dir:
            folders[file.address] = path
            continue
        if file.address in listed and file.address not in walk.erased:
            continue
        unread.discard(file.address)
        yield _fat_item(fat, file, label, path, walk, found)
    for address in sorted(unread):  # past where Vigie's reader ends a folder: read alone, never a silent miss
        alone = fat.entry_at(address)
        yield _fat_item(fat, alone, label, listed[address], walk, found) if alone is not None else Entry(
            relpath=walk.relpath(label, listed[address]), inode=address, deleted=True, error=_ERASED_UNREAD)


def _fat_item(fat: FatVolume, file: FatEntry, label: str, path: bytes, walk: _Walk,
              found: dict[str, FatEntry] | None) -> Entry:
    """A file Vigie's FAT reader reads in The Sleuth Kit's stead, at `path`, with what is said of it."""
    relpath = walk.relpath(label, path)
    if found is not None:
        found[relpath] = file
    said = _ERASED_NOTE if file.address in walk.erased else _SKIPPED_NOTE
    return Entry(relpath=relpath, size=file.size, mtime=file.mtime, ctime=file.ctime, atime=file.atime,
                 inode=file.address, deleted=file.deleted, error=fat.content(file)[1],
                 notes=said + (_SLASH_NOTE if b"\0" in path else ()) + (_LABEL_NOTE if file.label else ())
                 + _code_page_note(file.stored_name))


def _code_page_note(stored_name: bytes | None) -> tuple[str, ...]:
    """Said where an 8.3 name's bytes past ASCII are shown as "^": the bytes as stored, as nothing is lost."""
    if stored_name is None:
        return ()
    # each byte past printable ASCII, and a backslash, as \xNN: no letter guessed from a code page
    stored = "".join(chr(byte) if 0x20 <= byte <= 0x7E and byte != 0x5C else f"\\x{byte:02x}" for byte in stored_name)
    return (f"its 8.3 name holds bytes past ASCII, shown as ^ as The Sleuth Kit shows them (FAT does not record the "
            f"code page they were written in); as stored: {stored}",)


def _deleted(name_info: Any, meta: Any) -> bool:
    """Whether The Sleuth Kit lists a name, or the metadata it points to, as deleted."""
    import pytsk3

    return bool(name_info.flags & pytsk3.TSK_FS_NAME_FLAG_UNALLOC) or bool(
        meta is not None and meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC)


def _erased(deleted: bool, kind: Any, address: int, fat_erased: Callable[[int], bool] | None) -> bool:
    """A regular file The Sleuth Kit lists as live whose FAT directory entry is a deleted one on disk."""
    import pytsk3

    return not deleted and kind == pytsk3.TSK_FS_META_TYPE_REG and fat_erased is not None and fat_erased(address)


def _fat_said(fat: FatVolume | str | None) -> list[str]:
    """What the FAT cross-check records against the partition, once the walk is done."""
    return [fat] if isinstance(fat, str) else fat.said() if fat is not None else []


def _overlaps(allocated: list[tuple[int, int]], starts: list[int], run: tuple[int, int]) -> bool:
    """Whether `run` shares a block with the live files' ranges (sorted, and disjoint as live files are)."""
    index = bisect.bisect_left(starts, run[1])  # the ranges that start before the run ends
    return index > 0 and allocated[index - 1][1] > run[0]


def _component(name: bytes) -> bytes:
    """A name as one component of an item path: a "/" inside it (a corrupt or hostile file system; no file
    system allows one) becomes NUL, which no name holds either, so it reads back to this entry alone."""
    return name.replace(b"/", b"\0")


def _walk_dir(directory: Any, path: bytes, label: str, walk: _Walk, parents: tuple[int, ...],
              depth: int) -> Iterator[Entry]:
    import pytsk3

    for tsk_file in directory:
        name_info = tsk_file.info.name
        name = _component(bytes(name_info.name))
        if name in (b".", b".."):
            continue
        if tsk_file.info.meta is None and name_info.flags & pytsk3.TSK_FS_NAME_FLAG_UNALLOC:
            tsk_file = _deleted_record(walk.fs, int(directory.info.addr), tsk_file)
            if tsk_file is None:
                continue
        meta = tsk_file.info.meta
        child = path + name
        deleted = _deleted(name_info, meta)
        if meta is not None and walk.listed is not None:
            walk.listed[int(meta.addr)] = child
        if meta is None:
            if walk.iso9660 is not None and _empty_record(walk.iso9660, int(name_info.meta_addr)):
                continue
            yield Entry(relpath=walk.relpath(label, child), deleted=deleted,
                        error=("deleted file whose metadata is gone: content not recoverable" if deleted
                               else "no metadata for this name; not read"))
            continue
        kind = meta.type
        if _is_structure(kind, int(meta.addr), walk.own_entries):  # a structure folder too (NTFS's $Extend)
            continue
        if kind in (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR):
            yield from _enter_dir(tsk_file, child, label, walk, parents, depth, deleted)
            continue
        volume_label = _fat_label(name, int(meta.addr), walk.fat_labels)
        if volume_label is not None and holds_nothing(volume_label):
            continue  # a volume label (mkfs.vfat -n, mlabel): no file
        if _erased(deleted, kind, int(meta.addr), walk.fat_erased):
            walk.erased.add(int(meta.addr))  # read and recovered by Vigie's FAT reader, after the walk
            continue
        relpath = walk.relpath(label, child)
        mtime, ctime, atime = _times(meta)
        if walk.iso9660 is not None:  # its one date per record, read by TSK as a creation time, is the file's
            mtime, ctime = ctime, None  # modification time when the disc was made (mkisofs, xorriso)
        if kind == pytsk3.TSK_FS_META_TYPE_LNK:  # recorded with its target, never followed, as in a folder
            yield Entry(relpath=relpath, mtime=mtime, ctime=ctime, atime=atime, inode=int(meta.addr),
                        deleted=deleted, link_target=escape_name(bytes(meta.link or b"")))
            continue
        if kind != pytsk3.TSK_FS_META_TYPE_REG:
            yield Entry(relpath=relpath, mtime=mtime, ctime=ctime, atime=atime, inode=int(meta.addr),
                        deleted=deleted, error=f"not a regular file ({_type_name(kind)}); not read")
            continue
        entry = Entry(relpath=relpath, size=int(meta.size), mtime=mtime, ctime=ctime, atime=atime,
                      inode=int(meta.addr), deleted=deleted,
                      notes=(_SLASH_NOTE if b"\0" in child else ()) + (_LABEL_NOTE if volume_label else ()))
        runs, covered = _data_runs(tsk_file, walk.block_size)
        stored = sum(end - start for start, end in runs) * walk.block_size
        if covered is not None and entry.size and entry.size - stored > _MAX_HOLE_BYTES:  # deleted or not
            entry = replace(entry, error=(
                f"sparse file claiming {entry.size:,} bytes of which {stored:,} are stored (the rest would read as "
                "zeros; a corrupt or hostile file system?): not hashed, as reading it would stall the scan"))
        if deleted:
            walk.deleted.append((entry, runs, meta.size if covered is None else covered))
            continue
        walk.allocated.extend(runs)
        yield entry
        fork = _resource_fork(tsk_file)
        if fork:  # HFS+'s second stream of bytes (a classic Mac file's icons, pictures, ...), an item of its own
            yield replace(entry, relpath=walk.relpath(label, b"/".join([child, *_FORK])), size=fork[1], error=None,
                          notes=())


_FORK = [b"..namedfork", b"rsrc"]  # after a file's path: its resource fork, as macOS names it


def _resource_fork(tsk_file: Any) -> tuple[int, int] | None:
    """An HFS+ file's resource fork as (attribute id, size); None where it has none, or an empty one."""
    import pytsk3

    for attribute in tsk_file:
        if int(attribute.info.type) == pytsk3.TSK_FS_ATTR_TYPE_HFS_RSRC and attribute.info.size:
            return int(attribute.info.id), int(attribute.info.size)
    return None


def _deleted_record(fs: Any, folder: int, tsk_file: Any) -> Any:
    """A deleted name The Sleuth Kit lists without metadata (in `folder`), opened by its record where the record
    is still the name's: not in use, and its sequence number one above the name's. NTFS raises a record's number
    when it frees it, and TSK gives its `$OrphanFiles` (the folder it makes, numbered after the file system's
    last record, for deleted files no folder names any more) the number one below their record's on every file
    system; it then finds name and record unrelated, while the record is there to read. `tsk_file` unchanged
    where the record cannot be read or is another file's now (in use, or freed again since); None for a record
    in `$OrphanFiles` that never held a file: NTFS's reserved MFT entries 16-23, no name and no data, which
    mkntfs and Windows write so. ISO 9660 deletes nothing: its orphans are left as TSK lists them."""
    import pytsk3

    if int(fs.info.ftype) == pytsk3.TSK_FS_TYPE_ISO9660:
        return tsk_file
    name = tsk_file.info.name
    try:
        found = fs.open_meta(inode=int(name.meta_addr))
    except _TSK_ERRORS:
        return tsk_file
    meta = found.info.meta
    if (meta is None or meta.flags & pytsk3.TSK_FS_META_FLAG_ALLOC
            or int(meta.seq) != (int(name.meta_seq) + 1) & 0xFFFFFFFF):
        return tsk_file
    file_attributes = (pytsk3.TSK_FS_ATTR_TYPE_NTFS_FNAME, pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
    if (folder == int(fs.info.last_inum) and int(fs.info.ftype) & pytsk3.TSK_FS_TYPE_NTFS_DETECT
            and not any(int(attribute.info.type) in file_attributes for attribute in found)):
        return None
    return found


def _empty_record(fs: Any, address: int) -> bool:
    """Whether an ISO 9660 record TSK lists as an orphan holds no byte. ISO 9660 deletes nothing: such an orphan
    is a record TSK could not place in a folder (the Joliet twin of an empty file, a Rock Ridge link)."""
    try:
        return int(fs.open_meta(inode=address).info.meta.size) == 0
    except _TSK_ERRORS:
        return False


def _enter_dir(tsk_file: Any, path: bytes, label: str, walk: _Walk, parents: tuple[int, ...], depth: int,
               deleted: bool) -> Iterator[Entry]:
    address = int(tsk_file.info.meta.addr)
    if address in parents or depth >= _MAX_DEPTH:
        yield Entry(relpath=walk.relpath(label, path), deleted=deleted,
                    error="folder loops back on itself or nests too deep (corrupt file system); not entered")
        return
    try:
        listing = tsk_file.as_directory()
    except _TSK_ERRORS as exc:
        state = "deleted folder" if deleted else "folder"
        yield Entry(relpath=walk.relpath(label, path), deleted=deleted,
                    error=f"{state} whose listing cannot be read: {_tsk_reason(exc)}")
        return
    yield from _walk_dir(listing, path + b"/", label, walk, (*parents, address), depth + 1)


def _type_name(kind: Any) -> str:
    import pytsk3

    names = {pytsk3.TSK_FS_META_TYPE_FIFO: "named pipe", pytsk3.TSK_FS_META_TYPE_CHR: "character device",
             pytsk3.TSK_FS_META_TYPE_BLK: "block device", pytsk3.TSK_FS_META_TYPE_SOCK: "socket",
             pytsk3.TSK_FS_META_TYPE_SHAD: "shadow entry", pytsk3.TSK_FS_META_TYPE_WHT: "whiteout"}
    return names.get(kind, f"type {int(kind)}")  # pytsk3's types are plain numbers: named here


@dataclass(frozen=True)
class _Child:
    name: bytes
    address: int | None  # the metadata address; None where the name has none left
    is_dir: bool  # a folder the walk enters (not a structure folder: NTFS's $Extend)
    listed: bool  # the walk gives it an item path of its own (a folder or a file-system structure it does not)


class _OpenImage:
    """An image opened for reading items back: its media, file systems and folder listings, kept per process
    so that a worker lists each folder once rather than once per file. One lock serialises every read, as The
    Sleuth Kit is not thread-safe and `verify` reads from threads."""

    _LISTINGS = 256

    def __init__(self, root: str) -> None:
        self.media = _Media.open(root)
        self.lock = threading.Lock()
        self._systems = {s.label: s for s in _file_systems(self.media)}
        self._file_systems: dict[str, Any] = {}
        self._own_entries: dict[str, frozenset[int]] = {}
        self._fat_labels: dict[str, Callable[[int], bytes | None] | None] = {}
        self._fats: dict[str, FatVolume | str | None] = {}  # Vigie's FAT reader, where the file system is FAT
        self._listings: OrderedDict[tuple[str, int], list[_Child]] = OrderedDict()
        self._fat_files: dict[str, tuple[FatVolume | str | None, dict[str, FatEntry]]] = {}

    def file_system(self, label: str) -> Any:
        import pytsk3

        if label not in self._file_systems:
            system = self._systems.get(label)
            if system is None or system.error:
                raise FileNotFoundError(f"no readable partition {label} in the image")
            fs = self._file_systems[label] = pytsk3.FS_Info(_tsk_image(self.media), offset=system.offset)
            self._own_entries[label] = _own_entries(fs, self.media.read_at, system.offset)
            self._fat_labels[label] = _fat_labels(fs, self.media.read_at, system.offset)
            self._fats[label] = _fat_volume(fs, self.media.read_at, system.offset)
        return self._file_systems[label]

    def children(self, label: str, address: int) -> list[_Child]:
        import pytsk3

        key = (label, address)
        listing = self._listings.get(key)
        if listing is not None:
            self._listings.move_to_end(key)
            return listing
        listing = []
        fs = self.file_system(label)
        erased = self._fat_erased(label)
        for tsk_file in fs.open_dir(inode=address):
            name_info = tsk_file.info.name  # kept: a record opened by its address has no name
            name = bytes(name_info.name)
            if tsk_file.info.meta is None and name_info.flags & pytsk3.TSK_FS_NAME_FLAG_UNALLOC:
                tsk_file = _deleted_record(fs, address, tsk_file)  # as the walk reads it
                if tsk_file is None:
                    continue
            meta = tsk_file.info.meta
            kind = None if meta is None else meta.type
            child = None if meta is None else int(meta.addr)
            structure = child is not None and _is_structure(kind, child, self._own_entries[label])
            is_dir = kind in (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR)
            volume_label = None if child is None else _fat_label(name, child, self._fat_labels[label])
            listed = not is_dir and not structure and not (volume_label is not None and holds_nothing(volume_label)) \
                and not (child is not None and _erased(_deleted(name_info, meta), kind, child, erased))
            listing.append(_Child(_component(name), child, is_dir and not structure, listed))
        self._listings[key] = listing
        if len(self._listings) > self._LISTINGS:
            self._listings.popitem(last=False)
        return listing

    def find(self, label: str, parts: list[bytes], occurrence: int) -> Any:
        """The `occurrence`-th file at `parts` in the file system `label`, counted in the walk's order."""
        fs = self.file_system(label)
        address = self._find(label, int(fs.info.root_inum), parts, occurrence, [0], ())
        return None if address is None else fs.open_meta(inode=address)

    def _find(self, label: str, directory: int, parts: list[bytes], occurrence: int, seen: list[int],
              parents: tuple[int, ...]) -> int | None:
        for child in self.children(label, directory):
            if child.name != parts[0]:
                continue
            if len(parts) == 1:  # counted as the walk numbers entries of one path
                if child.listed:
                    seen[0] += 1
                    if seen[0] == occurrence:
                        return child.address
                continue
            if not child.is_dir or child.address is None or child.address in parents or len(parents) >= _MAX_DEPTH:
                continue
            try:
                found = self._find(label, child.address, parts[1:], occurrence, seen, (*parents, directory))
            except _TSK_ERRORS:  # a deleted folder whose listing is gone, as the walk found it
                continue
            if found is not None:
                return found
        return None

    def _fat_erased(self, label: str) -> Callable[[int], bool] | None:
        """Whether a FAT entry is a deleted one on disk, where Vigie's FAT reader runs (as the walk tells it)."""
        fat = self._fats[label]
        return partial(erased_entry, self.media.read_at, self._systems[label].offset) \
            if isinstance(fat, FatVolume) else None

    def fat_file(self, label: str, relpath: str) -> tuple[FatVolume, FatEntry] | None:
        """A file only Vigie's FAT reader lists (The Sleuth Kit skipped its entry, or listed it as live while it
        is deleted), found again by the walk that numbered it."""
        if label not in self._fat_files:
            fs = self.file_system(label)
            offset = self._systems[label].offset
            fat = self._fats[label]
            files: dict[str, FatEntry] = {}
            if isinstance(fat, FatVolume):
                for _ in _walk(fs, label, self.media.read_at, offset, fat, files):
                    pass
            self._fat_files[label] = (fat, files)
        fat, files = self._fat_files[label]
        file = files.get(relpath)
        return (fat, file) if isinstance(fat, FatVolume) and file is not None else None


_OPEN_IMAGES: OrderedDict[tuple[int, str, int, int], _OpenImage] = OrderedDict()
_OPEN_IMAGES_LOCK = threading.Lock()


def _open_image(root: str) -> _OpenImage:
    """This process's open image for `root` (a forked worker opens its own: descriptors are not shared)."""
    info = os.stat(root)
    key = (os.getpid(), root, info.st_size, info.st_mtime_ns)
    with _OPEN_IMAGES_LOCK:
        image = _OPEN_IMAGES.get(key)
        if image is None:
            image = _OPEN_IMAGES[key] = _OpenImage(root)
            while len(_OPEN_IMAGES) > 4:
                (pid, *_), oldest = _OPEN_IMAGES.popitem(last=False)
                if pid == os.getpid():  # an image inherited from the parent is left to the parent
                    oldest.media.close()
        return image


def stored_digests(path: str) -> tuple[tuple[str, str], ...]:
    """The digests an image file holds of its own media (an E01's), read again; () for a raw image."""
    with _Media.open(path) as media:
        return media.stored_digests()


def stored_digests_damage(path: str) -> str | None:
    """Said where an E01's hash or digest section is damaged: the digests it stored are not all read (None
    where the image cannot be opened: said by the reading of its media)."""
    try:
        with _Media.open(path) as media:
            return media.digest_damage()
    except OSError:
        return None


class DiskImageSource:
    """A disk image: its media bytes (relpath "") and every file of every file system in it."""

    kind = "disk-image"
    members_opened = 1  # the first "!/" member of an item path is a file the source opens itself

    def __init__(self, given: str) -> None:
        self.given = given
        self.root = os.path.abspath(given)

    def entries(self) -> Iterator[Entry]:
        try:
            media = _Media.open(self.root)
        except OSError as exc:
            yield Entry(relpath="", error=f"cannot open the disk image: {exc.strerror or exc}")
            return
        with media:
            try:
                gpt = backup_gpt_note(media)
            except OSError:  # an image unreadable from its start: said by the "!/p0" entry below
                gpt = None
            notes = tuple(note for note in (split_gap_note(self.root), gpt, media.survey()) if note)
            yield Entry(relpath="", size=media.size, stored_digests=media.stored_digests(), notes=notes)
            try:
                media.read_at(0, 4096)
                systems = _file_systems(media)
            except _TSK_ERRORS as exc:
                systems = []
                reason = f"the image cannot be read ({_tsk_reason(exc)})"
            else:
                reason = "no partition table or file system recognised"
            if not systems:
                yield Entry(relpath=ARCHIVE_SEPARATOR + "p0", error=f"{reason}; no file inside the image read")
            for system in systems:
                yield from self._system_entries(media, system)

    def _system_entries(self, media: _Media, system: _FileSystem) -> Iterator[Entry]:
        import pytsk3

        relpath = ARCHIVE_SEPARATOR + system.label
        if system.error:
            yield Entry(relpath=relpath, error=system.error)
            return
        said = [system.note] if system.note else []  # all in one entry: the case keeps one item per path
        found = 0
        try:
            fs = pytsk3.FS_Info(_tsk_image(media), offset=system.offset)
            media.unread = None
            fat = _fat_volume(fs, media.read_at, system.offset)
            for entry in _walk(fs, system.label, media.read_at, system.offset, fat):
                found += 1
                if entry.relpath == relpath and entry.error:  # the root folder unreadable
                    said.append(entry.error)
                else:
                    yield entry
        except _TSK_ERRORS as exc:  # a file system corrupt past its first sectors
            said.append(f"{system.description}: reading stopped: {_tsk_reason(exc)}")
        else:
            if media.unread:  # a folder or table read short: files listed there may be missing
                said.append(f"{system.description}: some of its folders or tables are unreadable, so files may be "
                            f"missing from its listing: {media.unread}")
            if not found:  # said, as an empty listing may be a damaged one
                said.append(f"{system.description}: no file found (an empty file system, or its folders are "
                            "damaged)")
            said.extend(f"{system.description}: {finding}" for finding in _fat_said(fat))
        if said:
            yield Entry(relpath=relpath, error=said[-1], notes=tuple(said[:-1]))

    def open(self, relpath: str) -> BinaryIO:
        """The media bytes (relpath ""), or the file a relpath's first member names (its archive, for a
        member further in)."""
        import pytsk3

        path = parse_relpath(relpath)
        if not path.members:
            media = _Media.open(self.root)  # a stream of its own: hashing the whole media takes long
            return io.BufferedReader(_Stream(media.read_at, media.size, media.close), 1 << 20)
        image = _open_image(self.root)
        label, _, inside = path.members[0].name.partition(b"/")
        shown = escape_name(path.members[0].name)
        if not _PARTITION.fullmatch(label):
            raise FileNotFoundError(f"not a partition of the image: {shown}")
        parts, occurrence = inside.split(b"/"), path.members[0].occurrence
        with image.lock:
            found = fork = None
            if len(parts) > 2 and parts[-2:] == _FORK:  # a resource fork, unless folders of these names hold it
                found = image.find(label.decode(), parts[:-2], occurrence)
                fork = None if found is None else _resource_fork(found)
            if fork is None:
                found = image.find(label.decode(), parts, occurrence)
            skipped = None if found is not None else image.fat_file(
                label.decode(), member_relpath("", path.members[0].name, occurrence))
            if skipped is not None:
                return _fat_stream(image, *skipped, shown)
            if found is None or found.info.meta is None:
                raise FileNotFoundError(f"not found in the image: {shown}")
            stored = None
            if fork is None:
                size = int(found.info.meta.size)
                block_size = int(image.file_system(label.decode()).info.block_size)
                runs, covered = _data_runs(found, block_size)
                stored = sum(end - start for start, end in runs) * block_size
            else:
                size, covered = fork[1], None
        if covered is not None and stored is not None and size - stored > _MAX_HOLE_BYTES:  # as the walk judged it
            raise OSError(f"sparse file claiming {size:,} bytes of which {stored:,} are stored: not read: {shown}")
        if not size and fork is None and found.info.meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC:  # as the walk
            raise OSError(f"deleted file whose metadata records no size: {shown}")  # judged it: not an empty file
        if covered is not None and covered < size:
            if found.info.meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC:  # as the walk judged it
                raise OSError(f"deleted file whose clusters were reused: {shown}")
            raise OSError(f"its clusters hold {covered:,} of its {size:,} bytes (a broken or looping cluster chain: "
                          f"a corrupt file system); not read whole: {shown}")

        def read_at(offset: int, length: int) -> bytes:
            try:
                with image.lock:
                    image.media.unread = None
                    if fork is not None:
                        data = bytes(found.read_random(offset, length, pytsk3.TSK_FS_ATTR_TYPE_HFS_RSRC, fork[0]))
                    else:
                        data = bytes(found.read_random(offset, length))
                    unread = image.media.unread
            except _TSK_ERRORS as exc:
                raise OSError(image.media.unread or f"unreadable inside the image: {_tsk_reason(exc)}") from exc
            if unread:  # The Sleuth Kit fills a block it could not read with zeros, or stops short, silently
                raise OSError(unread)
            return data

        return io.BufferedReader(_Stream(read_at, size), 1 << 20)


def _fat_stream(image: _OpenImage, fat: FatVolume, file: FatEntry, shown: str) -> BinaryIO:
    """A file only Vigie's FAT reader lists, read through its clusters."""
    runs, error = fat.content(file)
    if error:
        raise OSError(f"{error}: {shown}")

    def read_at(offset: int, length: int) -> bytes:
        with image.lock:  # the media's reads are serialised as The Sleuth Kit's are
            return read_runs(image.media.read_at, runs, offset, length)

    return io.BufferedReader(_Stream(read_at, file.size), 1 << 20)
