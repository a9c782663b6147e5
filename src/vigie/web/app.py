"""The console application: login and sessions, the page shell, and the hooks every request goes through.
API routes are in api.py, image and video routes in media.py."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request

from vigie.config import Settings
from vigie.i18n import N_
from vigie.store.accounts import AccountError, Accounts, new_password
from vigie.store.sqlite import SqliteCaseStore, open_case
from vigie.vocabulary import ADMIN
from vigie.web import language
from vigie.web.hosts import AllowedHosts
from vigie.web.roles import AccountStore
from vigie.web.security import COMMON_HEADERS, CONSOLE_CSP, REPORT_CSP, LoginThrottle, same_token

SESSION_COOKIE = "vigie_session"
LOGIN_COOKIE = "vigie_login"  # ties the login form to the browser that loaded it
# Under TLS: Secure cookies, and prefixes a browser enforces (__Host-: this origin only, never a Domain).
TLS_SESSION_COOKIE = "__Host-vigie_session"
TLS_LOGIN_COOKIE = "__Secure-vigie_login"  # __Host- would need Path=/, and this one is scoped to /login
WRONG_HOST = N_("This console answers only at the address it was started on (vigie serve --allowed-host adds names).")
PUBLIC_ENDPOINTS = {"login_page", "login", "static"}
# All an account whose password was made for it may do before it chooses its own
PASSWORD_ENDPOINTS = {"password_page", "change_password", "logout", "static"}
MUST_CHANGE = N_("change your password first")
LOG_IN_FIRST = N_("log in first")
NOT_FOUND = N_("not found")


def shell_app(open_request: Callable[[], None], throttle: LoginThrottle | None = None,
              secure_cookies: bool = False) -> Flask:
    """What the console of a case and the server of many cases share: the login, the sessions, the password
    change, and the hooks every request goes through. `open_request` sets the request's `g.store` and
    `g.accounts`. It answers the loopback names on any port until whoever serves it sets VIGIE_ALLOWED_HOSTS to
    the address it listens on (vigie.web.serving does); `secure_cookies` under TLS."""
    here = Path(__file__).parent
    app = Flask("vigie.web", static_folder=str(here / "static"), template_folder=str(here / "templates"))
    app.config.update(MAX_CONTENT_LENGTH=1024 * 1024,
                      VIGIE_ALLOWED_HOSTS=AllowedHosts.loopback(), VIGIE_SECURE_COOKIES=secure_cookies)
    login_throttle = throttle or LoginThrottle()
    session_cookie, login_cookie = cookie_names(secure_cookies)
    language.install(app)

    @app.before_request
    def open_store_and_session() -> Any:
        if not app.config["VIGIE_ALLOWED_HOSTS"].allows(request.headers.get("Host")):
            return wrong_host()
        open_request()
        token = request.cookies.get(session_cookie)
        g.session = g.accounts.session(token) if token else None
        g.language = language.choose(g.session.user.settings if g.session else None)
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if g.session is None:
            if request.path == "/" and request.method == "GET":
                return redirect("/login")
            return jsonify(error=language.said(LOG_IN_FIRST)), 401
        if request.method not in ("GET", "HEAD"):
            sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
            if not same_token(sent, g.session.csrf_token):
                return jsonify(error=language.said(N_("missing or wrong CSRF token; reload the page"))), 403
        if g.session.user.must_change and request.endpoint not in PASSWORD_ENDPOINTS:
            if request.path == "/" and request.method == "GET":
                return redirect("/password")
            return jsonify(error=language.said(MUST_CHANGE), must_change=True), 403
        return None

    @app.teardown_request
    def close_store(_: BaseException | None) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in COMMON_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(404)
    def not_found(_: Exception) -> Any:
        return jsonify(error=language.said(NOT_FOUND)), 404

    @app.errorhandler(405)
    def wrong_method(_: Exception) -> Any:
        return jsonify(error=language.said(N_("method not allowed"))), 405

    @app.errorhandler(413)
    def too_large(_: Exception) -> Any:
        return jsonify(error=language.said(N_("request too large"))), 413

    @app.get("/login")
    def login_page() -> Any:
        return _login_form()

    @app.post("/login")
    def login() -> Any:
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:1024]
        form_token = request.form.get("login_token", "")
        if not same_token(form_token, request.cookies.get(login_cookie, "")) or not form_token:
            return _login_form(language.gettext("The login form expired; try again."), 400)
        address = request.remote_addr or "unknown"
        wait = login_throttle.begin(address, username)
        if wait:
            refused = _login_form(language.current().ngettext(
                "Too many failed logins. Try again in %(wait)s second.",
                "Too many failed logins. Try again in %(wait)s seconds.", wait) % {"wait": wait}, 429)
            refused.headers["Retry-After"] = str(wait)
            return refused
        started = g.accounts.log_in(username, password, address)
        if started is None:
            return _login_form(language.gettext("Wrong user name or password."), 401)
        login_throttle.succeeded(address, username)
        token, _ = started
        response: Any = redirect("/")
        response.set_cookie(session_cookie, token, httponly=True, samesite="Strict", path="/", secure=secure_cookies)
        response.delete_cookie(login_cookie, path="/login", secure=secure_cookies)
        return response

    @app.post("/logout")
    def logout() -> Any:
        g.accounts.end_session(g.session)
        response = redirect("/login")
        response.delete_cookie(session_cookie, path="/", secure=secure_cookies)
        return response

    @app.get("/password")
    def password_page() -> Any:
        return _password_form()

    @app.post("/password")
    def change_password() -> Any:
        new = request.form.get("new_password", "")[:1024]
        if new != request.form.get("repeat_password", "")[:1024]:
            return _password_form(language.gettext("The two new passwords differ."), 400)
        try:
            g.accounts.change_password(g.session, request.form.get("current_password", "")[:1024], new)
        except AccountError as exc:
            return _password_form(language.sentence(language.said(language.message_of(exc))), 400)
        return redirect("/")

    return app


def create_app(case_dir: Path, settings: Settings, throttle: LoginThrottle | None = None,
               secure_cookies: bool = False, accounts_for: Callable[[SqliteCaseStore], AccountStore] = Accounts,
               case_name: str | None = None) -> Flask:
    """The console for one case, with the case's own accounts, or those `accounts_for` gives it (a server's)."""

    def open_store_and_accounts() -> None:
        g.store = open_case(app.config["VIGIE_CASE"])
        g.accounts = accounts_for(g.store)

    app = shell_app(open_store_and_accounts, throttle, secure_cookies)
    app.config.update(VIGIE_CASE=Path(case_dir), VIGIE_SETTINGS=settings,
                      VIGIE_CASE_NAME=case_name or Path(case_dir).resolve().name)

    @app.get("/")
    def console() -> Any:
        # `root`: where this console is under a server of many cases (/cases/NAME), for its own links
        return render_template("console.html", user=g.session.user, csrf_token=g.session.csrf_token,
                               case_name=app.config["VIGIE_CASE_NAME"], root=request.script_root,
                               lang=g.language.code, catalogue=g.language.script_catalogue())

    @app.get("/report")
    def case_report() -> Any:
        from vigie.exports.run import run_export

        export = run_export(g.store, g.session.user.username, "case-report", destination="console",
                            language=g.language.code)
        response = Response(export.content, mimetype="text/html")
        response.headers["Content-Security-Policy"] = REPORT_CSP
        return response

    from vigie.web.api import ItemIdConverter, api
    from vigie.web.media import media

    app.url_map.converters["int"] = ItemIdConverter
    app.register_blueprint(api)
    app.register_blueprint(media)
    return app


def wrong_host() -> Response:
    """A request to a name the server was not started on, refused in the browser's language."""
    return Response(language.choose(None).gettext(WRONG_HOST) + "\n", 421, mimetype="text/plain")


def cookie_names(secure: bool) -> tuple[str, str]:
    return (TLS_SESSION_COOKIE, TLS_LOGIN_COOKIE) if secure else (SESSION_COOKIE, LOGIN_COOKIE)


def _login_form(message: str | None = None, status: int = 200) -> Response:
    secure = current_app.config["VIGIE_SECURE_COOKIES"]
    login_cookie = cookie_names(secure)[1]
    # reuse the browser's token, so a second tab or a reload does not void a form already shown
    token = request.cookies.get(login_cookie) or secrets.token_urlsafe(24)
    response = Response(render_template("login.html", message=message, login_token=token,
                                        lang=language.current().code), status=status)
    response.set_cookie(login_cookie, token, httponly=True, samesite="Strict", path="/login", max_age=3600,
                        secure=secure)
    return response


def _password_form(message: str | None = None, status: int = 200) -> Response:
    return Response(render_template("password.html", message=message, user=g.session.user,
                                    csrf_token=g.session.csrf_token, lang=g.language.code), status=status)


def ensure_admin(case_dir: Path, actor: str = "vigie serve") -> str | None:
    """Create the first admin account of a case (audited under `actor`, the examiner who starts the console);
    returns its one-time password, or None when accounts exist."""
    store = open_case(case_dir)
    try:
        return first_admin(Accounts(store), actor)
    finally:
        store.close()


def first_admin(accounts: AccountStore, actor: str) -> str | None:
    """`admin` with a one-time password (returned), where the accounts hold no user yet; else None."""
    if accounts.has_users():
        return None
    password = new_password()
    accounts.create_user("admin", password, ADMIN, actor=actor, must_change=True)
    return password
