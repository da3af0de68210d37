"""Provisioning-time PKI for the broker's TLS listener: a hall CA and a server certificate it signs."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 730
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class CaFiles:
    """The hall CA: certificate (given to every device) and private key (kept on the provisioning host)."""

    certfile: Path
    keyfile: Path


@dataclass(frozen=True)
class TlsFiles:
    """What a TLS listener needs: the CA to publish, the server certificate and its key."""

    cafile: Path
    certfile: Path
    keyfile: Path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    path.chmod(0o600)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: 不是 EC 私钥")
    return key


def load_cert(path: Path) -> x509.Certificate:
    """Read a PEM certificate."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def _fresh(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - RENEW_BEFORE > _now()


def make_ca(directory: Path, name: str = "hallq hall CA") -> CaFiles:
    """Create the CA key and a 10-year self-signed certificate in `directory`, or reuse existing ones."""
    ca = CaFiles(directory / "ca.crt", directory / "ca.key")
    if ca.certfile.exists() and ca.keyfile.exists() and _fresh(load_cert(ca.certfile)):
        return ca
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(ca.keyfile, key)
    ca.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca


def _sans(hostnames: Sequence[str], ips: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    return names


def _reusable(tls: TlsFiles, ca_cert: x509.Certificate, wanted: list[x509.GeneralName]) -> bool:
    if not (tls.certfile.exists() and tls.keyfile.exists()):
        return False
    cert = load_cert(tls.certfile)
    try:
        cert.verify_directly_issued_by(ca_cert)
        present = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (InvalidSignature, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    return _fresh(cert) and set(wanted) <= set(present)


def make_server_cert(
    ca: CaFiles,
    directory: Path,
    hostnames: Sequence[str] = ("localhost",),
    ips: Sequence[str] = ("127.0.0.1",),
) -> TlsFiles:
    """A 2-year server key+certificate signed by `ca` with the given SANs; reused while still valid."""
    tls = TlsFiles(cafile=ca.certfile, certfile=directory / "server.crt", keyfile=directory / "server.key")
    ca_cert = load_cert(ca.certfile)
    wanted = _sans(hostnames, ips)
    if _reusable(tls, ca_cert, wanted):
        return tls
    ca_key = _load_key(ca.keyfile)
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = hostnames[0] if hostnames else ips[0]
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(wanted), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(tls.keyfile, key)
    tls.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return tls


def provision_tls(
    directory: Path, hostnames: Sequence[str] = ("localhost",), ips: Sequence[str] = ("127.0.0.1",)
) -> TlsFiles:
    """CA and server certificate in one folder, creating only what is missing or stale."""
    return make_server_cert(make_ca(directory), directory, hostnames, ips)
