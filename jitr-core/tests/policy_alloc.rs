//! A compiled policy check allocates nothing (issue 11): counted by a counting global
//! allocator (allocation-counter's, for this test binary only) around checks of every
//! kind: allowed, explicitly denied, denied by default, with clock conditions, on
//! every action.

use jitr_core::policy::{
    Action, AuthContext, AuthDecision, CertificateAttributes, CompiledPolicies, DnAttribute,
    PolicyDocument, ThingContext,
};
use jitr_core::{Scope, Timestamp};

const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

#[test]
fn a_compiled_check_allocates_nothing() {
    let doc = PolicyDocument::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Action":"iot:Connect","Resource":"{ARN}:client/${{iot:Connection.Thing.ThingName}}"}},
        {{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["{ARN}:topic/${{iot:ClientId}}/*","{ARN}:topic/org/${{iot:Certificate.Subject.Organization}}/?"]}},
        {{"Effect":"Deny","Action":"iot:Publish","Resource":"{ARN}:topic/${{iot:ClientId}}/secret"}},
        {{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{ARN}:topicfilter/${{iot:ClientId}}/#"}},
        {{"Effect":"Allow","Action":"iot:RetainPublish","Resource":"*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"2026-06-02T00:00:00Z"}},"NumericGreaterThan":{{"aws:EpochTime":"0"}}}}}},
        {{"Effect":"Allow","Action":"iot:Receive","NotResource":"arn:aws:iot:*:*:topic/private/*"}}]}}"#
    ))
    .unwrap();
    let mut attrs = CertificateAttributes::default();
    attrs.subject = vec![(DnAttribute::Organization, "Example".into())];
    let now = Timestamp::from_unix_secs(1_780_272_000);
    let ctx = AuthContext::new(Scope::new("123456789012", "us-east-1").unwrap(), now)
        .with_client_id("dev-1")
        .with_thing(ThingContext::attached("dev-1"))
        .with_certificate_attributes(attrs);
    let compiled = CompiledPolicies::compile(&[("p", &doc)], &ctx);
    let checks = [
        (Action::Connect, "dev-1", AuthDecision::Allowed),
        (Action::Connect, "dev-2", AuthDecision::ImplicitDeny),
        (Action::Publish, "dev-1/temp", AuthDecision::Allowed),
        (Action::Publish, "dev-1/secret", AuthDecision::ExplicitDeny),
        (Action::Publish, "org/Example/x", AuthDecision::Allowed),
        (
            Action::Publish,
            "org/Example/xy",
            AuthDecision::ImplicitDeny,
        ),
        (Action::Subscribe, "dev-1/#", AuthDecision::Allowed),
        (Action::Receive, "private/x", AuthDecision::ImplicitDeny),
        (Action::Receive, "public/x", AuthDecision::Allowed),
        (Action::RetainPublish, "t", AuthDecision::Allowed),
        (Action::ListRetainedMessages, "", AuthDecision::ImplicitDeny),
    ];
    // The answers are right (so the measured calls do real work)...
    for (action, name, want) in checks {
        assert_eq!(compiled.check(action, name, now), want, "{action} {name}");
    }
    // ... and none of them, nor any other action, allocates.
    let info = allocation_counter::measure(|| {
        for (action, name, want) in checks {
            let got = compiled.check(std::hint::black_box(action), name, now);
            assert_eq!(got, want);
        }
        for action in Action::ALL {
            std::hint::black_box(compiled.check_detailed(action, "dev-1/x", now));
        }
        std::hint::black_box(compiled.check(
            Action::RetainPublish,
            "t",
            Timestamp::from_unix_secs(1_780_358_400),
        ));
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    // The counter counts: compiling allocates.
    let info = allocation_counter::measure(|| {
        std::hint::black_box(CompiledPolicies::compile(&[("p", &doc)], &ctx));
    });
    assert!(info.count_total > 0);
}
