//! The model: the registry's rules small enough to read in one go, over pool indexes.

use std::collections::BTreeMap;

use jitr_core::{Certificate, CertificateStatus, RefusalReason, Timestamp, ValidityCheck};

use crate::pool::{Pool, REGISTRABLE_CAS};
use crate::{status_of, Op, Outcome};

/// A CA as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ModelCa {
    pub(crate) active: bool,
    pub(crate) auto: bool,
    pub(crate) sni_only: bool,
    pub(crate) version: u64,
}

/// A device certificate as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ModelCert {
    pub(crate) status: CertificateStatus,
    pub(crate) version: u64,
    /// Pool index of its CA, if registered with one.
    pub(crate) ca: Option<usize>,
    pub(crate) registered_at: Timestamp,
}

#[derive(Default)]
pub(crate) struct Model {
    pub(crate) cas: BTreeMap<usize, ModelCa>,
    pub(crate) certs: BTreeMap<usize, ModelCert>,
}

impl Model {
    pub(crate) fn apply(&mut self, pool: &Pool, op: Op, now: Timestamp) -> Outcome {
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
                // docs/behaviour.md §3 order: the CA (valid now), the proof of possession, then duplicates.
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
                if let Some(refused) = refuse_registered_status(status) {
                    return refused;
                }
                if send_ca {
                    if !self.cas.contains_key(&dev.ca) {
                        return STATE;
                    }
                } else {
                    let same_subject = self
                        .cas
                        .keys()
                        .any(|i| pool.cas[*i].cert.subject().matches(dev.cert.issuer()));
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
                self.register_new(d, status, Some(dev.ca), now)
            }
            Op::RegisterWithoutCa { device, status } => {
                let d = usize::from(device) % pool.devices.len();
                let status = status_of(status);
                if let Some(refused) = refuse_registered_status(status) {
                    return refused;
                }
                self.register_new(d, status, None, now)
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

    /// Stores device `d`, unless it is already registered.
    fn register_new(
        &mut self,
        d: usize,
        status: CertificateStatus,
        ca: Option<usize>,
        now: Timestamp,
    ) -> Outcome {
        if self.certs.contains_key(&d) {
            return Outcome::Err("ResourceAlreadyExistsException");
        }
        let record = ModelCert {
            status,
            version: 1,
            ca,
            registered_at: now,
        };
        self.certs.insert(d, record);
        Outcome::Ok
    }

    /// The decision (docs/behaviour.md §6), in the order the manual gives.
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
        let refuse = |reason: RefusalReason| Outcome::Decision {
            refusal: Some(reason),
            registered_under: None,
            event: None,
        };
        let leaf_validity = || {
            let v = dev.cert.validity();
            match v.check(now) {
                ValidityCheck::Valid => None,
                ValidityCheck::Expired => Some(RefusalReason::CertificateExpired {
                    not_after: v.not_after,
                }),
                ValidityCheck::NotYetValid => Some(RefusalReason::CertificateNotYetValid {
                    not_before: v.not_before,
                }),
            }
        };
        // 2. A registered leaf is decided by its record.
        if let Some(m) = self.certs.get(&d) {
            return match m.status {
                Active => match leaf_validity() {
                    None => Outcome::Decision {
                        refusal: None,
                        registered_under: None,
                        event: None,
                    },
                    Some(r) => refuse(r),
                },
                PendingActivation => Outcome::Decision {
                    refusal: Some(RefusalReason::PendingActivation),
                    registered_under: None,
                    event: m
                        .ca
                        .map(|_| (now.unix_millis(), m.registered_at.unix_millis())),
                },
                Inactive => refuse(RefusalReason::CertificateInactive),
                Revoked => refuse(RefusalReason::CertificateRevoked),
                PendingTransfer => refuse(RefusalReason::CertificatePendingTransfer),
                RegisterInactive => refuse(RefusalReason::CertificateRegisterInactive),
                other => panic!("the model does not know the status {other:?}"),
            };
        }
        // 3. Candidates by subject (RFC 5280 §7.1 matching); a sent CA narrows them.
        let mut candidates: Vec<usize> = self
            .cas
            .keys()
            .copied()
            .filter(|i| pool.cas[*i].cert.subject().matches(dev.cert.issuer()))
            .collect();
        if candidates.is_empty() {
            return refuse(RefusalReason::UnknownIssuer);
        }
        // 4. A leaf alone needs SNI (SNI would not help an unknown issuer).
        if !send_ca && !sni {
            return refuse(RefusalReason::SniRequired);
        }
        if send_ca && candidates.contains(&dev.ca) {
            candidates = vec![dev.ca];
        }
        // 5. Path validation: the leaf's validity and EKU, then the signature.
        if let Some(r) = leaf_validity() {
            return refuse(r);
        }
        if dev.server_auth_only {
            return refuse(RefusalReason::EkuNotClientAuth);
        }
        if !candidates.contains(&dev.ca) {
            return refuse(RefusalReason::BadSignature);
        }
        // 6. The CA.
        let ca = self.cas[&dev.ca];
        if !ca.active {
            return refuse(RefusalReason::CaInactive);
        }
        if !ca.auto {
            return refuse(RefusalReason::AutoRegistrationDisabled);
        }
        if ca.sni_only && !sni {
            return refuse(RefusalReason::CaRequiresSni);
        }
        let v = pool.cas[dev.ca].cert.validity();
        match v.check(now) {
            ValidityCheck::Valid => {}
            ValidityCheck::Expired => {
                return refuse(RefusalReason::CaExpired {
                    not_after: v.not_after,
                })
            }
            ValidityCheck::NotYetValid => {
                return refuse(RefusalReason::CaNotYetValid {
                    not_before: v.not_before,
                })
            }
        }
        // 7. Registered, once.
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
            refusal: Some(RefusalReason::RegisteredPendingActivation),
            registered_under: Some(dev.ca),
            event: Some((now.unix_millis(), now.unix_millis())),
        }
    }
}

/// The statuses RegisterCertificate(WithoutCA) refuses, and how.
fn refuse_registered_status(status: CertificateStatus) -> Option<Outcome> {
    use CertificateStatus::*;
    match status {
        PendingActivation => Some(Outcome::Err("CertificateStateException")),
        PendingTransfer | RegisterInactive => Some(Outcome::Err("InvalidRequestException")),
        _ => None,
    }
}
