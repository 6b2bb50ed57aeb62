//! The JITR decision on one connection (docs/behaviour.md §6), step by step as
//! [`crate::manual`] numbers it: the flow is here, the reasons in [`refusal`], path
//! validation in [`path`].

mod path;
mod refusal;

use rustls_pki_types::CertificateDer;

use super::index::CaEntry;
use super::Registry;
use crate::cert::{MAX_CERTIFICATE_DER_LEN, MAX_CHAIN_LEN};
use crate::event::RegistrationEvent;
use crate::id::CertificateId;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::store::{CertRow, Change, Meta};
use crate::time::Timestamp;

use path::Leaf;
pub use path::{PathOptions, RequiredEku};
use refusal::Whose;
pub use refusal::{Decision, RefusalReason};

/// How the connection reached this registry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route<'a> {
    pub(crate) server_name: Option<&'a str>,
    /// Whether the SNI selected this account (needed to reach `SNI_ONLY` CAs).
    pub(crate) named_by_sni: bool,
}

impl Registry {
    /// The JITR decision for one connection (docs/behaviour.md §6).
    ///
    /// `chain` is what the client presented, leaf first (its CA and intermediates are
    /// optional); `server_name` is the SNI host name, if any; `now` the current time.
    /// A `Registry` used alone treats any SNI as naming its account; a
    /// [`Directory`](crate::Directory) routes by SNI first.
    ///
    /// An unknown leaf directly signed by a registered, `ACTIVE` CA with auto-registration
    /// `ENABLE` is registered `PENDING_ACTIVATION` and its event published to the sink and
    /// returned; the connection is refused. Concurrent first connections of one leaf
    /// register it once.
    pub fn decide(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: Option<&str>,
        now: Timestamp,
    ) -> Decision {
        crate::Router::decide(self, chain, server_name, now)
    }

    pub(crate) fn decide_routed(
        &self,
        chain: &[CertificateDer<'_>],
        route: Route<'_>,
        now: Timestamp,
    ) -> Decision {
        // 1. Bounds, before anything is parsed.
        let leaf = match check_bounds(chain, MAX_CHAIN_LEN) {
            Ok(leaf) => leaf,
            Err(d) => return d,
        };
        let leaf_id = CertificateId::of_der(leaf);
        // 2. A registered leaf is decided by its record alone.
        if let Some(decision) = self.decide_known(&leaf_id, now) {
            return decision;
        }
        // 3.–5. Unknown: the registered CA that directly signed it.
        let (ca, validity) = match self.find_signing_ca(leaf, chain, &leaf_id, route, now) {
            Ok(found) => found,
            Err(d) => return d,
        };
        let refuse = |reason| Decision::refuse(reason).with_ids(leaf_id, Some(ca.id));
        // 6. The CA must allow auto-registration and be reachable this way.
        if ca.status != CaStatus::Active {
            return refuse(RefusalReason::CaInactive);
        }
        if ca.auto_registration != AutoRegistrationStatus::Enable {
            return refuse(RefusalReason::AutoRegistrationDisabled);
        }
        if ca.mode == CertificateMode::SniOnly && !route.named_by_sni {
            return refuse(RefusalReason::CaRequiresSni);
        }
        if let Some(reason) = RefusalReason::for_validity(&ca.validity, now, Whose::Ca) {
            return refuse(reason);
        }
        // 7. Register and publish, once: inside the store's write transaction a
        // certificate that is already there (another connection or node registered it
        // first) is decided from its row instead.
        let row = CertRow {
            certificate_id: leaf_id,
            certificate_pem: crate::cert::der_to_pem(leaf),
            ca_certificate_id: Some(ca.id),
            status: CertificateStatus::PendingActivation,
            certificate_mode: ca.mode,
            validity,
            previous_owned_by: None,
            transfer_data: None,
            meta: Meta::new(now),
        };
        // A CA with a registration config provisions the device in the same commit
        // (behaviour §13): all of it, or the registration alone and why not.
        let leaf_cert = if ca.jitp {
            match crate::cert::Certificate::from_der(leaf) {
                Ok(c) => Some(c),
                Err(e) => {
                    return refuse(RefusalReason::MalformedCertificate {
                        detail: e.message(),
                    })
                }
            }
        } else {
            None
        };
        let outcome = self.commit(|r| match r.certificate(&self.scope, &leaf_id)? {
            Some(existing) => Ok((Known(existing), Vec::new())),
            None => {
                let mut changes = vec![Change::CertificateRegistered(row.clone())];
                let Some(cert) = &leaf_cert else {
                    return Ok((Registered(None), changes));
                };
                let ca_row = r
                    .ca(&self.scope, &ca.id)?
                    .ok_or_else(|| Self::ca_not_found(&ca.id))?;
                match self.provision(r, &ca_row, cert, &row, now)? {
                    Ok((more, done)) => {
                        changes.extend(more);
                        Ok((Registered(Some(Ok(done))), changes))
                    }
                    Err(failure) => {
                        changes.push(Self::failure_change(failure.clone(), leaf_id, ca.id, now));
                        Ok((Registered(Some(Err(failure))), changes))
                    }
                }
            }
        });
        match outcome {
            Ok(Registered(provisioned)) => {
                let event = RegistrationEvent::new(leaf_id, ca.id, self.scope.account(), now, now);
                self.publish(&event);
                let refusal = match provisioned {
                    None => RefusalReason::RegisteredPendingActivation,
                    Some(Ok(done)) => RefusalReason::Provisioned {
                        thing_name: done.thing_name,
                        policy_names: done.policy_names,
                        status: done.status,
                    },
                    Some(Err(failure)) => RefusalReason::ProvisioningFailed {
                        code: failure.code,
                        detail: failure.message,
                    },
                };
                Decision {
                    certificate_id: Some(leaf_id),
                    ca_certificate_id: Some(ca.id),
                    refusal: Some(refusal),
                    event: Some(event),
                }
            }
            Ok(Known(existing)) => self.decide_status(
                &leaf_id,
                existing.ca_certificate_id,
                existing.status,
                &existing.validity,
                existing.meta.creation_date,
                now,
            ),
            Err(_) => refuse(RefusalReason::StoreUnavailable),
        }
    }

    /// Protocol mode's handshake check (what AWS does during the TLS handshake): the
    /// leaf is registered (in any status), or it is directly signed by a registered CA
    /// (in any status) and valid now. Nothing is registered or published and no status
    /// rule applies: the host asks [`decide`](Self::decide) when the device sends its
    /// MQTT CONNECT. Returns the refusal otherwise.
    pub fn authenticate(
        &self,
        chain: &[CertificateDer<'_>],
        server_name: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Decision> {
        crate::Router::authenticate(self, chain, server_name, now)
    }

    pub(crate) fn authenticate_routed(
        &self,
        chain: &[CertificateDer<'_>],
        route: Route<'_>,
        now: Timestamp,
    ) -> Result<(), Decision> {
        let leaf = check_bounds(chain, MAX_CHAIN_LEN)?;
        let leaf_id = CertificateId::of_der(leaf);
        if super::read(self.caches.shard(&leaf_id))
            .hot(&leaf_id)
            .is_some()
        {
            return Ok(());
        }
        self.find_signing_ca(leaf, chain, &leaf_id, route, now)
            .map(|_| ())
    }

    /// Step 2: the decision for a registered leaf, or `None` if it is not registered.
    /// An `ACTIVE` certificate is decided from its hot entry alone; while the store is
    /// unreachable, [`StoreOutage`](crate::StoreOutage) says whether known certificates
    /// still connect.
    fn decide_known(&self, id: &CertificateId, now: Timestamp) -> Option<Decision> {
        let shard = super::read(self.caches.shard(id));
        let hot = shard.hot(id)?;
        let registered_at = shard.registered_at(id).unwrap_or(now);
        drop(shard);
        if self.config.store_outage == crate::StoreOutage::RefuseAll && !self.store_available() {
            return Some(
                Decision::refuse(RefusalReason::StoreUnavailable)
                    .with_ids(*id, self.caches.ca_of_slot(hot.ca_slot())),
            );
        }
        Some(self.decide_status(
            id,
            self.caches.ca_of_slot(hot.ca_slot()),
            hot.status(),
            &hot.validity(),
            registered_at,
            now,
        ))
    }

    /// A registered certificate's decision from its status: `ACTIVE` and valid now is
    /// allowed; `PENDING_ACTIVATION` publishes the event again.
    fn decide_status(
        &self,
        id: &CertificateId,
        ca_id: Option<CertificateId>,
        status: CertificateStatus,
        validity: &crate::time::Validity,
        registered_at: Timestamp,
        now: Timestamp,
    ) -> Decision {
        let reason = match status {
            CertificateStatus::Active => RefusalReason::for_validity(validity, now, Whose::Device),
            CertificateStatus::PendingActivation => {
                let event = ca_id.map(|ca| {
                    RegistrationEvent::new(*id, ca, self.scope.account(), now, registered_at)
                });
                if let Some(event) = &event {
                    self.publish(event);
                }
                return Decision {
                    certificate_id: Some(*id),
                    ca_certificate_id: ca_id,
                    refusal: Some(RefusalReason::PendingActivation),
                    event,
                };
            }
            CertificateStatus::Inactive => Some(RefusalReason::CertificateInactive),
            CertificateStatus::Revoked => Some(RefusalReason::CertificateRevoked),
            CertificateStatus::PendingTransfer => Some(RefusalReason::CertificatePendingTransfer),
            CertificateStatus::RegisterInactive => Some(RefusalReason::CertificateRegisterInactive),
        };
        Decision {
            certificate_id: Some(*id),
            ca_certificate_id: ca_id,
            refusal: reason,
            event: None,
        }
    }

    /// Steps 3–5: the one registered CA that directly signed `leaf`, and the leaf's
    /// validity window (for its record).
    fn find_signing_ca(
        &self,
        leaf: &CertificateDer<'_>,
        chain: &[CertificateDer<'_>],
        leaf_id: &CertificateId,
        route: Route<'_>,
        now: Timestamp,
    ) -> Result<(CaSnapshot, crate::time::Validity), Decision> {
        let refuse = |reason| Decision::refuse(reason).with_ids(*leaf_id, None);
        // 3. Read the leaf; the registered CAs whose subject matches its issuer (RFC 5280
        // §7.1, prepared once here) are the candidates.
        let parsed =
            Leaf::parse(leaf, self.config.accept_v1_device_certificates).map_err(refuse)?;
        let issuer = parsed.issuer_key();
        let index = &self.caches.ca_index;
        if index.candidates(&issuer).is_empty() {
            return Err(refuse(RefusalReason::UnknownIssuer));
        }
        // 4. Without the CA in the chain, AWS needs SNI to find the account. Checked
        // before any signature is verified: the cheaper refusal first.
        if chain.len() == 1 && route.server_name.is_none() && self.config.require_sni_for_leaf_only
        {
            return Err(refuse(RefusalReason::SniRequired));
        }
        // 5. Path validation against each candidate alone.
        let ca = path::verify_leaf(&parsed, &issuer, chain, PathOptions::default(), now, index)
            .map(|c| CaSnapshot::from(&*c))
            .map_err(refuse)?;
        let validity = match &parsed {
            Leaf::V1(cert) => cert.validity(),
            // webpki verified the certificate; a shallow parse reads its validity window.
            Leaf::Parsed(_) => crate::cert::validity_of_der(leaf).map_err(|e| {
                Decision::refuse(RefusalReason::MalformedCertificate {
                    detail: e.message(),
                })
                .with_ids(*leaf_id, Some(ca.id))
            })?,
        };
        Ok((ca, validity))
    }
}

/// Bounds the work before anything is parsed: the chain's length (at most `max_len`
/// certificates; the decision's is [`MAX_CHAIN_LEN`]) and each certificate's size.
/// Returns the leaf.
fn check_bounds<'a, 'b>(
    chain: &'a [CertificateDer<'b>],
    max_len: usize,
) -> Result<&'a CertificateDer<'b>, Decision> {
    let Some(leaf) = chain.first() else {
        return Err(Decision::refuse(RefusalReason::NoCertificate));
    };
    if chain.len() > max_len {
        return Err(Decision::refuse(RefusalReason::ChainTooLong {
            len: chain.len(),
        }));
    }
    if let Some((index, c)) = chain
        .iter()
        .enumerate()
        .find(|(_, c)| c.len() > MAX_CERTIFICATE_DER_LEN)
    {
        return Err(Decision::refuse(RefusalReason::CertificateTooLarge {
            index,
            len: c.len(),
        }));
    }
    Ok(leaf)
}

/// What the registration's transaction found.
enum Registration {
    /// Another connection or node registered the certificate first.
    Known(crate::store::CertRow),
    /// This one registered it (and, for a JITP CA, provisioned it or not).
    Registered(Option<Result<super::Provisioned, super::provisioning::ProvisioningFailureRow>>),
}
use Registration::{Known, Registered};

/// What the decision needs of the CA after the snapshot guard is dropped.
struct CaSnapshot {
    id: CertificateId,
    status: CaStatus,
    auto_registration: AutoRegistrationStatus,
    mode: CertificateMode,
    validity: crate::time::Validity,
    jitp: bool,
}

impl From<&CaEntry> for CaSnapshot {
    fn from(c: &CaEntry) -> Self {
        Self {
            id: c.id,
            status: c.status,
            auto_registration: c.auto_registration,
            mode: c.mode,
            validity: c.validity,
            jitp: c.jitp,
        }
    }
}
