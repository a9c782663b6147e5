"""A team's server in a real browser (Debian's Chromium driven by Playwright, waitress on the loopback address):
the admin logs in with the first-start password, is made to choose their own, sees the case list, opens a case
whose header and title name it, and reviews there as in a console of one case."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_console_e2e import BROWSER_FLAGS, CHROMIUM, log_in

from vigie.store.sqlite import open_case
from vigie.web.server import create_server_app, ensure_server_admin

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow  # a real Chromium


@pytest.fixture
def served(demo_build: Path, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    from waitress.server import create_server

    folder = tmp_path / "cases"
    for name in ("harbour", "orchard"):
        shutil.copytree(demo_build / "case", folder / name)
    password = ensure_server_admin(folder)
    assert password is not None
    server: Any = create_server(create_server_app(folder), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", folder, password
    server.close()


def test_first_login_changes_the_password_then_opens_a_case_by_name(served: tuple[str, Path, str]) -> None:
    url, folder, first = served
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(20_000)
        page.goto(url + "/")
        assert page.url.endswith("/login")
        log_in(page, page.url, "admin", first)
        # the one-time password opens nothing but the change-password screen
        page.wait_for_selector("#must-change")
        assert page.url.endswith("/password")
        page.goto(url + "/cases/harbour/")
        assert page.url.endswith("/password")
        page.fill("#current-password", first)
        page.fill("#new-password", "the admin's own password")
        page.fill("#repeat-password", "the admin's own password")
        page.click("#change-password")
        # the case list, then a case's console under its own prefix
        page.wait_for_selector("#cases")
        assert page.locator("#cases a").all_inner_texts() == ["harbour", "orchard"]
        page.click("text=orchard")
        page.wait_for_selector(".card img.thumb")
        assert page.url == url + "/cases/orchard/"
        assert page.inner_text("#case-name") == "orchard" and page.title().startswith("orchard")
        whole = "() => { const n = document.getElementById('case-name'); return n.scrollWidth <= n.clientWidth; }"
        assert page.evaluate(whole)  # shown whole, not cut to "o…" by the header's buttons
        page.keyboard.press("r")  # reveal: the clear image comes from this case's prefix
        page.wait_for_selector(".card.selected img.clear")
        assert page.get_attribute(".card.selected img.clear", "src").startswith("/cases/orchard/media/")
        before = page.inner_text("#progress")
        page.keyboard.press("1")
        page.wait_for_function("previous => document.getElementById('progress').textContent !== previous",
                               arg=before)
        page.click("#all-cases")
        page.wait_for_selector("#cases")
        browser.close()
    store = open_case(folder / "orchard")
    actions = [(e.actor, e.action) for e in store.audit_page(None, 2)]
    store.close()
    assert actions == [("admin", "categorise"), ("admin", "reveal")]
