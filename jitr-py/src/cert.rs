//! `jitr_iot.Certificate`, `jitr_iot.load_pem_chain` and `jitr_iot.certificate_id`.

use jitr_core::{parse_pem_chain, Certificate as CoreCertificate};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::convert::{self as arg, bytes_arg, datetime, repr};
use crate::errors::OrRaise;

/// A parsed X.509 certificate.
///
/// >>> import jitr_iot
/// >>> ca = jitr_iot.generate_ca("Example CA")
/// >>> cert = jitr_iot.Certificate.from_pem(ca.certificate_pem)
/// >>> cert.subject, cert.is_ca, cert.key_algorithm
/// ('CN=Example CA', True, 'EC_P256')
/// >>> cert == jitr_iot.Certificate.from_der(cert.to_der())
/// True
#[pyclass(module = "jitr_iot", frozen)]
pub(crate) struct Certificate {
    pub(crate) inner: CoreCertificate,
}

fn hex_opt(b: Option<&[u8]>) -> Option<String> {
    b.map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
}

#[pymethods]
impl Certificate {
    /// Parses a PEM text holding exactly one certificate.
    #[staticmethod]
    fn from_pem(#[pyo3(from_py_with = arg::pem)] pem: String) -> PyResult<Self> {
        let inner = CoreCertificate::from_pem(&pem).or_raise()?;
        Ok(Self { inner })
    }

    /// Parses one DER-encoded certificate (``bytes`` or ``bytearray``).
    #[staticmethod]
    fn from_der(der: &Bound<'_, PyAny>) -> PyResult<Self> {
        let der = bytes_arg(der, "der")?;
        let inner = CoreCertificate::from_der(&der).or_raise()?;
        Ok(Self { inner })
    }

    /// The AWS certificate ID: lowercase hex SHA-256 of the DER.
    #[getter]
    fn certificate_id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The subject, RFC 4514 (``CN=device-1,O=Example Corp``).
    #[getter]
    fn subject(&self) -> &str {
        self.inner.subject().rfc4514()
    }

    /// The issuer, RFC 4514.
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer().rfc4514()
    }

    /// The serial number, lowercase hex without leading zeros.
    #[getter]
    fn serial_number(&self) -> String {
        self.inner.serial_hex()
    }

    /// The start of validity, a timezone-aware UTC ``datetime``.
    #[getter]
    fn not_before<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.inner.validity().not_before)
    }

    /// The end of validity, a timezone-aware UTC ``datetime``.
    #[getter]
    fn not_after<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.inner.validity().not_after)
    }

    /// Whether basicConstraints is present with ``cA`` true.
    #[getter]
    fn is_ca(&self) -> bool {
        self.inner.is_ca()
    }

    /// The subject key identifier, lowercase hex, if present.
    #[getter]
    fn subject_key_identifier(&self) -> Option<String> {
        hex_opt(self.inner.subject_key_identifier())
    }

    /// The authority key identifier's key ID, lowercase hex, if present.
    #[getter]
    fn authority_key_identifier(&self) -> Option<String> {
        hex_opt(self.inner.authority_key_identifier())
    }

    /// The public key: ``EC_P256``, ``EC_P384``, ``EC_P521``, ``RSA_<bits>``, ``ED25519``,
    /// ``ED448`` or ``UNKNOWN(<oid>)``.
    #[getter]
    fn key_algorithm(&self) -> String {
        self.inner.key_algorithm().to_string()
    }

    /// Key usage names (``digitalSignature``, ``keyCertSign``, ...), ``None`` without the
    /// extension.
    #[getter]
    fn key_usage(&self) -> Option<Vec<&'static str>> {
        self.inner.key_usage().map(<[_]>::to_vec)
    }

    /// Extended key usages (``clientAuth``, ... or dotted OIDs), ``None`` without the
    /// extension.
    #[getter]
    fn extended_key_usage(&self) -> Option<Vec<String>> {
        self.inner.extended_key_usage().map(<[_]>::to_vec)
    }

    /// Subject alternative names as ``DNS:…``, ``IP:…``, ``URI:…``, ``email:…``.
    #[getter]
    fn subject_alternative_names(&self) -> Vec<String> {
        self.inner.subject_alternative_names().to_vec()
    }

    /// Whether ``issuer`` signed this certificate (its subject is this certificate's
    /// issuer and its key verifies the signature).
    fn is_signed_by(&self, issuer: &Bound<'_, Certificate>) -> bool {
        self.inner.is_signed_by(&issuer.get().inner).is_ok()
    }

    /// The PEM encoding.
    fn to_pem(&self) -> String {
        self.inner.to_pem()
    }

    /// The DER encoding.
    fn to_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.der())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Certificate>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __hash__(&self) -> u64 {
        let id = self.inner.id();
        let mut first = [0u8; 8];
        first.copy_from_slice(&id.as_bytes()[..8]);
        u64::from_le_bytes(first)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Certificate(subject={}, certificate_id={})",
            repr(py, self.inner.subject().rfc4514()),
            repr(py, &self.inner.id().to_string())
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let from_der = slf.get_type().getattr("from_der")?;
        let args = PyTuple::new(py, [PyBytes::new(py, slf.get().inner.der())])?;
        PyTuple::new(py, [from_der, args.into_any()])
    }
}

/// Parses a PEM text holding one or more certificates (a bundle or a chain, in order).
///
/// >>> import jitr_iot
/// >>> ca = jitr_iot.generate_ca("Root")
/// >>> device = jitr_iot.issue_certificate(ca, "device-1")
/// >>> [c.subject for c in jitr_iot.load_pem_chain(device.certificate_pem + ca.certificate_pem)]
/// ['CN=device-1', 'CN=Root']
#[pyfunction]
pub(crate) fn load_pem_chain(
    #[pyo3(from_py_with = arg::pem)] pem: String,
) -> PyResult<Vec<Certificate>> {
    Ok(parse_pem_chain(&pem)
        .or_raise()?
        .into_iter()
        .map(|inner| Certificate { inner })
        .collect())
}

/// The AWS certificate ID of one certificate given as PEM (``str``) or DER (``bytes``):
/// lowercase hex SHA-256 of the DER. The certificate must parse.
///
/// >>> import hashlib, jitr_iot
/// >>> pem = jitr_iot.generate_ca("CA").certificate_pem
/// >>> der = jitr_iot.Certificate.from_pem(pem).to_der()
/// >>> jitr_iot.certificate_id(pem) == jitr_iot.certificate_id(der) == hashlib.sha256(der).hexdigest()
/// True
#[pyfunction]
pub(crate) fn certificate_id(pem_or_der: &Bound<'_, PyAny>) -> PyResult<String> {
    let cert = if pem_or_der.is_instance_of::<PyString>() {
        CoreCertificate::from_pem(&pem_or_der.extract::<String>()?)
    } else if let Ok(der) = bytes_arg(pem_or_der, "pem_or_der") {
        CoreCertificate::from_pem_or_der(&der)
    } else {
        return Err(PyTypeError::new_err(
            "pem_or_der must be a PEM str or DER bytes",
        ));
    };
    Ok(cert.or_raise()?.id().to_string())
}
