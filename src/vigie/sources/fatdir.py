r"""FAT12/16/32 folders read from a partition's own bytes: Vigie's cross-check of The Sleuth Kit on FAT.

The Sleuth Kit drops a directory entry whose 8.3 short name holds a byte FAT forbids (a control byte, "/", "\",
"?", ...): its file is never listed, and a folder dropped so hides everything below it. This reader walks the
folders from the root through the FAT itself (a deleted folder from its first cluster, where still free, as The
Sleuth Kit reads one, then on through the free clusters after it that hold directory entries, which The Sleuth Kit
does not read: the folder's clusters assumed contiguous, as a deleted file's are) and gives every entry it finds,
with the address The Sleuth Kit gives the same entry, so that the disk image source can add the files The Sleuth
Kit left out. It also counts the clusters the FAT
marks allocated that no entry it found claims, so that a drop of another kind is said too, and tells from the
entry on disk a deleted file The Sleuth Kit lists as live (its "Android" mode), which it then recovers.
Forged entries The Sleuth Kit takes at their word are told too: one marked as a folder whose first cluster does not
start with "." and ".." (live, or deleted while it records a size, as no folder does), or as a long-name piece while
it holds a first cluster, is a file; long-name pieces whose
checksum is not the 8.3 name's do not name it; and live entries whose cluster chains cross are recorded by pairs.

Hostile structures (looping or cross-linked chains, chains past the volume's end, folders nested past any use,
deleted folders larger than FAT allows or that read one another's clusters, boot sector values no volume holds)
end a chain or a folder with a note, never an exception; the work stays bounded by the volume's cluster count.
"""

from __future__ import annotations

import bisect
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

ROOT_ADDRESS = 2  # The Sleuth Kit's address for the root folder
_FIRST_ENTRY_ADDRESS = 3  # its address for the first 32-byte entry after the FATs, then on in order on disk
_ENTRY = 32
_MAX_DEPTH = 64  # as the disk image walk: folders nested deeper are a corrupt (looping) file system
_MAX_FAT_BYTES = 512 << 20  # a FAT32 of 128M clusters; a larger FAT is not read into memory
_DELETED = 0xE5
_LONG_NAME = 0x0F  # the attribute bits of a long-name (LFN) piece
_VOLUME_LABEL, _FOLDER = 0x08, 0x10
_DOT_ENTRIES = (b".          ", b"..         ")
LABEL_SUFFIX = b" (Volume Label Entry)"  # The Sleuth Kit's name for a volume label entry: its 11 bytes, then this
_LAST_ASCII, _UNKNOWN = 0x7E, ord("^")  # The Sleuth Kit shows an 8.3 name's bytes past 0x7E as "^"
_MAX_PIECES = 20  # a long name's 255 characters fill 20 pieces of 13
_MAX_FOLDER_BYTES = 65536 * _ENTRY  # FAT's limit: 65,536 entries a folder
_MAX_LATER_BYTES = 64 << 20  # deleted folders' clusters past their first read in a volume, each parsed in Python
_REPLACED = '+,;=[]'  # characters a long name may hold and an 8.3 name may not: "_" in the 8.3 name
_END_OF_CHAIN = {12: 0xFF8, 16: 0xFFF8, 32: 0x0FFFFFF8}
_BAD_CLUSTER = {12: 0xFF7, 16: 0xFFF7, 32: 0x0FFFFFF7}


class FatLayoutError(ValueError):
    """A boot sector or FAT no sound FAT volume holds: the cross-check cannot run."""


@dataclass(frozen=True)
class FatEntry:
    """One file or folder entry of a folder."""

    parent: int  # the address of the folder holding it (ROOT_ADDRESS for the root)
    name: bytes  # the long name (as UTF-8) where a whole one belongs to it, else the 8.3 name
    address: int  # The Sleuth Kit's metadata address for this entry
    is_dir: bool
    deleted: bool
    size: int
    first_cluster: int
    mtime: float | None
    ctime: float | None  # the creation time: FAT keeps no change time (as the disk image walk reads it)
    atime: float | None
    label: bool = False  # a volume label entry pointing at content: no real label (a hiding place), read as a file
    stored_name: bytes | None = None  # the 8.3 name as stored, where `name` shows bytes of it past ASCII as "^"
    later_cluster: bool = False  # in a deleted folder's cluster past its first (or below a folder found there)
    not_folder: bool = False  # marked as a folder, but its first cluster does not start with "." and "..": a file
    marked_long_name: bool = False  # marked as a long-name piece (as The Sleuth Kit reads it) yet holding a cluster
    foreign_long_name: bool = False  # long-name pieces before it whose checksum is not its 8.3 name's: not its name


@dataclass(frozen=True)
class Survey:
    """What a pass of `entries` ahead of the disk image walk finds, by The Sleuth Kit's addresses."""

    later: frozenset[int]  # entries found in a deleted folder's cluster past its first (or below a folder found so)
    not_folders: frozenset[int]  # entries marked as folders whose content is not a folder: files
    short_names: dict[int, bytes]  # entries shown by their 8.3 name, long-name pieces before them not theirs
    shared: dict[int, tuple[tuple[bytes, ...], ...]]  # live entries whose clusters others claim too: those' paths


class FatVolume:
    """A FAT file system at `offset` in the media read by `read_at`; `bits`: 12, 16 or 32, as The Sleuth Kit
    told it. Raises FatLayoutError on a boot sector or FAT no volume holds."""

    def __init__(self, read_at: Callable[[int, int], bytes], offset: int, bits: int) -> None:
        self._read_at = read_at
        self._offset = offset
        self._bits = bits
        boot = read_at(offset, 512)
        if len(boot) < 512:
            raise FatLayoutError("the boot sector is cut short")
        sector, per_cluster, reserved, fats, root_entries, small_total = struct.unpack_from("<HBHBHH", boot, 11)
        fat_sectors, large_total = struct.unpack_from("<H", boot, 22)[0], struct.unpack_from("<I", boot, 32)[0]
        if bits == 32 and not fat_sectors:
            fat_sectors = struct.unpack_from("<I", boot, 36)[0]
        total = small_total or large_total
        self._sector: int = sector
        root_sectors = 0 if bits == 32 else -(-root_entries * _ENTRY // max(sector, 1))
        self._first_data_sector: int = reserved + fats * fat_sectors  # where The Sleuth Kit numbers entries from
        self._first_cluster_sector: int = self._first_data_sector + root_sectors
        if (sector not in (512, 1024, 2048, 4096) or per_cluster not in (1, 2, 4, 8, 16, 32, 64, 128)
                or not reserved or not fats or not fat_sectors or (bits != 32 and not root_entries)
                or total <= self._first_cluster_sector):
            raise FatLayoutError(
                f"boot sector values no FAT volume holds ({sector} bytes a sector, {per_cluster} sectors a "
                f"cluster, {reserved} reserved, {fats} FATs of {fat_sectors:,} sectors, {total:,} sectors)")
        self.cluster_bytes = sector * per_cluster
        self._per_cluster: int = per_cluster
        fat_bytes = fat_sectors * sector
        self.count: int = min((total - self._first_cluster_sector) // per_cluster, fat_bytes * 8 // bits - 2)
        self._problems: Counter[str] = Counter()
        self._fat = self._read_fat(boot, reserved, fats, fat_bytes)
        self._next = self._fat.data  # cluster -> next, as plain ints (a numpy item is slow to box)
        self._claimed = np.zeros(self.count + 2, np.uint32)  # cluster -> its claimant's number (0: none)
        self._owners = self._claimed.data  # the same, as plain ints (a numpy item is slow to box)
        self._claimants = [0]  # the addresses of the entries that claimed clusters, numbered from 1
        self._crossed: dict[int, set[int]] = {}  # entry address -> the entries claiming some of its clusters too
        self._budget = 2 * (self.count + 2) + (1 << 16)  # chain steps for content: bounded by the volume
        self._contents: dict[int, tuple[list[tuple[int, int]], str | None]] = {}  # entry address -> content
        self._free_read: set[int] = set()  # deleted folders' clusters read: each once, whatever points to it
        self._later_left = _MAX_LATER_BYTES
        self._survey: Survey | None = None
        if bits == 32:
            root = struct.unpack_from("<I", boot, 44)[0]
            if not 2 <= root <= self.count + 1:
                raise FatLayoutError(f"the root folder's first cluster {root:,} lies outside the volume")
            self._root: list[tuple[int, int]] | None = None
            self._root_cluster = root
        else:
            self._root = [(self._first_data_sector * sector, root_entries * _ENTRY)]
            self._root_cluster = 0

    def _read_fat(self, boot: bytes, reserved: int, fats: int, fat_bytes: int) -> np.ndarray:
        """The FAT in use (FAT32 may name one as active) as cluster -> next cluster."""
        entries = self.count + 2
        needed = (entries * 3 + 1) // 2 if self._bits == 12 else entries * self._bits // 8
        if needed > _MAX_FAT_BYTES:
            raise FatLayoutError(f"a FAT of {needed:,} bytes is larger than this cross-check reads")
        active = 0
        if self._bits == 32:
            flags = struct.unpack_from("<H", boot, 40)[0]
            if flags & 0x80 and flags & 0x0F < fats:  # mirroring off: one FAT is the live one
                active = flags & 0x0F
        data = self._read_at(self._offset + (reserved * self._sector) + active * fat_bytes, needed)
        if len(data) < needed:
            self._problems["the FAT is cut short (a truncated image): clusters past its end read as free"] += 1
            data = data.ljust(needed, b"\0")
        if self._bits == 12:  # two entries in three bytes
            raw = np.frombuffer(data.ljust(3 * (-(-entries // 2)), b"\0"), np.uint8).astype(np.uint32).reshape(-1, 3)
            fat = np.empty(2 * len(raw), np.uint32)
            fat[0::2] = raw[:, 0] | (raw[:, 1] & 0x0F) << 8
            fat[1::2] = raw[:, 1] >> 4 | raw[:, 2] << 4
            return fat[:entries].copy()
        if self._bits == 16:
            return np.frombuffer(data, "<u2").astype(np.uint32)
        return np.frombuffer(data, "<u4") & np.uint32(0x0FFFFFFF)  # the top four bits are reserved

    def _in_volume(self, cluster: int) -> bool:
        return 2 <= cluster <= self.count + 1

    def _position(self, cluster: int) -> int:
        """A data cluster's first byte, from the partition's start."""
        return (self._first_cluster_sector + (cluster - 2) * self._per_cluster) * self._sector

    def entries(self) -> Iterator[FatEntry]:
        """Every entry of every folder, depth first in order on disk (a folder's entry before its own); a
        deleted folder's first cluster is read where it is still free, as The Sleuth Kit reads it, and the free
        clusters after it that hold directory entries. The clusters of live entries are claimed as they are
        found. Each pass reads afresh (`later_entries` makes one ahead of the disk image walk's)."""
        self._claimed.fill(0)
        self._claimants, self._crossed = [0], {}
        self._free_read = set()
        self._later_left = _MAX_LATER_BYTES
        if self._root is None:
            regions = self._folder_regions(ROOT_ADDRESS, self._root_cluster)
            if regions is None:
                return
        else:
            regions = self._root
        yield from self._folder(ROOT_ADDRESS, regions, 0)

    def later_entries(self) -> frozenset[int]:
        """The addresses of the files and folders found in a deleted folder's cluster past its first (or below a
        folder found there), which The Sleuth Kit can list only as orphans."""
        return self.survey().later

    def survey(self) -> Survey:
        """What the disk image walk needs to know of entries The Sleuth Kit lists as it reaches them: read in a
        pass of `entries` of its own, once, its findings on the volume left to the pass that `said` reports.
        Not to be called while a pass of `entries` is being read (each pass starts afresh)."""
        if self._survey is None:
            problems = self._problems.copy()
            placed: dict[int, tuple[int, bytes]] = {}  # entry address -> (its folder's, its name)
            later, not_folders, short_names = set(), set(), {}
            for entry in self.entries():
                placed[entry.address] = (entry.parent, entry.name)
                if entry.later_cluster:
                    later.add(entry.address)
                if entry.not_folder:
                    not_folders.add(entry.address)
                if entry.foreign_long_name:
                    short_names[entry.address] = entry.name
            self._survey = Survey(frozenset(later), frozenset(not_folders), short_names, {
                address: tuple(_path(placed, other) for other in sorted(others))
                for address, others in self._crossed.items()})
            self._problems = problems
        return self._survey

    def _claimed_by(self, cluster: int, address: int) -> bool:
        """Whether `cluster` is claimed already; where by another entry than `address`, the two are recorded as
        claiming the same clusters (cross-linked chains)."""
        number = self._owners[cluster]
        if not number:
            return False
        if (other := self._claimants[number]) != address:
            self._crossed.setdefault(address, set()).add(other)
            self._crossed.setdefault(other, set()).add(address)
        return True

    def _claim(self, address: int, first: int) -> list[int]:
        """Claims the chain from `first` for the entry at `address`, up to a cluster already claimed (a loop, or
        a cross-link: recorded); the clusters claimed."""
        self._claimants.append(address)
        number = len(self._claimants) - 1
        clusters = []
        cluster = first
        while self._in_volume(cluster) and not self._claimed_by(cluster, address):
            self._owners[cluster] = number
            clusters.append(cluster)
            cluster = self._next[cluster]
        return clusters

    def _begins_as_folder(self, first: int) -> bool:
        """Whether a folder's first cluster starts with its "." and ".." entries, as every FAT subfolder's does
        (a deleted one's too: deleting leaves them); one outside the volume or unreadable is left to the folder's
        reading, which says so."""
        if not self._in_volume(first):
            return True
        try:
            data = self._read_at(self._offset + self._position(first), 2 * _ENTRY)
        except OSError:
            return True
        return len(data) < 2 * _ENTRY or (data[:11], data[_ENTRY: _ENTRY + 11]) == _DOT_ENTRIES

    def _folder_regions(self, address: int, first: int) -> list[tuple[int, int]] | None:
        """The clusters of the live folder at `address` as (position, length), claimed; None where it cannot be
        entered."""
        if not self._in_volume(first) or self._claimed_by(first, address):
            self._problems["folders not entered: their first cluster lies outside the volume or belongs to "
                           "another folder or file (a corrupt or looping file system)"] += 1
            return None
        clusters = self._claim(address, first)
        regions = [(self._position(cluster), self.cluster_bytes) for cluster in clusters]
        cluster = self._next[clusters[-1]]
        if cluster < _END_OF_CHAIN[self._bits]:
            self._problems["folders whose cluster chain breaks off, loops, or runs past the volume's end: "
                           "read up to the break"] += 1
        return regions

    def _deleted_folder(self, first: int, depth: int) -> Iterable[tuple[int, int]] | None:
        """A deleted folder's clusters where its first is free and not read yet; None where another file took
        it (its bytes are that file's now)."""
        if depth + 1 >= _MAX_DEPTH or not self._in_volume(first) or self._next[first]:
            return None
        if first in self._free_read:
            self._problems["deleted folders whose first cluster was already read as another deleted folder's (a "
                           "loop, or two entries for one folder): not read again"] += 1
            return None
        self._free_read.add(first)
        return self._free_clusters(first)

    def _free_clusters(self, first: int) -> Iterator[tuple[int, int]]:
        """A deleted folder's first cluster, then each free cluster after it that holds directory entries: its
        FAT chain is gone, so its clusters are assumed contiguous, as a deleted file's are. Asked for one at a
        time, so that an end marker (00) in a cluster stops the reading there."""
        yield self._position(first), self.cluster_bytes
        cluster = first + 1
        while self._in_volume(cluster) and not self._next[cluster] and cluster not in self._free_read:
            if self._later_left < self.cluster_bytes:
                self._problems[f"deleted folders not read past their first cluster once {_MAX_LATER_BYTES >> 20} MiB "
                               "of such clusters were read in this volume (a hostile file system?)"] += 1
                return
            self._later_left -= self.cluster_bytes
            try:
                data = self._read_at(self._offset + self._position(cluster), self.cluster_bytes)
            except OSError:
                self._problems["folder clusters unreadable in the image: read up to them"] += 1
                return
            if not self._holds_entries(data):
                return
            if (cluster - first + 1) * self.cluster_bytes > _MAX_FOLDER_BYTES:
                self._problems[f"deleted folders whose free clusters hold directory entries past FAT's limit of "
                               f"{_MAX_FOLDER_BYTES // _ENTRY:,} entries a folder: read up to it"] += 1
                return
            self._free_read.add(cluster)
            yield self._position(cluster), self.cluster_bytes
            cluster += 1

    def _holds_entries(self, data: bytes) -> bool:
        """Whether a free cluster reads as a later cluster of the deleted folder before it: every 32 bytes up to
        an end marker (00) a long-name piece or an entry that holds, and not another folder's first cluster
        (which starts with "."). One that starts with entries and then holds other bytes is said."""
        if len(data) < self.cluster_bytes or data[0] == 0 or data[:11] == _DOT_ENTRIES[0]:
            return False
        for at in range(0, len(data), _ENTRY):
            raw = data[at: at + _ENTRY]
            if raw[0] == 0:
                return True
            if not (_long_name_piece(raw) if raw[11] == _LONG_NAME
                    else _plausible(raw) and self._fields_hold(raw) and raw[:8].rstrip(b" ")):
                if at:
                    self._problems["deleted folders read up to a free cluster that starts with directory entries "
                                   "and then holds other bytes (reused in part, or garbage): not read past it"] += 1
                return False
        return True

    def _folder(self, address: int, regions: Iterable[tuple[int, int]], depth: int,
                free: bool = False, later: bool = False) -> Iterator[FatEntry]:
        """The entries of one folder (`free`: a deleted one's, read from free clusters: all deleted; `later`:
        one found in a deleted folder's cluster past its first, or below one found so)."""
        pieces = _LongName()
        for index, (start, length) in enumerate(regions):
            try:
                data = self._read_at(self._offset + start, length)
            except OSError:
                self._problems["folder clusters unreadable in the image: read up to them"] += 1
                return
            for at in range(0, len(data) - _ENTRY + 1, _ENTRY):
                raw = data[at: at + _ENTRY]
                if raw[0] == 0:  # the end of the folder
                    return
                attributes = raw[11]
                if attributes & _LONG_NAME == _LONG_NAME:  # as The Sleuth Kit tells one, which takes it as one
                    pieces.add(raw)
                    if free or not any(raw[26:28]):
                        continue
                    # no long-name piece holds a first cluster: a file's entry given these attributes
                    entry = self._entry(address, start + at, raw, _LongName(), free)
                else:
                    entry = self._entry(address, start + at, raw, pieces, free, later or (free and index > 0))
                    pieces = _LongName()
                if entry is None or raw[:11] in _DOT_ENTRIES:
                    continue
                if entry.label and not entry.is_dir and holds_nothing(raw):
                    continue  # a volume label (mkfs.vfat -n, mlabel): no file
                yield entry
                if entry.deleted:
                    if entry.is_dir and (inside := self._deleted_folder(entry.first_cluster, depth)) is not None:
                        yield from self._folder(entry.address, inside, depth + 1, free=True,
                                                later=entry.later_cluster)
                    continue
                if not entry.is_dir:
                    self._claim(entry.address, entry.first_cluster)
                elif depth + 1 >= _MAX_DEPTH:
                    self._problems[f"folders nested deeper than {_MAX_DEPTH}: not entered"] += 1
                elif (inside := self._folder_regions(entry.address, entry.first_cluster)) is not None:
                    yield from self._folder(entry.address, inside, depth + 1)

    def _entry(self, parent: int, position: int, raw: bytes, pieces: _LongName, free: bool,
               later: bool = False) -> FatEntry | None:
        """The entry in `raw`, or None where it fails The Sleuth Kit's checks of everything but the name (more
        of them in a `free` cluster, where leftover bytes abound): it is then no entry at all, as for The
        Sleuth Kit. `later`: found in a deleted folder's cluster past its first."""
        if (free and not _plausible(raw)) or not self._fields_hold(raw):
            return None
        cluster = self._first_cluster(raw)
        (size,) = struct.unpack_from("<I", raw, 28)
        deleted = free or raw[0] == _DELETED
        base, extension = raw[:8].rstrip(b" "), raw[8:11].rstrip(b" ")
        if not base:
            return None
        if raw[12] & 0x08:  # Windows NT's lower-case flags
            base = base.lower()
        if raw[12] & 0x10:
            extension = extension.lower()
        first = b"_" if raw[0] == _DELETED else b"\xe5" if base[0] == 0x05 else base[:1]  # 0x05: a real 0xE5
        short = first + base[1:] + (b"." + extension if extension else b"")
        # bytes past ASCII are in a code page FAT does not record: "^", as The Sleuth Kit shows them
        shown = bytes(byte if byte <= _LAST_ASCII else _UNKNOWN for byte in short)
        long_name = pieces.name_of(raw)
        name = long_name or shown
        stored_name = raw[:11] if long_name is None and shown != short else None
        marked_long_name = raw[11] & _LONG_NAME == _LONG_NAME
        label = bool(raw[11] & _VOLUME_LABEL) and not marked_long_name
        if label:
            name, stored_name = raw[:11] + LABEL_SUFFIX, None  # as The Sleuth Kit names one
        # a deleted folder records no size either: one that does, its first cluster no folder's, was a file's
        not_folder = (bool(raw[11] & _FOLDER) and (not deleted or size > 0) and raw[:11] not in _DOT_ENTRIES
                      and not self._begins_as_folder(cluster))
        sector, within = divmod(position, self._sector)
        return FatEntry(
            parent=parent, name=name, is_dir=bool(raw[11] & _FOLDER) and not not_folder, deleted=deleted, size=size,
            address=(sector - self._first_data_sector) * (self._sector // _ENTRY) + within // _ENTRY
            + _FIRST_ENTRY_ADDRESS,
            first_cluster=cluster, mtime=dos_time(raw, 24, 22), ctime=dos_time(raw, 16, 14, raw[13]),
            atime=dos_time(raw, 18), label=label, stored_name=stored_name, later_cluster=later,
            not_folder=not_folder, marked_long_name=marked_long_name,
            foreign_long_name=long_name is None and pieces.held and not label)

    def _first_cluster(self, raw: bytes) -> int:
        return int(struct.unpack_from("<H", raw, 26)[0] | (struct.unpack_from("<H", raw, 20)[0] << 16
                                                           if self._bits == 32 else 0))

    def _fields_hold(self, raw: bytes) -> bool:
        """The Sleuth Kit's checks of an entry's first cluster and size, and that it records anything at all."""
        cluster = self._first_cluster(raw)
        (size,) = struct.unpack_from("<I", raw, 28)
        return not ((cluster > self.count + 1 and cluster < _END_OF_CHAIN[self._bits])
                    or size > self.count * self.cluster_bytes or (size and not cluster)
                    or not (cluster or size or any(raw[13:20]) or any(raw[22:26])))

    def entry_at(self, address: int) -> FatEntry | None:
        """The file entry at The Sleuth Kit's `address`, read alone (by its 8.3 name), for one The Sleuth Kit
        lists where the folder walk does not reach (past an entry starting 00, which ends a folder); None where
        it is unreadable or no entry."""
        if address < _FIRST_ENTRY_ADDRESS:
            return None
        position = self._first_data_sector * self._sector + (address - _FIRST_ENTRY_ADDRESS) * _ENTRY
        try:
            raw = self._read_at(self._offset + position, _ENTRY)
        except OSError:
            return None
        if len(raw) != _ENTRY or raw[11] & _LONG_NAME == _LONG_NAME:
            return None
        return self._entry(ROOT_ADDRESS, position, raw, _LongName(), False)

    def content(self, entry: FatEntry) -> tuple[list[tuple[int, int]], str | None]:
        """A file's content as (position in the media, length) runs in order, or why it cannot be read: a
        live file's clusters follow its chain; a deleted one's are the free clusters from its first on,
        skipping allocated ones, as The Sleuth Kit recovers them. Kept, so that reading a file again costs no
        work budget."""
        if entry.address not in self._contents:
            self._contents[entry.address] = self._content(entry)
        return self._contents[entry.address]

    def _content(self, entry: FatEntry) -> tuple[list[tuple[int, int]], str | None]:
        if entry.size == 0:
            return [], ("deleted file whose metadata records no size: content not recoverable" if entry.deleted
                        else None)
        needed = -(-entry.size // self.cluster_bytes)
        if entry.deleted:
            if not self._in_volume(entry.first_cluster) or self._next[entry.first_cluster]:
                return [], "deleted file whose clusters were reused by another file: content not recoverable"
            clusters = self._free_from(entry.first_cluster, needed)
        else:
            clusters = self._chain(entry.first_cluster, needed)
        if len(clusters) < needed:
            held = len(clusters) * self.cluster_bytes
            why = ("the reader's work limit for this volume was reached (a hostile file system?)"
                   if self._budget <= 0 else "the free clusters after its first run out before the volume's end"
                   if entry.deleted else "a broken or looping cluster chain: a corrupt file system")
            state = "deleted file whose content is not recoverable: its" if entry.deleted else "its"
            return [], f"{state} clusters hold {held:,} of its {entry.size:,} bytes ({why}); not read"
        runs: list[tuple[int, int]] = []
        for cluster in clusters:
            position = self._offset + self._position(cluster)
            if runs and runs[-1][0] + runs[-1][1] == position:
                runs[-1] = (runs[-1][0], runs[-1][1] + self.cluster_bytes)
            else:
                runs.append((position, self.cluster_bytes))
        runs[-1] = (runs[-1][0], runs[-1][1] - (needed * self.cluster_bytes - entry.size))
        return runs, None

    def _chain(self, first: int, needed: int) -> list[int]:
        """Up to `needed` clusters of the chain from `first`, stopping at a loop or a link out of the volume."""
        clusters: list[int] = []
        seen: set[int] = set()
        cluster = first
        while len(clusters) < needed and self._in_volume(cluster) and cluster not in seen and self._budget > 0:
            self._budget -= 1
            clusters.append(cluster)
            seen.add(cluster)
            cluster = self._next[cluster]
        return clusters

    def _free_from(self, first: int, needed: int) -> list[int]:
        """Up to `needed` free clusters from `first` on, looked for in spans that double."""
        clusters: list[int] = []
        start, span = first, needed
        while len(clusters) < needed and start <= self.count + 1 and self._budget > 0:
            end = min(self.count + 2, start + span)
            self._budget -= end - start
            free = np.flatnonzero(self._fat[start:end] == 0) + start
            clusters.extend(int(cluster) for cluster in free[: needed - len(clusters)])
            start, span = end, span * 2
        return clusters

    def said(self) -> list[str]:
        """What the cross-check found wrong, once `entries` has been read through: structure problems, and
        the clusters allocated in the FAT that no entry claims."""
        found = [f"{problem} ({count:,})" for problem, count in sorted(self._problems.items())]
        used = self._fat[2: self.count + 2]
        unclaimed = int(np.count_nonzero((used != 0) & (used != _BAD_CLUSTER[self._bits])
                                         & (self._claimed[2:] == 0)))
        if unclaimed:
            found.append(f"{unclaimed:,} clusters ({unclaimed * self.cluster_bytes:,} bytes) are allocated in the "
                         "FAT but no file or folder listed claims them (lost chains, or directory entries that "
                         "neither The Sleuth Kit nor Vigie's FAT reader could read): their content was not scanned")
        return found


class DirectoryEntries:
    """The directory entries of the FAT volume at `offset`, by The Sleuth Kit's address: where the data area
    starts is read from the boot sector once, when the volume is opened (each is asked of every live file)."""

    def __init__(self, read_at: Callable[[int, int], bytes], offset: int) -> None:
        self._read_at = read_at
        try:
            boot = read_at(offset, 512)
        except OSError:
            boot = b""
        self._first: int | None = None  # where the boot sector is cut short: every entry is unreadable
        if len(boot) == 512:
            sector, reserved, fats = (struct.unpack_from("<H", boot, 11)[0], struct.unpack_from("<H", boot, 14)[0],
                                      boot[16])
            fat_sectors = struct.unpack_from("<H", boot, 22)[0] or struct.unpack_from("<I", boot, 36)[0]
            self._first = int(offset + (reserved + fats * fat_sectors) * sector)

    def label(self, address: int) -> bytes | None:
        """The entry at `address` where it is a volume label entry (told by its attributes on disk: a file may be
        named like one); None where it is not one."""
        raw = self._entry(address)  # unreadable: taken for a file, which is never left out
        attributes = raw[11] if raw is not None else 0
        is_label = attributes & _VOLUME_LABEL and attributes & _LONG_NAME != _LONG_NAME and not attributes & _FOLDER
        return raw if is_label else None

    def erased(self, address: int) -> bool:
        """Whether the entry at `address` is a deleted one on disk (first byte 0xE5). The Sleuth Kit lists such an
        entry as live where it reads the volume in its "Android" mode (no entry of the root folder holds a valid
        8.3 name), where only 00 00 marks one deleted."""
        raw = self._entry(address)
        return raw is not None and raw[0] == _DELETED

    def _entry(self, address: int) -> bytes | None:
        """The 32 bytes of the directory entry at The Sleuth Kit's `address`; None where unreadable."""
        if self._first is None or address < _FIRST_ENTRY_ADDRESS:
            return None
        try:
            raw = self._read_at(self._first + (address - _FIRST_ENTRY_ADDRESS) * _ENTRY, _ENTRY)
        except OSError:
            return None
        return raw if len(raw) == _ENTRY else None


def _path(placed: dict[int, tuple[int, bytes]], address: int) -> tuple[bytes, ...]:
    """The names from the root down to the entry at `address` (none: the root folder)."""
    names: list[bytes] = []
    while address in placed and len(names) < _MAX_DEPTH:
        address, name = placed[address]
        names.append(name)
    return tuple(reversed(names))


def holds_nothing(label: bytes) -> bool:
    """Whether a volume label entry is one as mkfs.vfat, mlabel and Windows write it: no first cluster and no
    size. One pointing at content is no real label, and is read as a file."""
    return not any(label[20:22]) and not any(label[26:32])


def read_runs(read_at: Callable[[int, int], bytes], runs: list[tuple[int, int]], offset: int,
              length: int) -> bytes:
    """`length` bytes from `offset` of content stored in `runs` ((position, length) in order); OSError where
    the media ends inside them."""
    starts = [0]
    for _, size in runs:
        starts.append(starts[-1] + size)
    parts = []
    end = min(offset + length, starts[-1])
    while offset < end:
        index = bisect.bisect_right(starts, offset) - 1
        position, size = runs[index]
        wanted = min(end, starts[index] + size) - offset
        chunk = read_at(position + offset - starts[index], wanted)
        if len(chunk) < wanted:
            raise OSError("the image ends inside this file's clusters")
        parts.append(chunk)
        offset += wanted
    return b"".join(parts)


class _LongName:
    """The long-name pieces read before a short entry. A live name's pieces are numbered; a deleted one's
    numbers were overwritten by 0xE5, so its pieces are taken as The Sleuth Kit takes them: the run in order on
    disk that shares one checksum."""

    def __init__(self) -> None:
        self._live: dict[int, bytes] = {}
        self._live_sum = self._count = 0
        self._erased: list[bytes] = []
        self._erased_sum = 0
        self.held = False

    def add(self, raw: bytes) -> None:
        self.held = True  # The Sleuth Kit shows the short entry after any piece by a long name
        piece = raw[1:11] + raw[14:26] + raw[28:32]
        if raw[0] == _DELETED:
            if raw[13] != self._erased_sum:
                self._erased, self._erased_sum = [], raw[13]
            if len(self._erased) <= _MAX_PIECES:  # one more is already too many: no name
                self._erased.append(piece)
        else:
            self._erased = []
        if raw[0] & 0x40:  # the last piece, stored first, starts a long name (0xE5 has this bit too)
            self._live, self._live_sum, self._count = {}, raw[13], raw[0] & 0x1F
        if raw[13] == self._live_sum and raw[0] != _DELETED:
            self._live[raw[0] & 0x1F] = piece

    def name_of(self, raw: bytes) -> bytes | None:
        """The long name of the short entry `raw` (as UTF-8): its pieces whole and their checksum its 8.3
        name's. A deleted entry's first byte is lost: the checksum is computed with the one its long name gives
        it (as Windows and mtools make an 8.3 name from a long one), so pieces of another name are not taken."""
        if raw[0] == _DELETED and self._erased:
            if len(self._erased) > _MAX_PIECES:
                return None
            text, total = _text(b"".join(reversed(self._erased))), self._erased_sum
            if len(text.encode("utf-16-le", "surrogatepass")) <= 26 * (len(self._erased) - 1):
                return None  # it ends before its last piece: a piece of another name is in the run
        elif self._count and sorted(self._live) == list(range(1, self._count + 1)):
            text, total = _text(b"".join(self._live[index] for index in range(1, self._count + 1))), self._live_sum
        else:
            return None
        firsts = _first_bytes(text) if raw[0] == _DELETED else raw[:1]
        if not any(_checksum(bytes([first]) + raw[1:11]) == total for first in firsts):
            return None
        return text.encode("utf-8", "surrogatepass") or None


def _text(pieces: bytes) -> str:
    """A long name's UTF-16 up to its terminating NUL."""
    return pieces.decode("utf-16-le", "surrogatepass").split("\0", 1)[0]


def _first_bytes(long_name: str) -> tuple[int, ...]:
    """The first bytes an 8.3 name made from `long_name` can have: its first character past spaces and leading
    dots, upper-cased; "_" for one an 8.3 name cannot hold; "_" or any code page byte for a non-ASCII one."""
    first = long_name.replace(" ", "").lstrip(".")[:1].upper()
    if not first:
        return ()
    if not first.isascii():
        return (ord("_"), 0x05, *range(0x80, 0x100))  # 0x05: an 8.3 name's first byte 0xE5, as stored
    return (ord("_"),) if first in _REPLACED else (ord(first),)


def _checksum(short_name: bytes) -> int:
    """The checksum a long name's pieces carry of the 8.3 name they belong to."""
    total = 0
    for byte in short_name:
        total = (((total & 1) << 7) + (total >> 1) + byte) & 0xFF
    return total


def _long_name_piece(raw: bytes) -> bool:
    """Whether `raw` reads as a long-name piece as written: its number (or 0xE5, deleted) in range, no type, no
    first cluster."""
    number = raw[0] & 0x1F
    return not raw[12] and not any(raw[26:28]) and (raw[0] == _DELETED or (not raw[0] & 0xA0
                                                                           and 1 <= number <= _MAX_PIECES))


def _plausible(raw: bytes) -> bool:
    """The Sleuth Kit's further checks of an entry read from a free cluster: flags and times that hold."""
    attributes = raw[11]
    if raw[12] & ~0x18 or attributes & ~0x3F or raw[13] > 200:
        return False
    if attributes & _VOLUME_LABEL and attributes & 0x31:  # a label cannot be a folder, read-only or archived
        return False
    create_clock, create_date, access_date = struct.unpack_from("<HHH", raw, 14)
    write_clock, write_date = struct.unpack_from("<HH", raw, 22)
    return all(not clock or _clock_holds(clock) for clock in (create_clock, write_clock)) \
        and all(not date or _date_holds(date) for date in (create_date, access_date, write_date))


def _date_holds(date: int) -> bool:
    return 1 <= date >> 5 & 0x0F <= 12 and 1 <= date & 0x1F <= 31


def _clock_holds(clock: int) -> bool:
    return clock >> 11 < 24 and clock >> 5 & 0x3F < 60 and clock & 0x1F < 30


def dos_time(raw: bytes, date_at: int, time_at: int | None = None, hundredths: int = 0) -> float | None:
    """A FAT date and time in local time, as The Sleuth Kit reads them; None where none is recorded."""
    (date,) = struct.unpack_from("<H", raw, date_at)
    clock = struct.unpack_from("<H", raw, time_at)[0] if time_at is not None else 0
    if not date or not _date_holds(date) or not _clock_holds(clock):
        return None
    try:
        return time.mktime(((date >> 9) + 1980, date >> 5 & 0x0F, date & 0x1F, clock >> 11, clock >> 5 & 0x3F,
                            (clock & 0x1F) * 2, 0, 0, -1)) + min(hundredths, 199) / 100
    except (OverflowError, ValueError):  # past what this platform's clock holds
        return None
