//! Certificate parameters, CAs and issued certificates.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyUsagePurpose, SerialNumber,
};

use crate::{pem_encode, sha256_hex, Error, Key};

/// A calendar date (UTC midnight), `(year, month, day)`.
pub type Ymd = (i32, u8, u8);

/// The `notBefore` of ordinary test certificates: 2025-01-01.
pub const NOT_BEFORE: Ymd = (2025, 1, 1);
/// The `notAfter` of ordinary test certificates: 2035-01-01.
pub const NOT_AFTER: Ymd = (2035, 1, 1);
/// The validity of ordinary test certificates, 2025-01-01 to 2035-01-01 (every test's
/// "now", 2026-06-01, is inside it).
pub const VALIDITY: (Ymd, Ymd) = (NOT_BEFORE, NOT_AFTER);

/// A date as rcgen takes it.
pub fn date((y, m, d): Ymd) -> time::OffsetDateTime {
    rcgen::date_time_ymd(y, m, d)
}

/// The subject name `CN=<cn>`.
pub fn cn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// Extended key usage of an end-entity certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eku {
    /// `clientAuth`, what a device certificate carries.
    ClientAuth,
    /// `serverAuth` only.
    ServerAuth,
    /// No extendedKeyUsage extension at all.
    Absent,
}

fn base_params(
    dn: DistinguishedName,
    serial: Option<u64>,
    validity: (Ymd, Ymd),
) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.serial_number = serial.map(SerialNumber::from);
    p.not_before = date(validity.0);
    p.not_after = date(validity.1);
    p
}

/// Parameters of a CA certificate: basicConstraints CA (unconstrained), keyCertSign +
/// cRLSign.
pub fn ca_params(
    dn: DistinguishedName,
    serial: Option<u64>,
    validity: (Ymd, Ymd),
) -> CertificateParams {
    let mut p = base_params(dn, serial, validity);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// Parameters of an end-entity certificate (a device or a verification certificate):
/// digitalSignature, `eku`, and an authority key identifier.
pub fn leaf_params(
    dn: DistinguishedName,
    serial: Option<u64>,
    validity: (Ymd, Ymd),
    eku: Eku,
) -> CertificateParams {
    let mut p = base_params(dn, serial, validity);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = match eku {
        Eku::ClientAuth => vec![ExtendedKeyUsagePurpose::ClientAuth],
        Eku::ServerAuth => vec![ExtendedKeyUsagePurpose::ServerAuth],
        Eku::Absent => Vec::new(),
    };
    p.use_authority_key_identifier_extension = true;
    p
}

/// A certificate: its DER and its PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cert {
    /// The DER encoding.
    pub der: Vec<u8>,
    /// The PEM encoding (LF line endings).
    pub pem: String,
}

impl Cert {
    /// The certificate with these DER bytes.
    pub fn from_der(der: Vec<u8>) -> Self {
        Self {
            pem: pem_encode("CERTIFICATE", &der),
            der,
        }
    }

    /// Its certificate ID: the lowercase hex SHA-256 of the DER.
    pub fn id(&self) -> String {
        sha256_hex(&self.der)
    }
}

/// A CA: the parameters it was made from (its name, to issue with), its key and its
/// certificate.
pub struct Ca {
    /// The parameters of its certificate.
    pub params: CertificateParams,
    /// Its key.
    pub key: Key,
    /// Its certificate.
    pub cert: Cert,
}

impl Ca {
    /// A self-signed CA.
    pub fn root(params: CertificateParams, key: Key) -> Result<Self, Error> {
        let cert = self_signed(&params, &key)?;
        Ok(Self { params, key, cert })
    }

    /// A CA certificate signed by `issuer` (an intermediate).
    pub fn signed_by(params: CertificateParams, key: Key, issuer: &Ca) -> Result<Self, Error> {
        let cert = issuer.issue(&params, &key)?;
        Ok(Self { params, key, cert })
    }

    /// Issues a certificate for `subject_key` with this CA's name and key.
    pub fn issue(&self, params: &CertificateParams, subject_key: &Key) -> Result<Cert, Error> {
        issue_with(params, subject_key, &self.params, &self.key)
    }

    /// This CA as rcgen's issuer (for rcgen calls the helpers do not cover, such as CRLs).
    pub fn issuer(&self) -> Issuer<'_, &Key> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// Issues a certificate whose issuer name is `issuer_params`' subject, signed by
/// `issuer_key` (which need not be that CA's key: this forges bad signatures).
pub fn issue_with(
    params: &CertificateParams,
    subject_key: &Key,
    issuer_params: &CertificateParams,
    issuer_key: &Key,
) -> Result<Cert, Error> {
    let cert = params.signed_by(subject_key, &Issuer::from_params(issuer_params, issuer_key))?;
    Ok(Cert::from_der(cert.der().to_vec()))
}

/// A self-signed certificate (a CA's or not: `params` says).
pub fn self_signed(params: &CertificateParams, key: &Key) -> Result<Cert, Error> {
    Ok(Cert::from_der(params.self_signed(key)?.der().to_vec()))
}
