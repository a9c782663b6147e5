"""The case's face index on disk: usearch's own file, and beside it what it holds (the faces up to an id, under
which settings) and its SHA-256. It is read back only when all of that agrees with the grouping state and the
store's faces; anything else is a reason to rebuild it from the store, never to trust it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vigie.matching.faces.index import FaceIndex

INDEX_DIR = Path("index") / "faces"
_INDEX_FILE = "faces.usearch"
_ABOUT_FILE = "faces.json"


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def save_index(case_dir: Path, index: FaceIndex, settings: dict[str, Any], through: int) -> None:
    """Write the index and what it holds, each through a temporary file (a stopped write leaves no half file)."""
    folder = case_dir / INDEX_DIR
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{_INDEX_FILE}.partial"
    index.save(partial)
    about = {"settings": settings, "through": through, "faces": len(index), "sha256": _sha256(partial)}
    os.replace(partial, folder / _INDEX_FILE)
    (folder / f"{_ABOUT_FILE}.partial").write_text(json.dumps(about, indent=1))
    os.replace(folder / f"{_ABOUT_FILE}.partial", folder / _ABOUT_FILE)


def load_index(case_dir: Path, settings: dict[str, Any], through: int, held: Callable[[], np.ndarray]
               ) -> tuple[FaceIndex | None, str]:
    """(the saved index, "") when it was written by the grouping that covered the faces up to `through` under
    these settings and holds exactly the faces `held()` gives; else (None, why not)."""
    folder = case_dir / INDEX_DIR
    if not (folder / _INDEX_FILE).exists():
        return None, "no saved index"
    try:
        about = json.loads((folder / _ABOUT_FILE).read_text())
        if not isinstance(about, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        return None, f"its description is unreadable ({exc})"
    if about.get("settings") != settings:
        return None, "it was built under other settings"
    if about.get("through") != through:
        return None, f"it holds the faces up to {about.get('through')}, the groups those up to {through}"
    if about.get("sha256") != _sha256(folder / _INDEX_FILE):
        return None, "the file is not the one written (SHA-256 differs)"
    try:
        index = FaceIndex.load(folder / _INDEX_FILE)
    except ValueError as exc:
        return None, str(exc)
    expected = held()
    if len(index) != len(expected) or not np.array_equal(index.ids(), expected):
        return None, f"it holds {len(index)} faces, not the {len(expected)} the case's persons hold"
    return index, ""


def remove_index(case_dir: Path) -> None:
    """The saved index holds embeddings: it goes when they do (`faces purge`)."""
    shutil.rmtree(case_dir / INDEX_DIR, ignore_errors=True)
