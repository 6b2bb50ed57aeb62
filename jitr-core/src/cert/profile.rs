//! The RFC 5280 rules jitr checks on a certification path beyond rustls-webpki's.
//!
//! rustls-webpki 0.103 validates a path as RFC 5280 §6 does for the web PKI, with these
//! gaps jitr fills (read from its `verify_cert.rs`, `cert.rs` and `trust_anchor.rs`):
//!
//! - **keyUsage of issuers.** webpki ignores the keyUsage extension when it validates a
//!   path ("BasicConstraints.cA makes KeyUsage redundant"), for intermediates and trust
//!   anchors alike; it reads it only for CRL issuers (cRLSign). RFC 5280 §4.2.1.3 and
//!   §6.1.4(n) say a key whose keyUsage lacks keyCertSign must not sign certificates.
//!   [`issuer_may_sign`] is checked for every issuer on every path: the registered CA
//!   (from its certificate, as webpki reads an anchor as a name and a key only) and each
//!   intermediate.
//! - **Trust anchors' extensions.** webpki reads a trust anchor as a subject, a key and
//!   its name constraints; its other extensions (critical or not) are never looked at.
//!   RegisterCACertificate therefore reads the CA as webpki reads any other certificate
//!   of a path (an unsupported critical extension is refused there) and checks its
//!   keyUsage.
//! - **The profile of RFC 5280 §4** (what conforming CAs must issue): webpki does not
//!   require key identifiers, a critical basicConstraints, a keyUsage in CA certificates
//!   or well-formed dNSNames, and accepts nameConstraints in an end-entity certificate.
//!   [`rfc5280`] checks these rules when
//!   [`PathOptions::rfc5280_profile`](crate::PathOptions) is on, as the conformance
//!   suites run; the JITR decision leaves it off, because AWS IoT accepts device
//!   certificates that break them (no authorityKeyIdentifier is common, and X.509 v1
//!   device certificates have no extensions at all).
//!
//! Problems are sentences without parentheses, so refusal messages print them as they
//! are.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, NameConstraints, ParsedExtension, X509Extension};
use x509_parser::oid_registry::{
    OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER, OID_X509_EXT_BASIC_CONSTRAINTS, OID_X509_EXT_KEY_USAGE,
    OID_X509_EXT_NAME_CONSTRAINTS, OID_X509_EXT_SUBJECT_ALT_NAME,
    OID_X509_EXT_SUBJECT_KEY_IDENTIFIER,
};
use x509_parser::prelude::FromDer;

/// Where a certificate sits on the path, for messages and for which rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The device (end-entity) certificate.
    Device,
    /// The n-th intermediate above the device certificate (1 = its issuer).
    Intermediate(usize),
    /// The registered CA the path ends at.
    RegisteredCa,
}

impl Place {
    fn name(self) -> String {
        match self {
            Self::Device => "the device certificate".into(),
            Self::Intermediate(n) => format!("intermediate CA {n} of the path"),
            Self::RegisteredCa => "the registered CA certificate".into(),
        }
    }

    fn is_ca(self) -> bool {
        self != Self::Device
    }
}

/// Reads a certificate for these checks.
fn parse(der: &[u8], place: Place) -> Result<X509Certificate<'_>, String> {
    X509Certificate::from_der(der)
        .map(|(_, x509)| x509)
        .map_err(|e| {
            format!(
                "{} cannot be read: {}",
                place.name(),
                crate::input::x509_error(&e)
            )
        })
}

/// RFC 5280 §4.2.1.3 and §6.1.4(n): an issuer whose keyUsage extension is present must
/// assert keyCertSign.
pub(crate) fn issuer_may_sign(der: &[u8], place: Place) -> Result<(), String> {
    let x509 = parse(der, place)?;
    match x509.key_usage() {
        Ok(Some(ku)) if !ku.value.key_cert_sign() => Err(no_key_cert_sign(place)),
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "{}'s keyUsage extension is invalid: {e}",
            place.name()
        )),
    }
}

/// The sentence for an issuer whose keyUsage lacks keyCertSign.
pub(crate) fn no_key_cert_sign(place: Place) -> String {
    format!(
        "{} may not sign certificates: its keyUsage extension does not assert keyCertSign, which RFC 5280 §4.2.1.3 requires of a key that signs certificates",
        place.name()
    )
}

/// The rules of RFC 5280 §4 for the certificates conforming CAs issue, at `place` on the
/// path. The first problem found, as a sentence: the names, then each extension in the
/// certificate's order, then the extensions the certificate must have.
pub(crate) fn rfc5280(der: &[u8], place: Place) -> Result<(), String> {
    let x509 = parse(der, place)?;
    let who = place.name();
    // §4.1.2.4: the issuer is a non-empty distinguished name.
    if x509.issuer().iter().next().is_none() {
        return Err(format!(
            "{who} has an empty issuer name, which RFC 5280 §4.1.2.4 forbids"
        ));
    }
    let subject_empty = x509.subject().iter().next().is_none();
    // §4.1.2.6: a CA's subject is a non-empty distinguished name.
    if place.is_ca() && subject_empty {
        return Err(format!(
            "{who} has an empty subject name, which RFC 5280 §4.1.2.6 forbids in a CA certificate"
        ));
    }
    let mut seen = Seen {
        self_issued: x509.issuer().as_raw() == x509.subject().as_raw(),
        subject_empty,
        ..Seen::default()
    };
    for ext in x509.extensions() {
        seen.read(ext, &who)?;
    }
    seen.required(place, &who)
}

/// What [`rfc5280`] learns from the names and the extensions that its later rules need.
#[derive(Default)]
struct Seen {
    self_issued: bool,
    subject_empty: bool,
    aki: bool,
    ski: bool,
    san_critical: Option<bool>,
    key_usage: bool,
    key_cert_sign: bool,
    /// cA and the extension's criticality.
    basic_constraints: Option<(bool, bool)>,
    name_constraints: bool,
}

impl Seen {
    /// The rules about one extension on its own; notes what the later rules need.
    fn read(&mut self, ext: &X509Extension<'_>, who: &str) -> Result<(), String> {
        let oid = &ext.oid;
        if *oid == OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER {
            // §4.2.1.1: non-critical, with a keyIdentifier.
            if ext.critical {
                return Err(format!(
                    "{who} has a critical authorityKeyIdentifier extension; RFC 5280 §4.2.1.1 requires it to be non-critical"
                ));
            }
            if let ParsedExtension::AuthorityKeyIdentifier(a) = ext.parsed_extension() {
                if a.key_identifier.is_none() {
                    return Err(format!(
                        "{who}'s authorityKeyIdentifier has no keyIdentifier, which RFC 5280 §4.2.1.1 requires"
                    ));
                }
            }
            self.aki = true;
        } else if *oid == OID_X509_EXT_SUBJECT_KEY_IDENTIFIER {
            self.ski = true;
            // §4.2.1.2: non-critical.
            if ext.critical {
                return Err(format!(
                    "{who} has a critical subjectKeyIdentifier extension; RFC 5280 §4.2.1.2 requires it to be non-critical"
                ));
            }
        } else if *oid == OID_X509_EXT_SUBJECT_ALT_NAME {
            self.san_critical = Some(ext.critical);
            if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
                alt_names(&san.general_names, who)?;
            }
        } else if *oid == OID_X509_EXT_KEY_USAGE {
            self.key_usage = true;
            if let ParsedExtension::KeyUsage(ku) = ext.parsed_extension() {
                self.key_cert_sign = ku.key_cert_sign();
            }
        } else if *oid == OID_X509_EXT_BASIC_CONSTRAINTS {
            if let ParsedExtension::BasicConstraints(bc) = ext.parsed_extension() {
                self.basic_constraints = Some((bc.ca, ext.critical));
            }
        } else if *oid == OID_X509_EXT_NAME_CONSTRAINTS {
            self.name_constraints = true;
            if let ParsedExtension::NameConstraints(nc) = ext.parsed_extension() {
                name_constraints(nc, who)?;
            }
        }
        Ok(())
    }

    /// The rules about which extensions a certificate at `place` must (not) have.
    fn required(&self, place: Place, who: &str) -> Result<(), String> {
        let is_ca = matches!(self.basic_constraints, Some((true, _)));
        // §4.2.1.1: every certificate but a self-signed one names its issuer's key. The
        // registered CA is the trust anchor, whose own issuer is not on the path (RFC 5280
        // §6.1.1(d)): its AKI is not required.
        if place != Place::RegisteredCa && !self.self_issued && !self.aki {
            return Err(format!(
                "{who} has no authorityKeyIdentifier extension, which RFC 5280 §4.2.1.1 requires in every certificate a conforming CA issues but a self-signed one"
            ));
        }
        // §4.2.1.6: an empty subject needs a critical subjectAltName.
        if self.subject_empty && self.san_critical != Some(true) {
            return Err(format!(
                "{who} has an empty subject and no critical subjectAltName extension, which RFC 5280 §4.2.1.6 requires"
            ));
        }
        // §4.2.1.3 and §4.2.1.9: keyCertSign only with cA.
        if self.key_cert_sign && !is_ca {
            return Err(format!(
                "{who} asserts keyCertSign without basicConstraints cA true; RFC 5280 §4.2.1.3 forbids it"
            ));
        }
        // §4.2.1.10: name constraints only in a CA certificate.
        if self.name_constraints && !is_ca {
            return Err(format!(
                "{who} is not a CA but has a nameConstraints extension, which RFC 5280 §4.2.1.10 allows only in CA certificates"
            ));
        }
        if place.is_ca() {
            // §4.2.1.9: critical in a CA certificate.
            if let Some((_, false)) = self.basic_constraints {
                return Err(format!(
                    "{who}'s basicConstraints extension is not critical; RFC 5280 §4.2.1.9 requires it to be critical in a CA certificate"
                ));
            }
            // §4.2.1.2: every CA certificate identifies its key.
            if !self.ski {
                return Err(format!(
                    "{who} has no subjectKeyIdentifier extension, which RFC 5280 §4.2.1.2 requires in every CA certificate"
                ));
            }
            // §4.2.1.3: a key that verifies certificate signatures has a keyUsage.
            if !self.key_usage {
                return Err(format!(
                    "{who} has no keyUsage extension, which RFC 5280 §4.2.1.3 requires in a CA certificate"
                ));
            }
        }
        Ok(())
    }
}

/// §4.2.1.6: every dNSName of the subjectAltName is in the preferred name syntax.
fn alt_names(names: &[GeneralName<'_>], who: &str) -> Result<(), String> {
    for name in names {
        if let GeneralName::DNSName(dns) = name {
            if !is_preferred_name(dns, true) {
                return Err(format!(
                    "{who} has the dNSName {dns:?}, which is not in the preferred name syntax RFC 5280 §4.2.1.6 requires: letters, digits and hyphens in labels of 1 to 63 characters"
                ));
            }
        }
    }
    Ok(())
}

/// §4.2.1.10: nameConstraints is not empty, and its dNSName constraints are DNS names.
fn name_constraints(nc: &NameConstraints<'_>, who: &str) -> Result<(), String> {
    let permitted = nc.permitted_subtrees.as_deref().unwrap_or_default();
    let excluded = nc.excluded_subtrees.as_deref().unwrap_or_default();
    if permitted.is_empty() && excluded.is_empty() {
        return Err(format!(
            "{who}'s nameConstraints has neither permitted nor excluded subtrees; RFC 5280 §4.2.1.10 requires one of them"
        ));
    }
    for subtree in permitted.iter().chain(excluded) {
        if let GeneralName::DNSName(dns) = &subtree.base {
            if !dns.is_empty() && !is_preferred_name(dns, false) {
                return Err(format!(
                    "{who} has the dNSName name constraint {dns:?}, which is not a DNS name in the preferred name syntax RFC 5280 §4.2.1.10 expects, as host.example.com"
                ));
            }
        }
    }
    Ok(())
}

/// RFC 1034 §3.5's preferred name syntax, as RFC 5280 §4.2.1.6 requires of a dNSName:
/// labels of 1 to 63 letters, digits and hyphens, neither starting nor ending with a
/// hyphen. A `*` as the whole leftmost label is accepted when `wildcard` (as every TLS
/// stack reads one).
fn is_preferred_name(name: &str, wildcard: bool) -> bool {
    let name = match name.strip_prefix("*.") {
        Some(rest) if wildcard => rest,
        _ => name,
    };
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_name_syntax() {
        for ok in [
            "example.com",
            "a-b.example",
            "x",
            "xn--bcher-kva.example",
            "device1.local",
        ] {
            assert!(is_preferred_name(ok, false), "{ok}");
        }
        assert!(is_preferred_name("*.example.com", true));
        for bad in [
            "",
            ".example.com",
            "example..com",
            "under_score.example",
            "-a.example",
            "a-.example",
            "*.example.com",
            "a*.example.com",
            "example.com.",
            &"a".repeat(64),
        ] {
            assert!(!is_preferred_name(bad, false), "{bad}");
        }
        assert!(!is_preferred_name("*.*.example.com", true));
        assert!(!is_preferred_name("under_score.example", true));
    }

    use rcgen::{
        BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
        GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType,
    };

    const BC: &[u64] = &[2, 5, 29, 19];
    const NC: &[u64] = &[2, 5, 29, 30];
    const SAN: &[u64] = &[2, 5, 29, 17];
    const AKI: &[u64] = &[2, 5, 29, 35];

    /// A certificate from `params` signed by a CA of its own, as DER.
    fn signed(mut params: CertificateParams, edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
        let mut ca = CertificateParams::default();
        ca.distinguished_name.push(DnType::CommonName, "Profile CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let issuer = Issuer::new(ca, KeyPair::generate().unwrap());
        params
            .distinguished_name
            .push(DnType::CommonName, "subject");
        params.use_authority_key_identifier_extension = true;
        edit(&mut params);
        params
            .signed_by(&KeyPair::generate().unwrap(), &issuer)
            .unwrap()
            .der()
            .to_vec()
    }

    fn leaf(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
        let mut p = CertificateParams::default();
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        signed(p, edit)
    }

    fn ca(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
        let mut p = CertificateParams::default();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        signed(p, edit)
    }

    fn ext(oid: &[u64], critical: bool, content: &[u8]) -> CustomExtension {
        let mut e = CustomExtension::from_oid_content(oid, content.to_vec());
        e.set_criticality(critical);
        e
    }

    /// A CA whose basicConstraints (cA true) is written by hand, `critical` or not,
    /// rather than by rcgen (which then adds no subjectKeyIdentifier either).
    fn ca_with_own_basic_constraints(critical: bool) -> Vec<u8> {
        ca(|p| {
            p.is_ca = IsCa::NoCa;
            p.custom_extensions
                .push(ext(BC, critical, b"\x30\x03\x01\x01\xff"));
        })
    }

    /// SEQUENCE { [2] "example.com" } as a GeneralNames / in a permitted subtree.
    const DNS_NAMES: &[u8] = b"\x30\x0d\x82\x0bexample.com";

    /// Each rule of RFC 5280 §4 that `rfc5280` checks, broken once; `None`: conforming.
    #[test]
    fn each_rule_of_the_profile_is_checked() {
        let a_20_byte_key_id = [[0x30, 0x16, 0x80, 0x14].as_slice(), &[7; 20]].concat();
        let nc_in_a_leaf = [b"\x30\x11\xa0\x0f".as_slice(), DNS_NAMES].concat();
        let cases: Vec<(&str, Place, Vec<u8>, Option<&str>)> = vec![
            ("conforming device", Place::Device, leaf(|_| {}), None),
            ("conforming CA", Place::Intermediate(1), ca(|_| {}), None),
            (
                "anchor without AKI",
                Place::RegisteredCa,
                ca(|p| p.use_authority_key_identifier_extension = false),
                None,
            ),
            (
                "device without AKI",
                Place::Device,
                leaf(|p| p.use_authority_key_identifier_extension = false),
                Some("no authorityKeyIdentifier"),
            ),
            (
                "intermediate without AKI",
                Place::Intermediate(1),
                ca(|p| p.use_authority_key_identifier_extension = false),
                Some("no authorityKeyIdentifier"),
            ),
            (
                "critical AKI",
                Place::Device,
                leaf(|p| {
                    p.use_authority_key_identifier_extension = false;
                    p.custom_extensions.push(ext(AKI, true, &a_20_byte_key_id));
                }),
                Some("critical authorityKeyIdentifier"),
            ),
            (
                "AKI without keyIdentifier",
                Place::Device,
                leaf(|p| {
                    p.use_authority_key_identifier_extension = false;
                    p.custom_extensions.push(ext(AKI, false, b"\x30\x00"));
                }),
                Some("has no keyIdentifier"),
            ),
            (
                "keyCertSign in a device",
                Place::Device,
                leaf(|p| p.key_usages.push(KeyUsagePurpose::KeyCertSign)),
                Some("keyCertSign"),
            ),
            (
                "nameConstraints in a device",
                Place::Device,
                leaf(|p| p.custom_extensions.push(ext(NC, true, &nc_in_a_leaf))),
                Some("nameConstraints"),
            ),
            (
                "underscore in a dNSName",
                Place::Device,
                leaf(|p| {
                    p.subject_alt_names =
                        vec![SanType::DnsName("under_score.example".try_into().unwrap())];
                }),
                Some("preferred name syntax"),
            ),
            (
                "empty subject, non-critical SAN",
                Place::Device,
                leaf(|p| {
                    p.distinguished_name = DistinguishedName::new();
                    p.custom_extensions.push(ext(SAN, false, DNS_NAMES));
                }),
                Some("empty subject and no critical subjectAltName"),
            ),
            (
                "CA without keyUsage",
                Place::Intermediate(1),
                ca(|p| p.key_usages.clear()),
                Some("no keyUsage"),
            ),
            (
                "CA with non-critical basicConstraints",
                Place::RegisteredCa,
                ca_with_own_basic_constraints(false),
                Some("basicConstraints extension is not critical"),
            ),
            (
                "CA without SKI",
                Place::RegisteredCa,
                ca_with_own_basic_constraints(true),
                Some("no subjectKeyIdentifier"),
            ),
            (
                "CA with an empty subject",
                Place::Intermediate(1),
                ca(|p| p.distinguished_name = DistinguishedName::new()),
                Some("empty subject name"),
            ),
            (
                "dNSName constraint with a leading period",
                Place::Intermediate(1),
                ca(|p| {
                    p.name_constraints = Some(NameConstraints {
                        permitted_subtrees: vec![GeneralSubtree::DnsName(".example.com".into())],
                        excluded_subtrees: vec![],
                    });
                }),
                Some("name constraint \".example.com\""),
            ),
            (
                "empty nameConstraints",
                Place::Intermediate(1),
                ca(|p| p.custom_extensions.push(ext(NC, true, b"\x30\x00"))),
                Some("neither permitted nor excluded"),
            ),
        ];
        for (what, place, der, problem) in cases {
            let got = rfc5280(&der, place);
            match problem {
                None => assert_eq!(got, Ok(()), "{what}"),
                Some(p) => {
                    let msg = got.expect_err(what);
                    assert!(msg.contains(p), "{what}: {msg}");
                    assert!(!msg.contains(['(', '{']), "{what}: a sentence: {msg}");
                }
            }
        }
    }

    #[test]
    fn an_issuer_must_assert_key_cert_sign_when_it_has_a_key_usage() {
        assert_eq!(issuer_may_sign(&ca(|_| {}), Place::Intermediate(1)), Ok(()));
        assert_eq!(
            issuer_may_sign(&ca(|p| p.key_usages.clear()), Place::Intermediate(1)),
            Ok(())
        );
        let msg = issuer_may_sign(
            &ca(|p| {
                p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign]
            }),
            Place::Intermediate(2),
        )
        .unwrap_err();
        assert!(
            msg.starts_with("intermediate CA 2 of the path may not sign certificates"),
            "{msg}"
        );
    }

    #[test]
    fn unreadable_certificates_are_problems_not_panics() {
        for der in [&b""[..], b"\x30\x03\x02\x01\x01", &[0xff; 40]] {
            assert!(issuer_may_sign(der, Place::RegisteredCa).is_err());
            assert!(rfc5280(der, Place::Device).is_err());
        }
    }
}
