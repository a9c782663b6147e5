"""Folders (walked recursively) and single files.

Inside a folder, symbolic links are recorded with their target and never followed: an absolute link, or a
relative one that climbs out, points into the examiner's own machine, and a link that stays inside points
at something the walk lists on its own. Only a path the user typed may be a link that is followed.
Folders and files are opened without touching their access times where the system allows it.
A file is reopened folder by folder, none of them followed if it is a link: a folder swapped for a link (or a
file) after the scan is refused (ReplacedFolder), never read through.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from vigie.sources.base import Entry, escape_name, parse_relpath
from vigie.sources.diskimage import EXTRA_MISSING_NOTE, DiskImageSource, extra_installed, looks_like_image, probe

_NOATIME = getattr(os, "O_NOATIME", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a pipe swapped in for a file must not block the open
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NOT_REGULAR = "not a regular file (device, pipe or socket); not read"
_NOT_AN_IMAGE_NOTE = ("named like a disk image, but no EWF signature, partition table or file system Vigie reads was "
                      "found at its start (damaged or wiped, or not the first piece of a split image?): hashed and "
                      "examined as one file; files inside it, if any, were not read")


class ReplacedFolder(OSError):
    """A folder on the way to a file is no longer a folder (a symbolic link, a file): not the folder that was
    scanned."""


class LinkedFolder(ReplacedFolder):
    """A folder on the way to a file is a symbolic link: never followed."""


def _open_noatime(path: str | bytes, flags: int, dir_fd: int | None = None) -> int:
    try:
        return os.open(path, flags | _NOATIME, dir_fd=dir_fd)
    except PermissionError:  # O_NOATIME needs ownership; fall back to a plain read-only open
        return os.open(path, flags, dir_fd=dir_fd)


def open_evidence(path: str | bytes, follow_link: bool = False, dir_fd: int | None = None) -> BinaryIO:
    """Open a regular file read-only (`path` inside the folder `dir_fd` when given); a link is refused unless
    `follow_link` (a path the user typed)."""
    info = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_link)
    if stat.S_ISLNK(info.st_mode):
        raise OSError(errno.ELOOP, "symbolic link; not followed")
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, _NOT_REGULAR)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | _NONBLOCK | (0 if follow_link else _NOFOLLOW)
    fd = _open_noatime(path, flags, dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between the check and the open
        os.close(fd)
        raise OSError(errno.EINVAL, _NOT_REGULAR)
    return os.fdopen(fd, "rb", buffering=0)


def _link_entry(path: bytes, relpath: bytes, info: os.stat_result) -> Entry:
    target = os.readlink(path)
    if target.startswith(b"/"):
        where = "absolute, outside the evidence"
    else:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relpath), target))
        inside = resolved != b".." and not resolved.startswith(b"../")
        where = "inside the evidence, listed on its own" if inside else "leaves the evidence"
    shown = escape_name(target)
    return Entry(relpath=escape_name(relpath), mtime=info.st_mtime, ctime=info.st_ctime, atime=info.st_atime,
                 error=f"symbolic link to {shown} ({where}); not followed", link_target=shown)


def _entry_for(path: bytes, relpath: bytes, follow_link: bool) -> Entry:
    shown = escape_name(relpath)
    try:
        info = os.stat(path) if follow_link else os.lstat(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if os.path.islink(path):
            reason = f"symbolic link cannot be followed ({reason}; target {escape_name(os.readlink(path))})"
        return Entry(relpath=shown, error=f"cannot read: {reason}")
    if stat.S_ISLNK(info.st_mode):
        return _link_entry(path, relpath, info)
    if stat.S_ISDIR(info.st_mode):
        return Entry(relpath=shown, error="a folder where a file was expected; not read")
    if not stat.S_ISREG(info.st_mode):
        return Entry(relpath=shown, error=_NOT_REGULAR)
    return Entry(relpath=shown, size=info.st_size, mtime=info.st_mtime, ctime=info.st_ctime, atime=info.st_atime)


class DirectorySource:
    kind = "directory"
    members_opened = 0

    def __init__(self, given: str) -> None:
        self.given = given
        self.root = os.path.abspath(given)

    def entries(self) -> Iterator[Entry]:
        root = os.fsencode(self.root)
        stack = [b""]
        while stack:
            rel_dir = stack.pop()
            flags = os.O_RDONLY | _DIRECTORY | (_NOFOLLOW if rel_dir else 0)  # the root may be a link the user typed
            try:  # listing through a descriptor opened with O_NOATIME leaves the folder's atime alone
                fd = _open_noatime(os.path.join(root, rel_dir), flags)
            except OSError as exc:
                yield Entry(relpath=escape_name(rel_dir) or ".", error=f"cannot list folder: {exc.strerror or exc}")
                continue
            subdirs = []
            try:
                with os.scandir(fd) as listing:
                    children = sorted(listing, key=lambda e: os.fsencode(e.name))
                for child in children:
                    relpath = os.path.join(rel_dir, os.fsencode(child.name))
                    try:
                        is_real_dir = child.is_dir(follow_symlinks=False)
                    except OSError:
                        is_real_dir = False
                    if is_real_dir:
                        subdirs.append(relpath)
                    else:
                        yield _entry_for(os.path.join(root, relpath), relpath, follow_link=False)
            finally:
                os.close(fd)
            stack.extend(reversed(subdirs))

    def open(self, relpath: str) -> BinaryIO:
        """The file `relpath` names (its archive, for a member's path), reached through its folders, none
        followed if it is now a link (the root may be one: the user typed it)."""
        *folders, name = parse_relpath(relpath).file.split(b"/")
        fd = _open_noatime(os.fsencode(self.root), os.O_RDONLY | _DIRECTORY)
        try:
            for depth, folder in enumerate(folders):
                inner = _open_folder(fd, folder, b"/".join(folders[:depth + 1]))
                os.close(fd)
                fd = inner
            return open_evidence(os.fsdecode(name), dir_fd=fd)
        finally:
            os.close(fd)


def _open_folder(parent: int, name: bytes, relpath: bytes) -> int:
    try:
        return _open_noatime(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, parent)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        mode = os.lstat(name, dir_fd=parent).st_mode
        if stat.S_ISLNK(mode):
            target = escape_name(os.readlink(name, dir_fd=parent))
            raise LinkedFolder(errno.ELOOP, f"the folder {escape_name(relpath)} is now a symbolic link to {target}; "
                                            "not followed") from exc
        if stat.S_ISDIR(mode):
            raise
        kind = "a file" if stat.S_ISREG(mode) else "a device, pipe or socket"
        raise ReplacedFolder(errno.ENOTDIR, f"the folder {escape_name(relpath)} is now {kind}, not a folder") from exc


class FileSource:
    kind = "file"
    members_opened = 0  # every "!/" of an item path enters an archive, read through reopen

    def __init__(self, given: str) -> None:
        self.given = given
        self.root = os.path.abspath(given)

    def entries(self) -> Iterator[Entry]:
        entry = _entry_for(os.fsencode(self.root), b"", follow_link=True)
        if entry.error is None and looks_like_image(self.root) and not probe(self.root):  # not read as an image
            entry = replace(entry, notes=(_NOT_AN_IMAGE_NOTE if extra_installed() else EXTRA_MISSING_NOTE,))
        yield entry

    def open(self, relpath: str) -> BinaryIO:
        return open_evidence(self.root, follow_link=True)


def open_source(given: str) -> DirectorySource | FileSource | DiskImageSource:
    path = Path(given)
    if path.is_dir():
        return DirectorySource(given)
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(f"evidence path does not exist: {given}")
    if path.is_file() and probe(os.path.abspath(given)):  # chosen by content; the name alone decides nothing
        return DiskImageSource(given)
    return FileSource(given)
