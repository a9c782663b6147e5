"""`vigie verify` and `vigie audit`: the evidence unchanged, and the audit log intact."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from vigie.cli.common import _t, case_option, case_store, checked_output, err, examiner, out, print_audit, progress_bars
from vigie.config import load_settings
from vigie.errors import VigieError


@click.command()
@case_option
@click.option("--workers", type=click.IntRange(1, 256), help="Files hashed at once [default: all cores].")
def verify(case: Path, workers: int | None) -> None:
    """Re-hash the evidence and list files that changed or went missing since the scan.

    Exit code 0 when everything matches, 3 when something changed or is missing. A file that could not be read
    when scanned, nor now, has nothing to compare: it is listed and counted as never read (not verified).
    """
    from vigie.scan.verify import verify_evidence

    settings = load_settings(case, {"workers": workers})
    with case_store(case) as store, progress_bars() as progress:
        def start(files: int) -> Callable[[], None]:
            task = progress.add_task("Re-hashing evidence", total=files)
            return lambda: progress.advance(task)

        findings = verify_evidence(store, settings.workers, examiner(), start)
    bad = [f for f in findings if f.problem]
    for finding in bad:
        out.print(f"[bold red]{finding.status.upper():10}[/] {_t(finding.path)}  [dim]{_t(finding.detail)}[/]")
    never_read = [f for f in findings if f.status == "never-read"]
    for finding in never_read:
        out.print(f"[bold yellow]{'NEVER READ':10}[/] {_t(finding.path)}  [dim]{_t(finding.detail)}[/]")
    for finding in findings:  # a disk image's own stored digests are shown whatever they say
        if finding.stored and finding.status == "ok":
            out.print(f"[green]{'IMAGE':10}[/] {_t(finding.path)}  {_t(finding.stored)}")
    summary = f"{len(findings)} files checked, {len(bad)} changed, missing or unreadable"
    if never_read:  # never a clean verify where a file, or a whole disk image, was never read
        summary += f"; {len(never_read)} never read (when scanned, nor now): not verified"
    out.print(summary + ".")
    sys.exit(3 if bad else 0)


@click.group()
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
    from vigie.store.anchors import check_anchor, parse_head, read_anchor
    from vigie.store.audit import verify_audit_log

    if public_key and not anchors:  # a key checks anchors' signatures: alone it would check nothing
        raise VigieError("--public-key checks the signatures of anchors: give the anchors with --anchor", 2)
    with case_store(case) as store:
        check = verify_audit_log(store)
        key = public_key.read_bytes() if public_key else None
        for path in anchors:
            check.problems += check_anchor(store, str(path), read_anchor(path), key)
        for head in heads:
            check.problems += check_anchor(store, f"head {head}", parse_head(head))
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
    from vigie.store.anchors import AnchorError, anchor_log, load_private_key

    try:
        signing_key = load_private_key(key.read_bytes()) if key else None
    except AnchorError as exc:
        raise AnchorError(f"{key}: {exc}") from exc
    with case_store(case) as store:
        output = checked_output(output, store)
        anchor = anchor_log(store, examiner(), str(output) if output else "stdout", signing_key)
    text = json.dumps(anchor, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        sys.stdout.write(text)
        raise VigieError(f"cannot write {output} ({exc.strerror}); the anchor is printed above: keep it") from exc
    err.print(f"Anchored entry {anchor['seq']} ({anchor['hash']}) in {_t(output)}", soft_wrap=True)


@audit.command("show")
@case_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def audit_show(case: Path, as_json: bool) -> None:
    """Print the audit log."""
    with case_store(case) as store:
        print_audit(store.audit_entries(), as_json)


COMMANDS = [verify, audit]
