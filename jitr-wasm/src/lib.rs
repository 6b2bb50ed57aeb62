//! # jitr-wasm
//!
//! jitr for JavaScript: certificate inspection, the JITR pre-flight decision (with a
//! CA's JITP template), AWS IoT policy decisions, JITP previews and the boto3-shaped
//! registry API, compiled to WebAssembly with wasm-bindgen. It runs in the
//! browser (the page in `www/`) and in Node, and sends nothing anywhere.
//!
//! This crate only converts: JS strings and bytes in as [`jitr_core::input::Input`], JSON
//! requests in as the core's request types ([`jitr_core::input`]), times as
//! [`Timestamp`]s, the core's values out as JS values, and the core's [`Error`]s out as JS
//! `Error`s whose `name` is the error's code (the AWS exception name). Every rule, bound
//! and sentence is the core's.
//!
//! These exports are the package's internals: the public API is the JavaScript module
//! around them (`js/jitr_wasm.js`), which checks every argument's type and size before
//! anything is copied into WebAssembly, turns these errors into `JitrError`s, and carries
//! the TypeScript types (`js/jitr_wasm.d.ts`).

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use jitr_core::input::{
    self, from_json, timestamp_from_millis, Input, InspectOptions, PreflightRequest,
    RegistrationEventRequest, RegistryOptions, VerificationOptions, LIMITS,
};
use jitr_core::inspect::{self, Role, Severity};
use jitr_core::{
    api, AutoRegistrationStatus, CaStatus, CertificateId, CertificateMode, CertificateStatus,
    Error, RefusalReason, RegistrationEvent, Registry, Timestamp,
};
use js_sys::{Array, ArrayBuffer, JsString, Reflect, Uint8Array, JSON};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Reports a panic (a bug: no input should reach one) on the console before the module
/// traps, so that the message is not lost.
#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!(
            "jitr-wasm: internal error (please report): {info}"
        ));
    }));
}

/// The jitr-wasm version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The core's input limits ([`jitr_core::input::Limits`]).
#[wasm_bindgen]
pub fn limits() -> Result<JsValue, JsValue> {
    to_js(&LIMITS)
}

/// The core's vocabularies, for the TypeScript unions and for UIs that list them.
#[wasm_bindgen]
pub fn codes() -> Result<JsValue, JsValue> {
    fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| name(*v)).collect()
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Codes {
        refusal: &'static [&'static str],
        finding: &'static [&'static str],
        error: &'static [&'static str],
        severity: Vec<&'static str>,
        role: Vec<&'static str>,
        certificate_status: Vec<&'static str>,
        ca_status: Vec<&'static str>,
        auto_registration_status: Vec<&'static str>,
        certificate_mode: Vec<&'static str>,
        operation: Vec<&'static str>,
    }
    to_js(&Codes {
        refusal: RefusalReason::CODES,
        finding: inspect::CODES,
        error: Error::CODES,
        severity: names(
            &[Severity::Error, Severity::Warning, Severity::Info],
            Severity::as_str,
        ),
        role: names(&[Role::Any, Role::Device, Role::Ca], Role::as_str),
        certificate_status: names(CertificateStatus::ALL, CertificateStatus::as_str),
        ca_status: names(CaStatus::ALL, CaStatus::as_str),
        auto_registration_status: names(
            AutoRegistrationStatus::ALL,
            AutoRegistrationStatus::as_str,
        ),
        certificate_mode: names(CertificateMode::ALL, CertificateMode::as_str),
        operation: api::OPERATIONS.iter().map(api::Operation::name).collect(),
    })
}

/// Every certificate in `input`, described ([`InspectOptions::inspect`]).
#[wasm_bindgen(js_name = inspectCertificate)]
pub fn inspect_certificate(input: JsValue, options: &str) -> Result<JsValue, JsValue> {
    let options: InspectOptions = from_json(options).map_err(js_error)?;
    let infos = with_input(&input, |i| options.inspect(i, clock()))?;
    to_js(&infos)
}

/// The ID of the one certificate in `input`.
#[wasm_bindgen(js_name = certificateId)]
pub fn certificate_id(input: JsValue) -> Result<String, JsValue> {
    let cert = with_input(&input, input::certificate)?;
    Ok(cert.id().to_string())
}

/// Whether `issuer` issued `certificate` ([`inspect::issued_by`]).
#[wasm_bindgen(js_name = issuedBy)]
pub fn issued_by(certificate: JsValue, issuer: JsValue) -> Result<bool, JsValue> {
    let cert = with_input(&certificate, input::certificate)?;
    let ca = with_input(&issuer, input::certificate)?;
    Ok(inspect::issued_by(&cert, &ca))
}

/// Checks a verification certificate as RegisterCACertificate does
/// ([`VerificationOptions::check`]).
#[wasm_bindgen(js_name = checkVerificationCertificate)]
pub fn check_verification_certificate(
    ca_pem: &str,
    verification_pem: &str,
    registration_code: &str,
    options: &str,
) -> Result<(), JsValue> {
    let options: VerificationOptions = from_json(options).map_err(js_error)?;
    options
        .check(ca_pem, verification_pem, registration_code, clock())
        .map_err(js_error)
}

/// The decision for `chain` (an array of PEM texts and DER bytes, leaf first) under the
/// JSON `request` ([`PreflightRequest::decide`]).
#[wasm_bindgen]
pub fn preflight(chain: JsValue, request: &str) -> Result<JsValue, JsValue> {
    let request: PreflightRequest = from_json(request).map_err(js_error)?;
    if !Array::is_array(&chain) {
        return Err(js_error(Error::InvalidRequest(
            "chain must be an array of PEM texts and DER bytes".into(),
        )));
    }
    let entries = Array::from(&chain)
        .iter()
        .map(|v| owned_input(&v))
        .collect::<Result<Vec<_>, _>>()?;
    let inputs: Vec<Input<'_>> = entries.iter().map(OwnedInput::as_input).collect();
    let chain = input::chain_der(&inputs).map_err(js_error)?;
    let decision = request.decide(&chain, clock()).map_err(js_error)?;
    to_js(&api::decision_value(&decision))
}

/// TestAuthorization-style decisions for the JSON `input` (policies, a context and
/// `authInfos`), offline: [`jitr_core::policy::simulate`].
#[wasm_bindgen]
pub fn authorize(input: &str) -> Result<JsValue, JsValue> {
    let input: Value = from_json(input).map_err(js_error)?;
    to_js(&jitr_core::policy::simulate(&input).map_err(js_error)?)
}

/// What just-in-time provisioning would do for the JSON `input` (a template and a
/// certificate or parameters): [`jitr_core::provisioning::preview`].
#[wasm_bindgen(js_name = previewProvisioning)]
pub fn preview_provisioning(input: &str) -> Result<JsValue, JsValue> {
    let input: Value = from_json(input).map_err(js_error)?;
    to_js(&jitr_core::provisioning::preview(&input).map_err(js_error)?)
}

/// The exact registration event payload for the JSON `request`
/// ([`RegistrationEventRequest::event`]).
#[wasm_bindgen(js_name = registrationEvent)]
pub fn registration_event(request: &str) -> Result<String, JsValue> {
    let request: RegistrationEventRequest = from_json(request).map_err(js_error)?;
    Ok(request.event(clock()).map_err(js_error)?.to_json())
}

/// The MQTT topic registration events for a CA are published on.
#[wasm_bindgen(js_name = registrationTopic)]
pub fn registration_topic(ca_certificate_id: &str) -> Result<String, JsValue> {
    let id: CertificateId = ca_certificate_id.parse().map_err(js_error)?;
    Ok(jitr_core::registration_topic(&id))
}

/// Parses and validates a registration event payload.
#[wasm_bindgen(js_name = parseRegistrationEvent)]
pub fn parse_registration_event(payload: &str) -> Result<JsValue, JsValue> {
    let event = RegistrationEvent::from_json(payload).map_err(js_error)?;
    // The checked event, in its wire form (the payload's own field types).
    let wire: serde_json::Value = serde_json::from_str(&event.to_json())
        .map_err(|e| js_error(Error::InvalidRequest(e.to_string())))?;
    to_js(&wire)
}

/// A registry of one account in one region, held by JS: `jitr_core::api::call`.
#[wasm_bindgen(js_name = Registry)]
pub struct JsRegistry {
    inner: Registry,
}

#[wasm_bindgen(js_class = Registry)]
impl JsRegistry {
    /// An empty registry ([`RegistryOptions::registry`], `options` as JSON).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str) -> Result<JsRegistry, JsValue> {
        let options: RegistryOptions = from_json(options).map_err(js_error)?;
        Ok(Self {
            inner: options.registry().map_err(js_error)?,
        })
    }

    /// Runs a boto3 `iot` operation with `params` (JSON text; none: no parameters) at
    /// `now` (epoch milliseconds; none: the current time) and returns the response as the
    /// AWS CLI prints it.
    pub fn call(
        &self,
        operation: &str,
        params: Option<String>,
        now: Option<f64>,
    ) -> Result<JsValue, JsValue> {
        let now = match now {
            Some(ms) => timestamp_from_millis(ms).map_err(js_error)?,
            None => clock(),
        };
        let params: Value = match params {
            Some(text) => from_json(&text).map_err(js_error)?,
            None => Value::Null,
        };
        let out = api::call(&self.inner, operation, &params, now).map_err(js_error)?;
        to_js(&out)
    }

    /// The whole registry as JSON text.
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&self) -> Result<String, JsValue> {
        self.inner
            .export_state()
            .map(|s| s.to_json())
            .map_err(js_error)
    }

    /// The account.
    #[wasm_bindgen(getter)]
    pub fn account(&self) -> String {
        self.inner.scope().account().to_string()
    }

    /// The region.
    #[wasm_bindgen(getter)]
    pub fn region(&self) -> String {
        self.inner.scope().region().to_string()
    }
}

// --- conversions ---------------------------------------------------------------------

/// A JS string or bytes, copied in.
enum OwnedInput {
    Text(String),
    Bytes(Vec<u8>),
}

impl OwnedInput {
    fn as_input(&self) -> Input<'_> {
        match self {
            Self::Text(t) => Input::Text(t),
            Self::Bytes(b) => Input::Bytes(b),
        }
    }
}

/// A string, Uint8Array or ArrayBuffer as core input.
fn owned_input(value: &JsValue) -> Result<OwnedInput, JsValue> {
    if let Some(s) = value.dyn_ref::<JsString>() {
        return Ok(OwnedInput::Text(String::from(s)));
    }
    if let Some(b) = value.dyn_ref::<Uint8Array>() {
        return Ok(OwnedInput::Bytes(b.to_vec()));
    }
    if let Some(b) = value.dyn_ref::<ArrayBuffer>() {
        return Ok(OwnedInput::Bytes(Uint8Array::new(b).to_vec()));
    }
    Err(js_error(Error::InvalidRequest(
        "expected PEM text (a string) or DER bytes (a Uint8Array or ArrayBuffer)".into(),
    )))
}

fn with_input<T>(
    value: &JsValue,
    f: impl FnOnce(Input<'_>) -> Result<T, Error>,
) -> Result<T, JsValue> {
    f(owned_input(value)?.as_input()).map_err(js_error)
}

/// The host's clock: the default `now` of every request.
fn clock() -> Timestamp {
    // Date.now() is always a finite time in a Date's range.
    timestamp_from_millis(js_sys::Date::now()).unwrap_or(Timestamp::from_unix_millis(0))
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(|e| {
        js_error(Error::InvalidRequest(format!(
            "cannot encode the response: {e}"
        )))
    })?;
    JSON::parse(&text)
}

/// A JS `Error` whose `name` is the error's code (its AWS exception name).
fn js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.message());
    err.set_name(e.code());
    if let Error::ResourceAlreadyExists {
        resource_id,
        resource_arn,
        ..
    } = &e
    {
        // Setting a property on a fresh Error cannot fail.
        let _ = Reflect::set(&err, &"resourceId".into(), &resource_id.into());
        let _ = Reflect::set(&err, &"resourceArn".into(), &resource_arn.into());
    }
    err.into()
}
