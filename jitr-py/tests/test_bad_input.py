"""Each class of bad input raises a clear Python exception (a jitr_iot.JitrError subclass,
ParamValidationError (botocore's, and a TypeError), TypeError or ValueError), in Python's
terms — never a panic or a crash."""

from __future__ import annotations

import random
import re
from datetime import date, datetime, timezone
from typing import Any, Callable, List, Type, Union

import pytest

import jitr_iot
from conftest import NOW, SNI, register_ca

Expected = Union[Type[BaseException], tuple[Type[BaseException], ...]]
CID = "ab" * 32


def call(registry: jitr_iot.Registry, op: str, **kwargs: Any) -> Any:
    return getattr(registry, op)(**kwargs)


PVE = jitr_iot.ParamValidationError  # botocore's ParamValidationError, and a TypeError

WRONG_TYPES: List[tuple[str, dict[str, Any], Expected, str]] = [
    ("describe_certificate", {"certificateId": 5}, PVE, "Invalid type for parameter certificateId, value: 5, type: <class 'int'>, valid types: <class 'str'>"),
    ("describe_certificate", {"certificateId": None}, PVE, "Invalid type for parameter certificateId, value: None, type: <class 'NoneType'>, valid types: <class 'str'>"),
    ("describe_certificate", {"certificateId": CID.encode()}, PVE, "type: <class 'bytes'>, valid types: <class 'str'>"),  # bytes where str expected
    ("describe_certificate", {}, TypeError, "certificateId"),  # a required parameter is missing
    ("register_certificate", {"certificatePem": b"-----BEGIN CERTIFICATE-----"}, PVE, "parameter certificatePem"),
    ("register_ca_certificate", {"caCertificate": "x", "setAsActive": "yes"}, PVE, "parameter setAsActive, value: yes, type: <class 'str'>, valid types: <class 'bool'>"),
    ("register_ca_certificate", {"caCertificate": "x", "setAsActive": 1}, PVE, "valid types: <class 'bool'>"),
    ("register_ca_certificate", {"caCertificate": "x", "setAsActive": None}, PVE, "parameter setAsActive, value: None"),
    ("register_ca_certificate", {"caCertificate": "x", "tags": [{"Key": b"k"}]}, TypeError, "bytes"),
    ("register_ca_certificate", {"caCertificate": "x", "tags": [{1: "k"}]}, TypeError, "keys must be str"),
    ("register_ca_certificate", {"caCertificate": "x", "tags": {"Key", "Value"}}, PVE, "parameter tags, value: {"),  # a set
    ("register_ca_certificate", {"caCertificate": "x", "tags": [{"Key": "k", "Value": None}]}, PVE, "parameter tags[0].Value, value: None"),
    ("register_ca_certificate", {"caCertificate": "x", "registrationConfig": object()}, PVE, "valid types: <class 'dict'>"),
    ("register_ca_certificate", {"caCertificate": "x", "registrationConfig": {"roleArn": None}}, PVE, "parameter registrationConfig.roleArn, value: None"),
    ("register_ca_certificate", {"caCertificate": "x", "registrationConfig": {"roleArn": 5}}, jitr_iot.InvalidRequestException, "invalid type: integer `5`, expected a string"),
    ("register_ca_certificate", {"caCertificate": "x", "registrationConfig": {"roleArn": float("nan")}}, ValueError, "not a finite number"),
    ("register_ca_certificate", {"caCertificate": "x", "tags": [{"Key": 2**80}]}, ValueError, "does not fit in 64 bits"),
    ("list_certificates", {"pageSize": "10"}, PVE, "parameter pageSize, value: 10, type: <class 'str'>, valid types: <class 'int'>"),
    ("list_certificates", {"pageSize": 2.5}, PVE, "type: <class 'float'>, valid types: <class 'int'>"),
    ("list_certificates", {"pageSize": True}, PVE, "type: <class 'bool'>, valid types: <class 'int'>"),
    ("list_certificates", {"pageSize": 2**70}, ValueError, "does not fit in 64 bits"),
    ("list_certificates", {"ascendingOrder": "true"}, PVE, "valid types: <class 'bool'>"),
    ("list_certificates", {"marker": 3}, PVE, "valid types: <class 'str'>"),
    ("list_certificates", {"marker": None}, PVE, "parameter marker, value: None"),
]

#: Rust's type names, which must never reach a Python caller.
RUST_TERMS = re.compile(r"\b(?:[iu](?:8|16|32|64|128|size)|f32|f64|Vec|Option|String)\b")


@pytest.mark.parametrize("op,kwargs,expected,message", WRONG_TYPES)
def test_wrong_types(registry: jitr_iot.Registry, op: str, kwargs: dict[str, Any], expected: Expected, message: str) -> None:
    with pytest.raises(expected) as e:
        call(registry, op, **kwargs)
    assert message in str(e.value)
    assert not RUST_TERMS.search(str(e.value)), str(e.value)
    error: Any = e.value
    if isinstance(error, jitr_iot.ParamValidationError):
        import botocore.exceptions

        assert str(error).startswith("Parameter validation failed:\n")
        assert error.kwargs == {"report": str(error).split("\n", 1)[1]}
        # What boto3 raises for the same mistake, and a TypeError as Python expects.
        assert isinstance(error, botocore.exceptions.ParamValidationError) and isinstance(error, TypeError)


def test_messages_speak_python_not_rust(registry: jitr_iot.Registry) -> None:
    """No error a Python caller sees names a Rust type ("expected i64")."""
    event = {
        "certificateId": CID,
        "caCertificateId": CID,
        "timestamp": "x",
        "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": "123456789012",
        "certificateRegistrationTimestamp": "1",
    }
    attempts: List[Callable[[], object]] = [
        lambda: jitr_iot.parse_registration_event(event),
        lambda: jitr_iot.parse_registration_event({**event, "timestamp": -1.5}),
        lambda: jitr_iot.Registry.from_state('{"registrationCode": 5}'),
        lambda: jitr_iot.Registry(max_cas_per_subject="3"),  # type: ignore[arg-type]
        lambda: jitr_iot.Registry(max_cas_per_subject=-3),
        lambda: jitr_iot.generate_ca("x", valid_days="3"),  # type: ignore[arg-type]
        lambda: jitr_iot.generate_ca("x", valid_days=2**40),
        lambda: registry.list_certificates(pageSize=2**63),
        lambda: registry.register_ca_certificate(caCertificate="x", tags=[{"Key": "k", "Value": 5}]),  # type: ignore[typeddict-item]
    ]
    for attempt in attempts:
        with pytest.raises((jitr_iot.JitrError, TypeError, ValueError)) as e:
            attempt()
        assert not RUST_TERMS.search(str(e.value)), str(e.value)
    with pytest.raises(jitr_iot.InvalidRequestException, match="expected an integer"):
        jitr_iot.parse_registration_event(event)


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


def test_type_errors_name_the_parameter(registry: jitr_iot.Registry) -> None:
    """A wrong type says which parameter and which type it takes, in Python's words."""
    ca = jitr_iot.generate_ca("CA")
    bad: Any = 5
    attempts: List[tuple[Callable[[], object], str]] = [
        (lambda: jitr_iot.generate_ca(bad), "common_name must be a str, not int"),
        (lambda: jitr_iot.generate_ca("x", organization=bad), "organization must be a str, not int"),
        (lambda: jitr_iot.generate_ca("x", key_type=bad), "key_type must be a str, not int"),
        (lambda: jitr_iot.generate_ca("x", valid_days="9"), "valid_days must be an int, not str"),  # type: ignore[arg-type]
        (lambda: jitr_iot.issue_certificate(ca, "d", client_auth=bad), "client_auth must be a bool, not int"),
        (lambda: jitr_iot.generate_verification_certificate(ca, bad), "registration_code must be a str, not int"),
        (lambda: jitr_iot.GeneratedCertificate.from_pem("x", bad), "private_key_pem must be a str, not int"),
        (lambda: jitr_iot.Certificate.from_pem(b"x"), "pem must be a str, not bytes"),  # type: ignore[arg-type]
        (lambda: jitr_iot.load_pem_chain(bad), "pem must be a str, not int"),
        (lambda: jitr_iot.Registry(registration_code=bad), "registration_code must be a str, not int"),
        (lambda: jitr_iot.Registry.from_state(bad), "state must be a str, not int"),
        (lambda: registry.connect([], server_name=bad), "server_name must be a str, not int"),
        (lambda: jitr_iot.Registry(max_cas_per_subject=bad * 1.0), "max_cas_per_subject must be an int, not float"),
    ]
    for attempt, message in attempts:
        with pytest.raises(TypeError) as e:
            attempt()
        assert str(e.value) == message
