"""Issue 13's "Done means", played in Chromium: two new analysts on one server of cases (`vigie serve --cases`),
in French, with the keyboard alone. Anna logs in with her one-time password, chooses her own, opens the demo
case, clears the list hits with a bulk accept, opens a large view, makes a mistake and undoes it, and decides the
rest. Bruno, logged in beside her, sees her decisions appear and cannot overwrite one silently. The case's log
and the server's hold every action under the right name."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_console_e2e import BROWSER_FLAGS, CHROMIUM

from vigie.store.accounts import Accounts
from vigie.store.review import ReviewTables
from vigie.store.server import ServerStore
from vigie.store.sqlite import open_case
from vigie.web.server import create_server_app, ensure_server_admin

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow  # a real Chromium, two sessions
EXAMINER = "Insp. Durand"  # who made the accounts
FIRST = {"anna": "anna's one-time password", "bruno": "bruno's one-time password"}


@pytest.fixture
def team(demo_build: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    from waitress.server import create_server

    folder = tmp_path / "cases"
    shutil.copytree(demo_build / "case", folder / "demo")
    ensure_server_admin(folder, actor=EXAMINER)
    server = ServerStore(folder)
    for name, password in FIRST.items():  # as `vigie user add` and `vigie user grant` make them
        Accounts(server).create_user(name, password, "reviewer", actor=EXAMINER, must_change=True)
        server.grant_served(name, "demo", None, actor=EXAMINER)
    server.close()
    served: Any = create_server(create_server_app(folder), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=served.run, daemon=True).start()
    yield f"http://127.0.0.1:{served.effective_port}", folder
    served.close()


def _tab_to(page: Any, selector: str) -> None:
    for _ in range(40):
        if page.evaluate(f"() => document.activeElement?.matches({selector!r}) ?? false"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reached with Tab")


def _enter(browser: Any, url: str, name: str) -> Any:
    """Log in, choose a password and open the demo case, all by keyboard, in a French browser."""
    page = browser.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"},
                               viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(url + "/")
    _tab_to(page, "#username")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(FIRST[name])
    page.keyboard.press("Enter")
    page.wait_for_selector("#must-change")
    _tab_to(page, "#current-password")
    page.keyboard.type(FIRST[name])
    for _ in range(2):
        page.keyboard.press("Tab")
        page.keyboard.type(f"{name} choisit son mot de passe")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cases")
    _tab_to(page, "#cases a")
    page.keyboard.press("Enter")
    page.wait_for_selector(".card.selected")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#case-name") == "demo" and page.locator("html").get_attribute("lang") == "fr"
    return page


def _settled(page: Any) -> None:
    page.wait_for_function("() => document.body.dataset.pending === '0'")


def _selected(page: Any) -> int:
    return int(page.locator(".card.selected").get_attribute("data-id"))


def test_a_new_analyst_clears_the_demo_in_french_by_keyboard_beside_a_colleague(team: tuple[str, Path]) -> None:
    url, folder = team
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        anna, bruno = _enter(browser, url, "anna"), _enter(browser, url, "bruno")
        total = anna.locator(".card").count()

        # the list hits, accepted in bulk: `a`, then Enter in the dialog
        anna.keyboard.press("a")
        anna.wait_for_selector("#accept-dialog", state="visible")
        assert "dans la liste demo-list : 4 × Non pertinent, 3 × Images de comparaison" in anna.inner_text(
            "#accept-summary")
        anna.keyboard.press("Enter")
        _settled(anna)
        anna.wait_for_function(f"() => document.querySelectorAll('.card').length === {total - 7}")

        # Bruno sees them appear, and his count of decided entries follows, without a reload
        bruno.wait_for_function("() => document.querySelectorAll('.badge.changed').length === 7")
        assert "décidé par anna à l'instant" in bruno.locator(".badge.changed").first.inner_text()
        bruno.wait_for_function("() => document.getElementById('progress').textContent.startsWith('7 ')")

        # a large view of the card shown, closed with Escape
        anna.keyboard.press("o")
        anna.wait_for_selector("#viewer", state="visible")
        anna.keyboard.press("Escape")
        anna.wait_for_selector("#viewer", state="hidden")

        # a mistake, undone: the stack is undecided again and selected
        mistaken = _selected(anna)
        anna.keyboard.press("1")
        _settled(anna)
        anna.keyboard.press("z")
        _settled(anna)
        assert _selected(anna) == mistaken

        # Bruno's screen stops hearing of changes; Anna decides the card they both show; his key is refused
        bruno.route("**/api/changes**", lambda route: route.abort())
        bruno.wait_for_timeout(2500)  # a poll already on its way has come back
        while _selected(bruno) != mistaken:
            bruno.keyboard.press("j")
        anna.keyboard.press("0")
        _settled(anna)
        bruno.keyboard.press("2")
        bruno.wait_for_selector("#error", state="visible")
        said = bruno.inner_text("#error-text")
        assert "a été décidé par anna comme Non pertinent" in said and "n'a pas été enregistrée" in said, said

        # Anna decides the rest, to "queue clear"
        while not anna.locator("#queue-empty").count():
            anna.keyboard.press("0")
            _settled(anna)
            anna.wait_for_load_state("networkidle")
        assert anna.inner_text("#queue-empty").startswith("File vide")
        browser.close()

    store = open_case(folder / "demo")
    entries = [(e.actor, e.action, e.details.get("scope")) for e in store.audit_entries()
               if e.action in ("categorise", "undo", "undecide")]
    decided = ReviewTables(store).decisions()
    progress = ReviewTables(store).progress()
    store.close()
    assert {actor for actor, _, _ in entries} == {"anna"}  # Bruno's refused key wrote nothing
    assert [scope for _, action, scope in entries if action == "categorise"][:7] == ["list:demo-list"] * 7
    assert [action for _, action, _ in entries].count("undo") == 1
    assert progress["decided"] == progress["entries"] and {d["by"] for d in decided.values()} == {"anna"}
    server = ServerStore(folder)
    logged = [(e.actor, e.action) for e in server.audit_entries()]
    server.close()
    assert {(EXAMINER, "user-create"), (EXAMINER, "case-grant"), ("anna", "password-change"),
            ("bruno", "password-change"), ("anna", "login"), ("bruno", "login")} <= set(logged)
