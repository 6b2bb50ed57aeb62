//! A model of jitr's registry, and a harness that runs one sequence of operations against
//! both the model and a real [`Registry`]: after every operation the outcome (success or
//! error code; a connection's typed refusal, registration and event) and the whole
//! exported state (statuses, `customerVersion`s, CA links, nothing twice) must be the
//! model's.
//!
//! One model, two drivers: the `registry_ops` fuzz target (`fuzz/src/lib.rs`, sequences
//! drawn by `arbitrary` from the fuzzer's bytes: [`run`]) and the property tests
//! (`tests/tests/properties.rs`, sequences drawn by proptest, which add invariants of
//! their own on top). The rules the model follows are those of `docs/behaviour.md`
//! §3–§6, in the order `jitr_core::manual` gives.
//!
//! The certificates come from a fixed [`pool`], so an operation is a few small numbers
//! and the drivers explore orders of operations rather than certificate bytes (the other
//! fuzz targets do that).
//!
//! It depends on jitr-core (which the certificate-only `jitr-testkit` must not), so
//! jitr-core's own integration tests cannot use it; the property tests live in
//! `jitr-tests` for that reason.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{
    AutoRegistrationStatus, CaStatus, CertificateId, CertificateMode, CertificateStatus, Decision,
    RefusalReason, RegisterCaCertificateRequest, RegisterCertificateRequest, Registry, Scope,
    Timestamp, UpdateCaCertificateRequest,
};

mod model;
mod pool;

use model::{Model, ModelCa, ModelCert};
pub use pool::{pool, Pool, PoolCa, PoolDevice, REGISTRABLE_CAS};

/// The registration code of the harness's registry (what verification certificates
/// carry).
pub const CODE: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";
/// 2026-06-01T00:00:00Z, the first operation's time.
pub const T0: i64 = 1_780_272_000;
/// At most this many operations per fuzz input.
pub const MAX_OPS: usize = 64;
/// The SNI a connection sends when it sends one.
pub const ENDPOINT: &str = "model-ats.iot.us-east-1.amazonaws.com";

/// One operation; indexes pick from the [`pool`] (modulo its size).
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

/// What an operation returned: success, an error code, or a connection's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The operation succeeded.
    Ok,
    /// The operation failed with this error code.
    Err(&'static str),
    /// A connection's decision.
    Decision {
        /// Why it was refused; `None` when allowed.
        refusal: Option<RefusalReason>,
        /// The pool index of the CA the certificate was registered under, if this
        /// decision registered it.
        registered_under: Option<usize>,
        /// The event's `timestamp` and `certificateRegistrationTimestamp` (ms).
        event: Option<(i64, i64)>,
    },
}

/// The certificate status a number picks (modulo the number of statuses).
pub fn status_of(n: u8) -> CertificateStatus {
    let all = CertificateStatus::ALL;
    all[usize::from(n) % all.len()]
}

/// A registry and the model, kept in step.
pub struct Harness {
    reg: Registry,
    model: Model,
    now: Timestamp,
    steps: usize,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// An empty registry (account 123456789012, us-east-1, registration code [`CODE`])
    /// at [`T0`].
    pub fn new() -> Self {
        let scope = Scope::new("123456789012", "us-east-1").expect("a valid scope");
        let reg = Registry::new(scope)
            .with_registration_code(CODE)
            .expect("a valid registration code");
        Self {
            reg,
            model: Model::default(),
            now: Timestamp::from_unix_secs(T0),
            steps: 0,
        }
    }

    /// The real registry.
    pub fn registry(&self) -> &Registry {
        &self.reg
    }

    /// The time of the next operation.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Runs `op` on the registry and on the model and panics unless they agree, in what
    /// the operation returned and in the whole state after it. Returns the outcome and,
    /// for a connection, the registry's decision.
    pub fn step(&mut self, op: Op) -> (Outcome, Option<Decision>) {
        let pool = pool();
        let context = format!("step {}: {op:?} at {}", self.steps, self.now.unix_secs());
        let expected = self.model.apply(pool, op, self.now);
        let (got, decision) = perform(&self.reg, pool, op, self.now);
        assert_eq!(got, expected, "{context}");
        check_state(&self.reg, pool, &self.model, &context);
        if let Op::Advance { hours } = op {
            self.now =
                Timestamp::from_unix_secs(self.now.unix_secs() + i64::from(hours % 1440) * 3600);
        }
        self.steps += 1;
        (got, decision)
    }
}

/// The `registry_ops` fuzz body: operations drawn from `data` until it runs out (at most
/// [`MAX_OPS`]), each checked against the model.
pub fn run(data: &[u8]) {
    let mut h = Harness::new();
    let mut u = Unstructured::new(data);
    while !u.is_empty() && h.steps < MAX_OPS {
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        h.step(op);
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

/// Runs `op` on the registry: what it returned, and the decision of a connection.
fn perform(reg: &Registry, pool: &Pool, op: Op, now: Timestamp) -> (Outcome, Option<Decision>) {
    let outcome = |r: Result<(), jitr_core::Error>| match r {
        Ok(()) => (Outcome::Ok, None),
        Err(e) => (Outcome::Err(e.code()), None),
    };
    let device = |n: u8| &pool.devices[usize::from(n) % pool.devices.len()];
    let ca = |n: u8| &pool.cas[usize::from(n) % REGISTRABLE_CAS];
    // RegisterCertificate's request for device `n`, with its CA's PEM if `send_ca`.
    let cert_request = |n: u8, send_ca: bool, status: u8| {
        let dev = device(n);
        RegisterCertificateRequest {
            certificate_pem: dev.pem.clone(),
            ca_certificate_pem: send_ca.then(|| pool.cas[dev.ca].pem.clone()),
            status: Some(status_of(status)),
        }
    };
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
            let outcome = Outcome::Decision {
                refusal: d.refusal.clone(),
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
            };
            (outcome, Some(d))
        }
        Op::RegisterCertificate {
            device: n,
            send_ca,
            status,
        } => {
            let req = cert_request(n, send_ca, status);
            outcome(reg.register_certificate(&req, now).map(|_| ()))
        }
        Op::RegisterWithoutCa { device: n, status } => {
            let req = cert_request(n, false, status);
            outcome(reg.register_certificate_without_ca(&req, now).map(|_| ()))
        }
        Op::UpdateCertificate { device: n, status } => outcome(
            reg.update_certificate(&device(n).cert.id(), status_of(status), now)
                .map(|_| ()),
        ),
        Op::DeleteCertificate { device: n } => {
            outcome(reg.delete_certificate(&device(n).cert.id(), false))
        }
        Op::Advance { .. } => (Outcome::Ok, None),
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
