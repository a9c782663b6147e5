"""The console in French and in Spanish in Chromium: chosen by the browser's language, then by the user's own
choice in Settings, which wins over the browser's and lasts. Labels, the keys' legend, category and AI-tag
names on the cards all read in that language, and no English message of the catalogue is left on screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.custom_list import import_custom_list
from tests.test_console_e2e import BROWSER_FLAGS, CHROMIUM, console, log_in, sync_api  # noqa: F401  (fixture)
from vigie.i18n import language
from vigie.store.review import Decision, ReviewTables
from vigie.store.sqlite import open_case
from vigie.web.audit_view import VIEWS_LISTED

pytestmark = pytest.mark.slow  # a real Chromium per test


@contextmanager
def browser_page(url: str, locale: str) -> Iterator[Any]:
    """A page in a browser whose language is `locale` (Chromium's Accept-Language and navigator.language)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        page = browser.new_context(locale=locale, viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(20_000)
        page.console_url = url
        try:
            yield page
        finally:
            browser.close()


def _english_left(page: Any, code: str) -> list[str]:
    """English phrases of the catalogue (those a translation changes) still on screen."""
    shown = page.evaluate("() => document.body.innerText").lower()  # headings may be upper-cased by the style
    phrases = [m for m, t in language(code).messages.items()
               if isinstance(t, str) and t != m and " " in m and not re.search(r"[{%]", m)]
    return [p for p in phrases if p.lower() in shown]


def _wait_for_console(page: Any, code: str) -> None:
    page.wait_for_selector(f"html[lang={code}]")
    page.wait_for_selector(".card.selected img.thumb")
    page.wait_for_selector("#detail h3")
    page.wait_for_load_state("networkidle")


def test_console_in_french_from_the_browser_then_spanish_by_choice(console: str) -> None:  # noqa: F811
    with browser_page(console, "fr-FR") as page:
        page.goto(console + "/login")
        assert page.get_attribute("html", "lang") == "fr" and page.inner_text("#login") == "Se connecter"
        log_in(page, console + "/login")
        _wait_for_console(page, "fr")
        assert page.title() == "case — Vigie revue"  # the case's folder is named "case"
        assert page.inner_text("#f-status option[value=undecided]") == "Non décidé"
        assert page.inner_text("#open-audit") == "Journal d'audit" and page.inner_text("#open-settings") == "Paramètres"
        assert page.get_attribute("#queue", "aria-label") == "File de revue"
        legend = page.inner_text("#keys")
        assert "Matériel d'abus sexuel sur enfant" in legend and "Images de synthèse / animation" in legend
        assert "étiqueter Généré par IA (à nouveau pour retirer)" in legend and "suivant" in legend
        assert "Décision :" in page.text_content("#detail") and "Empreintes" in page.text_content("#detail")
        assert page.inner_text("#progress") == "0 entrée de la file décidée sur 14 · 14 affichées par le filtre"
        assert "(analyste)" in page.inner_text("header")
        page.keyboard.press("g")  # the tag stays on its card, named in French
        page.wait_for_selector(".card.selected .badge.decided")
        assert page.inner_text(".card.selected .badge.decided") == "Généré par IA"
        page.wait_for_selector("body[data-pending='0']", state="attached")
        assert _english_left(page, "fr") == []

        page.click("#open-settings")
        assert page.input_value("#s-language") == ""  # the browser's language until the user picks one
        page.select_option("#s-language", "es")
        page.click("#s-save")  # the page comes back in Spanish
        _wait_for_console(page, "es")
        assert page.inner_text("#f-status option[value=undecided]") == "Sin decidir"
        assert "Material de abuso sexual infantil" in page.inner_text("#keys")
        assert _english_left(page, "es") == []
        page.select_option("#f-status", "decided")  # the tagged stack, its tag named in Spanish
        page.wait_for_selector(".card.selected .badge.decided")
        assert page.inner_text(".card.selected .badge.decided") == "Generado por IA"
        assert _english_left(page, "es") == []
        page.reload()  # the choice is the user's, kept over the French browser's
        _wait_for_console(page, "es")
        assert page.inner_text("#open-settings") == "Ajustes"


def test_console_in_spanish_from_the_browser_then_french_by_choice(console: str) -> None:  # noqa: F811
    with browser_page(console, "es-ES") as page:
        log_in(page, console + "/login")
        _wait_for_console(page, "es")
        assert page.inner_text("#f-status option[value=undecided]") == "Sin decidir"
        assert "Imagen sintética (CGI) / animación" in page.inner_text("#keys")
        page.keyboard.press("?")
        page.wait_for_selector("#help-dialog[open]")
        assert page.inner_text("#help-title") == "Teclas"
        assert "deshacer mi última decisión" in page.inner_text("#help-keys")
        page.keyboard.press("Escape")
        assert _english_left(page, "es") == []

        page.click("#open-settings")
        page.select_option("#s-language", "fr")
        page.click("#s-save")
        _wait_for_console(page, "fr")
        assert page.inner_text("#f-status option[value=undecided]") == "Non décidé"
        page.click("#open-settings")
        page.select_option("#s-language", "")  # back to the browser's language
        page.click("#s-save")
        _wait_for_console(page, "es")
        assert page.inner_text("#open-settings") == "Ajustes"


def test_the_accept_list_summary_reads_as_french(console: str) -> None:  # noqa: F811
    with browser_page(console, "fr-FR") as page:
        log_in(page, console + "/login")
        _wait_for_console(page, "fr")
        page.click("#accept-list")
        page.wait_for_selector("#accept-dialog", state="visible")
        summary = page.inner_text("#accept-summary")
    # A space before the colon, in French; the demo list's Project VIC US categories by their French names.
    assert "dans la liste demo-list : 4 × Non pertinent, 3 × Images de comparaison. " in summary
    assert summary.endswith("0 déjà décidée reste inchangée.")  # French counts 0 as one; nothing left undecided


def test_the_item_history_names_its_actions_in_french(console: str, demo_case: Path) -> None:  # noqa: F811
    store = open_case(demo_case)  # reveals past those an item's panel lists (any account may make thousands)
    every_item = [row[0] for row in store.db.execute("SELECT id FROM items")]
    for _ in range(VIEWS_LISTED + 1):
        store.append_audit("olga", "reveal", {"items": every_item})
    store.close()
    with browser_page(console, "fr-FR") as page:
        log_in(page, console + "/login")
        _wait_for_console(page, "fr")
        page.keyboard.press("r")  # a reveal, then a tag: both in the selected item's history
        page.wait_for_selector(".card.selected img.clear")
        page.keyboard.press("g")
        page.wait_for_selector("body[data-pending='0']", state="attached")
        page.wait_for_selector("#history td[title=categorise]")
        actions = page.eval_on_selector_all("#history td[title]", "cells => cells.map((c) => [c.title, c.textContent])")
        left_out = page.inner_text(".history-left-out")
    assert ["reveal", "révélation"] in actions and ["categorise", "catégorisation"] in actions
    assert sum(code == "reveal" for code, _ in actions) == VIEWS_LISTED
    assert left_out == ("2 entrées antérieures (révélation) ne sont pas listées ici ; le Journal d'audit liste "
                        "toutes les entrées.")


SCREENS = {
    "fr": {"times": ["modifié le", "métadonnées changées ou créé le", "consulté le"],
           "exif": ["marque de l'appareil", "données GPS", "latitude", "longitude"],
           "refused": "Non effectué : status vaut undecided, decided ou all",
           "stale": "a été décidé par rob comme Exploitation d'enfant (hors abus sexuel) / âge difficile à estimer",
           "reason": "la catégorie demo-A relève du schéma Personnalisé, pas de celui de cette affaire",
           "audit": ["catégorisation", "Catégorie : 2 — Exploitation d'enfant", "S'applique à : toute la pile",
                     "connexion", "analyse", "Fichiers vus : 25"]},
    "es": {"times": ["modificado", "metadatos cambiados o creado", "último acceso"],
           "exif": ["marca de la cámara", "datos GPS", "latitud", "longitud"],
           "refused": "No realizado: status es undecided, decided o all",
           "stale": "fue decidido por rob como Explotación infantil",
           "reason": "la categoría demo-A pertenece al esquema Personalizado, no al de este caso",
           "audit": ["categorización", "Categoría: 2 — Explotación infantil", "Se aplica a: toda la pila",
                     "inicio de sesión", "análisis", "Archivos vistos: 25"]},
}


@pytest.mark.parametrize(("locale", "code"), [("fr-FR", "fr"), ("es-ES", "es")])
def test_a_reviewers_screens_show_no_english_but_data(console: str, demo_build: Path,  # noqa: F811
                                                      demo_case: Path, locale: str, code: str) -> None:
    """The queue, the item panel with its file times, a refused request, a stale decision refused (409), the
    accept dialog's reasons and the audit log: all in the reviewer's language, data aside."""
    words = SCREENS[code]
    import_custom_list(demo_build, demo_case)  # hits whose categories are not of the case's scheme
    store = open_case(demo_case)
    with store.transaction():  # what the scan keeps of a camera's EXIF
        store.db.execute("UPDATE items SET exif = ?",
                         ('{"make": "Canon", "gps_present": true, "gps_latitude": 48.86, "gps_longitude": -2.35}',))
    store.close()
    with browser_page(console, locale) as page:
        log_in(page, console + "/login")
        _wait_for_console(page, code)
        assert page.eval_on_selector_all("#file-times th", "cells => cells.map((c) => c.textContent)") == words["times"]
        assert page.eval_on_selector_all("#exif th", "cells => cells.map((c) => c.textContent)") == words["exif"]
        assert "true" not in page.inner_text("#exif")
        assert "SHA-256" in page.inner_text("#detail") and _english_left(page, code) == []

        # a request the server refuses, shown as the console shows every refusal
        page.evaluate("() => call('GET', '/api/queue?status=maybe').catch((error) => showError(error.message))")
        assert page.inner_text("#error-text") == words["refused"]
        page.keyboard.press("Escape")

        # a colleague decides the selected stack while this screen hears of no change: the key is refused (409)
        page.route("**/api/changes**", lambda route: route.abort())
        page.wait_for_timeout(2500)  # any poll already on its way has come back
        item = int(page.locator(".card.selected").get_attribute("data-id"))
        store = open_case(demo_case)
        review = ReviewTables(store)
        review.decide("rob", review.members(item), Decision("projectvic-us", "2"), "stack")
        store.close()
        page.keyboard.press("3")
        page.wait_for_selector("#error", state="visible")
        page.wait_for_selector("body[data-pending='0']", state="attached")
        assert words["stale"] in page.inner_text("#error-text")
        assert _english_left(page, code) == []
        page.keyboard.press("Escape")

        # the accept dialog: the custom list's categories are of another scheme, each item says so for the console
        page.select_option("#bulk-list", "custom-list")  # the demo list comes first, and is of the case's scheme
        page.click("#accept-list")
        page.wait_for_selector("#accept-dialog", state="visible")
        reasons = page.inner_text("#accept-left")
        assert words["reason"] in reasons and "--" not in reasons
        assert _english_left(page, code) == []
        page.keyboard.press("Escape")

        # the audit log: each action a phrase, its details labelled fields
        page.click("#open-audit")
        page.wait_for_selector("#audit-table td[title=categorise]")
        table = page.inner_text("#audit-table")
        assert all(word in table for word in words["audit"]), table
        assert "categorise" not in table and '"scope"' not in table  # no code, no JSON
        assert _english_left(page, code) == []


def test_the_key_legend_is_one_line_in_french_until_the_reviewer_asks_for_every_key(console: str) -> None:  # noqa: F811
    with browser_page(console, "fr-FR") as page:
        log_in(page, console + "/login")
        _wait_for_console(page, "fr")
        line = page.evaluate("() => document.querySelector('#keys-list kbd').getBoundingClientRect().height")
        compact = page.evaluate("() => document.getElementById('keys').offsetHeight")
        assert compact < 3 * line, compact  # one line (it took five in French, a fifth of a 900 px screen)
        assert page.get_attribute("#keys-more", "aria-expanded") == "false" and page.inner_text("#keys-more") == \
            "toutes les touches"
        # the line starts with `?` and the category keys, in sight
        assert page.inner_text("#keys-list span:first-child") == "? cette liste des touches"
        first_category = page.locator("#keys-list span").nth(1)
        assert first_category.bounding_box()["x"] + first_category.bounding_box()["width"] < 1400
        page.focus("#keys-more")  # by keyboard: Enter on the button shows every key, and Escape leaves it
        page.keyboard.press("Enter")
        page.wait_for_selector("#keys.open")
        assert page.get_attribute("#keys-more", "aria-expanded") == "true"
        assert page.evaluate("() => document.getElementById('keys').offsetHeight") > compact
        assert page.inner_text("#keys-more") == "moins de touches"
        page.reload()  # the reviewer's choice is kept in this browser
        _wait_for_console(page, "fr")
        assert page.get_attribute("#keys-more", "aria-expanded") == "true"
        page.click("#keys-more")
        page.wait_for_selector("#keys:not(.open)")
        assert page.evaluate("() => document.getElementById('keys').offsetHeight") == compact
        assert _english_left(page, "fr") == []
