"""What a WebP's chunks that no viewer reads hold: a chunk of a type the format does not define is passed over by
every decoder, so a picture kept in one is hidden there. Each picture or video that starts in one is read as the
WebP's member `in-a-box` (`in-a-box!2`, ...), as in an MP4's boxes no player reads (`video_members.py`); other
bytes there are said. So too the bytes after its last chunk where its RIFF size says it runs on (a size raised
over a picture appended). The chunks are walked by their headers: at most _MOST_CHUNKS of them, _MOST_UNKNOWN
looked into, each cap said."""

from __future__ import annotations

from vigie.sources.trailing import Trailing, pictures_in
from vigie.sources.video_members import IN_BOX_NAME

# the chunks of the WebP container (Google's specification), and C2PA's manifest store
_KNOWN = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF", b"XMP ", b"C2PA"})
_MOST_CHUNKS = 100_000  # an animation's frames are chunks, each walked in a microsecond or so
_MOST_PICTURES = 64
_MOST_UNKNOWN = 1_000  # chunks of a type no viewer reads looked into, each said: a writer adds one or two


def in_chunks(data: bytes) -> tuple[tuple[Trailing, ...], tuple[str, ...]]:
    """What the WebP `data`'s chunks no viewer reads hold, each said with its pictures; and what stopped the walk."""
    declared = 8 + int.from_bytes(data[4:8], "little")
    end = min(len(data), declared)
    found: list[Trailing] = []
    at, unknown = 12, 0
    for _ in range(_MOST_CHUNKS):
        if at + 8 > end:
            return tuple(found), ()
        if sum(len(chunk.members) for chunk in found) >= _MOST_PICTURES:
            return tuple(found), (f"{_MOST_PICTURES} pictures or videos in chunks no viewer reads: what the chunks "
                                  f"from byte {at:,} hold not looked at",)
        kind, length = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        if not all(0x20 <= byte < 0x7F for byte in kind) or at + 8 + length > declared:  # no chunk: a RIFF size
            said = (f"the {end - at:,} bytes after its last chunk (byte {at:,}), where its RIFF size says it runs "
                    "on (raised over bytes appended?), which no viewer reads")
            held = pictures_in(data[at:end], at, said, "a picture hidden so?", IN_BOX_NAME)
            return (*found, *([] if held is None else [held])), ()
        if at + 8 + length > end:  # cut short: the decoder says so
            return tuple(found), ()
        if kind not in _KNOWN and length and unknown == _MOST_UNKNOWN:
            return tuple(found), (f"more than {_MOST_UNKNOWN:,} chunks of a type no viewer reads: what those from "
                                  f"byte {at:,} hold not looked at",)
        if kind not in _KNOWN and length:
            unknown += 1
            said = (f"the {length:,} bytes a {kind.decode('latin-1')!r} chunk holds from byte {at + 8:,}, a type no "
                    "viewer reads")
            held = pictures_in(data[at + 8:at + 8 + length], at + 8, said, "a picture hidden in it?", IN_BOX_NAME)
            if held is not None:
                found.append(held)
        at += 8 + length + (length & 1)
    return tuple(found), (f"more than {_MOST_CHUNKS:,} chunks: what those after byte {at:,} hold not looked at",)
