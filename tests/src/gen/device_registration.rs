//! `device-registration.json`: device certificate registration, transitions and deletion.

use super::catalogue::Pki;
use super::expect::*;
use super::json::obj;
use super::scenario::Scenario;

#[rustfmt::skip]
pub(super) fn scenario(p: &Pki) -> Scenario {
    let mut s = Scenario::new(
        "device-registration",
        "RegisterCertificate, RegisterCertificateWithoutCA, UpdateCertificate transitions, \
         DeleteCertificate and policies (docs/behaviour.md §5).",
    );
    let (ed, rsa, inactive) = (&p.ca_ed.cert, &p.ca_rsa.cert, &p.ca_inactive.cert);
    let (twin_a, twin_b, d) = (&p.ca_twin_a.cert, &p.ca_twin_b.cert, |n: &str| p.dev(n));
    let (r1, r2, r3, r4) = (d("device-0001"), d("device-0002"), d("device-0003"), d("device-0004"));

    s.register_ca_ok(ed, &p.v_ed, true, true, "Ed25519 CA, ACTIVE");
    s.register_ca_ok(rsa, &p.v_rsa, true, true, "RSA CA, ACTIVE");
    s.register_ca_ok(inactive, &p.v_inactive, false, true, "a CA registered INACTIVE");
    s.register_ca_ok(twin_a, &p.v_twin, true, true, "twin CA a");
    s.register_ca_ok(twin_b, &p.v_twin, true, true, "twin CA b (same subject and key as a)");

    // RegisterCertificate.
    s.register_cert(r1, Some(ed), None, cert_ok(&r1.id), "with its CA's PEM, no status");
    s.describe_cert(&r1.id, cert_description(&r1.id, Some(&ed.id), "INACTIVE", 1, "DEFAULT"), "default status INACTIVE, customerVersion 1, linked to its CA");
    s.register_cert(r1, Some(ed), None, err("ResourceAlreadyExistsException"), "the same certificate again");
    s.register_cert(r1, None, Some("ACTIVE"), err("ResourceAlreadyExistsException"), "again, without the CA PEM");
    s.register_cert(r2, None, Some("ACTIVE"), cert_ok(&r2.id), "without the CA PEM: the CA is found by issuer name and signature");
    s.describe_cert(&r2.id, cert_description(&r2.id, Some(&ed.id), "ACTIVE", 1, "DEFAULT"), "registered ACTIVE under its CA");
    s.register_cert(r3, Some(ed), Some("REVOKED"), cert_ok(&r3.id), "status REVOKED is accepted");
    s.describe_cert(&r3.id, cert_description(&r3.id, Some(&ed.id), "REVOKED", 1, "DEFAULT"), "registered REVOKED");
    s.register_cert(r4, Some(ed), Some("PENDING_ACTIVATION"), err("CertificateStateException"), "status PENDING_ACTIVATION is refused");
    s.register_cert(r4, Some(ed), Some("PENDING_TRANSFER"), err("InvalidRequestException"), "status PENDING_TRANSFER is refused");
    s.register_cert(r4, Some(ed), Some("REGISTER_INACTIVE"), err("InvalidRequestException"), "status REGISTER_INACTIVE is refused");
    s.describe_cert(&r4.id, err("ResourceNotFoundException"), "nothing was registered");
    let di = d("device-ca-inactive");
    s.register_cert(di, Some(inactive), None, err("CertificateStateException"), "the issuing CA is INACTIVE");
    s.register_cert(di, None, None, err("CertificateStateException"), "the issuing CA is INACTIVE (found without its PEM)");
    let du = d("device-unregistered-ca");
    s.register_cert(du, None, None, err("CertificateStateException"), "the issuing CA is not registered");
    s.register_cert(du, Some(&p.ca_unregistered.cert), None, err("CertificateStateException"), "the CA PEM given is not registered");
    let forged = d("device-forged-ed25519");
    s.register_cert(forged, Some(ed), None, err("CertificateValidationException"), "issuer name is the CA's but the CA's key does not verify it");
    s.register_cert(forged, None, None, err("CertificateValidationException"), "same, without the CA PEM");
    let r5 = d("device-0005");
    s.register_cert(r5, Some(rsa), None, err("CertificateValidationException"), "the CA PEM given (RSA CA, registered and ACTIVE) did not sign the certificate");
    let (t1, t2) = (d("device-twin-1"), d("device-twin-2"));
    s.register_cert(t1, None, None, err("CertificateConflictException"), "two registered CAs with the same subject and key: the CA PEM is needed");
    s.register_cert(t1, Some(twin_b), None, cert_ok(&t1.id), "the CA PEM picks twin b");
    s.describe_cert(&t1.id, cert_description(&t1.id, Some(&twin_b.id), "INACTIVE", 1, "DEFAULT"), "linked to twin b");
    s.register_cert(t2, Some(twin_a), Some("ACTIVE"), cert_ok(&t2.id), "the CA PEM picks twin a");
    s.describe_cert(&t2.id, cert_description(&t2.id, Some(&twin_a.id), "ACTIVE", 1, "DEFAULT"), "linked to twin a");
    s.describe_cert(&format!("0x{}", t2.id.to_uppercase()), cert_description(&t2.id, Some(&twin_a.id), "ACTIVE", 1, "DEFAULT"), "ids are accepted upper-case with a 0x prefix; output is lower-case");

    // RegisterCertificateWithoutCA.
    let own = d("device-self-signed");
    s.register_without_ca(own, None, cert_ok(&own.id), "a self-signed certificate, no status");
    s.describe_cert(&own.id, cert_description(&own.id, None, "INACTIVE", 1, "SNI_ONLY"), "INACTIVE, no caCertificateId (null = absent), certificate mode SNI_ONLY");
    s.register_without_ca(own, None, err("ResourceAlreadyExistsException"), "the same certificate again");
    let du2 = d("device-unregistered-ca-2");
    s.register_without_ca(du2, Some("PENDING_ACTIVATION"), err("CertificateStateException"), "status PENDING_ACTIVATION is refused");
    s.register_without_ca(du2, Some("PENDING_TRANSFER"), err("InvalidRequestException"), "status PENDING_TRANSFER is refused");
    s.register_without_ca(du2, Some("ACTIVE"), cert_ok(&du2.id), "a certificate whose CA is not registered, ACTIVE");
    s.describe_cert(&du2.id, cert_description(&du2.id, None, "ACTIVE", 1, "SNI_ONLY"), "ACTIVE, no CA");
    s.register_without_ca(r2, None, err("ResourceAlreadyExistsException"), "already registered (with a CA)");

    // UpdateCertificate.
    s.update_cert(&r1.id, "ACTIVE", obj! {}, "INACTIVE -> ACTIVE");
    s.describe_cert(&r1.id, cert_description(&r1.id, Some(&ed.id), "ACTIVE", 2, "DEFAULT"), "customerVersion 2");
    s.update_cert(&r1.id, "ACTIVE", obj! {}, "ACTIVE -> ACTIVE is a no-op");
    s.describe_cert(&r1.id, cert_description(&r1.id, Some(&ed.id), "ACTIVE", 2, "DEFAULT"), "customerVersion unchanged");
    s.update_cert(&r1.id, "INACTIVE", obj! {}, "ACTIVE -> INACTIVE");
    s.describe_cert(&r1.id, cert_description(&r1.id, Some(&ed.id), "INACTIVE", 3, "DEFAULT"), "customerVersion 3");
    s.update_cert(&r1.id, "PENDING_ACTIVATION", err("InvalidRequestException"), "target PENDING_ACTIVATION is refused");
    s.update_cert(&r1.id, "PENDING_TRANSFER", err("InvalidRequestException"), "target PENDING_TRANSFER is refused");
    s.update_cert(&r1.id, "REGISTER_INACTIVE", err("InvalidRequestException"), "target REGISTER_INACTIVE is refused");
    s.update_cert(&r1.id, "REVOKED", obj! {}, "INACTIVE -> REVOKED");
    s.describe_cert(&r1.id, cert_description(&r1.id, Some(&ed.id), "REVOKED", 4, "DEFAULT"), "customerVersion 4");
    s.update_cert(&r1.id, "ACTIVE", err("CertificateStateException"), "REVOKED -> ACTIVE is refused");
    s.update_cert(&r1.id, "INACTIVE", err("CertificateStateException"), "REVOKED -> INACTIVE is refused");
    s.update_cert(&r1.id, "REVOKED", obj! {}, "REVOKED -> REVOKED is a no-op");
    s.describe_cert(&r1.id, cert_description(&r1.id, Some(&ed.id), "REVOKED", 4, "DEFAULT"), "customerVersion unchanged");
    s.update_cert(&r2.id, "REVOKED", obj! {}, "ACTIVE -> REVOKED");
    s.describe_cert(&r2.id, cert_description(&r2.id, Some(&ed.id), "REVOKED", 2, "DEFAULT"), "customerVersion 2");
    s.update_cert(&r4.id, "ACTIVE", err("ResourceNotFoundException"), "updating an unknown certificate");
    // A JITR-registered (PENDING_ACTIVATION) certificate.
    let j = d("device-0006");
    s.connect(&[j, ed], true, Outcome::Registered(ed), "JITR registers a certificate PENDING_ACTIVATION");
    s.update_cert(&j.id, "INACTIVE", obj! {}, "PENDING_ACTIVATION -> INACTIVE");
    s.describe_cert(&j.id, cert_description(&j.id, Some(&ed.id), "INACTIVE", 2, "DEFAULT"), "customerVersion 2");

    // DeleteCertificate and policies.
    let policy = "DevicePolicy";
    let doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";
    s.create_policy(policy, doc, obj! {"policyName" => policy}, "create a policy");
    s.create_policy(policy, doc, err("ResourceAlreadyExistsException"), "a policy name is unique");
    s.create_policy("bad name!", doc, err("InvalidRequestException"), "policy names match [\\w+=,.@-]{1,128}");
    s.delete_cert(&t2.id, None, err("CertificateStateException"), "an ACTIVE certificate cannot be deleted");
    s.delete_cert(&t2.id, Some(true), err("CertificateStateException"), "not even with forceDelete");
    s.attach("attach_policy", policy, &t2.id, obj! {}, "attach the policy to the ACTIVE certificate");
    s.list_policies(&t2.id, &[policy], "attached");
    s.update_cert(&t2.id, "INACTIVE", obj! {}, "deactivate it");
    s.delete_cert(&t2.id, None, err("DeleteConflictException"), "a certificate with a policy attached cannot be deleted");
    s.delete_cert(&t2.id, Some(true), obj! {}, "unless forceDelete");
    s.describe_cert(&t2.id, err("ResourceNotFoundException"), "the certificate is gone");
    s.attach("attach_policy", policy, &du2.id, obj! {}, "attach the policy to another certificate");
    s.attach("detach_policy", policy, &du2.id, obj! {}, "detach it");
    s.list_policies(&du2.id, &[], "nothing attached");
    s.update_cert(&du2.id, "INACTIVE", obj! {}, "deactivate it");
    s.delete_cert(&du2.id, None, obj! {}, "INACTIVE without policy: deleted");
    s.delete_cert(&r3.id, None, obj! {}, "a REVOKED certificate can be deleted");
    s.delete_cert(&r3.id, None, err("ResourceNotFoundException"), "deleting an unknown certificate");
    s.register_cert(r3, Some(ed), None, cert_ok(&r3.id), "a deleted certificate can be registered again");
    s.describe_cert(&r3.id, cert_description(&r3.id, Some(&ed.id), "INACTIVE", 1, "DEFAULT"), "a fresh record");

    // A CA deleted under its devices.
    s.update_ca(&twin_b.id, Some("INACTIVE"), None, obj! {}, "deactivate twin b");
    s.delete_ca(&twin_b.id, obj! {}, "delete twin b");
    s.describe_cert(&t1.id, cert_description(&t1.id, Some(&twin_b.id), "INACTIVE", 1, "DEFAULT"), "its device stays, with its caCertificateId");
    s
}
