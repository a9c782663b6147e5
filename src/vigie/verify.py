"""Re-hashing the evidence: which files changed or disappeared since they were scanned.

Archive members need no separate check: they are fixed by their archive's SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from vigie.sources import join_path
from vigie.sources.directory import open_source
from vigie.store.base import SourceRow

_CHUNK = 1 << 20


@dataclass(frozen=True)
class VerifyFinding:
    path: str
    status: str  # ok | changed | missing | unreadable
    detail: str = ""


def _sha256(root: str, relpath: str) -> tuple[str | None, str]:
    try:
        with open_source(root).open(relpath) as stream:
            digest = hashlib.sha256()
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
            return digest.hexdigest(), ""
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:  # a pipe or device swapped in for the file is refused, never read (it would block)
        return None, f"unreadable: {exc.strerror or exc}"
    except ValueError as exc:  # a stored path outside the grammar (a hand-edited case)
        return None, f"unreadable: {exc}"


def verify_case(
    items: list[tuple[SourceRow, str, str | None]], workers: int, progress: Callable[[], None] | None = None
) -> list[VerifyFinding]:
    """Re-hash `items` ((source, relpath, recorded SHA-256), as `top_level_items` lists them)."""
    findings = []

    def check(item: tuple[SourceRow, str, str | None]) -> VerifyFinding:
        source, relpath, recorded = item
        path = join_path(source.given, relpath)
        actual, problem = _sha256(source.root, relpath)
        if actual is None and recorded is None:
            return VerifyFinding(path, "ok", "unreadable at scan time too")
        if problem == "missing":
            return VerifyFinding(path, "missing", "file no longer exists")
        if actual is None:
            return VerifyFinding(path, "unreadable", problem)
        if recorded is None:
            return VerifyFinding(path, "changed", "readable now, unreadable when scanned")
        if actual != recorded:
            return VerifyFinding(path, "changed", f"SHA-256 was {recorded}, is now {actual}")
        return VerifyFinding(path, "ok")

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for finding in pool.map(check, items):
            findings.append(finding)
            if progress:
                progress()
    return findings
