"""The scan's walk of one file system: every item, depth first in listing order, with its times, inode,
deleted flag, errors and notes; deleted files judged once the walk knows which clusters live files hold."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from vigie.sources.base import ARCHIVE_SEPARATOR, Entry, escape_name
from vigie.sources.disk.exfat import FRAGMENTED_NOTE
from vigie.sources.disk.exfatdir import exfat_skipped
from vigie.sources.disk.fat import fat_said, fat_skipped
from vigie.sources.disk.folders import ORPHANS_COSTLY, EnteredFolders, again_error
from vigie.sources.disk.items import ItemRules, Listed, NamedStream, Role, not_entered
from vigie.sources.disk.media import Media
from vigie.sources.disk.names import SLASH_NOTE
from vigie.sources.disk.own import OwnFile
from vigie.sources.disk.volumes import TSK_ERRORS, FileSystem, tsk_reason
from vigie.sources.fatdir import FatVolume

MAX_HOLE_BYTES = 1 << 30  # zeros a sparse file may claim past its stored data before it is not hashed
# zeros the sparse files of one file system may claim in all before the next ones are not hashed: a small hostile
# image of many files each just under MAX_HOLE_BYTES would otherwise cost hours of hashing zeros
MAX_HOLES_PER_FILE_SYSTEM = 8 << 30
_LOOP = "folder loops back on itself or nests too deep (corrupt file system); not entered"


@dataclass
class _Walk:
    """What one file system's walk gathers: entries, the allocated files' clusters, deleted files to judge."""

    block_size: int
    rules: ItemRules
    folders: EnteredFolders  # each folder entered once
    occurrences: dict[bytes, int] = field(default_factory=dict)
    allocated: list[tuple[int, int]] = field(default_factory=list)  # (first block, end block)
    deleted: list[tuple[Entry, list[tuple[int, int]], int]] = field(default_factory=list)  # entry, runs, covered
    listed: dict[int, bytes] | None = None  # metadata address -> path of every name listed, where FAT wants it
    erased: set[int] = field(default_factory=set)  # FAT: live to TSK, deleted on disk: left to Vigie's reader
    moved: set[int] = field(default_factory=set)  # FAT: TSK's orphans Vigie's reader places in their folder
    holes_left: int = field(default_factory=lambda: MAX_HOLES_PER_FILE_SYSTEM)
    cuts: int = 0  # folders the depth cap left unentered so far

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


def data_runs(tsk_file: Any, block_size: int, stream: NamedStream | None = None) -> tuple[list[tuple[int, int]],
                                                                                          int | None]:
    """The default data stream's clusters (or those of `stream`) as (first, end) blocks, and how many bytes they
    hold (None: the content sits in the metadata record itself, or the stream is not found)."""
    import pytsk3

    data_types = {pytsk3.TSK_FS_ATTR_TYPE_DEFAULT, pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA,
                  pytsk3.TSK_FS_ATTR_TYPE_HFS_DATA}
    for attribute in tsk_file:
        if stream is not None:
            if int(attribute.info.type) != stream.kind or int(attribute.info.id) != stream.attribute_id:
                continue
        elif int(attribute.info.type) not in data_types or attribute.info.name:
            continue
        if attribute.info.flags & pytsk3.TSK_FS_ATTR_RES:
            return [], None
        runs = [(int(run.addr), int(run.addr + run.len)) for run in attribute
                if not run.flags & (pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER | pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE)]
        covered = sum(int(run.len) for run in attribute) * block_size
        return runs, covered
    return [], None


def walk_file_system(rules: ItemRules, label: str, own_files: dict[str, OwnFile] | None = None,
                     again: set[tuple[int, int, bool]] | None = None) -> Iterator[Entry]:
    """Every file of one file system, depth first in listing order, each folder entered once; deleted files once
    the walk knows which clusters live files hold; last, on FAT and exFAT, the files only Vigie's own reader lists
    (each also put in `own_files` by relpath). The folder names not entered again are put in `again`, as
    (the address of the folder listing one, its index in that listing, whether a deleted folder's name leads to
    it)."""
    fs, fat, exfat = rules.fs, rules.fat, rules.exfat_folders
    cross_checked = isinstance(fat, FatVolume) or exfat is not None
    block_size = int(fs.info.block_size)
    try:
        root = fs.open_dir("/")
        first_block = _first_block(fs.open_meta(inode=int(root.info.addr)), block_size) if fat is not None else None
    except TSK_ERRORS as exc:
        yield Entry(relpath=ARCHIVE_SEPARATOR + label, error=f"root folder unreadable: {tsk_reason(exc)}")
        return
    walk = _Walk(block_size=block_size, rules=rules, folders=EnteredFolders(int(root.info.addr)),
                 listed={} if cross_checked else None)
    walk.folders.enter(int(root.info.addr), first_block, b"", False, 0)
    yield from _walk_dir(root, b"/", label, walk, (), 0, False)
    if again is not None:
        again.update(walk.folders.again)
    yield from _streams_beside(rules.root(), b"", label, walk)
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
        elif runs and walk.rules.exfat is not None and walk.rules.exfat.chained_elsewhere(runs[0][0], entry.size):
            yield replace(entry, notes=(*entry.notes, FRAGMENTED_NOTE))
        else:
            yield entry
    if isinstance(fat, FatVolume) and walk.listed is not None:
        yield from fat_skipped(fat, walk.listed, walk.erased, walk.moved, partial(walk.relpath, label), own_files)
    if exfat is not None and walk.listed is not None:
        yield from exfat_skipped(exfat, walk.listed, partial(walk.relpath, label), own_files)


def _overlaps(allocated: list[tuple[int, int]], starts: list[int], run: tuple[int, int]) -> bool:
    """Whether `run` shares a block with the live files' ranges (sorted, and disjoint as live files are)."""
    index = bisect.bisect_left(starts, run[1])  # the ranges that start before the run ends
    return index > 0 and allocated[index - 1][1] > run[0]


def _walk_dir(directory: Any, path: bytes, label: str, walk: _Walk, parents: tuple[int, ...],
              depth: int, gone: bool) -> Iterator[Entry]:
    """The items below a folder (`gone`: reached through a deleted folder's name)."""
    import pytsk3

    folder = int(directory.info.addr)
    for index, listed in enumerate(walk.rules.listing(folder, directory)):
        child = path + listed.name
        if listed.address is None:
            yield Entry(relpath=walk.relpath(label, child), deleted=listed.deleted,
                        error=("deleted file whose metadata is gone: content not recoverable" if listed.deleted
                               else "no metadata for this name; not read"))
            continue
        if walk.listed is not None:
            walk.listed[listed.address] = child
        if listed.role is Role.NONE:
            yield from _streams_beside(listed, child, label, walk)  # a stream added to an NTFS metafile
            continue
        if listed.role is Role.ERASED:
            walk.erased.add(listed.address)  # read and recovered by Vigie's FAT reader, after the walk
            continue
        if listed.role is Role.MOVED:
            walk.moved.add(listed.address)  # an item at its folder's path, read by Vigie's FAT reader, after the walk
            continue
        if listed.role in (Role.NOT_FOLDER, Role.NOT_ENTERED):  # Vigie's FAT or exFAT reader's item, after the
            continue  # walk; or The Sleuth Kit's orphans, too costly to search (said on the partition)
        tsk_file = walk.rules.file(listed)
        deleted, kind, meta = listed.deleted, listed.kind, tsk_file.info.meta
        mtime, ctime, atime = _times(meta)
        if walk.rules.iso9660:  # its one date per record, read by TSK as a creation time, is the file's
            mtime, ctime = ctime, None  # modification time when the disc was made (mkisofs, xorriso)
        if listed.role is Role.FOLDER:
            if _orphans_costly(walk, folder, listed):  # The Sleuth Kit's search would not end: said on the partition
                walk.rules.folders_said[listed.address] = ORPHANS_COSTLY
                continue
            named = (folder, index, gone or deleted)  # a folder name, and whether a deleted folder's leads to it
            yield from _enter_dir(tsk_file, child, label, walk, parents, depth, deleted, named)
            yield from _streams(Entry(relpath="", mtime=mtime, ctime=ctime, atime=atime, inode=int(meta.addr),
                                      deleted=deleted), tsk_file, child, label, listed, walk)
            continue
        relpath = walk.relpath(label, child)
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
                      notes=(SLASH_NOTE if b"\0" in child else ()) + listed.notes)
        yield from _content(entry, tsk_file, walk)
        yield from _streams(entry, tsk_file, child, label, listed, walk)


def _content(entry: Entry, tsk_file: Any, walk: _Walk, stream: NamedStream | None = None) -> Iterator[Entry]:
    """A file's content (or its `stream`): the entry now, or, deleted, once the walk knows the live clusters."""
    runs, covered = data_runs(tsk_file, walk.block_size, stream)
    stored = sum(end - start for start, end in runs) * walk.block_size
    holes = entry.size - stored if covered is not None and entry.size else 0
    if holes > MAX_HOLE_BYTES:  # deleted or not
        entry = replace(entry, error=(
            f"sparse file claiming {entry.size:,} bytes of which {stored:,} are stored (the rest would read as "
            "zeros; a corrupt or hostile file system?): not hashed, as reading it would stall the scan"))
    elif holes > walk.holes_left:
        entry = replace(entry, error=(
            f"sparse file claiming {entry.size:,} bytes of which {stored:,} are stored, after other sparse files of "
            f"this file system claiming {MAX_HOLES_PER_FILE_SYSTEM - walk.holes_left:,} bytes of zeros in all (a "
            "corrupt or hostile file system?): not hashed, as reading them all would stall the scan"))
    elif holes > 0:
        walk.holes_left -= holes
    if entry.deleted:
        walk.deleted.append((entry, runs, entry.size or 0 if covered is None else covered))
        return
    walk.allocated.extend(runs)
    yield entry


def _streams_beside(listed: Listed, path: bytes, label: str, walk: _Walk) -> Iterator[Entry]:
    """The streams of a name that is no item itself (the root folder, an NTFS metafile), as items of their own."""
    if not listed.streams:
        return
    tsk_file = walk.rules.file(listed)
    mtime, ctime, atime = _times(tsk_file.info.meta)
    yield from _streams(Entry(relpath="", mtime=mtime, ctime=ctime, atime=atime, inode=listed.address,
                              deleted=listed.deleted), tsk_file, path, label, listed, walk)


def _streams(entry: Entry, tsk_file: Any, path: bytes, label: str, listed: Listed, walk: _Walk) -> Iterator[Entry]:
    """A file's other streams of bytes (an HFS+ resource fork: a classic Mac file's icons, ...; an NTFS alternate
    data stream), each an item of its own after the file (after what a folder holds, for a folder's)."""
    for stream in listed.streams:
        named = b"/".join([path, *stream.path])
        notes = (SLASH_NOTE if b"\0" in named else ()) + stream.notes
        yield from _content(replace(entry, relpath=walk.relpath(label, named), size=stream.size, notes=notes),
                            tsk_file, walk, stream)


def _first_block(tsk_file: Any, block_size: int) -> int | None:
    """The first block of a folder's listing, where it lies in blocks of its own (FAT's clusters)."""
    runs, _ = data_runs(tsk_file, block_size)
    return runs[0][0] if runs else None


def _orphans_costly(walk: _Walk, folder: int, listed: Listed) -> bool:
    """Whether `listed`, in the folder at `folder`, is The Sleuth Kit's `$OrphanFiles`, whose search for orphan
    files would enter too many folders (exFAT's is judged by Vigie's own reader, before the walk)."""
    fs = walk.rules.fs
    return (folder == walk.folders.root and listed.address == int(fs.info.last_inum)
            and walk.rules.exfat is None and walk.folders.orphans_costly())


def _enter_dir(tsk_file: Any, path: bytes, label: str, walk: _Walk, parents: tuple[int, ...], depth: int,
               deleted: bool, named: tuple[int, int, bool]) -> Iterator[Entry]:
    """The items below a folder (`named`: the address of the folder listing it, its index in that listing,
    whether a deleted folder's name leads to it), where no path before this one entered it."""
    address = int(tsk_file.info.meta.addr)
    if not_entered(address, parents, depth):
        walk.cuts += address not in parents  # the depth cap: what holds it is entered again from less deep
        yield Entry(relpath=walk.relpath(label, path), deleted=deleted, error=_LOOP)
        return
    # FAT's folder entries sharing a first cluster are one folder (its chain follows from there); ext2/3/4 list a
    # folder's blocks in its inode, and exFAT's are Vigie's own reader's to tell (`ExfatFolders.foreign`)
    first_block = _first_block(tsk_file, walk.block_size) if walk.rules.fat is not None else None
    gone = named[2]
    folder = walk.folders.identify(address, first_block, gone)
    if folder in parents or folder == walk.folders.root:  # another entry of a folder above it (FAT: its first
        # cluster): read back as the walk did
        walk.folders.again.add(named)
        yield Entry(relpath=walk.relpath(label, path), deleted=deleted, error=_LOOP)
        return
    first = walk.folders.entered_at(named[0], folder, gone, depth)
    if first is not None:  # its files listed once, at the path that entered it
        walk.folders.again.add(named)
        yield Entry(relpath=walk.relpath(label, path), deleted=deleted, error=again_error(first, gone))
        return
    try:
        listing = tsk_file.as_directory()
    except TSK_ERRORS as exc:
        state = "deleted folder" if deleted else "folder"
        yield Entry(relpath=walk.relpath(label, path), deleted=deleted,
                    error=f"{state} whose listing cannot be read: {tsk_reason(exc)}")
        return
    walk.folders.enter(address, first_block, path, gone, depth)
    cuts = walk.cuts
    yield from _walk_dir(listing, path + b"/", label, walk, (*parents, address), depth + 1, gone)
    if walk.cuts > cuts:
        walk.folders.cut(address, gone)


def _type_name(kind: Any) -> str:
    import pytsk3

    names = {pytsk3.TSK_FS_META_TYPE_FIFO: "named pipe", pytsk3.TSK_FS_META_TYPE_CHR: "character device",
             pytsk3.TSK_FS_META_TYPE_BLK: "block device", pytsk3.TSK_FS_META_TYPE_SOCK: "socket",
             pytsk3.TSK_FS_META_TYPE_SHAD: "shadow entry", pytsk3.TSK_FS_META_TYPE_WHT: "whiteout"}
    return names.get(kind, f"type {int(kind)}")  # pytsk3's types are plain numbers: named here


def partition_entries(root: str, media: Media, system: FileSystem) -> Iterator[Entry]:
    """The entries of one partition of the image `root`: its files, then what is said against the partition."""
    relpath = ARCHIVE_SEPARATOR + system.label
    if system.error:
        yield Entry(relpath=relpath, error=system.error)
        return
    said = [system.note] if system.note else []  # all in one entry: the case keeps one item per path
    found, fat = 0, None
    try:
        rules = ItemRules.open(root, media, system)
        media.unread = None
        fat = rules.fat
        for entry in walk_file_system(rules, system.label):
            found += 1
            if entry.relpath == relpath and entry.error:  # the root folder unreadable
                said.append(entry.error)
            else:
                yield entry
    except TSK_ERRORS as exc:  # a file system corrupt past its first sectors
        said.append(f"{system.description}: reading stopped: {tsk_reason(exc)}")
    else:
        if media.unread:  # a folder or table read short: files listed there may be missing
            said.append(f"{system.description}: some of its folders or tables are unreadable, so files may be "
                        f"missing from its listing: {media.unread}")
        if not found:  # said, as an empty listing may be a damaged one
            said.append(f"{system.description}: no file found (an empty file system, or its folders are "
                        "damaged)")
        said.extend(f"{system.description}: {finding}" for finding in (*rules.folders_said.values(), *fat_said(fat)))
        if rules.exfat_folders is not None:
            said.extend(f"{system.description}: {finding}" for finding in rules.exfat_folders.said())
    if said:
        yield Entry(relpath=relpath, error=said[-1], notes=tuple(said[:-1]))
