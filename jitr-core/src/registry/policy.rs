//! Policies and their attachment to certificates (docs/behaviour.md §5).

use serde::Serialize;

use super::list::{self, list_by_link, ListRequest, Page};
use super::Registry;
use crate::error::{Error, ResourceKind};
use crate::id::truncate_for_message;
use crate::store::{Change, Kind, PolicyRow, PolicyVersionRow, Reader, ResourceReads};
use crate::time::{as_epoch_seconds, Timestamp};

/// The longest policy document accepted, in characters excluding white space (AWS).
pub const MAX_POLICY_DOCUMENT_LEN: usize = 2048;

/// CreatePolicy's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreatePolicyResponse {
    /// The name.
    pub policy_name: String,
    /// The ARN (`…:policy/<name>`).
    pub policy_arn: String,
    /// The document.
    pub policy_document: String,
    /// `"1"`: a new policy's first version.
    pub policy_version_id: String,
}

/// GetPolicy's output.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetPolicyResponse {
    /// The name.
    pub policy_name: String,
    /// The ARN.
    pub policy_arn: String,
    /// The document.
    pub policy_document: String,
    /// The default version's ID.
    pub default_version_id: String,
    /// When it was created.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
    /// When it last changed.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub last_modified_date: Timestamp,
    /// A fresh UUID at every change.
    pub generation_id: String,
}

/// An item of ListAttachedPolicies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttachedPolicy {
    /// The name.
    pub policy_name: String,
    /// The ARN.
    pub policy_arn: String,
}

/// Checks a policy name against AWS's pattern `[\w+=,.@-]{1,128}`.
pub fn validate_policy_name(name: &str) -> Result<(), Error> {
    let allowed = "letters, digits and _+=,.@-";
    super::check_name(name, "a policy name", 128, "_+=,.@-", allowed)
}

/// Checks a policy document as AWS IoT's CreatePolicy does: [`crate::policy::PolicyDocument::parse`]
/// (at most 2,048 characters excluding white space, the elements AWS IoT policies have,
/// known condition operators with values of their type, balanced `${...}` variables).
/// A refusal is a `MalformedPolicyException` that says what is wrong and where.
pub fn validate_policy_document(document: &str) -> Result<(), Error> {
    crate::policy::PolicyDocument::parse(document)?;
    Ok(())
}

/// The most versions a policy keeps (AWS).
pub const MAX_POLICY_VERSIONS: usize = 5;
/// The most policies attached to one target (AWS).
pub const MAX_POLICIES_PER_TARGET: usize = 10;

/// CreatePolicyVersion's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreatePolicyVersionResponse {
    /// The policy's ARN.
    pub policy_arn: String,
    /// The new version's document.
    pub policy_document: String,
    /// The new version's ID.
    pub policy_version_id: String,
    /// Whether it is now the default.
    pub is_default_version: bool,
}

/// GetPolicyVersion's output.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GetPolicyVersionResponse {
    /// The policy's ARN.
    pub policy_arn: String,
    /// The policy's name.
    pub policy_name: String,
    /// The version's document.
    pub policy_document: String,
    /// The version's ID.
    pub policy_version_id: String,
    /// Whether it is the default.
    pub is_default_version: bool,
    /// When the version was created.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
    /// When the policy last changed.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub last_modified_date: Timestamp,
    /// The policy's generation ID.
    pub generation_id: String,
}

/// An item of ListPolicyVersions.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PolicyVersionSummary {
    /// The version's ID.
    pub version_id: String,
    /// Whether it is the default.
    pub is_default_version: bool,
    /// When it was created.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub create_date: Timestamp,
}

/// An item of GetEffectivePolicies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EffectivePolicy {
    /// The name.
    pub policy_name: String,
    /// The ARN.
    pub policy_arn: String,
    /// The default version's document.
    pub policy_document: String,
}

impl Registry {
    /// The policy `name`, else its ResourceNotFoundException.
    fn policy_row(&self, r: &mut dyn Reader, name: &str) -> Result<PolicyRow, Error> {
        r.policy(&self.scope, name)?
            .ok_or_else(|| policy_not_found(name))
    }

    /// CreatePolicy: version 1, the default.
    pub fn create_policy(
        &self,
        name: &str,
        document: &str,
        now: Timestamp,
    ) -> Result<CreatePolicyResponse, Error> {
        validate_policy_name(name)?;
        validate_policy_document(document)?;
        let arn = self.scope.policy_arn(name);
        self.commit(|r| {
            if r.policy(&self.scope, name)?.is_some() {
                return Err(Error::ResourceAlreadyExists {
                    resource: crate::error::ResourceKind::Policy,
                    message: format!("the policy {name} already exists"),
                    resource_id: name.to_string(),
                    resource_arn: arn.clone(),
                });
            }
            Ok((
                CreatePolicyResponse {
                    policy_name: name.to_string(),
                    policy_arn: arn.clone(),
                    policy_document: document.to_string(),
                    policy_version_id: "1".into(),
                },
                vec![Change::PolicyCreated(PolicyRow::new(name, document, now))],
            ))
        })
    }

    /// GetPolicy: the default version's document.
    pub fn get_policy(&self, name: &str) -> Result<GetPolicyResponse, Error> {
        let p = self.read(|r| self.policy_row(r, name))?;
        Ok(GetPolicyResponse {
            policy_name: name.to_string(),
            policy_arn: self.scope.policy_arn(name),
            policy_document: p.policy_document,
            default_version_id: p.default_version_id.to_string(),
            creation_date: p.meta.creation_date,
            last_modified_date: p.meta.last_modified_date,
            generation_id: p.meta.generation_id,
        })
    }

    /// DeletePolicy: refused while the policy is attached to anything or has versions
    /// other than the default (delete them first), as AWS refuses it.
    pub fn delete_policy(&self, name: &str) -> Result<(), Error> {
        self.commit(|r| {
            let p = self.policy_row(r, name)?;
            if r.policy_in_use(&self.scope, name)? {
                return Err(Error::DeleteConflict(format!(
                    "the policy {name} is attached to a certificate; detach it first"
                )));
            }
            if p.all_versions().len() > 1 {
                return Err(Error::DeleteConflict(format!(
                    "the policy {name} has versions other than the default; delete them first"
                )));
            }
            let mut changes = vec![Change::PolicyDeleted {
                policy_name: name.to_string(),
            }];
            changes.extend(Self::untag_all(r, self, &self.scope.policy_arn(name))?);
            Ok(((), changes))
        })
    }

    /// CreatePolicyVersion: a new version (its ID one more than the last), the default if
    /// `set_as_default`. A policy keeps at most five versions
    /// (`VersionsLimitExceededException`).
    pub fn create_policy_version(
        &self,
        name: &str,
        document: &str,
        set_as_default: bool,
        now: Timestamp,
    ) -> Result<CreatePolicyVersionResponse, Error> {
        validate_policy_name(name)?;
        validate_policy_document(document)?;
        self.commit(|r| {
            let mut p = self.policy_row(r, name)?;
            let mut versions = p.all_versions();
            if versions.len() >= MAX_POLICY_VERSIONS {
                return Err(Error::VersionsLimitExceeded(format!(
                    "the policy {name} has {MAX_POLICY_VERSIONS} versions, the most it can have; delete one first"
                )));
            }
            let id = p.last_version_id().max(versions.iter().map(|v| v.version_id).max().unwrap_or(0)) + 1;
            p.last_version_id = Some(id);
            versions.push(PolicyVersionRow {
                version_id: id,
                document: document.to_string(),
                create_date: now,
            });
            p.versions = versions;
            if set_as_default {
                p.default_version_id = id;
                p.policy_document = document.to_string();
            }
            p.meta = p.meta.bumped(now);
            Ok((
                CreatePolicyVersionResponse {
                    policy_arn: self.scope.policy_arn(name),
                    policy_document: document.to_string(),
                    policy_version_id: id.to_string(),
                    is_default_version: set_as_default,
                },
                vec![Change::PolicyVersionsChanged(p)],
            ))
        })
    }

    /// GetPolicyVersion.
    pub fn get_policy_version(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<GetPolicyVersionResponse, Error> {
        let id = parse_version_id(version_id)?;
        let p = self.read(|r| self.policy_row(r, name))?;
        let versions = p.all_versions();
        let v = find_version(&versions, name, id)?;
        Ok(GetPolicyVersionResponse {
            policy_arn: self.scope.policy_arn(name),
            policy_name: name.to_string(),
            policy_document: v.document.clone(),
            policy_version_id: id.to_string(),
            is_default_version: id == p.default_version_id,
            creation_date: v.create_date,
            last_modified_date: p.meta.last_modified_date,
            generation_id: p.meta.generation_id,
        })
    }

    /// ListPolicyVersions: newest first.
    pub fn list_policy_versions(&self, name: &str) -> Result<Vec<PolicyVersionSummary>, Error> {
        let p = self.read(|r| self.policy_row(r, name))?;
        let mut versions = p.all_versions();
        versions.sort_by_key(|v| std::cmp::Reverse(v.version_id));
        Ok(versions
            .into_iter()
            .map(|v| PolicyVersionSummary {
                version_id: v.version_id.to_string(),
                is_default_version: v.version_id == p.default_version_id,
                create_date: v.create_date,
            })
            .collect())
    }

    /// SetDefaultPolicyVersion. Setting the version that is already the default changes
    /// nothing.
    pub fn set_default_policy_version(
        &self,
        name: &str,
        version_id: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.change_versions(name, version_id, now, |p, _, v| {
            if p.default_version_id == v.version_id {
                return Ok(false);
            }
            p.policy_document = v.document;
            p.default_version_id = v.version_id;
            Ok(true)
        })
    }

    /// DeletePolicyVersion: the default version cannot be deleted
    /// (`DeleteConflictException`).
    pub fn delete_policy_version(
        &self,
        name: &str,
        version_id: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.change_versions(name, version_id, now, |p, versions, v| {
            let id = v.version_id;
            if p.default_version_id == id {
                return Err(Error::DeleteConflict(format!(
                    "version {id} is the default version of the policy {name}; it cannot be deleted (delete the policy, or make another version the default)"
                )));
            }
            versions.retain(|v| v.version_id != id);
            Ok(true)
        })
    }

    /// One commit that changes the versions of the policy `name` through its version
    /// `version_id` (both must exist): `change` gets the policy, its versions and that
    /// version, and says whether it changed anything (if so the policy's generation moves
    /// on at `now`).
    fn change_versions(
        &self,
        name: &str,
        version_id: &str,
        now: Timestamp,
        mut change: impl FnMut(
            &mut PolicyRow,
            &mut Vec<PolicyVersionRow>,
            PolicyVersionRow,
        ) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        let id = parse_version_id(version_id)?;
        self.commit(|r| {
            let mut p = self.policy_row(r, name)?;
            let mut versions = p.all_versions();
            let v = find_version(&versions, name, id)?.clone();
            if !change(&mut p, &mut versions, v)? {
                return Ok(((), Vec::new()));
            }
            p.versions = versions;
            p.meta = p.meta.bumped(now);
            Ok(((), vec![Change::PolicyVersionsChanged(p)]))
        })
    }

    /// ListPolicies: by name, a page at a time.
    pub fn list_policies(&self, req: &ListRequest) -> Result<Page<AttachedPolicy>, Error> {
        let (page, size) = list::name_query(req)?;
        let names: Vec<String> = self.read(|r| {
            Ok(r.resources(&self.scope, Kind::Policy, &page)?
                .into_iter()
                .map(|(n, _)| n)
                .collect())
        })?;
        Ok(list::name_cut(names, size, |n| AttachedPolicy {
            policy_arn: self.scope.policy_arn(&n),
            policy_name: n,
        }))
    }

    /// GetEffectivePolicies: the policies that apply to a principal (a certificate ARN),
    /// with their default versions' documents. jitr has no thing groups, so
    /// `thing_name`, when given, must name a thing (its groups would add none).
    pub fn get_effective_policies(
        &self,
        principal: &str,
        thing_name: Option<&str>,
    ) -> Result<Vec<EffectivePolicy>, Error> {
        let id = self.scope.parse_certificate_arn(principal)?;
        self.read(|r| {
            if r.certificate(&self.scope, &id)?.is_none() {
                return Err(Self::cert_not_found(&id));
            }
            if let Some(thing) = thing_name {
                self.thing_row(r, thing)?;
            }
            let mut out = Vec::new();
            for name in r.attached_to(&self.scope, principal)? {
                if let Some(p) = r.policy(&self.scope, &name)? {
                    out.push(EffectivePolicy {
                        policy_arn: self.scope.policy_arn(&name),
                        policy_name: name,
                        policy_document: p.policy_document,
                    });
                }
            }
            Ok(out)
        })
    }

    /// AttachPolicy: attaches a policy to a device certificate by ARN. Attaching twice is
    /// not an error; an eleventh policy on one target is `LimitExceededException`.
    pub fn attach_policy(&self, name: &str, target: &str) -> Result<(), Error> {
        let id = self.scope.parse_certificate_arn(target)?;
        self.commit(|r| {
            self.policy_row(r, name)?;
            if r.certificate(&self.scope, &id)?.is_none() {
                return Err(Self::cert_not_found(&id));
            }
            let attached = r.attached_to(&self.scope, target)?;
            if attached.iter().any(|p| p == name) {
                return Ok(((), Vec::new()));
            }
            if attached.len() >= MAX_POLICIES_PER_TARGET {
                return Err(Error::LimitExceeded(format!(
                    "{target} already has {MAX_POLICIES_PER_TARGET} policies attached, the most a target can have"
                )));
            }
            Ok((
                (),
                vec![Change::PolicyAttached {
                    policy_name: name.to_string(),
                    target: target.to_string(),
                }],
            ))
        })
    }

    /// DetachPolicy.
    pub fn detach_policy(&self, name: &str, target: &str) -> Result<(), Error> {
        self.scope.parse_certificate_arn(target)?;
        self.commit(|r| {
            self.policy_row(r, name)?;
            let attached = r.attached_to(&self.scope, target)?;
            let needed = attached.iter().any(|p| p == name);
            let changes = super::change_if(needed, || Change::PolicyDetached {
                policy_name: name.to_string(),
                target: target.to_string(),
            });
            Ok(((), changes))
        })
    }

    /// ListAttachedPolicies, sorted by name.
    pub fn list_attached_policies(&self, target: &str) -> Result<Vec<AttachedPolicy>, Error> {
        self.scope.parse_certificate_arn(target)?;
        let names = self.read(|r| r.attached_to(&self.scope, target))?;
        Ok(names
            .into_iter()
            .map(|n| AttachedPolicy {
                policy_arn: self.scope.policy_arn(&n),
                policy_name: n,
            })
            .collect())
    }
}

list_by_link! {
    /// ListTargetsForPolicy: the ARNs the policy is attached to.
    fn list_targets_for_policy(reg, name) -> String, name_query_ascending, From(PolicyTarget),
        exists |r| reg.policy_row(r, name).map(drop), item |t| t;

    /// ListPrincipalPolicies (and ListAttachedPolicies): the policies attached to a
    /// principal (a certificate ARN), by name.
    fn list_principal_policies(reg, principal) -> AttachedPolicy, name_query, To(PolicyTarget),
        before reg.scope.parse_certificate_arn(principal),
        item |n| AttachedPolicy { policy_arn: reg.scope.policy_arn(&n), policy_name: n };
}

fn parse_version_id(id: &str) -> Result<u64, Error> {
    match id.parse::<u64>() {
        Ok(n) if n > 0 && !id.starts_with('0') => Ok(n),
        _ => Err(Error::InvalidRequest(format!(
            "{:?} is not a policy version ID (a positive number)",
            truncate_for_message(id)
        ))),
    }
}

/// The version `id` among the `versions` of the policy `name`, else its
/// ResourceNotFoundException.
fn find_version<'a>(
    versions: &'a [PolicyVersionRow],
    name: &str,
    id: u64,
) -> Result<&'a PolicyVersionRow, Error> {
    versions.iter().find(|v| v.version_id == id).ok_or_else(|| {
        Error::not_found(ResourceKind::PolicyVersion, format!("{name} version {id}"))
    })
}

fn policy_not_found(name: &str) -> Error {
    Error::not_found(ResourceKind::Policy, name)
}
