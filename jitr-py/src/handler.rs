//! The activation handler's pieces (docs/behaviour.md §8): `jitr_iot.Crl`, `jitr_iot.PolicyTemplate`,
//! `jitr_iot.parse_registration_event`, and `Activation` and `Call`, which wrap the core's
//! state machine [`jitr_core::handler::Activation`]. Conversions only: every decision is
//! the core's, and `python/jitr_iot/handler.py` makes the calls the machine names against a
//! `jitr_iot.Registry` or a boto3 client.

use std::sync::Arc;

use jitr_core::crl::{parse_serial, CaCrl, Crl as CoreCrl, CrlProblem, StaleCrlPolicy};
use jitr_core::handler::{
    Activation as CoreActivation, Call as CoreCall, CrlRequirement, Failure,
    PolicyTemplate as CoreTemplate, Reply, ServiceError, Settings,
};
use jitr_core::{Certificate as CoreCertificate, RegistrationEvent};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple,
};
use serde_json::Value;

use crate::cert::Certificate;
use crate::convert::{datetime, json_to_py, py_to_json, repr, timestamp_arg, wrong_type};
use crate::errors::OrRaise;

/// A certificate revocation list, parsed once; lookups are O(1).
///
/// >>> import jitr_iot
/// >>> try:
/// ...     jitr_iot.Crl.from_bytes(b"not a CRL")
/// ... except jitr_iot.InvalidRequestException as e:
/// ...     print(e.code)
/// InvalidRequestException
#[pyclass(module = "jitr_iot", frozen)]
pub(crate) struct Crl {
    inner: Arc<CoreCrl>,
}

/// The `jitr_iot.CrlError` for a CRL problem.
fn crl_error(py: Python<'_>, p: &CrlProblem) -> PyErr {
    static CRL_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    match CRL_ERROR
        .import(py, "jitr_iot._errors", "CrlError")
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
        Err(wrong_type(obj, name, "bytes (PEM or DER) or a PEM str"))
    }
}

/// A serial number as big-endian bytes: `bytes`, a non-negative `int`, or hex text
/// as the core's [`parse_serial`] reads it (`"0102"`, `"0x102"`, `"01:02"`).
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
        return Err(wrong_type(obj, "serial", "bytes, an int or a hex str"));
    };
    parse_serial(&s.to_cow()?).map_err(|e| PyValueError::new_err(e.message().to_string()))
}

/// A CA certificate given as a PEM `str` or a `jitr_iot.Certificate`.
fn ca_arg(obj: &Bound<'_, PyAny>) -> PyResult<CoreCertificate> {
    if let Ok(c) = obj.cast::<Certificate>() {
        Ok(c.get().inner.clone())
    } else if let Ok(s) = obj.cast::<PyString>() {
        CoreCertificate::from_pem(&s.to_cow()?).or_raise()
    } else {
        Err(wrong_type(obj, "ca", "a PEM str or a jitr_iot.Certificate"))
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

    /// Checks that ``ca`` (a PEM ``str`` or a ``jitr_iot.Certificate``) issued this CRL: its
    /// subject is the CRL's issuer and its key verifies the CRL's signature. Raises
    /// ``jitr_iot.CrlError`` (code ``CRL_WRONG_ISSUER`` or ``CRL_BAD_SIGNATURE``) if not.
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
/// >>> import jitr_iot
/// >>> jitr_iot.PolicyTemplate.aws_sample().name
/// 'Policy_{{certificateId}}'
/// >>> try:
/// ...     jitr_iot.PolicyTemplate("P_{{subject.Nickname}}", "{}")
/// ... except jitr_iot.InvalidRequestException as e:
/// ...     print(e.message)
/// the policy template has an unknown placeholder {{subject.Nickname}}
#[pyclass(module = "jitr_iot", frozen)]
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
/// >>> import jitr_iot
/// >>> event = jitr_iot.parse_registration_event({
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

/// A host setting by the core's name for it; a `ValueError` naming the keyword if not.
fn setting<T: std::str::FromStr<Err = jitr_core::Error>>(value: &str, name: &str) -> PyResult<T> {
    value
        .parse()
        .map_err(|e: jitr_core::Error| PyValueError::new_err(format!("{name}: {}", e.message())))
}

/// The CA's CRL as the machine takes it: `None` (no CRL configured), a `jitr_iot.Crl`, or its
/// PEM/DER encoding (`bytes`, `bytearray`, `str`).
fn ca_crl_arg(py: Python<'_>, obj: Option<&Bound<'_, PyAny>>) -> PyResult<CaCrl> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(CaCrl::NotConfigured);
    };
    if let Ok(crl) = obj.cast::<Crl>() {
        return Ok(CaCrl::Loaded(crl.get().inner.clone()));
    }
    if !(obj.is_instance_of::<PyBytes>()
        || obj.is_instance_of::<PyByteArray>()
        || obj.is_instance_of::<PyString>())
    {
        return Err(wrong_type(
            obj,
            "crl",
            "a jitr_iot.Crl, its PEM/DER bytes or PEM str, or None",
        ));
    }
    let data = data_arg(obj, "crl")?;
    let crl = py.detach(|| CoreCrl::from_pem_or_der(&data)).or_raise()?;
    Ok(CaCrl::Loaded(Arc::new(crl)))
}

/// How deeply a call's output is read (deeper values are not needed by the handler).
const MAX_OUTPUT_DEPTH: usize = 8;

/// A call's output as JSON, for the core to read: JSON-like values convert, anything
/// else (`datetime`s, botocore's objects) becomes `null`, since the handler reads only
/// text fields of the output.
fn output_json(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_OUTPUT_DEPTH || obj.is_none() {
        return Ok(Value::Null);
    }
    Ok(if let Ok(s) = obj.cast::<PyString>() {
        Value::String(s.to_cow()?.into_owned())
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Value::Bool(b.is_true())
    } else if obj.is_instance_of::<PyInt>() {
        obj.extract::<i64>().map(Value::from).unwrap_or(Value::Null)
    } else if obj.is_instance_of::<PyFloat>() {
        serde_json::Number::from_f64(obj.extract()?).map_or(Value::Null, Value::Number)
    } else if let Ok(d) = obj.cast::<PyMapping>() {
        let mut map = serde_json::Map::new();
        for item in d.items()?.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            if let Ok(k) = k.cast::<PyString>() {
                map.insert(k.to_cow()?.into_owned(), output_json(&v, depth + 1)?);
            }
        }
        Value::Object(map)
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?
            .map(|item| output_json(&item?, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array)?
    } else {
        Value::Null
    })
}

/// A failed call's error: the AWS code and message of a jitr error or a botocore
/// `ClientError` (`response["Error"]`), else no code and the exception's text.
fn service_error(error: &Bound<'_, PyAny>) -> PyResult<ServiceError> {
    let field = |key: &str| -> Option<String> {
        let response = error.getattr("response").ok()?;
        let response = response.cast::<PyDict>().ok()?;
        let details = response.get_item("Error").ok()??;
        details
            .cast::<PyDict>()
            .ok()?
            .get_item(key)
            .ok()??
            .extract()
            .ok()
    };
    let message = match field("Message") {
        Some(m) => m,
        None => error.str()?.to_cow()?.into_owned(),
    };
    Ok(ServiceError::new(field("Code").as_deref(), &message))
}

/// One call the activation handler needs made: ``getattr(client,
/// call.operation)(**call.params)``.
#[pyclass(module = "jitr_iot", frozen)]
pub(crate) struct Call {
    inner: CoreCall,
}

#[pymethods]
impl Call {
    /// boto3's method name on the ``iot`` client, e.g. ``"describe_certificate"``.
    #[getter]
    fn operation(&self) -> &'static str {
        self.inner.operation().boto3_name()
    }

    /// AWS's operation name, e.g. ``"DescribeCertificate"``.
    #[getter]
    fn aws_operation(&self) -> &'static str {
        self.inner.operation().name()
    }

    /// The keyword arguments, as boto3 names them (a new ``dict`` each time).
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &Value::Object(self.inner.params()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Call({}, {})",
            repr(py, self.operation()),
            self.params(py)?.repr()?
        ))
    }
}

/// One run of the activation handler for one event: the core's state machine, which
/// names each call and reads each reply; the caller only makes the calls.
///
/// ``event`` is the registration event (``dict`` or JSON ``str``); ``crl`` the event's
/// CA's CRL (a ``jitr_iot.Crl``, its PEM/DER encoding, or ``None`` when no CRL is configured
/// for the CA); ``template`` defaults to ``PolicyTemplate.aws_sample()``; ``stale_crl``
/// is ``"REFUSE"`` (default) or ``"ACCEPT"``; ``require_crl`` is ``"IF_CONFIGURED"``
/// (default: a CA whose CRL is given fails closed when the CRL cannot be used; a CA
/// without one is activated as AWS's sample does), ``"ALWAYS"`` or ``"NEVER"``; ``now``
/// a timezone-aware ``datetime`` or epoch seconds (default: the clock).
///
/// >>> import jitr_iot
/// >>> from jitr_iot.handler import Activation
/// >>> run = Activation({
/// ...     "certificateId": "ab" * 32, "caCertificateId": "cd" * 32,
/// ...     "timestamp": 1623724243659, "certificateStatus": "PENDING_ACTIVATION",
/// ...     "awsAccountId": "123456789012",
/// ...     "certificateRegistrationTimestamp": "1623723165331"})
/// >>> call = run.next_call()
/// >>> call.operation, call.params == {"certificateId": "ab" * 32}
/// ('describe_certificate', True)
#[pyclass(module = "jitr_iot")]
pub(crate) struct Activation {
    inner: CoreActivation,
}

#[pymethods]
impl Activation {
    #[new]
    #[pyo3(signature = (
        event,
        *,
        crl = None,
        template = None,
        stale_crl = "REFUSE",
        require_crl = "IF_CONFIGURED",
        now = None,
    ))]
    fn new(
        py: Python<'_>,
        event: &Bound<'_, PyAny>,
        crl: Option<&Bound<'_, PyAny>>,
        template: Option<PyRef<'_, PolicyTemplate>>,
        stale_crl: &str,
        require_crl: &str,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let event = event_arg(event)?;
        let mut settings = Settings::new(match template {
            Some(t) => t.inner.clone(),
            None => CoreTemplate::aws_sample(),
        });
        settings.stale_crl = setting::<StaleCrlPolicy>(stale_crl, "stale_crl")?;
        settings.require_crl = setting::<CrlRequirement>(require_crl, "require_crl")?;
        let now = timestamp_arg(now, "now")?;
        let crl = ca_crl_arg(py, crl)?;
        Ok(Self {
            inner: CoreActivation::new(&event, crl, settings, now),
        })
    }

    /// The certificate the event is about (lowercase hex).
    #[getter]
    fn certificate_id(&self) -> String {
        self.inner.certificate_id().to_string()
    }

    /// The call to make next, or ``None`` once the run has ended.
    fn next_call(&self) -> Option<Call> {
        self.inner.next_call().map(|c| Call { inner: c.clone() })
    }

    /// The last call succeeded with this output (the response ``dict``, as boto3 or
    /// ``jitr_iot.Registry`` returns it).
    fn succeeded(&mut self, py: Python<'_>, output: &Bound<'_, PyAny>) -> PyResult<()> {
        let output = output_json(output, 0)?;
        py.detach(|| self.inner.receive_output(&output)).or_raise()
    }

    /// The last call raised ``error``: its AWS code is read from ``error.response`` (a
    /// jitr error or a botocore ``ClientError``); any other exception has none.
    fn failed(&mut self, error: &Bound<'_, PyAny>) -> PyResult<()> {
        let error = service_error(error)?;
        self.inner.receive(Reply::Error(error)).or_raise()
    }

    /// The boto3 name of the call whose error ended the run (re-raise that call's
    /// exception), or ``None``.
    #[getter]
    fn failed_operation(&self) -> Option<&'static str> {
        match self.inner.failure() {
            Some(Failure::Call { operation, .. }) => Some(operation.boto3_name()),
            _ => None,
        }
    }

    /// What was done so far, in order (each a ``dict`` as in the report).
    #[getter]
    fn actions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let actions = self.inner.actions().iter().map(|a| a.to_json()).collect();
        json_to_py(py, &Value::Array(actions))
    }

    /// The report, ``{"certificateId": ..., "actions": [...]}``, once the run has ended.
    /// If the handler refused to go on (a template the certificate cannot fill, a
    /// description that is not the event's certificate), raises that error; if a call
    /// failed, raises ``RuntimeError`` (a driver re-raises the call's own exception, see
    /// :attr:`failed_operation`); before the end, ``RuntimeError``.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.inner.outcome() {
            Some(Ok(report)) => json_to_py(py, &report.to_json()),
            Some(Err(failed)) => match failed.failure {
                Failure::Refused(e) => Err(e).or_raise(),
                _ => Err(PyRuntimeError::new_err(failed.to_string())),
            },
            None => Err(PyRuntimeError::new_err(
                "the activation has not ended: make the calls next_call() names first",
            )),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Activation(certificate_id='{}', next_call={:?})",
            self.inner.certificate_id(),
            self.inner.next_call().map(|c| c.operation().boto3_name())
        )
    }
}
