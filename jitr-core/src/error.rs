//! Errors, named as AWS IoT names its exceptions.
//!
//! [`Error`] is what every public operation returns. Its variants are AWS IoT's
//! exceptions, with context where callers branch on it (the kind and ID of a missing
//! resource); errors that come from inside jitr (a certificate that cannot be read, the
//! store, the system) carry their own typed cause and convert with `From`. The exception
//! name ([`Error::code`]) and the HTTP status ([`Error::http_status`]) come from one
//! `match`.

use core::fmt;

/// An error from a registry operation or from parsing input.
///
/// [`Error::code`] returns the AWS exception name, which the Python and JavaScript front
/// ends use as the exception class and `name`. Every error leaves the registry unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The named resource does not exist.
    #[error("the {resource} {} does not exist", crate::id::truncate_for_message(.id))]
    ResourceNotFound {
        /// What kind of resource.
        resource: ResourceKind,
        /// Its ID or name, as the caller gave it.
        id: String,
    },
    /// The resource already exists.
    #[error("{message}")]
    ResourceAlreadyExists {
        /// What kind of resource.
        resource: ResourceKind,
        /// A human sentence.
        message: String,
        /// The ID of the existing resource.
        resource_id: String,
        /// The ARN of the existing resource.
        resource_arn: String,
    },
    /// A verification certificate's Common Name is not the registration code.
    #[error("{0}")]
    RegistrationCodeValidation(String),
    /// The request is malformed or asks for something that is never allowed.
    #[error("{0}")]
    InvalidRequest(String),
    /// A certificate is not valid for its purpose (the reason is a sentence).
    #[error("{0}")]
    CertificateValidation(String),
    /// A certificate or PEM text could not be read.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// The operation is not allowed in the certificate's current state.
    #[error("{0}")]
    CertificateState(String),
    /// Several registered CA certificates with the same subject and key match.
    #[error("{0}")]
    CertificateConflict(String),
    /// A quota would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// The resource is still in use (for example, a policy is attached).
    #[error("{0}")]
    DeleteConflict(String),
    /// A policy document is not valid.
    #[error("{0}")]
    MalformedPolicy(String),
    /// The resource changed since the version the request expected (compare-and-set).
    #[error("{0}")]
    VersionConflict(String),
    /// A policy already has as many versions as it can.
    #[error("{0}")]
    VersionsLimitExceeded(String),
    /// The service cannot be reached now (for example, its store is down); retry later.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// Something inside jitr failed; the request may be retried.
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// The kinds of resources an error can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A device certificate.
    Certificate,
    /// A CA certificate.
    CaCertificate,
    /// A policy.
    Policy,
    /// A version of a policy.
    PolicyVersion,
    /// A thing.
    Thing,
    /// A thing type.
    ThingType,
    /// A thing group.
    ThingGroup,
    /// A provisioning template.
    ProvisioningTemplate,
    /// An account (in a multi-account directory).
    Account,
    /// The registration code.
    RegistrationCode,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Certificate => "certificate",
            Self::CaCertificate => "CA certificate",
            Self::Policy => "policy",
            Self::PolicyVersion => "policy version",
            Self::Thing => "thing",
            Self::ThingType => "thing type",
            Self::ThingGroup => "thing group",
            Self::ProvisioningTemplate => "provisioning template",
            Self::Account => "account",
            Self::RegistrationCode => "registration code",
        })
    }
}

/// Why a certificate, or the PEM text holding it, could not be read or used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct CertificateError {
    kind: CertificateErrorKind,
    detail: String,
}

/// What went wrong reading a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateErrorKind {
    /// Larger, or holding more certificates, than jitr reads.
    TooLarge,
    /// Not PEM: no certificate block, a block that never ends, text that is not UTF-8, a
    /// block of another type.
    Pem,
    /// The input holds a private key (never stored or echoed back).
    PrivateKey,
    /// Not a well-formed DER X.509 certificate (empty, truncated, trailing bytes, a
    /// malformed extension).
    Der,
    /// The wrong number of certificates where exactly one was expected.
    Count,
    /// The certificate is not signed by the certificate named as its issuer.
    Signature,
}

impl CertificateError {
    pub(crate) fn new(kind: CertificateErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> CertificateErrorKind {
        self.kind
    }

    /// This error with `context` before its sentence ("certificate 2 of the PEM text: …").
    pub(crate) fn context(self, context: impl fmt::Display) -> Self {
        Self {
            kind: self.kind,
            detail: format!("{context}: {}", self.detail),
        }
    }
}

/// A failure inside jitr that no input explains.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct InternalError {
    what: &'static str,
    detail: String,
}

impl InternalError {
    #[cfg_attr(not(feature = "tooling"), allow(dead_code))]
    pub(crate) fn new(what: &'static str, detail: impl Into<String>) -> Self {
        Self {
            what,
            detail: detail.into(),
        }
    }
}

impl Error {
    /// Every error code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "ResourceNotFoundException",
        "ResourceAlreadyExistsException",
        "RegistrationCodeValidationException",
        "InvalidRequestException",
        "CertificateValidationException",
        "CertificateStateException",
        "CertificateConflictException",
        "LimitExceededException",
        "DeleteConflictException",
        "MalformedPolicyException",
        "VersionConflictException",
        "VersionsLimitExceededException",
        "ServiceUnavailableException",
        "InternalFailureException",
    ];

    /// The AWS exception name and the HTTP status AWS IoT answers with.
    fn code_and_status(&self) -> (&'static str, u16) {
        match self {
            Self::ResourceNotFound { .. } => ("ResourceNotFoundException", 404),
            Self::ResourceAlreadyExists { .. } => ("ResourceAlreadyExistsException", 409),
            Self::RegistrationCodeValidation(_) => ("RegistrationCodeValidationException", 400),
            Self::InvalidRequest(_) => ("InvalidRequestException", 400),
            Self::CertificateValidation(_) | Self::Certificate(_) => {
                ("CertificateValidationException", 400)
            }
            Self::CertificateState(_) => ("CertificateStateException", 406),
            Self::CertificateConflict(_) => ("CertificateConflictException", 409),
            Self::LimitExceeded(_) => ("LimitExceededException", 410),
            Self::DeleteConflict(_) => ("DeleteConflictException", 409),
            Self::MalformedPolicy(_) => ("MalformedPolicyException", 400),
            Self::VersionConflict(_) => ("VersionConflictException", 409),
            Self::VersionsLimitExceeded(_) => ("VersionsLimitExceededException", 409),
            Self::ServiceUnavailable(_) => ("ServiceUnavailableException", 503),
            Self::Internal(_) => ("InternalFailureException", 500),
        }
    }

    /// The AWS exception name, e.g. `"CertificateStateException"`.
    pub fn code(&self) -> &'static str {
        self.code_and_status().0
    }

    /// The HTTP status AWS IoT answers with for this exception.
    pub fn http_status(&self) -> u16 {
        self.code_and_status().1
    }

    /// The human-readable message.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The existing resource's ID, for `ResourceAlreadyExistsException`.
    pub fn resource_id(&self) -> Option<&str> {
        match self {
            Self::ResourceAlreadyExists { resource_id, .. } => Some(resource_id),
            _ => None,
        }
    }

    /// The existing resource's ARN, for `ResourceAlreadyExistsException`.
    pub fn resource_arn(&self) -> Option<&str> {
        match self {
            Self::ResourceAlreadyExists { resource_arn, .. } => Some(resource_arn),
            _ => None,
        }
    }

    pub(crate) fn not_found(resource: ResourceKind, id: impl fmt::Display) -> Self {
        Self::ResourceNotFound {
            resource,
            id: id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_own_code_and_status() {
        let m = || "m".to_string();
        let all = [
            Error::ResourceNotFound {
                resource: ResourceKind::Policy,
                id: m(),
            },
            Error::ResourceAlreadyExists {
                resource: ResourceKind::Policy,
                message: m(),
                resource_id: m(),
                resource_arn: m(),
            },
            Error::RegistrationCodeValidation(m()),
            Error::InvalidRequest(m()),
            Error::CertificateValidation(m()),
            Error::CertificateState(m()),
            Error::CertificateConflict(m()),
            Error::LimitExceeded(m()),
            Error::DeleteConflict(m()),
            Error::MalformedPolicy(m()),
            Error::VersionConflict(m()),
            Error::VersionsLimitExceeded(m()),
            Error::ServiceUnavailable(m()),
            Error::Internal(InternalError::new("m", "m")),
        ];
        assert_eq!(all.len(), Error::CODES.len());
        let codes: Vec<_> = all.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
        for e in &all {
            assert!(e.code().ends_with("Exception"));
            assert!(!e.message().is_empty());
        }
        let statuses: Vec<_> = all.iter().map(Error::http_status).collect();
        assert_eq!(
            statuses,
            [404, 409, 400, 400, 400, 406, 409, 410, 409, 400, 409, 409, 503, 500]
        );
        let parse = Error::from(CertificateError::new(CertificateErrorKind::Der, "m"));
        assert_eq!(parse.code(), "CertificateValidationException");
        assert_eq!(
            Error::not_found(ResourceKind::CaCertificate, "ab").message(),
            "the CA certificate ab does not exist"
        );
    }
}
