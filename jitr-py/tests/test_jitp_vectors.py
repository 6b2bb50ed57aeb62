"""Runs every preview of the shared JITP vectors (the ``previews`` of tests/vectors/jitp.json)
through ``jitr_iot.preview_provisioning``, with the comparison rules of
tests/vectors/README.md, as the Rust runner (tests/tests/jitp_vectors.rs) does; shows that
the comparison can fail (a flipped expectation fails) and that bad input raises the
package's exceptions. (The file's ``steps`` run with every other vector file in
test_vectors.py.)
"""

from __future__ import annotations

import copy
import json
from types import MappingProxyType
from typing import Any, Callable, Dict, List, Optional

import pytest

import jitr_iot
from conftest import VECTORS, raises_core_error

JITP: Dict[str, Any] = json.loads((VECTORS / "jitp.json").read_text())
PREVIEWS: List[Dict[str, Any]] = JITP["previews"]


def check(case: Dict[str, Any]) -> Optional[str]:
    """Compares one preview's output with its expectation; returns what differs, or None."""
    expect = case["expect"]
    try:
        raw: Any = jitr_iot.preview_provisioning(case["input"])
    except jitr_iot.JitrError as e:
        if "error" in expect:
            return None if e.code == expect["error"] else f"expected {expect['error']}, got {e.code}: {e.message}"
        return f"unexpected {e.code}: {e.message}"
    got: Dict[str, Any] = dict(raw)
    if "error" in expect:
        return f"expected {expect['error']}, got {got!r}"
    want = copy.deepcopy(expect)
    contains = want.get("failure", {}).pop("messageContains", None)
    if contains is not None:
        failure = got.get("failure")
        if not isinstance(failure, dict) or "message" not in failure:
            return f"no failure message in {got!r}"
        failure = dict(failure)
        message = failure.pop("message")
        got["failure"] = failure
        for part in contains:
            if part not in message:
                return f"the message {message!r} lacks {part!r}"
    if got != want:
        return f"expected\n{json.dumps(want, indent=2)}\ngot\n{json.dumps(got, indent=2)}"
    return None


@pytest.mark.parametrize("case", PREVIEWS, ids=[c["name"] for c in PREVIEWS])
def test_preview(case: Dict[str, Any]) -> None:
    failure = check(case)
    assert failure is None, failure


def test_every_preview_runs() -> None:
    assert len(PREVIEWS) >= 20, f"only {len(PREVIEWS)} previews"
    assert len({c["name"] for c in PREVIEWS}) == len(PREVIEWS), "preview names are unique (test ids)"
    aws = next(c for c in PREVIEWS if c["name"] == "aws-example")
    assert '"ThingTypeName":"lightBulb-versionA"' in aws["input"]["templateBody"]
    assert JITP["awsExampleSource"] == "https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html"


def _set(path: List[Any], value: Any) -> Callable[[Dict[str, Any]], None]:
    def flip(expect: Dict[str, Any]) -> None:
        target: Any = expect
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return flip


FLIPS = [
    ("aws-example", _set(["thing", "thingGroups", 1], "US")),
    ("aws-example", _set(["policies", 0, "policyName"], "0" * 64)),
    ("aws-example-missing-country", _set(["failure", "certificateField"], "subject O (organizationName, OID 2.5.4.10)")),
    ("aws-example-missing-country", _set(["failure", "messageContains", 0], "Organization")),
    ("input-without-template", _set(["error"], "CertificateValidationException")),
]


@pytest.mark.parametrize("name,flip", FLIPS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FLIPS)])
def test_a_flipped_expectation_fails(name: str, flip: Callable[[Dict[str, Any]], None]) -> None:
    """The runner compares everything: flipping any one expectation makes it fail."""
    case = copy.deepcopy(next(c for c in PREVIEWS if c["name"] == name))
    assert check(case) is None, f"{name} passes as written"
    flip(case["expect"])
    assert check(case) is not None, f"{name} still passes once flipped"


def test_every_flipped_provisioned_flag_fails() -> None:
    for case in PREVIEWS:
        if "error" in case["expect"]:
            continue
        case = copy.deepcopy(case)
        case["expect"]["provisioned"] = not case["expect"]["provisioned"]
        assert check(case) is not None, case["name"]


AWS_EXAMPLE = next(c for c in PREVIEWS if c["name"] == "aws-example")["input"]


def test_any_mapping_is_input_and_the_output_is_plain() -> None:
    out = jitr_iot.preview_provisioning(MappingProxyType(dict(AWS_EXAMPLE)))
    assert out["provisioned"] is True
    thing = out["thing"]
    assert thing is not None and thing["thingName"] == "sensor-0001"
    assert thing["thingGroups"] == ["v1-lightbulbs", "DE"]
    assert out["certificate"]["certificateId"] == jitr_iot.certificate_id(AWS_EXAMPLE["certificatePem"])
    # A device generated here: its Common Name names the thing, its missing Country is named.
    ca = jitr_iot.generate_ca("Fleet CA")
    device = jitr_iot.issue_certificate(ca, "lamp-7")
    missing = jitr_iot.preview_provisioning(dict(AWS_EXAMPLE, certificatePem=device.certificate_pem))
    assert missing["provisioned"] is False and missing["certificateStatus"] == "PENDING_ACTIVATION"
    failure = missing["failure"]
    assert failure["code"] == "MISSING_PARAMETER" and failure["stage"] == "PROVISIONING"
    given = {"AWS::IoT::Certificate::Country": "FR", "AWS::IoT::Certificate::SerialNumber": "7"}
    done = jitr_iot.preview_provisioning(dict(AWS_EXAMPLE, certificatePem=device.certificate_pem, parameters=given))
    assert done["provisioned"] is True
    assert done["thing"] is not None and done["thing"]["thingName"] == "lamp-7"


@pytest.mark.parametrize(
    "request_, exception",
    [
        ({"certificatePem": AWS_EXAMPLE["certificatePem"]}, jitr_iot.InvalidRequestException),
        ({"templateBody": "{}"}, jitr_iot.InvalidRequestException),
        (dict(AWS_EXAMPLE, unknown=1), jitr_iot.InvalidRequestException),
        (dict(AWS_EXAMPLE, certificatePem="not a certificate"), jitr_iot.CertificateValidationException),
        (dict(AWS_EXAMPLE, parameters={"x": 1}), jitr_iot.InvalidRequestException),
        (dict(AWS_EXAMPLE, account="123456789012"), jitr_iot.InvalidRequestException),
    ],
)
def test_bad_input_raises_the_core_error(request_: Dict[str, Any], exception: type) -> None:
    raises_core_error(exception, jitr_iot.preview_provisioning, request_)


def test_values_that_are_not_json_are_python_errors() -> None:
    text: Any = AWS_EXAMPLE["templateBody"]
    with pytest.raises(TypeError, match="preview_provisioning takes a dict"):
        jitr_iot.preview_provisioning(text)
    with pytest.raises(TypeError, match="PEM is text"):
        jitr_iot.preview_provisioning(dict(AWS_EXAMPLE, certificatePem=AWS_EXAMPLE["certificatePem"].encode()))
