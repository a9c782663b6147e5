"""`vigie case copy`: a case moved between SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import click

from vigie.cli.common import _t, case_store, examiner, out
from vigie.errors import VigieError
from vigie.store.locator import is_store_url, local_case_folder, shown_url
from vigie.store.sqlite import open_case


@click.group()
def case() -> None:
    """Cases as a whole: copy one between SQLite and PostgreSQL."""


def _where(location: str) -> tuple[Path, str]:
    """(the case's folder, its name for messages and the log)."""
    if is_store_url(location):
        return local_case_folder(location), shown_url(location)
    return Path(location), str(Path(location).resolve())


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

    source_folder, source_name = _where(source)
    target_folder, target_name = _where(destination)
    with case_store(source_folder) as store:
        try:
            target = open_case(target_folder, create=True)
        except Exception as exc:  # a server that cannot be reached, a folder that cannot be written
            if isinstance(exc, VigieError):
                raise
            raise VigieError(f"cannot open the case at {target_name}: {exc}") from exc
        try:
            result = copy_case(store, target, examiner(), source_name)
        finally:
            target.close()
    out.print(f"Copied {_t(source_name)} to {_t(target_name)}: {sum(result.rows.values())} rows, "
              f"{result.audit_entries} audit entries verified on both sides.", soft_wrap=True)


COMMANDS = [case]
