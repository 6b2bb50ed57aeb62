//! The operations on policy versions, things, thing types and tags, in boto3's names.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{enum_arg, list_request, marker_request, page_value, to_value, ListArgs};
use crate::registry::{AttributePayload, ListRequest, Page, Tag, ThingFilter, ThingPrincipalType};
use crate::Error;

params! {
    /// `maxResults` and `nextToken` as a [`ListRequest`] (names ascending).
    #[derive(Default)]
    pub(super) struct Token {
        pub(super) next_token: Option<String>,
        pub(super) max_results: Option<i64>,
    }
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
    super::page_json(page, key, "nextToken")
}

params! {
    struct PolicyVersionArgs {
        policy_name: String,
        policy_version_id: String,
    }
}

operations! {
    pub(super) fn create_policy_version(reg, now, a: {
        policy_name: String,
        policy_document: String,
        set_as_default: Option<bool>,
    }) {
        to_value(&reg.create_policy_version(
            &a.policy_name,
            &a.policy_document,
            a.set_as_default.unwrap_or(false),
            now,
        )?)
    }

    pub(super) fn get_policy_version(reg, _, a: PolicyVersionArgs) {
        to_value(&reg.get_policy_version(&a.policy_name, &a.policy_version_id)?)
    }

    pub(super) fn list_policy_versions(reg, _, a: { policy_name: String }) {
        Ok(json!({"policyVersions": to_value(&reg.list_policy_versions(&a.policy_name)?)?}))
    }

    pub(super) fn set_default_policy_version(reg, now, a: PolicyVersionArgs) {
        reg.set_default_policy_version(&a.policy_name, &a.policy_version_id, now)?;
        Ok(json!({}))
    }

    pub(super) fn delete_policy_version(reg, now, a: PolicyVersionArgs) {
        reg.delete_policy_version(&a.policy_name, &a.policy_version_id, now)?;
        Ok(json!({}))
    }

    pub(super) fn list_policies(reg, _, a: ListArgs) {
        page_value(reg.list_policies(&a.request(true)?)?, "policies")
    }

    pub(super) fn list_targets_for_policy(reg, _, a: {
        policy_name: String,
        marker: Option<String>,
        page_size: Option<i64>,
    }) {
        let req = list_request("pageSize", a.page_size, a.marker, true)?;
        page_value(
            reg.list_targets_for_policy(&a.policy_name, &req)?,
            "targets",
        )
    }

    pub(super) fn list_principal_policies(reg, _, a: {
        principal: String,
        marker: Option<String>,
        page_size: Option<i64>,
        ascending_order: Option<bool>,
    }) {
        let req = marker_request(a.page_size, a.marker, a.ascending_order, true)?;
        page_value(reg.list_principal_policies(&a.principal, &req)?, "policies")
    }
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

operations! {
    pub(super) fn get_effective_policies(reg, _, a: {
        principal: Option<String>,
        cognito_identity_pool_id: Option<String>,
        thing_name: Option<String>,
    }) {
        let principal = certificate_principal(a.principal, a.cognito_identity_pool_id.as_deref())?;
        Ok(
            json!({"effectivePolicies": to_value(&reg.get_effective_policies(&principal, a.thing_name.as_deref())?)?}),
        )
    }
}

params! {
    /// An `attributePayload` (CreateThing, UpdateThing, CreateThingGroup).
    pub(super) struct Payload {
        #[serde(default)]
        attributes: BTreeMap<String, String>,
        merge: Option<bool>,
    }
}

impl From<Payload> for AttributePayload {
    fn from(p: Payload) -> Self {
        AttributePayload {
            attributes: p.attributes,
            merge: p.merge.unwrap_or(false),
        }
    }
}

operations! {
    pub(super) fn create_thing(reg, now, a: {
        thing_name: String,
        thing_type_name: Option<String>,
        attribute_payload: Option<Payload>,
        billing_group_name: Option<String>,
    }) {
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
}

params! {
    struct ThingName {
        thing_name: String,
    }
}

operations! {
    pub(super) fn describe_thing(reg, _, a: ThingName) {
        to_value(&reg.describe_thing(&a.thing_name)?)
    }

    pub(super) fn update_thing(reg, now, a: {
        thing_name: String,
        thing_type_name: Option<String>,
        attribute_payload: Option<Payload>,
        expected_version: Option<u64>,
        remove_thing_type: Option<bool>,
    }) {
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

    pub(super) fn delete_thing(reg, _, a: { thing_name: String, expected_version: Option<u64> }) {
        reg.delete_thing(&a.thing_name, a.expected_version)?;
        Ok(json!({}))
    }

    pub(super) fn list_things(reg, _, a: {
        next_token: Option<String>,
        max_results: Option<i64>,
        attribute_name: Option<String>,
        attribute_value: Option<String>,
        thing_type_name: Option<String>,
        use_prefix_attribute_value: Option<bool>,
    }) {
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
}

params! {
    struct ThingPrincipal {
        thing_name: String,
        principal: String,
        thing_principal_type: Option<String>,
    }
}

operations! {
    pub(super) fn attach_thing_principal(reg, _, a: ThingPrincipal) {
        let kind =
            enum_arg::<ThingPrincipalType>(a.thing_principal_type.as_deref())?.unwrap_or_default();
        reg.attach_thing_principal(&a.thing_name, &a.principal, kind)?;
        Ok(json!({}))
    }

    pub(super) fn detach_thing_principal(reg, _, a: ThingPrincipal) {
        if a.thing_principal_type.is_some() {
            return Err(Error::InvalidRequest(
                "detach_thing_principal takes thingName and principal".into(),
            ));
        }
        reg.detach_thing_principal(&a.thing_name, &a.principal)?;
        Ok(json!({}))
    }
}

params! {
    /// A thing and a page of what is linked to it (ListThingPrincipals,
    /// ListThingGroupsForThing).
    pub(super) struct ThingPage {
        pub(super) thing_name: String,
        next_token: Option<String>,
        max_results: Option<i64>,
    }
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

operations! {
    pub(super) fn list_thing_principals(reg, _, a: ThingPage) {
        let (thing, req) = a.request()?;
        token_value(reg.list_thing_principals(&thing, &req)?, "principals")
    }

    pub(super) fn list_principal_things(reg, _, a: {
        principal: String,
        next_token: Option<String>,
        max_results: Option<i64>,
    }) {
        let req = token_request(a.next_token, a.max_results)?;
        token_value(reg.list_principal_things(&a.principal, &req)?, "things")
    }
}
params! {
    struct ThingTypeProperties {
        thing_type_description: Option<String>,
        #[serde(default)]
        searchable_attributes: Vec<String>,
    }
}

operations! {
    pub(super) fn create_thing_type(reg, now, a: {
        thing_type_name: String,
        thing_type_properties: Option<ThingTypeProperties>,
        tags: Option<Vec<Tag>>,
    }) {
        let props = a.thing_type_properties.unwrap_or(ThingTypeProperties {
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
}

params! {
    struct ThingTypeName {
        thing_type_name: String,
    }
}

operations! {
    pub(super) fn describe_thing_type(reg, _, a: ThingTypeName) {
        to_value(&reg.describe_thing_type(&a.thing_type_name)?)
    }

    pub(super) fn deprecate_thing_type(reg, now, a: { thing_type_name: String, undo_deprecate: Option<bool> }) {
        reg.deprecate_thing_type(&a.thing_type_name, a.undo_deprecate.unwrap_or(false), now)?;
        Ok(json!({}))
    }

    pub(super) fn delete_thing_type(reg, _, a: ThingTypeName) {
        reg.delete_thing_type(&a.thing_type_name)?;
        Ok(json!({}))
    }

    pub(super) fn list_thing_types(reg, _, a: {
        next_token: Option<String>,
        max_results: Option<i64>,
        thing_type_name: Option<String>,
    }) {
        let req = token_request(a.next_token, a.max_results)?;
        token_value(
            reg.list_thing_types(a.thing_type_name.as_deref(), &req)?,
            "thingTypes",
        )
    }

    pub(super) fn tag_resource(reg, _, a: { resource_arn: String, tags: Vec<Tag> }) {
        reg.tag_resource(&a.resource_arn, &a.tags)?;
        Ok(json!({}))
    }

    pub(super) fn untag_resource(reg, _, a: { resource_arn: String, tag_keys: Vec<String> }) {
        reg.untag_resource(&a.resource_arn, &a.tag_keys)?;
        Ok(json!({}))
    }

    pub(super) fn list_tags_for_resource(reg, _, a: { resource_arn: String, next_token: Option<String> }) {
        let req = token_request(
            a.next_token,
            Some(i64::from(crate::registry::MAX_PAGE_SIZE)),
        )?;
        token_value(reg.list_tags_for_resource(&a.resource_arn, &req)?, "tags")
    }

    pub(super) fn test_authorization(reg, now, a: {
        principal: Option<String>,
        cognito_identity_pool_id: Option<String>,
        auth_infos: Vec<crate::policy::AuthInfo>,
        client_id: Option<String>,
        #[serde(default)]
        policy_names_to_add: Vec<String>,
        #[serde(default)]
        policy_names_to_skip: Vec<String>,
    }) {
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
}
