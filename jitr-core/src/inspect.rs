//! Findings about one certificate: everything that would make AWS IoT or jitr refuse it,
//! or that a fleet engineer should know, collected all at once rather than stopping at
//! the first problem.
//!
//! Each [`Finding`] has a stable [`code`](Finding::code) (one of [`CODES`]), a
//! [`Severity`] and a sentence for people. [`inspect`] is pure: it reads the certificate
//! and `now`, nothing else.
//!
//! ```
//! use jitr_core::inspect::{inspect, Role, Severity};
//! use jitr_core::{Certificate, Timestamp};
//! # let key = rcgen::KeyPair::generate().unwrap();
//! # let mut params = rcgen::CertificateParams::new(vec!["device-1".into()]).unwrap();
//! # params.not_after = rcgen::date_time_ymd(2030, 1, 1);
//! # let pem = params.self_signed(&key).unwrap().pem();
//! let cert = Certificate::from_pem(&pem).unwrap();
//! let now = Timestamp::from_unix_secs(1_900_000_000); // 2030-03-17: after its notAfter
//! let findings = inspect(&cert, Role::Device, now);
//! let expired = findings.iter().find(|f| f.code == "EXPIRED").unwrap();
//! assert_eq!(expired.severity, Severity::Error);
//! // A self-signed device certificate is never auto-registered.
//! assert!(findings.iter().any(|f| f.code == "SELF_SIGNED_DEVICE"));
//! ```
//!
//! [`describe`] gives the whole view of a certificate a tool shows (its fields, every
//! extension decoded as `openssl x509 -text` prints it, and its findings), and
//! [`issued_by`] answers "did this CA issue this certificate?" by the rule JITR links a
//! device certificate to its CA with.

use core::str::FromStr;
use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{
    AccessDescription, AuthorityKeyIdentifier, CRLDistributionPoint, CertificatePolicies,
    DistributionPointName, GeneralName, NSCertType, NameConstraints, ParsedExtension,
    PolicyConstraints, SignedCertificateTimestamp, X509Extension,
};
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer;

use crate::cert::{
    extended_key_usages, ip_address, key_usages, lookup_oid, oid_name, Certificate, KeyAlgorithm,
    UsageNames,
};
use crate::error::Error;
use crate::id::CertificateId;
use crate::time::{Timestamp, ValidityCheck};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// AWS IoT or jitr refuses the certificate for its role (registration or connection).
    Error,
    /// It works today but is fragile, unusual, or likely not what was meant.
    Warning,
    /// Worth knowing; nothing is wrong.
    Info,
}

impl Severity {
    /// `"error"`, `"warning"` or `"info"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// What the certificate is meant to be, which decides the rules that apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Role {
    /// Not said: a certificate with basicConstraints `cA` true is judged as a CA, one
    /// that signs itself or has the `keyCertSign` key usage as a would-be CA (a missing
    /// basicConstraints is then a warning), anything else as a device certificate.
    #[default]
    Any,
    /// A device (client, end-entity) certificate presented on connection.
    Device,
    /// A CA certificate to register with RegisterCACertificate.
    Ca,
}

impl Role {
    /// `"any"`, `"device"` or `"ca"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Device => "device",
            Self::Ca => "ca",
        }
    }
}

impl FromStr for Role {
    type Err = Error;

    /// Parses `"any"`, `"device"` or `"ca"`.
    fn from_str(s: &str) -> Result<Self, Error> {
        crate::id::parse_name(&[Self::Any, Self::Device, Self::Ca], Self::as_str, s, |s| {
            format!(
                "role must be \"any\", \"device\" or \"ca\", got {}",
                crate::input::quote(s)
            )
        })
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        s.parse()
            .map_err(|e: Error| serde::de::Error::custom(e.message()))
    }
}

/// One thing found about a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stable machine code, one of [`CODES`], e.g. `"EXPIRED"`.
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// A sentence for people that says what is wrong and what follows from it.
    pub message: String,
}

/// How close to its notAfter a certificate must be for `EXPIRES_SOON`, in days.
pub const EXPIRES_SOON_DAYS: i64 = 30;

/// Every finding code [`inspect`] can produce.
pub const CODES: &[&str] = &[
    "EXPIRED",
    "NOT_YET_VALID",
    "EXPIRES_SOON",
    "NOT_X509_V3",
    "WEAK_SIGNATURE_ALGORITHM",
    "UNSUPPORTED_SIGNATURE_ALGORITHM",
    "WEAK_KEY",
    "UNSUPPORTED_KEY",
    "CA_WITHOUT_BASIC_CONSTRAINTS",
    "CA_BASIC_CONSTRAINTS_FALSE",
    "CA_WITHOUT_KEY_CERT_SIGN",
    "CA_USED_AS_DEVICE",
    "EKU_WITHOUT_CLIENT_AUTH",
    "KEY_USAGE_WITHOUT_DIGITAL_SIGNATURE",
    "SELF_SIGNED_DEVICE",
    "SELF_SIGNED_CA",
];

/// Whether the certificate signed itself: its issuer matches its own subject (RFC 5280
/// §7.1, as [`issued_by`] compares names) and its own public key verifies its signature.
pub fn is_self_signed(cert: &Certificate) -> bool {
    cert.is_signed_by(cert).is_ok()
}

/// Every finding about `cert` in `role` at `now`, errors first, then warnings, then
/// information (in a fixed order within each severity). An empty list means nothing
/// stands in the way.
pub fn inspect(cert: &Certificate, role: Role, now: Timestamp) -> Vec<Finding> {
    let mut out = Findings(Vec::new());
    let self_signed = is_self_signed(cert);
    let key_cert_sign = cert
        .key_usage()
        .is_some_and(|ku| ku.contains(&"keyCertSign"));
    // The rules that apply: CA rules for a CA (or a would-be CA), device rules otherwise.
    let (as_ca, inferred) = match role {
        Role::Ca => (true, false),
        Role::Device => (false, false),
        Role::Any => (cert.is_ca() || self_signed || key_cert_sign, !cert.is_ca()),
    };
    validity_findings(cert, now, &mut out);
    format_findings(cert, as_ca, self_signed, &mut out);
    if as_ca {
        ca_findings(cert, inferred, self_signed, key_cert_sign, &mut out);
    } else {
        device_findings(cert, self_signed, &mut out);
    }
    let mut out = out.0;
    out.sort_by_key(|f| f.severity);
    out
}

/// The findings of one inspection, in the order found.
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, code: &'static str, severity: Severity, message: String) {
        debug_assert!(CODES.contains(&code), "{code} is listed in CODES");
        self.0.push(Finding {
            code,
            severity,
            message,
        });
    }
}

/// Expired, not yet valid, or expiring soon.
fn validity_findings(cert: &Certificate, now: Timestamp, out: &mut Findings) {
    let validity = cert.validity();
    match validity.check(now) {
        ValidityCheck::Expired => out.add(
            "EXPIRED",
            Severity::Error,
            format!(
                "the certificate expired at {}: AWS IoT and jitr refuse it",
                validity.not_after
            ),
        ),
        ValidityCheck::NotYetValid => out.add(
            "NOT_YET_VALID",
            Severity::Error,
            format!(
                "the certificate is not valid before {}: it is refused until then (check the device's clock and the issuer's)",
                validity.not_before
            ),
        ),
        ValidityCheck::Valid => {
            let left_ms = validity.not_after.unix_millis().saturating_sub(now.unix_millis());
            if left_ms <= EXPIRES_SOON_DAYS * 86_400_000 {
                out.add(
                    "EXPIRES_SOON",
                    Severity::Warning,
                    format!(
                        "the certificate expires at {}, in {} day(s)",
                        validity.not_after,
                        left_ms / 86_400_000
                    ),
                );
            }
        }
    }
}

/// The format and the algorithms, judged for a CA (`as_ca`) or a device.
fn format_findings(cert: &Certificate, as_ca: bool, self_signed: bool, out: &mut Findings) {
    if cert.version() != 3 {
        let v = cert.version();
        out.add(
            "NOT_X509_V3",
            Severity::Warning,
            if as_ca {
                format!("this is an X.509 v{v} certificate, which has no extensions: it cannot be a CA (no basicConstraints)")
            } else {
                format!("this is an X.509 v{v} certificate, which has no extensions: AWS IoT and jitr accept it as a device certificate (openssl x509 -req issues one without an extensions file), but strict TLS verifiers such as webpki refuse it")
            },
        );
    }
    // The issuer's own signature on a root that is registered as a CA is never checked
    // (it is a trust anchor), so an old algorithm there only warrants a warning.
    let signature_matters = !(as_ca && self_signed);
    let alg = cert.signature_algorithm();
    let sig_severity = if signature_matters {
        Severity::Error
    } else {
        Severity::Warning
    };
    match signature_support(alg) {
        SignatureSupport::Supported => {}
        SignatureSupport::Weak => out.add(
            "WEAK_SIGNATURE_ALGORITHM",
            sig_severity,
            if signature_matters {
                format!("the certificate is signed with {alg}, which is broken: webpki (jitr) refuses to verify it")
            } else {
                format!("the certificate is signed with {alg}, which is broken; as a self-signed root its own signature is not checked, but reissue it with SHA-256 or better")
            },
        ),
        SignatureSupport::Unsupported => out.add(
            "UNSUPPORTED_SIGNATURE_ALGORITHM",
            sig_severity,
            format!(
                "the certificate is signed with {alg}; jitr verifies ECDSA (P-256, P-384) with SHA-256 or SHA-384, Ed25519, and RSA PKCS#1 or PSS with SHA-256, SHA-384 or SHA-512"
            ),
        ),
    }
    match cert.key_algorithm() {
        KeyAlgorithm::Rsa { bits } if *bits < 2048 => out.add(
            "WEAK_KEY",
            Severity::Error,
            format!(
                "the key is RSA {bits} bits; at least 2048 are needed (AWS IoT and webpki refuse smaller keys)"
            ),
        ),
        KeyAlgorithm::Rsa { bits } if *bits > 8192 => out.add(
            "UNSUPPORTED_KEY",
            Severity::Error,
            format!("the key is RSA {bits} bits; webpki (jitr) verifies RSA keys of 2048 to 8192 bits"),
        ),
        KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 | KeyAlgorithm::Ed25519 | KeyAlgorithm::Rsa { .. } => {}
        other => out.add(
            "UNSUPPORTED_KEY",
            Severity::Error,
            format!(
                "the key is {other}; jitr verifies RSA (2048 to 8192 bits), ECDSA P-256 and P-384, and Ed25519 keys"
            ),
        ),
    }
}

/// The rules for a CA (or a would-be CA, `inferred` from its signing itself or its key
/// usage).
fn ca_findings(
    cert: &Certificate,
    inferred: bool,
    self_signed: bool,
    key_cert_sign: bool,
    out: &mut Findings,
) {
    let would_be = if inferred {
        if self_signed {
            "signs itself"
        } else {
            "has the keyCertSign key usage"
        }
    } else {
        ""
    };
    let severity = if inferred {
        Severity::Warning
    } else {
        Severity::Error
    };
    match cert.basic_constraints() {
        None => out.add(
            "CA_WITHOUT_BASIC_CONSTRAINTS",
            severity,
            if inferred {
                format!("the certificate {would_be} but has no basicConstraints extension: it cannot be registered as a CA (AWS: \"does not have the basicConstraints extension as true\")")
            } else {
                "the certificate has no basicConstraints extension: RegisterCACertificate refuses it (AWS: \"does not have the basicConstraints extension as true\")".into()
            },
        ),
        Some(bc) if !bc.ca => out.add(
            "CA_BASIC_CONSTRAINTS_FALSE",
            severity,
            if inferred {
                format!("the certificate {would_be} but its basicConstraints say cA false: it cannot be registered as a CA")
            } else {
                "the certificate's basicConstraints say cA false: RegisterCACertificate refuses it".into()
            },
        ),
        Some(_) => {}
    }
    if cert.is_ca() && cert.key_usage().is_some() && !key_cert_sign {
        out.add(
            "CA_WITHOUT_KEY_CERT_SIGN",
            Severity::Error,
            "the CA's keyUsage lacks keyCertSign, so its key may not sign certificates (RFC 5280 §4.2.1.3): RegisterCACertificate refuses it, and jitr accepts no certificate it signed".into(),
        );
    }
    if self_signed && cert.is_ca() {
        out.add(
            "SELF_SIGNED_CA",
            Severity::Info,
            "a self-signed (root) CA: JITR uses the CA that directly signed the device certificate, so register this one only if it signs devices itself".into(),
        );
    }
}

/// The rules for a device certificate.
fn device_findings(cert: &Certificate, self_signed: bool, out: &mut Findings) {
    if cert.is_ca() {
        out.add(
            "CA_USED_AS_DEVICE",
            Severity::Error,
            "the certificate is a CA (basicConstraints cA true): webpki refuses a CA certificate as a device certificate".into(),
        );
    }
    if let Some(eku) = cert.extended_key_usage() {
        if !eku.iter().any(|u| u == "clientAuth") {
            out.add(
                "EKU_WITHOUT_CLIENT_AUTH",
                Severity::Error,
                format!(
                    "the extendedKeyUsage extension ({}) lacks clientAuth: the TLS client-certificate check refuses it (jitr: EKU_NOT_CLIENT_AUTH)",
                    if eku.is_empty() { "empty".to_string() } else { eku.join(", ") }
                ),
            );
        }
    }
    if let Some(ku) = cert.key_usage() {
        if !ku.contains(&"digitalSignature") {
            out.add(
                "KEY_USAGE_WITHOUT_DIGITAL_SIGNATURE",
                Severity::Warning,
                "the keyUsage extension lacks digitalSignature, which a TLS client key needs to sign the handshake; strict servers refuse it".into(),
            );
        }
    }
    if self_signed {
        out.add(
            "SELF_SIGNED_DEVICE",
            Severity::Warning,
            "the certificate signs itself: JITR registers only certificates signed by a registered CA; register it with RegisterCertificateWithoutCA instead".into(),
        );
    }
}

/// Whether `issuer` issued `cert`, by the rule JITR links a device certificate to its CA
/// with ([`Certificate::is_issued_by`]): the CA's subject matches the certificate's
/// issuer as RFC 5280 §7.1 compares names (after RFC 4518 string preparation, as the
/// decision's CA index does: letter case, spaces and string types do not matter), the
/// CA's public key verifies the certificate's signature, and the CA may sign
/// certificates (its keyUsage, when present, asserts keyCertSign).
pub fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    cert.is_issued_by(issuer).is_ok()
}

/// Everything a tool shows about one certificate: its ID, fields, every extension and
/// every finding. It serializes (camelCase) as the JavaScript API's `CertificateInfo`;
/// times are epoch milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CertificateInfo {
    /// The AWS certificate ID.
    pub id: CertificateId,
    /// The certificate as PEM.
    pub pem: String,
    /// The X.509 version: 1, 2 or 3.
    pub version: u32,
    /// The subject, RFC 4514.
    pub subject: String,
    /// The subject's first Common Name.
    pub subject_common_name: Option<String>,
    /// The issuer, RFC 4514.
    pub issuer: String,
    /// The serial number, lowercase hex.
    pub serial_number: String,
    /// notBefore.
    pub not_before: Timestamp,
    /// notAfter.
    pub not_after: Timestamp,
    /// basicConstraints present with `cA` true.
    pub is_ca: bool,
    /// basicConstraints' pathLenConstraint.
    pub path_len: Option<u32>,
    /// basicConstraints present at all.
    pub has_basic_constraints: bool,
    /// It signed itself ([`is_self_signed`]).
    pub self_signed: bool,
    /// `EC_P256`, `RSA_2048`, `ED25519`, ...
    pub key_algorithm: String,
    /// `ecdsa-with-SHA256`, `sha256WithRSAEncryption`, ...
    pub signature_algorithm: String,
    /// Lowercase hex.
    pub subject_key_identifier: Option<String>,
    /// Lowercase hex.
    pub authority_key_identifier: Option<String>,
    /// Key usage names; `None` when the extension is absent.
    pub key_usage: Option<Vec<&'static str>>,
    /// Extended key usage names or OIDs; `None` when the extension is absent.
    pub extended_key_usage: Option<Vec<String>>,
    /// `DNS:…`, `IP:…`, `URI:…`, `email:…`.
    pub subject_alternative_names: Vec<String>,
    /// Every extension, in the certificate's order.
    pub extensions: Vec<Extension>,
    /// Every finding ([`inspect`]).
    pub findings: Vec<Finding>,
}

/// One extension of a certificate, decoded as `openssl x509 -text` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Extension {
    /// The dotted OID, e.g. `2.5.29.19`.
    pub oid: String,
    /// The name OpenSSL gives it, e.g. `X509v3 Basic Constraints`; `None` for an
    /// extension jitr does not know (shown by its OID).
    pub name: Option<&'static str>,
    /// The critical flag.
    pub critical: bool,
    /// The value, one entry per line as OpenSSL prints it (nested lines indented by two
    /// spaces); the DER as colon-separated hex for an extension it cannot decode.
    pub value: Vec<String>,
}

/// The whole view of `cert` in `role` at `now`.
pub fn describe(cert: &Certificate, role: Role, now: Timestamp) -> CertificateInfo {
    let hex_lower = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    CertificateInfo {
        id: cert.id(),
        pem: cert.to_pem(),
        version: cert.version(),
        subject: cert.subject().rfc4514().to_string(),
        subject_common_name: cert.subject().common_name().map(str::to_string),
        issuer: cert.issuer().rfc4514().to_string(),
        serial_number: cert.serial_hex(),
        not_before: cert.validity().not_before,
        not_after: cert.validity().not_after,
        is_ca: cert.is_ca(),
        path_len: cert.path_len(),
        has_basic_constraints: cert.basic_constraints().is_some(),
        self_signed: is_self_signed(cert),
        key_algorithm: cert.key_algorithm().to_string(),
        signature_algorithm: cert.signature_algorithm().to_string(),
        subject_key_identifier: cert.subject_key_identifier().map(hex_lower),
        authority_key_identifier: cert.authority_key_identifier().map(hex_lower),
        key_usage: cert.key_usage().map(<[&str]>::to_vec),
        extended_key_usage: cert.extended_key_usage().map(<[String]>::to_vec),
        subject_alternative_names: cert.subject_alternative_names().to_vec(),
        extensions: extensions(cert),
        findings: inspect(cert, role, now),
    }
}

/// Every extension of `cert`, in its order, decoded.
pub fn extensions(cert: &Certificate) -> Vec<Extension> {
    // The certificate parsed once already; reading it again cannot fail.
    let Ok((_, x509)) = X509Certificate::from_der(cert.der()) else {
        return Vec::new();
    };
    x509.extensions().iter().map(extension).collect()
}

fn extension(ext: &X509Extension<'_>) -> Extension {
    let oid = ext.oid.to_id_string();
    let name = lookup_oid(&EXTENSION_NAMES, &oid);
    let value = match ext.parsed_extension() {
        ParsedExtension::BasicConstraints(bc) => vec![match (bc.ca, bc.path_len_constraint) {
            (true, Some(n)) => format!("CA:TRUE, pathlen:{n}"),
            (true, None) => "CA:TRUE".to_string(),
            (false, _) => "CA:FALSE".to_string(),
        }],
        ParsedExtension::KeyUsage(ku) => vec![key_usages(ku, UsageNames::OpenSsl).join(", ")],
        ParsedExtension::ExtendedKeyUsage(eku) => {
            vec![extended_key_usages(eku, UsageNames::OpenSsl).join(", ")]
        }
        ParsedExtension::SubjectKeyIdentifier(ki) => vec![colon_hex(ki.0)],
        ParsedExtension::AuthorityKeyIdentifier(aki) => authority_key_identifier(aki),
        ParsedExtension::SubjectAlternativeName(san) => vec![names(&san.general_names)],
        ParsedExtension::IssuerAlternativeName(ian) => vec![names(&ian.general_names)],
        ParsedExtension::AuthorityInfoAccess(aia) => access_lines(&aia.accessdescs),
        ParsedExtension::SubjectInfoAccess(sia) => access_lines(&sia.accessdescs),
        ParsedExtension::CRLDistributionPoints(dps) => distribution_points(&dps.points),
        ParsedExtension::CertificatePolicies(policies) => certificate_policies(policies),
        ParsedExtension::PolicyMappings(pm) => pm
            .mappings
            .iter()
            .map(|m| {
                format!(
                    "{}:{}",
                    m.issuer_domain_policy.to_id_string(),
                    m.subject_domain_policy.to_id_string()
                )
            })
            .collect(),
        ParsedExtension::PolicyConstraints(pc) => vec![policy_constraints(pc)],
        ParsedExtension::InhibitAnyPolicy(iap) => vec![iap.skip_certs.to_string()],
        ParsedExtension::NameConstraints(nc) => name_constraints(nc),
        ParsedExtension::NSCertType(t) => vec![ns_cert_type(t)],
        ParsedExtension::NsCertComment(c) => vec![c.to_string()],
        ParsedExtension::SCT(scts) => scts.iter().flat_map(sct_lines).collect(),
        ParsedExtension::CRLNumber(n) => vec![n.to_string()],
        ParsedExtension::ParseError { .. } => vec![
            "(not decoded: the value is malformed)".to_string(),
            colon_hex(ext.value),
        ],
        _ => hex_lines(ext.value),
    };
    Extension {
        oid,
        name,
        critical: ext.critical,
        value,
    }
}

/// AuthorityKeyIdentifier, as OpenSSL prints it: the key id, the issuer names, the serial.
fn authority_key_identifier(aki: &AuthorityKeyIdentifier<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(ki) = &aki.key_identifier {
        lines.push(colon_hex(ki.0));
    }
    for n in aki.authority_cert_issuer.iter().flatten() {
        lines.push(general_name(n));
    }
    if let Some(serial) = aki.authority_cert_serial {
        lines.push(format!("serial:{}", colon_hex(serial)));
    }
    lines
}

/// Authority or subject information access: a line per access description.
fn access_lines(descs: &[AccessDescription<'_>]) -> Vec<String> {
    descs
        .iter()
        .map(|d| access(&d.access_method, &d.access_location))
        .collect()
}

/// CRLDistributionPoints: each point's full name (or a note that a relative name is not
/// decoded) and CRL issuer.
fn distribution_points(points: &[CRLDistributionPoint<'_>]) -> Vec<String> {
    let mut lines = Vec::new();
    for dp in points {
        match &dp.distribution_point {
            Some(DistributionPointName::FullName(names)) => {
                lines.push("Full Name:".to_string());
                lines.extend(names.iter().map(|n| format!("  {}", general_name(n))));
            }
            Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                lines.push("Relative Name: (not decoded)".to_string())
            }
            None => {}
        }
        if let Some(issuer) = &dp.crl_issuer {
            lines.push(format!("CRL Issuer: {}", names(issuer)));
        }
    }
    lines
}

/// CertificatePolicies: each policy by name, its CPS URIs decoded, other qualifiers in hex.
fn certificate_policies(policies: &CertificatePolicies<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    for p in policies.iter() {
        lines.push(format!("Policy: {}", oid_name(&p.policy_id, &POLICY_NAMES)));
        for q in p.policy_qualifiers.iter().flatten() {
            let qid = q.policy_qualifier_id.to_id_string();
            lines.push(match (qid.as_str(), ia5(q.qualifier)) {
                ("1.3.6.1.5.5.7.2.1", Some(uri)) => format!("  CPS: {uri}"),
                ("1.3.6.1.5.5.7.2.2", _) => "  User Notice: (not decoded)".to_string(),
                _ => format!("  {qid}: {}", colon_hex(q.qualifier)),
            });
        }
    }
    lines
}

/// PolicyConstraints on one line.
fn policy_constraints(pc: &PolicyConstraints) -> String {
    let mut parts = Vec::new();
    if let Some(n) = pc.require_explicit_policy {
        parts.push(format!("Require Explicit Policy:{n}"));
    }
    if let Some(n) = pc.inhibit_policy_mapping {
        parts.push(format!("Inhibit Policy Mapping:{n}"));
    }
    parts.join(", ")
}

/// NameConstraints: the permitted, then the excluded subtrees.
fn name_constraints(nc: &NameConstraints<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    for (label, trees) in [
        ("Permitted:", &nc.permitted_subtrees),
        ("Excluded:", &nc.excluded_subtrees),
    ] {
        if let Some(trees) = trees {
            lines.push(label.to_string());
            lines.extend(trees.iter().map(|t| format!("  {}", general_name(&t.base))));
        }
    }
    lines
}

/// Netscape's certificate type bits, by OpenSSL's names.
fn ns_cert_type(t: &NSCertType) -> String {
    [
        (t.ssl_client(), "SSL Client"),
        (t.ssl_server(), "SSL Server"),
        (t.smime(), "S/MIME"),
        (t.object_signing(), "Object Signing"),
        (t.ssl_ca(), "SSL CA"),
        (t.smime_ca(), "S/MIME CA"),
        (t.object_signing_ca(), "Object Signing CA"),
    ]
    .iter()
    .filter_map(|(set, n)| set.then_some(*n))
    .collect::<Vec<_>>()
    .join(", ")
}

/// One signed certificate timestamp: its version, log id and time.
fn sct_lines(sct: &SignedCertificateTimestamp<'_>) -> Vec<String> {
    let at = i64::try_from(sct.timestamp)
        .map(|ms| Timestamp::from_unix_millis(ms).to_string())
        .unwrap_or_else(|_| sct.timestamp.to_string());
    vec![
        "Signed Certificate Timestamp:".to_string(),
        format!("  Version: v{} (0x{:x})", sct.version.0 + 1, sct.version.0),
        format!("  Log ID: {}", colon_hex(sct.id.key_id)),
        format!("  Timestamp: {at}"),
    ]
}

/// The names OpenSSL prints for the extensions it knows, by dotted OID.
#[rustfmt::skip]
const EXTENSION_NAMES: [(&str, &str); 23] = [
    ("2.5.29.9", "X509v3 Subject Directory Attributes"),
    ("2.5.29.14", "X509v3 Subject Key Identifier"),
    ("2.5.29.15", "X509v3 Key Usage"),
    ("2.5.29.16", "X509v3 Private Key Usage Period"),
    ("2.5.29.17", "X509v3 Subject Alternative Name"),
    ("2.5.29.18", "X509v3 Issuer Alternative Name"),
    ("2.5.29.19", "X509v3 Basic Constraints"),
    ("2.5.29.30", "X509v3 Name Constraints"),
    ("2.5.29.31", "X509v3 CRL Distribution Points"),
    ("2.5.29.32", "X509v3 Certificate Policies"),
    ("2.5.29.33", "X509v3 Policy Mappings"),
    ("2.5.29.35", "X509v3 Authority Key Identifier"),
    ("2.5.29.36", "X509v3 Policy Constraints"),
    ("2.5.29.37", "X509v3 Extended Key Usage"),
    ("2.5.29.46", "X509v3 Freshest CRL"),
    ("2.5.29.54", "X509v3 Inhibit Any Policy"),
    ("1.3.6.1.5.5.7.1.1", "Authority Information Access"),
    ("1.3.6.1.5.5.7.1.11", "Subject Information Access"),
    ("1.3.6.1.5.5.7.1.24", "TLS Feature"),
    ("1.3.6.1.4.1.11129.2.4.2", "CT Precertificate SCTs"),
    ("1.3.6.1.4.1.11129.2.4.3", "CT Precertificate Poison"),
    ("2.16.840.1.113730.1.1", "Netscape Cert Type"),
    ("2.16.840.1.113730.1.13", "Netscape Comment"),
];

/// The names OpenSSL prints for certificate policies, by dotted OID.
const POLICY_NAMES: [(&str, &str); 1] = [("2.5.29.32.0", "X509v3 Any Policy")];

/// The names OpenSSL prints for access methods, by dotted OID.
#[rustfmt::skip]
const ACCESS_METHODS: [(&str, &str); 4] = [
    ("1.3.6.1.5.5.7.48.1", "OCSP"),
    ("1.3.6.1.5.5.7.48.2", "CA Issuers"),
    ("1.3.6.1.5.5.7.48.3", "Time Stamping"),
    ("1.3.6.1.5.5.7.48.5", "CA Repository"),
];

fn access(method: &Oid<'_>, location: &GeneralName<'_>) -> String {
    format!(
        "{} - {}",
        oid_name(method, &ACCESS_METHODS),
        general_name(location)
    )
}

fn names(list: &[GeneralName<'_>]) -> String {
    list.iter().map(general_name).collect::<Vec<_>>().join(", ")
}

fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(_) | GeneralName::URI(_) | GeneralName::RFC822Name(_) => {
            crate::cert::general_name(name)
        }
        GeneralName::IPAddress(b) => match ip_address(b) {
            Some(ip) => format!("IP Address:{ip}"),
            // Name constraints: an address and its mask.
            None if b.len() == 8 || b.len() == 32 => {
                let (addr, mask) = b.split_at(b.len() / 2);
                format!("IP Address:{}/{}", colon_hex(addr), colon_hex(mask))
            }
            None => format!("IP Address:{}", colon_hex(b)),
        },
        GeneralName::DirectoryName(n) => format!("DirName:{n}"),
        GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, _) => format!("othername:{}", oid.to_id_string()),
        GeneralName::X400Address(_) => "X400Name:(not decoded)".to_string(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:(not decoded)".to_string(),
        GeneralName::Invalid(_, b) => format!("(invalid name: {})", colon_hex(b)),
    }
}

/// The text of a DER IA5String.
fn ia5(der: &[u8]) -> Option<String> {
    use x509_parser::asn1_rs::{Any, FromBer, Tag};
    let (_, any) = Any::from_ber(der).ok()?;
    (any.tag() == Tag::Ia5String)
        .then(|| core::str::from_utf8(any.data).ok().map(str::to_string))
        .flatten()
}

/// Bytes as uppercase colon-separated hex, as OpenSSL prints key identifiers.
fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// An undecoded value: its DER as colon-separated hex, 16 bytes a line.
fn hex_lines(bytes: &[u8]) -> Vec<String> {
    if bytes.is_empty() {
        return vec!["(empty)".to_string()];
    }
    bytes.chunks(16).map(colon_hex).collect()
}

/// What webpki reported about a certificate (a refusal's `detail`, which holds webpki's
/// error name, e.g. `CaUsedAsEndEntity` or `TrailingData(Certificate)`), as a sentence
/// for people. Details that are sentences already pass through.
pub(crate) fn path_error(detail: &str) -> String {
    // webpki's error names are identifiers, some with a parenthesised payload.
    let name = detail.split(['(', ' ', '{']).next().unwrap_or(detail);
    // webpki's names start with a capital; jitr's own sentences with a small letter.
    let sentence = detail.starts_with(|c: char| c.is_ascii_lowercase());
    if sentence || (detail.contains(' ') && !detail.contains('{') && !detail.contains('(')) {
        return detail.to_string();
    }
    let sentence = match name {
        "BadDer" => "it is not valid DER",
        "BadDerTime" => "a time in it is not valid DER",
        "TrailingData" => "data follows the end of the certificate",
        "UnsupportedCertVersion" => "its X.509 version is not supported (v3 is needed)",
        "CaUsedAsEndEntity" => "it is a CA certificate (basicConstraints cA true), which cannot be a device certificate",
        "EndEntityUsedAsCa" => "the certificate that issued it is not a CA",
        "ExtensionValueInvalid" => "an extension's value is invalid",
        "MalformedExtensions" => "its extensions are malformed",
        "UnsupportedCriticalExtension" => "it has a critical extension webpki does not support",
        "EmptyEkuExtension" => "its extendedKeyUsage extension is empty",
        "InvalidSerialNumber" => "its serial number is invalid (zero, negative, or longer than 20 bytes)",
        "InvalidCertValidity" => "its validity period ends before it begins",
        "InvalidSignatureForPublicKey" => "its signature does not verify with the CA's key",
        "SignatureAlgorithmMismatch" => "its signature algorithm differs from the one its contents name",
        "UnsupportedSignatureAlgorithm"
        | "UnsupportedSignatureAlgorithmContext"
        | "UnsupportedSignatureAlgorithmForPublicKey"
        | "UnsupportedSignatureAlgorithmForPublicKeyContext" => {
            "it is signed with an algorithm jitr does not verify"
        }
        "PathLenConstraintViolated" => "the path is longer than a CA's pathLenConstraint allows",
        "NameConstraintViolation" | "MalformedNameConstraint" | "InvalidNetworkMaskConstraint" => {
            "its names break the CA's name constraints"
        }
        "MaximumSignatureChecksExceeded"
        | "MaximumPathBuildCallsExceeded"
        | "MaximumPathDepthExceeded"
        | "MaximumNameConstraintComparisonsExceeded" => {
            "path building gave up: too many candidate CAs or checks"
        }
        "UnsupportedNameType" | "MalformedDnsIdentifier" => "it holds a name webpki cannot check",
        "CertRevoked" => "it is revoked",
        "CertDistrusted" => "it is distrusted",
        _ => return format!("webpki refuses it ({name})"),
    };
    sentence.to_string()
}

enum SignatureSupport {
    Supported,
    Weak,
    Unsupported,
}

/// Whether jitr's signature algorithms (those the decision gives webpki) cover `alg`, a
/// name from [`Certificate::signature_algorithm`].
fn signature_support(alg: &str) -> SignatureSupport {
    match alg {
        "ecdsa-with-SHA256"
        | "ecdsa-with-SHA384"
        | "ED25519"
        | "sha256WithRSAEncryption"
        | "sha384WithRSAEncryption"
        | "sha512WithRSAEncryption"
        | "rsassaPss" => SignatureSupport::Supported,
        "md2WithRSAEncryption"
        | "md5WithRSAEncryption"
        | "sha1WithRSAEncryption"
        | "ecdsa-with-SHA1"
        | "dsa-with-SHA1" => SignatureSupport::Weak,
        _ => SignatureSupport::Unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };

    /// X.509 v1, RSA 1024, sha1WithRSAEncryption, self-signed, valid 2026-11-29 to
    /// 2036-11-26 (made with `openssl x509 -req -signkey ... -sha1`).
    const LEGACY_V1: &str = "-----BEGIN CERTIFICATE-----
MIIBmDCCAQECAhI0MA0GCSqGSIb3DQEBBQUAMBQxEjAQBgNVBAMMCWxlZ2FjeSB2
MTAeFw0yNjExMjkxMTQ5NTFaFw0zNjExMjYxMTQ5NTFaMBQxEjAQBgNVBAMMCWxl
Z2FjeSB2MTCBnzANBgkqhkiG9w0BAQEFAAOBjQAwgYkCgYEA2EkcjaDo7e7PUFDW
CWjMuZDJ0Sm1/aV/JM6if7P1RvRwd5U9RE6zfgUB8fcOCuhqG64ucQUoc5loQ31E
qTZvtVWG9RRowYthKJv394ZszPVK1Ki2v3fboE8rhE9sNs8boHGpM74yR8wNlNgH
UAHhrI+TwwLYYx8rPt9hYXNqQSkCAwEAATANBgkqhkiG9w0BAQUFAAOBgQAL/GMU
siMUGJm2OG0vcMYtsNhKWI7haBs5twxjbws9UtvAF0UxUW+uHUh4ICaRdzSQJmAK
kw7DMXfbwYjrLuabqtuoHNP+p7qj+0pvFDtYbAwS95SBWYcqHJPraudh9xAyvVTy
PDiVA4tOEGky6Rr0Gv9RrulDdOQWo9JrqRq06A==
-----END CERTIFICATE-----
";

    fn at(y: i32, m: u8, d: u8) -> Timestamp {
        let t = rcgen::date_time_ymd(y, m, d);
        Timestamp::from_unix_secs(t.unix_timestamp())
    }

    fn codes(cert: &Certificate, role: Role, now: Timestamp) -> Vec<&'static str> {
        inspect(cert, role, now)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    struct Pki {
        ca: rcgen::Issuer<'static, KeyPair>,
        ca_cert: Certificate,
    }

    fn pki() -> Pki {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "Fleet CA");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2035, 1, 1);
        let der = p.self_signed(&key).unwrap().der().to_vec();
        Pki {
            ca: rcgen::Issuer::new(p, key),
            ca_cert: Certificate::from_der(&der).unwrap(),
        }
    }

    fn device(pki: &Pki, edit: impl FnOnce(&mut CertificateParams)) -> Certificate {
        let mut p = CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "device-1");
        p.not_before = rcgen::date_time_ymd(2026, 1, 1);
        p.not_after = rcgen::date_time_ymd(2027, 1, 1);
        edit(&mut p);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        Certificate::from_der(p.signed_by(&key, &pki.ca).unwrap().der()).unwrap()
    }

    #[test]
    fn a_good_device_and_ca_have_no_problems() {
        let pki = pki();
        let dev = device(&pki, |p| {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        });
        let now = at(2026, 6, 1);
        assert_eq!(inspect(&dev, Role::Device, now), vec![]);
        assert_eq!(inspect(&dev, Role::Any, now), vec![]);
        assert!(!is_self_signed(&dev));
        assert!(is_self_signed(&pki.ca_cert));
        // A root CA gets one piece of information and nothing else, whichever role.
        for role in [Role::Any, Role::Ca] {
            assert_eq!(codes(&pki.ca_cert, role, now), ["SELF_SIGNED_CA"]);
            assert_eq!(inspect(&pki.ca_cert, role, now)[0].severity, Severity::Info);
        }
    }

    #[test]
    fn validity_is_judged_at_now() {
        let pki = pki();
        let dev = device(&pki, |_| {});
        assert_eq!(
            codes(&dev, Role::Device, at(2025, 12, 31)),
            ["NOT_YET_VALID"]
        );
        assert_eq!(codes(&dev, Role::Device, at(2027, 1, 2)), ["EXPIRED"]);
        assert_eq!(
            codes(&dev, Role::Device, at(2026, 12, 20)),
            ["EXPIRES_SOON"]
        );
        let f = &inspect(&dev, Role::Device, at(2026, 12, 20))[0];
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("in 12 day(s)"), "{}", f.message);
        assert_eq!(
            codes(&dev, Role::Device, at(2026, 11, 30)),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_legacy_certificate_collects_every_problem() {
        let cert = Certificate::from_pem(LEGACY_V1).unwrap();
        assert_eq!(cert.version(), 1);
        assert_eq!(cert.signature_algorithm(), "sha1WithRSAEncryption");
        assert!(is_self_signed(&cert));
        let now = at(2030, 1, 1);
        // As a device: every error, then the warnings.
        assert_eq!(
            codes(&cert, Role::Device, now),
            [
                "WEAK_SIGNATURE_ALGORITHM",
                "WEAK_KEY",
                "NOT_X509_V3",
                "SELF_SIGNED_DEVICE"
            ]
        );
        // As a CA: no basicConstraints is an error; its own SHA-1 signature only a warning.
        let as_ca = inspect(&cert, Role::Ca, now);
        let find = |code| as_ca.iter().find(|f| f.code == code).unwrap().severity;
        assert_eq!(find("CA_WITHOUT_BASIC_CONSTRAINTS"), Severity::Error);
        assert_eq!(find("WEAK_SIGNATURE_ALGORITHM"), Severity::Warning);
        assert_eq!(find("WEAK_KEY"), Severity::Error);
        // Unsaid: it signs itself, so it is judged as a would-be CA, with a warning.
        let any = inspect(&cert, Role::Any, now);
        let bc = any
            .iter()
            .find(|f| f.code == "CA_WITHOUT_BASIC_CONSTRAINTS")
            .unwrap();
        assert_eq!(bc.severity, Severity::Warning);
        assert!(bc.message.contains("signs itself"));
        assert!(any.windows(2).all(|w| w[0].severity <= w[1].severity));
    }

    #[test]
    fn device_rules() {
        let pki = pki();
        let now = at(2026, 6, 1);
        let server_only = device(&pki, |p| {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        });
        assert_eq!(
            codes(&server_only, Role::Device, now),
            [
                "EKU_WITHOUT_CLIENT_AUTH",
                "KEY_USAGE_WITHOUT_DIGITAL_SIGNATURE"
            ]
        );
        let f = &inspect(&server_only, Role::Device, now)[0];
        assert!(f.message.contains("(serverAuth)"), "{}", f.message);
        // A CA certificate presented as a device (its keyUsage is a CA's too).
        assert_eq!(
            codes(&pki.ca_cert, Role::Device, now),
            [
                "CA_USED_AS_DEVICE",
                "KEY_USAGE_WITHOUT_DIGITAL_SIGNATURE",
                "SELF_SIGNED_DEVICE"
            ]
        );
        // Marked cA false but with keyCertSign: a would-be CA when the role is unsaid.
        let not_ca = device(&pki, |p| {
            p.is_ca = IsCa::ExplicitNoCa;
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        });
        assert_eq!(
            codes(&not_ca, Role::Any, now),
            ["CA_BASIC_CONSTRAINTS_FALSE"]
        );
        assert_eq!(
            codes(&not_ca, Role::Ca, now),
            ["CA_BASIC_CONSTRAINTS_FALSE"]
        );
        assert_eq!(inspect(&not_ca, Role::Ca, now)[0].severity, Severity::Error);
    }

    #[test]
    fn ca_rules() {
        let pki = pki();
        let now = at(2026, 6, 1);
        // An intermediate CA without keyCertSign.
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "Sub CA");
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let sub = Certificate::from_der(p.signed_by(&key, &pki.ca).unwrap().der()).unwrap();
        assert_eq!(sub.path_len(), Some(0));
        assert_eq!(codes(&sub, Role::Any, now), ["CA_WITHOUT_KEY_CERT_SIGN"]);
        assert_eq!(inspect(&sub, Role::Ca, now)[0].severity, Severity::Error);
        // A plain device certificate said to be a CA.
        let dev = device(&pki, |_| {});
        assert_eq!(codes(&dev, Role::Ca, now), ["CA_WITHOUT_BASIC_CONSTRAINTS"]);
    }

    #[test]
    fn signature_algorithms_are_classified() {
        for alg in ["ecdsa-with-SHA256", "ED25519", "sha256WithRSAEncryption"] {
            assert!(matches!(
                signature_support(alg),
                SignatureSupport::Supported
            ));
        }
        for alg in [
            "sha1WithRSAEncryption",
            "md5WithRSAEncryption",
            "ecdsa-with-SHA1",
        ] {
            assert!(matches!(signature_support(alg), SignatureSupport::Weak));
        }
        for alg in ["ecdsa-with-SHA512", "ED448", "1.2.3.4"] {
            assert!(matches!(
                signature_support(alg),
                SignatureSupport::Unsupported
            ));
        }
        let pki = pki();
        assert_eq!(pki.ca_cert.signature_algorithm(), "ecdsa-with-SHA256");
    }

    #[test]
    fn codes_are_unique_and_serialize_lowercase_severities() {
        let mut sorted = CODES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), CODES.len());
        let f = Finding {
            code: "EXPIRED",
            severity: Severity::Error,
            message: "m".into(),
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"code":"EXPIRED","severity":"error","message":"m"}"#
        );
        assert_eq!(Severity::Warning.as_str(), "warning");
    }

    #[test]
    fn describe_lists_every_extension_as_openssl_does() {
        use rcgen::{CrlDistributionPoint, CustomExtension, SanType};
        let pki = pki();
        let dev = device(&pki, |p| {
            p.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ClientAuth,
                ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 99999, 1]),
            ];
            p.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            p.is_ca = IsCa::ExplicitNoCa;
            p.subject_alt_names = vec![
                SanType::DnsName("device-1.example.com".try_into().unwrap()),
                SanType::IpAddress([192, 0, 2, 1].into()),
                SanType::URI("spiffe://example/device-1".try_into().unwrap()),
            ];
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec!["http://crl.example.com/fleet.crl".into()],
            }];
            p.use_authority_key_identifier_extension = true;
            // Authority Information Access (OCSP), as raw DER: x509-parser decodes it.
            let uri = b"http://ocsp.example.com";
            let mut aia = vec![
                0x30,
                (2 + 10 + 2 + uri.len()) as u8,
                0x30,
                (10 + 2 + uri.len()) as u8,
            ];
            aia.extend([
                0x06,
                0x08,
                0x2b,
                0x06,
                0x01,
                0x05,
                0x05,
                0x07,
                0x30,
                0x01,
                0x86,
                uri.len() as u8,
            ]);
            aia.extend(uri);
            p.custom_extensions = vec![
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], aia),
                {
                    let mut e = CustomExtension::from_oid_content(
                        &[1, 2, 3, 4, 5],
                        vec![0x04, 0x02, 0xab, 0xcd],
                    );
                    e.set_criticality(true);
                    e
                },
            ];
        });
        let info = describe(&dev, Role::Device, at(2026, 6, 1));
        let by_oid = |oid: &str| {
            info.extensions
                .iter()
                .find(|e| e.oid == oid)
                .unwrap_or_else(|| panic!("{oid} in {:#?}", info.extensions))
        };
        let bc = by_oid("2.5.29.19");
        assert_eq!(
            (bc.name, bc.critical, bc.value.clone()),
            (
                Some("X509v3 Basic Constraints"),
                true,
                vec!["CA:FALSE".to_string()]
            )
        );
        let ku = by_oid("2.5.29.15");
        assert_eq!(
            (ku.critical, ku.value.clone()),
            (
                true,
                vec!["Digital Signature, Key Encipherment".to_string()]
            )
        );
        assert_eq!(
            by_oid("2.5.29.37").value,
            ["TLS Web Client Authentication, 1.3.6.1.4.1.99999.1"]
        );
        assert_eq!(
            by_oid("2.5.29.17").value,
            ["DNS:device-1.example.com, IP Address:192.0.2.1, URI:spiffe://example/device-1"]
        );
        assert_eq!(
            by_oid("2.5.29.31").value,
            ["Full Name:", "  URI:http://crl.example.com/fleet.crl"]
        );
        assert_eq!(
            by_oid("1.3.6.1.5.5.7.1.1").value,
            ["OCSP - URI:http://ocsp.example.com"]
        );
        let aki = by_oid("2.5.29.35");
        let ski_hex = info.authority_key_identifier.clone().unwrap();
        assert_eq!(aki.value[0].replace(':', "").to_lowercase(), ski_hex);
        let unknown = by_oid("1.2.3.4.5");
        assert_eq!(
            (unknown.name, unknown.critical, unknown.value.clone()),
            (None, true, vec!["04:02:AB:CD".to_string()])
        );
        // The certificate's order is kept, and every extension is there.
        let (_, x509) = X509Certificate::from_der(dev.der()).unwrap();
        let oids: Vec<String> = x509
            .extensions()
            .iter()
            .map(|e| e.oid.to_id_string())
            .collect();
        assert_eq!(
            info.extensions
                .iter()
                .map(|e| e.oid.clone())
                .collect::<Vec<_>>(),
            oids
        );
        // The view model: the fields and the findings, times in epoch milliseconds.
        assert_eq!(info.id, dev.id());
        assert_eq!(info.not_before, at(2026, 1, 1));
        assert_eq!(info.findings, inspect(&dev, Role::Device, at(2026, 6, 1)));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(
            json["notAfter"],
            serde_json::json!(at(2027, 1, 1).unix_millis())
        );
        assert_eq!(
            json["extensions"][0]["critical"],
            serde_json::json!(bc.oid == oids[0])
        );
        assert_eq!(json["subjectCommonName"], "device-1");
    }

    #[test]
    fn issued_by_is_the_decision_rule() {
        let fleet = pki();
        let dev = device(&fleet, |_| {});
        assert!(issued_by(&dev, &fleet.ca_cert));
        assert!(!issued_by(&fleet.ca_cert, &dev));
        // Same subject, another key: the name alone does not make an issuer.
        let other = pki();
        assert_eq!(
            other.ca_cert.subject().rfc4514(),
            fleet.ca_cert.subject().rfc4514()
        );
        assert!(!issued_by(&dev, &other.ca_cert));
    }

    #[test]
    fn roles_parse_from_their_names() {
        for role in [Role::Any, Role::Device, Role::Ca] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        let err = "leaf".parse::<Role>().unwrap_err();
        assert_eq!(err.code(), "InvalidRequestException");
        assert_eq!(
            err.message(),
            "role must be \"any\", \"device\" or \"ca\", got “leaf”"
        );
    }

    #[test]
    fn messages_are_sentences_not_debug_text() {
        assert_eq!(
            path_error("CaUsedAsEndEntity"),
            "it is a CA certificate (basicConstraints cA true), which cannot be a device certificate"
        );
        assert_eq!(
            path_error("TrailingData(Certificate)"),
            "data follows the end of the certificate"
        );
        assert_eq!(
            path_error("SomethingNew { a: 1 }"),
            "webpki refuses it (SomethingNew)"
        );
        assert_eq!(
            path_error("the certificate is empty"),
            "the certificate is empty"
        );
        // A sentence keeps its parentheses and braces (a name quoted with escapes).
        let quoted = "the device certificate has the dNSName \"\\u{7f}\" (not a host name)";
        assert_eq!(path_error(quoted), quoted);
        // x509-parser's errors, through Certificate::from_der.
        let pki = pki();
        let der = pki.ca_cert.der();
        let mut bad_tag = der.to_vec();
        bad_tag[4] = 0x02; // the TBSCertificate's SEQUENCE made an INTEGER
        for input in [
            &der[..der.len() / 2],
            &bad_tag[..],
            &[0x30, 0x03, 0x02, 0x01][..],
        ] {
            let msg = Certificate::from_der(input)
                .unwrap_err()
                .message()
                .to_string();
            assert!(
                msg.starts_with("the certificate is not valid DER X.509: "),
                "{msg}"
            );
            for debug in ["Der(", "Some(", "Tag(", "NomError", "{", "Parsing Error"] {
                assert!(!msg.contains(debug), "{msg}");
            }
        }
    }
}
