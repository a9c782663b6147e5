"""The README against the code: commands it and the code's messages name exist; every setting, export format
and module is described. (Its generated blocks are checked by `cog --check` in `make test`.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from click.testing import CliRunner

from vigie.cli import main
from vigie.config import GiB, MiB, Settings
from vigie.exports.registry import EXPORTS

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "vigie"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def export_formats() -> list[str]:
    """Every format `vigie export` and the console offer (the one line to change with the registry)."""
    return list(EXPORTS)


# "vigie scan", "vigie audit verify"; not "from vigie import"
_COMMAND = re.compile(r"(?<!from )\bvigie ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


def section(heading: str) -> str:
    """The README's text under `heading` (a `## ` line), up to the next heading of that level."""
    start = README.index(f"\n## {heading}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


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
        command = main.commands.get(first)
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



def _settings_rows() -> dict[str, list[str]]:
    """The Settings table: key -> its cells."""
    rows = {}
    for line in section("Settings").splitlines():
        if match := re.match(r"\| `([a-z0-9_]+)` \|", line):
            rows[match.group(1)] = [cell.strip() for cell in line.strip("|").split("|")]
    return rows


def shown_default(value: object) -> str:
    """A default as the Settings table writes it: TOML's true/false and "", sizes in MiB/GiB, commas from 10,000."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, int):
        for unit, name in ((GiB, "GiB"), (MiB, "MiB")):
            if value >= unit and value % unit == 0:
                return f"{value // unit} {name}"
        return f"{value:,}" if value >= 10_000 else str(value)
    assert isinstance(value, float)
    return f"{value:,.1f}"


def test_every_setting_is_documented() -> None:
    rows = _settings_rows()
    assert sorted(rows) == sorted(Settings.keys()), "the README's Settings table and vigie.config.Settings differ"
    defaults = Settings()
    for key, (_, default, meaning) in rows.items():
        assert meaning, key
        if key != "workers":  # the machine's core count
            assert default == shown_default(getattr(defaults, key)), key


def test_every_export_format_is_documented() -> None:
    """Each format has its bullet in the Exports section: "- `vics`: ..." or "- `a` / `b`: ..."."""
    described = set()
    for line in section("Exports").splitlines():
        if line.startswith("- `"):
            described |= set(re.findall(r"`([^`]+)`", line.split(":", 1)[0]))
    assert described == set(export_formats())


def _code_map() -> dict[str, list[str]]:
    """The code map's rows: the row's module or package -> every backticked name in the row."""
    rows = {}
    for line in section("Code map").splitlines():
        if match := re.match(r"\| `(vigie/[^`]*)` \|", line):
            rows[match.group(1)] = re.findall(r"`([^`]+)`", line)
    return rows


def code_map_paths() -> tuple[set[Path], list[str]]:
    """The paths the code map names (a package's row names its files relative to it), and names that do
    not exist."""
    named, missing = set(), []
    for row, names in _code_map().items():
        package = row if row.endswith("/") else ""
        for name in names:
            if not (name.endswith((".py", "/", ".onnx", ".json")) and " " not in name):
                continue  # a command or a record's name
            path = SOURCE.parent / (name if name.startswith("vigie/") else package + name)
            if path.exists():
                named.add(path)
            else:
                missing.append(f"{name} (row {row})")
        if package:
            named.add(SOURCE.parent / package / "__init__.py")
    return named, missing


def test_code_map_names_existing_paths() -> None:
    assert not code_map_paths()[1], "the code map names paths that do not exist"


def test_code_map_covers_every_module() -> None:
    named = code_map_paths()[0]
    modules = {p for p in SOURCE.rglob("*.py") if p != SOURCE / "__init__.py"}
    unnamed = sorted(str(p.relative_to(SOURCE.parent)) for p in modules - named)
    assert not unnamed, f"modules the code map does not name: {unnamed}"


def test_every_path_in_the_readme_exists() -> None:
    paths = set(re.findall(r"`(vigie/[A-Za-z0-9_/.-]+)`", README))
    assert {p for p in paths if not (SOURCE.parent / p).exists()} == set()


def test_every_field_of_a_report_item_is_described(demo_case: Path) -> None:
    """The demo item in the README shows some fields; the text after it names the others."""
    report = json.loads(CliRunner().invoke(main, ["report", "--case", str(demo_case), "--format", "json"]).output)
    text = section("A first case")
    fields = {key for item in report["items"] for key in item}
    assert {key for key in fields if f'"{key}"' not in text and f"`{key}`" not in text} == set()


def _option(usage: str, name: str) -> click.Option:
    """The option `name` of the command a usage line starts with (`vigie hashlist import ...`)."""
    words = usage.split()[1:]
    command: click.Command = main
    while isinstance(command, click.Group):
        command = command.commands[words.pop(0)]
    return next(p for p in command.params if isinstance(p, click.Option) and name in p.opts)


def test_choices_in_the_commands_table_are_the_cli_s() -> None:
    """`--format a\\|b\\|c` in the Commands table lists exactly the choices the command accepts."""
    checked = 0
    for line in section("Commands").splitlines():
        for usage in re.findall(r"`(vigie [^`]+)`", line):
            for name, choices in re.findall(r"(--[a-z-]+) ([a-z0-9.-]+(?:\\\|[a-z0-9.-]+)+)", usage):
                option = _option(usage, name)
                assert isinstance(option.type, click.Choice), f"{usage}: {name}"
                assert choices.split("\\|") == list(option.type.choices), f"{usage}: {name}"
                checked += 1
    assert checked >= 4
