//! Property tests over the registry: random sequences of management operations and
//! connections, each run by `jitr-model`'s harness against both the real registry and the
//! model (which must agree after every step: outcomes, typed refusals, events, the whole
//! state), and with these invariants checked on top by comparing the registry's exported
//! state before and after each step:
//!
//! - a connection is allowed only for a certificate that was registered `ACTIVE` and is
//!   valid now;
//! - a connection registers a certificate only if it was unknown, its CA was registered,
//!   `ACTIVE`, with auto-registration `ENABLE`, the CA's key verifies it (checked here
//!   with x509-parser, not webpki) and both are valid now; the new record is
//!   `PENDING_ACTIVATION`, version 1, under that CA, with one event; any other decision
//!   leaves the certificates as they were;
//! - `REVOKED` never becomes anything else;
//! - `customerVersion` grows by exactly one per change (and `generationId` changes with
//!   it), never otherwise; new records start at 1;
//! - a failed operation changes nothing; nothing is ever listed twice;
//! - concurrent first connections of one certificate register it once.
//!
//! The invariants hold whatever order the rules are checked in; the model pins the
//! order. The same model and harness serve the `registry_ops` fuzz target.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use jitr_model::{pool, Harness, Op, Outcome, CODE, REGISTRABLE_CAS, T0};
use proptest::prelude::*;

fn op() -> impl Strategy<Value = Op> {
    let ca = 0..REGISTRABLE_CAS as u8;
    let devices = pool().devices.len() as u8;
    // Mostly the three ordinary devices, so that sequences return to the same ones.
    let device = prop_oneof![3 => 0..3u8, 2 => 0..devices];
    let status = 0..CertificateStatus::ALL.len() as u8;
    // Mostly ACTIVE, so that registered certificates get used.
    let active = CertificateStatus::ALL
        .iter()
        .position(|s| *s == CertificateStatus::Active)
        .unwrap() as u8;
    let target = prop_oneof![3 => Just(active), 2 => status.clone()];
    let likely = || prop::bool::weighted(0.8);
    prop_oneof![
        2 => (ca.clone(), likely(), likely(), any::<bool>()).prop_map(
            |(ca, active, auto, sni_only)| Op::RegisterCa { ca, active, auto, sni_only }
        ),
        1 => (ca.clone(), any::<Option<bool>>(), any::<Option<bool>>())
            .prop_map(|(ca, active, auto)| Op::UpdateCa { ca, active, auto }),
        1 => ca.prop_map(|ca| Op::DeleteCa { ca }),
        5 => (device.clone(), any::<bool>(), any::<bool>())
            .prop_map(|(device, send_ca, sni)| Op::Connect { device, send_ca, sni }),
        2 => (device.clone(), any::<bool>(), status.clone())
            .prop_map(|(device, send_ca, status)| Op::RegisterCertificate { device, send_ca, status }),
        1 => (device.clone(), status)
            .prop_map(|(device, status)| Op::RegisterWithoutCa { device, status }),
        3 => (device.clone(), target).prop_map(|(device, status)| Op::UpdateCertificate { device, status }),
        1 => device.prop_map(|device| Op::DeleteCertificate { device }),
        1 => (0..24 * 12u16).prop_map(|hours| Op::Advance { hours }),
    ]
}

/// What the invariants look at: per ID, (status, version, generation, CA).
type Certs = BTreeMap<CertificateId, (CertificateStatus, u64, String, Option<CertificateId>)>;
type Cas = BTreeMap<CertificateId, (CaStatus, AutoRegistrationStatus, u64, String)>;

fn snapshot(reg: &Registry) -> (Cas, Certs) {
    let state = reg.export_state().expect("the state exports");
    let mut cas = Cas::new();
    for c in &state.ca_certificates {
        let v = (
            c.status,
            c.auto_registration_status,
            c.customer_version,
            c.generation_id.clone(),
        );
        assert!(
            cas.insert(c.certificate_id, v).is_none(),
            "a CA listed twice"
        );
    }
    let mut certs = Certs::new();
    for c in &state.certificates {
        let v = (
            c.status,
            c.customer_version,
            c.generation_id.clone(),
            c.ca_certificate_id,
        );
        assert!(
            certs.insert(c.certificate_id, v).is_none(),
            "a certificate listed twice"
        );
    }
    (cas, certs)
}

/// Version and generation move together, by one, exactly when the record changed.
fn check_versions<K: Ord + core::fmt::Debug, S: PartialEq + core::fmt::Debug>(
    before: &BTreeMap<K, (S, u64, String)>,
    after: &BTreeMap<K, (S, u64, String)>,
    what: &str,
) -> Result<(), TestCaseError> {
    for (id, (s1, v1, g1)) in before {
        let Some((s2, v2, g2)) = after.get(id) else {
            continue;
        };
        if s1 == s2 {
            prop_assert_eq!(v2, v1, "{} {:?}: unchanged but the version moved", what, id);
            prop_assert_eq!(
                g2,
                g1,
                "{} {:?}: unchanged but the generation moved",
                what,
                id
            );
        } else {
            prop_assert_eq!(*v2, v1 + 1, "{} {:?}: changed, version +1", what, id);
            prop_assert_ne!(g2, g1, "{} {:?}: changed, new generation", what, id);
        }
    }
    for (id, (_, v, _)) in after {
        if !before.contains_key(id) {
            prop_assert_eq!(*v, 1, "{} {:?}: a new record starts at version 1", what, id);
        }
    }
    Ok(())
}

/// What a run did, to show the properties were not checked vacuously.
#[derive(Debug, Default)]
struct Stats {
    registered: usize,
    allowed: usize,
    refused: usize,
    failed_ops: usize,
    /// Every connection's refusal (`None`: allowed), in order.
    decisions: Vec<Option<RefusalReason>>,
}

fn run(ops: &[Op]) -> Result<Stats, TestCaseError> {
    let mut stats = Stats::default();
    let pool = pool();
    let mut h = Harness::new();
    for op in ops {
        let (cas_before, certs_before) = snapshot(h.registry());
        let now = h.now();
        let (outcome, decision) = h.step(*op);
        let failed = matches!(outcome, Outcome::Err(_));
        let (cas_after, certs_after) = snapshot(h.registry());
        stats.failed_ops += usize::from(failed);
        if failed {
            prop_assert_eq!(
                &cas_after,
                &cas_before,
                "{:?} failed but changed the CAs",
                op
            );
            prop_assert_eq!(
                &certs_after,
                &certs_before,
                "{:?} failed but changed the certificates",
                op
            );
        }
        // REVOKED is final.
        for (id, (status, version, _, _)) in &certs_before {
            if *status == CertificateStatus::Revoked {
                if let Some((s, v, _, _)) = certs_after.get(id) {
                    prop_assert_eq!(*s, CertificateStatus::Revoked, "{:?}: REVOKED changed", op);
                    prop_assert_eq!(v, version);
                }
            }
        }
        let strip_certs = |m: &Certs| -> BTreeMap<CertificateId, (CertificateStatus, u64, String)> {
            m.iter()
                .map(|(k, (s, v, g, _))| (*k, (*s, *v, g.clone())))
                .collect()
        };
        let strip_cas = |m: &Cas| -> BTreeMap<
            CertificateId,
            ((CaStatus, AutoRegistrationStatus), u64, String),
        > {
            m.iter()
                .map(|(k, (s, a, v, g))| (*k, ((*s, *a), *v, g.clone())))
                .collect()
        };
        check_versions(
            &strip_certs(&certs_before),
            &strip_certs(&certs_after),
            "certificate",
        )?;
        check_versions(&strip_cas(&cas_before), &strip_cas(&cas_after), "CA")?;
        if let Some(d) = decision {
            let Op::Connect { device, .. } = op else {
                unreachable!()
            };
            let leaf = &pool.devices[usize::from(*device) % pool.devices.len()].cert;
            let valid_now = |c: &Certificate| c.validity().check(now) == ValidityCheck::Valid;
            prop_assert_eq!(d.certificate_id, Some(leaf.id()));
            stats.allowed += usize::from(d.is_allowed());
            stats.registered += usize::from(d.registered());
            stats.refused += usize::from(!d.is_allowed() && !d.registered());
            stats.decisions.push(d.refusal.clone());
            if d.is_allowed() {
                let before = certs_before.get(&leaf.id());
                prop_assert!(
                    matches!(before, Some((CertificateStatus::Active, ..))),
                    "allowed, but the certificate was {:?}",
                    before
                );
                prop_assert!(valid_now(leaf), "allowed outside its validity");
            }
            if d.registered() {
                prop_assert!(!certs_before.contains_key(&leaf.id()), "registered twice");
                let ca_id = d.ca_certificate_id.expect("a registration names its CA");
                let ca = cas_before.get(&ca_id);
                prop_assert!(
                    matches!(
                        ca,
                        Some((CaStatus::Active, AutoRegistrationStatus::Enable, ..))
                    ),
                    "registered under a CA that was {:?}",
                    ca
                );
                let ca_cert = &pool
                    .cas
                    .iter()
                    .find(|c| c.cert.id() == ca_id)
                    .expect("a pool CA")
                    .cert;
                prop_assert!(
                    leaf.is_signed_by(ca_cert).is_ok(),
                    "the CA's key does not verify the leaf"
                );
                prop_assert!(
                    valid_now(leaf) && valid_now(ca_cert),
                    "registered outside validity"
                );
                let rec = certs_after.get(&leaf.id());
                prop_assert!(
                    matches!(rec, Some((CertificateStatus::PendingActivation, 1, _, Some(c))) if *c == ca_id),
                    "the new record is {:?}",
                    rec
                );
                prop_assert_eq!(certs_after.len(), certs_before.len() + 1);
                let event = d
                    .event
                    .as_ref()
                    .expect("a registration publishes its event");
                prop_assert_eq!(event.certificate_id, leaf.id());
                prop_assert_eq!(event.ca_certificate_id, ca_id);
            } else {
                prop_assert_eq!(
                    &certs_after,
                    &certs_before,
                    "a refusal changed the certificates"
                );
            }
        }
    }
    Ok(stats)
}

/// A scripted life: registration by connection, activation, revocation, refusals; the
/// model, the same invariants, and proof that each kind of decision happens.
#[test]
fn a_scripted_sequence_reaches_every_decision() {
    use Op::*;
    let status =
        |s: CertificateStatus| CertificateStatus::ALL.iter().position(|x| *x == s).unwrap() as u8;
    let connect = |device, send_ca, sni| Connect {
        device,
        send_ca,
        sni,
    };
    let ops = [
        connect(0, true, true),
        RegisterCa {
            ca: 0,
            active: true,
            auto: true,
            sni_only: false,
        },
        RegisterCa {
            ca: 1,
            active: true,
            auto: true,
            sni_only: true,
        },
        connect(0, false, false),
        connect(0, true, false),
        connect(0, true, false),
        // CA 3's device: CA 0's name, CA 3's key, and CA 3 is not registered.
        connect(4, true, true),
        connect(2, true, false),
        connect(2, true, true),
        UpdateCertificate {
            device: 0,
            status: status(CertificateStatus::Active),
        },
        connect(0, false, false),
        UpdateCertificate {
            device: 0,
            status: status(CertificateStatus::Revoked),
        },
        UpdateCertificate {
            device: 0,
            status: status(CertificateStatus::Active),
        },
        connect(0, true, true),
        RegisterCertificate {
            device: 1,
            send_ca: true,
            status: status(CertificateStatus::Active),
        },
        connect(1, false, false),
        // Past device 5's notAfter (2026-06-15).
        Advance { hours: 24 * 15 },
        connect(5, true, true),
        UpdateCa {
            ca: 0,
            active: Some(false),
            auto: None,
        },
        DeleteCa { ca: 0 },
        connect(1, false, false),
    ];
    let stats = run(&ops).unwrap();
    let expired = pool().devices[5].cert.validity().not_after;
    assert_eq!(
        stats.decisions,
        [
            Some(RefusalReason::UnknownIssuer),
            Some(RefusalReason::SniRequired),
            Some(RefusalReason::RegisteredPendingActivation),
            Some(RefusalReason::PendingActivation),
            Some(RefusalReason::BadSignature),
            Some(RefusalReason::CaRequiresSni),
            Some(RefusalReason::RegisteredPendingActivation),
            None,
            Some(RefusalReason::CertificateRevoked),
            None,
            Some(RefusalReason::CertificateExpired { not_after: expired }),
            None,
        ]
    );
    assert_eq!((stats.registered, stats.allowed), (2, 3), "{stats:?}");
    assert_eq!((stats.refused, stats.failed_ops), (7, 1), "{stats:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn registry_invariants_hold(ops in proptest::collection::vec(op(), 1..64)) {
        let stats = run(&ops)?;
        if std::env::var_os("JITR_PROPERTY_STATS").is_some() {
            eprintln!("{stats:?}");
        }
    }

    /// Concurrent first connections of one certificate register it exactly once.
    #[test]
    fn concurrent_first_connections_register_once(device in 0..2usize, threads in 2..6usize) {
        let pool = pool();
        let reg = Arc::new(
            Registry::new(Scope::new("123456789012", "us-east-1").unwrap())
                .with_registration_code(CODE)
                .unwrap(),
        );
        let c = &pool.cas[0];
        let req = RegisterCaCertificateRequest {
            ca_certificate: c.pem.clone(),
            verification_certificate: Some(c.verification_pem.clone()),
            set_as_active: true,
            allow_auto_registration: true,
            ..Default::default()
        };
        let now = Timestamp::from_unix_secs(T0);
        reg.register_ca_certificate(&req, now).unwrap();
        let d = &pool.devices[device];
        let chain = vec![CertificateDer::from(d.cert.der().to_vec()), CertificateDer::from(c.cert.der().to_vec())];
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (reg, chain) = (Arc::clone(&reg), chain.clone());
                std::thread::spawn(move || reg.decide(&chain, None, now))
            })
            .collect();
        let decisions: Vec<Decision> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let registered = decisions.iter().filter(|d| d.registered()).count();
        prop_assert_eq!(registered, 1, "{:?}", decisions);
        for d in decisions.iter().filter(|d| !d.registered()) {
            prop_assert_eq!(&d.refusal, &Some(RefusalReason::PendingActivation));
        }
        prop_assert_eq!(reg.certificate_count(), 1);
    }
}
