"""A sound's structure stretched over a picture appended after it (a copy of a FLAC's last frame after the
picture, or forged inside it; a length that lies in a Monkey's Audio, WavPack, Musepack, ADTS or MP3 file) is
looked into, and the picture read; a picture appended where a sound's end is not known is read whatever the kind
`trailing.py` ends; AAC and MP3 of high bit rates, no tag in front, are typed by their first frame."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.media_files import MPEG_FRAMES, _crc, adts, flac_sound, monkey, musepack, wavpack
from tests.test_audio_sound_ends import _found, _scan, _sha
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources.audio_pictures import audio_type
from vigie.sources.mediatype import sniff
from vigie.sources.reopen import read_item_bytes


def _picture(kind: str, seed: int) -> bytes:
    out = io.BytesIO()
    image = draw_picture(seed, (96, 72))
    (image.convert("P") if kind == "GIF" else image).save(out, kind)
    return out.getvalue()


def _packet(key: bytes, payload: bytes) -> bytes:
    """A Musepack SV8 packet: its key, its length (key and length counted) in two 7-bit groups, its payload."""
    length = len(payload) + 4
    return key + bytes([0x80 | length >> 7, length & 0x7F]) + payload


def _monkey_with_seek_table(frames: int, size: int, raised: int) -> bytes:
    """A Monkey's Audio file whose seek table says where each of its `frames` frames of `size` bytes starts, and
    whose descriptor declares `raised` bytes more frames than it holds."""
    table = b"".join(struct.pack("<I", 52 + 24 + 4 * frames + number * size) for number in range(frames))
    descriptor = b"MAC " + struct.pack("<HH7I", 3990, 0, 52, 24, 4 * frames, 0, frames * size + raised, 0, 0)
    header = struct.pack("<HHIIIHHI", 2000, 0, 4608, 1000, frames, 16, 2, 44100)  # the last frame: 1,000 samples
    return descriptor + bytes(16) + header + table + bytes(frames * size)


def _wavpack_block(samples: int, data: bytes) -> bytes:
    """A WavPack block of `samples` stereo samples of one byte, then `data`."""
    return b"wvpk" + struct.pack("<IHBBIIIII", 24 + len(data), 0x410, 0, 0, 0, 0, samples, 0x1000, 0) + data


def _flac_frame_after(picture: bytes) -> bytes:
    """A FLAC's sound, then `picture` and two bytes that make its last frame's CRC-16 hold after them, then a frame
    numbered next, the last its STREAMINFO's total counts."""
    longer = flac_sound(9)
    next_frame = longer.rindex(b"\xff\xf8")
    sound = longer[:next_frame]
    last_frame = sound[sound.rindex(b"\xff\xf8"):]
    return sound + picture + _crc(last_frame + picture, 0x8005, 16).to_bytes(2, "big") + longer[next_frame:]


def _stretched(picture: bytes) -> dict[str, bytes]:
    """Each kind of sound whose structure is made to run over `picture` appended after it, unchanged."""
    flac = flac_sound(8)
    last_frame = flac[flac.rindex(b"\xff\xf8"):]
    # two bytes after the picture make the real last frame's CRC-16 hold where the copy starts
    mended = (_crc(last_frame + picture, 0x8005, 16)).to_bytes(2, "big")
    ape = monkey(3000)
    terminating = 8 + 4 * 6  # the descriptor's length of the WAV's terminating data
    end_packet = _packet(b"SE", b"")
    span = 7 + len(picture)  # one ADTS frame header of the stream's whose length spans the picture
    adts_header = bytes([0xFF, 0xF1, 0x50, 0x80 | span >> 11, (span >> 3) & 0xFF, (span & 7) << 5 | 0x1F, 0xFC])
    mpeg_header = bytes([0xFF, 0xE4, 0xE0, 0x00])  # MPEG-2.5 Layer II, 160 kbit/s, 8 kHz: 2,880 bytes
    assert len(picture) < 2880 - 4
    return {
        "flac": flac + picture + last_frame,
        "flac_mended": flac + picture + mended + last_frame,
        "flac_mended_at_the_end": flac + picture + mended,  # the real last frame's CRC-16 holds at the file's end
        "flac_mended_next": _flac_frame_after(picture),
        "monkey_frames": _monkey_with_seek_table(10, 3000, len(picture)) + picture,
        "monkey": ape[:terminating] + struct.pack("<I", len(picture)) + ape[terminating + 4:] + picture,
        "wavpack": wavpack(10) + b"wvpk" + struct.pack("<I", 24 + len(picture)) + bytes(24) + picture,
        # among blocks about as long, one of a single sample: longer than its samples stored raw
        "wavpack_samples": _wavpack_block(4410, bytes(1500)) * 3 + _wavpack_block(1, picture),
        "musepack": musepack(5)[:-len(end_packet)] + _packet(b"AP", picture) + end_packet,
        "adts": adts(20) + adts_header + picture,
        "adts_blocks": adts(20) + adts_header[:6] + b"\xff" + picture,  # four raw data blocks claimed
        "mp3": MPEG_FRAMES + mpeg_header + picture + bytes(2880 - 4 - len(picture)),
    }


def test_a_structure_stretched_over_a_picture_appended_is_looked_into(tmp_path: Path) -> None:
    """Whichever length is made to span the picture (a copy of the FLAC's last frame after it, even where two
    bytes make the real last frame's CRC-16 hold where the copy, or a frame numbered next, starts or at the file's
    end, a Monkey's Audio's terminating data or last frame, a WavPack block, a Musepack audio packet, an ADTS frame
    longer than its channels allow, an MPEG frame of another stream), the picture is read as the member
    after-the-end, its bytes exactly, and read back; the same sounds untouched say nothing."""
    picture = _picture("JPEG", 91)
    for kind, data in _stretched(picture).items():
        assert _found(data) == [(b"after-the-end", _sha(picture))], kind
    for sound in (flac_sound(8), monkey(3000), _monkey_with_seek_table(10, 3000, 0), wavpack(10), musepack(5),
                  _wavpack_block(4410, bytes(1500)) * 4, adts(20), MPEG_FRAMES):
        assert _found(sound) == []
    items = _scan(tmp_path, {"song.flac": _stretched(picture)["flac"]}, [picture])
    member = items["song.flac!/after-the-end"]
    assert member["sha256"] == _sha(picture) and member["matches"]
    assert read_item_bytes(str(tmp_path / "evidence"), "song.flac!/after-the-end", Settings(), 10**7) == picture


def test_a_flac_last_frame_forged_inside_the_picture_appended_is_not_taken_for_the_sounds_end() -> None:
    """A copy of the FLAC's last frame kept inside the picture appended (a PNG's ancillary chunk, a JPEG's
    comment, a GIF's comment extension): the frame before it does not end where it starts, so the sound ends with
    the real last frame and the whole picture is read."""
    sound = flac_sound(6)
    last_frame = sound[sound.rindex(b"\xff\xf8"):]
    png, jpeg, gif = _picture("PNG", 11), _picture("JPEG", 12), _picture("GIF", 13)
    chunk = struct.pack(">I", len(last_frame)) + b"zzZz" + last_frame + struct.pack(">I", zlib.crc32(b"zzZz" +
                                                                                          last_frame))
    assert len(last_frame) < 255
    forged = [png[:33] + chunk + png[33:],
              jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(last_frame) + 2) + last_frame + jpeg[2:],
              gif[:-1] + b"\x21\xfe" + bytes([len(last_frame)]) + last_frame + b"\x00\x3b"]
    for picture in forged:
        Image.open(io.BytesIO(picture)).load()  # still a picture that decodes
        assert _found(sound + picture) == [(b"after-the-end", _sha(picture))]


def test_a_webp_appended_where_the_sounds_end_is_not_known_is_read() -> None:
    """A FLAC whose STREAMINFO declares more samples than its frames hold (no last frame found): a WebP that ends
    where the file does is read as the member after-the-end, as a JPEG, PNG or GIF was."""
    sound = bytearray(flac_sound(10))
    sound[8 + 14:8 + 18] = (1_000_000).to_bytes(4, "big")  # the total's low 32 bits
    webp = _picture("WEBP", 33)
    assert _found(bytes(sound) + webp) == [(b"after-the-end", _sha(webp))]


def test_aac_and_mp3_of_high_bit_rates_are_typed_by_their_first_frame() -> None:
    """An ADTS frame longer than the bytes sniffed (above some 170 kbit/s) and a 320 kbit/s MP3 with no encoder's
    header: typed by a first frame whose fields are all valid and which starts as an encoder's first does (a
    picture after them then read); random bytes after a frame sync are seldom taken for either."""
    length = 7 + 900
    aac_header = bytes([0xFF, 0xF1, 0x50, 0x80 | length >> 11, (length >> 3) & 0xFF, (length & 7) << 5 | 0x1F,
                        0xFC])
    aac = (aac_header + b"\x21" + bytes(899)) * 40  # a channel pair's element, numbered 0
    mp3 = (bytes([0xFF, 0xFB, 0xE0, 0x44]) + bytes(1040)) * 40  # MPEG-1 Layer III, 320 kbit/s, 44.1 kHz
    picture = _picture("JPEG", 21)
    assert sniff(aac[:512]) == "audio/aac" and sniff(mp3[:512]) == "audio/mpeg"
    assert _found(aac + picture) == [(b"after-the-end", _sha(picture))]
    assert _found(mp3 + picture) == [(b"after-the-end", _sha(picture))]
    chance = random.Random(7)
    typed = sum(audio_type(bytes([0xFF, chance.randrange(0xE0, 0x100)]) + chance.randbytes(510)) is not None
                for _ in range(20_000))
    assert typed <= 10  # one in two thousand at most


def test_frame_headers_before_a_flacs_last_frame_cost_bounded_work() -> None:
    """Countless copies of a frame's header (CRC-8 and all) before the last frame, none of whose CRC-16 holds:
    at most a few are checked for the frame before the last, and the sound's end not found is said."""
    sound = flac_sound(3)
    first, last = sound.index(b"\xff\xf8"), sound.rindex(b"\xff\xf8")
    header = sound[first:first + 6]  # sync, codes, frame number 0, CRC-8
    with pytest.raises(ValueError, match="4 frame headers before the FLAC's last frame"):
        _found(sound[:last] + (header + b"\x01" * 40) * 100_000 + sound[last:])
