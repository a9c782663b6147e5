"""`vigie export`: VICS that `vigie hashlist import` reads back without loss, the hash list, the CyberTipline
draft in schema order, the decisions CSV and the case report; every export audited."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigie.cli import main
from vigie.exports.case_report import find_pdf_browser
from vigie.review.categories import set_case_scheme
from vigie.store.review import Decision, QueueFilter, ReviewTables
from vigie.store.sqlite import open_case

# fileDetails children in the order of the CyberTipline reporting API schema
FILE_DETAILS_ORDER = ["reportId", "fileId", "originalFileName", "locationOfFile", "fileViewedByEsp",
                      "exifViewedByEsp", "publiclyAvailable", "fileRelevance", "fileAnnotations",
                      "industryClassification", "originalFileHash", "ipCaptureEvent", "deviceId", "details",
                      "additionalInfo"]
REPORT_ORDER = ["incidentSummary", "internetDetails", "lawEnforcement", "reporter", "personOrUserReported",
                "intendedRecipient", "victim", "additionalInfo"]


def decide_queue(case: Path, scheme: str = "projectvic-us", categories: tuple[str, ...] = ("1", "0", "3")) -> None:
    store = open_case(case)
    if scheme != "projectvic-us":
        set_case_scheme(store, scheme, None, "test")
    review = ReviewTables(store)
    _, entries = review.queue(QueueFilter(status="all"))
    for n, entry in enumerate(entries):
        tags = ["ai-generated"] if n % 3 == 0 else []
        review.decide("tester", review.members(entry["id"]),
                      Decision(scheme, categories[n % len(categories)], tags, "A2" if n % 2 else None), "stack")
    review.add_note("tester", entries[0]["id"], "seen on a group chat")
    store.close()


def export(case: Path, fmt: str, output: Path, *extra: str) -> None:
    result = CliRunner().invoke(main, ["export", "--case", str(case), "--format", fmt, "-o", str(output), *extra])
    assert result.exit_code == 0, result.output


def imported_entries(tmp_path: Path, path: Path) -> list[dict]:  # type: ignore[type-arg]
    case = tmp_path / "reimport"
    store = open_case(case, create=True)
    store.close()
    result = CliRunner().invoke(main, ["hashlist", "import", str(path), "--case", str(case), "--name", "back"])
    assert result.exit_code == 0, result.output
    store = open_case(case)
    rows = [dict(r) for r in store.db.execute("SELECT * FROM list_entries ORDER BY id")]
    problems = store.hash_lists()[0].problems
    store.close()
    assert problems == []
    return rows


@pytest.mark.parametrize("fmt", ["vics", "vics-1.3"])
def test_vics_round_trips_through_hashlist_import(demo_case: Path, tmp_path: Path, fmt: str) -> None:
    decide_queue(demo_case)
    target = tmp_path / "out.json"
    export(demo_case, fmt, target)
    document = json.loads(target.read_text())
    media = document["value"][0]["Media"] if fmt == "vics" else document["value"]
    rows = imported_entries(tmp_path, target)
    assert len(rows) == len(media) > 5
    for record, row in zip(media, rows, strict=True):
        hashes = record | {h["HashName"]: h["HashValue"] for h in record.get("AlternativeHashes", [])}
        assert row["md5"] == record["MD5"] and row["sha1"] == record["SHA1"]
        assert row["sha256"] == hashes["SHA256"] and row["pdq"] == hashes.get("PDQ")
        assert row["category"] == str(record["Category"]) and row["category_scheme"] == "projectvic-us"
        extra = json.loads(row["extra"])
        case_fields = extra.pop("@case", None)
        assert extra == {k: v for k, v in record.items()
                         if k not in ("MD5", "SHA1", "SHA256", "PDQ", "AlternativeHashes", "Category", "Series")}
        assert row["series"] == record.get("Series")
        if fmt == "vics":
            assert case_fields == {k: v for k, v in document["value"][0].items() if k != "Media"}
    with_copies = [m for m in media if len(m["MediaFiles"]) > 1]
    assert with_copies and any(m.get("Comments", "").endswith("seen on a group chat") for m in media)


def test_vics_keeps_a_uk_caid_scheme(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case, "uk-caid", ("A", "C"))
    target = tmp_path / "caid.json"
    export(demo_case, "vics", target)
    rows = imported_entries(tmp_path, target)
    assert {(r["category_scheme"], r["category"]) for r in rows} == {("uk-caid", "A"), ("uk-caid", "C")}


def test_hashlist_export_leaves_out_non_pertinent_items(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case)
    target = tmp_path / "list.csv"
    said = CliRunner().invoke(main, ["export", "--case", str(demo_case), "--format", "hashlist", "-o", str(target)])
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows and {r["category"] for r in rows} == {"1", "3"}
    assert f"hashlist export of {len(rows)} file(s)" in said.output, "the count is of what was written"
    assert all(len(r["md5"]) == 32 and len(r["sha1"]) == 40 and len(r["pdq"]) in (0, 64) for r in rows)
    assert sum(len(r["pdq"]) == 64 for r in rows) >= len(rows) - 2  # a video and an unreadable image have none
    back = imported_entries(tmp_path, target)
    assert [(b["md5"], b["sha1"], b["pdq"], b["category"]) for b in back] == \
        [(r["md5"], r["sha1"], r["pdq"] or None, r["category"]) for r in rows]


def test_cybertip_draft_is_in_schema_order(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case)
    target = tmp_path / "tip.xml"
    export(demo_case, "cybertip", target, "--reporter-email", "analyst@example.org")
    root = ET.parse(target).getroot()
    report = root.find("report")
    assert report is not None
    children = [c.tag for c in report]
    assert children == sorted(children, key=REPORT_ORDER.index) and {"incidentSummary", "reporter"} <= set(children)
    assert [c.tag for c in report.find("incidentSummary")] == [  # type: ignore[union-attr]
        "incidentType", "incidentDateTime", "incidentDateTimeDescription"]
    assert report.findtext("reporter/reportingPerson/email") == "analyst@example.org"
    files = root.findall("fileDetails")
    assert len(files) > 5
    for details in files:
        tags = [c.tag for c in details]
        assert tags == sorted(tags, key=FILE_DETAILS_ORDER.index), tags
        assert [h.get("hashType") for h in details.findall("originalFileHash")] == ["MD5", "SHA1", "SHA256"]
    assert any(d.find("fileAnnotations/generativeAi") is not None for d in files)
    assert any(d.find("fileAnnotations") is None for d in files)
    assert {d.findtext("industryClassification") for d in files} == {"A2", None}


def test_decisions_csv_and_selection(demo_case: Path, tmp_path: Path) -> None:
    decide_queue(demo_case)
    target = tmp_path / "d.csv"
    export(demo_case, "csv", target, "--category", "3")
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows and {r["category_label"] for r in rows} == {"CGI / animation"}
    assert all(r["decided_by"] == "tester" for r in rows)


def test_exports_are_audited_and_empty_selection_is_refused(demo_case: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--case", str(demo_case), "--format", "vics", "-o",
                                       str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "nothing to export" in result.output
    decide_queue(demo_case)
    export(demo_case, "case-report", tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text()
    store = open_case(demo_case)
    head = store.get_meta("audit_head")
    exports = [e for e in store.audit_entries() if e.action == "export"]
    store.close()
    assert "Decisions (" in html and "<svg" in html and "hash chain intact" in html
    assert head and exports[-1].details["format"] == "case-report"
    assert exports[-1].prev_hash in html  # the head at printing is the entry before the export's own


def test_case_report_pdf_when_chromium_is_installed(demo_case: Path, tmp_path: Path) -> None:
    if find_pdf_browser() is None:
        pytest.skip("no Chromium to print a PDF with")
    decide_queue(demo_case)
    export(demo_case, "case-report-pdf", tmp_path / "report.pdf")
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


def test_report_and_decisions_csv_say_which_file_was_read_as_deleted(demo_case: Path, tmp_path: Path) -> None:
    store = open_case(demo_case)
    first, copy = store.db.execute(  # two paths of one content: the decisions CSV's row and its other path
        "SELECT MIN(id), MAX(id) FROM items WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING COUNT(*) > 1"
        " ORDER BY MIN(id) LIMIT 1").fetchone()
    with store.db:  # as a disk image's deleted file would be recorded
        store.db.execute("UPDATE items SET deleted = 1 WHERE id IN (?, ?)", (first, copy))
    paths = {item["id"]: item["path"] for item in store.iter_report_items([first, copy])}
    store.close()
    result = CliRunner().invoke(main, ["report", "--case", str(demo_case), "--format", "csv",
                                       "-o", str(tmp_path / "report.csv")])
    assert result.exit_code == 0, result.output
    report = list(csv.DictReader(io.StringIO((tmp_path / "report.csv").read_text())))
    assert {r["path"] for r in report if r["deleted"] == "True"} == set(paths.values())
    assert {r["deleted"] for r in report} == {"True", "False"}
    decide_queue(demo_case)
    export(demo_case, "csv", tmp_path / "d.csv")
    decisions = {r["path"]: r for r in csv.DictReader(io.StringIO((tmp_path / "d.csv").read_text()))}
    row = decisions[paths[first]]
    assert row["deleted"] == "True" and paths[copy] in json.loads(row["also_found_deleted"])
    assert {r["deleted"] for p, r in decisions.items() if p != paths[first]} == {"False"}


def test_copies_decided_differently_export_the_latest_decision_and_say_so(tmp_path: Path) -> None:
    """Two paths of one file, decided apart: the export is one record, never the first decision in silence."""
    from conftest import jpeg_bytes

    from vigie.demo.seizure import draw_picture

    evidence = tmp_path / "evidence"
    for folder, name in (("a", "x.jpg"), ("b", "y.jpg")):
        (evidence / folder).mkdir(parents=True)
        (evidence / folder / name).write_bytes(jpeg_bytes(draw_picture(21, (64, 64))))
    case = tmp_path / "case"
    assert CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"]).exit_code == 0
    for item, category in ((1, "0"), (2, "1")):
        decided = CliRunner().invoke(main, ["review", "decide", "--case", str(case), "--item", str(item),
                                            "--category", category])
        assert decided.exit_code == 0, decided.output
    result = CliRunner().invoke(main, ["export", "--case", str(case), "--format", "hashlist",
                                       "-o", str(tmp_path / "list.csv")])
    assert result.exit_code == 0, result.output
    assert "items 1, 2 hold the same file but were decided differently" in " ".join(result.output.split())
    rows = list(csv.DictReader((tmp_path / "list.csv").open()))
    assert len(rows) == 1 and rows[0]["category"] == "1"  # the latest decision, pertinent
    store = open_case(case)
    try:
        audited = [e for e in store.audit_entries() if e.action == "export"][-1]
    finally:
        store.close()
    assert audited.details["decided_differently"] == [[1, 2]]
    # a selection of one copy still weighs the others' decisions: a third copy decided last says 0
    (evidence / "c").mkdir()
    (evidence / "c" / "z.jpg").write_bytes(jpeg_bytes(draw_picture(21, (64, 64))))
    assert CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"]).exit_code == 0
    assert CliRunner().invoke(main, ["review", "decide", "--case", str(case), "--item", "3", "--category", "0"]
                              ).exit_code == 0
    one = CliRunner().invoke(main, ["export", "--case", str(case), "--format", "csv", "--item", "2",
                                    "-o", str(tmp_path / "one.csv")])
    assert one.exit_code == 0, one.output
    assert "items 1, 2, 3 hold the same file but were decided differently" in " ".join(one.output.split())
    assert [row["category"] for row in csv.DictReader((tmp_path / "one.csv").open())] == ["0"]


def test_a_report_that_fails_leaves_the_file_before_it_and_names_that_are_not_utf8_are_escaped(
    tmp_path: Path
) -> None:
    from conftest import jpeg_bytes

    from vigie.demo.seizure import draw_picture

    evidence = Path(os.fsdecode(bytes(tmp_path) + b"/latin1-\xe9t\xe9"))
    evidence.mkdir()
    (evidence / "a.jpg").write_bytes(jpeg_bytes(draw_picture(22, (64, 64))))
    case = tmp_path / "case"
    assert CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"]).exit_code == 0
    report = tmp_path / "report.json"
    report.write_text("the report before")
    written = CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json", "-o", str(report)])
    assert written.exit_code == 0, written.output
    source = json.loads(report.read_text())["case"]["sources"][0]
    assert source["given"].endswith("latin1-\\xe9t\\xe9") and source["root"].endswith("latin1-\\xe9t\\xe9")
    report.chmod(0o600)  # a private report stays private when it is written again
    assert CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json", "-o", str(report)]
                              ).exit_code == 0
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    report.unlink()  # a new report is as the umask says
    assert CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json", "-o", str(report)]
                              ).exit_code == 0
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(report.stat().st_mode) == 0o666 & ~mask
    report.write_text("the report before")
    with pytest.MonkeyPatch.context() as patch:
        def broken(*_: object, **__: object) -> None:
            raise OSError(28, "No space left on device")
        patch.setattr("vigie.exports.report.write_case_report", broken)
        failed = CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json", "-o", str(report)])
    assert failed.exit_code != 0
    assert report.read_text() == "the report before" and [p.name for p in tmp_path.iterdir()
                                                           if p.name.startswith(".report")] == []


def test_a_report_to_a_link_or_a_pipe_is_written_through_never_replaced(demo_case: Path, tmp_path: Path) -> None:
    """Only a user's own regular file is replaced once the new one is whole: a link keeps pointing where it did
    (its target gets the report), and a pipe (`-o >(wc -c)`, /dev/stdout) is written into, never swapped."""
    import threading

    target, link = tmp_path / "target.json", tmp_path / "link.json"
    target.write_text("before")
    link.symlink_to(target)
    assert CliRunner().invoke(main, ["report", "--case", str(demo_case), "--format", "json", "-o", str(link)]
                              ).exit_code == 0
    assert link.is_symlink() and json.loads(target.read_text())["items"]
    decide_queue(demo_case)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    written = CliRunner().invoke(main, ["export", "--case", str(demo_case), "--format", "csv", "-o", str(pipe)])
    reader.join(timeout=60)
    assert written.exit_code == 0, written.output
    assert stat.S_ISFIFO(pipe.lstat().st_mode) and received and received[0].count(b"\n") > 1
