"""Where the sound of a Monkey's Audio, WavPack or Musepack file ends, by what its own structure says: a Monkey's
Audio descriptor's lengths (version 3.98 and later), WavPack's blocks walked by their lengths, Musepack SV8's
packets walked by theirs to its stream-end packet (`SE`). Where that cannot be checked (an older Monkey's Audio
header, a Musepack SV7's bit-packed frames, a structure that breaks off), ValueError says why. A length may lie to
stretch the sound over a picture appended: a Monkey's Audio's terminating data or a last frame longer than its
samples allow, a WavPack block so, and a block or packet _OUTLIER times longer than any other, are where the sound
may end instead (`SoundEnd.doubtful`), looked into.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

_MONKEY_DESCRIPTOR = 52  # "MAC ", version, padding, six lengths, the frame data's high 32 bits, an MD5
_WAVPACK_HEADER = 32  # "wvpk", the block's length less 8, version, samples, flags, CRC
_MONKEY_SLACK = 256  # bytes a Monkey's Audio frame may take past its samples stored raw: its CRC, words' padding
_WAVPACK_SLACK = 1024  # bytes a WavPack block may take past its samples stored raw: its header, the WAV's own
_OUTLIER = 4  # a block or packet this many times longer than any other is doubted: an encoder's are alike


class SoundEnd(NamedTuple):
    """Where the sound ends by its structure, and where a length that may lie starts what it spans (None where
    none does)."""

    end: int
    doubtful: int | None


class _Longest:
    """The longest block or packet walked (where it starts), the longest length of the others, and the first
    block longer than its samples stored raw."""

    def __init__(self) -> None:
        self.at, self.length, self.others = 0, 0, 0
        self.oversized: int | None = None

    def add(self, at: int, length: int, raw: int | None = None) -> None:
        if length > self.length:
            self.at, self.length, self.others = at, length, self.length
        else:
            self.others = max(self.others, length)
        if raw is not None and self.oversized is None and length > raw + raw // 8 + _WAVPACK_SLACK:
            self.oversized = at

    def doubtful(self) -> int | None:
        if self.others and self.length > _OUTLIER * self.others:
            return self.at if self.oversized is None else min(self.at, self.oversized)
        return self.oversized


def packed_sound_end(read_at: Callable[[int, int], bytes], start: int, end: int, most: int) -> SoundEnd:
    """Where the sound that starts at `start` (with its signature) ends, before `end` (where the tags after it
    start; `end` where its structure runs to it); at most `most` blocks or packets walked."""
    head = read_at(start, _MONKEY_DESCRIPTOR)
    if head.startswith(b"MAC "):
        found = _monkey_end(read_at, head, start)
    elif head.startswith(b"wvpk"):
        found = _wavpack_end(read_at, start, end, most)
    elif head.startswith(b"MPCK"):
        found = _musepack_end(read_at, start + 4, end, most)
    else:
        raise ValueError("a Musepack SV7 file, whose bit-packed frames are not walked: the sound's end not found")
    if found.end > end:
        raise ValueError(f"its structure says its sound runs to byte {found.end:,}, past where it ends (byte {end:,}): "
                         "cut short, or lengths that lie; the sound's end not found")
    return found


def _monkey_end(read_at: Callable[[int, int], bytes], head: bytes, start: int) -> SoundEnd:
    """The sum of the lengths a Monkey's Audio descriptor declares: itself, the header, the seek table, the WAV
    header, the frames, the WAV's terminating data (doubtful: whatever followed the WAV's sound; from the last
    frame, where it is longer than its samples stored raw)."""
    version = int.from_bytes(head[4:6], "little")
    if version < 3980:
        raise ValueError(f"a Monkey's Audio file of version {version / 1000:.2f}, whose header does not say its "
                         "frames' length: the sound's end not found")
    lengths = [int.from_bytes(head[at:at + 4], "little") for at in range(8, 36, 4)]
    descriptor, header, seek_table, wav_header, frames, frames_high, terminating = lengths
    if len(head) < _MONKEY_DESCRIPTOR or descriptor < _MONKEY_DESCRIPTOR or header < 24:
        raise ValueError("a damaged Monkey's Audio descriptor: the sound's end not found")
    sound_end = start + descriptor + header + seek_table + wav_header + (frames_high << 32 | frames)
    last_frame = _monkey_last_frame(read_at, start, start + descriptor, header, seek_table, sound_end)
    return SoundEnd(sound_end + terminating, last_frame if last_frame is not None else
                    sound_end if terminating else None)


def _monkey_last_frame(read_at: Callable[[int, int], bytes], start: int, header_at: int, header_length: int,
                       seek_table: int, sound_end: int) -> int | None:
    """Where a Monkey's Audio's last frame starts (by the seek table after its header, whose offsets count from
    the descriptor), where it is longer than its samples stored raw, or than twice the others' mean for as many
    samples (and some); None where it is not, or its header or seek table does not say."""
    header = read_at(header_at, 24)
    if len(header) < 24:
        return None
    per_frame, final_blocks = int.from_bytes(header[4:8], "little"), int.from_bytes(header[8:12], "little")
    total_frames = int.from_bytes(header[12:16], "little")
    bits, channels = int.from_bytes(header[16:18], "little"), int.from_bytes(header[18:20], "little")
    table_at = header_at + header_length
    if not 0 < total_frames <= seek_table // 4 or not per_frame:
        return None
    first, last = (start + int.from_bytes(read_at(table_at + at, 4), "little") for at in (0, 4 * (total_frames - 1)))
    raw = final_blocks * channels * ((bits + 7) // 8)
    most = raw + raw // 8
    if total_frames > 1:
        most = min(most, 2 * (last - first) * final_blocks // ((total_frames - 1) * per_frame))
    return last if start < last < sound_end and sound_end - last > most + _MONKEY_SLACK else None


def _wavpack_end(read_at: Callable[[int, int], bytes], at: int, end: int, most: int) -> SoundEnd:
    """Past WavPack's last block: blocks one after another, each told by its signature and length."""
    longest = _Longest()
    for _ in range(most):
        if at + _WAVPACK_HEADER > end:
            return SoundEnd(max(at, end), longest.doubtful())  # a few stray bytes at most: a block cut short
        header = read_at(at, _WAVPACK_HEADER)
        size = int.from_bytes(header[4:8], "little")
        if not header.startswith(b"wvpk") or size < _WAVPACK_HEADER - 8:
            return SoundEnd(at, longest.doubtful())
        flags = int.from_bytes(header[24:28], "little")  # bytes a sample less 1, mono
        raw = int.from_bytes(header[20:24], "little") * (1 if flags & 4 else 2) * ((flags & 3) + 1)
        longest.add(at, 8 + size, raw)
        at += 8 + size
    raise ValueError(f"more than {most:,} WavPack blocks: the sound's end not found")


def _musepack_end(read_at: Callable[[int, int], bytes], at: int, end: int, most: int) -> SoundEnd:
    """Past Musepack SV8's stream-end packet: packets one after another, each a two-letter key and its length
    (its key and itself counted) in 7-bit groups."""
    longest = _Longest()
    for _ in range(most):
        if at >= end:
            return SoundEnd(at, longest.doubtful())  # no stream-end packet: the file cut short (past its end: said)
        packet = read_at(at, 11)
        size, length = 0, 2
        for byte in packet[2:11]:
            size, length = size << 7 | byte & 0x7F, length + 1
            if not byte & 0x80:
                break
        if not packet[:2].isalpha() or not packet[:2].isupper() or size < length:
            raise ValueError(f"no Musepack packet where one should start (byte {at:,}): the sound's end not found")
        longest.add(at, size)
        at += size
        if packet[:2] == b"SE":
            return SoundEnd(at, longest.doubtful())
    raise ValueError(f"more than {most:,} Musepack packets: the sound's end not found")
