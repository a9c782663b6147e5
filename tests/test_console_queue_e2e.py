"""Paging in Chromium: the queue shows 200 cards, "More" and `j` on the last card bring the next page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_console_e2e import console, log_in, page  # noqa: F401  (fixtures; skips without Chromium)
from tests.test_console_queue import _add_single_items

pytestmark = pytest.mark.slow  # a real Chromium per test


@pytest.fixture
def long_queue(demo_case: Path) -> Path:
    _add_single_items(demo_case, 250)
    return demo_case


def test_j_on_the_last_card_loads_the_next_page(long_queue: Path, page: Any) -> None:  # noqa: F811
    log_in(page, page.console_url + "/login")
    page.wait_for_selector("#queue-more")
    assert page.locator(".card").count() == 200
    page.locator(".card").nth(199).locator(".path").click()
    page.keyboard.press("j")
    page.locator(".card").nth(200).wait_for()
    ids = page.eval_on_selector_all(".card", "nodes => nodes.map((n) => n.dataset.id)")
    assert len(ids) == len(set(ids))
    page.locator(f".card.selected[data-id='{ids[200]}']").wait_for()  # moved on into the new page
    assert page.locator("#queue-more").count() == 0  # every entry is shown now


def test_the_key_legend_never_hides_the_selected_card_or_the_item_panel(page: Any) -> None:  # noqa: F811
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected img.thumb")
    page.select_option("#f-status", "all")
    page.wait_for_load_state("networkidle")
    page.locator("#queue").focus()
    count = page.locator(".card").count()
    for _ in range(count):  # to the last card, on the last row: the page scrolls to show it
        page.keyboard.press("j")
    page.locator(".card").nth(count - 1).and_(page.locator(".selected")).wait_for()
    page.wait_for_load_state("networkidle")
    tops = "() => [document.querySelector('.card.selected'), document.getElementById('detail')].map((n) => " \
           "n.getBoundingClientRect().bottom - document.getElementById('keys').getBoundingClientRect().top)"
    assert all(overlap <= 0 for overlap in page.evaluate(tops)), page.evaluate(tops)


def test_a_stacks_paths_stay_readable_beside_their_category_choice(page: Any) -> None:  # noqa: F811
    log_in(page, page.console_url + "/login")
    page.wait_for_selector("#stack td.mono")  # the first card of the demo is a stack of two copies
    widths = page.eval_on_selector_all("#stack td.mono", "cells => cells.map((c) => c.getBoundingClientRect().width)")
    assert min(widths) >= 150, widths  # not a column of two letters a line
