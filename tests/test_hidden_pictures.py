"""Pictures a picture's metadata hides are read as its members: the EXIF thumbnail of a PNG (its `eXIf` chunk or
ImageMagick's hex "Raw profile type exif"), of a WebP and of a TIFF; Photoshop's thumbnail, Google's XMP
pictures and a FlashPix screen nail in a JPEG; a camera raw's SubIFD previews. Every picture is drawn here,
every container built byte by byte."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from conftest import exif_thumbnail, jpeg_bytes
from PIL import Image

from vigie.config import Settings
from vigie.demo.hostile import exif_with_thumbnail
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.matching.list_import import import_hash_list
from vigie.scan.pipeline import run_scan
from vigie.sources.hidden_pictures import Hidden, hidden_pictures
from vigie.sources.reopen import read_item_bytes
from vigie.store.sqlite import open_case

PICTURE = draw_picture(51, (320, 240))  # the picture each file shows
_GUID = hashlib.md5(b"extended").hexdigest().upper().encode()


def _hidden(seed: int) -> bytes:
    """A picture none of the files shows, to hide in one."""
    return jpeg_bytes(draw_picture(seed, (160, 120)))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(*chunks: bytes) -> bytes:
    """A PNG of PICTURE with `chunks` after its header."""
    buffer = io.BytesIO()
    PICTURE.save(buffer, "PNG")
    data = buffer.getvalue()
    return data[:33] + b"".join(chunks) + data[33:]


def _raw_profile(exif: bytes) -> bytes:
    """ImageMagick's text: a newline, the profile's type, its length, its hex in lines of 72."""
    text = exif.hex()
    return f"\nexif\n{len(exif):8d}\n".encode() + b"\n".join(
        text[at:at + 72].encode() for at in range(0, len(text), 72)) + b"\n"


def _webp(exif: bytes) -> bytes:
    buffer = io.BytesIO()
    PICTURE.save(buffer, "WEBP", exif=exif)
    return buffer.getvalue()


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def _jpeg(*segments: bytes) -> bytes:
    """A JPEG of PICTURE with `segments` after its start."""
    data = jpeg_bytes(PICTURE)
    return data[:2] + b"".join(segments) + data[2:]


def _photoshop(thumbnail: bytes, resource: int = 0x040C, declared: int | None = None) -> bytes:
    """An APP13 segment of Photoshop's image resources: a caption, then the thumbnail after its 28-byte header."""
    caption = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", 3) + b"IPT\x00"
    data = struct.pack(">IIIIIIHH", 1, 160, 120, 480, 57_600, len(thumbnail), 24, 1) + thumbnail
    size = len(data) if declared is None else declared
    resource_bytes = b"8BIM" + struct.pack(">H", resource) + b"\x00\x00" + struct.pack(">I", size) + data
    return _segment(0xED, b"Photoshop 3.0\x00" + caption + resource_bytes + b"\x00" * (len(data) & 1))


def _psd(thumbnail: bytes) -> bytes:
    """A greyscale PSD of 64x48 pixels whose image resources hold Photoshop's thumbnail."""
    resources = _photoshop(thumbnail)[4 + len(b"Photoshop 3.0\x00"):]  # the resources, from their APP13 segment
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 1, 48, 64, 8, 1)
    grey = bytes((x * 4 + y) % 256 for y in range(48) for x in range(64))
    return header + struct.pack(">I", 0) + struct.pack(">I", len(resources)) + resources + struct.pack(">IH", 0, 0) \
        + grey


def _xmp(description: bytes) -> bytes:
    return _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><rdf:RDF><rdf:Description " + description
                    + b"/></rdf:RDF></x:xmpmeta>")


def _extended_xmp(packet: bytes, part: int = 30_000) -> list[bytes]:
    """`packet` as extended XMP, in parts of `part` bytes, each its own APP1 segment."""
    return [_segment(0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + _GUID + struct.pack(">II", len(packet), at)
                     + packet[at:at + part]) for at in range(0, len(packet), part)]


def _portrait(picture: bytes, depth: bytes) -> bytes:
    """A phone's portrait: GImage:Data (the picture before the blur) and GDepth:Data in its extended XMP."""
    packet = (b'<x:xmpmeta><rdf:RDF><rdf:Description GImage:Mime="image/jpeg" GImage:Data="'
              + base64.b64encode(picture) + b'"><GDepth:Data>\n' + base64.encodebytes(depth)
              + b"</GDepth:Data></rdf:Description></rdf:RDF></x:xmpmeta>")
    return _jpeg(_xmp(b'xmpNote:HasExtendedXMP="' + _GUID + b'"'), *_extended_xmp(packet, 4000))


def _flashpix(screennail: bytes, part: int = 3000) -> list[bytes]:
    """APP2 FPXR segments: a contents list, then stream 1 (a property set holding `screennail`, bytes either
    side) in parts of `part` bytes, each with its offset in the stream."""
    name = "/Screen Nail".encode("utf-16-le") + b"\x00\x00"
    stream = b"\xfe\xff" + bytes(46) + screennail + bytes(7)
    contents = _segment(0xE2, b"FPXR\x00\x00\x01" + struct.pack(">HIB", 1, len(stream), 0) + name)
    return [contents, *(_segment(0xE2, b"FPXR\x00\x00\x02" + struct.pack(">HI", 1, at) + stream[at:at + part])
                        for at in range(0, len(stream), part))]


def _png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _ifd(entries: list[tuple[int, int, int, int]], following: int) -> bytes:
    """An IFD of (tag, type, count, value) entries, each value held in its field."""
    return struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + (struct.pack("<HH", value, 0) if kind == 3 else
                                                  struct.pack("<I", value)) for tag, kind, count, value in entries
    ) + struct.pack("<I", following)


def _raw(preview: bytes, thumbnail: bytes) -> bytes:
    """A camera raw as a TIFF: a small grey picture in IFD0, a JPEG preview in its SubIFD (NewSubfileType 1,
    JPEG compression, one strip), and a JPEG thumbnail in IFD1 (JPEGInterchangeFormat)."""
    width, height = 64, 48
    ifd0, sub, ifd1 = 8, 8 + 2 + 10 * 12 + 4, 8 + 2 + 10 * 12 + 4 + 2 + 4 * 12 + 4
    pixels = ifd1 + 2 + 2 * 12 + 4
    at_preview = pixels + width * height
    at_thumbnail = at_preview + len(preview)
    head = b"II" + struct.pack("<HI", 42, ifd0) + _ifd([
        (256, 3, 1, width), (257, 3, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, pixels), (277, 3, 1, 1), (278, 3, 1, height), (279, 4, 1, width * height), (330, 4, 1, sub)],
        ifd1)
    head += _ifd([(254, 4, 1, 1), (259, 3, 1, 7), (273, 4, 1, at_preview), (279, 4, 1, len(preview))], 0)
    head += _ifd([(513, 4, 1, at_thumbnail), (514, 4, 1, len(thumbnail))], 0)
    grey = bytes((x * 4 + y) % 256 for y in range(height) for x in range(width))
    return head + grey + preview + thumbnail


def _tiff_from_photoshop(thumbnail: bytes) -> bytes:
    """A TIFF of PICTURE as Photoshop saves one: its image resources, the thumbnail among them, in tag 34377."""
    resources = _photoshop(thumbnail)[4 + len(b"Photoshop 3.0\x00"):]
    buffer = io.BytesIO()
    PICTURE.save(buffer, "TIFF", tiffinfo={34377: resources})
    return buffer.getvalue()


def _countless_subifds(preview: bytes) -> bytes:
    """A TIFF whose IFD0 says it has a billion SubIFDs: nine offsets follow, each to the same preview's IFD."""
    offsets, sub = 8 + 2 + 12 + 4, 8 + 2 + 12 + 4 + 9 * 4
    at_preview = sub + 2 + 2 * 12 + 4
    return (b"II" + struct.pack("<HI", 42, 8) + _ifd([(330, 4, 10**9, offsets)], 0) + struct.pack("<9I", *[sub] * 9)
            + _ifd([(513, 4, 1, at_preview), (514, 4, 1, len(preview))], 0) + preview)


def test_the_exif_thumbnail_of_a_png_a_webp_and_a_tiff_is_read() -> None:
    thumbnail = _hidden(52)
    exif = exif_with_thumbnail(thumbnail)
    assert exif_thumbnail(_png(_chunk(b"eXIf", exif)), "image/png") == (thumbnail, None)
    text = _chunk(b"tEXt", b"Raw profile type exif\x00" + _raw_profile(b"Exif\x00\x00" + exif))
    assert exif_thumbnail(_png(text), "image/png") == (thumbnail, None)
    compressed = _chunk(b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(_raw_profile(exif)))
    assert exif_thumbnail(_png(compressed), "image/png") == (thumbnail, None)
    assert exif_thumbnail(_webp(exif), "image/webp") == (thumbnail, None)
    assert exif_thumbnail(_raw(_hidden(53), thumbnail), "image/tiff") == (thumbnail, None)
    assert exif_thumbnail(_png(), "image/png") == (None, None)
    assert exif_thumbnail(b"II+\x00\x08\x00\x00\x00" + bytes(16), "image/tiff") == (None, None)  # a BigTIFF
    # a TIFF's second page is a page (decoded as a frame), not an uncompressed thumbnail to say
    pages = io.BytesIO()
    PICTURE.save(pages, "TIFF", save_all=True, append_images=[PICTURE])
    assert exif_thumbnail(pages.getvalue(), "image/tiff") == (None, None)


def test_photoshop_s_thumbnail_and_google_s_xmp_pictures_are_read_from_a_jpeg() -> None:
    thumbnail, old, before, depth = _hidden(54), _hidden(55), _hidden(56), _png_of(draw_picture(57, (64, 48)))
    found = hidden_pictures(_jpeg(_photoshop(old, 0x0409), _photoshop(thumbnail)), "image/jpeg")
    assert [(hidden.name, hidden.data) for hidden in found] == [
        (b"photoshop-thumbnail-old.jpg", old), (b"photoshop-thumbnail.jpg", thumbnail)]
    found = hidden_pictures(_psd(thumbnail), "image/vnd.adobe.photoshop")
    assert [(hidden.name, hidden.data) for hidden in found] == [(b"photoshop-thumbnail.jpg", thumbnail)]
    portrait = _portrait(before, depth)
    assert portrait.count(b"http://ns.adobe.com/xmp/extension/") > 1  # split across segments
    found = hidden_pictures(portrait, "image/jpeg")
    assert [(hidden.name, hidden.data, hidden.problem) for hidden in found] == [
        (b"xmp-GImage.jpg", before, None), (b"xmp-GDepth.png", depth, None)]
    inline = _jpeg(_xmp(b'GImage:Data="' + base64.b64encode(before) + b'"'))  # in the XMP itself
    assert [hidden.data for hidden in hidden_pictures(inline, "image/jpeg")] == [before]
    thumbnails = (b'<xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType="Resource"><xapGImg:image>' +
                  base64.encodebytes(old).replace(b"\n", b"&#xA;") + b"</xapGImg:image></rdf:li></rdf:Alt>")
    adobe = _jpeg(_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + thumbnails + b"</x:xmpmeta>"))
    assert [(hidden.name, hidden.data) for hidden in hidden_pictures(adobe, "image/jpeg")] == [
        (b"xmp-thumbnail.jpg", old)]  # Adobe's XMP thumbnail, its base64 broken by entities
    renamed = _jpeg(_xmp(b'xmlns:g="http://ns.google.com/photos/1.0/depthmap/" g:Confidence=\'' +
                         base64.b64encode(depth) + b"'"))  # another prefix, single quotes
    assert [(hidden.name, hidden.data) for hidden in hidden_pictures(renamed, "image/jpeg")] == [
        (b"xmp-GDepth-Confidence.png", depth)]
    found = hidden_pictures(_jpeg(*_flashpix(old)), "image/jpeg")
    assert [(hidden.name, hidden.data, hidden.problem) for hidden in found] == [
        (b"flashpix-screennail.jpg", old, None)]
    found = hidden_pictures(_tiff_from_photoshop(thumbnail), "image/tiff")
    assert [(hidden.name, hidden.data) for hidden in found] == [(b"photoshop-thumbnail.jpg", thumbnail)]
    raw = _raw(before, thumbnail)
    assert [(hidden.name, hidden.data) for hidden in hidden_pictures(raw, "image/tiff")] == [
        (b"exif-thumbnail.jpg", thumbnail), (b"subifd-1.jpg", before)]


def _problems(found: list[Hidden]) -> list[str]:
    return [hidden.problem for hidden in found if hidden.problem]


def test_hostile_metadata_is_read_within_bounds_and_said() -> None:
    thumbnail = _hidden(58)
    garbage = _jpeg(_xmp(b'GImage:Data="not*base64!"'))
    assert _problems(hidden_pictures(garbage, "image/jpeg")) == [
        "picture in its XMP (GImage:Data) not read: it is not base64"]
    text = _jpeg(_xmp(b'GImage:Data="' + base64.b64encode(b"plain words, no picture") + b'"'))
    assert "holds no JPEG, PNG, GIF or WebP" in _problems(hidden_pictures(text, "image/jpeg"))[0]
    two = _jpeg(_xmp(b'GImage:Data="' + base64.b64encode(thumbnail) + b'"'), _xmp(b'GImage:Data="AAAA"'))
    [first] = hidden_pictures(two, "image/jpeg")
    assert first.data == thumbnail and "more than one" in (first.problem or "")
    bindings = b" ".join(b'xmlns:g%d="http://ns.google.com/photos/1.0/image/"' % index for index in range(20))
    assert _problems(hidden_pictures(_jpeg(_xmp(bindings)), "image/jpeg")) == [
        "more than 16 prefixes bound to Google's or Adobe's picture namespaces: later ones not read"]
    resources = b"8BIM\x04\x04\x00\x00\x00\x00\x00\x00" * 10_001 + _photoshop(thumbnail)[4 + 14:]
    countless = _jpeg(*[_segment(0xED, b"Photoshop 3.0\x00" + resources[at:at + 60_000])
                        for at in range(0, len(resources), 60_000)])  # joined across segments
    assert _problems(hidden_pictures(countless, "image/jpeg")) == [
        "Photoshop thumbnail not looked for past 10,000 image resources"]
    lying = _jpeg(_photoshop(thumbnail, declared=10**9))  # a length far past the segment
    assert _problems(hidden_pictures(lying, "image/jpeg")) == [
        "Photoshop thumbnail not read: its resource is cut short"]
    portrait = _portrait(thumbnail, thumbnail)
    start = portrait.index(b"\xff\xe1", portrait.index(b"http://ns.adobe.com/xmp/extension/") + 10)
    gap = portrait[:start] + portrait[start + 4 + int.from_bytes(portrait[start + 2:start + 4], "big") - 2:]
    assert "extended XMP not read past byte 4,000 of the" in _problems(hidden_pictures(gap, "image/jpeg"))[0]
    parts = _flashpix(thumbnail)
    missing = hidden_pictures(_jpeg(*parts[:2], *parts[3:]), "image/jpeg")
    assert _problems(missing) == ["FlashPix screen nail not read: its JPEG is cut short",
                                  "FlashPix stream 1 not read past byte 3,000: a part is missing"]
    beyond = bytearray(_countless_subifds(thumbnail))
    struct.pack_into("<I", beyond, 8 + 2 + 8, 10**8)  # the SubIFDs' offsets far past the file
    assert _problems(hidden_pictures(bytes(beyond), "image/tiff")) == [
        "SubIFD previews not read: their offsets lie beyond the file"]
    many = hidden_pictures(_countless_subifds(thumbnail), "image/tiff")
    assert [hidden.data for hidden in many[:8]] == [thumbnail] * 8
    assert _problems(many) == ["1,000,000,000 SubIFDs: only the first 8 were read"]
    bomb = _chunk(b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(b"0" * (5 << 20)))
    assert "inflates past 4,194,304 bytes" in (exif_thumbnail(_png(bomb), "image/png").problem or "")
    countless = _png(*[_chunk(b"teXt", b"")] * 100_001)
    assert "not looked for past 100,000 chunks" in (exif_thumbnail(countless, "image/png").problem or "")
    not_hex = _chunk(b"tEXt", b"Raw profile type exif\x00\nexif\n 4\nzz\n")
    assert "not hexadecimal" in (exif_thumbnail(_png(not_hex), "image/png").problem or "")


def _scan(tmp_path: Path, evidence: Path, listed: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    """Scan `evidence` against a list of the SHA-256 of each picture in `listed`, by label."""
    hash_list = tmp_path / "known.csv"
    hash_list.write_text("sha256,label\n" + "".join(f"{hashlib.sha256(data).hexdigest()},{label}\n"
                                                    for label, data in listed.items()))
    store = open_case(tmp_path / "case", create=True)
    try:
        import_hash_list(store, hash_list, Settings())
        run_scan(store, [str(evidence)], Settings(workers=1, detector=False, watermarks=False))
        report = json.loads(render(store, "json"))
    finally:
        store.close()
    return {item["path"].removeprefix(str(evidence) + "/"): item for item in report["items"]}


def test_a_scan_finds_each_hidden_picture_at_its_member_path_and_reads_it_again(tmp_path: Path) -> None:
    hidden = {name: _hidden(seed) for seed, name in enumerate((
        "photo.png!/exif-thumbnail.jpg", "profile.png!/exif-thumbnail.jpg", "photo.webp!/exif-thumbnail.jpg",
        "edited.jpg!/photoshop-thumbnail.jpg", "portrait.jpg!/xmp-GImage.jpg", "raw.dng!/subifd-1.jpg",
        "raw.dng!/exif-thumbnail.jpg", "kodak.jpg!/flashpix-screennail.jpg", "layers.psd!/photoshop-thumbnail.jpg",
        "saved.tif!/photoshop-thumbnail.jpg", "adobe.jpg!/xmp-thumbnail.jpg"), 60)}
    depth = _png_of(draw_picture(70, (64, 48)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    exif = exif_with_thumbnail(hidden["photo.png!/exif-thumbnail.jpg"])
    (evidence / "photo.png").write_bytes(_png(_chunk(b"eXIf", exif)))
    profile = _raw_profile(b"Exif\x00\x00" + exif_with_thumbnail(hidden["profile.png!/exif-thumbnail.jpg"]))
    (evidence / "profile.png").write_bytes(_png(_chunk(b"zTXt", b"Raw profile type exif\x00\x00" +
                                                      zlib.compress(profile))))
    (evidence / "photo.webp").write_bytes(_webp(exif_with_thumbnail(hidden["photo.webp!/exif-thumbnail.jpg"])))
    (evidence / "edited.jpg").write_bytes(_jpeg(_photoshop(hidden["edited.jpg!/photoshop-thumbnail.jpg"])))
    (evidence / "portrait.jpg").write_bytes(_portrait(hidden["portrait.jpg!/xmp-GImage.jpg"], depth))
    (evidence / "raw.dng").write_bytes(_raw(hidden["raw.dng!/subifd-1.jpg"], hidden["raw.dng!/exif-thumbnail.jpg"]))
    (evidence / "kodak.jpg").write_bytes(_jpeg(*_flashpix(hidden["kodak.jpg!/flashpix-screennail.jpg"])))
    (evidence / "layers.psd").write_bytes(_psd(hidden["layers.psd!/photoshop-thumbnail.jpg"]))
    thumbnail = base64.b64encode(hidden["adobe.jpg!/xmp-thumbnail.jpg"])
    (evidence / "adobe.jpg").write_bytes(_jpeg(_xmp(b'xmlns:t="http://ns.adobe.com/xap/1.0/g/img/" t:image="' +
                                                    thumbnail + b'"')))
    (evidence / "saved.tif").write_bytes(_tiff_from_photoshop(hidden["saved.tif!/photoshop-thumbnail.jpg"]))
    own = jpeg_bytes(PICTURE.resize((160, 120)))  # Photoshop's thumbnail of the picture itself: no item
    (evidence / "own.jpg").write_bytes(_jpeg(_photoshop(own)))
    (evidence / "copy.png").write_bytes((evidence / "photo.png").read_bytes())  # a copy reads its own

    items = _scan(tmp_path, evidence, hidden)
    for path, data in hidden.items():
        assert [match["label"] for match in items[path]["matches"]] == [path], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert items["copy.png!/exif-thumbnail.jpg"]["matches"][0]["label"] == "photo.png!/exif-thumbnail.jpg"
    assert items["portrait.jpg!/xmp-GDepth.png"]["sha256"] == hashlib.sha256(depth).hexdigest()
    said = [error for error in items["edited.jpg"]["errors"] if error["stage"] == "hidden-picture"]
    assert "its Photoshop thumbnail shows another picture" in said[0]["message"]
    assert "!/photoshop-thumbnail.jpg" in said[0]["message"]
    assert not [path for path in items if path.startswith("own.jpg!/")] and not items["own.jpg"]["errors"]


def test_a_zip_behind_a_jpeg_never_takes_a_hidden_picture_s_path(tmp_path: Path) -> None:
    thumbnail, decoy = _hidden(71), _hidden(72)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("photoshop-thumbnail.jpg", decoy)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "cover.jpg").write_bytes(_jpeg(_photoshop(thumbnail)) + zipped.getvalue())
    png_thumbnail, png_decoy = _hidden(73), _hidden(74)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("exif-thumbnail.jpg", png_decoy)
    with zipfile.ZipFile(evidence / "sent.zip", "w") as archive:  # read in memory, as a member
        archive.writestr("cover.png", _png(_chunk(b"eXIf", exif_with_thumbnail(png_thumbnail))) + zipped.getvalue())
    listed = {"thumbnail": thumbnail, "decoy": decoy, "png thumbnail": png_thumbnail, "png decoy": png_decoy}
    items = _scan(tmp_path, evidence, listed)
    paths = {"cover.jpg!/photoshop-thumbnail.jpg": "thumbnail", "cover.jpg!/photoshop-thumbnail.jpg!2": "decoy",
             "sent.zip!/cover.png!/exif-thumbnail.jpg": "png thumbnail",
             "sent.zip!/cover.png!/exif-thumbnail.jpg!2": "png decoy"}
    for path, label in paths.items():
        assert [match["label"] for match in items[path]["matches"]] == [label], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == listed[label], path


def test_vigie_hash_gives_a_line_for_each_hidden_picture_that_is_an_item(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vigie.cli import main

    thumbnail, before = _hidden(75), _hidden(76)
    photo = tmp_path / "portrait.jpg"
    photo.write_bytes(_jpeg(_photoshop(thumbnail), _xmp(b'GImage:Data="' + base64.b64encode(before) + b'"')))
    result = CliRunner().invoke(main, ["hash", str(photo)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(line["path"], line["sha256"]) for line in lines[1:]] == [
        (f"{photo}!/photoshop-thumbnail.jpg", hashlib.sha256(thumbnail).hexdigest()),
        (f"{photo}!/xmp-GImage.jpg", hashlib.sha256(before).hexdigest())]


def test_element_forms_of_xmp_a_second_photoshop_thumbnail_and_a_second_exif_are_read_or_said(tmp_path: Path
                                                                                              ) -> None:
    before, other, own = _hidden(60), _hidden(61), jpeg_bytes(PICTURE.resize((160, 120)))
    encoded = base64.b64encode(before)
    for element in (b"<GImage:Data >" + encoded + b"</GImage:Data >",
                    b'<GImage:Data rdf:parseType="Literal">\n' + encoded + b"\n</GImage:Data>",
                    b"<GImage:Data><![CDATA[" + encoded + b"]]></GImage:Data>"):
        packet = b"<x:xmpmeta><rdf:RDF><rdf:Description>" + element + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
        found = hidden_pictures(_jpeg(_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet)), "image/jpeg")
        assert [(hidden.name, hidden.data, hidden.problem) for hidden in found] == [(b"xmp-GImage.jpg", before, None)]
    resources = _photoshop(own) + _photoshop(other)[4 + len(b"Photoshop 3.0\x00"):]
    both = _segment(0xED, resources[4:])
    [first] = hidden_pictures(_jpeg(both), "image/jpeg")
    assert first.data == own and first.problem == "more than one Photoshop thumbnail: only the first is read"
    exif = [_segment(0xE1, b"Exif\x00\x00" + exif_with_thumbnail(thumbnail)) for thumbnail in (own, other, own)]
    found = hidden_pictures(_jpeg(*exif), "image/jpeg")
    assert [(hidden.name, hidden.data) for hidden in found] == [(b"exif-thumbnail.jpg", own),
                                                                (b"exif-thumbnail-2.jpg", other)]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "edited.jpg").write_bytes(_jpeg(*exif))  # the first thumbnail shows the picture: no item
    items = _scan(tmp_path, evidence, {"another": other})
    assert [match["label"] for match in items["edited.jpg!/exif-thumbnail-2.jpg"]["matches"]] == ["another"]
    assert read_item_bytes(str(evidence), "edited.jpg!/exif-thumbnail-2.jpg", Settings(), 10**7) == other
    assert items["edited.jpg!/exif-thumbnail.jpg"]["sha256"] == hashlib.sha256(own).hexdigest()
