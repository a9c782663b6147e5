"""Images built to stall or blind a scan: XMP bait, PNG text-chunk bombs, pictures on later pages or frames.
Every fixture is drawn here (vigie.demo.draw_picture) and kept small; the bombs are built in memory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vigie.demo import draw_picture
from vigie.signals.findings import PROBLEM
from vigie.signals.provenance.metadata import xmp_findings

SRC = Path(__file__).resolve().parents[1] / "src"
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
       b'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>'
       b'</rdf:RDF></x:xmpmeta>')
BAIT = b"<x:xmpmeta" * ((8 << 20) // 10)  # 8 MiB of openings that never close


def _provenance_within(path: Path, seconds: int = 60) -> dict[str, object]:
    """`vigie provenance` on one file in a child process. The old XMP regex needed hours on 8 MiB of bait;
    a linear scan needs well under a second, so the generous limit only catches the quadratic case."""
    command = [sys.executable, "-m", "vigie.cli", "provenance", "--no-watermarks", "--no-detector", str(path)]
    env = os.environ | {"PYTHONPATH": str(SRC)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds, env=env, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {path.name} took more than {seconds} s: the XMP scan is not linear")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _jpeg(seed: int, xmp: bytes | None = None) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (320, 240)).save(out, "JPEG", quality=90, **({"xmp": xmp} if xmp else {}))
    return out.getvalue()


def test_xmp_bait_after_a_photo_is_read_in_linear_time(tmp_path: Path) -> None:
    bait = tmp_path / "bait.jpg"
    bait.write_bytes(_jpeg(1, XMP) + BAIT)  # viewers ignore what follows the JPEG's end
    result = _provenance_within(bait)
    assert result["errors"] == []
    assert result["ai"]["verdict"] == "ai-provenance"  # type: ignore[index]


def test_a_packet_behind_the_bait_is_still_found(tmp_path: Path) -> None:
    bait = tmp_path / "hidden.jpg"
    bait.write_bytes(_jpeg(2) + BAIT + XMP)
    result = _provenance_within(bait)
    kinds = [s["kind"] for s in result["ai"]["signals"]]  # type: ignore[index]
    assert "iptc-digital-source-type" in kinds


def test_xmp_examined_is_capped_and_the_cap_is_said() -> None:
    padding = b"<rdf:Description/>" * ((5 << 20) // 18)
    findings = xmp_findings(XMP[:-len(b"</x:xmpmeta>")] + padding + b"</x:xmpmeta>")
    assert [f.kind for f in findings] == ["xmp-not-read", "iptc-digital-source-type"]
    assert findings[0].strength == PROBLEM


def test_xmp_descriptions_and_element_values() -> None:
    job = "Job ID: 0123abcd-0123-4567-89ab-0123456789ab"
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
              + job.encode() + b"</rdf:li></rdf:Alt></dc:description><Iptc4xmpExt:DigitalSourceType>\n"
              b"  http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture </Iptc4xmpExt:DigitalSourceType>"
              b"</x:xmpmeta>")
    found = {(f.kind, f.value if f.kind != "generator-metadata" else None) for f in xmp_findings(packet)}
    assert found == {("generator-metadata", None), ("iptc-digital-source-type", "digitalCapture")}


def test_field_bait_inside_a_packet_is_linear(tmp_path: Path) -> None:
    # many openings of a field with no end, then the real field: read once, never restarted at each opening
    opening = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    bait = tmp_path / "fields.jpg"
    bait.write_bytes(_jpeg(3) + opening + b"<dc:description>" * 100_000 + b"DigitalSourceType>" * 100_000
                     + XMP[len(opening):])
    kinds = [s["kind"] for s in _provenance_within(bait)["ai"]["signals"]]  # type: ignore[index]
    assert kinds == ["iptc-digital-source-type"]
