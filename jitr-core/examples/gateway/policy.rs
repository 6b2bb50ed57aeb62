//! Policy enforcement, in one place: what a connection may do, compiled once at CONNECT
//! from the policies attached to its certificate, and compiled again when they change.
//!
//! Until jitr's policy engine lands on main, this module allows every action (the
//! gateway then enforces certificate status only).

use std::net::IpAddr;

use jitr_core::{Certificate, Registry, Timestamp};

/// Whether policies are enforced (false until the policy engine is on main: the story
/// then reports its policy steps as not run).
pub(crate) const ENFORCED: bool = false;

/// An AWS IoT action the gateway authorizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    Connect,
    Publish,
    RetainPublish,
    Subscribe,
    Receive,
}

impl Act {
    /// The action's name in a policy, for logs and metrics.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Connect => "iot:Connect",
            Self::Publish => "iot:Publish",
            Self::RetainPublish => "iot:RetainPublish",
            Self::Subscribe => "iot:Subscribe",
            Self::Receive => "iot:Receive",
        }
    }
}

/// What the policies are evaluated with: the connection's facts.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionFacts {
    pub(crate) client_id: String,
    pub(crate) source_ip: IpAddr,
    pub(crate) certificate: Certificate,
    pub(crate) certificate_arn: String,
    /// The will's topic, when the CONNECT carries one.
    pub(crate) last_will_topic: Option<String>,
    /// Whether the CONNECT asks for a persistent session.
    pub(crate) persistent: bool,
}

/// A connection's compiled policies.
#[derive(Debug)]
pub(crate) struct ConnectionPolicies {
    names: Vec<String>,
}

impl ConnectionPolicies {
    /// Whether `act` on `name` (a client id, topic or topic filter) is allowed at `now`.
    pub(crate) fn allows(&self, _act: Act, _name: &str, _now: Timestamp) -> bool {
        true
    }

    /// The policies this set was compiled from.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }
}

/// Compiles the policies attached to the connection's certificate.
pub(crate) fn compile(
    registry: &Registry,
    facts: &ConnectionFacts,
    _now: Timestamp,
) -> Result<ConnectionPolicies, jitr_core::Error> {
    let names = registry
        .list_attached_policies(&facts.certificate_arn)?
        .into_iter()
        .map(|p| p.policy_name)
        .collect();
    Ok(ConnectionPolicies { names })
}
