"""`vigie review`: decisions from a script, recorded and audited exactly as the console's."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vigie.cli.common import ID, _t, case_option, case_store, err, examiner
from vigie.errors import VigieError


@click.group()
def review() -> None:
    """Review decisions from a script, recorded and audited exactly as the console's."""


@review.command("decide")
@case_option
@click.option("--item", "items", multiple=True, type=ID, help="This item (repeatable); one decision each.")
@click.option("--stack", "stacks", multiple=True, type=ID, help="Every item of this stack (repeatable).")
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
    from vigie.review.scripted import Selection, plan_decisions, record
    from vigie.store.review import ReviewTables

    if note is not None and not 0 < len(note.strip()) <= 4000:
        raise VigieError("a note is 1 to 4000 characters of text", 2)
    with case_store(case) as store:
        review_tables = ReviewTables(store)
        plan = plan_decisions(review_tables, Selection(items, stacks, all_entries, list_name), category, scheme,
                              ai_tags, industry_class, skip_decided)
        entries = record(review_tables, examiner(), plan, note.strip() if note else None)
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


COMMANDS = [review]
