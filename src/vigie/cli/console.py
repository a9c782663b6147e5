"""`vigie serve` and `vigie user`: the review console and its accounts."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from vigie.cli.common import _t, case_option, case_store, err, examiner, out
from vigie.config import load_settings
from vigie.errors import VigieError
from vigie.vocabulary import NEW_ACCOUNT_ROLE, ROLES


@click.command()
@case_option
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
def serve(case: Path, host: str, port: int, threads: int, allowed_hosts: tuple[str, ...], tls: bool,
          tls_cert: Path | None, tls_key: Path | None) -> None:
    """Start the review console for a case.

    On first start it creates the account `admin` and prints its password once; the admin makes
    reviewer and read-only accounts in the console (Settings) or with `vigie user add`.
    """
    if (tls_cert is None) != (tls_key is None):
        raise VigieError("--tls-cert and --tls-key go together", 2)
    from vigie.web.app import create_app, ensure_admin
    from vigie.web.hosts import AllowedHosts
    from vigie.web.serving import start_console
    from vigie.web.tls import TlsFiles, case_certificate, fingerprint

    with case_store(case) as store:
        read_only = store.read_only
    if read_only:
        raise VigieError("the case folder is read-only: the console records every login, reveal and decision in the "
                         "case's audit log (verify, export and report work read-only)")
    password = ensure_admin(case)
    files, made = None, False
    if tls_cert and tls_key:
        files = TlsFiles(tls_cert, tls_key)
    elif tls:
        try:
            files, made = case_certificate(case, AllowedHosts.for_address(host, port, allowed_hosts).names())
        except OSError as exc:
            raise VigieError(f"cannot write the console's certificate in {case}: {exc}") from exc
    app = create_app(case, load_settings(case), secure_cookies=files is not None)
    try:
        console = start_console(app, host, port, threads, allowed_hosts, files)
    except (OSError, ValueError) as exc:
        raise VigieError(f"cannot serve on {host}:{port}: {exc}") from exc
    # from here on, Ctrl+C at any moment closes the server (its threads would keep the process alive)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            out.print(f"Vigie review console for {_t(case)} at [bold]{console.url}[/]", soft_wrap=True)
            for url in console.also:
                out.print(f"  and at [bold]{url}[/]", soft_wrap=True)
            if files is not None:
                made_note = f" (made now, kept in {files.cert.parent})" if made else ""
                out.print(f"TLS certificate SHA-256 fingerprint{made_note}:\n  {fingerprint(files.cert)}",
                          soft_wrap=True)
                out.print("Check that your browser shows this fingerprint before you accept the certificate.")
            if password:
                out.print(f"First start: log in as [bold]admin[/] with the one-time password [bold]{password}[/]")
            if files is None and host not in ("127.0.0.1", "::1", "localhost"):
                err.print("[yellow]warning:[/] listening beyond this machine without TLS; use --tls or a TLS proxy.")
            out.print("Stop with Ctrl+C.")
            console.run()
        finally:
            console.close()


@click.group()
def user() -> None:
    """Console accounts: admin, reviewer, read-only."""


@user.command("add")
@click.argument("username")
@case_option
@click.option("--role", type=click.Choice(ROLES), default=NEW_ACCOUNT_ROLE, show_default=True)
def user_add(username: str, case: Path, role: str) -> None:
    """Create an account and print its one-time password."""
    from vigie.store.accounts import Accounts, new_password

    password = new_password()
    with case_store(case) as store:
        Accounts(store).create_user(username, password, role, actor=examiner())
    out.print(f"Created {_t(username)} ({role}). Password (shown once): {password}")


@user.command("password")
@click.argument("username")
@case_option
def user_password(username: str, case: Path) -> None:
    """Give an account a new password (and end its sessions); prints the password once."""
    from vigie.store.accounts import Accounts, new_password

    password = new_password()
    with case_store(case) as store:
        Accounts(store).set_password(username, password, actor=examiner())
    out.print(f"New password for {_t(username)} (shown once): {password}")


COMMANDS = [serve, user]
