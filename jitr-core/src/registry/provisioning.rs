//! Just-in-time provisioning in the registry: provisioning templates of type `JITP`
//! (boto3's CreateProvisioningTemplate and its siblings), and running a CA's template
//! when a device first connects ([JITP](https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html)).
//!
//! The run is part of the first connection's commit: the certificate's registration as
//! `PENDING_ACTIVATION`, the thing (created, or updated as its `OverrideSettings` say),
//! its thing groups, the policies (created or reused) and their attachment, the
//! certificate attached to the thing, and its final status are one all-or-nothing
//! change. A template that cannot provision the device (a parameter the certificate
//! lacks, a thing type or group or policy that does not exist, a limit) leaves the
//! certificate `PENDING_ACTIVATION`, as on AWS, and jitr records why: the decision says
//! it (`PROVISIONING_FAILED`), and `describe_provisioning_failure` answers it later.
//! Properties of an existing thing whose template gives no `OverrideSettings` are left
//! as they are (`DO_NOTHING`): AWS documents no default.

use serde::{Deserialize, Serialize};

use super::list::{self, ListRequest, Page};
use super::{RegistrationConfig, Registry, ThingPrincipalType, MAX_POLICIES_PER_TARGET};
use crate::cert::Certificate;
use crate::error::{Error, ResourceKind};
use crate::id::{truncate_for_message, CertificateId};
use crate::provisioning::{
    certificate_parameters, OverrideSetting, ProvisioningFailure, ProvisioningPlan, Template,
    ThingPlan,
};
use crate::status::CertificateStatus;
use crate::store::{
    CaRow, CertRow, Change, Kind, LinkEnd, LinkKind, PolicyRow, Reader, ResourceReads, ThingRow,
    ThingTypeRow,
};
use crate::time::{as_epoch_seconds, Timestamp};

/// A provisioning template as the store keeps it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvisioningTemplateRow {
    /// The name.
    pub template_name: String,
    /// The description.
    pub description: Option<String>,
    /// The template (JSON).
    pub template_body: String,
    /// Whether it may run.
    pub enabled: bool,
    /// The role AWS would run it as (kept as given).
    pub provisioning_role_arn: String,
    /// `JITP`.
    pub template_type: String,
    /// When it was created.
    pub creation_date: Timestamp,
    /// When it last changed.
    pub last_modified_date: Timestamp,
}

/// DescribeProvisioningTemplate's output.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvisioningTemplateDescription {
    /// The ARN.
    pub template_arn: String,
    /// The name.
    pub template_name: String,
    /// The description.
    pub description: Option<String>,
    /// When it was created.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
    /// When it last changed.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub last_modified_date: Timestamp,
    /// Always 1: jitr keeps one version.
    pub default_version_id: u64,
    /// The template.
    pub template_body: String,
    /// Whether it may run.
    pub enabled: bool,
    /// The role.
    pub provisioning_role_arn: String,
    /// `JITP`.
    #[serde(rename = "type")]
    pub template_type: String,
}

/// An item of ListProvisioningTemplates.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvisioningTemplateSummary {
    /// The ARN.
    pub template_arn: String,
    /// The name.
    pub template_name: String,
    /// The description.
    pub description: Option<String>,
    /// When it was created.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
    /// When it last changed.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub last_modified_date: Timestamp,
    /// Whether it may run.
    pub enabled: bool,
    /// `JITP`.
    #[serde(rename = "type")]
    pub template_type: String,
}

/// Why provisioning left a certificate pending, as the registry records it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvisioningFailureRow {
    /// The certificate.
    pub certificate_id: CertificateId,
    /// The CA whose template ran.
    pub ca_certificate_id: CertificateId,
    /// A stable code (`MISSING_PARAMETER`, `THING_TYPE_NOT_FOUND`, …).
    pub code: String,
    /// A sentence.
    pub message: String,
    /// The parameter, when one is missing.
    pub parameter: Option<String>,
    /// The certificate field it comes from, when it is a certificate parameter.
    pub certificate_field: Option<String>,
    /// When provisioning ran.
    pub at: Timestamp,
}

/// What provisioning did for a device: the thing and policies it made or reused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Provisioned {
    pub(crate) thing_name: Option<String>,
    pub(crate) policy_names: Vec<String>,
    pub(crate) status: CertificateStatus,
}

/// A failure that is not the template's: a resource it names, a limit.
fn failed(code: &str, message: String) -> ProvisioningFailureRow {
    ProvisioningFailureRow {
        certificate_id: CertificateId::from_bytes([0; 32]),
        ca_certificate_id: CertificateId::from_bytes([0; 32]),
        code: code.to_string(),
        message,
        parameter: None,
        certificate_field: None,
        at: Timestamp::from_unix_millis(0),
    }
}

fn from_template(f: &ProvisioningFailure) -> ProvisioningFailureRow {
    ProvisioningFailureRow {
        parameter: f.parameter().map(str::to_string),
        certificate_field: f.certificate_field().map(|c| c.to_string()),
        ..failed(f.code(), f.message())
    }
}

pub(super) fn validate_template_name(name: &str) -> Result<(), Error> {
    super::check_name(
        name,
        "a template name",
        36,
        "_-",
        "letters, digits, _ and -",
    )
}

fn template_not_found(name: &str) -> Error {
    Error::not_found(ResourceKind::ProvisioningTemplate, name)
}

impl Registry {
    /// The provisioning template `name`, else its ResourceNotFoundException.
    fn template_row(
        &self,
        r: &mut dyn Reader,
        name: &str,
    ) -> Result<ProvisioningTemplateRow, Error> {
        r.row(&self.scope, Kind::ProvisioningTemplate, name)?
            .ok_or_else(|| template_not_found(name))
    }

    /// CreateProvisioningTemplate. jitr runs templates of type `JITP` only (the template
    /// is checked as it is stored), and no pre-provisioning hooks.
    #[allow(clippy::too_many_arguments)]
    pub fn create_provisioning_template(
        &self,
        name: &str,
        description: Option<&str>,
        body: &str,
        enabled: bool,
        role_arn: &str,
        template_type: Option<&str>,
        now: Timestamp,
    ) -> Result<String, Error> {
        validate_template_name(name)?;
        match template_type {
            Some("JITP") => {}
            Some("FLEET_PROVISIONING") | None => {
                return Err(Error::InvalidRequest(
                    "jitr runs provisioning templates of type JITP only (give type JITP)".into(),
                ))
            }
            Some(other) => {
                return Err(Error::InvalidRequest(format!(
                    "{:?} is not a template type: FLEET_PROVISIONING or JITP",
                    truncate_for_message(other)
                )))
            }
        }
        Template::parse(body)?;
        let arn = self.scope.provisioning_template_arn(name);
        self.commit(|r| {
            if r.resource(&self.scope, Kind::ProvisioningTemplate, name)?
                .is_some()
            {
                return Err(Error::ResourceAlreadyExists {
                    resource: ResourceKind::ProvisioningTemplate,
                    message: format!("the provisioning template {name} already exists"),
                    resource_id: name.to_string(),
                    resource_arn: arn.clone(),
                });
            }
            let row = ProvisioningTemplateRow {
                template_name: name.to_string(),
                description: description.map(str::to_string),
                template_body: body.to_string(),
                enabled,
                provisioning_role_arn: role_arn.to_string(),
                template_type: "JITP".into(),
                creation_date: now,
                last_modified_date: now,
            };
            Ok((arn.clone(), vec![Change::ProvisioningTemplateCreated(row)]))
        })
    }

    fn describe_row(&self, t: ProvisioningTemplateRow) -> ProvisioningTemplateDescription {
        ProvisioningTemplateDescription {
            template_arn: self.scope.provisioning_template_arn(&t.template_name),
            template_name: t.template_name,
            description: t.description,
            creation_date: t.creation_date,
            last_modified_date: t.last_modified_date,
            default_version_id: 1,
            template_body: t.template_body,
            enabled: t.enabled,
            provisioning_role_arn: t.provisioning_role_arn,
            template_type: t.template_type,
        }
    }

    /// DescribeProvisioningTemplate.
    pub fn describe_provisioning_template(
        &self,
        name: &str,
    ) -> Result<ProvisioningTemplateDescription, Error> {
        let t = self.read(|r| self.template_row(r, name))?;
        Ok(self.describe_row(t))
    }

    /// ListProvisioningTemplates.
    pub fn list_provisioning_templates(
        &self,
        req: &ListRequest,
    ) -> Result<Page<ProvisioningTemplateSummary>, Error> {
        let (page, size) = list::name_query_ascending(req)?;
        let rows: Vec<ProvisioningTemplateRow> =
            self.read(|r| r.rows(&self.scope, Kind::ProvisioningTemplate, &page))?;
        Ok(list::rows_cut(
            rows,
            size,
            |t| &t.template_name,
            |t| {
                let d = self.describe_row(t);
                ProvisioningTemplateSummary {
                    template_arn: d.template_arn,
                    template_name: d.template_name,
                    description: d.description,
                    creation_date: d.creation_date,
                    last_modified_date: d.last_modified_date,
                    enabled: d.enabled,
                    template_type: d.template_type,
                }
            },
        ))
    }

    /// UpdateProvisioningTemplate: description, enabled, role. The default version is
    /// always 1.
    pub fn update_provisioning_template(
        &self,
        name: &str,
        description: Option<&str>,
        enabled: Option<bool>,
        default_version_id: Option<u64>,
        role_arn: Option<&str>,
        now: Timestamp,
    ) -> Result<(), Error> {
        if default_version_id.is_some_and(|v| v != 1) {
            return Err(Error::not_found(
                ResourceKind::ProvisioningTemplate,
                format!("{name} version {}", default_version_id.unwrap_or_default()),
            ));
        }
        self.commit(|r| {
            let mut t = self.template_row(r, name)?;
            if let Some(d) = description {
                t.description = Some(d.to_string());
            }
            if let Some(e) = enabled {
                t.enabled = e;
            }
            if let Some(a) = role_arn {
                t.provisioning_role_arn = a.to_string();
            }
            t.last_modified_date = now;
            Ok(((), vec![Change::ProvisioningTemplateUpdated(t)]))
        })
    }

    /// DeleteProvisioningTemplate: refused while a CA's registration config names it.
    pub fn delete_provisioning_template(&self, name: &str) -> Result<(), Error> {
        self.commit(|r| {
            if r.resource(&self.scope, Kind::ProvisioningTemplate, name)?
                .is_none()
            {
                return Err(template_not_found(name));
            }
            let page = crate::store::PageQuery::first(usize::MAX);
            let used = r.list_cas(&self.scope, &page)?.into_iter().any(|c| {
                c.registration_config
                    .as_ref()
                    .and_then(|rc| rc.template_name.as_deref())
                    == Some(name)
            });
            if used {
                return Err(Error::DeleteConflict(format!(
                    "a CA certificate's registration config names the provisioning template {name}"
                )));
            }
            let mut changes = vec![Change::ProvisioningTemplateDeleted {
                template_name: name.to_string(),
            }];
            changes.extend(Self::untag_all(
                r,
                self,
                &self.scope.provisioning_template_arn(name),
            )?);
            Ok(((), changes))
        })
    }

    /// Checks a CA's registration config as it is stored: a template body that parses,
    /// or the name of an existing, enabled template of type `JITP` (not both).
    pub(crate) fn check_registration_config(
        &self,
        r: &mut dyn Reader,
        cfg: &RegistrationConfig,
    ) -> Result<(), Error> {
        match (&cfg.template_body, &cfg.template_name) {
            (Some(_), Some(_)) => Err(Error::InvalidRequest(
                "registrationConfig takes templateBody or templateName, not both".into(),
            )),
            (Some(body), None) => Template::parse(body).map(|_| ()).map_err(Error::from),
            (None, Some(name)) => {
                let t = self.template_row(r, name)?;
                if t.template_type != "JITP" {
                    return Err(Error::InvalidRequest(format!(
                        "the provisioning template {name} is not of type JITP"
                    )));
                }
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// The provisioning failure recorded for a certificate that stayed
    /// `PENDING_ACTIVATION` (jitr's extension: what AWS only counts in a metric).
    pub fn describe_provisioning_failure(
        &self,
        id: &CertificateId,
    ) -> Result<ProvisioningFailureRow, Error> {
        self.read(|r| {
            if r.certificate(&self.scope, id)?.is_none() {
                return Err(Self::cert_not_found(id));
            }
            r.row::<ProvisioningFailureRow>(
                &self.scope,
                Kind::ProvisioningFailure,
                &id.to_string(),
            )?
            .ok_or_else(|| {
                Error::not_found(
                    ResourceKind::ProvisioningTemplate,
                    format!("provisioning failure of {id}"),
                )
            })
        })
    }

    /// Runs the CA's template for a certificate registered in this transaction
    /// (`registered`): the changes that provision it, or why it stays pending.
    pub(crate) fn provision(
        &self,
        r: &mut dyn Reader,
        ca: &CaRow,
        cert: &Certificate,
        registered: &CertRow,
        now: Timestamp,
    ) -> Result<Result<(Vec<Change>, Provisioned), ProvisioningFailureRow>, Error> {
        let Some(cfg) = &ca.registration_config else {
            return Ok(Err(failed(
                "NO_TEMPLATE",
                "the CA has no registration config".into(),
            )));
        };
        let body = match (&cfg.template_body, &cfg.template_name) {
            (Some(b), _) => b.clone(),
            (None, Some(name)) => match r.row::<ProvisioningTemplateRow>(
                &self.scope,
                Kind::ProvisioningTemplate,
                name,
            )? {
                Some(t) if !t.enabled => {
                    return Ok(Err(failed(
                        "TEMPLATE_DISABLED",
                        format!("the provisioning template {name} is disabled"),
                    )))
                }
                Some(t) => t.template_body,
                None => {
                    return Ok(Err(failed(
                        "TEMPLATE_NOT_FOUND",
                        format!("the provisioning template {name} does not exist"),
                    )))
                }
            },
            (None, None) => {
                return Ok(Err(failed(
                    "NO_TEMPLATE",
                    "the registration config names no template".into(),
                )))
            }
        };
        let template = match Template::parse(&body) {
            Ok(t) => t,
            Err(e) => return Ok(Err(failed(e.code(), e.to_string()))),
        };
        let params = certificate_parameters(cert).with_scope(&self.scope);
        let plan = match template.evaluate(&params) {
            Ok(p) => p,
            Err(f) => return Ok(Err(from_template(&f))),
        };
        self.carry_out(r, &plan, registered, now)
    }

    /// The changes of a plan, checked against the registry inside the transaction.
    fn carry_out(
        &self,
        r: &mut dyn Reader,
        plan: &ProvisioningPlan,
        registered: &CertRow,
        now: Timestamp,
    ) -> Result<Result<(Vec<Change>, Provisioned), ProvisioningFailureRow>, Error> {
        let mut changes = Vec::new();
        let cert_arn = self.scope.certificate_arn(&registered.certificate_id);
        let mut thing_name = None;
        if let Some(t) = &plan.thing {
            if let Err(f) = self.provision_thing(r, t, &cert_arn, now, &mut changes)? {
                return Ok(Err(f));
            }
            thing_name = Some(t.thing_name.clone());
        }
        let policy_names = match self.provision_policies(r, plan, &cert_arn, now, &mut changes)? {
            Ok(names) => names,
            Err(f) => return Ok(Err(f)),
        };
        let status = plan.certificate.status;
        if status != registered.status {
            changes.push(Change::CertificateStatusChanged {
                certificate_id: registered.certificate_id,
                previous_status: registered.status,
                status,
                meta: registered.meta.bumped(now),
            });
        }
        Ok(Ok((
            changes,
            Provisioned {
                thing_name,
                policy_names,
                status,
            },
        )))
    }

    /// The changes that create or update the plan's thing, put it in its groups and attach
    /// the certificate to it.
    fn provision_thing(
        &self,
        r: &mut dyn Reader,
        t: &ThingPlan,
        cert_arn: &str,
        now: Timestamp,
        changes: &mut Vec<Change>,
    ) -> Result<Result<(), ProvisioningFailureRow>, Error> {
        if let Some(type_name) = &t.thing_type_name {
            match r.row::<ThingTypeRow>(&self.scope, Kind::ThingType, type_name)? {
                None => {
                    return Ok(Err(failed(
                        "THING_TYPE_NOT_FOUND",
                        format!("the template's thing type {type_name} does not exist"),
                    )))
                }
                Some(tt) if tt.deprecated => {
                    return Ok(Err(failed(
                        "THING_TYPE_DEPRECATED",
                        format!("the template's thing type {type_name} is deprecated"),
                    )))
                }
                Some(_) => {}
            }
        }
        for g in &t.thing_groups {
            if r.resource(&self.scope, Kind::ThingGroup, g)?.is_none() {
                return Ok(Err(failed(
                    "THING_GROUP_NOT_FOUND",
                    format!("the template's thing group {g} does not exist"),
                )));
            }
        }
        let existing = r.thing(&self.scope, &t.thing_name)?;
        let groups_now: Vec<String> = match &existing {
            Some(_) => r
                .all_links(
                    &self.scope,
                    LinkEnd::From(LinkKind::ThingInGroup, &t.thing_name),
                )?
                .into_iter()
                .map(|(g, _)| g)
                .collect(),
            None => Vec::new(),
        };
        let mut join: Vec<String> = Vec::new();
        match existing {
            None => {
                let limit = if t.thing_type_name.is_some() { 50 } else { 3 };
                if t.attributes.len() > limit {
                    return Ok(Err(failed(
                        "TOO_MANY_ATTRIBUTES",
                        format!(
                            "the thing {} would have {} attributes; at most {limit}",
                            t.thing_name,
                            t.attributes.len()
                        ),
                    )));
                }
                changes.push(Change::ThingCreated(ThingRow {
                    thing_name: t.thing_name.clone(),
                    thing_id: super::new_generation_id(),
                    thing_type_name: t.thing_type_name.clone(),
                    attributes: t.attributes.clone(),
                    version: 1,
                    billing_group_name: t.billing_group.clone(),
                    creation_date: now,
                }));
                join = t.thing_groups.clone();
            }
            Some(before) => {
                if let Err(f) = update_existing_thing(t, before, &groups_now, &mut join, changes) {
                    return Ok(Err(f));
                }
            }
        }
        for g in join.iter().filter(|g| !groups_now.contains(g)) {
            changes.push(Change::ThingAddedToGroup {
                thing_name: t.thing_name.clone(),
                thing_group_name: g.clone(),
            });
        }
        changes.push(Change::ThingPrincipalAttached {
            thing_name: t.thing_name.clone(),
            principal: cert_arn.to_string(),
            thing_principal_type: ThingPrincipalType::NonExclusive.as_str().into(),
        });
        Ok(Ok(()))
    }

    /// The changes that create the plan's missing policies and attach each to the
    /// certificate once; the names attached.
    fn provision_policies(
        &self,
        r: &mut dyn Reader,
        plan: &ProvisioningPlan,
        cert_arn: &str,
        now: Timestamp,
        changes: &mut Vec<Change>,
    ) -> Result<Result<Vec<String>, ProvisioningFailureRow>, Error> {
        let mut policy_names = Vec::new();
        for p in &plan.policies {
            let exists = r.policy(&self.scope, &p.policy_name)?.is_some()
                || changes.iter().any(
                    |c| matches!(c, Change::PolicyCreated(row) if row.policy_name == p.policy_name),
                );
            match (&p.policy_document, exists) {
                (Some(doc), false) => {
                    changes.push(Change::PolicyCreated(PolicyRow::new(
                        &p.policy_name,
                        doc,
                        now,
                    )));
                }
                (None, false) => {
                    return Ok(Err(failed(
                        "POLICY_NOT_FOUND",
                        format!("the template's policy {} does not exist", p.policy_name),
                    )))
                }
                _ => {}
            }
            if !policy_names.contains(&p.policy_name) {
                policy_names.push(p.policy_name.clone());
                changes.push(Change::PolicyAttached {
                    policy_name: p.policy_name.clone(),
                    target: cert_arn.to_string(),
                });
            }
        }
        if policy_names.len() > MAX_POLICIES_PER_TARGET {
            return Ok(Err(failed(
                "TOO_MANY_POLICIES",
                format!(
                    "the template attaches {} policies; at most {MAX_POLICIES_PER_TARGET}",
                    policy_names.len()
                ),
            )));
        }
        Ok(Ok(policy_names))
    }

    /// The change that records a provisioning failure.
    pub(crate) fn failure_change(
        mut row: ProvisioningFailureRow,
        certificate_id: CertificateId,
        ca_certificate_id: CertificateId,
        now: Timestamp,
    ) -> Change {
        row.certificate_id = certificate_id;
        row.ca_certificate_id = ca_certificate_id;
        row.at = now;
        Change::ProvisioningFailed(row)
    }
}

/// An existing thing's update under the template's OverrideSettings: its changes, and in
/// `join` the groups it joins; a FAIL setting whose property differs is the failure.
fn update_existing_thing(
    t: &ThingPlan,
    before: ThingRow,
    groups_now: &[String],
    join: &mut Vec<String>,
    changes: &mut Vec<Change>,
) -> Result<(), ProvisioningFailureRow> {
    let o = t.override_settings;
    let fail = |what: &str| {
        failed(
            "RESOURCE_CONFLICT",
            format!(
                "the thing {} exists and its {what} differs (override FAIL)",
                t.thing_name
            ),
        )
    };
    let mut after = before.clone();
    match o.attribute_payload.unwrap_or(OverrideSetting::DoNothing) {
        OverrideSetting::Replace => after.attributes = t.attributes.clone(),
        OverrideSetting::Merge => after.attributes.extend(t.attributes.clone()),
        OverrideSetting::Fail if before.attributes != t.attributes => {
            return Err(fail("attributes"))
        }
        _ => {}
    }
    match o.thing_type_name.unwrap_or(OverrideSetting::DoNothing) {
        OverrideSetting::Replace => after.thing_type_name = t.thing_type_name.clone(),
        OverrideSetting::Fail if before.thing_type_name != t.thing_type_name => {
            return Err(fail("thing type"))
        }
        _ => {}
    }
    match o.thing_groups.unwrap_or(OverrideSetting::DoNothing) {
        OverrideSetting::Replace | OverrideSetting::Merge => *join = t.thing_groups.clone(),
        OverrideSetting::Fail => {
            let mut want = t.thing_groups.clone();
            want.sort();
            if want != groups_now {
                return Err(fail("thing groups"));
            }
        }
        _ => {}
    }
    if o.thing_groups == Some(OverrideSetting::Replace) {
        for g in groups_now.iter().filter(|g| !t.thing_groups.contains(g)) {
            changes.push(Change::ThingRemovedFromGroup {
                thing_name: t.thing_name.clone(),
                thing_group_name: g.clone(),
            });
        }
    }
    if after != before {
        after.version += 1;
        changes.push(Change::ThingUpdated { before, after });
    }
    Ok(())
}
