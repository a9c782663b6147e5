"""One case's view of the server's accounts (`vigie serve --cases DIR`): the accounts that may open it, each with
its role there, their sessions, and what each session revealed in it. Reveals and decisions are audited in the
case's own log under the server account's name; account changes in the server's log."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vigie.i18n import N_, Phrase
from vigie.store.accounts import AccountError, Accounts, Session, User
from vigie.store.server import ServerStore
from vigie.store.sqlite import SqliteCaseStore
from vigie.vocabulary import ADMIN, NEW_ACCOUNT_ROLE


class CaseAccounts:
    def __init__(self, server: ServerStore, case: str, store: SqliteCaseStore) -> None:
        self.server, self.case, self.store = server, case, store
        self.accounts = Accounts(server)

    def has_users(self) -> bool:
        return self.accounts.has_users()

    def users(self) -> list[User]:
        """The accounts that may open this case, with their role in it."""
        shown = (self.server.as_case_user(user, self.case) for user in self.accounts.users())
        return [user for user in shown if user is not None]

    def create_user(self, username: str, password: str, role: str, actor: str, must_change: bool = False) -> User:
        """A server account that may open this case with `role`; only a server admin makes one. An admin made here
        administers this case only: a server admin (every case, every account) is made by `vigie user add --cases`."""
        self._server_admin(actor, Phrase(N_("accounts on this server are made by a server admin"),
                                         plain="accounts on this server are made by a server admin (vigie user add "
                                               "--cases DIR)"))
        with self.server.transaction():
            user = self.accounts.create_user(username, password, NEW_ACCOUNT_ROLE if role == ADMIN else role, actor,
                                             must_change)
            self.server.grant(username, self.case, role, actor)
        return replace(user, role=role)

    def disable(self, username: str, actor: str) -> None:
        """Only a server admin disables a server account (it opens other cases too)."""
        self._server_admin(actor, Phrase(N_("accounts on this server are disabled by a server admin"),
                                         plain="accounts on this server are disabled by a server admin (vigie user "
                                               "disable --cases DIR)"))
        self.accounts.disable(username, actor)

    def _server_admin(self, actor: str, refusal: str) -> None:
        maker = self.accounts.user(actor)
        if maker is None or maker.role != ADMIN:
            raise AccountError(refusal)

    def authenticate(self, username: str, password: str) -> User | None:
        user = self.accounts.authenticate(username, password)
        return None if user is None else self.server.as_case_user(user, self.case)

    def log_in(self, username: str, password: str, address: str) -> tuple[str, Session] | None:
        return self.accounts.log_in(username, password, address)

    def change_password(self, session: Session, current: str, password: str) -> None:
        self.accounts.change_password(session, current, password)

    def save_settings(self, user: User, settings: dict[str, Any]) -> None:
        self.accounts.save_settings(user, settings)

    def save_org_settings(self, actor: str, settings: dict[str, Any]) -> None:
        """The case's viewing defaults stay the case's."""
        Accounts(self.store).save_org_settings(actor, settings)

    def start_session(self, user: User) -> tuple[str, Session]:
        return self.accounts.start_session(user)

    def session(self, token: str) -> Session | None:
        """The server session, as this case sees its account; None where the account may not open the case."""
        found = self.accounts.session(token)
        user = None if found is None else self.server.as_case_user(found.user, self.case)
        return None if found is None or user is None else Session(found.token_hash, user, found.csrf_token)

    def end_session(self, session: Session) -> None:
        self.accounts.end_session(session)

    def record_reveal(self, session: Session, item_id: int) -> int:
        """Audited in the case first: when the entry cannot be written, nothing is marked revealed."""
        self.store.append_audit(session.user.username, "reveal", {"items": [item_id]})
        self.server.add_reveal(session.token_hash, self.case, item_id)
        return self.reveal_count(session)

    def is_revealed(self, session: Session, item_id: int) -> bool:
        return self.server.is_revealed(session.token_hash, self.case, item_id)

    def reveal_count(self, session: Session) -> int:
        return self.server.reveal_count(session.token_hash, self.case)
