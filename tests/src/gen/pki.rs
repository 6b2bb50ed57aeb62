//! The vectors' certificates: `jitr-testkit`'s deterministic keys and certificate shapes,
//! with the vectors' subject names (`O=jitr test vectors, CN=…`), fixed serials, and a
//! name and description for each certificate (its entry in a vector file's
//! `certificates` map).

use jitr_testkit::rcgen::{CertificateParams, DistinguishedName, DnType};
use jitr_testkit::{self as kit};

pub(crate) use kit::{sha256_hex, Eku, Error, Key, Ymd, NOT_AFTER, NOT_BEFORE};

/// Subject DN `O=jitr test vectors, CN=<cn>`.
pub(crate) fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "jitr test vectors");
    dn.push(DnType::CommonName, cn);
    dn
}

/// Parameters of a CA certificate (see [`kit::ca_params`]).
pub(crate) fn ca_params(cn: &str, serial: u64, validity: (Ymd, Ymd)) -> CertificateParams {
    kit::ca_params(dn(cn), Some(serial), validity)
}

/// Parameters of an end-entity certificate (see [`kit::leaf_params`]).
pub(crate) fn leaf_params(
    cn: &str,
    serial: u64,
    validity: (Ymd, Ymd),
    eku: Eku,
) -> CertificateParams {
    kit::leaf_params(dn(cn), Some(serial), validity, eku)
}

/// A generated certificate, with its name in the vector files, its description, DER, PEM
/// and certificateId.
#[derive(Clone)]
pub(crate) struct Cert {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) der: Vec<u8>,
    pub(crate) pem: String,
    pub(crate) id: String,
}

impl Cert {
    fn named(name: &str, description: &str, cert: kit::Cert) -> Self {
        Cert {
            name: name.to_string(),
            description: description.to_string(),
            id: cert.id(),
            der: cert.der,
            pem: cert.pem,
        }
    }
}

/// A CA of the vectors: its named certificate, and the testkit CA to issue with.
pub(crate) struct Ca {
    pub(crate) cert: Cert,
    pub(crate) ca: kit::Ca,
}

impl Ca {
    /// A self-signed CA.
    pub(crate) fn root(
        name: &str,
        description: &str,
        params: CertificateParams,
        key: Key,
    ) -> Result<Self, Error> {
        let ca = kit::Ca::root(params, key)?;
        Ok(Ca {
            cert: Cert::named(name, description, ca.cert.clone()),
            ca,
        })
    }

    /// A CA certificate signed by `issuer` (an intermediate).
    pub(crate) fn signed_by(
        name: &str,
        description: &str,
        params: CertificateParams,
        key: Key,
        issuer: &Ca,
    ) -> Result<Self, Error> {
        let ca = kit::Ca::signed_by(params, key, &issuer.ca)?;
        Ok(Ca {
            cert: Cert::named(name, description, ca.cert.clone()),
            ca,
        })
    }

    /// Issues an end-entity certificate for `subject_key` with this CA's name and key.
    pub(crate) fn issue(
        &self,
        name: &str,
        description: &str,
        params: &CertificateParams,
        subject_key: &Key,
    ) -> Result<Cert, Error> {
        Ok(Cert::named(
            name,
            description,
            self.ca.issue(params, subject_key)?,
        ))
    }
}

/// Issues a certificate whose issuer name is `issuer_params`' subject, signed by `issuer_key`
/// (which need not be the key of any real CA: used to forge bad signatures).
pub(crate) fn issue_with(
    name: &str,
    description: &str,
    params: &CertificateParams,
    subject_key: &Key,
    issuer_params: &CertificateParams,
    issuer_key: &Key,
) -> Result<Cert, Error> {
    let cert = kit::issue_with(params, subject_key, issuer_params, issuer_key)?;
    Ok(Cert::named(name, description, cert))
}

/// A self-signed certificate that is not a CA.
pub(crate) fn self_signed(
    name: &str,
    description: &str,
    params: &CertificateParams,
    key: &Key,
) -> Result<Cert, Error> {
    Ok(Cert::named(
        name,
        description,
        kit::self_signed(params, key)?,
    ))
}

/// PEM with LF line endings and 64-character lines on every platform.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    kit::pem_encode(label, der)
}
