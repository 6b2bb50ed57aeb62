//! Certificate generation for tooling and tests (feature `tooling`): CA certificates (root
//! or intermediate), the verification certificate that proves possession of a CA's key at
//! registration, and device certificates.
//!
//! Certificates are made with rcgen; EC and Ed25519 keys come from ring, RSA keys from the
//! `rsa` crate (ring cannot generate RSA keys). Time is an argument here as everywhere in
//! the core: [`CertificateOptions::new`] takes the `notBefore`, and `notAfter` is
//! `valid_days` later. Serial numbers are 16 random bytes.
//!
//! The whole proof of possession, checked by a registry:
//!
//! ```
//! use jitr_core::tooling::{self, CertificateOptions, KeyType};
//! use jitr_core::{RegisterCaCertificateRequest, Registry, Scope, Timestamp};
//!
//! let now = Timestamp::from_unix_secs(1_780_000_000);
//! let registry = Registry::new(Scope::new("123456789012", "us-east-1")?);
//! let opts = CertificateOptions::new(now);
//! let ca = tooling::generate_ca("Fleet CA", &opts, None)?;
//! let proof =
//!     tooling::generate_verification_certificate(&ca, &registry.get_registration_code()?, &opts)?;
//! let device = tooling::issue_certificate(&ca, "device-1", &opts)?;
//! assert!(device.certificate().is_signed_by(ca.certificate()).is_ok());
//! assert_eq!(device.certificate().extended_key_usage(), Some(&["clientAuth".to_string()][..]));
//!
//! let registered = registry.register_ca_certificate(
//!     &RegisterCaCertificateRequest {
//!         ca_certificate: ca.certificate_pem(),
//!         verification_certificate: Some(proof.certificate_pem()),
//!         ..Default::default()
//!     },
//!     now,
//! )?;
//! assert_eq!(registered.certificate_id, ca.certificate().id());
//! # Ok::<(), jitr_core::Error>(())
//! ```

use core::fmt;
use core::str::FromStr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints as RcgenBasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
    SignatureAlgorithm, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519,
    PKCS_RSA_SHA256,
};
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use x509_parser::prelude::FromDer;

use crate::cert::Certificate;
use crate::error::Error;
use crate::time::Timestamp;

/// The longest validity accepted, in days (100 years).
pub const MAX_VALID_DAYS: u32 = 36_525;

/// The key types the generators make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// ECDSA on NIST P-256, signing with SHA-256. The default.
    #[default]
    EcP256,
    /// ECDSA on NIST P-384, signing with SHA-384.
    EcP384,
    /// RSA with a 2048-bit modulus, signing with PKCS#1 v1.5 and SHA-256. Generating the key
    /// takes about a second.
    Rsa2048,
    /// Ed25519.
    Ed25519,
}

impl KeyType {
    /// Every key type, in declaration order.
    pub const ALL: [KeyType; 4] = [Self::EcP256, Self::EcP384, Self::Rsa2048, Self::Ed25519];

    /// The name: `EC_P256`, `EC_P384`, `RSA_2048` or `ED25519` (what
    /// [`KeyAlgorithm`](crate::KeyAlgorithm) displays for such a key).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EcP256 => "EC_P256",
            Self::EcP384 => "EC_P384",
            Self::Rsa2048 => "RSA_2048",
            Self::Ed25519 => "ED25519",
        }
    }

    fn signature_algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            Self::EcP256 => &PKCS_ECDSA_P256_SHA256,
            Self::EcP384 => &PKCS_ECDSA_P384_SHA384,
            Self::Rsa2048 => &PKCS_RSA_SHA256,
            Self::Ed25519 => &PKCS_ED25519,
        }
    }

    fn generate(self) -> Result<KeyPair, Error> {
        match self {
            Self::Rsa2048 => {
                use rsa::pkcs8::EncodePrivateKey;
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                    .map_err(|e| failed("generate an RSA key", e))?;
                let der = key
                    .to_pkcs8_der()
                    .map_err(|e| failed("encode the RSA key", e))?;
                KeyPair::from_pkcs8_der_and_sign_algo(
                    &PrivatePkcs8KeyDer::from(der.as_bytes()),
                    &PKCS_RSA_SHA256,
                )
                .map_err(|e| failed("load the RSA key", e))
            }
            other => KeyPair::generate_for(other.signature_algorithm())
                .map_err(|e| failed("generate a key", e)),
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = Error;

    /// Parses an exact name from [`KeyType::as_str`]; anything else is
    /// `InvalidRequestException`.
    fn from_str(s: &str) -> Result<Self, Error> {
        crate::id::parse_name(&Self::ALL, Self::as_str, s, |s| {
            format!("unknown key type {s:?}; known: EC_P256, EC_P384, RSA_2048, ED25519")
        })
    }
}

/// What the generators take besides names: key type, validity and a few fields.
///
/// Each field says which generators read it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateOptions {
    /// The new certificate's key type (all generators). Default: `EC_P256`.
    pub key_type: KeyType,
    /// `notBefore`, rounded down to the second (all generators).
    pub not_before: Timestamp,
    /// `notAfter` is this many days after `notBefore`; 1 to [`MAX_VALID_DAYS`] (all
    /// generators). Default: 365.
    pub valid_days: u32,
    /// An Organization (`O`) in the subject, after the Common Name (all generators).
    /// Default: none.
    pub organization: Option<String>,
    /// The pathLenConstraint of a CA certificate ([`generate_ca`] only). Default: none
    /// (unconstrained).
    pub path_len: Option<u8>,
    /// Whether a device certificate carries the extended key usage `clientAuth`
    /// ([`issue_certificate`] only; without it the certificate has no extended key usage
    /// extension). Default: true.
    pub client_auth: bool,
}

impl CertificateOptions {
    /// The defaults, valid from `not_before`.
    pub fn new(not_before: Timestamp) -> Self {
        Self {
            key_type: KeyType::default(),
            not_before,
            valid_days: 365,
            organization: None,
            path_len: None,
            client_auth: true,
        }
    }

    /// The defaults for a CA certificate ([`generate_ca`]), valid from `not_before`: as
    /// [`new`](Self::new), but valid for ten years (3650 days), since a CA outlives the
    /// devices it signs.
    ///
    /// ```
    /// use jitr_core::{tooling::CertificateOptions, Timestamp};
    /// let now = Timestamp::from_unix_secs(1_780_000_000);
    /// assert_eq!(CertificateOptions::new_ca(now).valid_days, 3650);
    /// assert_eq!(CertificateOptions::new(now).valid_days, 365);
    /// ```
    pub fn new_ca(not_before: Timestamp) -> Self {
        Self {
            valid_days: 3650,
            ..Self::new(not_before)
        }
    }

    fn params(&self, common_name: &str) -> Result<CertificateParams, Error> {
        if self.valid_days == 0 || self.valid_days > MAX_VALID_DAYS {
            return Err(Error::InvalidRequest(format!(
                "valid_days must be from 1 to {MAX_VALID_DAYS}, got {}",
                self.valid_days
            )));
        }
        let start = self.not_before.unix_secs();
        let end = start.saturating_add(i64::from(self.valid_days) * 86_400);
        let time = |secs: i64| {
            x509_parser::time::ASN1Time::from_timestamp(secs)
                .map(|t| t.to_datetime())
                .map_err(|_| {
                    Error::InvalidRequest(format!(
                        "the validity {} to {} is outside the years X.509 can encode",
                        Timestamp::from_unix_secs(start),
                        Timestamp::from_unix_secs(end)
                    ))
                })
        };
        let mut params = CertificateParams::default();
        params.not_before = time(start)?;
        params.not_after = time(end)?;
        if params.not_after.year() > 9999 || params.not_before.year() < 0 {
            return Err(Error::InvalidRequest(
                "the validity must lie between the years 0 and 9999".into(),
            ));
        }
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        if let Some(o) = &self.organization {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        params.distinguished_name = dn;
        params.serial_number = Some(random_serial().into());
        Ok(params)
    }
}

/// A certificate with its private key, as the generators return it; also an existing CA
/// loaded with [`GeneratedCertificate::from_pem`] to sign with.
///
/// `Debug` never shows the key. Cloning is cheap.
#[derive(Clone)]
pub struct GeneratedCertificate {
    certificate: Certificate,
    key: Arc<KeyPair>,
}

impl GeneratedCertificate {
    /// Loads a certificate and its private key (PEM, PKCS#8 `PRIVATE KEY`), for example an
    /// existing CA to sign a verification certificate with.
    ///
    /// A certificate that does not parse is `CertificateValidationException`; a key that is
    /// not a PKCS#8 EC P-256, EC P-384, RSA or Ed25519 key, or is not the certificate's
    /// key, is `InvalidRequestException` (the message never contains the key).
    pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<Self, Error> {
        let certificate = Certificate::from_pem(certificate_pem)?;
        let key = KeyPair::from_pem(private_key_pem).map_err(|_| {
            Error::InvalidRequest(
                "the private key is not a PEM PKCS#8 (\"PRIVATE KEY\") EC P-256, EC P-384, RSA or Ed25519 key"
                    .into(),
            )
        })?;
        let (_, x509) = x509_parser::certificate::X509Certificate::from_der(certificate.der())
            .map_err(|e| {
                Error::CertificateValidation(format!("the certificate cannot be re-read: {e}"))
            })?;
        if x509.public_key().subject_public_key.data.as_ref() != key.der_bytes() {
            return Err(Error::InvalidRequest(
                "the private key does not belong to the certificate (the public keys differ)"
                    .into(),
            ));
        }
        Ok(Self {
            certificate,
            key: Arc::new(key),
        })
    }

    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The certificate as PEM.
    pub fn certificate_pem(&self) -> String {
        self.certificate.to_pem()
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> String {
        self.key.public_key_pem()
    }

    /// The private key as PEM (PKCS#8, `-----BEGIN PRIVATE KEY-----`).
    pub fn private_key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// An rcgen issuer for this certificate, which must be a CA.
    fn issuer(&self) -> Result<Issuer<'static, &KeyPair>, Error> {
        if !self.certificate.is_ca() {
            return Err(Error::InvalidRequest(format!(
                "the issuer {} is not a CA certificate (basicConstraints cA is not true)",
                self.certificate.subject().rfc4514()
            )));
        }
        Issuer::from_ca_cert_der(&CertificateDer::from(self.certificate.der()), &*self.key)
            .map_err(|e| Error::InvalidRequest(format!("could not read the issuer: {e}")))
    }
}

impl fmt::Debug for GeneratedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedCertificate")
            .field("certificate", &self.certificate)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// A CA certificate: self-signed when `issuer` is `None`, else an intermediate signed by
/// `issuer` (which must be a CA).
///
/// It has basicConstraints `cA` true (critical, with `options.path_len`), key usage
/// keyCertSign, cRLSign and digitalSignature, a subject key identifier, and an authority
/// key identifier when an issuer signs it.
pub fn generate_ca(
    common_name: &str,
    options: &CertificateOptions,
    issuer: Option<&GeneratedCertificate>,
) -> Result<GeneratedCertificate, Error> {
    let mut params = options.params(common_name)?;
    params.is_ca = IsCa::Ca(match options.path_len {
        Some(n) => RcgenBasicConstraints::Constrained(n),
        None => RcgenBasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = options.key_type.generate()?;
    let cert = match issuer {
        None => params.self_signed(&key),
        Some(issuer) => {
            params.use_authority_key_identifier_extension = true;
            params.signed_by(&key, &issuer.issuer()?)
        }
    }
    .map_err(|e| failed("sign the CA certificate", e))?;
    finish(cert.der(), key)
}

/// The verification certificate for registering `ca`: Common Name `registration_code`
/// (the registry's, 64 hex characters), signed by the CA's key, with a key of its own.
pub fn generate_verification_certificate(
    ca: &GeneratedCertificate,
    registration_code: &str,
    options: &CertificateOptions,
) -> Result<GeneratedCertificate, Error> {
    if registration_code.len() != 64 || !registration_code.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::InvalidRequest(format!(
            "a registration code is 64 hexadecimal characters, got {:?}",
            crate::id::truncate_for_message(registration_code)
        )));
    }
    let mut params = options.params(registration_code)?;
    end_entity(&mut params);
    sign_new_key(
        &params,
        options.key_type,
        ca,
        "sign the verification certificate",
    )
}

/// A device certificate for `common_name`, signed by `issuer` (a CA), with key usage
/// digitalSignature and, unless `options.client_auth` is false, extended key usage
/// clientAuth.
pub fn issue_certificate(
    issuer: &GeneratedCertificate,
    common_name: &str,
    options: &CertificateOptions,
) -> Result<GeneratedCertificate, Error> {
    let mut params = options.params(common_name)?;
    end_entity(&mut params);
    if options.client_auth {
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    }
    sign_new_key(
        &params,
        options.key_type,
        issuer,
        "sign the device certificate",
    )
}

/// Makes `params` an end-entity certificate a CA signs: key usage digitalSignature, and an
/// authority key identifier.
fn end_entity(params: &mut CertificateParams) {
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
}

/// A new key of `key_type` and the certificate `params` describe for it, signed by
/// `issuer`; `what` names the signing in the error should it fail.
fn sign_new_key(
    params: &CertificateParams,
    key_type: KeyType,
    issuer: &GeneratedCertificate,
    what: &'static str,
) -> Result<GeneratedCertificate, Error> {
    let key = key_type.generate()?;
    let cert = params
        .signed_by(&key, &issuer.issuer()?)
        .map_err(|e| failed(what, e))?;
    finish(cert.der(), key)
}

/// The Common Name of the certificates AWS IoT issues itself
/// (CreateKeysAndCertificate, CreateCertificateFromCsr).
pub const ISSUED_COMMON_NAME: &str = "AWS IoT Certificate";

/// The `notAfter` of the certificates AWS IoT issues itself: 2049-12-31T23:59:59Z.
pub const ISSUED_NOT_AFTER: Timestamp = Timestamp::from_unix_secs(2_524_607_999);

/// The largest CSR [`issue_from_csr`] reads, in bytes of PEM.
pub const MAX_CSR_PEM_LEN: usize = 16 * 1024;

/// The parameters of a certificate an account's issuing CA signs, as AWS IoT's own CA
/// does: Common Name `AWS IoT Certificate`, valid from `not_before` until 2049-12-31,
/// key usage digitalSignature, no extended key usage.
fn issued_params(not_before: Timestamp) -> Result<CertificateParams, Error> {
    let days = (ISSUED_NOT_AFTER.unix_secs() - not_before.unix_secs()) / 86_400;
    let days = u32::try_from(days)
        .ok()
        .filter(|d| *d >= 1)
        .ok_or_else(|| {
            Error::InvalidRequest(
                "the clock is past 2049: jitr cannot issue a certificate valid until 2049-12-31"
                    .into(),
            )
        })?;
    let mut params = CertificateOptions {
        valid_days: days,
        ..CertificateOptions::new(not_before)
    }
    .params(ISSUED_COMMON_NAME)?;
    params.not_after = x509_parser::time::ASN1Time::from_timestamp(ISSUED_NOT_AFTER.unix_secs())
        .map(|t| t.to_datetime())
        .map_err(|_| Error::InvalidRequest("2049-12-31 cannot be encoded".into()))?;
    end_entity(&mut params);
    Ok(params)
}

/// A key pair of `key_type` and a certificate for it signed by `issuer` (the account's
/// issuing CA), as CreateKeysAndCertificate makes them (AWS: a 2048-bit RSA key).
pub fn issue_with_new_key(
    issuer: &GeneratedCertificate,
    key_type: KeyType,
    not_before: Timestamp,
) -> Result<GeneratedCertificate, Error> {
    sign_new_key(
        &issued_params(not_before)?,
        key_type,
        issuer,
        "sign the certificate",
    )
}

/// A certificate for the public key of a PKCS#10 certificate signing request, signed by
/// `issuer` (the account's issuing CA), as CreateCertificateFromCsr issues it: the CSR's
/// signature must verify and its key must be RSA of at least 2048 bits or ECDSA on NIST
/// P-256, P-384 or P-521 (AWS's rule). The subject is AWS's, not the CSR's; the CSR's
/// requested extensions are not copied. Any problem with the CSR is
/// `InvalidRequestException`.
pub fn issue_from_csr(
    issuer: &GeneratedCertificate,
    csr_pem: &str,
    not_before: Timestamp,
) -> Result<Certificate, Error> {
    use x509_parser::certification_request::X509CertificationRequest;
    use x509_parser::public_key::PublicKey;
    if csr_pem.len() > MAX_CSR_PEM_LEN {
        return Err(Error::InvalidRequest(format!(
            "the certificate signing request is {} bytes; at most {MAX_CSR_PEM_LEN}",
            csr_pem.len()
        )));
    }
    let bad = |why: String| Error::InvalidRequest(format!("the certificate signing request {why}"));
    let (_, pem) = x509_parser::pem::parse_x509_pem(csr_pem.trim_start().as_bytes())
        .map_err(|_| bad("is not PEM (-----BEGIN CERTIFICATE REQUEST-----)".into()))?;
    if pem.label != "CERTIFICATE REQUEST" && pem.label != "NEW CERTIFICATE REQUEST" {
        return Err(bad(format!(
            "is a PEM {:?} block, not a CERTIFICATE REQUEST",
            crate::id::truncate_for_message(&pem.label)
        )));
    }
    let (rest, csr) = X509CertificationRequest::from_der(&pem.contents)
        .map_err(|e| bad(format!("is not a PKCS#10 request: {e}")))?;
    if !rest.is_empty() {
        return Err(bad("has bytes after its DER encoding".into()));
    }
    csr.verify_signature()
        .map_err(|e| bad(format!("has a signature that does not verify: {e}")))?;
    let spki = &csr.certification_request_info.subject_pki;
    const CURVES: [(&str, &str); 3] = [
        ("1.2.840.10045.3.1.7", "P-256"),
        ("1.3.132.0.34", "P-384"),
        ("1.3.132.0.35", "P-521"),
    ];
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() >= 2048 => {}
        Ok(PublicKey::RSA(rsa)) => {
            return Err(bad(format!("has a {}-bit RSA key; at least 2048 bits", rsa.key_size())))
        }
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            if !CURVES.iter().any(|(oid, _)| Some(*oid) == curve.as_deref()) {
                return Err(bad("has an EC key on a curve other than NIST P-256, P-384 or P-521".into()));
            }
        }
        _ => {
            return Err(bad(
                "has a key that is neither RSA (2048 bits or more) nor ECDSA on NIST P-256, P-384 or P-521".into(),
            ))
        }
    }
    let mut request = rcgen::CertificateSigningRequestParams::from_der(
        &rustls_pki_types::CertificateSigningRequestDer::from(pem.contents.as_slice()),
    )
    .map_err(|e| bad(format!("cannot be read: {e}")))?;
    request.params = issued_params(not_before)?;
    let cert = request
        .signed_by(&issuer.issuer()?)
        .map_err(|e| failed("sign the certificate", e))?;
    Certificate::from_der(cert.der())
}

fn finish(der: &[u8], key: KeyPair) -> Result<GeneratedCertificate, Error> {
    Ok(GeneratedCertificate {
        certificate: Certificate::from_der(der)?,
        key: Arc::new(key),
    })
}

/// 16 random bytes, positive and without a leading zero byte.
fn random_serial() -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut serial = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut serial).is_err() {
        // No system randomness: fall back to a clock-free counter; unique, not secret.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        serial[8..].copy_from_slice(&n.to_be_bytes());
    }
    serial[0] = (serial[0] & 0x7f) | 0x40;
    serial.to_vec()
}

/// A key could not be generated or a certificate signed: nothing the caller sent explains
/// it (the system's randomness or the crypto library failed).
fn failed(what: &'static str, e: impl fmt::Display) -> Error {
    Error::Internal(crate::error::InternalError::new(what, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        CertificateStatus, KeyAlgorithm, RegisterCaCertificateRequest, Registry, Scope,
        ValidityCheck,
    };
    use rustls_pki_types::CertificateDer;

    fn now() -> Timestamp {
        Timestamp::from_unix_millis(1_780_272_000_123)
    }

    fn opts(key_type: KeyType) -> CertificateOptions {
        CertificateOptions {
            key_type,
            ..CertificateOptions::new(now())
        }
    }

    fn registry() -> Registry {
        Registry::new(Scope::new("123456789012", "us-east-1").unwrap())
    }

    /// The whole JITR loop with generated certificates of one key type, whose CA's key is
    /// `algorithm`.
    fn jitr_loop(key_type: KeyType, algorithm: KeyAlgorithm) {
        let reg = registry();
        let ca = generate_ca("Fleet CA", &opts(key_type), None).unwrap();
        assert!(ca.certificate().is_ca());
        assert_eq!(ca.certificate().key_algorithm(), &algorithm);
        assert_eq!(
            ca.certificate().key_algorithm().to_string(),
            key_type.as_str()
        );
        let proof = generate_verification_certificate(
            &ca,
            &reg.get_registration_code().unwrap(),
            &opts(key_type),
        )
        .unwrap();
        assert_eq!(
            proof.certificate().subject().common_name(),
            Some(reg.get_registration_code().unwrap().as_str())
        );
        let ca_id = reg
            .register_ca_certificate(
                &RegisterCaCertificateRequest {
                    ca_certificate: ca.certificate_pem(),
                    verification_certificate: Some(proof.certificate_pem()),
                    set_as_active: true,
                    allow_auto_registration: true,
                    ..Default::default()
                },
                now(),
            )
            .unwrap()
            .certificate_id;
        let device = issue_certificate(&ca, "device-1", &opts(key_type)).unwrap();
        let chain = [
            CertificateDer::from(device.certificate().der().to_vec()),
            CertificateDer::from(ca.certificate().der().to_vec()),
        ];
        let first = reg.decide(&chain, None, now());
        assert_eq!(
            first.reason_code(),
            Some("REGISTERED_PENDING_ACTIVATION"),
            "{key_type}: {}",
            first.message()
        );
        assert_eq!(first.ca_certificate_id, Some(ca_id));
        reg.update_certificate(&device.certificate().id(), CertificateStatus::Active, now())
            .unwrap();
        assert!(reg.decide(&chain, None, now()).is_allowed());
    }

    /// A test of [`jitr_loop`] for each key type, with the key algorithm its CA must have.
    macro_rules! jitr_loops {
        ($($test:ident: $key_type:ident => $algorithm:expr,)+) => {$(
            #[test]
            fn $test() {
                jitr_loop(KeyType::$key_type, $algorithm);
            }
        )+};
    }

    jitr_loops! {
        jitr_loop_ec_p256: EcP256 => KeyAlgorithm::EcP256,
        jitr_loop_ec_p384: EcP384 => KeyAlgorithm::EcP384,
        jitr_loop_ed25519: Ed25519 => KeyAlgorithm::Ed25519,
        // RSA key generation (num-bigint-dig) is slow without optimisation: the workspace
        // builds that crate optimised even in the dev profile (root Cargo.toml).
        jitr_loop_rsa_2048: Rsa2048 => KeyAlgorithm::Rsa { bits: 2048 },
    }

    #[test]
    fn fields_follow_the_options() {
        let mut o = opts(KeyType::EcP256);
        o.valid_days = 10;
        o.organization = Some("Example Corp".into());
        o.path_len = Some(0);
        let root = generate_ca("Root", &o, None).unwrap();
        let c = root.certificate();
        assert_eq!(c.subject().rfc4514(), "O=Example Corp,CN=Root");
        assert_eq!(c.issuer(), c.subject());
        assert_eq!(c.path_len(), Some(0));
        assert_eq!(
            c.key_usage(),
            Some(&["digitalSignature", "keyCertSign", "cRLSign"][..])
        );
        assert!(c.subject_key_identifier().is_some());
        // notBefore is `now` rounded down to the second; notAfter 10 days later.
        let v = c.validity();
        assert_eq!(v.not_before, Timestamp::from_unix_secs(now().unix_secs()));
        assert_eq!(
            v.not_after.unix_secs() - v.not_before.unix_secs(),
            10 * 86_400
        );
        assert_eq!(v.check(now()), ValidityCheck::Valid);
        assert_eq!(c.serial().len(), 16);
        assert_ne!(
            generate_ca("Root", &o, None)
                .unwrap()
                .certificate()
                .serial(),
            c.serial()
        );

        let intermediate =
            generate_ca("Intermediate", &opts(KeyType::EcP384), Some(&root)).unwrap();
        let i = intermediate.certificate();
        assert_eq!(i.issuer(), c.subject());
        assert!(i.is_ca());
        assert_eq!(i.authority_key_identifier(), c.subject_key_identifier());
        i.is_signed_by(c).unwrap();

        let mut no_eku = opts(KeyType::Ed25519);
        no_eku.client_auth = false;
        let leaf = issue_certificate(&intermediate, "d", &no_eku).unwrap();
        assert!(!leaf.certificate().is_ca());
        assert_eq!(leaf.certificate().extended_key_usage(), None);
        assert_eq!(
            leaf.certificate().key_usage(),
            Some(&["digitalSignature"][..])
        );
        assert_eq!(
            leaf.certificate().authority_key_identifier(),
            i.subject_key_identifier()
        );
        leaf.certificate().is_signed_by(i).unwrap();
    }

    #[test]
    fn pem_round_trip_and_redaction() {
        let ca = generate_ca("CA", &opts(KeyType::EcP256), None).unwrap();
        let key_pem = ca.private_key_pem();
        assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let loaded = GeneratedCertificate::from_pem(&ca.certificate_pem(), &key_pem).unwrap();
        assert_eq!(loaded.certificate(), ca.certificate());
        // A loaded CA signs like the original.
        let leaf = issue_certificate(&loaded, "d", &opts(KeyType::EcP256)).unwrap();
        leaf.certificate().is_signed_by(ca.certificate()).unwrap();
        let debug = format!("{loaded:?}");
        assert!(debug.contains("<redacted>"));
        assert!(!debug.contains(&key_pem[30..60]));
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let ca = generate_ca("CA", &opts(KeyType::EcP256), None).unwrap();
        let other = generate_ca("Other", &opts(KeyType::EcP256), None).unwrap();
        let code = |e: Error| e.code();
        // The key of another certificate, garbage keys, garbage certificates.
        let err = GeneratedCertificate::from_pem(&ca.certificate_pem(), &other.private_key_pem())
            .unwrap_err();
        assert_eq!(code(err.clone()), "InvalidRequestException");
        assert!(!err.message().contains("PRIVATE"));
        assert_eq!(
            code(GeneratedCertificate::from_pem(&ca.certificate_pem(), "nope").unwrap_err()),
            "InvalidRequestException"
        );
        assert_eq!(
            code(GeneratedCertificate::from_pem("nope", &ca.private_key_pem()).unwrap_err()),
            "CertificateValidationException"
        );
        // A leaf cannot sign.
        let leaf = issue_certificate(&ca, "d", &opts(KeyType::EcP256)).unwrap();
        let err = issue_certificate(&leaf, "e", &opts(KeyType::EcP256)).unwrap_err();
        assert!(err.message().contains("not a CA"), "{err}");
        assert!(generate_ca("I", &opts(KeyType::EcP256), Some(&leaf)).is_err());
        assert!(
            generate_verification_certificate(&leaf, &"0".repeat(64), &opts(KeyType::EcP256))
                .is_err()
        );
        // Registration codes are 64 hex characters.
        for bad in ["", "xyz", &"g".repeat(64), &"0".repeat(63)] {
            let err =
                generate_verification_certificate(&ca, bad, &opts(KeyType::EcP256)).unwrap_err();
            assert_eq!(err.code(), "InvalidRequestException", "{bad:?}");
        }
        // Validity bounds.
        for days in [0, MAX_VALID_DAYS + 1] {
            let mut o = opts(KeyType::EcP256);
            o.valid_days = days;
            assert!(generate_ca("CA", &o, None).is_err(), "{days}");
        }
        let mut far = opts(KeyType::EcP256);
        far.not_before = Timestamp::from_unix_secs(253_402_300_000); // year 10000
        assert!(generate_ca("CA", &far, None).is_err());
        let mut early = opts(KeyType::EcP256);
        early.not_before = Timestamp::from_unix_secs(i64::MIN / 1000);
        assert!(generate_ca("CA", &early, None).is_err());
    }

    #[test]
    fn key_type_names() {
        for k in KeyType::ALL {
            assert_eq!(k.as_str().parse::<KeyType>().unwrap(), k);
            assert_eq!(k.to_string(), k.as_str());
        }
        for bad in ["", "ec_p256", "RSA_4096", "EC_P256 "] {
            assert_eq!(
                bad.parse::<KeyType>().unwrap_err().code(),
                "InvalidRequestException"
            );
        }
        assert_eq!(KeyType::default(), KeyType::EcP256);
    }
}
