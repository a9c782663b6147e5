from __future__ import annotations

import io
import tarfile
import zipfile

import pillow_heif
from PIL import Image

from vigie.demo.seizure import draw_picture
from vigie.sources.mediatype import SNIFF_BYTES, sniff


def _encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(buffer, fmt)
    return buffer.getvalue()


def test_images_are_typed_by_content() -> None:
    for fmt, expected in [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp"),
                          ("BMP", "image/bmp"), ("TIFF", "image/tiff"), ("AVIF", "image/avif")]:
        assert sniff(_encoded(fmt)[:512]) == expected, fmt


def test_heic_is_recognised() -> None:
    pillow_heif.register_heif_opener()
    assert sniff(_encoded("HEIF")[:512]) in ("image/heic", "image/heif")


def test_archives_videos_and_unknown_content() -> None:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("a.txt", "x")
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w") as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    assert sniff(zipped.getvalue()[:512]) == "application/zip"
    assert sniff(tarred.getvalue()[:512]) == "application/x-tar"
    assert sniff(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom") == "video/mp4"
    assert sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ") == "video/quicktime"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm") == "video/webm"
    assert sniff(b"RIFF\x00\x00\x00\x00AVI LIST") == "video/x-msvideo"
    assert sniff(b"hello") == "application/octet-stream"
    assert sniff(b"") == "application/x-empty"


def test_pictures_pillow_reads_and_tars_without_the_ustar_magic_are_typed_by_their_content() -> None:
    picture = draw_picture(5, (96, 72))
    for media_type, fmt, options in [("image/jp2", "JPEG2000", {}), ("image/jp2", "JPEG2000", {"no_jp2": True}),
                                     ("image/qoi", "QOI", {}), ("image/x-portable-anymap", "PPM", {}),
                                     ("image/tiff", "TIFF", {"big_tiff": True})]:
        out = io.BytesIO()
        picture.save(out, fmt, **options)
        assert sniff(out.getvalue()[:SNIFF_BYTES]) == media_type, (fmt, options)
    bmp = io.BytesIO()
    picture.save(bmp, "BMP")
    unsized = bmp.getvalue()[:2] + b"\0\0\0\0" + bmp.getvalue()[6:]  # a writer that left the file size out
    assert sniff(unsized[:SNIFF_BYTES]) == "image/bmp"
    header = bytearray(tarfile.TarInfo("k.jpg").tobuf(tarfile.USTAR_FORMAT))
    header[257:265] = b"\0" * 8  # v7: no magic, no version
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\0 ".encode()
    assert sniff(bytes(header)) == "application/x-tar"
    assert sniff(b"\x01" + bytes(511)) == "application/octet-stream"  # a checksum of zeros proves nothing
