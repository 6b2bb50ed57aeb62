//! Path validation: from a leaf to the registered CA that signed it.
//!
//! The flow (`super`) asks [`verify_leaf`] once it knows candidates exist; the index
//! ([`CaIndex::signer`]) answers "which registered CA signed this leaf?" for every caller,
//! with the check each one needs. [`Registry::verify_path`] is the entry point for
//! conformance suites only: the same validation with the knobs those suites need.
//!
//! **Names** (RFC 5280 §7.1). Candidates are found by the leaf's issuer prepared as RFC
//! 4518 says (the index's [`NameKey`]), so a CA whose subject is encoded differently from
//! the leaf's issuer is still a candidate. rustls-webpki matches names byte for byte, so
//! each candidate is handed to it as a trust anchor whose subject is the leaf's own issuer
//! bytes, with the CA's key and name constraints: webpki reads nothing else of an anchor,
//! and the CA's key must still verify the leaf's signature. Through intermediates
//! (conformance only) the same is done for each certificate of the chain whose issuer
//! matches a registered CA; between intermediates webpki's byte-exact matching stays.
//!
//! **What jitr adds to webpki** (the `cert::profile` module says what webpki 0.103 leaves
//! out): every issuer on the path, the registered CA included, must be allowed to sign
//! certificates (a keyUsage extension, when present, asserts keyCertSign; RFC 5280
//! §4.2.1.3, §6.1.4(n)): webpki ignores keyUsage when it builds a path and reads a trust
//! anchor as a name and a key only. With [`PathOptions::rfc5280_profile`] (conformance
//! suites) every certificate of the path must also follow RFC 5280 §4's profile.
//! Both checks run on each path webpki finds (its `verify_path` callback), so a path that
//! breaks them makes webpki look for another.

use std::cell::RefCell;
use std::sync::Arc;

use rustls_pki_types::{CertificateDer, Der, SignatureVerificationAlgorithm, TrustAnchor};

use super::refusal::{RefusalReason, Whose};
use crate::cert::profile::{self, Place};
use crate::cert::{Certificate, NameKey, MAX_CHAIN_LEN};
use crate::registry::index::{CaEntry, CaIndex, NoSigner};
use crate::registry::Registry;
use crate::time::Timestamp;
use crate::CertificateId;

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

/// A device certificate as path validation reads it. Lives on the stack once per
/// decision; boxing the large variant would add an allocation to every new device.
#[allow(clippy::large_enum_variant)]
pub(super) enum Leaf<'a> {
    /// Read by webpki (X.509 v3).
    Parsed(webpki::EndEntityCert<'a>),
    /// An X.509 v1 certificate, which webpki does not read.
    V1(Certificate),
}

impl<'a> Leaf<'a> {
    /// Parses the leaf; X.509 v1 only if `accept_v1`.
    pub(super) fn parse(
        der: &'a CertificateDer<'a>,
        accept_v1: bool,
    ) -> Result<Self, RefusalReason> {
        match webpki::EndEntityCert::try_from(der) {
            Ok(ee) => Ok(Self::Parsed(ee)),
            Err(webpki::Error::UnsupportedCertVersion) if accept_v1 => {
                let cert = Certificate::from_der(der).map_err(|e| {
                    RefusalReason::MalformedCertificate {
                        detail: e.message(),
                    }
                })?;
                if cert.version() != 1 {
                    return Err(RefusalReason::MalformedCertificate {
                        detail: format!("unsupported certificate version {}", cert.version()),
                    });
                }
                Ok(Self::V1(cert))
            }
            Err(e) => Err(RefusalReason::MalformedCertificate {
                detail: webpki_detail(&e),
            }),
        }
    }

    /// The issuer name prepared for the CA index (RFC 5280 §7.1): computed once per leaf.
    pub(super) fn issuer_key(&self) -> NameKey {
        match self {
            Self::Parsed(ee) => NameKey::of_contents(ee.issuer()),
            Self::V1(cert) => cert.issuer().key().clone(),
        }
    }
}

/// Why one candidate CA did not pass.
struct Failure {
    reason: RefusalReason,
    /// The CA's key verified the path; a rule checked after that refused it. Says more
    /// than any other candidate's failure.
    after_signature: bool,
}

impl From<RefusalReason> for Failure {
    fn from(reason: RefusalReason) -> Self {
        Self {
            reason,
            after_signature: false,
        }
    }
}

/// A refusal from a rule checked once the signatures verified.
fn after_signature(detail: String) -> Failure {
    Failure {
        reason: RefusalReason::InvalidCertificate { detail },
        after_signature: true,
    }
}

/// Step 5: the one registered CA that directly signed `leaf` (whose prepared issuer name
/// is `issuer`), with the leaf valid now and (v3) allowed for `options.eku`, and the CA
/// allowed to sign certificates. A v1 leaf has no extensions, so there is no EKU or
/// constraint to check: its signature is verified with the CA's key (x509-parser and
/// ring) and its validity window read.
pub(super) fn verify_leaf(
    leaf: &Leaf<'_>,
    issuer: &NameKey,
    chain: &[CertificateDer<'_>],
    options: PathOptions,
    now: Timestamp,
    index: &CaIndex,
) -> Result<Arc<CaEntry>, RefusalReason> {
    let found = match leaf {
        Leaf::Parsed(ee) => {
            let usage = match options.eku {
                RequiredEku::ClientAuth => webpki::KeyUsage::client_auth(),
                RequiredEku::ServerAuth => webpki::KeyUsage::server_auth(),
            };
            if options.allow_intermediates && chain.len() > 1 {
                return verify_through_intermediates(ee, chain, usage, options, now, index);
            }
            // Only the directly signing CA counts: no intermediates are offered to webpki.
            index.signer(issuer, chain, |c| {
                let anchor = anchor_named(c, ee.issuer());
                ee.verify_for_usage(
                    SIGNATURE_ALGORITHMS,
                    core::slice::from_ref(&anchor),
                    &[],
                    now.to_unix_time(),
                    usage,
                    None,
                    None,
                )
                .map_err(|e| webpki_refusal(Some(e)))?;
                check_signer(c, chain.first().map(|d| d.as_ref()), options)
            })
        }
        Leaf::V1(cert) => {
            let expired = RefusalReason::for_validity(&cert.validity(), now, Whose::Device);
            index.signer(issuer, chain, |c| {
                if let Some(r) = &expired {
                    return Err(r.clone().into());
                }
                cert.is_signed_by(&c.cert)
                    .map_err(|_| RefusalReason::BadSignature)?;
                check_signer(c, Some(cert.der()), options)
            })
        }
    };
    found.map_err(|no| match no {
        NoSigner::Unknown => RefusalReason::UnknownIssuer,
        NoSigner::Ambiguous(candidates) => RefusalReason::AmbiguousCa { candidates },
        NoSigner::Failed(errors) => errors
            .into_iter()
            .max_by_key(|f| (f.after_signature, f.reason.rank()))
            .map(|f| f.reason)
            .unwrap_or(RefusalReason::UnknownIssuer),
    })
}

/// The CA as the trust anchor webpki needs to chain a certificate whose issuer is
/// `issuer` (DER contents): that name (which matches the CA's subject, RFC 5280 §7.1),
/// the CA's key and its name constraints. Borrowed: nothing is copied.
fn anchor_named<'a>(c: &'a CaEntry, issuer: &'a [u8]) -> TrustAnchor<'a> {
    TrustAnchor {
        subject: Der::from(issuer),
        subject_public_key_info: Der::from(c.anchor.subject_public_key_info.as_ref()),
        name_constraints: c
            .anchor
            .name_constraints
            .as_ref()
            .map(|nc| Der::from(nc.as_ref())),
    }
}

/// The rules a direct signer must pass once webpki (or, for a v1 leaf, jitr) verified the
/// leaf with its key: the CA may sign certificates; with the RFC 5280 profile, the leaf
/// and the CA follow it.
fn check_signer(c: &CaEntry, leaf: Option<&[u8]>, options: PathOptions) -> Result<(), Failure> {
    if !c.may_sign {
        return Err(after_signature(profile::no_key_cert_sign(
            Place::RegisteredCa,
        )));
    }
    if options.rfc5280_profile {
        if let Some(leaf) = leaf {
            profile::rfc5280(leaf, Place::Device).map_err(after_signature)?;
        }
        profile::rfc5280(c.cert.der(), Place::RegisteredCa).map_err(after_signature)?;
    }
    Ok(())
}

impl Registry {
    /// Path validation, exactly as the JITR decision does it, with the knobs a
    /// conformance suite needs: which EKU the leaf must allow, whether intermediates
    /// may stand between the leaf and a registered CA (JITR: never), whether RFC 5280's
    /// certificate profile applies, and how many certificates are read. Returns the
    /// registered CA the path ends at. Status rules (of the CA or the certificate) do not
    /// apply here; bounds do.
    ///
    /// **For conformance suites** (x509-limbo): the decision itself does not call this
    /// entry point but the same path validation behind it, with
    /// [`PathOptions::default`].
    pub fn verify_path(
        &self,
        chain: &[CertificateDer<'_>],
        options: PathOptions,
        now: Timestamp,
    ) -> Result<CertificateId, RefusalReason> {
        let leaf = super::check_bounds(chain, options.max_chain_len)
            .map_err(|d| d.refusal.unwrap_or(RefusalReason::NoCertificate))?;
        let accept_v1 = self.config().accept_v1_device_certificates
            && !(options.allow_intermediates && chain.len() > 1);
        let leaf = Leaf::parse(leaf, accept_v1)?;
        let issuer = leaf.issuer_key();
        verify_leaf(&leaf, &issuer, chain, options, now, &self.caches.ca_index).map(|c| c.id)
    }
}

/// What webpki returns when jitr's own check refuses a path it found: an error it never
/// raises itself here (no CRLs are given), so jitr knows the refusal is its own.
const JITR_REFUSED: webpki::Error = webpki::Error::UnsupportedCrlVersion;

/// The path may pass through the chain's intermediates: the candidate anchors are the
/// registered CAs whose subject matches the issuer of the leaf or of any intermediate
/// (index lookups, never a scan), each named as that certificate names its issuer, and
/// webpki builds the path; jitr's checks run on each path it finds.
fn verify_through_intermediates(
    ee: &webpki::EndEntityCert<'_>,
    chain: &[CertificateDer<'_>],
    usage: webpki::KeyUsage,
    options: PathOptions,
    now: Timestamp,
    index: &CaIndex,
) -> Result<Arc<CaEntry>, RefusalReason> {
    let parsed: Vec<webpki::EndEntityCert<'_>> = chain[1..]
        .iter()
        .filter_map(|c| webpki::EndEntityCert::try_from(c).ok())
        .collect();
    let issuers = core::iter::once(ee.issuer()).chain(parsed.iter().map(|c| c.issuer()));
    let mut named: Vec<(Arc<CaEntry>, &[u8])> = Vec::new();
    for issuer in issuers {
        if named.iter().any(|(_, n)| *n == issuer) {
            continue;
        }
        for e in index.candidates(&NameKey::of_contents(issuer)).iter() {
            named.push((e.clone(), issuer));
        }
    }
    if named.is_empty() {
        return Err(RefusalReason::UnknownIssuer);
    }
    let anchors: Vec<TrustAnchor<'_>> = named.iter().map(|(e, n)| anchor_named(e, n)).collect();
    let entry_of = |anchor: &TrustAnchor<'_>| {
        anchors
            .iter()
            .position(|a| core::ptr::eq(a, anchor))
            .map(|i| named[i].0.clone())
    };
    let refused: RefCell<Option<String>> = RefCell::new(None);
    let check = |path: &webpki::VerifiedPath<'_>| -> Result<(), webpki::Error> {
        let verdict = (|| {
            let ca = entry_of(path.anchor()).ok_or("the path ends at no registered CA")?;
            if !ca.may_sign {
                return Err(profile::no_key_cert_sign(Place::RegisteredCa));
            }
            for (i, cert) in path.intermediate_certificates().enumerate() {
                profile::issuer_may_sign(cert.der().as_ref(), Place::Intermediate(i + 1))?;
            }
            if options.rfc5280_profile {
                profile::rfc5280(chain[0].as_ref(), Place::Device)?;
                for (i, cert) in path.intermediate_certificates().enumerate() {
                    profile::rfc5280(cert.der().as_ref(), Place::Intermediate(i + 1))?;
                }
                profile::rfc5280(ca.cert.der(), Place::RegisteredCa)?;
            }
            Ok(())
        })();
        verdict.map_err(|problem: String| {
            *refused.borrow_mut() = Some(problem);
            JITR_REFUSED
        })
    };
    match ee.verify_for_usage(
        SIGNATURE_ALGORITHMS,
        &anchors,
        &chain[1..],
        now.to_unix_time(),
        usage,
        None,
        Some(&check),
    ) {
        Ok(path) => entry_of(path.anchor()).ok_or(RefusalReason::UnknownIssuer),
        Err(e) if e == JITR_REFUSED => Err(RefusalReason::InvalidCertificate {
            detail: refused
                .into_inner()
                .unwrap_or_else(|| webpki_detail(&JITR_REFUSED)),
        }),
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PathOptions {
    /// The EKU the leaf must allow.
    pub eku: RequiredEku,
    /// Whether intermediates sent in the chain may stand between the leaf and a
    /// registered CA. JITR: false (only the CA that directly signed the leaf counts).
    pub allow_intermediates: bool,
    /// Whether every certificate of the path must also follow the certificate profile of
    /// RFC 5280 §4, the rules for what conforming CAs issue: an authorityKeyIdentifier
    /// with a keyIdentifier in every certificate but the registered CA and self-issued
    /// ones, non-critical key identifiers, a subjectKeyIdentifier, a critical
    /// basicConstraints and a keyUsage in every CA certificate, keyCertSign and
    /// nameConstraints only with cA, a critical subjectAltName when the subject is empty,
    /// dNSNames and dNSName constraints in the preferred name syntax, non-empty issuer
    /// and CA subject names, nameConstraints with a subtree. JITR: false, as AWS IoT
    /// accepts device certificates without these (an authorityKeyIdentifier is often
    /// missing; X.509 v1 certificates have no extensions at all). Conformance suites that
    /// test RFC 5280 turn it on.
    pub rfc5280_profile: bool,
    /// The most certificates read from the chain. JITR: [`MAX_CHAIN_LEN`], checked before
    /// anything is parsed; rustls-webpki bounds the work of building a path (at most six
    /// intermediates in a path, 100 signatures, 200,000 path-building steps) however long
    /// the chain.
    pub max_chain_len: usize,
}

impl Default for PathOptions {
    fn default() -> Self {
        Self {
            eku: RequiredEku::default(),
            allow_intermediates: false,
            rfc5280_profile: false,
            max_chain_len: MAX_CHAIN_LEN,
        }
    }
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

    /// These options with RFC 5280's certificate profile checked or not.
    pub fn with_rfc5280_profile(mut self, check: bool) -> Self {
        self.rfc5280_profile = check;
        self
    }

    /// These options reading at most `len` certificates of a chain.
    pub fn with_max_chain_len(mut self, len: usize) -> Self {
        self.max_chain_len = len;
        self
    }
}

/// webpki's error as a refusal.
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
            detail: webpki_detail(&e),
        },
    }
}

/// webpki's reason in words (its `Debug` names, which are the ones its documentation
/// uses: `UnsupportedCriticalExtension`, `CaUsedAsEndEntity`, ...).
fn webpki_detail(e: &webpki::Error) -> String {
    format!("{e:?}")
}

impl RefusalReason {
    /// Which of several candidates' refusals says most about the certificate (webpki's
    /// own ordering is private): a validity problem, then a signature problem, then any
    /// other path-validation failure, then an unknown issuer.
    fn rank(&self) -> u32 {
        match self {
            Self::CertificateExpired { .. } | Self::CertificateNotYetValid { .. } => 3,
            Self::BadSignature => 2,
            Self::UnknownIssuer => 0,
            _ => 1,
        }
    }
}
