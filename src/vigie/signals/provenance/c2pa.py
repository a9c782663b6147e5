"""C2PA manifests read with c2pa-python: presence, validation, claim generator, actions and their
digital source type, ingredients. Remote manifests are never fetched: Vigie makes no network calls
that the user did not ask for, so such a manifest is reported as present but unread.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, BinaryIO

from vigie.signals.findings import CONTEXT, DETERMINISTIC, PROBLEM, Finding

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC digital source types that declare generated content, and those that declare a capture.
GENERATED_SOURCE_TYPES = frozenset({
    "trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia", "compositeSynthetic",
})
CAPTURED_SOURCE_TYPES = frozenset({
    "digitalCapture", "computationalCapture", "negativeFilm", "positiveFilm", "print", "minorHumanEdits",
    "compositeCapture", "screenCapture", "digitalArt", "humanEdits", "dataDrivenMedia",
})
# Cheap byte markers: a JUMBF box, the C2PA label, or XMP pointing at a remote manifest.
_MARKERS = (b"jumb", b"c2pa", b"dcterms:provenance")


def may_hold_manifest(data: bytes) -> bool:
    return any(marker in data for marker in _MARKERS)


@lru_cache(maxsize=4)
def _context(trust_anchors_pem: str | None) -> Any:
    import c2pa

    # No remote manifest, no OCSP request, no host at all: the SDK's own network use stays off.
    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
                                "core": {"allowed_network_hosts": []}}
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return c2pa.Context.from_dict(settings)


def _source_type_name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def read_c2pa(stream: BinaryIO, media_type: str, trust_anchors_pem: str | None = None) -> list[Finding]:
    import c2pa

    try:
        reader = c2pa.Reader(media_type, stream, context=_context(trust_anchors_pem))
        store = json.loads(reader.json())
    except Exception as exc:  # c2pa-python raises its own error classes for every failure
        message = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "no JUMBF" in message:
            return []
        if "remote manifest" in message.lower():
            url = message.rsplit(" ", 1)[-1]
            return [Finding("c2pa-remote-manifest", f"the file points to a C2PA manifest stored at {url}; not fetched "
                                                    "(no network access)", url, PROBLEM)]
        if "type is unsupported" in message.lower() or "UnsupportedType" in type(exc).__name__:
            return []
        return [Finding("c2pa-unreadable", f"a C2PA manifest could not be read: {message[:300]}", None, PROBLEM)]
    return _findings(store)


def _findings(store: dict[str, Any]) -> list[Finding]:
    active_label = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(active_label, {})
    statuses = store.get("validation_status") or []
    codes = [s.get("code", "") for s in statuses]
    state = str(store.get("validation_state", "")).lower()
    if state == "invalid":
        validity = "invalid"
    elif state == "trusted":
        validity = "valid"
    else:
        validity = "untrusted" if any("untrusted" in c for c in codes) else ("valid" if state == "valid" else state)
    generator = manifest.get("claim_generator") or ", ".join(
        str(info.get("name", "")) for info in manifest.get("claim_generator_info", []) if isinstance(info, dict)
    )
    findings = [Finding(
        "c2pa-manifest",
        f"C2PA manifest {active_label} by {generator or 'an unnamed generator'}; validation: {validity}"
        + (f" ({', '.join(sorted(set(codes)))})" if codes else ""),
        validity,
        PROBLEM if validity == "invalid" else CONTEXT,
    )]
    if validity == "invalid":
        failures = [c for c in codes if "untrusted" not in c]
        findings.append(Finding("c2pa-tampered", f"the manifest does not validate: {', '.join(failures)}; the "
                                                 "file or its manifest was altered after signing", failures, PROBLEM))
    for assertion in manifest.get("assertions", []):
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in assertion.get("data", {}).get("actions", []):
            uri = action.get("digitalSourceType")
            if not uri:
                continue
            name = _source_type_name(str(uri))
            where = f"{assertion['label']} action {action.get('action')} declares digitalSourceType {uri}"
            if name in GENERATED_SOURCE_TYPES:
                findings.append(Finding("c2pa-digital-source-type", where, name,
                                        DETERMINISTIC if validity in ("valid", "untrusted") else PROBLEM))
            else:
                findings.append(Finding("c2pa-digital-source-type", where, name, CONTEXT))
    ingredients = manifest.get("ingredients", [])
    if ingredients:
        titles = [str(i.get("title", "?")) for i in ingredients]
        findings.append(Finding("c2pa-ingredients", f"{len(ingredients)} ingredient(s): {', '.join(titles[:10])}",
                                len(ingredients), CONTEXT))
    return findings
