//! A connection's effective policies, compiled once at CONNECT so that each PUBLISH,
//! SUBSCRIBE and RECEIVE is decided without allocating.
//!
//! Compiling resolves every variable (they cannot change during a connection: client
//! id, certificate, thing, address, domain), evaluates every condition on those keys
//! and drops the statements whose conditions fail, decides each statement's actions
//! once for every [`Action`], and runs each resource pattern over the fixed
//! `arn:<partition>:iot:<region>:<account>:<type>/` prefix of each action's resources.
//! What is left per (action, statement) is a short list of residual patterns to match
//! against the topic, filter or client id alone, and the conditions on the clock
//! (`aws:CurrentTime`, `aws:EpochTime`), evaluated at each check.
//!
//! The residual patterns of each action are indexed by their leading literal text in a
//! radix tree (one for `Deny` statements, one for `Allow`): a check walks the tree along
//! the name and matches only the patterns whose literal prefix the name starts with,
//! instead of every statement. `NotResource` statements are checked one by one.
//!
//! The answer is [`evaluate`](super::evaluate)'s, exactly (the property tests, the
//! shared vectors and the `policy` fuzz target compare the two).

use super::action::Action;
use super::condition::{
    clock_date, clock_number, eval, eval_condition, format_epoch_secs, format_iso8601,
    is_numeric_or_date, resolve, ClockValue, Operator, ResolvedValue, ShortText,
};
use super::context::AuthContext;
use super::document::{Effect, PolicyDocument, Resources, Statement};
use super::evaluate::AuthDecision;
use super::keys::ContextKey;
use super::pattern::{glob, residuals_after, Tok, TokRef};
use crate::Timestamp;

type Span = (u32, u32);

/// A token of a residual pattern, its literal in the shared text arena.
#[derive(Clone, Copy, Debug)]
enum CTok {
    Lit(Span),
    Star,
    Any,
}

/// A (statement, action) that survived compilation.
#[derive(Clone, Copy, Debug)]
struct Entry {
    policy: u32,
    /// Its clock conditions.
    conditions: Span,
    /// For a `NotResource` statement, its residual patterns (into `residuals`).
    not_residuals: Span,
}

/// A residual pattern in a tree: what follows its literal prefix, and its entry.
#[derive(Clone, Copy, Debug)]
struct Leaf {
    entry: u32,
    toks: Span,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    leaves: Span,
    edges: Span,
}

#[derive(Clone, Copy, Debug)]
struct Edge {
    first: u8,
    label: Span,
    child: u32,
}

/// The root of an empty tree: no node is stored for it, and a walk from it finds nothing.
const NO_TREE: u32 = u32::MAX;

/// Per action: the roots of its deny and allow trees and its `NotResource` entries.
#[derive(Clone, Copy, Debug)]
struct ActionIndex {
    deny_root: u32,
    allow_root: u32,
    not_deny: Span,
    not_allow: Span,
}

impl ActionIndex {
    /// Nothing to deny or allow: the action is implicitly denied.
    fn is_empty(&self) -> bool {
        self.deny_root == NO_TREE
            && self.allow_root == NO_TREE
            && self.not_deny.0 == self.not_deny.1
            && self.not_allow.0 == self.not_allow.1
    }
}

#[derive(Clone, Debug)]
struct TimeCondition {
    op: Operator,
    epoch: bool,
    /// The operator reads only numbers and dates: no need to format the clock.
    typed: bool,
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
/// assert_eq!(compiled.policy_names(), ["p"]);
/// assert_eq!(compiled.check(Action::Publish, "dev1/temp", now), AuthDecision::Allowed);
/// assert_eq!(compiled.check(Action::Subscribe, "dev1/#", now), AuthDecision::Allowed);
/// assert_eq!(compiled.check(Action::Subscribe, "dev1/+", now), AuthDecision::ImplicitDeny);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Its tables are boxed slices, sized exactly: a gateway keeps one compiled set per live
/// connection.
#[derive(Clone, Debug)]
pub struct CompiledPolicies {
    names: Box<[String]>,
    /// By [`Action::ALL`] index.
    actions: Box<[ActionIndex]>,
    entries: Box<[Entry]>,
    /// `NotResource` entries, grouped per action (deny then allow).
    not_entries: Box<[u32]>,
    residuals: Box<[Span]>,
    nodes: Box<[Node]>,
    edges: Box<[Edge]>,
    leaves: Box<[Leaf]>,
    toks: Box<[CTok]>,
    /// Literal text, as bytes: tree labels may split a character.
    arena: Box<[u8]>,
    conditions: Box<[TimeCondition]>,
}

/// The tables of a [`CompiledPolicies`] while they grow.
#[derive(Default)]
struct Build {
    names: Vec<String>,
    actions: Vec<ActionIndex>,
    entries: Vec<Entry>,
    not_entries: Vec<u32>,
    residuals: Vec<Span>,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    leaves: Vec<Leaf>,
    toks: Vec<CTok>,
    arena: Vec<u8>,
    conditions: Vec<TimeCondition>,
}

fn idx(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn range<T>(v: &[T], (a, b): Span) -> &[T] {
    v.get(a as usize..b as usize).unwrap_or(&[])
}

/// A residual pattern split for the tree: its leading literal and the rest.
struct Item {
    prefix: String,
    rest: Vec<Tok>,
    entry: u32,
}

impl CompiledPolicies {
    /// Compiles `policies` (name, document) for the connection described by `ctx`
    /// (`ctx.now` is not used: the clock is an argument of each check).
    pub fn compile(policies: &[(&str, &PolicyDocument)], ctx: &AuthContext) -> Self {
        Self::compile_for(policies, ctx, &Action::ALL)
    }

    /// Like [`Self::compile`], for the checks of `actions` only: an action left out is
    /// implicitly denied. A host that checks a few actions on many connections (a
    /// gateway checks the five MQTT ones) keeps only their indexes.
    ///
    /// ```
    /// use jitr_core::policy::{Action, AuthContext, AuthDecision, CompiledPolicies, PolicyDocument};
    /// use jitr_core::{Scope, Timestamp};
    /// let doc = PolicyDocument::parse(r#"{"Statement": [
    ///     {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}"#)?;
    /// let now = Timestamp::from_unix_secs(1_780_000_000);
    /// let ctx = AuthContext::new(Scope::new("123456789012", "us-east-1")?, now);
    /// let mqtt = CompiledPolicies::compile_for(&[("p", &doc)], &ctx, &[Action::Publish]);
    /// assert_eq!(mqtt.check(Action::Publish, "a/b", now), AuthDecision::Allowed);
    /// assert_eq!(mqtt.check(Action::GetThingShadow, "t", now), AuthDecision::ImplicitDeny);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compile_for(
        policies: &[(&str, &PolicyDocument)],
        ctx: &AuthContext,
        actions: &[Action],
    ) -> Self {
        let mut out = Build {
            names: policies.iter().map(|(n, _)| (*n).to_string()).collect(),
            actions: Vec::with_capacity(Action::ALL.len()),
            ..Build::default()
        };
        let mut per_action: Vec<PerAction> =
            Action::ALL.iter().map(|_| PerAction::default()).collect();
        for (policy, (_, doc)) in policies.iter().enumerate() {
            for st in doc.statements() {
                out.add_statement(idx(policy), st, ctx, actions, &mut per_action);
            }
        }
        for action in per_action {
            out.index(action);
        }
        // Actions at the end of the table with nothing to match are dropped: a missing
        // index is an implicit deny, as an empty one is.
        while out.actions.last().is_some_and(ActionIndex::is_empty) {
            out.actions.pop();
        }
        out.finish()
    }
}

/// What the statements give one action: the residual patterns of its `Deny` and `Allow`
/// statements (for its two trees), and its `NotResource` entries of each effect.
#[derive(Default)]
struct PerAction {
    deny: Vec<Item>,
    allow: Vec<Item>,
    not_deny: Vec<u32>,
    not_allow: Vec<u32>,
}

/// The conditions of `st` on the clock, to evaluate at each check; `None` when a
/// condition on the connection (decided now) fails, and the statement never applies.
fn clock_conditions(st: &Statement, ctx: &AuthContext) -> Option<Vec<TimeCondition>> {
    let mut clock = Vec::new();
    for c in &st.conditions {
        if c.key.is_time() {
            clock.push(TimeCondition {
                op: c.op,
                epoch: c.key == ContextKey::EpochTime,
                typed: is_numeric_or_date(c.op.base),
                values: c
                    .values
                    .iter()
                    .map(|p| ResolvedValue::from_toks(resolve(p, ctx)))
                    .collect(),
            });
        } else if !eval_condition(c, ctx) {
            return None;
        }
    }
    Some(clock)
}

/// The distinct residuals of the `resolved` resource patterns after the ARN prefix of
/// resource type `rtype`, computed once per type and statement (`cache`).
fn residuals_of_type<'a>(
    cache: &mut Vec<(Option<&'a str>, Vec<Vec<Tok>>)>,
    rtype: Option<&'a str>,
    resolved: &[Vec<Tok>],
    ctx: &AuthContext,
) -> Vec<Vec<Tok>> {
    if let Some((_, rs)) = cache.iter().find(|(t, _)| *t == rtype) {
        return rs.clone();
    }
    let prefix = match rtype {
        Some(t) => ctx.resource_arn_of_type(t, ""),
        None => "*".to_string(),
    };
    let mut rs: Vec<Vec<Tok>> = Vec::new();
    for toks in resolved {
        for r in residuals_after(toks, &prefix) {
            if !rs.contains(&r) {
                rs.push(r);
            }
        }
    }
    cache.push((rtype, rs.clone()));
    rs
}

impl Item {
    /// A residual pattern of `entry`, its leading literal split off for the tree.
    fn split(mut rest: Vec<Tok>, entry: u32) -> Self {
        let prefix = match rest.first() {
            Some(Tok::Lit(_)) => match rest.remove(0) {
                Tok::Lit(s) => s,
                _ => String::new(),
            },
            _ => String::new(),
        };
        Self {
            prefix,
            rest,
            entry,
        }
    }
}

impl Build {
    /// Adds statement `st` of policy number `policy`: an entry for each of `actions` it
    /// covers and can apply to, its residual patterns filed under that action.
    fn add_statement(
        &mut self,
        policy: u32,
        st: &Statement,
        ctx: &AuthContext,
        actions: &[Action],
        per_action: &mut [PerAction],
    ) {
        // Connection-level conditions decide now; clock conditions wait.
        let Some(mut clock) = clock_conditions(st, ctx) else {
            return;
        };
        let resolved: Vec<Vec<Tok>> = st
            .resources
            .patterns()
            .iter()
            .filter_map(|p| resolve(p, ctx))
            .collect();
        let not_resource = matches!(st.resources, Resources::Not(_));
        let cond_start = idx(self.conditions.len());
        self.conditions.append(&mut clock);
        let conditions = (cond_start, idx(self.conditions.len()));
        let mut by_type = Vec::new();
        for (action, slot) in Action::ALL.iter().zip(per_action.iter_mut()) {
            if !actions.contains(action) || !st.covers_action(*action) {
                continue;
            }
            let rs = residuals_of_type(&mut by_type, action.resource_type(), &resolved, ctx);
            if rs.is_empty() && !not_resource {
                continue; // can never apply to this action
            }
            let entry = idx(self.entries.len());
            let mut e = Entry {
                policy,
                conditions,
                not_residuals: (0, 0),
            };
            if not_resource {
                let start = idx(self.residuals.len());
                for r in rs {
                    let span = self.store_toks(&r);
                    self.residuals.push(span);
                }
                e.not_residuals = (start, idx(self.residuals.len()));
                match st.effect {
                    Effect::Deny => slot.not_deny.push(entry),
                    Effect::Allow => slot.not_allow.push(entry),
                }
            } else {
                let items = match st.effect {
                    Effect::Deny => &mut slot.deny,
                    Effect::Allow => &mut slot.allow,
                };
                items.extend(rs.into_iter().map(|r| Item::split(r, entry)));
            }
            self.entries.push(e);
        }
    }

    /// The next action's index: its two trees and its `NotResource` entries.
    fn index(&mut self, mut action: PerAction) {
        let deny_root = self.build_tree(&mut action.deny);
        let allow_root = self.build_tree(&mut action.allow);
        let start = idx(self.not_entries.len());
        self.not_entries.extend(action.not_deny);
        let mid = idx(self.not_entries.len());
        self.not_entries.extend(action.not_allow);
        self.actions.push(ActionIndex {
            deny_root,
            allow_root,
            not_deny: (start, mid),
            not_allow: (mid, idx(self.not_entries.len())),
        });
    }
}

impl Build {
    /// The tables, each in an allocation of exactly its size.
    fn finish(self) -> CompiledPolicies {
        CompiledPolicies {
            names: self.names.into_boxed_slice(),
            actions: self.actions.into_boxed_slice(),
            entries: self.entries.into_boxed_slice(),
            not_entries: self.not_entries.into_boxed_slice(),
            residuals: self.residuals.into_boxed_slice(),
            nodes: self.nodes.into_boxed_slice(),
            edges: self.edges.into_boxed_slice(),
            leaves: self.leaves.into_boxed_slice(),
            toks: self.toks.into_boxed_slice(),
            arena: self.arena.into_boxed_slice(),
            conditions: self.conditions.into_boxed_slice(),
        }
    }

    fn store_toks(&mut self, toks: &[Tok]) -> Span {
        let start = idx(self.toks.len());
        for t in toks {
            let c = match t {
                Tok::Lit(s) => CTok::Lit(self.store_text(s)),
                Tok::Star => CTok::Star,
                Tok::Any => CTok::Any,
            };
            self.toks.push(c);
        }
        (start, idx(self.toks.len()))
    }

    fn store_text(&mut self, s: &str) -> Span {
        self.store_text_bytes(s.as_bytes())
    }

    /// Builds a radix tree over the items' literal prefixes; returns its root, or
    /// [`NO_TREE`] for no items (no node is kept for an empty tree).
    fn build_tree(&mut self, items: &mut [Item]) -> u32 {
        if items.is_empty() {
            return NO_TREE;
        }
        items.sort_by(|a, b| a.prefix.as_bytes().cmp(b.prefix.as_bytes()));
        self.build_node(items, 0)
    }

    /// `items` are sorted and share their first `depth` bytes.
    fn build_node(&mut self, items: &[Item], depth: usize) -> u32 {
        let node = idx(self.nodes.len());
        self.nodes.push(Node {
            leaves: (0, 0),
            edges: (0, 0),
        });
        // The items whose prefix ends here sort first.
        let here = items.iter().take_while(|i| i.prefix.len() == depth).count();
        let leaf_start = idx(self.leaves.len());
        for item in &items[..here] {
            let toks = self.store_toks(&item.rest);
            self.leaves.push(Leaf {
                entry: item.entry,
                toks,
            });
        }
        let leaves = (leaf_start, idx(self.leaves.len()));
        let mut edges: Vec<Edge> = Vec::new();
        let mut rest = &items[here..];
        while let Some(first) = rest.first() {
            let b = first.prefix.as_bytes()[depth];
            let n = rest
                .iter()
                .take_while(|i| i.prefix.as_bytes()[depth] == b)
                .count();
            let group = &rest[..n];
            // The group's common prefix beyond `depth`.
            let head = first.prefix.as_bytes();
            let mut end = head.len();
            for i in &group[1..] {
                let common = head
                    .iter()
                    .zip(i.prefix.as_bytes())
                    .take_while(|(x, y)| x == y)
                    .count();
                end = end.min(common);
            }
            let label = self.store_text_bytes(&head[depth..end]);
            let child = self.build_node(group, end);
            edges.push(Edge {
                first: b,
                label,
                child,
            });
            rest = &rest[n..];
        }
        let edge_start = idx(self.edges.len());
        self.edges.extend(edges);
        self.nodes[node as usize] = Node {
            leaves,
            edges: (edge_start, idx(self.edges.len())),
        };
        node
    }

    fn store_text_bytes(&mut self, b: &[u8]) -> Span {
        let a = idx(self.arena.len());
        self.arena.extend_from_slice(b);
        (a, idx(self.arena.len()))
    }
}

impl CompiledPolicies {
    /// Decides `action` on `name` (the topic, topic filter, client id, thing or role
    /// alias; ignored for actions on `*`) at `now`. Allocates nothing.
    pub fn check(&self, action: Action, name: &str, now: Timestamp) -> AuthDecision {
        self.check_detailed(action, name, now).0
    }

    /// [`Self::check`], with the name of a policy that decided (`None` for an implicit
    /// deny).
    pub fn check_detailed(
        &self,
        action: Action,
        name: &str,
        now: Timestamp,
    ) -> (AuthDecision, Option<&str>) {
        let Some(ix) = self.actions.get(action.index()) else {
            return (AuthDecision::ImplicitDeny, None);
        };
        let text = if action.resource_type().is_some() {
            name.as_bytes()
        } else {
            b""
        };
        let mut clock = Clock::new(now);
        let hit = self
            .walk(ix.deny_root, text, &mut clock)
            .or_else(|| self.not_resource(ix.not_deny, text, &mut clock));
        if let Some(e) = hit {
            return (AuthDecision::ExplicitDeny, self.policy_name(e));
        }
        let hit = self
            .walk(ix.allow_root, text, &mut clock)
            .or_else(|| self.not_resource(ix.not_allow, text, &mut clock));
        match hit {
            Some(e) => (AuthDecision::Allowed, self.policy_name(e)),
            None => (AuthDecision::ImplicitDeny, None),
        }
    }

    /// The policy names, as given to [`Self::compile`].
    pub fn policy_names(&self) -> &[String] {
        &self.names
    }

    /// How many (statement, action) entries survived compilation.
    pub fn entry_count(&self) -> usize {
        self.entries.len()
    }

    fn policy_name(&self, entry: u32) -> Option<&str> {
        let e = self.entries.get(entry as usize)?;
        self.names.get(e.policy as usize).map(String::as_str)
    }

    #[inline]
    fn matches(&self, toks: Span, text: &[u8]) -> bool {
        let arena = &self.arena[..];
        let view = |t: &CTok| match *t {
            CTok::Lit(s) => TokRef::Lit(range(arena, s)),
            CTok::Star => TokRef::Star,
            CTok::Any => TokRef::Any,
        };
        glob(range(&self.toks, toks), view, text)
    }

    #[inline]
    fn conditions_hold(&self, entry: u32, clock: &mut Clock) -> bool {
        let Some(e) = self.entries.get(entry as usize) else {
            return false;
        };
        range(&self.conditions, e.conditions).iter().all(|c| {
            if c.typed {
                let value = ClockValue {
                    number: clock_number(clock.now, c.epoch),
                    date: clock_date(clock.now, c.epoch),
                };
                eval(c.op, Some(&[value]), &c.values)
            } else {
                let value = clock.get(c.epoch);
                eval(c.op, Some(&[value]), &c.values)
            }
        })
    }

    /// The first entry in the tree whose residual matches `text` and whose clock
    /// conditions hold (none from [`NO_TREE`], which names no node).
    fn walk(&self, root: u32, text: &[u8], clock: &mut Clock) -> Option<u32> {
        let arena = &self.arena[..];
        let mut node = self.nodes.get(root as usize)?;
        let mut depth = 0usize;
        loop {
            let rest = text.get(depth..).unwrap_or(b"");
            for leaf in range(&self.leaves, node.leaves) {
                if self.matches(leaf.toks, rest) && self.conditions_hold(leaf.entry, clock) {
                    return Some(leaf.entry);
                }
            }
            let &b = rest.first()?;
            let edge = range(&self.edges, node.edges)
                .iter()
                .find(|e| e.first == b)?;
            let label = range(arena, edge.label);
            if !rest.starts_with(label) {
                return None;
            }
            depth += label.len();
            node = self.nodes.get(edge.child as usize)?;
        }
    }

    /// The first `NotResource` entry none of whose patterns matches `text` and whose
    /// clock conditions hold.
    fn not_resource(&self, list: Span, text: &[u8], clock: &mut Clock) -> Option<u32> {
        range(&self.not_entries, list)
            .iter()
            .copied()
            .find(|&entry| {
                let Some(e) = self.entries.get(entry as usize) else {
                    return false;
                };
                !range(&self.residuals, e.not_residuals)
                    .iter()
                    .any(|&r| self.matches(r, text))
                    && self.conditions_hold(entry, clock)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyDocument;
    use crate::Scope;

    #[test]
    fn empty_trees_and_the_tables_empty_tail_keep_nothing() {
        let doc = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#,
        )
        .unwrap();
        let now = Timestamp::from_unix_secs(1_780_000_000);
        let ctx = AuthContext::new(Scope::new("123456789012", "us-east-1").unwrap(), now);
        let mqtt = [
            Action::Connect,
            Action::Publish,
            Action::RetainPublish,
            Action::Subscribe,
            Action::Receive,
        ];
        let c = CompiledPolicies::compile_for(&[("p", &doc)], &ctx, &mqtt);
        // One allow tree per compiled action and no deny tree; the table ends at the
        // last compiled action (DeleteConnection, between them, stays an empty row).
        assert_eq!(c.nodes.len(), mqtt.len());
        assert_eq!(c.actions.len(), 6);
        for a in mqtt {
            assert_eq!(c.check(a, "a/b", now), AuthDecision::Allowed, "{a:?}");
        }
        for a in [Action::DeleteConnection, Action::GetThingShadow] {
            assert_eq!(c.check(a, "a/b", now), AuthDecision::ImplicitDeny, "{a:?}");
        }
        // Nothing compiled at all: no nodes, no rows.
        let none = CompiledPolicies::compile_for(&[("p", &doc)], &ctx, &[]);
        assert!(none.nodes.is_empty() && none.actions.is_empty());
        assert_eq!(
            none.check(Action::Publish, "a/b", now),
            AuthDecision::ImplicitDeny
        );
    }
}
