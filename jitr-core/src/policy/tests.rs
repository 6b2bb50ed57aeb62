use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::{Scope, Timestamp};

const ARN: &str = "arn:aws:iot:us-east-1:123456789012";
const NOW: i64 = 1_780_272_000; // 2026-06-01T00:00:00Z

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1").unwrap()
}

fn ctx() -> AuthContext {
    AuthContext::new(scope(), Timestamp::from_unix_secs(NOW))
}

fn doc(text: &str) -> PolicyDocument {
    PolicyDocument::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn stmt(effect: &str, action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"{effect}","Action":"{action}","Resource":"{resource}"}}"#)
}

fn policy(statements: &[String]) -> PolicyDocument {
    doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ))
}

fn decide(
    docs: &[(&str, &PolicyDocument)],
    ctx: &AuthContext,
    action: Action,
    name: &str,
) -> AuthDecision {
    let fresh = evaluate(docs, &Request::for_name(action, name, ctx), ctx).decision;
    let compiled = CompiledPolicies::compile(docs, ctx).check(action, name, ctx.now);
    assert_eq!(
        fresh, compiled,
        "{action} {name}: fresh and compiled differ"
    );
    fresh
}

/// Checks each case, an action on a name and the decision `docs` make for it under
/// `ctx`, with [`decide`].
#[track_caller]
fn decides(
    docs: &[(&str, &PolicyDocument)],
    ctx: &AuthContext,
    cases: &[(Action, &str, AuthDecision)],
) {
    for &(action, name, want) in cases {
        assert_eq!(decide(docs, ctx, action, name), want, "{action} {name}");
    }
}

/// `action` on `name` is implicitly denied under `ctx`, which lacks the context values
/// `missing`.
#[track_caller]
fn denied_for_missing(
    docs: &[(&str, &PolicyDocument)],
    ctx: &AuthContext,
    action: Action,
    name: &str,
    missing: &[&str],
) {
    assert_eq!(
        decide(docs, ctx, action, name),
        AuthDecision::ImplicitDeny,
        "{action} {name}"
    );
    let auth = evaluated(docs, ctx, action, name);
    assert_eq!(auth.missing_context_values, missing, "{action} {name}");
}

/// The full evaluation of `action` on `name` under `ctx`.
fn evaluated(
    docs: &[(&str, &PolicyDocument)],
    ctx: &AuthContext,
    action: Action,
    name: &str,
) -> Authorization {
    evaluate(docs, &Request::for_name(action, name, ctx), ctx)
}

#[test]
fn refusals_say_what_and_where() {
    let big = format!(
        r#"{{"Statement":[{}]}}"#,
        vec![stmt("Allow", "iot:Connect", "*"); 40].join(",")
    );
    let cases: Vec<(String, &str)> = vec![
        (big, "at most 2048"),
        ("not json".into(), "not valid JSON"),
        ("[]".into(), "document: a policy document is a JSON object"),
        (r#"{"Statement":[],"Foo":1}"#.into(), "document: unknown key \"Foo\""),
        (r#"{"Version":"2008-10-17","Statement":[]}"#.into(), "Version: the version must be"),
        (r#"{"Version":"2012-10-17"}"#.into(), "Statement is missing"),
        (r#"{"Statement":"x"}"#.into(), "Statement: Statement is an object"),
        (r#"{"Statement":[1]}"#.into(), "Statement[0]: a statement is a JSON object"),
        (
            format!(r#"{{"Statement":[{},{{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Foo":1}}]}}"#, stmt("Allow", "*", "*")),
            "Statement[1]: unknown key \"Foo\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#.into(),
            "Statement[0].Principal: AWS IoT policies have no Principal",
        ),
        (r#"{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#.into(), "Statement[0].Effect"),
        (r#"{"Statement":{"Action":"*","Resource":"*"}}"#.into(), "Statement[0]: Effect is missing"),
        (r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#.into(), "Statement[0]: Action is missing"),
        (r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#.into(), "Statement[0]: Resource is missing"),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}"#.into(),
            "Action or NotAction, not both",
        ),
        (r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#.into(), "Statement[0].Action: a string or a non-empty list"),
        (r#"{"Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}"#.into(), "Statement[0].Action"),
        (r#"{"Statement":{"Effect":"Allow","Action":"Publish","Resource":"*"}}"#.into(), "is not an action"),
        (r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"topic/x"}}"#.into(), "Statement[0].Resource: \"topic/x\" is not a resource"),
        (r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:iot:x"}}"#.into(), "is not a resource"),
        (
            format!(r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"{ARN}:topic/${{iot:ClientId"}}}}"#),
            "Statement[0].Resource: unbalanced",
        ),
        (
            format!(r#"{{"Statement":{{"Effect":"Allow","Action":"*","NotResource":"{ARN}:topic/${{}}"}}}}"#),
            "Statement[0].NotResource: empty policy variable",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}}"#.into(),
            "Statement[0].Condition: unknown condition operator \"StringEqualz\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"a:b":"c"}}}}"#.into(),
            "unknown condition operator \"BinaryEquals\"",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a:b":"true"}}}}"#.into(),
            "unknown condition operator",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"aws:EpochTime":"soon"}}}}"#.into(),
            "Statement[0].Condition.NumericLessThan.aws:EpochTime: \"soon\" is not a number",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}"#.into(),
            "is not an IP address or CIDR block",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-02-30"}}}}"#.into(),
            "is not a date",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"yes"}}}}"#.into(),
            "is not true or false",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":{"a":1}}}}}"#.into(),
            "condition values are strings",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}}}"#.into(),
            "takes an object of context keys",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}}"#.into(),
            "Condition must be an object",
        ),
    ];
    for (text, want) in cases {
        let err = PolicyDocument::parse(&text).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{text}\n  gave: {err}\n  want: {want}"
        );
        let e: crate::Error = err.into();
        assert_eq!(e.code(), "MalformedPolicyException");
    }
}

#[test]
fn length_and_nesting_are_bounded_before_and_by_parsing() {
    // White space does not count.
    let padded = format!(
        "{{\"Statement\":[{}]}}{}",
        stmt("Allow", "iot:Connect", "*"),
        " ".repeat(100_000)
    );
    assert!(PolicyDocument::parse(&padded).is_ok());
    let with_sid = |n: usize| {
        format!(
            r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Sid":"{}"}}}}"#,
            "a".repeat(n)
        )
    };
    let base = with_sid(0).len();
    let at_limit = with_sid(MAX_POLICY_DOCUMENT_CHARS - base);
    assert_eq!(at_limit.len(), 2048);
    assert!(PolicyDocument::parse(&at_limit).is_ok());
    let over = with_sid(MAX_POLICY_DOCUMENT_CHARS - base + 1);
    assert_eq!(
        PolicyDocument::parse(&over).unwrap_err(),
        PolicyError::TooLong {
            len: 2049,
            max: 2048
        }
    );
    // A 1 MB document is refused by its length, before JSON parsing (it is not even JSON).
    let huge = "x".repeat(1 << 20);
    assert_eq!(
        PolicyDocument::parse(&huge).unwrap_err(),
        PolicyError::TooLong {
            len: 1 << 20,
            max: 2048
        }
    );
    // Deep nesting within the length limit: serde_json's recursion limit answers.
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    assert!(matches!(
        PolicyDocument::parse(&deep),
        Err(PolicyError::Json(_))
    ));
}

#[test]
fn what_aws_accepts_parses() {
    for text in [
        r#"{"Statement":[]}"#.to_string(),
        r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"s","Effect":"Deny","NotAction":"iot:Publish","NotResource":["*"]}}"#.into(),
        format!(r#"{{"Statement":{{"Effect":"Allow","Action":["iot:*","greengrass:*","iotjobsdata:DescribeJobExecution"],"Resource":"{ARN}:topic/$aws/things/${{iot:Connection.Thing.ThingName}}/shadow/*"}}}}"#),
        format!(r#"{{"Statement":{{"Effect":"Allow","Action":"iot:Publish","Resource":"{ARN}:topic/${{iot:Thing.ThingName}}/$(*)/${{?}}"}}}}"#),
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]},"StringEquals":{"some:UnknownKey":["a",1,true]},"DateLessThanIfExists":{"aws:CurrentTime":"${iot:ClientId}"}}}}"#.into(),
    ] {
        PolicyDocument::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    }
}

#[test]
fn deny_beats_allow_across_policies_and_default_is_deny() {
    let allow = policy(&[stmt("Allow", "iot:*", "*")]);
    let deny = policy(&[stmt(
        "Deny",
        "iot:Publish",
        &format!("{ARN}:topic/secret/*"),
    )]);
    let ctx = ctx();
    let both = [("allow", &allow), ("deny", &deny)];
    decides(
        &both,
        &ctx,
        &[
            (Action::Publish, "secret/x", AuthDecision::ExplicitDeny),
            (Action::Publish, "open/x", AuthDecision::Allowed),
        ],
    );
    assert_eq!(
        decide(&[("deny", &deny)], &ctx, Action::Publish, "open/x"),
        AuthDecision::ImplicitDeny
    );
    assert_eq!(
        decide(&[], &ctx, Action::Connect, "c"),
        AuthDecision::ImplicitDeny
    );

    let auth = evaluated(&both, &ctx, Action::Publish, "secret/x");
    assert_eq!(auth.explicit_deny_policies, ["deny"]);
    assert!(auth.allowed_policies.is_empty() && auth.implicit_deny_policies.is_empty());
    assert_eq!(auth.deciding_statements[0].policy_name, "deny");
    let auth = evaluated(&both, &ctx, Action::Publish, "open/x");
    assert_eq!(auth.allowed_policies, ["allow"]);
    let auth = evaluated(
        &[("deny", &deny), ("allow2", &deny)],
        &ctx,
        Action::Publish,
        "o",
    );
    assert_eq!(auth.implicit_deny_policies, ["deny", "allow2"]);
    let compiled = CompiledPolicies::compile(&both, &ctx);
    assert_eq!(
        compiled.check_detailed(Action::Publish, "secret/1", ctx.now),
        (AuthDecision::ExplicitDeny, Some("deny"))
    );
}

#[test]
fn resources_are_matched_as_full_arns() {
    let p = policy(&[stmt(
        "Allow",
        "iot:Publish",
        "arn:aws:iot:us-east-1:123456789012:topic/a/*",
    )]);
    let docs = [("p", &p)];
    let c = ctx();
    decides(
        &docs,
        &c,
        &[
            (Action::Publish, "a/b/c", AuthDecision::Allowed),
            (Action::Receive, "a/b", AuthDecision::ImplicitDeny),
        ],
    );
    // Another region or account does not match.
    let other = AuthContext::new(Scope::new("123456789012", "eu-west-1").unwrap(), c.now);
    assert_eq!(
        decide(&docs, &other, Action::Publish, "a/b"),
        AuthDecision::ImplicitDeny
    );
    // topicfilter and topic are different resource types.
    let f = policy(&[stmt(
        "Allow",
        "iot:Subscribe",
        &format!("{ARN}:topicfilter/some/+/topic"),
    )]);
    let docs = [("f", &f)];
    decides(
        &docs,
        &c,
        &[
            (Action::Subscribe, "some/+/topic", AuthDecision::Allowed),
            (
                Action::Subscribe,
                "some/x/topic",
                AuthDecision::ImplicitDeny,
            ),
            (Action::Publish, "some/+/topic", AuthDecision::ImplicitDeny),
        ],
    );
    // `*` as the whole resource covers every action, ListRetainedMessages included.
    let all = policy(&[stmt("Allow", "iot:ListRetainedMessages", "*")]);
    assert_eq!(
        decide(&[("a", &all)], &c, Action::ListRetainedMessages, "ignored"),
        AuthDecision::Allowed
    );
}

#[test]
fn not_action_and_not_resource() {
    let p = policy(&[
        format!(r#"{{"Effect":"Allow","NotAction":"iot:Publish","Resource":"{ARN}:topic/*"}}"#),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Publish","NotResource":"{ARN}:topic/a/restricted/*"}}"#
        ),
    ]);
    let docs = [("p", &p)];
    let c = ctx();
    decides(
        &docs,
        &c,
        &[
            (Action::Receive, "x", AuthDecision::Allowed),
            (Action::Publish, "a/open", AuthDecision::Allowed),
            (
                Action::Publish,
                "a/restricted/x",
                AuthDecision::ImplicitDeny,
            ),
        ],
    );
    // NotResource covers resources of other types too.
    assert_eq!(
        decide(&docs, &c, Action::Publish, "x"),
        AuthDecision::Allowed
    );
}

#[test]
fn substituted_values_are_literal_text() {
    // AWS: a client connecting with client id `+` gets the filter `my/+/topic`; the
    // substituted `+` is a literal character, and so is a `*`.
    let p = policy(&[
        stmt(
            "Allow",
            "iot:Subscribe",
            &format!("{ARN}:topicfilter/my/${{iot:ClientId}}/topic"),
        ),
        stmt(
            "Allow",
            "iot:Publish",
            &format!("{ARN}:topic/${{iot:ClientId}}"),
        ),
    ]);
    let docs = [("p", &p)];
    let plus = ctx().with_client_id("+");
    decides(
        &docs,
        &plus,
        &[
            (Action::Subscribe, "my/+/topic", AuthDecision::Allowed),
            (Action::Subscribe, "my/x/topic", AuthDecision::ImplicitDeny),
        ],
    );
    let star = ctx().with_client_id("*");
    decides(
        &docs,
        &star,
        &[
            (Action::Publish, "*", AuthDecision::Allowed),
            (Action::Publish, "anything", AuthDecision::ImplicitDeny),
        ],
    );
    // No client id: the pattern matches nothing, and the key is reported missing.
    let none = ctx();
    assert_eq!(
        decide(&docs, &none, Action::Publish, "${iot:ClientId}"),
        AuthDecision::ImplicitDeny
    );
    denied_for_missing(&docs, &none, Action::Publish, "x", &["iot:ClientId"]);
}

fn cert(subject: &[(DnAttribute, &str)]) -> CertificateAttributes {
    CertificateAttributes {
        subject: subject.iter().map(|(a, v)| (*a, v.to_string())).collect(),
        serial_number: Some("10525622389124227206".into()),
        ..Default::default()
    }
}

#[test]
fn certificate_variables_follow_aws_limits() {
    let p = policy(&[stmt("Allow", "iot:Publish", &format!("{ARN}:topic/${{iot:Certificate.Subject.CommonName}}/${{iot:Certificate.Subject.CommonName.1}}"))]);
    let docs = [("p", &p)];
    let cn = DnAttribute::CommonName;
    let two = ctx().with_certificate_attributes(cert(&[(cn, "a"), (cn, "b")]));
    assert_eq!(
        decide(&docs, &two, Action::Publish, "a/b"),
        AuthDecision::Allowed
    );
    // A missing index: no substitution, authorization fails.
    let one = ctx().with_certificate_attributes(cert(&[(cn, "a")]));
    denied_for_missing(
        &docs,
        &one,
        Action::Publish,
        "a/a",
        &["iot:Certificate.Subject.CommonName.1"],
    );
    // A wildcard character: the variable text stays in the policy.
    let p = policy(&[stmt(
        "Allow",
        "iot:Publish",
        &format!("{ARN}:topic/${{iot:Certificate.Subject.CommonName}}"),
    )]);
    let docs = [("p", &p)];
    for bad in ["a*", "a+", "a#", "a?", "a$"] {
        let c = ctx().with_certificate_attributes(cert(&[(cn, bad)]));
        assert_eq!(
            decide(&docs, &c, Action::Publish, bad),
            AuthDecision::ImplicitDeny,
            "{bad}"
        );
        decides(
            &docs,
            &c,
            &[
                (Action::Publish, "anything", AuthDecision::ImplicitDeny),
                (
                    Action::Publish,
                    "${iot:Certificate.Subject.CommonName}",
                    AuthDecision::Allowed,
                ),
            ],
        );
    }
    // Longer than 1,024 characters: likewise.
    let long = "x".repeat(1025);
    let c = ctx().with_certificate_attributes(cert(&[(cn, &long)]));
    assert_eq!(
        decide(&docs, &c, Action::Publish, &long),
        AuthDecision::ImplicitDeny
    );
    let ok = "x".repeat(1024);
    let c = ctx().with_certificate_attributes(cert(&[(cn, &ok)]));
    assert_eq!(
        decide(&docs, &c, Action::Publish, &ok),
        AuthDecision::Allowed
    );
    // Special characters are escaped with a backslash.
    let c = ctx().with_certificate_attributes(cert(&[(cn, "a=b")]));
    decides(
        &docs,
        &c,
        &[
            (Action::Publish, "a\\=b", AuthDecision::Allowed),
            (Action::Publish, "a=b", AuthDecision::ImplicitDeny),
        ],
    );
    // Only five values count.
    let p = policy(&[stmt(
        "Allow",
        "iot:Publish",
        &format!("{ARN}:topic/${{iot:Certificate.Subject.CommonName.5}}"),
    )]);
    let six: Vec<(DnAttribute, &str)> = ["0", "1", "2", "3", "4", "5"]
        .iter()
        .map(|v| (cn, *v))
        .collect();
    let c = ctx().with_certificate_attributes(cert(&six));
    assert_eq!(
        decide(&[("p", &p)], &c, Action::Publish, "5"),
        AuthDecision::ImplicitDeny
    );
}

#[test]
fn thing_variables_resolve_only_when_attached() {
    let p = policy(&[format!(
        r#"{{"Effect":"Allow","Action":"iot:Connect","Resource":"{ARN}:client/${{iot:Connection.Thing.ThingName}}","Condition":{{"Bool":{{"iot:Connection.Thing.IsAttached":"true"}}}}}}"#
    )]);
    let docs = [("p", &p)];
    let attached = ctx()
        .with_client_id("t1")
        .with_thing(ThingContext::attached("t1"));
    assert_eq!(
        decide(&docs, &attached, Action::Connect, "t1"),
        AuthDecision::Allowed
    );
    let mut loose = ThingContext::attached("t1");
    loose.is_attached = false;
    let unattached = ctx().with_client_id("t1").with_thing(loose);
    let thing_name = ["iot:Connection.Thing.ThingName"];
    denied_for_missing(&docs, &unattached, Action::Connect, "t1", &thing_name);
    let nothing = ctx().with_client_id("t1");
    // The resource cannot match without the thing name, so the condition key is not
    // reported; with the resource `*`, it is.
    denied_for_missing(&docs, &nothing, Action::Connect, "t1", &thing_name);
    let p = policy(&[
        r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}}"#.to_string(),
    ]);
    denied_for_missing(
        &[("p", &p)],
        &nothing,
        Action::Connect,
        "t1",
        &["iot:Connection.Thing.IsAttached"],
    );
}

#[test]
fn clock_conditions_are_checked_at_each_request() {
    let p = policy(&[format!(
        r#"{{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{{"DateLessThan":{{"aws:CurrentTime":"2026-06-01T00:00:10Z"}},"NumericGreaterThanEquals":{{"aws:EpochTime":"{}"}}}}}}"#,
        NOW
    )]);
    let docs = [("p", &p)];
    let c = ctx();
    let compiled = CompiledPolicies::compile(&docs, &c);
    for (secs, want) in [
        (NOW - 1, AuthDecision::ImplicitDeny),
        (NOW, AuthDecision::Allowed),
        (NOW + 9, AuthDecision::Allowed),
        (NOW + 10, AuthDecision::ImplicitDeny),
    ] {
        let now = Timestamp::from_unix_secs(secs);
        assert_eq!(compiled.check(Action::Publish, "t", now), want, "{secs}");
        let at = c.clone().at(now);
        assert_eq!(evaluated(&docs, &at, Action::Publish, "t").decision, want);
    }
}

#[test]
fn source_ip_domain_and_connect_attributes() {
    let p = policy(&[
        r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"iot:DomainName":"iot.example.com"},"ForAllValues:StringEquals":{"iot:ConnectAttributes":["LastWill"]}}}"#.to_string(),
    ]);
    let docs = [("p", &p)];
    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    let good = ctx().with_source_ip(ip).with_domain_name("iot.example.com");
    for (what, c, want) in [
        ("good", good.clone(), AuthDecision::Allowed),
        (
            "will",
            good.clone().with_connect_attributes(["LastWill"]),
            AuthDecision::Allowed,
        ),
        (
            "persistent",
            good.clone()
                .with_connect_attributes(["LastWill", "PersistentConnect"]),
            AuthDecision::ImplicitDeny,
        ),
        (
            "far",
            good.clone().with_source_ip("192.168.1.1".parse().unwrap()),
            AuthDecision::ImplicitDeny,
        ),
        (
            "other domain",
            good.with_domain_name("other.example.com"),
            AuthDecision::ImplicitDeny,
        ),
    ] {
        assert_eq!(decide(&docs, &c, Action::Connect, "c"), want, "{what}");
    }
}

#[test]
fn certificate_attributes_come_from_a_certificate() {
    use rcgen::string::Ia5String;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType, SerialNumber};
    let mut params = CertificateParams::new(vec!["device.example.com".into()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "LightBulb Device Cert");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "IoT Devices");
    params
        .distinguished_name
        .push(DnType::CustomDnType(vec![2, 5, 4, 43]), "ZZ");
    params
        .subject_alt_names
        .push(SanType::IpAddress("1.2.3.4".parse().unwrap()));
    params.subject_alt_names.push(SanType::URI(
        Ia5String::try_from("urn:ResourceIdentifier001").unwrap(),
    ));
    params.serial_number = Some(SerialNumber::from_slice(&[
        0x00, 0x92, 0x12, 0x85, 0xcb, 0xb7, 0xa5, 0xe0, 0x86,
    ]));
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    let cert = crate::Certificate::from_pem(&pem).unwrap();
    let attrs = CertificateAttributes::from_certificate(&cert);
    assert_eq!(attrs.serial_number.as_deref(), Some("10525622389124227206"));
    for (attribute, value) in [
        (DnAttribute::CommonName, "LightBulb Device Cert"),
        (DnAttribute::Organization, "IoT Devices"),
        (DnAttribute::Initials, "ZZ"),
    ] {
        let entry = (attribute, value.to_string());
        assert!(attrs.subject.contains(&entry), "{entry:?}");
    }
    for (kind, value) in [
        (AltNameKind::DnsName, "device.example.com"),
        (AltNameKind::IpAddress, "1.2.3.4"),
        (
            AltNameKind::UniformResourceIdentifier,
            "urn:ResourceIdentifier001",
        ),
    ] {
        let entry = (kind, value.to_string());
        assert!(
            attrs.subject_alternative_names.contains(&entry),
            "{entry:?}"
        );
    }
    assert_eq!(attrs.certificate_id, Some(cert.id().to_string()));
    let keys = attrs.available_keys();
    assert!(keys.contains(&"iot:Certificate.Subject.CommonName".to_string()));
    assert!(keys.contains(&"iot:Certificate.Subject.AlternativeName.DNSName".to_string()));
    assert!(!keys.contains(&"iot:Certificate.Subject.Title".to_string()));

    let p = policy(&[
        stmt(
            "Allow",
            "iot:Connect",
            &format!("{ARN}:client/${{iot:Certificate.SerialNumber}}"),
        ),
        format!(
            r#"{{"Effect":"Allow","Action":"iot:Publish","Resource":"{ARN}:topic/${{iot:CertificateId}}","Condition":{{"ForAnyValue:StringEquals":{{"iot:Certificate.AvailableKeys":"iot:Certificate.Subject.Initials"}}}}}}"#
        ),
    ]);
    let docs = [("p", &p)];
    let c = ctx().with_certificate(&cert);
    let id = cert.id().to_string();
    decides(
        &docs,
        &c,
        &[
            (
                Action::Connect,
                "10525622389124227206",
                AuthDecision::Allowed,
            ),
            (Action::Publish, &id, AuthDecision::Allowed),
        ],
    );
}

#[test]
fn simulate_checks_its_input() {
    use serde_json::json;
    let ctx = json!({"region": "us-east-1", "account": "123456789012", "now": 0});
    let good_policy = json!({"policyName": "p", "policyDocument": r#"{"Statement":[]}"#});
    let info = json!({"actionType": "CONNECT", "resources": [format!("{ARN}:client/c")]});
    let ok =
        simulate(&json!({"policies": [good_policy], "context": ctx, "authInfos": [info]})).unwrap();
    assert_eq!(ok["authResults"][0]["authDecision"], "IMPLICIT_DENY");
    assert_eq!(
        ok["authResults"][0]["denied"]["implicitDeny"]["policies"][0]["policyArn"],
        format!("{ARN}:policy/p")
    );
    for (input, code) in [
        (
            json!({"policies": [], "context": ctx, "authInfos": []}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": ctx, "authInfos": [info], "x": 1}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": {"region": "us-east-1", "account": "1", "now": 0}, "authInfos": [info]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": {"region": "us-east-1", "account": "123456789012"}, "authInfos": [info]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": ctx, "authInfos": [{"actionType": "FLY", "resources": ["*"]}]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": ctx, "authInfos": [{"actionType": "CONNECT", "resources": []}]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [good_policy, good_policy], "context": ctx, "authInfos": [info]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [{"policyName": "bad name", "policyDocument": "{}"}], "context": ctx, "authInfos": [info]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [{"policyName": "p", "policyDocument": "{}"}], "context": ctx, "authInfos": [info]}),
            "MalformedPolicyException",
        ),
        (
            json!({"policies": [{"policyName": "p", "policyDocument": 3}], "context": ctx, "authInfos": [info]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": {"region": "us-east-1", "account": "123456789012", "now": 0, "sourceIp": "x"}, "authInfos": [info]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": {"region": "us-east-1", "account": "123456789012", "now": 0, "certificate": {"subject": {"Locality": "x"}}}, "authInfos": [info]}),
            "InvalidRequestException",
        ),
        (
            json!({"policies": [], "context": {"region": "us-east-1", "account": "123456789012", "now": 0, "certificatePem": "x"}, "authInfos": [info]}),
            "CertificateValidationException",
        ),
        ("x".into(), "InvalidRequestException"),
    ] {
        let err = simulate(&input).unwrap_err();
        assert_eq!(err.code(), code, "{input}: {err}");
    }
    let eleven: Vec<_> = (0..11).map(|_| info.clone()).collect();
    assert!(simulate(&json!({"policies": [], "context": ctx, "authInfos": eleven})).is_err());
}

#[test]
fn simulate_names_the_statements_that_decided() {
    use serde_json::json;
    let ctx = json!({"region": "us-east-1", "account": "123456789012", "now": 0, "clientId": "c1"});
    let allow = json!({"policyName": "allow", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "*"},
        {"Sid": "pub", "Effect": "Allow", "Action": "iot:Publish", "Resource": format!("{ARN}:topic/a/*")},
        {"Effect": "Allow", "Action": "iot:*", "Resource": format!("{ARN}:topic/a/b")}]}});
    let deny = json!({"policyName": "deny", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Sid": "no-secrets", "Effect": "Deny", "Action": "iot:Publish", "Resource": format!("{ARN}:topic/a/secret")}]}});
    let decide = |topics: &[&str]| {
        let resources: Vec<String> = topics.iter().map(|t| format!("{ARN}:topic/{t}")).collect();
        let out = simulate(&json!({"policies": [deny, allow], "context": ctx,
            "authInfos": [{"actionType": "PUBLISH", "resources": resources}]}))
        .unwrap();
        let r = &out["authResults"][0];
        (r["authDecision"].clone(), r["decidingStatements"].clone())
    };
    assert_eq!(
        decide(&["a/b", "a/c"]),
        (
            json!("ALLOWED"),
            json!([{"policyName": "allow", "index": 1, "sid": "pub"},
                   {"policyName": "allow", "index": 2, "sid": null}])
        )
    );
    assert_eq!(
        decide(&["a/secret"]),
        (
            json!("EXPLICIT_DENY"),
            json!([{"policyName": "deny", "index": 0, "sid": "no-secrets"}])
        )
    );
    assert_eq!(decide(&["b"]), (json!("IMPLICIT_DENY"), json!([])));
    // One resource allowed and one not: implicitly denied, by no statement.
    assert_eq!(decide(&["a/b", "b"]), (json!("IMPLICIT_DENY"), json!([])));
}

// ---- compiled == fresh, on random policies, contexts and requests ----

fn arb_resource() -> impl Strategy<Value = String> {
    let head = prop_oneof![
        Just("*".to_string()),
        (
            prop::sample::select(vec!["us-east-1", "*", "us-?ast-1", "eu-west-1"]),
            prop::sample::select(vec!["123456789012", "*", "12345678901?"]),
            prop::sample::select(vec![
                "topic/",
                "topicfilter/",
                "client/",
                "*",
                "top*",
                "thing/"
            ]),
        )
            .prop_map(|(r, a, t)| format!("arn:aws:iot:{r}:{a}:{t}")),
    ];
    let piece = prop::sample::select(vec![
        "a",
        "b",
        "/",
        "*",
        "?",
        "+",
        "#",
        ":",
        "$(*)",
        "é",
        "è",
        "${?}",
        "${iot:ClientId}",
        "${iot:Connection.Thing.ThingName}",
        "${iot:Certificate.Subject.CommonName}",
        "${iot:Certificate.Subject.CommonName.1}",
        "${iot:Connection.Thing.Attributes[k]}",
        "${nope:Nope}",
        "${aws:CurrentTime}",
        "${iot:Certificate.Subject.CommonName.List}",
    ]);
    (head, prop::collection::vec(piece, 0..4)).prop_map(|(h, ps)| {
        if h == "*" && !ps.is_empty() {
            format!("arn:aws:iot:*:*:{}", ps.concat())
        } else {
            format!("{h}{}", ps.concat())
        }
    })
}

fn arb_condition() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        prop::sample::select(vec![
            r#"{"StringEquals":{"iot:ClientId":"a"}}"#,
            r#"{"StringLike":{"iot:ClientId":["a*","${iot:Connection.Thing.ThingName}"]}}"#,
            r#"{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}"#,
            r#"{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:05Z"}}"#,
            r#"{"NumericGreaterThan":{"aws:EpochTime":"1780272002"}}"#,
            r#"{"StringLikeIfExists":{"aws:CurrentTime":"2026-06-01T00:00:0*"}}"#,
            r#"{"Null":{"iot:Certificate.Subject.CommonName":"false"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{"StringNotEquals":{"iot:DomainName":"x.example.com"}}"#,
            r#"{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":"LastWill"}}"#,
            r#"{"ForAllValues:StringLike":{"iot:Certificate.Subject.CommonName.List":["a*","b"]}}"#,
            r#"{"StringEquals":{"nope:Nope":"x"}}"#,
            r#"{"StringNotLike":{"nope:Nope":"x"}}"#,
        ])
        .prop_map(str::to_string),
    )
}

fn arb_statement() -> impl Strategy<Value = String> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::collection::vec(
            prop::sample::select(vec![
                "iot:Connect",
                "iot:Publish",
                "iot:Subscribe",
                "iot:Receive",
                "iot:*",
                "iot:Pub*",
                "*",
                "iot:RetainPublish",
                "iot:?eceive",
                "iot:ListRetainedMessages",
            ]),
            1..3,
        ),
        prop::bool::weighted(0.2),
        prop::collection::vec(arb_resource(), 1..3),
        arb_condition(),
    )
        .prop_map(
            |(deny, not_action, actions, not_resource, resources, condition)| {
                let list = |v: Vec<String>| serde_json::to_string(&v).unwrap();
                let actions: Vec<String> = actions.into_iter().map(str::to_string).collect();
                let mut s = format!(
                    r#"{{"Effect":"{}","{}":{},"{}":{}"#,
                    if deny { "Deny" } else { "Allow" },
                    if not_action { "NotAction" } else { "Action" },
                    list(actions),
                    if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    },
                    list(resources),
                );
                if let Some(c) = condition {
                    s.push_str(&format!(r#","Condition":{c}"#));
                }
                s.push('}');
                s
            },
        )
}

fn arb_context() -> impl Strategy<Value = AuthContext> {
    (
        prop::option::of(prop::sample::select(vec![
            "a", "ab", "a/b", "+", "*", "", "b",
        ])),
        prop::option::of((prop::sample::select(vec!["a", "b"]), prop::bool::ANY)),
        prop::option::of(prop::collection::vec(
            prop::sample::select(vec!["a", "b*", "x", "a=b"]),
            0..3,
        )),
        prop::sample::select(vec!["10.0.0.1", "11.0.0.1"]),
        prop::option::of(prop::sample::select(vec!["x.example.com", "y.example.com"])),
        prop::collection::vec(
            prop::sample::select(vec!["LastWill", "PersistentConnect"]),
            0..2,
        ),
    )
        .prop_map(|(client, thing, cns, ip, domain, attrs)| {
            let mut c = ctx()
                .with_source_ip(ip.parse().unwrap())
                .with_connect_attributes(attrs);
            c.client_id = client.map(str::to_string);
            c.domain_name = domain.map(str::to_string);
            if let Some((name, attached)) = thing {
                let mut t = ThingContext::attached(name);
                t.is_attached = attached;
                t.attributes.insert("k".into(), "a".into());
                c.thing = Some(t);
            }
            if let Some(cns) = cns {
                c.certificate = Some(cert(
                    &cns.iter()
                        .map(|v| (DnAttribute::CommonName, *v))
                        .collect::<Vec<_>>(),
                ));
            }
            c
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn compiled_agrees_with_fresh_evaluation(
        policies in prop::collection::vec(prop::collection::vec(arb_statement(), 0..4), 1..3),
        context in arb_context(),
        requests in prop::collection::vec((
            prop::sample::select(vec![
                Action::Connect, Action::Publish, Action::Subscribe, Action::Receive,
                Action::RetainPublish, Action::ListRetainedMessages,
            ]),
            prop::collection::vec(prop::sample::select(vec!["a", "b", "/", "*", "+", ":", "é", "è", "${iot:Certificate.Subject.CommonName}", ":123456789012:topic/"]), 0..4),
            0i64..8,
        ), 1..8),
    ) {
        let docs: Vec<PolicyDocument> = policies
            .iter()
            .map(|st| doc(&format!(r#"{{"Statement":[{}]}}"#, st.join(","))))
            .collect();
        let names = ["p0", "p1", "p2"];
        let named: Vec<(&str, &PolicyDocument)> = docs.iter().enumerate().map(|(i, d)| (names[i], d)).collect();
        let compiled = CompiledPolicies::compile(&named, &context);
        let some = [Action::Connect, Action::Publish, Action::Receive];
        let compiled_some = CompiledPolicies::compile_for(&named, &context, &some);
        for (action, parts, dt) in requests {
            let name = parts.concat();
            let now = Timestamp::from_unix_secs(NOW + dt);
            let at = context.clone().at(now);
            let fresh = evaluate(&named, &Request::for_name(action, &name, &at), &at);
            let (fast, policy) = compiled.check_detailed(action, &name, now);
            // Compiled for some actions: the same answers for those, none for the rest.
            let (partial, partial_policy) = compiled_some.check_detailed(action, &name, now);
            if some.contains(&action) {
                prop_assert_eq!((partial, partial_policy), (fast, policy), "{} {:?}", action, name);
            } else {
                prop_assert_eq!((partial, partial_policy), (AuthDecision::ImplicitDeny, None));
            }
            prop_assert_eq!(fresh.decision, fast, "{} {:?}", action, name);
            match fast {
                AuthDecision::Allowed => prop_assert!(fresh.allowed_policies.iter().any(|p| Some(p.as_str()) == policy)),
                AuthDecision::ExplicitDeny => prop_assert!(fresh.explicit_deny_policies.iter().any(|p| Some(p.as_str()) == policy)),
                AuthDecision::ImplicitDeny => prop_assert_eq!(policy, None),
            }
        }
    }
}
