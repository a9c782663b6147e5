"""`vigie report` and `vigie export`: the case report, and reviewed items for sharing or reporting."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from vigie.cli.common import (
    ID,
    _t,
    case_option,
    case_store,
    checked_output,
    err,
    examiner,
    replaced_when_written,
    stop_on_full_disk,
)
from vigie.config import load_settings
from vigie.exports.format import ItemExport, Reporter
from vigie.exports.registry import EXPORTS
from vigie.i18n import DEFAULT_LANGUAGE, LANGUAGES

# The language of the pages people read (the HTML reports); the data formats stay as they are.
language_option = click.option(
    "--lang", "lang", type=click.Choice(list(LANGUAGES)), default=DEFAULT_LANGUAGE, show_default=True,
    envvar="VIGIE_LANG", help="Language of the HTML and PDF reports: en, fr or es [$VIGIE_LANG].")


@click.command()
@case_option
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="html", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, outside the case and the evidence [stdout; also -].")
@click.option("--thumbnails", is_flag=True, help="HTML only: add blurred greyscale thumbnails of matched items.")
@language_option
def report(case: Path, fmt: str, output: Path | None, thumbnails: bool, lang: str) -> None:
    """Write the case report: counts, matches by list and category, stacks, and unreadable files.

    The HTML report holds no image content unless --thumbnails is given (blurred, greyscale).
    """
    from vigie.exports.report import matched_thumbnails, write_case_report
    from vigie.i18n import language

    with case_store(case) as store:
        output = checked_output(output, store)
        thumbs = matched_thumbnails(store, load_settings(case)) if thumbnails and fmt == "html" else None
        # written as it is read (a million items are never held at once), then audited
        with stop_on_full_disk("the report", "The case is unchanged; the report file may be incomplete."):
            if output is None:
                write_case_report(store, fmt, sys.stdout, examiner(), "stdout", thumbs, language(lang))
            else:
                with replaced_when_written(output) as raw, io.TextIOWrapper(raw, encoding="utf-8") as handle:
                    write_case_report(store, fmt, handle, examiner(), str(output), thumbs, language(lang))
    if output is not None:
        err.print(f"Wrote {fmt.upper()} report to {_t(output)}")


class _ExportFormats(click.Choice[str]):
    """The registered export formats, read each time (a format registered after start-up is offered too)."""

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(EXPORTS)

    @choices.setter
    def choices(self, _: object) -> None:  # click.Choice sets them once; the registry is the truth
        pass


@click.command("export")
@case_option
@click.option("--format", "fmt", required=True, type=_ExportFormats(()),
              help="; ".join(f"{e.name}: {e.label}" for e in EXPORTS.values()) + ".")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write, outside the case and the evidence [the case's name and format, in the current "
                   "folder]; - for stdout.")
@click.option("--item", "items", multiple=True, type=ID, help="Only this item id (repeatable) [all reviewed].")
@click.option("--skip-unreviewed", is_flag=True,
              help="Leave out (and name) the --item ids not reviewed yet, instead of refusing the export.")
@click.option("--category", "categories", multiple=True, help="Only items of this category (repeatable).")
@click.option("--reporter-first-name", default="TO COMPLETE", help="CyberTipline draft: reporting person.")
@click.option("--reporter-last-name", default="TO COMPLETE")
@click.option("--reporter-email", default="TO COMPLETE")
@language_option
def export_cmd(case: Path, fmt: str, output: Path | None, items: tuple[int, ...], skip_unreviewed: bool,
               categories: tuple[str, ...], reporter_first_name: str, reporter_last_name: str,
               reporter_email: str, lang: str) -> None:
    """Export reviewed items (one record per distinct file) for sharing or reporting. Audited.

    An --item that is not reviewed is refused (exit 2) unless --skip-unreviewed. Reviewed items a format
    does not carry (a hash list and a CyberTipline draft: those not pertinent; any list of hashes: a file
    that could not be read) are counted and named on a line each, never left out in silence.
    """
    from vigie.exports.run import run_export

    with case_store(case) as store:
        default = Path(store.case_dir.resolve().name + EXPORTS[fmt].suffix)  # in the current folder
        target = checked_output(output or default, store)  # None: stdout
        result = run_export(
            store, examiner(), fmt, list(items) or None, list(categories) or None,
            Reporter(reporter_first_name, reporter_last_name, reporter_email),
            destination="stdout" if target is None else str(target), language=lang,
            unreviewed_left_out=skip_unreviewed,
        )
    for copies in result.decided_differently:  # the export is right only if the latest decision is
        err.print(f"[yellow]Warning:[/] items {', '.join(map(str, copies))} hold the same file but were decided "
                  "differently: the export carries the latest decision. Decide them alike to settle it.")
    if result.unreviewed:
        err.print(f"[yellow]Left out[/] {_ids('item', result.unreviewed)}: not reviewed (--skip-unreviewed).")
    for group in result.left_out:
        err.print(f"[yellow]Left out[/] {len(group.items)} file(s) ({_ids('item', [e.item['id'] for e in group.items])}"
                  f"): {group.why}.")
    if target is None:
        sys.stdout.buffer.write(result.content)
        return
    with replaced_when_written(target) as handle:
        handle.write(result.content)
    what = f"{fmt} export of {result.items} file(s)" if isinstance(EXPORTS[fmt], ItemExport) else fmt
    logged = f"audit entry {result.audit.seq}" if result.audit.seq else "not in the read-only case's audit log"
    err.print(f"Wrote {what} to {_t(target)} ({logged})")


def _ids(word: str, ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:20])) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
    return f"{word}{'s' if len(ids) > 1 else ''} {shown}"


COMMANDS = [report, export_cmd]
