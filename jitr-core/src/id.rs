//! AWS certificate identifiers.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// An AWS IoT certificate ID: the SHA-256 digest of a certificate's DER encoding.
///
/// The same rule names CA and device certificates. It displays as 64 lowercase hex
/// characters (what `openssl x509 -noout -fingerprint -sha256` prints, without colons);
/// parsing accepts upper case and an optional `0x` prefix.
///
/// ```
/// use jitr_core::CertificateId;
/// let id: CertificateId = "0xABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"
///     .parse()
///     .unwrap();
/// assert_eq!(
///     id.to_string(),
///     "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
/// );
/// assert!("not an id".parse::<CertificateId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateId([u8; 32]);

impl CertificateId {
    /// The ID of a certificate given as DER.
    pub fn of_der(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Self(out)
    }

    /// Wraps 32 raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input length.
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(core::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for CertificateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateId({self})")
    }
}

impl FromStr for CertificateId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let hex_part = s
            .strip_prefix("0x")
            .or_else(|| s.strip_prefix("0X"))
            .unwrap_or(s);
        let mut out = [0u8; 32];
        if hex_part.len() != 64 || hex::decode_to_slice(hex_part, &mut out).is_err() {
            return Err(Error::InvalidRequest(format!(
                "certificate ID must be 64 hexadecimal characters, got {:?}",
                truncate_for_message(s)
            )));
        }
        Ok(Self(out))
    }
}

impl Serialize for CertificateId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CertificateId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Cuts user input quoted back in a message to a readable length.
pub(crate) fn truncate_for_message(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The one of `all` whose `name` is exactly `s`, for the enums configured by name; else
/// `InvalidRequestException` saying `refusal` of `s` cut to a readable length.
pub(crate) fn parse_name<T: Copy>(
    all: &[T],
    name: impl Fn(T) -> &'static str,
    s: &str,
    refusal: impl FnOnce(&str) -> String,
) -> Result<T, Error> {
    all.iter()
        .copied()
        .find(|t| name(*t) == s)
        .ok_or_else(|| Error::InvalidRequest(refusal(truncate_for_message(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises() {
        let id = CertificateId::of_der(b"abc");
        let text = id.to_string();
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(text.to_uppercase().parse::<CertificateId>().unwrap(), id);
        assert_eq!(format!("0x{text}").parse::<CertificateId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{text}\""));
    }

    #[test]
    fn rejects_bad_ids() {
        for bad in [
            "",
            "0x",
            "abc",
            &"g".repeat(64),
            &"a".repeat(65),
            &"é".repeat(32),
        ] {
            let err = bad.parse::<CertificateId>().unwrap_err();
            assert_eq!(err.code(), "InvalidRequestException", "{bad:?}");
        }
    }
}
