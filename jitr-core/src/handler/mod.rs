//! The activation handler (docs/behaviour.md §8): what AWS leaves to a Lambda after just-in-time
//! registration, written once.
//!
//! [`Activation`] is the handler as a sans-I/O state machine: it names the next call
//! ([`Call`], an AWS IoT operation with boto3's parameter names), takes the reply
//! ([`Reply`]: what the handler reads from a success, or the error), and ends with a
//! [`Report`] of [`Action`]s or a [`Failed`] run. Every front end drives this one
//! machine and only does the I/O: [`Handler`] against a [`Registry`] (or any
//! [`Client`]), the Python package's `jitr.handler.activate` against a `jitr.Registry` or
//! a boto3 `iot` client, and its Lambda entry point.
//!
//! # The run
//!
//! 1. **DescribeCertificate** (the event's certificate). The PEM must be the event's
//!    certificate and the ARN a certificate ARN of it; the ARN gives the partition,
//!    region and account the policy is written for. A certificate that is not
//!    `PENDING_ACTIVATION` any more is left alone (`SKIPPED`,
//!    `NOT_PENDING_ACTIVATION`): repeated and late events change nothing.
//! 2. **DescribeCACertificate** (the event's CA), only when the host has a CRL for the
//!    CA. The CRL is *usable* for this certificate only if the CA issued it (issuer
//!    name, `cRLSign` in the CA's key usage when present, signature), it is current
//!    ([`StaleCrlPolicy`]), and it covers the certificate (its issuingDistributionPoint):
//!    see [`crate::crl`] for the RFC 5280 rules. If the serial is listed:
//!    **UpdateCertificate** `REVOKED` (`REVOKED`), and no policy.
//! 3. **No usable CRL** (none configured for the CA, refused when loaded, the CA not
//!    registered, stale, not yet valid, not covering the certificate): the host's
//!    [`CrlRequirement`] decides. By default ([`CrlRequirement::IfConfigured`]) a CA
//!    with a CRL source configured fails closed — the certificate stays
//!    `PENDING_ACTIVATION` (`SKIPPED` with the CRL problem's code) — so a CRL that cannot
//!    be used never becomes an activation; a CA without a CRL source is activated as
//!    AWS's sample Lambda does (it checks no CRL). [`CrlRequirement::Always`] requires a
//!    usable CRL for every CA; [`CrlRequirement::Never`] activates without the check and
//!    records `CRL_NOT_CHECKED`.
//! 4. **CreatePolicy** from the [`PolicyTemplate`] (`POLICY_CREATED`); if it exists
//!    (`ResourceAlreadyExistsException`) it is reused as it is (`POLICY_REUSED`).
//!    Creating is the existence check, so two handlers racing on one event make one
//!    policy.
//! 5. **ListAttachedPolicies** (every page), to know whether the policy was attached
//!    before this run; **AttachPolicy** (`POLICY_ATTACHED` unless it was attached
//!    before).
//! 6. **UpdateCertificate** `ACTIVE` (`ACTIVATED`; a driver that can tell the status was
//!    already `ACTIVE`, as a [`Registry`] can, records nothing).
//!
//! # Errors: one rule for every driver
//!
//! A call's error is read by its AWS error code, the same from a [`Registry`], from
//! jitr's Python registry and from botocore:
//! - DescribeCACertificate `ResourceNotFoundException`: no CRL check is possible
//!   (`CRL_CA_NOT_FOUND`), so step 3 applies;
//! - CreatePolicy `ResourceAlreadyExistsException`: the policy is reused;
//! - **any other error of any call** ends the run with that error ([`Failure::Call`]),
//!   nothing activated: the driver raises or returns the call's own error unchanged. A
//!   reply that does not answer its call, a certificate that is not the event's, or a
//!   template the certificate cannot fill ends it with [`Failure::Refused`] before any
//!   change.
//!
//! **Rollback:** if UpdateCertificate `ACTIVE` fails after this run attached the policy,
//! the handler calls **DetachPolicy** (`POLICY_DETACHED`, or `POLICY_DETACH_FAILED`
//! with its error) and then fails with UpdateCertificate's error: a certificate that
//! stays pending never keeps a policy this run attached. A policy attached before the
//! run stays; a policy this run created stays too, for the retry to reuse.
//!
//! # Action codes (stable)
//!
//! | code | fields | meaning |
//! |---|---|---|
//! | `POLICY_CREATED` | `policyName` | CreatePolicy succeeded |
//! | `POLICY_REUSED` | `policyName` | the policy existed; reused as it is |
//! | `POLICY_ATTACHED` | `policyName`, `target` | attached by this run (`target`: the certificate ARN) |
//! | `ACTIVATED` | | UpdateCertificate `ACTIVE` succeeded |
//! | `REVOKED` | | the serial is on the CA's CRL; UpdateCertificate `REVOKED` succeeded |
//! | `SKIPPED` | `reason`, `message` | left alone: `NOT_PENDING_ACTIVATION`, or a [`CrlProblem`](crate::crl::CrlProblem) code under a requirement that fails closed |
//! | `CRL_NOT_CHECKED` | `reason`, `message` | activated without a revocation check ([`CrlRequirement::Never`]); `reason` is the [`CrlProblem`](crate::crl::CrlProblem) code |
//! | `POLICY_DETACHED` | `policyName`, `target` | rollback: detached what this run attached |
//! | `POLICY_DETACH_FAILED` | `policyName`, `target`, `reason`, `message` | rollback failed (`reason`: DetachPolicy's error code) |
//!
//! `reason` codes of CRL problems ([`CrlProblem::code`](crate::crl::CrlProblem::code)): `CRL_WRONG_ISSUER`,
//! `CRL_CA_NOT_CRL_SIGNER`, `CRL_BAD_SIGNATURE`, `CRL_STALE`, `CRL_NO_NEXT_UPDATE`,
//! `CRL_NOT_YET_VALID`, `CRL_DOES_NOT_COVER`, `CRL_NOT_CONFIGURED`, `CRL_CA_NOT_FOUND`.
//!
//! # AWS sources
//! - Just-in-time registration and the registration event:
//!   <https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html>
//! - AWS's sample activation Lambda (creates `Policy_<certificateId>`, attaches it, sets
//!   the certificate `ACTIVE`; checks no CRL):
//!   <https://aws.amazon.com/blogs/iot/just-in-time-registration-of-device-certificates-on-aws-iot/>
//! - The calls and their errors:
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeCertificate.html>,
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeCACertificate.html>,
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html>,
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_ListAttachedPolicies.html>,
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_AttachPolicy.html>,
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html>,
//!   <https://docs.aws.amazon.com/iot/latest/apireference/API_DetachPolicy.html>
//!   (boto3's method and parameter names are botocore's `iot` service model's).
//!
//! ```
//! use std::sync::Arc;
//! use jitr_core::handler::{Handler, PolicyTemplate};
//! use jitr_core::crl::CrlStore;
//! use jitr_core::{Registry, Scope};
//! let registry = Arc::new(Registry::new(Scope::new("123456789012", "us-east-1").unwrap()));
//! let handler = Handler::new(registry, Arc::new(CrlStore::new()), PolicyTemplate::aws_sample());
//! # let _ = handler;
//! ```

mod machine;
mod report;
mod template;

use std::sync::Arc;

pub use machine::{
    Activation, Call, CrlRequirement, Operation, Reply, ServiceError, Settings, MAX_LIST_PAGES,
};
pub use report::{Action, Failed, Failure, Report, Skip};
pub use template::{PolicyTemplate, TemplateContext};

use crate::crl::{CrlStore, StaleCrlPolicy};
use crate::error::Error;
use crate::event::RegistrationEvent;
use crate::registry::Registry;
use crate::status::Transition;
use crate::time::Timestamp;

/// Where the handler's calls go: anything that answers AWS IoT's calls with jitr's
/// [`Error`]s. [`Registry`] is one; a test can wrap it to inject failures.
pub trait Client {
    /// Makes one call at `now`.
    fn call(&self, call: &Call, now: Timestamp) -> Result<Reply, Error>;
}

impl Client for Registry {
    fn call(&self, call: &Call, now: Timestamp) -> Result<Reply, Error> {
        Ok(match call {
            Call::DescribeCertificate { certificate_id } => {
                let d = self.describe_certificate(certificate_id)?;
                Reply::Certificate {
                    certificate_pem: d.certificate_pem,
                    status: d.status,
                    certificate_arn: d.certificate_arn,
                }
            }
            Call::DescribeCaCertificate { certificate_id } => Reply::CaCertificate {
                certificate_pem: self
                    .describe_ca_certificate(certificate_id)?
                    .certificate_description
                    .certificate_pem,
            },
            Call::CreatePolicy {
                policy_name,
                policy_document,
            } => {
                self.create_policy(policy_name, policy_document, now)?;
                Reply::Done
            }
            Call::ListAttachedPolicies { target, .. } => Reply::AttachedPolicies {
                policy_names: self
                    .list_attached_policies(target)?
                    .into_iter()
                    .map(|p| p.policy_name)
                    .collect(),
                next_marker: None,
            },
            Call::AttachPolicy {
                policy_name,
                target,
            } => {
                self.attach_policy(policy_name, target)?;
                Reply::Done
            }
            Call::UpdateCertificate {
                certificate_id,
                new_status,
            } => match self.update_certificate(certificate_id, *new_status, now)? {
                Transition::Change => Reply::Done,
                Transition::NoChange => Reply::Unchanged,
            },
            Call::DetachPolicy {
                policy_name,
                target,
            } => {
                self.detach_policy(policy_name, target)?;
                Reply::Done
            }
        })
    }
}

/// The activation handler over a [`Registry`] (or another [`Client`]), with a CRL store
/// the host may update at any time and a policy template: drives [`Activation`].
///
/// A CA for which the host called [`CrlStore::set`] has a CRL source configured, so by
/// default its certificates stay pending while its CRL cannot be used (see the module
/// docs).
pub struct Handler<C: Client = Registry> {
    client: Arc<C>,
    crls: Arc<CrlStore>,
    settings: Settings,
}

impl<C: Client> Handler<C> {
    /// A handler with the default CRL rules (refuse a stale CRL; fail closed where a CRL
    /// is configured).
    pub fn new(client: Arc<C>, crls: Arc<CrlStore>, template: PolicyTemplate) -> Self {
        Self {
            client,
            crls,
            settings: Settings::new(template),
        }
    }

    /// Sets what to do with a stale CRL.
    pub fn with_stale_crl_policy(mut self, policy: StaleCrlPolicy) -> Self {
        self.settings.stale_crl = policy;
        self
    }

    /// Sets whether activation needs a usable CRL.
    pub fn with_crl_requirement(mut self, requirement: CrlRequirement) -> Self {
        self.settings.require_crl = requirement;
        self
    }

    /// Handles one event at `now` and returns what it did.
    ///
    /// Errors: the error of the call that failed, as the client returned it (an unknown
    /// certificate is `ResourceNotFoundException`), or the reason the handler refused
    /// to go on; a policy this run attached is detached again first (see
    /// [`Handler::run`] for the actions of a failed run).
    pub fn handle(&self, event: &RegistrationEvent, now: Timestamp) -> Result<Report, Error> {
        self.drive(event, now).map_err(|(failed, error)| {
            error.unwrap_or_else(|| match failed.failure {
                Failure::Refused(e) => e,
                other => Error::InvalidRequest(format!("{other:?}")),
            })
        })
    }

    /// Handles one event at `now`, keeping the actions of a failed run (its rollback).
    pub fn run(&self, event: &RegistrationEvent, now: Timestamp) -> Result<Report, Failed> {
        self.drive(event, now).map_err(|(failed, _)| failed)
    }

    /// Drives the machine; on a failure, also the client's own error of the failed call.
    fn drive(
        &self,
        event: &RegistrationEvent,
        now: Timestamp,
    ) -> Result<Report, (Failed, Option<Error>)> {
        let crl = self.crls.entry(&event.ca_certificate_id);
        let mut run = Activation::new(event, crl, self.settings.clone(), now);
        let mut errors: Vec<(Operation, Error)> = Vec::new();
        while let Some(call) = run.next_call() {
            let operation = call.operation();
            let reply = match self.client.call(call, now) {
                Ok(reply) => reply,
                Err(e) => {
                    let reply = Reply::Error(ServiceError::from(&e));
                    errors.push((operation, e));
                    reply
                }
            };
            // The run is waiting for this reply, so it takes it.
            let _ = run.receive(reply);
        }
        match run.outcome() {
            Some(Ok(report)) => Ok(report),
            Some(Err(failed)) => {
                let error = match &failed.failure {
                    Failure::Call { operation, .. } => errors
                        .into_iter()
                        .rev()
                        .find(|(op, _)| op == operation)
                        .map(|(_, e)| e),
                    _ => None,
                };
                Err((failed, error))
            }
            None => Err((
                Failed {
                    certificate_id: event.certificate_id,
                    failure: Failure::Refused(Error::InvalidRequest(
                        "the activation did not end".into(),
                    )),
                    actions: Vec::new(),
                },
                None,
            )),
        }
    }
}
