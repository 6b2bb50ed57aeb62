//! `jitr_iot.Registry` (boto3's `iot` client methods over [`jitr_core::api::call`]) and
//! `jitr_iot.Decision`.
//!
//! Every boto3 method takes boto3's keyword arguments, converts them as botocore's
//! validator checks them (`None` and wrong Python types are `ParamValidationError`, see
//! [`param_to_json`]), calls the core with the GIL released and converts the response; all
//! rules are the core's. Each also takes `now` (keyword-only; a jitr extension, not in
//! boto3) for offline tests at fixed times. The registry's knobs are the core's
//! [`RegistryConfig`], passed by name ([`RegistryConfig::from_json`]).

// The keyword arguments are boto3's camelCase names.
#![allow(non_snake_case)]

use jitr_core::{
    api, CertificateId, Decision as CoreDecision, RegistryConfig, RegistryState, Scope,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use serde_json::{Map, Value};

use crate::convert as arg;
use crate::convert::{
    bool_arg, chain_arg, int_arg, json_to_py, param_to_json, repr, repr_opt, timestamp_arg, Kind,
};
use crate::errors::{response_metadata, to_pyerr_in, OrRaise};

/// A keyword argument of a boto3 method as the caller gave it: `None` when it was left out.
/// A Python `None` passed explicitly is `Some` (and refused, as botocore refuses it).
pub(crate) struct Arg<'py>(Option<Bound<'py, PyAny>>);

impl<'a, 'py> FromPyObject<'a, 'py> for Arg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(Arg(Some(obj.to_owned())))
    }
}

/// The parameter object from the method's arguments, named as they are, each checked
/// against its [`Kind`]: `params!(certificateId: Str, forceDelete: Bool)`.
macro_rules! params {
    ($($name:ident: $kind:ident),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut map = Map::new();
        $(
            if let Arg(Some(value)) = $name {
                // (`r#type` is the parameter `type`.)
                let name = stringify!($name).trim_start_matches("r#");
                map.insert(name.to_owned(), param_to_json(&value, name, Kind::$kind)?);
            }
        )*
        Value::Object(map)
    }};
}

/// The CA certificates, device certificates and policies of one AWS account in one
/// region, with boto3's ``iot`` client methods and the JITR decision (``connect``).
///
/// Safe to share between threads; the GIL is released while the core works. The keyword
/// arguments after ``registration_code`` are the core's ``RegistryConfig`` knobs (the
/// choices jitr makes where AWS is silent), listed with their defaults by
/// :meth:`default_config`.
///
/// >>> import jitr_iot
/// >>> registry = jitr_iot.Registry(account_id="123456789012", region="eu-west-1")
/// >>> len(registry.get_registration_code()["registrationCode"])
/// 64
/// >>> registry.list_certificates()["certificates"]
/// []
/// >>> jitr_iot.Registry(max_cas_per_subject=3).config["max_cas_per_subject"]
/// 3
#[pyclass(module = "jitr_iot", frozen)]
pub(crate) struct Registry {
    pub(crate) inner: jitr_core::Registry,
}

/// The core's configuration from keyword arguments named as its knobs. The knobs and the
/// type of each come from the core's defaults (`RegistryConfig::default().to_json()`):
/// an unknown name is a `TypeError` (as for any unexpected keyword argument), a value of
/// another Python type a `TypeError`, a negative or oversized count a `ValueError`.
fn config(knobs: Option<&Bound<'_, PyDict>>) -> PyResult<RegistryConfig> {
    let Some(knobs) = knobs else {
        return Ok(RegistryConfig::default());
    };
    let defaults = RegistryConfig::default().to_json();
    let mut given = Map::new();
    for (key, value) in knobs.iter() {
        let key: String = key.extract()?;
        let value = match defaults.get(&key) {
            None => {
                let known: Vec<&str> = defaults
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                return Err(PyTypeError::new_err(format!(
                    "Registry got an unexpected keyword argument {key:?}; the registry's knobs are {}",
                    known.join(", ")
                )));
            }
            Some(Value::Bool(_)) => Value::Bool(bool_arg(&value, &key)?),
            Some(Value::String(_)) => {
                let text: String = value
                    .extract()
                    .map_err(|_| PyTypeError::new_err(format!("{key} must be a str")))?;
                Value::String(text)
            }
            Some(_) => Value::from(int_arg::<u64>(&value, &key)?),
        };
        given.insert(key, value);
    }
    RegistryConfig::from_json(&Value::Object(given))
        .map_err(|e| PyValueError::new_err(e.message().to_owned()))
}

impl Registry {
    fn call<'py>(
        &self,
        py: Python<'py>,
        operation: &str,
        params: Value,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let out = self.call_core(py, operation, &params, now)?;
        let response = json_to_py(py, &out)?;
        response.set_item("ResponseMetadata", response_metadata(py, 200)?)?;
        Ok(response)
    }

    fn call_core<'py>(
        &self,
        py: Python<'py>,
        operation: &str,
        params: &Value,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Value> {
        let now = timestamp_arg(now, "now")?;
        py.detach(|| api::call(&self.inner, operation, params, now))
            .map_err(|e| to_pyerr_in(e, operation))
    }
}

/// The `#[pymethods]` of [`Registry`]: the hand-written ones, then one method per boto3
/// operation of the core, generated from its parameters (required ones first; each
/// checked against the kind botocore's `iot` model gives it) and calling the core's JSON
/// API by the method's own name. The table below is written from botocore's model
/// (`tests/test_api.py` checks it against the model and against the core's operations).
macro_rules! registry_methods {
    (
        { $($extra:tt)* }
        $( $(#[$doc:meta])* $name:ident ( $($req:ident : $rk:ident),* ; $($opt:ident : $ok:ident),* ) ; )*
    ) => {
        #[pymethods]
        impl Registry {
            $($extra)*
            $(
                $(#[$doc])*
                #[pyo3(signature = (*, $($req,)* $($opt = Arg(None),)* now = None))]
                #[allow(non_snake_case, clippy::too_many_arguments)]
                fn $name<'py>(
                    &self,
                    py: Python<'py>,
                    $($req: Arg<'py>,)*
                    $($opt: Arg<'py>,)*
                    now: Option<&Bound<'py, PyAny>>,
                ) -> PyResult<Bound<'py, PyAny>> {
                    let params = params!($($req: $rk,)* $($opt: $ok,)*);
                    self.call(py, stringify!($name), params, now)
                }
            )*
        }
    };
}

registry_methods! {
    {
    /// A new, empty registry. ``registration_code`` fixes the registration code (64 hex
    /// characters) instead of minting one; the other keywords are the core's
    /// ``RegistryConfig`` knobs (see :meth:`default_config`).
    ///
    /// ``store`` is where the registry keeps its state: in memory when omitted,
    /// ``"sqlite:///path/fleet.db"`` (one file, shared by the processes of one machine)
    /// or ``"postgresql://user@host:port/dbname"`` (shared by every node). Several
    /// registries, processes and gateway nodes on one store see each other's changes.
    #[new]
    #[pyo3(signature = (
        account_id = "123456789012",
        region = "us-east-1",
        partition = "aws",
        *,
        store = None,
        registration_code = None,
        **config,
    ))]
    fn new(
        py: Python<'_>,
        account_id: &str,
        region: &str,
        partition: &str,
        #[pyo3(from_py_with = arg::opt_str_store)] store: Option<String>,
        #[pyo3(from_py_with = arg::opt_registration_code)] registration_code: Option<String>,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = self::config(config)?;
        let scope = Scope::with_partition(partition, account_id, region).or_raise()?;
        let inner = py
            .detach(|| {
                let store = match &store {
                    Some(url) => jitr_core::Store::open(url)?,
                    None => jitr_core::Store::memory(),
                };
                let inner = jitr_core::Registry::open(scope, config, &store)?;
                match registration_code {
                    Some(code) => inner.with_registration_code(&code),
                    None => inner.get_registration_code().map(|_| inner),
                }
            })
            .or_raise()?;
        Ok(Self { inner })
    }

    /// The kind of store: ``"memory"``, ``"sqlite"`` or ``"postgresql"``.
    #[getter]
    fn store_kind(&self) -> &'static str {
        self.inner.store().kind()
    }

    /// Stops following the store's change feed (background work on a shared store). The
    /// registry still answers; call it when done, or use the registry as a context
    /// manager.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.inner.close());
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    /// A registry loaded from :meth:`export_state`'s JSON, with the given knobs (as for
    /// the constructor). Everything is checked; a bad state raises
    /// ``InvalidRequestException`` (or the certificate's error).
    #[classmethod]
    #[pyo3(signature = (state, **config))]
    fn from_state(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        #[pyo3(from_py_with = arg::state)] state: String,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = self::config(config)?;
        let inner = py
            .detach(|| {
                let state = RegistryState::from_json(&state)?;
                jitr_core::Registry::from_state(&state, config)
            })
            .or_raise()?;
        Ok(Self { inner })
    }

    /// The registry's knobs (the core's ``RegistryConfig``) and their defaults, as a dict:
    /// the keyword arguments the constructor takes besides ``registration_code``.
    #[staticmethod]
    fn default_config(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        json_to_py(py, &RegistryConfig::default().to_json())
    }

    /// This registry's knobs, as a dict (see :meth:`default_config`).
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner.config().to_json())
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

    /// The exception classes, as boto3's ``client.exceptions``: the module
    /// ``jitr_iot.exceptions`` (every exception name of the ``iot`` model, ``ClientError``
    /// and ``from_code``).
    #[getter]
    fn exceptions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        static ERRORS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        ERRORS
            .get_or_try_init(py, || {
                py.import("jitr_iot.exceptions")
                    .map(|m| m.into_any().unbind())
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

    /// The core's boto3-shaped JSON API: runs the boto3 method ``operation`` with
    /// ``params`` (a dict, checked as the methods check their arguments) and returns the
    /// response as JSON text, as the AWS service sends it (dates as epoch seconds). Errors
    /// raise as from the methods. For :func:`jitr_iot.mock_iot`, which hands the text to
    /// botocore's own parser.
    #[pyo3(signature = (operation, params, now = None))]
    fn _call_json(
        &self,
        py: Python<'_>,
        operation: &str,
        params: &Bound<'_, PyDict>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let mut map = Map::new();
        for (key, value) in params.iter() {
            let key: String = key.extract()?;
            let json = crate::convert::py_param_to_json(&value, &key)?;
            map.insert(key, json);
        }
        let out = self.call_core(py, operation, &Value::Object(map), now)?;
        Ok(out.to_string())
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
        #[pyo3(from_py_with = arg::server_name)] server_name: Option<String>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let chain = chain_arg(certificate_chain)?;
        let chain = chain.ders();
        let now = timestamp_arg(now, "now")?;
        let inner = py.detach(|| self.inner.decide(&chain, server_name.as_deref(), now));
        Ok(Decision { inner })
    }
    }
    /// GetRegistrationCode.
    get_registration_code(; );
    /// DeleteRegistrationCode.
    delete_registration_code(; );
    /// RegisterCACertificate.
    register_ca_certificate(caCertificate: Str; verificationCertificate: Str, setAsActive: Bool, allowAutoRegistration: Bool, registrationConfig: Struct, tags: List, certificateMode: Str);
    /// UpdateCACertificate.
    update_ca_certificate(certificateId: Str; newStatus: Str, newAutoRegistrationStatus: Str, registrationConfig: Struct, removeAutoRegistration: Bool);
    /// DescribeCACertificate.
    describe_ca_certificate(certificateId: Str; );
    /// ListCACertificates.
    list_ca_certificates(; pageSize: Int, marker: Str, ascendingOrder: Bool, templateName: Str);
    /// DeleteCACertificate.
    delete_ca_certificate(certificateId: Str; );
    /// RegisterCertificate.
    register_certificate(certificatePem: Str; caCertificatePem: Str, setAsActive: Bool, status: Str);
    /// RegisterCertificateWithoutCA.
    register_certificate_without_ca(certificatePem: Str; status: Str);
    /// UpdateCertificate.
    update_certificate(certificateId: Str, newStatus: Str; );
    /// DescribeCertificate.
    describe_certificate(certificateId: Str; );
    /// ListCertificates.
    list_certificates(; pageSize: Int, marker: Str, ascendingOrder: Bool);
    /// ListCertificatesByCA.
    list_certificates_by_ca(caCertificateId: Str; pageSize: Int, marker: Str, ascendingOrder: Bool);
    /// DeleteCertificate.
    delete_certificate(certificateId: Str; forceDelete: Bool);
    /// CreatePolicy.
    create_policy(policyName: Str, policyDocument: Str; tags: List);
    /// GetPolicy.
    get_policy(policyName: Str; );
    /// DeletePolicy.
    delete_policy(policyName: Str; );
    /// AttachPolicy.
    attach_policy(policyName: Str, target: Str; );
    /// DetachPolicy.
    detach_policy(policyName: Str, target: Str; );
    /// ListAttachedPolicies.
    list_attached_policies(target: Str; recursive: Bool, marker: Str, pageSize: Int);
    /// CreatePolicyVersion.
    create_policy_version(policyName: Str, policyDocument: Str; setAsDefault: Bool);
    /// GetPolicyVersion.
    get_policy_version(policyName: Str, policyVersionId: Str; );
    /// ListPolicyVersions.
    list_policy_versions(policyName: Str; );
    /// SetDefaultPolicyVersion.
    set_default_policy_version(policyName: Str, policyVersionId: Str; );
    /// DeletePolicyVersion.
    delete_policy_version(policyName: Str, policyVersionId: Str; );
    /// ListPolicies.
    list_policies(; marker: Str, pageSize: Int, ascendingOrder: Bool);
    /// ListTargetsForPolicy.
    list_targets_for_policy(policyName: Str; marker: Str, pageSize: Int);
    /// ListPrincipalPolicies.
    list_principal_policies(principal: Str; marker: Str, pageSize: Int, ascendingOrder: Bool);
    /// TestAuthorization.
    test_authorization(authInfos: List; principal: Str, cognitoIdentityPoolId: Str, clientId: Str, policyNamesToAdd: List, policyNamesToSkip: List);
    /// GetEffectivePolicies.
    get_effective_policies(; principal: Str, cognitoIdentityPoolId: Str, thingName: Str);
    /// CreateThing.
    create_thing(thingName: Str; thingTypeName: Str, attributePayload: Struct, billingGroupName: Str);
    /// DescribeThing.
    describe_thing(thingName: Str; );
    /// UpdateThing.
    update_thing(thingName: Str; thingTypeName: Str, attributePayload: Struct, expectedVersion: Int, removeThingType: Bool);
    /// DeleteThing.
    delete_thing(thingName: Str; expectedVersion: Int);
    /// ListThings.
    list_things(; nextToken: Str, maxResults: Int, attributeName: Str, attributeValue: Str, thingTypeName: Str, usePrefixAttributeValue: Bool);
    /// AttachThingPrincipal.
    attach_thing_principal(thingName: Str, principal: Str; thingPrincipalType: Str);
    /// DetachThingPrincipal.
    detach_thing_principal(thingName: Str, principal: Str; );
    /// ListThingPrincipals.
    list_thing_principals(thingName: Str; nextToken: Str, maxResults: Int);
    /// ListPrincipalThings.
    list_principal_things(principal: Str; nextToken: Str, maxResults: Int);
    /// CreateThingType.
    create_thing_type(thingTypeName: Str; thingTypeProperties: Struct, tags: List);
    /// DescribeThingType.
    describe_thing_type(thingTypeName: Str; );
    /// DeprecateThingType.
    deprecate_thing_type(thingTypeName: Str; undoDeprecate: Bool);
    /// DeleteThingType.
    delete_thing_type(thingTypeName: Str; );
    /// ListThingTypes.
    list_thing_types(; nextToken: Str, maxResults: Int, thingTypeName: Str);
    /// TagResource.
    tag_resource(resourceArn: Str, tags: List; );
    /// UntagResource.
    untag_resource(resourceArn: Str, tagKeys: List; );
    /// ListTagsForResource.
    list_tags_for_resource(resourceArn: Str; nextToken: Str);
    /// CreateThingGroup.
    create_thing_group(thingGroupName: Str; parentGroupName: Str, thingGroupProperties: Struct, tags: List);
    /// DescribeThingGroup.
    describe_thing_group(thingGroupName: Str; );
    /// DeleteThingGroup.
    delete_thing_group(thingGroupName: Str; expectedVersion: Int);
    /// ListThingGroups.
    list_thing_groups(; nextToken: Str, maxResults: Int, parentGroup: Str, namePrefixFilter: Str, recursive: Bool);
    /// AddThingToThingGroup.
    add_thing_to_thing_group(; thingGroupName: Str, thingGroupArn: Str, thingName: Str, thingArn: Str, overrideDynamicGroups: Bool);
    /// RemoveThingFromThingGroup.
    remove_thing_from_thing_group(; thingGroupName: Str, thingGroupArn: Str, thingName: Str, thingArn: Str);
    /// ListThingGroupsForThing.
    list_thing_groups_for_thing(thingName: Str; nextToken: Str, maxResults: Int);
    /// ListThingsInThingGroup.
    list_things_in_thing_group(thingGroupName: Str; recursive: Bool, nextToken: Str, maxResults: Int);
    /// CreateProvisioningTemplate.
    create_provisioning_template(templateName: Str, templateBody: Str, provisioningRoleArn: Str; description: Str, enabled: Bool, preProvisioningHook: Struct, tags: List, r#type: Str);
    /// DescribeProvisioningTemplate.
    describe_provisioning_template(templateName: Str; );
    /// ListProvisioningTemplates.
    list_provisioning_templates(; maxResults: Int, nextToken: Str);
    /// UpdateProvisioningTemplate.
    update_provisioning_template(templateName: Str; description: Str, enabled: Bool, defaultVersionId: Int, provisioningRoleArn: Str, preProvisioningHook: Struct, removePreProvisioningHook: Bool);
    /// DeleteProvisioningTemplate.
    delete_provisioning_template(templateName: Str; );
    /// CreateKeysAndCertificate.
    create_keys_and_certificate(; setAsActive: Bool);
    /// CreateCertificateFromCsr.
    create_certificate_from_csr(certificateSigningRequest: Str; setAsActive: Bool);
    /// DescribeEndpoint.
    describe_endpoint(; endpointType: Str);
    /// jitr's extension (not an AWS operation): why just-in-time provisioning left the
    /// certificate ``certificateId`` ``PENDING_ACTIVATION`` — the code, a sentence, the
    /// parameter and certificate field when one was missing, and when it ran.
    describe_provisioning_failure(certificateId: Str; );
}

/// What JITR decided about one connection (returned by ``Registry.connect``).
#[pyclass(module = "jitr_iot", frozen)]
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
