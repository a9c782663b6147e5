"""`vigie serve --cases DIR`: every case under a folder on one server. The server's accounts log in once (at
/login) and see the list of the cases they may open; each case's console answers under /cases/NAME/. Before any
request reaches a case, the gate checks the session and the account's access to the case: a case the account may
not open and a case that does not exist get the same 404."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, make_response, redirect, render_template, request

from vigie.config import load_settings
from vigie.store.accounts import Accounts
from vigie.store.server import ServerStore, case_names
from vigie.store.server_accounts import CaseAccounts
from vigie.store.sqlite import SqliteCaseStore
from vigie.vocabulary import ADMIN
from vigie.web import language
from vigie.web.accounts_page import accounts_page
from vigie.web.app import (
    LOG_IN_FIRST,
    MUST_CHANGE,
    NOT_FOUND,
    cookie_names,
    create_app,
    first_admin,
    shell_app,
    wrong_host,
)
from vigie.web.security import LoginThrottle

CASES_PREFIX = "/cases/"
_CASE_PATH = re.compile(r"/cases/([^/]*)(/.*)?", re.DOTALL)


def ensure_server_admin(folder: Path, actor: str = "vigie serve") -> str | None:
    """Make the server's file and its first admin account (audited under `actor`, the examiner who starts the
    server); returns the one-time password (to be changed at first login), or None when accounts exist."""
    server = ServerStore(folder, create=True, actor=actor)
    try:
        return first_admin(Accounts(server), actor)
    finally:
        server.close()


def create_server_app(folder: Path, throttle: LoginThrottle | None = None, secure_cookies: bool = False) -> Flask:
    """The server of the cases under `folder` (whose accounts file ensure_server_admin made)."""

    def open_server() -> None:
        g.store = ServerStore(folder)
        g.accounts = Accounts(g.store)

    app = shell_app(open_server, throttle, secure_cookies)
    app.config.update(VIGIE_CASES=folder)

    @app.get("/")
    def case_list() -> Any:
        cases = g.store.access(g.session.user, case_names(folder))
        return render_template("cases.html", user=g.session.user, csrf_token=g.session.csrf_token,
                               cases=sorted(cases.items()), lang=g.language.code,
                               server_admin=g.session.user.role == ADMIN)

    app.register_blueprint(accounts_page)

    app.wsgi_app = CaseDispatcher(app, folder, secure_cookies)  # type: ignore[method-assign]
    return app


class CaseDispatcher:
    """Sends /cases/NAME/... to the console of the case NAME (made at its first request), after the gate."""

    def __init__(self, app: Flask, folder: Path, secure_cookies: bool) -> None:
        self.app, self.folder, self.secure_cookies = app, folder, secure_cookies
        self.server_wsgi = app.wsgi_app
        self.session_cookie = cookie_names(secure_cookies)[0]
        self.consoles: dict[str, Flask] = {}
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        found = _CASE_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if found is None:
            return self.server_wsgi(environ, start_response)
        name, rest = found[1], found[2] or "/"
        with self.app.request_context(environ):
            refusal = self.gate(name, first_page=rest == "/")
            if refusal is not None:
                refusal = self.app.process_response(refusal)  # the security headers every answer carries
        if refusal is not None:
            return refusal(environ, start_response)
        console = self.console(name)
        console.config["VIGIE_ALLOWED_HOSTS"] = self.app.config["VIGIE_ALLOWED_HOSTS"]  # set once bound
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + CASES_PREFIX + name
        environ["PATH_INFO"] = rest
        return console(environ, start_response)

    def gate(self, name: str, first_page: bool) -> Response | None:
        """None when the request may reach the case; else the answer, the same for a case the account may not
        open as for one that does not exist."""
        if not self.app.config["VIGIE_ALLOWED_HOSTS"].allows(request.headers.get("Host")):
            return wrong_host()
        first_page = first_page and request.method == "GET"
        token = request.cookies.get(self.session_cookie)
        server = ServerStore(self.folder)
        try:
            session = Accounts(server).session(token) if token else None
            g.language = language.choose(session.user.settings if session else None)
            if session is None:
                return make_response(redirect("/login") if first_page
                                     else (jsonify(error=language.said(LOG_IN_FIRST)), 401))
            if session.user.must_change:
                return make_response(redirect("/password") if first_page else (
                    jsonify(error=language.said(MUST_CHANGE), must_change=True), 403))
            if name not in case_names(self.folder) or server.as_case_user(session.user, name) is None:
                return make_response(jsonify(error=language.said(NOT_FOUND)), 404)
            return None
        finally:
            server.close()

    def console(self, name: str) -> Flask:
        with self.lock:
            if name not in self.consoles:
                case = self.folder / name

                def accounts_for(store: SqliteCaseStore) -> CaseAccounts:
                    g.server = ServerStore(self.folder)  # closed with the request
                    return CaseAccounts(g.server, name, store)

                console = create_app(case, load_settings(case), secure_cookies=self.secure_cookies,
                                     accounts_for=accounts_for, case_name=name)
                console.teardown_request(_close_server)
                self.consoles[name] = console
            return self.consoles[name]


def _close_server(_: BaseException | None) -> None:
    server = g.pop("server", None)
    if server is not None:
        server.close()
