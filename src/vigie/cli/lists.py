"""`vigie hashlist`: importing and inspecting hash lists."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from vigie.cli.common import _t, case_option, case_store, err, examiner, out, stop_on_full_disk
from vigie.config import Settings, load_settings
from vigie.errors import VigieError
from vigie.matching.list_import import ListImportError, import_hash_list
from vigie.matching.lists import FORMATS, HashListError
from vigie.records import PROBLEMS_KEPT
from vigie.signals.registry import SIGNALS
from vigie.store.sqlite import SqliteCaseStore
from vigie.vocabulary import SCHEMES


def import_list(store: SqliteCaseStore, path: Path, settings: Settings, name: str | None, fmt: str,
                scheme: str | None, signal: str | None, category: str | None, tolerate_errors: bool) -> bool:
    """Import one list and say how it went; False when it was refused (and `tolerate_errors` kept going)."""
    try:
        result = import_hash_list(store, path, settings, name, fmt, scheme, signal, category, actor=examiner(),
                                  tolerate_errors=tolerate_errors)
    except (HashListError, ListImportError) as exc:
        if not tolerate_errors:
            raise VigieError(f"{path}: {exc}", exc.exit_code) from exc
        err.print(f"[bold red]hash list {_t(path)} not imported:[/] {_t(exc)}")
        return False
    if result.already_imported:
        matched = (f"the items not yet matched against it were matched now; new matches: {result.new_matches}"
                   if result.new_matches else "every item was already matched against it")
        err.print(f"Hash list [bold]{_t(result.name)}[/] is already in the case ({result.entries} entries); "
                  f"{matched}.")
        return True
    err.print(f"Imported hash list [bold]{_t(result.name)}[/]: {result.entries} entries, {result.pdq_indexed} PDQ "
              f"indexed, {result.skipped} lines skipped; new matches: {result.new_matches}")
    for note in result.notes:
        err.print(f"  note: {_t(note)}")
    for problem in result.problems[:20]:
        err.print(f"  [yellow]problem[/] {_t(problem)}")
    if result.problem_lines > 20:
        listed = "all" if result.problem_lines <= PROBLEMS_KEPT else f"the first {PROBLEMS_KEPT:,}"
        err.print(f"  … {result.problem_lines - 20:,} more ({listed} listed by "
                  f"`vigie hashlist show {_t(result.name)}`)")
    return True


@click.group()
def hashlist() -> None:
    """Import and inspect hash lists (text, tx, CSV, Project VIC VICS 1.3/2.0, vPDQ, NSRL RDS)."""


@hashlist.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@case_option
@click.option("--name", help="Name of the list in the case [default: the file's stem].")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option("--scheme", type=click.Choice(SCHEMES), help="Category scheme [default: detected per value].")
@click.option("--signal", type=click.Choice(list(SIGNALS)),
              help="Read every hash as this type (plain text and CSV 'hash' columns).")
@click.option("--category", help="Category for entries that carry none.")
def hashlist_import(file: Path, case: Path, name: str | None, fmt: str, scheme: str | None, signal: str | None,
                    category: str | None) -> None:
    """Import FILE as a hash list and match the whole case against it.

    The same file again (already in the case) matches the items not yet matched against it, if any.

    \b
    Formats: text (one hash per line; MD5 and SHA-1 by length; a 64-digit value that does not say
    SHA-256 or PDQ is matched both ways), python-threatexchange's `<signal_type> <value>` lines,
    CSV with a header (md5, sha1, sha256, pdq, hash, category, label, series, ...),
    VICS JSON 1.3 (odata.metadata ...#Media) and 2.0 (@odata.context ...#Cases),
    vPDQ (frame_number,quality,pdq_hex,timestamp lines or tx's JSON array; a file per video, or a
    folder of them; the file name labels the video), NSRL RDS (NSRLFile.txt, or an RDSv3 SQLite
    database). Bad lines are reported with their line number and skipped.
    """
    settings = load_settings(case)
    with (case_store(case) as store,  # a mistyped --case is refused, not made into an empty case
          stop_on_full_disk("the import", "The list is not in the case (its import is one transaction).")):
        import_list(store, file, settings, name, fmt, scheme, signal, category, tolerate_errors=False)


@hashlist.command("list")
@case_option
def hashlist_list(case: Path) -> None:
    """List the case's hash lists."""
    with case_store(case) as store:
        table = Table("id", "name", "format", "entries", "skipped lines", "imported", "file")
        for h in store.hash_lists():
            table.add_row(str(h.id), h.name, h.format, str(h.entry_count), str(h.skipped), h.imported_at,
                          h.file_name)
    out.print(table)


@hashlist.command("show")
@click.argument("name")
@case_option
def hashlist_show(name: str, case: Path) -> None:
    """Show one list with its import notes and every line that had a problem on import: those skipped, and
    those read without a bad cell's value."""
    with case_store(case) as store:
        lists = store.hash_lists()
    for h in lists:
        if h.name == name:
            out.print(f"{_t(h.name)}: {h.entry_count} entries from {_t(h.file_name)} ({h.format}), "
                      f"{h.skipped} lines skipped, sha256 {h.file_sha256}")
            for note in h.notes:
                out.print(f"  note: {_t(note)}")
            for problem in h.problems[:PROBLEMS_KEPT]:
                out.print(f"  problem {_t(problem)}")
            for cut in h.problems[PROBLEMS_KEPT:]:  # how many more lines had a problem than are kept
                out.print(f"  … {_t(cut)}")
            return
    raise VigieError(f"no hash list named {name!r} in {case}")


COMMANDS = [hashlist]
