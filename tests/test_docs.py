"""The README against the code: commands it and the code's messages name exist; every setting, export format
and module is described. (Its generated blocks are checked by `cog --check` in `make test`.)"""

from __future__ import annotations

import re
from pathlib import Path

import click

from vigie.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "vigie"
README = (ROOT / "README.md").read_text(encoding="utf-8")

# "vigie scan", "vigie audit verify"; not "from vigie import"
_COMMAND = re.compile(r"(?<!from )\bvigie ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


def _texts() -> dict[str, str]:
    """The README and every source file a user reads messages or help from."""
    texts = {"README.md": README}
    for path in sorted(SOURCE.rglob("*")):
        if path.suffix in {".py", ".html", ".js"}:
            texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    return texts


def unknown_commands(text: str) -> set[str]:
    """`vigie X [Y]` mentions that are not commands of the CLI (Y is checked when X is a group)."""
    unknown = set()
    for first, second in _COMMAND.findall(text):
        command = main.commands.get(first) if isinstance(main, click.Group) else None
        if command is None:
            unknown.add(first)
        elif isinstance(command, click.Group) and second and second not in command.commands:
            unknown.add(f"{first} {second}")
    return unknown


def test_named_commands_exist() -> None:
    problems = {name: found for name, text in _texts().items() if (found := unknown_commands(text))}
    assert not problems, f"commands named but not in the CLI: {problems}"


def test_unknown_command_is_caught() -> None:
    assert unknown_commands("rebuild with `vigie index rebuild`") == {"index"}
    assert unknown_commands("see `vigie audit replay`") == {"audit replay"}
    assert not unknown_commands("from vigie import __version__; `vigie audit verify`, vigie scan phone")

