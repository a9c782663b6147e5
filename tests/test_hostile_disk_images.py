"""Hostile and incomplete disk images: a split raw image with a piece missing, disk images nested in a folder
or an archive, partition entries past the image's end, damaged GPT headers, a looping FAT cluster chain, an ext4
folder cycle and sparse file, hostile names, E01s cut short or with a wrong stored MD5. Built with
Debian's tools, skipped where a tool or the `disk` extra is missing."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_disk_images import _SECTOR, _disk, _e01, _fat, _need, _picture, _run, _scan, _zip
from vigie.cli import main
from vigie.sources.disk.media import EWF_SIGNATURE
from vigie.store.sqlite import open_case


def _stick(tmp_path: Path, table: str = "dos", seed: int = 11, name: str = "disk.raw") -> tuple[Path, bytes]:
    """A disk (partition table `table`: dos or gpt) with one FAT partition holding one picture; its bytes."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    picture = _picture(seed)
    (scratch / "a.jpg").write_bytes(picture)
    fat = tmp_path / "p.fat"
    _fat(fat, 4096, [("copy", "a.jpg", "::A.JPG")], scratch)
    raw = tmp_path / name
    _disk(raw, table, [fat])
    return raw, picture


def test_split_raw_with_a_middle_piece_missing_says_so_and_reads_the_rest(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, picture = _stick(tmp_path)
    data = raw.read_bytes()
    third = len(data) // 3
    pieces = tmp_path / "pieces"
    pieces.mkdir()
    for number, part in enumerate((data[:third], data[third: 2 * third], data[2 * third:]), 1):
        (pieces / f"disk.{number:03d}").write_bytes(part)
    (pieces / "disk.002").unlink()
    items = _scan(tmp_path / "case", pieces / "disk.001")
    image = items[str(pieces / "disk.001")]
    assert "piece disk.002 is missing" in image["errors"][0]["message"]
    assert items[f"{pieces / 'disk.001'}!/p1/A.JPG"]["md5"] == hashlib.md5(picture).hexdigest()  # in piece 1


def test_split_raw_whose_piece_is_a_symbolic_link_says_so_and_reads_the_pieces_before(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, picture = _stick(tmp_path)
    data = raw.read_bytes()
    third = len(data) // 3
    pieces, elsewhere = tmp_path / "pieces", tmp_path / "elsewhere"
    pieces.mkdir()
    elsewhere.mkdir()
    for number, part in enumerate((data[:third], data[third: 2 * third], data[2 * third:]), 1):
        (elsewhere / f"disk.{number:03d}").write_bytes(part)
    for number in (1, 2):  # the piece the user names may be a link (followed); a piece beside it is not
        (pieces / f"disk.{number:03d}").symlink_to(elsewhere / f"disk.{number:03d}")
    (elsewhere / "disk.003").rename(pieces / "disk.003")
    items = _scan(tmp_path / "case", pieces / "disk.001")
    image = items[str(pieces / "disk.001")]
    assert image["size"] == third
    assert [error["message"] for error in image["errors"]] == [
        f"split image piece disk.002 is a symbolic link to {elsewhere}/disk.002; not followed (no link inside "
        "evidence is): only the first 1 piece(s) were read; files lying further in the image are missing or damaged"]
    assert items[f"{pieces / 'disk.001'}!/p1/A.JPG"]["md5"] == hashlib.md5(picture).hexdigest()  # in piece 1


def test_verify_says_an_image_unreadable_when_scanned_was_never_read_not_that_it_is_ok(tmp_path: Path) -> None:
    _need()
    image = tmp_path / "cut.E01"  # an E01 cut inside its first sections: its media cannot be read at all
    image.write_bytes(EWF_SIGNATURE + bytes(300))
    case = tmp_path / "case"
    assert _scan(case, image)[str(image)]["sha256"] is None
    result = CliRunner().invoke(main, ["verify", "--case", str(case), "--workers", "1"])
    assert result.exit_code == 0, result.output  # nothing changed: but nothing was verified either
    shown = "".join(result.output.split())  # rich wraps long lines, paths too
    assert f"NEVERREAD{image}notreadwhenscanned,nornow:cannotopentheEWFimage" in shown
    assert "1fileschecked,0changed,missingorunreadable;1neverread(whenscanned,nornow):notverified." in shown
    store = open_case(case)
    assert [e.details for e in store.audit_entries() if e.action == "verify"] == [
        {"files": 1, "problems": 0, "changed": [], "never_read": [str(image)]}]
    store.close()
    image.unlink()  # unreadable then, gone now: missing, not "never read"
    result = CliRunner().invoke(main, ["verify", "--case", str(case), "--workers", "1"])
    assert result.exit_code == 3 and "MISSING" in result.output, result.output


def test_disk_images_inside_a_folder_or_a_zip_are_said_not_opened(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")
    raw, _ = _stick(tmp_path)
    image = _e01(raw, tmp_path / "made" / "stick")
    evidence = tmp_path / "evidence"
    (evidence / "sub").mkdir(parents=True)
    (evidence / "sub" / "stick.E01").write_bytes(image.read_bytes())
    (evidence / "disk.dd").write_bytes(raw.read_bytes())
    (evidence / "backup.zip").write_bytes(_zip({"stick.E01": image.read_bytes()}))
    items = _scan(tmp_path / "case", evidence)
    for path in ("sub/stick.E01", "disk.dd", "backup.zip!/stick.E01"):
        messages = [error["message"] for error in items[f"{evidence}/{path}"]["errors"]]
        assert any("disk image inside a scanned folder, archive or image is not opened" in m for m in messages), path


def _two_partitions(tmp_path: Path, table: str = "dos") -> tuple[Path, list[int], dict[str, bytes]]:
    """A disk (MBR, or `table`): p1 FAT holding A.JPG, p2 FAT holding B.JPG; the partitions' first sectors."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pictures = {"A.JPG": _picture(12), "B.JPG": _picture(13)}
    parts = []
    for number, (name, data) in enumerate(pictures.items(), 1):
        (scratch / name).write_bytes(data)
        parts.append(tmp_path / f"p{number}.fat")
        _fat(parts[-1], 4096, [("copy", name, f"::{name}")], scratch)
    raw = tmp_path / "disk.raw"
    return raw, _disk(raw, table, parts), pictures


def test_a_partition_entry_past_the_end_is_said_and_the_other_partition_read(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, _, pictures = _two_partitions(tmp_path)
    table = bytearray(raw.read_bytes())
    struct.pack_into("<I", table, 446 + 16 + 8, 10**8)  # the second entry's first sector, far past the end
    raw.write_bytes(bytes(table))
    items = _scan(tmp_path / "case", raw)  # The Sleuth Kit refused the whole table: a plain file, nothing read
    assert items[f"{raw}!/p1/A.JPG"]["md5"] == hashlib.md5(pictures["A.JPG"]).hexdigest()
    assert "partition 2" in (message := items[f"{raw}!/p2"]["errors"][0]["message"])
    assert "starts past the end of the image" in message


def test_a_partition_cut_short_by_a_truncated_raw_image_is_said_and_still_read(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, starts, pictures = _two_partitions(tmp_path)
    raw.write_bytes(raw.read_bytes()[: (starts[1] + 6000) * _SECTOR])  # B.JPG lies in p2's first sectors
    items = _scan(tmp_path / "case", raw)
    assert "ends past the end of the image" in items[f"{raw}!/p2"]["errors"][0]["message"]
    for label, name in (("p1", "A.JPG"), ("p2", "B.JPG")):
        assert items[f"{raw}!/{label}/{name}"]["md5"] == hashlib.md5(pictures[name]).hexdigest()


def test_a_live_file_with_a_looping_cluster_chain_is_said_corrupt_not_deleted(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    pictures = {"A.JPG": _picture(14), "B.JPG": _picture(15)}
    stick = tmp_path / "stick.img"
    _run("mkfs.vfat", "-F", "16", "-C", stick, "16384")
    for name, data in pictures.items():
        (scratch / name).write_bytes(data)
        _run("mcopy", "-i", stick, scratch / name, f"::{name}")
    volume = bytearray(stick.read_bytes())
    reserved, fat_sectors, fats = volume[14] | volume[15] << 8, volume[22] | volume[23] << 8, volume[16]
    for copy in range(fats):  # A.JPG's chain 2, 3, 4, 5, ... turns back from cluster 5 to cluster 3
        struct.pack_into("<H", volume, (reserved + copy * fat_sectors) * _SECTOR + 2 * 5, 3)
    stick.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", stick)
    broken = items[f"{stick}!/p0/A.JPG"]
    assert broken["md5"] is None and not broken["deleted"]
    assert "broken or looping cluster chain" in broken["errors"][0]["message"]
    assert items[f"{stick}!/p0/B.JPG"]["md5"] == hashlib.md5(pictures["B.JPG"]).hexdigest()


def test_hostile_names_stay_inside_the_image_printable_and_each_is_read(tmp_path: Path) -> None:
    _need("mkfs.ext4")
    tree = tmp_path / "tree"
    tree.mkdir()
    names = [b"SLASHxAB.jpg", b"ctl\x01\x1b[31m.jpg", b"new\nline.jpg", b"x" * 251 + b".jpg", b"bad\xff.jpg",
             b"..x.jpg", b"a!b\\c.jpg"]
    pictures = {name: _picture(20 + number) for number, name in enumerate(names)}
    for name, data in pictures.items():
        (tree / os.fsdecode(name)).write_bytes(data)
    volume = tmp_path / "names.ext4"
    _run("mkfs.ext4", "-q", "-d", tree, volume, "4M")
    raw = bytearray(volume.read_bytes())
    at = raw.find(b"SLASHxAB.jpg")
    raw[at: at + 12] = b"../..x/x.jpg"  # the folder entry's name now climbs out, with slashes: no tool writes one
    volume.write_bytes(bytes(raw))
    items = _scan(tmp_path / "case", volume)
    inside = {path: item for path, item in items.items() if path.startswith(f"{volume}!/p0/")}
    assert len(inside) == len(names) and all(path.isprintable() for path in inside)
    assert {item["md5"] for item in inside.values()} == {hashlib.md5(data).hexdigest() for data in pictures.values()}
    assert "shown as \\x00" in items[f"{volume}!/p0/..\\x00..x\\x00x.jpg"]["errors"][0]["message"]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])  # each one read back
    assert verified.exit_code == 0 and f"{len(names) + 1} files checked, 0 changed" in verified.output, verified.output


def test_a_folder_cycle_and_a_huge_sparse_file_in_ext4_are_said_and_the_rest_read(tmp_path: Path) -> None:
    _need("mkfs.ext4", "debugfs")
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    pictures = {"a/b/p.jpg": _picture(30), "q.jpg": _picture(31)}
    for name, data in pictures.items():
        (tree / name).write_bytes(data)
    with (tree / "sparse.bin").open("wb") as handle:
        handle.truncate(3 << 30)  # all holes: 3 GiB of zeros that take no block
    volume = tmp_path / "cycle.ext4"
    _run("mkfs.ext4", "-q", "-d", tree, volume, "8M")
    _run("debugfs", "-w", "-R", "ln /a /a/b/loop", volume)  # a folder linked into its own child
    items = _scan(tmp_path / "case", volume)
    assert "loops back on itself" in items[f"{volume}!/p0/a/b/loop"]["errors"][0]["message"]
    sparse = items[f"{volume}!/p0/sparse.bin"]  # reading 3 GiB of zeros stalled the scan
    assert sparse["md5"] is None and "sparse file claiming 3,221,225,472 bytes" in sparse["errors"][0]["message"]
    for name, data in pictures.items():
        assert items[f"{volume}!/p0/{name}"]["md5"] == hashlib.md5(data).hexdigest()


def test_a_damaged_primary_gpt_is_read_from_its_backup_and_said(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, picture = _stick(tmp_path, "gpt", 41, "gpt.raw")
    with raw.open("r+b") as disk:
        disk.seek(_SECTOR)
        disk.write(b"\0" * _SECTOR)  # the primary header: The Sleuth Kit saw only the protective MBR entry
    items = _scan(tmp_path / "case", raw)
    assert items[f"{raw}!/p1/A.JPG"]["md5"] == hashlib.md5(picture).hexdigest()
    assert "read from the backup GPT" in items[f"{raw}!/p1"]["errors"][0]["message"]
    assert "the primary GPT (sector 1) is missing (no GPT header there); the backup GPT (sector 12,287) is sound: " \
           "the partitions it lists are read from it" in items[str(raw)]["errors"][0]["message"]


def test_a_damaged_backup_gpt_is_said_on_the_image(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, picture = _stick(tmp_path, "gpt", 41, "gpt.raw")
    with raw.open("r+b") as disk:
        disk.seek(-_SECTOR, 2)
        disk.write(b"\0" * _SECTOR)
    items = _scan(tmp_path / "case", raw)
    assert items[f"{raw}!/p1/A.JPG"]["md5"] == hashlib.md5(picture).hexdigest()
    assert "backup GPT" in items[str(raw)]["errors"][0]["message"]


def _edit_gpt(raw: Path, header_at: int, drop: int | None = None, sound: bool = True) -> None:
    """Edit the GPT header at byte `header_at` (negative: from the end): blank its entry `drop`, then set its
    CRC32s anew (`sound`) or break its header's CRC32."""
    data = bytearray(raw.read_bytes())
    at = header_at % len(data)
    entries = struct.unpack_from("<Q", data, at + 72)[0] * _SECTOR
    count, size = struct.unpack_from("<II", data, at + 80)
    if drop is not None:
        data[entries + drop * size: entries + (drop + 1) * size] = bytes(size)
    if sound:
        struct.pack_into("<I", data, at + 88, zlib.crc32(data[entries: entries + count * size]))
        struct.pack_into("<I", data, at + 16, 0)
        struct.pack_into("<I", data, at + 16, zlib.crc32(data[at: at + 92]))
    else:
        data[at + 16] ^= 0xFF
    raw.write_bytes(data)


def test_a_partition_only_a_sound_backup_gpt_lists_is_read_where_the_primary_is_damaged(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, _, pictures = _two_partitions(tmp_path, "gpt")
    _edit_gpt(raw, _SECTOR, drop=1, sound=False)  # The Sleuth Kit reads this primary all the same: p1 alone
    items = _scan(tmp_path / "case", raw)
    assert "the primary GPT (sector 1) is damaged (its header CRC32 does not match); the backup GPT (sector " \
           "20,479) is sound and lists other partitions than were read from the primary: only the backup lists " \
           "sectors 10,240-18,431 (8,192 sectors of 512 bytes)" in items[str(raw)]["errors"][0]["message"]
    assert items[f"{raw}!/p1/A.JPG"]["md5"] == hashlib.md5(pictures["A.JPG"]).hexdigest()
    assert items[f"{raw}!/p2/B.JPG"]["md5"] == hashlib.md5(pictures["B.JPG"]).hexdigest()
    assert "read from the backup GPT: the primary GPT is damaged" in items[f"{raw}!/p2"]["errors"][0]["message"]


def test_both_gpt_headers_damaged_is_said_with_what_was_read(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, _, pictures = _two_partitions(tmp_path, "gpt")
    _edit_gpt(raw, _SECTOR, sound=False)
    _edit_gpt(raw, -_SECTOR, sound=False)
    items = _scan(tmp_path / "case", raw)
    assert "the partition table is damaged: the primary GPT (sector 1) is damaged (its header CRC32 does not " \
           "match) and the backup GPT (sector 20,479) is damaged (its header CRC32 does not match); partitions " \
           "read all the same, as the primary lists them: sectors 2,048-10,239 (8,192 sectors of 512 " \
           "bytes), sectors 10,240-18,431" in items[str(raw)]["errors"][0]["message"]
    for number, (name, data) in enumerate(pictures.items(), 1):
        assert items[f"{raw}!/p{number}/{name}"]["md5"] == hashlib.md5(data).hexdigest()


def test_sound_gpt_headers_listing_different_partitions_are_said_and_both_read(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, _, pictures = _two_partitions(tmp_path, "gpt")
    _edit_gpt(raw, _SECTOR, drop=1)  # a partition hidden from the primary, its CRC32s set anew
    items = _scan(tmp_path / "case", raw)
    assert "the primary and backup GPTs are both sound but list different partitions: only the backup lists " \
           "sectors 10,240-18,431 (8,192 sectors of 512 bytes)" in items[str(raw)]["errors"][0]["message"]
    assert items[f"{raw}!/p2/B.JPG"]["md5"] == hashlib.md5(pictures["B.JPG"]).hexdigest()
    assert "the primary GPT, sound too, does not list it" in items[f"{raw}!/p2"]["errors"][0]["message"]


def test_a_gpt_disk_grown_after_it_was_partitioned_finds_its_backup_where_the_primary_says(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, picture = _stick(tmp_path, "gpt", 41, "gpt.raw")
    with raw.open("r+b") as disk:
        disk.truncate(raw.stat().st_size + (1 << 20))  # the backup is no longer in the last sector: no damage
    items = _scan(tmp_path / "case", raw)
    assert items[str(raw)]["errors"] == []
    assert items[f"{raw}!/p1/A.JPG"]["md5"] == hashlib.md5(picture).hexdigest()


@pytest.mark.parametrize("backup_damaged", [False, True])
def test_a_gpt_left_whole_under_an_mbr_is_said_and_its_partitions_the_mbr_omits_read(
        tmp_path: Path, backup_damaged: bool) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, starts, pictures = _two_partitions(tmp_path, "gpt")
    subprocess.run(["sfdisk", "-q", "--wipe", "never", str(raw)], check=True, capture_output=True,
                   input=f"label: dos\nstart={starts[0]}, size=8192, type=c\n".encode())  # relabelled: p2 unlisted
    if backup_damaged:  # the primary alone is sound: its own partitions count too
        _edit_gpt(raw, -_SECTOR, sound=False)
    items = _scan(tmp_path / "case", raw)
    headers = "primary at sector 1" + ("" if backup_damaged else ", backup at sector 20,479")
    assert items[str(raw)]["errors"][0]["message"] == (
        f"a sound GPT ({headers}) lists partitions the partition table in use (MBR) does not list: sectors "
        "10,240-18,431 (8,192 sectors of 512 bytes); they are read from the GPT too")
    for number, (name, data) in enumerate(pictures.items(), 1):
        assert items[f"{raw}!/p{number}/{name}"]["md5"] == hashlib.md5(data).hexdigest()
    assert items[f"{raw}!/p2"]["errors"][0]["message"] == (
        "partition 2 (GPT, sectors 10,240-18,431): read from a GPT the partition table in use (MBR) does not list")


@pytest.mark.parametrize(("damaged_at", "said"), [
    (_SECTOR, "the primary GPT (sector 1) is damaged (its header CRC32 does not match); the backup GPT (sector "
              "20,479) is sound and lists the same partitions as were read from the partition table in use (MBR)"),
    (-_SECTOR, "the backup GPT (sector 20,479) is damaged (its header CRC32 does not match) while the primary is "
               "sound: the disk was altered or cut short after it was partitioned; partitions read from the "
               "partition table in use (MBR)")])
def test_a_damaged_gpt_under_an_mbr_listing_every_partition_says_the_mbr_was_read(
        tmp_path: Path, damaged_at: int, said: str) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, starts, pictures = _two_partitions(tmp_path, "gpt")
    rows = "".join(f"start={start}, size=8192, type=c\n" for start in starts)
    subprocess.run(["sfdisk", "-q", "--wipe", "never", str(raw)], check=True, capture_output=True,
                   input=f"label: dos\n{rows}".encode())
    _edit_gpt(raw, damaged_at, sound=False)
    items = _scan(tmp_path / "case", raw)
    assert items[str(raw)]["errors"][0]["message"] == said
    for number, (name, data) in enumerate(pictures.items(), 1):
        assert items[f"{raw}!/p{number}/{name}"]["md5"] == hashlib.md5(data).hexdigest()
        assert f"{raw}!/p{number}" not in items  # read from the MBR, nothing to say against it


def test_plain_mbr_and_gpt_disks_get_no_partition_table_note(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    for table in ("dos", "gpt"):
        (tmp_path / table).mkdir()
        raw, _, pictures = _two_partitions(tmp_path / table, table)
        items = _scan(tmp_path / table / "case", raw)
        assert items[str(raw)]["errors"] == [], table
        for number, (name, data) in enumerate(pictures.items(), 1):
            assert items[f"{raw}!/p{number}/{name}"]["md5"] == hashlib.md5(data).hexdigest()
            assert f"{raw}!/p{number}" not in items  # no note, so no partition item


def test_an_e01_cut_to_a_few_kilobytes_is_said_unreadable_not_hashed_as_a_plain_file(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")
    raw, _ = _stick(tmp_path)
    image = _e01(raw, tmp_path / "made" / "stick")
    cut = tmp_path / "cut.E01"
    cut.write_bytes(image.read_bytes()[:20_000])  # smaller than any file system: it was taken for a plain file
    items = _scan(tmp_path / "case", cut)
    assert items[str(cut)]["sha256"] is None and items[str(cut)]["errors"]
    assert "Vigie's own EWF reader read 33 of 192 chunks" in items[str(cut)]["errors"][0]["message"]
    picture = items[f"{cut}!/p1/A.JPG"]  # its partition's first chunks are there; the picture lies past the cut
    assert picture["sha256"] is None and "chunks of the E01 that are missing" in picture["errors"][0]["message"]


def test_an_e01_whose_stored_md5_differs_is_said_at_the_scan_and_by_verify(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")
    raw, picture = _stick(tmp_path)
    image = _e01(raw, tmp_path / "evidence" / "stick")
    data, md5 = bytearray(image.read_bytes()), hashlib.md5(raw.read_bytes()).digest()
    patched, at = 0, data.find(md5)
    while at >= 0:  # the hash and digest sections: the MD5, then their own Adler-32 after 32 or 76 bytes
        for span in (32, 76):
            if struct.unpack_from("<I", data, at + span)[0] == zlib.adler32(bytes(data[at: at + span])):
                data[at] ^= 0xFF
                struct.pack_into("<I", data, at + span, zlib.adler32(bytes(data[at: at + span])))
                patched += 1
                break
        at = data.find(md5, at + 1)
    assert patched
    image.write_bytes(bytes(data))
    items = _scan(tmp_path / "case", image)
    stored = items[str(image)]["stored_hashes"]
    assert stored["md5"]["check"] == "mismatch" and stored["sha1"]["check"] == "match"
    assert items[f"{image}!/p1/A.JPG"]["md5"] == hashlib.md5(picture).hexdigest()  # the files are still read
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert "DIFFERS" in verified.output and verified.exit_code != 0, verified.output


def test_many_sparse_files_claim_a_bounded_total_of_zeros_then_are_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files each under the limit of one, but many of them: hashing their zeros would take hours (a small
    hostile image). Past a total per file system, the next are said, never hashed."""
    _need("mkfs.ext4")
    monkeypatch.setattr("vigie.sources.disk.walk.MAX_HOLES_PER_FILE_SYSTEM", 48 << 20)
    tree = tmp_path / "tree"
    tree.mkdir()
    picture = _picture(32)
    (tree / "p.jpg").write_bytes(picture)
    for name in ("s1.bin", "s2.bin", "s3.bin"):
        with (tree / name).open("wb") as handle:
            handle.truncate(20 << 20)  # all holes
    volume = tmp_path / "sparse.ext4"
    _run("mkfs.ext4", "-q", "-d", tree, volume, "8M")
    items = _scan(tmp_path / "case", volume)
    sparse = [items[f"{volume}!/p0/{name}"] for name in ("s1.bin", "s2.bin", "s3.bin")]
    assert sum(item["md5"] == hashlib.md5(bytes(20 << 20)).hexdigest() for item in sparse) == 2
    refused = [item for item in sparse if item["md5"] is None]
    assert len(refused) == 1 and "after other sparse files of this file system" in refused[0]["errors"][0]["message"]
    assert items[f"{volume}!/p0/p.jpg"]["md5"] == hashlib.md5(picture).hexdigest()


def test_verify_of_an_untouched_image_says_its_links_and_devices_were_never_read_not_changed(tmp_path: Path) -> None:
    _need("mkfs.ext4", "debugfs")
    picture = _picture(33)
    (tmp_path / "a.jpg").write_bytes(picture)
    volume = tmp_path / "links.ext4"
    _run("mkfs.ext4", "-q", volume, "8M")
    for request in (f"write {tmp_path / 'a.jpg'} a.jpg", "symlink link.jpg a.jpg", "mknod pipe p"):
        _run("debugfs", "-w", "-R", request, volume)
    items = _scan(tmp_path / "case", volume)
    assert items[f"{volume}!/p0/a.jpg"]["md5"] == hashlib.md5(picture).hexdigest()
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0, verified.output
    assert "0 changed, missing or unreadable; 2 never read" in " ".join(verified.output.split())
