"""Accessibility basics in Chromium: every control has an accessible name (read from Chromium's own
accessibility tree), the main controls are found by role and name, focus is visible, the large view is
a modal dialog that keeps the focus and closes with Escape, and text keeps WCAG AA contrast in the light
and in the dark (prefers-color-scheme)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_console_e2e import BROWSER_FLAGS, CHROMIUM, PASSWORD, console, log_in, page, sync_api  # noqa: F401
from vigie.store.accounts import Accounts
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.slow  # a real Chromium per test

CONTROLS = {"button", "checkbox", "combobox", "link", "listbox", "option", "radio", "searchbox", "slider",
            "spinbutton", "textbox", "dialog", "menuitem", "tab", "switch"}


def unnamed_controls(browser_page: Any) -> list[str]:
    """The controls the browser exposes (shown ones: hidden and inert parts are left out) that have no name."""
    cdp = browser_page.context.new_cdp_session(browser_page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    missing = []
    for node in nodes:
        role = node.get("role", {}).get("value")
        if node.get("ignored") or role not in CONTROLS:
            continue
        if not str(node.get("name", {}).get("value", "")).strip():
            described = cdp.send("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
            missing.append(f"{role} <{described['localName']} {' '.join(described.get('attributes', []))}>")
    cdp.detach()
    return missing


def test_controls_are_named_focus_shows_and_the_large_view_is_a_dialog(page: Any) -> None:  # noqa: F811
    page.goto(page.console_url + "/login")
    assert unnamed_controls(page) == []
    assert page.get_by_role("textbox", name="User name").count() == 1
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected img.thumb")
    page.wait_for_load_state("networkidle")
    assert unnamed_controls(page) == []

    for role, name in [("button", "Audit log"), ("button", "Export"), ("button", "Settings"),
                       ("button", "Keyboard keys"), ("button", "Log out"), ("combobox", "Decided or not"),
                       ("combobox", "Class"), ("combobox", "Images or videos"), ("combobox", "Grid"),
                       ("searchbox", "Search paths and metadata"), ("spinbutton", "Minimum detector score"),
                       ("listbox", "Review queue"), ("button", "Large view (o)"), ("textbox", "Note")]:
        assert page.get_by_role(role, name=name, exact=True).count() == 1, (role, name)
    queue = page.get_by_role("listbox", name="Review queue")
    assert queue.get_attribute("aria-activedescendant") == page.locator(".card.selected").get_attribute("id")
    assert queue.get_by_role("option").count() == page.locator(".card").count()

    # focus is visible: the grid's selected card when the keys are on the grid, a ring on a tabbed-to control
    page.keyboard.press("/")
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.activeElement.id") == "queue"
    ring = "() => getComputedStyle(document.querySelector('.card.selected')).outlineStyle"
    assert page.evaluate(ring) != "none"
    page.focus("#f-q")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Escape")

    # the large view: a modal dialog named by the item, the focus kept inside, Escape closes it
    path = page.inner_text(".card.selected .path")
    page.keyboard.press("o")
    dialog = page.get_by_role("dialog", name=path)
    dialog.wait_for()
    assert page.evaluate("() => document.getElementById('viewer').matches(':modal')")
    assert unnamed_controls(page) == []
    for name in ("Zoom in", "Zoom out", "Fit to the window", "Reveal", "Close"):
        assert dialog.get_by_role("button", name=name, exact=True).count() == 1, name
    inside = "() => document.getElementById('viewer').contains(document.activeElement)"
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate(inside)
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(inside)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.id") == "queue"

    page.click("#open-settings")
    assert unnamed_controls(page) == []


def test_space_on_a_focused_button_presses_it_and_reveals_nothing(page: Any) -> None:  # noqa: F811
    reveals: list[str] = []
    page.on("request", lambda request: reveals.append(request.url) if request.url.endswith("/reveal") else None)
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card.selected img.thumb")
    page.focus("#open-help")
    page.keyboard.press(" ")  # a keyboard user's way to press a button, as Enter is
    page.wait_for_selector("#help-dialog", state="visible")
    page.keyboard.press("Escape")
    page.focus("#select-all")
    page.keyboard.press(" ")
    page.wait_for_selector("#bulk-count:has-text('selected')")
    assert page.inner_text("#bulk-count") == f"{page.locator('.card').count()} selected"
    page.wait_for_load_state("networkidle")
    assert reveals == [] and page.locator("img.clear").count() == 0
    page.keyboard.press("Escape")  # from a button too, Esc gives the keys back to the grid: Enter is the large view
    assert page.evaluate("() => document.activeElement.id") == "queue"
    page.keyboard.press("Enter")
    page.wait_for_selector("#viewer[open]")

# Text and the background it is drawn on (the nearest ancestor with one), as the browser computed them.
COLOURS = """selector => {
  const node = document.querySelector(selector);
  let back = node;
  const clear = (n) => getComputedStyle(n).backgroundColor.replace(/ /g, '') === 'rgba(0,0,0,0)';
  while (back && clear(back)) back = back.parentElement;
  return [getComputedStyle(node).color, back ? getComputedStyle(back).backgroundColor : 'rgb(255, 255, 255)'];
}"""
TEXTS = ["body", "#progress", ".card.selected .path", ".card.selected .badge", "#open-audit", "#error-text",
         "#detail h3", "#f-status", "#keys span", "#keys .muted", ".card .frame .muted"]
# A control's edge is all that tells it from the page around it: WCAG 1.4.11 asks 3:1 of it.
BORDER = COLOURS.replace("getComputedStyle(node).color", "getComputedStyle(node).borderTopColor").replace(
    "let back = node;", "let back = node.parentElement;")
CONTROLS_EDGED = ["#open-audit", "#f-status", "#f-q", "#claim", "#note-save"]


def contrast(colour: str, background: str) -> float:
    """WCAG 2 contrast ratio of two computed `rgb(...)` colours."""
    def luminance(css: str) -> float:
        channels = [int(part) / 255 for part in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_keeps_aa_contrast_in_light_and_dark(console: str, scheme: str) -> None:  # noqa: F811
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        tab = browser.new_context(color_scheme=scheme, viewport={"width": 1400, "height": 900}).new_page()
        tab.set_default_timeout(20_000)
        log_in(tab, console + "/login")
        tab.wait_for_selector(".card.selected img.thumb")
        tab.wait_for_selector("#detail h3")
        tab.keyboard.press("z")  # nothing to undo: the red line shows
        tab.wait_for_selector("#error-text:has-text('nothing decided')")
        background = tab.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert (contrast(background, "rgb(0, 0, 0)") < 2) == (scheme == "dark")  # the page follows the system
        tab.wait_for_selector(".card .frame .muted")  # the demo's unreadable file: its card says so on the frame
        ratios = {selector: contrast(*tab.evaluate(COLOURS, selector)) for selector in TEXTS}
        edges = {selector: contrast(*tab.evaluate(BORDER, selector)) for selector in CONTROLS_EDGED}
        tab.select_option("#f-media", "video")  # the large view is dark in both themes: its words too
        tab.wait_for_selector(".card.selected img.thumb")
        tab.locator("#queue").focus()
        tab.keyboard.press("o")
        tab.wait_for_selector("#viewer-time:has-text('0:00')")
        ratios["#viewer-time"] = contrast(*tab.evaluate(COLOURS, "#viewer-time"))
        browser.close()
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios
    assert all(ratio >= 3 for ratio in edges.values()), edges


def test_hidden_parts_stay_hidden_for_a_read_only_account(page: Any, demo_case: Any) -> None:  # noqa: F811
    store = open_case(demo_case)
    Accounts(store).create_user("olga", PASSWORD, "read-only", actor="test")
    store.close()
    log_in(page, page.console_url + "/login", username="olga")
    page.wait_for_selector(".card.selected img.thumb")
    assert page.get_attribute("#bulk", "hidden") is not None
    assert not page.locator("#bulk").is_visible() and not page.get_by_role("button", name="Select all shown").count()
