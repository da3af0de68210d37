"""Provisioning PKI: the hall CA signs a server certificate with the right names, and files are reused."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509

from broker.tls import load_cert, make_ca, make_server_cert, provision_tls


def _sans(path: Path) -> x509.SubjectAlternativeName:
    return load_cert(path).extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def test_server_certificate_is_signed_by_the_ca_with_its_names(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    tls = make_server_cert(ca, tmp_path, hostnames=["localhost", "hall.local"], ips=["127.0.0.1", "10.1.2.3"])
    ca_cert, cert = load_cert(ca.certfile), load_cert(tls.certfile)
    cert.verify_directly_issued_by(ca_cert)
    sans = _sans(tls.certfile)
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "hall.local"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("10.1.2.3"),
    ]
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca_days = (ca_cert.not_valid_after_utc - ca_cert.not_valid_before_utc).days
    server_days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 3649 <= ca_days <= 3651
    assert 729 <= server_days <= 731
    assert tls.cafile == ca.certfile


def test_keys_are_private_and_files_are_reused(tmp_path: Path) -> None:
    first = provision_tls(tmp_path / "tls")
    for key in (first.keyfile, tmp_path / "tls" / "ca.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()}
    second = provision_tls(tmp_path / "tls")
    assert second == first
    assert {p.name: p.read_bytes() for p in (tmp_path / "tls").iterdir()} == before


def test_server_certificate_is_reissued_for_new_names_or_a_new_ca(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    tls = make_server_cert(ca, tmp_path)
    original = tls.certfile.read_bytes()
    make_server_cert(ca, tmp_path, hostnames=["localhost", "hall.local"])
    assert tls.certfile.read_bytes() != original
    assert "hall.local" in _sans(tls.certfile).get_values_for_type(x509.DNSName)
    other_ca = make_ca(tmp_path / "other")
    make_server_cert(other_ca, tmp_path, hostnames=["localhost", "hall.local"])
    load_cert(tls.certfile).verify_directly_issued_by(load_cert(other_ca.certfile))
