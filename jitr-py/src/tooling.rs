//! Certificate tooling over `jitr_core::tooling`: `generate_ca`,
//! `generate_verification_certificate`, `issue_certificate` and `GeneratedCertificate`.

use jitr_core::tooling::{self, CertificateOptions, KeyType};
use jitr_core::Timestamp;
use pyo3::marker::Ungil;
use pyo3::prelude::*;

use crate::cert::Certificate;
use crate::convert::{self as arg, int_arg, repr, timestamp_arg};
use crate::errors::OrRaise;

/// A certificate with its private key, as the generators return it.
///
/// ``repr()`` never shows the key.
#[pyclass(module = "jitr_iot", frozen)]
pub(crate) struct GeneratedCertificate {
    inner: tooling::GeneratedCertificate,
}

#[pymethods]
impl GeneratedCertificate {
    /// Loads an existing certificate and its PKCS#8 private key (``-----BEGIN PRIVATE
    /// KEY-----``), e.g. your CA, to sign verification or device certificates with.
    #[staticmethod]
    fn from_pem(
        #[pyo3(from_py_with = arg::certificate_pem)] certificate_pem: String,
        #[pyo3(from_py_with = arg::private_key_pem)] private_key_pem: String,
    ) -> PyResult<Self> {
        let inner = tooling::GeneratedCertificate::from_pem(&certificate_pem, &private_key_pem)
            .or_raise()?;
        Ok(Self { inner })
    }

    /// The certificate, PEM.
    #[getter]
    fn certificate_pem(&self) -> String {
        self.inner.certificate_pem()
    }

    /// The private key, PEM (PKCS#8).
    #[getter]
    fn private_key_pem(&self) -> String {
        self.inner.private_key_pem()
    }

    /// The certificate, parsed.
    #[getter]
    fn certificate(&self) -> Certificate {
        Certificate {
            inner: self.inner.certificate().clone(),
        }
    }

    /// The certificate's AWS ID.
    #[getter]
    fn certificate_id(&self) -> String {
        self.inner.certificate().id().to_string()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let c = self.inner.certificate();
        format!(
            "GeneratedCertificate(subject={}, certificate_id={}, private_key_pem=<redacted>)",
            repr(py, c.subject().rfc4514()),
            repr(py, &c.id().to_string())
        )
    }
}

/// An optional `int` argument (`None` takes the core's default), as [`int_arg`].
fn opt_int<T: TryFrom<i64>>(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<T>> {
    if obj.is_none() {
        return Ok(None);
    }
    int_arg(obj, name).map(Some)
}

fn valid_days(obj: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    opt_int(obj, "valid_days")
}

fn path_len(obj: &Bound<'_, PyAny>) -> PyResult<Option<u8>> {
    opt_int(obj, "path_len")
}

/// One of the core's generators, run without the GIL; its error as the package's exception.
fn generated(
    py: Python<'_>,
    generate: impl Ungil + FnOnce() -> Result<tooling::GeneratedCertificate, jitr_core::Error>,
) -> PyResult<GeneratedCertificate> {
    let inner = py.detach(generate).or_raise()?;
    Ok(GeneratedCertificate { inner })
}

/// The core's options (`defaults`: `CertificateOptions::new` or `new_ca`) with what the
/// caller gave; `None` keeps the core's default.
fn options(
    defaults: fn(Timestamp) -> CertificateOptions,
    key_type: Option<String>,
    valid_days: Option<u32>,
    not_before: Option<&Bound<'_, PyAny>>,
    organization: Option<String>,
) -> PyResult<CertificateOptions> {
    let mut o = defaults(timestamp_arg(not_before, "not_before")?);
    if let Some(key_type) = key_type.as_deref() {
        o.key_type = key_type.parse::<KeyType>().or_raise()?;
    }
    if let Some(days) = valid_days {
        o.valid_days = days;
    }
    o.organization = organization;
    Ok(o)
}

/// A CA certificate and its key: self-signed, or an intermediate CA when ``issuer`` (a
/// CA's ``GeneratedCertificate``) is given. Key types (``KEY_TYPES``): ``EC_P256``,
/// ``EC_P384``, ``RSA_2048``, ``ED25519``. ``None`` takes the core's default: ``key_type``
/// ``EC_P256``, ``valid_days`` 3650 for a CA. ``not_before`` (a timezone-aware
/// ``datetime`` or epoch seconds) defaults to now; ``path_len`` sets basicConstraints'
/// pathLenConstraint.
///
/// >>> import jitr_iot
/// >>> root = jitr_iot.generate_ca("Root CA", valid_days=3650)
/// >>> intermediate = jitr_iot.generate_ca("Fleet CA", "EC_P384", issuer=root, path_len=0)
/// >>> cert = intermediate.certificate
/// >>> cert.issuer, cert.is_ca, cert.key_algorithm, cert.is_signed_by(root.certificate)
/// ('CN=Root CA', True, 'EC_P384', True)
#[pyfunction]
#[pyo3(signature = (
    common_name,
    key_type = None,
    valid_days = None,
    issuer = None,
    *,
    organization = None,
    path_len = None,
    not_before = None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn generate_ca(
    py: Python<'_>,
    #[pyo3(from_py_with = arg::common_name)] common_name: String,
    #[pyo3(from_py_with = arg::key_type)] key_type: Option<String>,
    #[pyo3(from_py_with = valid_days)] valid_days: Option<u32>,
    issuer: Option<&Bound<'_, GeneratedCertificate>>,
    #[pyo3(from_py_with = arg::organization)] organization: Option<String>,
    #[pyo3(from_py_with = path_len)] path_len: Option<u8>,
    not_before: Option<&Bound<'_, PyAny>>,
) -> PyResult<GeneratedCertificate> {
    let mut o = options(
        CertificateOptions::new_ca,
        key_type,
        valid_days,
        not_before,
        organization,
    )?;
    o.path_len = path_len;
    let issuer = issuer.map(|i| &i.get().inner);
    generated(py, || tooling::generate_ca(&common_name, &o, issuer))
}

/// The verification certificate that proves possession of ``ca``'s key when registering
/// it: Common Name ``registration_code`` (from ``Registry.get_registration_code()``),
/// signed by the CA. ``None`` takes the core's default: ``key_type`` ``EC_P256``,
/// ``valid_days`` 365.
///
/// >>> import jitr_iot
/// >>> registry = jitr_iot.Registry()
/// >>> code = registry.get_registration_code()["registrationCode"]
/// >>> ca = jitr_iot.generate_ca("Fleet CA")
/// >>> proof = jitr_iot.generate_verification_certificate(ca, code)
/// >>> proof.certificate.subject == "CN=" + code
/// True
/// >>> response = registry.register_ca_certificate(
/// ...     caCertificate=ca.certificate_pem,
/// ...     verificationCertificate=proof.certificate_pem,
/// ... )
/// >>> response["certificateId"] == ca.certificate_id
/// True
#[pyfunction]
#[pyo3(signature = (ca, registration_code, *, key_type = None, valid_days = None, not_before = None))]
pub(crate) fn generate_verification_certificate(
    py: Python<'_>,
    ca: &Bound<'_, GeneratedCertificate>,
    #[pyo3(from_py_with = arg::registration_code)] registration_code: String,
    #[pyo3(from_py_with = arg::key_type)] key_type: Option<String>,
    #[pyo3(from_py_with = valid_days)] valid_days: Option<u32>,
    not_before: Option<&Bound<'_, PyAny>>,
) -> PyResult<GeneratedCertificate> {
    let o = options(
        CertificateOptions::new,
        key_type,
        valid_days,
        not_before,
        None,
    )?;
    let ca = &ca.get().inner;
    generated(py, || {
        tooling::generate_verification_certificate(ca, &registration_code, &o)
    })
}

/// A device certificate for ``common_name`` signed by ``issuer`` (a CA's
/// ``GeneratedCertificate``), with extended key usage clientAuth unless ``client_auth`` is
/// false. ``None`` takes the core's default: ``key_type`` ``EC_P256``, ``valid_days`` 365.
///
/// >>> import jitr_iot
/// >>> ca = jitr_iot.generate_ca("Fleet CA")
/// >>> device = jitr_iot.issue_certificate(ca, "device-1", organization="Example Corp")
/// >>> device.certificate.subject, device.certificate.extended_key_usage
/// ('O=Example Corp,CN=device-1', ['clientAuth'])
#[pyfunction]
#[pyo3(signature = (
    issuer,
    common_name,
    key_type = None,
    valid_days = None,
    *,
    organization = None,
    client_auth = true,
    not_before = None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue_certificate(
    py: Python<'_>,
    issuer: &Bound<'_, GeneratedCertificate>,
    #[pyo3(from_py_with = arg::common_name)] common_name: String,
    #[pyo3(from_py_with = arg::key_type)] key_type: Option<String>,
    #[pyo3(from_py_with = valid_days)] valid_days: Option<u32>,
    #[pyo3(from_py_with = arg::organization)] organization: Option<String>,
    #[pyo3(from_py_with = arg::client_auth)] client_auth: bool,
    not_before: Option<&Bound<'_, PyAny>>,
) -> PyResult<GeneratedCertificate> {
    let mut o = options(
        CertificateOptions::new,
        key_type,
        valid_days,
        not_before,
        organization,
    )?;
    o.client_auth = client_auth;
    let issuer = &issuer.get().inner;
    generated(py, || tooling::issue_certificate(issuer, &common_name, &o))
}
