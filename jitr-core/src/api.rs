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

/// Every operation [`call`] knows, in boto3's `iot` client names, plus `connect`.
pub const OPERATIONS: &[&str] = &[
    "get_registration_code",
    "delete_registration_code",
    "register_ca_certificate",
    "update_ca_certificate",
    "describe_ca_certificate",
    "list_ca_certificates",
    "delete_ca_certificate",
    "register_certificate",
    "register_certificate_without_ca",
    "update_certificate",
    "describe_certificate",
    "list_certificates",
    "list_certificates_by_ca",
    "delete_certificate",
    "create_policy",
    "get_policy",
    "delete_policy",
    "attach_policy",
    "detach_policy",
    "list_attached_policies",
    "connect",
];

/// The operations of [`OPERATIONS`] that are AWS IoT API operations, i.e. boto3 `iot`
/// client methods: every one but `connect` (jitr's device connection, not an API call).
///
/// ```
/// let ops: Vec<_> = jitr_core::api::boto3_operations().collect();
/// assert!(ops.contains(&"register_ca_certificate") && !ops.contains(&"connect"));
/// ```
pub fn boto3_operations() -> impl Iterator<Item = &'static str> {
    OPERATIONS.iter().copied().filter(|op| *op != "connect")
}

/// The response keys that hold dates (epoch seconds with a fraction in the JSON); front
/// ends turn them into their language's date type.
pub const DATE_KEYS: &[&str] = &["creationDate", "lastModifiedDate", "notBefore", "notAfter"];

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
    // Parsed straight from the caller's value: no copy of the parameters (PEMs included).
    let p = params;
    match operation {
        "get_registration_code" => {
            let _: NoParams = parse(p)?;
            Ok(json!({"registrationCode": registry.get_registration_code()}))
        }
        "delete_registration_code" => {
            let _: NoParams = parse(p)?;
            registry.delete_registration_code();
            Ok(json!({}))
        }
        "register_ca_certificate" => {
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
        "update_ca_certificate" => {
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
        "describe_ca_certificate" => {
            let a: ById = parse(p)?;
            to_value(&registry.describe_ca_certificate(&id_arg(&a.certificate_id)?)?)
        }
        "list_ca_certificates" => {
            let a: ListArgs = parse(p)?;
            page_value(
                registry.list_ca_certificates(&a.request()?)?,
                "certificates",
            )
        }
        "delete_ca_certificate" => {
            let a: ById = parse(p)?;
            registry.delete_ca_certificate(&id_arg(&a.certificate_id)?)?;
            Ok(json!({}))
        }
        "register_certificate" | "register_certificate_without_ca" => {
            let a: RegisterDevice = parse(p)?;
            let without_ca = operation == "register_certificate_without_ca";
            if without_ca && (a.ca_certificate_pem.is_some() || a.set_as_active.is_some()) {
                return Err(Error::InvalidRequest(
                    "register_certificate_without_ca takes certificatePem and status only".into(),
                ));
            }
            let mut status = enum_arg::<CertificateStatus>(a.status.as_deref())?;
            if a.set_as_active == Some(true) {
                status = Some(CertificateStatus::Active);
            }
            let req = RegisterCertificateRequest {
                certificate_pem: a.certificate_pem,
                ca_certificate_pem: a.ca_certificate_pem,
                status,
            };
            let resp = if without_ca {
                registry.register_certificate_without_ca(&req, now)?
            } else {
                registry.register_certificate(&req, now)?
            };
            to_value(&resp)
        }
        "update_certificate" => {
            let a: UpdateDevice = parse(p)?;
            let status = enum_arg::<CertificateStatus>(Some(&a.new_status))?
                .ok_or_else(|| Error::InvalidRequest("newStatus is required".into()))?;
            registry.update_certificate(&id_arg(&a.certificate_id)?, status, now)?;
            Ok(json!({}))
        }
        "describe_certificate" => {
            let a: ById = parse(p)?;
            let d = registry.describe_certificate(&id_arg(&a.certificate_id)?)?;
            Ok(json!({"certificateDescription": to_value(&d)?}))
        }
        "list_certificates" => {
            let a: ListArgs = parse(p)?;
            page_value(registry.list_certificates(&a.request()?)?, "certificates")
        }
        "list_certificates_by_ca" => {
            let a: ListByCa = parse(p)?;
            let req = ListArgs {
                page_size: a.page_size,
                marker: a.marker,
                ascending_order: a.ascending_order,
            }
            .request()?;
            page_value(
                registry.list_certificates_by_ca(&id_arg(&a.ca_certificate_id)?, &req)?,
                "certificates",
            )
        }
        "delete_certificate" => {
            let a: DeleteDevice = parse(p)?;
            registry
                .delete_certificate(&id_arg(&a.certificate_id)?, a.force_delete.unwrap_or(false))?;
            Ok(json!({}))
        }
        "create_policy" => {
            let a: CreatePolicy = parse(p)?;
            to_value(&registry.create_policy(&a.policy_name, &a.policy_document, now)?)
        }
        "get_policy" => {
            let a: ByName = parse(p)?;
            to_value(&registry.get_policy(&a.policy_name)?)
        }
        "delete_policy" => {
            let a: ByName = parse(p)?;
            registry.delete_policy(&a.policy_name)?;
            Ok(json!({}))
        }
        "attach_policy" | "detach_policy" => {
            let a: Attach = parse(p)?;
            if operation == "attach_policy" {
                registry.attach_policy(&a.policy_name, &a.target)?;
            } else {
                registry.detach_policy(&a.policy_name, &a.target)?;
            }
            Ok(json!({}))
        }
        "list_attached_policies" => {
            let a: ListAttached = parse(p)?;
            let all = registry.list_attached_policies(&a.target)?;
            Ok(json!({"policies": to_value(&all)?}))
        }
        "connect" => {
            let a: Connect = parse(p)?;
            // The decision sees raw DER, as a TLS server would: the PEM armour is removed
            // here and every certificate check is the decision's own. An entry may be a
            // bundle.
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
        other => Err(Error::InvalidRequest(format!(
            "unknown operation {:?}; known: {}",
            crate::id::truncate_for_message(other),
            OPERATIONS.join(", ")
        ))),
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListArgs {
    page_size: Option<i64>,
    marker: Option<String>,
    ascending_order: Option<bool>,
}

impl ListArgs {
    fn request(self) -> Result<ListRequest, Error> {
        let page_size = self
            .page_size
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    Error::InvalidRequest(format!("pageSize must be from 1 to 250, got {n}"))
                })
            })
            .transpose()?;
        Ok(ListRequest {
            page_size,
            marker: self.marker,
            ascending_order: self.ascending_order.unwrap_or(false),
        })
    }
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
    #[allow(dead_code)]
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
            let err = call(&reg, op, &json!({"noSuchParameter": 1}), now).unwrap_err();
            assert_eq!(err.code(), "InvalidRequestException", "{op}");
        }
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
