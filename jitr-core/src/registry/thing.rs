//! Things, thing types, the principals attached to things, and tags (docs/behaviour.md
//! §12), with AWS IoT's names, patterns and limits:
//!
//! - [CreateThing](https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html)
//!   is idempotent for the same configuration and `ResourceAlreadyExistsException` for
//!   another; a thing has at most 3 attributes without a thing type and 50 with one
//!   ([quotas](https://docs.aws.amazon.com/general/latest/gr/iot-core.html)).
//! - [UpdateThing](https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateThing.html)
//!   checks `expectedVersion` (`VersionConflictException`); `attributePayload.merge`
//!   adds and replaces attributes, and an empty value removes one; without `merge` the
//!   attributes are replaced.
//! - [DeleteThing](https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteThing.html)
//!   succeeds for a thing that does not exist; jitr refuses to delete a thing that still
//!   has principals attached (detach them first), as AWS's own tools do.
//! - [AttachThingPrincipal](https://docs.aws.amazon.com/iot/latest/apireference/API_AttachThingPrincipal.html):
//!   `EXCLUSIVE_THING` makes the thing the only one the principal is attached to.
//! - [DeleteThingType](https://docs.aws.amazon.com/iot/latest/apireference/API_DeleteThingType.html):
//!   only a deprecated type with no things.
//! - Tags ([TagResource](https://docs.aws.amazon.com/iot/latest/apireference/API_TagResource.html)):
//!   CA certificates, policies, thing types and provisioning templates; at most 50 per
//!   resource.

use std::collections::BTreeMap;

use serde::Serialize;

use super::list::{self, list_by_link, ListRequest, Page};
use super::Registry;
use crate::error::{Error, ResourceKind};
use crate::id::truncate_for_message;
use crate::store::{
    Change, Kind, LinkEnd, LinkKind, Reader, ResourceReads, ThingRow, ThingTypeRow,
};
use crate::time::{as_epoch_seconds, Timestamp};

/// Whose thing-group memberships: a thing's (its groups) or a group's (its things).
#[derive(Clone, Copy)]
pub(crate) enum Membership<'a> {
    /// The thing's.
    OfThing(&'a str),
    /// The group's.
    OfGroup(&'a str),
}

/// The most attributes of a thing without a type, and with one.
pub const MAX_THING_ATTRIBUTES: (usize, usize) = (3, 50);
/// The most tags on one resource.
pub const MAX_TAGS: usize = 50;

/// CreateThing's and UpdateThing's attributes: `merge` adds to the existing ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributePayload {
    /// Name → value; with `merge`, an empty value removes the attribute.
    pub attributes: BTreeMap<String, String>,
    /// Merge with the existing attributes instead of replacing them.
    pub merge: bool,
}

/// CreateThing's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateThingResponse {
    /// The name.
    pub thing_name: String,
    /// The ARN.
    pub thing_arn: String,
    /// The ID.
    pub thing_id: String,
}

/// DescribeThing's output.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingDescription {
    /// The client ID a device of this thing uses by default: its name.
    pub default_client_id: String,
    /// The name.
    pub thing_name: String,
    /// The ID.
    pub thing_id: String,
    /// The ARN.
    pub thing_arn: String,
    /// The type, if any.
    pub thing_type_name: Option<String>,
    /// The attributes.
    pub attributes: BTreeMap<String, String>,
    /// 1, +1 at every update.
    pub version: u64,
    /// The billing group, if any.
    pub billing_group_name: Option<String>,
}

/// An item of ListThings.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingSummary {
    /// The name.
    pub thing_name: String,
    /// The type, if any.
    pub thing_type_name: Option<String>,
    /// The ARN.
    pub thing_arn: String,
    /// The attributes.
    pub attributes: BTreeMap<String, String>,
    /// The version.
    pub version: u64,
}

/// ListThings' filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThingFilter {
    /// Only things with this attribute…
    pub attribute_name: Option<String>,
    /// …with this value.
    pub attribute_value: Option<String>,
    /// Only things of this type.
    pub thing_type_name: Option<String>,
}

/// DescribeThingType's output, and an item of ListThingTypes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingTypeDescription {
    /// The name.
    pub thing_type_name: String,
    /// The ID.
    pub thing_type_id: String,
    /// The ARN.
    pub thing_type_arn: String,
    /// The properties.
    pub thing_type_properties: ThingTypeProperties,
    /// Deprecation and creation.
    pub thing_type_metadata: ThingTypeMetadata,
}

/// A thing type's properties.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingTypeProperties {
    /// The description.
    pub thing_type_description: Option<String>,
    /// The searchable attributes (at most 3).
    pub searchable_attributes: Vec<String>,
}

/// A thing type's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingTypeMetadata {
    /// Whether it is deprecated.
    pub deprecated: bool,
    /// When it was deprecated.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_epoch_seconds"
    )]
    pub deprecation_date: Option<Timestamp>,
    /// When it was created.
    #[serde(serialize_with = "as_epoch_seconds")]
    pub creation_date: Timestamp,
}

fn opt_epoch_seconds<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => as_epoch_seconds(t, s),
        None => s.serialize_none(),
    }
}

/// CreateThingType's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateThingTypeResponse {
    /// The name.
    pub thing_type_name: String,
    /// The ARN.
    pub thing_type_arn: String,
    /// The ID.
    pub thing_type_id: String,
}

/// `EXCLUSIVE_THING` or `NON_EXCLUSIVE_THING` (the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThingPrincipalType {
    /// The thing is the only thing the principal is attached to.
    Exclusive,
    /// The principal may be attached to other things too.
    #[default]
    NonExclusive,
}

impl ThingPrincipalType {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exclusive => "EXCLUSIVE_THING",
            Self::NonExclusive => "NON_EXCLUSIVE_THING",
        }
    }
}

impl core::str::FromStr for ThingPrincipalType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let all = [Self::Exclusive, Self::NonExclusive];
        crate::id::parse_name(&all, Self::as_str, s, |s| {
            format!("{s:?} is not a thingPrincipalType; expected EXCLUSIVE_THING or NON_EXCLUSIVE_THING")
        })
    }
}

/// Checks a thing or thing type name: `[a-zA-Z0-9:_-]{1,128}`.
pub fn validate_thing_name(name: &str, what: &str) -> Result<(), Error> {
    let allowed = "letters, digits and :_-";
    super::check_name(name, format_args!("a {what}"), 128, ":_-", allowed)
}

pub(super) fn validate_attributes(attrs: &BTreeMap<String, String>) -> Result<(), Error> {
    for (k, v) in attrs {
        let allowed = "letters, digits and _.,@/:#-";
        super::check_name(k, "an attribute name", 128, "_.,@/:#-", allowed)?;
        let value_ok = v.len() <= 800
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.,@/:#=[]-".contains(&b));
        if !value_ok {
            return Err(Error::InvalidRequest(format!(
                "the value of attribute {k} is not an attribute value: at most 800 characters of letters, digits and _.,@/:#=[]-"
            )));
        }
    }
    Ok(())
}

fn check_attribute_count(count: usize, typed: bool) -> Result<(), Error> {
    let max = if typed {
        MAX_THING_ATTRIBUTES.1
    } else {
        MAX_THING_ATTRIBUTES.0
    };
    if count > max {
        return Err(Error::InvalidRequest(format!(
            "a thing {} a thing type has at most {max} attributes, not {count}",
            if typed { "with" } else { "without" }
        )));
    }
    Ok(())
}

fn thing_not_found(name: &str) -> Error {
    Error::not_found(ResourceKind::Thing, name)
}

fn thing_type_not_found(name: &str) -> Error {
    Error::not_found(ResourceKind::ThingType, name)
}

impl Registry {
    /// The thing `name`, else its ResourceNotFoundException.
    pub(super) fn thing_row(&self, r: &mut dyn Reader, name: &str) -> Result<ThingRow, Error> {
        r.thing(&self.scope, name)?
            .ok_or_else(|| thing_not_found(name))
    }

    /// The thing type `name`, else its ResourceNotFoundException.
    fn thing_type_row(&self, r: &mut dyn Reader, name: &str) -> Result<ThingTypeRow, Error> {
        r.row(&self.scope, Kind::ThingType, name)?
            .ok_or_else(|| thing_type_not_found(name))
    }

    /// The thing type `name`, usable for a thing (it exists and is not deprecated).
    fn usable_thing_type(r: &mut dyn Reader, reg: &Registry, name: &str) -> Result<(), Error> {
        let t = reg.thing_type_row(r, name)?;
        if t.deprecated {
            return Err(Error::InvalidRequest(format!(
                "the thing type {name} is deprecated; it cannot be given to a thing"
            )));
        }
        Ok(())
    }

    /// CreateThing.
    pub fn create_thing(
        &self,
        name: &str,
        thing_type_name: Option<&str>,
        attributes: &AttributePayload,
        billing_group_name: Option<&str>,
        now: Timestamp,
    ) -> Result<CreateThingResponse, Error> {
        validate_thing_name(name, "thing name")?;
        if let Some(t) = thing_type_name {
            validate_thing_name(t, "thing type name")?;
        }
        validate_attributes(&attributes.attributes)?;
        let attrs: BTreeMap<String, String> = attributes
            .attributes
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        check_attribute_count(attrs.len(), thing_type_name.is_some())?;
        let arn = self.scope.thing_arn(name);
        self.commit(|r| {
            if let Some(existing) = r.thing(&self.scope, name)? {
                let same = existing.thing_type_name.as_deref() == thing_type_name
                    && existing.attributes == attrs
                    && existing.billing_group_name.as_deref() == billing_group_name;
                if same {
                    return Ok((
                        CreateThingResponse {
                            thing_name: name.to_string(),
                            thing_arn: arn.clone(),
                            thing_id: existing.thing_id,
                        },
                        Vec::new(),
                    ));
                }
                return Err(Error::ResourceAlreadyExists {
                    resource: ResourceKind::Thing,
                    message: format!("the thing {name} already exists with another configuration"),
                    resource_id: existing.thing_id,
                    resource_arn: arn.clone(),
                });
            }
            if let Some(t) = thing_type_name {
                Self::usable_thing_type(r, self, t)?;
            }
            let row = ThingRow {
                thing_name: name.to_string(),
                thing_id: super::new_generation_id(),
                thing_type_name: thing_type_name.map(str::to_string),
                attributes: attrs.clone(),
                version: 1,
                billing_group_name: billing_group_name.map(str::to_string),
                creation_date: now,
            };
            Ok((
                CreateThingResponse {
                    thing_name: name.to_string(),
                    thing_arn: arn.clone(),
                    thing_id: row.thing_id.clone(),
                },
                vec![Change::ThingCreated(row)],
            ))
        })
    }

    /// DescribeThing.
    pub fn describe_thing(&self, name: &str) -> Result<ThingDescription, Error> {
        let t = self.read(|r| self.thing_row(r, name))?;
        Ok(ThingDescription {
            default_client_id: t.thing_name.clone(),
            thing_arn: self.scope.thing_arn(&t.thing_name),
            thing_name: t.thing_name,
            thing_id: t.thing_id,
            thing_type_name: t.thing_type_name,
            attributes: t.attributes,
            version: t.version,
            billing_group_name: t.billing_group_name,
        })
    }

    /// UpdateThing: the type (or `remove_thing_type`), the attributes, compare-and-set on
    /// `expected_version`.
    pub fn update_thing(
        &self,
        name: &str,
        thing_type_name: Option<&str>,
        remove_thing_type: bool,
        attributes: Option<&AttributePayload>,
        expected_version: Option<u64>,
        _now: Timestamp,
    ) -> Result<(), Error> {
        if thing_type_name.is_some() && remove_thing_type {
            return Err(Error::InvalidRequest(
                "thingTypeName and removeThingType cannot be given together".into(),
            ));
        }
        if let Some(t) = thing_type_name {
            validate_thing_name(t, "thing type name")?;
        }
        if let Some(a) = attributes {
            validate_attributes(&a.attributes)?;
        }
        self.commit(|r| {
            let before = self.thing_row(r, name)?;
            let thing = format_args!("the thing {name}");
            super::check_version(thing, expected_version, before.version, "")?;
            let mut after = before.clone();
            if let Some(t) = thing_type_name {
                if before.thing_type_name.as_deref() != Some(t) {
                    Self::usable_thing_type(r, self, t)?;
                }
                after.thing_type_name = Some(t.to_string());
            }
            if remove_thing_type {
                after.thing_type_name = None;
            }
            if let Some(a) = attributes {
                if !a.merge {
                    after.attributes.clear();
                }
                for (k, v) in &a.attributes {
                    if v.is_empty() {
                        after.attributes.remove(k);
                    } else {
                        after.attributes.insert(k.clone(), v.clone());
                    }
                }
            }
            check_attribute_count(after.attributes.len(), after.thing_type_name.is_some())?;
            after.version += 1;
            Ok(((), vec![Change::ThingUpdated { before, after }]))
        })
    }

    /// DeleteThing: succeeds for a thing that does not exist; refused while principals
    /// are attached or when `expected_version` is not the thing's version.
    pub fn delete_thing(&self, name: &str, expected_version: Option<u64>) -> Result<(), Error> {
        validate_thing_name(name, "thing name")?;
        self.commit(|r| {
            let Some(row) = r.thing(&self.scope, name)? else {
                return Ok(((), Vec::new()));
            };
            let thing = format_args!("the thing {name}");
            super::check_version(thing, expected_version, row.version, "")?;
            if r.has_links(&self.scope, LinkEnd::From(LinkKind::ThingPrincipal, name))? {
                return Err(Error::InvalidRequest(format!(
                    "the thing {name} has principals attached; detach them before deleting it"
                )));
            }
            // It leaves its groups with it.
            let mut changes = self.memberships_ended(r, Membership::OfThing(name))?;
            changes.push(Change::ThingDeleted(row));
            Ok(((), changes))
        })
    }

    /// ListThings: by name, with the attribute and type filters.
    pub fn list_things(
        &self,
        filter: &ThingFilter,
        req: &ListRequest,
    ) -> Result<Page<ThingSummary>, Error> {
        let (page, size) = list::name_query_ascending(req)?;
        let rows: Vec<ThingRow> = self.read(|r| {
            let names: Option<Vec<String>> = match (&filter.attribute_name, &filter.thing_type_name)
            {
                (Some(a), _) => {
                    let v = filter.attribute_value.as_deref().unwrap_or_default();
                    Some(
                        r.links(
                            &self.scope,
                            LinkEnd::From(LinkKind::ThingAttribute, &format!("{a}={v}")),
                            &page,
                        )?
                        .into_iter()
                        .map(|(n, _)| n)
                        .collect(),
                    )
                }
                (None, Some(t)) => Some(
                    r.links(&self.scope, LinkEnd::From(LinkKind::ThingOfType, t), &page)?
                        .into_iter()
                        .map(|(n, _)| n)
                        .collect(),
                ),
                (None, None) => None,
            };
            match names {
                None => r.rows(&self.scope, Kind::Thing, &page),
                Some(names) => {
                    let mut rows = Vec::new();
                    for n in names {
                        if let Some(t) = r.thing(&self.scope, &n)? {
                            rows.push(t);
                        }
                    }
                    Ok(rows)
                }
            }
        })?;
        // Both filters: the attribute chose the page; the type narrows it.
        let rows: Vec<ThingRow> = match (&filter.attribute_name, &filter.thing_type_name) {
            (Some(_), Some(t)) => rows
                .into_iter()
                .filter(|r| r.thing_type_name.as_deref() == Some(t))
                .collect(),
            _ => rows,
        };
        Ok(list::rows_cut(
            rows,
            size,
            |t| &t.thing_name,
            |t| ThingSummary {
                thing_arn: self.scope.thing_arn(&t.thing_name),
                thing_name: t.thing_name,
                thing_type_name: t.thing_type_name,
                attributes: t.attributes,
                version: t.version,
            },
        ))
    }

    /// AttachThingPrincipal: a registered certificate (by ARN) to a thing.
    pub fn attach_thing_principal(
        &self,
        thing_name: &str,
        principal: &str,
        kind: ThingPrincipalType,
    ) -> Result<(), Error> {
        let id = self.scope.parse_certificate_arn(principal)?;
        self.commit(|r| {
            self.thing_row(r, thing_name)?;
            if r.certificate(&self.scope, &id)?.is_none() {
                return Err(Self::cert_not_found(&id));
            }
            let things = r.things_of_principal(&self.scope, principal)?;
            let others: Vec<&(String, String)> =
                things.iter().filter(|(t, _)| t != thing_name).collect();
            if let Some((t, _)) = others
                .iter()
                .find(|(_, k)| k == ThingPrincipalType::Exclusive.as_str())
            {
                return Err(Error::InvalidRequest(format!(
                    "the principal is attached exclusively to the thing {t}"
                )));
            }
            if kind == ThingPrincipalType::Exclusive && !others.is_empty() {
                return Err(Error::InvalidRequest(format!(
                    "the principal is attached to {} other thing(s); an exclusive attachment needs it attached to none",
                    others.len()
                )));
            }
            let same = things
                .iter()
                .any(|(t, k)| t == thing_name && k == kind.as_str());
            let changes = super::change_if(!same, || Change::ThingPrincipalAttached {
                thing_name: thing_name.to_string(),
                principal: principal.to_string(),
                thing_principal_type: kind.as_str().to_string(),
            });
            Ok(((), changes))
        })
    }

    /// DetachThingPrincipal.
    pub fn detach_thing_principal(&self, thing_name: &str, principal: &str) -> Result<(), Error> {
        self.scope.parse_certificate_arn(principal)?;
        self.commit(|r| {
            self.thing_row(r, thing_name)?;
            let attached = r
                .things_of_principal(&self.scope, principal)?
                .iter()
                .any(|(t, _)| t == thing_name);
            let changes = super::change_if(attached, || Change::ThingPrincipalDetached {
                thing_name: thing_name.to_string(),
                principal: principal.to_string(),
            });
            Ok(((), changes))
        })
    }

    /// CreateThingType.
    pub fn create_thing_type(
        &self,
        name: &str,
        description: Option<&str>,
        searchable_attributes: &[String],
        now: Timestamp,
    ) -> Result<CreateThingTypeResponse, Error> {
        validate_thing_name(name, "thing type name")?;
        if searchable_attributes.len() > 3 {
            return Err(Error::InvalidRequest(
                "a thing type has at most 3 searchable attributes".into(),
            ));
        }
        if description.is_some_and(|d| d.chars().count() > 2028) {
            return Err(Error::InvalidRequest(
                "thingTypeDescription is longer than 2,028 characters".into(),
            ));
        }
        let arn = self.scope.thing_type_arn(name);
        self.commit(|r| {
            if let Some(existing) = r.row::<ThingTypeRow>(&self.scope, Kind::ThingType, name)? {
                return Err(Error::ResourceAlreadyExists {
                    resource: ResourceKind::ThingType,
                    message: format!("the thing type {name} already exists"),
                    resource_id: existing.thing_type_id,
                    resource_arn: arn.clone(),
                });
            }
            let row = ThingTypeRow {
                thing_type_name: name.to_string(),
                thing_type_id: super::new_generation_id(),
                description: description.map(str::to_string),
                searchable_attributes: searchable_attributes.to_vec(),
                deprecated: false,
                deprecation_date: None,
                creation_date: now,
            };
            Ok((
                CreateThingTypeResponse {
                    thing_type_name: name.to_string(),
                    thing_type_arn: arn.clone(),
                    thing_type_id: row.thing_type_id.clone(),
                },
                vec![Change::ThingTypeCreated(row)],
            ))
        })
    }

    fn type_description(&self, t: ThingTypeRow) -> ThingTypeDescription {
        ThingTypeDescription {
            thing_type_arn: self.scope.thing_type_arn(&t.thing_type_name),
            thing_type_name: t.thing_type_name,
            thing_type_id: t.thing_type_id,
            thing_type_properties: ThingTypeProperties {
                thing_type_description: t.description,
                searchable_attributes: t.searchable_attributes,
            },
            thing_type_metadata: ThingTypeMetadata {
                deprecated: t.deprecated,
                deprecation_date: t.deprecation_date,
                creation_date: t.creation_date,
            },
        }
    }

    /// DescribeThingType.
    pub fn describe_thing_type(&self, name: &str) -> Result<ThingTypeDescription, Error> {
        let t = self.read(|r| self.thing_type_row(r, name))?;
        Ok(self.type_description(t))
    }

    /// DeprecateThingType (or undeprecate it).
    pub fn deprecate_thing_type(
        &self,
        name: &str,
        undo: bool,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.commit(|r| {
            let mut t = self.thing_type_row(r, name)?;
            if t.deprecated != undo {
                return Ok(((), Vec::new()));
            }
            t.deprecated = !undo;
            t.deprecation_date = (!undo).then_some(now);
            Ok(((), vec![Change::ThingTypeUpdated(t)]))
        })
    }

    /// DeleteThingType: only a deprecated type no thing has.
    pub fn delete_thing_type(&self, name: &str) -> Result<(), Error> {
        self.commit(|r| {
            let t = self.thing_type_row(r, name)?;
            if !t.deprecated {
                return Err(Error::InvalidRequest(format!(
                    "the thing type {name} is not deprecated; deprecate it before deleting it"
                )));
            }
            if r.has_links(&self.scope, LinkEnd::From(LinkKind::ThingOfType, name))? {
                return Err(Error::InvalidRequest(format!(
                    "things still have the thing type {name}; change their type first"
                )));
            }
            let mut changes = vec![Change::ThingTypeDeleted {
                thing_type_name: name.to_string(),
            }];
            changes.extend(Self::untag_all(r, self, &self.scope.thing_type_arn(name))?);
            Ok(((), changes))
        })
    }

    /// ListThingTypes: by name; only `name` when given.
    pub fn list_thing_types(
        &self,
        name: Option<&str>,
        req: &ListRequest,
    ) -> Result<Page<ThingTypeDescription>, Error> {
        let (page, size) = list::name_query_ascending(req)?;
        let rows: Vec<ThingTypeRow> = self.read(|r| match name {
            Some(n) => Ok(r
                .row::<ThingTypeRow>(&self.scope, Kind::ThingType, n)?
                .into_iter()
                .collect()),
            None => r.rows(&self.scope, Kind::ThingType, &page),
        })?;
        Ok(list::rows_cut(
            rows,
            size,
            |t| &t.thing_type_name,
            |t| self.type_description(t),
        ))
    }

    /// Whether `arn` names an existing taggable resource of this account.
    fn check_taggable(&self, r: &mut dyn Reader, arn: &str) -> Result<(), Error> {
        let (kind, name) = self.scope.parse_arn(arn).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "{:?} is not an ARN of this account and region",
                truncate_for_message(arn)
            ))
        })?;
        let exists = match kind {
            "cacert" => r.ca(&self.scope, &name.parse()?)?.is_some(),
            "policy" => r.policy(&self.scope, name)?.is_some(),
            "thingtype" => r.resource(&self.scope, Kind::ThingType, name)?.is_some(),
            "thinggroup" => r.resource(&self.scope, Kind::ThingGroup, name)?.is_some(),
            "provisioningtemplate" => r
                .resource(&self.scope, Kind::ProvisioningTemplate, name)?
                .is_some(),
            other => {
                return Err(Error::InvalidRequest(format!(
                    "jitr tags CA certificates, policies, thing types, thing groups and provisioning templates, not {other} resources"
                )))
            }
        };
        if exists {
            return Ok(());
        }
        let resource = match kind {
            "cacert" => ResourceKind::CaCertificate,
            "policy" => ResourceKind::Policy,
            "thingtype" => ResourceKind::ThingType,
            "thinggroup" => ResourceKind::ThingGroup,
            _ => ResourceKind::ProvisioningTemplate,
        };
        Err(Error::not_found(resource, arn))
    }

    /// The tag changes that set `tags` on `arn` (in a transaction that checked it).
    pub(crate) fn tag_changes(
        r: &mut dyn Reader,
        reg: &Registry,
        arn: &str,
        tags: &[super::Tag],
    ) -> Result<Vec<Change>, Error> {
        let existing = r.all_links(&reg.scope, LinkEnd::From(LinkKind::Tag, arn))?;
        let mut keys: std::collections::BTreeSet<String> =
            existing.into_iter().map(|(k, _)| k).collect();
        for t in tags {
            if t.key.is_empty() || t.key.chars().count() > 128 || t.key.starts_with("aws:") {
                return Err(Error::InvalidRequest(format!(
                    "{:?} is not a tag key: 1 to 128 characters, not starting with aws:",
                    truncate_for_message(&t.key)
                )));
            }
            if t.value.as_ref().is_some_and(|v| v.chars().count() > 256) {
                return Err(Error::InvalidRequest(format!(
                    "the value of tag {} is longer than 256 characters",
                    t.key
                )));
            }
            keys.insert(t.key.clone());
        }
        if keys.len() > MAX_TAGS {
            return Err(Error::LimitExceeded(format!(
                "a resource has at most {MAX_TAGS} tags"
            )));
        }
        Ok(tags
            .iter()
            .map(|t| Change::Tagged {
                resource_arn: arn.to_string(),
                key: t.key.clone(),
                value: t.value.clone().unwrap_or_default(),
            })
            .collect())
    }

    /// The changes that end every membership of a thing or a group (when it is deleted).
    pub(crate) fn memberships_ended(
        &self,
        r: &mut dyn Reader,
        of: Membership<'_>,
    ) -> Result<Vec<Change>, Error> {
        let end = match of {
            Membership::OfThing(thing) => LinkEnd::From(LinkKind::ThingInGroup, thing),
            Membership::OfGroup(group) => LinkEnd::To(LinkKind::ThingInGroup, group),
        };
        Ok(r.all_links(&self.scope, end)?
            .into_iter()
            .map(|(other, _)| {
                let (thing_name, thing_group_name) = match of {
                    Membership::OfThing(thing) => (thing.to_string(), other),
                    Membership::OfGroup(group) => (other, group.to_string()),
                };
                Change::ThingRemovedFromGroup {
                    thing_name,
                    thing_group_name,
                }
            })
            .collect())
    }

    /// The changes that remove every tag of `arn` (when the resource is deleted).
    pub(crate) fn untag_all(
        r: &mut dyn Reader,
        reg: &Registry,
        arn: &str,
    ) -> Result<Vec<Change>, Error> {
        Ok(r.all_links(&reg.scope, LinkEnd::From(LinkKind::Tag, arn))?
            .into_iter()
            .map(|(key, _)| Change::Untagged {
                resource_arn: arn.to_string(),
                key,
            })
            .collect())
    }

    /// TagResource.
    pub fn tag_resource(&self, arn: &str, tags: &[super::Tag]) -> Result<(), Error> {
        self.commit(|r| {
            self.check_taggable(r, arn)?;
            Ok(((), Self::tag_changes(r, self, arn, tags)?))
        })
    }

    /// UntagResource.
    pub fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), Error> {
        self.commit(|r| {
            self.check_taggable(r, arn)?;
            let existing: std::collections::BTreeSet<String> = r
                .all_links(&self.scope, LinkEnd::From(LinkKind::Tag, arn))?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            Ok((
                (),
                keys.iter()
                    .filter(|k| existing.contains(*k))
                    .map(|k| Change::Untagged {
                        resource_arn: arn.to_string(),
                        key: k.clone(),
                    })
                    .collect(),
            ))
        })
    }

    /// ListTagsForResource.
    pub fn list_tags_for_resource(
        &self,
        arn: &str,
        req: &ListRequest,
    ) -> Result<Page<super::Tag>, Error> {
        let (page, size) = list::name_query_ascending(req)?;
        let tags = self.read(|r| {
            self.check_taggable(r, arn)?;
            r.links(&self.scope, LinkEnd::From(LinkKind::Tag, arn), &page)
        })?;
        let mut values: BTreeMap<String, String> = tags.into_iter().collect();
        let keys: Vec<String> = values.keys().cloned().collect();
        Ok(list::name_cut(keys, size, |k| {
            let v = values.remove(&k).unwrap_or_default();
            super::Tag {
                key: k,
                value: (!v.is_empty()).then_some(v),
            }
        }))
    }
}

list_by_link! {
    /// ListThingPrincipals: the principals' ARNs.
    fn list_thing_principals(reg, thing_name) -> String, name_query_ascending, From(ThingPrincipal),
        exists |r| reg.thing_row(r, thing_name).map(drop), item |p| p;

    /// ListPrincipalThings: the names of the things a principal is attached to.
    fn list_principal_things(reg, principal) -> String, name_query_ascending, To(ThingPrincipal),
        before reg.scope.parse_certificate_arn(principal), item |t| t;
}
