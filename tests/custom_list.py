"""A list whose categories are not of the case's scheme: the demo list again, its categories renamed."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from vigie.cli import main

CUSTOM = {"4": "demo-A", "0": "demo-B"}  # the demo list's Project VIC US categories, as custom ones


def import_custom_list(demo_build: Path, case: Path, name: str = "custom-list") -> None:
    """Import into `case` the demo list's PDQ entries as list `name`, with categories demo-A and demo-B."""
    with (demo_build / "demo-hashlist.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["pdq"]]
    path = case.parent / f"{name}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "category": CUSTOM[row["category"]]} for row in rows)
    result = CliRunner().invoke(main, ["hashlist", "import", "--case", str(case), "--name", name, "--scheme",
                                       "custom", str(path)])
    assert result.exit_code == 0, result.output
