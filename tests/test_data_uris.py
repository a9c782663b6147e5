"""Pictures written into a web page or an SVG drawing as base64 `data:` URIs: members of the page, matched and
read back; damaged base64 is said; a page that only links to pictures has none."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from conftest import jpeg_bytes

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.sources.mediatype import sniff
from vigie.sources.reopen import read_item_bytes
from vigie.store.sqlite import open_case


def test_pictures_in_data_uris_of_a_page_and_a_drawing_are_members(tmp_path: Path) -> None:
    picture = jpeg_bytes(draw_picture(103, (96, 72)))
    encoded = base64.encodebytes(picture)  # wrapped at 76 characters, as mail and many writers do
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "page.html").write_bytes(b"<!DOCTYPE html>\n<html><body><p>hi</p><img src=\"data:image/jpeg;base64,"
                                         + encoded + b"\"><img src=\"photo.jpg\"></body></html>")
    (evidence / "drawing.svg").write_bytes(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
                                           b'<image href="data:image/jpeg;base64,' + encoded[:-20] + b'!!"/></svg>')
    (evidence / "links.html").write_bytes(b"<html><body><img src=\"photo.jpg\"></body></html>")
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(evidence)], Settings(workers=1))
    items = {item["path"].split("/evidence/", 1)[1]: item for item in json.loads(render(store, "json"))["items"]}
    store.close()
    assert items["page.html"]["media_type"] == "text/html" and items["drawing.svg"]["media_type"] == "image/svg+xml"
    assert items["page.html!/data-uri-1.jpeg"]["sha256"] == hashlib.sha256(picture).hexdigest()
    assert read_item_bytes(str(evidence), "page.html!/data-uri-1.jpeg", Settings(), 10**7) == picture
    assert "what follows the base64 is taken as not part of it" in str(items["drawing.svg!/data-uri-1.jpeg"]["errors"])
    assert not [path for path in items if path.startswith("links.html!/")]
    assert sniff(b"<p>not a page</p>") == "application/octet-stream"
