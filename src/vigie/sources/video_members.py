"""What a video holds beside its frames, read as its members: an MP4's cover art (`covr`, `bmff.py`), a
Matroska's attachments (`matroska.py`), and what follows the video's own end, said, each picture or video that
starts there read as its member `after-the-end` (`trailing.py`).

The scan and `reopen.py` both read them here, so that a member's path names the same bytes in both.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.bmff import Found, Walk, walk_boxes
from vigie.sources.matroska import walk_matroska
from vigie.sources.trailing import Trailing, trailing_after

_BMFF_TYPES = frozenset({"video/mp4", "video/quicktime", "video/3gpp"})
_MATROSKA_TYPES = frozenset({"video/x-matroska", "video/webm"})


@dataclass(frozen=True)
class VideoHeld:
    """A video's members (cover art, attachments), what to say on it, and what follows its own end."""

    members: tuple[Found, ...] = ()
    notes: tuple[str, ...] = ()
    after: Trailing | None = None


def video_held(stream: BinaryIO, media_type: str, settings: Settings) -> VideoHeld:
    """What the video in `stream` (seekable) holds beside its frames."""
    if media_type in _BMFF_TYPES:
        walker = walk_boxes
    elif media_type in _MATROSKA_TYPES:
        walker = walk_matroska
    else:
        return VideoHeld()
    size = stream.seek(0, 2)
    try:
        walk: Walk = walker(stream, size, settings.max_nested_archive_bytes)
    except (struct.error, ValueError, IndexError) as exc:  # a defect of ours on unforeseen bytes: said, not raised
        return VideoHeld(notes=(f"the video's structure could not be walked ({exc}): its cover art, attachments "
                                "and what follows its end not looked for",))
    notes = list(walk.notes)
    after = None
    if walk.end is not None and walk.end < size:
        most = settings.max_nested_archive_bytes  # the cap of what is held in memory
        if size - walk.end > most:
            notes.append(f"{size - walk.end:,} bytes after the video's own end (byte {walk.end:,}), which no player "
                         f"shows: more than {most:,} (the cap of what is held in memory, setting "
                         "max_nested_archive_bytes), not read")
        else:
            stream.seek(walk.end)
            after = trailing_after(stream.read(size - walk.end), walk.end, "video")
    stream.seek(0)
    return VideoHeld(tuple(walk.members), tuple(notes), after)
