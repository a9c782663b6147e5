"""Same answers everywhere: the demo evidence scanned with `--engine ray` into a PostgreSQL case gives the items,
hashes, matches, stacks and report of the laptop path (the process pool on SQLite), and the console opens it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from test_ray_engine import _normalised_report, _pictures, _running_tasks, _scan, local_ray, needs_ray  # noqa: F401

from vigie.demo.seizure import build_demo

pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[cluster]')")


@pytest.mark.slow
@needs_ray
def test_ray_on_postgresql_gives_the_pool_on_sqlite_answers(postgres_case: str, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from test_console_api import queue
    from test_postgres_store import console_as_reviewer

    from vigie.cli import main

    layout = build_demo(tmp_path / "demo")
    _scan(layout.evidence, tmp_path / "lite", "--hashlist", str(layout.hashlist))
    _scan(layout.evidence, postgres_case, "--hashlist", str(layout.hashlist), "--engine", "ray")
    laptop, cluster = _normalised_report(tmp_path / "lite"), _normalised_report(postgres_case)
    assert laptop["summary"]["exact_matched_items"] > 0 and laptop["summary"]["stacks"] > 0
    assert all(item["sha256"] for item in cluster["items"] if not item["errors"])
    assert cluster == laptop
    verified = CliRunner().invoke(main, ["audit", "verify", "--case", postgres_case])
    assert verified.exit_code == 0, verified.output

    # the console (as `vigie serve --case postgresql://...` runs it) opens the case and lists its review queue
    rita, _ = console_as_reviewer(postgres_case)
    assert {entry["id"] for entry in queue(rita)["entries"]}, "the scanned items are there to review"


@pytest.mark.slow
@needs_ray
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_ray_workers_store_their_units_in_postgresql_and_an_interrupted_scan_resumes(
    postgres_case: str, tmp_path: Path, local_ray: Any, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The scan's own process stores no unit (its add_items fails here, not in the Ray workers); a scan stopped
    after its first unit keeps what the workers stored, and the next run does the rest."""
    from vigie.config import Settings
    from vigie.scan.pipeline import _Storing, run_scan
    from vigie.scan.ray_engine import RayEngine
    from vigie.store.postgres import PostgresCaseStore
    from vigie.store.sqlite import open_case

    _pictures(tmp_path / "ev", 200, side=64)  # 7 units: the 7th is never sent before the stop below

    def not_here(self: PostgresCaseStore, *args: Any) -> list[int]:
        raise AssertionError("the scan's process stored a unit the workers should have")

    monkeypatch.setattr(PostgresCaseStore, "add_items", not_here)
    stored = _Storing.stored

    def stopped(self: _Storing, *args: int) -> None:
        stored(self, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(_Storing, "stored", stopped)
    store = open_case(postgres_case, create=True)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_scan(store, [str(tmp_path / "ev")], Settings(workers=2), engine=RayEngine(local_ray))
        while _running_tasks():  # units in flight were cancelled: their workers are gone, none writes after
            time.sleep(0.1)
        monkeypatch.setattr(_Storing, "stored", stored)
        first = len(store.item_ids())
        assert 32 <= first < 200
        again = run_scan(store, [str(tmp_path / "ev")], Settings(workers=2), engine=RayEngine(local_ray))
        assert (again.files_skipped, again.items_added) == (first, 200 - first)
        assert len(store.item_ids()) == 200
    finally:
        store.close()


@pytest.mark.slow
def test_a_worker_that_cannot_reach_postgresql_says_so_in_one_line(tmp_path: Path) -> None:
    """No server needed: the worker's pool waits its timeout for a database that is not there, then one clear
    error, which the Ray engine raises as the scan's (as for evidence missing on a worker)."""
    from vigie.errors import VigieError
    from vigie.store.locator import parse_store_url
    from vigie.store.postgres import _pool, write_items

    url = f"postgresql://vigie:secret@/vigie?host={tmp_path}&case=gone"
    try:
        with pytest.raises(VigieError, match=r"cannot write to the case's PostgreSQL") as raised:
            write_items(url, tmp_path / "case", 1, 1, [])
        assert "secret" not in str(raised.value)
    finally:
        _pool(parse_store_url(url)[0]).close()
