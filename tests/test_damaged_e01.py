"""Damaged and truncated E01s read as far as they can be: a hash section whose checksum fails, a single-table
E01 cut short, a chunk with a flipped byte, and hostile section values (bounded work and memory). Built with
Debian's tools (mkfs.vfat, mtools, sfdisk, ewfacquire) and drawn pictures; skipped where one is missing."""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_disk_images import _disk, _e01, _fat, _need, _picture, _run, _scan
from vigie.cli import main
from vigie.sources.ewf import SIGNATURE, EwfError, open_image, segment_paths

_DESCRIPTOR = 76


def _sections(data: bytes) -> dict[str, int]:
    """Each section type's first descriptor offset in a segment file."""
    found: dict[str, int] = {}
    offset = 13
    while offset + _DESCRIPTOR <= len(data):
        kind = data[offset: offset + 16].rstrip(b"\0").decode()
        found.setdefault(kind, offset)
        following = struct.unpack_from("<Q", data, offset + 16)[0]
        if following <= offset:
            break
        offset = following
    return found


def _chunk_at(data: bytes, index: int) -> int:
    """Where chunk `index`'s stored bytes start in a single-table E01."""
    table = _sections(data)["table"] + _DESCRIPTOR
    base = struct.unpack_from("<Q", data, table + 8)[0]
    return base + (struct.unpack_from("<I", data, table + 24 + 4 * index)[0] & 0x7FFFFFFF)


def _resign(data: bytearray, start: int, span: int) -> None:
    """Writes the Adler-32 of data[start:start + span] after it, as the E01 keeps it."""
    struct.pack_into("<I", data, start + span, zlib.adler32(bytes(data[start: start + span])))


@pytest.fixture
def disk(tmp_path: Path) -> dict[str, object]:
    """An MBR disk: p1 FAT holding A.JPG, 256 KiB of filler, then B.JPG, in that order on disk; p2 FAT holding
    C.JPG. Acquired as one E01 (one table, 32 KiB chunks)."""
    _need("mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    originals = {"A.JPG": _picture(61), "FILL.BIN": random.Random(5).randbytes(256 << 10), "B.JPG": _picture(62),
                 "C.JPG": _picture(63)}
    for name, data in originals.items():
        (scratch / name).write_bytes(data)
    p1, p2 = tmp_path / "p1.fat", tmp_path / "p2.fat"
    _fat(p1, 8192, [("copy", name, f"::{name}") for name in ("A.JPG", "FILL.BIN", "B.JPG")], scratch)
    _fat(p2, 4096, [("copy", "C.JPG", "::C.JPG")], scratch)
    raw = tmp_path / "disk.raw"
    _disk(raw, "dos", [p1, p2])
    image = _e01(raw, tmp_path / "evidence" / "disk")
    return {"raw": raw.read_bytes(), "raw_path": raw, "image": image, "originals": originals}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _messages(item: dict[str, object]) -> str:
    return " | ".join(error["message"] for error in item["errors"])  # type: ignore[attr-defined,index]


def test_a_broken_hash_section_checksum_is_said_and_every_file_still_read(disk, tmp_path: Path) -> None:
    image: Path = disk["image"]  # type: ignore[assignment]
    raw: bytes = disk["raw"]  # type: ignore[assignment]
    originals: dict[str, bytes] = disk["originals"]  # type: ignore[assignment]
    data = bytearray(image.read_bytes())
    data[_sections(data)["hash"] + _DESCRIPTOR + 32] ^= 1  # its Adler-32: libewf refused the whole image
    image.write_bytes(bytes(data))
    items = _scan(tmp_path / "case", image)
    media = items[str(image)]
    chunks = len(raw) // 32768
    said = _messages(media)
    assert "libewf refused this E01" in said and "checksum does not match" in said
    assert f"Vigie's own EWF reader read {chunks:,} of {chunks:,} chunks" in said
    assert "the hash section at byte" in said and "is damaged" in said
    assert media["sha256"] == _sha256(raw)
    stored = media["stored_hashes"]  # the digest section, sound, still holds both
    assert stored["md5"]["check"] == "match" and stored["sha1"]["check"] == "match"  # type: ignore[index]
    for label, name in (("p1", "A.JPG"), ("p1", "FILL.BIN"), ("p1", "B.JPG"), ("p2", "C.JPG")):
        assert items[f"{image}!/{label}/{name}"]["sha256"] == _sha256(originals[name]), name
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0, verified.output


def test_with_hash_and_digest_sections_both_damaged_no_stored_digest_is_claimed(disk, tmp_path: Path) -> None:
    image: Path = disk["image"]  # type: ignore[assignment]
    data = bytearray(image.read_bytes())
    sections = _sections(data)
    data[sections["hash"] + _DESCRIPTOR + 32] ^= 1
    data[sections["digest"] + _DESCRIPTOR + 76] ^= 1
    image.write_bytes(bytes(data))
    media = _scan(tmp_path / "case", image)[str(image)]
    said = _messages(media)
    assert "the digest section at byte" in said and "the MD5 and SHA-1 it stores not used" in said
    assert not media["stored_hashes"]
    assert media["sha256"] == _sha256(disk["raw"])  # type: ignore[arg-type]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and "the hash section at byte" in " ".join(verified.output.split())


def test_a_single_table_e01_cut_short_reads_the_files_before_the_cut(disk, tmp_path: Path) -> None:
    image: Path = disk["image"]  # type: ignore[assignment]
    raw: bytes = disk["raw"]  # type: ignore[assignment]
    originals: dict[str, bytes] = disk["originals"]  # type: ignore[assignment]
    fill = originals["FILL.BIN"]
    cut_chunk = (raw.find(fill) + len(fill) // 2) // 32768  # A.JPG lies before it; B.JPG and p2 after
    data = image.read_bytes()
    cut = tmp_path / "evidence" / "cut.E01"
    cut.write_bytes(data[: _chunk_at(data, cut_chunk)])  # the table, at the segment's end, is gone
    image.unlink()
    items = _scan(tmp_path / "case", cut)  # exit code 0 asserted inside
    said = _messages(items[str(cut)])
    assert f"Vigie's own EWF reader read {cut_chunk:,} of {len(raw) // 32768:,} chunks" in said
    assert "no sound table" in said and items[str(cut)]["sha256"] is None
    assert items[f"{cut}!/p1/A.JPG"]["sha256"] == _sha256(originals["A.JPG"])
    after = items[f"{cut}!/p1/B.JPG"]
    assert after["sha256"] is None and after["md5"] is None
    assert "its content lies in chunks of the E01 that are missing or damaged" in _messages(after)
    assert "no readable file system" in _messages(items[f"{cut}!/p2"])


@pytest.mark.parametrize("stored", [False, True], ids=["compressed", "stored"])
def test_a_chunk_with_a_flipped_byte_is_not_read_as_zeros(disk, tmp_path: Path, stored: bool) -> None:
    image: Path = disk["image"]  # type: ignore[assignment]
    raw: bytes = disk["raw"]  # type: ignore[assignment]
    if stored:  # chunks kept as they are, each followed by its Adler-32
        image = tmp_path / "evidence" / "plain.E01"
        _run("ewfacquire", "-u", "-q", "-d", "sha1", "-c", "none", "-t", image.with_suffix(""), disk["raw_path"])
    originals: dict[str, bytes] = disk["originals"]  # type: ignore[assignment]
    picture = originals["B.JPG"]
    damaged = (raw.find(picture) + len(picture) // 2) // 32768
    data = bytearray(image.read_bytes())
    data[_chunk_at(data, damaged) + 40] ^= 1  # libewf opens it and reads this chunk as zeros, silently
    image.write_bytes(bytes(data))
    items = _scan(tmp_path / "case", image)
    hit = items[f"{image}!/p1/B.JPG"]
    assert hit["sha256"] is None and f"chunk {damaged:,} " in _messages(hit)
    assert "chunks of the E01 that are missing or damaged" in _messages(hit) and "is damaged" in _messages(hit)
    assert items[f"{image}!/p1/A.JPG"]["sha256"] == _sha256(originals["A.JPG"])
    assert items[f"{image}!/p2/C.JPG"]["sha256"] == _sha256(originals["C.JPG"])
    media = items[str(image)]
    assert media["sha256"] is None and f"chunk {damaged:,} " in _messages(media)


def _hostile(image: Path, tmp_path: Path, name: str, edit: object) -> Path:
    data = bytearray(image.read_bytes())
    edit(data, _sections(data))  # type: ignore[operator]
    path = tmp_path / f"{name}.E01"
    path.write_bytes(bytes(data))
    return path


def test_hostile_sizes_counts_and_looping_offsets_are_bounded(disk, tmp_path: Path) -> None:
    image: Path = disk["image"]  # type: ignore[assignment]
    raw: bytes = disk["raw"]  # type: ignore[assignment]

    def huge_media(data: bytearray, sections: dict[str, int]) -> None:
        volume = sections["volume"] + _DESCRIPTOR
        struct.pack_into("<Q", data, volume + 16, 1 << 50)  # sectors: 512 PiB
        _resign(data, volume, 1048)

    opened = open_image(str(_hostile(image, tmp_path, "huge", huge_media)), "test")
    assert opened.size == 32768 << 32  # at most 2^32 chunks
    assert f"read {len(raw) // 32768:,} of {1 << 32:,} chunks" in opened.survey()  # work: the chunks present
    assert opened.read_at(0, 4096) == raw[:4096]
    with pytest.raises(EwfError, match="is missing"):
        opened.read_at(opened.size - 512, 512)

    def absurd_count(data: bytearray, sections: dict[str, int]) -> None:
        table = sections["table"] + _DESCRIPTOR
        struct.pack_into("<I", data, table, 0x7FFFFFFF)
        _resign(data, table, 20)

    opened = open_image(str(_hostile(image, tmp_path, "count", absurd_count)), "test")
    assert opened.read_at(0, len(raw)) == raw  # table2 stands in for the table
    assert "the table section at byte" in opened.survey()

    def loop(data: bytearray, sections: dict[str, int]) -> None:
        struct.pack_into("<Q", data, sections["table2"] + 16, sections["sectors"])  # back to an earlier section
        _resign(data, sections["table2"], 72)

    opened = open_image(str(_hostile(image, tmp_path, "loop", loop)), "test")
    assert opened.read_at(0, len(raw)) == raw and "stop before a done or next section" in opened.survey()

    def giant_chunks(data: bytearray, sections: dict[str, int]) -> None:
        for kind in ("volume", "data"):
            volume = sections[kind] + _DESCRIPTOR
            struct.pack_into("<I", data, volume + 8, 1 << 30)  # sectors per chunk: 512 GiB chunks
            _resign(data, volume, 1048)

    with pytest.raises(EwfError, match="volume section is missing or damaged"):
        open_image(str(_hostile(image, tmp_path, "giant", giant_chunks)), "test")


def _segment_set(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """An E01 in 1 MiB segments E01..E04 of a FAT partition: A.JPG (in E01), BIG.BIN, B.JPG (in E04)."""
    _need("mkfs.vfat", "mcopy", "sfdisk", "ewfacquire")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    originals = {"A.JPG": _picture(64), "BIG.BIN": random.Random(6).randbytes(3 << 20), "B.JPG": _picture(65)}
    for name, data in originals.items():
        (scratch / name).write_bytes(data)
    fat = tmp_path / "p1.fat"
    _fat(fat, 8192, [("copy", name, f"::{name}") for name in originals], scratch)
    raw = tmp_path / "disk.raw"
    _disk(raw, "dos", [fat])
    target = tmp_path / "evidence" / "disk"
    target.parent.mkdir()
    _run("ewfacquire", "-u", "-q", "-d", "sha1", "-c", "deflate:fast", "-S", "1048576", "-t", target, raw)
    assert target.with_suffix(".E04").exists()  # incompressible: 1 MiB segments E01..E04
    return target.with_suffix(".E01"), originals


def test_a_segment_set_with_a_segment_missing_reads_the_segments_around_it(tmp_path: Path) -> None:
    image, originals = _segment_set(tmp_path)
    image.with_suffix(".E03").unlink()  # libewf opens the set and fails on each read that reaches it
    items = _scan(tmp_path / "case", image)
    said = _messages(items[str(image)])
    assert "Vigie's own EWF reader read" in said and "segment 3 is missing from the set" in said
    assert "segment 4 is placed back from the media's end" in said
    for name in ("A.JPG", "B.JPG"):  # in segments 1 and 4
        assert items[f"{image}!/p1/{name}"]["sha256"] == _sha256(originals[name]), name
    big = items[f"{image}!/p1/BIG.BIN"]
    assert big["sha256"] is None and "chunks of the E01 that are missing" in _messages(big)
    assert items[str(image)]["stored_hashes"]["sha1"]["stored"]  # type: ignore[index]  # from the final segment


def test_a_segment_that_is_a_symbolic_link_is_said_and_not_followed(tmp_path: Path) -> None:
    image, originals = _segment_set(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for suffix in (".E01", ".E03"):  # the E01 the user names may be a link (followed); a segment beside it not
        image.with_suffix(suffix).rename(elsewhere / f"disk{suffix}")
        image.with_suffix(suffix).symlink_to(elsewhere / f"disk{suffix}")
    assert [Path(path).name for _, path in segment_paths(str(image))] == ["disk.E01", "disk.E02", "disk.E04"]
    items = _scan(tmp_path / "case", image)
    said = _messages(items[str(image)])
    assert f"symbolic links, not followed (no link inside evidence is): disk.E03 -> {elsewhere}/disk.E03" in said
    assert "segment 3 is missing from the set" in said and "disk.E01 ->" not in said
    for name in ("A.JPG", "B.JPG"):  # in segments 1 and 4
        assert items[f"{image}!/p1/{name}"]["sha256"] == _sha256(originals[name]), name
    big = items[f"{image}!/p1/BIG.BIN"]
    assert big["sha256"] is None and "chunks of the E01 that are missing" in _messages(big)


def test_segment_files_are_numbered_e01_to_e99_then_eaa_and_found_past_a_gap(tmp_path: Path) -> None:
    names = [f"x.E{number:02d}" for number in range(1, 100)] + ["x.EAA", "x.EAB", "x.EAD", "x.FAA"]
    for name in [*names, "x.E00", "x.EA1"]:  # the last two: not in the sequence
        (tmp_path / name).write_bytes(SIGNATURE)
    for name in ("x.EZZ", "x.txt"):  # in the sequence (after E99 come three letters) but not EWF files
        (tmp_path / name).write_bytes(b"notes")
    found = segment_paths(str(tmp_path / "x.E01"))
    assert [(number, Path(path).name) for number, path in found] == [
        *((number, f"x.E{number:02d}") for number in range(1, 100)), (100, "x.EAA"), (101, "x.EAB"), (103, "x.EAD"),
        (776, "x.FAA")]
    for name in ("y.e01", "y.e02"):
        (tmp_path / name).write_bytes(SIGNATURE)
    assert [Path(path).name for _, path in segment_paths(str(tmp_path / "y.e01"))] == ["y.e01", "y.e02"]
