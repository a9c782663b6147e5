"""HFS+ in disk images: a hybrid CD image that xorriso writes with an ISO 9660 tree, an Apple partition map and
an HFS+ tree side by side (Debian 12 has no mkfs.hfsplus). The Sleuth Kit sees the map (the map's own entry,
two pieces of ISO 9660 data, the HFS+ partition) and, read at the image's start, the ISO 9660 tree: each tree
is one file system, so a file in both is one item in each (`!/p0/...` and `!/p3/...`).

Drawn pictures only; each test skips, saying why, where xorriso or the `disk` extra is missing.
"""

from __future__ import annotations

import hashlib
import os
import struct
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_disk_images import _need, _picture, _run, _scan, _zip

from vigie.cli import main
from vigie.config import Settings
from vigie.sources import open_source
from vigie.sources.diskimage import DiskImageSource
from vigie.sources.reopen import read_item_bytes

_HOLIDAY = "Vacances été/plage ñ 写真.jpg"
_MTIME = 1_600_000_000  # 2020-09-13, set on every original so that the file systems' times can be checked


def _tree(root: Path) -> dict[str, bytes]:
    """The folder xorriso writes: a camera folder, a non-ASCII name, a zip holding a zip, a file kept out of the
    ISO 9660 and Joliet trees (HFS+ only) and one kept out of the HFS+ tree (ISO 9660 only)."""
    files = {"DCIM/100APPLE/IMG_0001.JPG": _picture(31), _HOLIDAY: _picture(32),
             "album.zip": _zip({"inner.zip": _zip({"c.jpg": _picture(33)})}),
             "mac-only.jpg": _picture(34), "iso-only.jpg": _picture(35)}
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (_MTIME, _MTIME))
    return files


def _hybrid(image: Path, tree: Path, apm_block_size: int = 512) -> None:
    """xorriso's hybrid image; its Apple partition map in 512-byte blocks (its default with -hfsplus), which The
    Sleuth Kit reads, or 2048-byte ones, which Vigie reads itself (`sources/apm.py`)."""
    _run("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-hfsplus", "-apm-block-size", str(apm_block_size),
         "-V", "SEIZED",
         "-hide", "mac-only.jpg", "-hide-joliet", "mac-only.jpg", "-hide-hfsplus", "iso-only.jpg",
         "-o", image, tree)


@pytest.mark.parametrize("apm_block_size", [512, 2048])
def test_hybrid_image_lists_every_file_once_per_file_system(apm_block_size: int, tmp_path: Path) -> None:
    _need("xorriso")
    files = _tree(tmp_path / "tree")
    image = tmp_path / "evidence" / "seized.iso"
    image.parent.mkdir()
    _hybrid(image, tmp_path / "tree", apm_block_size)
    listing = tmp_path / "known.txt"
    listing.write_text(f"{hashlib.md5(files['mac-only.jpg']).hexdigest()}\n")
    items = _scan(tmp_path / "case", image, hashlist=listing)

    inside = {path.removeprefix(str(image)): item for path, item in items.items()}
    nested = "album.zip!/inner.zip!/c.jpg"
    iso = {"DCIM/100APPLE/IMG_0001.JPG", _HOLIDAY, "album.zip", "album.zip!/inner.zip", nested, "iso-only.jpg"}
    hfs = {unicodedata.normalize("NFD", name) for name in iso - {"iso-only.jpg"} | {"mac-only.jpg"}}
    # no item for the partition map, the ISO 9660 pieces it carves, nor HFS+'s own files ($CatalogFile, ...)
    assert set(inside) == {""} | {f"!/p0/{name}" for name in iso} | {f"!/p3/{name}" for name in hfs}
    assert not any(item["errors"] for item in items.values())
    originals = {**files, nested: _picture(33)}
    for view, names in (("p0", iso), ("p3", hfs)):
        for name in names - {"album.zip!/inner.zip"}:
            item = inside[f"!/{view}/{name}"]
            assert item["sha256"] == hashlib.sha256(originals[unicodedata.normalize("NFC", name)]).hexdigest(), name
            assert not item["deleted"]
    camera = inside["!/p3/DCIM/100APPLE/IMG_0001.JPG"]
    assert camera["mtime"] == "2020-09-13T12:26:40+00:00"  # HFS+ keeps the content modification date
    assert camera["inode"] >= 16  # HFS+ catalog node IDs below 16 are the volume's own
    on_iso = inside["!/p0/DCIM/100APPLE/IMG_0001.JPG"]
    assert on_iso["inode"] and on_iso["mtime"] == camera["mtime"] and on_iso["ctime"] is None  # its one date
    assert [m["signal"] for m in inside["!/p3/mac-only.jpg"]["matches"]] == ["md5"]

    # read back through the image (the console's and exports' path), the non-ASCII HFS+ name too
    root = str(image.resolve())
    holiday = "!/p3/" + unicodedata.normalize("NFD", _HOLIDAY)
    for path, data in [(holiday, files[_HOLIDAY]), ("!/p0/" + _HOLIDAY, files[_HOLIDAY]),
                       (f"!/p3/{nested}", _picture(33))]:
        assert read_item_bytes(root, path, Settings(workers=1), 1 << 20) == data
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "0 changed, missing or unreadable" in result.output


def test_hybrid_image_whose_iso9660_tree_is_damaged_still_reads_hfsplus(tmp_path: Path) -> None:
    """With the ISO 9660 volume descriptor gone, the two pieces of ISO data the map names are said (no file
    system read there); the map's own entry is not a file system and says nothing; HFS+ is read."""
    _need("xorriso")
    files = _tree(tmp_path / "tree")
    image = tmp_path / "seized.img"
    _hybrid(image, tmp_path / "tree")
    with image.open("r+b") as media:
        media.seek(16 * 2048)  # the primary volume descriptor
        assert media.read(6)[1:] == b"CD001"
        media.seek(16 * 2048)
        media.write(b"\0" * 2048)
    items = _scan(tmp_path / "case", image)
    inside = {path.removeprefix(str(image)): item for path, item in items.items()}
    assert inside["!/p3/mac-only.jpg"]["sha256"] == hashlib.sha256(files["mac-only.jpg"]).hexdigest()
    said = {path for path, item in inside.items() if item["errors"]}
    assert said == {"!/p2", "!/p4"}
    assert "ISO9660_data" in inside["!/p2"]["errors"][0]["message"]
    assert not any(path.startswith("!/p0") or path.startswith("!/p1") for path in inside)


def test_hybrid_image_is_taken_for_a_disk_image_by_its_content(tmp_path: Path) -> None:
    _need("xorriso")
    _tree(tmp_path / "tree")
    image = tmp_path / "seized.bin"  # not a usual image name: the partition map and file systems decide
    _hybrid(image, tmp_path / "tree")
    assert open_source(str(image)).kind == "disk-image"


def test_damaged_apple_partition_map_is_said_and_stops_nothing(tmp_path: Path) -> None:
    """A map in 2048-byte blocks (read by Vigie, not The Sleuth Kit) claiming four billion entries, one of them
    an HFS+ partition past the image's end: the map is read to its last entry, the partition is an error."""
    _need()
    block = 2048

    def entry(start: int, blocks: int, kind: bytes) -> bytes:
        fields = b"PM\0\0" + struct.pack(">III", 0xFFFFFFFF, start, blocks) + b"\0" * 32 + kind.ljust(32, b"\0")
        return fields.ljust(block, b"\0")

    media = (b"ER" + struct.pack(">H", block)).ljust(block, b"\0") + entry(1, 2, b"Apple_partition_map")
    media += entry(1 << 20, 64, b"Apple_HFS") + b"\0" * (64 * block)
    image = tmp_path / "damaged.img"
    image.write_bytes(media)
    said = {entry.relpath: entry.error for entry in DiskImageSource(str(image)).entries()}
    assert set(said) == {"", "!/p2"}
    assert "Apple_HFS" in str(said["!/p2"]) and "starts past the end of the image" in str(said["!/p2"])


def test_hfsplus_link_and_pipe_are_recorded_not_read(tmp_path: Path) -> None:
    """A symbolic link is recorded with its target and never followed, as in a folder; a named pipe is said by
    its kind (both kept out of the ISO 9660 tree, which The Sleuth Kit reads without Rock Ridge's links)."""
    _need("xorriso")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "IMG_0001.JPG").write_bytes(_picture(36))
    (tree / "latest.jpg").symlink_to("IMG_0001.JPG")
    os.mkfifo(tree / "pipe")
    image = tmp_path / "seized.iso"
    hidden = [arg for name in ("latest.jpg", "pipe") for arg in ("-hide", name, "-hide-joliet", name)]
    _run("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-hfsplus", *hidden, "-o", image, tree)
    items = _scan(tmp_path / "case", image)
    link, pipe = items[f"{image}!/p3/latest.jpg"], items[f"{image}!/p3/pipe"]
    assert link["media_type"] == "inode/symlink" and link["sha256"] is None
    assert link["errors"] == [{"stage": "link", "message": "symbolic link to IMG_0001.JPG; not followed"}]
    assert pipe["errors"] == [{"stage": "read", "message": "not a regular file (named pipe); not read"}]
    assert items[f"{image}!/p3/IMG_0001.JPG"]["sha256"] == hashlib.sha256(_picture(36)).hexdigest()


def test_iso9660_records_the_sleuth_kit_cannot_place_are_not_deleted_files(tmp_path: Path) -> None:
    """ISO 9660 deletes nothing, yet The Sleuth Kit lists an orphan for the Joliet twin of an empty file and for
    a Rock Ridge link: records of zero bytes, not "deleted files whose metadata is gone"."""
    _need("xorriso")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "IMG_0001.JPG").write_bytes(_picture(37))
    (tree / "empty.txt").write_bytes(b"")
    (tree / "latest.jpg").symlink_to("IMG_0001.JPG")
    image = tmp_path / "seized.iso"
    _run("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-hfsplus", "-o", image, tree)
    items = _scan(tmp_path / "case", image)
    iso = {path.removeprefix(f"{image}!/p0/"): item for path, item in items.items() if "!/p0/" in path}
    assert set(iso) == {"IMG_0001.JPG", "empty.txt"}  # the link: in the HFS+ tree only, with its target
    assert not any(item["deleted"] for item in items.values())
    assert items[f"{image}!/p3/latest.jpg"]["errors"][0]["stage"] == "link"


def test_hybrid_image_whose_hfsplus_tree_is_damaged_says_so_and_reads_iso9660(tmp_path: Path) -> None:
    """The HFS+ partition lies inside the ISO 9660 data, yet its failure is said, not taken for a piece of it."""
    _need("xorriso")
    files = _tree(tmp_path / "tree")
    image = tmp_path / "seized.iso"
    _hybrid(image, tmp_path / "tree")
    with image.open("r+b") as media:
        media.seek(3 * 512)  # the map's third entry
        entry = media.read(80)
        assert entry[48:57] == b"Apple_HFS"
        header = struct.unpack_from(">I", entry, 8)[0] * 512 + 1024  # the HFS+ volume header
        media.seek(header)
        assert media.read(2) == b"H+"
        media.seek(header)
        media.write(b"\0" * 512)
    items = _scan(tmp_path / "case", image)
    said = {path.removeprefix(str(image)): item["errors"] for path, item in items.items() if item["errors"]}
    assert list(said) == ["!/p3"] and "no readable file system" in said["!/p3"][0]["message"]
    assert items[f"{image}!/p0/iso-only.jpg"]["sha256"] == hashlib.sha256(files["iso-only.jpg"]).hexdigest()


def _give_resource_fork(image: Path, name: str, data: bytes) -> None:
    """Point the resource fork of HFS+ file `name` (in the root) at the blocks that hold `data` already (xorriso
    writes no resource fork: the catalog record is patched, as HFS+ keeps no checksum over it)."""
    media = bytearray(image.read_bytes())
    entry = media[3 * 512: 3 * 512 + 80]  # the map's third entry: the HFS+ partition
    assert entry[48:57] == b"Apple_HFS"
    volume = struct.unpack_from(">I", entry, 8)[0] * 512
    assert media[volume + 1024: volume + 1026] == b"H+"
    block_size = struct.unpack_from(">I", media, volume + 1024 + 40)[0]
    where = media.find(data)
    assert where > volume and (where - volume) % block_size == 0
    key = struct.pack(">H", len(name)) + name.encode("utf-16-be")
    record = next(at + len(key) for at in range(len(media)) if media.startswith(key, at)
                  and media[at + len(key): at + len(key) + 2] == b"\x00\x02")  # a file record, not its thread
    blocks = -(-len(data) // block_size)
    fork = struct.pack(">QII", len(data), 0, blocks) + struct.pack(">II", (where - volume) // block_size, blocks)
    media[record + 168: record + 168 + len(fork)] = fork  # HFSPlusCatalogFile.resourceFork
    image.write_bytes(bytes(media))


def test_hfsplus_resource_fork_is_an_item_of_its_own(tmp_path: Path) -> None:
    """A picture in a file's resource fork (where classic Mac files kept icons and pictures) is read and matched
    as `name/..namedfork/rsrc`, macOS's own path to it, beside the file's data fork."""
    _need("xorriso")
    tree = tmp_path / "tree"
    tree.mkdir()
    hidden = _picture(38)
    (tree / "letter.txt").write_bytes(b"Dear all,\n")
    (tree / "source.jpg").write_bytes(hidden)  # in the ISO 9660 tree only: its blocks become the fork's
    (tree / "album" / "..namedfork").mkdir(parents=True)  # folders named so: a path that is no fork
    (tree / "album" / "..namedfork" / "rsrc").write_bytes(_picture(39))
    image = tmp_path / "seized.iso"
    _run("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-hfsplus", "-hide-hfsplus", "source.jpg",
         "-o", image, tree)
    _give_resource_fork(image, "letter.txt", hidden)
    listing = tmp_path / "known.txt"
    listing.write_text(f"{hashlib.md5(hidden).hexdigest()}\n")
    items = _scan(tmp_path / "case", image, hashlist=listing)
    fork = items[f"{image}!/p3/letter.txt/..namedfork/rsrc"]
    assert fork["sha256"] == hashlib.sha256(hidden).hexdigest() and fork["media_type"] == "image/jpeg"
    assert [m["signal"] for m in fork["matches"]] == ["md5"] and not fork["errors"]
    assert items[f"{image}!/p3/letter.txt"]["sha256"] == hashlib.sha256(b"Dear all,\n").hexdigest()
    root = str(image.resolve())
    assert read_item_bytes(root, "!/p3/letter.txt/..namedfork/rsrc", Settings(workers=1), 1 << 20) == hidden
    folders = items[f"{image}!/p3/album/..namedfork/rsrc"]
    assert folders["sha256"] == hashlib.sha256(_picture(39)).hexdigest() and not folders["errors"]
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0 and "0 changed, missing or unreadable" in result.output, result.output
