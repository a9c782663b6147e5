"""Pictures kept in an audio file's tags (cover art, a band's photo, any picture a tagger attached), which no
player shows as a file: each is a member `picture-N.EXT` of the audio file, N counting them in the file's order,
EXT after the type its tag declares.

Read: the ID3v2 tags in front of an MP3 (or of a FLAC, also behind padding the tag does not count), or in a WAV's or
an AIFF's `id3 ` chunk (the sound passed over, the chunks walked to the end of the body its header declares), their
`APIC`/`PIC` frames (`id3.py`); the tags after the sound of an MP3, a FLAC, a Monkey's Audio, WavPack or Musepack
file, walked back from its end: ID3v2.4 tags by their footer, APE tags (`ape.py`), past an ID3v1 and a Lyrics3v2
tag; the tags after a WAV's or an AIFF's body so too, and what lies between them read as what follows a picture's
end (`trailing.py`: a picture there is the member `after-the-end`); what follows the sound's end so too, the tags
there read first, where an MP3's or an AAC's frames walked by their headers (at most _MOST_FRAMES; ADTS frames in
`adts.py`), a FLAC's last frame (`flac_frames.py`), a Monkey's Audio, WavPack or Musepack file's structure
(`sound_ends.py`) or an Ogg's last page tell it; where that end is not found, a picture that ends where the sound
does (`_picture_at_the_end`); a FLAC's `PICTURE` metadata blocks; the `METADATA_BLOCK_PICTURE`
(and the older `COVERART`) comments, base64 in its comment header, of each Vorbis, Opus, Speex or FLAC stream of an
Ogg file, multiplexed or chained; a WMA's (an ASF file's) `WM/Picture` values (`asf.py`). An MP4's (M4A's) `covr` is
read with the video (`video_members.py`). The sound is never read (an MP3's frames and an Ogg's pages are passed
over by their headers; where neither a frame nor a FLAC follows an ID3 tag, the _PADDING_WINDOW bytes after it are
searched for a FLAC's signature): at most `max_nested_archive_bytes` of tags (the cap of what is held in memory), at
most _MOST_BLOCKS metadata blocks, _MOST_FRAMES MPEG frames, _MOST_COMMENTS comments, _MOST_PAGES Ogg pages,
_MOST_CHUNKS chunks and _MOST_TAGS tags at either end; a cap reached is said on the audio file. An ID3
tag after a picture appended after the sound's end is read as a tag.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO, Literal

from vigie.config import Settings
from vigie.sources.adts import adts_end, adts_frames
from vigie.sources.ape import APE_FOOTER, APE_MARK, ape_bounds, ape_pictures
from vigie.sources.asf import ASF_HEADER, ASF_HEADER_SIZE, ASF_TYPE, asf_pictures
from vigie.sources.flac_frames import flac_sound_end
from vigie.sources.frames import frames_end
from vigie.sources.id3 import ID3_HEADER, Picture, tag_pictures, tag_size
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member
from vigie.sources.sound_ends import packed_sound_end
from vigie.sources.textborne import lenient_base64

ID3_TYPE = "audio/mpeg"  # MPEG audio frames, or an ID3v2 or APE tag in front of them (or of a FLAC, an AAC ...)
APE_TYPE, WAVPACK_TYPE, MUSEPACK_TYPE = "audio/x-ape", "audio/x-wavpack", "audio/x-musepack"  # tagged at the end
FLAC_TYPE = "audio/flac"
AAC_TYPE = "audio/aac"  # AAC in ADTS frames, no tag in front (behind one, it is ID3_TYPE)
OGG_TYPE = "audio/ogg"
OGG_VIDEO_TYPE = "video/ogg"  # a Theora video: decoded as a video, its comments not read
WAV_TYPE = "audio/wav"
AIFF_TYPE = "audio/aiff"
AUDIO_TYPES = frozenset({ID3_TYPE, FLAC_TYPE, OGG_TYPE, WAV_TYPE, AIFF_TYPE, APE_TYPE, WAVPACK_TYPE, MUSEPACK_TYPE,
                         ASF_TYPE, AAC_TYPE})

_MOST_BLOCKS = 4096  # a FLAC's metadata blocks: encoders write a handful
_MOST_COMMENTS = 65_536
_MOST_TAGS = 8  # tags one after the other at either end (some taggers add one without removing the last)
_MOST_PAGES = 1 << 20  # Ogg pages walked, to the file's end for the streams chained there (4 to 8 KiB each)
_OGG_SEARCH = 1 << 20  # bytes read at once where the next Ogg page is looked for, after bytes that are no page
_MOST_FALSE_PAGES = 4096  # `OggS` met after bytes that are no page, and no page there (its CRC wrong)
_REVERSED_BITS = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))
_MOST_CHUNKS = 4096  # a WAV's or AIFF's chunks: writers put a handful
_MOST_FRAMES = 1 << 24  # an MP3's frames walked to its sound's end: over a hundred hours
_TAIL_WINDOW = 1 << 20  # bytes before the tags after a FLAC's sound where a picture appended is looked for
# what `trailing.content_end` ends, by its signature and where that lies in it: JPEG, PNG, GIF, RIFF (a WebP, an
# AVI), an MP4 or QuickTime video's first box
_PICTURE_STARTS = ((b"\xff\xd8\xff", 0), (b"\x89PNG\r\n\x1a\n", 0), (b"GIF8", 0), (b"RIFF", 0), (b"ftyp", 4))
_MOST_TRIES = 256  # signatures whose structure is walked to where the sound ends: a bounded search
_PACKED_STARTS = (b"MAC ", b"wvpk", b"MPCK", b"MP+")  # Monkey's Audio, WavPack, Musepack: their sound's end told
_PNG_END = b"IEND\xaeB`\x82"
_ID3_START = re.compile(rb"ID3[\x02-\x04][\x00-\xfe].[\x00-\x7f]{4}", re.DOTALL)  # a header, as `tag_size` reads
_MOST_TAG_LOOKS = 4096  # ID3 headers looked at in what follows the sound's end, outside the pictures there
_MOST_PICTURES = 4096  # of one file: taggers write a few; countless empty frames would each be an item
_PICTURE_BLOCK, _COMMENT_BLOCK = 6, 4
_FLAC_START = re.compile(rb"fLaC[\x00\x80]\x00\x00\x22")  # the signature, then a STREAMINFO block's header
_PADDING_WINDOW = 1 << 18  # bytes after an ID3 tag where a FLAC's signature is looked for (behind padding)
_ID3V1, _LYRICS3 = 128, b"LYRICS200"  # the tags an MP3 ends with, after the others
# MPEG audio frames: bit rates in kbit/s by version (1, else 2 and 2.5) and layer (1, 2, 3), sample rates by version
_BIT_RATES = {
    (1, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def audio_type(head: bytes) -> str | None:
    """An audio file's type by its tags' start (an ID3v2 or APE tag, a FLAC's signature, an Ogg page), or by its
    sound's (MPEG audio frames, the signatures of formats tagged at their end)."""
    if tag_size(head[:ID3_HEADER]) is not None or ape_bounds(head[:APE_FOOTER]) is not None:
        return ID3_TYPE
    if head.startswith(b"fLaC"):
        return FLAC_TYPE
    if head.startswith(b"OggS\x00"):
        return OGG_VIDEO_TYPE if b"\x80theora" in head else OGG_TYPE
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV_TYPE
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF_TYPE
    if head.startswith(ASF_HEADER):
        return ASF_TYPE
    if head.startswith(b"MAC ") and 3800 <= int.from_bytes(head[4:6], "little") <= 4100:
        return APE_TYPE
    if head.startswith(b"wvpk") and 0x402 <= int.from_bytes(head[8:10], "little") <= 0x410:
        return WAVPACK_TYPE
    if head.startswith(b"MPCK") or (head.startswith(b"MP+") and head[3:4] in (b"\x07", b"\x17")):
        return MUSEPACK_TYPE
    if _mpeg_frames(head):
        return ID3_TYPE
    return AAC_TYPE if adts_frames(head) else None


def _frame_length(header: bytes) -> int | None:
    """The length of the MPEG audio frame whose 4-byte header is `header`; None when it is none (or of the free
    bit rate, which no length tells)."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, 4 - ((header[1] >> 1) & 3)
    rate, sampling, padding = header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    if version == 1 or layer == 4 or rate in (0, 15) or sampling == 3:
        return None
    bits = _BIT_RATES[(1 if version == 3 else 2, min(layer, 2) if version != 3 else layer)][rate - 1] * 1000
    samples = _SAMPLE_RATES[version][sampling]
    if layer == 1:
        return (12 * bits // samples + padding) * 4
    return (144 if layer == 2 or version == 3 else 72) * bits // samples + padding


def _mpeg_frames(head: bytes) -> bool:
    """MPEG audio (an MP3 with no tag in front): a frame, then the next where `head` holds it, else an encoder's
    header (Xing, Info, VBRI) in the first, else a first Layer III frame (320 kbit/s: longer than `head`), its
    private bit clear, that starts with no bits kept from before it, as a stream's first does; a frame sync alone
    is two bytes that many files start with."""
    length = _frame_length(head[:4])
    if length is None:
        return False
    if length + 4 <= len(head):
        following = head[length:length + 4]
        return _frame_length(following) is not None and following[1] == head[1] and \
            (following[2] ^ head[2]) & 0x0C == 0  # the same version, layer and sample rate
    if any(mark in head[:64] for mark in (b"Xing", b"Info", b"VBRI")):
        return True
    side = 4 if head[1] & 1 else 6  # the side information, after the CRC where one follows
    layer_three, emphasis = (head[1] >> 1) & 3 == 1, head[3] & 3
    return layer_three and emphasis != 2 and not head[2] & 1 and len(head) > side + 1 and head[side] == 0 and \
        (head[1] & 0x18 != 0x18 or not head[side + 1] & 0x80)  # main_data_begin: 9 bits in MPEG-1, else 8


def audio_members(fileobj: BinaryIO, media_type: str, settings: Settings, expansion: Expansion
                  ) -> Iterator[Member]:
    """The pictures of the audio file's tags, in the file's order."""
    reader = _Reader(fileobj, settings.max_nested_archive_bytes)
    after: Iterator[Member | Picture] = iter(())
    found: Iterator[Picture]
    if media_type in (OGG_TYPE, WAV_TYPE, AIFF_TYPE):  # then what follows an Ogg's last page or a WAV's body
        body = _ogg_pictures(reader, settings) if media_type == OGG_TYPE else \
            _chunk_pictures(reader, media_type == WAV_TYPE, settings)
        found = itertools.chain(body, _tags_past_the_body(reader, settings))
        after = _past_the_tags(reader, settings, expansion)  # lazy: walked once the pictures are read
    elif media_type == ASF_TYPE:  # its header object, first in the file, holds its metadata
        size = int.from_bytes(reader.read(ASF_HEADER_SIZE, "an ASF header")[16:24], "little")
        found = asf_pictures(reader.read(max(0, size - ASF_HEADER_SIZE), "an ASF header"))
    else:
        found = _tag_pictures(reader, settings)
        after = _past_the_sound(reader, settings, expansion)
    number = 0
    for picture in itertools.chain(found, after):  # then what follows a sound's or a body's end and its tags there
        if isinstance(picture, Member):
            yield picture
            continue
        number += 1
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
        self.body_end = 0  # where a WAV's or an AIFF's body ends, by its size (an Ogg's, by its last page)
        self.gaps: list[tuple[int, int]] = []  # bytes between an Ogg's pages that are no page
        self.false_pages = 0  # `OggS` met in them that starts no page
        self.sound = (0, 0)  # between the tags in front and those after the sound, as last walked
        self.streaminfo = b""  # a FLAC's, where its metadata was read (and held it first)
        self.sound_ended = False  # `sound` is what follows the sound's end, found by its frames
        self.end_not_found = ""  # why the sound's end was not found where its frames were looked at

    def read(self, size: int, what: str, may_end: bool = False, held: bool = True) -> bytes:
        """`size` bytes (none where `may_end` and the file ends there); `held`: counted as held in memory (not an
        Ogg page's header, let go once read)."""
        if held and self._held + size > self._most:
            raise ArchiveLimitError(f"tags of more than {self._most:,} bytes (the cap of what is held in memory, "
                                    "setting max_nested_archive_bytes): the pictures after them not read")
        data = self._fileobj.read(size)
        if len(data) < size and not (may_end and not data):
            raise ValueError(f"cut short in {what} (at byte {self.at + len(data):,})")
        self._held += len(data) if held else 0
        self.at += len(data)
        return data

    def read_at(self, at: int, size: int) -> bytes:
        """At most `size` bytes from `at` (the sound's, looked at to find its end), not held."""
        self.seek(at)
        data = self._fileobj.read(size)
        self.at += len(data)
        return data

    def read_upto(self, size: int) -> bytes:
        """At most `size` bytes, fewer where the file ends."""
        data = self._fileobj.read(max(0, min(size, self._most - self._held)))
        self._held += len(data)
        self.at += len(data)
        return data

    def seek(self, at: int) -> None:
        self._fileobj.seek(at)
        self.at = at

    def end(self) -> int:
        """The file's length."""
        self.at = self._fileobj.seek(0, 2)
        return self.at

    def skip(self, size: int) -> None:
        """Pass over `size` bytes (the sound), which are not held."""
        self._fileobj.seek(size, 1)
        self.at += size


def _tag_pictures(reader: _Reader, settings: Settings) -> Iterator[Picture]:
    """The pictures of the ID3v2 and APE tags at the file's start, then of a FLAC's metadata behind them, then of
    the tags after the sound, then of those that follow the sound's end of a FLAC (found by its frames), a Monkey's
    Audio, WavPack or Musepack file (by its structure)."""
    most = settings.max_nested_archive_bytes
    begin = reader.at
    yield from _tags_in_front(reader, most, None)
    front_end = reader.at
    start = reader.read(4, "the file's signature" if front_end == begin else "what follows a tag", may_end=True)
    if front_end > begin and start != b"fLaC" and _frame_length(start) is None:
        start = _flac_after_padding(reader, front_end, start)
    if start == b"fLaC":
        yield from _flac_pictures(_native_blocks(reader))
        front_end = reader.at
    yield from _end_pictures(reader, front_end, most)
    yield from _tags_past_the_sound_end(reader, most, start)


def _tags_in_front(reader: _Reader, most: int, until: int | None) -> Iterator[Picture]:
    """The pictures of the ID3v2 and APE tags one after another from where `reader` is (that start before
    `until`), at most _MOST_TAGS; `reader` is left past them."""
    for _ in range(_MOST_TAGS):
        at = reader.at
        start = reader.read(4, "what follows a tag", may_end=True) if until is None or at + 4 <= until else b""
        if start[:3] == b"ID3":
            header = start + reader.read(ID3_HEADER - 4, "an ID3 tag's header")
            size = tag_size(header)
            if size is None:
                raise ValueError(f"a damaged ID3 tag header at byte {reader.at - ID3_HEADER:,}")
            yield from tag_pictures(header, reader.read(size, "an ID3 tag"), most)
        elif start == APE_MARK[:4]:
            bounds = ape_bounds(start + reader.read(APE_FOOTER - 4, "an APE tag's header"))
            if bounds is None:
                raise ValueError(f"a damaged APE tag header at byte {reader.at - APE_FOOTER:,}")
            items = reader.read(bounds.size, "an APE tag")
            yield from ape_pictures(items[:-APE_FOOTER] if bounds.footer else items, bounds.items)
        else:
            reader.seek(at)
            return


def _tags_past_the_sound_end(reader: _Reader, most: int, signature: bytes) -> Iterator[Picture]:
    """The pictures of the tags that follow the sound's end (such as an ID3v2.3 tag, which no footer finds from
    the file's end), found from a FLAC's frames (`flac_frames.py`), a Monkey's Audio, WavPack or Musepack file's
    structure (`sound_ends.py`), else an MP3's or an AAC's frames walked (none where no frame starts the sound);
    what follows those tags left to be read as what follows a WAV's body; where that end is not found, why is
    kept."""
    start, end = reader.sound
    try:
        if signature.startswith((b"fLaC", *_PACKED_STARTS)):  # where a length or a CRC may lie, a picture looked for
            at, doubtful = flac_sound_end(reader.read_at, reader.streaminfo, start, end, most) \
                if signature == b"fLaC" else packed_sound_end(reader.read_at, start, end, _MOST_FRAMES)
            at = doubtful if doubtful is not None and _holds_a_picture(reader, doubtful, at, most) else at
        else:
            at = _mpeg_end(reader, start, end)
            at = adts_end(reader.read_at, start, end, _MOST_FRAMES) if at == start else at
            if at == start:  # no frames
                return
    except ValueError as exc:
        reader.end_not_found = str(exc)
        return
    reader.seek(at)
    yield from _tags_in_front(reader, most, end)
    reader.sound, reader.sound_ended = (reader.at, end), True


def _holds_a_picture(reader: _Reader, start: int, end: int, most: int) -> bool:
    """Whether a picture starts between `start` and `end` (what a length that may lie spans, at most `most`
    bytes looked at): if so, the sound is taken to end at `start`, and what follows is read as what follows it."""
    from vigie.sources.trailing import AFTER_END_NAME, pictures_in  # it sniffs, and sniffing imports this

    found = pictures_in(reader.read_at(start, min(end - start, most)), start, "", "", AFTER_END_NAME)
    return found is not None and bool(found.members)


def _flac_after_padding(reader: _Reader, after_tags: int, start: bytes) -> bytes:
    """A FLAC behind padding that its ID3 tag does not count (some taggers leave it so): its signature is looked
    for in the _PADDING_WINDOW bytes after the tags, and read from; else `start` (what follows the tags)."""
    found = _FLAC_START.search(start + reader.read_upto(_PADDING_WINDOW))
    reader.seek(after_tags + (found.start() + 4 if found else len(start)))
    return b"fLaC" if found else start


def _end_pictures(reader: _Reader, front_end: int, most: int) -> Iterator[Picture]:
    """The pictures of the tags after the sound (down to `front_end`, where the tags in front end), walked back
    from the file's end: past an ID3v1 tag and a Lyrics3v2 tag, APE tags by their footer, ID3v2.4 tags by theirs
    (`3DI`)."""
    end = reader.end()
    for _ in range(_MOST_TAGS + 2):
        reader.sound = (front_end, end)
        if end - ID3_HEADER < front_end:
            return
        reader.seek(max(front_end, end - _ID3V1))
        tail = reader.read(end - reader.at, "the file's end")
        if len(tail) == _ID3V1 and tail.startswith(b"TAG"):
            end -= _ID3V1
        elif tail.endswith(_LYRICS3) and tail[-15:-9].isdigit():
            end -= int(tail[-15:-9]) + 15
        elif (bounds := ape_bounds(tail[-APE_FOOTER:])) is not None:
            start = end - bounds.size - (APE_FOOTER if bounds.header else 0)
            if start < front_end:
                raise ValueError(f"an APE tag's footer at byte {end - APE_FOOTER:,} claims {bounds.size:,} bytes, "
                                 "more than lie after the sound: the tag not read")
            reader.seek(end - bounds.size)
            yield from ape_pictures(reader.read(bounds.size - APE_FOOTER, "an APE tag"), bounds.items)
            end = start
        elif tail[-10:-7] == b"3DI" and (size := tag_size(b"ID3" + tail[-7:])) is not None:
            start = end - ID3_HEADER - size
            reader.seek(max(start, front_end))
            header = reader.read(ID3_HEADER, "an ID3 tag's header")
            if start < front_end or tag_size(header) != size:
                raise ValueError(f"an ID3 tag's footer at byte {end - ID3_HEADER:,} whose header is not where it "
                                 f"says (byte {start:,}): the tag not read")
            yield from tag_pictures(header, reader.read(size, "an ID3 tag"), most)
            end = start
        else:
            return
    raise ArchiveLimitError(f"more than {_MOST_TAGS} tags after the sound: the tags before them not read")


def _chunk_pictures(reader: _Reader, wav: bool, settings: Settings) -> Iterator[Picture]:
    """The pictures of the ID3v2 tag a WAV or an AIFF keeps in its `id3 ` chunk (little-endian sizes in a RIFF,
    big-endian in an AIFF; each chunk padded to an even length), to the body's end its header declares."""
    order: Literal["little", "big"] = "little" if wav else "big"
    declared = int.from_bytes(reader.read(12, "the file's header")[4:8], order)
    # 0: a streaming writer's, which knew no length; a body is padded to an even length, as its chunks, but where
    # the byte after an odd one is not 0 (a writer that wrote no pad byte: what follows starts there)
    reader.body_end = 8 + declared if declared else 1 << 62
    if declared % 2 and reader.read_at(reader.body_end, 1) in (b"\0", b""):
        reader.body_end += 1
    reader.seek(12)
    for _ in range(_MOST_CHUNKS):
        header = reader.read(8, "a chunk's header", may_end=True) if reader.at + 8 <= reader.body_end else b""
        if not header:
            return
        size = int.from_bytes(header[4:8], order)
        if header[:4] in (b"id3 ", b"ID3 "):
            tag = reader.read(size, "an ID3 chunk")
            if tag_size(tag[:ID3_HEADER]) is None:
                raise ValueError(f"an ID3 chunk that holds no ID3 tag (at byte {reader.at - size:,})")
            yield from tag_pictures(tag[:ID3_HEADER], tag[ID3_HEADER:], settings.max_nested_archive_bytes)
        else:
            reader.skip(size)
        reader.skip(size % 2 if reader.at < reader.body_end else 0)  # no pad byte after the body's end
    raise ArchiveLimitError(f"more than {_MOST_CHUNKS:,} chunks: the chunks after them not read")


def _tags_past_the_body(reader: _Reader, settings: Settings) -> Iterator[Picture]:
    """The pictures of the tags that follow a WAV's or an AIFF's body (the size its header declares), or an Ogg's
    last page, which no player reads: read as those around an MP3's sound are."""
    start = max(reader.body_end, reader.at)  # past a chunk that runs over the body's end
    size = reader.end()
    reader.sound = (min(start, size), size)
    if start + 4 > size:
        return
    reader.seek(start)
    yield from _tag_pictures(reader, settings)


def _past_the_tags(reader: _Reader, settings: Settings, expansion: Expansion) -> Iterator[Member | Picture]:
    """What lies between the tags that follow a WAV's or an AIFF's body (an Ogg's last page, a sound's end), and
    between an Ogg's pages where bytes are no page: said, each picture or video that starts in it read as the
    member `after-the-end` (`trailing.py`), the note on the first; said alone where nothing in it starts like one.
    An ID3 tag that starts in it outside those pictures (after a picture appended) is read as a tag, its pictures
    as the tags', and what follows it so too."""
    unread: list[str] = []  # what was said of bytes in which nothing was read
    for start, end in (*reader.gaps, reader.sound):
        yield from _after_the_end(reader, start, end, settings, expansion, unread)
    if unread:
        raise ValueError("; ".join(unread))


def _after_the_end(reader: _Reader, start: int, end: int, settings: Settings, expansion: Expansion,
                   unread: list[str]) -> Iterator[Member | Picture]:
    """The pictures, videos and ID3 tags from `start` to `end`, which no player plays; what holds none, said in
    `unread`."""
    from vigie.sources.trailing import AFTER_END_NAME, trailing_after  # it sniffs, and sniffing imports this

    if end <= start:
        return
    most = settings.max_nested_archive_bytes  # the cap of what is held in memory
    if end - start > most:
        raise ArchiveLimitError(f"{end - start:,} bytes after the audio's own end (byte {start:,}), which no "
                                f"player plays: more than {most:,} (the cap of what is held in memory, setting "
                                "max_nested_archive_bytes), not read")
    reader.seek(start)
    rest = reader.read(end - start, "what follows the audio's own end")
    at = 0
    for _ in range(_MOST_TAGS + 1):
        after = trailing_after(rest[at:], start + at, "audio")
        tag = _tag_outside(rest, at, () if after is None else after.spans)
        if tag is not None:
            after = trailing_after(rest[at:tag[0]], start + at, "audio") if tag[0] > at else None
        if after is not None and not after.members:
            unread.append(after.note)
        elif after is not None:
            for number, data in enumerate(after.members):
                yield decoded_member(AFTER_END_NAME, data, settings, expansion, None if number else after.note)
        if tag is None:
            return
        tag_at, size = tag
        yield from tag_pictures(rest[tag_at:tag_at + ID3_HEADER], rest[tag_at + ID3_HEADER:tag_at + ID3_HEADER + size],
                                most)
        at = tag_at + ID3_HEADER + size
    raise ArchiveLimitError(f"more than {_MOST_TAGS} tags after the audio's own end: the bytes after them not read")


def _tag_outside(rest: bytes, at: int, spans: tuple[tuple[int, int], ...]) -> tuple[int, int] | None:
    """Where the first ID3 tag from `at` that lies whole in `rest`, outside the pictures found there (`spans`,
    from `at`), starts, and its size; at most _MOST_TAG_LOOKS headers looked at."""
    looked_from = at
    for _ in range(_MOST_TAG_LOOKS):
        found = _ID3_START.search(rest, looked_from)
        if found is None:
            return None
        tag_at = found.start()
        inside = [stop for begin, stop in spans if at + begin < tag_at < at + stop]
        if inside:  # a picture's own bytes
            looked_from = at + max(inside)
            continue
        size = tag_size(rest[tag_at:tag_at + ID3_HEADER])
        if size is not None and tag_at + ID3_HEADER + size <= len(rest):
            return tag_at, size
        looked_from = tag_at + 1
    return None


def _past_the_sound(reader: _Reader, settings: Settings, expansion: Expansion) -> Iterator[Member | Picture]:
    """What follows the sound, before the tags after it and those after its end, which no player plays: read as
    what follows a WAV's body where its end is known, else a picture that ends where the sound does."""
    if reader.sound_ended:
        yield from _past_the_tags(reader, settings, expansion)
    else:
        yield from _picture_at_the_end(reader, settings, expansion)


def _mpeg_end(reader: _Reader, start: int, end: int) -> int:
    """Where the MPEG audio frames from `start` end (`frames.py`): a frame of another stream (another version,
    layer or sample rate, mono after stereo: a header forged to span a picture appended) ends them."""
    return frames_end(reader.read_at, start, end, _MOST_FRAMES, 4, _frame_length, _same_mpeg_stream, "MPEG")


def _same_mpeg_stream(header: bytes, first: bytes) -> bool:
    """Whether an MPEG audio frame's header has the version, layer, sample rate and channels (mono or not) of the
    stream's first, which every frame of a stream repeats."""
    return header[1] & 0x1E == first[1] & 0x1E and header[2] & 0x0C == first[2] & 0x0C and \
        (header[3] >> 6 == 3) == (first[3] >> 6 == 3)


def _picture_at_the_end(reader: _Reader, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """A picture appended after a sound whose end is not known (a FLAC's whose last frame is not found, a Musepack
    SV7's ...): one that starts in the _TAIL_WINDOW bytes before the tags after the sound and whose own structure
    ends exactly there (no sound's bytes do so by chance: a JPEG, a PNG, a GIF, a WebP, an AVI, an MP4) is read as
    the member `after-the-end` (at most _MOST_TRIES signatures looked at); a PNG's end there
    whose start is further back is said, and why the sound's end is not known."""
    from vigie.sources.mediatype import SNIFF_BYTES, sniff  # sniffing imports this
    from vigie.sources.trailing import AFTER_END_NAME, content_end

    start, end = reader.sound
    window = min(end - start, _TAIL_WINDOW)
    if window < 16:
        return
    unknown = f"; {reader.end_not_found}" if reader.end_not_found else ""
    reader.seek(end - window)
    tail = reader.read(window, "the sound's end", held=False)
    tries = 0
    for signature, offset in _PICTURE_STARTS:
        at = tail.find(signature, offset) - offset
        while at >= 0:
            tries += 1
            if tries > _MOST_TRIES:
                raise ValueError(f"more than {_MOST_TRIES} picture signatures in the sound's last {window:,} "
                                 "bytes: a picture appended after it not looked for" + unknown)
            if content_end(tail[at:], sniff(tail[at:at + SNIFF_BYTES])) == window - at:
                yield decoded_member(AFTER_END_NAME, tail[at:], settings, expansion,
                                     f"{window - at:,} bytes after the audio's own end (byte {end - window + at:,}), "
                                     "which no player plays: a picture appended to hide it? read as this item's "
                                     f"member {AFTER_END_NAME.decode()}" + unknown)
                return
            at = tail.find(signature, at + offset + 1) - offset
    if tail.endswith(_PNG_END):
        raise ValueError(f"the sound ends like a PNG (byte {end:,}) whose start is not in the {_TAIL_WINDOW:,} bytes "
                         "before: a picture appended to hide it? not read")
    if reader.end_not_found:
        raise ValueError(f"{reader.end_not_found}; a picture appended after the sound is looked for only where it "
                         f"ends there, in its last {_TAIL_WINDOW:,} bytes")


def _native_blocks(reader: _Reader) -> Iterator[tuple[bytes, bytes]]:
    """A FLAC's metadata blocks, each its header and its data, read as they are asked for; its STREAMINFO kept."""
    while True:
        header = reader.read(4, "a FLAC metadata block's header")
        data = reader.read(int.from_bytes(header[1:4], "big"), "a FLAC metadata block")
        if header[0] & 0x7F == 0:
            reader.streaminfo = data
        yield header, data


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
    """The pictures of the comment header of each stream of an Ogg file (Vorbis, Opus, Speex), or of the metadata
    blocks of an Ogg FLAC: streams multiplexed, and streams chained one after another."""
    for packets in _ogg_headers(reader, settings.max_nested_archive_bytes):
        first, second = packets[0], packets[1] if len(packets) > 1 else b""
        if first.startswith(b"\x7fFLAC"):  # its header packets after the first are its metadata blocks
            yield from _flac_pictures((packet[:4], packet[4:]) for packet in packets[1:])
        elif first.startswith(b"\x01vorbis") and second.startswith(b"\x03vorbis"):
            yield from _comment_pictures(second, 7)
        elif first.startswith(b"OpusHead") and second.startswith(b"OpusTags"):
            yield from _comment_pictures(second, 8)
        elif first.startswith(b"Speex   "):
            yield from _comment_pictures(second, 0)


def _next_page(reader: _Reader, at: int) -> int | None:
    """Where the next Ogg page after `at` starts (its CRC right: `OggS` in a picture starts none), the rest of the
    file searched; None where none does."""
    looked_from = at + 1
    while True:
        chunk = reader.read_at(looked_from, _OGG_SEARCH + 3)
        found = chunk.find(b"OggS")
        if found < 0:
            if len(chunk) < _OGG_SEARCH + 3:
                return None
            looked_from += _OGG_SEARCH
            continue
        if _ogg_page_at(reader, looked_from + found):
            return looked_from + found
        reader.false_pages += 1
        if reader.false_pages > _MOST_FALSE_PAGES:
            raise ArchiveLimitError(f"more than {_MOST_FALSE_PAGES:,} `OggS` that start no Ogg page (their CRC "
                                    f"wrong) after its pages: what follows byte {looked_from + found:,} not read")
        looked_from += found + 1


def _ogg_page_at(reader: _Reader, at: int) -> bool:
    """Whether an Ogg page starts at `at`, whole, its CRC right."""
    header = reader.read_at(at, 27)
    if len(header) < 27 or not header.startswith(b"OggS\0"):
        return False
    lacing = reader.read_at(at + 27, header[26])
    page = reader.read_at(at, 27 + len(lacing) + sum(lacing))
    if len(lacing) < header[26] or len(page) < 27 + len(lacing) + sum(lacing):
        return False
    # the CRC-32 of poly 0x04C11DB7 unreflected, from zlib's reflected one
    raw = zlib.crc32((page[:22] + bytes(4) + page[26:]).translate(_REVERSED_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2) == int.from_bytes(header[22:26], "little")


def _headers_gathered(packets: list[bytes]) -> bool:
    """Whether a stream's packets gathered so far hold its tags (a Skeleton's, a video's or another codec's
    first packet: it has none read)."""
    first = packets[0]
    if first.startswith(b"\x7fFLAC"):  # to the metadata block flagged last (STREAMINFO, in the first, may be)
        return first[13:14] >= b"\x80" or len(packets) > _MOST_BLOCKS or \
            (len(packets) > 1 and packets[-1][:1] >= b"\x80")
    return len(packets) >= 2 or not first.startswith((b"\x01vorbis", b"OpusHead", b"Speex   "))


def _ogg_headers(reader: _Reader, most: int) -> Iterator[list[bytes]]:
    """The header packets of each logical stream, joined across pages, as each stream's are gathered; the pages
    of a stream whose headers are gathered are passed over by their headers, to the file's end (a stream chained
    after the others begins there), or to where no page starts and none follows (its CRC right): what follows is
    after the Ogg's end (`reader.body_end`); bytes that are no page before a page are kept (`reader.gaps`)."""
    gathering: dict[bytes, list[bytes]] = {}
    partial: dict[bytes, bytearray] = {}
    done: set[bytes] = set()
    playing: set[bytes] = set()  # streams begun and not ended
    for _ in range(_MOST_PAGES):
        at = reader.at
        header = reader.read_at(at, 27)  # not held: let go once read
        if not header:
            break
        if header[:4] != b"OggS":  # the Ogg's end (a picture appended?), or bytes before a stream chained
            resumes = _next_page(reader, at)
            if resumes is None:
                reader.body_end = at
                reader.seek(at)
                break
            reader.gaps.append((at, resumes))
            reader.seek(resumes)
            continue
        if len(header) < 27:
            raise ValueError(f"cut short in an Ogg page's header (at byte {reader.at:,})")
        lacing = reader.read(header[26], "an Ogg page's segment table", held=False)
        serial = header[14:18]
        if header[5] & 0x02:  # a stream begins: a serial number whose stream was read starts anew
            done.discard(serial)
            playing.add(serial)
        if header[5] & 0x04:
            playing.discard(serial)
        if serial in done:
            reader.skip(sum(lacing))
            continue
        body = reader.read(sum(lacing), "an Ogg page")
        packets, packet = gathering.setdefault(serial, []), partial.setdefault(serial, bytearray())
        at = 0
        for length in lacing:
            packet += body[at:at + length]
            at += length
            if len(packet) > most:
                raise ArchiveLimitError(f"a header packet of more than {most:,} bytes: not read")
            if length < 255:
                packets.append(bytes(packet))
                packet.clear()
                if _headers_gathered(packets):
                    break
        if packets and (_headers_gathered(packets) or header[5] & 0x04):  # gathered, or the stream ended
            yield gathering.pop(serial)
            partial.pop(serial)
            done.add(serial)
    else:
        raise ArchiveLimitError(f"more than {_MOST_PAGES:,} Ogg pages: the streams after them not read")
    yield from (packets for packets in gathering.values() if packets)  # streams the file ends inside
