"""The review tables of a case: the queue (derived, rebuilt when the evidence changes), the search index,
decisions and notes. Decisions are written together with their audit entry."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vigie.errors import VigieError
from vigie.i18n import N_, Phrase
from vigie.records import AuditEntry, ItemLocation, SourceRow, is_ai_signal
from vigie.sources.base import ARCHIVE_SEPARATOR, join_path
from vigie.store.audit import DECIDE_ACTION, UNDECIDE_ACTION, UNDO_ACTION, decision_before
from vigie.store.sqlite import SqliteCaseStore, now_iso, select_in, source_root
from vigie.vocabulary import (
    AI_INDICATED,
    AI_PROVENANCE,
    AI_TAG_CODES,
    INDUSTRY_CLASSES,
    UNDETERMINED,
    action_name,
)

# Queue classes in review order: a possible real child first (unknown, a face, no mark of generation),
# then other unknown material, then AI-indicated or AI-marked items, then what the hash lists already know.
PRIORITY_CLASSES = ("unknown-with-face", "unknown", "ai-indicated-or-marked", "known")
_AI_STRENGTH = {AI_PROVENANCE: 2, AI_INDICATED: 1, UNDETERMINED: 0}
# meta key: the tables' high-water marks the queue and search index were last brought up to date with
_BUILT_KEY = "review_queue_built_for"
_MARKED_TABLES = ("items", "matches", "faces", "item_findings")
_DECISION_ACTIONS = (DECIDE_ACTION, UNDECIDE_ACTION, UNDO_ACTION)
CLAIM_ACTION, RELEASE_ACTION = "claim", "release"  # queue entries a reviewer took for themself, and gave back
CLAIM_MINUTES = 60  # a claim left alone this long lapses, and its entries go back to everyone's queue
_CLAIMED = "EXISTS (SELECT 1 FROM review_claims c WHERE c.item_id = q.representative_id AND c.until > ?"
_LIVE_ACTIONS = (*_DECISION_ACTIONS, CLAIM_ACTION, RELEASE_ACTION)  # what other reviewers' screens are told of


@dataclass
class QueueFilter:
    status: str = "undecided"  # undecided | decided | all
    list_name: str | None = None  # a list's name, "any" or "none"
    category: str | None = None  # a decided or list category
    ai_verdict: str | None = None
    person: int | None = None
    media: str | None = None  # image | video
    folder: str | None = None  # a path prefix
    text: str | None = None  # full-text search on paths and metadata
    priority: str | None = None
    min_ai_score: float | None = None  # the detector's score of the entry's representative, at least this
    deleted: bool | None = None  # True: a copy was read from a disk image as deleted; False: no copy was
    order: str = "review"  # review (priority classes) | ai-score (highest detector score first)
    viewer: str | None = None  # a reviewer: entries others claimed (and the claims have not lapsed) are hidden
    claims: str | None = None  # mine (the viewer's claims only) | free (no one's claim)


# Queue orders: entries without a score come last when sorted by score.
# The representative's id last: a total order, so pages never repeat or skip an entry.
QUEUE_ORDERS = {"review": "q.priority, q.members DESC, q.path, q.representative_id",
                "ai-score": "i.ai_score IS NULL, i.ai_score DESC, q.priority, q.path, q.representative_id"}


class UndoError(ValueError):
    """An undo that would overwrite a later decision (`conflict`: that item's decision now, and who made it), or
    of an entry that is not the user's decision."""

    def __init__(self, message: str, conflict: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.conflict = conflict


class StaleDecisionError(VigieError, ValueError):
    """A decision made on a screen older than the stack's last decision: refused, nothing written. Carries the
    item's decision now and who made it, for the reviewer to see."""
    exit_code = 1

    def __init__(self, item: int, version: int, current: dict[str, Any] | None, by: str, at: str) -> None:
        super().__init__(Phrase(N_("item %(item)s was decided again since you saw it (entry %(entry)s, by %(by)s)"),
                                item=item, entry=version, by=by))
        self.item, self.version, self.current, self.by, self.at = item, version, current, by, at

    def answer(self) -> dict[str, Any]:
        return {"item": self.item, "version": self.version, "decision": self.current, "by": self.by, "at": self.at}


class DecisionError(VigieError, ValueError):
    """A decision outside the scheme's categories or the tag vocabulary; the message says what is allowed."""
    exit_code = 2


@dataclass
class Decision:
    category_scheme: str
    category: str | None
    ai_tags: list[str] = field(default_factory=list)
    industry_class: str | None = None

    @classmethod
    def checked(cls, scheme: str, allowed: Sequence[str], category: Any, ai_tags: Any = (),
                industry_class: Any = None) -> Decision:
        """The one check of a decision, for the console and for `vigie review decide`."""
        if category is not None and category not in allowed:
            raise DecisionError(Phrase(N_("category '%(category)s' is not one of %(allowed)s (scheme %(scheme)s)"),
                                       category=str(category)[:40], allowed=", ".join(allowed), scheme=scheme))
        if not isinstance(ai_tags, list | tuple) or any(t not in AI_TAG_CODES for t in ai_tags):
            raise DecisionError(Phrase(N_("ai_tags is a list of %(tags)s"), tags=", ".join(AI_TAG_CODES)))
        if industry_class is not None and industry_class not in INDUSTRY_CLASSES:
            raise DecisionError(Phrase(N_("industry_class is one of %(classes)s or null"),
                                       classes=", ".join(INDUSTRY_CLASSES)))
        if category is None and not ai_tags:
            raise DecisionError(N_("give a category or at least one AI tag"))
        return cls(scheme, category, sorted(set(ai_tags), key=AI_TAG_CODES.index), industry_class)


class ReviewTables:
    def __init__(self, store: SqliteCaseStore) -> None:
        self.store = store
        self.db = store.db
        self._refreshed = False  # one check per instance (an instance lives for one request or command)

    # --- the derived queue and search index -----------------------------------------------------

    def _marks(self) -> dict[str, int]:
        """The highest row id of each table the queue and search index are derived from (rows are only added)."""
        row = self.db.execute(
            """SELECT (SELECT coalesce(max(id), 0) FROM items), (SELECT coalesce(max(id), 0) FROM matches),
                      (SELECT coalesce(max(id), 0) FROM faces), (SELECT coalesce(max(id), 0) FROM item_findings)"""
        ).fetchone()
        return dict(zip(_MARKED_TABLES, (int(v) for v in row), strict=True))

    def refresh(self) -> None:
        """Bring the queue and the search index up to date with what scans, matching and stacking added: only
        the groups (stacks or single items) those changes touch are redone."""
        if self._refreshed:
            return
        self._refreshed = True
        marks = self._marks()
        built = _built_marks(self.store.get_meta(_BUILT_KEY))
        dirty = self.db.execute("SELECT 1 FROM review_dirty LIMIT 1").fetchone() is not None
        if built == marks and not dirty:
            return
        sources = {s.id: s for s in self.store.sources()}
        with self.store.transaction():
            # the dirty items read now, and only those, are done with at the end: an item a concurrent writer
            # commits meanwhile (in PostgreSQL, with an id below the marks) stays dirty for the next refresh
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS dirty_seen(id INTEGER PRIMARY KEY)")
            self.db.execute("DELETE FROM dirty_seen")
            self.db.execute("INSERT INTO dirty_seen SELECT item_id FROM review_dirty")
            if built is None or any(marks[t] < built[t] for t in _MARKED_TABLES):
                self.db.execute("DELETE FROM review_queue")
                self.db.execute("DELETE FROM item_search")
                self.db.executemany("INSERT INTO review_queue VALUES (?, ?, ?, ?, ?, ?)", self._queue_rows(sources))
                self.db.executemany("INSERT INTO item_search(rowid, path, metadata) VALUES (?, ?, ?)",
                                    self._search_rows(sources))
            else:
                self._update(built, sources)
            self.db.execute("DELETE FROM review_dirty WHERE item_id IN (SELECT id FROM dirty_seen)")
            self.store.set_meta(_BUILT_KEY, json.dumps(marks))

    def _update(self, built: dict[str, int], sources: dict[int, SourceRow]) -> None:
        """Redo the queue entries of every group holding an item added, matched, given a face or finding, or
        restacked since `built`; and the search rows of items added or given a finding."""
        for table in ("temp.queue_scope", "temp.search_scope"):
            self.db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table.split('.')[1]}(id INTEGER PRIMARY KEY)")
            self.db.execute(f"DELETE FROM {table}")
        self.db.execute("INSERT INTO search_scope SELECT id FROM items WHERE id > ?", (built["items"],))
        self.db.execute("INSERT OR IGNORE INTO search_scope SELECT item_id FROM item_findings WHERE id > ?",
                        (built["item_findings"],))
        # items stored with ids below the mark, committed late (each is dirty from its own transaction)
        self.db.execute("""INSERT OR IGNORE INTO search_scope SELECT d.id FROM dirty_seen d
                           WHERE NOT EXISTS (SELECT 1 FROM item_search s WHERE s.rowid = d.id)""")
        self.db.execute("INSERT INTO queue_scope SELECT id FROM search_scope")
        self.db.execute("INSERT OR IGNORE INTO queue_scope SELECT item_id FROM matches WHERE id > ?",
                        (built["matches"],))
        self.db.execute("INSERT OR IGNORE INTO queue_scope SELECT item_id FROM faces WHERE id > ?", (built["faces"],))
        self.db.execute("INSERT OR IGNORE INTO queue_scope SELECT id FROM dirty_seen")
        # whole stacks: a group's entry sums over all its members
        # CROSS JOIN: from the few touched, not all stacked (PostgreSQL plans it the same either way)
        self.db.execute("""INSERT OR IGNORE INTO queue_scope SELECT i.id FROM items i WHERE i.stack_id IN
                           (SELECT x.stack_id FROM queue_scope q CROSS JOIN items x
                            WHERE x.id = q.id AND x.stack_id IS NOT NULL)""")
        self.db.execute("DELETE FROM review_queue WHERE representative_id IN (SELECT id FROM queue_scope)")
        self.db.executemany("INSERT INTO review_queue VALUES (?, ?, ?, ?, ?, ?)",
                            self._queue_rows(sources, "temp.queue_scope"))
        self.db.execute("DELETE FROM item_search WHERE rowid IN (SELECT id FROM search_scope)")
        self.db.executemany("INSERT INTO item_search(rowid, path, metadata) VALUES (?, ?, ?)",
                            self._search_rows(sources, "temp.search_scope"))

    def _queue_rows(self, sources: dict[int, SourceRow], scope: str | None = None) -> Iterator[tuple[Any, ...]]:
        """Queue entries of every group, or of the groups whose every member is in the `scope` table."""
        within = "" if scope is None else f" AND i.id IN (SELECT id FROM {scope})"
        rows = self.db.execute(
            f"""WITH member AS (
                   SELECT i.id, coalesce(i.stack_id, -i.id) AS grp, coalesce(i.ai_verdict, ?) AS ai,
                          CASE WHEN EXISTS (SELECT 1 FROM matches m WHERE m.item_id = i.id) THEN 1 ELSE 0 END
                              AS matched,
                          CASE WHEN EXISTS (SELECT 1 FROM faces f WHERE f.item_id = i.id) THEN 1 ELSE 0 END AS face
                   FROM items i WHERE (i.media_type LIKE 'image/%' OR i.media_type LIKE 'video/%'){within}
               ), grp AS (
                   SELECT grp, count(*) AS members, max(matched) AS matched, max(face) AS face,
                          max(CASE ai WHEN ? THEN 2 WHEN ? THEN 1 ELSE 0 END) AS ai
                   FROM member GROUP BY grp
               )
               SELECT coalesce(s.representative_id, -g.grp), s.id, g.members, g.matched, g.face, g.ai,
                      r.source_id, r.relpath
               FROM grp g LEFT JOIN stacks s ON s.id = g.grp
               JOIN items r ON r.id = coalesce(s.representative_id, -g.grp)""",
            (UNDETERMINED, AI_PROVENANCE, AI_INDICATED),
        )
        verdicts = {v: k for k, v in _AI_STRENGTH.items()}
        for rep, stack_id, members, matched, face, ai, source_id, relpath in rows:
            if matched:
                priority = 3
            elif ai:
                priority = 2
            else:
                priority = 0 if face else 1
            yield rep, stack_id, members, priority, verdicts[ai], join_path(sources[source_id].given, relpath)

    def _search_rows(self, sources: dict[int, SourceRow], scope: str | None = None
                     ) -> Iterator[tuple[int, str, str]]:
        """Search rows of every item, or of the items in the `scope` table."""
        within = "" if scope is None else f" WHERE {{}} IN (SELECT id FROM {scope})"
        findings: dict[int, list[str]] = {}
        for item_id, kind, detail, value, strength in self.db.execute(
            "SELECT item_id, kind, detail, value, strength FROM item_findings" + within.format("item_id")
        ):
            if not is_ai_signal(kind, strength):  # a score below the threshold says nothing
                continue
            findings.setdefault(item_id, []).append(f"{kind} {detail} {value}")
        for item_id, source_id, relpath, exif, media_type, codec in self.db.execute(
            "SELECT id, source_id, relpath, exif, media_type, codec FROM items" + within.format("id")
        ):
            metadata = " ".join(filter(None, [media_type, codec, _flatten(json.loads(exif)) if exif else None,
                                              *findings.get(item_id, [])]))
            yield item_id, join_path(sources[source_id].given, relpath), metadata

    def queue(self, where: QueueFilter, limit: int = 200, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """(total matching the filter, one page of queue entries in review order)."""
        self.refresh()
        clauses, params = self._filter_sql(where)
        condition = " AND ".join(clauses) or "TRUE"
        total = self.db.execute(
            f"SELECT count(*) FROM review_queue q LEFT JOIN reviews r ON r.item_id = q.representative_id "
            f"WHERE {condition}", params
        ).fetchone()[0]
        rows = self.db.execute(
            f"""SELECT q.representative_id, q.stack_id, q.members, q.priority, q.ai_verdict, q.path, i.media_type,
                       r.category_scheme, r.category, r.ai_tags, r.decided_by,
                       (SELECT e.category FROM matches m JOIN list_entries e ON e.id = m.entry_id
                        JOIN items x ON x.id = m.item_id
                        WHERE x.id = q.representative_id OR x.stack_id = q.stack_id
                        ORDER BY m.distance LIMIT 1) AS list_category,
                       (SELECT count(*) FROM faces f WHERE f.item_id = q.representative_id) AS faces, i.ai_score,
                       (SELECT coalesce(max(v.audit_seq), 0) FROM review_versions v JOIN items x ON x.id = v.item_id
                        WHERE x.id = q.representative_id OR (q.stack_id IS NOT NULL AND x.stack_id = q.stack_id))
                           AS version,
                       c.claimed_by, c.until
                FROM review_queue q JOIN items i ON i.id = q.representative_id
                LEFT JOIN reviews r ON r.item_id = q.representative_id
                LEFT JOIN review_claims c ON c.item_id = q.representative_id AND c.until > ?
                WHERE {condition} ORDER BY {QUEUE_ORDERS.get(where.order, QUEUE_ORDERS["review"])}
                LIMIT ? OFFSET ?""",
            (now_iso(), *params, limit, offset),
        )
        return total, [
            {"id": r[0], "stack": r[1], "members": r[2], "priority": PRIORITY_CLASSES[r[3]], "ai_verdict": r[4],
             "path": r[5], "media_type": r[6],
             "decision": None if r[7] is None else {"scheme": r[7], "category": r[8], "ai_tags": json.loads(r[9]),
                                                    "by": r[10]},
             "list_category": r[11], "faces": r[12], "ai_score": r[13], "version": r[14],
             "claim": None if r[15] is None else {"by": r[15], "until": r[16]}}
            for r in rows
        ]

    def _filter_sql(self, where: QueueFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if where.status == "undecided":
            clauses.append("r.item_id IS NULL")
        elif where.status == "decided":
            clauses.append("r.item_id IS NOT NULL")
        # from the matches, the fewest rows, in CROSS JOIN's fixed order: SQLite would rather walk a whole list's
        # entries (PostgreSQL plans it the same either way)
        matched = "SELECT m.item_id FROM matches m CROSS JOIN list_entries e WHERE e.id = m.entry_id"
        if where.list_name == "none":
            clauses.append("NOT " + _group_holds("SELECT m.item_id FROM matches m"))
        elif where.list_name == "any":
            clauses.append(_group_holds("SELECT m.item_id FROM matches m"))
        elif where.list_name:
            clauses.append(_group_holds(f"{matched} AND e.list_id IN (SELECT l.id FROM hash_lists l WHERE l.name = ?)"))
            params += [where.list_name] * 2
        if where.category:
            clauses.append(f"(r.category = ? OR {_group_holds(f'{matched} AND e.category = ?')})")
            params += [where.category] * 3
        if where.ai_verdict:
            clauses.append("q.ai_verdict = ?")
            params.append(where.ai_verdict)
        if where.person is not None:
            clauses.append(_group_holds("SELECT f.item_id FROM faces f WHERE f.person_id = ?"))
            params += [where.person] * 2
        if where.media in ("image", "video"):
            clauses.append("EXISTS (SELECT 1 FROM items x WHERE x.id = q.representative_id AND x.media_type LIKE ?)")
            params.append(f"{where.media}/%")
        if where.folder:
            clauses.append("substr(q.path, 1, length(?)) = ?")
            params += [where.folder, where.folder]
        if where.priority in PRIORITY_CLASSES:
            clauses.append("q.priority = ?")
            params.append(PRIORITY_CLASSES.index(where.priority))
        if where.min_ai_score is not None:
            clauses.append("EXISTS (SELECT 1 FROM items x WHERE x.id = q.representative_id AND x.ai_score >= ?)")
            params.append(where.min_ai_score)
        if where.deleted is not None:
            found = _group_holds("SELECT x.id FROM items x WHERE x.deleted = 1")
            clauses.append(found if where.deleted else f"NOT {found}")
        if where.text:  # uncorrelated: the full-text index is searched once, not once per queue entry
            found = ("SELECT x.{} FROM item_search s JOIN items x ON x.id = s.rowid WHERE "
                     + self.store.dialect.search_match)
            clauses.append(f"(q.representative_id IN ({found.format('id')}) OR "
                           f"q.stack_id IN ({found.format('stack_id')}))")
            params += [self.store.dialect.search_term(where.text)] * 2
        now = now_iso()
        if where.viewer is not None:  # decided stacks stay in view for everyone, claimed or not
            clauses.append(f"(r.item_id IS NOT NULL OR NOT {_CLAIMED} AND c.claimed_by <> ?))")
            params += [now, where.viewer]
        if where.claims == "mine":
            clauses.append(f"{_CLAIMED} AND c.claimed_by = ?)")
            params += [now, where.viewer]
        elif where.claims == "free":
            clauses.append(f"NOT {_CLAIMED})")
            params.append(now)
        return clauses, params

    def progress(self) -> dict[str, int]:
        self.refresh()
        row = self.db.execute(
            """SELECT count(*), count(r.item_id) FROM review_queue q
               LEFT JOIN reviews r ON r.item_id = q.representative_id"""
        ).fetchone()
        return {"entries": row[0], "decided": row[1] or 0}

    def folders(self) -> list[str]:
        """Source folders that hold queue entries, for the folder filter."""
        self.refresh()
        folders = set()
        for (path,) in self.db.execute("SELECT path FROM review_queue"):
            folders.add(path.rsplit(ARCHIVE_SEPARATOR, 1)[0].rsplit("/", 1)[0] if "/" in path else path)
        return sorted(folders)

    # --- items ----------------------------------------------------------------------------------

    def members(self, item_id: int) -> list[int]:
        """The item and every other item of its stack; [] for an unknown item."""
        return self.members_of([item_id])[item_id]

    def members_of(self, item_ids: Sequence[int]) -> dict[int, list[int]]:
        """`members` of many items at once, in bounded queries (not one per item)."""
        existing = set(self.existing_ids(item_ids))
        stack_of = {m: members for members in self.store.stack_members_of(item_ids).values() for m in members}
        return {i: stack_of.get(i, [i]) if i in existing else [] for i in item_ids}

    def stack_members(self, stack_id: int) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM items WHERE stack_id = ? ORDER BY id", (stack_id,))]

    def list_matches(self, list_name: str) -> list[dict[str, Any]]:
        """Every match of a hash list: the item, its stack, the entry's category and the match distance."""
        rows = self.db.execute(
            """SELECT m.item_id, i.stack_id, e.category_scheme, e.category, m.distance FROM matches m
               JOIN items i ON i.id = m.item_id JOIN list_entries e ON e.id = m.entry_id
               JOIN hash_lists l ON l.id = e.list_id WHERE l.name = ? ORDER BY m.item_id, m.distance""",
            (list_name,),
        )
        return [{"item": r[0], "stack": r[1], "scheme": r[2], "category": r[3], "distance": r[4]} for r in rows]

    def location(self, item_id: int) -> ItemLocation | None:
        """Where an item is read again, and its SHA-256 as scanned."""
        row = self.db.execute(
            "SELECT s.root, s.root_raw, i.relpath, i.media_type, i.sha256 FROM items i JOIN sources s "
            "ON s.id = i.source_id WHERE i.id = ?", (item_id,)).fetchone()
        return None if row is None else ItemLocation(source_root(row[0], row[1]), row[2], row[3], row[4])

    def same_content_paths(self, item_id: int) -> list[dict[str, Any]]:
        """Every place where the same bytes (SHA-256) were found."""
        sources = {s.id: s for s in self.store.sources()}
        rows = self.db.execute(
            """SELECT x.id, x.source_id, x.relpath, x.deleted FROM items i JOIN items x ON x.sha256 = i.sha256
               WHERE i.id = ? AND i.sha256 IS NOT NULL ORDER BY x.source_id, x.relpath""",
            (item_id,),
        )
        return [{"id": r[0], "path": join_path(sources[r[1]].given, r[2]), "deleted": bool(r[3])} for r in rows]

    def decisions(self, item_ids: Sequence[int] | None = None) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for row in select_in(self.db, "SELECT * FROM reviews WHERE {in} ORDER BY item_id", "item_id", item_ids):
            found[row["item_id"]] = {
                "scheme": row["category_scheme"], "category": row["category"],
                "ai_tags": json.loads(row["ai_tags"]), "industry_class": row["industry_class"],
                "by": row["decided_by"], "at": row["decided_at"], "audit_seq": row["audit_seq"],
            }
        return found

    def notes(self, item_id: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT author, at, text FROM notes WHERE item_id = ? ORDER BY id", (item_id,))
        return [{"author": r[0], "at": r[1], "text": r[2]} for r in rows]

    # --- decisions ------------------------------------------------------------------------------

    def version(self, item_ids: Sequence[int]) -> int:
        """The decision version of these items (a stack's members): the last audit entry that decided,
        undecided or undid any of them; 0 when none ever was."""
        found = [r[0] for r in select_in(self.db, "SELECT max(audit_seq) FROM review_versions WHERE {in}",
                                         "item_id", item_ids) if r[0] is not None]
        return max(found, default=0)

    def _refuse_stale(self, item_ids: Sequence[int], seen: int | None) -> None:
        """StaleDecisionError when `seen` (the version the reviewer's screen showed) is older than the items'."""
        if seen is None:  # a scripted decision that names no version: unchecked, as before
            return
        version = self.version(item_ids)
        if version <= seen:
            return
        by = self.db.execute("SELECT actor, at FROM audit_log WHERE seq = ?", (version,)).fetchone()
        raise StaleDecisionError(item_ids[0], version, self.decisions([item_ids[0]]).get(item_ids[0]), by[0], by[1])

    def changes(self, since: int, limit: int = 500) -> tuple[int, list[dict[str, Any]]]:
        """(the last entry read, the decisions, undecisions, undos, claims and releases after audit entry `since`,
        oldest first; a claim says `until` when)."""
        rows = self.db.execute(
            f"SELECT seq, at, actor, action, details FROM audit_log WHERE seq > ? AND action IN "
            f"({','.join('?' * len(_LIVE_ACTIONS))}) ORDER BY seq LIMIT ?", (since, *_LIVE_ACTIONS, limit))
        found = [{"seq": r[0], "at": r[1], "actor": r[2], "action": r[3], "items": details["items"]}
                 | ({"until": details["until"]} if r[3] == CLAIM_ACTION else {})
                 for r in rows for details in [json.loads(r[4])]]
        if len(found) < limit:  # nothing more to read: the client may start from the head
            head = self.db.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
            return max(int(head), since), found
        return found[-1]["seq"], found

    def item_versions(self, item_ids: Sequence[int]) -> dict[int, int]:
        """Each item's own decision version (0: never decided), as a decision on that copy alone is checked."""
        found = dict.fromkeys(item_ids, 0)
        for item_id, version in select_in(self.db, "SELECT item_id, audit_seq FROM review_versions WHERE {in}",
                                          "item_id", item_ids):
            found[item_id] = int(version)
        return found

    def stack_versions(self, item_ids: Sequence[int]) -> dict[int, int]:
        """Each item's stack's decision version (its own when not stacked), as the queue's cards carry it."""
        found = dict.fromkeys(item_ids, 0)
        for item_id, version in select_in(
            self.db, """SELECT x.id, max(v.audit_seq) FROM items x JOIN items m ON m.id = x.id
                        OR (x.stack_id IS NOT NULL AND m.stack_id = x.stack_id)
                        JOIN review_versions v ON v.item_id = m.id WHERE {in} GROUP BY x.id""", "x.id", item_ids):
            found[item_id] = int(version)
        return found

    def decide(self, actor: str, item_ids: Sequence[int], decision: Decision, scope: str,
               seen: int | None = None) -> AuditEntry:
        """Record one decision for the items and its audit entry in one transaction; refused (StaleDecisionError)
        when `seen` is given and the items were decided since that version."""
        digests = self._sha256s(item_ids)
        with self.store.transaction():
            entry = self.store.append_audit(actor, DECIDE_ACTION, {
                "items": list(item_ids), "sha256": digests, "scope": scope, "scheme": decision.category_scheme,
                "category": decision.category, "ai_tags": decision.ai_tags,
                "industry_class": decision.industry_class,
            })
            # after the entry: PostgreSQL's writers are in line behind its audit lock by now, so no decision
            # lands between this check and the write; a refusal rolls the entry back
            self._refuse_stale(item_ids, seen)
            self._write(entry, {i: _recorded(decision) for i in item_ids})
        return entry

    def undecide(self, actor: str, item_ids: Sequence[int], scope: str, seen: int | None = None) -> AuditEntry:
        """Set the items back to undecided; their earlier decisions stay in the log. `seen` as for `decide`."""
        digests = self._sha256s(item_ids)
        with self.store.transaction():
            entry = self.store.append_audit(actor, UNDECIDE_ACTION, {"items": list(item_ids), "sha256": digests,
                                                                     "scope": scope})
            self._refuse_stale(item_ids, seen)  # after the entry, as in `decide`
            self._write(entry, dict.fromkeys(item_ids))
        return entry

    def undo(self, actor: str, seq: int) -> AuditEntry:
        """Undo the actor's decision of entry `seq`: each of its items goes back to what it was just before, in a
        new entry. Refused (UndoError) when the entry is not the actor's decision, or when an item was decided
        again since, by anyone: that later decision is not silently overwritten."""
        found = self.db.execute("SELECT actor, action, details FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        if found is None or found[1] not in (DECIDE_ACTION, UNDECIDE_ACTION):
            raise UndoError(Phrase(N_("entry %(seq)s is not a decision"), seq=seq))
        if found[0] != actor:
            raise UndoError(Phrase(N_("entry %(seq)s is %(actor)s's decision, not yours: set the stack back to "
                                      "undecided or decide it again instead"), seq=seq, actor=found[0]))
        item_ids = list(json.loads(found[2])["items"])
        digests = self._sha256s(item_ids)
        with self.store.transaction():
            # under the case's write lock: no decision lands between the check of the items' histories and the
            # write (a colleague's decision in between would be overwritten), as in `decide`
            self.store.wait_for_writers()
            restore: dict[int, dict[str, Any] | None] = {}
            for item_id in item_ids:  # each item's history read once: its last decision, and what it was before
                history = list(self.store.audit_entries(naming_item=item_id))
                last = next((e for e in reversed(history) if e.action in _DECISION_ACTIONS), None)
                if last is not None and last.seq != seq:
                    raise UndoError(Phrase(N_("item %(item)s changed since (entry %(seq)s: %(action)s by "
                                              "%(actor)s); nothing was undone"), item=item_id, seq=last.seq,
                                           action=action_name(last.action), actor=last.actor),
                                    {"item": item_id, "version": last.seq, "by": last.actor, "at": last.at,
                                     "decision": self.decisions([item_id]).get(item_id)})
                restore[item_id] = decision_before(history, item_id, seq)
            entry = self.store.append_audit(actor, UNDO_ACTION, {
                "items": item_ids, "sha256": digests, "undoes": seq, "restore": [restore[i] for i in item_ids]})
            self._write(entry, restore)
        return entry

    def _write(self, entry: AuditEntry, decisions: dict[int, dict[str, Any] | None]) -> None:
        """The reviews rows for an entry: a decision per item, None for undecided."""
        self.db.executemany(
            """INSERT INTO reviews(item_id, category_scheme, category, ai_tags, industry_class, decided_by,
                   decided_at, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(item_id) DO UPDATE SET category_scheme = excluded.category_scheme,
                   category = excluded.category, ai_tags = excluded.ai_tags,
                   industry_class = excluded.industry_class, decided_by = excluded.decided_by,
                   decided_at = excluded.decided_at, audit_seq = excluded.audit_seq""",
            # a decision an undo restored keeps who made it and when
            [(i, d["scheme"], d["category"], json.dumps(d["ai_tags"]), d["industry_class"], d.get("by", entry.actor),
              d.get("at", entry.at), entry.seq) for i, d in decisions.items() if d is not None],
        )
        self.db.executemany("DELETE FROM reviews WHERE item_id = ?", [(i,) for i, d in decisions.items() if d is None])
        self.db.executemany("""INSERT INTO review_versions(item_id, audit_seq) VALUES (?, ?)
                               ON CONFLICT(item_id) DO UPDATE SET audit_seq = excluded.audit_seq""",
                            [(i, entry.seq) for i in decisions])

    def claim(self, actor: str, count: int, minutes: int = CLAIM_MINUTES) -> tuple[list[int], str]:
        """The next `count` undecided queue entries no one holds, in review order, taken for `actor` until the
        time returned (audited): other reviewers' queues no longer show them."""
        self.refresh()  # before the lock: a rebuild of the queue is a write of its own
        with self.store.transaction():
            # two reviewers claiming at once: the second reads the free entries once the first's claim is in
            self.store.wait_for_writers()
            until = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="microseconds")
            items = [e["id"] for e in self.queue(QueueFilter(claims="free"), limit=count)[1]]
            if items:
                entry = self.store.append_audit(actor, CLAIM_ACTION, {"items": items, "until": until})
                self.db.executemany(
                    """INSERT INTO review_claims(item_id, claimed_by, until, audit_seq) VALUES (?, ?, ?, ?)
                       ON CONFLICT(item_id) DO UPDATE SET claimed_by = excluded.claimed_by,
                           until = excluded.until, audit_seq = excluded.audit_seq""",
                    [(i, actor, until, entry.seq) for i in items])
        return items, until

    def release(self, actor: str) -> list[int]:
        """Give back every entry `actor` holds (audited): the undecided ones return to everyone's queue, and only
        they are named (a decided entry's claim no longer holds anything back)."""
        with self.store.transaction():
            items = [r[0] for r in self.db.execute(
                """SELECT c.item_id FROM review_claims c WHERE c.claimed_by = ? AND c.until > ?
                   AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.item_id = c.item_id) ORDER BY c.item_id""",
                (actor, now_iso()))]
            if items:
                self.store.append_audit(actor, RELEASE_ACTION, {"items": items})
            self.db.execute("DELETE FROM review_claims WHERE claimed_by = ?", (actor,))
        return items

    def next_lapse(self) -> str | None:
        """When the next claim still held lapses (its entries then return to colleagues' queues), or None."""
        row = self.db.execute("SELECT min(until) FROM review_claims WHERE until > ?", (now_iso(),)).fetchone()
        return None if row[0] is None else str(row[0])

    def add_note(self, actor: str, item_id: int, text: str) -> AuditEntry:
        with self.store.transaction():
            entry = self.store.append_audit(actor, "note", {"items": [item_id], "text": text})
            self.db.execute("INSERT INTO notes(item_id, author, at, text, audit_seq) VALUES (?, ?, ?, ?, ?)",
                            (item_id, actor, entry.at, text, entry.seq))
        return entry

    def _sha256s(self, item_ids: Sequence[int]) -> list[str | None]:
        found = self.store.sha256s(item_ids)
        return [found.get(i) for i in item_ids]

    def existing_ids(self, item_ids: Sequence[int]) -> list[int]:
        found = self.store.sha256s(item_ids)
        return [i for i in item_ids if i in found]


def _group_holds(found: str) -> str:
    """A queue filter: the entry's group (its representative, or any item of its stack) holds an item that the
    query `found` selects (its parameters given twice). Uncorrelated: run once, not once per queue entry; never
    NULL, so NOT of it holds where no item of the group is found."""
    return (f"(q.representative_id IN ({found}) OR (q.stack_id IS NOT NULL AND q.stack_id IN "
            f"(SELECT x.stack_id FROM items x WHERE x.id IN ({found}) AND x.stack_id IS NOT NULL)))")


def _built_marks(text: str | None) -> dict[str, int] | None:
    """The stored marks; None when absent or in an older form (the queue is then rebuilt whole)."""
    try:
        marks = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(marks, dict) or set(marks) != set(_MARKED_TABLES):
        return None
    return {k: int(v) for k, v in marks.items()}


def _recorded(decision: Decision) -> dict[str, Any]:
    """A decision as the log's entries carry it."""
    return {"scheme": decision.category_scheme, "category": decision.category, "ai_tags": decision.ai_tags,
            "industry_class": decision.industry_class}


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k} {_flatten(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(_flatten(v) for v in value)
    return str(value)

