"""`vigie scan`, `vigie match` and `vigie demo`: evidence into a case, matched."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import click
from rich.table import Table

from vigie.cli.common import _t, case_option, case_store, err, examiner, out, progress_bars, stop_on_full_disk
from vigie.cli.lists import import_list
from vigie.config import load_settings
from vigie.errors import VigieError
from vigie.scan.engines import ENGINES
from vigie.scan.overlap import overlapping_sources
from vigie.signals.faces import check_models


@click.command()
@click.argument("evidence", nargs=-1, required=True, type=click.Path(path_type=str))
@case_option
@click.option("--hashlist", "hashlists", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Hash list to import before matching (repeatable). Name: the file's stem.")
@click.option("--workers", type=click.IntRange(1, 256), help="Worker processes [default: all cores].")
@click.option("--pdq-threshold", type=click.IntRange(0, 128), help="Largest PDQ distance that matches [31].")
@click.option("--faces", "faces", is_flag=True, default=None,
              help="Also find faces and store their embeddings (needs the `faces` extra).")
@click.option("--face-detector", type=click.Choice(["hog", "yunet"]),
              help="Face detector [hog; yunet with --face-model].")
@click.option("--face-model", type=click.Path(exists=True, dir_okay=False), help="YuNet ONNX file (selects yunet).")
@click.option("--engine", type=click.Choice(ENGINES), default="pool", show_default=True,
              help="Where files are analysed: this machine's processes, or Ray tasks (needs the `cluster` extra).")
@click.option("--ray-address", envvar="RAY_ADDRESS", show_envvar=True,
              help="With --engine ray: the cluster to run on (host:port); without it a local Ray of --workers "
                   "CPUs runs for the scan. Evidence paths must be readable on every node.")
def scan(evidence: tuple[str, ...], case: Path, hashlists: tuple[Path, ...], workers: int | None,
         pdq_threshold: int | None, faces: bool | None, face_detector: str | None, face_model: str | None,
         engine: str, ray_address: str | None) -> None:
    """Scan EVIDENCE (folders, files, zip/tar archives, E01/raw disk images) into a case.

    Every file is hashed (MD5, SHA-1, SHA-256; PDQ for images), typed from its content, and matched
    against the case's hash lists. Re-running the same scan skips finished files, so an interrupted
    scan resumes where it stopped. Unreadable files are recorded with the reason and never stop a scan.
    A --hashlist that is refused does not stop it either: the scan ends with exit status 1, and the
    case report names that list as not matched.

    \b
    Example:
      vigie scan /evidence/phone1 /evidence/backup.zip --case ./case-042 --hashlist ncmec.csv
    """
    from vigie.scan.engines import open_engine
    from vigie.scan.pipeline import run_scan

    for path in evidence:
        if not os.path.lexists(path):
            raise VigieError(f"evidence path does not exist: {path}")
    settings = load_settings(case, {
        "workers": workers, "pdq_threshold": pdq_threshold, "faces": faces,
        "face_detector": face_detector or ("yunet" if face_model else None), "face_model": face_model,
    })
    if settings.faces:
        check_models(settings.face_detector, settings.face_model)
    with case_store(case, create=True) as store:
        for path in evidence:
            for other in overlapping_sources(store, os.path.abspath(path)):
                err.print(f"[yellow]note:[/] {_t(path)} overlaps {_t(other.given)}, scanned before: files under both "
                          "are added again as new items (they stack with the earlier ones as exact duplicates)")
        with stop_on_full_disk("the scan", f"Every item finished so far is kept in {case}, and the next run "
                               "matches it."):
            refused = [str(list_path) for list_path in hashlists
                       if not import_list(store, list_path, settings, None, "auto", None, None, None, True)]
            with progress_bars() as progress, open_engine(engine, settings, ray_address, progress) as runner:
                try:
                    result = run_scan(store, list(evidence), settings, progress, actor=examiner(), engine=runner)
                except KeyboardInterrupt:
                    err.print("[yellow]Interrupted.[/] Finished items are stored; run the same command to resume.")
                    sys.exit(130)
            summary = store.summary()
    table = Table(title=f"Scan {result.scan_id} of {case}", show_header=False)
    rows = [
        ("Files seen", result.files_seen), ("Already done, skipped", result.files_skipped),
        *([("  of which changed since scanned (said on their items; not read again)", result.files_changed)]
          if result.files_changed else []),
        ("Items added (files and archive members)", result.items_added),
        ("Items with errors (this scan)", result.items_with_errors),
        ("New matches (exact / PDQ / video frames and pages)",
         f"{result.matches.get('exact', 0)} / {result.matches.get('pdq', 0)} / {result.matches.get('video', 0)}"),
        ("Items in case", summary["items"]), ("Known items (exact)", summary["exact_matched_items"]),
        ("Perceptual matches only (altered copies, video)", summary["near_matched_items"]),
        ("Stacks of duplicates", f"{summary['stacks']} ({summary['items_in_stacks']} items)"),
        ("Time", f"{result.seconds:.1f} s"),
    ]
    if refused:
        rows.append(("Hash lists refused (not matched)", ", ".join(refused)))
    for label, value in rows:
        table.add_row(label, str(value))
    out.print(table)
    out.print(f"Next: vigie report --case {_t(case)} --format html -o report.html")
    if refused:  # the scan's work is kept; what was asked of it is not all done
        err.print(f"[bold red]{len(refused)} hash list(s) refused, not matched:[/] {_t(', '.join(refused))}. Every "
                  "item is kept; import a readable list with `vigie hashlist import` and the case is matched.")
        sys.exit(1)


@click.command("match")
@case_option
@click.option("--workers", type=click.IntRange(1, 256), help="Worker processes [default: all cores].")
def match_cmd(case: Path, workers: int | None) -> None:
    """Match every item of the case against every hash list again, and bring the stacks up to date.

    A scan already matches whatever is not yet matched, including the items of a killed scan; this
    re-matches everything (after a change of thresholds in vigie.toml, or to check). Idempotent. Audited.
    """
    from vigie.matching.rematch import rematch_case

    settings = load_settings(case, {"workers": workers})
    with case_store(case) as store, stop_on_full_disk("matching", "Matches found so far are kept."):
        run = rematch_case(store, settings, examiner())
    found, summary = run.new_matches, run.summary
    out.print(f"Matched {summary['items']} items against {summary['hash_lists']} hash list(s): new matches "
              f"{found['exact']} exact, {found['pdq']} PDQ, {found['video']} video; "
              f"{summary['matched_items']} items matched in all; {run.stacks} stacks.")


def _hostile_demo(directory: Path, workers: int | None) -> None:
    from vigie.demo.hostile import build_hostile_seizure
    from vigie.scan.pipeline import run_scan

    layout = build_hostile_seizure(directory)
    err.print(f"Hostile evidence in {_t(layout.evidence)}; lists: {', '.join(p.name for p in layout.lists)}")
    settings = load_settings(layout.case, {"workers": workers})
    with case_store(layout.case, create=True) as store:
        for hash_list in layout.lists:
            import_list(store, hash_list, settings, None, "auto", None, None, None, tolerate_errors=True)
        with progress_bars() as progress:
            run_scan(store, [str(layout.evidence)], settings, progress, actor=examiner())
        matched = {item["sha256"] for item in store.iter_report_items() if item["matches"]}
        read = {item["sha256"] for item in store.iter_report_items()}
    for where, sha256 in layout.hidden.items():
        out.print(f"  {'[green]found[/]   ' if sha256 in matched else '[bold red]MISSED[/]  '} {_t(where)}")
    outside = hashlib.sha256(layout.outside.read_bytes()).hexdigest() if layout.outside else None
    out.print(f"  {'[bold red]READ[/]    ' if outside in read else '[green]not read[/]'} {_t(layout.outside)} "
              "(reachable only through a link out of the evidence)")
    found = sum(sha256 in matched for sha256 in layout.hidden.values())
    out.print(f"{found} of {len(layout.hidden)} hidden known pictures found. Case: {layout.case}")
    if found < len(layout.hidden) or outside in read:
        sys.exit(1)


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("vigie-demo"),
              show_default=True, help="Where to build the demo evidence, case and report.")
@click.option("--workers", type=click.IntRange(1, 256), help="Worker processes [default: all cores].")
@click.option("--hostile", is_flag=True,
              help="Build a seizure that hides known pictures where evasions put them, and check each is found.")
def demo(directory: Path, workers: int | None, hostile: bool) -> None:
    """Build a benign demo seizure (drawn images, altered copies, duplicates, a corrupt file, a zip),
    a demo hash list, scan it, and write the HTML report.

    With --hostile: known pictures hidden behind names that are not UTF-8, repeated archive member
    names, `X!` folders, a mis-encoded zip, a PNG chunk bomb, page 2 of a TIFF, 8 MiB of XMP bait, the EXIF
    thumbnail of a crop, and a link out of the evidence; lists as Meta, python-threatexchange and NSRL write
    them."""
    if hostile:
        _hostile_demo(directory, workers)
        return
    from vigie.demo.seizure import build_demo
    from vigie.exports.report import write_case_report
    from vigie.scan.pipeline import run_scan

    layout = build_demo(directory)
    err.print(f"Demo evidence in {_t(layout.evidence)}, hash list {_t(layout.hashlist)}")
    settings = load_settings(layout.case, {"workers": workers})
    with case_store(layout.case, create=True) as store:
        import_list(store, layout.hashlist, settings, "demo-list", "auto", None, None, None, tolerate_errors=False)
        with progress_bars() as progress:
            run_scan(store, [str(layout.evidence)], settings, progress, actor=examiner())
        with layout.report.open("w", encoding="utf-8") as handle:
            write_case_report(store, "html", handle, examiner(), str(layout.report))
        summary = store.summary()
    out.print(f"{summary['items']} items: {summary['exact_matched_items']} known, {summary['near_matched_items']} "
              f"altered copies, {summary['stacks']} stacks, {summary['items_with_errors']} with errors.")
    out.print(f"Report: {layout.report}")
    out.print(f"Review it in the console: vigie serve --case {layout.case}")


COMMANDS = [scan, match_cmd, demo]
