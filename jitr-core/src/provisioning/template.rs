//! Provisioning templates: parsing and every check that can be made before a device
//! connects.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::intrinsic::{is_function_key, Doc, Expr, Mappings, Parser, Val};
use super::parameters::{
    CertificateField, MAX_PARAMETER_NAME_LEN, MAX_PARAMETER_VALUE_LEN, PSEUDO_PARAMETERS,
};
use crate::error::Error;
use crate::id::truncate_for_message;
use crate::MAX_TEMPLATE_BODY_LEN;

/// The deepest JSON nesting a template may have, counting the top-level object as 1.
/// AWS's own examples need 7 (a policy document object with a condition inside a
/// resource); 32 leaves room for any real template and keeps recursion shallow.
pub const MAX_TEMPLATE_DEPTH: usize = 32;

/// The most `AWS::IoT::Policy` resources a template may declare: AWS IoT attaches at most
/// 10 policies to a certificate (AWS IoT Core quotas).
pub const MAX_TEMPLATE_POLICIES: usize = 10;

/// Why a template cannot be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TemplateErrorKind {
    /// Longer than AWS's 10,240 characters.
    TooLong,
    /// Not JSON.
    NotJson,
    /// Nested deeper than [`MAX_TEMPLATE_DEPTH`].
    TooDeep,
    /// A value of the wrong JSON type, or a list where a string is expected (or the
    /// reverse).
    WrongType,
    /// A key templates do not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A resource `Type` other than `AWS::IoT::Thing`, `AWS::IoT::Certificate` and
    /// `AWS::IoT::Policy`.
    UnknownResourceType,
    /// Something AWS defines for other kinds of provisioning (fleet provisioning,
    /// bulk registration) but not for JITP.
    NotForJitp,
    /// Too many or too few resources of a type.
    ResourceCount,
    /// A parameter declaration is invalid (type, default, reserved name).
    InvalidParameter,
    /// A name is both a parameter and a resource.
    DuplicateName,
    /// A function templates do not have.
    UnknownFunction,
    /// A function with the wrong arguments.
    InvalidFunction,
    /// `Ref` (or a `${…}` of `Fn::Sub`) names no parameter, pseudo parameter or resource.
    UnknownReference,
    /// Resources refer to each other in a loop.
    RefCycle,
    /// `Fn::Select` with a literal index past the end of a literal list.
    SelectOutOfRange,
    /// `Fn::FindInMap` names a map or a literal key that `Mappings` does not have.
    UnknownMapping,
    /// The `Mappings` section is malformed.
    InvalidMappings,
    /// An `OverrideSettings` entry AWS does not allow.
    InvalidOverride,
    /// A policy with both or neither of `PolicyName` and `PolicyDocument`.
    InvalidPolicy,
}

impl TemplateErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [TemplateErrorKind] = &[
        Self::TooLong,
        Self::NotJson,
        Self::TooDeep,
        Self::WrongType,
        Self::UnknownKey,
        Self::MissingKey,
        Self::UnknownResourceType,
        Self::NotForJitp,
        Self::ResourceCount,
        Self::InvalidParameter,
        Self::DuplicateName,
        Self::UnknownFunction,
        Self::InvalidFunction,
        Self::UnknownReference,
        Self::RefCycle,
        Self::SelectOutOfRange,
        Self::UnknownMapping,
        Self::InvalidMappings,
        Self::InvalidOverride,
        Self::InvalidPolicy,
    ];

    /// A stable machine code, e.g. `"UNKNOWN_FUNCTION"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::TooLong => "TEMPLATE_TOO_LONG",
            Self::NotJson => "NOT_JSON",
            Self::TooDeep => "TOO_DEEP",
            Self::WrongType => "WRONG_TYPE",
            Self::UnknownKey => "UNKNOWN_KEY",
            Self::MissingKey => "MISSING_KEY",
            Self::UnknownResourceType => "UNKNOWN_RESOURCE_TYPE",
            Self::NotForJitp => "NOT_FOR_JITP",
            Self::ResourceCount => "RESOURCE_COUNT",
            Self::InvalidParameter => "INVALID_PARAMETER",
            Self::DuplicateName => "DUPLICATE_NAME",
            Self::UnknownFunction => "UNKNOWN_FUNCTION",
            Self::InvalidFunction => "INVALID_FUNCTION",
            Self::UnknownReference => "UNKNOWN_REFERENCE",
            Self::RefCycle => "REF_CYCLE",
            Self::SelectOutOfRange => "SELECT_OUT_OF_RANGE",
            Self::UnknownMapping => "UNKNOWN_MAPPING",
            Self::InvalidMappings => "INVALID_MAPPINGS",
            Self::InvalidOverride => "INVALID_OVERRIDE",
            Self::InvalidPolicy => "INVALID_POLICY",
        }
    }
}

/// A template refused when it is stored: what is wrong and where.
///
/// `path` is a JSON pointer (RFC 6901) into the template, `""` for the whole of it.
/// Converts into [`Error::InvalidRequest`], AWS's answer to a bad template.
///
/// ```
/// use jitr_core::provisioning::{Template, TemplateErrorKind};
/// let err = Template::parse(r#"{"Resources": {"t": {"Type": "AWS::S3::Bucket"}}}"#).unwrap_err();
/// assert_eq!(err.kind(), TemplateErrorKind::UnknownResourceType);
/// assert_eq!(err.path(), "/Resources/t/Type");
/// assert_eq!(jitr_core::Error::from(err).code(), "InvalidRequestException");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    kind: TemplateErrorKind,
    path: String,
    detail: String,
}

impl TemplateError {
    pub(crate) fn new(kind: TemplateErrorKind, path: &str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.to_string(),
            detail: detail.into(),
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> TemplateErrorKind {
        self.kind
    }

    /// The kind's machine code.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Where: a JSON pointer into the template (`""` is the whole template).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The sentence that says what is wrong, without the path.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "templateBody: {}", self.detail)
        } else {
            write!(f, "templateBody at {}: {}", self.path, self.detail)
        }
    }
}

impl std::error::Error for TemplateError {}

impl From<TemplateError> for Error {
    fn from(e: TemplateError) -> Self {
        Error::InvalidRequest(e.to_string())
    }
}

/// `path` extended by one object key or array index (RFC 6901 escaping).
pub(crate) fn child(path: &str, key: &str) -> String {
    let mut out = String::with_capacity(path.len() + key.len() + 1);
    out.push_str(path);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

fn err(kind: TemplateErrorKind, path: &str, detail: impl Into<String>) -> TemplateError {
    TemplateError::new(kind, path, detail)
}

use TemplateErrorKind as K;

/// The type of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParameterType {
    /// `String`: any text (what AWS's examples use, and what JITP's certificate
    /// parameters are).
    String,
    /// `Number`: text that reads as a decimal number (CloudFormation's `Number`).
    Number,
}

impl ParameterType {
    /// The template's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "String",
            Self::Number => "Number",
        }
    }
}

/// A declared parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParameterDeclaration {
    /// Its type.
    pub parameter_type: ParameterType,
    /// The value used when none is given.
    pub default: Option<String>,
}

/// Whether `s` reads as a number (CloudFormation's `Number` type: an integer or a
/// decimal, optionally signed, with an optional exponent).
pub(crate) fn is_number(s: &str) -> bool {
    s.len() <= 64 && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// What happens to a property of a resource that already exists (AWS's
/// `OverrideSettings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OverrideSetting {
    /// `DO_NOTHING`: leave the existing value.
    DoNothing,
    /// `REPLACE`: replace it with the template's.
    Replace,
    /// `FAIL`: fail the provisioning (AWS: `ResourceConflictsException`).
    Fail,
    /// `MERGE`: merge the template's attributes or groups into the existing ones
    /// (thing `AttributePayload` and `ThingGroups` only).
    Merge,
}

impl OverrideSetting {
    /// Every value.
    pub const ALL: &'static [OverrideSetting] =
        &[Self::DoNothing, Self::Replace, Self::Fail, Self::Merge];

    /// AWS's spelling, e.g. `"DO_NOTHING"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DoNothing => "DO_NOTHING",
            Self::Replace => "REPLACE",
            Self::Fail => "FAIL",
            Self::Merge => "MERGE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|o| o.as_str() == s)
    }
}

impl fmt::Display for OverrideSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A thing's `OverrideSettings`; `None` where the template gives none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThingOverrideSettings {
    /// For `AttributePayload`: any of the four.
    pub attribute_payload: Option<OverrideSetting>,
    /// For `ThingTypeName`: `DO_NOTHING`, `REPLACE` or `FAIL`.
    pub thing_type_name: Option<OverrideSetting>,
    /// For `ThingGroups`: any of the four.
    pub thing_groups: Option<OverrideSetting>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ThingResource {
    pub(crate) thing_name: Expr,
    pub(crate) attributes: Option<(String, Vec<(String, Expr)>)>,
    pub(crate) thing_type_name: Option<Expr>,
    pub(crate) thing_groups: Option<Expr>,
    pub(crate) billing_group: Option<Expr>,
    pub(crate) overrides: ThingOverrideSettings,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertificateResource {
    pub(crate) certificate_id: Expr,
    pub(crate) status: Option<Expr>,
    pub(crate) status_override: Option<OverrideSetting>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PolicyResource {
    /// An existing policy, by name.
    Name(Expr),
    /// A policy document written as a string.
    Text(Expr),
    /// A policy document written as a JSON object.
    Json { doc: Doc, path: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    Thing(Box<ThingResource>),
    Certificate(CertificateResource),
    Policy(PolicyResource),
}

/// A just-in-time provisioning template, parsed and checked.
///
/// [`Template::parse`] refuses, with a [`TemplateError`] saying what and where, every
/// template AWS's documentation does not define for JITP or that cannot work whatever
/// certificate connects; [`Template::evaluate`] runs it for one device.
///
/// ```
/// use jitr_core::provisioning::{Parameters, Template};
/// let template = Template::parse(r#"{
///   "Parameters": {
///     "AWS::IoT::Certificate::CommonName": {"Type": "String"},
///     "AWS::IoT::Certificate::Id": {"Type": "String"}
///   },
///   "Resources": {
///     "thing": {"Type": "AWS::IoT::Thing",
///               "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}},
///     "certificate": {"Type": "AWS::IoT::Certificate",
///                     "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
///                                    "Status": "ACTIVE"}},
///     "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "DevicePolicy"}}
///   }
/// }"#)?;
/// let mut p = Parameters::new();
/// p.insert("AWS::IoT::Certificate::CommonName", "device-1");
/// p.insert("AWS::IoT::Certificate::Id", "ab".repeat(32));
/// let plan = template.evaluate(&p).unwrap();
/// assert_eq!(plan.thing.unwrap().thing_name, "device-1");
/// assert_eq!(plan.policies[0].policy_name, "DevicePolicy");
///
/// p = Parameters::new();
/// p.insert("AWS::IoT::Certificate::Id", "ab".repeat(32));
/// let failure = template.evaluate(&p).unwrap_err();
/// assert_eq!(failure.parameter(), Some("AWS::IoT::Certificate::CommonName"));
/// # Ok::<(), jitr_core::provisioning::TemplateError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub(crate) parameters: BTreeMap<String, ParameterDeclaration>,
    pub(crate) mappings: Mappings,
    /// Resources by logical ID, in an order where each comes after those it refers to.
    pub(crate) resources: Vec<(String, Resource)>,
}

impl Template {
    /// Parses and checks a template body (the `templateBody` of a CA's
    /// `registrationConfig` or of a `JITP` provisioning template).
    pub fn parse(body: &str) -> Result<Template, TemplateError> {
        let chars = body.chars().count();
        if chars > MAX_TEMPLATE_BODY_LEN {
            return Err(err(
                K::TooLong,
                "",
                format!(
                    "the template is {chars} characters; AWS accepts at most {MAX_TEMPLATE_BODY_LEN}"
                ),
            ));
        }
        let root: Value = serde_json::from_str(body).map_err(|e| {
            if e.to_string().contains("recursion limit") {
                err(
                    K::TooDeep,
                    "",
                    format!("the template is nested deeper than {MAX_TEMPLATE_DEPTH} levels"),
                )
            } else {
                err(K::NotJson, "", format!("the template is not JSON: {e}"))
            }
        })?;
        if let Some(path) = too_deep(&root) {
            return Err(err(
                K::TooDeep,
                &path,
                format!("the template is nested deeper than {MAX_TEMPLATE_DEPTH} levels"),
            ));
        }
        let Value::Object(top) = &root else {
            return Err(err(K::WrongType, "", "the template must be a JSON object"));
        };
        for key in top.keys() {
            match key.as_str() {
                "Parameters" | "Mappings" | "Resources" => {}
                "DeviceConfiguration" => {
                    return Err(err(
                        K::NotForJitp,
                        &child("", key),
                        "DeviceConfiguration belongs to fleet-provisioning templates; a JITP template has Parameters, Mappings and Resources",
                    ))
                }
                other => {
                    return Err(err(
                        K::UnknownKey,
                        &child("", other),
                        format!(
                            "{} is not a section of provisioning templates (Parameters, Mappings, Resources)",
                            quoted(other)
                        ),
                    ))
                }
            }
        }
        let parameters = match top.get("Parameters") {
            Some(v) => parse_parameters(v)?,
            None => BTreeMap::new(),
        };
        let mappings = match top.get("Mappings") {
            Some(v) => parse_mappings(v)?,
            None => Mappings::new(),
        };
        let Some(resources) = top.get("Resources") else {
            return Err(err(
                K::MissingKey,
                "",
                "the template has no Resources section",
            ));
        };
        let resources = parse_resources(resources, &parameters, &mappings)?;
        Ok(Template {
            parameters,
            mappings,
            resources,
        })
    }

    /// The declared parameters, by name.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, &ParameterDeclaration)> {
        self.parameters.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The logical IDs of the resources, each after those it refers to.
    pub fn resource_ids(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|(id, _)| id.as_str())
    }
}

fn quoted(s: &str) -> String {
    format!("{:?}", truncate_for_message(s))
}

/// The path of the first value nested deeper than [`MAX_TEMPLATE_DEPTH`], without
/// recursion. Paths are only built when the cheap scan finds the template too deep.
fn too_deep(root: &Value) -> Option<String> {
    let children = |v: &Value| -> usize {
        match v {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        }
    };
    let mut stack: Vec<(&Value, usize)> = vec![(root, 1)];
    let mut exceeded = false;
    while let Some((v, depth)) = stack.pop() {
        if depth >= MAX_TEMPLATE_DEPTH && children(v) > 0 {
            exceeded = true;
            break;
        }
        match v {
            Value::Object(m) => stack.extend(m.values().map(|c| (c, depth + 1))),
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    if !exceeded {
        return None;
    }
    let mut stack: Vec<(&Value, usize, String)> = vec![(root, 1, String::new())];
    while let Some((v, depth, path)) = stack.pop() {
        if depth >= MAX_TEMPLATE_DEPTH && children(v) > 0 {
            return Some(path);
        }
        match v {
            Value::Object(m) => {
                stack.extend(m.iter().map(|(k, c)| (c, depth + 1, child(&path, k))));
            }
            Value::Array(a) => {
                stack.extend(
                    a.iter()
                        .enumerate()
                        .map(|(i, c)| (c, depth + 1, child(&path, &i.to_string()))),
                );
            }
            _ => {}
        }
    }
    Some(String::new())
}

fn object<'v>(
    v: &'v Value,
    path: &str,
    what: &str,
) -> Result<&'v Map<String, Value>, TemplateError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(err(
            K::WrongType,
            path,
            format!("{what} must be a JSON object"),
        )),
    }
}

fn parse_parameters(v: &Value) -> Result<BTreeMap<String, ParameterDeclaration>, TemplateError> {
    let section = object(v, "/Parameters", "Parameters")?;
    let mut out = BTreeMap::new();
    for (name, decl) in section {
        let path = child("/Parameters", name);
        if name.is_empty() || name.chars().count() > MAX_PARAMETER_NAME_LEN {
            return Err(err(
                K::InvalidParameter,
                &path,
                format!("a parameter name has 1 to {MAX_PARAMETER_NAME_LEN} characters"),
            ));
        }
        if PSEUDO_PARAMETERS.contains(&name.as_str()) {
            return Err(err(
                K::InvalidParameter,
                &path,
                format!("{name} is a pseudo parameter: refer to it without declaring it"),
            ));
        }
        if name.starts_with("AWS::") && CertificateField::for_parameter(name).is_none() {
            return Err(err(
                K::InvalidParameter,
                &path,
                format!(
                    "{} is not a parameter AWS IoT defines; JITP's are AWS::IoT::Certificate::Country, Organization, OrganizationalUnit, DistinguishedNameQualifier, StateName, CommonName, SerialNumber and Id",
                    quoted(name)
                ),
            ));
        }
        let fields = object(decl, &path, "a parameter declaration")?;
        for key in fields.keys() {
            if key != "Type" && key != "Default" {
                return Err(err(
                    K::UnknownKey,
                    &child(&path, key),
                    format!(
                        "{} is not a key of parameter declarations (Type, Default)",
                        quoted(key)
                    ),
                ));
            }
        }
        let type_path = child(&path, "Type");
        let parameter_type = match fields.get("Type") {
            None => {
                return Err(err(K::MissingKey, &path, "the parameter has no Type"));
            }
            Some(Value::String(t)) if t == "String" => ParameterType::String,
            Some(Value::String(t)) if t == "Number" => ParameterType::Number,
            Some(other) => {
                return Err(err(
                    K::InvalidParameter,
                    &type_path,
                    format!("the parameter Type {other} is not String or Number"),
                ))
            }
        };
        let default_path = child(&path, "Default");
        let default = match fields.get("Default") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) if parameter_type == ParameterType::Number => {
                Some(n.to_string())
            }
            Some(other) => {
                return Err(err(
                    K::InvalidParameter,
                    &default_path,
                    format!("the Default {other} is not a string"),
                ))
            }
        };
        if let Some(d) = &default {
            if d.chars().count() > MAX_PARAMETER_VALUE_LEN {
                return Err(err(
                    K::InvalidParameter,
                    &default_path,
                    format!("the Default is longer than {MAX_PARAMETER_VALUE_LEN} characters"),
                ));
            }
            if parameter_type == ParameterType::Number && !is_number(d) {
                return Err(err(
                    K::InvalidParameter,
                    &default_path,
                    format!(
                        "the Default {} of a Number parameter is not a number",
                        quoted(d)
                    ),
                ));
            }
        }
        out.insert(
            name.clone(),
            ParameterDeclaration {
                parameter_type,
                default,
            },
        );
    }
    Ok(out)
}

fn parse_mappings(v: &Value) -> Result<Mappings, TemplateError> {
    let section = object(v, "/Mappings", "Mappings")?;
    let mut out = Mappings::new();
    for (name, map) in section {
        let map_path = child("/Mappings", name);
        let mut tops = BTreeMap::new();
        for (top, seconds) in object(map, &map_path, "a map")? {
            let top_path = child(&map_path, top);
            if is_function_key(top) {
                return Err(functions_in_mappings(&top_path));
            }
            let mut values = BTreeMap::new();
            for (second, value) in object(seconds, &top_path, "a top-level key's entry")? {
                let path = child(&top_path, second);
                if is_function_key(second) {
                    return Err(functions_in_mappings(&path));
                }
                let value = match value {
                    Value::String(s) => Val::Str(s.clone()),
                    Value::Number(n) => Val::Str(n.to_string()),
                    Value::Array(items) => Val::List(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| match item {
                                Value::String(s) => Ok(s.clone()),
                                _ => Err(err(
                                    K::InvalidMappings,
                                    &child(&path, &i.to_string()),
                                    "a mapping list holds strings",
                                )),
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    Value::Object(m) if m.keys().any(|k| is_function_key(k)) => {
                        return Err(functions_in_mappings(&path))
                    }
                    _ => {
                        return Err(err(
                            K::InvalidMappings,
                            &path,
                            "a mapping value is a string, a number or a list of strings",
                        ))
                    }
                };
                values.insert(second.clone(), value);
            }
            tops.insert(top.clone(), values);
        }
        out.insert(name.clone(), tops);
    }
    Ok(out)
}

fn functions_in_mappings(path: &str) -> TemplateError {
    err(
        K::InvalidMappings,
        path,
        "the Mappings section cannot hold parameters, pseudo parameters or intrinsic functions (AWS)",
    )
}

/// The three resource types, and what each resource of a template is.
const THING: &str = "AWS::IoT::Thing";
const CERTIFICATE: &str = "AWS::IoT::Certificate";
const POLICY: &str = "AWS::IoT::Policy";

fn parse_resources(
    v: &Value,
    parameters: &BTreeMap<String, ParameterDeclaration>,
    mappings: &Mappings,
) -> Result<Vec<(String, Resource)>, TemplateError> {
    let section = object(v, "/Resources", "Resources")?;
    // First pass: names and types, so that references can be resolved in any order.
    let mut names = BTreeSet::new();
    let mut counts = [0usize; 3];
    for (id, resource) in section {
        let path = child("/Resources", id);
        if id.is_empty() {
            return Err(err(K::WrongType, &path, "a resource's logical ID is empty"));
        }
        if parameters.contains_key(id) {
            return Err(err(
                K::DuplicateName,
                &path,
                format!("{} is both a parameter and a resource", quoted(id)),
            ));
        }
        let fields = object(resource, &path, "a resource")?;
        let type_path = child(&path, "Type");
        match fields.get("Type") {
            Some(Value::String(t)) if t == THING => counts[0] += 1,
            Some(Value::String(t)) if t == CERTIFICATE => counts[1] += 1,
            Some(Value::String(t)) if t == POLICY => counts[2] += 1,
            Some(Value::String(t)) => {
                return Err(err(
                    K::UnknownResourceType,
                    &type_path,
                    format!(
                        "{} is not a resource type of provisioning templates ({THING}, {CERTIFICATE}, {POLICY})",
                        quoted(t)
                    ),
                ))
            }
            Some(_) => return Err(err(K::WrongType, &type_path, "Type must be a string")),
            None => return Err(err(K::MissingKey, &path, "the resource has no Type")),
        }
        names.insert(id.clone());
    }
    if counts[0] > 1 {
        return Err(err(
            K::ResourceCount,
            "/Resources",
            format!(
                "the template declares {} things; JITP provisions one",
                counts[0]
            ),
        ));
    }
    if counts[1] != 1 {
        return Err(err(
            K::ResourceCount,
            "/Resources",
            format!(
                "the template declares {} certificate resources; a JITP template declares one, with CertificateId {{\"Ref\": \"AWS::IoT::Certificate::Id\"}}",
                counts[1]
            ),
        ));
    }
    if counts[2] > MAX_TEMPLATE_POLICIES {
        return Err(err(
            K::ResourceCount,
            "/Resources",
            format!(
                "the template declares {} policies; AWS IoT attaches at most {MAX_TEMPLATE_POLICIES} to a certificate",
                counts[2]
            ),
        ));
    }

    let mut parser = Parser::new(parameters, mappings, &names);
    let mut parsed = BTreeMap::new();
    let mut dependencies = BTreeMap::new();
    for (id, resource) in section {
        let path = child("/Resources", id);
        let fields = object(resource, &path, "a resource")?;
        let r = parse_resource(&mut parser, fields, &path)?;
        dependencies.insert(id.clone(), parser.take_dependencies());
        parsed.insert(id.clone(), r);
    }
    let order = topological_order(&dependencies)?;
    Ok(order
        .into_iter()
        .filter_map(|id| parsed.remove(&id).map(|r| (id, r)))
        .collect())
}

/// Resources in an order where each follows those it refers to; a loop is an error.
fn topological_order(
    dependencies: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<String>, TemplateError> {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(dependencies.len());
    while order.len() < dependencies.len() {
        let next = dependencies.iter().find(|(id, deps)| {
            !done.contains(id.as_str()) && deps.iter().all(|d| done.contains(d.as_str()))
        });
        match next {
            Some((id, _)) => {
                done.insert(id);
                order.push(id.clone());
            }
            None => {
                let stuck: Vec<&str> = dependencies
                    .keys()
                    .map(String::as_str)
                    .filter(|id| !done.contains(id))
                    .collect();
                let first = stuck.first().copied().unwrap_or_default();
                return Err(err(
                    K::RefCycle,
                    &child("/Resources", first),
                    format!(
                        "resources refer to each other in a loop (through Ref or Fn::Sub): {}",
                        stuck.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(order)
}

fn check_keys(
    fields: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
    what: &str,
) -> Result<(), TemplateError> {
    for key in fields.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(err(
                K::UnknownKey,
                &child(path, key),
                format!(
                    "{} is not a key of {what} ({})",
                    quoted(key),
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn parse_resource(
    parser: &mut Parser<'_>,
    fields: &Map<String, Value>,
    path: &str,
) -> Result<Resource, TemplateError> {
    let kind = match fields.get("Type") {
        Some(Value::String(t)) => t.as_str(),
        _ => "",
    };
    let allowed: &[&str] = if kind == POLICY {
        &["Type", "Properties"]
    } else {
        &["Type", "Properties", "OverrideSettings"]
    };
    if kind == POLICY && fields.contains_key("OverrideSettings") {
        return Err(err(
            K::InvalidOverride,
            &child(path, "OverrideSettings"),
            "OverrideSettings are not available for policy resources (AWS)",
        ));
    }
    check_keys(fields, path, allowed, "a resource")?;
    let props_path = child(path, "Properties");
    let props = match fields.get("Properties") {
        Some(v) => object(v, &props_path, "Properties")?,
        None => return Err(err(K::MissingKey, path, "the resource has no Properties")),
    };
    let overrides_path = child(path, "OverrideSettings");
    let overrides = match fields.get("OverrideSettings") {
        Some(v) => Some(object(v, &overrides_path, "OverrideSettings")?),
        None => None,
    };
    let b = Body {
        props,
        props_path,
        overrides,
        overrides_path,
    };
    match kind {
        THING => parse_thing(parser, &b),
        CERTIFICATE => parse_certificate(parser, &b),
        _ => parse_policy(parser, &b),
    }
}

/// A resource's Properties and OverrideSettings, with their paths for errors.
struct Body<'a> {
    props: &'a Map<String, Value>,
    props_path: String,
    overrides: Option<&'a Map<String, Value>>,
    overrides_path: String,
}

impl<'a> Body<'a> {
    /// A property and its path, if the resource has it.
    fn prop(&self, name: &str) -> Option<(&'a Value, String)> {
        self.props
            .get(name)
            .map(|v| (v, child(&self.props_path, name)))
    }

    /// A property the resource must have; `missing` says so when it has not.
    fn required(&self, name: &str, missing: &str) -> Result<(&'a Value, String), TemplateError> {
        self.prop(name)
            .ok_or_else(|| err(K::MissingKey, &self.props_path, missing))
    }
}

/// An `AWS::IoT::Thing`.
fn parse_thing(parser: &mut Parser<'_>, b: &Body<'_>) -> Result<Resource, TemplateError> {
    check_keys(
        b.props,
        &b.props_path,
        &[
            "ThingName",
            "AttributePayload",
            "ThingTypeName",
            "ThingGroups",
            "BillingGroup",
        ],
        "thing Properties",
    )?;
    let (name, name_path) = b.required("ThingName", "the thing has no ThingName")?;
    let thing_name = parser.string(name, &name_path)?;
    let attributes = match b.prop("AttributePayload") {
        None => None,
        Some((v, p)) => {
            let Value::Object(m) = v else {
                return Err(err(
                    K::WrongType,
                    &p,
                    "AttributePayload must be a JSON object of attribute names and values",
                ));
            };
            if m.keys().any(|k| is_function_key(k)) {
                return Err(err(
                    K::WrongType,
                    &p,
                    "AttributePayload must be an object of attribute names and values, not a function",
                ));
            }
            let mut pairs = Vec::with_capacity(m.len());
            for (k, v) in m {
                pairs.push((k.clone(), parser.string(v, &child(&p, k))?));
            }
            Some((p, pairs))
        }
    };
    let optional = |parser: &mut Parser<'_>, name: &str| -> Result<Option<Expr>, TemplateError> {
        b.prop(name).map(|(v, p)| parser.string(v, &p)).transpose()
    };
    let thing_type_name = optional(parser, "ThingTypeName")?;
    let billing_group = optional(parser, "BillingGroup")?;
    let thing_groups = b
        .prop("ThingGroups")
        .map(|(v, p)| parser.list(v, &p))
        .transpose()?;
    let mut o = ThingOverrideSettings::default();
    if let Some(m) = b.overrides {
        for (key, value) in m {
            let p = child(&b.overrides_path, key);
            let (slot, merge_ok, property) = match key.as_str() {
                "AttributePayload" | "ATTRIBUTE_PAYLOAD" => {
                    (&mut o.attribute_payload, true, "AttributePayload")
                }
                "ThingTypeName" | "THING_TYPE_NAME" => {
                    (&mut o.thing_type_name, false, "ThingTypeName")
                }
                "ThingGroups" | "THING_GROUPS" => (&mut o.thing_groups, true, "ThingGroups"),
                other => {
                    return Err(err(
                        K::InvalidOverride,
                        &p,
                        format!(
                            "a thing has OverrideSettings for AttributePayload, ThingTypeName and ThingGroups only, not {}",
                            quoted(other)
                        ),
                    ))
                }
            };
            if slot.is_some() {
                return Err(err(
                    K::InvalidOverride,
                    &p,
                    format!("{property} has two OverrideSettings"),
                ));
            }
            *slot = Some(override_setting(value, &p, property, merge_ok)?);
        }
    }
    Ok(Resource::Thing(Box::new(ThingResource {
        thing_name,
        attributes,
        thing_type_name,
        thing_groups,
        billing_group,
        overrides: o,
    })))
}

/// An `AWS::IoT::Certificate`: the connecting certificate, by its ID.
fn parse_certificate(parser: &mut Parser<'_>, b: &Body<'_>) -> Result<Resource, TemplateError> {
    for fleet_only in [
        "CertificateSigningRequest",
        "CertificatePem",
        "CACertificatePem",
    ] {
        if b.props.contains_key(fleet_only) {
            return Err(err(
                K::NotForJitp,
                &child(&b.props_path, fleet_only),
                format!(
                    "{fleet_only} is for bulk registration and fleet provisioning; a JITP template names the connecting certificate with CertificateId {{\"Ref\": \"AWS::IoT::Certificate::Id\"}} (AWS: \"You must use CertificateId in a template that's used for JIT provisioning\")"
                ),
            ));
        }
    }
    check_keys(
        b.props,
        &b.props_path,
        &["CertificateId", "Status"],
        "certificate Properties",
    )?;
    let (id, id_path) = b.required(
        "CertificateId",
        "the certificate has no CertificateId; a JITP template uses {\"Ref\": \"AWS::IoT::Certificate::Id\"}",
    )?;
    let certificate_id = parser.string(id, &id_path)?;
    let status = b
        .prop("Status")
        .map(|(v, p)| parser.string(v, &p))
        .transpose()?;
    if let Some(s) = status.as_ref().and_then(|s| s.as_literal()) {
        if parse_status(s).is_none() {
            return Err(err(
                K::WrongType,
                status.as_ref().map_or("", |e| e.path()),
                format!("Status {} is not ACTIVE or INACTIVE", quoted(s)),
            ));
        }
    }
    let mut status_override = None;
    if let Some(m) = b.overrides {
        for (key, value) in m {
            let p = child(&b.overrides_path, key);
            if key != "Status" {
                return Err(err(
                    K::InvalidOverride,
                    &p,
                    format!(
                        "a certificate has OverrideSettings for Status only, not {}",
                        quoted(key)
                    ),
                ));
            }
            status_override = Some(override_setting(value, &p, "Status", false)?);
        }
    }
    Ok(Resource::Certificate(CertificateResource {
        certificate_id,
        status,
        status_override,
    }))
}

/// An `AWS::IoT::Policy`: an existing policy by name, or a new one's document.
fn parse_policy(parser: &mut Parser<'_>, b: &Body<'_>) -> Result<Resource, TemplateError> {
    check_keys(
        b.props,
        &b.props_path,
        &["PolicyName", "PolicyDocument"],
        "policy Properties",
    )?;
    match (b.prop("PolicyName"), b.prop("PolicyDocument")) {
        (Some(_), Some(_)) | (None, None) => Err(err(
            K::InvalidPolicy,
            &b.props_path,
            "a policy has PolicyName (an existing policy) or PolicyDocument (a new one), not both and not neither (AWS)",
        )),
        (Some((v, p)), None) => Ok(Resource::Policy(PolicyResource::Name(
            parser.string(v, &p)?,
        ))),
        (None, Some((v, p))) => match v {
            Value::Object(m) if !m.keys().any(|k| is_function_key(k)) => {
                let doc = parser.doc(v, &p)?;
                Ok(Resource::Policy(PolicyResource::Json { doc, path: p }))
            }
            _ => Ok(Resource::Policy(PolicyResource::Text(parser.string(v, &p)?))),
        },
    }
}

fn override_setting(
    v: &Value,
    path: &str,
    property: &str,
    merge_ok: bool,
) -> Result<OverrideSetting, TemplateError> {
    let setting = match v {
        Value::String(s) => OverrideSetting::parse(s),
        _ => None,
    };
    match setting {
        Some(OverrideSetting::Merge) if !merge_ok => Err(err(
            K::InvalidOverride,
            path,
            format!("MERGE is valid only for a thing's AttributePayload and ThingGroups, not {property} (AWS)"),
        )),
        Some(s) => Ok(s),
        None => Err(err(
            K::InvalidOverride,
            path,
            format!(
                "{v} is not an override setting (DO_NOTHING, REPLACE, FAIL{})",
                if merge_ok { ", MERGE" } else { "" }
            ),
        )),
    }
}

/// A certificate `Status`: `ACTIVE` or `INACTIVE`, in any case (AWS's own fleet example
/// writes `"Active"`).
pub(crate) fn parse_status(s: &str) -> Option<crate::CertificateStatus> {
    if s.eq_ignore_ascii_case("ACTIVE") {
        Some(crate::CertificateStatus::Active)
    } else if s.eq_ignore_ascii_case("INACTIVE") {
        Some(crate::CertificateStatus::Inactive)
    } else {
        None
    }
}
