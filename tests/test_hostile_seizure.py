"""Issue 10's "done means", end to end: a seizure holding every hostile case, scanned through the CLI,
killed and resumed; every known picture is found, the one behind a link is never read."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from vigie.cli import main
from vigie.demo.hostile import HostileLayout, build_hostile_seizure


def _report(case: Path) -> list[dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["items"]  # type: ignore[no-any-return]


def _scan_args(layout: HostileLayout, case: Path) -> list[str]:
    args = ["scan", str(layout.evidence), "--case", str(case), "--workers", "1"]
    for hash_list in layout.lists:
        args += ["--hashlist", str(hash_list)]
    return args


def test_every_known_picture_in_a_hostile_seizure_is_found(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--hostile", "--dir", str(tmp_path / "hostile"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    layout = build_hostile_seizure(tmp_path / "layout-only")  # the same drawn pictures, for their hashes
    assert f"{len(layout.hidden)} of {len(layout.hidden)} hidden known pictures found" in result.output
    layout.case = tmp_path / "hostile" / "case"
    items = _report(layout.case)
    by_sha = {}
    for item in items:
        by_sha.setdefault(item["sha256"], []).append(item)
    for where, sha256 in layout.hidden.items():
        found = by_sha.get(sha256)
        assert found, f"{where}: not stored"
        assert any(item["matches"] for item in found), f"{where}: stored but not matched"
    assert len(layout.hidden) == 37
    assert _files(layout.evidence) == _files(tmp_path / "hostile" / "evidence" / "seized-laptop")  # built alike
    # The places read since 2 December, each as the member its reader names.
    for member in ("Mail/signed.eml!/smime.p7m!/IMG_6001.jpg", "AppData/cache.db!/after-the-end",
                   "Camera/edited.jpg!/c2pa-ingredient-thumbnail.jpg", "Download/poster.png!/xmp-picture-1.jpg",
                   "Music/track02.mp3!/picture-1.jpg", "Music/track03.mp3!/picture-1.jpeg",
                   "Download/post.txt!/IMG_7001.jpg", "Download/app.js!/data-uri-1.zip!/photos/IMG_8001.jpg",
                   "Download/export.txt!/base64-1.jpeg"):
        assert any(item["path"].endswith(f"/seized-laptop/{member}") and item["matches"] for item in items), member
    tiff = by_sha[layout.hidden["Scans/document.tif page 2"]][0]
    assert any(m.get("image_frame") == "page 2" for m in tiff["matches"])
    # The picture outside the evidence is never read; the links are recorded with their targets.
    outside = hashlib.sha256(layout.outside.read_bytes()).hexdigest() if layout.outside else None
    assert outside not in by_sha
    links = [item for item in items if item["path"].endswith(("absolute-link", "up-link.jpg"))]
    assert len(links) == 2 and all(item["sha256"] is None and item["errors"] for item in links)
    # Names are shown escaped; the duplicate member and the `X!` folder are distinct items.
    paths = {item["path"] for item in items}
    assert any(path.endswith("Camera/latin1-\\xe9.jpg") for path in paths)
    assert any(path.endswith("dup-names.zip!/DCIM/IMG.jpg!2") for path in paths)
    assert any("pics.zip\\!/a.jpg" in path for path in paths)
    # Nothing was refused, nothing stalled; verify reopens every file, the odd names included.
    verify = CliRunner().invoke(main, ["verify", "--case", str(layout.case)])
    assert verify.exit_code == 0, verify.output


def test_a_hostile_scan_killed_and_resumed_finds_every_known_picture(tmp_path: Path) -> None:
    layout = build_hostile_seizure(tmp_path / "hostile")
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    scan = subprocess.Popen([sys.executable, "-m", "vigie.cli", *_scan_args(layout, layout.case)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    database = layout.case / "case.sqlite"
    # Kill it as soon as it has stored items but before the scan finished (or whenever it got to).
    for _ in range(600):
        if scan.poll() is not None:
            break
        if database.exists() and _stored_items(database) > 0:
            break
        time.sleep(0.05)
    scan.send_signal(signal.SIGKILL)
    scan.wait(60)
    result = CliRunner().invoke(main, _scan_args(layout, layout.case))
    assert result.exit_code == 0, result.output
    by_sha = {item["sha256"]: item for item in _report(layout.case) if item["matches"]}
    missed = [where for where, sha256 in layout.hidden.items() if sha256 not in by_sha]
    assert not missed


def _files(evidence: Path) -> dict[Path, str]:
    return {path.relative_to(evidence): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in evidence.rglob("*") if path.is_file() and not path.is_symlink()}


def _stored_items(database: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM items").fetchone()[0])
    except sqlite3.Error:
        return 0
