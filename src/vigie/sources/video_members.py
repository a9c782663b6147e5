"""What a video holds beside its frames, read as its members: an MP4's cover art (`covr`, `bmff.py`), a
Matroska's attachments (`matroska.py`), and what follows the video's own end (an AVI's: `riff_end.py`), said, each
picture or video that starts there read as its member `after-the-end` (`trailing.py`). What an MP4's boxes that no
player reads hold (a `free` box, one of a type no reader knows, a `uuid`, `udta` or `meta` at the top level, a
`moov` after its last box, a last box that runs past the file's end: cut short, or a size that lies over bytes
appended), and an AVI's chunks no player reads (`JUNK`, the bytes after a `RIFF` chunk's last), are looked at so
too, each picture there its member `in-a-box`; but for nearly nothing but zeros (space a writer reserved), which says
nothing. An MP4's `uuid` box of C2PA's UUID is its manifest store, whose thumbnails are read as for a JPEG
(`c2pa_thumbnails.py`), and one of XMP's its XMP packet, whose pictures are read as a picture's (`hidden_pictures.py`).

The scan and `reopen.py` both read them here, so that a member's path names the same bytes in both.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.bmff import C2PA_UUID, KNOWN_UNREAD, Found, Walk, note_unread, walk_boxes
from vigie.sources.c2pa_thumbnails import store_thumbnails, uuid_store
from vigie.sources.hidden_pictures import xmp_pictures
from vigie.sources.matroska import walk_matroska
from vigie.sources.riff_end import walk_riff
from vigie.sources.trailing import Trailing, pictures_in, trailing_after

IN_BOX_NAME = b"in-a-box"  # a picture inside an MP4's box that no player reads, as a member on the video's path
_BMFF_TYPES = frozenset({"video/mp4", "video/quicktime", "video/3gpp"})
_MATROSKA_TYPES = frozenset({"video/x-matroska", "video/webm"})
_IN_A_BOX = "a picture hidden in it?"
_MOST_IN_BOXES = 64  # members found in them, beyond which boxes are not looked at (a video of boxes hostile to it)
_MOST_STRAY_BYTES = 16  # of other bytes than padding in a box, that hold no picture: a writer's reserved space


@dataclass(frozen=True)
class VideoHeld:
    """A video's members (cover art, attachments), what to say on it, what its boxes no player reads hold (each
    said, its pictures read as members IN_BOX_NAME), the pictures its C2PA and XMP boxes hold, and what follows
    its own end."""

    members: tuple[Found, ...] = ()
    notes: tuple[str, ...] = ()
    after: Trailing | None = None
    in_boxes: tuple[Trailing, ...] = ()
    in_metadata: tuple[Found, ...] = ()

    @property
    def boxed(self) -> tuple[Found, ...]:
        """The pictures its C2PA and XMP boxes hold, then those found in boxes no player reads, as members
        IN_BOX_NAME."""
        return self.in_metadata + tuple(Found(IN_BOX_NAME, data) for box in self.in_boxes for data in box.members)


def video_held(stream: BinaryIO, media_type: str, settings: Settings) -> VideoHeld:
    """What the video in `stream` (seekable) holds beside its frames."""
    walker: Callable[[BinaryIO, int, int], Walk]
    if media_type in _BMFF_TYPES:
        walker = walk_boxes
    elif media_type in _MATROSKA_TYPES:
        walker = walk_matroska
    elif media_type == "video/x-msvideo":
        walker = walk_riff
    else:
        return VideoHeld()
    size = stream.seek(0, 2)
    try:
        walk: Walk = walker(stream, size, settings.max_nested_archive_bytes)
    except (struct.error, ValueError, IndexError) as exc:  # a defect of ours on unforeseen bytes: said, not raised
        return VideoHeld(notes=(f"the video's structure could not be walked ({exc}): its cover art, attachments "
                                "and what follows its end not looked for",))
    notes = list(walk.notes)
    most = settings.max_nested_archive_bytes - walk.held
    in_metadata, carved = _in_metadata(stream, walk, most, notes)
    most -= sum(len(found.data or b"") for found in in_metadata) + sum(map(len, (data for box in carved
                                                                                  for data in box.members)))
    in_boxes = carved + _in_boxes(stream, size, walk, most, notes)
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
    return VideoHeld(tuple(walk.members), tuple(notes), after, in_boxes, in_metadata)


def _in_metadata(stream: BinaryIO, walk: Walk, most: int,
                 notes: list[str]) -> tuple[tuple[Found, ...], tuple[Trailing, ...]]:
    """The thumbnails of the C2PA stores and the pictures of the XMP packets an MP4's `uuid` boxes hold, each
    box read up to `most` bytes in all (past it, said); then what else their bytes hold, searched as a box no player
    reads is (a picture hidden beside the packet or the store: its readers read only their own), but for what lies
    inside what the readers gave (read as their members)."""
    stores: list[bytes] = []
    packets: list[tuple[bytes, str | None]] = []
    boxes: list[tuple[str, int, bytes]] = []
    for uuid, start, end in walk.metadata:
        what = "C2PA manifest store" if uuid == C2PA_UUID else "XMP packet"
        if end - start > most:
            notes.append(f"the {what} a uuid box holds from byte {start:,}: more than {most:,} bytes left of the "
                         "cap of what is held in memory from one video (setting max_nested_archive_bytes), its "
                         "pictures not looked for")
            continue
        most -= end - start
        stream.seek(start)
        payload = stream.read(end - start)
        if uuid != C2PA_UUID:
            packets.append((payload[len(uuid):], None))
        elif (store := uuid_store(payload)) is not None:
            stores.append(store)
        else:  # of another purpose (a fragmented video's Merkle tree): no store, looked into as boxes no one reads
            note_unread(walk, b"uuid", start, end)
            continue
        boxes.append((what, start, payload))
    found = [Found(thumbnail.name, thumbnail.data, thumbnail.problem) for thumbnail in store_thumbnails(stores, [])]
    found += [Found(hidden.name, hidden.data, hidden.problem) for hidden in xmp_pictures(packets)]
    read = tuple(one.data for one in found if one.data)
    carved = []
    for what, start, payload in boxes:
        said = f"the {len(payload):,} bytes a uuid box ({what}) holds from byte {start:,}, beside what its reader reads"
        held = _searched(payload, start, said, read)
        if held is not None and held.members:  # a known box of other bytes: its own
            carved.append(held)
    return tuple(found), tuple(carved)


def _searched(body: bytes, start: int, said: str, read: tuple[bytes, ...] = ()) -> Trailing | None:
    """What a box's `body` (from byte `start`) holds, searched for pictures but those inside one of `read`; None
    where it is padding, but for a few bytes (a writer's reserved space)."""
    stray = len(body) - body.count(0) - body.count(0xFF)  # bytes other than padding
    return None if stray <= _MOST_STRAY_BYTES else pictures_in(body, start, said, _IN_A_BOX, IN_BOX_NAME, read=read)


def _in_boxes(stream: BinaryIO, size: int, walk: Walk, most: int, notes: list[str]) -> tuple[Trailing, ...]:
    """What the top-level boxes (an AVI's chunks) no player reads hold, and a last box that runs past the file's end
    (said), read from the file up to `most` bytes in all (past it, said)."""
    spans = [(f"the {end - start:,} bytes a {kind.decode('latin-1')} {walk.unit} holds from byte {start:,}, which "
              "no player reads", start, end, kind in KNOWN_UNREAD) for kind, start, end in walk.unread]
    if walk.cut is not None:
        kind, at, start, claimed = walk.cut
        spans.append((f"a {kind.decode('latin-1')} box at byte {at:,} that says it runs to byte {claimed:,}, past "
                      f"the file's end (byte {size:,}): the video is cut short, or the box's size lies over bytes "
                      f"appended to hide them; the {size - start:,} bytes of it the file holds", start, size, False))
    found: list[Trailing] = []
    for said, start, end, known in spans:
        if sum(len(box.members) for box in found) >= _MOST_IN_BOXES:
            notes.append(f"more than {_MOST_IN_BOXES} pictures or videos in boxes no player reads: what those from "
                         f"byte {start:,} hold not looked at")
            break
        if end - start > most:
            notes.append(f"{said}: more than {most:,} bytes left of the cap of what is held in memory from one "
                         "video (setting max_nested_archive_bytes), not looked at")
            continue
        most -= end - start
        stream.seek(start)
        body = stream.read(end - start)
        held = _searched(body, start, said)
        if held is not None and (held.members or not known):  # a known box of other bytes: its own (XMP, ...)
            found.append(held)
        elif walk.cut is not None and start == walk.cut[2]:  # padding or a zip in it: the cut is said all the same
            notes.append(said)
    return tuple(found)
