"""The registry on a durable store: ``store="sqlite:///…"`` and ``"postgresql://…"``.

State survives the process; processes on one store see each other's changes by their
next call; a bad store URL is refused before anything is written; ``close()`` and the
context manager end the background work. PostgreSQL runs when ``JITR_TEST_PG`` names a
server (scripts/test.sh starts one)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import List, Literal

import pytest

import jitr_iot
from conftest import CODE, NOW, register_ca


def test_state_survives_the_process(any_store: str) -> None:
    ca = jitr_iot.generate_ca("Fleet CA", not_before=NOW - timedelta(days=1))
    proof = jitr_iot.generate_verification_certificate(ca, CODE, not_before=NOW - timedelta(days=1))
    device = jitr_iot.issue_certificate(ca, "device-1", not_before=NOW - timedelta(days=1))
    with jitr_iot.Registry(store=any_store, registration_code=CODE) as first:
        assert first.store_kind == any_store.split(":")[0]
        register_ca(first, ca, proof)
        d = first.connect([device.certificate_pem, ca.certificate_pem], now=NOW)
        assert d.reason == "REGISTERED_PENDING_ACTIVATION" and d.certificate_id is not None
        cert_id = d.certificate_id
    with jitr_iot.Registry(store=any_store) as second:
        assert second.get_registration_code()["registrationCode"] == CODE
        assert second.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"] == "PENDING_ACTIVATION"
        second.update_certificate(certificateId=cert_id, newStatus="ACTIVE")
        assert second.connect([device.certificate_pem, ca.certificate_pem], now=NOW).allowed


CHILD = textwrap.dedent(
    """
    import sys, jitr_iot
    registry = jitr_iot.Registry(store=sys.argv[1])
    for line in sys.stdin:
        cert = line.strip()
        status = registry.describe_certificate(certificateId=cert)["certificateDescription"]["status"]
        print(status, flush=True)
    """
)


def test_another_process_sees_each_change_by_its_next_call(any_store: str) -> None:
    ca = jitr_iot.generate_ca("Fleet CA", not_before=NOW - timedelta(days=1))
    proof = jitr_iot.generate_verification_certificate(ca, CODE, not_before=NOW - timedelta(days=1))
    device = jitr_iot.issue_certificate(ca, "device-1", not_before=NOW - timedelta(days=1))
    with jitr_iot.Registry(store=any_store, registration_code=CODE) as registry:
        register_ca(registry, ca, proof)
        cert_id = registry.connect([device.certificate_pem, ca.certificate_pem], now=NOW).certificate_id
        assert cert_id is not None
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, any_store],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            statuses: List[Literal["ACTIVE", "REVOKED"]] = ["ACTIVE", "REVOKED"]
            for status in statuses:
                registry.update_certificate(certificateId=cert_id, newStatus=status)
                child.stdin.write(cert_id + "\n")
                child.stdin.flush()
                assert child.stdout.readline().strip() == status
        finally:
            child.stdin.close()
            assert child.wait(timeout=30) == 0


@pytest.mark.parametrize(
    "url",
    ["mysql://db", "sqlite:", "sqlite://", "memory:x", "nonsense", "sqlite:///tmp/x.db?nope=1"],
)
def test_a_bad_store_url_is_refused(url: str) -> None:
    with pytest.raises(jitr_iot.InvalidRequestException) as info:
        jitr_iot.Registry(store=url)
    assert "store URL" in info.value.message


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "not.db"
    path.write_bytes(b"not a database " * 100)
    with pytest.raises(jitr_iot.InvalidRequestException):
        jitr_iot.Registry(store=f"sqlite://{path}")
    assert path.read_bytes() == b"not a database " * 100


def test_a_server_that_is_not_there_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(jitr_iot.ServiceUnavailableException):
        jitr_iot.Registry(store=f"postgresql://nobody@127.0.0.1:{port}/none")


def test_the_store_must_be_a_string() -> None:
    with pytest.raises(TypeError):
        jitr_iot.Registry(store=3)  # type: ignore[arg-type]
