//! Static thing groups, as far as provisioning templates need them (a JITP template's
//! `ThingGroups` must name existing groups): create, describe, delete, list, and a
//! thing's membership ([thing groups](https://docs.aws.amazon.com/iot/latest/developerguide/thing-groups.html)).
//! Policies attached to thing groups are not part of jitr's authorization.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::list::{self, list_by_link, ListRequest, Page};
use super::thing::{validate_thing_name, Membership};
use super::{AttributePayload, Registry};
use crate::error::{Error, ResourceKind};
use crate::store::{Change, Kind, LinkEnd, LinkKind, NamePage, Reader, ResourceReads};
use crate::time::{as_epoch_seconds, Timestamp};

/// A thing group as the store keeps it.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingGroupRow {
    /// The name.
    pub thing_group_name: String,
    /// A UUID, fixed at creation.
    pub thing_group_id: String,
    /// Its parent, if any.
    pub parent_group_name: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Its attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// 1, +1 at every update.
    pub version: u64,
    /// When it was created.
    pub creation_date: Timestamp,
}

/// A group's name and ARN (ListThingGroups, ListThingGroupsForThing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupNameAndArn {
    /// The name.
    pub group_name: String,
    /// The ARN.
    pub group_arn: String,
}

/// DescribeThingGroup's output.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ThingGroupDescription {
    /// The name.
    pub thing_group_name: String,
    /// The ID.
    pub thing_group_id: String,
    /// The ARN.
    pub thing_group_arn: String,
    /// The version.
    pub version: u64,
    /// Description and attributes.
    pub thing_group_properties: serde_json::Value,
    /// Parent and creation date.
    pub thing_group_metadata: serde_json::Value,
}

fn group_not_found(name: &str) -> Error {
    Error::not_found(ResourceKind::ThingGroup, name)
}

impl Registry {
    /// Nothing if the thing group `name` exists, else its ResourceNotFoundException.
    fn group_exists(&self, r: &mut dyn Reader, name: &str) -> Result<(), Error> {
        r.resource(&self.scope, Kind::ThingGroup, name)?
            .map(drop)
            .ok_or_else(|| group_not_found(name))
    }

    fn group_arn(&self, name: &str) -> String {
        self.scope.arn_of("thinggroup", name)
    }

    /// CreateThingGroup: a static group, under `parent` if given. Creating an existing
    /// group with the same configuration returns it.
    pub fn create_thing_group(
        &self,
        name: &str,
        parent: Option<&str>,
        description: Option<&str>,
        attributes: &AttributePayload,
        now: Timestamp,
    ) -> Result<GroupNameAndArn, Error> {
        validate_thing_name(name, "thing group name")?;
        let arn = self.group_arn(name);
        self.commit(|r| {
            if let Some(g) = r.row::<ThingGroupRow>(&self.scope, Kind::ThingGroup, name)? {
                if g.parent_group_name.as_deref() == parent
                    && g.description.as_deref() == description
                    && g.attributes == attributes.attributes
                {
                    return Ok((
                        GroupNameAndArn {
                            group_name: name.to_string(),
                            group_arn: arn.clone(),
                        },
                        Vec::new(),
                    ));
                }
                return Err(Error::ResourceAlreadyExists {
                    resource: ResourceKind::ThingGroup,
                    message: format!(
                        "the thing group {name} already exists with another configuration"
                    ),
                    resource_id: g.thing_group_id,
                    resource_arn: arn.clone(),
                });
            }
            if let Some(p) = parent {
                self.group_exists(r, p)?;
            }
            let row = ThingGroupRow {
                thing_group_name: name.to_string(),
                thing_group_id: super::new_generation_id(),
                parent_group_name: parent.map(str::to_string),
                description: description.map(str::to_string),
                attributes: attributes.attributes.clone(),
                version: 1,
                creation_date: now,
            };
            Ok((
                GroupNameAndArn {
                    group_name: name.to_string(),
                    group_arn: arn.clone(),
                },
                vec![Change::ThingGroupCreated(row)],
            ))
        })
    }

    /// DescribeThingGroup.
    pub fn describe_thing_group(&self, name: &str) -> Result<ThingGroupDescription, Error> {
        let g: ThingGroupRow = self
            .read(|r| r.row(&self.scope, Kind::ThingGroup, name))?
            .ok_or_else(|| group_not_found(name))?;
        let mut props = serde_json::json!({"attributePayload": {"attributes": g.attributes}});
        if let Some(d) = &g.description {
            props["thingGroupDescription"] = d.clone().into();
        }
        let mut meta = serde_json::json!({
            "creationDate": serde_json::to_value(EpochSeconds(g.creation_date)).unwrap_or_default()
        });
        if let Some(p) = &g.parent_group_name {
            meta["parentGroupName"] = p.clone().into();
        }
        Ok(ThingGroupDescription {
            thing_group_arn: self.group_arn(&g.thing_group_name),
            thing_group_name: g.thing_group_name,
            thing_group_id: g.thing_group_id,
            version: g.version,
            thing_group_properties: props,
            thing_group_metadata: meta,
        })
    }

    /// DeleteThingGroup: a group that does not exist is deleted already; a group with
    /// child groups is refused. Its things leave it.
    pub fn delete_thing_group(
        &self,
        name: &str,
        expected_version: Option<u64>,
    ) -> Result<(), Error> {
        self.commit(|r| {
            let Some(g) = r.row::<ThingGroupRow>(&self.scope, Kind::ThingGroup, name)? else {
                return Ok(((), Vec::new()));
            };
            let group = format_args!("the thing group {name}");
            super::check_version(group, expected_version, g.version, "")?;
            let groups: Vec<ThingGroupRow> =
                r.rows(&self.scope, Kind::ThingGroup, &NamePage::all())?;
            if groups
                .iter()
                .any(|c| c.parent_group_name.as_deref() == Some(name))
            {
                return Err(Error::InvalidRequest(format!(
                    "the thing group {name} has child groups; delete them first"
                )));
            }
            let mut changes = self.memberships_ended(r, Membership::OfGroup(name))?;
            changes.extend(Self::untag_all(r, self, &self.group_arn(name))?);
            changes.push(Change::ThingGroupDeleted {
                thing_group_name: name.to_string(),
            });
            Ok(((), changes))
        })
    }

    /// ListThingGroups: by name; children of `parent` only (all descendants with
    /// `recursive`), names starting with `prefix` only.
    pub fn list_thing_groups(
        &self,
        parent: Option<&str>,
        prefix: Option<&str>,
        recursive: bool,
        req: &ListRequest,
    ) -> Result<Page<GroupNameAndArn>, Error> {
        let (page, size) = list::name_query_ascending(req)?;
        let groups: Vec<ThingGroupRow> =
            self.read(|r| r.rows(&self.scope, Kind::ThingGroup, &NamePage::all()))?;
        let by_name: BTreeMap<&str, &ThingGroupRow> = groups
            .iter()
            .map(|g| (g.thing_group_name.as_str(), g))
            .collect();
        if let Some(p) = parent {
            if !by_name.contains_key(p) {
                return Err(group_not_found(p));
            }
        }
        let under = |g: &ThingGroupRow| -> bool {
            let Some(p) = parent else { return true };
            let mut at = g.parent_group_name.as_deref();
            while let Some(a) = at {
                if a == p {
                    return true;
                }
                if !recursive {
                    return false;
                }
                at = by_name.get(a).and_then(|x| x.parent_group_name.as_deref());
            }
            false
        };
        let names: Vec<String> = groups
            .iter()
            .filter(|g| under(g))
            .filter(|g| prefix.is_none_or(|p| g.thing_group_name.starts_with(p)))
            .map(|g| g.thing_group_name.clone())
            .filter(|n| page.after.as_ref().is_none_or(|a| n > a))
            .take(page.limit)
            .collect();
        Ok(list::name_cut(names, size, |n| GroupNameAndArn {
            group_arn: self.group_arn(&n),
            group_name: n,
        }))
    }

    /// AddThingToThingGroup.
    pub fn add_thing_to_thing_group(&self, group: &str, thing: &str) -> Result<(), Error> {
        self.commit(|r| {
            Self::membership_checks(r, self, group, thing)?;
            let already = r
                .all_links(&self.scope, LinkEnd::From(LinkKind::ThingInGroup, thing))?
                .iter()
                .any(|(g, _)| g == group);
            let changes = super::change_if(!already, || Change::ThingAddedToGroup {
                thing_name: thing.to_string(),
                thing_group_name: group.to_string(),
            });
            Ok(((), changes))
        })
    }

    /// RemoveThingFromThingGroup.
    pub fn remove_thing_from_thing_group(&self, group: &str, thing: &str) -> Result<(), Error> {
        self.commit(|r| {
            Self::membership_checks(r, self, group, thing)?;
            Ok((
                (),
                vec![Change::ThingRemovedFromGroup {
                    thing_name: thing.to_string(),
                    thing_group_name: group.to_string(),
                }],
            ))
        })
    }

    fn membership_checks(
        r: &mut dyn Reader,
        reg: &Registry,
        group: &str,
        thing: &str,
    ) -> Result<(), Error> {
        reg.group_exists(r, group)?;
        reg.thing_row(r, thing).map(drop)
    }
}

list_by_link! {
    /// ListThingGroupsForThing.
    fn list_thing_groups_for_thing(reg, thing) -> GroupNameAndArn, name_query_ascending,
        From(ThingInGroup), exists |r| reg.thing_row(r, thing).map(drop),
        item |n| GroupNameAndArn { group_arn: reg.group_arn(&n), group_name: n };

    /// ListThingsInThingGroup (direct members).
    fn list_things_in_thing_group(reg, group) -> String, name_query_ascending, To(ThingInGroup),
        exists |r| reg.group_exists(r, group), item |n| n;
}

/// A timestamp as the AWS CLI prints dates.
struct EpochSeconds(Timestamp);

impl Serialize for EpochSeconds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        as_epoch_seconds(&self.0, s)
    }
}
