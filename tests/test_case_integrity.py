from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.store.audit import verify_audit_log
from vigie.store.schema import SCHEMA_VERSION
from vigie.store.sqlite import NotACaseError, open_case


def _scanned_case(tmp_path: Path) -> tuple[Path, Path]:
    evidence = tmp_path / "ev"
    (evidence / "sub").mkdir(parents=True)
    for seed in range(3):
        (evidence / "sub" / f"{seed}.jpg").write_bytes(jpeg_bytes(draw_picture(seed, (200, 150))))
    case = tmp_path / "case"
    assert CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case)]).exit_code == 0
    return evidence, case


def test_case_is_one_versioned_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    _, case = _scanned_case(tmp_path)
    db = sqlite3.connect(case / "case.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 3


def test_verify_reports_changed_and_missing_files(tmp_path: Path) -> None:
    evidence, case = _scanned_case(tmp_path)
    runner = CliRunner()
    clean = runner.invoke(main, ["verify", "--case", str(case)])
    assert clean.exit_code == 0 and "0 changed" in clean.output
    (evidence / "sub" / "0.jpg").write_bytes(b"tampered")
    (evidence / "sub" / "1.jpg").unlink()
    dirty = runner.invoke(main, ["verify", "--case", str(case)])
    assert dirty.exit_code == 3
    assert "CHANGED" in dirty.output and "0.jpg" in dirty.output
    assert "MISSING" in dirty.output and "1.jpg" in dirty.output


def test_audit_log_is_append_only_and_detects_edits_and_deletions(tmp_path: Path) -> None:
    _, case = _scanned_case(tmp_path)
    runner = CliRunner()
    intact = runner.invoke(main, ["audit", "verify", "--case", str(case)])
    assert intact.exit_code == 0 and "intact" in intact.output
    db = sqlite3.connect(case / "case.sqlite")
    try:
        db.execute("UPDATE audit_log SET actor = 'mallory'")
        raise AssertionError("the trigger should refuse edits")
    except sqlite3.IntegrityError as exc:
        assert "append-only" in str(exc)
    db.rollback()
    store = open_case(case)
    for action in ("decision", "export", "decision"):
        store.append_audit("analyst", action, {"item": 1})
    store.close()
    # A determined editor drops the triggers first; the hash chain still gives them away.
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute("UPDATE audit_log SET details = '{\"item\": 2}' WHERE seq = 2")
    db.commit()
    edited = runner.invoke(main, ["audit", "verify", "--case", str(case)])
    assert edited.exit_code == 3 and "entry 2: content does not match its hash" in edited.output
    db.execute("UPDATE audit_log SET details = '{\"item\": 1}' WHERE seq = 2")
    db.execute("DELETE FROM audit_log WHERE seq = 3")
    db.commit()
    store = open_case(case)
    problems = verify_audit_log(store).problems
    assert any("entry 3 is missing" in p for p in problems)
    db.execute("DELETE FROM audit_log WHERE seq >= 3")
    db.commit()
    assert any("ends before entry" in p for p in verify_audit_log(store).problems)


def test_audit_log_records_scans_and_imports(tmp_path: Path) -> None:
    _, case = _scanned_case(tmp_path)
    listing = tmp_path / "list.txt"
    listing.write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    assert CliRunner().invoke(main, ["hashlist", "import", str(listing), "--case", str(case)]).exit_code == 0
    shown = CliRunner().invoke(main, ["audit", "show", "--case", str(case), "--json"])
    actions = [json.loads(line)["action"] for line in shown.output.splitlines()]
    # the log's rule switch opens it, each scan is audited as it starts, and each scan and import records the state
    # it left
    assert actions == ["audit-rule", "scan-start", "scan", "case-state", "hashlist-import", "case-state"]


def test_an_emptied_or_foreign_case_file_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    emptied, foreign = tmp_path / "emptied", tmp_path / "foreign"
    emptied.mkdir()
    (emptied / "case.sqlite").write_bytes(b"")
    foreign.mkdir()
    other = sqlite3.connect(foreign / "case.sqlite")
    other.execute("CREATE TABLE notes (text TEXT)")
    other.commit()
    other.close()
    for case in (emptied, foreign):
        before = (case / "case.sqlite").read_bytes()
        with pytest.raises(NotACaseError, match="not a Vigie case"):
            open_case(case)
        assert (case / "case.sqlite").read_bytes() == before
        assert sorted(p.name for p in case.iterdir()) == ["case.sqlite"]


def test_a_lock_that_cannot_be_written_beside_the_case_says_the_case_is_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import vigie.store.sqlite as sqlite_store

    open_case(tmp_path / "case", create=True).close()

    def read_only_folder(path: object, *_: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(sqlite_store, "open", read_only_folder, raising=False)  # as on a read-only mount
    result = CliRunner().invoke(main, ["match", "--case", str(tmp_path / "case")])
    assert result.exit_code == 1 and "the case folder is read-only" in " ".join(result.output.split()), result.output
