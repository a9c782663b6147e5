"""Folders (walked recursively, links to folders not followed) and single files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from vigie.sources.base import Entry

_NOATIME = getattr(os, "O_NOATIME", 0)


def open_evidence(path: str | os.PathLike[str]) -> BinaryIO:
    """Open read-only, without touching the access time where the system allows it."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | _NOATIME)
    except PermissionError:  # O_NOATIME needs ownership; fall back to a plain read-only open
        fd = os.open(path, flags)
    return os.fdopen(fd, "rb", buffering=0)


def _entry_for(path: str, relpath: str) -> Entry:
    try:
        info = os.stat(path)  # follows links to files
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if os.path.islink(path):
            reason = f"symbolic link cannot be followed ({reason}; target {os.readlink(path)!r})"
        return Entry(relpath=relpath, error=f"cannot read: {reason}")
    if stat.S_ISDIR(info.st_mode):
        return Entry(relpath=relpath, error=f"symbolic link to a folder, not followed (target {os.readlink(path)!r})")
    if not stat.S_ISREG(info.st_mode):
        return Entry(relpath=relpath, error="not a regular file (device, pipe or socket); not read")
    return Entry(
        relpath=relpath,
        size=info.st_size,
        mtime=info.st_mtime,
        ctime=info.st_ctime,
        atime=info.st_atime,
    )


class DirectorySource:
    kind = "directory"

    def __init__(self, given: str) -> None:
        self.given = given
        self.root = os.path.abspath(given)

    def entries(self) -> Iterator[Entry]:
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            abs_dir = os.path.join(self.root, rel_dir) if rel_dir else self.root
            try:
                with os.scandir(abs_dir) as listing:
                    children = sorted(listing, key=lambda e: e.name)
            except OSError as exc:
                yield Entry(relpath=rel_dir or ".", error=f"cannot list folder: {exc.strerror or exc}")
                continue
            subdirs = []
            for child in children:
                relpath = f"{rel_dir}/{child.name}" if rel_dir else child.name
                try:
                    is_real_dir = child.is_dir(follow_symlinks=False)
                except OSError:
                    is_real_dir = False
                if is_real_dir:
                    subdirs.append(relpath)
                else:
                    yield _entry_for(child.path, relpath)
            stack.extend(reversed(subdirs))

    def open(self, relpath: str) -> BinaryIO:
        return open_evidence(os.path.join(self.root, relpath))


class FileSource:
    kind = "file"

    def __init__(self, given: str) -> None:
        self.given = given
        self.root = os.path.abspath(given)

    def entries(self) -> Iterator[Entry]:
        yield _entry_for(self.root, "")

    def open(self, relpath: str) -> BinaryIO:
        return open_evidence(self.root)


def open_source(given: str) -> DirectorySource | FileSource:
    path = Path(given)
    if path.is_dir():
        return DirectorySource(given)
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(f"evidence path does not exist: {given}")
    return FileSource(given)
