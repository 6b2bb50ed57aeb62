//! Certificates: PEM and DER in, an owned, inspected value out.
//!
//! Names are compared as RFC 5280 §7.1 says ([`DistinguishedName::matches`], the
//! `name` module); the RFC 5280 rules jitr adds to rustls-webpki's path validation are in
//! the `profile` module.

mod name;
pub(crate) mod profile;

use std::sync::{Arc, OnceLock};

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{ExtendedKeyUsage, GeneralName, KeyUsage, ParsedExtension};
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use crate::error::{CertificateErrorKind, Error};
use crate::id::CertificateId;
use crate::input::{check_at_most, invalid};
use crate::time::{Timestamp, Validity};
use CertificateErrorKind::{Count, Der, Pem, Signature};

/// The largest certificate accepted, in DER bytes (64 KiB).
pub const MAX_CERTIFICATE_DER_LEN: usize = 64 * 1024;
/// The largest PEM text accepted for one call (1 MiB): room for [`MAX_CHAIN_LEN`]
/// certificates of ordinary size.
pub const MAX_PEM_LEN: usize = 1024 * 1024;
/// The most certificates accepted in one chain or bundle.
pub const MAX_CHAIN_LEN: usize = 16;

/// A parsed X.509 certificate that owns its DER encoding.
///
/// Parsing (with x509-parser) happens once; every field is then read without
/// re-parsing. Cloning is cheap: the fields live behind one reference count.
///
/// ```
/// use jitr_core::Certificate;
/// let err = Certificate::from_pem("not a certificate").unwrap_err();
/// assert_eq!(err.code(), "CertificateValidationException");
/// ```
#[derive(Clone)]
pub struct Certificate(Arc<Inner>);

struct Inner {
    der: Vec<u8>,
    id: CertificateId,
    subject: DistinguishedName,
    issuer: DistinguishedName,
    serial: Vec<u8>,
    validity: Validity,
    basic_constraints: Option<BasicConstraints>,
    subject_key_identifier: Option<Vec<u8>>,
    authority_key_identifier: Option<Vec<u8>>,
    key_algorithm: KeyAlgorithm,
    key_usage: Option<Vec<&'static str>>,
    extended_key_usage: Option<Vec<String>>,
    subject_alternative_names: Vec<String>,
    version: u32,
    signature_algorithm: String,
}

pub(crate) use name::NameKey;

/// A distinguished name (subject or issuer).
///
/// `==` compares the encodings; [`matches`](Self::matches) compares names as RFC 5280
/// §7.1 does (after RFC 4518 string preparation), the rule jitr links a certificate to
/// its CA with.
#[derive(Clone, Debug)]
pub struct DistinguishedName {
    rfc4514: String,
    der: Vec<u8>,
    attributes: Vec<(String, String)>,
    /// The prepared form, computed on first use.
    key: OnceLock<NameKey>,
}

impl PartialEq for DistinguishedName {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for DistinguishedName {}

impl DistinguishedName {
    /// The RFC 4514 string form, e.g. `CN=device-1,O=Example Corp,C=US` (last RDN first).
    pub fn rfc4514(&self) -> &str {
        &self.rfc4514
    }

    /// The DER encoding of the `Name`, including its outer SEQUENCE.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The attributes in encoding order, as (short name, value) pairs: `CN`, `O`, `OU`,
    /// `C`, `ST`, `L`, `serialNumber`, ... (dotted OID for unnamed types). Values that are
    /// not strings appear as `#` followed by hex.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    /// The first value of the attribute with this short name (see [`Self::attributes`]).
    pub fn get(&self, short_name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == short_name)
            .map(|(_, v)| v.as_str())
    }

    /// The DER contents of the `Name` without its outer SEQUENCE header: the form webpki
    /// hands out, and the CA index's key.
    pub(crate) fn der_contents(&self) -> Option<&[u8]> {
        use x509_parser::asn1_rs::FromDer as _;
        x509_parser::asn1_rs::Any::from_der(&self.der)
            .ok()
            .map(|(_, any)| any.data)
    }

    /// The first Common Name.
    pub fn common_name(&self) -> Option<&str> {
        self.get("CN")
    }

    /// Whether the two names are the same name as RFC 5280 §7.1 compares them: the same
    /// RDNs in the same order, each with the same attributes in any order, string values
    /// equal after RFC 4518 string preparation (letter case, insignificant spaces and the
    /// string type do not matter; Unicode is case-folded and NFKC-normalized). This is how
    /// jitr finds the CA named as a certificate's issuer.
    ///
    /// ```
    /// # use jitr_core::Certificate;
    /// # let key = rcgen::KeyPair::generate().unwrap();
    /// # let pem_of = |cn: &str| {
    /// #     let mut p = rcgen::CertificateParams::default();
    /// #     p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    /// #     p.self_signed(&key).unwrap().pem()
    /// # };
    /// let a = Certificate::from_pem(&pem_of("Example  CA")).unwrap();
    /// let b = Certificate::from_pem(&pem_of("example ca")).unwrap();
    /// assert!(a.subject().matches(b.subject()));
    /// assert_ne!(a.subject(), b.subject()); // the encodings differ
    /// ```
    pub fn matches(&self, other: &DistinguishedName) -> bool {
        self.key() == other.key()
    }

    /// The prepared form: equal for names that [match](Self::matches).
    pub(crate) fn key(&self) -> &NameKey {
        self.key.get_or_init(|| NameKey::of_der(&self.der))
    }

    /// Whether the name has no RDN at all.
    pub fn is_empty(&self) -> bool {
        self.der_contents().is_some_and(<[u8]>::is_empty)
    }
}

/// The basicConstraints extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasicConstraints {
    /// `cA`: the certificate may sign certificates.
    pub ca: bool,
    /// `pathLenConstraint`, if any.
    pub path_len: Option<u32>,
}

/// The algorithm and size of a certificate's public key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
    /// ECDSA on NIST P-521.
    EcP521,
    /// RSA with a modulus of this many bits.
    Rsa {
        /// Modulus size in bits.
        bits: u32,
    },
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// Anything else, by algorithm OID (and curve OID for other elliptic curves).
    Other {
        /// Dotted OID(s).
        oid: String,
    },
}

impl core::fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::EcP256 => f.write_str("EC_P256"),
            Self::EcP384 => f.write_str("EC_P384"),
            Self::EcP521 => f.write_str("EC_P521"),
            Self::Rsa { bits } => write!(f, "RSA_{bits}"),
            Self::Ed25519 => f.write_str("ED25519"),
            Self::Ed448 => f.write_str("ED448"),
            Self::Other { oid } => write!(f, "UNKNOWN({oid})"),
        }
    }
}

impl Certificate {
    /// Parses one DER-encoded certificate. Trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        if der.is_empty() {
            return Err(invalid(Der, "the certificate is empty"));
        }
        check_at_most(
            "the certificate is",
            der.len(),
            "bytes",
            MAX_CERTIFICATE_DER_LEN,
            "",
        )?;
        let (rest, x509) = X509Certificate::from_der(der).map_err(|e| not_x509(&e))?;
        if !rest.is_empty() {
            return Err(invalid(
                Der,
                format!(
                    "{} bytes of trailing data follow the certificate",
                    rest.len()
                ),
            ));
        }
        Self::from_parsed(der, &x509)
    }

    /// Parses a PEM text that holds exactly one certificate.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let mut certs = parse_pem_chain(pem)?;
        if certs.len() != 1 {
            return Err(invalid(
                Count,
                format!("expected exactly one certificate, found {}", certs.len()),
            ));
        }
        Ok(certs.remove(0))
    }

    /// Parses PEM text or DER bytes, whichever `input` is.
    pub fn from_pem_or_der(input: &[u8]) -> Result<Self, Error> {
        if looks_like_pem(input) {
            let text = core::str::from_utf8(input)
                .map_err(|_| invalid(Pem, "the PEM text is not valid UTF-8"))?;
            Self::from_pem(text)
        } else {
            Self::from_der(input)
        }
    }

    fn from_parsed(der: &[u8], x509: &X509Certificate<'_>) -> Result<Self, Error> {
        let ext_err = |what: &str, e: x509_parser::error::X509Error| {
            invalid(
                Der,
                format!("the certificate's {what} extension is invalid: {e}"),
            )
        };
        let basic_constraints = x509
            .basic_constraints()
            .map_err(|e| ext_err("basicConstraints", e))?
            .map(|bc| BasicConstraints {
                ca: bc.value.ca,
                path_len: bc.value.path_len_constraint,
            });
        let key_usage = x509
            .key_usage()
            .map_err(|e| ext_err("keyUsage", e))?
            .map(|ku| key_usages(ku.value, UsageNames::Rfc5280));
        let extended_key_usage = x509
            .extended_key_usage()
            .map_err(|e| ext_err("extendedKeyUsage", e))?
            .map(|eku| extended_key_usages(eku.value, UsageNames::Rfc5280));
        let subject_alternative_names = x509
            .subject_alternative_name()
            .map_err(|e| ext_err("subjectAltName", e))?
            .map(|san| san.value.general_names.iter().map(general_name).collect())
            .unwrap_or_default();
        let mut subject_key_identifier = None;
        let mut authority_key_identifier = None;
        for ext in x509.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(ki) => {
                    subject_key_identifier = Some(ki.0.to_vec())
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    authority_key_identifier = aki.key_identifier.as_ref().map(|ki| ki.0.to_vec())
                }
                _ => {}
            }
        }
        let validity = Validity {
            not_before: Timestamp::from_unix_secs(x509.validity().not_before.timestamp()),
            not_after: Timestamp::from_unix_secs(x509.validity().not_after.timestamp()),
        };
        Ok(Self(Arc::new(Inner {
            der: der.to_vec(),
            id: CertificateId::of_der(der),
            subject: distinguished_name(x509.subject()),
            issuer: distinguished_name(x509.issuer()),
            serial: x509.raw_serial().to_vec(),
            validity,
            basic_constraints,
            subject_key_identifier,
            authority_key_identifier,
            key_algorithm: key_algorithm(x509),
            key_usage,
            extended_key_usage,
            subject_alternative_names,
            version: x509.version().0 + 1,
            signature_algorithm: signature_algorithm_name(x509),
        })))
    }

    /// The AWS certificate ID (SHA-256 of the DER).
    pub fn id(&self) -> CertificateId {
        self.0.id
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// The PEM encoding (`-----BEGIN CERTIFICATE-----`, 64-column lines, `\n` endings).
    pub fn to_pem(&self) -> String {
        der_to_pem(&self.0.der)
    }

    /// The subject name.
    pub fn subject(&self) -> &DistinguishedName {
        &self.0.subject
    }

    /// The issuer name.
    pub fn issuer(&self) -> &DistinguishedName {
        &self.0.issuer
    }

    /// The serial number's big-endian bytes as encoded (two's complement).
    pub fn serial(&self) -> &[u8] {
        &self.0.serial
    }

    /// The serial number as lowercase hex, without leading zero bytes.
    pub fn serial_hex(&self) -> String {
        let s = &self.0.serial;
        let start = s
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(s.len().saturating_sub(1));
        hex::encode(&s[start..])
    }

    /// The validity window.
    pub fn validity(&self) -> Validity {
        self.0.validity
    }

    /// The basicConstraints extension, if present.
    pub fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.0.basic_constraints
    }

    /// Whether basicConstraints is present with `cA` true.
    pub fn is_ca(&self) -> bool {
        matches!(
            self.0.basic_constraints,
            Some(BasicConstraints { ca: true, .. })
        )
    }

    /// The pathLenConstraint of a CA certificate.
    pub fn path_len(&self) -> Option<u32> {
        self.0.basic_constraints.and_then(|bc| bc.path_len)
    }

    /// The subject key identifier.
    pub fn subject_key_identifier(&self) -> Option<&[u8]> {
        self.0.subject_key_identifier.as_deref()
    }

    /// The key identifier of the authority key identifier extension.
    pub fn authority_key_identifier(&self) -> Option<&[u8]> {
        self.0.authority_key_identifier.as_deref()
    }

    /// The public key's algorithm and size.
    pub fn key_algorithm(&self) -> &KeyAlgorithm {
        &self.0.key_algorithm
    }

    /// Key usage bits by RFC 5280 name (`digitalSignature`, `keyCertSign`, ...), if the
    /// extension is present.
    pub fn key_usage(&self) -> Option<&[&'static str]> {
        self.0.key_usage.as_deref()
    }

    /// Extended key usages (`clientAuth`, `serverAuth`, ... or dotted OIDs), if the
    /// extension is present.
    pub fn extended_key_usage(&self) -> Option<&[String]> {
        self.0.extended_key_usage.as_deref()
    }

    /// Subject alternative names as `DNS:…`, `IP:…`, `URI:…`, `email:…` strings.
    pub fn subject_alternative_names(&self) -> &[String] {
        &self.0.subject_alternative_names
    }

    /// The X.509 version (1, 2 or 3).
    pub fn version(&self) -> u32 {
        self.0.version
    }

    /// The algorithm the issuer signed this certificate with, by its usual name:
    /// `ecdsa-with-SHA256`, `sha256WithRSAEncryption`, `rsassaPss`, `ED25519`,
    /// `sha1WithRSAEncryption`, ... (the dotted OID for others).
    pub fn signature_algorithm(&self) -> &str {
        &self.0.signature_algorithm
    }

    /// Whether the certificate's key may sign certificates: its keyUsage extension is
    /// absent or asserts keyCertSign (RFC 5280 §4.2.1.3, §6.1.4(n)). Whether it is a CA at
    /// all (basicConstraints) is another question.
    pub fn can_sign_certificates(&self) -> bool {
        self.0
            .key_usage
            .as_ref()
            .is_none_or(|ku| ku.contains(&"keyCertSign"))
    }

    /// Whether `issuer` signed this certificate: the issuer's subject
    /// [matches](DistinguishedName::matches) this certificate's issuer (RFC 5280 §7.1) and
    /// the issuer's public key verifies the signature. Whether the issuer may sign
    /// certificates is not checked here (see [`Self::is_issued_by`]).
    pub fn is_signed_by(&self, issuer: &Certificate) -> Result<(), Error> {
        if !self.issuer().matches(issuer.subject()) {
            return Err(invalid(
                Signature,
                format!(
                    "the certificate's issuer ({}) is not the CA's subject ({})",
                    self.issuer().rfc4514(),
                    issuer.subject().rfc4514()
                ),
            ));
        }
        let me = self.reparse("the certificate")?;
        let ca = issuer.reparse("the CA certificate")?;
        me.verify_signature(Some(ca.public_key())).map_err(|e| {
            invalid(
                Signature,
                format!(
                    "the certificate's signature does not verify with the CA's public key: {e}"
                ),
            )
        })
    }

    /// The certificate parsed again, for what [`Certificate`] does not keep; it parsed
    /// when made, so this fails only on a bug. `which` names it in the error.
    fn reparse(&self, which: &str) -> Result<X509Certificate<'_>, Error> {
        X509Certificate::from_der(self.der())
            .map(|(_, x509)| x509)
            .map_err(|e| {
                invalid(
                    Der,
                    format!(
                        "{which} cannot be re-read: {}",
                        crate::input::x509_error(&e)
                    ),
                )
            })
    }

    /// Whether the CA certificate `ca` issued this certificate, by the rule JITR links a
    /// certificate to its CA with: [`is_signed_by`](Self::is_signed_by), and the CA's key
    /// may sign certificates ([`can_sign_certificates`](Self::can_sign_certificates):
    /// a keyUsage extension, when present, asserts keyCertSign).
    pub fn is_issued_by(&self, ca: &Certificate) -> Result<(), Error> {
        self.is_signed_by(ca)?;
        if !ca.can_sign_certificates() {
            return Err(invalid(
                Signature,
                format!(
                    "the CA certificate {} may not sign certificates: its keyUsage extension does not assert keyCertSign (RFC 5280 §4.2.1.3)",
                    ca.subject().rfc4514()
                ),
            ));
        }
        Ok(())
    }
}

impl core::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Certificate")
            .field("id", &self.0.id)
            .field("subject", &self.0.subject.rfc4514)
            .field("issuer", &self.0.issuer.rfc4514)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.0.der == other.0.der
    }
}

impl Eq for Certificate {}

/// Parses PEM text holding one or more certificates (a bundle or a chain, in order).
///
/// Text between blocks is ignored. A block that is not a certificate is an error; a
/// private key is refused with a message that says so and never echoes it back.
///
/// ```
/// let err = jitr_core::parse_pem_chain("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
///     .unwrap_err();
/// assert!(err.message().contains("private key"));
/// ```
pub fn parse_pem_chain(pem_text: &str) -> Result<Vec<Certificate>, Error> {
    let blocks = pem_blocks_der(pem_text)?;
    check_at_most(
        "the PEM text holds",
        blocks.len(),
        "certificates",
        MAX_CHAIN_LEN,
        "",
    )?;
    blocks
        .iter()
        .enumerate()
        .map(|(i, der)| {
            Certificate::from_der(der).map_err(|e| match e {
                Error::Certificate(e) => Error::Certificate(
                    e.context(format_args!("certificate {} of the PEM text", i + 1)),
                ),
                other => other,
            })
        })
        .collect()
}

/// The DER contents of the CERTIFICATE blocks of a PEM text, without parsing them as
/// X.509 (for handing a chain to the decision as a TLS server would).
pub fn pem_blocks_der(pem_text: &str) -> Result<Vec<Vec<u8>>, Error> {
    crate::input::pem_blocks(pem_text, MAX_PEM_LEN)?
        .into_iter()
        .enumerate()
        .map(|(i, (tag, der))| match tag.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => Ok(der),
            tag => Err(invalid(
                Pem,
                format!(
                    "PEM block {} is {}, not a CERTIFICATE",
                    i + 1,
                    crate::input::quote(tag)
                ),
            )),
        })
        .collect()
}

/// A certificate's DER as PEM (64-column lines, `\n` endings).
pub(crate) fn der_to_pem(der: &[u8]) -> String {
    let block = pem::Pem::new("CERTIFICATE", der.to_vec());
    pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The validity window of a DER certificate, from a shallow parse (extensions are not
/// parsed): what registration needs of a certificate webpki already verified.
pub(crate) fn validity_of_der(der: &[u8]) -> Result<Validity, Error> {
    use x509_parser::nom::Parser as _;
    use x509_parser::prelude::X509CertificateParser;
    let (_, x509) = X509CertificateParser::new()
        .with_deep_parse_extensions(false)
        .parse(der)
        .map_err(|e| not_x509(&e))?;
    Ok(Validity {
        not_before: Timestamp::from_unix_secs(x509.validity().not_before.timestamp()),
        not_after: Timestamp::from_unix_secs(x509.validity().not_after.timestamp()),
    })
}

/// Whether `input` looks like PEM text rather than DER.
pub(crate) fn looks_like_pem(input: &[u8]) -> bool {
    // DER certificates start with a SEQUENCE tag (0x30); PEM is text containing a header.
    input.first() != Some(&0x30)
}

/// How a key usage is named: RFC 5280's name (`digitalSignature`, what
/// [`Certificate::key_usage`] lists) or OpenSSL's text (`Digital Signature`, what
/// [`crate::inspect`] shows).
#[derive(Clone, Copy)]
pub(crate) enum UsageNames {
    Rfc5280,
    OpenSsl,
}

impl UsageNames {
    fn pick(self, rfc: &'static str, openssl: &'static str) -> &'static str {
        match self {
            Self::Rfc5280 => rfc,
            Self::OpenSsl => openssl,
        }
    }
}

/// The key usage bits set, in RFC 5280's order.
pub(crate) fn key_usages(ku: &KeyUsage, names: UsageNames) -> Vec<&'static str> {
    #[rustfmt::skip]
    let table = [
        (ku.digital_signature(), "digitalSignature", "Digital Signature"),
        (ku.non_repudiation(), "nonRepudiation", "Non Repudiation"),
        (ku.key_encipherment(), "keyEncipherment", "Key Encipherment"),
        (ku.data_encipherment(), "dataEncipherment", "Data Encipherment"),
        (ku.key_agreement(), "keyAgreement", "Key Agreement"),
        (ku.key_cert_sign(), "keyCertSign", "Certificate Sign"),
        (ku.crl_sign(), "cRLSign", "CRL Sign"),
        (ku.encipher_only(), "encipherOnly", "Encipher Only"),
        (ku.decipher_only(), "decipherOnly", "Decipher Only"),
    ];
    table
        .into_iter()
        .filter(|(set, ..)| *set)
        .map(|(_, rfc, openssl)| names.pick(rfc, openssl))
        .collect()
}

/// The extended key usages that have a name, then the dotted OIDs of the others.
pub(crate) fn extended_key_usages(eku: &ExtendedKeyUsage<'_>, names: UsageNames) -> Vec<String> {
    #[rustfmt::skip]
    let table = [
        (eku.any, "anyExtendedKeyUsage", "Any Extended Key Usage"),
        (eku.server_auth, "serverAuth", "TLS Web Server Authentication"),
        (eku.client_auth, "clientAuth", "TLS Web Client Authentication"),
        (eku.code_signing, "codeSigning", "Code Signing"),
        (eku.email_protection, "emailProtection", "E-mail Protection"),
        (eku.time_stamping, "timeStamping", "Time Stamping"),
        (eku.ocsp_signing, "OCSPSigning", "OCSP Signing"),
    ];
    let mut out: Vec<String> = table
        .into_iter()
        .filter(|(set, ..)| *set)
        .map(|(_, rfc, openssl)| names.pick(rfc, openssl).to_string())
        .collect();
    out.extend(eku.other.iter().map(Oid::to_id_string));
    out
}

/// x509-parser's refusal of the DER.
fn not_x509(e: &x509_parser::nom::Err<x509_parser::error::X509Error>) -> Error {
    invalid(
        Der,
        format!(
            "the certificate is not valid DER X.509: {}",
            crate::input::x509_error(e)
        ),
    )
}

fn distinguished_name(name: &X509Name<'_>) -> DistinguishedName {
    let mut attributes = Vec::new();
    let mut rdns = Vec::new();
    for rdn in name.iter_rdn() {
        let mut parts = Vec::new();
        for atv in rdn.iter() {
            let key = oid_name(atv.attr_type(), &ATTRIBUTE_SHORT_NAMES);
            let value = match atv.as_str() {
                Ok(s) => s.to_string(),
                Err(_) => match atv.attr_value().as_bmpstring() {
                    Ok(s) => s.string(),
                    Err(_) => format!("#{}", hex::encode(atv.attr_value().data)),
                },
            };
            let escaped = if value.starts_with('#') && atv.as_str().is_err() {
                value.clone()
            } else {
                escape_rfc4514(&value)
            };
            parts.push(format!("{key}={escaped}"));
            attributes.push((key, value));
        }
        rdns.push(parts.join("+"));
    }
    rdns.reverse();
    DistinguishedName {
        rfc4514: rdns.join(","),
        der: name.as_raw().to_vec(),
        attributes,
        key: OnceLock::new(),
    }
}

/// The short names RFC 4514 (and OpenSSL) give attribute types, by dotted OID.
#[rustfmt::skip]
const ATTRIBUTE_SHORT_NAMES: [(&str, &str); 16] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.4", "SN"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "title"),
    ("2.5.4.42", "givenName"),
    ("2.5.4.46", "dnQualifier"),
    ("2.5.4.65", "pseudonym"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
];

/// The name `names` (dotted OID, name) gives the dotted OID `id`.
pub(crate) fn lookup_oid(names: &[(&str, &'static str)], id: &str) -> Option<&'static str> {
    names
        .iter()
        .find(|(dotted, _)| *dotted == id)
        .map(|(_, name)| *name)
}

/// The name `names` (dotted OID, name) gives `oid`, or else its dotted form.
pub(crate) fn oid_name(oid: &Oid<'_>, names: &[(&str, &'static str)]) -> String {
    let id = oid.to_id_string();
    match lookup_oid(names, &id) {
        Some(name) => name.to_string(),
        None => id,
    }
}

fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

/// The address an iPAddress name holds: IPv4 in 4 bytes, IPv6 in 16 (RFC 5280 §4.2.1.6).
pub(crate) fn ip_address(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match <[u8; 4]>::try_from(bytes) {
        Ok(v4) => Some(v4.into()),
        Err(_) => <[u8; 16]>::try_from(bytes).ok().map(Into::into),
    }
}

/// A subject alternative name as [`Certificate::subject_alternative_names`] lists it; the
/// DNS, URI and email forms are also OpenSSL's, which `inspect` prints.
pub(crate) fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::IPAddress(b) => match ip_address(b) {
            Some(ip) => format!("IP:{ip}"),
            None => format!("IP:#{}", hex::encode(b)),
        },
        GeneralName::DirectoryName(n) => format!("DirName:{}", distinguished_name(n).rfc4514),
        GeneralName::RegisteredID(oid) => format!("RID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, _) => format!("othername:{}", oid.to_id_string()),
        _ => "unsupported".to_string(),
    }
}

fn signature_algorithm_name(x509: &X509Certificate<'_>) -> String {
    let oid = x509.signature_algorithm.algorithm.to_id_string();
    let name = match oid.as_str() {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        _ => return oid,
    };
    name.to_string()
}

fn key_algorithm(x509: &X509Certificate<'_>) -> KeyAlgorithm {
    let spki = x509.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => match spki.parsed() {
            Ok(key) => KeyAlgorithm::Rsa {
                bits: u32::try_from(key.key_size()).unwrap_or(u32::MAX),
            },
            Err(_) => KeyAlgorithm::Other { oid: alg },
        },
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => KeyAlgorithm::EcP256,
                "1.3.132.0.34" => KeyAlgorithm::EcP384,
                "1.3.132.0.35" => KeyAlgorithm::EcP521,
                _ => KeyAlgorithm::Other {
                    oid: format!("{alg}/{curve}"),
                },
            }
        }
        "1.3.101.112" => KeyAlgorithm::Ed25519,
        "1.3.101.113" => KeyAlgorithm::Ed448,
        _ => KeyAlgorithm::Other { oid: alg },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4514_escaping() {
        assert_eq!(escape_rfc4514("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_rfc4514("#x "), "\\#x\\ ");
        assert_eq!(escape_rfc4514(" "), "\\ ");
        assert_eq!(escape_rfc4514(""), "");
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let cases: &[&[u8]] = &[b"", b"\x30", b"\x30\x03\x02\x01\x01", b"garbage"];
        for case in cases {
            let err = Certificate::from_pem_or_der(case).unwrap_err();
            assert_eq!(err.code(), "CertificateValidationException", "{case:?}");
        }
        let big = vec![0x30; MAX_CERTIFICATE_DER_LEN + 1];
        assert!(Certificate::from_der(&big)
            .unwrap_err()
            .message()
            .contains("at most"));
        let block =
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        assert!(parse_pem_chain(block)
            .unwrap_err()
            .message()
            .contains("not a CERTIFICATE"));
        let truncated = "-----BEGIN CERTIFICATE-----\nMIIBXjCCARCgAwIBAgICEAEw\n";
        assert!(parse_pem_chain(truncated)
            .unwrap_err()
            .message()
            .contains("truncated"));
        let garbage_b64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(parse_pem_chain(garbage_b64).is_err());
        assert!(parse_pem_chain(&"x".repeat(MAX_PEM_LEN + 1)).is_err());
    }
}
