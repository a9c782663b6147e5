"""The `vigie` command: arguments, progress and output, one module per group of commands. The work happens
in the modules they call; errors reach the examiner here, once, as one line and an exit status."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

import click

from vigie import __version__
from vigie.cli import ai, case, console, faces, fingerprints, integrity, lists, reports, review, scan
from vigie.cli.common import ACTOR, _t, default_examiner, err
from vigie.errors import VigieError
from vigie.store.sqlite import CaseReadOnlyError

__all__ = ["ACTOR", "main"]

_READ_ONLY = ("the case folder is read-only, and this command writes to the case. Reading, verifying, reports and "
              "exports work on a read-only case; copy it to a writable folder for the rest.")


class _VigieGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CaseReadOnlyError, sqlite3.OperationalError) as exc:
            if isinstance(exc, sqlite3.OperationalError) and "readonly" not in str(exc):
                raise
            error = VigieError(_READ_ONLY)
        except VigieError as exc:
            error = exc
        err.print(f"[bold red]error:[/] {_t(error)}")
        sys.exit(error.exit_code)


def _examiner(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    name = (value or default_examiner()).strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise click.BadParameter("a name of 1 to 100 printable characters")
    return name


@click.group(cls=_VigieGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="vigie")
@click.option("--examiner", envvar="VIGIE_EXAMINER", callback=_examiner,
              help="Who runs the command, as the audit log names them. Also read from $VIGIE_EXAMINER "
                   "[default: $VIGIE_USER or the login name].")
def main(examiner: str) -> None:
    """Vigie: scan seized imagery into a case, match hash lists, find altered copies, and report.

    Evidence is only ever read. Everything Vigie writes goes into the case folder: one SQLite file
    (case.sqlite) that any SQLite tool can open, and the PDQ index beside it. Only `vigie scan` (and
    `vigie demo`) create a case; every other command refuses a folder that holds none. A case can live in
    PostgreSQL instead (`--case postgresql://user@host/db?case=NAME`, the `cluster` extra); `vigie case copy`
    moves one between the two.
    """


for _module in (scan, lists, faces, reports, console, review, fingerprints, ai, integrity, case):
    for _command in _module.COMMANDS:
        main.add_command(_command)
