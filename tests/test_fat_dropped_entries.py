r"""FAT directory entries The Sleuth Kit drops (a short name holding a byte FAT forbids: \x01, "/", "\") are read
by Vigie's own FAT reader (`sources/fatdir.py`): each becomes an item with its path, hash and note, is read back
by `verify` and matched; clusters the FAT holds that no listed file claims are said; hostile FAT structures give
notes, never a crash or a hang. Volumes are made with mkfs.vfat and mtools, then their entries patched."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_disk_images import _disk, _e01, _need, _picture, _run, _scan
from vigie.cli import main
from vigie.config import Settings
from vigie.sources.fatdir import FatLayoutError, FatVolume
from vigie.sources.reopen import read_item_bytes

_SKIPPED = "The Sleuth Kit skipped this file's directory entry"
_LOST = "allocated in the FAT but no file or folder listed claims them"


def _volume(tmp_path: Path, bits: int, files: dict[str, bytes], deleted: tuple[str, ...] = (),
            label: str = "") -> Path:
    """A FAT12/16/32 volume holding `files` ("DIR/NAME": bytes), then `deleted` of them deleted ("DIR/": a
    folder and all in it); `label`: its volume label, given to mkfs.vfat."""
    volume = tmp_path / f"fat{bits}.img"
    size = {12: ["4096"], 16: ["16384"], 32: ["-s", "1", "-C", str(volume), "36864"]}[bits]
    _run("mkfs.vfat", "-F", str(bits), *(["-n", label] if label else []),
         *(size if bits == 32 else ["-C", volume, *size]))
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    made: set[str] = set()
    for number, (name, data) in enumerate(files.items()):
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            if (folder := "/".join(parts[:depth])) not in made:
                _run("mmd", "-i", volume, f"::{folder}")
                made.add(folder)
        (scratch / str(number)).write_bytes(data)
        _run("mcopy", "-i", volume, scratch / str(number), f"::{name}")
    for name in deleted:
        _run("mdeltree" if name.endswith("/") else "mdel", "-i", volume, f"::{name.rstrip('/')}")
    return volume


def _layout(volume: bytes) -> tuple[int, int, int, int, int]:
    """(bits, first FAT's offset, FAT length in bytes, FAT count, cluster count) from the boot sector."""
    sector, per_cluster, reserved, fats, root_entries, small = struct.unpack_from("<HBHBHH", volume, 11)
    fat_sectors = struct.unpack_from("<H", volume, 22)[0] or struct.unpack_from("<I", volume, 36)[0]
    total = small or struct.unpack_from("<I", volume, 32)[0]
    data = reserved + fats * fat_sectors + -(-root_entries * 32 // sector)
    count = (total - data) // per_cluster
    bits = 32 if not struct.unpack_from("<H", volume, 22)[0] else 12 if count < 4085 else 16
    return bits, reserved * sector, fat_sectors * sector, fats, count


def _set_fat(volume: bytearray, cluster: int, value: int) -> None:
    """Writes `value` as `cluster`'s FAT entry in every FAT copy."""
    bits, first, length, fats, _ = _layout(volume)
    for copy in range(fats):
        at = first + copy * length
        if bits == 32:
            struct.pack_into("<I", volume, at + 4 * cluster, value)
        elif bits == 16:
            struct.pack_into("<H", volume, at + 2 * cluster, value)
        else:
            pair = at + cluster * 3 // 2
            old = struct.unpack_from("<H", volume, pair)[0]
            new = (old & 0x000F) | value << 4 if cluster % 2 else (old & 0xF000) | value
            struct.pack_into("<H", volume, pair, new)


def _fat_next(volume: bytes, cluster: int) -> int:
    bits, first, _, _, _ = _layout(volume)
    if bits == 32:
        return int(struct.unpack_from("<I", volume, first + 4 * cluster)[0] & 0x0FFFFFFF)
    if bits == 16:
        return int(struct.unpack_from("<H", volume, first + 2 * cluster)[0])
    pair = struct.unpack_from("<H", volume, first + cluster * 3 // 2)[0]
    return int(pair >> 4 if cluster % 2 else pair & 0x0FFF)


def _rename(volume: bytearray, old: bytes, new: bytes, long_name: bool = False, lost_first: bytes = b"") -> int:
    """Rewrites the 8.3 name `old` (11 bytes, as stored) to `new`; `long_name`: the long-name pieces before it
    get the checksum of the new name, as a tool that wrote such a name would have (of the name with its first
    byte `lost_first`, where deleting it overwrote that). The entry's first cluster."""
    at = volume.find(old)
    assert at > 0 and at % 32 == 0 and volume.find(old, at + 1) < 0, old
    volume[at: at + 11] = new
    piece = at - 32
    while long_name and volume[piece + 11] == 0x0F:
        total = 0
        for byte in (lost_first or new[:1]) + new[1:]:
            total = (((total & 1) << 7) + (total >> 1) + byte) & 0xFF
        volume[piece + 13] = total
        piece -= 32
    high = struct.unpack_from("<H", volume, at + 20)[0] if _layout(volume)[0] == 32 else 0
    return int(struct.unpack_from("<H", volume, at + 26)[0] | high << 16)


@pytest.mark.parametrize("bits", [16, 32])
def test_entries_the_sleuth_kit_drops_are_items_hashed_matched_and_verified(bits: int, tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    originals = {"DCIM/IMG_0001.JPG": _picture(1), "B.JPG": _picture(2), "HIDE/C.JPG": _picture(3),
                 "Holiday picture.jpg": _picture(4), "GONE.JPG": _picture(5)}
    volume_path = _volume(tmp_path, bits, originals, deleted=("GONE.JPG",))
    volume = bytearray(volume_path.read_bytes())
    _rename(volume, b"B       JPG", b"B\x01      JPG")
    _rename(volume, b"HIDE       ", b"HI/E       ")  # a folder dropped hides the files below it
    _rename(volume, b"HOLIDA~1JPG", b"HOLI\\A~1JPG", long_name=True)
    _rename(volume, b"\xe5ONE    JPG", b"\xe5O\x01E    JPG")
    count = _layout(volume)[4]
    cluster_bytes = volume[13] * struct.unpack_from("<H", volume, 11)[0]
    for cluster in range(count - 1, count + 1):  # a chain no entry points to: three lost clusters
        _set_fat(volume, cluster, cluster + 1)
    _set_fat(volume, count + 1, 0x0FFFFFFF if bits == 32 else 0xFFFF)
    volume_path.write_bytes(bytes(volume))
    raw = tmp_path / "evidence" / "disk.raw"
    raw.parent.mkdir()
    _disk(raw, "gpt" if bits == 32 else "dos", [volume_path])
    hashlist = tmp_path / "known.txt"
    hashlist.write_text("".join(f"{hashlib.md5(data).hexdigest()}\n" for data in originals.values()))

    items = _scan(tmp_path / "case", raw, hashlist=hashlist)
    shown = {"DCIM/IMG_0001.JPG": "DCIM/IMG_0001.JPG", "B.JPG": "B\\x01.JPG", "HIDE/C.JPG": "HI\\x00E/C.JPG",
             "Holiday picture.jpg": "Holiday picture.jpg", "GONE.JPG": "_O\\x01E.JPG"}
    for name, path in shown.items():
        item = items[f"{raw}!/p1/{path}"]
        assert item["sha256"] == hashlib.sha256(originals[name]).hexdigest(), path
        assert "md5" in {match["signal"] for match in item["matches"]}, path
        assert item["deleted"] is (name == "GONE.JPG") and item["inode"] and item["mtime"], path
        notes = [error["message"] for error in item["errors"]]
        assert any(_SKIPPED in note for note in notes) is (name != "DCIM/IMG_0001.JPG"), (path, notes)
    assert any("shown as \\x00" in error["message"] for error in items[f"{raw}!/p1/HI\\x00E/C.JPG"]["errors"])
    (lost,) = items[f"{raw}!/p1"]["errors"]
    assert f"3 clusters ({3 * cluster_bytes:,} bytes) are {_LOST}" in lost["message"]

    root = str(raw.resolve())
    assert read_item_bytes(root, "!/p1/B\\x01.JPG", Settings(workers=1), 1 << 20) == originals["B.JPG"]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output


def test_a_dropped_entry_in_an_e01_is_read_through_libewf_and_verified(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")
    picture = _picture(19)
    volume_path = _volume(tmp_path, 16, {"DCIM/IMG_0001.JPG": picture})
    volume = bytearray(volume_path.read_bytes())
    _rename(volume, b"IMG_0001JPG", b"IMG\\0001JPG")
    volume_path.write_bytes(bytes(volume))
    raw = tmp_path / "disk.raw"
    _disk(raw, "dos", [volume_path])
    image = _e01(raw, tmp_path / "evidence" / "stick")
    items = _scan(tmp_path / "case", image)
    assert items[f"{image}!/p1/DCIM/IMG\\\\0001.JPG"]["sha256"] == hashlib.sha256(picture).hexdigest()
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output


def test_a_dropped_entry_whose_name_a_listed_file_holds_is_numbered_and_read_back(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    pictures = {"Apple one.jpg": _picture(20), "Apple two.jpg": _picture(21)}
    volume_path = _volume(tmp_path, 16, pictures)
    volume = bytearray(volume_path.read_bytes())
    at = volume.find("two".encode("utf-16-le"))
    volume[at: at + 6] = "one".encode("utf-16-le")  # its long name is now the first file's
    _rename(volume, b"APPLET~1JPG", b"APPLE\x01~1JPG", long_name=True)
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    listed, skipped = items[f"{volume_path}!/p0/Apple one.jpg"], items[f"{volume_path}!/p0/Apple one.jpg!2"]
    assert listed["sha256"] == hashlib.sha256(pictures["Apple one.jpg"]).hexdigest() and not listed["errors"]
    assert skipped["sha256"] == hashlib.sha256(pictures["Apple two.jpg"]).hexdigest()
    assert read_item_bytes(str(volume_path), "!/p0/Apple one.jpg!2", Settings(workers=1), 1 << 20) \
        == pictures["Apple two.jpg"]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_ordinary_fat_volumes_get_no_cross_check_note(bits: int, tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    originals = {"DCIM/100APPLE/IMG_0001.JPG": _picture(6), "A Long Name.jpeg": _picture(7), "OLD.JPG": _picture(8),
                 "b.jpg": _picture(9), "TRIP/IMG_0002.JPG": _picture(10)}
    volume = _volume(tmp_path, bits, originals, deleted=("OLD.JPG", "TRIP/"))
    items = _scan(tmp_path / "case", volume)
    inside = {path.split("!/p0/", 1)[1]: item for path, item in items.items() if "!/p0/" in path}
    assert set(inside) == {"DCIM/100APPLE/IMG_0001.JPG", "A Long Name.jpeg", "_LD.JPG", "b.jpg", "_RIP/_MG_0002.JPG"}
    assert all(not item["errors"] for item in items.values()), [i["errors"] for i in items.values() if i["errors"]]


def test_hostile_chains_and_folders_of_dropped_entries_are_said(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    big = _picture(10) * 3  # several clusters of 2 KiB
    originals = {"LOOP.JPG": big, "PAST.JPG": big, "DIR/X.JPG": _picture(11), "DIR/SUB/Y.JPG": _picture(12)}
    volume_path = _volume(tmp_path, 12, originals)
    volume = bytearray(volume_path.read_bytes())
    loop = _rename(volume, b"LOOP    JPG", b"LO\x01P    JPG")
    _set_fat(volume, _fat_next(volume, loop), loop)  # its second cluster turns back to its first
    past = _rename(volume, b"PAST    JPG", b"PA\x01T    JPG")
    _set_fat(volume, past, _layout(volume)[4] + 50)  # its chain runs past the volume's end
    folder = _rename(volume, b"DIR        ", b"D\x01R        ")
    struct.pack_into("<H", volume, volume.find(b"SUB        ") + 26, folder)  # the subfolder is its parent again
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    for name in ("LO\\x01P.JPG", "PA\\x01T.JPG"):
        item = items[f"{volume_path}!/p0/{name}"]
        messages = " ".join(error["message"] for error in item["errors"])
        assert item["sha256"] is None and "broken or looping cluster chain" in messages, name
    assert items[f"{volume_path}!/p0/D\\x01R/X.JPG"]["sha256"] == hashlib.sha256(originals["DIR/X.JPG"]).hexdigest()
    folders, lost = (error["message"] for error in items[f"{volume_path}!/p0"]["errors"])
    assert "folders not entered" in folders and _LOST in lost
    assert not [path for path in items if "Y.JPG" in path]  # behind the looping folder: its clusters are said


def test_dropped_deleted_files_are_recovered_as_the_sleuth_kit_recovers_deleted_files(tmp_path: Path) -> None:
    """A deleted file's content is the free clusters from its first on, skipping allocated ones (a live file
    that sat between its pieces); one whose first cluster was reused is said unrecoverable."""
    _need("mkfs.vfat", "mcopy")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    files = {"PAD1.TXT": b"pad\n", "PAD2.TXT": b"pad\n", "GONE1.JPG": _picture(15), "GONE2.JPG": _picture(16),
             "NEW.JPG": _picture(17), "XRAY.JPG": _picture(18)}
    for name, data in files.items():
        (scratch / name).write_bytes(data)
    volume_path = tmp_path / "fat16.img"
    _run("mkfs.vfat", "-F", "16", "-C", volume_path, "16384")
    _run("mmd", "-i", volume_path, "::DIR")
    for step, name, target in (("mkdir", "", "::OLD"), ("copy", "XRAY.JPG", "::OLD/XRAY.JPG"),
                               ("copy", "PAD1.TXT", "::PAD1.TXT"), ("copy", "PAD2.TXT", "::PAD2.TXT"),
                               ("del", "", "::PAD1.TXT"), ("copy", "GONE1.JPG", "::GONE1.JPG"),
                               ("copy", "GONE2.JPG", "::DIR/GONE2.JPG"), ("del", "", "::DIR/GONE2.JPG"),
                               ("copy", "NEW.JPG", "::NEW.JPG"), ("del", "", "::GONE1.JPG"), ("deltree", "", "::OLD")):
        if step == "copy":
            _run("mcopy", "-i", volume_path, scratch / name, target)
        else:
            _run({"del": "mdel", "mkdir": "mmd", "deltree": "mdeltree"}[step], "-i", volume_path, target)
    volume = bytearray(volume_path.read_bytes())
    first = _rename(volume, b"\xe5ONE1   JPG", b"\xe5O\x01E1   JPG")
    assert _fat_next(volume, first) == 0 and _fat_next(volume, first + 1) != 0  # PAD2 sits in its second place
    _rename(volume, b"\xe5ONE2   JPG", b"\xe5O\x01E2   JPG")
    _rename(volume, b"\xe5RAY    JPG", b"\xe5R\x01Y    JPG")  # in a deleted folder, read as The Sleuth Kit reads one
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    recovered = items[f"{volume_path}!/p0/_O\\x01E1.JPG"]
    assert recovered["deleted"] and recovered["sha256"] == hashlib.sha256(files["GONE1.JPG"]).hexdigest()
    reused = items[f"{volume_path}!/p0/DIR/_O\\x01E2.JPG"]
    assert reused["deleted"] and reused["sha256"] is None
    assert "clusters were reused by another file" in reused["errors"][-1]["message"]
    in_deleted_folder = items[f"{volume_path}!/p0/_LD/_R\\x01Y.JPG"]
    assert in_deleted_folder["deleted"]
    assert in_deleted_folder["sha256"] == hashlib.sha256(files["XRAY.JPG"]).hexdigest()
    assert items[f"{volume_path}!/p0/NEW.JPG"]["sha256"] == hashlib.sha256(files["NEW.JPG"]).hexdigest()
    assert not items[f"{volume_path}!/p0/PAD2.TXT"]["errors"] and f"{volume_path}!/p0" not in items


def _boot(volume: bytes) -> FatVolume:
    return FatVolume(lambda offset, length: volume[offset: offset + length], 0, 32)


def test_absurd_boot_sectors_and_looping_folders_end_with_a_note(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", extra=False)
    volume = bytearray(_volume(tmp_path, 32, {"A.JPG": _picture(13)}).read_bytes())
    for at, value, fmt in ((11, 500, "<H"), (13, 3, "<B"), (36, 0, "<I"), (44, 1 << 27, "<I")):
        bad = bytearray(volume)
        struct.pack_into(fmt, bad, at, value)
        with pytest.raises(FatLayoutError):
            _boot(bytes(bad))
    huge = bytearray(volume)  # a FAT of gigabytes: refused before anything is read
    struct.pack_into("<II", huge, 32, 0xFFFFFFFF, 1 << 24)
    with pytest.raises(FatLayoutError, match="larger than this cross-check reads"):
        _boot(bytes(huge))
    looping = bytearray(volume)
    _set_fat(looping, 2, 2)  # the root folder's chain turns back on itself
    fat = _boot(bytes(looping))
    assert [entry.name for entry in fat.entries()] == [b"A.JPG"]
    assert any("folders whose cluster chain breaks off, loops" in note for note in fat.said())


def test_a_boot_sector_the_sleuth_kit_takes_but_no_fat_volume_holds_is_said(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    volume_path = _volume(tmp_path, 32, {"A.JPG": _picture(14)})
    volume = bytearray(volume_path.read_bytes())
    struct.pack_into("<I", volume, 44, 0x0FFFFF00)  # the root folder's first cluster, far past the end
    volume_path.write_bytes(bytes(volume))
    _scan(tmp_path / "case", volume_path)
    report = json.loads((tmp_path / "case" / "report.json").read_text())
    said = [error["message"] for item in report["items"] if item["path"] == f"{volume_path}!/p0"
            for error in item["errors"]]
    assert any("Vigie's own FAT reader could not cross-check" in message and "lies outside the volume" in message
               for message in said), said
