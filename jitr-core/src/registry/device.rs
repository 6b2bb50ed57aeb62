//! Device certificate operations (docs/behaviour.md §5).

use serde::{Deserialize, Serialize};

use super::{read, write, CertRecord, Meta, Registry};
use crate::cert::Certificate;
use crate::error::Error;
use crate::id::CertificateId;
use crate::status::{CaStatus, CertificateMode, CertificateStatus, Transition};
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferData {
    /// The transfer message.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transfer_message: Option<String>,
    /// The reject reason.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reject_reason: Option<String>,
}

/// DescribeCertificate's `certificateDescription`; its JSON is the AWS CLI's.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CertificateDescription {
    /// The ARN (`…:cert/<id>`).
    pub certificate_arn: String,
    /// The ID.
    pub certificate_id: CertificateId,
    /// The CA that signed it, absent for certificates registered without a CA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate_id: Option<CertificateId>,
    /// The status.
    pub status: CertificateStatus,
    /// The PEM.
    pub certificate_pem: String,
    /// The owning account.
    pub owned_by: String,
    /// The previous owner, after a transfer.
    #[serde(skip_serializing_if = "Option::is_none")]
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_data: Option<TransferData>,
    /// A fresh UUID at every change.
    pub generation_id: String,
    /// The certificate's validity window.
    pub validity: Validity,
    /// `DEFAULT` or `SNI_ONLY`.
    pub certificate_mode: CertificateMode,
}

impl Registry {
    /// RegisterCertificate: registers a device certificate signed by a registered,
    /// `ACTIVE` CA. No event is published.
    pub fn register_certificate(
        &self,
        req: &RegisterCertificateRequest,
        now: Timestamp,
    ) -> Result<RegisterCertificateResponse, Error> {
        let cert = Certificate::from_pem(&req.certificate_pem)?;
        let status = req.status.unwrap_or(CertificateStatus::Inactive);
        status.check_registrable()?;
        let (ca_id, mode) = {
            let cas = read(&self.cas);
            let chosen = match &req.ca_certificate_pem {
                Some(pem) => {
                    let ca = Certificate::from_pem(pem).map_err(|e| {
                        Error::CertificateValidation(format!("caCertificatePem: {}", e.message()))
                    })?;
                    let record = cas.get(&ca.id()).ok_or_else(|| {
                        Error::CertificateState(format!(
                            "the CA certificate {} is not registered in this account",
                            ca.id()
                        ))
                    })?;
                    cert.is_signed_by(&record.cert)?;
                    (ca.id(), record)
                }
                None => {
                    let same_subject: Vec<_> = cas
                        .iter()
                        .filter(|(_, r)| r.cert.subject().der() == cert.issuer().der())
                        .collect();
                    if same_subject.is_empty() {
                        return Err(Error::CertificateState(format!(
                            "no CA certificate with the subject {} is registered in this account",
                            cert.issuer().rfc4514()
                        )));
                    }
                    let mut last_err = None;
                    let mut signers = Vec::new();
                    for (id, r) in same_subject {
                        match cert.is_signed_by(&r.cert) {
                            Ok(()) => signers.push((*id, r)),
                            Err(e) => last_err = Some(e),
                        }
                    }
                    match signers.len() {
                        1 => signers.remove(0),
                        0 => {
                            return Err(last_err.unwrap_or_else(|| {
                                Error::CertificateValidation(
                                    "the certificate does not verify with a registered CA".into(),
                                )
                            }))
                        }
                        n => {
                            return Err(Error::CertificateConflict(format!(
                                "{n} registered CA certificates have this certificate's issuer name and key; pass caCertificatePem to choose one"
                            )))
                        }
                    }
                }
            };
            let (ca_id, record) = chosen;
            if record.status != CaStatus::Active {
                return Err(Error::CertificateState(format!(
                    "the CA certificate {ca_id} is {}; it must be ACTIVE to register certificates it signed",
                    record.status
                )));
            }
            (Some(ca_id), record.mode)
        };
        self.insert_new_certificate(cert, ca_id, status, mode, now)
    }

    /// RegisterCertificateWithoutCA: registers a device certificate whose CA is not
    /// registered; its mode is `SNI_ONLY`.
    pub fn register_certificate_without_ca(
        &self,
        req: &RegisterCertificateRequest,
        now: Timestamp,
    ) -> Result<RegisterCertificateResponse, Error> {
        let cert = Certificate::from_pem(&req.certificate_pem)?;
        let status = req.status.unwrap_or(CertificateStatus::Inactive);
        status.check_registrable()?;
        self.insert_new_certificate(cert, None, status, CertificateMode::SniOnly, now)
    }

    fn insert_new_certificate(
        &self,
        cert: Certificate,
        ca_id: Option<CertificateId>,
        status: CertificateStatus,
        mode: CertificateMode,
        now: Timestamp,
    ) -> Result<RegisterCertificateResponse, Error> {
        let id = cert.id();
        let arn = self.scope.certificate_arn(&id);
        let inserted = self.insert_record(
            id,
            CertRecord {
                der: cert.der().into(),
                validity: cert.validity(),
                ca_id,
                status,
                mode,
                previous_owned_by: None,
                transfer_data: None,
                meta: Meta::new(now),
            },
        );
        if !inserted {
            return Err(Error::ResourceAlreadyExists {
                message: "The certificate is already provisioned or registered".into(),
                resource_id: id.to_string(),
                resource_arn: arn,
            });
        }
        Ok(RegisterCertificateResponse {
            certificate_arn: arn,
            certificate_id: id,
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
        new_status.check_update_target()?;
        let mut shard = write(self.shard(id));
        let current = shard
            .get(id)
            .ok_or_else(|| Self::cert_not_found(id))?
            .status;
        let transition = current.transition_to(new_status)?;
        if transition == Transition::Change {
            if let Some(record) = shard.set_status(id, new_status) {
                record.meta.bump(now);
            }
        }
        Ok(transition)
    }

    /// DescribeCertificate.
    pub fn describe_certificate(
        &self,
        id: &CertificateId,
    ) -> Result<CertificateDescription, Error> {
        let shard = read(self.shard(id));
        let r = shard.get(id).ok_or_else(|| Self::cert_not_found(id))?;
        Ok(CertificateDescription {
            certificate_arn: self.scope.certificate_arn(id),
            certificate_id: *id,
            ca_certificate_id: r.ca_id,
            status: r.status,
            certificate_pem: crate::cert::der_to_pem(&r.der),
            owned_by: self.scope.account().to_string(),
            previous_owned_by: r.previous_owned_by.clone(),
            creation_date: r.meta.creation_date,
            last_modified_date: r.meta.last_modified_date,
            customer_version: r.meta.customer_version,
            transfer_data: r.transfer_data.clone(),
            generation_id: r.meta.generation_id.clone(),
            validity: r.validity,
            certificate_mode: r.mode,
        })
    }

    /// DeleteCertificate: refused while `ACTIVE`, and while a policy is attached unless
    /// `force_delete` (which detaches them).
    pub fn delete_certificate(&self, id: &CertificateId, force_delete: bool) -> Result<(), Error> {
        let arn = self.scope.certificate_arn(id);
        let mut policies = write(&self.policies);
        let mut shard = write(self.shard(id));
        let record = shard.get(id).ok_or_else(|| Self::cert_not_found(id))?;
        if record.status == CertificateStatus::Active {
            return Err(Error::CertificateState(format!(
                "the certificate {id} is ACTIVE; deactivate or revoke it before deleting it"
            )));
        }
        let attached = policies.attached_to(&arn);
        if !attached.is_empty() && !force_delete {
            let mut names: Vec<_> = attached.into_iter().collect();
            names.sort();
            return Err(Error::DeleteConflict(format!(
                "the certificate {id} has attached policies ({}); detach them or use forceDelete",
                names.join(", ")
            )));
        }
        policies.detach_all(&arn);
        shard.remove(id);
        Ok(())
    }
}
