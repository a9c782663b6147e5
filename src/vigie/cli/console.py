"""`vigie serve` and `vigie user`: the review console and its accounts, those of one case (`--case`) or those of
a server of many cases (`--cases DIR`, kept in DIR/vigie-server.sqlite)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from vigie.cli.common import CaseLocation, _t, case_store, err, examiner, out, print_audit
from vigie.config import load_settings
from vigie.errors import VigieError
from vigie.store.accounts import Accounts, AccountsHome, User
from vigie.store.server import ServerStore, case_names
from vigie.vocabulary import ADMIN, NEW_ACCOUNT_ROLE, ROLES

if TYPE_CHECKING:
    from flask import Flask

optional_case_option = click.option(
    "--case", "case", type=CaseLocation(path_type=Path), envvar="VIGIE_CASE",
    help="Case folder, or a PostgreSQL case: postgresql://user@host/db?case=NAME (that case's own accounts). "
         "Also read from $VIGIE_CASE.",
)
cases_option = click.option(
    "--cases", "cases", type=click.Path(file_okay=False, path_type=Path),  # a missing folder: refused, exit 1
    help="A folder of cases served together (`vigie serve --cases DIR`), instead of --case: the server's own "
         "accounts, in DIR/vigie-server.sqlite.")


def case_or_cases(command: Callable[..., Any]) -> Callable[..., Any]:
    """--case C (that case's accounts) or --cases DIR (the server's); --case stays optional here."""
    return optional_case_option(cases_option(command))


def _one_of(case: Path | None, cases: Path | None) -> None:
    ctx = click.get_current_context()
    if cases is not None and case is not None and ctx.get_parameter_source("case") == ParameterSource.COMMANDLINE:
        raise click.UsageError("give --case C (one case) or --cases DIR (a server of cases), not both")
    if cases is None and case is None:
        raise click.UsageError("give --case C (one case) or --cases DIR (a server of cases)")


@contextlib.contextmanager
def _accounts_home(case: Path | None, cases: Path | None) -> Iterator[AccountsHome]:
    """Where the accounts are: the server's file under --cases, else the case."""
    _one_of(case, cases)
    if cases is not None:
        server = ServerStore(cases)
        try:
            yield server
        finally:
            server.close()
    else:
        assert case is not None
        with case_store(case) as store:
            yield store


def _server(cases: Path | None) -> ServerStore:
    if cases is None:
        raise click.UsageError("case access is for a server of cases: give --cases DIR")
    return ServerStore(cases)


@click.command()
@case_or_cases
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the loopback address unless TLS (--tls or a proxy) protects the way.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME[:PORT]",
              help="Also answer requests for this host name (any port unless given; repeatable). Others are "
                   "refused, which stops DNS rebinding.")
@click.option("--tls", is_flag=True,
              help="Serve HTTPS with a self-signed certificate made at first start and kept in the case "
                   "(console-tls/); cookies become Secure and __Host-.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your own certificate (PEM) instead of the self-signed one; implies --tls.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The private key (PEM) of --tls-cert.")
def serve(case: Path | None, cases: Path | None, host: str, port: int, threads: int, allowed_hosts: tuple[str, ...],
          tls: bool, tls_cert: Path | None, tls_key: Path | None) -> None:
    """Start the review console for a case, or for every case under a folder (--cases DIR).

    On first start it creates the account `admin` and prints a one-time password, which the admin
    changes at first login; the admin makes reviewer and read-only accounts in the console (Settings)
    or with `vigie user add`. With --cases, accounts are the server's: `vigie user grant` lets one open
    a case, whose console is at /cases/NAME/.
    """
    if (tls_cert is None) != (tls_key is None):
        raise VigieError("--tls-cert and --tls-key go together", 2)
    _one_of(case, cases)
    from vigie.web.hosts import AllowedHosts
    from vigie.web.serving import start_console
    from vigie.web.tls import TlsFiles, case_certificate, fingerprint

    secure = tls or tls_cert is not None
    app, password = _server_app(cases, secure) if cases else _case_app(case, secure)
    case = cases or case
    assert case is not None
    files, made = None, False
    if tls_cert and tls_key:
        files = TlsFiles(tls_cert, tls_key)
    elif tls:
        try:
            files, made = case_certificate(case, AllowedHosts.for_address(host, port, allowed_hosts).names())
        except OSError as exc:
            raise VigieError(f"cannot write the console's certificate in {case}: {exc}") from exc
    try:
        console = start_console(app, host, port, threads, allowed_hosts, files)
    except (OSError, ValueError) as exc:
        raise VigieError(f"cannot serve on {host}:{port}: {exc}") from exc
    # from here on, Ctrl+C at any moment closes the server (its threads would keep the process alive)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            count = len(case_names(case))
            served = f"the {count} case{'s' if count != 1 else ''} under {_t(case)}" if cases else _t(case)
            out.print(f"Vigie review console for {served} at [bold]{console.url}[/]", soft_wrap=True)
            for url in console.also:
                out.print(f"  and at [bold]{url}[/]", soft_wrap=True)
            if files is not None:
                made_note = f" (made now, kept in {files.cert.parent})" if made else ""
                out.print(f"TLS certificate SHA-256 fingerprint{made_note}:\n  {fingerprint(files.cert)}",
                          soft_wrap=True)
                out.print("Check that your browser shows this fingerprint before you accept the certificate.")
            if password:
                out.print(f"First start: log in as [bold]admin[/] with the one-time password [bold]{password}[/] "
                          "(you choose your own at first login)", soft_wrap=True)
            if files is None and host not in ("127.0.0.1", "::1", "localhost"):
                err.print("[yellow]warning:[/] listening beyond this machine without TLS; use --tls or a TLS proxy.")
            out.print("Stop with Ctrl+C.")
            console.run()
        finally:
            console.close()


def _case_app(case: Path | None, secure: bool) -> tuple[Flask, str | None]:
    from vigie.web.app import create_app, ensure_admin

    assert case is not None
    with case_store(case) as store:
        read_only = store.read_only
    if read_only:
        raise VigieError("the case folder is read-only: the console records every login, reveal and decision in the "
                         "case's audit log (verify, export and report work read-only)")
    password = ensure_admin(case, actor=examiner())
    return create_app(case, load_settings(case), secure_cookies=secure), password


def _server_app(cases: Path, secure: bool) -> tuple[Flask, str | None]:
    from vigie.web.server import create_server_app, ensure_server_admin

    if not case_names(cases):
        raise VigieError(f"no case under {cases}: each case is a folder `vigie scan` made (DIR/NAME/case.sqlite)")
    if not os.access(cases, os.W_OK):
        raise VigieError(f"{cases} is read-only: the server keeps its accounts there (vigie-server.sqlite)")
    password = ensure_server_admin(cases, actor=examiner())
    return create_server_app(cases, secure_cookies=secure), password


@click.group()
def user() -> None:
    """Console accounts: admin, reviewer, read-only; a case's own (--case) or a server's (--cases)."""


@user.command("add")
@click.argument("username")
@case_or_cases
@click.option("--role", type=click.Choice(ROLES), default=NEW_ACCOUNT_ROLE, show_default=True)
def user_add(username: str, case: Path | None, cases: Path | None, role: str) -> None:
    """Create an account and print its one-time password, changed at first login."""
    from vigie.store.accounts import new_password

    password = new_password()
    with _accounts_home(case, cases) as home:
        Accounts(home).create_user(username, password, role, actor=examiner(), must_change=True)
    out.print(f"Created {_t(username)} ({role}). Password (shown once, changed at first login): {password}",
              soft_wrap=True)
    if cases is not None and role != ADMIN:
        out.print(f"Let them open a case with `vigie user grant {_t(username)} CASE --cases {_t(cases)}`.",
                  soft_wrap=True)


@user.command("password")
@click.argument("username")
@case_or_cases
def user_password(username: str, case: Path | None, cases: Path | None) -> None:
    """Give an account a new one-time password (and end its sessions); prints it once."""
    from vigie.store.accounts import new_password

    password = new_password()
    with _accounts_home(case, cases) as home:
        Accounts(home).set_password(username, password, actor=examiner(), must_change=True)
    out.print(f"New password for {_t(username)} (shown once, changed at first login): {password}", soft_wrap=True)


@user.command("disable")
@click.argument("username")
@case_or_cases
def user_disable(username: str, case: Path | None, cases: Path | None) -> None:
    """Stop an account from logging in; its sessions end now."""
    with _accounts_home(case, cases) as home:
        Accounts(home).disable(username, actor=examiner())
    out.print(f"Disabled {_t(username)}; its sessions have ended.")


@user.command("list")
@case_or_cases
def user_list(case: Path | None, cases: Path | None) -> None:
    """The accounts, their role and state, and (--cases) the cases each may open."""
    with _accounts_home(case, cases) as home:
        users = Accounts(home).users(include_disabled=True)
        grants = home.grants() if isinstance(home, ServerStore) else None
        check = home.verify_audit() if isinstance(home, ServerStore) else None
    for account in users:
        line = f"{account.username:<16} {account.role:<10} {_state(account):<22}"
        if grants is not None:
            opens = ", ".join(f"{name} ({role})" for name, role in grants.get(account.username, {}).items())
            line += " every case" if account.role == ADMIN else f" {opens or 'no case'}"
        out.print(_t(line.rstrip()), soft_wrap=True)
    if check is not None:  # the server's log of account changes (a case's is `vigie audit verify`'s)
        if not check.ok:
            raise VigieError(f"the server's log of account changes is broken: {'; '.join(check.problems)}", 3)
        out.print(f"Server log of account changes: {check.entries} entries, hash chain intact.")


def _state(account: User) -> str:
    if account.disabled:
        return "disabled"
    return "must change password" if account.must_change else "active"


@user.command("grant")
@click.argument("username")
@click.argument("case_name", metavar="CASE")
@cases_option
@click.option("--role", type=click.Choice(ROLES), help="The role in this case [default: the account's role].")
def user_grant(username: str, case_name: str, cases: Path | None, role: str | None) -> None:
    """Let a server account open the case CASE (a folder under --cases), with a role."""
    server = _server(cases)
    try:
        role = server.grant_served(username, case_name, role, actor=examiner())
    finally:
        server.close()
    out.print(f"{_t(username)} may open {_t(case_name)} as {role}.")


@user.command("revoke")
@click.argument("username")
@click.argument("case_name", metavar="CASE")
@cases_option
def user_revoke(username: str, case_name: str, cases: Path | None) -> None:
    """Stop a server account from opening the case CASE (its decisions there stay, under its name)."""
    server = _server(cases)
    try:
        server.revoke(username, case_name, actor=examiner())
    finally:
        server.close()
    out.print(f"{_t(username)} may no longer open {_t(case_name)}.")


@user.command("log")
@cases_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def user_log(cases: Path | None, as_json: bool) -> None:
    """Print the server's log of account changes (logins, accounts made, grants, passwords, disabling), each
    under who made it, and check its hash chain. A case's own log is `vigie audit show --case`'s."""
    server = _server(cases)
    try:
        print_audit(server.audit_entries(), as_json)
        check = server.verify_audit()
    finally:
        server.close()
    if not check.ok:
        raise VigieError(f"the server's log of account changes is broken: {'; '.join(check.problems)}", 3)
    err.print(f"Server log of account changes: {check.entries} entries, hash chain intact.")


COMMANDS = [serve, user]
