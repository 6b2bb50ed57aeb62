//! The decision path's view of the registered CAs: an immutable snapshot keyed by
//! subject, rebuilt whole when a CA changes (rare) and swapped in atomically, so a
//! handshake never scans all CAs and never waits for a writer.

use std::collections::{BTreeMap, HashMap};

use rustls_pki_types::{CertificateDer, TrustAnchor};

use super::CaRecord;
use crate::id::CertificateId;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode};
use crate::time::Validity;

#[derive(Default)]
pub(crate) struct CaIndex {
    /// Keyed by the subject `Name`'s DER contents without its outer SEQUENCE header:
    /// the form webpki hands out as a certificate's issuer.
    by_subject: HashMap<Box<[u8]>, Vec<CaEntry>>,
}

pub(crate) struct CaEntry {
    pub(crate) id: CertificateId,
    /// The CA certificate itself, for the v1-device fallback (a reference count).
    pub(crate) cert: crate::cert::Certificate,
    pub(crate) anchor: TrustAnchor<'static>,
    pub(crate) status: CaStatus,
    pub(crate) auto_registration: AutoRegistrationStatus,
    pub(crate) mode: CertificateMode,
    pub(crate) validity: Validity,
}

impl CaIndex {
    pub(crate) fn build(cas: &BTreeMap<CertificateId, CaRecord>) -> Self {
        let mut by_subject: HashMap<Box<[u8]>, Vec<CaEntry>> = HashMap::new();
        for (id, ca) in cas {
            let der = CertificateDer::from(ca.cert.der());
            // Every registered CA was parsed by webpki at registration, so this succeeds;
            // a CA webpki cannot read would simply never match.
            let Ok(anchor) = webpki::anchor_from_trusted_cert(&der) else {
                continue;
            };
            let anchor = anchor.to_owned();
            by_subject
                .entry(anchor.subject.as_ref().into())
                .or_default()
                .push(CaEntry {
                    id: *id,
                    cert: ca.cert.clone(),
                    anchor,
                    status: ca.status,
                    auto_registration: ca.auto_registration,
                    mode: ca.mode,
                    validity: ca.cert.validity(),
                });
        }
        Self { by_subject }
    }

    /// The CAs whose subject is `issuer` (DER contents, as webpki gives a certificate's
    /// issuer).
    pub(crate) fn candidates(&self, issuer: &[u8]) -> &[CaEntry] {
        self.by_subject
            .get(issuer)
            .map(Vec::as_slice)
            .unwrap_or(&[])
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
    ) -> Result<&CaEntry, NoSigner<E>> {
        let mut candidates: Vec<&CaEntry> = self.candidates(issuer).iter().collect();
        if candidates.is_empty() {
            return Err(NoSigner::Unknown);
        }
        narrow_by_chain(&mut candidates, sent);
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
            (Some(c), 1) => Ok(c),
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
fn narrow_by_chain(candidates: &mut Vec<&CaEntry>, chain: &[CertificateDer<'_>]) {
    if candidates.len() < 2 {
        return;
    }
    let sent: Vec<CertificateId> = chain
        .iter()
        .skip(1)
        .map(|c| CertificateId::of_der(c))
        .collect();
    if let Some(c) = candidates.iter().find(|c| sent.contains(&c.id)) {
        *candidates = vec![*c];
    }
}
