//! The registry: CA and device certificates of one account in one region, their
//! policies, and the JITR decision.

mod ca;
pub(crate) mod decide;
mod device;
mod index;
mod list;
mod policy;
mod preflight;
mod shard;
mod state;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use crate::cert::Certificate;
use crate::error::Error;
use crate::event::EventSink;
use crate::id::CertificateId;
use crate::scope::Scope;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::time::Timestamp;

pub use ca::{
    check_verification_certificate, CaCertificateDescription, DescribeCaCertificateResponse,
    RegisterCaCertificateRequest, RegistrationConfig, Tag, UpdateCaCertificateRequest,
    MAX_CA_PEM_LEN, MAX_TEMPLATE_BODY_LEN,
};
pub use decide::{Decision, PathOptions, RefusalReason, RequiredEku};
pub use device::{
    CertificateDescription, RegisterCertificateRequest, RegisterCertificateResponse, TransferData,
};
pub use list::{
    CaCertificateSummary, CertificateSummary, ListRequest, Page, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
pub use policy::{
    validate_policy_document, validate_policy_name, AttachedPolicy, CreatePolicyResponse,
    GetPolicyResponse, MAX_POLICY_DOCUMENT_LEN,
};
pub use preflight::{preflight, PreflightCa, PreflightCertificate};
pub use state::{CaCertificateState, CertificateState, PolicyState, RegistryState};

/// Knobs for where AWS leaves a choice to jitr (`docs/behaviour.md`). The defaults refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            require_sni_for_leaf_only: true,
            check_verification_certificate_validity: true,
            max_cas_per_subject: 10,
            accept_v1_device_certificates: true,
        }
    }
}

/// The CA certificates, device certificates and policies of one (partition, region,
/// account), and the just-in-time registration decision over them.
///
/// `Registry` is `Send + Sync`; share it behind an `Arc`. The decision path reads an
/// immutable snapshot of the CA index (never waiting for a writer) and one of 64
/// independently locked shards of device certificates, so decisions about different
/// certificates do not contend and management writes never block unrelated reads for
/// longer than one map operation.
///
/// Every operation takes the current time as `now`: the registry never reads a clock.
pub struct Registry {
    scope: Scope,
    config: RegistryConfig,
    claims: Arc<CaClaims>,
    sink: Option<Arc<dyn EventSink>>,
    registration_code: Mutex<Option<String>>,
    /// Lock order: `cas`, then `policies`, then a certificate shard.
    cas: RwLock<BTreeMap<CertificateId, CaRecord>>,
    ca_index: ArcSwap<index::CaIndex>,
    policies: RwLock<policy::Policies>,
    shards: Box<[RwLock<shard::Shard>]>,
    /// CA IDs by slot, for the hot entries: append-only, swapped whole on append.
    ca_slots: ArcSwap<Vec<CertificateId>>,
    ca_slot_of: Mutex<HashMap<CertificateId, u32>>,
}

const SHARDS: usize = 64;

/// Which account holds each `DEFAULT`-mode CA, shared by the registries of one process so
/// that a `DEFAULT` CA belongs to one account per region (docs/behaviour.md §3.5).
#[derive(Default)]
pub(crate) struct CaClaims(Mutex<HashMap<(String, String, CertificateId), String>>);

#[derive(Clone, Debug)]
pub(crate) struct CaRecord {
    pub(crate) cert: Certificate,
    pub(crate) status: CaStatus,
    pub(crate) auto_registration: AutoRegistrationStatus,
    pub(crate) mode: CertificateMode,
    pub(crate) registration_config: Option<RegistrationConfig>,
    pub(crate) tags: Vec<Tag>,
    pub(crate) meta: Meta,
}

/// A device certificate's record: its DER and what management reads. The certificate is
/// not kept parsed (PEM and fields are derived on demand), which keeps registration cheap
/// and a record small.
#[derive(Clone, Debug)]
pub(crate) struct CertRecord {
    pub(crate) der: Arc<[u8]>,
    pub(crate) validity: crate::time::Validity,
    pub(crate) ca_id: Option<CertificateId>,
    pub(crate) status: CertificateStatus,
    pub(crate) mode: CertificateMode,
    pub(crate) previous_owned_by: Option<String>,
    pub(crate) transfer_data: Option<TransferData>,
    pub(crate) meta: Meta,
}

/// What every resource carries for optimistic concurrency and listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Meta {
    pub(crate) creation_date: Timestamp,
    pub(crate) last_modified_date: Timestamp,
    pub(crate) customer_version: u64,
    pub(crate) generation_id: String,
}

impl Meta {
    fn new(now: Timestamp) -> Self {
        Self {
            creation_date: now,
            last_modified_date: now,
            customer_version: 1,
            generation_id: new_generation_id(),
        }
    }

    /// Records one change: version +1, fresh generation ID.
    fn bump(&mut self, now: Timestamp) {
        self.last_modified_date = now;
        self.customer_version += 1;
        self.generation_id = new_generation_id();
    }
}

impl Registry {
    /// An empty registry for `scope` with a freshly minted registration code.
    pub fn new(scope: Scope) -> Self {
        Self::with_config(scope, RegistryConfig::default())
    }

    /// An empty registry with the given configuration.
    pub fn with_config(scope: Scope, config: RegistryConfig) -> Self {
        Self::build(scope, config, Arc::default(), Some(random_code()))
    }

    pub(crate) fn build(
        scope: Scope,
        config: RegistryConfig,
        claims: Arc<CaClaims>,
        registration_code: Option<String>,
    ) -> Self {
        Self {
            scope,
            config,
            claims,
            sink: None,
            registration_code: Mutex::new(registration_code),
            cas: RwLock::default(),
            ca_index: ArcSwap::from_pointee(index::CaIndex::default()),
            policies: RwLock::default(),
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            ca_slots: ArcSwap::from_pointee(Vec::new()),
            ca_slot_of: Mutex::default(),
        }
    }

    /// Sets the sink that receives registration events. Builder-style: call before
    /// sharing the registry.
    pub fn with_event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Replaces the registration code with a known one (64 hex characters), as when a
    /// registry is restored from storage or a test needs a fixed code.
    pub fn with_registration_code(self, code: &str) -> Result<Self, Error> {
        validate_registration_code(code)?;
        *lock(&self.registration_code) = Some(code.to_ascii_lowercase());
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

    /// GetRegistrationCode: the account's registration code, minted if there is none.
    pub fn get_registration_code(&self) -> String {
        lock(&self.registration_code)
            .get_or_insert_with(random_code)
            .clone()
    }

    /// DeleteRegistrationCode: forgets the code; the next call to
    /// [`get_registration_code`](Self::get_registration_code) mints a new one.
    pub fn delete_registration_code(&self) {
        *lock(&self.registration_code) = None;
    }

    pub(crate) fn current_registration_code(&self) -> Option<String> {
        lock(&self.registration_code).clone()
    }

    fn shard(&self, id: &CertificateId) -> &RwLock<shard::Shard> {
        &self.shards[usize::from(id.as_bytes()[0]) % SHARDS]
    }

    /// The number of device certificates registered.
    pub fn certificate_count(&self) -> usize {
        self.shards.iter().map(|s| read(s).len()).sum()
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
            return slot; // 536 million CAs: the CA is then read from the record.
        }
        table.push(ca);
        self.ca_slots.store(Arc::new(table));
        slots.insert(ca, slot);
        slot
    }

    fn ca_of_slot(&self, slot: u32) -> Option<CertificateId> {
        self.ca_slots.load().get(slot as usize).copied()
    }

    /// Inserts a new device certificate record; false if the ID is already registered.
    fn insert_record(&self, id: CertificateId, record: CertRecord) -> bool {
        let slot = self.ca_slot(record.ca_id);
        write(self.shard(&id)).insert_new(id, record, slot)
    }

    /// Bytes held by the decision path's index of registered certificates (the hot
    /// entries: ID, validity, status, CA), for capacity planning.
    pub fn hot_index_bytes(&self) -> usize {
        self.shards.iter().map(|s| read(s).hot_bytes()).sum()
    }

    /// Benchmarks of the hot index only: inserts an `ACTIVE` hot entry with no record.
    /// Such an entry is decided like any `ACTIVE` certificate but cannot be described.
    #[cfg(feature = "bench-internals")]
    #[doc(hidden)]
    pub fn bench_insert_hot_active(&self, id: CertificateId, validity: &crate::Validity) {
        let entry = shard::HotEntry::new(CertificateStatus::Active, validity, shard::NO_CA);
        write(self.shard(&id)).insert_hot_only(id, entry);
    }

    /// The registered CAs' subjects (DER, with the outer SEQUENCE), for TLS hints.
    pub fn ca_subjects(&self) -> Vec<Vec<u8>> {
        read(&self.cas)
            .values()
            .map(|r| r.cert.subject().der().to_vec())
            .collect()
    }

    /// The number of CA certificates registered.
    pub fn ca_certificate_count(&self) -> usize {
        read(&self.cas).len()
    }

    /// Rebuilds the decision path's CA snapshot; the caller holds the `cas` write lock.
    fn publish_ca_index(&self, cas: &BTreeMap<CertificateId, CaRecord>) {
        self.ca_index.store(Arc::new(index::CaIndex::build(cas)));
    }

    fn ca_not_found(id: &CertificateId) -> Error {
        Error::ResourceNotFound(format!("the CA certificate {id} does not exist"))
    }

    fn cert_not_found(id: &CertificateId) -> Error {
        Error::ResourceNotFound(format!("the certificate {id} does not exist"))
    }

    /// The set of policy names attached to a target ARN (for tests of invariants).
    pub(crate) fn attached_policy_names(&self, target: &str) -> HashSet<String> {
        read(&self.policies).attached_to(target)
    }
}

impl core::fmt::Debug for Registry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry")
            .field("scope", &self.scope)
            .field("ca_certificates", &self.ca_certificate_count())
            .field("certificates", &self.certificate_count())
            .finish_non_exhaustive()
    }
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

fn new_generation_id() -> String {
    uuid::Builder::from_random_bytes(random_bytes())
        .into_uuid()
        .to_string()
}

pub(crate) fn random_code() -> String {
    hex::encode(random_bytes::<32>())
}
