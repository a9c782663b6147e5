"""The scan's lifecycle: resume after a kill, per-file budget, dying workers, disk full, honest counts."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.matching.list_import import import_hash_list
from vigie.scan.pipeline import run_scan
from vigie.store.locator import is_store_url, parse_store_url
from vigie.store.sqlite import SqliteCaseStore, open_case


def _evidence(root: Path, count: int, side: int = 200) -> list[bytes]:
    root.mkdir()
    data = [jpeg_bytes(draw_picture(seed, (side, side * 3 // 4))) + seed.to_bytes(4, "big") for seed in range(count)]
    for index, content in enumerate(data):
        (root / f"{index:04d}.jpg").write_bytes(content)
    return data


def _md5_list(path: Path, data: list[bytes]) -> Path:
    path.write_text("".join(hashlib.md5(content).hexdigest() + "\n" for content in data))
    return path


def _unmatched(store: SqliteCaseStore) -> list[int]:
    return [r[0] for r in store.db.execute("SELECT id FROM items WHERE id NOT IN (SELECT item_id FROM matches)")]


def _items_stored(case: Path) -> int:
    """Read-only, so as not to race the scan creating the case (opening a store migrates it)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{case / 'case.sqlite'}?mode=ro", uri=True)) as db:
            return int(db.execute("SELECT count(*) FROM items").fetchone()[0])
    except sqlite3.Error:
        return 0


def _scan_audits(store: SqliteCaseStore) -> list[dict]:  # type: ignore[type-arg]
    return [e.details for e in store.audit_entries() if e.action == "scan"]


def _killed_part_way(command: list[str], stored: Callable[[], int], at_least: int) -> None:
    """Run `command` (a scan) and kill it with SIGKILL, its workers too, once `stored()` says it stored
    `at_least` items (or it ends, or 300 s pass)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    count = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and count < at_least and process.poll() is None:
        time.sleep(0.1)
        count = stored()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


# --- resume: matching follows the case's state ----------------------------------------------------


def test_items_stored_before_an_interruption_are_matched_on_the_next_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _evidence(tmp_path / "ev", 6)
    store = open_case(tmp_path / "case", create=True)
    settings = Settings(workers=1)
    import_hash_list(store, _md5_list(tmp_path / "known.txt", data), settings)

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(SqliteCaseStore, "match_exact", killed)
    with pytest.raises(KeyboardInterrupt):
        run_scan(store, [str(tmp_path / "ev")], settings)
    assert len(store.item_ids()) == 6 and len(_unmatched(store)) == 6, "stored, never matched"
    monkeypatch.undo()

    again = run_scan(store, [str(tmp_path / "ev")], settings)
    assert (again.items_added, again.files_skipped) == (0, 6)
    assert again.matches["exact"] == 6
    assert _unmatched(store) == []
    assert run_scan(store, [str(tmp_path / "ev")], settings).matches["exact"] == 0, "nothing matched twice"


def test_a_rescan_with_nothing_left_to_hash_still_matches(tmp_path: Path) -> None:
    data = _evidence(tmp_path / "ev", 3)
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(tmp_path / "ev")], Settings(workers=2))
    import_hash_list(store, _md5_list(tmp_path / "known.txt", data), Settings(workers=2))
    store.db.execute("DELETE FROM matches")
    store.db.execute("DELETE FROM list_match_state")  # as a case from before match state was kept
    again = run_scan(store, [str(tmp_path / "ev")], Settings(workers=2))
    assert (again.items_added, again.files_skipped, again.matches["exact"]) == (0, 3, 3)


def _interrupted_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SqliteCaseStore, Settings]:
    """A case of 4 scanned items whose list import stopped before matching (as Ctrl-C would stop it)."""
    data = _evidence(tmp_path / "ev", 4)
    store = open_case(tmp_path / "case", create=True)
    settings = Settings(workers=1)
    run_scan(store, [str(tmp_path / "ev")], settings)

    def killed(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(SqliteCaseStore, "match_exact", killed)
    with pytest.raises(KeyboardInterrupt):
        import_hash_list(store, _md5_list(tmp_path / "known.txt", data), settings)
    monkeypatch.undo()
    return store, settings


def test_a_list_whose_matching_was_interrupted_is_matched_by_the_next_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, settings = _interrupted_import(tmp_path, monkeypatch)
    assert len(_unmatched(store)) == 4
    assert run_scan(store, [str(tmp_path / "ev")], settings).matches["exact"] == 4
    assert _unmatched(store) == []


def test_importing_the_same_list_again_matches_what_is_not_yet_matched_against_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = tmp_path / "case"
    store, _ = _interrupted_import(tmp_path, monkeypatch)
    store.close()

    command = ["hashlist", "import", str(tmp_path / "known.txt"), "--case", str(case)]
    again = CliRunner().invoke(main, command)
    assert again.exit_code == 0, again.output
    assert "already in the case (4 entries); the items not yet matched against it were matched now; new matches: " \
           "{'exact': 4, 'pdq': 0, 'video': 0}" in " ".join(again.output.split())
    store = open_case(case)
    assert _unmatched(store) == []
    entry = [e for e in store.audit_entries() if e.action == "hashlist-import"][-1]
    assert entry.details["already_in_case"] and entry.details["new_matches"]["exact"] == 4
    audited = len(list(store.audit_entries()))
    store.close()

    third = CliRunner().invoke(main, command)
    assert "every item was already matched against it" in " ".join(third.output.split())
    store = open_case(case)
    assert len(list(store.audit_entries())) == audited, "nothing done, nothing audited"
    store.close()


@pytest.mark.slow
def test_kill_minus_nine_then_resume_matches_every_item(tmp_path: Path) -> None:
    data = _evidence(tmp_path / "ev", 240, side=640)
    case = tmp_path / "case"
    known = _md5_list(tmp_path / "known.txt", data)
    command = [sys.executable, "-m", "vigie.cli", "scan", str(tmp_path / "ev"), "--case", str(case),
               "--hashlist", str(known), "--workers", "2"]
    _killed_part_way(command, lambda: _items_stored(case), 32)
    store = open_case(case)
    killed_with = len(store.item_ids())
    store.close()
    assert 0 < killed_with < 240, "the scan was killed part-way"

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "already in the case" in resumed.stderr, "the same list file is not imported again"
    store = open_case(case)
    assert len(store.item_ids()) == 240
    assert _unmatched(store) == [], "the killed run's items are matched too"
    store.close()


def _items_in(case: str) -> int:
    """How many items a case in a folder or in PostgreSQL holds, 0 while the scan is still making it: read
    without opening its store (which would race the scan making it, and forget its folder while it is not yet
    in the database)."""
    if not is_store_url(case):
        return _items_stored(Path(case))
    import psycopg
    from psycopg import sql

    conninfo, name = parse_store_url(case)
    try:
        with psycopg.connect(conninfo) as db:
            row = db.execute(sql.SQL("SELECT count(*) FROM {}.items").format(sql.Identifier(name))).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


def _scans(case: str) -> list[tuple[int, str, dict | None]]:  # type: ignore[type-arg]
    store = open_case(case)
    try:
        return [(int(r[0]), str(r[1]), json.loads(r[2]) if r[2] else None)
                for r in store.db.execute("SELECT id, status, counts FROM scans ORDER BY id")]
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_scan_killed_is_said_interrupted_by_the_scan_that_resumes_it(kind: str, tmp_path: Path,
                                                                        request: pytest.FixtureRequest) -> None:
    case = str(tmp_path / "case") if kind == "sqlite" else request.getfixturevalue("postgres_case")
    _evidence(tmp_path / "ev", 120, side=640)
    command = [sys.executable, "-m", "vigie.cli", "scan", str(tmp_path / "ev"), "--case", case, "--workers", "1"]
    _killed_part_way(command, lambda: _items_in(case), 8)
    assert 0 < _items_in(case) < 120, "the scan was killed part-way"
    assert [status for _, status, _ in _scans(case)] == ["running"], "killed: it said nothing itself"

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    (first, first_status, said), (second, second_status, _) = _scans(case)
    assert (first_status, second_status) == ("interrupted", "complete")
    assert said is not None and said["noticed_by_scan"] == second and said["noticed_interrupted_at"]
    store = open_case(case)
    try:
        noticed = [a for a in _scan_audits(store) if a["scan_id"] == first]
        assert noticed == [{"scan_id": first, "paths": [str(tmp_path / "ev")], "status": "interrupted",
                            "noticed_by_scan": second}]
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_scan_still_running_is_not_taken_for_an_interrupted_one(kind: str, tmp_path: Path,
                                                                  request: pytest.FixtureRequest) -> None:
    """Two scans of one case at once (two machines, two terminals): the second leaves the first running; a
    scan whose process ended without a word (its store closed unfinished) is found interrupted by the next."""
    case = str(tmp_path / "case") if kind == "sqlite" else request.getfixturevalue("postgres_case")
    first = open_case(case, create=True)
    earlier = first.begin_scan({"paths": ["a"]})
    second = open_case(case)
    later = second.begin_scan({"paths": ["b"]})
    assert second.notice_interrupted_scans(later) == []
    assert first.notice_interrupted_scans(earlier) == []
    first.close()  # as its process's end does
    third = open_case(case)
    last = third.begin_scan({"paths": ["c"]})
    assert third.notice_interrupted_scans(last) == [(earlier, json.dumps({"paths": ["a"]}))]
    assert third.notice_interrupted_scans(last) == [], "said once"
    second.finish_scan(later, "complete", {})
    third.finish_scan(last, "complete", {})
    assert [status for _, status, _ in _scans(case)] == ["interrupted", "complete", "complete"]
    second.close()
    third.close()


def test_match_command_rematches_the_whole_case_and_is_idempotent(tmp_path: Path) -> None:
    data = _evidence(tmp_path / "ev", 5)
    case = tmp_path / "case"
    store = open_case(case, create=True)
    settings = Settings(workers=1)
    run_scan(store, [str(tmp_path / "ev")], settings)
    import_hash_list(store, _md5_list(tmp_path / "known.txt", data[:3]), settings)
    store.db.execute("DELETE FROM matches")  # as if matching had never happened
    store.close()

    first = CliRunner().invoke(main, ["match", "--case", str(case)])
    assert first.exit_code == 0, first.output
    assert "new matches 3 exact" in first.output
    second = CliRunner().invoke(main, ["match", "--case", str(case)])
    assert second.exit_code == 0, second.output
    assert "new matches 0 exact" in second.output
    store = open_case(case)
    audits = [e.details for e in store.audit_entries() if e.action == "match"]
    assert [a["new_matches"]["exact"] for a in audits] == [3, 0]
    assert len(_unmatched(store)) == 2
    store.close()


# --- honest counts ---------------------------------------------------------------------------------


def test_exact_match_counts_are_distinct_item_entry_pairs(tmp_path: Path) -> None:
    data = _evidence(tmp_path / "ev", 12)
    duplicate = tmp_path / "ev" / "copy.jpg"
    duplicate.write_bytes(data[0])
    rows = ["md5,sha1,sha256"] + [
        f"{hashlib.md5(d).hexdigest()},{hashlib.sha1(d).hexdigest()},{hashlib.sha256(d).hexdigest()}" for d in data
    ]
    (tmp_path / "known.csv").write_text("\n".join(rows) + "\n")
    store = open_case(tmp_path / "case", create=True)
    settings = Settings(workers=1)
    import_hash_list(store, tmp_path / "known.csv", settings)
    result = run_scan(store, [str(tmp_path / "ev")], settings)
    assert result.matches["exact"] == 13, "12 files and a copy, each matching one entry by three digests"
    assert _scan_audits(store)[-1]["new_matches"]["exact"] == 13
    store.close()


# --- workers end with their scan -------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is `pid`, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_exit_when_the_scan_is_killed(tmp_path: Path) -> None:
    _evidence(tmp_path / "ev", 240, side=640)
    command = [sys.executable, "-m", "vigie.cli", "scan", str(tmp_path / "ev"), "--case", str(tmp_path / "case"),
               "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            workers = _children(process.pid)
        assert len(workers) == 2, "the scan started its pool"
        process.kill()  # SIGKILL the scan alone, as `kill -9 PID` does
        process.wait()
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "orphaned workers still running"
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- a full disk -------------------------------------------------------------------------------------


def _cap_case_db(monkeypatch: pytest.MonkeyPatch, spare_pages: int) -> None:
    """Every case opened from now on may grow by `spare_pages` pages only: SQLite then reports SQLITE_FULL."""
    migrate = SqliteCaseStore._migrate

    def capped(self: SqliteCaseStore) -> None:
        migrate(self)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages + spare_pages}")

    monkeypatch.setattr(SqliteCaseStore, "_migrate", capped)


def test_a_full_disk_stops_the_scan_with_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _evidence(tmp_path / "ev", 60, side=320)
    case = tmp_path / "case"
    known = _md5_list(tmp_path / "known.txt", data)
    open_case(case, create=True).close()  # only a scan makes a case from the command line
    assert CliRunner().invoke(main, ["hashlist", "import", str(known), "--case", str(case)]).exit_code == 0
    _cap_case_db(monkeypatch, 8)
    full = CliRunner().invoke(main, ["scan", str(tmp_path / "ev"), "--case", str(case), "--workers", "1"])
    assert full.exit_code == 1, full.output
    assert isinstance(full.exception, SystemExit), "no traceback"
    message = " ".join(full.output.split())
    assert "the disk is full; the scan stopped" in message and "kept" in message and "run the same" in message
    monkeypatch.undo()

    resumed = CliRunner().invoke(main, ["scan", str(tmp_path / "ev"), "--case", str(case), "--workers", "1"])
    assert resumed.exit_code == 0, resumed.output
    store = open_case(case)
    assert len(store.item_ids()) == 60 and _unmatched(store) == []
    store.close()


def test_a_full_disk_stops_an_import_and_a_report_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    _evidence(tmp_path / "ev", 3)
    case = tmp_path / "case"
    scanned = CliRunner().invoke(main, ["scan", str(tmp_path / "ev"), "--case", str(case), "--workers", "1"])
    assert scanned.exit_code == 0, scanned.output
    big = tmp_path / "big.txt"
    big.write_text("".join(hashlib.md5(str(n).encode()).hexdigest() + "\n" for n in range(20_000)))
    with monkeypatch.context() as patch:
        _cap_case_db(patch, 8)
        refused = CliRunner().invoke(main, ["hashlist", "import", str(big), "--case", str(case)])
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
    assert "the disk is full; the import stopped" in " ".join(refused.output.split())

    def no_space(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("vigie.exports.report.write_report", no_space)  # the report streams to its file
    report = CliRunner().invoke(main, ["report", "--case", str(case), "-o", str(tmp_path / "r.html")])
    assert report.exit_code == 1 and isinstance(report.exception, SystemExit), report.output
    assert "the disk is full; the report stopped" in " ".join(report.output.split())


# --- no file stalls or stops a scan ----------------------------------------------------------------


def _hostile_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mark: bytes, behaviour: object,
                 workers: int) -> tuple[dict[str, dict], int]:  # type: ignore[type-arg]
    """Scan 40 pictures, one of which (`bad.jpg`, tagged with `mark`) makes the image analysis misbehave."""
    import vigie.signals.analysis
    from vigie.exports.report import render

    data = _evidence(tmp_path / "ev", 39)
    (tmp_path / "ev" / "bad.jpg").write_bytes(data[0][:-4] + mark)
    original = vigie.signals.analysis.analyse_image

    def analyse(content: bytes, *args: object) -> object:
        if content.endswith(mark):
            behaviour()  # type: ignore[operator]
        return original(content, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(vigie.signals.analysis, "analyse_image", analyse)
    store = open_case(tmp_path / "case", create=True)
    result = run_scan(store, [str(tmp_path / "ev")], Settings(workers=workers, file_seconds=1.0))
    import json

    items = {Path(i["path"]).name: i for i in json.loads(render(store, "json"))["items"]}
    store.close()
    return items, result.items_added


def _only_bad_one_failed(items: dict[str, dict], stage: str) -> str:  # type: ignore[type-arg]
    assert len(items) == 40
    bad = items.pop("bad.jpg")
    assert all(item["pdq"] and not item["errors"] for item in items.values()), "every other file is analysed"
    assert bad["sha256"] and bad["md5"], "the culprit keeps its digests, so an exact match is never lost"
    assert [e["stage"] for e in bad["errors"]] == [stage], bad["errors"]
    return str(bad["errors"][0]["message"])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_past_its_budget_becomes_an_item_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    items, added = _hostile_run(tmp_path, monkeypatch, b"SLOW", lambda: time.sleep(60), workers)
    message = _only_bad_one_failed(items, "timeout")
    assert "1 s" in message and "file_seconds" in message
    assert added == 40


def test_a_worker_that_crashes_costs_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items, added = _hostile_run(tmp_path, monkeypatch, b"CRASH", lambda: os._exit(3), 2)
    assert "worker process analysing this file died" in _only_bad_one_failed(items, "crash")
    assert added == 40


def test_a_worker_stalled_in_c_code_is_ended_and_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stall() -> None:  # as a decoder looping in C: the budget's alarm never reaches Python code
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(600)

    items, added = _hostile_run(tmp_path, monkeypatch, b"STALL", stall, 2)
    message = _only_bad_one_failed(items, "timeout")
    assert "did not respond" in message and "file_seconds" in message
    assert added == 40


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_without_prctl_a_watching_thread_ends_the_orphaned_worker(tmp_path: Path) -> None:
    script = """
import os, time
import vigie.workers as worker
worker._set_parent_death_signal = lambda: False
worker._PARENT_POLL_SECONDS = 0.05
child = os.fork()
if child == 0:
    worker.exit_with_parent(os.getppid())
    time.sleep(60)
    os._exit(0)
print(child, flush=True)
time.sleep(0.5)
os._exit(0)
"""
    started = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    child = int(started.stdout)
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the orphaned worker kept running"


def test_a_scan_killed_before_its_worker_armed_counts_as_dead_while_a_zombie() -> None:
    """A worker that starts after the scan died sees the scan as a zombie until it is reaped: that is dead."""
    from vigie.workers import _running

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while _alive(child.pid) and time.monotonic() < deadline:  # exited, not yet reaped: a zombie
        time.sleep(0.05)
    assert Path(f"/proc/{child.pid}").exists() and not _running(child.pid)
    child.wait()
    assert not _running(child.pid) and _running(os.getpid())


def test_a_case_whose_first_scan_is_still_running_or_was_killed_is_copied_its_log_not_called_wiped(
        tmp_path: Path) -> None:
    """The scan's start is audited before its row is written: a case whose first scan was killed (or still runs)
    holds a log, and one whose log is empty while it holds a scan was wiped."""
    _evidence(tmp_path / "ev", 2)
    case = tmp_path / "case"
    copied: list[str] = []

    def engine(*_: object) -> None:  # mid-scan, the case as a kill -9 would leave it
        copy = CliRunner().invoke(main, ["case", "copy", str(case), str(tmp_path / "copy")])
        copied.append(f"{copy.exit_code} {copy.output}")

    store = open_case(case, create=True)
    try:
        run_scan(store, [str(tmp_path / "ev")], Settings(workers=1), engine=engine)
        assert copied and copied[0].startswith("0 ") and "wiped" not in copied[0], copied
        assert [e.action for e in store.audit_entries()][:2] == ["audit-rule", "scan-start"]
    finally:
        store.close()
