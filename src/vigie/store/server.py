"""The server's own file for `vigie serve --cases DIR`: its accounts and sessions (the case accounts' tables, used
by the same `Accounts`), which account may open which case with which role, what each session revealed in each
case, and its own append-only, hash-chained log of account changes. It lives beside the cases, in DIR."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from pathlib import Path

from vigie.errors import VigieError
from vigie.i18n import N_, Phrase
from vigie.store.accounts import AccountError, Accounts, User
from vigie.store.audit import AuditCheck, check_chain
from vigie.store.locator import case_store_url
from vigie.store.schema import AUDIT_LOG
from vigie.store.sqlite import CASE_DB_NAME, SqliteCaseStore, _split_sql, now_iso
from vigie.vocabulary import ADMIN, ROLES

SERVER_DB_NAME = "vigie-server.sqlite"
# A case's name is its folder's, and a piece of its console's URL: /cases/NAME/
CASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_ROLES = ", ".join(f"'{role}'" for role in ROLES)
_SERVER_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ({_ROLES})),
    settings TEXT NOT NULL DEFAULT '{{}}',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    must_change INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE case_access (
    user_id INTEGER NOT NULL REFERENCES users(id),
    case_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ({_ROLES})),
    PRIMARY KEY (user_id, case_name)
);
CREATE TABLE reveals (
    token_hash TEXT NOT NULL REFERENCES sessions(token_hash) ON DELETE CASCADE,
    case_name TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (token_hash, case_name, item_id)
);
""" + AUDIT_LOG


class ServerNotFoundError(VigieError):
    pass


def case_names(folder: Path) -> list[str]:
    """The cases under a folder: each subfolder holding a case (its case.sqlite, or a vigie.toml naming a
    PostgreSQL case) whose name fits in a URL."""
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if CASE_NAME.fullmatch(path.name) and path.is_dir() and (
                (path / CASE_DB_NAME).is_file() or case_store_url(path) is not None):
            found.append(path.name)
    return found


class ServerStore(SqliteCaseStore):
    """A SqliteCaseStore only for its plumbing (transactions, meta, and the audit log's hash chain, rule 2 from the
    first entry), over the server's file; it holds no evidence."""

    def __init__(self, folder: Path, create: bool = False, actor: str = "vigie") -> None:
        self.case_dir = folder  # the folder of cases
        path = folder / SERVER_DB_NAME
        if not path.exists() and not create:
            raise ServerNotFoundError(f"no server accounts in {folder} (expected {path}); `vigie serve --cases "
                                      f"{folder}` makes them at first start")
        self.read_only, self.unrecorded = False, None
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        self.db = db
        if db.execute("PRAGMA user_version").fetchone()[0] == 0:  # a new file: made once, under the write lock
            with self.transaction():
                if db.execute("PRAGMA user_version").fetchone()[0] == 0:
                    for statement in _split_sql(_SERVER_SCHEMA):
                        db.execute(statement)
                    db.execute("PRAGMA user_version = 1")
                    self.append_audit(actor, "server-create", {"folder": str(folder)})

    def verify_audit(self) -> AuditCheck:
        if self.db.execute("SELECT 1 FROM audit_log LIMIT 1").fetchone() is None:  # made with its first entry
            return AuditCheck(problems=["the server's log is empty: it was wiped"])
        return check_chain(self)

    # --- who opens which case ---------------------------------------------------------------------

    def grant(self, username: str, case: str, role: str, actor: str) -> None:
        """Let an account open a case with a role (replacing the role it had there), audited."""
        if role not in ROLES:
            raise AccountError(Phrase(N_("role must be one of %(roles)s"), roles=", ".join(ROLES)))
        with self.transaction():
            user = self._user(username)
            self.db.execute("INSERT INTO case_access(user_id, case_name, role) VALUES (?, ?, ?) "
                            "ON CONFLICT(user_id, case_name) DO UPDATE SET role = excluded.role", (user.id, case, role))
            self.append_audit(actor, "case-grant", {"user": username, "case": case, "role": role})

    def grant_served(self, username: str, case: str, role: str | None, actor: str) -> str:
        """`grant`, for a case this server serves (refused with the cases there, otherwise); `role` defaults to
        the account's own. Returns the role granted."""
        served = case_names(self.case_dir)
        if not served:
            raise AccountError(Phrase(N_("no case '%(case)s' under %(folder)s, which holds no case yet"), case=case,
                                      folder=self.case_dir))
        if case not in served:
            raise AccountError(Phrase(N_("no case '%(case)s' under %(folder)s (cases: %(cases)s)"), case=case,
                                      folder=self.case_dir, cases=", ".join(served)))
        role = role or self._user(username).role
        self.grant(username, case, role, actor)
        return role

    def revoke(self, username: str, case: str, actor: str) -> None:
        """The account can no longer open the case (what it decided there stays), audited."""
        with self.transaction():
            user = self._user(username)
            if not self.db.execute("DELETE FROM case_access WHERE user_id = ? AND case_name = ?",
                                   (user.id, case)).rowcount:
                raise AccountError(Phrase(N_("'%(user)s' has no access to '%(case)s'"), user=username, case=case))
            self.db.execute("DELETE FROM reveals WHERE case_name = ? AND token_hash IN "
                            "(SELECT token_hash FROM sessions WHERE user_id = ?)", (case, user.id))
            self.append_audit(actor, "case-revoke", {"user": username, "case": case})

    def access(self, user: User, cases: list[str]) -> dict[str, str]:
        """The cases (of those served) the account may open, with its role in each; an admin opens them all."""
        if user.role == ADMIN:
            return dict.fromkeys(cases, ADMIN)
        rows = self.db.execute("SELECT case_name, role FROM case_access WHERE user_id = ?", (user.id,))
        granted = {r[0]: r[1] for r in rows}
        return {case: granted[case] for case in cases if case in granted}

    def grants(self) -> dict[str, dict[str, str]]:
        """Each account's cases and roles, as granted."""
        found: dict[str, dict[str, str]] = {}
        for name, case, role in self.db.execute("SELECT u.username, a.case_name, a.role FROM case_access a "
                                                "JOIN users u ON u.id = a.user_id ORDER BY a.case_name"):
            found.setdefault(name, {})[case] = role
        return found

    def as_case_user(self, user: User, case: str) -> User | None:
        """The account as a case served sees it (with its role there), or None when it may not open the case."""
        role = self.access(user, [case]).get(case)
        return None if role is None else replace(user, role=role)

    def _user(self, username: str) -> User:
        user = Accounts(self).user(username)
        if user is None:
            raise AccountError(Phrase(N_("no user '%(user)s'"), user=username))
        return user

    # --- what each session revealed, case by case ---------------------------------------------------

    def add_reveal(self, token_hash: str, case: str, item_id: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO reveals(token_hash, case_name, item_id, at) VALUES (?, ?, ?, ?)",
                        (token_hash, case, item_id, now_iso()))

    def is_revealed(self, token_hash: str, case: str, item_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM reveals WHERE token_hash = ? AND case_name = ? AND item_id = ?",
                               (token_hash, case, item_id)).fetchone() is not None

    def reveal_count(self, token_hash: str, case: str) -> int:
        return int(self.db.execute("SELECT count(*) FROM reveals WHERE token_hash = ? AND case_name = ?",
                                   (token_hash, case)).fetchone()[0])
