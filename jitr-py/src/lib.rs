//! Python bindings for jitr: the native module `jitr_iot._jitr`.
//!
//! A thin layer over `jitr-core`: it converts Python values to what the core takes and
//! back, and maps core errors to Python exceptions. Every rule (statuses, validation,
//! payloads) is the core's; the boto3-shaped operations go through
//! [`jitr_core::api::call`], as the shared test vectors do in Rust.

use jitr_core::{
    AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus, RefusalReason,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

mod cert;
mod convert;
mod errors;
mod handler;
mod internal;
mod offline;
mod registry;
mod tooling;

#[pymodule]
fn _jitr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<registry::Registry>()?;
    m.add_class::<registry::Decision>()?;
    m.add_class::<cert::Certificate>()?;
    m.add_class::<tooling::GeneratedCertificate>()?;
    m.add_class::<handler::Crl>()?;
    m.add_class::<handler::PolicyTemplate>()?;
    m.add_function(wrap_pyfunction!(handler::parse_registration_event, m)?)?;
    m.add_class::<handler::Activation>()?;
    m.add_class::<handler::Call>()?;
    m.add_function(wrap_pyfunction!(cert::load_pem_chain, m)?)?;
    m.add_function(wrap_pyfunction!(cert::certificate_id, m)?)?;
    m.add_function(wrap_pyfunction!(tooling::generate_ca, m)?)?;
    m.add_function(wrap_pyfunction!(
        tooling::generate_verification_certificate,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(tooling::issue_certificate, m)?)?;
    m.add_function(wrap_pyfunction!(offline::simulate_policy, m)?)?;
    m.add_function(wrap_pyfunction!(offline::preview_provisioning, m)?)?;
    m.add_function(wrap_pyfunction!(internal::_bench_decide, m)?)?;
    m.add_function(wrap_pyfunction!(internal::_bench_certificate_id, m)?)?;
    m.add_function(wrap_pyfunction!(internal::_api_call, m)?)?;
    m.add_function(wrap_pyfunction!(internal::_panic_for_test, m)?)?;
    m.add("ERROR_CODES", PyTuple::new(py, jitr_core::Error::CODES)?)?;
    let key_types = jitr_core::tooling::KeyType::ALL.map(|k| k.as_str());
    m.add("KEY_TYPES", PyTuple::new(py, key_types)?)?;
    let operations = jitr_core::api::boto3_operations().collect::<Vec<_>>();
    m.add("OPERATIONS", PyTuple::new(py, operations)?)?;
    m.add("EXTENSIONS", PyTuple::new(py, jitr_core::api::EXTENSIONS)?)?;
    // The vocabularies, for the stubs' Literal types (the tests compare them).
    let statuses = CertificateStatus::ALL.iter().map(|s| s.as_str());
    m.add("CERTIFICATE_STATUSES", PyTuple::new(py, statuses)?)?;
    let statuses = CaStatus::ALL.iter().map(|s| s.as_str());
    m.add("CA_STATUSES", PyTuple::new(py, statuses)?)?;
    let statuses = AutoRegistrationStatus::ALL.iter().map(|s| s.as_str());
    m.add("AUTO_REGISTRATION_STATUSES", PyTuple::new(py, statuses)?)?;
    let modes = CertificateMode::ALL.iter().map(|m| m.as_str());
    m.add("CERTIFICATE_MODES", PyTuple::new(py, modes)?)?;
    m.add("REFUSAL_CODES", PyTuple::new(py, RefusalReason::CODES)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
