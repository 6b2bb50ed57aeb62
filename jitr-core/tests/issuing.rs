//! What the account issues itself (CreateKeysAndCertificate, CreateCertificateFromCsr,
//! DescribeEndpoint), thing groups and the `templateName` filter of ListCACertificates,
//! through the boto3-shaped API, on the store `JITR_TEST_STORE` names.
#![cfg(feature = "tooling")]

mod common;

use common::*;
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use serde_json::{json, Value};

fn call(reg: &Registry, op: &str, args: Value) -> Result<Value, Error> {
    api::call(reg, op, &args, now())
}

fn der_of(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from(Certificate::from_pem(pem).unwrap().der().to_vec())
}

#[test]
fn created_keys_and_certificate_connect_as_aws_issued_ones() {
    let reg = registry();
    let out = call(
        &reg,
        "create_keys_and_certificate",
        json!({"setAsActive": true}),
    )
    .unwrap();
    let pem = out["certificatePem"].as_str().unwrap();
    let cert = Certificate::from_pem(pem).unwrap();
    assert_eq!(out["certificateId"], cert.id().to_string());
    assert_eq!(cert.subject().rfc4514(), "CN=AWS IoT Certificate");
    assert_eq!(cert.validity().not_after, tooling::ISSUED_NOT_AFTER);
    assert!(out["keyPair"]["PrivateKey"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    // The key pair is the certificate's: jitr's own loader checks the public keys agree.
    tooling::GeneratedCertificate::from_pem(pem, out["keyPair"]["PrivateKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(cert.key_algorithm().to_string(), "RSA_2048");
    // Signed by the account's issuing CA, registered ACTIVE without a CA ID.
    let issuer = reg.issuing_ca_certificate(now()).unwrap();
    cert.is_issued_by(&issuer).unwrap();
    let d = call(
        &reg,
        "describe_certificate",
        json!({"certificateId": cert.id().to_string()}),
    )
    .unwrap();
    assert_eq!(d["certificateDescription"]["status"], "ACTIVE");
    assert!(d["certificateDescription"].get("caCertificateId").is_none());
    assert!(reg.decide(&[der_of(pem)], None, now()).is_allowed());

    // Inactive unless asked; the same issuing CA signs every certificate of the account.
    let second = call(&reg, "create_keys_and_certificate", json!({})).unwrap();
    let second_cert = Certificate::from_pem(second["certificatePem"].as_str().unwrap()).unwrap();
    second_cert.is_issued_by(&issuer).unwrap();
    assert_ne!(second_cert.id(), cert.id());
    let refused = reg.decide(
        &[der_of(second["certificatePem"].as_str().unwrap())],
        None,
        now(),
    );
    assert_eq!(
        refused.refusal.map(|r| r.code()),
        Some("CERTIFICATE_INACTIVE")
    );
}

#[test]
fn certificates_from_csrs_carry_the_csrs_key_and_bad_csrs_change_nothing() {
    let reg = registry();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sensor-7");
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let out = call(
        &reg,
        "create_certificate_from_csr",
        json!({"certificateSigningRequest": csr, "setAsActive": true}),
    )
    .unwrap();
    let cert = Certificate::from_pem(out["certificatePem"].as_str().unwrap()).unwrap();
    let (_, x509) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
    assert_eq!(
        x509.public_key().raw,
        rcgen::PublicKeyData::subject_public_key_info(&key).as_slice()
    );
    cert.is_issued_by(&reg.issuing_ca_certificate(now()).unwrap())
        .unwrap();
    // The same CSR again: a distinct certificate (AWS).
    let again = call(
        &reg,
        "create_certificate_from_csr",
        json!({"certificateSigningRequest": csr}),
    )
    .unwrap();
    assert_ne!(again["certificateId"], out["certificateId"]);

    let before = reg.export_state().unwrap();
    let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let ed_csr = rcgen::CertificateParams::default()
        .serialize_request(&ed)
        .unwrap()
        .pem()
        .unwrap();
    // A CSR whose signature does not verify: one byte of the signature flipped.
    let mut der = x509_parser::pem::parse_x509_pem(csr.as_bytes())
        .unwrap()
        .1
        .contents;
    let last = der.len() - 1;
    der[last] ^= 1;
    let tampered = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        base64_encode(&der)
    );
    for (bad, says) in [
        ("garbage".to_string(), "is not PEM"),
        (ed_csr, "neither RSA"),
        (tampered, "does not verify"),
        (
            reg.issuing_ca_certificate(now()).unwrap().to_pem(),
            "not a CERTIFICATE REQUEST",
        ),
        ("x".repeat(20_000), "at most"),
    ] {
        let e = call(
            &reg,
            "create_certificate_from_csr",
            json!({"certificateSigningRequest": bad}),
        )
        .unwrap_err();
        assert_eq!(e.code(), "InvalidRequestException", "{}", e.message());
        assert!(e.message().contains(says), "{}", e.message());
    }
    assert_eq!(reg.export_state().unwrap(), before);
}

/// Standard base64 with padding (the test's own, to build a PEM by hand).
fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn the_issuing_ca_and_the_endpoint_are_the_accounts_on_every_node() {
    for kind in common::store::shared_kinds() {
        let url = common::store::fresh_store_url_of(&kind);
        let a = open_node(&url);
        let b = open_node(&url);
        let ats = a.describe_endpoint(Some("iot:Data-ATS")).unwrap();
        let (prefix, rest) = ats.split_once('-').unwrap();
        assert_eq!(rest, "ats.iot.us-east-1.amazonaws.com");
        assert!(
            prefix.len() == 14
                && prefix
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(
            b.describe_endpoint(Some("iot:Data-ATS")).unwrap(),
            ats,
            "{kind}"
        );
        assert_eq!(
            b.describe_endpoint(None).unwrap(),
            format!("{prefix}.iot.us-east-1.amazonaws.com")
        );
        assert_eq!(
            a.describe_endpoint(Some("iot:CredentialProvider")).unwrap(),
            format!("{prefix}.credentials.iot.us-east-1.amazonaws.com")
        );
        assert_eq!(
            a.describe_endpoint(Some("iot:Nope")).unwrap_err().code(),
            "InvalidRequestException"
        );
        let issued = a.create_keys_and_certificate(true, now()).unwrap();
        let cert = Certificate::from_pem(&issued.certificate_pem).unwrap();
        cert.is_issued_by(&b.issuing_ca_certificate(now()).unwrap())
            .unwrap_or_else(|e| panic!("{kind}: {}", e.message()));
        // The issuer and the endpoint travel with the account's state.
        let moved =
            Registry::from_state(&a.export_state().unwrap(), RegistryConfig::default()).unwrap();
        assert_eq!(moved.describe_endpoint(Some("iot:Data-ATS")).unwrap(), ats);
        cert.is_issued_by(&moved.issuing_ca_certificate(now()).unwrap())
            .unwrap();
    }
}

#[test]
fn thing_groups_hold_things_and_leave_with_them() {
    let reg = registry();
    let ok = |op: &str, args: Value| call(&reg, op, args).unwrap();
    let refused = |op: &str, args: Value| call(&reg, op, args).unwrap_err().code();
    let g = ok(
        "create_thing_group",
        json!({"thingGroupName": "lamps", "tags": [{"Key": "k", "Value": "v"}]}),
    );
    assert_eq!(
        g["thingGroupArn"],
        "arn:aws:iot:us-east-1:123456789012:thinggroup/lamps"
    );
    // Again with the same configuration: the same group (AWS); another: a conflict.
    assert_eq!(
        ok("create_thing_group", json!({"thingGroupName": "lamps"}))["thingGroupId"],
        g["thingGroupId"]
    );
    assert_eq!(
        refused(
            "create_thing_group",
            json!({"thingGroupName": "lamps", "thingGroupProperties": {"thingGroupDescription": "other"}})
        ),
        "ResourceAlreadyExistsException"
    );
    ok(
        "create_thing_group",
        json!({"thingGroupName": "kitchen", "parentGroupName": "lamps"}),
    );
    ok("create_thing", json!({"thingName": "lamp-1"}));
    ok(
        "add_thing_to_thing_group",
        json!({"thingGroupName": "lamps", "thingName": "lamp-1"}),
    );
    ok(
        "add_thing_to_thing_group",
        json!({"thingGroupArn": "arn:aws:iot:us-east-1:123456789012:thinggroup/kitchen", "thingArn": "arn:aws:iot:us-east-1:123456789012:thing/lamp-1"}),
    );
    let groups = ok(
        "list_thing_groups_for_thing",
        json!({"thingName": "lamp-1"}),
    );
    let names: Vec<&str> = groups["thingGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["groupName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["kitchen", "lamps"]);
    let lamps = json!({"thingGroupName": "lamps"});
    assert_eq!(
        ok("list_things_in_thing_group", lamps.clone())["things"],
        json!(["lamp-1"])
    );
    // A parent with children is not deleted; missing things and groups are named.
    assert_eq!(
        refused("delete_thing_group", lamps.clone()),
        "InvalidRequestException"
    );
    for (group, thing) in [("lamps", "ghost"), ("ghosts", "lamp-1")] {
        assert_eq!(
            refused(
                "add_thing_to_thing_group",
                json!({"thingGroupName": group, "thingName": thing})
            ),
            "ResourceNotFoundException",
            "{group} {thing}"
        );
    }
    // A deleted thing leaves its groups; a deleted group its tags.
    ok("delete_thing", json!({"thingName": "lamp-1"}));
    assert_eq!(
        ok("list_things_in_thing_group", lamps.clone())["things"],
        json!([])
    );
    ok("delete_thing_group", json!({"thingGroupName": "kitchen"}));
    ok("delete_thing_group", lamps);
    assert!(reg.export_state().unwrap().tags.is_empty());
    assert_eq!(ok("list_thing_groups", json!({}))["thingGroups"], json!([]));
}

#[test]
fn list_ca_certificates_filters_by_template_name() {
    let reg = registry();
    let body = r#"{"Parameters":{"AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}}}}"#;
    call(&reg, "create_provisioning_template", json!({"templateName": "lamps", "templateBody": body, "provisioningRoleArn": "arn:aws:iam::123456789012:role/JITP", "enabled": true, "type": "JITP"})).unwrap();
    let mut with_template = Vec::new();
    for i in 0..5 {
        let ca = Ca::new(&format!("CA {i}"));
        let mut args = json!({"caCertificate": ca.cert.pem, "certificateMode": "SNI_ONLY", "setAsActive": true, "allowAutoRegistration": true});
        if i % 2 == 0 {
            args["registrationConfig"] = json!({"templateName": "lamps"});
        }
        let id = call(&reg, "register_ca_certificate", args).unwrap()["certificateId"].clone();
        if i % 2 == 0 {
            with_template.push(id);
        }
    }
    let mut seen = Vec::new();
    let mut marker: Option<Value> = None;
    loop {
        let mut args = json!({"templateName": "lamps", "pageSize": 2, "ascendingOrder": true});
        if let Some(m) = &marker {
            args["marker"] = m.clone();
        }
        let page = call(&reg, "list_ca_certificates", args).unwrap();
        let items = page["certificates"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|c| c["certificateId"].clone()));
        match page.get("nextMarker") {
            Some(m) => marker = Some(m.clone()),
            None => break,
        }
    }
    // In the unfiltered list's order (creation date, then ID), only the template's CAs.
    let all = call(
        &reg,
        "list_ca_certificates",
        json!({"ascendingOrder": true}),
    )
    .unwrap();
    let expected: Vec<Value> = all["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["certificateId"].clone())
        .filter(|id| with_template.contains(id))
        .collect();
    assert_eq!(expected.len(), 3);
    assert_eq!(seen, expected);
    assert_eq!(
        call(&reg, "list_ca_certificates", json!({})).unwrap()["certificates"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // A template in use by a CA is still there to describe; a CA naming a missing one is refused.
    let ca = Ca::new("CA x");
    let e = call(&reg, "register_ca_certificate", json!({"caCertificate": ca.cert.pem, "certificateMode": "SNI_ONLY", "registrationConfig": {"templateName": "nope"}})).unwrap_err();
    assert_eq!(e.code(), "ResourceNotFoundException");
}
