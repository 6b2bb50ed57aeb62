"""Each class of bad input raises a clear Python exception (a jitr_iot.JitrError subclass,
TypeError or ValueError) — never a panic or a crash."""

from __future__ import annotations

import random
from datetime import date, datetime, timezone
from typing import Any, Callable, List, Type, Union

import pytest

import jitr_iot
from conftest import NOW, SNI, register_ca

Expected = Union[Type[BaseException], tuple[Type[BaseException], ...]]
CID = "ab" * 32


def call(registry: jitr_iot.Registry, op: str, **kwargs: Any) -> Any:
    return getattr(registry, op)(**kwargs)


WRONG_TYPES: List[tuple[str, dict[str, Any], Expected]] = [
    ("describe_certificate", {"certificateId": 5}, TypeError),
    ("describe_certificate", {"certificateId": None}, TypeError),
    ("describe_certificate", {"certificateId": CID.encode()}, TypeError),  # bytes where str expected
    ("describe_certificate", {}, TypeError),  # a required parameter is missing
    ("register_certificate", {"certificatePem": b"-----BEGIN CERTIFICATE-----"}, TypeError),
    ("register_ca_certificate", {"caCertificate": "x", "setAsActive": "yes"}, TypeError),
    ("register_ca_certificate", {"caCertificate": "x", "setAsActive": 1}, TypeError),
    ("register_ca_certificate", {"caCertificate": "x", "tags": [{"Key": b"k"}]}, TypeError),
    ("register_ca_certificate", {"caCertificate": "x", "tags": [{1: "k"}]}, TypeError),
    ("register_ca_certificate", {"caCertificate": "x", "tags": {"Key", "Value"}}, TypeError),  # a set
    ("register_ca_certificate", {"caCertificate": "x", "registrationConfig": object()}, TypeError),
    ("register_ca_certificate", {"caCertificate": "x", "registrationConfig": {"roleArn": 5}}, jitr_iot.InvalidRequestException),
    ("register_ca_certificate", {"caCertificate": "x", "registrationConfig": {"roleArn": float("nan")}}, ValueError),
    ("register_ca_certificate", {"caCertificate": "x", "tags": [{"Key": 2**80}]}, ValueError),
    ("list_certificates", {"pageSize": "10"}, jitr_iot.InvalidRequestException),
    ("list_certificates", {"pageSize": 2.5}, jitr_iot.InvalidRequestException),
    ("list_certificates", {"pageSize": True}, jitr_iot.InvalidRequestException),
    ("list_certificates", {"pageSize": 2**70}, ValueError),
    ("list_certificates", {"ascendingOrder": "true"}, TypeError),
    ("list_certificates", {"marker": 3}, TypeError),
]


@pytest.mark.parametrize("op,kwargs,expected", WRONG_TYPES)
def test_wrong_types(registry: jitr_iot.Registry, op: str, kwargs: dict[str, Any], expected: Expected) -> None:
    with pytest.raises(expected) as e:
        call(registry, op, **kwargs)
    assert str(e.value)


@pytest.mark.parametrize("page_size", [-1, -(2**40), 0, 251])
def test_page_sizes_out_of_range(registry: jitr_iot.Registry, page_size: int) -> None:
    for op, extra in [("list_certificates", {}), ("list_ca_certificates", {}), ("list_certificates_by_ca", {"caCertificateId": CID})]:
        with pytest.raises(jitr_iot.InvalidRequestException, match="pageSize"):
            call(registry, op, pageSize=page_size, **extra)


@pytest.mark.parametrize(
    "op,kwargs",
    [
        ("update_certificate", {"certificateId": CID, "newStatus": "active"}),
        ("update_certificate", {"certificateId": CID, "newStatus": "DELETED"}),
        ("update_ca_certificate", {"certificateId": CID, "newStatus": "PENDING_ACTIVATION"}),
        ("update_ca_certificate", {"certificateId": CID, "newAutoRegistrationStatus": "ENABLED"}),
        ("register_ca_certificate", {"caCertificate": "x", "certificateMode": "SNI"}),
        ("register_certificate", {"certificatePem": "x", "status": "Active"}),
        ("register_certificate_without_ca", {"certificatePem": "x", "status": ""}),
    ],
)
def test_unknown_enum_strings(registry: jitr_iot.Registry, op: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(jitr_iot.InvalidRequestException):
        call(registry, op, **kwargs)


@pytest.mark.parametrize("bad_id", ["", "xyz", "ab" * 31, "ab" * 33, "gg" * 32, " " + CID, "0y" + CID])
def test_malformed_ids(registry: jitr_iot.Registry, bad_id: str) -> None:
    for op in ["describe_certificate", "describe_ca_certificate", "delete_certificate", "delete_ca_certificate"]:
        with pytest.raises(jitr_iot.InvalidRequestException):
            call(registry, op, certificateId=bad_id)


@pytest.mark.parametrize(
    "now,expected",
    [
        (datetime(2026, 6, 1), ValueError),  # naive: its meaning depends on the machine's zone
        (date(2026, 6, 1), TypeError),
        ("2026-06-01T00:00:00Z", TypeError),
        (True, TypeError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (1e300, ValueError),
        (2**70, ValueError),
        ([1], TypeError),
    ],
)
def test_bad_times(registry: jitr_iot.Registry, now: Any, expected: Expected) -> None:
    with pytest.raises(expected):
        registry.get_registration_code(now=now)
    with pytest.raises(expected):
        registry.connect([], now=now)
    with pytest.raises(expected):
        jitr_iot.generate_ca("x", not_before=now)


@pytest.mark.parametrize(
    "chain,expected",
    [
        (5, TypeError),
        (None, TypeError),
        ({"leaf": "pem"}, TypeError),
        ([5], TypeError),
        ([None], TypeError),
        ("not pem", jitr_iot.CertificateValidationException),
        (["-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"], jitr_iot.CertificateValidationException),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", jitr_iot.CertificateValidationException),
    ],
)
def test_bad_chains(registry: jitr_iot.Registry, chain: Any, expected: Expected) -> None:
    with pytest.raises(expected):
        registry.connect(chain, SNI, NOW)


def test_bad_input_to_certificates() -> None:
    with pytest.raises(TypeError):
        jitr_iot.Certificate.from_pem(b"-----BEGIN CERTIFICATE-----")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jitr_iot.Certificate.from_der("30")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jitr_iot.certificate_id(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jitr_iot.load_pem_chain(None)  # type: ignore[arg-type]
    with pytest.raises(jitr_iot.CertificateValidationException, match="at most"):
        jitr_iot.Certificate.from_der(b"\x30" * (64 * 1024 + 1))
    with pytest.raises(jitr_iot.CertificateValidationException, match="at most"):
        jitr_iot.load_pem_chain("x" * (1024 * 1024 + 1))


def test_hostile_structures(registry: jitr_iot.Registry) -> None:
    loop: List[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nest"):
        registry.register_ca_certificate(caCertificate="x", tags=loop)
    deep: Any = "x"
    for _ in range(100):
        deep = {"k": deep}
    with pytest.raises(ValueError, match="nest"):
        registry.register_ca_certificate(caCertificate="x", registrationConfig=deep)
    with pytest.raises(jitr_iot.InvalidRequestException):
        registry.register_ca_certificate(caCertificate="x" * 70_000)


def test_a_rust_panic_cannot_escape() -> None:
    """pyo3 turns a Rust panic into pyo3_runtime.PanicException (a BaseException): the
    interpreter survives and jitr keeps working. No public input reaches a panic (see the
    mutation test below); this private function panics on purpose."""
    from jitr_iot import _jitr

    with pytest.raises(BaseException) as e:
        _jitr._panic_for_test()
    assert type(e.value).__name__ == "PanicException"
    assert not isinstance(e.value, Exception)
    assert "deliberate panic" in str(e.value)
    assert len(jitr_iot.Registry().get_registration_code()["registrationCode"]) == 64


def test_mutated_certificates_never_panic(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    """Random byte flips, truncations and extensions of real certificates through every
    entry point that parses: each either works or raises an allowed exception."""
    register_ca(registry, ca, proof)
    rng = random.Random(4)
    seeds = [devices[0].certificate.to_der(), ca.certificate.to_der()]
    allowed = (jitr_iot.JitrError, TypeError, ValueError)
    entry_points: List[Callable[[bytes], object]] = [
        lambda b: registry.connect([b, seeds[1]], SNI, NOW),
        lambda b: registry.connect(b, SNI, NOW),
        jitr_iot.Certificate.from_der,
        jitr_iot.certificate_id,
        lambda b: registry.register_certificate(
            certificatePem="-----BEGIN CERTIFICATE-----\n" + __import__("base64").encodebytes(b).decode() + "-----END CERTIFICATE-----\n",
            now=NOW,
        ),
    ]
    for i in range(400):
        data = bytearray(rng.choice(seeds))
        kind = i % 3
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            del data[rng.randrange(len(data)):]
        else:
            data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        for entry in entry_points:
            try:
                entry(bytes(data))
            except allowed:
                pass
