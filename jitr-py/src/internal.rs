//! Private helpers for `bench/bench.py` and the tests: the same core calls as the public
//! functions made directly in Rust (in a Rust loop, so the benchmark can report Python's
//! cost as a ratio; or raw, so the tests can compare the public API's conversions with the
//! core's own JSON), and a deliberate panic.

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{api, Certificate as CoreCertificate, Timestamp};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::chain_arg;
use crate::registry::Registry;

/// Runs `registry.decide` `repeat` times over `chains` (each as `connect` takes it,
/// converted once, before the loop) with the GIL released and the clock read per call, as
/// `connect(chain)` does; returns how many decisions allowed the connection. The caller
/// times it with `time.thread_time()` (CPU time of this thread: robust on a shared
/// machine).
#[pyfunction]
#[pyo3(signature = (registry, chains, server_name = None, repeat = 1))]
pub(crate) fn _bench_decide(
    py: Python<'_>,
    registry: &Bound<'_, Registry>,
    chains: Vec<Bound<'_, PyAny>>,
    server_name: Option<&str>,
    repeat: usize,
) -> PyResult<usize> {
    let chains = chains.iter().map(chain_arg).collect::<PyResult<Vec<_>>>()?;
    let chains: Vec<Vec<CertificateDer<'_>>> = chains.iter().map(|c| c.ders()).collect();
    let registry = &registry.get().inner;
    Ok(py.detach(|| {
        let mut allowed = 0;
        for _ in 0..repeat {
            for chain in &chains {
                let d = registry.decide(chain, server_name, Timestamp::now());
                allowed += usize::from(d.is_allowed());
            }
        }
        allowed
    }))
}

/// Computes `certificate_id(pem)` `n` times in Rust (parse the PEM, parse the
/// certificate, format the ID), for the caller to time.
#[pyfunction]
pub(crate) fn _bench_certificate_id(pem: &str, n: usize) -> PyResult<()> {
    for _ in 0..n {
        let id = CoreCertificate::from_pem(pem)
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .id()
            .to_string();
        std::hint::black_box(id);
    }
    Ok(())
}

/// `jitr_core::api::call` on JSON text, as the Rust vector runner calls it: returns
/// `(True, response JSON)` or `(False, error code)`. For the tests, which check that the
/// public methods (with their conversions) agree with it.
#[pyfunction]
pub(crate) fn _api_call(
    py: Python<'_>,
    registry: &Bound<'_, Registry>,
    operation: &str,
    params: &str,
    now_ms: i64,
) -> PyResult<(bool, String)> {
    let params: serde_json::Value =
        serde_json::from_str(params).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let registry = &registry.get().inner;
    let now = Timestamp::from_unix_millis(now_ms);
    Ok(
        py.detach(|| match api::call(registry, operation, &params, now) {
            Ok(v) => (true, v.to_string()),
            Err(e) => (false, e.code().to_string()),
        }),
    )
}

/// Panics, so a test can show that a Rust panic reaches Python as
/// `pyo3_runtime.PanicException` instead of aborting the interpreter. No input to the
/// public API reaches a panic.
#[pyfunction]
pub(crate) fn _panic_for_test() {
    #[allow(clippy::panic)]
    {
        panic!("a deliberate panic for the test suite");
    }
}
