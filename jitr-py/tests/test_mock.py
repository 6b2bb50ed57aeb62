"""``jitr_iot.mock_iot``: real boto3 ``iot`` clients answered by a jitr registry, through
botocore's own hooks. Everything that is botocore's (parameter validation, paginators,
``client.exceptions``, ``ClientError``, response parsing) must behave as with AWS."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List

import boto3
import botocore.exceptions
import botocore.session
import botocore.utils
import pytest
from botocore.config import Config

import jitr_iot
from conftest import CODE, NOW, SNI, later, minimal_value
from jitr_iot.handler import activate

REGION = "us-east-1"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def client() -> Any:
    return boto3.client("iot", region_name=REGION)


def register_ca(iot: Any, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> str:
    response = iot.register_ca_certificate(
        caCertificate=ca.certificate_pem,
        verificationCertificate=proof.certificate_pem,
        setAsActive=True,
        allowAutoRegistration=True,
    )
    cid: str = response["certificateId"]
    return cid


def test_the_jitr_story_with_a_boto3_client(
    registry: jitr_iot.Registry,
    ca: jitr_iot.GeneratedCertificate,
    proof: jitr_iot.GeneratedCertificate,
    devices: List[jitr_iot.GeneratedCertificate],
) -> None:
    with jitr_iot.mock_iot(registry=registry, clock=lambda: NOW) as mock:
        assert mock.registry is registry
        iot = client()
        assert iot.get_registration_code()["registrationCode"] == CODE
        ca_id = register_ca(iot, ca, proof)
        assert ca_id == ca.certificate_id
        described = iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]
        assert (described["status"], described["autoRegistrationStatus"]) == ("ACTIVE", "ENABLE")

        # A device connects (to the registry: no AWS API does that): JITR registers it.
        chain = [devices[0].certificate_pem, ca.certificate_pem]
        decision = registry.connect(chain, SNI, NOW)
        assert decision.reason == "REGISTERED_PENDING_ACTIVATION" and decision.event is not None
        cid = decision.event["certificateId"]
        pending = iot.describe_certificate(certificateId=cid)["certificateDescription"]
        assert (pending["status"], pending["caCertificateId"]) == ("PENDING_ACTIVATION", ca_id)

        # The activation handler, with the boto3 client.
        report = activate(decision.event, iot, now=NOW)
        assert [a["action"] for a in report["actions"]] == ["POLICY_CREATED", "POLICY_ATTACHED", "ACTIVATED"]
        assert iot.describe_certificate(certificateId=cid)["certificateDescription"]["status"] == "ACTIVE"
        attached = iot.list_attached_policies(target=pending["certificateArn"])["policies"]
        assert [p["policyName"] for p in attached] == [f"Policy_{cid}"]
        assert registry.connect(chain, SNI, NOW).allowed

        # What the client changed is the registry's state, and the other way round.
        assert registry.describe_certificate(certificateId=cid)["certificateDescription"]["status"] == "ACTIVE"
        registry.update_certificate(certificateId=cid, newStatus="REVOKED", now=NOW)
        assert iot.describe_certificate(certificateId=cid)["certificateDescription"]["status"] == "REVOKED"
        assert not registry.connect(chain, SNI, NOW).allowed


def test_responses_are_parsed_by_botocore(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate
) -> None:
    """The same answer as the direct API, parsed as botocore parses AWS's: every datetime
    is botocore's own parse of the wire's epoch seconds (its time zone, the same instant)."""
    at = NOW + timedelta(milliseconds=250)
    with jitr_iot.mock_iot(registry=registry, clock=lambda: at):
        iot = client()
        ca_id = register_ca(iot, ca, proof)
        via_boto3 = iot.describe_ca_certificate(certificateId=ca_id)
    direct = registry.describe_ca_certificate(certificateId=ca_id)
    meta = via_boto3.pop("ResponseMetadata")
    assert meta["HTTPStatusCode"] == 200 and meta["RetryAttempts"] == 0
    assert meta["RequestId"] == meta["HTTPHeaders"]["x-amzn-requestid"]
    direct.pop("ResponseMetadata")  # type: ignore[misc]
    assert via_boto3 == direct  # datetimes compare as instants
    created = via_boto3["certificateDescription"]["creationDate"]
    assert created == at
    assert created == botocore.utils.parse_timestamp((at - EPOCH) / timedelta(seconds=1))
    assert type(created.tzinfo) is type(botocore.utils.parse_timestamp(0).tzinfo)


def test_paginators(registry: jitr_iot.Registry, other_ca: jitr_iot.GeneratedCertificate) -> None:
    ids = []
    with jitr_iot.mock_iot(registry=registry) as mock:
        iot = client()
        for i in range(7):
            device = jitr_iot.issue_certificate(other_ca, f"paged-{i}", not_before=NOW)
            ids.append(
                registry.register_certificate_without_ca(certificatePem=device.certificate_pem, now=later(i))[
                    "certificateId"
                ]
            )
        assert mock.registry is registry
        paginator = iot.get_paginator("list_certificates")
        pages = list(paginator.paginate(ascendingOrder=True, PaginationConfig={"PageSize": 3}))
        assert [len(p["certificates"]) for p in pages] == [3, 3, 1]
        assert [c["certificateId"] for p in pages for c in p["certificates"]] == ids
        assert "nextMarker" in pages[0] and "nextMarker" not in pages[-1]
        full = paginator.paginate(PaginationConfig={"PageSize": 2, "MaxItems": 5}).build_full_result()
        assert [c["certificateId"] for c in full["certificates"]] == ids[::-1][:5]
        assert list(iot.get_paginator("list_ca_certificates").paginate()) [0]["certificates"] == []
        assert iot.can_paginate("list_certificates_by_ca")


def test_client_exceptions_and_client_error(
    registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate
) -> None:
    with jitr_iot.mock_iot(registry=registry, clock=lambda: NOW):
        iot = client()
        with pytest.raises(iot.exceptions.ResourceNotFoundException) as missing:
            iot.describe_certificate(certificateId="ab" * 32)
        e = missing.value
        assert isinstance(e, botocore.exceptions.ClientError) and not isinstance(e, jitr_iot.JitrError)
        assert e.operation_name == "DescribeCertificate"
        assert e.response["Error"]["Code"] == "ResourceNotFoundException"
        assert "does not exist" in e.response["Error"]["Message"]
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert str(e).startswith("An error occurred (ResourceNotFoundException) when calling the DescribeCertificate operation: ")

        ca_id = register_ca(iot, ca, proof)
        try:
            register_ca(iot, ca, proof)
        except iot.exceptions.ResourceAlreadyExistsException as exists:
            # The error shape's members, parsed by botocore (resourceId, resourceArn).
            assert exists.response["resourceId"] == ca_id
            assert exists.response["resourceArn"].endswith(f":cacert/{ca_id}")
            assert exists.response["ResponseMetadata"]["HTTPStatusCode"] == 409
        else:
            raise AssertionError("registered twice")
        with pytest.raises(iot.exceptions.CertificateStateException):
            iot.delete_ca_certificate(certificateId=ca_id)  # still ACTIVE
        # A service-side validation (the ID's characters: botocore checks only lengths).
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.describe_certificate(certificateId="g" * 64)


def test_parameter_validation_is_botocores(registry: jitr_iot.Registry) -> None:
    with jitr_iot.mock_iot(registry=registry):
        iot = client()
        before = registry.export_state()
        calls: List[Callable[[], object]] = [
            lambda: iot.describe_certificate(),  # missing
            lambda: iot.describe_certificate(certificateId=None),  # None
            lambda: iot.update_certificate(certificateId="ab" * 32),  # newStatus missing
            lambda: iot.list_certificates(pageSize="3"),  # a wrong type
            lambda: iot.list_certificates(marker=None),
            lambda: iot.describe_certificate(certificateId="ab"),  # shorter than the model's min
            lambda: iot.describe_certificate(certificateId="ab" * 32, extra=1),  # unknown
        ]
        for call in calls:
            with pytest.raises(botocore.exceptions.ParamValidationError) as e:
                call()
            assert not isinstance(e.value, jitr_iot.ParamValidationError)  # botocore's own
        assert registry.export_state() == before
        with pytest.raises(botocore.exceptions.ParamValidationError, match='Missing required parameter in input: "certificateId"'):
            iot.describe_certificate()
        with pytest.raises(botocore.exceptions.ParamValidationError, match="value: None"):
            iot.describe_certificate(certificateId=None)


def test_an_unimplemented_operation_names_itself(registry: jitr_iot.Registry) -> None:
    with jitr_iot.mock_iot(registry=registry):
        iot = client()
        with pytest.raises(jitr_iot.OperationNotImplementedError) as e:
            iot.create_job(jobId="job-1", targets=["arn:aws:iot:us-east-1:123456789012:thing/t"])
        assert isinstance(e.value, NotImplementedError)
        assert not isinstance(e.value, botocore.exceptions.ClientError)
        assert e.value.operation_name == "CreateJob"
        assert "jitr does not implement the AWS IoT operation CreateJob" in str(e.value)
        assert "RegisterCACertificate" in e.value.implemented


def test_every_operation_is_answered(registry: jitr_iot.Registry) -> None:
    """Each core operation reaches the registry through the mock (an error from the
    registry, not from botocore or the network, shows the call arrived)."""
    model = botocore.session.get_session().get_service_model("iot")

    from jitr_iot._errors import _aws_operation_name

    minimal: Dict[str, Dict[str, Any]] = {}
    for op in jitr_iot.OPERATIONS:
        shape = model.operation_model(_aws_operation_name(op)).input_shape
        required = shape.required_members if shape is not None else []
        minimal[op] = {n: minimal_value(shape.members[n]) for n in required}
    assert set(minimal) == set(jitr_iot.OPERATIONS)
    with jitr_iot.mock_iot(registry=registry):
        iot = client()
        for op, params in minimal.items():
            try:
                getattr(iot, op)(**params)
            except iot.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] in jitr_iot.ERROR_CODES, (op, e)


def test_decorator_fresh_registry_and_nesting(registry: jitr_iot.Registry) -> None:
    codes: List[str] = []

    @jitr_iot.mock_iot
    def fresh() -> None:
        codes.append(client().get_registration_code()["registrationCode"])

    fresh()
    fresh()
    assert len(set(codes)) == 2  # a fresh registry per call

    @jitr_iot.mock_iot(registry=registry)
    def given() -> str:
        code: str = client().get_registration_code()["registrationCode"]
        return code

    assert given() == CODE
    outer = jitr_iot.mock_iot(registry=registry)
    with outer:
        with jitr_iot.mock_iot() as inner:  # the innermost answers
            assert client().get_registration_code()["registrationCode"] != CODE
            assert inner.registry is not None and inner.registry is not registry
        assert client().get_registration_code()["registrationCode"] == CODE
    with pytest.raises(RuntimeError):
        outer.stop()
    with pytest.raises(TypeError):
        jitr_iot.mock_iot(registry)  # type: ignore[call-overload]


def test_nothing_is_answered_after_stop(registry: jitr_iot.Registry) -> None:
    with jitr_iot.mock_iot(registry=registry):
        iot = boto3.client(
            "iot",
            region_name=REGION,
            endpoint_url="http://127.0.0.1:9",  # the discard port: nothing listens
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 0}, connect_timeout=2),
        )
        assert iot.get_registration_code()["registrationCode"] == CODE
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        iot.get_registration_code()


def test_a_client_in_another_region_is_refused(registry: jitr_iot.Registry) -> None:
    with jitr_iot.mock_iot(registry=registry):
        with pytest.raises(ValueError, match="eu-west-1"):
            boto3.client("iot", region_name="eu-west-1").list_certificates()
    with jitr_iot.mock_iot(registry=jitr_iot.Registry(region="eu-west-1")):
        assert boto3.client("iot", region_name="eu-west-1").list_certificates()["certificates"] == []


def test_clients_made_before_the_mock_are_served() -> None:
    """Clients made after ``import jitr_iot`` but before the mock starts (and from boto3's
    default session made before it) are served while it is active."""
    code = (
        "import boto3, jitr_iot\n"
        "boto3.setup_default_session(region_name='us-east-1')\n"
        "early = boto3.client('iot')\n"
        "with jitr_iot.mock_iot(registry=jitr_iot.Registry(registration_code='ab' * 32)):\n"
        "    print(early.get_registration_code()['registrationCode'], boto3.client('iot').list_certificates()['certificates'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["ab" * 32, "[]"]
    # botocore imported after jitr_iot: the first start hooks boto3's existing default session.
    code = (
        "import jitr_iot, sys\n"
        "assert 'botocore.handlers' not in sys.modules\n"
        "import boto3\n"
        "boto3.setup_default_session(region_name='us-east-1')\n"
        "with jitr_iot.mock_iot(registry=jitr_iot.Registry(registration_code='cd' * 32)):\n"
        "    print(boto3.client('iot').get_registration_code()['registrationCode'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["cd" * 32]


def test_the_wire_body_is_the_cores_json(registry: jitr_iot.Registry) -> None:
    """``Registry._call_json`` (what the mock hands botocore's parser) is the core's answer."""
    body = json.loads(registry._call_json("get_registration_code", {}))
    assert body == {"registrationCode": CODE}
    with pytest.raises(jitr_iot.ParamValidationError):
        registry._call_json("list_certificates", {"marker": None})
