//! The operations on policy versions, things, thing types and tags, in boto3's names.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{enum_arg, list_request, marker_request, page_value, parse, to_value, ListArgs};
use crate::registry::{
    AttributePayload, ListRequest, Page, Registry, Tag, ThingFilter, ThingPrincipalType,
};
use crate::{Error, Timestamp};

/// `maxResults` and `nextToken` as a [`ListRequest`] (names ascending).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Token {
    pub(super) next_token: Option<String>,
    pub(super) max_results: Option<i64>,
}

impl Token {
    pub(super) fn request(self) -> Result<ListRequest, Error> {
        token_request(self.next_token, self.max_results)
    }
}

/// `nextToken` and `maxResults` as a [`ListRequest`] (names ascending).
pub(super) fn token_request(
    next_token: Option<String>,
    max_results: Option<i64>,
) -> Result<ListRequest, Error> {
    list_request("maxResults", max_results, next_token, true)
}

/// A page as `{key: [...], "nextToken": ...}`.
pub(super) fn token_value<T: serde::Serialize>(page: Page<T>, key: &str) -> Result<Value, Error> {
    let mut out = Map::new();
    out.insert(key.into(), to_value(&page.items)?);
    if let Some(t) = page.next_marker {
        out.insert("nextToken".into(), Value::String(t));
    }
    Ok(Value::Object(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyVersionArgs {
    policy_name: String,
    policy_version_id: String,
}

pub(super) fn create_policy_version(
    reg: &Registry,
    p: &Value,
    now: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        policy_name: String,
        policy_document: String,
        set_as_default: Option<bool>,
    }
    let a: A = parse(p)?;
    to_value(&reg.create_policy_version(
        &a.policy_name,
        &a.policy_document,
        a.set_as_default.unwrap_or(false),
        now,
    )?)
}

pub(super) fn get_policy_version(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: PolicyVersionArgs = parse(p)?;
    to_value(&reg.get_policy_version(&a.policy_name, &a.policy_version_id)?)
}

pub(super) fn list_policy_versions(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        policy_name: String,
    }
    let a: A = parse(p)?;
    Ok(json!({"policyVersions": to_value(&reg.list_policy_versions(&a.policy_name)?)?}))
}

pub(super) fn set_default_policy_version(
    reg: &Registry,
    p: &Value,
    now: Timestamp,
) -> Result<Value, Error> {
    let a: PolicyVersionArgs = parse(p)?;
    reg.set_default_policy_version(&a.policy_name, &a.policy_version_id, now)?;
    Ok(json!({}))
}

pub(super) fn delete_policy_version(
    reg: &Registry,
    p: &Value,
    now: Timestamp,
) -> Result<Value, Error> {
    let a: PolicyVersionArgs = parse(p)?;
    reg.delete_policy_version(&a.policy_name, &a.policy_version_id, now)?;
    Ok(json!({}))
}

pub(super) fn list_policies(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ListArgs = parse(p)?;
    page_value(reg.list_policies(&a.request(true)?)?, "policies")
}

pub(super) fn list_targets_for_policy(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        policy_name: String,
        marker: Option<String>,
        page_size: Option<i64>,
    }
    let a: A = parse(p)?;
    let req = list_request("pageSize", a.page_size, a.marker, true)?;
    page_value(
        reg.list_targets_for_policy(&a.policy_name, &req)?,
        "targets",
    )
}

pub(super) fn list_principal_policies(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        principal: String,
        marker: Option<String>,
        page_size: Option<i64>,
        ascending_order: Option<bool>,
    }
    let a: A = parse(p)?;
    let req = marker_request(a.page_size, a.marker, a.ascending_order, true)?;
    page_value(reg.list_principal_policies(&a.principal, &req)?, "policies")
}

/// The principal of GetEffectivePolicies and TestAuthorization: a certificate ARN, as
/// jitr has no Amazon Cognito identities.
fn certificate_principal(
    principal: Option<String>,
    cognito_identity_pool_id: Option<&str>,
) -> Result<String, Error> {
    if cognito_identity_pool_id.is_some() {
        return Err(Error::InvalidRequest(
            "jitr has no Amazon Cognito identities; give a certificate ARN as principal".into(),
        ));
    }
    principal
        .ok_or_else(|| Error::InvalidRequest("principal (a certificate ARN) is required".into()))
}

pub(super) fn get_effective_policies(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        principal: Option<String>,
        cognito_identity_pool_id: Option<String>,
        thing_name: Option<String>,
    }
    let a: A = parse(p)?;
    let principal = certificate_principal(a.principal, a.cognito_identity_pool_id.as_deref())?;
    Ok(
        json!({"effectivePolicies": to_value(&reg.get_effective_policies(&principal, a.thing_name.as_deref())?)?}),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Payload {
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    merge: Option<bool>,
}

impl From<Payload> for AttributePayload {
    fn from(p: Payload) -> Self {
        AttributePayload {
            attributes: p.attributes,
            merge: p.merge.unwrap_or(false),
        }
    }
}

pub(super) fn create_thing(reg: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        thing_name: String,
        thing_type_name: Option<String>,
        attribute_payload: Option<Payload>,
        billing_group_name: Option<String>,
    }
    let a: A = parse(p)?;
    let attrs = a
        .attribute_payload
        .map(AttributePayload::from)
        .unwrap_or_default();
    to_value(&reg.create_thing(
        &a.thing_name,
        a.thing_type_name.as_deref(),
        &attrs,
        a.billing_group_name.as_deref(),
        now,
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ThingName {
    thing_name: String,
}

pub(super) fn describe_thing(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ThingName = parse(p)?;
    to_value(&reg.describe_thing(&a.thing_name)?)
}

pub(super) fn update_thing(reg: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        thing_name: String,
        thing_type_name: Option<String>,
        attribute_payload: Option<Payload>,
        expected_version: Option<u64>,
        remove_thing_type: Option<bool>,
    }
    let a: A = parse(p)?;
    let attrs = a.attribute_payload.map(AttributePayload::from);
    reg.update_thing(
        &a.thing_name,
        a.thing_type_name.as_deref(),
        a.remove_thing_type.unwrap_or(false),
        attrs.as_ref(),
        a.expected_version,
        now,
    )?;
    Ok(json!({}))
}

pub(super) fn delete_thing(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        thing_name: String,
        expected_version: Option<u64>,
    }
    let a: A = parse(p)?;
    reg.delete_thing(&a.thing_name, a.expected_version)?;
    Ok(json!({}))
}

pub(super) fn list_things(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        next_token: Option<String>,
        max_results: Option<i64>,
        attribute_name: Option<String>,
        attribute_value: Option<String>,
        thing_type_name: Option<String>,
        use_prefix_attribute_value: Option<bool>,
    }
    let a: A = parse(p)?;
    if a.use_prefix_attribute_value == Some(true) {
        return Err(Error::InvalidRequest(
            "jitr filters by an attribute's whole value; usePrefixAttributeValue is not supported"
                .into(),
        ));
    }
    if a.attribute_value.is_some() && a.attribute_name.is_none() {
        return Err(Error::InvalidRequest(
            "attributeValue needs attributeName".into(),
        ));
    }
    let req = token_request(a.next_token, a.max_results)?;
    let filter = ThingFilter {
        attribute_name: a.attribute_name,
        attribute_value: a.attribute_value,
        thing_type_name: a.thing_type_name,
    };
    token_value(reg.list_things(&filter, &req)?, "things")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ThingPrincipal {
    thing_name: String,
    principal: String,
    thing_principal_type: Option<String>,
}

pub(super) fn attach_thing_principal(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    let a: ThingPrincipal = parse(p)?;
    let kind =
        enum_arg::<ThingPrincipalType>(a.thing_principal_type.as_deref())?.unwrap_or_default();
    reg.attach_thing_principal(&a.thing_name, &a.principal, kind)?;
    Ok(json!({}))
}

pub(super) fn detach_thing_principal(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    let a: ThingPrincipal = parse(p)?;
    if a.thing_principal_type.is_some() {
        return Err(Error::InvalidRequest(
            "detach_thing_principal takes thingName and principal".into(),
        ));
    }
    reg.detach_thing_principal(&a.thing_name, &a.principal)?;
    Ok(json!({}))
}

/// A thing and a page of what is linked to it (ListThingPrincipals,
/// ListThingGroupsForThing).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ThingPage {
    pub(super) thing_name: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

impl ThingPage {
    /// The thing's name and the page asked for.
    pub(super) fn request(self) -> Result<(String, ListRequest), Error> {
        Ok((
            self.thing_name,
            token_request(self.next_token, self.max_results)?,
        ))
    }
}

pub(super) fn list_thing_principals(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    let (thing, req) = parse::<ThingPage>(p)?.request()?;
    token_value(reg.list_thing_principals(&thing, &req)?, "principals")
}

pub(super) fn list_principal_things(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        principal: String,
        next_token: Option<String>,
        max_results: Option<i64>,
    }
    let a: A = parse(p)?;
    let req = token_request(a.next_token, a.max_results)?;
    token_value(reg.list_principal_things(&a.principal, &req)?, "things")
}

pub(super) fn create_thing_type(reg: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Props {
        thing_type_description: Option<String>,
        #[serde(default)]
        searchable_attributes: Vec<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        thing_type_name: String,
        thing_type_properties: Option<Props>,
        tags: Option<Vec<Tag>>,
    }
    let a: A = parse(p)?;
    let props = a.thing_type_properties.unwrap_or(Props {
        thing_type_description: None,
        searchable_attributes: Vec::new(),
    });
    let out = reg.create_thing_type(
        &a.thing_type_name,
        props.thing_type_description.as_deref(),
        &props.searchable_attributes,
        now,
    )?;
    if let Some(tags) = a.tags.filter(|t| !t.is_empty()) {
        reg.tag_resource(&out.thing_type_arn, &tags)?;
    }
    to_value(&out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ThingTypeName {
    thing_type_name: String,
}

pub(super) fn describe_thing_type(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ThingTypeName = parse(p)?;
    to_value(&reg.describe_thing_type(&a.thing_type_name)?)
}

pub(super) fn deprecate_thing_type(
    reg: &Registry,
    p: &Value,
    now: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        thing_type_name: String,
        undo_deprecate: Option<bool>,
    }
    let a: A = parse(p)?;
    reg.deprecate_thing_type(&a.thing_type_name, a.undo_deprecate.unwrap_or(false), now)?;
    Ok(json!({}))
}

pub(super) fn delete_thing_type(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ThingTypeName = parse(p)?;
    reg.delete_thing_type(&a.thing_type_name)?;
    Ok(json!({}))
}

pub(super) fn list_thing_types(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        next_token: Option<String>,
        max_results: Option<i64>,
        thing_type_name: Option<String>,
    }
    let a: A = parse(p)?;
    let req = token_request(a.next_token, a.max_results)?;
    token_value(
        reg.list_thing_types(a.thing_type_name.as_deref(), &req)?,
        "thingTypes",
    )
}

pub(super) fn tag_resource(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        resource_arn: String,
        tags: Vec<Tag>,
    }
    let a: A = parse(p)?;
    reg.tag_resource(&a.resource_arn, &a.tags)?;
    Ok(json!({}))
}

pub(super) fn untag_resource(reg: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        resource_arn: String,
        tag_keys: Vec<String>,
    }
    let a: A = parse(p)?;
    reg.untag_resource(&a.resource_arn, &a.tag_keys)?;
    Ok(json!({}))
}

pub(super) fn list_tags_for_resource(
    reg: &Registry,
    p: &Value,
    _: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        resource_arn: String,
        next_token: Option<String>,
    }
    let a: A = parse(p)?;
    let req = token_request(
        a.next_token,
        Some(i64::from(crate::registry::MAX_PAGE_SIZE)),
    )?;
    token_value(reg.list_tags_for_resource(&a.resource_arn, &req)?, "tags")
}

pub(super) fn test_authorization(
    reg: &Registry,
    p: &Value,
    now: Timestamp,
) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        principal: Option<String>,
        cognito_identity_pool_id: Option<String>,
        auth_infos: Vec<crate::policy::AuthInfo>,
        client_id: Option<String>,
        #[serde(default)]
        policy_names_to_add: Vec<String>,
        #[serde(default)]
        policy_names_to_skip: Vec<String>,
    }
    let a: A = parse(p)?;
    let principal = certificate_principal(a.principal, a.cognito_identity_pool_id.as_deref())?;
    reg.test_authorization(
        &principal,
        a.client_id.as_deref(),
        &a.auth_infos,
        &a.policy_names_to_add,
        &a.policy_names_to_skip,
        now,
    )
}
