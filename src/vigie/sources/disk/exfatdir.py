"""exFAT folders read from a volume's own bytes: Vigie's cross-check of The Sleuth Kit on exFAT.

The Sleuth Kit drops an exFAT file entry set it finds wrong, and its file with it: a name length of 0 (no name:
nothing listed), a secondary count below 2 or above 18, a stream extension recording more bytes than the volume
holds or a first cluster outside it, a file entry whose time stamps are all zero. It takes a file entry marked as
a folder at its word, and lists whatever the file's content happens to hold as its entries. This reader walks the
live folders from the root (their clusters through the FAT, or contiguous where NoFatChain says so), reads every
entry set in them, live or deleted, leniently (its secondary entries as they follow it, its name as its name
entries hold it) and gives each with the address The Sleuth Kit gives the same set (its File entry's), so that
the disk image walk adds, as items of their own, the files The Sleuth Kit left out, with what is wrong said on
each; an entry marked as a folder is one where its content holds an entry set its checksum seals (else read
as a file, or as both), and a live file whose chain loops is given an error where The Sleuth Kit rereads a
cluster. The clusters the allocation bitmap marks in use that nothing found claims are counted on the
partition. Hostile structures (looping chains, folders past exFAT's size limit or nested past any use, folders
sharing their clusters: each cluster listed in one folder) end a folder with a note on the partition, never an
exception; deleted folders are entered only to find the folders sharing clusters, their entry sets not read as
files.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from itertools import takewhile
from typing import NamedTuple

import numpy as np

from vigie.sources.base import Entry
from vigie.sources.disk.exfat import FRAGMENTED_NOTE, ExfatVolume, own_structure
from vigie.sources.disk.folders import MAX_TSK_PATHS, tsk_paths
from vigie.sources.disk.names import SLASH_NOTE, component
from vigie.sources.disk.own import OwnFile
from vigie.sources.fatdir import dos_time

_ENTRY = 32
_FIRST_ADDRESS = 3  # The Sleuth Kit numbers exFAT's 32-byte entries from 3, in order on disk from the heap's start
_IN_USE, _SECONDARY, _BENIGN = 0x80, 0x40, 0x20  # bits of an entry's type: in use; a set's secondary; benign
_FILE, _STREAM, _NAME, _BITMAP = 0x05, 0x40, 0x41, 0x81  # entry types (File, Stream and Name less their in-use bit)
_UPCASE = 0x82
_MAX_UPCASE_BYTES = 2 << 16  # an up-case table of every UTF-16 unit, uncompressed
_DEFINED = frozenset({0x81, 0x82, 0x83, 0xA0, 0xA1, 0xA2, 0x85, 0xC0, 0xC1, 0xE0, 0xE1})  # in-use types exFAT has
_FOLDER = 0x10  # a File entry's attribute bit
_CONTIGUOUS = 0x02  # a Stream Extension's NoFatChain flag
_TSK_MAX_SECONDARIES = 18  # The Sleuth Kit's bounds on a File entry's secondary count
_MAX_FOLDER_BYTES = 256 << 20  # exFAT's limit on a folder's size
_MAX_READ_BYTES = 64 << 20  # folder entries read in one volume (2M), each parsed in Python
_MAX_DEPTH = 64  # as the disk image walk: folders nested deeper are a corrupt (looping) file system
_DROPPED_NOTE = ("The Sleuth Kit did not list this file's exFAT entry set (it drops one it finds wrong): Vigie's "
                 "own exFAT reader read it",)
_NOT_FOLDER_NOTE = ("its exFAT file entry is marked as a folder, but its content is not a folder (it holds no "
                    "exFAT directory entries): The Sleuth Kit read it as one, Vigie's own exFAT reader read it as "
                    "a file",)

_UNPROVEN_FOLDER_NOTE = ("its exFAT file entry is marked as a folder, but its content holds no exFAT entry set "
                         "(a file entry, its stream extension and name, as their checksum seals them) and is not "
                         "all zeros, as an empty folder's is (a file hidden behind a folder's entry?): read as a "
                         "folder, and as a file",)
_SIZED_FOLDER_NOTE = ("its exFAT file entry is marked as a folder and its content reads as one, but records a size "
                      "that is not whole clusters, as no folder's is (a file hidden behind a folder's entry?): read "
                      "as a folder, and as a file as far as its size covers",)


class _Judged(NamedTuple):
    """What the first pass over a volume's folders found, for the walk and the read-back to take alike."""

    own: frozenset[int]  # `own_reads`
    shared: int  # live folders whose clusters a folder entered before them lists too
    shared_deleted: int  # deleted ones
    costly: bool  # `orphans_costly`
    listers: dict[int, int]  # a cluster -> the folder listing it
    folders: frozenset[int]  # the folders entered


class _Content(Enum):
    """What the content of an entry marked as a folder reads as."""

    FOLDER = "folder"
    FILE = "file"  # no folder: read as a file only
    UNPROVEN = "unproven"  # no entry set, not all zeros: read as a folder and as a file


@dataclass(frozen=True)
class ExfatEntry:
    """One file or folder entry set of a folder."""

    parent: int  # the address of the folder holding it
    name: bytes  # as UTF-8
    address: int  # The Sleuth Kit's metadata address for the set (its File entry's)
    is_dir: bool
    deleted: bool
    size: int  # the bytes to read
    first_cluster: int
    contiguous: bool  # NoFatChain: its clusters follow one another, the FAT unused
    mtime: float | None
    ctime: float | None  # the creation time, as The Sleuth Kit reads it
    atime: float | None
    said: tuple[str, ...] = ()  # what is wrong with the set (what The Sleuth Kit drops it for)
    not_folder: bool = False  # marked as a folder, but its content holds no directory entries: a file
    sized_folder: bool = False  # a folder whose size is not whole clusters, as no folder's is: read as a file too
    unproven_folder: bool = False  # a folder holding no entry set, its content not all zeros: read as a file too
    misread: bool = False  # a live file whose chain does not cover its size: The Sleuth Kit's read of it is wrong
    unreadable: str | None = None  # why its content cannot be read whatever its clusters hold


class ExfatFolders:
    """The folders of the exFAT volume `volume`, whose root folder The Sleuth Kit gives the address `root`."""

    def __init__(self, volume: ExfatVolume, root: int) -> None:
        self._volume = volume
        self.root = root
        self._problems: Counter[str] = Counter()
        self._allocated: np.ndarray | None = None  # the allocation bitmap, once the root folder is read
        self._claimed = np.zeros(volume.count, bool)  # cluster - 2 -> claimed by what a pass found
        self._judged: _Judged | None = None  # the first pass's findings
        self._structures: Counter[int] = Counter()  # the root's structure entries of a pass, by type
        self._listers: dict[int, int] = {}  # a cluster -> the address of the folder entered that lists it
        self._shared = [0, 0]  # the live, deleted folders whose clusters a folder entered before them lists too
        self._entered: set[int] = set()  # the folders entered
        self._inside: dict[int, list[int]] = {}  # a folder entered -> the first clusters of the folders it lists
        self._read_left = _MAX_READ_BYTES

    def own_reads(self) -> frozenset[int]:
        """The addresses of the entries The Sleuth Kit lists that Vigie's reader gives the items of: entries
        marked as folders whose content is not one, live files whose chain does not cover their size."""
        return self._judge().own

    def orphans_costly(self) -> bool:
        """Whether The Sleuth Kit's search for orphan files (its `$OrphanFiles`), which enters every folder once
        for each path to it from the root (folders sharing clusters multiply them), would enter more than
        MAX_TSK_PATHS folders: a time bomb not to set off."""
        return self._judge().costly

    def foreign(self, folder: int, address: int) -> bool:
        """Whether the entry set at `address`, listed in the folder at `folder`, lies in a cluster another folder
        lists (entered before it, the cluster in both their chains): listed there only."""
        judged = self._judge()
        lister = judged.listers.get((address - _FIRST_ADDRESS) // (self._volume.cluster_bytes // _ENTRY) + 2)
        return folder in judged.folders and lister is not None and lister != folder

    def _paths_past_cap(self) -> bool:
        """Whether more than MAX_TSK_PATHS paths lead from the root to a folder, as the pass found them (a tree
        of folders, none sharing clusters, has one path to each)."""
        if not any(self._shared):
            return False
        return tsk_paths(self._volume.root, lambda cluster: self._inside.get(self._listers.get(cluster, -1), []),
                         MAX_TSK_PATHS) > MAX_TSK_PATHS

    def _judge(self) -> _Judged:
        """`own_reads`, `foreign` and `orphans_costly`, from a pass of their own, ahead of the walk's."""
        if self._judged is None:
            own, deleted_folders = set(), []
            for entry in self.entries():
                if entry.not_folder or entry.misread:
                    own.add(entry.address)
                elif entry.is_dir and entry.deleted:
                    deleted_folders.append(entry)
            self._deleted_folders(deleted_folders)
            self._judged = _Judged(frozenset(own), self._shared[0], self._shared[1], self._paths_past_cap(),
                                   dict(self._listers), frozenset(self._entered))
        return self._judged

    def entries(self) -> Iterator[ExfatEntry]:
        """Every entry set of every live folder, depth first in order on disk (a folder's before its own). Each
        pass reads afresh."""
        self._problems.clear()
        self._read_left = _MAX_READ_BYTES
        self._claimed.fill(False)
        self._structures.clear()
        self._shared = [0, 0]
        self._entered = {self.root}
        self._inside = {}
        clusters = self._chain(self._volume.root, None)
        self._listers = dict.fromkeys(clusters, self.root)
        self._claim(clusters)
        yield from self._folder(self.root, clusters, 0)

    def _chain(self, first: int, needed: int | None) -> list[int]:
        """The clusters of the FAT chain from `first` (up to `needed`), stopping at a loop or a link out of the
        volume (said, where more were needed)."""
        clusters: list[int] = []
        seen: set[int] = set()
        cluster: int | None = first
        limit = self._volume.count if needed is None else min(needed, self._volume.count)
        while cluster is not None and self._volume.in_volume(cluster) and cluster not in seen \
                and len(clusters) < limit:
            clusters.append(cluster)
            seen.add(cluster)
            cluster = self._volume.following(cluster)
        return clusters

    def _folder(self, address: int, clusters: list[int], depth: int) -> Iterator[ExfatEntry]:
        slots = self._slots(clusters)
        index = 0
        while index < len(slots):
            raw = slots[index][1]
            if raw[0] == 0:  # the end of the folder
                return
            if self._listed_elsewhere(address, slots[index][0]):
                index += 1
                continue
            if raw[0] in (_BITMAP, _UPCASE) and address == self.root:
                if own_structure(raw[0], self._structures, self._volume.fats):
                    self._structure(raw)
                    index += 1
                    continue
                entry: ExfatEntry | None = self._extra_structure(address, *slots[index])
                used = 1
            elif raw[0] & ~_IN_USE != _FILE:
                index += 1
                continue
            else:
                entry, used = self._entry_set(address, slots, index)
            index += used
            if entry is None:
                continue
            if entry.is_dir:
                self._inside.setdefault(address, []).append(entry.first_cluster)
            if not entry.is_dir or entry.deleted:
                if entry.size and not entry.deleted:
                    held = self._clusters(entry)
                    if isinstance(held, str):  # its item is Vigie's reader's, with why it is not read
                        entry = replace(entry, misread=True)
                        held = self._reached(entry)
                    self._claim(held)
                yield entry
                continue
            yield entry
            if depth + 1 >= _MAX_DEPTH:
                self._problems["folders not entered: nested past any use (a corrupt file system)"] += 1
                continue
            needed = -(-min(entry.size, _MAX_FOLDER_BYTES) // self._volume.cluster_bytes)
            inside = (list(range(entry.first_cluster, min(entry.first_cluster + needed, self._volume.count + 2)))
                      if entry.contiguous else self._chain(entry.first_cluster, needed))
            self._list(entry.address, inside, 0)
            self._claim(inside)
            yield from self._folder(entry.address, inside, depth + 1)

    def _deleted_folders(self, folders: list[ExfatEntry]) -> None:
        """Enters the deleted folders the live ones list (contiguous from their first cluster, as The Sleuth Kit
        reads them), and the folders these list, depth first, only for their folder entries: the clusters a folder
        entered before lists are not listed again (The Sleuth Kit's walk enters deleted folders)."""
        stack = [(folder, 1) for folder in reversed(folders)]
        while stack:
            folder, depth = stack.pop()
            if depth >= _MAX_DEPTH or not self._volume.in_volume(folder.first_cluster):
                continue
            needed = -(-min(folder.size, _MAX_FOLDER_BYTES) // self._volume.cluster_bytes)
            clusters = list(range(folder.first_cluster, min(folder.first_cluster + needed, self._volume.count + 2)))
            self._list(folder.address, clusters, 1)
            slots = self._slots(clusters)
            inner, index = [], 0
            while index < len(slots) and slots[index][1][0]:
                if slots[index][1][0] & ~_IN_USE != _FILE or self._listed_elsewhere(folder.address, slots[index][0]):
                    index += 1
                    continue
                entry, used = self._entry_set(folder.address, slots, index)
                index += used
                if entry is not None and entry.is_dir:
                    inner.append(entry)
                    self._inside.setdefault(folder.address, []).append(entry.first_cluster)
            stack.extend((entry, depth + 1) for entry in reversed(inner))

    def _list(self, folder: int, clusters: list[int], deleted: int) -> None:
        """Gives the folder at `folder` the clusters of its chain no folder entered before it lists, and counts it
        (`deleted`: 1 for a deleted one) where another does."""
        self._entered.add(folder)
        if any(self._listers.setdefault(cluster, folder) != folder for cluster in clusters):
            self._shared[deleted] += 1

    def _listed_elsewhere(self, folder: int, address: int) -> bool:
        """Whether the entry at `address` lies in a cluster another folder than `folder` lists (folders sharing
        clusters in their chains: read in the first entered)."""
        return self._listers.get((address - _FIRST_ADDRESS) // (self._volume.cluster_bytes // _ENTRY) + 2,
                                 folder) != folder

    def _structure(self, raw: bytes) -> None:
        """Claims the clusters of the root folder's allocation bitmap or up-case table entry `raw` (as much as
        the structure needs: bytes past that are not the volume's), and reads the first bitmap."""
        first, length = (int(value) for value in struct.unpack_from("<IQ", raw, 20))
        if raw[0] == _BITMAP:
            length = min(length, -(-self._volume.count // 8))
            if self._allocated is None and not raw[1] & 1:  # the first FAT's bitmap (TexFAT keeps a second)
                self._allocated = self._volume.allocated(first, length)
        elif raw[0] == _UPCASE:
            length = min(length, _MAX_UPCASE_BYTES)
        self._claim_run(first, length)

    def _slots(self, clusters: list[int]) -> list[tuple[int, bytes]]:
        """A folder's 32-byte entries up to its end marker (a type of 00), each with The Sleuth Kit's address
        for it."""
        per_cluster = self._volume.cluster_bytes // _ENTRY
        slots: list[tuple[int, bytes]] = []
        for cluster in clusters:
            data = self._volume.read(cluster, self._volume.cluster_bytes)
            if len(data) < self._volume.cluster_bytes:
                self._problems["folder clusters unreadable in the image: read up to them"] += 1
                break
            first = (cluster - 2) * per_cluster + _FIRST_ADDRESS
            for index in range(per_cluster):
                if self._read_left < _ENTRY:
                    self._problems[f"folders not read past {_MAX_READ_BYTES >> 20} MiB of entries in this volume "
                                   "(a hostile file system?)"] += 1
                    return slots
                self._read_left -= _ENTRY
                raw = data[index * _ENTRY: (index + 1) * _ENTRY]
                slots.append((first + index, raw))
                if not raw[0]:  # the end of the folder: the rest of its clusters hold nothing
                    return slots
        return slots

    def _extra_structure(self, parent: int, address: int, raw: bytes) -> ExfatEntry:
        """An allocation bitmap or up-case table entry of the root folder past those the volume has: a file."""
        first, length = (int(value) for value in struct.unpack_from("<IQ", raw, 20))
        kind = "an allocation bitmap" if raw[0] == _BITMAP else "an up-case table"
        said = [f"{kind} entry of the root folder past those the volume has (a bitmap for each FAT, one up-case "
                "table): none of the volume's own structures, read as a file"]
        size, unreadable = self._size(length, length, first, True, False, said)
        return ExfatEntry(parent=parent, name=b"$ALLOC_BITMAP" if raw[0] == _BITMAP else b"$UPCASE_TABLE",
                          address=address, is_dir=False, deleted=False, size=size, first_cluster=first,
                          contiguous=True, mtime=None, ctime=None, atime=None, said=tuple(said),
                          unreadable=unreadable)

    def _entry_set(self, parent: int, slots: list[tuple[int, bytes]], index: int) -> tuple[ExfatEntry | None, int]:
        """The entry set whose File entry is `slots[index]`, read leniently, and how many entries it spans."""
        address, primary = slots[index]
        in_use = primary[0] & _IN_USE
        # its secondary entries as they follow it, whatever its count and their in-use bits say
        following = takewhile(lambda slot: slot[1][0] & _SECONDARY, slots[index + 1: index + 256])
        secondaries = [raw for _, raw in following]
        declared, said = primary[1], []
        if 2 <= declared <= min(len(secondaries), _TSK_MAX_SECONDARIES):
            secondaries = secondaries[:declared]
        elif declared != len(secondaries):
            said.append(f"its file entry's secondary count ({declared}) is not the number of entries of its set "
                        f"({len(secondaries)})")
        if not secondaries or secondaries[0][0] & ~_IN_USE != _STREAM:
            if in_use:  # a deleted one's slots are free for the next set written, which may start in them
                self._problems["exFAT file entries with no stream extension after them: no content to read"] += 1
            return None, 1 + len(secondaries)
        stream = secondaries[0]
        if any(raw[0] & _IN_USE != in_use for raw in secondaries):
            said.append("the in-use bits of its entries differ (a set's are all alike)")
        names = list(takewhile(lambda raw: raw[0] & ~_IN_USE == _NAME, secondaries[1:]))
        units = b"".join(raw[2:_ENTRY] for raw in names)
        length = stream[3]
        if not 0 < length <= len(units) // 2:
            held = next((at for at in range(0, len(units), 2) if units[at: at + 2] == b"\0\0"), len(units)) // 2
            said.append(f"its stream extension's name length ({length}) is not that of the name its name entries "
                        f"hold ({held} characters)")
            length = held
        name = units[: 2 * length].decode("utf-16-le", "surrogatepass").encode("utf-8", "surrogatepass")
        if not name:
            name = f"NoName-{address}".encode()
            said.append(f"its entry set holds no name: shown as {name.decode()} (its address)")
        if not any(primary[8:22]):
            said.append("its time stamps are all zero")
        (attributes,) = struct.unpack_from("<H", primary, 4)
        valid, first, recorded = struct.unpack_from("<Q4xIQ", stream, 8)
        contiguous, deleted = bool(stream[1] & _CONTIGUOUS), not in_use
        size, unreadable = self._size(int(recorded), int(valid), int(first), contiguous, deleted, said)
        marked = bool(attributes & _FOLDER)
        read = self._folder_content(int(first), size, contiguous, deleted) if marked else _Content.FOLDER
        not_folder = read is _Content.FILE
        # a folder's size is whole clusters: one that is not is read as a file too (a picture marked as a folder)
        sized_folder = marked and not not_folder and size % self._volume.cluster_bytes != 0
        return ExfatEntry(
            parent=parent, name=name, address=address, is_dir=marked and not not_folder, deleted=deleted,
            size=size, first_cluster=int(first), contiguous=contiguous, mtime=dos_time(primary, 14, 12, primary[21]),
            ctime=dos_time(primary, 10, 8, primary[20]), atime=dos_time(primary, 18, 16), said=tuple(said),
            not_folder=not_folder, sized_folder=sized_folder,
            unproven_folder=read is _Content.UNPROVEN and not sized_folder, unreadable=unreadable), 1 + len(secondaries)

    def _size(self, recorded: int, valid: int, first: int, contiguous: bool, deleted: bool,
              said: list[str]) -> tuple[int, str | None]:
        """The bytes to read of a file recording `recorded` bytes (`valid` of them written), and why none can
        be read where its sizes are past the volume's; what is wrong is added to `said`."""
        heap = self._volume.count * self._volume.cluster_bytes
        if recorded <= heap:
            return recorded, None
        stated = f"its stream extension records a size of {recorded:,} bytes, more than the volume holds"
        if valid <= heap:
            said.append(f"{stated}: read as far as its valid data length ({valid:,} bytes)")
            return valid, None
        clusters = 0 if deleted else self._run(first) if contiguous else len(self._chain(first, None))
        if not clusters:
            return 0, f"{stated}, and a valid data length of {valid:,} bytes: content not read"
        bytes_held = clusters * self._volume.cluster_bytes
        said.append(f"{stated}, and a valid data length of {valid:,} bytes: read as far as its clusters run "
                    f"({bytes_held:,} bytes)")
        return bytes_held, None

    def _run(self, first: int) -> int:
        """How many clusters from `first` on the allocation bitmap marks in use, one after another."""
        if self._allocated is None or not self._volume.in_volume(first):
            return 0
        free = np.flatnonzero(~self._allocated[first - 2:])
        return int(free[0]) if len(free) else len(self._allocated) - (first - 2)

    def _folder_content(self, first: int, size: int, contiguous: bool, deleted: bool) -> _Content:
        """What the content of an entry marked as a folder reads as. A folder: it holds an entry set (its
        checksum right once its entries' in-use bits are set: a deleted set's too) and no entry in use of a
        critical type exFAT does not have (a benign one, which readers skip, may be a later version's); or no
        entry set and only zeros (an empty folder). A file: no entry set, and such an entry, or a set's secondary
        entry in use before any other. Unproven otherwise: read as both. Its first cluster is read, the rest of
        its clusters where that holds no entry set; one outside the volume or of no size is left to The Sleuth
        Kit's reading (a folder)."""
        if not self._volume.in_volume(first) or not size:
            return _Content.FOLDER
        cluster_bytes = self._volume.cluster_bytes
        needed = -(-min(size, _MAX_FOLDER_BYTES) // cluster_bytes)
        clusters: Sequence[int] = (range(first, min(first + needed, self._volume.count + 2)) if contiguous or deleted
                                   else self._chain(first, needed))
        sealed = unknown = stray = ended = nonzero = in_use_seen = False
        data = b""
        for index, cluster in enumerate(clusters):
            if index and sealed:  # its first cluster holds an entry set: a folder, the rest read as it is entered
                break
            if index:  # past its first cluster (which a folder's entering reads again): read within the volume's cap
                if self._read_left < cluster_bytes:
                    self._problems[f"folders not read past {_MAX_READ_BYTES >> 20} MiB of entries in this volume "
                                   "(a hostile file system?)"] += 1
                    break
                self._read_left -= cluster_bytes
            # the last entries read kept before the next cluster's: a set may run on into it
            data = data[-_ENTRY * (_TSK_MAX_SECONDARIES + 1):] + self._volume.read(cluster, cluster_bytes)
            nonzero = nonzero or bool(data.strip(b"\0"))
            if ended:
                continue
            for at in range(0, len(data) - _ENTRY + 1, _ENTRY):
                kind = data[at]
                if not kind:
                    ended = True
                    break
                if kind & _IN_USE:
                    unknown = unknown or (kind not in _DEFINED and not kind & _BENIGN)
                    stray = stray or (bool(kind & _SECONDARY) and not in_use_seen)  # a set's, before any other in use
                    in_use_seen = True
                sealed = sealed or (kind | _IN_USE == _FILE | _IN_USE and _sealed(data, at))
        if sealed and not unknown:
            return _Content.FOLDER
        if (unknown or stray) and not sealed:
            return _Content.FILE
        return _Content.UNPROVEN if nonzero else _Content.FOLDER

    def content(self, entry: ExfatEntry) -> OwnFile:
        """A file's content as (position in the media, length) runs in order, or why it cannot be read."""
        if not entry.size and not entry.unreadable:
            return OwnFile(entry.address, 0, [], "deleted file whose metadata records no size: content not "
                           "recoverable" if entry.deleted else None)
        clusters = self._clusters(entry)
        if isinstance(clusters, str):
            return OwnFile(entry.address, entry.size, [], clusters)
        cluster_bytes = self._volume.cluster_bytes
        runs: list[tuple[int, int]] = []
        for start, count in _spans(clusters):
            runs.append((self._volume.cluster_at(start), count * cluster_bytes))
        runs[-1] = (runs[-1][0], runs[-1][1] - (len(clusters) * cluster_bytes - entry.size))
        return OwnFile(entry.address, entry.size, runs, None)

    def _clusters(self, entry: ExfatEntry) -> Sequence[int] | str:
        """A file's clusters (`size` not 0), or why they cannot be read: a live file's contiguous or through its
        chain; a deleted one's contiguous from its first, as The Sleuth Kit recovers one, unless the allocation
        bitmap gives some of them to another file now."""
        if entry.unreadable:
            return entry.unreadable
        cluster_bytes = self._volume.cluster_bytes
        needed = -(-entry.size // cluster_bytes)
        first = entry.first_cluster
        if not self._volume.in_volume(first):
            return f"its stream extension points at cluster {first:,}, outside the volume: content not read"
        if entry.deleted or entry.contiguous:
            if first + needed > self._volume.count + 2:
                return f"its {entry.size:,} bytes run past the volume's end from cluster {first:,}: content not read"
            if entry.deleted and self._allocated is not None and self._allocated[first - 2: first - 2 + needed].any():
                return "deleted file whose clusters were reused by another file: content not recoverable"
            return range(first, first + needed)
        clusters = self._chain(first, needed)
        if len(clusters) < needed:
            return (f"its clusters hold {len(clusters) * cluster_bytes:,} of its {entry.size:,} bytes (a broken or "
                    "looping cluster chain: a corrupt file system); not read")
        return clusters

    def _reached(self, entry: ExfatEntry) -> Sequence[int]:
        """The clusters a live file whose content is not read reaches: its, whatever else is wrong."""
        if not self._volume.in_volume(entry.first_cluster):
            return []
        needed = -(-entry.size // self._volume.cluster_bytes)
        if entry.contiguous:
            return range(entry.first_cluster, min(entry.first_cluster + needed, self._volume.count + 2))
        return self._chain(entry.first_cluster, needed)

    def _claim(self, clusters: Sequence[int]) -> None:
        """Marks `clusters` (in the volume) as claimed by a file, a folder or a structure found."""
        if isinstance(clusters, range):
            self._claimed[clusters.start - 2: clusters.stop - 2] = True
        elif clusters:
            self._claimed[np.asarray(clusters) - 2] = True

    def _claim_run(self, first: int, length: int) -> None:
        """Claims the contiguous clusters holding `length` bytes from `first` (a structure's), within the volume."""
        if self._volume.in_volume(first):
            needed = -(-length // self._volume.cluster_bytes)
            self._claim(range(first, min(first + needed, self._volume.count + 2)))

    def fragmented(self, entry: ExfatEntry) -> bool:
        """A deleted file whose first cluster the FAT still chains elsewhere: read contiguous, partly not its own."""
        return entry.deleted and self._volume.fragmented(entry.first_cluster, entry.size)

    def said(self) -> list[str]:
        """What the last pass of `entries` found wrong with the volume's folders, and the clusters the allocation
        bitmap marks in use that nothing it found claims."""
        found = [f"{problem} ({count:,})" for problem, count in sorted(self._problems.items())]
        judged = self._judge()
        if judged.shared:
            found.append("folders whose clusters a folder entered before them or above them lists too (folders sharing "
                         "clusters: a corrupt or hostile file system): the entries there listed in that folder only "
                         f"({judged.shared:,})")
        if judged.shared_deleted:
            found.append("deleted folders whose clusters another folder lists now (taken since they were deleted): "
                         f"the entries there listed in that folder only ({judged.shared_deleted:,})")
        if self.orphans_costly():
            found.append(f"The Sleuth Kit's orphan files ($OrphanFiles) not listed: its search for them enters each "
                         f"folder once for each path to it, more than {MAX_TSK_PATHS:,} here (folders sharing their "
                         "clusters: a hostile file system), so files no folder lists any more are not read")
        if self._allocated is None:
            found.append("its allocation bitmap could not be read (cut short, or larger than read into memory): "
                         "clusters in use that no file claims are not counted")
            return found
        unclaimed = int(np.count_nonzero(self._allocated & ~self._claimed))
        if unclaimed:
            found.append(f"{unclaimed:,} clusters ({unclaimed * self._volume.cluster_bytes:,} bytes) are marked in use "
                         "in the allocation bitmap but no file or folder listed claims them (lost clusters, or entry "
                         "sets neither The Sleuth Kit nor Vigie's exFAT reader could read): their content was not "
                         "scanned")
        return found


def exfat_skipped(folders: ExfatFolders, listed: dict[int, bytes], number: Callable[[bytes], str],
                  found: dict[str, OwnFile] | None) -> Iterator[Entry]:
    """The files Vigie's exFAT reader finds that The Sleuth Kit did not list (`listed`: the path of every address
    it did), or listed as a folder while their content is not one, as entries of their own, their paths numbered
    by the walk's `number` (a folder keeps the path The Sleuth Kit gave it). Each is also put in `found` by
    relpath."""
    paths = {folders.root: b""}
    for file in folders.entries():
        placed = listed.get(file.address)
        path = placed if placed is not None else paths.get(file.parent, b"") + b"/" + component(file.name)
        if file.is_dir:
            paths[file.address] = path
            if not (file.sized_folder or file.unproven_folder):
                continue
        elif placed is not None and not (file.not_folder or file.misread):
            continue
        content = folders.content(file)
        relpath = number(path)
        if found is not None:
            found[relpath] = content
        yield Entry(relpath=relpath, size=file.size, mtime=file.mtime, ctime=file.ctime, atime=file.atime,
                    inode=file.address, deleted=file.deleted, error=content.error,
                    notes=(_NOT_FOLDER_NOTE if file.not_folder else _SIZED_FOLDER_NOTE if file.sized_folder
                           else _UNPROVEN_FOLDER_NOTE if file.unproven_folder else () if placed is not None
                           else _DROPPED_NOTE) + file.said
                    + ((FRAGMENTED_NOTE,) if content.error is None and folders.fragmented(file) else ())
                    + (SLASH_NOTE if b"\0" in path else ()))


def _sealed(data: bytes, at: int) -> bool:
    """Whether `data` holds at `at` a file entry set (in use or deleted: its entries' in-use bits set again) whose
    checksum is right, of a stream extension and name entries as exFAT writes them."""
    count = data[at + 1]
    end = at + _ENTRY * (count + 1)
    if not 2 <= count <= _TSK_MAX_SECONDARIES or end > len(data) or data[at + _ENTRY] | _IN_USE != _STREAM | _IN_USE \
            or data[at + 2 * _ENTRY] | _IN_USE != _NAME | _IN_USE:
        return False
    checksum = 0
    for offset in range(at, end):
        if offset - at not in (2, 3):
            byte = data[offset] | _IN_USE if (offset - at) % _ENTRY == 0 else data[offset]
            checksum = ((((checksum << 15) | (checksum >> 1)) & 0xFFFF) + byte) & 0xFFFF
    return checksum == int.from_bytes(data[at + 2: at + 4], "little")


def _spans(clusters: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Clusters in order as (first, count) runs of consecutive ones."""
    if isinstance(clusters, range):
        yield clusters.start, len(clusters)
        return
    start, count = clusters[0], 1
    for cluster in clusters[1:]:
        if cluster == start + count:
            count += 1
        else:
            yield start, count
            start, count = cluster, 1
    yield start, count
