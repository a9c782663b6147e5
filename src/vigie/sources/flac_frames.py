"""Where a FLAC's sound ends, which no length in it says: its frames carry none, so the last is looked for back
from the file's end (before the tags after the sound), as a frame sync whose header's CRC-8 holds, whose channels
and sample size are the STREAMINFO's, and whose samples reach the total the STREAMINFO declares (where it declares
one: a streaming encoder's does not); it ends where its CRC-16 holds (a frame's last two bytes are the CRC-16 of all
before them). That frame is then joined to the one before it, whose CRC-16 must hold where it starts, whose samples
the last's follow and which the STREAMINFO's largest frame size bounds: else bytes no frame covers lie between (a
copy of the last frame appended after a picture, or forged inside one), and the sound ends with the frame before
them. Where the last frame's (or the one before it's) CRC-16 holds at its end and before it too, what lies
between is doubtful (two bytes after a picture appended may make it hold at the end): looked into by the caller.
Bounded on hostile input: at most _MOST_SYNCS syncs looked at, at most _MOST_LAST headers of a last frame, and as
many of the frame before it, checked by CRC-16, each over at most the length of its samples stored verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from vigie.sources.sound_ends import SoundEnd

_MOST_SYNCS = 1 << 16  # frame syncs looked at back from the end: a picture holds a few a MiB by chance
_MOST_LAST = 4  # headers of a last frame (CRC-8 and samples right) whose end is looked for by CRC-16
_CHUNK = 1 << 20  # read back from the end this much at a time
_LONGEST_HEADER = 16  # sync, codes, a 7-byte coded number, a 16-bit block size and sample rate, CRC-8
_SYNC = re.compile(rb"\xff[\xf8\xf9]")
_SAMPLE_BITS = (0, 8, 12, 0, 16, 20, 24, 32)  # by the header's code: 0 the STREAMINFO's, 3 reserved


def _table(poly: int, width: int) -> tuple[int, ...]:
    top, mask, table = 1 << (width - 1), (1 << width) - 1, []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else crc << 1
        table.append(crc & mask)
    return tuple(table)


_CRC8, _CRC16 = _table(0x07, 8), _table(0x8005, 16)


class StreamInfo:
    """What a FLAC's STREAMINFO block says that its frames are checked against."""

    def __init__(self, block: bytes) -> None:
        self.block_size = int.from_bytes(block[0:2], "big")  # the least, the last frame's aside
        self.largest_block = int.from_bytes(block[2:4], "big")
        self.largest_frame = int.from_bytes(block[7:10], "big")  # in bytes; 0: not known
        packed = int.from_bytes(block[10:18], "big")
        self.channels = ((packed >> 41) & 7) + 1
        self.sample_bits = ((packed >> 36) & 31) + 1
        self.total = packed & ((1 << 36) - 1)  # 0: not known (a streaming encoder's)


class _Frame(NamedTuple):
    """A frame header found: where it starts, the number it carries (a frame's, or in a stream of variable block
    sizes its first sample's) and the one the next frame carries, the most bytes its frame may take, whether it may
    be the sound's last frame (its samples reach the total, where one is declared)."""

    at: int
    number: int
    following: int
    longest: int
    last: bool


def flac_sound_end(read_at: Callable[[int, int], bytes], streaminfo: bytes, start: int, end: int,
                   most: int) -> SoundEnd:
    """Where the sound that starts at `start` ends (`end` where nothing follows it before the tags after it), and
    where its last frame's CRC-16 also holds before that end, where it runs to it (doubtful: two bytes after a
    picture appended may make it hold at the end).
    The last frame found is then joined to the frame before it: where that one's CRC-16 holds before the last
    frame starts (or its samples are not followed by the last's: a frame number repeated), bytes no frame covers
    lie between (a copy of the last frame appended after a picture, or forged inside one), and the sound ends where
    that frame does. Raises ValueError, saying why, where its last frame is not found within `most` bytes (the cap
    of what is held in memory) of `end`."""
    info = StreamInfo(streaminfo)
    if len(streaminfo) < 34 or info.block_size < 16 or info.sample_bits < 4:
        raise ValueError("a FLAC whose STREAMINFO is missing or damaged (its block size or sample size is none "
                         "FLAC allows): its frames cannot be checked, the sound's end not found")
    lowest = max(start, end - most - info.largest_block * info.channels * (info.sample_bits + 1) // 8)
    headers = _headers_back(read_at, info, lowest, end)
    last = last_end = doubtful = None
    for lasts, frame in enumerate((found for found in headers if found.last), 1):
        data = read_at(frame.at, min(frame.longest, end - frame.at))
        first_end, at_the_end = _crc16_holds(data)
        if at_the_end and frame.at + len(data) == end:  # it runs to the sound's end
            last, last_end = frame, end
            doubtful = None if first_end == len(data) or first_end is None else frame.at + first_end
            break
        if first_end is not None:
            last, last_end = frame, frame.at + first_end
            break
        if lasts == _MOST_LAST:
            raise ValueError(f"{_MOST_LAST} headers of the FLAC's last frame whose CRC-16 holds nowhere: the "
                             "sound's end not found")
    if last is None or last_end is None:
        reaching = f" (the one that reaches its {info.total:,} samples)" if info.total else ""
        raise ValueError(f"no last frame of the FLAC's sound{reaching} found between byte {lowest:,} and byte "
                         f"{end:,}: the sound's end not found")
    for tries, before in enumerate(headers):  # the frame before the last: followed by it, ending where it starts
        if tries == _MOST_LAST:
            raise ValueError(f"{_MOST_LAST} frame headers before the FLAC's last frame (byte {last.at:,}) whose "
                             "CRC-16 holds nowhere: the sound's end not found")
        span = last.at - before.at
        data = read_at(before.at, min(before.longest, span))
        own_end, at_the_end = _crc16_holds(data)
        if len(data) == span and at_the_end and before.following == last.number and \
                span <= (info.largest_frame or span):  # joined: where its CRC-16 also holds before, doubtful too
            return SoundEnd(last_end, before.at + own_end if own_end is not None and own_end < span else doubtful)
        if own_end is not None:
            return SoundEnd(last_end, doubtful) if own_end == span else SoundEnd(before.at + own_end, None)
    return SoundEnd(last_end, doubtful)


def _headers_back(read_at: Callable[[int, int], bytes], info: StreamInfo, lowest: int, end: int
                  ) -> Iterator[_Frame]:
    """The frame headers (CRC-8, channels and sample size right) back from `end` to `lowest`; at most _MOST_SYNCS
    syncs looked at."""
    syncs = 0
    top = end
    while top > lowest:
        bottom = max(lowest, top - _CHUNK)
        data = read_at(bottom, top - bottom + _LONGEST_HEADER)  # a header across the chunk's top read whole
        for found in reversed([match.start() for match in _SYNC.finditer(data, 0, top - bottom + 1)]):
            syncs += 1
            if syncs > _MOST_SYNCS:
                raise ValueError(f"more than {_MOST_SYNCS:,} FLAC frame syncs back from its end (byte {end:,}) "
                                 "that are not its last frame's: the sound's end not found")
            frame = _frame_header(data[found:found + _LONGEST_HEADER], info, bottom + found)
            if frame is not None:
                yield frame
        top = bottom


def _frame_header(header: bytes, info: StreamInfo, at: int) -> _Frame | None:
    """The frame whose header starts `header` (at byte `at`), where it is one of the stream's (its header's CRC-8
    holds, its channels and sample size are the stream's); else None."""
    if len(header) < 6:
        return None
    size_code, rate_code = header[2] >> 4, header[2] & 15
    channel_code, bits_code = header[3] >> 4, (header[3] >> 1) & 7
    if size_code == 0 or rate_code == 15 or channel_code > 10 or bits_code == 3 or header[3] & 1:
        return None
    channels = channel_code + 1 if channel_code < 8 else 2
    bits = _SAMPLE_BITS[bits_code] or info.sample_bits
    if channels != info.channels or bits != info.sample_bits:
        return None
    number, length = _coded_number(header)  # the header's length so far
    if number is None:
        return None
    if size_code in (6, 7):
        block = int.from_bytes(header[length:length + size_code - 5], "big") + 1
        length += size_code - 5
    else:
        block = 192 if size_code == 1 else 576 << (size_code - 2) if size_code < 6 else 256 << (size_code - 8)
    length += 1 if rate_code == 12 else 2 if rate_code in (13, 14) else 0
    if length >= len(header) or _crc(_CRC8, 8, header[:length]) != header[length]:
        return None
    variable = header[1] & 1  # numbered by sample, else by frame
    first = number if variable else number * info.block_size
    longest = length + 1 + channels * (2 + (block * (bits + 1) + 7) // 8) + 2  # subframes verbatim, CRC-16
    return _Frame(at, number, number + (block if variable else 1), longest,
                  not info.total or first + block == info.total)


def _coded_number(header: bytes) -> tuple[int | None, int]:
    """The frame or sample number coded as UTF-8 is (up to 36 bits) from byte 4, and where the header goes on."""
    first = header[4]
    if 0x80 <= first < 0xC0 or first == 0xFF:
        return None, 0
    extra = 0 if first < 0x80 else 7 - (first ^ 0xFF).bit_length()  # as many bytes follow as ones lead, less 1
    if 5 + extra > len(header):
        return None, 0
    number = first & (0x7F >> (extra + 1)) if extra else first
    for byte in header[5:5 + extra]:
        if byte & 0xC0 != 0x80:
            return None, 0
        number = (number << 6) | (byte & 0x3F)
    return number, 5 + extra


def _crc16_holds(frame: bytes) -> tuple[int | None, bool]:
    """Where the frame that `frame` starts may end: the first byte past its header where its CRC-16 holds (by
    chance once in 65,536 bytes: an end taken too early leaves a frame's last bytes before what follows, which is
    still found), and whether it holds at `frame`'s end."""
    crc, first, table = 0, None, _CRC16
    for at, byte in enumerate(frame):
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
        if not crc and first is None and at > 6:
            first = at + 1
    return first, bool(frame) and not crc and first is not None


def _crc(table: tuple[int, ...], width: int, data: bytes) -> int:
    crc, mask = 0, (1 << width) - 1
    for byte in data:
        crc = ((crc << 8) & mask) ^ table[(crc >> (width - 8)) ^ byte]
    return crc
