//! The boto3-shaped JSON interface: one entry point that takes an AWS IoT operation name
//! and its parameters as JSON (boto3's camelCase names) and returns the response as the
//! AWS CLI prints it.
//!
//! The Python and JavaScript front ends are conversions around [`call`], so the three
//! cannot drift; the shared test vectors run through it in every language.
//!
//! ```
//! use jitr_core::{api, Registry, Scope, Timestamp};
//! use serde_json::json;
//! let reg = Registry::new(Scope::new("123456789012", "us-east-1").unwrap());
//! let now = Timestamp::from_unix_secs(1_780_000_000);
//! let code = api::call(&reg, "get_registration_code", &json!({}), now).unwrap();
//! assert_eq!(code["registrationCode"].as_str().unwrap().len(), 64);
//! let err = api::call(&reg, "describe_certificate", &json!({"certificateId": "00"}), now).unwrap_err();
//! assert_eq!(err.code(), "InvalidRequestException");
//! ```

mod provisioning;
mod resources;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::cert::pem_blocks_der;
use crate::registry::{
    ListRequest, Page, RegisterCaCertificateRequest, RegisterCertificateRequest,
    RegistrationConfig, Registry, Tag, UpdateCaCertificateRequest,
};
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateStatus};
use crate::{CertificateId, Decision, Error, Timestamp};

/// One operation of [`call`]: its name (boto3's `iot` client method) and what runs it.
pub struct Operation {
    name: &'static str,
    run: fn(&Registry, &Value, Timestamp) -> Result<Value, Error>,
}

impl Operation {
    /// The boto3 method name, e.g. `"register_ca_certificate"`.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl core::fmt::Debug for Operation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name)
    }
}

const fn op(
    name: &'static str,
    run: fn(&Registry, &Value, Timestamp) -> Result<Value, Error>,
) -> Operation {
    Operation { name, run }
}

/// Every operation [`call`] knows, in boto3's `iot` client names, plus `connect` (the
/// JITR decision). The one list: adding an operation is one row here and its function;
/// the Python methods and stubs and the TypeScript types are checked against it.
pub static OPERATIONS: &[Operation] = &[
    op("get_registration_code", get_registration_code),
    op("delete_registration_code", delete_registration_code),
    op("register_ca_certificate", register_ca_certificate),
    op("update_ca_certificate", update_ca_certificate),
    op("describe_ca_certificate", describe_ca_certificate),
    op("list_ca_certificates", list_ca_certificates),
    op("delete_ca_certificate", delete_ca_certificate),
    op("register_certificate", register_certificate),
    op(
        "register_certificate_without_ca",
        register_certificate_without_ca,
    ),
    op("update_certificate", update_certificate),
    op("describe_certificate", describe_certificate),
    op("list_certificates", list_certificates),
    op("list_certificates_by_ca", list_certificates_by_ca),
    op("delete_certificate", delete_certificate),
    op("create_policy", create_policy),
    op("get_policy", get_policy),
    op("delete_policy", delete_policy),
    op("attach_policy", attach_policy),
    op("detach_policy", detach_policy),
    op("list_attached_policies", list_attached_policies),
    op("create_policy_version", resources::create_policy_version),
    op("get_policy_version", resources::get_policy_version),
    op("list_policy_versions", resources::list_policy_versions),
    op(
        "set_default_policy_version",
        resources::set_default_policy_version,
    ),
    op("delete_policy_version", resources::delete_policy_version),
    op("list_policies", resources::list_policies),
    op(
        "list_targets_for_policy",
        resources::list_targets_for_policy,
    ),
    op(
        "list_principal_policies",
        resources::list_principal_policies,
    ),
    op("get_effective_policies", resources::get_effective_policies),
    op("test_authorization", resources::test_authorization),
    op("create_thing", resources::create_thing),
    op("describe_thing", resources::describe_thing),
    op("update_thing", resources::update_thing),
    op("delete_thing", resources::delete_thing),
    op("list_things", resources::list_things),
    op("attach_thing_principal", resources::attach_thing_principal),
    op("detach_thing_principal", resources::detach_thing_principal),
    op("list_thing_principals", resources::list_thing_principals),
    op("list_principal_things", resources::list_principal_things),
    op("create_thing_type", resources::create_thing_type),
    op("describe_thing_type", resources::describe_thing_type),
    op("deprecate_thing_type", resources::deprecate_thing_type),
    op("delete_thing_type", resources::delete_thing_type),
    op("list_thing_types", resources::list_thing_types),
    op("tag_resource", resources::tag_resource),
    op("untag_resource", resources::untag_resource),
    op("list_tags_for_resource", resources::list_tags_for_resource),
    op("create_thing_group", provisioning::create_thing_group),
    op("describe_thing_group", provisioning::describe_thing_group),
    op("delete_thing_group", provisioning::delete_thing_group),
    op("list_thing_groups", provisioning::list_thing_groups),
    op(
        "add_thing_to_thing_group",
        provisioning::add_thing_to_thing_group,
    ),
    op(
        "remove_thing_from_thing_group",
        provisioning::remove_thing_from_thing_group,
    ),
    op(
        "list_thing_groups_for_thing",
        provisioning::list_thing_groups_for_thing,
    ),
    op(
        "list_things_in_thing_group",
        provisioning::list_things_in_thing_group,
    ),
    op(
        "create_provisioning_template",
        provisioning::create_provisioning_template,
    ),
    op(
        "describe_provisioning_template",
        provisioning::describe_provisioning_template,
    ),
    op(
        "list_provisioning_templates",
        provisioning::list_provisioning_templates,
    ),
    op(
        "update_provisioning_template",
        provisioning::update_provisioning_template,
    ),
    op(
        "delete_provisioning_template",
        provisioning::delete_provisioning_template,
    ),
    op(
        "create_keys_and_certificate",
        provisioning::create_keys_and_certificate,
    ),
    op(
        "create_certificate_from_csr",
        provisioning::create_certificate_from_csr,
    ),
    op("describe_endpoint", provisioning::describe_endpoint),
    op(
        "describe_provisioning_failure",
        provisioning::describe_provisioning_failure,
    ),
    op("connect", connect),
];

/// The operations of [`OPERATIONS`] that are jitr's, not AWS IoT API operations:
/// `connect` (the JITR decision for a device's connection) and
/// `describe_provisioning_failure` (why JITP left a certificate pending, which AWS only
/// counts in a metric).
pub const EXTENSIONS: &[&str] = &["connect", "describe_provisioning_failure"];

/// The operations of [`OPERATIONS`] that are AWS IoT API operations, i.e. boto3 `iot`
/// client methods: every one but the [`EXTENSIONS`].
///
/// ```
/// let ops: Vec<_> = jitr_core::api::boto3_operations().collect();
/// assert!(ops.contains(&"register_ca_certificate") && !ops.contains(&"connect"));
/// ```
pub fn boto3_operations() -> impl Iterator<Item = &'static str> {
    OPERATIONS
        .iter()
        .map(Operation::name)
        .filter(|op| !EXTENSIONS.contains(op))
}

/// The response keys that hold dates (epoch seconds with a fraction in the JSON); front
/// ends turn them into their language's date type.
pub const DATE_KEYS: &[&str] = &["creationDate", "lastModifiedDate", "notBefore", "notAfter"];

/// The operation named `name`, if [`call`] knows it.
pub fn operation(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.name == name)
}

/// Runs `operation` with boto3-style `params` (a JSON object) at `now`.
///
/// Unknown operations, unknown or mistyped parameters and malformed IDs are
/// `InvalidRequestException`; everything else is the operation's own error.
pub fn call(
    registry: &Registry,
    operation: &str,
    params: &Value,
    now: Timestamp,
) -> Result<Value, Error> {
    if !matches!(params, Value::Object(_) | Value::Null) {
        return Err(Error::InvalidRequest(
            "parameters must be a JSON object".into(),
        ));
    }
    let Some(op) = self::operation(operation) else {
        let known: Vec<&str> = OPERATIONS.iter().map(Operation::name).collect();
        return Err(Error::InvalidRequest(format!(
            "unknown operation {:?}; known: {}",
            crate::id::truncate_for_message(operation),
            known.join(", ")
        )));
    };
    // On a store other processes share, a call first catches up with their changes, so a
    // process sees another's change by its next call. A decision goes on from the cache
    // if the store cannot be reached (the decision itself says what that means).
    let caught_up = registry.catch_up();
    if operation != "connect" {
        caught_up?;
    }
    // Parameters are parsed straight from the caller's value: no copy (PEMs included).
    (op.run)(registry, params, now)
}

fn get_registration_code(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let _: NoParams = parse(p)?;
    Ok(json!({"registrationCode": registry.get_registration_code()?}))
}

fn delete_registration_code(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let _: NoParams = parse(p)?;
    registry.delete_registration_code()?;
    Ok(json!({}))
}

fn register_ca_certificate(registry: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    let a: RegisterCa = parse(p)?;
    let req = RegisterCaCertificateRequest {
        ca_certificate: a.ca_certificate,
        verification_certificate: a.verification_certificate,
        set_as_active: a.set_as_active.unwrap_or(false),
        allow_auto_registration: a.allow_auto_registration.unwrap_or(false),
        certificate_mode: enum_arg(a.certificate_mode.as_deref())?.unwrap_or_default(),
        registration_config: a.registration_config,
        tags: a.tags.unwrap_or_default(),
    };
    to_value(&registry.register_ca_certificate(&req, now)?)
}

fn update_ca_certificate(registry: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    let a: UpdateCa = parse(p)?;
    let req = UpdateCaCertificateRequest {
        certificate_id: id_arg(&a.certificate_id)?,
        new_status: enum_arg::<CaStatus>(a.new_status.as_deref())?,
        new_auto_registration_status: enum_arg::<AutoRegistrationStatus>(
            a.new_auto_registration_status.as_deref(),
        )?,
        registration_config: a.registration_config,
        remove_auto_registration: a.remove_auto_registration.unwrap_or(false),
    };
    registry.update_ca_certificate(&req, now)?;
    Ok(json!({}))
}

fn describe_ca_certificate(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ById = parse(p)?;
    to_value(&registry.describe_ca_certificate(&id_arg(&a.certificate_id)?)?)
}

fn list_ca_certificates(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct A {
        page_size: Option<i64>,
        marker: Option<String>,
        ascending_order: Option<bool>,
        template_name: Option<String>,
    }
    let a: A = parse(p)?;
    let req = marker_request(a.page_size, a.marker, a.ascending_order, false)?;
    page_value(
        registry.list_ca_certificates_for(&req, a.template_name.as_deref())?,
        "certificates",
    )
}

fn delete_ca_certificate(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ById = parse(p)?;
    registry.delete_ca_certificate(&id_arg(&a.certificate_id)?)?;
    Ok(json!({}))
}

fn register_certificate(registry: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    let req = register_device_request(p, false)?;
    to_value(&registry.register_certificate(&req, now)?)
}

fn register_certificate_without_ca(
    registry: &Registry,
    p: &Value,
    now: Timestamp,
) -> Result<Value, Error> {
    let req = register_device_request(p, true)?;
    to_value(&registry.register_certificate_without_ca(&req, now)?)
}

fn register_device_request(
    p: &Value,
    without_ca: bool,
) -> Result<RegisterCertificateRequest, Error> {
    let a: RegisterDevice = parse(p)?;
    if without_ca && (a.ca_certificate_pem.is_some() || a.set_as_active.is_some()) {
        return Err(Error::InvalidRequest(
            "register_certificate_without_ca takes certificatePem and status only".into(),
        ));
    }
    let mut status = enum_arg::<CertificateStatus>(a.status.as_deref())?;
    if a.set_as_active == Some(true) {
        status = Some(CertificateStatus::Active);
    }
    Ok(RegisterCertificateRequest {
        certificate_pem: a.certificate_pem,
        ca_certificate_pem: a.ca_certificate_pem,
        status,
    })
}

fn update_certificate(registry: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    let a: UpdateDevice = parse(p)?;
    let status = enum_arg::<CertificateStatus>(Some(&a.new_status))?
        .ok_or_else(|| Error::InvalidRequest("newStatus is required".into()))?;
    registry.update_certificate(&id_arg(&a.certificate_id)?, status, now)?;
    Ok(json!({}))
}

fn describe_certificate(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ById = parse(p)?;
    let d = registry.describe_certificate(&id_arg(&a.certificate_id)?)?;
    Ok(json!({"certificateDescription": to_value(&d)?}))
}

fn list_certificates(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ListArgs = parse(p)?;
    page_value(
        registry.list_certificates(&a.request(false)?)?,
        "certificates",
    )
}

fn list_certificates_by_ca(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ListByCa = parse(p)?;
    let req = marker_request(a.page_size, a.marker, a.ascending_order, false)?;
    page_value(
        registry.list_certificates_by_ca(&id_arg(&a.ca_certificate_id)?, &req)?,
        "certificates",
    )
}

fn delete_certificate(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: DeleteDevice = parse(p)?;
    registry.delete_certificate(&id_arg(&a.certificate_id)?, a.force_delete.unwrap_or(false))?;
    Ok(json!({}))
}

fn create_policy(registry: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    let a: CreatePolicy = parse(p)?;
    let out = registry.create_policy(&a.policy_name, &a.policy_document, now)?;
    if let Some(tags) = a.tags.filter(|t| !t.is_empty()) {
        registry.tag_resource(&out.policy_arn, &tags)?;
    }
    to_value(&out)
}

fn get_policy(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ByName = parse(p)?;
    to_value(&registry.get_policy(&a.policy_name)?)
}

fn delete_policy(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ByName = parse(p)?;
    registry.delete_policy(&a.policy_name)?;
    Ok(json!({}))
}

fn attach_policy(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: Attach = parse(p)?;
    registry.attach_policy(&a.policy_name, &a.target)?;
    Ok(json!({}))
}

fn detach_policy(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: Attach = parse(p)?;
    registry.detach_policy(&a.policy_name, &a.target)?;
    Ok(json!({}))
}

fn list_attached_policies(registry: &Registry, p: &Value, _: Timestamp) -> Result<Value, Error> {
    let a: ListAttached = parse(p)?;
    let all = registry.list_attached_policies(&a.target)?;
    Ok(json!({"policies": to_value(&all)?}))
}

fn connect(registry: &Registry, p: &Value, now: Timestamp) -> Result<Value, Error> {
    let a: Connect = parse(p)?;
    // The decision sees raw DER, as a TLS server would: the PEM armour is removed here and
    // every certificate check is the decision's own. An entry may be a bundle.
    let mut chain = Vec::new();
    for pem in &a.chain {
        chain.extend(pem_blocks_der(pem)?);
    }
    let chain: Vec<_> = chain
        .into_iter()
        .map(rustls_pki_types::CertificateDer::from)
        .collect();
    Ok(decision_value(&registry.decide(
        &chain,
        a.server_name.as_deref(),
        now,
    )))
}

/// A decision as JSON: `allowed`, `reason` (null when allowed), `message`,
/// `certificateId`, `caCertificateId`, `topic`, `event` (the exact payload string).
pub fn decision_value(d: &Decision) -> Value {
    json!({
        "allowed": d.is_allowed(),
        "reason": d.reason_code(),
        "message": d.message(),
        "certificateId": d.certificate_id.map(|i| i.to_string()),
        "caCertificateId": d.ca_certificate_id.map(|i| i.to_string()),
        "topic": d.event.as_ref().map(|e| e.topic()),
        "event": d.event.as_ref().map(|e| e.to_json()),
    })
}

fn parse<T: DeserializeOwned>(v: &Value) -> Result<T, Error> {
    // `Null` stands for no parameters, as an empty object does.
    let result = match v {
        Value::Null => T::deserialize(&Value::Object(Map::new())),
        v => T::deserialize(v),
    };
    result.map_err(|e| {
        Error::InvalidRequest(format!(
            "invalid parameters: {}",
            crate::json_message::describe(&e)
        ))
    })
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, Error> {
    serde_json::to_value(v)
        .map_err(|e| Error::InvalidRequest(format!("cannot encode the response: {e}")))
}

fn id_arg(s: &str) -> Result<CertificateId, Error> {
    s.parse()
}

fn enum_arg<T: core::str::FromStr<Err = Error>>(s: Option<&str>) -> Result<Option<T>, Error> {
    s.map(str::parse).transpose()
}

fn page_value<T: serde::Serialize>(page: Page<T>, key: &str) -> Result<Value, Error> {
    let mut out = Map::new();
    out.insert(key.into(), to_value(&page.items)?);
    if let Some(m) = page.next_marker {
        out.insert("nextMarker".into(), Value::String(m));
    }
    Ok(Value::Object(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegisterCa {
    ca_certificate: String,
    verification_certificate: Option<String>,
    set_as_active: Option<bool>,
    allow_auto_registration: Option<bool>,
    certificate_mode: Option<String>,
    registration_config: Option<RegistrationConfig>,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateCa {
    certificate_id: String,
    new_status: Option<String>,
    new_auto_registration_status: Option<String>,
    registration_config: Option<RegistrationConfig>,
    remove_auto_registration: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ById {
    certificate_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ByName {
    policy_name: String,
}

/// The parameters of a list call paged by `marker` and nothing else.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListArgs {
    page_size: Option<i64>,
    marker: Option<String>,
    ascending_order: Option<bool>,
}

impl ListArgs {
    /// `ascendingOrder` defaults to `ascending` (AWS's default differs by operation).
    fn request(self, ascending: bool) -> Result<ListRequest, Error> {
        marker_request(self.page_size, self.marker, self.ascending_order, ascending)
    }
}

/// A `marker`-paged list call's parameters as a [`ListRequest`]; `ascendingOrder`
/// defaults to `ascending`.
fn marker_request(
    page_size: Option<i64>,
    marker: Option<String>,
    ascending_order: Option<bool>,
    ascending: bool,
) -> Result<ListRequest, Error> {
    list_request(
        "pageSize",
        page_size,
        marker,
        ascending_order.unwrap_or(ascending),
    )
}

/// A list call's paging parameters as a [`ListRequest`]. `size_name` is the caller's name
/// for the page size (`pageSize` or `maxResults`), for the error of one out of range.
fn list_request(
    size_name: &str,
    page_size: Option<i64>,
    marker: Option<String>,
    ascending_order: bool,
) -> Result<ListRequest, Error> {
    let page_size = page_size
        .map(|n| {
            u32::try_from(n).map_err(|_| {
                Error::InvalidRequest(format!("{size_name} must be from 1 to 250, got {n}"))
            })
        })
        .transpose()?;
    Ok(ListRequest {
        page_size,
        marker,
        ascending_order,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListByCa {
    ca_certificate_id: String,
    page_size: Option<i64>,
    marker: Option<String>,
    ascending_order: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegisterDevice {
    certificate_pem: String,
    ca_certificate_pem: Option<String>,
    set_as_active: Option<bool>,
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateDevice {
    certificate_id: String,
    new_status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeleteDevice {
    certificate_id: String,
    force_delete: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreatePolicy {
    policy_name: String,
    policy_document: String,
    tags: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Attach {
    policy_name: String,
    target: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListAttached {
    target: String,
    #[allow(dead_code)]
    recursive: Option<bool>,
    #[allow(dead_code)]
    marker: Option<String>,
    #[allow(dead_code)]
    page_size: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Connect {
    chain: Vec<String>,
    server_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_rejects_unknown_parameters() {
        let reg = Registry::new(crate::Scope::new("123456789012", "us-east-1").unwrap());
        let now = Timestamp::from_unix_secs(0);
        for op in OPERATIONS {
            let err = call(&reg, op.name(), &json!({"noSuchParameter": 1}), now).unwrap_err();
            assert_eq!(err.code(), "InvalidRequestException", "{op:?}");
            assert!(err.message().contains("noSuchParameter"), "{op:?}: {err}");
        }
        let names: std::collections::HashSet<_> = OPERATIONS.iter().map(Operation::name).collect();
        assert_eq!(
            names.len(),
            OPERATIONS.len(),
            "an operation is listed twice"
        );
        assert!(call(&reg, "nope", &json!({}), now).is_err());
        assert!(call(&reg, "get_registration_code", &json!([1]), now).is_err());
        let err = call(&reg, "list_certificates", &json!({"pageSize": -1}), now).unwrap_err();
        assert_eq!(err.code(), "InvalidRequestException");
        let err = call(
            &reg,
            "update_certificate",
            &json!({"certificateId": "0".repeat(64), "newStatus": "active"}),
            now,
        )
        .unwrap_err();
        assert_eq!(err.code(), "InvalidRequestException");
    }
}
