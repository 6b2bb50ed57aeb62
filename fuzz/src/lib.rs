//! The bodies of jitr's fuzz targets: one plain function per target, each over a public
//! entry point of `jitr-core`. `fuzz_targets/<name>.rs` are one-line wrappers around
//! them; `tests/tests/fuzz_regressions.rs` includes this file (with `#[path]`) and runs
//! every input of `regressions/<name>/` through the same functions on stable, so a crash
//! once fixed stays fixed.
//!
//! A body must not panic on any input. The assertions in it are the properties under
//! test: a failed one is a crash like any other.
//!
//! Input formats (the seed script `extract_seeds.py` writes seeds in them):
//! - `pem`, `event_json`: text (lossy UTF-8).
//! - `der`, `der_mutator`: one DER certificate.
//! - `decide`, `register_ca`: a flags byte, then certificates as concatenated DER (each
//!   certificate's TLV header delimits it; what cannot be split is the last piece).
//! - `api_call`: an operation selector byte (index into [`jitr_core::api::OPERATIONS`],
//!   modulo its length plus one: the extra value names no operation), then the
//!   parameters as JSON text.
//! - `registry_ops`: raw bytes for `arbitrary` (a list of operations).
//! - `crl`: a CRL, PEM or DER (the target came with CRL support, issue 7).
//! - `template`: a provisioning template, then optionally a NUL byte and the parameters
//!   as a JSON object of strings (else every JITP certificate parameter is given).
//! - `pkcs7`: a PKCS#7 certificate bundle (`.p7b`), DER or BER, or anything the page may
//!   be handed as a file (came with PKCS#7 support in `jitr_core::input`, issue 15).
//! - `policy`: a mode byte, then a policy document as text (even) or bytes for
//!   `arbitrary` (odd); see [`policy_fuzz`] (issue 11).

use std::collections::HashMap;
use std::sync::OnceLock;

use jitr_core::inspect::{self, inspect, Role};
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{
    api, check_verification_certificate, AutoRegistrationStatus, CaStatus, Certificate,
    CertificateId, CertificateMode, CertificateStatus, PathOptions, RegisterCaCertificateRequest,
    RegistrationEvent, Registry, RegistryConfig, RegistryState, RequiredEku, Scope, Timestamp,
    ValidityCheck, MAX_CHAIN_LEN,
};
use serde_json::Value;

#[path = "der_mutator.rs"]
pub mod der_mutator;
#[path = "policy_fuzz.rs"]
pub mod policy_fuzz;

/// A target's body.
pub type Body = fn(&[u8]);

/// Every target: its name (its folder under `corpus/` and `regressions/`) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("pem", pem),
    ("der", der),
    ("der_mutator", der_mutator_body),
    ("decide", decide),
    ("register_ca", register_ca),
    ("event_json", event_json),
    ("api_call", api_call),
    ("registry_ops", registry_ops),
    ("crl", crl),
    ("template", template),
    ("pkcs7", pkcs7),
    ("policy", policy),
    ("state", state),
    ("mqtt", mqtt),
];

/// The shared vector file whose CAs make the fixed registry of `decide`, `register_ca`
/// and `api_call`: eleven CAs in every status, mode and key type.
const VECTORS: &str = include_str!("../../tests/vectors/connect-refusals.json");

/// The SNI host name the vectors use.
const ENDPOINT: &str = "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com";

/// Times a flags byte chooses from (whole seconds, so webpki's second-granular clock and
/// the millisecond validity checks agree): just after the vectors' start (2026-06-01),
/// after the short-lived CA expired (2026-07-02), 2020-09-13 and 2036-07-18.
const TIMES: [i64; 4] = [1_780_272_060, 1_782_950_400, 1_600_000_000, 2_100_000_000];

/// The fixed registry's state and what the bodies check against.
struct Fixture {
    state: RegistryState,
    code: String,
    /// The registered CAs by ID.
    cas: HashMap<CertificateId, Certificate>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let v: Value = serde_json::from_str(VECTORS).expect("the vector file is JSON");
        let text = |k: &str| v[k].as_str().expect("a string field").to_string();
        let scope = Scope::with_partition(&text("partition"), &text("account"), &text("region"))
            .expect("the vector's scope is valid");
        let code = text("registrationCode");
        let reg = Registry::new(scope)
            .with_registration_code(&code)
            .expect("the vector's code is valid");
        let mut cas = HashMap::new();
        for step in v["steps"].as_array().expect("steps") {
            if step["op"] != "register_ca_certificate" {
                continue;
            }
            let now = Timestamp::from_unix_millis(step["now"].as_i64().expect("now"));
            api::call(&reg, "register_ca_certificate", &step["args"], now)
                .expect("the vector's CAs register");
            let pem = step["args"]["caCertificate"].as_str().expect("a PEM");
            let ca = Certificate::from_pem(pem).expect("the CA parses");
            cas.insert(ca.id(), ca);
        }
        Fixture {
            state: reg.export_state().expect("the state exports"),
            code,
            cas,
        }
    })
}

thread_local! {
    /// Registries in the fixture's state, by `require_sni_for_leaf_only`, kept between
    /// inputs: loading the state costs more than most inputs' own work.
    static CACHED: std::cell::RefCell<Vec<(bool, Registry)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A registry holding the fixture's CAs and nothing else: a cached one, or a fresh one.
fn fixed_registry(require_sni_for_leaf_only: bool) -> Registry {
    let cached = CACHED.with(|c| {
        let mut c = c.borrow_mut();
        let i = c
            .iter()
            .position(|(k, _)| *k == require_sni_for_leaf_only)?;
        Some(c.swap_remove(i).1)
    });
    cached.unwrap_or_else(|| {
        let mut config = RegistryConfig::default();
        config.require_sni_for_leaf_only = require_sni_for_leaf_only;
        Registry::from_state(&fixture().state, config).expect("the fixture's state loads")
    })
}

/// Hands back a registry that is still in the fixture's state, for the next input.
fn keep_registry(reg: Registry) {
    debug_assert_eq!(reg.certificate_count(), 0);
    let key = reg.config().require_sni_for_leaf_only;
    CACHED.with(|c| c.borrow_mut().push((key, reg)));
}

/// The length of the TLV at the start of `data` (header and contents), if its header
/// can be read.
pub fn der_len(data: &[u8]) -> Option<usize> {
    let first = *data.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 3 {
        return None;
    }
    let len = data
        .get(2..2 + n)?
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Some(2 + n + len)
}

/// Splits concatenated DER into pieces by their TLV headers; at most `max` pieces, the
/// last one taking whatever is left (or cannot be split).
pub fn split_der(mut data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let n = match der_len(data) {
            Some(n) if n <= data.len() && out.len() + 1 < max => n,
            _ => data.len(),
        };
        let (head, rest) = data.split_at(n);
        out.push(head);
        data = rest;
    }
    out
}

/// PEM armour around arbitrary bytes (64-column base64, LF endings).
pub fn pem_armor(label: &str, der: &[u8]) -> String {
    jitr_testkit::pem_encode(label, der)
}

/// `pem`: PEM bundle parsing. Both entry points agree, every error is typed, and a
/// parsed certificate's PEM parses back to itself.
pub fn pem(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let blocks = jitr_core::pem_blocks_der(&text);
    let chain = jitr_core::parse_pem_chain(&text);
    for e in [blocks.as_ref().err(), chain.as_ref().err()]
        .into_iter()
        .flatten()
    {
        assert_eq!(e.code(), "CertificateValidationException", "{e:?}");
    }
    match (&blocks, &chain) {
        (Ok(blocks), Ok(chain)) => {
            assert_eq!(blocks.len(), chain.len());
            for (der, cert) in blocks.iter().zip(chain) {
                assert_eq!(der.as_slice(), cert.der());
                check_certificate(cert);
            }
        }
        (Err(e), Ok(_)) => panic!("the certificates parse but the blocks do not: {e:?}"),
        (Ok(blocks), Err(_)) => assert!(
            blocks.len() > MAX_CHAIN_LEN
                || blocks.iter().any(|d| Certificate::from_der(d).is_err()),
            "every block parses alone, yet the bundle is refused"
        ),
        (Err(_), Err(_)) => {}
    }
}

/// `der`: DER certificate parsing; a parsed certificate answers every accessor and its
/// PEM parses back to itself.
pub fn der(data: &[u8]) {
    match Certificate::from_der(data) {
        Ok(cert) => {
            assert_eq!(cert.der(), data);
            check_certificate(&cert);
        }
        Err(e) => assert_eq!(e.code(), "CertificateValidationException", "{e:?}"),
    }
    if let Err(e) = Certificate::from_pem_or_der(data) {
        assert_eq!(e.code(), "CertificateValidationException", "{e:?}");
    }
}

fn check_certificate(cert: &Certificate) {
    assert_eq!(cert.id(), CertificateId::of_der(cert.der()));
    let again = Certificate::from_pem(&cert.to_pem()).expect("a parsed certificate's PEM parses");
    assert_eq!(&again, cert);
    let _ = (
        cert.subject().rfc4514(),
        cert.subject().attributes(),
        cert.issuer().common_name(),
        cert.serial_hex(),
        cert.validity(),
        cert.is_ca(),
        cert.path_len(),
        cert.key_algorithm().to_string(),
        cert.key_usage(),
        cert.extended_key_usage(),
        cert.subject_alternative_names(),
        cert.version(),
        cert.signature_algorithm(),
        cert.subject_key_identifier(),
        cert.authority_key_identifier(),
    );
    // Signature verification over arbitrary keys and algorithms.
    let _ = cert.is_signed_by(cert);
    // The findings report, in every role.
    let now = Timestamp::from_unix_secs(TIMES[0]);
    for role in [Role::Any, Role::Device, Role::Ca] {
        for finding in inspect(cert, role, now) {
            assert!(inspect::CODES.contains(&finding.code), "{finding:?}");
        }
    }
}

/// `der_mutator`: the `der` body, then the mutated certificate as a leaf sent with the
/// fixture's first CA (so mutations of the vectors' devices reach path validation).
pub fn der_mutator_body(data: &[u8]) {
    der(data);
    let ca = fixture()
        .state
        .ca_certificates
        .first()
        .map(|c| Certificate::from_pem(&c.certificate_pem).expect("the fixture's CA parses"))
        .expect("the fixture has CAs");
    decide_chain(&[data, ca.der()], 0b1);
}

/// `decide`: the JITR decision on an arbitrary chain against the fixed registry.
///
/// Flags: bit 0 sends SNI; bits 1–2 choose the time; bit 3 runs the handshake check
/// (`authenticate`) first; bit 4 turns off the SNI requirement for leaf-only chains.
pub fn decide(data: &[u8]) {
    decide_registers(data);
}

/// The `decide` body; returns whether the decision registered the leaf.
pub fn decide_registers(data: &[u8]) -> bool {
    let Some((&flags, rest)) = data.split_first() else {
        return false;
    };
    let pieces = split_der(rest, MAX_CHAIN_LEN + 2);
    decide_chain(&pieces, flags)
}

fn decide_chain(pieces: &[&[u8]], flags: u8) -> bool {
    let chain: Vec<CertificateDer<'_>> = pieces.iter().map(|p| CertificateDer::from(*p)).collect();
    let sni = (flags & 1 != 0).then_some(ENDPOINT);
    let now = Timestamp::from_unix_secs(TIMES[usize::from((flags >> 1) & 3)]);
    let reg = fixed_registry(flags & 0x10 == 0);
    if flags & 0x08 != 0 {
        let _ = reg.authenticate(&chain, sni, now);
        assert_eq!(
            reg.certificate_count(),
            0,
            "the handshake check registers nothing"
        );
    }
    // Path validation as conformance suites use it, for coverage of both path builders.
    let _ = reg.verify_path(
        &chain,
        PathOptions::default()
            .with_eku(RequiredEku::ServerAuth)
            .with_intermediates(true),
        now,
    );

    let d = reg.decide(&chain, sni, now);
    assert!(
        !d.is_allowed(),
        "nothing is registered, so nothing is allowed: {d:?}"
    );
    let _ = d.message();
    if !d.registered() {
        assert_eq!(reg.certificate_count(), 0, "refused but registered: {d:?}");
        assert!(d.event.is_none(), "an event without a registration: {d:?}");
        keep_registry(reg);
        return false;
    }
    // Registered: the chain verifies, by the decision's own path validation ...
    let ca_id = reg
        .verify_path(&chain, PathOptions::default(), now)
        .expect("a registered certificate's chain verifies");
    assert_eq!(Some(ca_id), d.ca_certificate_id);
    // ... and by an independent implementation (x509-parser's signature check).
    let leaf = Certificate::from_der(pieces[0]).expect("a registered leaf parses");
    let ca = &fixture().cas[&ca_id];
    leaf.is_signed_by(ca)
        .expect("x509-parser agrees that the CA signed the leaf");
    assert_eq!(leaf.validity().check(now), ValidityCheck::Valid);
    assert_eq!(ca.validity().check(now), ValidityCheck::Valid);
    // The CA allows auto-registration on this route.
    let desc = reg
        .describe_ca_certificate(&ca_id)
        .expect("the CA is registered")
        .certificate_description;
    assert_eq!(desc.status, CaStatus::Active);
    assert_eq!(
        desc.auto_registration_status,
        AutoRegistrationStatus::Enable
    );
    assert!(desc.certificate_mode == CertificateMode::Default || sni.is_some());
    // What was registered, and the event.
    assert_eq!(d.certificate_id, Some(leaf.id()));
    let cert = reg
        .describe_certificate(&leaf.id())
        .expect("the certificate is registered");
    assert_eq!(cert.status, CertificateStatus::PendingActivation);
    assert_eq!(cert.customer_version, 1);
    assert_eq!(cert.ca_certificate_id, Some(ca_id));
    let event = d.event.as_ref().expect("a registration publishes an event");
    assert_eq!(event.certificate_id, leaf.id());
    assert_eq!(event.ca_certificate_id, ca_id);
    assert_eq!(event.timestamp, now);
    assert_eq!(reg.certificate_count(), 1);
    // Once: the same chain again finds it pending.
    let again = reg.decide(&chain, sni, now);
    assert_eq!(again.reason_code(), Some("PENDING_ACTIVATION"), "{again:?}");
    assert_eq!(reg.certificate_count(), 1);
    true
}

/// `register_ca`: CA registration with an arbitrary CA and verification certificate,
/// against the fixed registry (so duplicates and the same-subject limit are reachable).
///
/// Flags: bit 0 `setAsActive`, bit 1 `allowAutoRegistration`, bit 2 `SNI_ONLY`, bit 3
/// no verification certificate, bit 4 the rest is text (CA PEM, a NUL byte, verification
/// PEM) rather than concatenated DER, bits 5–6 the time.
pub fn register_ca(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (ca_pem, verification_pem) = if flags & 0x10 != 0 {
        let mut parts = rest.splitn(2, |b| *b == 0);
        let ca = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let v = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        (ca, v)
    } else {
        let pieces = split_der(rest, 2);
        let armor = |i: usize| pem_armor("CERTIFICATE", pieces.get(i).copied().unwrap_or_default());
        (armor(0), armor(1))
    };
    let mode = if flags & 0x04 != 0 {
        CertificateMode::SniOnly
    } else {
        CertificateMode::Default
    };
    let req = RegisterCaCertificateRequest {
        ca_certificate: ca_pem,
        verification_certificate: (flags & 0x08 == 0).then_some(verification_pem),
        set_as_active: flags & 0x01 != 0,
        allow_auto_registration: flags & 0x02 != 0,
        certificate_mode: mode,
        ..Default::default()
    };
    let now = Timestamp::from_unix_secs(TIMES[usize::from((flags >> 5) & 3)]);
    let reg = fixed_registry(true);
    let before = &fixture().state;
    match reg.register_ca_certificate(&req, now) {
        Err(e) => {
            assert!(
                [
                    "CertificateValidationException",
                    "InvalidRequestException",
                    "RegistrationCodeValidationException",
                    "ResourceAlreadyExistsException",
                    "LimitExceededException",
                ]
                .contains(&e.code()),
                "{e:?}"
            );
            assert_eq!(
                &reg.export_state().expect("the state exports"),
                before,
                "a refused registration stored something"
            );
            keep_registry(reg);
        }
        Ok(resp) => {
            let ca = Certificate::from_pem(&req.ca_certificate).expect("a registered CA parses");
            assert_eq!(resp.certificate_id, ca.id());
            assert!(!fixture().cas.contains_key(&ca.id()), "registered twice");
            assert!(ca.is_ca(), "a registered CA has basicConstraints cA true");
            assert_eq!(ca.validity().check(now), ValidityCheck::Valid);
            match (mode, &req.verification_certificate) {
                (CertificateMode::Default, Some(v)) => {
                    check_verification_certificate(&ca, v, &fixture().code, now, true)
                        .expect("the proof of possession holds");
                }
                (CertificateMode::SniOnly, None) => {}
                other => panic!("registered with mode and verification {other:?}"),
            }
            assert_eq!(reg.ca_certificate_count(), before.ca_certificates.len() + 1);
            let desc = reg
                .describe_ca_certificate(&ca.id())
                .expect("described")
                .certificate_description;
            assert_eq!(desc.status == CaStatus::Active, req.set_as_active);
            assert_eq!(
                desc.auto_registration_status == AutoRegistrationStatus::Enable,
                req.allow_auto_registration
            );
            assert_eq!(desc.certificate_mode, mode);
            assert_eq!(desc.customer_version, 1);
            let err = reg
                .register_ca_certificate(&req, now)
                .expect_err("a second registration is refused");
            assert_eq!(err.code(), "ResourceAlreadyExistsException");
        }
    }
}

/// `event_json`: registration-event parsing; what parses serializes and parses back to
/// the same event.
pub fn event_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match RegistrationEvent::from_json(&text) {
        Ok(event) => {
            let json = event.to_json();
            let again = RegistrationEvent::from_json(&json).expect("a serialized event parses");
            assert_eq!(again, event);
            assert_eq!(again.to_json(), json);
            assert!(event
                .topic()
                .starts_with("$aws/events/certificates/registered/"));
        }
        Err(e) => assert_eq!(e.code(), "InvalidRequestException", "{e:?}"),
    }
}

/// `api_call`: the boto3-shaped JSON entry point with an arbitrary operation and
/// parameters, against the fixed registry. A failed call changes nothing.
pub fn api_call(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let ops = api::OPERATIONS;
    // One selector value in `len + 1` names no operation at all.
    let op = ops
        .get(usize::from(selector) % (ops.len() + 1))
        .map_or("no_such_operation", api::Operation::name);
    let text = String::from_utf8_lossy(rest);
    let params: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.into_owned()));
    let reg = fixed_registry(true);
    let before = &fixture().state;
    let now = Timestamp::from_unix_secs(TIMES[0] + 60);
    match api::call(&reg, op, &params, now) {
        Ok(v) => {
            let _ = v.to_string();
            if op == "connect" {
                assert!(v["allowed"].is_boolean(), "{v}");
            }
        }
        Err(e) => {
            assert!(e.code().ends_with("Exception"), "{e:?}");
            let _ = e.message();
            assert_eq!(
                &reg.export_state().expect("the state exports"),
                before,
                "{op} failed ({e:?}) but changed the registry"
            );
            keep_registry(reg);
        }
    }
}

/// `registry_ops`: operation sequences against a model of the registry (the model and
/// its harness are `jitr-model`'s, shared with the property tests).
pub fn registry_ops(data: &[u8]) {
    jitr_model::run(data);
}

/// `crl`: CRL parsing (PEM or DER) and lookup. Garbage is `InvalidRequestException`; a
/// parsed CRL answers lookups consistently and checks freshness without panicking.
pub fn crl(data: &[u8]) {
    match jitr_core::crl::Crl::from_pem_or_der(data) {
        Ok(crl) => {
            let serial = &data[..data.len().min(20)];
            assert_eq!(crl.is_revoked(serial), crl.is_revoked(serial));
            // is_empty and len agree (the comparison is the point here).
            #[allow(clippy::len_zero)]
            let empty = crl.len() == 0;
            assert_eq!(crl.is_empty(), empty);
            for t in [i64::MIN / 2000, 0, 1_780_000_000, i64::MAX / 2000] {
                let _ = crl.check_fresh(
                    jitr_core::Timestamp::from_unix_secs(t),
                    jitr_core::crl::StaleCrlPolicy::Refuse,
                );
            }
        }
        Err(e) => assert_eq!(e.code(), "InvalidRequestException", "{e:?}"),
    }
}

/// The parameters `template` evaluates with when its input gives none: every JITP
/// certificate parameter, and the account's pseudo parameters.
fn template_parameters(json: &str) -> jitr_core::provisioning::Parameters {
    use jitr_core::provisioning::{Parameters, CERTIFICATE_PARAMETERS};
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(json) {
        let mut p = Parameters::new();
        for (k, v) in m {
            // What the preview accepts as a parameter name.
            if let (Value::String(v), 1..=2048) = (v, k.chars().count()) {
                p.insert(k, v);
            }
        }
        return p;
    }
    let mut p = Parameters::new();
    for (name, _) in CERTIFICATE_PARAMETERS {
        let value = match name.rsplit("::").next() {
            Some("Id") => "ab".repeat(32),
            Some("Country") => "DE".to_string(),
            _ => "device-1".to_string(),
        };
        p.insert(*name, value);
    }
    let scope = Scope::new("123456789012", "us-east-1").expect("a valid scope");
    p.with_scope(&scope)
}

/// `template`: provisioning templates (issue 13). Parsing and evaluation never panic;
/// refusals are typed and located; evaluation is deterministic, never hits an
/// unresolved reference, and a plan holds only what AWS IoT accepts; `preview` agrees.
pub fn template(data: &[u8]) {
    use jitr_core::provisioning::{preview, ProvisioningFailure, Template, TemplateErrorKind};
    let text = String::from_utf8_lossy(data);
    let (body, params) = text.split_once('\0').unwrap_or((&text, ""));
    let parameters = template_parameters(params);
    let parsed = Template::parse(body);
    assert_eq!(parsed, Template::parse(body), "parsing is deterministic");
    let outcome = match &parsed {
        Err(e) => {
            assert!(TemplateErrorKind::ALL.contains(&e.kind()), "{e:?}");
            assert!(!e.detail().is_empty());
            assert!(e.path().is_empty() || e.path().starts_with('/'), "{e:?}");
            assert_eq!(
                jitr_core::Error::from(e.clone()).code(),
                "InvalidRequestException"
            );
            None
        }
        Ok(t) => {
            let result = t.evaluate(&parameters);
            assert_eq!(
                result,
                t.evaluate(&parameters),
                "evaluation is deterministic"
            );
            match &result {
                Ok(plan) => {
                    let name_ok = |s: &str| {
                        (1..=128).contains(&s.len())
                            && s.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b":_-".contains(&b))
                    };
                    if let Some(thing) = &plan.thing {
                        assert!(name_ok(&thing.thing_name), "{thing:?}");
                        assert!(thing.thing_groups.iter().all(|g| name_ok(g)), "{thing:?}");
                        assert!(thing.thing_type_name.iter().all(|t| name_ok(t)));
                        assert!(thing.attributes.len() <= 50);
                    }
                    assert!(plan.policies.len() <= 10);
                    for p in &plan.policies {
                        jitr_core::validate_policy_name(&p.policy_name).expect("a valid name");
                        if let Some(doc) = &p.policy_document {
                            jitr_core::validate_policy_document(doc).expect("a valid document");
                            // Named after the document's SHA-256.
                            assert_eq!(
                                p.policy_name,
                                CertificateId::of_der(doc.as_bytes()).to_string()
                            );
                        }
                    }
                    if let Some(id) = parameters.get("AWS::IoT::Certificate::Id") {
                        assert_eq!(
                            id.parse::<CertificateId>().ok(),
                            Some(plan.certificate.certificate_id)
                        );
                    }
                }
                Err(f) => {
                    assert!(ProvisioningFailure::CODES.contains(&f.code()), "{f:?}");
                    assert_ne!(f.code(), "UNRESOLVED_REFERENCE", "{f:?}");
                    assert!(!f.message().is_empty());
                }
            }
            Some(result.is_ok())
        }
    };
    // The JSON entry point says the same.
    let given: serde_json::Map<String, Value> = parameters
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let out = preview(&serde_json::json!({"templateBody": body, "parameters": given}))
        .expect("the preview input is well formed");
    match outcome {
        None => assert_eq!(out["failure"]["stage"], "TEMPLATE", "{out}"),
        Some(provisioned) => assert_eq!(out["provisioned"], provisioned, "{out}"),
    }
}

/// `pkcs7`: PKCS#7 bundles and the sniffing of certificate input
/// (`jitr_core::input`). Typed errors only; the certificates read are slices of the input
/// (their IDs are hashes of those exact bytes), within the bound; a bundle rebuilt from
/// them, DER or PEM, reads back to the same certificates; reading them through the
/// sniffing entry point gives their IDs or the X.509 parser's error.
pub fn pkcs7(data: &[u8]) {
    use jitr_core::input::{self, Bound, Input, MAX_CA_BUNDLE_LEN};
    let typed =
        |e: &jitr_core::Error| assert_eq!(e.code(), "CertificateValidationException", "{e:?}");
    match input::pkcs7_certificates(data, MAX_CA_BUNDLE_LEN) {
        Ok(certs) => {
            assert!(!certs.is_empty() && certs.len() <= MAX_CA_BUNDLE_LEN);
            let range = data.as_ptr_range();
            for c in &certs {
                let r = c.as_ptr_range();
                assert!(
                    range.start <= r.start && r.end <= range.end,
                    "a certificate is not a slice of the input"
                );
            }
            let rebuilt = p7b(&certs);
            assert_eq!(
                input::pkcs7_certificates(&rebuilt, MAX_CA_BUNDLE_LEN).ok(),
                Some(certs.clone())
            );
            let pem = pem_armor("PKCS7", &rebuilt);
            let parsed: Result<Vec<CertificateId>, _> = certs
                .iter()
                .map(|c| Certificate::from_der(c).map(|c| c.id()))
                .collect();
            for (via, how) in [
                (
                    input::certificates(Input::Text(&pem), Bound::CaBundle),
                    "PEM",
                ),
                (
                    input::certificates(Input::Bytes(&rebuilt), Bound::CaBundle),
                    "DER",
                ),
            ] {
                match (&via, &parsed) {
                    (Ok(got), Ok(want)) => {
                        assert_eq!(
                            &got.iter().map(Certificate::id).collect::<Vec<_>>(),
                            want,
                            "{how}"
                        )
                    }
                    (Err(e), Err(_)) => typed(e),
                    _ => panic!(
                        "{how}: the bundle read {:?}, its certificates {:?}",
                        via.is_ok(),
                        parsed.is_ok()
                    ),
                }
            }
            let chain = input::chain_der(&[Input::Bytes(&rebuilt)]).expect("a bundle is a chain");
            assert_eq!(chain.iter().map(|c| c.as_ref()).collect::<Vec<_>>(), certs);
        }
        Err(e) => typed(&e),
    }
    // Whatever the input is, the sniffing entry points answer with typed errors.
    for bound in [Bound::Chain, Bound::CaBundle] {
        match input::certificates(Input::Bytes(data), bound) {
            Ok(certs) => assert!(!certs.is_empty() && certs.len() <= bound.max_certificates()),
            Err(e) => typed(&e),
        }
    }
    if let Err(e) = input::chain_der(&[Input::Bytes(data)]) {
        typed(&e);
    }
}

/// A certs-only PKCS#7 SignedData (DER) holding `certs`, as `openssl crl2pkcs7` writes it.
pub fn p7b(certs: &[&[u8]]) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(content);
        out
    }
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    let mut sd = tlv(0x02, &[1]);
    sd.extend(tlv(0x31, &[]));
    sd.extend(tlv(0x30, &tlv(0x06, DATA)));
    sd.extend(tlv(0xa0, &certs.concat()));
    sd.extend(tlv(0x31, &[]));
    let mut ci = tlv(0x06, SIGNED_DATA);
    ci.extend(tlv(0xa0, &tlv(0x30, &sd)));
    tlv(0x30, &ci)
}

/// `policy`: policy documents parse or are refused without panicking; fresh and compiled
/// decisions agree; wildcard patterns match as a reference matcher says (see
/// [`policy_fuzz`]).
pub fn policy(data: &[u8]) {
    policy_fuzz::run(data);
}

/// `state`: an account's state as the stores keep it and `export_state` writes it (the
/// rows a migration reads back). Reading never panics; a refusal is one of the core's
/// typed errors and builds nothing; a state that loads exports a state that loads again
/// to the same export.
pub fn state(data: &[u8]) {
    use jitr_core::{Error, Registry, RegistryConfig, RegistryState};
    let text = String::from_utf8_lossy(data);
    let typed = |e: &Error| assert!(Error::CODES.contains(&e.code()), "{e:?}");
    let state = match RegistryState::from_json(&text) {
        Ok(s) => s,
        Err(e) => return typed(&e),
    };
    let registry = match Registry::from_state(&state, RegistryConfig::default()) {
        Ok(r) => r,
        Err(e) => return typed(&e),
    };
    let out = registry.export_state().expect("a loaded state exports");
    let again =
        Registry::from_state(&out, RegistryConfig::default()).expect("an exported state loads");
    assert_eq!(again.export_state().expect("it exports"), out);
}

/// The gateway's MQTT framing (`jitr-core/examples/gateway/mqtt.rs`, included as is):
/// whatever bytes a device sends, reading packets never panics, never reads past a
/// packet's bound, and ends with a typed error or the end of the stream.
#[allow(dead_code, unreachable_pub, clippy::all)]
#[path = "../../jitr-core/examples/gateway/mqtt.rs"]
mod gateway_mqtt;

/// `mqtt`: the gateway's MQTT reader over arbitrary bytes (see [`gateway_mqtt`]).
pub fn mqtt(data: &[u8]) {
    use gateway_mqtt::{FrameReader, ReadError, MAX_PACKET};
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
    }
    RT.with(|rt| {
        rt.block_on(async {
            let mut stream = data;
            let mut reader = FrameReader::default();
            let (version, first) = match reader.read_connect(&mut stream).await {
                Ok(v) => v,
                Err(ReadError::TooLarge(n)) => return assert!(n > MAX_PACKET),
                Err(_) => return,
            };
            let mut read = first.raw.len();
            for _ in 0..1024 {
                match reader.read(&mut stream, version).await {
                    Ok(frame) => {
                        assert!(frame.raw.len() <= MAX_PACKET + 5);
                        read += frame.raw.len();
                        assert!(read <= data.len(), "read past the input");
                    }
                    Err(ReadError::TooLarge(n)) => return assert!(n > MAX_PACKET),
                    Err(_) => return,
                }
            }
        })
    })
}
