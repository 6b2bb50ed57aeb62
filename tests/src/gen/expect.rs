//! Expected values, computed independently of jitr-core: ARNs, topics and event payloads
//! are formatted by hand, certificate IDs are SHA-256 of the DER.

use super::json::{obj, J};
use super::pki::{sha256_hex, Cert};
use super::{ACCOUNT, PARTITION, REGION};

pub(crate) fn registration_code() -> String {
    sha256_hex(b"jitr test vectors registration code")
}

pub(crate) fn ca_arn(id: &str) -> String {
    format!("arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:cacert/{id}")
}

pub(crate) fn cert_arn(id: &str) -> String {
    format!("arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:cert/{id}")
}

pub(crate) fn topic(ca_id: &str) -> String {
    format!("$aws/events/certificates/registered/{ca_id}")
}

/// The registration event payload, exactly as docs/behaviour.md §7 writes it.
pub(crate) fn event_payload(
    cert_id: &str,
    ca_id: &str,
    timestamp: i64,
    registered_at: i64,
) -> String {
    format!(
        "{{\"certificateId\":\"{cert_id}\",\"caCertificateId\":\"{ca_id}\",\"timestamp\":{timestamp},\
         \"certificateStatus\":\"PENDING_ACTIVATION\",\"awsAccountId\":\"{ACCOUNT}\",\
         \"certificateRegistrationTimestamp\":\"{registered_at}\"}}"
    )
}

pub(crate) fn err(name: &str) -> J {
    obj! {"error" => name}
}

pub(crate) fn ca_ok(id: &str) -> J {
    obj! {"certificateId" => id, "certificateArn" => ca_arn(id)}
}

pub(crate) fn cert_ok(id: &str) -> J {
    obj! {"certificateId" => id, "certificateArn" => cert_arn(id)}
}

pub(crate) fn ca_description(id: &str, status: &str, auto: &str, version: i64, mode: &str) -> J {
    obj! {"certificateDescription" => obj! {
        "certificateId" => id,
        "certificateArn" => ca_arn(id),
        "status" => status,
        "autoRegistrationStatus" => auto,
        "customerVersion" => version,
        "ownedBy" => ACCOUNT,
        "certificateMode" => mode,
    }}
}

/// `ca_id: None` means the certificate has no CA: runners check `caCertificateId` is absent
/// (or null).
pub(crate) fn cert_description(
    id: &str,
    ca_id: Option<&str>,
    status: &str,
    version: i64,
    mode: &str,
) -> J {
    obj! {"certificateDescription" => obj! {
        "certificateId" => id,
        "certificateArn" => cert_arn(id),
        "caCertificateId" => ca_id,
        "status" => status,
        "customerVersion" => version,
        "ownedBy" => ACCOUNT,
        "certificateMode" => mode,
    }}
}

pub(crate) fn ids(certs: &[&Cert]) -> J {
    J::from(certs.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
}

pub(crate) fn listed(certs: &[&Cert], has_next: bool) -> J {
    obj! {"certificateIds" => ids(certs), "hasNextMarker" => has_next}
}

/// Expected outcome of a `connect` step.
pub(crate) enum Outcome<'a> {
    /// Unknown leaf registered as PENDING_ACTIVATION under this CA; event published.
    Registered(&'a Cert),
    /// Leaf already PENDING_ACTIVATION under this CA; event published again.
    Pending(&'a Cert),
    /// Connection allowed; the certificate's CA, if it has one.
    Allowed(Option<&'a Cert>),
    /// Refused with this reason, no event; `caCertificateId` as given.
    Refused(&'a str, Option<&'a Cert>),
}
