"""Types shared by the stubs, the activation handler and users' code: the AWS IoT
vocabularies as ``Literal`` types (each equal to the core's list, which the tests check),
and :class:`IotClient`, what the activation handler needs of a client — satisfied by a
:class:`jitr_iot.Registry` and by a boto3 ``iot`` client alike. Each is public as
``jitr_iot.<name>``: the package's ``__all__`` lists them (this module is private).

>>> from jitr_iot import IotClient, Registry
>>> def activate_all(client: IotClient) -> None: ...
>>> activate_all(Registry())  # and activate_all(boto3.client("iot"))
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Protocol

#: A device certificate's status (``jitr_iot.CERTIFICATE_STATUSES``).
CertificateStatus = Literal[
    "ACTIVE",
    "INACTIVE",
    "REVOKED",
    "PENDING_TRANSFER",
    "REGISTER_INACTIVE",
    "PENDING_ACTIVATION",
]

#: A CA certificate's status (``jitr_iot.CA_STATUSES``).
CaStatus = Literal["ACTIVE", "INACTIVE"]

#: A CA certificate's auto-registration status (``jitr_iot.AUTO_REGISTRATION_STATUSES``).
AutoRegistrationStatus = Literal["ENABLE", "DISABLE"]

#: A certificate's mode (``jitr_iot.CERTIFICATE_MODES``).
CertificateMode = Literal["DEFAULT", "SNI_ONLY"]

#: Why JITR refused a connection (``Decision.reason``; ``jitr_iot.REFUSAL_CODES``).
RefusalCode = Literal[
    "NO_CERTIFICATE",
    "CHAIN_TOO_LONG",
    "CERTIFICATE_TOO_LARGE",
    "MALFORMED_CERTIFICATE",
    "REGISTERED_PENDING_ACTIVATION",
    "PENDING_ACTIVATION",
    "CERTIFICATE_INACTIVE",
    "CERTIFICATE_REVOKED",
    "CERTIFICATE_PENDING_TRANSFER",
    "CERTIFICATE_REGISTER_INACTIVE",
    "CERTIFICATE_EXPIRED",
    "CERTIFICATE_NOT_YET_VALID",
    "UNKNOWN_ISSUER",
    "BAD_SIGNATURE",
    "AMBIGUOUS_CA",
    "SNI_REQUIRED",
    "CA_INACTIVE",
    "AUTO_REGISTRATION_DISABLED",
    "CA_EXPIRED",
    "CA_NOT_YET_VALID",
    "CA_REQUIRES_SNI",
    "EKU_NOT_CLIENT_AUTH",
    "INVALID_CERTIFICATE",
    "UNKNOWN_SERVER_NAME",
    "NO_ACCOUNT",
    "STORE_UNAVAILABLE",
    "PROVISIONED",
    "PROVISIONING_FAILED",
]


#: A key type of the certificate tooling (``jitr_iot.KEY_TYPES``).
KeyType = Literal["EC_P256", "EC_P384", "RSA_2048", "ED25519"]


class IotClient(Protocol):
    """The boto3 ``iot`` client methods the activation handler calls, keyword arguments
    only, as boto3 declares them. A :class:`jitr_iot.Registry` satisfies it (its methods
    take these arguments, and ``now``), and so does a boto3 ``iot`` client (typed by
    ``boto3-stubs[iot]``, or untyped).
    """

    def describe_certificate(self, *, certificateId: str) -> Mapping[str, Any]: ...

    def describe_ca_certificate(self, *, certificateId: str) -> Mapping[str, Any]: ...

    def create_policy(self, *, policyName: str, policyDocument: str) -> Mapping[str, Any]: ...

    def get_policy(self, *, policyName: str) -> Mapping[str, Any]: ...

    def attach_policy(self, *, policyName: str, target: str) -> Mapping[str, Any]: ...

    def detach_policy(self, *, policyName: str, target: str) -> Mapping[str, Any]: ...

    def list_attached_policies(self, *, target: str, marker: str = ...) -> Mapping[str, Any]: ...

    def update_certificate(
        self, *, certificateId: str, newStatus: CertificateStatus
    ) -> Mapping[str, Any]: ...
