"""Where a case is: a folder holding case.sqlite, or a PostgreSQL case named by a URL
(`postgresql://user@host/db?case=NAME`). A PostgreSQL case still has a local folder, for what is kept beside a
case and rebuilt from the store when missing (the PDQ list index, the item index, the console's certificate) and
for its `vigie.toml`, whose `store` names the PostgreSQL case. Giving the URL makes that folder under the cache
(`$VIGIE_CACHE_DIR`, else `$XDG_CACHE_HOME/vigie`, else `~/.cache/vigie`); a folder of one's choosing works too,
with `store = "postgresql://..."` in its vigie.toml."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vigie.config import CASE_CONFIG_NAME
from vigie.errors import VigieError

SCHEMES = ("postgresql", "postgres")
CACHE_ENV = "VIGIE_CACHE_DIR"
# A case name is its PostgreSQL schema's name: letters, digits and _ (a schema per case, in any database)
_CASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class StoreUrlError(VigieError):
    exit_code = 2


def is_store_url(text: str) -> bool:
    return any(text.startswith(f"{scheme}://") for scheme in SCHEMES)


def parse_store_url(url: str) -> tuple[str, str]:
    """(libpq connection URL without `case`, case name)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise StoreUrlError(f"not a PostgreSQL URL: {url!r} (expected postgresql://user@host/db?case=NAME)")
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = [value for key, value in query if key == "case"]
    if len(names) != 1 or not _CASE_NAME.fullmatch(names[0]):
        raise StoreUrlError(f"{shown_url(url)} needs one ?case=NAME: letters, digits and _, at most 63, "
                            "not starting with a digit")
    rest = urlencode([(key, value) for key, value in query if key != "case"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")), names[0]


def shown_url(url: str) -> str:
    """The URL without its password, for messages and the audit log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vigie"


def local_case_folder(url: str) -> Path:
    """The local folder of a PostgreSQL case, made with its vigie.toml on first use: one per server, database
    and case (`postgresql/<host>-<db>-<digest>/<case>`)."""
    conninfo, case = parse_store_url(url)
    parts = urlsplit(conninfo)
    host = parts.hostname or dict(parse_qsl(parts.query)).get("host") or "local"
    server = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{host}-{parts.path.strip('/') or 'db'}").strip("_")[:60]
    digest = hashlib.sha256(f"{parts.hostname}|{parts.port}|{parts.query}|{parts.path}|{parts.username}".encode())
    folder = cache_root() / "postgresql" / f"{server}-{digest.hexdigest()[:8]}" / case
    config = folder / CASE_CONFIG_NAME
    if not config.exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_whole(config, f"# the case itself is in PostgreSQL; this folder holds what is rebuilt from it\n"
                            f"store = {_toml_string(url)}\n")
    elif case_store_url(folder) != url:
        raise StoreUrlError(f"{config} names another store than {shown_url(url)}")
    return folder


def forget_local_folder(folder: Path) -> None:
    """Remove the folder `local_case_folder` made, for a case that is not in the database (never made, or just
    dropped). A folder elsewhere is the user's, and stays."""
    if folder.resolve().is_relative_to(cache_root().resolve()):
        shutil.rmtree(folder, ignore_errors=True)


def write_whole(path: Path, text: str) -> None:
    """Written in full, then moved in: another process opening the same case never reads half of it. Mode 0600:
    a store URL may hold a password."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".vigie-", delete=False) as handle:
        handle.write(text)
    os.chmod(handle.name, 0o600)
    os.replace(handle.name, path)


def case_store_url(case_dir: Path) -> str | None:
    """The `store` a case folder's vigie.toml names, if any (an unreadable vigie.toml is reported where settings
    are loaded)."""
    try:
        with (case_dir / CASE_CONFIG_NAME).open("rb") as handle:
            store = tomllib.load(handle).get("store")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return store if isinstance(store, str) and store else None


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
