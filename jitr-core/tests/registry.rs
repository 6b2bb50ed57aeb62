//! Registry operations: the rules of docs/behaviour.md §3–§5 and "an error changes nothing".

mod common;

use common::*;
use jitr_core::*;

fn snapshot(reg: &Registry) -> RegistryState {
    reg.export_state().expect("the state exports")
}

/// Runs `op`, expects `code`, and checks the registry did not change.
#[track_caller]
fn refused<T: std::fmt::Debug>(
    reg: &Registry,
    code: &str,
    op: impl FnOnce(&Registry) -> Result<T, Error>,
) {
    let before = snapshot(reg);
    let err = op(reg).expect_err("the operation should fail");
    assert_eq!(err.code(), code, "{err}");
    assert!(!err.message().is_empty());
    assert_eq!(
        snapshot(reg),
        before,
        "a failed operation changed the registry"
    );
}

#[test]
fn ca_registration_rules() {
    let reg = registry();
    let code = reg.get_registration_code().unwrap();
    assert_eq!(code.len(), 64);
    assert_eq!(
        reg.get_registration_code().unwrap(),
        code,
        "stable until deleted"
    );
    let ca = Ca::new("Fleet CA");
    let other = Ca::new("Other CA");

    // 1. not exactly one certificate
    refused(&reg, "CertificateValidationException", |r| {
        r.register_ca_certificate(
            &RegisterCaCertificateRequest {
                ca_certificate: "garbage".into(),
                ..ca.request(Some(ca.verification(&code)))
            },
            now(),
        )
    });
    refused(&reg, "CertificateValidationException", |r| {
        r.register_ca_certificate(
            &RegisterCaCertificateRequest {
                ca_certificate: format!("{}{}", ca.pem(), other.pem()),
                ..ca.request(Some(ca.verification(&code)))
            },
            now(),
        )
    });
    // 2. not a CA
    let leaf = ca.device("not-a-ca");
    refused(&reg, "CertificateValidationException", |r| {
        r.register_ca_certificate(
            &RegisterCaCertificateRequest {
                ca_certificate: leaf.pem(),
                ..ca.request(Some(ca.verification(&code)))
            },
            now(),
        )
    });
    // 3. mode and verification certificate
    refused(&reg, "InvalidRequestException", |r| {
        r.register_ca_certificate(&ca.request(None), now())
    });
    refused(&reg, "InvalidRequestException", |r| {
        r.register_ca_certificate(
            &RegisterCaCertificateRequest {
                certificate_mode: CertificateMode::SniOnly,
                ..ca.request(Some(ca.verification(&code)))
            },
            now(),
        )
    });
    // 4. wrong code, wrong signer, expired verification certificate
    refused(&reg, "RegistrationCodeValidationException", |r| {
        r.register_ca_certificate(&ca.request(Some(ca.verification(&"0".repeat(64)))), now())
    });
    refused(&reg, "CertificateValidationException", |r| {
        r.register_ca_certificate(&ca.request(Some(other.verification(&code))), now())
    });
    refused(&reg, "CertificateValidationException", |r| {
        let late = Timestamp::from_unix_secs(2_100_000_000);
        r.register_ca_certificate(&ca.request(Some(ca.verification(&code))), late)
    });
    refused(&reg, "InvalidRequestException", |r| {
        r.register_ca_certificate(
            &RegisterCaCertificateRequest {
                ca_certificate: "x".repeat(MAX_CA_PEM_LEN + 1),
                ..ca.request(Some(ca.verification(&code)))
            },
            now(),
        )
    });

    // Success, then 5. duplicate.
    let resp = reg
        .register_ca_certificate(&ca.request(Some(ca.verification(&code))), now())
        .unwrap();
    assert_eq!(resp.certificate_id, ca.id());
    assert_eq!(
        resp.certificate_arn,
        format!("arn:aws:iot:us-east-1:123456789012:cacert/{}", ca.id())
    );
    let before = snapshot(&reg);
    match reg.register_ca_certificate(&ca.request(Some(ca.verification(&code))), now()) {
        Err(Error::ResourceAlreadyExists {
            resource_id,
            resource_arn,
            ..
        }) => {
            assert_eq!(resource_id, ca.id().to_string());
            assert_eq!(resource_arn, resp.certificate_arn);
        }
        other => panic!("expected ResourceAlreadyExists, got {other:?}"),
    }
    assert_eq!(snapshot(&reg), before);

    let d = reg.describe_ca_certificate(&ca.id()).unwrap();
    let d = d.certificate_description;
    assert_eq!(d.status, CaStatus::Active);
    assert_eq!(d.auto_registration_status, AutoRegistrationStatus::Enable);
    assert_eq!(d.customer_version, 1);
    assert_eq!(d.owned_by, ACCOUNT);
    assert_eq!(d.certificate_mode, CertificateMode::Default);
    assert_eq!(d.certificate_pem, ca.pem().replace("\r\n", "\n"));

    // The registration code changes after deletion; old verification certificates fail.
    reg.delete_registration_code().unwrap();
    let new_code = reg.get_registration_code().unwrap();
    assert_ne!(new_code, code);
    refused(&reg, "RegistrationCodeValidationException", |r| {
        r.register_ca_certificate(&other.request(Some(other.verification(&code))), now())
    });
}

#[test]
fn defaults_are_inactive_and_disabled_and_sni_only_needs_no_verification() {
    let reg = registry();
    let ca = Ca::new("Quiet CA");
    let id = register_ca(
        &reg,
        &RegisterCaCertificateRequest {
            ca_certificate: ca.pem(),
            certificate_mode: CertificateMode::SniOnly,
            ..Default::default()
        },
        now(),
    );
    let d = reg
        .describe_ca_certificate(&id)
        .unwrap()
        .certificate_description;
    assert_eq!(d.status, CaStatus::Inactive);
    assert_eq!(d.auto_registration_status, AutoRegistrationStatus::Disable);
    assert_eq!(d.certificate_mode, CertificateMode::SniOnly);
}

#[test]
fn eleventh_ca_with_the_same_subject_is_over_the_limit() {
    let reg = registry();
    for _ in 0..10 {
        Ca::new("Same Subject").register(&reg);
    }
    let eleventh = Ca::new("Same Subject");
    refused(&reg, "LimitExceededException", |r| {
        r.register_ca_certificate(&eleventh.request(eleventh.proof_for(r)), now())
    });
    // Another subject is fine.
    Ca::new("Different").register(&reg);
}

#[test]
fn update_and_delete_ca() {
    let (reg, ca) = registry_with_ca("CA");
    let id = ca.id();
    refused(&reg, "CertificateStateException", |r| {
        r.delete_ca_certificate(&id)
    });
    let mut req = UpdateCaCertificateRequest::new(id);
    req.new_status = Some(CaStatus::Active);
    reg.update_ca_certificate(&req, now()).unwrap();
    let v = |r: &Registry| {
        r.describe_ca_certificate(&id)
            .unwrap()
            .certificate_description
    };
    assert_eq!(
        v(&reg).customer_version,
        1,
        "a no-op does not bump the version"
    );
    let gen1 = v(&reg).generation_id;
    req.new_status = Some(CaStatus::Inactive);
    req.new_auto_registration_status = Some(AutoRegistrationStatus::Disable);
    reg.update_ca_certificate(&req, now()).unwrap();
    assert_eq!(v(&reg).customer_version, 2, "one change, one bump");
    assert_ne!(v(&reg).generation_id, gen1);
    assert_eq!(v(&reg).status, CaStatus::Inactive);
    refused(&reg, "ResourceNotFoundException", |r| {
        r.update_ca_certificate(
            &UpdateCaCertificateRequest::new(CertificateId::from_bytes([7; 32])),
            now(),
        )
    });
    reg.delete_ca_certificate(&id).unwrap();
    refused(&reg, "ResourceNotFoundException", |r| {
        r.describe_ca_certificate(&id)
    });
}

#[test]
fn device_registration_rules() {
    let reg = registry();
    let ca = Ca::new("CA");
    let ca_id = ca.register_with(&reg, false, false);
    let dev = ca.device("d1");
    let req = |status| RegisterCertificateRequest {
        certificate_pem: dev.pem(),
        ca_certificate_pem: None,
        status,
    };
    refused(&reg, "CertificateStateException", |r| {
        r.register_certificate(&req(None), now())
    });
    let mut up = UpdateCaCertificateRequest::new(ca_id);
    up.new_status = Some(CaStatus::Active);
    reg.update_ca_certificate(&up, now()).unwrap();
    refused(&reg, "CertificateStateException", |r| {
        r.register_certificate(&req(Some(CertificateStatus::PendingActivation)), now())
    });
    refused(&reg, "InvalidRequestException", |r| {
        r.register_certificate(&req(Some(CertificateStatus::PendingTransfer)), now())
    });
    let forged = Ca::new("CA").device("forged");
    refused(&reg, "CertificateValidationException", |r| {
        r.register_certificate(&forged.request(), now())
    });
    let resp = reg.register_certificate(&req(None), now()).unwrap();
    assert_eq!(resp.certificate_id, dev.id());
    let d = reg.describe_certificate(&dev.id()).unwrap();
    assert_eq!(d.status, CertificateStatus::Inactive);
    assert_eq!(d.ca_certificate_id, Some(ca_id));
    refused(&reg, "ResourceAlreadyExistsException", |r| {
        r.register_certificate(&req(None), now())
    });

    // Without CA: SNI_ONLY, no CA link.
    let lone = Ca::new("Unregistered").device("lone");
    lone.register_without_ca(&reg, Some(CertificateStatus::Active));
    let d = reg.describe_certificate(&lone.id()).unwrap();
    assert_eq!(d.ca_certificate_id, None);
    assert_eq!(d.certificate_mode, CertificateMode::SniOnly);
    assert_eq!(d.status, CertificateStatus::Active);
}

#[test]
fn same_subject_and_key_is_a_conflict_unless_the_ca_is_named() {
    let (reg, ca, twin, twin_id) = registry_with_twins("Twin");
    let dev = ca.device("d");
    refused(&reg, "CertificateConflictException", |r| {
        r.register_certificate(&dev.request(), now())
    });
    reg.register_certificate(
        &RegisterCertificateRequest {
            certificate_pem: dev.pem(),
            ca_certificate_pem: Some(twin.pem()),
            status: None,
        },
        now(),
    )
    .unwrap();
    assert_eq!(
        reg.describe_certificate(&dev.id())
            .unwrap()
            .ca_certificate_id,
        Some(twin_id)
    );
}

#[test]
fn update_certificate_versions_and_finality() {
    let (reg, ca) = registry_with_ca("CA");
    let dev = ca.device("d");
    let id = dev.register(&reg, None);
    let version = |r: &Registry| r.describe_certificate(&id).unwrap().customer_version;
    assert_eq!(version(&reg), 1);
    reg.update_certificate(&id, CertificateStatus::Inactive, now())
        .unwrap();
    assert_eq!(version(&reg), 1, "same -> same is a no-op");
    reg.update_certificate(&id, CertificateStatus::Active, now())
        .unwrap();
    assert_eq!(version(&reg), 2);
    reg.update_certificate(&id, CertificateStatus::Revoked, now())
        .unwrap();
    assert_eq!(version(&reg), 3);
    refused(&reg, "CertificateStateException", |r| {
        r.update_certificate(&id, CertificateStatus::Active, now())
    });
    refused(&reg, "InvalidRequestException", |r| {
        r.update_certificate(&id, CertificateStatus::PendingActivation, now())
    });
    refused(&reg, "ResourceNotFoundException", |r| {
        r.update_certificate(
            &CertificateId::from_bytes([1; 32]),
            CertificateStatus::Active,
            now(),
        )
    });
}

#[test]
fn deleting_certificates_and_policies() {
    let (reg, ca) = registry_with_ca("CA");
    let dev = ca.device("d");
    let id = dev.register(&reg, Some(CertificateStatus::Active));
    let arn = reg.scope().certificate_arn(&id);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#;
    refused(&reg, "InvalidRequestException", |r| {
        r.create_policy("bad name!", doc, now())
    });
    refused(&reg, "MalformedPolicyException", |r| {
        r.create_policy("p", "{not json", now())
    });
    refused(&reg, "MalformedPolicyException", |r| {
        r.create_policy("p", "{}", now())
    });
    let created = reg.create_policy("Policy_1", doc, now()).unwrap();
    assert_eq!(
        created.policy_arn,
        "arn:aws:iot:us-east-1:123456789012:policy/Policy_1"
    );
    refused(&reg, "ResourceAlreadyExistsException", |r| {
        r.create_policy("Policy_1", doc, now())
    });
    refused(&reg, "ResourceNotFoundException", |r| {
        r.attach_policy("nope", &arn)
    });
    refused(&reg, "InvalidRequestException", |r| {
        r.attach_policy("Policy_1", "arn:aws:iot:us-east-1:999999999999:cert/x")
    });
    reg.attach_policy("Policy_1", &arn).unwrap();
    reg.attach_policy("Policy_1", &arn).unwrap();
    let names: Vec<_> = reg
        .list_attached_policies(&arn)
        .unwrap()
        .into_iter()
        .map(|p| p.policy_name)
        .collect();
    assert_eq!(names, ["Policy_1"]);
    refused(&reg, "CertificateStateException", |r| {
        r.delete_certificate(&id, false)
    });
    reg.update_certificate(&id, CertificateStatus::Inactive, now())
        .unwrap();
    refused(&reg, "DeleteConflictException", |r| {
        r.delete_certificate(&id, false)
    });
    refused(&reg, "DeleteConflictException", |r| {
        r.delete_policy("Policy_1")
    });
    reg.delete_certificate(&id, true).unwrap();
    assert!(reg.list_attached_policies(&arn).unwrap().is_empty());
    reg.delete_policy("Policy_1").unwrap();
    refused(&reg, "ResourceNotFoundException", |r| {
        r.get_policy("Policy_1")
    });
}

#[test]
fn listing_pages_by_creation_date() {
    let (reg, ca) = registry_with_ca("CA");
    let ca_id = ca.id();
    let mut ids = Vec::new();
    for i in 0..7 {
        let dev = ca.device(&format!("d{i}"));
        reg.register_certificate(
            &RegisterCertificateRequest {
                certificate_pem: dev.pem(),
                ..Default::default()
            },
            Timestamp::from_unix_millis(now().unix_millis() + i),
        )
        .unwrap();
        ids.push(dev.id());
    }
    let mut seen = Vec::new();
    let mut req = ListRequest {
        page_size: Some(3),
        ascending_order: true,
        marker: None,
    };
    loop {
        let page = reg.list_certificates_by_ca(&ca_id, &req).unwrap();
        seen.extend(page.items.iter().map(|s| s.certificate_id));
        match page.next_marker {
            Some(m) => req.marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let newest_first = reg.list_certificates(&ListRequest::default()).unwrap();
    assert_eq!(newest_first.items[0].certificate_id, ids[6]);
    assert!(newest_first.next_marker.is_none());
    let cas = reg.list_ca_certificates(&ListRequest::default()).unwrap();
    assert_eq!(cas.items.len(), 1);
}

#[test]
fn state_round_trips_exactly() {
    let (reg, ca) = registry_with_ca("CA");
    let ca_id = ca.id();
    let d1 = ca.device("d1");
    reg.decide(&d1.chain_with(&ca), None, now());
    reg.create_policy("p", r#"{"Statement":[]}"#, now())
        .unwrap();
    reg.attach_policy("p", &reg.scope().certificate_arn(&d1.id()))
        .unwrap();
    let state = reg.export_state().expect("the state exports");
    let json = state.to_json();
    let loaded = Registry::from_state(
        &RegistryState::from_json(&json).unwrap(),
        RegistryConfig::default(),
    )
    .unwrap();
    assert_eq!(loaded.export_state().expect("the state exports"), state);
    assert_eq!(loaded.export_state().unwrap().to_json(), json);
    assert_eq!(
        loaded.get_registration_code().unwrap(),
        reg.get_registration_code().unwrap()
    );
    // The loaded registry decides as the original: the leaf is pending, same registration time.
    let d = loaded.decide(
        &d1.chain_with(&ca),
        None,
        Timestamp::from_unix_millis(now().unix_millis() + 5),
    );
    assert_eq!(d.refusal, Some(RefusalReason::PendingActivation));
    let e = d.event.unwrap();
    assert_eq!(e.certificate_registration_timestamp, now());
    assert_eq!(e.ca_certificate_id, ca_id);

    // Tampered states are refused.
    let mut bad = state.clone();
    bad.certificates[0].certificate_id = CertificateId::from_bytes([0; 32]);
    assert!(Registry::from_state(&bad, RegistryConfig::default()).is_err());
    let mut bad = state.clone();
    bad.format = 2;
    assert!(Registry::from_state(&bad, RegistryConfig::default()).is_err());
    assert!(RegistryState::from_json(&json.replace("123456789012", "12")).is_err());
    assert!(RegistryState::from_json("[]").is_err());
}

#[test]
fn default_ca_belongs_to_one_account_per_region() {
    let mut dir = Directory::with_store(common::store::fresh_store());
    let mut add = |account: &str, region: &str, host: &str| {
        let scope = Scope::new(account, region).unwrap();
        dir.add_account(scope, RegistryConfig::default(), &[host])
            .unwrap()
    };
    let a = add("111111111111", REGION, "a.example");
    let b = add("222222222222", REGION, "b.example");
    let c = add("333333333333", "eu-west-1", "c.example");
    let ca = Ca::new("Shared CA");
    ca.register(&a);
    refused(&b, "ResourceAlreadyExistsException", |r| {
        r.register_ca_certificate(&ca.request(ca.proof_for(r)), now())
    });
    // Another region is another namespace.
    ca.register(&c);
    // SNI_ONLY may be shared.
    let shared = Ca::new("Shared SNI CA");
    for r in [&a, &b] {
        register_sni_only_ca(r, &shared.pem(), now());
    }
    // The device is decided by the account its SNI names.
    let dev = shared.device("dev");
    let d = dir.decide(&[dev.der()], Some("b.example"), now());
    assert_eq!(d.refusal, Some(RefusalReason::RegisteredPendingActivation));
    assert_eq!(d.event.unwrap().aws_account_id, "222222222222");
    assert!(a.describe_certificate(&dev.id()).is_err());
    assert!(b.describe_certificate(&dev.id()).is_ok());
    assert_eq!(
        dir.decide(&[dev.der()], Some("nobody.example"), now())
            .refusal,
        Some(RefusalReason::UnknownServerName {
            server_name: "nobody.example".into()
        })
    );
    assert_eq!(
        dir.decide(&[dev.der()], None, now()).refusal,
        Some(RefusalReason::NoAccount)
    );
    // With a default account, an SNI_ONLY CA is not reached without its SNI.
    dir.set_default_account(&a);
    let dev2 = shared.device("dev2");
    assert_eq!(
        dir.decide(&dev2.chain_with(&shared), None, now()).refusal,
        Some(RefusalReason::CaRequiresSni)
    );
    // Deleting the DEFAULT CA frees it for another account.
    let mut up = UpdateCaCertificateRequest::new(ca.id());
    up.new_status = Some(CaStatus::Inactive);
    a.update_ca_certificate(&up, now()).unwrap();
    a.delete_ca_certificate(&ca.id()).unwrap();
    ca.register(&b);
}

#[test]
fn request_shape_is_checked_before_resources_are_looked_up() {
    let reg = registry();
    let unknown = CertificateId::from_bytes([3; 32]);
    for target in [
        CertificateStatus::PendingTransfer,
        CertificateStatus::PendingActivation,
    ] {
        refused(&reg, "InvalidRequestException", |r| {
            r.update_certificate(&unknown, target, now())
        });
    }
    refused(&reg, "ResourceNotFoundException", |r| {
        r.update_certificate(&unknown, CertificateStatus::Active, now())
    });
    let err = api::call(
        &reg,
        "register_ca_certificate",
        &serde_json::json!({"caCertificate": "x", "registrationConfig": {"templateBody": "{}", "nope": 1}}),
        now(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "InvalidRequestException");
    assert!(err.message().contains("nope"), "{err}");
}
