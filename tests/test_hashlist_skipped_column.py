"""The lines a list's import skipped are a column of the stored list, not read back from the wording of its
problems; cases imported before the column have it filled from their problems when opened (SQLite and
PostgreSQL alike)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from schema_rewind import rewind_schema

from vigie.exports.report import render
from vigie.records import ListEntry
from vigie.store.sqlite import open_case

# how lists were stored before the column: one problem per skipped line, the count past 1000 in the last
_OLD_CUT = "1500 more skipped lines not listed (2500 in all; only the first 1000 are kept)"


def _case(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    return request.getfixturevalue("postgres_case") if kind == "postgresql" else tmp_path / "case"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_skipped_count_is_stored_as_given(tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> None:
    """A line read without its bad cell has a problem but was not skipped: the count is what the import says,
    whatever the problems' wording."""
    store = open_case(_case(kind, tmp_path, request), create=True)
    try:
        store.add_hash_list("known", "csv", "known.csv", "0" * 64, [ListEntry(digests={"md5": "0" * 32})],
                            ["line 2: md5 'x' is not 32 hexadecimal digits; that cell not read, the line's other "
                             "values kept", "line 3: no hash on this line"], skipped=1)
        assert [row.skipped for row in store.hash_lists()] == [1]
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_case_from_before_the_column_reads_its_lists_skipped_lines(tmp_path: Path, kind: str,
                                                                     request: pytest.FixtureRequest) -> None:
    case = _case(kind, tmp_path, request)
    store = open_case(case, create=True)
    many = [f"line {n}: no hash on this line" for n in range(1, 1001)] + [_OLD_CUT]
    for name, problems in (("many", many), ("few", ["line 4: no hash on this line", "line 9: bad"]), ("none", [])):
        store.add_hash_list(name, "text", f"{name}.txt", name.ljust(64, "0"), [ListEntry(digests={"md5": "0" * 32})],
                            problems)
    # as the case was before the column's migration
    store.db.execute("ALTER TABLE hash_lists DROP COLUMN skipped")
    rewind_schema(store, kind, "ADD COLUMN skipped")
    store.close()
    store = open_case(case)
    try:
        assert {row.name: row.skipped for row in store.hash_lists()} == {"many": 2500, "few": 2, "none": 0}
        assert json.loads(store.db.execute("SELECT problems FROM hash_lists WHERE name = 'many'").fetchone()[0]
                          )[-1] == _OLD_CUT
    finally:
        store.close()



def test_the_reports_name_the_count_skipped(tmp_path: Path) -> None:
    """The JSON report's count is the lines skipped, named so (the HTML report's "Skipped lines"): the problems
    are not it, a line read without its bad cell being one."""
    store = open_case(tmp_path / "case", create=True)
    try:
        store.add_hash_list("known", "csv", "known.csv", "0" * 64, [ListEntry(digests={"md5": "0" * 32})],
                            ["line 2: md5 'x' is not 32 hexadecimal digits; that cell not read, the line's other "
                             "values kept", "line 3: no hash on this line", "line 4: no hash on this line"],
                            skipped=2)
        [listed] = json.loads(render(store, "json"))["case"]["hash_lists"]
        html = render(store, "html")
    finally:
        store.close()
    assert listed["skipped"] == 2 and "problems" not in listed
    assert "<td>known</td><td>csv</td><td>1</td>\n<td>2</td>" in html
