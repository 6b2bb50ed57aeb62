//! The decision path's view of the registered CAs, keyed by subject and changed by
//! delta: registering, updating or deleting one CA touches its own entry, O(1), however
//! many CAs there are. A lookup clones one `Arc` under a read lock held for a map
//! lookup, so a handshake never scans all CAs and never waits for a writer longer than
//! one map operation.
//!
//! **Names.** The key is the subject prepared as RFC 5280 §7.1 compares names
//! ([`NameKey`]: RFC 4518 string preparation, attribute order within an RDN ignored),
//! computed once when the CA is indexed; a leaf's issuer is prepared once per lookup. So a
//! device whose issuer is encoded differently from its CA's subject (`PrintableString`
//! against `UTF8String`, letter case, spaces) still finds its CA. Verification stays
//! rustls-webpki's, which matches names byte for byte: the caller hands it the CA as a
//! trust anchor whose subject is the leaf's own issuer bytes (see `decide::path`), which
//! is sound because the names match and the CA's key must verify the signature.
//!
//! **Subjects equal only after preparation.** Two CAs whose subjects are encoded
//! differently but match are candidates for the same leaves, exactly as two CAs with
//! byte-identical subjects are: each is verified, and the signature decides. With
//! different keys only the CA whose key verifies the leaf's signature signed it; with the
//! same key both verify, and the leaf is ambiguous (`AMBIGUOUS_CA`) unless the chain
//! names one of them, as for identical subjects. The same-subject quota of
//! RegisterCACertificate counts identical encodings, as AWS documents it ("the same CA
//! subject field").
//!
//! **keyUsage.** Each entry records whether its certificate may sign certificates (a
//! keyUsage extension, when present, asserts keyCertSign). A registered CA that may not
//! (RegisterCACertificate refuses one, but a state file or a preflight can hold one)
//! stays indexed, so a device it signed is refused with that reason rather than as an
//! unknown issuer; `decide::path` checks it for every signer.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls_pki_types::{CertificateDer, TrustAnchor};

use super::{read, write};
use crate::cert::{Certificate, NameKey};
use crate::id::CertificateId;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode};
use crate::store::CaRow;
use crate::time::Validity;

type Entries = Arc<[Arc<CaEntry>]>;

#[derive(Default)]
pub(crate) struct CaIndex {
    /// Keyed by the subject prepared for RFC 5280 §7.1 matching.
    by_subject: RwLock<HashMap<NameKey, Entries>>,
    by_id: RwLock<HashMap<CertificateId, Arc<CaEntry>>>,
}

/// A registered CA as the decision needs it.
pub(crate) struct CaEntry {
    pub(crate) id: CertificateId,
    /// The CA certificate itself, for the v1-device fallback and RegisterCertificate.
    pub(crate) cert: Certificate,
    pub(crate) anchor: TrustAnchor<'static>,
    /// The subject, prepared ([`NameKey`]): the index key.
    pub(crate) subject_key: NameKey,
    /// Whether the CA's keyUsage (when present) asserts keyCertSign.
    pub(crate) may_sign: bool,
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
            subject_key: cert.subject().key().clone(),
            may_sign: cert.can_sign_certificates(),
            cert,
            anchor,
            status: row.status,
            auto_registration: row.auto_registration_status,
            mode: row.certificate_mode,
            jitp: row.registration_config.is_some(),
        })
    }
}

impl CaIndex {
    /// Inserts or replaces a CA's entry.
    pub(crate) fn put(&self, entry: CaEntry) {
        let entry = Arc::new(entry);
        let key = entry.subject_key.clone();
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
            subject_key: old.subject_key.clone(),
            may_sign: old.may_sign,
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
        let key = &old.subject_key;
        let mut by_subject = write(&self.by_subject);
        let rest: Vec<Arc<CaEntry>> = by_subject
            .get(key)
            .map(|l| l.iter().filter(|e| e.id != *id).cloned().collect())
            .unwrap_or_default();
        if rest.is_empty() {
            by_subject.remove(key);
        } else {
            by_subject.insert(key.clone(), rest.into());
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

    /// The CAs whose subject matches `issuer` (a leaf's issuer, prepared), ordered by ID.
    pub(crate) fn candidates(&self, issuer: &NameKey) -> Entries {
        read(&self.by_subject)
            .get(issuer)
            .cloned()
            .unwrap_or_else(|| Arc::from([]))
    }

    /// "Which registered CA signed this leaf?", answered once for every caller: the CAs
    /// whose subject matches the leaf's `issuer` name (RFC 5280 §7.1), narrowed to a CA
    /// certificate the client `sent` after its leaf when several share the name, each
    /// checked with `verify` (the caller's check: full path validation for a connection,
    /// the signature and keyUsage for RegisterCertificate). Exactly one must pass.
    pub(crate) fn signer<E>(
        &self,
        issuer: &NameKey,
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
    /// No registered CA's subject matches the leaf's issuer name.
    Unknown,
    /// CAs have the name, but none passed the check: each one's error.
    Failed(Vec<E>),
    /// This many CAs passed (matching subjects and the same key, and the chain names none
    /// of them).
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
