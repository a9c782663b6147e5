"""Domain operations audit themselves, whichever front end calls them, in the same transaction as their change;
and Vigie's own errors carry the exit status the command ends with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes

from vigie.cli import main
from vigie.config import Settings, SettingsError
from vigie.demo.seizure import draw_picture
from vigie.detector.runtime import DetectorError
from vigie.errors import VigieError
from vigie.exports.format import ExportError
from vigie.exports.report import write_case_report
from vigie.matching.faces.persons import merge_persons, name_person, purge_faces
from vigie.matching.list_import import ListImportError, import_hash_list
from vigie.matching.lists import HashListError
from vigie.matching.rematch import rematch_case
from vigie.review.scripted import SelectionError
from vigie.scan.pipeline import run_scan
from vigie.scan.verify import verify_evidence
from vigie.signals.faces import FaceModelError
from vigie.store.accounts import AccountError, Accounts
from vigie.store.anchors import AnchorError, anchor_log
from vigie.store.review import DecisionError
from vigie.store.sqlite import CaseNotFoundError, SqliteCaseStore, open_case


@pytest.fixture
def store(tmp_path: Path) -> Any:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.jpg").write_bytes(jpeg_bytes(draw_picture(3, (120, 90))))
    case = open_case(tmp_path / "case", create=True)
    run_scan(case, [str(evidence)], Settings(workers=1))
    yield case
    case.close()


def _last(store: SqliteCaseStore) -> tuple[str, str, dict[str, Any]]:
    entry = list(store.audit_entries())[-1]
    return entry.actor, entry.action, entry.details


def _with_two_persons(store: SqliteCaseStore) -> list[int]:
    item = store.item_ids()[0]
    with store.transaction():
        for width in (10, 20, 30):
            store.db.execute("INSERT INTO faces(item_id, x, y, width, height, landmarks, embedding, score, detector) "
                             "VALUES (?, 0, 0, ?, 1, '[]', ?, 0, 'synthetic')", (item, width, bytes(512)))
    faces = [row[0] for row in store.db.execute("SELECT id FROM faces ORDER BY id")]
    store.update_person_groups([(None, faces[:2], faces[1]), (None, faces[2:], faces[2])])
    return [row["id"] for row in store.persons()]


def test_faces_name_merge_and_purge_audit_themselves(store: SqliteCaseStore) -> None:
    first, second = _with_two_persons(store)
    assert name_person(store, first, "Person A", "rita")
    assert _last(store) == ("rita", "person-name", {"person": first, "name": "Person A"})
    assert not name_person(store, 999, "nobody", "rita")
    assert _last(store)[1] == "person-name" and _last(store)[2]["person"] == first  # nothing named, nothing logged
    assert merge_persons(store, first, second, "rita") == 1
    assert _last(store) == ("rita", "person-merge", {"keep": first, "absorb": second, "faces_moved": 1})
    assert purge_faces(store, "rita") == 3
    assert _last(store) == ("rita", "faces-purge", {"faces": 3})


def test_a_change_whose_audit_entry_fails_is_rolled_back(store: SqliteCaseStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = _with_two_persons(store)

    def refuse(*_: object) -> None:
        raise OSError("the log cannot be written")

    monkeypatch.setattr(store, "append_audit", refuse)
    with pytest.raises(OSError):
        name_person(store, first, "Person A", "rita")
    assert store.named_persons() == {}


def test_verify_report_match_and_anchor_audit_themselves(store: SqliteCaseStore, tmp_path: Path) -> None:
    assert [f.status for f in verify_evidence(store, 1, "rita")] == ["ok"]
    assert _last(store) == ("rita", "verify", {"files": 1, "problems": 0, "changed": []})
    with (tmp_path / "report.json").open("w") as handle:
        write_case_report(store, "json", handle, "rita", "report.json")
    assert _last(store) == ("rita", "report", {"format": "json", "output": "report.json", "thumbnails": False})
    rematch_case(store, Settings(workers=1), "rita")
    assert [e.action for e in store.audit_entries()][-2:] == ["match", "case-state"]
    anchor = anchor_log(store, "rita", "anchor.json")
    assert _last(store)[:2] == ("rita", "audit-anchor") and anchor["seq"] == list(store.audit_entries())[-1].seq


def test_a_refused_list_is_audited_with_its_reason(store: SqliteCaseStore, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(HashListError) as refused:
        import_hash_list(store, bad, Settings(workers=1), fmt="vics", actor="rita")
    assert _last(store) == ("rita", "hashlist-rejected", {"file": str(bad), "reason": str(refused.value)})


def test_an_unexpected_error_refuses_the_list_only_when_tolerated(store: SqliteCaseStore, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    listed = tmp_path / "list.txt"
    listed.write_text("d41d8cd98f00b204e9800998ecf8427e\n")

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("vigie.matching.list_import.read_hash_list", broken)
    with pytest.raises(RuntimeError):
        import_hash_list(store, listed, Settings(workers=1), actor="rita")
    assert _last(store)[1] != "hashlist-rejected"
    with pytest.raises(ListImportError, match="unexpected error reading the list: RuntimeError: boom"):
        import_hash_list(store, listed, Settings(workers=1), actor="rita", tolerate_errors=True)
    assert _last(store)[1] == "hashlist-rejected"


def test_console_logins_and_settings_audit_themselves(store: SqliteCaseStore) -> None:
    accounts = Accounts(store)
    user = accounts.create_user("rita", "a long password", "reviewer", actor="admin")
    assert accounts.log_in("rita", "wrong password", "127.0.0.1") is None
    assert _last(store) == ("rita", "login-failed", {"address": "127.0.0.1"})
    started = accounts.log_in("rita", "a long password", "127.0.0.1")
    assert started is not None and _last(store) == ("rita", "login", {"address": "127.0.0.1"})
    accounts.save_settings(user, {"blur": 40})
    assert _last(store) == ("rita", "view-settings", {"blur": 40})
    accounts.save_org_settings("admin", {"greyscale": False})
    assert _last(store) == ("admin", "org-view-settings", {"greyscale": False})
    accounts.end_session(started[1])
    assert _last(store) == ("rita", "logout", {}) and accounts.session(started[0]) is None


@pytest.mark.parametrize(("error", "exit_code"), [
    (SettingsError, 2), (FaceModelError, 2), (AccountError, 2), (AnchorError, 2), (DecisionError, 2),
    (SelectionError, 2), (ExportError, 2), (HashListError, 1), (ListImportError, 1), (CaseNotFoundError, 1),
    (DetectorError, 1),
])
def test_domain_errors_carry_the_exit_status(error: type[VigieError], exit_code: int) -> None:
    assert issubclass(error, VigieError) and error("why").exit_code == exit_code


def test_an_error_ends_the_command_with_one_line_and_its_status(tmp_path: Path) -> None:
    case = tmp_path / "case"
    open_case(case, create=True).close()
    (case / "vigie.toml").write_text("no_such_setting = 1\n")
    result = CliRunner().invoke(main, ["match", "--case", str(case)])
    assert result.exit_code == 2 and not isinstance(result.exception, VigieError)
    assert result.output.startswith("error: ") and result.output.count("error:") == 1
    assert "unknown setting(s): no_such_setting" in " ".join(result.output.split())
