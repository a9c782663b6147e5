r"""Forensic disk images (EWF/E01, raw, split raw) read in place through libewf and The Sleuth Kit.

Nothing is mounted or extracted. In the path grammar of `sources/base.py` the image is the source and each
file of each file system is one member of it, entered by "!/":

    relpath  := ""                            the image's media bytes (what an E01's stored MD5/SHA-1 cover)
              | "!/" partition "/" path       a file: shown as image.E01!/p1/DCIM/IMG_0001.JPG
    partition := "p" N                        N = 1, 2, ...: the allocated partitions in partition-table order;
                                              "p0": a file system that fills the image: with no partition table,
                                              or the ISO 9660 tree of a hybrid CD image (beside an HFS+ one)
    path      := name ( "/" name )* ( "/..namedfork/" stream )?
                                              a file's other stream of bytes, an item of its own: its HFS+
                                              resource fork ("rsrc"), an NTFS alternate data stream (its name)

Two entries that share a path (a deleted file beside a live one of the same name) are numbered "!2", "!3"
in walk order, as repeated archive members are. Archives found in the image are expanded by the analysis
as any other file's are (their members follow with a further "!/"). A stored item path therefore reads back
to (partition, path, occurrence) through `parse_relpath`, and `open` finds the file again by the walk's own
rule and numbering (`disk/items.py`).

Deleted files whose content The Sleuth Kit can still read are listed with `deleted`, orphans (under TSK's
`$OrphanFiles`) too; a deleted file whose clusters now belong to another file, or whose metadata is gone, is
listed with an error and no content. A file system's own structures (NTFS's metafiles, FAT's tables, ...) are
not items; an ISO 9660 file hidden from the Joliet tree is read from its record, with a note. Unallocated space
and file slack are not read.

This module is the source and what is taken for an image; its parts are in `sources/disk/`: the media bytes
(`media.py`), partitions and file systems (`volumes.py`), what is an item (`items.py`, with `names.py` and FAT's
`fat.py`), the scan's walk (`walk.py`) and the read-back (`readback.py`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import BinaryIO

from vigie.sources.base import ARCHIVE_SEPARATOR, Entry, parse_relpath
from vigie.sources.disk.media import EWF_SIGNATURE, Media, linked_segments_note, split_gap_note
from vigie.sources.disk.readback import open_item
from vigie.sources.disk.volumes import TSK_ERRORS, file_systems, gpt_note, tsk_reason
from vigie.sources.disk.walk import partition_entries
from vigie.sources.mbr import entries_of
from vigie.sources.mediatype import EWF_TYPE, SNIFF_BYTES, sniff

IMAGE_SUFFIXES = (".e01", ".ex01", ".raw", ".dd", ".img", ".001", ".iso")
EXTRA_MISSING_NOTE = ("this looks like a disk image, but the `disk` extra (pytsk3, libewf-python) is not "
                      "installed: it was hashed as one file and the files inside it were not read "
                      "(pip install 'vigie[disk]')")
_MIN_IMAGE_BYTES = 32 * 1024  # smaller than any file system The Sleuth Kit reads
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


DISK_HEAD_BYTES = 32 * 1024 + 6  # what `disk_structure` reads: up to an ISO 9660 volume descriptor's name
_FAT_SECTOR_SIZES = (512, 1024, 2048, 4096)


def disk_structure(head: bytes) -> str | None:
    """The partition table or file system a file's first bytes hold, whatever else they pass for (a picture's
    header may fill an MBR's boot code, or an ISO's system area), else None."""
    if head[3:11] in (b"NTFS    ", b"EXFAT   "):
        return f"an {head[3:8].decode().rstrip()} file system"
    if head[512:520] == b"EFI PART":
        return "a GPT partition table"
    if head[32769:32774] == b"CD001":
        return "an ISO 9660 file system"
    if head[1024:1026] in (b"H+", b"HX") and head[1026:1028] in (b"\0\x04", b"\0\x05"):
        return "an HFS+ file system"
    if head[510:512] != b"\x55\xaa":
        return None
    sector_size = int.from_bytes(head[11:13], "little")
    per_cluster = head[13]
    if (head[0] in (0xEB, 0xE9) and sector_size in _FAT_SECTOR_SIZES and per_cluster
            and per_cluster & (per_cluster - 1) == 0 and head[16] in (1, 2)):
        return "a FAT file system"
    return "an MBR partition table" if entries_of(head[:512]) else None


def nested_image_note(relpath: str, media_type: str, head: bytes = b"") -> str | None:
    """What to record against a disk image found inside a scanned folder, archive or image: it is not opened
    (its files would need a source of their own). Told by its EWF signature, its first bytes (`head`, at least
    DISK_HEAD_BYTES of them where the file has them), or a raw one by its name."""
    if relpath == "":  # the file the user named: opened as an image where it is one (`probe`)
        return None
    leaf = parse_relpath(relpath).leaf_name.lower()
    named_like = leaf.endswith(tuple(s.encode() for s in IMAGE_SUFFIXES)) or _PIECE.search(leaf)
    if media_type == EWF_TYPE:
        kind = "an EWF (E01) disk image"
    elif len(head) >= _MIN_IMAGE_BYTES and (structure := disk_structure(head)) is not None:
        kind = f"holds {structure} from its first bytes"
    elif media_type == "application/octet-stream" and named_like:
        kind = "named like a disk image"
    else:
        return None
    return (f"{kind}: a disk image inside a scanned folder, archive or image is not opened and the files inside "
            "it were not read; scan the image itself (vigie scan IMAGE)")


def partition_entry(relpath: str) -> bool:
    """Whether an image's item path names a partition itself ("!/p1": what the scan said against it), not a
    file: nothing to read back, its bytes are the image's."""
    return re.fullmatch(re.escape(ARCHIVE_SEPARATOR) + r"p(0|[1-9][0-9]*)", relpath) is not None


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
            head = stream.read(DISK_HEAD_BYTES)
    except OSError:
        return False
    if head.startswith(EWF_SIGNATURE):  # however small: a segment cut short is said, not hashed as a plain file
        return True
    if size < _MIN_IMAGE_BYTES:
        return False
    # a picture, video or archive is never taken for a disk, unless it also holds a disk's structure
    if sniff(head[:SNIFF_BYTES]) != "application/octet-stream" and disk_structure(head) is None:
        return False
    try:
        with Media.open(path) as media:
            return bool(file_systems(media))
    except TSK_ERRORS:
        return False


class DiskImageSource:
    """A disk image: its media bytes (relpath "") and every file of every file system in it."""

    kind = "disk-image"
    members_opened = 1  # the first "!/" member of an item path is a file the source opens itself

    def __init__(self, given: str) -> None:
        self.given = given
        self.root = os.path.abspath(given)

    def entries(self) -> Iterator[Entry]:
        try:
            media = Media.open(self.root)
        except OSError as exc:
            yield Entry(relpath="", error=f"cannot open the disk image: {exc.strerror or exc}")
            return
        with media:
            try:
                gpt = gpt_note(media)
            except OSError:  # an image unreadable from its start: said by the "!/p0" entry below
                gpt = None
            notes = tuple(note for note in (split_gap_note(self.root), linked_segments_note(self.root), gpt,
                                            media.survey()) if note)
            yield Entry(relpath="", size=media.size, stored_digests=media.stored_digests(), notes=notes)
            try:
                media.read_at(0, 4096)
                systems = file_systems(media)
            except TSK_ERRORS as exc:
                systems = []
                reason = f"the image cannot be read ({tsk_reason(exc)})"
            else:
                reason = "no partition table or file system recognised"
            if not systems:
                yield Entry(relpath=ARCHIVE_SEPARATOR + "p0", error=f"{reason}; no file inside the image read")
            for system in systems:
                yield from partition_entries(self.root, media, system)

    def open(self, relpath: str) -> BinaryIO:
        """The media bytes (relpath ""), or the file a relpath's first member names (its archive, for a
        member further in)."""
        return open_item(self.root, relpath)
