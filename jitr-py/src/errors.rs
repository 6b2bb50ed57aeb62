//! The one conversion from a core error to a Python exception.
//!
//! The classes live in `python/jitr_iot/exceptions.py` (`jitr_iot.JitrError`, a botocore
//! `ClientError` when botocore is installed, and one subclass per exception name of the
//! `iot` model); this module picks one by the core's code (through `jitr_iot._errors`) and
//! fills in the message, the HTTP status AWS answers with, the operation, and for
//! `ResourceAlreadyExistsException` the existing resource's ID and ARN.

use jitr_core::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `?` on a core result inside a binding function: `result.or_raise()?`.
pub(crate) trait OrRaise<T> {
    /// The value, or the core error as its Python exception.
    fn or_raise(self) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(to_pyerr)
    }
}

/// The Python exception for a core error, e.g. `jitr_iot.CertificateStateException`.
pub(crate) fn to_pyerr(e: Error) -> PyErr {
    Python::attach(|py| exception(py, &e, None).unwrap_or_else(|failure| failure))
}

/// The Python exception for a core error raised by the boto3 method `operation`: a
/// botocore `ClientError` whose `operation_name` is the AWS name (`DescribeCertificate`).
pub(crate) fn to_pyerr_in(e: Error, operation: &str) -> PyErr {
    Python::attach(|py| exception(py, &e, Some(operation)).unwrap_or_else(|failure| failure))
}

/// `jitr_iot.exceptions.ParamValidationError` (botocore's, and a `TypeError`) with
/// botocore's report line, e.g. `Invalid type for parameter certificateId, ...`.
pub(crate) fn param_error(py: Python<'_>, report: String) -> PyErr {
    static PARAM_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    PARAM_ERROR
        .import(py, "jitr_iot._errors", "_param_error")
        .and_then(|f| f.call1((report,)))
        .map_or_else(|failure| failure, PyErr::from_value)
}

fn exception(py: Python<'_>, e: &Error, operation: Option<&str>) -> PyResult<PyErr> {
    static FROM_CORE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let (resource_id, resource_arn) = match e {
        Error::ResourceAlreadyExists {
            resource_id,
            resource_arn,
            ..
        } => (Some(resource_id.as_str()), Some(resource_arn.as_str())),
        _ => (None, None),
    };
    let value = FROM_CORE
        .import(py, "jitr_iot._errors", "_from_core")?
        .call1((
            e.code(),
            e.message(),
            e.http_status(),
            resource_id,
            resource_arn,
            operation,
        ))?;
    Ok(PyErr::from_value(value))
}

/// `ResponseMetadata` as botocore puts it in every response and error.
pub(crate) fn response_metadata<'py>(
    py: Python<'py>,
    http_status: u16,
) -> PyResult<Bound<'py, PyAny>> {
    static METADATA: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    METADATA
        .import(py, "jitr_iot._errors", "_response_metadata")?
        .call1((http_status,))
}
