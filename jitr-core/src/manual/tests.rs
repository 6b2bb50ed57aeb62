//! Every refusal reason is documented in the manual and produced by a real decision.
//!
//! The rows are written once, in [`every_refusal!`]: each is a `RefusalReason` pattern
//! and a decision that must refuse with it. The macro also writes an exhaustive `match`
//! over the patterns (inside the crate `#[non_exhaustive]` does not apply), so a new
//! variant does not compile until it has a row, and so a decision that reaches it and a
//! code the manual documents.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jitr_testkit::rcgen::{CertificateParams, ExtendedKeyUsagePurpose, SerialNumber};
use jitr_testkit::{self as kit, Key};
use rustls_pki_types::CertificateDer;

use crate::store::{Backend, Committed, Import, Loader, MemoryStore, Reader, WriteFn};
use crate::{
    preflight, AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus, Decision,
    Directory, PreflightCa, PreflightCertificate, RefusalReason, RegisterCaCertificateRequest,
    RegisterCertificateRequest, Registry, RegistryConfig, Router, Scope, Store, Timestamp,
    MAX_CERTIFICATE_DER_LEN, MAX_CHAIN_LEN,
};

const ACCOUNT: &str = "123456789012";
/// The fleet CA's key (deterministic, so that a twin CA can have it too).
const FLEET_KEY: &str = "manual/fleet";
const SNI: Option<&str> = Some("a1b2c3-ats.iot.us-east-1.amazonaws.com");

fn at(ymd: kit::Ymd) -> Timestamp {
    Timestamp::from_unix_secs(kit::date(ymd).unix_timestamp())
}

/// 2026-06-01, inside every ordinary test certificate's validity.
fn now() -> Timestamp {
    at((2026, 6, 1))
}

fn der(c: &kit::Cert) -> CertificateDer<'static> {
    CertificateDer::from(c.der.clone())
}

fn ca_named(cn: &str, validity: (kit::Ymd, kit::Ymd)) -> kit::Ca {
    kit::Ca::root(
        kit::ca_params(kit::cn(cn), None, validity),
        Key::random_ed25519().unwrap(),
    )
    .unwrap()
}

fn ca(cn: &str) -> kit::Ca {
    ca_named(cn, kit::VALIDITY)
}

/// A device certificate (clientAuth) of `ca`, changed by `tweak`.
fn device_with(ca: &kit::Ca, tweak: impl FnOnce(&mut CertificateParams)) -> kit::Cert {
    let mut p = kit::leaf_params(kit::cn("device"), None, kit::VALIDITY, kit::Eku::ClientAuth);
    tweak(&mut p);
    ca.issue(&p, &Key::random_ed25519().unwrap()).unwrap()
}

fn device(ca: &kit::Ca) -> kit::Cert {
    device_with(ca, |_| {})
}

/// `[device, CA]`.
fn chain(device: &kit::Cert, ca: &kit::Ca) -> Vec<CertificateDer<'static>> {
    vec![der(device), der(&ca.cert)]
}

fn registry() -> Registry {
    Registry::new(Scope::new(ACCOUNT, "us-east-1").unwrap())
}

/// Registers `ca` in `reg` at `at`: DEFAULT mode (with its proof of possession) or
/// SNI_ONLY.
fn register(reg: &Registry, ca: &kit::Ca, active: bool, auto: bool, sni_only: bool, at: Timestamp) {
    let verification = (!sni_only).then(|| {
        let p = kit::leaf_params(
            kit::cn(&reg.get_registration_code().unwrap()),
            None,
            kit::VALIDITY,
            kit::Eku::Absent,
        );
        ca.issue(&p, &Key::random_ed25519().unwrap()).unwrap().pem
    });
    let mode = if sni_only {
        CertificateMode::SniOnly
    } else {
        CertificateMode::Default
    };
    reg.register_ca_certificate(
        &RegisterCaCertificateRequest {
            ca_certificate: ca.cert.pem.clone(),
            verification_certificate: verification,
            set_as_active: active,
            allow_auto_registration: auto,
            certificate_mode: mode,
            ..Default::default()
        },
        at,
    )
    .unwrap();
}

/// A registry holding one `ca`, and the decision on a chain of one of its devices.
fn decide_under(
    ca: &kit::Ca,
    (active, auto, sni_only): (bool, bool, bool),
    device: &kit::Cert,
    sni: Option<&str>,
    at: Timestamp,
) -> Decision {
    let reg = registry();
    register(&reg, ca, active, auto, sni_only, now());
    reg.decide(&chain(device, ca), sni, at)
}

/// A certificate registered by API with `status`, then decided.
fn decide_registered(status: CertificateStatus) -> Decision {
    let reg = registry();
    let ca = ca("CA");
    register(&reg, &ca, true, true, false, now());
    let dev = device(&ca);
    reg.register_certificate(
        &RegisterCertificateRequest {
            certificate_pem: dev.pem.clone(),
            status: Some(status),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    reg.decide(&[der(&dev)], None, now())
}

/// The decision on a certificate the caller says is registered with `status` (a status
/// no API call sets).
fn decide_preflight(status: CertificateStatus) -> Decision {
    let ca = ca("CA");
    let dev = device(&ca);
    let cas = [PreflightCa {
        pem: ca.cert.pem.clone(),
        status: CaStatus::Active,
        auto_registration_status: AutoRegistrationStatus::Enable,
        certificate_mode: CertificateMode::Default,
        registration_config: None,
    }];
    let known = [PreflightCertificate {
        certificate_id: crate::CertificateId::of_der(&dev.der),
        status,
    }];
    preflight(ACCOUNT, &chain(&dev, &ca), &cas, &known, None, now()).unwrap()
}

/// A memory store that fails every write once `down` is set: the store of a registry
/// that cannot reach its database.
#[derive(Default)]
struct Outage {
    inner: MemoryStore,
    down: AtomicBool,
}

impl Backend for Outage {
    fn write(&self, scope: &Scope, f: &mut WriteFn<'_>) -> Result<Vec<Committed>, crate::Error> {
        if self.down.load(Ordering::SeqCst) {
            return Err(crate::store::unavailable("the test took it down"));
        }
        self.inner.write(scope, f)
    }

    fn read(
        &self,
        f: &mut dyn FnMut(&mut dyn Reader) -> Result<(), crate::Error>,
    ) -> Result<(), crate::Error> {
        self.inner.read(f)
    }

    fn changes_since(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Option<Vec<Committed>>, crate::Error> {
        self.inner.changes_since(seq, limit)
    }

    fn load(&self, scope: &Scope, loader: &mut dyn Loader) -> Result<u64, crate::Error> {
        self.inner.load(scope, loader)
    }

    fn wait(&self, timeout: Duration) -> Result<u64, crate::Error> {
        self.inner.wait(timeout)
    }

    fn is_shared(&self) -> bool {
        false
    }

    fn import(&self, scope: &Scope, state: &Import) -> Result<(), crate::Error> {
        self.inner.import(scope, state)
    }
}

/// A directory of one account reached by `a.example`, with no default account.
fn directory() -> Directory {
    let mut dir = Directory::new();
    dir.add_account(
        Scope::new(ACCOUNT, "us-east-1").unwrap(),
        RegistryConfig::default(),
        &["a.example"],
    )
    .unwrap();
    dir
}

/// A JITP CA (DEFAULT mode, auto-registration on) whose template needs `parameters`
/// of the device and sets its certificate ACTIVE, and a new device's decision under it.
fn decide_provisioning(fleet: &kit::Ca, parameters: &[&str]) -> Decision {
    let reg = registry();
    let mut declared = serde_json::Map::new();
    for p in parameters {
        declared.insert((*p).into(), serde_json::json!({"Type": "String"}));
    }
    let body = serde_json::json!({
        "Parameters": declared,
        "Resources": {"certificate": {
            "Type": "AWS::IoT::Certificate",
            "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"},
        }},
    });
    let p = kit::leaf_params(
        kit::cn(&reg.get_registration_code().unwrap()),
        None,
        kit::VALIDITY,
        kit::Eku::Absent,
    );
    let verification = fleet
        .issue(&p, &Key::random_ed25519().unwrap())
        .unwrap()
        .pem;
    reg.register_ca_certificate(
        &RegisterCaCertificateRequest {
            ca_certificate: fleet.cert.pem.clone(),
            verification_certificate: Some(verification),
            set_as_active: true,
            allow_auto_registration: true,
            registration_config: Some(crate::RegistrationConfig {
                template_body: Some(body.to_string()),
                role_arn: Some("arn:aws:iam::123456789012:role/JITP".into()),
                template_name: None,
            }),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    reg.decide(&chain(&device(fleet), fleet), None, now())
}

/// `(pattern, decision, whether the decision's refusal matches the pattern)` for every
/// row, and an exhaustive match over the patterns.
macro_rules! every_refusal {
    ($($variant:pat => $decision:expr;)*) => {{
        // Never called: it exists so that a variant without a row does not compile.
        #[allow(dead_code)]
        fn exhaustive(r: &RefusalReason) {
            match r {
                $($variant => {})*
            }
        }
        let rows: Vec<(&str, Decision, fn(&RefusalReason) -> bool)> = vec![$(
            (stringify!($variant), $decision, |r: &RefusalReason| matches!(r, $variant)),
        )*];
        rows
    }};
}

#[test]
fn every_refusal_is_documented_in_the_manual_and_reached_by_a_decision() {
    let manual = include_str!("../manual.rs");
    let fleet = kit::Ca::root(
        kit::ca_params(kit::cn("Fleet CA"), None, kit::VALIDITY),
        Key::ed25519(FLEET_KEY).unwrap(),
    )
    .unwrap();
    let registered = || {
        let reg = registry();
        register(&reg, &fleet, true, true, false, now());
        reg
    };
    let active = (true, true, false);
    let rows = every_refusal! {
        RefusalReason::NoCertificate => registered().decide(&[], None, now());
        RefusalReason::ChainTooLong { .. } => {
            let long = vec![der(&device(&fleet)); MAX_CHAIN_LEN + 1];
            registered().decide(&long, None, now())
        };
        RefusalReason::CertificateTooLarge { .. } => {
            let huge = CertificateDer::from(vec![0x30; MAX_CERTIFICATE_DER_LEN + 1]);
            registered().decide(&[huge], None, now())
        };
        RefusalReason::MalformedCertificate { .. } => {
            registered().decide(&[CertificateDer::from(vec![0x30, 3, 1, 2, 3])], SNI, now())
        };
        RefusalReason::RegisteredPendingActivation => {
            registered().decide(&chain(&device(&fleet), &fleet), None, now())
        };
        RefusalReason::PendingActivation => {
            let (reg, dev) = (registered(), device(&fleet));
            reg.decide(&chain(&dev, &fleet), None, now());
            reg.decide(&chain(&dev, &fleet), None, now())
        };
        RefusalReason::CertificateInactive => decide_registered(CertificateStatus::Inactive);
        RefusalReason::CertificateRevoked => decide_registered(CertificateStatus::Revoked);
        RefusalReason::CertificatePendingTransfer => {
            decide_preflight(CertificateStatus::PendingTransfer)
        };
        RefusalReason::CertificateRegisterInactive => {
            decide_preflight(CertificateStatus::RegisterInactive)
        };
        RefusalReason::CertificateExpired { .. } => {
            let old = device_with(&fleet, |p| p.not_after = kit::date((2026, 1, 1)));
            registered().decide(&chain(&old, &fleet), None, now())
        };
        RefusalReason::CertificateNotYetValid { .. } => {
            let new = device_with(&fleet, |p| p.not_before = kit::date((2027, 1, 1)));
            registered().decide(&chain(&new, &fleet), None, now())
        };
        RefusalReason::UnknownIssuer => {
            let stranger = ca("Stranger CA");
            registered().decide(&chain(&device(&stranger), &stranger), None, now())
        };
        RefusalReason::BadSignature => {
            let forger = ca("Fleet CA");
            registered().decide(&chain(&device(&forger), &forger), None, now())
        };
        RefusalReason::AmbiguousCa { .. } => {
            let reg = registered();
            // The same subject and key as the fleet CA: another certificate of it.
            let mut twin = fleet.params.clone();
            twin.serial_number = Some(SerialNumber::from(vec![0x42]));
            let twin = kit::Ca::root(twin, Key::ed25519(FLEET_KEY).unwrap()).unwrap();
            register(&reg, &twin, true, true, false, now());
            reg.decide(&[der(&device(&fleet))], SNI, now())
        };
        RefusalReason::SniRequired => registered().decide(&[der(&device(&fleet))], None, now());
        RefusalReason::CaInactive => {
            decide_under(&fleet, (false, true, false), &device(&fleet), None, now())
        };
        RefusalReason::AutoRegistrationDisabled => {
            decide_under(&fleet, (true, false, false), &device(&fleet), None, now())
        };
        RefusalReason::CaExpired { .. } => {
            let long = device_with(&fleet, |p| p.not_after = kit::date((2040, 1, 1)));
            decide_under(&fleet, active, &long, None, at((2036, 1, 1)))
        };
        RefusalReason::CaNotYetValid { .. } => {
            // Registered when valid (time is an argument), decided before its notBefore.
            let later = ca_named("Later CA", ((2027, 1, 1), kit::NOT_AFTER));
            let reg = registry();
            register(&reg, &later, true, true, false, at((2028, 1, 1)));
            reg.decide(&chain(&device(&later), &later), None, now())
        };
        RefusalReason::CaRequiresSni => {
            decide_under(&fleet, (true, true, true), &device(&fleet), None, now())
        };
        RefusalReason::EkuNotClientAuth => {
            let server = device_with(&fleet, |p| {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]
            });
            registered().decide(&chain(&server, &fleet), None, now())
        };
        RefusalReason::InvalidCertificate { .. } => {
            // The chain in the wrong order: the CA as the leaf.
            let dev = device(&fleet);
            registered().decide(&[der(&fleet.cert), der(&dev)], None, now())
        };
        RefusalReason::UnknownServerName { .. } => {
            directory().decide(&chain(&device(&fleet), &fleet), Some("b.example"), now())
        };
        RefusalReason::StoreUnavailable => {
            // The CA is registered; then the store goes down and the new device cannot be.
            let outage = Arc::new(Outage::default());
            let store = Store::with_backend(outage.clone());
            let reg = Registry::open(Scope::new(ACCOUNT, "us-east-1").unwrap(), RegistryConfig::default(), &store).unwrap();
            register(&reg, &fleet, true, true, false, now());
            outage.down.store(true, Ordering::SeqCst);
            reg.decide(&chain(&device(&fleet), &fleet), None, now())
        };
        RefusalReason::Provisioned { .. } => {
            decide_provisioning(&fleet, &["AWS::IoT::Certificate::Id"])
        };
        RefusalReason::ProvisioningFailed { .. } => {
            // The template needs the subject's C, which the device has not.
            decide_provisioning(&fleet, &["AWS::IoT::Certificate::Id", "AWS::IoT::Certificate::Country"])
        };
        RefusalReason::NoAccount => {
            directory().decide(&chain(&device(&fleet), &fleet), None, now())
        };
    };
    let mut reached = Vec::new();
    for (name, decision, is) in rows {
        let Some(reason) = &decision.refusal else {
            panic!("{name}: the decision allowed the connection");
        };
        assert!(is(reason), "{name}: the decision refused with {reason:?}");
        let code = reason.code();
        assert!(
            manual.contains(&format!("`{code}`")),
            "{name}: the manual does not document `{code}`"
        );
        assert!(!reason.message().is_empty(), "{name}");
        reached.push(code);
    }
    // The list front ends type refusal codes from is exactly the variants' codes.
    let mut listed = RefusalReason::CODES.to_vec();
    listed.sort_unstable();
    reached.sort_unstable();
    assert_eq!(
        reached, listed,
        "RefusalReason::CODES and the variants differ"
    );
}
