"""The case's face index on disk: usearch's own file, the close pairs found so far (a plain .npy array of face
id pairs, read without pickle), and beside them what they hold (the faces up to an id, under which settings)
and their SHA-256. They are read back only when all of that agrees with the grouping state and the store's
faces; anything else is a reason to rebuild them from the store, never to trust them.
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
_EDGES_FILE = "edges.npy"
_ABOUT_FILE = "faces.json"


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def save_index(case_dir: Path, index: FaceIndex, edges: np.ndarray, settings: dict[str, Any], through: int) -> None:
    """Write the index, its close pairs ((n, 2) face ids, a < b) and what they hold, each through a temporary
    file (a stopped write leaves no half file, and a description that no longer matches)."""
    folder = case_dir / INDEX_DIR
    folder.mkdir(parents=True, exist_ok=True)
    index.save(folder / f"{_INDEX_FILE}.partial")
    with (folder / f"{_EDGES_FILE}.partial").open("wb") as handle:
        np.save(handle, np.ascontiguousarray(edges, dtype=np.int64).reshape(-1, 2), allow_pickle=False)
    about = {"settings": settings, "through": through, "faces": len(index), "pairs": len(edges),
             "sha256": {name: _sha256(folder / f"{name}.partial") for name in (_INDEX_FILE, _EDGES_FILE)}}
    for name in (_INDEX_FILE, _EDGES_FILE):
        os.replace(folder / f"{name}.partial", folder / name)
    (folder / f"{_ABOUT_FILE}.partial").write_text(json.dumps(about, indent=1))
    os.replace(folder / f"{_ABOUT_FILE}.partial", folder / _ABOUT_FILE)


def load_index(case_dir: Path, settings: dict[str, Any], through: int, held: Callable[[], np.ndarray]
               ) -> tuple[FaceIndex, np.ndarray] | str:
    """(the saved index, its close pairs) when they were written by the grouping that covered the faces up to
    `through` under these settings and hold exactly the faces `held()` gives; else why not."""
    folder = case_dir / INDEX_DIR
    if not (folder / _INDEX_FILE).exists():
        return "no saved index"
    try:
        about = json.loads((folder / _ABOUT_FILE).read_text())
        if not isinstance(about, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        return f"its description is unreadable ({exc})"
    if about.get("settings") != settings:
        return "it was built under other settings"
    if about.get("through") != through:
        return f"it holds the faces up to {about.get('through')}, the groups those up to {through}"
    try:
        written = {name: _sha256(folder / name) for name in (_INDEX_FILE, _EDGES_FILE)}
    except OSError as exc:
        return f"a file is unreadable ({exc})"
    if about.get("sha256") != written:
        return "a file is not the one written (SHA-256 differs)"
    try:
        index = FaceIndex.load(folder / _INDEX_FILE)
        edges = np.load(folder / _EDGES_FILE, allow_pickle=False)
    except ValueError as exc:
        return str(exc)
    expected = held()
    if len(index) != len(expected) or not np.array_equal(index.ids(), expected):
        return f"it holds {len(index)} faces, not the {len(expected)} the case's persons hold"
    if (edges.dtype != np.int64 or edges.ndim != 2 or edges.shape[1] != 2 or len(edges) != about.get("pairs")
            or not np.isin(edges, expected).all()):
        return "its close pairs are not pairs of the faces it holds"
    return index, edges


def remove_index(case_dir: Path) -> None:
    """The saved index holds embeddings: it goes when they do (`faces purge`), its pairs with it."""
    shutil.rmtree(case_dir / INDEX_DIR, ignore_errors=True)
