//! rustls-webpki's CRL vectors (`rustls-webpki-tests/crls/`, `expectations.json`) through
//! `Crl::from_pem_or_der`: every file parses or is refused with a typed error (never a
//! panic), revoked-serial lookups agree with webpki's where both parse, and jitr refuses
//! every CRL it could misread (delta, indirect, reason-partitioned, unknown critical
//! extensions). Where jitr's policy differs from webpki's, the reason is written here.
//!
//! Made stricter (issue 14): jitr accepted `crl.idp.name_relative_to_issuer.der` and
//! `crl.idp.invalid.name.der` while the distribution point's name was not used. Now the
//! name decides which certificates the CRL covers (RFC 5280 §6.3.3(b)(2)), and
//! x509-parser reads both names as absent, which would widen the CRL to every
//! certificate of its issuer: jitr refuses them, as webpki does.

mod common;

use common::corpus;
use jitr_core::crl::Crl;

/// Files webpki refuses but jitr accepts, and why that is safe for activation.
const JITR_ACCEPTS: &[(&str, &str)] = &[
    ("crl.missing.next.update.der", "nextUpdate is OPTIONAL in the ASN.1, so it parses; but without it the CRL cannot be judged current and the default stale policy refuses it for activation (CRL_NO_NEXT_UPDATE)"),
    ("crl.invalid.this.update.time.der", "x509-parser reads the year-1 GeneralizedTime; the CRL also lacks nextUpdate, so the default stale policy refuses it for activation"),
    ("crl.negative.crl.number.der", "the CRL number orders CRLs; jitr does not use it, so a malformed one cannot mislead a lookup"),
    ("crl.too.long.crl.number.der", "same: the CRL number is not used"),
    ("crl.idp.no_distribution_point_name.der", "an IDP without a distribution point name covers every certificate of its issuer (here only end-entity ones: onlyContainsUserCerts); no partition flag is set"),
    ("crl.entry.invalid.reason.der", "the reason code does not change that the serial is revoked"),
    ("crl.missing.exts.der", "an empty extensions list (SIZE 1..MAX violated) changes nothing about which serials are listed"),
];

/// Files webpki parses but jitr refuses, because activation could misread them.
const JITR_REFUSES: &[(&str, &str)] = &[
    ("crl.idp.only_ca_certs.der", "it covers CA certificates only: checking a device certificate against it would always say 'not revoked'"),
];

#[test]
fn webpki_crl_vectors() {
    let Some(dir) = corpus("rustls-webpki-tests", "rustls-webpki CRL vectors") else {
        return;
    };
    let expectations: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expectations.json")).unwrap())
            .unwrap();
    let serials = &expectations["revoked_serials_hex"];
    let serial = |name: &str| hex::decode(serials[name].as_str().unwrap()).unwrap();
    let mut agree = 0;
    let mut differ = Vec::new();
    for (file, exp) in expectations["files"].as_object().unwrap() {
        let der = std::fs::read(dir.join("crls").join(file)).unwrap();
        let parsed = std::panic::catch_unwind(|| Crl::from_pem_or_der(&der)).expect("no panic");
        let webpki_ok = exp["parse"].as_str().unwrap().starts_with("ok")
            && !exp["entry"].as_str().unwrap_or("").starts_with("err");
        match (&parsed, webpki_ok) {
            (Ok(crl), false) if file.contains("next.update") || file.contains("this.update") => {
                let now = jitr_core::Timestamp::from_unix_secs(1_780_000_000);
                let refused = crl.check_fresh(now, jitr_core::crl::StaleCrlPolicy::Refuse);
                assert_eq!(
                    refused.map_err(|p| p.code()),
                    Err("CRL_NO_NEXT_UPDATE"),
                    "{file}"
                );
                differ.push(format!(
                    "{file}: accepted ({})",
                    JITR_ACCEPTS
                        .iter()
                        .find(|(f, _)| f == file)
                        .map(|(_, r)| *r)
                        .unwrap_or("?")
                ));
            }
            (Ok(crl), true) => {
                let entry = exp["entry"].as_str().unwrap_or("");
                for name in [
                    "REVOKED_SERIAL",
                    "REVOKED_SERIAL_NEGATIVE",
                    "REVOKED_SERIAL_WITH_TOP_BIT_SET",
                ] {
                    if entry.contains(&format!("{name} present")) {
                        assert!(
                            crl.is_revoked(&serial(name)),
                            "{file}: {name} must be listed"
                        );
                    }
                    if entry.contains(&format!("{name} absent")) {
                        assert!(
                            !crl.is_revoked(&serial(name)),
                            "{file}: {name} must not be listed"
                        );
                    }
                }
                if entry == "no entries" {
                    assert!(crl.is_empty(), "{file}");
                }
                agree += 1;
            }
            (Err(e), false) => {
                assert_eq!(e.code(), "InvalidRequestException");
                agree += 1;
            }
            (Ok(_), false) => {
                let reason = JITR_ACCEPTS
                    .iter()
                    .find(|(f, _)| f == file)
                    .map(|(_, r)| *r)
                    .unwrap_or_else(|| panic!("{file}: webpki refuses it ({}), jitr accepts it, and no reason is written", exp["parse"]));
                differ.push(format!("{file}: accepted ({reason})"));
            }
            (Err(e), true) => {
                let reason = JITR_REFUSES
                    .iter()
                    .find(|(f, _)| f == file)
                    .map(|(_, r)| *r)
                    .unwrap_or_else(|| {
                        panic!(
                            "{file}: webpki parses it, jitr refuses ({}), and no reason is written",
                            e.message()
                        )
                    });
                differ.push(format!("{file}: refused ({reason})"));
            }
        }
    }
    for (f, _) in JITR_ACCEPTS.iter().chain(JITR_REFUSES) {
        assert!(
            differ.iter().any(|d| d.starts_with(f)),
            "{f} no longer differs: remove it from JITR_ACCEPTS"
        );
    }
    println!(
        "CRL vectors: {agree} agree with webpki, {} differ by jitr's policy:",
        differ.len()
    );
    for d in &differ {
        println!("  {d}");
    }
    // The refusals that matter for activation are jitr's too.
    for must_refuse in [
        "crl.delta.der",
        "crl.idp.indirect_crl.der",
        "crl.entry.issuer.ext.der",
        "crl.idp.only_some_reasons.der",
        "crl.idp.only_attribute_certs.der",
        "crl.unknown.crit.ext.der",
        "crl.entry.unknown.crit.ext.der",
        "crl.idp.only_ca_certs.der",
        "crl.idp.name_relative_to_issuer.der",
        "crl.idp.invalid.name.der",
    ] {
        let der = std::fs::read(dir.join("crls").join(must_refuse)).unwrap();
        assert!(
            Crl::from_pem_or_der(&der).is_err(),
            "{must_refuse} must be refused"
        );
    }
}

/// rustls-webpki's client-auth revocation vectors whose end-entity certificates point
/// at their CRL in ways a partitioned CRL does not cover (webpki: "unknown status"):
/// a distribution point with a cRLIssuer (indirect), a name relative to the issuer, a
/// reasons field, and no name at all. Each CRL's issuingDistributionPoint names
/// `http://example.com/valid.crl`, so none covers its certificate and none may read as
/// "not revoked" (RFC 5280 §6.3.3(b)(2)(i)). The control: a certificate whose
/// distribution point is that URI is covered by the same CRLs.
#[test]
fn webpki_distribution_point_vectors_are_not_covered() {
    let Some(dir) = corpus(
        "rustls-webpki-tests/client_auth_revocation",
        "rustls-webpki DP vectors",
    ) else {
        return;
    };
    let mut control = rcgen::CertificateParams::new(vec![]).unwrap();
    control.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
        uris: vec!["http://example.com/valid.crl".into()],
    }];
    let control = control
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let control = jitr_core::Certificate::from_der(control.der()).unwrap();
    for (crl, ee) in [
        ("ee_indirect_dp_unknown_status", "indirect_dp_chain"),
        ("ee_nofullname_dp_unknown_status", "nofullname_dp_chain"),
        ("ee_reasons_dp_unknown_status", "reasons_dp_chain"),
        ("ee_dp_invalid", "invalid_dp_chain"),
    ] {
        let crl = Crl::from_pem_or_der(&std::fs::read(dir.join(format!("{crl}.crl.der"))).unwrap())
            .unwrap();
        let ee = jitr_core::Certificate::from_der(
            &std::fs::read(dir.join(format!("{ee}.ee.der"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            crl.covers(&ee).map_err(|p| p.code()),
            Err("CRL_DOES_NOT_COVER"),
            "{ee:?}"
        );
        crl.covers(&control).unwrap();
    }
}
