//! Policy enforcement, in one place: what a connection may do, compiled once at CONNECT
//! from the policies attached to its certificate, and compiled again when they change.
//!
//! The attached policies' documents are cached per certificate ARN and kept right by the
//! change feed (attach, detach, a new default version, delete, import), so a CONNECT
//! reads the store only for a certificate it has not seen, and known devices still
//! connect while the store is unreachable (the store issue's fail-open rule for known
//! devices).
//!
//! Until jitr's policy engine lands on main, evaluation allows every action (the gateway
//! then enforces certificate status only).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use jitr_core::{Certificate, Change, Registry, Timestamp};

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

/// A policy's name and its default version's document.
type Attached = Arc<Vec<(String, String)>>;

/// The attached policies of the certificates this node has seen, by certificate ARN.
#[derive(Default)]
pub(crate) struct PolicyCache {
    by_target: Mutex<HashMap<String, Attached>>,
}

impl PolicyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Attached>> {
        self.by_target
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The policies attached to `arn`, from the cache or the store.
    fn attached(&self, registry: &Registry, arn: &str) -> Result<Attached, jitr_core::Error> {
        if let Some(a) = self.lock().get(arn) {
            return Ok(a.clone());
        }
        let mut out = Vec::new();
        for p in registry.list_attached_policies(arn)? {
            let doc = registry.get_policy(&p.policy_name)?;
            out.push((p.policy_name, doc.policy_document));
        }
        let out = Arc::new(out);
        self.lock().insert(arn.to_owned(), out.clone());
        Ok(out)
    }

    /// Forgets what a committed change makes stale.
    pub(crate) fn invalidate(&self, change: &Change) {
        let mut m = self.lock();
        match change {
            Change::PolicyAttached { target, .. } | Change::PolicyDetached { target, .. } => {
                m.remove(target);
            }
            Change::PolicyVersionsChanged(row) => {
                m.retain(|_, a| !a.iter().any(|(n, _)| *n == row.policy_name));
            }
            Change::PolicyDeleted { policy_name } => {
                m.retain(|_, a| !a.iter().any(|(n, _)| n == policy_name));
            }
            Change::CertificateDeleted { .. } | Change::AccountImported => m.clear(),
            _ => {}
        }
    }

    /// Compiles the policies attached to the connection's certificate.
    pub(crate) fn compile(
        &self,
        registry: &Registry,
        facts: &ConnectionFacts,
        _now: Timestamp,
    ) -> Result<ConnectionPolicies, jitr_core::Error> {
        let attached = self.attached(registry, &facts.certificate_arn)?;
        Ok(ConnectionPolicies {
            names: attached.iter().map(|(n, _)| n.clone()).collect(),
        })
    }
}
