//! A connection's effective policies, compiled once at CONNECT so that each PUBLISH,
//! SUBSCRIBE and RECEIVE is decided without allocating.
//!
//! Compiling resolves every variable (they cannot change during a connection: client
//! id, certificate, thing, address, domain), evaluates every condition on those keys
//! and drops the statements whose conditions fail, decides each statement's actions
//! once for every [`Action`], and runs each resource pattern over the fixed
//! `arn:<partition>:iot:<region>:<account>:<type>/` prefix of each action's resources.
//! What is left per (action, statement) is a short list of residual patterns matched
//! against the topic, filter or client id alone, and the conditions on the clock
//! (`aws:CurrentTime`, `aws:EpochTime`), which are evaluated at each check.
//!
//! The answer is [`evaluate`](super::evaluate)'s, exactly (the property tests and the
//! `policy` fuzz target compare the two).

use super::action::Action;
use super::condition::{
    eval, eval_condition, format_epoch_secs, format_iso8601, resolve, Operator, ResolvedValue,
    ShortText,
};
use super::context::AuthContext;
use super::document::{Effect, PolicyDocument, Resources};
use super::evaluate::AuthDecision;
use super::keys::ContextKey;
use super::pattern::{glob, residuals_after, Tok, TokRef};
use crate::Timestamp;

/// A token of a residual pattern, its literal in the shared text arena.
#[derive(Clone, Copy, Debug)]
enum CTok {
    Lit(u32, u32),
    Star,
    Any,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    policy: u32,
    not_resource: bool,
    residuals: (u32, u32),
    conditions: (u32, u32),
}

#[derive(Clone, Debug)]
struct TimeCondition {
    op: Operator,
    epoch: bool,
    values: Vec<ResolvedValue>,
}

/// Policies compiled for one connection's context. See the module documentation.
///
/// ```
/// use jitr_core::policy::{Action, AuthContext, AuthDecision, CompiledPolicies, PolicyDocument};
/// use jitr_core::{Scope, Timestamp};
/// let doc = PolicyDocument::parse(r#"{"Statement": [
///     {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
///      "Resource": "arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"},
///     {"Effect": "Allow", "Action": "iot:Subscribe",
///      "Resource": "arn:aws:iot:us-east-1:123456789012:topicfilter/${iot:ClientId}/#"}]}"#)?;
/// let now = Timestamp::from_unix_secs(1_780_000_000);
/// let ctx = AuthContext::new(Scope::new("123456789012", "us-east-1")?, now).with_client_id("dev1");
/// let compiled = CompiledPolicies::compile(&[("p", &doc)], &ctx);
/// assert_eq!(compiled.check(Action::Publish, "dev1/temp", now), AuthDecision::Allowed);
/// assert_eq!(compiled.check(Action::Subscribe, "dev1/#", now), AuthDecision::Allowed);
/// assert_eq!(compiled.check(Action::Subscribe, "dev1/+", now), AuthDecision::ImplicitDeny);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CompiledPolicies {
    names: Vec<String>,
    /// Per action (by [`Action::ALL`] index): entries `[start, allow_start)` deny,
    /// `[allow_start, end)` allow.
    spans: Vec<(u32, u32, u32)>,
    entries: Vec<Entry>,
    residuals: Vec<(u32, u32)>,
    toks: Vec<CTok>,
    arena: String,
    conditions: Vec<TimeCondition>,
}

fn idx(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl CompiledPolicies {
    /// Compiles `policies` (name, document) for the connection described by `ctx`
    /// (`ctx.now` is not used: the clock is an argument of each check).
    pub fn compile(policies: &[(&str, &PolicyDocument)], ctx: &AuthContext) -> Self {
        let mut out = Self {
            names: policies.iter().map(|(n, _)| (*n).to_string()).collect(),
            spans: Vec::with_capacity(Action::ALL.len()),
            entries: Vec::new(),
            residuals: Vec::new(),
            toks: Vec::new(),
            arena: String::new(),
            conditions: Vec::new(),
        };
        // Per action: (deny entries, allow entries), with their residuals and
        // conditions stored once per (statement, action).
        let mut per_action: Vec<(Vec<Entry>, Vec<Entry>)> = Action::ALL
            .iter()
            .map(|_| (Vec::new(), Vec::new()))
            .collect();
        let prefixes: Vec<String> = Action::ALL
            .iter()
            .map(|a| match a.resource_type() {
                Some(t) => ctx.resource_arn_of_type(t, ""),
                None => "*".to_string(),
            })
            .collect();
        for (policy, (_, doc)) in policies.iter().enumerate() {
            for st in doc.statements() {
                // Connection-level conditions decide now; clock conditions wait.
                let mut clock = Vec::new();
                let mut holds = true;
                for c in &st.conditions {
                    if c.key.is_time() {
                        clock.push(TimeCondition {
                            op: c.op,
                            epoch: c.key == ContextKey::EpochTime,
                            values: c
                                .values
                                .iter()
                                .map(|p| ResolvedValue::from_toks(resolve(p, ctx)))
                                .collect(),
                        });
                    } else if !eval_condition(c, ctx) {
                        holds = false;
                        break;
                    }
                }
                if !holds {
                    continue;
                }
                let resolved: Vec<Vec<Tok>> = st
                    .resources
                    .patterns()
                    .iter()
                    .filter_map(|p| resolve(p, ctx))
                    .collect();
                let not_resource = matches!(st.resources, Resources::Not(_));
                let cond_start = idx(out.conditions.len());
                let mut cond_stored = false;
                for (ai, action) in Action::ALL.iter().enumerate() {
                    if !st.covers_action(*action) {
                        continue;
                    }
                    let mut rs: Vec<Vec<Tok>> = Vec::new();
                    for toks in &resolved {
                        for r in residuals_after(toks, &prefixes[ai]) {
                            if !rs.contains(&r) {
                                rs.push(r);
                            }
                        }
                    }
                    if rs.is_empty() && !not_resource {
                        continue; // can never apply to this action
                    }
                    if !cond_stored {
                        out.conditions.append(&mut clock);
                        cond_stored = true;
                    }
                    let res_start = idx(out.residuals.len());
                    for r in rs {
                        let t0 = idx(out.toks.len());
                        for t in r {
                            out.toks.push(match t {
                                Tok::Lit(s) => {
                                    let a = idx(out.arena.len());
                                    out.arena.push_str(&s);
                                    CTok::Lit(a, idx(out.arena.len()))
                                }
                                Tok::Star => CTok::Star,
                                Tok::Any => CTok::Any,
                            });
                        }
                        out.residuals.push((t0, idx(out.toks.len())));
                    }
                    let entry = Entry {
                        policy: idx(policy),
                        not_resource,
                        residuals: (res_start, idx(out.residuals.len())),
                        conditions: (cond_start, idx(out.conditions.len())),
                    };
                    let (deny, allow) = &mut per_action[ai];
                    match st.effect {
                        Effect::Deny => deny.push(entry),
                        Effect::Allow => allow.push(entry),
                    }
                }
            }
        }
        for (deny, allow) in per_action {
            let start = idx(out.entries.len());
            out.entries.extend(deny);
            let allow_start = idx(out.entries.len());
            out.entries.extend(allow);
            out.spans.push((start, allow_start, idx(out.entries.len())));
        }
        out
    }

    /// Decides `action` on `name` (the topic, topic filter, client id, thing or role
    /// alias; ignored for actions on `*`) at `now`. Allocates nothing.
    pub fn check(&self, action: Action, name: &str, now: Timestamp) -> AuthDecision {
        self.check_detailed(action, name, now).0
    }

    /// [`Self::check`], with the name of the policy that decided (the first denying or
    /// allowing one; `None` for an implicit deny).
    pub fn check_detailed(
        &self,
        action: Action,
        name: &str,
        now: Timestamp,
    ) -> (AuthDecision, Option<&str>) {
        let Some(&(start, allow_start, end)) = self.spans.get(action.index()) else {
            return (AuthDecision::ImplicitDeny, None);
        };
        let text = if action.resource_type().is_some() {
            name.as_bytes()
        } else {
            b""
        };
        let mut clock = Clock::new(now);
        let span = |a: u32, b: u32| self.entries.get(a as usize..b as usize).unwrap_or(&[]);
        for e in span(start, allow_start) {
            if self.applies(e, text, &mut clock) {
                return (AuthDecision::ExplicitDeny, self.policy_name(e));
            }
        }
        for e in span(allow_start, end) {
            if self.applies(e, text, &mut clock) {
                return (AuthDecision::Allowed, self.policy_name(e));
            }
        }
        (AuthDecision::ImplicitDeny, None)
    }

    /// The policy names, as given to [`Self::compile`].
    pub fn policy_names(&self) -> &[String] {
        &self.names
    }

    /// How many (statement, action) entries survived compilation.
    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    fn policy_name(&self, e: &Entry) -> Option<&str> {
        self.names.get(e.policy as usize).map(String::as_str)
    }

    #[inline]
    fn applies(&self, e: &Entry, text: &[u8], clock: &mut Clock) -> bool {
        let residuals = self
            .residuals
            .get(e.residuals.0 as usize..e.residuals.1 as usize)
            .unwrap_or(&[]);
        let arena = self.arena.as_bytes();
        let view = |t: &CTok| match *t {
            CTok::Lit(a, b) => TokRef::Lit(arena.get(a as usize..b as usize).unwrap_or(b"")),
            CTok::Star => TokRef::Star,
            CTok::Any => TokRef::Any,
        };
        let any = residuals.iter().any(|&(a, b)| {
            let toks = self.toks.get(a as usize..b as usize).unwrap_or(&[]);
            glob(toks, view, text)
        });
        if any == e.not_resource {
            return false;
        }
        let conditions = self
            .conditions
            .get(e.conditions.0 as usize..e.conditions.1 as usize)
            .unwrap_or(&[]);
        conditions.iter().all(|c| {
            let value = clock.get(c.epoch);
            eval(c.op, Some(&[value]), &c.values)
        })
    }
}

/// The clock's two context values, formatted on the stack when first needed.
struct Clock {
    now: Timestamp,
    iso: Option<ShortText>,
    epoch: Option<ShortText>,
}

impl Clock {
    fn new(now: Timestamp) -> Self {
        Self {
            now,
            iso: None,
            epoch: None,
        }
    }

    fn get(&mut self, epoch: bool) -> &str {
        let now = self.now;
        if epoch {
            self.epoch
                .get_or_insert_with(|| format_epoch_secs(now))
                .as_str()
        } else {
            self.iso.get_or_insert_with(|| format_iso8601(now)).as_str()
        }
    }
}
