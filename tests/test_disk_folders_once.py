"""Folders reached by several paths (a folder linked into two folders on ext2/3/4, FAT folder entries sharing their
first cluster), level after level, on hostile disk images: each folder entered once, at the first path, a later
path an item that says where its files are listed, and The Sleuth Kit's search for orphan files (which would
enter each folder once for each path to it: 2^20 times here) not set off. Built with Debian's tools (mke2fs and
debugfs, mkfs.vfat and mtools) and byte patches, skipped where a tool or the `disk` extra is missing."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from click.testing import CliRunner

from tests.test_disk_images import _need, _picture, _run, _scan
from vigie.cli import main

_DEPTH = 20
_AGAIN = "a second path to a folder listed at "
_ORPHANS = "The Sleuth Kit's orphan files ($OrphanFiles) not listed"


def _debugfs(image: Path, *requests: str) -> str:
    script = image.with_suffix(".debugfs")
    script.write_text("".join(f"{request}\n" for request in requests))
    done = subprocess.run(["debugfs", "-w", "-f", str(script), str(image)], check=True, capture_output=True,
                          text=True)
    return done.stdout


def _messages(item: dict[str, object]) -> list[str]:
    return [error["message"] for error in item["errors"]]  # type: ignore[attr-defined,index]


def _verified(case: Path, items: int) -> None:
    verified = CliRunner().invoke(main, ["verify", "--case", str(case)])  # each file read back where it was listed
    said = " ".join(verified.output.split())
    assert verified.exit_code == 0 and f"{items} files checked, 0 changed, missing or unreadable" in said, said


def test_ext_folders_each_linked_into_two_level_after_level_are_entered_once(tmp_path: Path) -> None:
    _need("mke2fs", "debugfs")
    pictures = {"deep.jpg": _picture(70), "top.jpg": _picture(71)}
    for name, data in pictures.items():
        (tmp_path / name).write_bytes(data)
    volume = tmp_path / "dag.ext2"
    _run("mke2fs", "-q", "-t", "ext2", volume, "8M")
    requests, above = [f"write {tmp_path / 'top.jpg'} top.jpg"], ""
    for level in range(1, _DEPTH + 1):  # a<n> and b<n> both the same folder, which holds a<n+1> and b<n+1>
        requests += [f"mkdir {above}/a{level}", f"ln {above}/a{level} {above}/b{level}"]
        above += f"/a{level}"
    requests += [f"write {tmp_path / 'deep.jpg'} {above}/deep.jpg", f"ln {above}/deep.jpg /hard.jpg"]  # a file's
    _debugfs(volume, *requests)  # hard link, which stays an item at each path
    items = _scan(tmp_path / "case", volume)  # 2^20 paths to deep.jpg, were each folder entered at each path
    inside = {path.removeprefix(f"{volume}!/p0/"): item for path, item in items.items()
              if path.startswith(f"{volume}!/p0/")}
    deep = "/".join(f"a{level}" for level in range(1, _DEPTH + 1))
    assert sorted(inside) == sorted([f"{deep}/deep.jpg", "hard.jpg", "top.jpg"] + [
        "/".join([*deep.split("/")[: level - 1], f"b{level}"]) for level in range(1, _DEPTH + 1)])
    for path in (f"{deep}/deep.jpg", "hard.jpg"):
        assert inside[path]["md5"] == hashlib.md5(pictures["deep.jpg"]).hexdigest()
    assert _messages(inside["a1/b2"]) == [
        "a second path to a folder listed at a1/a2 (one folder linked into two folders, or folder entries sharing "
        "their clusters: a corrupt or hostile file system, or an HFS+ directory hard link as Time Machine makes): "
        "its files are listed there only; not entered again"]
    assert _messages(inside[f"{deep[: deep.rfind('/a')]}/b{_DEPTH}"])[0].startswith(f"{_AGAIN}{deep} ")
    assert any(_ORPHANS in message for message in _messages(items[f"{volume}!/p0"]))
    _verified(tmp_path / "case", len(items))


def test_the_read_back_tells_folders_of_one_name_apart_by_the_one_the_walk_entered(tmp_path: Path) -> None:
    _need("mke2fs", "debugfs")
    first, second = _picture(72), _picture(73)
    (tmp_path / "first.jpg").write_bytes(first)
    (tmp_path / "second.jpg").write_bytes(second)
    volume = tmp_path / "names.ext2"
    _run("mke2fs", "-q", "-t", "ext2", volume, "8M")
    # the root lists cc (entered there), then aa: cc again, then zz, renamed aa below: a folder only it names
    _debugfs(volume, "mkdir cc", f"write {tmp_path / 'first.jpg'} cc/x.jpg", "ln cc aa", "mkdir zz",
             f"write {tmp_path / 'second.jpg'} zz/x.jpg")
    block = int(_debugfs(volume, "bmap <2> 0").split()[-1])
    data = bytearray(volume.read_bytes())
    at = data.index(b"zz", block * 1024, (block + 1) * 1024)
    data[at: at + 2] = b"aa"  # two names alike in one folder, as no tool writes
    volume.write_bytes(bytes(data))
    items = _scan(tmp_path / "case", volume)
    assert items[f"{volume}!/p0/cc/x.jpg"]["md5"] == hashlib.md5(first).hexdigest()
    assert _messages(items[f"{volume}!/p0/aa"])[0].startswith(_AGAIN + "cc ")
    assert items[f"{volume}!/p0/aa/x.jpg"]["md5"] == hashlib.md5(second).hexdigest()
    assert f"{volume}!/p0/aa/x.jpg!2" not in items
    _verified(tmp_path / "case", len(items))  # aa/x.jpg read back from the folder the walk entered, not cc's


def test_fat_folder_entries_sharing_their_first_cluster_level_after_level_are_entered_once(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mmd", "mcopy")
    picture = _picture(74)
    (tmp_path / "deep.jpg").write_bytes(picture)
    volume = tmp_path / "dag.fat"
    folders = ["::" + "/".join(["A"] * (level - 1) + [name]) for level in range(1, _DEPTH + 1) for name in "AB"]
    deep = "/".join(["A"] * _DEPTH)
    _run("mkfs.vfat", "-C", volume, "2048")
    _run("mmd", "-i", volume, *folders)
    _run("mcopy", "-i", volume, tmp_path / "deep.jpg", f"::{deep}/DEEP.JPG")
    data = bytearray(volume.read_bytes())
    patched = 0
    for at in range(32, len(data) - 32, 32):  # each B entry given the first cluster of the A entry before it
        if data[at: at + 11] == b"B          " and data[at + 11] & 0x10 and data[at - 32: at - 21] == b"A          ":
            data[at + 20: at + 22], data[at + 26: at + 28] = data[at - 12: at - 10], data[at - 6: at - 4]
            patched += 1
    assert patched == _DEPTH
    volume.write_bytes(bytes(data))
    items = _scan(tmp_path / "case", volume)
    inside = {path.removeprefix(f"{volume}!/p0/"): item for path, item in items.items()
              if path.startswith(f"{volume}!/p0/")}
    assert sorted(inside) == sorted([f"{deep}/DEEP.JPG"] + ["/".join(["A"] * (level - 1) + ["B"])
                                                             for level in range(1, _DEPTH + 1)])
    assert inside[f"{deep}/DEEP.JPG"]["md5"] == hashlib.md5(picture).hexdigest()
    assert _messages(inside["A/B"])[0].startswith(_AGAIN + "A/A ")
    assert any(_ORPHANS in message for message in _messages(items[f"{volume}!/p0"]))
    _verified(tmp_path / "case", len(items))


def test_a_live_folder_in_the_cluster_of_a_deleted_one_listed_before_it_is_entered_at_its_own_path(
        tmp_path: Path) -> None:
    """A deleted folder's entry still names its first cluster, which a live folder took since: the live folder's
    files are listed at its live path, whatever deleted entry the walk met before it (a folder is entered once
    through live folders' names, once more at most through deleted ones)."""
    _need("mkfs.vfat", "mmd", "mcopy", "mdeltree")
    picture = _picture(75)
    (tmp_path / "new.jpg").write_bytes(picture)
    volume = tmp_path / "reuse.fat"
    _run("mkfs.vfat", "-C", volume, "2048")
    _run("mmd", "-i", volume, "::GONE", "::KEEP")
    _run("mdeltree", "-i", volume, "::GONE")  # its entry, before KEEP's, still names its cluster
    _run("mmd", "-i", volume, "::KEEP/LIVE")  # in the first free cluster: the deleted folder's
    _run("mcopy", "-i", volume, tmp_path / "new.jpg", "::KEEP/LIVE/NEW.JPG")
    items = _scan(tmp_path / "case", volume)
    new = items[f"{volume}!/p0/KEEP/LIVE/NEW.JPG"]
    assert new["md5"] == hashlib.md5(picture).hexdigest() and not new["errors"]
    assert not [path for path, item in items.items() if any(_AGAIN in message or "a deleted folder" in message
                                                           for message in _messages(item))]
    _verified(tmp_path / "case", len(items))


def test_two_deleted_fat_folder_entries_of_one_cluster_list_its_files_once(tmp_path: Path) -> None:
    """Through deleted folders' names a folder is entered once too (apart from live ones): the copy says where."""
    _need("mkfs.vfat", "mmd", "mcopy", "mdeltree")
    picture = _picture(76)
    (tmp_path / "gone.jpg").write_bytes(picture)
    volume = tmp_path / "deleted.fat"
    _run("mkfs.vfat", "-C", volume, "2048")
    _run("mmd", "-i", volume, "::OLD", "::KEEP")
    _run("mcopy", "-i", volume, tmp_path / "gone.jpg", "::OLD/GONE.JPG")
    _run("mdeltree", "-i", volume, "::OLD")
    data = bytearray(volume.read_bytes())
    at, keep = data.index(b"\xe5LD        \x10"), data.index(b"KEEP       \x10")
    free = next(slot for slot in range(keep + 32, len(data), 32) if data[slot] == 0)
    data[free: free + 32] = data[at: at + 32]  # a second deleted entry for the folder, after KEEP's
    data[free + 1: free + 3] = b"LE"
    volume.write_bytes(bytes(data))
    items = _scan(tmp_path / "case", volume)
    gone = [item for path, item in items.items() if path.endswith("ONE.JPG")]
    assert len(gone) == 1 and gone[0]["md5"] == hashlib.md5(picture).hexdigest() and gone[0]["deleted"]
    assert _messages(items[f"{volume}!/p0/_LE"])[0].startswith(
        "a deleted folder (or one in a deleted folder) whose listing is that of a folder listed at _LD, also through "
        "a deleted folder")
    _verified(tmp_path / "case", len(items))


def test_ext_folders_sharing_a_first_block_are_two_and_a_folder_the_depth_cap_cut_is_entered_again_less_deep(
        tmp_path: Path) -> None:
    _need("mke2fs", "debugfs")
    pictures = {"a.jpg": _picture(74), "known.jpg": _picture(75), "deep.jpg": _picture(76)}
    for name, data in pictures.items():
        (tmp_path / name).write_bytes(data)
    shared = tmp_path / "shared.ext2"  # B's listing starts in A's first block, and goes on in a block of its own
    _run("mke2fs", "-q", "-t", "ext2", "-b", "1024", shared, "4M")
    _debugfs(shared, "mkdir A", f"write {tmp_path / 'a.jpg'} A/a.jpg", "mkdir B",
             *[f"write /dev/null B/f{number:02d}{'x' * 40}" for number in range(40)],
             f"write {tmp_path / 'known.jpg'} B/known.jpg")
    first = _debugfs(shared, "bmap A 0").split()[-1]
    _debugfs(shared, f"set_inode_field B block[0] {first}")
    deep = tmp_path / "deep.ext2"  # zf first reached 64 deep (its folder G past the cap), then at the root
    _run("mke2fs", "-q", "-t", "ext2", "-b", "1024", deep, "4M")
    above = "/".join(f"a{level}" for level in range(1, 64))
    _debugfs(deep, *[f"mkdir {'/'.join(above.split('/')[:level])}" for level in range(1, 64)], "mkdir zf",
             "mkdir zf/G", f"write {tmp_path / 'deep.jpg'} zf/G/deep.jpg", f"ln zf {above}/f")
    items = {**_scan(tmp_path / "case", shared), **_scan(tmp_path / "case2", deep)}
    assert items[f"{shared}!/p0/B/known.jpg"]["md5"] == hashlib.md5(pictures["known.jpg"]).hexdigest()
    assert items[f"{shared}!/p0/A/a.jpg"]["md5"] == hashlib.md5(pictures["a.jpg"]).hexdigest()
    assert items[f"{deep}!/p0/zf/G/deep.jpg"]["md5"] == hashlib.md5(pictures["deep.jpg"]).hexdigest()
    assert "nests too deep" in _messages(items[f"{deep}!/p0/{above}/f/G"])[0]
    _verified(tmp_path / "case2", len([path for path in items if path.startswith(str(deep))]))
