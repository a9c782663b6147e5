"""Pictures carried in text: `data:` URIs in CSS, JSON and other text however far in (also escaped as JSON
writes them; of any type, an SVG drawing written as text too), files of base64 (alone, in an armour, after a few
lines of text), blocks of base64 further in a text, and uuencoded files. Each picture is a member, matched by a
hash list at its path and read back; ordinary text is not decoded; caps and damage are said; an Outlook data file
is typed and said."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import jpeg_bytes, scanned_report
from PIL import Image

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.signals.analysis import CHUNK
from vigie.sources.data_uris import data_uri_members
from vigie.sources.mail import mail_members
from vigie.sources.mediatype import sniff
from vigie.sources.members import ArchiveLimitError, Expansion
from vigie.sources.reopen import read_item_bytes
from vigie.sources.text_members import text_members

PICTURES = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in range(120, 127)]


def _matched(evidence: Path, case: Path, settings: Settings | None = None) -> dict[str, dict[str, Any]]:
    """Scanned against a list of the SHA-256 of PICTURES: the report's items by path under the evidence."""
    settings = settings or Settings(workers=1)
    listed = case.parent / "known.csv"
    listed.write_text("sha256,label\n" + "".join(f"{hashlib.sha256(data).hexdigest()},known {number}\n"
                                                 for number, data in enumerate(PICTURES)))
    return {item["path"].split("/evidence/", 1)[1]: item
            for item in scanned_report(evidence, case, settings, listed)}


def _errors(item: dict[str, Any]) -> str:
    return " ".join(error["message"] for error in item["errors"])


def test_data_uris_in_css_json_and_text_far_in_and_base64_files_are_matched_members(tmp_path: Path) -> None:
    encoded = [base64.b64encode(picture) for picture in PICTURES]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    rules = b"".join(b".icon-%d { width: 16px; height: 16px; }\n" % n for n in range(60_000))
    marker_at = CHUNK - 4  # the marker cut by the end of the first chunk the scan hashes
    rules = rules[:marker_at - len(b".hero { background: url(")] + b"\n.hero { background: url("
    (evidence / "style.css").write_bytes(rules + b"data:image/jpeg;base64," + encoded[0] + b"); }\n")
    escaped = encoded[1].decode().replace("/", "\\/").replace("+", "\\u002b")
    (evidence / "export.json").write_text(json.dumps({"messages": [{"text": "hello " * 200}]})[:-2]
                                          + ', {"avatar": "data:image\\/jpeg;charset=utf-8;base64,' + escaped
                                          + '"}]}')
    (evidence / "picture.b64").write_bytes(base64.encodebytes(PICTURES[2]))
    (evidence / "armoured.txt").write_bytes(b"-----BEGIN PICTURE-----\nComment: sent\n\n"
                                            + base64.encodebytes(PICTURES[3]) + b"-----END PICTURE-----\n")
    (evidence / "note").write_bytes(b"Here is the photo you asked for:\n\n" + base64.encodebytes(PICTURES[4]))
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("assets/app.css", b"body { margin: 0 }\n" * 100
                         + b".logo { background: url('data:image/jpeg;base64," + encoded[5] + b"') }\n")
        archive.writestr("assets/photo.b64", base64.encodebytes(PICTURES[6]))
    (evidence / "bundle.zip").write_bytes(bundle.getvalue())
    (evidence / "notes.txt").write_bytes(b"A note with no picture in it, and data: nothing of the kind.\n" * 100)
    (evidence / "hashes.txt").write_bytes(b"".join(hashlib.sha256(b"%d" % n).hexdigest().encode() + b"\n"
                                                   for n in range(100)))
    items = _matched(evidence, tmp_path / "case")
    expected = {"style.css!/data-uri-1.jpeg": PICTURES[0], "export.json!/data-uri-1.jpeg": PICTURES[1],
                "picture.b64!/picture": PICTURES[2], "armoured.txt!/armoured": PICTURES[3],
                "note!/note": PICTURES[4], "bundle.zip!/assets/app.css!/data-uri-1.jpeg": PICTURES[5],
                "bundle.zip!/assets/photo.b64!/photo": PICTURES[6]}
    for path, picture in expected.items():
        assert [match["label"] for match in items[path]["matches"]], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
        assert not items[path]["errors"], path
    assert items["style.css"]["media_type"] == "text/plain"
    assert items["picture.b64"]["media_type"] == "application/base64"
    for plain in ("notes.txt", "hashes.txt"):
        assert items[plain]["media_type"] == "application/octet-stream"
        assert not [path for path in items if path.startswith(plain + "!/")]


def test_damaged_base64_a_cut_run_and_text_past_the_caps_are_said(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    lines = base64.encodebytes(PICTURES[0])
    (evidence / "damaged.b64").write_bytes(lines[:200] + b"!" + lines[201:])  # the line with `!` ends the block
    (evidence / "cut.b64").write_bytes(lines[:-31])  # a last group of four cut short
    big = b"x" * (2 << 20)
    (evidence / "big.css").write_bytes(big + b"url(data:image/jpeg;base64," + base64.b64encode(PICTURES[1]) + b")")
    (evidence / "big.b64").write_bytes(base64.encodebytes(PICTURES[2] + bytes(2 << 20)))
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("big.css", big + b"url(data:image/jpeg;base64," + base64.b64encode(PICTURES[1]) + b")")
    (evidence / "bundle.zip").write_bytes(bundle.getvalue())
    items = _matched(evidence, tmp_path / "case", Settings(workers=1, max_nested_archive_bytes=1 << 20))
    assert "the base64 ends at byte 153" in _errors(items["damaged.b64!/damaged"])
    assert "its base64 is damaged" in _errors(items["cut.b64!/cut"])
    assert "its data: URIs, base64 and uuencoded files not read" in _errors(items["big.css"])
    assert "not decoded" in _errors(items["big.b64"])
    assert "the most of a member's text held in memory): they were not read" in _errors(items["bundle.zip!/big.css"])


def test_ordinary_text_is_not_taken_for_base64_and_an_outlook_file_is_said(tmp_path: Path) -> None:
    assert sniff(b"Supercalifragilisticexpialidocious is a word\n" * 10) == "application/octet-stream"
    assert sniff(b"A" * 512) == "application/octet-stream"  # base64 of zeros: nothing typed
    assert sniff(base64.b64encode(PICTURES[0])[:512]) == "application/base64"
    assert sniff(base64.b64encode(base64.b64encode(PICTURES[0]))[:512]) == "application/base64"
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "archive.pst").write_bytes(b"!BDN" + bytes(1020))
    items = _matched(evidence, tmp_path / "case")
    assert items["archive.pst"]["media_type"] == "application/vnd.ms-outlook"
    assert "an Outlook data file" in _errors(items["archive.pst"]) and "pffexport" in _errors(items["archive.pst"])


def test_data_uris_as_a_browser_reads_them_in_any_case_untyped_or_percent_encoded(tmp_path: Path) -> None:
    encoded = [base64.b64encode(picture).decode() for picture in PICTURES]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "upper.css").write_text(f"body {{ background: url(DATA:IMAGE/JPEG;BASE64,{encoded[0]}) }}\n")
    (evidence / "typed.html").write_text(f'<!doctype html><img src="data:Image/JPEG;base64,{encoded[1]}">')
    (evidence / "octet.json").write_text('{"avatar": "data:application/octet-stream;base64,' + encoded[2] + '"}')
    (evidence / "untyped.html").write_text(f'<!doctype html><img src="data:;base64,{encoded[3]}">')
    percent = quote(encoded[4], safe="")
    (evidence / "escaped.css").write_text(f".x {{ background: url(data:image/jpeg;base64,{percent}) }}")
    (evidence / "raw.txt").write_text(f'<p>x</p><img src="data:image/jpeg,{quote(PICTURES[5])}">')
    (evidence / "tabbed.txt").write_text(f"notes\x0bline two\n<img src=\"data:image/jpeg;base64,{encoded[6]}\">")
    (evidence / "script.js").write_text('const url = "data:image/png;base64," + encoded;\n'  # a bare start
                                        'const file = "data:application/octet-stream;base64,aGVsbG8=";\n')
    (evidence / "other.txt").write_text("data:image/jpeg;base32," + "MZXW6YTBOI" * 10 + "\n")  # not read
    (evidence / "icons.css").write_text(".check { background: url(\"data:image/svg+xml,%3csvg xmlns='http://www.w3"
                                        ".org/2000/svg' viewBox='0 0 8 8'%3e%3cpath d='M6 2 3 5'/%3e%3c/svg%3e\") }\n")
    items = _matched(evidence, tmp_path / "case")
    expected = {"upper.css!/data-uri-1.jpeg": PICTURES[0], "typed.html!/data-uri-1.jpeg": PICTURES[1],
                "octet.json!/data-uri-1.jpeg": PICTURES[2], "untyped.html!/data-uri-1.jpeg": PICTURES[3],
                "escaped.css!/data-uri-1.jpeg": PICTURES[4], "raw.txt!/data-uri-1.jpeg": PICTURES[5],
                "tabbed.txt!/data-uri-1.jpeg": PICTURES[6]}
    for path, picture in expected.items():
        assert [match["label"] for match in items[path]["matches"]], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
    assert "no picture, video or archive was read" in _errors(items["other.txt"])
    assert not items["script.js"]["errors"] and items["script.js"]["media_type"] == "text/plain"
    assert not [path for path in items if path.startswith(("script.js!/", "other.txt!/"))]
    assert items["icons.css"]["media_type"] == "text/plain" and not items["icons.css"]["errors"]
    assert items["icons.css!/data-uri-1.svg+xml"]["media_type"] == "image/svg+xml"  # a drawing, a member


def test_base64url_and_base64_in_short_lines_are_decoded_and_an_armour_keeps_its_end_line(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    url = base64.urlsafe_b64encode(PICTURES[0])
    assert b"-" in url or b"_" in url
    for rule in (b"-" * 60, b"_" * 60):  # a line of dashes before base64 is text's, not base64url
        assert sniff((b"Notes\n" + rule + b"\n" + base64.encodebytes(PICTURES[2]))[:512]) == "application/base64"
    (evidence / "token.b64").write_bytes(b"\n".join(url[at:at + 76] for at in range(0, len(url), 76)) + b"\n")
    narrow = base64.b64encode(PICTURES[2])
    (evidence / "narrow.b64").write_bytes(b"\n".join(narrow[at:at + 12] for at in range(0, len(narrow), 12)) + b"\n")
    (evidence / "armoured.txt").write_bytes(b"-----BEGIN PICTURE-----\n\n" + base64.encodebytes(PICTURES[1])
                                            + b"-----END PICTURE-----\n")
    items = _matched(evidence, tmp_path / "case")
    for path, picture in (("token.b64!/token", PICTURES[0]), ("armoured.txt!/armoured", PICTURES[1]),
                          ("narrow.b64!/narrow", PICTURES[2])):
        assert [match["label"] for match in items[path]["matches"]], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
        assert not items[path]["errors"], path


HEADER = b"".join(b"X-Exported-Field-%d: a value of the export, and some words after it (%d)\n" % (n, n)
                  for n in range(30))  # 2 KB of text before the base64


def _zip_of(**files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _uuencoded(name: bytes, data: bytes) -> bytes:
    lines = b"".join(binascii.b2a_uu(data[at:at + 45]) for at in range(0, len(data), 45))
    return b"begin 644 " + name + b"\n" + lines + b"`\nend\n"


def _read_back(evidence: Path, items: dict[str, dict[str, Any]], expected: dict[str, bytes]) -> None:
    for path, picture in expected.items():
        assert [match["label"] for match in items[path]["matches"]], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
        assert not items[path]["errors"], path


def test_base64_after_a_long_header_is_read_in_a_file_and_a_member(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    assert len(HEADER) > 2000
    (evidence / "export.txt").write_bytes(HEADER + b"\n" + base64.encodebytes(PICTURES[0]) + b"\n-- end --\n")
    unwrapped = base64.b64encode(PICTURES[1])
    (evidence / "record.xml").write_bytes(b"<record>\n" + HEADER + b"<photo>\n" + unwrapped[:-30] + b"\n"
                                          + unwrapped[-30:] + b"</photo>\n</record>\n")
    (evidence / "bundle.zip").write_bytes(_zip_of(**{"notes.txt": HEADER + base64.encodebytes(PICTURES[2])}))
    (evidence / "hashes.txt").write_bytes(HEADER + b"".join(hashlib.sha256(b"%d" % n).hexdigest().encode()
                                                            + b"\n" for n in range(200)))
    (evidence / "key.txt").write_bytes(HEADER + b"-----BEGIN KEY-----\n"
                                       + base64.encodebytes(bytes(range(256)) * 8) + b"-----END KEY-----\n")
    items = _matched(evidence, tmp_path / "case")
    _read_back(evidence, items, {"export.txt!/base64-1.jpeg": PICTURES[0], "record.xml!/base64-1.jpeg": PICTURES[1],
                                 "bundle.zip!/notes.txt!/base64-1.jpeg": PICTURES[2]})
    assert items["export.txt"]["media_type"] == "text/plain" and not items["export.txt"]["errors"]
    for plain in ("hashes.txt", "key.txt"):  # base64 of nothing typed, and a hash list: left alone
        assert items[plain]["media_type"] == "application/octet-stream" and not items[plain]["errors"], plain
        assert not [path for path in items if path.startswith(plain + "!/")]


def test_data_uris_of_any_type_are_read_for_what_their_bytes_hold(tmp_path: Path) -> None:
    encoded = [base64.b64encode(picture) for picture in PICTURES]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    zipped = base64.b64encode(_zip_of(**{"inside/photo.jpg": PICTURES[0]}))
    (evidence / "app.js").write_bytes(b"const bundle = 'data:application/zip;base64," + zipped + b"';\n")
    note = b"notes\n<img src=\"data:image/jpeg;base64," + encoded[1] + b"\">\n"
    later = HEADER + base64.encodebytes(PICTURES[2])
    (evidence / "state.json").write_text(json.dumps({
        "note": "data:text/plain;base64," + base64.b64encode(note).decode(),
        "attachment": "data:text/plain;charset=utf-8;base64," + base64.b64encode(later).decode()}))
    (evidence / "page.html").write_bytes(b"<!doctype html><a href=\"data:application/x-zip-compressed;base64,"
                                         + base64.b64encode(_zip_of(**{"b.jpg": PICTURES[3]})) + b"\">get</a>")
    items = _matched(evidence, tmp_path / "case")
    _read_back(evidence, items, {"app.js!/data-uri-1.zip!/inside/photo.jpg": PICTURES[0],
                                 "state.json!/data-uri-1.plain!/data-uri-1.jpeg": PICTURES[1],
                                 "state.json!/data-uri-2.plain!/base64-1.jpeg": PICTURES[2],
                                 "page.html!/data-uri-1.zip!/b.jpg": PICTURES[3]})


def test_an_svg_drawing_written_as_text_in_a_data_uri_is_a_member_with_its_own_uris(tmp_path: Path) -> None:
    encoded = [base64.b64encode(picture).decode() for picture in PICTURES]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    drawing = ("<svg xmlns='http://www.w3.org/2000/svg' width='100%' viewBox='0 0 96 72'>"
               f"<image href='data:image/jpeg;base64,{encoded[0]}' width='96' height='72'/></svg>")
    (evidence / "icons.css").write_text(f'.hero {{ background: url("data:image/svg+xml,{quote(drawing)}") }}\n'
                                        f".logo {{ background: url(data:image/svg+xml;utf8,{quote(drawing)}) }}\n")
    raw = drawing.replace("'", '"').replace(encoded[0], encoded[1])
    (evidence / "theme.json").write_text(json.dumps({"banner": "data:image/svg+xml;charset=utf-8," + raw}))
    (evidence / "inline.css").write_text(f".x {{ background: url('data:image/svg+xml;utf8,{raw}') }}\n")
    items = _matched(evidence, tmp_path / "case")
    _read_back(evidence, items, {"icons.css!/data-uri-1.svg+xml!/data-uri-1.jpeg": PICTURES[0],
                                 "icons.css!/data-uri-2.svg+xml!/data-uri-1.jpeg": PICTURES[0],
                                 "theme.json!/data-uri-1.svg+xml!/data-uri-1.jpeg": PICTURES[1],
                                 "inline.css!/data-uri-1.svg+xml!/data-uri-1.jpeg": PICTURES[1]})
    assert items["theme.json!/data-uri-1.svg+xml"]["media_type"] == "image/svg+xml"
    assert not [path for path in items if path.startswith("inline.css!/data-uri-2")]  # its own URI read once


def test_uuencoded_files_outside_mail_are_members(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "photo.uue").write_bytes(_uuencoded(b"holiday.jpg", PICTURES[0]))
    (evidence / "post.txt").write_bytes(HEADER + b"\nAs promised:\n\n" + _uuencoded(b"C:\\pics\\two.jpg", PICTURES[1])
                                        + b"\n" + _uuencoded(b"three.jpg", PICTURES[2])[:-5])
    (evidence / "bundle.zip").write_bytes(_zip_of(**{"old/readme.txt": b"old files\n" + _uuencoded(b"x.jpg",
                                                                                                  PICTURES[3])}))
    items = _matched(evidence, tmp_path / "case")
    _read_back(evidence, items, {"photo.uue!/holiday.jpg": PICTURES[0], "post.txt!/two.jpg": PICTURES[1],
                                 "bundle.zip!/old/readme.txt!/x.jpg": PICTURES[3]})
    assert read_item_bytes(str(evidence), "post.txt!/three.jpg", Settings(), 10**7) == PICTURES[2]
    assert "no `end` line" in _errors(items["post.txt!/three.jpg"])


def test_the_caps_on_text_borne_pictures_are_said(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    # blocks of base64 of nothing typed, each after a line of text: past the cap, base64 further in is said
    noise = b"".join(b"line %d\n" % n + base64.b64encode(bytes([n % 251 + 1]) * 33) + b"\n" for n in range(12_000))
    (evidence / "noise.txt").write_bytes(noise + HEADER + base64.encodebytes(PICTURES[0]))
    nested = b"data:image/jpeg;base64," + base64.b64encode(PICTURES[1])
    for _ in range(5):  # a text in a text ... deeper than max_archive_depth
        nested = b"data:text/plain;base64," + base64.b64encode(b"text\n" + nested)
    (evidence / "deep.txt").write_bytes(b"deep\n" + nested + b"\n")
    # URIs that give nothing, each holding the rest of the text: searched again a few times its length at most
    (evidence / "again.txt").write_bytes(b"data:image/png;base64,\n" + b"data:,%00" * 20_000)
    items = _matched(evidence, tmp_path / "case")
    assert "searched again past 4 times the text's bytes" in _errors(items["again.txt"])
    assert "10,000 lines that start blocks of base64 decode to nothing typed" in _errors(items["noise.txt"])
    deep = [item for path, item in items.items() if path.startswith("deep.txt") and "nested deeper" in _errors(item)]
    assert deep, [path for path in items if path.startswith("deep.txt")]


def test_a_zip_behind_a_text_is_read_back_whatever_the_text_gave(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    behind = _zip_of(**{"photo.jpg": PICTURES[0]})
    # a URI written in a way not read (said, the text's reading stopped there), then a zip
    (evidence / "other.txt").write_bytes(b"data:image/jpeg;base32," + b"MZXW6YTBOI" * 10 + b"\n" + HEADER + behind)
    (evidence / "post.txt").write_bytes(b"notes\n" + _uuencoded(b"two.jpg", PICTURES[1]) + behind)
    items = _matched(evidence, tmp_path / "case")
    assert "no picture, video or archive was read" in _errors(items["other.txt"])
    for path, picture in (("other.txt!/photo.jpg", PICTURES[0]), ("post.txt!/two.jpg", PICTURES[1]),
                          ("post.txt!/photo.jpg", PICTURES[0])):
        assert [match["label"] for match in items[path]["matches"]], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path


def _unpadded(seed: int) -> bytes:
    """A picture whose base64 needs no `=` padding (nothing to show where it ends)."""
    while len(picture := jpeg_bytes(draw_picture(seed, (96, 72)))) % 3:
        seed += 1
    return picture


def _columns(text: bytes) -> bytes:
    return b"\n".join(text[at:at + 76] for at in range(0, len(text), 76))


def test_words_after_base64_are_not_decoded_into_the_picture(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    pictures = [_unpadded(seed) for seed in (300, 400, 500, 600, 700, 800, 900)]
    header = b"".join(b"line %d of an ordinary preamble, with words, commas and so on.\n" % n for n in range(100))
    wrapped = [base64.encodebytes(picture) for picture in pictures]
    sent = b"Sent from my iPhone\n"
    files = {
        "block.txt": header + wrapped[0] + sent,  # a block then a signature on the next line
        "uri_line.txt": header + b"data:image/jpeg;base64," + base64.b64encode(pictures[1]) + b"\nThis is it\n",
        "uri_words.txt": b"see data:image/jpeg;base64," + base64.b64encode(pictures[2]) + b" then this\n",
        "head.txt": b"Here it is:\n" + wrapped[3] + sent,  # typed application/base64 by its head
        "refs.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/jpeg;base64,'
                    + wrapped[4].replace(b"\n", b"&#10;") + b'"/></svg>\n',
        "crlf.xml": b'<?xml version="1.0"?>\n<doc><img src="data:image/jpeg;base64,'
                    + wrapped[5].replace(b"\n", b"&#xD;&#xA;") + b'"/></doc>\n',
        "column.html": b"<html><body>" + _columns(b'<img src="data:image/jpeg;base64,' + base64.b64encode(
            pictures[0]) + b'">') + b"</body></html>",  # wrapped at 76 columns, the URI's start on its first line
        "mail.eml": b"From: a@example.org\nTo: b@example.org\nSubject: pic\nMIME-Version: 1.0\n"
                    b"Content-Type: text/plain; charset=us-ascii\n\nhere it is:\n\n" + wrapped[6] + sent,
    }
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    members = {"block.txt!/base64-1.jpeg": pictures[0], "column.html!/data-uri-1.jpeg": pictures[0],
               "uri_line.txt!/data-uri-1.jpeg": pictures[1],
               "uri_words.txt!/data-uri-1.jpeg": pictures[2], "head.txt!/head": pictures[3],
               "refs.svg!/data-uri-1.jpeg": pictures[4], "crlf.xml!/data-uri-1.jpeg": pictures[5],
               "mail.eml!/part-0.plain/base64-1.jpeg": pictures[6]}
    for path, picture in members.items():
        assert items[path]["sha256"] == hashlib.sha256(picture).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
    assert "only the base64 before it is read" in _errors(items["head.txt!/head"])


def test_a_line_after_base64_that_ends_oddly_is_said(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    picture = _unpadded(300)
    header = b"".join(b"line %d of an ordinary preamble, with words, commas and so on.\n" % n for n in range(100))
    (evidence / "block.txt").write_bytes(header + base64.b64encode(picture) + b"\nBest.\n")  # one full line
    (evidence / "uri.txt").write_bytes(header + b"data:image/jpeg;base64," + base64.b64encode(picture) + b"\nBest.\n")
    assert len(base64.b64encode(PICTURES[0])) % 76  # its last line shorter: the block surely ends there
    (evidence / "short.txt").write_bytes(header + base64.encodebytes(PICTURES[0]) + b"Thanks,\n")
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    for path in ("block.txt!/base64-1.jpeg", "uri.txt!/data-uri-1.jpeg"):
        assert items[path]["sha256"] == hashlib.sha256(picture).hexdigest(), path
        assert "what follows the base64 is taken as not part of it" in _errors(items[path]), path
    assert items["short.txt!/base64-1.jpeg"]["sha256"] == hashlib.sha256(PICTURES[0]).hexdigest()
    assert not items["short.txt!/base64-1.jpeg"]["errors"]


def test_read_back_stops_looking_where_the_scan_stopped(tmp_path: Path) -> None:
    """Past 10,000 blocks of nothing typed the scan looks for no uuencoded file either: read back must not read
    one there, and give the zip behind the text's photo.png, the one the scan hashed."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    junk = b"".join(bytes(alphabet[(n * 7 + k * 13) % 64] for k in range(40)) + b"G\n\n" for n in range(10_001))
    zipped = _zip_of(**{"photo.png": PICTURES[1]})
    (evidence / "x.txt").write_bytes(b"notes\n" + junk + _uuencoded(b"photo.png", PICTURES[0]) + zipped)
    items = _matched(evidence, tmp_path / "case")
    assert "base64 and uuencoded files after it were not looked for" in _errors(items["x.txt"])
    assert items["x.txt!/photo.png"]["sha256"] == hashlib.sha256(PICTURES[1]).hexdigest()
    assert read_item_bytes(str(evidence), "x.txt!/photo.png", Settings(), 10**7) == PICTURES[1]


def test_a_data_uri_in_a_file_typed_base64_by_its_head_is_read(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    icon = io.BytesIO()
    Image.new("RGB", (12, 12), (200, 40, 10)).save(icon, "PNG")  # small: the block after it starts in the head
    (evidence / "notes.txt").write_bytes(b"a: data:image/png;base64," + base64.b64encode(icon.getvalue()) + b"\n"
                                         + base64.encodebytes(PICTURES[1]))
    items = _matched(evidence, tmp_path / "case")
    assert items["notes.txt"]["media_type"] == "application/base64"
    _read_back(evidence, items, {"notes.txt!/notes": PICTURES[1]})
    assert items["notes.txt!/data-uri-1.png"]["sha256"] == hashlib.sha256(icon.getvalue()).hexdigest()
    assert read_item_bytes(str(evidence), "notes.txt!/data-uri-1.png", Settings(), 10**7) == icon.getvalue()


def test_a_text_gives_at_most_10_000_members_and_says_so() -> None:
    """20,000 tiny data: URIs or uuencoded files in a text were 20,000 members; past 10,000 they are said."""
    css = b".a{}\n" + b"url(data:image/png;base64,AAAA)\n" * 10_001
    posts = b"x\n" + b"begin 644 a\n`\nend\n" * 10_001
    page = b"<html><body>" + b'<img src="data:image/png;base64,AAAA">' * 10_001 + b"</body></html>"
    mail = b"From: a@example.org\nSubject: posts\nContent-Type: text/plain\n\n" + posts
    for read in (lambda: text_members(io.BytesIO(css), Settings(), Expansion()),
                 lambda: text_members(io.BytesIO(posts), Settings(), Expansion()),
                 lambda: data_uri_members(io.BytesIO(page), Settings(), Expansion()),
                 lambda: mail_members(io.BytesIO(mail), False, Settings(), Expansion())):
        members = []
        with pytest.raises(ArchiveLimitError, match="10,000 members read from this text"):
            members.extend(read())
        assert len(members) == 10_000


def test_base64_and_uuencoding_in_a_web_page_are_members(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    start, end = b"<html><body><pre>\n", b"</pre></body></html>\n"
    (evidence / "block.html").write_bytes(start + base64.encodebytes(PICTURES[0]) + end)
    (evidence / "uu.html").write_bytes(start + _uuencoded(b"p.jpg", PICTURES[1]) + end)
    items = _matched(evidence, tmp_path / "case")
    _read_back(evidence, items, {"block.html!/base64-1.jpeg": PICTURES[0], "uu.html!/p.jpg": PICTURES[1]})
