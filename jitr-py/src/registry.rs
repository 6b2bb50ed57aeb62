//! `jitr.Registry` (boto3's `iot` client methods over [`jitr_core::api::call`]) and
//! `jitr.Decision`.
//!
//! Every boto3 method takes boto3's keyword arguments, builds the parameter object,
//! calls the core with the GIL released and converts the response; all rules are the
//! core's. Each also takes `now` (keyword-only; a jitr extension, not in boto3) for
//! offline tests at fixed times.

// The keyword arguments are boto3's camelCase names.
#![allow(non_snake_case)]

use jitr_core::{
    api, CertificateId, Decision as CoreDecision, RegistryConfig, RegistryState, Scope,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use serde_json::{Map, Value};

use crate::convert::{chain_arg, int_arg, json_to_py, py_to_json, repr, repr_opt, timestamp_arg};
use crate::errors::{response_metadata, OrRaise};

/// A value that may become a boto3 parameter (absent when `None`).
trait ToParam {
    fn to_param(self) -> PyResult<Option<Value>>;
}

impl ToParam for String {
    fn to_param(self) -> PyResult<Option<Value>> {
        Ok(Some(Value::String(self)))
    }
}

impl ToParam for Option<String> {
    fn to_param(self) -> PyResult<Option<Value>> {
        Ok(self.map(Value::String))
    }
}

impl ToParam for Option<bool> {
    fn to_param(self) -> PyResult<Option<Value>> {
        Ok(self.map(Value::Bool))
    }
}

impl ToParam for Option<Bound<'_, PyAny>> {
    fn to_param(self) -> PyResult<Option<Value>> {
        self.map(|o| py_to_json(&o)).transpose()
    }
}

/// The parameter object from the method's arguments, named as they are.
macro_rules! params {
    ($($name:ident),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut map = Map::new();
        $(
            if let Some(v) = ToParam::to_param($name)? {
                map.insert(stringify!($name).to_owned(), v);
            }
        )*
        Value::Object(map)
    }};
}

/// The CA certificates, device certificates and policies of one AWS account in one
/// region, with boto3's ``iot`` client methods and the JITR decision (``connect``).
///
/// Safe to share between threads; the GIL is released while the core works.
///
/// >>> import jitr
/// >>> registry = jitr.Registry(account_id="123456789012", region="eu-west-1")
/// >>> len(registry.get_registration_code()["registrationCode"])
/// 64
/// >>> registry.list_certificates()["certificates"]
/// []
#[pyclass(module = "jitr", frozen)]
pub(crate) struct Registry {
    pub(crate) inner: jitr_core::Registry,
}

fn count(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    int_arg(obj, "max_cas_per_subject")
}

fn config(
    require_sni_for_leaf_only: bool,
    check_verification_certificate_validity: bool,
    max_cas_per_subject: usize,
) -> RegistryConfig {
    let mut config = RegistryConfig::default();
    config.require_sni_for_leaf_only = require_sni_for_leaf_only;
    config.check_verification_certificate_validity = check_verification_certificate_validity;
    config.max_cas_per_subject = max_cas_per_subject;
    config
}

impl Registry {
    fn call<'py>(
        &self,
        py: Python<'py>,
        operation: &str,
        params: Value,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let now = timestamp_arg(now, "now")?;
        let out = py
            .detach(|| api::call(&self.inner, operation, &params, now))
            .or_raise()?;
        let response = json_to_py(py, &out)?;
        response.set_item("ResponseMetadata", response_metadata(py, 200)?)?;
        Ok(response)
    }
}

#[pymethods]
impl Registry {
    /// A new, empty registry. ``registration_code`` fixes the registration code (64 hex
    /// characters) instead of minting one; the other keywords are the choices jitr makes
    /// where AWS is silent (see the core's ``RegistryConfig``).
    #[new]
    #[pyo3(signature = (
        account_id = "123456789012",
        region = "us-east-1",
        partition = "aws",
        *,
        registration_code = None,
        require_sni_for_leaf_only = true,
        check_verification_certificate_validity = true,
        max_cas_per_subject = 10,
    ))]
    fn new(
        account_id: &str,
        region: &str,
        partition: &str,
        registration_code: Option<&str>,
        require_sni_for_leaf_only: bool,
        check_verification_certificate_validity: bool,
        #[pyo3(from_py_with = count)] max_cas_per_subject: usize,
    ) -> PyResult<Self> {
        let scope = Scope::with_partition(partition, account_id, region).or_raise()?;
        let mut inner = jitr_core::Registry::with_config(
            scope,
            config(
                require_sni_for_leaf_only,
                check_verification_certificate_validity,
                max_cas_per_subject,
            ),
        );
        if let Some(code) = registration_code {
            inner = inner.with_registration_code(code).or_raise()?;
        }
        Ok(Self { inner })
    }

    /// A registry loaded from :meth:`export_state`'s JSON. Everything is checked; a bad
    /// state raises ``InvalidRequestException`` (or the certificate's error).
    #[classmethod]
    #[pyo3(signature = (
        state,
        *,
        require_sni_for_leaf_only = true,
        check_verification_certificate_validity = true,
        max_cas_per_subject = 10,
    ))]
    fn from_state(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        state: &str,
        require_sni_for_leaf_only: bool,
        check_verification_certificate_validity: bool,
        #[pyo3(from_py_with = count)] max_cas_per_subject: usize,
    ) -> PyResult<Self> {
        let config = config(
            require_sni_for_leaf_only,
            check_verification_certificate_validity,
            max_cas_per_subject,
        );
        let inner = py
            .detach(|| {
                let state = RegistryState::from_json(state)?;
                jitr_core::Registry::from_state(&state, config)
            })
            .or_raise()?;
        Ok(Self { inner })
    }

    /// The whole state as JSON (sorted, stable), for :meth:`from_state`.
    fn export_state(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.export_state().map(|s| s.to_json()))
            .or_raise()
    }

    /// The account ID (12 digits).
    #[getter]
    fn account_id(&self) -> &str {
        self.inner.scope().account()
    }

    /// The region, e.g. ``us-east-1``.
    #[getter]
    fn region(&self) -> &str {
        self.inner.scope().region()
    }

    /// The partition, e.g. ``aws``.
    #[getter]
    fn partition(&self) -> &str {
        self.inner.scope().partition()
    }

    /// The exception classes, as boto3's ``client.exceptions``.
    #[getter]
    fn exceptions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        static ERRORS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        ERRORS
            .get_or_try_init(py, || {
                py.import("jitr._errors").map(|m| m.into_any().unbind())
            })
            .map(|m| m.bind(py).clone())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let s = self.inner.scope();
        format!(
            "Registry(account_id={}, region={}, partition={})",
            repr(py, s.account()),
            repr(py, s.region()),
            repr(py, s.partition())
        )
    }

    /// GetRegistrationCode.
    #[pyo3(signature = (*, now = None))]
    fn get_registration_code<'py>(
        &self,
        py: Python<'py>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "get_registration_code", params!(), now)
    }

    /// DeleteRegistrationCode.
    #[pyo3(signature = (*, now = None))]
    fn delete_registration_code<'py>(
        &self,
        py: Python<'py>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "delete_registration_code", params!(), now)
    }

    /// RegisterCACertificate.
    #[pyo3(signature = (
        *,
        caCertificate,
        verificationCertificate = None,
        setAsActive = None,
        allowAutoRegistration = None,
        registrationConfig = None,
        tags = None,
        certificateMode = None,
        now = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn register_ca_certificate<'py>(
        &self,
        py: Python<'py>,
        caCertificate: String,
        verificationCertificate: Option<String>,
        setAsActive: Option<bool>,
        allowAutoRegistration: Option<bool>,
        registrationConfig: Option<Bound<'py, PyAny>>,
        tags: Option<Bound<'py, PyAny>>,
        certificateMode: Option<String>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(
            caCertificate,
            verificationCertificate,
            setAsActive,
            allowAutoRegistration,
            registrationConfig,
            tags,
            certificateMode,
        );
        self.call(py, "register_ca_certificate", params, now)
    }

    /// UpdateCACertificate.
    #[pyo3(signature = (
        *,
        certificateId,
        newStatus = None,
        newAutoRegistrationStatus = None,
        registrationConfig = None,
        removeAutoRegistration = None,
        now = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn update_ca_certificate<'py>(
        &self,
        py: Python<'py>,
        certificateId: String,
        newStatus: Option<String>,
        newAutoRegistrationStatus: Option<String>,
        registrationConfig: Option<Bound<'py, PyAny>>,
        removeAutoRegistration: Option<bool>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(
            certificateId,
            newStatus,
            newAutoRegistrationStatus,
            registrationConfig,
            removeAutoRegistration,
        );
        self.call(py, "update_ca_certificate", params, now)
    }

    /// DescribeCACertificate.
    #[pyo3(signature = (*, certificateId, now = None))]
    fn describe_ca_certificate<'py>(
        &self,
        py: Python<'py>,
        certificateId: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "describe_ca_certificate", params!(certificateId), now)
    }

    /// ListCACertificates.
    #[pyo3(signature = (*, pageSize = None, marker = None, ascendingOrder = None, now = None))]
    fn list_ca_certificates<'py>(
        &self,
        py: Python<'py>,
        pageSize: Option<Bound<'py, PyAny>>,
        marker: Option<String>,
        ascendingOrder: Option<bool>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(pageSize, marker, ascendingOrder);
        self.call(py, "list_ca_certificates", params, now)
    }

    /// DeleteCACertificate.
    #[pyo3(signature = (*, certificateId, now = None))]
    fn delete_ca_certificate<'py>(
        &self,
        py: Python<'py>,
        certificateId: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "delete_ca_certificate", params!(certificateId), now)
    }

    /// RegisterCertificate.
    #[pyo3(signature = (
        *,
        certificatePem,
        caCertificatePem = None,
        setAsActive = None,
        status = None,
        now = None,
    ))]
    fn register_certificate<'py>(
        &self,
        py: Python<'py>,
        certificatePem: String,
        caCertificatePem: Option<String>,
        setAsActive: Option<bool>,
        status: Option<String>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(certificatePem, caCertificatePem, setAsActive, status);
        self.call(py, "register_certificate", params, now)
    }

    /// RegisterCertificateWithoutCA.
    #[pyo3(signature = (*, certificatePem, status = None, now = None))]
    fn register_certificate_without_ca<'py>(
        &self,
        py: Python<'py>,
        certificatePem: String,
        status: Option<String>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(certificatePem, status);
        self.call(py, "register_certificate_without_ca", params, now)
    }

    /// UpdateCertificate.
    #[pyo3(signature = (*, certificateId, newStatus, now = None))]
    fn update_certificate<'py>(
        &self,
        py: Python<'py>,
        certificateId: String,
        newStatus: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(certificateId, newStatus);
        self.call(py, "update_certificate", params, now)
    }

    /// DescribeCertificate.
    #[pyo3(signature = (*, certificateId, now = None))]
    fn describe_certificate<'py>(
        &self,
        py: Python<'py>,
        certificateId: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "describe_certificate", params!(certificateId), now)
    }

    /// ListCertificates.
    #[pyo3(signature = (*, pageSize = None, marker = None, ascendingOrder = None, now = None))]
    fn list_certificates<'py>(
        &self,
        py: Python<'py>,
        pageSize: Option<Bound<'py, PyAny>>,
        marker: Option<String>,
        ascendingOrder: Option<bool>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(pageSize, marker, ascendingOrder);
        self.call(py, "list_certificates", params, now)
    }

    /// ListCertificatesByCA.
    #[pyo3(signature = (
        *,
        caCertificateId,
        pageSize = None,
        marker = None,
        ascendingOrder = None,
        now = None,
    ))]
    fn list_certificates_by_ca<'py>(
        &self,
        py: Python<'py>,
        caCertificateId: String,
        pageSize: Option<Bound<'py, PyAny>>,
        marker: Option<String>,
        ascendingOrder: Option<bool>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(caCertificateId, pageSize, marker, ascendingOrder);
        self.call(py, "list_certificates_by_ca", params, now)
    }

    /// DeleteCertificate.
    #[pyo3(signature = (*, certificateId, forceDelete = None, now = None))]
    fn delete_certificate<'py>(
        &self,
        py: Python<'py>,
        certificateId: String,
        forceDelete: Option<bool>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(certificateId, forceDelete);
        self.call(py, "delete_certificate", params, now)
    }

    /// CreatePolicy.
    #[pyo3(signature = (*, policyName, policyDocument, tags = None, now = None))]
    fn create_policy<'py>(
        &self,
        py: Python<'py>,
        policyName: String,
        policyDocument: String,
        tags: Option<Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(policyName, policyDocument, tags);
        self.call(py, "create_policy", params, now)
    }

    /// GetPolicy.
    #[pyo3(signature = (*, policyName, now = None))]
    fn get_policy<'py>(
        &self,
        py: Python<'py>,
        policyName: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "get_policy", params!(policyName), now)
    }

    /// DeletePolicy.
    #[pyo3(signature = (*, policyName, now = None))]
    fn delete_policy<'py>(
        &self,
        py: Python<'py>,
        policyName: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "delete_policy", params!(policyName), now)
    }

    /// AttachPolicy.
    #[pyo3(signature = (*, policyName, target, now = None))]
    fn attach_policy<'py>(
        &self,
        py: Python<'py>,
        policyName: String,
        target: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "attach_policy", params!(policyName, target), now)
    }

    /// DetachPolicy.
    #[pyo3(signature = (*, policyName, target, now = None))]
    fn detach_policy<'py>(
        &self,
        py: Python<'py>,
        policyName: String,
        target: String,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, "detach_policy", params!(policyName, target), now)
    }

    /// ListAttachedPolicies.
    #[pyo3(signature = (
        *,
        target,
        recursive = None,
        marker = None,
        pageSize = None,
        now = None,
    ))]
    fn list_attached_policies<'py>(
        &self,
        py: Python<'py>,
        target: String,
        recursive: Option<bool>,
        marker: Option<String>,
        pageSize: Option<Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = params!(target, recursive, marker, pageSize);
        self.call(py, "list_attached_policies", params, now)
    }

    /// The JITR decision for one device connection.
    ///
    /// ``certificate_chain`` is what the device presented, leaf first: a PEM string (one
    /// or more certificates), DER bytes, or a list of PEM strings / DER bytes.
    /// ``server_name`` is the SNI host name; ``now`` a timezone-aware ``datetime`` or epoch
    /// seconds (default: the clock). An unknown certificate signed by a registered,
    /// ``ACTIVE`` CA with auto-registration enabled is registered ``PENDING_ACTIVATION``
    /// and its registration event returned; the connection is refused until it is
    /// activated. The GIL is released while the decision runs.
    #[pyo3(signature = (certificate_chain, server_name = None, now = None))]
    fn connect(
        &self,
        py: Python<'_>,
        certificate_chain: &Bound<'_, PyAny>,
        server_name: Option<&str>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let chain = chain_arg(certificate_chain)?;
        let chain = chain.ders();
        let now = timestamp_arg(now, "now")?;
        let inner = py.detach(|| self.inner.decide(&chain, server_name, now));
        Ok(Decision { inner })
    }
}

/// What JITR decided about one connection (returned by ``Registry.connect``).
#[pyclass(module = "jitr", frozen)]
pub(crate) struct Decision {
    inner: CoreDecision,
}

fn id_str(id: Option<CertificateId>) -> Option<String> {
    id.map(|i| i.to_string())
}

#[pymethods]
impl Decision {
    /// Whether the connection may proceed.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.is_allowed()
    }

    /// The refusal's machine code (e.g. ``"UNKNOWN_ISSUER"``), ``None`` when allowed.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.inner.reason_code()
    }

    /// A sentence for people: why the connection was refused, or that it was allowed.
    #[getter]
    fn message(&self) -> String {
        self.inner.message()
    }

    /// The leaf's certificate ID (``None`` only for an empty chain).
    #[getter]
    fn certificate_id(&self) -> Option<String> {
        id_str(self.inner.certificate_id)
    }

    /// The CA's certificate ID, when a CA was found.
    #[getter]
    fn ca_certificate_id(&self) -> Option<String> {
        id_str(self.inner.ca_certificate_id)
    }

    /// The topic of the registration event published, if any.
    #[getter]
    fn topic(&self) -> Option<String> {
        self.inner.event.as_ref().map(|e| e.topic())
    }

    /// The exact payload of the registration event published, if any.
    #[getter]
    fn event_json(&self) -> Option<String> {
        self.inner.event.as_ref().map(|e| e.to_json())
    }

    /// The registration event published, as a dict (``json.loads(event_json)``), if any.
    #[getter]
    fn event<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        self.event_json()
            .map(|json| LOADS.import(py, "json", "loads")?.call1((json,)))
            .transpose()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let allowed = if self.inner.is_allowed() {
            "True"
        } else {
            "False"
        };
        format!(
            "Decision(allowed={allowed}, reason={}, certificate_id={})",
            repr_opt(py, self.inner.reason_code()),
            repr_opt(py, self.certificate_id().as_deref()),
        )
    }
}
