//! Deciding one request against parsed policies, afresh (no compiled state).

use std::collections::BTreeSet;

use serde::Serialize;

use super::action::Action;
use super::condition::{eval_condition, resolve, BaseOp};
use super::context::AuthContext;
use super::document::{Effect, PolicyDocument, Resources, Statement};
use super::keys::Substitution;
use super::pattern::glob_toks;

/// The decision, with TestAuthorization's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthDecision {
    /// A statement allows the request and none denies it.
    Allowed,
    /// A statement denies the request (whatever any other allows).
    ExplicitDeny,
    /// No statement allows the request: denied by default.
    ImplicitDeny,
}

impl AuthDecision {
    /// `ALLOWED`, `EXPLICIT_DENY` or `IMPLICIT_DENY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "ALLOWED",
            Self::ExplicitDeny => "EXPLICIT_DENY",
            Self::ImplicitDeny => "IMPLICIT_DENY",
        }
    }

    /// Whether the request is allowed.
    pub fn is_allowed(self) -> bool {
        self == Self::Allowed
    }
}

/// One request: an action on a resource ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The action.
    pub action: Action,
    /// The full resource ARN (`arn:aws:iot:us-east-1:123456789012:topic/a/b`), or `*`.
    pub resource: String,
}

impl Request {
    /// An action on a resource ARN.
    pub fn new(action: Action, resource: impl Into<String>) -> Self {
        Self {
            action,
            resource: resource.into(),
        }
    }

    /// An action on a name (topic, topic filter, client id, thing), in the context's
    /// account and region: see [`AuthContext::resource_arn`].
    pub fn for_name(action: Action, name: &str, ctx: &AuthContext) -> Self {
        Self::new(action, ctx.resource_arn(action, name))
    }
}

/// A statement, named by its policy and its index in the policy's `Statement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatementRef {
    /// The policy's name.
    pub policy_name: String,
    /// The statement's index (0-based).
    pub index: usize,
    /// Its `Sid`, if any.
    pub sid: Option<String>,
}

/// The outcome of [`evaluate`]: TestAuthorization's `authResult`, plus the statements
/// that decided.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authorization {
    /// The decision.
    pub decision: AuthDecision,
    /// When allowed, the policies with a statement that allows the request.
    pub allowed_policies: Vec<String>,
    /// When explicitly denied, the policies with a statement that denies it.
    pub explicit_deny_policies: Vec<String>,
    /// When implicitly denied, every policy evaluated.
    pub implicit_deny_policies: Vec<String>,
    /// The statements that decided: the denying ones, or else the allowing ones.
    pub deciding_statements: Vec<StatementRef>,
    /// Context keys without a value that the statements for this action read: the
    /// variables of their resources, and the condition keys (but those only tested by
    /// `Null` or `...IfExists`) of those whose resource covers the request. Sorted.
    pub missing_context_values: Vec<String>,
}

/// Decides `request` against the policies (name, document) as AWS IoT does: every
/// statement whose action, resource and conditions match counts; any `Deny` wins;
/// otherwise any `Allow` allows; otherwise the request is denied by default.
///
/// ```
/// use jitr_core::policy::{evaluate, Action, AuthContext, AuthDecision, PolicyDocument, Request};
/// use jitr_core::{Scope, Timestamp};
/// let doc = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statement": [
///     {"Effect": "Allow", "Action": "iot:Publish",
///      "Resource": "arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"},
///     {"Effect": "Deny", "Action": "iot:Publish",
///      "Resource": "arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/bar"}]}"#)?;
/// let ctx = AuthContext::new(Scope::new("123456789012", "us-east-1")?, Timestamp::from_unix_secs(0))
///     .with_client_id("client1");
/// let policies = [("p", &doc)];
/// let decide = |topic: &str| evaluate(&policies, &Request::for_name(Action::Publish, topic, &ctx), &ctx).decision;
/// assert_eq!(decide("client1/foo"), AuthDecision::Allowed);
/// assert_eq!(decide("client1/bar"), AuthDecision::ExplicitDeny);
/// assert_eq!(decide("client2/foo"), AuthDecision::ImplicitDeny);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evaluate(
    policies: &[(&str, &PolicyDocument)],
    request: &Request,
    ctx: &AuthContext,
) -> Authorization {
    let mut allowing: Vec<StatementRef> = Vec::new();
    let mut denying: Vec<StatementRef> = Vec::new();
    let mut missing: BTreeSet<String> = BTreeSet::new();
    for (name, doc) in policies {
        for (index, st) in doc.statements().iter().enumerate() {
            if !st.covers_action(request.action) {
                continue;
            }
            let resource_ok = resource_matches(st, &request.resource, ctx);
            note_missing(st, ctx, resource_ok, &mut missing);
            if resource_ok && conditions_hold(st, ctx) {
                let r = StatementRef {
                    policy_name: (*name).to_string(),
                    index,
                    sid: st.sid.clone(),
                };
                match st.effect {
                    Effect::Allow => allowing.push(r),
                    Effect::Deny => denying.push(r),
                }
            }
        }
    }
    let names = |refs: &[StatementRef]| {
        let mut out: Vec<String> = Vec::new();
        for r in refs {
            if !out.contains(&r.policy_name) {
                out.push(r.policy_name.clone());
            }
        }
        out
    };
    let mut auth = Authorization {
        decision: AuthDecision::ImplicitDeny,
        allowed_policies: Vec::new(),
        explicit_deny_policies: Vec::new(),
        implicit_deny_policies: Vec::new(),
        deciding_statements: Vec::new(),
        missing_context_values: missing.into_iter().collect(),
    };
    if !denying.is_empty() {
        auth.decision = AuthDecision::ExplicitDeny;
        auth.explicit_deny_policies = names(&denying);
        auth.deciding_statements = denying;
    } else if !allowing.is_empty() {
        auth.decision = AuthDecision::Allowed;
        auth.allowed_policies = names(&allowing);
        auth.deciding_statements = allowing;
    } else {
        for (name, _) in policies {
            if !auth.implicit_deny_policies.iter().any(|n| n == name) {
                auth.implicit_deny_policies.push((*name).to_string());
            }
        }
    }
    auth
}

/// Whether a statement's `Resource` (or `NotResource`) covers `resource` in `ctx`.
fn resource_matches(st: &Statement, resource: &str, ctx: &AuthContext) -> bool {
    let any_match = |patterns: &[super::pattern::Pattern]| {
        patterns
            .iter()
            .any(|p| resolve(p, ctx).is_some_and(|toks| glob_toks(&toks, resource)))
    };
    match &st.resources {
        Resources::Listed(p) => any_match(p),
        Resources::Not(p) => !any_match(p),
    }
}

fn conditions_hold(st: &Statement, ctx: &AuthContext) -> bool {
    st.conditions.iter().all(|c| eval_condition(c, ctx))
}

/// The keys without a value that a statement for the request's action reads: the
/// variables of its resources; and, when its resource covers the request, its condition
/// keys (but those only tested by `Null` or `...IfExists`) and their values' variables.
fn note_missing(
    st: &Statement,
    ctx: &AuthContext,
    resource_ok: bool,
    missing: &mut BTreeSet<String>,
) {
    let condition_patterns = st.conditions.iter().flat_map(|c| c.values.iter());
    let patterns: Vec<&super::pattern::Pattern> = if resource_ok {
        st.resources
            .patterns()
            .iter()
            .chain(condition_patterns)
            .collect()
    } else {
        st.resources.patterns().iter().collect()
    };
    for p in patterns {
        for (key, _) in p.variables() {
            if key.substitute(ctx) == Substitution::Missing {
                missing.insert(key.to_string());
            }
        }
    }
    if resource_ok {
        for c in &st.conditions {
            if c.op.base != BaseOp::Null && !c.op.if_exists && c.key.values(ctx).is_none() {
                missing.insert(c.key.to_string());
            }
        }
    }
}
