"""`image!/pN/...` numbers partitions in the order they start on the disk, as the README says, not by their
entry in the table: an MBR whose second entry starts first has that one as p1."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.test_disk_images import _SECTOR, _fat, _need, _picture, _scan


def test_partitions_are_numbered_by_where_they_start_not_by_their_table_entry(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pictures = {"A.JPG": _picture(31), "B.JPG": _picture(32)}
    parts = {}
    for name, data in pictures.items():
        (scratch / name).write_bytes(data)
        parts[name] = tmp_path / f"{name}.fat"
        _fat(parts[name], 4096, [("copy", name, f"::{name}")], scratch)
    raw = tmp_path / "disk.raw"
    raw.write_bytes(b"\0" * (20480 * _SECTOR))
    entries = "start=12288, size=8192, type=c\nstart=2048, size=8192, type=c\n"  # entry 1 (A) starts last
    subprocess.run(["sfdisk", "-q", str(raw)], input=entries.encode(), check=True, capture_output=True)
    with raw.open("r+b") as disk:
        for name, start in (("A.JPG", 12288), ("B.JPG", 2048)):
            disk.seek(start * _SECTOR)
            disk.write(parts[name].read_bytes())
    items = _scan(tmp_path / "case", raw)
    assert items[f"{raw}!/p1/B.JPG"]["md5"] == hashlib.md5(pictures["B.JPG"]).hexdigest()
    assert items[f"{raw}!/p2/A.JPG"]["md5"] == hashlib.md5(pictures["A.JPG"]).hexdigest()
