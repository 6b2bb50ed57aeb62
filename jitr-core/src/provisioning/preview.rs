//! The JSON entry point the front ends bind: a template and a certificate (or
//! parameters) in, what JITP would create (or exactly why it would not) out.

use serde_json::{json, Map, Value};

use super::parameters::{certificate_parameters, Parameters, MAX_PARAMETER_NAME_LEN};
use super::plan::{ProvisioningFailure, ProvisioningPlan};
use super::template::{OverrideSetting, Template, TemplateError};
use crate::cert::parse_pem_chain;
use crate::error::Error;
use crate::id::truncate_for_message;
use crate::scope::Scope;

/// The keys [`preview`] accepts.
pub const PREVIEW_KEYS: &[&str] = &[
    "templateBody",
    "certificatePem",
    "parameters",
    "account",
    "region",
    "partition",
];

/// What just-in-time provisioning would do with `templateBody` for a device certificate:
/// the JSON form of [`Template::parse`] and [`Template::evaluate`], for the Python
/// package, the browser page and the pre-flight check (each binds it in three lines).
///
/// Input, a JSON object:
/// - `templateBody` (string, required): the template.
/// - `certificatePem` (string): the device certificate (the first certificate of the
///   PEM text, so a chain may be pasted whole); its parameters are what JITP extracts
///   ([`certificate_parameters`]).
/// - `parameters` (object of strings): parameter values, added to (and overriding) the
///   certificate's. At least one of `certificatePem` and `parameters` is required.
/// - `account`, `region` (strings, together) and `partition` (default `aws`): the
///   values of the pseudo parameters `AWS::AccountId`, `AWS::Region`,
///   `AWS::Partition`.
///
/// Output, when the template runs:
/// `{"provisioned": true, "certificateStatus": "ACTIVE", "parameters": {…}, "thing": {"thingName", "attributes", "thingTypeName", "thingGroups", "billingGroup", "overrideSettings": {"attributePayload", "thingTypeName", "thingGroups"}} | null, "certificate": {"certificateId", "status", "overrideSettings": {"status"}}, "policies": [{"policyName", "policyDocument" | null, "create"}]}`
///
/// When it would not: `{"provisioned": false, "certificateStatus": …, "failure": {"stage", "code", "message", "path", "parameter", "certificateField", "error"}}`,
/// where `stage` is `"TEMPLATE"` for a template AWS refuses to store (`error` is then
/// `"InvalidRequestException"`, `certificateStatus` null: no CA can carry it) and
/// `"PROVISIONING"` for a template that fails for this device (the certificate stays
/// `"PENDING_ACTIVATION"`). Absent values are null.
///
/// Malformed input (not an object, an unknown key, no template, an unreadable
/// certificate, an invalid account) is an `Err`: `InvalidRequestException` or
/// `CertificateValidationException`.
///
/// ```
/// use serde_json::json;
/// let out = jitr_core::provisioning::preview(&json!({
///     "templateBody": r#"{"Parameters": {"AWS::IoT::Certificate::Country": {"Type": "String"},
///                                        "AWS::IoT::Certificate::Id": {"Type": "String"}},
///        "Resources": {"certificate": {"Type": "AWS::IoT::Certificate",
///                        "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}}},
///                      "thing": {"Type": "AWS::IoT::Thing",
///                        "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::Country"}}}}}"#,
///     "parameters": {"AWS::IoT::Certificate::Id": "ab".repeat(32)},
/// }))?;
/// assert_eq!(out["provisioned"], false);
/// assert_eq!(out["certificateStatus"], "PENDING_ACTIVATION");
/// assert_eq!(out["failure"]["code"], "MISSING_PARAMETER");
/// assert_eq!(out["failure"]["parameter"], "AWS::IoT::Certificate::Country");
/// assert_eq!(out["failure"]["certificateField"], "subject C (countryName, OID 2.5.4.6)");
/// # Ok::<(), jitr_core::Error>(())
/// ```
pub fn preview(input: &Value) -> Result<Value, Error> {
    let Value::Object(obj) = input else {
        return Err(Error::InvalidRequest(
            "the preview input must be a JSON object".into(),
        ));
    };
    if let Some(key) = obj.keys().find(|k| !PREVIEW_KEYS.contains(&k.as_str())) {
        return Err(Error::InvalidRequest(format!(
            "unknown key {:?}; the preview takes {}",
            truncate_for_message(key),
            PREVIEW_KEYS.join(", ")
        )));
    }
    let text = |key: &str| -> Result<Option<&str>, Error> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Error::InvalidRequest(format!("{key} must be a string"))),
        }
    };
    let body = text("templateBody")?
        .ok_or_else(|| Error::InvalidRequest("templateBody is required".into()))?;
    let given = match obj.get("parameters") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err(Error::InvalidRequest(
                "parameters must be an object of strings".into(),
            ))
        }
    };
    let mut parameters = match text("certificatePem")? {
        Some(pem) => {
            let chain = parse_pem_chain(pem)?;
            let leaf = chain.first().ok_or_else(|| {
                Error::CertificateValidation("certificatePem holds no certificate".into())
            })?;
            certificate_parameters(leaf)
        }
        None if given.is_some() => Parameters::new(),
        None => {
            return Err(Error::InvalidRequest(
                "give certificatePem, parameters, or both".into(),
            ))
        }
    };
    for (name, value) in given.into_iter().flatten() {
        let Value::String(v) = value else {
            return Err(Error::InvalidRequest(format!(
                "parameter {:?} must be a string",
                truncate_for_message(name)
            )));
        };
        if name.is_empty() || name.chars().count() > MAX_PARAMETER_NAME_LEN {
            return Err(Error::InvalidRequest(format!(
                "a parameter name has 1 to {MAX_PARAMETER_NAME_LEN} characters"
            )));
        }
        parameters.insert(name.clone(), v.clone());
    }
    match (text("account")?, text("region")?, text("partition")?) {
        (Some(account), Some(region), partition) => {
            let scope = Scope::with_partition(partition.unwrap_or("aws"), account, region)?;
            parameters = parameters.with_scope(&scope);
        }
        (None, None, None) => {}
        _ => {
            return Err(Error::InvalidRequest(
                "account and region go together (partition is optional, with them)".into(),
            ))
        }
    }
    let template = match Template::parse(body) {
        Ok(t) => t,
        Err(e) => return Ok(template_failure(&e)),
    };
    Ok(match template.evaluate(&parameters) {
        Ok(plan) => plan_json(&plan),
        Err(f) => provisioning_failure(&f),
    })
}

fn setting(s: Option<OverrideSetting>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.as_str().into()))
}

fn plan_json(plan: &ProvisioningPlan) -> Value {
    let thing = plan.thing.as_ref().map_or(Value::Null, |t| {
        json!({
            "thingName": t.thing_name,
            "attributes": t.attributes,
            "thingTypeName": t.thing_type_name,
            "thingGroups": t.thing_groups,
            "billingGroup": t.billing_group,
            "overrideSettings": {
                "attributePayload": setting(t.override_settings.attribute_payload),
                "thingTypeName": setting(t.override_settings.thing_type_name),
                "thingGroups": setting(t.override_settings.thing_groups),
            },
        })
    });
    let c = &plan.certificate;
    json!({
        "provisioned": true,
        "certificateStatus": c.status.as_str(),
        "parameters": plan.parameters,
        "thing": thing,
        "certificate": {
            "certificateId": c.certificate_id.to_string(),
            "status": c.status.as_str(),
            "overrideSettings": {"status": setting(c.status_override)},
        },
        "policies": plan.policies.iter().map(|p| json!({
            "policyName": p.policy_name,
            "policyDocument": p.policy_document,
            "create": p.creates(),
        })).collect::<Vec<_>>(),
    })
}

fn failure(certificate_status: Option<&str>, fields: Map<String, Value>) -> Value {
    json!({
        "provisioned": false,
        "certificateStatus": certificate_status,
        "failure": fields,
    })
}

fn template_failure(e: &TemplateError) -> Value {
    let mut m = Map::new();
    m.insert("stage".into(), "TEMPLATE".into());
    m.insert("code".into(), e.code().into());
    m.insert("message".into(), e.to_string().into());
    m.insert("path".into(), e.path().into());
    m.insert("parameter".into(), Value::Null);
    m.insert("certificateField".into(), Value::Null);
    m.insert("error".into(), Error::from(e.clone()).code().into());
    failure(None, m)
}

fn provisioning_failure(f: &ProvisioningFailure) -> Value {
    let mut m = Map::new();
    m.insert("stage".into(), "PROVISIONING".into());
    m.insert("code".into(), f.code().into());
    m.insert("message".into(), f.message().into());
    m.insert("path".into(), f.path().map_or(Value::Null, Value::from));
    m.insert(
        "parameter".into(),
        f.parameter().map_or(Value::Null, Value::from),
    );
    m.insert(
        "certificateField".into(),
        f.certificate_field()
            .map_or(Value::Null, |c| Value::String(c.to_string())),
    );
    m.insert("error".into(), Value::Null);
    failure(Some("PENDING_ACTIVATION"), m)
}
