"""Re-hashing the evidence: which files changed or disappeared since they were scanned.

Archive members need no separate check: they are fixed by their archive's SHA-256. A disk image's media
is also checked against the digests its acquisition tool stored in it (an E01's MD5/SHA-1).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from vigie.records import SourceRow
from vigie.scan.roles import VerifyStore
from vigie.signals.crypto import StreamingDigests, check_stored
from vigie.signals.registry import IDENTITY
from vigie.sources import join_path
from vigie.sources.base import parse_relpath
from vigie.sources.directory import DirectorySource, FileSource, ReplacedFolder, open_source
from vigie.sources.disk.media import stored_digests, stored_digests_damage
from vigie.sources.diskimage import DiskImageSource, partition_entry

_CHUNK = 1 << 20


@dataclass(frozen=True)
class VerifyFinding:
    path: str
    status: str  # ok | changed | missing | unreadable | never-read (not read when scanned, nor now)
    detail: str = ""
    stored: str = ""  # a disk image: how its media compares with the digests stored in it

    @property
    def problem(self) -> bool:
        """Changed, missing or unreadable since the scan. A file never read has nothing to compare: it is not
        verified, and said apart (`never_read`), never counted as ok."""
        return self.status not in ("ok", "never-read")


def _sha256(root: str, relpath: str) -> tuple[str | None, str, str]:
    """(SHA-256, problem, stored-digest check) of one item read again."""
    try:
        source = open_source(root)
        if len(parse_relpath(relpath).members) > source.members_opened:  # a file the source no longer opens itself
            return None, "unreadable: the evidence is no longer a disk image Vigie reads", ""
        image = isinstance(source, DiskImageSource) and relpath == ""
        with source.open(relpath) as stream:
            digest: hashlib._Hash | StreamingDigests = StreamingDigests() if image else hashlib.sha256()
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
        if isinstance(digest, StreamingDigests):
            digests = digest.result()
            return digests[IDENTITY.name], "", _stored_check(root, digests)
        return digest.hexdigest(), "", ""
    except FileNotFoundError:
        return None, "missing", ""
    except ReplacedFolder:
        raise  # not "unreadable": tampering, which verify_case reports as a change
    except OSError as exc:  # a pipe or device swapped in for the file is refused, never read (it would block)
        return None, f"unreadable: {exc.strerror or exc}", ""
    except ValueError as exc:  # a stored path outside the grammar (a hand-edited case)
        return None, f"unreadable: {exc}", ""


def _stored_check(root: str, digests: dict[str, str]) -> str:
    """"stored MD5 ... matches" or "... DIFFERS ...", for each digest the image holds, and what keeps one from
    being read (a damaged hash section); "" when it holds none."""
    checks = [f"the image's stored {check.name.upper()} {check.stored} "
              + ("matches" if check.outcome == "match" else f"DIFFERS from the media read ({check.computed})")
              for check in check_stored(stored_digests(root), digests)]
    return "; ".join(checks + [damage for damage in (stored_digests_damage(root),) if damage])


def verify_case(
    items: list[tuple[SourceRow, str, str | None]], workers: int, progress: Callable[[], None] | None = None
) -> list[VerifyFinding]:
    """Re-hash `items` ((source, relpath, recorded SHA-256), as `top_level_items` lists them)."""
    findings = []

    def check(item: tuple[SourceRow, str, str | None]) -> VerifyFinding:
        source, relpath, recorded = item
        path = join_path(source.given, relpath)
        if source.kind == DirectorySource.kind and os.path.lexists(source.root) and not os.path.isdir(source.root):
            return VerifyFinding(path, "changed", f"the evidence folder {source.given} is no longer a folder")
        if source.kind in (FileSource.kind, DiskImageSource.kind) and os.path.isdir(source.root):
            return VerifyFinding(path, "changed", f"the evidence file {source.given} is now a folder")
        if source.kind == DiskImageSource.kind and partition_entry(relpath):
            return VerifyFinding(path, "ok", "a partition's findings, not a file: its bytes are the image's")
        if source.kind == DiskImageSource.kind and relpath and recorded is None:
            # a link, a device, a folder that loops, a deleted file whose clusters were reused: the image's bytes
            # (checked as its own item) are what they were, so reading it now would only differ from the scan's rule
            return VerifyFinding(path, "never-read", "not read when scanned (its error says why)")
        try:
            actual, problem, stored = _sha256(source.root, relpath)
        except ReplacedFolder as exc:  # a folder now a link or a file: whatever it holds, it is not read
            return VerifyFinding(path, "changed", str(exc.strerror))
        if "DIFFERS" in stored:
            return VerifyFinding(path, "changed", stored, stored)
        if problem == "missing":
            return VerifyFinding(path, "missing", "file no longer exists")
        if actual is None and recorded is None:
            return VerifyFinding(path, "never-read", "not read when scanned, nor now: "
                                 + problem.removeprefix("unreadable: "))
        if actual is None:
            return VerifyFinding(path, "unreadable", problem)
        if recorded is None:
            return VerifyFinding(path, "changed", "readable now, unreadable when scanned")
        if actual != recorded:
            return VerifyFinding(path, "changed", f"SHA-256 was {recorded}, is now {actual}")
        return VerifyFinding(path, "ok", stored=stored)

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for finding in pool.map(check, items):
            findings.append(finding)
            if progress:
                progress()
    return findings


def verify_evidence(store: VerifyStore, workers: int, actor: str,
                    start: Callable[[int], Callable[[], None]] | None = None) -> list[VerifyFinding]:
    """Re-hash every top-level item of the case, and audit what was found. `start` receives the number of
    files and returns what to call after each."""
    items = list(store.top_level_items())
    findings = verify_case(items, workers, start(len(items)) if start else None)
    bad = [f for f in findings if f.problem]
    never_read = [f.path for f in findings if f.status == "never-read"]
    store.append_audit(actor, "verify", {"files": len(findings), "problems": len(bad),
                                         "changed": [f.path for f in bad][:1000]}
                       | ({"never_read": never_read[:1000]} if never_read else {}))
    return findings
