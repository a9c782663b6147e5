"""The server's accounts page (`vigie serve --cases DIR`, /accounts), for server admins: the accounts with their
role, state and cases; add one with a one-time password, give one a new one-time password, disable one, let one
open a case or stop it. Each is the function `vigie user` calls, audited in the server's log under the admin's
name; the form posts carry the session's CSRF token (checked before any request reaches a view)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, render_template, request

from vigie.i18n import N_
from vigie.store.accounts import AccountError, Accounts, new_password
from vigie.store.server import case_names
from vigie.vocabulary import ADMIN, NEW_ACCOUNT_ROLE, ROLES
from vigie.web import language

accounts_page = Blueprint("accounts_page", __name__)
# Here only, not in the domain: `vigie user password` is how an admin who forgot their own gets back in.
NOT_YOURSELF = {
    "password": N_("choose your own new password with Change password"),
}


@accounts_page.get("/accounts")
def accounts() -> Any:
    return _page()


@accounts_page.post("/accounts")
def change_account() -> Any:
    if g.session.user.role != ADMIN:
        return _refused()
    form, admin = request.form, g.session.user.username
    action, username = form.get("action", ""), form.get("username", "")[:64]
    try:
        if action in NOT_YOURSELF and username == admin:
            raise AccountError(NOT_YOURSELF[action])
        said = _act(action, username, form, admin)
    except AccountError as exc:
        return _page(error=language.said(language.message_of(exc)), status=400)  # a Phrase or N_, translated
    return _page(said=said)


def _act(action: str, username: str, form: Any, admin: str) -> str:
    """Do `action` under the admin's name; what to tell them (a one-time password is shown here only)."""
    accounts = Accounts(g.store)
    if action == "add":
        role = form.get("role", NEW_ACCOUNT_ROLE)
        password = new_password()
        accounts.create_user(username, password, role, actor=admin, must_change=True)
        return language.gettext("Created %(user)s (%(role)s). One-time password, shown once and changed at first "
                                "login: %(password)s", user=username, role=language.current().gettext(role),
                                password=password)
    if action == "password":
        password = new_password()
        accounts.set_password(username, password, actor=admin, must_change=True)
        return language.gettext("New one-time password for %(user)s, shown once and changed at first login (its "
                                "sessions have ended): %(password)s", user=username, password=password)
    if action == "disable":
        accounts.disable(username, actor=admin)
        return language.gettext("Disabled %(user)s; its sessions have ended.", user=username)
    case = form.get("case", "")
    if action == "grant":
        role = g.store.grant_served(username, case, form.get("role") or None, actor=admin)
        return language.gettext("%(user)s may open %(case)s as %(role)s.", user=username, case=case,
                                role=language.current().gettext(role))
    if action == "revoke":
        g.store.revoke(username, case, actor=admin)
        return language.gettext("%(user)s may no longer open %(case)s.", user=username, case=case)
    raise AccountError(N_("unknown action"))


def _page(said: str | None = None, error: str | None = None, status: int = 200) -> Response:
    user = g.session.user
    if user.role != ADMIN:
        return _refused()
    grants = g.store.grants()
    rows = [(account, grants.get(account.username, {})) for account in
            Accounts(g.store).users(include_disabled=True)]
    return Response(render_template(
        "accounts.html", user=user, csrf_token=g.session.csrf_token, lang=g.language.code, rows=rows,
        cases=case_names(g.store.case_dir), roles=ROLES, new_account_role=NEW_ACCOUNT_ROLE, admin=ADMIN,
        said=said, error=error), status=status)


def _refused() -> Response:
    message = language.gettext("your role (%(role)s) may not do this", role=g.session.user.role)
    return Response(message, 403, mimetype="text/plain")
