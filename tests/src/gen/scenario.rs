//! The scenario builder: one method per operation, each appending a step with its
//! arguments, its expected result and a note, at the scenario's clock.

use std::collections::BTreeMap;

use super::expect::{ca_ok, cert_arn, event_payload, registration_code, topic, Outcome};
use super::json::{obj, J};
use super::pki::Cert;
use super::{ACCOUNT, ENDPOINT, PARTITION, REGION, STEP_MS, T0};

pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    description: &'static str,
    certificates: Vec<(String, J)>,
    pub(crate) steps: Vec<J>,
    now: i64,
    /// certificateId → time of its JITR registration (for re-published events).
    registered_at: BTreeMap<String, i64>,
}

impl Scenario {
    pub(crate) fn new(name: &'static str, description: &'static str) -> Self {
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
    pub(crate) fn pem(&mut self, c: &Cert) -> String {
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

    /// The scenario's clock: the time of the next step.
    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    /// Moves the clock forward to `t` (never backwards).
    pub(crate) fn jump_to(&mut self, t: i64) {
        assert!(t >= self.now, "time must not go backwards in {}", self.name);
        self.now = t;
    }

    pub(crate) fn step(&mut self, op: &str, args: J, expect: J, note: &str) {
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

    /// An operation whose only argument is `certificateId`.
    fn on_id(&mut self, op: &str, id: &str, expect: J, note: &str) {
        self.step(op, obj! {"certificateId" => id}, expect, note);
    }

    // --- CA operations -------------------------------------------------------------

    /// `register_ca_certificate` with every argument explicit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn register_ca(
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
        args.push_some("verificationCertificate", verification.map(|v| self.pem(v)));
        args.push("setAsActive", active);
        args.push("allowAutoRegistration", auto);
        args.push("certificateMode", mode);
        self.step("register_ca_certificate", args, expect, note);
    }

    /// `register_ca_certificate` of a CA "PEM" that is not a catalogue certificate, with a
    /// verification certificate, ACTIVE, ENABLE, DEFAULT.
    pub(crate) fn register_ca_pem(
        &mut self,
        ca_pem: String,
        verification: &Cert,
        expect: J,
        note: &str,
    ) {
        let args = obj! {
            "caCertificate" => ca_pem,
            "verificationCertificate" => self.pem(verification),
            "setAsActive" => true,
            "allowAutoRegistration" => true,
            "certificateMode" => "DEFAULT",
        };
        self.step("register_ca_certificate", args, expect, note);
    }

    /// Registers a DEFAULT-mode CA that must succeed.
    pub(crate) fn register_ca_ok(
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

    pub(crate) fn update_ca(
        &mut self,
        id: &str,
        status: Option<&str>,
        auto: Option<&str>,
        expect: J,
        note: &str,
    ) {
        let mut args = obj! {"certificateId" => id};
        args.push_some("newStatus", status);
        args.push_some("newAutoRegistrationStatus", auto);
        self.step("update_ca_certificate", args, expect, note);
    }

    pub(crate) fn describe_ca(&mut self, id: &str, expect: J, note: &str) {
        self.on_id("describe_ca_certificate", id, expect, note);
    }

    pub(crate) fn delete_ca(&mut self, id: &str, expect: J, note: &str) {
        self.on_id("delete_ca_certificate", id, expect, note);
    }

    // --- device certificate operations ---------------------------------------------

    pub(crate) fn register_cert(
        &mut self,
        cert: &Cert,
        ca: Option<&Cert>,
        status: Option<&str>,
        expect: J,
        note: &str,
    ) {
        self.register_device("register_certificate", cert, ca, status, expect, note);
    }

    pub(crate) fn register_without_ca(
        &mut self,
        cert: &Cert,
        status: Option<&str>,
        expect: J,
        note: &str,
    ) {
        self.register_device(
            "register_certificate_without_ca",
            cert,
            None,
            status,
            expect,
            note,
        );
    }

    /// RegisterCertificate (with `caCertificatePem` when `ca` is given) or
    /// RegisterCertificateWithoutCA.
    fn register_device(
        &mut self,
        op: &str,
        cert: &Cert,
        ca: Option<&Cert>,
        status: Option<&str>,
        expect: J,
        note: &str,
    ) {
        let mut args = obj! {"certificatePem" => self.pem(cert)};
        args.push_some("caCertificatePem", ca.map(|ca| self.pem(ca)));
        args.push_some("status", status);
        self.step(op, args, expect, note);
    }

    pub(crate) fn update_cert(&mut self, id: &str, status: &str, expect: J, note: &str) {
        let args = obj! {"certificateId" => id, "newStatus" => status};
        self.step("update_certificate", args, expect, note);
    }

    pub(crate) fn describe_cert(&mut self, id: &str, expect: J, note: &str) {
        self.on_id("describe_certificate", id, expect, note);
    }

    pub(crate) fn delete_cert(&mut self, id: &str, force: Option<bool>, expect: J, note: &str) {
        let mut args = obj! {"certificateId" => id};
        args.push_some("forceDelete", force);
        self.step("delete_certificate", args, expect, note);
    }

    pub(crate) fn list(
        &mut self,
        op: &str,
        ca: Option<&str>,
        page: Option<u32>,
        asc: Option<bool>,
        expect: J,
        note: &str,
    ) {
        let mut args = obj! {};
        args.push_some("caCertificateId", ca);
        args.push_some("pageSize", page);
        args.push_some("ascendingOrder", asc);
        self.step(op, args, expect, note);
    }

    // --- policies ------------------------------------------------------------------

    pub(crate) fn create_policy(&mut self, name: &str, document: &str, expect: J, note: &str) {
        let args = obj! {"policyName" => name, "policyDocument" => document};
        self.step("create_policy", args, expect, note);
    }

    pub(crate) fn attach(&mut self, op: &str, name: &str, cert_id: &str, expect: J, note: &str) {
        let args = obj! {"policyName" => name, "target" => cert_arn(cert_id)};
        self.step(op, args, expect, note);
    }

    pub(crate) fn list_policies(&mut self, cert_id: &str, names: &[&str], note: &str) {
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
    pub(crate) fn connect(&mut self, chain: &[&Cert], sni: bool, outcome: Outcome<'_>, note: &str) {
        let leaf = chain.first().map(|c| c.id.clone());
        let pems: Vec<String> = chain.iter().map(|c| self.pem(c)).collect();
        let expect = match outcome {
            Outcome::Registered(ca) => {
                let leaf = leaf.clone().unwrap_or_default();
                self.registered_at.insert(leaf.clone(), self.now);
                refused_with_event(
                    "REGISTERED_PENDING_ACTIVATION",
                    &leaf,
                    &ca.id,
                    self.now,
                    self.now,
                )
            }
            Outcome::Pending(ca) => {
                let leaf = leaf.clone().unwrap_or_default();
                let at = *self
                    .registered_at
                    .get(&leaf)
                    .unwrap_or_else(|| panic!("{}: pending leaf was never registered", self.name));
                refused_with_event("PENDING_ACTIVATION", &leaf, &ca.id, self.now, at)
            }
            Outcome::Allowed(ca) => decision(true, None, leaf, ca.map(|c| c.id.clone())),
            Outcome::Refused(reason, ca) => {
                decision(false, Some(reason), leaf, ca.map(|c| c.id.clone()))
            }
        };
        self.connect_raw(pems, sni, expect, note);
    }

    pub(crate) fn connect_raw(&mut self, chain: Vec<String>, sni: bool, expect: J, note: &str) {
        let args = obj! {
            "chain" => chain,
            "serverName" => if sni { J::from(ENDPOINT) } else { J::Null },
        };
        self.step("connect", args, expect, note);
    }

    pub(crate) fn to_json(&self) -> J {
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

/// A `connect` refusal that publishes the registration event: `leaf` under `ca`, the
/// event sent at `now` for a certificate registered at `registered_at`.
pub(crate) fn refused_with_event(
    reason: &str,
    leaf: &str,
    ca: &str,
    now: i64,
    registered_at: i64,
) -> J {
    obj! {
        "allowed" => false,
        "reason" => reason,
        "certificateId" => leaf,
        "caCertificateId" => ca,
        "topic" => topic(ca),
        "event" => event_payload(leaf, ca, now, registered_at),
    }
}

/// A `connect` expectation without an event.
pub(crate) fn decision(
    allowed: bool,
    reason: Option<&str>,
    leaf: Option<String>,
    ca: Option<String>,
) -> J {
    obj! {
        "allowed" => allowed,
        "reason" => reason,
        "certificateId" => leaf,
        "caCertificateId" => ca,
        "topic" => J::Null,
        "event" => J::Null,
    }
}
