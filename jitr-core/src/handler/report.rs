//! What the handler did: actions with stable codes, the report, and how a run fails.

use serde_json::{json, Map, Value};

use super::machine::{Operation, ServiceError};
use crate::crl::CrlProblem;
use crate::error::Error;
use crate::id::CertificateId;
use crate::status::CertificateStatus;

/// Why the handler leaves a certificate alone.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skip {
    /// The certificate is no longer `PENDING_ACTIVATION` (a repeated or late event).
    NotPending {
        /// Its status.
        status: CertificateStatus,
    },
    /// The CA has no usable CRL and the host requires one (see
    /// [`CrlRequirement`](super::CrlRequirement)).
    Crl(CrlProblem),
}

impl Skip {
    /// A stable machine code: `NOT_PENDING_ACTIVATION` or the CRL problem's code
    /// ([`CrlProblem::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPending { .. } => "NOT_PENDING_ACTIVATION",
            Self::Crl(p) => p.code(),
        }
    }

    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            Self::NotPending { status } => format!(
                "the certificate is {status}, not PENDING_ACTIVATION: the event is repeated or late, nothing to do"
            ),
            Self::Crl(p) => format!("not activated: {p}"),
        }
    }
}

/// One thing the handler did. [`Action::code`] is stable; the module docs list every
/// code with its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Set the certificate `REVOKED` (listed on the CRL).
    Revoked,
    /// Created the policy.
    PolicyCreated {
        /// Its name.
        name: String,
    },
    /// The policy existed and was reused as it is.
    PolicyReused {
        /// Its name.
        name: String,
    },
    /// Attached the policy to the certificate.
    PolicyAttached {
        /// The policy.
        name: String,
        /// The certificate ARN.
        target: String,
    },
    /// Set the certificate `ACTIVE`.
    Activated,
    /// Left the certificate alone.
    Skipped(Skip),
    /// The CA's CRL could not be used and the host chose to activate anyway
    /// ([`CrlRequirement::Never`](super::CrlRequirement::Never)): no revocation check was
    /// made.
    CrlNotChecked(CrlProblem),
    /// Rollback: detached the policy this run attached, because activation then failed.
    PolicyDetached {
        /// The policy.
        name: String,
        /// The certificate ARN.
        target: String,
    },
    /// Rollback failed: the policy this run attached could not be detached.
    PolicyDetachFailed {
        /// The policy.
        name: String,
        /// The certificate ARN.
        target: String,
        /// DetachPolicy's error.
        error: ServiceError,
    },
}

impl Action {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "REVOKED",
        "POLICY_CREATED",
        "POLICY_REUSED",
        "POLICY_ATTACHED",
        "ACTIVATED",
        "SKIPPED",
        "CRL_NOT_CHECKED",
        "POLICY_DETACHED",
        "POLICY_DETACH_FAILED",
    ];

    /// The stable machine code, e.g. `POLICY_CREATED`.
    pub fn code(&self) -> &'static str {
        Self::CODES[match self {
            Self::Revoked => 0,
            Self::PolicyCreated { .. } => 1,
            Self::PolicyReused { .. } => 2,
            Self::PolicyAttached { .. } => 3,
            Self::Activated => 4,
            Self::Skipped(_) => 5,
            Self::CrlNotChecked(_) => 6,
            Self::PolicyDetached { .. } => 7,
            Self::PolicyDetachFailed { .. } => 8,
        }]
    }

    /// The action as JSON, as the Python handler returns it: `{"action": code}` with
    /// `policyName`, `target`, `reason` (a machine code) and `message` (a sentence) where
    /// they apply.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("action".into(), self.code().into());
        let mut put = |k: &str, v: &str| {
            out.insert(k.into(), v.into());
        };
        match self {
            Self::Revoked | Self::Activated => {}
            Self::PolicyCreated { name } | Self::PolicyReused { name } => put("policyName", name),
            Self::PolicyAttached { name, target } | Self::PolicyDetached { name, target } => {
                put("policyName", name);
                put("target", target);
            }
            Self::Skipped(skip) => {
                put("reason", skip.code());
                put("message", &skip.message());
            }
            Self::CrlNotChecked(p) => {
                put("reason", p.code());
                put(
                    "message",
                    &format!("activated without a revocation check: {p}"),
                );
            }
            Self::PolicyDetachFailed {
                name,
                target,
                error,
            } => {
                put("policyName", name);
                put("target", target);
                if let Some(code) = &error.code {
                    put("reason", code);
                }
                put("message", &error.message);
            }
        }
        Value::Object(out)
    }
}

/// What the handler did for one event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The certificate.
    pub certificate_id: CertificateId,
    /// In order.
    pub actions: Vec<Action>,
}

impl Report {
    /// `{"certificateId": ..., "actions": [...]}` ([`Action::to_json`]): what the Python
    /// handler and the Lambda return.
    pub fn to_json(&self) -> Value {
        json!({
            "certificateId": self.certificate_id.to_string(),
            "actions": self.actions.iter().map(Action::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Why a run failed. Nothing was activated; a policy this run attached was detached
/// again (see [`Failed::actions`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A call failed with an error the handler does not handle: the driver reports that
    /// call's error as it is.
    Call {
        /// The call that failed.
        operation: Operation,
        /// Its error.
        error: ServiceError,
    },
    /// The handler could not go on: the event's certificate is not the one described, a
    /// reply is malformed, or the template cannot be filled for this certificate.
    Refused(Error),
}

/// A failed run: why, and what was done before and during the rollback.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failed {
    /// The certificate.
    pub certificate_id: CertificateId,
    /// Why it failed.
    pub failure: Failure,
    /// What was done, in order, including the rollback.
    pub actions: Vec<Action>,
}

impl core::fmt::Display for Failed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.failure {
            Failure::Call { operation, error } => write!(
                f,
                "{} failed: {}{}",
                operation.name(),
                error
                    .code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                error.message
            ),
            Failure::Refused(e) => write!(f, "{}: {}", e.code(), e.message()),
        }
    }
}
