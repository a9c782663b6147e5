"""Front ends only parse, call and show: the domain operations they call write their own audit entries, so an
action is audited whichever front end (the command line, the console, a script) runs it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import vigie

PACKAGE = Path(vigie.__file__).parent
FRONT_ENDS = ("cli", "web")


def _audit_appends(path: Path) -> list[int]:
    """Lines of `path` that call `append_audit` or name it (as a reference passed on)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return sorted({node.lineno for node in ast.walk(tree)
                   if (isinstance(node, ast.Attribute) and node.attr == "append_audit")
                   or (isinstance(node, ast.Name) and node.id == "append_audit")})


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_front_ends_never_append_to_the_audit_log(front_end: str) -> None:
    modules = sorted((PACKAGE / front_end).rglob("*.py"))
    assert modules, f"no modules under vigie/{front_end}/"
    offenders = {str(m.relative_to(PACKAGE)): lines for m in modules if (lines := _audit_appends(m))}
    assert offenders == {}, "audit in the domain function instead (same transaction as the change)"


def test_the_check_sees_an_append(tmp_path: Path) -> None:
    module = tmp_path / "front.py"
    module.write_text("def act(store):\n    store.append_audit('me', 'x', {})\n")
    assert _audit_appends(module) == [2]
