"""C2PA provenance on videos and images, with manifests signed here by the C2PA SDK's test certificate."""

from __future__ import annotations

import json
from pathlib import Path

import c2pa
import pytest
from conftest import shared_data

from vigie.config import Settings
from vigie.demo.seizure import draw_picture, write_video
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import open_case

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAPTURED = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def _sign(source: Path, target: Path, media_type: str, source_type: str) -> None:
    folder = shared_data("c2pa")
    cert, key = (folder / "es256_certs.pem").read_bytes(), (folder / "es256_private.key").read_bytes()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", cert, key, None))
    manifest = {
        "claim_generator_info": [{"name": "vigie-tests", "version": "1"}],
        "title": source.name,
        "assertions": [{"label": "c2pa.actions",
                        "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": source_type}]}}],
    }
    with source.open("rb") as src, target.open("w+b") as dst:
        c2pa.Builder(manifest).sign(signer, media_type, src, dst)


def _scan(tmp_path: Path, evidence: Path, **settings: object) -> dict[str, dict]:  # type: ignore[type-arg]
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(evidence)], Settings(workers=1, **settings))  # type: ignore[arg-type]
    return {Path(i["path"]).name: i for i in store.iter_report_items()}


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    clip = tmp_path / "clip.mp4"
    write_video(clip, [draw_picture(1, (320, 240)), draw_picture(2, (320, 240))], seconds_each=1.0, fps=10)
    _sign(clip, folder / "generated.mp4", "video/mp4", TRAINED)
    _sign(clip, folder / "camera.mp4", "video/mp4", CAPTURED)
    tampered = bytearray((folder / "generated.mp4").read_bytes())
    tampered[-200] ^= 0xFF  # inside the media data, after signing
    (folder / "tampered.mp4").write_bytes(bytes(tampered))
    (folder / "unsigned.mp4").write_bytes(clip.read_bytes())
    picture = tmp_path / "picture.jpg"
    draw_picture(3, (320, 240)).save(picture, quality=90)
    _sign(picture, folder / "generated.jpg", "image/jpeg", TRAINED)
    return folder


def test_signed_generated_video_is_ai_provenance(tmp_path: Path, evidence: Path) -> None:
    items = _scan(tmp_path, evidence)
    generated = items["generated.mp4"]["ai"]
    assert generated["verdict"] == "ai-provenance"
    source = next(s for s in generated["signals"] if s["kind"] == "c2pa-digital-source-type")
    assert source["value"] == "trainedAlgorithmicMedia" and TRAINED in source["detail"]
    manifest = next(s for s in generated["signals"] if s["kind"] == "c2pa-manifest")
    assert manifest["value"] == "untrusted" and "vigie-tests" in manifest["detail"]
    assert items["generated.jpg"]["ai"]["verdict"] == "ai-provenance"


def test_camera_claim_is_a_signal_never_a_real_verdict(tmp_path: Path, evidence: Path) -> None:
    camera = _scan(tmp_path, evidence)["camera.mp4"]["ai"]
    assert camera["verdict"] == "undetermined"
    assert any(s["value"] == "digitalCapture" and s["strength"] == "context" for s in camera["signals"])


def test_tampered_and_unsigned_videos(tmp_path: Path, evidence: Path) -> None:
    items = _scan(tmp_path, evidence)
    tampered = items["tampered.mp4"]["ai"]
    assert tampered["verdict"] == "undetermined"
    assert any(s["kind"] == "c2pa-tampered" for s in tampered["signals"])
    assert items["unsigned.mp4"]["ai"] == {"verdict": "undetermined", "signals": []}


def test_user_trust_list_is_honoured(tmp_path: Path, evidence: Path) -> None:
    anchors = shared_data("c2pa", "es256_certs.pem")
    items = _scan(tmp_path, evidence, c2pa_trust_anchors=str(anchors))
    manifest = next(s for s in items["generated.mp4"]["ai"]["signals"] if s["kind"] == "c2pa-manifest")
    assert manifest["value"] == "valid"


def test_remote_manifest_is_never_fetched(tmp_path: Path) -> None:
    folder = tmp_path / "ev"
    folder.mkdir()
    (folder / "cloud.jpg").write_bytes(shared_data("c2pa", "cloud.jpg").read_bytes())
    signals = _scan(tmp_path, folder)["cloud.jpg"]["ai"]["signals"]
    assert [s["kind"] for s in signals] == ["c2pa-remote-manifest"]
    assert "not fetched" in json.dumps(signals)
