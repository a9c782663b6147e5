"""A team on one server (`vigie serve --cases DIR`), through Flask's test client: the server's own accounts file
and its hash-chained log, the case list, each case's console under /cases/NAME/ behind its access list, the
first-start password that must be changed, and disabled accounts."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from tests.test_console_hardening import fail_reveal_audits
from vigie.cli import main
from vigie.config import Settings
from vigie.store.accounts import AccountError, Accounts
from vigie.store.server import SERVER_DB_NAME, ServerStore, case_names
from vigie.store.sqlite import open_case
from vigie.web import serving
from vigie.web.security import LoginThrottle
from vigie.web.server import create_server_app, ensure_server_admin

PASSWORD = "correct horse battery"


@pytest.fixture
def folder(demo_build: Path, tmp_path: Path) -> Path:
    """Two copies of the demo case, a folder that is no case, and the server's accounts: rita reviews harbour,
    olga reads harbour, nobody but the admin opens orchard."""
    root = tmp_path / "cases"
    for name in ("harbour", "orchard"):
        shutil.copytree(demo_build / "case", root / name)
    (root / "notes").mkdir()
    root.joinpath("first-password").write_text(str(ensure_server_admin(root)))
    server = ServerStore(root)
    accounts = Accounts(server)
    for name, role in (("rita", "reviewer"), ("olga", "read-only")):
        accounts.create_user(name, PASSWORD, role, actor="test")
    server.grant("rita", "harbour", "reviewer", "test")
    server.grant("olga", "harbour", "read-only", "test")
    server.close()
    return root


@pytest.fixture
def app(folder: Path) -> Any:
    return create_server_app(folder, throttle=LoginThrottle(free_failures=3, base_delay=60))


def log_in(app: Any, username: str, password: str = PASSWORD) -> FlaskClient:
    client: FlaskClient = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    response = client.post("/login", data={"username": username, "password": password, "login_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]


def test_the_server_file_keeps_accounts_and_a_hash_chained_log(folder: Path) -> None:
    assert (folder / SERVER_DB_NAME).is_file()
    assert case_names(folder) == ["harbour", "orchard"]  # `notes` holds no case
    assert ensure_server_admin(folder) is None  # the first admin is made once
    server = ServerStore(folder)
    actions = [(e.actor, e.action, e.details) for e in server.audit_page(None, 100)][::-1]
    assert actions[:2] == [("vigie serve", "audit-rule", {"rule": 2, "from_seq": 1}),  # who started the server
                           ("vigie serve", "server-create", {"folder": str(folder)})]
    assert ("vigie serve", "user-create", {"user": "admin", "role": "admin"}) in actions
    assert ("test", "case-grant", {"user": "rita", "case": "harbour", "role": "reviewer"}) in actions
    assert server.verify_audit().ok
    # an edit made behind Vigie's back breaks the chain
    server.db.execute("DROP TRIGGER audit_log_no_update")
    server.db.execute("UPDATE audit_log SET details = '{\"case\": \"orchard\", \"role\": \"admin\", \"user\": "
                      "\"rita\"}' WHERE action = 'case-grant' AND details LIKE '%rita%'")
    check = server.verify_audit()
    assert not check.ok and "edited" in check.problems[0]
    server.close()


def test_the_case_list_shows_only_the_cases_an_account_may_open(app: Any, folder: Path) -> None:
    rita = log_in(app, "rita")
    page = rita.get("/").get_data(as_text=True)
    assert 'href="/cases/harbour/"' in page and "orchard" not in page and "notes" not in page
    console = rita.get("/cases/harbour/")
    assert console.status_code == 200
    html = console.get_data(as_text=True)
    assert "<title>harbour — Vigie review</title>" in html and 'id="case-name"' in html
    assert 'data-root="/cases/harbour"' in html and 'action="/cases/harbour/logout"' in html
    # the console's API answers under its prefix, as rita with her role in this case
    me = rita.get("/cases/harbour/api/me").get_json()
    assert (me["user"], me["role"]) == ("rita", "reviewer")
    server = ServerStore(folder)
    server.grant("rita", "orchard", "read-only", "test")
    server.close()
    assert 'href="/cases/orchard/"' in rita.get("/").get_data(as_text=True)
    assert rita.get("/cases/orchard/api/me").get_json()["role"] == "read-only"


def test_a_case_an_account_may_not_open_answers_as_one_that_does_not_exist(app: Any, folder: Path) -> None:
    rita = log_in(app, "rita")
    harbour = rita.get("/cases/harbour/api/me").get_json()
    csrf = harbour["csrf_token"]
    item = rita.get("/cases/harbour/api/queue").get_json()["entries"][0]["id"]
    console = app.wsgi_app.console("harbour")  # every route of a case's console
    checked = 0
    for rule in console.url_map.iter_rules():
        path = re.sub(r"<int:\w+>", str(item), rule.rule)
        path = re.sub(r"<path:\w+>", "console.js", path)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            answers = [(rita.open(f"/cases/{name}{path}", method=method, headers={"X-CSRF-Token": csrf}),
                        name) for name in ("orchard", "nowhere", "notes", "..")]
            for answer, name in answers:
                assert answer.status_code == 404, (method, path, name, answer.status_code)
                assert answer.get_json() == {"error": "not found"}
                assert b"orchard" not in answer.data and b"sha256" not in answer.data
            checked += 1
    assert checked >= 20
    # nor does anyone logged out learn which cases exist
    stranger = app.test_client()
    for path in ("/", "/api/me", "/media/1/thumb"):
        seen = {(r.status_code, r.headers.get("Location"), r.data)
                for r in (stranger.get(f"/cases/{name}{path}") for name in ("harbour", "nowhere"))}
        assert len(seen) == 1, (path, seen)
    assert stranger.get("/cases/harbour/").headers["Location"].endswith("/login")
    # the clear image: only for the session and the case it was revealed in
    assert rita.post(f"/cases/harbour/api/items/{item}/reveal", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert rita.get(f"/cases/harbour/media/{item}/full").status_code == 200
    admin_server = ServerStore(folder)
    admin_server.grant("rita", "orchard", "reviewer", "test")
    admin_server.close()
    assert rita.get(f"/cases/orchard/media/{item}/full").status_code == 403


def test_decisions_and_reveals_are_audited_in_the_case_under_the_server_account(app: Any, folder: Path) -> None:
    rita = log_in(app, "rita")
    csrf = rita.get("/cases/harbour/api/me").get_json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    item = rita.get("/cases/harbour/api/queue").get_json()["entries"][0]["id"]
    reveal = rita.post(f"/cases/harbour/api/items/{item}/reveal", headers=headers).get_json()
    assert reveal["url"] == f"/cases/harbour/media/{item}/full"
    made = rita.post("/cases/harbour/api/decisions", json={"item": item, "category": "1"}, headers=headers)
    assert made.status_code == 200, made.get_json()
    store = open_case(folder / "harbour")
    last = [(e.actor, e.action) for e in store.audit_page(None, 2)]
    assert last == [("rita", "categorise"), ("rita", "reveal")]
    assert store.verify_audit().ok
    assert not Accounts(store).has_users()  # no account was made in the case
    store.close()
    # read-only in harbour: looks, does not decide
    olga = log_in(app, "olga")
    olga_csrf = olga.get("/cases/harbour/api/me").get_json()["csrf_token"]
    assert olga.post("/cases/harbour/api/decisions", json={"item": item, "category": "2"},
                     headers={"X-CSRF-Token": olga_csrf}).status_code == 403
    # the login is in the server's log, not the case's
    server = ServerStore(folder)
    assert ("rita", "login") in [(e.actor, e.action) for e in server.audit_page(None, 20)]
    server.close()


def test_a_reveal_the_case_log_cannot_record_shows_nothing(app: Any, folder: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rita = log_in(app, "rita")
    csrf = rita.get("/cases/harbour/api/me").get_json()["csrf_token"]
    item = rita.get("/cases/harbour/api/queue").get_json()["entries"][0]["id"]
    fail_reveal_audits(monkeypatch)
    refused = rita.post(f"/cases/harbour/api/items/{item}/reveal", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 503 and "audit" in refused.get_json()["error"]
    assert rita.get(f"/cases/harbour/media/{item}/full").status_code == 403
    assert rita.get("/cases/harbour/api/me").get_json()["revealed"] == 0


def test_the_first_start_password_must_be_changed_before_anything_else(app: Any, folder: Path) -> None:
    first = (folder / "first-password").read_text()
    admin = log_in(app, "admin", first)
    assert admin.get("/").headers["Location"] == "/password"
    assert admin.get("/cases/harbour/").headers["Location"] == "/password"
    refused = admin.get("/cases/harbour/api/me")
    assert refused.status_code == 403 and refused.get_json()["must_change"] is True
    page = admin.get("/password").get_data(as_text=True)
    assert 'id="must-change"' in page
    csrf = csrf_of(page)

    def change(current: str, new: str, repeat: str | None = None) -> Any:
        return admin.post("/password", data={"csrf_token": csrf, "current_password": current, "new_password": new,
                                             "repeat_password": new if repeat is None else repeat})

    assert change("not it at all", "a new admin password").status_code == 400
    assert change(first, "a new admin password", "another one entirely").status_code == 400
    assert change(first, "short").status_code == 400
    assert admin.get("/cases/harbour/api/me").status_code == 403  # still not changed
    done = change(first, "a new admin password")
    assert done.status_code == 302 and done.headers["Location"] == "/"
    listed = admin.get("/").get_data(as_text=True)
    assert 'href="/cases/harbour/"' in listed and 'href="/cases/orchard/"' in listed  # an admin opens every case
    assert admin.get("/cases/orchard/api/me").get_json()["role"] == "admin"
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    assert client.post("/login", data={"username": "admin", "password": first, "login_token": token}
                       ).status_code == 401  # the one-time password is gone
    server = ServerStore(folder)
    assert ("admin", "password-change") in [(e.actor, e.action) for e in server.audit_page(None, 20)]
    server.close()


def test_an_admin_makes_accounts_from_a_case_and_they_change_their_password_first(app: Any, folder: Path) -> None:
    server = ServerStore(folder)
    Accounts(server).set_password("admin", PASSWORD, "test")
    server.close()
    admin = log_in(app, "admin")
    csrf = admin.get("/cases/orchard/api/me").get_json()["csrf_token"]
    made = admin.post("/cases/orchard/api/admin/users", json={"username": "nina", "role": "reviewer"},
                      headers={"X-CSRF-Token": csrf}).get_json()
    nina = log_in(app, "nina", made["password"])
    assert nina.get("/").headers["Location"] == "/password"
    users = admin.get("/cases/orchard/api/admin/users").get_json()["users"]
    assert {"username": "nina", "role": "reviewer"} in users and all(u["username"] != "rita" for u in users)
    # a case admin who is no server admin makes no server account
    server = ServerStore(folder)
    server.grant("rita", "orchard", "admin", "test")
    server.close()
    rita = log_in(app, "rita")
    rita_csrf = rita.get("/cases/orchard/api/me").get_json()["csrf_token"]
    refused = rita.post("/cases/orchard/api/admin/users", json={"username": "zed"}, headers={"X-CSRF-Token": rita_csrf})
    assert refused.status_code == 400 and "server admin" in refused.get_json()["error"]
    refused = rita.post("/cases/orchard/api/admin/users/disable", json={"username": "nina"},
                        headers={"X-CSRF-Token": rita_csrf})
    assert refused.status_code == 400 and "server admin" in refused.get_json()["error"]
    # the server admin disables nina from a case's console: her session ends
    assert admin.post("/cases/orchard/api/admin/users/disable", json={"username": "nina"},
                      headers={"X-CSRF-Token": csrf}).get_json() == {"username": "nina", "disabled": True}
    assert nina.get("/password").status_code == 401


def test_an_admin_made_from_a_case_administers_that_case_only(app: Any, folder: Path) -> None:
    server = ServerStore(folder)
    Accounts(server).set_password("admin", PASSWORD, "test")
    server.close()
    admin = log_in(app, "admin")
    csrf = admin.get("/cases/orchard/api/me").get_json()["csrf_token"]
    made = admin.post("/cases/orchard/api/admin/users", headers={"X-CSRF-Token": csrf},
                      json={"username": "ella", "role": "admin", "password": PASSWORD})
    assert made.status_code == 201
    ella = log_in(app, "ella")
    assert ella.get("/cases/orchard/api/me").get_json()["role"] == "admin"
    assert ella.get("/cases/harbour/api/me").status_code == 404  # not every case: not a server admin
    ella_csrf = ella.get("/cases/orchard/api/me").get_json()["csrf_token"]
    refused = ella.post("/cases/orchard/api/admin/users/disable", json={"username": "admin"},
                        headers={"X-CSRF-Token": ella_csrf})
    assert refused.status_code == 400 and admin.get("/cases/orchard/api/me").status_code == 200

def test_a_disabled_account_is_logged_out_everywhere(app: Any, folder: Path) -> None:
    rita = log_in(app, "rita")
    assert rita.get("/cases/harbour/api/me").status_code == 200
    server = ServerStore(folder)
    Accounts(server).disable("rita", actor="admin")
    assert ("admin", "user-disable", {"user": "rita"}) in [
        (e.actor, e.action, e.details) for e in server.audit_page(None, 5)]
    server.close()
    assert rita.get("/cases/harbour/api/me").status_code == 401
    assert rita.get("/").headers["Location"] == "/login"
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    assert client.post("/login", data={"username": "rita", "password": PASSWORD, "login_token": token}
                       ).status_code == 401


def test_revoked_access_ends_at_the_next_request(app: Any, folder: Path) -> None:
    rita = log_in(app, "rita")
    assert rita.get("/cases/harbour/api/me").status_code == 200
    server = ServerStore(folder)
    server.revoke("rita", "harbour", "admin")
    server.close()
    assert rita.get("/cases/harbour/api/me").status_code == 404
    assert "harbour" not in rita.get("/").get_data(as_text=True)


# --- the command line --------------------------------------------------------------------------------


def _vigie(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def _password(output: str) -> str:
    return re.search(r"first login\): (\S+)", " ".join(output.split()))[1]  # type: ignore[index]


def test_the_servers_log_of_account_changes_is_printed_and_checked(folder: Path) -> None:
    granted = _vigie("--examiner", "Insp. Durand", "user", "grant", "rita", "orchard", "--cases", str(folder))
    assert granted.exit_code == 0
    shown = _vigie("user", "log", "--cases", str(folder), "--json")
    assert shown.exit_code == 0, shown.output
    entries = [json.loads(line) for line in shown.stdout.splitlines()]
    assert (entries[-1]["actor"], entries[-1]["action"], entries[-1]["details"]) == (
        "Insp. Durand", "case-grant", {"case": "orchard", "role": "reviewer", "user": "rita"})
    assert "hash chain intact" in shown.stderr
    server = ServerStore(folder)
    server.db.execute("DROP TRIGGER audit_log_no_update")
    server.db.execute("UPDATE audit_log SET actor = 'someone else' WHERE action = 'case-grant'")
    server.close()
    assert _vigie("user", "log", "--cases", str(folder)).exit_code == 3

def test_user_commands_manage_the_servers_accounts_under_the_examiners_name(folder: Path) -> None:
    made = _vigie("--examiner", "Insp. Durand", "user", "add", "nina", "--cases", str(folder))
    assert made.exit_code == 0, made.output
    assert "vigie user grant nina CASE" in " ".join(made.output.split())
    assert _vigie("user", "grant", "nina", "orchard", "--cases", str(folder), "--role", "read-only",
                  env={"VIGIE_EXAMINER": "Sgt. Ruiz"}).exit_code == 0
    missing = _vigie("user", "grant", "nina", "nowhere", "--cases", str(folder))
    assert missing.exit_code == 2 and "no case 'nowhere'" in missing.output
    listed = _vigie("user", "list", "--cases", str(folder))
    lines = {line.split()[0]: line for line in listed.output.splitlines()}
    assert "every case" in lines["admin"] and "must change password" in lines["admin"]
    assert lines["rita"].split()[1:] == ["reviewer", "active", "harbour", "(reviewer)"]
    assert "orchard (read-only)" in lines["nina"] and "must change password" in lines["nina"]
    ruiz = {"VIGIE_EXAMINER": "Sgt. Ruiz"}
    reset = _vigie("user", "password", "rita", "--cases", str(folder), env=ruiz)
    assert reset.exit_code == 0 and "must change password" in _vigie("user", "list", "--cases", str(folder)).output
    assert _vigie("user", "revoke", "nina", "orchard", "--cases", str(folder), env=ruiz).exit_code == 0
    assert _vigie("user", "disable", "nina", "--cases", str(folder), env=ruiz).exit_code == 0
    listed = _vigie("user", "list", "--cases", str(folder))
    assert "disabled" in listed.output and "hash chain intact" in listed.output
    server = ServerStore(folder)
    logged = [(e.actor, e.action) for e in server.audit_page(None, 5)][::-1]
    assert server.verify_audit().ok
    server.db.execute("DROP TRIGGER audit_log_no_delete")
    server.db.execute("DELETE FROM audit_log WHERE action = 'user-disable'")
    server.close()
    broken = _vigie("user", "list", "--cases", str(folder))
    assert broken.exit_code == 3 and "deleted" in broken.output
    assert logged == [("Insp. Durand", "user-create"), ("Sgt. Ruiz", "case-grant"), ("Sgt. Ruiz", "user-password"),
                      ("Sgt. Ruiz", "case-revoke"), ("Sgt. Ruiz", "user-disable")]


def test_a_server_account_made_on_the_command_line_changes_its_password_first(app: Any, folder: Path) -> None:
    made = _vigie("user", "add", "nina", "--cases", str(folder))
    nina = log_in(app, "nina", _password(made.output))
    assert nina.get("/").headers["Location"] == "/password"
    assert nina.get("/cases/harbour/api/me").get_json()["must_change"] is True


def test_case_accounts_keep_working_with_case(demo_case: Path) -> None:
    from vigie.web.app import create_app, ensure_admin

    first = ensure_admin(demo_case)
    assert first is not None
    made = _vigie("user", "add", "rita", "--case", str(demo_case))
    assert made.exit_code == 0, made.output
    listed = _vigie("user", "list", "--case", str(demo_case)).output
    assert "rita" in listed and "must change password" in listed and "every case" not in listed
    console = create_app(demo_case, Settings(workers=1))
    rita = log_in(console, "rita", _password(made.output))
    assert rita.get("/").headers["Location"] == "/password"
    refused = rita.get("/api/queue")
    assert refused.status_code == 403 and refused.get_json()["must_change"] is True
    page = rita.get("/password").get_data(as_text=True)
    changed = rita.post("/password", data={"csrf_token": csrf_of(page), "current_password": _password(made.output),
                                           "new_password": PASSWORD, "repeat_password": PASSWORD})
    assert changed.status_code == 302
    html = rita.get("/").get_data(as_text=True)
    assert f"<title>{demo_case.name} — Vigie review</title>" in html and 'data-root=""' in html
    assert rita.get("/api/queue").status_code == 200
    assert _vigie("user", "disable", "rita", "--case", str(demo_case)).exit_code == 0
    assert rita.get("/api/queue").status_code == 401
    both = _vigie("user", "list", "--case", str(demo_case), "--cases", str(demo_case.parent))
    assert both.exit_code == 2 and "not both" in both.output
    assert _vigie("user", "grant", "rita", "x", "--case", str(demo_case)).exit_code == 2
    store = open_case(demo_case)
    assert store.audit_page(None, 1)[0].action == "user-disable"
    store.close()


def test_an_admin_does_not_disable_their_own_account_from_the_command_line_either(tmp_path: Path) -> None:
    case = tmp_path / "case"
    store = open_case(case, create=True)
    Accounts(store).create_user("ada", PASSWORD, "admin", actor="test")
    with pytest.raises(AccountError, match="an admin does not disable their own account"):
        Accounts(store).disable("ada", actor="ada")
    store.close()
    refused = _vigie("user", "disable", "ada", "--case", str(case), env={"VIGIE_EXAMINER": "ada"})
    assert refused.exit_code != 0 and "an admin does not disable their own account" in refused.output
    store = open_case(case)
    assert Accounts(store).authenticate("ada", PASSWORD) is not None
    assert "user-disable" not in [entry.action for entry in store.audit_entries()]
    store.close()
    assert _vigie("user", "disable", "ada", "--case", str(case), env={"VIGIE_EXAMINER": "ruiz"}).exit_code == 0


def test_an_admin_disables_an_account_from_the_console_of_one_case(demo_case: Path) -> None:
    from vigie.web.app import create_app

    store = open_case(demo_case)
    accounts = Accounts(store)
    accounts.create_user("ada", PASSWORD, "admin", actor="test")
    accounts.create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    console = create_app(demo_case, Settings(workers=1))
    ada, rita = log_in(console, "ada"), log_in(console, "rita")
    csrf = ada.get("/api/me").get_json()["csrf_token"]
    rita_csrf = rita.get("/api/me").get_json()["csrf_token"]
    assert rita.post("/api/admin/users/disable", json={"username": "ada"},
                     headers={"X-CSRF-Token": rita_csrf}).status_code == 403
    own = ada.post("/api/admin/users/disable", json={"username": "ada"}, headers={"X-CSRF-Token": csrf})
    assert (own.status_code, own.get_json()["error"]) == (400, "an admin does not disable their own account")
    assert ada.post("/api/admin/users/disable", json={"username": "nobody"},
                    headers={"X-CSRF-Token": csrf}).status_code == 400
    assert ada.post("/api/admin/users/disable", json={"username": "rita"},
                    headers={"X-CSRF-Token": csrf}).status_code == 200
    assert rita.get("/api/me").status_code == 401
    store = open_case(demo_case)
    assert (store.audit_page(None, 1)[0].actor, store.audit_page(None, 1)[0].action) == ("ada", "user-disable")
    store.close()


@pytest.mark.parametrize("many", [True, False])
def test_the_first_admin_is_made_under_the_examiners_name(demo_build: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, many: bool) -> None:
    real = serving.start_console
    monkeypatch.setattr(serving, "start_console", lambda *args: replace(real(*args), run=lambda: None))  # bound, closed
    folder = tmp_path / "cases"
    shutil.copytree(demo_build / "case", folder / "harbour")
    where = ["--cases", str(folder)] if many else ["--case", str(folder / "harbour")]
    started = _vigie("--examiner", "Insp. Durand", "serve", *where, "--port", "0")
    assert started.exit_code == 0, started.output
    assert ("the 1 case under" in started.output) == many
    store = ServerStore(folder) if many else open_case(folder / "harbour")
    made = [(e.actor, e.action) for e in store.audit_entries() if e.action in ("server-create", "user-create")]
    store.close()
    assert made == ([("Insp. Durand", "server-create")] if many else []) + [("Insp. Durand", "user-create")]

def test_the_command_line_says_what_is_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = _vigie("serve", "--cases", str(empty), "--port", "0")
    assert refused.exit_code == 1 and "no case under" in refused.output
    assert not (empty / SERVER_DB_NAME).exists()
    neither = _vigie("serve")
    assert neither.exit_code == 2 and "--cases DIR" in neither.output
    no_server = _vigie("user", "add", "rita", "--cases", str(empty))
    assert no_server.exit_code == 1 and "vigie serve --cases" in " ".join(no_server.output.split())
    assert not (empty / SERVER_DB_NAME).exists()
