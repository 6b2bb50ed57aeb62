//! What a decision says: [`Decision`], and every [`RefusalReason`] with its code and
//! sentence. The order in which the reasons are checked is the flow's (`super`), written
//! once in [`crate::manual`].

use crate::cert::{MAX_CERTIFICATE_DER_LEN, MAX_CHAIN_LEN};
use crate::event::RegistrationEvent;
use crate::id::CertificateId;
use crate::time::{Timestamp, Validity, ValidityCheck};

/// What JITR decided about one connection.
///
/// Allowed when [`refusal`](Self::refusal) is `None`. A refusal that registered the
/// certificate, or found it still pending, carries the [`event`](Self::event) that was
/// published.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The leaf's certificate ID, when the chain had a leaf.
    pub certificate_id: Option<CertificateId>,
    /// The CA: the registered certificate's CA, or the CA that matched an unknown leaf.
    pub ca_certificate_id: Option<CertificateId>,
    /// Why the connection is refused; `None` when it is allowed.
    pub refusal: Option<RefusalReason>,
    /// The registration event published by this decision, if any.
    pub event: Option<RegistrationEvent>,
}

impl Decision {
    /// Whether the connection may proceed.
    pub fn is_allowed(&self) -> bool {
        self.refusal.is_none()
    }

    /// The refusal's machine code, `None` when allowed.
    pub fn reason_code(&self) -> Option<&'static str> {
        self.refusal.as_ref().map(RefusalReason::code)
    }

    /// A sentence for people: why the connection was refused, or that it was allowed.
    pub fn message(&self) -> String {
        match &self.refusal {
            None => "the certificate is registered and ACTIVE; the connection is allowed".into(),
            Some(r) => r.message(),
        }
    }

    /// Whether this decision registered the certificate.
    pub fn registered(&self) -> bool {
        self.refusal == Some(RefusalReason::RegisteredPendingActivation)
    }

    pub(crate) fn refuse(reason: RefusalReason) -> Self {
        Self {
            certificate_id: None,
            ca_certificate_id: None,
            refusal: Some(reason),
            event: None,
        }
    }

    pub(crate) fn with_ids(mut self, leaf: CertificateId, ca: Option<CertificateId>) -> Self {
        self.certificate_id = Some(leaf);
        self.ca_certificate_id = ca;
        self
    }
}

/// Declares [`RefusalReason`] with each variant's code written beside it: the enum, its
/// [`CODES`](RefusalReason::CODES) and [`code`](RefusalReason::code) come from the one list,
/// in one order.
macro_rules! refusal_reasons {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident
                $({ $($(#[$fmeta:meta])* $field:ident: $ty:ty,)+ })?
                => $code:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant $({ $($(#[$fmeta])* $field: $ty,)+ })?,)+
        }

        impl $name {
            /// Every [`code`](Self::code), in the order of the variants: front ends type
            /// refusal codes from it (e.g. the Python stubs' `Literal`).
            pub const CODES: &'static [&'static str] = &[$($code,)+];

            /// The stable machine code, e.g. `"UNKNOWN_ISSUER"`.
            pub fn code(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => $code,)+
                }
            }
        }
    };
}

refusal_reasons! {
    /// Why a connection was refused. Each reason has a stable [`code`](Self::code) and a
    /// human [`message`](Self::message) — the diagnosis AWS never gives.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum RefusalReason {
        /// The client sent no certificate.
        NoCertificate => "NO_CERTIFICATE",
        /// The chain has more certificates than jitr reads.
        ChainTooLong {
            /// Certificates sent.
            len: usize,
        } => "CHAIN_TOO_LONG",
        /// A certificate in the chain is larger than jitr reads.
        CertificateTooLarge {
            /// Its position in the chain (0 = leaf).
            index: usize,
            /// Its size in bytes.
            len: usize,
        } => "CERTIFICATE_TOO_LARGE",
        /// The leaf is not a well-formed X.509 certificate.
        MalformedCertificate {
            /// What is wrong.
            detail: String,
        } => "MALFORMED_CERTIFICATE",
        /// The unknown certificate was registered as `PENDING_ACTIVATION` by this decision and
        /// the registration event published; the device may connect once it is activated.
        RegisteredPendingActivation => "REGISTERED_PENDING_ACTIVATION",
        /// The certificate is `PENDING_ACTIVATION`; the event was published again.
        PendingActivation => "PENDING_ACTIVATION",
        /// The certificate is `INACTIVE`.
        CertificateInactive => "CERTIFICATE_INACTIVE",
        /// The certificate is `REVOKED`.
        CertificateRevoked => "CERTIFICATE_REVOKED",
        /// The certificate is `PENDING_TRANSFER`.
        CertificatePendingTransfer => "CERTIFICATE_PENDING_TRANSFER",
        /// The certificate is `REGISTER_INACTIVE`.
        CertificateRegisterInactive => "CERTIFICATE_REGISTER_INACTIVE",
        /// The certificate's validity ended.
        CertificateExpired {
            /// Its notAfter.
            not_after: Timestamp,
        } => "CERTIFICATE_EXPIRED",
        /// The certificate's validity has not begun.
        CertificateNotYetValid {
            /// Its notBefore.
            not_before: Timestamp,
        } => "CERTIFICATE_NOT_YET_VALID",
        /// No registered CA has the leaf's issuer as its subject.
        UnknownIssuer => "UNKNOWN_ISSUER",
        /// Registered CAs have the leaf's issuer name, but none of their keys verifies the
        /// leaf's signature (a forged or mis-issued certificate).
        BadSignature => "BAD_SIGNATURE",
        /// Several registered CAs with the same subject and key verify the leaf, and the
        /// chain does not say which one is meant.
        AmbiguousCa {
            /// How many CAs verify the leaf.
            candidates: usize,
        } => "AMBIGUOUS_CA",
        /// The chain is the leaf alone and the client sent no SNI: JITR needs the CA in the
        /// chain or SNI to find the account.
        SniRequired => "SNI_REQUIRED",
        /// The signing CA is `INACTIVE`.
        CaInactive => "CA_INACTIVE",
        /// The signing CA has auto-registration `DISABLE`.
        AutoRegistrationDisabled => "AUTO_REGISTRATION_DISABLED",
        /// The signing CA's validity ended.
        CaExpired {
            /// Its notAfter.
            not_after: Timestamp,
        } => "CA_EXPIRED",
        /// The signing CA's validity has not begun.
        CaNotYetValid {
            /// Its notBefore.
            not_before: Timestamp,
        } => "CA_NOT_YET_VALID",
        /// The signing CA is `SNI_ONLY` and the connection did not name its account by SNI.
        CaRequiresSni => "CA_REQUIRES_SNI",
        /// The leaf has an extended key usage extension without `clientAuth`.
        EkuNotClientAuth => "EKU_NOT_CLIENT_AUTH",
        /// The leaf fails another path-validation rule.
        InvalidCertificate {
            /// What webpki reported.
            detail: String,
        } => "INVALID_CERTIFICATE",
        /// No account serves the SNI host name, and there is no default account.
        UnknownServerName {
            /// The host name sent.
            server_name: String,
        } => "UNKNOWN_SERVER_NAME",
        /// No SNI was sent and there is no default account.
        NoAccount => "NO_ACCOUNT",
        /// The store cannot be reached: a new certificate cannot be registered (and, with
        /// [`StoreOutage::RefuseAll`](crate::StoreOutage), no certificate is admitted).
        StoreUnavailable => "STORE_UNAVAILABLE",
        /// The unknown certificate was registered and its CA's provisioning template ran:
        /// the thing, policies and status it made. The first connection is refused, as on
        /// AWS; the device connects again.
        Provisioned {
            /// The thing it made or updated, if the template has one.
            thing_name: Option<String>,
            /// The policies it attached.
            policy_names: Vec<String>,
            /// The certificate's status now (`ACTIVE` unless the template says otherwise).
            status: crate::status::CertificateStatus,
        } => "PROVISIONED",
        /// The unknown certificate was registered `PENDING_ACTIVATION`, but its CA's
        /// provisioning template could not provision it: why (AWS says nothing).
        ProvisioningFailed {
            /// A stable code, e.g. `MISSING_PARAMETER`.
            code: String,
            /// What is missing or wrong, and where.
            detail: String,
        } => "PROVISIONING_FAILED",
    }
}

impl RefusalReason {
    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            Self::NoCertificate => "the client sent no certificate; JITR needs a device certificate".into(),
            Self::ChainTooLong { len } => format!(
                "the client sent {len} certificates; at most {MAX_CHAIN_LEN} are read"
            ),
            Self::CertificateTooLarge { index, len } => format!(
                "certificate {index} of the chain is {len} bytes; at most {MAX_CERTIFICATE_DER_LEN} are read"
            ),
            Self::MalformedCertificate { detail } => format!(
                "the device certificate is not a well-formed X.509 certificate: {}",
                crate::inspect::path_error(detail)
            ),
            Self::RegisteredPendingActivation => "the certificate was unknown and signed by a CA with auto-registration enabled: it is now registered as PENDING_ACTIVATION and the registration event was published; it may connect once it is activated".into(),
            Self::PendingActivation => "the certificate is PENDING_ACTIVATION: it waits for the activation handler; the registration event was published again".into(),
            Self::CertificateInactive => "the certificate is registered but INACTIVE".into(),
            Self::CertificateRevoked => "the certificate is REVOKED".into(),
            Self::CertificatePendingTransfer => "the certificate is PENDING_TRANSFER to another account".into(),
            Self::CertificateRegisterInactive => "the certificate is REGISTER_INACTIVE".into(),
            Self::CertificateExpired { not_after } => {
                format!("the device certificate expired at {not_after}")
            }
            Self::CertificateNotYetValid { not_before } => {
                format!("the device certificate is not valid before {not_before}")
            }
            Self::UnknownIssuer => "no registered CA certificate is the issuer of this certificate (only the CA that directly signed it counts; register that CA)".into(),
            Self::BadSignature => "a registered CA certificate has this certificate's issuer name, but its key does not verify the certificate's signature".into(),
            Self::AmbiguousCa { candidates } => format!(
                "{candidates} registered CA certificates with the same subject and key verify this certificate; send the CA certificate in the chain to choose one"
            ),
            Self::SniRequired => "the client sent its certificate alone and no SNI: send the CA certificate in the chain or connect with SNI".into(),
            Self::CaInactive => "the certificate's CA is registered but INACTIVE, so it is not auto-registered".into(),
            Self::AutoRegistrationDisabled => "the certificate's CA has auto-registration DISABLE, so it is not auto-registered".into(),
            Self::CaExpired { not_after } => format!("the certificate's CA expired at {not_after}"),
            Self::CaNotYetValid { not_before } => {
                format!("the certificate's CA is not valid before {not_before}")
            }
            Self::CaRequiresSni => "the certificate's CA is registered in SNI_ONLY mode; connect with the SNI of its account's endpoint".into(),
            Self::EkuNotClientAuth => "the certificate has an extended key usage extension without clientAuth".into(),
            Self::InvalidCertificate { detail } => format!(
                "the certificate fails path validation: {}",
                crate::inspect::path_error(detail)
            ),
            Self::UnknownServerName { server_name } => format!(
                "no account serves the host name {:?} and there is no default account",
                crate::id::truncate_for_message(server_name)
            ),
            Self::NoAccount => "the client sent no SNI and there is no default account".into(),
            Self::Provisioned { thing_name, policy_names, status } => format!(
                "the certificate was unknown and its CA provisions devices: it was registered, then its template made {}, attached {} and set it {status}; connect again",
                thing_name.as_deref().map_or_else(|| "no thing".to_string(), |t| format!("the thing {t}")),
                if policy_names.is_empty() { "no policy".to_string() } else { format!("the policies {}", policy_names.join(", ")) }
            ),
            Self::ProvisioningFailed { code, detail } => format!(
                "the certificate was registered PENDING_ACTIVATION, but its CA's provisioning template could not provision it ({code}): {detail}"
            ),
            Self::StoreUnavailable => "the registry's store cannot be reached: the certificate cannot be registered now; the device may retry".into(),
        }
    }
}

/// Whose validity window a refusal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Whose {
    /// The device certificate.
    Device,
    /// The CA that signed it.
    Ca,
}

impl RefusalReason {
    /// The one mapping from a validity window to a refusal: `None` when `now` is inside.
    pub(crate) fn for_validity(v: &Validity, now: Timestamp, whose: Whose) -> Option<Self> {
        match (v.check(now), whose) {
            (ValidityCheck::Valid, _) => None,
            (ValidityCheck::Expired, Whose::Device) => Some(Self::CertificateExpired {
                not_after: v.not_after,
            }),
            (ValidityCheck::NotYetValid, Whose::Device) => Some(Self::CertificateNotYetValid {
                not_before: v.not_before,
            }),
            (ValidityCheck::Expired, Whose::Ca) => Some(Self::CaExpired {
                not_after: v.not_after,
            }),
            (ValidityCheck::NotYetValid, Whose::Ca) => Some(Self::CaNotYetValid {
                not_before: v.not_before,
            }),
        }
    }
}

#[cfg(test)]
mod codes_tests {
    use super::RefusalReason;

    #[test]
    fn codes_are_distinct_and_screaming_snake_case() {
        let codes = RefusalReason::CODES;
        for (i, code) in codes.iter().enumerate() {
            assert!(!codes[..i].contains(code), "{code} is listed twice");
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{code}"
            );
        }
        assert_eq!(RefusalReason::UnknownIssuer.code(), "UNKNOWN_ISSUER");
    }
}
