"""jitr_iot (distribution ``jitr-iot``): Just-in-Time Registration of X.509 device certificates, as AWS IoT Core does it.

An offline, faithful stand-in for the AWS IoT certificate APIs (boto3's ``iot`` client
method names, keyword arguments, responses and exceptions) plus the JITR decision on each
device connection, and certificate tooling. The work is done by the Rust core
(``jitr-core``); this package only converts.

>>> import jitr_iot
>>> registry = jitr_iot.Registry()
>>> ca = jitr_iot.generate_ca("Fleet CA")
>>> proof = jitr_iot.generate_verification_certificate(
...     ca, registry.get_registration_code()["registrationCode"])
>>> ca_id = registry.register_ca_certificate(
...     caCertificate=ca.certificate_pem, verificationCertificate=proof.certificate_pem,
...     setAsActive=True, allowAutoRegistration=True)["certificateId"]
>>> device = jitr_iot.issue_certificate(ca, "device-1")
>>> chain = [device.certificate_pem, ca.certificate_pem]
>>> first = registry.connect(chain)
>>> first.allowed, first.reason, first.event["certificateStatus"]
(False, 'REGISTERED_PENDING_ACTIVATION', 'PENDING_ACTIVATION')
>>> _ = registry.update_certificate(certificateId=first.certificate_id, newStatus="ACTIVE")
>>> registry.connect(chain).allowed
True
"""

from jitr_iot import exceptions as exceptions
from jitr_iot._errors import CrlError
from jitr_iot._jitr import (
    AUTO_REGISTRATION_STATUSES,
    CA_STATUSES,
    CERTIFICATE_MODES,
    CERTIFICATE_STATUSES,
    ERROR_CODES,
    EXTENSIONS,
    KEY_TYPES,
    OPERATIONS,
    REFUSAL_CODES,
    Certificate,
    Crl,
    Decision,
    GeneratedCertificate,
    PolicyTemplate,
    Registry,
    __version__,
    certificate_id,
    generate_ca,
    generate_verification_certificate,
    issue_certificate,
    load_pem_chain,
    parse_registration_event,
    preview_provisioning,
    simulate_policy,
)
from jitr_iot._types import (
    AutoRegistrationStatus,
    CaStatus,
    CertificateMode,
    CertificateStatus,
    IotClient,
    KeyType,
    RefusalCode,
)
from jitr_iot.exceptions import (
    CertificateConflictException,
    CertificateStateException,
    CertificateValidationException,
    ClientError,
    DeleteConflictException,
    InvalidRequestException,
    JitrError,
    LimitExceededException,
    InternalFailureException,
    MalformedPolicyException,
    OperationNotImplementedError,
    ParamValidationError,
    RegistrationCodeValidationException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ServiceUnavailableException,
    VersionConflictException,
    VersionsLimitExceededException,
)
from jitr_iot.mock import MockIot, mock_iot

__all__ = [
    "Registry",
    "Decision",
    "Certificate",
    "GeneratedCertificate",
    "certificate_id",
    "load_pem_chain",
    "generate_ca",
    "generate_verification_certificate",
    "issue_certificate",
    "Crl",
    "PolicyTemplate",
    "parse_registration_event",
    "simulate_policy",
    "preview_provisioning",
    "mock_iot",
    "MockIot",
    "exceptions",
    "ERROR_CODES",
    "KEY_TYPES",
    "OPERATIONS",
    "EXTENSIONS",
    "REFUSAL_CODES",
    "CERTIFICATE_STATUSES",
    "CA_STATUSES",
    "AUTO_REGISTRATION_STATUSES",
    "CERTIFICATE_MODES",
    "CertificateStatus",
    "CaStatus",
    "AutoRegistrationStatus",
    "CertificateMode",
    "RefusalCode",
    "KeyType",
    "IotClient",
    "JitrError",
    "ClientError",
    "ParamValidationError",
    "OperationNotImplementedError",
    "ResourceNotFoundException",
    "ResourceAlreadyExistsException",
    "RegistrationCodeValidationException",
    "InvalidRequestException",
    "CertificateValidationException",
    "CertificateStateException",
    "CertificateConflictException",
    "LimitExceededException",
    "DeleteConflictException",
    "MalformedPolicyException",
    "VersionConflictException",
    "VersionsLimitExceededException",
    "ServiceUnavailableException",
    "InternalFailureException",
    "CrlError",
    "__version__",
]

# The activation handler (jitr_iot.handler.activate, jitr_iot.handler.lambda_handler): Python I/O
# over the core's state machine (jitr_iot.handler.Activation); imports boto3 only when
# lambda_handler needs it.
from jitr_iot import handler as handler  # noqa: E402
