from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigie.demo.seizure import draw_picture
from vigie.matching.lists import HashListError, read_hash_list
from vigie.signals.pdq import pdq_from_image

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def pdq_hash(seed: int) -> str:
    return pdq_from_image(draw_picture(seed, (200, 160))).hash


def test_plain_text_tells_hashes_apart_and_reports_bad_lines(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"# partner list\n{MD5}\n{SHA1.upper()}\n\nnot-a-hash\n{pdq_hash(1)}\n{pdq_hash(2)} 87\n")
    parsed = read_hash_list(listing)
    assert parsed.format == "text"
    kinds = [(e.line, (e.digests.get("md5") and "md5") or (e.digests.get("sha1") and "sha1") or (e.pdq and "pdq"))
             for e in parsed.entries]
    assert kinds == [(2, "md5"), (3, "sha1"), (6, "pdq"), (7, "pdq")]
    assert parsed.entries[1].digests.get("sha1") == SHA1
    assert parsed.entries[3].pdq_quality == 87
    assert parsed.problems == ["line 5: 'not-a-hash' is not an MD5, SHA-1, SHA-256 or PDQ hash (length 10)"]
    assert parsed.skipped == 1


def test_plain_text_sha256_is_not_mistaken_for_pdq(tmp_path: Path) -> None:
    listing = tmp_path / "sha.txt"
    listing.write_text(f"{SHA256}\nsha256:{'ab' * 32}\n")
    parsed = read_hash_list(listing)
    assert [e.digests.get("sha256") for e in parsed.entries] == [SHA256, "ab" * 32]
    # the bare value does not say SHA-256 or PDQ, so it is matched both ways; the prefixed one is SHA-256 only
    assert [(e.untyped, e.pdq) for e in parsed.entries] == [(True, SHA256), (False, None)]


def test_csv_keeps_categories_schemes_and_unknown_columns(tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text(
        "MD5,SHA-1,PDQ,Category,Series,Label,Source Agency\n"
        f"{MD5},,,1,series-a,first,AGENCY\n"
        f",{SHA1},,B,,second,\n"
        f",,{pdq_hash(3)},custom-x,,third,\n"
        "zzzz,,,1,,bad,\n"
        f"{MD5},,\n"
    )
    parsed = read_hash_list(listing)
    assert parsed.format == "csv"
    assert [(e.category_scheme, e.category) for e in parsed.entries] == [
        ("projectvic-us", "1"), ("uk-caid", "B"), ("custom", "custom-x")]
    assert parsed.entries[0].series == "series-a"
    assert parsed.entries[0].extra == {"Source Agency": "AGENCY"}
    assert parsed.problems == [
        "line 5: md5 'zzzz' is not 32 hexadecimal digits",
        "line 6: 3 fields where the header has 7",
    ]


def test_csv_without_hash_column_is_rejected(tmp_path: Path) -> None:
    listing = tmp_path / "bad.csv"
    listing.write_text("name,colour\nx,red\n")
    with pytest.raises(HashListError, match="names no hash column"):
        read_hash_list(listing, fmt="csv")


def vics_13(media: list[dict[str, object]]) -> str:
    return json.dumps({"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
                       "value": media})


def vics_20(media: list[dict[str, object]]) -> str:
    return json.dumps({"@odata.context": "http://github.com/ICMEC/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases",
                       "value": [{"CaseNumber": "2026-042", "Media": media}]})


@pytest.mark.parametrize("document,fmt", [(vics_13, "vics-1.3"), (vics_20, "vics-2.0")])
def test_vics_versions_keep_their_fields(tmp_path: Path, document, fmt: str) -> None:  # type: ignore[no-untyped-def]
    media = [
        {"MediaID": 1, "MD5": MD5.upper(), "SHA1": SHA1, "Category": 1, "Series": "S1", "VictimIdentified": True,
         "PhotoDNA": "AAEC", "MediaSize": 123, "Comments": "kept"},
        {"MediaID": 2, "MD5": "nothex", "Category": 2},
        {"MediaID": 3, "Category": 0},
        {"MediaID": 4, "AlternativeHashes": [{"HashName": "PDQ", "HashValue": pdq_hash(4)}], "Category": 3},
    ]
    listing = tmp_path / "vics.json"
    listing.write_text(document(media))
    parsed = read_hash_list(listing)
    assert parsed.format == fmt
    first = parsed.entries[0]
    assert (first.digests.get("md5"), first.digests.get("sha1"), first.category, first.category_scheme, first.series,
            first.victim_identified, first.photodna) == (MD5, SHA1, "1", "projectvic-us", "S1", True, "AAEC")
    assert first.extra["Comments"] == "kept" and first.extra["MediaSize"] == 123
    assert parsed.entries[1].pdq == pdq_hash(4)
    assert len(parsed.problems) == 2
    assert "md5 'nothex' is not 32 hexadecimal digits" in parsed.problems[0]
    assert "no MD5, SHA1, SHA256, PDQ or PhotoDNA" in parsed.problems[1]
    if fmt == "vics-2.0":
        assert first.extra["@case"] == {"CaseNumber": "2026-042"}


def test_broken_json_gets_a_clear_message(tmp_path: Path) -> None:
    listing = tmp_path / "broken.json"
    listing.write_text('{"odata.metadata": "x#Media", "value": [')
    with pytest.raises(HashListError, match="not valid JSON"):
        read_hash_list(listing)


def test_binary_file_is_rejected(tmp_path: Path) -> None:
    listing = tmp_path / "list.bin"
    listing.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x9c\x80")
    with pytest.raises(HashListError, match="not UTF-8"):
        read_hash_list(listing)


def test_signal_types_compare_by_brute_force() -> None:
    from vigie.signals.registry import MD5, PDQ

    a, b = pdq_hash(1), pdq_hash(2)
    assert PDQ.distance(a, a) == 0 and PDQ.matches(a, a)
    assert PDQ.distance(a, b) > 31 and not PDQ.matches(a, b)
    assert PDQ.matches(a, b, threshold=256)
    assert MD5.distance(MD5.validate(MD5.hex_length * "a"), "a" * 32) == 0


def test_coreutils_and_bsd_checksum_lines_are_hash_lists(tmp_path: Path) -> None:
    """`md5sum` escapes a name holding a newline or backslash and marks its line with a leading backslash;
    `sha256sum --tag` and BSD's `md5` write `ALGO (name) = hash`."""
    listing = tmp_path / "sums.txt"
    listing.write_text(f"{MD5}  plain.jpg\n\\{MD5}  new\\nline.jpg\nSHA256 (holiday (1).jpg) = {SHA256}\n"
                       f"MD5 (a.jpg) = {MD5.upper()}\n")
    parsed = read_hash_list(listing)
    assert [(e.digests, e.label) for e in parsed.entries] == [
        ({"md5": MD5}, "plain.jpg"), ({"md5": MD5}, "new\\nline.jpg"), ({"sha256": SHA256}, "holiday (1).jpg"),
        ({"md5": MD5}, "a.jpg")]
    assert parsed.problems == []
