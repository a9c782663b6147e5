"""Same answers everywhere: the demo evidence scanned with `--engine ray` into a PostgreSQL case gives the items,
hashes, matches, stacks and report of the laptop path (the process pool on SQLite), and the console opens it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ray_engine import _normalised_report, _scan, needs_ray

from vigie.demo.seizure import build_demo

pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[cluster]')")


@pytest.mark.slow
@needs_ray
def test_ray_on_postgresql_gives_the_pool_on_sqlite_answers(postgres_case: str, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from test_console_api import PASSWORD, login, queue

    from vigie.cli import main
    from vigie.config import Settings
    from vigie.store.accounts import Accounts
    from vigie.store.sqlite import open_case
    from vigie.web.app import create_app, ensure_admin

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
    store = open_case(postgres_case)
    folder = store.case_dir
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    ensure_admin(folder)
    rita, _ = login(create_app(folder, Settings(workers=1)), "rita")
    assert {entry["id"] for entry in queue(rita)["entries"]}, "the scanned items are there to review"
