"""Face crops in Chromium: in the item panel blurred, with the person's name, clear while the item is revealed;
the person view above the grid under the person filter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_console_e2e import console, log_in, page  # noqa: F401  (fixtures; skips without Chromium)
from tests.test_console_faces import add_named_face
from vigie.store.review import QueueFilter, ReviewTables
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.slow  # a real Chromium per test


def _ana_on_the_first_card(page: Any, demo_case: Path) -> int:  # noqa: F811
    """A face named Ana on the queue's first item, and the console logged in and showing its crop."""
    store = open_case(demo_case)
    _, entries = ReviewTables(store).queue(QueueFilter(), limit=1)
    store.close()
    face_id = add_named_face(demo_case, entries[0]["id"], name="Ana")
    log_in(page, page.console_url + "/login")
    page.wait_for_selector("#faces img.face-crop")
    return face_id


def test_item_panel_shows_face_crops_blurred_until_revealed(page: Any, demo_case: Path) -> None:  # noqa: F811
    face_id = _ana_on_the_first_card(page, demo_case)
    crop = page.locator("#faces img.face-crop")
    assert f"/media/faces/{face_id}/thumb" in crop.get_attribute("src")
    page.wait_for_function("() => document.querySelector('#faces img.face-crop').naturalWidth > 0")
    assert "Ana" in page.inner_text("#faces") and "Ana" in crop.get_attribute("alt")
    assert "40×40 px at (10, 10)" in page.inner_text("#faces figcaption")  # where in the picture, in words

    page.keyboard.press("r")
    page.wait_for_selector(".card.selected img.clear")
    page.wait_for_function("() => document.querySelector('#faces img.face-crop').src.endsWith('/full')")
    page.wait_for_function("() => document.querySelector('#faces img.face-crop').naturalWidth > 0")
    page.keyboard.press("r")
    page.wait_for_function("() => document.querySelector('#faces img.face-crop').src.includes('/thumb')")


def test_person_filter_shows_whom_by_their_blurred_face(page: Any, demo_case: Path) -> None:  # noqa: F811
    face_id = _ana_on_the_first_card(page, demo_case)
    assert not page.locator("#person-view").is_visible()
    page.click("#faces button:has-text('Ana')")  # the panel's person link sets the person filter
    page.wait_for_selector("#person-view img.person-face")
    view = page.get_by_role("region", name="Person shown")
    assert "Ana" in view.inner_text() and "in 1 item" in view.inner_text()
    assert f"/media/faces/{face_id}/thumb" in page.get_attribute("#person-view img", "src")
    page.select_option("#f-person", "")
    page.wait_for_selector("#person-view", state="hidden")


def test_a_reviewer_takes_a_face_out_of_a_person_names_it_and_merges_it_back(page: Any,  # noqa: F811
                                                                              demo_case: Path) -> None:
    store = open_case(demo_case)
    _, entries = ReviewTables(store).queue(QueueFilter(), limit=1)
    store.close()
    first = add_named_face(demo_case, entries[0]["id"], name="Ana")
    second = add_named_face(demo_case, entries[0]["id"], name=None)
    store = open_case(demo_case)
    person_of = dict(store.db.execute("SELECT id, person_id FROM faces").fetchall())
    store.merge_persons(person_of[first], person_of[second])  # the grouping joined two people
    store.close()
    log_in(page, page.console_url + "/login")
    page.wait_for_selector("#faces figure:nth-child(2)")
    assert page.locator("#faces button:has-text('Ana')").count() == 2

    page.once("dialog", lambda dialog: dialog.accept())  # "Take this face out of person 1 Ana ...?"
    page.locator("#faces figure").nth(1).get_by_role("button", name="this face is not").click()
    page.wait_for_function("() => document.querySelectorAll('#faces button.person-name').length === 2"
                           " && !document.querySelector('#faces figure:nth-child(2)').innerText.includes('Ana')")
    page.once("dialog", lambda dialog: dialog.accept("Bea"))
    page.locator("#faces figure").nth(1).get_by_role("button", name="name person").click()
    page.wait_for_function("() => document.querySelector('#faces figure:nth-child(2)').innerText.includes('Bea')")
    assert [o for o in page.locator("#f-person option").all_inner_texts() if "Bea" in o]

    page.click("#faces button:has-text('Ana')")  # Ana's person view, then Bea merged into her
    page.wait_for_selector("#person-merge")
    page.once("dialog", lambda dialog: dialog.accept())
    page.select_option("#person-merge", label=next(o for o in page.locator("#person-merge option").all_inner_texts()
                                                    if "Bea" in o))
    page.wait_for_function("() => [...document.querySelectorAll('#faces figure')]"
                           ".filter((f) => f.innerText.includes('Ana')).length === 2")
    assert not [o for o in page.locator("#f-person option").all_inner_texts() if "Bea" in o]
