"""The activation handler: what AWS IoT leaves to a Lambda after just-in-time registration.

On a registration event (docs/behaviour.md §8): look the certificate up; if its serial is on the
issuing CA's certificate revocation list (CRL), set it ``REVOKED``; else create a policy
from a template (or reuse it), attach it to the certificate and set it ``ACTIVE``.

The decision is the Rust core's (``jitr.plan_activation``, the same function the Rust
``Handler`` runs); this module only looks things up and carries the plan out, in the same
order and with the same rollback as the Rust handler, against either a ``jitr.Registry``
or a real boto3 ``iot`` client. It calls only boto3 method names:
``describe_certificate``, ``describe_ca_certificate`` (only when there is a CRL),
``create_policy``, ``list_attached_policies``, ``attach_policy``, ``update_certificate``,
and ``detach_policy`` to roll back.

>>> import jitr
>>> from jitr.handler import activate
>>> registry = jitr.Registry()
>>> ca = jitr.generate_ca("Fleet CA")
>>> proof = jitr.generate_verification_certificate(
...     ca, registry.get_registration_code()["registrationCode"])
>>> _ = registry.register_ca_certificate(
...     caCertificate=ca.certificate_pem, verificationCertificate=proof.certificate_pem,
...     setAsActive=True, allowAutoRegistration=True)
>>> device = jitr.issue_certificate(ca, "device-1")
>>> event = registry.connect([device.certificate_pem, ca.certificate_pem]).event
>>> [a["action"] for a in activate(event, registry)["actions"]]
['POLICY_CREATED', 'POLICY_ATTACHED', 'ACTIVATED']
>>> activate(event, registry)["actions"][0]["reason"]  # a repeated event
'NOT_PENDING_ACTIVATION'
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, TypedDict, Union

from jitr._errors import InvalidRequestException
from jitr._jitr import Crl, PolicyTemplate, Registry, parse_registration_event, plan_activation

__all__ = [
    "activate",
    "lambda_handler",
    "crl_source",
    "policy_template",
    "iot_client",
    "Action",
    "Report",
    "CrlLike",
]

log = logging.getLogger(__name__)

#: A CRL as ``activate`` takes it: a ``jitr.Crl``, or its PEM/DER encoding.
CrlLike = Union[Crl, bytes, bytearray, str]


class _ActionBase(TypedDict):
    action: str


class Action(_ActionBase, total=False):
    """One thing the handler did, as the Rust ``Action``.

    ``action`` is one of ``POLICY_CREATED``, ``POLICY_REUSED`` (with ``policyName``),
    ``POLICY_ATTACHED`` (with ``policyName`` and ``target``, the certificate ARN),
    ``ACTIVATED``, ``REVOKED``, or ``SKIPPED`` (with ``reason``, a machine code, and
    ``message``, a sentence).

    ``ACTIVATED`` and ``REVOKED`` record that ``update_certificate`` succeeded. boto3's
    UpdateCertificate does not say whether the status changed, so where the Rust report
    counts only a change, two handlers racing on one event may both record ``ACTIVATED``
    here (the certificate changes once).
    """

    policyName: str
    target: str
    reason: str
    message: str


class Report(TypedDict):
    """What the handler did for one event: the certificate and its actions, in order."""

    certificateId: str
    actions: List[Action]


#: ``lambda_handler``'s CRL source, if set: called with the CA's certificate ID for each
#: event, returns that CA's CRL (a ``jitr.Crl`` or its PEM/DER encoding) or ``None`` (no
#: CRL check). Takes precedence over the ``JITR_CRL_PATH`` environment variable.
crl_source: Optional[Callable[[str], Optional[CrlLike]]] = None

#: ``lambda_handler``'s policy template; ``None`` means ``PolicyTemplate.aws_sample()``.
policy_template: Optional[PolicyTemplate] = None

#: The client ``lambda_handler`` uses: ``boto3.client("iot")``, made on first use and kept
#: for the next invocations. Set it to use another (a client with your own configuration,
#: or a ``jitr.Registry``).
iot_client: Any = None


def _error_code(e: BaseException) -> Optional[str]:
    """The AWS error code of a jitr error or a botocore ``ClientError``, else ``None``."""
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        error = response.get("Error")
        if isinstance(error, dict):
            code = error.get("Code")
            return code if isinstance(code, str) else None
    return None


def _to_crl(value: CrlLike) -> Crl:
    return value if isinstance(value, Crl) else Crl.from_bytes(value)


def _scope(certificate_arn: str) -> Tuple[str, str, str]:
    """(partition, region, account) from ``arn:<partition>:iot:<region>:<account>:cert/<id>``
    (the core checks them)."""
    parts = certificate_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise InvalidRequestException(
            f"DescribeCertificate returned {certificate_arn!r}, not a certificate ARN"
        )
    return parts[1], parts[3], parts[4]


def activate(
    event: Union[Mapping[str, Any], str],
    client: Any,
    crl: Union[CrlLike, Callable[[str], Optional[CrlLike]], None] = None,
    policy_template: Optional[PolicyTemplate] = None,
    stale_crl: str = "REFUSE",
    now: Union[datetime, float, None] = None,
) -> Report:
    """Handles one registration event and returns what it did.

    ``event`` is the payload AWS IoT publishes on
    ``$aws/events/certificates/registered/<caCertificateId>`` (a ``dict``, as a Lambda
    receives it, or its JSON). ``client`` is a ``jitr.Registry`` or a boto3 ``iot`` client.
    ``crl`` is the issuing CA's CRL (a ``jitr.Crl``, its PEM/DER encoding, or a callable
    that takes the CA's certificate ID and returns one or ``None``); without one, no
    certificate is revoked. ``policy_template`` defaults to
    ``PolicyTemplate.aws_sample()``. ``stale_crl`` is ``"REFUSE"`` (the default: while the
    CRL's nextUpdate has passed, certificates stay pending, with a reason) or ``"ACCEPT"``.
    ``now`` (a timezone-aware ``datetime`` or epoch seconds) defaults to the clock; it is
    also passed to a ``jitr.Registry``'s methods.

    Steps, as the Rust handler: describe the certificate (unknown:
    ``ResourceNotFoundException``); ask the core for the plan; then either record why the
    certificate is left alone (``SKIPPED``: it is no longer ``PENDING_ACTIVATION``, or the
    CRL was not issued by the CA, is stale or not yet valid), or set it ``REVOKED`` (its
    serial is on the CRL; no policy), or create the policy (``POLICY_REUSED`` if it exists:
    ``ResourceAlreadyExistsException`` from jitr or botocore), attach it and set the
    certificate ``ACTIVE``. If setting ``ACTIVE`` fails after this call attached the policy,
    the policy is detached again before the error propagates: a certificate that stays
    pending never keeps a policy.

    Errors change nothing: a malformed event (missing or unknown fields, wrong types, IDs
    that are not 64 hex characters), a garbage CRL or a template the certificate cannot fill
    raise ``InvalidRequestException``; the client's errors propagate as they are. Repeating
    an event changes nothing more (``SKIPPED``, ``NOT_PENDING_ACTIVATION``).
    """
    payload = parse_registration_event(event)
    certificate_id: str = payload["certificateId"]
    ca_certificate_id: str = payload["caCertificateId"]
    if callable(crl):
        crl = crl(ca_certificate_id)
    the_crl = None if crl is None else _to_crl(crl)
    extra: Dict[str, Any] = {"now": now} if isinstance(client, Registry) else {}

    description = client.describe_certificate(certificateId=certificate_id, **extra)[
        "certificateDescription"
    ]
    ca_pem: Optional[str] = None
    if the_crl is not None:
        try:
            ca_pem = client.describe_ca_certificate(certificateId=ca_certificate_id, **extra)[
                "certificateDescription"
            ]["certificatePem"]
        except Exception as e:
            if _error_code(e) != "ResourceNotFoundException":
                raise
    target: str = description["certificateArn"]
    partition, region, account_id = _scope(target)
    plan = plan_activation(
        payload,
        certificate_pem=description["certificatePem"],
        status=description["status"],
        ca_certificate_pem=ca_pem,
        crl=the_crl,
        template=policy_template,
        stale_crl=stale_crl,
        now=now,
        account_id=account_id,
        region=region,
        partition=partition,
    )

    actions: List[Action] = []
    if plan["action"] == "SKIP":
        actions.append({"action": "SKIPPED", "reason": plan["reason"], "message": plan["message"]})
    elif plan["action"] == "REVOKE":
        client.update_certificate(certificateId=certificate_id, newStatus="REVOKED", **extra)
        actions.append({"action": "REVOKED"})
    elif plan["action"] == "ACTIVATE":
        name = plan["policyName"]
        try:
            client.create_policy(policyName=name, policyDocument=plan["policyDocument"], **extra)
            actions.append({"action": "POLICY_CREATED", "policyName": name})
        except Exception as e:
            if _error_code(e) != "ResourceAlreadyExistsException":
                raise
            actions.append({"action": "POLICY_REUSED", "policyName": name})
        was_attached = name in _attached_policy_names(client, target, extra)
        client.attach_policy(policyName=name, target=target, **extra)
        if not was_attached:
            actions.append({"action": "POLICY_ATTACHED", "policyName": name, "target": target})
        try:
            client.update_certificate(certificateId=certificate_id, newStatus="ACTIVE", **extra)
        except Exception:
            if not was_attached:
                # Roll back: no policy on a certificate that is not activated.
                try:
                    client.detach_policy(policyName=name, target=target, **extra)
                except Exception:
                    log.exception("jitr: could not detach %s from %s after a failure", name, target)
            raise
        actions.append({"action": "ACTIVATED"})
    else:  # pragma: no cover - a newer core with a plan this module does not know
        raise InvalidRequestException(f"unknown plan {plan!r}")
    return {"certificateId": certificate_id, "actions": actions}


def _attached_policy_names(client: Any, target: str, extra: Dict[str, Any]) -> List[str]:
    names: List[str] = []
    marker: Optional[str] = None
    while True:
        page = client.list_attached_policies(
            target=target, **({"marker": marker} if marker else {}), **extra
        )
        names.extend(p["policyName"] for p in page.get("policies", []))
        marker = page.get("nextMarker")
        if not marker:
            return names


def _crl_from_environment(ca_certificate_id: str) -> Optional[bytes]:
    """The CRL named by ``JITR_CRL_PATH``: a file (one CA's CRL), or a directory holding
    ``<caCertificateId>.crl`` per CA (a CA without a file there has no CRL)."""
    path = os.environ.get("JITR_CRL_PATH")
    if not path:
        return None
    p = Path(path)
    if p.is_dir():
        p = p / f"{ca_certificate_id}.crl"
        if not p.exists():
            return None
    return p.read_bytes()


def _lambda_crl(ca_certificate_id: str) -> Optional[CrlLike]:
    source = crl_source if crl_source is not None else _crl_from_environment
    return source(ca_certificate_id)


def lambda_handler(event: Dict[str, Any], context: Any) -> Report:
    """The AWS Lambda entry point (handler ``jitr.handler.lambda_handler``).

    Subscribe it to registration events with an AWS IoT rule such as ``SELECT * FROM
    '$aws/events/certificates/registered/#'``: the Lambda receives the payload as a dict.
    It runs :func:`activate` with ``boto3.client("iot")`` (boto3 is imported here, on first
    use; see :data:`iot_client`), the clock, :data:`policy_template`, and the issuing CA's
    CRL from :data:`crl_source` if set, else from ``JITR_CRL_PATH`` (a CRL file, PEM or
    DER, or a directory of ``<caCertificateId>.crl`` files), read at each event so a new
    CRL takes effect without a restart. ``JITR_STALE_CRL`` is ``REFUSE`` (default) or
    ``ACCEPT``. Returns the report (JSON-serializable) and logs it; errors propagate, so
    the invocation fails and is retried: the handler is idempotent.
    """
    global iot_client
    if iot_client is None:
        import boto3  # type: ignore[import-untyped,unused-ignore]

        iot_client = boto3.client("iot")
    report = activate(
        event,
        iot_client,
        crl=_lambda_crl,
        policy_template=policy_template,
        stale_crl=os.environ.get("JITR_STALE_CRL", "REFUSE"),
    )
    log.info("jitr: %s", json.dumps(report))
    return report
