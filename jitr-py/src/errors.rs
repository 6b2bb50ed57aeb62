//! The one conversion from a core error to a Python exception.
//!
//! The classes live in `python/jitr_iot/_errors.py` (`jitr_iot.JitrError` and one subclass per
//! code in [`jitr_core::Error::CODES`]); this module picks one by the core's code and
//! fills in the message, the HTTP status AWS answers with, and for
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
    Python::attach(|py| exception(py, &e).unwrap_or_else(|failure| failure))
}

fn exception(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    static FROM_CORE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let (resource_id, resource_arn) = match e {
        Error::ResourceAlreadyExists {
            resource_id,
            resource_arn,
            ..
        } => (Some(resource_id.as_str()), Some(resource_arn.as_str())),
        _ => (None, None),
    };
    let value = FROM_CORE.import(py, "jitr_iot._errors", "_from_core")?.call1((
        e.code(),
        e.message(),
        e.http_status(),
        resource_id,
        resource_arn,
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
