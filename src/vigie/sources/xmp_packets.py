"""A picture's XMP packets, where each format keeps them: a JPEG's APP1 segments (its packet, then extended XMP
put together from its parts), a PNG's `iTXt` chunk of keyword `XML:com.adobe.xmp` (or an older writer's `zTXt`
or `tEXt`; its text inflated where compressed), a WebP's `XMP ` chunk, a HEIF's (HEIC, AVIF) `mime` item of
content type `application/rdf+xml` (`heif_exif.py`); a TIFF's tag 700 is read with its IFD
(`hidden_pictures.py`). Each comes with what was missing from it, or why it was not read (the packet then
empty)."""

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
_PNG_TEXT = (b"iTXt", b"zTXt", b"tEXt")  # the specification's, and older writers' (ImageMagick's)
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
    found = [_png_text(kind, body) for kind, body in chunks if kind in _PNG_TEXT
             and body.startswith(_PNG_KEYWORD + b"\x00")] if media_type == "image/png" else \
        [(body, None) for kind, body in chunks if kind == b"XMP "]
    return found + ([] if walked else [(b"", f"{_LOOKED} not looked for past {MAX_CHUNKS:,} chunks")])


def _heif_packet(item: int, content: bytes, packet: bytes) -> Packet:
    """A HEIF's XMP item, unless its content type gives an encoding after it (compressed, say)."""
    encoding = content.partition(b"\x00")[2]
    if encoding:
        return b"", f"{_LOOKED} not read: the XMP item {item} is encoded ({encoding.decode('ascii', 'replace')[:40]})"
    return packet, None


def _png_text(kind: bytes, body: bytes) -> Packet:
    """A text chunk's text: after the keyword and a zero byte, an `iTXt`'s compression flag and method, its
    language and translated keyword (each ended by a zero byte); a `zTXt`'s compression method, its text always
    compressed; a `tEXt`'s text as it is."""
    text = body[len(_PNG_KEYWORD) + 1:]
    if kind == b"iTXt":
        parts = text[2:].split(b"\x00", 2)
        compressed, text = text[:1] == b"\x01", parts[2] if len(parts) == 3 else b""
    else:
        compressed, text = kind == b"zTXt", text[1:] if kind == b"zTXt" else text
    if not compressed:
        return text, None
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(text, MOST_XMP_BYTES)
    except zlib.error:
        return b"", f"{_LOOKED} not read: its compressed {kind.decode()} text is corrupt"
    if inflater.unconsumed_tail:
        return text, f"{_LOOKED} not read past {MOST_XMP_BYTES:,} bytes of its inflated {kind.decode()} text"
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
