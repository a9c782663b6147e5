"""What a JPEG's segments and a PNG's chunks that no reader reads hold: a viewer passes over an APPn segment it
does not know, a comment (COM) and a PNG's ancillary chunk of a type it does not know (a private `prVt`), so a
picture kept in one is hidden there. Each picture or video that starts in one is read as the picture's member
`in-a-box` (`in-a-box!2`, ...), the name a WebP's chunks and an MP4's boxes no player reads give theirs
(`webp_chunks.py`, `video_members.py`); a segment or chunk that holds none says nothing (comments, an Adobe APP14,
a text chunk are common and hide nothing). A JFIF thumbnail (APP0 `JFXX`), which no reader reads, is read so too.
Those that Vigie's readers read are left to them: a JPEG's EXIF and XMP (APP1), ICC profile, MPF and FlashPix
(APP2), C2PA (APP11) and Photoshop (APP13) segments, a PNG's `eXIf` and `caBX` chunks, and its pixels. At most
_MOST_LOOKED segments or chunks looked into, and _MOST_PICTURES pictures, each cap said."""

from __future__ import annotations

from vigie.sources.exif_thumbnail import MAX_CHUNKS, png_chunks
from vigie.sources.jpeg_segments import COM, HEADER_MARKERS, MAX_SEGMENTS, Segments, jpeg_segments
from vigie.sources.trailing import Trailing, pictures_in
from vigie.sources.video_members import IN_BOX_NAME
from vigie.sources.webp_chunks import in_chunks

_READ = {0xE1: (b"Exif\x00", b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00"),
         0xE2: (b"ICC_PROFILE\x00", b"MPF\x00", b"FPXR\x00"), 0xEB: (b"JP",), 0xED: (b"Photoshop 3.0\x00",)}
_PNG_READ = frozenset({b"IHDR", b"PLTE", b"IDAT", b"fdAT", b"eXIf", b"caBX"})
_MOST_LOOKED = 1_000  # a writer adds a few
_MOST_PICTURES = 64
_GUESS = "a picture hidden in it?"
_JFXX, _JFXX_GUESS = b"JFXX\x00", "the JPEG's JFIF thumbnail (JFXX), which some cameras write"
UNREAD_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})  # a WebP's chunks: `webp_chunks.py`


def in_unread_segments(data: bytes, media_type: str,
                       segments: Segments | None = None) -> tuple[tuple[Trailing, ...], tuple[str, ...]]:
    """What the JPEG's or PNG's `data` segments or chunks no reader reads hold (a WebP's: `webp_chunks.py`), each
    holding a picture said with its pictures; and what was not looked at. `segments`: a JPEG's header segments
    (HEADER_MARKERS), where walked already."""
    if media_type == "image/jpeg":
        walked = segments if segments is not None else jpeg_segments(data, HEADER_MARKERS)
        units = [(f"{_marker(marker)} segment", body) for marker, body in walked.found
                 if not body.startswith(_READ.get(marker, ()))]
        stopped = None if walked.walked else f"its segments not walked past {MAX_SEGMENTS:,}"
    elif media_type == "image/png":
        chunks, complete = png_chunks(data)
        units = [(f"a {kind.decode('latin-1')!r} chunk", body) for kind, body in chunks if kind not in _PNG_READ]
        stopped = None if complete else f"its chunks not walked past {MAX_CHUNKS:,}"
    elif media_type == "image/webp":
        return in_chunks(data)
    else:
        return (), ()
    return _searched(data, units, stopped)


def _searched(data: bytes, units: list[tuple[str, bytes]],
              stopped: str | None) -> tuple[tuple[Trailing, ...], tuple[str, ...]]:
    found: list[Trailing] = []
    notes = [] if stopped is None else [f"pictures hidden in segments or chunks no reader reads: {stopped}"]
    looked = at = 0
    for what, body in units:
        if not body.strip(b"\x00\xff "):
            continue
        if looked == _MOST_LOOKED or sum(len(one.members) for one in found) >= _MOST_PICTURES:
            notes.append(f"more than {_MOST_LOOKED:,} segments or chunks no reader reads, or {_MOST_PICTURES} "
                         f"pictures in them: what {what} and those after it hold not looked at")
            break
        looked += 1
        start = at = data.find(body, at)  # where its bytes lie in the file, as the note says: after the last's
        guess = _JFXX_GUESS if body.startswith(_JFXX) else _GUESS
        held = pictures_in(body, start, f"the {len(body):,} bytes {what} holds from byte {start:,}, which no "
                                        "reader reads", guess, IN_BOX_NAME)
        if held is not None and held.members:
            found.append(held)
        at += len(body)
    return tuple(found), tuple(notes)


def _marker(marker: int) -> str:
    return "a COM" if marker == COM else f"an APP{marker - 0xE0}"
