"""AAC in ADTS frames (an `.aac` file, as radios, recorders and encoders write it, with no tag in front): typed by
its frames, and walked by the length each frame's header gives to where the sound ends.

A frame header: a 12-bit sync (0xFFF), the MPEG version, a layer of 00, whether a CRC follows, the profile, the
sample rate and the channels (the same in every frame of a stream), then the frame's length (13 bits, the header
counted) and buffer fullness.
"""

from __future__ import annotations

from collections.abc import Callable

from vigie.sources.frames import frames_end

_SINGLE, _PAIR, _FILL = 0, 1, 6  # a raw data block's elements: a channel's, a pair's, fill
_MOST_PER_CHANNEL = 768  # bytes of a raw data block a channel: 6,144 bits, the decoder's input buffer


def adts_length(header: bytes) -> int | None:
    """The length of the frame whose header starts `header` (7 bytes at least); None where it is none, or longer
    than its channels' raw data blocks may be (a header forged to span a picture appended)."""
    if len(header) < 7 or header[0] != 0xFF or header[1] & 0xF6 != 0xF0 or (header[2] >> 2) & 15 > 12:
        return None
    length = ((header[3] & 3) << 11) | (header[4] << 3) | (header[5] >> 5)
    config, blocks = (header[2] & 1) << 2 | header[3] >> 6, (header[6] & 3) + 1
    channels = 8 if config in (0, 7) else config  # 0: told by a program config element, 7.1 at most here
    longest = 7 + (0 if header[1] & 1 else 2 * blocks) + blocks * _MOST_PER_CHANNEL * channels
    return length if (7 if header[1] & 1 else 9) <= length <= longest else None


def _same_stream(header: bytes, first: bytes) -> bool:
    """Whether the fields every frame of a stream repeats (version, CRC, profile, sample rate, channels, raw data
    blocks: encoders write one a frame) are `first`'s."""
    return header[1] == first[1] and header[2] & 0xFD == first[2] & 0xFD and header[3] & 0xC0 == first[3] & 0xC0 \
        and header[6] & 3 == first[6] & 3


def adts_frames(head: bytes) -> bool:
    """ADTS frames from the start of `head`: a frame, then the next at the length it gives, of the same stream,
    each one `head` holds (a frame sync alone is two bytes that many files start with); or a first frame longer
    than `head` (above some 170 kbit/s) whose raw data starts as an encoder's does."""
    at, seen = 0, 0
    while at + 7 <= len(head):
        length = adts_length(head[at:at + 7])
        if length is None or not _same_stream(head[at:at + 7], head):
            return False
        if not seen and length + 7 > len(head):  # the next frame's header not held
            return _first_element(head)
        at, seen = at + length, seen + 1
    return seen >= 2


def _first_element(frame: bytes) -> bool:
    """Whether a frame of one raw data block, whose private and copyright bits are clear (as encoders leave them),
    starts it with a channel's element numbered 0 (a single channel's or a pair's) or a fill element (FFmpeg's
    first holds its name): about one random frame header in three thousand does."""
    at = 7 if frame[1] & 1 else 9  # after the CRC, where one follows
    if frame[6] & 3 or frame[2] & 2 or frame[3] & 0x3C or at >= len(frame):  # the private and copyright bits set
        return False
    element = frame[at]
    return element >> 5 == _FILL or (element >> 5 in (_SINGLE, _PAIR) and not element & 0x1E)


def adts_end(read_at: Callable[[int, int], bytes], start: int, end: int, most: int) -> int:
    """Where the ADTS frames from `start` end (`frames.py`)."""
    return frames_end(read_at, start, end, most, 7, adts_length, _same_stream, "ADTS")
