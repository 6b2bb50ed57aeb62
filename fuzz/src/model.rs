//! `registry_ops`: a sequence of registry operations drawn by `arbitrary`, run against a
//! real [`Registry`] and against a model of spec §3–§6 small enough to read in one go.
//! After every operation the outcome (success or error code, the decision's reason) and
//! the whole exported state (statuses, `customerVersion`s, CA links, no duplicates) must
//! be the model's.
//!
//! The certificates come from a fixed pool, so an operation is a few small numbers and
//! the fuzzer explores orders of operations rather than certificate bytes (the other
//! targets do that).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{
    AutoRegistrationStatus, CaStatus, Certificate, CertificateId, CertificateMode,
    CertificateStatus, RegisterCaCertificateRequest, RegisterCertificateRequest, Registry, Scope,
    Timestamp, UpdateCaCertificateRequest, ValidityCheck,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};

/// The registration code of the model's registry (what verification certificates carry).
const CODE: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";
/// 2026-06-01T00:00:00Z, the first operation's time.
const T0: i64 = 1_780_272_000;
/// At most this many operations per input.
const MAX_OPS: usize = 64;

/// One operation; indexes pick from the pool (modulo its size).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Op {
    /// RegisterCACertificate.
    RegisterCa {
        /// Which CA.
        ca: u8,
        /// `setAsActive`.
        active: bool,
        /// `allowAutoRegistration`.
        auto: bool,
        /// `SNI_ONLY` (no verification certificate) rather than `DEFAULT`.
        sni_only: bool,
    },
    /// UpdateCACertificate.
    UpdateCa {
        /// Which CA.
        ca: u8,
        /// `newStatus` ACTIVE/INACTIVE, if any.
        active: Option<bool>,
        /// `newAutoRegistrationStatus` ENABLE/DISABLE, if any.
        auto: Option<bool>,
    },
    /// DeleteCACertificate.
    DeleteCa {
        /// Which CA.
        ca: u8,
    },
    /// A device connects (the JITR decision).
    Connect {
        /// Which device.
        device: u8,
        /// Send the issuing CA's certificate after the leaf.
        send_ca: bool,
        /// Send SNI.
        sni: bool,
    },
    /// RegisterCertificate.
    RegisterCertificate {
        /// Which device.
        device: u8,
        /// Pass `caCertificatePem`.
        send_ca: bool,
        /// The status (any of the six, modulo).
        status: u8,
    },
    /// RegisterCertificateWithoutCA.
    RegisterWithoutCa {
        /// Which device.
        device: u8,
        /// The status (any of the six, modulo).
        status: u8,
    },
    /// UpdateCertificate.
    UpdateCertificate {
        /// Which device.
        device: u8,
        /// The new status (any of the six, modulo).
        status: u8,
    },
    /// DeleteCertificate.
    DeleteCertificate {
        /// Which device.
        device: u8,
    },
    /// Time passes.
    Advance {
        /// Hours (modulo 60 days).
        hours: u16,
    },
}

struct PoolCa {
    cert: Certificate,
    pem: String,
    verification_pem: String,
    verification: Certificate,
}

struct PoolDevice {
    cert: Certificate,
    pem: String,
    /// Index of the issuing CA in `Pool::cas` (the last one is never registered).
    ca: usize,
    server_auth_only: bool,
}

struct Pool {
    cas: Vec<PoolCa>,
    devices: Vec<PoolDevice>,
}

/// The CAs that operations may register: all but the last of the pool.
const REGISTRABLE_CAS: usize = 4;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| build_pool().expect("the pool of certificates is generated"))
}

fn build_pool() -> Result<Pool, Box<dyn std::error::Error>> {
    let ed = || KeyPair::generate_for(&rcgen::PKCS_ED25519);
    let date = |(y, m, d): (i32, u8, u8)| rcgen::date_time_ymd(y, m, d);
    let mut cas = Vec::new();
    let mut issuers = Vec::new();
    // 0, 3: same subject, different keys; 2: expires 2026-07-01; 4: never registered.
    for (cn, until) in [
        ("Model CA A", (2035, 1, 1)),
        ("Model CA B", (2035, 1, 1)),
        ("Model CA C (short-lived)", (2026, 7, 1)),
        ("Model CA A", (2035, 1, 1)),
        ("Model CA unregistered", (2035, 1, 1)),
    ] {
        let key = ed()?;
        let mut p = CertificateParams::new(vec![])?;
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.not_before = date((2025, 1, 1));
        p.not_after = date(until);
        let cert = p.self_signed(&key)?;
        let mut v = CertificateParams::new(vec![])?;
        v.distinguished_name.push(DnType::CommonName, CODE);
        v.not_before = date((2025, 1, 1));
        v.not_after = date((2035, 1, 1));
        let issuer = Issuer::new(p, key);
        let verification = v.signed_by(&ed()?, &issuer)?;
        cas.push(PoolCa {
            cert: Certificate::from_der(cert.der())?,
            pem: cert.pem(),
            verification: Certificate::from_der(verification.der())?,
            verification_pem: verification.pem(),
        });
        issuers.push(issuer);
    }
    // (issuing CA, notBefore, notAfter, EKU: Some(client?) or None for no extension)
    type Ymd = (i32, u8, u8);
    let specs: [(usize, Ymd, Ymd, Option<bool>); 10] = [
        (0, (2025, 1, 1), (2035, 1, 1), Some(true)),
        (0, (2025, 1, 1), (2035, 1, 1), Some(true)),
        (1, (2025, 1, 1), (2035, 1, 1), Some(true)),
        (2, (2025, 1, 1), (2035, 1, 1), Some(true)),
        (3, (2025, 1, 1), (2035, 1, 1), Some(true)),
        (0, (2025, 1, 1), (2026, 6, 15), Some(true)),
        (0, (2025, 1, 1), (2035, 1, 1), Some(false)),
        (4, (2025, 1, 1), (2035, 1, 1), Some(true)),
        (0, (2026, 9, 1), (2035, 1, 1), Some(true)),
        (0, (2025, 1, 1), (2035, 1, 1), None),
    ];
    let mut devices = Vec::new();
    for (i, (ca, from, until, eku)) in specs.into_iter().enumerate() {
        let mut p = CertificateParams::new(vec![])?;
        p.distinguished_name
            .push(DnType::CommonName, format!("model device {i}"));
        p.not_before = date(from);
        p.not_after = date(until);
        p.extended_key_usages = match eku {
            Some(true) => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Some(false) => vec![ExtendedKeyUsagePurpose::ServerAuth],
            None => vec![],
        };
        let cert = p.signed_by(&ed()?, &issuers[ca])?;
        devices.push(PoolDevice {
            cert: Certificate::from_der(cert.der())?,
            pem: cert.pem(),
            ca,
            server_auth_only: eku == Some(false),
        });
    }
    Ok(Pool { cas, devices })
}

/// A CA as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ModelCa {
    active: bool,
    auto: bool,
    sni_only: bool,
    version: u64,
}

/// A device certificate as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ModelCert {
    status: CertificateStatus,
    version: u64,
    /// Pool index of its CA, if registered with one.
    ca: Option<usize>,
    registered_at: Timestamp,
}

/// What an operation returned: success, an error code, or a connection's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Err(&'static str),
    Decision {
        reason: Option<&'static str>,
        /// The pool index of the CA the certificate was registered under, if this
        /// decision registered it.
        registered_under: Option<usize>,
        /// The event's `timestamp` and `certificateRegistrationTimestamp` (ms).
        event: Option<(i64, i64)>,
    },
}

const ENDPOINT: &str = "model-ats.iot.us-east-1.amazonaws.com";

fn status_of(n: u8) -> CertificateStatus {
    let all = CertificateStatus::ALL;
    all[usize::from(n) % all.len()]
}

#[derive(Default)]
struct Model {
    cas: BTreeMap<usize, ModelCa>,
    certs: BTreeMap<usize, ModelCert>,
}

impl Model {
    fn apply(&mut self, pool: &Pool, op: Op, now: Timestamp) -> Outcome {
        use CertificateStatus::*;
        const STATE: Outcome = Outcome::Err("CertificateStateException");
        const INVALID: Outcome = Outcome::Err("InvalidRequestException");
        const NOT_FOUND: Outcome = Outcome::Err("ResourceNotFoundException");
        const EXISTS: Outcome = Outcome::Err("ResourceAlreadyExistsException");
        const VALIDATION: Outcome = Outcome::Err("CertificateValidationException");
        let valid = |c: &Certificate| c.validity().check(now) == ValidityCheck::Valid;
        match op {
            Op::RegisterCa {
                ca,
                active,
                auto,
                sni_only,
            } => {
                let i = usize::from(ca) % REGISTRABLE_CAS;
                let c = &pool.cas[i];
                // §3 order: the CA (valid now), the proof of possession, then duplicates.
                if !valid(&c.cert) || (!sni_only && !valid(&c.verification)) {
                    return VALIDATION;
                }
                if self.cas.contains_key(&i) {
                    return EXISTS;
                }
                self.cas.insert(
                    i,
                    ModelCa {
                        active,
                        auto,
                        sni_only,
                        version: 1,
                    },
                );
                Outcome::Ok
            }
            Op::UpdateCa { ca, active, auto } => {
                let i = usize::from(ca) % REGISTRABLE_CAS;
                let Some(m) = self.cas.get_mut(&i) else {
                    return NOT_FOUND;
                };
                let mut changed = false;
                if let Some(a) = active.filter(|a| *a != m.active) {
                    m.active = a;
                    changed = true;
                }
                if let Some(a) = auto.filter(|a| *a != m.auto) {
                    m.auto = a;
                    changed = true;
                }
                if changed {
                    m.version += 1;
                }
                Outcome::Ok
            }
            Op::DeleteCa { ca } => {
                let i = usize::from(ca) % REGISTRABLE_CAS;
                match self.cas.get(&i) {
                    None => NOT_FOUND,
                    Some(m) if m.active => STATE,
                    Some(_) => {
                        self.cas.remove(&i);
                        Outcome::Ok
                    }
                }
            }
            Op::Connect {
                device,
                send_ca,
                sni,
            } => self.connect(
                pool,
                usize::from(device) % pool.devices.len(),
                send_ca,
                sni,
                now,
            ),
            Op::RegisterCertificate {
                device,
                send_ca,
                status,
            } => {
                let d = usize::from(device) % pool.devices.len();
                let dev = &pool.devices[d];
                let status = status_of(status);
                match status {
                    PendingActivation => return STATE,
                    PendingTransfer | RegisterInactive => return INVALID,
                    _ => {}
                }
                if send_ca {
                    if !self.cas.contains_key(&dev.ca) {
                        return STATE;
                    }
                } else {
                    let same_subject = self
                        .cas
                        .keys()
                        .any(|i| pool.cas[*i].cert.subject().der() == dev.cert.issuer().der());
                    if !same_subject {
                        return STATE;
                    }
                    if !self.cas.contains_key(&dev.ca) {
                        return VALIDATION;
                    }
                }
                if !self.cas[&dev.ca].active {
                    return STATE;
                }
                if self.certs.contains_key(&d) {
                    return EXISTS;
                }
                self.certs.insert(
                    d,
                    ModelCert {
                        status,
                        version: 1,
                        ca: Some(dev.ca),
                        registered_at: now,
                    },
                );
                Outcome::Ok
            }
            Op::RegisterWithoutCa { device, status } => {
                let d = usize::from(device) % pool.devices.len();
                let status = status_of(status);
                match status {
                    PendingActivation => return STATE,
                    PendingTransfer | RegisterInactive => return INVALID,
                    _ => {}
                }
                if self.certs.contains_key(&d) {
                    return EXISTS;
                }
                self.certs.insert(
                    d,
                    ModelCert {
                        status,
                        version: 1,
                        ca: None,
                        registered_at: now,
                    },
                );
                Outcome::Ok
            }
            Op::UpdateCertificate { device, status } => {
                let d = usize::from(device) % pool.devices.len();
                // A malformed request is refused before the certificate is looked up.
                let target = status_of(status);
                if matches!(
                    target,
                    PendingActivation | PendingTransfer | RegisterInactive
                ) {
                    return INVALID;
                }
                let Some(m) = self.certs.get_mut(&d) else {
                    return NOT_FOUND;
                };
                if m.status == target {
                    return Outcome::Ok;
                }
                // REVOKED is final.
                if matches!(m.status, Revoked | PendingTransfer) {
                    return STATE;
                }
                m.status = target;
                m.version += 1;
                Outcome::Ok
            }
            Op::DeleteCertificate { device } => {
                let d = usize::from(device) % pool.devices.len();
                match self.certs.get(&d) {
                    None => NOT_FOUND,
                    Some(m) if m.status == Active => STATE,
                    Some(_) => {
                        self.certs.remove(&d);
                        Outcome::Ok
                    }
                }
            }
            Op::Advance { .. } => Outcome::Ok,
        }
    }

    /// Spec §6, in the order the manual gives.
    fn connect(
        &mut self,
        pool: &Pool,
        d: usize,
        send_ca: bool,
        sni: bool,
        now: Timestamp,
    ) -> Outcome {
        use CertificateStatus::*;
        let dev = &pool.devices[d];
        let refuse = |reason: &'static str| Outcome::Decision {
            reason: Some(reason),
            registered_under: None,
            event: None,
        };
        let expiry = |c: &Certificate, expired, not_yet| match c.validity().check(now) {
            ValidityCheck::Valid => None,
            ValidityCheck::Expired => Some(expired),
            ValidityCheck::NotYetValid => Some(not_yet),
        };
        // 1. A registered leaf is decided by its record.
        if let Some(m) = self.certs.get(&d) {
            return match m.status {
                Active => match expiry(
                    &dev.cert,
                    "CERTIFICATE_EXPIRED",
                    "CERTIFICATE_NOT_YET_VALID",
                ) {
                    None => Outcome::Decision {
                        reason: None,
                        registered_under: None,
                        event: None,
                    },
                    Some(r) => refuse(r),
                },
                PendingActivation => Outcome::Decision {
                    reason: Some("PENDING_ACTIVATION"),
                    registered_under: None,
                    event: m
                        .ca
                        .map(|_| (now.unix_millis(), m.registered_at.unix_millis())),
                },
                Inactive => refuse("CERTIFICATE_INACTIVE"),
                Revoked => refuse("CERTIFICATE_REVOKED"),
                PendingTransfer => refuse("CERTIFICATE_PENDING_TRANSFER"),
                RegisterInactive => refuse("CERTIFICATE_REGISTER_INACTIVE"),
                _ => refuse("UNKNOWN_STATUS"),
            };
        }
        // 3. Candidates by subject; a sent CA narrows them.
        let mut candidates: Vec<usize> = self
            .cas
            .keys()
            .copied()
            .filter(|i| pool.cas[*i].cert.subject().der() == dev.cert.issuer().der())
            .collect();
        if candidates.is_empty() {
            return refuse("UNKNOWN_ISSUER");
        }
        // 4. A leaf alone needs SNI (SNI would not help an unknown issuer).
        if !send_ca && !sni {
            return refuse("SNI_REQUIRED");
        }
        if send_ca && candidates.contains(&dev.ca) {
            candidates = vec![dev.ca];
        }
        // Path validation: the leaf's validity and EKU, then the signature.
        if let Some(r) = expiry(
            &dev.cert,
            "CERTIFICATE_EXPIRED",
            "CERTIFICATE_NOT_YET_VALID",
        ) {
            return refuse(r);
        }
        if dev.server_auth_only {
            return refuse("EKU_NOT_CLIENT_AUTH");
        }
        if !candidates.contains(&dev.ca) {
            return refuse("BAD_SIGNATURE");
        }
        // 5. The CA.
        let ca = self.cas[&dev.ca];
        if !ca.active {
            return refuse("CA_INACTIVE");
        }
        if !ca.auto {
            return refuse("AUTO_REGISTRATION_DISABLED");
        }
        if ca.sni_only && !sni {
            return refuse("CA_REQUIRES_SNI");
        }
        if let Some(r) = expiry(&pool.cas[dev.ca].cert, "CA_EXPIRED", "CA_NOT_YET_VALID") {
            return refuse(r);
        }
        // 6. Registered, once.
        self.certs.insert(
            d,
            ModelCert {
                status: PendingActivation,
                version: 1,
                ca: Some(dev.ca),
                registered_at: now,
            },
        );
        Outcome::Decision {
            reason: Some("REGISTERED_PENDING_ACTIVATION"),
            registered_under: Some(dev.ca),
            event: Some((now.unix_millis(), now.unix_millis())),
        }
    }
}

fn ca_index(pool: &Pool, id: &CertificateId) -> usize {
    pool.cas
        .iter()
        .position(|c| c.cert.id() == *id)
        .expect("only pool CAs are registered")
}

fn device_index(pool: &Pool, id: &CertificateId) -> usize {
    pool.devices
        .iter()
        .position(|c| c.cert.id() == *id)
        .expect("only pool devices are registered")
}

fn perform(reg: &Registry, pool: &Pool, op: Op, now: Timestamp) -> Outcome {
    let outcome = |r: Result<(), jitr_core::Error>| match r {
        Ok(()) => Outcome::Ok,
        Err(e) => Outcome::Err(e.code()),
    };
    let device = |n: u8| &pool.devices[usize::from(n) % pool.devices.len()];
    let ca = |n: u8| &pool.cas[usize::from(n) % REGISTRABLE_CAS];
    match op {
        Op::RegisterCa {
            ca: n,
            active,
            auto,
            sni_only,
        } => {
            let c = ca(n);
            let req = RegisterCaCertificateRequest {
                ca_certificate: c.pem.clone(),
                verification_certificate: (!sni_only).then(|| c.verification_pem.clone()),
                set_as_active: active,
                allow_auto_registration: auto,
                certificate_mode: if sni_only {
                    CertificateMode::SniOnly
                } else {
                    CertificateMode::Default
                },
                ..Default::default()
            };
            outcome(reg.register_ca_certificate(&req, now).map(|r| {
                assert_eq!(r.certificate_id, c.cert.id());
            }))
        }
        Op::UpdateCa {
            ca: n,
            active,
            auto,
        } => {
            let mut req = UpdateCaCertificateRequest::new(ca(n).cert.id());
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
            outcome(reg.update_ca_certificate(&req, now))
        }
        Op::DeleteCa { ca: n } => outcome(reg.delete_ca_certificate(&ca(n).cert.id())),
        Op::Connect {
            device: n,
            send_ca,
            sni,
        } => {
            let dev = device(n);
            let mut chain = vec![CertificateDer::from(dev.cert.der())];
            if send_ca {
                chain.push(CertificateDer::from(pool.cas[dev.ca].cert.der()));
            }
            let d = reg.decide(&chain, sni.then_some(ENDPOINT), now);
            assert_eq!(d.certificate_id, Some(dev.cert.id()));
            if let Some(e) = &d.event {
                assert_eq!(e.certificate_id, dev.cert.id());
                assert_eq!(Some(e.ca_certificate_id), d.ca_certificate_id);
            }
            Outcome::Decision {
                reason: d.reason_code(),
                registered_under: if d.registered() {
                    d.ca_certificate_id.map(|id| ca_index(pool, &id))
                } else {
                    None
                },
                event: d.event.as_ref().map(|e| {
                    (
                        e.timestamp.unix_millis(),
                        e.certificate_registration_timestamp.unix_millis(),
                    )
                }),
            }
        }
        Op::RegisterCertificate {
            device: n,
            send_ca,
            status,
        } => {
            let dev = device(n);
            let req = RegisterCertificateRequest {
                certificate_pem: dev.pem.clone(),
                ca_certificate_pem: send_ca.then(|| pool.cas[dev.ca].pem.clone()),
                status: Some(status_of(status)),
            };
            outcome(reg.register_certificate(&req, now).map(|_| ()))
        }
        Op::RegisterWithoutCa { device: n, status } => {
            let req = RegisterCertificateRequest {
                certificate_pem: device(n).pem.clone(),
                ca_certificate_pem: None,
                status: Some(status_of(status)),
            };
            outcome(reg.register_certificate_without_ca(&req, now).map(|_| ()))
        }
        Op::UpdateCertificate { device: n, status } => outcome(
            reg.update_certificate(&device(n).cert.id(), status_of(status), now)
                .map(|_| ()),
        ),
        Op::DeleteCertificate { device: n } => {
            outcome(reg.delete_certificate(&device(n).cert.id(), false))
        }
        Op::Advance { .. } => Outcome::Ok,
    }
}

/// The registry's exported state must be exactly the model's: the same CAs and
/// certificates (so nothing twice), statuses, versions and CA links.
fn check_state(reg: &Registry, pool: &Pool, model: &Model, context: &str) {
    let state = reg.export_state().expect("the state exports");
    let mut cas = BTreeMap::new();
    for c in &state.ca_certificates {
        let m = ModelCa {
            active: c.status == CaStatus::Active,
            auto: c.auto_registration_status == AutoRegistrationStatus::Enable,
            sni_only: c.certificate_mode == CertificateMode::SniOnly,
            version: c.customer_version,
        };
        assert!(
            cas.insert(ca_index(pool, &c.certificate_id), m).is_none(),
            "{context}: a CA is listed twice"
        );
    }
    assert_eq!(cas, model.cas, "{context}: CA certificates");
    let mut certs = BTreeMap::new();
    for c in &state.certificates {
        let m = ModelCert {
            status: c.status,
            version: c.customer_version,
            ca: c.ca_certificate_id.map(|id| ca_index(pool, &id)),
            registered_at: c.creation_date,
        };
        assert!(
            certs
                .insert(device_index(pool, &c.certificate_id), m)
                .is_none(),
            "{context}: a certificate is listed twice"
        );
    }
    assert_eq!(certs, model.certs, "{context}: device certificates");
    assert_eq!(reg.certificate_count(), model.certs.len(), "{context}");
    assert_eq!(reg.ca_certificate_count(), model.cas.len(), "{context}");
}

/// The `registry_ops` body: operations from `data` until it runs out (at most
/// [`MAX_OPS`]), each checked against the model.
pub fn run(data: &[u8]) {
    let pool = pool();
    let scope = Scope::new("123456789012", "us-east-1").expect("a valid scope");
    let reg = Registry::new(scope)
        .with_registration_code(CODE)
        .expect("a valid registration code");
    let mut model = Model::default();
    let mut now = Timestamp::from_unix_secs(T0);
    let mut u = Unstructured::new(data);
    let mut step = 0;
    while !u.is_empty() && step < MAX_OPS {
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        let context = format!("step {step}: {op:?} at {}", now.unix_secs());
        let expected = model.apply(pool, op, now);
        let got = perform(&reg, pool, op, now);
        assert_eq!(got, expected, "{context}");
        check_state(&reg, pool, &model, &context);
        if let Op::Advance { hours } = op {
            now = Timestamp::from_unix_secs(now.unix_secs() + i64::from(hours % 1440) * 3600);
        }
        step += 1;
    }
}
