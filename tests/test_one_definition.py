"""Constants the code shares are written once: the archive separator of item paths, and a PDQ hash's size."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "vigie"


def _trees() -> dict[str, ast.Module]:
    return {str(path.relative_to(SOURCE)): ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(SOURCE.rglob("*.py"))}


def test_archive_separator_is_named() -> None:
    """Code that splits or joins item paths uses sources.base.ARCHIVE_SEPARATOR, never a "!/" of its own."""
    literal = {name for name, tree in _trees().items()
               if any(isinstance(node, ast.Constant) and node.value == "!/" for node in ast.walk(tree))}
    assert literal == {"sources/base.py"}  # where ARCHIVE_SEPARATOR is defined


def test_one_hash_bytes() -> None:
    defined = {name for name, tree in _trees().items() for node in ast.walk(tree)
               if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "HASH_BYTES"
                                                       for t in node.targets)}
    assert defined == {"records.py"}
