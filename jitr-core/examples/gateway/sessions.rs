//! Live sessions, and the change feed that closes them.
//!
//! Each account's registry feed ([`Registry::subscribe`]) delivers every committed
//! change — made by this node, another node on the same PostgreSQL store, or the Python
//! tooling on the same SQLite file — in commit order. A session is closed when:
//! - its certificate leaves `ACTIVE` (UpdateCertificate to `INACTIVE` or `REVOKED`, a
//!   transfer, DeleteCertificate): AWS disconnects such devices
//!   (<https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html>);
//! - its policies stop allowing `iot:Connect` for its client id (a policy detached,
//!   deleted, or given a new default version; a thing attached or detached): its
//!   policies are compiled again and checked;
//! - an operator calls DeleteConnection for its client id
//!   (<https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_DeleteConnection.html>).
//!
//! A CA's changes do not close sessions: AWS keeps the devices of a deactivated CA
//! connected ("the certificates it signed stay ACTIVE",
//! <https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCACertificate.html>).

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use jitr_core::store::PolicyRow;
use jitr_core::{CertificateId, CertificateStatus, Change, Committed, Registry, Timestamp};
use tokio::sync::Notify;

use crate::policy::{Act, ConnectionFacts, ConnectionPolicies, PolicyCache};

/// Why the gateway closes a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The certificate is not `ACTIVE` any more.
    CertificateNotActive(String),
    /// The policies no longer allow `iot:Connect` for the client id.
    ConnectDenied,
    /// An operator's DeleteConnection.
    DeleteConnection {
        clean_session: bool,
        prevent_will_message: bool,
    },
    /// The gateway is shutting down.
    Shutdown,
}

impl CloseReason {
    /// A stable label for logs and metrics.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::CertificateNotActive(_) => "certificate_not_active",
            Self::ConnectDenied => "connect_denied",
            Self::DeleteConnection { .. } => "delete_connection",
            Self::Shutdown => "shutdown",
        }
    }
}

/// One live session: who it is, what it may do, and how to close it.
pub(crate) struct Session {
    pub(crate) id: u64,
    pub(crate) certificate_id: CertificateId,
    pub(crate) facts: ConnectionFacts,
    pub(crate) registry: Arc<Registry>,
    pub(crate) policies: ArcSwap<ConnectionPolicies>,
    close: Mutex<Option<CloseReason>>,
    notify: Notify,
}

impl Session {
    /// Asks the session to close (the first reason wins).
    pub(crate) fn close(&self, reason: CloseReason) {
        let mut slot = self.close.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(reason);
        }
        drop(slot);
        self.notify.notify_one();
    }

    /// Waits until the session is asked to close; returns why.
    pub(crate) async fn closed(&self) -> CloseReason {
        loop {
            if let Some(r) = self
                .close
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
            {
                return r;
            }
            self.notify.notified().await;
        }
    }

    /// Whether `act` on `name` is allowed now.
    pub(crate) fn allows(&self, act: Act, name: &str) -> bool {
        self.policies.load().allows(act, name, Timestamp::now())
    }
}

#[derive(Default)]
struct Maps {
    /// By certificate, then session id: a certificate's sessions are one range, and a
    /// session costs one entry (no list per certificate).
    by_certificate: BTreeMap<(CertificateId, u64), Arc<Session>>,
    by_client: HashSet<ByClient>,
}

/// A session in the by-client-id set, found by the client id it holds (the set keeps
/// no copy of the id).
struct ByClient(Arc<Session>);

impl Borrow<str> for ByClient {
    fn borrow(&self) -> &str {
        &self.0.facts.client_id
    }
}

impl PartialEq for ByClient {
    fn eq(&self, other: &Self) -> bool {
        self.0.facts.client_id == other.0.facts.client_id
    }
}

impl Eq for ByClient {}

impl Hash for ByClient {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As the borrowed `str` hashes: lookups by `&str` find it.
        self.0.facts.client_id.as_str().hash(state);
    }
}

/// The live sessions of this node, and the policy cache their checks read.
#[derive(Default)]
pub(crate) struct Sessions {
    maps: Mutex<Maps>,
    next: AtomicU64,
    pub(crate) policies: PolicyCache,
}

/// A live session in the table, removed from it when dropped.
pub(crate) struct Registration {
    sessions: Arc<Sessions>,
    session: Arc<Session>,
}

impl Registration {
    /// The session.
    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.session
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut m = self.sessions.lock();
        let s = &self.session;
        m.by_certificate.remove(&(s.certificate_id, s.id));
        if m.by_client.get(s.facts.client_id.as_str()).map(|x| x.0.id) == Some(s.id) {
            m.by_client.remove(s.facts.client_id.as_str());
        }
        metrics::gauge!("jitr_gateway_sessions").decrement(1.0);
    }
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a session. Another session of this node with the same client id is closed,
    /// as AWS closes the older connection of a client id
    /// (<https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html>).
    pub(crate) fn add(
        self: &Arc<Self>,
        certificate_id: CertificateId,
        facts: ConnectionFacts,
        registry: Arc<Registry>,
        policies: ConnectionPolicies,
    ) -> Registration {
        let session = Arc::new(Session {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            certificate_id,
            facts,
            registry,
            policies: ArcSwap::from_pointee(policies),
            close: Mutex::new(None),
            notify: Notify::new(),
        });
        let mut m = self.lock();
        m.by_certificate
            .insert((certificate_id, session.id), session.clone());
        // The broker closes the older upstream session too (a session takeover); this
        // node's older client is told now.
        if let Some(ByClient(old)) = m.by_client.replace(ByClient(session.clone())) {
            old.close(CloseReason::DeleteConnection {
                clean_session: false,
                prevent_will_message: false,
            });
        }
        drop(m);
        metrics::gauge!("jitr_gateway_sessions").increment(1.0);
        Registration {
            sessions: self.clone(),
            session,
        }
    }

    /// DeleteConnection: closes the session of `client_id`; false when none is live on
    /// this node.
    pub(crate) fn delete_connection(
        &self,
        client_id: &str,
        clean_session: bool,
        prevent_will_message: bool,
    ) -> bool {
        let found = self.lock().by_client.get(client_id).map(|b| b.0.clone());
        match found {
            Some(s) => {
                s.close(CloseReason::DeleteConnection {
                    clean_session,
                    prevent_will_message,
                });
                true
            }
            None => false,
        }
    }

    /// Every session, or the sessions of one certificate.
    fn of_certificate(&self, id: &CertificateId) -> Vec<Arc<Session>> {
        self.lock()
            .by_certificate
            .range((*id, 0)..=(*id, u64::MAX))
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// The sessions of the certificate `arn` names (none for another kind of ARN).
    fn of_certificate_arn(&self, registry: &Registry, arn: &str) -> Vec<Arc<Session>> {
        match registry.scope().parse_certificate_arn(arn) {
            Ok(id) => self.of_certificate(&id),
            Err(_) => Vec::new(),
        }
    }

    fn all(&self) -> Vec<Arc<Session>> {
        self.lock().by_client.iter().map(|b| b.0.clone()).collect()
    }

    /// Closes every session (shutdown).
    pub(crate) fn close_all(&self, reason: CloseReason) {
        for s in self.all() {
            s.close(reason.clone());
        }
    }

    /// The number of live sessions.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().by_client.len()
    }

    /// Applies one committed change of `registry`'s account to the live sessions.
    pub(crate) fn apply(&self, registry: &Registry, c: &Committed) {
        let scope = registry.scope();
        let mine = |s: &Arc<Session>| s.registry.scope() == scope;
        self.policies.invalidate(&c.change);
        match &c.change {
            Change::CertificateStatusChanged {
                certificate_id,
                status,
                meta,
                ..
            } if *status != CertificateStatus::Active => {
                let lag = Timestamp::now().unix_millis() - meta.last_modified_date.unix_millis();
                self.evict(
                    self.of_certificate(certificate_id)
                        .into_iter()
                        .filter(mine)
                        .collect(),
                    CloseReason::CertificateNotActive(status.to_string()),
                    Some(lag),
                );
            }
            Change::CertificateDeleted { certificate_id } => self.evict(
                self.of_certificate(certificate_id)
                    .into_iter()
                    .filter(mine)
                    .collect(),
                CloseReason::CertificateNotActive("DELETED".into()),
                None,
            ),
            // A policy attached to or detached from the certificate, or the certificate
            // to or from a thing: its policies, or what their thing variables resolve
            // to, may differ.
            Change::PolicyAttached { target: arn, .. }
            | Change::PolicyDetached { target: arn, .. }
            | Change::ThingPrincipalAttached { principal: arn, .. }
            | Change::ThingPrincipalDetached { principal: arn, .. } => {
                let affected = self
                    .of_certificate_arn(registry, arn)
                    .into_iter()
                    .filter(mine)
                    .collect();
                self.recompile(registry, affected);
            }
            // A policy's versions changed, or the policy is gone: the sessions that hold
            // it.
            Change::PolicyVersionsChanged(PolicyRow { policy_name, .. })
            | Change::PolicyDeleted { policy_name } => {
                let affected = self
                    .all()
                    .into_iter()
                    .filter(|s| mine(s) && s.policies.load().names().contains(policy_name))
                    .collect();
                self.recompile(registry, affected);
            }
            // A thing changed: the policies' thing variables may resolve differently.
            Change::ThingUpdated { .. } | Change::ThingDeleted(_) => {
                let affected = self.all().into_iter().filter(mine).collect();
                self.recompile(registry, affected);
            }
            Change::AccountImported => {
                let all: Vec<_> = self.all().into_iter().filter(mine).collect();
                for s in &all {
                    match registry.describe_certificate(&s.certificate_id) {
                        Ok(d) if d.status == CertificateStatus::Active => {}
                        Ok(d) => s.close(CloseReason::CertificateNotActive(d.status.to_string())),
                        Err(_) => s.close(CloseReason::CertificateNotActive("DELETED".into())),
                    }
                }
                self.recompile(registry, all);
            }
            _ => {}
        }
    }

    fn evict(&self, sessions: Vec<Arc<Session>>, reason: CloseReason, lag_ms: Option<i64>) {
        for s in sessions {
            tracing::info!(
                certificate_id = %s.certificate_id,
                client_id = %s.facts.client_id,
                reason = reason.label(),
                "evicting a live session"
            );
            metrics::counter!("jitr_gateway_evictions_total", "reason" => reason.label())
                .increment(1);
            if let Some(ms) = lag_ms {
                metrics::histogram!("jitr_gateway_eviction_lag_seconds")
                    .record(ms.max(0) as f64 / 1000.0);
            }
            s.close(reason.clone());
        }
    }

    /// Compiles the sessions' policies again; closes those whose client id may no longer
    /// connect.
    fn recompile(&self, registry: &Registry, sessions: Vec<Arc<Session>>) {
        for s in sessions {
            let now = Timestamp::now();
            match self
                .policies
                .compile(registry, &s.certificate_id, &s.facts, now)
            {
                Ok(p) => {
                    let allowed = p.allows(Act::Connect, &s.facts.client_id, now);
                    s.policies.store(Arc::new(p));
                    if !allowed {
                        self.evict(vec![s], CloseReason::ConnectDenied, None);
                    }
                }
                Err(e) => tracing::warn!(
                    certificate_id = %s.certificate_id,
                    error = %e,
                    "could not read the policies again; the session keeps its compiled ones"
                ),
            }
        }
    }
}

/// Follows one account's change feed on a thread of its own and applies each change to
/// the live sessions, until the registry is closed.
pub(crate) fn follow(sessions: Arc<Sessions>, registry: Arc<Registry>) {
    let feed = registry.subscribe();
    let name = format!("jitr-evict-{}", registry.scope().account());
    let spawned = std::thread::Builder::new().name(name).spawn(move || loop {
        match feed.recv_timeout(Duration::from_millis(500)) {
            Some(c) => sessions.apply(&registry, &c),
            None if Arc::strong_count(&registry) == 1 => return,
            None => {}
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the eviction thread");
    }
}
