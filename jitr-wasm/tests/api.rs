//! The binding from Rust, under Node (`wasm-bindgen-test-runner`): conversions, error
//! names and bad input, below the JavaScript module that checks types and sizes first.
//! Requests go in as JSON text, as that module sends them. Certificates come from the
//! shared vectors.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use jitr_wasm::*;
use js_sys::{Array, Reflect, Uint8Array, JSON};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const STORY: &str = include_str!("../../tests/vectors/jitr-story.json");
const LEGACY_V1: &str = include_str!("fixtures/legacy-v1-rsa1024-sha1.pem");
/// 2026-06-01T00:00:00Z: inside every vector certificate's validity.
const NOW: f64 = 1_780_272_000_000.0;

struct Story {
    code: String,
    ca: String,
    ca_id: String,
    verification: String,
    device: String,
    device_id: String,
}

fn story() -> Story {
    let v: Value = serde_json::from_str(STORY).unwrap();
    let cert = |name: &str, key: &str| v["certificates"][name][key].as_str().unwrap().to_string();
    Story {
        code: v["registrationCode"].as_str().unwrap().to_string(),
        ca: cert("ca-ed25519", "pem"),
        ca_id: cert("ca-ed25519", "certificateId"),
        verification: cert("verification-ed25519", "pem"),
        device: cert("device-story", "pem"),
        device_id: cert("device-story", "certificateId"),
    }
}

/// A JS value as serde JSON, to compare with `json!`.
fn js(v: &JsValue) -> Value {
    serde_json::from_str(&JSON::stringify(v).unwrap().as_string().unwrap()).unwrap()
}

fn obj(v: Value) -> JsValue {
    JSON::parse(&v.to_string()).unwrap()
}

/// The thrown value's (name, message); panics unless it is a JS Error.
#[track_caller]
fn thrown<T>(r: Result<T, JsValue>) -> (String, String) {
    let Err(e) = r else {
        panic!("expected an error, got success")
    };
    let e: js_sys::Error = e.dyn_into().expect("a JS Error");
    (e.name().into(), e.message().into())
}

/// A JS options object as the JSON text the JavaScript module sends.
fn text(options: &JsValue) -> String {
    if options.is_undefined() {
        return "null".into();
    }
    JSON::stringify(options).unwrap().as_string().unwrap()
}

fn inspect(input: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    inspect_certificate(input, &text(&options))
}

fn check(ca: &str, verification: &str, code: &str, options: JsValue) -> Result<(), JsValue> {
    check_verification_certificate(ca, verification, code, &text(&options))
}

fn call(reg: &JsRegistry, op: &str, params: JsValue, now: JsValue) -> Result<JsValue, JsValue> {
    let params = (!params.is_undefined()).then(|| {
        params
            .as_string()
            .unwrap_or_else(|| JSON::stringify(&params).unwrap().as_string().unwrap())
    });
    reg.call(op, params, now.as_f64())
}

/// `preflight` as the JavaScript module calls it: the chain apart, the rest as JSON.
fn pre(input: JsValue) -> Result<JsValue, JsValue> {
    let chain = Reflect::get(&input, &"chain".into()).unwrap_or(JsValue::UNDEFINED);
    let chain = if chain.is_string() {
        Array::of1(&chain).into()
    } else {
        chain
    };
    let rest = js_sys::Object::assign(&js_sys::Object::new(), input.unchecked_ref());
    Reflect::delete_property(&rest, &"chain".into()).unwrap();
    preflight(chain, &text(&rest.into()))
}

fn opts_now() -> JsValue {
    obj(json!({ "now": NOW }))
}

fn active_ca(pem: &str) -> Value {
    json!({"pem": pem, "status": "ACTIVE", "autoRegistrationStatus": "ENABLE", "certificateMode": "DEFAULT"})
}

#[wasm_bindgen_test]
fn inspect_returns_one_entry_per_certificate_with_fields_and_findings() {
    let s = story();
    let bundle = format!("{}{}", s.device, s.ca);
    let out = js(&inspect(bundle.into(), opts_now()).unwrap());
    let list = out.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], json!(s.device_id));
    assert_eq!(list[0]["subjectCommonName"], json!("device-story"));
    assert_eq!(list[0]["extendedKeyUsage"], json!(["clientAuth"]));
    assert_eq!(list[0]["keyAlgorithm"], json!("ED25519"));
    assert_eq!(list[0]["isCa"], json!(false));
    assert_eq!(list[0]["findings"], json!([]));
    assert_eq!(list[1]["id"], json!(s.ca_id));
    assert_eq!(list[1]["isCa"], json!(true));
    assert_eq!(list[1]["selfSigned"], json!(true));
    assert_eq!(
        list[1]["subjectKeyIdentifier"],
        list[0]["authorityKeyIdentifier"]
    );
    assert_eq!(list[1]["findings"][0]["code"], json!("SELF_SIGNED_CA"));
    // notBefore/notAfter are epoch milliseconds: 2025-01-01 and 2035-01-01.
    assert_eq!(list[0]["notBefore"], json!(1_735_689_600_000_i64));
    assert_eq!(list[0]["notAfter"], json!(2_051_222_400_000_i64));
}

#[wasm_bindgen_test]
fn inspect_collects_every_finding_and_honours_role_and_time() {
    // 2030: inside the legacy certificate's validity (2026-11-29 to 2036-11-26).
    let out = js(&inspect(
        LEGACY_V1.into(),
        obj(json!({"now": 1_893_456_000_000_i64, "role": "device"})),
    )
    .unwrap());
    let codes: Vec<&str> = out[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "WEAK_SIGNATURE_ALGORITHM",
            "WEAK_KEY",
            "NOT_X509_V3",
            "SELF_SIGNED_DEVICE"
        ]
    );
    assert_eq!(out[0]["signatureAlgorithm"], json!("sha1WithRSAEncryption"));
    assert_eq!(out[0]["keyAlgorithm"], json!("RSA_1024"));
    // 2040: expired. (The JavaScript module turns Dates into milliseconds.)
    let opts = obj(json!({"now": 2_208_988_800_000_i64}));
    let out = js(&inspect(story().device.into(), opts).unwrap());
    assert_eq!(out[0]["findings"][0]["code"], json!("EXPIRED"));
    assert_eq!(out[0]["findings"][0]["severity"], json!("error"));
    let (name, msg) = thrown(inspect(story().device.into(), obj(json!({"role": "leaf"}))));
    assert_eq!(name, "InvalidRequestException");
    assert!(msg.contains("role"), "{msg}");
}

#[wasm_bindgen_test]
fn certificate_id_takes_pem_der_and_array_buffer() {
    let s = story();
    assert_eq!(
        certificate_id(s.device.clone().into()).unwrap(),
        s.device_id
    );
    let der = pem_der(&s.device);
    let bytes = Uint8Array::from(der.as_slice());
    assert_eq!(certificate_id(bytes.clone().into()).unwrap(), s.device_id);
    assert_eq!(certificate_id(bytes.buffer().into()).unwrap(), s.device_id);
    // PEM text as bytes (a dropped .pem file).
    let text = Uint8Array::from(s.device.as_bytes());
    assert_eq!(certificate_id(text.into()).unwrap(), s.device_id);
    // A bundle is not one certificate.
    let (name, msg) = thrown(certificate_id(format!("{}{}", s.device, s.ca).into()));
    assert_eq!(name, "CertificateValidationException");
    assert!(msg.contains("exactly one"), "{msg}");
}

fn pem_der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64_decode(&b64)
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| *c != b'=').map(val).collect();
    bytes
        .chunks(4)
        .flat_map(|c| {
            let n = c.iter().fold(0u32, |acc, v| (acc << 6) | u32::from(*v)) << (6 * (4 - c.len()));
            let out = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.into_iter().take(c.len() - 1)
        })
        .collect()
}

#[wasm_bindgen_test]
fn bad_input_is_a_named_error_never_a_panic() {
    let s = story();
    let key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBm5ZcE4xg1dLx3Qz9pJ1QcVb7A9Yk0g5c0wq4y3p2Zr\n-----END PRIVATE KEY-----\n";
    let cases: Vec<(JsValue, &str, &str)> = vec![
        ("".into(), "CertificateValidationException", "empty"),
        (" \n".into(), "CertificateValidationException", "empty"),
        (
            "hello".into(),
            "CertificateValidationException",
            "no PEM certificate",
        ),
        (
            Uint8Array::from(&[0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F'][..]).into(),
            "CertificateValidationException",
            "neither PEM text",
        ),
        (
            Uint8Array::new_with_length(0).into(),
            "CertificateValidationException",
            "empty",
        ),
        (
            s.device[..s.device.len() / 2].to_string().into(),
            "CertificateValidationException",
            "",
        ),
        (
            format!("{}{key}", s.device).into(),
            "CertificateValidationException",
            "private key",
        ),
        (
            "A".repeat(10 * 1024 * 1024).into(),
            "CertificateValidationException",
            "at most 1048576",
        ),
        (
            s.ca.repeat(1000).into(),
            "CertificateValidationException",
            "1000 certificates",
        ),
        (
            JsValue::from_f64(42.0),
            "InvalidRequestException",
            "expected PEM text",
        ),
        (
            Array::new().into(),
            "InvalidRequestException",
            "expected PEM text",
        ),
        (
            JsValue::NULL,
            "InvalidRequestException",
            "expected PEM text",
        ),
    ];
    for (input, want_name, want_msg) in cases {
        let (name, msg) = thrown(inspect(input, JsValue::UNDEFINED));
        assert_eq!(name, want_name, "{msg}");
        assert!(msg.contains(want_msg), "{msg:?} lacks {want_msg:?}");
        assert!(!msg.contains("MC4CAQAw"), "the key was echoed: {msg}");
    }
    let (name, _) = thrown(inspect(s.ca.into(), obj(json!({"now": "today"}))));
    assert_eq!(name, "InvalidRequestException");
    let (name, _) = thrown(inspect(story().ca.into(), obj(json!({"when": NOW}))));
    assert_eq!(name, "InvalidRequestException");
}

#[wasm_bindgen_test]
fn check_verification_certificate_raises_what_aws_raises() {
    let s = story();
    assert!(check(&s.ca, &s.verification, &s.code, opts_now()).is_ok());
    let other_code = "f".repeat(64);
    let (name, _) = thrown(check(&s.ca, &s.verification, &other_code, opts_now()));
    assert_eq!(name, "RegistrationCodeValidationException");
    // The device certificate is no proof of possession: its CN is not the code.
    let (name, _) = thrown(check(&s.ca, &s.device, &s.code, opts_now()));
    assert_eq!(name, "RegistrationCodeValidationException");
    // Signed by another key: the legacy certificate as "CA".
    let (name, msg) = thrown(check(LEGACY_V1, &s.verification, &s.code, opts_now()));
    assert_eq!(name, "CertificateValidationException");
    assert!(msg.contains("not signed by"), "{msg}");
    // Validity: 2040 is past the verification certificate's notAfter, unless told not to check.
    let later = obj(json!({"now": 2_208_988_800_000_i64}));
    let (name, msg) = thrown(check(&s.ca, &s.verification, &s.code, later));
    assert_eq!(name, "CertificateValidationException");
    assert!(msg.contains("expired"), "{msg}");
    let later = obj(json!({"now": 2_208_988_800_000_i64, "checkValidity": false}));
    assert!(check(&s.ca, &s.verification, &s.code, later).is_ok());
    let (name, msg) = thrown(check("garbage", &s.verification, &s.code, opts_now()));
    assert_eq!(name, "CertificateValidationException");
    assert!(msg.starts_with("caCertificate:"), "{msg}");
}

#[wasm_bindgen_test]
fn preflight_is_the_core_decision() {
    let s = story();
    let input = |cas: Value, known: Value, chain: Value| {
        obj(json!({
            "chain": chain, "registeredCas": cas, "registeredCertificates": known, "now": NOW,
            "account": "210987654321",
        }))
    };
    let chain = json!([s.device, s.ca]);
    let d = js(&pre(input(json!([active_ca(&s.ca)]), json!([]), chain.clone())).unwrap());
    assert_eq!(d["allowed"], json!(false));
    assert_eq!(d["reason"], json!("REGISTERED_PENDING_ACTIVATION"));
    assert_eq!(d["certificateId"], json!(s.device_id));
    assert_eq!(d["caCertificateId"], json!(s.ca_id));
    assert_eq!(
        d["topic"],
        json!(format!("$aws/events/certificates/registered/{}", s.ca_id))
    );
    assert_eq!(
        d["event"],
        json!(format!(
            r#"{{"certificateId":"{}","caCertificateId":"{}","timestamp":1780272000000,"certificateStatus":"PENDING_ACTIVATION","awsAccountId":"210987654321","certificateRegistrationTimestamp":"1780272000000"}}"#,
            s.device_id, s.ca_id
        ))
    );
    // The CA's state decides.
    let mut inactive = active_ca(&s.ca);
    inactive["status"] = json!("INACTIVE");
    let d = js(&pre(input(json!([inactive]), json!([]), chain.clone())).unwrap());
    assert_eq!(d["reason"], json!("CA_INACTIVE"));
    // A known ACTIVE leaf connects.
    let known = json!([{"certificateId": s.device_id, "status": "ACTIVE"}]);
    let d = js(&pre(input(json!([active_ca(&s.ca)]), known, chain.clone())).unwrap());
    assert_eq!(d["allowed"], json!(true));
    assert_eq!(d["reason"], Value::Null);
    // The leaf alone, no SNI: refused with that reason; with SNI it registers.
    let leaf_only = json!([s.device]);
    let d = js(&pre(input(
        json!([active_ca(&s.ca)]),
        json!([]),
        leaf_only.clone(),
    ))
    .unwrap());
    assert_eq!(d["reason"], json!("SNI_REQUIRED"));
    let with_sni = obj(json!({
        "chain": s.device, "registeredCas": [active_ca(&s.ca)], "now": NOW,
        "serverName": "abc123-ats.iot.us-east-1.amazonaws.com",
    }));
    let d = js(&pre(with_sni).unwrap());
    assert_eq!(d["reason"], json!("REGISTERED_PENDING_ACTIVATION"));
    // No CA registered.
    let d = js(&pre(input(json!([]), json!([]), chain)).unwrap());
    assert_eq!(d["reason"], json!("UNKNOWN_ISSUER"));
}

#[wasm_bindgen_test]
fn preflight_takes_der_chains_and_refuses_bad_arguments_by_name() {
    let s = story();
    let chain = Array::new();
    chain.push(&Uint8Array::from(pem_der(&s.device).as_slice()));
    chain.push(&JsValue::from_str(&s.ca));
    let input = js_sys::Object::new();
    Reflect::set(&input, &"chain".into(), &chain).unwrap();
    Reflect::set(
        &input,
        &"registeredCas".into(),
        &obj(json!([active_ca(&s.ca)])),
    )
    .unwrap();
    Reflect::set(&input, &"now".into(), &NOW.into()).unwrap();
    let d = js(&pre(input.into()).unwrap());
    assert_eq!(d["reason"], json!("REGISTERED_PENDING_ACTIVATION"));

    let mut bad_status = active_ca(&s.ca);
    bad_status["status"] = json!("active");
    let bad = [
        json!({"chain": [s.device], "registeredCas": [bad_status]}),
        json!({"chain": [s.device], "registeredCas": [], "serverNmae": "x"}),
        json!({"registeredCas": []}),
        json!({"chain": [s.device]}),
        json!({"chain": [s.device], "registeredCas": [], "registeredCertificates": [{"certificateId": "00", "status": "ACTIVE"}]}),
        json!({"chain": [s.device], "registeredCas": [], "account": "1"}),
        json!({"chain": 7, "registeredCas": []}),
    ];
    for b in bad {
        let (name, msg) = thrown(pre(obj(b.clone())));
        assert_eq!(name, "InvalidRequestException", "{b}: {msg}");
    }
    let (name, _) = thrown(preflight(Array::new().into(), "nope"));
    assert_eq!(name, "InvalidRequestException");
    // A CA that is not a certificate is the core's CertificateValidationException.
    let (name, _) = thrown(pre(obj(json!({
        "chain": [s.device],
        "registeredCas": [active_ca("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")],
    }))));
    assert_eq!(name, "CertificateValidationException");
}

#[wasm_bindgen_test]
fn registration_event_payload_is_exact() {
    let s = story();
    let payload = registration_event(&text(&obj(json!({
        "certificateId": s.device_id.to_uppercase(),
        "caCertificateId": s.ca_id,
        "awsAccountId": "123456789012",
        "timestamp": 1_623_724_243_659_i64,
        "certificateRegistrationTimestamp": 1_623_723_165_331_i64,
    }))))
    .unwrap();
    assert_eq!(
        payload,
        format!(
            r#"{{"certificateId":"{}","caCertificateId":"{}","timestamp":1623724243659,"certificateStatus":"PENDING_ACTIVATION","awsAccountId":"123456789012","certificateRegistrationTimestamp":"1623723165331"}}"#,
            s.device_id, s.ca_id
        )
    );
    let parsed = js(&parse_registration_event(&payload).unwrap());
    assert_eq!(
        parsed["certificateRegistrationTimestamp"],
        json!("1623723165331")
    );
    assert_eq!(parsed["timestamp"], json!(1_623_724_243_659_i64));
    assert_eq!(
        registration_topic(&s.ca_id).unwrap(),
        format!("$aws/events/certificates/registered/{}", s.ca_id)
    );
    let (name, _) = thrown(registration_event(&text(&obj(json!({
        "certificateId": "xyz", "caCertificateId": s.ca_id, "awsAccountId": "123456789012",
    })))));
    assert_eq!(name, "InvalidRequestException");
    let (name, _) = thrown(registration_event(&text(&obj(json!({
        "certificateId": s.device_id, "caCertificateId": s.ca_id, "awsAccountId": "12",
    })))));
    assert_eq!(name, "InvalidRequestException");
    let (name, _) = thrown(parse_registration_event("{}"));
    assert_eq!(name, "InvalidRequestException");
    let (name, _) = thrown(registration_event("[]"));
    assert_eq!(name, "InvalidRequestException");
}

#[wasm_bindgen_test]
fn registry_call_wraps_the_api_and_names_errors() {
    let s = story();
    let reg = JsRegistry::new(
        &json!({
            "account": "123456789012", "registrationCode": s.code,
        })
        .to_string(),
    )
    .unwrap();
    assert_eq!(reg.account(), "123456789012");
    assert_eq!(reg.region(), "us-east-1");
    let code = js(&call(
        &reg,
        "get_registration_code",
        JsValue::UNDEFINED,
        NOW.into(),
    )
    .unwrap());
    assert_eq!(code["registrationCode"], json!(s.code));
    let args = obj(json!({
        "caCertificate": s.ca, "verificationCertificate": s.verification,
        "setAsActive": true, "allowAutoRegistration": true,
    }));
    let out = js(&call(&reg, "register_ca_certificate", args.clone(), NOW.into()).unwrap());
    assert_eq!(out["certificateId"], json!(s.ca_id));
    let before = reg.export_state();
    let e: js_sys::Error = call(&reg, "register_ca_certificate", args, NOW.into())
        .unwrap_err()
        .dyn_into()
        .unwrap();
    assert_eq!(String::from(e.name()), "ResourceAlreadyExistsException");
    let resource_id = Reflect::get(&e, &"resourceId".into()).unwrap();
    assert_eq!(resource_id.as_string().unwrap(), s.ca_id);
    assert_eq!(reg.export_state(), before);
    // Parameters may be JSON text too.
    let d = js(&call(
        &reg,
        "connect",
        JsValue::from_str(&json!({"chain": [s.device, s.ca]}).to_string()),
        NOW.into(),
    )
    .unwrap());
    assert_eq!(d["reason"], json!("REGISTERED_PENDING_ACTIVATION"));
    let (name, _) = thrown(call(&reg, "nope", JsValue::UNDEFINED, NOW.into()));
    assert_eq!(name, "InvalidRequestException");
    let (name, _) = thrown(call(
        &reg,
        "get_registration_code",
        JsValue::UNDEFINED,
        f64::NAN.into(),
    ));
    assert_eq!(name, "InvalidRequestException");
    let (name, _) = thrown(JsRegistry::new(r#"{"account": "nope"}"#));
    assert_eq!(name, "InvalidRequestException");
    let (name, _) = thrown(JsRegistry::new("null"));
    assert_eq!(name, "InvalidRequestException");
}

#[wasm_bindgen_test]
fn limits_are_the_core_limits() {
    let l = js(&limits().unwrap());
    assert_eq!(l["maxPemLength"], json!(jitr_core::MAX_PEM_LEN));
    assert_eq!(l["maxChainLength"], json!(jitr_core::MAX_CHAIN_LEN));
    assert_eq!(
        l["maxCaBundleLength"],
        json!(jitr_core::input::MAX_CA_BUNDLE_LEN)
    );
    assert_eq!(
        l["maxInputLength"],
        json!(jitr_core::input::LIMITS.max_input_length)
    );
    assert!(!version().is_empty());
    let c = js(&codes().unwrap());
    assert_eq!(c["refusal"], json!(jitr_core::RefusalReason::CODES));
    assert_eq!(c["error"], json!(jitr_core::Error::CODES));
    assert_eq!(c["finding"], json!(jitr_core::inspect::CODES));
    assert_eq!(c["caStatus"], json!(["ACTIVE", "INACTIVE"]));
    let names: Vec<&str> = jitr_core::api::OPERATIONS
        .iter()
        .map(jitr_core::api::Operation::name)
        .collect();
    assert_eq!(c["operation"], json!(names));
}

#[wasm_bindgen_test]
fn issued_by_and_ca_bundles_are_the_core_rules() {
    let s = story();
    assert!(issued_by(s.device.clone().into(), s.ca.clone().into()).unwrap());
    assert!(!issued_by(s.ca.clone().into(), s.device.clone().into()).unwrap());
    assert!(!issued_by(s.device.clone().into(), LEGACY_V1.into()).unwrap());
    let (name, _) = thrown(issued_by(s.device.clone().into(), JsValue::from_f64(1.0)));
    assert_eq!(name, "InvalidRequestException");
    // More than 16 certificates: a CA bundle, not a chain.
    let bundle = s.ca.repeat(20);
    let out = js(&inspect(bundle.clone().into(), obj(json!({"role": "ca"}))).unwrap());
    assert_eq!(out.as_array().unwrap().len(), 20);
    let (name, msg) = thrown(inspect(bundle.into(), JsValue::UNDEFINED));
    assert_eq!(name, "CertificateValidationException");
    assert!(msg.contains("holds 20 certificates; at most 16"), "{msg}");
}
