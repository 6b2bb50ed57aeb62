//! RFC 5280 rules jitr enforces beyond rustls-webpki's path validation, each test built
//! from the rule itself:
//!
//! - §7.1 (with RFC 4518): the issuer → CA lookup compares names after string
//!   preparation, on every path (the decision, v1 leaves, intermediates,
//!   RegisterCertificate, proof of possession, `inspect::issued_by`); subjects equal only
//!   after preparation are ambiguous with the same key, decided by the signature
//!   otherwise;
//! - §4.2.1.3 and §6.1.4(n): a CA whose keyUsage lacks keyCertSign is not registered and
//!   signs nothing on any path, even when it got into the registry another way;
//! - §4.2 and §4.1.2.4: RegisterCACertificate refuses a CA with a critical extension
//!   nothing processes, or with an empty subject;
//! - §4's certificate profile is checked by `verify_path` when asked (conformance), not by
//!   the JITR decision; the chain bound is a `verify_path` option.

mod common;

use common::*;
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;
use jitr_testkit::{self as kit, Key};
use rcgen::string::PrintableString;
use rcgen::{DistinguishedName, DnType, DnValue, KeyUsagePurpose, PublicKeyData, SigningKey};

const SNI: Option<&str> = Some("iot.example.com");

/// A name of PrintableString attributes, one RDN each, in this order.
fn printable(attributes: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in attributes {
        dn.push(
            t.clone(),
            DnValue::PrintableString(PrintableString::try_from(*v).unwrap()),
        );
    }
    dn
}

/// A CA whose subject is `dn` (as encoded there), with a fresh key.
fn ca_named(dn: DistinguishedName) -> Ca {
    let params = kit::ca_params(dn, None, kit::VALIDITY);
    Ca(kit::Ca::root(params, Key::random_p256().unwrap()).unwrap())
}

/// A device certificate signed with `ca`'s key whose issuer field is `issuer`, encoded
/// as given rather than as `ca`'s subject is.
fn device_naming(ca: &Ca, issuer: DistinguishedName, cn: &str) -> Device {
    let mut issuer_params = ca.params.clone();
    issuer_params.distinguished_name = issuer;
    let p = kit::leaf_params(kit::cn(cn), None, kit::VALIDITY, kit::Eku::ClientAuth);
    Device(kit::issue_with(&p, &Key::random_p256().unwrap(), &issuer_params, &ca.key).unwrap())
}

fn parsed(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

fn ca_of(reg: &Registry, id: &CertificateId) -> Option<CertificateId> {
    reg.describe_certificate(id).unwrap().ca_certificate_id
}

/// DER: a tag and its contents.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match body.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(body);
    out
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const UTF8: u8 = 0x0c;
const PRINTABLE: u8 = 0x13;

/// A Name of one-attribute RDNs: (OID, string tag, value).
fn name_der(rdns: &[(&[u8], u8, &str)]) -> Vec<u8> {
    let rdns: Vec<u8> = rdns
        .iter()
        .flat_map(|(oid, tag, value)| {
            let atv = [tlv(0x06, oid), tlv(*tag, value.as_bytes())].concat();
            tlv(0x31, &tlv(0x30, &atv))
        })
        .collect();
    tlv(0x30, &rdns)
}

/// An X.509 v1 certificate (no version field, no extensions), as `openssl x509 -req`
/// issues one without an extensions file: issuer name `issuer` (a Name's DER), signed
/// with `signer` (a P-256 key), valid 2025–2035.
fn v1_device(issuer: &[u8], cn: &str, signer: &Key) -> CertificateDer<'static> {
    let subject_key = Key::random_p256().unwrap();
    // ecdsa-with-SHA256
    let alg = tlv(
        0x30,
        &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    );
    let validity = tlv(
        0x30,
        &[tlv(0x17, b"250101000000Z"), tlv(0x17, b"350101000000Z")].concat(),
    );
    let tbs = tlv(
        0x30,
        &[
            tlv(0x02, &[0x01, 0x42]),
            alg.clone(),
            issuer.to_vec(),
            validity,
            name_der(&[(OID_CN, UTF8, cn)]),
            subject_key.subject_public_key_info(),
        ]
        .concat(),
    );
    let mut signature = vec![0];
    signature.extend(signer.sign(&tbs).unwrap());
    let der = tlv(0x30, &[tbs, alg, tlv(0x03, &signature)].concat());
    assert_eq!(parsed(&der).version(), 1);
    CertificateDer::from(der)
}

// ---- RFC 5280 §7.1: names compare after RFC 4518 string preparation ----

#[test]
fn a_device_whose_issuer_name_is_encoded_differently_still_finds_its_ca() {
    let reg = registry();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Example Corp");
    dn.push(DnType::CommonName, "Example Fleet CA");
    let ca = ca_named(dn);
    let ca_id = ca.register(&reg);
    let ca_cert = parsed(&ca.der());
    // PrintableString instead of UTF8String, another letter case, insignificant spaces.
    let issuer = printable(&[
        (DnType::OrganizationName, "EXAMPLE  CORP"),
        (DnType::CommonName, " example fleet ca "),
    ]);
    let device = device_naming(&ca, issuer.clone(), "device-1");
    let cert = parsed(&device.der());
    assert_ne!(
        cert.issuer().der(),
        ca_cert.subject().der(),
        "encoded differently"
    );
    assert!(cert.issuer().matches(ca_cert.subject()));

    // The decision finds the CA and registers the device.
    let d = reg.decide(&[device.der()], SNI, now());
    assert_eq!(
        d.reason_code(),
        Some("REGISTERED_PENDING_ACTIVATION"),
        "{}",
        d.message()
    );
    assert_eq!(d.ca_certificate_id, Some(ca_id));
    // Protocol mode's handshake check too.
    let other = device_naming(&ca, issuer.clone(), "device-2");
    assert!(reg.authenticate(&[other.der()], SNI, now()).is_ok());
    // RegisterCertificate links the certificate to it.
    let id = reg
        .register_certificate(&other.request(), now())
        .unwrap()
        .certificate_id;
    assert_eq!(ca_of(&reg, &id), Some(ca_id));
    // The page's rule is the same.
    assert!(inspect::issued_by(&cert, &ca_cert));
    assert!(cert.is_issued_by(&ca_cert).is_ok());
}

#[test]
fn a_name_that_differs_after_preparation_is_still_another_name() {
    let (reg, ca) = registry_with_ca("Example Fleet CA");
    for other in ["Example Fleet CA 2", "ExampleFleet CA", "Example Fleet"] {
        let device = device_naming(&ca, kit::cn(other), "device-1");
        let d = reg.decide(&[device.der()], SNI, now());
        assert_eq!(d.refusal, Some(RefusalReason::UnknownIssuer), "{other}");
    }
}

#[test]
fn subjects_equal_after_preparation_with_one_key_are_ambiguous_unless_the_chain_names_one() {
    let reg = registry();
    let ca = Ca::new("Twin CA");
    let a = ca.register(&reg);
    // The same key with a subject encoded differently: another CA certificate. Its proof
    // of possession names "Twin CA" as issuer, which matches "TWIN  CA".
    let mut params = ca.params.clone();
    params.distinguished_name = printable(&[(DnType::CommonName, "TWIN  CA")]);
    let twin = Device(kit::self_signed(&params, &ca.key).unwrap());
    let b = ca.register_twin(&reg, &twin);
    assert_ne!(a, b);

    let device = ca.device("device-1");
    let d = reg.decide(&[device.der()], SNI, now());
    assert_eq!(
        d.refusal,
        Some(RefusalReason::AmbiguousCa { candidates: 2 }),
        "{}",
        d.message()
    );
    assert_eq!(reg.certificate_count(), 0);
    // RegisterCertificate asks which one.
    let err = reg
        .register_certificate(&device.request(), now())
        .unwrap_err();
    assert_eq!(
        err.code(),
        "CertificateConflictException",
        "{}",
        err.message()
    );
    // A chain that names one decides.
    let d = reg.decide(&[device.der(), twin.der()], None, now());
    assert!(d.registered(), "{}", d.message());
    assert_eq!(d.ca_certificate_id, Some(b));
}

#[test]
fn subjects_equal_after_preparation_with_different_keys_are_told_apart_by_the_signature() {
    let reg = registry();
    let a = Ca::new("Split CA");
    let a_id = a.register(&reg);
    let b = ca_named(printable(&[(DnType::CommonName, "SPLIT  ca")]));
    let b_id = b.register(&reg);
    // Each CA's device, naming its issuer as the *other* CA's subject is encoded.
    let by_b = device_naming(&b, kit::cn("Split CA"), "device-b");
    let by_a = device_naming(
        &a,
        printable(&[(DnType::CommonName, "SPLIT  ca")]),
        "device-a",
    );
    let d = reg.decide(&[by_b.der()], SNI, now());
    assert!(d.registered(), "{}", d.message());
    assert_eq!(d.ca_certificate_id, Some(b_id));
    let d = reg.decide(&[by_a.der()], SNI, now());
    assert!(d.registered(), "{}", d.message());
    assert_eq!(d.ca_certificate_id, Some(a_id));
    // A device whose signature neither key verifies.
    let forged = Ca::new("split ca");
    let device = forged.device("device-x");
    let d = reg.decide(&[device.der()], SNI, now());
    assert_eq!(d.refusal, Some(RefusalReason::BadSignature));
}

#[test]
fn a_v1_device_whose_issuer_name_is_encoded_differently_finds_its_ca() {
    let (reg, ca) = registry_with_ca("Legacy Fleet CA");
    let issuer = name_der(&[(OID_CN, PRINTABLE, "LEGACY FLEET  CA")]);
    let device = v1_device(&issuer, "legacy-1", &ca.key);
    let d = reg.decide(&[device], SNI, now());
    assert!(d.registered(), "{}", d.message());
    assert_eq!(d.ca_certificate_id, Some(ca.id()));
}

#[test]
fn intermediates_may_name_the_registered_ca_encoded_differently() {
    let reg = registry();
    let root = Ca::new("Path Root CA");
    let root_id = register_sni_only_ca(&reg, &root.pem(), now());
    // The intermediate names the root as "PATH ROOT CA" (PrintableString).
    let mut root_as_named = root.params.clone();
    root_as_named.distinguished_name = printable(&[(DnType::CommonName, "PATH ROOT CA")]);
    let int_key = Key::random_p256().unwrap();
    let int_params = kit::ca_params(kit::cn("Path Intermediate"), None, kit::VALIDITY);
    let int_cert = kit::issue_with(&int_params, &int_key, &root_as_named, &root.key).unwrap();
    let int = Ca(kit::Ca {
        params: int_params,
        key: int_key,
        cert: int_cert,
    });
    let leaf = int.device("leaf");
    let chain = [leaf.der(), int.der()];
    let options = PathOptions::default().with_intermediates(true);
    assert_eq!(reg.verify_path(&chain, options, now()), Ok(root_id));
}

// ---- RFC 5280 §4.2.1.3, §6.1.4(n): an issuer's keyUsage must assert keyCertSign ----

/// `result` is a CertificateValidationException whose message says `says`.
#[track_caller]
fn invalid<T: std::fmt::Debug>(result: Result<T, Error>, says: &str) {
    let err = result.unwrap_err();
    assert_eq!(
        err.code(),
        "CertificateValidationException",
        "{says}: {err}"
    );
    assert!(err.message().contains(says), "{}", err.message());
}

/// RegisterCACertificate refuses `ca` (SNI_ONLY) as [`invalid`] says, and stores nothing.
#[track_caller]
fn ca_refused(reg: &Registry, ca: &Ca, says: &str) {
    invalid(
        reg.register_ca_certificate(&sni_only_request(ca.pem()), now()),
        says,
    );
    assert_eq!(reg.ca_certificate_count(), 0, "nothing stored");
}

#[test]
fn register_ca_certificate_refuses_a_ca_whose_key_usage_lacks_key_cert_sign() {
    use KeyUsagePurpose::*;
    let reg = registry();
    for usages in [vec![DigitalSignature, CrlSign], vec![DigitalSignature]] {
        ca_refused(&reg, &ca_with_usages("No Sign CA", usages), "keyCertSign");
    }
    // keyCertSign, or no keyUsage extension at all (nothing restricts the key).
    for usages in [
        vec![KeyCertSign],
        vec![KeyCertSign, DigitalSignature],
        vec![],
    ] {
        let ca = ca_with_usages("Sign CA", usages.clone());
        assert!(
            reg.register_ca_certificate(&sni_only_request(ca.pem()), now())
                .is_ok(),
            "{usages:?}"
        );
    }
}

#[test]
fn a_registered_ca_without_key_cert_sign_signs_nothing() {
    // A CA RegisterCACertificate would refuse, in the registry through a state file.
    let good = Ca::new("Imported CA");
    let reg = registry();
    good.register(&reg);
    let bad = ca_with_usages("Imported CA", vec![KeyUsagePurpose::DigitalSignature]);
    let mut state = reg.export_state().unwrap();
    state.ca_certificates[0].certificate_pem = bad.pem();
    state.ca_certificates[0].certificate_id = bad.id();
    let reg = Registry::from_state(&state, RegistryConfig::default()).unwrap();
    let bad_cert = parsed(&bad.der());
    let refused = refused_for_key_cert_sign;

    // The decision (the device's signature verifies with the CA's key).
    let device = bad.device("device-1");
    assert!(parsed(&device.der()).is_signed_by(&bad_cert).is_ok());
    refused(&reg.decide(&[device.der()], SNI, now()));
    refused(&reg.decide(&device.chain_with(&bad), None, now()));
    refused(&reg.authenticate(&[device.der()], SNI, now()).unwrap_err());
    // An X.509 v1 device, which jitr verifies itself.
    let v1 = v1_device(bad_cert.subject().der(), "legacy-1", &bad.key);
    refused(&reg.decide(&[v1], SNI, now()));
    assert_eq!(reg.certificate_count(), 0, "nothing registered");
    // RegisterCertificate, finding the CA or told which one.
    invalid(
        reg.register_certificate(&device.request(), now()),
        "keyCertSign",
    );
    let mut req = device.request();
    req.ca_certificate_pem = Some(bad.pem());
    invalid(reg.register_certificate(&req, now()), "keyCertSign");
    assert_eq!(reg.certificate_count(), 0, "nothing registered");
    // The page's rule.
    assert!(!inspect::issued_by(&parsed(&device.der()), &bad_cert));
    // The CA replaced in the state is not there: its devices match the name only.
    let d = reg.decide(&[good.device("device-2").der()], SNI, now());
    assert_eq!(
        d.refusal,
        Some(RefusalReason::BadSignature),
        "{}",
        d.message()
    );
}

/// Refused because the signing CA's key usage lacks keyCertSign.
fn refused_for_key_cert_sign(d: &Decision) {
    assert_eq!(
        d.reason_code(),
        Some("INVALID_CERTIFICATE"),
        "{}",
        d.message()
    );
    assert!(d.message().contains("keyCertSign"), "{}", d.message());
}

#[test]
fn preflight_refuses_what_a_ca_without_key_cert_sign_signed() {
    let bad = ca_with_usages("Preflight CA", vec![KeyUsagePurpose::DigitalSignature]);
    let device = bad.device("device-1");
    let ca = PreflightCa {
        pem: bad.pem(),
        status: CaStatus::Active,
        auto_registration_status: AutoRegistrationStatus::Enable,
        certificate_mode: CertificateMode::Default,
        registration_config: None,
    };
    let d = preflight(ACCOUNT, &[device.der()], &[ca], &[], SNI, now()).unwrap();
    refused_for_key_cert_sign(&d);
}

#[test]
fn an_intermediate_without_key_cert_sign_signs_nothing_and_another_path_is_tried() {
    let reg = registry();
    let root = Ca::new("KU Root CA");
    let root_id = register_sni_only_ca(&reg, &root.pem(), now());
    let mut params = kit::ca_params(kit::cn("KU Intermediate"), None, kit::VALIDITY);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let bad = Ca(kit::Ca::signed_by(params, Key::random_p256().unwrap(), &root.0).unwrap());
    let leaf = bad.device("leaf");
    let options = PathOptions::default().with_intermediates(true);
    let err = reg
        .verify_path(&[leaf.der(), bad.der()], options, now())
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_CERTIFICATE", "{}", err.message());
    assert!(
        err.message().contains("intermediate CA 1") && err.message().contains("keyCertSign"),
        "{}",
        err.message()
    );
    // The same intermediate (name and key) re-issued with keyCertSign: webpki's path
    // building goes on past the refused path and finds this one.
    let good_params = kit::ca_params(kit::cn("KU Intermediate"), None, kit::VALIDITY);
    let good = root.0.issue(&good_params, &bad.key).unwrap();
    let chain = [leaf.der(), bad.der(), CertificateDer::from(good.der)];
    assert_eq!(reg.verify_path(&chain, options, now()), Ok(root_id));
}

// ---- RFC 5280 §4.2 and §4.1.2.4: what else RegisterCACertificate refuses ----

#[test]
fn register_ca_certificate_refuses_a_critical_extension_nothing_processes() {
    let reg = registry();
    let oid = [1, 3, 6, 1, 4, 1, 55738, 666, 1];
    let make = |critical: bool| {
        let mut params = kit::ca_params(kit::cn("Extended CA"), None, kit::VALIDITY);
        let mut ext = rcgen::CustomExtension::from_oid_content(&oid, vec![0x05, 0x00]);
        ext.set_criticality(critical);
        params.custom_extensions.push(ext);
        Ca(kit::Ca::root(params, Key::random_p256().unwrap()).unwrap())
    };
    ca_refused(&reg, &make(true), "1.3.6.1.4.1.55738.666.1");
    // The same extension, not critical, may be ignored (RFC 5280 §4.2).
    assert!(reg
        .register_ca_certificate(&sni_only_request(make(false).pem()), now())
        .is_ok());
}

#[test]
fn register_ca_certificate_refuses_an_empty_subject() {
    let reg = registry();
    let ca = ca_named(DistinguishedName::new());
    assert!(parsed(&ca.der()).subject().is_empty());
    ca_refused(&reg, &ca, "subject is empty");
}

// ---- RFC 5280 §4's profile: for conformance suites, not the JITR decision ----

#[test]
fn the_rfc5280_profile_is_checked_only_when_asked() {
    let (reg, ca) = registry_with_ca("Profile CA");
    // No authorityKeyIdentifier (RFC 5280 §4.2.1.1: conforming CAs include it); AWS IoT
    // accepts such device certificates, and so does the decision.
    let device = ca.device_with("no-aki", |p| {
        p.use_authority_key_identifier_extension = false;
    });
    assert!(parsed(&device.der()).authority_key_identifier().is_none());
    let options = PathOptions::default();
    assert_eq!(
        reg.verify_path(&[device.der()], options, now()),
        Ok(ca.id())
    );
    let err = reg
        .verify_path(&[device.der()], options.with_rfc5280_profile(true), now())
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_CERTIFICATE");
    assert!(
        err.message().contains("authorityKeyIdentifier"),
        "{}",
        err.message()
    );
    assert!(reg.decide(&[device.der()], SNI, now()).registered());
    // keyCertSign in a device certificate (§4.2.1.3: only with cA).
    let signer = ca.device_with("signer", |p| {
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
    });
    assert!(reg.verify_path(&[signer.der()], options, now()).is_ok());
    let err = reg
        .verify_path(&[signer.der()], options.with_rfc5280_profile(true), now())
        .unwrap_err();
    assert!(err.message().contains("keyCertSign"), "{}", err.message());
    // A device that follows the profile passes it.
    let good = ca.device("good");
    assert_eq!(
        reg.verify_path(&[good.der()], options.with_rfc5280_profile(true), now()),
        Ok(ca.id())
    );
}

#[test]
fn the_chain_bound_is_a_verify_path_option_and_the_decision_keeps_sixteen() {
    let (reg, ca) = registry_with_ca("Bound CA");
    let device = ca.device("device-1");
    let mut chain = vec![device.der()];
    chain.extend(std::iter::repeat_n(ca.der(), 19));
    let options = PathOptions::default().with_intermediates(true);
    assert_eq!(options.max_chain_len, MAX_CHAIN_LEN);
    assert_eq!(
        reg.verify_path(&chain, options, now()),
        Err(RefusalReason::ChainTooLong { len: 20 })
    );
    assert_eq!(
        reg.verify_path(&chain, options.with_max_chain_len(20), now()),
        Ok(ca.id())
    );
    assert_eq!(
        reg.decide(&chain, SNI, now()).refusal,
        Some(RefusalReason::ChainTooLong { len: 20 })
    );
}
