//! The scenarios both activation handler drivers run (`tests/data/handler_scenarios.json`),
//! through the Rust [`Handler`] over a [`Registry`]; `jitr-py/tests/test_handler.py` runs
//! the same table through the Python driver. Faults are injected by a [`Client`] that
//! wraps the registry. Also the Rust driver's rollback, end to end.

mod common;

use std::sync::Arc;

use common::*;
use jitr_core::crl::CrlStore;
use jitr_core::handler::{
    Action, Call, Client, CrlRequirement, Failure, Handler, Operation, PolicyTemplate, Reply,
};
use jitr_core::*;
use rcgen::{KeyUsagePurpose, SerialNumber};
use serde_json::Value;

const SERIAL: u8 = 0x51;

/// A registry whose `operation` (boto3 name) fails with `code`.
struct Faulty {
    registry: Arc<Registry>,
    operation: &'static str,
    code: String,
}

impl Client for Faulty {
    fn call(&self, call: &Call, now: Timestamp) -> Result<Reply, Error> {
        if call.operation().boto3_name() == self.operation {
            let message = format!("injected {}", self.code);
            return Err(match self.code.as_str() {
                "LimitExceededException" => Error::LimitExceeded(message),
                "InvalidRequestException" => Error::InvalidRequest(message),
                "CertificateStateException" => Error::CertificateState(message),
                other => panic!("no core error has the code {other}"),
            });
        }
        self.registry.call(call, now)
    }
}

fn operation(name: &str) -> &'static str {
    Operation::ALL
        .iter()
        .map(Operation::boto3_name)
        .find(|n| *n == name)
        .unwrap_or_else(|| panic!("unknown operation {name}"))
}

fn point(name: &str) -> String {
    format!(
        "http://crl.example.com/fleet-{}.crl",
        name.trim_start_matches('p')
    )
}

fn text<'a>(v: &'a Value, key: &str, default: &'a str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or(default)
}

/// Runs one scenario; returns what its `expect` describes.
fn run(s: &Value) -> Value {
    let registry = Arc::new(registry());
    let ca = match text(s, "ca", "fleet") {
        "no_crl_sign" => ca_with_usages(
            "Fleet CA",
            vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::DigitalSignature,
            ],
        ),
        _ => Ca::new("Fleet CA"),
    };
    ca.register(&registry);
    let device = ca.device_with("device-1", |p| {
        p.serial_number = Some(SerialNumber::from(vec![SERIAL]));
        if let Some(name) = s["device_distribution_point"].as_str() {
            distribution_point(p, &[&point(name)]);
        }
    });
    let mut event = registry
        .decide(&device.chain_with(&ca), None, now())
        .event
        .unwrap();
    let other = Ca::new("Other CA");
    if text(s, "event_ca", "registered") == "unregistered" {
        event.ca_certificate_id = other.id();
    }
    let crls = Arc::new(CrlStore::new());
    if let Some(c) = s.get("crl").filter(|c| c.is_object()) {
        let impostor = Ca::new("Fleet CA");
        let signer = match text(c, "signer", "ca") {
            "ca" => signer_ignoring_key_usage(&ca),
            "other_ca" => other.issuer(),
            "impostor" => impostor.issuer(),
            x => panic!("signer {x}"),
        };
        let (this, next) = match text(c, "time", "current") {
            "current" => ((2026, 5, 1), (2026, 7, 1)),
            "stale" => ((2026, 1, 1), (2026, 2, 1)),
            "future" => ((2027, 1, 1), (2027, 2, 1)),
            x => panic!("time {x}"),
        };
        let listed: &[u8] = if c["lists_device"] == true {
            &[SERIAL]
        } else {
            &[0x99]
        };
        let scope = c["distribution_point"]
            .as_str()
            .and_then(|p| idp(&point(p), None));
        let crl = signed_crl(&signer, &[listed], this, next, scope);
        // The host loads the event's CA's CRL; a refusal is remembered by the store.
        let for_ca = if event.ca_certificate_id == other.id() {
            &other
        } else {
            &ca
        };
        let _ = crls.set(&Certificate::from_pem(&for_ca.pem()).unwrap(), crl);
    }
    let template = match text(s, "template", "aws_sample") {
        "organization" => PolicyTemplate::new(
            "Org_{{subject.Organization}}",
            r#"{"Version":"2012-10-17","Statement":[]}"#,
        )
        .unwrap(),
        _ => PolicyTemplate::aws_sample(),
    };
    let name = format!("Policy_{}", device.id());
    let arn = registry.scope().certificate_arn(&device.id());
    match text(s, "before", "") {
        "" => {}
        "policy_exists" | "policy_attached" => {
            let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#;
            registry.create_policy(&name, doc, now()).unwrap();
            if text(s, "before", "") == "policy_attached" {
                registry.attach_policy(&name, &arn).unwrap();
            }
        }
        "activated" => {
            Handler::new(
                registry.clone(),
                Arc::new(CrlStore::new()),
                template.clone(),
            )
            .handle(&event, now())
            .unwrap();
        }
        x => panic!("before {x}"),
    }
    let faulty = Arc::new(Faulty {
        registry: registry.clone(),
        operation: s["fail"]["operation"].as_str().map_or("", operation),
        code: text(&s["fail"], "code", "").to_string(),
    });
    let handler = Handler::new(faulty, crls, template)
        .with_stale_crl_policy(text(s, "stale_crl", "REFUSE").parse().unwrap())
        .with_crl_requirement(text(s, "require_crl", "IF_CONFIGURED").parse().unwrap());
    let mut out = serde_json::Map::new();
    match handler.handle(&event, now()) {
        Ok(report) => {
            let codes: Vec<String> = report
                .actions
                .iter()
                .map(
                    |a| match a.to_json().get("reason").and_then(Value::as_str) {
                        Some(reason) => format!("{}:{reason}", a.code()),
                        None => a.code().to_string(),
                    },
                )
                .collect();
            out.insert("actions".into(), codes.into());
        }
        Err(e) => {
            out.insert("error".into(), e.code().into());
        }
    }
    out.insert(
        "status".into(),
        registry
            .describe_certificate(&device.id())
            .unwrap()
            .status
            .as_str()
            .into(),
    );
    out.insert(
        "attached".into(),
        registry.list_attached_policies(&arn).unwrap().len().into(),
    );
    Value::Object(out)
}

#[test]
fn the_shared_scenarios_through_the_rust_driver() {
    let table: Value = serde_json::from_str(include_str!("data/handler_scenarios.json")).unwrap();
    let scenarios = table["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 20);
    let mut failures = Vec::new();
    for s in scenarios {
        let got = run(s);
        if got != s["expect"] {
            failures.push(format!(
                "{}: got {got}, expected {}",
                s["name"], s["expect"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_rust_driver_rolls_back_and_returns_the_clients_own_error() {
    let registry = Arc::new(registry());
    let ca = Ca::new("Fleet CA");
    ca.register(&registry);
    let device = ca.device("device-1");
    let event = registry
        .decide(&device.chain_with(&ca), None, now())
        .event
        .unwrap();
    let faulty = |operation: &'static str| {
        Handler::new(
            Arc::new(Faulty {
                registry: registry.clone(),
                operation,
                code: "LimitExceededException".into(),
            }),
            Arc::new(CrlStore::new()),
            PolicyTemplate::aws_sample(),
        )
    };
    let error = faulty("update_certificate")
        .handle(&event, now())
        .unwrap_err();
    assert_eq!(
        error,
        Error::LimitExceeded("injected LimitExceededException".into())
    );
    let failed = faulty("update_certificate").run(&event, now()).unwrap_err();
    let name = format!("Policy_{}", device.id());
    let target = registry.scope().certificate_arn(&device.id());
    assert_eq!(
        failed.actions,
        [
            Action::PolicyReused { name: name.clone() },
            Action::PolicyAttached {
                name: name.clone(),
                target: target.clone()
            },
            Action::PolicyDetached {
                name: name.clone(),
                target: target.clone()
            },
        ]
    );
    assert!(matches!(
        failed.failure,
        Failure::Call {
            operation: Operation::UpdateCertificate,
            ..
        }
    ));
    assert!(registry.list_attached_policies(&target).unwrap().is_empty());
    assert_eq!(
        registry.describe_certificate(&device.id()).unwrap().status,
        CertificateStatus::PendingActivation
    );
    // The retry finishes the job.
    let report = Handler::new(
        registry.clone(),
        Arc::new(CrlStore::new()),
        PolicyTemplate::aws_sample(),
    )
    .with_crl_requirement(CrlRequirement::Never)
    .handle(&event, now())
    .unwrap();
    assert_eq!(
        report.actions,
        [
            Action::PolicyReused { name: name.clone() },
            Action::PolicyAttached {
                name,
                target: target.clone()
            },
            Action::Activated
        ]
    );
}
