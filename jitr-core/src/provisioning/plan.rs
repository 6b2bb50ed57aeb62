//! Evaluation: a template and one device's parameters in, the plain-data plan of what
//! JITP creates out, or the reason it creates nothing.

use std::collections::BTreeMap;
use std::fmt;

use super::intrinsic::{Env, Expr};
use super::parameters::{CertificateField, Parameters, MAX_PARAMETER_VALUE_LEN, PSEUDO_PARAMETERS};
use super::template::{
    is_number, parse_status, CertificateResource, OverrideSetting, ParameterType, PolicyResource,
    Resource, Template, ThingOverrideSettings, ThingResource,
};
use crate::id::{truncate_for_message, CertificateId};
use crate::status::CertificateStatus;

/// What JITP would do for one device: plain data, for the registry to carry out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProvisioningPlan {
    /// The value of every declared parameter (given or default).
    pub parameters: BTreeMap<String, String>,
    /// The thing, if the template declares one.
    pub thing: Option<ThingPlan>,
    /// The device certificate: its final status.
    pub certificate: CertificatePlan,
    /// The policies to attach to the certificate (creating those with a document).
    pub policies: Vec<PolicyPlan>,
}

/// The thing a template creates (or updates, as its override settings say).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingPlan {
    /// The resource's logical ID.
    pub logical_id: String,
    /// `ThingName`.
    pub thing_name: String,
    /// `AttributePayload`.
    pub attributes: BTreeMap<String, String>,
    /// `ThingTypeName`.
    pub thing_type_name: Option<String>,
    /// `ThingGroups`, in the template's order.
    pub thing_groups: Vec<String>,
    /// `BillingGroup`.
    pub billing_group: Option<String>,
    /// `OverrideSettings`: what happens to each property if the thing exists.
    pub override_settings: ThingOverrideSettings,
}

/// The certificate resource: the connecting certificate and the status JITP gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificatePlan {
    /// The resource's logical ID.
    pub logical_id: String,
    /// `CertificateId`: the connecting certificate.
    pub certificate_id: CertificateId,
    /// `Status`: `ACTIVE` (AWS's default) or `INACTIVE`.
    pub status: CertificateStatus,
    /// `OverrideSettings` for `Status`.
    pub status_override: Option<OverrideSetting>,
}

/// A policy to attach to the certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyPlan {
    /// The resource's logical ID.
    pub logical_id: String,
    /// The policy's name: the template's `PolicyName`, or for a `PolicyDocument` the
    /// lowercase hex SHA-256 of the document (AWS: "defaults to a hash of the policy
    /// document"), so the same document always makes the same policy.
    pub policy_name: String,
    /// The document of a policy to create; `None` attaches the existing policy
    /// `policy_name`.
    pub policy_document: Option<String>,
}

impl PolicyPlan {
    /// Whether JITP creates this policy (else it attaches an existing one).
    pub fn creates(&self) -> bool {
        self.policy_document.is_some()
    }
}

/// Why a template provisions nothing for a device, which therefore stays
/// `PENDING_ACTIVATION` (as on AWS). Each names what is missing or wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvisioningFailure {
    /// A declared parameter has no value and no `Default`.
    MissingParameter {
        /// The parameter, e.g. `AWS::IoT::Certificate::Country`.
        parameter: String,
        /// The certificate field JITP reads it from, for a certificate parameter.
        certificate_field: Option<CertificateField>,
        /// The subject of the certificate the values came from, if known.
        certificate_subject: Option<String>,
        /// That certificate's own serial number (hex), if known.
        certificate_serial: Option<String>,
        /// Other declared parameters that are missing too.
        others: Vec<String>,
    },
    /// A parameter's value does not fit its type or AWS's size limit.
    InvalidParameterValue {
        /// The parameter.
        parameter: String,
        /// Why.
        reason: String,
    },
    /// `Fn::Select`'s index is past the end of its list.
    SelectOutOfRange {
        /// Where the function is.
        path: String,
        /// The index.
        index: usize,
        /// The list's length.
        len: usize,
    },
    /// `Fn::Select`'s index is not a non-negative integer.
    InvalidSelectIndex {
        /// Where the function is.
        path: String,
        /// The index as evaluated.
        index: String,
    },
    /// `Fn::FindInMap` found no value for its keys.
    MappingKeyNotFound {
        /// Where the function is.
        path: String,
        /// The map name.
        map: String,
        /// The top-level key.
        top_level_key: String,
        /// The second-level key.
        second_level_key: String,
    },
    /// A value is a list where a string is expected, or the reverse.
    TypeMismatch {
        /// Where.
        path: String,
        /// What is expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A property's value is not one AWS IoT accepts (a thing name with a space, too
    /// many attributes, an unknown status, ...).
    InvalidPropertyValue {
        /// Where.
        path: String,
        /// The property, e.g. `ThingName`.
        property: &'static str,
        /// The value (shortened).
        value: String,
        /// Why AWS refuses it.
        reason: String,
    },
    /// The policy document is not valid.
    InvalidPolicyDocument {
        /// Where.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// `CertificateId` is not the connecting certificate's ID.
    CertificateIdMismatch {
        /// Where.
        path: String,
        /// What `CertificateId` evaluated to.
        certificate_id: String,
        /// The connecting certificate's ID (`AWS::IoT::Certificate::Id`).
        expected: String,
    },
    /// The evaluation would produce more than
    /// [`MAX_EVALUATION_OUTPUT`](super::MAX_EVALUATION_OUTPUT) characters.
    OutputTooLarge {
        /// Where the limit was reached.
        path: String,
        /// The limit.
        max: usize,
    },
    /// A reference that parsing resolved has no value (an internal error: never
    /// expected).
    UnresolvedReference {
        /// Where.
        path: String,
        /// What it names.
        name: String,
    },
}

impl ProvisioningFailure {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "MISSING_PARAMETER",
        "INVALID_PARAMETER_VALUE",
        "SELECT_INDEX_OUT_OF_RANGE",
        "INVALID_SELECT_INDEX",
        "MAPPING_KEY_NOT_FOUND",
        "TYPE_MISMATCH",
        "INVALID_PROPERTY_VALUE",
        "INVALID_POLICY_DOCUMENT",
        "CERTIFICATE_ID_MISMATCH",
        "OUTPUT_TOO_LARGE",
        "UNRESOLVED_REFERENCE",
    ];

    /// A stable machine code, e.g. `"MISSING_PARAMETER"`.
    pub fn code(&self) -> &'static str {
        Self::CODES[match self {
            Self::MissingParameter { .. } => 0,
            Self::InvalidParameterValue { .. } => 1,
            Self::SelectOutOfRange { .. } => 2,
            Self::InvalidSelectIndex { .. } => 3,
            Self::MappingKeyNotFound { .. } => 4,
            Self::TypeMismatch { .. } => 5,
            Self::InvalidPropertyValue { .. } => 6,
            Self::InvalidPolicyDocument { .. } => 7,
            Self::CertificateIdMismatch { .. } => 8,
            Self::OutputTooLarge { .. } => 9,
            Self::UnresolvedReference { .. } => 10,
        }]
    }

    /// The parameter at fault, if one is.
    pub fn parameter(&self) -> Option<&str> {
        match self {
            Self::MissingParameter { parameter, .. }
            | Self::InvalidParameterValue { parameter, .. } => Some(parameter),
            _ => None,
        }
    }

    /// The certificate field the missing parameter comes from.
    pub fn certificate_field(&self) -> Option<CertificateField> {
        match self {
            Self::MissingParameter {
                certificate_field, ..
            } => *certificate_field,
            Self::InvalidParameterValue { parameter, .. } => {
                CertificateField::for_parameter(parameter)
            }
            _ => None,
        }
    }

    /// Where in the template, as a JSON pointer, if the failure is at one place.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::MissingParameter { .. } | Self::InvalidParameterValue { .. } => None,
            Self::SelectOutOfRange { path, .. }
            | Self::InvalidSelectIndex { path, .. }
            | Self::MappingKeyNotFound { path, .. }
            | Self::TypeMismatch { path, .. }
            | Self::InvalidPropertyValue { path, .. }
            | Self::InvalidPolicyDocument { path, .. }
            | Self::CertificateIdMismatch { path, .. }
            | Self::OutputTooLarge { path, .. }
            | Self::UnresolvedReference { path, .. } => Some(path),
        }
    }

    /// The sentence that explains it (also the `Display` form).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ProvisioningFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingParameter {
                parameter,
                certificate_field,
                certificate_subject,
                certificate_serial,
                others,
            } => {
                write!(f, "the template needs {parameter}, and ")?;
                match (certificate_field, certificate_subject) {
                    (Some(CertificateField::Subject { short_name, attribute, oid }), Some(subject)) => {
                        let shown = if subject.is_empty() { "(empty)" } else { subject.as_str() };
                        write!(
                            f,
                            "the certificate's subject {shown} has no {short_name} ({attribute}, OID {oid}) attribute"
                        )?;
                        if *short_name == "serialNumber" {
                            if let Some(serial) = certificate_serial {
                                write!(
                                    f,
                                    "; JITP reads the subject's serialNumber attribute, not the certificate's serial number (0x{serial})"
                                )?;
                            }
                        }
                    }
                    (Some(field), _) => write!(f, "no value was given for it (it is the certificate's {field})")?,
                    (None, _) if PSEUDO_PARAMETERS.contains(&parameter.as_str()) => write!(
                        f,
                        "it is a pseudo parameter whose value comes from the account: give the account, region and partition"
                    )?,
                    (None, Some(_)) => write!(
                        f,
                        "it has no Default: JITP gives a template only the certificate parameters (AWS::IoT::Certificate::*)"
                    )?,
                    (None, None) => write!(f, "no value was given for it and it has no Default")?,
                }
                if !others.is_empty() {
                    write!(f, " (also missing: {})", others.join(", "))?;
                }
                Ok(())
            }
            Self::InvalidParameterValue { parameter, reason } => {
                write!(f, "parameter {parameter}: {reason}")
            }
            Self::SelectOutOfRange { path, index, len } => write!(
                f,
                "at {path}: Fn::Select's index {index} is out of range: the list has {len} item{}",
                if *len == 1 { "" } else { "s" }
            ),
            Self::InvalidSelectIndex { path, index } => write!(
                f,
                "at {path}: Fn::Select's index {index:?} is not a non-negative integer"
            ),
            Self::MappingKeyNotFound {
                path,
                map,
                top_level_key,
                second_level_key,
            } => write!(
                f,
                "at {path}: Fn::FindInMap found no value for [{map:?}, {top_level_key:?}, {second_level_key:?}]"
            ),
            Self::TypeMismatch {
                path,
                expected,
                found,
            } => write!(f, "at {path}: {found} where {expected} is expected"),
            Self::InvalidPropertyValue {
                path,
                property,
                value,
                reason,
            } => write!(f, "at {path}: {property} {value:?} is not valid: {reason}"),
            Self::InvalidPolicyDocument { path, message } => {
                write!(f, "at {path}: the policy document is not valid: {message}")
            }
            Self::CertificateIdMismatch {
                path,
                certificate_id,
                expected,
            } => write!(
                f,
                "at {path}: CertificateId is {certificate_id:?}, not the connecting certificate's ID {expected}"
            ),
            Self::OutputTooLarge { path, max } => write!(
                f,
                "at {path}: the template's values grow past {max} characters"
            ),
            Self::UnresolvedReference { path, name } => {
                write!(f, "at {path}: {name:?} has no value (internal error)")
            }
        }
    }
}

impl std::error::Error for ProvisioningFailure {}

/// What AWS IoT allows in a name or an attribute: `min` to `max` characters, each an ASCII
/// letter, a digit or one of `punctuation`; with what to say of a string that breaks
/// either rule.
struct TextRule {
    min: usize,
    max: usize,
    punctuation: &'static str,
    bad_length: &'static str,
    bad_character: &'static str,
}

impl TextRule {
    /// What is wrong with `s`, if anything.
    fn problem(&self, s: &str) -> Option<&'static str> {
        let len = s.chars().count();
        if len < self.min || len > self.max {
            Some(self.bad_length)
        } else if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || self.punctuation.contains(c))
        {
            Some(self.bad_character)
        } else {
            None
        }
    }
}

/// AWS IoT's `[a-zA-Z0-9:_-]+`, 1 to 128 characters (thing, thing type, thing group and
/// billing group names).
const NAME: TextRule = TextRule {
    min: 1,
    max: 128,
    punctuation: ":_-",
    bad_length: "it must have 1 to 128 characters",
    bad_character: "only letters, digits and :_- are allowed",
};

const ATTRIBUTE_NAME: TextRule = TextRule {
    min: 1,
    max: 128,
    punctuation: "_.,@/:#-",
    bad_length: "an attribute name has 1 to 128 characters",
    bad_character: "an attribute name has only letters, digits and _.,@/:#-",
};

const ATTRIBUTE_VALUE: TextRule = TextRule {
    min: 0,
    max: 800,
    punctuation: "_.,@/:#=[]-",
    bad_length: "an attribute value has at most 800 characters",
    bad_character: "an attribute value has only letters, digits and _.,@/:#=[]-",
};

fn invalid(
    path: &str,
    property: &'static str,
    value: &str,
    reason: impl Into<String>,
) -> ProvisioningFailure {
    ProvisioningFailure::InvalidPropertyValue {
        path: path.to_string(),
        property,
        value: truncate_for_message(value).to_string(),
        reason: reason.into(),
    }
}

fn named(
    e: &Expr,
    env: &mut Env<'_>,
    property: &'static str,
) -> Result<String, ProvisioningFailure> {
    let s = e.eval_str(env)?;
    match NAME.problem(&s) {
        Some(reason) => Err(invalid(e.path(), property, &s, reason)),
        None => Ok(s),
    }
}

impl Template {
    /// Runs the template for one device: every declared parameter must have a value
    /// (given in `parameters`, else its `Default`), then each resource is evaluated, its
    /// values checked against what AWS IoT accepts, and the policy documents against
    /// [`validate_policy_document`](crate::validate_policy_document).
    ///
    /// Deterministic, bounded ([`MAX_EVALUATION_OUTPUT`](super::MAX_EVALUATION_OUTPUT))
    /// and free of side effects: the plan is for the caller to carry out.
    pub fn evaluate(
        &self,
        parameters: &Parameters,
    ) -> Result<ProvisioningPlan, ProvisioningFailure> {
        let mut values = BTreeMap::new();
        let mut missing = Vec::new();
        for (name, decl) in &self.parameters {
            match parameters
                .get(name)
                .map(str::to_string)
                .or_else(|| decl.default.clone())
            {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None => missing.push(name.clone()),
            }
        }
        if !missing.is_empty() {
            let parameter = missing.remove(0);
            let facts = parameters.certificate_facts();
            return Err(ProvisioningFailure::MissingParameter {
                certificate_field: CertificateField::for_parameter(&parameter),
                parameter,
                certificate_subject: facts.map(|f| f.subject.clone()),
                certificate_serial: facts.map(|f| f.serial_hex.clone()),
                others: missing,
            });
        }
        for (name, v) in &values {
            let invalid = |reason: String| ProvisioningFailure::InvalidParameterValue {
                parameter: name.clone(),
                reason,
            };
            if v.chars().count() > MAX_PARAMETER_VALUE_LEN {
                return Err(invalid(format!(
                    "the value is longer than {MAX_PARAMETER_VALUE_LEN} characters"
                )));
            }
            let number = self
                .parameters
                .get(name)
                .is_some_and(|d| d.parameter_type == ParameterType::Number);
            if number && !is_number(v) {
                return Err(invalid(format!(
                    "{:?} is not a number, and the parameter's Type is Number",
                    truncate_for_message(v)
                )));
            }
        }
        let pseudo: BTreeMap<String, String> = PSEUDO_PARAMETERS
            .iter()
            .filter_map(|n| parameters.get(n).map(|v| (n.to_string(), v.to_string())))
            .collect();
        let mut env = Env::new(&values, &pseudo, &self.mappings);
        let mut thing = None;
        let mut certificate = None;
        let mut policies = Vec::new();
        for (id, resource) in &self.resources {
            let ref_value = match resource {
                Resource::Thing(t) => {
                    let plan = thing_plan(id, t, &mut env)?;
                    let name = plan.thing_name.clone();
                    thing = Some(plan);
                    name
                }
                Resource::Certificate(c) => {
                    let plan = certificate_plan(id, c, &mut env, parameters)?;
                    let id = plan.certificate_id.to_string();
                    certificate = Some(plan);
                    id
                }
                Resource::Policy(p) => {
                    let plan = policy_plan(id, p, &mut env)?;
                    let name = plan.policy_name.clone();
                    policies.push(plan);
                    name
                }
            };
            env.resources.insert(id.clone(), ref_value);
        }
        let certificate = certificate.ok_or_else(|| ProvisioningFailure::UnresolvedReference {
            path: "/Resources".into(),
            name: "AWS::IoT::Certificate".into(),
        })?;
        Ok(ProvisioningPlan {
            parameters: values,
            thing,
            certificate,
            policies,
        })
    }
}

fn thing_plan(
    id: &str,
    t: &ThingResource,
    env: &mut Env<'_>,
) -> Result<ThingPlan, ProvisioningFailure> {
    let thing_name = named(&t.thing_name, env, "ThingName")?;
    let thing_type_name = t
        .thing_type_name
        .as_ref()
        .map(|e| named(e, env, "ThingTypeName"))
        .transpose()?;
    let mut attributes = BTreeMap::new();
    if let Some((payload_path, pairs)) = &t.attributes {
        let max = if thing_type_name.is_some() { 50 } else { 3 };
        if pairs.len() > max {
            return Err(invalid(
                payload_path,
                "AttributePayload",
                &format!("{} attributes", pairs.len()),
                if thing_type_name.is_some() {
                    "a thing with a thing type has at most 50 attributes"
                } else {
                    "a thing without a thing type has at most 3 attributes"
                },
            ));
        }
        for (name, e) in pairs {
            if let Some(reason) = ATTRIBUTE_NAME.problem(name) {
                return Err(invalid(e.path(), "AttributePayload", name, reason));
            }
            let v = e.eval_str(env)?;
            if let Some(reason) = ATTRIBUTE_VALUE.problem(&v) {
                return Err(invalid(e.path(), "AttributePayload", &v, reason));
            }
            attributes.insert(name.clone(), v);
        }
    }
    let mut thing_groups = Vec::new();
    if let Some(e) = &t.thing_groups {
        for g in e.eval_list(env)? {
            if let Some(reason) = NAME.problem(&g) {
                return Err(invalid(e.path(), "ThingGroups", &g, reason));
            }
            thing_groups.push(g);
        }
    }
    let billing_group = t
        .billing_group
        .as_ref()
        .map(|e| named(e, env, "BillingGroup"))
        .transpose()?;
    Ok(ThingPlan {
        logical_id: id.to_string(),
        thing_name,
        attributes,
        thing_type_name,
        thing_groups,
        billing_group,
        override_settings: t.overrides,
    })
}

fn certificate_plan(
    id: &str,
    c: &CertificateResource,
    env: &mut Env<'_>,
    parameters: &Parameters,
) -> Result<CertificatePlan, ProvisioningFailure> {
    let path = c.certificate_id.path();
    let value = c.certificate_id.eval_str(env)?;
    let certificate_id: CertificateId = value.parse().map_err(|_| {
        invalid(
            path,
            "CertificateId",
            &value,
            "a certificate ID is 64 hexadecimal characters",
        )
    })?;
    if let Some(expected) = parameters.get("AWS::IoT::Certificate::Id") {
        if expected.parse::<CertificateId>().ok() != Some(certificate_id) {
            return Err(ProvisioningFailure::CertificateIdMismatch {
                path: path.to_string(),
                certificate_id: certificate_id.to_string(),
                expected: truncate_for_message(expected).to_string(),
            });
        }
    }
    let status = match &c.status {
        None => CertificateStatus::Active,
        Some(e) => {
            let s = e.eval_str(env)?;
            parse_status(&s)
                .ok_or_else(|| invalid(e.path(), "Status", &s, "Status is ACTIVE or INACTIVE"))?
        }
    };
    Ok(CertificatePlan {
        logical_id: id.to_string(),
        certificate_id,
        status,
        status_override: c.status_override,
    })
}

fn policy_plan(
    id: &str,
    p: &PolicyResource,
    env: &mut Env<'_>,
) -> Result<PolicyPlan, ProvisioningFailure> {
    let (document, path) = match p {
        PolicyResource::Name(e) => {
            let name = e.eval_str(env)?;
            crate::validate_policy_name(&name)
                .map_err(|err| invalid(e.path(), "PolicyName", &name, err.message()))?;
            return Ok(PolicyPlan {
                logical_id: id.to_string(),
                policy_name: name,
                policy_document: None,
            });
        }
        PolicyResource::Text(e) => (e.eval_str(env)?, e.path().to_string()),
        PolicyResource::Json { doc, path } => {
            let value = doc.eval(env)?;
            (value.to_string(), path.clone())
        }
    };
    crate::validate_policy_document(&document).map_err(|e| {
        ProvisioningFailure::InvalidPolicyDocument {
            path: path.clone(),
            message: e.message().to_string(),
        }
    })?;
    let digest = ring::digest::digest(&ring::digest::SHA256, document.as_bytes());
    Ok(PolicyPlan {
        logical_id: id.to_string(),
        policy_name: hex::encode(digest.as_ref()),
        policy_document: Some(document),
    })
}
