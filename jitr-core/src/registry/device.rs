//! Device certificate operations (docs/behaviour.md §5).

use serde::{Deserialize, Serialize};

use super::index::NoSigner;
use super::Registry;
use crate::cert::Certificate;
use crate::error::Error;
use crate::id::CertificateId;
use crate::status::{CaStatus, CertificateMode, CertificateStatus, Transition};
use crate::store::{CertRow, Change, Meta, Reader, ResourceReads};
use crate::time::{as_epoch_seconds, Timestamp, Validity};

/// RegisterCertificate's (and RegisterCertificateWithoutCA's) input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterCertificateRequest {
    /// The device certificate, PEM.
    pub certificate_pem: String,
    /// The issuing CA's PEM, to choose among registered CAs with the same subject.
    /// Ignored by RegisterCertificateWithoutCA.
    pub ca_certificate_pem: Option<String>,
    /// `ACTIVE`, `INACTIVE` (the default) or `REVOKED`.
    pub status: Option<CertificateStatus>,
}

/// The output of the register operations: the new resource's ARN and ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterCertificateResponse {
    /// The ARN.
    pub certificate_arn: String,
    /// The ID.
    pub certificate_id: CertificateId,
}

/// Transfer data of a certificate in transfer (kept on import; jitr does not transfer).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferData {
    /// The transfer message.
    pub transfer_message: Option<String>,
    /// The reject reason.
    pub reject_reason: Option<String>,
}

/// DescribeCertificate's `certificateDescription`; its JSON is the AWS CLI's.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CertificateDescription {
    /// The ARN (`…:cert/<id>`).
    pub certificate_arn: String,
    /// The ID.
    pub certificate_id: CertificateId,
    /// The CA that signed it, absent for certificates registered without a CA.
    pub ca_certificate_id: Option<CertificateId>,
    /// The status.
    pub status: CertificateStatus,
    /// The PEM.
    pub certificate_pem: String,
    /// The owning account.
    pub owned_by: String,
    /// The previous owner, after a transfer.
    pub previous_owned_by: Option<String>,
    /// When it was registered.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
    /// When it last changed.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub last_modified_date: Timestamp,
    /// 1, +1 at every change.
    pub customer_version: u64,
    /// Transfer data, for certificates in transfer.
    pub transfer_data: Option<TransferData>,
    /// A fresh UUID at every change.
    pub generation_id: String,
    /// The certificate's validity window.
    pub validity: Validity,
    /// `DEFAULT` or `SNI_ONLY`.
    pub certificate_mode: CertificateMode,
}

impl RegisterCertificateRequest {
    /// The certificate to register and its status (INACTIVE unless given), checked to be
    /// one a registration may set.
    fn certificate_and_status(&self) -> Result<(Certificate, CertificateStatus), Error> {
        let cert = Certificate::from_pem(&self.certificate_pem)?;
        let status = self.status.unwrap_or(CertificateStatus::Inactive);
        status.check_registrable()?;
        Ok((cert, status))
    }
}

impl Registry {
    /// RegisterCertificate: registers a device certificate signed by a registered,
    /// `ACTIVE` CA. No event is published.
    pub fn register_certificate(
        &self,
        req: &RegisterCertificateRequest,
        now: Timestamp,
    ) -> Result<RegisterCertificateResponse, Error> {
        let (cert, status) = req.certificate_and_status()?;
        let chosen = match &req.ca_certificate_pem {
            Some(pem) => Some(
                Certificate::from_pem(pem)
                    .map_err(|e| Error::CertificateValidation(format!("caCertificatePem: {e}")))?,
            ),
            None => None,
        };
        let ca_id = match &chosen {
            Some(ca) => ca.id(),
            None => {
                self.caches
                    .ca_index
                    .signer(cert.issuer().key(), &[], |c| cert.is_issued_by(&c.cert))
                    .map_err(|no| match no {
                        NoSigner::Unknown => Error::CertificateState(format!(
                            "no CA certificate with the subject {} is registered in this account",
                            cert.issuer().rfc4514()
                        )),
                        NoSigner::Failed(mut errors) => errors.pop().unwrap_or_else(|| {
                            Error::CertificateValidation(
                                "the certificate does not verify with a registered CA".into(),
                            )
                        }),
                        NoSigner::Ambiguous(n) => Error::CertificateConflict(format!(
                            "{n} registered CA certificates have this certificate's issuer name and key; pass caCertificatePem to choose one"
                        )),
                    })?
                    .id
            }
        };
        self.insert_new_certificate(&cert, status, now, |r| {
            let ca = r.ca(&self.scope, &ca_id)?.ok_or_else(|| {
                Error::CertificateState(format!(
                    "the CA certificate {ca_id} is not registered in this account"
                ))
            })?;
            if let Some(chosen) = &chosen {
                cert.is_issued_by(chosen)?;
            }
            if ca.status != CaStatus::Active {
                return Err(Error::CertificateState(format!(
                    "the CA certificate {ca_id} is {}; it must be ACTIVE to register certificates it signed",
                    ca.status
                )));
            }
            Ok((Some(ca_id), ca.certificate_mode))
        })
    }

    /// RegisterCertificateWithoutCA: registers a device certificate whose CA is not
    /// registered; its mode is `SNI_ONLY`.
    pub fn register_certificate_without_ca(
        &self,
        req: &RegisterCertificateRequest,
        now: Timestamp,
    ) -> Result<RegisterCertificateResponse, Error> {
        let (cert, status) = req.certificate_and_status()?;
        self.insert_new_certificate(&cert, status, now, |_| Ok((None, CertificateMode::SniOnly)))
    }

    /// Registers a certificate the account's issuing CA signed: no CA certificate ID,
    /// `DEFAULT` mode, as AWS registers the certificates it issues.
    #[cfg(feature = "tooling")]
    pub(crate) fn register_issued_certificate(
        &self,
        cert: &Certificate,
        status: CertificateStatus,
        now: Timestamp,
    ) -> Result<RegisterCertificateResponse, Error> {
        self.insert_new_certificate(cert, status, now, |_| Ok((None, CertificateMode::Default)))
    }

    /// Registers `cert` once: `ca` (inside the transaction) says which CA and mode, or
    /// why not.
    fn insert_new_certificate(
        &self,
        cert: &Certificate,
        status: CertificateStatus,
        now: Timestamp,
        mut ca: impl FnMut(&mut dyn Reader) -> Result<(Option<CertificateId>, CertificateMode), Error>,
    ) -> Result<RegisterCertificateResponse, Error> {
        let id = cert.id();
        let arn = self.scope.certificate_arn(&id);
        self.commit(|r| {
            let (ca_id, mode) = ca(r)?;
            if r.certificate(&self.scope, &id)?.is_some() {
                return Err(Error::ResourceAlreadyExists {
                    resource: crate::error::ResourceKind::Certificate,
                    message: "The certificate is already provisioned or registered".into(),
                    resource_id: id.to_string(),
                    resource_arn: arn.clone(),
                });
            }
            let row = CertRow {
                certificate_id: id,
                certificate_pem: cert.to_pem(),
                ca_certificate_id: ca_id,
                status,
                certificate_mode: mode,
                validity: cert.validity(),
                previous_owned_by: None,
                transfer_data: None,
                meta: Meta::new(now),
            };
            Ok((
                RegisterCertificateResponse {
                    certificate_arn: arn.clone(),
                    certificate_id: id,
                },
                vec![Change::CertificateRegistered(row)],
            ))
        })
    }

    /// UpdateCertificate: moves a certificate to `new_status` if docs/behaviour.md §5 allows it
    /// ([`CertificateStatus::transition_to`]). Idempotent: the same status changes
    /// nothing and returns [`Transition::NoChange`]. Takes effect on the next connection.
    pub fn update_certificate(
        &self,
        id: &CertificateId,
        new_status: CertificateStatus,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        self.update_certificate_if(id, new_status, None, now)
    }

    /// UpdateCertificate with compare-and-set: changes the status only if the
    /// certificate's `customerVersion` is still `expected_version` (what a caller read
    /// with DescribeCertificate); otherwise `VersionConflictException`, and nothing
    /// changes. Two writers that read the same version cannot both succeed.
    pub fn update_certificate_if(
        &self,
        id: &CertificateId,
        new_status: CertificateStatus,
        expected_version: Option<u64>,
        now: Timestamp,
    ) -> Result<Transition, Error> {
        new_status.check_update_target()?;
        self.commit(|r| {
            let row = r
                .certificate(&self.scope, id)?
                .ok_or_else(|| Self::cert_not_found(id))?;
            super::check_version(
                format_args!("the certificate {id}"),
                expected_version,
                row.meta.customer_version,
                ": it changed since it was read",
            )?;
            let transition = row.status.transition_to(new_status)?;
            let changes = match transition {
                Transition::Change => vec![Change::CertificateStatusChanged {
                    certificate_id: *id,
                    previous_status: row.status,
                    status: new_status,
                    meta: row.meta.bumped(now),
                }],
                _ => Vec::new(),
            };
            Ok((transition, changes))
        })
    }

    /// DescribeCertificate.
    pub fn describe_certificate(
        &self,
        id: &CertificateId,
    ) -> Result<CertificateDescription, Error> {
        let r = self
            .read(|r| r.certificate(&self.scope, id))?
            .ok_or_else(|| Self::cert_not_found(id))?;
        Ok(CertificateDescription {
            certificate_arn: self.scope.certificate_arn(id),
            certificate_id: *id,
            ca_certificate_id: r.ca_certificate_id,
            status: r.status,
            certificate_pem: r.certificate_pem,
            owned_by: self.scope.account().to_string(),
            previous_owned_by: r.previous_owned_by,
            creation_date: r.meta.creation_date,
            last_modified_date: r.meta.last_modified_date,
            customer_version: r.meta.customer_version,
            transfer_data: r.transfer_data,
            generation_id: r.meta.generation_id,
            validity: r.validity,
            certificate_mode: r.certificate_mode,
        })
    }

    /// DeleteCertificate: refused while `ACTIVE`, and while a policy is attached unless
    /// `force_delete` (which detaches them).
    pub fn delete_certificate(&self, id: &CertificateId, force_delete: bool) -> Result<(), Error> {
        let arn = self.scope.certificate_arn(id);
        self.commit(|r| {
            let row = r
                .certificate(&self.scope, id)?
                .ok_or_else(|| Self::cert_not_found(id))?;
            if row.status == CertificateStatus::Active {
                return Err(Error::CertificateState(format!(
                    "the certificate {id} is ACTIVE; deactivate or revoke it before deleting it"
                )));
            }
            let attached = r.attached_to(&self.scope, &arn)?;
            if !attached.is_empty() && !force_delete {
                return Err(Error::DeleteConflict(format!(
                    "the certificate {id} has attached policies ({}); detach them or use forceDelete",
                    attached.join(", ")
                )));
            }
            let mut changes: Vec<Change> = attached
                .into_iter()
                .map(|policy_name| Change::PolicyDetached {
                    policy_name,
                    target: arn.clone(),
                })
                .collect();
            changes.push(Change::CertificateDeleted { certificate_id: *id });
            Ok(((), changes))
        })
    }
}
