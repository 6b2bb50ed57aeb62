//! Certificates as people hand them over, and the requests of the diagnosing tools.
//!
//! A front end (the browser page, the JavaScript API) receives certificates as whatever a
//! person has at hand: PEM text with one certificate or a bundle, a DER file, or a PKCS#7
//! bundle (`.p7b`, DER or PEM, as Windows' certificate export and `openssl crl2pkcs7`
//! write them). This module tells them apart and reads them with one set of bounds
//! ([`LIMITS`]), so that every front end refuses the same input with the same sentence,
//! before any X.509 parsing:
//!
//! - a device chain ([`Bound::Chain`]): at most [`MAX_CHAIN_LEN`] certificates in
//!   [`MAX_PEM_LEN`] bytes, what a TLS client presents;
//! - a CA bundle ([`Bound::CaBundle`]): at most [`MAX_CA_BUNDLE_LEN`] certificates in
//!   [`MAX_CA_BUNDLE_PEM_LEN`] bytes, the CAs registered in an account or a trust store
//!   (Mozilla's holds about 150).
//!
//! How input is told apart ([`certificates`]):
//! 1. Bytes that start with a DER SEQUENCE (`0x30`) are DER: a PKCS#7 `ContentInfo` when
//!    the SEQUENCE starts with an OBJECT IDENTIFIER, else one certificate.
//! 2. Other bytes must be UTF-8 text, read as text.
//! 3. Text is PEM: `CERTIFICATE` (or `X509 CERTIFICATE`) blocks are certificates, `PKCS7`
//!    (or `CMS`) blocks are PKCS#7 bundles. Anything else is refused, a private key with a
//!    sentence that never echoes it.
//!
//! PKCS#7 is read as RFC 2315 / RFC 5652 `SignedData` with only its `certificates` field
//! looked at (a "certs-only" bundle has no content and no signers), by a small walk over
//! the encoding with asn1-rs (the BER/DER parser x509-parser is built on). Each
//! certificate is handed on as the exact bytes it has in the bundle, because a
//! certificate's AWS ID is the SHA-256 of those bytes; RustCrypto's `cms` crate would
//! decode and re-encode them, and it refuses the BER (indefinite lengths) some tools
//! write.
//!
//! The JSON requests of those tools ([`InspectOptions`], [`PreflightRequest`],
//! [`RegistrationEventRequest`], [`VerificationOptions`], [`RegistryOptions`]) are
//! deserialized ([`from_json`]) and validated here too, so that a binding only converts.
//! Their times are epoch milliseconds (JSON numbers), as JavaScript counts them; a missing
//! `now` is the `default_now` the host passes in (the core never reads a clock).
//!
//! ```
//! use jitr_core::input::{certificates, Bound, Input};
//! let err = certificates(Input::Text("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n"), Bound::CaBundle)
//!     .unwrap_err();
//! assert_eq!(err.code(), "CertificateValidationException");
//! assert!(err.message().contains("PKCS#7"), "{}", err.message());
//! let err = certificates(Input::Bytes(&[0xff, 0xd8, 0xff]), Bound::Chain).unwrap_err();
//! assert!(err.message().starts_with("the input is neither PEM text"));
//! ```

use crate::error::{CertificateError, CertificateErrorKind};
use rustls_pki_types::CertificateDer;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use x509_parser::asn1_rs::{Any, Class, FromBer, Header, Length, Tag};
use CertificateErrorKind::{Count, Der, Pem, PrivateKey, TooLarge};

use crate::cert::{Certificate, MAX_CERTIFICATE_DER_LEN, MAX_CHAIN_LEN, MAX_PEM_LEN};
use crate::error::Error;
use crate::event::RegistrationEvent;
use crate::id::{truncate_for_message, CertificateId};
use crate::inspect::{describe, CertificateInfo, Role};
use crate::registry::{
    check_verification_certificate, preflight, Decision, PreflightCa, PreflightCertificate,
    RegistrationConfig, Registry, RegistryConfig,
};
use crate::scope::Scope;
use crate::status::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus};
use crate::time::Timestamp;

/// The most certificates a CA bundle may hold.
pub const MAX_CA_BUNDLE_LEN: usize = 1000;
/// The largest CA bundle accepted, in bytes (4 MiB): room for [`MAX_CA_BUNDLE_LEN`] PEM
/// certificates of ordinary size.
pub const MAX_CA_BUNDLE_PEM_LEN: usize = 4 * 1024 * 1024;
/// The largest JSON request accepted by [`from_json`], in bytes (8 MiB): a pre-flight
/// with a full CA bundle and a chain, with room for JSON's escapes.
pub const MAX_REQUEST_LEN: usize = 8 * 1024 * 1024;

/// The input limits, for front ends to refuse oversized input before handing it over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Limits {
    /// [`MAX_PEM_LEN`]: the largest device chain (or single certificate) input, in bytes.
    pub max_pem_length: usize,
    /// [`MAX_CHAIN_LEN`]: the most certificates in a device chain.
    pub max_chain_length: usize,
    /// [`MAX_CERTIFICATE_DER_LEN`]: the largest certificate, in DER bytes.
    pub max_certificate_der_length: usize,
    /// [`MAX_CA_BUNDLE_LEN`]: the most certificates in a CA bundle.
    pub max_ca_bundle_length: usize,
    /// [`MAX_CA_BUNDLE_PEM_LEN`]: the largest CA bundle input, in bytes.
    pub max_ca_bundle_pem_length: usize,
    /// The largest certificate input any call reads (the larger of the two above).
    pub max_input_length: usize,
    /// [`MAX_REQUEST_LEN`]: the largest JSON request.
    pub max_request_length: usize,
}

/// The input limits.
pub const LIMITS: Limits = Limits {
    max_pem_length: MAX_PEM_LEN,
    max_chain_length: MAX_CHAIN_LEN,
    max_certificate_der_length: MAX_CERTIFICATE_DER_LEN,
    max_ca_bundle_length: MAX_CA_BUNDLE_LEN,
    max_ca_bundle_pem_length: MAX_CA_BUNDLE_PEM_LEN,
    max_input_length: if MAX_CA_BUNDLE_PEM_LEN > MAX_PEM_LEN {
        MAX_CA_BUNDLE_PEM_LEN
    } else {
        MAX_PEM_LEN
    },
    max_request_length: MAX_REQUEST_LEN,
};

/// Certificate input: text (PEM) or bytes (DER, PKCS#7, or PEM text as bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Text, as typed or pasted.
    Text(&'a str),
    /// Bytes, as read from a file.
    Bytes(&'a [u8]),
}

/// Which bounds apply to an input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Bound {
    /// What a device presents: at most [`MAX_CHAIN_LEN`] certificates in [`MAX_PEM_LEN`]
    /// bytes.
    #[default]
    Chain,
    /// CA certificates to register or to diagnose against: at most [`MAX_CA_BUNDLE_LEN`]
    /// certificates in [`MAX_CA_BUNDLE_PEM_LEN`] bytes.
    CaBundle,
}

impl Bound {
    /// The bound for certificates judged in `role`: a CA bundle for [`Role::Ca`], a chain
    /// otherwise.
    pub fn for_role(role: Role) -> Self {
        match role {
            Role::Ca => Self::CaBundle,
            Role::Any | Role::Device => Self::Chain,
        }
    }

    /// The most certificates.
    pub const fn max_certificates(self) -> usize {
        match self {
            Self::Chain => MAX_CHAIN_LEN,
            Self::CaBundle => MAX_CA_BUNDLE_LEN,
        }
    }

    /// The largest input, in bytes.
    pub const fn max_len(self) -> usize {
        match self {
            Self::Chain => MAX_PEM_LEN,
            Self::CaBundle => MAX_CA_BUNDLE_PEM_LEN,
        }
    }

    /// What the input may be, and its most certificates.
    fn what(self) -> (&'static str, usize) {
        match self {
            Self::Chain => ("a chain", MAX_CHAIN_LEN),
            Self::CaBundle => ("a CA bundle", MAX_CA_BUNDLE_LEN),
        }
    }
}

/// Every certificate in `input` (PEM, DER or PKCS#7; see the module documentation),
/// within `bound`, parsed.
pub fn certificates(input: Input<'_>, bound: Bound) -> Result<Vec<Certificate>, Error> {
    let blocks = der_blocks(input, bound)?;
    let total = blocks.len();
    blocks
        .iter()
        .enumerate()
        .map(|(i, der)| {
            Certificate::from_der(der).map_err(|e| {
                if total == 1 {
                    e
                } else {
                    invalid(
                        Der,
                        format!("certificate {} of {total}: {}", i + 1, e.message()),
                    )
                }
            })
        })
        .collect()
}

/// The one certificate in `input`.
pub fn certificate(input: Input<'_>) -> Result<Certificate, Error> {
    let mut certs = certificates(input, Bound::Chain)?;
    if certs.len() != 1 {
        return Err(invalid(
            Count,
            format!("expected exactly one certificate, found {}", certs.len()),
        ));
    }
    Ok(certs.remove(0))
}

/// The DER certificates of a chain given as several inputs (each PEM, DER or PKCS#7),
/// leaf first, without parsing them as X.509: the decision reads them as a TLS server
/// would, and bounds their number and sizes itself. Each input may be [`MAX_PEM_LEN`]
/// bytes.
pub fn chain_der(inputs: &[Input<'_>]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut chain = Vec::new();
    for input in inputs {
        let blocks = match input {
            Input::Bytes(b) if b.first() == Some(&0x30) => {
                check_len(b.len(), Bound::Chain)?;
                if is_pkcs7(b) {
                    owned(pkcs7_certificates(b, MAX_CA_BUNDLE_LEN)?)
                } else {
                    vec![b.to_vec()]
                }
            }
            // Text (or bytes of text): every block, however many; the decision counts them.
            other => {
                let text = as_text(*other)?;
                text_blocks(text, Bound::Chain, MAX_CA_BUNDLE_LEN)?
            }
        };
        chain.extend(blocks.into_iter().map(CertificateDer::from));
    }
    Ok(chain)
}

/// The certificates of a PKCS#7 `SignedData` (`ContentInfo`, DER or BER) as the exact
/// bytes each has in it, at most `max` of them.
///
/// ```
/// use jitr_core::input::pkcs7_certificates;
/// // A certs-only bundle with no certificates is refused.
/// let empty: &[u8] = &[
///     0x30, 0x23, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0,
///     0x16, 0x30, 0x14, 0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86,
///     0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0x31, 0x00,
/// ];
/// let err = pkcs7_certificates(empty, 16).unwrap_err();
/// assert!(err.message().contains("no certificates"), "{}", err.message());
/// ```
pub fn pkcs7_certificates(der: &[u8], max: usize) -> Result<Vec<&[u8]>, Error> {
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let (content_info, _, rest) = element(der)?;
    if !rest.is_empty() {
        return Err(pkcs7_error(format!(
            "{} bytes of trailing data follow it",
            rest.len()
        )));
    }
    expect(&content_info, Class::Universal, Tag::Sequence, "a SEQUENCE")?;
    let (content_type, _, rest) = element(content_info.data)?;
    expect(&content_type, Class::Universal, Tag::Oid, "a content type")?;
    if content_type.data != SIGNED_DATA {
        return Err(pkcs7_error(
            "it is not signedData (1.2.840.113549.1.7.2), the type that carries certificates"
                .into(),
        ));
    }
    let (explicit, _, _) = element(rest)?;
    expect(
        &explicit,
        Class::ContextSpecific,
        Tag(0),
        "signedData content",
    )?;
    let (signed_data, _, _) = element(explicit.data)?;
    expect(
        &signed_data,
        Class::Universal,
        Tag::Sequence,
        "a SignedData",
    )?;
    // version, digestAlgorithms, (encap)contentInfo; then the optional [0] certificates.
    let mut fields = signed_data.data;
    for what in ["a version", "digest algorithms", "a content"] {
        let (field, _, rest) = element(fields)?;
        if is_end_of_contents(&field) {
            return Err(pkcs7_error(format!("its SignedData ends before {what}")));
        }
        fields = rest;
    }
    let mut found = None;
    while !fields.is_empty() {
        let (field, _, rest) = element(fields)?;
        if is_end_of_contents(&field) {
            break;
        }
        if field.class() == Class::ContextSpecific && field.tag() == Tag(0) {
            found = Some(field.data);
            break;
        }
        fields = rest;
    }
    let mut certs = Vec::new();
    let mut items = found.unwrap_or_default();
    while !items.is_empty() {
        let (item, raw, rest) = element(items)?;
        if is_end_of_contents(&item) {
            break;
        }
        if item.class() != Class::Universal || item.tag() != Tag::Sequence {
            return Err(pkcs7_error(
                "it holds something other than an X.509 certificate (an attribute certificate?); only certificates are read".into(),
            ));
        }
        if certs.len() == max {
            return Err(invalid(
                TooLarge,
                format!(
                "the PKCS#7 bundle holds more than {max} certificates; at most {max} are accepted"
            ),
            ));
        }
        certs.push(raw);
        items = rest;
    }
    if certs.is_empty() {
        return Err(pkcs7_error("it holds no certificates".into()));
    }
    Ok(certs)
}

/// Whether DER bytes are a PKCS#7 `ContentInfo` rather than a certificate: its SEQUENCE
/// starts with an OBJECT IDENTIFIER (a certificate's starts with a SEQUENCE).
fn is_pkcs7(der: &[u8]) -> bool {
    element(der)
        .ok()
        .and_then(|(outer, _, _)| Header::from_ber(outer.data).ok())
        .is_some_and(|(_, first)| first.class() == Class::Universal && first.tag() == Tag::Oid)
}

/// The raw DER of each certificate in `input`, within `bound`.
fn der_blocks(input: Input<'_>, bound: Bound) -> Result<Vec<Vec<u8>>, Error> {
    if let Input::Bytes(b) = input {
        if b.is_empty() {
            return Err(empty());
        }
        if b[0] == 0x30 {
            check_len(b.len(), bound)?;
            return if is_pkcs7(b) {
                Ok(owned(pkcs7_certificates(b, bound.max_certificates())?))
            } else {
                Ok(vec![b.to_vec()])
            };
        }
    }
    text_blocks(as_text(input)?, bound, bound.max_certificates())
}

fn as_text(input: Input<'_>) -> Result<&str, Error> {
    match input {
        Input::Text(t) => Ok(t),
        Input::Bytes(b) => core::str::from_utf8(b).map_err(|_| {
            invalid(Pem, "the input is neither PEM text (it is not UTF-8 text) nor DER (which starts with the byte 0x30)")
        }),
    }
}

/// The certificates of PEM text: CERTIFICATE blocks and PKCS#7 bundles, at most `max`.
fn text_blocks(text: &str, bound: Bound, max: usize) -> Result<Vec<Vec<u8>>, Error> {
    if text.trim().is_empty() {
        return Err(empty());
    }
    check_len(text.len(), bound)?;
    let mut out = Vec::new();
    for (i, (tag, der)) in pem_blocks(text, bound.max_len())?.into_iter().enumerate() {
        match tag.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => out.push(der),
            "PKCS7" | "CMS" => out.extend(owned(pkcs7_certificates(&der, max)?)),
            other => {
                return Err(invalid(
                    Pem,
                    format!(
                        "PEM block {} is {}, not a CERTIFICATE or a PKCS7 bundle",
                        i + 1,
                        quote(other)
                    ),
                ))
            }
        }
    }
    check_at_most(
        "the PEM text holds",
        out.len(),
        "certificates",
        max,
        if bound == Bound::CaBundle {
            " in a CA bundle"
        } else {
            ""
        },
    )?;
    Ok(out)
}

/// The PEM blocks of a text, as (tag, contents): at most `max_len` bytes of text, no
/// private key, every block ended, at least one block.
pub(crate) fn pem_blocks(text: &str, max_len: usize) -> Result<Vec<(String, Vec<u8>)>, Error> {
    check_at_most("the PEM text is", text.len(), "bytes", max_len, "")?;
    if text.contains("PRIVATE KEY-----") {
        return Err(invalid(PrivateKey,
            "the input contains a private key; only certificates are accepted (the key was not stored or shown)",
        ));
    }
    let blocks = pem::parse_many(text)
        .map_err(|e| invalid(Pem, format!("the PEM text is malformed: {e}")))?;
    let begins = text.matches("-----BEGIN ").count();
    if blocks.len() < begins {
        return Err(invalid(Pem, format!(
            "{} of the {begins} PEM blocks never end (no matching -----END line): the text looks truncated",
            begins - blocks.len()
        )));
    }
    if blocks.is_empty() {
        return Err(invalid(
            Pem,
            "no PEM certificate (-----BEGIN CERTIFICATE-----) was found",
        ));
    }
    Ok(blocks
        .into_iter()
        .map(|b| (b.tag().to_string(), b.into_contents()))
        .collect())
}

/// A value from the input, quoted for a message: at most 80 characters, control
/// characters shown as `?`.
pub(crate) fn quote(s: &str) -> String {
    let clean: String = truncate_for_message(s)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("\u{201c}{clean}\u{201d}")
}

/// What is wrong with DER that x509-parser refused, as a sentence (its own Display prints
/// Rust debug text such as `Der(UnexpectedTag { expected: Some(Tag(16)), .. })`).
pub(crate) fn x509_error(e: &x509_parser::nom::Err<x509_parser::error::X509Error>) -> String {
    use x509_parser::asn1_rs::Error as Ber;
    use x509_parser::error::X509Error as X;
    use x509_parser::nom::Err;
    let inner = match e {
        Err::Incomplete(_) => {
            return "the data ends before the certificate does (is it cut short?)".into()
        }
        Err::Error(x) | Err::Failure(x) => x,
    };
    match inner {
        X::Der(Ber::Incomplete(_)) | X::NomError(x509_parser::nom::error::ErrorKind::Eof) => {
            "the data ends before the certificate does (is it cut short?)".into()
        }
        X::Der(Ber::InvalidLength) => "an element's length is wrong".into(),
        X::Der(Ber::UnexpectedTag { .. } | Ber::InvalidTag | Ber::UnknownTag(_)) => {
            "an element is not of the type X.509 puts there".into()
        }
        X::Der(Ber::DerConstraintFailed(_) | Ber::IndefiniteLengthUnexpected) => {
            "it is BER, not DER (an indefinite length or a non-minimal encoding)".into()
        }
        X::Der(_) | X::NomError(_) | X::Generic => "it is not valid DER".into(),
        // x509-parser's own sentences: "invalid version", "invalid X.509 name", ...
        other => other.to_string(),
    }
}

fn check_len(len: usize, bound: Bound) -> Result<(), Error> {
    let (what, certificates) = bound.what();
    check_at_most(
        "the input is",
        len,
        "bytes",
        bound.max_len(),
        format_args!(" ({what} of at most {certificates} certificates)"),
    )
}

fn owned(blocks: Vec<&[u8]>) -> Vec<Vec<u8>> {
    blocks.into_iter().map(<[u8]>::to_vec).collect()
}

/// One BER element at the start of `data`: the element, its whole encoding, what follows.
fn element(data: &[u8]) -> Result<(Any<'_>, &[u8], &[u8]), Error> {
    let (rest, any) =
        Any::from_ber(data).map_err(|_| pkcs7_error("it is not valid DER or BER".into()))?;
    let raw = &data[..data.len() - rest.len()];
    Ok((any, raw, rest))
}

fn is_end_of_contents(any: &Any<'_>) -> bool {
    any.class() == Class::Universal
        && any.tag() == Tag::EndOfContent
        && any.header.length() == Length::Definite(0)
}

fn expect(any: &Any<'_>, class: Class, tag: Tag, what: &str) -> Result<(), Error> {
    if any.class() != class || any.tag() != tag || !(tag == Tag::Oid || any.header.is_constructed())
    {
        return Err(pkcs7_error(format!("{what} was expected")));
    }
    Ok(())
}

fn pkcs7_error(what: String) -> Error {
    invalid(Der, format!("the PKCS#7 bundle is malformed: {what}"))
}

fn empty() -> Error {
    invalid(
        Der,
        "the input is empty: give a certificate as PEM text or DER bytes",
    )
}

pub(crate) fn invalid(kind: CertificateErrorKind, msg: impl Into<String>) -> Error {
    Error::Certificate(CertificateError::new(kind, msg))
}

/// `TooLarge` when `count` is above `max`, said as "`subject` `count` `unit`; at most
/// `max` are accepted`note`".
pub(crate) fn check_at_most(
    subject: &str,
    count: usize,
    unit: &str,
    max: usize,
    note: impl std::fmt::Display,
) -> Result<(), Error> {
    if count > max {
        return Err(invalid(
            TooLarge,
            format!("{subject} {count} {unit}; at most {max} are accepted{note}"),
        ));
    }
    Ok(())
}

// --- times -------------------------------------------------------------------------------

/// A time given as epoch milliseconds by a host that counts in floating point (JavaScript):
/// finite, within a JavaScript `Date`'s range (±8.64e15 ms), rounded down to the
/// millisecond.
///
/// ```
/// use jitr_core::input::timestamp_from_millis;
/// assert_eq!(timestamp_from_millis(1.9).unwrap().unix_millis(), 1);
/// assert!(timestamp_from_millis(f64::NAN).is_err());
/// ```
pub fn timestamp_from_millis(ms: f64) -> Result<Timestamp, Error> {
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return Err(Error::InvalidRequest(format!(
            "{ms} is not a valid time: give epoch milliseconds within the range of a JavaScript Date"
        )));
    }
    // In range, so the cast is exact after rounding down.
    Ok(Timestamp::from_unix_millis(ms.floor() as i64))
}

fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    Option::<f64>::deserialize(d)?
        .map(|ms| timestamp_from_millis(ms).map_err(|e| D::Error::custom(e.message())))
        .transpose()
}

// --- requests ----------------------------------------------------------------------------

/// A JSON request, deserialized: at most [`MAX_REQUEST_LEN`] bytes; `null` stands for an
/// empty object. Any error is `InvalidRequestException` with serde's reason.
pub fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    if json.len() > MAX_REQUEST_LEN {
        return Err(Error::InvalidRequest(format!(
            "the request is {} bytes of JSON; at most {MAX_REQUEST_LEN} are accepted",
            json.len()
        )));
    }
    let text = if json.trim() == "null" { "{}" } else { json };
    serde_json::from_str(text).map_err(|e| {
        // serde_json appends the position, which means nothing to the caller of an API.
        let full = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        let reason = full.strip_suffix(&at).unwrap_or(&full);
        Error::InvalidRequest(format!("invalid parameters: {reason}"))
    })
}

/// How to inspect: [`InspectOptions::inspect`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct InspectOptions {
    /// When to judge validity (default: the host's `default_now`).
    #[serde(default, deserialize_with = "millis")]
    pub now: Option<Timestamp>,
    /// The rules to judge by, and the bound: a CA bundle for [`Role::Ca`], a chain
    /// otherwise.
    #[serde(default)]
    pub role: Role,
}

impl InspectOptions {
    /// Every certificate in `input`, described and judged ([`describe`]).
    pub fn inspect(
        &self,
        input: Input<'_>,
        default_now: Timestamp,
    ) -> Result<Vec<CertificateInfo>, Error> {
        let now = self.now.unwrap_or(default_now);
        Ok(certificates(input, Bound::for_role(self.role))?
            .iter()
            .map(|c| describe(c, self.role, now))
            .collect())
    }
}

/// The account a pre-flight's event names when none is given.
pub const PREFLIGHT_ACCOUNT: &str = "123456789012";

/// A CA as the user says it is registered (JSON: `pem`, `status`,
/// `autoRegistrationStatus`, `certificateMode`, in AWS's spellings, and optionally
/// `registrationConfig`: `{"templateBody", "roleArn"}`, for just-in-time provisioning).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct RegisteredCa {
    /// The CA certificate, PEM.
    pub pem: String,
    /// Its status.
    pub status: CaStatus,
    /// Its auto-registration status.
    pub auto_registration_status: AutoRegistrationStatus,
    /// Its mode.
    pub certificate_mode: CertificateMode,
    /// Its just-in-time provisioning configuration: a template body (see [`preflight`]).
    #[serde(default)]
    pub registration_config: Option<RegistrationConfig>,
}

/// A device certificate as the user says it is registered.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct RegisteredCertificate {
    /// Its ID.
    pub certificate_id: CertificateId,
    /// Its status.
    pub status: CertificateStatus,
}

/// A pre-flight ([`preflight`]) as JSON: everything but the chain,
/// which may hold DER bytes and comes separately ([`chain_der`]).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct PreflightRequest {
    /// The CAs registered in the account.
    pub registered_cas: Vec<RegisteredCa>,
    /// Device certificates already registered (only the leaf's entry matters).
    #[serde(default)]
    pub registered_certificates: Option<Vec<RegisteredCertificate>>,
    /// The SNI host name the device sends.
    #[serde(default)]
    pub server_name: Option<String>,
    /// The account for the event payload (default [`PREFLIGHT_ACCOUNT`]).
    #[serde(default)]
    pub account: Option<String>,
    /// When (default: the host's `default_now`).
    #[serde(default, deserialize_with = "millis")]
    pub now: Option<Timestamp>,
}

impl PreflightRequest {
    /// The decision for `chain` ([`preflight`]).
    pub fn decide(
        &self,
        chain: &[CertificateDer<'_>],
        default_now: Timestamp,
    ) -> Result<Decision, Error> {
        let cas: Vec<PreflightCa> = self
            .registered_cas
            .iter()
            .map(|c| PreflightCa {
                pem: c.pem.clone(),
                status: c.status,
                auto_registration_status: c.auto_registration_status,
                certificate_mode: c.certificate_mode,
                registration_config: c.registration_config.clone(),
            })
            .collect();
        let known: Vec<PreflightCertificate> = self
            .registered_certificates
            .iter()
            .flatten()
            .map(|c| PreflightCertificate {
                certificate_id: c.certificate_id,
                status: c.status,
            })
            .collect();
        preflight(
            self.account.as_deref().unwrap_or(PREFLIGHT_ACCOUNT),
            chain,
            &cas,
            &known,
            self.server_name.as_deref(),
            self.now.unwrap_or(default_now),
        )
    }
}

/// A registration event to build ([`RegistrationEvent::new`]), as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct RegistrationEventRequest {
    /// The device certificate.
    pub certificate_id: CertificateId,
    /// Its CA.
    pub ca_certificate_id: CertificateId,
    /// The account (12 digits).
    pub aws_account_id: String,
    /// When the event is published (default: the host's `default_now`).
    #[serde(default, deserialize_with = "millis")]
    pub timestamp: Option<Timestamp>,
    /// When the certificate was registered (default: `timestamp`).
    #[serde(default, deserialize_with = "millis")]
    pub certificate_registration_timestamp: Option<Timestamp>,
}

impl RegistrationEventRequest {
    /// The event; the account must be one a registry could have.
    pub fn event(&self, default_now: Timestamp) -> Result<RegistrationEvent, Error> {
        Scope::new(&self.aws_account_id, "us-east-1")?;
        let at = self.timestamp.unwrap_or(default_now);
        Ok(RegistrationEvent::new(
            self.certificate_id,
            self.ca_certificate_id,
            &self.aws_account_id,
            at,
            self.certificate_registration_timestamp.unwrap_or(at),
        ))
    }
}

/// How to check a verification certificate ([`VerificationOptions::check`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct VerificationOptions {
    /// When (default: the host's `default_now`).
    #[serde(default, deserialize_with = "millis")]
    pub now: Option<Timestamp>,
    /// Whether to check the verification certificate's validity period (default true).
    #[serde(default)]
    pub check_validity: Option<bool>,
}

impl VerificationOptions {
    /// Checks a verification certificate as RegisterCACertificate does
    /// ([`check_verification_certificate`]); a CA
    /// that is not one certificate is a `CertificateValidationException` that says so.
    pub fn check(
        &self,
        ca_pem: &str,
        verification_pem: &str,
        registration_code: &str,
        default_now: Timestamp,
    ) -> Result<(), Error> {
        let ca = Certificate::from_pem(ca_pem)
            .map_err(|e| invalid(Der, format!("caCertificate: {}", e.message())))?;
        check_verification_certificate(
            &ca,
            verification_pem,
            registration_code,
            self.now.unwrap_or(default_now),
            self.check_validity.unwrap_or(true),
        )
    }
}

/// A registry to create, as JSON: `account` (12 digits), `region` (default `us-east-1`),
/// `partition` (default `aws`), `registrationCode` (default: a fresh random one).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// The account.
    pub account: String,
    /// The region.
    #[serde(default)]
    pub region: Option<String>,
    /// The partition.
    #[serde(default)]
    pub partition: Option<String>,
    /// The registration code (64 hex characters).
    #[serde(default)]
    pub registration_code: Option<String>,
}

impl RegistryOptions {
    /// An empty registry with the default [`RegistryConfig`].
    pub fn registry(&self) -> Result<Registry, Error> {
        let scope = Scope::with_partition(
            self.partition.as_deref().unwrap_or("aws"),
            &self.account,
            self.region.as_deref().unwrap_or("us-east-1"),
        )?;
        let registry = Registry::with_config(scope, RegistryConfig::default());
        match &self.registration_code {
            Some(code) => registry.with_registration_code(code),
            None => Ok(registry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der_of(pem_text: &str) -> Vec<u8> {
        pem::parse(pem_text).unwrap().into_contents()
    }

    /// DER TLV with a definite length.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    /// A certs-only PKCS#7 SignedData holding `certs`, as `openssl crl2pkcs7` writes it.
    pub(crate) fn p7b(certs: &[&[u8]]) -> Vec<u8> {
        let oid = |bytes: &[u8]| tlv(0x06, bytes);
        let signed_data_oid = oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);
        let data_oid = oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);
        let mut sd = tlv(0x02, &[1]);
        sd.extend(tlv(0x31, &[]));
        sd.extend(tlv(0x30, &data_oid));
        sd.extend(tlv(0xa0, &certs.concat()));
        sd.extend(tlv(0x31, &[]));
        let mut ci = signed_data_oid;
        ci.extend(tlv(0xa0, &tlv(0x30, &sd)));
        tlv(0x30, &ci)
    }

    fn story() -> (String, String) {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/jitr-story.json")).unwrap();
        let pem = |n: &str| v["certificates"][n]["pem"].as_str().unwrap().to_string();
        (pem("device-story"), pem("ca-ed25519"))
    }

    #[test]
    fn pem_der_and_pkcs7_read_the_same_certificates() {
        let (device, ca) = story();
        let (d, c) = (der_of(&device), der_of(&ca));
        let want: Vec<CertificateId> = [&d, &c].iter().map(|x| CertificateId::of_der(x)).collect();
        let ids = |certs: Vec<Certificate>| certs.iter().map(Certificate::id).collect::<Vec<_>>();
        let bundle = p7b(&[&d, &c]);
        let pem_p7 = pem::encode(&pem::Pem::new("PKCS7", bundle.clone()));
        for input in [
            Input::Text(&format!("{device}{ca}")),
            Input::Bytes(format!("{device}{ca}").as_bytes()),
            Input::Bytes(&bundle),
            Input::Text(&pem_p7),
        ] {
            assert_eq!(ids(certificates(input, Bound::Chain).unwrap()), want);
        }
        assert_eq!(certificate(Input::Bytes(&d)).unwrap().id(), want[0]);
        // BER: indefinite lengths, as some tools write.
        let ber = {
            let mut sd = vec![0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09];
            sd.extend([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]);
            sd.extend([0xa0, 0x80]);
            sd.extend(&d);
            sd.extend([0, 0, 0x31, 0x00]);
            let mut ci = vec![0x30, 0x80, 0x06, 0x09];
            ci.extend([
                0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x30, 0x80,
            ]);
            ci.extend(sd);
            ci.extend([0, 0, 0, 0, 0, 0]);
            ci
        };
        assert_eq!(
            ids(certificates(Input::Bytes(&ber), Bound::Chain).unwrap()),
            want[..1]
        );
        // The chain for the decision: the same DER, unparsed.
        let chain = chain_der(&[Input::Bytes(&bundle), Input::Text(&ca)]).unwrap();
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[0].as_ref(), &d[..]);
    }

    #[test]
    fn bounds_depend_on_the_side() {
        let (_, ca) = story();
        let c = der_of(&ca);
        let seventeen = ca.repeat(17);
        let err = certificates(Input::Text(&seventeen), Bound::Chain).unwrap_err();
        assert!(
            err.message().contains("holds 17 certificates; at most 16"),
            "{}",
            err.message()
        );
        assert_eq!(
            certificates(Input::Text(&seventeen), Bound::CaBundle)
                .unwrap()
                .len(),
            17
        );
        let many = p7b(&vec![&c[..]; 17]);
        assert!(certificates(Input::Bytes(&many), Bound::Chain).is_err());
        assert_eq!(
            certificates(Input::Bytes(&many), Bound::CaBundle)
                .unwrap()
                .len(),
            17
        );
        let too_many = ca.repeat(MAX_CA_BUNDLE_LEN + 1);
        let err = certificates(Input::Text(&too_many), Bound::CaBundle).unwrap_err();
        assert!(
            err.message().contains("in a CA bundle"),
            "{}",
            err.message()
        );
        let big = "x".repeat(MAX_PEM_LEN + 1);
        let err = certificates(Input::Text(&big), Bound::Chain).unwrap_err();
        assert!(
            err.message().contains("a chain of at most 16"),
            "{}",
            err.message()
        );
        assert_eq!(Bound::for_role(Role::Ca), Bound::CaBundle);
        assert_eq!(LIMITS.max_input_length, MAX_CA_BUNDLE_PEM_LEN);
    }

    #[test]
    fn bad_input_is_refused_with_a_sentence() {
        let (device, _) = story();
        let d = der_of(&device);
        let cases: Vec<(Input<'_>, &str)> = vec![
            (Input::Text(""), "empty"),
            (Input::Text(" \n"), "empty"),
            (Input::Bytes(&[]), "empty"),
            (Input::Bytes(&[0xff, 0xd8]), "neither PEM text"),
            (Input::Text("hello"), "no PEM certificate"),
            (
                Input::Text("-----BEGIN FOO\u{7}-----\nAAAA\n-----END FOO\u{7}-----\n"),
                "“FOO?”",
            ),
            (
                Input::Text("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"),
                "private key",
            ),
        ];
        for (input, want) in cases {
            let err = certificates(input, Bound::Chain).unwrap_err();
            assert_eq!(err.code(), "CertificateValidationException");
            assert!(
                err.message().contains(want),
                "{:?}: {}",
                input,
                err.message()
            );
        }
        // Malformed PKCS#7: each cut of a good one, and a wrong content type.
        let good = p7b(&[&d]);
        for cut in 1..good.len() {
            assert!(
                certificates(Input::Bytes(&good[..cut]), Bound::Chain).is_err(),
                "cut at {cut}"
            );
        }
        let mut data = good.clone();
        data[14] = 0x01; // 1.2.840.113549.1.7.1 (data)
        let err = pkcs7_certificates(&data, 16).unwrap_err();
        assert!(
            err.message().contains("not signedData"),
            "{}",
            err.message()
        );
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(pkcs7_certificates(&trailing, 16)
            .unwrap_err()
            .message()
            .contains("trailing"));
        let attribute_cert = p7b(&[&tlv(0xa2, &[0x30, 0x00])]);
        let err = pkcs7_certificates(&attribute_cert, 16).unwrap_err();
        assert!(
            err.message().contains("other than an X.509 certificate"),
            "{}",
            err.message()
        );
        // A DER certificate that is not one is the X.509 parser's error.
        assert!(certificates(Input::Bytes(&[0x30, 0x03, 0x02, 0x01, 0x01]), Bound::Chain).is_err());
    }

    #[test]
    fn requests_parse_with_their_defaults() {
        let o: InspectOptions = from_json(r#"{"now": 1500.7, "role": "ca"}"#).unwrap();
        assert_eq!(o.now, Some(Timestamp::from_unix_millis(1500)));
        assert_eq!(o.role, Role::Ca);
        let o: InspectOptions = from_json("null").unwrap();
        assert_eq!(o, InspectOptions::default());
        let err = from_json::<InspectOptions>(r#"{"when": 1}"#).unwrap_err();
        assert_eq!(err.code(), "InvalidRequestException");
        assert!(!err.message().contains("line 1"), "{}", err.message());
        assert!(from_json::<InspectOptions>(r#"{"role": "leaf"}"#).is_err());
        assert!(from_json::<InspectOptions>(r#"{"now": 1e300}"#).is_err());
        let big = format!("\"{}\"", "x".repeat(MAX_REQUEST_LEN));
        assert!(from_json::<serde_json::Value>(&big)
            .unwrap_err()
            .message()
            .contains("at most"));

        let e: RegistrationEventRequest = from_json(&format!(
            r#"{{"certificateId":"{0}","caCertificateId":"{0}","awsAccountId":"123456789012","timestamp":5}}"#,
            "ab".repeat(32)
        ))
        .unwrap();
        let event = e.event(Timestamp::from_unix_millis(9)).unwrap();
        assert_eq!(event.timestamp, crate::Timestamp::from_unix_millis(5));
        assert_eq!(
            event.certificate_registration_timestamp,
            crate::Timestamp::from_unix_millis(5)
        );
        let bad: RegistrationEventRequest = from_json(&format!(
            r#"{{"certificateId":"{0}","caCertificateId":"{0}","awsAccountId":"12"}}"#,
            "ab".repeat(32)
        ))
        .unwrap();
        assert_eq!(
            bad.event(Timestamp::from_unix_millis(9))
                .unwrap_err()
                .code(),
            "InvalidRequestException"
        );

        let r: RegistryOptions = from_json(r#"{"account":"123456789012"}"#).unwrap();
        let reg = r.registry().unwrap();
        assert_eq!(reg.scope().region(), "us-east-1");
        assert!(from_json::<RegistryOptions>(r#"{"account":"1"}"#)
            .unwrap()
            .registry()
            .is_err());
    }

    #[test]
    fn a_preflight_request_decides() {
        let (device, ca) = story();
        let req: PreflightRequest = from_json(&serde_json::json!({
            "registeredCas": [{"pem": ca, "status": "ACTIVE", "autoRegistrationStatus": "ENABLE", "certificateMode": "DEFAULT"}],
            "registeredCertificates": null,
            "now": 1_780_272_000_000_i64,
        }).to_string())
        .unwrap();
        let chain = chain_der(&[Input::Text(&device), Input::Text(&ca)]).unwrap();
        let d = req.decide(&chain, Timestamp::from_unix_millis(0)).unwrap();
        assert_eq!(d.reason_code(), Some("REGISTERED_PENDING_ACTIVATION"));
        assert_eq!(d.event.unwrap().aws_account_id, PREFLIGHT_ACCOUNT);
        // A CA with a template: JITP runs (the story's device has no C for it).
        let template = r#"{"Parameters": {"AWS::IoT::Certificate::Country": {"Type": "String"},
                                          "AWS::IoT::Certificate::Id": {"Type": "String"}},
            "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::Country"}}},
                          "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}}}}}"#;
        let jitp: PreflightRequest = from_json(&serde_json::json!({
            "registeredCas": [{"pem": ca, "status": "ACTIVE", "autoRegistrationStatus": "ENABLE", "certificateMode": "DEFAULT",
                               "registrationConfig": {"templateBody": template, "roleArn": "arn:aws:iam::123456789012:role/J"}}],
            "now": 1_780_272_000_000_i64,
        }).to_string())
        .unwrap();
        let d = jitp.decide(&chain, Timestamp::from_unix_millis(0)).unwrap();
        assert_eq!(d.reason_code(), Some("PROVISIONING_FAILED"));
        assert!(
            d.message().contains("AWS::IoT::Certificate::Country"),
            "{}",
            d.message()
        );
        let bad = serde_json::json!({"registeredCas": [{"pem": ca, "status": "active", "autoRegistrationStatus": "ENABLE", "certificateMode": "DEFAULT"}]});
        assert_eq!(
            from_json::<PreflightRequest>(&bad.to_string())
                .unwrap_err()
                .code(),
            "InvalidRequestException"
        );
    }
}
