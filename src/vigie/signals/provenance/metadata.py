"""Marks that generators write into metadata: IPTC digital source type in XMP, and the generation records
of AUTOMATIC1111/Forge, ComfyUI, InvokeAI, NovelAI (including its alpha-channel "stealth" data), Fooocus,
SwarmUI and Midjourney, and EXIF Software naming a known generator.

Each rule looks at a named field and checks the structure the tool really writes, so that a look-alike
(a `Comment` from GIMP, the word "parameters" in a title) does not fire.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from typing import Any, AnyStr

import numpy as np
from PIL import ExifTags, Image

from vigie.records import CONTEXT, DETERMINISTIC, PROBLEM, Finding
from vigie.signals.provenance.c2pa import CAPTURED_SOURCE_TYPES, GENERATED_SOURCE_TYPES

_MAX_VALUE = 4000  # characters of a field kept as evidence
# XMP is read by forward-only scans with bounded patterns: its cost is linear in the file, whatever it holds
# (a regex like `<x:xmpmeta.*?</x:xmpmeta>` restarts at every opening tag: quadratic on a bait file).
_MAX_XMP_BYTES = 4 << 20  # of XMP packets examined per file
# An attribute value or element text, whose last path segment names the type. A value stops at the next
# field name, so every character is read a bounded number of times.
_SOURCE_TYPE = re.compile(r"DigitalSourceType(?:=\"|>)((?:(?!DigitalSourceType)[^\"<])*)(?=[\"<])")
_TYPE_NAME = re.compile(r"[A-Za-z]{1,64}")
_A1111 = re.compile(r"(?:^|\n)Steps: \d+, Sampler: [^,\n]+.*?(?:Seed: \d+)", re.S)
_MIDJOURNEY_JOB = re.compile(r"Job ID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DREAM = re.compile(r"^\".*\"\s+-s\s*\d+.*-S\s*\d+", re.S)
_KNOWN_SOFTWARE = re.compile(
    r"\b(NovelAI|Midjourney|DALL[·\-\s]?E|Adobe Firefly|Stable Diffusion|ComfyUI|AUTOMATIC1111|InvokeAI|"
    r"Fooocus|SwarmUI|Leonardo\.Ai|Ideogram|Image Creator from Microsoft Designer|Imagen|FLUX)\b",
    re.I,
)
_STEALTH_MAGICS = {b"stealth_pnginfo": False, b"stealth_pngcomp": True}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        if value[:8] in (b"UNICODE\0", b"UNICODE\x00"):
            body = value[8:]
            # A1111 writes UTF-16; the byte order varies with the writer
            return body.decode("utf-16-be" if body[:1] == b"\0" else "utf-16-le", "replace").strip("\0")
        if value[:8] == b"ASCII\0\0\0":
            value = value[8:]
        value = value.decode("utf-8", "replace").strip("\0")
    return str(value)


def _excerpt(text: str) -> str:
    return text if len(text) <= _MAX_VALUE else text[:_MAX_VALUE] + "…"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


def _generator(kind_detail: str, field: str, text: str) -> Finding:
    return Finding("generator-metadata", f"{field} holds a {kind_detail} generation record ({len(text)} characters)",
                   _excerpt(text), DETERMINISTIC)


def _parameters_rule(field: str, text: str) -> Finding | None:
    """The `parameters` field: A1111/Forge text, or JSON from Fooocus or SwarmUI."""
    data = _json(text)
    if isinstance(data, dict):
        if "sui_image_params" in data:
            return _generator("SwarmUI", field, text)
        version = str(data.get("Version", data.get("version", "")))
        if "fooocus" in version.lower() or "fooocus_scheme" in data or data.get("metadata_scheme") == "fooocus":
            return _generator("Fooocus", field, text)
        return None
    if _A1111.search(text):
        match = re.search(r"Version: (f[\w.\-]+)", text)
        return _generator("Forge" if match else "AUTOMATIC1111", field, text)
    return None


def _comfy_rule(field: str, text: str) -> Finding | None:
    data = _json(text)
    if not isinstance(data, dict):
        return None
    api_graph = any(isinstance(node, dict) and "class_type" in node for node in data.values())  # "prompt"
    ui_workflow = isinstance(data.get("nodes"), list) and "links" in data  # "workflow"
    return _generator("ComfyUI", field, text) if api_graph or ui_workflow else None


def _png_text_findings(info: dict[Any, Any]) -> list[Finding]:
    findings = []
    for key, raw in info.items():
        if not isinstance(raw, (str, bytes)):
            continue
        text = _text(raw)
        field = f"PNG text chunk '{key}'"
        found: Finding | None = None
        if key == "parameters":
            found = _parameters_rule(field, text)
        elif key in ("prompt", "workflow"):
            found = _comfy_rule(field, text)
        elif key in ("invokeai_metadata", "invokeai_graph", "sd-metadata") and isinstance(_json(text), dict):
            found = _generator("InvokeAI", field, text)
        elif key == "Dream" and _DREAM.match(text):
            found = _generator("InvokeAI (legacy Dream)", field, text)
        elif key == "Software" and text.strip() == "NovelAI":
            found = Finding("generator-metadata", f"{field} = 'NovelAI'", "NovelAI", DETERMINISTIC)
        elif key == "Comment" and info.get("Software") == "NovelAI":
            data = _json(text)
            if isinstance(data, dict) and {"steps", "sampler"} <= set(data):
                found = _generator("NovelAI", field, text)
        elif key == "Source" and info.get("Software") == "NovelAI":
            found = Finding("generator-metadata", f"{field} names the NovelAI model: {text[:200]}", text[:200],
                            DETERMINISTIC)
        elif key == "Description" and _MIDJOURNEY_JOB.search(text):
            found = _generator("Midjourney", field, text)
        if found:
            findings.append(found)
    return findings


def _exif_findings(image: Image.Image) -> list[Finding]:
    exif = image.getexif()
    if not exif:
        return []
    findings = []
    fields = {tag: exif.get(tag) for tag in (ExifTags.Base.Software, ExifTags.Base.Make, ExifTags.Base.Model,
                                             ExifTags.Base.ImageDescription)}
    fields[ExifTags.Base.UserComment] = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.UserComment)
    for tag, raw in fields.items():
        if raw is None:
            continue
        text = _text(raw)
        field = f"EXIF {ExifTags.Base(tag).name}"
        if tag == ExifTags.Base.UserComment:
            found = _parameters_rule(field, text)
            if found:
                findings.append(found)
            continue
        if tag == ExifTags.Base.Software and (match := _KNOWN_SOFTWARE.search(text)):
            findings.append(Finding("generator-metadata", f"{field} = {text[:200]!r} names the generator "
                                                          f"{match.group(1)}", text[:200], DETERMINISTIC))
            continue
        # ComfyUI's WebP writer stores "prompt:{json}" and "workflow:{json}" in Model and Make
        label, _, body = text.partition(":")
        if label in ("prompt", "workflow", "Prompt", "Workflow") and body.startswith("{"):
            found = _comfy_rule(f"{field} ('{label.lower()}')", body)
            if found:
                findings.append(found)
        elif tag == ExifTags.Base.ImageDescription and _MIDJOURNEY_JOB.search(text):
            findings.append(_generator("Midjourney", field, text))
    return findings


def elements(text: AnyStr, opening: AnyStr, closing: AnyStr) -> Iterator[AnyStr]:
    """What lies between each `opening` and the next `closing`, in one forward pass.

    These elements do not nest, so an element starts at the last opening before its closing. An opening
    with no closing after it ends the scan: no later opening can have one either.
    """
    position = 0
    while True:
        first = text.find(opening, position)
        if first < 0:
            return
        end = text.find(closing, first + len(opening))
        if end < 0:
            return
        start = text.rfind(opening, first, end)
        yield text[start + len(opening) : end]
        position = end + len(closing)


def _source_types(xml: str) -> Iterator[str]:
    for value in _SOURCE_TYPE.finditer(xml):
        name = value.group(1).rpartition("/")[2].strip()
        if _TYPE_NAME.fullmatch(name):
            yield name


def _descriptions(xml: str) -> Iterator[str]:
    for description in elements(xml, "<dc:description>", "</dc:description>"):
        for item in elements(description, "<rdf:li", "</rdf:li>"):
            yield item.partition(">")[2]


def xmp_findings(data: bytes) -> list[Finding]:
    findings = []
    examined = 0
    for packet in elements(data, b"<x:xmpmeta", b"</x:xmpmeta>"):
        if examined + len(packet) > _MAX_XMP_BYTES:
            findings.append(Finding("xmp-not-read", f"XMP past its first {_MAX_XMP_BYTES:,} bytes was not examined",
                                    None, PROBLEM))
            packet = packet[: _MAX_XMP_BYTES - examined]
        examined += len(packet)
        xml = packet.decode("utf-8", "replace")
        for name in _source_types(xml):
            where = f"XMP Iptc4xmpExt:DigitalSourceType = {name}"
            if name in GENERATED_SOURCE_TYPES:
                findings.append(Finding("iptc-digital-source-type", where, name, DETERMINISTIC))
            elif name in CAPTURED_SOURCE_TYPES:
                findings.append(Finding("iptc-digital-source-type", where, name, CONTEXT))
        for description in _descriptions(xml):
            if _MIDJOURNEY_JOB.search(description):
                findings.append(_generator("Midjourney", "XMP dc:description", description))
        if examined >= _MAX_XMP_BYTES:
            break
    return findings


def _stealth_bits(alpha: np.ndarray) -> np.ndarray:
    # The stealth writers walk the image column by column.
    return (alpha.T.reshape(-1) & 1).astype(np.uint8)


def stealth_findings(image: Image.Image) -> list[Finding]:
    """NovelAI's (and the stealth-pnginfo extension's) metadata hidden in the alpha channel's lowest bits."""
    if image.mode != "RGBA":
        return []
    alpha = np.asarray(image.getchannel("A"))
    if alpha.size < 160 or (np.all(alpha == alpha.flat[0]) and alpha.flat[0] & 1 == 0):
        return []
    bits = _stealth_bits(alpha)
    magic = np.packbits(bits[:120]).tobytes()
    if magic not in _STEALTH_MAGICS:
        return []
    length = int("".join(map(str, bits[120:152])), 2)
    payload = np.packbits(bits[152 : 152 + length]).tobytes()
    try:
        text = (gzip.decompress(payload) if _STEALTH_MAGICS[magic] else payload).decode("utf-8", "replace")
    except (OSError, EOFError):
        return [Finding("generator-metadata", f"alpha-channel {magic.decode()} data present but corrupt", None,
                        CONTEXT)]
    return [Finding("generator-metadata", f"alpha-channel lowest bits hold {magic.decode()} data: a NovelAI-style "
                                          f"generation record ({len(text)} characters)", _excerpt(text), DETERMINISTIC)]


def embed_stealth(image: Image.Image, text: str, compressed: bool = True) -> Image.Image:
    """Write stealth data the way the NovelAI/stealth-pnginfo writers do (used to make test fixtures)."""
    magic = b"stealth_pngcomp" if compressed else b"stealth_pnginfo"
    payload = gzip.compress(text.encode()) if compressed else text.encode()
    bits = np.unpackbits(np.frombuffer(magic, dtype=np.uint8))
    length = np.array([int(b) for b in format(len(payload) * 8, "032b")], dtype=np.uint8)
    bits = np.concatenate([bits, length, np.unpackbits(np.frombuffer(payload, dtype=np.uint8))])
    rgba = np.array(image.convert("RGBA"))
    alpha = rgba[:, :, 3].T.copy().reshape(-1)
    if len(bits) > alpha.size:
        raise ValueError("image too small for the payload")
    alpha[: len(bits)] = (alpha[: len(bits)] & 0xFE) | bits
    rgba[:, :, 3] = alpha.reshape(rgba.shape[1], rgba.shape[0]).T
    return Image.fromarray(rgba, "RGBA")


def metadata_findings(image: Image.Image, data: bytes, picture: Image.Image | None = None) -> list[Finding]:
    """Every metadata mark in an opened image (PNG text, EXIF, XMP, alpha-channel stealth data); the alpha
    channel is read from `picture`, the image's first picture when it is decoded already."""
    findings = _png_text_findings(image.info) + _exif_findings(image) + xmp_findings(data)
    if image.format == "PNG":
        findings += stealth_findings(image if picture is None else picture)
    return findings
