//! Runs the policy vectors (`tests/vectors/policies/policies.json`, format in
//! `tests/vectors/README.md`) through `jitr_core::policy::simulate`, the entry point the
//! Python and JavaScript front ends wrap; and, beside it, through the compiled hot path
//! (`CompiledPolicies::check`), which must give the same decision.

use std::path::PathBuf;

use jitr_core::policy::{simulate, Action, AuthContext, CompiledPolicies, PolicyDocument};
use serde_json::{json, Map, Value};

fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/policies/policies.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the policy vectors are JSON")
}

/// The scenario's context with the case's keys laid over it; a null removes a key.
fn merged_context(scenario: &Value, case: &Value) -> Value {
    let mut ctx: Map<String, Value> = scenario["context"].as_object().cloned().unwrap_or_default();
    if let Some(over) = case.get("context").and_then(Value::as_object) {
        for (k, v) in over {
            if v.is_null() {
                ctx.remove(k);
            } else {
                ctx.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(ctx)
}

fn names(list: &Value) -> Vec<Value> {
    list.as_array()
        .map(|ps| ps.iter().map(|p| p["policyName"].clone()).collect())
        .unwrap_or_default()
}

/// Runs one case; `Err` says what differs.
fn run_case(scenario: &Value, case: &Value) -> Result<(), String> {
    let context = merged_context(scenario, case);
    let input = json!({
        "policies": scenario["policies"],
        "context": context,
        "authInfos": [case["authInfo"]],
    });
    let out =
        simulate(&input).map_err(|e| format!("simulate failed: {}: {}", e.code(), e.message()))?;
    let result = &out["authResults"][0];
    let expect = &case["expect"];
    if result["authInfo"] != case["authInfo"] {
        return Err(format!("authInfo echoed as {}", result["authInfo"]));
    }
    if result["authDecision"] != expect["authDecision"] {
        return Err(format!(
            "authDecision: expected {}, got {} (allowed by {:?}, denied by {:?})",
            expect["authDecision"],
            result["authDecision"],
            names(&result["allowed"]["policies"]),
            names(&result["denied"]["explicitDeny"]["policies"]),
        ));
    }
    for (key, got) in [
        ("allowed", &result["allowed"]["policies"]),
        (
            "explicitDeny",
            &result["denied"]["explicitDeny"]["policies"],
        ),
        (
            "implicitDeny",
            &result["denied"]["implicitDeny"]["policies"],
        ),
    ] {
        if let Some(want) = expect.get(key) {
            let got = Value::Array(names(got));
            if &got != want {
                return Err(format!("{key}: expected {want}, got {got}"));
            }
        }
    }
    if let Some(want) = expect.get("missingContextValues") {
        if &result["missingContextValues"] != want {
            return Err(format!(
                "missingContextValues: expected {want}, got {}",
                result["missingContextValues"]
            ));
        }
    }
    compiled_agrees(scenario, case, &context)
}

/// The compiled set decides a single-resource case in the context's account the same way.
fn compiled_agrees(scenario: &Value, case: &Value, context: &Value) -> Result<(), String> {
    let resources = case["authInfo"]["resources"]
        .as_array()
        .ok_or("resources")?;
    let [resource] = resources.as_slice() else {
        return Ok(());
    };
    let resource = resource.as_str().ok_or("a resource is a string")?;
    let action: Action = case["authInfo"]["actionType"]
        .as_str()
        .ok_or("actionType")?
        .parse()
        .map_err(|e: jitr_core::Error| e.to_string())?;
    let ctx = AuthContext::from_json(context).map_err(|e| e.to_string())?;
    let name = match action.resource_type() {
        None if resource == "*" => "",
        None => return Ok(()),
        Some(_) => match resource.strip_prefix(ctx.resource_arn(action, "").as_str()) {
            Some(name) => name,
            None => return Ok(()), // another account or region: simulate alone decides
        },
    };
    let docs: Vec<(String, PolicyDocument)> = scenario["policies"]
        .as_array()
        .ok_or("policies")?
        .iter()
        .map(|p| {
            let text = match &p["policyDocument"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Ok((
                p["policyName"].as_str().unwrap_or_default().to_string(),
                PolicyDocument::parse(&text).map_err(|e| e.to_string())?,
            ))
        })
        .collect::<Result<_, String>>()?;
    let named: Vec<(&str, &PolicyDocument)> = docs.iter().map(|(n, d)| (n.as_str(), d)).collect();
    let got = CompiledPolicies::compile(&named, &ctx).check(action, name, ctx.now);
    if Some(got.as_str()) != case["expect"]["authDecision"].as_str() {
        return Err(format!(
            "compiled check: expected {}, got {}",
            case["expect"]["authDecision"],
            got.as_str()
        ));
    }
    Ok(())
}

fn run_error_scenario(scenario: &Value) -> Result<(), String> {
    let want = &scenario["expectError"];
    let input = json!({
        "policies": scenario["policies"],
        "context": scenario["context"],
        "authInfos": [{"actionType": "CONNECT", "resources": ["*"]}],
    });
    match simulate(&input) {
        Ok(v) => Err(format!("expected {}, got {v}", want["code"])),
        Err(e) => {
            if Some(e.code()) != want["code"].as_str() {
                return Err(format!(
                    "expected {}, got {}: {}",
                    want["code"],
                    e.code(),
                    e.message()
                ));
            }
            let contains = want["messageContains"].as_str().unwrap_or_default();
            if !e.message().contains(contains) {
                return Err(format!("message {:?} lacks {contains:?}", e.message()));
            }
            Ok(())
        }
    }
}

#[test]
fn policy_vectors() {
    let v = vectors();
    let scenarios = v["scenarios"].as_array().expect("scenarios");
    let (mut cases, mut errors) = (0, 0);
    let mut failures = Vec::new();
    for s in scenarios {
        let name = s["name"].as_str().unwrap_or("?");
        assert!(
            s["source"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://docs.aws.amazon.com/")),
            "{name}: every scenario cites its AWS page"
        );
        if s.get("expectError").is_some() {
            errors += 1;
            if let Err(e) = run_error_scenario(s) {
                failures.push(format!("{name}: {e}"));
            }
            continue;
        }
        let list = s["cases"].as_array().expect("cases");
        assert!(!list.is_empty(), "{name} has no case");
        for (i, c) in list.iter().enumerate() {
            cases += 1;
            if let Err(e) = run_case(s, c) {
                failures.push(format!("{name} case {i} ({}): {e}", c["authInfo"]));
            }
        }
    }
    println!(
        "policy vectors: {} scenarios, {cases} cases, {errors} refusals, {} failures",
        scenarios.len(),
        failures.len()
    );
    assert!(
        cases >= 200 && errors >= 5,
        "only {cases} cases and {errors} refusals ran"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The comparison is not vacuous: flipping any one expected decision makes its case fail.
#[test]
fn a_flipped_expectation_fails() {
    let v = vectors();
    let mut flipped = 0;
    for s in v["scenarios"].as_array().expect("scenarios") {
        for c in s["cases"].as_array().into_iter().flatten() {
            let mut c = c.clone();
            let other = match c["expect"]["authDecision"].as_str() {
                Some("ALLOWED") => "IMPLICIT_DENY",
                Some("IMPLICIT_DENY") => "EXPLICIT_DENY",
                _ => "ALLOWED",
            };
            c["expect"]["authDecision"] = other.into();
            assert!(
                run_case(s, &c).is_err(),
                "{}: a flipped case passed",
                s["name"]
            );
            flipped += 1;
        }
    }
    assert!(flipped >= 200);
}
