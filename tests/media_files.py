"""Audio and video containers written by hand (struct), around pictures the tests draw: ID3v2 tags, FLAC
metadata blocks, Ogg pages, MP4 boxes and Matroska (EBML) elements."""

from __future__ import annotations

import base64
import struct

MPEG_FRAMES = (b"\xff\xfb\x90\x00" + bytes(413)) * 4  # what follows a tag: MPEG audio frames (silent, unread)


def syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def unsynchronised(data: bytes) -> bytes:
    """A zero byte after each 0xFF that a false frame sync, or a zero, follows (and after a last 0xFF)."""
    out = bytearray()
    for index, byte in enumerate(data):
        out.append(byte)
        following = data[index + 1] if index + 1 < len(data) else 0
        if byte == 0xFF and (following >= 0xE0 or following == 0):
            out.append(0)
    return bytes(out)


def apic(picture: bytes, mime: bytes = b"image/jpeg", description: bytes = b"cover", encoding: int = 0) -> bytes:
    terminator = b"\0\0" if encoding in (1, 2) else b"\0"
    return bytes([encoding]) + mime + b"\0" + b"\x03" + description + terminator + picture


def id3_tag(major: int, frames: list[tuple[bytes, bytes]], unsync: bool = False) -> bytes:
    """An ID3v2.`major` tag of `frames` (id, data), with padding; `unsync`: unsynchronised (the whole tag in
    v2.3, each frame, flagged, in v2.4)."""
    body = b""
    for frame_id, data in frames:
        if major == 2:
            body += frame_id + len(data).to_bytes(3, "big") + data
        elif major == 3:
            body += frame_id + struct.pack(">IH", len(data), 0) + data
        else:
            data = unsynchronised(data) if unsync else data
            body += frame_id + syncsafe(len(data)) + struct.pack(">H", 0x0002 if unsync else 0) + data
    if unsync and major < 4:
        body = unsynchronised(body)
    body += bytes(64)
    return b"ID3" + bytes([major, 0, 0x80 if unsync else 0]) + syncsafe(len(body)) + body


def picture_block(picture: bytes, mime: bytes = b"image/png") -> bytes:
    """A FLAC PICTURE block's data (and a METADATA_BLOCK_PICTURE comment's, before base64)."""
    return struct.pack(">II", 3, len(mime)) + mime + struct.pack(">I", 5) + b"front" \
        + struct.pack(">IIIII", 96, 72, 24, 0, len(picture)) + picture


def flac(blocks: list[tuple[int, bytes]]) -> bytes:
    """A FLAC: its signature, a STREAMINFO, then `blocks` (type, data), the last flagged so, then audio frames."""
    return flac_sound(3, blocks=tuple(blocks))


def comments(*entries: bytes) -> bytes:
    """A Vorbis comment block: vendor, count, then each comment."""
    out = struct.pack("<I", 6) + b"vigie!" + struct.pack("<I", len(entries))
    for entry in entries:
        out += struct.pack("<I", len(entry)) + entry
    return out


def picture_comment(picture: bytes, mime: bytes = b"image/png") -> bytes:
    return b"METADATA_BLOCK_PICTURE=" + base64.b64encode(picture_block(picture, mime))


_CRC = []
for _n in range(256):
    _r = _n << 24
    for _ in range(8):
        _r = ((_r << 1) ^ 0x04C11DB7) if _r & 0x80000000 else _r << 1
    _CRC.append(_r & 0xFFFFFFFF)


def _ogg_crc(page: bytes) -> int:
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) ^ byte) & 0xFF]
    return crc


def ogg(packets: list[bytes], serial: int = 0x5EC1, ended: bool = False) -> bytes:
    """An Ogg stream of `packets`, each page at most 255 segments (a long packet spans pages); `ended`: its last
    page flagged as the stream's end."""
    lacing: list[tuple[int, bytes]] = []  # (lacing value, its bytes)
    for packet in packets:
        for at in range(0, len(packet) + 1, 255):
            piece = packet[at:at + 255]
            lacing.append((len(piece), piece))
            if len(piece) < 255:
                break
    out, sequence, continued = b"", 0, False
    while lacing:
        page, lacing = lacing[:255], lacing[255:]
        flags = (1 if continued else 0) | (2 if sequence == 0 else 0) | (4 if ended and not lacing else 0)
        header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, 0, serial, sequence, 0, len(page))
        data = header + bytes(value for value, _ in page) + b"".join(piece for _, piece in page)
        out += data[:22] + struct.pack("<I", _ogg_crc(data)) + data[26:]
        continued, sequence = page[-1][0] == 255, sequence + 1
    return out


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def covr(*pictures: tuple[int, bytes], title: bytes | None = None) -> bytes:
    """A `udta` box holding iTunes metadata whose `covr` holds `pictures` (type 13 JPEG, 14 PNG), after a
    `©nam` item (the title, as FFmpeg and iTunes write it first) where `title` is given."""
    data = b"".join(box(b"data", struct.pack(">II", kind, 0) + picture) for kind, picture in pictures)
    named = b"" if title is None else box(b"\xa9nam", box(b"data", struct.pack(">II", 1, 0) + title))
    ilst = box(b"ilst", named + box(b"covr", data))
    meta = box(b"meta", b"\0\0\0\0" + box(b"hdlr", bytes(8) + b"mdirappl" + bytes(9)) + ilst)
    return box(b"udta", meta)


def with_cover(mp4: bytes, udta: bytes) -> bytes:
    """`mp4` with `udta` added at the end of its `moov` (its sample offsets unchanged where moov is last)."""
    at = 0
    while at < len(mp4):
        size, kind = struct.unpack_from(">I4s", mp4, at)
        if kind == b"moov":
            moov = box(b"moov", mp4[at + 8:at + size] + udta)
            assert at + size == len(mp4), "moov last"
            return mp4[:at] + moov
        at += size
    raise AssertionError("no moov")


def ebml_id(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def ebml_size(size: int) -> bytes:
    return (size | (1 << 56)).to_bytes(8, "big")  # eight bytes, as many muxers write them


def element(identifier: int, payload: bytes) -> bytes:
    return ebml_id(identifier) + ebml_size(len(payload)) + payload


def attachment(name: bytes, mime: bytes, data: bytes) -> bytes:
    return element(0x61A7, element(0x466E, name) + element(0x4660, mime) + element(0x465C, data)
                   + element(0x46AE, b"\x01" * 8))


def riff_wave(tag: bytes) -> bytes:
    """A WAV of a little silence, its ID3 tag in an `id3 ` chunk after the sound (as taggers put it)."""
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 1601) + bytes(1601) + b"\0"
    chunks += b"id3 " + struct.pack("<I", len(tag)) + tag + b"\0" * (len(tag) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def aiff(tag: bytes) -> bytes:
    """An AIFF of a little silence, its ID3 tag in an `ID3 ` chunk."""
    comm = struct.pack(">hIh", 1, 800, 16) + b"\x40\x0b\xfa\x00" + bytes(6)  # 8,000 Hz as an 80-bit float
    chunks = b"COMM" + struct.pack(">I", len(comm)) + comm
    chunks += b"SSND" + struct.pack(">I", 8 + 1600) + bytes(8 + 1600)
    chunks += b"ID3 " + struct.pack(">I", len(tag)) + tag + b"\0" * (len(tag) % 2)
    return b"FORM" + struct.pack(">I", 4 + len(chunks)) + b"AIFF" + chunks


def appended_id3(frames: list[tuple[bytes, bytes]]) -> bytes:
    """An ID3v2.4 tag with a footer (`3DI`), as appended after the sound: no padding, the footer ends it."""
    body = id3_tag(4, frames)[10:].rstrip(b"\0")
    return b"ID3\x04\x00\x10" + syncsafe(len(body)) + body + b"3DI\x04\x00\x10" + syncsafe(len(body))


def ape_tag(items: list[tuple[bytes, int, bytes]], header: bool = True) -> bytes:
    """An APEv2 tag of `items` (key, kind: 0 text, 1 binary, 2 link; value), its footer, and a header before it."""
    body = b"".join(struct.pack("<II", len(value), kind << 1) + key + b"\0" + value for key, kind, value in items)
    flags = 1 << 31 if header else 0

    def block(extra: int) -> bytes:
        return b"APETAGEX" + struct.pack("<IIII", 2000, len(body) + 32, len(items), flags | extra) + bytes(8)

    return (block(1 << 29) if header else b"") + body + block(0)


ID3V1 = b"TAG" + b"a title".ljust(30, b"\0") + bytes(94) + b"\xff"  # the 128 bytes an MP3 may end with


def wm_picture(picture: bytes, mime: str = "image/png") -> bytes:
    """An ASF `WM/Picture` value: the picture's type, its length, MIME type and description, then the picture."""
    return b"\x03" + struct.pack("<I", len(picture)) + f"{mime}\0cover\0".encode("utf-16-le") + picture


def asf(small: bytes, large: bytes) -> bytes:
    """An ASF (a WMA) whose header holds `small` in its Extended Content Description and `large` in its Header
    Extension's Metadata Library (where pictures of 64 KiB and more go), then a data object."""
    name = "WM/Picture\0".encode("utf-16-le")

    def obj(guid: str, data: bytes) -> bytes:
        return bytes.fromhex(guid) + struct.pack("<Q", 24 + len(data)) + data

    title = "Title\0".encode("utf-16-le")
    content = struct.pack("<HH", 2, len(title)) + title + struct.pack("<HH", 0, 4) + "ab".encode("utf-16-le") \
        + struct.pack("<H", len(name)) + name + struct.pack("<HH", 1, len(small)) + small
    library = struct.pack("<H", 1) + struct.pack("<HHHHI", 0, 0, len(name), 1, len(large)) + name + large
    extension = bytes(16) + struct.pack("<HI", 6, 24 + len(library)) + obj("941c23449894d149a1411d134e457054",
                                                                           library)
    objects = obj("40a4d0d207e3d21197f000a0c95ea850", content) + obj("b503bf5f2ea9cf118ee300c00c205365", extension)
    header = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + struct.pack("<QIBB", 30 + len(objects), 2, 1, 2)
    return header + objects + obj("3626b2758e66cf11a6d900aa0062ce6c", bytes(2000))


def _crc(data: bytes, poly: int, width: int) -> int:
    """A CRC as FLAC's frames carry them: `poly`, no reflection, starting at zero."""
    crc, top, mask = 0, 1 << (width - 1), (1 << width) - 1
    for byte in data:
        crc ^= byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
    return crc


def flac_sound(frames: int, last_block: int = 1000, blocks: tuple[tuple[int, bytes], ...] = ()) -> bytes:
    """A FLAC whose STREAMINFO declares its samples (stereo, 16-bit, 44.1 kHz, blocks of 4,096, the last of
    `last_block`), `blocks` (type, data) after it, then `frames` frames of two constant subframes (silence that
    decodes), each closed by its CRC-16 and numbered as a fixed-block stream numbers them."""
    total = (frames - 1) * 4096 + last_block
    packed = (44100 << 44) | (1 << 41) | (15 << 36) | total
    info = struct.pack(">HH", 4096, 4096) + bytes(6) + packed.to_bytes(8, "big") + bytes(16)
    out = b"fLaC" + bytes([0x80 if not blocks else 0]) + (34).to_bytes(3, "big") + info
    for index, (kind, data) in enumerate(blocks):
        out += bytes([kind | (0x80 if index == len(blocks) - 1 else 0)]) + len(data).to_bytes(3, "big") + data
    for number in range(frames):
        last = number == frames - 1
        # block size code 12 (4,096), or 7 (16 bits follow); 44.1 kHz; left/right, 16 bits; the frame's number
        header = b"\xff\xf8" + bytes([(7 if last else 12) << 4 | 9, 0x18])
        header += bytes([number]) if number < 0x80 else bytes([0xC0 | number >> 6, 0x80 | number & 0x3F])
        header += (last_block - 1).to_bytes(2, "big") if last else b""
        header += bytes([_crc(header, 0x07, 8)])
        frame = header + (b"\x00" + struct.pack(">h", number % 7)) * 2  # two constant subframes
        out += frame + _crc(frame, 0x8005, 16).to_bytes(2, "big")
    return out


def adts(frames: int, payload: int = 200) -> bytes:
    """AAC in ADTS frames (LC, 44.1 kHz, stereo, no CRC), each of `payload` bytes of zeros after its header."""
    length = 7 + payload
    header = bytes([0xFF, 0xF1, 0x50, 0x80 | length >> 11, (length >> 3) & 0xFF, (length & 7) << 5 | 0x1F, 0xFC])
    return (header + bytes(payload)) * frames


def monkey(frames: int) -> bytes:
    """A Monkey's Audio file (3.99): its descriptor, whose lengths say where its sound ends, a header, and
    `frames` bytes of frames."""
    descriptor = b"MAC " + struct.pack("<HH7I", 3990, 0, 52, 24, 0, 0, frames, 0, 0) + bytes(16)
    return descriptor + struct.pack("<HHIIIHHI", 2000, 0, 73728, 1, 1000, 16, 2, 44100) + bytes(frames)


def wavpack(blocks: int) -> bytes:
    """A WavPack file of `blocks` blocks of 200 bytes, each its 32-byte header and its length."""
    header = b"wvpk" + struct.pack("<IHBBIIIII", 192, 0x410, 0, 0, 4410 * blocks, 0, 4410, 0x1000, 0)
    return (header + bytes(168)) * blocks


def musepack(packets: int) -> bytes:
    """A Musepack SV8 file: its stream header, `packets` audio packets, then its stream-end packet."""
    def packet(key: bytes, payload: bytes) -> bytes:
        return key + bytes([0x80 | (len(payload) + 4) >> 7, (len(payload) + 4) & 0x7F]) + payload
    return b"MPCK" + packet(b"SH", bytes(10)) + packet(b"AP", bytes(300)) * packets + packet(b"SE", b"")
