//! Policies and their attachment to certificates (spec §5).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{read, write, Meta, Registry};
use crate::error::Error;
use crate::id::truncate_for_message;
use crate::time::{as_epoch_seconds, Timestamp};

/// The longest policy document accepted, in characters excluding white space (AWS).
pub const MAX_POLICY_DOCUMENT_LEN: usize = 2048;

#[derive(Default)]
pub(crate) struct Policies {
    pub(crate) by_name: BTreeMap<String, PolicyRecord>,
    /// (policy name, target ARN) pairs.
    pub(crate) attachments: std::collections::BTreeSet<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PolicyRecord {
    pub(crate) document: String,
    #[serde(flatten)]
    pub(crate) meta: Meta,
}

impl Policies {
    pub(crate) fn attached_to(&self, target: &str) -> HashSet<String> {
        self.attachments
            .iter()
            .filter(|(_, t)| t == target)
            .map(|(p, _)| p.clone())
            .collect()
    }

    pub(crate) fn detach_all(&mut self, target: &str) {
        self.attachments.retain(|(_, t)| t != target);
    }
}

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
    /// Always `"1"`: jitr keeps one version per policy.
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
    /// Always `"1"`.
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
    let ok = (1..=128).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "{:?} is not a policy name: 1 to 128 characters of letters, digits and _+=,.@-",
            truncate_for_message(name)
        )))
    }
}

/// Checks a policy document as AWS IoT's CreatePolicy does: [`crate::policy::PolicyDocument::parse`]
/// (at most 2,048 characters excluding white space, the elements AWS IoT policies have,
/// known condition operators with values of their type, balanced `${...}` variables).
/// A refusal is a `MalformedPolicyException` that says what is wrong and where.
pub fn validate_policy_document(document: &str) -> Result<(), Error> {
    crate::policy::PolicyDocument::parse(document)?;
    Ok(())
}

impl Registry {
    /// CreatePolicy.
    pub fn create_policy(
        &self,
        name: &str,
        document: &str,
        now: Timestamp,
    ) -> Result<CreatePolicyResponse, Error> {
        validate_policy_name(name)?;
        validate_policy_document(document)?;
        let arn = self.scope.policy_arn(name);
        let mut policies = write(&self.policies);
        if policies.by_name.contains_key(name) {
            return Err(Error::ResourceAlreadyExists {
                message: format!("the policy {name} already exists"),
                resource_id: name.to_string(),
                resource_arn: arn,
            });
        }
        policies.by_name.insert(
            name.to_string(),
            PolicyRecord {
                document: document.to_string(),
                meta: Meta::new(now),
            },
        );
        Ok(CreatePolicyResponse {
            policy_name: name.to_string(),
            policy_arn: arn,
            policy_document: document.to_string(),
            policy_version_id: "1".into(),
        })
    }

    /// GetPolicy.
    pub fn get_policy(&self, name: &str) -> Result<GetPolicyResponse, Error> {
        let policies = read(&self.policies);
        let p = policies
            .by_name
            .get(name)
            .ok_or_else(|| policy_not_found(name))?;
        Ok(GetPolicyResponse {
            policy_name: name.to_string(),
            policy_arn: self.scope.policy_arn(name),
            policy_document: p.document.clone(),
            default_version_id: "1".into(),
            creation_date: p.meta.creation_date,
            last_modified_date: p.meta.last_modified_date,
            generation_id: p.meta.generation_id.clone(),
        })
    }

    /// DeletePolicy: refused while the policy is attached to anything.
    pub fn delete_policy(&self, name: &str) -> Result<(), Error> {
        let mut policies = write(&self.policies);
        if !policies.by_name.contains_key(name) {
            return Err(policy_not_found(name));
        }
        if policies.attachments.iter().any(|(p, _)| p == name) {
            return Err(Error::DeleteConflict(format!(
                "the policy {name} is attached to a certificate; detach it first"
            )));
        }
        policies.by_name.remove(name);
        Ok(())
    }

    /// AttachPolicy: attaches a policy to a device certificate by ARN. Attaching twice is
    /// not an error.
    pub fn attach_policy(&self, name: &str, target: &str) -> Result<(), Error> {
        let id = self.scope.parse_certificate_arn(target)?;
        let mut policies = write(&self.policies);
        if !policies.by_name.contains_key(name) {
            return Err(policy_not_found(name));
        }
        if !read(self.shard(&id)).contains(&id) {
            return Err(Self::cert_not_found(&id));
        }
        policies
            .attachments
            .insert((name.to_string(), target.to_string()));
        Ok(())
    }

    /// DetachPolicy.
    pub fn detach_policy(&self, name: &str, target: &str) -> Result<(), Error> {
        self.scope.parse_certificate_arn(target)?;
        let mut policies = write(&self.policies);
        if !policies.by_name.contains_key(name) {
            return Err(policy_not_found(name));
        }
        policies
            .attachments
            .remove(&(name.to_string(), target.to_string()));
        Ok(())
    }

    /// ListAttachedPolicies, sorted by name.
    pub fn list_attached_policies(&self, target: &str) -> Result<Vec<AttachedPolicy>, Error> {
        self.scope.parse_certificate_arn(target)?;
        let mut names: Vec<_> = self.attached_policy_names(target).into_iter().collect();
        names.sort();
        Ok(names
            .into_iter()
            .map(|n| AttachedPolicy {
                policy_arn: self.scope.policy_arn(&n),
                policy_name: n,
            })
            .collect())
    }
}

fn policy_not_found(name: &str) -> Error {
    Error::ResourceNotFound(format!(
        "the policy {} does not exist",
        truncate_for_message(name)
    ))
}
