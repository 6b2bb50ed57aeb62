//! Resources other than certificates, kept the same way in every backend: a row per
//! resource (kind, name, JSON body) and a link per relation (kind, from, to, value),
//! readable from either end. Policies, things, thing types and provisioning templates
//! are resources; a policy's attachment to a target, a thing's principals, its
//! attributes and its type, and tags are links. A new kind of resource needs no new
//! table, SQL or backend code: only its rows, its changes and its reads below.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{corrupt, Change, Meta, Reader};
use crate::error::Error;
use crate::scope::Scope;
use crate::time::Timestamp;

/// The kinds of resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Policy,
    Thing,
    ThingType,
    ThingGroup,
    ProvisioningTemplate,
    /// Why provisioning left a certificate pending, keyed by the certificate's ID.
    ProvisioningFailure,
    /// The account's issuing CA (one row).
    Issuer,
    /// The account's endpoint prefix (one row).
    Endpoint,
}

impl Kind {
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Policy => "policy",
            Self::Thing => "thing",
            Self::ThingType => "thing-type",
            Self::ThingGroup => "thing-group",
            Self::ProvisioningFailure => "provisioning-failure",
            Self::Issuer => "issuer",
            Self::Endpoint => "endpoint",
            Self::ProvisioningTemplate => "provisioning-template",
        }
    }
}

/// The kinds of links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum LinkKind {
    /// policy name → target ARN.
    PolicyTarget,
    /// thing name → principal ARN; the value is the thing-principal type.
    ThingPrincipal,
    /// `attributeName=attributeValue` → thing name (ListThings' attribute filter).
    ThingAttribute,
    /// thing type name → thing name.
    ThingOfType,
    /// resource ARN → tag key; the value is the tag's value.
    Tag,
    /// thing name → thing group name.
    ThingInGroup,
}

impl LinkKind {
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PolicyTarget => "policy-target",
            Self::ThingPrincipal => "thing-principal",
            Self::ThingAttribute => "thing-attribute",
            Self::ThingOfType => "thing-of-type",
            Self::Tag => "tag",
            Self::ThingInGroup => "thing-in-group",
        }
    }
}

/// One end of a link, the list of whose other ends a `List…` operation pages through.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LinkEnd<'a> {
    /// The links of a kind from this name (a policy's targets, a thing's principals).
    From(LinkKind, &'a str),
    /// The links of a kind to this name (a principal's policies, a group's things).
    To(LinkKind, &'a str),
}

/// A page of names: after `after`, in order, at most `limit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NamePage {
    pub(crate) after: Option<String>,
    pub(crate) ascending: bool,
    pub(crate) limit: usize,
}

impl NamePage {
    /// Every name, ascending.
    pub(crate) fn all() -> Self {
        Self {
            after: None,
            ascending: true,
            limit: usize::MAX,
        }
    }
}

/// A write a backend makes for a resource change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Put {
        kind: Kind,
        name: String,
        body: String,
    },
    Delete {
        kind: Kind,
        name: String,
    },
    Link {
        kind: LinkKind,
        from: String,
        to: String,
        value: String,
    },
    Unlink {
        kind: LinkKind,
        from: String,
        to: String,
    },
}

fn put<T: Serialize>(kind: Kind, name: &str, row: &T) -> Op {
    Op::Put {
        kind,
        name: name.to_string(),
        // Rows are plain data: encoding them cannot fail.
        body: serde_json::to_string(row).unwrap_or_default(),
    }
}

fn delete(kind: Kind, name: &str) -> Op {
    Op::Delete {
        kind,
        name: name.to_string(),
    }
}

fn link(kind: LinkKind, from: &str, to: &str, value: &str) -> Op {
    Op::Link {
        kind,
        from: from.to_string(),
        to: to.to_string(),
        value: value.to_string(),
    }
}

fn unlink(kind: LinkKind, from: &str, to: &str) -> Op {
    Op::Unlink {
        kind,
        from: from.to_string(),
        to: to.to_string(),
    }
}

/// A version of a policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PolicyVersionRow {
    /// Its ID: 1, 2, … in the order created.
    pub version_id: u64,
    /// The document.
    pub document: String,
    /// When it was created.
    pub create_date: Timestamp,
}

/// A policy as the store keeps it: its versions (at most five) and which is the default.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PolicyRow {
    /// The name.
    pub policy_name: String,
    /// The default version's document.
    pub policy_document: String,
    /// Versions and dates of the policy itself.
    pub meta: Meta,
    /// The default version's ID (1 for a policy written before versions existed).
    #[serde(default = "first_version")]
    pub default_version_id: u64,
    /// Every version, oldest first; empty for a policy written before versions existed
    /// (its one version is `policy_document`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<PolicyVersionRow>,
    /// The highest version ID ever given: IDs are never reused.
    pub last_version_id: Option<u64>,
}

fn first_version() -> u64 {
    1
}

impl PolicyRow {
    /// A new policy: version 1, the default.
    pub(crate) fn new(name: &str, document: &str, now: Timestamp) -> Self {
        Self {
            policy_name: name.to_string(),
            policy_document: document.to_string(),
            meta: Meta::new(now),
            default_version_id: 1,
            versions: vec![PolicyVersionRow {
                version_id: 1,
                document: document.to_string(),
                create_date: now,
            }],
            last_version_id: Some(1),
        }
    }

    /// The highest version ID given so far.
    pub(crate) fn last_version_id(&self) -> u64 {
        self.last_version_id.unwrap_or(self.default_version_id)
    }

    /// Every version (a policy written before versions existed has one).
    pub fn all_versions(&self) -> Vec<PolicyVersionRow> {
        if self.versions.is_empty() {
            vec![PolicyVersionRow {
                version_id: self.default_version_id,
                document: self.policy_document.clone(),
                create_date: self.meta.creation_date,
            }]
        } else {
            self.versions.clone()
        }
    }
}

/// A thing as the store keeps it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingRow {
    /// The name.
    pub thing_name: String,
    /// A UUID, fixed at creation.
    pub thing_id: String,
    /// Its type, if any.
    pub thing_type_name: Option<String>,
    /// Its attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// 1, +1 at every update.
    pub version: u64,
    /// Its billing group, if any (kept as given).
    pub billing_group_name: Option<String>,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// A thing type as the store keeps it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingTypeRow {
    /// The name.
    pub thing_type_name: String,
    /// A UUID, fixed at creation.
    pub thing_type_id: String,
    /// The description, if any.
    pub description: Option<String>,
    /// The searchable attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub searchable_attributes: Vec<String>,
    /// Whether it is deprecated.
    #[serde(default)]
    pub deprecated: bool,
    /// When it was deprecated.
    pub deprecation_date: Option<Timestamp>,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// The writes of a resource change; empty for the changes of certificates, CAs and the
/// registration code, which backends keep in their own tables.
pub(crate) fn ops(change: &Change) -> Vec<Op> {
    match change {
        Change::PolicyCreated(row) | Change::PolicyVersionsChanged(row) => {
            vec![put(Kind::Policy, &row.policy_name, row)]
        }
        Change::PolicyDeleted { policy_name } => vec![delete(Kind::Policy, policy_name)],
        Change::PolicyAttached {
            policy_name,
            target,
        } => vec![link(LinkKind::PolicyTarget, policy_name, target, "")],
        Change::PolicyDetached {
            policy_name,
            target,
        } => vec![unlink(LinkKind::PolicyTarget, policy_name, target)],
        Change::ThingCreated(row) => {
            let mut ops = vec![put(Kind::Thing, &row.thing_name, row)];
            ops.extend(thing_index(row, true));
            ops
        }
        Change::ThingUpdated { before, after } => {
            let mut ops = thing_index(before, false);
            ops.push(put(Kind::Thing, &after.thing_name, after));
            ops.extend(thing_index(after, true));
            ops
        }
        Change::ThingDeleted(row) => {
            let mut ops = thing_index(row, false);
            ops.push(delete(Kind::Thing, &row.thing_name));
            ops
        }
        Change::ThingPrincipalAttached {
            thing_name,
            principal,
            thing_principal_type,
        } => vec![link(
            LinkKind::ThingPrincipal,
            thing_name,
            principal,
            thing_principal_type,
        )],
        Change::ThingPrincipalDetached {
            thing_name,
            principal,
        } => vec![unlink(LinkKind::ThingPrincipal, thing_name, principal)],
        Change::ThingTypeCreated(row) | Change::ThingTypeUpdated(row) => {
            vec![put(Kind::ThingType, &row.thing_type_name, row)]
        }
        Change::ThingTypeDeleted { thing_type_name } => {
            vec![delete(Kind::ThingType, thing_type_name)]
        }
        Change::Tagged {
            resource_arn,
            key,
            value,
        } => vec![link(LinkKind::Tag, resource_arn, key, value)],
        Change::Untagged { resource_arn, key } => vec![unlink(LinkKind::Tag, resource_arn, key)],
        Change::ThingGroupCreated(row) => vec![put(Kind::ThingGroup, &row.thing_group_name, row)],
        Change::ThingGroupDeleted { thing_group_name } => {
            vec![delete(Kind::ThingGroup, thing_group_name)]
        }
        Change::ThingAddedToGroup {
            thing_name,
            thing_group_name,
        } => vec![link(
            LinkKind::ThingInGroup,
            thing_name,
            thing_group_name,
            "",
        )],
        Change::ThingRemovedFromGroup {
            thing_name,
            thing_group_name,
        } => vec![unlink(LinkKind::ThingInGroup, thing_name, thing_group_name)],
        Change::ProvisioningTemplateCreated(row) | Change::ProvisioningTemplateUpdated(row) => {
            vec![put(Kind::ProvisioningTemplate, &row.template_name, row)]
        }
        Change::ProvisioningFailed(row) => {
            vec![put(
                Kind::ProvisioningFailure,
                &row.certificate_id.to_string(),
                row,
            )]
        }
        Change::CertificateDeleted { certificate_id } => vec![delete(
            Kind::ProvisioningFailure,
            &certificate_id.to_string(),
        )],
        Change::IssuerCreated(row) => vec![put(Kind::Issuer, "account", row)],
        Change::EndpointCreated(row) => vec![put(Kind::Endpoint, "account", row)],
        Change::ProvisioningTemplateDeleted { template_name } => {
            vec![delete(Kind::ProvisioningTemplate, template_name)]
        }
        _ => Vec::new(),
    }
}

/// The links that index a thing: one per attribute and one for its type.
fn thing_index(row: &ThingRow, add: bool) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut edge = |kind, from: &str| {
        ops.push(if add {
            link(kind, from, &row.thing_name, "")
        } else {
            unlink(kind, from, &row.thing_name)
        })
    };
    for (k, v) in &row.attributes {
        edge(LinkKind::ThingAttribute, &format!("{k}={v}"));
    }
    if let Some(t) = &row.thing_type_name {
        edge(LinkKind::ThingOfType, t);
    }
    ops
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T, Error> {
    serde_json::from_str(body).map_err(|e| corrupt(format!("a resource row: {e}")))
}

/// Typed reads over the generic ones, the same for every backend.
pub(crate) trait ResourceReads {
    fn row<T: DeserializeOwned>(
        &mut self,
        scope: &Scope,
        kind: Kind,
        name: &str,
    ) -> Result<Option<T>, Error>;
    fn rows<T: DeserializeOwned>(
        &mut self,
        scope: &Scope,
        kind: Kind,
        page: &NamePage,
    ) -> Result<Vec<T>, Error>;
    fn policy(&mut self, scope: &Scope, name: &str) -> Result<Option<PolicyRow>, Error>;
    /// The names of the policies attached to `target`, sorted.
    fn attached_to(&mut self, scope: &Scope, target: &str) -> Result<Vec<String>, Error>;
    /// Whether the policy is attached to anything.
    fn policy_in_use(&mut self, scope: &Scope, name: &str) -> Result<bool, Error>;
    /// Every policy of the account, by name.
    fn policies(&mut self, scope: &Scope) -> Result<Vec<PolicyRow>, Error>;
    /// Every (policy, target) attachment of the account.
    fn attachments(&mut self, scope: &Scope) -> Result<Vec<(String, String)>, Error>;
    fn thing(&mut self, scope: &Scope, name: &str) -> Result<Option<ThingRow>, Error>;
    /// The things a principal is attached to, with the attachment's type.
    fn things_of_principal(
        &mut self,
        scope: &Scope,
        principal: &str,
    ) -> Result<Vec<(String, String)>, Error>;
}

impl ResourceReads for dyn Reader + '_ {
    fn row<T: DeserializeOwned>(
        &mut self,
        scope: &Scope,
        kind: Kind,
        name: &str,
    ) -> Result<Option<T>, Error> {
        self.resource(scope, kind, name)?
            .map(|b| decode(&b))
            .transpose()
    }

    fn rows<T: DeserializeOwned>(
        &mut self,
        scope: &Scope,
        kind: Kind,
        page: &NamePage,
    ) -> Result<Vec<T>, Error> {
        self.resources(scope, kind, page)?
            .iter()
            .map(|(_, b)| decode(b))
            .collect()
    }

    fn policy(&mut self, scope: &Scope, name: &str) -> Result<Option<PolicyRow>, Error> {
        self.row(scope, Kind::Policy, name)
    }

    fn attached_to(&mut self, scope: &Scope, target: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .all_links(scope, LinkEnd::To(LinkKind::PolicyTarget, target))?
            .into_iter()
            .map(|(p, _)| p)
            .collect())
    }

    fn policy_in_use(&mut self, scope: &Scope, name: &str) -> Result<bool, Error> {
        let one = NamePage {
            limit: 1,
            ..NamePage::all()
        };
        Ok(!self
            .links(scope, LinkEnd::From(LinkKind::PolicyTarget, name), &one)?
            .is_empty())
    }

    fn policies(&mut self, scope: &Scope) -> Result<Vec<PolicyRow>, Error> {
        self.rows(scope, Kind::Policy, &NamePage::all())
    }

    fn attachments(&mut self, scope: &Scope) -> Result<Vec<(String, String)>, Error> {
        let mut out = Vec::new();
        for p in self.resources(scope, Kind::Policy, &NamePage::all())? {
            for (target, _) in self.all_links(scope, LinkEnd::From(LinkKind::PolicyTarget, &p.0))? {
                out.push((p.0.clone(), target));
            }
        }
        Ok(out)
    }

    fn thing(&mut self, scope: &Scope, name: &str) -> Result<Option<ThingRow>, Error> {
        self.row(scope, Kind::Thing, name)
    }

    fn things_of_principal(
        &mut self,
        scope: &Scope,
        principal: &str,
    ) -> Result<Vec<(String, String)>, Error> {
        self.all_links(scope, LinkEnd::To(LinkKind::ThingPrincipal, principal))
    }
}
