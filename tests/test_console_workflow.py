"""A reviewer's shift in a real browser (Debian's Chromium driven by Playwright, the console served by waitress
on the loopback address): keys typed fast land one per stack and in order, text fields keep their keys,
refusals are shown, undo, and bulk decisions."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.custom_list import import_custom_list
from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.review.categories import set_case_scheme
from vigie.store.accounts import Accounts
from vigie.store.audit import verify_audit_log
from vigie.store.review import QueueFilter, ReviewTables
from vigie.store.sqlite import open_case
from vigie.web.app import create_app

sync_api = pytest.importorskip("playwright.sync_api")
from test_console_e2e import BROWSER_FLAGS, CHROMIUM, PASSWORD, log_in  # noqa: E402  (skips without Chromium)

pytestmark = pytest.mark.slow  # a real Chromium per test
PICTURES = 210  # more stacks than the console shows at once (200)


@pytest.fixture(scope="module")
def many_stacks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case of 210 unrelated small pictures: 210 queue entries of one item each."""
    root = tmp_path_factory.mktemp("many")
    evidence = root / "evidence"
    evidence.mkdir()
    for n in range(PICTURES):
        draw_picture(1000 + n, (96, 72)).save(evidence / f"p{n:03d}.png")
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(root / "case"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return root / "case"


@pytest.fixture
def case(many_stacks: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "case"
    shutil.copytree(many_stacks, copy)
    store = open_case(copy)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    return copy


@contextmanager
def _console(case: Path) -> Iterator[Any]:
    """A page logged in as rita, on the console served from the case."""
    from waitress.server import create_server

    server: Any = create_server(create_app(case, Settings(workers=1)), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.set_default_timeout(30_000)
            log_in(page, f"http://127.0.0.1:{server.effective_port}/login")
            page.wait_for_selector(".card.selected")
            page.wait_for_load_state("networkidle")
            yield page
            browser.close()
    finally:
        server.close()


@pytest.fixture
def page(case: Path) -> Iterator[Any]:
    with _console(case) as page:
        yield page


def _queue_order(case: Path) -> list[int]:
    store = open_case(case)
    _, entries = ReviewTables(store).queue(QueueFilter(status="all"), limit=PICTURES)
    store.close()
    return [e["id"] for e in entries]


def _categorised(case: Path) -> list[tuple[list[int], str | None, list[str], str]]:
    store = open_case(case)
    found = [(e.details["items"], e.details["category"], e.details["ai_tags"], e.actor)
             for e in store.audit_entries() if e.action == "categorise"]
    store.close()
    return found


def _wait_decided(page: Any, count: int) -> None:
    """Every action sent and answered, the queue shown again, and `count` entries decided."""
    page.wait_for_selector("body[data-pending='0']", state="attached")
    assert page.inner_text("#progress").startswith(f"{count} of ")
    page.wait_for_load_state("networkidle")


def test_keys_typed_fast_land_one_per_stack_in_order(page: Any, case: Path) -> None:
    order = _queue_order(case)
    keys = "".join(str(n % 5) for n in range(200))
    page.keyboard.type(keys, delay=50)  # 20 keys a second
    _wait_decided(page, 200)
    decided = _categorised(case)
    assert [items for items, *_ in decided] == [[i] for i in order[:200]]
    assert [category for _, category, *_ in decided] == list(keys)
    assert {actor for *_, actor in decided} == {"rita"}
    store = open_case(case)
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 200
    assert verify_audit_log(store).ok
    store.close()
    assert page.locator(".card").count() == PICTURES - 200


def test_a_second_tag_key_acts_on_the_same_card(page: Any, case: Path) -> None:
    first = _queue_order(case)[0]
    page.keyboard.type("gg", delay=50)  # on, then off again: the stack is undecided as before
    _wait_decided(page, 0)
    assert page.locator(".card.selected").get_attribute("data-id") == str(first)
    assert [(items, tags) for items, _, tags, _ in _categorised(case)] == [([first], ["ai-generated"])]
    store = open_case(case)
    assert [e.action for e in store.audit_entries(naming_item=first)][-2:] == ["categorise", "undecide"]
    store.close()
    page.keyboard.type("g2", delay=50)
    _wait_decided(page, 1)
    assert _categorised(case)[-1] == ([first], "2", ["ai-generated"], "rita")


def test_undo_and_undecided(page: Any, case: Path) -> None:
    first, second, third = _queue_order(case)[:3]
    page.keyboard.type("12", delay=50)
    _wait_decided(page, 2)
    page.keyboard.press("z")  # the second decision undone: its card is back, and selected
    _wait_decided(page, 1)
    assert page.locator(".card.selected").get_attribute("data-id") == str(second)
    page.keyboard.press("z")
    _wait_decided(page, 0)
    assert page.locator(".card.selected").get_attribute("data-id") == str(first)
    page.keyboard.press("z")  # nothing of this session left to undo: said, not silently ignored
    page.wait_for_selector("#error", state="visible")
    assert "nothing decided" in page.inner_text("#error-text")
    store = open_case(case)
    log = [(e.action, e.details["items"], e.details.get("restore")) for e in store.audit_entries()
           if e.action in ("categorise", "undo")]
    assert log == [("categorise", [first], None), ("categorise", [second], None), ("undo", [second], [None]),
                   ("undo", [first], [None])]
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    store.close()

    page.keyboard.type("3", delay=50)
    _wait_decided(page, 1)
    page.select_option("#f-status", "decided")
    page.wait_for_selector(f'.card.selected[data-id="{first}"]')
    page.wait_for_selector("#undecide")
    assert "rita" in page.inner_text("#decisions") and "undid entry" in page.inner_text("#decisions")
    page.click("#undecide")
    _wait_decided(page, 0)
    page.locator("#decisions", has_text="set back to undecided").wait_for()
    store = open_case(case)
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    assert verify_audit_log(store).ok
    store.close()
    assert third  # untouched throughout
    assert [items for items, *_ in _categorised(case)] == [[first], [second], [first]]


def test_search_box_keeps_its_keys_and_escape_returns_to_the_grid(page: Any, case: Path) -> None:
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "f-q"
    page.keyboard.type("p00")  # digits typed here are search text, not decisions
    page.wait_for_selector(".card:nth-child(11)", state="detached")
    assert page.locator(".card").count() == 10
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "queue"
    assert page.input_value("#f-q") == "p00"
    page.keyboard.press("j")
    page.keyboard.press("3")
    _wait_decided(page, 1)
    assert [category for _, category, *_ in _categorised(case)] == ["3"]
    assert page.locator(".card").count() == 9
    page.keyboard.press("?")
    assert page.locator("#help-dialog").is_visible()
    assert "tag AI-generated" in page.inner_text("#help-keys")
    page.keyboard.press("Escape")
    assert not page.locator("#help-dialog").is_visible()


def test_a_refused_decision_is_shown(page: Any, case: Path) -> None:
    store = open_case(case)
    set_case_scheme(store, "uk-caid", None, "admin")  # behind the page's back: "4" is no longer a category
    store.close()
    assert page.locator("#error").is_hidden()
    page.keyboard.press("4")
    page.wait_for_selector("#error", state="visible")
    assert "category" in page.inner_text("#error-text")
    assert _categorised(case) == []


def test_bulk_category_on_stacks_selected_with_shift_click_and_x(page: Any, case: Path) -> None:
    order = _queue_order(case)
    page.click(f'.card[data-id="{order[0]}"]')
    page.click(f'.card[data-id="{order[4]}"]', modifiers=["Shift"])
    page.keyboard.type("jjx", delay=50)  # the seventh card too
    assert page.inner_text("#bulk-count") == "6 selected"
    page.select_option("#bulk-category", "2")
    _wait_decided(page, 6)
    decided = _categorised(case)
    assert sorted(items[0] for items, *_ in decided) == sorted([*order[:5], order[6]])
    assert all(len(items) == 1 and category == "2" for items, category, *_ in decided)  # one entry per stack
    assert page.inner_text("#bulk-count") == "0 selected"
    page.keyboard.press("z")  # undo takes back the last stack of the bulk decision
    _wait_decided(page, 5)
    page.click("#select-all")
    assert page.inner_text("#bulk-count") == "200 selected"  # the cards shown
    page.click("#select-none")
    assert page.inner_text("#bulk-count") == "0 selected"


def test_arrowing_through_a_deciding_select_decides_nothing_until_enter(page: Any, case: Path) -> None:
    order = _queue_order(case)
    page.keyboard.type("xjx", delay=50)
    page.focus("#bulk-category")
    page.keyboard.press("ArrowDown")  # 0: passed over on the way to 1
    page.keyboard.press("ArrowDown")
    page.wait_for_load_state("networkidle")
    assert _categorised(case) == [] and page.inner_text("#bulk-count") == "2 selected"
    page.keyboard.press("Enter")
    _wait_decided(page, 2)
    assert sorted(items[0] for items, *_ in _categorised(case)) == sorted(order[:2])
    assert {category for _, category, *_ in _categorised(case)} == {"1"}
    # a copy's own category, from the item panel: arrowed over, then left with Tab, decides nothing
    copy = page.locator("#detail select[aria-label='category of this copy only']").first
    copy.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.wait_for_load_state("networkidle")
    assert len(_categorised(case)) == 2 and copy.input_value() == ""

def test_accept_list_says_which_scheme_its_categories_need(demo_build: Path, demo_case: Path) -> None:
    import_custom_list(demo_build, demo_case)
    store = open_case(demo_case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    with _console(demo_case) as page:  # the case under Project VIC US, the list's categories custom
        page.select_option("#bulk-list", "custom-list")
        page.click("#accept-list")
        page.wait_for_selector("#accept-dialog", state="visible")
        assert page.is_disabled("#accept-go")
        hint = page.inner_text("#accept-scheme")
        assert "categories of the Custom scheme" in hint and "under Project VIC US" in hint and "Settings" in hint

def test_accept_list_categories_for_the_filtered_hits(demo_case: Path) -> None:
    store = open_case(demo_case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()  # the case's scheme as a new case has it: the demo list's categories are of it
    with _console(demo_case) as page:
        page.select_option("#f-list", "demo-list")
        page.wait_for_selector(".card:nth-child(8)", state="detached")  # the demo list's 7 stacks, filtered
        shown = [int(i) for i in page.locator(".card").evaluate_all("cards => cards.map((c) => c.dataset.id)")]
        page.click("#accept-list")
        page.wait_for_selector("#accept-dialog", state="visible")
        summary = page.inner_text("#accept-summary")
        assert f"of the {len(shown)} shown stacks take their category from list demo-list" in summary
        assert _categorised(demo_case) == []  # nothing decided before the reviewer confirms
        page.click("#accept-go")
        page.wait_for_selector("body[data-pending='0']", state="attached")
        page.wait_for_load_state("networkidle")
    store = open_case(demo_case)
    review = ReviewTables(store)
    entries = [e for e in store.audit_entries() if e.action == "categorise"]
    assert entries and all(e.details["scope"] == "list:demo-list" and e.actor == "rita" for e in entries)
    stacks = [{m for i in e.details["items"] for m in review.members(i)} for e in entries]
    assert all(set(e.details["items"]) == s for e, s in zip(entries, stacks, strict=True))  # whole stacks
    assert len({min(s) for s in stacks}) == len(entries)  # one entry per stack
    decided = review.decisions()
    assert set(decided) <= {m for i in shown for m in review.members(i)} and any(i in decided for i in shown)
    assert verify_audit_log(store).ok
    store.close()
