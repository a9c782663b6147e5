"""Hash lists as partners really write them: untyped 64-digit values, python-threatexchange's formats,
bad lists that must not stop a scan, UTF-16, categories outside their scheme, NSRL RDS."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes, shared_data

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.matching.engine import load_list_segments
from vigie.matching.list_import import import_hash_list
from vigie.matching.lists import HashListError, read_hash_list
from vigie.matching.pdq_index import hex_to_array
from vigie.scan.pipeline import run_scan
from vigie.signals.pdq import pdq_from_image
from vigie.store.sqlite import open_case

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _matches(case: Path) -> dict[str, list[dict[str, Any]]]:
    store = open_case(case)
    try:
        return {Path(item["path"]).name: item["matches"] for item in store.iter_report_items()}
    finally:
        store.close()


def _scan_with_list(tmp_path: Path, evidence: Path, listing: Path, **import_options: Any) -> Path:
    case = tmp_path / "case"
    store = open_case(case, create=True)
    try:
        import_hash_list(store, listing, Settings(workers=1), **import_options)
        run_scan(store, [str(evidence)], Settings(workers=1))
    finally:
        store.close()
    return case


def _altered_copy(evidence: Path, seed: int) -> str:
    """A drawn picture, smaller and re-encoded in the evidence; returns the original's PDQ."""
    picture = draw_picture(seed, (640, 480))
    evidence.mkdir(exist_ok=True)
    (evidence / "altered.jpg").write_bytes(jpeg_bytes(picture.resize((480, 360)), quality=60))
    return pdq_from_image(picture).hash


# --- 64-digit values: SHA-256 or PDQ -------------------------------------------------------------


def test_meta_pdq_lists_are_pdq_matchable(tmp_path: Path) -> None:
    """Meta's regression lists (popcounts 112-134) were read as SHA-256: every needle/haystack pair is found."""
    pdq = shared_data("interop", "threatexchange", "pdq")
    with (pdq / "needles-vs-haystack-within-31.csv").open() as handle:
        expected = {(row["needle"], row["haystack"]) for row in csv.DictReader(handle)}
    store = open_case(tmp_path / "case", create=True)
    try:
        result = import_hash_list(store, pdq / "haystack.txt", Settings(workers=1))
        assert result.entries == result.pdq_indexed == 1350
        segments = load_list_segments(store)
        haystack = dict(store.db.execute("SELECT id, pdq FROM list_entries WHERE list_id = ?", (result.list_id,)))
    finally:
        store.close()
    found = set()
    for needle in (pdq / "needles.txt").read_text().split():
        for segment in segments.values():
            found |= {(needle, haystack[hit.id]) for hit in segment.query(hex_to_array([needle]), 31)}
    assert found == expected


def test_an_all_zero_entry_does_not_turn_a_pdq_list_into_sha256(tmp_path: Path) -> None:
    listing = tmp_path / "pdq.txt"
    original = _altered_copy(tmp_path / "evidence", 11)
    listing.write_text(f"{'0' * 64}\n{original}\n")
    parsed = read_hash_list(listing)
    assert [(e.pdq, e.digests.get("sha256"), e.untyped) for e in parsed.entries] == [
        ("0" * 64, "0" * 64, True), (original, original, True)]
    assert "matched both ways" in parsed.notes[0]
    matches = _matches(_scan_with_list(tmp_path, tmp_path / "evidence", listing))["altered.jpg"]
    assert [(m["signal"], m.get("untyped_list_value")) for m in matches] == [("pdq", True)]


def test_a_drawn_pictures_pdq_in_a_mixed_untyped_list_matches_an_altered_copy(tmp_path: Path) -> None:
    """A list of SHA-256 and PDQ values without types: the picture's PDQ still finds the altered copy."""
    original = _altered_copy(tmp_path / "evidence", 12)
    (tmp_path / "evidence" / "known.bin").write_bytes(b"a known file")
    known_sha256 = hashlib.sha256(b"a known file").hexdigest()
    listing = tmp_path / "partner.txt"
    listing.write_text(f"{known_sha256} known file\n{original} 100\n")
    matches = _matches(_scan_with_list(tmp_path, tmp_path / "evidence", listing))
    assert [(m["signal"], m["untyped_list_value"]) for m in matches["altered.jpg"]] == [("pdq", True)]
    assert [(m["signal"], m["label"], m["untyped_list_value"]) for m in matches["known.bin"]] == [
        ("sha256", "known file", True)]


def test_csv_hash_column_sha256_with_128_bits_set_still_matches_exactly(tmp_path: Path) -> None:
    """One SHA-256 in about 20 has exactly 128 bits set: it used to be read as PDQ only and never matched."""
    content = next(data for n in range(10_000) if (data := f"file {n}".encode())
                   and int(hashlib.sha256(data).hexdigest(), 16).bit_count() == 128)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "listed.bin").write_bytes(content)
    listing = tmp_path / "list.csv"
    listing.write_text(f"hash,category\n{hashlib.sha256(content).hexdigest()},1\n")
    case = _scan_with_list(tmp_path, evidence, listing)
    matches = _matches(case)["listed.bin"]
    assert [(m["signal"], m["distance"], m["untyped_list_value"]) for m in matches] == [("sha256", 0, True)]
    store = open_case(case)
    try:
        assert "list value untyped: matched as sha256" in render(store, "html")
    finally:
        store.close()


def test_a_declared_type_is_not_matched_both_ways(tmp_path: Path) -> None:
    listing = tmp_path / "typed.csv"
    listing.write_text(f"sha256,pdq\n{SHA256},\n,{'f' * 64}\n")
    assert [(e.digests.get("sha256"), e.pdq, e.untyped) for e in read_hash_list(listing).entries] == [
        (SHA256, None, False), (None, "f" * 64, False)]
    forced = tmp_path / "forced.txt"
    forced.write_text(f"{SHA256}\n")
    assert [(e.digests.get("sha256"), e.pdq) for e in read_hash_list(forced, signal="pdq").entries] == [(None, SHA256)]


# --- python-threatexchange ----------------------------------------------------------------------


def test_tx_signal_lines_inline(tmp_path: Path) -> None:
    listing = tmp_path / "tx.txt"
    listing.write_text(
        f"pdq {'a' * 64}\nvideo_md5 {MD5.upper()}\nvideo_sha256 {SHA256}\nsha1 {SHA1}\n"
        f"url_md5 {MD5}\nraw_text some words\nvpdq [\"{'b' * 64},100,0.0\", \"{'c' * 64},90,1e+02\"]\n"
    )
    parsed = read_hash_list(listing)
    assert parsed.format == "text"
    assert [(e.pdq, e.digests.get("md5"), e.digests.get("sha256"), e.digests.get("sha1"), e.untyped)
            for e in parsed.entries[:4]] == [
        ("a" * 64, None, None, None, False), (None, MD5, None, None, False), (None, None, SHA256, None, False),
        (None, None, None, SHA1, False)]
    assert parsed.entries[1].extra == {"tx_signal": "video_md5"}
    assert parsed.entries[4].video_frames == [(None, 100, "b" * 64, 0.0), (None, 90, "c" * 64, 100.0)]
    assert parsed.entries[4].label == "tx.txt line 7"
    assert len(parsed.problems) == 2
    assert all("not a file's hash" in p for p in parsed.problems)
    assert parsed.problems[0].startswith("line 5: url_md5")


def test_tx_rotation_lines_keep_one_entry_per_picture(tmp_path: Path) -> None:
    listing = tmp_path / "rotations.txt"
    listing.write_text(f"ORIGINAL pdq {'a' * 64}\nROTATE90 pdq {'b' * 64}\nFLIPX pdq {'c' * 64}\n"
                       f"ORIGINAL pdq {'d' * 64}\n")
    parsed = read_hash_list(listing)
    assert [e.pdq for e in parsed.entries] == ["a" * 64, "d" * 64]
    assert parsed.entries[0].extra["tx_rotations"] == {"ROTATE90": "b" * 64, "FLIPX": "c" * 64}


def test_vpdq_timestamps_in_tx_exponent_form(tmp_path: Path) -> None:
    """tx writes timestamps with `{t:.3}`: 100.0 becomes 1e+02, which used to be refused."""
    video = tmp_path / "video.txt"
    video.write_text(f"{'a' * 64},100,99.9\n{'b' * 64},100,1e+02\n{'c' * 64},80,1.01e+02\n")
    parsed = read_hash_list(video)
    assert parsed.format == "vpdq" and not parsed.problems
    assert [(f[2][0], f[3]) for f in parsed.entries[0].video_frames] == [("a", 99.9), ("b", 100.0), ("c", 101.0)]
    as_json = tmp_path / "video.json"
    as_json.write_text(json.dumps([f"{'a' * 64},100,1e+03", "not a frame"]))
    parsed = read_hash_list(as_json)
    assert parsed.format == "vpdq" and parsed.entries[0].video_frames == [(None, 100, "a" * 64, 1000.0)]
    assert parsed.problems == ["video.json frame 2: not a vPDQ frame (frame_number,quality,pdq_hex,timestamp or "
                               "pdq_hex,quality,timestamp)"]


def test_tx_interop_files() -> None:
    tx = shared_data("interop", "tx")
    photos = read_hash_list(tx / "tx-hash-photo.txt")
    assert len(photos.entries) == 2 and all(e.pdq and not e.untyped for e in photos.entries) and not photos.problems
    rotations = read_hash_list(tx / "tx-hash-photo-rotations.txt")
    assert [e.pdq for e in rotations.entries] == [photos.entries[0].pdq]
    assert len(rotations.entries[0].extra["tx_rotations"]) == 7
    assert [e.pdq for e in read_hash_list(tx / "tx-hash-file.txt").entries] == [photos.entries[0].pdq]
    reference = read_hash_list(shared_data("interop", "threatexchange", "vpdq-sample-hashes",
                                           "pattern-hd-no-bar.txt")).entries[0].video_frames
    for name in ("tx-vpdq-pattern-hd-no-bar.json", "tx-hash-video-pattern-hd-no-bar.txt"):
        parsed = read_hash_list(tx / name)
        assert not parsed.problems and len(parsed.entries) == 1
        frames = parsed.entries[0].video_frames
        assert [(q, h) for _, q, h, _ in frames] == [(q, h) for _, q, h, _ in reference]
        assert [t for *_, t in frames] == pytest.approx([t for *_, t in reference], abs=0.01)


# --- bad lists, encodings, categories ------------------------------------------------------------


def test_csv_field_over_the_csv_limit_is_a_line_problem(tmp_path: Path) -> None:
    listing = tmp_path / "big.csv"
    listing.write_text(f"md5,label\n{MD5},{'x' * 200_000}\n{'1' * 32},after\n")
    parsed = read_hash_list(listing)
    assert [e.digests.get("md5") for e in parsed.entries] == ["1" * 32]
    assert parsed.problems == ["line 2: field larger than field limit (131072)"]


def test_a_bad_cell_loses_its_value_only_and_no_value_cells_are_empty(tmp_path: Path) -> None:
    """A line's valid SHA-256 is kept beside an MD5 cell that is damaged (said on its line) or says there is no
    value (`N/A`, `-`, `NULL`, `none`: empty, nothing said); a line with no valid hash is not read."""
    digest = hashlib.sha256(b"a picture's bytes").hexdigest()
    listing = tmp_path / "cells.csv"
    listing.write_text(f"md5,sha256\nN/A,{digest}\n-,{'a' * 64}\nNULL,{'b' * 64}\nnone,{'c' * 64}\n"
                       f",{'d' * 64}\nnot-a-hash,{'e' * 64}\nnot-a-hash,N/A\n")
    parsed = read_hash_list(listing)
    assert [e.digests.get("sha256") for e in parsed.entries] == [digest, *(c * 64 for c in "abcde")]
    assert all("md5" not in e.digests for e in parsed.entries)
    assert len(parsed.problems) == 2 and parsed.problems[0].startswith("line 7: ")
    assert parsed.problems[0].endswith("that cell not read, the line's other values kept")
    assert parsed.problems[1].startswith("line 8: ") and "other values kept" not in parsed.problems[1]


def test_a_line_kept_without_its_bad_cell_is_not_counted_skipped(tmp_path: Path) -> None:
    """The damaged MD5 is said on its line, but the line's SHA-256 is read: one line skipped (the one with no
    valid hash), not two, in the import, the stored list and `hashlist show`."""
    listing = tmp_path / "cells.csv"
    listing.write_text(f"md5,sha256\nnot-a-hash,{'e' * 64}\nnot-a-hash,N/A\n{MD5},{'f' * 64}\n")
    parsed = read_hash_list(listing)
    assert (len(parsed.entries), parsed.skipped, parsed.problem_lines) == (2, 1, 2)
    case = tmp_path / "case"
    store = open_case(case, create=True)
    try:
        result = import_hash_list(store, listing, Settings(workers=1))
        [stored] = store.hash_lists()
    finally:
        store.close()
    assert result.skipped == stored.skipped == 1 and len(stored.problems) == 2
    shown = " ".join(CliRunner().invoke(main, ["hashlist", "show", "cells", "--case", str(case)]).output.split())
    assert "2 entries from" in shown and "1 lines skipped" in shown and "line 2: " in shown


@pytest.mark.parametrize(("name", "text"), [
    ("mac.csv", f"# a title\rmd5,label\r{MD5},one\r{'1' * 32},\"two,\rlines\"\r\r{'2' * 32},three"),
    ("mac.txt", f"{MD5} one\r{'1' * 32} two\r\r{'2' * 32} three\r"),
])
def test_a_list_whose_lines_end_in_a_lone_cr_is_read(tmp_path: Path, name: str, text: str) -> None:
    """Lines ended by a lone CR (the classic Mac OS's, and older Excel for Mac's CSV) are lines: read with their
    numbers, a quoted field over two lines kept whole, as with LF or CRLF."""
    listing = tmp_path / name
    listing.write_bytes(text.encode())
    parsed = read_hash_list(listing)
    assert not parsed.problems
    assert [e.digests["md5"] for e in parsed.entries] == [MD5, "1" * 32, "2" * 32]
    if name.endswith(".csv"):
        assert [(e.line, e.label) for e in parsed.entries] == [(3, "one"), (5, "two,\rlines"), (7, "three")]
        assert parsed.notes and "line 2" in parsed.notes[0]


def test_unterminated_quote_does_not_swallow_later_lines(tmp_path: Path) -> None:
    listing = tmp_path / "quote.csv"
    listing.write_text(f"md5,label\n{'1' * 32},ok\n{'2' * 32},\"never closed\n{'3' * 32},a\n{'4' * 32},b\n")
    parsed = read_hash_list(listing)
    assert [e.digests.get("md5") for e in parsed.entries] == ["1" * 32, "3" * 32, "4" * 32]
    assert [e.line for e in parsed.entries] == [2, 4, 5]
    assert parsed.problems == ["line 3: a quote opened on this line is never closed; the line is skipped and the "
                               "next ones are read on their own"]


def test_a_stray_quote_closed_lines_later_does_not_swallow_hashes(tmp_path: Path) -> None:
    listing = tmp_path / "quotes.csv"
    listing.write_text(f'md5,label\n{"1" * 32},"opened\n{"2" * 32},a\n{"3" * 32},closed"\n'
                       f'{"4" * 32},"two lines,\nno hash inside"\n')
    parsed = read_hash_list(listing)
    assert [(e.line, e.digests.get("md5"), e.label) for e in parsed.entries] == [
        (3, "2" * 32, "a"), (4, "3" * 32, 'closed"'), (6, "4" * 32, "two lines,\nno hash inside")]
    assert parsed.problems == [
        "line 2: a quote opened on this line runs to line 4, over lines that hold hashes; the line is skipped and "
        "the next ones are read on their own"]


@pytest.mark.parametrize("junk", [bytes(range(256)) * 4, b"md5\n" + b"\x00" * 64, b"[" * 100_000,
                                  b'{"value": ' + b"[" * 100_000])
def test_junk_is_refused_with_a_reason(tmp_path: Path, junk: bytes) -> None:
    listing = tmp_path / "junk.csv"
    listing.write_bytes(junk)
    with pytest.raises(HashListError, match=r"binary|NUL|nested|UTF-8|JSON"):
        read_hash_list(listing)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [f"{MD5}\n{SHA1}\n", f"md5,category\n{MD5},1\n",
                                  json.dumps({"odata.metadata": "x/$metadata#Media", "value": [{"MD5": MD5}]})])
def test_utf16_with_a_byte_order_mark(tmp_path: Path, encoding: str, text: str) -> None:
    listing = tmp_path / "utf16.txt"
    listing.write_bytes("\ufeff".encode(encoding) + text.encode(encoding))
    assert read_hash_list(listing).entries[0].digests.get("md5") == MD5


def test_scan_goes_on_past_a_bad_list(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "known.bin").write_bytes(b"known")
    bad, good, deep = tmp_path / "bad.csv", tmp_path / "good.csv", tmp_path / "deep.json"
    bad.write_bytes(b"md5,label\n" + b"\x00\xff" * 50)
    deep.write_text('{"value": ' + "[" * 100_000)
    good.write_text(f"md5,label\n{hashlib.md5(b'known').hexdigest()},known\n")
    case = tmp_path / "case"
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1",
                                       "--hashlist", str(bad), "--hashlist", str(deep), "--hashlist", str(good)])
    assert result.exit_code == 1, result.output  # the scan's work is kept, but not all that was asked was done
    assert f"hash list {bad} not imported" in " ".join(result.output.split())
    assert "Hash lists refused" in result.output and "2 hash list(s) refused, not matched" in result.output
    assert [(m["list"], m["signal"]) for m in _matches(case)["known.bin"]] == [("good", "md5")]
    store = open_case(case)
    try:
        rejected = [e.details["file"] for e in store.audit_entries() if e.action == "hashlist-rejected"]
    finally:
        store.close()
    assert rejected == [str(bad), str(deep)]
    # the case report names them: it never reads as if the case was matched against them
    report = json.loads(CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json"]).output)
    assert [r["file"] for r in report["case"]["hash_lists_refused"]] == [str(bad), str(deep)]
    assert all(r["reason"] and r["audit_seq"] for r in report["case"]["hash_lists_refused"])
    html = CliRunner().invoke(main, ["report", "--case", str(case), "--format", "html"]).output
    assert "Hash lists refused: not matched" in html and str(deep) in html
    # a readable list imported later from that file is matched: no longer named as refused
    bad.write_text(f"md5,label\n{hashlib.md5(b'known').hexdigest()},known again\n")
    assert CliRunner().invoke(main, ["hashlist", "import", str(bad), "--case", str(case)]).exit_code == 0
    report = json.loads(CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json"]).output)
    assert [r["file"] for r in report["case"]["hash_lists_refused"]] == [str(deep)]


def test_categories_outside_the_declared_scheme_are_noted(tmp_path: Path) -> None:
    listing = tmp_path / "cats.csv"
    listing.write_text(f"md5,category\n{MD5},1\n{'1' * 32},7\n{'2' * 32},7\n")
    case = tmp_path / "case"
    open_case(case, create=True).close()  # only a scan makes a case from the command line
    runner = CliRunner()
    result = runner.invoke(main, ["hashlist", "import", str(listing), "--case", str(case),
                                  "--scheme", "projectvic-us"])
    assert result.exit_code == 0, result.output
    assert "category '7' is not a projectvic-us category" in " ".join(result.output.split())
    shown = runner.invoke(main, ["hashlist", "show", "cats", "--case", str(case)])
    assert "note: category '7' is not a projectvic-us category (0, 1, 2, 3, 4): 2 entries" in " ".join(
        shown.output.split())


# --- NSRL RDS -----------------------------------------------------------------------------------


def test_nsrl_legacy_rds_csv(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "setup.dll").write_bytes(b"known software")
    sha1 = hashlib.sha1(b"known software").hexdigest().upper()
    md5 = hashlib.md5(b"known software").hexdigest().upper()
    listing = tmp_path / "NSRLFile.txt"
    listing.write_text(
        '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"\r\n'
        f'"{sha1}","{md5}","1A2B3C4D","setup.dll",14,1234,"WIN",""\r\n'
        '"0000000F8527DCCAB6642252BBCFA1B8072D33EE","68CE322D8A896B6E4E7E3F18339EC85C","E39149E4",'
        '"Blended, Coffee.jpg",32,1,"WIN",""\r\n'
    )
    parsed = read_hash_list(listing)
    assert parsed.format == "nsrl-rds" and not parsed.problems
    assert [(e.digests.get("sha1"), e.label) for e in parsed.entries] == [
        (sha1.lower(), "setup.dll"), ("0000000f8527dccab6642252bbcfa1b8072d33ee", "Blended, Coffee.jpg")]
    assert parsed.entries[0].extra["ProductCode"] == "1234"
    matches = _matches(_scan_with_list(tmp_path, evidence, listing))["setup.dll"]
    assert sorted(m["signal"] for m in matches) == ["md5", "sha1"]


def test_nsrl_rdsv3_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "RDS_2024.03.1_modern_minimal.db"
    db = sqlite3.connect(database)
    # as NIST publishes it: a METADATA table, and a FILE view shaped like the legacy NSRLFile.txt
    db.execute("CREATE TABLE METADATA (sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT, file_name TEXT, "
               "file_size INTEGER, package_id INTEGER, extension TEXT)")
    db.execute("CREATE VIEW FILE AS SELECT sha256, sha1, md5, crc32, file_name, file_size, package_id FROM METADATA")
    db.executemany("INSERT INTO METADATA VALUES (?, ?, ?, ?, ?, ?, ?, 'txt')", [
        (SHA256.upper(), SHA1.upper(), MD5.upper(), "00000000", "empty.txt", 0, 1),
        ("NOT-HEX", None, None, None, "broken", 1, 1),
    ])
    db.commit()
    db.close()
    parsed = read_hash_list(database)
    assert parsed.format == "nsrl-rdsv3"
    assert [(e.digests.get("sha256"), e.digests.get("sha1"), e.digests.get("md5"), e.label, e.extra)
            for e in parsed.entries] == [
        (SHA256, SHA1, MD5, "empty.txt", {"file_size": 0})]
    assert parsed.problems == ["FILE row 2: sha256 'NOT-HEX' is not 64 hexadecimal digits"]
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(HashListError, match="FILE table"):
        read_hash_list(other)


def test_a_stray_quote_inside_a_field_is_read_as_before(tmp_path: Path) -> None:
    listing = tmp_path / "stray.csv"
    listing.write_text(f'md5,label\n{"1" * 32},"quoted"then more\n{"2" * 32},ok\n')
    parsed = read_hash_list(listing)
    assert [(e.digests.get("md5"), e.label, e.line) for e in parsed.entries] == [("1" * 32, "quotedthen more", 2),
                                                                  ("2" * 32, "ok", 3)]
    assert not parsed.problems


def test_a_folder_of_vpdq_lists_says_which_file_is_nested_too_deeply(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    parsed = read_hash_list(folder)
    assert parsed.entries == [] and "nested too deeply" in " ".join(str(p) for p in parsed.problems)


def test_a_tab_separated_list_keeps_its_categories_and_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    tabbed = tmp_path / "tabbed.tsv"
    tabbed.write_text("md5\tcategory\n" + "a" * 32 + "\t1\n")
    parsed = read_hash_list(tabbed)
    assert parsed.format == "csv" and [(e.digests["md5"], e.category) for e in parsed.entries] == [("a" * 32, "1")]
    twice = tmp_path / "twice.csv"
    twice.write_text("md5,md5\n" + "a" * 32 + "," + "b" * 32 + "\n")
    with pytest.raises(HashListError, match="names md5 twice"):
        read_hash_list(twice)


def test_a_listed_hash_of_low_quality_is_matched_and_odd_qualities_never_drop_a_hash(tmp_path: Path) -> None:
    """The quality a list gives a hash is the partner's note, not a reason to leave the hash out (a category
    written after the hash reads as a quality); items too flat to mean anything are kept out by their own."""
    evidence = tmp_path / "evidence"
    listed = _altered_copy(evidence, 23)
    for listing in (f"pdq:{listed} 1\n", f"pdq,quality\n{listed},-5\n", f"{listed} \u00b2\n"):
        (tmp_path / "list.txt").write_text(listing)
        case = _scan_with_list(tmp_path, evidence, tmp_path / "list.txt")
        assert _matches(case)["altered.jpg"], listing
        shutil.rmtree(case)
    parsed = read_hash_list(tmp_path / "list.txt")  # "²" is a digit to Python, not a quality: a label
    assert (parsed.entries[0].pdq_quality, parsed.entries[0].label) == (None, "\u00b2")
    (tmp_path / "q.csv").write_text(f"pdq,quality\n{listed},-5\n{listed},\u0663\n{listed},80\n")
    parsed = read_hash_list(tmp_path / "q.csv")
    assert [e.pdq_quality for e in parsed.entries] == [None, None, 80] and not parsed.problems
    assert "2 line(s) give a PDQ quality that is not a whole number from 0 to 100 (line 2, 3)" in parsed.notes[0]


def test_a_list_with_no_hash_is_refused_and_a_name_that_is_not_utf8_is_escaped(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    _altered_copy(evidence, 24)
    empties = {"empty.txt": b"", "bom.txt": b"\xef\xbb\xbf", "comments.txt": b"# nothing yet\n\n",
               "header.csv": b"md5,category\n", "bad.txt": b"not-a-hash\n"}
    for name, data in empties.items():
        (tmp_path / name).write_bytes(data)
    case = tmp_path / "case"
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1",
                                       *[arg for name in empties for arg in ("--hashlist", str(tmp_path / name))]])
    assert result.exit_code == 1, result.output  # refused lists: the scan is kept, and ends saying so
    said = " ".join(result.output.split())
    for name in empties:
        assert f"{name} holds no hash that can be read" in said, name
    assert "the first: line 1: 'not-a-hash' is not an" in said
    store = open_case(case)
    try:
        assert store.hash_lists() == []
    finally:
        store.close()
    latin1 = Path(os.fsdecode(bytes(tmp_path) + b"/list-\xe9.txt"))
    latin1.write_text(MD5 + "\n")
    imported = CliRunner().invoke(main, ["hashlist", "import", str(latin1), "--case", str(case)])
    assert imported.exit_code == 0, imported.output
    assert "Imported hash list list-\\xe9" in imported.output


def test_a_csv_saved_by_excel_in_windows_1252_is_read_with_a_note(tmp_path: Path) -> None:
    listing = tmp_path / "excel.csv"
    listing.write_bytes(f"md5;label\r\n{MD5};photo d'été\r\n".encode("cp1252"))
    parsed = read_hash_list(listing)
    assert [(e.digests.get("md5"), e.label) for e in parsed.entries] == [(MD5, "photo d'été")]
    assert parsed.notes == ["not UTF-8 (byte 52): read as Windows-1252, the encoding Excel saves CSV files in; "
                            "labels may show other characters than were meant"]
    cut = tmp_path / "cut.csv"  # UTF-8 with one character cut in two (a download that stopped, then resumed)
    cut.write_bytes(f"md5,label\n{MD5},Été\n{'e' * 32},r".encode() + "é".encode()[:1] + b"union\n")
    parsed = read_hash_list(cut)
    assert [e.label for e in parsed.entries] == ["Été", "r\ufffdunion"]
    assert parsed.notes[0].startswith("not UTF-8 at byte 83 (and 0 more)")
