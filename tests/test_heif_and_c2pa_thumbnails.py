"""Pictures a HEIF's EXIF item and a C2PA manifest store hide: an EXIF thumbnail in a HEIC's or AVIF's `Exif`
item, and each manifest's claim and ingredient thumbnails (an ingredient's shows the picture an edit was made
from). Every picture is drawn here (shapes and noise); the C2PA stores are built by hand, box by box."""

from __future__ import annotations

import io
import struct
import zlib

from conftest import jpeg_bytes
from pillow_heif import register_heif_opener

from vigie.demo.hostile import exif_with_thumbnail
from vigie.demo.seizure import draw_picture
from vigie.sources.hidden_pictures import hidden_pictures, names_before_a_zip_behind

register_heif_opener()

PICTURE = draw_picture(81, (320, 240))  # the picture each file shows
_STORE, _MANIFEST = "6332706100110010800000aa00389b71", "63326d6100110010800000aa00389b71"
_ASSERTIONS, _EMBEDDED_FILE = "6332617300110010800000aa00389b71", "40cb0c32bb8a489da70b2ad6f47f4369"
_C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")


def _hidden(seed: int) -> bytes:
    """A picture none of the files shows, to hide in one."""
    return jpeg_bytes(draw_picture(seed, (160, 120)))


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, body: bytes) -> bytes:
    return _box(kind, bytes((version, 0, 0, 0)) + body)


def _saved(kind: str, exif: bytes | None = None) -> bytes:
    """PICTURE as an AVIF (Pillow) or a HEIC (pillow-heif), its EXIF `exif`."""
    buffer = io.BytesIO()
    PICTURE.save(buffer, kind, **({} if exif is None else {"exif": exif}))
    return buffer.getvalue()


def _heif_by_hand(exif_item: bytes, method: int = 1, version: int = 1) -> bytes:
    """A HEIF of no picture at all: its `meta` box lists one item, of type `Exif`, that `iloc` (version 1, its
    construction method `method`) puts in the `idat` box, or (method 0) in an `mdat` after the `meta` box."""
    infe = _full_box(b"infe", 2, struct.pack(">HH4s", 1, 0, b"Exif") + b"\x00")
    iinf = _full_box(b"iinf", 0, struct.pack(">H", 1) + infe)

    def iloc(offset: int) -> bytes:
        item = struct.pack(">HHH", 1, method, 0) if version else struct.pack(">HH", 1, 0)
        return _full_box(b"iloc", version, bytes((0x44, 0x00)) + struct.pack(">H", 1) + item
                         + struct.pack(">HII", 1, offset, len(exif_item)))

    ftyp = _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")
    if method == 1:
        return ftyp + _full_box(b"meta", 0, iinf + iloc(0) + _box(b"idat", exif_item))
    meta_size = len(_full_box(b"meta", 0, iinf + iloc(0)))
    return ftyp + _full_box(b"meta", 0, iinf + iloc(len(ftyp) + meta_size + 8)) + _box(b"mdat", exif_item)


def _exif_item(thumbnail: bytes) -> bytes:
    """An `Exif` item as HEIF writers make it: the offset of the TIFF header after "Exif\\0\\0", then the EXIF."""
    return struct.pack(">I", 6) + b"Exif\x00\x00" + exif_with_thumbnail(thumbnail)


def _superbox(uuid: str, label: bytes, *contents: bytes) -> bytes:
    """A JUMBF superbox: its description box (its type's UUID, toggles: requestable and labelled, its label),
    then its content boxes."""
    return _box(b"jumb", _box(b"jumd", bytes.fromhex(uuid) + b"\x03" + label + b"\x00") + b"".join(contents))


def _thumbnail(label: bytes, picture: bytes, media_type: bytes = b"image/jpeg", toggles: int = 0) -> bytes:
    return _superbox(_EMBEDDED_FILE, label, _box(b"bfdb", bytes((toggles,)) + media_type + b"\x00"),
                     _box(b"bidb", picture))


def _manifest(label: bytes, *assertions: bytes) -> bytes:
    return _superbox(_MANIFEST, label, _superbox(_ASSERTIONS, b"c2pa.assertions", *assertions),
                     _superbox("6332636c00110010800000aa00389b71", b"c2pa.claim", _box(b"cbor", b"\xa0")))


def _store(*manifests: bytes) -> bytes:
    return _superbox(_STORE, b"c2pa", *manifests)


def _edit(claim: bytes, ingredient: bytes) -> bytes:
    """A store of one manifest: an edit's, its claim thumbnail and the thumbnail of the picture it was made from."""
    return _store(_manifest(b"urn:uuid:edit", _thumbnail(b"c2pa.thumbnail.claim.jpeg", claim),
                            _thumbnail(b"c2pa.thumbnail.ingredient.jpeg", ingredient)))


def _jpeg_with(store: bytes, packet: int = 20_000, skip: int | None = None) -> bytes:
    """A JPEG of PICTURE with `store` in APP11 segments: each "JP", the box's instance, its packet's number,
    then (after the first) the store's box header again and the next part of it."""
    segments = []
    for number, start in enumerate(range(0, len(store), packet), 1):
        body = b"JP\x02\x11" + struct.pack(">I", number) + (b"" if number == 1 else store[:8])
        body += store[start:start + packet]
        if number != skip:
            segments.append(b"\xff\xeb" + struct.pack(">H", len(body) + 2) + body)
    jpeg = jpeg_bytes(PICTURE)
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with(store: bytes) -> bytes:
    buffer = io.BytesIO()
    PICTURE.save(buffer, "PNG")
    data = buffer.getvalue()
    return data[:33] + _chunk(b"caBX", store) + data[33:]


def _webp_with(store: bytes) -> bytes:
    buffer = io.BytesIO()
    PICTURE.save(buffer, "WEBP", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + bytes(6))  # VP8X: chunks may follow
    data = buffer.getvalue() + b"C2PA" + struct.pack("<I", len(store)) + store + b"\x00" * (len(store) & 1)
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]


def _avif_with(store: bytes) -> bytes:
    """An AVIF of PICTURE with C2PA's `uuid` box after its own: the UUID, version and flags, the purpose, an
    8-byte offset, the store."""
    return _saved("AVIF") + _box(b"uuid", _C2PA_UUID + bytes(4) + b"manifest\x00" + bytes(8) + store)


def _found(data: bytes, media_type: str) -> list[tuple[bytes, bytes | None, str | None]]:
    return [(hidden.name, hidden.data, hidden.problem) for hidden in hidden_pictures(data, media_type)]


def test_the_exif_thumbnail_of_an_avif_and_a_heic_is_read_from_its_exif_item() -> None:
    thumbnail = _hidden(82)
    exif = b"Exif\x00\x00" + exif_with_thumbnail(thumbnail)
    assert _found(_saved("AVIF", exif), "image/avif") == [(b"exif-thumbnail.jpg", thumbnail, None)]
    assert _found(_saved("HEIF", exif), "image/heic") == [(b"exif-thumbnail.jpg", thumbnail, None)]
    # the boxes alone are read: the main picture need not be there, let alone decodable
    for method, version in ((1, 1), (0, 1), (0, 0)):
        heif = _heif_by_hand(_exif_item(thumbnail), method, version)
        assert _found(heif, "image/heif") == [(b"exif-thumbnail.jpg", thumbnail, None)], (method, version)
    assert b"exif-thumbnail.jpg" in names_before_a_zip_behind("image/avif")


def test_an_exif_item_that_cannot_be_read_is_said() -> None:
    thumbnail = _hidden(83)
    past = struct.pack(">I", 100_000) + exif_with_thumbnail(thumbnail)
    assert _found(_heif_by_hand(past), "image/heif") == [
        (b"exif-thumbnail.jpg", None, f"EXIF thumbnail not read: the EXIF item 1 gives its TIFF header the offset "
                                      f"100,000, past its {len(past):,} bytes")]
    referenced = _heif_by_hand(_exif_item(thumbnail), method=2)
    assert _found(referenced, "image/heif")[0][2] == ("EXIF thumbnail not read: the EXIF item 1 is built from "
                                                      "another item (iloc construction method 2): not read")
    cut = _heif_by_hand(_exif_item(thumbnail), method=0)
    (problem,) = [found[2] for found in _found(cut[:-100], "image/heif")]
    assert problem is not None and "beyond the" in problem
    assert _found(_heif_by_hand(_exif_item(thumbnail))[:60], "image/heif")[0][2] == (
        "EXIF thumbnail not looked for: a meta box at byte 24 runs past the box that holds it (cut short, or its "
        "size lies): the EXIF item in it not read")
    lying = _heif_by_hand(_exif_item(thumbnail)).replace(b"\x44\x00\x00\x01", b"\x44\x00\x00\x09", 1)
    assert _found(lying, "image/heif")[0][2] == "EXIF thumbnail not read: the HEIF's iinf or iloc box is cut short"
