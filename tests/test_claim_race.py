"""Two reviewers claiming "next N" at the same moment never get the same stacks, on SQLite and on PostgreSQL
(tests/pg.py's private server): the second reads the free queue entries only once the first's claim is in."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vigie.cli import main
from vigie.store.review import QueueFilter, ReviewTables
from vigie.store.sqlite import open_case


def _race(case: str, monkeypatch: pytest.MonkeyPatch, count: int) -> dict[str, list[int]]:
    """Rita and Rob claim `count` stacks each, from two threads with a store each. Each thread, once it has read
    the free entries, waits (a little) for the other to have read them too: without a lock both read the same."""
    both_read = threading.Barrier(2)
    read = ReviewTables.queue

    def queue_then_meet(self: ReviewTables, where: QueueFilter, *args: Any, **kwargs: Any) -> Any:
        found = read(self, where, *args, **kwargs)
        if where.claims == "free":
            # broken: the other one waits for this claim, as it should
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait(timeout=2)
        return found

    monkeypatch.setattr(ReviewTables, "queue", queue_then_meet)
    claimed: dict[str, list[int]] = {}
    failures: list[BaseException] = []

    def claim(reviewer: str) -> None:
        store = open_case(case)
        try:
            claimed[reviewer] = ReviewTables(store).claim(reviewer, count)[0]
        except BaseException as exc:  # reported by the test
            failures.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("rita", "rob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return claimed


def _check(case: str, claimed: dict[str, list[int]], count: int) -> None:
    store = open_case(case)
    try:
        order = [e["id"] for e in ReviewTables(store).queue(QueueFilter(), limit=2 * count)[1]]
        holders = dict(store.db.execute("SELECT item_id, claimed_by FROM review_claims").fetchall())
        audited = [(e.actor, e.details["items"]) for e in store.audit_entries() if e.action == "claim"]
    finally:
        store.close()
    assert len(claimed["rita"]) == len(claimed["rob"]) == count
    assert not set(claimed["rita"]) & set(claimed["rob"])  # never the same stack twice
    first, second = sorted(claimed.values(), key=lambda items: order.index(items[0]))
    assert first + second == order  # the next `count`, then the `count` after
    assert holders == {i: who for who, items in claimed.items() for i in items}
    assert sorted(audited) == sorted(claimed.items())


def test_two_claims_at_once_on_sqlite_take_different_stacks(demo_case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_case(demo_case)
    count = ReviewTables(store).progress()["entries"] // 2
    store.close()
    claimed = _race(str(demo_case), monkeypatch, count)
    _check(str(demo_case), claimed, count)


def test_two_claims_at_once_on_postgresql_take_different_stacks(postgres_case: str, demo_case: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(main, ["case", "copy", str(demo_case), postgres_case])
    assert result.exit_code == 0, result.output
    store = open_case(postgres_case)
    count = ReviewTables(store).progress()["entries"] // 2
    store.close()
    claimed = _race(postgres_case, monkeypatch, count)
    _check(postgres_case, claimed, count)
