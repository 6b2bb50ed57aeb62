//! `jitr-story.json`: the JITR life of one device.

use super::catalogue::Pki;
use super::expect::*;
use super::json::obj;
use super::scenario::Scenario;
use super::{ACCOUNT, PARTITION, REGION};

#[rustfmt::skip]
pub(super) fn scenario(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "jitr-story",
        "The JITR life of one device: CA registered, first connection registers the device and \
         publishes the event, a second one re-publishes it, activation lets it in, revocation \
         shuts it out for good.",
    );
    let ca = &p.ca_ed.cert;
    let d = p.dev("device-story");
    let policy = format!("Policy_{}", d.id);

    s.register_ca_ok(ca, &p.v_ed, true, true, "register the CA with its verification certificate, ACTIVE, auto-registration ENABLE");
    s.describe_ca(&ca.id, ca_description(&ca.id, "ACTIVE", "ENABLE", 1, "DEFAULT"), "the CA as registered");
    s.describe_cert(&d.id, err("ResourceNotFoundException"), "the device is not registered yet");
    s.connect(&[d, ca], true, Outcome::Registered(ca), "first connection of an unknown device: registered PENDING_ACTIVATION, event published, connection refused");
    s.describe_cert(&d.id, cert_description(&d.id, Some(&ca.id), "PENDING_ACTIVATION", 1, "DEFAULT"), "JITR registered the device under its CA");
    s.list("list_certificates_by_ca", Some(&ca.id), Some(25), Some(true), listed(&[d], false), "the device is listed under its CA");
    s.connect(&[d, ca], true, Outcome::Pending(ca), "second connection while pending: event published again with a new timestamp and the original certificateRegistrationTimestamp");
    s.describe_cert(&d.id, cert_description(&d.id, Some(&ca.id), "PENDING_ACTIVATION", 1, "DEFAULT"), "the second connection changed nothing");
    // What the activation handler (docs/behaviour.md §8) does on the event.
    let doc = policy_document(&d.id);
    s.create_policy(&policy, &doc, obj! {"policyName" => &policy}, "the activation handler creates the device's policy");
    s.attach("attach_policy", &policy, &d.id, obj! {}, "and attaches it to the certificate ARN");
    s.update_cert(&d.id, "ACTIVE", obj! {}, "and activates the certificate");
    s.describe_cert(&d.id, cert_description(&d.id, Some(&ca.id), "ACTIVE", 2, "DEFAULT"), "ACTIVE, customerVersion 2");
    s.connect(&[d, ca], true, Outcome::Allowed(Some(ca)), "an ACTIVE device is let in, no event");
    s.connect(&[d], true, Outcome::Allowed(Some(ca)), "a known ACTIVE device is let in with a leaf-only chain too");
    s.list_policies(&d.id, &[&policy], "the policy is attached");
    s.update_cert(&d.id, "REVOKED", obj! {}, "revoke the device");
    s.describe_cert(&d.id, cert_description(&d.id, Some(&ca.id), "REVOKED", 3, "DEFAULT"), "REVOKED, customerVersion 3");
    s.connect(&[d, ca], true, Outcome::Refused("CERTIFICATE_REVOKED", Some(ca)), "a revoked device is refused, no event");
    s.update_cert(&d.id, "ACTIVE", err("CertificateStateException"), "REVOKED is final: REVOKED -> ACTIVE is refused");
    s.update_cert(&d.id, "INACTIVE", err("CertificateStateException"), "REVOKED is final: REVOKED -> INACTIVE is refused");
    s.describe_cert(&d.id, cert_description(&d.id, Some(&ca.id), "REVOKED", 3, "DEFAULT"), "still REVOKED, customerVersion unchanged");
    s.connect(&[d, ca], true, Outcome::Refused("CERTIFICATE_REVOKED", Some(ca)), "still refused");
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
