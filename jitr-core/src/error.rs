//! Errors, named as AWS IoT names its exceptions.

/// An error from a registry operation or from parsing input.
///
/// Each variant is one AWS IoT exception; [`Error::code`] returns its exact name, which
/// the Python and JavaScript front ends use as the exception class and `name`. Every
/// error leaves the registry unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The named resource (certificate, CA certificate, policy, registration code) does
    /// not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// The resource already exists.
    #[error("{message}")]
    ResourceAlreadyExists {
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
    /// A certificate could not be parsed, or is not valid for its purpose.
    #[error("{0}")]
    CertificateValidation(String),
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
    ];

    /// The AWS exception name, e.g. `"CertificateStateException"`.
    pub fn code(&self) -> &'static str {
        Self::CODES[self.index()]
    }

    /// The HTTP status AWS IoT answers with for this exception.
    pub fn http_status(&self) -> u16 {
        [404, 409, 400, 400, 400, 406, 409, 410, 409, 400][self.index()]
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self {
            Self::ResourceAlreadyExists { message, .. } => message,
            Self::ResourceNotFound(m)
            | Self::RegistrationCodeValidation(m)
            | Self::InvalidRequest(m)
            | Self::CertificateValidation(m)
            | Self::CertificateState(m)
            | Self::CertificateConflict(m)
            | Self::LimitExceeded(m)
            | Self::DeleteConflict(m)
            | Self::MalformedPolicy(m) => m,
        }
    }

    fn index(&self) -> usize {
        match self {
            Self::ResourceNotFound(_) => 0,
            Self::ResourceAlreadyExists { .. } => 1,
            Self::RegistrationCodeValidation(_) => 2,
            Self::InvalidRequest(_) => 3,
            Self::CertificateValidation(_) => 4,
            Self::CertificateState(_) => 5,
            Self::CertificateConflict(_) => 6,
            Self::LimitExceeded(_) => 7,
            Self::DeleteConflict(_) => 8,
            Self::MalformedPolicy(_) => 9,
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
            Error::ResourceNotFound(m()),
            Error::ResourceAlreadyExists {
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
        ];
        assert_eq!(all.len(), Error::CODES.len());
        let codes: Vec<_> = all.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
        for e in &all {
            assert!(e.code().ends_with("Exception"));
            assert_eq!(e.message(), "m");
            assert!((400..500).contains(&e.http_status()));
        }
        assert_eq!(all[5].http_status(), 406);
        assert_eq!(all[0].http_status(), 404);
    }
}
