"""What Vigie says to a French or Spanish user is in their language: every refusal of the API and of the
pages, the reasons the "Accept list categories" dialog gives (phrased for the console, not with the command's
options), the audit log (each action a phrase, its details labelled fields), and counts in the grammatical
number they take. The command line keeps its English, options included, and the log itself keeps its codes."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from tests.custom_list import import_custom_list
from tests.test_console_api import PASSWORD, app, login  # noqa: F401  (fixture)
from tests.test_console_server import app as server_app  # noqa: F401  (fixture)
from tests.test_console_server import folder  # noqa: F401  (fixture)
from tests.test_console_server import log_in as server_log_in
from vigie.config import Settings
from vigie.exports.report import render
from vigie.exports.run import run_export
from vigie.i18n import N_, Phrase, language
from vigie.review.scripted import Selection, SelectionError, plan_decisions
from vigie.store.review import Decision, ReviewTables
from vigie.store.sqlite import open_case
from vigie.web.app import create_app
from vigie.web.security import LoginThrottle

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


def test_a_phrase_is_english_as_a_string_and_any_language_when_read() -> None:
    phrase = Phrase(N_("no item %(ids)s in this case"), ids="4, 5")
    assert phrase == "no item 4, 5 in this case" and isinstance(phrase, str)
    assert phrase.read(language("fr")) == "aucun élément 4, 5 dans cette affaire"
    assert phrase.read(language("es")) == "no hay ningún elemento 4, 5 en este caso"
    # the command line's own wording (with its options), the same message where a page reads it
    hinted = Phrase(N_("no hash list named '%(list)s' in this case"), list="x",
                    plain="no hash list named 'x' in this case (see `vigie hashlist list`)")
    assert str(hinted).endswith("(see `vigie hashlist list`)")
    assert hinted.read(language("fr")) == "aucune liste d'empreintes nommée « x » dans cette affaire"
    assert str(SelectionError(hinted)) == str(hinted)  # what the command prints


def _first(client: Any) -> int:
    return int(client.get("/api/queue").get_json()["entries"][0]["id"])


@pytest.mark.parametrize("headers, words", [
    (FRENCH, {"category": "la catégorie « zz » ne fait pas partie de 0, 1, 2, 3, 4 (schéma projectvic-us)",
              "status": "status vaut undecided, decided ou all", "missing": "introuvable",
              "undo": "l'entrée 1 n'est pas une décision",
              "role": "votre rôle (lecture seule) ne permet pas cette action",
              "stale": "a été décidé à nouveau depuis que vous l'avez vu", "csrf": "jeton CSRF absent ou erroné",
              "login": "connectez-vous d'abord", "note": "une note compte de 1 à 4000 caractères de texte",
              "reveal": "révélez d'abord cet élément"}),
    (SPANISH, {"category": "la categoría «zz» no es ninguna de 0, 1, 2, 3, 4 (esquema projectvic-us)",
               "status": "status es undecided, decided o all", "missing": "no encontrado",
               "undo": "la entrada 1 no es una decisión", "role": "su rol (solo lectura) no permite esta acción",
               "stale": "se ha vuelto a decidir desde que lo vio", "csrf": "token CSRF ausente o incorrecto",
               "login": "inicie sesión primero", "note": "una nota tiene de 1 a 4000 caracteres de texto",
               "reveal": "revele primero este elemento"}),
])
def test_the_apis_refusals_are_in_the_users_language(app: Any, headers: dict[str, str],  # noqa: F811
                                                      words: dict[str, str]) -> None:
    client, csrf = login(app, "rita")
    sent = {"X-CSRF-Token": csrf, **headers}
    item = _first(client)

    def error(response: Any, status: int) -> str:
        assert response.status_code == status, response.get_json()
        return str(response.get_json()["error"])

    assert error(client.post("/api/decisions", json={"item": item, "category": "zz"}, headers=sent), 400) \
        == words["category"]
    assert error(client.get("/api/queue?status=maybe", headers=headers), 400) == words["status"]
    assert error(client.post("/api/decisions", json={"item": 10**9, "category": "1"}, headers=sent), 404) \
        == words["missing"]
    assert error(client.get("/api/nowhere", headers=headers), 404) == words["missing"]
    assert error(client.post("/api/decisions/undo", json={"audit_seq": 1}, headers=sent), 409) == words["undo"]
    assert error(client.post(f"/api/items/{item}/notes", json={"text": ""}, headers=sent), 400) == words["note"]
    assert error(client.get(f"/media/{item}/full", headers=headers), 403) == words["reveal"]
    decided = client.post("/api/decisions", json={"item": item, "category": "1"}, headers=sent).get_json()
    stale = client.post("/api/decisions", json={"item": item, "category": "2", "seen": decided["audit_seq"] - 1},
                        headers=sent)
    assert words["stale"] in error(stale, 409) and stale.get_json()["conflict"]["by"] == "rita"
    assert words["csrf"] in error(client.post("/api/decisions", json={}, headers=headers), 403)
    olga, olga_csrf = login(app, "olga")
    assert error(olga.post("/api/decisions", json={"item": item, "category": "1"},
                           headers={"X-CSRF-Token": olga_csrf, **headers}), 403) == words["role"]
    assert error(app.test_client().get("/api/me", headers=headers), 401) == words["login"]
    # an English browser reads them as before
    assert client.get("/api/queue?status=maybe").get_json()["error"] == "status is undecided, decided or all"


def test_accept_list_reasons_speak_of_the_console_not_of_the_commands_options(
        app: Any, demo_build: Path, demo_case: Path) -> None:  # noqa: F811
    import_custom_list(demo_build, demo_case)  # categories of another scheme than the case's (the demo list's are not)
    client, csrf = login(app, "rita")
    items = [e["id"] for e in client.get("/api/queue").get_json()["entries"]]
    plan = client.post("/api/decisions/accept-list", json={"list": "custom-list", "items": items},
                       headers={"X-CSRF-Token": csrf, **FRENCH}).get_json()
    reasons = {left["why"] for left in plan["left"]}
    assert reasons and all("--" not in why for why in reasons), reasons
    assert "la catégorie demo-A relève du schéma Personnalisé, pas de celui de cette affaire (Project VIC US (0–4))" \
        in reasons
    unknown = client.post("/api/decisions/accept-list", json={"list": "nope", "items": items},
                          headers={"X-CSRF-Token": csrf, **SPANISH})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == \
        "no hay ninguna lista de hashes llamada «nope» en este caso"
    # the command line keeps its English, with the option that decides in the list's scheme
    store = open_case(demo_case)
    try:
        left = plan_decisions(ReviewTables(store), Selection(list_name="custom-list"), None, None).left
        assert any(why == "category demo-A is of scheme custom, not projectvic-us (--scheme custom to decide in "
                          "that scheme)" for _, why in left)
        with pytest.raises(SelectionError, match=re.escape("(see `vigie hashlist list`)")):
            plan_decisions(ReviewTables(store), Selection(list_name="nope"), None, None)
    finally:
        store.close()


def test_a_refused_password_change_reads_as_a_sentence(app: Any) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    answer = client.post("/password", headers=FRENCH, data={
        "csrf_token": csrf, "current_password": "not it at all", "new_password": "a new one, long enough",
        "repeat_password": "a new one, long enough"})
    assert answer.status_code == 400
    assert '<p class="error" role="alert">Le mot de passe actuel est incorrect.</p>' in answer.get_data(as_text=True)
    same = client.post("/password", headers=SPANISH, data={
        "csrf_token": csrf, "current_password": PASSWORD, "new_password": PASSWORD, "repeat_password": PASSWORD})
    assert "Elija una contraseña distinta de la actual." in same.get_data(as_text=True)


def test_the_audit_log_shows_phrases_and_labelled_fields_and_keeps_its_codes(app: Any,  # noqa: F811
                                                                             demo_case: Path) -> None:
    client, csrf = login(app, "rita")
    item = _first(client)
    client.post("/api/decisions", json={"item": item, "category": "1", "ai_tags": ["ai-generated"]},
                headers={"X-CSRF-Token": csrf})
    shown = client.get("/api/audit", headers=FRENCH).get_json()
    decision = next(e for e in shown["entries"] if e["action"] == "categorise")
    fields = dict(decision["fields"])
    assert decision["what"] == "catégorisation"
    assert fields["catégorie"] == "1 — Matériel d'abus sexuel sur enfant"
    assert fields["Étiquettes IA"] == "Généré par IA" and fields["s'applique à"] == "toute la pile"
    assert fields["schéma de catégories"] == "Project VIC US (0–4)"
    scan = next(e for e in shown["entries"] if e["action"] == "scan")
    assert scan["what"] == "analyse" and dict(scan["fields"])["état"] == "terminé"
    assert next(e for e in shown["entries"] if e["action"] == "login")["what"] == "connexion"
    spanish = client.get("/api/audit", headers=SPANISH).get_json()["entries"]
    assert next(e for e in spanish if e["action"] == "categorise")["what"] == "categorización"
    # the log is as it was written: codes, JSON details, an intact chain
    store = open_case(demo_case)
    try:
        stored = {e.seq: (e.action, e.details, e.hash) for e in store.audit_entries()}
    finally:
        store.close()
    assert all(stored[e["seq"]] == (e["action"], e["details"], e["hash"]) for e in shown["entries"])
    assert shown["check"]["ok"]
    # the item's history, in the panel, the same way (without the item ids and digests it names)
    history = client.get(f"/api/items/{item}", headers=FRENCH).get_json()["history"]
    assert history[-1]["what"] == "catégorisation" and "éléments" not in dict(history[-1]["fields"])


def test_the_item_panel_names_the_hash_columns(app: Any) -> None:  # noqa: F811
    client, _ = login(app, "rita")
    detail = client.get(f"/api/items/{_first(client)}", headers=SPANISH).get_json()
    assert detail["hash_names"] == {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "pdq": "PDQ",
                                    "pdq_quality": "calidad PDQ"}


def test_the_servers_gate_refuses_in_the_users_language(server_app: Any) -> None:  # noqa: F811
    stranger = server_app.test_client()
    assert stranger.get("/cases/harbour/api/me", headers=FRENCH).get_json() == {"error": "connectez-vous d'abord"}
    rita = server_log_in(server_app, "rita")
    for name in ("orchard", "nowhere"):  # one she may not open, one that does not exist: the same answer
        assert rita.get(f"/cases/{name}/api/me", headers=SPANISH).get_json() == {"error": "no encontrado"}
    wrong = stranger.get("/login", headers={"Host": "example.org", **FRENCH})
    assert wrong.status_code == 421 and wrong.get_data(as_text=True).startswith("Cette console ne répond qu'à")


def test_the_reports_counts_take_their_grammatical_number(demo_case: Path) -> None:
    """The demo holds one video and one queue entry decided here: "1 vidéo", not "1 vidéos"."""
    store = open_case(demo_case)
    try:
        ReviewTables(store).decide("rita", [int(store.db.execute("SELECT min(id) FROM items").fetchone()[0])],
                                   Decision("projectvic-us", "1"), "stack")
        french = html.unescape(render(store, "html", lang=language("fr")))
        spanish = html.unescape(run_export(store, "rita", "case-report", language="es").content.decode())
    finally:
        store.close()
    assert "<b>1</b>vidéo</div>" in french and "<b>29</b>éléments</div>" in french
    assert "<b>1</b>vídeo</div>" in spanish and "entrada de la cola decidida</div>" in spanish
    assert "<b>1</b>archivo distinto categorizado</div>" in spanish


def test_how_a_copy_was_altered_is_named_in_the_readers_language(app: Any, demo_case: Path) -> None:  # noqa: F811
    """The demo's altered copies were found mirrored, rotated and with a border cut: the variant is named, in
    the item panel and in the HTML report, not shown as its code."""
    client, _ = login(app, "rita")
    store = open_case(demo_case)
    items = [row[0] for row in store.db.execute("SELECT DISTINCT item_id FROM matches")]
    store.close()
    labels = {m["variant"]: m["variant_label"] for item in items
              for m in client.get(f"/api/items/{item}", headers=FRENCH).get_json()["matches"]}
    assert labels["mirror-left-right"] == "retourné de gauche à droite"
    assert labels["rotate-90-clockwise"] == "tourné de 90° dans le sens horaire"
    assert labels["uncropped-3.0%+original"] == "bordure de 3.0% restituée"
    store = open_case(demo_case)
    try:
        page = html.unescape(render(store, "html", lang=language("es")))
    finally:
        store.close()
    assert "pdq (reflejado de izquierda a derecha)" in page and "mirror-left-right" not in page


def test_a_broken_log_is_explained_in_the_readers_language(app: Any, demo_case: Path) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    item = _first(client)
    decided = client.post("/api/decisions", json={"item": item, "category": "1"}, headers={"X-CSRF-Token": csrf})
    store = open_case(demo_case)
    with store.transaction():
        store.db.execute("UPDATE reviews SET category = '3' WHERE item_id = ?", (item,))  # edited by hand
    check = store.verify_audit()
    store.close()
    seq = decided.get_json()["audit_seq"]
    english = f"item {item}: decision category is '3' in the reviews table, '1' in the log (entry {seq})"
    assert english in check.problems  # what `vigie audit verify` prints
    problems = client.get("/api/audit", headers=FRENCH).get_json()["check"]["problems"]
    assert (f"élément {item} : le champ category de la décision vaut '3' dans la table des revues, '1' dans le "
            f"journal (entrée {seq})") in problems
    store = open_case(demo_case)
    try:
        report = html.unescape(run_export(store, "rita", "case-report", language="es").content.decode())
    finally:
        store.close()
    assert "el campo category de la decisión es '3' en la tabla de revisiones y '1' en el registro" in report


def test_the_login_pages_wait_takes_its_number(demo_case: Path) -> None:
    """One second is "1 seconde", not "1 secondes"."""
    class OneSecond(LoginThrottle):  # the throttle's own timing is tested elsewhere: here, its one-second answer
        def begin(self, address: str, username: str) -> int:
            return 1

    browser = create_app(demo_case, Settings(workers=1), throttle=OneSecond()).test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    answer = browser.post("/login", data={"username": "rita", "password": "nope", "login_token": token},
                          headers=FRENCH)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "1"
    assert "Réessayez dans 1 seconde." in answer.get_data(as_text=True)


def test_where_an_item_could_not_be_read_is_named_the_message_is_kept(app: Any, demo_case: Path) -> None:  # noqa: F811
    """The stage an error is recorded against is translated; the message, recorded at the scan, is data."""
    store = open_case(demo_case)
    item = store.db.execute("SELECT item_id FROM item_errors WHERE stage = 'read'").fetchone()[0]
    french = html.unescape(render(store, "html", lang=language("fr")))
    store.close()
    assert "lecture : empty file (zero bytes)" in french
    client, _ = login(app, "rita")
    errors = client.get(f"/api/items/{item}", headers=SPANISH).get_json()["errors"]
    assert [(e["stage"], e["stage_label"], e["message"]) for e in errors] == [
        ("read", "lectura", "empty file (zero bytes)")]


def test_the_kind_of_an_ai_finding_is_named_its_evidence_text_kept(app: Any, demo_case: Path) -> None:  # noqa: F811
    client, _ = login(app, "rita")
    item = _first(client)
    store = open_case(demo_case)
    with store.transaction():
        store.db.execute("INSERT INTO item_findings(item_id, kind, detail, value, strength) VALUES "
                         "(?, 'generator-metadata', 'PNG parameters names the generator', 'null', 'deterministic')",
                         (item,))
    store.close()
    signals = client.get(f"/api/items/{item}", headers=FRENCH).get_json()["ai"]["signals"]
    assert {(s["kind"], s["kind_label"], s["detail"]) for s in signals} >= {
        ("generator-metadata", "métadonnées du générateur", "PNG parameters names the generator")}


def test_a_claims_end_reads_as_the_console_says_it() -> None:
    from vigie.records import AuditEntry
    from vigie.web.audit_view import shown_entry

    entry = AuditEntry(seq=4, at="2026-12-01T03:54:03+00:00", actor="ana", action="claim",
                       details={"items": [3], "until": "2026-12-01T04:54:03.486129+00:00"}, prev_hash="", hash="")
    assert shown_entry(entry, language("es"))["fields"][-1] == ["hasta", "2026-12-01 04:54 UTC"]


def test_a_scan_found_interrupted_reads_so_in_the_log() -> None:
    from vigie.records import AuditEntry
    from vigie.web.audit_view import shown_entry

    entry = AuditEntry(seq=9, at="2026-12-02T06:00:00+00:00", actor="ana", action="scan", prev_hash="", hash="",
                       details={"scan_id": 1, "paths": ["/ev"], "status": "interrupted", "noticed_by_scan": 2})
    assert shown_entry(entry, language("fr"))["fields"][-2:] == [["état", "interrompu"],
                                                                 ["trouvée interrompue par l'analyse", "2"]]
