//! Conversions between Python values and what the core takes: JSON parameters and
//! responses, times, certificate chains and byte strings.

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{api, pem_blocks_der, Timestamp};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use serde_json::{Map, Number, Value};

use crate::errors::OrRaise;

/// How deeply parameters may nest (a self-referencing list would otherwise recurse until
/// the stack ends).
const MAX_DEPTH: usize = 32;

/// A boto3 parameter value as JSON: `None`, `bool`, `int`, `float`, `str`, and `dict` (with
/// `str` keys), `list` and `tuple` of those. Anything else is a `TypeError`; integers beyond
/// 64 bits, non-finite floats and nesting deeper than 32 are a `ValueError`.
pub(crate) fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json(obj, 0, None)
}

/// The Python type a boto3 parameter takes, from its shape in the `iot` service model
/// (botocore's validator checks the same: `str`, `bool`, `int`, `list`/`tuple`, `dict`).
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A string shape.
    Str,
    /// A boolean shape.
    Bool,
    /// An integer shape (a `bool` is refused, although Python calls it an `int`).
    Int,
    /// A list shape.
    List,
    /// A structure or map shape.
    Struct,
}

impl Kind {
    fn accepts(self, obj: &Bound<'_, PyAny>) -> bool {
        match self {
            Kind::Str => obj.is_instance_of::<PyString>(),
            Kind::Bool => obj.is_instance_of::<PyBool>(),
            Kind::Int => obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>(),
            Kind::List => obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>(),
            Kind::Struct => obj.is_instance_of::<PyDict>(),
        }
    }

    /// botocore's wording of the accepted types.
    fn valid_types(self) -> &'static str {
        match self {
            Kind::Str => "<class 'str'>",
            Kind::Bool => "<class 'bool'>",
            Kind::Int => "<class 'int'>",
            Kind::List => "<class 'list'>, <class 'tuple'>",
            Kind::Struct => "<class 'dict'>",
        }
    }
}

/// A boto3 parameter as JSON, checked as botocore checks it before sending a request:
/// `None` (at any depth) and a value that is not of the parameter's `kind` raise
/// `jitr_iot.exceptions.ParamValidationError` with botocore's wording; the rest is
/// [`py_to_json`]'s.
pub(crate) fn param_to_json(obj: &Bound<'_, PyAny>, name: &str, kind: Kind) -> PyResult<Value> {
    if !kind.accepts(obj) {
        return Err(invalid_type(obj, name, Some(kind)));
    }
    to_json(obj, 0, Some(name))
}

/// A parameter botocore has validated already (the operation's shape is botocore's, not
/// known here), as JSON: only `None` is refused, at any depth.
pub(crate) fn py_param_to_json(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Value> {
    to_json(obj, 0, Some(name))
}

/// botocore's "Invalid type for parameter" report line (the value shortened).
fn invalid_type(obj: &Bound<'_, PyAny>, name: &str, kind: Option<Kind>) -> PyErr {
    const MAX_SHOWN: usize = 100;
    let mut value = obj
        .str()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| "?".into());
    if let Some((cut, _)) = value.char_indices().nth(MAX_SHOWN) {
        value.truncate(cut);
        value.push_str("...");
    }
    let ty = obj
        .get_type()
        .str()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| type_name(obj));
    let valid = kind.map_or_else(String::new, |k| {
        format!(", valid types: {}", k.valid_types())
    });
    let report = format!("Invalid type for parameter {name}, value: {value}, type: {ty}{valid}");
    crate::errors::param_error(obj.py(), report)
}

/// `path` is the parameter's name (botocore's `tags[0].Key`) when `None` is refused.
fn to_json(obj: &Bound<'_, PyAny>, depth: usize, path: Option<&str>) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "parameters nest deeper than {MAX_DEPTH} levels"
        )));
    }
    if obj.is_none() {
        match path {
            Some(name) => Err(invalid_type(obj, name, None)),
            None => Ok(Value::Null),
        }
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            Ok(Value::from(i))
        } else if let Ok(u) = obj.extract::<u64>() {
            Ok(Value::from(u))
        } else {
            Err(PyValueError::new_err(format!(
                "the integer {obj} does not fit in 64 bits"
            )))
        }
    } else if obj.is_instance_of::<PyFloat>() {
        let f: f64 = obj.extract()?;
        Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{f} is not a finite number")))
    } else if obj.is_instance_of::<PyString>() {
        Ok(Value::String(obj.extract()?))
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            if !k.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(format!(
                    "parameter keys must be str, got {}",
                    type_name(&k)
                )));
            }
            let key: String = k.extract()?;
            let inner = path.map(|p| format!("{p}.{key}"));
            map.insert(key, to_json(&v, depth + 1, inner.as_deref())?);
        }
        Ok(Value::Object(map))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?
            .enumerate()
            .map(|(i, item)| {
                let inner = path.map(|p| format!("{p}[{i}]"));
                to_json(&item?, depth + 1, inner.as_deref())
            })
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array)
    } else if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        Err(PyTypeError::new_err(
            "bytes where str was expected: decode it first (PEM is text)",
        ))
    } else {
        Err(PyTypeError::new_err(format!(
            "{} is not a parameter type (None, bool, int, float, str, dict, list)",
            type_name(obj)
        )))
    }
}

/// A response as Python objects: JSON objects become `dict`s and the values under
/// [`api::DATE_KEYS`] timezone-aware UTC `datetime`s, as boto3 returns them.
pub(crate) fn json_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    from_json(py, v, false)
}

fn from_json<'py>(py: Python<'py>, v: &Value, is_date: bool) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) if is_date => {
            let secs = n.as_f64().unwrap_or(f64::NAN);
            // The core writes epoch milliseconds / 1000; this recovers them exactly.
            let ms = (secs * 1000.0).round();
            if !ms.is_finite() {
                return Err(PyValueError::new_err(format!("{n} is not a date")));
            }
            datetime(py, Timestamp::from_unix_millis(ms as i64))?.into_any()
        }
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => PyList::new(
            py,
            items
                .iter()
                .map(|x| from_json(py, x, false))
                .collect::<PyResult<Vec<_>>>()?,
        )?
        .into_any(),
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, x) in map {
                dict.set_item(k, from_json(py, x, api::DATE_KEYS.contains(&k.as_str()))?)?;
            }
            dict.into_any()
        }
    })
}

fn epoch(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static EPOCH: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    EPOCH
        .get_or_try_init(py, || {
            let datetime = py.import("datetime")?;
            let utc = datetime.getattr("timezone")?.getattr("utc")?;
            datetime
                .getattr("datetime")?
                .call1((1970, 1, 1, 0, 0, 0, 0, utc))
                .map(Bound::unbind)
        })
        .map(|e| e.bind(py))
}

fn timedelta<'py>(py: Python<'py>, ms: i64) -> PyResult<Bound<'py, PyAny>> {
    static TIMEDELTA: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    // timedelta(days, seconds, microseconds, milliseconds)
    TIMEDELTA
        .import(py, "datetime", "timedelta")?
        .call1((0, 0, 0, ms))
}

/// A timestamp as a timezone-aware UTC `datetime` (exact: integer arithmetic).
pub(crate) fn datetime(py: Python<'_>, t: Timestamp) -> PyResult<Bound<'_, PyAny>> {
    epoch(py)?.add(timedelta(py, t.unix_millis())?)
}

/// `now`-like arguments: a timezone-aware `datetime`, or epoch seconds as `int` or
/// `float`; `None` reads the clock. A naive `datetime` is a `ValueError`, since its meaning
/// depends on the machine's time zone.
pub(crate) fn timestamp_arg(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Timestamp> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Timestamp::now());
    };
    let py = obj.py();
    if obj.is_instance_of::<PyDateTime>() {
        if obj.call_method0("utcoffset")?.is_none() {
            return Err(PyValueError::new_err(format!(
                "{name} is a naive datetime; pass a timezone-aware one, e.g. datetime.now(timezone.utc)"
            )));
        }
        let ms = obj.sub(epoch(py)?)?.floor_div(timedelta(py, 1)?)?;
        return Ok(Timestamp::from_unix_millis(ms.extract()?));
    }
    let out_of_range = || PyValueError::new_err(format!("{name} is out of range: {obj}"));
    if obj.is_instance_of::<PyBool>() {
        Err(PyTypeError::new_err(format!(
            "{name} must be a datetime or epoch seconds, not bool"
        )))
    } else if obj.is_instance_of::<PyInt>() {
        let secs: i64 = obj.extract().map_err(|_| out_of_range())?;
        secs.checked_mul(1000)
            .map(Timestamp::from_unix_millis)
            .ok_or_else(out_of_range)
    } else if obj.is_instance_of::<PyFloat>() {
        let ms = (obj.extract::<f64>()? * 1000.0).round();
        // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
        if ms.is_finite() && ms >= i64::MIN as f64 && ms < i64::MAX as f64 {
            Ok(Timestamp::from_unix_millis(ms as i64))
        } else {
            Err(out_of_range())
        }
    } else {
        Err(wrong_type(
            obj,
            name,
            "a timezone-aware datetime, epoch seconds (int or float) or None",
        ))
    }
}

/// An `int` argument that must fit `T`: other types (`bool` too) are a `TypeError`, values
/// out of `T`'s range a `ValueError`. For `#[pyo3(from_py_with = ...)]`.
pub(crate) fn int_arg<T: TryFrom<i64>>(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<T> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(wrong_type(obj, name, "an int"));
    }
    obj.extract::<i64>()
        .ok()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| PyValueError::new_err(format!("{name} is out of range: {obj}")))
}

/// The bytes of a `bytes` or `bytearray`; `str` and anything else is a `TypeError`.
pub(crate) fn bytes_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        Ok(b.to_vec())
    } else {
        Err(wrong_type(obj, name, "bytes (DER)"))
    }
}

/// A certificate chain, leaf first, as `connect` takes it: a PEM `str` (one or more
/// certificates), DER `bytes` (one certificate), or a `list`/`tuple` of those. PEM armour
/// is removed here, as a TLS server would see the chain; every check on the certificates
/// is the decision's. `bytes` are borrowed, not copied (they are immutable and held here).
pub(crate) struct Chain<'py> {
    items: Vec<ChainItem<'py>>,
}

enum ChainItem<'py> {
    Borrowed(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Chain<'_> {
    /// The certificates, leaf first.
    pub(crate) fn ders(&self) -> Vec<CertificateDer<'_>> {
        self.items
            .iter()
            .map(|item| match item {
                ChainItem::Borrowed(b) => CertificateDer::from(b.as_bytes()),
                ChainItem::Owned(v) => CertificateDer::from(v.as_slice()),
            })
            .collect()
    }
}

/// Reads a chain argument (see [`Chain`]).
pub(crate) fn chain_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Chain<'py>> {
    let mut items = Vec::new();
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        for item in obj.try_iter()? {
            push_certificates(&mut items, item?)?;
        }
    } else {
        push_certificates(&mut items, obj.clone())?;
    }
    Ok(Chain { items })
}

fn push_certificates<'py>(
    items: &mut Vec<ChainItem<'py>>,
    item: Bound<'py, PyAny>,
) -> PyResult<()> {
    if item.is_instance_of::<PyString>() {
        let pem: String = item.extract()?;
        items.extend(
            pem_blocks_der(&pem)
                .or_raise()?
                .into_iter()
                .map(ChainItem::Owned),
        );
        Ok(())
    } else if let Ok(b) = item.cast::<PyBytes>() {
        items.push(ChainItem::Borrowed(b.clone()));
        Ok(())
    } else if item.is_instance_of::<PyByteArray>() {
        items.push(ChainItem::Owned(bytes_arg(&item, "a DER certificate")?));
        Ok(())
    } else {
        Err(PyTypeError::new_err(format!(
            "certificate_chain must be a PEM str, DER bytes, or a list of them; got {}",
            type_name(&item)
        )))
    }
}

/// Python's `repr()` of a string.
pub(crate) fn repr(py: Python<'_>, s: &str) -> String {
    PyString::new(py, s)
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| format!("{s:?}"))
}

/// Python's `repr()` of an optional string.
pub(crate) fn repr_opt(py: Python<'_>, s: Option<&str>) -> String {
    s.map_or_else(|| "None".to_string(), |s| repr(py, s))
}

/// A `str` argument; anything else is a `TypeError` that names the parameter
/// (`common_name must be a str, not int`) where PyO3's would only name the types.
pub(crate) fn str_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    if obj.is_instance_of::<PyString>() {
        obj.extract()
    } else {
        Err(wrong_type(obj, name, "a str"))
    }
}

/// An optional `str` argument (`None` is `None`), as [`str_arg`].
pub(crate) fn opt_str_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<String>> {
    if obj.is_none() {
        Ok(None)
    } else {
        str_arg(obj, name).map(Some)
    }
}

/// A `bool` argument; anything else (`0`, `"yes"`) is a `TypeError` naming the parameter.
pub(crate) fn bool_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    if obj.is_instance_of::<PyBool>() {
        obj.is_truthy()
    } else {
        Err(wrong_type(obj, name, "a bool"))
    }
}

/// `#[pyo3(from_py_with = ...)]` extractors that name their parameter in the error.
macro_rules! named_args {
    ($($f:ident -> $ty:ty = $conv:ident($name:literal);)*) => {
        $(
            #[doc = concat!("The argument `", $name, "` (see [`", stringify!($conv), "`]).")]
            pub(crate) fn $f(obj: &Bound<'_, PyAny>) -> PyResult<$ty> {
                $conv(obj, $name)
            }
        )*
    };
}

named_args! {
    common_name -> String = str_arg("common_name");
    registration_code -> String = str_arg("registration_code");
    opt_registration_code -> Option<String> = opt_str_arg("registration_code");
    opt_str_store -> Option<String> = opt_str_arg("store");
    certificate_pem -> String = str_arg("certificate_pem");
    private_key_pem -> String = str_arg("private_key_pem");
    pem -> String = str_arg("pem");
    state -> String = str_arg("state");
    organization -> Option<String> = opt_str_arg("organization");
    key_type -> Option<String> = opt_str_arg("key_type");
    server_name -> Option<String> = opt_str_arg("server_name");
    client_auth -> bool = bool_arg("client_auth");
}

/// The `TypeError` for an argument that is not `expected` (`"a str"`), naming the
/// parameter and the type given: `common_name must be a str, not int`.
pub(crate) fn wrong_type(obj: &Bound<'_, PyAny>, name: &str, expected: &str) -> PyErr {
    PyTypeError::new_err(format!("{name} must be {expected}, not {}", type_name(obj)))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an object".into())
}
