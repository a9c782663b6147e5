"""English, French and Spanish: every message of the code has its translations, the reports read in the
language asked for, and the console chooses each user's language (their setting, else the browser's).
Category and AI-tag names are translated; data (paths, list names, custom categories) never is."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.test_console_api import app, login  # noqa: F401  (fixture)
from vigie.cli import main
from vigie.exports.report import render
from vigie.exports.run import run_export
from vigie.i18n import LANGUAGES, TRANSLATED, LanguageError, language
from vigie.i18n.extract import PACKAGE, check, extract
from vigie.review.categories import set_case_scheme
from vigie.store.review import Decision, ReviewTables
from vigie.store.sqlite import open_case
from vigie.vocabulary import AI_TAGS, PROJECT_VIC_US, SHOWN_CODES, UK_CAID, category_label
from vigie.web.api import DENSITIES


def test_every_message_has_its_french_and_spanish_translation() -> None:
    """Fails on a message with no translation, a fuzzy or stale entry, or placeholders that differ; the fix:
    `python -m vigie.i18n.extract`, then translate what it lists."""
    assert check() == []
    assert set(TRANSLATED) == {"fr", "es"} and set(LANGUAGES) == {"en", *TRANSLATED}


def test_the_extraction_sees_every_message_of_the_console_script() -> None:
    """Babel reads the script; any t("…") or tn("…") it would miss (a call inside a template string, say)
    would reach French and Spanish readers in English."""
    script = (PACKAGE / "web" / "static" / "console.js").read_text(encoding="utf-8")
    called = {json.loads(f'"{m}"') for m in re.findall(r'\btn?\("((?:[^"\\]|\\.)*)"', script)}
    extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    assert called and called <= extracted
    assert not re.search(r"\btn?\(`", script)  # a template string is not a message


def test_vocabulary_words_are_in_the_catalogues() -> None:
    french, spanish = language("fr"), language("es")
    assert category_label("projectvic-us", "1", french) == "Matériel d'abus sexuel sur enfant"
    assert category_label("projectvic-us", "1", spanish) == "Material de abuso sexual infantil"
    assert category_label("uk-caid", "a", french) == "Catégorie A"
    assert category_label("custom", "Pertinent", french) == "Pertinent"  # a case's own word: data
    assert category_label("projectvic-us", "1") == PROJECT_VIC_US["1"]  # English by default
    for lang in (french, spanish):
        labels = [*PROJECT_VIC_US.values(), *UK_CAID.values(), *(t.label for t in AI_TAGS), *SHOWN_CODES]
        untranslated = [w for w in labels if lang.gettext(w) == w]
        assert untranslated == [], lang.code
    with pytest.raises(LanguageError, match="one of en, fr, es"):
        language("de")


def _decide_two(case: Path) -> None:
    store = open_case(case)
    review = ReviewTables(store)
    entries = review.queue(review_filter(), limit=2)[1]
    review.decide("rita", review.members(entries[0]["id"]), Decision("projectvic-us", "1", ("ai-generated",)),
                  "stack")
    review.decide("rita", review.members(entries[1]["id"]), Decision("projectvic-us", "3", ()), "stack")
    store.close()


def review_filter() -> Any:
    from vigie.store.review import QueueFilter

    return QueueFilter(status="undecided")


@pytest.mark.parametrize(("code", "words", "category", "tag"), [
    ("fr", ["Rapport d'affaire Vigie", "Synthèse", "Décisions (2)", "Étiquettes IA", "Chemin"],
     "Matériel d'abus sexuel sur enfant", "Généré par IA"),
    ("es", ["Informe del caso Vigie", "Resumen", "Decisiones (2)", "Etiquetas IA", "Ruta"],
     "Material de abuso sexual infantil", "Generado por IA"),
])
def test_case_report_in_french_and_spanish(demo_case: Path, code: str, words: list[str], category: str,
                                           tag: str) -> None:
    _decide_two(demo_case)
    store = open_case(demo_case)
    try:
        page = html.unescape(run_export(store, "rita", "case-report", language=code).content.decode())
        english = run_export(store, "rita", "case-report").content.decode()
    finally:
        store.close()
    assert f'<html lang="{code}">' in page
    for word in [*words, category, tag]:
        assert word in page, word
    assert "Summary" not in page and "Child abuse material" not in page and "AI-generated" not in page
    assert "Summary" in english and "Child abuse material" in english and '<html lang="en">' in english


@pytest.mark.parametrize(("code", "words"), [
    ("fr", ["Synthèse", "Listes d'empreintes", "Ordre de revue", "Preuves de génération par IA", "inconnu",
            "dossier"]),
    ("es", ["Resumen", "Listas de hashes", "Orden de revisión", "Pruebas de generación por IA",
            "desconocido", "carpeta"]),
])
def test_html_report_in_french_and_spanish(demo_case: Path, code: str, words: list[str]) -> None:
    store = open_case(demo_case)
    try:
        page = html.unescape(render(store, "html", lang=language(code)))
        lists = [h.name for h in store.hash_lists()]
    finally:
        store.close()
    assert f'<html lang="{code}">' in page
    for word in words:
        assert word in page, word
    assert lists and all(name in page for name in lists)  # list names are data, shown as they are
    assert ">Summary<" not in page and ">Review order" not in page


def test_report_command_takes_a_language(demo_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "rapport.html"
    result = CliRunner().invoke(main, ["report", "--case", str(demo_case), "--lang", "fr", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Synthèse" in out.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--case", str(demo_case), "-o", str(out)],
                                env={"VIGIE_LANG": "es"})
    assert result.exit_code == 0 and "Resumen" in out.read_text(encoding="utf-8")
    refused = CliRunner().invoke(main, ["report", "--case", str(demo_case), "--lang", "de", "-o", str(out)])
    assert refused.exit_code == 2 and "'de' is not one of 'en', 'fr', 'es'" in refused.output
    store = open_case(demo_case)
    reports = [e.details for e in store.audit_entries() if e.action == "report"]
    store.close()
    assert [d["language"] for d in reports[-2:]] == ["fr", "es"]


def test_export_command_case_report_in_spanish(demo_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "informe.html"
    result = CliRunner().invoke(main, ["export", "--case", str(demo_case), "--format", "case-report", "--lang",
                                       "es", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Informe del caso Vigie" in out.read_text(encoding="utf-8")


def test_console_follows_the_browser_then_the_users_choice(app: Any) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    french = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
    me = client.get("/api/me", headers=french).get_json()
    assert me["language"] == "fr" and me["language_choice"] == ""
    assert {c["code"]: c["label"] for c in me["categories"]}["1"] == "Matériel d'abus sexuel sur enfant"
    assert {t["code"]: t["label"] for t in me["ai_tags"]}["ai-generated"] == "Généré par IA"
    assert me["words"]["undetermined"] == "indéterminé" and me["words"]["reviewer"] == "analyste"
    page = html.unescape(client.get("/", headers=french).get_data(as_text=True))
    assert '<html lang="fr">' in page and "Non décidé" in page and ">Undecided<" not in page
    catalogue = json.loads(re.search(r'<script type="application/json" id="catalogue">(.*?)</script>', page,
                                     re.S)[1])  # type: ignore[index]
    assert catalogue["lang"] == "fr" and catalogue["messages"]["Nothing selected."] == "Aucune sélection."
    assert catalogue["messages"]["×{n} copy"] == ["×{n} copie", "×{n} copies"] and catalogue["singular"] == [0, 1]

    german = {"Accept-Language": "de-DE"}
    assert client.get("/api/me", headers=german).get_json()["language"] == "en"  # no German: English

    saved = client.post("/api/settings", json={"language": "es"}, headers={"X-CSRF-Token": csrf})
    assert saved.status_code == 200 and client.get("/api/me").get_json()["language_choice"] == "es"
    me = client.get("/api/me", headers=french).get_json()  # the user's choice wins over the browser's
    assert me["language"] == "es" and {c["code"]: c["label"] for c in me["categories"]}["3"].startswith("Imagen")
    assert '<html lang="es">' in client.get("/", headers=french).get_data(as_text=True)
    assert client.post("/api/settings", json={"language": "de"}, headers={"X-CSRF-Token": csrf}).status_code == 400
    client.post("/api/settings", json={"language": ""}, headers={"X-CSRF-Token": csrf})
    assert client.get("/api/me", headers=french).get_json()["language"] == "fr"
    assert client.get("/api/me").get_json()["settings"]["density"] == DENSITIES[1]  # other settings untouched


def test_console_data_is_not_translated(app: Any, demo_case: Path) -> None:  # noqa: F811
    store = open_case(demo_case)
    set_case_scheme(store, "custom", ["Pertinent", "Unclear"], "test")
    store.close()
    client, _ = login(app, "rita")
    me = client.get("/api/me", headers={"Accept-Language": "es"}).get_json()
    assert [c["label"] for c in me["categories"]] == ["Pertinent", "Unclear"]
    assert me["schemes"][-1]["label"] == "Personalizado"


def test_login_page_and_case_report_in_the_browsers_language(app: Any) -> None:  # noqa: F811
    spanish = {"Accept-Language": "es-ES,es;q=0.9"}
    browser = app.test_client()
    page = browser.get("/login", headers=spanish).get_data(as_text=True)
    assert '<html lang="es">' in page and "Iniciar sesión" in page and "Contraseña" in page
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    wrong = browser.post("/login", data={"username": "rita", "password": "nope", "login_token": token},
                         headers={"Accept-Language": "fr"})
    assert wrong.status_code == 401 and "Identifiant ou mot de passe incorrect." in wrong.get_data(as_text=True)
    client, _ = login(app, "rita")
    report = html.unescape(client.get("/report", headers={"Accept-Language": "fr"}).get_data(as_text=True))
    assert "Rapport d'affaire Vigie" in report and '<html lang="fr">' in report
