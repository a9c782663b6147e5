r"""The source interface, and the one grammar of item paths.

An item's path inside its source (`relpath`, stored in the case and shown after the source) is text that
names exactly one entry and reads back to the raw bytes of every name in it:

    relpath    := file ( "!/" member )*
    file       := escaped path inside a folder ("a/b.zip"); empty when the source is the file itself
    member     := escaped member name ( "!" N )?  N = 2, 3, ...: the N-th member of that name in its archive
    escaped    := every byte of the name as UTF-8 text, except
                  "\\" for a backslash, "\!" for "!",
                  "\xHH" for a byte that is not valid UTF-8, and for each byte of a control or invisible
                  formatting character (so no name can hide or reorder what an examiner reads)

An unescaped "!" is therefore always grammar: "!/" enters an archive, "!N" numbers a repeated member name.
`format_relpath` and `parse_relpath` are exact inverses.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

ARCHIVE_SEPARATOR = "!/"
_PLAIN = re.compile(rb"[\x20\x22-\x5b\x5d-\x7e]*")  # printable ASCII but "!" and "\", the usual case
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})  # controls, invisible formatting, line and paragraph separators
_TOKEN = re.compile(r"\\x([0-9a-fA-F]{2})|\\([\\!])|!/|!([1-9][0-9]*)(?=!/|$)|([^\\!]+)")


@dataclass(frozen=True)
class Entry:
    """One thing found in a source: a file, or something that could not be read (with `error`)."""

    relpath: str  # path inside the source in the grammar above; "" when the source is the file itself
    size: int | None = None
    mtime: float | None = None
    ctime: float | None = None
    atime: float | None = None
    error: str | None = None
    link_target: str | None = None  # a symbolic link's target (escaped); links are recorded, never followed
    inode: int | None = None  # the file system's metadata address, for a file read from a disk image
    deleted: bool = False  # a file the file system lists as deleted (a disk image's)
    stored_digests: tuple[tuple[str, str], ...] = ()  # ("md5", hex): what an E01 says its media hash to
    notes: tuple[str, ...] = ()  # what the examiner must know about how the entry was read


class Source(Protocol):
    """A root of evidence (a folder, a file, a disk image)."""

    given: str  # the path as the user typed it
    root: str  # absolute path, so workers and later commands can open it again
    kind: str
    members_opened: int  # how many leading "!/" members `open` resolves itself (1: a disk image's files)

    def entries(self) -> Iterator[Entry]: ...

    def open(self, relpath: str) -> BinaryIO:
        """Open one entry's bytes, read-only."""
        ...


@dataclass(frozen=True)
class MemberRef:
    """One archive member on an item's path: its raw name, and which of the members of that name it is."""

    name: bytes
    occurrence: int = 1


@dataclass(frozen=True)
class ItemPath:
    """An item's path as raw bytes: the file in the source, then the members it sits in, outermost first."""

    file: bytes
    members: tuple[MemberRef, ...] = ()

    @property
    def leaf_name(self) -> bytes:
        """The innermost name's last part ("x.jpg" of "a.zip!/d/x.jpg")."""
        name = self.members[-1].name if self.members else self.file
        return name.rstrip(b"/").rsplit(b"/", 1)[-1]


def escape_name(raw: bytes) -> str:
    if _PLAIN.fullmatch(raw):
        return raw.decode("ascii")
    out = []
    for char in raw.decode("utf-8", "surrogateescape"):
        if "\udc80" <= char <= "\udcff":  # a byte that is not valid UTF-8
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char in "\\!":
            out.append("\\" + char)
        elif unicodedata.category(char) in _HIDDEN:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
        else:
            out.append(char)
    return "".join(out)


def format_relpath(path: ItemPath) -> str:
    relpath = escape_name(path.file)
    for member in path.members:
        relpath = member_relpath(relpath, member.name, member.occurrence)
    return relpath


def member_relpath(container: str, name: bytes, occurrence: int) -> str:
    """The relpath of the `occurrence`-th member called `name` in the archive at `container`."""
    suffix = f"!{occurrence}" if occurrence > 1 else ""
    return container + ARCHIVE_SEPARATOR + escape_name(name) + suffix


def parse_relpath(text: str) -> ItemPath:
    """The exact inverse of `format_relpath`; ValueError on text the grammar does not produce."""
    components: list[tuple[bytearray, int]] = [(bytearray(), 1)]
    position = 0
    while position < len(text):
        token = _TOKEN.match(text, position)
        if token is None:
            raise ValueError(f"malformed item path at character {position}: {text!r}")
        hex_byte, escaped, occurrence, plain = token.groups()
        current = components[-1][0]
        if hex_byte is not None:
            current.append(int(hex_byte, 16))
        elif escaped is not None:
            current.extend(escaped.encode())
        elif occurrence is not None:
            if not components[1:] or components[-1][1] != 1:
                raise ValueError(f"member number outside a member name: {text!r}")
            components[-1] = (current, int(occurrence))
        elif plain is not None:
            current.extend(plain.encode("utf-8", "surrogateescape"))
        else:
            components.append((bytearray(), 1))
        position = token.end()
    file, *members = components
    return ItemPath(bytes(file[0]), tuple(MemberRef(bytes(name), number) for name, number in members))


def archive_depth(relpath: str) -> int:
    """How many archives an item sits in (0: a file of its own)."""
    return len(parse_relpath(relpath).members)


def legacy_relpath(old: str) -> str:
    """A relpath stored before names were escaped (every "!/" was a separator) in today's grammar."""
    return ARCHIVE_SEPARATOR.join(escape_name(part.encode("utf-8", "surrogateescape"))
                                  for part in old.split(ARCHIVE_SEPARATOR))


def shown_os_path(path: str) -> str:
    """A path of this machine (a source as typed) as text: itself, or escaped where it is not UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, held as surrogates by Python
        return escape_name(os.fsencode(path))
    return path


def shown_leaf_name(path: str) -> str:
    """The innermost name's last part of a shown path ("/e/a.zip!/d/x\\!.jpg!2" -> "x\\!.jpg"), still escaped."""
    last = ""
    for token in _TOKEN.finditer(path):
        if token.group(0) == ARCHIVE_SEPARATOR:
            last = ""
        elif token.group(3) is None:  # "!N" numbers a repeated name; it is not part of it
            last += token.group(0)
    return last.rstrip("/").rsplit("/", 1)[-1]


def join_path(given: str, relpath: str) -> str:
    """The path a user reads: the source as given, joined with the path inside it (already escaped)."""
    if not relpath:
        return given
    if relpath.startswith(ARCHIVE_SEPARATOR):
        return given + relpath
    return given.rstrip("/") + "/" + relpath
