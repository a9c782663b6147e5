"""`vigie verify` where a scanned disk image was replaced by a plain file: the files read from inside the image
are not re-hashed from that file. Replaced by the very picture it held, the picture's item was reported
unchanged, as if the image were still there."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.test_disk_images import _fat, _need, _picture, _scan
from vigie.cli import main


def test_files_of_a_disk_image_replaced_by_a_plain_file_are_not_verified_from_that_file(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    picture = _picture(41)
    (scratch / "A.JPG").write_bytes(picture)
    image = tmp_path / "stick.img"
    _fat(image, 4096, [("copy", "A.JPG", "::A.JPG")], scratch)
    assert f"{image}!/p0/A.JPG" in _scan(tmp_path / "case", image)
    image.write_bytes(picture)  # the image is gone; the picture it held lies under its name
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case"), "--workers", "1"])
    assert result.exit_code == 3, result.output
    shown = "".join(result.output.split())  # rich wraps long lines, paths too
    assert f"UNREADABLE{image}!/p0/A.JPGunreadable:theevidenceisnolongeradiskimageVigiereads" in shown
    assert "2fileschecked,2changed,missingorunreadable." in shown
