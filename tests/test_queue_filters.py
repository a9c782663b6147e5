"""The queue's filters on a stack's members (list hits, categories, persons, deleted copies) select exactly the
entries whose group holds such an item, computed here from the case's rows, on SQLite and on PostgreSQL. The
filters are uncorrelated subqueries (run once, not once per queue entry: benchmarks/bench_console.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vigie.cli import main
from vigie.store.review import Decision, QueueFilter, ReviewTables
from vigie.store.sqlite import SqliteCaseStore, open_case


def _expected(store: SqliteCaseStore, review: ReviewTables) -> Iterator[tuple[QueueFilter, set[int]]]:
    """Each filter, and the entries it should select: those with an item of their group that qualifies."""
    entries = [e["id"] for e in review.queue(QueueFilter(status="all"), limit=500)[1]]
    groups = review.members_of(entries)
    rows: Callable[[str], list[Any]] = lambda sql: [tuple(r) for r in store.db.execute(sql)]  # noqa: E731
    matched = rows("""SELECT m.item_id, l.name, e.category FROM matches m JOIN list_entries e ON e.id = m.entry_id
                      JOIN hash_lists l ON l.id = e.list_id""")
    faces = rows("SELECT item_id, person_id FROM faces WHERE person_id IS NOT NULL")
    deleted = {r[0] for r in rows("SELECT id FROM items WHERE deleted = 1")}
    decided = dict(rows("SELECT item_id, category FROM reviews"))

    def holding(items: set[int]) -> set[int]:
        return {e for e in entries if items & set(groups[e])}

    lists = {name for _, name, _ in matched}
    for name in lists:
        yield QueueFilter(status="all", list_name=name), holding({i for i, n, _ in matched if n == name})
    yield QueueFilter(status="all", list_name="any"), holding({i for i, _, _ in matched})
    yield QueueFilter(status="all", list_name="none"), set(entries) - holding({i for i, _, _ in matched})
    for category in {c for _, _, c in matched if c is not None} | set(decided.values()):
        listed = holding({i for i, _, c in matched if c == category})
        yield (QueueFilter(status="all", category=category),
               listed | {e for e in entries if decided.get(e) == category})
    for person in {p for _, p in faces}:
        yield QueueFilter(status="all", person=person), holding({i for i, p in faces if p == person})
    yield QueueFilter(status="all", deleted=True), holding(deleted)
    yield QueueFilter(status="all", deleted=False), set(entries) - holding(deleted)
    assert lists and faces and deleted, "the demo case should hold list hits, faces and deleted copies"


def _check(case: str) -> None:
    store = open_case(case)
    try:
        review = ReviewTables(store)
        stacked = next(e["id"] for e in review.queue(QueueFilter(), limit=500)[1] if e["members"] > 1)
        review.decide("rita", review.members(stacked), Decision("projectvic-us", "3"), "stack")
        checked = 0
        for where, expected in _expected(store, review):
            total, found = review.queue(where, limit=500)
            assert {e["id"] for e in found} == expected, where
            assert total == len(expected), where
            checked += 1
        assert checked >= 8
    finally:
        store.close()


def _faces_and_deleted_copies(case: Path) -> None:
    """The demo has neither: a person seen in a stack's last copy and in a single item; such copies deleted."""
    store = open_case(case)
    try:
        review = ReviewTables(store)
        entries = review.queue(QueueFilter(status="all"), limit=500)[1]
        copy = review.members(next(e["id"] for e in entries if e["members"] > 1))[-1]
        single = next(e["id"] for e in entries if e["members"] == 1)
        with store.transaction():
            store.db.execute("INSERT INTO persons(id, name, created_at) VALUES (1, 'P', '2026-01-01')")
            store.db.executemany("INSERT INTO faces(item_id, x, y, width, height, landmarks, score, detector, "
                                 "person_id) VALUES (?, 0, 0, 8, 8, '[]', 1.0, 'test', 1)", [(copy,), (single,)])
            store.db.executemany("UPDATE items SET deleted = 1 WHERE id = ?", [(copy,), (single,)])
    finally:
        store.close()


def test_member_filters_select_the_entries_whose_group_qualifies(demo_case: Path) -> None:
    _faces_and_deleted_copies(demo_case)
    _check(str(demo_case))


def test_member_filters_on_postgresql(postgres_case: str, demo_case: Path) -> None:
    _faces_and_deleted_copies(demo_case)
    result = CliRunner().invoke(main, ["case", "copy", str(demo_case), postgres_case])
    assert result.exit_code == 0, result.output
    _check(postgres_case)


@pytest.mark.parametrize("where", [QueueFilter(list_name="none"), QueueFilter(deleted=False)])
def test_a_negated_filter_keeps_unstacked_entries(demo_case: Path, where: QueueFilter) -> None:
    """A single item's entry has no stack (NULL): "no list match" and "not deleted" still select it."""
    store = open_case(demo_case)
    try:
        found = ReviewTables(store).queue(where, limit=500)[1]
        assert any(e["stack"] is None for e in found)
    finally:
        store.close()


def test_member_filters_are_not_run_once_per_entry(demo_case: Path) -> None:
    """Each filter's subquery runs once for the whole queue (SQLite's plan has no correlated subquery), so a
    filtered queue of 100k entries answers in about the time of an unfiltered one."""
    store = open_case(demo_case)
    try:
        review = ReviewTables(store)
        review.refresh()
        for where in (QueueFilter(list_name="any"), QueueFilter(list_name="none"), QueueFilter(list_name="x"),
                      QueueFilter(category="1"), QueueFilter(person=1), QueueFilter(deleted=True)):
            clauses, params = review._filter_sql(where)
            plan = [r[3] for r in store.db.execute(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM review_queue q LEFT JOIN reviews r "
                f"ON r.item_id = q.representative_id WHERE {' AND '.join(clauses)}", params)]
            assert not [step for step in plan if "CORRELATED" in step], (where, plan)
    finally:
        store.close()
