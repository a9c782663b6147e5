"""PNG ancillary chunks that stop Pillow but not a browser: text or an ICC profile inflating past Pillow's
limits (PngImagePlugin.MAX_TEXT_CHUNK, MAX_TEXT_MEMORY), an unknown compression method, a bad checksum.

Browsers skip such chunks and show the picture; Pillow refuses the whole file, which would hide the picture
from PDQ. The chunks are left out of the stream, every other chunk copied byte for byte (CRCs intact), and
each one left out is named so the note can be recorded against the item.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PIL import PngImagePlugin

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT = (b"tEXt", b"zTXt", b"iTXt")


@dataclass(frozen=True)
class Readable:
    data: bytes  # the file itself, or the PNG without the chunks named in notes
    notes: tuple[str, ...] = ()


def _inflated_size(compressed: bytes) -> int | None:
    """Size inflated, up to Pillow's limit; None past it. Corrupt data reads as empty, as in Pillow."""
    inflater = zlib.decompressobj()
    try:
        plain = inflater.decompress(compressed, PngImagePlugin.MAX_TEXT_CHUNK)
    except zlib.error:
        return 0
    return None if inflater.unconsumed_tail else len(plain)


def _too_large() -> str:
    return f"inflates past {PngImagePlugin.MAX_TEXT_CHUNK:,} bytes (Pillow's MAX_TEXT_CHUNK)"


def _compressed_problem(method: int, compressed: bytes) -> tuple[str | None, int]:
    if method != 0:
        return f"uses unknown compression method {method}", 0
    size = _inflated_size(compressed)
    return (_too_large(), 0) if size is None else (None, size)


def _problem(kind: bytes, body: bytes) -> tuple[str | None, int]:
    """What makes Pillow refuse this chunk, if anything, and the text size it counts towards its memory cap."""
    key, _, rest = body.partition(b"\0")
    if kind == b"tEXt":
        return None, len(rest) if key else 0
    if kind == b"zTXt":
        return _compressed_problem(rest[0] if rest else 0, rest[1:])
    if kind == b"iCCP":
        if not rest:
            return "has no compression method", 0
        return _compressed_problem(rest[0], rest[1:])[0], 0
    if kind == b"iTXt":
        fields = rest[2:].split(b"\0", 2)
        if len(rest) < 2 or len(fields) < 3:
            return None, 0
        compressed, method, value = rest[0], rest[1], fields[2]
        if not compressed:
            return None, len(value)
        return _compressed_problem(method, value) if method == 0 else (None, 0)
    return None, 0


def _name(kind: bytes, body: bytes) -> str:
    key = body.partition(b"\0")[0][:79].decode("latin-1") if kind in (*_TEXT, b"iCCP") else ""
    return f"{kind.decode('latin-1')} chunk" + (f" {key!r}" if key else "")


def readable_png(data: bytes) -> Readable:
    """`data` as a PNG Pillow can decode: ancillary chunks it would refuse left out and named."""
    if not data.startswith(PNG_SIGNATURE):
        return Readable(data)
    view = memoryview(data)
    left_out: list[tuple[int, int]] = []
    notes: list[str] = []
    text_memory = 0
    position = len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        length = int.from_bytes(view[position : position + 4])
        end = position + 12 + length
        kind = bytes(view[position + 4 : position + 8])
        if end > len(data) or not kind[0] & 0x20:  # truncated (for the decoder to report), or critical
            position = end
            if kind == b"IEND":
                break
            continue
        body = bytes(view[position + 8 : end - 4])
        problem = None
        if zlib.crc32(view[position + 4 : end - 4]) != int.from_bytes(view[end - 4 : end]):
            problem = "has a bad checksum"
        else:
            problem, size = _problem(kind, body)
            if problem is None and text_memory + size > PngImagePlugin.MAX_TEXT_MEMORY:
                problem = f"takes text past {PngImagePlugin.MAX_TEXT_MEMORY:,} bytes (Pillow's MAX_TEXT_MEMORY)"
            elif problem is None:
                text_memory += size
        if problem:
            left_out.append((position, end))
            notes.append(f"PNG {_name(kind, body)} ({length:,} bytes) {problem}: left out so the pixels could be "
                         "decoded, as browsers do")
        position = end
    if not notes:
        return Readable(data)
    pieces, start = [], 0
    for first, end in left_out:
        pieces.append(view[start:first])
        start = end
    pieces.append(view[start:])
    return Readable(b"".join(pieces), tuple(notes))
