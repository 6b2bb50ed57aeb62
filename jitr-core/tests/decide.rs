//! The JITR decision (docs/behaviour.md §6): every refusal reason, events, concurrency, hostile input.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;

#[track_caller]
fn reason(
    reg: &Registry,
    chain: &[CertificateDer<'_>],
    sni: Option<&str>,
) -> Option<RefusalReason> {
    let before = reg.certificate_count();
    let d = reg.decide(chain, sni, now());
    if !d.registered() {
        assert_eq!(
            reg.certificate_count(),
            before,
            "a refusal registered something"
        );
        assert!(d.event.is_none() || d.refusal == Some(RefusalReason::PendingActivation));
    }
    assert!(!d.message().is_empty());
    d.refusal
}

/// Whether a refusal is `MALFORMED_CERTIFICATE` (its detail is the parser's own words).
fn malformed(r: Option<RefusalReason>) -> bool {
    matches!(r, Some(RefusalReason::MalformedCertificate { .. }))
}

#[test]
fn the_whole_story_with_exact_events() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let reg = registry().with_event_sink(Arc::new(move |topic: &str, e: &RegistrationEvent| {
        sink.lock().unwrap().push((topic.to_string(), e.to_json()));
    }));
    let ca = Ca::new("Fleet CA");
    let ca_id = ca.register(&reg);
    let dev = ca.device("device-1");
    let chain = dev.chain_with(&ca);

    let t1 = now();
    let first = reg.decide(&chain, None, t1);
    assert!(!first.is_allowed());
    assert!(first.registered());
    assert_eq!(first.certificate_id, Some(dev.id()));
    assert_eq!(first.ca_certificate_id, Some(ca_id));
    let expected = format!(
        r#"{{"certificateId":"{}","caCertificateId":"{}","timestamp":{},"certificateStatus":"PENDING_ACTIVATION","awsAccountId":"123456789012","certificateRegistrationTimestamp":"{}"}}"#,
        dev.id(),
        ca_id,
        t1.unix_millis(),
        t1.unix_millis()
    );
    assert_eq!(first.event.as_ref().unwrap().to_json(), expected);
    let d = reg.describe_certificate(&dev.id()).unwrap();
    assert_eq!(d.status, CertificateStatus::PendingActivation);
    assert_eq!(d.ca_certificate_id, Some(ca_id));
    assert_eq!(d.certificate_mode, CertificateMode::Default);
    assert_eq!(
        d.validity,
        Certificate::from_der(&dev.der()).unwrap().validity()
    );

    let t2 = Timestamp::from_unix_millis(t1.unix_millis() + 1234);
    let again = reg.decide(&chain, None, t2);
    assert_eq!(again.refusal, Some(RefusalReason::PendingActivation));
    let e2 = again.event.unwrap();
    assert_eq!(e2.timestamp, t2);
    assert_eq!(e2.certificate_registration_timestamp, t1);

    {
        let got = events.lock().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].0,
            format!("$aws/events/certificates/registered/{ca_id}")
        );
        assert_eq!(got[0].1, expected);
    }
    reg.update_certificate(&dev.id(), CertificateStatus::Active, t2)
        .unwrap();
    assert!(reg.decide(&chain, None, t2).is_allowed());
    assert!(
        reg.decide(&[dev.der()], None, t2).is_allowed(),
        "known leaf needs no CA or SNI"
    );
    // Deactivating the CA does not stop certificates it already signed.
    let mut up = UpdateCaCertificateRequest::new(ca_id);
    up.new_status = Some(CaStatus::Inactive);
    reg.update_ca_certificate(&up, t2).unwrap();
    assert!(reg.decide(&chain, None, t2).is_allowed());
    reg.update_certificate(&dev.id(), CertificateStatus::Revoked, t2)
        .unwrap();
    assert_eq!(
        reason(&reg, &chain, None),
        Some(RefusalReason::CertificateRevoked)
    );
    assert_eq!(events.lock().unwrap().len(), 2, "no more events");
}

#[test]
fn every_refusal_of_an_unknown_leaf() {
    let (reg, ca) = registry_with_ca("CA");
    let ca_id = ca.id();

    assert_eq!(reason(&reg, &[], None), Some(RefusalReason::NoCertificate));
    assert!(malformed(reason(
        &reg,
        &[CertificateDer::from(vec![1, 2, 3])],
        Some("x")
    )));
    let stranger = Ca::new("Stranger");
    assert_eq!(
        reason(&reg, &stranger.device("s").chain_with(&stranger), None),
        Some(RefusalReason::UnknownIssuer)
    );
    // Same issuer name, another key: forged.
    let forger = Ca::new("CA");
    assert_eq!(
        reason(&reg, &forger.device("f").chain_with(&forger), None),
        Some(RefusalReason::BadSignature)
    );
    assert_eq!(
        reason(&reg, &[forger.device("f").der()], Some("sni")),
        Some(RefusalReason::BadSignature)
    );
    // Leaf alone: SNI needed; with SNI it registers.
    assert_eq!(
        reason(&reg, &[ca.device("alone").der()], None),
        Some(RefusalReason::SniRequired)
    );
    assert_eq!(
        reason(&reg, &[ca.device("alone").der()], Some("sni")),
        Some(RefusalReason::RegisteredPendingActivation)
    );
    // Validity and EKU.
    let expired = ca.device_with("old", |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    assert_eq!(
        reason(&reg, &expired.chain_with(&ca), None),
        Some(RefusalReason::CertificateExpired {
            not_after: date((2021, 1, 1))
        })
    );
    let future = ca.device_with("future", |p| {
        p.not_before = rcgen::date_time_ymd(2030, 1, 1)
    });
    assert_eq!(
        reason(&reg, &future.chain_with(&ca), None),
        Some(RefusalReason::CertificateNotYetValid {
            not_before: date((2030, 1, 1))
        })
    );
    let server = ca.device_with("server", |p| {
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth]
    });
    assert_eq!(
        reason(&reg, &server.chain_with(&ca), None),
        Some(RefusalReason::EkuNotClientAuth)
    );
    let no_eku = ca.device_with("no-eku", |p| p.extended_key_usages.clear());
    assert_eq!(
        reason(&reg, &no_eku.chain_with(&ca), None),
        Some(RefusalReason::RegisteredPendingActivation)
    );
    // Only the directly signing CA counts.
    let inter = ca.intermediate("Intermediate");
    let below = inter.device("below");
    assert_eq!(
        reason(&reg, &[below.der(), inter.der(), ca.der()], None),
        Some(RefusalReason::UnknownIssuer)
    );

    // CA state.
    let mut up = UpdateCaCertificateRequest::new(ca_id);
    up.new_auto_registration_status = Some(AutoRegistrationStatus::Disable);
    reg.update_ca_certificate(&up, now()).unwrap();
    assert_eq!(
        reason(&reg, &ca.device("x").chain_with(&ca), None),
        Some(RefusalReason::AutoRegistrationDisabled)
    );
    up.new_status = Some(CaStatus::Inactive);
    reg.update_ca_certificate(&up, now()).unwrap();
    let d = reg.decide(&ca.device("x").chain_with(&ca), None, now());
    assert_eq!(d.refusal, Some(RefusalReason::CaInactive));
    assert_eq!(d.ca_certificate_id, Some(ca_id));
    // A CA whose validity ended (registered while valid).
    up.new_status = Some(CaStatus::Active);
    up.new_auto_registration_status = Some(AutoRegistrationStatus::Enable);
    reg.update_ca_certificate(&up, now()).unwrap();
    let late = Timestamp::from_unix_secs(2_060_000_000); // 2035-04
    let long_lived = ca.device_with("long", |p| p.not_after = rcgen::date_time_ymd(2040, 1, 1));
    assert_eq!(
        reg.decide(&long_lived.chain_with(&ca), None, late).refusal,
        Some(RefusalReason::CaExpired {
            not_after: date((2035, 1, 1))
        })
    );
}

#[test]
fn ambiguous_cas_and_narrowing_by_the_chain() {
    let (reg, ca, twin, twin_id) = registry_with_twins("Twin");
    let dev = ca.device("d");
    assert_eq!(
        reason(&reg, &[dev.der()], Some("sni")),
        Some(RefusalReason::AmbiguousCa { candidates: 2 })
    );
    let d = reg.decide(&[dev.der(), twin.der().clone()], None, now());
    assert_eq!(d.refusal, Some(RefusalReason::RegisteredPendingActivation));
    assert_eq!(d.ca_certificate_id, Some(twin_id));
}

#[test]
fn known_certificates_in_every_status() {
    let (reg, ca) = registry_with_ca("CA");
    for (status, code) in [
        (CertificateStatus::Active, None),
        (
            CertificateStatus::Inactive,
            Some(RefusalReason::CertificateInactive),
        ),
        (
            CertificateStatus::Revoked,
            Some(RefusalReason::CertificateRevoked),
        ),
    ] {
        let dev = ca.device(status.as_str());
        dev.register(&reg, Some(status));
        assert_eq!(reason(&reg, &[dev.der()], None), code, "{status}");
    }
    // An ACTIVE certificate past its validity is refused.
    let short = ca.device_with("short", |p| p.not_after = rcgen::date_time_ymd(2026, 7, 1));
    short.register(&reg, Some(CertificateStatus::Active));
    assert!(reg.decide(&[short.der()], None, now()).is_allowed());
    let later = Timestamp::from_unix_secs(1_800_000_000);
    assert_eq!(
        reg.decide(&[short.der()], None, later).refusal,
        Some(RefusalReason::CertificateExpired {
            not_after: date((2026, 7, 1))
        })
    );
}

#[test]
fn hostile_chains_are_refused_without_registering() {
    let (reg, ca) = registry_with_ca("CA");
    let dev = ca.device("d");
    let long: Vec<_> = std::iter::repeat_n(dev.der(), 1000).collect();
    assert_eq!(
        reason(&reg, &long, None),
        Some(RefusalReason::ChainTooLong { len: 1000 })
    );
    let huge = CertificateDer::from(vec![0x30; 1024 * 1024]);
    assert_eq!(
        reason(&reg, &[huge], None),
        Some(RefusalReason::CertificateTooLarge {
            index: 0,
            len: 1024 * 1024
        })
    );
    let d = reg.decide(&[ca.der(), dev.der()], None, now());
    assert_eq!(
        d.refusal,
        Some(RefusalReason::InvalidCertificate {
            detail: "CaUsedAsEndEntity".into()
        }),
        "wrong order"
    );
    let mut truncated = dev.der().to_vec();
    truncated.truncate(truncated.len() / 2);
    assert!(malformed(reason(
        &reg,
        &[CertificateDer::from(truncated)],
        Some("x")
    )));
    let mut flipped = dev.der().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 1; // the signature's last byte
    assert_eq!(
        reason(&reg, &[CertificateDer::from(flipped), ca.der()], None),
        Some(RefusalReason::BadSignature)
    );
    assert_eq!(reg.certificate_count(), 0);
}

#[test]
fn concurrent_first_connections_register_once() {
    let count = Arc::new(Mutex::new(0usize));
    let c = count.clone();
    let reg = Arc::new(registry().with_event_sink(Arc::new(
        move |_: &str, _: &RegistrationEvent| {
            *c.lock().unwrap() += 1;
        },
    )));
    let ca = Ca::new("CA");
    ca.register(&reg);
    let devices: Vec<_> = (0..4).map(|i| ca.device(&format!("d{i}"))).collect();
    let chains: Arc<Vec<_>> = Arc::new(devices.iter().map(|d| d.chain_with(&ca)).collect());
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let reg = reg.clone();
            let chains = chains.clone();
            std::thread::spawn(move || {
                let mut registered = 0;
                for round in 0..20 {
                    let chain = &chains[(t + round) % chains.len()];
                    let d = reg.decide(chain, None, now());
                    match &d.refusal {
                        Some(RefusalReason::RegisteredPendingActivation) => registered += 1,
                        Some(RefusalReason::PendingActivation) => {}
                        other => panic!("unexpected {other:?}"),
                    }
                    assert!(d.event.is_some());
                }
                registered
            })
        })
        .collect();
    let registered: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(
        registered,
        devices.len(),
        "each certificate registered exactly once"
    );
    assert_eq!(reg.certificate_count(), devices.len());
    assert_eq!(*count.lock().unwrap(), 16 * 20, "one event per decision");
    for d in &devices {
        assert_eq!(
            reg.describe_certificate(&d.id()).unwrap().customer_version,
            1
        );
    }
}

#[test]
fn concurrent_updates_lose_nothing() {
    let reg = Arc::new(registry());
    let ca = Ca::new("CA");
    ca.register(&reg);
    let ids: Vec<_> = (0..4)
        .map(|i| {
            let dev = ca.device(&format!("d{i}"));
            reg.register_certificate(
                &RegisterCertificateRequest {
                    certificate_pem: dev.pem(),
                    ..Default::default()
                },
                now(),
            )
            .unwrap()
            .certificate_id
        })
        .collect();
    let ids = Arc::new(ids);
    // Threads flip statuses at random; every real change must bump the version once.
    let changes: Vec<usize> = (0..8)
        .map(|t| {
            let (reg, ids) = (reg.clone(), ids.clone());
            std::thread::spawn(move || {
                let mut changed = vec![0usize; ids.len()];
                for i in 0..300 {
                    let k = (t * 7 + i) % ids.len();
                    let target = if (t + i) % 3 == 0 {
                        CertificateStatus::Active
                    } else {
                        CertificateStatus::Inactive
                    };
                    if reg.update_certificate(&ids[k], target, now()).unwrap() == Transition::Change
                    {
                        changed[k] += 1;
                    }
                }
                changed
            })
        })
        .map(|h| h.join().unwrap())
        .fold(vec![0; 4], |acc, c| {
            acc.iter().zip(c).map(|(a, b)| a + b).collect()
        });
    for (id, n) in ids.iter().zip(changes) {
        assert!(n > 0);
        assert_eq!(
            reg.describe_certificate(id).unwrap().customer_version,
            1 + n as u64
        );
    }
}

#[test]
fn preflight_decides_on_a_throw_away_registry() {
    let ca = Ca::new("CA");
    let dev = ca.device("d");
    let cas = |status, auto| {
        vec![PreflightCa {
            pem: ca.pem(),
            status,
            auto_registration_status: auto,
            certificate_mode: CertificateMode::Default,
            registration_config: None,
        }]
    };
    let chain = dev.chain_with(&ca);
    let decide = |status, auto, known: &[PreflightCertificate]| {
        preflight(ACCOUNT, &chain, &cas(status, auto), known, None, now()).unwrap()
    };
    let d = decide(CaStatus::Active, AutoRegistrationStatus::Enable, &[]);
    assert_eq!(d.refusal, Some(RefusalReason::RegisteredPendingActivation));
    assert_eq!(d.event.unwrap().ca_certificate_id, ca.id());
    let d = decide(CaStatus::Inactive, AutoRegistrationStatus::Enable, &[]);
    assert_eq!(d.refusal, Some(RefusalReason::CaInactive));
    let known = [PreflightCertificate {
        certificate_id: dev.id(),
        status: CertificateStatus::Revoked,
    }];
    let d = decide(CaStatus::Active, AutoRegistrationStatus::Enable, &known);
    assert_eq!(d.refusal, Some(RefusalReason::CertificateRevoked));
    assert_eq!(d.ca_certificate_id, Some(ca.id()));
    assert!(preflight(
        ACCOUNT,
        &chain,
        &[PreflightCa {
            pem: "junk".into(),
            ..cas(CaStatus::Active, AutoRegistrationStatus::Enable).remove(0)
        }],
        &[],
        None,
        now()
    )
    .is_err());
}

#[test]
fn verify_path_is_the_decisions_path_validation_with_knobs() {
    let (reg, root) = registry_with_ca("Root");
    let root_id = root.id();
    let inter = root.intermediate("Intermediate");
    let below = inter.device("below");
    let chain = [below.der(), inter.der()];
    assert_eq!(
        reg.verify_path(&chain, PathOptions::default(), now()),
        Err(RefusalReason::UnknownIssuer)
    );
    assert_eq!(
        reg.verify_path(
            &chain,
            PathOptions::default().with_intermediates(true),
            now()
        ),
        Ok(root_id)
    );
    let server = root.device_with("server", |p| {
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth]
    });
    assert_eq!(
        reg.verify_path(&[server.der()], PathOptions::default(), now()),
        Err(RefusalReason::EkuNotClientAuth)
    );
    assert_eq!(
        reg.verify_path(
            &[server.der()],
            PathOptions::default().with_eku(RequiredEku::ServerAuth),
            now()
        ),
        Ok(root_id)
    );
    let client = root.device("client");
    assert_eq!(
        reg.verify_path(&[client.der()], PathOptions::default(), now()),
        Ok(root_id)
    );
    assert_eq!(
        reg.verify_path(
            &[client.der()],
            PathOptions::default().with_eku(RequiredEku::ServerAuth),
            now()
        ),
        Err(RefusalReason::EkuNotClientAuth),
        "the EKU refusal code names what JITR requires; the reason is the EKU mismatch"
    );
    assert_eq!(reg.certificate_count(), 0, "verify_path registers nothing");
    assert_eq!(
        reg.verify_path(&[], PathOptions::default(), now()),
        Err(RefusalReason::NoCertificate)
    );
}

/// What `openssl x509 -req` issues without an extensions file, as in AWS's JITR
/// walkthrough: webpki refuses v1, jitr accepts it when a registered CA signed it.
#[test]
fn v1_device_certificates_are_registered_as_aws_does() {
    let ca_pem = include_str!("data/v1/ca.pem");
    let device = Certificate::from_pem(include_str!("data/v1/device.pem")).unwrap();
    assert_eq!(device.version(), 1);
    let later = Timestamp::from_unix_secs(1_798_761_600); // 2027-01-01
    let reg = registry();
    let ca_id = register_sni_only_ca(&reg, ca_pem, later);
    let leaf = CertificateDer::from(device.der().to_vec());
    let ca_der = CertificateDer::from(Certificate::from_pem(ca_pem).unwrap().der().to_vec());
    assert_eq!(
        reg.verify_path(std::slice::from_ref(&leaf), PathOptions::default(), later),
        Ok(ca_id)
    );
    // Tampered signature: refused.
    let mut forged = leaf.to_vec();
    let n = forged.len();
    forged[n - 3] ^= 0x01;
    let forged = CertificateDer::from(forged);
    assert!(!reg
        .decide(&[forged.clone(), ca_der.clone()], Some("sni"), later)
        .is_allowed());
    assert_eq!(reg.certificate_count(), 0);
    // Not yet valid before its notBefore.
    assert_eq!(
        reg.decide(std::slice::from_ref(&leaf), Some("sni"), now())
            .refusal,
        Some(RefusalReason::CertificateNotYetValid {
            not_before: device.validity().not_before
        })
    );
    let d = reg.decide(&[leaf.clone(), ca_der.clone()], Some("sni"), later);
    assert_eq!(d.refusal, Some(RefusalReason::RegisteredPendingActivation));
    assert_eq!(d.ca_certificate_id, Some(ca_id));
    // Switched off, the same certificate is malformed to jitr, as to webpki.
    let strict = registry_in(Scope::new(ACCOUNT, REGION).unwrap(), {
        let mut c = RegistryConfig::default();
        c.accept_v1_device_certificates = false;
        c
    });
    register_sni_only_ca(&strict, ca_pem, later);
    assert!(matches!(
        strict.decide(&[leaf, ca_der], Some("sni"), later).refusal,
        Some(RefusalReason::MalformedCertificate { .. })
    ));
}
