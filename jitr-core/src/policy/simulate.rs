//! The JSON entry point every front end wraps: policies, a context and TestAuthorization's
//! `authInfos` in, TestAuthorization's `authResults` out.

use serde::Deserialize;
use serde_json::{json, Value};

use super::action::Action;
use super::context::AuthContext;
use super::document::PolicyDocument;
use super::evaluate::{evaluate, AuthDecision, Request, StatementRef};
use crate::registry::validate_policy_name;
use crate::Error;

/// TestAuthorization takes 1 to 10 `authInfos`.
const MAX_AUTH_INFOS: usize = 10;
/// A resource in an `authInfo` is at most 2,048 characters (botocore's `Resource`).
const MAX_RESOURCE_CHARS: usize = 2048;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Input {
    policies: Vec<PolicyInput>,
    context: Value,
    auth_infos: Vec<AuthInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyInput {
    policy_name: String,
    /// The document as a JSON string (as CreatePolicy takes it) or as an object.
    policy_document: Value,
}

/// One of TestAuthorization's `authInfos`: an action type and the resources (ARNs) to
/// check it on.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthInfo {
    /// `CONNECT`, `PUBLISH`, `SUBSCRIBE`, `RECEIVE`, `RETAIN_PUBLISH` or an action name.
    pub action_type: String,
    /// Full resource ARNs.
    pub resources: Vec<String>,
}

/// Decides TestAuthorization-style requests against policies, offline.
///
/// Input: `{"policies": [{"policyName", "policyDocument"}], "context": {...},
/// "authInfos": [{"actionType", "resources": [ARN, ...]}]}` where `policyDocument` is
/// the document as a string (or as a JSON object), `context` is
/// [`AuthContext::from_json`]'s form, and `actionType` is `CONNECT`, `PUBLISH`,
/// `SUBSCRIBE`, `RECEIVE`, `RETAIN_PUBLISH` or an action name (`iot:GetThingShadow`).
///
/// Output: `{"authResults": [{"authInfo", "allowed": {"policies"}, "denied":
/// {"explicitDeny": {"policies"}, "implicitDeny": {"policies"}}, "authDecision",
/// "missingContextValues", "decidingStatements"}]}`, one per `authInfo`, policies as
/// `{"policyName", "policyArn"}`. An `authInfo` with several resources is allowed only if
/// every resource is; an explicit deny of any resource makes it `EXPLICIT_DENY`.
///
/// `decidingStatements` is jitr's addition to TestAuthorization's shape: the statements
/// that decided, as `{"policyName", "index", "sid"}` (`index` 0-based in the policy's
/// `Statement`, `sid` null when absent): the denying statements of an `EXPLICIT_DENY`,
/// the allowing ones of an `ALLOWED`, none for an `IMPLICIT_DENY`; each once, in policy
/// and statement order.
///
/// A malformed document is a `MalformedPolicyException`; anything else wrong with the
/// input is an `InvalidRequestException`.
///
/// ```
/// use serde_json::json;
/// let out = jitr_core::policy::simulate(&json!({
///     "policies": [{"policyName": "p", "policyDocument": {"Version": "2012-10-17", "Statement": [
///         {"Effect": "Allow", "Action": "iot:Connect",
///          "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}"}]}}],
///     "context": {"region": "us-east-1", "account": "123456789012", "now": 0, "clientId": "c1"},
///     "authInfos": [{"actionType": "CONNECT",
///                    "resources": ["arn:aws:iot:us-east-1:123456789012:client/c1"]}]
/// }))?;
/// assert_eq!(out["authResults"][0]["authDecision"], "ALLOWED");
/// assert_eq!(out["authResults"][0]["allowed"]["policies"][0]["policyName"], "p");
/// assert_eq!(out["authResults"][0]["decidingStatements"][0], json!({"policyName": "p", "index": 0, "sid": null}));
/// # Ok::<(), jitr_core::Error>(())
/// ```
pub fn simulate(input: &Value) -> Result<Value, Error> {
    let input = Input::deserialize(input)
        .map_err(|e| Error::InvalidRequest(format!("invalid simulation input: {e}")))?;
    let ctx = AuthContext::from_json(&input.context)?;
    let mut docs: Vec<(String, PolicyDocument)> = Vec::with_capacity(input.policies.len());
    for p in input.policies {
        validate_policy_name(&p.policy_name)?;
        if docs.iter().any(|(n, _)| *n == p.policy_name) {
            return Err(Error::InvalidRequest(format!(
                "the policy {} is given twice",
                p.policy_name
            )));
        }
        let text = match &p.policy_document {
            Value::String(s) => s.clone(),
            Value::Object(_) => p.policy_document.to_string(),
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "the policyDocument of {} is a string or an object",
                    p.policy_name
                )))
            }
        };
        let doc = PolicyDocument::parse(&text)
            .map_err(|e| Error::MalformedPolicy(format!("the policy {}: {e}", p.policy_name)))?;
        docs.push((p.policy_name, doc));
    }
    let policies: Vec<(&str, &PolicyDocument)> =
        docs.iter().map(|(n, d)| (n.as_str(), d)).collect();
    results(&policies, &input.auth_infos, &ctx, true)
}

/// TestAuthorization's answer for `infos` against `policies` in `ctx`: what [`simulate`]
/// and [`Registry::test_authorization`](crate::Registry::test_authorization) return.
pub(crate) fn auth_results(
    policies: &[(&str, &PolicyDocument)],
    infos: &[AuthInfo],
    ctx: &AuthContext,
) -> Result<Value, Error> {
    results(policies, infos, ctx, false)
}

/// [`auth_results`], with each result's `decidingStatements` when `statements` is set.
fn results(
    policies: &[(&str, &PolicyDocument)],
    infos: &[AuthInfo],
    ctx: &AuthContext,
    statements: bool,
) -> Result<Value, Error> {
    if infos.is_empty() || infos.len() > MAX_AUTH_INFOS {
        return Err(Error::InvalidRequest(format!(
            "authInfos has 1 to {MAX_AUTH_INFOS} items, not {}",
            infos.len()
        )));
    }
    let mut out = Vec::with_capacity(infos.len());
    for info in infos {
        let action: Action = info.action_type.parse()?;
        if info.resources.is_empty() {
            return Err(Error::InvalidRequest(
                "an authInfo needs at least one resource".into(),
            ));
        }
        if let Some(r) = info
            .resources
            .iter()
            .find(|r| r.chars().count() > MAX_RESOURCE_CHARS)
        {
            return Err(Error::InvalidRequest(format!(
                "a resource is at most {MAX_RESOURCE_CHARS} characters, not {}",
                r.chars().count()
            )));
        }
        let auths: Vec<_> = info
            .resources
            .iter()
            .map(|r| evaluate(policies, &Request::new(action, r.clone()), ctx))
            .collect();
        let decision = if auths
            .iter()
            .any(|a| a.decision == AuthDecision::ExplicitDeny)
        {
            AuthDecision::ExplicitDeny
        } else if auths
            .iter()
            .any(|a| a.decision == AuthDecision::ImplicitDeny)
        {
            AuthDecision::ImplicitDeny
        } else {
            AuthDecision::Allowed
        };
        let mut allowed: Vec<&str> = Vec::new();
        let mut explicit: Vec<&str> = Vec::new();
        let mut implicit: Vec<&str> = Vec::new();
        let mut missing: Vec<&str> = Vec::new();
        for a in auths.iter().filter(|a| a.decision == decision) {
            add(&mut allowed, &a.allowed_policies);
            add(&mut explicit, &a.explicit_deny_policies);
            add(&mut implicit, &a.implicit_deny_policies);
        }
        for a in &auths {
            add(&mut missing, &a.missing_context_values);
        }
        missing.sort_unstable();
        let refs = |names: &[&str]| -> Value {
            names
                .iter()
                .map(|n| json!({"policyName": n, "policyArn": ctx.scope.policy_arn(n)}))
                .collect()
        };
        let mut result = json!({
            "authInfo": {"actionType": info.action_type, "resources": info.resources},
            "allowed": {"policies": refs(&allowed)},
            "denied": {
                "implicitDeny": {"policies": refs(&implicit)},
                "explicitDeny": {"policies": refs(&explicit)},
            },
            "authDecision": decision.as_str(),
            "missingContextValues": missing,
        });
        if statements {
            let mut deciding: Vec<&StatementRef> = Vec::new();
            for a in auths.iter().filter(|a| a.decision == decision) {
                for s in &a.deciding_statements {
                    if !deciding.contains(&s) {
                        deciding.push(s);
                    }
                }
            }
            deciding.sort_by_key(|s| {
                let policy = policies.iter().position(|(n, _)| *n == s.policy_name);
                (policy, s.index)
            });
            result["decidingStatements"] = json!(deciding);
        }
        out.push(result);
    }
    Ok(json!({ "authResults": out }))
}

/// Appends the names not yet in `list`.
fn add<'a>(list: &mut Vec<&'a str>, names: &'a [String]) {
    for n in names {
        if !list.contains(&n.as_str()) {
            list.push(n);
        }
    }
}
