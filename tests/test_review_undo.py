"""Undo and "back to undecided": each is a new audit entry (the log is never edited), `vigie audit verify`
replays them, and the API refuses an undo that would overwrite a later decision or a colleague's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.store.review import Decision, ReviewTables, UndoError
from vigie.store.sqlite import open_case


def _case(tmp_path: Path) -> Path:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    for seed in range(3):
        draw_picture(seed, (96, 72)).save(evidence / f"{seed}.png")
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(tmp_path / "case"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return tmp_path / "case"


def _verify(case: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify", "--case", str(case)])
    return result.exit_code, " ".join(result.output.split())


def test_decide_undo_undecide_then_verify_is_intact_and_a_hand_edit_still_fails(tmp_path: Path) -> None:
    case = _case(tmp_path)
    store = open_case(case)
    review = ReviewTables(store)
    a, b, c = store.item_ids()
    first = review.decide("rita", [a], Decision("projectvic-us", "1", ["ai-generated"]), "stack")
    second = review.decide("rita", [a, b], Decision("projectvic-us", "2"), "item")
    review.decide("rita", [c], Decision("projectvic-us", "3"), "stack")
    undone = review.undo("rita", second.seq)  # a back to its first decision, b to undecided
    assert undone.details["restore"] == [
        {"scheme": "projectvic-us", "category": "1", "ai_tags": ["ai-generated"], "industry_class": None,
         "by": "rita", "at": first.at}, None]
    review.undecide("rob", [c], "stack")
    rows = {r[0]: (r[1], r[2], r[3]) for r in store.db.execute("SELECT item_id, category, decided_by, audit_seq "
                                                                 "FROM reviews")}
    assert rows == {a: ("1", "rita", undone.seq)}
    entries = [e.action for e in store.audit_entries()]
    assert entries[-5:] == ["categorise", "categorise", "categorise", "undo", "undecide"]
    assert first.seq < second.seq  # the log keeps every step
    store.close()
    code, out = _verify(case)
    assert code == 0 and "Audit log intact" in out, out

    db = sqlite3.connect(case / "case.sqlite", isolation_level=None)
    db.execute("INSERT INTO reviews(item_id, category_scheme, category, decided_by, decided_at, audit_seq) "
               "VALUES (?, 'projectvic-us', '3', 'rob', 'x', ?)", (c, second.seq))
    db.close()
    code, out = _verify(case)
    assert code == 3 and f"item {c}: the reviews table holds a decision ('3'" in out, out


def test_undo_refuses_a_later_decision_and_a_colleagues(tmp_path: Path) -> None:
    store = open_case(_case(tmp_path))
    review = ReviewTables(store)
    a, b, _ = store.item_ids()
    mine = review.decide("rita", [a], Decision("projectvic-us", "1"), "stack")
    review.decide("rob", [a], Decision("projectvic-us", "4"), "stack")
    with pytest.raises(UndoError, match=f"item {a} changed since .*categorise by rob"):
        review.undo("rita", mine.seq)
    theirs = review.decide("rob", [b], Decision("projectvic-us", "2"), "stack")
    with pytest.raises(UndoError, match="rob's decision, not yours"):
        review.undo("rita", theirs.seq)
    with pytest.raises(UndoError, match="is not a decision"):
        review.undo("rita", 1)
    assert {r[0]: r[1] for r in store.db.execute("SELECT item_id, category FROM reviews")} == {a: "4", b: "2"}
    store.close()



@pytest.mark.parametrize("restore", ["3", "[null]", '[5]'])
def test_an_undo_entry_of_the_wrong_shape_is_reported_not_a_traceback(tmp_path: Path, restore: str) -> None:
    case = _case(tmp_path)
    store = open_case(case)
    review = ReviewTables(store)
    a, b, _ = store.item_ids()
    review.undo("rita", review.decide("rita", [a, b], Decision("projectvic-us", "1"), "item").seq)
    store.close()
    db = sqlite3.connect(case / "case.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    db.execute("UPDATE audit_log SET details = json_set(details, '$.restore', json(?)) WHERE action = 'undo'",
               (restore,))
    db.close()
    code, out = _verify(case)
    assert code == 3 and "do not have the shape a 'undo' entry has" in out, out


def test_an_undo_never_overwrites_a_decision_that_lands_while_it_reads_the_history(tmp_path: Path) -> None:
    """The histories are read under the case's write lock: a colleague's decision either lands before (the undo
    is refused) or waits for the undo and is refused as stale; never both written, the colleague's lost."""
    import threading

    from vigie.store.review import StaleDecisionError

    case = _case(tmp_path)
    store = open_case(case)
    review = ReviewTables(store)
    a = store.item_ids()[0]
    mine = review.decide("rita", [a], Decision("projectvic-us", "1"), "stack")
    outcome: list[str] = []

    def decide_meanwhile() -> None:
        other = open_case(case)  # the colleague's own connection, as another server thread has
        try:
            ReviewTables(other).decide("rob", [a], Decision("projectvic-us", "2"), "stack", seen=mine.seq)
            outcome.append("decided")
        except StaleDecisionError:
            outcome.append("stale")
        finally:
            other.close()

    reading = store.audit_entries
    started: list[threading.Thread] = []

    def audit_entries_with_a_colleague(**kwargs: object):  # type: ignore[no-untyped-def]
        history = list(reading(**kwargs))  # type: ignore[arg-type]
        if not started:  # the colleague decides once the undo has read the item's history
            started.append(threading.Thread(target=decide_meanwhile))
            started[0].start()
            started[0].join(0.5)
        return history

    store.audit_entries = audit_entries_with_a_colleague  # type: ignore[method-assign]
    try:
        review.undo("rita", mine.seq)
        outcome.append("undone")
    except UndoError:
        outcome.append("undo refused")
    started[0].join()
    assert sorted(outcome) in (["stale", "undone"], ["decided", "undo refused"]), outcome
    expected = None if "undone" in outcome else "2"
    assert store.db.execute("SELECT max(category) FROM reviews").fetchone()[0] == expected
    store.close()
    assert _verify(case)[0] == 0


def test_a_decision_an_undo_restores_keeps_who_made_it_and_when(tmp_path: Path) -> None:
    case = _case(tmp_path)
    store = open_case(case)
    review = ReviewTables(store)
    a = store.item_ids()[0]
    olga = review.decide("olga", [a], Decision("projectvic-us", "1"), "stack")
    review.undo("cady", review.decide("cady", [a], Decision("projectvic-us", "3"), "stack").seq)
    assert review.decisions([a])[a]["by"] == "olga" and review.decisions([a])[a]["at"] == olga.at
    store.close()
    code, out = _verify(case)
    assert code == 0 and "Audit log intact" in out, out
