"""Matching and stacking run one at a time in a case: two scans (or a scan and a list import) of one case, on one
machine (SQLite) or on several (PostgreSQL), never bring the matches and stacks up to date at once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import jpeg_bytes

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.matching.roles import MATCHING_LOCK
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import open_case


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_second_holder_waits_for_the_first(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    case = request.getfixturevalue("postgres_case") if kind == "postgresql" else tmp_path / "case"
    first, second = open_case(case, create=True), open_case(case)
    order: list[str] = []

    def after_the_first() -> None:
        with second.exclusive(MATCHING_LOCK):
            order.append("second")

    try:
        with first.exclusive(MATCHING_LOCK):
            waiting = threading.Thread(target=after_the_first)
            waiting.start()
            waiting.join(timeout=1.0)
            assert waiting.is_alive(), "the second waits while the first holds the lock"
            order.append("first")
        waiting.join(timeout=60)
        assert order == ["first", "second"]
        with first.exclusive(MATCHING_LOCK):  # released by each: taken again at once
            pass
    finally:
        first.close()
        second.close()


def test_a_scan_matches_and_stacks_under_the_lock(tmp_path: Path) -> None:
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "a.jpg").write_bytes(jpeg_bytes(draw_picture(1, (64, 48))))
    holder = open_case(tmp_path / "case", create=True)
    done: list[int] = []

    def scan_in_its_thread() -> None:  # a SQLite connection serves the thread that opened it
        scanning = open_case(tmp_path / "case")
        try:
            done.append(run_scan(scanning, [str(tmp_path / "ev")], Settings(workers=1)).items_added)
        finally:
            scanning.close()

    scan = threading.Thread(target=scan_in_its_thread)
    try:
        with holder.exclusive(MATCHING_LOCK):
            scan.start()
            scan.join(timeout=5.0)
            assert scan.is_alive() and not done, "the scan waits to match and stack while another holds the lock"
        scan.join(timeout=120)
        assert done == [1]
    finally:
        holder.close()
