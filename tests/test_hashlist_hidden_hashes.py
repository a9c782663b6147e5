"""A value that looks like a hash never becomes a label or an extra field without a word: it is read as the
hash it is, or its line (or column, or field) is said at import. And past the problems kept, counts hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigie.cli import main
from vigie.config import Settings
from vigie.exports.report import case_info
from vigie.matching.list_import import import_hash_list
from vigie.matching.lists import read_hash_list
from vigie.store.sqlite import open_case

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _listing(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- S1: a CSV header after other lines; `md5 pdq` text lines --------------------------------


@pytest.mark.parametrize(("before", "said"), [
    ("# exported by partner tool\n", "read as comments"),
    ("Known pictures 2026-12\n", "read as comments"),
    ("sep=,\n", None),
    ("# one\n\n# two\n", "2 line(s) before the CSV header (line 4)"),
])
def test_csv_header_after_comments_title_or_excel_sep(tmp_path: Path, before: str, said: str | None) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"{before}md5,pdq,label\n{MD5},{PDQ},known\n"))
    assert parsed.format == "csv"
    [entry] = parsed.entries
    assert (entry.digests, entry.pdq, entry.label) == ({"md5": MD5}, PDQ, "known")
    assert not parsed.problems
    assert any(said in note for note in parsed.notes) if said else not parsed.notes


def test_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"sep=;\nmd5;pdq;label\n{MD5};{PDQ};a, b\n"))
    [entry] = parsed.entries
    assert (entry.digests, entry.pdq, entry.label, entry.line) == ({"md5": MD5}, PDQ, "a, b", 3)


def test_a_hash_before_the_csv_header_is_a_problem(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"# {SHA1}\nmd5,label\n{MD5},x\n"))
    assert parsed.problems == ["line 1: a hash before the CSV header: not read"] and parsed.skipped == 1


def test_text_line_reads_a_second_hash_of_another_type(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.txt", f"{MD5} {PDQ}\n{MD5} pdq:{PDQ} label\n{SHA1}\t{SHA256}\n"))
    first, second, third = parsed.entries
    assert first.digests["md5"] == MD5 and first.pdq == PDQ and first.label is None
    assert second.digests["md5"] == MD5 and second.pdq == PDQ and not second.untyped and second.label == "label"
    assert third.digests["sha1"] == SHA1 and third.digests["sha256"] == SHA256


def test_text_hash_left_in_a_label_is_said(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.txt", f"{MD5} {'1' * 32}\n{MD5} name {PDQ}\n{MD5} plain\n"))
    assert [e.label for e in parsed.entries] == ["1" * 32, f"name {PDQ}", "plain"]
    assert any(note.startswith("2 line(s) keep what looks like a hash in their label") and "(line 1, 2)" in note
               for note in parsed.notes)


# --- S2: hash columns and VICS HashNames by their names ---------------------------------------


@pytest.mark.parametrize("column", ["pdq_hex", "PDQ Value", "Perceptual Hash", "PDQ-Hash", "pdqhash"])
def test_csv_pdq_column_names(tmp_path: Path, column: str) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"md5,{column},label\n{MD5},{PDQ},x\n"))
    assert parsed.entries[0].pdq == PDQ and not parsed.entries[0].extra


@pytest.mark.parametrize(("column", "signal", "value"), [
    ("SHA256 Hash", "sha256", SHA256), ("SHA-256 Hash", "sha256", SHA256), ("SHA1 Hash", "sha1", SHA1),
    ("SHA-1 Hash", "sha1", SHA1), ("MD5 Value", "md5", MD5)])
def test_csv_digest_column_names(tmp_path: Path, column: str, signal: str, value: str) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"PhotoDNA,{column}\nAAECAwQFBgcICQ==,{value}\n"))
    assert parsed.entries[0].digests == {signal: value}


def test_csv_photodna_column_said_once(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", "PhotoDNA,md5\n" + f"AAECAwQ=,{MD5}\n" * 3))
    assert parsed.notes == ["column PhotoDNA: hashes Vigie does not compute, not matched: 3 line(s) (line 2, 3, 4)"]


def test_csv_unknown_column_holding_hashes_is_said(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"md5,parent\n{MD5},{SHA1}\n{MD5},none\n"))
    assert parsed.entries[0].extra == {"parent": SHA1}
    [note] = parsed.notes
    assert note.startswith("column parent: values that look like") and note.endswith("1 line(s) (line 2)")


def test_csv_label_that_is_a_hash_is_said(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"md5,label\n{MD5},{PDQ}\n{MD5},{PDQ}.jpg\n"))
    assert [e.label for e in parsed.entries] == [PDQ, f"{PDQ}.jpg"]
    assert [n[:40] for n in parsed.notes] == ["column label: values that look like MD5,"]
    assert parsed.notes[0].endswith("1 line(s) (line 2)")


def _vics(media: list[dict[str, object]], key: str = "Media") -> str:
    return json.dumps({"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/"
                                         "$metadata#Cases",
                       "value": [{"CaseID": "11111111-1111-1111-1111-111111111111", key: media}]})


@pytest.mark.parametrize("name", ["PDQ", "PDQHash", "PDQ Hash", "pdq_hash", "pdq-hex"])
def test_vics_pdq_hash_names(tmp_path: Path, name: str) -> None:
    text = _vics([{"MD5": MD5, "AlternativeHashes": [{"MD5": MD5, "HashName": name, "HashValue": PDQ}]}])
    parsed = read_hash_list(_listing(tmp_path, "l.json", text))
    assert parsed.entries[0].pdq == PDQ and "AlternativeHashes" not in parsed.entries[0].extra


def test_vics_unknown_hash_name_and_photodna_said(tmp_path: Path) -> None:
    text = _vics([{"MD5": MD5, "PhotoDNA": "AAECAwQ=",
                   "AlternativeHashes": [{"MD5": MD5, "HashName": "Fuzzy", "HashValue": SHA1}]}])
    parsed = read_hash_list(_listing(tmp_path, "l.json", text))
    assert parsed.notes == [
        "PhotoDNA: hashes Vigie does not compute, not matched: 1 media (case 1 media 1)",
        "AlternativeHashes Fuzzy: values that look like hashes in a field Vigie does not read as one (kept as "
        "given), not matched: 1 media (case 1 media 1)"]


# --- S3: VICS media outside a case's `Media` --------------------------------------------------


@pytest.mark.parametrize("key", ["media", "MediaList"])
def test_vics_media_under_other_keys_are_read(tmp_path: Path, key: str) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.json", _vics([{"MD5": MD5}], key)))
    assert [e.digests for e in parsed.entries] == [{"md5": MD5}]
    assert parsed.entries[0].extra == {"@case": {"CaseID": "11111111-1111-1111-1111-111111111111"}}


def test_vics_nested_media_are_read(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.json", _vics([{"MD5": MD5, "MediaID": 1, "Media": [
        {"SHA1": SHA1, "MediaID": 2, "Media": [{"SHA256": SHA256}]}]}])))
    assert [e.digests for e in parsed.entries] == [{"md5": MD5}, {"sha1": SHA1}, {"sha256": SHA256}]
    assert "Media" not in parsed.entries[0].extra and not parsed.notes


def test_vics_hash_in_a_field_vigie_does_not_read_is_said(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.json", _vics([{"MD5": MD5, "Other": [{"MD5": SHA1}]}])))
    assert parsed.notes[0].startswith("Other.MD5: values that look like hashes")


# --- W1: counts past the problems kept --------------------------------------------------------


def test_skipped_lines_past_those_kept_are_counted(tmp_path: Path) -> None:
    listing = _listing(tmp_path, "sk.txt", "".join(f"bad{n}\n" for n in range(2500)) + MD5 + "\n")
    case = tmp_path / "case"
    store = open_case(case, create=True)
    try:
        result = import_hash_list(store, listing, Settings(workers=1))
        [stored] = store.hash_lists()
        info = case_info(store)
    finally:
        store.close()
    assert result.skipped == stored.skipped == info["hash_lists"][0]["skipped"] == 2500
    assert len(stored.problems) == 1001
    assert stored.problems[-1] == ("1500 more lines with a problem not listed (2500 in all; only the first 1000 are "
                                   "kept)")
    runner = CliRunner()
    listed = runner.invoke(main, ["hashlist", "list", "--case", str(case)])
    assert "2500" in listed.output and "1001" not in listed.output
    shown = " ".join(runner.invoke(main, ["hashlist", "show", "sk", "--case", str(case)]).output.split())
    assert "2500 lines skipped" in shown and shown.count(" problem line ") == 1000
    assert shown.rstrip().endswith("kept)")


def test_a_line_with_two_problems_is_one_skipped_line(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.csv", f"md5,sha1\nxyz,abc\n{MD5},{SHA1}\n"))
    assert parsed.skipped == 1 and len(parsed.problems) == 1 and parsed.problems[0].count("; ") == 1


def test_text_line_longer_than_any_list_line_is_skipped_unread(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from vigie.matching.lists import text

    monkeypatch.setattr(text, "MAX_LINE", 100)
    parsed = read_hash_list(_listing(tmp_path, "l.txt", f"{'a' * 101}\n{MD5}\n"))
    assert parsed.problems == ["line 1: 101 characters long, more than a hash-list line (100 at most): not read"]
    assert [e.digests for e in parsed.entries] == [{"md5": MD5}]


def test_checksum_lines_keep_a_name_that_looks_like_a_hash_as_the_name(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.txt", f"{SHA1}  {MD5}\n{SHA1} *{MD5}\nSHA1 ({MD5}) = {SHA1}\n"))
    assert [e.digests for e in parsed.entries] == [{"sha1": SHA1}] * 3
    assert [e.label for e in parsed.entries] == [MD5, f"*{MD5}", MD5]
    assert not parsed.notes


def test_vics_media_under_a_name_vigie_does_not_know_are_said(tmp_path: Path) -> None:
    parsed = read_hash_list(_listing(tmp_path, "l.json", json.dumps({
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases",
        "value": [{"CaseID": "1", "Media": [{"MD5": MD5}]}, {"CaseID": "2", "Items": [{"SHA1": SHA1}]}]})))
    assert [e.digests for e in parsed.entries] == [{"md5": MD5}]
    assert parsed.notes == ["the case's Items.SHA1: values that look like hashes in a field Vigie does not read as "
                            "one (kept as given), not matched: 1 case(s) (case 2)"]
