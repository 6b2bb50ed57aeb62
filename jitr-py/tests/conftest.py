"""Shared fixtures: a fixed clock, a registry with a known registration code, and
certificates made with jitr's own tooling (session-scoped: key generation is the slow part).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

import jitr_iot

#: The time the tests run at: 2026-06-01T00:00:00Z.
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
#: A registration code the registries of the tests use.
CODE = "c0de" * 16
#: The SNI host name devices send.
SNI = "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com"
#: The repository root (jitr-py/tests/../..).
ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"

META_KEYS = {"RequestId", "HTTPStatusCode", "HTTPHeaders", "RetryAttempts"}


def later(seconds: float) -> datetime:
    """NOW plus some seconds."""
    return NOW + timedelta(seconds=seconds)


def body(response: Any) -> Dict[str, Any]:
    """A response without ``ResponseMetadata`` (checked to be there and well formed)."""
    d = dict(response)
    meta = d.pop("ResponseMetadata")
    assert set(meta) == META_KEYS
    assert meta["HTTPStatusCode"] == 200
    return d


def load_vector(name: str) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


@pytest.fixture
def registry() -> jitr_iot.Registry:
    return jitr_iot.Registry(registration_code=CODE)


@pytest.fixture(scope="session")
def ca() -> jitr_iot.GeneratedCertificate:
    return jitr_iot.generate_ca("Test Fleet CA", not_before=NOW - timedelta(days=1))


@pytest.fixture(scope="session")
def proof(ca: jitr_iot.GeneratedCertificate) -> jitr_iot.GeneratedCertificate:
    return jitr_iot.generate_verification_certificate(ca, CODE, not_before=NOW - timedelta(days=1))


@pytest.fixture(scope="session")
def devices(ca: jitr_iot.GeneratedCertificate) -> List[jitr_iot.GeneratedCertificate]:
    """Ten device certificates signed by ``ca``, valid from a day before NOW for a year."""
    return [
        jitr_iot.issue_certificate(ca, f"device-{i}", not_before=NOW - timedelta(days=1))
        for i in range(10)
    ]


@pytest.fixture(scope="session")
def other_ca() -> jitr_iot.GeneratedCertificate:
    """A CA that no registry of the tests knows."""
    return jitr_iot.generate_ca("Unregistered CA", not_before=NOW - timedelta(days=1))


def register_ca(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    *,
    active: bool = True,
    auto: bool = True,
) -> str:
    """Registers ``ca`` (DEFAULT mode) and returns its certificate ID."""
    response = registry.register_ca_certificate(
        caCertificate=ca.certificate_pem,
        verificationCertificate=proof.certificate_pem,
        setAsActive=active,
        allowAutoRegistration=auto,
        now=NOW,
    )
    return response["certificateId"]


def minimal_value(shape: Any) -> Any:
    """The least value of a botocore shape that botocore's validation accepts."""
    if shape.type_name == "string":
        return "x" * max(1, shape.metadata.get("min", 1))
    if shape.type_name == "list":
        return [minimal_value(shape.member) for _ in range(shape.metadata.get("min", 0))]
    if shape.type_name == "structure":
        return {n: minimal_value(shape.members[n]) for n in shape.required_members}
    if shape.type_name == "map":
        return {}
    if shape.type_name == "boolean":
        return False
    return shape.metadata.get("min", 1)
