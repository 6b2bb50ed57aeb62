//! The operations on thing groups and provisioning templates, in boto3's names, and
//! jitr's `describe_provisioning_failure`.

use serde_json::{json, Value};

use super::resources::{token_request, token_value, Payload, ThingPage, Token};
use super::{id_arg, to_value};
use crate::registry::{AttributePayload, Registry, Tag};
use crate::Error;

params! {
    struct GroupProperties {
        thing_group_description: Option<String>,
        attribute_payload: Option<Payload>,
    }
}

operations! {
    pub(super) fn create_thing_group(reg, now, a: {
        thing_group_name: String,
        parent_group_name: Option<String>,
        thing_group_properties: Option<GroupProperties>,
        tags: Option<Vec<Tag>>,
    }) {
        let (description, attributes) = match a.thing_group_properties {
            Some(props) => (
                props.thing_group_description,
                props.attribute_payload.map(AttributePayload::from),
            ),
            None => (None, None),
        };
        let out = reg.create_thing_group(
            &a.thing_group_name,
            a.parent_group_name.as_deref(),
            description.as_deref(),
            &attributes.unwrap_or_default(),
            now,
        )?;
        if let Some(tags) = a.tags.filter(|t| !t.is_empty()) {
            reg.tag_resource(&out.group_arn, &tags)?;
        }
        let d = reg.describe_thing_group(&a.thing_group_name)?;
        Ok(json!({
            "thingGroupName": d.thing_group_name,
            "thingGroupArn": d.thing_group_arn,
            "thingGroupId": d.thing_group_id,
        }))
    }
}

params! {
    struct GroupName {
        thing_group_name: String,
    }
}

operations! {
    pub(super) fn describe_thing_group(reg, _, a: GroupName) {
        to_value(&reg.describe_thing_group(&a.thing_group_name)?)
    }

    pub(super) fn delete_thing_group(reg, _, a: { thing_group_name: String, expected_version: Option<u64> }) {
        reg.delete_thing_group(&a.thing_group_name, a.expected_version)?;
        Ok(json!({}))
    }

    pub(super) fn list_thing_groups(reg, _, a: {
        next_token: Option<String>,
        max_results: Option<i64>,
        parent_group: Option<String>,
        name_prefix_filter: Option<String>,
        recursive: Option<bool>,
    }) {
        let req = token_request(a.next_token, a.max_results)?;
        token_value(
            reg.list_thing_groups(
                a.parent_group.as_deref(),
                a.name_prefix_filter.as_deref(),
                a.recursive.unwrap_or(true),
                &req,
            )?,
            "thingGroups",
        )
    }
}

params! {
    /// A thing and a group, each by name or ARN (AddThingToThingGroup,
    /// RemoveThingFromThingGroup).
    struct Membership {
        thing_group_name: Option<String>,
        thing_group_arn: Option<String>,
        thing_name: Option<String>,
        thing_arn: Option<String>,
        override_dynamic_groups: Option<bool>,
    }
}

impl Membership {
    /// The group's and the thing's names. `adding`: AddThingToThingGroup, which takes
    /// `overrideDynamicGroups` (jitr has no dynamic groups, so `true` is refused);
    /// RemoveThingFromThingGroup does not take it.
    fn names(self, reg: &Registry, adding: bool) -> Result<(String, String), Error> {
        match self.override_dynamic_groups {
            Some(true) if adding => {
                return Err(Error::InvalidRequest(
                    "jitr has static thing groups only; overrideDynamicGroups does not apply"
                        .into(),
                ))
            }
            Some(_) if !adding => {
                return Err(Error::InvalidRequest(
                    "invalid parameters: unknown field `overrideDynamicGroups`".into(),
                ))
            }
            _ => {}
        }
        let pick =
            |name: Option<String>, arn: Option<String>, kind: &str, what: &str| match (name, arn) {
                (Some(n), _) => Ok(n),
                (None, Some(arn)) => match reg.scope().parse_arn(&arn) {
                    Some((k, n)) if k == kind => Ok(n.to_string()),
                    _ => Err(Error::InvalidRequest(format!(
                        "{:?} is not a {what} ARN of this account and region",
                        crate::id::truncate_for_message(&arn)
                    ))),
                },
                (None, None) => Err(Error::InvalidRequest(format!(
                    "give the {what} by name or ARN"
                ))),
            };
        let group = pick(
            self.thing_group_name,
            self.thing_group_arn,
            "thinggroup",
            "thing group",
        )?;
        let thing = pick(self.thing_name, self.thing_arn, "thing", "thing")?;
        Ok((group, thing))
    }
}

operations! {
    pub(super) fn add_thing_to_thing_group(reg, _, a: Membership) {
        let (group, thing) = a.names(reg, true)?;
        reg.add_thing_to_thing_group(&group, &thing)?;
        Ok(json!({}))
    }

    pub(super) fn remove_thing_from_thing_group(reg, _, a: Membership) {
        let (group, thing) = a.names(reg, false)?;
        reg.remove_thing_from_thing_group(&group, &thing)?;
        Ok(json!({}))
    }

    pub(super) fn list_thing_groups_for_thing(reg, _, a: ThingPage) {
        let (thing, req) = a.request()?;
        token_value(
            reg.list_thing_groups_for_thing(&thing, &req)?,
            "thingGroups",
        )
    }

    pub(super) fn list_things_in_thing_group(reg, _, a: {
        thing_group_name: String,
        recursive: Option<bool>,
        next_token: Option<String>,
        max_results: Option<i64>,
    }) {
        if a.recursive == Some(true) {
            return Err(Error::InvalidRequest(
                "jitr lists a group's own things; recursive is not supported".into(),
            ));
        }
        let req = token_request(a.next_token, a.max_results)?;
        token_value(
            reg.list_things_in_thing_group(&a.thing_group_name, &req)?,
            "things",
        )
    }
}

/// A pre-provisioning hook: jitr runs none, so one given is refused.
fn no_hook(hook: Option<&Value>) -> Result<(), Error> {
    match hook {
        None => Ok(()),
        Some(_) => Err(Error::InvalidRequest(
            "jitr runs JITP templates, which have no pre-provisioning hook".into(),
        )),
    }
}

operations! {
    pub(super) fn create_provisioning_template(reg, now, a: {
        template_name: String,
        description: Option<String>,
        template_body: String,
        enabled: Option<bool>,
        provisioning_role_arn: String,
        pre_provisioning_hook: Option<Value>,
        tags: Option<Vec<Tag>>,
        #[serde(rename = "type")]
        template_type: Option<String>,
    }) {
        no_hook(a.pre_provisioning_hook.as_ref())?;
        let arn = reg.create_provisioning_template(
            &a.template_name,
            a.description.as_deref(),
            &a.template_body,
            a.enabled.unwrap_or(false),
            &a.provisioning_role_arn,
            a.template_type.as_deref(),
            now,
        )?;
        if let Some(tags) = a.tags.filter(|t| !t.is_empty()) {
            reg.tag_resource(&arn, &tags)?;
        }
        Ok(json!({"templateArn": arn, "templateName": a.template_name, "defaultVersionId": 1}))
    }
}

params! {
    struct TemplateName {
        template_name: String,
    }
}

operations! {
    pub(super) fn describe_provisioning_template(reg, _, a: TemplateName) {
        to_value(&reg.describe_provisioning_template(&a.template_name)?)
    }

    pub(super) fn list_provisioning_templates(reg, _, a: Token) {
        token_value(reg.list_provisioning_templates(&a.request()?)?, "templates")
    }

    pub(super) fn update_provisioning_template(reg, now, a: {
        template_name: String,
        description: Option<String>,
        enabled: Option<bool>,
        default_version_id: Option<u64>,
        provisioning_role_arn: Option<String>,
        pre_provisioning_hook: Option<Value>,
        remove_pre_provisioning_hook: Option<bool>,
    }) {
        no_hook(a.pre_provisioning_hook.as_ref())?;
        let _ = a.remove_pre_provisioning_hook; // there is none to remove
        reg.update_provisioning_template(
            &a.template_name,
            a.description.as_deref(),
            a.enabled,
            a.default_version_id,
            a.provisioning_role_arn.as_deref(),
            now,
        )?;
        Ok(json!({}))
    }

    pub(super) fn delete_provisioning_template(reg, _, a: TemplateName) {
        reg.delete_provisioning_template(&a.template_name)?;
        Ok(json!({}))
    }

    /// jitr's extension: why provisioning left a certificate `PENDING_ACTIVATION`.
    pub(super) fn describe_provisioning_failure(reg, _, a: { certificate_id: String }) {
        let f = reg.describe_provisioning_failure(&id_arg(&a.certificate_id)?)?;
        let mut out = json!({
            "certificateId": f.certificate_id.to_string(),
            "caCertificateId": f.ca_certificate_id.to_string(),
            "code": f.code,
            "message": f.message,
            "creationDate": f.at.unix_secs_f64(),
        });
        if let Some(p) = f.parameter {
            out["parameter"] = Value::String(p);
        }
        if let Some(c) = f.certificate_field {
            out["certificateField"] = Value::String(c);
        }
        Ok(out)
    }

    pub(super) fn describe_endpoint(reg, _, a: { endpoint_type: Option<String> }) {
        Ok(json!({"endpointAddress": reg.describe_endpoint(a.endpoint_type.as_deref())?}))
    }
}

params! {
    #[cfg_attr(not(feature = "tooling"), allow(dead_code))]
    struct KeysArgs {
        set_as_active: Option<bool>,
    }

    #[cfg_attr(not(feature = "tooling"), allow(dead_code))]
    struct CsrArgs {
        certificate_signing_request: String,
        set_as_active: Option<bool>,
    }
}

operations! {
    #[cfg(feature = "tooling")]
    pub(super) fn create_keys_and_certificate(reg, now, a: KeysArgs) {
        to_value(&reg.create_keys_and_certificate(a.set_as_active.unwrap_or(false), now)?)
    }

    #[cfg(feature = "tooling")]
    pub(super) fn create_certificate_from_csr(reg, now, a: CsrArgs) {
        let (out, cert) = reg.create_certificate_from_csr(
            &a.certificate_signing_request,
            a.set_as_active.unwrap_or(false),
            now,
        )?;
        Ok(json!({
            "certificateArn": out.certificate_arn,
            "certificateId": out.certificate_id.to_string(),
            "certificatePem": cert.to_pem(),
        }))
    }
}

/// This build issues no certificates.
#[cfg(not(feature = "tooling"))]
fn no_issuing() -> Error {
    Error::InvalidRequest(
        "this build of jitr issues no certificates (jitr-core's `tooling` feature)".into(),
    )
}

operations! {
    #[cfg(not(feature = "tooling"))]
    pub(super) fn create_keys_and_certificate(_, _, _: KeysArgs) {
        Err(no_issuing())
    }

    #[cfg(not(feature = "tooling"))]
    pub(super) fn create_certificate_from_csr(_, _, _: CsrArgs) {
        Err(no_issuing())
    }
}
