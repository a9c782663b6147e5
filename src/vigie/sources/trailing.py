"""What follows a picture's own content: a JPEG's end marker, a PNG's IEND chunk, a GIF's trailer, a WebP's RIFF
chunk.

Viewers stop there, and so does the decoder, so bytes behind it are seen by no one: a phone's motion photo keeps its
video there (Google's MicroVideo, Samsung's MotionPhoto_Data), an MPO written without its index its second picture,
and anyone may append a picture to hide it. A zip there, first, is read as the picture's members
(`sources/zipbehind.py`); anything else is said, and each picture or video that starts in it (told by its signature,
then by its type) is read as a member `after-the-end`, `after-the-end!2`, ...: up to its own end where its structure
gives one (so that its bytes are exactly the picture's, and its hashes those a list holds), else to the file's end
(a picture cut short, or a decoy: each so, so that a decoy hides no picture cut short behind it). A start inside a
picture that ends where it does, or past it, is read too (the picture a decoy's first bytes wrap), and a picture
followed by padding or a short trailer with them too (its own file's bytes), after the others; one too small to
be a picture or a video is said, not read. At most _MOST_MEMBERS pictures, _MOST_UNENDED starts read to the file's
end, _MOST_TRIES starts walked (fewer where the bytes are many) and _MOST_SIGNATURES signatures looked at: a cap
reached is said.
What follows a member's own end is looked at the same way (padding passed over, other bytes said), and a zip there
is read as the picture's members. An MPO's later pictures are read as its frames, and again so. What follows a
video's own end (an MP4's last top-level box, a Matroska's Segment, an AVI's RIFF: `video_members.py`), an SQLite
database's pages (`sqlite_end.py`), an S/MIME signature (`signature_end.py`) and a WAV's or an AIFF's body
(`audio_pictures.py`) is said and read so too (`what_follows`: a zip there too), and so is what a video's box no
player reads holds (a `free` box's, named otherwise).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from vigie.sources.bmff import content_end as bmff_end
from vigie.sources.mediatype import SNIFF_BYTES, sniff
from vigie.sources.riff_end import riff_end
from vigie.sources.tiff_end import bmp_end, plausible_bmp, plausible_tiff, tiff_end
from vigie.sources.zipbehind import ZipClues, clues_of, search_stopped_note, zip_behind
from vigie.sources.zipsalvage import LOCAL_SIGNATURE, plausible_header_at

AFTER_END_NAME = b"after-the-end"  # what follows a picture's content, as a member of it on its item's path

PADDING = b"\0\xff"  # what cameras and editors pad a file with
_TOO_FEW = 64  # bytes: fewer, and none starting like a picture or a video, are not said
# signatures of what may be hidden behind a picture, and how they are named: (signature, offset in it, name)
_ZIP = "a zip"
_MP4 = "an MP4 or QuickTime video"
_MATROSKA = "a Matroska or WebM video"
_VIDEOS = (_MP4, _MATROSKA)  # no camera pads them, nor a phone's trailer follows them
_TIFF, _BMP = "a TIFF", "a BMP"  # told only where their end is found: their signatures are short or common
_MOST_FTYP = 1024  # bytes of an `ftyp` box: its brands, a few dozen
_KINDS = ((b"\xff\xd8\xff", 0, "a JPEG"), (b"\x89PNG\r\n\x1a\n", 0, "a PNG"), (b"GIF8", 0, "a GIF"),
          (b"ftyp", 4, _MP4), (b"RIFF", 0, "a RIFF file (WebP, AVI)"),
          (b"\x1a\x45\xdf\xa3", 0, _MATROSKA),
          (LOCAL_SIGNATURE, 0, _ZIP), (b"II*\x00", 0, _TIFF), (b"MM\x00*", 0, _TIFF), (b"BM", 0, _BMP))
# who never sees what follows each kind of file's own content, and what may be hidden there
_UNSEEN = {"picture": ("no viewer shows", "a motion photo's video, a picture appended to hide it?"),
           "video": ("no player shows", "a motion photo's video, a picture appended to hide it?"),
           "database": ("SQLite never reads", "a picture appended to hide it?"),
           "signature": ("no mail program shows", "a picture appended to hide it?"),
           "S/MIME structure": ("no mail program shows", "a picture appended to hide it?"),
           "armour": ("no PEM reader reads", "a picture appended to hide it?"),
           "audio": ("no player plays", "a picture appended to hide it?")}
_FIRST_WINDOW = 1 << 16  # bytes searched for every signature at once, then four times as many: no search runs
# through bytes past the first start found (a motion photo's video: searched for its end, not for signatures)
_MOST_SIGNATURES = 1 << 16  # signatures looked at (each sniffed): bytes made of them cost a bounded search
_MOST_TRIES = 1024  # starts whose structure is walked: decoys (a signature and a few bytes) cost a bounded search,
_WALKED = 1 << 26  # and at most this many bytes walked in all, each start's walk counted to the end of the bytes
_MOST_MEMBERS = 8  # pictures and videos whose own end is found (a start inside one that ends where it does, and
# one with the padding that follows it, counted with it)
_MOST_UNENDED = 8  # starts whose own end is not found, each read to the file's end (the bytes of those past the
# first at most _WALKED in all)


def content_end(data: bytes, media_type: str, start: int = 0) -> int | None:
    """Where, in `data`, the own content of a JPEG, PNG, GIF, WebP, MP4 or AVI that starts at `start` ends; None
    for another format, or one whose structure breaks off (its damage is the decoder's to say)."""
    walk = {"image/jpeg": _jpeg_end, "image/png": _png_end, "image/gif": _gif_end, "video/mp4": bmff_end,
            "video/quicktime": bmff_end, "video/3gpp": bmff_end, "image/webp": riff_end,
            "video/x-msvideo": riff_end}.get(media_type)
    return None if walk is None else _walked(walk, data, start)


def _walked(walk: Callable[[bytes, int], int | None], data: bytes, start: int) -> int | None:
    try:
        return walk(data, start)
    except (IndexError, ValueError, struct.error):
        return None


def _member_end(rest: bytes, start: int) -> int | None:
    """Where a picture or a video found at `start` of bytes no reader looks at ends: a TIFF's and a BMP's too
    (`tiff_end.py`), which a file of its own is not walked for (a TIFF's maker notes point where they will)."""
    media_type = sniff(rest[start:start + SNIFF_BYTES])
    walk = {"image/tiff": tiff_end, "image/bmp": bmp_end}.get(media_type)
    return content_end(rest, media_type, start) if walk is None else _walked(walk, rest, start)


@dataclass(frozen=True)
class Trailing:
    """What follows a picture's own content: said, and each picture or video that starts in it read as the
    picture's member AFTER_END_NAME (the first; then `after-the-end!2`, ...), to the end of the file."""

    note: str
    members: tuple[bytes, ...]
    spans: tuple[tuple[int, int], ...] = ()  # where each member starts and stops in the bytes looked at


def trailing(data: bytes, media_type: str) -> Trailing | None:
    """What follows the picture in `data`; None where nothing does, or only padding, or where a zip comes first
    (read as the picture's members, `sources/zipbehind.py`)."""
    end = content_end(data, media_type)
    if end is None or end >= len(data):
        return None
    return trailing_after(data[end:], end, "picture")


def trailing_after(rest: bytes, end: int, what: str) -> Trailing | None:
    """What `rest` holds, which follows a picture's, a video's, a database's or a signature's (`what`) own
    content at byte `end`."""
    unseen, guess = _UNSEEN[what]
    return pictures_in(rest, end, f"{len(rest):,} bytes after the {what}'s own end (byte {end:,}), which {unseen}",
                       guess, AFTER_END_NAME, padded=what != "audio")  # frames may follow a picture in a sound


def pictures_in(rest: bytes, end: int, said: str, guess: str, name: bytes, padded: bool = False,
                read: tuple[bytes, ...] = ()) -> Trailing | None:
    """What `rest` holds, which starts at byte `end` of a file where no reader looks (`said`, in the note, with
    `guess` at what it may be): each picture or video that starts in it, read as the member `name` (and `name!2`,
    ...), but for one whose bytes lie inside one of `read` (read already, by the reader of the bytes around it);
    and where `padded` (pictures appended to a file, whose own files' padding or trailer may follow them) each
    picture followed by padding (or a short trailer up to the end) read with it too; None where it is padding, or
    where a zip comes first (read as the file's members)."""
    if not rest.strip(PADDING):
        return None
    starts = _Starts(rest)
    found = starts.at_or_after(0)
    if found is not None and found[1] == _ZIP:
        return None
    members: list[tuple[int, int, str]] = []  # where each starts and stops in `rest`, and what it starts like where
    readings: list[tuple[int, int, str]] = []  # and other readings of them, given after them (so that the names of
    # those stay as they were): a picture a decoy wraps, one with the padding that follows it
    tries = ended = inside = 0
    unended = 0  # starts whose end is not found, read each to the file's end
    unread: list[int] = []  # and those past them, named
    tiny: list[int] = []  # starts whose end is found too close to be a picture's or a video's, named
    zip_past = False  # a zip starts past the last member: read as the picture's members
    stopped = ""
    most_tries = max(2 * _MOST_MEMBERS, min(_MOST_TRIES, _WALKED // len(rest)))
    while found is not None:
        start, kind = found
        if kind == _ZIP:  # read as the picture's members, and what follows is the zip's: its members' bytes
            zip_past = True
            break
        if ended == _MOST_MEMBERS or tries == most_tries:
            stopped = (f"more than {_MOST_MEMBERS} pictures or videos" if ended == _MOST_MEMBERS else
                       f"more than {most_tries:,} starts of a picture or a video (decoys?)")
            stopped = f"; {stopped} looked at: what starts from byte {end + start:,} not read"
            break
        tries += 1
        own = _member_end(rest, start)
        if own is None:  # a decoy, or a picture cut short (still hashed as it is): each read to the file's end
            if unended < _MOST_UNENDED and (not unended or len(rest) - start <= _WALKED // _MOST_UNENDED):
                members.append((start, len(rest), f"{kind} at byte {end + start:,} whose own end is not found"))
                unended += 1
            else:
                unread.append(end + start)
            found = starts.at_or_after(start + 1)
            continue
        if own - start < _TOO_FEW:  # too few bytes for a picture or a video (a decoy): not read, and no cap used up
            tiny.append(end + start)
            found = starts.at_or_after(own)
            continue
        if any(rest[start:own] in picture for picture in read):  # read already, by the reader around it
            found = starts.at_or_after(own)
            continue
        members.append((start, own, f"{kind} at byte {end + start:,}"))
        ended += 1
        # a start inside it that ends where it does, or past it: the picture a decoy's first bytes wrap (its segment,
        # its chunk, its RIFF of a size that falls inside the picture)
        last, last_kind, window_end = start, kind, min(own, start + _FIRST_WINDOW)
        inner = starts.at_or_after(start + 1, window_end)
        while inner is not None and tries < most_tries:
            tries += 1
            inner_end = _member_end(rest, inner[0])
            if inner_end is not None and inner_end >= own:
                if inside == _MOST_MEMBERS:
                    stopped = (f"; more than {_MOST_MEMBERS} starts inside a picture or a video that end where it "
                               f"does or past it looked at: what starts inside it from byte {end + inner[0]:,} "
                               "not read")
                    break
                inside += 1
                readings.append((inner[0], inner_end, f"{inner[1]} at byte {end + inner[0]:,}, inside the one "
                                                     f"before, which ends at byte {end + inner_end:,}"))
                if inner_end > own:
                    own = inner_end
                last, last_kind = inner[0], inner[1]
            inner = starts.at_or_after(inner[0] + 1, window_end)
        found = starts.at_or_after(own)  # what starts before its end is inside it
        stop = len(rest) if found is None else found[0]
        if padded and last_kind not in _VIDEOS and own < stop and (
                not rest[own:stop].strip(PADDING) or (stop == len(rest) and stop - own < _TOO_FEW)):
            readings.append((last, stop, f"{last_kind} at byte {end + last:,} with the {stop - own:,} bytes that "
                                        "follow it (padding, a trailer, as a camera writes it)"))
    if not stopped and starts.stopped:
        stopped = (f"; more than {_MOST_SIGNATURES:,} signatures of a picture or a video looked at: what follows "
                   f"byte {end + starts.stopped:,} not read")
    if unread:
        named = ", ".join(f"{at:,}" for at in unread[:_MOST_UNENDED]) + (", ..." if len(unread) > _MOST_UNENDED else "")
        stopped = (f"; {len(unread):,} more starts whose own end is not found (at bytes {named}) not read on their "
                   f"own (past {_MOST_UNENDED} of them, or more than {_WALKED // _MOST_UNENDED:,} bytes from the "
                   "file's end): inside the one read before them, to the file's end" + stopped)
    if tiny:
        named = ", ".join(f"{at:,}" for at in tiny[:_MOST_MEMBERS]) + (", ..." if len(tiny) > _MOST_MEMBERS else "")
        stopped = (f"; {len(tiny):,} starts whose own end is found fewer than {_TOO_FEW} bytes on, too few for a "
                   f"picture or a video (at bytes {named}), not read" + stopped)
    last = members[-1][1] if members else 0
    members += readings
    if not members:  # a few stray bytes (a writer's slip) hold no picture
        return None if len(rest) < _TOO_FEW else Trailing(
            said + ", not read: " + (stopped[2:] if stopped else "nothing in them starts like a picture or a video"),
            ())
    where = ", ".join(kind for _, _, kind in members)
    note = (f"{said}: what starts like {where} ({guess}) is read as "
            f"this item's member {name.decode()}" + (" and the next" if len(members) > 1 else ""))
    if last < len(rest) and not zip_past and len(rest[last:].strip(PADDING)) >= _TOO_FEW:
        note += (f"; {len(rest) - last:,} bytes after the last one's own end (byte {end + last:,}), not read: "
                 "nothing in them starts like a picture or a video")
    return Trailing(note + stopped, tuple(rest[start:stop] for start, stop, _ in members),
                    tuple((start, stop) for start, stop, _ in members))


class Following(NamedTuple):
    """What follows a file's own content (`what_follows`)."""

    notes: tuple[str, ...]  # what was not read: more than is held in memory, a search for a zip that stopped
    after: Trailing | None  # said, and the pictures and videos in it to read
    zip_start: int | None  # a zip follows: its members are read from there, after the file's own


def what_follows(stream: BinaryIO, end: int, size: int, what: str, most: int) -> Following:
    """What follows the own content of a database or a signature (`what`) at byte `end` of `stream` (seekable,
    `size` bytes): looked at in memory up to `most` bytes (past it, said), and a zip in it from its first local
    header (its end record may be the file's own: a BLOB's, what a signature signed), looked for as it is read,
    in chunks, whatever its size."""
    if end >= size:
        return Following((), None, None)
    notes: list[str] = []
    after = None
    if size - end <= most:
        stream.seek(end)
        rest = stream.read(size - end)
        if not rest.strip(PADDING):
            return Following((), None, None)
        clues = ZipClues(headers=True, start=end)
        clues.feed(rest)
        after = trailing_after(rest, end, what)
    else:
        clues = clues_of(stream, headers=True, start=end)
        notes.append(f"{size - end:,} bytes after the {what}'s own end (byte {end:,}), which {_UNSEEN[what][0]}: "
                     f"more than {most:,} (the cap of what is held in memory, setting max_nested_archive_bytes), "
                     "not looked at but for a zip")
    if (stopped := search_stopped_note(clues)) is not None:
        notes.append(stopped)
    behind = zip_behind(stream, clues)
    return Following(tuple(notes), after, None if behind is None else max(behind, end))


class _Starts:
    """Where a picture, a video or a zip starts in `rest`, each told by its signature and then by its type as
    sniffed (so a signature alone is no decoy): at most _MOST_SIGNATURES signatures looked at."""

    def __init__(self, rest: bytes) -> None:
        self._rest = rest
        self._found = [-1] * len(_KINDS)  # where each kind's signature was last found
        self._clear = [0] * len(_KINDS)  # and up to where, past it, none is (so no byte is searched twice)
        self._looked = 0
        self.stopped = 0  # where the search stopped, its cap reached; 0 where it did not

    def at_or_after(self, at: int, before: int | None = None) -> tuple[int, str] | None:
        """The first start at or after `at` (and before `before`), and what it starts like; None where none does,
        or the cap is reached (`stopped`)."""
        rest = self._rest
        limit = len(rest) if before is None else before
        window = _FIRST_WINDOW
        while not self.stopped:
            start, index = limit, -1
            for kind, (_, offset, _) in enumerate(_KINDS):  # searched only before the first start found so far
                found = self._signature(kind, at + offset, min(at + window, start) + offset)
                if found is not None:
                    start, index = found - offset, kind
            if index < 0:
                if at + window >= limit:
                    return None
                window *= 4
                continue
            self._looked += 1
            if self._looked > _MOST_SIGNATURES:
                self.stopped = max(start, 1)
                return None
            at = start + 1
            name = _KINDS[index][2]
            if name == _ZIP:
                if plausible_header_at(rest, start):
                    return start, name
            elif name == _MP4:
                if _plausible_ftyp_at(rest, start):
                    return start, name
            elif name == _TIFF:
                if plausible_tiff(rest, start):
                    return start, name
            elif name == _BMP:
                if plausible_bmp(rest, start):
                    return start, name
            elif sniff(rest[start:start + SNIFF_BYTES]) != "application/octet-stream":
                return start, name
        return None


    def _signature(self, kind: int, at: int, before: int) -> int | None:
        """Where the first signature of `kind` at or after `at` (never less than the last asked) lies, where that is
        before `before`."""
        found = self._found[kind]
        if found < at:
            signature = _KINDS[kind][0]
            found = self._rest.find(signature, max(at, self._clear[kind]), before + len(signature) - 1)
            if found < 0:
                self._clear[kind] = max(self._clear[kind], before)
                return None
            self._found[kind] = found
        return found if found < before else None


def _plausible_ftyp_at(rest: bytes, start: int) -> bool:
    """Whether an MP4 may start at `start`: an `ftyp` box of a sane size (its major brand and minor version, then
    whole brands) whose major brand is printable, then another box's header (a size, a printable type), as every
    MP4, QuickTime or 3GP has; "ftyp" in other bytes (text: a C2PA manifest names the box) is no start."""
    if start + 16 > len(rest):
        return False
    size = int.from_bytes(rest[start:start + 4], "big")
    if not 16 <= size <= _MOST_FTYP or size % 4 or not all(0x20 <= byte < 0x7F for byte in rest[start + 8:start + 12]):
        return False
    following = rest[start + size:start + size + 8]  # its size: 0 (to the end), 1 (64 bits follow), or a header's
    return len(following) == 8 and not 2 <= int.from_bytes(following[:4], "big") < 8 \
        and all(0x20 <= byte < 0x7F for byte in following[4:])


def _jpeg_end(data: bytes, start: int) -> int | None:
    if not data.startswith(b"\xff\xd8", start):
        return None
    at = start + 2
    while True:
        at = data.index(b"\xff", at)  # stray bytes between segments are skipped, as libjpeg skips them
        marker = data[at + 1]
        if marker == 0xD9:  # the end of the image
            return at + 2
        if marker == 0xD8:  # a second start of image, which decoders refuse: no JPEG (a decoy, or one cut short)
            return None
        if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:  # fill, restart, a lone marker
            at += 1 if marker == 0xFF else 2
            continue
        at += 2 + int(struct.unpack_from(">H", data, at + 2)[0])
        if marker == 0xDA:  # a scan's entropy-coded data: up to the next marker that is no stuffing nor restart
            while True:
                at = data.index(b"\xff", at)
                following = data[at + 1]
                if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    at += 1
                    continue
                break


def _png_end(data: bytes, start: int) -> int | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n", start):
        return None
    at = start + 8
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        at += 12 + int(length)
        if kind == b"IEND":
            return at
    return None


def _gif_end(data: bytes, start: int) -> int | None:
    if not data.startswith(b"GIF8", start):
        return None
    flags = data[start + 10]
    at = start + 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # the screen descriptor and its colour table
    while True:
        block = data[at]
        if block == 0x3B:  # the trailer
            return at + 1
        if block == 0x2C:  # an image: its descriptor, its colour table, the LZW code size, then sub-blocks
            flags = data[at + 9]
            at += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
        elif block == 0x21:  # an extension: its label, then sub-blocks
            at += 2
        else:
            return None
        while (size := data[at]) != 0:
            at += 1 + size
        at += 1
