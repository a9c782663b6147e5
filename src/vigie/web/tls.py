"""The console's TLS certificate: the user's own, or a self-signed one (ECDSA P-256) made at first start and kept
in the case folder, naming the served hosts in its subjectAltName. Its SHA-256 fingerprint is printed at start,
so the user can check that the certificate the browser shows is this one."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FOLDER = "console-tls"
VALID_DAYS = 825  # the longest lifetime browsers accept for a server certificate


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return x509.DNSName(name)


def _names_in(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(n.value) for n in san}


def _usable(cert_path: Path, names: set[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    wanted = {str(_general_name(n).value) for n in names}
    fresh = cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=1)
    return fresh and wanted <= _names_in(cert)


def case_certificate(case_dir: Path, names: Iterable[str]) -> tuple[TlsFiles, bool]:
    """The case's self-signed certificate for these host names, made (or made again when expired or missing
    a name) under CASE/console-tls/; True when it was made now."""
    folder = case_dir / CERT_FOLDER
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    wanted = set(names)
    if files.key.exists() and _usable(files.cert, wanted):
        return files, False
    folder.mkdir(mode=0o700, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Vigie console {case_dir.resolve().name}"[:64])])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in sorted(wanted)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_pem)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files, True


def fingerprint(cert_path: Path) -> str:
    """SHA-256 of the certificate, as browsers show it (AB:CD:...)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
