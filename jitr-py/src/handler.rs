//! The activation handler's pieces (docs/behaviour.md §8): `jitr.Crl`, `jitr.PolicyTemplate`,
//! `jitr.parse_registration_event` and `jitr.plan_activation`, which wraps the core's pure
//! [`jitr_core::handler::plan`]. Conversions only: the decision is the core's, and
//! `python/jitr/handler.py` carries it out against a `jitr.Registry` or a boto3 client.

use std::sync::Arc;

use jitr_core::crl::{Crl as CoreCrl, CrlProblem, StaleCrlPolicy};
use jitr_core::handler::{self, Plan, PlanInput, PolicyTemplate as CoreTemplate};
use jitr_core::{Certificate as CoreCertificate, CertificateStatus, RegistrationEvent, Scope};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyInt, PyMapping, PyString};

use crate::cert::Certificate;
use crate::convert::{datetime, py_to_json, repr, timestamp_arg};
use crate::errors::OrRaise;

/// A certificate revocation list, parsed once; lookups are O(1).
///
/// >>> import jitr
/// >>> try:
/// ...     jitr.Crl.from_bytes(b"not a CRL")
/// ... except jitr.InvalidRequestException as e:
/// ...     print(e.code)
/// InvalidRequestException
#[pyclass(module = "jitr", frozen)]
pub(crate) struct Crl {
    inner: Arc<CoreCrl>,
}

/// The `jitr.CrlError` for a CRL problem.
fn crl_error(py: Python<'_>, p: &CrlProblem) -> PyErr {
    static CRL_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    match CRL_ERROR
        .import(py, "jitr._errors", "CrlError")
        .and_then(|cls| cls.call1((p.code(), p.to_string())))
    {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

/// The bytes of a `bytes`/`bytearray`, or a PEM `str`'s UTF-8.
fn data_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        Ok(b.to_vec())
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(s.to_cow()?.as_bytes().to_vec())
    } else {
        Err(PyTypeError::new_err(format!(
            "{name} must be bytes (PEM or DER) or a PEM str, not {}",
            obj.get_type().name()?
        )))
    }
}

/// A serial number as big-endian bytes: `bytes`, a non-negative `int`, or hex text
/// (`"0102"`, `"0x102"`, `"01:02"`; any case; odd lengths are padded on the left).
fn serial_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        let negative = obj.lt(0)?;
        if negative {
            return Err(PyValueError::new_err("a serial number is not negative"));
        }
        let bits: usize = obj.call_method0("bit_length")?.extract()?;
        let len = bits.div_ceil(8).max(1);
        let bytes = obj.call_method1("to_bytes", (len, "big"))?;
        return Ok(bytes.cast::<PyBytes>()?.as_bytes().to_vec());
    }
    let Ok(s) = obj.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "serial must be bytes, an int or a hex str, not {}",
            obj.get_type().name()?
        )));
    };
    let text = s.to_cow()?;
    let text: &str = &text;
    let digits: String = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
        .chars()
        .filter(|c| *c != ':')
        .collect();
    let bad = || {
        PyValueError::new_err(format!(
            "serial {} is not a hex number",
            repr(obj.py(), text)
        ))
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

/// A CA certificate given as a PEM `str` or a `jitr.Certificate`.
fn ca_arg(obj: &Bound<'_, PyAny>) -> PyResult<CoreCertificate> {
    if let Ok(c) = obj.cast::<Certificate>() {
        Ok(c.get().inner.clone())
    } else if let Ok(s) = obj.cast::<PyString>() {
        CoreCertificate::from_pem(&s.to_cow()?).or_raise()
    } else {
        Err(PyTypeError::new_err(format!(
            "ca must be a PEM str or a jitr.Certificate, not {}",
            obj.get_type().name()?
        )))
    }
}

#[pymethods]
impl Crl {
    /// Parses a CRL given as PEM (``-----BEGIN X509 CRL-----``, ``bytes`` or ``str``) or
    /// DER (``bytes``). Malformed input raises ``InvalidRequestException``. Nothing is
    /// checked against a CA here: see :meth:`verify_issued_by`.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let data = data_arg(data, "data")?;
        let inner = py.detach(|| CoreCrl::from_pem_or_der(&data)).or_raise()?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Whether a certificate with this serial number is listed. ``serial`` is the
    /// big-endian ``bytes`` of the certificate's serial, a non-negative ``int``, or hex
    /// text as ``Certificate.serial_number`` gives it (``"0x"`` and ``:`` allowed).
    fn is_revoked(&self, serial: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.is_revoked(&serial_arg(serial)?))
    }

    /// ``thisUpdate``, a timezone-aware UTC ``datetime``.
    #[getter]
    fn this_update<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        datetime(py, self.inner.this_update())
    }

    /// ``nextUpdate``, a timezone-aware UTC ``datetime``, or ``None`` if absent.
    #[getter]
    fn next_update<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .next_update()
            .map(|t| datetime(py, t))
            .transpose()
    }

    /// The issuer's name (RFC 4514).
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer()
    }

    /// Checks that ``ca`` (a PEM ``str`` or a ``jitr.Certificate``) issued this CRL: its
    /// subject is the CRL's issuer and its key verifies the CRL's signature. Raises
    /// ``jitr.CrlError`` (code ``CRL_WRONG_ISSUER`` or ``CRL_BAD_SIGNATURE``) if not.
    fn verify_issued_by(&self, py: Python<'_>, ca: &Bound<'_, PyAny>) -> PyResult<()> {
        let ca = ca_arg(ca)?;
        py.detach(|| self.inner.verify_issued_by(&ca))
            .map_err(|p| crl_error(py, &p))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Crl(issuer={}, revoked={})",
            repr(py, self.inner.issuer()),
            self.inner.len()
        )
    }
}

/// A policy's name and document with ``{{placeholder}}``\ s filled from the certificate
/// when the handler activates it.
///
/// Placeholders: ``{{certificateId}}``, ``{{caCertificateId}}``, ``{{accountId}}``,
/// ``{{region}}``, ``{{partition}}``, ``{{serialNumber}}`` and the subject's fields
/// ``{{subject.CommonName}}``, ``{{subject.Organization}}``,
/// ``{{subject.OrganizationalUnit}}``, ``{{subject.Country}}``, ``{{subject.State}}``,
/// ``{{subject.Locality}}``, ``{{subject.SerialNumber}}``, ``{{subject.DnQualifier}}``,
/// ``{{subject.Title}}``, ``{{subject.GivenName}}``, ``{{subject.Surname}}``,
/// ``{{subject.Pseudonym}}``, ``{{subject.EmailAddress}}``. AWS policy variables such as
/// ``${iot:ClientId}`` pass through. An unknown placeholder raises
/// ``InvalidRequestException`` here; a field the certificate lacks raises it when the
/// handler runs, naming the field.
///
/// >>> import jitr
/// >>> jitr.PolicyTemplate.aws_sample().name
/// 'Policy_{{certificateId}}'
/// >>> try:
/// ...     jitr.PolicyTemplate("P_{{subject.Nickname}}", "{}")
/// ... except jitr.InvalidRequestException as e:
/// ...     print(e.message)
/// the policy template has an unknown placeholder {{subject.Nickname}}
#[pyclass(module = "jitr", frozen)]
pub(crate) struct PolicyTemplate {
    inner: CoreTemplate,
}

#[pymethods]
impl PolicyTemplate {
    #[new]
    fn new(name: &str, document: &str) -> PyResult<Self> {
        let inner = CoreTemplate::new(name, document).or_raise()?;
        Ok(Self { inner })
    }

    /// AWS's sample JITR policy, named ``Policy_<certificateId>``: connect as
    /// ``client/<certificateId>``, publish and receive on ``foo/bar/<certificateId>/*``,
    /// subscribe to ``foo/bar/<certificateId>/#``.
    #[staticmethod]
    fn aws_sample() -> Self {
        Self {
            inner: CoreTemplate::aws_sample(),
        }
    }

    /// The name template.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name_template()
    }

    /// The document template.
    #[getter]
    fn document(&self) -> &str {
        self.inner.document_template()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PolicyTemplate>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.name_template().hash(&mut h);
        self.inner.document_template().hash(&mut h);
        h.finish()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "PolicyTemplate({}, {})",
            repr(py, self.inner.name_template()),
            repr(py, self.inner.document_template())
        )
    }
}

/// A registration event from its payload: a JSON `str` or a `dict` (or another mapping).
fn event_arg(obj: &Bound<'_, PyAny>) -> PyResult<RegistrationEvent> {
    let json = if let Ok(s) = obj.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else if obj.is_instance_of::<PyDict>() {
        py_to_json(obj)?.to_string()
    } else if let Ok(mapping) = obj.cast::<PyMapping>() {
        let dict = PyDict::new(obj.py());
        dict.update(mapping)?;
        py_to_json(dict.as_any())?.to_string()
    } else {
        return Err(PyTypeError::new_err(format!(
            "the event must be the payload as a dict (or another mapping) or a JSON str, not {}",
            obj.get_type().name()?
        )));
    };
    RegistrationEvent::from_json(&json).or_raise()
}

fn loads<'py>(py: Python<'py>, json: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOADS.import(py, "json", "loads")?.call1((json,))
}

/// Checks a registration event (the payload AWS IoT publishes, a ``dict`` or a JSON
/// ``str``) and returns it as a ``dict`` with its IDs in lowercase. A missing or unknown
/// field, a wrong type or an ID that is not 64 hex characters raises
/// ``InvalidRequestException``.
///
/// >>> import jitr
/// >>> event = jitr.parse_registration_event({
/// ...     "certificateId": "AB" * 32, "caCertificateId": "cd" * 32,
/// ...     "timestamp": 1623724243659, "certificateStatus": "PENDING_ACTIVATION",
/// ...     "awsAccountId": "123456789012",
/// ...     "certificateRegistrationTimestamp": "1623723165331"})
/// >>> event["certificateId"] == "ab" * 32
/// True
#[pyfunction]
pub(crate) fn parse_registration_event<'py>(
    py: Python<'py>,
    event: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    loads(py, &event_arg(event)?.to_json())
}

fn stale_arg(s: &str) -> PyResult<StaleCrlPolicy> {
    match s {
        "REFUSE" => Ok(StaleCrlPolicy::Refuse),
        "ACCEPT" => Ok(StaleCrlPolicy::Accept),
        other => Err(PyValueError::new_err(format!(
            "stale_crl must be \"REFUSE\" or \"ACCEPT\", not {:?}",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// What the activation handler will do for one event, decided by the core from what the
/// handler looked up; changes nothing.
///
/// ``event`` is the registration event (``dict`` or JSON ``str``); ``certificate_pem`` and
/// ``status`` come from DescribeCertificate, ``ca_certificate_pem`` from
/// DescribeCACertificate (needed with a ``crl``); ``template`` defaults to
/// ``PolicyTemplate.aws_sample()``; ``stale_crl`` is ``"REFUSE"`` (the default: a CRL whose
/// nextUpdate has passed blocks activation) or ``"ACCEPT"``; ``now`` a timezone-aware
/// ``datetime`` or epoch seconds (default: the clock).
///
/// Returns ``{"action": "SKIP", "reason": code, "message": sentence}`` (the certificate is
/// not ``PENDING_ACTIVATION`` any more, or the CRL cannot be used: ``CRL_WRONG_ISSUER``,
/// ``CRL_BAD_SIGNATURE``, ``CRL_STALE``, ``CRL_NOT_YET_VALID``), ``{"action": "REVOKE"}``
/// (the serial is on the CRL) or ``{"action": "ACTIVATE", "policyName": ...,
/// "policyDocument": ...}``. Raises ``InvalidRequestException`` for a malformed event, a
/// PEM that is not the event's certificate, a CRL without its CA, or a template the
/// certificate cannot fill.
#[pyfunction]
#[pyo3(signature = (
    event,
    *,
    certificate_pem,
    status,
    account_id,
    region,
    partition = "aws",
    ca_certificate_pem = None,
    crl = None,
    template = None,
    stale_crl = "REFUSE",
    now = None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan_activation<'py>(
    py: Python<'py>,
    event: &Bound<'py, PyAny>,
    certificate_pem: &str,
    status: &str,
    account_id: &str,
    region: &str,
    partition: &str,
    ca_certificate_pem: Option<&str>,
    crl: Option<&Bound<'py, Crl>>,
    template: Option<&Bound<'py, PolicyTemplate>>,
    stale_crl: &str,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let event = event_arg(event)?;
    let status = status.parse::<CertificateStatus>().or_raise()?;
    let scope = Scope::with_partition(partition, account_id, region).or_raise()?;
    let stale_crl = stale_arg(stale_crl)?;
    let now = timestamp_arg(now, "now")?;
    let crl = crl.map(|c| c.get().inner.clone());
    let sample;
    let template = match template {
        Some(t) => &t.get().inner,
        None => {
            sample = CoreTemplate::aws_sample();
            &sample
        }
    };
    let plan = py
        .detach(|| {
            handler::plan(&PlanInput {
                event: &event,
                certificate_pem,
                status,
                ca_certificate_pem,
                crl: crl.as_deref(),
                template,
                scope: &scope,
                stale_crl,
                now,
            })
        })
        .or_raise()?;
    let out = PyDict::new(py);
    match plan {
        Plan::Skip(skip) => {
            out.set_item("action", "SKIP")?;
            out.set_item("reason", skip.code())?;
            out.set_item("message", skip.message())?;
        }
        Plan::Revoke => out.set_item("action", "REVOKE")?,
        Plan::Activate {
            policy_name,
            policy_document,
        } => {
            out.set_item("action", "ACTIVATE")?;
            out.set_item("policyName", policy_name)?;
            out.set_item("policyDocument", policy_document)?;
        }
        other => {
            return Err(PyTypeError::new_err(format!(
                "this jitr build does not know the plan {other:?}"
            )))
        }
    }
    Ok(out)
}
