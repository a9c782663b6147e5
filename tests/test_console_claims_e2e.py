"""Claims live in Chromium: a colleague's claim marks the cards on the other reviewer's screen within seconds,
with the claimer's name, without a reload; the release clears the marks, and so does the claim's lapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.test_console_conflicts_e2e import two_pages  # noqa: F401  (the fixture: rita's and rob's pages)
from tests.test_console_e2e import console  # noqa: F401  (the fixture two_pages serves)
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.slow  # a real Chromium


def test_a_colleagues_claim_marks_the_cards_with_her_name(two_pages: tuple[Any, Any]) -> None:  # noqa: F811
    rita, rob = two_pages
    shown = rob.locator(".card").count()
    rita.click("#claim")
    rita.wait_for_function("() => document.getElementById('claim-status').textContent.includes('claimed')")
    rita.wait_for_function(f"() => document.querySelectorAll('.card .badge.claimed').length === {shown}")
    assert rita.locator(".card .badge.claimed").first.inner_text().startswith("claimed by you until ")

    # on Rob's screen, without a reload: every card he shows is marked with Rita's name, in place
    rob.wait_for_function(f"() => document.querySelectorAll('.card .badge.claimed').length === {shown}")
    assert rob.locator(".card").count() == shown
    assert all(text.startswith("claimed by rita until ") and text.endswith(" UTC")
               for text in rob.locator(".card .badge.claimed").all_inner_texts())

    rita.click("#release")
    rob.wait_for_function("() => document.querySelectorAll('.card .badge.claimed').length === 0")
    assert rob.locator(".card").count() == shown


def test_a_queue_emptied_by_a_colleagues_claim_does_not_read_as_clear(two_pages: tuple[Any, Any]) -> None:  # noqa: F811
    rita, rob = two_pages
    left = rob.locator(".card").count()
    rita.click("#claim")  # every undecided stack of the demo: 50 is more than it holds
    rita.wait_for_function("() => document.getElementById('claim-status').textContent.includes('claimed')")
    rob.reload()
    rob.wait_for_selector("#queue-empty")
    said = rob.inner_text("#queue-empty")
    assert said == (f"Nothing undecided under this filter, but {left} queue entries are still undecided: claimed by "
                    "colleagues, or outside the filter.")
    rob.click("#claim")
    rob.wait_for_function("() => document.getElementById('claim-status').textContent.startsWith('Nothing to claim')")


def test_stacks_a_colleague_releases_come_back_without_a_reload(two_pages: tuple[Any, Any]) -> None:  # noqa: F811
    rita, rob = two_pages
    shown = rob.locator(".card").count()
    rita.click("#claim")
    rita.wait_for_function("() => document.getElementById('claim-status').textContent.includes('claimed')")
    rob.reload()
    rob.wait_for_selector("#queue-empty")
    rita.click("#release")
    rob.wait_for_function(f"() => document.querySelectorAll('.card').length === {shown}")  # the poll brings them back


def _lapse_claims_in(case: Path, seconds: float) -> None:
    """The claims held now lapse in `seconds` (a claim lasts at least a minute; the test does not wait that)."""
    store = open_case(case)
    with store.db:
        store.db.execute("UPDATE review_claims SET until = ?",
                         ((datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds"),))
    store.close()


def test_a_lapsed_claim_frees_its_stacks_without_a_reload(two_pages: tuple[Any, Any], demo_case: Path) -> None:  # noqa: F811
    rita, rob = two_pages
    shown = rob.locator(".card").count()
    rita.click("#claim")
    rita.wait_for_function("() => document.getElementById('claim-status').textContent.includes('claimed')")
    rob.wait_for_function(f"() => document.querySelectorAll('.card .badge.claimed').length === {shown}")
    rob.reload()  # Rob's queue now leaves out the stacks Rita holds
    rob.wait_for_selector("#queue-empty")
    _lapse_claims_in(demo_case, 3)
    # on both screens, within seconds of the lapse and with no reload: Rob's stacks are back, unmarked, and
    # Rita's marks are gone
    rob.wait_for_function(f"() => document.querySelectorAll('.card').length === {shown}")
    assert rob.locator(".card .badge.claimed").count() == 0
    rita.wait_for_function("() => document.querySelectorAll('.card .badge.claimed').length === 0")
    # Rita's own line no longer says the stacks are claimed for her, and her queue is no longer "mine" alone
    rita.wait_for_function("() => document.getElementById('claim-status').textContent.startsWith('No stack is')")
    assert rita.input_value("#f-claims") == ""
