//! The JITR decision on one connection (docs/behaviour.md §6).

use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm};

use super::index::CaEntry;
use super::{CertRecord, Meta, Registry};
use crate::cert::{Certificate, MAX_CERTIFICATE_DER_LEN, MAX_CHAIN_LEN};
use crate::event::RegistrationEvent;
use crate::id::CertificateId;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::time::{Timestamp, ValidityCheck};

/// What JITR decided about one connection.
///
/// Allowed when [`refusal`](Self::refusal) is `None`. A refusal that registered the
/// certificate, or found it still pending, carries the [`event`](Self::event) that was
/// published.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The leaf's certificate ID, when the chain had a leaf.
    pub certificate_id: Option<CertificateId>,
    /// The CA: the registered certificate's CA, or the CA that matched an unknown leaf.
    pub ca_certificate_id: Option<CertificateId>,
    /// Why the connection is refused; `None` when it is allowed.
    pub refusal: Option<RefusalReason>,
    /// The registration event published by this decision, if any.
    pub event: Option<RegistrationEvent>,
}

impl Decision {
    /// Whether the connection may proceed.
    pub fn is_allowed(&self) -> bool {
        self.refusal.is_none()
    }

    /// The refusal's machine code, `None` when allowed.
    pub fn reason_code(&self) -> Option<&'static str> {
        self.refusal.as_ref().map(RefusalReason::code)
    }

    /// A sentence for people: why the connection was refused, or that it was allowed.
    pub fn message(&self) -> String {
        match &self.refusal {
            None => "the certificate is registered and ACTIVE; the connection is allowed".into(),
            Some(r) => r.message(),
        }
    }

    /// Whether this decision registered the certificate.
    pub fn registered(&self) -> bool {
        self.refusal == Some(RefusalReason::RegisteredPendingActivation)
    }

    pub(crate) fn refuse(reason: RefusalReason) -> Self {
        Self {
            certificate_id: None,
            ca_certificate_id: None,
            refusal: Some(reason),
            event: None,
        }
    }

    fn with_ids(mut self, leaf: CertificateId, ca: Option<CertificateId>) -> Self {
        self.certificate_id = Some(leaf);
        self.ca_certificate_id = ca;
        self
    }
}

/// Why a connection was refused. Each reason has a stable [`code`](Self::code) and a
/// human [`message`](Self::message) — the diagnosis AWS never gives.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The client sent no certificate.
    NoCertificate,
    /// The chain has more certificates than jitr reads.
    ChainTooLong {
        /// Certificates sent.
        len: usize,
    },
    /// A certificate in the chain is larger than jitr reads.
    CertificateTooLarge {
        /// Its position in the chain (0 = leaf).
        index: usize,
        /// Its size in bytes.
        len: usize,
    },
    /// The leaf is not a well-formed X.509 certificate.
    MalformedCertificate {
        /// What is wrong.
        detail: String,
    },
    /// The unknown certificate was registered as `PENDING_ACTIVATION` by this decision and
    /// the registration event published; the device may connect once it is activated.
    RegisteredPendingActivation,
    /// The certificate is `PENDING_ACTIVATION`; the event was published again.
    PendingActivation,
    /// The certificate is `INACTIVE`.
    CertificateInactive,
    /// The certificate is `REVOKED`.
    CertificateRevoked,
    /// The certificate is `PENDING_TRANSFER`.
    CertificatePendingTransfer,
    /// The certificate is `REGISTER_INACTIVE`.
    CertificateRegisterInactive,
    /// The certificate's validity ended.
    CertificateExpired {
        /// Its notAfter.
        not_after: Timestamp,
    },
    /// The certificate's validity has not begun.
    CertificateNotYetValid {
        /// Its notBefore.
        not_before: Timestamp,
    },
    /// No registered CA has the leaf's issuer as its subject.
    UnknownIssuer,
    /// Registered CAs have the leaf's issuer name, but none of their keys verifies the
    /// leaf's signature (a forged or mis-issued certificate).
    BadSignature,
    /// Several registered CAs with the same subject and key verify the leaf, and the
    /// chain does not say which one is meant.
    AmbiguousCa {
        /// How many CAs verify the leaf.
        candidates: usize,
    },
    /// The chain is the leaf alone and the client sent no SNI: JITR needs the CA in the
    /// chain or SNI to find the account.
    SniRequired,
    /// The signing CA is `INACTIVE`.
    CaInactive,
    /// The signing CA has auto-registration `DISABLE`.
    AutoRegistrationDisabled,
    /// The signing CA's validity ended.
    CaExpired {
        /// Its notAfter.
        not_after: Timestamp,
    },
    /// The signing CA's validity has not begun.
    CaNotYetValid {
        /// Its notBefore.
        not_before: Timestamp,
    },
    /// The signing CA is `SNI_ONLY` and the connection did not name its account by SNI.
    CaRequiresSni,
    /// The leaf has an extended key usage extension without `clientAuth`.
    EkuNotClientAuth,
    /// The leaf fails another path-validation rule.
    InvalidCertificate {
        /// What webpki reported.
        detail: String,
    },
    /// No account serves the SNI host name, and there is no default account.
    UnknownServerName {
        /// The host name sent.
        server_name: String,
    },
    /// No SNI was sent and there is no default account.
    NoAccount,
}

impl RefusalReason {
    /// The stable machine code, e.g. `"UNKNOWN_ISSUER"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCertificate => "NO_CERTIFICATE",
            Self::ChainTooLong { .. } => "CHAIN_TOO_LONG",
            Self::CertificateTooLarge { .. } => "CERTIFICATE_TOO_LARGE",
            Self::MalformedCertificate { .. } => "MALFORMED_CERTIFICATE",
            Self::RegisteredPendingActivation => "REGISTERED_PENDING_ACTIVATION",
            Self::PendingActivation => "PENDING_ACTIVATION",
            Self::CertificateInactive => "CERTIFICATE_INACTIVE",
            Self::CertificateRevoked => "CERTIFICATE_REVOKED",
            Self::CertificatePendingTransfer => "CERTIFICATE_PENDING_TRANSFER",
            Self::CertificateRegisterInactive => "CERTIFICATE_REGISTER_INACTIVE",
            Self::CertificateExpired { .. } => "CERTIFICATE_EXPIRED",
            Self::CertificateNotYetValid { .. } => "CERTIFICATE_NOT_YET_VALID",
            Self::UnknownIssuer => "UNKNOWN_ISSUER",
            Self::BadSignature => "BAD_SIGNATURE",
            Self::AmbiguousCa { .. } => "AMBIGUOUS_CA",
            Self::SniRequired => "SNI_REQUIRED",
            Self::CaInactive => "CA_INACTIVE",
            Self::AutoRegistrationDisabled => "AUTO_REGISTRATION_DISABLED",
            Self::CaExpired { .. } => "CA_EXPIRED",
            Self::CaNotYetValid { .. } => "CA_NOT_YET_VALID",
            Self::CaRequiresSni => "CA_REQUIRES_SNI",
            Self::EkuNotClientAuth => "EKU_NOT_CLIENT_AUTH",
            Self::InvalidCertificate { .. } => "INVALID_CERTIFICATE",
            Self::UnknownServerName { .. } => "UNKNOWN_SERVER_NAME",
            Self::NoAccount => "NO_ACCOUNT",
        }
    }

    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            Self::NoCertificate => "the client sent no certificate; JITR needs a device certificate".into(),
            Self::ChainTooLong { len } => format!(
                "the client sent {len} certificates; at most {MAX_CHAIN_LEN} are read"
            ),
            Self::CertificateTooLarge { index, len } => format!(
                "certificate {index} of the chain is {len} bytes; at most {MAX_CERTIFICATE_DER_LEN} are read"
            ),
            Self::MalformedCertificate { detail } => {
                format!("the device certificate is not a well-formed X.509 certificate: {detail}")
            }
            Self::RegisteredPendingActivation => "the certificate was unknown and signed by a CA with auto-registration enabled: it is now registered as PENDING_ACTIVATION and the registration event was published; it may connect once it is activated".into(),
            Self::PendingActivation => "the certificate is PENDING_ACTIVATION: it waits for the activation handler; the registration event was published again".into(),
            Self::CertificateInactive => "the certificate is registered but INACTIVE".into(),
            Self::CertificateRevoked => "the certificate is REVOKED".into(),
            Self::CertificatePendingTransfer => "the certificate is PENDING_TRANSFER to another account".into(),
            Self::CertificateRegisterInactive => "the certificate is REGISTER_INACTIVE".into(),
            Self::CertificateExpired { not_after } => {
                format!("the device certificate expired at {not_after}")
            }
            Self::CertificateNotYetValid { not_before } => {
                format!("the device certificate is not valid before {not_before}")
            }
            Self::UnknownIssuer => "no registered CA certificate is the issuer of this certificate (only the CA that directly signed it counts; register that CA)".into(),
            Self::BadSignature => "a registered CA certificate has this certificate's issuer name, but its key does not verify the certificate's signature".into(),
            Self::AmbiguousCa { candidates } => format!(
                "{candidates} registered CA certificates with the same subject and key verify this certificate; send the CA certificate in the chain to choose one"
            ),
            Self::SniRequired => "the client sent its certificate alone and no SNI: send the CA certificate in the chain or connect with SNI".into(),
            Self::CaInactive => "the certificate's CA is registered but INACTIVE, so it is not auto-registered".into(),
            Self::AutoRegistrationDisabled => "the certificate's CA has auto-registration DISABLE, so it is not auto-registered".into(),
            Self::CaExpired { not_after } => format!("the certificate's CA expired at {not_after}"),
            Self::CaNotYetValid { not_before } => {
                format!("the certificate's CA is not valid before {not_before}")
            }
            Self::CaRequiresSni => "the certificate's CA is registered in SNI_ONLY mode; connect with the SNI of its account's endpoint".into(),
            Self::EkuNotClientAuth => "the certificate has an extended key usage extension without clientAuth".into(),
            Self::InvalidCertificate { detail } => {
                format!("the certificate fails path validation: {detail}")
            }
            Self::UnknownServerName { server_name } => format!(
                "no account serves the host name {:?} and there is no default account",
                crate::id::truncate_for_message(server_name)
            ),
            Self::NoAccount => "the client sent no SNI and there is no default account".into(),
        }
    }
}

/// Signature algorithms accepted in device and CA certificates.
static SIGNATURE_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

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
        self.decide_routed(
            chain,
            Route {
                server_name,
                named_by_sni: server_name.is_some(),
            },
            now,
        )
    }

    pub(crate) fn decide_routed(
        &self,
        chain: &[CertificateDer<'_>],
        route: Route<'_>,
        now: Timestamp,
    ) -> Decision {
        let leaf = match check_bounds(chain) {
            Ok(leaf) => leaf,
            Err(d) => return d,
        };
        let leaf_id = CertificateId::of_der(leaf);

        // 1. A registered leaf is decided by its record alone.
        if let Some(decision) = self.decide_known(&leaf_id, now) {
            return decision;
        }
        // 2. Unknown: find the CA that directly signed it.
        let ca = match self.find_signing_ca(leaf, chain, &leaf_id, route, now) {
            Ok(ca) => ca,
            Err(d) => return d,
        };
        let refuse = |reason| Decision::refuse(reason).with_ids(leaf_id, Some(ca.id));
        // 5. The CA must allow auto-registration and be reachable this way.
        if ca.status != CaStatus::Active {
            return refuse(RefusalReason::CaInactive);
        }
        if ca.auto_registration != AutoRegistrationStatus::Enable {
            return refuse(RefusalReason::AutoRegistrationDisabled);
        }
        if ca.mode == CertificateMode::SniOnly && !route.named_by_sni {
            return refuse(RefusalReason::CaRequiresSni);
        }
        match ca.validity.check(now) {
            ValidityCheck::Valid => {}
            ValidityCheck::Expired => {
                return refuse(RefusalReason::CaExpired {
                    not_after: ca.validity.not_after,
                })
            }
            ValidityCheck::NotYetValid => {
                return refuse(RefusalReason::CaNotYetValid {
                    not_before: ca.validity.not_before,
                })
            }
        }
        // 6. Register and publish. webpki verified the certificate; a shallow parse reads
        // its validity window for the record.
        let validity = match crate::cert::validity_of_der(leaf) {
            Ok(v) => v,
            Err(e) => {
                return Decision::refuse(RefusalReason::MalformedCertificate {
                    detail: e.message().to_string(),
                })
                .with_ids(leaf_id, Some(ca.id))
            }
        };
        let (ca_id, mode) = (ca.id, ca.mode);
        let record = CertRecord {
            der: leaf.as_ref().into(),
            validity,
            ca_id: Some(ca_id),
            status: CertificateStatus::PendingActivation,
            mode,
            previous_owned_by: None,
            transfer_data: None,
            meta: Meta::new(now),
        };
        // 7. Of concurrent first connections one inserts; the others find the record
        // and are decided as for a known leaf.
        if !self.insert_record(leaf_id, record) {
            if let Some(d) = self.decide_known(&leaf_id, now) {
                return d;
            }
            // Deleted again in between: refuse, register nothing more.
            return Decision::refuse(RefusalReason::CertificateInactive)
                .with_ids(leaf_id, Some(ca_id));
        }
        let event = RegistrationEvent::new(leaf_id, ca_id, self.scope.account(), now, now);
        self.publish(&event);
        Decision {
            certificate_id: Some(leaf_id),
            ca_certificate_id: Some(ca_id),
            refusal: Some(RefusalReason::RegisteredPendingActivation),
            event: Some(event),
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
        self.authenticate_routed(
            chain,
            Route {
                server_name,
                named_by_sni: server_name.is_some(),
            },
            now,
        )
    }

    pub(crate) fn authenticate_routed(
        &self,
        chain: &[CertificateDer<'_>],
        route: Route<'_>,
        now: Timestamp,
    ) -> Result<(), Decision> {
        let leaf = check_bounds(chain)?;
        let leaf_id = CertificateId::of_der(leaf);
        if super::read(self.shard(&leaf_id)).contains(&leaf_id) {
            return Ok(());
        }
        self.find_signing_ca(leaf, chain, &leaf_id, route, now)
            .map(|_| ())
    }

    fn publish(&self, event: &RegistrationEvent) {
        if let Some(sink) = &self.sink {
            sink.publish(&event.topic(), event);
        }
    }

    /// Step 1: the decision for a registered leaf, or `None` if it is not registered.
    /// An `ACTIVE` certificate is decided from its 12-byte hot entry alone.
    fn decide_known(&self, id: &CertificateId, now: Timestamp) -> Option<Decision> {
        let hot = super::read(self.shard(id)).hot(id)?;
        let status = hot.status();
        let ca_id = self.ca_of_slot(hot.ca_slot());
        let reason = match status {
            CertificateStatus::Active => leaf_validity(&hot.validity(), now).err(),
            CertificateStatus::PendingActivation => {
                let registered_at = super::read(self.shard(id))
                    .get(id)
                    .map_or(now, |r| r.meta.creation_date);
                let event = ca_id.map(|ca| {
                    RegistrationEvent::new(*id, ca, self.scope.account(), now, registered_at)
                });
                if let Some(event) = &event {
                    self.publish(event);
                }
                return Some(Decision {
                    certificate_id: Some(*id),
                    ca_certificate_id: ca_id,
                    refusal: Some(RefusalReason::PendingActivation),
                    event,
                });
            }
            CertificateStatus::Inactive => Some(RefusalReason::CertificateInactive),
            CertificateStatus::Revoked => Some(RefusalReason::CertificateRevoked),
            CertificateStatus::PendingTransfer => Some(RefusalReason::CertificatePendingTransfer),
            CertificateStatus::RegisterInactive => Some(RefusalReason::CertificateRegisterInactive),
        };
        Some(Decision {
            certificate_id: Some(*id),
            ca_certificate_id: ca_id,
            refusal: reason,
            event: None,
        })
    }

    /// Steps 2–4: the one registered CA that directly signed `leaf`.
    fn find_signing_ca(
        &self,
        leaf: &CertificateDer<'_>,
        chain: &[CertificateDer<'_>],
        leaf_id: &CertificateId,
        route: Route<'_>,
        now: Timestamp,
    ) -> Result<CaSnapshot, Decision> {
        let refuse = |reason| Decision::refuse(reason).with_ids(*leaf_id, None);
        let parsed = webpki::EndEntityCert::try_from(leaf);
        let v1 = matches!(parsed, Err(webpki::Error::UnsupportedCertVersion))
            && self.config.accept_v1_device_certificates;
        let ee = match parsed {
            Ok(ee) => Some(ee),
            Err(_) if v1 => None,
            Err(e) => {
                return Err(refuse(RefusalReason::MalformedCertificate {
                    detail: e.to_string(),
                }))
            }
        };
        // 4. Without the CA in the chain, AWS needs SNI to find the account. Checked
        // before any signature is verified: the cheapest refusal first.
        if chain.len() == 1 && route.server_name.is_none() && self.config.require_sni_for_leaf_only
        {
            return Err(refuse(RefusalReason::SniRequired));
        }
        let index = self.ca_index.load();
        let found = match &ee {
            Some(ee) => self.verify_parsed(ee, chain, PathOptions::default(), now, &index),
            None => verify_v1_leaf(leaf, chain, now, &index),
        };
        found.map(CaSnapshot::from).map_err(refuse)
    }

    /// Path validation, exactly as the JITR decision does it, with the knobs a
    /// conformance suite needs: which EKU the leaf must allow, and whether intermediates
    /// may stand between the leaf and a registered CA (JITR: never). Returns the
    /// registered CA the path ends at. Status rules (of the CA or the certificate) do not
    /// apply here; bounds do.
    pub fn verify_path(
        &self,
        chain: &[CertificateDer<'_>],
        options: PathOptions,
        now: Timestamp,
    ) -> Result<CertificateId, RefusalReason> {
        let leaf =
            check_bounds(chain).map_err(|d| d.refusal.unwrap_or(RefusalReason::NoCertificate))?;
        let index = self.ca_index.load();
        match webpki::EndEntityCert::try_from(leaf) {
            Ok(ee) => self.verify_parsed(&ee, chain, options, now, &index),
            Err(webpki::Error::UnsupportedCertVersion)
                if self.config.accept_v1_device_certificates
                    && !(options.allow_intermediates && chain.len() > 1) =>
            {
                verify_v1_leaf(leaf, chain, now, &index)
            }
            Err(e) => Err(RefusalReason::MalformedCertificate {
                detail: e.to_string(),
            }),
        }
        .map(|c| c.id)
    }

    fn verify_parsed<'i>(
        &self,
        ee: &webpki::EndEntityCert<'_>,
        chain: &[CertificateDer<'_>],
        options: PathOptions,
        now: Timestamp,
        index: &'i super::index::CaIndex,
    ) -> Result<&'i CaEntry, RefusalReason> {
        let usage = match options.eku {
            RequiredEku::ClientAuth => webpki::KeyUsage::client_auth(),
            RequiredEku::ServerAuth => webpki::KeyUsage::server_auth(),
        };
        if options.allow_intermediates && chain.len() > 1 {
            return verify_through_intermediates(ee, chain, usage, now, index);
        }
        let mut candidates: Vec<&CaEntry> = index.candidates(ee.issuer()).iter().collect();
        if candidates.is_empty() {
            return Err(RefusalReason::UnknownIssuer);
        }
        // A CA certificate the client sent narrows several candidates to itself.
        narrow_by_chain(&mut candidates, chain);
        // 3. Only the directly signing CA counts: no intermediates are offered to webpki.
        let mut verified: Vec<&CaEntry> = Vec::new();
        let mut best: Option<webpki::Error> = None;
        for c in candidates {
            match ee.verify_for_usage(
                SIGNATURE_ALGORITHMS,
                core::slice::from_ref(&c.anchor),
                &[],
                now.to_unix_time(),
                usage,
                None,
                None,
            ) {
                Ok(_) => verified.push(c),
                Err(e) => {
                    if best.as_ref().map_or(true, |b| e.rank() > b.rank()) {
                        best = Some(e);
                    }
                }
            }
        }
        match verified.as_slice() {
            [one] => Ok(one),
            [] => Err(webpki_refusal(best)),
            many => Err(RefusalReason::AmbiguousCa {
                candidates: many.len(),
            }),
        }
    }
}

/// A v1 device certificate (no extensions), which webpki does not read: the candidates
/// come from the same index, a CA sent in the chain narrows them the same way, and the
/// leaf must be directly signed by one of them (x509-parser and ring verify the
/// signature) and valid now. A v1 certificate has no extensions, so there is no EKU or
/// constraint to check.
fn verify_v1_leaf<'i>(
    leaf: &CertificateDer<'_>,
    chain: &[CertificateDer<'_>],
    now: Timestamp,
    index: &'i super::index::CaIndex,
) -> Result<&'i CaEntry, RefusalReason> {
    let cert = Certificate::from_der(leaf).map_err(|e| RefusalReason::MalformedCertificate {
        detail: e.message().to_string(),
    })?;
    if cert.version() != 1 {
        return Err(RefusalReason::MalformedCertificate {
            detail: format!("unsupported certificate version {}", cert.version()),
        });
    }
    let issuer = cert
        .issuer()
        .der_contents()
        .ok_or(RefusalReason::UnknownIssuer)?;
    let mut candidates: Vec<&CaEntry> = index.candidates(issuer).iter().collect();
    if candidates.is_empty() {
        return Err(RefusalReason::UnknownIssuer);
    }
    narrow_by_chain(&mut candidates, chain);
    leaf_validity(&cert.validity(), now)?;
    let verified: Vec<&CaEntry> = candidates
        .into_iter()
        .filter(|c| cert.is_signed_by(&c.cert).is_ok())
        .collect();
    match verified.as_slice() {
        [one] => Ok(one),
        [] => Err(RefusalReason::BadSignature),
        many => Err(RefusalReason::AmbiguousCa {
            candidates: many.len(),
        }),
    }
}

/// The device certificate's validity at `now`, as a refusal when outside it.
fn leaf_validity(v: &crate::time::Validity, now: Timestamp) -> Result<(), RefusalReason> {
    match v.check(now) {
        ValidityCheck::Valid => Ok(()),
        ValidityCheck::Expired => Err(RefusalReason::CertificateExpired {
            not_after: v.not_after,
        }),
        ValidityCheck::NotYetValid => Err(RefusalReason::CertificateNotYetValid {
            not_before: v.not_before,
        }),
    }
}

/// When several registered CAs share the leaf's issuer name, a CA certificate the client
/// sent (by certificate ID) narrows them to itself. With one candidate nothing is hashed.
fn narrow_by_chain(candidates: &mut Vec<&CaEntry>, chain: &[CertificateDer<'_>]) {
    if candidates.len() < 2 {
        return;
    }
    let sent: Vec<CertificateId> = chain
        .iter()
        .skip(1)
        .map(|c| CertificateId::of_der(c))
        .collect();
    if let Some(c) = candidates.iter().find(|c| sent.contains(&c.id)) {
        *candidates = vec![*c];
    }
}

/// The path may pass through the chain's intermediates: the candidate anchors are the
/// registered CAs named as issuer by the leaf or by any intermediate (index lookups, never
/// a scan), and webpki builds the path.
fn verify_through_intermediates<'i>(
    ee: &webpki::EndEntityCert<'_>,
    chain: &[CertificateDer<'_>],
    usage: webpki::KeyUsage,
    now: Timestamp,
    index: &'i super::index::CaIndex,
) -> Result<&'i CaEntry, RefusalReason> {
    let mut entries: Vec<&CaEntry> = index.candidates(ee.issuer()).iter().collect();
    for c in &chain[1..] {
        if let Ok(cert) = webpki::EndEntityCert::try_from(c) {
            for e in index.candidates(cert.issuer()) {
                if !entries.iter().any(|x| x.id == e.id) {
                    entries.push(e);
                }
            }
        }
    }
    if entries.is_empty() {
        return Err(RefusalReason::UnknownIssuer);
    }
    let anchors: Vec<_> = entries.iter().map(|e| e.anchor.clone()).collect();
    match ee.verify_for_usage(
        SIGNATURE_ALGORITHMS,
        &anchors,
        &chain[1..],
        now.to_unix_time(),
        usage,
        None,
        None,
    ) {
        Ok(path) => {
            let won = path.anchor();
            entries
                .into_iter()
                .find(|e| {
                    e.anchor.subject == won.subject
                        && e.anchor.subject_public_key_info == won.subject_public_key_info
                })
                .ok_or(RefusalReason::UnknownIssuer)
        }
        Err(e) => Err(webpki_refusal(Some(e))),
    }
}

/// Which extended key usage a leaf must allow. As RFC 5280 and webpki have it, the
/// requirement applies only when the leaf has an EKU extension: device certificates
/// without one are accepted, as AWS does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequiredEku {
    /// `id-kp-clientAuth` (device certificates: what JITR requires).
    #[default]
    ClientAuth,
    /// `id-kp-serverAuth` (for conformance suites written for servers).
    ServerAuth,
}

/// Options of [`Registry::verify_path`]. The default is what the JITR decision uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PathOptions {
    /// The EKU the leaf must allow.
    pub eku: RequiredEku,
    /// Whether intermediates sent in the chain may stand between the leaf and a
    /// registered CA. JITR: false (only the CA that directly signed the leaf counts).
    pub allow_intermediates: bool,
}

impl PathOptions {
    /// These options with another required EKU.
    pub fn with_eku(mut self, eku: RequiredEku) -> Self {
        self.eku = eku;
        self
    }

    /// These options with intermediates allowed or not.
    pub fn with_intermediates(mut self, allow: bool) -> Self {
        self.allow_intermediates = allow;
        self
    }
}

/// Bounds the work before anything is parsed: the chain's length and each certificate's
/// size. Returns the leaf.
fn check_bounds<'a, 'b>(
    chain: &'a [CertificateDer<'b>],
) -> Result<&'a CertificateDer<'b>, Decision> {
    let Some(leaf) = chain.first() else {
        return Err(Decision::refuse(RefusalReason::NoCertificate));
    };
    if chain.len() > MAX_CHAIN_LEN {
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

/// What the decision needs of the CA after the snapshot guard is dropped.
struct CaSnapshot {
    id: CertificateId,
    status: CaStatus,
    auto_registration: AutoRegistrationStatus,
    mode: CertificateMode,
    validity: crate::time::Validity,
}

impl From<&CaEntry> for CaSnapshot {
    fn from(c: &CaEntry) -> Self {
        Self {
            id: c.id,
            status: c.status,
            auto_registration: c.auto_registration,
            mode: c.mode,
            validity: c.validity,
        }
    }
}

fn webpki_refusal(err: Option<webpki::Error>) -> RefusalReason {
    use webpki::Error as E;
    let secs = |t: rustls_pki_types::UnixTime| Timestamp::from_unix_secs(t.as_secs() as i64);
    match err {
        Some(E::InvalidSignatureForPublicKey) => RefusalReason::BadSignature,
        Some(E::CertExpired { not_after, .. }) => RefusalReason::CertificateExpired {
            not_after: secs(not_after),
        },
        Some(E::CertNotValidYet { not_before, .. }) => RefusalReason::CertificateNotYetValid {
            not_before: secs(not_before),
        },
        #[allow(deprecated)]
        Some(E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_)) => {
            RefusalReason::EkuNotClientAuth
        }
        Some(E::UnknownIssuer) | None => RefusalReason::UnknownIssuer,
        Some(e) => RefusalReason::InvalidCertificate {
            detail: format!("{e:?}"),
        },
    }
}

trait Rank {
    fn rank(&self) -> u32;
}

impl Rank for webpki::Error {
    /// Prefers the error that says most about the certificate (webpki's own ordering is
    /// private): a signature or validity problem over an unknown issuer.
    fn rank(&self) -> u32 {
        use webpki::Error as E;
        match self {
            E::CertExpired { .. } | E::CertNotValidYet { .. } => 3,
            E::InvalidSignatureForPublicKey => 2,
            E::UnknownIssuer => 0,
            _ => 1,
        }
    }
}
