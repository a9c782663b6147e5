"""What follows a file's own end, made hostile: decoy signatures before a picture appended, a RIFF or an AIFF
body of odd size written without its pad byte, an ID3 tag after a picture appended after the sound, an Ogg whose
last page is followed by a picture: the picture is read, exactly its bytes, and what was not read is said."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

from tests.media_files import MPEG_FRAMES, adts, apic, comments, flac_sound, id3_tag, ogg, picture_comment
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources.audio_pictures import audio_members
from vigie.sources.mediatype import sniff
from vigie.sources.members import Expansion
from vigie.sources.trailing import trailing, trailing_after

_DECOY = b"\xff\xd8\xff\x00"  # a JPEG's signature, and a segment that breaks off: no picture


def _picture(kind: str, seed: int) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (96, 72)).save(out, kind)
    return out.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _found(data: bytes) -> list[tuple[bytes, str | None]]:
    """Each member the audio file gives: its name and its bytes' SHA-256 (or its error)."""
    members = audio_members(io.BytesIO(data), sniff(data[:512]), Settings(), Expansion())
    return [(m.name, _sha(m.stream.read()) if m.stream else m.error) for m in members]


def test_decoys_before_a_picture_appended_do_not_hide_it() -> None:
    """Decoys (a JPEG's or a GIF's signature and a few bytes, more than the members and the starts once looked at)
    before a picture appended use up no cap: the picture is read, exactly its bytes, after a picture, a sound or
    a signature."""
    hidden = _picture("JPEG", 131)
    for decoys in (_DECOY * 8, _DECOY * 70, b"GIF8" * 70 + _DECOY * 70, (_DECOY + b"\x89PNG\r\n\x1a\n") * 40):
        after = trailing_after(decoys + hidden, 100, "signature")
        assert after is not None and _sha(hidden) in [_sha(member) for member in after.members]
    cover = _picture("JPEG", 130)
    after = trailing(cover + _DECOY * 8 + hidden, "image/jpeg")
    assert after is not None and after.members[-1] == hidden
    assert len(after.members) == 9  # each decoy read to the file's end (a picture cut short?), then the picture
    said = (f"a JPEG at byte {len(cover):,} whose own end is not found, a JPEG at byte {len(cover) + 4:,} whose own "
            f"end is not found, ")
    assert said in after.note
    assert _found(flac_sound(6) + _DECOY * 8 + hidden)[-1] == (b"after-the-end", _sha(hidden))


def test_more_pictures_after_the_end_than_are_read_is_said() -> None:
    """More pictures appended than the members read: the search stops, and says where."""
    pictures = [_picture("PNG", seed) for seed in range(10)]
    after = trailing_after(b"".join(pictures), 100, "audio")
    assert after is not None and list(after.members) == pictures[:8]
    assert f"more than 8 pictures or videos looked at: what starts from byte {100 + sum(map(len, pictures[:8])):,}" \
        " not read" in after.note


def _wav_of_odd_size() -> bytes:
    """A WAV whose last chunk and body are of an odd size, and written without the pad byte."""
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 1601) + bytes(1601)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _aiff_of_odd_size() -> bytes:
    comm = struct.pack(">hIh", 1, 801, 8) + b"\x40\x0b\xfa\x00" + bytes(6)
    chunks = b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", 8 + 801) + bytes(8 + 801)
    return b"FORM" + struct.pack(">I", 4 + len(chunks)) + b"AIFF" + chunks


def test_a_picture_right_after_a_riff_of_odd_size_without_its_pad_byte_is_read_whole() -> None:
    """A WAV's, an AIFF's, a WebP's RIFF of odd size written without its pad byte, a picture appended right after:
    the picture's first byte is not taken for the pad byte; a pad byte written is still passed over."""
    jpeg, png = _picture("JPEG", 161), _picture("PNG", 162)
    for sound in (_wav_of_odd_size(), _aiff_of_odd_size()):
        for picture in (jpeg, png):
            assert _found(sound + picture) == [(b"after-the-end", _sha(picture))]
        assert _found(sound + b"\0" + jpeg) == [(b"after-the-end", _sha(jpeg))]
    webp = _picture("WEBP", 163)
    odd = b"RIFF" + struct.pack("<I", struct.unpack_from("<I", webp, 4)[0] + 9) + webp[8:] + b"JUNK\x01\0\0\0x"
    for tail in (b"", b"\0"):
        after = trailing(odd + tail + jpeg, "image/webp")
        assert after is not None and after.members == (jpeg,)


def _png_holding(text: bytes) -> bytes:
    """A PNG with a `tEXt` chunk holding `text`, right after its header."""
    png = _picture("PNG", 44)
    chunk = b"tEXt" + b"Comment\0" + text
    return png[:33] + struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[33:]


def test_an_id3_tag_after_a_picture_appended_after_the_sound_is_read_as_a_tag() -> None:
    """A FLAC's, an MP3's, an AAC's sound, a picture appended, then an ID3v2.3 tag (unsynchronised or not): the
    tag's picture is read as the tag's, exactly its bytes (not carved with the unsynchronisation's bytes in it);
    bytes that look like a tag inside a picture appended are the picture's."""
    appended, tagged = _picture("JPEG", 41), _picture("JPEG", 42)
    for sound in (flac_sound(10), MPEG_FRAMES, adts(20)):
        for unsync in (False, True):
            tag = id3_tag(3, [(b"APIC", apic(tagged))], unsync=unsync)
            assert _found(sound + appended + tag) == [(b"after-the-end", _sha(appended)),
                                                      (b"picture-1.jpeg", _sha(tagged))]
            assert _found(sound + appended + tag + appended) == [(b"after-the-end", _sha(appended)),
                                                                 (b"picture-1.jpeg", _sha(tagged)),
                                                                 (b"after-the-end", _sha(appended))]
        holding = _png_holding(b"ID3\x03\x00\x00\x00\x00\x00\x05hello")
        assert _found(sound + holding) == [(b"after-the-end", _sha(holding))]


def _opus(cover: bytes | None = None, serial: int = 0x5EC1, ended: bool = True) -> bytes:
    tags = b"OpusTags" + comments(picture_comment(cover) if cover else b"TITLE=a song")
    return ogg([b"OpusHead\x01\x02" + bytes(9), tags, bytes(300), bytes(300)], serial=serial, ended=ended)


def test_a_picture_after_an_oggs_last_page_is_read_and_the_streams_chained_after_it() -> None:
    """A picture after an Ogg's last page is read, though the last page is not flagged as its stream's end (a
    recording cut off), though the picture holds `OggS` (a page only where its CRC is right), and a stream
    chained after it is read too."""
    appended, cover = _picture("JPEG", 51), _picture("PNG", 52)
    holding = _png_holding(b"OggS is a word")
    assert _found(_opus(ended=False) + appended) == [(b"after-the-end", _sha(appended))]
    assert _found(_opus() + holding) == [(b"after-the-end", _sha(holding))]
    assert _found(_opus() + appended + _opus(cover, serial=7)) == [(b"picture-1.png", _sha(cover)),
                                                                   (b"after-the-end", _sha(appended))]
    assert _found(_opus(ended=False) + appended + _opus(cover, serial=7) + holding) == [
        (b"picture-1.png", _sha(cover)), (b"after-the-end", _sha(appended)), (b"after-the-end", _sha(holding))]
