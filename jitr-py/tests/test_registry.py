"""Every boto3 method of jitr_iot.Registry, with boto3's response shapes (the key sets of the
botocore ``iot`` 2015-05-28 output shapes), datetimes and paging."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, List

import pytest

import jitr_iot
from conftest import CODE, NOW, body, later, register_ca

# Output shapes of the AWS API model (boto3 omits members that have no value).
CA_DESCRIPTION_KEYS = {
    "certificateArn", "certificateId", "status", "certificatePem", "ownedBy", "creationDate",
    "autoRegistrationStatus", "lastModifiedDate", "customerVersion", "generationId",
    "validity", "certificateMode",
}
CERT_DESCRIPTION_KEYS = {
    "certificateArn", "certificateId", "caCertificateId", "status", "certificatePem",
    "ownedBy", "creationDate", "lastModifiedDate", "customerVersion", "generationId",
    "validity", "certificateMode",
}  # previousOwnedBy and transferData only after a transfer
CA_SUMMARY_KEYS = {"certificateArn", "certificateId", "status", "creationDate"}
CERT_SUMMARY_KEYS = {"certificateArn", "certificateId", "status", "certificateMode", "creationDate"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACCOUNT = "123456789012"
DOCUMENT = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}'


def utc(d: Any) -> datetime:
    assert isinstance(d, datetime)
    assert d.tzinfo is not None and d.utcoffset() == timedelta(0)
    return d


def test_constructor_and_properties() -> None:
    r = jitr_iot.Registry()
    assert (r.account_id, r.region, r.partition) == (ACCOUNT, "us-east-1", "aws")
    r = jitr_iot.Registry("210987654321", "eu-central-1", "aws-cn")
    assert (r.account_id, r.region, r.partition) == ("210987654321", "eu-central-1", "aws-cn")
    assert repr(r) == "Registry(account_id='210987654321', region='eu-central-1', partition='aws-cn')"
    for bad in [dict(account_id="1234"), dict(region="US_EAST"), dict(partition="azure")]:
        with pytest.raises(jitr_iot.InvalidRequestException):
            jitr_iot.Registry(**bad)  # type: ignore[arg-type]


def test_registration_code(registry: jitr_iot.Registry) -> None:
    first = body(registry.get_registration_code())
    assert first == {"registrationCode": CODE}
    assert body(registry.get_registration_code()) == first
    assert body(registry.delete_registration_code()) == {}
    fresh = registry.get_registration_code()["registrationCode"]
    assert re.fullmatch("[0-9a-f]{64}", fresh) and fresh != CODE
    assert registry.get_registration_code()["registrationCode"] == fresh
    minted = jitr_iot.Registry().get_registration_code()["registrationCode"]
    assert re.fullmatch("[0-9a-f]{64}", minted)
    # A fixed code is lowercased, as every ID jitr returns.
    upper = jitr_iot.Registry(registration_code=CODE.upper())
    assert upper.get_registration_code()["registrationCode"] == CODE


def test_register_and_describe_ca(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate
) -> None:
    at = NOW + timedelta(milliseconds=123)
    response = body(
        registry.register_ca_certificate(
            caCertificate=ca.certificate_pem,
            verificationCertificate=proof.certificate_pem,
            now=at,
        )
    )
    ca_id = ca.certificate_id
    assert response == {
        "certificateArn": f"arn:aws:iot:us-east-1:{ACCOUNT}:cacert/{ca_id}",
        "certificateId": ca_id,
    }
    d = body(registry.describe_ca_certificate(certificateId=ca_id))
    assert set(d) == {"certificateDescription"}  # no registrationConfig was given
    desc = d["certificateDescription"]
    assert set(desc) == CA_DESCRIPTION_KEYS
    assert desc["status"] == "INACTIVE"  # setAsActive defaults to false
    assert desc["autoRegistrationStatus"] == "DISABLE"
    assert desc["certificateMode"] == "DEFAULT"
    assert desc["ownedBy"] == ACCOUNT
    assert desc["customerVersion"] == 1
    assert UUID.match(desc["generationId"])
    assert jitr_iot.Certificate.from_pem(desc["certificatePem"]) == ca.certificate
    assert utc(desc["creationDate"]) == at  # millisecond precision survives
    assert utc(desc["lastModifiedDate"]) == at
    assert set(desc["validity"]) == {"notBefore", "notAfter"}
    assert utc(desc["validity"]["notBefore"]) == ca.certificate.not_before
    assert utc(desc["validity"]["notAfter"]) == ca.certificate.not_after
    # IDs are accepted in upper case and with 0x, and answered in lower case.
    again = registry.describe_ca_certificate(certificateId="0x" + ca_id.upper())
    assert again["certificateDescription"]["certificateId"] == ca_id


def test_update_ca_certificate(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate
) -> None:
    ca_id = register_ca(registry, ca, proof, active=False, auto=False)
    role = "arn:aws:iam::123456789012:role/JITP"
    template = json.dumps(
        {
            "Parameters": {"AWS::IoT::Certificate::Id": {"Type": "String"}},
            "Resources": {
                "certificate": {
                    "Type": "AWS::IoT::Certificate",
                    "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"},
                }
            },
        }
    )
    assert body(
        registry.update_ca_certificate(
            certificateId=ca_id,
            newStatus="ACTIVE",
            newAutoRegistrationStatus="ENABLE",
            registrationConfig={"templateBody": template, "roleArn": role},
            now=later(5),
        )
    ) == {}
    d = registry.describe_ca_certificate(certificateId=ca_id)
    desc = d["certificateDescription"]
    assert (desc["status"], desc["autoRegistrationStatus"]) == ("ACTIVE", "ENABLE")
    assert desc["customerVersion"] == 2
    assert desc["lastModifiedDate"] == later(5) and desc["creationDate"] == NOW
    assert d.get("registrationConfig") == {"templateBody": template, "roleArn": role}
    # A body and a name at once is refused, and changes nothing.
    with pytest.raises(jitr_iot.InvalidRequestException, match="not both"):
        registry.update_ca_certificate(
            certificateId=ca_id, registrationConfig={"templateBody": template, "templateName": "t"}, now=later(5)
        )
    assert registry.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]["customerVersion"] == 2
    registry.update_ca_certificate(certificateId=ca_id, removeAutoRegistration=True, now=later(6))
    assert "registrationConfig" not in registry.describe_ca_certificate(certificateId=ca_id)
    statuses: List[jitr_iot.CaStatus] = ["INACTIVE", "ACTIVE", "INACTIVE"]
    for status in statuses:
        registry.update_ca_certificate(certificateId=ca_id, newStatus=status, now=later(7))
        assert registry.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]["status"] == status


def test_list_and_delete_ca_certificates(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate
) -> None:
    assert body(registry.list_ca_certificates()) == {"certificates": []}
    ca_id = register_ca(registry, ca, proof)
    listed = body(registry.list_ca_certificates())
    assert set(listed) == {"certificates"}
    (item,) = listed["certificates"]
    assert set(item) == CA_SUMMARY_KEYS
    assert (item["certificateId"], item["status"], utc(item["creationDate"])) == (ca_id, "ACTIVE", NOW)
    with pytest.raises(jitr_iot.CertificateStateException):
        registry.delete_ca_certificate(certificateId=ca_id)  # still ACTIVE
    registry.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE")
    assert body(registry.delete_ca_certificate(certificateId=ca_id)) == {}
    assert registry.list_ca_certificates()["certificates"] == []
    with pytest.raises(jitr_iot.ResourceNotFoundException):
        registry.describe_ca_certificate(certificateId=ca_id)


def test_register_and_describe_certificate(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    ca_id: str,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    device = devices[0]
    response = body(registry.register_certificate(certificatePem=device.certificate_pem, now=later(1)))
    dev_id = device.certificate_id
    assert response == {"certificateArn": f"arn:aws:iot:us-east-1:{ACCOUNT}:cert/{dev_id}", "certificateId": dev_id}
    d = body(registry.describe_certificate(certificateId=dev_id))
    desc = d["certificateDescription"]
    assert set(desc) == CERT_DESCRIPTION_KEYS
    assert desc["status"] == "INACTIVE"  # the default status
    assert desc["caCertificateId"] == ca_id
    assert desc["certificateMode"] == "DEFAULT"
    assert desc["ownedBy"] == ACCOUNT and desc["customerVersion"] == 1
    assert utc(desc["creationDate"]) == later(1)
    assert desc["validity"]["notAfter"] == device.certificate.not_after
    # With the CA PEM and a status; setAsActive (boto3's deprecated flag) means ACTIVE.
    r2 = registry.register_certificate(
        certificatePem=devices[1].certificate_pem, caCertificatePem=ca.certificate_pem, status="REVOKED"
    )
    assert registry.describe_certificate(certificateId=r2["certificateId"])["certificateDescription"]["status"] == "REVOKED"
    r3 = registry.register_certificate(certificatePem=devices[2].certificate_pem, setAsActive=True)
    assert registry.describe_certificate(certificateId=r3["certificateId"])["certificateDescription"]["status"] == "ACTIVE"
    with pytest.raises(jitr_iot.ResourceAlreadyExistsException) as e:
        registry.register_certificate(certificatePem=device.certificate_pem)
    assert e.value.resource_id == dev_id


def test_register_certificate_without_ca(registry: jitr_iot.Registry, other_ca: jitr_iot.GeneratedCertificate) -> None:
    device = jitr_iot.issue_certificate(other_ca, "lonely", not_before=NOW)
    response = body(registry.register_certificate_without_ca(certificatePem=device.certificate_pem, status="ACTIVE"))
    desc = registry.describe_certificate(certificateId=response["certificateId"])["certificateDescription"]
    assert "caCertificateId" not in desc  # boto3 omits what has no value
    assert set(desc) == CERT_DESCRIPTION_KEYS - {"caCertificateId"}
    assert (desc["status"], desc["certificateMode"]) == ("ACTIVE", "SNI_ONLY")
    with pytest.raises(jitr_iot.InvalidRequestException):
        registry.register_certificate_without_ca(certificatePem=device.certificate_pem, status="PENDING_TRANSFER")


@pytest.mark.parametrize(
    "start,target,ok",
    [
        ("ACTIVE", "INACTIVE", True),
        ("INACTIVE", "ACTIVE", True),
        ("ACTIVE", "REVOKED", True),
        ("INACTIVE", "REVOKED", True),
        ("ACTIVE", "ACTIVE", True),
        ("REVOKED", "ACTIVE", False),
        ("REVOKED", "INACTIVE", False),
    ],
)
def test_update_certificate(
    registry: jitr_iot.Registry,
    other_ca: jitr_iot.GeneratedCertificate,
    start: jitr_iot.CertificateStatus,
    target: jitr_iot.CertificateStatus,
    ok: bool,
) -> None:
    device = jitr_iot.issue_certificate(other_ca, "d", not_before=NOW)
    cid = registry.register_certificate_without_ca(certificatePem=device.certificate_pem, status=start)["certificateId"]
    if ok:
        assert body(registry.update_certificate(certificateId=cid, newStatus=target, now=later(3))) == {}
        desc = registry.describe_certificate(certificateId=cid)["certificateDescription"]
        assert desc["status"] == target
        # Same → same changes nothing; every real change bumps the version.
        assert desc["customerVersion"] == (1 if start == target else 2)
    else:
        with pytest.raises(jitr_iot.CertificateStateException):
            registry.update_certificate(certificateId=cid, newStatus=target)
    nevers: List[Any] = ["PENDING_ACTIVATION", "PENDING_TRANSFER", "REGISTER_INACTIVE", "active"]
    for never in nevers:
        with pytest.raises(jitr_iot.InvalidRequestException):
            registry.update_certificate(certificateId=cid, newStatus=never)


def test_delete_certificate(registry: jitr_iot.Registry, other_ca: jitr_iot.GeneratedCertificate) -> None:
    device = jitr_iot.issue_certificate(other_ca, "d", not_before=NOW)
    cid = registry.register_certificate_without_ca(certificatePem=device.certificate_pem, status="ACTIVE")["certificateId"]
    arn = registry.describe_certificate(certificateId=cid)["certificateDescription"]["certificateArn"]
    with pytest.raises(jitr_iot.CertificateStateException):
        registry.delete_certificate(certificateId=cid)
    registry.update_certificate(certificateId=cid, newStatus="INACTIVE")
    registry.create_policy(policyName="p", policyDocument=DOCUMENT)
    registry.attach_policy(policyName="p", target=arn)
    with pytest.raises(jitr_iot.DeleteConflictException):
        registry.delete_certificate(certificateId=cid)
    assert body(registry.delete_certificate(certificateId=cid, forceDelete=True)) == {}
    with pytest.raises(jitr_iot.ResourceNotFoundException):
        registry.describe_certificate(certificateId=cid)


def test_paging(registry: jitr_iot.Registry, other_ca: jitr_iot.GeneratedCertificate) -> None:
    ids = []
    for i in range(7):
        device = jitr_iot.issue_certificate(other_ca, f"paged-{i}", not_before=NOW)
        ids.append(
            registry.register_certificate_without_ca(certificatePem=device.certificate_pem, now=later(i))["certificateId"]
        )

    def walk(**kwargs: Any) -> List[str]:
        seen: List[str] = []
        marker = None
        while True:
            if marker is None:
                page = body(registry.list_certificates(pageSize=3, **kwargs))
            else:
                page = body(registry.list_certificates(pageSize=3, marker=marker, **kwargs))
            assert len(page["certificates"]) <= 3
            for item in page["certificates"]:
                assert set(item) == CERT_SUMMARY_KEYS
            seen += [c["certificateId"] for c in page["certificates"]]
            if "nextMarker" not in page:
                return seen
            assert set(page) == {"certificates", "nextMarker"}
            marker = page["nextMarker"]

    assert walk(ascendingOrder=True) == ids
    assert walk() == ids[::-1]  # descending by creation date unless asked
    assert walk(ascendingOrder=False) == ids[::-1]
    first = registry.list_certificates(pageSize=7, ascendingOrder=True)
    assert "nextMarker" not in first and [c["certificateId"] for c in first["certificates"]] == ids
    assert [c["creationDate"] for c in first["certificates"]] == [later(i) for i in range(7)]
    for bad in [0, -1, 251]:
        with pytest.raises(jitr_iot.InvalidRequestException):
            registry.list_certificates(pageSize=bad)
    with pytest.raises(jitr_iot.InvalidRequestException):
        registry.list_certificates(marker="not a marker")


def test_list_certificates_by_ca(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    ca_id: str,
    devices: List[jitr_iot.GeneratedCertificate],
    other_ca: jitr_iot.GeneratedCertificate,
) -> None:
    mine = [registry.register_certificate(certificatePem=d.certificate_pem, now=later(i))["certificateId"] for i, d in enumerate(devices[:3])]
    stranger = jitr_iot.issue_certificate(other_ca, "x", not_before=NOW)
    registry.register_certificate_without_ca(certificatePem=stranger.certificate_pem)
    page = body(registry.list_certificates_by_ca(caCertificateId=ca_id, ascendingOrder=True))
    assert [c["certificateId"] for c in page["certificates"]] == mine
    assert len(registry.list_certificates()["certificates"]) == 4
    one = registry.list_certificates_by_ca(caCertificateId=ca_id, pageSize=1)
    assert [c["certificateId"] for c in one["certificates"]] == [mine[-1]] and "nextMarker" in one
    with pytest.raises(jitr_iot.InvalidRequestException):
        registry.list_certificates_by_ca(caCertificateId="nope")


def test_policies(registry: jitr_iot.Registry, other_ca: jitr_iot.GeneratedCertificate) -> None:
    created = body(registry.create_policy(policyName="Policy_1", policyDocument=DOCUMENT, now=later(1)))
    arn = f"arn:aws:iot:us-east-1:{ACCOUNT}:policy/Policy_1"
    assert created == {"policyName": "Policy_1", "policyArn": arn, "policyDocument": DOCUMENT, "policyVersionId": "1"}
    got = body(registry.get_policy(policyName="Policy_1"))
    assert set(got) == {"policyName", "policyArn", "policyDocument", "defaultVersionId", "creationDate", "lastModifiedDate", "generationId"}
    assert (got["policyArn"], got["defaultVersionId"], utc(got["creationDate"])) == (arn, "1", later(1))
    with pytest.raises(jitr_iot.ResourceAlreadyExistsException):
        registry.create_policy(policyName="Policy_1", policyDocument=DOCUMENT)
    with pytest.raises(jitr_iot.MalformedPolicyException):
        registry.create_policy(policyName="Policy_2", policyDocument="{not json")
    with pytest.raises(jitr_iot.InvalidRequestException):
        registry.create_policy(policyName="bad name!", policyDocument=DOCUMENT)

    device = jitr_iot.issue_certificate(other_ca, "d", not_before=NOW)
    cid = registry.register_certificate_without_ca(certificatePem=device.certificate_pem)["certificateId"]
    target = f"arn:aws:iot:us-east-1:{ACCOUNT}:cert/{cid}"
    assert body(registry.list_attached_policies(target=target)) == {"policies": []}
    assert body(registry.attach_policy(policyName="Policy_1", target=target)) == {}
    assert body(registry.list_attached_policies(target=target)) == {"policies": [{"policyName": "Policy_1", "policyArn": arn}]}
    with pytest.raises(jitr_iot.DeleteConflictException):
        registry.delete_policy(policyName="Policy_1")
    assert body(registry.detach_policy(policyName="Policy_1", target=target)) == {}
    assert registry.list_attached_policies(target=target)["policies"] == []
    assert body(registry.delete_policy(policyName="Policy_1")) == {}
    with pytest.raises(jitr_iot.ResourceNotFoundException):
        registry.get_policy(policyName="Policy_1")
    with pytest.raises(jitr_iot.ResourceNotFoundException):
        registry.attach_policy(policyName="Policy_1", target=target)


def test_datetimes_use_the_clock_by_default(registry: jitr_iot.Registry, other_ca: jitr_iot.GeneratedCertificate) -> None:
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    device = jitr_iot.issue_certificate(other_ca, "clock")
    cid = registry.register_certificate_without_ca(certificatePem=device.certificate_pem)["certificateId"]
    created = registry.describe_certificate(certificateId=cid)["certificateDescription"]["creationDate"]
    assert before <= created <= datetime.now(timezone.utc) + timedelta(seconds=1)
    # Epoch seconds work as well as datetimes.
    registry.update_certificate(certificateId=cid, newStatus="ACTIVE", now=1_780_272_000.5)
    desc = registry.describe_certificate(certificateId=cid)["certificateDescription"]
    assert desc["lastModifiedDate"] == datetime(2026, 6, 1, 0, 0, 0, 500000, tzinfo=timezone.utc)
    registry.update_certificate(certificateId=cid, newStatus="INACTIVE", now=1_780_272_001)
    desc = registry.describe_certificate(certificateId=cid)["certificateDescription"]
    assert desc["lastModifiedDate"] == datetime(2026, 6, 1, 0, 0, 1, tzinfo=timezone.utc)


def test_state_round_trip(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate, devices: List[jitr_iot.GeneratedCertificate]
) -> None:
    ca_id = register_ca(registry, ca, proof)
    registry.register_certificate(certificatePem=devices[0].certificate_pem, status="ACTIVE")
    registry.create_policy(policyName="p", policyDocument=DOCUMENT)
    state = registry.export_state()
    copy = jitr_iot.Registry.from_state(state)
    assert copy.export_state() == state
    assert copy.get_registration_code()["registrationCode"] == CODE
    assert body(copy.describe_ca_certificate(certificateId=ca_id)) == body(
        registry.describe_ca_certificate(certificateId=ca_id)
    )
    with pytest.raises(jitr_iot.InvalidRequestException):
        jitr_iot.Registry.from_state("{}")
    with pytest.raises(TypeError):
        jitr_iot.Registry.from_state(b"{}")  # type: ignore[arg-type]


def stub_typeddicts() -> dict[str, tuple[set[str], set[str]]]:
    """The TypedDicts of the installed _jitr.pyi: name -> (required keys, optional keys)."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(jitr_iot.__file__).parent / "_jitr.pyi").read_text())
    out: dict[str, tuple[set[str], set[str]]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "TypedDict" for b in node.bases):
            total = not any(k.arg == "total" and getattr(k.value, "value", True) is False for k in node.keywords)
            required: set[str] = set()
            optional: set[str] = set()
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    not_required = "NotRequired" in ast.unparse(item.annotation)
                    (required if total and not not_required else optional).add(item.target.id)
            out[node.name] = (required, optional)
    return out


def test_the_stub_types_match_the_responses(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    """The TypedDicts that type the responses in the stub have the keys the responses have."""
    types = stub_typeddicts()

    def check(value: Any, name: str) -> None:
        required, optional = types[name]
        assert required <= set(value) <= required | optional, (name, set(value))

    ca_id = register_ca(registry, ca, proof)
    check(registry.get_registration_code(), "_RegistrationCode")
    d = registry.describe_ca_certificate(certificateId=ca_id)
    check(d, "_DescribeCaCertificate")
    check(d["certificateDescription"], "_CaCertificateDescription")
    check(d["certificateDescription"]["validity"], "_Validity")
    r = registry.register_certificate(certificatePem=devices[0].certificate_pem, status="ACTIVE")
    check(r, "_Registered")
    c = registry.describe_certificate(certificateId=r["certificateId"])
    check(c, "_DescribeCertificate")
    check(c["certificateDescription"], "_CertificateDescription")
    lc = registry.list_ca_certificates(pageSize=1)
    check(lc, "_ListCaCertificates")
    check(lc["certificates"][0], "_CaCertificateSummary")
    ld = registry.list_certificates()
    check(ld, "_ListCertificates")
    check(ld["certificates"][0], "_CertificateSummary")
    check(registry.create_policy(policyName="p", policyDocument=DOCUMENT), "_CreatePolicy")
    check(registry.get_policy(policyName="p"), "_GetPolicy")
    check(registry.attach_policy(policyName="p", target=r["certificateArn"]), "_Empty")
    la = registry.list_attached_policies(target=r["certificateArn"])
    check(la, "_ListAttachedPolicies")
    check(la["policies"][0], "_AttachedPolicy")
    check(la["ResponseMetadata"], "_ResponseMetadata")
    event = registry.connect([devices[1].certificate_pem, ca.certificate_pem], now=NOW).event
    check(event, "_RegistrationEvent")


def test_the_account_issues_certificates_and_has_an_endpoint(registry: jitr_iot.Registry) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    made = registry.create_keys_and_certificate(setAsActive=True, now=NOW)
    cert = x509.load_pem_x509_certificate(made["certificatePem"].encode())
    assert cert.subject.rfc4514_string() == "CN=AWS IoT Certificate"
    key = serialization.load_pem_private_key(made["keyPair"]["PrivateKey"].encode(), None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
    assert registry.connect(made["certificatePem"], now=NOW).allowed

    device_key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "sensor-7")]))
        .sign(device_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    issued = registry.create_certificate_from_csr(certificateSigningRequest=csr, now=NOW)
    from_csr = x509.load_pem_x509_certificate(issued["certificatePem"].encode())
    assert from_csr.public_key().public_numbers() == device_key.public_key().public_numbers()  # type: ignore[union-attr]
    assert from_csr.issuer == cert.issuer
    described = registry.describe_certificate(certificateId=issued["certificateId"])
    assert described["certificateDescription"]["status"] == "INACTIVE"
    with pytest.raises(jitr_iot.InvalidRequestException, match="not PEM"):
        registry.create_certificate_from_csr(certificateSigningRequest="nonsense")

    ats = registry.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    assert ats.endswith("-ats.iot.us-east-1.amazonaws.com")
    assert registry.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == ats
