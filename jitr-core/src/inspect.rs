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

use serde::Serialize;

use crate::cert::{Certificate, KeyAlgorithm};
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

/// Whether the certificate signed itself: its issuer is its own subject and its own
/// public key verifies its signature.
pub fn is_self_signed(cert: &Certificate) -> bool {
    cert.issuer().der() == cert.subject().der() && cert.is_signed_by(cert).is_ok()
}

/// Every finding about `cert` in `role` at `now`, errors first, then warnings, then
/// information (in a fixed order within each severity). An empty list means nothing
/// stands in the way.
pub fn inspect(cert: &Certificate, role: Role, now: Timestamp) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |code: &'static str, severity: Severity, message: String| {
        debug_assert!(CODES.contains(&code), "{code} is listed in CODES");
        out.push(Finding {
            code,
            severity,
            message,
        });
    };
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

    // Validity.
    let validity = cert.validity();
    match validity.check(now) {
        ValidityCheck::Expired => add(
            "EXPIRED",
            Severity::Error,
            format!(
                "the certificate expired at {}: AWS IoT and jitr refuse it",
                validity.not_after
            ),
        ),
        ValidityCheck::NotYetValid => add(
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
                add(
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

    // Format and algorithms.
    if cert.version() != 3 {
        let v = cert.version();
        add(
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
        SignatureSupport::Weak => add(
            "WEAK_SIGNATURE_ALGORITHM",
            sig_severity,
            if signature_matters {
                format!("the certificate is signed with {alg}, which is broken: webpki (jitr) refuses to verify it")
            } else {
                format!("the certificate is signed with {alg}, which is broken; as a self-signed root its own signature is not checked, but reissue it with SHA-256 or better")
            },
        ),
        SignatureSupport::Unsupported => add(
            "UNSUPPORTED_SIGNATURE_ALGORITHM",
            sig_severity,
            format!(
                "the certificate is signed with {alg}; jitr verifies ECDSA (P-256, P-384) with SHA-256 or SHA-384, Ed25519, and RSA PKCS#1 or PSS with SHA-256, SHA-384 or SHA-512"
            ),
        ),
    }
    match cert.key_algorithm() {
        KeyAlgorithm::Rsa { bits } if *bits < 2048 => add(
            "WEAK_KEY",
            Severity::Error,
            format!(
                "the key is RSA {bits} bits; at least 2048 are needed (AWS IoT and webpki refuse smaller keys)"
            ),
        ),
        KeyAlgorithm::Rsa { bits } if *bits > 8192 => add(
            "UNSUPPORTED_KEY",
            Severity::Error,
            format!("the key is RSA {bits} bits; webpki (jitr) verifies RSA keys of 2048 to 8192 bits"),
        ),
        KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 | KeyAlgorithm::Ed25519 | KeyAlgorithm::Rsa { .. } => {}
        other => add(
            "UNSUPPORTED_KEY",
            Severity::Error,
            format!(
                "the key is {other}; jitr verifies RSA (2048 to 8192 bits), ECDSA P-256 and P-384, and Ed25519 keys"
            ),
        ),
    }

    // Role.
    if as_ca {
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
            None => add(
                "CA_WITHOUT_BASIC_CONSTRAINTS",
                severity,
                if inferred {
                    format!("the certificate {would_be} but has no basicConstraints extension: it cannot be registered as a CA (AWS: \"does not have the basicConstraints extension as true\")")
                } else {
                    "the certificate has no basicConstraints extension: RegisterCACertificate refuses it (AWS: \"does not have the basicConstraints extension as true\")".into()
                },
            ),
            Some(bc) if !bc.ca => add(
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
            add(
                "CA_WITHOUT_KEY_CERT_SIGN",
                Severity::Warning,
                "the CA's keyUsage lacks keyCertSign: strict verifiers refuse the certificates it signs".into(),
            );
        }
        if self_signed && cert.is_ca() {
            add(
                "SELF_SIGNED_CA",
                Severity::Info,
                "a self-signed (root) CA: JITR uses the CA that directly signed the device certificate, so register this one only if it signs devices itself".into(),
            );
        }
    } else {
        if cert.is_ca() {
            add(
                "CA_USED_AS_DEVICE",
                Severity::Error,
                "the certificate is a CA (basicConstraints cA true): webpki refuses a CA certificate as a device certificate".into(),
            );
        }
        if let Some(eku) = cert.extended_key_usage() {
            if !eku.iter().any(|u| u == "clientAuth") {
                add(
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
                add(
                    "KEY_USAGE_WITHOUT_DIGITAL_SIGNATURE",
                    Severity::Warning,
                    "the keyUsage extension lacks digitalSignature, which a TLS client key needs to sign the handshake; strict servers refuse it".into(),
                );
            }
        }
        if self_signed {
            add(
                "SELF_SIGNED_DEVICE",
                Severity::Warning,
                "the certificate signs itself: JITR registers only certificates signed by a registered CA; register it with RegisterCertificateWithoutCA instead".into(),
            );
        }
    }
    out.sort_by_key(|f| f.severity);
    out
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
}
