//! Runs the `previews` of `tests/vectors/jitp.json` through
//! `jitr_core::provisioning::preview`, the entry point the Python and JavaScript front
//! ends bind (its `steps` run with every other vector file in `vectors.rs`).
//!
//! A preview's `expect` is either `{"error": "<Code>"}` or the whole output, except that
//! `failure.message` is given as `failure.messageContains`: substrings the message must
//! contain.

use std::path::PathBuf;

use jitr_core::provisioning::preview;
use serde_json::Value;

fn vector() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/jitp.json");
    let text = std::fs::read_to_string(&path).expect("tests/vectors/jitp.json exists");
    serde_json::from_str(&text).expect("jitp.json is JSON")
}

/// Compares one preview's output with its expectation.
fn check(case: &Value) -> Result<(), String> {
    let expect = &case["expect"];
    let result = preview(&case["input"]);
    if let Some(code) = expect.get("error") {
        return match result {
            Err(e) if code.as_str() == Some(e.code()) => Ok(()),
            Err(e) => Err(format!(
                "expected {code}, got {}: {}",
                e.code(),
                e.message()
            )),
            Ok(v) => Err(format!("expected {code}, got {v}")),
        };
    }
    let mut got = result.map_err(|e| format!("unexpected {}: {}", e.code(), e.message()))?;
    let mut want = expect.clone();
    if let Some(contains) = want
        .get_mut("failure")
        .and_then(Value::as_object_mut)
        .and_then(|f| f.remove("messageContains"))
    {
        let message = got
            .get_mut("failure")
            .and_then(Value::as_object_mut)
            .and_then(|f| f.remove("message"))
            .ok_or_else(|| format!("no failure message in {got}"))?;
        let message = message.as_str().ok_or("the message is a string")?;
        for part in contains.as_array().ok_or("messageContains is a list")? {
            let part = part.as_str().ok_or("messageContains holds strings")?;
            if !message.contains(part) {
                return Err(format!("the message {message:?} lacks {part:?}"));
            }
        }
    }
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "expected\n{}\ngot\n{}",
            serde_json::to_string_pretty(&want).unwrap_or_default(),
            serde_json::to_string_pretty(&got).unwrap_or_default()
        ))
    }
}

fn previews(v: &Value) -> &Vec<Value> {
    v["previews"].as_array().expect("previews is a list")
}

#[test]
fn jitp_previews() {
    let v = vector();
    let cases = previews(&v);
    assert!(cases.len() >= 20, "only {} previews", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        if let Err(e) = check(case) {
            failures.push(format!("{}: {e}", case["name"]));
        }
    }
    println!("jitp.json: {} previews", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} previews fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The file covers what issue 13 asks for: AWS's example verbatim, every intrinsic
/// function, every override setting, a missing Country and template errors.
#[test]
fn jitp_vectors_cover_the_issue() {
    let v = vector();
    let text = serde_json::to_string(&v).expect("serialises");
    let cases = previews(&v);
    let aws = cases
        .iter()
        .find(|c| c["name"] == "aws-example")
        .expect("AWS's example");
    assert!(aws["input"]["templateBody"]
        .as_str()
        .is_some_and(|t| t.contains("\"ThingTypeName\":\"lightBulb-versionA\"")));
    assert_eq!(
        v["awsExampleSource"],
        "https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html"
    );
    for f in [
        "\\\"Ref\\\"",
        "Fn::Join",
        "Fn::Select",
        "Fn::Split",
        "Fn::FindInMap",
        "Fn::Sub",
        "DO_NOTHING",
        "REPLACE",
        "FAIL",
        "MERGE",
    ] {
        assert!(text.contains(f), "no vector uses {f}");
    }
    assert!(cases.iter().any(|c| c["expect"]["failure"]["parameter"]
        == "AWS::IoT::Certificate::Country"
        && c["expect"]["failure"]["code"] == "MISSING_PARAMETER"));
    let template_errors = cases
        .iter()
        .filter(|c| c["expect"]["failure"]["stage"] == "TEMPLATE")
        .count();
    assert!(template_errors >= 5, "{template_errors} template errors");
}

/// Flipping any one expectation makes the runner fail: it compares everything.
#[test]
fn the_runner_can_fail() {
    let v = vector();
    type Flip = fn(&mut Value);
    let flips: [(&str, Flip); 5] = [
        ("aws-example", |e| {
            e["thing"]["thingGroups"][1] = "US".into();
        }),
        ("aws-example", |e| {
            e["policies"][0]["policyName"] = "0".repeat(64).into();
        }),
        ("aws-example-missing-country", |e| {
            e["failure"]["certificateField"] = "subject O (organizationName, OID 2.5.4.10)".into();
        }),
        ("aws-example-missing-country", |e| {
            e["failure"]["messageContains"][0] = "Organization".into();
        }),
        ("input-without-template", |e| {
            e["error"] = "CertificateValidationException".into();
        }),
    ];
    for (name, flip) in flips {
        let mut case = previews(&v)
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no preview {name}"))
            .clone();
        assert_eq!(check(&case), Ok(()), "{name} passes as written");
        flip(&mut case["expect"]);
        assert!(check(&case).is_err(), "{name} still passes once flipped");
    }
}
