"""The README's generated blocks: `--help` texts and real outputs, written by cog (`cog -r -I scripts README.md`)
and checked by `make test` (`cog --check`), so the README cannot drift from the code.

Outputs must be the same on every run: help is rendered at a fixed width, the demo runs in a temporary
folder whose path is shown as /tmp/vigie-demo-doc, and fields that change from run to run or machine to machine
are left out."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from vigie.cli import main

HELP_WIDTH = 100  # the CLI's max_content_width: wider terminals wrap at the same place
DEMO_ROOT = "/tmp/vigie-demo-doc"
# The demo item's fields shown in the README. Left out: the file times (they change with every run) and `ai`
# (the detector's score may differ in its last digit between CPUs); the README names them below the item.
DEMO_ITEM_FIELDS = ("id", "path", "source", "size", "md5", "sha1", "sha256", "media_type", "width", "height", "exif",
                    "pdq", "pdq_quality", "stack", "matches", "errors")


def vigie(*args: str) -> str:
    """What `vigie ARGS` prints on stdout, at the README's fixed width; a failing command fails the generation."""
    result = CliRunner().invoke(main, list(args), prog_name="vigie", terminal_width=HELP_WIDTH)
    if result.exit_code != 0:
        raise RuntimeError(f"vigie {' '.join(args)} exited {result.exit_code}: {result.output}") from result.exception
    return result.stdout


def fenced(text: str, info: str = "") -> str:
    return f"```{info}\n{text.rstrip()}\n```"


def help_block(*command: str) -> str:
    return fenced(f"$ {' '.join(('vigie', *command, '--help'))}\n" + vigie(*command, "--help"))


def demo_item(name: str = "resized.jpg") -> str:
    """One item of the demo case's JSON report, built and scanned afresh in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "demo"
        vigie("demo", "--dir", str(root), "--workers", "1")
        report = root / "report.json"
        vigie("report", "--case", str(root / "case"), "--format", "json", "-o", str(report))
        items = json.loads(report.read_text(encoding="utf-8"))["items"]
    item = next(i for i in items if i["path"].endswith("/" + name))
    shown = {key: _renamed(item[key], str(root), DEMO_ROOT) for key in DEMO_ITEM_FIELDS}
    return fenced(_json_lines(shown), "json")


def hash_block() -> str:
    """`vigie hash` on a drawn picture and a two-second slideshow of two drawn pictures."""
    from vigie.demo.seizure import draw_picture, write_video

    with tempfile.TemporaryDirectory() as folder:
        picture, video = Path(folder) / "picture.jpg", Path(folder) / "slideshow.mp4"
        draw_picture(1, (640, 480)).save(picture, quality=90)
        write_video(video, [draw_picture(1, (320, 240)), draw_picture(2, (320, 240))], seconds_each=1.0)
        output = vigie("hash", str(picture), str(video)).replace(folder + "/", "")
    return fenced("$ vigie hash picture.jpg slideshow.mp4\n" + output)


def _renamed(value: Any, old: str, new: str) -> Any:
    """`value` with the temporary folder's path replaced, so the shown item is the same on every run."""
    return json.loads(json.dumps(value).replace(json.dumps(old)[1:-1], new))


def _json_lines(item: dict[str, Any]) -> str:
    """One field per line, a list of objects one object per line: readable and still valid JSON."""
    lines = []
    for key, value in item.items():
        if isinstance(value, list) and value:
            inner = ",\n".join("  " + json.dumps(v) for v in value)
            lines.append(f" {json.dumps(key)}: [\n{inner}\n ]")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"
