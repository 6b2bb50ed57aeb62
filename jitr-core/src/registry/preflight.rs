//! What JITR would decide, on a throw-away registry: for tools that diagnose a device
//! (the browser page) without a service behind them.

use std::collections::BTreeMap;

use rustls_pki_types::CertificateDer;

use super::index::NoSigner;
use super::{Decision, Registry, RegistryConfig};
use crate::cert::Certificate;
use crate::error::Error;
use crate::id::CertificateId;
use crate::scope::Scope;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::store::{CaRow, CertRow, Change, Meta, Store};
use crate::time::Timestamp;

/// A CA as the user says it is registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreflightCa {
    /// The CA certificate, PEM.
    pub pem: String,
    /// Its status.
    pub status: CaStatus,
    /// Its auto-registration status.
    pub auto_registration_status: AutoRegistrationStatus,
    /// Its mode.
    pub certificate_mode: CertificateMode,
}

/// A device certificate as the user says it is registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreflightCertificate {
    /// Its ID.
    pub certificate_id: CertificateId,
    /// Its status.
    pub status: CertificateStatus,
}

/// The decision [`Registry::decide`] would make for `chain` if the account held exactly
/// these CAs (as given, without proof of possession or validity checks at registration)
/// and these device certificates. Nothing persists; the registration event in a
/// `REGISTERED_PENDING_ACTIVATION` decision is what would be published, for `account`.
///
/// A registered certificate that is not the chain's leaf cannot affect the decision and
/// is ignored. Malformed CA PEMs are errors; a CA listed twice keeps its first entry.
pub fn preflight(
    account: &str,
    chain: &[CertificateDer<'_>],
    cas: &[PreflightCa],
    certificates: &[PreflightCertificate],
    server_name: Option<&str>,
    now: Timestamp,
) -> Result<Decision, Error> {
    let scope = Scope::new(account, "us-east-1")?;
    let reg = Registry::open(scope, RegistryConfig::default(), &Store::memory())?;
    let mut rows: BTreeMap<CertificateId, CaRow> = BTreeMap::new();
    for ca in cas {
        let cert = Certificate::from_pem(&ca.pem)?;
        rows.entry(cert.id()).or_insert(CaRow {
            certificate_id: cert.id(),
            certificate_pem: cert.to_pem(),
            status: ca.status,
            auto_registration_status: ca.auto_registration_status,
            certificate_mode: ca.certificate_mode,
            registration_config: None,
            tags: Vec::new(),
            meta: Meta::new(now),
            parsed: Some(cert),
        });
    }
    let mut changes: Vec<Change> = rows
        .into_values()
        .map(Change::CaCertificateRegistered)
        .collect();
    reg.commit(|_| Ok(((), std::mem::take(&mut changes))))?;
    if let Some(leaf) = chain.first() {
        let leaf_id = CertificateId::of_der(leaf);
        if let Some(known) = certificates.iter().find(|c| c.certificate_id == leaf_id) {
            let cert = Certificate::from_der(leaf)?;
            // The CA link: the registered CA that signed it, if one did.
            let ca_id = match reg
                .caches
                .ca_index
                .signer(cert.issuer().key(), chain, |c| cert.is_issued_by(&c.cert))
            {
                Ok(c) => Some(c.id),
                Err(NoSigner::Ambiguous(n)) => {
                    return Err(Error::CertificateConflict(format!(
                        "{n} of the given CA certificates have this certificate's issuer name and key; give one of them or send it in the chain"
                    )))
                }
                Err(NoSigner::Unknown | NoSigner::Failed(_)) => None,
            };
            let row = CertRow {
                certificate_id: leaf_id,
                certificate_pem: cert.to_pem(),
                ca_certificate_id: ca_id,
                status: known.status,
                certificate_mode: CertificateMode::Default,
                validity: cert.validity(),
                previous_owned_by: None,
                transfer_data: None,
                meta: Meta::new(now),
            };
            reg.commit(|_| Ok(((), vec![Change::CertificateRegistered(row.clone())])))?;
        }
    }
    Ok(reg.decide(chain, server_name, now))
}
