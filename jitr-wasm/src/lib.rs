//! # jitr-wasm
//!
//! jitr for JavaScript: certificate inspection, the JITR pre-flight decision and the
//! boto3-shaped registry API, compiled to WebAssembly with wasm-bindgen. It runs in the
//! browser (the page in `www/`) and in Node, and sends nothing anywhere.
//!
//! This crate only converts: JS values in, [`jitr_core`] calls, JS values out. Every
//! decision, check and finding is the core's, the same code the Rust services run.
//! Errors are thrown as JS `Error`s whose `name` is the core's code (the AWS exception
//! name, e.g. `CertificateValidationException`); no input reaches a panic.
//!
//! The TypeScript types are written once, below, in a `typescript_custom_section`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use jitr_core::inspect::{self, Role};
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{
    api, check_verification_certificate, parse_pem_chain, pem_blocks_der, AutoRegistrationStatus,
    CaStatus, Certificate, CertificateId, CertificateMode, CertificateStatus, Error, PreflightCa,
    PreflightCertificate, RegistrationEvent, Registry, RegistryConfig, Scope, Timestamp,
    MAX_CERTIFICATE_DER_LEN, MAX_CHAIN_LEN, MAX_PEM_LEN,
};
use js_sys::{Array, ArrayBuffer, JsString, Object, Reflect, Uint8Array, JSON};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** PEM text (one certificate or a bundle) or DER bytes. */
export type CertificateInput = string | Uint8Array | ArrayBuffer;

/** A time: epoch milliseconds or a Date. Omitted: the current time. */
export type Instant = number | Date;

export type CertificateStatus =
  | "ACTIVE" | "INACTIVE" | "REVOKED" | "PENDING_TRANSFER" | "REGISTER_INACTIVE" | "PENDING_ACTIVATION";
export type CaStatus = "ACTIVE" | "INACTIVE";
export type AutoRegistrationStatus = "ENABLE" | "DISABLE";
export type CertificateMode = "DEFAULT" | "SNI_ONLY";

/** The AWS exception names (and jitr's codes) an `Error` thrown by this module can carry as its `name`. */
export type ErrorName =
  | "ResourceNotFoundException" | "ResourceAlreadyExistsException" | "RegistrationCodeValidationException"
  | "InvalidRequestException" | "CertificateValidationException" | "CertificateStateException"
  | "CertificateConflictException" | "LimitExceededException" | "DeleteConflictException"
  | "MalformedPolicyException";

/** An `Error` thrown by this module. */
export interface JitrError extends Error {
  name: ErrorName;
  /** Set on ResourceAlreadyExistsException. */
  resourceId?: string;
  /** Set on ResourceAlreadyExistsException. */
  resourceArn?: string;
}

/** The rules to judge a certificate by: "any" infers them from the certificate. */
export type Role = "any" | "device" | "ca";

export interface Finding {
  /** Stable machine code, e.g. "EXPIRED", "WEAK_KEY", "EKU_WITHOUT_CLIENT_AUTH". */
  code: string;
  severity: "error" | "warning" | "info";
  /** A sentence for people. */
  message: string;
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
  registeredCertificates?: RegisteredCertificate[];
  /** The SNI host name the device sends, if any. */
  serverName?: string | null;
  /** The account for the event payload (12 digits; default "123456789012"). */
  account?: string;
  now?: Instant;
}

/** What JITR decides about one connection. */
export interface Decision {
  allowed: boolean;
  /** Refusal code (e.g. "REGISTERED_PENDING_ACTIVATION", "UNKNOWN_ISSUER"); null when allowed. */
  reason: string | null;
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

/** The boto3 `iot` operation names `Registry.call` accepts, plus "connect". */
export type Operation =
  | "get_registration_code" | "delete_registration_code" | "register_ca_certificate"
  | "update_ca_certificate" | "describe_ca_certificate" | "list_ca_certificates"
  | "delete_ca_certificate" | "register_certificate" | "register_certificate_without_ca"
  | "update_certificate" | "describe_certificate" | "list_certificates" | "list_certificates_by_ca"
  | "delete_certificate" | "create_policy" | "get_policy" | "delete_policy" | "attach_policy"
  | "detach_policy" | "list_attached_policies" | "connect";

export interface Limits {
  /** The longest PEM text accepted, in characters. */
  maxPemLength: number;
  /** The most certificates in one chain or bundle. */
  maxChainLength: number;
  /** The largest DER certificate, in bytes. */
  maxCertificateDerLength: number;
}

/**
 * Inspects every certificate in `input` (one per PEM block, or one DER certificate): its
 * AWS certificate ID, its fields, and every finding at `options.now` (default: now).
 * @throws {JitrError} CertificateValidationException for input that is not certificates
 * (empty, not PEM/DER, truncated, a private key, over the limits); InvalidRequestException
 * for a bad argument.
 */
export function inspectCertificate(input: CertificateInput, options?: InspectOptions): CertificateInfo[];

/**
 * The AWS certificate ID (lowercase hex SHA-256 of the DER) of the one certificate in `input`.
 * @throws {JitrError} CertificateValidationException
 */
export function certificateId(input: CertificateInput): string;

/**
 * Checks a verification certificate as RegisterCACertificate does: its Common Name is
 * `registrationCode`, the CA's key signed it, and (unless `checkValidity` is false) it is
 * valid at `options.now`. Returns when it passes.
 * @throws {JitrError} the exception AWS would raise: RegistrationCodeValidationException or
 * CertificateValidationException, with the reason as its message.
 */
export function checkVerificationCertificate(
  caPem: string, verificationPem: string, registrationCode: string, options?: VerificationOptions): void;

/**
 * The decision JITR would make for `input.chain` if the account held exactly these CAs and
 * device certificates: the core's decision function on a throw-away registry.
 * @throws {JitrError} InvalidRequestException for bad arguments; CertificateValidationException
 * for a registered CA that is not a certificate or a chain entry that is not PEM/DER.
 */
export function preflight(input: PreflightInput): Decision;

/** The exact registration event payload (JSON text: AWS's field order and types). */
export function registrationEvent(input: RegistrationEventInput): string;

/** The MQTT topic: `$aws/events/certificates/registered/<caCertificateId>`. */
export function registrationTopic(caCertificateId: string): string;

/**
 * Parses and validates a registration event payload, as an activation handler receives it.
 * @throws {JitrError} InvalidRequestException
 */
export function parseRegistrationEvent(payload: string): RegistrationEvent;

/** The core's input limits, to refuse oversized input before handing it over. */
export function limits(): Limits;

/** The jitr-wasm version. */
export function version(): string;

/**
 * The certificates, CAs and policies of one account in one region, held in this module's
 * memory: jitr-core's boto3-shaped API. Call `free()` when done with it.
 */
export class Registry {
  /** @throws {JitrError} InvalidRequestException for a bad account, region or code. */
  constructor(options: RegistryOptions);
  readonly account: string;
  readonly region: string;
  /**
   * Runs a boto3 `iot` operation (snake_case name, camelCase parameters as an object or
   * JSON text) at `now` and returns the response as the AWS CLI prints it (dates in epoch
   * seconds). `"connect"` takes `{chain: string[], serverName?: string}` and returns a
   * `Decision`.
   * @throws {JitrError} the operation's AWS exception
   */
  call(operation: Operation, params?: Record<string, unknown> | string, now?: Instant): any;
  /** The whole registry as JSON text. */
  exportState(): string;
  /** Releases the registry's memory. */
  free(): void;
  [Symbol.dispose](): void;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Reports a panic (a bug: no input should reach one) on the console before the module
/// traps, so that the message is not lost.
#[wasm_bindgen(start, skip_typescript)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!(
            "jitr-wasm: internal error (please report): {info}"
        ));
    }));
}

/// The jitr-wasm version.
#[wasm_bindgen(skip_typescript)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The core's input limits, so that a caller can refuse oversized input before handing
/// it over.
#[wasm_bindgen(skip_typescript)]
pub fn limits() -> Result<JsValue, JsValue> {
    to_js(&json!({
        "maxPemLength": MAX_PEM_LEN,
        "maxChainLength": MAX_CHAIN_LEN,
        "maxCertificateDerLength": MAX_CERTIFICATE_DER_LEN,
    }))
}

/// Inspects every certificate in `input` (one per PEM block, or one DER certificate):
/// its AWS certificate ID, fields, and every finding at `options.now` (default: now).
#[wasm_bindgen(js_name = inspectCertificate, skip_typescript)]
pub fn inspect_certificate(input: JsValue, options: Option<JsValue>) -> Result<JsValue, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Opts {
        role: Option<String>,
    }
    let now = instant(&optional_field(&options, "now")?)?;
    let opts: Opts = options_from(&options, &["now"])?;
    let role = match opts.role.as_deref() {
        None | Some("any") => Role::Any,
        Some("device") => Role::Device,
        Some("ca") => Role::Ca,
        Some(other) => {
            return Err(invalid(format!(
                "role must be \"any\", \"device\" or \"ca\", got {:?}",
                truncate(other)
            )))
        }
    };
    let certs = certificates(&input)?;
    let infos: Vec<Value> = certs
        .iter()
        .map(|c| certificate_info(c, role, now))
        .collect();
    to_js(&Value::Array(infos))
}

/// The AWS certificate ID of the one certificate in `input` (PEM or DER).
#[wasm_bindgen(js_name = certificateId, skip_typescript)]
pub fn certificate_id(input: JsValue) -> Result<String, JsValue> {
    let cert = match read_input(&input)? {
        Input::Text(t) => Certificate::from_pem(&t),
        Input::Der(d) => Certificate::from_der(&d),
    }
    .map_err(|e| js_error(&e))?;
    Ok(cert.id().to_string())
}

/// Checks a verification certificate as RegisterCACertificate does: its Common Name is
/// `registrationCode`, the CA's key signed it, and it is valid at `options.now`. Returns
/// nothing when it passes; throws the exception AWS would raise otherwise
/// (`RegistrationCodeValidationException` or `CertificateValidationException`).
#[wasm_bindgen(js_name = checkVerificationCertificate, skip_typescript)]
pub fn check_verification_certificate_js(
    ca_pem: &str,
    verification_pem: &str,
    registration_code: &str,
    options: Option<JsValue>,
) -> Result<(), JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Opts {
        check_validity: Option<bool>,
    }
    let now = instant(&optional_field(&options, "now")?)?;
    let opts: Opts = options_from(&options, &["now"])?;
    let ca = Certificate::from_pem(ca_pem).map_err(|e| {
        js_error(&Error::CertificateValidation(format!(
            "caCertificate: {}",
            e.message()
        )))
    })?;
    check_verification_certificate(
        &ca,
        verification_pem,
        registration_code,
        now,
        opts.check_validity.unwrap_or(true),
    )
    .map_err(|e| js_error(&e))
}

/// The decision JITR would make for `input.chain` if the account held exactly
/// `input.registeredCas` and `input.registeredCertificates`, computed by the core's
/// decision function on a throw-away registry.
#[wasm_bindgen(skip_typescript)]
pub fn preflight(input: JsValue) -> Result<JsValue, JsValue> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Ca {
        pem: String,
        status: String,
        auto_registration_status: String,
        certificate_mode: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Known {
        certificate_id: String,
        status: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct In {
        registered_cas: Vec<Ca>,
        registered_certificates: Option<Vec<Known>>,
        server_name: Option<String>,
        account: Option<String>,
    }
    if !input.is_object() {
        return Err(invalid(
            "preflight takes an object: {chain, registeredCas, ...}",
        ));
    }
    let chain_value = Reflect::get(&input, &JsValue::from_str("chain"))?;
    let now = instant(&optional_field(&input, "now")?)?;
    let args: In = options_from(&input, &["chain", "now"])?;
    let chain = chain_der(&chain_value)?;
    let cas = args
        .registered_cas
        .into_iter()
        .map(|c| {
            Ok(PreflightCa {
                pem: c.pem,
                status: enum_arg::<CaStatus>(&c.status, "status")?,
                auto_registration_status: enum_arg::<AutoRegistrationStatus>(
                    &c.auto_registration_status,
                    "autoRegistrationStatus",
                )?,
                certificate_mode: enum_arg::<CertificateMode>(
                    &c.certificate_mode,
                    "certificateMode",
                )?,
            })
        })
        .collect::<Result<Vec<_>, JsValue>>()?;
    let known = args
        .registered_certificates
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            Ok(PreflightCertificate {
                certificate_id: c.certificate_id.parse().map_err(|e| js_error(&e))?,
                status: enum_arg::<CertificateStatus>(&c.status, "status")?,
            })
        })
        .collect::<Result<Vec<_>, JsValue>>()?;
    let decision = jitr_core::preflight(
        args.account.as_deref().unwrap_or("123456789012"),
        &chain,
        &cas,
        &known,
        args.server_name.as_deref(),
        now,
    )
    .map_err(|e| js_error(&e))?;
    to_js(&api::decision_value(&decision))
}

/// The exact registration event payload (JSON text, AWS's field order and types) for a
/// certificate registered by JITR.
#[wasm_bindgen(js_name = registrationEvent, skip_typescript)]
pub fn registration_event(input: JsValue) -> Result<String, JsValue> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct In {
        certificate_id: String,
        ca_certificate_id: String,
        aws_account_id: String,
    }
    if !input.is_object() {
        return Err(invalid(
            "registrationEvent takes an object: {certificateId, caCertificateId, awsAccountId, ...}",
        ));
    }
    let timestamp = instant(&optional_field(&input, "timestamp")?)?;
    let registered = match optional_field(&input, "certificateRegistrationTimestamp")? {
        v if v.is_undefined() || v.is_null() => timestamp,
        v => instant(&v)?,
    };
    let args: In = options_from(&input, &["timestamp", "certificateRegistrationTimestamp"])?;
    // The account must be one a registry could have.
    Scope::new(&args.aws_account_id, "us-east-1").map_err(|e| js_error(&e))?;
    let event = RegistrationEvent::new(
        id_arg(&args.certificate_id)?,
        id_arg(&args.ca_certificate_id)?,
        &args.aws_account_id,
        timestamp,
        registered,
    );
    Ok(event.to_json())
}

/// The MQTT topic registration events for a CA are published on.
#[wasm_bindgen(js_name = registrationTopic, skip_typescript)]
pub fn registration_topic(ca_certificate_id: &str) -> Result<String, JsValue> {
    Ok(jitr_core::registration_topic(&id_arg(ca_certificate_id)?))
}

/// Parses and validates a registration event payload, as an activation handler
/// receives it.
#[wasm_bindgen(js_name = parseRegistrationEvent, skip_typescript)]
pub fn parse_registration_event(payload: &str) -> Result<JsValue, JsValue> {
    let event = RegistrationEvent::from_json(payload).map_err(|e| js_error(&e))?;
    // The checked event, in its wire form (the payload's own field types).
    let wire: Value = serde_json::from_str(&event.to_json()).map_err(|e| invalid(e.to_string()))?;
    to_js(&wire)
}

/// A registry of one account in one region, held by JS: the boto3-shaped API of
/// `jitr_core::api::call`, for tools and tests that need the whole registry.
#[wasm_bindgen(js_name = Registry, skip_typescript)]
pub struct JsRegistry {
    inner: Registry,
}

#[wasm_bindgen(js_class = Registry)]
impl JsRegistry {
    /// An empty registry.
    #[wasm_bindgen(constructor, skip_typescript)]
    pub fn new(options: JsValue) -> Result<JsRegistry, JsValue> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Opts {
            account: String,
            region: Option<String>,
            partition: Option<String>,
            registration_code: Option<String>,
        }
        if !options.is_object() {
            return Err(invalid(
                "new Registry takes an object: {account, region?, ...}",
            ));
        }
        let o: Opts = options_from(&options, &[])?;
        let scope = Scope::with_partition(
            o.partition.as_deref().unwrap_or("aws"),
            &o.account,
            o.region.as_deref().unwrap_or("us-east-1"),
        )
        .map_err(|e| js_error(&e))?;
        let mut inner = Registry::with_config(scope, RegistryConfig::default());
        if let Some(code) = o.registration_code {
            inner = inner
                .with_registration_code(&code)
                .map_err(|e| js_error(&e))?;
        }
        Ok(Self { inner })
    }

    /// Runs a boto3 `iot` operation (snake_case name, camelCase parameters) at `now`
    /// and returns the response as the AWS CLI prints it (dates in epoch seconds).
    #[wasm_bindgen(skip_typescript)]
    pub fn call(
        &self,
        operation: &str,
        params: Option<JsValue>,
        now: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let now = instant(&now.unwrap_or(JsValue::UNDEFINED))?;
        let params = params.unwrap_or(JsValue::UNDEFINED);
        let params: Value = if params.is_undefined() || params.is_null() {
            Value::Null
        } else if let Some(text) = params.as_string() {
            serde_json::from_str(&text)
                .map_err(|e| invalid(format!("the parameters are not JSON: {e}")))?
        } else {
            json_value(&params)?
        };
        let out = api::call(&self.inner, operation, &params, now).map_err(|e| js_error(&e))?;
        to_js(&out)
    }

    /// The whole registry as JSON text (for persistence, or to compare before and after).
    #[wasm_bindgen(js_name = exportState, skip_typescript)]
    pub fn export_state(&self) -> Result<String, JsValue> {
        self.inner
            .export_state()
            .map(|s| s.to_json())
            .map_err(|e| js_error(&e))
    }

    /// The account.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn account(&self) -> String {
        self.inner.scope().account().to_string()
    }

    /// The region.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn region(&self) -> String {
        self.inner.scope().region().to_string()
    }
}

// --- conversions ---------------------------------------------------------------------

enum Input {
    Text(String),
    Der(Vec<u8>),
}

/// A string, Uint8Array or ArrayBuffer, refused by size before it is copied in.
fn read_input(input: &JsValue) -> Result<Input, JsValue> {
    if let Some(s) = input.dyn_ref::<JsString>() {
        let len = s.length() as usize;
        if len > MAX_PEM_LEN {
            return Err(too_long(len, "characters"));
        }
        let text = String::from(s);
        if text.trim().is_empty() {
            return Err(empty());
        }
        return Ok(Input::Text(text));
    }
    let bytes = if let Some(b) = input.dyn_ref::<Uint8Array>() {
        b.clone()
    } else if let Some(b) = input.dyn_ref::<ArrayBuffer>() {
        Uint8Array::new(b)
    } else {
        return Err(invalid(
            "expected PEM text (a string) or DER bytes (a Uint8Array or ArrayBuffer)",
        ));
    };
    let len = bytes.length() as usize;
    if len > MAX_PEM_LEN {
        return Err(too_long(len, "bytes"));
    }
    if len == 0 {
        return Err(empty());
    }
    let bytes = bytes.to_vec();
    // A DER certificate starts with a SEQUENCE tag; anything else must be PEM text.
    if bytes.first() == Some(&0x30) {
        return Ok(Input::Der(bytes));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Input::Text(text)),
        Err(_) => Err(js_error(&Error::CertificateValidation(
            "the input is neither PEM text (it is not UTF-8 text) nor a DER certificate (which starts with the byte 0x30)".into(),
        ))),
    }
}

fn empty() -> JsValue {
    js_error(&Error::CertificateValidation(
        "the input is empty: give a certificate as PEM text or DER bytes".into(),
    ))
}

fn too_long(len: usize, unit: &str) -> JsValue {
    js_error(&Error::CertificateValidation(format!(
        "the input is {len} {unit}; at most {MAX_PEM_LEN} are accepted (a chain of at most {MAX_CHAIN_LEN} certificates)"
    )))
}

fn certificates(input: &JsValue) -> Result<Vec<Certificate>, JsValue> {
    match read_input(input)? {
        Input::Text(t) => parse_pem_chain(&t),
        Input::Der(d) => Certificate::from_der(&d).map(|c| vec![c]),
    }
    .map_err(|e| js_error(&e))
}

fn chain_der(value: &JsValue) -> Result<Vec<CertificateDer<'static>>, JsValue> {
    let entries: Vec<JsValue> = if Array::is_array(value) {
        Array::from(value).iter().collect()
    } else if value.is_undefined() || value.is_null() {
        return Err(invalid(
            "chain is required: the certificates the device presents, leaf first",
        ));
    } else {
        vec![value.clone()]
    };
    let mut chain = Vec::new();
    for entry in &entries {
        match read_input(entry)? {
            Input::Text(t) => chain.extend(pem_blocks_der(&t).map_err(|e| js_error(&e))?),
            Input::Der(d) => chain.push(d),
        }
    }
    Ok(chain.into_iter().map(CertificateDer::from).collect())
}

fn certificate_info(c: &Certificate, role: Role, now: Timestamp) -> Value {
    let bc = c.basic_constraints();
    json!({
        "id": c.id().to_string(),
        "pem": c.to_pem(),
        "version": c.version(),
        "subject": c.subject().rfc4514(),
        "subjectCommonName": c.subject().common_name(),
        "issuer": c.issuer().rfc4514(),
        "serialNumber": c.serial_hex(),
        "notBefore": c.validity().not_before.unix_millis(),
        "notAfter": c.validity().not_after.unix_millis(),
        "isCa": c.is_ca(),
        "pathLen": c.path_len(),
        "hasBasicConstraints": bc.is_some(),
        "selfSigned": inspect::is_self_signed(c),
        "keyAlgorithm": c.key_algorithm().to_string(),
        "signatureAlgorithm": c.signature_algorithm(),
        "subjectKeyIdentifier": c.subject_key_identifier().map(hex_lower),
        "authorityKeyIdentifier": c.authority_key_identifier().map(hex_lower),
        "keyUsage": c.key_usage(),
        "extendedKeyUsage": c.extended_key_usage(),
        "subjectAlternativeNames": c.subject_alternative_names(),
        "findings": inspect::inspect(c, role, now),
    })
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `now` from JS: undefined/null (the current time), epoch milliseconds, or a Date.
fn instant(v: &JsValue) -> Result<Timestamp, JsValue> {
    let ms = if v.is_undefined() || v.is_null() {
        js_sys::Date::now()
    } else if let Some(d) = v.dyn_ref::<js_sys::Date>() {
        d.get_time()
    } else if let Some(n) = v.as_f64() {
        n
    } else {
        return Err(invalid(
            "a time must be epoch milliseconds (a number) or a Date",
        ));
    };
    // The range of a JS Date.
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return Err(invalid(format!("{ms} is not a valid time")));
    }
    Ok(Timestamp::from_unix_millis(ms.floor() as i64))
}

/// A field of an options object (undefined when `options` is undefined or null).
fn optional_field(options: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !options.is_object() {
        return Err(invalid("options must be an object"));
    }
    Reflect::get(options, &JsValue::from_str(name))
}

/// The fields of an options object other than `handled`, deserialized from their JSON.
fn options_from<T: DeserializeOwned>(options: &JsValue, handled: &[&str]) -> Result<T, JsValue> {
    let mut rest = serde_json::Map::new();
    if !(options.is_undefined() || options.is_null()) {
        if !options.is_object() {
            return Err(invalid("options must be an object"));
        }
        let obj: &Object = options.unchecked_ref();
        for key in Object::keys(obj).iter() {
            let Some(key) = key.as_string() else { continue };
            if handled.contains(&key.as_str()) {
                continue;
            }
            let value = Reflect::get(options, &JsValue::from_str(&key))?;
            if value.is_undefined() {
                continue;
            }
            rest.insert(key, json_value(&value)?);
        }
    }
    serde_json::from_value(Value::Object(rest))
        .map_err(|e| invalid(format!("invalid parameters: {e}")))
}

/// A JS value as JSON (through JSON.stringify).
fn json_value(v: &JsValue) -> Result<Value, JsValue> {
    let text = JSON::stringify(v)
        .map_err(|_| invalid("the parameters cannot be converted to JSON"))?
        .as_string()
        .unwrap_or_default();
    if text.len() > 16 * MAX_PEM_LEN {
        return Err(invalid("the parameters are larger than 16 MiB"));
    }
    serde_json::from_str(&text).map_err(|e| invalid(format!("invalid parameters: {e}")))
}

fn to_js(v: &Value) -> Result<JsValue, JsValue> {
    JSON::parse(&v.to_string())
}

fn enum_arg<T: core::str::FromStr<Err = Error>>(s: &str, what: &str) -> Result<T, JsValue> {
    s.parse()
        .map_err(|e: Error| js_error(&Error::InvalidRequest(format!("{what}: {}", e.message()))))
}

fn id_arg(s: &str) -> Result<CertificateId, JsValue> {
    s.parse().map_err(|e| js_error(&e))
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn invalid(msg: impl Into<String>) -> JsValue {
    js_error(&Error::InvalidRequest(msg.into()))
}

/// A JS `Error` whose `name` is the error's code (its AWS exception name).
fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message());
    err.set_name(e.code());
    if let Error::ResourceAlreadyExists {
        resource_id,
        resource_arn,
        ..
    } = e
    {
        // Setting a property on a fresh Error cannot fail.
        let _ = Reflect::set(&err, &"resourceId".into(), &resource_id.into());
        let _ = Reflect::set(&err, &"resourceArn".into(), &resource_arn.into());
    }
    err.into()
}
