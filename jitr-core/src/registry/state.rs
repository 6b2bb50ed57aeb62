//! The whole state of a registry, for a host to persist and load back.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ca::{RegistrationConfig, Tag};
use super::device::TransferData;
use super::policy::{validate_policy_document, validate_policy_name, Policies, PolicyRecord};
use super::{
    read, validate_registration_code, write, CaClaims, CaRecord, CertRecord, Meta, Registry,
    RegistryConfig,
};
use crate::cert::Certificate;
use crate::error::Error;
use crate::id::CertificateId;
use crate::scope::Scope;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::time::Timestamp;

/// A registry's whole state: what [`Registry::export_state`] returns and
/// [`Registry::from_state`] loads. Its serde form is stable JSON; lists are sorted so the
/// same state always serializes to the same bytes. Each resource carries its
/// `customerVersion` and `generationId`, so a store behind the registry can do
/// compare-and-set per resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct RegistryState {
    /// The format version, 1.
    pub format: u32,
    /// Partition, region and account.
    pub scope: Scope,
    /// The registration code, if one exists.
    pub registration_code: Option<String>,
    /// CA certificates by ID.
    pub ca_certificates: Vec<CaCertificateState>,
    /// Device certificates by ID.
    pub certificates: Vec<CertificateState>,
    /// Policies by name.
    pub policies: Vec<PolicyState>,
    /// (policy name, target ARN) pairs.
    pub attachments: Vec<(String, String)>,
}

/// A CA certificate in a [`RegistryState`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CaCertificateState {
    /// Its ID (checked against the PEM on load).
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_config: Option<RegistrationConfig>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Creation date (epoch ms).
    pub creation_date: Timestamp,
    /// Last change (epoch ms).
    pub last_modified_date: Timestamp,
    /// Version.
    pub customer_version: u64,
    /// Generation ID.
    pub generation_id: String,
}

/// A device certificate in a [`RegistryState`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertificateState {
    /// Its ID (checked against the PEM on load).
    pub certificate_id: CertificateId,
    /// The PEM.
    pub certificate_pem: String,
    /// Its CA, if registered with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate_id: Option<CertificateId>,
    /// Status.
    pub status: CertificateStatus,
    /// Mode.
    pub certificate_mode: CertificateMode,
    /// Previous owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_owned_by: Option<String>,
    /// Transfer data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_data: Option<TransferData>,
    /// Creation date (epoch ms); also the registration time in events.
    pub creation_date: Timestamp,
    /// Last change (epoch ms).
    pub last_modified_date: Timestamp,
    /// Version.
    pub customer_version: u64,
    /// Generation ID.
    pub generation_id: String,
}

/// A policy in a [`RegistryState`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct PolicyState {
    /// Name.
    pub policy_name: String,
    /// Document.
    pub policy_document: String,
    /// Creation date (epoch ms).
    pub creation_date: Timestamp,
    /// Last change (epoch ms).
    pub last_modified_date: Timestamp,
    /// Version.
    pub customer_version: u64,
    /// Generation ID.
    pub generation_id: String,
}

impl RegistryState {
    /// The state as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a state from JSON (not yet checked: [`Registry::from_state`] checks it).
    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|e| {
            Error::InvalidRequest(format!(
                "malformed registry state: {}",
                crate::json_message::describe(&e)
            ))
        })
    }
}

fn meta_of(
    creation_date: Timestamp,
    last_modified_date: Timestamp,
    customer_version: u64,
    generation_id: &str,
) -> Result<Meta, Error> {
    if customer_version == 0 || uuid::Uuid::parse_str(generation_id).is_err() {
        return Err(Error::InvalidRequest(format!(
            "state: customerVersion must be at least 1 and generationId a UUID ({generation_id:?})"
        )));
    }
    Ok(Meta {
        creation_date,
        last_modified_date,
        customer_version,
        generation_id: generation_id.to_string(),
    })
}

fn parse_with_id(pem: &str, id: &CertificateId) -> Result<Certificate, Error> {
    let cert = Certificate::from_pem(pem)?;
    if cert.id() != *id {
        return Err(Error::InvalidRequest(format!(
            "state: the certificate listed as {id} has ID {}",
            cert.id()
        )));
    }
    Ok(cert)
}

impl Registry {
    /// The whole state, sorted, for a host to persist.
    pub fn export_state(&self) -> RegistryState {
        let cas = read(&self.cas);
        let policies = read(&self.policies);
        let ca_certificates = cas
            .iter()
            .map(|(id, r)| CaCertificateState {
                certificate_id: *id,
                certificate_pem: r.cert.to_pem(),
                status: r.status,
                auto_registration_status: r.auto_registration,
                certificate_mode: r.mode,
                registration_config: r.registration_config.clone(),
                tags: r.tags.clone(),
                creation_date: r.meta.creation_date,
                last_modified_date: r.meta.last_modified_date,
                customer_version: r.meta.customer_version,
                generation_id: r.meta.generation_id.clone(),
            })
            .collect();
        let mut certificates: Vec<CertificateState> = Vec::new();
        for shard in self.shards.iter() {
            certificates.extend(read(shard).iter().map(|(id, r)| CertificateState {
                certificate_id: *id,
                certificate_pem: crate::cert::der_to_pem(&r.der),
                ca_certificate_id: r.ca_id,
                status: r.status,
                certificate_mode: r.mode,
                previous_owned_by: r.previous_owned_by.clone(),
                transfer_data: r.transfer_data.clone(),
                creation_date: r.meta.creation_date,
                last_modified_date: r.meta.last_modified_date,
                customer_version: r.meta.customer_version,
                generation_id: r.meta.generation_id.clone(),
            }));
        }
        certificates.sort_by_key(|c| c.certificate_id);
        RegistryState {
            format: 1,
            scope: self.scope.clone(),
            registration_code: self.current_registration_code(),
            ca_certificates,
            certificates,
            policies: policies
                .by_name
                .iter()
                .map(|(name, p)| PolicyState {
                    policy_name: name.clone(),
                    policy_document: p.document.clone(),
                    creation_date: p.meta.creation_date,
                    last_modified_date: p.meta.last_modified_date,
                    customer_version: p.meta.customer_version,
                    generation_id: p.meta.generation_id.clone(),
                })
                .collect(),
            attachments: policies.attachments.iter().cloned().collect(),
        }
    }

    /// Loads a registry from a state that [`export_state`](Self::export_state) made.
    /// Everything is checked (formats, IDs against PEMs, references); any problem is an
    /// `InvalidRequestException` or the parse error, and nothing is built.
    pub fn from_state(state: &RegistryState, config: RegistryConfig) -> Result<Self, Error> {
        if state.format != 1 {
            return Err(Error::InvalidRequest(format!(
                "state format {} is not supported (expected 1)",
                state.format
            )));
        }
        let scope = Scope::with_partition(
            state.scope.partition(),
            state.scope.account(),
            state.scope.region(),
        )?;
        if let Some(code) = &state.registration_code {
            validate_registration_code(code)?;
        }
        let reg = Self::build(
            scope,
            config,
            Arc::<CaClaims>::default(),
            state.registration_code.clone(),
        );
        let mut cas = BTreeMap::new();
        for c in &state.ca_certificates {
            let cert = parse_with_id(&c.certificate_pem, &c.certificate_id)?;
            if !cert.is_ca() {
                return Err(Error::InvalidRequest(format!(
                    "state: the CA certificate {} is not a CA",
                    c.certificate_id
                )));
            }
            let record = CaRecord {
                cert,
                status: c.status,
                auto_registration: c.auto_registration_status,
                mode: c.certificate_mode,
                registration_config: c.registration_config.clone(),
                tags: c.tags.clone(),
                meta: meta_of(
                    c.creation_date,
                    c.last_modified_date,
                    c.customer_version,
                    &c.generation_id,
                )?,
            };
            if cas.insert(c.certificate_id, record).is_some() {
                return Err(Error::InvalidRequest(format!(
                    "state: the CA certificate {} is listed twice",
                    c.certificate_id
                )));
            }
            if c.certificate_mode == CertificateMode::Default {
                reg.claim_default_ca(&c.certificate_id, "")?;
            }
        }
        for c in &state.certificates {
            let cert = parse_with_id(&c.certificate_pem, &c.certificate_id)?;
            let record = CertRecord {
                der: cert.der().into(),
                validity: cert.validity(),
                ca_id: c.ca_certificate_id,
                status: c.status,
                mode: c.certificate_mode,
                previous_owned_by: c.previous_owned_by.clone(),
                transfer_data: c.transfer_data.clone(),
                meta: meta_of(
                    c.creation_date,
                    c.last_modified_date,
                    c.customer_version,
                    &c.generation_id,
                )?,
            };
            if !reg.insert_record(c.certificate_id, record) {
                return Err(Error::InvalidRequest(format!(
                    "state: the certificate {} is listed twice",
                    c.certificate_id
                )));
            }
        }
        let mut policies = Policies::default();
        for p in &state.policies {
            validate_policy_name(&p.policy_name)?;
            validate_policy_document(&p.policy_document)?;
            policies.by_name.insert(
                p.policy_name.clone(),
                PolicyRecord {
                    document: p.policy_document.clone(),
                    meta: meta_of(
                        p.creation_date,
                        p.last_modified_date,
                        p.customer_version,
                        &p.generation_id,
                    )?,
                },
            );
        }
        for (name, target) in &state.attachments {
            let id = reg.scope.parse_certificate_arn(target)?;
            if !policies.by_name.contains_key(name) || !read(reg.shard(&id)).contains(&id) {
                return Err(Error::InvalidRequest(format!(
                    "state: the attachment of {name} to {target} names a missing policy or certificate"
                )));
            }
            policies.attachments.insert((name.clone(), target.clone()));
        }
        reg.publish_ca_index(&cas);
        *write(&reg.cas) = cas;
        *write(&reg.policies) = policies;
        Ok(reg)
    }
}
