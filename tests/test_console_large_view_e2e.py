"""The large view in Chromium: blurred as the thumbnails until revealed, zoom and pan by keys, wheel and drag,
reveal and hold-to-reveal through the one audited reveal, a video's stills on a scrub bar, Escape closes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_console_e2e import console, log_in, page  # noqa: F401  (fixtures; skips without Chromium)
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.slow  # a real Chromium per test


def _reveals(case: Path) -> int:
    store = open_case(case)
    count = sum(1 for e in store.audit_entries() if e.action == "reveal")
    store.close()
    return count


def _transform(browser_page: Any) -> str:
    return str(browser_page.eval_on_selector("#viewer-media", "node => node.style.transform"))


def test_large_view_zooms_pans_and_reveals_only_when_asked(page: Any, demo_case: Path) -> None:  # noqa: F811
    full: list[str] = []
    page.on("request", lambda request: full.append(request.url) if "/full" in request.url else None)
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected img.thumb")
    page.select_option("#f-media", "image")
    page.wait_for_load_state("networkidle")
    page.keyboard.press("o")
    page.wait_for_selector("#viewer[open] #viewer-media img.blurred")
    assert "/thumb" in page.get_attribute("#viewer-media img", "src")
    assert not page.locator("#viewer-scrub").is_visible()  # an image has no stills to scrub
    assert not page.locator("#keys").is_visible()  # the grid's key bar is not shown under the viewer
    box = page.locator("#viewer-media img").bounding_box()
    assert box["width"] > 800 or box["height"] > 600  # sized to the window, not to the card

    page.keyboard.press("+")
    page.keyboard.press("+")
    assert page.inner_text("#viewer-zoom") == "156%" and "scale(1.5625)" in _transform(page)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert "translate(-60px, -60px)" in _transform(page)
    stage = page.locator("#viewer-stage").bounding_box()
    page.mouse.move(stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2)
    page.mouse.down()
    page.mouse.move(stage["x"] + stage["width"] / 2 + 30, stage["y"] + stage["height"] / 2 + 10, steps=3)
    page.mouse.up()
    assert "translate(-30px, -50px)" in _transform(page)
    page.mouse.wheel(0, 200)
    page.wait_for_function("() => document.getElementById('viewer-zoom').textContent === '125%'")
    page.keyboard.press("f")  # fit: 0 is a category key, deciding in the large view too
    assert page.inner_text("#viewer-zoom") == "100%" and "translate(0px, 0px)" in _transform(page)
    assert not full and _reveals(demo_case) == 0

    hidden_look = page.eval_on_selector("#viewer-reveal", "b => getComputedStyle(b).backgroundColor")
    page.keyboard.press("r")
    page.wait_for_selector("#viewer-media img.clear")
    assert page.get_attribute("#viewer-reveal", "aria-pressed") == "true"
    assert page.eval_on_selector("#viewer-reveal", "b => getComputedStyle(b).backgroundColor") != hidden_look
    assert page.inner_text("#revealed") == "revealed: 1" and _reveals(demo_case) == 1 and len(full) == 1
    page.keyboard.press("r")
    page.wait_for_selector("#viewer-media img.blurred")
    page.keyboard.press("Escape")
    page.wait_for_selector("#viewer", state="hidden")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'queue'")
    assert page.locator("img.clear").count() == 0


def test_hold_to_reveal_shows_the_item_only_while_held(page: Any, demo_case: Path) -> None:  # noqa: F811
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected img.thumb")
    page.click("#open-settings")
    page.check("#s-hold")
    page.click("#s-save")
    page.wait_for_function("() => state.me.settings.hold_to_reveal === true")
    page.keyboard.press("Escape")
    page.select_option("#f-media", "image")
    page.wait_for_load_state("networkidle")
    assert "reveal while held" in page.inner_text("#keys")
    page.keyboard.down("r")  # on the grid too: the selected card is clear only while the key is held
    page.wait_for_selector(".card.selected img.clear")
    page.keyboard.up("r")
    page.wait_for_selector(".card.selected img.thumb")
    page.locator(".card.selected .frame").hover()
    page.mouse.down()
    page.wait_for_selector(".card.selected img.clear")
    page.mouse.up()
    page.wait_for_selector(".card.selected img.thumb")
    assert _reveals(demo_case) == 2

    page.keyboard.press("o")
    page.wait_for_selector("#viewer[open] #viewer-media img.blurred")
    assert page.inner_text("#viewer-reveal") == "Hold to reveal"

    page.keyboard.down("r")
    page.wait_for_selector("#viewer-media img.clear")
    page.keyboard.up("r")
    page.wait_for_selector("#viewer-media img.blurred")
    assert _reveals(demo_case) == 3

    page.locator("#viewer-reveal").hover()
    page.mouse.down()
    page.wait_for_selector("#viewer-media img.clear")
    page.mouse.up()
    page.wait_for_selector("#viewer-media img.blurred")
    assert _reveals(demo_case) == 4  # each hold is a reveal in the audit log

    page.keyboard.press("r")  # a press too short for the answer: nothing clear is left shown
    page.wait_for_function("() => document.getElementById('revealed').textContent === 'revealed: 1'")
    page.wait_for_timeout(300)
    assert page.locator("#viewer-media img.clear").count() == 0


def test_video_stills_scrub_and_the_revealed_video_follows(page: Any) -> None:  # noqa: F811
    full: list[str] = []
    page.on("request", lambda request: full.append(request.url) if "/full" in request.url else None)
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected img.thumb")
    page.select_option("#f-media", "video")
    page.wait_for_load_state("networkidle")
    page.click("#open-viewer")
    page.wait_for_selector("#viewer-scrub:not([hidden])")
    count = int(page.get_attribute("#viewer-still", "max")) + 1
    assert count >= 2 and not full
    page.keyboard.press("Home")  # not a viewer key: the scrub bar is moved by the arrows below
    start = int(page.input_value("#viewer-still"))
    page.keyboard.press("ArrowLeft" if start else "ArrowRight")
    moved = int(page.input_value("#viewer-still"))
    assert moved != start and f"/still/{moved}" in page.get_attribute("#viewer-media img", "src")
    assert f"still {moved + 1} of {count}" in page.inner_text("#viewer-time")

    page.keyboard.press("r")
    page.wait_for_selector("#viewer-media video.clear")
    assert page.get_attribute("#viewer-media video", "src").endswith("/full")
    page.fill("#viewer-still", str(count - 1))  # the revealed video is sought to the last still's time
    page.dispatch_event("#viewer-still", "input")
    page.wait_for_function("() => document.querySelector('#viewer-media video').currentTime > 0")
    assert f"still {count} of {count}" in page.inner_text("#viewer-time")
