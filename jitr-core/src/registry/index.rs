//! The decision path's view of the registered CAs, keyed by subject and changed by
//! delta: registering, updating or deleting one CA touches its own entry, O(1), however
//! many CAs there are. A lookup clones one `Arc` under a read lock held for a map
//! lookup, so a handshake never scans all CAs and never waits for a writer longer than
//! one map operation.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls_pki_types::{CertificateDer, TrustAnchor};

use super::{read, write};
use crate::cert::Certificate;
use crate::id::CertificateId;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode};
use crate::store::CaRow;
use crate::time::Validity;

type Entries = Arc<[Arc<CaEntry>]>;

#[derive(Default)]
pub(crate) struct CaIndex {
    /// Keyed by the subject `Name`'s DER contents without its outer SEQUENCE header:
    /// the form webpki hands out as a certificate's issuer.
    by_subject: RwLock<HashMap<Box<[u8]>, Entries>>,
    by_id: RwLock<HashMap<CertificateId, Arc<CaEntry>>>,
}

/// A registered CA as the decision needs it.
pub(crate) struct CaEntry {
    pub(crate) id: CertificateId,
    /// The CA certificate itself, for the v1-device fallback and RegisterCertificate.
    pub(crate) cert: Certificate,
    pub(crate) anchor: TrustAnchor<'static>,
    pub(crate) status: CaStatus,
    pub(crate) auto_registration: AutoRegistrationStatus,
    pub(crate) mode: CertificateMode,
    pub(crate) validity: Validity,
    /// Whether the CA has a registration config: a first connection runs its template.
    pub(crate) jitp: bool,
}

impl CaEntry {
    /// The entry for a CA row; `None` if the row's PEM is not a CA webpki can use (every
    /// registered CA was checked at registration, so only a corrupt row is skipped).
    pub(crate) fn of_row(row: &CaRow) -> Option<Self> {
        let cert = row.certificate().ok()?;
        let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(cert.der()))
            .ok()?
            .to_owned();
        Some(Self {
            id: row.certificate_id,
            validity: cert.validity(),
            cert,
            anchor,
            status: row.status,
            auto_registration: row.auto_registration_status,
            mode: row.certificate_mode,
            jitp: row.registration_config.is_some(),
        })
    }

    fn subject_key(&self) -> Box<[u8]> {
        self.anchor.subject.as_ref().into()
    }
}

impl CaIndex {
    /// Inserts or replaces a CA's entry.
    pub(crate) fn put(&self, entry: CaEntry) {
        let entry = Arc::new(entry);
        let key = entry.subject_key();
        let mut by_subject = write(&self.by_subject);
        let mut list: Vec<Arc<CaEntry>> = by_subject
            .get(&key)
            .map(|l| l.iter().filter(|e| e.id != entry.id).cloned().collect())
            .unwrap_or_default();
        list.push(entry.clone());
        list.sort_by_key(|e| e.id);
        by_subject.insert(key, list.into());
        write(&self.by_id).insert(entry.id, entry);
    }

    /// Changes a CA's status, auto-registration and whether it provisions.
    pub(crate) fn update(
        &self,
        id: &CertificateId,
        status: CaStatus,
        auto_registration: AutoRegistrationStatus,
        jitp: bool,
    ) {
        let Some(old) = read(&self.by_id).get(id).cloned() else {
            return;
        };
        self.put(CaEntry {
            id: old.id,
            cert: old.cert.clone(),
            anchor: old.anchor.clone(),
            status,
            auto_registration,
            mode: old.mode,
            validity: old.validity,
            jitp,
        });
    }

    pub(crate) fn remove(&self, id: &CertificateId) {
        let Some(old) = write(&self.by_id).remove(id) else {
            return;
        };
        let key = old.subject_key();
        let mut by_subject = write(&self.by_subject);
        let rest: Vec<Arc<CaEntry>> = by_subject
            .get(&key)
            .map(|l| l.iter().filter(|e| e.id != *id).cloned().collect())
            .unwrap_or_default();
        if rest.is_empty() {
            by_subject.remove(&key);
        } else {
            by_subject.insert(key, rest.into());
        }
    }

    pub(crate) fn clear(&self) {
        write(&self.by_subject).clear();
        write(&self.by_id).clear();
    }

    pub(crate) fn len(&self) -> usize {
        read(&self.by_id).len()
    }

    /// The registered CAs' subjects (DER, with the outer SEQUENCE), for TLS hints.
    pub(crate) fn subjects(&self) -> Vec<Vec<u8>> {
        read(&self.by_id)
            .values()
            .map(|e| e.cert.subject().der().to_vec())
            .collect()
    }

    /// The CAs whose subject is `issuer` (DER contents, as webpki gives a certificate's
    /// issuer), ordered by ID.
    pub(crate) fn candidates(&self, issuer: &[u8]) -> Entries {
        read(&self.by_subject)
            .get(issuer)
            .cloned()
            .unwrap_or_else(|| Arc::from([]))
    }

    /// "Which registered CA signed this leaf?", answered once for every caller: the CAs
    /// whose subject is the leaf's `issuer` name, narrowed to a CA certificate the client
    /// `sent` after its leaf when several share the name, each checked with `verify` (the
    /// caller's check: full path validation for a connection, the signature alone for
    /// RegisterCertificate). Exactly one must pass.
    pub(crate) fn signer<E>(
        &self,
        issuer: &[u8],
        sent: &[CertificateDer<'_>],
        mut verify: impl FnMut(&CaEntry) -> Result<(), E>,
    ) -> Result<Arc<CaEntry>, NoSigner<E>> {
        let all = self.candidates(issuer);
        if all.is_empty() {
            return Err(NoSigner::Unknown);
        }
        let candidates = narrow_by_chain(&all, sent);
        let mut signer = None;
        let mut signers = 0;
        let mut errors = Vec::new();
        for c in candidates {
            match verify(c) {
                Ok(()) => {
                    signers += 1;
                    signer.get_or_insert(c);
                }
                Err(e) => errors.push(e),
            }
        }
        match (signer, signers) {
            (Some(c), 1) => Ok(c.clone()),
            (None, _) => Err(NoSigner::Failed(errors)),
            (Some(_), n) => Err(NoSigner::Ambiguous(n)),
        }
    }
}

/// Why [`CaIndex::signer`] found no single signer.
#[derive(Debug)]
pub(crate) enum NoSigner<E> {
    /// No registered CA has the leaf's issuer name as its subject.
    Unknown,
    /// CAs have the name, but none passed the check: each one's error.
    Failed(Vec<E>),
    /// This many CAs passed (same subject and key, and the chain names none of them).
    Ambiguous(usize),
}

/// When several registered CAs share the leaf's issuer name, a CA certificate the client
/// sent after its leaf (by certificate ID) narrows them to itself. With one candidate
/// nothing is hashed.
fn narrow_by_chain<'a>(
    candidates: &'a [Arc<CaEntry>],
    chain: &[CertificateDer<'_>],
) -> &'a [Arc<CaEntry>] {
    if candidates.len() < 2 {
        return candidates;
    }
    let sent: Vec<CertificateId> = chain
        .iter()
        .skip(1)
        .map(|c| CertificateId::of_der(c))
        .collect();
    match candidates.iter().position(|c| sent.contains(&c.id)) {
        Some(i) => &candidates[i..=i],
        None => candidates,
    }
}
