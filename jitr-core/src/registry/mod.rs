//! The registry: CA and device certificates of one account in one region, their
//! policies, and the JITR decision, over a [`Store`].

mod authz;
mod ca;
pub(crate) mod decide;
mod device;
mod group;
pub(crate) mod index;
mod issue;
mod list;
mod load;
mod policy;
mod preflight;
mod provisioning;
mod shard;
mod state;
mod thing;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::event::EventSink;
use crate::id::CertificateId;
use crate::scope::Scope;
#[cfg(feature = "bench-internals")]
use crate::status::CertificateStatus;
use crate::store::{CaRow, Change, Committed, HotRow, Reader, Store};

pub use authz::ConnectionInfo;
pub use ca::{
    check_verification_certificate, CaCertificateDescription, DescribeCaCertificateResponse,
    RegisterCaCertificateRequest, RegistrationConfig, Tag, UpdateCaCertificateRequest,
    MAX_CA_PEM_LEN, MAX_TEMPLATE_BODY_LEN,
};
pub use decide::{Decision, PathOptions, RefusalReason, RequiredEku};
pub use device::{
    CertificateDescription, RegisterCertificateRequest, RegisterCertificateResponse, TransferData,
};
pub use group::{GroupNameAndArn, ThingGroupDescription, ThingGroupRow};
#[cfg(feature = "tooling")]
pub use issue::CreateKeysAndCertificateResponse;
pub use issue::{EndpointRow, IssuerRow};
pub use list::{
    CaCertificateSummary, CertificateSummary, ListRequest, Page, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
pub use policy::{
    validate_policy_document, validate_policy_name, AttachedPolicy, CreatePolicyResponse,
    CreatePolicyVersionResponse, EffectivePolicy, GetPolicyResponse, GetPolicyVersionResponse,
    PolicyVersionSummary, MAX_POLICIES_PER_TARGET, MAX_POLICY_DOCUMENT_LEN, MAX_POLICY_VERSIONS,
};
pub use preflight::{preflight, PreflightCa, PreflightCertificate};
pub(crate) use provisioning::Provisioned;
pub use provisioning::{
    ProvisioningFailureRow, ProvisioningTemplateDescription, ProvisioningTemplateRow,
    ProvisioningTemplateSummary,
};
pub use state::{CaCertificateState, CertificateState, PolicyState, RegistryState};
pub use thing::{
    validate_thing_name, AttributePayload, CreateThingResponse, CreateThingTypeResponse,
    ThingDescription, ThingFilter, ThingPrincipalType, ThingSummary, ThingTypeDescription,
    ThingTypeMetadata, ThingTypeProperties, MAX_TAGS, MAX_THING_ATTRIBUTES,
};

/// Knobs for where AWS leaves a choice to jitr (`docs/behaviour.md`). The defaults refuse.
///
/// Front ends set the knobs by name through [`RegistryConfig::from_json`] and list them,
/// with their defaults, through [`RegistryConfig::to_json`], so a knob added here reaches
/// every binding without a change there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RegistryConfig {
    /// Refuse to register an unknown device whose chain is its certificate alone when the
    /// client sent no SNI (AWS needs the CA in the chain or SNI). Default: true.
    pub require_sni_for_leaf_only: bool,
    /// Check the verification certificate's validity period on CA registration.
    /// Default: true.
    pub check_verification_certificate_validity: bool,
    /// The most CA certificates with the same subject in one account. Default: 10.
    pub max_cas_per_subject: usize,
    /// Accept X.509 v1 device certificates (no extensions), as AWS IoT does: what
    /// `openssl x509 -req` issues without an extensions file, as in AWS's own JITR
    /// walkthrough. rustls-webpki refuses v1 certificates, so jitr checks such a leaf
    /// itself: directly signed by a registered CA (the same index), signature verified
    /// with that CA's key, valid now. Default: true.
    pub accept_v1_device_certificates: bool,
    /// What the decision does for a known certificate while the store cannot be reached.
    /// Default: [`StoreOutage::AllowKnown`].
    pub store_outage: StoreOutage,
}

/// While the store cannot be reached: new certificates are always refused
/// (`STORE_UNAVAILABLE`: they cannot be registered); this chooses what happens to
/// certificates the node already knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum StoreOutage {
    /// Decide known certificates from the node's cache (fail open for known devices):
    /// an `ACTIVE` certificate still connects.
    #[default]
    AllowKnown,
    /// Refuse every connection as `STORE_UNAVAILABLE` (fail closed).
    RefuseAll,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            require_sni_for_leaf_only: true,
            check_verification_certificate_validity: true,
            max_cas_per_subject: 10,
            accept_v1_device_certificates: true,
            store_outage: StoreOutage::default(),
        }
    }
}

impl RegistryConfig {
    /// Every knob with its value, as a JSON object keyed by the field names (e.g.
    /// `{"max_cas_per_subject": 10, ...}`); `RegistryConfig::default().to_json()` lists the
    /// knobs and their defaults.
    ///
    /// ```
    /// use jitr_core::RegistryConfig;
    /// let defaults = RegistryConfig::default().to_json();
    /// assert_eq!(defaults["max_cas_per_subject"], 10);
    /// assert_eq!(RegistryConfig::from_json(&defaults).unwrap(), RegistryConfig::default());
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        // Booleans and integers: serializing cannot fail.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// A configuration from a JSON object of knobs named as in [`to_json`](Self::to_json);
    /// an absent knob keeps its default. An unknown knob, a value of the wrong type or a
    /// value out of range is `InvalidRequestException`, and nothing is built.
    ///
    /// ```
    /// use jitr_core::RegistryConfig;
    /// use serde_json::json;
    /// let config = RegistryConfig::from_json(&json!({"max_cas_per_subject": 3})).unwrap();
    /// assert_eq!(config.max_cas_per_subject, 3);
    /// assert!(config.require_sni_for_leaf_only); // the default
    /// assert!(RegistryConfig::from_json(&json!({"no_such_knob": true})).is_err());
    /// ```
    pub fn from_json(knobs: &serde_json::Value) -> Result<Self, Error> {
        Self::deserialize(knobs).map_err(|e| {
            Error::InvalidRequest(format!(
                "invalid registry configuration: {}",
                crate::json_message::describe(&e)
            ))
        })
    }
}

/// The CA certificates, device certificates and policies of one (partition, region,
/// account), and the just-in-time registration decision over them.
///
/// The state lives in a [`Store`] (in memory unless opened on SQLite or PostgreSQL);
/// the registry keeps in RAM only what the decision needs: the hot index of device
/// certificates (28 bytes of entry per certificate, in 64 independently locked shards)
/// and the CA index. Every change goes through one commit point and is then applied to
/// those caches and handed to subscribers ([`subscribe`](Self::subscribe)); on a store other
/// processes share, a background thread follows the store's change feed so changes made
/// elsewhere reach this node's caches too.
///
/// `Registry` is `Send + Sync`; share it behind an `Arc`. Every operation takes the
/// current time as `now`: the registry never reads a clock.
pub struct Registry {
    scope: Scope,
    config: RegistryConfig,
    sink: Option<Arc<dyn EventSink>>,
    store: Store,
    caches: Arc<Caches>,
    follower: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What the decision reads, kept right by applying committed changes in feed order.
pub(crate) struct Caches {
    scope: Scope,
    shards: Box<[RwLock<shard::Shard>]>,
    ca_index: index::CaIndex,
    /// CA IDs by slot, for the hot entries: append-only, swapped whole on append.
    ca_slots: ArcSwap<Vec<CertificateId>>,
    ca_slot_of: Mutex<std::collections::HashMap<CertificateId, u32>>,
    /// The feed's sequence number the caches reflect; held while applying, so changes
    /// are applied and delivered in order.
    applied: Mutex<u64>,
    subscribers: Mutex<Vec<mpsc::Sender<Committed>>>,
    available: AtomicBool,
    /// Set when the registry is closed: the follower stops.
    closed: AtomicBool,
    generation: AtomicU64,
}

const SHARDS: usize = 64;

/// How long the follower waits for the store to announce changes before asking anyway.
const FOLLOW_WAIT: Duration = Duration::from_millis(250);

impl Registry {
    /// An empty registry for `scope` in memory, with a freshly minted registration code.
    pub fn new(scope: Scope) -> Self {
        Self::with_config(scope, RegistryConfig::default())
    }

    /// An empty in-memory registry with the given configuration.
    pub fn with_config(scope: Scope, config: RegistryConfig) -> Self {
        let reg = Self::in_store(scope, config, Store::memory());
        // Minting a code in a fresh memory store cannot fail.
        let _ = reg.get_registration_code();
        reg
    }

    /// The registry of `scope` on `store`: its caches are loaded from the store, and on
    /// a store other processes share (SQLite, PostgreSQL) a background thread follows the
    /// store's change feed until [`close`](Self::close) or drop.
    ///
    /// ```
    /// use jitr_core::{Registry, RegistryConfig, Scope, Store};
    /// let store = Store::open("memory:").unwrap();
    /// let scope = Scope::new("123456789012", "us-east-1").unwrap();
    /// let reg = Registry::open(scope, RegistryConfig::default(), &store).unwrap();
    /// assert_eq!(reg.certificate_count(), 0);
    /// ```
    pub fn open(scope: Scope, config: RegistryConfig, store: &Store) -> Result<Self, Error> {
        let reg = Self::in_store(scope, config, store.clone());
        reg.reload()?;
        if store.backend.is_shared() {
            reg.start_follower();
        }
        Ok(reg)
    }

    fn in_store(scope: Scope, config: RegistryConfig, store: Store) -> Self {
        Self {
            caches: Arc::new(Caches {
                scope: scope.clone(),
                shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
                ca_index: index::CaIndex::default(),
                ca_slots: ArcSwap::from_pointee(Vec::new()),
                ca_slot_of: Mutex::default(),
                applied: Mutex::new(0),
                subscribers: Mutex::default(),
                available: AtomicBool::new(true),
                closed: AtomicBool::new(false),
                generation: AtomicU64::new(0),
            }),
            scope,
            config,
            sink: None,
            store,
            follower: Mutex::new(None),
        }
    }

    /// Sets the sink that receives registration events. Builder-style: call before
    /// sharing the registry.
    pub fn with_event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Sets the registration code to a known one (64 hex characters), as when a test
    /// needs a fixed code. A committed change, like any other.
    pub fn with_registration_code(self, code: &str) -> Result<Self, Error> {
        validate_registration_code(code)?;
        let code = code.to_ascii_lowercase();
        self.commit(|_| Ok(((), vec![Change::RegistrationCodeSet { code: code.clone() }])))?;
        Ok(self)
    }

    /// The scope (partition, region, account).
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The configuration.
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// The store the registry keeps its state in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// GetRegistrationCode: the account's registration code, minted if there is none.
    /// On a shared store every process gets the same code.
    pub fn get_registration_code(&self) -> Result<String, Error> {
        self.commit(|r| match r.registration_code(&self.scope)? {
            Some(code) => Ok((code, Vec::new())),
            None => {
                let code = random_code();
                Ok((code.clone(), vec![Change::RegistrationCodeSet { code }]))
            }
        })
    }

    /// DeleteRegistrationCode: forgets the code; the next call to
    /// [`get_registration_code`](Self::get_registration_code) mints a new one.
    pub fn delete_registration_code(&self) -> Result<(), Error> {
        self.commit(|r| {
            let changes = match r.registration_code(&self.scope)? {
                Some(_) => vec![Change::RegistrationCodeDeleted],
                None => Vec::new(),
            };
            Ok(((), changes))
        })
    }

    /// The number of device certificates registered (from the hot index).
    pub fn certificate_count(&self) -> usize {
        self.caches.shards.iter().map(|s| read(s).len()).sum()
    }

    /// The number of CA certificates registered (from the CA index).
    pub fn ca_certificate_count(&self) -> usize {
        self.caches.ca_index.len()
    }

    /// Bytes held by the decision path's index of registered certificates (the hot
    /// entries: key, validity, status, CA), for capacity planning.
    pub fn hot_index_bytes(&self) -> usize {
        self.caches.shards.iter().map(|s| read(s).hot_bytes()).sum()
    }

    /// Benchmarks of the hot index only: inserts an `ACTIVE` hot entry with no record.
    /// Such an entry is decided like any `ACTIVE` certificate but cannot be described.
    #[cfg(feature = "bench-internals")]
    #[doc(hidden)]
    pub fn bench_insert_hot_active(&self, id: CertificateId, validity: &crate::Validity) {
        let entry = shard::HotEntry::new(CertificateStatus::Active, validity, shard::NO_CA);
        write(self.caches.shard(&id)).put(&id, entry, crate::Timestamp::from_unix_millis(0));
    }

    /// The registered CAs' subjects (DER, with the outer SEQUENCE), for TLS hints.
    pub fn ca_subjects(&self) -> Vec<Vec<u8>> {
        self.caches.ca_index.subjects()
    }

    /// Subscribes to the change feed: every change committed to this account from now
    /// on — by this registry, or by another process or node on the same store — in
    /// commit order, each once. Hosts use it to drop live sessions and invalidate what
    /// they cache. Dropping the [`Subscription`] unsubscribes.
    pub fn subscribe(&self) -> Subscription {
        let (tx, rx) = mpsc::channel();
        lock(&self.caches.subscribers).push(tx);
        Subscription(rx)
    }

    /// Whether the store answered the last time this registry asked it.
    pub fn store_available(&self) -> bool {
        self.caches.available.load(Ordering::Relaxed)
    }

    /// The feed's sequence number this registry's caches reflect.
    pub fn applied_seq(&self) -> u64 {
        *lock(&self.caches.applied)
    }

    /// Brings the caches up to every change committed to the store so far (the
    /// background follower does it continuously; a caller that needs another process's
    /// last change now, such as a command-line tool, calls this first).
    pub fn catch_up(&self) -> Result<(), Error> {
        if !self.store.backend.is_shared() {
            return Ok(());
        }
        let r = self.caches.catch_up(&self.store);
        self.note(&r);
        r
    }

    /// Stops following the store's feed (a no-op for the memory store). Changes this
    /// registry makes still apply; changes made elsewhere no longer reach its caches.
    /// Called on drop.
    pub fn close(&self) {
        self.caches.closed.store(true, Ordering::Relaxed);
        if let Some(handle) = lock(&self.follower).take() {
            let _ = handle.join();
        }
    }

    /// The one commit point. `f` reads what it needs inside the store's write
    /// transaction, checks its preconditions and returns its result and the changes to
    /// make; the store commits them atomically with the feed's next sequence numbers;
    /// then the caches apply them by delta and subscribers receive them. An error from
    /// `f` or the store leaves everything unchanged.
    pub(crate) fn commit<T>(
        &self,
        mut f: impl FnMut(&mut dyn Reader) -> Result<(T, Vec<Change>), Error>,
    ) -> Result<T, Error> {
        let mut out = None;
        let result = self.store.backend.write(&self.scope, &mut |r| {
            let (t, changes) = f(r)?;
            out = Some(t);
            Ok(changes)
        });
        self.note(&result);
        let committed = result?;
        let applied = self.caches.advance(&self.store, committed);
        self.note(&applied);
        applied?;
        ran(out, "commit", "the transaction committed without a result")
    }

    /// Reads the committed state.
    pub(crate) fn read<T>(
        &self,
        mut f: impl FnMut(&mut dyn Reader) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut out = None;
        let result = self.store.backend.read(&mut |r| {
            out = Some(f(r)?);
            Ok(())
        });
        self.note(&result);
        result?;
        ran(out, "read", "the read finished without a result")
    }

    /// Records whether the store answered.
    fn note<T>(&self, result: &Result<T, Error>) {
        let available = !matches!(result, Err(Error::ServiceUnavailable(_)));
        self.caches.available.store(available, Ordering::Relaxed);
    }

    /// Loads the caches from the store.
    fn reload(&self) -> Result<(), Error> {
        let r = self.caches.reload(&self.store);
        self.note(&r);
        r
    }

    fn start_follower(&self) {
        let caches = Arc::downgrade(&self.caches);
        let store = self.store.clone();
        let handle = std::thread::Builder::new()
            .name(format!("jitr-feed-{}", self.scope.account()))
            .spawn(move || follow(&caches, &store));
        if let Ok(h) = handle {
            *lock(&self.follower) = Some(h);
        }
    }

    fn publish(&self, event: &crate::RegistrationEvent) {
        if let Some(sink) = &self.sink {
            sink.publish(&event.topic(), event);
        }
    }

    fn ca_not_found(id: &CertificateId) -> Error {
        Error::not_found(crate::error::ResourceKind::CaCertificate, id)
    }

    fn cert_not_found(id: &CertificateId) -> Error {
        Error::not_found(crate::error::ResourceKind::Certificate, id)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.close();
    }
}

impl core::fmt::Debug for Registry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry")
            .field("scope", &self.scope)
            .field("store", &self.store)
            .field("ca_certificates", &self.ca_certificate_count())
            .field("certificates", &self.certificate_count())
            .finish_non_exhaustive()
    }
}

/// A subscription to a registry's change feed ([`Registry::subscribe`]).
#[derive(Debug)]
pub struct Subscription(mpsc::Receiver<Committed>);

impl Subscription {
    /// The next change, waiting up to `timeout`; `None` if none came.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Committed> {
        self.0.recv_timeout(timeout).ok()
    }

    /// The next change if one is waiting.
    pub fn try_recv(&self) -> Option<Committed> {
        self.0.try_recv().ok()
    }

    /// Every change, blocking between them; ends when the registry is dropped.
    pub fn iter(&self) -> impl Iterator<Item = Committed> + '_ {
        self.0.iter()
    }
}

/// The follower: waits for the store to announce changes and applies them, until the
/// registry is closed or dropped. A store that fails is retried with backoff; changes
/// missed meanwhile are caught up from the feed (or by a reload, if they were pruned).
fn follow(caches: &Weak<Caches>, store: &Store) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let Some(c) = caches.upgrade() else { return };
        if c.closed.load(Ordering::Relaxed) {
            return;
        }
        drop(c);
        // Only a node that is behind reads the feed: after this node's own commits (the
        // changes it announces wake it too) and on SQLite's idle polls, it is not.
        let result = store.backend.wait(FOLLOW_WAIT).and_then(|head| {
            let Some(c) = caches.upgrade() else {
                return Ok(());
            };
            let behind = head > *lock(&c.applied);
            if behind {
                c.catch_up(store)
            } else {
                Ok(())
            }
        });
        let Some(c) = caches.upgrade() else { return };
        match result {
            Ok(()) => {
                c.available.store(true, Ordering::Relaxed);
                backoff = Duration::from_millis(50);
            }
            Err(_) => {
                c.available.store(false, Ordering::Relaxed);
                drop(c);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

impl Caches {
    fn shard(&self, id: &CertificateId) -> &RwLock<shard::Shard> {
        &self.shards[Self::shard_index(id)]
    }

    fn shard_index(id: &CertificateId) -> usize {
        usize::from(id.as_bytes()[0]) % SHARDS
    }

    /// The slot of a CA ID in the hot entries' CA table, interning it if new.
    fn ca_slot(&self, ca: Option<CertificateId>) -> u32 {
        let Some(ca) = ca else {
            return shard::NO_CA;
        };
        let mut slots = lock(&self.ca_slot_of);
        if let Some(s) = slots.get(&ca) {
            return *s;
        }
        let mut table = Vec::clone(&self.ca_slots.load());
        let slot = u32::try_from(table.len())
            .unwrap_or(shard::NO_CA)
            .min(shard::NO_CA);
        if slot == shard::NO_CA {
            return slot; // 536 million CAs: the CA is then unknown to the hot entry.
        }
        table.push(ca);
        self.ca_slots.store(Arc::new(table));
        slots.insert(ca, slot);
        slot
    }

    fn ca_of_slot(&self, slot: u32) -> Option<CertificateId> {
        self.ca_slots.load().get(slot as usize).copied()
    }

    fn put_certificate(&self, row: &HotRow) {
        let slot = self.ca_slot(row.ca_id);
        let entry = shard::HotEntry::new(row.status, &row.validity, slot);
        write(self.shard(&row.id)).put(&row.id, entry, row.creation_date);
    }

    /// Applies one change of this account to the caches.
    fn apply(&self, change: &Change) {
        match change {
            Change::CaCertificateRegistered(row) => {
                if let Some(entry) = index::CaEntry::of_row(row) {
                    self.ca_index.put(entry);
                }
            }
            Change::CaCertificateUpdated {
                certificate_id,
                status,
                auto_registration_status,
                registration_config,
                ..
            } => self.ca_index.update(
                certificate_id,
                *status,
                *auto_registration_status,
                registration_config.is_some(),
            ),
            Change::CaCertificateDeleted { certificate_id } => {
                self.ca_index.remove(certificate_id);
            }
            Change::CertificateRegistered(row) => self.put_certificate(&HotRow {
                id: row.certificate_id,
                ca_id: row.ca_certificate_id,
                status: row.status,
                validity: row.validity,
                creation_date: row.meta.creation_date,
            }),
            Change::CertificateStatusChanged {
                certificate_id,
                status,
                meta,
                ..
            } => {
                write(self.shard(certificate_id)).set_status(
                    certificate_id,
                    *status,
                    meta.creation_date,
                );
            }
            Change::CertificateDeleted { certificate_id } => {
                write(self.shard(certificate_id)).remove(certificate_id);
            }
            _ => {}
        }
    }

    /// Applies changes this process committed, in feed order: on a shared store a gap
    /// before them (changes committed elsewhere, not yet followed) is caught up first.
    fn advance(&self, store: &Store, committed: Vec<Committed>) -> Result<(), Error> {
        let Some(first) = committed.first() else {
            return Ok(());
        };
        let mut applied = lock(&self.applied);
        if store.backend.is_shared() && first.seq > *applied + 1 {
            self.catch_up_locked(store, &mut applied, first.seq - 1)?;
        }
        for c in committed {
            if store.backend.is_shared() && c.seq <= *applied {
                continue; // the follower got there first
            }
            self.deliver(store, &mut applied, c)?;
        }
        Ok(())
    }

    fn deliver(&self, store: &Store, applied: &mut u64, c: Committed) -> Result<(), Error> {
        *applied = c.seq;
        if c.scope != self.scope {
            return Ok(());
        }
        if c.change == Change::AccountImported {
            self.reload_locked(store, applied)?;
        } else {
            self.apply(&c.change);
        }
        let mut subscribers = lock(&self.subscribers);
        subscribers.retain(|s| s.send(c.clone()).is_ok());
        Ok(())
    }

    fn catch_up(&self, store: &Store) -> Result<(), Error> {
        let mut applied = lock(&self.applied);
        self.catch_up_locked(store, &mut applied, u64::MAX)
    }

    /// Applies the feed's changes after `applied`, up to `until`.
    fn catch_up_locked(&self, store: &Store, applied: &mut u64, until: u64) -> Result<(), Error> {
        loop {
            let Some(batch) = store.backend.changes_since(*applied, 1024)? else {
                // Pruned past us: start again from the store's state.
                return self.reload_locked(store, applied);
            };
            let Some(last) = batch.last().map(|c| c.seq) else {
                return Ok(());
            };
            for c in batch {
                if c.seq > until {
                    return Ok(());
                }
                if c.seq > *applied {
                    self.deliver(store, applied, c)?;
                }
            }
            if last >= until {
                return Ok(());
            }
        }
    }

    fn reload(&self, store: &Store) -> Result<(), Error> {
        let mut applied = lock(&self.applied);
        self.reload_locked(store, &mut applied)
    }

    fn reload_locked(&self, store: &Store, applied: &mut u64) -> Result<(), Error> {
        for s in self.shards.iter() {
            write(s).clear();
        }
        self.ca_index.clear();
        let (seq, cas) = self.load_rows(store);
        let seq = seq?;
        for row in &cas {
            if let Some(entry) = index::CaEntry::of_row(row) {
                self.ca_index.put(entry);
            }
        }
        *applied = seq;
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Streams the store's rows into the shards; returns the load's outcome and the CA
    /// rows. Natively the two halves overlap: this thread decodes the rows the store
    /// streams and a second one inserts them (at 10 M certificates the inserts are a
    /// fifth to a third of the work); without threads (wasm32), or if one cannot be
    /// started, the rows are inserted as they come.
    fn load_rows(&self, store: &Store) -> (Result<u64, Error>, Vec<CaRow>) {
        #[cfg(not(target_arch = "wasm32"))]
        let loaded = self.load_overlapped(store);
        #[cfg(target_arch = "wasm32")]
        let loaded = {
            let mut load = load::Decode::new(self, load::Sink::Insert(load::Insert::new(self)));
            let seq = store.backend.load(&self.scope, &mut load);
            (seq, load.finish())
        };
        loaded
    }

    /// The load with a second thread inserting what this one decodes.
    #[cfg(not(target_arch = "wasm32"))]
    fn load_overlapped(&self, store: &Store) -> (Result<u64, Error>, Vec<CaRow>) {
        let (tx, rx) = mpsc::sync_channel(load::IN_FLIGHT);
        let (recycle, reuse) = mpsc::channel();
        std::thread::scope(|scope| {
            let inserter = std::thread::Builder::new()
                .name("jitr-load".into())
                .spawn_scoped(scope, move || {
                    let mut insert = load::Insert::new(self);
                    for mut chunk in rx {
                        insert.extend(&mut chunk);
                        // Once the decoder is done nobody takes it back: it is dropped.
                        let _ = recycle.send(chunk);
                    }
                    insert.finish();
                });
            let sink = match &inserter {
                Ok(_) => load::Sink::Send {
                    tx,
                    reuse,
                    chunk: Vec::new(),
                },
                Err(_) => load::Sink::Insert(load::Insert::new(self)),
            };
            let mut load = load::Decode::new(self, sink);
            let seq = store.backend.load(&self.scope, &mut load);
            // Closing the sink drops the sender, which ends the inserter's loop; joining
            // it waits for its last inserts (and turns a panic there into an error).
            let cas = load.finish();
            let seq = match inserter.map(|t| t.join()) {
                Ok(Err(_)) => Err(Error::Internal(crate::error::InternalError::new(
                    "load",
                    "the thread inserting the hot index stopped",
                ))),
                _ => seq,
            };
            (seq, cas)
        })
    }
}

/// Checks a resource name: 1 to `max` characters, each an ASCII letter or digit or one of
/// `symbols`; else `InvalidRequestException` saying `name` (cut to a readable length) is
/// not `what` (`a thing name`, …) and that it takes 1 to `max` characters of `allowed`.
pub(crate) fn check_name(
    name: &str,
    what: impl core::fmt::Display,
    max: usize,
    symbols: &str,
    allowed: &str,
) -> Result<(), Error> {
    let ok = (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || symbols.as_bytes().contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "{:?} is not {what}: 1 to {max} characters of {allowed}",
            crate::id::truncate_for_message(name)
        )))
    }
}

/// Optimistic locking (`expectedVersion`): `Ok` when no version is expected or `what` is
/// at it; else `VersionConflictException` saying `what` is at `actual`, then `note`.
pub(crate) fn check_version(
    what: impl core::fmt::Display,
    expected: Option<u64>,
    actual: u64,
    note: &str,
) -> Result<(), Error> {
    match expected {
        Some(v) if v != actual => Err(Error::VersionConflict(format!(
            "{what} is at version {actual}, not {v}{note}"
        ))),
        _ => Ok(()),
    }
}

/// `[change()]` when `needed`, else no change: an operation whose effect is already in
/// place (an attachment that exists, a detachment of what is not attached, an update to
/// the current values) commits nothing.
pub(crate) fn change_if(needed: bool, change: impl FnOnce() -> Change) -> Vec<Change> {
    needed.then(change).into_iter().collect()
}

/// The result a store call's closure left in `out`: a store that answers `Ok` without
/// having run it is jitr's fault, an internal error (`op`, `detail`).
fn ran<T>(out: Option<T>, op: &'static str, detail: &'static str) -> Result<T, Error> {
    out.ok_or_else(|| Error::Internal(crate::error::InternalError::new(op, detail)))
}

pub(crate) fn validate_registration_code(code: &str) -> Result<(), Error> {
    if code.len() == 64 && code.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::InvalidRequest(
            "a registration code is 64 hexadecimal characters".into(),
        ))
    }
}

/// Locks ignoring poisoning: every write leaves the maps consistent before anything can
/// panic, so a poisoned lock holds good data.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    if ring::rand::SystemRandom::new().fill(&mut out).is_err() {
        // No system randomness (a sandbox without getrandom): fall back to a hash of a
        // process-wide counter and the address of a stack value. Unique, not secret.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let seed = [
            n.to_le_bytes(),
            (&out as *const _ as usize as u64).to_le_bytes(),
        ]
        .concat();
        let digest = ring::digest::digest(&ring::digest::SHA256, &seed);
        for (o, d) in out.iter_mut().zip(digest.as_ref().iter().cycle()) {
            *o = *d;
        }
    }
    out
}

pub(crate) fn new_generation_id() -> String {
    uuid::Builder::from_random_bytes(random_bytes())
        .into_uuid()
        .to_string()
}

pub(crate) fn random_code() -> String {
    hex::encode(random_bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name check refuses with the words it had before it was one rule, and takes
    /// the names it took (`check_name`).
    #[test]
    fn name_checks_refuse_as_before() {
        let refusal = |r: Result<(), Error>| match r {
            Err(Error::InvalidRequest(m)) => m,
            other => panic!("not refused: {other:?}"),
        };
        let long = "a".repeat(129);
        let cases: [(Result<(), Error>, String); 6] = [
            (
                provisioning::validate_template_name("a b"),
                "\"a b\" is not a template name: 1 to 36 characters of letters, digits, _ and -"
                    .into(),
            ),
            (
                provisioning::validate_template_name(&"a".repeat(37)),
                format!(
                    "{:?} is not a template name: 1 to 36 characters of letters, digits, _ and -",
                    "a".repeat(37)
                ),
            ),
            (
                validate_policy_name("é"),
                "\"é\" is not a policy name: 1 to 128 characters of letters, digits and _+=,.@-"
                    .into(),
            ),
            (
                validate_policy_name(""),
                "\"\" is not a policy name: 1 to 128 characters of letters, digits and _+=,.@-"
                    .into(),
            ),
            (
                validate_thing_name("a/b", "thing type name"),
                "\"a/b\" is not a thing type name: 1 to 128 characters of letters, digits and :_-"
                    .into(),
            ),
            (
                thing::validate_attributes(&[(long.clone(), "v".to_string())].into()),
                format!(
                    "{:?} is not an attribute name: 1 to 128 characters of letters, digits and _.,@/:#-",
                    crate::id::truncate_for_message(&long)
                ),
            ),
        ];
        for (result, message) in cases {
            assert_eq!(refusal(result), message);
        }
        provisioning::validate_template_name(&"a_-9".repeat(9)).unwrap();
        validate_policy_name(&"a_+=,.@-".repeat(16)).unwrap();
        validate_thing_name(&"a:_-".repeat(32), "thing name").unwrap();
        thing::validate_attributes(&[("a_.,@/:#-".to_string(), "x=[]".to_string())].into())
            .unwrap();
    }

    /// A version conflict says what it said before it was one rule; no expected version,
    /// or the expected one, passes.
    #[test]
    fn version_checks_refuse_as_before() {
        let id = CertificateId::of_der(b"c");
        let conflict = |r: Result<(), Error>| match r {
            Err(Error::VersionConflict(m)) => m,
            other => panic!("no conflict: {other:?}"),
        };
        assert_eq!(
            conflict(check_version(format_args!("the thing t"), Some(2), 3, "")),
            "the thing t is at version 3, not 2"
        );
        assert_eq!(
            conflict(check_version(
                format_args!("the certificate {id}"),
                Some(1),
                2,
                ": it changed since it was read"
            )),
            format!("the certificate {id} is at version 2, not 1: it changed since it was read")
        );
        check_version("the thing group g", None, 3, "").unwrap();
        check_version("the thing group g", Some(3), 3, "").unwrap();
    }

    /// A thingPrincipalType parses by its exact name, else says so as it did.
    #[test]
    fn thing_principal_types_parse_by_name() {
        for t in [
            ThingPrincipalType::Exclusive,
            ThingPrincipalType::NonExclusive,
        ] {
            assert_eq!(t.as_str().parse::<ThingPrincipalType>().unwrap(), t);
        }
        match "exclusive_thing".parse::<ThingPrincipalType>() {
            Err(Error::InvalidRequest(m)) => assert_eq!(
                m,
                "\"exclusive_thing\" is not a thingPrincipalType; expected EXCLUSIVE_THING or NON_EXCLUSIVE_THING"
            ),
            other => panic!("not refused: {other:?}"),
        }
    }
}
