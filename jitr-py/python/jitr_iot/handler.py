"""The activation handler: what AWS IoT leaves to a Lambda after just-in-time registration.

On a registration event (docs/behaviour.md §8): look the certificate up; if its serial is on the
issuing CA's certificate revocation list (CRL), set it ``REVOKED``; else create a policy
from a template (or reuse it), attach it to the certificate and set it ``ACTIVE``.

Every decision is the Rust core's: :class:`Activation` is the core's state machine (the
one the Rust ``Handler`` drives), which names each call and reads each reply, with one
rule for errors, the CRL rules and the rollback (see the core's ``jitr_core::handler``
docs). This module only makes the calls it names, against a ``jitr_iot.Registry`` or a real
boto3 ``iot`` client: ``describe_certificate``, ``describe_ca_certificate`` (only when
there is a CRL), ``create_policy``, ``list_attached_policies``, ``attach_policy``,
``update_certificate``, and ``detach_policy`` to roll back.

Run as a program, it is the handler as its own process, subscribed to the registration
events on an MQTT broker the way an AWS IoT rule routes them to a Lambda (paho-mqtt, a
persistent session and QoS 1; see :func:`serve`)::

    python -m jitr_iot.handler --broker 127.0.0.1:1883 --store sqlite:///path/fleet.db

>>> import jitr_iot
>>> from jitr_iot.handler import activate
>>> registry = jitr_iot.Registry()
>>> ca = jitr_iot.generate_ca("Fleet CA")
>>> proof = jitr_iot.generate_verification_certificate(
...     ca, registry.get_registration_code()["registrationCode"])
>>> _ = registry.register_ca_certificate(
...     caCertificate=ca.certificate_pem, verificationCertificate=proof.certificate_pem,
...     setAsActive=True, allowAutoRegistration=True)
>>> device = jitr_iot.issue_certificate(ca, "device-1")
>>> event = registry.connect([device.certificate_pem, ca.certificate_pem]).event
>>> [a["action"] for a in activate(event, registry)["actions"]]
['POLICY_CREATED', 'POLICY_ATTACHED', 'ACTIVATED']
>>> activate(event, registry)["actions"][0]["reason"]  # a repeated event
'NOT_PENDING_ACTIVATION'
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TypedDict, Union

from jitr_iot._jitr import Activation, Call, Crl, PolicyTemplate, Registry, parse_registration_event

__all__ = [
    "activate",
    "lambda_handler",
    "serve",
    "main",
    "EVENTS_TOPIC",
    "crl_source",
    "policy_template",
    "iot_client",
    "Action",
    "Activation",
    "Call",
    "Report",
    "CrlLike",
]

log = logging.getLogger(__name__)

#: A CRL as ``activate`` takes it: a ``jitr_iot.Crl``, or its PEM/DER encoding.
CrlLike = Union[Crl, bytes, bytearray, str]


class _ActionBase(TypedDict):
    action: str


class Action(_ActionBase, total=False):
    """One thing the handler did, as the core's ``Action``.

    ``action`` is one of ``POLICY_CREATED``, ``POLICY_REUSED`` (with ``policyName``),
    ``POLICY_ATTACHED`` (with ``policyName`` and ``target``, the certificate ARN),
    ``ACTIVATED``, ``REVOKED``, ``SKIPPED`` (with ``reason``, a machine code, and
    ``message``, a sentence), ``CRL_NOT_CHECKED`` (with ``reason`` and ``message``:
    activated without a revocation check, under ``require_crl="NEVER"``), and, in the
    log of a failed run's rollback, ``POLICY_DETACHED`` and ``POLICY_DETACH_FAILED``.

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
#: event, returns that CA's CRL (a ``jitr_iot.Crl`` or its PEM/DER encoding) or ``None`` (no
#: CRL configured for that CA). Takes precedence over the ``JITR_CRL_PATH`` environment
#: variable.
crl_source: Optional[Callable[[str], Optional[CrlLike]]] = None

#: ``lambda_handler``'s policy template; ``None`` means ``PolicyTemplate.aws_sample()``.
policy_template: Optional[PolicyTemplate] = None

#: The client ``lambda_handler`` uses: ``boto3.client("iot")``, made on first use and kept
#: for the next invocations. Set it to use another (a client with your own configuration,
#: or a ``jitr_iot.Registry``).
iot_client: Any = None


def activate(
    event: Union[Mapping[str, Any], str],
    client: Any,
    crl: Union[CrlLike, Callable[[str], Optional[CrlLike]], None] = None,
    policy_template: Optional[PolicyTemplate] = None,
    stale_crl: str = "REFUSE",
    now: Union[datetime, float, None] = None,
    require_crl: str = "IF_CONFIGURED",
) -> Report:
    """Handles one registration event and returns what it did.

    ``event`` is the payload AWS IoT publishes on
    ``$aws/events/certificates/registered/<caCertificateId>`` (a ``dict``, as a Lambda
    receives it, or its JSON). ``client`` is a ``jitr_iot.Registry`` or a boto3 ``iot`` client.
    ``crl`` is the issuing CA's CRL (a ``jitr_iot.Crl``, its PEM/DER encoding, or a callable
    that takes the CA's certificate ID and returns one or ``None``); ``None`` means no CRL
    is configured for the CA. ``policy_template`` defaults to
    ``PolicyTemplate.aws_sample()``. ``stale_crl`` is ``"REFUSE"`` (the default: while the
    CRL's nextUpdate has passed, certificates stay pending, with a reason) or ``"ACCEPT"``.
    ``require_crl`` says what happens when the CA has no usable CRL (none configured, the
    CA not registered, stale, not yet valid, not issued by the CA, not covering the
    certificate): ``"IF_CONFIGURED"`` (the default) leaves the certificate pending with
    the reason when a CRL was given (fail closed) and activates it, as AWS's sample does,
    when none was; ``"ALWAYS"`` requires a usable CRL; ``"NEVER"`` activates without the
    check (``CRL_NOT_CHECKED``). ``now`` (a timezone-aware ``datetime`` or epoch seconds)
    defaults to the clock; it is also passed to a ``jitr_iot.Registry``'s methods.

    The steps, the error rule and the rollback are the core's: an unknown certificate is
    the client's ``ResourceNotFoundException``; DescribeCACertificate's
    ``ResourceNotFoundException`` means no CRL check (``CRL_CA_NOT_FOUND``);
    CreatePolicy's ``ResourceAlreadyExistsException`` means the policy is reused
    (``POLICY_REUSED``); any other error of the client propagates as it is, and if setting
    ``ACTIVE`` fails after this call attached the policy, the policy is detached first: a
    certificate that stays pending never keeps a policy.

    Errors change nothing: a malformed event (missing or unknown fields, wrong types, IDs
    that are not 64 hex characters), a garbage CRL or a template the certificate cannot fill
    raise ``InvalidRequestException``. Repeating an event changes nothing more
    (``SKIPPED``, ``NOT_PENDING_ACTIVATION``).
    """
    payload = parse_registration_event(event)
    if callable(crl):
        crl = crl(payload["caCertificateId"])
    run = Activation(
        payload,
        crl=crl,
        template=policy_template,
        stale_crl=stale_crl,
        require_crl=require_crl,
        now=now,
    )
    extra: Dict[str, Any] = {"now": now} if isinstance(client, Registry) else {}
    errors: Dict[str, Exception] = {}
    call = run.next_call()
    while call is not None:
        try:
            output = getattr(client, call.operation)(**call.params, **extra)
        except Exception as e:
            errors[call.operation] = e
            run.failed(e)
        else:
            run.succeeded(output)
        call = run.next_call()
    failed = run.failed_operation
    if failed is not None:
        log.error("jitr: %s failed for %s; done: %s", failed, run.certificate_id, json.dumps(run.actions))
        raise errors[failed]
    report: Report = run.report()
    return report


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
    """The AWS Lambda entry point (handler ``jitr_iot.handler.lambda_handler``).

    Subscribe it to registration events with an AWS IoT rule such as ``SELECT * FROM
    '$aws/events/certificates/registered/#'``: the Lambda receives the payload as a dict.
    It runs :func:`activate` with ``boto3.client("iot")`` (boto3 is imported here, on first
    use; see :data:`iot_client`), the clock, :data:`policy_template`, and the issuing CA's
    CRL from :data:`crl_source` if set, else from ``JITR_CRL_PATH`` (a CRL file, PEM or
    DER, or a directory of ``<caCertificateId>.crl`` files), read at each event so a new
    CRL takes effect without a restart (a CA with no file in the directory has no CRL
    configured). ``JITR_STALE_CRL`` is ``REFUSE`` (default) or ``ACCEPT``;
    ``JITR_REQUIRE_CRL`` is ``IF_CONFIGURED`` (default: a CA that has a CRL there stays
    pending while that CRL cannot be used, so an unusable CRL never becomes an
    activation), ``ALWAYS`` or ``NEVER`` (see :func:`activate`). Returns the report (JSON-serializable) and logs it; errors propagate, so
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
        require_crl=os.environ.get("JITR_REQUIRE_CRL", "IF_CONFIGURED"),
    )
    log.info("jitr: %s", json.dumps(report))
    return report


#: The topic filter of every registration event
#: (``$aws/events/certificates/registered/<caCertificateId>``).
EVENTS_TOPIC = "$aws/events/certificates/registered/#"


def serve(
    broker: str,
    store: str,
    *,
    region: str = "us-east-1",
    client_id: str = "jitr-activation-handler-py",
    crl: Union[Callable[[str], Optional[CrlLike]], None] = None,
    policy_template: Optional[PolicyTemplate] = None,
    stale_crl: str = "REFUSE",
    require_crl: str = "IF_CONFIGURED",
    on_report: Optional[Callable[[Report], None]] = None,
) -> None:
    """Runs the handler as a subscriber of the registration events on ``broker``
    (``HOST:PORT``, plain MQTT 3.1.1), against the registry on ``store`` (a
    ``sqlite:///…`` or ``postgresql://…`` URL the gateway shares), until interrupted.

    The way an AWS IoT rule (``SELECT * FROM '$aws/events/certificates/registered/#'``)
    invokes a Lambda: each event runs :func:`activate` with a ``jitr_iot.Registry`` of the
    event's account in ``region``. The subscription is QoS 1 on a persistent session
    (``clean_session=False``): events published while the handler was away are delivered
    when it reconnects, as long as the broker kept its session; each event is
    acknowledged only after it was handled, so a handler that dies mid-way gets it again
    (handling is idempotent: a repeated event is ``SKIPPED``). An event that is not a
    registration event, or whose handling fails, is logged and acknowledged: it is not
    retried forever. ``on_report`` is called with each report. Needs ``paho-mqtt`` 2.x.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"broker must be HOST:PORT, got {broker!r}")
    registries: Dict[str, Registry] = {}

    def registry_for(account: str) -> Registry:
        if account not in registries:
            registries[account] = Registry(account_id=account, region=region, store=store)
        return registries[account]

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        log.info("jitr: connected to %s (%s); subscribing to %s", broker, reason_code, EVENTS_TOPIC)
        client.subscribe(EVENTS_TOPIC, qos=1)

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            event = json.loads(message.payload)
            registry = registry_for(str(event["awsAccountId"]))
            report = activate(
                event,
                registry,
                crl=crl,
                policy_template=policy_template,
                stale_crl=stale_crl,
                require_crl=require_crl,
            )
        except Exception:
            log.exception("jitr: the event on %s was not handled", message.topic)
        else:
            log.info("jitr: %s", json.dumps(report))
            if on_report is not None:
                on_report(report)
        client.ack(message.mid, message.qos)

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    client.manual_ack_set(True)
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, int(port), keepalive=30)
    try:
        client.loop_forever(retry_first_connection=True)
    finally:
        for r in registries.values():
            r.close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m jitr_iot.handler --broker HOST:PORT --store URL [--region R]``."""
    parser = argparse.ArgumentParser(
        prog="python -m jitr_iot.handler",
        description="jitr's activation handler, subscribed to the registration events on an MQTT broker.",
    )
    parser.add_argument("--broker", required=True, help="the MQTT broker, HOST:PORT (plain MQTT)")
    parser.add_argument("--store", required=True, help="the registry's store: sqlite:///path or postgresql://...")
    parser.add_argument("--region", default="us-east-1", help="the AWS region of the accounts (default us-east-1)")
    parser.add_argument("--client-id", default="jitr-activation-handler-py", help="the MQTT client id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        serve(args.broker, args.store, region=args.region, client_id=args.client_id)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
