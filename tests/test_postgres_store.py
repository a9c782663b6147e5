"""The PostgreSQL case store (the `cluster` extra) against a private server (tests/pg.py): the same roles, schema
and answers as SQLite, one audit chain under concurrent writers, and `vigie case copy` both ways."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vigie.cli import main
from vigie.demo.seizure import build_demo, draw_picture
from vigie.errors import VigieError
from vigie.store.sqlite import CASE_DB_NAME, open_case

pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[cluster]')")

from vigie.store.postgres import PostgresCaseStore, translate


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def console_as_reviewer(postgres_case: str) -> tuple[Any, str]:
    """`vigie serve --case postgresql://...` as it runs: the console's app over the case's local folder, and a
    reviewer logged in to it (client, CSRF token)."""
    from test_console_api import PASSWORD, login

    from vigie.config import Settings
    from vigie.store.accounts import Accounts
    from vigie.web.app import create_app, ensure_admin

    store = open_case(postgres_case)
    folder = store.case_dir
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    ensure_admin(folder)
    return login(create_app(folder, Settings(workers=1)), "rita")


def _report(case: str) -> dict[str, Any]:
    """The JSON report without what names the case or the moment (path, times, the audit head)."""
    report = json.loads(_cli("report", "--case", case, "--format", "json"))
    for key in ("path", "created_at", "generated_at", "audit_head"):
        report["case"].pop(key, None)
    for hash_list in report["case"]["hash_lists"]:
        hash_list.pop("imported_at")
    return report


def test_sqlite_phrasing_becomes_postgresql() -> None:
    assert translate("INSERT OR IGNORE INTO items(relpath) VALUES (?)", True) == (
        "INSERT INTO items(relpath) VALUES (%s) ON CONFLICT DO NOTHING RETURNING id", True)
    assert translate("SELECT 1 FROM items WHERE media_type LIKE 'image/%' AND x = '?'", True) == (
        "SELECT 1 FROM items WHERE media_type LIKE 'image/%%' AND x = '?'", False)
    assert translate("INSERT INTO meta(key, value) VALUES (?, ?)", True)[1] is False  # no id column
    assert translate("SELECT CAST(details AS BLOB) FROM audit_log WHERE instr(a, ?) > 0", True)[0] == (
        "SELECT convert_to(details, 'UTF8') FROM audit_log WHERE strpos(a, %s) > 0")


def test_the_postgresql_store_satisfies_every_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_store_roles import CONFORMANCE, _mypy

    source = CONFORMANCE.replace("from vigie.store.sqlite import SqliteCaseStore",
                                 "from vigie.store.postgres import PostgresCaseStore")
    source = source.replace("cast(SqliteCaseStore, None)", "cast(PostgresCaseStore, None)")
    assert "PostgresCaseStore" in source
    out, status = _mypy(source, tmp_path, monkeypatch)
    assert status == 0, out


def _sqlite_columns(case: Path) -> dict[str, list[str]]:
    db = sqlite3.connect(case / CASE_DB_NAME)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                       "'sqlite%' AND name NOT LIKE 'item_search_%'")]
    columns = {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables}
    columns["item_search"] = ["rowid", *columns["item_search"]]
    db.close()
    return columns


def test_the_schema_has_sqlites_tables_and_columns(postgres_case: str, tmp_path: Path) -> None:
    open_case(tmp_path / "lite", create=True).close()
    store = open_case(postgres_case, create=True)
    try:
        assert isinstance(store, PostgresCaseStore)
        rows = store.db.execute("SELECT table_name, column_name FROM information_schema.columns WHERE "
                                "table_schema = ? AND table_name <> 'schema_version' ORDER BY ordinal_position",
                                (store.case_name,)).fetchall()
        postgres: dict[str, list[str]] = {}
        for table, column in rows:
            postgres.setdefault(table, []).append(column)
        assert {t: sorted(c) for t, c in postgres.items()} == {
            t: sorted(c) for t, c in _sqlite_columns(tmp_path / "lite").items()}
        assert store.case_dir.is_dir() and (store.case_dir / "vigie.toml").is_file()
    finally:
        store.close()
    # a folder of one's choosing names the case by the `store` of its vigie.toml
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "vigie.toml").write_text(f'store = "{postgres_case}"\npdq_threshold = 20\n')
    store = open_case(chosen)
    try:
        assert isinstance(store, PostgresCaseStore) and store.case_dir == chosen
    finally:
        store.close()
    result = CliRunner().invoke(main, ["audit", "verify", "--case", str(chosen)])
    assert result.exit_code == 0, result.output


def test_a_missing_case_is_refused_and_a_bad_url_explained(postgres_case: str) -> None:
    result = CliRunner().invoke(main, ["audit", "verify", "--case", postgres_case])
    assert result.exit_code != 0 and "no case" in result.output, result.output
    result = CliRunner().invoke(main, ["audit", "verify", "--case", "postgresql://x@/db"])
    assert result.exit_code == 2 and "?case=NAME" in result.output, result.output


@pytest.mark.slow
def test_a_scan_into_postgresql_gives_sqlites_items_matches_stacks_and_report(postgres_case: str,
                                                                             tmp_path: Path) -> None:
    layout = build_demo(tmp_path / "demo")
    lite = str(tmp_path / "lite")
    again = tmp_path / "again"  # a second source of the same files, in worker processes: copies found in the case
    shutil.copytree(layout.evidence, again)
    for case in (lite, postgres_case):
        _cli("scan", str(layout.evidence), "--case", case, "--hashlist", str(layout.hashlist), "--workers", "1")
        _cli("scan", str(again), "--case", case, "--workers", "2")
    report = _report(postgres_case)
    assert any(item["analysed_as"] for item in report["items"])
    assert report == _report(lite)
    assert report["summary"]["exact_matched_items"] > 0 and report["summary"]["stacks"] > 0
    assert "intact" in _cli("audit", "verify", "--case", postgres_case).lower()
    # the PDQ index is rebuilt in a fresh local folder (another machine) with the same answers
    store = open_case(postgres_case)
    folder = store.case_dir
    store.close()
    shutil.rmtree(folder / "index")
    _cli("match", "--case", postgres_case)
    assert (folder / "index").is_dir()
    assert _report(postgres_case)["summary"] == report["summary"]


def test_concurrent_audit_appends_stay_one_chain(postgres_case: str) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            store = open_case(postgres_case, create=True)  # all at once on a new case: one migration
            try:
                for i in range(15):
                    store.append_audit(f"writer-{n}", "test", {"i": i})
            finally:
                store.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    store = open_case(postgres_case)
    try:
        check = store.verify_audit()
        assert check.ok, check.problems
        assert check.entries == 5 * 15 + 1  # and the rule entry the first append writes
        assert [e.seq for e in store.audit_entries()] == list(range(1, check.entries + 1))
    finally:
        store.close()
    result = CliRunner().invoke(main, ["audit", "verify", "--case", postgres_case])
    assert result.exit_code == 0, result.output


def _small_scan(tmp_path: Path, case: str) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir(exist_ok=True)
    for seed in range(4):
        draw_picture(seed, (96, 72)).save(evidence / f"{seed}.png")
    _cli("scan", str(evidence), "--case", case, "--workers", "1")


def test_review_decisions_notes_search_and_accounts_work_on_postgresql(postgres_case: str, tmp_path: Path) -> None:
    from vigie.review.roles import ReviewStore
    from vigie.store.accounts import Accounts
    from vigie.store.audit import DECIDE_ACTION, UNDO_ACTION
    from vigie.store.review import Decision, QueueFilter, UndoError

    _small_scan(tmp_path, postgres_case)
    store = open_case(postgres_case)
    try:
        accounts = Accounts(store)
        accounts.create_user("rita", "a long enough password 1", "reviewer", "admin")
        assert accounts.authenticate("rita", "a long enough password 1") is not None
        assert accounts.authenticate("rita", "wrong password") is None
        token, session = accounts.start_session(accounts.users()[0])
        assert accounts.session(token) is not None
        a, b, c, _ = store.item_ids()
        assert accounts.record_reveal(session, a) == 1 and accounts.record_reveal(session, a) == 1
        assert accounts.is_revealed(session, a) and accounts.reveal_count(session) == 1
        review: ReviewStore = store.review_tables()
        total, page = review.queue(QueueFilter(status="all"))
        assert total == 4 and len(page) == 4
        assert review.queue(QueueFilter(status="all", text="1.PNG"))[0] == 1  # search ignores case
        first = review.decide("rita", [a], Decision("projectvic-us", "1", ["ai-generated"]), "stack")
        review.decide("rita", [b], Decision("projectvic-us", "2"), "stack")
        review.add_note("rita", c, "looked at it")
        assert review.progress() == {"entries": 4, "decided": 2}
        assert review.decisions([a])[a]["category"] == "1"
        review.undo("rita", first.seq)
        assert a not in review.decisions([a])
        with pytest.raises(UndoError):
            review.undo("sam", first.seq)
        assert [e.action for e in store.audit_entries(naming_item=a)][-2:] == [DECIDE_ACTION, UNDO_ACTION]
        accounts.end_session(session)
        assert accounts.session(token) is None
    finally:
        store.close()
    result = CliRunner().invoke(main, ["audit", "verify", "--case", postgres_case])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_case_copy_sqlite_to_postgresql_and_back(postgres_case: str, demo_case: Path, tmp_path: Path) -> None:
    from vigie.store.accounts import Accounts
    from vigie.store.review import Decision

    store = open_case(demo_case)
    Accounts(store).create_user("rita", "a long enough password 1", "reviewer", "admin")
    item = store.item_ids()[0]
    store.review_tables().decide("rita", [item], Decision("projectvic-us", "1"), "stack")
    store.close()
    back = tmp_path / "back"
    out = _cli("case", "copy", str(demo_case), postgres_case)
    assert "verified on both sides" in out
    _cli("case", "copy", postgres_case, str(back))
    for case in (str(demo_case), postgres_case, str(back)):
        result = CliRunner().invoke(main, ["audit", "verify", "--case", case])
        assert result.exit_code == 0, result.output
    original = _report(str(demo_case))
    assert _report(postgres_case) == original
    assert _report(str(back)) == original
    copied = open_case(back)
    try:
        assert copied.review_tables().decisions([item])[item]["category"] == "1"
        assert [e.action for e in copied.audit_entries()].count("case-copy") == 2  # each copy says so
        assert Accounts(copied).authenticate("rita", "a long enough password 1") is not None
        copied.append_audit("rita", "test", {})  # ids and sequences go on after the copied rows
    finally:
        copied.close()
    # a destination that holds a case already is refused
    result = CliRunner().invoke(main, ["case", "copy", str(demo_case), postgres_case])
    assert result.exit_code != 0 and "already holds a case" in result.output


@pytest.mark.slow
def test_the_console_serves_a_postgresql_case(postgres_case: str, demo_case: Path) -> None:
    """`vigie serve --case postgresql://...`: the console's app over the case's local folder, a store per request
    from the pool; a decision made there is in the PostgreSQL case's verified log."""
    from test_console_api import queue

    _cli("case", "copy", str(demo_case), postgres_case)
    rita, csrf = console_as_reviewer(postgres_case)
    first = queue(rita)["entries"][0]["id"]
    made = rita.post("/api/decisions", json={"item": first, "category": "2"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 200, made.get_json()
    assert first not in [e["id"] for e in queue(rita)["entries"]]
    result = CliRunner().invoke(main, ["audit", "verify", "--case", postgres_case])
    assert result.exit_code == 0 and "decided item(s)" in result.output, result.output


def test_a_nul_character_postgresql_cannot_hold_is_kept_escaped(postgres_case: str) -> None:
    store = open_case(postgres_case, create=True)
    try:
        assert store.add_matches([]) == 0  # as SQLite counts an empty batch
        store.set_meta("software", "Camera\x00\x00")
        assert store.get_meta("software") == "Camera\\x00\\x00"
    finally:
        store.close()


def test_the_store_url_is_not_recorded_with_the_scans_settings() -> None:
    from vigie.config import Settings

    settings = Settings(store="postgresql://vigie:secret@db/vigie?case=x")
    assert "store" not in settings.as_dict() and "secret" not in json.dumps(settings.as_dict())


def test_a_case_made_again_under_its_name_starts_its_local_folder_over(postgres_case: str) -> None:
    import psycopg

    from vigie.store.locator import parse_store_url

    store = open_case(postgres_case, create=True)
    folder = store.case_dir
    store.close()
    (folder / "index").mkdir()
    (folder / "index" / "stale.npy").write_bytes(b"old")
    open_case(postgres_case).close()  # the same case: kept
    assert (folder / "index" / "stale.npy").exists()
    conninfo, name = parse_store_url(postgres_case)
    with psycopg.connect(conninfo, autocommit=True) as db:
        db.execute(f'DROP SCHEMA "{name}" CASCADE')
    open_case(postgres_case, create=True).close()
    assert not (folder / "index").exists() and (folder / "vigie.toml").is_file()


def test_a_reveal_whose_audit_entry_postgresql_refuses_shows_nothing(postgres_case: str, demo_case: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed on PostgreSQL's errors as on SQLite's: a 503 that says why, never the clear picture."""
    import psycopg
    from test_console_api import queue

    _cli("case", "copy", str(demo_case), postgres_case)
    rita, csrf = console_as_reviewer(postgres_case)
    item = next(e["id"] for e in queue(rita)["entries"] if e["media_type"].startswith("image/"))
    real_append = PostgresCaseStore.append_audit

    def failing_append(self: PostgresCaseStore, actor: str, action: str, details: dict[str, Any]) -> Any:
        if action == "reveal":
            raise psycopg.errors.DiskFull("could not extend file")
        return real_append(self, actor, action, details)

    monkeypatch.setattr(PostgresCaseStore, "append_audit", failing_append)
    refused = rita.post(f"/api/items/{item}/reveal", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 503 and "audit" in refused.get_json()["error"]
    assert rita.get(f"/media/{item}/full").status_code == 403


def test_a_failed_case_copy_leaves_no_empty_case_behind(postgres_case: str, demo_case: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    import vigie.store.copy
    from vigie.store.locator import parse_store_url

    copy_table = vigie.store.copy._copy_table

    def lost_midway(source: Any, target: Any, table: str) -> int:
        if table == "matches":
            raise VigieError("the connection was lost")
        return copy_table(source, target, table)

    monkeypatch.setattr(vigie.store.copy, "_copy_table", lost_midway)
    for destination in (postgres_case, str(tmp_path / "new")):
        result = CliRunner().invoke(main, ["case", "copy", str(demo_case), destination])
        assert result.exit_code != 0 and "connection was lost" in result.output, result.output
        refused = CliRunner().invoke(main, ["audit", "verify", "--case", destination])
        assert refused.exit_code == 1 and "no case" in refused.output, refused.output
    assert not (tmp_path / "new").exists()
    assert not list((tmp_path / "cache").rglob("vigie.toml")), "nor its local folder"
    conninfo, name = parse_store_url(postgres_case)
    with psycopg.connect(conninfo) as db:
        assert db.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone() is None


def test_a_list_of_untyped_64_hex_values_is_imported_into_postgresql_as_into_sqlite(postgres_case: str,
                                                                                     tmp_path: Path) -> None:
    """A bare 64-hex value may be a SHA-256 or a PDQ hash: it is matched both ways, in either store (PostgreSQL
    refused the list: a Python boolean in its BIGINT column)."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    picture = draw_picture(102, (96, 72))
    picture.save(evidence / "k.png")
    listed = tmp_path / "untyped.txt"
    listed.write_text(hashlib.sha256((evidence / "k.png").read_bytes()).hexdigest() + "\n")
    lite = str(tmp_path / "lite")
    for case in (lite, postgres_case):
        _cli("scan", str(evidence), "--case", case, "--hashlist", str(listed), "--workers", "1")
    report = _report(postgres_case)
    assert report["summary"]["exact_matched_items"] == 1 and report["summary"] == _report(lite)["summary"]
