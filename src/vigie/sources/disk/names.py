"""How a name listed in a file system becomes part of an item path."""

from __future__ import annotations

SLASH_NOTE = ('a name on its path holds a "/" (a corrupt or hostile file system): shown as \\x00 so that it is '
              "not taken for a folder",)
NAMED_FORK = b"..namedfork"  # after a file's path: the folder of its other streams, as macOS names it
FORK = [NAMED_FORK, b"rsrc"]  # after a file's path: its resource fork, as macOS names it


def component(name: bytes) -> bytes:
    """A name as one component of an item path: a "/" inside it (a corrupt or hostile file system; no file
    system allows one) becomes NUL, which no name holds either, so it reads back to this entry alone."""
    return name.replace(b"/", b"\0")
