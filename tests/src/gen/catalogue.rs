//! The certificate catalogue shared by the scenarios: every CA, verification certificate
//! and device of the vector files, with its name and description.

use std::collections::BTreeMap;

use jitr_testkit::rcgen::IsCa;

use super::expect::registration_code;
use super::pki::{
    ca_params, issue_with, leaf_params, self_signed, sha256_hex, Ca, Cert, Eku, Error, Key, Ymd,
    NOT_AFTER,
};
use super::DEFAULT_VALIDITY;

pub(crate) struct Pki {
    pub(crate) code: String,
    pub(crate) ca_ed: Ca,
    pub(crate) ca_rsa: Ca,
    pub(crate) ca_p256: Ca,
    pub(crate) ca_sni: Ca,
    pub(crate) ca_inactive: Ca,
    pub(crate) ca_noauto: Ca,
    pub(crate) ca_short: Ca,
    pub(crate) ca_root: Ca,
    pub(crate) ca_inter: Ca,
    pub(crate) ca_twin_a: Ca,
    pub(crate) ca_twin_b: Ca,
    pub(crate) ca_target: Ca,
    pub(crate) ca_unregistered: Ca,
    pub(crate) ca_expired: Cert,
    pub(crate) ca_future: Cert,
    pub(crate) ca_limit: Vec<Cert>,
    /// Verification certificates, one per CA (the twins and the limit CAs share one each).
    pub(crate) v_ed: Cert,
    pub(crate) v_rsa: Cert,
    pub(crate) v_p256: Cert,
    pub(crate) v_sni: Cert,
    pub(crate) v_inactive: Cert,
    pub(crate) v_noauto: Cert,
    pub(crate) v_short: Cert,
    pub(crate) v_root: Cert,
    pub(crate) v_twin: Cert,
    pub(crate) v_target: Cert,
    pub(crate) v_expired_ca: Cert,
    pub(crate) v_future_ca: Cert,
    pub(crate) v_limit: Cert,
    /// Defective verification certificates for the Ed25519 CA.
    pub(crate) v_ed_wrong_code: Cert,
    pub(crate) v_ed_wrong_key: Cert,
    pub(crate) v_ed_wrong_issuer: Cert,
    pub(crate) v_ed_expired: Cert,
    /// Not CA certificates.
    pub(crate) not_ca_no_bc: Cert,
    pub(crate) not_ca_bc_false: Cert,
    /// Devices.
    pub(crate) dev: BTreeMap<&'static str, Cert>,
}

impl Pki {
    pub(crate) fn dev(&self, name: &str) -> &Cert {
        self.dev
            .get(name)
            .unwrap_or_else(|| panic!("no device {name}"))
    }
}

#[rustfmt::skip]
pub(crate) fn build_pki() -> Result<Pki, Error> {
    let code = registration_code();

    let ca = |name: &str, desc: &str, cn: &str, serial: u64, validity, key| {
        Ca::root(name, desc, ca_params(cn, serial, validity), key)
    };
    let ca_ed = ca("ca-ed25519", "Ed25519 root CA, valid 2025-01-01..2035-01-01", "jitr Ed25519 CA", 0x1001, DEFAULT_VALIDITY, Key::ed25519("ca/ed25519")?)?;
    let ca_rsa = ca("ca-rsa", "RSA-2048 root CA (PKCS#1 v1.5 SHA-256 signatures)", "jitr RSA CA", 0x1002, DEFAULT_VALIDITY, Key::rsa2048()?)?;
    let ca_p256 = ca("ca-p256", "ECDSA P-256 root CA (ECDSA-SHA256 signatures)", "jitr P-256 CA", 0x1003, DEFAULT_VALIDITY, Key::p256("ca/p256")?)?;
    let ca_sni = ca("ca-sni-only", "Ed25519 root CA registered in SNI_ONLY mode", "jitr SNI-only CA", 0x1004, DEFAULT_VALIDITY, Key::ed25519("ca/sni")?)?;
    let ca_inactive = ca("ca-inactive", "Ed25519 root CA registered INACTIVE with auto-registration ENABLE", "jitr Inactive CA", 0x1005, DEFAULT_VALIDITY, Key::ed25519("ca/inactive")?)?;
    let ca_noauto = ca("ca-no-auto", "Ed25519 root CA registered ACTIVE with auto-registration DISABLE", "jitr No-auto CA", 0x1006, DEFAULT_VALIDITY, Key::ed25519("ca/noauto")?)?;
    let ca_short = ca("ca-short-lived", "Ed25519 root CA valid 2025-01-01..2026-07-01 (expires during the scenario)", "jitr Short-lived CA", 0x1007, ((2025, 1, 1), (2026, 7, 1)), Key::ed25519("ca/short")?)?;
    let ca_root = ca("ca-root", "Ed25519 root CA whose intermediate signs devices (only the root is registered)", "jitr Root CA", 0x1008, DEFAULT_VALIDITY, Key::ed25519("ca/root")?)?;
    let ca_inter = Ca::signed_by("ca-intermediate", "Ed25519 intermediate CA signed by ca-root, never registered", ca_params("jitr Intermediate CA", 0x1009, DEFAULT_VALIDITY), Key::ed25519("ca/intermediate")?, &ca_root)?;
    let ca_twin_a = ca("ca-twin-a", "Ed25519 root CA; same subject and same key as ca-twin-b, other serial", "jitr Twin CA", 0x100a, DEFAULT_VALIDITY, Key::ed25519("ca/twin")?)?;
    let ca_twin_b = ca("ca-twin-b", "Ed25519 root CA; same subject and same key as ca-twin-a, other serial", "jitr Twin CA", 0x100b, DEFAULT_VALIDITY, Key::ed25519("ca/twin")?)?;
    let ca_target = ca("ca-impersonated", "Ed25519 root CA whose name an unregistered key also signs with", "jitr Impersonated CA", 0x100c, DEFAULT_VALIDITY, Key::ed25519("ca/impersonated")?)?;
    let ca_unregistered = ca("ca-unregistered", "Ed25519 root CA that is never registered", "jitr Unregistered CA", 0x100d, DEFAULT_VALIDITY, Key::ed25519("ca/unregistered")?)?;
    let ca_expired = ca("ca-expired", "Ed25519 root CA valid 2020-01-01..2025-01-01 (expired)", "jitr Expired CA", 0x100e, ((2020, 1, 1), (2025, 1, 1)), Key::ed25519("ca/expired")?)?;
    let ca_future = ca("ca-not-yet-valid", "Ed25519 root CA valid 2030-01-01..2040-01-01 (not yet valid)", "jitr Future CA", 0x100f, ((2030, 1, 1), (2040, 1, 1)), Key::ed25519("ca/future")?)?;
    let mut limit = Vec::new();
    for i in 0..11u64 {
        limit.push(ca(
            &format!("ca-limit-{:02}", i + 1),
            &format!(
                "Ed25519 root CA #{} of 11 with the same subject and key",
                i + 1
            ),
            "jitr Limit CA",
            0x1100 + i,
            DEFAULT_VALIDITY,
            Key::ed25519("ca/limit")?,
        )?);
    }

    // Verification certificates: end-entity, CN = registration code, signed by the CA's key.
    let vkey = Key::ed25519("verification")?;
    let verification = |ca: &Ca, name: &str, serial: u64| -> Result<Cert, Error> {
        let p = leaf_params(&code, serial, DEFAULT_VALIDITY, Eku::Absent);
        ca.issue(
            name,
            &format!(
                "verification certificate of {} (CN = registration code)",
                ca.cert.name
            ),
            &p,
            &vkey,
        )
    };
    let v_ed = verification(&ca_ed, "verification-ed25519", 0x5001)?;
    let v_rsa = verification(&ca_rsa, "verification-rsa", 0x5002)?;
    let v_p256 = verification(&ca_p256, "verification-p256", 0x5003)?;
    let v_sni = verification(&ca_sni, "verification-sni-only", 0x5004)?;
    let v_inactive = verification(&ca_inactive, "verification-inactive", 0x5005)?;
    let v_noauto = verification(&ca_noauto, "verification-no-auto", 0x5006)?;
    let v_short = verification(&ca_short, "verification-short-lived", 0x5007)?;
    let v_root = verification(&ca_root, "verification-root", 0x5008)?;
    let v_twin = verification(&ca_twin_a, "verification-twin", 0x500a)?;
    let v_target = verification(&ca_target, "verification-impersonated", 0x500c)?;
    let v_expired_ca = {
        let p = leaf_params(&code, 0x500e, ((2020, 1, 1), NOT_AFTER), Eku::Absent);
        let desc = "verification certificate of ca-expired, valid 2020-01-01..2035-01-01";
        ca_expired.issue("verification-expired-ca", desc, &p, &vkey)?
    };
    let v_future_ca = verification(&ca_future, "verification-not-yet-valid-ca", 0x500f)?;
    let v_limit = {
        let p = leaf_params(&code, 0x5100, DEFAULT_VALIDITY, Eku::Absent);
        let desc = "verification certificate shared by the ca-limit-NN CAs (same subject and key)";
        limit[0].issue("verification-limit", desc, &p, &vkey)?
    };

    let v_ed_wrong_code = {
        let other = sha256_hex(b"some other registration code");
        let p = leaf_params(&other, 0x5201, DEFAULT_VALIDITY, Eku::Absent);
        let desc = "signed by ca-ed25519 but its CN is another registration code";
        ca_ed.issue("verification-ed25519-wrong-code", desc, &p, &vkey)?
    };
    let v_ed_wrong_key = {
        let p = leaf_params(&code, 0x5202, DEFAULT_VALIDITY, Eku::Absent);
        let desc = "CN = registration code, issuer = ca-ed25519's subject, signed by another key";
        issue_with(
            "verification-ed25519-wrong-key",
            desc,
            &p,
            &vkey,
            &ca_ed.ca.params,
            &Key::ed25519("impostor")?,
        )?
    };
    let v_ed_wrong_issuer = {
        let p = leaf_params(&code, 0x5203, DEFAULT_VALIDITY, Eku::Absent);
        let other = ca_params("jitr Somebody Else CA", 0x1fff, DEFAULT_VALIDITY);
        let desc = "CN = registration code, signed by ca-ed25519's key, issuer name another CA's";
        issue_with(
            "verification-ed25519-wrong-issuer",
            desc,
            &p,
            &vkey,
            &other,
            &ca_ed.ca.key,
        )?
    };
    let v_ed_expired = {
        let p = leaf_params(&code, 0x5204, ((2020, 1, 1), (2025, 1, 1)), Eku::Absent);
        let desc = "verification certificate of ca-ed25519 valid 2020-01-01..2025-01-01 (expired)";
        ca_ed.issue("verification-ed25519-expired", desc, &p, &vkey)?
    };

    let not_ca_no_bc = {
        let p = leaf_params("jitr Not A CA", 0x6001, DEFAULT_VALIDITY, Eku::ClientAuth);
        let desc = "self-signed end-entity certificate without basicConstraints";
        self_signed("not-ca-no-basic-constraints", desc, &p, &Key::ed25519("notca/1")?)?
    };
    let not_ca_bc_false = {
        let mut p = ca_params("jitr CA False", 0x6002, DEFAULT_VALIDITY);
        p.is_ca = IsCa::ExplicitNoCa;
        let desc = "self-signed certificate with basicConstraints CA:FALSE (and keyCertSign)";
        self_signed("not-ca-basic-constraints-false", desc, &p, &Key::ed25519("notca/2")?)?
    };

    // Devices.
    let mut dev = BTreeMap::new();
    let mut serial = 0x7000u64;
    let mut device = |name: &'static str,
                      desc: &str,
                      ca: &Ca,
                      validity: (Ymd, Ymd),
                      eku: Eku,
                      key: Key|
     -> Result<(), Error> {
        serial += 1;
        let p = leaf_params(name, serial, validity, eku);
        dev.insert(name, ca.issue(name, desc, &p, &key)?);
        Ok(())
    };
    let dk = |name: &str| Key::ed25519(&format!("device/{name}"));
    let normal = DEFAULT_VALIDITY;
    let client = Eku::ClientAuth;
    for (name, desc, ca) in [
        ("device-story", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0001", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0002", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0003", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0004", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0005", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0006", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0007", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0008", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-0009", "device of ca-ed25519 (clientAuth)", &ca_ed),
        ("device-rsa-1", "device of ca-rsa (clientAuth)", &ca_rsa),
        ("device-rsa-2", "device of ca-rsa (clientAuth)", &ca_rsa),
        ("device-rsa-3", "device of ca-rsa (clientAuth)", &ca_rsa),
        ("device-sni", "device of ca-sni-only (clientAuth)", &ca_sni),
        (
            "device-ca-inactive",
            "device of ca-inactive (clientAuth)",
            &ca_inactive,
        ),
        (
            "device-ca-no-auto",
            "device of ca-no-auto (clientAuth)",
            &ca_noauto,
        ),
        (
            "device-ca-short-lived",
            "device of ca-short-lived (clientAuth)",
            &ca_short,
        ),
        (
            "device-intermediate",
            "device of ca-intermediate (clientAuth)",
            &ca_inter,
        ),
        (
            "device-twin-1",
            "device of the twin CAs' key and name (clientAuth)",
            &ca_twin_a,
        ),
        (
            "device-twin-2",
            "device of the twin CAs' key and name (clientAuth)",
            &ca_twin_a,
        ),
        (
            "device-twin-3",
            "device of the twin CAs' key and name (clientAuth)",
            &ca_twin_a,
        ),
        (
            "device-unregistered-ca",
            "device of ca-unregistered (clientAuth)",
            &ca_unregistered,
        ),
        (
            "device-unregistered-ca-2",
            "device of ca-unregistered (clientAuth)",
            &ca_unregistered,
        ),
    ] {
        device(name, desc, ca, normal, client, dk(name)?)?;
    }
    device(
        "device-p256",
        "device with a P-256 key, signed by ca-p256 (clientAuth)",
        &ca_p256,
        normal,
        client,
        Key::p256("device/p256")?,
    )?;
    device(
        "device-no-eku",
        "device of ca-ed25519 without any extendedKeyUsage extension",
        &ca_ed,
        normal,
        Eku::Absent,
        dk("no-eku")?,
    )?;
    device(
        "device-server-auth",
        "device of ca-ed25519 whose extendedKeyUsage is serverAuth only",
        &ca_ed,
        normal,
        Eku::ServerAuth,
        dk("server-auth")?,
    )?;
    device(
        "device-expired",
        "device of ca-ed25519 valid 2024-01-01..2025-06-01 (expired)",
        &ca_ed,
        ((2024, 1, 1), (2025, 6, 1)),
        client,
        dk("expired")?,
    )?;
    device(
        "device-not-yet-valid",
        "device of ca-ed25519 valid 2030-01-01..2035-01-01 (not yet valid)",
        &ca_ed,
        ((2030, 1, 1), NOT_AFTER),
        client,
        dk("not-yet-valid")?,
    )?;
    device(
        "device-short-lived",
        "device of ca-ed25519 valid 2025-01-01..2026-06-15 (expires during the scenario)",
        &ca_ed,
        ((2025, 1, 1), (2026, 6, 15)),
        client,
        dk("short-lived")?,
    )?;
    // Signed by a key that is not the impersonated CA's, under that CA's name.
    let forged =
        |name: &'static str, serial: u64, forger: &Ca| -> Result<(Cert, &'static str), Error> {
            let p = leaf_params(name, serial, normal, client);
            let desc = "issuer name = a registered CA's subject, but signed by another key";
            let cert = issue_with(
                name,
                desc,
                &p,
                &dk(name)?,
                &forger.ca.params,
                &Key::ed25519("impostor")?,
            )?;
            Ok((cert, name))
        };
    for (cert, name) in [
        forged("device-forged-impersonated", 0x7101, &ca_target)?,
        forged("device-forged-ed25519", 0x7102, &ca_ed)?,
    ] {
        dev.insert(name, cert);
    }
    let self_signed_dev =
        |name: &'static str, serial: u64| -> Result<(Cert, &'static str), Error> {
            let p = leaf_params(name, serial, normal, client);
            let desc = "self-signed device certificate (no CA)";
            Ok((self_signed(name, desc, &p, &dk(name)?)?, name))
        };
    let (cert, name) = self_signed_dev("device-self-signed", 0x7201)?;
    dev.insert(name, cert);

    Ok(Pki {
        code,
        ca_ed,
        ca_rsa,
        ca_p256,
        ca_sni,
        ca_inactive,
        ca_noauto,
        ca_short,
        ca_root,
        ca_inter,
        ca_twin_a,
        ca_twin_b,
        ca_target,
        ca_unregistered,
        ca_expired: ca_expired.cert,
        ca_future: ca_future.cert,
        ca_limit: limit.into_iter().map(|c| c.cert).collect(),
        v_ed,
        v_rsa,
        v_p256,
        v_sni,
        v_inactive,
        v_noauto,
        v_short,
        v_root,
        v_twin,
        v_target,
        v_expired_ca,
        v_future_ca,
        v_limit,
        v_ed_wrong_code,
        v_ed_wrong_key,
        v_ed_wrong_issuer,
        v_ed_expired,
        not_ca_no_bc,
        not_ca_bc_false,
        dev,
    })
}
