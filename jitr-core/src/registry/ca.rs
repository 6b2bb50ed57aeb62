//! CA certificate operations (docs/behaviour.md §3, §4).

use serde::{Deserialize, Serialize};

use super::{RegisterCertificateResponse, Registry};
use crate::cert::Certificate;
use crate::error::Error;
use crate::error::ResourceKind;
use crate::id::CertificateId;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, Transition};
use crate::store::{CaRow, Change, Meta};
use crate::time::{as_epoch_seconds, Timestamp, Validity, ValidityCheck};

/// The longest CA certificate PEM accepted (AWS's limit).
pub const MAX_CA_PEM_LEN: usize = 65_536;
/// The longest JITP template body accepted (AWS's limit).
pub const MAX_TEMPLATE_BODY_LEN: usize = 10_240;

/// RegisterCACertificate's input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterCaCertificateRequest {
    /// The CA certificate, PEM.
    pub ca_certificate: String,
    /// The verification certificate, PEM: required in `DEFAULT` mode, absent in
    /// `SNI_ONLY` mode.
    pub verification_certificate: Option<String>,
    /// Register as `ACTIVE` (else `INACTIVE`).
    pub set_as_active: bool,
    /// Turn auto-registration on (`ENABLE`, else `DISABLE`).
    pub allow_auto_registration: bool,
    /// `DEFAULT` (with proof of possession) or `SNI_ONLY`.
    pub certificate_mode: CertificateMode,
    /// A just-in-time provisioning template, kept and described but not run.
    pub registration_config: Option<RegistrationConfig>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A just-in-time provisioning configuration.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationConfig {
    /// The template body (JSON), at most 10,240 characters.
    pub template_body: Option<String>,
    /// The IAM role ARN the template runs as.
    pub role_arn: Option<String>,
    /// The template's name.
    pub template_name: Option<String>,
}

/// A resource tag.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    /// The key.
    #[serde(rename = "Key")]
    pub key: String,
    /// The value.
    #[serde(rename = "Value")]
    pub value: Option<String>,
}

/// UpdateCACertificate's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateCaCertificateRequest {
    /// The CA to update.
    pub certificate_id: CertificateId,
    /// The new status.
    pub new_status: Option<CaStatus>,
    /// The new auto-registration status.
    pub new_auto_registration_status: Option<AutoRegistrationStatus>,
    /// A new registration configuration.
    pub registration_config: Option<RegistrationConfig>,
    /// Drop the registration configuration.
    pub remove_auto_registration: bool,
}

impl UpdateCaCertificateRequest {
    /// A request that changes nothing yet.
    pub fn new(certificate_id: CertificateId) -> Self {
        Self {
            certificate_id,
            new_status: None,
            new_auto_registration_status: None,
            registration_config: None,
            remove_auto_registration: false,
        }
    }
}

/// DescribeCACertificate's `certificateDescription`; its JSON is the AWS CLI's.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CaCertificateDescription {
    /// The ARN (`…:cacert/<id>`).
    pub certificate_arn: String,
    /// The ID.
    pub certificate_id: CertificateId,
    /// `ACTIVE` or `INACTIVE`.
    pub status: CaStatus,
    /// The PEM.
    pub certificate_pem: String,
    /// The owning account.
    pub owned_by: String,
    /// When it was registered.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
    /// `ENABLE` or `DISABLE`.
    pub auto_registration_status: AutoRegistrationStatus,
    /// When it last changed.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub last_modified_date: Timestamp,
    /// 1, +1 at every change.
    pub customer_version: u64,
    /// A fresh UUID at every change.
    pub generation_id: String,
    /// The certificate's validity window.
    pub validity: Validity,
    /// `DEFAULT` or `SNI_ONLY`.
    pub certificate_mode: CertificateMode,
}

/// DescribeCACertificate's output.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DescribeCaCertificateResponse {
    /// The description.
    pub certificate_description: CaCertificateDescription,
    /// The registration configuration, if any.
    pub registration_config: Option<RegistrationConfig>,
}

impl Registry {
    /// RegisterCACertificate. Every rule of docs/behaviour.md §3 is checked before anything is
    /// stored; the rules that span rows (already registered, ten CAs per subject, one
    /// account per region for a `DEFAULT` CA) are checked inside the store's write
    /// transaction, so they hold across every process sharing the store.
    pub fn register_ca_certificate(
        &self,
        req: &RegisterCaCertificateRequest,
        now: Timestamp,
    ) -> Result<RegisterCertificateResponse, Error> {
        if req.ca_certificate.len() > MAX_CA_PEM_LEN {
            return Err(Error::InvalidRequest(format!(
                "caCertificate is {} characters; at most {MAX_CA_PEM_LEN} are accepted",
                req.ca_certificate.len()
            )));
        }
        if let Some(cfg) = &req.registration_config {
            validate_registration_config(cfg)?;
        }
        // 1. Exactly one parseable certificate.
        let ca = Certificate::from_pem(&req.ca_certificate)?;
        // 2. A CA, valid now, that the decision path can use as a trust anchor.
        check_is_usable_ca(&ca, now)?;
        // 3. Mode and verification certificate go together.
        let verification = match (req.certificate_mode, &req.verification_certificate) {
            (CertificateMode::Default, Some(pem)) => Some(pem.as_str()),
            (CertificateMode::Default, None) => {
                return Err(Error::InvalidRequest(
                    "a verification certificate is required to register a CA certificate in DEFAULT mode".into(),
                ))
            }
            (CertificateMode::SniOnly, None) => None,
            (CertificateMode::SniOnly, Some(_)) => {
                return Err(Error::InvalidRequest(
                    "a CA certificate in SNI_ONLY mode is registered without a verification certificate".into(),
                ))
            }
        };
        let id = ca.id();
        let arn = self.scope.ca_certificate_arn(&id);
        let row = CaRow {
            certificate_id: id,
            certificate_pem: ca.to_pem(),
            status: if req.set_as_active {
                CaStatus::Active
            } else {
                CaStatus::Inactive
            },
            auto_registration_status: if req.allow_auto_registration {
                AutoRegistrationStatus::Enable
            } else {
                AutoRegistrationStatus::Disable
            },
            certificate_mode: req.certificate_mode,
            registration_config: req.registration_config.clone(),
            tags: req.tags.clone(),
            meta: Meta::new(now),
            parsed: Some(ca.clone()),
        };
        self.commit(|r| {
            if let Some(cfg) = &req.registration_config {
                self.check_registration_config(r, cfg)?;
            }
            // 4. Proof of possession, against the code as the store has it.
            if let Some(pem) = verification {
                let code = r.registration_code(&self.scope)?.ok_or_else(|| {
                    Error::RegistrationCodeValidation(
                        "this account has no registration code; call GetRegistrationCode and put it in the verification certificate's Common Name".into(),
                    )
                })?;
                check_verification_certificate(
                    &ca,
                    pem,
                    &code,
                    now,
                    self.config.check_verification_certificate_validity,
                )?;
            }
            // 5. Not registered yet, here or (DEFAULT) in another account of this region.
            if r.ca(&self.scope, &id)?.is_some() {
                return Err(Error::ResourceAlreadyExists {
                    resource: ResourceKind::CaCertificate,
                    message: format!("the CA certificate {id} is already registered"),
                    resource_id: id.to_string(),
                    resource_arn: arn.clone(),
                });
            }
            // 6. Same-subject quota.
            let same_subject = r.cas_with_subject(&self.scope, ca.subject().der())?;
            if same_subject >= self.config.max_cas_per_subject {
                return Err(Error::LimitExceeded(format!(
                    "this account already has {same_subject} CA certificates with the subject {}; the limit is {}",
                    ca.subject().rfc4514(),
                    self.config.max_cas_per_subject
                )));
            }
            if req.certificate_mode == CertificateMode::Default {
                match r.default_ca_owner(&self.scope, &id)? {
                    Some(owner) if owner != self.scope.account() => {
                        return Err(Error::ResourceAlreadyExists {
                            resource: ResourceKind::CaCertificate,
                            message: format!(
                                "the CA certificate {id} is registered in DEFAULT mode by another account in {}; a DEFAULT-mode CA belongs to one account per region (register it in SNI_ONLY mode to share it)",
                                self.scope.region()
                            ),
                            resource_id: id.to_string(),
                            resource_arn: arn.clone(),
                        })
                    }
                    _ => {}
                }
            }
            let mut changes = vec![Change::CaCertificateRegistered(row.clone())];
            changes.extend(Self::tag_changes(r, self, &arn, &req.tags)?);
            Ok((
                RegisterCertificateResponse {
                    certificate_arn: arn.clone(),
                    certificate_id: id,
                },
                changes,
            ))
        })
    }

    /// UpdateCACertificate. Every ACTIVE↔INACTIVE move is allowed; a request that changes
    /// nothing does not bump the version.
    pub fn update_ca_certificate(
        &self,
        req: &UpdateCaCertificateRequest,
        now: Timestamp,
    ) -> Result<(), Error> {
        if let Some(cfg) = &req.registration_config {
            validate_registration_config(cfg)?;
        }
        if req.remove_auto_registration && req.registration_config.is_some() {
            return Err(Error::InvalidRequest(
                "registrationConfig and removeAutoRegistration cannot be given together".into(),
            ));
        }
        self.commit(|r| {
            let ca = r
                .ca(&self.scope, &req.certificate_id)?
                .ok_or_else(|| Self::ca_not_found(&req.certificate_id))?;
            if let Some(cfg) = &req.registration_config {
                self.check_registration_config(r, cfg)?;
            }
            let mut status = ca.status;
            let mut auto = ca.auto_registration_status;
            let mut config = ca.registration_config.clone();
            if let Some(s) = req.new_status {
                if status.transition_to(s) == Transition::Change {
                    status = s;
                }
            }
            if let Some(a) = req.new_auto_registration_status {
                auto = a;
            }
            if let Some(cfg) = &req.registration_config {
                config = Some(cfg.clone());
            }
            if req.remove_auto_registration {
                config = None;
            }
            let changed = status != ca.status
                || auto != ca.auto_registration_status
                || config != ca.registration_config;
            let changes = super::change_if(changed, || Change::CaCertificateUpdated {
                certificate_id: req.certificate_id,
                status,
                auto_registration_status: auto,
                registration_config: config,
                meta: ca.meta.bumped(now),
            });
            Ok(((), changes))
        })
    }

    /// DescribeCACertificate.
    pub fn describe_ca_certificate(
        &self,
        id: &CertificateId,
    ) -> Result<DescribeCaCertificateResponse, Error> {
        let ca = self
            .read(|r| r.ca(&self.scope, id))?
            .ok_or_else(|| Self::ca_not_found(id))?;
        let cert = Certificate::from_pem(&ca.certificate_pem)?;
        Ok(DescribeCaCertificateResponse {
            certificate_description: CaCertificateDescription {
                certificate_arn: self.scope.ca_certificate_arn(id),
                certificate_id: *id,
                status: ca.status,
                certificate_pem: ca.certificate_pem,
                owned_by: self.scope.account().to_string(),
                creation_date: ca.meta.creation_date,
                auto_registration_status: ca.auto_registration_status,
                last_modified_date: ca.meta.last_modified_date,
                customer_version: ca.meta.customer_version,
                generation_id: ca.meta.generation_id,
                validity: cert.validity(),
                certificate_mode: ca.certificate_mode,
            },
            registration_config: ca.registration_config,
        })
    }

    /// DeleteCACertificate: only an `INACTIVE` CA can be deleted. Device certificates it
    /// signed stay, still naming it as their CA.
    pub fn delete_ca_certificate(&self, id: &CertificateId) -> Result<(), Error> {
        self.commit(|r| {
            let ca = r
                .ca(&self.scope, id)?
                .ok_or_else(|| Self::ca_not_found(id))?;
            if ca.status != CaStatus::Inactive {
                return Err(Error::CertificateState(format!(
                    "the CA certificate {id} is {}; set it INACTIVE before deleting it",
                    ca.status
                )));
            }
            Ok((
                (),
                vec![Change::CaCertificateDeleted {
                    certificate_id: *id,
                }],
            ))
        })
    }
}

/// The proof-of-possession check of CA registration (docs/behaviour.md §3.4), on its own: the
/// verification certificate's Common Name is `registration_code`, it was signed by the
/// CA's key and its issuer is the CA's subject, and (if `check_validity`) it is valid at
/// `now`. The CA itself is not checked here.
///
/// Errors are those RegisterCACertificate raises: `RegistrationCodeValidationException`
/// or `CertificateValidationException`.
pub fn check_verification_certificate(
    ca: &Certificate,
    verification_pem: &str,
    registration_code: &str,
    now: Timestamp,
    check_validity: bool,
) -> Result<(), Error> {
    let verification = Certificate::from_pem(verification_pem).map_err(|e| {
        Error::CertificateValidation(format!("verificationCertificate: {}", e.message()))
    })?;
    match verification.subject().common_name() {
        Some(cn) if cn.eq_ignore_ascii_case(registration_code) => {}
        Some(_) => {
            return Err(Error::RegistrationCodeValidation(
                "the verification certificate's Common Name is not this account's registration code".into(),
            ))
        }
        None => {
            return Err(Error::RegistrationCodeValidation(
                "the verification certificate has no Common Name; it must be this account's registration code".into(),
            ))
        }
    }
    verification.is_signed_by(ca).map_err(|e| {
        Error::CertificateValidation(format!(
            "the verification certificate was not signed by the CA certificate's key: {}",
            e.message()
        ))
    })?;
    if check_validity {
        check_validity_at(
            "the verification certificate",
            &verification.validity(),
            now,
        )?;
    }
    Ok(())
}

fn validate_registration_config(cfg: &RegistrationConfig) -> Result<(), Error> {
    if let Some(body) = &cfg.template_body {
        if body.chars().count() > MAX_TEMPLATE_BODY_LEN {
            return Err(Error::InvalidRequest(format!(
                "registrationConfig.templateBody is longer than {MAX_TEMPLATE_BODY_LEN} characters"
            )));
        }
    }
    Ok(())
}

/// A CA must be a CA (basicConstraints cA true), allowed to sign certificates (a keyUsage
/// extension, when present, asserts keyCertSign: RFC 5280 §4.2.1.3), named (a non-empty
/// subject: RFC 5280 §4.1.2.4 requires every certificate it signs to name it), valid now,
/// readable by webpki as a trust anchor, and readable as webpki reads every certificate
/// of a path. webpki reads an anchor as a name and a key only, so without that last check
/// a critical extension nothing processes (RFC 5280 §4.2: a certificate-using system
/// must reject it) would go unseen.
pub(crate) fn check_is_usable_ca(ca: &Certificate, now: Timestamp) -> Result<(), Error> {
    match ca.basic_constraints() {
        Some(bc) if bc.ca => {}
        Some(_) => {
            return Err(Error::CertificateValidation(
                "the CA certificate does not have the basicConstraints extension as true (cA is false)".into(),
            ))
        }
        None => {
            return Err(Error::CertificateValidation(
                "the CA certificate does not have the basicConstraints extension as true (the extension is missing)".into(),
            ))
        }
    }
    if !ca.can_sign_certificates() {
        let bits = ca.key_usage().unwrap_or_default().join(", ");
        return Err(Error::CertificateValidation(format!(
            "the CA certificate's keyUsage extension does not assert keyCertSign (it asserts {}), so its key may not sign certificates (RFC 5280 §4.2.1.3)",
            if bits.is_empty() { "nothing" } else { &bits }
        )));
    }
    if ca.subject().is_empty() {
        return Err(Error::CertificateValidation(
            "the CA certificate's subject is empty: no certificate can name it as its issuer (RFC 5280 §4.1.2.4, §4.1.2.6)".into(),
        ));
    }
    check_validity_at("the CA certificate", &ca.validity(), now)?;
    let der = rustls_pki_types::CertificateDer::from(ca.der());
    webpki::anchor_from_trusted_cert(&der).map_err(|e| {
        Error::CertificateValidation(format!(
            "the CA certificate cannot be used to verify device certificates: {e}"
        ))
    })?;
    webpki::EndEntityCert::try_from(&der).map_err(|e| {
        let why = match e {
            webpki::Error::UnsupportedCriticalExtension => format!(
                "it has a critical extension that jitr does not process ({}); RFC 5280 §4.2 requires such a certificate to be refused",
                unprocessed_critical_extensions(ca).join(", ")
            ),
            e => crate::inspect::path_error(&format!("{e:?}")),
        };
        Error::CertificateValidation(format!(
            "the CA certificate cannot be used to verify device certificates: {why}"
        ))
    })?;
    Ok(())
}

/// The OIDs of the certificate's critical extensions that webpki does not process (it
/// processes keyUsage, subjectAltName, basicConstraints, nameConstraints,
/// cRLDistributionPoints and extKeyUsage, 2.5.29.15, 17, 19, 30, 31 and 37).
fn unprocessed_critical_extensions(ca: &Certificate) -> Vec<String> {
    use x509_parser::prelude::FromDer as _;
    const PROCESSED: &[&str] = &[
        "2.5.29.15",
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.30",
        "2.5.29.31",
        "2.5.29.37",
    ];
    x509_parser::certificate::X509Certificate::from_der(ca.der())
        .map(|(_, x509)| {
            x509.extensions()
                .iter()
                .filter(|ext| ext.critical)
                .map(|ext| ext.oid.to_id_string())
                .filter(|oid| !PROCESSED.contains(&oid.as_str()))
                .collect()
        })
        .unwrap_or_default()
}

fn check_validity_at(what: &str, validity: &Validity, now: Timestamp) -> Result<(), Error> {
    match validity.check(now) {
        ValidityCheck::Valid => Ok(()),
        ValidityCheck::Expired => Err(Error::CertificateValidation(format!(
            "{what} expired at {}",
            validity.not_after
        ))),
        ValidityCheck::NotYetValid => Err(Error::CertificateValidation(format!(
            "{what} is not valid before {}",
            validity.not_before
        ))),
    }
}
