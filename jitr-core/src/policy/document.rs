//! Parsing and validating a policy document.

use serde::Serialize;
use serde_json::{Map, Value};

use super::action::{Action, ActionPattern};
use super::condition::{parse_conditions, Condition};
use super::pattern::{short, Pattern, Piece};
use super::{PolicyError, MAX_POLICY_DOCUMENT_CHARS, POLICY_VERSION};

/// A statement's effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Effect {
    /// The statement grants.
    Allow,
    /// The statement denies, whatever any other statement grants.
    Deny,
}

/// The actions a statement covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Actions {
    /// `Action`: these.
    Listed(Vec<ActionPattern>),
    /// `NotAction`: all but these.
    Not(Vec<ActionPattern>),
}

/// The resources a statement covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resources {
    /// `Resource`: these.
    Listed(Vec<Pattern>),
    /// `NotResource`: all but these.
    Not(Vec<Pattern>),
}

impl Resources {
    pub(crate) fn patterns(&self) -> &[Pattern] {
        match self {
            Self::Listed(p) | Self::Not(p) => p,
        }
    }
}

/// One statement of a policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) actions: Actions,
    /// Bit `i` set when the statement covers `Action::ALL[i]`, decided at parse time.
    action_mask: u32,
    pub(crate) resources: Resources,
    pub(crate) conditions: Vec<Condition>,
}

impl Statement {
    /// The statement's `Sid`, if it has one.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Allow` or `Deny`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Whether the statement's `Action` (or `NotAction`) covers `action`.
    pub fn covers_action(&self, action: Action) -> bool {
        self.action_mask & (1 << action.index()) != 0
    }

    /// Whether the statement has a `Condition`.
    pub fn has_conditions(&self) -> bool {
        !self.conditions.is_empty()
    }
}

/// A parsed, validated AWS IoT policy document.
///
/// ```
/// use jitr_core::policy::{Effect, PolicyDocument};
/// let doc = PolicyDocument::parse(r#"{
///     "Version": "2012-10-17",
///     "Statement": {"Effect": "Allow", "Action": "iot:Connect",
///                   "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}"}
/// }"#)?;
/// assert_eq!(doc.statements()[0].effect(), Effect::Allow);
/// let err = PolicyDocument::parse(r#"{"Statement": {"Effect": "Allow", "Action": "iot:Connect",
///     "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId"}}"#).unwrap_err();
/// assert!(err.to_string().contains("Statement[0].Resource"), "{err}");
/// # Ok::<(), jitr_core::policy::PolicyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    version: Option<String>,
    id: Option<String>,
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Parses and validates a document as AWS IoT's CreatePolicy does.
    ///
    /// - At most 2,048 characters excluding white space, counted before any parsing (a
    ///   1 MB document costs one pass over its characters).
    /// - A JSON object (serde_json's nesting limit of 128 holds) with `Statement` (an
    ///   object or a list of them, possibly empty), optional `Version` (which must then
    ///   be `2012-10-17`) and `Id`; no other key.
    /// - Each statement: `Effect` `Allow` or `Deny`; exactly one of `Action` and
    ///   `NotAction` and one of `Resource` and `NotResource`, each a string or a
    ///   non-empty list; optional `Sid` and `Condition`; no other key (`Principal` is
    ///   refused: AWS IoT policies are attached to principals).
    /// - Actions `*` or `service:Name` with `*`/`?`; resources `*` or an ARN
    ///   (`arn:` and five colons), with balanced `${...}` variables.
    /// - Conditions with the operators of [`crate::policy`]'s list and values of the
    ///   operator's type.
    pub fn parse(document: &str) -> Result<Self, PolicyError> {
        let mut len = 0usize;
        for c in document.chars() {
            if !c.is_whitespace() {
                len += 1;
            }
        }
        if len > MAX_POLICY_DOCUMENT_CHARS {
            return Err(PolicyError::TooLong {
                len,
                max: MAX_POLICY_DOCUMENT_CHARS,
            });
        }
        let value: Value =
            serde_json::from_str(document).map_err(|e| PolicyError::Json(e.to_string()))?;
        Self::from_value(&value)
    }

    fn from_value(value: &Value) -> Result<Self, PolicyError> {
        let Value::Object(top) = value else {
            return Err(PolicyError::InvalidValue {
                at: "document".into(),
                message: "a policy document is a JSON object".into(),
            });
        };
        for key in top.keys() {
            if !matches!(key.as_str(), "Version" | "Statement" | "Id") {
                return Err(PolicyError::UnknownKey {
                    at: "document".into(),
                    key: key.clone(),
                });
            }
        }
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) if v == POLICY_VERSION => Some(v.clone()),
            Some(other) => {
                return Err(PolicyError::InvalidValue {
                    at: "Version".into(),
                    message: format!("the version must be {POLICY_VERSION:?}, not {other}"),
                })
            }
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(PolicyError::InvalidValue {
                    at: "Id".into(),
                    message: "Id is a string".into(),
                })
            }
        };
        let statements = match top.get("Statement") {
            None => {
                return Err(PolicyError::MissingKey {
                    at: "document".into(),
                    key: "Statement".into(),
                })
            }
            Some(Value::Object(s)) => vec![parse_statement(s, "Statement[0]")?],
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let at = format!("Statement[{i}]");
                    match s {
                        Value::Object(s) => parse_statement(s, &at),
                        _ => Err(PolicyError::InvalidValue {
                            at,
                            message: "a statement is a JSON object".into(),
                        }),
                    }
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(PolicyError::InvalidValue {
                    at: "Statement".into(),
                    message: "Statement is an object or a list of objects".into(),
                })
            }
        };
        Ok(Self {
            version,
            id,
            statements,
        })
    }

    /// The `Version`, if given.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id`, if given.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

fn parse_statement(s: &Map<String, Value>, at: &str) -> Result<Statement, PolicyError> {
    for key in s.keys() {
        match key.as_str() {
            "Sid" | "Effect" | "Action" | "NotAction" | "Resource" | "NotResource"
            | "Condition" => {}
            "Principal" | "NotPrincipal" => {
                return Err(PolicyError::InvalidValue {
                    at: format!("{at}.{key}"),
                    message: "AWS IoT policies have no Principal: they apply to the principals they are attached to".into(),
                })
            }
            _ => {
                return Err(PolicyError::UnknownKey {
                    at: at.into(),
                    key: key.clone(),
                })
            }
        }
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(v)) => Some(v.clone()),
        Some(_) => {
            return Err(PolicyError::InvalidValue {
                at: format!("{at}.Sid"),
                message: "Sid is a string".into(),
            })
        }
    };
    let effect = match s.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(PolicyError::InvalidValue {
                at: format!("{at}.Effect"),
                message: format!(
                    "Effect is \"Allow\" or \"Deny\", not {}",
                    short(&other.to_string())
                ),
            })
        }
        None => {
            return Err(PolicyError::MissingKey {
                at: at.into(),
                key: "Effect".into(),
            })
        }
    };
    let (name, v) = one_of(s, at, "Action", "NotAction")?;
    let field = format!("{at}.{name}");
    let patterns = string_list(v, &field)?
        .iter()
        .map(|t| {
            ActionPattern::parse(t).map_err(|message| PolicyError::InvalidValue {
                at: field.clone(),
                message,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let actions = if name == "Action" {
        Actions::Listed(patterns)
    } else {
        Actions::Not(patterns)
    };
    let (name, v) = one_of(s, at, "Resource", "NotResource")?;
    let field = format!("{at}.{name}");
    let patterns = string_list(v, &field)?
        .iter()
        .map(|t| parse_resource(t, &field))
        .collect::<Result<Vec<_>, _>>()?;
    let resources = if name == "Resource" {
        Resources::Listed(patterns)
    } else {
        Resources::Not(patterns)
    };
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &format!("{at}.Condition"))?,
    };
    let action_mask = Action::ALL
        .iter()
        .enumerate()
        .filter(|(_, a)| match &actions {
            Actions::Listed(p) => p.iter().any(|p| p.matches(**a)),
            Actions::Not(p) => !p.iter().any(|p| p.matches(**a)),
        })
        .fold(0u32, |mask, (i, _)| mask | (1 << i));
    Ok(Statement {
        sid,
        effect,
        actions,
        action_mask,
        resources,
        conditions,
    })
}

/// Exactly one of two keys.
fn one_of<'a>(
    s: &'a Map<String, Value>,
    at: &str,
    a: &'static str,
    b: &'static str,
) -> Result<(&'static str, &'a Value), PolicyError> {
    match (s.get(a), s.get(b)) {
        (Some(v), None) => Ok((a, v)),
        (None, Some(v)) => Ok((b, v)),
        (Some(_), Some(_)) => Err(PolicyError::InvalidValue {
            at: at.into(),
            message: format!("a statement has {a} or {b}, not both"),
        }),
        (None, None) => Err(PolicyError::MissingKey {
            at: at.into(),
            key: a.into(),
        }),
    }
}

fn string_list<'a>(v: &'a Value, at: &str) -> Result<Vec<&'a str>, PolicyError> {
    let err = || PolicyError::InvalidValue {
        at: at.into(),
        message: "a string or a non-empty list of strings".into(),
    };
    match v {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|i| i.as_str().ok_or_else(err)).collect()
        }
        _ => Err(err()),
    }
}

fn parse_resource(text: &str, at: &str) -> Result<Pattern, PolicyError> {
    let pattern = Pattern::parse(text).map_err(|message| PolicyError::InvalidPattern {
        at: at.into(),
        message,
    })?;
    if text == "*" {
        return Ok(pattern);
    }
    let colons: usize = pattern
        .pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.matches(':').count(),
            _ => 0,
        })
        .sum();
    let arn = matches!(pattern.pieces.first(), Some(Piece::Lit(s)) if s.starts_with("arn:"));
    if !arn || colons < 5 {
        return Err(PolicyError::InvalidValue {
            at: at.into(),
            message: format!(
                "{:?} is not a resource: write * or an ARN such as arn:aws:iot:us-east-1:123456789012:topic/my/topic",
                short(text)
            ),
        });
    }
    Ok(pattern)
}
