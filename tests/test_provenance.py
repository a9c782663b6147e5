"""AI-generation marks: benign drawn images carrying each generator's metadata, XMP or watermark, written
here the way the tools write them, and look-alikes that must not fire."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import shared_data
from PIL import Image, PngImagePlugin

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.signals.provenance.metadata import embed_stealth
from vigie.signals.provenance.watermarks import (
    _VOTE_OF_CB,
    SD1,
    SD2,
    SDXL,
    _blocks,
    _votes,
    embed,
    stored_chroma,
    watermark_findings,
)

A1111 = ("a lighthouse at dusk, oil painting\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
         "Seed: 1234, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly")
FORGE = A1111 + ", Version: f0.0.17v1.8.0rc-latest-276-g29be1da7"
COMFY_PROMPT = json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 5}},
                           "4": {"class_type": "CheckpointLoaderSimple", "inputs": {}}})
COMFY_WORKFLOW = json.dumps({"nodes": [{"id": 3, "type": "KSampler"}], "links": [], "version": 0.4})
XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
       'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/{kind}"/>'
       '</rdf:RDF></x:xmpmeta>')


def picture(seed: int = 1, size: tuple[int, int] = (512, 384)) -> Image.Image:
    return draw_picture(seed, size)


def png(path: Path, texts: dict[str, str], image: Image.Image | None = None) -> None:
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    (image or picture()).save(path, "PNG", pnginfo=info)


def user_comment(text: str) -> bytes:
    return b"UNICODE\0" + text.encode("utf-16-be")


def with_exif(path: Path, fmt: str, tags: dict[int, object], sub_tags: dict[int, object] | None = None) -> None:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[tag] = value
    if sub_tags:
        exif.get_ifd(0x8769).update(sub_tags)
    picture().save(path, fmt, exif=exif.tobytes(), quality=95)


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A folder of marked images and, for each, the evidence its finding must name."""
    folder = tmp_path_factory.mktemp("marked")
    expect: dict[str, str] = {}

    def add(name: str, evidence: str) -> Path:
        expect[name] = evidence
        return folder / name

    png(add("a1111.png", "PNG text chunk 'parameters' holds a AUTOMATIC1111"), {"parameters": A1111})
    png(add("forge.png", "Forge generation record"), {"parameters": FORGE})
    with_exif(add("a1111.jpg", "EXIF UserComment holds a AUTOMATIC1111"), "JPEG", {}, {0x9286: user_comment(A1111)})
    with_exif(add("a1111.webp", "EXIF UserComment holds a AUTOMATIC1111"), "WEBP", {}, {0x9286: user_comment(A1111)})
    png(add("comfy.png", "'prompt' holds a ComfyUI"), {"prompt": COMFY_PROMPT, "workflow": COMFY_WORKFLOW})
    with_exif(add("comfy.webp", "ComfyUI"), "WEBP",
              {0x0110: "prompt:" + COMFY_PROMPT, 0x010F: "workflow:" + COMFY_WORKFLOW})
    png(add("invoke.png", "'invokeai_metadata' holds a InvokeAI"),
        {"invokeai_metadata": json.dumps({"generation_mode": "txt2img", "seed": 1})})
    png(add("invoke-graph.png", "'invokeai_graph' holds a InvokeAI"), {"invokeai_graph": json.dumps({"nodes": {}})})
    png(add("invoke-legacy.png", "'sd-metadata' holds a InvokeAI"), {"sd-metadata": json.dumps({"model": "stable"})})
    png(add("invoke-dream.png", "InvokeAI (legacy Dream)"), {"Dream": '"a lighthouse" -s 50 -S 1234 -W 512 -H 512'})
    png(add("novelai.png", "'Software' = 'NovelAI'"),
        {"Software": "NovelAI", "Source": "Stable Diffusion XL C1E1DE52",
         "Comment": json.dumps({"steps": 28, "sampler": "k_euler", "uc": "lowres"})})
    embed_stealth(picture(2), json.dumps({"steps": 28, "sampler": "k_euler"})).save(
        add("novelai-stealth.png", "stealth_pngcomp"), "PNG")
    png(add("fooocus.png", "Fooocus generation record"),
        {"parameters": json.dumps({"Prompt": "x", "Version": "Fooocus v2.5.3"}), "fooocus_scheme": "fooocus"})
    png(add("swarm.png", "SwarmUI generation record"), {"parameters": json.dumps({"sui_image_params": {"seed": 1}})})
    png(add("midjourney.png", "Midjourney"),
        {"Description": "a lighthouse --ar 3:2 --v 6.1 Job ID: 7bd3f2a4-12ab-4cde-9f01-23456789abcd"})
    with_exif(add("firefly.jpg", "EXIF Software = 'Adobe Firefly'"), "JPEG", {0x0131: "Adobe Firefly"})
    picture(3).save(add("xmp.jpg", "XMP Iptc4xmpExt:DigitalSourceType = trainedAlgorithmicMedia"), "JPEG",
                    xmp=XMP.format(kind="trainedAlgorithmicMedia").encode())
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.format(kind="compositeWithTrainedAlgorithmicMedia"))
    picture(4).save(add("xmp.png", "compositeWithTrainedAlgorithmicMedia"), "PNG", pnginfo=info)
    for mark, name in ((SDXL, "sdxl"), (SD1, "sd1"), (SD2, "sd2")):
        marked_pixels = embed(np.asarray(picture(9, (768, 512))), mark.bits)
        Image.fromarray(marked_pixels).save(add(f"watermark-{name}.png", f"dwtDct watermark of {mark.name}"), "PNG")
    return folder, expect


@pytest.fixture(scope="module")
def lookalikes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lookalikes")
    png(folder / "gimp.png", {"Comment": "Created with GIMP", "Software": "GIMP 2.10"})
    png(folder / "title.png", {"Title": "parameters of the survey", "parameters": "see the survey appendix"})
    png(folder / "json-comment.png", {"Comment": json.dumps({"steps": 3, "sampler": "kitchen"})})
    png(folder / "prompt-word.png", {"prompt": "Please answer the prompt below"})
    with_exif(folder / "camera.jpg", "JPEG", {0x010F: "NIKON CORPORATION", 0x0110: "NIKON D70", 0x0131: "Ver.1.00"})
    picture(5).save(folder / "captured.jpg", "JPEG", xmp=XMP.format(kind="digitalCapture").encode())
    picture(6).convert("RGBA").save(folder / "plain-alpha.png", "PNG")
    return folder


def _provenance(paths: list[Path]) -> dict[str, dict]:  # type: ignore[type-arg]
    output = CliRunner().invoke(main, ["provenance", *map(str, paths)]).output
    return {Path(line["path"]).name: line for line in map(json.loads, output.splitlines())}


def test_every_mark_gives_ai_provenance_with_its_evidence(marked: tuple[Path, dict[str, str]]) -> None:
    folder, expect = marked
    results = _provenance(sorted(folder.iterdir()))
    assert set(results) == set(expect)
    for name, evidence in expect.items():
        ai = results[name]["ai"]
        assert ai["verdict"] == "ai-provenance", (name, ai)
        assert any(evidence in s["detail"] for s in ai["signals"]), (name, evidence, ai["signals"])
        assert all({"kind", "detail", "value", "strength"} == set(s) for s in ai["signals"])


def test_watermark_signal_carries_the_bit_count(marked: tuple[Path, dict[str, str]]) -> None:
    folder, _ = marked
    signal = _provenance([folder / "watermark-sdxl.png"])["watermark-sdxl.png"]["ai"]["signals"][0]
    assert signal["kind"] == "invisible-watermark" and signal["value"] >= 36 and "of 48 bits" in signal["detail"]


def test_lookalikes_do_not_fire(lookalikes: Path) -> None:
    results = _provenance(sorted(lookalikes.iterdir()))
    for name, result in results.items():
        assert result["ai"]["verdict"] == "undetermined", (name, result)
    captured = results["captured.jpg"]["ai"]["signals"]
    assert [(s["value"], s["strength"]) for s in captured] == [("digitalCapture", "context")]


@pytest.mark.slow
def test_camera_photos_are_never_more_than_undetermined() -> None:
    photos = sorted(shared_data("photos").glob("*/*"))[::3]
    for name, result in _provenance(photos).items():
        assert result["ai"]["verdict"] == "undetermined", (name, result["ai"])


def test_report_marks_every_marked_image(tmp_path: Path, marked: tuple[Path, dict[str, str]]) -> None:
    folder, expect = marked
    case = tmp_path / "case"
    assert CliRunner().invoke(main, ["scan", str(folder), "--case", str(case)]).exit_code == 0
    report = json.loads(CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json"]).output)
    verdicts = {Path(i["path"]).name: i["ai"]["verdict"] for i in report["items"]}
    assert all(verdicts[name] == "ai-provenance" for name in expect)
    html = CliRunner().invoke(main, ["report", "--case", str(case)]).output
    assert "ai-provenance" in html


def test_stealth_data_survives_only_lossless(tmp_path: Path) -> None:
    image = embed_stealth(picture(7), "hello")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert _provenance_of_bytes(tmp_path, buffer.getvalue())["verdict"] == "ai-provenance"


def _provenance_of_bytes(tmp_path: Path, data: bytes) -> dict:  # type: ignore[type-arg]
    path = tmp_path / "x.png"
    path.write_bytes(data)
    return _provenance([path])["x.png"]["ai"]


def _marked_jpeg(quality: int, subsampling: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(embed(np.asarray(picture(9, (768, 512))), SD1.bits)).save(out, "JPEG", quality=quality,
                                                                               subsampling=subsampling)
    return out.getvalue()


def _full_decode(data: bytes) -> Image.Image:
    """A JPEG decoded as a scan decodes it when colour is read: to YCbCr, at full size."""
    image = Image.open(io.BytesIO(data))
    image.draft("YCbCr", image.size)
    image.load()
    return image


def test_the_stored_chroma_is_recovered_from_the_full_size_decode() -> None:
    """libjpeg's upsampling blurs the chroma the mark lives in; the scan's one decode undoes it, to within a
    level, instead of decoding the JPEG again at half size (where libjpeg gives a 4:2:0 JPEG's stored chroma)."""
    data = _marked_jpeg(95, 2)
    stored = Image.open(io.BytesIO(data))
    stored.draft("YCbCr", (stored.width // 2, stored.height // 2))
    cb = np.asarray(stored.getchannel("Cb"))
    recovered = stored_chroma(_full_decode(data))
    difference = np.abs(recovered.astype(int) - cb[: recovered.shape[0], : recovered.shape[1]])
    assert np.mean(difference == 0) > 0.85 and np.mean(difference > 1) < 0.01


@pytest.mark.parametrize("subsampling", [0, 1, 2])  # 4:4:4, 4:2:2, 4:2:0
def test_a_watermark_survives_jpeg_at_quality_95(subsampling: int) -> None:
    [finding] = watermark_findings(_full_decode(_marked_jpeg(95, subsampling)))
    assert finding.kind == "invisible-watermark" and SD1.name in finding.detail and finding.value >= SD1.very_likely


@pytest.mark.parametrize("subsampling", [0, 1, 2])
def test_votes_read_from_each_blocks_largest_value_are_those_of_the_rounded_stored_chroma(subsampling: int) -> None:
    """The votes round only each block's largest value (rounding keeps the order): the same votes as rounding
    every stored chroma value, then cutting the plane into blocks."""
    picture = _full_decode(_marked_jpeg(90, subsampling))
    chroma = stored_chroma(picture)[: picture.height // 4 * 2, : picture.width // 4 * 2]
    plain = _VOTE_OF_CB[_blocks(chroma).reshape(-1, 16)[:, 1:].max(axis=1)]
    assert np.array_equal(_votes(picture), plain)


def test_a_4_2_0_jpeg_read_short_of_a_threshold_is_read_again_from_its_chroma_as_stored(tmp_path: Path) -> None:
    """At quality 95 the stored chroma recovered from the shared decode can be a level off, enough to move
    votes: this mark falls short on it (94 of 136 bits), and is found whole (118) in the chroma as stored."""
    out = io.BytesIO()
    marked = embed(np.asarray(draw_picture(9, (1024, 1024)).convert("RGB")), SD1.bits)
    Image.fromarray(marked).save(out, "JPEG", quality=95, subsampling=2)
    data = out.getvalue()
    assert watermark_findings(_full_decode(data)) == []
    [finding] = watermark_findings(_full_decode(data), data)
    assert SD1.name in finding.detail and "as stored" in finding.detail and finding.value >= SD1.very_likely
    (tmp_path / "marked.jpg").write_bytes(data)
    assert _provenance([tmp_path / "marked.jpg"])["marked.jpg"]["ai"]["verdict"] == "ai-provenance"
