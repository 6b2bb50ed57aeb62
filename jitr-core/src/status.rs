//! Statuses and the transitions between them (docs/behaviour.md §2, §4, §5).

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

macro_rules! aws_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The AWS spelling, e.g. `"ACTIVE"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            /// Parses the exact AWS spelling.
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::InvalidRequest(format!(
                        concat!("{:?} is not a valid ", stringify!($name), "; expected one of: {}"),
                        crate::id::truncate_for_message(s),
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }
    };
}

aws_enum! {
    /// The status of a device certificate.
    CertificateStatus {
        /// May connect.
        Active => "ACTIVE",
        /// Registered, may not connect; can be activated.
        Inactive => "INACTIVE",
        /// Permanently refused.
        Revoked => "REVOKED",
        /// Being transferred to another account.
        PendingTransfer => "PENDING_TRANSFER",
        /// Deprecated by AWS; never produced, accepted on import.
        RegisterInactive => "REGISTER_INACTIVE",
        /// Registered by JITR, waiting for the activation handler.
        PendingActivation => "PENDING_ACTIVATION",
    }
}

aws_enum! {
    /// The status of a CA certificate.
    CaStatus {
        /// Signs device certificates that may be registered.
        Active => "ACTIVE",
        /// Registered but not used for new registrations.
        Inactive => "INACTIVE",
    }
}

aws_enum! {
    /// Whether a CA's device certificates are registered on first connection.
    AutoRegistrationStatus {
        /// Just-in-time registration is on.
        Enable => "ENABLE",
        /// Just-in-time registration is off.
        Disable => "DISABLE",
    }
}

aws_enum! {
    /// How a CA (and the certificates it signs) is reached.
    CertificateMode {
        /// Registered with proof of possession; one account per region.
        Default => "DEFAULT",
        /// Registered without proof of possession, reached only through SNI.
        SniOnly => "SNI_ONLY",
    }
}

#[allow(clippy::derivable_impls)] // the enum is declared by a macro
impl Default for CertificateMode {
    fn default() -> Self {
        Self::Default
    }
}

/// What a transition does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The status changes to the target.
    Change,
    /// The target is the current status: nothing changes and no version is bumped.
    NoChange,
}

impl CertificateStatus {
    /// Whether `UpdateCertificate` may move a certificate from `self` to `target`.
    ///
    /// The table is docs/behaviour.md §5: PENDING_ACTIVATION → ACTIVE/INACTIVE/REVOKED; ACTIVE ↔
    /// INACTIVE; ACTIVE/INACTIVE → REVOKED; same → same is a no-op; REVOKED is final;
    /// nothing leaves PENDING_TRANSFER; targets PENDING_ACTIVATION, PENDING_TRANSFER and
    /// REGISTER_INACTIVE are invalid requests.
    ///
    /// ```
    /// use jitr_core::{CertificateStatus::*, Transition};
    /// assert_eq!(PendingActivation.transition_to(Active), Ok(Transition::Change));
    /// assert_eq!(Active.transition_to(Active), Ok(Transition::NoChange));
    /// assert_eq!(Revoked.transition_to(Active).unwrap_err().code(), "CertificateStateException");
    /// assert_eq!(Active.transition_to(PendingActivation).unwrap_err().code(), "InvalidRequestException");
    /// ```
    pub fn transition_to(self, target: CertificateStatus) -> Result<Transition, Error> {
        use CertificateStatus::*;
        target.check_update_target()?;
        if self == target {
            return Ok(Transition::NoChange);
        }
        match self {
            Revoked => Err(Error::CertificateState(format!(
                "the certificate is REVOKED, which is final; it cannot become {target}"
            ))),
            PendingTransfer => Err(Error::CertificateState(format!(
                "the certificate is PENDING_TRANSFER; it cannot become {target} until the transfer is accepted, rejected or cancelled"
            ))),
            Active | Inactive | PendingActivation | RegisterInactive => Ok(Transition::Change),
        }
    }

    /// Whether UpdateCertificate may target this status at all (ACTIVE, INACTIVE or
    /// REVOKED); checked before the certificate is looked up.
    pub(crate) fn check_update_target(self) -> Result<(), Error> {
        use CertificateStatus::*;
        match self {
            Active | Inactive | Revoked => Ok(()),
            PendingActivation | PendingTransfer | RegisterInactive => Err(Error::InvalidRequest(
                format!("a certificate's status cannot be set to {self}"),
            )),
        }
    }

    /// Whether `RegisterCertificate` may create a certificate with this status.
    pub(crate) fn check_registrable(self) -> Result<(), Error> {
        use CertificateStatus::*;
        match self {
            Active | Inactive | Revoked => Ok(()),
            PendingActivation => Err(Error::CertificateState(
                "a certificate cannot be registered as PENDING_ACTIVATION; only just-in-time registration produces that status".into(),
            )),
            PendingTransfer | RegisterInactive => Err(Error::InvalidRequest(format!(
                "a certificate cannot be registered as {self}"
            ))),
        }
    }
}

impl CaStatus {
    /// Whether `UpdateCACertificate` may move a CA from `self` to `target`: every move is
    /// allowed; the same status is a no-op.
    pub fn transition_to(self, target: CaStatus) -> Transition {
        if self == target {
            Transition::NoChange
        } else {
            Transition::Change
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CertificateStatus::*;

    /// The whole (from, to) table written out, so a missing or changed row fails.
    #[test]
    fn certificate_transition_table() {
        use Transition::{Change as C, NoChange as N};
        const S: &str = "CertificateStateException";
        const I: &str = "InvalidRequestException";
        #[rustfmt::skip]
        let table: [(CertificateStatus, [Result<Transition, &str>; 6]); 6] = [
            //                 ACTIVE    INACTIVE  REVOKED   P_TRANSFER REG_INACT P_ACTIV
            (Active,            [Ok(N),   Ok(C),    Ok(C),    Err(I),    Err(I),   Err(I)]),
            (Inactive,          [Ok(C),   Ok(N),    Ok(C),    Err(I),    Err(I),   Err(I)]),
            (Revoked,           [Err(S),  Err(S),   Ok(N),    Err(I),    Err(I),   Err(I)]),
            (PendingTransfer,   [Err(S),  Err(S),   Err(S),   Err(I),    Err(I),   Err(I)]),
            (RegisterInactive,  [Ok(C),   Ok(C),    Ok(C),    Err(I),    Err(I),   Err(I)]),
            (PendingActivation, [Ok(C),   Ok(C),    Ok(C),    Err(I),    Err(I),   Err(I)]),
        ];
        assert_eq!(table.len(), CertificateStatus::ALL.len());
        let mut pairs = 0;
        for (from, row) in table {
            for (to, expected) in CertificateStatus::ALL.iter().zip(row) {
                let got = from.transition_to(*to).map_err(|e| e.code());
                assert_eq!(got, expected, "{from} -> {to}");
                pairs += 1;
            }
        }
        assert_eq!(pairs, 36);
    }

    #[test]
    fn ca_transition_table() {
        for from in CaStatus::ALL {
            for to in CaStatus::ALL {
                let expected = if from == to {
                    Transition::NoChange
                } else {
                    Transition::Change
                };
                assert_eq!(from.transition_to(*to), expected);
            }
        }
    }

    #[test]
    fn registrable_statuses() {
        let got: Vec<_> = CertificateStatus::ALL
            .iter()
            .map(|s| s.check_registrable().map_err(|e| e.code()))
            .collect();
        assert_eq!(
            got,
            [
                Ok(()),
                Ok(()),
                Ok(()),
                Err("InvalidRequestException"),
                Err("InvalidRequestException"),
                Err("CertificateStateException")
            ]
        );
    }

    #[test]
    fn spellings_round_trip_through_serde_and_fromstr() {
        for s in CertificateStatus::ALL {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(s.as_str().parse::<CertificateStatus>().unwrap(), *s);
        }
        assert_eq!(CertificateMode::SniOnly.as_str(), "SNI_ONLY");
        assert_eq!(
            serde_json::to_string(&AutoRegistrationStatus::Enable).unwrap(),
            "\"ENABLE\""
        );
        assert_eq!(
            "active".parse::<CaStatus>().unwrap_err().code(),
            "InvalidRequestException"
        );
    }
}
