// Types of jitr-wasm. The string unions below are the core's own lists (tests compare
// them with `codes()`), so a value outside them never comes back and is refused going in.

/** PEM text (one certificate, a bundle, or a PKCS#7 bundle) or DER bytes (a certificate or a PKCS#7 bundle). */
export type CertificateInput = string | Uint8Array | ArrayBuffer | ArrayBufferView;

/** A time: epoch milliseconds or a Date. Omitted: the current time. */
export type Instant = number | Date;

export type CertificateStatus =
  | "ACTIVE" | "INACTIVE" | "REVOKED" | "PENDING_TRANSFER" | "REGISTER_INACTIVE" | "PENDING_ACTIVATION";
export type CaStatus = "ACTIVE" | "INACTIVE";
export type AutoRegistrationStatus = "ENABLE" | "DISABLE";
export type CertificateMode = "DEFAULT" | "SNI_ONLY";

/** The codes (AWS exception names) a JitrError carries. */
export type ErrorCode =
  | "ResourceNotFoundException" | "ResourceAlreadyExistsException" | "RegistrationCodeValidationException"
  | "InvalidRequestException" | "CertificateValidationException" | "CertificateStateException"
  | "CertificateConflictException" | "LimitExceededException" | "DeleteConflictException"
  | "MalformedPolicyException" | "VersionConflictException" | "VersionsLimitExceededException"
  | "ServiceUnavailableException" | "InternalFailureException";

/** Why JITR refuses a connection (`Decision.reason`). */
export type RefusalCode =
  | "NO_CERTIFICATE" | "CHAIN_TOO_LONG" | "CERTIFICATE_TOO_LARGE" | "MALFORMED_CERTIFICATE"
  | "REGISTERED_PENDING_ACTIVATION" | "PENDING_ACTIVATION" | "CERTIFICATE_INACTIVE" | "CERTIFICATE_REVOKED"
  | "CERTIFICATE_PENDING_TRANSFER" | "CERTIFICATE_REGISTER_INACTIVE" | "CERTIFICATE_EXPIRED"
  | "CERTIFICATE_NOT_YET_VALID" | "UNKNOWN_ISSUER" | "BAD_SIGNATURE" | "AMBIGUOUS_CA" | "SNI_REQUIRED"
  | "CA_INACTIVE" | "AUTO_REGISTRATION_DISABLED" | "CA_EXPIRED" | "CA_NOT_YET_VALID" | "CA_REQUIRES_SNI"
  | "EKU_NOT_CLIENT_AUTH" | "INVALID_CERTIFICATE" | "UNKNOWN_SERVER_NAME" | "NO_ACCOUNT"
  | "STORE_UNAVAILABLE" | "PROVISIONED" | "PROVISIONING_FAILED";

/** What `inspectCertificate` finds (`Finding.code`). */
export type FindingCode =
  | "EXPIRED" | "NOT_YET_VALID" | "EXPIRES_SOON" | "NOT_X509_V3" | "WEAK_SIGNATURE_ALGORITHM"
  | "UNSUPPORTED_SIGNATURE_ALGORITHM" | "WEAK_KEY" | "UNSUPPORTED_KEY" | "CA_WITHOUT_BASIC_CONSTRAINTS"
  | "CA_BASIC_CONSTRAINTS_FALSE" | "CA_WITHOUT_KEY_CERT_SIGN" | "CA_USED_AS_DEVICE" | "EKU_WITHOUT_CLIENT_AUTH"
  | "KEY_USAGE_WITHOUT_DIGITAL_SIGNATURE" | "SELF_SIGNED_DEVICE" | "SELF_SIGNED_CA";

export type Severity = "error" | "warning" | "info";

/** The rules to judge a certificate by: "any" infers them from the certificate. "ca" also reads CA bundles (more than 16 certificates). */
export type Role = "any" | "device" | "ca";

/** The boto3 `iot` operation names `Registry.call` accepts, plus jitr's "connect" and "describe_provisioning_failure". */
export type Operation =
  | "get_registration_code" | "delete_registration_code" | "register_ca_certificate"
  | "update_ca_certificate" | "describe_ca_certificate" | "list_ca_certificates"
  | "delete_ca_certificate" | "register_certificate" | "register_certificate_without_ca"
  | "update_certificate" | "describe_certificate" | "list_certificates" | "list_certificates_by_ca"
  | "delete_certificate" | "create_policy" | "get_policy" | "delete_policy" | "attach_policy"
  | "detach_policy" | "list_attached_policies" | "create_policy_version" | "get_policy_version"
  | "list_policy_versions" | "set_default_policy_version" | "delete_policy_version"
  | "list_policies" | "list_targets_for_policy" | "list_principal_policies"
  | "get_effective_policies" | "test_authorization" | "create_thing" | "describe_thing"
  | "update_thing" | "delete_thing" | "list_things" | "attach_thing_principal"
  | "detach_thing_principal" | "list_thing_principals" | "list_principal_things"
  | "create_thing_type" | "describe_thing_type" | "deprecate_thing_type" | "delete_thing_type"
  | "list_thing_types" | "tag_resource" | "untag_resource" | "list_tags_for_resource"
  | "create_thing_group" | "describe_thing_group" | "delete_thing_group" | "list_thing_groups"
  | "add_thing_to_thing_group" | "remove_thing_from_thing_group" | "list_thing_groups_for_thing"
  | "list_things_in_thing_group" | "create_provisioning_template" | "describe_provisioning_template"
  | "list_provisioning_templates" | "update_provisioning_template" | "delete_provisioning_template"
  | "create_keys_and_certificate" | "create_certificate_from_csr" | "describe_endpoint"
  | "describe_provisioning_failure" | "connect";

/** Every error this package throws for bad input, wrong types or sizes, or a refused operation. */
export class JitrError extends Error {
  constructor(code: ErrorCode, message: string, details?: { resourceId?: string; resourceArn?: string });
  /** The AWS exception name. */
  readonly code: ErrorCode;
  /** The same as `code`. */
  name: ErrorCode;
  /** Set on ResourceAlreadyExistsException. */
  readonly resourceId?: string;
  /** Set on ResourceAlreadyExistsException. */
  readonly resourceArn?: string;
}

/** Whether `value` is a JitrError (from any copy of this package, ES module or CommonJS). */
export function isJitrError(value: unknown): value is JitrError;

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** A sentence for people. */
  message: string;
}

/** One extension, decoded as `openssl x509 -text` prints it. */
export interface Extension {
  /** Dotted OID, e.g. "2.5.29.19". */
  oid: string;
  /** OpenSSL's name, e.g. "X509v3 Basic Constraints"; null for an extension jitr does not know. */
  name: string | null;
  critical: boolean;
  /** The value, one entry per line (nested lines indented by two spaces). */
  value: string[];
}

export interface CertificateInfo {
  /** The AWS certificate ID: lowercase hex SHA-256 of the DER (64 characters). */
  id: string;
  /** The certificate as PEM. */
  pem: string;
  /** X.509 version: 1, 2 or 3. */
  version: number;
  /** RFC 4514, e.g. "CN=device-1,O=Example". */
  subject: string;
  subjectCommonName: string | null;
  issuer: string;
  /** Serial number, lowercase hex. */
  serialNumber: string;
  /** Epoch milliseconds. */
  notBefore: number;
  /** Epoch milliseconds. */
  notAfter: number;
  /** basicConstraints present with cA true. */
  isCa: boolean;
  /** basicConstraints pathLenConstraint. */
  pathLen: number | null;
  /** basicConstraints present at all. */
  hasBasicConstraints: boolean;
  selfSigned: boolean;
  /** "EC_P256", "EC_P384", "RSA_2048", "ED25519", ... */
  keyAlgorithm: string;
  /** "ecdsa-with-SHA256", "sha256WithRSAEncryption", ... */
  signatureAlgorithm: string;
  /** Lowercase hex. */
  subjectKeyIdentifier: string | null;
  /** Lowercase hex. */
  authorityKeyIdentifier: string | null;
  /** null when the extension is absent. */
  keyUsage: string[] | null;
  /** null when the extension is absent. */
  extendedKeyUsage: string[] | null;
  /** "DNS:…", "IP:…", "URI:…", "email:…". */
  subjectAlternativeNames: string[];
  /** Every extension, in the certificate's order. */
  extensions: Extension[];
  /** Every finding, errors first. */
  findings: Finding[];
}

export interface InspectOptions {
  now?: Instant;
  role?: Role;
}

export interface VerificationOptions {
  now?: Instant;
  /** Check the verification certificate's validity period (default true). */
  checkValidity?: boolean;
}

export interface RegisteredCa {
  /** The CA certificate, PEM. */
  pem: string;
  status: CaStatus;
  autoRegistrationStatus: AutoRegistrationStatus;
  certificateMode: CertificateMode;
  /**
   * The CA's just-in-time provisioning configuration: with it, the decision runs the
   * template (reason "PROVISIONED" or "PROVISIONING_FAILED"). The thing type, thing groups
   * and policies named by `PolicyName` that the template needs are taken to exist.
   */
  registrationConfig?: RegistrationConfig | null;
}

/** A CA's JITP configuration, as RegisterCACertificate takes it (a pre-flight needs the body). */
export interface RegistrationConfig {
  /** The provisioning template (JSON text, at most 10,240 characters). */
  templateBody: string;
  /** The IAM role AWS would run the template as (kept as given). */
  roleArn?: string;
}

export interface RegisteredCertificate {
  certificateId: string;
  status: CertificateStatus;
}

export interface PreflightInput {
  /** What the device presents, leaf first: PEM texts (each may be a bundle) or DER bytes. */
  chain: CertificateInput | CertificateInput[];
  /** The CAs registered in the account. */
  registeredCas: RegisteredCa[];
  /** Device certificates already registered (only the leaf's entry matters). */
  registeredCertificates?: RegisteredCertificate[] | null;
  /** The SNI host name the device sends, if any. */
  serverName?: string | null;
  /** The account for the event payload (12 digits; default "123456789012"). */
  account?: string;
  now?: Instant;
}

/** What JITR decides about one connection. */
export interface Decision {
  allowed: boolean;
  /** Why it is refused; null when allowed. */
  reason: RefusalCode | null;
  /** A sentence for people. */
  message: string;
  /** The leaf's ID; null only for an empty chain. */
  certificateId: string | null;
  caCertificateId: string | null;
  /** The MQTT topic the event is published on, when there is an event. */
  topic: string | null;
  /** The exact registration event payload (JSON text), when one is published. */
  event: string | null;
}

// --- policies (authorize) -------------------------------------------------------------

/** TestAuthorization's action types, or an IoT action name such as "iot:GetThingShadow". */
export type ActionType = "CONNECT" | "PUBLISH" | "SUBSCRIBE" | "RECEIVE" | "RETAIN_PUBLISH" | (string & {});

export type AuthDecision = "ALLOWED" | "EXPLICIT_DENY" | "IMPLICIT_DENY";

export interface NamedPolicy {
  /** AWS's policy name pattern ([\w+=,.@-]+, at most 128 characters). */
  policyName: string;
  /** The document as JSON text (as CreatePolicy takes it) or as an object. */
  policyDocument: string | Record<string, unknown>;
}

/** A certificate's attributes for the iot:Certificate.* policy variables. */
export interface CertificateAttributes {
  /** Attribute name ("CommonName", "Organization", ...) to a value or values. */
  subject?: Record<string, string | string[]>;
  issuer?: Record<string, string | string[]>;
  /** "DNSName", "IPAddress", "RFC822Name", "UniformResourceIdentifier", "DirectoryName". */
  subjectAlternativeName?: Record<string, string | string[]>;
  issuerAlternativeName?: Record<string, string | string[]>;
  /** Decimal. */
  serialNumber?: string;
  certificateId?: string;
}

/** The connection a request comes from: what the policy variables and conditions read. */
export interface AuthContext {
  region: string;
  /** 12 digits. */
  account: string;
  /** Epoch milliseconds (or a Date): the time for Date conditions. */
  now: Instant;
  /** Default "aws". */
  partition?: string;
  clientId?: string;
  sourceIp?: string;
  domainName?: string;
  connectAttributes?: string[];
  lastWillTopic?: string;
  /** The thing attached to the principal (iot:Connection.Thing.*). */
  thing?: { thingName: string; thingTypeName?: string; attributes?: Record<string, string>; isAttached?: boolean };
  certificate?: CertificateAttributes;
  /** A PEM the certificate attributes are read from (instead of `certificate`). */
  certificatePem?: string;
}

export interface AuthInfo {
  actionType: ActionType;
  /** Full resource ARNs, e.g. "arn:aws:iot:us-east-1:123456789012:topic/a/b". */
  resources: string[];
}

export interface AuthorizeInput {
  policies: NamedPolicy[];
  context: AuthContext;
  /** 1 to 10 requests. */
  authInfos: AuthInfo[];
}

export interface PolicyRef {
  policyName: string;
  policyArn: string;
}

/** A statement that decided: its policy, its index in `Statement` (from 0), its Sid. */
export interface StatementRef {
  policyName: string;
  index: number;
  sid: string | null;
}

export interface AuthResult {
  /** The request, as given. */
  authInfo: AuthInfo;
  allowed: { policies: PolicyRef[] };
  denied: { explicitDeny: { policies: PolicyRef[] }; implicitDeny: { policies: PolicyRef[] } };
  authDecision: AuthDecision;
  /** Context keys the statements read that have no value. */
  missingContextValues: string[];
  /** jitr's addition: the denying statements, or the allowing ones; none for IMPLICIT_DENY. */
  decidingStatements: StatementRef[];
}

/** TestAuthorization's output (plus `decidingStatements`). */
export interface Authorization {
  authResults: AuthResult[];
}

// --- provisioning (previewProvisioning) --------------------------------------------------

export type OverrideSetting = "DO_NOTHING" | "REPLACE" | "FAIL" | "MERGE";

export interface PreviewInput {
  /** The provisioning template (JSON text). */
  templateBody: string;
  /** The device certificate (the first of the PEM text). Give it, `parameters`, or both. */
  certificatePem?: string | null;
  /** Parameter values, added to and overriding the certificate's. */
  parameters?: Record<string, string> | null;
  /** With `region`: the values of AWS::AccountId and AWS::Region. */
  account?: string | null;
  region?: string | null;
  /** AWS::Partition (default "aws"). */
  partition?: string | null;
}

export interface ThingPlan {
  thingName: string;
  attributes: Record<string, string>;
  thingTypeName: string | null;
  thingGroups: string[];
  billingGroup: string | null;
  overrideSettings: { attributePayload: OverrideSetting | null; thingTypeName: OverrideSetting | null; thingGroups: OverrideSetting | null };
}

export interface PolicyPlan {
  /** A created policy is named by the SHA-256 of its document. */
  policyName: string;
  /** The document of a policy to create; null attaches an existing policy. */
  policyDocument: string | null;
  create: boolean;
}

export interface ProvisioningFailure {
  /** "TEMPLATE": AWS would not store the template; "PROVISIONING": it fails for this device. */
  stage: "TEMPLATE" | "PROVISIONING";
  /** A stable code, e.g. "MISSING_PARAMETER". */
  code: string;
  /** A sentence. */
  message: string;
  /** A JSON pointer into the template. */
  path: string | null;
  /** The missing parameter, e.g. "AWS::IoT::Certificate::Country". */
  parameter: string | null;
  /** The certificate field it comes from, e.g. "subject C (countryName, OID 2.5.4.6)". */
  certificateField: string | null;
  /** For a template AWS refuses: "InvalidRequestException". */
  error: ErrorCode | null;
}

/** What the template would create (`provisioned: true`), or why not. */
export type ProvisioningPreview =
  | {
      provisioned: true;
      certificateStatus: CertificateStatus;
      parameters: Record<string, string>;
      thing: ThingPlan | null;
      certificate: { certificateId: string; status: CertificateStatus; overrideSettings: { status: OverrideSetting | null } };
      policies: PolicyPlan[];
    }
  | {
      provisioned: false;
      /** "PENDING_ACTIVATION" for a provisioning failure; null for a template AWS would not store. */
      certificateStatus: CertificateStatus | null;
      failure: ProvisioningFailure;
    };

export interface RegistrationEventInput {
  certificateId: string;
  caCertificateId: string;
  awsAccountId: string;
  /** When the event is published (default: now). */
  timestamp?: Instant;
  /** When the certificate was registered (default: `timestamp`). */
  certificateRegistrationTimestamp?: Instant;
}

/** A registration event payload, parsed. */
export interface RegistrationEvent {
  certificateId: string;
  caCertificateId: string;
  /** Epoch milliseconds. */
  timestamp: number;
  certificateStatus: "PENDING_ACTIVATION";
  awsAccountId: string;
  /** Epoch milliseconds, as a string (as AWS sends it). */
  certificateRegistrationTimestamp: string;
}

export interface RegistryOptions {
  /** 12 digits. */
  account: string;
  /** Default "us-east-1". */
  region?: string;
  /** Default "aws". */
  partition?: string;
  /** 64 hex characters; default: a fresh random code. */
  registrationCode?: string;
}

export interface Limits {
  /** The largest device chain (or single certificate), in characters or bytes. */
  maxPemLength: number;
  /** The most certificates in a device chain. */
  maxChainLength: number;
  /** The largest certificate, in DER bytes. */
  maxCertificateDerLength: number;
  /** The most certificates in a CA bundle (role "ca"). */
  maxCaBundleLength: number;
  /** The largest CA bundle, in characters or bytes. */
  maxCaBundlePemLength: number;
  /** The largest certificate input any call reads: larger input is refused before it is copied. */
  maxInputLength: number;
  /** The largest options object or parameters, as JSON text. */
  maxRequestLength: number;
}

/** The core's vocabularies. */
export interface Codes {
  refusal: RefusalCode[];
  finding: FindingCode[];
  error: ErrorCode[];
  severity: Severity[];
  role: Role[];
  certificateStatus: CertificateStatus[];
  caStatus: CaStatus[];
  autoRegistrationStatus: AutoRegistrationStatus[];
  certificateMode: CertificateMode[];
  operation: Operation[];
}

/** What `init` instantiates the module from. */
export type ModuleSource =
  | string | URL | Request | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module
  | Promise<Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module>;

/**
 * Instantiates the WebAssembly module: from `module` (a URL of jitr_wasm_bg.wasm, a
 * Response, its bytes or a WebAssembly.Module) or, without one, from the bytes embedded
 * in the package. Browsers and bundlers: await it once before any other call. Node: the
 * module is ready on import; this resolves at once.
 */
export default function init(module?: ModuleSource): Promise<void>;

/** Instantiates the WebAssembly module synchronously (for workers and tests). */
export function initSync(module: ArrayBuffer | ArrayBufferView | WebAssembly.Module): void;

/**
 * Inspects every certificate in `input`: its AWS certificate ID, fields, extensions and
 * every finding at `options.now` (default: now). With role "ca" the input may be a CA
 * bundle; otherwise a chain of at most 16 certificates.
 * @throws {JitrError} CertificateValidationException for input that is not certificates
 * (empty, not PEM/DER/PKCS#7, truncated, a private key, over the limits); InvalidRequestException
 * for a bad argument.
 */
export function inspectCertificate(input: CertificateInput, options?: InspectOptions | null): CertificateInfo[];

/**
 * The AWS certificate ID (lowercase hex SHA-256 of the DER) of the one certificate in `input`.
 * @throws {JitrError} CertificateValidationException
 */
export function certificateId(input: CertificateInput): string;

/**
 * Whether `issuer` issued `certificate`: its subject is the certificate's issuer (as DER,
 * not as text) and its key verifies the certificate's signature — the rule JITR links a
 * device certificate to its CA with.
 * @throws {JitrError} CertificateValidationException when either is not one certificate
 */
export function issuedBy(certificate: CertificateInput, issuer: CertificateInput): boolean;

/**
 * Checks a verification certificate as RegisterCACertificate does: its Common Name is
 * `registrationCode`, the CA's key signed it, and (unless `checkValidity` is false) it is
 * valid at `options.now`. Returns when it passes.
 * @throws {JitrError} RegistrationCodeValidationException or CertificateValidationException,
 * as AWS would, with the reason as its message.
 */
export function checkVerificationCertificate(
  caPem: string, verificationPem: string, registrationCode: string, options?: VerificationOptions | null): void;

/**
 * The decision JITR would make for `input.chain` if the account held exactly these CAs and
 * device certificates: the core's decision function on a throw-away registry. A CA with a
 * `registrationConfig` provisions the device (JITP) as the real decision does.
 * @throws {JitrError} InvalidRequestException for bad arguments; CertificateValidationException
 * for a registered CA that is not a certificate or a chain entry that is not PEM/DER/PKCS#7.
 */
export function preflight(input: PreflightInput): Decision;

/**
 * AWS IoT's decision on TestAuthorization-style requests against `input.policies`, offline:
 * default deny, an explicit Deny first, policy variables and conditions as AWS evaluates
 * them. One result per `authInfo`, with the statements that decided.
 * @throws {JitrError} MalformedPolicyException for a malformed document; InvalidRequestException
 * for other bad input; CertificateValidationException for an unreadable `certificatePem`.
 */
export function authorize(input: AuthorizeInput): Authorization;

/**
 * What just-in-time provisioning would create from `input.templateBody` for a device
 * certificate (or parameters): the thing, the policies, the certificate's status; or
 * exactly why it would not (for a missing parameter: which, and which certificate field).
 * @throws {JitrError} InvalidRequestException for input that is not a preview (no template,
 * an unknown key, neither certificate nor parameters); CertificateValidationException for an
 * unreadable certificate.
 */
export function previewProvisioning(input: PreviewInput): ProvisioningPreview;

/** The exact registration event payload (JSON text: AWS's field order and types). */
export function registrationEvent(input: RegistrationEventInput): string;

/** The MQTT topic: `$aws/events/certificates/registered/<caCertificateId>`. */
export function registrationTopic(caCertificateId: string): string;

/**
 * Parses and validates a registration event payload, as an activation handler receives it.
 * @throws {JitrError} InvalidRequestException
 */
export function parseRegistrationEvent(payload: string): RegistrationEvent;

/** The core's input limits. */
export function limits(): Limits;

/** The core's vocabularies: every refusal, finding and error code, status, role and operation. */
export function codes(): Codes;

/** The jitr-wasm version. */
export function version(): string;

/**
 * The certificates, CAs and policies of one account in one region, held in this module's
 * memory: jitr-core's boto3-shaped API. `free()` releases it (garbage collection does too).
 */
export class Registry {
  /** @throws {JitrError} InvalidRequestException for a bad account, region or code. */
  constructor(options: RegistryOptions);
  readonly account: string;
  readonly region: string;
  /** `"connect"`: the decision for a chain of PEM texts, with an optional SNI host name. */
  call(operation: "connect", params: { chain: string[]; serverName?: string | null } | string, now?: Instant): Decision;
  /**
   * Runs a boto3 `iot` operation (snake_case name, camelCase parameters as an object or
   * JSON text) at `now` and returns the response as the AWS CLI prints it (dates in epoch
   * seconds).
   * @throws {JitrError} the operation's AWS exception
   */
  call(operation: Operation, params?: Record<string, unknown> | string | null, now?: Instant): any;
  /** The whole registry as JSON text. */
  exportState(): string;
  /** Releases the registry's memory. */
  free(): void;
  [Symbol.dispose](): void;
}
