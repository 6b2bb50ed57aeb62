//! The whole state of a registry, for a host to persist and load back.

use serde::{Deserialize, Serialize};

use super::ca::{RegistrationConfig, Tag};
use super::device::TransferData;
use super::policy::{validate_policy_document, validate_policy_name};
use super::{validate_registration_code, Registry, RegistryConfig};
use crate::cert::Certificate;
use crate::error::Error;
use crate::id::CertificateId;
use crate::scope::Scope;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::store::{
    CaRow, CertRow, Import, Kind, LinkEnd, LinkKind, Meta, NamePage, PageQuery, PolicyRow,
    PolicyVersionRow, ResourceReads, Store, ThingRow, ThingTypeRow,
};
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
    /// Things by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub things: Vec<ThingRow>,
    /// Thing types by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thing_types: Vec<ThingTypeRow>,
    /// (thing name, principal ARN, thing-principal type) triples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thing_principals: Vec<(String, String, String)>,
    /// (resource ARN, tag key, tag value) triples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String, String)>,
    /// Thing groups by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thing_groups: Vec<super::ThingGroupRow>,
    /// (thing name, thing group name) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thing_group_members: Vec<(String, String)>,
    /// Provisioning templates by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisioning_templates: Vec<super::ProvisioningTemplateRow>,
    /// The provisioning failures recorded for pending certificates, by certificate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisioning_failures: Vec<super::ProvisioningFailureRow>,
    /// The account's issuing CA with its private key, once it issued a certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<super::IssuerRow>,
    /// The account's endpoint prefix, once DescribeEndpoint made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<super::EndpointRow>,
}

/// A CA certificate in a [`RegistryState`].
#[serde_with::skip_serializing_none]
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
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertificateState {
    /// Its ID (checked against the PEM on load).
    pub certificate_id: CertificateId,
    /// The PEM.
    pub certificate_pem: String,
    /// Its CA, if registered with one.
    pub ca_certificate_id: Option<CertificateId>,
    /// Status.
    pub status: CertificateStatus,
    /// Mode.
    pub certificate_mode: CertificateMode,
    /// Previous owner.
    pub previous_owned_by: Option<String>,
    /// Transfer data.
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
#[serde_with::skip_serializing_none]
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
    /// Every version (absent: the document is version 1, the only one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<PolicyVersionRow>,
    /// The default version's ID (absent: 1).
    pub default_version_id: Option<u64>,
}

impl From<CaRow> for CaCertificateState {
    fn from(r: CaRow) -> Self {
        CaCertificateState {
            certificate_id: r.certificate_id,
            certificate_pem: r.certificate_pem,
            status: r.status,
            auto_registration_status: r.auto_registration_status,
            certificate_mode: r.certificate_mode,
            registration_config: r.registration_config,
            tags: r.tags,
            creation_date: r.meta.creation_date,
            last_modified_date: r.meta.last_modified_date,
            customer_version: r.meta.customer_version,
            generation_id: r.meta.generation_id,
        }
    }
}

impl From<CertRow> for CertificateState {
    fn from(r: CertRow) -> Self {
        CertificateState {
            certificate_id: r.certificate_id,
            certificate_pem: r.certificate_pem,
            ca_certificate_id: r.ca_certificate_id,
            status: r.status,
            certificate_mode: r.certificate_mode,
            previous_owned_by: r.previous_owned_by,
            transfer_data: r.transfer_data,
            creation_date: r.meta.creation_date,
            last_modified_date: r.meta.last_modified_date,
            customer_version: r.meta.customer_version,
            generation_id: r.meta.generation_id,
        }
    }
}

impl From<PolicyRow> for PolicyState {
    fn from(p: PolicyRow) -> Self {
        PolicyState {
            versions: if p.all_versions().len() > 1 {
                p.all_versions()
            } else {
                Vec::new()
            },
            default_version_id: (p.default_version_id != 1).then_some(p.default_version_id),
            policy_name: p.policy_name,
            policy_document: p.policy_document,
            creation_date: p.meta.creation_date,
            last_modified_date: p.meta.last_modified_date,
            customer_version: p.meta.customer_version,
            generation_id: p.meta.generation_id,
        }
    }
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

/// Every row of one account, read page by page.
fn all_rows<R>(
    mut page: impl FnMut(&PageQuery) -> Result<Vec<R>, Error>,
    key: impl Fn(&R) -> (Timestamp, CertificateId),
) -> Result<Vec<R>, Error> {
    let mut out = Vec::new();
    let mut q = PageQuery::first(1000);
    loop {
        let rows = page(&q)?;
        let done = rows.len() < q.limit;
        q.after = rows.last().map(&key);
        out.extend(rows);
        if done {
            return Ok(out);
        }
    }
}

impl Registry {
    /// The whole state of this account, sorted, as a backup or to move it to another
    /// store ([`migrate_to`](Self::migrate_to)).
    pub fn export_state(&self) -> Result<RegistryState, Error> {
        let scope = &self.scope;
        let (code, cas, certs, policies, rest, provisioning, account) = self.read(|r| {
            let cas = all_rows(
                |q| r.list_cas(scope, q),
                |c| (c.meta.creation_date, c.certificate_id),
            )?;
            let certs = all_rows(
                |q| r.list_certificates(scope, None, q),
                |c| (c.meta.creation_date, c.certificate_id),
            )?;
            let things: Vec<ThingRow> = r.rows(scope, Kind::Thing, &NamePage::all())?;
            let mut thing_principals = Vec::new();
            for t in &things {
                for (p, kind) in r.all_links(
                    scope,
                    LinkEnd::From(LinkKind::ThingPrincipal, &t.thing_name),
                )? {
                    thing_principals.push((t.thing_name.clone(), p, kind));
                }
            }
            let thing_types: Vec<ThingTypeRow> =
                r.rows(scope, Kind::ThingType, &NamePage::all())?;
            let mut arns: Vec<String> = cas
                .iter()
                .map(|c| scope.ca_certificate_arn(&c.certificate_id))
                .collect();
            arns.extend(
                r.policies(scope)?
                    .iter()
                    .map(|p| scope.policy_arn(&p.policy_name)),
            );
            arns.extend(
                thing_types
                    .iter()
                    .map(|t| scope.thing_type_arn(&t.thing_type_name)),
            );
            let groups: Vec<super::ThingGroupRow> =
                r.rows(scope, Kind::ThingGroup, &NamePage::all())?;
            let templates: Vec<super::ProvisioningTemplateRow> =
                r.rows(scope, Kind::ProvisioningTemplate, &NamePage::all())?;
            let failures: Vec<super::ProvisioningFailureRow> =
                r.rows(scope, Kind::ProvisioningFailure, &NamePage::all())?;
            let issuer: Option<super::IssuerRow> = r.row(scope, Kind::Issuer, "account")?;
            let endpoint: Option<super::EndpointRow> = r.row(scope, Kind::Endpoint, "account")?;
            let mut members = Vec::new();
            for t in &things {
                for (g, _) in
                    r.all_links(scope, LinkEnd::From(LinkKind::ThingInGroup, &t.thing_name))?
                {
                    members.push((t.thing_name.clone(), g));
                }
            }
            arns.extend(
                groups
                    .iter()
                    .map(|g| scope.arn_of("thinggroup", &g.thing_group_name)),
            );
            arns.extend(
                templates
                    .iter()
                    .map(|t| scope.provisioning_template_arn(&t.template_name)),
            );
            let mut tags = Vec::new();
            for arn in arns {
                for (k, v) in r.all_links(scope, LinkEnd::From(LinkKind::Tag, &arn))? {
                    tags.push((arn.clone(), k, v));
                }
            }
            Ok((
                r.registration_code(scope)?,
                cas,
                certs,
                (r.policies(scope)?, r.attachments(scope)?),
                (things, thing_types, thing_principals, tags),
                (groups, members, templates, failures),
                (issuer, endpoint),
            ))
        })?;
        let (policies, attachments) = policies;
        let (things, thing_types, thing_principals, mut tags) = rest;
        let (thing_groups, mut thing_group_members, provisioning_templates, provisioning_failures) =
            provisioning;
        thing_group_members.sort();
        let (issuer, endpoint) = account;
        tags.sort();
        let mut ca_certificates: Vec<CaCertificateState> =
            cas.into_iter().map(CaCertificateState::from).collect();
        ca_certificates.sort_by_key(|c| c.certificate_id);
        let mut certificates: Vec<CertificateState> =
            certs.into_iter().map(CertificateState::from).collect();
        certificates.sort_by_key(|c| c.certificate_id);
        let mut attachments = attachments;
        attachments.sort();
        Ok(RegistryState {
            format: 1,
            scope: self.scope.clone(),
            registration_code: code,
            ca_certificates,
            certificates,
            policies: policies.into_iter().map(PolicyState::from).collect(),
            attachments,
            things,
            thing_types,
            thing_principals,
            tags,
            thing_groups,
            thing_group_members,
            provisioning_templates,
            provisioning_failures,
            issuer,
            endpoint,
        })
    }

    /// Loads an in-memory registry from a state that
    /// [`export_state`](Self::export_state) made. Everything is checked (formats, IDs
    /// against PEMs, references); any problem is an `InvalidRequestException` or the
    /// parse error, and nothing is built.
    pub fn from_state(state: &RegistryState, config: RegistryConfig) -> Result<Self, Error> {
        Self::import_state(state, config, &Store::memory())
    }

    /// Imports a state into `store` (which must not hold this account yet) and opens the
    /// registry on it: the migration between stores, memory → SQLite → PostgreSQL.
    /// Checked as [`from_state`](Self::from_state) checks it; nothing is written unless
    /// everything is valid.
    pub fn import_state(
        state: &RegistryState,
        config: RegistryConfig,
        store: &Store,
    ) -> Result<Self, Error> {
        let import = check_state(state)?;
        let scope = Scope::with_partition(
            state.scope.partition(),
            state.scope.account(),
            state.scope.region(),
        )?;
        let mut occupied = false;
        let mut claimed = None;
        store.backend.read(&mut |r| {
            occupied = r.registration_code(&scope)?.is_some()
                || !r.list_cas(&scope, &PageQuery::first(1))?.is_empty()
                || !r
                    .list_certificates(&scope, None, &PageQuery::first(1))?
                    .is_empty();
            for ca in &import.cas {
                if ca.certificate_mode == CertificateMode::Default {
                    if let Some(owner) = r.default_ca_owner(&scope, &ca.certificate_id)? {
                        if owner != scope.account() {
                            claimed = Some(ca.certificate_id);
                        }
                    }
                }
            }
            Ok(())
        })?;
        if occupied {
            return Err(Error::InvalidRequest(format!(
                "the store already holds account {} in {}; import into an empty account",
                scope.account(),
                scope.region()
            )));
        }
        if let Some(id) = claimed {
            return Err(Error::ResourceAlreadyExists {
                resource: crate::error::ResourceKind::CaCertificate,
                message: format!("the CA certificate {id} is registered in DEFAULT mode by another account of this region"),
                resource_id: id.to_string(),
                resource_arn: scope.ca_certificate_arn(&id),
            });
        }
        store.backend.import(&scope, &import)?;
        Self::open(scope, config, store)
    }

    /// This account's whole state imported into another store, and a registry opened on
    /// it: one call from memory to SQLite, or from SQLite to PostgreSQL.
    pub fn migrate_to(&self, store: &Store) -> Result<Self, Error> {
        Self::import_state(&self.export_state()?, self.config.clone(), store)
    }
}

/// Checks a state and turns it into rows.
/// Refuses a resource `key` that `seen` holds already: it is listed twice.
fn listed_once<K: Eq + std::hash::Hash + core::fmt::Display>(
    seen: &mut std::collections::HashSet<K>,
    key: K,
    kind: &str,
) -> Result<(), Error> {
    if seen.contains(&key) {
        return Err(Error::InvalidRequest(format!(
            "state: the {kind} {key} is listed twice"
        )));
    }
    seen.insert(key);
    Ok(())
}

/// The rows of `items`, each made and checked by `to_row`, and their keys; a key listed
/// twice is refused.
fn checked_rows<S, R, K: Eq + std::hash::Hash + core::fmt::Display>(
    items: &[S],
    kind: &str,
    key: impl Fn(&S) -> K,
    to_row: impl Fn(&S) -> Result<R, Error>,
) -> Result<(Vec<R>, std::collections::HashSet<K>), Error> {
    let mut rows = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for item in items {
        let row = to_row(item)?;
        listed_once(&mut seen, key(item), kind)?;
        rows.push(row);
    }
    Ok((rows, seen))
}

impl CaCertificateState {
    /// The store's row, checked: the PEM parses to its ID and is a CA.
    fn to_row(&self) -> Result<CaRow, Error> {
        let cert = parse_with_id(&self.certificate_pem, &self.certificate_id)?;
        if !cert.is_ca() {
            return Err(Error::InvalidRequest(format!(
                "state: the CA certificate {} is not a CA",
                self.certificate_id
            )));
        }
        Ok(CaRow {
            certificate_id: self.certificate_id,
            certificate_pem: cert.to_pem(),
            status: self.status,
            auto_registration_status: self.auto_registration_status,
            certificate_mode: self.certificate_mode,
            registration_config: self.registration_config.clone(),
            tags: self.tags.clone(),
            meta: meta_of(
                self.creation_date,
                self.last_modified_date,
                self.customer_version,
                &self.generation_id,
            )?,
            parsed: Some(cert),
        })
    }
}

impl CertificateState {
    /// The store's row, checked: the PEM parses to its ID.
    fn to_row(&self) -> Result<CertRow, Error> {
        let cert = parse_with_id(&self.certificate_pem, &self.certificate_id)?;
        Ok(CertRow {
            certificate_id: self.certificate_id,
            certificate_pem: cert.to_pem(),
            ca_certificate_id: self.ca_certificate_id,
            status: self.status,
            certificate_mode: self.certificate_mode,
            validity: cert.validity(),
            previous_owned_by: self.previous_owned_by.clone(),
            transfer_data: self.transfer_data.clone(),
            meta: meta_of(
                self.creation_date,
                self.last_modified_date,
                self.customer_version,
                &self.generation_id,
            )?,
        })
    }
}

impl PolicyState {
    /// The store's row, checked: its name, every version's document, and the default
    /// version holding the document.
    fn to_row(&self) -> Result<PolicyRow, Error> {
        validate_policy_name(&self.policy_name)?;
        validate_policy_document(&self.policy_document)?;
        let mut row = PolicyRow::new(&self.policy_name, &self.policy_document, self.creation_date);
        if !self.versions.is_empty() {
            for v in &self.versions {
                validate_policy_document(&v.document)?;
            }
            row.versions = self.versions.clone();
            row.default_version_id = self.default_version_id.unwrap_or(1);
            row.last_version_id = self.versions.iter().map(|v| v.version_id).max();
            if !row.versions.iter().any(|v| {
                v.version_id == row.default_version_id && v.document == self.policy_document
            }) {
                return Err(Error::InvalidRequest(format!(
                    "state: the policy {} names a default version it does not have",
                    self.policy_name
                )));
            }
        }
        row.meta = meta_of(
            self.creation_date,
            self.last_modified_date,
            self.customer_version,
            &self.generation_id,
        )?;
        Ok(row)
    }
}

fn check_state(state: &RegistryState) -> Result<Import, Error> {
    if state.format != 1 {
        return Err(Error::InvalidRequest(format!(
            "state format {} is not supported (expected 1)",
            state.format
        )));
    }
    if let Some(code) = &state.registration_code {
        validate_registration_code(code)?;
    }
    let (cas, _) = checked_rows(
        &state.ca_certificates,
        "CA certificate",
        |c| c.certificate_id,
        CaCertificateState::to_row,
    )?;
    let (certificates, cert_ids) = checked_rows(
        &state.certificates,
        "certificate",
        |c| c.certificate_id,
        CertificateState::to_row,
    )?;
    let (policies, names) = checked_rows(
        &state.policies,
        "policy",
        |p| p.policy_name.clone(),
        PolicyState::to_row,
    )?;
    let scope = &state.scope;
    let mut attachments = Vec::new();
    for (name, target) in &state.attachments {
        let id = scope.parse_certificate_arn(target)?;
        if !names.contains(name) || !cert_ids.contains(&id) {
            return Err(Error::InvalidRequest(format!(
                "state: the attachment of {name} to {target} names a missing policy or certificate"
            )));
        }
        attachments.push((name.clone(), target.clone()));
    }
    let mut thing_names = std::collections::HashSet::new();
    for t in &state.things {
        super::validate_thing_name(&t.thing_name, "thing name")?;
        listed_once(&mut thing_names, t.thing_name.clone(), "thing")?;
    }
    for (thing, principal, _) in &state.thing_principals {
        let id = scope.parse_certificate_arn(principal)?;
        if !thing_names.contains(thing) || !cert_ids.contains(&id) {
            return Err(Error::InvalidRequest(format!(
                "state: the attachment of {principal} to the thing {thing} names a missing thing or certificate"
            )));
        }
    }
    let group_names: std::collections::HashSet<&str> = state
        .thing_groups
        .iter()
        .map(|g| g.thing_group_name.as_str())
        .collect();
    for (thing, group) in &state.thing_group_members {
        if !thing_names.contains(thing) || !group_names.contains(group.as_str()) {
            return Err(Error::InvalidRequest(format!(
                "state: the membership of {thing} in {group} names a missing thing or group"
            )));
        }
    }
    for f in &state.provisioning_failures {
        if !cert_ids.contains(&f.certificate_id) {
            return Err(Error::InvalidRequest(format!(
                "state: the provisioning failure of {} names a missing certificate",
                f.certificate_id
            )));
        }
    }
    Ok(Import {
        registration_code: state.registration_code.clone(),
        cas,
        certificates,
        policies,
        attachments,
        things: state.things.clone(),
        thing_types: state.thing_types.clone(),
        thing_principals: state.thing_principals.clone(),
        tags: state.tags.clone(),
        thing_groups: state.thing_groups.clone(),
        thing_group_members: state.thing_group_members.clone(),
        provisioning_templates: state.provisioning_templates.clone(),
        provisioning_failures: state.provisioning_failures.clone(),
        issuer: state.issuer.clone(),
        endpoint: state.endpoint.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state with one CA, one certificate and one policy (not checked: only parsed).
    fn state() -> RegistryState {
        let at = Timestamp::from_unix_millis(1_700_000_000_000);
        let generation_id = "00000000-0000-4000-8000-000000000000".to_string();
        RegistryState {
            format: 1,
            scope: Scope::new("123456789012", "us-east-1").unwrap_or_else(|e| panic!("{e}")),
            registration_code: None,
            ca_certificates: vec![CaCertificateState {
                certificate_id: CertificateId::from_bytes([1; 32]),
                certificate_pem: "PEM".into(),
                status: CaStatus::Active,
                auto_registration_status: AutoRegistrationStatus::Enable,
                certificate_mode: CertificateMode::Default,
                registration_config: None,
                tags: Vec::new(),
                creation_date: at,
                last_modified_date: at,
                customer_version: 1,
                generation_id: generation_id.clone(),
            }],
            certificates: vec![CertificateState {
                certificate_id: CertificateId::from_bytes([2; 32]),
                certificate_pem: "PEM".into(),
                ca_certificate_id: None,
                status: CertificateStatus::Active,
                certificate_mode: CertificateMode::Default,
                previous_owned_by: None,
                transfer_data: None,
                creation_date: at,
                last_modified_date: at,
                customer_version: 1,
                generation_id: generation_id.clone(),
            }],
            policies: vec![PolicyState {
                policy_name: "p".into(),
                policy_document: "{}".into(),
                creation_date: at,
                last_modified_date: at,
                customer_version: 1,
                generation_id,
                versions: Vec::new(),
                default_version_id: None,
            }],
            attachments: Vec::new(),
            things: Vec::new(),
            thing_types: Vec::new(),
            thing_principals: Vec::new(),
            tags: Vec::new(),
            thing_groups: Vec::new(),
            thing_group_members: Vec::new(),
            provisioning_templates: Vec::new(),
            provisioning_failures: Vec::new(),
            issuer: None,
            endpoint: None,
        }
    }

    /// The version fields stand flat beside the others in each entry, and a field the
    /// format does not have is refused with the list of those it has (what a
    /// `#[serde(flatten)]` of `Meta` would lose).
    #[test]
    fn an_entry_with_an_unknown_field_is_refused_naming_the_fields_it_may_have() {
        let json = state().to_json();
        assert_eq!(RegistryState::from_json(&json).ok(), Some(state()));
        for list in ["caCertificates", "certificates", "policies"] {
            let mut v: serde_json::Value =
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
            let entry = &mut v[list][0];
            assert_eq!(entry["customerVersion"], 1, "{list}");
            assert_eq!(entry["generationId"], state().policies[0].generation_id);
            assert!(entry.get("meta").is_none(), "{list}");
            entry["extra"] = serde_json::json!(1);
            let err = RegistryState::from_json(&v.to_string()).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains("unknown field `extra`, expected one of `certificateId`")
                    || message.contains("unknown field `extra`, expected one of `policyName`"),
                "{list}: {message}"
            );
            assert!(message.contains("`generationId`"), "{list}: {message}");
        }
    }
}
