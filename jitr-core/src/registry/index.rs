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
}
