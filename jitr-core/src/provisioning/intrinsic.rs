//! The intrinsic functions of provisioning templates: `Ref`, `Fn::Join`, `Fn::Select`,
//! `Fn::Split`, `Fn::FindInMap` and `Fn::Sub`, parsed once into expressions (with every
//! reference resolved and every statically knowable error found) and evaluated against
//! parameter values.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::parameters::{CertificateField, PSEUDO_PARAMETERS};
use super::plan::ProvisioningFailure;
use super::template::{child, ParameterDeclaration, TemplateError, TemplateErrorKind as K};
use crate::id::truncate_for_message;

/// The functions provisioning templates support, besides `Ref`.
pub const FUNCTIONS: &[&str] = &[
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Sub",
];

/// CloudFormation functions that provisioning templates do not have (refused by name).
const CLOUDFORMATION_ONLY: &[&str] = &[
    "Fn::GetAtt",
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::If",
    "Fn::Equals",
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::Length",
    "Fn::ToJsonString",
    "Fn::Transform",
    "Fn::ForEach",
];

/// The most characters one evaluation may produce in all its intermediate and final
/// values together (a template of at most 10,240 characters with parameters of at most
/// 4,096 characters each cannot reach it without repeating values thousands of times).
pub const MAX_EVALUATION_OUTPUT: usize = 1 << 20;

/// Whether an object key calls a function (`Ref`, `Fn::…`). CloudFormation's
/// `Condition` is not one here: a policy statement's `Condition` is data.
pub(crate) fn is_function_key(key: &str) -> bool {
    key == "Ref" || key.starts_with("Fn::")
}

/// A value of the mapping table or of an evaluation: a string or a list of strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Str(String),
    List(Vec<String>),
}

impl Val {
    fn kind(&self) -> Kind {
        match self {
            Val::Str(_) => Kind::Str,
            Val::List(_) => Kind::List,
        }
    }

    fn size(&self) -> usize {
        match self {
            Val::Str(s) => s.len(),
            Val::List(items) => items.iter().map(|s| s.len() + 1).sum(),
        }
    }
}

/// `Mappings`: map name → top-level key → second-level key → value.
pub(crate) type Mappings = BTreeMap<String, BTreeMap<String, BTreeMap<String, Val>>>;

/// What an expression evaluates to, as far as the parser can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    List,
    /// A `Fn::FindInMap` whose mapping holds both strings and lists.
    Any,
}

impl Kind {
    fn union(self, other: Kind) -> Kind {
        if self == other {
            self
        } else {
            Kind::Any
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::List => "a list",
            Kind::Any => "a string or a list",
        }
    }
}

/// What `Ref` (or a `${Name}` of `Fn::Sub`) names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A parameter of the `Parameters` section.
    Parameter(String),
    /// `AWS::AccountId`, `AWS::Region` or `AWS::Partition`.
    Pseudo(String),
    /// A resource of the template, by logical ID: its name (thing name, policy name,
    /// certificate ID).
    Resource(String),
}

/// A parsed expression and where it is in the template (a JSON pointer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expr {
    node: Node,
    path: String,
    /// What it evaluates to, as far as the parser can tell.
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Lit(String),
    List(Vec<Expr>),
    Ref(Target),
    Join {
        delimiter: String,
        list: Box<Expr>,
    },
    Select {
        index: Box<Expr>,
        list: Box<Expr>,
    },
    Split {
        delimiter: String,
        source: Box<Expr>,
    },
    FindInMap(Box<[Expr; 3]>),
    Sub {
        parts: Vec<SubPart>,
        vars: Vec<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum SubPart {
    Text(String),
    /// A variable of the function's own map, by index.
    Local(usize),
    Target(Target),
}

/// A JSON value with expressions inside: a `PolicyDocument` written as a JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Doc {
    Scalar(Value),
    Expr(Expr),
    Array(Vec<Doc>),
    Object(Vec<(String, Doc)>),
}

/// The names expressions may refer to, and the resources they did refer to.
pub(crate) struct Parser<'a> {
    pub(crate) parameters: &'a BTreeMap<String, ParameterDeclaration>,
    pub(crate) mappings: &'a Mappings,
    pub(crate) resources: &'a BTreeSet<String>,
    /// The resources referred to since the last [`Parser::take_dependencies`].
    dependencies: BTreeSet<String>,
}

fn err(kind: K, path: &str, detail: impl Into<String>) -> TemplateError {
    TemplateError::new(kind, path, detail)
}

fn quoted(s: &str) -> String {
    format!("{:?}", truncate_for_message(s))
}

impl<'a> Parser<'a> {
    pub(crate) fn new(
        parameters: &'a BTreeMap<String, ParameterDeclaration>,
        mappings: &'a Mappings,
        resources: &'a BTreeSet<String>,
    ) -> Self {
        Self {
            parameters,
            mappings,
            resources,
            dependencies: BTreeSet::new(),
        }
    }

    /// The resources referred to since the last call.
    pub(crate) fn take_dependencies(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.dependencies)
    }

    /// An expression that must evaluate to a string.
    pub(crate) fn string(&mut self, v: &Value, path: &str) -> Result<Expr, TemplateError> {
        self.expr_of(Kind::Str, v, path, "")
    }

    /// An expression that must evaluate to a list: a JSON array or a list function.
    pub(crate) fn list(&mut self, v: &Value, path: &str) -> Result<Expr, TemplateError> {
        self.expr_of(Kind::List, v, path, "")
    }

    /// An expression that must evaluate to `want` (or to what only evaluation tells);
    /// `why` ends the error message.
    fn expr_of(
        &mut self,
        want: Kind,
        v: &Value,
        path: &str,
        why: &str,
    ) -> Result<Expr, TemplateError> {
        let e = self.expr(v, path)?;
        expect(&e, want, why)?;
        Ok(e)
    }

    /// A `PolicyDocument` given as a JSON object, with functions anywhere inside.
    pub(crate) fn doc(&mut self, v: &Value, path: &str) -> Result<Doc, TemplateError> {
        match v {
            Value::Object(map) if map.keys().any(|k| is_function_key(k)) => {
                Ok(Doc::Expr(self.expr(v, path)?))
            }
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| Ok((k.clone(), self.doc(v, &child(path, k))?)))
                .collect::<Result<_, _>>()
                .map(Doc::Object),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| self.doc(v, &child(path, &i.to_string())))
                .collect::<Result<_, _>>()
                .map(Doc::Array),
            other => Ok(Doc::Scalar(other.clone())),
        }
    }

    fn expr(&mut self, v: &Value, path: &str) -> Result<Expr, TemplateError> {
        let node = match v {
            Value::String(s) => Node::Lit(s.clone()),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let p = child(path, &i.to_string());
                    let e = self.expr_of(Kind::Str, item, &p, " (a list holds strings)")?;
                    out.push(e);
                }
                Node::List(out)
            }
            Value::Object(map) => {
                let mut keys = map.keys();
                let (Some(key), None) = (keys.next(), keys.next()) else {
                    return Err(if map.keys().any(|k| is_function_key(k)) {
                        err(
                            K::InvalidFunction,
                            path,
                            "a function call is an object with exactly one key (Ref or Fn::…)",
                        )
                    } else {
                        err(
                            K::WrongType,
                            path,
                            "an object where a string, a list or a function is expected",
                        )
                    });
                };
                let arg = &map[key];
                let p = child(path, key);
                self.function(key, arg, &p, path)?
            }
            Value::Number(n) => {
                return Err(err(
                    K::WrongType,
                    path,
                    format!("the number {n} where a string is expected: write it as \"{n}\""),
                ))
            }
            Value::Bool(_) | Value::Null => {
                return Err(err(
                    K::WrongType,
                    path,
                    format!("{v} where a string is expected"),
                ))
            }
        };
        let kind = match &node {
            Node::Lit(_)
            | Node::Ref(_)
            | Node::Join { .. }
            | Node::Select { .. }
            | Node::Sub { .. } => Kind::Str,
            Node::List(_) | Node::Split { .. } => Kind::List,
            Node::FindInMap(parts) => self.mapping_kind(parts),
        };
        Ok(Expr {
            node,
            path: path.to_string(),
            kind,
        })
    }

    fn function(
        &mut self,
        name: &str,
        arg: &Value,
        arg_path: &str,
        path: &str,
    ) -> Result<Node, TemplateError> {
        let args = |n: usize, shape: &str| -> Result<&Vec<Value>, TemplateError> {
            match arg {
                Value::Array(a) if a.len() == n => Ok(a),
                _ => Err(err(
                    K::InvalidFunction,
                    arg_path,
                    format!("{name} takes a list of {n}: {shape}"),
                )),
            }
        };
        let at = |i: usize| child(arg_path, &i.to_string());
        match name {
            "Ref" => {
                let Value::String(target) = arg else {
                    return Err(err(
                        K::InvalidFunction,
                        arg_path,
                        "Ref takes the name of a parameter or a resource",
                    ));
                };
                Ok(Node::Ref(self.target(target, arg_path)?))
            }
            "Fn::Join" => {
                let a = args(2, "[delimiter, [values]]")?;
                let delimiter = literal(&a[0], &at(0), "Fn::Join's delimiter")?;
                let list = self.expr_of(Kind::List, &a[1], &at(1), " (Fn::Join joins a list)")?;
                Ok(Node::Join {
                    delimiter,
                    list: Box::new(list),
                })
            }
            "Fn::Select" => self.select(args(2, "[index, [values]]")?, arg_path, path),
            "Fn::Split" => {
                let a = args(2, "[delimiter, source string]")?;
                let delimiter = literal(&a[0], &at(0), "Fn::Split's delimiter")?;
                if delimiter.is_empty() {
                    return Err(err(
                        K::InvalidFunction,
                        &at(0),
                        "Fn::Split's delimiter is empty",
                    ));
                }
                let source =
                    self.expr_of(Kind::Str, &a[1], &at(1), " (Fn::Split splits a string)")?;
                Ok(Node::Split {
                    delimiter,
                    source: Box::new(source),
                })
            }
            "Fn::FindInMap" => {
                let a = args(3, "[map name, top-level key, second-level key]")?;
                let mut parts = Vec::with_capacity(3);
                for (i, v) in a.iter().enumerate() {
                    let e =
                        self.expr_of(Kind::Str, v, &at(i), " (Fn::FindInMap's keys are strings)")?;
                    parts.push(e);
                }
                self.check_find_in_map(&parts, path)?;
                let [m, t, s]: [Expr; 3] = parts.try_into().map_err(|_| {
                    err(K::InvalidFunction, arg_path, "Fn::FindInMap takes 3 keys")
                })?;
                Ok(Node::FindInMap(Box::new([m, t, s])))
            }
            "Fn::Sub" => self.sub(arg, arg_path),
            "Condition" => Err(err(
                K::UnknownFunction,
                path,
                "Condition is CloudFormation's; provisioning templates have no conditions",
            )),
            f if CLOUDFORMATION_ONLY.contains(&f) => Err(err(
                K::UnknownFunction,
                path,
                format!(
                    "{f} is a CloudFormation function that provisioning templates do not support (they support Ref, {})",
                    FUNCTIONS.join(", ")
                ),
            )),
            f => Err(err(
                K::UnknownFunction,
                path,
                format!(
                    "{} is not a function of provisioning templates (they support Ref, {})",
                    quoted(f),
                    FUNCTIONS.join(", ")
                ),
            )),
        }
    }

    /// `Fn::Select`'s `[index, [values]]`, `a`; an index out of a static list's range is
    /// refused here.
    fn select(&mut self, a: &[Value], arg_path: &str, path: &str) -> Result<Node, TemplateError> {
        let at = |i: usize| child(arg_path, &i.to_string());
        let index = match &a[0] {
            Value::Number(n) => match n.as_u64() {
                Some(i) => Expr {
                    node: Node::Lit(i.to_string()),
                    path: at(0),
                    kind: Kind::Str,
                },
                None => {
                    return Err(err(
                        K::InvalidFunction,
                        &at(0),
                        format!("Fn::Select's index {n} is not a non-negative integer"),
                    ))
                }
            },
            other => {
                let e = self.expr_of(Kind::Str, other, &at(0), " (Fn::Select's index)")?;
                if let Node::Lit(s) = &e.node {
                    if parse_index(s).is_none() {
                        return Err(err(
                            K::InvalidFunction,
                            &at(0),
                            format!(
                                "Fn::Select's index {} is not a non-negative integer",
                                quoted(s)
                            ),
                        ));
                    }
                }
                e
            }
        };
        let list = self.expr_of(
            Kind::List,
            &a[1],
            &at(1),
            " (Fn::Select selects from a list)",
        )?;
        if let (Node::Lit(i), Some(len)) = (&index.node, static_len(&list)) {
            if let Some(i) = parse_index(i).filter(|i| *i >= len) {
                return Err(err(
                    K::SelectOutOfRange,
                    path,
                    format!(
                        "Fn::Select's index {i} is out of range: the list has {len} item{}",
                        if len == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        Ok(Node::Select {
            index: Box::new(index),
            list: Box::new(list),
        })
    }

    /// `Fn::Sub`'s string, or `[string, {variable: value}]`.
    fn sub(&mut self, arg: &Value, arg_path: &str) -> Result<Node, TemplateError> {
        let at = |i: usize| child(arg_path, &i.to_string());
        let (text, text_path, vars) = match arg {
            Value::String(s) => (s, arg_path.to_string(), None),
            Value::Array(a) if a.len() == 2 => match (&a[0], &a[1]) {
                (Value::String(s), Value::Object(vars)) => (s, at(0), Some(vars)),
                _ => {
                    return Err(err(
                        K::InvalidFunction,
                        arg_path,
                        "Fn::Sub takes a string, or [string, {variable: value}]",
                    ))
                }
            },
            _ => {
                return Err(err(
                    K::InvalidFunction,
                    arg_path,
                    "Fn::Sub takes a string, or [string, {variable: value}]",
                ))
            }
        };
        let mut names = Vec::new();
        let mut values = Vec::new();
        if let Some(vars) = vars {
            let vars_path = at(1);
            for (k, v) in vars {
                let e = self.expr_of(
                    Kind::Str,
                    v,
                    &child(&vars_path, k),
                    " (Fn::Sub's variables are strings)",
                )?;
                names.push(k.as_str());
                values.push(e);
            }
        }
        let parts = self.sub_parts(text, &names, &text_path)?;
        Ok(Node::Sub {
            parts,
            vars: values,
        })
    }

    /// Resolves what `Ref` names.
    fn target(&mut self, name: &str, path: &str) -> Result<Target, TemplateError> {
        if self.parameters.contains_key(name) {
            Ok(Target::Parameter(name.to_string()))
        } else if PSEUDO_PARAMETERS.contains(&name) {
            Ok(Target::Pseudo(name.to_string()))
        } else if self.resources.contains(name) {
            self.dependencies.insert(name.to_string());
            Ok(Target::Resource(name.to_string()))
        } else if CertificateField::for_parameter(name).is_some() {
            Err(err(
                K::UnknownReference,
                path,
                format!(
                    "{name} is not declared in the Parameters section: declare it as {{\"Type\": \"String\"}}"
                ),
            ))
        } else {
            Err(err(
                K::UnknownReference,
                path,
                format!(
                    "{} is neither a parameter of the Parameters section, nor a resource of the template, nor one of {}",
                    quoted(name),
                    PSEUDO_PARAMETERS.join(", ")
                ),
            ))
        }
    }

    /// Splits a `Fn::Sub` string into text and variables (`${Name}`; `${!Text}` is the
    /// literal `${Text}`; a `${` that never closes is text).
    fn sub_parts(
        &mut self,
        text: &str,
        locals: &[&str],
        path: &str,
    ) -> Result<Vec<SubPart>, TemplateError> {
        let mut parts = Vec::new();
        let mut buf = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            buf.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                buf.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                buf.push_str(&rest[i..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            let part = if let Some(i) = locals.iter().position(|l| *l == name) {
                SubPart::Local(i)
            } else if name.is_empty() {
                return Err(err(K::InvalidFunction, path, "Fn::Sub has an empty ${}"));
            } else if name.starts_with("iot:") || name.starts_with("aws:") {
                return Err(err(
                    K::UnknownReference,
                    path,
                    format!(
                        "Fn::Sub cannot resolve ${{{}}}: to keep an IoT policy variable, write ${{!{}}}",
                        truncate_for_message(name),
                        truncate_for_message(name)
                    ),
                ));
            } else if name.contains('.')
                && !self.parameters.contains_key(name)
                && !self.resources.contains(name)
            {
                return Err(err(
                    K::UnknownFunction,
                    path,
                    format!(
                        "${{{}}} is an attribute reference (Fn::GetAtt), which provisioning templates do not support",
                        truncate_for_message(name)
                    ),
                ));
            } else {
                SubPart::Target(self.target(name, path)?)
            };
            if !buf.is_empty() {
                parts.push(SubPart::Text(std::mem::take(&mut buf)));
            }
            parts.push(part);
            rest = &after[end + 1..];
        }
        buf.push_str(rest);
        if !buf.is_empty() {
            parts.push(SubPart::Text(buf));
        }
        Ok(parts)
    }

    /// The static checks of `Fn::FindInMap`: a literal map name must exist, and so must
    /// literal keys below a literal map name.
    fn check_find_in_map(&self, parts: &[Expr], path: &str) -> Result<(), TemplateError> {
        if self.mappings.is_empty() {
            return Err(err(
                K::UnknownMapping,
                path,
                "Fn::FindInMap needs a Mappings section",
            ));
        }
        let lit = |i: usize| match parts.get(i).map(|e| &e.node) {
            Some(Node::Lit(s)) => Some(s.as_str()),
            _ => None,
        };
        let Some(map_name) = lit(0) else {
            return Ok(());
        };
        let Some(map) = self.mappings.get(map_name) else {
            return Err(err(
                K::UnknownMapping,
                path,
                format!("Mappings has no map {}", quoted(map_name)),
            ));
        };
        let Some(top) = lit(1) else {
            return Ok(());
        };
        let Some(second_level) = map.get(top) else {
            return Err(err(
                K::UnknownMapping,
                path,
                format!("map {} has no key {}", quoted(map_name), quoted(top)),
            ));
        };
        match lit(2) {
            Some(second) if !second_level.contains_key(second) => Err(err(
                K::UnknownMapping,
                path,
                format!(
                    "map {} has no key {} under {}",
                    quoted(map_name),
                    quoted(second),
                    quoted(top)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// What a `Fn::FindInMap` can return: the kinds of the values it may reach.
    fn mapping_kind(&self, parts: &[Expr; 3]) -> Kind {
        let map_name = match &parts[0].node {
            Node::Lit(s) => Some(s.as_str()),
            _ => None,
        };
        let mut kind: Option<Kind> = None;
        for (name, map) in self.mappings {
            if map_name.is_some_and(|m| m != name) {
                continue;
            }
            for v in map.values().flat_map(|m| m.values()) {
                kind = Some(kind.map_or(v.kind(), |k| k.union(v.kind())));
            }
        }
        kind.unwrap_or(Kind::Any)
    }
}

/// A literal string argument.
fn literal(v: &Value, path: &str, what: &str) -> Result<String, TemplateError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(err(
            K::InvalidFunction,
            path,
            format!("{what} must be a literal string"),
        )),
    }
}

fn parse_index(s: &str) -> Option<usize> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A huge index is out of range of any list; saturate rather than fail to parse.
    Some(s.parse().unwrap_or(usize::MAX))
}

/// The length of a list known before evaluation.
fn static_len(e: &Expr) -> Option<usize> {
    match &e.node {
        Node::List(items) => Some(items.len()),
        Node::Split { delimiter, source } => match &source.node {
            Node::Lit(s) => Some(s.split(delimiter.as_str()).count()),
            _ => None,
        },
        _ => None,
    }
}

fn expect(e: &Expr, want: Kind, why: &str) -> Result<(), TemplateError> {
    let got = e.kind;
    if got == want || got == Kind::Any {
        Ok(())
    } else {
        Err(err(
            K::WrongType,
            &e.path,
            format!("{} where {} is expected{why}", got.name(), want.name()),
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation.

/// What expressions are evaluated against.
pub(crate) struct Env<'a> {
    /// Every declared parameter's value (given or default).
    pub(crate) parameters: &'a BTreeMap<String, String>,
    /// The pseudo parameters given.
    pub(crate) pseudo: &'a BTreeMap<String, String>,
    /// What `Ref` returns for each resource evaluated so far.
    pub(crate) resources: BTreeMap<String, String>,
    pub(crate) mappings: &'a Mappings,
    /// Characters that may still be produced.
    budget: usize,
}

impl<'a> Env<'a> {
    pub(crate) fn new(
        parameters: &'a BTreeMap<String, String>,
        pseudo: &'a BTreeMap<String, String>,
        mappings: &'a Mappings,
    ) -> Self {
        Self {
            parameters,
            pseudo,
            resources: BTreeMap::new(),
            mappings,
            budget: MAX_EVALUATION_OUTPUT,
        }
    }

    fn charge(&mut self, n: usize, path: &str) -> Result<(), ProvisioningFailure> {
        self.budget =
            self.budget
                .checked_sub(n)
                .ok_or_else(|| ProvisioningFailure::OutputTooLarge {
                    path: path.to_string(),
                    max: MAX_EVALUATION_OUTPUT,
                })?;
        Ok(())
    }

    fn resolve(&mut self, t: &Target, path: &str) -> Result<String, ProvisioningFailure> {
        let found = match t {
            Target::Parameter(name) => self.parameters.get(name),
            Target::Pseudo(name) => self.pseudo.get(name),
            Target::Resource(name) => self.resources.get(name),
        };
        let value = match (found, t) {
            (Some(v), _) => v.clone(),
            (None, Target::Pseudo(name)) => {
                return Err(ProvisioningFailure::MissingParameter {
                    parameter: name.clone(),
                    certificate_field: None,
                    certificate_subject: None,
                    certificate_serial: None,
                    others: Vec::new(),
                })
            }
            (None, Target::Parameter(name) | Target::Resource(name)) => {
                return Err(ProvisioningFailure::UnresolvedReference {
                    path: path.to_string(),
                    name: name.clone(),
                })
            }
        };
        self.charge(value.len(), path)?;
        Ok(value)
    }
}

impl Expr {
    /// Where the expression is in the template.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The literal string, if the expression is one.
    pub(crate) fn as_literal(&self) -> Option<&str> {
        match &self.node {
            Node::Lit(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn eval(&self, env: &mut Env<'_>) -> Result<Val, ProvisioningFailure> {
        let path = self.path.as_str();
        match &self.node {
            Node::Lit(s) => {
                env.charge(s.len(), path)?;
                Ok(Val::Str(s.clone()))
            }
            Node::List(items) => items
                .iter()
                .map(|e| e.eval_str(env))
                .collect::<Result<_, _>>()
                .map(Val::List),
            Node::Ref(t) => env.resolve(t, path).map(Val::Str),
            Node::Join { delimiter, list } => {
                let items = list.eval_list(env)?;
                let joined = items.join(delimiter);
                env.charge(joined.len(), path)?;
                Ok(Val::Str(joined))
            }
            Node::Select { index, list } => {
                let i = index.eval_str(env)?;
                let mut items = list.eval_list(env)?;
                let len = items.len();
                let Some(n) = parse_index(&i) else {
                    return Err(ProvisioningFailure::InvalidSelectIndex {
                        path: path.to_string(),
                        index: truncate_for_message(&i).to_string(),
                    });
                };
                if n >= len {
                    return Err(ProvisioningFailure::SelectOutOfRange {
                        path: path.to_string(),
                        index: n,
                        len,
                    });
                }
                Ok(Val::Str(items.swap_remove(n)))
            }
            Node::Split { delimiter, source } => {
                let s = source.eval_str(env)?;
                let parts: Vec<String> = s.split(delimiter.as_str()).map(String::from).collect();
                env.charge(s.len() + parts.len(), path)?;
                Ok(Val::List(parts))
            }
            Node::FindInMap(parts) => {
                let [m, t, s] = &**parts;
                let (map, top, second) = (m.eval_str(env)?, t.eval_str(env)?, s.eval_str(env)?);
                let found = env
                    .mappings
                    .get(&map)
                    .and_then(|x| x.get(&top))
                    .and_then(|x| x.get(&second))
                    .cloned();
                let Some(v) = found else {
                    return Err(ProvisioningFailure::MappingKeyNotFound {
                        path: path.to_string(),
                        map: truncate_for_message(&map).to_string(),
                        top_level_key: truncate_for_message(&top).to_string(),
                        second_level_key: truncate_for_message(&second).to_string(),
                    });
                };
                env.charge(v.size(), path)?;
                Ok(v)
            }
            Node::Sub { parts, vars } => {
                let values = vars
                    .iter()
                    .map(|v| v.eval_str(env))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut out = String::new();
                for part in parts {
                    match part {
                        SubPart::Text(t) => out.push_str(t),
                        SubPart::Local(i) => {
                            out.push_str(values.get(*i).map_or("", String::as_str))
                        }
                        SubPart::Target(t) => out.push_str(&env.resolve(t, path)?),
                    }
                }
                env.charge(out.len(), path)?;
                Ok(Val::Str(out))
            }
        }
    }

    pub(crate) fn eval_str(&self, env: &mut Env<'_>) -> Result<String, ProvisioningFailure> {
        match self.eval(env)? {
            Val::Str(s) => Ok(s),
            Val::List(_) => Err(self.mismatch("a string", "a list")),
        }
    }

    pub(crate) fn eval_list(&self, env: &mut Env<'_>) -> Result<Vec<String>, ProvisioningFailure> {
        match self.eval(env)? {
            Val::List(items) => Ok(items),
            Val::Str(_) => Err(self.mismatch("a list", "a string")),
        }
    }

    fn mismatch(&self, expected: &'static str, found: &'static str) -> ProvisioningFailure {
        ProvisioningFailure::TypeMismatch {
            path: self.path.clone(),
            expected,
            found,
        }
    }
}

impl Doc {
    pub(crate) fn eval(&self, env: &mut Env<'_>) -> Result<Value, ProvisioningFailure> {
        Ok(match self {
            Doc::Scalar(v) => v.clone(),
            Doc::Expr(e) => match e.eval(env)? {
                Val::Str(s) => Value::String(s),
                Val::List(items) => Value::Array(items.into_iter().map(Value::String).collect()),
            },
            Doc::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|d| d.eval(env))
                    .collect::<Result<_, _>>()?,
            ),
            Doc::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, d)| Ok((k.clone(), d.eval(env)?)))
                    .collect::<Result<_, ProvisioningFailure>>()?,
            ),
        })
    }
}
