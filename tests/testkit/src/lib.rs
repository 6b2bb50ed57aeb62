//! Certificates for jitr's tests: one set of helpers used by `jitr-core`'s integration
//! tests and benches, the shared-vector generator (`jitr-tests`' `gen-vectors`), the
//! property tests, and the fuzz targets.
//!
//! # Why a crate of its own, and why it does not depend on jitr-core
//!
//! `jitr-core`'s integration tests (`jitr-core/tests/*.rs`) link against `jitr-core` as
//! built for them. A helper crate that itself depended on `jitr-core` would, as their
//! dev-dependency, bring a *second* build of `jitr-core` whose `Certificate`,
//! `CertificateId`, … are different types from the ones the tests use. So this crate
//! deals only in what every user shares: DER and PEM bytes, rcgen's
//! [`CertificateParams`](rcgen::CertificateParams), and its own [`Key`], [`Ca`] and
//! [`Cert`]. Each user adds the thin glue to its own types (for example
//! `jitr-core/tests/common/mod.rs` turns DER into `CertificateDer` and `CertificateId`).
//! It depends on rcgen, ring, pem, hex and time only (and rustls, with the feature `rustls`).
//!
//! With the feature `rustls`, `tls` gives rustls a test client's certificate as it is.
//!
//! [`tmp`] names scratch files and directories the same way for every test.
//!
//! It lives under `tests/` (the `jitr-tests` crate's folder) so that the repository's top
//! level stays `jitr-core`, `jitr-py`, `jitr-wasm`, `fuzz` and `tests`.
//!
//! # Determinism
//!
//! The shared vectors must be byte-identical every time they are generated, so every key
//! kind can be made deterministically from a label ([`Key::ed25519`], [`Key::p256`],
//! [`Key::rsa2048`]); tests that need many distinct keys use [`Key::random`].
//!
//! # Shapes
//!
//! [`ca_params`] is a CA (basicConstraints CA, keyCertSign + cRLSign), [`leaf_params`] an
//! end-entity certificate (digitalSignature, an extended key usage of your choice, an
//! authority key identifier). Both take the subject name (see [`cn`]), an optional serial
//! (rcgen derives one from the public key otherwise) and the validity as calendar dates.
//!
//! ```
//! use jitr_testkit::{ca_params, cn, leaf_params, Ca, Eku, Key, VALIDITY};
//!
//! let ca = Ca::root(ca_params(cn("Fleet CA"), None, VALIDITY), Key::ed25519("doc/ca")?)?;
//! let device = ca.issue(
//!     &leaf_params(cn("device-1"), Some(7), VALIDITY, Eku::ClientAuth),
//!     &Key::ed25519("doc/device")?,
//! )?;
//! assert!(device.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
//! assert_eq!(device.id().len(), 64);
//! # Ok::<(), jitr_testkit::Error>(())
//! ```

mod cert;
mod key;
#[cfg(feature = "rustls")]
pub mod tls;
pub mod tmp;

pub use cert::{
    ca_params, cn, date, issue_with, leaf_params, self_signed, Ca, Cert, Eku, Ymd, NOT_AFTER,
    NOT_BEFORE, VALIDITY,
};
pub use key::Key;

/// AWS's JITP example template, verbatim from
/// <https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html>
/// ("Example template body"): the provisioning unit tests and the vector generator both
/// check jitr against it.
pub const AWS_JITP_EXAMPLE: &str = include_str!("../data/aws-jitp-example.json");

/// rcgen, re-exported so users name the same version of its types.
pub use rcgen;

/// Errors of the helpers (rcgen's, ring's, or a sentence).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Lowercase hex SHA-256 of `bytes`: a certificate's ID is this of its DER.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// PEM with LF line endings and 64-character lines on every platform (any bytes, any
/// label).
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
