"""A known picture saved as an editor's, an icon's or a texture's file (PSD, ICO, ICNS, DDS, PCX, SGI, TGA):
typed by its content and decoded by Pillow, so its PDQ matches; it was an item without a picture before."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.signals.pdq import pdq_from_image
from vigie.signals.registry import hamming
from vigie.store.sqlite import open_case


def _flat_psd(picture: bytes, width: int, height: int) -> bytes:
    """A Photoshop file of one flat RGB image, uncompressed planes (what Pillow reads as its composite)."""
    header = b"8BPS" + struct.pack(">H", 1) + bytes(6) + struct.pack(">HIIHH", 3, height, width, 8, 3)
    return header + bytes(4) + bytes(4) + bytes(4) + struct.pack(">H", 0) + picture


def test_pictures_in_editor_icon_and_texture_formats_are_decoded_and_match(tmp_path: Path) -> None:
    picture = draw_picture(95, (256, 256))
    known = pdq_from_image(picture).hash
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for kind, options in (("ICO", {"sizes": [(256, 256)]}), ("ICNS", {}), ("DDS", {}), ("PCX", {}), ("SGI", {}),
                          ("TGA", {})):
        out = io.BytesIO()
        picture.save(out, kind, **options)
        (evidence / f"k.{kind.lower()}").write_bytes(out.getvalue())
    planes = b"".join(band.tobytes() for band in picture.split())
    (evidence / "k.psd").write_bytes(_flat_psd(planes, *picture.size))
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(evidence)], Settings(workers=1))
    items = {Path(item["path"]).name: item for item in json.loads(render(store, "json"))["items"]}
    store.close()
    assert len(items) == 7
    for name, item in items.items():
        assert item["media_type"].startswith("image/") and item["pdq"], (name, item["media_type"], item["errors"])
        assert hamming(item["pdq"], known) <= 31, name
