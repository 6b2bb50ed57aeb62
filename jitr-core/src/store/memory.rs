//! The in-memory backend: one process, nothing survives it. The default of
//! [`Registry::new`](crate::Registry::new), for tests and the browser.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Mutex;
use std::time::Duration;

use super::resources::{self, Kind, LinkEnd, LinkKind, NamePage};
use super::{
    Backend, CaRow, CertRow, Change, Committed, HotRow, Import, Loader, PageQuery, Reader, WriteFn,
};
#[cfg(feature = "bench-internals")]
use super::{BenchRows, BENCH_GENERATION_ID};
use crate::error::Error;
use crate::id::CertificateId;
use crate::scope::Scope;
use crate::status::CertificateMode;
use crate::time::Timestamp;

/// How many committed changes the memory store remembers for `changes_since`.
const FEED_LEN: usize = 4096;

type Key = (Timestamp, CertificateId);

#[derive(Default)]
struct Account {
    code: Option<String>,
    cas: HashMap<CertificateId, CaRow>,
    ca_order: BTreeSet<Key>,
    /// Each CA's subject DER, and how many CAs have each subject.
    ca_subject: HashMap<CertificateId, Vec<u8>>,
    subject_count: HashMap<Vec<u8>, usize>,
    certs: HashMap<CertificateId, CertRow>,
    cert_order: BTreeSet<Key>,
    by_ca: BTreeSet<(CertificateId, Key)>,
    /// Resources by (kind, name): their JSON bodies.
    resources: BTreeMap<(Kind, String), String>,
    /// Links by (kind, from, to) with their values, and the same by (kind, to, from).
    links: BTreeMap<(LinkKind, String, String), String>,
    links_back: BTreeMap<(LinkKind, String, String), String>,
}

#[derive(Default)]
struct State {
    accounts: HashMap<Scope, Account>,
    /// (partition, region, CA) → the account that registered it in `DEFAULT` mode.
    claims: HashMap<(String, String, CertificateId), String>,
    feed: VecDeque<Committed>,
    head: u64,
}

/// The in-memory backend.
#[derive(Default)]
pub(crate) struct MemoryStore(Mutex<State>);

impl MemoryStore {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        crate::registry::lock(&self.0)
    }
}

struct View<'a>(&'a State);

impl View<'_> {
    fn account(&self, scope: &Scope) -> Option<&Account> {
        self.0.accounts.get(scope)
    }
}

fn page<'a>(
    order: impl DoubleEndedIterator<Item = &'a Key> + 'a,
    page: &PageQuery,
) -> Vec<CertificateId> {
    let take = page.limit;
    if page.ascending {
        order.take(take).map(|k| k.1).collect()
    } else {
        order.rev().take(take).map(|k| k.1).collect()
    }
}

fn range(page_q: &PageQuery) -> (Bound<Key>, Bound<Key>) {
    match (page_q.after, page_q.ascending) {
        (None, _) => (Bound::Unbounded, Bound::Unbounded),
        (Some(k), true) => (Bound::Excluded(k), Bound::Unbounded),
        (Some(k), false) => (Bound::Unbounded, Bound::Excluded(k)),
    }
}

impl Reader for View<'_> {
    fn registration_code(&mut self, scope: &Scope) -> Result<Option<String>, Error> {
        Ok(self.account(scope).and_then(|a| a.code.clone()))
    }

    fn ca(&mut self, scope: &Scope, id: &CertificateId) -> Result<Option<CaRow>, Error> {
        Ok(self.account(scope).and_then(|a| a.cas.get(id).cloned()))
    }

    fn cas_with_subject(&mut self, scope: &Scope, subject: &[u8]) -> Result<usize, Error> {
        Ok(self
            .account(scope)
            .and_then(|a| a.subject_count.get(subject).copied())
            .unwrap_or(0))
    }

    fn default_ca_owner(
        &mut self,
        scope: &Scope,
        id: &CertificateId,
    ) -> Result<Option<String>, Error> {
        let key = (
            scope.partition().to_string(),
            scope.region().to_string(),
            *id,
        );
        Ok(self.0.claims.get(&key).cloned())
    }

    fn certificate(&mut self, scope: &Scope, id: &CertificateId) -> Result<Option<CertRow>, Error> {
        Ok(self.account(scope).and_then(|a| a.certs.get(id).cloned()))
    }

    fn resource(&mut self, scope: &Scope, kind: Kind, name: &str) -> Result<Option<String>, Error> {
        Ok(self
            .account(scope)
            .and_then(|a| a.resources.get(&(kind, name.to_string())).cloned()))
    }

    fn resources(
        &mut self,
        scope: &Scope,
        kind: Kind,
        page: &NamePage,
    ) -> Result<Vec<(String, String)>, Error> {
        let Some(a) = self.account(scope) else {
            return Ok(Vec::new());
        };
        // Names are ASCII (AWS's name patterns): char::MAX sorts after every one.
        let lo = (kind, String::new());
        let hi = (kind, char::MAX.to_string());
        let range = match (&page.after, page.ascending) {
            (None, _) => (Bound::Included(lo), Bound::Excluded(hi)),
            (Some(a), true) => (Bound::Excluded((kind, a.clone())), Bound::Excluded(hi)),
            (Some(a), false) => (Bound::Included(lo), Bound::Excluded((kind, a.clone()))),
        };
        let it = a
            .resources
            .range(range)
            .map(|((_, n), b)| (n.clone(), b.clone()));
        Ok(if page.ascending {
            it.take(page.limit).collect()
        } else {
            it.rev().take(page.limit).collect()
        })
    }

    fn links(
        &mut self,
        scope: &Scope,
        end: LinkEnd<'_>,
        page: &NamePage,
    ) -> Result<Vec<(String, String)>, Error> {
        Ok(self.account(scope).map_or_else(Vec::new, |a| match end {
            LinkEnd::From(kind, from) => link_page(&a.links, kind, from, page),
            LinkEnd::To(kind, to) => link_page(&a.links_back, kind, to, page),
        }))
    }

    fn list_certificates(
        &mut self,
        scope: &Scope,
        ca: Option<&CertificateId>,
        page_q: &PageQuery,
    ) -> Result<Vec<CertRow>, Error> {
        let Some(a) = self.account(scope) else {
            return Ok(Vec::new());
        };
        let ids = match ca {
            None => page(a.cert_order.range(range(page_q)), page_q),
            Some(ca) => {
                let (lo, hi) = range(page_q);
                let wrap = |b: Bound<Key>, edge: Key| match b {
                    Bound::Unbounded => Bound::Included((*ca, edge)),
                    Bound::Excluded(k) => Bound::Excluded((*ca, k)),
                    Bound::Included(k) => Bound::Included((*ca, k)),
                };
                let min = (
                    Timestamp::from_unix_millis(i64::MIN),
                    CertificateId::from_bytes([0; 32]),
                );
                let max = (
                    Timestamp::from_unix_millis(i64::MAX),
                    CertificateId::from_bytes([0xff; 32]),
                );
                let it = a
                    .by_ca
                    .range((wrap(lo, min), wrap(hi, max)))
                    .map(|(_, k)| k);
                if page_q.ascending {
                    it.take(page_q.limit).map(|k| k.1).collect()
                } else {
                    it.rev().take(page_q.limit).map(|k| k.1).collect()
                }
            }
        };
        Ok(ids
            .iter()
            .filter_map(|id| a.certs.get(id).cloned())
            .collect())
    }

    fn list_cas(&mut self, scope: &Scope, page_q: &PageQuery) -> Result<Vec<CaRow>, Error> {
        let Some(a) = self.account(scope) else {
            return Ok(Vec::new());
        };
        let ids = page(a.ca_order.range(range(page_q)), page_q);
        Ok(ids.iter().filter_map(|id| a.cas.get(id).cloned()).collect())
    }
}

/// A page of (name, body) pairs from names in ascending order.
fn name_page(
    it: impl DoubleEndedIterator<Item = (String, String)>,
    page: &NamePage,
) -> Vec<(String, String)> {
    match (&page.after, page.ascending) {
        (None, true) => it.take(page.limit).collect(),
        (None, false) => it.rev().take(page.limit).collect(),
        (Some(a), true) => it.filter(|(n, _)| n > a).take(page.limit).collect(),
        (Some(a), false) => it.rev().filter(|(n, _)| n < a).take(page.limit).collect(),
    }
}

fn link_page(
    map: &BTreeMap<(LinkKind, String, String), String>,
    kind: LinkKind,
    key: &str,
    page: &NamePage,
) -> Vec<(String, String)> {
    let lo = (kind, key.to_string(), String::new());
    let it = map
        .range(lo..)
        .take_while(|((k, a, _), _)| *k == kind && a == key)
        .map(|((_, _, b), v)| (b.clone(), v.clone()));
    // Links are few per key; the page is cut after the range.
    let all: Vec<_> = it.collect();
    name_page(all.into_iter(), page)
}

fn apply_op(account: &mut Account, op: resources::Op) {
    use resources::Op;
    match op {
        Op::Put { kind, name, body } => {
            account.resources.insert((kind, name), body);
        }
        Op::Delete { kind, name } => {
            account.resources.remove(&(kind, name));
        }
        Op::Link {
            kind,
            from,
            to,
            value,
        } => {
            account
                .links_back
                .insert((kind, to.clone(), from.clone()), value.clone());
            account.links.insert((kind, from, to), value);
        }
        Op::Unlink { kind, from, to } => {
            account.links_back.remove(&(kind, to.clone(), from.clone()));
            account.links.remove(&(kind, from, to));
        }
    }
}

impl State {
    fn apply(&mut self, scope: &Scope, change: &Change) {
        let claim_key = |id: CertificateId| {
            (
                scope.partition().to_string(),
                scope.region().to_string(),
                id,
            )
        };
        let account = self.accounts.entry(scope.clone()).or_default();
        match change {
            Change::RegistrationCodeSet { code } => account.code = Some(code.clone()),
            Change::RegistrationCodeDeleted => account.code = None,
            Change::CaCertificateRegistered(row) => {
                let key = (row.meta.creation_date, row.certificate_id);
                account.ca_order.insert(key);
                account.cas.insert(row.certificate_id, row.clone());
                if let Ok(cert) = row.certificate() {
                    let subject = cert.subject().der().to_vec();
                    *account.subject_count.entry(subject.clone()).or_default() += 1;
                    account.ca_subject.insert(row.certificate_id, subject);
                }
                if row.certificate_mode == CertificateMode::Default {
                    self.claims
                        .insert(claim_key(row.certificate_id), scope.account().to_string());
                }
            }
            Change::CaCertificateUpdated { certificate_id, .. } => {
                if let Some(row) = account.cas.get_mut(certificate_id) {
                    row.apply_update(change);
                }
            }
            Change::CaCertificateDeleted { certificate_id } => {
                if let Some(row) = account.cas.remove(certificate_id) {
                    account
                        .ca_order
                        .remove(&(row.meta.creation_date, *certificate_id));
                    if let Some(subject) = account.ca_subject.remove(certificate_id) {
                        if let Some(n) = account.subject_count.get_mut(&subject) {
                            *n -= 1;
                            if *n == 0 {
                                account.subject_count.remove(&subject);
                            }
                        }
                    }
                    let key = claim_key(*certificate_id);
                    if self.claims.get(&key).map(String::as_str) == Some(scope.account()) {
                        self.claims.remove(&key);
                    }
                }
            }
            Change::CertificateRegistered(row) => {
                let key = (row.meta.creation_date, row.certificate_id);
                account.cert_order.insert(key);
                if let Some(ca) = row.ca_certificate_id {
                    account.by_ca.insert((ca, key));
                }
                account.certs.insert(row.certificate_id, row.clone());
            }
            Change::CertificateStatusChanged {
                certificate_id,
                status,
                meta,
                ..
            } => {
                if let Some(row) = account.certs.get_mut(certificate_id) {
                    row.status = *status;
                    row.meta = meta.clone();
                }
            }
            Change::CertificateDeleted { certificate_id } => {
                if let Some(row) = account.certs.remove(certificate_id) {
                    let key = (row.meta.creation_date, *certificate_id);
                    account.cert_order.remove(&key);
                    if let Some(ca) = row.ca_certificate_id {
                        account.by_ca.remove(&(ca, key));
                    }
                }
            }
            other => {
                for op in resources::ops(other) {
                    apply_op(account, op);
                }
            }
        }
    }

    fn commit(&mut self, scope: &Scope, changes: Vec<Change>) -> Vec<Committed> {
        let mut out = Vec::with_capacity(changes.len());
        for change in changes {
            self.apply(scope, &change);
            self.head += 1;
            let c = Committed {
                seq: self.head,
                scope: scope.clone(),
                change,
            };
            if self.feed.len() == FEED_LEN {
                self.feed.pop_front();
            }
            self.feed.push_back(c.clone());
            out.push(c);
        }
        out
    }
}

impl Backend for MemoryStore {
    fn write(&self, scope: &Scope, f: &mut WriteFn<'_>) -> Result<Vec<Committed>, Error> {
        let mut state = self.state();
        let changes = f(&mut View(&state))?;
        Ok(state.commit(scope, changes))
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn Reader) -> Result<(), Error>) -> Result<(), Error> {
        let state = self.state();
        f(&mut View(&state))
    }

    fn changes_since(&self, seq: u64, limit: usize) -> Result<Option<Vec<Committed>>, Error> {
        let state = self.state();
        let oldest = state.feed.front().map_or(state.head + 1, |c| c.seq);
        if seq + 1 < oldest && seq < state.head {
            return Ok(None);
        }
        Ok(Some(
            state
                .feed
                .iter()
                .filter(|c| c.seq > seq)
                .take(limit)
                .cloned()
                .collect(),
        ))
    }

    fn load(&self, scope: &Scope, loader: &mut dyn Loader) -> Result<u64, Error> {
        let state = self.state();
        if let Some(a) = state.accounts.get(scope) {
            for row in a.cas.values() {
                loader.ca(row.clone());
            }
            for row in a.certs.values() {
                loader.certificate(HotRow {
                    id: row.certificate_id,
                    ca_id: row.ca_certificate_id,
                    status: row.status,
                    validity: row.validity,
                    creation_date: row.meta.creation_date,
                });
            }
        }
        Ok(state.head)
    }

    fn wait(&self, timeout: Duration) -> Result<u64, Error> {
        // No other process writes to memory: nothing to wait for.
        let _ = timeout;
        Ok(self.state().head)
    }

    fn is_shared(&self) -> bool {
        false
    }

    fn import(&self, scope: &Scope, import: &Import) -> Result<(), Error> {
        let mut state = self.state();
        for change in &import.changes() {
            state.apply(scope, change);
        }
        Ok(())
    }

    #[cfg(feature = "bench-internals")]
    fn bench_insert(&self, scope: &Scope, rows: BenchRows<'_>) -> Result<u64, Error> {
        let pem = crate::cert::der_to_pem(rows.der);
        let mut state = self.state();
        let mut n = 0;
        for r in rows.rows {
            let meta = super::Meta {
                creation_date: r.creation_date,
                last_modified_date: r.creation_date,
                customer_version: 1,
                generation_id: BENCH_GENERATION_ID.into(),
            };
            let row = CertRow {
                certificate_id: r.id,
                certificate_pem: pem.clone(),
                ca_certificate_id: r.ca_id,
                status: r.status,
                certificate_mode: CertificateMode::Default,
                validity: r.validity,
                previous_owned_by: None,
                transfer_data: None,
                meta,
            };
            state.apply(scope, &Change::CertificateRegistered(row));
            n += 1;
        }
        Ok(n)
    }
}
