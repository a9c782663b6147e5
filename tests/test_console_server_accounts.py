"""The server's accounts page (/accounts, `vigie serve --cases DIR`), through Flask's test client: a server admin
lists the accounts, adds one with a one-time password, gives one a new one-time password, disables one, lets one
open a case and stops it, each in the server's log under the admin's name; nobody else may, and every form post
carries the session's CSRF token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.test_console_server import PASSWORD, app, csrf_of, folder, log_in  # noqa: F401  (the fixtures)
from vigie.i18n import language
from vigie.store.accounts import AccountError, Accounts
from vigie.store.server import ServerStore


def _admin(app: Any, folder: Path) -> tuple[FlaskClient, str]:  # noqa: F811
    server = ServerStore(folder)
    Accounts(server).set_password("admin", PASSWORD, "test")
    server.close()
    client = log_in(app, "admin")
    page = client.get("/accounts")
    assert page.status_code == 200
    return client, csrf_of(page.get_data(as_text=True))


def _post(client: FlaskClient, csrf: str, **form: str) -> Any:
    return client.post("/accounts", data={"csrf_token": csrf, **form})


def _said(response: Any) -> str:
    found = re.search(r'<p id="said"[^>]*>([^<]*)</p>', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found[1]


def _account_changes(folder: Path) -> list[tuple[str, str]]:  # noqa: F811
    """Who changed which account in the server's log (logins left out), its chain checked."""
    server = ServerStore(folder)
    try:
        assert server.verify_audit().ok
        return [(e.actor, e.action) for e in server.audit_entries() if e.action.startswith(("user-", "case-"))]
    finally:
        server.close()


def test_a_server_admin_manages_accounts_from_the_accounts_page(app: Any, folder: Path) -> None:  # noqa: F811
    admin, csrf = _admin(app, folder)
    assert 'href="/accounts"' in admin.get("/").get_data(as_text=True)
    listed = admin.get("/accounts").get_data(as_text=True)
    assert all(f'data-user="{name}"' in listed for name in ("admin", "rita", "olga"))
    assert "harbour (reviewer)" in listed

    made = _post(admin, csrf, action="add", username="nina", role="reviewer")
    password = _said(made).rsplit(": ", 1)[1]
    nina = log_in(app, "nina", password)
    assert nina.get("/").headers["Location"] == "/password"  # the one-time password is changed first

    granted = _post(admin, csrf, action="grant", username="nina", case="orchard", role="")
    assert _said(granted) == "nina may open orchard as reviewer."  # the account's own role
    assert 'orchard (reviewer)' in granted.get_data(as_text=True)
    missing = _post(admin, csrf, action="grant", username="nina", case="nowhere", role="")
    assert missing.status_code == 400 and "no case &#39;nowhere&#39;" in missing.get_data(as_text=True)
    assert _said(_post(admin, csrf, action="revoke", username="nina", case="orchard")) == \
        "nina may no longer open orchard."

    rita = log_in(app, "rita")
    reset = _post(admin, csrf, action="password", username="rita")
    assert rita.get("/cases/harbour/api/me").status_code == 401  # her sessions ended
    rita = log_in(app, "rita", _said(reset).rsplit(": ", 1)[1])
    assert rita.get("/").headers["Location"] == "/password"

    assert _said(_post(admin, csrf, action="disable", username="nina")) == "Disabled nina; its sessions have ended."
    assert nina.get("/password").status_code == 401
    assert "disabled" in admin.get("/accounts").get_data(as_text=True)

    assert [action for actor, action in _account_changes(folder) if actor == "admin"] == [
        "user-create", "case-grant", "case-revoke", "user-password", "user-disable"]


def test_only_a_server_admin_with_the_csrf_token_changes_accounts(app: Any, folder: Path) -> None:  # noqa: F811
    admin, csrf = _admin(app, folder)
    before = _account_changes(folder)
    assert admin.post("/accounts", data={"action": "add", "username": "zed"}).status_code == 403  # no token
    assert _post(admin, "wrong", action="add", username="zed").status_code == 403
    for refused in ({"action": "disable", "username": "admin"}, {"action": "password", "username": "admin"},
                    {"action": "add", "username": "rita"}, {"action": "add", "username": "x", "role": "boss"},
                    {"action": "grant", "username": "ghost", "case": "orchard"}, {"action": "explode"}):
        assert _post(admin, csrf, **refused).status_code == 400, refused
    own = _post(admin, csrf, action="disable", username="admin").get_data(as_text=True)
    assert '<p id="refused" class="error" role="alert">an admin does not disable their own account</p>' in own

    rita = log_in(app, "rita")  # a reviewer, and a case admin who is no server admin: neither
    assert rita.get("/accounts").status_code == 403
    assert 'href="/accounts"' not in rita.get("/").get_data(as_text=True)
    rita_csrf = rita.get("/cases/harbour/api/me").get_json()["csrf_token"]
    assert _post(rita, rita_csrf, action="add", username="zed").status_code == 403
    server = ServerStore(folder)
    server.grant("rita", "orchard", "admin", "test")
    server.close()
    assert _post(rita, rita_csrf, action="password", username="olga").status_code == 403
    assert _account_changes(folder) == [*before, ("test", "case-grant")]  # the grant above, nothing else


def test_the_accounts_page_reads_as_french(app: Any, folder: Path) -> None:  # noqa: F811
    admin, csrf = _admin(app, folder)
    page = admin.get("/accounts", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Comptes" in page and "Nouveau compte" in page
    made = admin.post("/accounts", data={"csrf_token": csrf, "action": "add", "username": "nina"},
                      headers={"Accept-Language": "fr"})
    assert _said(made).startswith("Compte nina créé (analyste). Mot de passe à usage unique")


def test_the_accounts_pages_refusals_read_in_the_admins_language(app: Any, folder: Path) -> None:  # noqa: F811
    admin, csrf = _admin(app, folder)

    def refused(lang: str, **form: str) -> str:
        answer = admin.post("/accounts", data={"csrf_token": csrf, **form}, headers={"Accept-Language": lang})
        assert answer.status_code == 400, form
        found = re.search(r'<p id="refused"[^>]*>([^<]*)</p>', answer.get_data(as_text=True))
        assert found, answer.get_data(as_text=True)
        return found[1].replace("&#39;", "'")

    assert refused("fr", action="password", username="ghost") == "aucun utilisateur « ghost »"
    assert refused("es", action="grant", username="ghost", case="orchard") == "no existe el usuario «ghost»"
    nowhere = refused("fr", action="grant", username="rita", case="nowhere")
    assert nowhere.startswith("aucune affaire « nowhere » sous ") and "(affaires : harbour, orchard)" in nowhere
    assert refused("es", action="revoke", username="olga", case="orchard") == "«olga» no tiene acceso a «orchard»"
    assert refused("en", action="grant", username="rita", case="nowhere").startswith("no case 'nowhere' under ")


def test_a_grant_on_a_server_with_no_case_says_it_holds_none(tmp_path: Path) -> None:
    server = ServerStore(tmp_path, create=True)
    try:
        Accounts(server).create_user("rita", PASSWORD, "reviewer", "test")
        with pytest.raises(AccountError) as refused:
            server.grant_served("rita", "harbour", None, "admin")
    finally:
        server.close()
    assert str(refused.value).endswith(", which holds no case yet")
    assert language("es").say(refused.value.args[0]).endswith(", que aún no contiene ningún caso")  # not "ninguna"
