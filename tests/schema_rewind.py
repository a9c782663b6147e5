"""A case set back to the schema it had before a migration, as a case made by an earlier Vigie (for migration tests on
SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from vigie.store.pg_schema import MIGRATIONS as PG_MIGRATIONS
from vigie.store.schema import MIGRATIONS


def rewind_schema(store: Any, kind: str, marker: str) -> None:
    """Sets the case's schema version to just before the migration whose script holds `marker`; what that migration
    and later ones added, the test drops itself."""
    migrations = PG_MIGRATIONS if kind == "postgresql" else MIGRATIONS
    version = next(n for n, script in enumerate(migrations) if marker in script)
    if kind == "postgresql":
        store.db.execute("UPDATE schema_version SET version = ?", (version,))
    else:
        store.db.execute(f"PRAGMA user_version = {version}")
