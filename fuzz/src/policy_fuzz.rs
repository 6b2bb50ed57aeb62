//! The `policy` target: AWS IoT policy documents and decisions (issue 11).
//!
//! Input: a mode byte, then
//! - even mode: a policy document as text (lossy UTF-8). Parsing never panics; what
//!   `PolicyDocument::parse` refuses, CreatePolicy's `validate_policy_document` refuses
//!   as `MalformedPolicyException`; a parsed document is decided afresh and compiled for
//!   several connections and requests, and the two answers must agree.
//! - odd mode: raw bytes for `arbitrary`: a wildcard pattern and a text over a small
//!   alphabet (wildcards, escapes, MQTT wildcards, braces, `$`, a two-byte character,
//!   NUL), and statements built from parts. The pattern, as a `Resource` and as a
//!   `StringLike` value, must match the text exactly when a simple reference matcher
//!   (dynamic programming over characters, below) says so, in both the fresh and the
//!   compiled decision; the statements' documents must decide the same both ways.

use std::net::IpAddr;

use arbitrary::{Arbitrary, Unstructured};
use jitr_core::policy::{
    evaluate, Action, AuthContext, AuthDecision, CertificateAttributes, CompiledPolicies,
    DnAttribute, PolicyDocument, PolicyError, Request, ThingContext,
};
use jitr_core::{Scope, Timestamp};
use serde_json::{json, Value};

const ARN: &str = "arn:aws:iot:us-east-1:123456789012";
const NOW: i64 = 1_780_272_000;

/// The body.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        document(rest);
    } else {
        structured(rest);
    }
}

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1").expect("a valid scope")
}

/// Connections to decide for: bare; a registered thing with a certificate; a client
/// id and certificate values full of wildcard characters.
fn contexts() -> Vec<AuthContext> {
    let now = Timestamp::from_unix_secs(NOW);
    let bare = AuthContext::new(scope(), now);
    let mut attrs = CertificateAttributes::default();
    attrs.subject = vec![
        (DnAttribute::CommonName, "c1".into()),
        (DnAttribute::Organization, "Org".into()),
        (DnAttribute::Organization, "Other".into()),
    ];
    attrs.serial_number = Some("12345".into());
    let mut thing = ThingContext::attached("c1");
    thing.attributes.insert("floor".into(), "f1".into());
    thing.thing_type_name = Some("lamp".into());
    let ip: IpAddr = "10.1.2.3".parse().expect("an address");
    let thing_ctx = AuthContext::new(scope(), now)
        .with_client_id("c1")
        .with_thing(thing)
        .with_certificate_attributes(attrs)
        .with_source_ip(ip)
        .with_domain_name("iot.example.com")
        .with_connect_attributes(["LastWill"])
        .with_last_will_topic("will/c1");
    let mut wild = CertificateAttributes::default();
    wild.subject = vec![(DnAttribute::CommonName, "a*#".into())];
    let mut loose = ThingContext::attached("+");
    loose.is_attached = false;
    let wild_ctx = AuthContext::new(scope(), now)
        .with_client_id("+")
        .with_certificate_attributes(wild)
        .with_thing(loose);
    vec![bare, thing_ctx, wild_ctx]
}

const ACTIONS: [Action; 8] = [
    Action::Connect,
    Action::Publish,
    Action::Subscribe,
    Action::Receive,
    Action::RetainPublish,
    Action::ListRetainedMessages,
    Action::UpdateThingShadow,
    Action::AssumeRoleWithCertificate,
];

const NAMES: [&str; 5] = ["c1", "a/b", "a/#", "", "$aws/things/c1/shadow/update"];

/// Fresh and compiled decisions agree, for every context, action, name and a few
/// times.
fn agree(policies: &[(&str, &PolicyDocument)], extra_name: &str) {
    for ctx in contexts() {
        let compiled = CompiledPolicies::compile(policies, &ctx);
        for action in ACTIONS {
            for name in NAMES.iter().copied().chain([extra_name]) {
                for dt in [0, 86_400] {
                    let now = Timestamp::from_unix_secs(NOW + dt);
                    let at = ctx.clone().at(now);
                    let fresh = evaluate(policies, &Request::for_name(action, name, &at), &at);
                    let (fast, policy) = compiled.check_detailed(action, name, now);
                    assert_eq!(fresh.decision, fast, "{action} {name:?} at {dt}");
                    let named = |list: &[String]| list.iter().any(|p| Some(p.as_str()) == policy);
                    match fast {
                        AuthDecision::Allowed => assert!(named(&fresh.allowed_policies)),
                        AuthDecision::ExplicitDeny => assert!(named(&fresh.explicit_deny_policies)),
                        AuthDecision::ImplicitDeny => assert_eq!(policy, None),
                    }
                }
            }
        }
    }
}

fn document(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = PolicyDocument::parse(&text);
    match jitr_core::validate_policy_document(&text) {
        Ok(()) => assert!(parsed.is_ok()),
        Err(e) => {
            assert!(parsed.is_err());
            assert_eq!(e.code(), "MalformedPolicyException", "{e:?}");
        }
    }
    if let Ok(doc) = parsed {
        let extra: String = text.chars().rev().take(12).collect();
        agree(&[("p", &doc)], &extra);
    }
}

/// Pattern symbols: wildcards, escapes in both spellings, MQTT wildcards, the pieces of
/// a variable, a two-byte character and NUL.
const PATTERN: [&str; 21] = [
    "a", "b", "/", "*", "?", "+", "#", ":", "$", "(", ")", "{", "}", "$(*)", "$(?)", "$($)",
    "${*}", "${?}", "${$}", "é", "\0",
];
const TEXT: [&str; 15] = [
    "a", "b", "/", "*", "?", "+", "#", ":", "$", "(", ")", "{", "}", "é", "\0",
];

const STATEMENT_ACTIONS: [&str; 8] = [
    "iot:Connect",
    "iot:Publish",
    "iot:Subscribe",
    "iot:*",
    "iot:Pub*",
    "*",
    "iot:?eceive",
    "iot:*Shadow",
];
const HEADS: [&str; 8] = [
    "arn:aws:iot:us-east-1:123456789012:topic/",
    "arn:aws:iot:us-east-1:123456789012:topicfilter/",
    "arn:aws:iot:us-east-1:123456789012:client/",
    "arn:aws:iot:*:*:",
    "arn:aws:iot:us-?ast-1:123456789012:thing/",
    "arn:aws:iot:eu-west-1:123456789012:topic/",
    "arn:aws:iot:us-east-1:123456789012:*",
    "*",
];
const VARIABLES: [&str; 8] = [
    "${iot:ClientId}",
    "${iot:Connection.Thing.ThingName}",
    "${iot:Certificate.Subject.CommonName}",
    "${iot:Certificate.Subject.Organization.1}",
    "${iot:Connection.Thing.Attributes[floor]}",
    "${iot:Thing.ThingName}",
    "${iot:Certificate.Subject.Organization.List}",
    "${aws:CurrentTime}",
];
const CONDITIONS: [&str; 12] = [
    r#"{"StringEquals":{"iot:ClientId":"c1"}}"#,
    r#"{"StringLike":{"iot:Connection.Thing.ThingName":"c*"}}"#,
    r#"{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}"#,
    r#"{"DateLessThan":{"aws:CurrentTime":"2026-06-01T12:00:00Z"}}"#,
    r#"{"NumericGreaterThan":{"aws:EpochTime":"1780272000"}}"#,
    r#"{"Null":{"iot:Certificate.Subject.CommonName":"true"}}"#,
    r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]}}"#,
    r#"{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["LastWill"]}}"#,
    r#"{"ForAnyValue:StringLike":{"iot:Certificate.Subject.Organization.List":"O*"}}"#,
    r#"{"ArnLike":{"iot:LastWillTopic":"arn:aws:iot:*:*:topic/will/*"}}"#,
    r#"{"StringNotEqualsIfExists":{"iot:DomainName":"iot.example.com"}}"#,
    r#"{"StringEquals":{"iot:ClientId":"${iot:Connection.Thing.ThingName}"}}"#,
];

#[derive(Arbitrary, Debug)]
struct Stmt {
    deny: bool,
    not_action: bool,
    actions: Vec<u8>,
    not_resource: bool,
    resources: Vec<(u8, Vec<u8>)>,
    condition: Option<u8>,
}

#[derive(Arbitrary, Debug)]
struct Structured {
    pattern: Vec<u8>,
    text: Vec<u8>,
    statements: Vec<Stmt>,
}

fn spell(symbols: &[u8], alphabet: &[&str]) -> String {
    symbols
        .iter()
        .take(24)
        .map(|b| alphabet[usize::from(*b) % alphabet.len()])
        .collect()
}

fn structured(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = Structured::arbitrary(&mut u) else {
        return;
    };
    let pattern = spell(&input.pattern, &PATTERN);
    let text = spell(&input.text, &TEXT);
    matcher_agrees_with_reference(&pattern, &text);

    let mut statements = Vec::new();
    for s in input.statements.iter().take(6) {
        let pick = |i: &u8, list: &[&'static str]| list[usize::from(*i) % list.len()];
        let actions: Vec<&str> = s
            .actions
            .iter()
            .take(3)
            .map(|a| pick(a, &STATEMENT_ACTIONS))
            .collect();
        let resources: Vec<String> = s
            .resources
            .iter()
            .take(3)
            .map(|(head, tail)| {
                let tail: String = tail
                    .iter()
                    .take(4)
                    .map(|b| {
                        if b % 4 == 0 {
                            VARIABLES[usize::from(b / 4) % VARIABLES.len()]
                        } else {
                            PATTERN[usize::from(*b) % PATTERN.len()]
                        }
                    })
                    .collect();
                let head = pick(head, &HEADS);
                if head == "*" && !tail.is_empty() {
                    format!("{ARN}:{tail}")
                } else {
                    format!("{head}{tail}")
                }
            })
            .collect();
        if actions.is_empty() || resources.is_empty() {
            continue;
        }
        let mut st = json!({"Effect": if s.deny { "Deny" } else { "Allow" }});
        st[if s.not_action { "NotAction" } else { "Action" }] = json!(actions);
        st[if s.not_resource {
            "NotResource"
        } else {
            "Resource"
        }] = json!(resources);
        if let Some(c) = s.condition {
            let c: Value = serde_json::from_str(pick(&c, &CONDITIONS)).expect("a condition");
            st["Condition"] = c;
        }
        statements.push(st);
    }
    let text_doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    match PolicyDocument::parse(&text_doc) {
        Ok(doc) => agree(&[("p", &doc)], &text),
        // Built from valid parts, a document fails only by its length or by a pattern
        // piece the alphabet can spell into a malformed variable (`$` then `{`).
        Err(e) => assert!(
            matches!(e, PolicyError::TooLong { .. }) || text_doc.contains("${"),
            "{e}: {text_doc}"
        ),
    }
}

/// The engine's `*`/`?`/escape matching, as a `Resource` (fresh and compiled) and as a
/// `StringLike` value, against the reference.
fn matcher_agrees_with_reference(pattern: &str, text: &str) {
    let Some(reference) = reference_tokens(pattern) else {
        // A variable or an unbalanced `${`: parsed or refused, never a panic.
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "iot:Publish",
            "Resource": format!("{ARN}:topic/{pattern}")}});
        let _ = PolicyDocument::parse(&doc.to_string());
        return;
    };
    let chars: Vec<char> = text.chars().collect();
    let want = if reference_match(&reference, &chars) {
        AuthDecision::Allowed
    } else {
        AuthDecision::ImplicitDeny
    };
    let now = Timestamp::from_unix_secs(NOW);
    let resource = json!({"Statement": {"Effect": "Allow", "Action": "iot:Publish",
        "Resource": format!("{ARN}:topic/{pattern}")}});
    let like = json!({"Statement": {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*",
        "Condition": {"StringLike": {"iot:ClientId": pattern}}}});
    for (doc, action, ctx) in [
        (resource, Action::Publish, AuthContext::new(scope(), now)),
        (
            like,
            Action::Connect,
            AuthContext::new(scope(), now).with_client_id(text),
        ),
    ] {
        let doc = PolicyDocument::parse(&doc.to_string()).expect("a wildcard pattern parses");
        let policies = [("p", &doc)];
        let fresh = evaluate(&policies, &Request::for_name(action, text, &ctx), &ctx).decision;
        assert_eq!(fresh, want, "{action}: {pattern:?} against {text:?}");
        let compiled = CompiledPolicies::compile(&policies, &ctx).check(action, text, now);
        assert_eq!(
            compiled, want,
            "compiled {action}: {pattern:?} against {text:?}"
        );
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum RefTok {
    Char(char),
    Star,
    One,
}

/// The reference reading of a pattern: `*` and `?` are wildcards; `$(*)`, `$(?)`, `$($)`,
/// `${*}`, `${?}`, `${$}` their literal characters; any other `${` a variable (`None`:
/// not compared); everything else literal.
fn reference_tokens(p: &str) -> Option<Vec<RefTok>> {
    let mut out = Vec::new();
    let mut rest = p;
    while let Some(c) = rest.chars().next() {
        let escape = ["$(*)", "$(?)", "$($)", "${*}", "${?}", "${$}"]
            .iter()
            .find(|e| rest.starts_with(**e));
        if let Some(e) = escape {
            out.push(RefTok::Char(e.chars().nth(2).unwrap_or('$')));
            rest = &rest[4..];
            continue;
        }
        if rest.starts_with("${") {
            return None;
        }
        out.push(match c {
            '*' => RefTok::Star,
            '?' => RefTok::One,
            c => RefTok::Char(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

/// Glob by dynamic programming: `m[i][j]` is whether the first `i` tokens match the
/// first `j` characters.
fn reference_match(p: &[RefTok], t: &[char]) -> bool {
    let mut m = vec![vec![false; t.len() + 1]; p.len() + 1];
    m[0][0] = true;
    for i in 1..=p.len() {
        for j in 0..=t.len() {
            m[i][j] = match p[i - 1] {
                RefTok::Star => m[i - 1][j] || (j > 0 && m[i][j - 1]),
                RefTok::One => j > 0 && m[i - 1][j - 1],
                RefTok::Char(c) => j > 0 && t[j - 1] == c && m[i - 1][j - 1],
            };
        }
    }
    m[p.len()][t.len()]
}
