"""The activation handler as its own process: ``python -m jitr_iot.handler --broker HOST:PORT
--store URL`` subscribed to the registration events on a real broker (Debian's mosquitto,
started here on a free loopback port), activating certificates in a SQLite store that this
test (standing for the gateway) shares with it. Events are published with paho-mqtt, as the
gateway publishes them: QoS 1 on ``$aws/events/certificates/registered/<caCertificateId>``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
import pytest

import jitr_iot
from jitr_iot.handler import EVENTS_TOPIC, main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _mosquitto() -> str:
    for candidate in ("/usr/sbin/mosquitto", shutil.which("mosquitto")):
        if candidate and os.path.exists(candidate):
            return candidate
    raise AssertionError(
        "mosquitto is not installed (apt-get install mosquitto); scripts/test-python.sh installs it"
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n"
    )
    proc = subprocess.Popen([_mosquitto(), "-c", str(conf)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _publish(broker: str, topic: str, payload: bytes) -> None:
    host, port = broker.rsplit(":", 1)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-gateway")
    client.connect(host, int(port))
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def _wait(predicate: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_the_subscriber_activates_what_the_gateway_registers(broker: str, tmp_path: Path) -> None:
    store = f"sqlite://{tmp_path / 'fleet.db'}"
    now = datetime.now(timezone.utc)
    registry = jitr_iot.Registry(store=store)
    ca = jitr_iot.generate_ca("Fleet CA", not_before=now - timedelta(days=1))
    proof = jitr_iot.generate_verification_certificate(
        ca, registry.get_registration_code()["registrationCode"], not_before=now - timedelta(days=1)
    )
    registry.register_ca_certificate(
        caCertificate=ca.certificate_pem,
        verificationCertificate=proof.certificate_pem,
        setAsActive=True,
        allowAutoRegistration=True,
    )
    device = jitr_iot.issue_certificate(ca, "device-1", not_before=now - timedelta(days=1))
    first = registry.connect([device.certificate_pem, ca.certificate_pem])
    assert first.reason == "REGISTERED_PENDING_ACTIVATION"
    assert first.event is not None

    handler = subprocess.Popen(
        [sys.executable, "-m", "jitr_iot.handler", "--broker", broker, "--store", store],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Give it its subscription, then publish what the gateway publishes: garbage
        # first (logged, acknowledged, not fatal), then the event.
        time.sleep(1.0)
        topic = f"$aws/events/certificates/registered/{ca.certificate_id}"
        _publish(broker, topic, b"not json")
        _publish(broker, topic, json.dumps(dict(first.event)).encode())

        def active() -> bool:
            status: str = registry.describe_certificate(certificateId=device.certificate_id)[
                "certificateDescription"
            ]["status"]
            return status == "ACTIVE"

        assert _wait(active), "the subscriber did not activate the certificate"
        arn = registry.describe_certificate(certificateId=device.certificate_id)["certificateDescription"][
            "certificateArn"
        ]
        names = [p["policyName"] for p in registry.list_attached_policies(target=arn)["policies"]]
        assert names == [f"Policy_{device.certificate_id}"]
        assert handler.poll() is None, "the subscriber exited"
    finally:
        handler.terminate()
        _, err = handler.communicate(timeout=10)
    assert "was not handled" in err, err
    assert "ACTIVATED" in err, err
    registry.close()


def test_the_subscriber_refuses_a_bad_broker_address() -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        main(["--broker", "no-port", "--store", "memory:"])
    assert EVENTS_TOPIC == "$aws/events/certificates/registered/#"
