"""C2PA read as the IPTC vocabulary and the C2PA validation codes mean it.

`algorithmicMedia` is a pure algorithm, not AI generation; an edit or composite with a generated ingredient
is; a tampered file, a certificate that does not hold and a failure inside an ingredient's manifest are three
different findings; a PDF gets a note. Files are drawn here and signed with a certificate made here (the
C2PA SDK signs only with a certificate valid at signing time, so the expired one lives for a few seconds).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import shared_data
from test_c2pa import CAPTURED, TRAINED, _scan

from vigie.demo.seizure import draw_picture
from vigie.signals.provenance.c2pa import read_c2pa, store_findings

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
       'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/{kind}"/>'
       '</rdf:RDF></x:xmpmeta>')


def _certificates(not_after: dt.datetime) -> tuple[bytes, bytes]:
    """(signer chain PEM, signer key PEM): a test CA and a signing certificate as C2PA requires it."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> Any:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Vigie tests"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])

    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Vigie test CA")).issuer_name(name("Vigie test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name("Vigie test signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    return chain, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())


def _sign(certificates: tuple[bytes, bytes], source: Path, target: Path, actions: list[dict[str, Any]],
          ingredients: tuple[tuple[Path, dict[str, str]], ...] = ()) -> None:
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", *certificates, None))
    builder = c2pa.Builder({"claim_generator_info": [{"name": "vigie-tests", "version": "1"}], "title": target.name,
                            "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}]})
    for path, ingredient in ingredients:
        with path.open("rb") as stream:
            builder.add_ingredient(ingredient, "image/jpeg", stream)
    with source.open("rb") as src, target.open("w+b") as dst:
        builder.sign(signer, "image/jpeg", src, dst)


def _tamper(source: Path, target: Path) -> None:
    data = bytearray(source.read_bytes())
    data[-300] ^= 0xFF  # inside the picture data, after signing
    target.write_bytes(bytes(data))


GENERATED_INGREDIENT = {"title": "generated-part.jpg", "relationship": "componentOf", "instance_id": "xmp:iid:gen-1"}
CREATED_BY_CAMERA = {"action": "c2pa.created", "digitalSourceType": CAPTURED}
PLACED = {"action": "c2pa.placed", "parameters": {"ingredientIds": ["xmp:iid:gen-1"]}}


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("c2pa-semantics")
    folder, work = root / "evidence", root / "work"
    folder.mkdir()
    work.mkdir()
    for number in range(1, 4):
        draw_picture(number, (320, 240)).save(work / f"drawn{number}.jpg", quality=90)
    # a certificate that expires a few seconds after signing
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=3)
    _sign(_certificates(expiry), work / "drawn1.jpg", folder / "expired-certificate.jpg",
          [{"action": "c2pa.created", "digitalSourceType": TRAINED}])
    certificates = _certificates(dt.datetime.now(dt.UTC) + dt.timedelta(days=365))
    _sign(certificates, work / "drawn1.jpg", folder / "algorithmic.jpg",
          [{"action": "c2pa.created", "digitalSourceType": IPTC + "algorithmicMedia"}])
    _sign(certificates, work / "drawn1.jpg", work / "generated.jpg",
          [{"action": "c2pa.created", "digitalSourceType": TRAINED}])
    _tamper(work / "generated.jpg", folder / "tampered.jpg")
    _sign(certificates, work / "drawn2.jpg", folder / "composite.jpg", [CREATED_BY_CAMERA, PLACED],
          ((work / "generated.jpg", GENERATED_INGREDIENT),))
    _sign(certificates, work / "drawn2.jpg", folder / "edit.jpg",
          [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["xmp:iid:gen-1"]}},
           {"action": "c2pa.color_adjustments"}],
          ((work / "generated.jpg", dict(GENERATED_INGREDIENT, relationship="parentOf")),))
    _sign(certificates, work / "drawn3.jpg", folder / "composite-broken-ingredient.jpg", [CREATED_BY_CAMERA, PLACED],
          ((folder / "tampered.jpg", GENERATED_INGREDIENT),))
    draw_picture(4, (320, 240)).save(folder / "xmp-algorithmic.jpg", "JPEG",
                                     xmp=XMP.format(kind="algorithmicMedia").encode())
    draw_picture(5, (320, 240)).save(folder / "xmp-synthetic.jpg", "JPEG",
                                     xmp=XMP.format(kind="compositeSynthetic").encode())
    (folder / "report.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n"
                                        b"%%EOF\n")
    time.sleep(max(0.0, (expiry - dt.datetime.now(dt.UTC)).total_seconds() + 1.5))
    return _scan(root, folder)


def _signals(item: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in item["ai"]["signals"] if s["kind"] == kind]


def test_algorithmic_media_is_its_own_signal_never_ai_provenance(items: dict[str, dict[str, Any]]) -> None:
    item = items["algorithmic.jpg"]
    assert item["ai"]["verdict"] == "undetermined"
    [declared] = _signals(item, "c2pa-digital-source-type")
    assert declared["value"] == "algorithmicMedia" and declared["strength"] == "context"
    assert "not trained on sampled data" in declared["detail"] and "not AI generation" in declared["detail"]
    for name, value in (("xmp-algorithmic.jpg", "algorithmicMedia"), ("xmp-synthetic.jpg", "compositeSynthetic")):
        assert items[name]["ai"]["verdict"] == "undetermined"
        [xmp] = _signals(items[name], "iptc-digital-source-type")
        assert (xmp["value"], xmp["strength"]) == (value, "context")


def test_composite_with_a_generated_ingredient_is_ai_provenance(items: dict[str, dict[str, Any]]) -> None:
    for name, relationship in (("composite.jpg", "componentOf"), ("edit.jpg", "parentOf")):
        item = items[name]
        assert item["ai"]["verdict"] == "ai-provenance", name
        [generated] = _signals(item, "c2pa-generated-ingredient")
        assert generated["strength"] == "deterministic"
        assert generated["value"] == {"title": "generated-part.jpg", "instance_id": "xmp:iid:gen-1",
                                      "digital_source_type": "trainedAlgorithmicMedia"}
        assert "composite with a generated ingredient" in generated["detail"]
        assert "'generated-part.jpg'" in generated["detail"] and relationship in generated["detail"]
    camera_claim = _signals(items["composite.jpg"], "c2pa-digital-source-type")
    assert [(s["value"], s["strength"]) for s in camera_claim] == [("digitalCapture", "context")]


def test_tampered_file_is_told_apart(items: dict[str, dict[str, Any]]) -> None:
    item = items["tampered.jpg"]
    assert item["ai"]["verdict"] == "undetermined"
    [tampered] = _signals(item, "c2pa-tampered")
    assert tampered["value"] == ["assertion.dataHash.mismatch"]
    assert "file was altered after signing" in tampered["detail"]
    assert not _signals(item, "c2pa-certificate") and not _signals(item, "c2pa-ingredient-invalid")


def test_expired_certificate_is_not_tampering(items: dict[str, dict[str, Any]]) -> None:
    item = items["expired-certificate.jpg"]
    assert not _signals(item, "c2pa-tampered")
    [certificate] = _signals(item, "c2pa-certificate")
    assert certificate["value"] == ["signingCredential.expired"] and certificate["strength"] == "problem"
    assert "certificate expired" in certificate["detail"] and "not a sign of tampering" in certificate["detail"]
    [manifest] = _signals(item, "c2pa-manifest")
    assert manifest["value"] == "bad-certificate"
    # the signed declaration is intact: as with an untrusted signer, the generator's claim stands
    assert item["ai"]["verdict"] == "ai-provenance"


def test_failure_inside_an_ingredient_is_not_tampering(items: dict[str, dict[str, Any]]) -> None:
    item = items["composite-broken-ingredient.jpg"]
    assert not _signals(item, "c2pa-tampered")
    [manifest] = _signals(item, "c2pa-manifest")
    assert manifest["value"] == "untrusted"
    [failure] = _signals(item, "c2pa-ingredient-invalid")
    assert failure["value"] == {"title": "generated-part.jpg", "instance_id": "xmp:iid:gen-1",
                                "codes": ["assertion.dataHash.mismatch"]}
    assert "not a change to this file" in failure["detail"]
    # a generated ingredient whose own manifest fails is a broken mark, not provenance
    [generated] = _signals(item, "c2pa-generated-ingredient")
    assert generated["strength"] == "problem"
    assert item["ai"]["verdict"] == "undetermined"


def test_pdf_gets_a_note(items: dict[str, dict[str, Any]]) -> None:
    [note] = items["report.pdf"]["errors"]
    assert note["stage"] == "not-examined" and "does not examine PDF" in note["message"]


def test_format_the_reader_does_not_support_gets_a_note() -> None:
    webm = io.BytesIO(b"\x1a\x45\xdf\xa3" + b"\0" * 64)
    [note] = read_c2pa(webm, "video/webm")
    assert (note.kind, note.value, note.strength) == ("c2pa-not-examined", "video/webm", "context")


def test_trusted_file_with_a_failing_ingredient_stays_valid() -> None:
    """With a trust list the file's own manifest has no failure left, while the store as a whole is
    "Invalid" because of its ingredient: the manifest is valid, the ingredient's failure is named."""
    active, inner = "urn:c2pa:active", "urn:c2pa:inner"
    store = {
        "active_manifest": active,
        "validation_state": "Invalid",
        "validation_results": {
            "activeManifest": {"success": [{"code": "claimSignature.validated"}], "failure": []},
            "ingredientDeltas": [{
                "ingredientAssertionURI": f"self#jumbf=/c2pa/{active}/c2pa.assertions/c2pa.ingredient.v3",
                "validationDeltas": {"failure": [{"code": "claimSignature.mismatch"}]},
            }],
        },
        "manifests": {
            active: {"claim_generator_info": [{"name": "editor"}], "ingredients": [
                {"title": "part.jpg", "instance_id": "xmp:iid:part", "relationship": "componentOf",
                 "label": "c2pa.ingredient.v3", "active_manifest": inner}]},
            inner: {"assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": TRAINED}]}}]},
        },
    }
    findings = {f.kind: f for f in store_findings(store)}
    assert findings["c2pa-manifest"].value == "valid"
    assert "c2pa-tampered" not in findings
    assert findings["c2pa-ingredient-invalid"].value["codes"] == ["claimSignature.mismatch"]
    assert findings["c2pa-generated-ingredient"].strength == "problem"


def test_reference_samples(tmp_path: Path) -> None:
    """The C2PA project's own test images: an algorithmicMedia claim, a broken ingredient, a tampered file."""
    folder = tmp_path / "samples"
    folder.mkdir()
    for name in ("C.jpg", "CIE-sig-CA.jpg", "E-sig-CA.jpg", "XCA.jpg"):
        (folder / name).write_bytes(shared_data("c2pa", name).read_bytes())
    items = _scan(tmp_path, folder)
    assert items["C.jpg"]["ai"]["verdict"] == "undetermined"
    assert [s["value"] for s in _signals(items["C.jpg"], "c2pa-digital-source-type")] == ["algorithmicMedia"]
    ingredient = items["CIE-sig-CA.jpg"]
    assert not _signals(ingredient, "c2pa-tampered")
    [failure] = _signals(ingredient, "c2pa-ingredient-invalid")
    assert failure["value"]["title"] == "E-sig-CA.jpg" and "claimSignature.mismatch" in failure["value"]["codes"]
    [manifest_altered] = _signals(items["E-sig-CA.jpg"], "c2pa-tampered")
    assert manifest_altered["value"] == ["claimSignature.mismatch"]
    assert "manifest was altered" in manifest_altered["detail"]
    [content_altered] = _signals(items["XCA.jpg"], "c2pa-tampered")
    assert content_altered["value"] == ["assertion.dataHash.mismatch"]
