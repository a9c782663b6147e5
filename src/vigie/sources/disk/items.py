"""What is an item in a file system, and how it is read: one rule (`ItemRules`) per file system, taken by the
scan's walk (`walk.py`) and the read-back (`readback.py`) alike, so that both list and number the same items.
A file system's own structures (NTFS's metafiles, FAT's tables, exFAT's bitmap, HFS+'s catalog files, ...) and
FAT volume labels are not items; a deleted name TSK lists without metadata is read from its own record where
that record is still the name's, as is an ISO 9660 file the Joliet tree hides; an HFS+ file's resource fork and
an NTFS file's alternate data streams are items of their own."""

from __future__ import annotations

import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from vigie.sources.disk.exfat import ExfatVolume, own_structure
from vigie.sources.disk.exfatdir import ExfatFolders
from vigie.sources.disk.fat import (
    LABEL_NOTE,
    erased_as_live,
    fat_label,
    fat_labels,
    fat_name,
    fat_shared,
    fat_survey,
    fat_volume,
)
from vigie.sources.disk.media import Media
from vigie.sources.disk.names import FORK, NAMED_FORK, component
from vigie.sources.disk.volumes import TSK_ERRORS, FileSystem, tsk_image
from vigie.sources.fatdir import DirectoryEntries, FatVolume, holds_nothing

_MAX_DEPTH = 64  # folders nested deeper are a corrupt (looping) file system
_TSK_FIRST_FAT_INODE = 3  # TSK numbers FAT/exFAT directory entries from 3, in order on disk from the data area
# HFS+ catalog node IDs below 16 are the volume's own (TN1150): TSK lists the extents overflow, catalog, bad block,
# allocation, startup and attributes files among the root's files as `$ExtentsFile`, `$CatalogFile`, ...
_HFS_RESERVED_IDS = frozenset(range(16))
# NTFS's metafiles are MFT entries 0-15 ($MFT, $MFTMirr, $LogFile, $Volume, $AttrDef, the root, $Bitmap, $Boot,
# $BadClus, $Secure, $UpCase, $Extend, and 12-15 reserved): never a user's file, whatever its name. $Extend (11)
# is entered: its metafiles have no fixed entry number, but a fixed name in a fixed folder, below
_NTFS_EXTEND = 11
_NTFS_METAFILES = frozenset(range(16)) - {_NTFS_EXTEND}
# what NTFS itself writes in $Extend and its folders, by the folder's name (Windows' $Deleted and $Txf hold users'
# files, named by their file IDs): any other name there, "$" first or not, is a file another tool put there
_NTFS_EXTEND_FILES = {b"$Extend": frozenset({b"$ObjId", b"$Quota", b"$Reparse", b"$UsnJrnl"}),
                      b"$RmMetadata": frozenset({b"$Repair", b"$Tops"}), b"$TxfLog": frozenset({b"$TxfLog.blf"})}
_NTFS_TXF_CONTAINER = re.compile(rb"\$TxfLogContainer[0-9]{20}")  # in $TxfLog
# of those, the ones that hold no unnamed $DATA (indexes, or named streams: $UsnJrnl:$J): one that does holds
# content NTFS never writes there
_NTFS_DATALESS = frozenset({b"$ObjId", b"$Quota", b"$Reparse", b"$UsnJrnl"})
# the named $DATA streams NTFS itself writes on its own files: by MFT entry ($BadClus:$Bad, $Secure:$SDS,
# $UpCase:$Info) and, in $Extend's folders, by name ($UsnJrnl:$J, $Repair:$Config, $Tops:$T, ...): not items;
# any other stream of those files is one someone added
_NTFS_METAFILE_STREAMS = {8: frozenset({b"$Bad"}), 9: frozenset({b"$SDS"}), 10: frozenset({b"$Info"})}
_NTFS_EXTEND_STREAMS = {b"$UsnJrnl": frozenset({b"$J", b"$Max"}), b"$Tops": frozenset({b"$T"}),
                        b"$Repair": frozenset({b"$Config", b"$Corrupt", b"$Verify"})}
_NAMED_LIKE_METAFILE_NOTE = ("named as one of NTFS's own files in $Extend, which hold no content of their own (an "
                             "index, or named streams), but it does: read",)
_EXTEND_NOTE = ("in NTFS's $Extend folder, among the file system's own files, where Windows lets no user write: "
                "placed there by another tool",)
_STREAM_NOTE = ("an alternate data stream of the file (a named $DATA attribute, kept beside its content and shown "
                "by neither Windows' Explorer nor its size)",)
_ROOT_STREAM_NOTE = ("an alternate data stream of the volume's root folder (a named $DATA attribute, shown by no "
                     "folder listing)",)
_METAFILE_STREAM_NOTE = ("an alternate data stream added to one of NTFS's own files (a named $DATA attribute that "
                         "NTFS does not write there)",)
_HIDDEN_FROM_JOLIET_NOTE = (
    "an ISO 9660 record the tree The Sleuth Kit reads (the Joliet one, where the disc has one) does not list: a "
    "file hidden from that tree (mkisofs -hide-joliet), read from its record under The Sleuth Kit's orphan name",)


def _exfat_own_entries(volume: ExfatVolume, read_at: Callable[[int, int], bytes]) -> frozenset[int]:
    """TSK's addresses for the exFAT root folder's allocation bitmap, up-case table and volume label entries,
    which it lists as regular files (`$ALLOC_BITMAP`, `$UPCASE_TABLE`, `NAME (Volume Label Entry)`). Told apart
    by their entry type on disk, not by name: a file a user named `$UPCASE_TABLE` is still read, and so is a
    structure entry past those the volume has (a bitmap a FAT, one up-case table, one label)."""
    if volume.root < 2:
        return frozenset()
    cluster = read_at(volume.cluster_at(volume.root), 1 << 16)
    first = (volume.root - 2) * (volume.cluster_bytes // 32)  # 32-byte entries, numbered from the heap's start
    own, seen = set(), Counter[int]()
    for index in range(min(len(cluster), volume.cluster_bytes) // 32):
        kind = cluster[index * 32]
        if kind == 0:  # the end of the folder
            break
        if own_structure(kind, seen, volume.fats):
            own.add(first + index + _TSK_FIRST_FAT_INODE)
    return frozenset(own)


def _own_entries(fs: Any, read_at: Callable[[int, int], bytes], exfat: ExfatVolume | None) -> frozenset[int]:
    """The addresses of the structures a file system lists as regular files."""
    import pytsk3

    kind = int(fs.info.ftype)
    if kind & pytsk3.TSK_FS_TYPE_HFS_DETECT:
        return _HFS_RESERVED_IDS
    if kind & pytsk3.TSK_FS_TYPE_NTFS_DETECT:
        return _NTFS_METAFILES
    return _exfat_own_entries(exfat, read_at) if exfat is not None else frozenset()


def _is_structure(kind: Any, address: int, own_entries: frozenset[int]) -> bool:
    """The file system's own structures, which TSK lists beside files ($MBR, $FAT1, exFAT's bitmap): not items."""
    import pytsk3

    return bool(kind == pytsk3.TSK_FS_META_TYPE_VIRT or address in own_entries)


class Role(Enum):
    """What a listed name is to the walk and the read-back."""

    ITEM = "item"  # an item path of its own (a file, a link, ..., or a name without metadata: an error)
    FOLDER = "folder"  # entered: the files below it are items
    ERASED = "erased"  # FAT: live to TSK, deleted on disk: an item Vigie's FAT reader reads, after the walk
    MOVED = "moved"  # FAT: a TSK orphan Vigie's FAT reader found in its deleted folder: an item there, after the walk
    # FAT, exFAT: a folder to TSK, no folder in content; exFAT: a file TSK misreads (a short chain): Vigie's
    # reader's item, after the walk
    NOT_FOLDER = "not folder"
    # exFAT: `$OrphanFiles` where The Sleuth Kit's search for orphans would enter too many folders (folders sharing
    # clusters): not entered, said on the partition
    NOT_ENTERED = "not entered"
    NONE = "none"  # the file system's own structure, or a FAT volume label: no item


@dataclass(frozen=True)
class NamedStream:
    """A file's stream of bytes beside its content, an item of its own: an HFS+ resource fork, an NTFS alternate
    data stream."""

    path: tuple[bytes, ...]  # after the file's path: ("..namedfork", "rsrc"), ("..namedfork", NAME)
    kind: int  # TSK's attribute type
    attribute_id: int
    size: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listed:
    """One name of a folder listing, as the walk and the read-back both take it."""

    name: bytes  # one component of an item path (`component`)
    role: Role
    address: int | None  # the metadata address read; None where the name has none left
    kind: Any = None  # TSK's metadata type
    deleted: bool = False
    tsk_file: Any = None  # what to read: TSK's file, or the deleted record standing for it; None: open `address`
    streams: tuple[NamedStream, ...] = ()  # its other streams of bytes, each an item of its own after it
    notes: tuple[str, ...] = ()  # said against the item (the path's own notes are the walk's)


@dataclass(frozen=True)
class _Record:
    """A deleted name's own record as `_deleted_record` judged it: read in the name's stead (`address`), no
    file at all (`no_file`), or neither (the name stands as TSK lists it)."""

    address: int | None = None
    kind: Any = None
    no_file: bool = False


class ItemRules:
    """What is an item in one file system and how it is read: the one rule of the scan's walk and of the
    read-back (`open`, `verify`), so that both number the same items. A deleted name's record is judged once
    per process (`records`, shared by the walk and the read-back of the same file system)."""

    def __init__(self, fs: Any, read_at: Callable[[int, int], bytes], offset: int, fat: FatVolume | str | None,
                 records: dict[tuple[int, int, int], _Record]) -> None:
        import pytsk3

        kind = int(fs.info.ftype)
        self.fs = fs
        self.fat = fat  # Vigie's own FAT reader, where the file system is FAT (text: why it cannot run)
        # exFAT's layout: its structures' entries, and its FAT for deleted files
        self.exfat = ExfatVolume.of(read_at, offset) if kind == pytsk3.TSK_FS_TYPE_EXFAT else None
        # Vigie's own reader of exFAT folders, beside TSK
        self.exfat_folders = ExfatFolders(self.exfat, int(fs.info.root_inum)) if self.exfat is not None else None
        self.own_entries = _own_entries(fs, read_at, self.exfat)  # the file system's structures TSK lists as files
        self.fat_labels = fat_labels(fs, read_at, offset)  # FAT: the volume label entry at an address
        # FAT, where Vigie's reader runs: whether an entry is a deleted one on disk
        self.fat_erased = DirectoryEntries(read_at, offset).erased if isinstance(fat, FatVolume) else None
        self.iso9660 = kind == pytsk3.TSK_FS_TYPE_ISO9660  # which deletes nothing
        self.forks = bool(kind & pytsk3.TSK_FS_TYPE_HFS_DETECT)
        self.ntfs = bool(kind & pytsk3.TSK_FS_TYPE_NTFS_DETECT)
        # $Extend and the folders below it, as listed, by name
        self.extend = {_NTFS_EXTEND: b"$Extend"} if self.ntfs else {}
        self.records = records
        self.folders_said: dict[int, str] = {}  # what is said of folders as they are listed, by address

    @classmethod
    def open(cls, root: str, media: Media, system: FileSystem) -> ItemRules:
        """The rule of the file system `system` of the image `root`, opened on `media` (raises TSK_ERRORS
        where it is corrupt past its first sectors)."""
        import pytsk3

        fs = pytsk3.FS_Info(tsk_image(media), offset=system.offset)
        fat = fat_volume(fs, media.read_at, system.offset)
        return cls(fs, media.read_at, system.offset, fat, judged_records(root, system.label))

    def listing(self, folder: int, directory: Iterable[Any]) -> Iterator[Listed]:
        """The names of `directory` (the folder at metadata address `folder`) in listing order, without "." and
        "..", nor the names that stand for nothing (NTFS's reserved records, ISO 9660's empty orphans). On exFAT,
        where an address is an entry's place on disk, an entry listed again (a folder whose chain loops back on
        itself, read on by The Sleuth Kit) is listed once."""
        seen: set[int] = set()
        for tsk_file in directory:
            if self.exfat is not None:
                address = int(tsk_file.info.name.meta_addr)
                if address in seen:
                    continue
                seen.add(address)
            listed = self._judge(folder, tsk_file)
            if listed is not None:
                yield listed

    def file(self, listed: Listed) -> Any:
        """The TSK file to read for a listed name that has metadata."""
        return listed.tsk_file if listed.tsk_file is not None else self.fs.open_meta(inode=listed.address)

    def _judge(self, folder: int, tsk_file: Any) -> Listed | None:
        import pytsk3

        name_info = tsk_file.info.name  # kept: a record opened by its address has no name
        name = component(bytes(name_info.name))
        if name in (b".", b".."):
            return None
        if self.exfat_folders is not None and self.exfat_folders.foreign(folder, int(name_info.meta_addr)):
            return None  # an entry of a cluster another folder lists too (sharing clusters), entered there
        meta = tsk_file.info.meta
        if meta is None and name_info.flags & pytsk3.TSK_FS_NAME_FLAG_UNALLOC:
            record, opened = self._record(folder, tsk_file)
            if record.no_file:
                return None
            if record.address is not None:
                if self.iso9660:  # which deletes nothing
                    return self._file(folder, name, record.address, record.kind, False, opened,
                                      _HIDDEN_FROM_JOLIET_NOTE)
                return self._file(folder, name, record.address, record.kind, True, opened)
        deleted = _deleted(name_info, meta) and not self.iso9660
        if meta is None:
            return Listed(name, Role.ITEM, None, deleted=deleted)
        return self._file(folder, name, int(meta.addr), meta.type, deleted, tsk_file)

    def _record(self, folder: int, tsk_file: Any) -> tuple[_Record, Any]:
        """A deleted name's record, judged once (and the record, where opened now)."""
        name = tsk_file.info.name
        key = (folder, int(name.meta_addr), int(name.meta_seq))
        record = self.records.get(key)
        if record is not None:
            return record, None
        found = _deleted_record(self.fs, folder, tsk_file)
        record = _Record(no_file=True) if found is None else _Record() if found is tsk_file else _Record(
            int(found.info.meta.addr), found.info.meta.type)
        self.records[key] = record
        return record, found

    def _file(self, folder: int, name: bytes, address: int, kind: Any, deleted: bool, tsk_file: Any,
              notes: tuple[str, ...] = ()) -> Listed:
        import pytsk3

        is_folder = kind in (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR)
        if folder in self.extend:
            if not is_folder and self._ntfs_own(self.extend[folder], name, address, tsk_file):
                # NTFS's own file ($ObjId, $UsnJrnl, $TxfLog.blf, ...): no item, but a stream added to it is read
                mine = self._streams(address, tsk_file, _METAFILE_STREAM_NOTE)
                ntfs_own = _NTFS_EXTEND_STREAMS.get(name, frozenset())
                return Listed(name, Role.NONE, address, kind, deleted, tsk_file,
                              tuple(stream for stream in mine if stream.path[-1] not in ntfs_own))
            notes += _EXTEND_NOTE
            if is_folder:  # a folder below ($RmMetadata, $TxfLog, $Deleted, ...): its files told the same way
                self.extend[address] = name
            elif self.extend[folder] == b"$Extend" and name in _NTFS_DATALESS:
                notes += _NAMED_LIKE_METAFILE_NOTE
        if _is_structure(kind, address, self.own_entries):
            # no item; but a stream someone added to an NTFS metafile ($Volume:pic.jpg) is read
            mine = self._streams(address, tsk_file, _METAFILE_STREAM_NOTE) if self.ntfs and address < 16 else ()
            ntfs_own = _NTFS_METAFILE_STREAMS.get(address, frozenset())
            return Listed(name, Role.NONE, address, kind, deleted, tsk_file,
                          tuple(stream for stream in mine if stream.path[-1] not in ntfs_own))
        survey = fat_survey(self.fat)
        name, named = fat_name(survey, name, address, is_folder)  # a folder's too: the path of all below it
        exfat = self.exfat_folders
        if (is_folder and survey is not None and address in survey.not_folders) \
                or (exfat is not None and address in exfat.own_reads()):
            return Listed(name, Role.NOT_FOLDER, address)
        if is_folder and exfat is not None and address == int(self.fs.info.last_inum) and exfat.orphans_costly():
            return Listed(name, Role.NOT_ENTERED, address)
        streams = self._streams(address, tsk_file) if is_folder or kind == pytsk3.TSK_FS_META_TYPE_REG else ()
        if is_folder:
            if named:  # a folder has no item of its own: said on the partition
                self.folders_said[address] = named[0]
            return Listed(name, Role.FOLDER, address, kind, deleted, tsk_file, streams, notes)
        volume_label = fat_label(name, address, self.fat_labels)
        if volume_label is not None and holds_nothing(volume_label):
            return Listed(name, Role.NONE, address)  # a volume label (mkfs.vfat -n, mlabel): no file
        if erased_as_live(deleted, kind, address, self.fat_erased):
            return Listed(name, Role.ERASED, address)
        if self._fat_orphan_placed(folder, kind, address):
            return Listed(name, Role.MOVED, address)
        if volume_label:
            notes += LABEL_NOTE
        return Listed(name, Role.ITEM, address, kind, deleted, tsk_file, streams,
                      notes + named + fat_shared(survey, address))

    def _ntfs_own(self, folder: bytes, name: bytes, address: int, tsk_file: Any) -> bool:
        """Whether `name` in `folder` (in $Extend or below it) is one of NTFS's own files."""
        if folder == b"$TxfLog" and _NTFS_TXF_CONTAINER.fullmatch(name):
            return True
        if name not in _NTFS_EXTEND_FILES.get(folder, frozenset()):
            return False
        if name not in _NTFS_DATALESS or folder != b"$Extend":
            return True
        import pytsk3

        return not any(int(attribute.info.type) == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA and not attribute.info.name
                       and attribute.info.size for attribute in (tsk_file if tsk_file is not None
                                                                 else self.fs.open_meta(inode=address)))

    def root(self) -> Listed:
        """The root folder, which no folder lists: its NTFS streams (`C:\\:name`) are items of their own."""
        address = int(self.fs.info.root_inum)
        return Listed(b"", Role.NONE, address, streams=self._streams(address, None, _ROOT_STREAM_NOTE)
                      if self.ntfs else ())

    def _streams(self, address: int, tsk_file: Any, note: tuple[str, ...] = _STREAM_NOTE
                 ) -> tuple[NamedStream, ...]:
        """A file's (or an NTFS folder's) other streams that hold bytes: its HFS+ resource fork, its NTFS named
        $DATA attributes (`tsk_file`, or the record at `address` where a deleted one was judged before), noted
        with `note`. NTFS's index attributes ($I30, ...) are not data and not read."""
        import pytsk3

        if not (self.forks or self.ntfs):
            return ()
        streams = []
        for attribute in tsk_file if tsk_file is not None else self.fs.open_meta(inode=address):
            kind, size = int(attribute.info.type), int(attribute.info.size)
            if not size:
                continue
            if self.forks and kind == pytsk3.TSK_FS_ATTR_TYPE_HFS_RSRC:
                streams.append(NamedStream(tuple(FORK), kind, int(attribute.info.id), size))
            elif self.ntfs and kind == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA and attribute.info.name:
                streams.append(NamedStream((NAMED_FORK, component(bytes(attribute.info.name))), kind,
                                           int(attribute.info.id), size, note))
        return tuple(streams)

    def _fat_orphan_placed(self, folder: int, kind: Any, address: int) -> bool:
        """A file The Sleuth Kit lists in its `$OrphanFiles` (`folder`), or in a folder it lists there that Vigie's
        FAT reader found so too, that Vigie's reader found in a later cluster of a deleted folder (or below a
        folder found there): the same directory entries, told by their addresses (never by their names)."""
        import pytsk3

        if not isinstance(self.fat, FatVolume) or kind != pytsk3.TSK_FS_META_TYPE_REG:
            return False
        later = self.fat.survey().later
        return address in later and (folder == int(self.fs.info.last_inum) or folder in later)


_JUDGED: OrderedDict[tuple[str, int, int], dict[str, dict[tuple[int, int, int], _Record]]] = OrderedDict()
_JUDGED_LOCK = threading.Lock()


def judged_records(root: str, label: str) -> dict[tuple[int, int, int], _Record]:
    """The deleted records judged in this process for the file system `label` of the image `root` (this
    version of it): the scan's walk fills it, the read-back that follows (in this process, or a worker forked
    from it) reads it."""
    info = os.stat(root)
    key = (root, info.st_size, info.st_mtime_ns)
    with _JUDGED_LOCK:
        image = _JUDGED.setdefault(key, {})
        _JUDGED.move_to_end(key)
        while len(_JUDGED) > 4:
            _JUDGED.popitem(last=False)
        return image.setdefault(label, {})


def _deleted(name_info: Any, meta: Any) -> bool:
    """Whether The Sleuth Kit lists a name, or the metadata it points to, as deleted."""
    import pytsk3

    return bool(name_info.flags & pytsk3.TSK_FS_NAME_FLAG_UNALLOC) or bool(
        meta is not None and meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC)


def _deleted_record(fs: Any, folder: int, tsk_file: Any) -> Any:
    """A deleted name The Sleuth Kit lists without metadata (in `folder`), opened by its record where the record
    is still the name's: not in use, and its sequence number one above the name's. NTFS raises a record's number
    when it frees it, and TSK gives its `$OrphanFiles` (the folder it makes, numbered after the file system's
    last record, for deleted files no folder names any more) the number one below their record's on every file
    system; it then finds name and record unrelated, while the record is there to read. `tsk_file` unchanged
    where the record cannot be read or is another file's now (in use, or freed again since); None for a record
    in `$OrphanFiles` that never held a file: NTFS's reserved MFT entries 16-23, no name and no data, which
    mkntfs and Windows write so. ISO 9660 deletes nothing: its orphans are records the tree TSK reads (Joliet,
    where the disc has one) does not list, read from the record; None for one that holds no byte (the Joliet twin
    of an empty file, a Rock Ridge link)."""
    import pytsk3

    name = tsk_file.info.name
    try:
        found = fs.open_meta(inode=int(name.meta_addr))
    except TSK_ERRORS:
        return tsk_file
    meta = found.info.meta
    if int(fs.info.ftype) == pytsk3.TSK_FS_TYPE_ISO9660:
        return tsk_file if meta is None else found if meta.size else None
    if (meta is None or meta.flags & pytsk3.TSK_FS_META_FLAG_ALLOC
            or int(meta.seq) != (int(name.meta_seq) + 1) & 0xFFFFFFFF):
        return tsk_file
    file_attributes = (pytsk3.TSK_FS_ATTR_TYPE_NTFS_FNAME, pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
    if (folder == int(fs.info.last_inum) and int(fs.info.ftype) & pytsk3.TSK_FS_TYPE_NTFS_DETECT
            and not any(int(attribute.info.type) in file_attributes for attribute in found)):
        return None
    return found


def not_entered(address: int, parents: tuple[int, ...], depth: int) -> bool:
    """A folder (at `address`, listed `depth` folders below the root, whose entered folders are `parents`) that
    loops back on itself or nests too deep: a corrupt file system. The walk gives it an item, with an error."""
    return address in parents or depth >= _MAX_DEPTH
