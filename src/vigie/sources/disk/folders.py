"""Each folder of a file system entered once by the scan's walk, at the first path that reaches it (depth first in
listing order): a folder linked into two folders (an ext2/3/4 directory hard link, an NTFS folder named in two
indexes, an HFS+ directory hard link) or two FAT folder entries sharing their first cluster, level after level,
would otherwise be entered 2^depth times. A folder is told by its metadata address, and on FAT by its first
cluster too (FAT gives each entry an address of its own: two entries of one folder differ, and a folder's chain
follows from its first cluster; ext2/3/4 list a folder's blocks in its inode, so two folders sharing a first block
are two; exFAT's are told by Vigie's own reader). A later path to it is an item of its own that says where its
files are listed; one to a folder above it, a loop. A folder whose subtree the depth cap cut where it was entered
is entered again at a later path less deep, which reaches what the cap cut. What the walk saw also tells how many
folders The Sleuth Kit's search for orphan files would enter (once for each path to each: `tsk_paths`, which
exFAT's own reader counts by too)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from vigie.sources.base import escape_name

MAX_TSK_PATHS = 1 << 16  # folders The Sleuth Kit's search for orphan files may enter (a few seconds' work)
_TSK_MAX_DEPTH = 128  # how deep The Sleuth Kit's own walk of folders goes
_Folder = TypeVar("_Folder", bound=Hashable)

ORPHANS_COSTLY = (f"The Sleuth Kit's orphan files ($OrphanFiles) not listed: its search for them enters each folder "
                  f"once for each path to it, more than {MAX_TSK_PATHS:,} times more than once each here (folders "
                  "linked into several folders, or sharing their clusters: a hostile file system), so files no folder "
                  "lists any more are not read")


def again_error(first: bytes, deleted: bool) -> str:
    """Said on a later path to a folder the walk entered at `first` (its path below the file system's root);
    `deleted`: both paths lead through a deleted folder's name."""
    shown = escape_name(first.strip(b"/")) if first.strip(b"/") else "the root folder"
    if deleted:
        return (f"a deleted folder (or one in a deleted folder) whose listing is that of a folder listed at {shown}, "
                "also through a deleted folder (entries sharing a first cluster or a metadata record: reused since "
                "they were deleted, or a hostile file system): its files are listed there only; not entered again")
    return (f"a second path to a folder listed at {shown} (one folder linked into two folders, or folder entries "
            "sharing their clusters: a corrupt or hostile file system, or an HFS+ directory hard link as Time Machine "
            "makes): its files are listed there only; not entered again")


@dataclass
class EnteredFolders:
    """The folders one walk entered, and the folders each one's listing names. A folder is entered once through
    live folders' names, and once more at most through a deleted folder's (whose metadata record or clusters may
    be a live folder's now): so a live folder's files are listed at its live path whatever deleted entry the walk
    met before it."""

    root: int
    # (through a deleted folder, "address"/"block", n) -> the folder's address
    _known: dict[tuple[bool, str, int], int] = field(default_factory=dict)
    # a folder entered -> its path, and how deep it was entered
    _paths: dict[tuple[bool, int], tuple[bytes, int]] = field(default_factory=dict)
    _cut: set[tuple[bool, int]] = field(default_factory=set)  # folders entered whose subtree the depth cap cut
    _inside: dict[int, list[int]] = field(default_factory=dict)  # a folder entered -> the folders its listing names
    # (the folder listing it, its index in that listing, through a deleted folder) of each folder name the walk did
    # not enter again
    again: set[tuple[int, int, bool]] = field(default_factory=set)

    def identify(self, address: int, first_block: int | None, deleted: bool) -> int:
        """The address of the folder entered that the folder at `address` (its listing's first block
        `first_block`) is (`deleted`: reached through a deleted folder); `address` itself where none is."""
        keys = [(deleted, "address", address)] + ([(deleted, "block", first_block)] if first_block is not None
                                                  else [])
        return next((self._known[key] for key in keys if key in self._known), address)

    def entered_at(self, parent: int, folder: int, deleted: bool, depth: int) -> bytes | None:
        """Where the folder `folder` (as `identify` gives it), which the folder at `parent` lists, was entered
        (`deleted`: through a deleted folder); None where it was not, or where the depth cap cut its subtree there
        and `depth` is less deep (entered again, what was cut is reached). Counted as named in `parent`'s listing
        either way."""
        self._inside.setdefault(parent, []).append(folder)
        entered = self._paths.get((deleted, folder))
        if entered is None or ((deleted, folder) in self._cut and depth < entered[1]):
            return None
        return entered[0]

    def enter(self, address: int, first_block: int | None, path: bytes, deleted: bool, depth: int) -> None:
        """Records the folder at `address` as entered at `path`, `depth` folders deep (`deleted`: through a
        deleted folder); `first_block`: its first cluster, where that tells it (FAT)."""
        self._known[(deleted, "address", address)] = address
        if first_block is not None:
            self._known.setdefault((deleted, "block", first_block), address)
        self._paths[(deleted, address)] = (path, depth)
        self._cut.discard((deleted, address))

    def cut(self, address: int, deleted: bool) -> None:
        """Records that the depth cap cut the subtree of the folder entered at `address`."""
        self._cut.add((deleted, address))

    def orphans_costly(self) -> bool:
        """Whether The Sleuth Kit's search for orphan files, which walks every folder from the root once for each
        path to it, would enter more than MAX_TSK_PATHS folders past those the walk entered (once each), as far as
        the folders listed so far tell."""
        if not self.again:  # a tree: one path to each folder
            return False
        cap = len(self._paths) + MAX_TSK_PATHS
        return tsk_paths(self.root, lambda folder: self._inside.get(folder, []), cap) > cap


def tsk_paths(root: _Folder, inside: Callable[[_Folder], Sequence[_Folder]], cap: int) -> int:
    """How many folders The Sleuth Kit's own walk from `root` enters (once for each path to each, a loop back on a
    folder above not followed, 128 deep at most), `inside` giving the folders each one lists; counted up to one
    past `cap`."""
    counted: dict[_Folder, int] = {}

    def paths(folder: _Folder, above: frozenset[_Folder]) -> int:
        if folder in above:  # a loop, which The Sleuth Kit does not follow
            return 0
        if len(above) > _TSK_MAX_DEPTH:
            return 1
        if folder not in counted:
            counted[folder] = min(cap + 1, 1 + sum(paths(child, above | {folder}) for child in inside(folder)))
        return counted[folder]

    return paths(root, frozenset())
