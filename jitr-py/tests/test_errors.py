"""Every error code the core exports has its exception class, raised by a real operation,
a botocore ``ClientError`` with its ``response`` shape, ``operation_name`` and AWS's HTTP
status; every exception name of the ``iot`` model is reachable."""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
from datetime import timedelta
from typing import Any, Callable, Dict, List, cast

import botocore.exceptions
import botocore.session
import pytest

import jitr_iot
from conftest import CODE, NOW, load_vector, register_ca

# The HTTP status of each exception in the AWS IoT API model (botocore iot 2015-05-28,
# the error shapes' "httpStatusCode").
AWS_HTTP_STATUS = {
    "ResourceNotFoundException": 404,
    "ResourceAlreadyExistsException": 409,
    "RegistrationCodeValidationException": 400,
    "InvalidRequestException": 400,
    "CertificateValidationException": 400,
    "CertificateStateException": 406,
    "CertificateConflictException": 409,
    "LimitExceededException": 410,
    "DeleteConflictException": 409,
    "MalformedPolicyException": 400,
    "VersionConflictException": 409,
    "VersionsLimitExceededException": 409,
    "ServiceUnavailableException": 503,
    "InternalFailureException": 500,
}

DOCUMENT = '{"Version":"2012-10-17","Statement":[]}'


def _cert(ca: jitr_iot.GeneratedCertificate, name: str) -> str:
    return jitr_iot.issue_certificate(ca, name, not_before=NOW - timedelta(days=1)).certificate_pem


def _resource_not_found(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    r.describe_certificate(certificateId="ab" * 32)


def _resource_already_exists(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    register_ca(r, ca, proof)
    register_ca(r, ca, proof)


def _registration_code_validation(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    wrong = jitr_iot.generate_verification_certificate(ca, "ab" * 32, not_before=NOW - timedelta(days=1))
    register_ca(r, ca, wrong)


def _invalid_request(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    r.list_certificates(pageSize=-1)


def _certificate_validation(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    r.register_certificate_without_ca(certificatePem="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


def _certificate_state(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    cid = r.register_certificate_without_ca(certificatePem=_cert(ca, "active"), status="ACTIVE")["certificateId"]
    r.delete_certificate(certificateId=cid)


def _certificate_conflict(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    # Two registered CAs with the same subject and key, from the shared vectors' certificates.
    v = load_vector("device-registration.json")
    certs = v["certificates"]
    twins = jitr_iot.Registry(registration_code=v["registrationCode"])
    for name in ["ca-twin-a", "ca-twin-b"]:
        twins.register_ca_certificate(
            caCertificate=certs[name]["pem"],
            verificationCertificate=certs["verification-twin"]["pem"],
            setAsActive=True,
            now=NOW,
        )
    twins.register_certificate(certificatePem=certs["device-twin-1"]["pem"], now=NOW)


def _limit_exceeded(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    for _ in range(11):  # at most 10 CAs with one subject per account
        same_subject = jitr_iot.generate_ca("Same Subject", not_before=NOW - timedelta(days=1))
        register_ca(r, same_subject, jitr_iot.generate_verification_certificate(same_subject, CODE, not_before=NOW - timedelta(days=1)))


def _delete_conflict(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    arn = r.register_certificate_without_ca(certificatePem=_cert(ca, "attached"))["certificateArn"]
    r.create_policy(policyName="p", policyDocument=DOCUMENT)
    r.attach_policy(policyName="p", target=arn)
    r.delete_policy(policyName="p")


def _malformed_policy(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    r.create_policy(policyName="p", policyDocument="[1, 2")


def _sqlite_registry(**knobs: Any) -> "tuple[jitr_iot.Registry, str]":
    path = os.path.join(tempfile.mkdtemp(prefix="jitr-errors-"), "fleet.db")
    return jitr_iot.Registry(store=f"sqlite://{path}?busy_timeout_ms=50", registration_code=CODE, **knobs), path


def _service_unavailable(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    # Another process holds the store's write lock longer than the registry waits.
    # (Another process: SQLite's POSIX locks do not exclude connections of one process
    # that use two copies of the library, as the test's sqlite3 and jitr's bundled one.)
    registry, path = _sqlite_registry()
    holder_code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
        "c.execute('ROLLBACK')\n"
    )
    with registry, subprocess.Popen(
        [sys.executable, "-c", holder_code, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        try:
            assert holder.stdout.readline().strip() == "locked"
            register_ca(registry, ca, proof)
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)


def _internal_failure(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    # A row jitr cannot read: written by something else than jitr.
    registry, path = _sqlite_registry()
    with registry:
        ca_id = register_ca(registry, ca, proof)
        with sqlite3.connect(path) as damage:
            damage.execute("UPDATE ca_certificates SET body = '{'")
        registry.describe_ca_certificate(certificateId=ca_id)


def _version_conflict(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    r.create_thing(thingName="sensor-1")
    r.update_thing(thingName="sensor-1", expectedVersion=7)


def _versions_limit_exceeded(r: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate) -> None:
    r.create_policy(policyName="P", policyDocument=DOCUMENT)
    for _ in range(5):
        r.create_policy_version(policyName="P", policyDocument=DOCUMENT)


TRIGGERS: Dict[str, Callable[[jitr_iot.Registry, jitr_iot.GeneratedCertificate, jitr_iot.GeneratedCertificate], None]] = {
    "ResourceNotFoundException": _resource_not_found,
    "ResourceAlreadyExistsException": _resource_already_exists,
    "RegistrationCodeValidationException": _registration_code_validation,
    "InvalidRequestException": _invalid_request,
    "CertificateValidationException": _certificate_validation,
    "CertificateStateException": _certificate_state,
    "CertificateConflictException": _certificate_conflict,
    "LimitExceededException": _limit_exceeded,
    "DeleteConflictException": _delete_conflict,
    "MalformedPolicyException": _malformed_policy,
    "ServiceUnavailableException": _service_unavailable,
    "VersionConflictException": _version_conflict,
    "VersionsLimitExceededException": _versions_limit_exceeded,
    "InternalFailureException": _internal_failure,
}


def test_every_core_code_has_its_class() -> None:
    codes = jitr_iot.ERROR_CODES
    assert len(codes) == len(set(codes)) >= 9
    errors = jitr_iot.Registry().exceptions
    assert cast(object, errors) is jitr_iot.exceptions
    for code in codes:
        cls = getattr(jitr_iot, code)
        assert issubclass(cls, jitr_iot.JitrError) and issubclass(cls, botocore.exceptions.ClientError)
        assert cls.code == code and cls.default_http_status == AWS_HTTP_STATUS[code]
        assert code in jitr_iot.__all__
        assert getattr(errors, code) is cls is errors.from_code(code)
    # boto3's client.exceptions.ClientError is botocore's: so is jitr's.
    assert errors.ClientError is jitr_iot.ClientError is botocore.exceptions.ClientError
    assert errors.from_code("NoSuchCode") is botocore.exceptions.ClientError
    assert jitr_iot.exceptions.BOTOCORE


def iot_model() -> Any:
    return botocore.session.get_session().get_service_model("iot")


def test_every_exception_of_the_iot_model_is_reachable() -> None:
    """Every exception name of botocore's iot model is a class on ``registry.exceptions``
    (as on a boto3 client) with the model's HTTP status: no ``AttributeError`` inside an
    ``except`` clause written for boto3."""
    model = {shape.name: shape.metadata["error"]["httpStatusCode"] for shape in iot_model().error_shapes}
    assert len(model) >= 30
    errors = jitr_iot.Registry().exceptions
    classes = {c.__name__ for c in jitr_iot.JitrError.__subclasses__()}
    assert classes == set(model), classes ^ set(model)
    assert set(model) <= set(jitr_iot.exceptions.__all__)
    assert set(jitr_iot.ERROR_CODES) <= set(model)
    for name, status in model.items():
        cls = getattr(errors, name)
        assert cls.default_http_status == status, name
        e = cls("made by a test")
        assert (e.code, e.http_status, e.response["Error"]["Code"]) == (name, status, name)
    # An except clause naming an exception jitr never raises is harmless.
    try:
        jitr_iot.Registry().describe_certificate(certificateId="ab" * 32)
    except errors.ThrottlingException:
        raise AssertionError("not throttled")
    except errors.ResourceNotFoundException:
        pass


def test_operation_names_are_the_models() -> None:
    from botocore import xform_name

    from jitr_iot._errors import _aws_operation_name

    names = set(iot_model().operation_names)
    for op in jitr_iot.OPERATIONS:
        name = _aws_operation_name(op)
        assert name in names and xform_name(name) == op, (op, name)


@pytest.mark.parametrize("code", jitr_iot.ERROR_CODES)
def test_each_code_is_raised_with_botocore_shape(
    code: str, registry: jitr_iot.Registry, ca: jitr_iot.GeneratedCertificate, proof: jitr_iot.GeneratedCertificate
) -> None:
    trigger = TRIGGERS.get(code)
    assert trigger is not None, f"no test triggers {code}: add one to TRIGGERS"
    cls = getattr(jitr_iot, code)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        trigger(registry, ca, proof)
    e = info.value
    assert type(e) is cls and isinstance(e, jitr_iot.JitrError)
    assert e.code == code and e.message
    assert e.http_status == AWS_HTTP_STATUS[code]
    # botocore's message and attributes.
    assert e.operation_name in iot_model().operation_names
    assert str(e) == f"An error occurred ({code}) when calling the {e.operation_name} operation: {e.message}"
    assert e.args == (str(e),)
    response = e.response
    assert response["Error"] == {"Code": code, "Message": e.message}
    assert response["message"] == e.message
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == AWS_HTTP_STATUS[code]
    assert set(meta) == {"RequestId", "HTTPStatusCode", "HTTPHeaders", "RetryAttempts"}
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]
    if code == "ResourceAlreadyExistsException":
        assert e.resource_id == ca.certificate_id
        assert e.resource_arn == f"arn:aws:iot:us-east-1:123456789012:cacert/{ca.certificate_id}"
        assert (response["resourceId"], response["resourceArn"]) == (e.resource_id, e.resource_arn)
    else:
        assert "resourceId" not in response and e.resource_id is None


def test_boto3_style_handling(registry: jitr_iot.Registry) -> None:
    # What code written against boto3 does, unchanged.
    caught: List[str] = []
    try:
        registry.describe_ca_certificate(certificateId="cd" * 32)
    except registry.exceptions.ResourceNotFoundException as err:
        caught.append(err.response["Error"]["Code"])
    try:
        registry.update_certificate(certificateId="cd" * 32, newStatus="ACTIVE")
    except jitr_iot.ClientError as err:
        if err.response["Error"]["Code"] == "ResourceNotFoundException":
            caught.append("generic")
    assert caught == ["ResourceNotFoundException", "generic"]


def test_errors_pickle_and_repr() -> None:
    try:
        jitr_iot.Registry().describe_certificate(certificateId="ab" * 32)
    except jitr_iot.ResourceNotFoundException as e:
        copy = pickle.loads(pickle.dumps(e))
        assert type(copy) is jitr_iot.ResourceNotFoundException
        assert (copy.message, copy.code, copy.http_status, copy.operation_name) == (e.message, e.code, 404, "DescribeCertificate")
        assert copy.response == e.response and str(copy) == str(e)
        assert repr(e) == f"ResourceNotFoundException({e.message!r})"
    else:
        raise AssertionError("no error")
    made = jitr_iot.ResourceAlreadyExistsException("exists", resource_id="i", resource_arn="a")
    assert made.http_status == 409 and made.operation_name is None
    assert str(made) == "An error occurred (ResourceAlreadyExistsException): exists"
    copy2 = pickle.loads(pickle.dumps(made))
    assert (copy2.resource_id, copy2.resource_arn, copy2.response["resourceId"]) == ("i", "a", "i")
    # Built as botocore builds its errors: (error_response, operation_name).
    as_botocore = jitr_iot.exceptions.CertificateStateException(
        {"Error": {"Code": "CertificateStateException", "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": 406}},
        "DeleteCertificate",
    )
    assert (as_botocore.code, as_botocore.message, as_botocore.http_status) == ("CertificateStateException", "m", 406)
    assert str(as_botocore) == "An error occurred (CertificateStateException) when calling the DeleteCertificate operation: m"
    pve = pickle.loads(pickle.dumps(jitr_iot.ParamValidationError(report="r")))
    assert type(pve) is jitr_iot.ParamValidationError and str(pve) == "Parameter validation failed:\nr"


def test_an_unknown_code_still_raises_a_jitr_error() -> None:
    from jitr_iot._errors import _from_core

    e = _from_core("BrandNewException", "m", 418, None, None, "describe_certificate")
    assert type(e) is jitr_iot.JitrError and e.code == "BrandNewException" and e.http_status == 418
    assert e.response["Error"]["Code"] == "BrandNewException" and e.operation_name == "DescribeCertificate"


def test_botocore_clienterror_catches_jitr_errors(registry: jitr_iot.Registry) -> None:
    """Code written for boto3 (``except botocore.exceptions.ClientError``) catches jitr's
    errors, with the same fields boto3's errors have."""
    try:
        registry.update_certificate(certificateId="cd" * 32, newStatus="ACTIVE")
    except botocore.exceptions.ClientError as err:
        assert err.response["Error"]["Code"] == "ResourceNotFoundException"
        assert err.operation_name == "UpdateCertificate"
    else:
        raise AssertionError("no error")


def test_without_botocore() -> None:
    """Without botocore the classes are jitr's own, with botocore's constructors, messages
    and attributes (ClientError, ParamValidationError), and everything else works."""
    code = """
import sys
sys.modules["botocore"] = None  # importing botocore now fails
import jitr_iot
from jitr_iot import exceptions
assert not exceptions.BOTOCORE
r = jitr_iot.Registry()
try:
    r.describe_certificate(certificateId="ab" * 32)
except exceptions.ClientError as e:
    assert type(e) is jitr_iot.ResourceNotFoundException and e.operation_name == "DescribeCertificate"
    assert str(e).startswith("An error occurred (ResourceNotFoundException) when calling the DescribeCertificate operation: ")
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
try:
    r.list_certificates(marker=None)
except TypeError as e:
    assert type(e) is jitr_iot.ParamValidationError and e.kwargs["report"].startswith("Invalid type for parameter marker")
print("ok", exceptions.ClientError.__module__)
"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", "jitr_iot.exceptions"]
