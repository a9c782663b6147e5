"""The grid's density in Chromium: compact, comfortable or large cards, saved with the user's view settings,
and up/down arrows that move by one row of the layout shown (left/right by one card)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_console_e2e import console, log_in, page  # noqa: F401  (fixtures; skips without Chromium)

pytestmark = pytest.mark.slow  # a real Chromium per test


def _row_length(browser_page: Any) -> int:
    """Cards in the grid's first row, measured from where the browser put them."""
    tops = [box["y"] for box in (c.bounding_box() for c in browser_page.locator(".card").all())]
    return sum(1 for top in tops if abs(top - tops[0]) < 1)


def _selected(browser_page: Any) -> int:
    script = "() => [...document.querySelectorAll('.card')].findIndex(c => c.classList.contains('selected'))"
    return int(browser_page.evaluate(script))


def test_density_is_saved_and_arrows_move_by_rows(page: Any) -> None:  # noqa: F811
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected img.thumb")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#density") == "comfortable"
    comfortable = _row_length(page)
    cards = page.locator(".card").count()
    assert 1 < comfortable < cards

    page.keyboard.press("ArrowDown")
    assert _selected(page) == comfortable
    page.keyboard.press("ArrowRight")
    assert _selected(page) == comfortable + 1
    page.keyboard.press("ArrowUp")
    assert _selected(page) == 1
    page.keyboard.press("ArrowUp")  # no row above: it stays
    assert _selected(page) == 1
    page.keyboard.press("ArrowLeft")
    assert _selected(page) == 0

    page.select_option("#density", "compact")
    page.wait_for_selector("#queue.density-compact")
    compact = _row_length(page)
    assert compact > comfortable
    page.keyboard.press("ArrowDown")
    assert _selected(page) == compact
    page.select_option("#density", "large")
    page.wait_for_selector("#queue.density-large")
    assert _row_length(page) < comfortable
    page.wait_for_load_state("networkidle")

    page.reload()
    page.wait_for_selector(".card.selected img.thumb")
    assert page.input_value("#density") == "large" and page.locator("#queue.density-large").count() == 1
