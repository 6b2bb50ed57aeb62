"""jitr_iot.Certificate, load_pem_chain and certificate_id, cross-checked against Python's own
``hashlib`` and ``ssl``."""

from __future__ import annotations

import hashlib
import pickle
import ssl
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Union

import pytest

import jitr_iot
from conftest import NOW, load_vector


def decode_with_ssl(pem: str, tmp_path: Path) -> Dict[str, Any]:
    """What CPython's ssl module (OpenSSL) reads from a certificate."""
    if not hasattr(ssl._ssl, "_test_decode_cert"):  # type: ignore[attr-defined]
        pytest.skip("this CPython's ssl module has no _test_decode_cert")
    path = tmp_path / "cert.pem"
    path.write_text(pem)
    decoded: Dict[str, Any] = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
    return decoded


@pytest.mark.parametrize("key_type", ["EC_P256", "EC_P384", "ED25519"])
def test_fields_agree_with_openssl(key_type: jitr_iot.KeyType, tmp_path: Path) -> None:
    root = jitr_iot.generate_ca("Root", key_type, valid_days=30, organization="Example Corp", not_before=NOW)
    leaf = jitr_iot.issue_certificate(root, "device-7", key_type, 10, not_before=NOW + timedelta(seconds=5))
    cert = jitr_iot.Certificate.from_pem(leaf.certificate_pem)
    ssl_view = decode_with_ssl(leaf.certificate_pem, tmp_path)
    assert int(cert.serial_number, 16) == int(ssl_view["serialNumber"], 16)
    assert ((("commonName", "device-7"),),) == ssl_view["subject"]
    assert cert.subject == "CN=device-7"
    assert cert.issuer == "O=Example Corp,CN=Root"
    assert ssl_view["issuer"] == ((("commonName", "Root"),), (("organizationName", "Example Corp"),))
    assert cert.not_before.timestamp() == ssl.cert_time_to_seconds(ssl_view["notBefore"])
    assert cert.not_after.timestamp() == ssl.cert_time_to_seconds(ssl_view["notAfter"])
    assert cert.not_before == NOW + timedelta(seconds=5)
    assert cert.not_after == cert.not_before + timedelta(days=10)
    assert cert.not_before.tzinfo is not None and cert.not_before.utcoffset() == timedelta(0)
    der = ssl.PEM_cert_to_DER_cert(leaf.certificate_pem)
    assert cert.to_der() == der
    assert cert.certificate_id == hashlib.sha256(der).hexdigest() == leaf.certificate_id
    assert cert.key_algorithm == key_type and root.certificate.key_algorithm == key_type
    assert not cert.is_ca and root.certificate.is_ca
    assert cert.authority_key_identifier == root.certificate.subject_key_identifier is not None
    assert cert.key_usage == ["digitalSignature"]
    assert cert.extended_key_usage == ["clientAuth"]
    assert cert.subject_alternative_names == []
    assert cert.is_signed_by(root.certificate) and not root.certificate.is_signed_by(cert)


def test_parse_and_encode(ca: jitr_iot.GeneratedCertificate, devices: list[jitr_iot.GeneratedCertificate]) -> None:
    pem = devices[0].certificate_pem
    cert = jitr_iot.Certificate.from_pem(pem)
    assert cert.to_pem() == pem  # LF line endings, 64 columns
    assert jitr_iot.Certificate.from_der(cert.to_der()) == cert
    assert jitr_iot.Certificate.from_der(bytearray(cert.to_der())) == cert
    assert cert != jitr_iot.Certificate.from_pem(devices[1].certificate_pem) and cert != "x"
    assert len({cert, jitr_iot.Certificate.from_der(cert.to_der()), ca.certificate}) == 2
    assert pickle.loads(pickle.dumps(cert)) == cert
    assert repr(cert) == f"Certificate(subject='CN=device-0', certificate_id='{cert.certificate_id}')"

    chain = jitr_iot.load_pem_chain(pem + "some text between blocks\n" + ca.certificate_pem)
    assert [c.subject for c in chain] == ["CN=device-0", "CN=Test Fleet CA"]
    assert chain[0].is_signed_by(chain[1])

    der = cert.to_der()
    forms: list[Union[str, bytes, bytearray]] = [pem, der, bytearray(der), pem.encode()]
    for form in forms:
        assert jitr_iot.certificate_id(form) == hashlib.sha256(der).hexdigest()


def test_vector_certificates_agree_with_the_generator() -> None:
    """Every certificate of the shared vectors: jitr's ID is the generator's, and SHA-256."""
    v = load_vector("jitr-story.json")
    for name, entry in v["certificates"].items():
        cert = jitr_iot.Certificate.from_pem(entry["pem"])
        assert cert.certificate_id == entry["certificateId"], name
        assert jitr_iot.certificate_id(entry["pem"]) == entry["certificateId"]
        assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(entry["pem"])).hexdigest() == entry["certificateId"]


def test_rsa_and_validity(tmp_path: Path) -> None:
    rsa = jitr_iot.generate_ca("RSA Root", "RSA_2048", valid_days=1, not_before=datetime(2030, 1, 1, tzinfo=timezone.utc))
    cert = rsa.certificate
    assert cert.key_algorithm == "RSA_2048"
    assert cert.not_before == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert cert.not_after == datetime(2030, 1, 2, tzinfo=timezone.utc)
    assert decode_with_ssl(rsa.certificate_pem, tmp_path)["notAfter"] == "Jan  2 00:00:00 2030 GMT"


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("", "no PEM certificate"),
        ("not a certificate", "no PEM certificate"),
        ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "malformed"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not valid DER"),
        ("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "not a CERTIFICATE"),
    ],
)
def test_garbage_is_a_certificate_validation_error(text: str, fragment: str) -> None:
    with pytest.raises(jitr_iot.CertificateValidationException) as e:
        jitr_iot.Certificate.from_pem(text)
    assert fragment in e.value.message
    with pytest.raises(jitr_iot.CertificateValidationException):
        jitr_iot.certificate_id(text)


def test_private_keys_are_refused_and_never_echoed(ca: jitr_iot.GeneratedCertificate) -> None:
    key = ca.private_key_pem
    for call in (jitr_iot.Certificate.from_pem, jitr_iot.load_pem_chain, jitr_iot.certificate_id):
        with pytest.raises(jitr_iot.CertificateValidationException) as e:
            call(ca.certificate_pem + key)
        assert "private key" in e.value.message
        body = key.splitlines()[1]
        assert body not in str(e.value) and body not in repr(e.value.response)


def test_two_certificates_where_one_is_expected(ca: jitr_iot.GeneratedCertificate, devices: list[jitr_iot.GeneratedCertificate]) -> None:
    with pytest.raises(jitr_iot.CertificateValidationException, match="exactly one"):
        jitr_iot.Certificate.from_pem(devices[0].certificate_pem + ca.certificate_pem)
    with pytest.raises(jitr_iot.CertificateValidationException):
        jitr_iot.Certificate.from_der(devices[0].certificate.to_der() + b"\x00")
