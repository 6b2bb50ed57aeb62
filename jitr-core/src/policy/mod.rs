//! AWS IoT Core policies: parse, validate and decide, as AWS IoT does.
//!
//! - [`PolicyDocument::parse`] validates a document as CreatePolicy does and keeps it
//!   parsed.
//! - [`evaluate`] decides one [`Request`] (an [`Action`] on a resource ARN) against a
//!   set of named documents in an [`AuthContext`] (client id, address, domain,
//!   certificate attributes, thing, time), with TestAuthorization's answer:
//!   [`AuthDecision`], the policies that allowed or denied, missing context values.
//! - [`CompiledPolicies`] is the hot path: compiled once per connection, then each
//!   check allocates nothing and gives `evaluate`'s answer.
//! - [`simulate`] is the JSON entry point the Python and JavaScript front ends wrap.
//!
//! ```
//! use jitr_core::policy::{Action, AuthContext, AuthDecision, CompiledPolicies, PolicyDocument};
//! use jitr_core::{Scope, Timestamp};
//!
//! // AWS's "publish to any topic prefixed by the client ID" example, with a deny.
//! let doc = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statement": [
//!   {"Effect": "Allow", "Action": "iot:Connect",
//!    "Resource": ["arn:aws:iot:us-east-1:123456789012:client/client1"]},
//!   {"Effect": "Allow", "Action": "iot:Publish",
//!    "Resource": ["arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"]},
//!   {"Effect": "Deny", "Action": "iot:Publish",
//!    "Resource": ["arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/bar"]}]}"#)?;
//! let now = Timestamp::from_unix_secs(1_780_000_000);
//! let ctx = AuthContext::new(Scope::new("123456789012", "us-east-1")?, now).with_client_id("client1");
//! let conn = CompiledPolicies::compile(&[("DevicePolicy", &doc)], &ctx);
//! assert_eq!(conn.check(Action::Connect, "client1", now), AuthDecision::Allowed);
//! assert_eq!(conn.check(Action::Publish, "client1/temperature", now), AuthDecision::Allowed);
//! assert_eq!(conn.check(Action::Publish, "client1/bar", now), AuthDecision::ExplicitDeny);
//! assert_eq!(conn.check(Action::Publish, "client2/temperature", now), AuthDecision::ImplicitDeny);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What AWS documents, and what jitr does
//!
//! **Documents** ([AWS IoT Core policies], [AWS IoT policy elements], [quotas]). At most
//! 2,048 characters excluding white space. `Version` must be `2012-10-17` when given;
//! jitr accepts a document without it (evaluated the same way). `Statement` is an
//! object or a list (an empty list is accepted: a policy that allows nothing). `Effect`
//! is `Allow` or `Deny`; `Action`/`NotAction` and `Resource`/`NotResource` are a string
//! or a list (AWS's own examples use `NotResource`); `Condition` is optional. Unknown
//! keys, `Principal`, unknown operators, values of the wrong type, resources that are
//! neither `*` nor an ARN and unbalanced `${` are refused with a [`PolicyError`] naming
//! the place (`Statement[1].Condition.StringEquals`); it maps to
//! `MalformedPolicyException`. Unknown condition keys and variables are accepted (AWS's
//! own examples use `${iot:Thing.ThingName}`): they never have a value and show in
//! `missingContextValues`.
//!
//! **Actions and resources** ([policy actions], [action resources]). `iot:Connect` is
//! checked against `client/<clientId>`; `iot:Publish`, `iot:Receive`,
//! `iot:RetainPublish`, `iot:GetRetainedMessage` against `topic/<topic>`;
//! `iot:Subscribe` against `topicfilter/<filter>` (the filter as the client sent it);
//! shadow and job actions against `thing/<thing>[/<shadow>]`;
//! `iot:AssumeRoleWithCertificate` against `rolealias/<alias>`;
//! `iot:ListRetainedMessages` and `iot:ListNamedShadowsForThing` against `*`. Full ARNs
//! `arn:<partition>:iot:<region>:<account>:<type>/<name>` are matched.
//!
//! **Wildcards** ([wildcards in policies], [IAM Resource], [IAM Action]). In `Resource`,
//! `*` matches any run of characters, `/` and `:` included, and `?` exactly one
//! character; MQTT's `+` and `#` are ordinary characters (`topicfilter/some/+/topic`
//! matches only the filter `some/+/topic`). `${*}`, `${?}` and `${$}` (written `$(*)`,
//! `$(?)`, `$($)` on AWS IoT's page; both forms work) stand for the literal characters.
//! Actions match with `*` and `?` and without regard to case (`iot:pub*` covers
//! `iot:Publish`). Resource matching is case-sensitive.
//!
//! **Evaluation** ([IAM evaluation logic]). Denied by default; an applicable `Deny`
//! beats every `Allow`, across all the policies.
//!
//! **Variables** ([policy variables], [basic variables], [thing variables], [certificate
//! variables], [using certificate variables], [IAM variables]). In `Resource` and in
//! condition values: `iot:ClientId`, `aws:SourceIp`, `iot:DomainName`,
//! `iot:CertificateId`; `iot:Certificate.Subject.<A>` and `iot:Certificate.Issuer.<A>`
//! for the thirteen attributes ([`DnAttribute`]); `...AlternativeName.<K>` for the five
//! kinds ([`AltNameKind`]); `iot:Certificate.SerialNumber` (decimal, as AWS shows it);
//! `iot:Certificate.AvailableKeys`; `iot:Connection.Thing.ThingName`, `.ThingTypeName`,
//! `.Attributes[name]`, `.IsAttached`; `iot:ConnectAttributes` and `iot:LastWillTopic`
//! ([connect policies]); `aws:CurrentTime` and `aws:EpochTime` in conditions. Key names
//! ignore ASCII case. A substituted value is literal text: a client id of `+` or `*`
//! is matched as that character, never as a wildcard. When a variable has no value:
//! - a certificate attribute with several values gives the first; `.N` the value at
//!   index N (`.1` is the second); an index past the last value is not substituted and
//!   authorization fails; `.List` is every value (for `ForAnyValue`/`ForAllValues`);
//!   only the first five values count;
//! - a certificate value containing `*`, `$`, `+`, `?` or `#`, or longer than 1,024
//!   characters, is not substituted: the `${...}` text stays in the pattern, as AWS
//!   leaves it (it then only matches that very text);
//! - certificate subject and issuer values have `,` `"` `\` `+` `=` `<` `>` `;`
//!   prefixed with a backslash, as AWS presents them;
//! - the thing variables resolve only when the thing is attached to the principal
//!   ([`ThingContext::is_attached`]); otherwise they are not resolved and access is
//!   denied; `IsAttached` is then `false`;
//! - any other missing value (no certificate, no thing, an unknown name, a list key,
//!   the clock) makes the pattern that uses it match nothing; in a `NotResource` such a
//!   pattern excludes nothing.
//!
//! **Conditions** ([IAM condition operators], [IAM multi-valued keys]): see
//! [the list below](#conditions). A key absent from the context makes a
//! positive operator false and a negated one true; `...IfExists` makes it true;
//! `ForAllValues` over an absent or empty key is true, `ForAnyValue` false; `Null`
//! tests presence. Dates are ISO 8601 or epoch seconds; `IpAddress` takes addresses
//! and CIDR blocks, IPv4 and IPv6. AWS's connect examples compare
//! `iot:LastWillTopic` with `ArnEquals` against `arn:aws:iot:*region*:*account-id*:...`
//! where `*region*` is a placeholder to replace: taken literally it matches no region.
//!
//! # Conditions
//!
//! `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
//! `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`, `NumericEquals`,
//! `NumericNotEquals`, `NumericLessThan`, `NumericLessThanEquals`, `NumericGreaterThan`,
//! `NumericGreaterThanEquals`, `DateEquals`, `DateNotEquals`, `DateLessThan`,
//! `DateLessThanEquals`, `DateGreaterThan`, `DateGreaterThanEquals`, `Bool`,
//! `IpAddress`, `NotIpAddress`, `ArnEquals`, `ArnNotEquals`, `ArnLike`, `ArnNotLike`
//! (ARNs compared part by part, as IAM does), `Null`; all but `Null` with `IfExists`
//! and `ForAllValues:`/`ForAnyValue:`. `BinaryEquals` is refused (no AWS IoT key holds
//! binary data).
//!
//! **TestAuthorization** ([TestAuthorization]): [`simulate`]'s output has its
//! `authResults` shape. When allowed, `allowed.policies` lists the allowing policies;
//! when explicitly denied, `denied.explicitDeny.policies` the denying ones; when
//! implicitly denied, `denied.implicitDeny.policies` every policy evaluated.
//!
//! [AWS IoT Core policies]: https://docs.aws.amazon.com/iot/latest/developerguide/iot-policies.html
//! [AWS IoT policy elements]: https://docs.aws.amazon.com/iot/latest/developerguide/example-iot-policies-elements.html
//! [quotas]: https://docs.aws.amazon.com/general/latest/gr/iot-core.html
//! [policy actions]: https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html
//! [action resources]: https://docs.aws.amazon.com/iot/latest/developerguide/iot-action-resources.html
//! [wildcards in policies]: https://docs.aws.amazon.com/iot/latest/developerguide/pub-sub-policy.html#pub-sub-policy-cert
//! [policy variables]: https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-variables.html
//! [basic variables]: https://docs.aws.amazon.com/iot/latest/developerguide/basic-policy-variables.html
//! [thing variables]: https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html
//! [certificate variables]: https://docs.aws.amazon.com/iot/latest/developerguide/cert-policy-variables.html
//! [using certificate variables]: https://docs.aws.amazon.com/iot/latest/developerguide/use-policy-variables.html
//! [connect policies]: https://docs.aws.amazon.com/iot/latest/developerguide/connect-policy.html
//! [TestAuthorization]: https://docs.aws.amazon.com/iot/latest/apireference/API_TestAuthorization.html
//! [IAM variables]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
//! [IAM Resource]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
//! [IAM Action]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
//! [IAM evaluation logic]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
//! [IAM condition operators]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//! [IAM multi-valued keys]: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
//!
//! The examples of AWS's "AWS IoT Core policy examples" section
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/example-iot-policies.html>)
//! are the shared vectors `tests/vectors/policies/policies.json`, each with the page it
//! comes from.

mod action;
mod compiled;
mod condition;
mod context;
mod document;
mod evaluate;
mod keys;
mod pattern;
pub(crate) mod simulate;

pub use action::Action;
pub use compiled::CompiledPolicies;
pub use context::{AltNameKind, AuthContext, CertificateAttributes, DnAttribute, ThingContext};
pub use document::{Effect, PolicyDocument, Statement};
pub use evaluate::{evaluate, AuthDecision, Authorization, Request, StatementRef};
pub use simulate::{simulate, AuthInfo};

use crate::Error;

/// The longest policy document, in characters excluding white space (AWS IoT quota).
pub const MAX_POLICY_DOCUMENT_CHARS: usize = 2048;

/// The only policy language version AWS IoT accepts.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Why a policy document is refused. `at` says where, as a path such as
/// `Statement[1].Condition.StringEquals`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Over 2,048 characters excluding white space.
    #[error(
        "the policy document is {len} characters excluding white space; at most {max} are allowed"
    )]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON (or nested deeper than 128).
    #[error("the policy document is not valid JSON: {0}")]
    Json(String),
    /// A key that has no place there.
    #[error("{at}: unknown key {key:?}")]
    UnknownKey {
        /// Where.
        at: String,
        /// The key.
        key: String,
    },
    /// A required key is missing.
    #[error("{at}: {key} is missing")]
    MissingKey {
        /// Where.
        at: String,
        /// The key.
        key: String,
    },
    /// A value of the wrong form.
    #[error("{at}: {message}")]
    InvalidValue {
        /// Where.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// A pattern with a malformed variable (an unbalanced `${`, an empty `${}`).
    #[error("{at}: {message}")]
    InvalidPattern {
        /// Where.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// A condition operator AWS IoT policies do not have.
    #[error("{at}: unknown condition operator {operator:?}")]
    UnknownOperator {
        /// Where.
        at: String,
        /// The operator as written.
        operator: String,
    },
}

impl PolicyError {
    /// Where in the document, when the error is about one place.
    pub fn location(&self) -> Option<&str> {
        match self {
            Self::TooLong { .. } | Self::Json(_) => None,
            Self::UnknownKey { at, .. }
            | Self::MissingKey { at, .. }
            | Self::InvalidValue { at, .. }
            | Self::InvalidPattern { at, .. }
            | Self::UnknownOperator { at, .. } => Some(at),
        }
    }
}

impl From<PolicyError> for Error {
    fn from(e: PolicyError) -> Self {
        Error::MalformedPolicy(e.to_string())
    }
}

#[cfg(test)]
mod tests;
