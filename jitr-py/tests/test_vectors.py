"""Runs every shared vector in tests/vectors/ through the public Python API
(``getattr(registry, op)(**args)`` and ``registry.connect``), with the comparison rules of
tests/vectors/README.md, as the Rust runner (tests/tests/vectors.rs) does.

Beside each public call, the same step also runs on a second registry through the core's
raw JSON entry point (``jitr_core::api::call``, what the Rust runner calls): the two must
agree on every step (same error code, or the same response once datetimes are turned back
into epoch seconds), so the Python conversions lose nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import jitr_iot
from jitr_iot import _jitr
from conftest import VECTORS

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FILES = sorted(VECTORS.glob("*.json"))
CONNECT_KEYS = ["allowed", "reason", "certificateId", "caCertificateId", "topic", "event"]


def wire(value: Any) -> Any:
    """A Python response as the JSON the AWS CLI prints: datetimes as epoch seconds."""
    if isinstance(value, datetime):
        return (value - EPOCH) / timedelta(seconds=1)
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def without_generation_ids(value: Any) -> Any:
    """generationId and the IDs of things, thing types and thing groups are fresh random
    UUIDs in each registry."""
    fresh = {"generationId", "thingId", "thingTypeId", "thingGroupId"}
    if isinstance(value, dict):
        return {k: ("<uuid>" if k in fresh else without_generation_ids(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [without_generation_ids(v) for v in value]
    return value


def check_subset(expected: Dict[str, Any], actual: Any, ctx: str) -> Optional[str]:
    """expected ⊆ actual; an expected null means absent or null."""
    for key, want in expected.items():
        got = actual.get(key) if isinstance(actual, dict) else None
        if isinstance(want, dict) and isinstance(got, dict):
            failure = check_subset(want, got, f"{ctx}.{key}")
            if failure:
                return failure
        elif want != got:
            return f"{ctx}.{key}: expected {want!r}, got {got!r}"
    return None


def call_public(registry: jitr_iot.Registry, op: str, args: Dict[str, Any], now: datetime) -> Any:
    if op == "connect":
        d = registry.connect(args["chain"], args["serverName"], now)
        return {
            "allowed": d.allowed,
            "reason": d.reason,
            "message": d.message,
            "certificateId": d.certificate_id,
            "caCertificateId": d.ca_certificate_id,
            "topic": d.topic,
            "event": d.event_json,
        }
    return wire(getattr(registry, op)(**args, now=now))


def compare(op: str, expect: Dict[str, Any], got: Any) -> Optional[str]:
    if op == "connect":
        for key in CONNECT_KEYS:
            if key not in expect:
                return f"expect.{key} missing"
            if got[key] != expect[key]:
                return f"connect.{key}: expected {expect[key]!r}, got {got[key]!r} ({got['message']})"
        return None
    if op in {"list_certificates", "list_ca_certificates", "list_certificates_by_ca"}:
        ids = [c["certificateId"] for c in got["certificates"]]
        if "certificateIds" in expect and ids != expect["certificateIds"]:
            return f"{op}: expected {expect['certificateIds']}, got {ids}"
        if "hasNextMarker" in expect and ("nextMarker" in got) != expect["hasNextMarker"]:
            return f"{op}: hasNextMarker expected {expect['hasNextMarker']}, got {got}"
        return None
    if op == "list_attached_policies":
        names = [p["policyName"] for p in got["policies"]]
        if "policyNames" in expect and names != expect["policyNames"]:
            return f"{op}: expected {expect['policyNames']}, got {names}"
        return None
    return check_subset(expect, got, op)


def run_file(path: Path) -> Tuple[int, List[str]]:
    v = json.loads(path.read_text())
    public = jitr_iot.Registry(v["account"], v["region"], v["partition"], registration_code=v["registrationCode"])
    raw = jitr_iot.Registry(v["account"], v["region"], v["partition"], registration_code=v["registrationCode"])
    failures: List[str] = []
    for i, step in enumerate(v["steps"]):
        op, args, expect = step["op"], step["args"], step["expect"]
        now = EPOCH + timedelta(milliseconds=step["now"])
        where = f"{path.name} step {i} ({op}; {step.get('note', '')})"
        before = public.export_state()
        try:
            got: Any = call_public(public, op, args, now)
            error = None
        except jitr_iot.JitrError as e:
            got, error = None, e.code
        # The core's own answer to the same step, on the twin registry.
        ok, raw_out = _jitr._api_call(raw, op, json.dumps(args), step["now"])
        if error is not None:
            if ok or raw_out != error:
                failures.append(f"{where}: Python raised {error}, the core answered {raw_out}")
        elif not ok:
            failures.append(f"{where}: Python succeeded, the core raised {raw_out}")
        else:
            core = json.loads(raw_out)
            mine = {k: got[k] for k in core} if op == "connect" else got
            if without_generation_ids(mine) != without_generation_ids(core):
                failures.append(f"{where}: Python {mine!r} differs from the core's {core!r}")

        if "error" in expect:
            if error != expect["error"]:
                failures.append(f"{where}: expected {expect['error']}, got {error or 'success'}")
            elif public.export_state() != before:
                failures.append(f"{where}: failed with {error} but changed the registry")
            continue
        if error is not None:
            failures.append(f"{where}: unexpected {error}")
            continue
        failure = compare(op, expect, got)
        if failure:
            failures.append(f"{where}: {failure}")
    return len(v["steps"]), failures


def test_the_shared_vectors_exist() -> None:
    assert len(FILES) >= 5, FILES


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_vector_file(path: Path) -> None:
    steps, failures = run_file(path)
    assert steps > 0
    assert not failures, f"{len(failures)} of {steps} steps failed:\n" + "\n".join(failures)


def test_all_vectors_summary(capsys: pytest.CaptureFixture[str]) -> None:
    total = 0
    failed = 0
    for path in FILES:
        steps, failures = run_file(path)
        total += steps
        failed += len(failures)
    with capsys.disabled():
        print(f"\nvectors (Python public API): {len(FILES)} files, {total} steps, {failed} failures")
    assert total > 100 and failed == 0


def test_the_runner_can_fail(tmp_path: Path) -> None:
    """A wrong expectation, a wrong error code and a wrong connect field are all caught."""
    v = json.loads((VECTORS / "jitr-story.json").read_text())
    steps = v["steps"]
    connect = next(s for s in steps if s["op"] == "connect")
    connect["expect"]["reason"] = "UNKNOWN_ISSUER"
    erring = next(s for s in steps if "error" in s["expect"])
    erring["expect"]["error"] = "LimitExceededException"
    described = next(s for s in steps if s["op"] == "describe_certificate" and "error" not in s["expect"])
    described["expect"]["certificateDescription"]["status"] = "REVOKED_SOMEHOW"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(v))
    _, failures = run_file(path)
    assert len(failures) >= 3, failures
