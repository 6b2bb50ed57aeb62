//! Property tests over the registry: random sequences of management operations and
//! connections, with the invariants of spec §5–§6 checked after every step by comparing
//! the registry's exported state before and after:
//!
//! - a connection is allowed only for a certificate that was registered `ACTIVE` and is
//!   valid now;
//! - a connection registers a certificate only if it was unknown, its CA was registered,
//!   `ACTIVE`, with auto-registration `ENABLE`, the CA's key verifies it and both are
//!   valid now; the new record is `PENDING_ACTIVATION`, version 1, under that CA, with
//!   one event; any other decision leaves the certificates as they were;
//! - `REVOKED` never becomes anything else;
//! - `customerVersion` grows by exactly one per change (and `generationId` changes with
//!   it), never otherwise; new records start at 1;
//! - a failed operation changes nothing; nothing is ever listed twice;
//! - concurrent first connections of one certificate register it once.
//!
//! These are checked against the state alone, not against a model of every rule (the
//! `registry_ops` fuzz target does that), so they hold whatever order the rules are
//! checked in.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use proptest::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};

/// 2026-06-01T00:00:00Z.
const T0: i64 = 1_780_272_000;
const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const SNI: &str = "prop-ats.iot.us-east-1.amazonaws.com";

struct PoolCa {
    cert: Certificate,
    pem: String,
    verification_pem: String,
}

struct PoolDevice {
    cert: Certificate,
    pem: String,
    /// The CA whose certificate a client sends after the leaf.
    ca: usize,
}

struct Pool {
    cas: Vec<PoolCa>,
    devices: Vec<PoolDevice>,
}

/// CAs: 0 and 1 share a subject (other keys), 2 expires 20 days after T0, 3 is never
/// registered by the operations. Devices of each, plus expiring, not-yet-valid,
/// serverAuth-only and forged ones.
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let ed = || KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let t0 = rcgen::date_time_ymd(2026, 6, 1);
        let at = |secs: i64| {
            let d = std::time::Duration::from_secs(secs.abs_diff(T0));
            if secs >= T0 {
                t0 + d
            } else {
                t0 - d
            }
        };
        let mut cas = Vec::new();
        let mut issuers = Vec::new();
        let mut keys = Vec::new();
        for (cn, until) in [
            ("Prop CA", T0 + 3000 * 86_400),
            ("Prop CA", T0 + 3000 * 86_400),
            ("Prop CA short", T0 + 20 * 86_400),
            ("Prop CA never registered", T0 + 3000 * 86_400),
        ] {
            let key = ed();
            keys.push(key.serialize_der());
            let mut p = CertificateParams::new(vec![]).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.not_before = at(T0 - 86_400);
            p.not_after = at(until);
            let cert = p.self_signed(&key).unwrap();
            let mut v = CertificateParams::new(vec![]).unwrap();
            v.distinguished_name.push(DnType::CommonName, CODE);
            v.not_before = at(T0 - 86_400);
            v.not_after = at(T0 + 3000 * 86_400);
            let issuer = Issuer::new(p, key);
            let verification = v.signed_by(&ed(), &issuer).unwrap();
            cas.push(PoolCa {
                cert: Certificate::from_der(cert.der()).unwrap(),
                pem: cert.pem(),
                verification_pem: verification.pem(),
            });
            issuers.push(issuer);
        }
        // (signing CA, CA sent in the chain, notBefore, notAfter, serverAuth only)
        let specs = [
            (0, 0, T0 - 86_400, T0 + 3000 * 86_400, false),
            (0, 0, T0 - 86_400, T0 + 3000 * 86_400, false),
            (1, 1, T0 - 86_400, T0 + 3000 * 86_400, false),
            (2, 2, T0 - 86_400, T0 + 3000 * 86_400, false),
            (3, 3, T0 - 86_400, T0 + 3000 * 86_400, false),
            (0, 0, T0 - 86_400, T0 + 5 * 86_400, false),
            (0, 0, T0 + 10 * 86_400, T0 + 3000 * 86_400, false),
            (0, 0, T0 - 86_400, T0 + 3000 * 86_400, true),
            // Forged: CA 3's key under CA 0's name (issuer = "Prop CA").
            (3, 0, T0 - 86_400, T0 + 3000 * 86_400, false),
        ];
        let mut devices = Vec::new();
        for (i, (signer, sent, from, until, server_only)) in specs.into_iter().enumerate() {
            let mut p = CertificateParams::new(vec![]).unwrap();
            p.distinguished_name
                .push(DnType::CommonName, format!("prop device {i}"));
            p.not_before = at(from);
            p.not_after = at(until);
            p.extended_key_usages = vec![if server_only {
                ExtendedKeyUsagePurpose::ServerAuth
            } else {
                ExtendedKeyUsagePurpose::ClientAuth
            }];
            let cert = if signer == 3 && sent == 0 {
                // Sign with CA 3's key but name CA 0 as the issuer.
                let mut forger = CertificateParams::new(vec![]).unwrap();
                forger
                    .distinguished_name
                    .push(DnType::CommonName, "Prop CA");
                forger.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
                let key = KeyPair::try_from(keys[3].as_slice()).unwrap();
                p.signed_by(&ed(), &Issuer::new(forger, key)).unwrap()
            } else {
                p.signed_by(&ed(), &issuers[signer]).unwrap()
            };
            devices.push(PoolDevice {
                cert: Certificate::from_der(cert.der()).unwrap(),
                pem: cert.pem(),
                ca: sent,
            });
        }
        Pool { cas, devices }
    })
}

#[derive(Clone, Debug)]
enum Op {
    RegisterCa {
        ca: usize,
        active: bool,
        auto: bool,
        sni_only: bool,
    },
    UpdateCa {
        ca: usize,
        active: Option<bool>,
        auto: Option<bool>,
    },
    DeleteCa {
        ca: usize,
    },
    Connect {
        device: usize,
        send_ca: bool,
        sni: bool,
    },
    RegisterCertificate {
        device: usize,
        send_ca: bool,
        status: usize,
    },
    UpdateCertificate {
        device: usize,
        status: usize,
    },
    DeleteCertificate {
        device: usize,
    },
    Advance {
        hours: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let ca = 0..4usize;
    // Mostly the three ordinary devices, so that sequences return to the same ones.
    let device = prop_oneof![3 => 0..3usize, 2 => 0..9usize];
    let status = 0..CertificateStatus::ALL.len();
    // Mostly ACTIVE, so that registered certificates get used.
    let active = CertificateStatus::ALL
        .iter()
        .position(|s| *s == CertificateStatus::Active)
        .unwrap();
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
        3 => (device.clone(), target).prop_map(|(device, status)| Op::UpdateCertificate { device, status }),
        1 => device.prop_map(|device| Op::DeleteCertificate { device }),
        1 => (0..24 * 12i64).prop_map(|hours| Op::Advance { hours }),
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
}

fn run(ops: &[Op]) -> Result<Stats, TestCaseError> {
    let mut stats = Stats::default();
    let pool = pool();
    let reg = Registry::new(Scope::new("123456789012", "us-east-1").unwrap())
        .with_registration_code(CODE)
        .unwrap();
    let mut now = Timestamp::from_unix_secs(T0);
    for op in ops {
        let (cas_before, certs_before) = snapshot(&reg);
        let mut failed = false;
        let mut decision = None;
        match op {
            Op::RegisterCa {
                ca,
                active,
                auto,
                sni_only,
            } => {
                let c = &pool.cas[*ca];
                let req = RegisterCaCertificateRequest {
                    ca_certificate: c.pem.clone(),
                    verification_certificate: (!sni_only).then(|| c.verification_pem.clone()),
                    set_as_active: *active,
                    allow_auto_registration: *auto,
                    certificate_mode: if *sni_only {
                        CertificateMode::SniOnly
                    } else {
                        CertificateMode::Default
                    },
                    ..Default::default()
                };
                failed = reg.register_ca_certificate(&req, now).is_err();
            }
            Op::UpdateCa { ca, active, auto } => {
                let mut req = UpdateCaCertificateRequest::new(pool.cas[*ca].cert.id());
                req.new_status = active.map(|a| {
                    if a {
                        CaStatus::Active
                    } else {
                        CaStatus::Inactive
                    }
                });
                req.new_auto_registration_status = auto.map(|a| {
                    if a {
                        AutoRegistrationStatus::Enable
                    } else {
                        AutoRegistrationStatus::Disable
                    }
                });
                failed = reg.update_ca_certificate(&req, now).is_err();
            }
            Op::DeleteCa { ca } => {
                failed = reg.delete_ca_certificate(&pool.cas[*ca].cert.id()).is_err()
            }
            Op::Connect {
                device,
                send_ca,
                sni,
            } => {
                let d = &pool.devices[*device];
                let mut chain = vec![CertificateDer::from(d.cert.der())];
                if *send_ca {
                    chain.push(CertificateDer::from(pool.cas[d.ca].cert.der()));
                }
                decision = Some(reg.decide(&chain, sni.then_some(SNI), now));
            }
            Op::RegisterCertificate {
                device,
                send_ca,
                status,
            } => {
                let d = &pool.devices[*device];
                let req = RegisterCertificateRequest {
                    certificate_pem: d.pem.clone(),
                    ca_certificate_pem: send_ca.then(|| pool.cas[d.ca].pem.clone()),
                    status: Some(CertificateStatus::ALL[*status]),
                };
                failed = reg.register_certificate(&req, now).is_err();
            }
            Op::UpdateCertificate { device, status } => {
                let id = pool.devices[*device].cert.id();
                failed = reg
                    .update_certificate(&id, CertificateStatus::ALL[*status], now)
                    .is_err();
            }
            Op::DeleteCertificate { device } => {
                failed = reg
                    .delete_certificate(&pool.devices[*device].cert.id(), false)
                    .is_err();
            }
            Op::Advance { hours } => {
                now = Timestamp::from_unix_secs(now.unix_secs() + hours * 3600)
            }
        }
        let (cas_after, certs_after) = snapshot(&reg);
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
            let leaf = &pool.devices[*device].cert;
            let valid_now = |c: &Certificate| c.validity().check(now) == ValidityCheck::Valid;
            prop_assert_eq!(d.certificate_id, Some(leaf.id()));
            stats.allowed += usize::from(d.is_allowed());
            stats.registered += usize::from(d.registered());
            stats.refused += usize::from(!d.is_allowed() && !d.registered());
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
/// same invariants, and proof that each kind of decision happens.
#[test]
fn a_scripted_sequence_reaches_every_decision() {
    use Op::*;
    let status =
        |s: CertificateStatus| CertificateStatus::ALL.iter().position(|x| *x == s).unwrap();
    let ops = [
        Connect {
            device: 0,
            send_ca: true,
            sni: true,
        },
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
        Connect {
            device: 0,
            send_ca: false,
            sni: false,
        },
        Connect {
            device: 0,
            send_ca: true,
            sni: false,
        },
        Connect {
            device: 0,
            send_ca: true,
            sni: false,
        },
        Connect {
            device: 8,
            send_ca: true,
            sni: true,
        },
        Connect {
            device: 2,
            send_ca: true,
            sni: false,
        },
        Connect {
            device: 2,
            send_ca: true,
            sni: true,
        },
        UpdateCertificate {
            device: 0,
            status: status(CertificateStatus::Active),
        },
        Connect {
            device: 0,
            send_ca: false,
            sni: false,
        },
        UpdateCertificate {
            device: 0,
            status: status(CertificateStatus::Revoked),
        },
        UpdateCertificate {
            device: 0,
            status: status(CertificateStatus::Active),
        },
        Connect {
            device: 0,
            send_ca: true,
            sni: true,
        },
        RegisterCertificate {
            device: 1,
            send_ca: true,
            status: status(CertificateStatus::Active),
        },
        Connect {
            device: 1,
            send_ca: false,
            sni: false,
        },
        Advance { hours: 24 * 6 },
        Connect {
            device: 5,
            send_ca: true,
            sni: true,
        },
        UpdateCa {
            ca: 0,
            active: Some(false),
            auto: None,
        },
        DeleteCa { ca: 0 },
        Connect {
            device: 1,
            send_ca: false,
            sni: false,
        },
    ];
    let stats = run(&ops).unwrap();
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
            prop_assert_eq!(d.reason_code(), Some("PENDING_ACTIVATION"));
        }
        prop_assert_eq!(reg.certificate_count(), 1);
    }
}
