"""A picture's XMP packets, where each format keeps them: a JPEG's APP1 segments (its packet, then extended XMP
put together from its parts), a PNG's `iTXt` chunk of keyword `XML:com.adobe.xmp` (its text inflated where
compressed), a WebP's `XMP ` chunk, a HEIF's (HEIC, AVIF) `mime` item of content type `application/rdf+xml`
(`heif_exif.py`); a TIFF's tag 700 is read with its IFD (`hidden_pictures.py`). Each comes with what was missing
from it, or why it was not read (the packet then empty)."""

from __future__ import annotations

import struct
import zlib

from vigie.sources.exif_thumbnail import MAX_CHUNKS, png_chunks, riff_chunks
from vigie.sources.heif_exif import HEIF_TYPES, heif_items

Packet = tuple[bytes, str | None]  # the packet, and what was missing from it

_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_EXTENDED_XMP = b"http://ns.adobe.com/xmp/extension/\x00"
_EXTENDED_HEADER = 32 + 4 + 4  # the GUID (MD5 in hex) of the whole, its length, this part's offset in it
_PNG_KEYWORD = b"XML:com.adobe.xmp"
_XMP_TYPE = b"application/rdf+xml"
MOST_XMP_BYTES = 16 << 20  # one packet inflated, or one HEIF item: a phone's portrait keeps its pictures in base64
_LOOKED = "pictures in its XMP"


def xmp_packets(data: bytes, media_type: str) -> list[Packet]:
    """The XMP packets of a PNG, a WebP or a HEIF, each with why it could not be read (then empty)."""
    if media_type in HEIF_TYPES:
        items = heif_items(data, lambda kind, content: kind == b"mime" and content.startswith(_XMP_TYPE), "XMP",
                           _LOOKED, MOST_XMP_BYTES)
        return [_heif_packet(*found) for found in items.found] + [(b"", problem) for problem in items.problems]
    if media_type not in ("image/png", "image/webp"):
        return []
    chunks, walked = (png_chunks if media_type == "image/png" else riff_chunks)(data)
    found = [_png_text(body) for kind, body in chunks if kind == b"iTXt" and body.startswith(_PNG_KEYWORD + b"\x00")] \
        if media_type == "image/png" else [(body, None) for kind, body in chunks if kind == b"XMP "]
    return found + ([] if walked else [(b"", f"{_LOOKED} not looked for past {MAX_CHUNKS:,} chunks")])


def _heif_packet(item: int, content: bytes, packet: bytes) -> Packet:
    """A HEIF's XMP item, unless its content type gives an encoding after it (compressed, say)."""
    encoding = content.partition(b"\x00")[2]
    if encoding:
        return b"", f"{_LOOKED} not read: the XMP item {item} is encoded ({encoding.decode('ascii', 'replace')[:40]})"
    return packet, None


def _png_text(body: bytes) -> Packet:
    """An `iTXt` chunk's text: after the keyword, a compression flag and method, a language and a translated
    keyword, each ended by a zero byte."""
    flag = body[len(_PNG_KEYWORD) + 1:len(_PNG_KEYWORD) + 2]
    parts = body[len(_PNG_KEYWORD) + 3:].split(b"\x00", 2)
    text = parts[2] if len(parts) == 3 else b""
    if flag != b"\x01":
        return text, None
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(text, MOST_XMP_BYTES)
    except zlib.error:
        return b"", f"{_LOOKED} not read: its compressed iTXt text is corrupt"
    if inflater.unconsumed_tail:
        return text, f"{_LOOKED} not read past {MOST_XMP_BYTES:,} bytes of its inflated iTXt text"
    return text, None


def jpeg_xmp_packets(app1: list[bytes]) -> list[Packet]:
    """The XMP packet, then each extended XMP put together from its parts (in the order of their offsets, up
    to the first gap), each with what was missing from it."""
    found: list[Packet] = []
    extended: dict[bytes, dict[int, bytes]] = {}
    declared: dict[bytes, int] = {}
    for body in app1:
        if body.startswith(_XMP):
            found.append((body[len(_XMP):], None))
        elif body.startswith(_EXTENDED_XMP) and len(body) >= len(_EXTENDED_XMP) + _EXTENDED_HEADER:
            guid = body[len(_EXTENDED_XMP):len(_EXTENDED_XMP) + 32]
            length, offset = struct.unpack_from(">II", body, len(_EXTENDED_XMP) + 32)
            declared.setdefault(guid, length)
            extended.setdefault(guid, {}).setdefault(offset, body[len(_EXTENDED_XMP) + _EXTENDED_HEADER:])
    for guid, parts in extended.items():
        whole, at = [], 0
        while parts.get(at):
            whole.append(parts[at])
            at += len(parts[at])
        missing = None if at >= declared[guid] else (f"extended XMP not read past byte {at:,} of the "
                                                       f"{declared[guid]:,} it declares: a part is missing")
        found.append((b"".join(whole), missing))
    return found
