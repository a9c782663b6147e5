"""Pictures in a picture's XMP wherever the format keeps it (a PNG's `iTXt` chunk, a WebP's `XMP ` chunk, a TIFF's
tag 700, a HEIF's `mime` item), and in any XMP property, not only Google's and Adobe's: base64 of a JPEG, a PNG, a
GIF or a WebP as the whole of a value. Every picture is drawn here (shapes and noise)."""

from __future__ import annotations

import base64
import io
import random
import struct
import zlib
from pathlib import Path

from conftest import jpeg_bytes
from PIL import Image, PngImagePlugin
from PIL.TiffImagePlugin import ImageFileDirectory_v2
from pillow_heif import register_heif_opener
from test_hidden_pictures import _scan

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources.hidden_pictures import hidden_pictures, names_before_a_zip_behind
from vigie.sources.reopen import read_item_bytes

register_heif_opener()

PICTURE = draw_picture(91, (320, 240))  # the picture each file shows


def _hidden(seed: int) -> bytes:
    return jpeg_bytes(draw_picture(seed, (160, 120)))


def _encoded(image: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


def _packet(description: bytes) -> bytes:
    return (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>'
            b"<rdf:Description " + description + b"</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>")


def _saved(kind: str, xmp: bytes) -> bytes:
    """PICTURE saved by Pillow (a HEIC by pillow-heif) with `xmp` as its XMP, where each format keeps it."""
    buffer = io.BytesIO()
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=True)
        PICTURE.save(buffer, kind, pnginfo=info)
    elif kind == "TIFF":
        tags = ImageFileDirectory_v2()
        tags[700] = xmp
        tags.tagtype[700] = 1  # BYTE, as writers store it
        PICTURE.save(buffer, kind, tiffinfo=tags)
    else:
        PICTURE.save(buffer, kind, xmp=xmp)
    return buffer.getvalue()


def test_google_s_pictures_are_read_from_the_xmp_of_a_png_a_webp_a_tiff_and_a_heif() -> None:
    before = _hidden(92)
    xmp = _packet(b'xmlns:GImage="http://ns.google.com/photos/1.0/image/" GImage:Data="'
                  + base64.b64encode(before) + b'">')
    for kind, media_type in (("PNG", "image/png"), ("WEBP", "image/webp"), ("TIFF", "image/tiff"),
                             ("HEIF", "image/heic"), ("AVIF", "image/avif")):
        found = hidden_pictures(_saved(kind, xmp), media_type)
        assert [(hidden.name, hidden.data, hidden.problem) for hidden in found] == [
            (b"xmp-GImage.jpg", before, None)], kind
        assert b"xmp-GImage.jpg" in names_before_a_zip_behind(media_type)
    for add in ("add_itxt", "add_text"):  # not compressed; and as older writers keep it, in tEXt and zTXt
        for compressed in (False, True):
            plain = io.BytesIO()
            info = PngImagePlugin.PngInfo()
            getattr(info, add)("XML:com.adobe.xmp", xmp.decode(), zip=compressed)
            PICTURE.save(plain, "PNG", pnginfo=info)
            assert [hidden.data for hidden in hidden_pictures(plain.getvalue(), "image/png")] == [before]


def test_a_picture_in_any_other_xmp_property_is_read_once_each_numbered_and_capped() -> None:
    before, other = _hidden(93), _hidden(94)
    png, gif = _encoded(draw_picture(95, (48, 32)), "PNG"), _encoded(draw_picture(96, (48, 32)), "GIF")
    webp = _encoded(draw_picture(97, (48, 32)), "WEBP")
    xmp = _packet(b'xmlns:GImage="http://ns.google.com/photos/1.0/image/" GImage:Data="'
                  + base64.b64encode(before) + b'" app:Snapshot = \'\n ' + base64.b64encode(other) + b"'>"
                  + b"<app:Preview><![CDATA[" + base64.encodebytes(png).decode().replace("\n", "&#xA;").encode()
                  + b"]]></app:Preview><app:Frames><rdf:Seq><rdf:li>\n" + base64.encodebytes(gif)
                  + b"</rdf:li><rdf:li>" + base64.b64encode(webp) + b"</rdf:li><rdf:li>"
                  + base64.b64encode(other) + b"</rdf:li></rdf:Seq></app:Frames>"  # the same bytes again
                  + b"<app:Note>/9j/ is how a JPEG's base64 starts</app:Note>"  # not the whole value
                  + b'<app:Sound>UklGR' + base64.b64encode(b"RIFF\x00\x00\x00\x00WAVEfmt ")[5:] + b"</app:Sound>")
    found = hidden_pictures(_saved("PNG", xmp), "image/png")
    assert [(hidden.name, hidden.data, hidden.what) for hidden in found[:5]] == [
        (b"xmp-GImage.jpg", before, "picture in its XMP (GImage:Data)"),  # read once, under its own name
        (b"xmp-picture-1.jpg", other, "picture in its XMP (app:Snapshot)"),
        (b"xmp-picture-2.png", png, "picture in its XMP (app:Preview)"),
        (b"xmp-picture-3.gif", gif, "picture in its XMP (rdf:li)"),
        (b"xmp-picture-4.webp", webp, "picture in its XMP (rdf:li)")]
    assert [hidden.problem for hidden in found] == [None] * 5 + [
        "picture in its XMP (app:Sound) not read: it holds no JPEG, PNG, GIF or WebP"]
    many = b"".join(b"<app:P%d>" % index + base64.b64encode(_hidden(100 + index)) + b"</app:P%d>" % index
                    for index in range(18))
    found = hidden_pictures(_saved("WEBP", _packet(b">" + many)), "image/webp")
    assert [hidden.name for hidden in found] == [b"xmp-picture-%d.jpg" % number for number in range(1, 17)]
    assert found[-1].problem == "18 other XMP properties hold a picture: only the first 16 are read"
    assert all(hidden.problem is None for hidden in found[:-1])
    assert b"xmp-picture-16.webp" in names_before_a_zip_behind("image/jpeg")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _box(kind: bytes, body: bytes, version: int | None = None) -> bytes:
    body = body if version is None else bytes((version, 0, 0, 0)) + body
    return struct.pack(">I", 8 + len(body)) + kind + body


def _heif_xmp(encoding: bytes, xmp: bytes = b"\x78\x9c") -> bytes:
    """A HEIF of no picture: one `mime` item of XMP, of content encoding `encoding` (none where empty), in the
    `meta` box's `idat`."""
    infe = _box(b"infe", struct.pack(">HH4s", 1, 0, b"mime") + b"\x00application/rdf+xml\x00" + encoding + b"\x00", 2)
    iloc = _box(b"iloc", bytes((0x44, 0x00)) + struct.pack(">HHHHHII", 1, 1, 1, 0, 1, 0, len(xmp)), 1)
    meta = _box(b"meta", _box(b"iinf", struct.pack(">H", 1) + infe, 0) + iloc + _box(b"idat", xmp), 0)
    return _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + meta


def test_hostile_xmp_elsewhere_is_said_never_a_crash() -> None:
    png = _encoded(PICTURE, "PNG")
    bomb = _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(b" " * (17 << 20)))
    assert [hidden.problem for hidden in hidden_pictures(png[:33] + bomb + png[33:], "image/png")] == [
        "pictures in its XMP not read past 16,777,216 bytes of its inflated iTXt text"]
    corrupt = _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00not zlib")
    assert [hidden.problem for hidden in hidden_pictures(png[:33] + corrupt + png[33:], "image/png")] == [
        "pictures in its XMP not read: its compressed iTXt text is corrupt"]
    assert [hidden.problem for hidden in hidden_pictures(_heif_xmp(b"deflate"), "image/heic")] == [
        "pictures in its XMP not read: the XMP item 1 is encoded (deflate)"]
    xmp = _packet(b'a:b="' + base64.b64encode(_hidden(98)) + b'">')
    assert [hidden.data for hidden in hidden_pictures(_heif_xmp(b"", xmp), "image/heic")] == [_hidden(98)]
    rng = random.Random(5)
    for kind, media_type in (("PNG", "image/png"), ("WEBP", "image/webp"), ("TIFF", "image/tiff"),
                             ("HEIF", "image/heic"), ("AVIF", "image/avif")):
        whole = _saved(kind, xmp)
        for _ in range(150):
            data = bytearray(whole)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            for hidden in hidden_pictures(bytes(data[:rng.randint(0, len(data))]), media_type):
                assert (hidden.data is None) != (hidden.problem is None) or hidden.problem, kind


def test_a_scan_reads_pictures_in_the_xmp_of_a_png_and_a_heif_as_items_and_again(tmp_path: Path) -> None:
    hidden = {"portrait.png!/xmp-GImage.jpg": _hidden(110), "portrait.png!/xmp-picture-1.jpg": _hidden(111),
              "photo.heic!/xmp-picture-1.jpg": _hidden(112), "scan.tif!/xmp-thumbnail.jpg": _hidden(113)}
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "portrait.png").write_bytes(_saved("PNG", _packet(
        b'GImage:Data="' + base64.b64encode(hidden["portrait.png!/xmp-GImage.jpg"]) + b'"><my:Copy>'
        + base64.b64encode(hidden["portrait.png!/xmp-picture-1.jpg"]) + b"</my:Copy>")))
    (evidence / "photo.heic").write_bytes(_saved("HEIF", _packet(
        b'my:Copy="' + base64.b64encode(hidden["photo.heic!/xmp-picture-1.jpg"]) + b'">')))
    (evidence / "scan.tif").write_bytes(_saved("TIFF", _packet(
        b'><xmp:Thumbnails><rdf:Alt><rdf:li><xmpGImg:image>'
        + base64.b64encode(hidden["scan.tif!/xmp-thumbnail.jpg"]) + b"</xmpGImg:image></rdf:li></rdf:Alt>"
        b"</xmp:Thumbnails>")))
    items = _scan(tmp_path, evidence, hidden)
    for path, data in hidden.items():
        assert [match["label"] for match in items[path]["matches"]] == [path], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    said = [error["message"] for error in items["portrait.png"]["errors"] if error["stage"] == "hidden-picture"]
    assert any("its picture in its XMP (my:Copy) shows another picture" in message for message in said)


def test_the_padding_a_writer_leaves_in_its_xmp_is_searched_in_one_pass() -> None:
    # XMP writers pad a packet with kilobytes of white space after its last tag; searched from each `>` back and
    # forth (two white-space runs around the optional CDATA), a camera's packet took half a second, and these
    # 400,000 spaces would take hours
    other = _hidden(98)
    xmp = _packet(b'app:Snapshot="' + base64.b64encode(other) + b'">').replace(
        b"</x:xmpmeta>", b"</x:xmpmeta>" + b" \n" * 200_000)
    found = hidden_pictures(_saved("PNG", xmp), "image/png")  # a JPEG's XMP holds 64 KiB
    assert [(hidden.name, hidden.data) for hidden in found] == [(b"xmp-picture-1.jpg", other)]
