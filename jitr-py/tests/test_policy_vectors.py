"""Runs every scenario of the shared policy vectors (tests/vectors/policies/policies.json)
through ``jitr_iot.simulate_policy``, with the comparison rules of tests/vectors/README.md,
as the Rust runner (tests/tests/policy_vectors.rs) does; and shows that the comparison can
fail (a flipped expectation fails) and that bad input raises the package's exceptions.
"""

from __future__ import annotations

import copy
import json
from types import MappingProxyType
from typing import Any, Dict, List, Optional

import pytest

import jitr_iot
from conftest import VECTORS, raises_core_error

POLICIES: Dict[str, Any] = json.loads((VECTORS / "policies" / "policies.json").read_text())
SCENARIOS: List[Dict[str, Any]] = POLICIES["scenarios"]
DECISIONS = {"ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY"}


def merged_context(scenario: Dict[str, Any], case: Dict[str, Any]) -> Dict[str, Any]:
    """The scenario's context with the case's keys laid over it; a null removes a key."""
    ctx = dict(scenario["context"])
    for key, value in case.get("context", {}).items():
        if value is None:
            ctx.pop(key, None)
        else:
            ctx[key] = value
    return ctx


def names(refs: Any) -> List[Any]:
    return [p["policyName"] for p in refs]


def run_case(scenario: Dict[str, Any], case: Dict[str, Any]) -> Optional[str]:
    """Runs one case; returns what differs, or None."""
    request = {
        "policies": scenario["policies"],
        "context": merged_context(scenario, case),
        "authInfos": [case["authInfo"]],
    }
    try:
        out = jitr_iot.simulate_policy(request)
    except jitr_iot.JitrError as e:
        return f"simulate_policy raised {e.code}: {e.message}"
    [result] = out["authResults"]
    expect = case["expect"]
    if result["authInfo"] != case["authInfo"]:
        return f"authInfo echoed as {result['authInfo']!r}"
    if result["authDecision"] != expect["authDecision"]:
        return (
            f"authDecision: expected {expect['authDecision']}, got {result['authDecision']} "
            f"(allowed by {names(result['allowed']['policies'])}, "
            f"denied by {names(result['denied']['explicitDeny']['policies'])})"
        )
    for key, got in [
        ("allowed", result["allowed"]["policies"]),
        ("explicitDeny", result["denied"]["explicitDeny"]["policies"]),
        ("implicitDeny", result["denied"]["implicitDeny"]["policies"]),
    ]:
        if key in expect and names(got) != expect[key]:
            return f"{key}: expected {expect[key]!r}, got {names(got)!r}"
    if "missingContextValues" in expect and result["missingContextValues"] != expect["missingContextValues"]:
        return (
            f"missingContextValues: expected {expect['missingContextValues']!r}, "
            f"got {result['missingContextValues']!r}"
        )
    # jitr's addition: the deciding statements are those of the policies that decided.
    deciding = {s["policyName"] for s in result["decidingStatements"]}
    decided_by = {
        "ALLOWED": set(names(result["allowed"]["policies"])),
        "EXPLICIT_DENY": set(names(result["denied"]["explicitDeny"]["policies"])),
        "IMPLICIT_DENY": set(),
    }[result["authDecision"]]
    if deciding != decided_by:
        return f"decidingStatements name {sorted(deciding)}, the decision {sorted(decided_by)}"
    return None


def run_error_scenario(scenario: Dict[str, Any]) -> Optional[str]:
    want = scenario["expectError"]
    request = {
        "policies": scenario["policies"],
        "context": scenario["context"],
        "authInfos": [{"actionType": "CONNECT", "resources": ["*"]}],
    }
    try:
        out = jitr_iot.simulate_policy(request)
    except jitr_iot.JitrError as e:
        if e.code != want["code"]:
            return f"expected {want['code']}, got {e.code}: {e.message}"
        if want["messageContains"] not in e.message:
            return f"message {e.message!r} lacks {want['messageContains']!r}"
        return None
    return f"expected {want['code']}, got {out!r}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(scenario: Dict[str, Any]) -> None:
    assert scenario["source"].startswith("https://docs.aws.amazon.com/"), "every scenario cites its AWS page"
    if "expectError" in scenario:
        failure = run_error_scenario(scenario)
        assert failure is None, failure
        return
    assert scenario["cases"], "a scenario without cases"
    failures = []
    for i, case in enumerate(scenario["cases"]):
        failure = run_case(scenario, case)
        if failure is not None:
            failures.append(f"case {i} ({case['authInfo']}): {failure}")
    assert not failures, "\n".join(failures)


def test_every_scenario_runs() -> None:
    cases = sum(len(s.get("cases", [])) for s in SCENARIOS)
    errors = sum(1 for s in SCENARIOS if "expectError" in s)
    assert cases >= 200 and errors >= 5, f"only {cases} cases and {errors} refusals"
    expected = {c["expect"]["authDecision"] for s in SCENARIOS for c in s.get("cases", [])}
    assert expected == DECISIONS, expected
    assert len({s["name"] for s in SCENARIOS}) == len(SCENARIOS), "scenario names are unique (test ids)"


def test_a_flipped_expectation_fails() -> None:
    """The comparison is not vacuous: flipping any one expected decision makes its case fail."""
    flipped = 0
    for scenario in SCENARIOS:
        for case in scenario.get("cases", []):
            case = copy.deepcopy(case)
            other = {"ALLOWED": "IMPLICIT_DENY", "IMPLICIT_DENY": "EXPLICIT_DENY"}.get(case["expect"]["authDecision"], "ALLOWED")
            case["expect"]["authDecision"] = other
            assert run_case(scenario, case) is not None, f"{scenario['name']}: a flipped case passed"
            flipped += 1
    assert flipped >= 200
    # The other compared keys can fail too.
    scenario = next(s for s in SCENARIOS if s["name"] == "connect: client1 only")
    case = copy.deepcopy(scenario["cases"][0])
    assert run_case(scenario, case) is None
    case["expect"]["allowed"] = ["Other"]
    assert run_case(scenario, case) is not None
    error = next(s for s in SCENARIOS if "expectError" in s)
    assert run_error_scenario(error) is None
    error = copy.deepcopy(error)
    error["expectError"]["messageContains"] = "a sentence no message has"
    assert run_error_scenario(error) is not None


CTX = {"region": "us-east-1", "account": "123456789012", "now": 0, "clientId": "c1"}
ALLOW_CONNECT = {
    "policyName": "p",
    "policyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}],
    },
}
CONNECT = {"actionType": "CONNECT", "resources": ["arn:aws:iot:us-east-1:123456789012:client/c1"]}


def test_any_mapping_is_input_and_the_output_is_plain() -> None:
    request = MappingProxyType({"policies": [ALLOW_CONNECT], "context": CTX, "authInfos": [CONNECT]})
    out = jitr_iot.simulate_policy(request)
    [result] = out["authResults"]
    assert result["authDecision"] == "ALLOWED"
    assert result["allowed"]["policies"] == [
        {"policyName": "p", "policyArn": "arn:aws:iot:us-east-1:123456789012:policy/p"}
    ]
    assert result["decidingStatements"] == [{"policyName": "p", "index": 0, "sid": None}]
    # A document given as text decides the same.
    text = dict(ALLOW_CONNECT, policyDocument=json.dumps(ALLOW_CONNECT["policyDocument"]))
    again = jitr_iot.simulate_policy({"policies": [text], "context": CTX, "authInfos": [CONNECT]})
    assert again == out


@pytest.mark.parametrize(
    "request_, exception",
    [
        ({"policies": [], "context": CTX, "authInfos": []}, jitr_iot.InvalidRequestException),
        ({"policies": [], "context": CTX, "authInfos": [CONNECT], "x": 1}, jitr_iot.InvalidRequestException),
        ({"policies": [], "context": dict(CTX, account="1"), "authInfos": [CONNECT]}, jitr_iot.InvalidRequestException),
        (
            {"policies": [{"policyName": "p", "policyDocument": "{}"}], "context": CTX, "authInfos": [CONNECT]},
            jitr_iot.MalformedPolicyException,
        ),
        (
            {"policies": [], "context": dict(CTX, certificatePem="x"), "authInfos": [CONNECT]},
            jitr_iot.CertificateValidationException,
        ),
        (
            {"policies": [], "context": CTX, "authInfos": [{"actionType": "FLY", "resources": ["*"]}]},
            jitr_iot.InvalidRequestException,
        ),
    ],
)
def test_bad_input_raises_the_core_error(request_: Dict[str, Any], exception: type) -> None:
    raises_core_error(exception, jitr_iot.simulate_policy, request_)


def test_values_that_are_not_json_are_python_errors() -> None:
    pairs: Any = [("policies", [])]
    with pytest.raises(TypeError, match="simulate_policy takes a dict"):
        jitr_iot.simulate_policy(pairs)
    with pytest.raises(TypeError):
        jitr_iot.simulate_policy({"policies": [], "context": CTX, "authInfos": [CONNECT], "x": object()})
    int_keys: Any = {1: 2}
    with pytest.raises(TypeError, match="keys must be str"):
        jitr_iot.simulate_policy(int_keys)
    deep: Dict[str, Any] = {}
    level = deep
    for _ in range(100):
        level["a"] = {}
        level = level["a"]
    with pytest.raises(ValueError, match="deeper"):
        jitr_iot.simulate_policy(deep)
