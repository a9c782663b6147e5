"""Exports on the published models: VICS 2.0 against the Project VIC 2.0 CSDL and read back without loss, the
VICS reader on hostile and UK files, the CyberTipline draft against NCMEC's schema, CSV cells that no
spreadsheet runs as formulas, and `vigie review decide`."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SHARED_DATA, shared_data
from odata_csdl import check_document, load_csdl
from test_console_api import PASSWORD, login
from test_exports import decide_queue, export, imported_entries

from vigie.cli import ACTOR, main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.cells import FORMULA_STARTS, csv_cell
from vigie.matching.lists import HashListError, read_hash_list
from vigie.review.categories import set_case_scheme
from vigie.store.accounts import Accounts
from vigie.store.review import Decision, QueueFilter, ReviewTables
from vigie.store.sqlite import open_case
from vigie.web.app import create_app, ensure_admin

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/{}/$metadata#Cases"
SCHEME_CATEGORIES = {"projectvic-us": ("1", "0", "3"), "uk-caid": ("A", "C"), "custom": ("Pertinent",)}


def vics_export(case: Path, tmp_path: Path, name: str = "vics.json") -> dict[str, Any]:
    target = tmp_path / name
    export(case, "vics", target)
    return json.loads(target.read_text())  # type: ignore[no-any-return]


# --- VICS 2.0 on the Project VIC data model ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", list(SCHEME_CATEGORIES))
def test_vics_2_0_declares_only_the_project_vic_data_model(demo_case: Path, tmp_path: Path, scheme: str) -> None:
    model = load_csdl(shared_data("schemas", "ProjectVicDataModel.2.0.xml"))
    decide_queue(demo_case, scheme, SCHEME_CATEGORIES[scheme])
    document = vics_export(demo_case, tmp_path)
    assert len(document["value"][0]["Media"]) > 5
    assert check_document(model, document) == []


def test_the_csdl_checker_finds_what_the_model_does_not_declare(demo_case: Path, tmp_path: Path) -> None:
    model = load_csdl(shared_data("schemas", "ProjectVicDataModel.2.0.xml"))
    decide_queue(demo_case)
    document = vics_export(demo_case, tmp_path)
    case = document["value"][0]
    first, second = case["Media"][0], case["Media"][1]
    case["CaseID"] = "case-042"
    first |= {"Category": "1", "Tags": ["AI-generated"], "SHA256": SHA256}
    second["MD5"] = first["MD5"]
    first["MediaFiles"] = first["MediaFiles"][0]
    assert check_document(model, document) == [
        "Cases[0].CaseID: 'case-042' is not an Edm.Guid",
        "Cases[0].Media[0].Category: '1' is not an Edm.Int32",
        "Cases[0].Media[0].Tags: ['AI-generated'] is not an Edm.String",
        "Cases[0].Media[0].MediaFiles: a collection of CEModel.MediaFile must be a JSON array",
        "Cases[0].Media[0].SHA256: Media declares no such property",
        f"Cases[0].Media[1]: key {{'MD5': '{first['MD5']}'}} repeated",
    ]


@pytest.mark.parametrize(("scheme", "part"), [("projectvic-us", "US"), ("uk-caid", "UK"), ("custom", "CUSTOM")])
def test_vics_2_0_shapes(demo_case: Path, tmp_path: Path, scheme: str, part: str) -> None:
    decide_queue(demo_case, scheme, SCHEME_CATEGORIES[scheme])
    document = vics_export(demo_case, tmp_path)
    assert document["@odata.context"] == CONTEXT.format(part)
    case = document["value"][0]
    assert GUID.match(case["CaseID"])
    assert {p["PropertyName"]: p["PropertyValue"] for p in case["CaseMetadata"]}["Vigie.CategoryScheme"] == scheme
    for media in case["Media"]:
        md5 = media["MD5"]
        assert not {"SHA256", "PDQ", "CategoryScheme", "CategorisedBy", "CategorisedAt"} & set(media)
        assert isinstance(media.get("Tags", ""), str) and isinstance(media["MediaID"], int)
        assert [h["HashName"] for h in media["AlternativeHashes"]] in (["SHA256", "PDQ"], ["SHA256"])
        assert all(f["MD5"] == md5 and f["FilePath"].endswith(f["FileName"]) for f in media["MediaFiles"])
        metadata = {p["PropertyName"]: p["PropertyValue"] for p in media["MediaMetadata"] if p["MD5"] == md5}
        assert metadata["Vigie.CategorisedBy"] == "tester"
        if scheme == "custom":
            assert "Category" not in media and metadata["Vigie.Category"] == "Pertinent"
        else:
            assert isinstance(media["Category"], int) and "Vigie.Category" not in metadata
    numbers = {m["Category"] for m in case["Media"] if "Category" in m}
    assert numbers == {"projectvic-us": {0, 1, 3}, "uk-caid": {1, 3}, "custom": set()}[scheme]


def test_vics_case_id_is_kept_in_the_case(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case)
    first = vics_export(demo_case, tmp_path, "one.json")["value"][0]["CaseID"]
    second = vics_export(demo_case, tmp_path, "two.json")["value"][0]["CaseID"]
    store = open_case(demo_case)
    assert first == second == store.get_meta("vics_case_id")
    store.close()


@pytest.mark.parametrize("scheme", list(SCHEME_CATEGORIES))
def test_vics_2_0_reads_back_category_scheme_and_pdq_quality(demo_case: Path, tmp_path: Path, scheme: str) -> None:
    decide_queue(demo_case, scheme, SCHEME_CATEGORIES[scheme])
    target = tmp_path / "vics.json"
    export(demo_case, "vics", target)
    media = json.loads(target.read_text())["value"][0]["Media"]
    rows = imported_entries(tmp_path, target)
    assert {(r["category_scheme"], r["category"]) for r in rows} == {(scheme, c) for c in SCHEME_CATEGORIES[scheme]}
    for record, row in zip(media, rows, strict=True):
        quality = {p["PropertyName"]: p["PropertyValue"] for p in record["MediaMetadata"]}.get("Vigie.PdqQuality")
        assert row["pdq_quality"] == (int(quality) if quality else None)
        assert json.loads(row["extra"])["MediaMetadata"] == record["MediaMetadata"]


def test_vics_1_3_is_still_written(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case)
    target = tmp_path / "v13.json"
    export(demo_case, "vics-1.3", target)
    document = json.loads(target.read_text())
    assert document["odata.metadata"].endswith("1.3.xml#Media")
    assert all(m["SHA256"] and isinstance(m["Category"], int) for m in document["value"])


# --- the VICS reader -------------------------------------------------------------------------------------


def vics_file(tmp_path: Path, media: Any, part: str = "US", **case_fields: Any) -> Path:
    path = tmp_path / "list.json"
    case = {"CaseNumber": "x", **case_fields, "Media": media}
    path.write_text(json.dumps({"@odata.context": CONTEXT.format(part), "value": [case]}))
    return path


@pytest.mark.parametrize(("part", "scheme", "expected"), [
    ("UK", None, ("uk-caid", ["A", "B", "C"])),
    ("US", None, ("projectvic-us", ["1", "2", "3"])),
    ("UK", "projectvic-us", ("projectvic-us", ["1", "2", "3"])),
])
def test_vics_context_names_the_scheme(tmp_path: Path, part: str, scheme: str | None,
                                       expected: tuple[str, list[str]]) -> None:
    path = vics_file(tmp_path, [{"MD5": MD5, "Category": n} for n in (1, 2, 3)], part)
    parsed = read_hash_list(path, scheme=scheme)
    assert ({e.category_scheme for e in parsed.entries}, [e.category for e in parsed.entries]) == \
        ({expected[0]}, expected[1])
    assert parsed.notes == [] and parsed.problems == []


def test_vics_uk_context_through_the_cli(tmp_path: Path) -> None:
    path = vics_file(tmp_path, [{"MD5": MD5, "Category": 1}], "UK")
    rows = imported_entries(tmp_path, path)
    assert (rows[0]["category_scheme"], rows[0]["category"]) == ("uk-caid", "A")


def test_vics_categories_that_do_not_fit_the_scheme_are_kept_with_a_warning(tmp_path: Path) -> None:
    path = vics_file(tmp_path, [{"MD5": MD5, "Category": 7}, {"SHA1": SHA1, "Category": 2}], "UK")
    parsed = read_hash_list(path)
    assert [(e.digests.get("md5"), e.digests.get("sha1"), e.category) for e in parsed.entries] == \
        [(MD5, None, "7"), (None, SHA1, "B")]
    assert parsed.notes == ["categories that are not uk-caid categories (7) were kept as given; is the list of "
                            "another scheme (--scheme)?"]


def test_vics_new_shapes_are_read_without_loss(tmp_path: Path) -> None:
    alternatives = [{"MD5": MD5, "HashName": "SHA-256", "HashValue": SHA256},
                    {"MD5": MD5, "HashName": "PhotoDNA", "HashValue": "AAEC"},
                    {"MD5": MD5, "HashName": "Nudity-Score", "HashValue": "0.3"}]
    metadata = [{"MD5": MD5, "PropertyName": "Vigie.Category", "PropertyValue": "Pertinent"},
                {"MD5": MD5, "PropertyName": "Vigie.CategoryScheme", "PropertyValue": "custom"},
                {"MD5": MD5, "PropertyName": "Camera", "PropertyValue": "X100"}]
    media = {"MD5": MD5, "Tags": "AI-generated; Hybrid (real and generated)", "AlternativeHashes": alternatives,
             "MediaMetadata": metadata}
    entry = read_hash_list(vics_file(tmp_path, [media])).entries[0]
    assert (entry.digests.get("md5"), entry.digests.get("sha256"), entry.photodna, entry.category_scheme,
            entry.category) == (MD5, SHA256, "AAEC", "custom", "Pertinent")
    assert entry.extra["Tags"] == media["Tags"] and entry.extra["MediaMetadata"] == metadata
    assert entry.extra["AlternativeHashes"] == [alternatives[2]]  # the one no column holds


def test_vics_deep_json_is_a_clear_refusal(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"@odata.context": "x#Cases", "value": [{"Media": [' + "[" * 100_000 + "]" * 100_000 + "]}]}")
    with pytest.raises(HashListError, match="nested too deeply"):
        read_hash_list(path)
    case = tmp_path / "case"
    open_case(case, create=True).close()
    result = CliRunner().invoke(main, ["hashlist", "import", str(path), "--case", str(case)])
    assert result.exit_code == 1 and "nested too deeply" in result.output and result.exception is not None
    assert not isinstance(result.exception, RecursionError)


def test_vics_nesting_inside_one_media_is_a_problem_of_that_media(tmp_path: Path) -> None:
    deep: Any = "x"
    for _ in range(40):
        deep = {"a": deep}
    parsed = read_hash_list(vics_file(tmp_path, [{"MD5": MD5, "Comments": deep}, {"SHA1": SHA1}]))
    assert [e.digests.get("sha1") for e in parsed.entries] == [SHA1]
    assert parsed.problems == ["case 1 media 1: media nested more than 32 levels deep"]
    with pytest.raises(HashListError, match="case 1: its fields are nested more than 32 levels deep"):
        read_hash_list(vics_file(tmp_path, [{"MD5": MD5}], CaseMetadata=deep), fmt="vics")


def test_vics_huge_number_is_a_clear_refusal(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"@odata.context": "x#Cases", "value": [{"Media": [{"MD5": ' + "9" * 5000 + "}]}]}")
    with pytest.raises(HashListError, match="not valid JSON"):
        read_hash_list(path)


def test_vics_wrong_value_types_are_reported_never_swallowed(tmp_path: Path) -> None:
    media = [
        {"MD5": MD5, "Category": {"code": 1}},  # kept with its hash; the category reported
        {"MD5": 12345678901234567890123456789012},  # a hash as a number: refused, reported
        {"SHA1": SHA1, "AlternativeHashes": {"HashName": "SHA256", "HashValue": SHA256}},  # not an array: its
        {"SHA1": SHA1, "AlternativeHashes": [{"HashName": "SHA256", "HashValue": 5}]},  # media kept by its SHA1
        {"MD5": MD5, "Series": ["a"], "VictimIdentified": {"yes": True}},
        "not a media",
        {"__bad__": "an attacker's message", "SHA256": SHA256},  # once a marker that hid the media
    ]
    parsed = read_hash_list(vics_file(tmp_path, media))
    assert [(e.digests.get("md5"), e.digests.get("sha1"), e.digests.get("sha256"), e.category)
            for e in parsed.entries] == [(MD5, None, None, None), (None, SHA1, None, None), (None, SHA1, None, None),
                                         (MD5, None, None, None), (None, None, SHA256, None)]
    assert parsed.entries[0].extra["Category"] == {"code": 1}
    assert parsed.entries[3].extra["Series"] == ["a"] and parsed.entries[3].extra["VictimIdentified"] == {"yes": True}
    kept = "; that value not read, the media's other hashes kept"
    assert parsed.problems == [
        "case 1 media 2: MD5 is a number, not a string",
        f"case 1 media 3: AlternativeHashes is an object, not an array{kept}",
        f"case 1 media 4: AlternativeHashes SHA256: the HashValue is a number, not a string of its digits{kept}",
        "case 1 media 6: media is a string, not an object",
    ]
    assert len(parsed.notes) == 2 and parsed.notes[1].startswith("3 field(s) of the wrong type")
    assert "case 1 media 1: Category is an object, not a number" in parsed.notes[1]
    # the SHA-256 in an AlternativeHashes that is no array is kept as given with its media, and said not matched
    assert parsed.notes[0].startswith("AlternativeHashes SHA256: values that look like hashes in a field Vigie "
                                      "does not read") and parsed.notes[0].endswith("1 media (case 1 media 3)")


@pytest.mark.parametrize(("value", "message"), [
    ([{"Media": {"MD5": MD5}}], "case 1: its 'Media' is an object, not an array"),
    (["a case"], "case 1: the case is a string, not an object"),
])
def test_vics_cases_of_the_wrong_type_are_reported(tmp_path: Path, value: Any, message: str) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"@odata.context": CONTEXT.format("US"), "value": [*value, {"Media": [{"MD5": MD5}]}]}))
    assert read_hash_list(path, fmt="vics").problems == [message]
    path.write_text(json.dumps({"@odata.context": CONTEXT.format("US"), "value": value}))
    with pytest.raises(HashListError, match=f"no hash that can be read; 1 problem[(]s[)], the first: {message}"):
        read_hash_list(path, fmt="vics")  # a list of nothing is refused


def test_vics_context_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"@odata.context": {"x": 1}, "value": []}))
    with pytest.raises(HashListError, match=r"the @odata\.context is an object"):
        read_hash_list(path, fmt="vics")


# --- CyberTipline draft against NCMEC's reporting schema ------------------------------------------------


def sent_documents(path: Path) -> list[ET.Element]:
    """The documents a reporter sends (the report, then one fileDetails per file) from the draft bundle."""
    root = ET.parse(path).getroot()
    documents = [c for c in root if isinstance(c.tag, str)]  # comments aside
    assert root.tag == "cyberTiplineDraft" and documents[0].tag == "report"
    assert {d.tag for d in documents[1:]} == {"fileDetails"}
    return documents


def xsd_problems(documents: list[ET.Element]) -> list[str]:
    import xmlschema

    schema = xmlschema.XMLSchema(shared_data("schemas", "ncmec-reporting.xsd"))
    return [f"{d.tag}: {e.reason} at {e.path}" for d in documents for e in schema.iter_errors(d)]


def test_cybertip_draft_of_the_demo_case_is_valid_against_the_ncmec_schema(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case)
    target = tmp_path / "tip.xml"
    export(demo_case, "cybertip", target)
    documents = sent_documents(target)
    assert len(documents) > 5
    assert documents[0].findtext("reporter/reportingPerson/email") == "TO COMPLETE"  # a marked placeholder
    assert xsd_problems(documents) == []


def test_cybertip_control_characters_in_names_give_valid_xml(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    names = ["bell\x07-esc\x1b[2J.jpg", "line\nbreak\r.jpg", "tab\there\x7f.jpg"]
    for n, name in enumerate(names):
        draw_picture(n + 20, (160, 120)).save(evidence / name, "JPEG")
    case = tmp_path / "case"
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"])
    assert result.exit_code == 0, result.output
    decide_queue(case, categories=("1", "3"))  # pertinent: a report holds what is reported
    target = tmp_path / "tip.xml"
    export(case, "cybertip", target)
    documents = sent_documents(target)  # parses: the XML is well-formed
    shown = sorted(d.findtext("originalFileName") or "" for d in documents[1:])
    assert shown == ["bell\\x07-esc\\x1b[2J.jpg", "line\\x0abreak\\x0d.jpg", "tab\\x09here\\x7f.jpg"]
    assert all((d.findtext("locationOfFile") or "").endswith(d.findtext("originalFileName") or "?")
               for d in documents[1:])
    if SHARED_DATA.exists():
        assert xsd_problems(documents) == []


# --- CSV cells that no spreadsheet runs --------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def test_csv_cell_neutralises_formulas_and_leaves_hashes_and_numbers() -> None:
    assert [csv_cell(f) for f in FORMULAS] == ["'" + f for f in FORMULAS]
    assert [csv_cell(v) for v in (MD5, SHA256, -3, 2.5, None, "a=b", "")] == [MD5, SHA256, -3, 2.5, None, "a=b", ""]


def test_every_csv_vigie_writes_neutralises_formulas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    evidence = Path("=cmd|'calc'!A0")  # given relatively: every path of the case starts with it
    evidence.mkdir()
    for n in range(4):
        draw_picture(n + 30, (160, 120)).save(evidence / f"{n}.jpg", "JPEG")
    runner = CliRunner()
    result = runner.invoke(main, ["scan", str(evidence), "--case", "case", "--workers", "1"])
    assert result.exit_code == 0, result.output
    store = open_case(Path("case"))
    set_case_scheme(store, "custom", FORMULAS[:4], "test")
    hashes = {r[0] for r in store.db.execute("SELECT md5 FROM items")} | \
        {r[0] for r in store.db.execute("SELECT sha256 FROM items")}
    review = ReviewTables(store)
    _, entries = review.queue(QueueFilter(status="all"))
    for n, entry in enumerate(entries):
        review.decide("tester", review.members(entry["id"]), Decision("custom", FORMULAS[n % 4]), "stack")
        review.add_note("tester", entry["id"], FORMULAS[4 + n % 2])
    store.close()
    outputs = {"report.csv": ["report", "--case", "case", "--format", "csv", "-o", "report.csv"],
               "decisions.csv": ["export", "--case", "case", "--format", "csv", "-o", "decisions.csv"],
               "hashlist.csv": ["export", "--case", "case", "--format", "hashlist", "-o", "hashlist.csv"]}
    for name, arguments in outputs.items():
        result = runner.invoke(main, arguments)
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(io.StringIO(Path(name).read_bytes().decode(), newline="")))
        assert len(rows) == 4
        cells = [cell for row in rows for cell in row.values() if cell]
        assert not [c for c in cells if c.startswith(FORMULA_STARTS)], name
        assert {row["md5"] for row in rows} <= hashes and {row["sha256"] for row in rows} <= hashes
        if name != "hashlist.csv":
            assert all(row["path"].startswith("'=cmd|'calc'!A0/") for row in rows)
        if name != "report.csv":
            assert {row["category"] for row in rows} == {"'" + f for f in FORMULAS[:4]}
        if name == "decisions.csv":
            assert {row["notes"] for row in rows} == {"'\tcmd", "'\rcmd"}


# --- vigie review decide -----------------------------------------------------------------------------------


def decide_cli(case: Path, *arguments: str) -> Any:
    return CliRunner().invoke(main, ["review", "decide", "--case", str(case), *arguments])


def categorisations(case: Path) -> list[Any]:
    store = open_case(case)
    entries = [e for e in store.audit_entries() if e.action == "categorise"]
    store.close()
    return entries


def test_review_decide_is_audited_like_the_console(demo_case: Path) -> None:
    ensure_admin(demo_case)
    store = open_case(demo_case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    stacks = [r[0] for r in store.db.execute("SELECT id FROM stacks ORDER BY size DESC, id")]
    representatives = dict(store.db.execute("SELECT id, representative_id FROM stacks").fetchall())
    store.close()
    client, csrf = login(create_app(demo_case, Settings(workers=1)), "rita")
    by_console = client.post("/api/decisions", json={"item": representatives[stacks[0]], "category": "1",
                                                      "ai_tags": ["deepfake"]}, headers={"X-CSRF-Token": csrf})
    assert by_console.status_code == 200
    result = decide_cli(demo_case, "--stack", str(stacks[1]), "--category", "1", "--ai-tag", "deepfake",
                        "--note", "seen before")
    assert result.exit_code == 0, result.output
    console_entry, script_entry = categorisations(demo_case)
    assert console_entry.actor == "rita" and script_entry.actor == ACTOR
    assert set(console_entry.details) == set(script_entry.details)
    assert {k: v for k, v in console_entry.details.items() if k not in ("items", "sha256")} == \
        {k: v for k, v in script_entry.details.items() if k not in ("items", "sha256")}
    store = open_case(demo_case)
    review = ReviewTables(store)
    members = review.stack_members(stacks[1])
    assert script_entry.details["items"] == members and len(members) > 1
    decisions = review.decisions(members)
    assert {(d["category"], tuple(d["ai_tags"]), d["audit_seq"]) for d in decisions.values()} == \
        {("1", ("deepfake",), script_entry.seq)}
    assert all(review.notes(i)[0]["text"] == "seen before" for i in members)
    store.close()
    assert CliRunner().invoke(main, ["audit", "verify", "--case", str(demo_case)]).exit_code == 0


def test_review_decide_items_and_all(demo_case: Path, tmp_path: Path) -> None:
    store = open_case(demo_case)
    lone = [r[0] for r in store.db.execute(
        "SELECT id FROM items WHERE stack_id IS NULL AND media_type LIKE 'image/%' ORDER BY id LIMIT 2")]
    store.close()
    result = decide_cli(demo_case, "--item", str(lone[0]), "--item", str(lone[1]), "--item", str(lone[0]),
                        "--category", "3", "--industry-class", "A2")
    assert result.exit_code == 0, result.output
    assert [(e.details["items"], e.details["scope"]) for e in categorisations(demo_case)] == \
        [([lone[0]], "item"), ([lone[1]], "item")]
    result = decide_cli(demo_case, "--all", "--category", "0", "--skip-decided")
    assert result.exit_code == 0, result.output
    assert "2 item(s) already decided" in result.output
    store = open_case(demo_case)
    review = ReviewTables(store)
    assert review.progress()["decided"] == review.progress()["entries"]
    assert {i: d["category"] for i, d in review.decisions(lone).items()} == {lone[0]: "3", lone[1]: "3"}
    store.close()
    entries = categorisations(demo_case)[2:]
    assert all(e.details["scope"] == "stack" and e.details["category"] == "0" for e in entries)
    target = tmp_path / "d.csv"
    export(demo_case, "csv", target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert {r["category"] for r in rows} == {"0", "3"} and {r["decided_by"] for r in rows} == {ACTOR}
    assert {r["industry_class"] for r in rows if r["category"] == "3"} == {"A2"}


@pytest.mark.parametrize("arguments", [
    ["--all", "--category", "9"],
    ["--all", "--category", "A"],
    ["--all", "--category", "1", "--ai-tag", "nude"],
    ["--all", "--category", "1", "--industry-class", "Q9"],
    ["--all"],
    ["--item", "999999", "--category", "1"],
    ["--stack", "999999", "--category", "1"],
    ["--list", "no-such-list"],
    ["--all", "--item", "1", "--category", "1"],
    ["--category", "1"],
    ["--all", "--category", "1", "--note", " "],
    ["--all", "--category", "A", "--scheme", "projectvic-us"],
])
def test_review_decide_refuses_what_the_case_does_not_know(demo_case: Path, arguments: list[str]) -> None:
    before = len(categorisations(demo_case))
    result = decide_cli(demo_case, *arguments)
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert len(categorisations(demo_case)) == before


def test_review_decide_accepts_the_demo_lists_categories_with_no_scheme_change(demo_case: Path) -> None:
    result = decide_cli(demo_case, "--list", "demo-list")
    assert result.exit_code == 0, result.output
    store = open_case(demo_case)
    review = ReviewTables(store)
    matched = {r[0] for r in store.db.execute("SELECT DISTINCT item_id FROM matches")}
    decided = review.decisions()
    store.close()
    assert matched and set(decided) == matched
    assert {(d["scheme"], d["category"]) for d in decided.values()} == {("projectvic-us", "4"), ("projectvic-us", "0")}
    assert {e.details["scope"] for e in categorisations(demo_case)} == {"list:demo-list"}


def test_review_decide_accepts_a_lists_categories(demo_case: Path, tmp_path: Path) -> None:
    store = open_case(demo_case)
    rows = store.db.execute("SELECT id, md5 FROM items WHERE media_type LIKE 'image/%' AND md5 IS NOT NULL "
                            "ORDER BY id LIMIT 6").fetchall()
    store.close()
    (_, a_md5), (_, b_md5), (c, c_md5), (d, d_md5), (e, e_md5), (f, f_md5) = rows
    listing = tmp_path / "partner.csv"
    listing.write_text("md5,category\n" + "".join(f"{md5},{cat}\n" for md5, cat in [
        (a_md5, "1"), (b_md5, "3"), (c_md5, "1"), (c_md5, "3"), (d_md5, ""), (e_md5, "A"), (f_md5, "1")]))
    result = CliRunner().invoke(main, ["hashlist", "import", str(listing), "--case", str(demo_case),
                                       "--name", "partner"])
    assert result.exit_code == 0, result.output
    decide_cli(demo_case, "--item", str(f), "--category", "0")  # a human decision, kept with --skip-decided
    result = decide_cli(demo_case, "--list", "partner", "--skip-decided", "--ai-tag", "real-victim")
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    left = {reason: {int(i) for i in ids.split(", ")}
            for ids, reason in re.findall(r"not decided items? ([\d, ]+): (.*?)(?= not decided|$)", output)}
    assert set(left) == {"their closest entries in partner disagree (projectvic-us:1, projectvic-us:3)",
                         "their entries in partner carry no category (give --category)",
                         "category A is of scheme uk-caid, not projectvic-us (--scheme uk-caid to decide in that "
                         "scheme)"}
    assert [min(ids) for ids in left.values()] == [c, d, e]  # f, decided by a person, is left as it was
    assert "1 item(s) already decided" in output
    store = open_case(demo_case)
    decided = {i: (r["scheme"], r["category"], r["ai_tags"]) for i, r in ReviewTables(store).decisions().items()}
    copies = {md5: [r[0] for r in store.db.execute("SELECT id FROM items WHERE md5 = ?", (md5,))]
              for md5 in (a_md5, b_md5)}  # every copy of a listed file matched too
    store.close()
    assert decided == {f: ("projectvic-us", "0", [])} | \
        {i: ("projectvic-us", "1", ["real-victim"]) for i in copies[a_md5]} | \
        {i: ("projectvic-us", "3", ["real-victim"]) for i in copies[b_md5]}
    assert [x.details["scope"] for x in categorisations(demo_case)] == ["item", "list:partner", "list:partner"]
    # with a category, every match takes it, whatever its entry says
    result = decide_cli(demo_case, "--list", "partner", "--category", "2", "--scheme", "projectvic-us")
    assert result.exit_code == 0, result.output
    media = vics_export(demo_case, tmp_path)["value"][0]["Media"]
    md5s = {a_md5, b_md5, c_md5, d_md5, e_md5, f_md5}
    assert {m["MD5"]: m["Category"] for m in media if m["MD5"] in md5s} == {m: 2 for m in md5s}
