"""A VICS media with one bad hash next to valid ones is read without it, as a CSV line is without its bad cell:
its valid hashes are kept (a known picture is still matched), the bad one said, the media not counted skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigie.config import Settings
from vigie.matching.list_import import import_hash_list
from vigie.matching.lists import read_hash_list
from vigie.store.sqlite import open_case

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _vics_13(media: list[dict[str, object]]) -> str:
    return json.dumps({"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
                       "value": media})


def _vics_20(media: list[dict[str, object]]) -> str:
    return json.dumps({"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/"
                                         "$metadata#Cases", "value": [{"CaseNumber": "2026-042", "Media": media}]})


@pytest.mark.parametrize("document", [_vics_13, _vics_20])
def test_a_bad_hash_loses_its_value_only(tmp_path: Path, document) -> None:  # type: ignore[no-untyped-def]
    listing = tmp_path / "l.json"
    listing.write_text(document([
        {"MD5": MD5[:31], "SHA1": SHA1, "SHA256": SHA256, "Category": 1},
        {"MD5": "N/A", "AlternativeHashes": [{"HashName": "PDQ", "HashValue": PDQ}]},
        {"MD5": MD5, "SHA1": 12345},  # a hash as a number
        {"MD5": "x" * 32, "SHA1": "y"},  # nothing valid left: skipped
    ]))
    parsed = read_hash_list(listing)
    assert [(e.digests, e.pdq) for e in parsed.entries] == [
        ({"sha1": SHA1, "sha256": SHA256}, None), ({}, PDQ), ({"md5": MD5}, None)]
    assert parsed.entries[0].category == "1"
    assert (parsed.skipped, parsed.problem_lines, len(parsed.problems)) == (1, 4, 4)
    kept = "; that value not read, the media's other hashes kept"
    where = "media" if document is _vics_13 else "case 1 media"
    assert parsed.problems == [
        f"{where} 1: md5 '{MD5[:31]}' is not 32 hexadecimal digits{kept}",
        f"{where} 2: md5 'N/A' is not 32 hexadecimal digits{kept}",
        f"{where} 3: SHA1 is a number, not a string{kept}",
        f"{where} 4: md5 '{'x' * 32}' is not 32 hexadecimal digits; sha1 'y' is not 40 hexadecimal digits",
    ]

def test_the_import_counts_only_the_media_skipped(tmp_path: Path) -> None:
    listing = tmp_path / "l.json"
    listing.write_text(_vics_13([{"MD5": MD5[:31], "SHA1": SHA1}, {"MD5": "N/A"}, {"SHA256": SHA256}]))
    store = open_case(tmp_path / "case", create=True)
    try:
        result = import_hash_list(store, listing, Settings(workers=1))
        [stored] = store.hash_lists()
    finally:
        store.close()
    assert (result.entries, result.skipped, result.problem_lines) == (2, 1, 2)
    assert (stored.entry_count, stored.skipped, len(stored.problems)) == (2, 1, 2)
