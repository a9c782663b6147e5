"""Where a RIFF file ends: its `RIFF` chunk's size says it (a WebP's, an AVI's), and an AVI of more than 1 GB
written to OpenDML goes on in `RIFF` chunks of form `AVIX` behind it. What follows is no player's or viewer's
(`trailing.py`, `video_members.py`).

An AVI's `RIFF` chunks are walked by their chunks' headers too (into its `LIST`s, not into `movi`, its frames):
those no player reads (`JUNK`, a type no AVI reader knows) are listed for what they hold to be looked at
(`video_members.py`), and so are the bytes after its last chunk where its `RIFF` size says it runs on (a size
raised over bytes appended).
"""

from __future__ import annotations

import io
from typing import BinaryIO

from vigie.sources.bmff import Walk, note_unread

_MOST_CHUNKS = 100_000  # OpenDML's chunks are of about 1 GB each
_INSIDE = frozenset({b"LIST", b"JUNK", b"idx1", b"movi", b"VP8 ", b"VP8L", b"VP8X"})  # chunks of an AVI or a WebP
_AVI_FORMS = frozenset({b"AVI ", b"AVIX"})
_READ = frozenset({b"LIST", b"idx1"})  # an AVI's chunks that players read (`LIST`s: headers, frames, INFO text)
_MOST_INNER = 10_000  # chunks of one RIFF chunk walked (not `movi`'s): a writer's are a few dozen
_LIST_DEPTH = 3  # `hdrl`, a stream's `strl`, and one more


def walk_riff(stream: BinaryIO, size: int, most_bytes: int, first: int = 0) -> Walk:
    """The file's RIFF chunks, from its start (or from `first`, where it starts in `stream`; `most_bytes` unused: a
    RIFF file's members are not read here)."""
    del most_bytes
    walk = Walk()
    at = first
    for _ in range(_MOST_CHUNKS):
        stream.seek(at)
        head = stream.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or (at > first and head[8:] != b"AVIX"):
            if head[:4] in _INSIDE:  # a size a writer left unset (interrupted) or that lies: the end is not known
                walk.notes.append(f"its RIFF size ends at byte {at:,}, where its own chunks go on (a "
                                  f"{head[:4].decode()} chunk): a writer interrupted, or a size that lies; what "
                                  "follows its end not looked for")
                return walk
            walk.end = at if at > first else None
            return walk
        length = int.from_bytes(head[4:8], "little")
        if at + 8 + length > size:  # cut short: the decoder says what it can play
            return walk
        if head[8:] in _AVI_FORMS:
            _inner_chunks(stream, at + 12, at + 8 + length, walk, [_MOST_INNER])
        at = min(padded_end(stream, at + 8 + length, length), size)
    walk.notes.append(f"more than {_MOST_CHUNKS:,} RIFF chunks: the file was not walked past them (its end not "
                      "looked for)")
    return walk


def padded_end(stream: BinaryIO, end: int, length: int) -> int:
    """Where a RIFF's (an AIFF's) chunk of `length` bytes that end at `end` is followed: past its pad byte, where
    its length is odd, but where that byte is not 0 (a writer that wrote none: what follows starts there)."""
    if not length & 1:
        return end
    stream.seek(end)
    return end + 1 if stream.read(1) in (b"\0", b"") else end


def _inner_chunks(stream: BinaryIO, start: int, end: int, walk: Walk, budget: list[int], depth: int = 0) -> None:
    """The chunks an AVI's `RIFF` chunk holds, from `start` to `end`: those no player reads listed (in its `LIST`s
    but `movi`, its frames, their `JUNK` chunks: the others there are headers and text), and the bytes after the
    last (where the next bytes are no chunk: an unprintable type, a size past `end`); `budget`: chunks left to walk."""
    walk.unit, walk.units = "chunk", "chunks"
    at = start
    while at + 8 <= end:
        if budget[0] == 0:
            walk.notes.append(f"more than {_MOST_INNER:,} chunks in a RIFF chunk: those from byte {at:,} not looked "
                              "at")
            return
        budget[0] -= 1
        stream.seek(at)
        head = stream.read(12)
        length = int.from_bytes(head[4:8], "little")
        if not all(0x20 <= byte < 0x7F for byte in head[:4]) or at + 8 + length > end:
            break
        if head[:4] == b"LIST" and head[8:] != b"movi" and length >= 4 and depth < _LIST_DEPTH:
            _inner_chunks(stream, at + 12, at + 8 + length, walk, budget, depth + 1)
        elif head[:4] not in _READ and length and (depth == 0 or head[:4] == b"JUNK"):
            note_unread(walk, head[:4], at + 8, at + 8 + length)
        at = padded_end(stream, at + 8 + length, length)
    if at < end and depth == 0:  # looked at as what a box no player reads holds
        note_unread(walk, b"RIFF", at, end)


def riff_end(data: bytes, start: int = 0) -> int | None:
    """Where a RIFF file in memory (from `start`) ends; None where unknown."""
    return walk_riff(io.BytesIO(data), len(data), 0, start).end
