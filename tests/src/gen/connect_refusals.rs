//! `connect-refusals.json`: the JITR decision, every refusal a registry can produce.

use super::catalogue::Pki;
use super::expect::*;
use super::json::obj;
use super::pki::{self, sha256_hex};
use super::scenario::{decision, Scenario};
use super::{DAY_MS, T0, T_JULY};

#[rustfmt::skip]
pub(super) fn scenario(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "connect-refusals",
        "The JITR decision (docs/behaviour.md §6) for every outcome a registry can produce: registrations, \
         re-published events, allowed connections and each refusal reason.",
    );
    let (ed, rsa, p256, sni) = (&p.ca_ed.cert, &p.ca_rsa.cert, &p.ca_p256.cert, &p.ca_sni.cert);
    let (inactive, noauto, short) = (&p.ca_inactive.cert, &p.ca_noauto.cert, &p.ca_short.cert);
    let (twin_a, twin_b, d) = (&p.ca_twin_a.cert, &p.ca_twin_b.cert, |n: &str| p.dev(n));

    s.register_ca_ok(ed, &p.v_ed, true, true, "Ed25519 CA, ACTIVE, ENABLE");
    s.register_ca_ok(rsa, &p.v_rsa, true, true, "RSA CA, ACTIVE, ENABLE");
    s.register_ca_ok(p256, &p.v_p256, true, true, "P-256 CA, ACTIVE, ENABLE");
    s.register_ca(sni, None, true, true, "SNI_ONLY", ca_ok(&sni.id), "SNI_ONLY CA, ACTIVE, ENABLE");
    s.register_ca_ok(inactive, &p.v_inactive, false, true, "CA registered INACTIVE (auto-registration ENABLE)");
    s.register_ca_ok(noauto, &p.v_noauto, true, false, "CA registered ACTIVE with auto-registration DISABLE");
    s.register_ca_ok(short, &p.v_short, true, true, "CA valid until 2026-07-01, ACTIVE, ENABLE");
    s.register_ca_ok(&p.ca_root.cert, &p.v_root, true, true, "root CA only (its intermediate is not registered)");
    s.register_ca_ok(twin_a, &p.v_twin, true, true, "twin CA a");
    s.register_ca_ok(twin_b, &p.v_twin, true, true, "twin CA b: same subject and key as a, other certificate");
    s.register_ca_ok(&p.ca_target.cert, &p.v_target, true, true, "CA whose name a forger uses");

    // Registrations.
    s.connect(&[d("device-0001"), ed], true, Outcome::Registered(ed), "chain leaf+CA with SNI: registered");
    s.connect(&[d("device-0001"), ed], true, Outcome::Pending(ed), "again: PENDING_ACTIVATION, event re-published");
    s.connect(&[d("device-0001")], false, Outcome::Pending(ed), "a known pending leaf re-publishes even with a leaf-only chain and no SNI");
    s.connect(&[d("device-0002"), ed], false, Outcome::Registered(ed), "chain leaf+CA without SNI: the CA is in the chain, so no SNI is needed");
    s.connect(&[d("device-0003")], true, Outcome::Registered(ed), "leaf-only chain with SNI: registered");
    s.connect(&[d("device-0004")], false, Outcome::Refused("SNI_REQUIRED", None), "leaf-only chain without SNI for an unknown leaf");
    s.describe_cert(&d("device-0004").id, err("ResourceNotFoundException"), "nothing was registered");
    s.connect(&[d("device-0004")], true, Outcome::Registered(ed), "the same leaf with SNI: registered");
    s.connect(&[d("device-no-eku"), ed], true, Outcome::Registered(ed), "a leaf without extendedKeyUsage is accepted");
    s.connect(&[d("device-server-auth"), ed], true, Outcome::Refused("EKU_NOT_CLIENT_AUTH", None), "a leaf whose EKU is serverAuth only is refused");
    s.describe_cert(&d("device-server-auth").id, err("ResourceNotFoundException"), "nothing was registered");
    s.connect(&[d("device-rsa-1"), rsa], true, Outcome::Registered(rsa), "RSA CA path: registered under the RSA CA");
    s.connect(&[d("device-p256"), p256], true, Outcome::Registered(p256), "P-256 CA path (P-256 device key): registered");
    s.describe_cert(&d("device-p256").id, cert_description(&d("device-p256").id, Some(&p256.id), "PENDING_ACTIVATION", 1, "DEFAULT"), "registered under the P-256 CA");

    // Known leaves.
    s.update_cert(&d("device-rsa-1").id, "ACTIVE", obj! {}, "activate the RSA device");
    s.connect(&[d("device-rsa-1"), rsa], true, Outcome::Allowed(Some(rsa)), "ACTIVE: allowed");
    s.update_ca(&rsa.id, Some("INACTIVE"), None, obj! {}, "deactivate the RSA CA");
    s.connect(&[d("device-rsa-1"), rsa], true, Outcome::Allowed(Some(rsa)), "devices already registered keep working after their CA is deactivated");
    s.connect(&[d("device-rsa-2"), rsa], true, Outcome::Refused("CA_INACTIVE", Some(rsa)), "but new devices of that CA are no longer registered");
    s.register_cert(d("device-0005"), Some(ed), None, cert_ok(&d("device-0005").id), "registered by API, INACTIVE by default");
    s.connect(&[d("device-0005"), ed], true, Outcome::Refused("CERTIFICATE_INACTIVE", Some(ed)), "a known INACTIVE leaf is refused, no event");
    s.register_cert(d("device-0006"), Some(ed), Some("REVOKED"), cert_ok(&d("device-0006").id), "registered by API as REVOKED");
    s.connect(&[d("device-0006"), ed], true, Outcome::Refused("CERTIFICATE_REVOKED", Some(ed)), "a known REVOKED leaf is refused, no event");
    s.register_cert(d("device-0007"), Some(ed), Some("ACTIVE"), cert_ok(&d("device-0007").id), "registered by API as ACTIVE");
    s.connect(&[d("device-0007"), ed], true, Outcome::Allowed(Some(ed)), "a known ACTIVE leaf is allowed");
    s.connect(&[d("device-0007")], false, Outcome::Allowed(Some(ed)), "a known ACTIVE leaf needs neither the CA nor SNI");
    let own = d("device-self-signed");
    s.register_without_ca(own, Some("ACTIVE"), cert_ok(&own.id), "a certificate registered without CA, ACTIVE");
    s.connect(&[own], true, Outcome::Allowed(None), "allowed, with no CA");

    // Unknown leaves refused.
    s.connect(&[d("device-unregistered-ca")], true, Outcome::Refused("UNKNOWN_ISSUER", None), "no registered CA has the leaf's issuer name");
    s.connect(&[d("device-unregistered-ca"), &p.ca_unregistered.cert], true, Outcome::Refused("UNKNOWN_ISSUER", None), "sending the unregistered CA does not help");
    s.connect(&[d("device-intermediate"), &p.ca_inter.cert, &p.ca_root.cert], true, Outcome::Refused("UNKNOWN_ISSUER", None), "only the CA that signed the leaf counts: registering the root of its intermediate is not enough");
    s.connect(&[d("device-forged-impersonated")], true, Outcome::Refused("BAD_SIGNATURE", None), "a registered CA has the leaf's issuer name but its key does not verify the leaf");
    s.connect(&[d("device-forged-ed25519"), ed], true, Outcome::Refused("BAD_SIGNATURE", None), "same, with the genuine CA in the chain");
    s.connect(&[d("device-twin-1")], true, Outcome::Refused("AMBIGUOUS_CA", None), "two registered CAs with the same subject and key verify the leaf, and the chain names neither");
    s.describe_cert(&d("device-twin-1").id, err("ResourceNotFoundException"), "nothing was registered");
    s.connect(&[d("device-twin-2"), twin_b], true, Outcome::Registered(twin_b), "the CA certificate in the chain picks one of the twins");
    s.connect(&[d("device-twin-3"), twin_a], true, Outcome::Registered(twin_a), "and the other");
    s.connect(&[d("device-ca-inactive"), inactive], true, Outcome::Refused("CA_INACTIVE", Some(inactive)), "the issuing CA is INACTIVE");
    s.describe_cert(&d("device-ca-inactive").id, err("ResourceNotFoundException"), "nothing was registered");
    s.update_ca(&inactive.id, Some("ACTIVE"), None, obj! {}, "activate that CA");
    s.connect(&[d("device-ca-inactive"), inactive], true, Outcome::Registered(inactive), "now the device is registered");
    s.connect(&[d("device-ca-no-auto"), noauto], true, Outcome::Refused("AUTO_REGISTRATION_DISABLED", Some(noauto)), "the issuing CA has auto-registration DISABLE");
    s.describe_cert(&d("device-ca-no-auto").id, err("ResourceNotFoundException"), "nothing was registered");
    s.connect(&[d("device-sni"), sni], false, Outcome::Refused("CA_REQUIRES_SNI", Some(sni)), "an SNI_ONLY CA is not reached without SNI, even with the CA in the chain");
    s.describe_cert(&d("device-sni").id, err("ResourceNotFoundException"), "nothing was registered");
    s.connect(&[d("device-sni"), sni], true, Outcome::Registered(sni), "with SNI the SNI_ONLY CA registers the device");
    s.describe_cert(&d("device-sni").id, cert_description(&d("device-sni").id, Some(&sni.id), "PENDING_ACTIVATION", 1, "SNI_ONLY"), "the device takes the CA's certificate mode");
    s.connect(&[d("device-expired"), ed], true, Outcome::Refused("CERTIFICATE_EXPIRED", None), "an unknown leaf that expired on 2025-06-01");
    s.connect(&[d("device-not-yet-valid"), ed], true, Outcome::Refused("CERTIFICATE_NOT_YET_VALID", None), "an unknown leaf valid only from 2030-01-01");
    s.describe_cert(&d("device-expired").id, err("ResourceNotFoundException"), "nothing was registered");
    s.connect_raw(Vec::new(), true, decision(false, Some("NO_CERTIFICATE"), None, None), "an empty chain: no certificate (certificateId null)");
    let leaf = d("device-0008");
    let half = &leaf.der[..leaf.der.len() / 2];
    s.connect_raw(vec![pki::pem_encode("CERTIFICATE", half)], true, decision(false, Some("MALFORMED_CERTIFICATE"), Some(sha256_hex(half)), None), "a PEM block holding the first half of a device's DER: certificateId is the SHA-256 of the bytes sent");

    // Validity over time.
    let short_dev = d("device-short-lived");
    s.connect(&[short_dev, ed], true, Outcome::Registered(ed), "a device valid until 2026-06-15 is registered");
    s.update_cert(&short_dev.id, "ACTIVE", obj! {}, "activate it");
    s.connect(&[short_dev, ed], true, Outcome::Allowed(Some(ed)), "allowed while valid");
    s.jump_to(T0 + 14 * DAY_MS);
    s.connect(&[short_dev, ed], true, Outcome::Allowed(Some(ed)), "2026-06-15T00:00:00Z is still within validity (notAfter inclusive)");
    s.jump_to(T0 + 15 * DAY_MS);
    s.connect(&[short_dev, ed], true, Outcome::Refused("CERTIFICATE_EXPIRED", Some(ed)), "2026-06-16: a known ACTIVE leaf that has expired is refused");
    s.jump_to(T_JULY);
    s.connect(&[d("device-ca-short-lived"), short], true, Outcome::Refused("CA_EXPIRED", Some(short)), "2026-07-02: the issuing CA expired on 2026-07-01");
    s.describe_cert(&d("device-ca-short-lived").id, err("ResourceNotFoundException"), "nothing was registered");
    s.connect(&[d("device-0009"), ed], true, Outcome::Registered(ed), "other CAs still register devices");
    s
}
