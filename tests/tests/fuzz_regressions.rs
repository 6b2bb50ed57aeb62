//! Replays the committed fuzz regression corpus (`fuzz/regressions/<target>/`: small
//! inputs made for each target, plus every crash found and fixed) through the fuzz
//! targets' own bodies (`fuzz/src/lib.rs`, included here), on stable, in the ordinary
//! test run: a fixed crash stays fixed without nightly or cargo-fuzz.

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_bodies;

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_bodies::{der_mutator, TARGETS};

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions")
}

/// The inputs of one target, by file name.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = regressions_dir().join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.expect("a readable directory entry").path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, data)
        })
        .collect();
    out.sort();
    out
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

#[test]
fn every_target_has_a_regression_corpus() {
    let dirs: BTreeSet<String> = std::fs::read_dir(regressions_dir())
        .expect("fuzz/regressions exists")
        .map(|e| {
            e.expect("readable")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let targets: BTreeSet<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(dirs, targets, "fuzz/regressions/ has one folder per target");
    for t in &targets {
        assert!(!inputs(t).is_empty(), "fuzz/regressions/{t} is empty");
    }
}

#[test]
fn replay_regressions() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (target, body) in TARGETS {
        for (file, data) in inputs(target) {
            count += 1;
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| body(&data))) {
                failures.push(format!("{target}/{file}: {}", panic_message(&*p)));
            }
        }
    }
    println!("replayed {count} inputs of {} fuzz targets", TARGETS.len());
    assert!(
        failures.is_empty(),
        "fuzz regressions fail:\n{}",
        failures.join("\n")
    );
}

/// The structure-aware mutator, driven as libFuzzer drives it, over the DER regression
/// inputs: neither it nor the target may panic on what it makes.
#[test]
fn der_mutations_replay() {
    let body = TARGETS
        .iter()
        .find(|(n, _)| *n == "der_mutator")
        .map(|(_, b)| *b)
        .expect("the der_mutator target");
    let mut failures = Vec::new();
    let mut count = 0;
    for (file, data) in inputs("der_mutator").into_iter().chain(inputs("der")) {
        for seed in 0..48u32 {
            let mut buf = data.clone();
            let size = der_mutator::mutate(&mut buf, data.len(), seed);
            assert_eq!(size, data.len());
            count += 1;
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| body(&buf[..size]))) {
                failures.push(format!("{file} seed {seed}: {}", panic_message(&*p)));
            }
        }
    }
    println!("{count} mutated inputs");
    assert!(
        failures.is_empty(),
        "mutated inputs fail:\n{}",
        failures.join("\n")
    );
}

/// The `decide` regressions named `registered-*` reach the body's registration branch
/// (and its assertions); the others are refusals.
#[test]
fn decide_regressions_reach_both_branches() {
    let mut registered = 0;
    for (file, data) in inputs("decide") {
        let expected = file.starts_with("registered");
        assert_eq!(
            fuzz_bodies::decide_registers(&data),
            expected,
            "decide/{file}"
        );
        registered += usize::from(expected);
    }
    assert!(registered >= 2, "regressions that register: {registered}");
}
