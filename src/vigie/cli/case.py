"""`vigie case copy`: a case moved between SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import click

from vigie.cli.common import _t, case_store, examiner, out
from vigie.errors import VigieError
from vigie.store.locator import is_store_url, local_case_folder, shown_url
from vigie.store.sqlite import CaseNotFoundError, SqliteCaseStore, open_case


@click.group()
def case() -> None:
    """Cases as a whole: copy one between SQLite and PostgreSQL."""


def _named(location: str) -> str:
    """A case's name for messages and the log."""
    return shown_url(location) if is_store_url(location) else str(Path(location).resolve())


@case.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
def case_copy(source: str, destination: str) -> None:
    """Copy the case SRC into a new case DST, either of them a folder or a PostgreSQL case
    (postgresql://user@host/db?case=NAME).

    Every row is copied with its id; the audit log is verified in SRC before and in DST before the copy
    commits, and DST's log then records the copy. DST must hold no case yet. The PDQ index is not copied: DST
    rebuilds it from the store when it first matches.

    \b
    Example:
      vigie case copy ./case-042 'postgresql://vigie@db.unit.local/triage?case=case_042'
    """
    from vigie.store.copy import copy_case

    source_name, target_name = _named(source), _named(destination)
    with case_store(local_case_folder(source) if is_store_url(source) else Path(source)) as store:
        target, made = _open_destination(destination if is_store_url(destination) else Path(destination),
                                         target_name)
        try:
            result = copy_case(store, target, examiner(), source_name)
        except BaseException:
            if made:  # a failed copy leaves no empty case behind
                target.discard()
            raise
        target.close()
    out.print(f"Copied {_t(source_name)} to {_t(target_name)}: {sum(result.rows.values())} rows, "
              f"{result.audit_entries} audit entries verified on both sides.", soft_wrap=True)


def _open_destination(location: str | Path, name: str) -> tuple[SqliteCaseStore, bool]:
    """The destination case (a URL, or a folder), and whether this command made it."""
    try:
        try:
            return open_case(location), False
        except CaseNotFoundError:
            return open_case(location, create=True), True
    except VigieError:
        raise
    except Exception as exc:  # a server that cannot be reached, a folder that cannot be written
        raise VigieError(f"cannot open the case at {name}: {exc}") from exc


COMMANDS = [case]
