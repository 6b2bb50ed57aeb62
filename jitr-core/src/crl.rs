//! Certificate revocation lists: parsed once, checked against their CA, looked up in O(1).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::cert::{looks_like_pem, Certificate};
use crate::error::Error;
use crate::id::CertificateId;
use crate::time::Timestamp;

/// The largest CRL accepted, in DER bytes (16 MiB: room for a few hundred thousand
/// entries).
pub const MAX_CRL_DER_LEN: usize = 16 * 1024 * 1024;

/// A parsed certificate revocation list.
///
/// Parsing keeps what activation needs: the issuer, the update times, the revoked
/// serial numbers (in a hash set: lookups are O(1)) and the DER, so that
/// [`Crl::verify_issued_by`] can check the signature against a CA.
#[derive(Clone, Debug)]
pub struct Crl {
    der: Arc<[u8]>,
    issuer_der: Vec<u8>,
    issuer: String,
    this_update: Timestamp,
    next_update: Option<Timestamp>,
    revoked: HashSet<Box<[u8]>>,
}

/// What to do with a CRL whose `nextUpdate` has passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StaleCrlPolicy {
    /// Refuse to activate (with a reason) until a fresh CRL is loaded. The default: an
    /// out-of-date CRL may miss a revocation.
    #[default]
    Refuse,
    /// Use the stale CRL anyway.
    Accept,
}

/// Why a CRL cannot be used for a certificate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlProblem {
    /// The CRL's issuer is not the CA's subject.
    #[error("the CRL was issued by {crl_issuer}, not by the CA {ca_subject}")]
    WrongIssuer {
        /// The CRL's issuer.
        crl_issuer: String,
        /// The CA's subject.
        ca_subject: String,
    },
    /// The CRL's signature does not verify with the CA's key.
    #[error("the CRL's signature does not verify with the CA's public key")]
    BadSignature,
    /// `nextUpdate` has passed.
    #[error("the CRL is stale: its nextUpdate ({next_update}) has passed")]
    Stale {
        /// The CRL's nextUpdate.
        next_update: Timestamp,
    },
    /// The CRL has no `nextUpdate`, so it cannot be judged current (RFC 5280 requires
    /// one); refused under [`StaleCrlPolicy::Refuse`].
    #[error("the CRL has no nextUpdate, so it cannot be judged current")]
    NoNextUpdate,
    /// `thisUpdate` is in the future.
    #[error("the CRL is not valid yet: its thisUpdate is {this_update}")]
    NotYetValid {
        /// The CRL's thisUpdate.
        this_update: Timestamp,
    },
}

impl CrlProblem {
    /// A stable machine code, e.g. `CRL_STALE`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongIssuer { .. } => "CRL_WRONG_ISSUER",
            Self::BadSignature => "CRL_BAD_SIGNATURE",
            Self::Stale { .. } => "CRL_STALE",
            Self::NoNextUpdate => "CRL_NO_NEXT_UPDATE",
            Self::NotYetValid { .. } => "CRL_NOT_YET_VALID",
        }
    }
}

impl Crl {
    /// Parses a DER CRL. Malformed input is `InvalidRequestException`.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let bad = |m: String| Error::InvalidRequest(format!("the CRL is not valid: {m}"));
        if der.len() > MAX_CRL_DER_LEN {
            return Err(bad(format!(
                "it is {} bytes; at most {MAX_CRL_DER_LEN} are accepted",
                der.len()
            )));
        }
        let (rest, crl) =
            CertificateRevocationList::from_der(der).map_err(|e| bad(format!("{e}")))?;
        if !rest.is_empty() {
            return Err(bad(format!("{} bytes of trailing data", rest.len())));
        }
        check_complete(&crl).map_err(bad)?;
        let revoked = crl
            .iter_revoked_certificates()
            .map(|r| normalize_serial(r.raw_serial()).into())
            .collect();
        Ok(Self {
            der: der.into(),
            issuer_der: crl.issuer().as_raw().to_vec(),
            issuer: crl.issuer().to_string(),
            this_update: Timestamp::from_unix_secs(crl.last_update().timestamp()),
            next_update: crl
                .next_update()
                .map(|t| Timestamp::from_unix_secs(t.timestamp())),
            revoked,
        })
    }

    /// Parses a CRL given as PEM (`-----BEGIN X509 CRL-----`) or DER.
    pub fn from_pem_or_der(input: &[u8]) -> Result<Self, Error> {
        if !looks_like_pem(input) {
            return Self::from_der(input);
        }
        let text = core::str::from_utf8(input)
            .map_err(|_| Error::InvalidRequest("the CRL's PEM text is not UTF-8".into()))?;
        let block = pem::parse(text)
            .map_err(|e| Error::InvalidRequest(format!("the CRL's PEM text is malformed: {e}")))?;
        if block.tag() != "X509 CRL" {
            return Err(Error::InvalidRequest(format!(
                "PEM block is {:?}, not an X509 CRL",
                crate::id::truncate_for_message(block.tag())
            )));
        }
        Self::from_der(block.contents())
    }

    /// Whether a certificate with this serial (big-endian bytes, as in the certificate)
    /// is listed as revoked.
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        self.revoked.contains(normalize_serial(serial))
    }

    /// How many certificates are listed.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    /// Whether no certificate is listed.
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// The issuer's name (for messages).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `thisUpdate`.
    pub fn this_update(&self) -> Timestamp {
        self.this_update
    }

    /// `nextUpdate`, if present.
    pub fn next_update(&self) -> Option<Timestamp> {
        self.next_update
    }

    /// Checks that `ca` issued this CRL: its subject is the CRL's issuer and its key
    /// verifies the CRL's signature.
    pub fn verify_issued_by(&self, ca: &Certificate) -> Result<(), CrlProblem> {
        if ca.subject().der() != self.issuer_der.as_slice() {
            return Err(CrlProblem::WrongIssuer {
                crl_issuer: self.issuer.clone(),
                ca_subject: ca.subject().rfc4514().to_string(),
            });
        }
        let (_, crl) =
            CertificateRevocationList::from_der(&self.der).map_err(|_| CrlProblem::BadSignature)?;
        let (_, ca) = X509Certificate::from_der(ca.der()).map_err(|_| CrlProblem::BadSignature)?;
        crl.verify_signature(ca.public_key())
            .map_err(|_| CrlProblem::BadSignature)
    }

    /// Checks `thisUpdate` and `nextUpdate` against `now` under `policy`.
    pub fn check_fresh(&self, now: Timestamp, policy: StaleCrlPolicy) -> Result<(), CrlProblem> {
        if now < self.this_update {
            return Err(CrlProblem::NotYetValid {
                this_update: self.this_update,
            });
        }
        match (self.next_update, policy) {
            (Some(next_update), StaleCrlPolicy::Refuse) if now > next_update => {
                Err(CrlProblem::Stale { next_update })
            }
            (None, StaleCrlPolicy::Refuse) => Err(CrlProblem::NoNextUpdate),
            _ => Ok(()),
        }
    }
}

/// A CRL is used only to answer "is this serial revoked?", so jitr accepts only CRLs
/// whose list is complete for their issuer: no delta CRL, no indirect CRL (entries for
/// other issuers), no partition by reasons, not CA or attribute certificates only, and no
/// critical extension (of the CRL or of an entry) it does not understand. Misreading any
/// of these could miss a revocation.
fn check_complete(crl: &CertificateRevocationList<'_>) -> Result<(), String> {
    use x509_parser::extensions::ParsedExtension as P;
    // RFC 5280 5.1.1.2: the signature algorithm outside must be the one signed inside.
    if crl.signature_algorithm != crl.tbs_cert_list.signature {
        return Err("its outer signature algorithm differs from the one it signed".into());
    }
    // RFC 5280 5.1.2.1: a v1 CRL omits the version; a present version must be v2.
    if let Some(v) = crl.version() {
        if v.0 != 1 {
            return Err(format!(
                "its version field is v{}; only v2 may be written",
                v.0 + 1
            ));
        }
    }
    for ext in crl.extensions() {
        match ext.parsed_extension() {
            P::CRLNumber(_) | P::AuthorityKeyIdentifier(_) => {}
            P::IssuingDistributionPoint(idp) => {
                if !idp_flags_are_der(ext.value) {
                    return Err(
                        "its issuing distribution point has an unknown field or a flag encoded as neither TRUE nor FALSE, so what it covers is uncertain"
                            .into(),
                    );
                }
                if idp.indirect_crl {
                    return Err("it is an indirect CRL (entries for other issuers)".into());
                }
                if idp.only_some_reasons.is_some() {
                    return Err("it covers only some revocation reasons".into());
                }
                if idp.only_contains_attribute_certs {
                    return Err("it covers attribute certificates only".into());
                }
                if idp.only_contains_ca_certs {
                    return Err(
                        "it covers CA certificates only, so it cannot revoke a device certificate"
                            .into(),
                    );
                }
            }
            _ if ext.oid.to_id_string() == "2.5.29.27" => {
                return Err("it is a delta CRL; load the complete (base) CRL".into())
            }
            P::UnsupportedExtension { .. } | P::ParseError { .. } if ext.critical => {
                return Err(format!(
                    "it has a critical extension jitr does not understand ({})",
                    ext.oid.to_id_string()
                ))
            }
            // The distribution point decides what the list covers: it must be readable.
            P::ParseError { error } if ext.critical || ext.oid.to_id_string() == "2.5.29.28" => {
                return Err(format!(
                    "extension {} is malformed: {error}",
                    ext.oid.to_id_string()
                ))
            }
            _ if ext.critical => {
                return Err(format!(
                    "it has a critical extension jitr does not understand ({})",
                    ext.oid.to_id_string()
                ))
            }
            _ => {}
        }
    }
    for entry in crl.iter_revoked_certificates() {
        for ext in entry.extensions() {
            match ext.parsed_extension() {
                _ if ext.oid.to_id_string() == "2.5.29.29" => {
                    return Err("an entry names another issuer (indirect CRL)".into())
                }
                // A malformed non-critical entry extension (an invalidity date, say) does
                // not change that the serial is revoked.
                P::ParseError { error } if ext.critical => {
                    return Err(format!(
                        "an entry's extension {} is malformed: {error}",
                        ext.oid.to_id_string()
                    ))
                }
                P::ReasonCode(_) | P::InvalidityDate(_) => {}
                _ if ext.critical => {
                    return Err(format!(
                        "an entry has a critical extension jitr does not understand ({})",
                        ext.oid.to_id_string()
                    ))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The IDP holds only its schema's fields, and its flags (onlyContainsUserCerts [1], onlyContainsCACerts [2], indirectCRL [4],
/// onlyContainsAttributeCerts [5]) are BOOLEAN DEFAULT FALSE: in DER a present flag is
/// TRUE, one byte 0xFF (an explicit FALSE, 0x00, is unambiguous and accepted). A parser
/// lenient about other encodings could read a flag as FALSE that the issuer meant as
/// TRUE, and take a partial CRL for a complete one.
fn idp_flags_are_der(value: &[u8]) -> bool {
    use x509_parser::asn1_rs::{Any, Class, FromDer as _};
    let Ok((_, seq)) = Any::from_der(value) else {
        return false;
    };
    let mut rest = seq.data;
    while !rest.is_empty() {
        let Ok((next, item)) = Any::from_der(rest) else {
            return false;
        };
        // Only the schema's fields [0] to [5] may appear.
        if item.class() != Class::ContextSpecific || item.tag().0 > 5 {
            return false;
        }
        if matches!(item.tag().0, 1 | 2 | 4 | 5) && item.data != [0xFF] && item.data != [0x00] {
            return false;
        }
        rest = next;
    }
    true
}

/// DER INTEGER contents may carry a leading zero byte to stay positive; compare without it.
fn normalize_serial(serial: &[u8]) -> &[u8] {
    let mut s = serial;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    s
}

/// The current CRL of each CA, replaceable at any time (no restart): the activation
/// handler reads it per event.
#[derive(Default)]
pub struct CrlStore {
    by_ca: RwLock<HashMap<CertificateId, Arc<Crl>>>,
}

impl CrlStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `ca`'s CRL after checking that `ca` issued it (issuer and signature).
    pub fn set(&self, ca: &Certificate, crl: Crl) -> Result<(), CrlProblem> {
        crl.verify_issued_by(ca)?;
        self.by_ca
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(ca.id(), Arc::new(crl));
        Ok(())
    }

    /// The CRL of a CA, if one was set.
    pub fn get(&self, ca: &CertificateId) -> Option<Arc<Crl>> {
        self.by_ca
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(ca)
            .cloned()
    }

    /// Forgets a CA's CRL.
    pub fn remove(&self, ca: &CertificateId) {
        self.by_ca
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(ca);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_without_leading_zeros() {
        assert_eq!(normalize_serial(&[0, 0x80, 1]), &[0x80, 1]);
        assert_eq!(normalize_serial(&[0]), &[0]);
        assert_eq!(normalize_serial(&[]), &[] as &[u8]);
    }

    #[test]
    fn garbage_is_a_typed_error() {
        for bad in [
            &b""[..],
            b"\x30\x00",
            b"-----BEGIN X509 CRL-----\n!!\n-----END X509 CRL-----\n",
            b"junk",
        ] {
            assert_eq!(
                Crl::from_pem_or_der(bad).unwrap_err().code(),
                "InvalidRequestException"
            );
        }
    }
}
