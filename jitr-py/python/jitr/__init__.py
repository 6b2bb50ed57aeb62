"""jitr: Just-in-Time Registration of X.509 device certificates, as AWS IoT Core does it.

An offline, faithful stand-in for the AWS IoT certificate APIs (boto3's ``iot`` client
method names, keyword arguments, responses and exceptions) plus the JITR decision on each
device connection, and certificate tooling. The work is done by the Rust core
(``jitr-core``); this package only converts.

>>> import jitr
>>> registry = jitr.Registry()
>>> ca = jitr.generate_ca("Fleet CA")
>>> proof = jitr.generate_verification_certificate(
...     ca, registry.get_registration_code()["registrationCode"])
>>> ca_id = registry.register_ca_certificate(
...     caCertificate=ca.certificate_pem, verificationCertificate=proof.certificate_pem,
...     setAsActive=True, allowAutoRegistration=True)["certificateId"]
>>> device = jitr.issue_certificate(ca, "device-1")
>>> chain = [device.certificate_pem, ca.certificate_pem]
>>> first = registry.connect(chain)
>>> first.allowed, first.reason, first.event["certificateStatus"]
(False, 'REGISTERED_PENDING_ACTIVATION', 'PENDING_ACTIVATION')
>>> _ = registry.update_certificate(certificateId=first.certificate_id, newStatus="ACTIVE")
>>> registry.connect(chain).allowed
True
"""

from jitr._errors import (
    CertificateConflictException,
    CertificateStateException,
    CertificateValidationException,
    ClientError,
    CrlError,
    DeleteConflictException,
    InvalidRequestException,
    JitrError,
    LimitExceededException,
    MalformedPolicyException,
    RegistrationCodeValidationException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from jitr._jitr import (
    ERROR_CODES,
    KEY_TYPES,
    OPERATIONS,
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
)

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
    "ERROR_CODES",
    "KEY_TYPES",
    "OPERATIONS",
    "JitrError",
    "ClientError",
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
    "CrlError",
    "__version__",
]

# The activation handler (jitr.handler.activate, jitr.handler.lambda_handler): Python I/O
# over the core's state machine (jitr.handler.Activation); imports boto3 only when
# lambda_handler needs it.
from jitr import handler as handler  # noqa: E402
