"""Category and tag keys in the large view (Chromium): they decide the item the view shows, queued and ordered
as on the grid (one per stack, in queue order, at 20 keys a second), and the view moves on to the next card,
blurred; `?` lists the view's keys over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_console_workflow import _categorised, _wait_decided, case, many_stacks, page  # noqa: F401
from vigie.store.audit import verify_audit_log
from vigie.store.review import QueueFilter, ReviewTables
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.slow  # a real Chromium


def _queue(case: Path) -> list[tuple[int, str]]:  # noqa: F811  (case: the fixture's name)
    store = open_case(case)
    _, entries = ReviewTables(store).queue(QueueFilter(status="all"), limit=100)
    store.close()
    return [(e["id"], e["path"]) for e in entries]


def _shows(page: Any, path: str) -> None:  # noqa: F811  (page: the fixture's name)
    """The large view is open on `path`, blurred."""
    page.wait_for_function("path => document.getElementById('viewer-title').textContent === path", arg=path)
    page.wait_for_selector("#viewer[open] #viewer-media img.blurred")
    assert page.locator("img.clear").count() == 0


def test_category_keys_in_the_large_view_decide_the_item_shown_then_the_next(page: Any,  # noqa: F811
                                                                              case: Path) -> None:  # noqa: F811
    order = _queue(case)
    page.keyboard.press("o")
    _shows(page, order[0][1])
    page.keyboard.press("r")
    page.wait_for_selector("#viewer-media img.clear")
    page.keyboard.type("g", delay=50)  # a tag stays on the item shown, still revealed
    page.keyboard.type("1", delay=50)  # a category decides it, and the view moves on, blurred again
    _shows(page, order[1][1])
    keys = "".join(str(n % 5) for n in range(30))
    page.keyboard.type(keys, delay=50)  # 20 keys a second
    _wait_decided(page, 31)
    _shows(page, order[31][1])
    assert page.locator(".card.selected").get_attribute("data-id") == str(order[31][0])

    decided = _categorised(case)
    first = [order[0][0]]
    assert decided[:2] == [(first, None, ["ai-generated"], "rita"), (first, "1", ["ai-generated"], "rita")]
    assert [items for items, *_ in decided[2:]] == [[i] for i, _ in order[1:31]]  # one per stack, in order
    assert [category for _, category, *_ in decided[2:]] == list(keys)
    store = open_case(case)
    assert sum(1 for e in store.audit_entries() if e.action == "reveal") == 1
    assert verify_audit_log(store).ok
    store.close()

    page.keyboard.press("?")  # the keys, listed over the view; Escape closes the list, then the view
    page.wait_for_selector("#help-dialog[open]")
    listed = page.inner_text("#help-viewer-keys")
    assert "0 1 2 3 4" in listed and "decide the item shown" in listed and "g d h v n" in listed
    page.keyboard.press("Escape")
    page.wait_for_selector("#help-dialog", state="hidden")
    assert page.locator("#viewer[open]").count() == 1
    page.keyboard.press("Escape")
    page.wait_for_selector("#viewer", state="hidden")
    assert page.locator(".card.selected").get_attribute("data-id") == str(order[31][0])


def test_z_in_the_large_view_undoes_and_shows_the_item_again(page: Any, case: Path) -> None:  # noqa: F811
    order = _queue(case)
    page.keyboard.press("o")
    _shows(page, order[0][1])
    page.keyboard.type("2", delay=50)  # a mistake: the view moves on
    _shows(page, order[1][1])
    page.keyboard.press("z")  # in the view as on the grid: the decision undone, its item shown again
    _shows(page, order[0][1])
    page.wait_for_selector("body[data-pending='0']", state="attached")
    store = open_case(case)
    assert [e.action for e in store.audit_entries() if e.action in ("categorise", "undo")] == ["categorise", "undo"]
    store.close()
    assert "undo my last decision" in page.inner_text("#help-viewer-keys")


def test_j_and_k_in_the_large_view_step_through_the_items(page: Any, case: Path) -> None:  # noqa: F811
    order = _queue(case)
    page.keyboard.press("o")
    _shows(page, order[0][1])
    page.keyboard.press("j")
    _shows(page, order[1][1])
    page.keyboard.press("k")
    _shows(page, order[0][1])
    assert _categorised(case) == []  # looked at, not decided
