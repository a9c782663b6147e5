"""Pictures a HEIF's EXIF item and a C2PA manifest store hide: an EXIF thumbnail in a HEIC's or AVIF's `Exif`
item, and each manifest's claim and ingredient thumbnails (an ingredient's shows the picture an edit was made
from). Every picture is drawn here (shapes and noise); the C2PA stores are built by hand, box by box."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

from conftest import jpeg_bytes, shared_data
from PIL import Image
from PIL.TiffImagePlugin import ImageFileDirectory_v2
from pillow_heif import register_heif_opener
from test_hidden_pictures import _scan

from vigie.config import Settings
from vigie.demo.hostile import exif_with_thumbnail
from vigie.demo.seizure import draw_picture
from vigie.records import ItemRecord
from vigie.signals.embedded import pictures_to_read
from vigie.signals.pdq import pdq_from_image
from vigie.sources.hidden_pictures import Hidden, hidden_pictures, names_before_a_zip_behind
from vigie.sources.reopen import read_item_bytes

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


def _tiff_with(store: bytes) -> bytes:
    """A TIFF of PICTURE with `store` in its IFD0's tag 0xCD41, as a DNG keeps it."""
    tags = ImageFileDirectory_v2()
    tags[0xCD41] = store
    tags.tagtype[0xCD41] = 7  # UNDEFINED: bytes
    buffer = io.BytesIO()
    PICTURE.save(buffer, "TIFF", tiffinfo=tags)
    return buffer.getvalue()


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


def test_c2pa_claim_and_ingredient_thumbnails_are_read_from_a_jpeg_a_png_a_webp_an_avif_and_a_tiff() -> None:
    claim, ingredient = _hidden(84), _hidden(85)
    store = _edit(claim, ingredient)
    expected = [(b"c2pa-claim-thumbnail.jpg", claim, None), (b"c2pa-ingredient-thumbnail.jpg", ingredient, None)]
    assert _found(_jpeg_with(store), "image/jpeg") == expected
    assert _found(_jpeg_with(store, packet=7000), "image/jpeg") == expected  # in packets, put together
    assert _found(_png_with(store), "image/png") == expected
    assert _found(_webp_with(store), "image/webp") == expected
    assert _found(_avif_with(store), "image/avif") == expected
    assert _found(_tiff_with(store), "image/tiff") == expected
    what = [hidden.what for hidden in hidden_pictures(_png_with(store), "image/png")]
    assert what == ["C2PA claim thumbnail (c2pa.thumbnail.claim.jpeg, manifest urn:uuid:edit)",
                    "C2PA ingredient thumbnail (c2pa.thumbnail.ingredient.jpeg, manifest urn:uuid:edit)"]
    # an edit of an edit: the first edit's manifest is kept with its own thumbnails; the same bytes once
    older = _manifest(b"urn:uuid:first", _thumbnail(b"c2pa.thumbnail.claim.jpeg", ingredient),
                      _thumbnail(b"c2pa.thumbnail.ingredient__1.png", _png_of(88), b"image/png"))
    twice = _store(older, _manifest(b"urn:uuid:second", _thumbnail(b"c2pa.thumbnail.claim.jpeg", claim),
                                    _thumbnail(b"c2pa.thumbnail.ingredient.jpeg", ingredient)))
    assert [found[0] for found in _found(_png_with(twice), "image/png")] == [
        b"c2pa-claim-thumbnail.jpg", b"c2pa-ingredient-thumbnail.png", b"c2pa-claim-thumbnail-2.jpg"]


def _png_of(seed: int) -> bytes:
    buffer = io.BytesIO()
    draw_picture(seed, (64, 48)).save(buffer, "PNG")
    return buffer.getvalue()


def test_c2pa_thumbnails_that_cannot_be_read_are_said_and_capped() -> None:
    claim, ingredient = _hidden(86), _hidden(87)
    store = _edit(claim, ingredient)
    missing = _found(_jpeg_with(store, packet=4000, skip=2), "image/jpeg")
    assert (b"c2pa-claim-thumbnail.jpg", None, "a C2PA store (JUMBF in APP11 segments) not read past its packet 1: "
                                               "a packet is missing") in missing
    assert not [data for _, data, _ in missing if data is not None]
    elsewhere = _store(_manifest(b"m", _thumbnail(b"c2pa.thumbnail.ingredient.jpeg", b"", toggles=2)))
    assert _found(_png_with(elsewhere), "image/png") == [(
        b"c2pa-ingredient-thumbnail.jpg", None, "C2PA ingredient thumbnail (c2pa.thumbnail.ingredient.jpeg, manifest "
                                                "m) not read: it is a reference to a file elsewhere, not its bytes")]
    no_bytes = _store(_manifest(b"m", _superbox(_EMBEDDED_FILE, b"c2pa.thumbnail.claim.jpeg")))
    assert "no bidb box" in str(_found(_png_with(no_bytes), "image/png")[0][2])
    cut = _edit(claim, ingredient)
    cut = cut.replace(struct.pack(">I", 8 + len(ingredient)) + b"bidb", struct.pack(">I", 10**6) + b"\xa9idb")
    (*_, said) = _found(_png_with(cut), "image/png")
    assert said[2] is not None and "a \xa9idb box at byte" in said[2]  # any four bytes said, not a failure
    assert "the C2PA thumbnails in it not read" in said[2]
    many = _store(_manifest(b"m", *(_thumbnail(b"c2pa.thumbnail.ingredient__%d.jpeg" % number, _hidden(number))
                                    for number in range(100, 118))))
    found = _found(_png_with(many), "image/png")
    assert [name for name, data, _ in found if data is not None][-1] == b"c2pa-ingredient-thumbnail-16.jpg"
    assert found[-1][2] == "more than 16 C2PA ingredient thumbnails: only the first 16 read"
    unreadable = _store(_manifest(b"m", *(_thumbnail(b"c2pa.thumbnail.ingredient__%d.jpeg" % number, b"", toggles=2)
                                          for number in range(10_000))))
    assert len(_found(_png_with(unreadable), "image/png")) == 17  # 16 said, then the cap


def test_a_thumbnail_that_shows_the_picture_is_no_item_an_ingredient_s_is() -> None:
    own = jpeg_bytes(PICTURE.resize((1024, 768)))  # as C2PA writers make it: larger than an EXIF thumbnail
    ingredient = _hidden(89)
    data = _jpeg_with(_edit(own, ingredient))
    record = ItemRecord(relpath="edited.jpg", size=len(data), mtime=0.0, media_type="image/jpeg")
    held = pictures_to_read(record, data, PICTURE, pdq_from_image(PICTURE).variants, Settings())
    assert [(picture.name, picture.data) for picture in held] == [(b"c2pa-ingredient-thumbnail.jpg", ingredient)]
    assert "its C2PA ingredient thumbnail (c2pa.thumbnail.ingredient.jpeg, manifest urn:uuid:edit) shows another " \
           "picture" in record.errors[0][1]


def test_a_scan_reads_them_as_items_and_reads_them_again(tmp_path: Path) -> None:
    hidden = {name: _hidden(seed) for seed, name in enumerate((
        "photo.avif!/exif-thumbnail.jpg", "boxes.heic!/exif-thumbnail.jpg", "edited.jpg!/c2pa-ingredient-thumbnail.jpg",
        "edited.png!/c2pa-ingredient-thumbnail.jpg", "edited.avif!/c2pa-ingredient-thumbnail.jpg",
        "edited.dng!/c2pa-ingredient-thumbnail.jpg"), 90)}
    own = jpeg_bytes(PICTURE.resize((160, 120)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    exif = b"Exif\x00\x00" + exif_with_thumbnail(hidden["photo.avif!/exif-thumbnail.jpg"])
    (evidence / "photo.avif").write_bytes(_saved("AVIF", exif))
    (evidence / "boxes.heic").write_bytes(_heif_by_hand(_exif_item(hidden["boxes.heic!/exif-thumbnail.jpg"])))
    (evidence / "edited.jpg").write_bytes(_jpeg_with(_edit(own, hidden["edited.jpg!/c2pa-ingredient-thumbnail.jpg"]),
                                                     packet=7000))
    (evidence / "edited.png").write_bytes(_png_with(_edit(own, hidden["edited.png!/c2pa-ingredient-thumbnail.jpg"])))
    (evidence / "edited.avif").write_bytes(_avif_with(_edit(own,
                                                            hidden["edited.avif!/c2pa-ingredient-thumbnail.jpg"])))
    (evidence / "edited.dng").write_bytes(_tiff_with(_edit(own, hidden["edited.dng!/c2pa-ingredient-thumbnail.jpg"])))
    items = _scan(tmp_path, evidence, hidden)
    for path, data in hidden.items():
        assert [match["label"] for match in items[path]["matches"]] == [path], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert not [path for path in items if "c2pa-claim-thumbnail" in path]  # each shows its own picture
    said = [error["message"] for error in items["boxes.heic"]["errors"] if error["stage"] == "exif-thumbnail"]
    assert said and "its picture could not be decoded" in said[0]


def test_the_thumbnails_of_real_c2pa_manifests_are_read() -> None:
    """Test files of the C2PA SDK: CA.jpg, an edit of another signed picture, keeps the picture it was made from
    as its ingredient's thumbnail; CACAE-uri-CA.jpg, edits of edits, each manifest's."""
    edited = shared_data("c2pa", "CA.jpg").read_bytes()
    found = hidden_pictures(edited, "image/jpeg")
    assert [hidden.name for hidden in found] == [b"c2pa-claim-thumbnail.jpg", b"c2pa-ingredient-thumbnail.jpg"]
    for hidden in found:
        assert hidden.data is not None and hidden.problem is None
        assert Image.open(io.BytesIO(hidden.data)).format == "JPEG"
    chain = hidden_pictures(shared_data("c2pa", "CACAE-uri-CA.jpg").read_bytes(), "image/jpeg")
    assert len({hashlib.sha256(hidden.data or b"").digest() for hidden in chain}) == len(chain) >= 3
    assert all(isinstance(hidden, Hidden) and hidden.problem is None for hidden in chain)
