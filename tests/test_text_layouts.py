"""Base64 laid out in text as markup, JSON, YAML and mail write it: after other text on its line (a Word 2003
`<w:binData>`, a one-line JSON field), wrapped with JSON's `\\n` escapes, indented, in short lines far in, two blocks
with no line between; a word alone after it; lines that end in a lone CR (an old Mac's); text in UTF-16. Each
picture is a member whose bytes are exactly the picture's."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

from conftest import jpeg_bytes, scanned_report
from PIL import PngImagePlugin

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources.members import ArchiveLimitError, Expansion
from vigie.sources.reopen import read_item_bytes
from vigie.sources.text_members import text_members
from vigie.sources.textborne import CLUES_CHUNK, clues_in

HEADER = b"".join(b"line %d of an ordinary preamble, with words, commas and so on.\n" % n for n in range(20))


def _png(seed: int, multiple: int = 1, size: tuple[int, int] = (40, 30)) -> bytes:
    """A PNG drawn from `seed`, its size a multiple of `multiple` (a text chunk's length chosen so)."""
    picture = draw_picture(seed, size)
    for pad in range(200):
        info = PngImagePlugin.PngInfo()
        info.add_text("c", "x" * pad)
        buffer = io.BytesIO()
        picture.save(buffer, "PNG", pnginfo=info)
        if len(buffer.getvalue()) % multiple == 0:
            return buffer.getvalue()
    raise AssertionError("no size found")


def _jpeg(seed: int, multiple: int = 1) -> bytes:
    """A JPEG drawn from `seed`, its size a multiple of `multiple` (a comment segment's length chosen so)."""
    plain = jpeg_bytes(draw_picture(seed, (64, 48)))
    pad = -(len(plain) + 4) % multiple
    return plain[:2] + b"\xff\xfe" + struct.pack(">H", pad + 2) + b"c" * pad + plain[2:]


def _scanned(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, dict[str, dict[str, Any]]]:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    return evidence, items


def _exact(evidence: Path, items: dict[str, dict[str, Any]], expected: dict[str, bytes]) -> None:
    for path, picture in expected.items():
        assert path in items, (path, sorted(items))
        assert items[path]["sha256"] == hashlib.sha256(picture).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path


def _errors(item: dict[str, Any]) -> str:
    return " ".join(error["message"] for error in item["errors"])


def _wrapped(data: bytes, width: int, indent: bytes = b"", end: bytes = b"\n") -> bytes:
    encoded = base64.b64encode(data)
    return b"".join(indent + encoded[at:at + width] + end for at in range(0, len(encoded), width))


def test_base64_after_other_text_on_its_line_indented_escaped_or_short_is_found(tmp_path: Path) -> None:
    pngs = [_png(seed) for seed in range(40, 44)]
    jpegs = [_jpeg(seed) for seed in range(50, 56)]
    encoded = [base64.b64encode(picture) for picture in jpegs]
    first_line = base64.encodebytes(pngs[0])
    icon = io.BytesIO()
    draw_picture(47, (32, 32)).save(icon, "ICO")
    files = {
        # Word 2003 XML: the picture's base64 on the tag's line, then on the lines after it
        "word.xml": b'<?xml version="1.0"?>\n<w:wordDocument>\n' + HEADER + b'<w:pict><w:binData w:name="wordml://1.png">'
                    + first_line + b"</w:binData></w:pict>\n</w:wordDocument>\n",
        "one_line.json": json.dumps({"notes": HEADER.decode(), "photo": encoded[0].decode(), "id": 7}).encode(),
        "slashes.json": json.dumps({"notes": HEADER.decode(), "photo": encoded[0].decode()}).replace("/", "\\/")
                        .encode(),  # as PHP writes it
        "escaped.json": json.dumps({"notes": HEADER.decode(),
                                    "photo": base64.encodebytes(jpegs[1]).decode()}, indent=2).encode(),
        "crlf_escaped.json": json.dumps({"notes": HEADER.decode(), "photo": base64.encodebytes(jpegs[2]).decode()
                                         .replace("\n", "\r\n")}).encode(),
        "indented.xml": b"<export>\n" + HEADER + b"  <item>\n    <photo>\n" + _wrapped(pngs[1], 76, b"      ")
                        + b"    </photo>\n  </item>\n</export>\n",
        "photo.yaml": b"notes: |\n" + HEADER.replace(b"line", b"  line") + b"photo: " + encoded[3] + b"\n"
                      + b"thumb: |\n" + _wrapped(pngs[2], 64, b"  ") + b"done: true\n",
        "short.txt": HEADER + b"\n" + _wrapped(jpegs[4], 32),
        "short.xml": HEADER + b"<photo>" + _wrapped(jpegs[4], 32).rstrip() + b"</photo>\n",  # on the tag's line
        "notebook.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": ["plot()\n"] * 40, "outputs": [
            {"data": {"image/png": base64.b64encode(pngs[2]).decode() + "\n", "text/plain": ["<Figure>"]}}]}]},
            indent=1).encode(),  # a Jupyter notebook's figure
        "icon.json": json.dumps({"notes": HEADER.decode(), "favicon": base64.b64encode(icon.getvalue()).decode()})
                     .encode(),
        # blocks with no line between: after a shorter last line, and after a full one
        "two.txt": HEADER + _wrapped(jpegs[5], 76) + _wrapped(pngs[3], 76) + _wrapped(_png(45, 57), 76)
                   + _wrapped(_png(46, 57), 76),
    }
    evidence, items = _scanned(tmp_path, files)
    _exact(evidence, items, {
        "word.xml!/base64-1.png": pngs[0], "one_line.json!/base64-1.jpeg": jpegs[0],
        "slashes.json!/base64-1.jpeg": jpegs[0],
        "escaped.json!/base64-1.jpeg": jpegs[1], "crlf_escaped.json!/base64-1.jpeg": jpegs[2],
        "indented.xml!/base64-1.png": pngs[1], "photo.yaml!/base64-1.jpeg": jpegs[3],
        "photo.yaml!/base64-2.png": pngs[2], "short.txt!/base64-1.jpeg": jpegs[4], "short.xml!/base64-1.jpeg": jpegs[4],
        "icon.json!/base64-1.vnd.microsoft.icon": icon.getvalue(),
        "notebook.ipynb!/base64-1.png": pngs[2],
        "two.txt!/base64-1.jpeg": jpegs[5], "two.txt!/base64-2.png": pngs[3],
        "two.txt!/base64-3.png": _png(45, 57), "two.txt!/base64-4.png": _png(46, 57)})
    for name in files:
        assert items[name]["media_type"] == "text/plain", name
        assert not [path for path in items if path.startswith(name + "!/") and items[path]["errors"]], name


def test_ordinary_text_with_long_words_paths_and_hashes_is_left_alone(tmp_path: Path) -> None:
    paths = b"".join(b"2026-01-01 INFO /home/user/projects/someproject/src/main/java/org/Module%d.java loaded\n" % n
                     for n in range(3000))
    tokens = json.dumps({"tokens": [hashlib.sha512(b"%d" % n).hexdigest() for n in range(300)],
                         "keys": [base64.b64encode(hashlib.sha256(b"%d" % n).digest()).decode()
                                  for n in range(300)],
                         "bm": [base64.b64encode(b"BM" + hashlib.sha256(b"%d" % n).digest()).decode()
                                for n in range(30)]}).encode()  # `Qk...`: as a BMP's base64 starts
    _, items = _scanned(tmp_path, {"app.log": paths, "tokens.json": tokens})
    for name in ("app.log", "tokens.json"):
        assert items[name]["media_type"] == "application/octet-stream" and not items[name]["errors"], name
    assert sorted(items) == ["app.log", "tokens.json"]


def _tiff(seed: int) -> bytes:
    """A small TIFF whose base64 needs no padding (a description's length chosen so)."""
    for pad in range(3):
        buffer = io.BytesIO()
        draw_picture(seed, (6, 4)).save(buffer, "TIFF", description="x" * (8 + pad))
        if len(buffer.getvalue()) % 3 == 0:
            return buffer.getvalue()
    raise AssertionError("no size found")


def _unpadded_zip(inside: bytes) -> bytes:
    """A zip of one file whose base64 needs no padding (its comment made longer)."""
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("inside", inside)
    bundle = zipped.getvalue()
    while len(bundle) % 3:
        bundle = bundle[:-2] + struct.pack("<H", struct.unpack("<H", bundle[-2:])[0] + 1) + b"x"
    return bundle


def test_a_word_alone_after_full_width_base64_is_not_decoded_into_the_picture(tmp_path: Path) -> None:
    jpeg = _jpeg(60, 57)  # its base64 in full lines of 76, unpadded
    png = _png(61, 3)
    icon = _png(63, 3, (6, 4))  # a URI's line: 1,000 characters at most
    bundle, small = (_unpadded_zip(inside) for inside in (_jpeg(62), b"a note"))
    tiffs = [_tiff(seed) for seed in (64, 65)]  # a format whose own end Vigie does not walk
    files = {
        "mail.txt": HEADER + b"\n" + _wrapped(jpeg, 76) + b"Best\n",
        "body.txt": _wrapped(jpeg, 76) + b"Best\n",  # a body of base64 alone: typed so by its head
        "line.txt": HEADER + base64.b64encode(png) + b"\nBest\n",
        "words.txt": HEADER + base64.b64encode(png) + b"\nRegards\n",
        "key.yaml": HEADER + b"photo: " + base64.b64encode(png) + b"\nBest\n",  # after other text on its line
        "bundle.txt": HEADER + base64.b64encode(bundle) + b"\nBest\n",
        "tiff.txt": HEADER + base64.b64encode(tiffs[0]) + b"\nBest\n",
        "uri.txt": HEADER + b"<img src=data:image/png;base64," + base64.b64encode(icon) + b"\nBest\n",
        "uri_zip.txt": HEADER + b"url(data:application/zip;base64," + base64.b64encode(small) + b"\nBest\n",
        "uri_tiff.txt": HEADER + b"url(data:image/tiff;base64," + base64.b64encode(tiffs[1]) + b"\nBest\n",
    }
    evidence, items = _scanned(tmp_path, files)
    assert items["body.txt"]["media_type"] == "application/base64"
    _exact(evidence, items, {"mail.txt!/base64-1.jpeg": jpeg, "body.txt!/body": jpeg, "line.txt!/base64-1.png": png,
                             "words.txt!/base64-1.png": png, "key.yaml!/base64-1.png": png,
                             "bundle.txt!/base64-1.zip": bundle, "tiff.txt!/base64-1-without-last-line.tiff": tiffs[0],
                             "uri.txt!/data-uri-1.png": icon, "uri_zip.txt!/data-uri-1.zip": small,
                             "uri_tiff.txt!/data-uri-1-without-last-line.tiff": tiffs[1]})
    assert "'Best' after the base64 is taken as text after it" in _errors(items["uri.txt!/data-uri-1.png"])
    assert "may be text after it" in _errors(items["uri_tiff.txt!/data-uri-1.tiff"])
    assert "'Best' after the base64 is taken as text after it" in _errors(items["mail.txt!/base64-1.jpeg"])
    assert "taken as text after it" in _errors(items["bundle.txt!/base64-1.zip"])  # its end record ends it
    # a TIFF's own end not told: both readings, each saying so
    for path in ("tiff.txt!/base64-1.tiff", "tiff.txt!/base64-1-without-last-line.tiff"):
        assert "may be text after it" in _errors(items[path]), path


def _uuencoded(name: bytes, data: bytes) -> bytes:
    lines = b"".join(binascii.b2a_uu(data[at:at + 45]) for at in range(0, len(data), 45))
    return b"begin 644 " + name + b"\n" + lines + b"`\nend\n"


def test_lines_that_end_in_a_lone_cr_are_read_as_lines(tmp_path: Path) -> None:
    jpegs = [_jpeg(seed) for seed in range(70, 73)]
    mac = (HEADER + base64.encodebytes(jpegs[0]) + b"\nAnd the other:\n" + _uuencoded(b"two.jpg", jpegs[1])
           + b'\n<img src="data:image/jpeg;base64,' + base64.encodebytes(jpegs[2]) + b'">\n').replace(b"\n", b"\r")
    alone = base64.encodebytes(jpegs[0]).replace(b"\n", b"\r")  # a file of base64, typed by its head
    evidence, items = _scanned(tmp_path, {"mac.txt": mac, "mac.b64": alone})
    _exact(evidence, items, {"mac.txt!/base64-1.jpeg": jpegs[0], "mac.txt!/two.jpg": jpegs[1],
                             "mac.txt!/data-uri-1.jpeg": jpegs[2], "mac.b64!/mac": jpegs[0]})
    assert not items["mac.b64!/mac"]["errors"]


def test_text_in_utf16_is_read_for_its_uris_base64_and_uuencoding(tmp_path: Path) -> None:
    jpegs = [_jpeg(seed) for seed in range(80, 86)]
    files = {}
    for name, encode, first in (("le.txt", "utf-16-le", 0), ("be.txt", "utf-16-be", 3)):
        text = (HEADER + b'<img src="data:image/jpeg;base64,' + base64.b64encode(jpegs[first]) + b'">\n'
                + HEADER + base64.encodebytes(jpegs[first + 1]) + b"\n" + _uuencoded(b"uu.jpg", jpegs[first + 2]))
        files[name] = "\ufeff".encode(encode) + text.decode().encode(encode)
    files["alone.b64"] = ("\ufeff" + base64.encodebytes(jpegs[0]).decode()).encode("utf-16-le")  # typed by its head
    evidence, items = _scanned(tmp_path, files)
    _exact(evidence, items, {"alone.b64!/alone": jpegs[0]})
    for name, first in (("le.txt", 0), ("be.txt", 3)):
        _exact(evidence, items, {f"{name}!/data-uri-1.jpeg": jpegs[first], f"{name}!/base64-1.jpeg": jpegs[first + 1],
                                 f"{name}!/uu.jpg": jpegs[first + 2]})
        assert items[name]["media_type"] == "text/plain", name


def test_pathological_texts_are_searched_in_bounded_time() -> None:
    """No timing asserted: each runs in the normal test time, where a quadratic search or backtracking would not."""
    for text in (b" " * 400_000, b"A" * 400_000, b"x\n" + b"A" * 400_000, b"/9j/" * 100_000,
                 b'"' + b"/9j/AAAA\\n" * 200_000, b"\n" + b"\t" * 400_000 + b"A", (b"A" * 39 + b" ") * 10_000,
                 b"x\n" + (b"/9j/" + b"A" * 72 + b"\n") * 5_000, b"\r" * 400_000, b"\n    " * 100_000,
                 b"\xff\xfe" + b"A\x00" * 400_000, b"\xfe\xff" + b"\x00\r" * 400_000,
                 b"x\n" + b"/9j/AAAA\n" * 10_000 + b"A" * 400_000, b"{" + (b'"/9j/' + b"A" * 40 + b'", ') * 20_000,
                 b"x\n" + (b"/9j/" + b"A" * 70 + b"/9\n") * 5_000, b'"' + b"\\n/9j/" * 100_000,
                 b'"' + b"\\t/9j/AAAA" * 50_000, b'"x' + b"\\u003eiVBORw0KGgo" * 30_000,
                 b"x\n" + (b"> /9j/" + b"A" * 72 + b"&#13;\n") * 5_000, b'"/9j/' + b'AAAA\\n",\n "' * 50_000,
                 b'"/9j/AAAA\\n",\n "' + b"A" * 400_000, b'"/9j/' + b'AAAA" +\n "' * 50_000):
        clues_in([text[at:at + (1 << 20)] for at in range(0, len(text), 1 << 20)])
        with contextlib.suppress(ArchiveLimitError):
            for _ in text_members(io.BytesIO(text), Settings(), Expansion()):
                pass


def test_the_blocks_after_the_first_in_a_file_of_base64_are_members(tmp_path: Path) -> None:
    jpegs = [_jpeg(seed) for seed in range(90, 94)]
    files = {"two.b64": base64.encodebytes(jpegs[0]) + b"\n" + base64.encodebytes(jpegs[1]),
             "joined.b64": base64.encodebytes(jpegs[2]) + base64.encodebytes(jpegs[3])}  # no line between
    evidence, items = _scanned(tmp_path, files)
    assert items["two.b64"]["media_type"] == "application/base64"
    _exact(evidence, items, {"two.b64!/two": jpegs[0], "two.b64!/base64-1.jpeg": jpegs[1],
                             "joined.b64!/joined": jpegs[2], "joined.b64!/base64-1.jpeg": jpegs[3]})


def test_base64_after_other_text_is_found_across_the_pieces_a_text_is_searched_in() -> None:
    """A run cut by the end of a chunk the scan hashes (and of a piece read-back searches) is found by both."""
    jpeg = _jpeg(95)
    for cut, before in [(cut, b"") for cut in range(-44, 4, 6)] + [(cut, b"caption\\n") for cut in range(-12, 4, 3)]:
        # where the run (or the escape before it) starts, about the end of the first MiB
        filler = b"ordinary words. " * ((CLUES_CHUNK + cut) // 16) + b"." * ((CLUES_CHUNK + cut) % 16)
        text = filler + b'{"photo": "' + before + base64.b64encode(jpeg) + b'"}\n' + filler * 2  # in three pieces
        assert clues_in([text[at:at + CLUES_CHUNK] for at in range(0, len(text), CLUES_CHUNK)]).found, cut
        members = list(text_members(io.BytesIO(text), Settings(), Expansion()))
        assert [member.name for member in members] == [b"base64-1.jpeg"], cut
        assert members[0].stream is not None and members[0].stream.read() == jpeg, cut


def test_base64_right_after_an_escape_in_a_json_string_is_found(tmp_path: Path) -> None:
    """`\\n`, `\\r\\n`, `\\t`, `\\/` and `\\u003e` before base64 in a string: the escape's letter is no base64's."""
    pngs = [_png(seed) for seed in range(100, 104)]
    jpegs = [_jpeg(seed) for seed in range(104, 107)]
    encoded = [base64.b64encode(picture).decode() for picture in (*pngs, *jpegs)]
    mime = ("Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(jpegs[0]).decode().replace("\n", "\r\n"))
    files = {
        "caption.json": json.dumps({"t": "caption\n" + encoded[0]}).encode(),
        "tab.json": json.dumps({"t": "caption\t" + encoded[1]}).encode(),
        "mime.json": json.dumps({"mime": mime}).encode(),  # a mail stored in a string
        "go.json": json.dumps({"doc": "<w:binData>" + encoded[2] + "</w:binData>"}).replace("<", "\\u003c")
                   .replace(">", "\\u003e").encode(),  # as Go writes it
        "path.json": json.dumps({"p": "images/" + encoded[5]}).replace("/", "\\/").encode(),
        "two.json": json.dumps({"t": "two:\n" + encoded[3] + "\n" + encoded[4]}).encode(),
        "wrapped_two.json": json.dumps({"t": "two:\n" + base64.encodebytes(jpegs[2]).decode()
                                        + base64.encodebytes(pngs[0]).decode()}).encode(),
    }
    evidence, items = _scanned(tmp_path, files)
    _exact(evidence, items, {
        "caption.json!/base64-1.png": pngs[0], "tab.json!/base64-1.png": pngs[1], "mime.json!/base64-1.jpeg": jpegs[0],
        "go.json!/base64-1.png": pngs[2], "path.json!/base64-1.jpeg": jpegs[1],
        "two.json!/base64-1.png": pngs[3], "two.json!/base64-2.jpeg": jpegs[0],
        "wrapped_two.json!/base64-1.jpeg": jpegs[2], "wrapped_two.json!/base64-2.png": pngs[0]})
    for name in files:
        assert not [path for path in items if path.startswith(name + "!/") and items[path]["errors"]], name


def test_a_date_or_a_digest_after_base64_ending_on_a_full_line_is_not_decoded_into_the_picture(
        tmp_path: Path) -> None:
    jpeg, png = _jpeg(110, 57), _png(111, 57)  # their base64 in full lines of 76, unpadded
    digest = hashlib.sha256(jpeg).hexdigest().encode()
    tiff = _tiff(112)  # a format whose own end Vigie does not walk
    files = {
        "export.txt": _wrapped(jpeg, 76) + b"20260101\n",  # a file of base64: typed so by its head
        "digest.txt": HEADER + b"\n" + _wrapped(jpeg, 76) + digest + b"\n",
        "dated.txt": HEADER + b"\n" + _wrapped(png, 76) + b"2026-01-01\n",
        "page.html": HEADER + b'<img src="data:image/png;base64,' + _wrapped(png, 76) + b"20260101\n",
        "tiff.txt": HEADER + base64.b64encode(tiff) + b"\n20260101\n",
        "string.json": json.dumps({"a": (_wrapped(jpeg, 76) + b"20260101").decode()}).encode(),  # before a quote
        "trailer.txt": HEADER + b"\n" + _wrapped(jpeg + b"\xfa\xfb\xfc\xfd\xfe\xff", 76),  # the picture's own bytes
    }
    evidence, items = _scanned(tmp_path, files)
    # a line that reads as text (a date, a digest) is taken for text where the picture ends before it; another
    # (`2026-01-01`, `+vv8/f7/`: a picture's own bytes after its end as often), both readings
    _exact(evidence, items, {"export.txt!/export": jpeg, "digest.txt!/base64-1.jpeg": jpeg,
                             "dated.txt!/base64-1-without-last-line.png": png, "page.html!/data-uri-1.png": png,
                             "tiff.txt!/base64-1-without-last-line.tiff": tiff, "string.json!/base64-1.jpeg": jpeg,
                             "trailer.txt!/base64-1.jpeg": jpeg + b"\xfa\xfb\xfc\xfd\xfe\xff",
                             "trailer.txt!/base64-1-without-last-line.jpeg": jpeg})
    for path, line in (("export.txt!/export", b"20260101"), ("digest.txt!/base64-1.jpeg", digest),
                       ("string.json!/base64-1.jpeg", b"20260101"), ("page.html!/data-uri-1.png", b"20260101")):
        assert f"the line {line.decode()!r} after the base64 is taken as text after it" in _errors(items[path]), path
    for name, line in (("tiff.txt", "20260101"), ("dated.txt", "2026-01-01"), ("trailer.txt", "+vv8/f7/")):
        readings = [path for path in items if path.startswith(name + "!/")]
        assert len(readings) == 2, readings
        for path in readings:
            assert f"{line!r}, may be text after it" in _errors(items[path]), path


def test_base64_with_a_mark_on_each_line_is_read_through_it(tmp_path: Path) -> None:
    """XML's `&#13;` ending each line, a mail's quote, a comment's mark, strings joined, a notebook's list of lines:
    the same on each line, read through; a line starting `//` of base64 itself is no comment."""
    png, jpeg = _png(120), _jpeg(121)
    plain = _jpeg(122)
    slashes = plain[:2] + b"\xff\xfe" + struct.pack(">H", 202) + b"\xff" * 200 + plain[2:]  # lines of `////`
    lines = _wrapped(png, 76).splitlines()
    files = {
        "cr.xml": HEADER + b"<data>\n" + _wrapped(png, 76, end=b"&#13;\n") + b"</data>\n",
        "xd.xml": HEADER + b"<data>" + _wrapped(jpeg, 76, b"  ", end=b"&#xD;\n") + b"</data>\n",
        "reply.txt": HEADER + b"\n" + _wrapped(jpeg, 76, b"> ") + b">\n> Thanks\n",
        "hash.sh": HEADER + _wrapped(png, 76, b"# ") + b"echo done\n",
        "star.c": HEADER + b"/*\n" + _wrapped(jpeg, 76, b" * ") + b" */\n",
        "concat.py": HEADER + b"PHOTO = (\n" + b"".join(b'    "' + line + b'"\n' for line in lines) + b")\n",
        "concat.js": HEADER + b"var p = " + b" +\n".join(b'  "' + line + b'"' for line in lines) + b";\n",
        "icon.py": HEADER + b"ICON = (\n" + b"".join(b'    b"' + line + b'"\n' for line in lines) + b")\n",
        "nested.json": json.dumps({"state": json.dumps({"img": base64.encodebytes(jpeg).decode()})}).encode(),
        "more.sh": HEADER + b'IMG="' + _wrapped(png, 76, end=b"\\\n") + b'"\n',
        "style.css": HEADER + b".a{background:url('data:image/jpeg;base64," + _wrapped(jpeg, 76, end=b"\\\n")
                     + b"')}\n",
        "figure.ipynb": json.dumps({"cells": [{"outputs": [{"data": {
            "image/png": [line.decode() + "\n" for line in lines], "text/plain": ["<Figure>"]}}]}]}, indent=1).encode(),
        "slashes.txt": HEADER + b"\n" + _wrapped(slashes, 76) + b"\n// the end\n",
    }
    assert b"\n//" in files["slashes.txt"][len(HEADER):-12]
    evidence, items = _scanned(tmp_path, files)
    _exact(evidence, items, {
        "cr.xml!/base64-1.png": png, "xd.xml!/base64-1.jpeg": jpeg, "reply.txt!/base64-1.jpeg": jpeg,
        "hash.sh!/base64-1.png": png, "star.c!/base64-1.jpeg": jpeg, "concat.py!/base64-1.png": png,
        "concat.js!/base64-1.png": png, "figure.ipynb!/base64-1.png": png, "slashes.txt!/base64-1.jpeg": slashes,
        "icon.py!/base64-1.png": png, "nested.json!/base64-1.jpeg": jpeg, "more.sh!/base64-1.png": png,
        "style.css!/data-uri-1.jpeg": jpeg})
    for name in files:
        assert not [path for path in items if path.startswith(name + "!/") and items[path]["errors"]], name


def test_base64_going_on_past_a_mark_not_read_is_said(tmp_path: Path) -> None:
    """A mark on each line not read through (`; `, `-- `, a list of strings, TeX's `% `): its first line is the
    member, which says the base64 may go on."""
    png, jpeg = _png(123), _jpeg(124)
    lines = _wrapped(png, 76).splitlines()
    files = {"semi.ini": HEADER + _wrapped(png, 76, b"; "), "query.sql": HEADER + _wrapped(jpeg, 76, b"-- "),
             "lines.py": HEADER + b"P = [\n" + b"".join(b'    "' + line + b'",\n' for line in lines) + b"]\n",
             "figure.tex": HEADER + _wrapped(jpeg, 76, b"% ")}
    _, items = _scanned(tmp_path, files)
    for name in files:
        members = [path for path in items if path.startswith(name + "!/")]
        assert len(members) == 1, (name, members)
        assert "the base64 may go on at byte" in _errors(items[members[0]]), name
