//! Policies and their attachment to certificates (docs/behaviour.md §5).

use serde::Serialize;

use super::Registry;
use crate::error::Error;
use crate::id::truncate_for_message;
use crate::store::{Change, Meta, PolicyRow};
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

/// Checks a policy document: a JSON object of at most 2,048 characters excluding white
/// space, with a `Statement` (AWS refuses others as malformed).
pub fn validate_policy_document(document: &str) -> Result<(), Error> {
    let len = document.chars().filter(|c| !c.is_whitespace()).count();
    if len > MAX_POLICY_DOCUMENT_LEN {
        return Err(Error::MalformedPolicy(format!(
            "the policy document is {len} characters excluding white space; at most {MAX_POLICY_DOCUMENT_LEN} are allowed"
        )));
    }
    let value: serde_json::Value = serde_json::from_str(document)
        .map_err(|e| Error::MalformedPolicy(format!("the policy document is not JSON: {e}")))?;
    match value.get("Statement") {
        Some(serde_json::Value::Array(_) | serde_json::Value::Object(_)) => Ok(()),
        _ => Err(Error::MalformedPolicy(
            "the policy document must be a JSON object with a Statement".into(),
        )),
    }
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
        self.commit(|r| {
            if r.policy(&self.scope, name)?.is_some() {
                return Err(Error::ResourceAlreadyExists {
                    resource: crate::error::ResourceKind::Policy,
                    message: format!("the policy {name} already exists"),
                    resource_id: name.to_string(),
                    resource_arn: arn.clone(),
                });
            }
            let row = PolicyRow {
                policy_name: name.to_string(),
                policy_document: document.to_string(),
                meta: Meta::new(now),
            };
            Ok((
                CreatePolicyResponse {
                    policy_name: name.to_string(),
                    policy_arn: arn.clone(),
                    policy_document: document.to_string(),
                    policy_version_id: "1".into(),
                },
                vec![Change::PolicyCreated(row)],
            ))
        })
    }

    /// GetPolicy.
    pub fn get_policy(&self, name: &str) -> Result<GetPolicyResponse, Error> {
        let p = self
            .read(|r| r.policy(&self.scope, name))?
            .ok_or_else(|| policy_not_found(name))?;
        Ok(GetPolicyResponse {
            policy_name: name.to_string(),
            policy_arn: self.scope.policy_arn(name),
            policy_document: p.policy_document,
            default_version_id: "1".into(),
            creation_date: p.meta.creation_date,
            last_modified_date: p.meta.last_modified_date,
            generation_id: p.meta.generation_id,
        })
    }

    /// DeletePolicy: refused while the policy is attached to anything.
    pub fn delete_policy(&self, name: &str) -> Result<(), Error> {
        self.commit(|r| {
            if r.policy(&self.scope, name)?.is_none() {
                return Err(policy_not_found(name));
            }
            if r.policy_in_use(&self.scope, name)? {
                return Err(Error::DeleteConflict(format!(
                    "the policy {name} is attached to a certificate; detach it first"
                )));
            }
            Ok((
                (),
                vec![Change::PolicyDeleted {
                    policy_name: name.to_string(),
                }],
            ))
        })
    }

    /// AttachPolicy: attaches a policy to a device certificate by ARN. Attaching twice is
    /// not an error.
    pub fn attach_policy(&self, name: &str, target: &str) -> Result<(), Error> {
        let id = self.scope.parse_certificate_arn(target)?;
        self.commit(|r| {
            if r.policy(&self.scope, name)?.is_none() {
                return Err(policy_not_found(name));
            }
            if r.certificate(&self.scope, &id)?.is_none() {
                return Err(Self::cert_not_found(&id));
            }
            let attached = r.attached_to(&self.scope, target)?;
            let changes = if attached.iter().any(|p| p == name) {
                Vec::new()
            } else {
                vec![Change::PolicyAttached {
                    policy_name: name.to_string(),
                    target: target.to_string(),
                }]
            };
            Ok(((), changes))
        })
    }

    /// DetachPolicy.
    pub fn detach_policy(&self, name: &str, target: &str) -> Result<(), Error> {
        self.scope.parse_certificate_arn(target)?;
        self.commit(|r| {
            if r.policy(&self.scope, name)?.is_none() {
                return Err(policy_not_found(name));
            }
            let attached = r.attached_to(&self.scope, target)?;
            let changes = if attached.iter().any(|p| p == name) {
                vec![Change::PolicyDetached {
                    policy_name: name.to_string(),
                    target: target.to_string(),
                }]
            } else {
                Vec::new()
            };
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

fn policy_not_found(name: &str) -> Error {
    Error::not_found(crate::error::ResourceKind::Policy, name)
}
