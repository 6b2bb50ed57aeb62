//! Path validation: from a leaf to the registered CA that signed it.
//!
//! The flow (`super`) asks [`verify_leaf`] once it knows candidates exist; the index
//! ([`CaIndex::signer`]) answers "which registered CA signed this leaf?" for every caller,
//! with the check each one needs. [`Registry::verify_path`] is the entry point for
//! conformance suites only: the same validation with the knobs those suites need.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm};

use super::refusal::{RefusalReason, Whose};
use crate::cert::Certificate;
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

    /// The issuer name's DER contents, the key of the CA index.
    pub(super) fn issuer(&self) -> &[u8] {
        match self {
            Self::Parsed(ee) => ee.issuer(),
            Self::V1(cert) => cert.issuer().der_contents().unwrap_or_default(),
        }
    }
}

/// Step 5: the one registered CA that directly signed `leaf`, with the leaf valid now
/// and (v3) allowed for `options.eku`. A v1 leaf has no extensions, so there is no EKU or
/// constraint to check: its signature is verified with the CA's key (x509-parser and
/// ring) and its validity window read.
pub(super) fn verify_leaf(
    leaf: &Leaf<'_>,
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
                return verify_through_intermediates(ee, chain, usage, now, index);
            }
            // Only the directly signing CA counts: no intermediates are offered to webpki.
            index.signer(ee.issuer(), chain, |c| {
                ee.verify_for_usage(
                    SIGNATURE_ALGORITHMS,
                    core::slice::from_ref(&c.anchor),
                    &[],
                    now.to_unix_time(),
                    usage,
                    None,
                    None,
                )
                .map(|_| ())
                .map_err(|e| webpki_refusal(Some(e)))
            })
        }
        Leaf::V1(cert) => {
            let expired = RefusalReason::for_validity(&cert.validity(), now, Whose::Device);
            index.signer(leaf.issuer(), chain, |c| match &expired {
                Some(r) => Err(r.clone()),
                None => cert
                    .is_signed_by(&c.cert)
                    .map_err(|_| RefusalReason::BadSignature),
            })
        }
    };
    found.map_err(|no| match no {
        NoSigner::Unknown => RefusalReason::UnknownIssuer,
        NoSigner::Ambiguous(candidates) => RefusalReason::AmbiguousCa { candidates },
        NoSigner::Failed(errors) => errors
            .into_iter()
            .max_by_key(RefusalReason::rank)
            .unwrap_or(RefusalReason::UnknownIssuer),
    })
}

impl Registry {
    /// Path validation, exactly as the JITR decision does it, with the knobs a
    /// conformance suite needs: which EKU the leaf must allow, and whether intermediates
    /// may stand between the leaf and a registered CA (JITR: never). Returns the
    /// registered CA the path ends at. Status rules (of the CA or the certificate) do not
    /// apply here; bounds do.
    ///
    /// **For conformance suites** (x509-limbo): the decision itself does not call this
    /// entry point but the same path validation behind it.
    pub fn verify_path(
        &self,
        chain: &[CertificateDer<'_>],
        options: PathOptions,
        now: Timestamp,
    ) -> Result<CertificateId, RefusalReason> {
        let leaf = super::check_bounds(chain)
            .map_err(|d| d.refusal.unwrap_or(RefusalReason::NoCertificate))?;
        let accept_v1 = self.config().accept_v1_device_certificates
            && !(options.allow_intermediates && chain.len() > 1);
        let leaf = Leaf::parse(leaf, accept_v1)?;
        verify_leaf(&leaf, chain, options, now, &self.caches.ca_index).map(|c| c.id)
    }
}

/// The path may pass through the chain's intermediates: the candidate anchors are the
/// registered CAs named as issuer by the leaf or by any intermediate (index lookups, never
/// a scan), and webpki builds the path.
fn verify_through_intermediates(
    ee: &webpki::EndEntityCert<'_>,
    chain: &[CertificateDer<'_>],
    usage: webpki::KeyUsage,
    now: Timestamp,
    index: &CaIndex,
) -> Result<Arc<CaEntry>, RefusalReason> {
    let mut entries: Vec<Arc<CaEntry>> = index.candidates(ee.issuer()).to_vec();
    for c in &chain[1..] {
        if let Ok(cert) = webpki::EndEntityCert::try_from(c) {
            for e in index.candidates(cert.issuer()).iter() {
                if !entries.iter().any(|x| x.id == e.id) {
                    entries.push(e.clone());
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
