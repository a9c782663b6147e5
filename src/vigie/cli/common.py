"""What every command shares: the consoles, the escaping of evidence text, `--case`, opening a case, progress
bars, and the one-line stop on a full disk."""

from __future__ import annotations

import errno
import getpass
import json
import os
import secrets
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from vigie.config import CASE_CONFIG_NAME
from vigie.errors import VigieError
from vigie.records import AuditEntry
from vigie.store.locator import is_store_url, local_case_folder
from vigie.store.sqlite import CASE_DB_NAME, CaseNotFoundError, SqliteCaseStore, open_case

err = Console(stderr=True, emoji=False)  # ":cd:" in a fingerprint or a path is text, not an emoji
out = Console(highlight=False, emoji=False)

def default_examiner() -> str:
    """$VIGIE_USER, else the login name (from the environment, or the account the process runs as, as under a
    service or a container where $USER is unset); "vigie" only when neither can be found."""
    try:
        return os.environ.get("VIGIE_USER") or getpass.getuser()
    except (KeyError, OSError):  # a uid with no account and no name in the environment
        return "vigie"


ACTOR = default_examiner()  # the examiner unless --examiner names one


def examiner() -> str:
    """Who runs the command, as the audit log names them (`vigie --examiner`)."""
    return str(click.get_current_context().find_root().params.get("examiner") or ACTOR)


def print_audit(entries: Iterable[AuditEntry], as_json: bool) -> None:
    """A log's entries, one a line: as text, or as JSON objects."""
    for entry in entries:
        if as_json:
            print(json.dumps(entry.__dict__, ensure_ascii=False))
        else:
            details = json.dumps(entry.details, ensure_ascii=False)
            shown = details if len(details) <= 200 else details[:199] + "…"  # whole with --json
            out.print(f"{entry.seq:>5} {entry.at} {_t(entry.actor):<12} {entry.action:<18} {_t(shown)}")

def _t(value: object) -> str:
    """Text from the evidence, a list or the user, shown as it is: "[red]x.jpg" is a name, not a style."""
    return escape(str(value))


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "–/s", style="progress.data.speed")


@contextmanager
def progress_bars() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
        MofNCompleteColumn(), _RateColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err, transient=False,
    ) as progress:
        yield progress


@contextmanager
def case_store(case: Path, create: bool = False) -> Iterator[SqliteCaseStore]:
    """The case, open for the command and closed after it. A read-only case still reads, verifies and exports;
    what its audit log could not record is said when the command ends."""
    try:
        store = open_case(case, create=create)
    except CaseNotFoundError as exc:
        raise VigieError(f"{exc}. Create one with `vigie scan EVIDENCE --case {case}`.") from exc
    except Exception as exc:  # a locked, corrupt or newer case file
        raise VigieError(f"cannot open the case at {case}: {exc}") from exc
    if store.read_only:
        unrecorded = store.unrecorded = []
        click.get_current_context().call_on_close(lambda: _note_unrecorded(case, unrecorded))
    try:
        yield store
    finally:
        store.close()


def _note_unrecorded(case: Path, entries: list[AuditEntry]) -> None:
    if entries:
        err.print(f"[yellow]note:[/] the case folder {_t(case)} is read-only, so this "
                  f"{', '.join(e.action for e in entries)} could not be recorded in the case's audit log.",
                  soft_wrap=True)


def _is_disk_full(exc: BaseException | None) -> bool:
    while exc is not None:  # the rollback after SQLITE_FULL may raise in turn
        if isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL"
                                               or "disk is full" in str(exc)):
            return True
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if getattr(exc, "sqlstate", None) == "53100":  # PostgreSQL's disk_full
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def stop_on_full_disk(doing: str, kept: str) -> Iterator[None]:
    """A full disk is for the examiner to fix: one line saying so, never a traceback."""
    try:
        yield
    except Exception as exc:
        if not _is_disk_full(exc):
            raise
        raise VigieError(f"the disk is full; {doing} stopped. {kept} Free some space and run the same command "
                         "again.") from exc


# An id the case could hold: a larger number names nothing, said by click rather than by a database error.
ID = click.IntRange(0, 2**63 - 1)


def checked_output(output: Path | None, store: SqliteCaseStore) -> Path | None:
    """`-o`, checked before anything is written or audited; None for stdout (no `-o`, or `-o -`). Refused: one of
    the case's own files (its database, settings, locks, indexes), a file in the evidence (read-only), a folder
    that does not exist. A report beside the case's files is allowed."""
    if output is None or output == Path("-"):
        return None
    target, case_dir = output.resolve(), store.case_dir.resolve()
    if target.is_relative_to(case_dir):  # a case kept inside the evidence folder is still the case's
        if target.parent != case_dir or target.name == CASE_CONFIG_NAME or target.name.startswith((CASE_DB_NAME, ".")):
            raise VigieError(f"{output} is one of the case's own files; write it elsewhere", 2)
    elif any(target.is_relative_to(Path(source.root).resolve()) for source in store.sources()):
        raise VigieError(f"{output} is in the evidence, which is never written; write it elsewhere", 2)
    if not target.parent.is_dir():
        raise VigieError(f"{output}: there is no folder {output.parent}", 2)
    return output


@contextmanager
def replaced_when_written(output: Path) -> Iterator[BinaryIO]:
    """A file written beside `output` that takes its place only once whole: a report that fails half-way leaves
    the one before it (or nothing), never a truncated file. Anything that is not this user's own regular file
    in a folder it may write (a device, a pipe, a link, a file with other links or another owner) is written
    through, as `open` writes it."""
    if not _replaceable(output):
        with output.open("wb") as handle:
            yield handle
        return
    partial = output.parent / f".{output.name}.{secrets.token_hex(4)}.partial"
    try:
        # readable by its owner alone while it is written; then as the file it replaces, or as the umask says
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            yield handle
        os.chmod(partial, stat.S_IMODE(output.stat().st_mode) if output.exists() else 0o666 & ~_umask())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _replaceable(output: Path) -> bool:
    try:
        found = output.lstat()
    except FileNotFoundError:
        return os.access(output.parent, os.W_OK)
    except OSError:
        return False
    return (stat.S_ISREG(found.st_mode) and found.st_nlink == 1 and found.st_uid == os.geteuid()
            and os.access(output, os.W_OK) and os.access(output.parent, os.W_OK))


class CaseLocation(click.Path):
    """A case folder, or a PostgreSQL case's URL, which stands for the case's local folder (see store/locator.py)."""

    def convert(self, value: str | os.PathLike[str], param: click.Parameter | None, ctx: click.Context | None
                ) -> str | bytes | os.PathLike[str]:
        if isinstance(value, str) and is_store_url(value):
            try:
                return local_case_folder(value)
            except (VigieError, OSError) as exc:
                self.fail(str(exc), param, ctx)
        return super().convert(value, param, ctx)


case_option = click.option(
    "--case", "case", type=CaseLocation(path_type=Path), required=True, envvar="VIGIE_CASE",
    help="Case folder (created by the first scan), or a PostgreSQL case: postgresql://user@host/db?case=NAME. "
         "Also read from $VIGIE_CASE.",
)
