//! The vector generator's pieces: the expected values ([`expect`]), the scenario builder
//! ([`scenario`]), the certificates ([`catalogue`], made with [`pki`]), and one module per
//! vector file, each a function from the catalogue to a [`Scenario`].
//!
//! The scenario functions and the catalogue are data: one step (or one certificate) a
//! line, so that a scenario reads as the table it writes. They are `#[rustfmt::skip]`,
//! which would otherwise spread each call over one line per argument.

pub(crate) mod catalogue;
pub(crate) mod expect;
pub(crate) mod jitp;
pub(crate) mod json;
pub(crate) mod pki;
pub(crate) mod scenario;

mod ca_registration;
mod connect_refusals;
mod device_registration;
mod jitr_story;
mod paging;

use catalogue::Pki;
use pki::{Ymd, NOT_AFTER, NOT_BEFORE};
use scenario::Scenario;

pub(crate) const PARTITION: &str = "aws";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const ACCOUNT: &str = "123456789012";
/// The SNI host name of the account's endpoint (`<prefix>-ats.iot.<region>.amazonaws.com`).
pub(crate) const ENDPOINT: &str = "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com";
/// 2026-06-01T00:00:00Z in milliseconds: the `now` of every scenario's first step.
pub(crate) const T0: i64 = 1_780_272_000_000;
/// 2026-07-02T00:00:00Z: after the short-lived CA (2026-07-01) and device (2026-06-15) expire.
pub(crate) const T_JULY: i64 = 1_782_950_400_000;
/// Time between two steps.
pub(crate) const STEP_MS: i64 = 1_000;
pub(crate) const DAY_MS: i64 = 86_400_000;

pub(crate) const DEFAULT_VALIDITY: (Ymd, Ymd) = (NOT_BEFORE, NOT_AFTER);

/// Every vector file, in the order they are written.
pub(crate) fn scenarios(p: &Pki) -> [Scenario; 5] {
    [
        jitr_story::scenario(p),
        ca_registration::scenario(p),
        connect_refusals::scenario(p),
        device_registration::scenario(p),
        paging::scenario(p),
    ]
}
