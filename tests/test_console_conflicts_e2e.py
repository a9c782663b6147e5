"""Two reviewers in two Chromium sessions on one console: each sees the other's decisions appear on the cards
within seconds, and a key pressed on a stale card is refused (409) with the colleague's decision shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_console_e2e import BROWSER_FLAGS, CHROMIUM, PASSWORD, console, log_in, sync_api  # noqa: F401
from vigie.store.accounts import Accounts
from vigie.store.review import ReviewTables
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.slow  # a real Chromium


@pytest.fixture
def two_pages(console: str, demo_case: Path) -> Iterator[tuple[Any, Any]]:  # noqa: F811
    store = open_case(demo_case)
    Accounts(store).create_user("rob", PASSWORD, "reviewer", actor="test")
    store.close()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        pages = []
        for username in ("rita", "rob"):  # two contexts: two cookie jars, two sessions
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.set_default_timeout(20_000)
            log_in(page, console + "/login", username)
            page.wait_for_selector(".card img.thumb")
            pages.append(page)
        yield pages[0], pages[1]
        browser.close()


def _decision(case: Path, item: int) -> tuple[str, str] | None:
    store = open_case(case)
    try:
        found = ReviewTables(store).decisions([item]).get(item)
    finally:
        store.close()
    return None if found is None else (found["category"], found["by"])


def _settled(page: Any) -> None:
    page.wait_for_function("() => document.body.dataset.pending === '0'")


def test_a_colleagues_decision_appears_and_a_stale_key_is_refused(two_pages: tuple[Any, Any],
                                                                   demo_case: Path) -> None:
    rita, rob = two_pages
    first = int(rita.locator(".card.selected").get_attribute("data-id"))
    assert int(rob.locator(".card.selected").get_attribute("data-id")) == first  # the same queue, the same card

    # Rita decides the first card: it shows her decision on Rob's screen within seconds, without a reload
    rita.keyboard.press("1")
    _settled(rita)
    badge = rob.wait_for_selector(f'.card[data-id="{first}"] .badge.changed')
    assert "decided by rita a moment ago" in badge.inner_text()
    assert rob.locator(f'.card[data-id="{first}"] .badge.decided').count() == 1

    # Rob's screen stops hearing of changes (a slow network), and Rita decides the next card
    rob.route("**/api/changes**", lambda route: route.abort())
    rob.wait_for_timeout(2500)  # any poll already on its way has come back
    second = int(rita.locator(".card.selected").get_attribute("data-id"))
    rita.keyboard.press("2")
    _settled(rita)
    assert _decision(demo_case, second) == ("2", "rita")

    # Rob, on his stale card, decides it too: refused, his screen says whose decision stands, and shows it
    rob.keyboard.press("j")
    assert int(rob.locator(".card.selected").get_attribute("data-id")) == second
    rob.keyboard.press("3")
    rob.wait_for_selector("#error", state="visible")
    banner = rob.inner_text("#error-text")
    assert "decided by rita as" in banner and "your decision was not recorded" in banner, banner
    _settled(rob)
    refreshed = rob.locator(f'.card[data-id="{second}"]')
    assert "decided by rita a moment ago" in refreshed.inner_text()
    assert _decision(demo_case, second) == ("2", "rita")  # nothing overwritten

    # now that Rob has seen it, his decision on the refreshed card is his to make
    rob.locator(f'.card[data-id="{second}"]').click()
    rob.keyboard.press("3")
    _settled(rob)
    assert _decision(demo_case, second) == ("3", "rob")


def test_a_claimed_batch_is_not_in_the_colleagues_queue(two_pages: tuple[Any, Any]) -> None:
    rita, rob = two_pages
    shown = rob.locator(".card").count()
    rita.click("#claim")  # the demo holds fewer than 50 stacks: she takes them all
    rita.wait_for_function("() => document.getElementById('claim-status').textContent.includes('claimed')")
    assert rita.inner_text("#claim-status").startswith(f"{shown} stacks claimed for you until")
    assert rita.input_value("#f-claims") == "mine"
    rita.wait_for_function(f"() => document.querySelectorAll('.card').length === {shown}")
    rob.reload()
    rob.wait_for_selector("#queue-empty")
    rita.click("#release")
    rita.wait_for_function("() => document.getElementById('claim-status').textContent.includes('released')")
    rob.reload()
    rob.wait_for_function(f"() => document.querySelectorAll('.card').length === {shown}")
