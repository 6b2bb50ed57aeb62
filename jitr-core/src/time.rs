//! Time as the core sees it: always an argument, never read from a clock.

use core::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// A point in time, in milliseconds since the Unix epoch (UTC).
///
/// The core never reads the clock: every operation takes `now` as an argument, so tests
/// and shared vectors run at fixed times. Adapters at the edge read the clock with
/// [`Timestamp::now`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub const fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// From whole seconds since the Unix epoch.
    pub const fn from_unix_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, rounded down.
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Seconds since the Unix epoch with a fraction, as the AWS CLI prints dates.
    pub fn unix_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// The current time from the system clock. Only for adapters at the edge: the core
    /// never calls it. Not available on wasm32-unknown-unknown, which has no clock (the
    /// host passes the time in).
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub fn now() -> Self {
        SystemClock.now()
    }

    pub(crate) fn to_unix_time(self) -> rustls_pki_types::UnixTime {
        rustls_pki_types::UnixTime::since_unix_epoch(core::time::Duration::from_secs(
            self.unix_secs().max(0) as u64,
        ))
    }
}

/// Where a long-lived adapter (the rustls verifier) reads the time: the system clock by
/// default, a fixed or simulated clock in tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(since)
    }
}

/// A clock that always reads the same time.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}ms)", self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match x509_parser::time::ASN1Time::from_timestamp(self.unix_secs()) {
            Ok(t) => write!(f, "{t}"),
            Err(_) => write!(f, "{}ms since the epoch", self.0),
        }
    }
}

/// Serializes a timestamp as epoch seconds with a fraction (a JSON number), as the AWS
/// CLI prints `creationDate`, `lastModifiedDate` and validity dates.
pub(crate) fn as_epoch_seconds<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(t.unix_secs_f64())
}

/// A certificate's validity window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Validity {
    /// The start of the window (`notBefore`), inclusive.
    pub not_before: Timestamp,
    /// The end of the window (`notAfter`), inclusive.
    pub not_after: Timestamp,
}

impl Validity {
    /// Where `now` falls with respect to this window, to the second (X.509 times have
    /// one-second resolution, and webpki compares whole seconds too: a time within
    /// notAfter's second is still valid).
    pub fn check(&self, now: Timestamp) -> ValidityCheck {
        let t = now.unix_secs();
        if t < self.not_before.unix_secs() {
            ValidityCheck::NotYetValid
        } else if t > self.not_after.unix_secs() {
            ValidityCheck::Expired
        } else {
            ValidityCheck::Valid
        }
    }
}

impl Serialize for Validity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Validity", 2)?;
        st.serialize_field("notBefore", &self.not_before.unix_secs_f64())?;
        st.serialize_field("notAfter", &self.not_after.unix_secs_f64())?;
        st.end()
    }
}

/// Where a time falls with respect to a [`Validity`] window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidityCheck {
    /// Inside the window.
    Valid,
    /// Before `notBefore`.
    NotYetValid,
    /// After `notAfter`.
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_edges_are_inclusive() {
        let v = Validity {
            not_before: Timestamp::from_unix_secs(10),
            not_after: Timestamp::from_unix_secs(20),
        };
        assert_eq!(
            v.check(Timestamp::from_unix_millis(9_999)),
            ValidityCheck::NotYetValid
        );
        assert_eq!(v.check(Timestamp::from_unix_secs(10)), ValidityCheck::Valid);
        assert_eq!(v.check(Timestamp::from_unix_secs(20)), ValidityCheck::Valid);
        assert_eq!(
            v.check(Timestamp::from_unix_millis(20_999)),
            ValidityCheck::Valid,
            "within notAfter's second"
        );
        assert_eq!(
            v.check(Timestamp::from_unix_secs(21)),
            ValidityCheck::Expired
        );
    }

    #[test]
    fn seconds_round_down_before_the_epoch() {
        assert_eq!(Timestamp::from_unix_millis(-1).unix_secs(), -1);
        assert_eq!(Timestamp::from_unix_millis(1_500).unix_secs_f64(), 1.5);
    }
}
