"""Console accounts and sessions, kept in the case file (or in the server's file, store/server.py, for a server of
many cases). Passwords are argon2id hashes; session tokens are stored only as their SHA-256, so a copy of the file
does not hand out live sessions."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vigie.errors import VigieError
from vigie.i18n import N_, Phrase
from vigie.records import AuditEntry
from vigie.store.connection import Connection
from vigie.store.sqlite import now_iso
from vigie.vocabulary import DECIDING_ROLES, ROLES

SESSION_HOURS = 12
_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown name as slow as one for a known name.
_DUMMY_HASH = _hasher.hash("not a password of anyone")
_USER_COLUMNS = "u.id, u.username, u.role, u.settings, u.must_change, u.disabled"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    settings: dict[str, Any]
    must_change: bool = False  # a password made for the account (first start, user add, reset): change it first
    disabled: bool = False

    @property
    def can_decide(self) -> bool:
        return self.role in DECIDING_ROLES


@dataclass(frozen=True)
class Session:
    token_hash: str
    user: User
    csrf_token: str


class AccountError(VigieError, ValueError):  # the password page translates the N_-marked refusals
    exit_code = 2


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise AccountError(N_("a password has at least 10 characters"))


def new_password() -> str:
    return secrets.token_urlsafe(15)


def _user(row: Any) -> User:
    """A User from the `_USER_COLUMNS` at the start of a row."""
    return User(row[0], row[1], row[2], json.loads(row[3]), bool(row[4]), bool(row[5]))


class AccountsHome(Protocol):
    """Where the users and sessions tables are: a case, or the server's file."""

    db: Connection

    def transaction(self) -> Any: ...
    def append_audit(self, actor: str, action: str, details: dict[str, Any]) -> AuditEntry: ...
    def set_meta(self, key: str, value: str) -> None: ...


class Accounts:
    def __init__(self, store: AccountsHome) -> None:
        self.store = store
        self.db = store.db

    def has_users(self) -> bool:
        return self.db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def create_user(self, username: str, password: str, role: str, actor: str, must_change: bool = False) -> User:
        username = username.strip()
        if role not in ROLES:
            raise AccountError(Phrase(N_("role must be one of %(roles)s"), roles=", ".join(ROLES)))
        if not username or len(username) > 64 or not username.isprintable():
            raise AccountError(N_("a user name is 1 to 64 printable characters"))
        _check_password(password)
        if self.db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            raise AccountError(Phrase(N_("user '%(user)s' exists"), user=username))
        with self.store.transaction():
            cursor = self.db.execute(
                "INSERT INTO users(username, password_hash, role, created_at, must_change) VALUES (?, ?, ?, ?, ?)",
                (username, _hasher.hash(password), role, now_iso(), int(must_change)),
            )
            self.store.append_audit(actor, "user-create", {"user": username, "role": role})
        return User(int(cursor.lastrowid or 0), username, role, {}, must_change)

    def set_password(self, username: str, password: str, actor: str, must_change: bool = False) -> None:
        """A new password given by someone else (`must_change`: one made for the account, shown once)."""
        _check_password(password)
        with self.store.transaction():
            changed = self.db.execute("UPDATE users SET password_hash = ?, must_change = ? WHERE username = ?",
                                      (_hasher.hash(password), int(must_change), username)).rowcount
            if not changed:
                raise AccountError(Phrase(N_("no user '%(user)s'"), user=username))
            self.db.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)",
                            (username,))
            self.store.append_audit(actor, "user-password", {"user": username})

    def change_password(self, session: Session, current: str, password: str) -> None:
        """The user's own choice, over their current password; their other sessions end, audited."""
        user = session.user
        if self.authenticate(user.username, current) is None:
            raise AccountError(N_("the current password is wrong"))
        if current == password:
            raise AccountError(N_("choose a password other than the current one"))
        _check_password(password)
        with self.store.transaction():
            self.db.execute("UPDATE users SET password_hash = ?, must_change = 0 WHERE id = ?",
                            (_hasher.hash(password), user.id))
            self.db.execute("DELETE FROM sessions WHERE user_id = ? AND token_hash != ?", (user.id, session.token_hash))
            self.store.append_audit(user.username, "password-change", {"user": user.username})

    def disable(self, username: str, actor: str) -> None:
        """The account can no longer log in, and its sessions end now; audited. Not the actor's own: the console
        and `vigie user` alike refuse that."""
        if username == actor:
            raise AccountError(N_("an admin does not disable their own account"))
        with self.store.transaction():
            if not self.db.execute("UPDATE users SET disabled = 1 WHERE username = ?", (username,)).rowcount:
                raise AccountError(Phrase(N_("no user '%(user)s'"), user=username))
            self.db.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)",
                            (username,))
            self.store.append_audit(actor, "user-disable", {"user": username})

    def user(self, username: str) -> User | None:
        row = self.db.execute(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.username = ?", (username,)).fetchone()
        return None if row is None else _user(row)

    def users(self, include_disabled: bool = False) -> list[User]:
        shown = "" if include_disabled else "WHERE u.disabled = 0 "
        return [_user(r) for r in self.db.execute(f"SELECT {_USER_COLUMNS} FROM users u {shown}ORDER BY u.id")]

    def authenticate(self, username: str, password: str) -> User | None:
        row = self.db.execute(
            f"SELECT {_USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = ? AND u.disabled = 0",
            (username,),
        ).fetchone()
        try:
            _hasher.verify(row[6] if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return None if row is None else _user(row)

    def save_settings(self, user: User, settings: dict[str, Any]) -> None:
        """A user's own view settings, audited."""
        with self.store.transaction():
            self.db.execute("UPDATE users SET settings = ? WHERE id = ?", (json.dumps(settings), user.id))
            self.store.append_audit(user.username, "view-settings", settings)

    def save_org_settings(self, actor: str, settings: dict[str, Any]) -> None:
        """The blur and greyscale every user starts from (an admin's choice), audited."""
        if not settings:
            return
        with self.store.transaction():
            if "blur" in settings:
                self.store.set_meta("org_blur", str(settings["blur"]))
            if "greyscale" in settings:
                self.store.set_meta("org_greyscale", "1" if settings["greyscale"] else "0")
            self.store.append_audit(actor, "org-view-settings", settings)

    # --- sessions -------------------------------------------------------------------------------

    def log_in(self, username: str, password: str, address: str) -> tuple[str, Session] | None:
        """A new session for the right password; either way the attempt is audited with the address."""
        user = self.authenticate(username, password)
        if user is None:
            self.store.append_audit(username or "-", "login-failed", {"address": address})
            return None
        with self.store.transaction():
            started = self.start_session(user)
            self.store.append_audit(user.username, "login", {"address": address})
        return started

    def start_session(self, user: User) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        self.db.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
        self.db.execute(
            "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_token_hash(token), user.id, csrf, now.isoformat(), (now + timedelta(hours=SESSION_HOURS)).isoformat()),
        )
        return token, Session(_token_hash(token), user, csrf)

    def session(self, token: str) -> Session | None:
        row = self.db.execute(
            f"""SELECT {_USER_COLUMNS}, s.token_hash, s.csrf_token, s.expires_at
               FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND u.disabled = 0""",
            (_token_hash(token),),
        ).fetchone()
        if row is None or datetime.fromisoformat(row[8]) < datetime.now(UTC):
            return None
        return Session(row[6], _user(row), row[7])

    def end_session(self, session: Session) -> None:
        """Log out, audited."""
        with self.store.transaction():
            self.db.execute("DELETE FROM sessions WHERE token_hash = ?", (session.token_hash,))
            self.store.append_audit(session.user.username, "logout", {})

    def record_reveal(self, session: Session, item_id: int) -> int:
        """Mark one item revealed for this session and audit it, in one transaction: when the audit entry
        cannot be written, the item stays hidden. Returns how many items the session has revealed."""
        with self.store.transaction():
            self.db.execute("INSERT OR IGNORE INTO reveals(token_hash, item_id, at) VALUES (?, ?, ?)",
                            (session.token_hash, item_id, now_iso()))
            self.store.append_audit(session.user.username, "reveal", {"items": [item_id]})
        return self.reveal_count(session)

    def is_revealed(self, session: Session, item_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM reveals WHERE token_hash = ? AND item_id = ?",
                               (session.token_hash, item_id)).fetchone() is not None

    def reveal_count(self, session: Session) -> int:
        return int(self.db.execute("SELECT count(*) FROM reveals WHERE token_hash = ?",
                                   (session.token_hash,)).fetchone()[0])
