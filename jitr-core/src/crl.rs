//! Certificate revocation lists: parsed once, checked against their CA, looked up in O(1).
//!
//! A CRL answers "is this certificate revoked?" only when every rule of RFC 5280 §6.3.3
//! that jitr relies on holds; otherwise it is *not usable* for that certificate, with a
//! [`CrlProblem`] that says why, and the activation handler never reads it as "not
//! revoked":
//!
//! - **It was issued by the CA** ([`Crl::verify_issued_by`]): the CRL's issuer is the
//!   CA's subject; the CA's key usage, when the extension is present, asserts `cRLSign`
//!   (§4.2.1.3, §6.3.3(f)); the CA's key verifies the signature (§6.3.3(g)).
//! - **It is current** ([`Crl::check_fresh`]): `thisUpdate` has passed and, under the
//!   default [`StaleCrlPolicy::Refuse`], `nextUpdate` is present and has not (§5.1.2.5).
//! - **It covers the certificate** ([`Crl::covers`], §6.3.3(b)(2), §5.2.5): a CRL whose
//!   issuingDistributionPoint names a distribution point covers a certificate only if
//!   one of the certificate's CRL distribution points names it (a full name, the same
//!   kind and value; a URI compared exactly, a DNS name without regard to ASCII case, a
//!   directory name by its DER). A distribution point with a `cRLIssuer` (an indirect
//!   CRL's) or with `reasons` (a partition by reason) does not count, since jitr refuses
//!   such CRLs; a certificate without CRL distribution points is not covered by a
//!   partitioned CRL. An `onlyContainsUserCerts` CRL does not cover a CA certificate.
//! - **It is complete for its issuer** (checked when parsed, [`Crl::from_der`]): no delta
//!   CRL, indirect CRL, reason partition, CA-only or attribute-only scope, unknown
//!   critical extension, or distribution point name jitr cannot compare.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use x509_parser::extensions::{
    DistributionPointName, GeneralName, IssuingDistributionPoint, ParsedExtension, X509Extension,
};

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
    scope: Scope,
}

/// Which certificates of its issuer a CRL covers (its issuingDistributionPoint).
#[derive(Clone, Debug, Default)]
struct Scope {
    /// The distribution point's full name, if the IDP names one.
    distribution_point: Option<Vec<PointName>>,
    /// onlyContainsUserCerts.
    user_certs_only: bool,
}

/// A general name in a distribution point, owned and comparable.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PointName {
    Uri(String),
    Dns(String),
    Email(String),
    Directory {
        der: Vec<u8>,
        text: String,
    },
    Ip(Vec<u8>),
    /// otherName, x400Address, ediPartyName, registeredID: compared by their encoding.
    Other {
        tag: u32,
        value: Vec<u8>,
    },
}

impl PointName {
    /// `None` for a name x509-parser could not read.
    fn from_general(name: &GeneralName<'_>) -> Option<Self> {
        Some(match name {
            GeneralName::URI(u) => Self::Uri((*u).to_string()),
            GeneralName::DNSName(d) => Self::Dns(d.to_ascii_lowercase()),
            GeneralName::RFC822Name(e) => Self::Email((*e).to_string()),
            GeneralName::DirectoryName(n) => Self::Directory {
                der: n.as_raw().to_vec(),
                text: n.to_string(),
            },
            GeneralName::IPAddress(ip) => Self::Ip(ip.to_vec()),
            GeneralName::OtherName(oid, value) => Self::Other {
                tag: 0,
                value: [oid.as_bytes(), &[0xff], value].concat(),
            },
            GeneralName::X400Address(a) => Self::Other {
                tag: 3,
                value: a.data.to_vec(),
            },
            GeneralName::EDIPartyName(a) => Self::Other {
                tag: 5,
                value: a.data.to_vec(),
            },
            GeneralName::RegisteredID(oid) => Self::Other {
                tag: 8,
                value: oid.as_bytes().to_vec(),
            },
            GeneralName::Invalid(..) => return None,
        })
    }
}

impl core::fmt::Display for PointName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Uri(u) => write!(f, "URI:{}", crate::id::truncate_for_message(u)),
            Self::Dns(d) => write!(f, "DNS:{}", crate::id::truncate_for_message(d)),
            Self::Email(e) => write!(f, "email:{}", crate::id::truncate_for_message(e)),
            Self::Directory { text, .. } => {
                write!(f, "DirName:{}", crate::id::truncate_for_message(text))
            }
            Self::Ip(ip) => write!(f, "IP:{}", hex::encode(ip)),
            Self::Other { tag, .. } => write!(f, "[{tag}] name"),
        }
    }
}

impl Scope {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(names) = &self.distribution_point {
            let names: Vec<String> = names.iter().map(ToString::to_string).collect();
            parts.push(format!("distribution point {}", names.join(", ")));
        }
        if self.user_certs_only {
            parts.push("end-entity certificates only".to_string());
        }
        parts.join("; ")
    }
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

impl StaleCrlPolicy {
    /// The name a host configures it by: `REFUSE` or `ACCEPT`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Refuse => "REFUSE",
            Self::Accept => "ACCEPT",
        }
    }
}

impl core::str::FromStr for StaleCrlPolicy {
    type Err = Error;

    /// `REFUSE` or `ACCEPT` (exactly; a configuration value, as the Lambda's
    /// `JITR_STALE_CRL`).
    ///
    /// ```
    /// use jitr_core::crl::StaleCrlPolicy;
    /// assert_eq!("ACCEPT".parse::<StaleCrlPolicy>().unwrap(), StaleCrlPolicy::Accept);
    /// assert!("refuse".parse::<StaleCrlPolicy>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Error> {
        crate::id::parse_name(
            &[Self::Refuse, Self::Accept],
            |p| p.as_str(),
            s,
            |s| format!("{s:?} is not a stale-CRL policy: REFUSE or ACCEPT"),
        )
    }
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
    /// The CA's key usage extension is present and does not assert `cRLSign`, so the CA
    /// may not sign CRLs (RFC 5280 §4.2.1.3, §6.3.3(f)).
    #[error("the CA {ca_subject} may not sign CRLs: its key usage does not include cRLSign")]
    CaNotCrlSigner {
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
    /// The CRL's issuingDistributionPoint limits it to certificates this one is not
    /// among (RFC 5280 §6.3.3(b)(2), §5.2.5): it cannot say this certificate is not
    /// revoked.
    #[error("the CRL does not cover this certificate: it covers only {crl_scope}, and the certificate is not in that scope")]
    DoesNotCover {
        /// What the CRL covers, in words.
        crl_scope: String,
    },
    /// The host has no CRL for the CA (no CRL source is configured for it).
    #[error("no CRL is configured for the CA")]
    NotConfigured,
    /// The CA certificate is not registered (DescribeCACertificate answered
    /// `ResourceNotFoundException`), so the CRL cannot be checked against it.
    #[error("the CA certificate {ca_certificate_id} is not registered, so its CRL cannot be checked against it")]
    CaNotFound {
        /// The CA certificate's ID, from the event.
        ca_certificate_id: CertificateId,
    },
}

impl CrlProblem {
    /// A stable machine code, e.g. `CRL_STALE`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongIssuer { .. } => "CRL_WRONG_ISSUER",
            Self::CaNotCrlSigner { .. } => "CRL_CA_NOT_CRL_SIGNER",
            Self::BadSignature => "CRL_BAD_SIGNATURE",
            Self::Stale { .. } => "CRL_STALE",
            Self::NoNextUpdate => "CRL_NO_NEXT_UPDATE",
            Self::NotYetValid { .. } => "CRL_NOT_YET_VALID",
            Self::DoesNotCover { .. } => "CRL_DOES_NOT_COVER",
            Self::NotConfigured => "CRL_NOT_CONFIGURED",
            Self::CaNotFound { .. } => "CRL_CA_NOT_FOUND",
        }
    }

    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "CRL_WRONG_ISSUER",
        "CRL_CA_NOT_CRL_SIGNER",
        "CRL_BAD_SIGNATURE",
        "CRL_STALE",
        "CRL_NO_NEXT_UPDATE",
        "CRL_NOT_YET_VALID",
        "CRL_DOES_NOT_COVER",
        "CRL_NOT_CONFIGURED",
        "CRL_CA_NOT_FOUND",
    ];
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
        let scope = check_complete(&crl).map_err(bad)?;
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
            scope,
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

    /// Checks that `ca` issued this CRL: its subject is the CRL's issuer, its key usage
    /// (when present) asserts `cRLSign`, and its key verifies the CRL's signature.
    pub fn verify_issued_by(&self, ca: &Certificate) -> Result<(), CrlProblem> {
        if ca.subject().der() != self.issuer_der.as_slice() {
            return Err(CrlProblem::WrongIssuer {
                crl_issuer: self.issuer.clone(),
                ca_subject: ca.subject().rfc4514().to_string(),
            });
        }
        if ca.key_usage().is_some_and(|ku| !ku.contains(&"cRLSign")) {
            return Err(CrlProblem::CaNotCrlSigner {
                ca_subject: ca.subject().rfc4514().to_string(),
            });
        }
        let (_, crl) =
            CertificateRevocationList::from_der(&self.der).map_err(|_| CrlProblem::BadSignature)?;
        let (_, ca) = X509Certificate::from_der(ca.der()).map_err(|_| CrlProblem::BadSignature)?;
        crl.verify_signature(ca.public_key())
            .map_err(|_| CrlProblem::BadSignature)
    }

    /// Checks that this CRL covers `certificate` (RFC 5280 §6.3.3(b)(2)): without an
    /// issuingDistributionPoint, or with one that names no distribution point, it covers
    /// every certificate of its issuer; with a distribution point name, only a
    /// certificate whose CRL distribution points name it (see the module docs for how
    /// names compare). An `onlyContainsUserCerts` CRL does not cover a CA certificate.
    /// Whether the CRL was issued by the certificate's CA is [`Crl::verify_issued_by`]'s
    /// question, not this one's.
    pub fn covers(&self, certificate: &Certificate) -> Result<(), CrlProblem> {
        let out_of_scope = || CrlProblem::DoesNotCover {
            crl_scope: self.scope.describe(),
        };
        if self.scope.user_certs_only && certificate.is_ca() {
            return Err(out_of_scope());
        }
        let Some(names) = &self.scope.distribution_point else {
            return Ok(());
        };
        let (_, x509) = X509Certificate::from_der(certificate.der()).map_err(|_| out_of_scope())?;
        let named = x509.extensions().iter().any(|ext| {
            let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() else {
                return false;
            };
            points.points.iter().any(|point| {
                let Some(DistributionPointName::FullName(full)) = &point.distribution_point else {
                    return false;
                };
                point.crl_issuer.is_none()
                    && point.reasons.is_none()
                    && full
                        .iter()
                        .filter_map(PointName::from_general)
                        .any(|n| names.contains(&n))
            })
        });
        if named {
            Ok(())
        } else {
            Err(out_of_scope())
        }
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
fn check_complete(crl: &CertificateRevocationList<'_>) -> Result<Scope, String> {
    use x509_parser::extensions::ParsedExtension as P;
    let mut scope = Scope::default();
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
            P::IssuingDistributionPoint(idp) => scope = issuing_scope(idp, ext.value)?,
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
            entry_extension(ext)?;
        }
    }
    Ok(scope)
}

/// What an issuing distribution point extension (`idp`, its DER `value`) says the CRL
/// covers; an error for any IDP that makes the list partial or its coverage uncertain.
fn issuing_scope(idp: &IssuingDistributionPoint<'_>, value: &[u8]) -> Result<Scope, String> {
    let Some(names_a_point) = idp_fields(value) else {
        return Err(
            "its issuing distribution point has an unknown field or a flag encoded as neither TRUE nor FALSE, so what it covers is uncertain"
                .into(),
        );
    };
    // x509-parser reads a distribution point name it cannot parse (a name relative to
    // the issuer, a malformed general name) as absent, which would widen the CRL to every
    // certificate of its issuer.
    if names_a_point && idp.distribution_point.is_none() {
        return Err(
            "its issuing distribution point names a distribution point that cannot be read (or is relative to the issuer, which jitr does not compare), so what it covers is uncertain"
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
            "it covers CA certificates only, so it cannot revoke a device certificate".into(),
        );
    }
    let distribution_point = match &idp.distribution_point {
        None => None,
        // A name relative to the issuer would have to be joined to the issuer's name to
        // compare with a certificate's full names; jitr compares full names only
        // (rustls-webpki refuses these too).
        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
            return Err(
                "its issuing distribution point names its distribution point relative to the issuer; jitr compares full names only, so what it covers is uncertain"
                    .into(),
            )
        }
        Some(DistributionPointName::FullName(names)) => Some(
            names
                .iter()
                .map(PointName::from_general)
                .collect::<Option<Vec<_>>>()
                .ok_or("its issuing distribution point has a name that cannot be read, so what it covers is uncertain")?,
        ),
    };
    Ok(Scope {
        distribution_point,
        user_certs_only: idp.only_contains_user_certs,
    })
}

/// The rules for one extension of a CRL entry: no certificate issuer (an indirect CRL),
/// no malformed or unknown critical extension.
fn entry_extension(ext: &X509Extension<'_>) -> Result<(), String> {
    use x509_parser::extensions::ParsedExtension as P;
    match ext.parsed_extension() {
        _ if ext.oid.to_id_string() == "2.5.29.29" => {
            Err("an entry names another issuer (indirect CRL)".into())
        }
        // A malformed non-critical entry extension (an invalidity date, say) does not
        // change that the serial is revoked.
        P::ParseError { error } if ext.critical => Err(format!(
            "an entry's extension {} is malformed: {error}",
            ext.oid.to_id_string()
        )),
        P::ReasonCode(_) | P::InvalidityDate(_) => Ok(()),
        _ if ext.critical => Err(format!(
            "an entry has a critical extension jitr does not understand ({})",
            ext.oid.to_id_string()
        )),
        _ => Ok(()),
    }
}

/// Whether the IDP names a distribution point (field [0]), if the IDP holds only its
/// schema's fields and its flags are DER; `None` if not. The flags (onlyContainsUserCerts [1], onlyContainsCACerts [2], indirectCRL [4],
/// onlyContainsAttributeCerts [5]) are BOOLEAN DEFAULT FALSE: in DER a present flag is
/// TRUE, one byte 0xFF (an explicit FALSE, 0x00, is unambiguous and accepted). A parser
/// lenient about other encodings could read a flag as FALSE that the issuer meant as
/// TRUE, and take a partial CRL for a complete one.
fn idp_fields(value: &[u8]) -> Option<bool> {
    use x509_parser::asn1_rs::{Any, Class, FromDer as _};
    let (_, seq) = Any::from_der(value).ok()?;
    let mut rest = seq.data;
    let mut names_a_point = false;
    while !rest.is_empty() {
        let (next, item) = Any::from_der(rest).ok()?;
        // Only the schema's fields [0] to [5] may appear.
        if item.class() != Class::ContextSpecific || item.tag().0 > 5 {
            return None;
        }
        if matches!(item.tag().0, 1 | 2 | 4 | 5) && item.data != [0xFF] && item.data != [0x00] {
            return None;
        }
        names_a_point |= item.tag().0 == 0;
        rest = next;
    }
    Some(names_a_point)
}

/// DER INTEGER contents may carry a leading zero byte to stay positive; compare without it.
fn normalize_serial(serial: &[u8]) -> &[u8] {
    let mut s = serial;
    while s.len() > 1 && s[0] == 0 {
        s = &s[1..];
    }
    s
}

/// A serial number written as hex text, as big-endian bytes: `"0102"`, `"0x102"`,
/// `"01:02"`, any case; an odd number of digits is padded on the left. For hosts that
/// take serials from people or configuration (the Python `Crl.is_revoked` takes one).
///
/// ```
/// use jitr_core::crl::parse_serial;
/// assert_eq!(parse_serial("0x102").unwrap(), [0x01, 0x02]);
/// assert_eq!(parse_serial("01:02").unwrap(), [0x01, 0x02]);
/// assert!(parse_serial("zz").is_err() && parse_serial("").is_err());
/// ```
pub fn parse_serial(text: &str) -> Result<Vec<u8>, Error> {
    let digits: Vec<u8> = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
        .bytes()
        .filter(|c| *c != b':')
        .collect();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(Error::InvalidRequest(format!(
            "serial {:?} is not a hex number",
            crate::id::truncate_for_message(text)
        )));
    }
    let padded = if digits.len() % 2 == 1 {
        [&b"0"[..], &digits].concat()
    } else {
        digits
    };
    hex::decode(padded).map_err(|e| Error::InvalidRequest(format!("serial is not hex: {e}")))
}

/// What the host has for one CA's CRL, as the activation handler receives it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum CaCrl {
    /// No CRL source is configured for this CA.
    NotConfigured,
    /// The CA's current CRL (still to be checked against the CA, the time and the
    /// certificate).
    Loaded(Arc<Crl>),
    /// A CRL source is configured for this CA, but its CRL was refused when loaded.
    Refused(CrlProblem),
}

#[derive(Clone, Debug)]
enum Entry {
    Loaded(Arc<Crl>),
    Refused(CrlProblem),
}

/// The current CRL of each CA, replaceable at any time (no restart): the activation
/// handler reads it per event.
///
/// A CA for which [`CrlStore::set`] was called has a CRL source configured: if its CRL
/// cannot be used, the handler leaves its certificates pending by default (fail
/// closed). A CRL refused by `set` is recorded as such when the CA has no CRL yet, so
/// that a refused CRL never reads as "no CRL configured"; a CA that has a CRL keeps it.
#[derive(Default)]
pub struct CrlStore {
    by_ca: RwLock<HashMap<CertificateId, Entry>>,
}

impl CrlStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `ca`'s CRL after checking that `ca` issued it (issuer, `cRLSign` key usage,
    /// signature). On a refusal the CA's current CRL stays; a CA without one is marked
    /// as having a refused CRL ([`CaCrl::Refused`]).
    pub fn set(&self, ca: &Certificate, crl: Crl) -> Result<(), CrlProblem> {
        let checked = crl.verify_issued_by(ca);
        let mut by_ca = self
            .by_ca
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match checked {
            Ok(()) => {
                by_ca.insert(ca.id(), Entry::Loaded(Arc::new(crl)));
                Ok(())
            }
            Err(problem) => {
                if !matches!(by_ca.get(&ca.id()), Some(Entry::Loaded(_))) {
                    by_ca.insert(ca.id(), Entry::Refused(problem.clone()));
                }
                Err(problem)
            }
        }
    }

    /// The CRL of a CA, if one was set.
    pub fn get(&self, ca: &CertificateId) -> Option<Arc<Crl>> {
        match self.entry(ca) {
            CaCrl::Loaded(crl) => Some(crl),
            _ => None,
        }
    }

    /// What the store has for a CA: its CRL, a refusal, or nothing.
    pub fn entry(&self, ca: &CertificateId) -> CaCrl {
        match self
            .by_ca
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(ca)
        {
            None => CaCrl::NotConfigured,
            Some(Entry::Loaded(crl)) => CaCrl::Loaded(crl.clone()),
            Some(Entry::Refused(problem)) => CaCrl::Refused(problem.clone()),
        }
    }

    /// Forgets a CA's CRL (and any refusal): no CRL source is configured for it any more.
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
