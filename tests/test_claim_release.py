"""A release gives back a reviewer's claims and names only the stacks still undecided; the store says when the
next claim lapses. On SQLite and on PostgreSQL (tests/pg.py's private server)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from vigie.cli import main
from vigie.store.review import Decision, ReviewTables
from vigie.store.sqlite import open_case


def _claim_decide_release(case: str) -> None:
    store = open_case(case)
    try:
        review = ReviewTables(store)
        assert review.next_lapse() is None
        claimed, until = review.claim("rita", 3)
        assert review.next_lapse() == until
        review.decide("rita", review.members(claimed[0]), Decision("projectvic-us", "0"), "stack")
        assert review.release("rita") == sorted(claimed[1:])
        assert [(e.actor, e.details["items"]) for e in store.audit_entries() if e.action == "release"] == [
            ("rita", sorted(claimed[1:]))]
        assert review.next_lapse() is None  # nothing held any more, the decided stack's claim included
        assert review.release("rita") == []
    finally:
        store.close()


def test_release_names_the_undecided_stacks_on_sqlite(demo_case: Path) -> None:
    _claim_decide_release(str(demo_case))


def test_release_names_the_undecided_stacks_on_postgresql(postgres_case: str, demo_case: Path) -> None:
    result = CliRunner().invoke(main, ["case", "copy", str(demo_case), postgres_case])
    assert result.exit_code == 0, result.output
    _claim_decide_release(postgres_case)
