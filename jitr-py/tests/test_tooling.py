"""generate_ca, generate_verification_certificate, issue_certificate and
GeneratedCertificate: every key type through the whole JITR loop, and the options."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, List

import pytest

import jitr_iot
from conftest import CODE, NOW, SNI, register_ca


@pytest.mark.parametrize("key_type", ["EC_P256", "EC_P384", "RSA_2048", "ED25519"])
def test_every_key_type_through_jitr(key_type: jitr_iot.KeyType) -> None:
    registry = jitr_iot.Registry(registration_code=CODE)
    ca = jitr_iot.generate_ca(f"{key_type} CA", key_type, not_before=NOW)
    # The verification and device keys default to EC P-256 (fast); the CA signs them.
    proof = jitr_iot.generate_verification_certificate(ca, CODE, not_before=NOW)
    device = jitr_iot.issue_certificate(ca, "device", not_before=NOW)
    assert ca.certificate.key_algorithm == key_type
    # The key and certificate load back, and the loaded CA signs like the original.
    loaded = jitr_iot.GeneratedCertificate.from_pem(ca.certificate_pem, ca.private_key_pem)
    assert loaded.certificate == ca.certificate and loaded.private_key_pem == ca.private_key_pem
    assert jitr_iot.issue_certificate(loaded, "d2").certificate.is_signed_by(ca.certificate)
    assert proof.certificate.subject == f"CN={CODE}" and proof.certificate.is_signed_by(ca.certificate)
    ca_id = register_ca(registry, ca, proof)
    d = registry.connect([device.certificate_pem, ca.certificate_pem], SNI, NOW)
    assert (d.reason, d.ca_certificate_id) == ("REGISTERED_PENDING_ACTIVATION", ca_id), d.message


@pytest.mark.parametrize("key_type", ["EC_P384", "ED25519"])
def test_leaf_and_proof_key_types(key_type: jitr_iot.KeyType, ca: jitr_iot.GeneratedCertificate) -> None:
    leaf = jitr_iot.issue_certificate(ca, "d", key_type)
    proof = jitr_iot.generate_verification_certificate(ca, CODE, key_type=key_type)
    assert leaf.certificate.key_algorithm == proof.certificate.key_algorithm == key_type


def test_defaults_and_options() -> None:
    before = datetime.now(timezone.utc) - timedelta(seconds=2)
    root = jitr_iot.generate_ca("Root")
    c = root.certificate
    assert c.is_ca and c.key_algorithm == "EC_P256" and c.subject == c.issuer == "CN=Root"
    assert before <= c.not_before <= datetime.now(timezone.utc)
    assert c.not_after - c.not_before == timedelta(days=3650)
    assert c.key_usage == ["digitalSignature", "keyCertSign", "cRLSign"]
    assert root.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert root.certificate_id == c.certificate_id
    assert "PRIVATE" not in repr(root) and "<redacted>" in repr(root)

    leaf = jitr_iot.issue_certificate(root, "d")
    assert leaf.certificate.not_after - leaf.certificate.not_before == timedelta(days=365)
    proof = jitr_iot.generate_verification_certificate(root, CODE)
    assert proof.certificate.not_after - proof.certificate.not_before == timedelta(days=365)

    inter = jitr_iot.generate_ca("Inter", issuer=root, path_len=0, organization="Org", valid_days=7)
    assert inter.certificate.issuer == "CN=Root" and inter.certificate.subject == "O=Org,CN=Inter"
    assert inter.certificate.is_signed_by(root.certificate)
    assert inter.certificate.not_after - inter.certificate.not_before == timedelta(days=7)
    # Serial numbers are random.
    serials = {jitr_iot.issue_certificate(root, "same").certificate.serial_number for _ in range(5)}
    assert len(serials) == 5


def test_an_existing_ca_from_pem(ca: jitr_iot.GeneratedCertificate) -> None:
    loaded = jitr_iot.GeneratedCertificate.from_pem(ca.certificate_pem, ca.private_key_pem)
    assert loaded.certificate == ca.certificate
    assert jitr_iot.issue_certificate(loaded, "d").certificate.is_signed_by(ca.certificate)
    other = jitr_iot.generate_ca("Other")
    with pytest.raises(jitr_iot.InvalidRequestException, match="does not belong"):
        jitr_iot.GeneratedCertificate.from_pem(ca.certificate_pem, other.private_key_pem)
    with pytest.raises(jitr_iot.InvalidRequestException):
        jitr_iot.GeneratedCertificate.from_pem(ca.certificate_pem, "not a key")
    with pytest.raises(jitr_iot.CertificateValidationException):
        jitr_iot.GeneratedCertificate.from_pem("not a certificate", ca.private_key_pem)


def test_bad_tooling_input(ca: jitr_iot.GeneratedCertificate) -> None:
    leaf = jitr_iot.issue_certificate(ca, "leaf")
    with pytest.raises(jitr_iot.InvalidRequestException, match="not a CA"):
        jitr_iot.issue_certificate(leaf, "x")
    with pytest.raises(jitr_iot.InvalidRequestException, match="not a CA"):
        jitr_iot.generate_verification_certificate(leaf, CODE)
    for code in ["", "xyz", "g" * 64, CODE + "0"]:
        with pytest.raises(jitr_iot.InvalidRequestException):
            jitr_iot.generate_verification_certificate(ca, code)
    unknown: List[Any] = ["RSA_4096", "ec_p256", ""]
    for key_type in unknown:
        with pytest.raises(jitr_iot.InvalidRequestException, match="key type"):
            jitr_iot.generate_ca("x", key_type)
    with pytest.raises(jitr_iot.InvalidRequestException):
        jitr_iot.generate_ca("x", valid_days=0)
    with pytest.raises(jitr_iot.InvalidRequestException):
        jitr_iot.generate_ca("x", valid_days=36_526)
    for days in [-1, 2**40]:
        with pytest.raises(ValueError):
            jitr_iot.generate_ca("x", valid_days=days)
    for path_len in [-1, 256]:
        with pytest.raises(ValueError):
            jitr_iot.generate_ca("x", path_len=path_len)
    with pytest.raises(TypeError):
        jitr_iot.generate_ca("x", valid_days="10")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jitr_iot.generate_ca("x", valid_days=True)
    with pytest.raises(TypeError):
        jitr_iot.issue_certificate(ca.certificate, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        jitr_iot.generate_ca("x", not_before=datetime(2026, 1, 1))
    with pytest.raises(jitr_iot.InvalidRequestException):
        jitr_iot.generate_ca("x", not_before=datetime(9999, 1, 1, tzinfo=timezone.utc))
