"""Type stubs for the native module ``jitr_iot._jitr`` (checked by ``mypy.stubtest``).

A parameter written ``name: T = ...`` may be left out but not passed as ``None`` (boto3's
rule: ``ParamValidationError``)."""

from datetime import datetime
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Type, Union

from typing_extensions import NotRequired, TypedDict, Unpack, final

import jitr_iot.exceptions as _exc
from jitr_iot._types import (
    AutoRegistrationStatus,
    CaStatus,
    CertificateMode,
    CertificateStatus,
    KeyType,
    RefusalCode,
)

__all__ = [
    "Registry",
    "Decision",
    "Certificate",
    "GeneratedCertificate",
    "load_pem_chain",
    "certificate_id",
    "generate_ca",
    "generate_verification_certificate",
    "issue_certificate",
    "Crl",
    "PolicyTemplate",
    "parse_registration_event",
    "simulate_policy",
    "preview_provisioning",
    "Activation",
    "Call",
    "_bench_decide",
    "_bench_certificate_id",
    "_api_call",
    "_panic_for_test",
    "ERROR_CODES",
    "KEY_TYPES",
    "OPERATIONS",
    "EXTENSIONS",
    "REFUSAL_CODES",
    "CERTIFICATE_STATUSES",
    "CA_STATUSES",
    "AUTO_REGISTRATION_STATUSES",
    "CERTIFICATE_MODES",
    "__version__",
]

__version__: str
ERROR_CODES: Tuple[str, ...]
KEY_TYPES: Tuple[KeyType, ...]
OPERATIONS: Tuple[str, ...]
EXTENSIONS: Tuple[str, ...]
REFUSAL_CODES: Tuple[RefusalCode, ...]
CERTIFICATE_STATUSES: Tuple[CertificateStatus, ...]
CA_STATUSES: Tuple[CaStatus, ...]
AUTO_REGISTRATION_STATUSES: Tuple[AutoRegistrationStatus, ...]
CERTIFICATE_MODES: Tuple[CertificateMode, ...]

# A point in time: a timezone-aware datetime, or epoch seconds; None reads the clock.
_Time = Union[datetime, float, None]
_Chain = Union[str, bytes, bytearray, Sequence[Union[str, bytes, bytearray]]]

class _ResponseMetadata(TypedDict):
    RequestId: str
    HTTPStatusCode: int
    HTTPHeaders: Dict[str, str]
    RetryAttempts: int

class _Empty(TypedDict):
    ResponseMetadata: _ResponseMetadata

class _RegistrationCode(TypedDict):
    registrationCode: str
    ResponseMetadata: _ResponseMetadata

class _Registered(TypedDict):
    certificateArn: str
    certificateId: str
    ResponseMetadata: _ResponseMetadata

class _Paging(TypedDict, total=False):
    """The paging arguments of the ``list_*`` methods (boto3's ``pageSize``/``marker`` style)."""

    pageSize: int
    marker: str
    ascendingOrder: bool

class _Validity(TypedDict):
    notBefore: datetime
    notAfter: datetime

class _RegistrationConfig(TypedDict, total=False):
    templateBody: str
    roleArn: str
    templateName: str

class _Tag(TypedDict):
    Key: str
    Value: NotRequired[str]

class _CaCertificateDescription(TypedDict):
    certificateArn: str
    certificateId: str
    status: CaStatus
    certificatePem: str
    ownedBy: str
    creationDate: datetime
    autoRegistrationStatus: AutoRegistrationStatus
    lastModifiedDate: datetime
    customerVersion: int
    generationId: str
    validity: _Validity
    certificateMode: CertificateMode

class _DescribeCaCertificate(TypedDict):
    certificateDescription: _CaCertificateDescription
    registrationConfig: NotRequired[_RegistrationConfig]
    ResponseMetadata: _ResponseMetadata

class _TransferData(TypedDict, total=False):
    transferMessage: str
    rejectReason: str

class _CertificateDescription(TypedDict):
    certificateArn: str
    certificateId: str
    caCertificateId: NotRequired[str]
    status: CertificateStatus
    certificatePem: str
    ownedBy: str
    previousOwnedBy: NotRequired[str]
    creationDate: datetime
    lastModifiedDate: datetime
    customerVersion: int
    transferData: NotRequired[_TransferData]
    generationId: str
    validity: _Validity
    certificateMode: CertificateMode

class _DescribeCertificate(TypedDict):
    certificateDescription: _CertificateDescription
    ResponseMetadata: _ResponseMetadata

class _CaCertificateSummary(TypedDict):
    certificateArn: str
    certificateId: str
    status: CaStatus
    creationDate: datetime

class _ListCaCertificates(TypedDict):
    certificates: List[_CaCertificateSummary]
    nextMarker: NotRequired[str]
    ResponseMetadata: _ResponseMetadata

class _CertificateSummary(TypedDict):
    certificateArn: str
    certificateId: str
    status: CertificateStatus
    certificateMode: CertificateMode
    creationDate: datetime

class _ListCertificates(TypedDict):
    certificates: List[_CertificateSummary]
    nextMarker: NotRequired[str]
    ResponseMetadata: _ResponseMetadata

class _CreatePolicy(TypedDict):
    policyName: str
    policyArn: str
    policyDocument: str
    policyVersionId: str
    ResponseMetadata: _ResponseMetadata

class _GetPolicy(TypedDict):
    policyName: str
    policyArn: str
    policyDocument: str
    defaultVersionId: str
    creationDate: datetime
    lastModifiedDate: datetime
    generationId: str
    ResponseMetadata: _ResponseMetadata

class _AttachedPolicy(TypedDict):
    policyName: str
    policyArn: str

class _ListAttachedPolicies(TypedDict):
    policies: List[_AttachedPolicy]
    nextMarker: NotRequired[str]
    ResponseMetadata: _ResponseMetadata

class _RegistrationEvent(TypedDict):
    """The registration event payload, as AWS IoT publishes it."""

    certificateId: str
    caCertificateId: str
    timestamp: int
    certificateStatus: CertificateStatus
    awsAccountId: str
    certificateRegistrationTimestamp: str

class _Exceptions:
    """``registry.exceptions``: the module ``jitr_iot.exceptions``."""

    ClientError: Type[_exc.ClientError]
    JitrError: Type[_exc.JitrError]
    ParamValidationError: Type[_exc.ParamValidationError]
    OperationNotImplementedError: Type[_exc.OperationNotImplementedError]
    BOTOCORE: bool
    CertificateConflictException: Type[_exc.CertificateConflictException]
    CertificateStateException: Type[_exc.CertificateStateException]
    CertificateValidationException: Type[_exc.CertificateValidationException]
    ConflictException: Type[_exc.ConflictException]
    ConflictingResourceUpdateException: Type[_exc.ConflictingResourceUpdateException]
    DeleteConflictException: Type[_exc.DeleteConflictException]
    IndexNotReadyException: Type[_exc.IndexNotReadyException]
    InternalException: Type[_exc.InternalException]
    InternalFailureException: Type[_exc.InternalFailureException]
    InternalServerException: Type[_exc.InternalServerException]
    InvalidAggregationException: Type[_exc.InvalidAggregationException]
    InvalidQueryException: Type[_exc.InvalidQueryException]
    InvalidRequestException: Type[_exc.InvalidRequestException]
    InvalidResponseException: Type[_exc.InvalidResponseException]
    InvalidStateTransitionException: Type[_exc.InvalidStateTransitionException]
    LimitExceededException: Type[_exc.LimitExceededException]
    MalformedPolicyException: Type[_exc.MalformedPolicyException]
    NotConfiguredException: Type[_exc.NotConfiguredException]
    RegistrationCodeValidationException: Type[_exc.RegistrationCodeValidationException]
    ResourceAlreadyExistsException: Type[_exc.ResourceAlreadyExistsException]
    ResourceNotFoundException: Type[_exc.ResourceNotFoundException]
    ResourceRegistrationFailureException: Type[_exc.ResourceRegistrationFailureException]
    ServiceQuotaExceededException: Type[_exc.ServiceQuotaExceededException]
    ServiceUnavailableException: Type[_exc.ServiceUnavailableException]
    SqlParseException: Type[_exc.SqlParseException]
    TaskAlreadyExistsException: Type[_exc.TaskAlreadyExistsException]
    ThrottlingException: Type[_exc.ThrottlingException]
    TransferAlreadyCompletedException: Type[_exc.TransferAlreadyCompletedException]
    TransferConflictException: Type[_exc.TransferConflictException]
    UnauthorizedException: Type[_exc.UnauthorizedException]
    ValidationException: Type[_exc.ValidationException]
    VersionConflictException: Type[_exc.VersionConflictException]
    VersionsLimitExceededException: Type[_exc.VersionsLimitExceededException]
    @staticmethod
    def from_code(error_code: str) -> Type[_exc.ClientError]: ...

class _RegistryKnobs(TypedDict, total=False):
    """The core's ``RegistryConfig`` knobs as keyword arguments (``Registry(...)``,
    ``Registry.from_state``): each may be left out, for the default."""

    require_sni_for_leaf_only: bool
    check_verification_certificate_validity: bool
    max_cas_per_subject: int
    accept_v1_device_certificates: bool
    store_outage: Literal["ALLOW_KNOWN", "REFUSE_ALL"]

class _RegistryConfig(TypedDict):
    """The core's ``RegistryConfig`` knobs, every one (``Registry.config``)."""

    require_sni_for_leaf_only: bool
    check_verification_certificate_validity: bool
    max_cas_per_subject: int
    accept_v1_device_certificates: bool
    store_outage: Literal["ALLOW_KNOWN", "REFUSE_ALL"]

@final
class Decision:
    """What JITR decided about one connection."""

    @property
    def allowed(self) -> bool: ...
    @property
    def reason(self) -> Optional[RefusalCode]: ...
    @property
    def message(self) -> str: ...
    @property
    def certificate_id(self) -> Optional[str]: ...
    @property
    def ca_certificate_id(self) -> Optional[str]: ...
    @property
    def topic(self) -> Optional[str]: ...
    @property
    def event_json(self) -> Optional[str]: ...
    @property
    def event(self) -> Optional[_RegistrationEvent]: ...

@final
class Registry:
    """One AWS account in one region, with boto3's ``iot`` client methods."""

    def __new__(
        cls,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        partition: str = "aws",
        *,
        store: Optional[str] = None,
        registration_code: Optional[str] = None,
        **config: Unpack[_RegistryKnobs],
    ) -> Registry: ...
    @property
    def store_kind(self) -> Literal["memory", "sqlite", "postgresql"]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Registry: ...
    def __exit__(self, *exc: object) -> bool: ...
    @classmethod
    def from_state(cls, state: str, **config: Unpack[_RegistryKnobs]) -> Registry: ...
    @staticmethod
    def default_config() -> _RegistryConfig: ...
    @property
    def config(self) -> _RegistryConfig: ...
    def export_state(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def partition(self) -> str: ...
    @property
    def exceptions(self) -> _Exceptions: ...
    def _call_json(self, operation: str, params: Mapping[str, Any], now: _Time = None) -> str: ...
    def get_registration_code(self, *, now: _Time = None) -> _RegistrationCode: ...
    def delete_registration_code(self, *, now: _Time = None) -> _Empty: ...
    def register_ca_certificate(
        self,
        *,
        caCertificate: str,
        verificationCertificate: str = ...,
        setAsActive: bool = ...,
        allowAutoRegistration: bool = ...,
        registrationConfig: _RegistrationConfig = ...,
        tags: Sequence[_Tag] = ...,
        certificateMode: CertificateMode = ...,
        now: _Time = None,
    ) -> _Registered: ...
    def update_ca_certificate(
        self,
        *,
        certificateId: str,
        newStatus: CaStatus = ...,
        newAutoRegistrationStatus: AutoRegistrationStatus = ...,
        registrationConfig: _RegistrationConfig = ...,
        removeAutoRegistration: bool = ...,
        now: _Time = None,
    ) -> _Empty: ...
    def describe_ca_certificate(
        self, *, certificateId: str, now: _Time = None
    ) -> _DescribeCaCertificate: ...
    def list_ca_certificates(
        self, *, templateName: str = ..., now: _Time = None, **paging: Unpack[_Paging]
    ) -> _ListCaCertificates: ...
    def delete_ca_certificate(self, *, certificateId: str, now: _Time = None) -> _Empty: ...
    def register_certificate(
        self,
        *,
        certificatePem: str,
        caCertificatePem: str = ...,
        setAsActive: bool = ...,
        status: CertificateStatus = ...,
        now: _Time = None,
    ) -> _Registered: ...
    def register_certificate_without_ca(
        self, *, certificatePem: str, status: CertificateStatus = ..., now: _Time = None
    ) -> _Registered: ...
    def update_certificate(
        self, *, certificateId: str, newStatus: CertificateStatus, now: _Time = None
    ) -> _Empty: ...
    def describe_certificate(
        self, *, certificateId: str, now: _Time = None
    ) -> _DescribeCertificate: ...
    def list_certificates(self, *, now: _Time = None, **paging: Unpack[_Paging]) -> _ListCertificates: ...
    def list_certificates_by_ca(
        self, *, caCertificateId: str, now: _Time = None, **paging: Unpack[_Paging]
    ) -> _ListCertificates: ...
    def delete_certificate(
        self, *, certificateId: str, forceDelete: bool = ..., now: _Time = None
    ) -> _Empty: ...
    def create_policy(
        self,
        *,
        policyName: str,
        policyDocument: str,
        tags: Sequence[_Tag] = ...,
        now: _Time = None,
    ) -> _CreatePolicy: ...
    def get_policy(self, *, policyName: str, now: _Time = None) -> _GetPolicy: ...
    def delete_policy(self, *, policyName: str, now: _Time = None) -> _Empty: ...
    def attach_policy(self, *, policyName: str, target: str, now: _Time = None) -> _Empty: ...
    def detach_policy(self, *, policyName: str, target: str, now: _Time = None) -> _Empty: ...
    def list_attached_policies(
        self,
        *,
        target: str,
        recursive: bool = ...,
        marker: str = ...,
        pageSize: int = ...,
        now: _Time = None,
    ) -> _ListAttachedPolicies: ...
    def create_policy_version(self, *, policyName: str, policyDocument: str, setAsDefault: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def get_policy_version(self, *, policyName: str, policyVersionId: str, now: _Time = None) -> Dict[str, Any]: ...
    def list_policy_versions(self, *, policyName: str, now: _Time = None) -> Dict[str, Any]: ...
    def set_default_policy_version(self, *, policyName: str, policyVersionId: str, now: _Time = None) -> Dict[str, Any]: ...
    def delete_policy_version(self, *, policyName: str, policyVersionId: str, now: _Time = None) -> Dict[str, Any]: ...
    def list_policies(self, *, now: _Time = None, **paging: Unpack[_Paging]) -> Dict[str, Any]: ...
    def list_targets_for_policy(self, *, policyName: str, marker: str = ..., pageSize: int = ..., now: _Time = None) -> Dict[str, Any]: ...
    def list_principal_policies(self, *, principal: str, now: _Time = None, **paging: Unpack[_Paging]) -> Dict[str, Any]: ...
    def test_authorization(self, *, authInfos: Sequence[Any], principal: str = ..., cognitoIdentityPoolId: str = ..., clientId: str = ..., policyNamesToAdd: Sequence[Any] = ..., policyNamesToSkip: Sequence[Any] = ..., now: _Time = None) -> Dict[str, Any]: ...
    def get_effective_policies(self, *, principal: str = ..., cognitoIdentityPoolId: str = ..., thingName: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def create_thing(self, *, thingName: str, thingTypeName: str = ..., attributePayload: Mapping[str, Any] = ..., billingGroupName: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def describe_thing(self, *, thingName: str, now: _Time = None) -> Dict[str, Any]: ...
    def update_thing(self, *, thingName: str, thingTypeName: str = ..., attributePayload: Mapping[str, Any] = ..., expectedVersion: int = ..., removeThingType: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def delete_thing(self, *, thingName: str, expectedVersion: int = ..., now: _Time = None) -> Dict[str, Any]: ...
    def list_things(self, *, nextToken: str = ..., maxResults: int = ..., attributeName: str = ..., attributeValue: str = ..., thingTypeName: str = ..., usePrefixAttributeValue: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def attach_thing_principal(self, *, thingName: str, principal: str, thingPrincipalType: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def detach_thing_principal(self, *, thingName: str, principal: str, now: _Time = None) -> Dict[str, Any]: ...
    def list_thing_principals(self, *, thingName: str, nextToken: str = ..., maxResults: int = ..., now: _Time = None) -> Dict[str, Any]: ...
    def list_principal_things(self, *, principal: str, nextToken: str = ..., maxResults: int = ..., now: _Time = None) -> Dict[str, Any]: ...
    def create_thing_type(self, *, thingTypeName: str, thingTypeProperties: Mapping[str, Any] = ..., tags: Sequence[Any] = ..., now: _Time = None) -> Dict[str, Any]: ...
    def describe_thing_type(self, *, thingTypeName: str, now: _Time = None) -> Dict[str, Any]: ...
    def deprecate_thing_type(self, *, thingTypeName: str, undoDeprecate: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def delete_thing_type(self, *, thingTypeName: str, now: _Time = None) -> Dict[str, Any]: ...
    def list_thing_types(self, *, nextToken: str = ..., maxResults: int = ..., thingTypeName: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def tag_resource(self, *, resourceArn: str, tags: Sequence[Any], now: _Time = None) -> Dict[str, Any]: ...
    def untag_resource(self, *, resourceArn: str, tagKeys: Sequence[Any], now: _Time = None) -> Dict[str, Any]: ...
    def list_tags_for_resource(self, *, resourceArn: str, nextToken: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def create_thing_group(self, *, thingGroupName: str, parentGroupName: str = ..., thingGroupProperties: Mapping[str, Any] = ..., tags: Sequence[Any] = ..., now: _Time = None) -> Dict[str, Any]: ...
    def describe_thing_group(self, *, thingGroupName: str, now: _Time = None) -> Dict[str, Any]: ...
    def delete_thing_group(self, *, thingGroupName: str, expectedVersion: int = ..., now: _Time = None) -> Dict[str, Any]: ...
    def list_thing_groups(self, *, nextToken: str = ..., maxResults: int = ..., parentGroup: str = ..., namePrefixFilter: str = ..., recursive: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def add_thing_to_thing_group(self, *, thingGroupName: str = ..., thingGroupArn: str = ..., thingName: str = ..., thingArn: str = ..., overrideDynamicGroups: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def remove_thing_from_thing_group(self, *, thingGroupName: str = ..., thingGroupArn: str = ..., thingName: str = ..., thingArn: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def list_thing_groups_for_thing(self, *, thingName: str, nextToken: str = ..., maxResults: int = ..., now: _Time = None) -> Dict[str, Any]: ...
    def list_things_in_thing_group(self, *, thingGroupName: str, recursive: bool = ..., nextToken: str = ..., maxResults: int = ..., now: _Time = None) -> Dict[str, Any]: ...
    def create_provisioning_template(self, *, templateName: str, templateBody: str, provisioningRoleArn: str, description: str = ..., enabled: bool = ..., preProvisioningHook: Mapping[str, Any] = ..., tags: Sequence[Any] = ..., type: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def describe_provisioning_template(self, *, templateName: str, now: _Time = None) -> Dict[str, Any]: ...
    def list_provisioning_templates(self, *, maxResults: int = ..., nextToken: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def update_provisioning_template(self, *, templateName: str, description: str = ..., enabled: bool = ..., defaultVersionId: int = ..., provisioningRoleArn: str = ..., preProvisioningHook: Mapping[str, Any] = ..., removePreProvisioningHook: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def delete_provisioning_template(self, *, templateName: str, now: _Time = None) -> Dict[str, Any]: ...
    def create_keys_and_certificate(self, *, setAsActive: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def create_certificate_from_csr(self, *, certificateSigningRequest: str, setAsActive: bool = ..., now: _Time = None) -> Dict[str, Any]: ...
    def describe_endpoint(self, *, endpointType: str = ..., now: _Time = None) -> Dict[str, Any]: ...
    def describe_provisioning_failure(self, *, certificateId: str, now: _Time = None) -> Dict[str, Any]: ...
    def connect(
        self,
        certificate_chain: _Chain,
        server_name: Optional[str] = None,
        now: _Time = None,
    ) -> Decision: ...

@final
class Certificate:
    """A parsed X.509 certificate."""

    @staticmethod
    def from_pem(pem: str) -> Certificate: ...
    @staticmethod
    def from_der(der: Union[bytes, bytearray]) -> Certificate: ...
    @property
    def certificate_id(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def issuer(self) -> str: ...
    @property
    def serial_number(self) -> str: ...
    @property
    def not_before(self) -> datetime: ...
    @property
    def not_after(self) -> datetime: ...
    @property
    def is_ca(self) -> bool: ...
    @property
    def subject_key_identifier(self) -> Optional[str]: ...
    @property
    def authority_key_identifier(self) -> Optional[str]: ...
    @property
    def key_algorithm(self) -> str: ...
    @property
    def key_usage(self) -> Optional[List[str]]: ...
    @property
    def extended_key_usage(self) -> Optional[List[str]]: ...
    @property
    def subject_alternative_names(self) -> List[str]: ...
    def is_signed_by(self, issuer: Certificate) -> bool: ...
    def to_pem(self) -> str: ...
    def to_der(self) -> bytes: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

@final
class GeneratedCertificate:
    """A certificate with its private key."""

    @staticmethod
    def from_pem(certificate_pem: str, private_key_pem: str) -> GeneratedCertificate: ...
    @property
    def certificate_pem(self) -> str: ...
    @property
    def private_key_pem(self) -> str: ...
    @property
    def certificate(self) -> Certificate: ...
    @property
    def certificate_id(self) -> str: ...

def load_pem_chain(pem: str) -> List[Certificate]: ...
def certificate_id(pem_or_der: Union[str, bytes, bytearray]) -> str: ...
def generate_ca(
    common_name: str,
    key_type: Optional[KeyType] = None,
    valid_days: Optional[int] = None,
    issuer: Optional[GeneratedCertificate] = None,
    *,
    organization: Optional[str] = None,
    path_len: Optional[int] = None,
    not_before: _Time = None,
) -> GeneratedCertificate: ...
def generate_verification_certificate(
    ca: GeneratedCertificate,
    registration_code: str,
    *,
    key_type: Optional[KeyType] = None,
    valid_days: Optional[int] = None,
    not_before: _Time = None,
) -> GeneratedCertificate: ...
def issue_certificate(
    issuer: GeneratedCertificate,
    common_name: str,
    key_type: Optional[KeyType] = None,
    valid_days: Optional[int] = None,
    *,
    organization: Optional[str] = None,
    client_auth: bool = True,
    not_before: _Time = None,
) -> GeneratedCertificate: ...
@final
class Crl:
    """A certificate revocation list."""

    @staticmethod
    def from_bytes(data: Union[bytes, bytearray, str]) -> Crl: ...
    def is_revoked(self, serial: Union[bytes, bytearray, int, str]) -> bool: ...
    @property
    def this_update(self) -> datetime: ...
    @property
    def next_update(self) -> Optional[datetime]: ...
    @property
    def issuer(self) -> str: ...
    def verify_issued_by(self, ca: Union[str, Certificate]) -> None: ...
    def __len__(self) -> int: ...

@final
class PolicyTemplate:
    """A policy name and document with placeholders."""

    def __new__(cls, name: str, document: str) -> PolicyTemplate: ...
    @staticmethod
    def aws_sample() -> PolicyTemplate: ...
    @property
    def name(self) -> str: ...
    @property
    def document(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

_Event = Union[Mapping[str, Any], str]

def parse_registration_event(event: _Event) -> _RegistrationEvent: ...

# simulate_policy: TestAuthorization's output (plus decidingStatements).
class _PolicyRef(TypedDict):
    policyName: str
    policyArn: str

class _PolicyRefs(TypedDict):
    policies: List[_PolicyRef]

class _Denied(TypedDict):
    implicitDeny: _PolicyRefs
    explicitDeny: _PolicyRefs

class _AuthInfo(TypedDict):
    actionType: str
    resources: List[str]

class _StatementRef(TypedDict):
    policyName: str
    index: int
    sid: Optional[str]

class _AuthResult(TypedDict):
    authInfo: _AuthInfo
    allowed: _PolicyRefs
    denied: _Denied
    authDecision: Literal["ALLOWED", "EXPLICIT_DENY", "IMPLICIT_DENY"]
    missingContextValues: List[str]
    decidingStatements: List[_StatementRef]

class _Simulation(TypedDict):
    authResults: List[_AuthResult]

def simulate_policy(input: Mapping[str, Any]) -> _Simulation: ...

# preview_provisioning: the plan, or the failure.
_OverrideSetting = Literal["DO_NOTHING", "REPLACE", "FAIL", "MERGE"]

class _ThingOverrideSettings(TypedDict):
    attributePayload: Optional[_OverrideSetting]
    thingTypeName: Optional[_OverrideSetting]
    thingGroups: Optional[_OverrideSetting]

class _ThingPlan(TypedDict):
    thingName: str
    attributes: Dict[str, str]
    thingTypeName: Optional[str]
    thingGroups: List[str]
    billingGroup: Optional[str]
    overrideSettings: _ThingOverrideSettings

class _CertificateOverrideSettings(TypedDict):
    status: Optional[_OverrideSetting]

class _CertificatePlan(TypedDict):
    certificateId: str
    status: CertificateStatus
    overrideSettings: _CertificateOverrideSettings

class _PolicyPlan(TypedDict):
    policyName: str
    policyDocument: Optional[str]
    create: bool

class _ProvisioningFailure(TypedDict):
    stage: Literal["TEMPLATE", "PROVISIONING"]
    code: str
    message: str
    path: Optional[str]
    parameter: Optional[str]
    certificateField: Optional[str]
    error: Optional[str]

class _ProvisioningPreview(TypedDict):
    provisioned: bool
    certificateStatus: Optional[CertificateStatus]
    parameters: NotRequired[Dict[str, str]]
    thing: NotRequired[Optional[_ThingPlan]]
    certificate: NotRequired[_CertificatePlan]
    policies: NotRequired[List[_PolicyPlan]]
    failure: NotRequired[_ProvisioningFailure]

def preview_provisioning(input: Mapping[str, Any]) -> _ProvisioningPreview: ...
@final
class Call:
    """One call the activation handler needs made."""

    @property
    def operation(self) -> str: ...
    @property
    def aws_operation(self) -> str: ...
    @property
    def params(self) -> Dict[str, str]: ...

class _ActionBase(TypedDict):
    action: str

class _Action(_ActionBase, total=False):
    policyName: str
    target: str
    reason: str
    message: str

class _Report(TypedDict):
    certificateId: str
    actions: List[_Action]

@final
class Activation:
    """One run of the activation handler: the core's state machine."""

    def __new__(
        cls,
        event: _Event,
        *,
        crl: Union[Crl, bytes, bytearray, str, None] = None,
        template: Optional[PolicyTemplate] = None,
        stale_crl: str = "REFUSE",
        require_crl: str = "IF_CONFIGURED",
        now: _Time = None,
    ) -> Activation: ...
    @property
    def certificate_id(self) -> str: ...
    def next_call(self) -> Optional[Call]: ...
    def succeeded(self, output: Any) -> None: ...
    def failed(self, error: BaseException) -> None: ...
    @property
    def failed_operation(self) -> Optional[str]: ...
    @property
    def actions(self) -> List[_Action]: ...
    def report(self) -> _Report: ...

def _bench_decide(
    registry: Registry, chains: Sequence[_Chain], server_name: Optional[str] = None, repeat: int = 1
) -> int: ...
def _bench_certificate_id(pem: str, n: int) -> None: ...
def _panic_for_test() -> None: ...
def _api_call(registry: Registry, operation: str, params: str, now_ms: int) -> Tuple[bool, str]: ...
