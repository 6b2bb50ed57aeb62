//! The activation handler's state machine, driven step by step with canned replies:
//! every branch, every error reply and the rollback, with no registry behind it.

mod common;

use std::sync::Arc;

use common::*;
use jitr_core::crl::{CaCrl, CrlProblem};
use jitr_core::handler::{
    Action, Activation, Call, CrlRequirement, Failure, Operation, PolicyTemplate, Reply,
    ServiceError, Settings, Skip, MAX_LIST_PAGES,
};
use jitr_core::*;
use rcgen::SerialNumber;
use serde_json::json;

const SERIAL: u8 = 0x51;

struct Fixture {
    ca: Ca,
    device: Device,
    event: RegistrationEvent,
    arn: String,
}

fn fixture() -> Fixture {
    let ca = Ca::new("Fleet CA");
    let device = ca.device_with("device-1", |p| {
        p.serial_number = Some(SerialNumber::from(vec![SERIAL]))
    });
    let event = RegistrationEvent::new(device.id(), ca.id(), ACCOUNT, now(), now());
    let arn = Scope::new(ACCOUNT, REGION)
        .unwrap()
        .certificate_arn(&device.id());
    Fixture {
        ca,
        device,
        event,
        arn,
    }
}

impl Fixture {
    fn described(&self, status: CertificateStatus) -> Reply {
        Reply::Certificate {
            certificate_pem: self.device.pem(),
            status,
            certificate_arn: self.arn.clone(),
        }
    }

    fn pending(&self) -> Reply {
        self.described(CertificateStatus::PendingActivation)
    }

    fn ca_reply(&self) -> Reply {
        Reply::CaCertificate {
            certificate_pem: self.ca.pem(),
        }
    }

    /// A CRL signed by `by`, current at `now()` unless `stale`.
    fn crl(&self, by: &Ca, revoked: &[u8], stale: bool) -> CaCrl {
        let (this, next) = if stale {
            ((2026, 1, 1), (2026, 2, 1))
        } else {
            ((2026, 5, 1), (2026, 7, 1))
        };
        let serials: Vec<[u8; 1]> = revoked.iter().map(|s| [*s]).collect();
        let serials: Vec<&[u8]> = serials.iter().map(|s| &s[..]).collect();
        CaCrl::Loaded(Arc::new(signed_crl(
            &by.issuer(),
            &serials,
            this,
            next,
            None,
        )))
    }

    fn policy(&self) -> String {
        format!("Policy_{}", self.device.id())
    }

    fn start(&self, crl: CaCrl, settings: Settings) -> Activation {
        Activation::new(&self.event, crl, settings, now())
    }

    /// A run for a CA without a CRL source, with the default settings.
    fn plain(&self) -> Activation {
        self.start(CaCrl::NotConfigured, Settings::default())
    }

    /// A [`plain`](Self::plain) run that has been fed `replies` (see [`feed`]), and the
    /// calls it made.
    #[track_caller]
    fn plain_fed(&self, replies: Vec<Reply>) -> (Activation, Vec<&'static str>) {
        let mut run = self.plain();
        let calls = feed(&mut run, replies);
        (run, calls)
    }

    /// Each of `codes`, answering the call after the pending description (`operation`),
    /// fails the run at that call, before any action.
    #[track_caller]
    fn fails_after_pending(&self, crl: CaCrl, operation: Operation, codes: &[&str]) {
        for code in codes {
            let mut run = self.start(crl.clone(), Settings::default());
            feed(&mut run, vec![self.pending(), error(code)]);
            assert_eq!(
                call_failure(&run),
                (operation, Some(code.to_string()), vec![])
            );
        }
    }
}

fn error(code: &str) -> Reply {
    Reply::Error(ServiceError::new(Some(code), &format!("{code}: boom")))
}

fn page(names: &[&str], next: Option<&str>) -> Reply {
    Reply::AttachedPolicies {
        policy_names: names.iter().map(|n| n.to_string()).collect(),
        next_marker: next.map(str::to_string),
    }
}

/// Feeds `replies` in order; returns the calls the machine made, as boto3 names.
#[track_caller]
fn feed(run: &mut Activation, replies: Vec<Reply>) -> Vec<&'static str> {
    let mut calls = Vec::new();
    for reply in replies {
        let call = run
            .next_call()
            .unwrap_or_else(|| panic!("the run ended before {reply:?}: {:?}", run.outcome()));
        calls.push(call.operation().boto3_name());
        run.receive(reply).unwrap();
    }
    calls
}

fn codes(actions: &[Action]) -> Vec<&'static str> {
    actions.iter().map(Action::code).collect()
}

#[track_caller]
fn report_codes(run: &Activation) -> Vec<&'static str> {
    assert!(
        run.next_call().is_none(),
        "still waiting: {:?}",
        run.next_call()
    );
    codes(&run.outcome().unwrap().unwrap().actions)
}

#[track_caller]
fn failure(run: &Activation) -> (Failure, Vec<&'static str>) {
    assert!(
        run.next_call().is_none(),
        "still waiting: {:?}",
        run.next_call()
    );
    let failed = run.outcome().unwrap().unwrap_err();
    (failed.failure, codes(&failed.actions))
}

#[track_caller]
fn call_failure(run: &Activation) -> (Operation, Option<String>, Vec<&'static str>) {
    match failure(run) {
        (Failure::Call { operation, error }, actions) => (operation, error.code, actions),
        other => panic!("not a call failure: {other:?}"),
    }
}

#[track_caller]
fn refusal(run: &Activation) -> String {
    match failure(run) {
        (Failure::Refused(e), actions) => {
            assert!(actions.is_empty(), "{actions:?}");
            e.message().to_string()
        }
        other => panic!("not a refusal: {other:?}"),
    }
}

const ACTIVATED: [&str; 3] = ["POLICY_CREATED", "POLICY_ATTACHED", "ACTIVATED"];

#[test]
fn a_clean_activation_makes_these_calls_with_boto3_parameters() {
    let f = fixture();
    let mut run = f.plain();
    let mut calls = Vec::new();
    for reply in [
        f.pending(),
        Reply::Done,
        page(&[], None),
        Reply::Done,
        Reply::Done,
    ] {
        calls.push(run.next_call().unwrap().clone());
        run.receive(reply).unwrap();
    }
    let id = f.device.id().to_string();
    let name = f.policy();
    let expected = [
        ("describe_certificate", json!({"certificateId": id})),
        ("create_policy", json!({"policyName": name})),
        ("list_attached_policies", json!({"target": f.arn})),
        (
            "attach_policy",
            json!({"policyName": name, "target": f.arn}),
        ),
        (
            "update_certificate",
            json!({"certificateId": id, "newStatus": "ACTIVE"}),
        ),
    ];
    assert_eq!(calls.len(), expected.len());
    for (call, (operation, params)) in calls.iter().zip(expected) {
        assert_eq!(call.operation().boto3_name(), operation);
        let mut got = call.params();
        if operation == "create_policy" {
            let document = got.remove("policyDocument").unwrap();
            assert!(document
                .as_str()
                .unwrap()
                .contains(&format!("arn:aws:iot:{REGION}:{ACCOUNT}:client/{id}")));
        }
        assert_eq!(serde_json::Value::Object(got), params, "{operation}");
    }
    assert_eq!(report_codes(&run), ACTIVATED);
    let report = run.outcome().unwrap().unwrap();
    assert_eq!(report.certificate_id, f.device.id());
    assert_eq!(
        report.to_json(),
        json!({"certificateId": id, "actions": [
            {"action": "POLICY_CREATED", "policyName": name},
            {"action": "POLICY_ATTACHED", "policyName": name, "target": f.arn},
            {"action": "ACTIVATED"},
        ]})
    );
}

#[test]
fn operation_names_are_aws_and_boto3_names() {
    let names: Vec<_> = Operation::ALL
        .iter()
        .map(|o| (o.name(), o.boto3_name()))
        .collect();
    assert_eq!(
        names,
        [
            ("DescribeCertificate", "describe_certificate"),
            ("DescribeCACertificate", "describe_ca_certificate"),
            ("CreatePolicy", "create_policy"),
            ("ListAttachedPolicies", "list_attached_policies"),
            ("AttachPolicy", "attach_policy"),
            ("UpdateCertificate", "update_certificate"),
            ("DetachPolicy", "detach_policy"),
        ]
    );
    let id = CertificateId::from_bytes([7; 32]);
    let calls = [
        (
            Call::DescribeCaCertificate { certificate_id: id },
            json!({"certificateId": id.to_string()}),
        ),
        (
            Call::ListAttachedPolicies {
                target: "t".into(),
                marker: Some("m".into()),
            },
            json!({"target": "t", "marker": "m"}),
        ),
        (
            Call::DetachPolicy {
                policy_name: "P".into(),
                target: "t".into(),
            },
            json!({"policyName": "P", "target": "t"}),
        ),
        (
            Call::UpdateCertificate {
                certificate_id: id,
                new_status: CertificateStatus::Revoked,
            },
            json!({"certificateId": id.to_string(), "newStatus": "REVOKED"}),
        ),
    ];
    for (call, params) in calls {
        assert_eq!(serde_json::Value::Object(call.params()), params);
    }
}

#[test]
fn every_describe_certificate_error_fails_the_run() {
    let f = fixture();
    for code in [
        "ResourceNotFoundException",
        "AccessDeniedException",
        "ThrottlingException",
        "InvalidRequestException",
    ] {
        let mut run = f.start(f.crl(&f.ca, &[], false), Settings::default());
        assert_eq!(feed(&mut run, vec![error(code)]), ["describe_certificate"]);
        assert_eq!(
            call_failure(&run),
            (
                Operation::DescribeCertificate,
                Some(code.to_string()),
                vec![]
            )
        );
    }
    // An error without an AWS code (a network failure) fails it too.
    let mut run = f.plain();
    run.receive(Reply::Error(ServiceError::new(None, "connection reset")))
        .unwrap();
    assert_eq!(
        call_failure(&run),
        (Operation::DescribeCertificate, None, vec![])
    );
    assert_eq!(
        run.outcome().unwrap().unwrap_err().to_string(),
        "DescribeCertificate failed: connection reset"
    );
}

#[test]
fn a_description_that_is_not_the_events_certificate_is_refused() {
    let f = fixture();
    let other = f.ca.device("device-2");
    let cases = [
        (
            Reply::Certificate {
                certificate_pem: other.pem(),
                status: CertificateStatus::PendingActivation,
                certificate_arn: f.arn.clone(),
            },
            "not the event's",
        ),
        (
            Reply::Certificate {
                certificate_pem: f.device.pem(),
                status: CertificateStatus::PendingActivation,
                certificate_arn: f.arn.replace(":cert/", ":cacert/"),
            },
            "not a certificate ARN",
        ),
        (
            Reply::Certificate {
                certificate_pem: f.device.pem(),
                status: CertificateStatus::PendingActivation,
                certificate_arn: Scope::new(ACCOUNT, REGION)
                    .unwrap()
                    .certificate_arn(&other.id()),
            },
            "is not the event's certificate",
        ),
        (
            Reply::Certificate {
                certificate_pem: "garbage".into(),
                status: CertificateStatus::PendingActivation,
                certificate_arn: f.arn.clone(),
            },
            "",
        ),
        (Reply::Done, "does not answer it"),
        (f.ca_reply(), "does not answer it"),
    ];
    for (reply, message) in cases {
        let mut run = f.plain();
        run.receive(reply).unwrap();
        assert!(refusal(&run).contains(message), "{:?}", run.outcome());
    }
}

#[test]
fn a_certificate_that_is_not_pending_is_left_alone_whatever_its_status() {
    let f = fixture();
    for status in CertificateStatus::ALL {
        if *status == CertificateStatus::PendingActivation {
            continue;
        }
        let mut run = f.start(f.crl(&f.ca, &[SERIAL], false), Settings::default());
        assert_eq!(
            feed(&mut run, vec![f.described(*status)]),
            ["describe_certificate"]
        );
        assert_eq!(
            run.outcome().unwrap().unwrap().actions,
            [Action::Skipped(Skip::NotPending { status: *status })]
        );
    }
}

#[test]
fn a_listed_serial_is_revoked_and_nothing_else() {
    let f = fixture();
    let mut run = f.start(f.crl(&f.ca, &[0x01, SERIAL], false), Settings::default());
    let calls = feed(&mut run, vec![f.pending(), f.ca_reply(), Reply::Done]);
    assert_eq!(
        calls,
        [
            "describe_certificate",
            "describe_ca_certificate",
            "update_certificate"
        ]
    );
    assert_eq!(report_codes(&run), ["REVOKED"]);
    // Asked for the event's CA, and REVOKED.
    let mut run = f.start(f.crl(&f.ca, &[SERIAL], false), Settings::default());
    run.receive(f.pending()).unwrap();
    assert_eq!(
        run.next_call(),
        Some(&Call::DescribeCaCertificate {
            certificate_id: f.ca.id()
        })
    );
    run.receive(f.ca_reply()).unwrap();
    assert_eq!(
        run.next_call(),
        Some(&Call::UpdateCertificate {
            certificate_id: f.device.id(),
            new_status: CertificateStatus::Revoked
        })
    );
    // Already REVOKED by a racing handler: nothing to report.
    run.receive(Reply::Unchanged).unwrap();
    assert_eq!(report_codes(&run), Vec::<&str>::new());
    // UpdateCertificate fails: the run fails.
    let mut run = f.start(f.crl(&f.ca, &[SERIAL], false), Settings::default());
    feed(
        &mut run,
        vec![f.pending(), f.ca_reply(), error("ThrottlingException")],
    );
    assert_eq!(
        call_failure(&run),
        (
            Operation::UpdateCertificate,
            Some("ThrottlingException".into()),
            vec![]
        )
    );
}

#[test]
fn an_unlisted_serial_on_a_usable_crl_is_activated() {
    let f = fixture();
    let mut run = f.start(f.crl(&f.ca, &[0x01], false), Settings::default());
    let calls = feed(
        &mut run,
        vec![
            f.pending(),
            f.ca_reply(),
            Reply::Done,
            page(&[], None),
            Reply::Done,
            Reply::Done,
        ],
    );
    assert_eq!(calls[1], "describe_ca_certificate");
    assert_eq!(report_codes(&run), ACTIVATED);
}

#[test]
fn describe_ca_certificate_not_found_means_no_crl_check_and_other_errors_fail() {
    let f = fixture();
    for (requirement, expected) in [
        (CrlRequirement::IfConfigured, vec!["SKIPPED"]),
        (CrlRequirement::Always, vec!["SKIPPED"]),
        (
            CrlRequirement::Never,
            vec![
                "CRL_NOT_CHECKED",
                "POLICY_CREATED",
                "POLICY_ATTACHED",
                "ACTIVATED",
            ],
        ),
    ] {
        let mut settings = Settings::default();
        settings.require_crl = requirement;
        let mut run = f.start(f.crl(&f.ca, &[SERIAL], false), settings);
        let mut replies = vec![f.pending(), error("ResourceNotFoundException")];
        if requirement == CrlRequirement::Never {
            replies.extend([Reply::Done, page(&[], None), Reply::Done, Reply::Done]);
        }
        feed(&mut run, replies);
        let actions = run.outcome().unwrap().unwrap().actions;
        assert_eq!(codes(&actions), expected, "{requirement:?}");
        let problem = match &actions[0] {
            Action::Skipped(Skip::Crl(p)) | Action::CrlNotChecked(p) => p.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            problem,
            CrlProblem::CaNotFound {
                ca_certificate_id: f.ca.id()
            }
        );
    }
    f.fails_after_pending(
        f.crl(&f.ca, &[], false),
        Operation::DescribeCaCertificate,
        &[
            "AccessDeniedException",
            "ThrottlingException",
            "InvalidRequestException",
        ],
    );
}

#[test]
fn a_ca_description_that_is_not_the_events_ca_is_refused() {
    let f = fixture();
    let other = Ca::new("Other CA");
    for (pem, message) in [
        (other.pem(), "not the event's"),
        ("garbage".to_string(), ""),
    ] {
        let mut run = f.start(f.crl(&f.ca, &[], false), Settings::default());
        feed(
            &mut run,
            vec![
                f.pending(),
                Reply::CaCertificate {
                    certificate_pem: pem,
                },
            ],
        );
        assert!(refusal(&run).contains(message));
    }
    // A reply of the wrong kind.
    let mut run = f.start(f.crl(&f.ca, &[], false), Settings::default());
    feed(&mut run, vec![f.pending(), page(&[], None)]);
    assert!(refusal(&run).contains("does not answer it"));
}

#[test]
fn what_a_crl_that_cannot_be_used_does_under_each_requirement() {
    let f = fixture();
    let other = Ca::new("Other CA");
    let impostor = Ca::with_key("Fleet CA", rcgen::KeyPair::generate().unwrap());
    // Every source of "no usable CRL", each listing the device (were it read, the
    // device would be revoked), with the code it is reported by.
    let sources: Vec<(CaCrl, &str)> = vec![
        (CaCrl::NotConfigured, "CRL_NOT_CONFIGURED"),
        (
            CaCrl::Refused(CrlProblem::BadSignature),
            "CRL_BAD_SIGNATURE",
        ),
        (f.crl(&f.ca, &[SERIAL], true), "CRL_STALE"),
        (f.crl(&other, &[SERIAL], false), "CRL_WRONG_ISSUER"),
        (f.crl(&impostor, &[SERIAL], false), "CRL_BAD_SIGNATURE"),
    ];
    for (crl, code) in sources {
        let configured = code != "CRL_NOT_CONFIGURED";
        let loaded = matches!(crl, CaCrl::Loaded(_));
        for requirement in [
            CrlRequirement::IfConfigured,
            CrlRequirement::Always,
            CrlRequirement::Never,
        ] {
            let mut settings = Settings::default();
            settings.require_crl = requirement;
            let mut run = f.start(crl.clone(), settings);
            let mut replies = vec![f.pending()];
            if loaded {
                replies.push(f.ca_reply());
            }
            let pending = match requirement {
                CrlRequirement::Always => true,
                CrlRequirement::IfConfigured => configured,
                _ => false,
            };
            if !pending {
                replies.extend([Reply::Done, page(&[], None), Reply::Done, Reply::Done]);
            }
            let calls = feed(&mut run, replies);
            assert_eq!(
                calls.contains(&"describe_ca_certificate"),
                loaded,
                "{code} {requirement:?}"
            );
            let actions = run.outcome().unwrap().unwrap().actions;
            let expected: Vec<&str> = match (pending, configured) {
                (true, _) => vec!["SKIPPED"],
                (false, true) => [&["CRL_NOT_CHECKED"][..], &ACTIVATED].concat(),
                (false, false) => ACTIVATED.to_vec(),
            };
            assert_eq!(codes(&actions), expected, "{code} {requirement:?}");
            if pending || configured {
                let json = actions[0].to_json();
                assert_eq!(json["reason"], code, "{code} {requirement:?}");
                assert!(json["message"].as_str().unwrap().len() > 20);
            }
        }
    }
}

#[test]
fn create_policy_already_exists_reuses_it_and_other_errors_fail() {
    let f = fixture();
    let (run, _) = f.plain_fed(vec![
        f.pending(),
        error("ResourceAlreadyExistsException"),
        page(&[], None),
        Reply::Done,
        Reply::Done,
    ]);
    assert_eq!(
        report_codes(&run),
        ["POLICY_REUSED", "POLICY_ATTACHED", "ACTIVATED"]
    );
    f.fails_after_pending(
        CaCrl::NotConfigured,
        Operation::CreatePolicy,
        &[
            "MalformedPolicyException",
            "LimitExceededException",
            "AccessDeniedException",
        ],
    );
}

#[test]
fn attached_policies_are_read_page_by_page() {
    let f = fixture();
    let (mut run, _) = f.plain_fed(vec![f.pending(), Reply::Done, page(&["A"], Some("m1"))]);
    assert_eq!(
        run.next_call(),
        Some(&Call::ListAttachedPolicies {
            target: f.arn.clone(),
            marker: Some("m1".into())
        })
    );
    feed(&mut run, vec![page(&["B"], None), Reply::Done, Reply::Done]);
    assert_eq!(report_codes(&run), ACTIVATED);
    // Found on the first page: no second page, and not reported as attached here.
    let (run, calls) = f.plain_fed(vec![
        f.pending(),
        Reply::Done,
        page(&["A", &f.policy()], Some("m1")),
        Reply::Done,
        Reply::Done,
    ]);
    assert_eq!(
        calls,
        [
            "describe_certificate",
            "create_policy",
            "list_attached_policies",
            "attach_policy",
            "update_certificate"
        ]
    );
    assert_eq!(report_codes(&run), ["POLICY_CREATED", "ACTIVATED"]);
    // A service that never stops paging.
    let (mut run, _) = f.plain_fed(vec![f.pending(), Reply::Done]);
    for _ in 0..MAX_LIST_PAGES {
        assert_eq!(
            run.next_call().map(|c| c.operation()),
            Some(Operation::ListAttachedPolicies)
        );
        run.receive(page(&[], Some("again"))).unwrap();
    }
    match failure(&run) {
        (Failure::Refused(e), actions) => {
            assert!(e.message().contains("pages"));
            assert_eq!(actions, ["POLICY_CREATED"]);
        }
        other => panic!("{other:?}"),
    }
    // ListAttachedPolicies and AttachPolicy fail: the run fails, nothing to roll back.
    for (at, operation) in [
        (2, Operation::ListAttachedPolicies),
        (3, Operation::AttachPolicy),
    ] {
        let mut replies = vec![f.pending(), Reply::Done, page(&[], None)];
        replies.truncate(at);
        replies.push(error("AccessDeniedException"));
        let (run, calls) = f.plain_fed(replies);
        assert!(!calls.contains(&"detach_policy"));
        assert_eq!(
            call_failure(&run),
            (
                operation,
                Some("AccessDeniedException".into()),
                vec!["POLICY_CREATED"]
            )
        );
    }
}

#[test]
fn a_failed_activation_detaches_the_policy_this_run_attached() {
    let f = fixture();
    let to_update = |f: &Fixture, listed: &[&str]| {
        let (run, _) = f.plain_fed(vec![
            f.pending(),
            Reply::Done,
            page(listed, None),
            Reply::Done,
        ]);
        assert_eq!(
            run.next_call(),
            Some(&Call::UpdateCertificate {
                certificate_id: f.device.id(),
                new_status: CertificateStatus::Active
            })
        );
        run
    };
    // Detached, then the run fails with UpdateCertificate's error.
    let mut run = to_update(&f, &[]);
    run.receive(error("CertificateStateException")).unwrap();
    assert_eq!(
        run.next_call(),
        Some(&Call::DetachPolicy {
            policy_name: f.policy(),
            target: f.arn.clone()
        })
    );
    run.receive(Reply::Done).unwrap();
    assert_eq!(
        call_failure(&run),
        (
            Operation::UpdateCertificate,
            Some("CertificateStateException".into()),
            vec!["POLICY_CREATED", "POLICY_ATTACHED", "POLICY_DETACHED"]
        )
    );
    // The detach fails too: recorded, and the run still fails with the update's error.
    let mut run = to_update(&f, &[]);
    feed(
        &mut run,
        vec![error("ThrottlingException"), error("AccessDeniedException")],
    );
    let (operation, code, actions) = call_failure(&run);
    assert_eq!(
        (operation, code.as_deref()),
        (Operation::UpdateCertificate, Some("ThrottlingException"))
    );
    assert_eq!(
        actions,
        ["POLICY_CREATED", "POLICY_ATTACHED", "POLICY_DETACH_FAILED"]
    );
    let failed = run.outcome().unwrap().unwrap_err();
    assert_eq!(
        failed.actions[2].to_json()["reason"],
        "AccessDeniedException"
    );
    // Attached before this run: left attached.
    let mut run = to_update(&f, &[&f.policy()]);
    run.receive(error("ThrottlingException")).unwrap();
    assert_eq!(
        call_failure(&run),
        (
            Operation::UpdateCertificate,
            Some("ThrottlingException".into()),
            vec!["POLICY_CREATED"]
        )
    );
    // Already ACTIVE (a racing handler): nothing more to report.
    let mut run = to_update(&f, &[]);
    run.receive(Reply::Unchanged).unwrap();
    assert_eq!(report_codes(&run), ["POLICY_CREATED", "POLICY_ATTACHED"]);
}

#[test]
fn a_template_the_certificate_cannot_fill_is_refused_before_any_change() {
    let f = fixture();
    let template = PolicyTemplate::new("Org_{{subject.Organization}}", "{}").unwrap();
    let mut run = f.start(CaCrl::NotConfigured, Settings::new(template));
    assert_eq!(feed(&mut run, vec![f.pending()]), ["describe_certificate"]);
    assert!(refusal(&run).contains("Organization (O)"));
    // The scope comes from the ARN: another partition and region shape the policy.
    let mut run = f.plain();
    let arn = format!("arn:aws-cn:iot:cn-north-1:{ACCOUNT}:cert/{}", f.device.id());
    run.receive(Reply::Certificate {
        certificate_pem: f.device.pem(),
        status: CertificateStatus::PendingActivation,
        certificate_arn: arn,
    })
    .unwrap();
    let Some(Call::CreatePolicy {
        policy_document, ..
    }) = run.next_call()
    else {
        panic!("{:?}", run.next_call())
    };
    assert!(policy_document.contains("arn:aws-cn:iot:cn-north-1:"));
}

#[test]
fn replies_after_the_end_are_errors_that_change_nothing() {
    let f = fixture();
    let mut run = f.plain();
    run.receive(f.described(CertificateStatus::Active)).unwrap();
    let before = run.outcome();
    assert_eq!(
        run.receive(Reply::Done).unwrap_err().code(),
        "InvalidRequestException"
    );
    assert_eq!(
        run.receive_output(&json!({})).unwrap_err().code(),
        "InvalidRequestException"
    );
    assert_eq!(run.outcome(), before);
    assert_eq!(run.failure(), None);
}

#[test]
fn boto3_outputs_are_read_and_malformed_ones_refused() {
    let f = fixture();
    let mut run = f.plain();
    let described = json!({
        "certificateDescription": {
            "certificateArn": f.arn, "certificateId": f.device.id().to_string(),
            "status": "PENDING_ACTIVATION", "certificatePem": f.device.pem(),
            "creationDate": null, "ownedBy": ACCOUNT,
        },
        "ResponseMetadata": {"HTTPStatusCode": 200},
    });
    for output in [
        described,
        json!({"ResponseMetadata": {}}), // CreatePolicy's output is not read
        json!({"policies": [{"policyName": "A", "policyArn": "x"}], "nextMarker": ""}),
        json!(null),
        json!({}),
    ] {
        run.receive_output(&output).unwrap();
    }
    assert_eq!(report_codes(&run), ACTIVATED);
    let pem = f.device.pem();
    for (output, message) in [
        (json!({}), "certificateDescription"),
        (
            json!({"certificateDescription": {"certificatePem": pem, "status": "PENDING", "certificateArn": f.arn}}),
            "PENDING",
        ),
        (
            json!({"certificateDescription": {"certificatePem": pem, "status": "ACTIVE"}}),
            "certificateArn",
        ),
        (json!([]), "certificateDescription"),
    ] {
        let mut run = f.plain();
        run.receive_output(&output).unwrap();
        assert!(refusal(&run).contains(message), "{output}");
    }
    let mut run = f.plain();
    for output in [
        json!({"certificateDescription": {"certificatePem": pem, "status": "PENDING_ACTIVATION", "certificateArn": f.arn}}),
        json!({}),
    ] {
        run.receive_output(&output).unwrap();
    }
    run.receive_output(&json!({"policies": "A"})).unwrap();
    assert!(failure(&run).1 == ["POLICY_CREATED"]);
    assert_eq!(
        Reply::from_output(
            Operation::DescribeCaCertificate,
            &json!({"certificateDescription": {"certificatePem": "P"}})
        )
        .unwrap(),
        Reply::CaCertificate {
            certificate_pem: "P".into()
        }
    );
}

#[test]
fn action_codes_and_json_are_stable() {
    let problem = CrlProblem::Stale {
        next_update: Timestamp::from_unix_secs(0),
    };
    let actions = [
        (Action::Revoked, json!({"action": "REVOKED"})),
        (
            Action::PolicyCreated { name: "P".into() },
            json!({"action": "POLICY_CREATED", "policyName": "P"}),
        ),
        (
            Action::PolicyReused { name: "P".into() },
            json!({"action": "POLICY_REUSED", "policyName": "P"}),
        ),
        (
            Action::PolicyAttached {
                name: "P".into(),
                target: "T".into(),
            },
            json!({"action": "POLICY_ATTACHED", "policyName": "P", "target": "T"}),
        ),
        (Action::Activated, json!({"action": "ACTIVATED"})),
        (
            Action::Skipped(Skip::NotPending {
                status: CertificateStatus::Active,
            }),
            json!({"action": "SKIPPED", "reason": "NOT_PENDING_ACTIVATION", "message": "the certificate is ACTIVE, not PENDING_ACTIVATION: the event is repeated or late, nothing to do"}),
        ),
        (
            Action::CrlNotChecked(problem.clone()),
            json!({"action": "CRL_NOT_CHECKED", "reason": "CRL_STALE", "message": format!("activated without a revocation check: {problem}")}),
        ),
        (
            Action::PolicyDetached {
                name: "P".into(),
                target: "T".into(),
            },
            json!({"action": "POLICY_DETACHED", "policyName": "P", "target": "T"}),
        ),
        (
            Action::PolicyDetachFailed {
                name: "P".into(),
                target: "T".into(),
                error: ServiceError::new(None, "down"),
            },
            json!({"action": "POLICY_DETACH_FAILED", "policyName": "P", "target": "T", "message": "down"}),
        ),
    ];
    assert_eq!(actions.len(), Action::CODES.len());
    for (action, json) in actions {
        assert_eq!(action.to_json(), json);
    }
    // Every code is documented in the handler's module docs.
    let docs = include_str!("../src/handler/mod.rs");
    for code in Action::CODES.iter().chain(CrlProblem::CODES) {
        assert!(
            docs.contains(&format!("`{code}`")),
            "{code} is not in the handler's docs"
        );
    }
}
