//! The activation handler as a sans-I/O state machine: it names the next call, takes
//! its reply, and ends with a report or a failure. The rules are in the module docs of
//! [`crate::handler`].

use std::sync::Arc;

use serde_json::{Map, Value};

use super::report::{Action, Failed, Failure, Report, Skip};
use super::template::{PolicyTemplate, TemplateContext};
use crate::cert::Certificate;
use crate::crl::{CaCrl, Crl, CrlProblem, StaleCrlPolicy};
use crate::error::Error;
use crate::event::RegistrationEvent;
use crate::id::{parse_name, truncate_for_message, CertificateId};
use crate::scope::Scope;
use crate::status::CertificateStatus;
use crate::time::Timestamp;

/// How many pages of ListAttachedPolicies the handler reads before it gives up (a
/// certificate has at most a handful of policies; a service that keeps returning a
/// marker must not keep the handler busy forever).
pub const MAX_LIST_PAGES: usize = 100;

/// Whether activation needs a usable CRL for the CA (the host's choice for a CA whose
/// CRL is not configured, was refused when loaded, is stale, or does not cover the
/// certificate).
///
/// ```
/// use jitr_core::handler::CrlRequirement;
/// assert_eq!(CrlRequirement::default(), CrlRequirement::IfConfigured);
/// assert_eq!("NEVER".parse::<CrlRequirement>().unwrap(), CrlRequirement::Never);
/// assert!("never".parse::<CrlRequirement>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CrlRequirement {
    /// The default (fail closed where a CRL is configured): a CA for which the host
    /// configured a CRL source needs a usable CRL, else its certificates stay
    /// `PENDING_ACTIVATION` with the reason; a CA without one is activated without a
    /// revocation check, as AWS's sample Lambda does.
    #[default]
    IfConfigured,
    /// Every CA needs a usable CRL; a CA without one leaves its certificates pending
    /// (`CRL_NOT_CONFIGURED`).
    Always,
    /// A CRL that cannot be used is not an obstacle: activate without a revocation
    /// check, as AWS's sample Lambda does, and record `CRL_NOT_CHECKED` with the reason.
    /// A usable CRL is still checked.
    Never,
}

impl CrlRequirement {
    /// The name a host configures it by: `IF_CONFIGURED`, `ALWAYS` or `NEVER`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::IfConfigured => "IF_CONFIGURED",
            Self::Always => "ALWAYS",
            Self::Never => "NEVER",
        }
    }
}

impl core::str::FromStr for CrlRequirement {
    type Err = Error;

    /// `IF_CONFIGURED`, `ALWAYS` or `NEVER`, exactly.
    fn from_str(s: &str) -> Result<Self, Error> {
        parse_name(
            &[Self::IfConfigured, Self::Always, Self::Never],
            |r| r.as_str(),
            s,
            |s| format!("{s:?} is not a CRL requirement: IF_CONFIGURED, ALWAYS or NEVER"),
        )
    }
}

/// What the host decides once for every event: the policy template and the CRL rules.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// The policy to create (or reuse) and attach.
    pub template: PolicyTemplate,
    /// Whether a stale CRL may be used.
    pub stale_crl: StaleCrlPolicy,
    /// Whether activation needs a usable CRL.
    pub require_crl: CrlRequirement,
}

impl Settings {
    /// Settings with this template and the default CRL rules (refuse a stale CRL; fail
    /// closed where a CRL is configured).
    pub fn new(template: PolicyTemplate) -> Self {
        Self {
            template,
            stale_crl: StaleCrlPolicy::default(),
            require_crl: CrlRequirement::default(),
        }
    }
}

impl Default for Settings {
    /// AWS's sample policy and the default CRL rules.
    fn default() -> Self {
        Self::new(PolicyTemplate::aws_sample())
    }
}

/// An AWS IoT operation the handler calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// DescribeCertificate.
    DescribeCertificate,
    /// DescribeCACertificate.
    DescribeCaCertificate,
    /// CreatePolicy.
    CreatePolicy,
    /// ListAttachedPolicies.
    ListAttachedPolicies,
    /// AttachPolicy.
    AttachPolicy,
    /// UpdateCertificate.
    UpdateCertificate,
    /// DetachPolicy (only to roll back).
    DetachPolicy,
}

impl Operation {
    /// Every operation.
    pub const ALL: &'static [Operation] = &[
        Self::DescribeCertificate,
        Self::DescribeCaCertificate,
        Self::CreatePolicy,
        Self::ListAttachedPolicies,
        Self::AttachPolicy,
        Self::UpdateCertificate,
        Self::DetachPolicy,
    ];

    /// AWS's name, e.g. `DescribeCACertificate`.
    pub fn name(&self) -> &'static str {
        self.names().0
    }

    /// boto3's method name on the `iot` client, e.g. `describe_ca_certificate`.
    pub fn boto3_name(&self) -> &'static str {
        self.names().1
    }

    fn names(&self) -> (&'static str, &'static str) {
        match self {
            Self::DescribeCertificate => ("DescribeCertificate", "describe_certificate"),
            Self::DescribeCaCertificate => ("DescribeCACertificate", "describe_ca_certificate"),
            Self::CreatePolicy => ("CreatePolicy", "create_policy"),
            Self::ListAttachedPolicies => ("ListAttachedPolicies", "list_attached_policies"),
            Self::AttachPolicy => ("AttachPolicy", "attach_policy"),
            Self::UpdateCertificate => ("UpdateCertificate", "update_certificate"),
            Self::DetachPolicy => ("DetachPolicy", "detach_policy"),
        }
    }
}

/// The next call the handler needs made, with boto3's parameter names
/// ([`Call::params`]), so a Python driver runs
/// `getattr(client, call.operation)(**call.params)`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    /// DescribeCertificate(certificateId).
    DescribeCertificate {
        /// The device certificate.
        certificate_id: CertificateId,
    },
    /// DescribeCACertificate(certificateId).
    DescribeCaCertificate {
        /// The CA certificate.
        certificate_id: CertificateId,
    },
    /// CreatePolicy(policyName, policyDocument).
    CreatePolicy {
        /// The policy's name.
        policy_name: String,
        /// Its document.
        policy_document: String,
    },
    /// ListAttachedPolicies(target[, marker]).
    ListAttachedPolicies {
        /// The certificate ARN.
        target: String,
        /// The page to read (`nextMarker` of the previous page).
        marker: Option<String>,
    },
    /// AttachPolicy(policyName, target).
    AttachPolicy {
        /// The policy.
        policy_name: String,
        /// The certificate ARN.
        target: String,
    },
    /// UpdateCertificate(certificateId, newStatus): `ACTIVE` or `REVOKED`.
    UpdateCertificate {
        /// The device certificate.
        certificate_id: CertificateId,
        /// The status to set.
        new_status: CertificateStatus,
    },
    /// DetachPolicy(policyName, target), to roll back an attachment of this run.
    DetachPolicy {
        /// The policy.
        policy_name: String,
        /// The certificate ARN.
        target: String,
    },
}

impl Call {
    /// The operation.
    pub fn operation(&self) -> Operation {
        match self {
            Self::DescribeCertificate { .. } => Operation::DescribeCertificate,
            Self::DescribeCaCertificate { .. } => Operation::DescribeCaCertificate,
            Self::CreatePolicy { .. } => Operation::CreatePolicy,
            Self::ListAttachedPolicies { .. } => Operation::ListAttachedPolicies,
            Self::AttachPolicy { .. } => Operation::AttachPolicy,
            Self::UpdateCertificate { .. } => Operation::UpdateCertificate,
            Self::DetachPolicy { .. } => Operation::DetachPolicy,
        }
    }

    /// The parameters, named as boto3 (and AWS's JSON API) name them.
    ///
    /// ```
    /// use jitr_core::handler::Call;
    /// let call = Call::AttachPolicy { policy_name: "P".into(), target: "arn".into() };
    /// assert_eq!(call.operation().boto3_name(), "attach_policy");
    /// assert_eq!(serde_json::Value::Object(call.params()), serde_json::json!({"policyName": "P", "target": "arn"}));
    /// ```
    pub fn params(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |k: &str, v: String| {
            out.insert(k.into(), Value::String(v));
        };
        match self {
            Self::DescribeCertificate { certificate_id }
            | Self::DescribeCaCertificate { certificate_id } => {
                put("certificateId", certificate_id.to_string())
            }
            Self::CreatePolicy {
                policy_name,
                policy_document,
            } => {
                put("policyName", policy_name.clone());
                put("policyDocument", policy_document.clone());
            }
            Self::ListAttachedPolicies { target, marker } => {
                put("target", target.clone());
                if let Some(marker) = marker {
                    put("marker", marker.clone());
                }
            }
            Self::AttachPolicy {
                policy_name,
                target,
            }
            | Self::DetachPolicy {
                policy_name,
                target,
            } => {
                put("policyName", policy_name.clone());
                put("target", target.clone());
            }
            Self::UpdateCertificate {
                certificate_id,
                new_status,
            } => {
                put("certificateId", certificate_id.to_string());
                put("newStatus", new_status.to_string());
            }
        }
        out
    }
}

/// A failed call's error, as the service reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// The AWS error code (`ResourceNotFoundException`, ...), if the error has one (a
    /// network error has none).
    pub code: Option<String>,
    /// The message.
    pub message: String,
}

impl ServiceError {
    /// An error with this code and message.
    pub fn new(code: Option<&str>, message: &str) -> Self {
        Self {
            code: code.map(str::to_string),
            message: message.to_string(),
        }
    }
}

impl From<&Error> for ServiceError {
    fn from(e: &Error) -> Self {
        Self::new(Some(e.code()), &e.message())
    }
}

/// The reply to a [`Call`]: what the handler reads from a success, or the error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// DescribeCertificate's `certificateDescription`.
    Certificate {
        /// `certificatePem`.
        certificate_pem: String,
        /// `status`.
        status: CertificateStatus,
        /// `certificateArn`.
        certificate_arn: String,
    },
    /// DescribeCACertificate's `certificateDescription.certificatePem`.
    CaCertificate {
        /// `certificatePem`.
        certificate_pem: String,
    },
    /// A page of ListAttachedPolicies.
    AttachedPolicies {
        /// `policies[].policyName`.
        policy_names: Vec<String>,
        /// `nextMarker`, if there are more pages.
        next_marker: Option<String>,
    },
    /// The call succeeded (its output is not needed).
    Done,
    /// UpdateCertificate succeeded without a change: the status already was the target.
    /// Only a driver that can tell says so (a [`Registry`](crate::Registry) can; boto3
    /// cannot, and answers [`Reply::Done`]).
    Unchanged,
    /// The call failed.
    Error(ServiceError),
}

impl Reply {
    /// The reply to a successful call from its output as AWS's JSON API and boto3 return
    /// it (`{"certificateDescription": {...}}`, `{"policies": [...], "nextMarker": ...}`;
    /// other keys are ignored). A missing or mistyped field the handler needs is
    /// `InvalidRequestException`.
    ///
    /// ```
    /// use jitr_core::handler::{Operation, Reply};
    /// let page = serde_json::json!({"policies": [{"policyName": "P", "policyArn": "arn"}]});
    /// assert_eq!(
    ///     Reply::from_output(Operation::ListAttachedPolicies, &page).unwrap(),
    ///     Reply::AttachedPolicies { policy_names: vec!["P".into()], next_marker: None },
    /// );
    /// ```
    pub fn from_output(operation: Operation, output: &Value) -> Result<Self, Error> {
        let bad = |what: &str| {
            Error::InvalidRequest(format!("{}'s output has no {what}", operation.name()))
        };
        let text = |v: &Value, key: &str, what: &str| -> Result<String, Error> {
            v.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(what))
        };
        match operation {
            Operation::DescribeCertificate | Operation::DescribeCaCertificate => {
                let d = output
                    .get("certificateDescription")
                    .ok_or_else(|| bad("certificateDescription"))?;
                let certificate_pem =
                    text(d, "certificatePem", "certificateDescription.certificatePem")?;
                if operation == Operation::DescribeCaCertificate {
                    return Ok(Self::CaCertificate { certificate_pem });
                }
                Ok(Self::Certificate {
                    certificate_pem,
                    status: text(d, "status", "certificateDescription.status")?.parse()?,
                    certificate_arn: text(
                        d,
                        "certificateArn",
                        "certificateDescription.certificateArn",
                    )?,
                })
            }
            Operation::ListAttachedPolicies => {
                let policies = match output.get("policies") {
                    None | Some(Value::Null) => &[][..],
                    Some(Value::Array(items)) => items,
                    Some(_) => return Err(bad("policies list")),
                };
                Ok(Self::AttachedPolicies {
                    policy_names: policies
                        .iter()
                        .map(|p| text(p, "policyName", "policies[].policyName"))
                        .collect::<Result<_, _>>()?,
                    next_marker: output
                        .get("nextMarker")
                        .and_then(Value::as_str)
                        .filter(|m| !m.is_empty())
                        .map(str::to_string),
                })
            }
            _ => Ok(Self::Done),
        }
    }
}

/// What the handler learned from DescribeCertificate.
#[derive(Clone, Debug)]
struct Device {
    certificate: Certificate,
    arn: String,
    scope: Scope,
}

/// Where a run is.
#[derive(Clone, Debug)]
enum State {
    /// Waiting for the reply to this call.
    Waiting(Call),
    /// Ended with this result.
    Ended(Result<(), Failure>),
}

/// One run of the activation handler for one event: a sans-I/O state machine.
///
/// The driver asks [`Activation::next_call`] for the call to make, makes it, and hands
/// the reply to [`Activation::receive`] (or a boto3-shaped output to
/// [`Activation::receive_output`]), until `next_call` is `None`; then
/// [`Activation::outcome`] is the report or the failure. The machine never does I/O,
/// never reads the clock, and never panics on a reply.
///
/// ```
/// use jitr_core::crl::CaCrl;
/// use jitr_core::handler::{Activation, Call, Reply, ServiceError, Settings};
/// use jitr_core::{CertificateId, RegistrationEvent, Timestamp};
/// let now = Timestamp::from_unix_secs(1_780_000_000);
/// let event = RegistrationEvent::new(
///     CertificateId::from_bytes([1; 32]), CertificateId::from_bytes([2; 32]), "123456789012", now, now);
/// let mut run = Activation::new(&event, CaCrl::NotConfigured, Settings::default(), now);
/// assert!(matches!(run.next_call(), Some(Call::DescribeCertificate { .. })));
/// run.receive(Reply::Error(ServiceError::new(Some("ResourceNotFoundException"), "no such certificate")))?;
/// assert!(run.next_call().is_none());
/// assert_eq!(run.outcome().unwrap().unwrap_err().to_string(),
///            "DescribeCertificate failed: ResourceNotFoundException: no such certificate");
/// # Ok::<(), jitr_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Activation {
    certificate_id: CertificateId,
    ca_certificate_id: CertificateId,
    crl: CaCrl,
    settings: Settings,
    now: Timestamp,
    state: State,
    actions: Vec<Action>,
    device: Option<Device>,
    policy_name: String,
    /// The policy was attached before this run (so a rollback leaves it).
    attached_before: bool,
    pages: usize,
    /// The failure a rollback is undoing the attachment for.
    rolling_back: Option<Failure>,
}

impl Activation {
    /// A run for `event`, with what the host has for the event's CA's CRL, at `now`.
    /// The first call is DescribeCertificate.
    pub fn new(event: &RegistrationEvent, crl: CaCrl, settings: Settings, now: Timestamp) -> Self {
        Self {
            certificate_id: event.certificate_id,
            ca_certificate_id: event.ca_certificate_id,
            crl,
            settings,
            now,
            state: State::Waiting(Call::DescribeCertificate {
                certificate_id: event.certificate_id,
            }),
            actions: Vec::new(),
            device: None,
            policy_name: String::new(),
            attached_before: false,
            pages: 0,
            rolling_back: None,
        }
    }

    /// The certificate the event is about.
    pub fn certificate_id(&self) -> CertificateId {
        self.certificate_id
    }

    /// The call to make next, or `None` once the run has ended.
    pub fn next_call(&self) -> Option<&Call> {
        match &self.state {
            State::Waiting(call) => Some(call),
            State::Ended(_) => None,
        }
    }

    /// What was done so far, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The failure, once the run has ended in one.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.state {
            State::Ended(Err(failure)) => Some(failure),
            _ => None,
        }
    }

    /// The result, once the run has ended: the report, or the failure with what was
    /// done (including the rollback).
    pub fn outcome(&self) -> Option<Result<Report, Failed>> {
        let State::Ended(result) = &self.state else {
            return None;
        };
        Some(match result {
            Ok(()) => Ok(Report {
                certificate_id: self.certificate_id,
                actions: self.actions.clone(),
            }),
            Err(failure) => Err(Failed {
                certificate_id: self.certificate_id,
                failure: failure.clone(),
                actions: self.actions.clone(),
            }),
        })
    }

    /// Takes the reply to [`Activation::next_call`]. A reply after the run has ended is
    /// `InvalidRequestException` and changes nothing; a reply that does not answer the
    /// call (say, no certificate for DescribeCertificate) ends the run with
    /// [`Failure::Refused`].
    pub fn receive(&mut self, reply: Reply) -> Result<(), Error> {
        let State::Waiting(call) = &self.state else {
            return Err(Error::InvalidRequest(
                "the activation has ended: no call awaits a reply".into(),
            ));
        };
        let call = call.clone();
        match reply {
            Reply::Error(error) => self.on_error(call, error),
            reply => self.on_success(call, reply),
        }
        Ok(())
    }

    /// Takes a successful call's output as AWS's JSON API and boto3 return it (see
    /// [`Reply::from_output`]); a malformed output ends the run with
    /// [`Failure::Refused`]. After the run has ended: `InvalidRequestException`.
    pub fn receive_output(&mut self, output: &Value) -> Result<(), Error> {
        let Some(call) = self.next_call() else {
            return self.receive(Reply::Done);
        };
        match Reply::from_output(call.operation(), output) {
            Ok(reply) => self.receive(reply),
            Err(e) => {
                self.end(Err(Failure::Refused(e)));
                Ok(())
            }
        }
    }

    fn call(&mut self, call: Call) {
        self.state = State::Waiting(call);
    }

    fn end(&mut self, result: Result<(), Failure>) {
        self.state = State::Ended(result);
    }

    fn done(&mut self, action: Option<Action>) {
        self.actions.extend(action);
        self.end(Ok(()));
    }

    fn refuse(&mut self, e: Error) {
        self.end(Err(Failure::Refused(e)));
    }

    fn on_success(&mut self, call: Call, reply: Reply) {
        match (call, reply) {
            (
                Call::DescribeCertificate { .. },
                Reply::Certificate {
                    certificate_pem,
                    status,
                    certificate_arn,
                },
            ) => self.described(&certificate_pem, status, certificate_arn),
            (Call::DescribeCaCertificate { .. }, Reply::CaCertificate { certificate_pem }) => {
                self.check_crl(&certificate_pem)
            }
            (
                Call::ListAttachedPolicies { target, .. },
                Reply::AttachedPolicies {
                    policy_names,
                    next_marker,
                },
            ) => self.listed(target, &policy_names, next_marker),
            (
                call @ (Call::DescribeCertificate { .. }
                | Call::DescribeCaCertificate { .. }
                | Call::ListAttachedPolicies { .. }),
                reply,
            ) => self.refuse(Error::InvalidRequest(format!(
                "the reply to {} does not answer it: {}",
                call.operation().name(),
                truncate_for_message(&format!("{reply:?}"))
            ))),
            // The other calls' outputs are not read: any success will do.
            (Call::CreatePolicy { policy_name, .. }, _) => {
                self.actions
                    .push(Action::PolicyCreated { name: policy_name });
                self.list_attached(None);
            }
            (
                Call::AttachPolicy {
                    policy_name,
                    target,
                },
                _,
            ) => {
                if !self.attached_before {
                    self.actions.push(Action::PolicyAttached {
                        name: policy_name,
                        target,
                    });
                }
                self.call(Call::UpdateCertificate {
                    certificate_id: self.certificate_id,
                    new_status: CertificateStatus::Active,
                });
            }
            (Call::UpdateCertificate { new_status, .. }, reply) => {
                let action = match new_status {
                    CertificateStatus::Revoked => Action::Revoked,
                    _ => Action::Activated,
                };
                self.done((reply != Reply::Unchanged).then_some(action));
            }
            (
                Call::DetachPolicy {
                    policy_name,
                    target,
                },
                _,
            ) => {
                self.actions.push(Action::PolicyDetached {
                    name: policy_name,
                    target,
                });
                self.end_rollback();
            }
        }
    }

    fn on_error(&mut self, call: Call, error: ServiceError) {
        let operation = call.operation();
        match (call, error.code.as_deref()) {
            (Call::DescribeCaCertificate { .. }, Some("ResourceNotFoundException")) => self
                .no_usable_crl(CrlProblem::CaNotFound {
                    ca_certificate_id: self.ca_certificate_id,
                }),
            (Call::CreatePolicy { policy_name, .. }, Some("ResourceAlreadyExistsException")) => {
                self.actions
                    .push(Action::PolicyReused { name: policy_name });
                self.list_attached(None);
            }
            (
                Call::UpdateCertificate {
                    new_status: CertificateStatus::Active,
                    ..
                },
                _,
            ) if !self.attached_before => {
                // Roll back: no policy of this run on a certificate that is not activated.
                let target = self
                    .device
                    .as_ref()
                    .map(|d| d.arn.clone())
                    .unwrap_or_default();
                self.rolling_back = Some(Failure::Call { operation, error });
                self.call(Call::DetachPolicy {
                    policy_name: self.policy_name.clone(),
                    target,
                });
            }
            (
                Call::DetachPolicy {
                    policy_name,
                    target,
                },
                _,
            ) => {
                self.actions.push(Action::PolicyDetachFailed {
                    name: policy_name,
                    target,
                    error,
                });
                self.end_rollback();
            }
            _ => self.end(Err(Failure::Call { operation, error })),
        }
    }

    fn end_rollback(&mut self) {
        let failure = self.rolling_back.take().unwrap_or_else(|| {
            Failure::Refused(Error::InvalidRequest(
                "DetachPolicy answered outside a rollback".into(),
            ))
        });
        self.end(Err(failure));
    }

    fn described(&mut self, pem: &str, status: CertificateStatus, arn: String) {
        let device = match self.device_from(pem, arn) {
            Ok(device) => device,
            Err(e) => return self.refuse(e),
        };
        self.device = Some(device);
        if status != CertificateStatus::PendingActivation {
            return self.done(Some(Action::Skipped(Skip::NotPending { status })));
        }
        match self.crl.clone() {
            CaCrl::Loaded(_) => self.call(Call::DescribeCaCertificate {
                certificate_id: self.ca_certificate_id,
            }),
            CaCrl::Refused(problem) => self.no_usable_crl(problem),
            CaCrl::NotConfigured => self.no_usable_crl(CrlProblem::NotConfigured),
        }
    }

    fn device_from(&self, pem: &str, arn: String) -> Result<Device, Error> {
        let certificate = Certificate::from_pem(pem)?;
        if certificate.id() != self.certificate_id {
            return Err(Error::InvalidRequest(format!(
                "the certificate PEM has ID {}, not the event's {}",
                certificate.id(),
                self.certificate_id
            )));
        }
        let (scope, id) = Scope::from_certificate_arn(&arn)?;
        if id != self.certificate_id {
            return Err(Error::InvalidRequest(format!(
                "the certificate ARN {arn} is not the event's certificate {}",
                self.certificate_id
            )));
        }
        Ok(Device {
            certificate,
            arn,
            scope,
        })
    }

    fn check_crl(&mut self, ca_pem: &str) {
        let (CaCrl::Loaded(crl), Some(device)) = (&self.crl, &self.device) else {
            return self.refuse(Error::InvalidRequest(
                "DescribeCACertificate answered without a CRL to check".into(),
            ));
        };
        let ca = match Certificate::from_pem(ca_pem) {
            Ok(ca) if ca.id() == self.ca_certificate_id => ca,
            Ok(ca) => {
                return self.refuse(Error::InvalidRequest(format!(
                    "DescribeCACertificate returned the CA certificate {}, not the event's {}",
                    ca.id(),
                    self.ca_certificate_id
                )))
            }
            Err(e) => return self.refuse(e),
        };
        match usable(
            crl,
            &ca,
            &device.certificate,
            self.now,
            self.settings.stale_crl,
        ) {
            Err(problem) => self.no_usable_crl(problem),
            Ok(()) if crl.is_revoked(device.certificate.serial()) => {
                self.call(Call::UpdateCertificate {
                    certificate_id: self.certificate_id,
                    new_status: CertificateStatus::Revoked,
                })
            }
            Ok(()) => self.activate(),
        }
    }

    /// The CA has no usable CRL: the host's [`CrlRequirement`] decides.
    fn no_usable_crl(&mut self, problem: CrlProblem) {
        let configured = problem != CrlProblem::NotConfigured;
        let leave_pending = match self.settings.require_crl {
            CrlRequirement::Always => true,
            CrlRequirement::IfConfigured => configured,
            CrlRequirement::Never => false,
        };
        if leave_pending {
            return self.done(Some(Action::Skipped(Skip::Crl(problem))));
        }
        if configured {
            self.actions.push(Action::CrlNotChecked(problem));
        }
        self.activate();
    }

    fn activate(&mut self) {
        let Some(device) = &self.device else {
            return self.refuse(Error::InvalidRequest(
                "activation before DescribeCertificate".into(),
            ));
        };
        let rendered = self.settings.template.render(&TemplateContext {
            certificate: &device.certificate,
            ca_certificate_id: Some(&self.ca_certificate_id),
            scope: &device.scope,
        });
        match rendered {
            Ok((policy_name, policy_document)) => {
                self.policy_name = policy_name.clone();
                self.call(Call::CreatePolicy {
                    policy_name,
                    policy_document,
                });
            }
            Err(e) => self.refuse(e),
        }
    }

    fn list_attached(&mut self, marker: Option<String>) {
        let target = self
            .device
            .as_ref()
            .map(|d| d.arn.clone())
            .unwrap_or_default();
        self.call(Call::ListAttachedPolicies { target, marker });
    }

    fn listed(&mut self, target: String, names: &[String], next_marker: Option<String>) {
        self.attached_before |= names.contains(&self.policy_name);
        self.pages += 1;
        match next_marker {
            Some(_) if self.pages >= MAX_LIST_PAGES => self.refuse(Error::InvalidRequest(format!(
                "ListAttachedPolicies returned more than {MAX_LIST_PAGES} pages"
            ))),
            Some(marker) if !self.attached_before => self.list_attached(Some(marker)),
            _ => self.call(Call::AttachPolicy {
                policy_name: self.policy_name.clone(),
                target,
            }),
        }
    }
}

/// Whether `crl` can say whether `certificate`, issued by `ca`, is revoked at `now`:
/// issued by the CA (name, `cRLSign`, signature), current, and covering the certificate.
fn usable(
    crl: &Arc<Crl>,
    ca: &Certificate,
    certificate: &Certificate,
    now: Timestamp,
    stale: StaleCrlPolicy,
) -> Result<(), CrlProblem> {
    crl.verify_issued_by(ca)?;
    crl.check_fresh(now, stale)?;
    crl.covers(certificate)
}
