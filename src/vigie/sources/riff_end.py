"""Where a RIFF file ends: its `RIFF` chunk's size says it (a WebP's, an AVI's), and an AVI of more than 1 GB
written to OpenDML goes on in `RIFF` chunks of form `AVIX` behind it. What follows is no player's or viewer's
(`trailing.py`, `video_members.py`).
"""

from __future__ import annotations

import io
from typing import BinaryIO

from vigie.sources.bmff import Walk

_MOST_CHUNKS = 100_000  # OpenDML's chunks are of about 1 GB each
_INSIDE = frozenset({b"LIST", b"JUNK", b"idx1", b"movi", b"VP8 ", b"VP8L", b"VP8X"})  # chunks of an AVI or a WebP


def walk_riff(stream: BinaryIO, size: int, most_bytes: int) -> Walk:
    """The file's RIFF chunks, from its start (`most_bytes` unused: a RIFF file's members are not read here)."""
    del most_bytes
    walk = Walk()
    at = 0
    for _ in range(_MOST_CHUNKS):
        stream.seek(at)
        head = stream.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or (at > 0 and head[8:] != b"AVIX"):
            if head[:4] in _INSIDE:  # a size a writer left unset (interrupted) or that lies: the end is not known
                walk.notes.append(f"its RIFF size ends at byte {at:,}, where its own chunks go on (a "
                                  f"{head[:4].decode()} chunk): a writer interrupted, or a size that lies; what "
                                  "follows its end not looked for")
                return walk
            walk.end = at if at > 0 else None
            return walk
        length = int.from_bytes(head[4:8], "little")
        if at + 8 + length > size:  # cut short: the decoder says what it can play
            return walk
        at = min(at + 8 + length + (length & 1), size)  # an odd size is padded to an even one
    walk.notes.append(f"more than {_MOST_CHUNKS:,} RIFF chunks: the file was not walked past them (its end not "
                      "looked for)")
    return walk


def riff_end(data: bytes) -> int | None:
    """Where a RIFF file in memory ends; None where unknown."""
    return walk_riff(io.BytesIO(data), len(data), 0).end
