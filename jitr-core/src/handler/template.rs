//! Policy templates: a policy's name and document with placeholders the handler fills
//! from the certificate.

use crate::cert::Certificate;
use crate::error::Error;
use crate::id::CertificateId;
use crate::registry::{validate_policy_document, validate_policy_name};
use crate::scope::Scope;

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
