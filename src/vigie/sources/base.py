"""The source interface: a named root that yields entries with a way to open their bytes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

ARCHIVE_SEPARATOR = "!/"


@dataclass(frozen=True)
class Entry:
    """One thing found in a source: a file, or something that could not be read (with `error`)."""

    relpath: str  # path inside the source; "" when the source is the file itself
    size: int | None = None
    mtime: float | None = None
    ctime: float | None = None
    atime: float | None = None
    error: str | None = None


class Source(Protocol):
    """A root of evidence (a folder, a file; a disk image reader can join later)."""

    given: str  # the path as the user typed it
    root: str  # absolute path, so workers and later commands can open it again
    kind: str

    def entries(self) -> Iterator[Entry]: ...

    def open(self, relpath: str) -> BinaryIO:
        """Open one entry's bytes, read-only."""
        ...


def join_path(given: str, relpath: str) -> str:
    """The path a user reads: the source as given, joined with the path inside it."""
    if not relpath:
        return given
    if relpath.startswith(ARCHIVE_SEPARATOR):
        return given + relpath
    return given.rstrip("/") + "/" + relpath


def split_archive_path(relpath: str) -> tuple[str, list[str]]:
    """`a/b.zip!/c.tar!/d.jpg` -> (`a/b.zip`, [`c.tar`, `d.jpg`])."""
    outer, *inner = relpath.split(ARCHIVE_SEPARATOR)
    return outer, inner
