//! `ca-registration.json`: RegisterCACertificate rules.

use super::catalogue::Pki;
use super::expect::*;
use super::json::obj;
use super::pki::{self, Cert};
use super::scenario::Scenario;

#[rustfmt::skip]
pub(super) fn scenario(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "ca-registration",
        "RegisterCACertificate rules (docs/behaviour.md §3): every refusal stores nothing; then successful \
         DEFAULT and SNI_ONLY registrations, updates, deletion and the 10-CAs-per-subject limit.",
    );
    let ed = &p.ca_ed.cert;
    let cve = || err("CertificateValidationException");

    // Refusals: each certificate has exactly one defect.
    s.register_ca_pem("this is not a certificate".into(), &p.v_ed, cve(), "a CA 'PEM' that is no certificate at all");
    let truncated = pki::pem_encode("CERTIFICATE", &ed.der[..ed.der.len() / 2]);
    s.register_ca_pem(truncated, &p.v_ed, cve(), "a PEM block holding the first half of ca-ed25519's DER (unparseable)");
    let two = format!("{}{}", s.pem(ed), s.pem(&p.ca_rsa.cert));
    s.register_ca_pem(two, &p.v_ed, cve(), "two certificates in caCertificate (ca-ed25519 then ca-rsa): exactly one is required");
    s.register_ca(&p.not_ca_no_bc, Some(&p.v_ed), true, true, "DEFAULT", cve(), "a certificate without basicConstraints is not a CA");
    s.register_ca(&p.not_ca_bc_false, Some(&p.v_ed), true, true, "DEFAULT", cve(), "a certificate with basicConstraints CA:FALSE is not a CA");
    s.register_ca(&p.not_ca_no_bc, None, true, true, "SNI_ONLY", cve(), "not a CA, in SNI_ONLY mode too");
    s.register_ca(ed, None, true, true, "DEFAULT", err("InvalidRequestException"), "DEFAULT mode needs a verification certificate");
    s.register_ca(&p.ca_sni.cert, Some(&p.v_sni), true, true, "SNI_ONLY", err("InvalidRequestException"), "SNI_ONLY mode must not have a verification certificate");
    s.register_ca(ed, Some(&p.v_ed_wrong_code), true, true, "DEFAULT", err("RegistrationCodeValidationException"), "verification CN is not this registry's registration code");
    s.register_ca(ed, Some(&p.v_ed_wrong_key), true, true, "DEFAULT", cve(), "verification certificate names the CA as issuer but is signed by another key");
    s.register_ca(ed, Some(&p.v_ed_wrong_issuer), true, true, "DEFAULT", cve(), "verification certificate signed by the CA's key but its issuer is not the CA's subject");
    s.register_ca(ed, Some(&p.v_ed_expired), true, true, "DEFAULT", cve(), "verification certificate expired (2025-01-01)");
    s.register_ca(ed, Some(&p.v_rsa), true, true, "DEFAULT", cve(), "verification certificate of another CA (ca-rsa)");
    s.register_ca(&p.ca_expired, Some(&p.v_expired_ca), true, true, "DEFAULT", cve(), "the CA certificate expired on 2025-01-01");
    s.register_ca(&p.ca_future, Some(&p.v_future_ca), true, true, "DEFAULT", cve(), "the CA certificate is valid only from 2030-01-01");
    s.list("list_ca_certificates", None, Some(250), Some(true), listed(&[], false), "no refused registration stored anything");

    // Successes.
    let args = obj! {
        "caCertificate" => s.pem(ed),
        "verificationCertificate" => s.pem(&p.v_ed),
    };
    s.step("register_ca_certificate", args, ca_ok(&ed.id), "defaults: setAsActive false, allowAutoRegistration false, certificateMode DEFAULT");
    s.describe_ca(&ed.id, ca_description(&ed.id, "INACTIVE", "DISABLE", 1, "DEFAULT"), "INACTIVE and DISABLE by default, customerVersion 1");
    s.register_ca(ed, Some(&p.v_ed), true, true, "DEFAULT", err("ResourceAlreadyExistsException"), "the same CA again (other arguments do not matter)");
    s.register_ca(&p.ca_sni.cert, None, true, true, "SNI_ONLY", ca_ok(&p.ca_sni.cert.id), "SNI_ONLY without a verification certificate");
    s.describe_ca(&p.ca_sni.cert.id, ca_description(&p.ca_sni.cert.id, "ACTIVE", "ENABLE", 1, "SNI_ONLY"), "SNI_ONLY CA: ACTIVE, ENABLE");
    s.register_ca(&p.ca_rsa.cert, Some(&p.v_rsa), true, false, "DEFAULT", ca_ok(&p.ca_rsa.cert.id), "RSA-2048 CA, verification signed with RSA PKCS#1 v1.5 SHA-256");
    s.describe_ca(&p.ca_rsa.cert.id, ca_description(&p.ca_rsa.cert.id, "ACTIVE", "DISABLE", 1, "DEFAULT"), "setAsActive true, allowAutoRegistration false");
    s.register_ca(&p.ca_p256.cert, Some(&p.v_p256), false, true, "DEFAULT", ca_ok(&p.ca_p256.cert.id), "P-256 CA, verification signed with ECDSA-SHA256");
    s.describe_ca(&p.ca_p256.cert.id, ca_description(&p.ca_p256.cert.id, "INACTIVE", "ENABLE", 1, "DEFAULT"), "setAsActive false, allowAutoRegistration true");

    // Updates and deletion.
    s.update_ca(&ed.id, Some("ACTIVE"), Some("ENABLE"), obj! {}, "activate and enable auto-registration in one call");
    s.describe_ca(&ed.id, ca_description(&ed.id, "ACTIVE", "ENABLE", 2, "DEFAULT"), "one change: customerVersion 2");
    s.delete_ca(&ed.id, err("CertificateStateException"), "an ACTIVE CA cannot be deleted");
    s.update_ca(&ed.id, None, Some("DISABLE"), obj! {}, "disable auto-registration only");
    s.describe_ca(&ed.id, ca_description(&ed.id, "ACTIVE", "DISABLE", 3, "DEFAULT"), "customerVersion 3");
    s.update_ca(&ed.id, Some("INACTIVE"), None, obj! {}, "deactivate");
    s.describe_ca(&ed.id, ca_description(&ed.id, "INACTIVE", "DISABLE", 4, "DEFAULT"), "customerVersion 4");
    let upper = format!("0x{}", ed.id.to_uppercase());
    s.describe_ca(&upper, ca_description(&ed.id, "INACTIVE", "DISABLE", 4, "DEFAULT"), "ids are accepted upper-case with a 0x prefix; output is lower-case");
    s.delete_ca(&ed.id, obj! {}, "an INACTIVE CA can be deleted");
    s.describe_ca(&ed.id, err("ResourceNotFoundException"), "the CA is gone");
    s.update_ca(&ed.id, Some("ACTIVE"), None, err("ResourceNotFoundException"), "updating an unknown CA");
    s.delete_ca(&ed.id, err("ResourceNotFoundException"), "deleting an unknown CA");
    s.register_ca(ed, Some(&p.v_ed), true, true, "DEFAULT", ca_ok(&ed.id), "a deleted CA can be registered again");
    s.describe_ca(&ed.id, ca_description(&ed.id, "ACTIVE", "ENABLE", 1, "DEFAULT"), "a fresh record: customerVersion 1");

    // At most 10 CAs with the same subject.
    for (i, ca) in p.ca_limit.iter().enumerate().take(10) {
        let note = format!("CA #{} with subject 'jitr Limit CA'", i + 1);
        s.register_ca(
            ca,
            Some(&p.v_limit),
            false,
            false,
            "DEFAULT",
            ca_ok(&ca.id),
            &note,
        );
    }
    let eleventh = &p.ca_limit[10];
    s.register_ca(eleventh, Some(&p.v_limit), false, false, "DEFAULT", err("LimitExceededException"), "an 11th CA with the same subject exceeds the limit of 10");
    s.delete_ca(&p.ca_limit[0].id, obj! {}, "delete one of the ten (INACTIVE)");
    s.register_ca(eleventh, Some(&p.v_limit), false, false, "DEFAULT", ca_ok(&eleventh.id), "now the 11th fits");

    let mut all: Vec<&Cert> = vec![&p.ca_sni.cert, &p.ca_rsa.cert, &p.ca_p256.cert, ed];
    all.extend(p.ca_limit[1..].iter());
    s.list("list_ca_certificates", None, Some(250), Some(true), listed(&all, false), "every stored CA, oldest first");
    s
}
