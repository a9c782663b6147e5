"""The console's JSON API. Every route runs after app.py's login and CSRF checks; routes that change the
case check the role too, and every decision is audited under the logged-in user."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, NoReturn

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from werkzeug.routing import IntegerConverter, Map

from vigie.exports.format import TO_COMPLETE, ExportError, Reporter
from vigie.exports.registry import EXPORTS
from vigie.exports.report import clock
from vigie.exports.run import Export, run_export
from vigie.i18n import LANGUAGES, N_
from vigie.matching.faces.persons import MAX_NAME, PersonError, merge_persons, name_person, split_person
from vigie.review.categories import case_scheme, set_case_scheme
from vigie.review.roles import ReviewStore
from vigie.review.scripted import Plan, SelectionError, plan_list_stacks, plan_stacks, record_unless_stale
from vigie.signals.registry import SIGNALS
from vigie.signals.thumbnails import DEFAULT_BLUR, MIN_BLUR
from vigie.store.accounts import AccountError, new_password
from vigie.store.audit import AuditCheck, verify_audit_log
from vigie.store.review import (
    PRIORITY_CLASSES,
    QUEUE_ORDERS,
    Decision,
    DecisionError,
    QueueFilter,
    ReviewTables,
    StaleDecisionError,
    UndoError,
)
from vigie.store.sqlite import CaseReadOnlyError
from vigie.vocabulary import (
    ADMIN,
    AI_TAGS,
    AI_VERDICTS,
    AUDIT_ACTIONS,
    DECIDING_ROLES,
    INDUSTRY_CLASSES,
    NEW_ACCOUNT_ROLE,
    ROLES,
    SCHEME_LABELS,
    SCHEMES,
    SHOWN_CODES,
    UNDETERMINED,
    category_label,
    finding_kind_name,
    shown_code,
    stage_name,
    variant_name,
)
from vigie.web import language
from vigie.web.audit_view import item_history, shown_entry
from vigie.web.roles import MediaStore

api = Blueprint("api", __name__)
MAX_BLUR = 0.25
DENSITIES = ("compact", "comfortable", "large")  # the grid's card sizes
STACK_SHOWN = 500  # copies listed in the item panel; a decision on the stack still covers them all
MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id names no item
_audit_lock = threading.Lock()


class ItemIdConverter(IntegerConverter):
    """`<int:...>` in every route: an id SQLite cannot hold matches no route (404), not a database error (500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _fail(message: str, status: int = 400, conflict: dict[str, Any] | None = None, **values: Any) -> NoReturn:
    """Refuse the request, saying why in the user's language (`message`: marked N_, or an error's Phrase); a 409
    names the colleague's decision that made it stale (`conflict`)."""
    error = language.said(message, **values)
    answer = {"error": error} if conflict is None else {"error": error, "conflict": conflict}
    abort(Response(json.dumps(answer), status=status, mimetype="application/json"))


@api.errorhandler(StaleDecisionError)
def stale_decision(exc: StaleDecisionError) -> Response:
    """Any decision made on a screen older than the stack: refused, naming the colleague's decision."""
    return Response(json.dumps({"error": language.said(language.message_of(exc)),
                                "conflict": exc.answer()}), status=409, mimetype="application/json")


def requires(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.session.user.role not in roles:
                _fail(N_("your role (%(role)s) may not do this"), 403,
                      role=shown_code(g.session.user.role, language.current()))
            return view(*args, **kwargs)
        return guarded
    return decorate


def _body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes
        body = None
    if not isinstance(body, dict):
        _fail(N_("send a JSON object"))
    if not _valid_unicode(body):  # a lone surrogate ("\ud800") cannot be stored, nor shown
        _fail(N_("the request holds text that is not valid Unicode"))
    return body


def _valid_unicode(body: dict[str, Any]) -> bool:
    pending: list[Any] = [body]
    while pending:  # not recursive: the nesting is the sender's
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def view_settings() -> dict[str, Any]:
    """The user's blur and colour settings over the organisation's defaults."""
    store = g.store
    defaults = {"blur": float(store.get_meta("org_blur") or DEFAULT_BLUR),
                "greyscale": (store.get_meta("org_greyscale") or "1") == "1",
                "density": DENSITIES[1], "hold_to_reveal": False}
    chosen = {k: v for k, v in g.session.user.settings.items() if k in defaults}
    return defaults | chosen


_VIEW_SETTINGS = ("blur", "greyscale")


def _only_known(body: dict[str, Any], known: Sequence[str]) -> None:
    """Refuse a body naming a setting the route does not know: a misspelt one would be answered 200 and saved as
    nothing."""
    unknown = sorted(set(body) - set(known))
    if unknown:
        _fail(N_("unknown setting %(names)s; the settings here are %(known)s"),
              names=", ".join(str(name)[:40] for name in unknown[:5]), known=", ".join(known))


def _check_view_settings(body: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if "blur" in body:
        blur = body["blur"]
        if not isinstance(blur, int | float) or not MIN_BLUR <= blur <= MAX_BLUR:
            _fail(N_("blur is a number from %(low)s to %(high)s"), low=MIN_BLUR, high=MAX_BLUR)
        settings["blur"] = float(blur)
    if "greyscale" in body:
        if not isinstance(body["greyscale"], bool):
            _fail(N_("greyscale is true or false"))
        settings["greyscale"] = body["greyscale"]
    return settings


def _check_own_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The view settings, and those only a user chooses for themself: the grid's density, hold-to-reveal."""
    _only_known(body, (*_VIEW_SETTINGS, "density", "hold_to_reveal", language.SETTING))
    settings = _check_view_settings(body)
    if "density" in body:
        if body["density"] not in DENSITIES:
            _fail(N_("density is %(choices)s"), choices=", ".join(DENSITIES))
        settings["density"] = body["density"]
    if "hold_to_reveal" in body:
        if not isinstance(body["hold_to_reveal"], bool):
            _fail(N_("hold_to_reveal is true or false"))
        settings["hold_to_reveal"] = body["hold_to_reveal"]
    if language.SETTING in body:
        if body[language.SETTING] not in ("", *LANGUAGES):
            _fail(N_("language is %(choices)s, or empty for the browser's"), choices=", ".join(LANGUAGES))
        settings[language.SETTING] = body[language.SETTING]
    return settings


# --- who am I, and the case's vocabulary ------------------------------------------------------------


@api.get("/api/me")
def me() -> Any:
    scheme, categories = case_scheme(g.store)
    user = g.session.user
    lang = language.current()
    return jsonify(
        user=user.username, role=user.role, can_decide=user.can_decide, csrf_token=g.session.csrf_token,
        revealed=g.accounts.reveal_count(g.session), settings=view_settings(),
        scheme=scheme, categories=[{"code": c.code, "label": category_label(scheme, c.code, lang), "key": c.key}
                                   for c in categories],
        ai_tags=[{"code": t.code, "label": lang.gettext(t.label), "key": t.key} for t in AI_TAGS],
        industry_classes=list(INDUSTRY_CLASSES),
        export_formats=[{"name": e.name, "label": lang.gettext(e.label)} for e in EXPORTS.values()],
        schemes=[{"code": code, "label": lang.gettext(label)} for code, label in SCHEME_LABELS.items()],
        language=lang.code, language_choice=user.settings.get(language.SETTING, ""),  # "": the browser's
        languages=[{"code": code, "label": name} for code, name in LANGUAGES.items()],
        words={code: shown_code(code, lang) for code in sorted(SHOWN_CODES)},  # verdicts, classes, roles
        roles=list(ROLES), new_account_role=NEW_ACCOUNT_ROLE, can_administer=user.role == ADMIN,
        ai_verdicts=list(AI_VERDICTS), undetermined=UNDETERMINED,
    )


@api.get("/api/filters")
def filters() -> Any:
    review = ReviewTables(g.store)
    return jsonify(
        lists=[h.name for h in g.store.hash_lists()],
        persons=[{"id": p["id"], "name": p["name"], "items": p["items"], "face": p["representative_face"]}
                 for p in g.store.persons()],
        folders=review.folders(),
        priorities=list(PRIORITY_CLASSES), sorts=list(QUEUE_ORDERS),
    )


# --- the queue and items --------------------------------------------------------------------------


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        _fail(N_("%(name)s must be a whole number"), name=name)
    if not low <= value <= high:
        _fail(N_("%(name)s must be between %(low)s and %(high)s"), name=name, low=low, high=high)
    return value


def _score_arg(name: str) -> float | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        _fail(N_("%(name)s must be a number (a detector score)"), name=name)
    return value


def _deleted_arg() -> bool | None:
    raw = request.args.get("deleted")
    if raw in (None, ""):
        return None
    if raw not in ("yes", "no"):
        _fail(N_("deleted is yes (a copy read as deleted) or no"))
    return raw == "yes"


@api.get("/api/queue")
def queue() -> Any:
    args = request.args
    status = args.get("status", "undecided")
    if status not in ("undecided", "decided", "all"):
        _fail(N_("status is undecided, decided or all"))
    for name, choices in (("priority", PRIORITY_CLASSES), ("media", ("image", "video")), ("ai", AI_VERDICTS)):
        if args.get(name) and args[name] not in choices:
            _fail(N_("%(name)s is one of %(choices)s, or empty"), name=name, choices=", ".join(choices))
    if any("\x00" in value for value in args.values()):  # the full-text search cannot take one
        _fail(N_("a filter holds a NUL character"))
    where = QueueFilter(
        status=status, list_name=args.get("list") or None, category=args.get("category") or None,
        ai_verdict=args.get("ai") or None, person=_int_arg("person", None, 0, 2**62),
        media=args.get("media") or None, folder=args.get("folder") or None, text=args.get("q") or None,
        priority=args.get("priority") or None, min_ai_score=_score_arg("min_score"),
        order=args.get("sort") or "review", deleted=_deleted_arg(),
        viewer=g.session.user.username, claims=args.get("claims") or None,  # others' claims are not shown
    )
    if where.claims not in (None, "mine"):
        _fail(N_("claims is mine (only the stacks you claimed) or empty"))
    if where.order not in QUEUE_ORDERS:
        _fail(N_("sort is %(choices)s"), choices=", ".join(QUEUE_ORDERS))
    limit = _int_arg("limit", 100, 1, 500) or 100
    offset = _int_arg("offset", 0, 0, 2**62) or 0
    review = ReviewTables(g.store)
    total, entries = review.queue(where, limit, offset)
    following = offset + len(entries)
    return jsonify(total=total, offset=offset, next=following if following < total else None, entries=entries,
                   progress=review.progress())


@api.get("/api/items/<int:item_id>")
def item_detail(item_id: int) -> Any:
    review = ReviewTables(g.store)
    copies = review.members(item_id)
    if not copies:
        abort(404)
    members = copies[:STACK_SHOWN]
    member_items = {i["id"]: i for i in g.store.iter_report_items(sorted({item_id, *members}))}
    item = member_items[item_id]
    decisions = review.decisions(sorted({item_id, *members}))
    versions = review.item_versions(members)  # a copy decided alone from the panel is checked on its own
    persons = {p["id"]: p["name"] for p in g.store.persons()}
    history, left_out = item_history(g.store.audit_entries(naming_item=item_id))
    return jsonify(
        id=item_id, path=item["path"], media_type=item["media_type"], size=item["size"],
        width=item["width"], height=item["height"], video=item["video"], deleted=item["deleted"],
        stills=[{"index": n, "seconds": timestamp, "time": clock(timestamp)}
                for n, (_, timestamp, _) in enumerate(_stills(item))],
        hashes={column: item[column] for s in SIGNALS.values() for column in s.columns},
        hash_names={column: _hash_name(column) for s in SIGNALS.values() for column in s.columns},
        times={k: item[k] for k in ("mtime", "ctime", "atime")},
        matches=[_known(m) for m in item["matches"]],
        ai=item["ai"] and item["ai"] | {"signals": [s | {"kind_label": finding_kind_name(s["kind"], language.current())}
                                                    for s in item["ai"]["signals"]]},
        analysed_as=item["analysed_as"],
        faces=[f | {"person_name": persons.get(f["person"])} for f in item["faces"]],
        exif=item["exif"],
        errors=[e | {"stage_label": stage_name(e["stage"], language.current())} for e in item["errors"]],
        same_content=review.same_content_paths(item_id),
        stack=[{"id": m, "path": member_items[m]["path"], "decision": decisions.get(m), "version": versions[m]}
               for m in members],
        stack_size=len(copies), decision=decisions.get(item_id), notes=review.notes(item_id),
        history=[{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                  "details": {k: v for k, v in e.details.items() if k not in ("items", "sha256")}}
                 | shown_entry(e, language.current(), hidden=("items", "sha256")) for e in history],
        history_left_out=[{"action": action, "what": language.gettext(AUDIT_ACTIONS[action]), "count": count}
                          for action, count in left_out.items()],
    )


HASH_QUALIFIERS = {"pdq_quality": N_("PDQ quality")}  # columns that qualify a signal's own


def _hash_name(column: str) -> str:
    """A hash column as people write it (SHA-256, PDQ), or what it says of the hash, in the user's language."""
    signal = SIGNALS.get(column)
    return signal.label if signal else language.said(HASH_QUALIFIERS.get(column, column))


def _stills(item: dict[str, Any]) -> list[tuple[int, float, bytes]]:
    """A video's stored stills (blurred at the scan), in order: what the large view's scrub bar steps through."""
    media: MediaStore = g.store
    return media.video_stills(item["id"]) if (item["media_type"] or "").startswith("video/") else []


def _known(match: dict[str, Any]) -> dict[str, Any]:
    """A match as the panel shows it: the category with its meaning, and where in a video the frame is."""
    shown = {k: match.get(k) for k in ("list", "signal", "distance", "variant", "category_scheme", "category",
                                        "label", "series", "timestamp", "image_frame")}
    shown["category_label"] = category_label(match.get("category_scheme"), match.get("category"), language.current())
    shown["video_time"] = None if match.get("timestamp") is None else clock(match["timestamp"])
    shown["variant_label"] = match.get("variant") and variant_name(match["variant"], language.current())
    return shown


@api.post("/api/items/<int:item_id>/reveal")
def reveal(item_id: int) -> Any:
    location = ReviewTables(g.store).location(item_id)
    if location is None:
        abort(404)
    # a reveal whose audit entry cannot be written shows nothing, whichever database holds the case
    failures: tuple[type[Exception], ...] = (*g.store.database_errors, OSError, CaseReadOnlyError)
    try:
        count = g.accounts.record_reveal(g.session, item_id)
    except failures as exc:
        _fail(N_("the reveal could not be written to the audit log, so nothing is shown (%(why)s)"), 503, why=exc)
    kind = "video" if (location.media_type or "").startswith("video/") else "image"
    return jsonify(revealed=count, kind=kind, url=f"{request.script_root}/media/{item_id}/full")


def _targets(body: dict[str, Any], review: ReviewStore) -> tuple[list[int], str]:
    """The items a decision names: the item's whole stack, or the item alone."""
    item_id = body.get("item")
    if not isinstance(item_id, int) or isinstance(item_id, bool):
        _fail(N_("item is the id of an item"))
    if not 0 <= item_id <= MAX_ID:
        abort(404)
    scope = body.get("scope", "stack")
    if scope not in ("stack", "item"):
        _fail(N_("scope is stack or item"))
    targets = review.members(item_id) if scope == "stack" else review.existing_ids([item_id])
    if not targets:
        abort(404)
    return targets, scope


def _version(value: Any, name: str) -> int | None:
    """A decision version the console sends (the card's, as it showed it); None: unchecked."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        _fail(N_("%(name)s is the version of the stack the decision was made on (a whole number)"), name=name)
    return value


@api.get("/api/changes")
def changes() -> Any:
    """Decisions, undecisions, undos, claims and releases after audit entry `since`, with each named item's
    decision and its stack's version now: the console polls this to show colleagues' decisions and claims.
    Without `since`, only where the log is now (`next`). `next_lapse`: when the next claim lapses (no audit
    entry says so), for the console to bring the stacks it held back into the queue then; `progress`, where
    anything changed, for its count of decided entries."""
    since = _int_arg("since", None, 0, MAX_ID)
    review = ReviewTables(g.store)
    if since is None:
        newest = g.store.audit_page(None, 1)
        return jsonify(next=newest[0].seq if newest else 0, changes=[], items={}, next_lapse=review.next_lapse())
    following, found = review.changes(since)
    named = sorted({i for change in found for i in change["items"]})
    decisions, versions = review.decisions(named), review.stack_versions(named)
    return jsonify(next=following, changes=found, next_lapse=review.next_lapse(),
                   progress=review.progress() if found else None,
                   items={str(i): {"decision": decisions.get(i), "version": versions[i]} for i in named})


@api.post("/api/decisions")
@requires(*DECIDING_ROLES)
def decide() -> Any:
    body = _body()
    review = ReviewTables(g.store)
    targets, scope = _targets(body, review)
    scheme, categories = case_scheme(g.store)
    try:
        decision = Decision.checked(scheme, [c.code for c in categories], body.get("category"),
                                    body.get("ai_tags", []), body.get("industry_class"))
    except ValueError as exc:  # DecisionError
        _fail(language.message_of(exc))
    entry = review.decide(g.session.user.username, targets, decision, scope, _version(body.get("seen"), "seen"))
    return jsonify(items=targets, audit_seq=entry.seq, progress=review.progress())


@api.post("/api/decisions/undecide")
@requires(*DECIDING_ROLES)
def undecide() -> Any:
    """Set a stack (or one item) back to undecided, as a new audit entry."""
    review = ReviewTables(g.store)
    body = _body()
    targets, scope = _targets(body, review)
    entry = review.undecide(g.session.user.username, targets, scope, _version(body.get("seen"), "seen"))
    return jsonify(items=targets, audit_seq=entry.seq, progress=review.progress())


@api.post("/api/decisions/undo")
@requires(*DECIDING_ROLES)
def undo() -> Any:
    """Undo one of the user's own decisions (its audit entry's seq), as a new audit entry."""
    seq = _body().get("audit_seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_ID:
        _fail(N_("audit_seq is the number of the decision's audit entry"))
    review = ReviewTables(g.store)
    try:
        entry = review.undo(g.session.user.username, seq)
    except UndoError as exc:
        _fail(language.message_of(exc), 409, exc.conflict)
    return jsonify(items=entry.details["items"], audit_seq=entry.seq, progress=review.progress())


MAX_CLAIM = 500  # stacks in one claim


@api.post("/api/claims")
@requires(*DECIDING_ROLES)
def claim() -> Any:
    """The next `count` undecided stacks no one holds, for this reviewer alone until `until` (audited)."""
    count = _body().get("count", 50)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_CLAIM:
        _fail(N_("count is a whole number from 1 to %(most)s"), most=MAX_CLAIM)
    minutes = current_app.config["VIGIE_SETTINGS"].claim_minutes
    if minutes < 1:
        _fail(N_("this case's claim_minutes setting is %(minutes)s: a claim lasts at least 1 minute (vigie.toml)"),
              minutes=minutes)
    items, until = ReviewTables(g.store).claim(g.session.user.username, count, minutes)
    return jsonify(items=items, until=until)


@api.post("/api/claims/release")
@requires(*DECIDING_ROLES)
def release() -> Any:
    """Every stack this reviewer holds goes back to everyone's queue (audited)."""
    return jsonify(items=ReviewTables(g.store).release(g.session.user.username))


MAX_BULK = 5000  # stacks in one bulk request


def _representatives(body: dict[str, Any]) -> list[int]:
    items = body.get("items")
    if (not isinstance(items, list) or not 1 <= len(items) <= MAX_BULK
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= MAX_ID for i in items)):
        _fail(N_("items is a list of 1 to %(most)s item ids"), most=MAX_BULK)
    return items


def _seen_versions(body: dict[str, Any]) -> dict[int, int]:
    """`versions`: the version each card showed, by its item id; a stack without one is unchecked."""
    versions = body.get("versions", {})
    if not isinstance(versions, dict) or not all(isinstance(k, str) and k.isascii() and k.isdigit() for k in versions):
        _fail(N_("versions maps item ids to the version of the stack each card showed"))
    checked = {int(k): _version(v, "each version") for k, v in versions.items()}
    return {k: v for k, v in checked.items() if v is not None}


def _recorded(review: ReviewStore, plan: Plan, body: dict[str, Any]) -> Any:
    """The stacks decided, and the stale ones refused (each with the colleague's decision now)."""
    entries, stale = record_unless_stale(review, g.session.user.username, plan, _seen_versions(body))
    refused = {exc.item for exc in stale}
    cards = list(dict.fromkeys(p.seen_as for p in plan.decisions if p.seen_as not in refused))
    return jsonify(stacks=len(cards), audit_seqs=[e.seq for e in entries], items=cards,
                   stale=[exc.answer() for exc in stale], progress=review.progress())


@api.post("/api/decisions/bulk")
@requires(*DECIDING_ROLES)
def decide_bulk() -> Any:
    """A category, or a tag added, on every chosen stack: one audit entry per stack."""
    body = _body()
    category, tag = body.get("category"), body.get("tag")
    if (category is None) == (tag is None):
        _fail(N_("give a category or a tag"))
    review = ReviewTables(g.store)
    try:
        plan = plan_stacks(review, _representatives(body), category, tag)
    except SelectionError as exc:
        _fail(language.message_of(exc), 404)
    except DecisionError as exc:
        _fail(language.message_of(exc))
    return _recorded(review, plan, body)


@api.post("/api/decisions/accept-list")
@requires(*DECIDING_ROLES)
def accept_list() -> Any:
    """The list's categories for the chosen stacks it matched, the list named as the decisions' source.
    Without `confirm`, only what would be decided (for the reviewer to confirm)."""
    body = _body()
    name = body.get("list")
    if not isinstance(name, str) or not name:
        _fail(N_("list is the name of a hash list of this case"))
    review = ReviewTables(g.store)
    try:
        plan = plan_list_stacks(review, name, _representatives(body))
    except SelectionError as exc:
        _fail(language.message_of(exc), 404)
    confirm = body.get("confirm", False)
    if not isinstance(confirm, bool):  # "true" or 1 would be answered with a preview, deciding nothing
        _fail(N_("confirm is true or false"))
    if confirm:
        return _recorded(review, plan, body)
    categories: dict[str, int] = {}
    for planned in plan.decisions:
        categories[str(planned.decision.category)] = categories.get(str(planned.decision.category), 0) + 1
    return jsonify(stacks=len(plan.decisions), categories=categories, already_decided=plan.already_decided,
                   left=[{"item": i, "why": language.said(why)} for i, why in plan.left[:50]],
                   left_count=len(plan.left),
                   other_schemes=sorted(set(plan.other_schemes.values())))


@api.post("/api/items/<int:item_id>/notes")
@requires(*DECIDING_ROLES)
def add_note(item_id: int) -> Any:
    text = _body().get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 4000:
        _fail(N_("a note is 1 to 4000 characters of text"))
    review = ReviewTables(g.store)
    if not review.existing_ids([item_id]):
        abort(404)
    entry = review.add_note(g.session.user.username, item_id, text.strip())
    return jsonify(audit_seq=entry.seq, notes=review.notes(item_id))


# --- persons: a reviewer corrects the face grouping -----------------------------------------------

def _ids(value: Any, message: str) -> list[int]:
    if (not isinstance(value, list) or not 1 <= len(value) <= MAX_BULK
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= MAX_ID for i in value)):
        _fail(message, most=MAX_BULK)
    return value


def _reshaped(change: Callable[[], Any]) -> Any:
    """A merge or split, or the refusal in the user's language (a person the case lacks, a face not theirs)."""
    try:
        return change()
    except PersonError as exc:
        _fail(language.message_of(exc))


def _existing_person(person_id: int) -> None:
    """A person id that names nothing is a 404, whatever the request says (as every id in a route is)."""
    if g.store.person_faces(person_id) is None:
        _fail(N_("no person %(person)s in this case"), 404, person=person_id)


@api.post("/api/persons/<int:person_id>/name")
@requires(*DECIDING_ROLES)
def name_a_person(person_id: int) -> Any:
    _existing_person(person_id)
    name = _body().get("name")
    if not isinstance(name, str):
        _fail(N_("a name is 1 to %(most)s printable characters"), most=MAX_NAME)
    if not _reshaped(lambda: name_person(g.store, person_id, name, g.session.user.username)):
        _fail(N_("no person %(person)s in this case"), 404, person=person_id)
    return jsonify(person=person_id, name=name.strip())


@api.post("/api/persons/<int:person_id>/split")
@requires(*DECIDING_ROLES)
def split_a_person(person_id: int) -> Any:
    _existing_person(person_id)
    faces = _ids(_body().get("faces"), N_("faces is a list of 1 to %(most)s face ids"))
    new = _reshaped(lambda: split_person(g.store, person_id, faces, g.session.user.username))
    return jsonify(person=person_id, new_person=new)


@api.post("/api/persons/merge")
@requires(*DECIDING_ROLES)
def merge_two_persons() -> Any:
    body = _body()
    keep, absorb = _ids([body.get("keep"), body.get("absorb")], N_("keep and absorb are the ids of two persons"))
    moved = _reshaped(lambda: merge_persons(g.store, keep, absorb, g.session.user.username))
    return jsonify(person=keep, faces_moved=moved)


# --- settings and accounts ------------------------------------------------------------------------


@api.post("/api/settings")
def save_settings() -> Any:
    settings = g.session.user.settings | _check_own_settings(_body())
    g.accounts.save_settings(g.session.user, settings)
    return jsonify(settings=view_settings() | settings)


@api.post("/api/admin/settings")
@requires(ADMIN)
def save_org_settings() -> Any:
    body = _body()
    _only_known(body, (*_VIEW_SETTINGS, "scheme", "custom_categories"))
    settings = _check_view_settings(body)
    if body.get("custom_categories") and body.get("scheme") != "custom":  # null with another scheme: the form's
        _fail(N_("custom_categories are given with the scheme custom"))
    if "scheme" in body:  # checked in full before anything is saved
        if body["scheme"] not in SCHEMES:
            _fail(N_("scheme is one of %(choices)s"), choices=", ".join(SCHEMES))
        custom = _custom_categories(body.get("custom_categories"))
    g.accounts.save_org_settings(g.session.user.username, settings)
    if "scheme" in body:
        set_case_scheme(g.store, body["scheme"], custom, g.session.user.username)
    return jsonify(ok=True)


MAX_CUSTOM = 9  # one key each, 1 to 9


def _custom_categories(custom: Any) -> list[str] | None:
    """A custom scheme's names: 1 to 9, each 1 to 60 printable characters once (spaces around taken off)."""
    if custom is None:
        return None
    names = [c.strip() for c in custom] if isinstance(custom, list) and all(isinstance(c, str) for c in custom) else []
    if (not 1 <= len(names) <= MAX_CUSTOM or len(set(names)) != len(names)
            or not all(0 < len(n) <= 60 and n.isprintable() for n in names)):
        _fail(N_("custom_categories is a list of 1 to %(most)s different names of 1 to 60 printable characters"),
              most=MAX_CUSTOM)
    return names


@api.get("/api/admin/users")
@requires(ADMIN)
def list_users() -> Any:
    return jsonify(users=[{"username": u.username, "role": u.role} for u in g.accounts.users()])


@api.post("/api/admin/users")
@requires(ADMIN)
def create_user() -> Any:
    body = _body()
    password = body.get("password") or new_password()
    role = body.get("role", NEW_ACCOUNT_ROLE)
    if role not in ROLES:
        _fail(N_("role is one of %(choices)s"), choices=", ".join(ROLES))
    if not isinstance(body.get("username"), str) or not isinstance(password, str):
        _fail(N_("username and password are text"))
    try:
        g.accounts.create_user(body["username"], password, role, g.session.user.username,
                               must_change=not body.get("password"))  # a made one is shown once: changed at login
    except AccountError as exc:
        _fail(language.message_of(exc))
    return jsonify(username=body.get("username"), role=role, password=password), 201


@api.post("/api/admin/users/disable")
@requires(ADMIN)
def disable_user() -> Any:
    """The account can no longer log in; its sessions end now."""
    username = _body().get("username")
    if not isinstance(username, str) or not username:
        _fail(N_("username names the account to disable"))
    try:
        g.accounts.disable(username, g.session.user.username)  # refuses the admin's own account
    except AccountError as exc:
        _fail(language.message_of(exc))
    return jsonify(username=username, disabled=True)


# --- audit and exports ----------------------------------------------------------------------------


def _audit_check() -> AuditCheck:
    """The whole chain is verified once per head, so paging through the log or opening it again does not
    re-verify it; any new entry (or a cut tail) changes the key and the next call verifies again."""
    newest = g.store.audit_page(None, 1)
    key = (g.store.get_meta("audit_head"), newest[0].hash if newest else None)
    with _audit_lock:
        cached = current_app.extensions.get("vigie_audit_check")
        if cached is None or cached[0] != key:
            cached = (key, verify_audit_log(g.store))
            current_app.extensions["vigie_audit_check"] = cached
    return cached[1]


@api.get("/api/audit")
def audit() -> Any:
    """Newest entries first, `limit` at a time; `after` is the `next` of the page before."""
    limit = _int_arg("limit", 50, 1, 1000) or 50
    after = _int_arg("after", None, 1, MAX_ID)
    check = _audit_check()
    entries = g.store.audit_page(after, limit)
    more = len(entries) == limit and entries[-1].seq > 1
    return jsonify(
        check={"ok": check.ok, "entries": check.entries, "head": check.head,
               "problems": [language.said(p) for p in check.problems]},
        entries=[{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "details": e.details,
                  "hash": e.hash} | shown_entry(e, language.current()) for e in entries],
        next=entries[-1].seq if more else None,
    )


@api.post("/export")
@requires(*DECIDING_ROLES)
def export() -> Any:
    fmt = request.form.get("format", "")
    raw_items = request.form.get("items", "").strip()
    try:
        item_ids = [int(part) for part in raw_items.split(",") if part.strip()] if raw_items else None
    except ValueError:
        _fail(N_("items is a comma-separated list of item ids"))
    if item_ids and not all(0 <= i <= MAX_ID for i in item_ids):
        abort(404)
    if request.form.get("scope", "item") not in ("item", "stack"):
        _fail(N_("scope is stack or item"))
    stack = item_ids is not None and request.form.get("scope") == "stack"
    if stack:
        review = ReviewTables(g.store)
        item_ids = sorted({m for i in item_ids or [] for m in review.members(i)})
    reporter = Reporter(*(request.form.get(k) or TO_COMPLETE for k in ("first_name", "last_name", "email")))
    try:
        # a stack asked for: its members not reviewed (a copy found later) are left out, and the audit names them
        result = run_export(g.store, g.session.user.username, fmt, item_ids, reporter=reporter,
                            destination="console download", language=language.current().code,
                            unreviewed_left_out=stack)
    except ExportError as exc:
        _fail(language.message_of(exc))
    response = Response(result.content, mimetype=result.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{result.file_name}"'
    response.headers[EXPORT_LEFT_OUT_HEADER] = json.dumps(_export_left_out(result))  # ASCII: escaped
    return response


EXPORT_LEFT_OUT_HEADER = "X-Vigie-Left-Out"  # what the download did not write, one line per reason: the dialog says it
_IDS_SAID = 20  # item ids a line names; past them, it counts them


def _export_left_out(result: Export) -> list[str]:
    """What the export left out, in the user's language, one line per reason as the command line says it."""
    def ids(item_ids: list[int]) -> str:
        more = len(item_ids) - _IDS_SAID
        shown = ", ".join(map(str, item_ids[:_IDS_SAID]))
        return shown if more <= 0 else language.gettext(N_("%(ids)s and %(more)s more"), ids=shown, more=more)

    lines = [language.gettext(N_("Left out %(count)s item(s) not reviewed, item(s) %(ids)s."),
                              count=len(result.unreviewed), ids=ids(result.unreviewed))] if result.unreviewed else []
    return lines + [language.gettext(N_("Left out %(count)s file(s), item(s) %(ids)s: %(why)s."),
                                     count=len(group.items), ids=ids([e.item["id"] for e in group.items]),
                                     why=language.said(group.why))
                    for group in result.left_out]
