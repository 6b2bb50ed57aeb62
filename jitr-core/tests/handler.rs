//! CRLs and the activation handler (docs/behaviour.md §8).

mod common;

use std::sync::Arc;

use common::*;
use jitr_core::crl::{CaCrl, Crl, CrlStore, StaleCrlPolicy};
use jitr_core::handler::{Action, CrlRequirement, Handler, PolicyTemplate, Skip};
use jitr_core::*;
use rcgen::{CrlScope, KeyUsagePurpose, SerialNumber};

fn crl(ca: &Ca, revoked: &[&[u8]], this: (i32, u8, u8), next: (i32, u8, u8)) -> Crl {
    signed_crl(&ca.issuer(), revoked, this, next, None)
}

fn fresh(ca: &Ca, revoked: &[&[u8]]) -> Crl {
    crl(ca, revoked, (2026, 5, 1), (2026, 7, 1))
}

struct Setup {
    reg: Arc<Registry>,
    ca: Ca,
    crls: Arc<CrlStore>,
}

fn setup() -> Setup {
    setup_with(Ca::new("Fleet CA"))
}

fn setup_with(ca: Ca) -> Setup {
    let reg = Arc::new(registry());
    ca.register(&reg);
    Setup {
        reg,
        ca,
        crls: Arc::new(CrlStore::new()),
    }
}

impl Setup {
    /// A device with this serial, connected once (so PENDING_ACTIVATION), and its event.
    fn pending(&self, serial: &[u8]) -> (CertificateId, RegistrationEvent) {
        self.pending_at(serial, &[])
    }

    /// The same, with these URIs as the certificate's CRL distribution point.
    fn pending_at(&self, serial: &[u8], points: &[&str]) -> (CertificateId, RegistrationEvent) {
        let dev = self.ca.device_with("device", |p| {
            p.serial_number = Some(SerialNumber::from(serial.to_vec()));
            if !points.is_empty() {
                distribution_point(p, points);
            }
        });
        let d = self.reg.decide(&dev.chain_with(&self.ca), None, now());
        (dev.id(), d.event.unwrap())
    }

    /// Connects a device with this serial and these CRL distribution points, has `handler`
    /// handle its event and checks the CRL step skipped it for `code`: the certificate is
    /// left pending, without a policy. Its ID and event, for another handler.
    fn skipped_for_crl(
        &self,
        handler: &Handler,
        serial: u8,
        points: &[&str],
        code: &str,
    ) -> (CertificateId, RegistrationEvent) {
        let (id, event) = self.pending_at(&[serial], points);
        let report = handler.handle(&event, now()).unwrap();
        assert!(
            matches!(&report.actions[..], [Action::Skipped(Skip::Crl(p))] if p.code() == code),
            "{code} {points:?}: {report:?}"
        );
        assert_eq!(self.status(&id), CertificateStatus::PendingActivation);
        assert!(self.policies(&id).is_empty());
        (id, event)
    }

    fn handler(&self) -> Handler {
        Handler::new(
            self.reg.clone(),
            self.crls.clone(),
            PolicyTemplate::aws_sample(),
        )
    }

    /// Sets the CA's CRL, which the store must accept.
    fn set_crl(&self, crl: Crl) {
        self.crls.set(&self.ca_cert(), crl).unwrap();
    }

    fn ca_cert(&self) -> Certificate {
        Certificate::from_pem(&self.ca.pem()).unwrap()
    }

    fn status(&self, id: &CertificateId) -> CertificateStatus {
        self.reg.describe_certificate(id).unwrap().status
    }

    fn policies(&self, id: &CertificateId) -> Vec<String> {
        self.reg
            .list_attached_policies(&self.reg.scope().certificate_arn(id))
            .unwrap()
            .into_iter()
            .map(|p| p.policy_name)
            .collect()
    }
}

#[test]
fn clean_activation_then_a_repeated_event_is_a_no_op() {
    let s = setup();
    s.set_crl(fresh(&s.ca, &[&[0x99]]));
    let (id, event) = s.pending(&[0x01, 0x02]);
    let report = s.handler().handle(&event, now()).unwrap();
    let name = format!("Policy_{id}");
    assert_eq!(
        report.actions,
        [
            Action::PolicyCreated { name: name.clone() },
            Action::PolicyAttached {
                name: name.clone(),
                target: s.reg.scope().certificate_arn(&id)
            },
            Action::Activated
        ]
    );
    assert_eq!(s.status(&id), CertificateStatus::Active);
    assert_eq!(s.policies(&id), std::slice::from_ref(&name));
    let doc = s.reg.get_policy(&name).unwrap().policy_document;
    assert!(
        doc.contains(&format!("arn:aws:iot:us-east-1:123456789012:client/{id}")),
        "{doc}"
    );
    assert!(doc.contains(&format!("topicfilter/foo/bar/{id}/#")));
    let version = s.reg.describe_certificate(&id).unwrap().customer_version;
    let again = s.handler().handle(&event, now()).unwrap();
    assert_eq!(
        again.actions,
        [Action::Skipped(Skip::NotPending {
            status: CertificateStatus::Active
        })]
    );
    assert_eq!(
        s.reg.describe_certificate(&id).unwrap().customer_version,
        version
    );
    assert!(s
        .reg
        .decide(
            &[s.reg
                .describe_certificate(&id)
                .map(|d| Certificate::from_pem(&d.certificate_pem)
                    .unwrap()
                    .der()
                    .to_vec())
                .unwrap()
                .into()],
            None,
            now()
        )
        .is_allowed());
}

#[test]
fn a_listed_serial_is_revoked_without_a_policy() {
    let s = setup();
    s.set_crl(fresh(&s.ca, &[&[0x01, 0x02], &[0x77]]));
    let (id, event) = s.pending(&[0x01, 0x02]);
    let report = s.handler().handle(&event, now()).unwrap();
    assert_eq!(report.actions, [Action::Revoked]);
    assert_eq!(s.status(&id), CertificateStatus::Revoked);
    assert!(s.policies(&id).is_empty());
    assert!(
        s.reg.get_policy(&format!("Policy_{id}")).is_err(),
        "no policy was created"
    );
}

#[test]
fn crl_problems_leave_the_certificate_pending_with_a_reason() {
    let s = setup();
    let ca_cert = s.ca_cert();
    // Refused by the store: another issuer's CRL, or this issuer's name with another key.
    let other = Ca::new("Other CA");
    assert_eq!(
        s.crls.set(&ca_cert, fresh(&other, &[])).unwrap_err().code(),
        "CRL_WRONG_ISSUER"
    );
    let impostor = Ca::new("Fleet CA");
    assert_eq!(
        s.crls
            .set(&ca_cert, fresh(&impostor, &[]))
            .unwrap_err()
            .code(),
        "CRL_BAD_SIGNATURE"
    );
    // Stale: refused by default, accepted when the host says so.
    s.set_crl(crl(&s.ca, &[], (2026, 1, 1), (2026, 2, 1)));
    let (_, event) = s.skipped_for_crl(&s.handler(), 0x05, &[], "CRL_STALE");
    let report = s
        .handler()
        .with_stale_crl_policy(StaleCrlPolicy::Accept)
        .handle(&event, now())
        .unwrap();
    assert_eq!(report.actions.last(), Some(&Action::Activated));
    // From the future.
    let s = setup();
    s.set_crl(crl(&s.ca, &[], (2027, 1, 1), (2027, 2, 1)));
    s.skipped_for_crl(&s.handler(), 0x06, &[], "CRL_NOT_YET_VALID");
}

#[test]
fn templates_name_missing_fields_and_unknown_placeholders() {
    assert!(PolicyTemplate::new("P", "{\"x\": \"{{nope}}\"}")
        .unwrap_err()
        .message()
        .contains("{{nope}}"));
    assert!(PolicyTemplate::new("P_{{certificateId", "{}").is_err());
    let s = setup();
    let (id, event) = s.pending(&[0x07]);
    let t = PolicyTemplate::new(
        "Org_{{subject.Organization}}",
        r#"{"Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"${iot:ClientId}"}]}"#,
    )
    .unwrap();
    let err = Handler::new(s.reg.clone(), s.crls.clone(), t)
        .handle(&event, now())
        .unwrap_err();
    assert!(err.message().contains("Organization (O)"), "{err}");
    assert_eq!(
        s.status(&id),
        CertificateStatus::PendingActivation,
        "nothing changed"
    );
    assert!(s.reg.get_policy("Org_").is_err());
    // A template whose field the certificate has; the AWS policy variable passes through.
    let t = PolicyTemplate::new(
        "Device_{{subject.CommonName}}",
        r#"{"Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:{{partition}}:iot:{{region}}:{{accountId}}:client/${iot:ClientId}"}]}"#,
    )
    .unwrap();
    Handler::new(s.reg.clone(), s.crls.clone(), t)
        .handle(&event, now())
        .unwrap();
    let doc = s.reg.get_policy("Device_device").unwrap().policy_document;
    assert!(
        doc.contains("arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}"),
        "{doc}"
    );
}

#[test]
fn bad_events_and_unknown_certificates_are_typed_errors() {
    let s = setup();
    for bad in [
        "{}",
        "not json",
        r#"{"certificateId":"zz","caCertificateId":"00","timestamp":1,"certificateStatus":"PENDING_ACTIVATION","awsAccountId":"123456789012","certificateRegistrationTimestamp":"1"}"#,
        r#"{"certificateId":"0000000000000000000000000000000000000000000000000000000000000000","caCertificateId":"0000000000000000000000000000000000000000000000000000000000000000","timestamp":"1","certificateStatus":"PENDING_ACTIVATION","awsAccountId":"123456789012","certificateRegistrationTimestamp":"1"}"#,
    ] {
        assert_eq!(
            RegistrationEvent::from_json(bad).unwrap_err().code(),
            "InvalidRequestException",
            "{bad}"
        );
    }
    let unknown = RegistrationEvent::new(
        CertificateId::from_bytes([1; 32]),
        s.ca.id(),
        ACCOUNT,
        now(),
        now(),
    );
    assert_eq!(
        s.handler().handle(&unknown, now()).unwrap_err().code(),
        "ResourceNotFoundException"
    );
}

#[test]
fn concurrent_handlers_make_one_policy_and_one_attachment() {
    let s = setup();
    let (id, event) = s.pending(&[0x08]);
    let handler = Arc::new(s.handler());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (h, e) = (handler.clone(), event.clone());
            std::thread::spawn(move || h.handle(&e, now()).unwrap())
        })
        .collect();
    let reports: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let count = |f: &dyn Fn(&Action) -> bool| {
        reports
            .iter()
            .flat_map(|r| &r.actions)
            .filter(|a| f(a))
            .count()
    };
    assert_eq!(count(&|a| matches!(a, Action::PolicyCreated { .. })), 1);
    assert_eq!(count(&|a| matches!(a, Action::Activated)), 1);
    assert_eq!(s.policies(&id).len(), 1);
    assert_eq!(s.status(&id), CertificateStatus::Active);
    assert_eq!(s.reg.describe_certificate(&id).unwrap().customer_version, 2);
}

#[test]
fn a_crl_from_a_ca_whose_key_usage_lacks_crl_sign_is_not_used() {
    // RFC 5280 §4.2.1.3 and §6.3.3(f): the CRL issuer's key usage, when present, must
    // assert cRLSign. The CRL lists nobody, so reading it would activate the device.
    let s = setup_with(ca_with_usages(
        "No cRLSign CA",
        vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ],
    ));
    let listing_nobody = signed_crl(
        &signer_ignoring_key_usage(&s.ca),
        &[],
        (2026, 5, 1),
        (2026, 7, 1),
        None,
    );
    assert_eq!(
        listing_nobody
            .verify_issued_by(&s.ca_cert())
            .map_err(|p| p.code()),
        Err("CRL_CA_NOT_CRL_SIGNER")
    );
    // Refused at load, and remembered: the CA has a CRL source, its CRL is unusable.
    assert_eq!(
        s.crls
            .set(&s.ca_cert(), listing_nobody)
            .map_err(|p| p.code()),
        Err("CRL_CA_NOT_CRL_SIGNER")
    );
    assert!(
        matches!(s.crls.entry(&s.ca.id()), CaCrl::Refused(p) if p.code() == "CRL_CA_NOT_CRL_SIGNER")
    );
    assert!(s.crls.get(&s.ca.id()).is_none());
    s.skipped_for_crl(&s.handler(), 0x21, &[], "CRL_CA_NOT_CRL_SIGNER");
    // The controls: a CA without a key usage extension, and one whose key usage has
    // cRLSign, may sign CRLs.
    for ca in [
        ca_with_usages("No KU CA", vec![]),
        ca_with_usages(
            "cRLSign CA",
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign],
        ),
    ] {
        let crl = signed_crl(
            &signer_ignoring_key_usage(&ca),
            &[],
            (2026, 5, 1),
            (2026, 7, 1),
            None,
        );
        crl.verify_issued_by(&Certificate::from_pem(&ca.pem()).unwrap())
            .unwrap();
    }
}

#[test]
fn a_crl_for_another_distribution_point_does_not_say_not_revoked() {
    // RFC 5280 §6.3.3(b)(2)(i) and §5.2.5: a CRL whose issuingDistributionPoint names a
    // distribution point covers only certificates that name it. Partition 1's CRL lists
    // serial 0x31 only; a device of partition 2 is not on it because it is not in it.
    let s = setup();
    let (p1, p2) = (
        "http://crl.example.com/fleet-1.crl",
        "http://crl.example.com/fleet-2.crl",
    );
    s.set_crl(signed_crl(
        &s.ca.issuer(),
        &[&[0x31]],
        (2026, 5, 1),
        (2026, 7, 1),
        idp(p1, None),
    ));
    let not_covered = |serial: u8, points: &[&str]| {
        s.skipped_for_crl(&s.handler(), serial, points, "CRL_DOES_NOT_COVER");
    };
    not_covered(0x32, &[p2]);
    not_covered(0x33, &[]); // no distribution point at all
    not_covered(0x35, &["HTTP://CRL.EXAMPLE.COM/fleet-1.crl"]); // URIs compare exactly
                                                                // In partition 1: listed is revoked, unlisted is activated.
    let (id, event) = s.pending_at(&[0x31], &[p1]);
    assert_eq!(
        s.handler().handle(&event, now()).unwrap().actions,
        [Action::Revoked]
    );
    assert_eq!(s.status(&id), CertificateStatus::Revoked);
    let (id, event) = s.pending_at(&[0x34], &[p2, p1]);
    let report = s.handler().handle(&event, now()).unwrap();
    assert_eq!(report.actions.last(), Some(&Action::Activated));
    assert_eq!(s.status(&id), CertificateStatus::Active);
}

#[test]
fn a_crl_of_end_entity_certificates_only_does_not_cover_a_ca_certificate() {
    // RFC 5280 §6.3.3(b)(2)(ii): onlyContainsUserCerts.
    let ca = Ca::new("Fleet CA");
    let crl = signed_crl(
        &ca.issuer(),
        &[],
        (2026, 5, 1),
        (2026, 7, 1),
        idp(POINT, Some(CrlScope::UserCertsOnly)),
    );
    let at_point = |is_ca: bool| {
        let cert = ca.device_with("d", |p| {
            if is_ca {
                p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            }
            distribution_point(p, &[POINT]);
        });
        Certificate::from_pem(&cert.pem()).unwrap()
    };
    const POINT: &str = "http://crl.example.com/users.crl";
    assert_eq!(
        crl.covers(&at_point(true)).map_err(|p| p.code()),
        Err("CRL_DOES_NOT_COVER")
    );
    crl.covers(&at_point(false)).unwrap();
}

#[test]
fn without_a_usable_crl_the_host_chooses_and_configured_cas_fail_closed() {
    // None configured: activated by default (AWS's sample checks no CRL), left pending
    // when the host requires a CRL for every CA.
    let s = setup();
    let always = s.handler().with_crl_requirement(CrlRequirement::Always);
    let (id, event) = s.skipped_for_crl(&always, 0x41, &[], "CRL_NOT_CONFIGURED");
    let report = s.handler().handle(&event, now()).unwrap();
    assert_eq!(report.actions.len(), 3, "{report:?}");
    assert_eq!(s.status(&id), CertificateStatus::Active);

    // Refused at load: the CA has a CRL source whose CRL cannot be used. The default
    // leaves the certificate pending; CrlRequirement::Never activates and says so.
    let s = setup();
    let other = Ca::new("Other CA");
    assert!(s.crls.set(&s.ca_cert(), fresh(&other, &[])).is_err());
    let (id, event) = s.skipped_for_crl(&s.handler(), 0x42, &[], "CRL_WRONG_ISSUER");
    let never = s.handler().with_crl_requirement(CrlRequirement::Never);
    let report = never.handle(&event, now()).unwrap();
    let codes: Vec<_> = report.actions.iter().map(Action::code).collect();
    assert_eq!(
        codes,
        [
            "CRL_NOT_CHECKED",
            "POLICY_CREATED",
            "POLICY_ATTACHED",
            "ACTIVATED"
        ]
    );
    assert!(
        matches!(&report.actions[0], Action::CrlNotChecked(p) if p.code() == "CRL_WRONG_ISSUER")
    );
    assert_eq!(s.status(&id), CertificateStatus::Active);

    // A good CRL replaces the refusal; a bad one does not replace a good one; removing
    // it leaves the CA without a source.
    s.set_crl(fresh(&s.ca, &[&[0x43]]));
    assert!(s.crls.set(&s.ca_cert(), fresh(&other, &[])).is_err());
    assert!(s
        .crls
        .get(&s.ca.id())
        .is_some_and(|c| c.is_revoked(&[0x43])));
    let (_, event) = s.pending(&[0x43]);
    assert_eq!(
        s.handler().handle(&event, now()).unwrap().actions,
        [Action::Revoked]
    );
    s.crls.remove(&s.ca.id());
    assert!(matches!(s.crls.entry(&s.ca.id()), CaCrl::NotConfigured));

    // Stale under Never: not checked, activated, and the report says why.
    let s = setup();
    s.set_crl(crl(&s.ca, &[], (2026, 1, 1), (2026, 2, 1)));
    let (_, event) = s.pending(&[0x44]);
    let report = s
        .handler()
        .with_crl_requirement(CrlRequirement::Never)
        .handle(&event, now())
        .unwrap();
    assert!(matches!(&report.actions[0], Action::CrlNotChecked(p) if p.code() == "CRL_STALE"));
    assert_eq!(report.actions.last(), Some(&Action::Activated));
}

#[test]
fn the_real_amazon_crl_loads_and_answers_lookups() {
    let Some(dir) = corpus("rustls-webpki-tests/amazon", "amazon CRL") else {
        return;
    };
    let der = std::fs::read(dir.join("r2m02.crl")).unwrap();
    let crl = Crl::from_pem_or_der(&der).unwrap();
    assert_eq!(crl.len(), 14_102);
    assert!(!crl.is_revoked(&[0x12, 0x34, 0x56]));
    let ca = Certificate::from_pem_or_der(&std::fs::read(dir.join("r2m02.cer")).unwrap()).unwrap();
    crl.verify_issued_by(&ca).unwrap();
    let other =
        Certificate::from_pem_or_der(&std::fs::read(dir.join("e2m01.cer")).unwrap()).unwrap();
    assert_eq!(
        crl.verify_issued_by(&other).unwrap_err().code(),
        "CRL_WRONG_ISSUER"
    );
}
