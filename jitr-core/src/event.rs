//! The registration event (docs/behaviour.md §7) and how it reaches the host.

use serde::{Deserialize, Serialize};

use crate::id::CertificateId;
use crate::status::CertificateStatus;
use crate::time::Timestamp;

/// The event AWS IoT publishes when just-in-time registration registers a device
/// certificate, on [`RegistrationEvent::topic`].
///
/// Its JSON ([`to_json`](Self::to_json)) is byte-for-byte AWS's: fields in AWS's order,
/// `certificateStatus` always `PENDING_ACTIVATION`, `timestamp` a number and
/// `certificateRegistrationTimestamp` a string, both in milliseconds since the epoch.
/// The struct holds typed values; the wire form is private.
///
/// ```
/// use jitr_core::{CertificateId, RegistrationEvent, Timestamp};
/// let id = CertificateId::from_bytes([0xab; 32]);
/// let ca = CertificateId::from_bytes([0xcd; 32]);
/// let event = RegistrationEvent::new(
///     id,
///     ca,
///     "123456789012",
///     Timestamp::from_unix_millis(1623724243659),
///     Timestamp::from_unix_millis(1623723165331),
/// );
/// let json = event.to_json();
/// assert!(json.starts_with(r#"{"certificateId":"abab"#));
/// assert!(json.ends_with(r#","timestamp":1623724243659,"certificateStatus":"PENDING_ACTIVATION","awsAccountId":"123456789012","certificateRegistrationTimestamp":"1623723165331"}"#));
/// assert_eq!(event.topic(), format!("$aws/events/certificates/registered/{ca}"));
/// assert_eq!(RegistrationEvent::from_json(&json).unwrap(), event);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrationEvent {
    /// The registered device certificate.
    pub certificate_id: CertificateId,
    /// The CA certificate that signed it.
    pub ca_certificate_id: CertificateId,
    /// When this event was published.
    pub timestamp: Timestamp,
    /// The account that registered it (12 digits).
    pub aws_account_id: String,
    /// When the certificate was registered.
    pub certificate_registration_timestamp: Timestamp,
}

/// The payload as AWS writes it.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Wire<'a> {
    certificate_id: CertificateId,
    ca_certificate_id: CertificateId,
    timestamp: i64,
    certificate_status: CertificateStatus,
    #[serde(borrow)]
    aws_account_id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    certificate_registration_timestamp: std::borrow::Cow<'a, str>,
}

impl RegistrationEvent {
    /// An event for `certificate_id`, published at `now`, for a certificate registered at
    /// `registered_at`.
    pub fn new(
        certificate_id: CertificateId,
        ca_certificate_id: CertificateId,
        account: &str,
        now: Timestamp,
        registered_at: Timestamp,
    ) -> Self {
        Self {
            certificate_id,
            ca_certificate_id,
            timestamp: now,
            aws_account_id: account.to_string(),
            certificate_registration_timestamp: registered_at,
        }
    }

    /// The MQTT topic: `$aws/events/certificates/registered/<caCertificateId>`.
    pub fn topic(&self) -> String {
        registration_topic(&self.ca_certificate_id)
    }

    /// The exact payload.
    pub fn to_json(&self) -> String {
        let wire = Wire {
            certificate_id: self.certificate_id,
            ca_certificate_id: self.ca_certificate_id,
            timestamp: self.timestamp.unix_millis(),
            certificate_status: CertificateStatus::PendingActivation,
            aws_account_id: self.aws_account_id.as_str().into(),
            certificate_registration_timestamp: self
                .certificate_registration_timestamp
                .unix_millis()
                .to_string()
                .into(),
        };
        // Serializing plain strings, integers and ids cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Parses a payload, as an activation handler receives it. Unknown fields, a
    /// malformed ID, a wrong type or a status other than `PENDING_ACTIVATION` are
    /// `InvalidRequestException`.
    pub fn from_json(json: &str) -> Result<Self, crate::Error> {
        if json.len() > 64 * 1024 {
            return Err(crate::Error::InvalidRequest(
                "the registration event is larger than 64 KiB".into(),
            ));
        }
        let wire: Wire<'_> = serde_json::from_str(json).map_err(|e| {
            crate::Error::InvalidRequest(format!(
                "malformed registration event: {}",
                crate::json_message::describe(&e)
            ))
        })?;
        if wire.certificate_status != CertificateStatus::PendingActivation {
            return Err(crate::Error::InvalidRequest(format!(
                "a registration event's certificateStatus is PENDING_ACTIVATION, not {}",
                wire.certificate_status
            )));
        }
        let registered = wire
            .certificate_registration_timestamp
            .parse::<i64>()
            .map_err(|_| {
                crate::Error::InvalidRequest(
                    "certificateRegistrationTimestamp must be a string of epoch milliseconds"
                        .into(),
                )
            })?;
        Ok(Self {
            certificate_id: wire.certificate_id,
            ca_certificate_id: wire.ca_certificate_id,
            timestamp: Timestamp::from_unix_millis(wire.timestamp),
            aws_account_id: wire.aws_account_id.into_owned(),
            certificate_registration_timestamp: Timestamp::from_unix_millis(registered),
        })
    }
}

/// The topic JITR publishes registration events on for a CA.
pub fn registration_topic(ca_certificate_id: &CertificateId) -> String {
    format!("$aws/events/certificates/registered/{ca_certificate_id}")
}

/// Where registration events go: the host's MQTT broker, a queue, a log.
///
/// `publish` is called after the certificate is registered and before the decision is
/// returned; it must not block for long and must not call back into the registry's
/// write operations for the same certificate. Events may be delivered more than once.
pub trait EventSink: Send + Sync {
    /// Publishes `event` on `topic`.
    fn publish(&self, topic: &str, event: &RegistrationEvent);
}

impl<F: Fn(&str, &RegistrationEvent) + Send + Sync> EventSink for F {
    fn publish(&self, topic: &str, event: &RegistrationEvent) {
        self(topic, event)
    }
}
