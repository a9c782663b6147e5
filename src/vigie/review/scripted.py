"""`vigie review decide`: decisions made from a script with the console's own functions, so each is recorded
and audited exactly as a reviewer's (one audit entry per item, stack or group decided).

With `--list NAME` and no category, each item the list matched takes the category of the closest of its
matching entries that carry one; items whose closest entries disagree, carry none, or carry one outside the
decisions' scheme are left undecided and named, never guessed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigie.errors import VigieError
from vigie.i18n import N_, Phrase
from vigie.records import AuditEntry
from vigie.review.categories import case_scheme, scheme_categories
from vigie.review.roles import ReviewStore
from vigie.store.review import Decision, DecisionError, QueueFilter, StaleDecisionError
from vigie.vocabulary import scheme_name


class SelectionError(VigieError, ValueError):
    """Ids, stacks or a list the case does not hold (the message names them)."""
    exit_code = 2


@dataclass
class Planned:
    items: list[int]
    scope: str  # item | stack | list:NAME
    decision: Decision
    card: int | None = None  # the console's card whose version was seen, where not items[0] (a stack's copies)

    @property
    def seen_as(self) -> int:
        return self.items[0] if self.card is None else self.card


@dataclass
class Plan:
    decisions: list[Planned] = field(default_factory=list)
    left: list[tuple[int, str]] = field(default_factory=list)  # items not decided, and why
    already_decided: int = 0
    other_schemes: dict[int, str] = field(default_factory=dict)  # items left: their list's scheme, not the case's


@dataclass(frozen=True)
class Selection:
    items: Sequence[int] = ()
    stacks: Sequence[int] = ()
    all_entries: bool = False
    list_name: str | None = None


def _allowed(review: ReviewStore, scheme: str) -> list[str]:
    current, categories = case_scheme(review.store)
    return [c.code for c in (categories if scheme == current else scheme_categories(scheme))]


def _unique(ids: Sequence[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def plan_decisions(review: ReviewStore, selection: Selection, category: str | None, scheme: str | None,
                   ai_tags: Sequence[str] = (), industry_class: str | None = None,
                   skip_decided: bool = False) -> Plan:
    """The decisions to record, in `scheme` (the case's unless given); DecisionError or SelectionError before
    anything is written."""
    chosen = [bool(selection.items), bool(selection.stacks), selection.all_entries, selection.list_name is not None]
    if sum(chosen) != 1:
        raise SelectionError("choose one of --item, --stack, --all or --list")
    scheme = scheme or case_scheme(review.store)[0]
    plan = Plan()
    if selection.list_name is not None:
        explicit = None if category is None else Decision.checked(scheme, _allowed(review, scheme), category,
                                                                   list(ai_tags), industry_class)
        _plan_list(review, plan, selection.list_name, explicit, scheme, list(ai_tags), industry_class)
    else:
        decision = Decision.checked(scheme, _allowed(review, scheme), category, list(ai_tags), industry_class)
        plan.decisions = _plan_ids(review, selection, decision)
    if skip_decided:
        decided = review.decisions([i for p in plan.decisions for i in p.items])
        plan.already_decided = len(decided)
        for planned in plan.decisions:
            planned.items = [i for i in planned.items if i not in decided]
        plan.decisions = [p for p in plan.decisions if p.items]
        plan.left = [(i, why) for i, why in plan.left if i not in decided]
    return plan


def _plan_ids(review: ReviewStore, selection: Selection, decision: Decision) -> list[Planned]:
    if selection.items:
        wanted = _unique(selection.items)
        unknown = sorted(set(wanted) - set(review.existing_ids(wanted)))
        if unknown:
            raise SelectionError(Phrase(N_("no item %(ids)s in this case"), ids=", ".join(map(str, unknown))))
        return [Planned([i], "item", decision) for i in wanted]
    if selection.stacks:
        groups = {s: review.stack_members(s) for s in _unique(selection.stacks)}
        unknown = [s for s, members in groups.items() if not members]
        if unknown:
            raise SelectionError(Phrase(N_("no stack %(ids)s in this case"), ids=", ".join(map(str, unknown))))
        return [Planned(members, "stack", decision) for members in groups.values()]
    total, _ = review.queue(QueueFilter(status="all"), limit=0)
    _, entries = review.queue(QueueFilter(status="all"), limit=total)
    found = review.members_of([e["id"] for e in entries])
    return [Planned(found[e["id"]], "stack", decision) for e in entries]


def _plan_list(review: ReviewStore, plan: Plan, name: str, explicit: Decision | None, scheme: str,
               ai_tags: list[str], industry_class: str | None) -> None:
    """One decision per stack (or lone item) and category among the items the list matched."""
    if not any(hash_list.name == name for hash_list in review.store.hash_lists()):
        raise SelectionError(Phrase(N_("no hash list named '%(list)s' in this case"), list=name,
                                    plain=f"no hash list named {name!r} in this case (see `vigie hashlist list`)"))
    matches: dict[int, list[dict[str, Any]]] = {}
    for match in review.list_matches(name):
        matches.setdefault(match["item"], []).append(match)
    groups: dict[tuple[int, str | None], Planned] = {}
    scope = f"list:{name}"
    allowed = _allowed(review, scheme)
    for item_id, found in matches.items():
        group = found[0]["stack"] or -item_id
        if explicit is not None:
            groups.setdefault((group, None), Planned([], scope, explicit)).items.append(item_id)
            continue
        carrying = [m for m in found if m["category"] is not None]
        if not carrying:
            plan.left.append((item_id, Phrase(N_("its entries in %(list)s carry no category: decide it by hand"),
                                              list=name,
                                              plain=f"their entries in {name} carry no category (give --category)")))
            continue
        closest = min(m["distance"] for m in carrying)
        categories = sorted({(m["scheme"], m["category"]) for m in carrying if m["distance"] == closest})
        if len(categories) > 1:
            listed = ", ".join(f"{s}:{c}" for s, c in categories)
            plan.left.append((item_id, Phrase(N_("its closest entries in %(list)s disagree (%(categories)s)"),
                                              list=name, categories=listed,
                                              plain=f"their closest entries in {name} disagree ({listed})")))
            continue
        entry_scheme, category = categories[0]
        if entry_scheme != scheme:
            plan.other_schemes[item_id] = entry_scheme
            plan.left.append((item_id, Phrase(
                N_("category %(category)s is of the %(scheme)s scheme, not of this case's (%(case_scheme)s)"),
                category=category, scheme=scheme_name(entry_scheme), case_scheme=scheme_name(scheme),
                plain=f"category {category} is of scheme {entry_scheme}, not {scheme} "
                      f"(--scheme {entry_scheme} to decide in that scheme)")))
            continue
        try:
            decision = Decision.checked(scheme, allowed, category, ai_tags, industry_class)
        except DecisionError as exc:
            plan.left.append((item_id, exc.args[0]))
            continue
        groups.setdefault((group, category), Planned([], scope, decision)).items.append(item_id)
    plan.decisions = list(groups.values())


def plan_stacks(review: ReviewStore, representatives: Sequence[int], category: str | None = None,
                add_tag: str | None = None) -> Plan:
    """The console's bulk decision: each stack (named by any of its items) keeps what it had and takes the
    category, or gains the tag; one decision per stack, or per group of its copies where they were decided
    differently (each copy keeps its own category when a tag is added, its own tags when a category is set; one
    not decided has its card's).
    DecisionError before anything is written."""
    scheme, categories = case_scheme(review.store)
    allowed = [c.code for c in categories]
    stacks = _stacks_of(review, representatives)
    decided = review.decisions([member for members in stacks.values() for member in members])
    plan = Plan()
    for representative, members in stacks.items():
        groups: dict[tuple[Any, ...], list[int]] = {}  # the card's first, as `_stacks_of` puts it first
        for member in members:
            # a copy not decided yet (found by a later scan) has what its card shows
            had = decided.get(member) or decided.get(representative) or {"category": None, "ai_tags": [],
                                                                          "industry_class": None}
            decision = Decision.checked(scheme, allowed, category if category is not None else had["category"],
                                        [*had["ai_tags"], *([add_tag] if add_tag else [])], had["industry_class"])
            groups.setdefault((decision.category, tuple(decision.ai_tags), decision.industry_class),
                              []).append(member)
        for key, items in groups.items():
            plan.decisions.append(Planned(items, "stack", Decision(scheme, key[0], list(key[1]), key[2]),
                                          representative))
    return plan


def plan_list_stacks(review: ReviewStore, list_name: str, representatives: Sequence[int]) -> Plan:
    """`--list NAME` without a category, restricted to the given stacks, each decided whole when the list's
    entries give its matched copies one category; stacks already decided are left as they are."""
    stacks = _stacks_of(review, representatives)
    stack_of = {member: representative for representative, members in stacks.items() for member in members}
    listed = plan_decisions(review, Selection(list_name=list_name), None, None)
    chosen: dict[int, list[Planned]] = {}
    for planned in listed.decisions:
        if planned.items[0] in stack_of:
            chosen.setdefault(stack_of[planned.items[0]], []).append(planned)
    plan = Plan(left=[(i, why) for i, why in listed.left if i in stack_of],
                other_schemes={i: s for i, s in listed.other_schemes.items() if i in stack_of})
    decided = review.decisions(list(stacks))
    for representative, found in chosen.items():
        if representative in decided:
            plan.already_decided += 1
        elif len(found) > 1:
            plan.left.append((representative, Phrase(N_("copies of this stack take different categories from %(list)s"),
                                                     list=list_name)))
        else:
            plan.decisions.append(Planned(stacks[representative], found[0].scope, found[0].decision))
    return plan


def _stacks_of(review: ReviewStore, representatives: Sequence[int]) -> dict[int, list[int]]:
    """Each named item's stack, the named item first (the console's card, which an undo goes back to)."""
    named = _unique(representatives)
    found = review.members_of(named)
    stacks = {r: sorted(found[r], key=lambda m: m != r) for r in named}
    unknown = sorted(r for r, members in stacks.items() if not members)
    if unknown:
        raise SelectionError(Phrase(N_("no item %(ids)s in this case"), ids=", ".join(map(str, unknown))))
    return stacks


def record_unless_stale(review: ReviewStore, actor: str, plan: Plan, seen: Mapping[int, int]
                        ) -> tuple[list[AuditEntry], list[StaleDecisionError]]:
    """The console's bulk decisions, each stack on the version its card showed (`seen`, by the card's item,
    the first of each planned decision): the stale ones are refused and returned, the rest recorded."""
    entries, stale = [], []
    refused: set[int] = set()
    for planned in plan.decisions:
        if planned.seen_as in refused:  # a stack's other copies are left as they are with its refused part
            continue
        try:
            entries.append(review.decide(actor, planned.items, planned.decision, planned.scope,
                                         seen.get(planned.seen_as)))
        except StaleDecisionError as exc:
            exc.item = planned.seen_as  # the card the reviewer saw
            refused.add(planned.seen_as)
            stale.append(exc)
    return entries, stale


def record(review: ReviewStore, actor: str, plan: Plan, note: str | None = None) -> list[AuditEntry]:
    """Each planned decision through the console's `decide` (and its note through `add_note`)."""
    entries = []
    for planned in plan.decisions:
        entries.append(review.decide(actor, planned.items, planned.decision, planned.scope))
        if note:
            entries += [review.add_note(actor, item_id, note) for item_id in planned.items]
    return entries
