"""Pictures kept in an audio file's tags (cover art, a band's photo, any picture a tagger attached), which no
player shows as a file: each is a member `picture-N.EXT` of the audio file, N counting them in the file's order,
EXT after the type its tag declares.

Read: an ID3v2 tag in front of an MP3 (or of a FLAC), or in a WAV's or an AIFF's `id3 ` chunk (the sound passed
over), its `APIC`/`PIC` frames (`id3.py`); a FLAC's `PICTURE` metadata blocks; an Ogg Vorbis, Opus, Speex or
FLAC stream's `METADATA_BLOCK_PICTURE` (and the older `COVERART`) comments, base64 in its comment header. An
MP4's (M4A's) `covr` is read with the video (`video_members.py`). The sound is never read: at most
`max_nested_archive_bytes` of tags (the cap of what is held in memory), at most _MOST_BLOCKS metadata blocks,
_MOST_COMMENTS comments, _MOST_PAGES Ogg pages and _MOST_CHUNKS chunks; a cap reached is said on the audio
file.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import BinaryIO, Literal

from vigie.config import Settings
from vigie.sources.id3 import ID3_HEADER, Picture, tag_pictures, tag_size
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member
from vigie.sources.textborne import lenient_base64

ID3_TYPE = "audio/mpeg"  # a file that starts with an ID3v2 tag: an MP3 mostly (a FLAC or an AAC may be behind)
FLAC_TYPE = "audio/flac"
OGG_TYPE = "audio/ogg"
OGG_VIDEO_TYPE = "video/ogg"  # a Theora video: decoded as a video, its comments not read
WAV_TYPE = "audio/wav"
AIFF_TYPE = "audio/aiff"
AUDIO_TYPES = frozenset({ID3_TYPE, FLAC_TYPE, OGG_TYPE, WAV_TYPE, AIFF_TYPE})

_MOST_BLOCKS = 4096  # a FLAC's metadata blocks: encoders write a handful
_MOST_COMMENTS = 65_536
_MOST_TAGS = 8  # ID3v2 tags one after the other (some taggers add one without removing the last)
_MOST_PAGES = 65_536  # Ogg pages walked for the tags: they follow the first few
_MOST_CHUNKS = 4096  # a WAV's or AIFF's chunks: writers put a handful
_MOST_PICTURES = 4096  # of one file: taggers write a few; countless empty frames would each be an item
_PICTURE_BLOCK, _COMMENT_BLOCK = 6, 4


def audio_type(head: bytes) -> str | None:
    """An audio file's type by its tags' start: an ID3v2 tag, a FLAC's signature, an Ogg page."""
    if tag_size(head[:ID3_HEADER]) is not None:
        return ID3_TYPE
    if head.startswith(b"fLaC"):
        return FLAC_TYPE
    if head.startswith(b"OggS\x00"):
        return OGG_VIDEO_TYPE if b"\x80theora" in head else OGG_TYPE
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV_TYPE
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF_TYPE
    return None


def audio_members(fileobj: BinaryIO, media_type: str, settings: Settings, expansion: Expansion
                  ) -> Iterator[Member]:
    """The pictures of the audio file's tags, in the file's order."""
    reader = _Reader(fileobj, settings.max_nested_archive_bytes)
    if media_type == OGG_TYPE:
        found = _ogg_pictures(reader, settings)
    elif media_type in (WAV_TYPE, AIFF_TYPE):
        found = _chunk_pictures(reader, media_type == WAV_TYPE, settings)
    else:
        found = _tag_pictures(reader, settings)
    for number, picture in enumerate(found, 1):
        if number > _MOST_PICTURES:
            raise ArchiveLimitError(f"more than {_MOST_PICTURES:,} pictures in its tags: those after them not read")
        name = b"picture-%d.%s" % (number, picture.extension)
        if picture.data is None:
            yield Member(name, None, None, None, error=picture.problem)
        else:
            yield decoded_member(name, picture.data, settings, expansion, picture.problem)


class _Reader:
    """Reads exactly what is asked of the file's tags, counted against the cap of what is held in memory, and
    passes over the sound."""

    def __init__(self, fileobj: BinaryIO, most: int) -> None:
        self._fileobj = fileobj
        self._most = most
        self._held = 0
        self.at = 0

    def read(self, size: int, what: str, may_end: bool = False) -> bytes:
        if self._held + size > self._most:
            raise ArchiveLimitError(f"tags of more than {self._most:,} bytes (the cap of what is held in memory, "
                                    "setting max_nested_archive_bytes): the pictures after them not read")
        data = self._fileobj.read(size)
        if len(data) < size and not (may_end and not data):
            raise ValueError(f"cut short in {what} (at byte {self.at + len(data):,})")
        self._held += len(data)
        self.at += len(data)
        return data

    def skip(self, size: int) -> None:
        """Pass over `size` bytes (the sound), which are not held."""
        self._fileobj.seek(size, 1)
        self.at += size


def _tag_pictures(reader: _Reader, settings: Settings) -> Iterator[Picture]:
    """The pictures of the ID3v2 tags at the file's start, then of a FLAC's metadata behind them."""
    start = reader.read(4, "the file's signature")
    for _ in range(_MOST_TAGS):
        if start[:3] != b"ID3":
            break
        header = start + reader.read(ID3_HEADER - 4, "an ID3 tag's header")
        size = tag_size(header)
        if size is None:
            raise ValueError(f"a damaged ID3 tag header at byte {reader.at - ID3_HEADER:,}")
        yield from tag_pictures(header, reader.read(size, "an ID3 tag"), settings.max_nested_archive_bytes)
        start = reader.read(4, "what follows an ID3 tag", may_end=True)
    if start == b"fLaC":
        yield from _flac_pictures(_native_blocks(reader))


def _chunk_pictures(reader: _Reader, wav: bool, settings: Settings) -> Iterator[Picture]:
    """The pictures of the ID3v2 tag a WAV or an AIFF keeps in its `id3 ` chunk (little-endian sizes in a RIFF,
    big-endian in an AIFF; each chunk padded to an even length)."""
    order: Literal["little", "big"] = "little" if wav else "big"
    reader.read(12, "the file's header")
    for _ in range(_MOST_CHUNKS):
        header = reader.read(8, "a chunk's header", may_end=True)
        if not header:
            return
        size = int.from_bytes(header[4:8], order)
        if header[:4] in (b"id3 ", b"ID3 "):
            tag = reader.read(size, "an ID3 chunk")
            if tag_size(tag[:ID3_HEADER]) is None:
                raise ValueError(f"an ID3 chunk that holds no ID3 tag (at byte {reader.at - size:,})")
            yield from tag_pictures(tag[:ID3_HEADER], tag[ID3_HEADER:], settings.max_nested_archive_bytes)
            reader.skip(size % 2)
        else:
            reader.skip(size + size % 2)
    raise ArchiveLimitError(f"more than {_MOST_CHUNKS:,} chunks: the chunks after them not read")


def _native_blocks(reader: _Reader) -> Iterator[tuple[bytes, bytes]]:
    """A FLAC's metadata blocks, each its header and its data, read as they are asked for."""
    while True:
        header = reader.read(4, "a FLAC metadata block's header")
        yield header, reader.read(int.from_bytes(header[1:4], "big"), "a FLAC metadata block")


def _flac_pictures(blocks: Iterator[tuple[bytes, bytes]]) -> Iterator[Picture]:
    """The pictures of a FLAC's metadata blocks, read to the one flagged last."""
    for count, (header, data) in enumerate(blocks):
        if count == _MOST_BLOCKS:
            raise ArchiveLimitError(f"more than {_MOST_BLOCKS:,} FLAC metadata blocks: the blocks after them not "
                                    "read")
        if len(header) < 4:
            raise ValueError("a FLAC metadata block cut short")
        kind = header[0] & 0x7F
        if kind == _PICTURE_BLOCK:
            yield _picture_block(data)
        elif kind == _COMMENT_BLOCK:
            yield from _comment_pictures(data, 0)
        elif kind == 127:
            raise ValueError("a FLAC metadata block of the invalid type 127")
        if header[0] & 0x80:
            return


def _picture_block(data: bytes) -> Picture:
    """A FLAC PICTURE block (the same as a METADATA_BLOCK_PICTURE comment, base64 decoded): picture type, MIME
    type, description, four numbers, then the picture's length and bytes."""
    mime_length = int.from_bytes(data[4:8], "big")
    mime = data[8:8 + mime_length]
    at = 8 + mime_length
    at += 4 + int.from_bytes(data[at:at + 4], "big") + 16  # the description, width, height, depth, colours
    if at + 4 > len(data):
        return Picture(b"bin", None, "a picture block cut short before its picture: not read")
    length = int.from_bytes(data[at:at + 4], "big")
    picture = data[at + 4:at + 4 + length]
    if mime == b"-->":
        return Picture(b"url", None, f"links to a picture elsewhere ({picture[:200].decode('latin-1')}), which "
                                     "the file does not hold")
    extension = mime.rsplit(b"/", 1)[-1].lower()
    extension = extension if extension.isalnum() and len(extension) <= 10 else b"bin"
    if len(picture) < length:
        return Picture(extension, picture, f"its picture block is cut short: {len(picture):,} of the {length:,} "
                                           "bytes it declares, read as they are")
    return Picture(extension, picture)


def _comment_pictures(data: bytes, at: int) -> Iterator[Picture]:
    """The pictures of a Vorbis comment block (from `at`): METADATA_BLOCK_PICTURE, and the older COVERART, as
    base64."""
    at += 4 + int.from_bytes(data[at:at + 4], "little")  # the vendor string
    count = int.from_bytes(data[at:at + 4], "little")
    at += 4
    for index in range(count):
        if at + 4 > len(data):
            return  # the count lies: the comments end with the block
        if index == _MOST_COMMENTS:
            raise ArchiveLimitError(f"more than {_MOST_COMMENTS:,} comments: the comments after them not read")
        length = int.from_bytes(data[at:at + 4], "little")
        comment = data[at + 4:at + 4 + length]
        at += 4 + length
        key, _, value = comment.partition(b"=")
        key = key.upper()
        if key not in (b"METADATA_BLOCK_PICTURE", b"COVERART"):
            continue
        try:
            decoded = base64.b64decode(value, validate=True)
            problem = None
        except (binascii.Error, ValueError) as exc:
            decoded = lenient_base64(re.sub(rb"[^A-Za-z0-9+/]", b"", value))
            problem = f"its base64 is damaged ({exc}): decoded as far as it goes, its bytes may not be those written"
        found = _picture_block(decoded) if key == b"METADATA_BLOCK_PICTURE" else Picture(b"bin", decoded)
        yield Picture(found.extension, found.data, "; ".join(p for p in (problem, found.problem) if p) or None)


def _ogg_pictures(reader: _Reader, settings: Settings) -> Iterator[Picture]:
    """The pictures of the comment header of an Ogg file's first stream (Vorbis, Opus, Speex), or of the metadata
    blocks of an Ogg FLAC."""
    packets = _ogg_packets(reader, settings.max_nested_archive_bytes)
    first = next(packets, b"")
    if first.startswith(b"\x7fFLAC"):  # its header packets after the first are its metadata blocks
        yield from _flac_pictures((packet[:4], packet[4:]) for packet in packets)
        return
    second = next(packets, b"")
    if first.startswith(b"\x01vorbis") and second.startswith(b"\x03vorbis"):
        yield from _comment_pictures(second, 7)
    elif first.startswith(b"OpusHead") and second.startswith(b"OpusTags"):
        yield from _comment_pictures(second, 8)
    elif first.startswith(b"Speex   "):
        yield from _comment_pictures(second, 0)


def _ogg_packets(reader: _Reader, most: int) -> Iterator[bytes]:
    """The packets of the file's first logical stream (after a Skeleton), joined across pages (another stream's
    pages between them are passed over), up to the file's end."""
    serial: bytes | None = None
    packet = bytearray()
    for _ in range(_MOST_PAGES):
        header = reader.read(27, "an Ogg page's header", may_end=True)
        if not header:
            return
        if header[:4] != b"OggS":
            raise ValueError(f"no Ogg page where one should start (byte {reader.at - len(header):,})")
        lacing = reader.read(header[26], "an Ogg page's segment table")
        body = reader.read(sum(lacing), "an Ogg page")
        if serial is None and not body.startswith(b"fishead\0"):  # an Ogg Skeleton's index stream holds no tags
            serial = header[14:18]
        if header[14:18] != serial:
            continue
        at = 0
        for length in lacing:
            packet += body[at:at + length]
            at += length
            if len(packet) > most:
                raise ArchiveLimitError(f"a header packet of more than {most:,} bytes: not read")
            if length < 255:
                yield bytes(packet)
                packet = bytearray()
    raise ArchiveLimitError(f"more than {_MOST_PAGES:,} Ogg pages before the tags' end: not read further")
