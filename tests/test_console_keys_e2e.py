"""Bulk accept and claims from the keyboard alone, in Chromium: `a` opens "Accept list categories" (Enter
accepts, Escape cancels, and the keys are the grid's again), `c` claims the next 50 stacks, `u` releases them;
the `?` overlay lists the three keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vigie.store.accounts import Accounts
from vigie.store.sqlite import open_case

sync_api = pytest.importorskip("playwright.sync_api")
from test_console_e2e import PASSWORD  # noqa: E402  (skips without Chromium)
from test_console_workflow import _categorised, _console  # noqa: E402

pytestmark = pytest.mark.slow  # a real Chromium


def _actions(case: Path) -> list[tuple[str, str]]:
    store = open_case(case)
    found = [(e.action, e.actor) for e in store.audit_entries() if e.action in ("categorise", "claim", "release")]
    store.close()
    return found


def _focused(page: Any, expected: str | None = None) -> str:
    """The focused element's id; with `expected`, once focus has moved there (it moves after the dialog closes)."""
    if expected is not None:
        page.wait_for_function("id => document.activeElement && document.activeElement.id === id", arg=expected)
    return str(page.evaluate("() => document.activeElement.id"))


@pytest.fixture
def keys_case(demo_case: Path) -> Path:
    store = open_case(demo_case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    return demo_case


def test_the_help_overlay_lists_the_accept_and_claim_keys(keys_case: Path) -> None:
    with _console(keys_case) as page:
        page.keyboard.press("?")
        page.wait_for_selector("#help-dialog", state="visible")
        rows = dict(page.eval_on_selector_all("#help-keys tr", "rows => rows.map((r) => [r.cells[0].textContent, "
                                                                "r.cells[1].textContent])"))
    assert rows["a"] == "accept the list's categories…" and rows["c"] == "claim the next 50"
    assert rows["u"] == "release my claims"


def test_a_opens_the_accept_dialog_escape_cancels_and_enter_accepts(keys_case: Path) -> None:
    with _console(keys_case) as page:
        page.keyboard.press("a")
        page.wait_for_selector("#accept-dialog", state="visible")
        assert _focused(page) == "accept-go"
        page.keyboard.press("Escape")
        page.wait_for_selector("#accept-dialog", state="hidden")
        assert _focused(page, "queue") == "queue" and _categorised(keys_case) == []  # cancelled: nothing decided

        page.keyboard.press("a")
        page.wait_for_selector("#accept-dialog", state="visible")
        page.keyboard.press("Enter")
        page.wait_for_selector("#accept-dialog", state="hidden")
        page.wait_for_selector("body[data-pending='0']", state="attached")
        assert _focused(page, "queue") == "queue"
        page.keyboard.press("j")  # the grid has the keys again
        page.wait_for_load_state("networkidle")
    decided = _categorised(keys_case)
    assert len(decided) == 7 and {category for _, category, _, _ in decided} == {"4", "0"}
    assert {actor for *_, actor in decided} == {"rita"}


def test_c_claims_the_next_stacks_and_u_releases_them(keys_case: Path) -> None:
    with _console(keys_case) as page:
        page.keyboard.press("c")
        page.wait_for_function("() => document.getElementById('claim-status').textContent.includes('claimed for you')")
        page.wait_for_selector(".card .badge.claimed")  # the grid reloads after the status line says so
        assert page.input_value("#f-claims") == "mine"
        page.keyboard.press("u")
        page.wait_for_function("() => document.getElementById('claim-status').textContent.endsWith('released')")
        page.wait_for_function("() => document.querySelectorAll('.card .badge.claimed').length === 0")
    assert _actions(keys_case) == [("claim", "rita"), ("release", "rita")]


def test_the_audit_log_opens_on_its_newest_entries(keys_case: Path) -> None:
    with _console(keys_case) as page:
        page.keyboard.press("a")
        page.wait_for_selector("#accept-dialog", state="visible")
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-pending='0']", state="attached")
        for _ in range(40):  # from the grid to the header's button, by keyboard
            if page.evaluate("() => document.activeElement.id") == "open-audit":
                break
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_selector("#audit-dialog", state="visible")
        sizes = page.eval_on_selector("#audit-dialog", "d => [d.scrollTop, d.scrollHeight, d.clientHeight]")
        newest = page.eval_on_selector("#audit-table tr:nth-child(2) td", "cell => cell.getBoundingClientRect().top")
    assert sizes[1] > sizes[2], sizes  # the log is longer than the dialog shows at once
    assert sizes[0] == 0 and 0 <= newest < 900


def test_a_case_with_no_hash_list_offers_no_list_to_accept(tmp_path: Path) -> None:
    from test_cli_workflow import _scanned

    _, case = _scanned(tmp_path, pictures=3)
    store = open_case(case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    with _console(case) as page:
        assert page.is_hidden("#accept-list") and page.is_hidden("#bulk-list")  # no empty chooser, no dead button
        page.keyboard.press("a")
        page.wait_for_selector("#error", state="visible")
        assert "this case holds no hash list" in page.inner_text("#error-text")
        assert not page.is_visible("#accept-dialog")
