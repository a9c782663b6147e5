"""`vigie faces scan`: faces for the images of a case scanned without them. Each image is read again, read-only,
from the evidence, and used only when its bytes still have the SHA-256 the scan recorded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from vigie.config import Settings
from vigie.matching.faces.roles import FaceStore
from vigie.signals.analysis import read_faces
from vigie.signals.faces import FaceModelError
from vigie.sources.reopen import read_item_bytes

FACES_SCAN_ACTION = "faces-scan"


@dataclass
class FaceScan:
    images: int = 0  # images searched
    faces: int = 0
    unreadable: int = 0  # gone, changed or undecodable: recorded against the item


def faces_searched(store: FaceStore) -> bool:
    """Whether faces were ever looked for in this case (a search that found none counts)."""
    if store.any_faces() or store.has_audit_action(FACES_SCAN_ACTION):
        return True
    return any((json.loads(arguments).get("settings") or {}).get("faces") for _, arguments in store.scan_arguments())


def scan_faces(store: FaceStore, settings: Settings, actor: str,
               advance: Callable[[], None] | None = None) -> FaceScan:
    """Search every image that holds no face yet (so a second run adds nothing twice); audited."""
    result = FaceScan()
    for item_id, root, relpath, sha256 in store.images_without_faces():
        result.images += 1
        data = read_item_bytes(root, relpath, settings, settings.max_image_bytes)
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
