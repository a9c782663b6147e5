"""What an export leaves out is said, and what it writes can be read back: items decided not pertinent in any
scheme are never in a list to share, files with no hash are never written as rows of no hash, VICS never
repeats an MD5 key, `also_found_at` survives any character in a path, an --item not reviewed is refused."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SHARED_DATA, jpeg_bytes
from test_console_api import app, login, queue  # noqa: F401  (app: the fixture)
from test_exports import decide_queue

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.exports.selection import ExportItem
from vigie.exports.vics import MD5_SHARED, VicsCase, left_out_2_0, vics_2_0
from vigie.store.review import ReviewTables
from vigie.store.sqlite import open_case
from vigie.vocabulary import is_not_pertinent


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def _said(result: Any) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


def _scan(evidence: Path, case: Path) -> None:
    result = _run("scan", str(evidence), "--case", str(case), "--workers", "1")
    assert result.exit_code == 0, result.output


def _ids(case: Path) -> dict[str, int]:
    store = open_case(case)
    try:
        return {item["path"].rsplit("/", 1)[-1]: item["id"] for item in store.iter_report_items()}
    finally:
        store.close()


def _exports(case: Path) -> list[dict[str, Any]]:
    store = open_case(case)
    try:
        return [e.details for e in store.audit_entries(action="export")]
    finally:
        store.close()


# --- E1: one rule of "not pertinent" for every scheme ------------------------------------------------------


@pytest.mark.parametrize(("scheme", "category", "not_pertinent"), [
    ("projectvic-us", "0", True), ("projectvic-us", "1", False), ("uk-caid", "C", False),
    ("custom", "Not pertinent", True), ("custom", "not-pertinent", True), ("custom", "NON PERTINENT", True),
    ("custom", "No pertinente", True), ("custom", "Pertinent", False), ("custom", "0", False),
    ("custom", None, False),
])
def test_one_rule_says_what_is_not_pertinent(scheme: str, category: str | None, not_pertinent: bool) -> None:
    assert is_not_pertinent(scheme, category) is not_pertinent


def test_a_custom_not_pertinent_item_is_never_in_the_list_to_share(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case, "custom", ("Pertinent", "Not pertinent"))
    target = tmp_path / "share.csv"
    result = _run("export", "--case", demo_case, "--format", "hashlist", "-o", target)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open(newline="")))
    assert rows and {r["category"] for r in rows} == {"Pertinent"}
    assert f"hashlist export of {len(rows)} file(s)" in _said(result)
    left = _exports(demo_case)[-1]["left_out"]["not-pertinent"]
    assert left > 0 and f"Left out {left} file(s)" in _said(result) and "decided not pertinent" in _said(result)


def test_a_not_pertinent_item_is_never_in_the_cybertipline_draft(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case, "custom", ("Pertinent", "Not pertinent"))
    target = tmp_path / "draft.xml"
    result = _run("export", "--case", demo_case, "--format", "cybertip", "-o", target)
    assert result.exit_code == 0, result.output
    details = ET.parse(target).getroot().findall("fileDetails")
    left = _exports(demo_case)[-1]["left_out"]["not-pertinent"]
    assert details and left > 0 and f"cybertip export of {len(details)} file(s)" in _said(result)
    assert "a report holds what is reported" in _said(result)


# --- E2: a file with no hash is left out, and said -------------------------------------------------------


@pytest.fixture
def hashless_case(tmp_path: Path) -> Path:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "seen.jpg").write_bytes(jpeg_bytes(draw_picture(3, (64, 64))))
    os.mkfifo(evidence / "pipe.jpg")  # never read: an item with no hash
    case = tmp_path / "case"
    _scan(evidence, case)
    decided = _run("review", "decide", "--case", case, "--item", "1", "--item", "2", "--category", "1")
    assert decided.exit_code == 0, decided.output
    return case


@pytest.mark.parametrize("fmt", ["hashlist", "vics", "vics-1.3"])
def test_a_file_with_no_hash_is_left_out_and_said(hashless_case: Path, tmp_path: Path, fmt: str) -> None:
    pipe = _ids(hashless_case)["pipe.jpg"]
    target = tmp_path / "out"
    result = _run("export", "--case", hashless_case, "--format", fmt, "-o", target)
    assert result.exit_code == 0, result.output
    if fmt == "hashlist":
        records: list[dict[str, Any]] = list(csv.DictReader(target.open(newline="")))
        assert all(r["md5"] and r["sha256"] for r in records)
    else:
        document = json.loads(target.read_text())
        records = document["value"][0]["Media"] if fmt == "vics" else document["value"]
        assert all(r["MD5"] for r in records)
    assert len(records) == 1
    said = _said(result)
    assert "export of 1 file(s)" in said and f"Left out 1 file(s) (item {pipe}): no" in said
    assert "could not be read" in said
    assert sum(_exports(hashless_case)[-1]["left_out"].values()) == 1


# --- E3: VICS never repeats an MD5 key -------------------------------------------------------------------


def _item(n: int, md5: str, sha256: str, category: str) -> ExportItem:
    item = {"id": n, "path": f"ev/f{n}.jpg", "md5": md5, "sha1": f"{n:040x}", "sha256": sha256, "pdq": None,
            "pdq_quality": None, "size": 100, "media_type": "image/jpeg", "matches": [], "ai": None}
    decision = {"category": category, "scheme": "projectvic-us", "ai_tags": [], "by": "a",
                "at": "2026-12-02T00:00:00+00:00", "industry_class": None}
    return ExportItem(item, decision, [], [item["path"]])


def test_files_sharing_an_md5_are_left_out_of_vics_media_and_named_in_the_case() -> None:
    collision = "79054025255fb1a26e4bc422aef54eb4"
    items = [_item(1, collision, "a" * 64, "1"), _item(2, "c" * 32, "c" * 64, "3"), _item(3, collision, "b" * 64, "0")]
    assert [(group.code, [e.item["id"] for e in group.items]) for group in left_out_2_0(items)] == \
        [("md5-shared", [1, 3])]
    document = vics_2_0(VicsCase("c", "11111111-1111-1111-1111-111111111111", "projectvic-us"), items)
    case = document["value"][0]
    assert [m["MD5"] for m in case["Media"]] == ["c" * 32]
    keys = [(a["MD5"], a["HashName"]) for m in case["Media"] for a in m["AlternativeHashes"]]
    assert len(keys) == len(set(keys))
    named = json.loads(next(p["PropertyValue"] for p in case["CaseMetadata"] if p["PropertyName"] == MD5_SHARED))
    assert [(n["MD5"], n["SHA256"], n["Category"], n["FilePaths"]) for n in named] == [
        (collision, "a" * 64, "1", ["ev/f1.jpg"]), (collision, "b" * 64, "0", ["ev/f3.jpg"])]
    model = SHARED_DATA / "schemas" / "ProjectVicDataModel.2.0.xml"
    if model.exists():
        from odata_csdl import check_document, load_csdl

        assert check_document(load_csdl(model), document) == []


# Wang, Feng, Lai and Yu's published MD5 collision (2004): two 128-byte blocks, one MD5, two SHA-256
COLLISION = [bytes.fromhex(
    "d131dd02c5e6eec4693d9a0698aff95c2fcab58712467eab4004583eb8fb7f8955ad340609f4b30283e488832571415a085125e8f7cdc99f"
    "d91dbdf280373c5bd8823e3156348f5bae6dacd436c919c6dd53e2b487da03fd02396306d248cda0e99f33420f577ee8ce54b67080a80d1e"
    "c69821bcb6a8839396f9652b6ff72a70"), bytes.fromhex(
    "d131dd02c5e6eec4693d9a0698aff95c2fcab50712467eab4004583eb8fb7f8955ad340609f4b30283e4888325f1415a085125e8f7cdc99f"
    "d91dbd7280373c5bd8823e3156348f5bae6dacd436c919c6dd53e23487da03fd02396306d248cda0e99f33420f577ee8ce54b67080280d1e"
    "c69821bcb6a8839396f965ab6ff72a70")]


def test_a_scanned_md5_collision_is_left_out_of_vics_and_said(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for n, data in enumerate(COLLISION):
        (evidence / f"block{n}.bin").write_bytes(data)
    (evidence / "picture.jpg").write_bytes(jpeg_bytes(draw_picture(7, (64, 64))))
    case = tmp_path / "case"
    _scan(evidence, case)
    ids = _ids(case)
    every = [arg for item in ids.values() for arg in ("--item", str(item))]
    assert _run("review", "decide", "--case", case, *every, "--category", "1").exit_code == 0
    target = tmp_path / "vics.json"
    result = _run("export", "--case", case, "--format", "vics", "-o", target)
    assert result.exit_code == 0, result.output
    case_record = json.loads(target.read_text())["value"][0]
    assert [m["MediaFiles"][0]["FileName"] for m in case_record["Media"]] == ["picture.jpg"]
    said = _said(result)
    assert "export of 1 file(s)" in said
    assert f"Left out 2 file(s) (items {ids['block0.bin']}, {ids['block1.bin']}): its MD5 is also another" in said
    named = json.loads(next(p["PropertyValue"] for p in case_record["CaseMetadata"]
                            if p["PropertyName"] == MD5_SHARED))
    assert len({n["SHA256"] for n in named}) == 2 and len({n["MD5"] for n in named}) == 1
    listed = tmp_path / "list.csv"
    assert _run("export", "--case", case, "--format", "hashlist", "-o", listed).exit_code == 0
    assert len(list(csv.DictReader(listed.open(newline="")))) == 3  # keyed by SHA-256 too: both are there


# --- E4: also_found_at reads back whatever a path holds ----------------------------------------------------


def test_also_found_at_is_a_json_array_that_survives_semicolons(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    picture = jpeg_bytes(draw_picture(5, (64, 64)))
    names = ["a.jpg", "b;c.jpg", 'd;"e", f.jpg']
    for name in names:
        (evidence / name).write_bytes(picture)
    case = tmp_path / "case"
    _scan(evidence, case)
    assert _run("review", "decide", "--case", case, "--all", "--category", "1").exit_code == 0
    target = tmp_path / "decisions.csv"
    assert _run("export", "--case", case, "--format", "csv", "-o", target).exit_code == 0
    (row,) = csv.DictReader(target.open(newline=""))
    paths = [row["path"], *json.loads(row["also_found_at"])]
    assert sorted(Path(p).name for p in paths) == sorted(names)
    assert json.loads(row["also_found_deleted"]) == []


# --- E5: an --item not reviewed is refused, or left out and named --------------------------------------------


def test_an_item_not_reviewed_is_refused_unless_asked_to_leave_it_out(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for n in (1, 2):
        (evidence / f"{n}.jpg").write_bytes(jpeg_bytes(draw_picture(n, (64, 64))))
    case = tmp_path / "case"
    _scan(evidence, case)
    ids = _ids(case)
    assert _run("review", "decide", "--case", case, "--item", ids["1.jpg"], "--category", "1").exit_code == 0
    target = tmp_path / "tip.xml"
    asked = ("export", "--case", case, "--format", "cybertip", "--item", ids["1.jpg"], "--item", ids["2.jpg"],
             "-o", target)
    refused = _run(*asked)
    assert refused.exit_code == 2 and f"item {ids['2.jpg']} not reviewed" in _said(refused)
    assert not target.exists() and _exports(case) == []
    left = _run(*asked, "--skip-unreviewed")
    assert left.exit_code == 0, left.output
    assert f"Left out item {ids['2.jpg']}: not reviewed" in _said(left) and "export of 1 file(s)" in _said(left)
    assert _exports(case)[-1]["unreviewed"] == [ids["2.jpg"]]


def test_the_console_leaves_out_a_stack_member_not_reviewed_and_audits_it(app: Any) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    stacked = next(e for e in queue(client)["entries"] if e["members"] > 1)
    client.post("/api/decisions", json={"item": stacked["id"], "category": "1", "scope": "item"},
                headers={"X-CSRF-Token": csrf})
    store = open_case(app.config["VIGIE_CASE"])
    try:
        others = [m for m in ReviewTables(store).members(stacked["id"]) if m != stacked["id"]]
    finally:
        store.close()
    asked = {"format": "csv", "items": str(stacked["id"]), "csrf_token": csrf}
    assert client.post("/export", data=asked | {"scope": "item", "items": f"{stacked['id']},{others[0]}"}
                       ).status_code == 400  # items named one by one: refused, as from the command line
    exported = client.post("/export", data=asked | {"scope": "stack"})
    assert exported.status_code == 200
    assert _exports(app.config["VIGIE_CASE"])[-1]["unreviewed"] == others
    # the download says it too, for the dialog to show
    assert json.loads(exported.headers["X-Vigie-Left-Out"]) == [
        f"Left out {len(others)} item(s) not reviewed, item(s) {', '.join(map(str, others))}."]


def test_the_console_download_says_what_it_left_out_in_the_users_language(app: Any) -> None:  # noqa: F811
    """The audit entry counts what an export left out; the download's X-Vigie-Left-Out header says it, one line
    per reason as the command line does, in the user's language, and the Export dialog shows those lines."""
    client, csrf = login(app, "rita")
    first, second = [e["id"] for e in queue(client)["entries"][:2]]
    for item, category in ((first, "0"), (second, "1")):
        decided = client.post("/api/decisions", json={"item": item, "category": category, "scope": "item"},
                              headers={"X-CSRF-Token": csrf})
        assert decided.status_code == 200, decided.get_json()
    exported = client.post("/export", data={"format": "hashlist", "csrf_token": csrf})
    assert exported.status_code == 200
    assert json.loads(exported.headers["X-Vigie-Left-Out"]) == [
        f"Left out 1 file(s), item(s) {first}: decided not pertinent (a list to share holds what is to be found)."]
    assert _exports(app.config["VIGIE_CASE"])[-1]["left_out"] == {"not-pertinent": 1}
    french = client.post("/export", data={"format": "cybertip", "csrf_token": csrf},
                         headers={"Accept-Language": "fr"})
    assert json.loads(french.headers["X-Vigie-Left-Out"]) == [
        f"1 fichier(s) laissé(s) de côté, élément(s) {first} : jugé(s) non pertinent(s) (un signalement contient ce "
        "qui est signalé)."]
    whole = client.post("/export", data={"format": "csv", "csrf_token": csrf})
    assert json.loads(whole.headers["X-Vigie-Left-Out"]) == []  # the decisions CSV carries every reviewed file


def test_matched_lists_and_ai_tags_are_json_arrays_that_survive_semicolons(tmp_path: Path) -> None:
    """A list named with a `;` (or a `,`, or quotes) reads back as one list, and the AI tags as they were given:
    each a JSON array in its cell, as `also_found_at` is."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    picture = jpeg_bytes(draw_picture(6, (64, 64)))
    (evidence / "a.jpg").write_bytes(picture)
    (evidence / "b.jpg").write_bytes(jpeg_bytes(draw_picture(7, (64, 64))))
    case = tmp_path / "case"
    _scan(evidence, case)
    digest = hashlib.sha256(picture).hexdigest()
    names = ['partner;2024, "seen"', "other"]
    for name in names:
        listing = tmp_path / f"{len(name)}.txt"
        listing.write_text(f"sha256:{digest}\n")
        assert _run("hashlist", "import", listing, "--case", case, "--name", name).exit_code == 0
    decided = _run("review", "decide", "--case", case, "--all", "--category", "1", "--ai-tag", "ai-generated",
                   "--ai-tag", "deepfake")
    assert decided.exit_code == 0, decided.output
    target = tmp_path / "decisions.csv"
    assert _run("export", "--case", case, "--format", "csv", "-o", target).exit_code == 0
    rows = {Path(row["path"]).name: row for row in csv.DictReader(target.open(newline=""))}
    assert json.loads(rows["a.jpg"]["matched_lists"]) == sorted(names)
    assert json.loads(rows["b.jpg"]["matched_lists"]) == []
    assert json.loads(rows["a.jpg"]["ai_tags"]) == ["ai-generated", "deepfake"]
