"""`vigie faces scan`: faces for the images of a case scanned without them. Each image is read again, read-only,
from the evidence, and used only when its bytes still have the SHA-256 the scan recorded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from vigie.config import Settings
from vigie.signals.analysis import read_faces
from vigie.signals.faces import FaceModelError
from vigie.sources.reopen import read_item_bytes
from vigie.store.sqlite import SqliteCaseStore

FACES_SCAN_ACTION = "faces-scan"


@dataclass
class FaceScan:
    images: int = 0  # images searched
    faces: int = 0
    unreadable: int = 0  # gone, changed or undecodable: recorded against the item


def faces_searched(store: SqliteCaseStore) -> bool:
    """Whether faces were ever looked for in this case (a search that found none counts)."""
    if store.db.execute("SELECT 1 FROM faces LIMIT 1").fetchone():
        return True
    if store.db.execute("SELECT 1 FROM audit_log WHERE action = ? LIMIT 1", (FACES_SCAN_ACTION,)).fetchone():
        return True
    for (arguments,) in store.db.execute("SELECT arguments FROM scans"):
        if (json.loads(arguments).get("settings") or {}).get("faces"):
            return True
    return False


def scan_faces(store: SqliteCaseStore, settings: Settings, actor: str,
               advance: Callable[[], None] | None = None) -> FaceScan:
    """Search every image that holds no face yet (so a second run adds nothing twice); audited."""
    roots = {s.id: s.root for s in store.sources()}
    rows = store.db.execute(
        """SELECT i.id, i.source_id, i.relpath, i.sha256 FROM items i WHERE i.media_type LIKE 'image/%'
           AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.item_id = i.id) ORDER BY i.id"""
    ).fetchall()
    result = FaceScan()
    for item_id, source_id, relpath, sha256 in rows:
        result.images += 1
        data = read_item_bytes(roots[source_id], relpath, settings, settings.max_image_bytes)
        error = None
        faces = []
        if data is None:
            error = "faces not searched: the evidence could not be read again (moved, or larger than the limit)"
        elif hashlib.sha256(data).hexdigest() != sha256:
            error = "faces not searched: the evidence changed since the scan (its SHA-256 differs)"
        else:
            try:
                faces = read_faces(data, settings)
            except FaceModelError:
                raise  # no model: nothing can be searched, say so once
            except (OSError, ValueError) as exc:
                error = f"faces not searched: {exc}"
        result.faces += len(faces)
        result.unreadable += error is not None
        store.add_faces(item_id, faces, error)
        if advance:
            advance()
    store.append_audit(actor, FACES_SCAN_ACTION, {"images": result.images, "faces": result.faces,
                                                  "not_searched": result.unreadable,
                                                  "detector": settings.face_detector})
    return result
