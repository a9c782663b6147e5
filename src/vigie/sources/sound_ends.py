"""Where the sound of a Monkey's Audio, WavPack or Musepack file ends, by what its own structure says: a Monkey's
Audio descriptor's lengths (version 3.98 and later), WavPack's blocks walked by their lengths, Musepack SV8's
packets walked by theirs to its stream-end packet (`SE`). Where that cannot be checked (an older Monkey's Audio
header, a Musepack SV7's bit-packed frames, a structure that breaks off), ValueError says why.
"""

from __future__ import annotations

from collections.abc import Callable

_MONKEY_DESCRIPTOR = 52  # "MAC ", version, padding, six lengths, the frame data's high 32 bits, an MD5
_WAVPACK_HEADER = 32  # "wvpk", the block's length less 8, version, samples, flags, CRC


def packed_sound_end(read_at: Callable[[int, int], bytes], start: int, end: int, most: int) -> int:
    """Where the sound that starts at `start` (with its signature) ends, before `end` (where the tags after it
    start; `end` where its structure runs to it); at most `most` blocks or packets walked."""
    head = read_at(start, _MONKEY_DESCRIPTOR)
    if head.startswith(b"MAC "):
        found = _monkey_end(head, start)
    elif head.startswith(b"wvpk"):
        found = _wavpack_end(read_at, start, end, most)
    elif head.startswith(b"MPCK"):
        found = _musepack_end(read_at, start + 4, end, most)
    else:
        raise ValueError("a Musepack SV7 file, whose bit-packed frames are not walked: the sound's end not found")
    if found > end:
        raise ValueError(f"its structure says its sound runs to byte {found:,}, past where it ends (byte {end:,}): "
                         "cut short, or lengths that lie; the sound's end not found")
    return found


def _monkey_end(head: bytes, start: int) -> int:
    """The sum of the lengths a Monkey's Audio descriptor declares: itself, the header, the seek table, the WAV
    header, the frames, the WAV's terminating data."""
    version = int.from_bytes(head[4:6], "little")
    if version < 3980:
        raise ValueError(f"a Monkey's Audio file of version {version / 1000:.2f}, whose header does not say its "
                         "frames' length: the sound's end not found")
    lengths = [int.from_bytes(head[at:at + 4], "little") for at in range(8, 36, 4)]
    descriptor, header, seek_table, wav_header, frames, frames_high, terminating = lengths
    if len(head) < _MONKEY_DESCRIPTOR or descriptor < _MONKEY_DESCRIPTOR or header < 24:
        raise ValueError("a damaged Monkey's Audio descriptor: the sound's end not found")
    return start + descriptor + header + seek_table + wav_header + (frames_high << 32 | frames) + terminating


def _wavpack_end(read_at: Callable[[int, int], bytes], at: int, end: int, most: int) -> int:
    """Past WavPack's last block: blocks one after another, each told by its signature and length."""
    for _ in range(most):
        if at + _WAVPACK_HEADER > end:
            return max(at, end)  # a few stray bytes at most: a block cut short
        header = read_at(at, 8)
        size = int.from_bytes(header[4:8], "little")
        if not header.startswith(b"wvpk") or size < _WAVPACK_HEADER - 8:
            return at
        at += 8 + size
    raise ValueError(f"more than {most:,} WavPack blocks: the sound's end not found")


def _musepack_end(read_at: Callable[[int, int], bytes], at: int, end: int, most: int) -> int:
    """Past Musepack SV8's stream-end packet: packets one after another, each a two-letter key and its length
    (its key and itself counted) in 7-bit groups."""
    for _ in range(most):
        if at >= end:
            return at  # no stream-end packet: the file cut short (past its end: said)
        packet = read_at(at, 11)
        size, length = 0, 2
        for byte in packet[2:11]:
            size, length = size << 7 | byte & 0x7F, length + 1
            if not byte & 0x80:
                break
        if not packet[:2].isalpha() or not packet[:2].isupper() or size < length:
            raise ValueError(f"no Musepack packet where one should start (byte {at:,}): the sound's end not found")
        at += size
        if packet[:2] == b"SE":
            return at
    raise ValueError(f"more than {most:,} Musepack packets: the sound's end not found")
