"""registry.connect: the JITR decision, its chain forms, times, and the registration event."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import List

import pytest

import jitr_iot
from conftest import NOW, SNI, later, register_ca


def ms(d: datetime) -> int:
    return round(d.timestamp() * 1000)


def test_the_story(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    ca_id: str,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    device = devices[0]
    chain = [device.certificate_pem, ca.certificate_pem]

    first = registry.connect(chain, SNI, now=later(10))
    assert (first.allowed, first.reason) == (False, "REGISTERED_PENDING_ACTIVATION")
    assert first.certificate_id == device.certificate_id
    assert first.ca_certificate_id == ca_id
    assert first.topic == f"$aws/events/certificates/registered/{ca_id}"
    assert "PENDING_ACTIVATION" in first.message
    # The payload, byte for byte as AWS publishes it (docs/behaviour.md §7), field order included.
    t = ms(later(10))
    assert first.event_json == (
        f'{{"certificateId":"{device.certificate_id}","caCertificateId":"{ca_id}",'
        f'"timestamp":{t},"certificateStatus":"PENDING_ACTIVATION",'
        f'"awsAccountId":"123456789012","certificateRegistrationTimestamp":"{t}"}}'
    )
    assert first.event is not None and first.event_json is not None
    assert first.event == json.loads(first.event_json)
    assert list(first.event) == [
        "certificateId", "caCertificateId", "timestamp", "certificateStatus", "awsAccountId",
        "certificateRegistrationTimestamp",
    ]
    assert repr(first) == (
        f"Decision(allowed=False, reason='REGISTERED_PENDING_ACTIVATION', certificate_id='{device.certificate_id}')"
    )
    desc = registry.describe_certificate(certificateId=device.certificate_id)["certificateDescription"]
    assert (desc["status"], desc.get("caCertificateId"), desc["creationDate"]) == ("PENDING_ACTIVATION", ca_id, later(10))

    # While pending: the event again, new timestamp, same registration time.
    again = registry.connect(chain, SNI, now=later(20))
    assert again.reason == "PENDING_ACTIVATION" and again.event is not None
    assert again.event["timestamp"] == ms(later(20))
    assert again.event["certificateRegistrationTimestamp"] == str(t)

    registry.update_certificate(certificateId=device.certificate_id, newStatus="ACTIVE", now=later(30))
    allowed = registry.connect(chain, SNI, now=later(40))
    assert (allowed.allowed, allowed.reason, allowed.event, allowed.event_json, allowed.topic) == (True, None, None, None, None)
    assert allowed.ca_certificate_id == ca_id
    assert repr(allowed).startswith("Decision(allowed=True, reason=None")

    registry.update_certificate(certificateId=device.certificate_id, newStatus="REVOKED")
    revoked = registry.connect(chain, SNI, now=later(50))
    assert (revoked.allowed, revoked.reason, revoked.event) == (False, "CERTIFICATE_REVOKED", None)


def test_chain_forms(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    register_ca(registry, ca, proof)
    pem = [d.certificate_pem for d in devices]
    der = [d.certificate.to_der() for d in devices]
    ca_der = ca.certificate.to_der()
    forms: list[jitr_iot._jitr._Chain] = [
        pem[0] + ca.certificate_pem,  # one PEM bundle, leaf first
        [pem[1], ca.certificate_pem],  # a list of PEM strings
        (der[2], ca_der),  # a tuple of DER bytes
        [bytearray(der[3]), ca.certificate_pem],  # mixed
        [pem[4] + ca.certificate_pem],  # a bundle inside a list
    ]
    for i, chain in enumerate(forms):
        d = registry.connect(chain, now=NOW)
        assert (d.reason, d.certificate_id) == ("REGISTERED_PENDING_ACTIVATION", devices[i].certificate_id), i
    # The leaf alone needs SNI (AWS needs the CA in the chain or SNI).
    alone = registry.connect(der[5], now=NOW)
    assert (alone.reason, alone.certificate_id) == ("SNI_REQUIRED", devices[5].certificate_id)
    assert registry.connect(der[5], SNI, NOW).reason == "REGISTERED_PENDING_ACTIVATION"
    assert registry.connect(pem[6], server_name=SNI, now=NOW).reason == "REGISTERED_PENDING_ACTIVATION"


def test_refusals(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
    other_ca: jitr_iot.GeneratedCertificate,
) -> None:
    empty = registry.connect([], SNI, NOW)
    assert (empty.allowed, empty.reason, empty.certificate_id) == (False, "NO_CERTIFICATE", None)
    stranger = jitr_iot.issue_certificate(other_ca, "stranger", not_before=NOW)
    unknown = registry.connect([stranger.certificate_pem, other_ca.certificate_pem], SNI, NOW)
    assert (unknown.reason, unknown.ca_certificate_id) == ("UNKNOWN_ISSUER", None)
    assert unknown.message and unknown.event is None
    # A malformed leaf inside valid PEM armour is a refusal with the ID of its bytes.
    garbage = b"\x30\x03\x02\x01\x01"
    malformed = registry.connect([garbage], SNI, NOW)
    assert malformed.reason == "MALFORMED_CERTIFICATE"
    import hashlib

    assert malformed.certificate_id == hashlib.sha256(garbage).hexdigest()

    ca_id = register_ca(registry, ca, proof, auto=False)
    chain = [devices[0].certificate_pem, ca.certificate_pem]
    assert registry.connect(chain, SNI, NOW).reason == "AUTO_REGISTRATION_DISABLED"
    registry.update_ca_certificate(certificateId=ca_id, newAutoRegistrationStatus="ENABLE", newStatus="INACTIVE")
    assert registry.connect(chain, SNI, NOW).reason == "CA_INACTIVE"
    registry.update_ca_certificate(certificateId=ca_id, newStatus="ACTIVE")
    # Validity is checked at `now`: the device certificate is valid for 365 days from NOW - 1 day.
    expired = registry.connect(chain, SNI, NOW + timedelta(days=400))
    assert expired.reason in {"CERTIFICATE_EXPIRED"}, expired.message
    early = registry.connect(chain, SNI, NOW - timedelta(days=2))
    assert early.reason in {"CERTIFICATE_NOT_YET_VALID", "CA_NOT_YET_VALID"}, early.message
    # Nothing was registered by the refusals.
    assert registry.list_certificates()["certificates"] == []
    # A certificate without clientAuth is refused.
    no_eku = jitr_iot.issue_certificate(ca, "server-ish", not_before=NOW - timedelta(days=1), client_auth=False)
    assert no_eku.certificate.extended_key_usage is None
    # (No EKU extension at all is acceptable; only an EKU without clientAuth is refused.)
    assert registry.connect([no_eku.certificate_pem, ca.certificate_pem], SNI, NOW).reason == "REGISTERED_PENDING_ACTIVATION"


def test_now_forms(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    register_ca(registry, ca, proof)
    chain = [devices[0].certificate_pem, ca.certificate_pem]
    epoch = 1_780_272_000.25  # NOW + 0.25 s
    d = registry.connect(chain, SNI, epoch)
    assert d.event is not None and d.event["timestamp"] == 1_780_272_000_250
    d = registry.connect(chain, SNI, 1_780_272_001)
    assert d.event is not None and d.event["timestamp"] == 1_780_272_001_000
    plus_two = datetime(2026, 6, 1, 2, 0, 0, 999, tzinfo=timezone(timedelta(hours=2)))  # = NOW, other zone
    d = registry.connect(chain, SNI, plus_two)
    assert d.event is not None and d.event["timestamp"] == 1_780_272_000_000  # microseconds round down
    # Without `now`, the clock: the event's timestamp is close to the real time.
    device = jitr_iot.issue_certificate(ca, "clock")
    fresh = registry.connect([device.certificate_pem, ca.certificate_pem], SNI)
    assert fresh.event is not None
    real = datetime.now(timezone.utc).timestamp() * 1000
    assert abs(fresh.event["timestamp"] - real) < 60_000


def test_concurrent_first_connections_register_once(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    register_ca(registry, ca, proof)
    chain = [devices[0].certificate.to_der(), ca.certificate.to_der()]
    with ThreadPoolExecutor(8) as pool:
        reasons = list(pool.map(lambda _: registry.connect(chain, SNI, NOW).reason, range(64)))
    assert reasons.count("REGISTERED_PENDING_ACTIVATION") == 1
    assert reasons.count("PENDING_ACTIVATION") == 63
    assert len(registry.list_certificates()["certificates"]) == 1


def test_registry_config(ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]) -> None:
    from conftest import CODE

    lenient = jitr_iot.Registry(registration_code=CODE, require_sni_for_leaf_only=False)
    register_ca(lenient, ca, proof)
    assert lenient.connect(devices[0].certificate_pem, now=NOW).reason == "REGISTERED_PENDING_ACTIVATION"
    strict = jitr_iot.Registry(registration_code=CODE)
    register_ca(strict, ca, proof)
    assert strict.connect(devices[0].certificate_pem, now=NOW).reason == "SNI_REQUIRED"
    with pytest.raises(ValueError):
        jitr_iot.Registry(max_cas_per_subject=-1)
