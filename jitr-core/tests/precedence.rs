//! The order of the decision's checks, one test per step of `jitr_core::manual`: each
//! input fails its step AND a later one, and must be refused for its own step.

mod common;

use common::*;
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;

fn refusal(reg: &Registry, chain: &[CertificateDer<'_>], sni: Option<&str>) -> RefusalReason {
    reg.decide(chain, sni, now())
        .refusal
        .expect("the decision refuses")
}

fn code(r: &RefusalReason) -> &'static str {
    r.code()
}

/// Step 1: Bounds come first: a registered, ACTIVE leaf in a chain that is too long is refused
/// for the chain, and nothing is parsed.
#[test]
fn step_1_bounds_before_the_known_leaf() {
    let (reg, ca) = registry_with_ca("Fleet CA");
    let device = ca.device("d1");
    device.register_without_ca(&reg, Some(CertificateStatus::Active));
    assert!(reg.decide(&[device.der()], None, now()).is_allowed());
    let long = vec![device.der(); MAX_CHAIN_LEN + 1];
    assert_eq!(
        refusal(&reg, &long, None),
        RefusalReason::ChainTooLong {
            len: MAX_CHAIN_LEN + 1
        }
    );
}

/// Step 2: A registered leaf is decided by its record, even when its CA is gone and it was
/// sent alone without SNI (which would fail steps 3 and 4).
#[test]
fn step_2_the_known_leaf_before_candidates_and_sni() {
    let (reg, ca) = registry_with_ca("Fleet CA");
    let ca_id = ca.id();
    let device = ca.device("d1");
    let first = reg.decide(&device.chain_with(&ca), None, now());
    assert_eq!(
        first.refusal,
        Some(RefusalReason::RegisteredPendingActivation)
    );
    reg.update_certificate(&device.id(), CertificateStatus::Inactive, now())
        .unwrap();
    let mut update = UpdateCaCertificateRequest::new(ca_id);
    update.new_status = Some(CaStatus::Inactive);
    reg.update_ca_certificate(&update, now()).unwrap();
    reg.delete_ca_certificate(&ca_id).unwrap();
    assert_eq!(
        refusal(&reg, &[device.der()], None),
        RefusalReason::CertificateInactive
    );
}

/// Step 3: An unknown leaf that is not a certificate, or whose issuer no registered CA is, is
/// refused for that — not for the missing SNI (SNI would not help).
#[test]
fn step_3_malformed_and_unknown_issuer_before_sni() {
    let reg = registry();
    Ca::new("Fleet CA").register(&reg);
    let stranger = Ca::new("Stranger CA").device("d1");
    let r = refusal(&reg, &[stranger.der()], None);
    assert_eq!(r, RefusalReason::UnknownIssuer, "{}", code(&r));
    let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
    let r = refusal(&reg, &[garbage], None);
    assert!(
        matches!(r, RefusalReason::MalformedCertificate { .. }),
        "{r:?}"
    );
}

/// Step 4: With a candidate CA, a leaf sent alone without SNI is refused for the SNI before
/// its signature or validity is checked.
#[test]
fn step_4_sni_before_path_validation() {
    let (reg, ca) = registry_with_ca("Fleet CA");
    let expired = ca.device_with("old", |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    assert_eq!(
        refusal(&reg, &[expired.der()], None),
        RefusalReason::SniRequired
    );
    // With SNI the next step speaks.
    assert!(matches!(
        refusal(&reg, &[expired.der()], Some("example.com")),
        RefusalReason::CertificateExpired { .. }
    ));
    // Same name, other key: a forgery is also refused for the SNI first.
    let forger = Ca::new("Fleet CA").device("forged");
    assert_eq!(
        refusal(&reg, &[forger.der()], None),
        RefusalReason::SniRequired
    );
    assert_eq!(
        refusal(&reg, &[forger.der()], Some("example.com")),
        RefusalReason::BadSignature
    );
}

/// Step 5: Path validation before the CA's state: an expired or forged leaf under an INACTIVE
/// CA with auto-registration off is refused for itself.
#[test]
fn step_5_path_validation_before_the_ca() {
    let reg = registry();
    let ca = Ca::new("Fleet CA");
    ca.register_with(&reg, false, false);
    let expired = ca.device_with("old", |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    assert!(matches!(
        refusal(&reg, &expired.chain_with(&ca), None),
        RefusalReason::CertificateExpired { .. }
    ));
    let server_only = ca.device_with("srv", |p| {
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    });
    assert_eq!(
        refusal(&reg, &server_only.chain_with(&ca), None),
        RefusalReason::EkuNotClientAuth
    );
    let forger = Ca::new("Fleet CA");
    assert_eq!(
        refusal(&reg, &[forger.device("f").der(), forger.der()], None),
        RefusalReason::BadSignature
    );
    // A good leaf reaches the CA step.
    assert_eq!(
        refusal(&reg, &ca.device("ok").chain_with(&ca), None),
        RefusalReason::CaInactive
    );
}

/// Step 6: The CA's checks in order: INACTIVE, then auto-registration, then SNI_ONLY reach,
/// then the CA's validity.
#[test]
fn step_6_the_cas_checks_in_order() {
    let reg = registry();
    let ca = Ca::new("Fleet CA");
    let ca_id = ca.register_with(&reg, false, false);
    let chain = ca.device("d").chain_with(&ca);
    assert_eq!(refusal(&reg, &chain, None), RefusalReason::CaInactive);
    let mut update = UpdateCaCertificateRequest::new(ca_id);
    update.new_status = Some(CaStatus::Active);
    reg.update_ca_certificate(&update, now()).unwrap();
    assert_eq!(
        refusal(&reg, &chain, None),
        RefusalReason::AutoRegistrationDisabled
    );

    // SNI_ONLY reach before the CA's own validity: a CA registered SNI_ONLY, decided
    // after it expired, without SNI.
    let reg = registry();
    let short = Ca::with_key("Short CA", rcgen::KeyPair::generate().unwrap());
    let mut params = short.params.clone();
    params.not_after = rcgen::date_time_ymd(2027, 1, 1);
    let short_cert = params.self_signed(&short.key).unwrap();
    register_sni_only_ca(&reg, &short_cert.pem(), now());
    let device = short.device("d");
    let chain = vec![device.der(), short_cert.der().clone()];
    let later = Timestamp::from_unix_secs(1_798_761_600 + 86_400); // 2027-01-02
    let r = reg.decide(&chain, None, later).refusal.unwrap();
    assert_eq!(r, RefusalReason::CaRequiresSni);
    let r = reg
        .decide(&chain, Some("a.example"), later)
        .refusal
        .unwrap();
    assert!(matches!(r, RefusalReason::CaExpired { .. }), "{r:?}");
}

/// Step 7: Only when every check passes is the leaf registered.
#[test]
fn step_7_registration_last() {
    let (reg, ca) = registry_with_ca("Fleet CA");
    let device = ca.device("d");
    assert_eq!(
        refusal(&reg, &device.chain_with(&ca), None),
        RefusalReason::RegisteredPendingActivation
    );
    assert_eq!(reg.certificate_count(), 1);
}
