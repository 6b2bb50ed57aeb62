"""Shared fixtures: a fixed clock, a registry with a known registration code, and
certificates made with jitr's own tooling (session-scoped: key generation is the slow part).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Protocol

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


class HasPem(Protocol):
    """A certificate as registration needs it: jitr's ``GeneratedCertificate`` or one a
    test made itself."""

    @property
    def certificate_pem(self) -> str: ...


@pytest.fixture
def ca_id(registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> str:
    """``ca`` registered in ``registry`` (ACTIVE, auto-registration on): its certificate ID."""
    return register_ca(registry, ca, proof)


def pg_url() -> str:
    """A fresh schema in the test server's database (a store of its own)."""
    base = os.environ["JITR_TEST_PG"]
    schema = "py_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", base, "-qc", f"CREATE SCHEMA {schema}"], check=True)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL: a SQLite file, then a PostgreSQL schema when ``JITR_TEST_PG`` names a
    server."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'fleet.db'}"
    elif os.environ.get("JITR_TEST_PG"):
        yield pg_url()
    else:
        pytest.skip("JITR_TEST_PG is not set: scripts/test.sh starts a PostgreSQL server")


def register_ca(
    registry: jitr_iot.Registry,
    ca: HasPem,
    proof: HasPem,
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


def raises_core_error(exception: type, call: Callable[[Any], Any], argument: Any) -> None:
    """``call(argument)`` raises ``exception``: the core's error, a ``JitrError`` with a
    message."""
    with pytest.raises(exception) as raised:
        call(argument)
    assert isinstance(raised.value, jitr_iot.JitrError)
    assert raised.value.message


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
