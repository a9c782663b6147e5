"""C2PA manifests read with c2pa-python: presence, validation, claim generator, actions and their
digital source type, ingredients down to the ingredients of ingredients.

Digital source types are read as IPTC defines them: only a trained model's output is generation. Validation
codes are told apart into a tampered file or manifest, a certificate that does not hold, and a failure
inside an ingredient's manifest. Remote manifests are never fetched, nor OCSP responses: Vigie makes no
network call that the user did not ask for, so such a manifest is reported as present but unread.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, BinaryIO

from vigie.records import CONTEXT, DETERMINISTIC, PROBLEM, Finding

# IPTC digital source types that declare generation by a model trained on sampled content (AI generation).
GENERATED_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
# The other IPTC values, kept as context: captures, edits, art, and pure algorithms (`algorithmicMedia`:
# "created purely by an algorithm not based on any sampled training data"; `compositeSynthetic`: a
# composite with synthetic elements, which IPTC keeps apart from one with trained algorithmic media).
CAPTURED_SOURCE_TYPES = frozenset({
    "digitalCapture", "computationalCapture", "negativeFilm", "positiveFilm", "print", "minorHumanEdits",
    "compositeCapture", "screenCapture", "digitalArt", "humanEdits", "dataDrivenMedia", "algorithmicMedia",
    "compositeSynthetic", "algorithmicallyEnhanced", "virtualRecording",
})
_IPTC_MEANING = {
    "trainedAlgorithmicMedia": "created by a model trained on sampled content (AI generation)",
    "compositeWithTrainedAlgorithmicMedia": "a composite with at least one element made by a trained model "
                                            "(AI generation)",
    "algorithmicMedia": "created purely by an algorithm, not trained on sampled data; not AI generation",
    "compositeSynthetic": "a composite with synthetic elements; IPTC does not say a trained model made them",
}
# Validation status codes (C2PA specification, section 15), by what they mean for the examiner.
_CONTENT_HASH_MISMATCH = frozenset({
    "assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch",
    "assertion.collectionHash.mismatch",
})
_UNTRUSTED = "signingCredential.untrusted"
_CERTIFICATE_MEANING = {  # codes about the signer's certificate, not the signed data
    _UNTRUSTED: "signer not on the trust list",
    "signingCredential.expired": "certificate expired",
    "signingCredential.revoked": "certificate revoked",
    "signingCredential.ocsp.revoked": "certificate revoked",
    "signingCredential.ocsp.unknown": "certificate status unknown",
    "signingCredential.invalid": "certificate malformed or not allowed for signing",
    "claimSignature.outsideValidity": "signed outside the certificate's validity",
    "timeStamp.untrusted": "time stamp from an untrusted authority",
    "timeStamp.outsideValidity": "time stamp outside its certificate's validity",
}
_CERTIFICATE_CODES = frozenset(_CERTIFICATE_MEANING)
# Ingredient relationships that put the ingredient's content into this file.
_COMPOSED = frozenset({"parentOf", "componentOf"})
# Formats that may carry C2PA but that Vigie does not open.
_NOT_EXAMINED = {"application/pdf": "PDF"}
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
            return [Finding("c2pa-not-examined", f"the C2PA reader does not support {media_type}; a manifest it "
                                                 "may carry was not read", media_type, CONTEXT)]
        return [Finding("c2pa-unreadable", f"a C2PA manifest could not be read: {message[:300]}", None, PROBLEM)]
    return store_findings(store)


def not_examined_note(media_type: str) -> str | None:
    """What to record against a file of a format that may carry C2PA but that Vigie does not open."""
    name = _NOT_EXAMINED.get(media_type)
    if name is None:
        return None
    return (f"{name} files may carry pictures and C2PA Content Credentials; Vigie does not examine {name} files: "
            "neither was read, open it with a tool that reads them")


def _failures(results: dict[str, Any] | None) -> list[str]:
    codes = [str(s.get("code", "")) for s in ((results or {}).get("failure") or []) if isinstance(s, dict)]
    return sorted(set(codes))


def _active_failures(store: dict[str, Any], label: str) -> list[str]:
    """Failure codes of the file's own manifest, apart from those of its ingredients."""
    results = store.get("validation_results")
    if isinstance(results, dict):
        return _failures(results.get("activeManifest"))
    # Older readers: one list for the whole store; its URLs name the manifest each code belongs to.
    statuses = [s for s in store.get("validation_status") or [] if isinstance(s, dict)]
    return sorted({str(s.get("code", "")) for s in statuses if f"/{label}/" in str(s.get("url", "")) + "/"})


def _validity(failures: list[str]) -> str:
    """The file's own manifest, judged on its own failures: the store's overall state also counts the
    ingredients' failures, which are reported apart."""
    if any(code not in _CERTIFICATE_CODES for code in failures):
        return "invalid"
    if any(code != _UNTRUSTED for code in failures):
        return "bad-certificate"
    return "untrusted" if _UNTRUSTED in failures else "valid"


_VALIDITY_MEANING = {
    "valid": "the signature and the file's hashes hold and the signer is on the trust list",
    "untrusted": "the signature and the file's hashes hold; the signer is not on the trust list",
    "bad-certificate": "the signature and the file's hashes hold; the signer's certificate is not valid",
    "invalid": "the file or its manifest changed after signing",
}


def _integrity_findings(failures: list[str]) -> list[Finding]:
    findings = []
    content = [c for c in failures if c in _CONTENT_HASH_MISMATCH]
    manifest = [c for c in failures if c not in _CONTENT_HASH_MISMATCH and c not in _CERTIFICATE_CODES]
    certificate = [c for c in failures if c in _CERTIFICATE_CODES and c != _UNTRUSTED]
    if content:
        findings.append(Finding("c2pa-tampered", f"the file's content does not match its signed hash "
                                                 f"({', '.join(content)}): the file was altered after signing",
                                content, PROBLEM))
    if manifest:
        findings.append(Finding("c2pa-tampered", f"the manifest does not validate ({', '.join(manifest)}): the "
                                                 "manifest was altered or damaged after signing", manifest, PROBLEM))
    if certificate:
        findings.append(Finding("c2pa-certificate", f"the signer's certificate does not hold ({_explain(certificate)})"
                                                    + ("" if content or manifest else "; the file and its manifest "
                                                       "match their signed hashes: not a sign of tampering"),
                                certificate, PROBLEM))
    return findings


def _explain(codes: list[str]) -> str:
    return ", ".join(f"{code}: {_CERTIFICATE_MEANING[code]}" if code in _CERTIFICATE_MEANING else code
                     for code in codes)


def _ingredient_label(uri: str) -> tuple[str, str]:
    """(manifest label, assertion label) of `self#jumbf=/c2pa/<manifest>/c2pa.assertions/<assertion>`."""
    parts = uri.split("/")
    return (parts[2], parts[-1]) if len(parts) >= 5 else ("", "")


def _ingredient_failures(store: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Failure codes found now, at this reading, inside each ingredient's manifest."""
    found: dict[tuple[str, str], list[str]] = {}
    results = store.get("validation_results")
    deltas = results.get("ingredientDeltas") if isinstance(results, dict) else None
    for delta in deltas or []:
        if isinstance(delta, dict):
            key = _ingredient_label(str(delta.get("ingredientAssertionURI", "")))
            found.setdefault(key, []).extend(_failures(delta.get("validationDeltas")))
    return found


def _recorded_failures(ingredient: dict[str, Any]) -> list[str]:
    """Failure codes the signer recorded for an ingredient when it was added."""
    recorded = _failures((ingredient.get("validation_results") or {}).get("activeManifest"))
    statuses = ingredient.get("validation_status") or []  # v1 ingredients: failures only
    return recorded + [str(s.get("code", "")) for s in statuses if isinstance(s, dict)]


def _ingredient_name(ingredient: dict[str, Any]) -> str:
    title = str(ingredient.get("title") or "untitled")
    instance = ingredient.get("instance_id")
    return f"'{title}'" + (f" (instance {instance})" if instance else "")


def _source_types(manifest: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(assertion label, action, IPTC name) of each action declaring a digital source type."""
    declared = []
    for assertion in manifest.get("assertions", []):
        label = str(assertion.get("label", ""))
        if not label.startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions", []):
            uri = action.get("digitalSourceType") if isinstance(action, dict) else None
            if uri:
                declared.append((label, str(action.get("action")), str(uri)))
    return declared


def _generated_ingredient(ingredient: dict[str, Any], manifest: dict[str, Any], in_file: bool,
                          sound: bool) -> list[Finding]:
    findings = []
    name = _ingredient_name(ingredient)
    relationship = ingredient.get("relationship", "componentOf")
    for assertion, action, uri in _source_types(manifest):
        type_name = _source_type_name(uri)
        if type_name not in GENERATED_SOURCE_TYPES:
            continue
        how = "composite with a generated ingredient" if in_file else "made with a generated input"
        findings.append(Finding(
            "c2pa-generated-ingredient",
            f"{how}: ingredient {name} ({relationship}) declares digitalSourceType {uri} ({assertion} action "
            f"{action}; {_IPTC_MEANING[type_name]})"
            + ("" if sound else "; that ingredient's manifest or this file's does not validate"),
            {"title": ingredient.get("title"), "instance_id": ingredient.get("instance_id"),
             "digital_source_type": type_name},
            (DETERMINISTIC if sound else PROBLEM) if in_file else CONTEXT))
    return findings


def _ingredient_findings(store: dict[str, Any], active_label: str, sound: bool) -> list[Finding]:
    """Ingredients, down to the ingredients of ingredients: failures inside their manifests, and generated
    ingredients composed into this file."""
    manifests = store.get("manifests") or {}
    failing_now = _ingredient_failures(store)
    findings: list[Finding] = []
    expanded = {active_label}
    todo = [(active_label, True, sound)]  # (manifest label, composed into this file, its chain validates)
    while todo:
        label, composed, chain_sound = todo.pop(0)
        for ingredient in (manifests.get(label) or {}).get("ingredients") or []:
            if not isinstance(ingredient, dict):
                continue
            key = (label, str(ingredient.get("label", "")))
            failures = sorted({c for c in _recorded_failures(ingredient) + failing_now.get(key, []) if c != _UNTRUSTED})
            if failures:
                findings.append(Finding(
                    "c2pa-ingredient-invalid",
                    f"ingredient {_ingredient_name(ingredient)}: its own manifest does not validate "
                    f"({_explain(failures)}); a failure inside an ingredient, not a change to this file",
                    {"title": ingredient.get("title"), "instance_id": ingredient.get("instance_id"),
                     "codes": failures}, PROBLEM))
            inner = ingredient.get("active_manifest")
            if not inner or inner not in manifests:
                continue
            in_file = composed and ingredient.get("relationship", "componentOf") in _COMPOSED
            inner_sound = chain_sound and all(c in _CERTIFICATE_CODES for c in failures)
            findings.extend(_generated_ingredient(ingredient, manifests[inner], in_file, inner_sound))
            if inner not in expanded:
                expanded.add(inner)
                todo.append((inner, in_file, inner_sound))
    return findings


def store_findings(store: dict[str, Any]) -> list[Finding]:
    """Signals from the JSON of a C2PA manifest store, as c2pa-python reads it."""
    active_label = str(store.get("active_manifest") or "")
    manifest = store.get("manifests", {}).get(active_label, {})
    failures = _active_failures(store, active_label)
    validity = _validity(failures)
    generator = manifest.get("claim_generator") or ", ".join(
        str(info.get("name", "")) for info in manifest.get("claim_generator_info", []) if isinstance(info, dict)
    )
    findings = [Finding(
        "c2pa-manifest",
        f"C2PA manifest {active_label} by {generator or 'an unnamed generator'}; validation: {validity}"
        + (f" ({', '.join(failures)})" if failures else "") + f": {_VALIDITY_MEANING.get(validity, 'unknown')}",
        validity,
        PROBLEM if validity == "invalid" else CONTEXT,
    )]
    findings.extend(_integrity_findings(failures))
    sound = validity != "invalid"
    for assertion, action, uri in _source_types(manifest):
        name = _source_type_name(uri)
        meaning = _IPTC_MEANING.get(name)
        where = f"{assertion} action {action} declares digitalSourceType {uri}" + (f" ({meaning})" if meaning else "")
        if name in GENERATED_SOURCE_TYPES:
            findings.append(Finding("c2pa-digital-source-type", where, name, DETERMINISTIC if sound else PROBLEM))
        else:
            findings.append(Finding("c2pa-digital-source-type", where, name, CONTEXT))
    ingredients = manifest.get("ingredients", [])
    if ingredients:
        titles = [str(i.get("title", "?")) for i in ingredients]
        findings.append(Finding("c2pa-ingredients", f"{len(ingredients)} ingredient(s): {', '.join(titles[:10])}",
                                len(ingredients), CONTEXT))
    findings.extend(_ingredient_findings(store, active_label, sound))
    return findings
