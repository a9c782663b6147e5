"""The `vigie` command: arguments, progress and output. The work happens in the modules it calls."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
from rich.table import Table
from rich.text import Text

from vigie import __version__
from vigie.config import Settings, load_settings
from vigie.matching.lists import FORMATS, HashListError
from vigie.records import AuditEntry, SourceRow
from vigie.signals.registry import DIGESTS, SIGNALS
from vigie.store.sqlite import CaseNotFoundError, CaseReadOnlyError, SqliteCaseStore, open_case
from vigie.vocabulary import SCHEMES

err = Console(stderr=True, emoji=False)  # ":cd:" in a fingerprint or a path is text, not an emoji
out = Console(highlight=False, emoji=False)

ACTOR = os.environ.get("VIGIE_USER") or os.environ.get("USER") or "vigie"  # replaced by `main` with the examiner


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


def _t(value: object) -> str:
    """Text from the evidence, a list or the user, shown as it is: "[red]x.jpg" is a name, not a style."""
    return escape(str(value))


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {_t(message)}")
    sys.exit(code)


def _open_case(case: Path, create: bool = False) -> SqliteCaseStore:
    try:
        store = open_case(case, create=create)
    except CaseNotFoundError as exc:
        _fail(f"{exc}. Create one with `vigie scan EVIDENCE --case {case}`.")
        raise  # unreachable
    except Exception as exc:  # a locked, corrupt or newer case file
        _fail(f"cannot open the case at {case}: {exc}")
        raise
    if store.read_only:  # reading, verifying and exporting elsewhere work; what the log misses is said
        unrecorded = store.unrecorded = []
        click.get_current_context().call_on_close(lambda: _note_unrecorded(case, unrecorded))
    return store


def _note_unrecorded(case: Path, entries: list[AuditEntry]) -> None:
    if entries:
        err.print(f"[yellow]note:[/] the case folder {_t(case)} is read-only, so this "
                  f"{', '.join(e.action for e in entries)} could not be recorded in the case's audit log.",
                  soft_wrap=True)


def overlapping_sources(store: SqliteCaseStore, root: str) -> list[SourceRow]:
    """Earlier sources that contain, or sit inside, `root` (the same root is a resume, not an overlap)."""
    def inside(child: str, parent: str) -> bool:
        return child.startswith(parent.rstrip("/") + "/")

    return [s for s in store.sources() if s.root != root and (inside(root, s.root) or inside(s.root, root))]


def _settings(case: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(case, overrides)
    except ValueError as exc:
        _fail(str(exc), 2)
        raise


def _is_disk_full(exc: BaseException | None) -> bool:
    while exc is not None:  # the rollback after SQLITE_FULL may raise in turn
        if isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL"
                                               or "disk is full" in str(exc)):
            return True
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextmanager
def _stop_on_full_disk(doing: str, kept: str) -> Iterator[None]:
    """A full disk is for the examiner to fix: one line saying so, never a traceback."""
    try:
        yield
    except Exception as exc:
        if not _is_disk_full(exc):
            raise
        _fail(f"the disk is full; {doing} stopped. {kept} Free some space and run the same command again.")


case_option = click.option(
    "--case", "case", type=click.Path(path_type=Path), required=True, envvar="VIGIE_CASE",
    help="Case folder (created by the first scan). Also read from $VIGIE_CASE.",
)


class _VigieGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (CaseReadOnlyError, sqlite3.OperationalError) as exc:
            if isinstance(exc, sqlite3.OperationalError) and "readonly" not in str(exc):
                raise
            _fail("the case folder is read-only, and this command writes to the case. Reading, verifying, "
                  "reports and exports work on a read-only case; copy it to a writable folder for the rest.")


def _examiner(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    name = (value or os.environ.get("VIGIE_USER") or os.environ.get("USER") or "vigie").strip()
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
    `vigie demo`) create a case; every other command refuses a folder that holds none.
    """
    global ACTOR
    ACTOR = examiner


# --- scan ---------------------------------------------------------------------------------------


@main.command()
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
def scan(evidence: tuple[str, ...], case: Path, hashlists: tuple[Path, ...], workers: int | None,
         pdq_threshold: int | None, faces: bool | None, face_detector: str | None, face_model: str | None) -> None:
    """Scan EVIDENCE (folders, files, zip/tar archives, E01/raw disk images) into a case.

    Every file is hashed (MD5, SHA-1, SHA-256; PDQ for images), typed from its content, and matched
    against the case's hash lists. Re-running the same scan skips finished files, so an interrupted
    scan resumes where it stopped. Unreadable files are recorded with the reason and never stop a scan.

    \b
    Example:
      vigie scan /evidence/phone1 /evidence/backup.zip --case ./case-042 --hashlist ncmec.csv
    """
    from vigie.scan.pipeline import run_scan

    for path in evidence:
        if not os.path.lexists(path):
            _fail(f"evidence path does not exist: {path}")
    settings = _settings(case, workers=workers, pdq_threshold=pdq_threshold, faces=faces,
                         face_detector=face_detector or ("yunet" if face_model else None), face_model=face_model)
    if settings.faces:
        _check_face_models(settings)
    store = _open_case(case, create=True)
    for path in evidence:
        for other in overlapping_sources(store, os.path.abspath(path)):
            err.print(f"[yellow]note:[/] {_t(path)} overlaps {_t(other.given)}, scanned before: files under both are "
                      "added again as new items (they stack with the earlier ones as exact duplicates)")
    try:
        with _stop_on_full_disk("the scan", f"Every item finished so far is kept in {case}, and the next run "
                                "matches it."):
            refused = [str(list_path) for list_path in hashlists
                       if not _import_list(store, list_path, settings, None, "auto", None, None, None, True)]
            with progress_bars() as progress:
                try:
                    result = run_scan(store, list(evidence), settings, progress, actor=ACTOR)
                except KeyboardInterrupt:
                    err.print("[yellow]Interrupted.[/] Finished items are stored; run the same command to resume.")
                    sys.exit(130)
            summary = store.summary()
    finally:
        store.close()
    table = Table(title=f"Scan {result.scan_id} of {case}", show_header=False)
    rows = [
        ("Files seen", result.files_seen), ("Already done, skipped", result.files_skipped),
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


@main.command("match")
@case_option
@click.option("--workers", type=click.IntRange(1, 256), help="Worker processes [default: all cores].")
def match_cmd(case: Path, workers: int | None) -> None:
    """Match every item of the case against every hash list again, and bring the stacks up to date.

    A scan already matches whatever is not yet matched, including the items of a killed scan; this
    re-matches everything (after a change of thresholds in vigie.toml, or to check). Idempotent. Audited.
    """
    import time

    from vigie.matching.engine import match_case
    from vigie.matching.stacks import build_stacks
    from vigie.store.audit import record_case_state

    settings = _settings(case, workers=workers)
    store = _open_case(case)
    started = time.monotonic()
    try:
        with _stop_on_full_disk("matching", "Matches found so far are kept."):
            found = match_case(store, settings)
            stacks = build_stacks(store, settings)
            summary = store.summary()
            store.append_audit(ACTOR, "match", {"items": summary["items"], "hash_lists": summary["hash_lists"],
                                                "new_matches": found, "stacks": stacks,
                                                "seconds": round(time.monotonic() - started, 2)})
            record_case_state(store, ACTOR)
    finally:
        store.close()
    out.print(f"Matched {summary['items']} items against {summary['hash_lists']} hash list(s): new matches "
              f"{found['exact']} exact, {found['pdq']} PDQ, {found['video']} video; "
              f"{summary['matched_items']} items matched in all; {stacks} stacks.")


# --- hash lists ---------------------------------------------------------------------------------


def _import_list(store: SqliteCaseStore, path: Path, settings: Settings, name: str | None, fmt: str,
                 scheme: str | None, signal: str | None, category: str | None, tolerate_errors: bool) -> bool:
    """Import one list and say how it went; False when it was refused (and `tolerate_errors` kept going)."""
    from vigie.matching.list_import import ListImportError, import_hash_list

    try:
        result = import_hash_list(store, path, settings, name, fmt, scheme, signal, category, actor=ACTOR)
    except (HashListError, ListImportError) as exc:
        reason = str(exc)
    except Exception as exc:  # a scan goes on whatever a list holds; the reason is shown and audited
        if not tolerate_errors:
            raise
        reason = f"unexpected error reading the list: {type(exc).__name__}: {exc}"
    else:
        reason = ""
    if reason:
        store.append_audit(ACTOR, "hashlist-rejected", {"file": str(path), "reason": reason})
        if tolerate_errors:
            err.print(f"[bold red]hash list {_t(path)} not imported:[/] {_t(reason)}")
            return False
        _fail(f"{path}: {reason}")
    if result.already_imported:
        err.print(f"Hash list [bold]{_t(result.name)}[/] is already in the case ({result.entries} entries).")
        return True
    err.print(f"Imported hash list [bold]{_t(result.name)}[/]: {result.entries} entries, {result.pdq_indexed} PDQ "
              f"indexed, {result.skipped} lines skipped; new matches: {result.new_matches}")
    for note in result.notes:
        err.print(f"  note: {_t(note)}")
    for problem in result.problems[:20]:
        err.print(f"  [yellow]skipped[/] {_t(problem)}")
    if len(result.problems) > 20:
        err.print(f"  … {len(result.problems) - 20} more (all listed by `vigie hashlist show`)")
    return True


@main.group()
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

    \b
    Formats: text (one hash per line; MD5 and SHA-1 by length; a 64-digit value that does not say
    SHA-256 or PDQ is matched both ways), python-threatexchange's `<signal_type> <value>` lines,
    CSV with a header (md5, sha1, sha256, pdq, hash, category, label, series, ...),
    VICS JSON 1.3 (odata.metadata ...#Media) and 2.0 (@odata.context ...#Cases),
    vPDQ (frame_number,quality,pdq_hex,timestamp lines or tx's JSON array; a file per video, or a
    folder of them; the file name labels the video), NSRL RDS (NSRLFile.txt, or an RDSv3 SQLite
    database). Bad lines are reported with their line number and skipped.
    """
    settings = _settings(case)
    store = _open_case(case)  # a mistyped --case is refused, not made into an empty case
    try:
        with _stop_on_full_disk("the import", "The list is not in the case (its import is one transaction)."):
            _import_list(store, file, settings, name, fmt, scheme, signal, category, tolerate_errors=False)
    finally:
        store.close()


@hashlist.command("list")
@case_option
def hashlist_list(case: Path) -> None:
    """List the case's hash lists."""
    store = _open_case(case)
    table = Table("id", "name", "format", "entries", "skipped lines", "imported", "file")
    for h in store.hash_lists():
        table.add_row(str(h.id), h.name, h.format, str(h.entry_count), str(len(h.problems)), h.imported_at,
                      h.file_name)
    out.print(table)


@hashlist.command("show")
@click.argument("name")
@case_option
def hashlist_show(name: str, case: Path) -> None:
    """Show one list with its import notes and every line that was skipped on import."""
    store = _open_case(case)
    for h in store.hash_lists():
        if h.name == name:
            out.print(f"{_t(h.name)}: {h.entry_count} entries from {_t(h.file_name)} ({h.format}), "
                      f"sha256 {h.file_sha256}")
            for note in h.notes:
                out.print(f"  note: {_t(note)}")
            for problem in h.problems:
                out.print(f"  skipped {_t(problem)}")
            return
    _fail(f"no hash list named {name!r} in {case}")


# --- faces --------------------------------------------------------------------------------------


def _check_face_models(settings: Settings) -> None:
    from vigie.signals.faces import FaceModelError, check_models

    try:
        check_models(settings.face_detector, settings.face_model)
    except FaceModelError as exc:
        _fail(str(exc), 2)


@main.group()
def faces() -> None:
    """Group a case's faces into persons, and find where a given person's face was used.

    Faces are found by `vigie scan --faces`. Embeddings stay in the case; `vigie faces purge`
    removes them. Every search is written to the audit log.
    """


@faces.command("scan")
@case_option
@click.option("--face-detector", type=click.Choice(["hog", "yunet"]),
              help="Face detector [default: hog, or yunet with --face-model].")
@click.option("--face-model", type=click.Path(exists=True, dir_okay=False), help="YuNet ONNX file (selects yunet).")
def faces_scan(case: Path, face_detector: str | None, face_model: str | None) -> None:
    """Add faces to the images of a case scanned without --faces.

    Each image is read again, read-only, from the evidence, and searched only if its SHA-256 is still
    the one the scan recorded; images that cannot be are named in the case's errors. Images that
    already hold faces are skipped, so the command can be run again.
    """
    from vigie.matching.faces.rescan import FACES_SCAN_ACTION, scan_faces

    settings = _settings(case, faces=True, face_detector=face_detector or ("yunet" if face_model else None),
                         face_model=face_model)
    store = _open_case(case)
    _check_face_models(settings)
    try:
        with progress_bars() as progress:
            task = progress.add_task("Searching faces", total=None)
            result = scan_faces(store, settings, lambda: progress.advance(task))
        store.append_audit(ACTOR, FACES_SCAN_ACTION, {"images": result.images, "faces": result.faces,
                                                      "not_searched": result.unreadable,
                                                      "detector": settings.face_detector})
    finally:
        store.close()
    out.print(f"{result.faces} faces in {result.images} images searched; {result.unreadable} could not be "
              "searched (see the case's errors). Next: vigie faces group --case " + str(case))


@faces.command("group")
@case_option
def faces_group(case: Path) -> None:
    """Cluster the case's faces into persons (Chinese whispers on the embedding graph)."""
    from vigie.matching.faces.persons import MATCH_DISTANCE, group_faces
    from vigie.signals.faces import FaceModelError

    store = _open_case(case)
    try:
        counts = group_faces(store)
    except FaceModelError as exc:
        store.close()
        _fail(str(exc), 2)
    store.append_audit(ACTOR, "faces-group", {**counts, "threshold": MATCH_DISTANCE})
    persons = store.persons()
    store.close()
    table = Table("person", "name", "faces", "items", "representative face")
    for person in persons:
        table.add_row(str(person["id"]), person["name"] or "", str(person["faces"]), str(person["items"]),
                      str(person["representative_face"]))
    out.print(table)
    out.print(f"{counts['faces']} faces in {counts['persons']} persons.")


@faces.command("name")
@click.argument("person", type=int)
@click.argument("name")
@case_option
def faces_name(person: int, name: str, case: Path) -> None:
    """Give PERSON a NAME (kept through later groupings)."""
    store = _open_case(case)
    if not store.name_person(person, name):
        _fail(f"no person {person} in {case}")
    store.append_audit(ACTOR, "person-name", {"person": person, "name": name})
    out.print(f"Person {person} is now {_t(repr(name))}.")


@faces.command("merge")
@click.argument("keep", type=int)
@click.argument("absorb", type=int)
@case_option
def faces_merge(keep: int, absorb: int, case: Path) -> None:
    """Move every face of person ABSORB into person KEEP."""
    store = _open_case(case)
    moved = store.merge_persons(keep, absorb)
    store.append_audit(ACTOR, "person-merge", {"keep": keep, "absorb": absorb, "faces_moved": moved})
    out.print(f"Moved {moved} faces from person {absorb} to person {keep}.")


@faces.command("find")
@case_option
@click.option("--reference", "references", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Photo of the person (repeatable; the largest face of each is used). Read, never copied.")
@click.option("--json", "as_json", is_flag=True, help='One JSON line per hit: {"path", "face", "distance", "verdict"}.')
@click.option("--all", "include_no", is_flag=True, help="Also list faces judged 'no'.")
def faces_find(case: Path, references: tuple[Path, ...], as_json: bool, include_no: bool) -> None:
    """Rank every face in the case by its distance to the reference person: match, possible or no.

    Montages count: a face pasted onto another body or scene is found like any other.
    """
    import hashlib

    from vigie.matching.faces.persons import embed_references, find_person
    from vigie.matching.faces.rescan import faces_searched

    store = _open_case(case)
    if not faces_searched(store):  # "0 match" would read as "not in the seizure"
        _fail(f"no face data in {case}: faces were never searched. Add them with `vigie faces scan --case {case}`.",
              2)
    settings = _settings(case)
    _check_face_models(settings)
    try:
        reference_faces = embed_references(list(references), settings)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    hits = find_person(store, reference_faces, include_no)
    store.append_audit(ACTOR, "faces-find", {
        "references_sha256": [hashlib.sha256(p.read_bytes()).hexdigest() for p in references],
        "hits": sum(h.verdict != "no" for h in hits),
    })
    store.close()
    for hit in hits:
        if as_json:
            print(json.dumps({"path": hit.path, "face": hit.face_id, "distance": hit.distance, "verdict": hit.verdict,
                              "box": hit.box}))
        else:
            out.print(f"{hit.verdict:<9} {hit.distance:.3f}  face {hit.face_id:<6} {_t(hit.path)}")
    if not as_json:
        out.print(f"{sum(h.verdict == 'match' for h in hits)} match, {sum(h.verdict == 'possible' for h in hits)} "
                  "possible.")


@faces.command("eval")
@click.argument("pairs", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--threshold", type=float, help="Distance at or below which a pair is 'same' [0.55].")
@click.option("--json", "as_json", is_flag=True)
@click.option("--face-model", type=click.Path(exists=True, dir_okay=False), help="Use YuNet from this file.")
def faces_eval(pairs: Path, threshold: float | None, as_json: bool, face_model: str | None) -> None:
    """Verification accuracy on PAIRS (CSV: file_x,file_y,same; paths relative to the CSV's folder).

    A pair where a face is not found counts as wrong.
    """
    from dataclasses import asdict

    from vigie.matching.faces.persons import MATCH_DISTANCE, evaluate_pairs

    settings = _settings(None, face_model=face_model, face_detector="yunet" if face_model else None)
    _check_face_models(settings)
    result = evaluate_pairs(pairs, settings, MATCH_DISTANCE if threshold is None else threshold)
    if as_json:
        print(json.dumps(asdict(result)))
    else:
        out.print(f"{result.pairs} pairs, accuracy {result.accuracy:.2%} at distance {result.threshold}, "
                  f"{result.undetected} with a face not found")


@faces.command("purge")
@case_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def faces_purge(case: Path, yes: bool) -> None:
    """Remove every face embedding and face crop from the case, and the persons built from them."""
    if not yes:
        click.confirm(f"Remove all face embeddings and crops from {case}?", abort=True)
    store = _open_case(case)
    removed = store.purge_faces()
    store.append_audit(ACTOR, "faces-purge", {"faces": removed})
    store.close()
    out.print(f"Removed the embeddings and crops of {removed} faces.")


# --- reports ------------------------------------------------------------------------------------


@main.command()
@case_option
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="html", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write [stdout].")
@click.option("--thumbnails", is_flag=True, help="HTML only: add blurred greyscale thumbnails of matched items.")
def report(case: Path, fmt: str, output: Path | None, thumbnails: bool) -> None:
    """Write the case report: counts, matches by list and category, stacks, and unreadable files.

    The HTML report holds no image content unless --thumbnails is given (blurred, greyscale).
    """
    from vigie.exports.report import write_report
    from vigie.signals.thumbnails import report_thumbnails

    store = _open_case(case)
    thumbs = None
    if thumbnails and fmt == "html":
        thumbs = report_thumbnails(store.matched_image_locations(), _settings(case))
        for item_id in store.matched_video_ids():
            stills = store.video_stills(item_id)
            if stills:
                thumbs[item_id] = stills[0][2]  # stored blurred at scan time
    with _stop_on_full_disk("the report", "The case is unchanged; the report file may be incomplete."):
        try:  # written as it is read (a million items are never held at once), then audited
            if output is None:
                write_report(store, fmt, sys.stdout, thumbs)
            else:
                with output.open("w", encoding="utf-8") as handle:
                    write_report(store, fmt, handle, thumbs)
            store.append_audit(ACTOR, "report", {"format": fmt, "output": str(output) if output else "stdout",
                                                 "thumbnails": bool(thumbs)})
        finally:
            store.close()
        if output is not None:
            err.print(f"Wrote {fmt.upper()} report to {_t(output)}")


# --- review console, accounts and exports -------------------------------------------------------


@main.command()
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
        _fail("--tls-cert and --tls-key go together", 2)
    from vigie.web.app import create_app, ensure_admin
    from vigie.web.hosts import AllowedHosts
    from vigie.web.serving import start_console
    from vigie.web.tls import TlsFiles, case_certificate, fingerprint

    store = _open_case(case)
    store.close()
    if store.read_only:
        _fail("the case folder is read-only: the console records every login, reveal and decision in the case's "
              "audit log (verify, export and report work read-only)")
    password = ensure_admin(case)
    files, made = None, False
    if tls_cert and tls_key:
        files = TlsFiles(tls_cert, tls_key)
    elif tls:
        try:
            files, made = case_certificate(case, AllowedHosts.for_address(host, port, allowed_hosts).names())
        except OSError as exc:
            _fail(f"cannot write the console's certificate in {case}: {exc}")
    app = create_app(case, _settings(case), secure_cookies=files is not None)
    try:
        console = start_console(app, host, port, threads, allowed_hosts, files)
    except (OSError, ValueError) as exc:
        _fail(f"cannot serve on {host}:{port}: {exc}")
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


@main.group()
def user() -> None:
    """Console accounts: admin, reviewer, read-only."""


@user.command("add")
@click.argument("username")
@case_option
@click.option("--role", type=click.Choice(["admin", "reviewer", "read-only"]), default="reviewer", show_default=True)
def user_add(username: str, case: Path, role: str) -> None:
    """Create an account and print its one-time password."""
    from vigie.store.accounts import AccountError, Accounts, new_password

    store = _open_case(case)
    password = new_password()
    try:
        Accounts(store).create_user(username, password, role, actor=ACTOR)
    except AccountError as exc:
        _fail(str(exc), 2)
    out.print(f"Created {_t(username)} ({role}). Password (shown once): {password}")


@user.command("password")
@click.argument("username")
@case_option
def user_password(username: str, case: Path) -> None:
    """Give an account a new password (and end its sessions); prints the password once."""
    from vigie.store.accounts import AccountError, Accounts, new_password

    store = _open_case(case)
    password = new_password()
    try:
        Accounts(store).set_password(username, password, actor=ACTOR)
    except AccountError as exc:
        _fail(str(exc), 2)
    out.print(f"New password for {_t(username)} (shown once): {password}")


@main.command("export")
@case_option
@click.option("--format", "fmt", required=True,
              type=click.Choice(["vics", "vics-1.3", "csv", "hashlist", "cybertip", "case-report", "case-report-pdf"]),
              help="vics: Project VIC VICS 2.0 JSON; csv: decisions; hashlist: MD5/SHA-1/PDQ with category; "
                   "cybertip: NCMEC CyberTipline report draft (XML); case-report: printable HTML or PDF.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write [the case's name and format, in the current folder]; - for stdout.")
@click.option("--item", "items", multiple=True, type=int, help="Only this item id (repeatable) [all reviewed].")
@click.option("--category", "categories", multiple=True, help="Only items of this category (repeatable).")
@click.option("--reporter-first-name", default="TO COMPLETE", help="CyberTipline draft: reporting person.")
@click.option("--reporter-last-name", default="TO COMPLETE")
@click.option("--reporter-email", default="TO COMPLETE")
def export_cmd(case: Path, fmt: str, output: Path | None, items: tuple[int, ...], categories: tuple[str, ...],
               reporter_first_name: str, reporter_last_name: str, reporter_email: str) -> None:
    """Export reviewed items (one record per distinct file) for sharing or reporting. Audited."""
    from vigie.exports.cybertip import Reporter
    from vigie.exports.run import ExportError, run_export

    store = _open_case(case)
    try:
        result = run_export(
            store, ACTOR, fmt, list(items) or None, list(categories) or None,
            Reporter(reporter_first_name, reporter_last_name, reporter_email),
            destination="stdout" if output == Path("-") else str(output or "default file"),
        )
    except ExportError as exc:
        _fail(str(exc), 2)
        raise
    finally:
        store.close()
    if output == Path("-"):
        sys.stdout.buffer.write(result.content)
        return
    target = output or Path(result.file_name)
    target.write_bytes(result.content)
    what = f"{fmt} export of {result.items} file(s)" if result.items else fmt
    err.print(f"Wrote {what} to {_t(target)} (audit entry {result.audit.seq})")


@main.group()
def review() -> None:
    """Review decisions from a script, recorded and audited exactly as the console's."""


@review.command("decide")
@case_option
@click.option("--item", "items", multiple=True, type=int, help="This item (repeatable); one decision each.")
@click.option("--stack", "stacks", multiple=True, type=int, help="Every item of this stack (repeatable).")
@click.option("--all", "all_entries", is_flag=True, help="Every entry of the review queue, stack by stack.")
@click.option("--list", "list_name", metavar="NAME",
              help="Every item hash list NAME matched; without --category each takes its entry's category.")
@click.option("--category", help="Category code in the scheme (e.g. 1 for Project VIC US, A for UK CAID).")
@click.option("--scheme", type=click.Choice(["projectvic-us", "uk-caid", "custom"]),
              help="Scheme of the decisions [the case's].")
@click.option("--ai-tag", "ai_tags", multiple=True, metavar="TAG",
              help="ai-generated, deepfake, hybrid, real-victim or not-pertinent (repeatable).")
@click.option("--industry-class", help="CyberTipline industry classification: A1, A2, B1 or B2.")
@click.option("--note", help="A note added to every item decided.")
@click.option("--skip-decided", is_flag=True, help="Leave items that already have a decision as they are.")
def review_decide(case: Path, items: tuple[int, ...], stacks: tuple[int, ...], all_entries: bool,
                  list_name: str | None, category: str | None, scheme: str | None, ai_tags: tuple[str, ...],
                  industry_class: str | None, note: str | None, skip_decided: bool) -> None:
    """Record a decision for items, stacks, the whole queue, or a hash list's matches. Audited.

    \b
    Examples:
      vigie review decide --case ./case-042 --stack 3 --category 1 --ai-tag ai-generated
      vigie review decide --case ./case-042 --list ncmec --skip-decided
    Exit status 2 when a category, tag, id or list is unknown (nothing is recorded), 1 when some items
    a list matched could not be decided (the others are), 0 otherwise.
    """
    from vigie.review.scripted import Selection, SelectionError, plan_decisions, record
    from vigie.store.review import DecisionError, ReviewTables

    if note is not None and not 0 < len(note.strip()) <= 4000:
        _fail("a note is 1 to 4000 characters of text", 2)
    store = _open_case(case)
    try:
        review_tables = ReviewTables(store)
        plan = plan_decisions(review_tables, Selection(items, stacks, all_entries, list_name), category, scheme,
                              ai_tags, industry_class, skip_decided)
        entries = record(review_tables, ACTOR, plan, note.strip() if note else None)
    except (DecisionError, SelectionError) as exc:
        _fail(str(exc), 2)
        raise
    finally:
        store.close()
    decided = sum(len(p.items) for p in plan.decisions)
    seqs = f" (audit entries {entries[0].seq}–{entries[-1].seq})" if entries else ""
    err.print(f"Decided {decided} item(s) in {len(plan.decisions)} decision(s){seqs}.")
    if plan.already_decided:
        err.print(f"  {plan.already_decided} item(s) already decided, left as they were (--skip-decided).")
    reasons: dict[str, list[int]] = {}
    for item_id, reason in plan.left:
        reasons.setdefault(reason, []).append(item_id)
    for reason, left in reasons.items():
        ids = ", ".join(map(str, left[:20])) + (f" and {len(left) - 20} more" if len(left) > 20 else "")
        err.print(f"  [yellow]not decided[/] item{'s' if len(left) > 1 else ''} {ids}: {_t(reason)}")
    if plan.left:
        sys.exit(1)


# --- fingerprints -------------------------------------------------------------------------------


def _analyse_file(path: str, settings: Settings) -> Any:
    """The record of one file outside any case; prints a JSON error line and returns None if unreadable."""
    from vigie.signals.analysis import analyse_entry
    from vigie.sources.directory import FileSource

    try:
        source = FileSource(path)
        return analyse_entry(next(source.entries()), lambda: source.open(""), settings)[0]
    except OSError as exc:
        print(json.dumps({"path": path, "errors": [f"cannot read: {exc.strerror or exc}"]}))
        return None


@main.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def hash_files(files: tuple[str, ...]) -> None:
    """Print fingerprints of FILES, one JSON line each: md5, sha1, sha256, pdq and quality; for a video
    also its vPDQ frame hashes ("vpdq": frame_number,quality,pdq_hex,timestamp lines).

    The picture itself never leaves the machine: share these lines instead, so a platform or the
    police can find copies without anyone seeing the image.
    """
    settings = Settings()
    for path in files:
        record = _analyse_file(path, settings)
        if record is None:
            continue
        line: dict[str, Any] = {
            "path": path, "size": record.size, "media_type": record.media_type,
            **{s.name: record.digests.get(s.name) for s in DIGESTS}, "pdq": record.pdq,
            "quality": record.pdq_quality,
        }
        if record.codec is not None:
            line |= {"duration": record.duration, "codec": record.codec, "frame_rate": record.frame_rate,
                     "vpdq": [frame.vpdq_line() for frame in record.frames]}
        line["errors"] = [f"{stage}: {message}" for stage, message in record.errors]
        print(json.dumps(line))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--trust", type=click.Path(exists=True, dir_okay=False), help="PEM file of C2PA signers to trust.")
@click.option("--no-watermarks", is_flag=True, help="Skip decoding invisible watermarks.")
@click.option("--no-detector", is_flag=True, help="Skip the statistical detector.")
def provenance(files: tuple[str, ...], trust: str | None, no_watermarks: bool, no_detector: bool) -> None:
    """Print the AI-generation finding of FILES outside any case, one JSON line each.

    {"path", "media_type", "ai": {"verdict", "signals": [{kind, detail, value, strength}], "detector": {score,
    threshold, model}}}. The verdict is "ai-provenance" when a deterministic mark of generation is found,
    "ai-indicated" when only the statistical detector is above its threshold, else "undetermined"; never
    "real". An image's detector score is shown whether it is above the threshold or not (higher: more likely
    generated); null when the detector is off.
    """
    from vigie.signals.provenance.verdict import ai_verdict

    settings = Settings(c2pa_trust_anchors=trust or "", watermarks=not no_watermarks, detector=not no_detector)
    for path in files:
        record = _analyse_file(path, settings)
        if record is None:
            continue
        print(json.dumps({
            "path": path, "media_type": record.media_type, "ai": ai_verdict(record.findings, record.media_type),
            "errors": [f"{stage}: {message}" for stage, message in record.errors],
        }, ensure_ascii=False))


@main.group()
def ai() -> None:
    """The statistical AI-image detector: train it, make aligned synthetic copies, evaluate it.

    Training needs PyTorch (`pip install -e '.[train]'`); scanning uses the ONNX model alone.
    """


def _autoencoder_files(folder: Path) -> tuple[Path, Path]:
    encoder, decoder = folder / "taef2_encoder.pth", folder / "taef2_decoder.pth"
    if not (encoder.exists() and decoder.exists()):
        _fail(f"{folder} must hold taef2_encoder.pth and taef2_decoder.pth (the tiny autoencoder's weights)", 2)
    return encoder, decoder


@ai.command("train")
@click.option("--real", "real", multiple=True, required=True, type=click.Path(exists=True, file_okay=False,
              path_type=Path), help="Folder of camera photos (repeatable).")
@click.option("--generated", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of generated images to add, unaligned (repeatable, optional).")
@click.option("--autoencoder", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Folder with taef2_encoder.pth and taef2_decoder.pth, to make the aligned synthetic copies.")
@click.option("--hold-out", "hold_out", default="nikon-natural", show_default=True,
              help="Photos under a folder of this name never train; they calibrate and evaluate.")
@click.option("--held-out-share", default=0.2, show_default=True, help="Share of the other photos held out too.")
@click.option("--tiles-per-photo", default=8, show_default=True)
@click.option("--pairs-per-tile", default=48, show_default=True)
@click.option("--epochs", default=16, show_default=True)
@click.option("--seed", default=7, show_default=True)
@click.option("--workers", type=click.IntRange(1, 256), default=os.cpu_count() or 1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Model path without suffix: writes PATH.onnx and PATH.json.")
def ai_train(real: tuple[Path, ...], generated: tuple[Path, ...], autoencoder: Path, hold_out: str,
             held_out_share: float, tiles_per_photo: int, pairs_per_tile: int, epochs: int, seed: int, workers: int,
             output: Path) -> None:
    """Train the detector from scratch on aligned pairs and calibrate it for <= 1% false positives."""
    import time as clock

    import numpy as np
    import torch

    from vigie.detector import runtime, training

    torch.set_num_threads(workers)
    started = clock.monotonic()
    photos = training.list_images(list(real))
    train_photos, held_out = training.split_photos(photos, held_out_share, hold_out, seed)
    err.print(f"{len(photos)} photos: {len(train_photos)} train, {len(held_out)} held out")
    x, y = training.build_pairs(train_photos, _autoencoder_files(autoencoder), tiles_per_photo, pairs_per_tile,
                                workers, seed, err.print)
    if generated:
        extra = training.unaligned_crops(training.list_images(list(generated)), pairs_per_tile, seed)
        x, y = np.concatenate([x, extra]), np.concatenate([y, np.ones(len(extra), dtype=np.float32)])
    err.print(f"{len(y)} crops ({int(y.sum())} generated), training")
    model, loss = training.train_model(x, y, epochs, seed, err.print)
    threshold, calibration_images = training.calibrate(model, held_out, train_photos)
    info = {
        "threshold": round(threshold, 4),
        "crop": runtime.CROP, "grid": 3,
        "command": "vigie " + " ".join(sys.argv[1:]) if sys.argv else "",
        "train_photos": len(train_photos), "held_out_photos": [p.name for p in held_out],
        "calibration_images": calibration_images, "training_crops": len(y), "final_loss": round(loss, 4),
        "epochs": epochs, "seed": seed, "minutes": round((clock.monotonic() - started) / 60, 1),
    }
    training.write_model(model, output, info)
    err.print(f"Wrote {output.with_suffix('.onnx')} (threshold {threshold:.3f}) in {info['minutes']} min")


@ai.command("synthesize")
@click.option("--real", "real", multiple=True, required=True, type=click.Path(exists=True, file_okay=False,
              path_type=Path))
@click.option("--autoencoder", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--held-out-of", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A model's .json: use only the photos it held out of training.")
@click.option("--tiles-per-photo", default=2, show_default=True)
@click.option("--seed", default=11, show_default=True)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True)
def ai_synthesize(real: tuple[Path, ...], autoencoder: Path, held_out_of: Path | None, tiles_per_photo: int, seed: int,
                  output: Path) -> None:
    """Write aligned 256-px tiles: OUTPUT/real, OUTPUT/autoencoded, OUTPUT/upsampled (for `ai eval`)."""
    from PIL import Image

    from vigie.detector import training

    photos = training.list_images(list(real))
    if held_out_of:
        keep = set(json.loads(held_out_of.read_text())["held_out_photos"])
        photos = [p for p in photos if p.name in keep]
    for name in ("real", "autoencoded", "upsampled"):
        (output / name).mkdir(parents=True, exist_ok=True)
    training._init_worker(*map(str, _autoencoder_files(autoencoder)))
    count = 0
    for index, photo in enumerate(photos):
        for tile_index, tiles in enumerate(training._make_tiles((str(photo), tiles_per_photo, seed + index))):
            stem = f"{photo.stem}-{tile_index}.png"
            for name, tile in zip(("real", "autoencoded", "upsampled"), tiles[:3], strict=True):
                Image.fromarray(tile).save(output / name / stem)
            count += 1
    out.print(f"{count} aligned tiles from {len(photos)} photos in {output}")


@ai.command("eval")
@click.option("--real", "real", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--generated", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", type=click.Path(exists=True, dir_okay=False), help="ONNX model [the shipped one].")
@click.option("--json", "as_json", is_flag=True)
def ai_eval(real: Path, generated: Path, model: str | None, as_json: bool) -> None:
    """AUC and true-positive rate at 1% false positives, with bootstrap 95% intervals, as the images are and
    after JPEG q75-95 and resizing to 50-90%."""
    import random

    import numpy as np
    from PIL import Image

    from vigie.detector.evaluation import evaluate
    from vigie.detector.runtime import load_detector
    from vigie.detector.training import list_images, perturbed

    detector = load_detector(model or "")
    if detector is None:
        _fail("no detector model: train one with `vigie ai train`")
    assert detector is not None
    results = {}
    for condition in ("as-is", "jpeg-q75-95-resized"):
        rng = random.Random(5)
        scores = []
        for folder in (real, generated):
            values = []
            for path in list_images([folder]):
                with Image.open(path) as opened:
                    image = opened.convert("RGB") if condition == "as-is" else perturbed(opened, rng)
                    score = detector.score(image)
                if score is not None:
                    values.append(score)
            scores.append(np.array(values))
        results[condition] = evaluate(scores[0], scores[1], detector.threshold)
    if as_json:
        print(json.dumps({k: {m: (v.__dict__ if hasattr(v, "__dict__") else v) for m, v in r.items()}
                          for k, r in results.items()}))
        return
    for condition, result in results.items():
        out.print(f"{condition}: {result['real']} real, {result['generated']} generated; AUC {result['auc']}; "
                  f"TPR at 1% FPR {result['tpr_at_1pct_fpr']}; at the model's threshold: FPR "
                  f"{result['fpr_at_threshold']:.3f}, TPR {result['tpr_at_threshold']:.3f}")


# --- integrity ----------------------------------------------------------------------------------


@main.command()
@case_option
@click.option("--workers", type=click.IntRange(1, 256), help="Files hashed at once [default: all cores].")
def verify(case: Path, workers: int | None) -> None:
    """Re-hash the evidence and list files that changed or went missing since the scan.

    Exit code 0 when everything matches, 3 when something changed or is missing.
    """
    from vigie.scan.verify import verify_case

    settings = _settings(case, workers=workers)
    store = _open_case(case)
    with progress_bars() as progress:
        items = list(store.top_level_items())
        task = progress.add_task("Re-hashing evidence", total=len(items))
        findings = verify_case(items, settings.workers, lambda: progress.advance(task))
    bad = [f for f in findings if f.status != "ok"]
    store.append_audit(ACTOR, "verify", {"files": len(findings), "problems": len(bad),
                                         "changed": [f.path for f in bad][:1000]})
    store.close()
    for finding in bad:
        out.print(f"[bold red]{finding.status.upper():10}[/] {_t(finding.path)}  [dim]{_t(finding.detail)}[/]")
    for finding in findings:  # a disk image's own stored digests are shown whatever they say
        if finding.stored and finding.status == "ok":
            out.print(f"[green]{'IMAGE':10}[/] {_t(finding.path)}  {_t(finding.stored)}")
    out.print(f"{len(findings)} files checked, {len(bad)} changed, missing or unreadable.")
    sys.exit(3 if bad else 0)


@main.group()
def audit() -> None:
    """The case's append-only, hash-chained audit log."""


@audit.command("verify")
@case_option
@click.option("--anchor", "anchors", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An anchor written by `vigie audit anchor` (repeatable): its head must still be in the chain.")
@click.option("--head", "heads", multiple=True, metavar="SEQ:HASH",
              help="A head read off a printed case report (repeatable): it must still be in the chain.")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The examiner's Ed25519 public key (PEM): every anchor must carry a valid signature by it.")
def audit_verify(case: Path, anchors: tuple[Path, ...], heads: tuple[str, ...], public_key: Path | None) -> None:
    """Check the hash chain (any edited, inserted or deleted entry), the anchored heads (a cut tail, a wiped or
    rewritten log), and that decisions, notes, items and matches still say what the log says. Exit 3 if not."""
    from vigie.store.anchors import AnchorError, check_anchor, parse_head, read_anchor
    from vigie.store.audit import verify_audit_log

    store = _open_case(case)
    check = verify_audit_log(store)
    try:
        key = public_key.read_bytes() if public_key else None
        for path in anchors:
            check.problems += check_anchor(store, str(path), read_anchor(path), key)
        for head in heads:
            check.problems += check_anchor(store, f"head {head}", parse_head(head))
    except AnchorError as exc:
        _fail(str(exc), 2)
    finally:
        store.close()
    for problem in check.problems:
        out.print(f"[bold red]BROKEN[/] {_t(problem)}", soft_wrap=True)
    if not check.ok:
        out.print(f"{len(check.problems)} problem(s) in {check.entries} entries.")
        sys.exit(3)
    out.print(f"Audit log intact: {check.entries} entries, head {check.head_seq}:{check.head}", soft_wrap=True)
    state = f"items and matches as recorded by entry {check.state_seq}" if check.state_seq else \
        "no recorded state of items and matches yet"
    out.print(f"Tables match the log: {check.decisions} decided item(s), {check.notes} note(s); {state}.",
              soft_wrap=True)
    if anchors or heads:
        out.print(f"{len(anchors) + len(heads)} anchored head(s) found in the chain"
                  + (", signatures valid." if public_key else "."))


@audit.command("anchor")
@case_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write [stdout]. Keep it outside the case: mail it, print it.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Sign the anchor with this Ed25519 private key (PEM; openssl genpkey -algorithm ed25519).")
def audit_anchor(case: Path, output: Path | None, key: Path | None) -> None:
    """Write the log's head (sequence, hash) with the time, as a small JSON file to keep outside the case.

    `vigie audit verify --anchor FILE` later shows whether the log was cut, wiped or rewritten since.
    """
    from vigie.store.anchors import AnchorError, load_private_key, make_anchor
    from vigie.store.audit import verify_audit_log

    try:
        signing_key = load_private_key(key.read_bytes()) if key else None
    except AnchorError as exc:
        _fail(f"{key}: {exc}", 2)
        raise
    store = _open_case(case)
    check = verify_audit_log(store)
    if not check.ok:
        store.close()
        _fail("the audit log fails its checks (run `vigie audit verify`); an anchor would vouch for it", 3)
    # The anchoring is itself logged, and the anchor holds that entry: it vouches for all before it.
    entry = store.append_audit(ACTOR, "audit-anchor", {"output": str(output) if output else "stdout",
                                                       "signed": key is not None})
    seq, digest = (entry.seq, entry.hash) if entry.seq else (check.head_seq, check.head or "")
    if not seq:
        store.close()
        _fail("the audit log is empty: there is nothing to anchor")
    anchor = make_anchor(store, seq, digest, signing_key)
    store.close()
    text = json.dumps(anchor, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        sys.stdout.write(text)
        _fail(f"cannot write {output} ({exc.strerror}); the anchor is printed above: keep it")
    err.print(f"Anchored entry {seq} ({digest}) in {_t(output)}", soft_wrap=True)


@audit.command("show")
@case_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit_show(case: Path, as_json: bool) -> None:
    """Print the audit log."""
    store = _open_case(case)
    for entry in store.audit_entries():
        if as_json:
            print(json.dumps(entry.__dict__, ensure_ascii=False))
        else:
            out.print(f"{entry.seq:>5} {entry.at} {_t(entry.actor):<12} {entry.action:<18} "
                      f"{_t(json.dumps(entry.details, ensure_ascii=False)[:200])}")
    store.close()


# --- demo ---------------------------------------------------------------------------------------


def _hostile_demo(directory: Path, workers: int | None) -> None:
    from vigie.demo.hostile import build_hostile_seizure
    from vigie.scan.pipeline import run_scan

    layout = build_hostile_seizure(directory)
    err.print(f"Hostile evidence in {_t(layout.evidence)}; lists: {', '.join(p.name for p in layout.lists)}")
    settings = _settings(layout.case, workers=workers)
    store = _open_case(layout.case, create=True)
    try:
        for hash_list in layout.lists:
            _import_list(store, hash_list, settings, None, "auto", None, None, None, tolerate_errors=True)
        with progress_bars() as progress:
            run_scan(store, [str(layout.evidence)], settings, progress, actor=ACTOR)
        matched = {item["sha256"] for item in store.iter_report_items() if item["matches"]}
        read = {item["sha256"] for item in store.iter_report_items()}
    finally:
        store.close()
    for where, sha256 in layout.hidden.items():
        out.print(f"  {'[green]found[/]  ' if sha256 in matched else '[bold red]MISSED[/] '} {_t(where)}")
    outside = hashlib.sha256(layout.outside.read_bytes()).hexdigest() if layout.outside else None
    out.print(f"  {'[bold red]READ[/]   ' if outside in read else '[green]not read[/]'} {_t(layout.outside)} "
              "(reachable only through a link out of the evidence)")
    found = sum(sha256 in matched for sha256 in layout.hidden.values())
    out.print(f"{found} of {len(layout.hidden)} hidden known pictures found. Case: {layout.case}")
    if found < len(layout.hidden) or outside in read:
        sys.exit(1)


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("vigie-demo"),
              show_default=True, help="Where to build the demo evidence, case and report.")
@click.option("--workers", type=click.IntRange(1, 256), help="Worker processes [default: all cores].")
@click.option("--hostile", is_flag=True,
              help="Build a seizure that hides known pictures where evasions put them, and check each is found.")
def demo(directory: Path, workers: int | None, hostile: bool) -> None:
    """Build a benign demo seizure (drawn images, altered copies, duplicates, a corrupt file, a zip),
    a demo hash list, scan it, and write the HTML report.

    With --hostile: known pictures hidden behind names that are not UTF-8, repeated archive member
    names, `X!` folders, a mis-encoded zip, a PNG chunk bomb, page 2 of a TIFF, 8 MiB of XMP bait, and a
    link out of the evidence; lists as Meta, python-threatexchange and NSRL write them."""
    if hostile:
        _hostile_demo(directory, workers)
        return
    from vigie.demo.seizure import build_demo
    from vigie.exports.report import render
    from vigie.scan.pipeline import run_scan

    layout = build_demo(directory)
    err.print(f"Demo evidence in {_t(layout.evidence)}, hash list {_t(layout.hashlist)}")
    settings = _settings(layout.case, workers=workers)
    store = _open_case(layout.case, create=True)
    _import_list(store, layout.hashlist, settings, "demo-list", "auto", None, None, None, tolerate_errors=False)
    with progress_bars() as progress:
        run_scan(store, [str(layout.evidence)], settings, progress, actor=ACTOR)
    layout.report.write_text(render(store, "html"), encoding="utf-8")
    summary = store.summary()
    store.append_audit(ACTOR, "report", {"format": "html", "output": str(layout.report), "thumbnails": False})
    store.close()
    out.print(f"{summary['items']} items: {summary['exact_matched_items']} known, {summary['near_matched_items']} "
              f"altered copies, {summary['stacks']} stacks, {summary['items_with_errors']} with errors.")
    out.print(f"Report: {layout.report}")
    out.print(f"Review it in the console: vigie serve --case {layout.case}")


if __name__ == "__main__":
    main()
