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

/// Declares argument structs as every operation takes them: boto3's camelCase names, and
/// an unknown parameter refused (an `InvalidRequestException` naming it).
macro_rules! params {
    ($($(#[$attr:meta])* $vis:vis struct $name:ident { $($field:tt)* })*) => {$(
        $(#[$attr])*
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        $vis struct $name { $($field)* }
    )*};
}

/// Declares operations, each a function [`Operation`] runs: `fn name(registry, now,
/// params: Type) { body }`, or with the parameters' fields in braces in place of a
/// [`params!`] type. The body sees the registry, the time and the parsed parameters under
/// the names given (`_` for one it does not use) and returns the response.
macro_rules! operations {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident $args:tt $body:block)*) => {$(
        operations!(@one $(#[$attr])* $vis $name $args $body);
    )*};
    (@one $(#[$attr:meta])* $vis:vis $name:ident
        ($reg:tt, $now:tt, $params:tt: { $($field:tt)* }) $body:block) => {
        operations!(@fn [params! { struct Params { $($field)* } }]
            $(#[$attr])* $vis $name ($reg, $now, $params: Params) $body);
    };
    (@one $(#[$attr:meta])* $vis:vis $name:ident
        ($reg:tt, $now:tt, $params:tt: $ty:ty) $body:block) => {
        operations!(@fn [] $(#[$attr])* $vis $name ($reg, $now, $params: $ty) $body);
    };
    (@fn [$($item:item)*] $(#[$attr:meta])* $vis:vis $name:ident
        ($reg:tt, $now:tt, $params:tt: $ty:ty) $body:block) => {
        $(#[$attr])*
        $vis fn $name(
            $reg: &$crate::Registry,
            p: &serde_json::Value,
            $now: $crate::Timestamp,
        ) -> Result<serde_json::Value, $crate::Error> {
            $($item)*
            let $params: $ty = $crate::api::parse(p)?;
            $body
        }
    };
}

mod provisioning;
mod resources;

use provisioning::*;
use resources::*;

use serde::de::DeserializeOwned;
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

/// The [`Operation`]s of the functions named, each under its function's name.
macro_rules! table {
    ($($name:ident,)*) => {
        [$(Operation { name: stringify!($name), run: $name }),*]
    };
}

/// Every operation [`call`] knows, in boto3's `iot` client names, plus `connect` (the
/// JITR decision). The one list: adding an operation is one row here and its function;
/// the Python methods and stubs and the TypeScript types are checked against it.
pub static OPERATIONS: &[Operation] = &table![
    get_registration_code,
    delete_registration_code,
    register_ca_certificate,
    update_ca_certificate,
    describe_ca_certificate,
    list_ca_certificates,
    delete_ca_certificate,
    register_certificate,
    register_certificate_without_ca,
    update_certificate,
    describe_certificate,
    list_certificates,
    list_certificates_by_ca,
    delete_certificate,
    create_policy,
    get_policy,
    delete_policy,
    attach_policy,
    detach_policy,
    list_attached_policies,
    create_policy_version,
    get_policy_version,
    list_policy_versions,
    set_default_policy_version,
    delete_policy_version,
    list_policies,
    list_targets_for_policy,
    list_principal_policies,
    get_effective_policies,
    test_authorization,
    create_thing,
    describe_thing,
    update_thing,
    delete_thing,
    list_things,
    attach_thing_principal,
    detach_thing_principal,
    list_thing_principals,
    list_principal_things,
    create_thing_type,
    describe_thing_type,
    deprecate_thing_type,
    delete_thing_type,
    list_thing_types,
    tag_resource,
    untag_resource,
    list_tags_for_resource,
    create_thing_group,
    describe_thing_group,
    delete_thing_group,
    list_thing_groups,
    add_thing_to_thing_group,
    remove_thing_from_thing_group,
    list_thing_groups_for_thing,
    list_things_in_thing_group,
    create_provisioning_template,
    describe_provisioning_template,
    list_provisioning_templates,
    update_provisioning_template,
    delete_provisioning_template,
    create_keys_and_certificate,
    create_certificate_from_csr,
    describe_endpoint,
    describe_provisioning_failure,
    connect,
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

operations! {
    fn get_registration_code(registry, _, _: NoParams) {
        Ok(json!({"registrationCode": registry.get_registration_code()?}))
    }

    fn delete_registration_code(registry, _, _: NoParams) {
        registry.delete_registration_code()?;
        Ok(json!({}))
    }

    fn register_ca_certificate(registry, now, a: RegisterCa) {
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

    fn update_ca_certificate(registry, now, a: UpdateCa) {
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

    fn describe_ca_certificate(registry, _, a: ById) {
        to_value(&registry.describe_ca_certificate(&id_arg(&a.certificate_id)?)?)
    }

    fn list_ca_certificates(registry, _, a: {
        page_size: Option<i64>,
        marker: Option<String>,
        ascending_order: Option<bool>,
        template_name: Option<String>,
    }) {
        let req = marker_request(a.page_size, a.marker, a.ascending_order, false)?;
        page_value(
            registry.list_ca_certificates_for(&req, a.template_name.as_deref())?,
            "certificates",
        )
    }

    fn delete_ca_certificate(registry, _, a: ById) {
        registry.delete_ca_certificate(&id_arg(&a.certificate_id)?)?;
        Ok(json!({}))
    }
}
operations! {
    fn register_certificate(registry, now, a: RegisterDevice) {
        let req = register_device_request(a, false)?;
        to_value(&registry.register_certificate(&req, now)?)
    }

    fn register_certificate_without_ca(registry, now, a: RegisterDevice) {
        let req = register_device_request(a, true)?;
        to_value(&registry.register_certificate_without_ca(&req, now)?)
    }
}

fn register_device_request(
    a: RegisterDevice,
    without_ca: bool,
) -> Result<RegisterCertificateRequest, Error> {
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

operations! {
    fn update_certificate(registry, now, a: UpdateDevice) {
        let status = enum_arg::<CertificateStatus>(Some(&a.new_status))?
            .ok_or_else(|| Error::InvalidRequest("newStatus is required".into()))?;
        registry.update_certificate(&id_arg(&a.certificate_id)?, status, now)?;
        Ok(json!({}))
    }

    fn describe_certificate(registry, _, a: ById) {
        let d = registry.describe_certificate(&id_arg(&a.certificate_id)?)?;
        Ok(json!({"certificateDescription": to_value(&d)?}))
    }

    fn list_certificates(registry, _, a: ListArgs) {
        page_value(
            registry.list_certificates(&a.request(false)?)?,
            "certificates",
        )
    }

    fn list_certificates_by_ca(registry, _, a: ListByCa) {
        let req = marker_request(a.page_size, a.marker, a.ascending_order, false)?;
        page_value(
            registry.list_certificates_by_ca(&id_arg(&a.ca_certificate_id)?, &req)?,
            "certificates",
        )
    }

    fn delete_certificate(registry, _, a: DeleteDevice) {
        registry.delete_certificate(&id_arg(&a.certificate_id)?, a.force_delete.unwrap_or(false))?;
        Ok(json!({}))
    }

    fn create_policy(registry, now, a: CreatePolicy) {
        let out = registry.create_policy(&a.policy_name, &a.policy_document, now)?;
        if let Some(tags) = a.tags.filter(|t| !t.is_empty()) {
            registry.tag_resource(&out.policy_arn, &tags)?;
        }
        to_value(&out)
    }

    fn get_policy(registry, _, a: ByName) {
        to_value(&registry.get_policy(&a.policy_name)?)
    }

    fn delete_policy(registry, _, a: ByName) {
        registry.delete_policy(&a.policy_name)?;
        Ok(json!({}))
    }

    fn attach_policy(registry, _, a: Attach) {
        registry.attach_policy(&a.policy_name, &a.target)?;
        Ok(json!({}))
    }

    fn detach_policy(registry, _, a: Attach) {
        registry.detach_policy(&a.policy_name, &a.target)?;
        Ok(json!({}))
    }

    fn list_attached_policies(registry, _, a: ListAttached) {
        let all = registry.list_attached_policies(&a.target)?;
        Ok(json!({"policies": to_value(&all)?}))
    }

    fn connect(registry, now, a: Connect) {
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

/// A page as `{key: [...], "nextMarker": ...}`.
fn page_value<T: serde::Serialize>(page: Page<T>, key: &str) -> Result<Value, Error> {
    page_json(page, key, "nextMarker")
}

/// A page as `{key: [...], next: ...}`, `next` omitted on the last page.
fn page_json<T: serde::Serialize>(page: Page<T>, key: &str, next: &str) -> Result<Value, Error> {
    let mut out = Map::new();
    out.insert(key.into(), to_value(&page.items)?);
    if let Some(m) = page.next_marker {
        out.insert(next.into(), Value::String(m));
    }
    Ok(Value::Object(out))
}

params! {
    struct NoParams {}
}

params! {
    struct RegisterCa {
        ca_certificate: String,
        verification_certificate: Option<String>,
        set_as_active: Option<bool>,
        allow_auto_registration: Option<bool>,
        certificate_mode: Option<String>,
        registration_config: Option<RegistrationConfig>,
        tags: Option<Vec<Tag>>,
    }

    struct UpdateCa {
        certificate_id: String,
        new_status: Option<String>,
        new_auto_registration_status: Option<String>,
        registration_config: Option<RegistrationConfig>,
        remove_auto_registration: Option<bool>,
    }

    struct ById {
        certificate_id: String,
    }

    struct ByName {
        policy_name: String,
    }

    /// The parameters of a list call paged by `marker` and nothing else.
    struct ListArgs {
        page_size: Option<i64>,
        marker: Option<String>,
        ascending_order: Option<bool>,
    }
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

params! {
    struct ListByCa {
        ca_certificate_id: String,
        page_size: Option<i64>,
        marker: Option<String>,
        ascending_order: Option<bool>,
    }

    struct RegisterDevice {
        certificate_pem: String,
        ca_certificate_pem: Option<String>,
        set_as_active: Option<bool>,
        status: Option<String>,
    }

    struct UpdateDevice {
        certificate_id: String,
        new_status: String,
    }

    struct DeleteDevice {
        certificate_id: String,
        force_delete: Option<bool>,
    }

    struct CreatePolicy {
        policy_name: String,
        policy_document: String,
        tags: Option<Vec<Tag>>,
    }

    struct Attach {
        policy_name: String,
        target: String,
    }

    struct ListAttached {
        target: String,
        #[allow(dead_code)]
        recursive: Option<bool>,
        #[allow(dead_code)]
        marker: Option<String>,
        #[allow(dead_code)]
        page_size: Option<i64>,
    }

    struct Connect {
        chain: Vec<String>,
        server_name: Option<String>,
    }
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
