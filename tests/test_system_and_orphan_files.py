"""NTFS's own metafiles and The Sleuth Kit's orphan files, as an investigator expects them.

NTFS's metafiles (MFT entries 0-15, told by entry number, and what NTFS writes in `$Extend`) are not items, so
that a user's file named like one stays an item; the reserved MFT entries 16-23 are not taken for deleted files.
An orphan (a deleted file whose folder is gone: TSK lists it under `$OrphanFiles`) is read from its record.
Images are built with Debian's tools (mkntfs, ntfscp, mkfs.ext4, debugfs; an NTFS orphan by `tests/ntfs.py`, as
no Debian tool deletes from NTFS without mounting it) and hold drawn pictures only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from ntfs import ROOT, delete
from test_disk_images import _disk, _need, _picture, _run, _scan

from vigie.cli import main
from vigie.config import Settings
from vigie.sources.reopen import read_item_bytes


def _inside(items: dict[str, dict[str, object]], image: Path, label: str = "p0") -> dict[str, dict[str, object]]:
    prefix = f"{image}!/{label}/"
    return {path[len(prefix):]: item for path, item in items.items() if path.startswith(prefix)}


def _ntfs(image: Path, pictures: dict[str, bytes]) -> None:
    """An NTFS volume image holding `pictures` in its root."""
    with image.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkntfs", "-F", "-Q", "-q", image)
    for name, data in pictures.items():
        (image.parent / "picture").write_bytes(data)
        _run("ntfscp", image, image.parent / "picture", name)


def test_ntfs_metafiles_are_not_items_and_a_user_file_named_like_one_is(tmp_path: Path) -> None:
    _need("mkntfs", "ntfscp")
    # `$Quota`: in the root, a user's file; NTFS's own is in $Extend
    pictures = {"IMG_0001.JPG": _picture(40), "$Quota": _picture(41), "$MFT.jpg": _picture(42)}
    image = tmp_path / "ntfs.img"
    _ntfs(image, pictures)
    items = _inside(_scan(tmp_path / "case", image), image)
    # neither $MFT, $LogFile, $BadClus, ... and $Extend's files, nor MFT entries 16-23 as deleted files
    assert set(items) == set(pictures)
    for name, data in pictures.items():
        assert items[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert not items[name]["deleted"] and not items[name]["errors"]
        assert items[name]["inode"] >= 24  # NTFS keeps MFT entries 0-23 for itself
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "0 changed, missing or unreadable" in result.output


def _debugfs(image: Path, *commands: str) -> str:
    out = ""
    for command in commands:
        out += subprocess.run(["debugfs", "-w", "-R", command, str(image)], check=True, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL).stdout
    return out


def test_ext4_orphan_whose_folder_is_gone_is_read_flagged_deleted_matched_and_verified(tmp_path: Path) -> None:
    """A folder deleted with its two files, its listing then overwritten: the files are orphans. One keeps its
    record (read and hashed from it); the other's record says no size (listed, with an error: not hidden)."""
    _need("mkfs.ext4", "debugfs")
    kept, emptied = _picture(43), _picture(44)
    tree = tmp_path / "tree"
    (tree / "holiday").mkdir(parents=True)
    (tree / "holiday" / "beach.jpg").write_bytes(kept)
    (tree / "holiday" / "dune.jpg").write_bytes(emptied)
    (tree / "live.jpg").write_bytes(_picture(45))
    image = tmp_path / "ext4.img"
    _run("mkfs.ext4", "-q", "-d", tree, image, "4M")
    listing_block = _debugfs(image, "bmap holiday 0").split()[-1]
    beach = next(int(line.split()[0]) for line in _debugfs(image, "ls -l holiday").splitlines()
                 if line.endswith(" beach.jpg"))
    _debugfs(image, "kill_file holiday/beach.jpg", "sif holiday/dune.jpg size 0", "kill_file holiday/dune.jpg",
             "kill_file holiday", "unlink holiday", f"zap_block -p 0 {listing_block}")
    known = tmp_path / "known.txt"
    known.write_text(hashlib.md5(kept).hexdigest() + "\n")
    items = _inside(_scan(tmp_path / "case", image, hashlist=known), image)
    orphans = {path: item for path, item in items.items() if path.startswith("$OrphanFiles/")}
    assert len(orphans) == 2, items
    found = orphans[f"$OrphanFiles/OrphanFile-{beach}"]
    assert found["deleted"] and not found["errors"] and found["inode"] == beach
    assert found["sha256"] == hashlib.sha256(kept).hexdigest()
    assert [match["signal"] for match in found["matches"]] == ["md5"]
    (lost,) = (item for path, item in orphans.items() if item is not found)
    assert lost["deleted"] and lost["sha256"] is None and "content not recoverable" in lost["errors"][0]["message"]
    root = str(image.resolve())
    assert read_item_bytes(root, f"!/p0/$OrphanFiles/OrphanFile-{beach}", Settings(workers=1), 1 << 20) == kept
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "0 changed, missing or unreadable" in result.output


@pytest.mark.parametrize("folder", ["live", "gone"])
def test_ntfs_deleted_file_is_read_flagged_deleted_matched_and_verified(folder: str, tmp_path: Path) -> None:
    """A file deleted from a live folder (TSK lists it there, from its record's $FILE_NAME), and one whose
    folder's MFT entry holds no folder any more (an orphan: TSK lists it under `$OrphanFiles`, by its own name):
    both records still say where the clusters are."""
    _need("mkntfs", "ntfscp", "sfdisk")
    kept, gone = _picture(46), _picture(47)
    volume = tmp_path / "p1.ntfs"
    _ntfs(volume, {"kept.jpg": kept, "gone.jpg": gone})
    number = delete(volume, "gone.jpg", ROOT if folder == "live" else 40 | 1 << 48)
    disk = tmp_path / "disk.raw"
    _disk(disk, "dos", [volume])
    known = tmp_path / "known.txt"
    known.write_text(hashlib.md5(gone).hexdigest() + "\n")
    items = _inside(_scan(tmp_path / "case", disk, hashlist=known), disk, "p1")
    path = "gone.jpg" if folder == "live" else "$OrphanFiles/gone.jpg"
    assert set(items) == {"kept.jpg", path}  # no false orphans for entries 16-23 either
    found = items[path]
    assert found["deleted"] and not found["errors"] and found["inode"] == number
    assert found["sha256"] == hashlib.sha256(gone).hexdigest()
    assert [match["signal"] for match in found["matches"]] == ["md5"]
    assert not items["kept.jpg"]["deleted"] and items["kept.jpg"]["sha256"] == hashlib.sha256(kept).hexdigest()
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "0 changed, missing or unreadable" in result.output


@contextmanager
def _mounted(image: Path, mountpoint: Path) -> Iterator[Path]:
    """The NTFS image mounted through ntfs-3g (FUSE), for the test to write as Windows' driver would, then
    unmounted, its writes flushed once ntfs-3g exits. Skipped where FUSE mounts are not allowed."""
    _need("ntfs-3g", "umount")
    mountpoint.mkdir()
    driver = subprocess.Popen(["ntfs-3g", "-o", "no_detach", str(image), str(mountpoint)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not os.path.ismount(mountpoint) and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not os.path.ismount(mountpoint):
        driver.kill()
        _, error = driver.communicate()
        pytest.skip(f"ntfs-3g cannot mount here (FUSE needs root and /dev/fuse): {error.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False, capture_output=True)
        try:
            driver.wait(timeout=30)
        except subprocess.TimeoutExpired:
            driver.kill()
            raise


def test_ntfs_written_by_ntfs3g_deleted_folders_and_files_are_read(tmp_path: Path) -> None:
    """Folders need a driver: ntfs-3g writes them, then deletes a photo from a live folder and a folder with
    its subfolder, a photo and a small file held inside its MFT record. All are read and hashed, flagged
    deleted; the metafiles ntfs-3g makes in `$Extend` are not items, a user's `$MFT` in a folder is."""
    _need("mkntfs")
    image = tmp_path / "ntfs.img"
    with image.open("wb") as blank:
        blank.truncate(16 << 20)
    _run("mkntfs", "-F", "-Q", "-q", image)
    files = {"DCIM/100APPLE/IMG_0001.JPG": _picture(50), "DCIM/100APPLE/IMG_0002.JPG": _picture(51),
             "trip/day1/beach.jpg": _picture(52), "trip/note.txt": b"meet at the beach at noon\n",
             "Documents/$MFT": _picture(53)}
    with _mounted(image, tmp_path / "mnt") as root:
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        (root / "DCIM/100APPLE/IMG_0002.JPG").unlink()
        shutil.rmtree(root / "trip")
    known = tmp_path / "known.txt"
    known.write_text(hashlib.md5(files["trip/day1/beach.jpg"]).hexdigest() + "\n")
    items = _inside(_scan(tmp_path / "case", image, hashlist=known), image)
    assert set(items) == set(files)
    for name, data in files.items():
        assert items[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert items[name]["deleted"] is (name.startswith("trip/") or name.endswith("0002.JPG")), name
        assert not items[name]["errors"], name
    assert [match["signal"] for match in items["trip/day1/beach.jpg"]["matches"]] == ["md5"]
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "0 changed, missing or unreadable" in result.output


def test_a_huge_sparse_orphan_is_said_not_read(tmp_path: Path) -> None:
    """Now that orphans are read, the limit on a sparse file's holes holds for deleted files too, and for
    `vigie verify`, which would otherwise read the 3 GiB of zeros the scan did not."""
    _need("mkfs.ext4", "debugfs")
    tree = tmp_path / "tree"
    (tree / "old").mkdir(parents=True)
    with (tree / "old" / "sparse.bin").open("wb") as handle:
        handle.truncate(3 << 30)  # all holes: 3 GiB of zeros that take no block
    image = tmp_path / "ext4.img"
    _run("mkfs.ext4", "-q", "-d", tree, image, "4M")
    listing_block = _debugfs(image, "bmap old 0").split()[-1]
    _debugfs(image, "kill_file old/sparse.bin", "kill_file old", "unlink old", f"zap_block -p 0 {listing_block}")
    items = _inside(_scan(tmp_path / "case", image), image)
    (orphan,) = (item for path, item in items.items() if path.startswith("$OrphanFiles/"))
    assert orphan["deleted"] and orphan["md5"] is None
    assert "sparse file claiming 3,221,225,472 bytes" in orphan["errors"][0]["message"]
    result = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])  # nor read back
    assert result.exit_code == 0, result.output
    assert "0 changed, missing or unreadable" in result.output
