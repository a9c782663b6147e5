"""The item panel in Chromium shows what is known: list label and series, the category with its meaning,
the time of a known frame in a video, and file times (see test_console_known.py for the API side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_console_e2e import console, log_in, page  # noqa: F401  (fixtures; skips without Chromium)
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.slow  # a real Chromium per test


@pytest.fixture
def projectvic_lists(demo_case: Path) -> Path:
    """The demo's lists with Project VIC category 1, so the panel has a meaning to show, and GPS on every item."""
    store = open_case(demo_case)
    with store.db:
        store.db.execute("UPDATE list_entries SET category_scheme = 'projectvic-us', category = '1'")
        gps = '{"gps_present": true, "gps_latitude": 48.86, "gps_longitude": -2.35}'
        store.db.execute("UPDATE items SET exif = ?", (gps,))
    store.close()
    return demo_case


def test_item_panel_shows_what_is_known(projectvic_lists: Path, page: Any) -> None:  # noqa: F811
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    log_in(page, page.console_url + "/login")
    page.wait_for_selector(".card")
    page.select_option("#f-media", "video")
    page.wait_for_selector("#matches td:has-text('in the video')")
    matches = page.inner_text("#matches")
    assert "1 — Child abuse material" in matches and "series demo" in matches and "demo series" in matches
    assert "at 0:00:0" in matches
    assert "modified" in page.inner_text("#file-times")  # the file times named, not by their column
    assert "48.860000, -2.350000" in page.inner_text("#gps")
    link = page.locator("#gps a")
    assert link.get_attribute("rel") == "noopener noreferrer" and "openstreetmap.org" in link.get_attribute("href")
    assert all(url.startswith(page.console_url) for url in requested)  # no map is fetched unless clicked
    assert "1 — Child abuse material" in page.inner_text(".card.selected .badges")
