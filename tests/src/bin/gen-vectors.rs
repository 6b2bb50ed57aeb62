//! Deterministic generator of the shared jitr test vectors (`tests/vectors/*.json`).
//!
//! Run from the workspace root: `cargo run -q -p jitr-tests --bin gen-vectors`.
//! Every expected value is computed here from the spec (`spec/jitr.md`), never by jitr-core:
//! certificate ids are SHA-256 of the DER, ARNs and event payloads are formatted by hand.
//! Running it twice yields byte-identical files (CI regenerates them and checks `git diff`).

#[path = "../gen/json.rs"]
mod json;
#[path = "../gen/pki.rs"]
mod pki;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jitr_testkit::rcgen::IsCa;
use json::{obj, J};
use pki::{
    ca_params, issue_with, leaf_params, self_signed, sha256_hex, Ca, Cert, Eku, Error, Key, Ymd,
    NOT_AFTER, NOT_BEFORE,
};

const PARTITION: &str = "aws";
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
/// The SNI host name of the account's endpoint (`<prefix>-ats.iot.<region>.amazonaws.com`).
const ENDPOINT: &str = "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com";
/// 2026-06-01T00:00:00Z in milliseconds: the `now` of every scenario's first step.
const T0: i64 = 1_780_272_000_000;
/// 2026-07-02T00:00:00Z: after the short-lived CA (2026-07-01) and device (2026-06-15) expire.
const T_JULY: i64 = 1_782_950_400_000;
/// Time between two steps.
const STEP_MS: i64 = 1_000;
const DAY_MS: i64 = 86_400_000;

const DEFAULT_VALIDITY: (Ymd, Ymd) = (NOT_BEFORE, NOT_AFTER);

// ---------------------------------------------------------------------------------------
// Expected values, computed independently of jitr-core.

fn registration_code() -> String {
    sha256_hex(b"jitr test vectors registration code")
}

fn ca_arn(id: &str) -> String {
    format!("arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:cacert/{id}")
}

fn cert_arn(id: &str) -> String {
    format!("arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:cert/{id}")
}

fn topic(ca_id: &str) -> String {
    format!("$aws/events/certificates/registered/{ca_id}")
}

/// The registration event payload, exactly as spec §7 writes it.
fn event_payload(cert_id: &str, ca_id: &str, timestamp: i64, registered_at: i64) -> String {
    format!(
        "{{\"certificateId\":\"{cert_id}\",\"caCertificateId\":\"{ca_id}\",\"timestamp\":{timestamp},\
         \"certificateStatus\":\"PENDING_ACTIVATION\",\"awsAccountId\":\"{ACCOUNT}\",\
         \"certificateRegistrationTimestamp\":\"{registered_at}\"}}"
    )
}

fn err(name: &str) -> J {
    obj! {"error" => name}
}

fn ca_ok(id: &str) -> J {
    obj! {"certificateId" => id, "certificateArn" => ca_arn(id)}
}

fn cert_ok(id: &str) -> J {
    obj! {"certificateId" => id, "certificateArn" => cert_arn(id)}
}

fn ca_description(id: &str, status: &str, auto: &str, version: i64, mode: &str) -> J {
    obj! {"certificateDescription" => obj! {
        "certificateId" => id,
        "certificateArn" => ca_arn(id),
        "status" => status,
        "autoRegistrationStatus" => auto,
        "customerVersion" => version,
        "ownedBy" => ACCOUNT,
        "certificateMode" => mode,
    }}
}

/// `ca_id: None` means the certificate has no CA: runners check `caCertificateId` is absent
/// (or null).
fn cert_description(id: &str, ca_id: Option<&str>, status: &str, version: i64, mode: &str) -> J {
    obj! {"certificateDescription" => obj! {
        "certificateId" => id,
        "certificateArn" => cert_arn(id),
        "caCertificateId" => ca_id,
        "status" => status,
        "customerVersion" => version,
        "ownedBy" => ACCOUNT,
        "certificateMode" => mode,
    }}
}

fn ids(certs: &[&Cert]) -> J {
    J::from(certs.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
}

fn listed(certs: &[&Cert], has_next: bool) -> J {
    obj! {"certificateIds" => ids(certs), "hasNextMarker" => has_next}
}

/// Expected outcome of a `connect` step.
enum Outcome<'a> {
    /// Unknown leaf registered as PENDING_ACTIVATION under this CA; event published.
    Registered(&'a Cert),
    /// Leaf already PENDING_ACTIVATION under this CA; event published again.
    Pending(&'a Cert),
    /// Connection allowed; the certificate's CA, if it has one.
    Allowed(Option<&'a Cert>),
    /// Refused with this reason, no event; `caCertificateId` as given.
    Refused(&'a str, Option<&'a Cert>),
}

// ---------------------------------------------------------------------------------------
// Scenario builder.

struct Scenario {
    name: &'static str,
    description: &'static str,
    certificates: Vec<(String, J)>,
    steps: Vec<J>,
    now: i64,
    /// certificateId → time of its JITR registration (for re-published events).
    registered_at: BTreeMap<String, i64>,
}

impl Scenario {
    fn new(name: &'static str, description: &'static str) -> Self {
        Scenario {
            name,
            description,
            certificates: Vec::new(),
            steps: Vec::new(),
            now: T0,
            registered_at: BTreeMap::new(),
        }
    }

    /// Lists `c` in the file's `certificates` map (once) and returns its PEM.
    fn pem(&mut self, c: &Cert) -> String {
        if !self.certificates.iter().any(|(n, _)| *n == c.name) {
            let entry = obj! {
                "pem" => &c.pem,
                "certificateId" => &c.id,
                "description" => &c.description,
            };
            self.certificates.push((c.name.clone(), entry));
        }
        c.pem.clone()
    }

    /// Moves the clock forward to `t` (never backwards).
    fn jump_to(&mut self, t: i64) {
        assert!(t >= self.now, "time must not go backwards in {}", self.name);
        self.now = t;
    }

    fn step(&mut self, op: &str, args: J, expect: J, note: &str) {
        let step = obj! {
            "op" => op,
            "now" => self.now,
            "args" => args,
            "expect" => expect,
            "note" => note,
        };
        self.steps.push(step);
        self.now += STEP_MS;
    }

    // --- CA operations -------------------------------------------------------------

    /// `register_ca_certificate` with every argument explicit.
    #[allow(clippy::too_many_arguments)]
    fn register_ca(
        &mut self,
        ca: &Cert,
        verification: Option<&Cert>,
        active: bool,
        auto: bool,
        mode: &str,
        expect: J,
        note: &str,
    ) {
        let mut args = obj! {"caCertificate" => self.pem(ca)};
        if let Some(v) = verification {
            args.push("verificationCertificate", self.pem(v));
        }
        args.push("setAsActive", active);
        args.push("allowAutoRegistration", auto);
        args.push("certificateMode", mode);
        self.step("register_ca_certificate", args, expect, note);
    }

    /// Registers a DEFAULT-mode CA that must succeed.
    fn register_ca_ok(
        &mut self,
        ca: &Cert,
        verification: &Cert,
        active: bool,
        auto: bool,
        note: &str,
    ) {
        self.register_ca(
            ca,
            Some(verification),
            active,
            auto,
            "DEFAULT",
            ca_ok(&ca.id),
            note,
        );
    }

    fn update_ca(
        &mut self,
        id: &str,
        status: Option<&str>,
        auto: Option<&str>,
        expect: J,
        note: &str,
    ) {
        let mut args = obj! {"certificateId" => id};
        if let Some(s) = status {
            args.push("newStatus", s);
        }
        if let Some(a) = auto {
            args.push("newAutoRegistrationStatus", a);
        }
        self.step("update_ca_certificate", args, expect, note);
    }

    fn describe_ca(&mut self, id: &str, expect: J, note: &str) {
        self.step(
            "describe_ca_certificate",
            obj! {"certificateId" => id},
            expect,
            note,
        );
    }

    fn delete_ca(&mut self, id: &str, expect: J, note: &str) {
        self.step(
            "delete_ca_certificate",
            obj! {"certificateId" => id},
            expect,
            note,
        );
    }

    // --- device certificate operations ---------------------------------------------

    fn register_cert(
        &mut self,
        cert: &Cert,
        ca: Option<&Cert>,
        status: Option<&str>,
        expect: J,
        note: &str,
    ) {
        let mut args = obj! {"certificatePem" => self.pem(cert)};
        if let Some(ca) = ca {
            args.push("caCertificatePem", self.pem(ca));
        }
        if let Some(s) = status {
            args.push("status", s);
        }
        self.step("register_certificate", args, expect, note);
    }

    fn register_without_ca(&mut self, cert: &Cert, status: Option<&str>, expect: J, note: &str) {
        let mut args = obj! {"certificatePem" => self.pem(cert)};
        if let Some(s) = status {
            args.push("status", s);
        }
        self.step("register_certificate_without_ca", args, expect, note);
    }

    fn update_cert(&mut self, id: &str, status: &str, expect: J, note: &str) {
        let args = obj! {"certificateId" => id, "newStatus" => status};
        self.step("update_certificate", args, expect, note);
    }

    fn describe_cert(&mut self, id: &str, expect: J, note: &str) {
        self.step(
            "describe_certificate",
            obj! {"certificateId" => id},
            expect,
            note,
        );
    }

    fn delete_cert(&mut self, id: &str, force: Option<bool>, expect: J, note: &str) {
        let mut args = obj! {"certificateId" => id};
        if let Some(f) = force {
            args.push("forceDelete", f);
        }
        self.step("delete_certificate", args, expect, note);
    }

    fn list(
        &mut self,
        op: &str,
        ca: Option<&str>,
        page: Option<u32>,
        asc: Option<bool>,
        expect: J,
        note: &str,
    ) {
        let mut args = obj! {};
        if let Some(ca) = ca {
            args.push("caCertificateId", ca);
        }
        if let Some(p) = page {
            args.push("pageSize", p);
        }
        if let Some(a) = asc {
            args.push("ascendingOrder", a);
        }
        self.step(op, args, expect, note);
    }

    // --- policies ------------------------------------------------------------------

    fn create_policy(&mut self, name: &str, document: &str, expect: J, note: &str) {
        let args = obj! {"policyName" => name, "policyDocument" => document};
        self.step("create_policy", args, expect, note);
    }

    fn attach(&mut self, op: &str, name: &str, cert_id: &str, expect: J, note: &str) {
        let args = obj! {"policyName" => name, "target" => cert_arn(cert_id)};
        self.step(op, args, expect, note);
    }

    fn list_policies(&mut self, cert_id: &str, names: &[&str], note: &str) {
        let expect = obj! {"policyNames" => names.to_vec()};
        self.step(
            "list_attached_policies",
            obj! {"target" => cert_arn(cert_id)},
            expect,
            note,
        );
    }

    // --- the JITR decision ---------------------------------------------------------

    /// `connect` with certificates of the catalogue, leaf first.
    fn connect(&mut self, chain: &[&Cert], sni: bool, outcome: Outcome<'_>, note: &str) {
        let leaf = chain.first().map(|c| c.id.clone());
        let pems: Vec<String> = chain.iter().map(|c| self.pem(c)).collect();
        let expect = match outcome {
            Outcome::Registered(ca) => {
                let leaf = leaf.clone().unwrap_or_default();
                self.registered_at.insert(leaf.clone(), self.now);
                obj! {
                    "allowed" => false,
                    "reason" => "REGISTERED_PENDING_ACTIVATION",
                    "certificateId" => &leaf,
                    "caCertificateId" => &ca.id,
                    "topic" => topic(&ca.id),
                    "event" => event_payload(&leaf, &ca.id, self.now, self.now),
                }
            }
            Outcome::Pending(ca) => {
                let leaf = leaf.clone().unwrap_or_default();
                let at = *self
                    .registered_at
                    .get(&leaf)
                    .unwrap_or_else(|| panic!("{}: pending leaf was never registered", self.name));
                obj! {
                    "allowed" => false,
                    "reason" => "PENDING_ACTIVATION",
                    "certificateId" => &leaf,
                    "caCertificateId" => &ca.id,
                    "topic" => topic(&ca.id),
                    "event" => event_payload(&leaf, &ca.id, self.now, at),
                }
            }
            Outcome::Allowed(ca) => decision(true, None, leaf, ca.map(|c| c.id.clone())),
            Outcome::Refused(reason, ca) => {
                decision(false, Some(reason), leaf, ca.map(|c| c.id.clone()))
            }
        };
        self.connect_raw(pems, sni, expect, note);
    }

    fn connect_raw(&mut self, chain: Vec<String>, sni: bool, expect: J, note: &str) {
        let args = obj! {
            "chain" => chain,
            "serverName" => if sni { J::from(ENDPOINT) } else { J::Null },
        };
        self.step("connect", args, expect, note);
    }

    fn to_json(&self) -> J {
        obj! {
            "name" => self.name,
            "description" => self.description,
            "partition" => PARTITION,
            "region" => REGION,
            "account" => ACCOUNT,
            "registrationCode" => registration_code(),
            "certificates" => J::Obj(self.certificates.clone()),
            "steps" => J::Arr(self.steps.clone()),
        }
    }
}

/// A `connect` expectation without an event.
fn decision(allowed: bool, reason: Option<&str>, leaf: Option<String>, ca: Option<String>) -> J {
    obj! {
        "allowed" => allowed,
        "reason" => reason,
        "certificateId" => leaf,
        "caCertificateId" => ca,
        "topic" => J::Null,
        "event" => J::Null,
    }
}

// ---------------------------------------------------------------------------------------
// The certificate catalogue shared by the scenarios.

struct Pki {
    code: String,
    ca_ed: Ca,
    ca_rsa: Ca,
    ca_p256: Ca,
    ca_sni: Ca,
    ca_inactive: Ca,
    ca_noauto: Ca,
    ca_short: Ca,
    ca_root: Ca,
    ca_inter: Ca,
    ca_twin_a: Ca,
    ca_twin_b: Ca,
    ca_target: Ca,
    ca_unregistered: Ca,
    ca_expired: Cert,
    ca_future: Cert,
    ca_limit: Vec<Cert>,
    /// Verification certificates, one per CA (the twins and the limit CAs share one each).
    v_ed: Cert,
    v_rsa: Cert,
    v_p256: Cert,
    v_sni: Cert,
    v_inactive: Cert,
    v_noauto: Cert,
    v_short: Cert,
    v_root: Cert,
    v_twin: Cert,
    v_target: Cert,
    v_expired_ca: Cert,
    v_future_ca: Cert,
    v_limit: Cert,
    /// Defective verification certificates for the Ed25519 CA.
    v_ed_wrong_code: Cert,
    v_ed_wrong_key: Cert,
    v_ed_wrong_issuer: Cert,
    v_ed_expired: Cert,
    /// Not CA certificates.
    not_ca_no_bc: Cert,
    not_ca_bc_false: Cert,
    /// Devices.
    dev: BTreeMap<&'static str, Cert>,
}

impl Pki {
    fn dev(&self, name: &str) -> &Cert {
        self.dev
            .get(name)
            .unwrap_or_else(|| panic!("no device {name}"))
    }
}

fn build_pki() -> Result<Pki, Error> {
    let code = registration_code();

    let ca = |name: &str, desc: &str, cn: &str, serial: u64, validity, key| {
        Ca::root(name, desc, ca_params(cn, serial, validity), key)
    };
    let ca_ed = ca(
        "ca-ed25519",
        "Ed25519 root CA, valid 2025-01-01..2035-01-01",
        "jitr Ed25519 CA",
        0x1001,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/ed25519")?,
    )?;
    let ca_rsa = ca(
        "ca-rsa",
        "RSA-2048 root CA (PKCS#1 v1.5 SHA-256 signatures)",
        "jitr RSA CA",
        0x1002,
        DEFAULT_VALIDITY,
        Key::rsa2048()?,
    )?;
    let ca_p256 = ca(
        "ca-p256",
        "ECDSA P-256 root CA (ECDSA-SHA256 signatures)",
        "jitr P-256 CA",
        0x1003,
        DEFAULT_VALIDITY,
        Key::p256("ca/p256")?,
    )?;
    let ca_sni = ca(
        "ca-sni-only",
        "Ed25519 root CA registered in SNI_ONLY mode",
        "jitr SNI-only CA",
        0x1004,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/sni")?,
    )?;
    let ca_inactive = ca(
        "ca-inactive",
        "Ed25519 root CA registered INACTIVE with auto-registration ENABLE",
        "jitr Inactive CA",
        0x1005,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/inactive")?,
    )?;
    let ca_noauto = ca(
        "ca-no-auto",
        "Ed25519 root CA registered ACTIVE with auto-registration DISABLE",
        "jitr No-auto CA",
        0x1006,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/noauto")?,
    )?;
    let ca_short = ca(
        "ca-short-lived",
        "Ed25519 root CA valid 2025-01-01..2026-07-01 (expires during the scenario)",
        "jitr Short-lived CA",
        0x1007,
        ((2025, 1, 1), (2026, 7, 1)),
        Key::ed25519("ca/short")?,
    )?;
    let ca_root = ca(
        "ca-root",
        "Ed25519 root CA whose intermediate signs devices (only the root is registered)",
        "jitr Root CA",
        0x1008,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/root")?,
    )?;
    let ca_inter = Ca::signed_by(
        "ca-intermediate",
        "Ed25519 intermediate CA signed by ca-root, never registered",
        ca_params("jitr Intermediate CA", 0x1009, DEFAULT_VALIDITY),
        Key::ed25519("ca/intermediate")?,
        &ca_root,
    )?;
    let ca_twin_a = ca(
        "ca-twin-a",
        "Ed25519 root CA; same subject and same key as ca-twin-b, other serial",
        "jitr Twin CA",
        0x100a,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/twin")?,
    )?;
    let ca_twin_b = ca(
        "ca-twin-b",
        "Ed25519 root CA; same subject and same key as ca-twin-a, other serial",
        "jitr Twin CA",
        0x100b,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/twin")?,
    )?;
    let ca_target = ca(
        "ca-impersonated",
        "Ed25519 root CA whose name an unregistered key also signs with",
        "jitr Impersonated CA",
        0x100c,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/impersonated")?,
    )?;
    let ca_unregistered = ca(
        "ca-unregistered",
        "Ed25519 root CA that is never registered",
        "jitr Unregistered CA",
        0x100d,
        DEFAULT_VALIDITY,
        Key::ed25519("ca/unregistered")?,
    )?;
    let ca_expired = ca(
        "ca-expired",
        "Ed25519 root CA valid 2020-01-01..2025-01-01 (expired)",
        "jitr Expired CA",
        0x100e,
        ((2020, 1, 1), (2025, 1, 1)),
        Key::ed25519("ca/expired")?,
    )?;
    let ca_future = ca(
        "ca-not-yet-valid",
        "Ed25519 root CA valid 2030-01-01..2040-01-01 (not yet valid)",
        "jitr Future CA",
        0x100f,
        ((2030, 1, 1), (2040, 1, 1)),
        Key::ed25519("ca/future")?,
    )?;
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
        self_signed(
            "not-ca-no-basic-constraints",
            desc,
            &p,
            &Key::ed25519("notca/1")?,
        )?
    };
    let not_ca_bc_false = {
        let mut p = ca_params("jitr CA False", 0x6002, DEFAULT_VALIDITY);
        p.is_ca = IsCa::ExplicitNoCa;
        let desc = "self-signed certificate with basicConstraints CA:FALSE (and keyCertSign)";
        self_signed(
            "not-ca-basic-constraints-false",
            desc,
            &p,
            &Key::ed25519("notca/2")?,
        )?
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

// ---------------------------------------------------------------------------------------
// Scenarios.

fn jitr_story(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "jitr-story",
        "The JITR life of one device: CA registered, first connection registers the device and \
         publishes the event, a second one re-publishes it, activation lets it in, revocation \
         shuts it out for good.",
    );
    let ca = &p.ca_ed.cert;
    let d = p.dev("device-story");
    let policy = format!("Policy_{}", d.id);

    s.register_ca_ok(
        ca,
        &p.v_ed,
        true,
        true,
        "register the CA with its verification certificate, ACTIVE, auto-registration ENABLE",
    );
    s.describe_ca(
        &ca.id,
        ca_description(&ca.id, "ACTIVE", "ENABLE", 1, "DEFAULT"),
        "the CA as registered",
    );
    s.describe_cert(
        &d.id,
        err("ResourceNotFoundException"),
        "the device is not registered yet",
    );
    s.connect(&[d, ca], true, Outcome::Registered(ca), "first connection of an unknown device: registered PENDING_ACTIVATION, event published, connection refused");
    s.describe_cert(
        &d.id,
        cert_description(&d.id, Some(&ca.id), "PENDING_ACTIVATION", 1, "DEFAULT"),
        "JITR registered the device under its CA",
    );
    s.list(
        "list_certificates_by_ca",
        Some(&ca.id),
        Some(25),
        Some(true),
        listed(&[d], false),
        "the device is listed under its CA",
    );
    s.connect(&[d, ca], true, Outcome::Pending(ca), "second connection while pending: event published again with a new timestamp and the original certificateRegistrationTimestamp");
    s.describe_cert(
        &d.id,
        cert_description(&d.id, Some(&ca.id), "PENDING_ACTIVATION", 1, "DEFAULT"),
        "the second connection changed nothing",
    );
    // What the activation handler (spec §8) does on the event.
    let doc = policy_document(&d.id);
    s.create_policy(
        &policy,
        &doc,
        obj! {"policyName" => &policy},
        "the activation handler creates the device's policy",
    );
    s.attach(
        "attach_policy",
        &policy,
        &d.id,
        obj! {},
        "and attaches it to the certificate ARN",
    );
    s.update_cert(&d.id, "ACTIVE", obj! {}, "and activates the certificate");
    s.describe_cert(
        &d.id,
        cert_description(&d.id, Some(&ca.id), "ACTIVE", 2, "DEFAULT"),
        "ACTIVE, customerVersion 2",
    );
    s.connect(
        &[d, ca],
        true,
        Outcome::Allowed(Some(ca)),
        "an ACTIVE device is let in, no event",
    );
    s.connect(
        &[d],
        true,
        Outcome::Allowed(Some(ca)),
        "a known ACTIVE device is let in with a leaf-only chain too",
    );
    s.list_policies(&d.id, &[&policy], "the policy is attached");
    s.update_cert(&d.id, "REVOKED", obj! {}, "revoke the device");
    s.describe_cert(
        &d.id,
        cert_description(&d.id, Some(&ca.id), "REVOKED", 3, "DEFAULT"),
        "REVOKED, customerVersion 3",
    );
    s.connect(
        &[d, ca],
        true,
        Outcome::Refused("CERTIFICATE_REVOKED", Some(ca)),
        "a revoked device is refused, no event",
    );
    s.update_cert(
        &d.id,
        "ACTIVE",
        err("CertificateStateException"),
        "REVOKED is final: REVOKED -> ACTIVE is refused",
    );
    s.update_cert(
        &d.id,
        "INACTIVE",
        err("CertificateStateException"),
        "REVOKED is final: REVOKED -> INACTIVE is refused",
    );
    s.describe_cert(
        &d.id,
        cert_description(&d.id, Some(&ca.id), "REVOKED", 3, "DEFAULT"),
        "still REVOKED, customerVersion unchanged",
    );
    s.connect(
        &[d, ca],
        true,
        Outcome::Refused("CERTIFICATE_REVOKED", Some(ca)),
        "still refused",
    );
    s
}

fn policy_document(cert_id: &str) -> String {
    format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[\
         {{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:client/{cert_id}\"}},\
         {{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],\"Resource\":\"arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:topic/foo/bar/{cert_id}/*\"}},\
         {{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:topicfilter/foo/bar/{cert_id}/#\"}}]}}"
    )
}

fn ca_registration(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "ca-registration",
        "RegisterCACertificate rules (spec section 3): every refusal stores nothing; then successful \
         DEFAULT and SNI_ONLY registrations, updates, deletion and the 10-CAs-per-subject limit.",
    );
    let ed = &p.ca_ed.cert;
    let cve = || err("CertificateValidationException");

    // Refusals: each certificate has exactly one defect.
    let garbage = obj! {
        "caCertificate" => "this is not a certificate",
        "verificationCertificate" => s.pem(&p.v_ed),
        "setAsActive" => true,
        "allowAutoRegistration" => true,
        "certificateMode" => "DEFAULT",
    };
    s.step(
        "register_ca_certificate",
        garbage,
        cve(),
        "a CA 'PEM' that is no certificate at all",
    );
    let truncated = pki::pem_encode("CERTIFICATE", &ed.der[..ed.der.len() / 2]);
    let args = obj! {
        "caCertificate" => truncated,
        "verificationCertificate" => s.pem(&p.v_ed),
        "setAsActive" => true,
        "allowAutoRegistration" => true,
        "certificateMode" => "DEFAULT",
    };
    s.step(
        "register_ca_certificate",
        args,
        cve(),
        "a PEM block holding the first half of ca-ed25519's DER (unparseable)",
    );
    let two = format!("{}{}", s.pem(ed), s.pem(&p.ca_rsa.cert));
    let args = obj! {
        "caCertificate" => two,
        "verificationCertificate" => s.pem(&p.v_ed),
        "setAsActive" => true,
        "allowAutoRegistration" => true,
        "certificateMode" => "DEFAULT",
    };
    s.step(
        "register_ca_certificate",
        args,
        cve(),
        "two certificates in caCertificate (ca-ed25519 then ca-rsa): exactly one is required",
    );
    s.register_ca(
        &p.not_ca_no_bc,
        Some(&p.v_ed),
        true,
        true,
        "DEFAULT",
        cve(),
        "a certificate without basicConstraints is not a CA",
    );
    s.register_ca(
        &p.not_ca_bc_false,
        Some(&p.v_ed),
        true,
        true,
        "DEFAULT",
        cve(),
        "a certificate with basicConstraints CA:FALSE is not a CA",
    );
    s.register_ca(
        &p.not_ca_no_bc,
        None,
        true,
        true,
        "SNI_ONLY",
        cve(),
        "not a CA, in SNI_ONLY mode too",
    );
    s.register_ca(
        ed,
        None,
        true,
        true,
        "DEFAULT",
        err("InvalidRequestException"),
        "DEFAULT mode needs a verification certificate",
    );
    s.register_ca(
        &p.ca_sni.cert,
        Some(&p.v_sni),
        true,
        true,
        "SNI_ONLY",
        err("InvalidRequestException"),
        "SNI_ONLY mode must not have a verification certificate",
    );
    s.register_ca(
        ed,
        Some(&p.v_ed_wrong_code),
        true,
        true,
        "DEFAULT",
        err("RegistrationCodeValidationException"),
        "verification CN is not this registry's registration code",
    );
    s.register_ca(
        ed,
        Some(&p.v_ed_wrong_key),
        true,
        true,
        "DEFAULT",
        cve(),
        "verification certificate names the CA as issuer but is signed by another key",
    );
    s.register_ca(
        ed,
        Some(&p.v_ed_wrong_issuer),
        true,
        true,
        "DEFAULT",
        cve(),
        "verification certificate signed by the CA's key but its issuer is not the CA's subject",
    );
    s.register_ca(
        ed,
        Some(&p.v_ed_expired),
        true,
        true,
        "DEFAULT",
        cve(),
        "verification certificate expired (2025-01-01)",
    );
    s.register_ca(
        ed,
        Some(&p.v_rsa),
        true,
        true,
        "DEFAULT",
        cve(),
        "verification certificate of another CA (ca-rsa)",
    );
    s.register_ca(
        &p.ca_expired,
        Some(&p.v_expired_ca),
        true,
        true,
        "DEFAULT",
        cve(),
        "the CA certificate expired on 2025-01-01",
    );
    s.register_ca(
        &p.ca_future,
        Some(&p.v_future_ca),
        true,
        true,
        "DEFAULT",
        cve(),
        "the CA certificate is valid only from 2030-01-01",
    );
    s.list(
        "list_ca_certificates",
        None,
        Some(250),
        Some(true),
        listed(&[], false),
        "no refused registration stored anything",
    );

    // Successes.
    let args = obj! {
        "caCertificate" => s.pem(ed),
        "verificationCertificate" => s.pem(&p.v_ed),
    };
    s.step(
        "register_ca_certificate",
        args,
        ca_ok(&ed.id),
        "defaults: setAsActive false, allowAutoRegistration false, certificateMode DEFAULT",
    );
    s.describe_ca(
        &ed.id,
        ca_description(&ed.id, "INACTIVE", "DISABLE", 1, "DEFAULT"),
        "INACTIVE and DISABLE by default, customerVersion 1",
    );
    s.register_ca(
        ed,
        Some(&p.v_ed),
        true,
        true,
        "DEFAULT",
        err("ResourceAlreadyExistsException"),
        "the same CA again (other arguments do not matter)",
    );
    s.register_ca(
        &p.ca_sni.cert,
        None,
        true,
        true,
        "SNI_ONLY",
        ca_ok(&p.ca_sni.cert.id),
        "SNI_ONLY without a verification certificate",
    );
    s.describe_ca(
        &p.ca_sni.cert.id,
        ca_description(&p.ca_sni.cert.id, "ACTIVE", "ENABLE", 1, "SNI_ONLY"),
        "SNI_ONLY CA: ACTIVE, ENABLE",
    );
    s.register_ca(
        &p.ca_rsa.cert,
        Some(&p.v_rsa),
        true,
        false,
        "DEFAULT",
        ca_ok(&p.ca_rsa.cert.id),
        "RSA-2048 CA, verification signed with RSA PKCS#1 v1.5 SHA-256",
    );
    s.describe_ca(
        &p.ca_rsa.cert.id,
        ca_description(&p.ca_rsa.cert.id, "ACTIVE", "DISABLE", 1, "DEFAULT"),
        "setAsActive true, allowAutoRegistration false",
    );
    s.register_ca(
        &p.ca_p256.cert,
        Some(&p.v_p256),
        false,
        true,
        "DEFAULT",
        ca_ok(&p.ca_p256.cert.id),
        "P-256 CA, verification signed with ECDSA-SHA256",
    );
    s.describe_ca(
        &p.ca_p256.cert.id,
        ca_description(&p.ca_p256.cert.id, "INACTIVE", "ENABLE", 1, "DEFAULT"),
        "setAsActive false, allowAutoRegistration true",
    );

    // Updates and deletion.
    s.update_ca(
        &ed.id,
        Some("ACTIVE"),
        Some("ENABLE"),
        obj! {},
        "activate and enable auto-registration in one call",
    );
    s.describe_ca(
        &ed.id,
        ca_description(&ed.id, "ACTIVE", "ENABLE", 2, "DEFAULT"),
        "one change: customerVersion 2",
    );
    s.delete_ca(
        &ed.id,
        err("CertificateStateException"),
        "an ACTIVE CA cannot be deleted",
    );
    s.update_ca(
        &ed.id,
        None,
        Some("DISABLE"),
        obj! {},
        "disable auto-registration only",
    );
    s.describe_ca(
        &ed.id,
        ca_description(&ed.id, "ACTIVE", "DISABLE", 3, "DEFAULT"),
        "customerVersion 3",
    );
    s.update_ca(&ed.id, Some("INACTIVE"), None, obj! {}, "deactivate");
    s.describe_ca(
        &ed.id,
        ca_description(&ed.id, "INACTIVE", "DISABLE", 4, "DEFAULT"),
        "customerVersion 4",
    );
    let upper = format!("0x{}", ed.id.to_uppercase());
    s.describe_ca(
        &upper,
        ca_description(&ed.id, "INACTIVE", "DISABLE", 4, "DEFAULT"),
        "ids are accepted upper-case with a 0x prefix; output is lower-case",
    );
    s.delete_ca(&ed.id, obj! {}, "an INACTIVE CA can be deleted");
    s.describe_ca(&ed.id, err("ResourceNotFoundException"), "the CA is gone");
    s.update_ca(
        &ed.id,
        Some("ACTIVE"),
        None,
        err("ResourceNotFoundException"),
        "updating an unknown CA",
    );
    s.delete_ca(
        &ed.id,
        err("ResourceNotFoundException"),
        "deleting an unknown CA",
    );
    s.register_ca(
        ed,
        Some(&p.v_ed),
        true,
        true,
        "DEFAULT",
        ca_ok(&ed.id),
        "a deleted CA can be registered again",
    );
    s.describe_ca(
        &ed.id,
        ca_description(&ed.id, "ACTIVE", "ENABLE", 1, "DEFAULT"),
        "a fresh record: customerVersion 1",
    );

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
    s.register_ca(
        eleventh,
        Some(&p.v_limit),
        false,
        false,
        "DEFAULT",
        err("LimitExceededException"),
        "an 11th CA with the same subject exceeds the limit of 10",
    );
    s.delete_ca(
        &p.ca_limit[0].id,
        obj! {},
        "delete one of the ten (INACTIVE)",
    );
    s.register_ca(
        eleventh,
        Some(&p.v_limit),
        false,
        false,
        "DEFAULT",
        ca_ok(&eleventh.id),
        "now the 11th fits",
    );

    let mut all: Vec<&Cert> = vec![&p.ca_sni.cert, &p.ca_rsa.cert, &p.ca_p256.cert, ed];
    all.extend(p.ca_limit[1..].iter());
    s.list(
        "list_ca_certificates",
        None,
        Some(250),
        Some(true),
        listed(&all, false),
        "every stored CA, oldest first",
    );
    s
}

fn connect_refusals(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "connect-refusals",
        "The JITR decision (spec section 6) for every outcome a registry can produce: registrations, \
         re-published events, allowed connections and each refusal reason.",
    );
    let ed = &p.ca_ed.cert;
    let rsa = &p.ca_rsa.cert;
    let p256 = &p.ca_p256.cert;
    let sni = &p.ca_sni.cert;
    let inactive = &p.ca_inactive.cert;
    let noauto = &p.ca_noauto.cert;
    let short = &p.ca_short.cert;
    let twin_a = &p.ca_twin_a.cert;
    let twin_b = &p.ca_twin_b.cert;
    let d = |n: &str| p.dev(n);

    s.register_ca_ok(ed, &p.v_ed, true, true, "Ed25519 CA, ACTIVE, ENABLE");
    s.register_ca_ok(rsa, &p.v_rsa, true, true, "RSA CA, ACTIVE, ENABLE");
    s.register_ca_ok(p256, &p.v_p256, true, true, "P-256 CA, ACTIVE, ENABLE");
    s.register_ca(
        sni,
        None,
        true,
        true,
        "SNI_ONLY",
        ca_ok(&sni.id),
        "SNI_ONLY CA, ACTIVE, ENABLE",
    );
    s.register_ca_ok(
        inactive,
        &p.v_inactive,
        false,
        true,
        "CA registered INACTIVE (auto-registration ENABLE)",
    );
    s.register_ca_ok(
        noauto,
        &p.v_noauto,
        true,
        false,
        "CA registered ACTIVE with auto-registration DISABLE",
    );
    s.register_ca_ok(
        short,
        &p.v_short,
        true,
        true,
        "CA valid until 2026-07-01, ACTIVE, ENABLE",
    );
    s.register_ca_ok(
        &p.ca_root.cert,
        &p.v_root,
        true,
        true,
        "root CA only (its intermediate is not registered)",
    );
    s.register_ca_ok(twin_a, &p.v_twin, true, true, "twin CA a");
    s.register_ca_ok(
        twin_b,
        &p.v_twin,
        true,
        true,
        "twin CA b: same subject and key as a, other certificate",
    );
    s.register_ca_ok(
        &p.ca_target.cert,
        &p.v_target,
        true,
        true,
        "CA whose name a forger uses",
    );

    // Registrations.
    s.connect(
        &[d("device-0001"), ed],
        true,
        Outcome::Registered(ed),
        "chain leaf+CA with SNI: registered",
    );
    s.connect(
        &[d("device-0001"), ed],
        true,
        Outcome::Pending(ed),
        "again: PENDING_ACTIVATION, event re-published",
    );
    s.connect(
        &[d("device-0001")],
        false,
        Outcome::Pending(ed),
        "a known pending leaf re-publishes even with a leaf-only chain and no SNI",
    );
    s.connect(
        &[d("device-0002"), ed],
        false,
        Outcome::Registered(ed),
        "chain leaf+CA without SNI: the CA is in the chain, so no SNI is needed",
    );
    s.connect(
        &[d("device-0003")],
        true,
        Outcome::Registered(ed),
        "leaf-only chain with SNI: registered",
    );
    s.connect(
        &[d("device-0004")],
        false,
        Outcome::Refused("SNI_REQUIRED", None),
        "leaf-only chain without SNI for an unknown leaf",
    );
    s.describe_cert(
        &d("device-0004").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.connect(
        &[d("device-0004")],
        true,
        Outcome::Registered(ed),
        "the same leaf with SNI: registered",
    );
    s.connect(
        &[d("device-no-eku"), ed],
        true,
        Outcome::Registered(ed),
        "a leaf without extendedKeyUsage is accepted",
    );
    s.connect(
        &[d("device-server-auth"), ed],
        true,
        Outcome::Refused("EKU_NOT_CLIENT_AUTH", None),
        "a leaf whose EKU is serverAuth only is refused",
    );
    s.describe_cert(
        &d("device-server-auth").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.connect(
        &[d("device-rsa-1"), rsa],
        true,
        Outcome::Registered(rsa),
        "RSA CA path: registered under the RSA CA",
    );
    s.connect(
        &[d("device-p256"), p256],
        true,
        Outcome::Registered(p256),
        "P-256 CA path (P-256 device key): registered",
    );
    s.describe_cert(
        &d("device-p256").id,
        cert_description(
            &d("device-p256").id,
            Some(&p256.id),
            "PENDING_ACTIVATION",
            1,
            "DEFAULT",
        ),
        "registered under the P-256 CA",
    );

    // Known leaves.
    s.update_cert(
        &d("device-rsa-1").id,
        "ACTIVE",
        obj! {},
        "activate the RSA device",
    );
    s.connect(
        &[d("device-rsa-1"), rsa],
        true,
        Outcome::Allowed(Some(rsa)),
        "ACTIVE: allowed",
    );
    s.update_ca(
        &rsa.id,
        Some("INACTIVE"),
        None,
        obj! {},
        "deactivate the RSA CA",
    );
    s.connect(
        &[d("device-rsa-1"), rsa],
        true,
        Outcome::Allowed(Some(rsa)),
        "devices already registered keep working after their CA is deactivated",
    );
    s.connect(
        &[d("device-rsa-2"), rsa],
        true,
        Outcome::Refused("CA_INACTIVE", Some(rsa)),
        "but new devices of that CA are no longer registered",
    );
    s.register_cert(
        d("device-0005"),
        Some(ed),
        None,
        cert_ok(&d("device-0005").id),
        "registered by API, INACTIVE by default",
    );
    s.connect(
        &[d("device-0005"), ed],
        true,
        Outcome::Refused("CERTIFICATE_INACTIVE", Some(ed)),
        "a known INACTIVE leaf is refused, no event",
    );
    s.register_cert(
        d("device-0006"),
        Some(ed),
        Some("REVOKED"),
        cert_ok(&d("device-0006").id),
        "registered by API as REVOKED",
    );
    s.connect(
        &[d("device-0006"), ed],
        true,
        Outcome::Refused("CERTIFICATE_REVOKED", Some(ed)),
        "a known REVOKED leaf is refused, no event",
    );
    s.register_cert(
        d("device-0007"),
        Some(ed),
        Some("ACTIVE"),
        cert_ok(&d("device-0007").id),
        "registered by API as ACTIVE",
    );
    s.connect(
        &[d("device-0007"), ed],
        true,
        Outcome::Allowed(Some(ed)),
        "a known ACTIVE leaf is allowed",
    );
    s.connect(
        &[d("device-0007")],
        false,
        Outcome::Allowed(Some(ed)),
        "a known ACTIVE leaf needs neither the CA nor SNI",
    );
    let own = d("device-self-signed");
    s.register_without_ca(
        own,
        Some("ACTIVE"),
        cert_ok(&own.id),
        "a certificate registered without CA, ACTIVE",
    );
    s.connect(&[own], true, Outcome::Allowed(None), "allowed, with no CA");

    // Unknown leaves refused.
    s.connect(
        &[d("device-unregistered-ca")],
        true,
        Outcome::Refused("UNKNOWN_ISSUER", None),
        "no registered CA has the leaf's issuer name",
    );
    s.connect(
        &[d("device-unregistered-ca"), &p.ca_unregistered.cert],
        true,
        Outcome::Refused("UNKNOWN_ISSUER", None),
        "sending the unregistered CA does not help",
    );
    s.connect(&[d("device-intermediate"), &p.ca_inter.cert, &p.ca_root.cert], true, Outcome::Refused("UNKNOWN_ISSUER", None), "only the CA that signed the leaf counts: registering the root of its intermediate is not enough");
    s.connect(
        &[d("device-forged-impersonated")],
        true,
        Outcome::Refused("BAD_SIGNATURE", None),
        "a registered CA has the leaf's issuer name but its key does not verify the leaf",
    );
    s.connect(
        &[d("device-forged-ed25519"), ed],
        true,
        Outcome::Refused("BAD_SIGNATURE", None),
        "same, with the genuine CA in the chain",
    );
    s.connect(&[d("device-twin-1")], true, Outcome::Refused("AMBIGUOUS_CA", None), "two registered CAs with the same subject and key verify the leaf, and the chain names neither");
    s.describe_cert(
        &d("device-twin-1").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.connect(
        &[d("device-twin-2"), twin_b],
        true,
        Outcome::Registered(twin_b),
        "the CA certificate in the chain picks one of the twins",
    );
    s.connect(
        &[d("device-twin-3"), twin_a],
        true,
        Outcome::Registered(twin_a),
        "and the other",
    );
    s.connect(
        &[d("device-ca-inactive"), inactive],
        true,
        Outcome::Refused("CA_INACTIVE", Some(inactive)),
        "the issuing CA is INACTIVE",
    );
    s.describe_cert(
        &d("device-ca-inactive").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.update_ca(
        &inactive.id,
        Some("ACTIVE"),
        None,
        obj! {},
        "activate that CA",
    );
    s.connect(
        &[d("device-ca-inactive"), inactive],
        true,
        Outcome::Registered(inactive),
        "now the device is registered",
    );
    s.connect(
        &[d("device-ca-no-auto"), noauto],
        true,
        Outcome::Refused("AUTO_REGISTRATION_DISABLED", Some(noauto)),
        "the issuing CA has auto-registration DISABLE",
    );
    s.describe_cert(
        &d("device-ca-no-auto").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.connect(
        &[d("device-sni"), sni],
        false,
        Outcome::Refused("CA_REQUIRES_SNI", Some(sni)),
        "an SNI_ONLY CA is not reached without SNI, even with the CA in the chain",
    );
    s.describe_cert(
        &d("device-sni").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.connect(
        &[d("device-sni"), sni],
        true,
        Outcome::Registered(sni),
        "with SNI the SNI_ONLY CA registers the device",
    );
    s.describe_cert(
        &d("device-sni").id,
        cert_description(
            &d("device-sni").id,
            Some(&sni.id),
            "PENDING_ACTIVATION",
            1,
            "SNI_ONLY",
        ),
        "the device takes the CA's certificate mode",
    );
    s.connect(
        &[d("device-expired"), ed],
        true,
        Outcome::Refused("CERTIFICATE_EXPIRED", None),
        "an unknown leaf that expired on 2025-06-01",
    );
    s.connect(
        &[d("device-not-yet-valid"), ed],
        true,
        Outcome::Refused("CERTIFICATE_NOT_YET_VALID", None),
        "an unknown leaf valid only from 2030-01-01",
    );
    s.describe_cert(
        &d("device-expired").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.connect_raw(
        Vec::new(),
        true,
        decision(false, Some("NO_CERTIFICATE"), None, None),
        "an empty chain: no certificate (certificateId null)",
    );
    let leaf = d("device-0008");
    let half = &leaf.der[..leaf.der.len() / 2];
    s.connect_raw(
        vec![pki::pem_encode("CERTIFICATE", half)],
        true,
        decision(false, Some("MALFORMED_CERTIFICATE"), Some(sha256_hex(half)), None),
        "a PEM block holding the first half of a device's DER: certificateId is the SHA-256 of the bytes sent",
    );

    // Validity over time.
    let short_dev = d("device-short-lived");
    s.connect(
        &[short_dev, ed],
        true,
        Outcome::Registered(ed),
        "a device valid until 2026-06-15 is registered",
    );
    s.update_cert(&short_dev.id, "ACTIVE", obj! {}, "activate it");
    s.connect(
        &[short_dev, ed],
        true,
        Outcome::Allowed(Some(ed)),
        "allowed while valid",
    );
    s.jump_to(T0 + 14 * DAY_MS);
    s.connect(
        &[short_dev, ed],
        true,
        Outcome::Allowed(Some(ed)),
        "2026-06-15T00:00:00Z is still within validity (notAfter inclusive)",
    );
    s.jump_to(T0 + 15 * DAY_MS);
    s.connect(
        &[short_dev, ed],
        true,
        Outcome::Refused("CERTIFICATE_EXPIRED", Some(ed)),
        "2026-06-16: a known ACTIVE leaf that has expired is refused",
    );
    s.jump_to(T_JULY);
    s.connect(
        &[d("device-ca-short-lived"), short],
        true,
        Outcome::Refused("CA_EXPIRED", Some(short)),
        "2026-07-02: the issuing CA expired on 2026-07-01",
    );
    s.describe_cert(
        &d("device-ca-short-lived").id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    s.connect(
        &[d("device-0009"), ed],
        true,
        Outcome::Registered(ed),
        "other CAs still register devices",
    );
    s
}

fn device_registration(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "device-registration",
        "RegisterCertificate, RegisterCertificateWithoutCA, UpdateCertificate transitions, \
         DeleteCertificate and policies (spec section 5).",
    );
    let ed = &p.ca_ed.cert;
    let rsa = &p.ca_rsa.cert;
    let inactive = &p.ca_inactive.cert;
    let twin_a = &p.ca_twin_a.cert;
    let twin_b = &p.ca_twin_b.cert;
    let d = |n: &str| p.dev(n);
    let (r1, r2, r3, r4) = (
        d("device-0001"),
        d("device-0002"),
        d("device-0003"),
        d("device-0004"),
    );

    s.register_ca_ok(ed, &p.v_ed, true, true, "Ed25519 CA, ACTIVE");
    s.register_ca_ok(rsa, &p.v_rsa, true, true, "RSA CA, ACTIVE");
    s.register_ca_ok(
        inactive,
        &p.v_inactive,
        false,
        true,
        "a CA registered INACTIVE",
    );
    s.register_ca_ok(twin_a, &p.v_twin, true, true, "twin CA a");
    s.register_ca_ok(
        twin_b,
        &p.v_twin,
        true,
        true,
        "twin CA b (same subject and key as a)",
    );

    // RegisterCertificate.
    s.register_cert(
        r1,
        Some(ed),
        None,
        cert_ok(&r1.id),
        "with its CA's PEM, no status",
    );
    s.describe_cert(
        &r1.id,
        cert_description(&r1.id, Some(&ed.id), "INACTIVE", 1, "DEFAULT"),
        "default status INACTIVE, customerVersion 1, linked to its CA",
    );
    s.register_cert(
        r1,
        Some(ed),
        None,
        err("ResourceAlreadyExistsException"),
        "the same certificate again",
    );
    s.register_cert(
        r1,
        None,
        Some("ACTIVE"),
        err("ResourceAlreadyExistsException"),
        "again, without the CA PEM",
    );
    s.register_cert(
        r2,
        None,
        Some("ACTIVE"),
        cert_ok(&r2.id),
        "without the CA PEM: the CA is found by issuer name and signature",
    );
    s.describe_cert(
        &r2.id,
        cert_description(&r2.id, Some(&ed.id), "ACTIVE", 1, "DEFAULT"),
        "registered ACTIVE under its CA",
    );
    s.register_cert(
        r3,
        Some(ed),
        Some("REVOKED"),
        cert_ok(&r3.id),
        "status REVOKED is accepted",
    );
    s.describe_cert(
        &r3.id,
        cert_description(&r3.id, Some(&ed.id), "REVOKED", 1, "DEFAULT"),
        "registered REVOKED",
    );
    s.register_cert(
        r4,
        Some(ed),
        Some("PENDING_ACTIVATION"),
        err("CertificateStateException"),
        "status PENDING_ACTIVATION is refused",
    );
    s.register_cert(
        r4,
        Some(ed),
        Some("PENDING_TRANSFER"),
        err("InvalidRequestException"),
        "status PENDING_TRANSFER is refused",
    );
    s.register_cert(
        r4,
        Some(ed),
        Some("REGISTER_INACTIVE"),
        err("InvalidRequestException"),
        "status REGISTER_INACTIVE is refused",
    );
    s.describe_cert(
        &r4.id,
        err("ResourceNotFoundException"),
        "nothing was registered",
    );
    let di = d("device-ca-inactive");
    s.register_cert(
        di,
        Some(inactive),
        None,
        err("CertificateStateException"),
        "the issuing CA is INACTIVE",
    );
    s.register_cert(
        di,
        None,
        None,
        err("CertificateStateException"),
        "the issuing CA is INACTIVE (found without its PEM)",
    );
    let du = d("device-unregistered-ca");
    s.register_cert(
        du,
        None,
        None,
        err("CertificateStateException"),
        "the issuing CA is not registered",
    );
    s.register_cert(
        du,
        Some(&p.ca_unregistered.cert),
        None,
        err("CertificateStateException"),
        "the CA PEM given is not registered",
    );
    let forged = d("device-forged-ed25519");
    s.register_cert(
        forged,
        Some(ed),
        None,
        err("CertificateValidationException"),
        "issuer name is the CA's but the CA's key does not verify it",
    );
    s.register_cert(
        forged,
        None,
        None,
        err("CertificateValidationException"),
        "same, without the CA PEM",
    );
    let r5 = d("device-0005");
    s.register_cert(
        r5,
        Some(rsa),
        None,
        err("CertificateValidationException"),
        "the CA PEM given (RSA CA, registered and ACTIVE) did not sign the certificate",
    );
    let (t1, t2) = (d("device-twin-1"), d("device-twin-2"));
    s.register_cert(
        t1,
        None,
        None,
        err("CertificateConflictException"),
        "two registered CAs with the same subject and key: the CA PEM is needed",
    );
    s.register_cert(
        t1,
        Some(twin_b),
        None,
        cert_ok(&t1.id),
        "the CA PEM picks twin b",
    );
    s.describe_cert(
        &t1.id,
        cert_description(&t1.id, Some(&twin_b.id), "INACTIVE", 1, "DEFAULT"),
        "linked to twin b",
    );
    s.register_cert(
        t2,
        Some(twin_a),
        Some("ACTIVE"),
        cert_ok(&t2.id),
        "the CA PEM picks twin a",
    );
    s.describe_cert(
        &t2.id,
        cert_description(&t2.id, Some(&twin_a.id), "ACTIVE", 1, "DEFAULT"),
        "linked to twin a",
    );
    s.describe_cert(
        &format!("0x{}", t2.id.to_uppercase()),
        cert_description(&t2.id, Some(&twin_a.id), "ACTIVE", 1, "DEFAULT"),
        "ids are accepted upper-case with a 0x prefix; output is lower-case",
    );

    // RegisterCertificateWithoutCA.
    let own = d("device-self-signed");
    s.register_without_ca(
        own,
        None,
        cert_ok(&own.id),
        "a self-signed certificate, no status",
    );
    s.describe_cert(
        &own.id,
        cert_description(&own.id, None, "INACTIVE", 1, "SNI_ONLY"),
        "INACTIVE, no caCertificateId (null = absent), certificate mode SNI_ONLY",
    );
    s.register_without_ca(
        own,
        None,
        err("ResourceAlreadyExistsException"),
        "the same certificate again",
    );
    let du2 = d("device-unregistered-ca-2");
    s.register_without_ca(
        du2,
        Some("PENDING_ACTIVATION"),
        err("CertificateStateException"),
        "status PENDING_ACTIVATION is refused",
    );
    s.register_without_ca(
        du2,
        Some("PENDING_TRANSFER"),
        err("InvalidRequestException"),
        "status PENDING_TRANSFER is refused",
    );
    s.register_without_ca(
        du2,
        Some("ACTIVE"),
        cert_ok(&du2.id),
        "a certificate whose CA is not registered, ACTIVE",
    );
    s.describe_cert(
        &du2.id,
        cert_description(&du2.id, None, "ACTIVE", 1, "SNI_ONLY"),
        "ACTIVE, no CA",
    );
    s.register_without_ca(
        r2,
        None,
        err("ResourceAlreadyExistsException"),
        "already registered (with a CA)",
    );

    // UpdateCertificate.
    s.update_cert(&r1.id, "ACTIVE", obj! {}, "INACTIVE -> ACTIVE");
    s.describe_cert(
        &r1.id,
        cert_description(&r1.id, Some(&ed.id), "ACTIVE", 2, "DEFAULT"),
        "customerVersion 2",
    );
    s.update_cert(&r1.id, "ACTIVE", obj! {}, "ACTIVE -> ACTIVE is a no-op");
    s.describe_cert(
        &r1.id,
        cert_description(&r1.id, Some(&ed.id), "ACTIVE", 2, "DEFAULT"),
        "customerVersion unchanged",
    );
    s.update_cert(&r1.id, "INACTIVE", obj! {}, "ACTIVE -> INACTIVE");
    s.describe_cert(
        &r1.id,
        cert_description(&r1.id, Some(&ed.id), "INACTIVE", 3, "DEFAULT"),
        "customerVersion 3",
    );
    s.update_cert(
        &r1.id,
        "PENDING_ACTIVATION",
        err("InvalidRequestException"),
        "target PENDING_ACTIVATION is refused",
    );
    s.update_cert(
        &r1.id,
        "PENDING_TRANSFER",
        err("InvalidRequestException"),
        "target PENDING_TRANSFER is refused",
    );
    s.update_cert(
        &r1.id,
        "REGISTER_INACTIVE",
        err("InvalidRequestException"),
        "target REGISTER_INACTIVE is refused",
    );
    s.update_cert(&r1.id, "REVOKED", obj! {}, "INACTIVE -> REVOKED");
    s.describe_cert(
        &r1.id,
        cert_description(&r1.id, Some(&ed.id), "REVOKED", 4, "DEFAULT"),
        "customerVersion 4",
    );
    s.update_cert(
        &r1.id,
        "ACTIVE",
        err("CertificateStateException"),
        "REVOKED -> ACTIVE is refused",
    );
    s.update_cert(
        &r1.id,
        "INACTIVE",
        err("CertificateStateException"),
        "REVOKED -> INACTIVE is refused",
    );
    s.update_cert(&r1.id, "REVOKED", obj! {}, "REVOKED -> REVOKED is a no-op");
    s.describe_cert(
        &r1.id,
        cert_description(&r1.id, Some(&ed.id), "REVOKED", 4, "DEFAULT"),
        "customerVersion unchanged",
    );
    s.update_cert(&r2.id, "REVOKED", obj! {}, "ACTIVE -> REVOKED");
    s.describe_cert(
        &r2.id,
        cert_description(&r2.id, Some(&ed.id), "REVOKED", 2, "DEFAULT"),
        "customerVersion 2",
    );
    s.update_cert(
        &r4.id,
        "ACTIVE",
        err("ResourceNotFoundException"),
        "updating an unknown certificate",
    );
    // A JITR-registered (PENDING_ACTIVATION) certificate.
    let j = d("device-0006");
    s.connect(
        &[j, ed],
        true,
        Outcome::Registered(ed),
        "JITR registers a certificate PENDING_ACTIVATION",
    );
    s.update_cert(&j.id, "INACTIVE", obj! {}, "PENDING_ACTIVATION -> INACTIVE");
    s.describe_cert(
        &j.id,
        cert_description(&j.id, Some(&ed.id), "INACTIVE", 2, "DEFAULT"),
        "customerVersion 2",
    );

    // DeleteCertificate and policies.
    let policy = "DevicePolicy";
    let doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";
    s.create_policy(
        policy,
        doc,
        obj! {"policyName" => policy},
        "create a policy",
    );
    s.create_policy(
        policy,
        doc,
        err("ResourceAlreadyExistsException"),
        "a policy name is unique",
    );
    s.create_policy(
        "bad name!",
        doc,
        err("InvalidRequestException"),
        "policy names match [\\w+=,.@-]{1,128}",
    );
    s.delete_cert(
        &t2.id,
        None,
        err("CertificateStateException"),
        "an ACTIVE certificate cannot be deleted",
    );
    s.delete_cert(
        &t2.id,
        Some(true),
        err("CertificateStateException"),
        "not even with forceDelete",
    );
    s.attach(
        "attach_policy",
        policy,
        &t2.id,
        obj! {},
        "attach the policy to the ACTIVE certificate",
    );
    s.list_policies(&t2.id, &[policy], "attached");
    s.update_cert(&t2.id, "INACTIVE", obj! {}, "deactivate it");
    s.delete_cert(
        &t2.id,
        None,
        err("DeleteConflictException"),
        "a certificate with a policy attached cannot be deleted",
    );
    s.delete_cert(&t2.id, Some(true), obj! {}, "unless forceDelete");
    s.describe_cert(
        &t2.id,
        err("ResourceNotFoundException"),
        "the certificate is gone",
    );
    s.attach(
        "attach_policy",
        policy,
        &du2.id,
        obj! {},
        "attach the policy to another certificate",
    );
    s.attach("detach_policy", policy, &du2.id, obj! {}, "detach it");
    s.list_policies(&du2.id, &[], "nothing attached");
    s.update_cert(&du2.id, "INACTIVE", obj! {}, "deactivate it");
    s.delete_cert(&du2.id, None, obj! {}, "INACTIVE without policy: deleted");
    s.delete_cert(
        &r3.id,
        None,
        obj! {},
        "a REVOKED certificate can be deleted",
    );
    s.delete_cert(
        &r3.id,
        None,
        err("ResourceNotFoundException"),
        "deleting an unknown certificate",
    );
    s.register_cert(
        r3,
        Some(ed),
        None,
        cert_ok(&r3.id),
        "a deleted certificate can be registered again",
    );
    s.describe_cert(
        &r3.id,
        cert_description(&r3.id, Some(&ed.id), "INACTIVE", 1, "DEFAULT"),
        "a fresh record",
    );

    // A CA deleted under its devices.
    s.update_ca(
        &twin_b.id,
        Some("INACTIVE"),
        None,
        obj! {},
        "deactivate twin b",
    );
    s.delete_ca(&twin_b.id, obj! {}, "delete twin b");
    s.describe_cert(
        &t1.id,
        cert_description(&t1.id, Some(&twin_b.id), "INACTIVE", 1, "DEFAULT"),
        "its device stays, with its caCertificateId",
    );
    s
}

fn paging(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "paging",
        "ListCertificates, ListCertificatesByCA and ListCACertificates: first pages of several \
         sizes, ascending and descending by creation time (one certificate per step).",
    );
    let ed = &p.ca_ed.cert;
    let rsa = &p.ca_rsa.cert;
    let p256 = &p.ca_p256.cert;
    let d = |n: &str| p.dev(n);

    s.register_ca_ok(ed, &p.v_ed, true, true, "CA 1 (Ed25519)");
    s.register_ca_ok(rsa, &p.v_rsa, true, true, "CA 2 (RSA)");
    s.register_ca_ok(p256, &p.v_p256, false, false, "CA 3 (P-256), INACTIVE");

    // Creation order: c1..c7.
    let c1 = d("device-0001");
    let c2 = d("device-rsa-1");
    let c3 = d("device-0002");
    let c4 = d("device-self-signed");
    let c5 = d("device-0003");
    let c6 = d("device-rsa-2");
    let c7 = d("device-0004");
    s.register_cert(c1, Some(ed), None, cert_ok(&c1.id), "certificate 1 (CA 1)");
    s.register_cert(
        c2,
        Some(rsa),
        Some("ACTIVE"),
        cert_ok(&c2.id),
        "certificate 2 (CA 2)",
    );
    s.register_cert(c3, None, None, cert_ok(&c3.id), "certificate 3 (CA 1)");
    s.register_without_ca(c4, None, cert_ok(&c4.id), "certificate 4 (no CA)");
    s.connect(
        &[c5, ed],
        true,
        Outcome::Registered(ed),
        "certificate 5 (CA 1), registered by JITR",
    );
    s.register_cert(
        c6,
        Some(rsa),
        Some("REVOKED"),
        cert_ok(&c6.id),
        "certificate 6 (CA 2)",
    );
    s.register_cert(c7, Some(ed), None, cert_ok(&c7.id), "certificate 7 (CA 1)");
    let all = [c1, c2, c3, c4, c5, c6, c7];

    let lc = "list_certificates";
    s.list(
        lc,
        None,
        Some(3),
        Some(true),
        listed(&all[..3], true),
        "first 3, oldest first",
    );
    s.list(
        lc,
        None,
        Some(3),
        Some(false),
        listed(&rev(&all)[..3], true),
        "first 3, newest first",
    );
    s.list(
        lc,
        None,
        Some(1),
        Some(true),
        listed(&all[..1], true),
        "page size 1, ascending",
    );
    s.list(
        lc,
        None,
        Some(1),
        Some(false),
        listed(&rev(&all)[..1], true),
        "page size 1, descending",
    );
    s.list(
        lc,
        None,
        Some(6),
        Some(true),
        listed(&all[..6], true),
        "page size 6 of 7",
    );
    s.list(
        lc,
        None,
        Some(10),
        Some(true),
        listed(&all, false),
        "page size 10: everything, no next page",
    );
    s.list(
        lc,
        None,
        Some(250),
        Some(false),
        listed(&rev(&all), false),
        "page size 250 (the maximum), descending",
    );
    s.list(
        lc,
        None,
        None,
        Some(true),
        listed(&all, false),
        "default page size (25), ascending",
    );
    let lbc = "list_certificates_by_ca";
    let of_ed = [c1, c3, c5, c7];
    let of_rsa = [c2, c6];
    s.list(
        lbc,
        Some(&ed.id),
        Some(2),
        Some(true),
        listed(&of_ed[..2], true),
        "CA 1, first 2 ascending",
    );
    s.list(
        lbc,
        Some(&ed.id),
        Some(2),
        Some(false),
        listed(&rev(&of_ed)[..2], true),
        "CA 1, first 2 descending",
    );
    s.list(
        lbc,
        Some(&ed.id),
        Some(10),
        Some(false),
        listed(&rev(&of_ed), false),
        "CA 1, all, descending",
    );
    s.list(
        lbc,
        Some(&rsa.id),
        Some(10),
        Some(true),
        listed(&of_rsa, false),
        "CA 2, all, ascending",
    );
    s.list(
        lbc,
        Some(&p256.id),
        Some(10),
        Some(true),
        listed(&[], false),
        "CA 3 has no certificates",
    );
    let lca = "list_ca_certificates";
    s.list(
        lca,
        None,
        Some(10),
        Some(true),
        listed(&[ed, rsa, p256], false),
        "CAs, ascending",
    );
    s.list(
        lca,
        None,
        Some(2),
        Some(false),
        listed(&[p256, rsa], true),
        "CAs, first 2 descending",
    );
    s.list(
        lca,
        None,
        Some(1),
        Some(true),
        listed(&[ed], true),
        "CAs, page size 1",
    );

    // Changes that must not reorder, and a deletion.
    s.update_cert(
        &c1.id,
        "ACTIVE",
        obj! {},
        "a status change does not change the creation date",
    );
    s.list(
        lc,
        None,
        Some(2),
        Some(true),
        listed(&all[..2], true),
        "same order after the update",
    );
    s.delete_cert(&c3.id, None, obj! {}, "delete certificate 3 (INACTIVE)");
    let rest = [c1, c2, c4, c5, c6, c7];
    s.list(
        lc,
        None,
        Some(3),
        Some(true),
        listed(&rest[..3], true),
        "certificate 3 is gone",
    );
    s.list(
        lc,
        None,
        Some(10),
        Some(false),
        listed(&rev(&rest), false),
        "all remaining, descending",
    );
    s.list(
        lbc,
        Some(&ed.id),
        Some(10),
        Some(true),
        listed(&[c1, c5, c7], false),
        "CA 1 without certificate 3",
    );
    s
}

// ---------------------------------------------------------------------------------------

fn rev<'a>(v: &[&'a Cert]) -> Vec<&'a Cert> {
    v.iter().rev().copied().collect()
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn main() -> Result<(), Error> {
    let pki = build_pki()?;
    assert_eq!(pki.code.len(), 64);
    let scenarios = [
        jitr_story(&pki),
        ca_registration(&pki),
        connect_refusals(&pki),
        device_registration(&pki),
        paging(&pki),
    ];
    let dir = vectors_dir();
    std::fs::create_dir_all(&dir)?;
    for s in &scenarios {
        let text = json::to_pretty(&s.to_json())?;
        let path = dir.join(format!("{}.json", s.name));
        std::fs::write(&path, text)?;
        println!("{} ({} steps)", path.display(), s.steps.len());
    }
    Ok(())
}
