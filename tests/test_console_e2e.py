"""The console in a real browser: Debian's Chromium driven by Playwright, against the console served by
waitress on the loopback address. A reviewer logs in, sees only blurred images, reveals one, clears the
demo queue with the keyboard, exports VICS and a CyberTipline draft, and reads the audit log."""

from __future__ import annotations

import json
import shutil
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vigie.config import Settings
from vigie.store.accounts import Accounts
from vigie.store.sqlite import open_case
from vigie.web.app import create_app

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/install-debian-packages.sh)", allow_module_level=True)

pytestmark = pytest.mark.slow  # a real Chromium per test
PASSWORD = "reviewer password 1"
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def log_in(page: Any, url: str, username: str = "rita", password: str = PASSWORD) -> None:
    """Fill and send the login form at `url` (the page then shows the queue)."""
    page.goto(url)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")


@pytest.fixture
def console(demo_case: Path) -> Iterator[str]:
    from waitress.server import create_server

    store = open_case(demo_case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    server: Any = create_server(create_app(demo_case, Settings(workers=1)), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture
def page(console: str, tmp_path: Path) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.console_url = console
        yield page
        browser.close()


def test_reviewer_clears_the_demo_queue_with_the_keyboard(page: Any, demo_case: Path, tmp_path: Path) -> None:
    media_requests: list[str] = []
    page.on("request", lambda request: media_requests.append(request.url) if "/media/" in request.url else None)
    page.goto(page.console_url + "/")
    assert page.url.endswith("/login")
    log_in(page, page.url)
    page.wait_for_selector(".card img.thumb")
    page.wait_for_load_state("networkidle")
    entries = page.locator(".card").count()
    assert entries >= 10
    assert media_requests and all(url.split("?")[0].endswith("/thumb") for url in media_requests)

    # reveal the selected item, then hide it again
    page.keyboard.press("r")
    page.wait_for_selector(".card.selected img.clear")
    assert [u for u in media_requests if "/full" in u] and page.inner_text("#revealed") == "revealed: 1"
    page.keyboard.press("r")
    page.wait_for_selector(".card.selected img.thumb")

    # categorise every stack with the keyboard: "1" is Project VIC category 1 for the whole stack
    first_stack = page.locator(".card.selected").get_attribute("data-id")
    for _ in range(entries):
        before = page.inner_text("#progress")
        page.keyboard.press("1")
        page.wait_for_function("previous => document.getElementById('progress').textContent !== previous", arg=before)
        if page.locator("#queue-empty").count():
            break
    page.wait_for_selector("#queue-empty")
    assert page.inner_text("#progress").startswith(f"{entries} of {entries} queue entries decided")
    assert len([u for u in media_requests if "/full" in u]) == 1  # nothing clear was sent unasked

    # export VICS and a CyberTipline draft from the console
    downloads = {}
    for fmt in ("vics", "cybertip"):
        page.click("#open-export")
        page.select_option("#export-format", fmt)
        with page.expect_download() as download:
            page.click("#export-go")
        target = tmp_path / f"export-{fmt}"
        download.value.save_as(target)
        downloads[fmt] = target
        page.keyboard.press("Escape")
    vics = json.loads(downloads["vics"].read_text())
    assert {m["Category"] for m in vics["value"][0]["Media"]} == {1}
    assert len(ET.parse(downloads["cybertip"]).getroot().findall("fileDetails")) == len(vics["value"][0]["Media"])

    # the audit log shows the decisions and exports, under the reviewer's name, with the chain intact
    page.click("#open-audit")
    page.wait_for_selector("#audit-table tr:nth-child(2)")
    assert page.inner_text("#audit-check").startswith("Hash chain intact")
    table = page.inner_text("#audit-table")
    assert "categorisation" in table and "export" in table and "rita" in table  # named; the code in the title
    assert page.locator("#audit-table td[title=categorise]").count() >= 1

    store = open_case(demo_case)
    decided = store.db.execute("SELECT item_id FROM reviews").fetchall()
    stack = store.db.execute("SELECT stack_id FROM items WHERE id = ?", (int(first_stack),)).fetchone()[0]
    members = store.db.execute("SELECT count(*) FROM items WHERE stack_id = ?", (stack,)).fetchone()[0] if stack else 1
    store.close()
    assert len(decided) >= entries + members - 1


def test_the_export_dialog_says_what_the_download_left_out(page: Any, tmp_path: Path) -> None:
    """A stack decided not pertinent is not in a hash list to share: the dialog says so after the download (as
    the command line does), and says when nothing was left out."""
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected")
    for key in ("0", "1"):  # the first stack not pertinent, the next of Project VIC category 1
        before = page.inner_text("#progress")
        page.keyboard.press(key)
        page.wait_for_function("previous => document.getElementById('progress').textContent !== previous", arg=before)
    page.click("#open-export")
    for fmt, said in (("hashlist", "decided not pertinent (a list to share holds what is to be found)."),
                      ("csv", "Nothing left out.")):
        page.select_option("#export-format", fmt)
        with page.expect_download() as download:
            page.click("#export-go")
        download.value.save_as(tmp_path / f"export-{fmt}")
        page.wait_for_function("said => document.getElementById('export-said').textContent.includes(said)", arg=said)
        shown = page.inner_text("#export-said")
        assert shown.startswith(f"Downloaded {download.value.suggested_filename}."), shown
        assert ("Left out" in shown) == (fmt == "hashlist"), shown
    assert (tmp_path / "export-hashlist").read_text().startswith("md5,")
