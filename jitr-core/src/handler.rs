//! The activation handler (docs/behaviour.md §8): what AWS leaves to a Lambda.
//!
//! On a registration event: look the certificate up; if its serial is on the issuing
//! CA's CRL, set it `REVOKED`; else create a policy from a template (or reuse it), attach
//! it and set the certificate `ACTIVE`. Idempotent: a repeated or late event changes
//! nothing more.
//!
//! The decision is a pure function, [`plan`], so every front end runs the same logic:
//! [`Handler`] carries the plan out against a [`Registry`]; the Python package carries
//! it out against a `jitr.Registry` or a boto3 `iot` client.
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

use std::sync::Arc;

use crate::cert::Certificate;
use crate::crl::{Crl, CrlProblem, CrlStore, StaleCrlPolicy};
use crate::error::Error;
use crate::event::RegistrationEvent;
use crate::id::CertificateId;
use crate::registry::{validate_policy_document, validate_policy_name, Registry};
use crate::scope::Scope;
use crate::status::{CertificateStatus, Transition};
use crate::time::Timestamp;

/// A policy's name and document, with `{{placeholder}}`s filled from the certificate.
///
/// Placeholders: `{{certificateId}}`, `{{caCertificateId}}`, `{{accountId}}`,
/// `{{region}}`, `{{partition}}`, `{{serialNumber}}` (the certificate's, hex) and the
/// subject's fields `{{subject.CommonName}}`, `{{subject.Organization}}`,
/// `{{subject.OrganizationalUnit}}`, `{{subject.Country}}`, `{{subject.State}}`,
/// `{{subject.Locality}}`, `{{subject.SerialNumber}}`, `{{subject.DnQualifier}}`,
/// `{{subject.Title}}`, `{{subject.GivenName}}`, `{{subject.Surname}}`,
/// `{{subject.Pseudonym}}`, `{{subject.EmailAddress}}`. AWS policy variables such as
/// `${iot:ClientId}` pass through untouched. A field the certificate lacks is an error
/// that names it (AWS's JITP leaves such certificates silently pending).
///
/// ```
/// use jitr_core::handler::PolicyTemplate;
/// assert!(PolicyTemplate::new("P_{{subject.Nickname}}", "{}").is_err());
/// let t = PolicyTemplate::aws_sample();
/// assert_eq!(t.name_template(), "Policy_{{certificateId}}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyTemplate {
    name: String,
    document: String,
}

const SUBJECT_FIELDS: &[(&str, &str)] = &[
    ("CommonName", "CN"),
    ("Organization", "O"),
    ("OrganizationalUnit", "OU"),
    ("Country", "C"),
    ("State", "ST"),
    ("Locality", "L"),
    ("SerialNumber", "serialNumber"),
    ("DnQualifier", "dnQualifier"),
    ("Title", "title"),
    ("GivenName", "givenName"),
    ("Surname", "SN"),
    ("Pseudonym", "pseudonym"),
    ("EmailAddress", "emailAddress"),
];

const PLAIN: &[&str] = &[
    "certificateId",
    "caCertificateId",
    "accountId",
    "region",
    "partition",
    "serialNumber",
];

/// The values a template is filled from.
#[derive(Clone, Copy, Debug)]
pub struct TemplateContext<'a> {
    /// The device certificate.
    pub certificate: &'a Certificate,
    /// Its CA's ID, if any.
    pub ca_certificate_id: Option<&'a CertificateId>,
    /// The account and region.
    pub scope: &'a Scope,
}

impl PolicyTemplate {
    /// A template from a name and a document, both with placeholders. Unknown
    /// placeholders are refused here, before any event.
    pub fn new(name: &str, document: &str) -> Result<Self, Error> {
        for text in [name, document] {
            for p in placeholders(text)? {
                let known = PLAIN.contains(&p)
                    || p.strip_prefix("subject.")
                        .is_some_and(|f| SUBJECT_FIELDS.iter().any(|(n, _)| *n == f));
                if !known {
                    return Err(Error::InvalidRequest(format!(
                        "the policy template has an unknown placeholder {{{{{p}}}}}"
                    )));
                }
            }
        }
        Ok(Self {
            name: name.into(),
            document: document.into(),
        })
    }

    /// AWS's sample JITR policy (docs/behaviour.md §8), named `Policy_<certificateId>`: connect as
    /// `client/<certificateId>`, publish and receive on `foo/bar/<certificateId>/*`,
    /// subscribe to `foo/bar/<certificateId>/#`.
    pub fn aws_sample() -> Self {
        let arn = "arn:{{partition}}:iot:{{region}}:{{accountId}}";
        let document = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iot:Connect"],"Resource":["{arn}:client/{{{{certificateId}}}}"]}},{{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["{arn}:topic/foo/bar/{{{{certificateId}}}}/*"]}},{{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["{arn}:topicfilter/foo/bar/{{{{certificateId}}}}/#"]}}]}}"#
        );
        Self {
            name: "Policy_{{certificateId}}".into(),
            document,
        }
    }

    /// The name template.
    pub fn name_template(&self) -> &str {
        &self.name
    }

    /// The document template.
    pub fn document_template(&self) -> &str {
        &self.document
    }

    /// The policy name and document for a certificate. The document's values are
    /// JSON-escaped; the result must be a valid policy name and document.
    pub fn render(&self, ctx: &TemplateContext<'_>) -> Result<(String, String), Error> {
        let name = fill(&self.name, ctx, false)?;
        let document = fill(&self.document, ctx, true)?;
        validate_policy_name(&name)?;
        validate_policy_document(&document)?;
        Ok((name, document))
    }
}

fn placeholders(text: &str) -> Result<Vec<&str>, Error> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            Error::InvalidRequest("the policy template has a {{ without its }}".into())
        })?;
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    Ok(out)
}

fn fill(text: &str, ctx: &TemplateContext<'_>, json: bool) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            Error::InvalidRequest("the policy template has a {{ without its }}".into())
        })?;
        let value = value_of(after[..end].trim(), ctx)?;
        if json {
            let quoted = serde_json::to_string(&value).unwrap_or_default();
            out.push_str(&quoted[1..quoted.len().saturating_sub(1).max(1)]);
        } else {
            out.push_str(&value);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn value_of(p: &str, ctx: &TemplateContext<'_>) -> Result<String, Error> {
    Ok(match p {
        "certificateId" => ctx.certificate.id().to_string(),
        "caCertificateId" => ctx
            .ca_certificate_id
            .map(ToString::to_string)
            .ok_or_else(|| {
                Error::InvalidRequest(
                    "the policy template uses {{caCertificateId}} but the certificate has no CA"
                        .into(),
                )
            })?,
        "accountId" => ctx.scope.account().into(),
        "region" => ctx.scope.region().into(),
        "partition" => ctx.scope.partition().into(),
        "serialNumber" => ctx.certificate.serial_hex(),
        other => {
            let field = other.strip_prefix("subject.").unwrap_or(other);
            let short = SUBJECT_FIELDS
                .iter()
                .find(|(n, _)| *n == field)
                .map(|(_, s)| *s)
                .ok_or_else(|| {
                    Error::InvalidRequest(format!(
                        "the policy template has an unknown placeholder {{{{{p}}}}}"
                    ))
                })?;
            ctx.certificate.subject().get(short).map(str::to_string).ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "the policy template uses {{{{{p}}}}} but the certificate's subject has no {field} ({short})"
                ))
            })?
        }
    })
}

/// What the handler will do for one event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Plan {
    /// Nothing: the reason says why.
    Skip(Skip),
    /// The certificate's serial is on its CA's CRL: set it `REVOKED`, attach nothing.
    Revoke,
    /// Create (or reuse) this policy, attach it, set the certificate `ACTIVE`.
    Activate {
        /// The policy's name.
        policy_name: String,
        /// The policy's document (used only if the policy does not exist yet).
        policy_document: String,
    },
}

/// Why the handler leaves a certificate alone.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skip {
    /// The certificate is no longer `PENDING_ACTIVATION` (a repeated or late event).
    NotPending {
        /// Its status.
        status: CertificateStatus,
    },
    /// The CA's CRL cannot be used: not issued by the CA, stale, or not yet valid.
    Crl(CrlProblem),
}

impl Skip {
    /// A stable machine code.
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

/// Everything [`plan`] looks at.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The registration event.
    pub event: &'a RegistrationEvent,
    /// The certificate's PEM (from DescribeCertificate).
    pub certificate_pem: &'a str,
    /// Its current status.
    pub status: CertificateStatus,
    /// The issuing CA's PEM (from DescribeCACertificate), needed to check a CRL.
    pub ca_certificate_pem: Option<&'a str>,
    /// The CA's CRL, if the host has one.
    pub crl: Option<&'a Crl>,
    /// The policy template.
    pub template: &'a PolicyTemplate,
    /// The account and region.
    pub scope: &'a Scope,
    /// What to do with a stale CRL.
    pub stale_crl: StaleCrlPolicy,
    /// The time.
    pub now: Timestamp,
}

/// Decides what to do for one event. Pure: reads nothing but its input.
///
/// Errors (nothing is changed): the certificate PEM does not match the event's ID, a CRL
/// is given without the CA, or the template cannot be rendered for this certificate.
pub fn plan(input: &PlanInput<'_>) -> Result<Plan, Error> {
    let cert = Certificate::from_pem(input.certificate_pem)?;
    if cert.id() != input.event.certificate_id {
        return Err(Error::InvalidRequest(format!(
            "the certificate PEM has ID {}, not the event's {}",
            cert.id(),
            input.event.certificate_id
        )));
    }
    if input.status != CertificateStatus::PendingActivation {
        return Ok(Plan::Skip(Skip::NotPending {
            status: input.status,
        }));
    }
    if let Some(crl) = input.crl {
        let ca_pem = input.ca_certificate_pem.ok_or_else(|| {
            Error::InvalidRequest("a CRL was given but not the CA certificate that signs it".into())
        })?;
        let ca = Certificate::from_pem(ca_pem)?;
        if let Err(p) = crl
            .verify_issued_by(&ca)
            .and_then(|()| crl.check_fresh(input.now, input.stale_crl))
        {
            return Ok(Plan::Skip(Skip::Crl(p)));
        }
        if crl.is_revoked(cert.serial()) {
            return Ok(Plan::Revoke);
        }
    }
    let (policy_name, policy_document) = input.template.render(&TemplateContext {
        certificate: &cert,
        ca_certificate_id: Some(&input.event.ca_certificate_id),
        scope: input.scope,
    })?;
    Ok(Plan::Activate {
        policy_name,
        policy_document,
    })
}

/// One thing the handler did.
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

/// The activation handler over a [`Registry`], with a CRL store the host may update at
/// any time and a policy template.
pub struct Handler {
    registry: Arc<Registry>,
    crls: Arc<CrlStore>,
    template: PolicyTemplate,
    stale_crl: StaleCrlPolicy,
}

impl Handler {
    /// A handler with the default stale-CRL policy (refuse).
    pub fn new(registry: Arc<Registry>, crls: Arc<CrlStore>, template: PolicyTemplate) -> Self {
        Self {
            registry,
            crls,
            template,
            stale_crl: StaleCrlPolicy::default(),
        }
    }

    /// Sets what to do with a stale CRL.
    pub fn with_stale_crl_policy(mut self, policy: StaleCrlPolicy) -> Self {
        self.stale_crl = policy;
        self
    }

    /// Handles one event at `now`. An unknown certificate is `ResourceNotFoundException`;
    /// on any error after the policy was attached, it is detached again, so a policy is
    /// never left on a certificate that stays pending.
    pub fn handle(&self, event: &RegistrationEvent, now: Timestamp) -> Result<Report, Error> {
        let reg = &*self.registry;
        let id = event.certificate_id;
        let d = reg.describe_certificate(&id)?;
        let ca_pem = reg
            .describe_ca_certificate(&event.ca_certificate_id)
            .ok()
            .map(|c| c.certificate_description.certificate_pem);
        let crl = self.crls.get(&event.ca_certificate_id);
        let plan = plan(&PlanInput {
            event,
            certificate_pem: &d.certificate_pem,
            status: d.status,
            ca_certificate_pem: ca_pem.as_deref(),
            crl: crl.as_deref(),
            template: &self.template,
            scope: reg.scope(),
            stale_crl: self.stale_crl,
            now,
        })?;
        let mut actions = Vec::new();
        match plan {
            Plan::Skip(s) => actions.push(Action::Skipped(s)),
            Plan::Revoke => {
                if reg.update_certificate(&id, CertificateStatus::Revoked, now)?
                    == Transition::Change
                {
                    actions.push(Action::Revoked);
                }
            }
            Plan::Activate {
                policy_name,
                policy_document,
            } => {
                match reg.create_policy(&policy_name, &policy_document, now) {
                    Ok(_) => actions.push(Action::PolicyCreated {
                        name: policy_name.clone(),
                    }),
                    Err(Error::ResourceAlreadyExists { .. }) => {
                        actions.push(Action::PolicyReused {
                            name: policy_name.clone(),
                        })
                    }
                    Err(e) => return Err(e),
                }
                let target = d.certificate_arn.clone();
                let was_attached = reg
                    .list_attached_policies(&target)?
                    .iter()
                    .any(|p| p.policy_name == policy_name);
                reg.attach_policy(&policy_name, &target)?;
                if !was_attached {
                    actions.push(Action::PolicyAttached {
                        name: policy_name.clone(),
                        target: target.clone(),
                    });
                }
                match reg.update_certificate(&id, CertificateStatus::Active, now) {
                    Ok(Transition::Change) => actions.push(Action::Activated),
                    Ok(Transition::NoChange) => {}
                    Err(e) => {
                        if !was_attached {
                            // Roll back: no policy on a certificate that is not activated.
                            let _ = reg.detach_policy(&policy_name, &target);
                        }
                        return Err(e);
                    }
                }
            }
        }
        Ok(Report {
            certificate_id: id,
            actions,
        })
    }
}
