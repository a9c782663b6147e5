"""The command line on a reviewer's shift: no case made by accident, actions under the examiner's name, and
faces added to a case scanned without them."""

from __future__ import annotations

import os
import pwd
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import shared_data

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.store.sqlite import open_case


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def _scanned(tmp_path: Path, *extra: str, pictures: int = 2) -> tuple[Path, Path]:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    for seed in range(pictures):
        draw_picture(seed, (96, 72)).save(evidence / f"{seed}.png")
    case = tmp_path / "case"
    result = _invoke(*extra, "scan", str(evidence), "--case", str(case), "--workers", "1")
    assert result.exit_code == 0, result.output
    return evidence, case


def _actors(case: Path, action: str) -> list[str]:
    store = open_case(case)
    found = [e.actor for e in store.audit_entries() if e.action == action]
    store.close()
    return found


def test_only_scan_creates_a_case(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    picture = tmp_path / "face.png"
    draw_picture(1, (96, 72)).save(picture)
    typo = tmp_path / "case-42"
    for command in (["hashlist", "import", str(listing)], ["hashlist", "list"], ["match"], ["report"],
                    ["export", "--format", "csv"], ["review", "decide", "--all", "--category", "1"],
                    ["audit", "verify"], ["audit", "show"], ["faces", "find", "--reference", str(picture)],
                    ["faces", "scan"], ["faces", "group"], ["faces", "name", "1", "Ana"], ["faces", "merge", "1", "2"],
                    ["faces", "purge"], ["hashlist", "show", "x"], ["audit", "anchor"], ["user", "add", "rita"],
                    ["user", "list"], ["user", "password", "rita"], ["user", "disable", "rita"], ["verify"]):
        result = _invoke(*command, "--case", str(typo))
        assert result.exit_code == 1, (command, result.output)
        assert f"no case at {typo}" in " ".join(result.output.split()), command
        assert not typo.exists(), command
    for command, said in ((["serve"], "no case under"), (["user", "list"], "no server accounts in"),
                          (["user", "log"], "no server accounts in"), (["user", "grant", "rita", "x"], "no server")):
        result = _invoke(*command, "--cases", str(typo))  # a mistyped folder of cases, likewise
        assert result.exit_code == 1 and said in result.output, (command, result.output)
        assert not typo.exists(), command
    typo.mkdir()  # an existing folder that holds no case is refused the same way
    result = _invoke("hashlist", "import", str(listing), "--case", str(typo))
    assert result.exit_code == 1 and not (typo / "case.sqlite").exists()


def test_cli_actions_are_attributed_to_the_examiner(tmp_path: Path) -> None:
    _, case = _scanned(tmp_path, "--examiner", "Insp. Durand")
    assert set(_actors(case, "scan")) == {"Insp. Durand"}
    decided = _invoke("review", "decide", "--all", "--category", "1", "--case", str(case),
                      env={"VIGIE_EXAMINER": "Sgt. Ruiz"})
    assert decided.exit_code == 0, decided.output
    assert set(_actors(case, "categorise")) == {"Sgt. Ruiz"}
    both = _invoke("--examiner", "Insp. Durand", "audit", "anchor", "--case", str(case), "-o",
                   str(tmp_path / "anchor.json"), env={"VIGIE_EXAMINER": "Sgt. Ruiz"})
    assert both.exit_code == 0, both.output
    assert _actors(case, "audit-anchor") == ["Insp. Durand"]  # the option wins over the environment
    bad = _invoke("--examiner", "  ", "audit", "verify", "--case", str(case))
    assert bad.exit_code == 2 and "examiner" in bad.output


def test_without_a_name_in_the_environment_the_account_running_vigie_is_the_examiner(tmp_path: Path) -> None:
    # as under a service or in a container: no $USER, no $LOGNAME; the audit must still name someone, not "vigie"
    names = ["VIGIE_EXAMINER", "VIGIE_USER", "USER", "LOGNAME", "LNAME", "USERNAME"]
    unset: dict[str, str | None] = dict.fromkeys(names)
    _, case = _scanned(tmp_path)
    decided = CliRunner().invoke(main, ["review", "decide", "--all", "--category", "1", "--case", str(case)], env=unset)
    assert decided.exit_code == 0, decided.output
    assert set(_actors(case, "categorise")) == {pwd.getpwuid(os.getuid()).pw_name}

def test_faces_find_on_a_case_without_face_data_says_so(tmp_path: Path) -> None:
    _, case = _scanned(tmp_path)
    picture = tmp_path / "someone.png"
    draw_picture(9, (96, 72)).save(picture)
    result = _invoke("faces", "find", "--case", str(case), "--reference", str(picture))
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "no face data" in out and f"vigie faces scan --case {case}" in out and "match" not in out


def test_faces_scan_reads_the_evidence_again_and_names_what_changed(tmp_path: Path) -> None:
    pytest.importorskip("dlib", reason="the `faces` extra is not installed")
    evidence, case = _scanned(tmp_path)
    draw_picture(7, (96, 72)).save(evidence / "1.png")  # changed after the scan
    before = {p.name: p.stat().st_mtime_ns for p in evidence.iterdir()}
    result = _invoke("--examiner", "Insp. Durand", "faces", "scan", "--case", str(case))
    assert result.exit_code == 0, result.output
    assert "0 faces in 2 images searched; 1 could not be searched" in " ".join(result.output.split())
    assert {p.name: p.stat().st_mtime_ns for p in evidence.iterdir()} == before  # read only
    db = sqlite3.connect(case / "case.sqlite")
    errors = db.execute("SELECT i.relpath, e.message FROM item_errors e JOIN items i ON i.id = e.item_id "
                        "WHERE e.stage = 'faces'").fetchall()
    db.close()
    assert len(errors) == 1 and errors[0][0].endswith("1.png") and "changed since the scan" in errors[0][1]
    assert _actors(case, "faces-scan") == ["Insp. Durand"]
    verified = _invoke("audit", "verify", "--case", str(case))
    assert verified.exit_code == 0 and "Audit log intact" in verified.output


def test_faces_scan_adds_faces_that_faces_find_then_finds(tmp_path: Path) -> None:
    pytest.importorskip("dlib", reason="the `faces` extra is not installed")
    folder = shared_data("faces", "dlib-johns")
    photos = sorted(folder.glob("John_Simm_*.jpg"))[:2] + sorted(folder.glob("John_Savage_*.jpg"))[:2]
    evidence = tmp_path / "ev"
    evidence.mkdir()
    for photo in photos:  # a working copy in the test's own folder
        (evidence / photo.name).write_bytes(photo.read_bytes())
    case = tmp_path / "case"
    assert _invoke("scan", str(evidence), "--case", str(case), "--workers", "1").exit_code == 0
    assert _invoke("faces", "find", "--case", str(case), "--reference", str(photos[0])).exit_code == 2
    added = _invoke("faces", "scan", "--case", str(case))
    assert added.exit_code == 0, added.output
    assert "4 images searched; 0 could not be searched" in " ".join(added.output.split())
    found = _invoke("faces", "find", "--case", str(case), "--reference", str(photos[0]), "--json")
    assert found.exit_code == 0, found.output
    assert sum('"verdict": "match"' in line and "John_Simm" in line for line in found.output.splitlines()) == 2
    again = _invoke("faces", "scan", "--case", str(case))  # nothing searched twice
    assert again.exit_code == 0 and "0 faces in 0 images searched" in " ".join(again.output.split())


def test_outputs_never_land_on_the_case_or_the_evidence_and_are_checked_before_they_are_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    evidence, case = _scanned(tmp_path)
    assert _invoke("review", "decide", "--item", "1", "--category", "1", "--case", str(case)).exit_code == 0
    before = {p: p.read_bytes() for p in evidence.iterdir()}
    for args, said in [
        (["report", "-o", str(case / "case.sqlite")], "one of the case's own files"),
        (["export", "--format", "csv", "-o", str(case / "case.sqlite")], "one of the case's own files"),
        (["audit", "anchor", "-o", str(case / "vigie.toml")], "one of the case's own files"),
        (["report", "-o", str(case / "index" / "x.html")], "one of the case's own files"),
        (["export", "--format", "csv", "-o", str(evidence / "0.png")], "in the evidence"),
        (["report", "-o", str(evidence / "new.html")], "in the evidence"),
        (["export", "--format", "csv", "-o", str(tmp_path / "no" / "x.csv")], "there is no folder"),
    ]:
        result = _invoke(*args, "--case", str(case))
        # the message is wrapped at the terminal's width, where the temporary path's length puts it
        assert result.exit_code == 2 and said in " ".join(result.output.split()), (args, result.output)
    unknown = _invoke("export", "--format", "csv", "--item", "1", "--item", "999", "-o", str(tmp_path / "x.csv"),
                      "--case", str(case))
    assert unknown.exit_code == 2 and "no item 999 in this case" in unknown.output
    assert _actors(case, "export") == [] and _actors(case, "audit-anchor") == [], "nothing refused is audited"
    assert {p: p.read_bytes() for p in evidence.iterdir()} == before
    assert _invoke("report", "--format", "json", "-o", str(case / "report.json"), "--case", str(case)).exit_code == 0
    monkeypatch.chdir(case)  # the export's default file would be written here: allowed, beside the case's files
    assert _invoke("export", "--format", "csv", "--case", str(case)).exit_code == 0
    to_stdout = _invoke("report", "--format", "csv", "-o", "-", "--case", str(case))
    assert to_stdout.exit_code == 0 and to_stdout.output.startswith("id,path,") and not Path("-").exists()
