"""The activation handler (docs/behaviour.md §8, issue 7): ``jitr_iot.handler.activate`` and
``lambda_handler`` against a ``jitr_iot.Registry`` and against moto's mocked boto3 ``iot``
client, an independent implementation of the boto3 API; the binding it stands on
(``jitr_iot.Crl``, ``jitr_iot.PolicyTemplate``, ``jitr_iot.handler.Activation``, the core's state
machine); and the scenario table the Rust driver runs too
(``jitr-core/tests/data/handler_scenarios.json``).

CRLs are made with the ``cryptography`` package (an independent X.509 implementation, so
jitr does not only read what it wrote itself), signed with keys from jitr_iot's tooling.

About moto (5.x): it has no JITR (no device connects), and its ``register_certificate``
accepts any ``status`` while AWS refuses ``PENDING_ACTIVATION`` there (only JITR registers
a certificate so). The closest faithful setup is therefore: register the CA and the device
certificate with boto3 calls, the device with ``status="PENDING_ACTIVATION"``, and build
the registration event AWS would publish (docs/behaviour.md §7) by hand. moto's certificate IDs are
SHA-256 of the DER, as AWS's, only with its ``iot.use_valid_cert`` option, which the tests
turn on. Everything after that (what ``activate`` calls and what it reads back) is moto's
own implementation of the boto3 API.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Protocol, Sequence, Tuple, Type, Union

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import jitr_iot
import jitr_iot.handler
from conftest import CODE, NOW, ROOT, SNI, register_ca
from jitr_iot.handler import Activation, Report, activate

ACCOUNT = "123456789012"
REGION = "us-east-1"


# ---------------------------------------------------------------------------------------
# Certificates, CRLs, events, clients


class CertLike(Protocol):
    """A certificate and its key: jitr's ``GeneratedCertificate`` or one made here."""

    @property
    def certificate_pem(self) -> str: ...
    @property
    def certificate_id(self) -> str: ...
    @property
    def private_key_pem(self) -> str: ...


@dataclass(frozen=True)
class Made:
    """A certificate made here with ``cryptography`` (for extensions jitr's tooling does
    not write: key usage without cRLSign, CRL distribution points)."""

    certificate_pem: str
    certificate_id: str
    private_key_pem: str


def make_certificate(
    common_name: str,
    issuer: Optional[CertLike] = None,
    *,
    ca: bool = False,
    key_usage: Sequence[str] = (),
    serial_number: Optional[int] = None,
    distribution_points: Sequence[str] = (),
) -> Made:
    """A P-256 certificate valid from a day before NOW for a year, self-signed unless
    ``issuer`` is given; ``key_usage`` names ``KeyUsage`` fields to set (none: no
    extension); a device (not ``ca``) gets the clientAuth EKU."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, common_name)])
    if issuer is None:
        issuer_name, signing_key = subject, key
    else:
        issuer_name = x509.load_pem_x509_certificate(issuer.certificate_pem.encode()).subject
        loaded = serialization.load_pem_private_key(issuer.private_key_pem.encode(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        signing_key = loaded
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial_number or x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if key_usage:
        fields = {f: f in key_usage for f in [
            "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
            "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
        ]}
        builder = builder.add_extension(x509.KeyUsage(**fields), critical=True)
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    if distribution_points:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(u) for u in distribution_points],
            relative_name=None, reasons=None, crl_issuer=None,
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    certificate = builder.sign(signing_key, hashes.SHA256())
    return Made(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        certificate_id=hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest(),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


def make_crl(
    signer: CertLike,
    revoked: Sequence[int] = (),
    *,
    this_update: datetime = NOW - timedelta(days=1),
    next_update: datetime = NOW + timedelta(days=30),
    issuer: Optional[CertLike] = None,
    encoding: serialization.Encoding = serialization.Encoding.PEM,
    distribution_point: Optional[str] = None,
) -> bytes:
    """A CRL listing ``revoked`` serials, signed with ``signer``'s key, naming ``issuer``'s
    subject (default: the signer's) as its issuer, and, with ``distribution_point``, an
    issuingDistributionPoint naming that URI (a partitioned CRL)."""
    name = x509.load_pem_x509_certificate((issuer or signer).certificate_pem.encode()).subject
    key = serialization.load_pem_private_key(signer.private_key_pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(name)
        .last_update(this_update)
        .next_update(next_update)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(this_update)
            .build()
        )
    if distribution_point is not None:
        idp = x509.IssuingDistributionPoint(
            full_name=[x509.UniformResourceIdentifier(distribution_point)],
            relative_name=None,
            only_contains_user_certs=False,
            only_contains_ca_certs=False,
            only_some_reasons=None,
            indirect_crl=False,
            only_contains_attribute_certs=False,
        )
        builder = builder.add_extension(idp, critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(encoding)


def serial(device: jitr_iot.GeneratedCertificate) -> int:
    return int(device.certificate.serial_number, 16)


def aws_event(certificate_id: str, ca_certificate_id: str, at: datetime = NOW) -> Dict[str, Any]:
    """The payload AWS IoT publishes on registration (docs/behaviour.md §7)."""
    ms = int(at.timestamp() * 1000)
    return {
        "certificateId": certificate_id,
        "caCertificateId": ca_certificate_id,
        "timestamp": ms,
        "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": ACCOUNT,
        "certificateRegistrationTimestamp": str(ms),
    }


def error_code(e: BaseException) -> Optional[str]:
    """The AWS code of a jitr error or a botocore ClientError."""
    response = getattr(e, "response", None)
    return response["Error"]["Code"] if isinstance(response, dict) else None


class Spy:
    """A client that records the methods called and can make one fail (after or instead of
    delegating)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: List[str] = []
        self.before: Dict[str, Callable[..., None]] = {}
        self.after: Dict[str, Callable[..., None]] = {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            if name in self.before:
                self.before[name](**kwargs)
            out = method(**kwargs)
            if name in self.after:
                self.after[name](**kwargs)
            return out

        return call


class Backend:
    """A fresh account with the test CA registered, behind a boto3-shaped client."""

    name: str
    client: Any
    ca_id: str

    def pending(self, device: CertLike) -> Dict[str, Any]:
        """Registers ``device`` PENDING_ACTIVATION; returns its registration event."""
        raise NotImplementedError

    def snapshot(self) -> Any:
        """Everything the handler could change."""
        raise NotImplementedError

    def status(self, certificate_id: str) -> str:
        d = self.client.describe_certificate(certificateId=certificate_id)
        status: str = d["certificateDescription"]["status"]
        return status

    def arn(self, certificate_id: str) -> str:
        return f"arn:aws:iot:{REGION}:{ACCOUNT}:cert/{certificate_id}"

    def attached(self, certificate_id: str) -> List[str]:
        policies = self.client.list_attached_policies(target=self.arn(certificate_id))["policies"]
        return sorted(p["policyName"] for p in policies)

    def policy_document(self, name: str) -> Optional[str]:
        try:
            document: str = self.client.get_policy(policyName=name)["policyDocument"]
            return document
        except Exception as e:
            assert error_code(e) == "ResourceNotFoundException", e
            return None

    def view(self, certificate_id: str) -> Tuple[str, List[str], Optional[str]]:
        """Status, attached policies and the default policy's document, comparable across
        backends."""
        return (
            self.status(certificate_id),
            self.attached(certificate_id),
            self.policy_document(f"Policy_{certificate_id}"),
        )


class JitrBackend(Backend):
    name = "jitr"

    def __init__(self, ca: CertLike, proof: CertLike) -> None:
        self.ca = ca
        self.client = self.registry = jitr_iot.Registry(ACCOUNT, REGION, registration_code=CODE)
        self.ca_id = register_ca(self.registry, ca, proof)

    def pending(self, device: CertLike) -> Dict[str, Any]:
        decision = self.registry.connect([device.certificate_pem, self.ca.certificate_pem], SNI, NOW)
        assert decision.reason == "REGISTERED_PENDING_ACTIVATION", decision.message
        assert decision.event is not None
        return dict(decision.event)

    def snapshot(self) -> Any:
        return self.registry.export_state()


class MotoBackend(Backend):
    """moto's boto3 ``iot`` (see the module docstring for how a PENDING_ACTIVATION
    certificate is set up there)."""

    name = "moto"

    def __init__(self, ca: CertLike, proof: CertLike) -> None:
        import boto3

        self.ca = ca
        self.client = boto3.client("iot", region_name=REGION)
        self.ca_id = self.client.register_ca_certificate(
            caCertificate=ca.certificate_pem,
            verificationCertificate=proof.certificate_pem,
            setAsActive=True,
            allowAutoRegistration=True,
        )["certificateId"]
        assert self.ca_id == ca.certificate_id

    def pending(self, device: CertLike) -> Dict[str, Any]:
        registered = self.client.register_certificate(
            certificatePem=device.certificate_pem,
            caCertificatePem=self.ca.certificate_pem,
            status="PENDING_ACTIVATION",
        )
        assert registered["certificateId"] == device.certificate_id
        return aws_event(device.certificate_id, self.ca_id)

    def snapshot(self) -> Any:
        c = self.client
        certificates = {
            d["certificateId"]: (d["status"], self.attached(d["certificateId"]))
            for d in c.list_certificates(pageSize=250)["certificates"]
        }
        policies = {
            p["policyName"]: c.get_policy(policyName=p["policyName"])["policyDocument"]
            for p in c.list_policies()["policies"]
        }
        ca = c.describe_ca_certificate(certificateId=self.ca_id)["certificateDescription"]
        return certificates, policies, ca["status"]  # moto has no list_ca_certificates


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's mock of AWS, with AWS's certificate IDs; no real credentials are read."""
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws(config={"iot": {"use_valid_cert": True}}):
        yield


@pytest.fixture(params=["jitr", "moto"])
def backend(
    request: pytest.FixtureRequest, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate
) -> Backend:
    if request.param == "jitr":
        return JitrBackend(ca, proof)
    request.getfixturevalue("moto_env")
    return MotoBackend(ca, proof)


def activated(name: str, target: str) -> List[Dict[str, Any]]:
    return [
        {"action": "POLICY_CREATED", "policyName": name},
        {"action": "POLICY_ATTACHED", "policyName": name, "target": target},
        {"action": "ACTIVATED"},
    ]


# ---------------------------------------------------------------------------------------
# The handler's behaviour, against both clients


def test_clean_activation(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    device, listed = devices[0], devices[1]
    event = backend.pending(device)
    cid = device.certificate_id
    crl = make_crl(ca, [serial(listed)])  # a CRL that lists another device
    report = activate(event, backend.client, crl=crl, now=NOW)
    name = f"Policy_{cid}"
    assert report == {"certificateId": cid, "actions": activated(name, backend.arn(cid))}
    assert backend.status(cid) == "ACTIVE"
    assert backend.attached(cid) == [name]
    document = backend.policy_document(name)
    assert document is not None
    policy = json.loads(document)
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    assert resources == [
        f"arn:aws:iot:{REGION}:{ACCOUNT}:client/{cid}",
        f"arn:aws:iot:{REGION}:{ACCOUNT}:topic/foo/bar/{cid}/*",
        f"arn:aws:iot:{REGION}:{ACCOUNT}:topicfilter/foo/bar/{cid}/#",
    ]
    assert json.dumps(report)  # a Lambda can return it


def test_a_listed_serial_is_revoked_without_a_policy(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    device = devices[0]
    event = backend.pending(device)
    crl = jitr_iot.Crl.from_bytes(make_crl(ca, [12345, serial(device)], encoding=serialization.Encoding.DER))
    report = activate(event, backend.client, crl=crl, now=NOW)
    assert report == {"certificateId": device.certificate_id, "actions": [{"action": "REVOKED"}]}
    assert backend.view(device.certificate_id) == ("REVOKED", [], None)


def test_stale_crl_is_refused_by_default_and_accepted_with_accept(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    device = devices[0]
    event = backend.pending(device)
    stale = make_crl(ca, this_update=NOW - timedelta(days=60), next_update=NOW - timedelta(days=30))
    before = backend.snapshot()
    report = activate(event, backend.client, crl=stale, now=NOW)
    [skipped] = report["actions"]
    assert skipped["action"] == "SKIPPED" and skipped["reason"] == "CRL_STALE", report
    assert "nextUpdate" in skipped["message"]
    assert backend.snapshot() == before
    assert backend.status(device.certificate_id) == "PENDING_ACTIVATION"
    report = activate(event, backend.client, crl=stale, stale_crl="ACCEPT", now=NOW)
    assert report["actions"][-1] == {"action": "ACTIVATED"}
    assert backend.status(device.certificate_id) == "ACTIVE"


def test_a_crl_from_the_future_is_not_used(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    event = backend.pending(devices[0])
    future = make_crl(ca, this_update=NOW + timedelta(days=1), next_update=NOW + timedelta(days=30))
    before = backend.snapshot()
    for stale_crl in ["REFUSE", "ACCEPT"]:
        report = activate(event, backend.client, crl=future, stale_crl=stale_crl, now=NOW)
        assert [a.get("reason") for a in report["actions"]] == ["CRL_NOT_YET_VALID"]
    assert backend.snapshot() == before


def test_a_repeated_or_late_event_is_a_no_op(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    device, revoked = devices[0], devices[1]
    event = backend.pending(device)
    activate(event, backend.client, now=NOW)
    after_first = backend.snapshot()
    late = dict(event, timestamp=event["timestamp"] - 60_000)  # out of order
    repeats: List[Union[Dict[str, Any], str]] = [event, json.dumps(event), late]
    for again in repeats:
        report = activate(again, backend.client, now=NOW)
        assert report["actions"] == [
            {
                "action": "SKIPPED",
                "reason": "NOT_PENDING_ACTIVATION",
                "message": "the certificate is ACTIVE, not PENDING_ACTIVATION: the event is "
                "repeated or late, nothing to do",
            }
        ]
    assert backend.snapshot() == after_first
    # A revoked certificate stays revoked, whatever the CRL says now.
    event = backend.pending(revoked)
    activate(event, backend.client, crl=make_crl(ca, [serial(revoked)]), now=NOW)
    report = activate(event, backend.client, crl=make_crl(ca, []), now=NOW)
    assert report["actions"][0]["reason"] == "NOT_PENDING_ACTIVATION"
    assert "REVOKED" in report["actions"][0]["message"]
    assert backend.view(revoked.certificate_id) == ("REVOKED", [], None)


def test_an_existing_policy_is_reused_as_it_is(
    backend: Backend, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    device = devices[0]
    event = backend.pending(device)
    name = f"Policy_{device.certificate_id}"
    mine = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}'
    backend.client.create_policy(policyName=name, policyDocument=mine)
    report = activate(event, backend.client, now=NOW)
    assert report["actions"][0] == {"action": "POLICY_REUSED", "policyName": name}
    assert [a["action"] for a in report["actions"]] == ["POLICY_REUSED", "POLICY_ATTACHED", "ACTIVATED"]
    assert backend.view(device.certificate_id) == ("ACTIVE", [name], mine)


def test_a_template_fills_subject_fields_and_passes_aws_variables(
    backend: Backend, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    device = devices[3]  # CN=device-3
    event = backend.pending(device)
    template = jitr_iot.PolicyTemplate(
        "Device_{{subject.CommonName}}",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect",'
        '"Resource":"arn:{{partition}}:iot:{{region}}:{{accountId}}:client/${iot:ClientId}"}]}',
    )
    report = activate(event, backend.client, policy_template=template, now=NOW)
    assert report["actions"][0] == {"action": "POLICY_CREATED", "policyName": "Device_device-3"}
    document = backend.policy_document("Device_device-3")
    assert document is not None
    assert f"arn:aws:iot:{REGION}:{ACCOUNT}:client/${{iot:ClientId}}" in document
    assert backend.attached(device.certificate_id) == ["Device_device-3"]


def test_concurrent_handlers_make_one_policy_and_one_attachment(
    backend: Backend, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    """Eight threads handle the same event at once. Against jitr_iot.Registry (atomic
    operations, the GIL released), exactly one creates the policy, as in the Rust test.
    moto's create_policy is a check-then-insert without a lock, so two racing threads
    could in principle both see the policy missing; there the test checks the outcome
    (one policy, one attachment, ACTIVE, every handler created or reused it)."""
    device = devices[0]
    event = backend.pending(device)
    barrier = threading.Barrier(8)
    reports: List[Report] = []
    errors: List[BaseException] = []

    def handle() -> None:
        barrier.wait()
        try:
            reports.append(activate(event, backend.client, now=NOW))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=handle) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    actions = [a["action"] for r in reports for a in r["actions"]]
    created = actions.count("POLICY_CREATED")
    assert created + actions.count("POLICY_REUSED") + actions.count("SKIPPED") == 8
    assert created >= 1 and "ACTIVATED" in actions
    name = f"Policy_{device.certificate_id}"
    assert backend.attached(device.certificate_id) == [name]
    assert backend.status(device.certificate_id) == "ACTIVE"
    if isinstance(backend, JitrBackend):
        assert created == 1, reports
        d = backend.registry.describe_certificate(certificateId=device.certificate_id)
        assert d["certificateDescription"]["customerVersion"] == 2  # one change: ACTIVE
    else:
        assert list(backend.snapshot()[1]) == [name]  # one policy in the account


def test_setting_active_fails_after_attaching_then_the_policy_is_detached(
    backend: Backend, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    """The last step fails (here: the service throttles update_certificate): the handler
    detaches the policy it attached and re-raises, so no policy stays on a certificate
    that stays pending; the created policy remains, to be reused by the retry."""
    device = devices[0]
    event = backend.pending(device)
    spy = Spy(backend.client)

    class Throttled(Exception):
        response = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}

    def throttle(**_: Any) -> None:
        raise Throttled("Rate exceeded")

    spy.before["update_certificate"] = throttle
    with pytest.raises(Throttled):
        activate(event, spy, now=NOW)
    assert spy.calls == [
        "describe_certificate",
        "create_policy",
        "list_attached_policies",
        "attach_policy",
        "update_certificate",
        "detach_policy",
    ]
    name = f"Policy_{device.certificate_id}"
    assert backend.view(device.certificate_id)[:2] == ("PENDING_ACTIVATION", [])
    # The retry (Lambda retries a failed invocation) finishes the job.
    report = activate(event, backend.client, now=NOW)
    assert [a["action"] for a in report["actions"]] == ["POLICY_REUSED", "POLICY_ATTACHED", "ACTIVATED"]
    assert backend.view(device.certificate_id)[:2] == ("ACTIVE", [name])


class ServiceError(Exception):
    """Shaped like botocore's ClientError (``response["Error"]["Code"]``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code}}


@pytest.mark.parametrize(
    "step", ["describe_certificate", "describe_ca_certificate", "create_policy", "list_attached_policies", "attach_policy"]
)
def test_a_failing_step_propagates_and_leaves_no_attachment(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate], step: str
) -> None:
    """Any other error from the client (access denied, throttling, ...) propagates as it
    is, at the step that failed: the handler does not take it for "already exists" or "no
    such CA", and nothing after it runs."""
    device = devices[0]
    event = backend.pending(device)
    spy = Spy(backend.client)
    failure = ServiceError("AccessDeniedException")

    def fail(**_: Any) -> None:
        raise failure

    spy.before[step] = fail
    with pytest.raises(ServiceError) as e:
        activate(event, spy, crl=make_crl(ca), now=NOW)
    assert e.value is failure
    assert spy.calls[-1] == step
    assert backend.status(device.certificate_id) == "PENDING_ACTIVATION"
    assert backend.attached(device.certificate_id) == []


def test_a_policy_attached_before_is_not_detached_on_failure(
    backend: Backend, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    device = devices[0]
    event = backend.pending(device)
    name = f"Policy_{device.certificate_id}"
    backend.client.create_policy(policyName=name, policyDocument='{"Version":"2012-10-17","Statement":[]}')
    backend.client.attach_policy(policyName=name, target=backend.arn(device.certificate_id))
    spy = Spy(backend.client)

    def fail(**_: Any) -> None:
        raise RuntimeError("network down")

    spy.before["update_certificate"] = fail
    with pytest.raises(RuntimeError):
        activate(event, spy, now=NOW)
    assert "detach_policy" not in spy.calls
    assert backend.attached(device.certificate_id) == [name]


def test_a_revocation_racing_the_activation_rolls_the_attachment_back(
    ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    """jitr_iot.Registry refuses REVOKED → ACTIVE (docs/behaviour.md §5): if an operator revokes the
    certificate while the handler runs, setting ACTIVE fails and the handler detaches the
    policy it attached."""
    backend = JitrBackend(ca, proof)
    device = devices[0]
    event = backend.pending(device)
    spy = Spy(backend.registry)

    def operator_revokes(**_: Any) -> None:
        backend.registry.update_certificate(certificateId=device.certificate_id, newStatus="REVOKED")

    spy.after["attach_policy"] = operator_revokes
    with pytest.raises(jitr_iot.CertificateStateException):
        activate(event, spy, now=NOW)
    assert spy.calls[-2:] == ["update_certificate", "detach_policy"]
    assert backend.attached(device.certificate_id) == []
    assert backend.status(device.certificate_id) == "REVOKED"


# ---------------------------------------------------------------------------------------
# Bad input: a typed error or a recorded skip, never a partial change

CID = "ab" * 32


def malformed_events(event: Dict[str, Any]) -> List[Tuple[str, Any, Type[BaseException]]]:
    """(what, event, expected exception) from a good event."""
    out: List[Tuple[str, Any, Type[BaseException]]] = []
    for field in event:
        out.append((f"missing {field}", {k: v for k, v in event.items() if k != field}, jitr_iot.InvalidRequestException))
    out += [
        ("empty", {}, jitr_iot.InvalidRequestException),
        ("not JSON", "not json", jitr_iot.InvalidRequestException),
        ("JSON not an object", "[1, 2]", jitr_iot.InvalidRequestException),
        ("unknown field", dict(event, extra=1), jitr_iot.InvalidRequestException),
        ("timestamp a string", dict(event, timestamp=str(event["timestamp"])), jitr_iot.InvalidRequestException),
        ("registration timestamp a number", dict(event, certificateRegistrationTimestamp=1), jitr_iot.InvalidRequestException),
        ("registration timestamp not digits", dict(event, certificateRegistrationTimestamp="soon"), jitr_iot.InvalidRequestException),
        ("certificateId a number", dict(event, certificateId=12), jitr_iot.InvalidRequestException),
        ("certificateId 63 hex", dict(event, certificateId=event["certificateId"][:63]), jitr_iot.InvalidRequestException),
        ("certificateId 65 hex", dict(event, certificateId=event["certificateId"] + "a"), jitr_iot.InvalidRequestException),
        ("certificateId not hex", dict(event, certificateId="zz" * 32), jitr_iot.InvalidRequestException),
        ("caCertificateId not hex", dict(event, caCertificateId="g" * 64), jitr_iot.InvalidRequestException),
        ("status unknown", dict(event, certificateStatus="PENDING"), jitr_iot.InvalidRequestException),
        ("a list", [event], TypeError),
        ("None", None, TypeError),
        ("bytes", json.dumps(event).encode(), TypeError),
        ("a value that is not JSON", dict(event, awsAccountId=b"123456789012"), TypeError),
    ]
    return out


def test_malformed_events_raise_before_any_call(
    backend: Backend, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    event = backend.pending(devices[0])
    before = backend.snapshot()
    cases = malformed_events(event)
    assert len(cases) > 20
    for what, bad, expected in cases:
        spy = Spy(backend.client)
        with pytest.raises(expected) as e:
            activate(bad, spy, now=NOW)
        assert str(e.value), what
        assert spy.calls == [], what
    assert backend.snapshot() == before
    # IDs are accepted in any case (docs/behaviour.md §1) and reported in lowercase.
    upper = dict(event, certificateId=event["certificateId"].upper())
    assert activate(upper, backend.client, now=NOW)["certificateId"] == event["certificateId"]


def test_an_unknown_certificate_is_resource_not_found(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    backend.pending(devices[0])
    before = backend.snapshot()
    never_connected = devices[9]
    with pytest.raises(Exception) as e:
        activate(aws_event(never_connected.certificate_id, backend.ca_id), backend.client, crl=make_crl(ca), now=NOW)
    assert error_code(e.value) == "ResourceNotFoundException"
    if isinstance(backend, JitrBackend):
        assert isinstance(e.value, jitr_iot.ResourceNotFoundException)
    assert backend.snapshot() == before


def test_unusable_crls_are_recorded_skips(
    backend: Backend,
    ca: jitr_iot.GeneratedCertificate,
    other_ca: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    device = devices[0]
    event = backend.pending(device)
    listed = [serial(device)]  # were any of them used, the device would be revoked
    cases = {
        "CRL_BAD_SIGNATURE": make_crl(other_ca, listed, issuer=ca),  # CA's name, another key
        "CRL_WRONG_ISSUER": make_crl(other_ca, listed),  # another CA's CRL
        "CRL_STALE": make_crl(  # expired
            ca, listed, this_update=NOW - timedelta(days=9), next_update=NOW - timedelta(seconds=1)
        ),
    }
    before = backend.snapshot()
    for reason, crl in cases.items():
        report = activate(event, backend.client, crl=crl, now=NOW)
        assert report == {
            "certificateId": device.certificate_id,
            "actions": [{"action": "SKIPPED", "reason": reason, "message": report["actions"][0]["message"]}],
        }
        assert report["actions"][0]["message"].startswith("not activated: the CRL")
    assert backend.snapshot() == before


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"junk",
        b"\x30\x00",
        b"-----BEGIN X509 CRL-----\n!!!!\n-----END X509 CRL-----\n",
        "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        "not a crl",
    ],
)
def test_a_garbage_crl_is_invalid_request_before_any_call(backend: Backend, devices: List[jitr_iot.GeneratedCertificate], garbage: Any) -> None:
    event = backend.pending(devices[0])
    before = backend.snapshot()
    spy = Spy(backend.client)
    with pytest.raises(jitr_iot.InvalidRequestException):
        activate(event, spy, crl=garbage, now=NOW)
    # A certificate where a CRL belongs is refused as well.
    with pytest.raises(jitr_iot.InvalidRequestException, match="X509 CRL"):
        activate(event, spy, crl=devices[0].certificate_pem, now=NOW)
    assert spy.calls == []
    assert backend.snapshot() == before


def test_template_errors(backend: Backend, devices: List[jitr_iot.GeneratedCertificate]) -> None:
    # An unknown placeholder: refused when the template is made, before any event.
    for name, document in [
        ("P_{{nope}}", "{}"),
        ("P", '{"Resource": "{{subject.Nickname}}"}'),
        ("P_{{certificateId", "{}"),
    ]:
        with pytest.raises(jitr_iot.InvalidRequestException):
            jitr_iot.PolicyTemplate(name, document)
    # A field this certificate lacks: refused when the handler runs, naming the field.
    event = backend.pending(devices[0])
    before = backend.snapshot()
    template = jitr_iot.PolicyTemplate(
        "Org_{{subject.Organization}}",
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}',
    )
    with pytest.raises(jitr_iot.InvalidRequestException, match=r"Organization \(O\)"):
        activate(event, backend.client, policy_template=template, now=NOW)
    # A rendered document that is not a valid policy (not JSON) is refused too.
    with pytest.raises((jitr_iot.InvalidRequestException, jitr_iot.MalformedPolicyException)):
        activate(event, backend.client, policy_template=jitr_iot.PolicyTemplate("P_{{certificateId}}", "{{{certificateId}}"), now=NOW)
    assert backend.snapshot() == before
    assert backend.status(devices[0].certificate_id) == "PENDING_ACTIVATION"


def test_other_bad_arguments(
    backend: Backend, ca: jitr_iot.GeneratedCertificate, other_ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    event = backend.pending(devices[0])
    before = backend.snapshot()
    with pytest.raises(ValueError, match="stale_crl"):
        activate(event, backend.client, stale_crl="LENIENT", now=NOW)
    with pytest.raises(ValueError, match="require_crl"):
        activate(event, backend.client, require_crl="never", now=NOW)
    with pytest.raises(TypeError):
        activate(event, backend.client, crl=12345, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        activate(event, backend.client, policy_template="Policy_{{certificateId}}", now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        activate(event, backend.client, now=datetime(2026, 6, 1))
    assert backend.snapshot() == before
    # The event names a CA the account does not have: its CRL cannot be checked against
    # it (DescribeCACertificate: ResourceNotFoundException), so the certificate stays
    # pending (a CRL was given: fail closed). Before the core's machine, this raised
    # InvalidRequestException (the Python copy of the handler differed from the Rust one).
    unknown_ca = dict(event, caCertificateId=other_ca.certificate_id)
    report = activate(unknown_ca, backend.client, crl=make_crl(other_ca, [serial(devices[0])]), now=NOW)
    [skipped] = report["actions"]
    assert (skipped["action"], skipped["reason"]) == ("SKIPPED", "CRL_CA_NOT_FOUND")
    assert other_ca.certificate_id in skipped["message"]
    assert backend.snapshot() == before


# ---------------------------------------------------------------------------------------
# The same scenarios on both clients give the same reports and the same end state


def scenarios(
    ca: jitr_iot.GeneratedCertificate, other_ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> List[Tuple[jitr_iot.GeneratedCertificate, Dict[str, Any]]]:
    d = devices
    stale = make_crl(ca, [serial(d[2])], this_update=NOW - timedelta(days=60), next_update=NOW - timedelta(days=1))
    org = jitr_iot.PolicyTemplate("Org_{{subject.Organization}}", '{"Version":"2012-10-17","Statement":[]}')
    return [
        (d[0], {"crl": make_crl(ca, [serial(d[1])])}),
        (d[1], {"crl": make_crl(ca, [serial(d[1])])}),
        (d[2], {"crl": stale}),
        (d[2], {"crl": stale, "stale_crl": "ACCEPT"}),  # now listed: revoked
        (d[3], {"crl": make_crl(other_ca, [serial(d[3])])}),
        (d[4], {"crl": make_crl(other_ca, [serial(d[4])], issuer=ca)}),
        (d[5], {"policy_template": org}),
        (d[6], {}),
        (d[6], {}),
        (d[0], {}),
    ]


def run_scenarios(
    backend: Backend, cases: List[Tuple[jitr_iot.GeneratedCertificate, Dict[str, Any]]]
) -> Tuple[List[Any], Dict[str, Any]]:
    events: Dict[str, Dict[str, Any]] = {}
    outcomes: List[Any] = []
    for device, kwargs in cases:
        if device.certificate_id not in events:
            events[device.certificate_id] = backend.pending(device)
        try:
            outcomes.append(activate(events[device.certificate_id], backend.client, now=NOW, **kwargs))
        except Exception as e:
            outcomes.append(("error", error_code(e), str(e)))
    return outcomes, {cid: backend.view(cid) for cid in events}


def test_jitr_registry_and_moto_agree(
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    other_ca: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
    moto_env: None,
) -> None:
    cases = scenarios(ca, other_ca, devices)
    on_jitr = run_scenarios(JitrBackend(ca, proof), cases)
    on_moto = run_scenarios(MotoBackend(ca, proof), cases)
    assert on_jitr == on_moto
    reports, views = on_jitr
    kinds = [
        r[0] if isinstance(r, tuple) else [a.get("reason", a["action"]) for a in r["actions"]]
        for r in reports
    ]
    assert kinds == [
        ["POLICY_CREATED", "POLICY_ATTACHED", "ACTIVATED"],
        ["REVOKED"],
        ["CRL_STALE"],
        ["REVOKED"],
        ["CRL_WRONG_ISSUER"],
        ["CRL_BAD_SIGNATURE"],
        "error",
        ["POLICY_CREATED", "POLICY_ATTACHED", "ACTIVATED"],
        ["NOT_PENDING_ACTIVATION"],
        ["NOT_PENDING_ACTIVATION"],
    ]
    assert [v[0] for v in views.values()] == [
        "ACTIVE", "REVOKED", "REVOKED", "PENDING_ACTIVATION", "PENDING_ACTIVATION", "PENDING_ACTIVATION", "ACTIVE"
    ]


# ---------------------------------------------------------------------------------------
# lambda_handler


@pytest.fixture
def lambda_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """lambda_handler's module settings back to their defaults after each test."""
    monkeypatch.setattr(jitr_iot.handler, "iot_client", None)
    monkeypatch.setattr(jitr_iot.handler, "crl_source", None)
    monkeypatch.setattr(jitr_iot.handler, "policy_template", None)
    monkeypatch.delenv("JITR_CRL_PATH", raising=False)
    monkeypatch.delenv("JITR_STALE_CRL", raising=False)
    monkeypatch.delenv("JITR_REQUIRE_CRL", raising=False)


@pytest.fixture
def jitr_lambda(
    lambda_config: None,
    monkeypatch: pytest.MonkeyPatch,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
) -> JitrBackend:
    """lambda_handler with its defaults, its module's client a jitr registry with the CA."""
    backend = JitrBackend(ca, proof)
    monkeypatch.setattr(jitr_iot.handler, "iot_client", backend.registry)
    return backend


def real_time_crl(ca: jitr_iot.GeneratedCertificate, revoked: Sequence[int] = (), *, stale: bool = False) -> bytes:
    """lambda_handler reads the clock: a CRL current now (or one that expired yesterday)."""
    now = datetime.now(timezone.utc)
    if stale:
        return make_crl(ca, revoked, this_update=now - timedelta(days=30), next_update=now - timedelta(days=1))
    return make_crl(ca, revoked, this_update=now - timedelta(days=1), next_update=now + timedelta(days=7))


def test_lambda_handler_with_boto3_and_a_crl_file(
    lambda_config: None,
    moto_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    backend = MotoBackend(ca, proof)  # the CA and devices registered with moto's boto3
    good, bad = devices[0], devices[1]
    crl_file = tmp_path / "fleet.crl"
    crl_file.write_bytes(real_time_crl(ca, [serial(bad)]))
    monkeypatch.setenv("JITR_CRL_PATH", str(crl_file))
    report = jitr_iot.handler.lambda_handler(backend.pending(bad), None)
    assert report["actions"] == [{"action": "REVOKED"}]
    assert jitr_iot.handler.iot_client is not None  # boto3.client("iot"), kept for next time
    report = jitr_iot.handler.lambda_handler(backend.pending(good), None)
    assert [a["action"] for a in report["actions"]] == ["POLICY_CREATED", "POLICY_ATTACHED", "ACTIVATED"]
    assert backend.view(bad.certificate_id) == ("REVOKED", [], None)
    assert backend.view(good.certificate_id)[:2] == ("ACTIVE", [f"Policy_{good.certificate_id}"])
    # The file is read per event: a new CRL takes effect without a restart.
    late = devices[2]
    crl_file.write_bytes(real_time_crl(ca, [serial(late)], stale=True))
    event = backend.pending(late)
    report = jitr_iot.handler.lambda_handler(event, None)
    assert report["actions"][0]["reason"] == "CRL_STALE"
    monkeypatch.setenv("JITR_STALE_CRL", "ACCEPT")
    assert jitr_iot.handler.lambda_handler(event, None)["actions"] == [{"action": "REVOKED"}]
    # A missing file is a configuration error: the invocation fails, nothing changes.
    monkeypatch.setenv("JITR_CRL_PATH", str(tmp_path / "missing.crl"))
    before = backend.snapshot()
    with pytest.raises(FileNotFoundError):
        jitr_iot.handler.lambda_handler(backend.pending(devices[3]), None)
    assert backend.snapshot()[1:] == before[1:]  # no policy, no CA change
    assert backend.view(devices[3].certificate_id) == ("PENDING_ACTIVATION", [], None)


def test_lambda_handler_with_a_crl_directory(
    jitr_lambda: JitrBackend,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ca: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    backend = jitr_lambda
    monkeypatch.setenv("JITR_CRL_PATH", str(tmp_path))
    # No <caId>.crl in the directory: this CA has no CRL.
    report = jitr_iot.handler.lambda_handler(backend.pending(devices[0]), None)
    assert report["actions"][-1] == {"action": "ACTIVATED"}
    (tmp_path / f"{backend.ca_id}.crl").write_bytes(
        x509.load_pem_x509_crl(real_time_crl(ca, [serial(devices[1])])).public_bytes(serialization.Encoding.DER)
    )
    report = jitr_iot.handler.lambda_handler(backend.pending(devices[1]), None)
    assert report["actions"] == [{"action": "REVOKED"}]
    assert "boto3" not in type(jitr_iot.handler.iot_client).__module__
    # JITR_REQUIRE_CRL: ALWAYS leaves a CA without a file pending; by default a stale
    # file fails closed, and NEVER activates without the check, saying so.
    (tmp_path / f"{backend.ca_id}.crl").unlink()
    monkeypatch.setenv("JITR_REQUIRE_CRL", "ALWAYS")
    event = backend.pending(devices[2])
    assert [a.get("reason") for a in jitr_iot.handler.lambda_handler(event, None)["actions"]] == ["CRL_NOT_CONFIGURED"]
    (tmp_path / f"{backend.ca_id}.crl").write_bytes(real_time_crl(ca, stale=True))
    monkeypatch.delenv("JITR_REQUIRE_CRL")
    assert [a.get("reason") for a in jitr_iot.handler.lambda_handler(event, None)["actions"]] == ["CRL_STALE"]
    monkeypatch.setenv("JITR_REQUIRE_CRL", "NEVER")
    report = jitr_iot.handler.lambda_handler(event, None)
    assert [a.get("reason", a["action"]) for a in report["actions"]] == [
        "CRL_STALE", "POLICY_CREATED", "POLICY_ATTACHED", "ACTIVATED"
    ]
    assert report["actions"][0]["action"] == "CRL_NOT_CHECKED"
    assert backend.status(devices[2].certificate_id) == "ACTIVE"


def test_lambda_handler_with_a_crl_source_and_a_template(
    jitr_lambda: JitrBackend,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    ca: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    backend = jitr_lambda
    monkeypatch.setenv("JITR_CRL_PATH", str(tmp_path / "ignored: the source wins"))
    asked: List[str] = []
    crl = jitr_iot.Crl.from_bytes(real_time_crl(ca, [serial(devices[1])]))

    def source(ca_certificate_id: str) -> Optional[jitr_iot.handler.CrlLike]:
        asked.append(ca_certificate_id)
        return crl

    monkeypatch.setattr(jitr_iot.handler, "crl_source", source)
    monkeypatch.setattr(
        jitr_iot.handler,
        "policy_template",
        jitr_iot.PolicyTemplate("Fleet_{{subject.CommonName}}", '{"Version":"2012-10-17","Statement":[]}'),
    )
    assert jitr_iot.handler.lambda_handler(backend.pending(devices[1]), None)["actions"] == [{"action": "REVOKED"}]
    report = jitr_iot.handler.lambda_handler(json.loads(json.dumps(backend.pending(devices[0]))), None)
    assert report["actions"][0] == {"action": "POLICY_CREATED", "policyName": "Fleet_device-0"}
    assert asked == [backend.ca_id, backend.ca_id]
    # A malformed event fails the invocation before any call.
    with pytest.raises(jitr_iot.InvalidRequestException):
        jitr_iot.handler.lambda_handler({"certificateId": CID}, None)
    assert len(asked) == 2


def test_importing_the_handler_does_not_import_boto3() -> None:
    code = "import sys, jitr_iot, jitr_iot.handler; print('boto3' in sys.modules, 'botocore.session' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------------------------------
# The binding: Crl, PolicyTemplate, Activation


def test_crl_parses_pem_der_and_answers_lookups(ca: jitr_iot.GeneratedCertificate, other_ca: jitr_iot.GeneratedCertificate) -> None:
    this_update = NOW - timedelta(hours=5)
    next_update = NOW + timedelta(days=3)
    serials = [1, 0x80, 0x0102, 2**100 + 7]
    pem = make_crl(ca, serials, this_update=this_update, next_update=next_update)
    der = x509.load_pem_x509_crl(pem).public_bytes(serialization.Encoding.DER)
    encodings: List[Union[bytes, bytearray, str]] = [pem, pem.decode(), der, bytearray(der)]
    for data in encodings:
        crl = jitr_iot.Crl.from_bytes(data)
        assert len(crl) == 4
        assert crl.this_update == this_update and crl.next_update == next_update
        assert crl.issuer == "CN=Test Fleet CA"
        for s in serials:
            raw = s.to_bytes((s.bit_length() + 7) // 8, "big")
            assert crl.is_revoked(s) and crl.is_revoked(raw) and crl.is_revoked(format(s, "x"))
            assert crl.is_revoked(b"\x00" + raw)  # DER's leading zero is not significant
        assert crl.is_revoked("0x102") and crl.is_revoked("01:02") and crl.is_revoked("80")
        unlisted: List[Union[int, str, bytes]] = [2, "0103", b"\x01\x03", 0x81]
        assert not any(crl.is_revoked(x) for x in unlisted)
        assert "Crl(issuer='CN=Test Fleet CA', revoked=4)" == repr(crl)
    crl.verify_issued_by(ca.certificate_pem)
    crl.verify_issued_by(ca.certificate)
    with pytest.raises(jitr_iot.CrlError) as e:
        crl.verify_issued_by(other_ca.certificate_pem)
    assert e.value.code == "CRL_WRONG_ISSUER" and "Unregistered CA" in e.value.message
    impostor = jitr_iot.Crl.from_bytes(make_crl(other_ca, issuer=ca))
    with pytest.raises(jitr_iot.CrlError) as e:
        impostor.verify_issued_by(ca.certificate)
    assert e.value.code == "CRL_BAD_SIGNATURE" and isinstance(e.value, ValueError)
    assert jitr_iot.Crl.from_bytes(make_crl(ca)).is_revoked(1) is False
    with pytest.raises(jitr_iot.CertificateValidationException):
        crl.verify_issued_by("not a certificate")


def test_crl_bad_arguments(ca: jitr_iot.GeneratedCertificate) -> None:
    crl = jitr_iot.Crl.from_bytes(make_crl(ca, [5]))
    for bad_type in [None, 5.0, ["05"], True]:
        with pytest.raises(TypeError):
            crl.is_revoked(bad_type)  # type: ignore[arg-type]
    bad_values: List[Union[int, str]] = [-1, "", "0x", "zz", "5 ", "0x-5"]
    for bad_value in bad_values:
        with pytest.raises(ValueError):
            crl.is_revoked(bad_value)
    for bad in [None, 5, ["x"]]:
        with pytest.raises(TypeError):
            jitr_iot.Crl.from_bytes(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            crl.verify_issued_by(bad)  # type: ignore[arg-type]


def test_the_real_amazon_crl() -> None:
    """A real CRL with 14,102 entries (from rustls-webpki's tests), against its CA and
    another Amazon CA."""
    corpus = ROOT.parent / "shared" / "corpora" / "rustls-webpki-tests" / "amazon"
    if not corpus.is_dir():
        pytest.skip(f"corpus not found at {corpus}")
    crl = jitr_iot.Crl.from_bytes((corpus / "r2m02.crl").read_bytes())
    assert len(crl) == 14_102
    reference = x509.load_der_x509_crl((corpus / "r2m02.crl").read_bytes())
    listed = [r.serial_number for r in reference]
    assert len(listed) == 14_102 and all(crl.is_revoked(s) for s in listed[::97])
    assert not crl.is_revoked(0x123456)
    assert crl.next_update == reference.next_update_utc
    crl.verify_issued_by(jitr_iot.Certificate.from_der((corpus / "r2m02.cer").read_bytes()))
    with pytest.raises(jitr_iot.CrlError, match="not by the CA"):
        crl.verify_issued_by(jitr_iot.Certificate.from_der((corpus / "e2m01.cer").read_bytes()))


def test_policy_template() -> None:
    sample = jitr_iot.PolicyTemplate.aws_sample()
    assert sample.name == "Policy_{{certificateId}}"
    assert json.loads(sample.document.replace("{{", "").replace("}}", ""))["Version"] == "2012-10-17"
    same = jitr_iot.PolicyTemplate(sample.name, sample.document)
    assert same == sample and hash(same) == hash(sample) and same != jitr_iot.PolicyTemplate("P", "{}")
    assert repr(jitr_iot.PolicyTemplate("P", "{}")) == "PolicyTemplate('P', '{}')"
    with pytest.raises(jitr_iot.InvalidRequestException, match=r"\{\{nope\}\}"):
        jitr_iot.PolicyTemplate("P", '{"x": "{{nope}}"}')


def test_the_machine_binding_names_calls_and_reads_replies(
    ca: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    """``jitr_iot.handler.Activation`` driven by hand: the binding converts, the core decides."""
    device = devices[0]
    event = aws_event(device.certificate_id, ca.certificate_id)
    arn = f"arn:aws:iot:{REGION}:{ACCOUNT}:cert/{device.certificate_id}"
    run = Activation(json.dumps(event), crl=make_crl(ca, [1]), now=NOW)
    assert run.certificate_id == device.certificate_id
    call = run.next_call()
    assert call is not None
    assert (call.operation, call.aws_operation, call.params) == (
        "describe_certificate", "DescribeCertificate", {"certificateId": device.certificate_id}
    )
    assert repr(call) == f"Call('describe_certificate', {{'certificateId': '{device.certificate_id}'}})"
    with pytest.raises(RuntimeError, match="not ended"):
        run.report()
    # A boto3-shaped output, with values that are not JSON (datetimes, objects) around
    # the fields the core reads.
    run.succeeded({
        "certificateDescription": {
            "certificatePem": device.certificate_pem, "status": "PENDING_ACTIVATION",
            "certificateArn": arn, "creationDate": NOW, "validity": {"notBefore": NOW},
            "extra": object(), 7: "a key that is not a str",
        },
        "ResponseMetadata": {"HTTPStatusCode": 200},
    })
    call = run.next_call()
    assert call is not None and call.params == {"certificateId": ca.certificate_id}
    run.succeeded({"certificateDescription": {"certificatePem": ca.certificate_pem}})
    call = run.next_call()
    assert call is not None and call.operation == "create_policy"
    assert f"arn:aws:iot:{REGION}:{ACCOUNT}:client/{device.certificate_id}" in call.params["policyDocument"]

    class Exists(Exception):
        response = {"Error": {"Code": "ResourceAlreadyExistsException", "Message": "it exists"}}

    run.failed(Exists())
    assert run.actions == [{"action": "POLICY_REUSED", "policyName": f"Policy_{device.certificate_id}"}]
    run.succeeded({"policies": [], "nextMarker": None})
    run.succeeded(None)  # attach_policy: the output is not read
    call = run.next_call()
    assert call is not None and call.params == {"certificateId": device.certificate_id, "newStatus": "ACTIVE"}
    run.failed(RuntimeError("network down"))  # no AWS code: the run fails, after the rollback
    call = run.next_call()
    assert call is not None and call.operation == "detach_policy"
    run.succeeded({})
    assert run.next_call() is None
    assert run.failed_operation == "update_certificate"
    assert [a["action"] for a in run.actions] == ["POLICY_REUSED", "POLICY_ATTACHED", "POLICY_DETACHED"]
    with pytest.raises(RuntimeError, match="UpdateCertificate failed: network down"):
        run.report()
    with pytest.raises(jitr_iot.InvalidRequestException, match="ended"):
        run.succeeded({})
    # The core refuses a description of another certificate: report() raises it.
    run = Activation(event, now=NOW)
    run.succeeded({"certificateDescription": {
        "certificatePem": devices[1].certificate_pem, "status": "PENDING_ACTIVATION", "certificateArn": arn}})
    assert run.next_call() is None and run.failed_operation is None
    with pytest.raises(jitr_iot.InvalidRequestException, match="not the event's"):
        run.report()
    # Bad arguments.
    bad: List[Tuple[Dict[str, Any], Type[BaseException]]] = [
        ({"crl": 5}, TypeError),
        ({"crl": b"junk"}, jitr_iot.InvalidRequestException),
        ({"stale_crl": "refuse"}, ValueError),
        ({"require_crl": "SOMETIMES"}, ValueError),
        ({"template": "P"}, TypeError),
    ]
    for kwargs, error in bad:
        with pytest.raises(error):
            Activation(event, **kwargs)
    assert jitr_iot.parse_registration_event(json.dumps(event)) == event


# ---------------------------------------------------------------------------------------
# The scenario table the Rust driver runs too

SCENARIOS: List[Dict[str, Any]] = json.loads(
    (ROOT / "jitr-core" / "tests" / "data" / "handler_scenarios.json").read_text()
)["scenarios"]
POINTS = {"p1": "http://crl.example.com/fleet-1.crl", "p2": "http://crl.example.com/fleet-2.crl"}
CRL_TIMES = {
    "current": (datetime(2026, 5, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc)),
    "stale": (datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc)),
    "future": (datetime(2027, 1, 1, tzinfo=timezone.utc), datetime(2027, 2, 1, tzinfo=timezone.utc)),
}
SERIAL = 0x51


@pytest.fixture(scope="module")
def no_crl_sign_ca() -> Tuple[Made, Made]:
    """A CA whose key usage is keyCertSign and digitalSignature only (no cRLSign), and its
    proof of possession."""
    ca = make_certificate("Fleet CA", ca=True, key_usage=["key_cert_sign", "digital_signature"])
    return ca, make_certificate(CODE, ca)


def run_shared_scenario(
    s: Dict[str, Any],
    backend: Backend,
    registered: CertLike,
    other_ca: jitr_iot.GeneratedCertificate,
) -> Dict[str, Any]:
    device = make_certificate(
        "device-1",
        registered,
        serial_number=SERIAL,
        distribution_points=[POINTS[s["device_distribution_point"]]] if "device_distribution_point" in s else [],
    )
    event = backend.pending(device)
    if s.get("event_ca") == "unregistered":
        event = dict(event, caCertificateId=other_ca.certificate_id)
    kwargs: Dict[str, Any] = {k: s[k] for k in ["stale_crl", "require_crl"] if k in s}
    crl = s.get("crl")
    if crl:
        signer: CertLike = registered if crl["signer"] == "ca" else other_ca
        this_update, next_update = CRL_TIMES[crl.get("time", "current")]
        kwargs["crl"] = make_crl(
            signer,
            [SERIAL if crl.get("lists_device") else 0x99],
            this_update=this_update,
            next_update=next_update,
            issuer=registered if crl["signer"] == "impostor" else None,
            distribution_point=POINTS[crl["distribution_point"]] if "distribution_point" in crl else None,
        )
    if s.get("template") == "organization":
        kwargs["policy_template"] = jitr_iot.PolicyTemplate(
            "Org_{{subject.Organization}}", '{"Version":"2012-10-17","Statement":[]}'
        )
    name, arn = f"Policy_{device.certificate_id}", backend.arn(device.certificate_id)
    before = s.get("before")
    if before in ("policy_exists", "policy_attached"):
        doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}'
        backend.client.create_policy(policyName=name, policyDocument=doc)
        if before == "policy_attached":
            backend.client.attach_policy(policyName=name, target=arn)
    elif before == "activated":
        activate(event, backend.client, now=NOW)
    client = Spy(backend.client)
    if "fail" in s:
        failure = ServiceError(s["fail"]["code"])

        def fail(**_: Any) -> None:
            raise failure

        client.before[s["fail"]["operation"]] = fail
    out: Dict[str, Any] = {}
    try:
        report = activate(event, client, now=NOW, **kwargs)
        out["actions"] = [f"{a['action']}:{a['reason']}" if "reason" in a else a["action"] for a in report["actions"]]
    except Exception as e:
        out["error"] = error_code(e)
    out["status"] = backend.status(device.certificate_id)
    out["attached"] = len(backend.attached(device.certificate_id))
    return out


def test_the_shared_scenarios_through_the_python_driver(
    backend: Backend,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    other_ca: jitr_iot.GeneratedCertificate,
    no_crl_sign_ca: Tuple[Made, Made],
) -> None:
    """The same scenarios, the same action codes and end states as the Rust ``Handler``
    (``jitr-core/tests/handler_scenarios.rs``), on jitr_iot.Registry and on moto."""
    assert len(SCENARIOS) >= 20
    failures = []
    for s in SCENARIOS:
        registered: Tuple[CertLike, CertLike] = no_crl_sign_ca if s.get("ca") == "no_crl_sign" else (ca, proof)
        # A fresh account per scenario.
        fresh = JitrBackend(*registered) if isinstance(backend, JitrBackend) else MotoBackend(*registered)
        got = run_shared_scenario(s, fresh, registered[0], other_ca)
        if got != s["expect"]:
            failures.append(f"{s['name']}: got {got}, expected {s['expect']}")
    assert not failures, "\n".join(failures)


def test_the_machines_docstring_example_runs() -> None:
    """test_docs runs the package's documented examples; the machine's lives in jitr_iot.handler."""
    import doctest

    doc = Activation.__doc__ or ""
    assert ">>>" in doc
    test = doctest.DocTestParser().get_doctest(doc, {}, "jitr_iot.handler.Activation", None, 0)
    result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test)
    assert result.failed == 0 and result.attempted >= 3
