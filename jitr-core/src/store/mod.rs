//! Where a registry keeps its state: one synchronous backend trait, three backends, and
//! the change feed.
//!
//! Every mutation of a [`Registry`](crate::Registry) is a typed [`Change`], applied by
//! one commit point: the registry reads what it needs inside one serialized write
//! transaction of the store, checks the precondition, and the store writes the changes
//! with the next sequence numbers of the feed, atomically. Only then does the registry
//! update its in-memory caches (the hot index of device certificates and the CA index),
//! by delta, and hand the [`Committed`] changes to subscribers.
//!
//! | backend | URL | for |
//! |---|---|---|
//! | memory | `memory:` (the default of [`Registry::new`](crate::Registry::new)) | tests, the browser, one process that need not survive a restart |
//! | SQLite (feature `sqlite`) | `sqlite:///abs/path/fleet.db`, `sqlite://relative.db` | a service on one machine; processes on one machine share the file |
//! | PostgreSQL (feature `postgres`) | `postgresql://user@host:port/dbname` | several gateway nodes |
//!
//! Writers are serialized by the store (SQLite: one writer; PostgreSQL: a lock on the
//! feed's head row taken first in every write transaction), so the feed's sequence
//! numbers are the commit order and every rule that spans rows (exactly-once
//! registration, one `DEFAULT` CA per region, ten CAs per subject, the registration code)
//! holds across every process that shares the store.

mod memory;
pub(crate) mod resources;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::id::CertificateId;
use crate::registry::{RegistrationConfig, Tag, TransferData};
use crate::scope::Scope;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::time::{Timestamp, Validity};

pub(crate) use memory::MemoryStore;
pub(crate) use resources::{Kind, LinkEnd, LinkKind, NamePage, ResourceReads};
pub use resources::{PolicyRow, PolicyVersionRow, ThingRow, ThingTypeRow};

/// A resource's version bookkeeping: what AWS returns as `creationDate`,
/// `lastModifiedDate`, `customerVersion` and `generationId`, and what compare-and-set
/// compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Meta {
    /// When the resource was created.
    pub creation_date: Timestamp,
    /// When it last changed.
    pub last_modified_date: Timestamp,
    /// 1, +1 at every change.
    pub customer_version: u64,
    /// A fresh UUID at every change.
    pub generation_id: String,
}

impl Meta {
    pub(crate) fn new(now: Timestamp) -> Self {
        Self {
            creation_date: now,
            last_modified_date: now,
            customer_version: 1,
            generation_id: crate::registry::new_generation_id(),
        }
    }

    /// The next version of this resource, changed at `now`.
    pub(crate) fn bumped(&self, now: Timestamp) -> Self {
        Self {
            creation_date: self.creation_date,
            last_modified_date: now,
            customer_version: self.customer_version + 1,
            generation_id: crate::registry::new_generation_id(),
        }
    }
}

/// A CA certificate as the store keeps it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CaRow {
    /// Its ID.
    pub certificate_id: CertificateId,
    /// The PEM.
    pub certificate_pem: String,
    /// Status.
    pub status: CaStatus,
    /// Auto-registration.
    pub auto_registration_status: AutoRegistrationStatus,
    /// Mode.
    pub certificate_mode: CertificateMode,
    /// JITP configuration.
    pub registration_config: Option<RegistrationConfig>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Versions and dates.
    pub meta: Meta,
    /// The certificate parsed, when this process has it already (a registration made
    /// here): saves parsing it again for the index.
    #[serde(skip)]
    pub(crate) parsed: Option<crate::cert::Certificate>,
}

impl CaRow {
    /// Applies `change` if it is a [`Change::CaCertificateUpdated`] (of this row: the
    /// caller found the row by its ID); any other change leaves the row as it is.
    pub(crate) fn apply_update(&mut self, change: &Change) {
        if let Change::CaCertificateUpdated {
            status,
            auto_registration_status,
            registration_config,
            meta,
            ..
        } = change
        {
            self.status = *status;
            self.auto_registration_status = *auto_registration_status;
            self.registration_config = registration_config.clone();
            self.meta = meta.clone();
        }
    }

    /// The CA certificate, parsed.
    pub fn certificate(&self) -> Result<crate::cert::Certificate, Error> {
        match &self.parsed {
            Some(c) => Ok(c.clone()),
            None => crate::cert::Certificate::from_pem(&self.certificate_pem),
        }
    }
}

/// A device certificate as the store keeps it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CertRow {
    /// Its ID.
    pub certificate_id: CertificateId,
    /// The PEM.
    pub certificate_pem: String,
    /// Its CA, if registered with one.
    pub ca_certificate_id: Option<CertificateId>,
    /// Status.
    pub status: CertificateStatus,
    /// Mode.
    pub certificate_mode: CertificateMode,
    /// The certificate's validity window.
    #[serde(with = "validity_millis")]
    pub validity: Validity,
    /// The previous owner, after a transfer.
    pub previous_owned_by: Option<String>,
    /// Transfer data.
    pub transfer_data: Option<TransferData>,
    /// Versions and dates.
    pub meta: Meta,
}

/// What a certificate list shows of a device certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CertSummaryRow {
    pub(crate) certificate_id: CertificateId,
    pub(crate) status: CertificateStatus,
    pub(crate) certificate_mode: CertificateMode,
    pub(crate) creation_date: Timestamp,
}

/// What the hot index needs of a device certificate, as a backend streams it at
/// startup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HotRow {
    pub(crate) id: CertificateId,
    pub(crate) ca_id: Option<CertificateId>,
    pub(crate) status: CertificateStatus,
    pub(crate) validity: Validity,
    pub(crate) creation_date: Timestamp,
}

/// One committed mutation, as the change feed delivers it.
///
/// Each carries what a node needs to keep its caches right and a host needs to react
/// (drop a session, invalidate a cache); the full resource is read from the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Change {
    /// The account's registration code was minted.
    RegistrationCodeSet {
        /// The code.
        code: String,
    },
    /// The account's registration code was deleted.
    RegistrationCodeDeleted,
    /// A CA certificate was registered.
    CaCertificateRegistered(CaRow),
    /// A CA certificate's status, auto-registration or registration config changed.
    #[serde(rename_all = "camelCase")]
    CaCertificateUpdated {
        /// Its ID.
        certificate_id: CertificateId,
        /// Status.
        status: CaStatus,
        /// Auto-registration.
        auto_registration_status: AutoRegistrationStatus,
        /// JITP configuration.
        #[serde(default)]
        registration_config: Option<RegistrationConfig>,
        /// The new version.
        meta: Meta,
    },
    /// A CA certificate was deleted.
    #[serde(rename_all = "camelCase")]
    CaCertificateDeleted {
        /// Its ID.
        certificate_id: CertificateId,
    },
    /// A device certificate was registered (by RegisterCertificate or by JITR).
    CertificateRegistered(CertRow),
    /// A device certificate's status changed.
    #[serde(rename_all = "camelCase")]
    CertificateStatusChanged {
        /// Its ID.
        certificate_id: CertificateId,
        /// The status before.
        previous_status: CertificateStatus,
        /// The status now.
        status: CertificateStatus,
        /// The new version.
        meta: Meta,
    },
    /// A device certificate was deleted.
    #[serde(rename_all = "camelCase")]
    CertificateDeleted {
        /// Its ID.
        certificate_id: CertificateId,
    },
    /// A policy was created.
    PolicyCreated(PolicyRow),
    /// A policy's versions changed (one created, deleted, or made the default): the
    /// policy as it is now.
    PolicyVersionsChanged(PolicyRow),
    /// A policy was deleted.
    #[serde(rename_all = "camelCase")]
    PolicyDeleted {
        /// Its name.
        policy_name: String,
    },
    /// A policy was attached to a target (a certificate ARN).
    #[serde(rename_all = "camelCase")]
    PolicyAttached {
        /// The policy.
        policy_name: String,
        /// The target ARN.
        target: String,
    },
    /// A policy was detached from a target.
    #[serde(rename_all = "camelCase")]
    PolicyDetached {
        /// The policy.
        policy_name: String,
        /// The target ARN.
        target: String,
    },
    /// A thing was created.
    ThingCreated(ThingRow),
    /// A thing's type or attributes changed.
    ThingUpdated {
        /// The thing before.
        before: ThingRow,
        /// The thing now.
        after: ThingRow,
    },
    /// A thing was deleted.
    ThingDeleted(ThingRow),
    /// A principal (a certificate ARN) was attached to a thing.
    #[serde(rename_all = "camelCase")]
    ThingPrincipalAttached {
        /// The thing.
        thing_name: String,
        /// The principal.
        principal: String,
        /// `EXCLUSIVE_THING` or `NON_EXCLUSIVE_THING`.
        thing_principal_type: String,
    },
    /// A principal was detached from a thing.
    #[serde(rename_all = "camelCase")]
    ThingPrincipalDetached {
        /// The thing.
        thing_name: String,
        /// The principal.
        principal: String,
    },
    /// A thing type was created.
    ThingTypeCreated(ThingTypeRow),
    /// A thing type was deprecated or undeprecated.
    ThingTypeUpdated(ThingTypeRow),
    /// A thing type was deleted.
    #[serde(rename_all = "camelCase")]
    ThingTypeDeleted {
        /// Its name.
        thing_type_name: String,
    },
    /// A resource was tagged (a new key, or a new value for a key).
    #[serde(rename_all = "camelCase")]
    Tagged {
        /// The resource.
        resource_arn: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// A tag was removed.
    #[serde(rename_all = "camelCase")]
    Untagged {
        /// The resource.
        resource_arn: String,
        /// The key.
        key: String,
    },
    /// A thing group was created.
    ThingGroupCreated(crate::registry::ThingGroupRow),
    /// A thing group was deleted.
    #[serde(rename_all = "camelCase")]
    ThingGroupDeleted {
        /// Its name.
        thing_group_name: String,
    },
    /// A thing joined a thing group.
    #[serde(rename_all = "camelCase")]
    ThingAddedToGroup {
        /// The thing.
        thing_name: String,
        /// The group.
        thing_group_name: String,
    },
    /// A thing left a thing group.
    #[serde(rename_all = "camelCase")]
    ThingRemovedFromGroup {
        /// The thing.
        thing_name: String,
        /// The group.
        thing_group_name: String,
    },
    /// A provisioning template was created.
    ProvisioningTemplateCreated(crate::registry::ProvisioningTemplateRow),
    /// A provisioning template changed.
    ProvisioningTemplateUpdated(crate::registry::ProvisioningTemplateRow),
    /// A provisioning template was deleted.
    #[serde(rename_all = "camelCase")]
    ProvisioningTemplateDeleted {
        /// Its name.
        template_name: String,
    },
    /// A CA's template could not provision a device: why (the certificate stays
    /// `PENDING_ACTIVATION`).
    ProvisioningFailed(crate::registry::ProvisioningFailureRow),
    /// The account's issuing CA was made (CreateKeysAndCertificate,
    /// CreateCertificateFromCsr).
    IssuerCreated(crate::registry::IssuerRow),
    /// The account's endpoint prefix was made (DescribeEndpoint).
    EndpointCreated(crate::registry::EndpointRow),
    /// The account's whole state was imported into the store
    /// ([`Registry::import_state`](crate::Registry::import_state)): nodes reload it.
    AccountImported,
}

impl Change {
    /// The device certificate this change is about, if any: what a host checks to drop
    /// a live session.
    pub fn certificate_id(&self) -> Option<CertificateId> {
        match self {
            Self::CertificateRegistered(row) => Some(row.certificate_id),
            Self::CertificateStatusChanged { certificate_id, .. }
            | Self::CertificateDeleted { certificate_id } => Some(*certificate_id),
            _ => None,
        }
    }
}

/// A change as committed: its place in the feed and the account it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Committed {
    /// The feed's sequence number: increasing, in commit order, shared by every
    /// account of the store.
    pub seq: u64,
    /// The account.
    pub scope: Scope,
    /// The change.
    pub change: Change,
}

/// Reads a backend answers, inside a write transaction (where they see the state the
/// transaction will change) or on their own.
pub(crate) trait Reader {
    fn registration_code(&mut self, scope: &Scope) -> Result<Option<String>, Error>;
    fn ca(&mut self, scope: &Scope, id: &CertificateId) -> Result<Option<CaRow>, Error>;
    /// How many CAs of this account have this subject (the subject's DER).
    fn cas_with_subject(&mut self, scope: &Scope, subject: &[u8]) -> Result<usize, Error>;
    /// The account that holds a `DEFAULT`-mode CA in this partition and region.
    fn default_ca_owner(
        &mut self,
        scope: &Scope,
        id: &CertificateId,
    ) -> Result<Option<String>, Error>;
    fn certificate(&mut self, scope: &Scope, id: &CertificateId) -> Result<Option<CertRow>, Error>;
    /// A resource's row (its JSON body).
    fn resource(&mut self, scope: &Scope, kind: Kind, name: &str) -> Result<Option<String>, Error>;
    /// A page of resources of one kind, by name: (name, body).
    fn resources(
        &mut self,
        scope: &Scope,
        kind: Kind,
        page: &NamePage,
    ) -> Result<Vec<(String, String)>, Error>;
    /// The links at `end`, by their other end: (other end, value).
    fn links(
        &mut self,
        scope: &Scope,
        end: LinkEnd<'_>,
        page: &NamePage,
    ) -> Result<Vec<(String, String)>, Error>;
    /// Whether there is a link at `end`.
    fn has_links(&mut self, scope: &Scope, end: LinkEnd<'_>) -> Result<bool, Error> {
        let one = NamePage {
            limit: 1,
            ..NamePage::all()
        };
        Ok(!self.links(scope, end, &one)?.is_empty())
    }
    /// Every link at `end`: (other end, value).
    fn all_links(
        &mut self,
        scope: &Scope,
        end: LinkEnd<'_>,
    ) -> Result<Vec<(String, String)>, Error> {
        self.links(scope, end, &NamePage::all())
    }
    /// A page of device certificates in (creation date, ID) order, after `after` (in
    /// the direction asked), at most `limit`.
    fn list_certificates(
        &mut self,
        scope: &Scope,
        ca: Option<&CertificateId>,
        page: &PageQuery,
    ) -> Result<Vec<CertRow>, Error>;
    /// The same page with only what a list shows of each certificate (a store reads
    /// no DER for it).
    fn list_certificate_summaries(
        &mut self,
        scope: &Scope,
        ca: Option<&CertificateId>,
        page: &PageQuery,
    ) -> Result<Vec<CertSummaryRow>, Error> {
        Ok(self
            .list_certificates(scope, ca, page)?
            .into_iter()
            .map(|r| CertSummaryRow {
                certificate_id: r.certificate_id,
                status: r.status,
                certificate_mode: r.certificate_mode,
                creation_date: r.meta.creation_date,
            })
            .collect())
    }
    /// A page of CA certificates in (creation date, ID) order.
    fn list_cas(&mut self, scope: &Scope, page: &PageQuery) -> Result<Vec<CaRow>, Error>;
}

/// Where a page starts and how long it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PageQuery {
    /// The last (creation date, ID) of the previous page.
    pub(crate) after: Option<(Timestamp, CertificateId)>,
    pub(crate) ascending: bool,
    pub(crate) limit: usize,
}

impl PageQuery {
    /// The first `limit` rows, oldest first.
    pub(crate) fn first(limit: usize) -> Self {
        PageQuery {
            after: None,
            ascending: true,
            limit,
        }
    }
}

/// What a backend streams when a node loads its caches.
pub(crate) trait Loader {
    fn ca(&mut self, row: CaRow);
    fn certificate(&mut self, row: HotRow);
}

/// What a write transaction runs: reads, then the changes to make.
pub(crate) type WriteFn<'a> = dyn FnMut(&mut dyn Reader) -> Result<Vec<Change>, Error> + 'a;

/// A storage backend. Synchronous: the decision for a known certificate never calls it.
pub(crate) trait Backend: Send + Sync {
    /// Runs `f` (reads, then the changes to make) in one serialized write transaction
    /// for `scope`, and commits the changes with the feed's next sequence numbers. An
    /// error from `f` or the store leaves nothing written.
    fn write(&self, scope: &Scope, f: &mut WriteFn<'_>) -> Result<Vec<Committed>, Error>;

    /// Runs `f` with reads of the committed state.
    fn read(&self, f: &mut dyn FnMut(&mut dyn Reader) -> Result<(), Error>) -> Result<(), Error>;

    /// The committed changes after `seq`, in order, at most `limit`. `Ok(None)` when
    /// changes after `seq` were pruned: the caller reloads.
    fn changes_since(&self, seq: u64, limit: usize) -> Result<Option<Vec<Committed>>, Error>;

    /// Streams the account's CAs and the hot rows of its certificates; returns the
    /// feed's sequence number the snapshot is consistent with.
    fn load(&self, scope: &Scope, loader: &mut dyn Loader) -> Result<u64, Error>;

    /// Waits up to `timeout` for changes to be announced (PostgreSQL: LISTEN; SQLite: a
    /// short poll), then returns the feed's head: the sequence number of the last
    /// committed change.
    fn wait(&self, timeout: Duration) -> Result<u64, Error>;

    /// Whether other processes can write to this store (then a registry follows its
    /// feed).
    fn is_shared(&self) -> bool;

    /// Imports rows as they are (migration between stores): CAs, certificates with
    /// their DER, policies and attachments of one account, with no feed entries but one
    /// marker that makes every node reload.
    fn import(&self, scope: &Scope, state: &Import) -> Result<(), Error>;

    /// Benchmarks only: writes device certificate rows straight into the store, in
    /// large transactions, with no feed entries (registries opened afterwards load
    /// them). Every row carries `der`. Returns how many were written.
    #[cfg(feature = "bench-internals")]
    fn bench_insert(&self, scope: &Scope, rows: BenchRows<'_>) -> Result<u64, Error> {
        let _ = (scope, rows);
        Err(Error::InvalidRequest(
            "this store has no bulk loader".into(),
        ))
    }
}

/// Everything of one account, for [`Backend::import`].
pub(crate) struct Import {
    pub(crate) registration_code: Option<String>,
    pub(crate) cas: Vec<CaRow>,
    pub(crate) certificates: Vec<CertRow>,
    pub(crate) policies: Vec<PolicyRow>,
    pub(crate) attachments: Vec<(String, String)>,
    pub(crate) things: Vec<ThingRow>,
    pub(crate) thing_types: Vec<ThingTypeRow>,
    pub(crate) thing_principals: Vec<(String, String, String)>,
    pub(crate) tags: Vec<(String, String, String)>,
    pub(crate) thing_groups: Vec<crate::registry::ThingGroupRow>,
    pub(crate) thing_group_members: Vec<(String, String)>,
    pub(crate) provisioning_templates: Vec<crate::registry::ProvisioningTemplateRow>,
    pub(crate) provisioning_failures: Vec<crate::registry::ProvisioningFailureRow>,
    pub(crate) issuer: Option<crate::registry::IssuerRow>,
    pub(crate) endpoint: Option<crate::registry::EndpointRow>,
}

impl Import {
    /// The changes that recreate the account (without feed entries: the backend writes
    /// them as rows), in an order that puts every resource before what refers to it:
    /// the registration code, the CAs, the certificates, then the other resources.
    pub(crate) fn changes(&self) -> Vec<Change> {
        let mut changes = Vec::new();
        if let Some(code) = &self.registration_code {
            changes.push(Change::RegistrationCodeSet { code: code.clone() });
        }
        changes.extend(
            self.cas
                .iter()
                .cloned()
                .map(Change::CaCertificateRegistered),
        );
        changes.extend(
            self.certificates
                .iter()
                .cloned()
                .map(Change::CertificateRegistered),
        );
        changes.extend(
            self.thing_types
                .iter()
                .cloned()
                .map(Change::ThingTypeCreated),
        );
        changes.extend(self.policies.iter().cloned().map(Change::PolicyCreated));
        changes.extend(
            self.attachments
                .iter()
                .map(|(p, t)| Change::PolicyAttached {
                    policy_name: p.clone(),
                    target: t.clone(),
                }),
        );
        changes.extend(self.things.iter().cloned().map(Change::ThingCreated));
        changes.extend(self.thing_principals.iter().map(|(t, p, k)| {
            Change::ThingPrincipalAttached {
                thing_name: t.clone(),
                principal: p.clone(),
                thing_principal_type: k.clone(),
            }
        }));
        // Parents before children: a group's parent is created first.
        let mut groups = self.thing_groups.clone();
        let mut ordered = Vec::with_capacity(groups.len());
        while !groups.is_empty() {
            let before = groups.len();
            groups.retain(|g| {
                let ready = g.parent_group_name.as_ref().is_none_or(|p| {
                    ordered
                        .iter()
                        .any(|o: &crate::registry::ThingGroupRow| &o.thing_group_name == p)
                });
                if ready {
                    ordered.push(g.clone());
                }
                !ready
            });
            if groups.len() == before {
                ordered.append(&mut groups); // a parent outside the state: as they are
            }
        }
        changes.extend(ordered.into_iter().map(Change::ThingGroupCreated));
        changes.extend(
            self.thing_group_members
                .iter()
                .map(|(t, g)| Change::ThingAddedToGroup {
                    thing_name: t.clone(),
                    thing_group_name: g.clone(),
                }),
        );
        changes.extend(
            self.provisioning_templates
                .iter()
                .cloned()
                .map(Change::ProvisioningTemplateCreated),
        );
        changes.extend(
            self.provisioning_failures
                .iter()
                .cloned()
                .map(Change::ProvisioningFailed),
        );
        changes.extend(self.issuer.iter().cloned().map(Change::IssuerCreated));
        changes.extend(self.endpoint.iter().cloned().map(Change::EndpointCreated));
        changes.extend(self.tags.iter().map(|(a, k, v)| Change::Tagged {
            resource_arn: a.clone(),
            key: k.clone(),
            value: v.clone(),
        }));
        changes
    }
}

/// A store: the memory, SQLite or PostgreSQL backend a [`Registry`](crate::Registry)
/// keeps its state in, shared by the registries (accounts) opened on it.
///
/// ```
/// let store = jitr_core::Store::open("memory:").unwrap();
/// assert_eq!(store.kind(), "memory");
/// let err = jitr_core::Store::open("mysql://localhost/db").unwrap_err();
/// assert_eq!(err.code(), "InvalidRequestException");
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Arc<dyn Backend>,
    kind: &'static str,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store").field("kind", &self.kind).finish()
    }
}

impl Store {
    /// A new, empty in-memory store.
    pub fn memory() -> Self {
        Self {
            backend: Arc::new(MemoryStore::default()),
            kind: "memory",
        }
    }

    /// Opens a store by URL: `memory:`, `sqlite:///absolute/path.db`,
    /// `sqlite://relative/path.db` or `postgresql://user@host:port/dbname` (also
    /// `postgres://`). The database's schema is created or migrated; a schema newer than
    /// this code, a file that is not a jitr database, or a server that cannot be reached
    /// is an error, and nothing is written.
    pub fn open(url: &str) -> Result<Self, Error> {
        let (scheme, rest) = url
            .split_once(':')
            .ok_or_else(|| bad_url(url, "no scheme"))?;
        match scheme {
            "memory" if rest.is_empty() || rest == "//" => Ok(Self::memory()),
            "sqlite" => Self::open_sqlite(url, rest),
            "postgresql" | "postgres" => Self::open_postgres(url),
            _ => Err(bad_url(
                url,
                "the scheme must be memory:, sqlite:// or postgresql://",
            )),
        }
    }

    #[cfg(feature = "sqlite")]
    fn open_sqlite(url: &str, rest: &str) -> Result<Self, Error> {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = path
            .strip_prefix("//")
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                bad_url(
                    url,
                    "expected sqlite:///absolute/path or sqlite://relative/path",
                )
            })?;
        let mut busy = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("busy_timeout_ms", ms)) => {
                    busy = Some(ms.parse::<u64>().map_err(|_| {
                        bad_url(url, "busy_timeout_ms must be a number of milliseconds")
                    })?)
                }
                _ => return Err(bad_url(url, "the only SQLite parameter is busy_timeout_ms")),
            }
        }
        Ok(Self {
            backend: Arc::new(sql::SqlStore::open_sqlite(
                std::path::Path::new(path),
                busy.map(std::time::Duration::from_millis),
            )?),
            kind: "sqlite",
        })
    }

    #[cfg(not(feature = "sqlite"))]
    fn open_sqlite(url: &str, _: &str) -> Result<Self, Error> {
        Err(bad_url(
            url,
            "this build of jitr has no SQLite store (cargo feature `sqlite`)",
        ))
    }

    #[cfg(feature = "postgres")]
    fn open_postgres(url: &str) -> Result<Self, Error> {
        Ok(Self {
            backend: Arc::new(sql::SqlStore::open_postgres(url)?),
            kind: "postgresql",
        })
    }

    #[cfg(not(feature = "postgres"))]
    fn open_postgres(url: &str) -> Result<Self, Error> {
        Err(bad_url(
            url,
            "this build of jitr has no PostgreSQL store (cargo feature `postgres`)",
        ))
    }

    /// `"memory"`, `"sqlite"` or `"postgresql"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// Whether the state survives the process (SQLite, PostgreSQL).
    pub fn is_durable(&self) -> bool {
        self.kind != "memory"
    }
}

/// The generation ID of the benchmarks' synthetic rows.
#[cfg(feature = "bench-internals")]
pub(crate) const BENCH_GENERATION_ID: &str = "00000000-0000-4000-8000-000000000000";

/// Benchmarks only: what [`Backend::bench_insert`] writes: synthetic device certificate
/// rows of one account, every one holding the same certificate.
#[cfg(feature = "bench-internals")]
pub(crate) struct BenchRows<'a> {
    /// The rows.
    pub(crate) rows: &'a mut dyn Iterator<Item = HotRow>,
    /// The DER of the certificate each row holds.
    pub(crate) der: &'a [u8],
}

/// Benchmarks only: a synthetic device certificate row for
/// [`Store::bench_insert_certificates`].
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct BenchCertificate {
    /// Its ID.
    pub id: CertificateId,
    /// Its CA.
    pub ca_id: Option<CertificateId>,
    /// Status.
    pub status: CertificateStatus,
    /// Validity window.
    pub validity: Validity,
    /// Creation date (the listing order).
    pub creation_date: Timestamp,
}

#[cfg(feature = "bench-internals")]
impl Store {
    /// Benchmarks only: writes synthetic device certificate rows of `scope` straight
    /// into the store (large transactions; PostgreSQL: `COPY`), bypassing the registry,
    /// its checks and the change feed; every row holds the same `der`. A registry opened
    /// afterwards loads them; one already open does not see them. Returns how many rows
    /// were written.
    #[doc(hidden)]
    pub fn bench_insert_certificates(
        &self,
        scope: &Scope,
        rows: &mut dyn Iterator<Item = BenchCertificate>,
        der: &[u8],
    ) -> Result<u64, Error> {
        self.backend.bench_insert(
            scope,
            BenchRows {
                rows: &mut rows.map(|r| HotRow {
                    id: r.id,
                    ca_id: r.ca_id,
                    status: r.status,
                    validity: r.validity,
                    creation_date: r.creation_date,
                }),
                der,
            },
        )
    }
}

#[cfg(test)]
impl Store {
    /// A store over any backend: tests inject failures with it.
    pub(crate) fn with_backend(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            kind: "memory",
        }
    }
}

fn bad_url(url: &str, why: &str) -> Error {
    // A URL may carry a password: quote only its scheme.
    let scheme = url.split(':').next().unwrap_or_default();
    Error::InvalidRequest(format!(
        "{:?} is not a store URL ({why})",
        crate::id::truncate_for_message(if scheme.len() < url.len() {
            &url[..scheme.len()]
        } else {
            url
        })
    ))
}

/// The store cannot be reached or failed: a management call answers
/// `ServiceUnavailableException`.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn unavailable(what: impl core::fmt::Display) -> Error {
    Error::ServiceUnavailable(format!("the store is unavailable: {what}"))
}

/// The store's content is not what jitr wrote (a corrupt row): `InternalFailureException`.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn corrupt(what: impl core::fmt::Display) -> Error {
    Error::Internal(crate::error::InternalError::new(
        "the store holds a value jitr cannot read",
        what.to_string(),
    ))
}

/// Serde for a validity window as two epoch-millisecond numbers (the feed's form).
mod validity_millis {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::time::{Timestamp, Validity};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Repr {
        not_before: Timestamp,
        not_after: Timestamp,
    }

    pub(super) fn serialize<S: Serializer>(v: &Validity, s: S) -> Result<S::Ok, S::Error> {
        Repr {
            not_before: v.not_before,
            not_after: v.not_after,
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Validity, D::Error> {
        let r = Repr::deserialize(d)?;
        Ok(Validity {
            not_before: r.not_before,
            not_after: r.not_after,
        })
    }
}
