//! Policy decisions on the hot path (issue 11): one PUBLISH against a connection's
//! compiled set of 10 policies × 10 statements with variables (goal ≤ 200 ns, no
//! allocation: `tests/policy_alloc.rs` counts them), beside evaluating the parsed
//! documents afresh for each request, and the cost of compiling the set at CONNECT.
//!
//! ```text
//! cargo bench -p jitr-core --bench authorize
//! ```
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use jitr_core::policy::{
    evaluate, Action, AuthContext, AuthDecision, CertificateAttributes, CompiledPolicies,
    DnAttribute, PolicyDocument, Request, ThingContext,
};
use jitr_core::{Scope, Timestamp};

const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

/// Policy `i` of the fleet: ten statements, most with variables, two with conditions
/// decided at CONNECT and one on the clock.
fn policy(i: usize) -> String {
    let s = [
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Connect","Resource":"{ARN}:client/${{iot:Connection.Thing.ThingName}}","Condition":{{"Bool":{{"iot:Connection.Thing.IsAttached":"true"}}}}}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Publish","Resource":"{ARN}:topic/fleet{i}/${{iot:ClientId}}/telemetry/*"}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"{ARN}:topic/$aws/things/${{iot:Connection.Thing.ThingName}}/shadow/fleet{i}/*"}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{ARN}:topicfilter/fleet{i}/${{iot:ClientId}}/commands/#"}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Receive","Resource":"{ARN}:topic/fleet{i}/${{iot:ClientId}}/commands/*"}}"#
        ),
        format!(
            r#"{{"Effect":"Deny","Action":"iot:Publish","Resource":"{ARN}:topic/fleet{i}/${{iot:ClientId}}/restricted/*"}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Publish","Resource":"{ARN}:topic/org/${{iot:Certificate.Subject.Organization}}/fleet{i}/${{iot:ClientId}}/*","Condition":{{"StringLike":{{"iot:ClientId":"dev-*"}}}}}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:RetainPublish","Resource":"{ARN}:topic/fleet{i}/${{iot:ClientId}}/state"}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Publish","Resource":"{ARN}:topic/fleet{i}/broadcast/????"}}"#
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Publish","Resource":"{ARN}:topic/fleet{i}/zone/${{iot:Connection.Thing.Attributes[zone]}}/*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}}}}"#
        ),
    ];
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        s.join(",")
    )
}

fn context(now: Timestamp) -> AuthContext {
    let mut attrs = CertificateAttributes::default();
    attrs.subject = vec![
        (DnAttribute::CommonName, "dev-42".into()),
        (DnAttribute::Organization, "Example".into()),
    ];
    let mut thing = ThingContext::attached("dev-42");
    thing.attributes.insert("zone".into(), "z1".into());
    AuthContext::new(Scope::new("123456789012", "us-east-1").unwrap(), now)
        .with_client_id("dev-42")
        .with_thing(thing)
        .with_certificate_attributes(attrs)
}

fn authorize(c: &mut Criterion) {
    let now = Timestamp::from_unix_secs(1_780_272_000);
    let ctx = context(now);
    let texts: Vec<String> = (0..10).map(policy).collect();
    let docs: Vec<PolicyDocument> = texts
        .iter()
        .map(|t| PolicyDocument::parse(t).unwrap())
        .collect();
    let names: Vec<String> = (0..10).map(|i| format!("FleetPolicy{i}")).collect();
    let policies: Vec<(&str, &PolicyDocument)> =
        names.iter().map(String::as_str).zip(docs.iter()).collect();
    let compiled = CompiledPolicies::compile(&policies, &ctx);
    println!(
        "10 policies x 10 statements: {} compiled (statement, action) entries",
        compiled.entry_count()
    );

    // The requests: allowed by the last policy's last statement (a clock condition),
    // allowed by the first policy, explicitly denied, and denied by default (every
    // statement for PUBLISH looked at).
    let cases = [
        (
            "allowed, last policy",
            "fleet9/zone/z1/temperature",
            AuthDecision::Allowed,
        ),
        (
            "allowed, first policy",
            "fleet0/dev-42/telemetry/temperature",
            AuthDecision::Allowed,
        ),
        (
            "explicit deny",
            "fleet5/dev-42/restricted/x",
            AuthDecision::ExplicitDeny,
        ),
        (
            "implicit deny",
            "fleet3/other-device/telemetry/t",
            AuthDecision::ImplicitDeny,
        ),
    ];
    for (_, topic, want) in cases {
        let fresh = evaluate(
            &policies,
            &Request::for_name(Action::Publish, topic, &ctx),
            &ctx,
        );
        assert_eq!(fresh.decision, want, "{topic}");
        assert_eq!(compiled.check(Action::Publish, topic, now), want, "{topic}");
    }

    let mut g = c.benchmark_group("authorize PUBLISH, 10 policies x 10 statements");
    for (label, topic, _) in cases {
        g.bench_function(format!("compiled check: {label}"), |b| {
            b.iter(|| compiled.check(black_box(Action::Publish), black_box(topic), black_box(now)))
        });
    }
    for (label, topic, _) in cases {
        g.bench_function(format!("fresh evaluate: {label}"), |b| {
            b.iter(|| {
                let req = Request::for_name(Action::Publish, black_box(topic), &ctx);
                evaluate(black_box(&policies), &req, &ctx).decision
            })
        });
    }
    g.bench_function("compile at CONNECT", |b| {
        b.iter(|| CompiledPolicies::compile(black_box(&policies), black_box(&ctx)))
    });
    g.bench_function("parse 10 documents", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(PolicyDocument::parse(black_box(t)).unwrap());
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = authorize
}
criterion_main!(benches);
