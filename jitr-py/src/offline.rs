//! The core's offline JSON entry points: `jitr_iot.simulate_policy`
//! ([`jitr_core::policy::simulate`]) and `jitr_iot.preview_provisioning`
//! ([`jitr_core::provisioning::preview`]). A mapping in, a `dict` out; the core's errors
//! as the package's exceptions.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyMapping};
use serde_json::Value;

use crate::convert::py_to_json;
use crate::errors::OrRaise;

/// `input` (a `dict` or another mapping) as JSON; `what` names the function in the
/// message of a `TypeError`.
fn mapping_arg(input: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if input.is_instance_of::<PyDict>() {
        return py_to_json(input);
    }
    if let Ok(mapping) = input.cast::<PyMapping>() {
        let dict = PyDict::new(input.py());
        dict.update(mapping)?;
        return py_to_json(dict.as_any());
    }
    Err(PyTypeError::new_err(format!(
        "{what} takes a dict (or another mapping), not {}",
        input.get_type().name()?
    )))
}

/// The core's JSON output as plain Python values (`dict`, `list`, `str`, `int`, `bool`,
/// `None`): no key is read as a date.
fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOADS
        .import(py, "json", "loads")?
        .call1((value.to_string(),))
}

/// `jitr_iot.<name>(input)` for a core entry point of JSON in and out: the mapping
/// `input` as JSON (a `TypeError` naming the function for anything else), the entry point
/// run without the GIL, its output as plain Python values and its errors as the package's
/// exceptions.
macro_rules! offline {
    ($(#[$doc:meta])* $name:ident => $entry:path) => {
        $(#[$doc])*
        #[pyfunction]
        pub(crate) fn $name<'py>(
            py: Python<'py>,
            input: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyAny>> {
            let input = mapping_arg(input, stringify!($name))?;
            let out = py.detach(|| $entry(&input)).or_raise()?;
            to_py(py, &out)
        }
    };
}

offline! {
    /// Decides TestAuthorization-style requests against policies, offline: AWS IoT's policy
    /// evaluation (default deny, explicit deny first, policy variables, conditions) with no
    /// registry. The GIL is released while it runs.
    ///
    /// ``input`` is a mapping with ``policies`` (a list of ``{"policyName", "policyDocument"}``,
    /// the document as a JSON ``str`` or a ``dict``), ``context`` (``region``, ``account`` and
    /// ``now`` in epoch milliseconds, required; ``clientId``, ``sourceIp``, ``thing``,
    /// ``certificatePem`` or ``certificate``, ... for the policy variables) and ``authInfos``
    /// (1 to 10 ``{"actionType", "resources"}``: ``CONNECT``, ``PUBLISH``, ``SUBSCRIBE``,
    /// ``RECEIVE``, ``RETAIN_PUBLISH`` or an action name, on full resource ARNs).
    ///
    /// Returns TestAuthorization's ``{"authResults": [...]}``: per ``authInfo`` its
    /// ``authDecision`` (``ALLOWED``, ``EXPLICIT_DENY``, ``IMPLICIT_DENY``), the ``allowed``
    /// and ``denied`` policies, ``missingContextValues``, and jitr's
    /// ``decidingStatements`` (``{"policyName", "index", "sid"}`` of the statements that
    /// decided).
    ///
    /// A malformed policy document raises ``MalformedPolicyException``; any other bad input
    /// ``InvalidRequestException`` (``CertificateValidationException`` for an unreadable
    /// ``certificatePem``); a value that is not JSON-like ``TypeError`` or ``ValueError``.
    ///
    /// >>> import jitr_iot
    /// >>> policy = {"Version": "2012-10-17", "Statement": [
    /// ...     {"Effect": "Allow", "Action": "iot:Publish",
    /// ...      "Resource": "arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"}]}
    /// >>> out = jitr_iot.simulate_policy({
    /// ...     "policies": [{"policyName": "telemetry", "policyDocument": policy}],
    /// ...     "context": {"region": "us-east-1", "account": "123456789012",
    /// ...                 "now": 1780272000000, "clientId": "sensor-1"},
    /// ...     "authInfos": [
    /// ...         {"actionType": "PUBLISH",
    /// ...          "resources": ["arn:aws:iot:us-east-1:123456789012:topic/sensor-1/temp"]},
    /// ...         {"actionType": "PUBLISH",
    /// ...          "resources": ["arn:aws:iot:us-east-1:123456789012:topic/sensor-2/temp"]}]})
    /// >>> [r["authDecision"] for r in out["authResults"]]
    /// ['ALLOWED', 'IMPLICIT_DENY']
    /// >>> out["authResults"][0]["decidingStatements"]
    /// [{'index': 0, 'policyName': 'telemetry', 'sid': None}]
    simulate_policy => jitr_core::policy::simulate
}

offline! {
    /// What just-in-time provisioning would do with a template for a device certificate,
    /// offline: the thing, the policies and the certificate's status a CA's
    /// ``registrationConfig`` template would create, or exactly why it would not (for a
    /// parameter the certificate lacks: which parameter, and which subject field). The GIL is
    /// released while it runs.
    ///
    /// ``input`` is a mapping with ``templateBody`` (the template, a JSON ``str``; required),
    /// ``certificatePem`` (the device certificate: the first of the PEM text) and/or
    /// ``parameters`` (``str`` values, added to and overriding the certificate's), and
    /// optionally ``account`` and ``region`` (together) and ``partition`` for the pseudo
    /// parameters.
    ///
    /// Returns ``{"provisioned": True, "certificateStatus", "parameters", "thing",
    /// "certificate", "policies"}`` when the template runs, else ``{"provisioned": False,
    /// "certificateStatus", "failure": {"stage", "code", "message", "path", "parameter",
    /// "certificateField", "error"}}``, where ``stage`` is ``TEMPLATE`` for a template AWS
    /// refuses to store and ``PROVISIONING`` for one that fails for this device (the
    /// certificate stays ``PENDING_ACTIVATION``).
    ///
    /// Input that is not a preview (an unknown key, no template, neither certificate nor
    /// parameters) raises ``InvalidRequestException``; an unreadable certificate
    /// ``CertificateValidationException``.
    ///
    /// >>> import json, jitr_iot
    /// >>> template = json.dumps({
    /// ...     "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"},
    /// ...                    "AWS::IoT::Certificate::Country": {"Type": "String"},
    /// ...                    "AWS::IoT::Certificate::Id": {"Type": "String"}},
    /// ...     "Resources": {
    /// ...         "thing": {"Type": "AWS::IoT::Thing", "Properties": {
    /// ...             "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
    /// ...             "ThingGroups": [{"Ref": "AWS::IoT::Certificate::Country"}]}},
    /// ...         "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
    /// ...             "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},
    /// ...             "Status": "ACTIVE"}}}})
    /// >>> device = jitr_iot.issue_certificate(jitr_iot.generate_ca("Fleet CA"), "sensor-1")
    /// >>> out = jitr_iot.preview_provisioning(
    /// ...     {"templateBody": template, "certificatePem": device.certificate_pem})
    /// >>> out["provisioned"], out["certificateStatus"], out["failure"]["parameter"]
    /// (False, 'PENDING_ACTIVATION', 'AWS::IoT::Certificate::Country')
    /// >>> out["failure"]["certificateField"]
    /// 'subject C (countryName, OID 2.5.4.6)'
    /// >>> out = jitr_iot.preview_provisioning({
    /// ...     "templateBody": template, "certificatePem": device.certificate_pem,
    /// ...     "parameters": {"AWS::IoT::Certificate::Country": "DE"}})
    /// >>> out["thing"]["thingName"], out["thing"]["thingGroups"], out["certificateStatus"]
    /// ('sensor-1', ['DE'], 'ACTIVE')
    preview_provisioning => jitr_core::provisioning::preview
}
