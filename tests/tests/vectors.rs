//! Runs every shared vector in `tests/vectors/` through `jitr_core::api::call`, the entry
//! point the Python and JavaScript front ends wrap.

#[path = "../../jitr-core/tests/common/store.rs"]
#[allow(dead_code, unreachable_pub)]
mod store;

use std::path::PathBuf;

use jitr_core::{api, Registry, RegistryConfig, Scope, Store, Timestamp};
use serde_json::{Map, Value};

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Checks `expected` ⊆ `actual`; a null expectation means absent or null.
fn check_subset(expected: &Map<String, Value>, actual: &Value, ctx: &str) -> Result<(), String> {
    for (k, want) in expected {
        let got = actual.get(k).unwrap_or(&Value::Null);
        match (want, got) {
            (Value::Object(w), g @ Value::Object(_)) => check_subset(w, g, &format!("{ctx}.{k}"))?,
            _ if want == got => {}
            _ => return Err(format!("{ctx}.{k}: expected {want}, got {got}")),
        }
    }
    Ok(())
}

fn run_step(reg: &Registry, step: &Value) -> Result<(), String> {
    let op = step["op"].as_str().ok_or("op is a string")?;
    let now = Timestamp::from_unix_millis(step["now"].as_i64().ok_or("now is an integer")?);
    let expect = step["expect"].as_object().ok_or("expect is an object")?;
    let before = reg.export_state().expect("the state exports");
    let result = api::call(reg, op, &step["args"], now);
    if let Some(code) = expect.get("error") {
        return match result {
            Err(e) if code.as_str() == Some(e.code()) => {
                if reg.export_state().expect("the state exports") != before {
                    return Err(format!("{op} failed with {code} but changed the registry"));
                }
                Ok(())
            }
            Err(e) => Err(format!(
                "expected {code}, got {}: {}",
                e.code(),
                e.message()
            )),
            Ok(v) => Err(format!("expected {code}, got success {v}")),
        };
    }
    let got = result.map_err(|e| format!("unexpected {}: {}", e.code(), e.message()))?;
    match op {
        "connect" => {
            for key in [
                "allowed",
                "reason",
                "certificateId",
                "caCertificateId",
                "topic",
                "event",
            ] {
                let want = expect
                    .get(key)
                    .ok_or_else(|| format!("expect.{key} missing"))?;
                if &got[key] != want {
                    return Err(format!(
                        "connect.{key}: expected {want}, got {} ({})",
                        got[key], got["message"]
                    ));
                }
            }
            Ok(())
        }
        "list_certificates" | "list_ca_certificates" | "list_certificates_by_ca" => {
            let ids = pluck(&got, "certificates", "certificateId")?;
            if let Some(want) = expect.get("certificateIds") {
                if Value::Array(ids.clone()) != *want {
                    return Err(format!("{op}: expected {want}, got {ids:?}"));
                }
            }
            if let Some(want) = expect.get("hasNextMarker") {
                if Value::Bool(got.get("nextMarker").is_some()) != *want {
                    return Err(format!("{op}: hasNextMarker expected {want}, got {got}"));
                }
            }
            Ok(())
        }
        "list_attached_policies" => {
            let names = pluck(&got, "policies", "policyName")?;
            match expect.get("policyNames") {
                Some(want) if *want != Value::Array(names.clone()) => {
                    Err(format!("{op}: expected {want}, got {names:?}"))
                }
                _ => Ok(()),
            }
        }
        _ => check_subset(expect, &got, op),
    }
}

#[test]
fn shared_vectors() {
    let files = vector_files();
    assert!(
        files.len() >= 5,
        "expected the shared vector files, found {files:?}"
    );
    let mut steps = 0;
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable vector");
        let v: Value = serde_json::from_str(&text).expect("vector is JSON");
        let scope = Scope::with_partition(
            v["partition"].as_str().expect("partition"),
            v["account"].as_str().expect("account"),
            v["region"].as_str().expect("region"),
        )
        .expect("valid scope");
        let store = Store::open(&store::fresh_store_url()).expect("the test store opens");
        let reg = Registry::open(scope, RegistryConfig::default(), &store)
            .expect("the registry opens")
            .with_registration_code(v["registrationCode"].as_str().expect("code"))
            .expect("valid code");
        for (i, step) in v["steps"].as_array().expect("steps").iter().enumerate() {
            steps += 1;
            if let Err(e) = run_step(&reg, step) {
                failures.push(format!(
                    "{} step {i} ({}; {}): {e}",
                    file.file_name().unwrap_or_default().to_string_lossy(),
                    step["op"],
                    step["note"].as_str().unwrap_or("")
                ));
            }
        }
    }
    println!(
        "vectors: {} files, {steps} steps, {} failures",
        files.len(),
        failures.len()
    );
    assert!(steps > 100, "only {steps} steps ran");
    assert!(
        failures.is_empty(),
        "{} of {steps} steps failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `got[list][*][field]`: one field of every item of a list in a result.
fn pluck(got: &Value, list: &str, field: &str) -> Result<Vec<Value>, String> {
    let items = got[list]
        .as_array()
        .ok_or_else(|| format!("{list} is a list"))?;
    Ok(items.iter().map(|item| item[field].clone()).collect())
}
