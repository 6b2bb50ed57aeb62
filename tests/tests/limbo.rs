//! x509-limbo through [`Registry::verify_path`], the path validation the JITR decision
//! itself uses, as `spec/conformance.md` describes.
//!
//! For each testcase: a fresh registry in which every `trusted_certs` entry is registered
//! (RegisterCACertificate, `ACTIVE`, at the validation time); the device chain is
//! `peer_certificate` followed by `untrusted_intermediates`; the required EKU is the
//! validation kind's (SERVER → serverAuth, CLIENT → clientAuth). Limbo's chains reach
//! their roots through intermediates, so the path may pass through them here
//! (`with_intermediates(true)`); the JITR decision itself accepts only the CA that
//! directly signed the leaf. Limbo tests RFC 5280, so its certificate profile is checked
//! too (`with_rfc5280_profile(true)`; the decision keeps AWS's leniency, and the run
//! lists the gating cases only that profile refuses), and chains of up to
//! [`LIMBO_MAX_CHAIN_LEN`] certificates are read (the decision reads 16). A trusted certificate the registry refuses to register (not
//! a CA, v1, expired, ...) is not registered; when the path then fails, the refusal is
//! the case's reason.
//!
//! Scope rules (first match wins), gating, the exceptions file
//! (`tests/conformance/limbo-exceptions.json`), the tables by family and feature and the
//! comparison with the reference harnesses are described in `tests/conformance/README.md`.
//! Results are written in limbo's `LimboResult` format to `target/limbo/`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{
    pem_blocks_der, CertificateMode, PathOptions, RegisterCaCertificateRequest, Registry,
    RequiredEku, Scope, Timestamp,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// The most certificates read from a case's chain: limbo's chains are TLS server chains
/// whose intermediate pools reach 35 certificates (`bettertls::pathbuilding`); the JITR
/// decision reads at most `MAX_CHAIN_LEN` (16).
const LIMBO_MAX_CHAIN_LEN: usize = 64;
/// Appended to a refusal that only RFC 5280's certificate profile makes: the JITR
/// decision's profile (`PathOptions::default()`) accepts the path.
const DECISION_PROFILE_ACCEPTS: &str = " [only the RFC 5280 profile refuses it]";
/// A case slower than this is reported as SLOW.
const SLOW: Duration = Duration::from_secs(1);
/// A case slower than this fails, whatever its result.
const TOO_SLOW: Duration = Duration::from_secs(10);

/// Features jitr's path validation implements (beyond plain RFC 5280 path validation):
/// webpki's budget bounds the work of hostile chains.
const IMPLEMENTED_FEATURES: &[&str] = &["denial-of-service"];
/// Features that are run and shown but never gate (rule 4).
fn informational_feature(f: &str) -> bool {
    f.starts_with("pedantic-") || f == "rfc5280-incompatible-with-webpki"
}
/// Features jitr does not implement, with the reason (rule 3). Any feature in neither
/// list is unknown and skipped too.
fn unimplemented_feature(f: &str) -> Option<&'static str> {
    Some(match f {
        "has-crl" => "has-crl: CRLs are not checked on the path (CRL support is issue 7)",
        "max-chain-depth" => {
            "max-chain-depth: no depth parameter (jitr's own bound is MAX_CHAIN_LEN certificates)"
        }
        "name-constraint-dn" => {
            "name-constraint-dn: directoryName name constraints are not enforced (webpki)"
        }
        "has-policy-constraints" => {
            "has-policy-constraints: certificate policies are not processed"
        }
        _ => return None,
    })
}

#[derive(Deserialize)]
struct Limbo {
    version: u32,
    testcases: Vec<Testcase>,
}

/// The fields of a limbo testcase this harness reads. Features and EKUs stay strings so
/// new upstream values parse.
#[derive(Deserialize)]
struct Testcase {
    id: String,
    #[serde(default)]
    features: Vec<String>,
    validation_kind: String,
    trusted_certs: Vec<String>,
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    validation_time: Option<String>,
    #[serde(default)]
    extended_key_usage: Vec<String>,
    expected_result: String,
}

/// Where a case falls under the scope rules.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scoped {
    /// Rule 1: run and reported on a line of its own, never gating.
    PeerName,
    /// Rules 2–3 (and unsupported parameters): not run.
    Skip(String),
    /// Rule 4: run and shown, never gating.
    Informational,
    /// Rule 5.
    Gating,
}

fn scope(case: &Testcase, peer_name_dependent: &HashSet<String>) -> Scoped {
    if peer_name_dependent.contains(&case.id) {
        return Scoped::PeerName;
    }
    if case.id.starts_with("webpki::cn::") || case.id.starts_with("webpki::san::") {
        return Scoped::Skip(
            "server-name profile (CN/SAN matching is not done for client certificates)".into(),
        );
    }
    for f in &case.features {
        if let Some(reason) = unimplemented_feature(f) {
            return Scoped::Skip(reason.into());
        }
        if !IMPLEMENTED_FEATURES.contains(&f.as_str()) && !informational_feature(f) {
            return Scoped::Skip(format!("unknown feature {f}"));
        }
    }
    if eku(case).is_none() {
        return Scoped::Skip(format!(
            "unsupported validation kind or EKU: {} {:?}",
            case.validation_kind, case.extended_key_usage
        ));
    }
    if case.features.iter().any(|f| informational_feature(f)) || case.id.starts_with("webpki::") {
        return Scoped::Informational;
    }
    Scoped::Gating
}

/// The EKU the leaf must allow: the validation kind's. A case asking for any other EKU
/// is not supported.
fn eku(case: &Testcase) -> Option<RequiredEku> {
    let (eku, name) = match case.validation_kind.as_str() {
        "SERVER" => (RequiredEku::ServerAuth, "serverAuth"),
        "CLIENT" => (RequiredEku::ClientAuth, "clientAuth"),
        _ => return None,
    };
    case.extended_key_usage
        .iter()
        .all(|e| e == name)
        .then_some(eku)
}

/// What one run of a case gave.
#[derive(Clone, Debug)]
struct Run {
    /// `Some(true)` SUCCESS, `Some(false)` FAILURE; `None` when it panicked or timed out.
    success: Option<bool>,
    context: String,
    elapsed: Duration,
}

/// Runs one case: registers the anchors, then validates the chain.
fn run_case(case: &Testcase) -> (bool, String) {
    let now = match &case.validation_time {
        Some(t) => match parse_rfc3339(t) {
            Some(t) => t,
            None => return (false, format!("unparseable validation_time {t:?}")),
        },
        None => Timestamp::now(),
    };
    let Some(eku) = eku(case) else {
        return (false, "unsupported EKU".into());
    };
    let scope = Scope::new("123456789012", "us-east-1").expect("a valid scope");
    let registry = Registry::new(scope);
    // A trusted certificate the registry refuses is not registered, as in production;
    // the refusal is reported if the path then fails.
    let mut refused = Vec::new();
    for (i, pem) in case.trusted_certs.iter().enumerate() {
        let req = RegisterCaCertificateRequest {
            ca_certificate: pem.clone(),
            verification_certificate: None,
            set_as_active: true,
            allow_auto_registration: true,
            certificate_mode: CertificateMode::SniOnly,
            ..Default::default()
        };
        match registry.register_ca_certificate(&req, now) {
            Ok(_) => {}
            Err(e) if e.code() == "ResourceAlreadyExistsException" => {}
            Err(e) => refused.push(format!(
                "trusted certificate {} refused by RegisterCACertificate: {}: {}",
                i + 1,
                e.code(),
                e.message()
            )),
        }
    }
    let mut chain = Vec::new();
    for pem in std::iter::once(&case.peer_certificate).chain(&case.untrusted_intermediates) {
        match pem_blocks_der(pem) {
            Ok(blocks) => chain.extend(blocks.into_iter().map(CertificateDer::from)),
            Err(e) => return (false, format!("unreadable PEM: {}", e.message())),
        }
    }
    let options = PathOptions::default()
        .with_eku(eku)
        .with_intermediates(true)
        .with_rfc5280_profile(true)
        .with_max_chain_len(LIMBO_MAX_CHAIN_LEN);
    match registry.verify_path(&chain, options, now) {
        Ok(ca) => (true, format!("path to the registered CA {ca}")),
        Err(reason) => {
            let mut context = format!("{}: {}", reason.code(), reason.message());
            for r in &refused {
                let _ = write!(context, "; {r}");
            }
            // Would the decision's own profile have accepted the path?
            if registry
                .verify_path(&chain, options.with_rfc5280_profile(false), now)
                .is_ok()
            {
                context.push_str(DECISION_PROFILE_ACCEPTS);
            }
            (false, context)
        }
    }
}

/// Runs a case on its own thread, so a panic is caught and reported and a case that
/// never ends is abandoned after [`TOO_SLOW`].
fn run_guarded(cases: &Arc<Vec<Testcase>>, index: usize) -> Run {
    let (tx, rx) = mpsc::channel();
    let shared = Arc::clone(cases);
    let start = Instant::now();
    let spawned = std::thread::Builder::new()
        .name(format!("limbo {}", cases[index].id))
        .spawn(move || {
            let result = std::panic::catch_unwind(|| run_case(&shared[index]));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Run {
            success: None,
            context: format!("cannot start a thread: {e}"),
            elapsed: start.elapsed(),
        };
    }
    let outcome = rx.recv_timeout(TOO_SLOW);
    let elapsed = start.elapsed();
    match outcome {
        Ok(Ok((success, context))) => Run {
            success: Some(success),
            context,
            elapsed,
        },
        Ok(Err(panic)) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Run {
                success: None,
                context: format!("PANIC: {msg}"),
                elapsed,
            }
        }
        Err(_) => Run {
            success: None,
            context: format!("TIMEOUT: still running after {TOO_SLOW:?}"),
            elapsed,
        },
    }
}

/// RFC 3339 (`2024-01-01T00:00:00+00:00`, `...Z`, optional fraction) to a timestamp.
fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    Some(Timestamp::from_unix_millis(secs * 1000 + millis))
}

/// Each item on a line of its own, indented, for the report.
fn indented<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(|l| format!("\n  {l}")).collect()
}

/// `JITR_CORPORA_DIR`, else `../shared/corpora` beside the workspace root.
fn corpora_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("JITR_CORPORA_DIR") {
        return PathBuf::from(dir);
    }
    workspace_root().join("../shared/corpora")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// One known divergence, as in rustls-webpki's exceptions file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Exception {
    expected: String,
    actual: String,
    reason: String,
}

fn load_exceptions() -> BTreeMap<String, Exception> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/limbo-exceptions.json");
    let text = std::fs::read_to_string(&path)
        .expect("tests/conformance/limbo-exceptions.json is readable");
    serde_json::from_str(&text).expect("limbo-exceptions.json is {id: {expected, actual, reason}}")
}

/// `family`: the id up to its second `::` (`bettertls::nameconstraints`,
/// `rfc5280::nc`), or up to its first for two-part ids (`rfc5280`, `online`).
fn family(id: &str) -> &str {
    let parts: Vec<&str> = id.splitn(3, "::").collect();
    if parts.len() == 3 {
        &id[..parts[0].len() + 2 + parts[1].len()]
    } else {
        parts[0]
    }
}

/// One row of a table.
#[derive(Default, Clone, Copy)]
struct Row {
    cases: usize,
    /// Gating cases whose result is the expected one.
    passed: usize,
    /// Gating cases that diverge (explained by an exception or not).
    failed: usize,
    /// Of `failed`, those listed in the exceptions file.
    excepted: usize,
    /// Informational cases run, and of them those with the expected result.
    info: usize,
    info_passed: usize,
    /// Skipped: out of scope (rule 2, 3) or peer-name-dependent (rule 1, run apart).
    skipped: usize,
    /// Of `skipped`, the peer-name-dependent cases.
    peer_name: usize,
}

impl Row {
    fn line(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {} | {} | {} | {}/{} | {} | {} |",
            self.cases,
            self.passed,
            self.failed,
            self.excepted,
            self.info_passed,
            self.info,
            self.skipped,
            self.peer_name
        )
    }
}

const TABLE_HEADER: &str = "| | cases | gating passed | gating failed | of which known divergences | informational passed/run | skipped | of which peer-name-dependent |\n|---|---:|---:|---:|---:|---:|---:|---:|";

fn expected_success(case: &Testcase) -> bool {
    case.expected_result == "SUCCESS"
}

fn result_name(success: Option<bool>) -> &'static str {
    match success {
        Some(true) => "SUCCESS",
        Some(false) | None => "FAILURE",
    }
}

/// Compares our results with a reference harness's on the cases both ran.
fn compare(
    reference: &Path,
    cases: &[Testcase],
    ours: &HashMap<&str, (&Scoped, &Run)>,
    out_dir: &Path,
) -> Option<String> {
    let file = File::open(reference).ok()?;
    let v: Value = serde_json::from_reader(BufReader::new(file)).ok()?;
    // Named by file: two OpenSSL runs share a harness name.
    let harness = reference.file_stem()?.to_string_lossy().into_owned();
    let theirs: HashMap<&str, &str> = v["results"]
        .as_array()?
        .iter()
        .filter_map(|r| Some((r["id"].as_str()?, r["actual_result"].as_str()?)))
        .collect();
    let (mut both, mut we_pass, mut they_pass, mut gate_both, mut gate_we, mut gate_they) =
        (0, 0, 0, 0, 0, 0);
    let mut diffs = String::new();
    for case in cases {
        let Some((scoped, run)) = ours.get(case.id.as_str()) else {
            continue;
        };
        let Some(their) = theirs.get(case.id.as_str()) else {
            continue;
        };
        if matches!(scoped, Scoped::Skip(_) | Scoped::PeerName) || *their == "SKIPPED" {
            continue;
        }
        let mine = result_name(run.success);
        let expected = case.expected_result.as_str();
        both += 1;
        we_pass += usize::from(mine == expected);
        they_pass += usize::from(*their == expected);
        if **scoped == Scoped::Gating {
            gate_both += 1;
            gate_we += usize::from(mine == expected);
            gate_they += usize::from(*their == expected);
        }
        if mine != *their {
            let _ = writeln!(
                diffs,
                "{}\texpected {expected}\tjitr {mine}\t{harness} {their}\t{}",
                case.id, run.context
            );
        }
    }
    let diff_path = out_dir.join(format!("diff-{harness}.tsv"));
    let _ = std::fs::write(&diff_path, &diffs);
    Some(format!(
        "vs {harness}: both ran {both} (gating {gate_both}); expected result: jitr {we_pass}, {harness} {they_pass} (gating: jitr {gate_we}, {harness} {gate_they}); {} disagreements in {}",
        diffs.lines().count(),
        diff_path.display()
    ))
}

#[test]
fn x509_limbo() {
    let dir = corpora_dir().join("x509-limbo");
    let limbo_path = dir.join("limbo.json");
    if !limbo_path.is_file() {
        println!("SKIP x509-limbo: corpus not found (set JITR_CORPORA_DIR)");
        return;
    }
    let started = Instant::now();
    let file = File::open(&limbo_path).expect("limbo.json opens");
    let limbo: Limbo = serde_json::from_reader(BufReader::new(file)).expect("limbo.json parses");
    assert_eq!(limbo.version, 1, "limbo.json format version");
    let parsed_in = started.elapsed();
    let peer_name_dependent: HashSet<String> = {
        let file = File::open(dir.join("peer-name-dependent.json"))
            .expect("peer-name-dependent.json opens");
        let v: Value =
            serde_json::from_reader(BufReader::new(file)).expect("peer-name-dependent.json parses");
        v["ids"]
            .as_object()
            .expect("peer-name-dependent.json has ids")
            .keys()
            .cloned()
            .collect()
    };
    let exceptions = load_exceptions();
    let cases = Arc::new(limbo.testcases);

    // Run every case that is in scope (gating, informational, peer-name-dependent).
    let run_started = Instant::now();
    let mut runs: Vec<(Scoped, Option<Run>)> = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        let scoped = scope(case, &peer_name_dependent);
        let run = match scoped {
            Scoped::Skip(_) => None,
            _ => Some(run_guarded(&cases, i)),
        };
        runs.push((scoped, run));
    }
    let run_in = run_started.elapsed();

    // Tally.
    let mut by_family: BTreeMap<&str, Row> = BTreeMap::new();
    let mut by_feature: BTreeMap<&str, Row> = BTreeMap::new();
    let mut total = Row::default();
    let mut unexplained = Vec::new();
    let mut stale = Vec::new();
    let mut broken = Vec::new();
    let mut slow = Vec::new();
    let mut info_divergent = Vec::new();
    let (mut pn_run, mut pn_accepted, mut pn_rejected) = (0, 0, Vec::new());
    let mut results = Vec::with_capacity(cases.len());
    for (case, (scoped, run)) in cases.iter().zip(&runs) {
        let mut row = Row {
            cases: 1,
            ..Row::default()
        };
        let expected = expected_success(case);
        if let Some(run) = run {
            if run.elapsed > SLOW {
                slow.push(format!("{} ({:.2?})", case.id, run.elapsed));
            }
            if run.success.is_none() || run.elapsed > TOO_SLOW {
                broken.push(format!(
                    "{}: {} ({:.2?})",
                    case.id, run.context, run.elapsed
                ));
            }
        }
        let exception = exceptions.get(&case.id);
        match (scoped, run) {
            (Scoped::Skip(reason), _) => {
                row.skipped = 1;
                results.push(json!({"id": case.id, "actual_result": "SKIPPED", "context": reason}));
            }
            (Scoped::PeerName, Some(run)) => {
                row.skipped = 1;
                row.peer_name = 1;
                pn_run += 1;
                if run.success == Some(true) {
                    pn_accepted += 1;
                } else {
                    pn_rejected.push(format!("{}: {}", case.id, run.context));
                }
                results.push(json!({"id": case.id, "actual_result": "SKIPPED",
                    "context": format!("peer-name matching is not in scope for client certificates (chain alone: {}; {})", result_name(run.success), run.context)}));
            }
            (Scoped::Informational, Some(run)) => {
                row.info = 1;
                let ok = run.success == Some(expected);
                row.info_passed = usize::from(ok);
                if !ok {
                    info_divergent.push(format!(
                        "{} (expected {}): {}",
                        case.id, case.expected_result, run.context
                    ));
                }
                results.push(json!({"id": case.id, "actual_result": result_name(run.success), "context": run.context}));
            }
            (Scoped::Gating, Some(run)) => {
                let actual = result_name(run.success);
                if run.success == Some(expected) {
                    row.passed = 1;
                    if exception.is_some() {
                        stale.push(format!(
                            "{}: listed as a divergence but now gives the expected {actual}",
                            case.id
                        ));
                    }
                } else {
                    row.failed = 1;
                    match exception {
                        Some(e) if e.actual == actual && e.expected == case.expected_result => {
                            row.excepted = 1;
                            assert!(!e.reason.trim().is_empty(), "{}: an exception needs a reason", case.id);
                        }
                        Some(e) => stale.push(format!(
                            "{}: the exception says expected {} / actual {}, the run gives expected {} / actual {actual}",
                            case.id, e.expected, e.actual, case.expected_result
                        )),
                        None => unexplained.push(format!(
                            "{} (expected {}, got {actual}): {}",
                            case.id, case.expected_result, run.context
                        )),
                    }
                }
                results
                    .push(json!({"id": case.id, "actual_result": actual, "context": run.context}));
            }
            (_, None) => unreachable!("every case in scope is run"),
        }
        if exception.is_some() && *scoped != Scoped::Gating {
            stale.push(format!(
                "{}: has an exception but does not gate ({scoped:?})",
                case.id
            ));
        }
        let add = |t: &mut Row| {
            t.cases += row.cases;
            t.passed += row.passed;
            t.failed += row.failed;
            t.excepted += row.excepted;
            t.info += row.info;
            t.info_passed += row.info_passed;
            t.skipped += row.skipped;
            t.peer_name += row.peer_name;
        };
        add(by_family.entry(family(&case.id)).or_default());
        if case.features.is_empty() {
            add(by_feature.entry("(none)").or_default());
        }
        for f in &case.features {
            add(by_feature.entry(f.as_str()).or_default());
        }
        add(&mut total);
    }
    let ids: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    for id in exceptions.keys() {
        if !ids.contains(id.as_str()) {
            stale.push(format!("{id}: has an exception but is not in limbo.json"));
        }
    }

    // Report.
    let mut report = String::new();
    let _ = writeln!(report, "### x509-limbo by family\n\n{TABLE_HEADER}");
    for (name, row) in &by_family {
        let _ = writeln!(report, "{}", row.line(&format!("`{name}`")));
    }
    let _ = writeln!(report, "{}", total.line("**total**"));
    let _ = writeln!(report, "\n### x509-limbo by feature\n\n{TABLE_HEADER}");
    for (name, row) in &by_feature {
        let _ = writeln!(report, "{}", row.line(&format!("`{name}`")));
    }
    let out_dir = target_dir().join("limbo");
    std::fs::create_dir_all(&out_dir).expect("target/limbo can be created");
    let harness = format!("jitr-{}", env!("CARGO_PKG_VERSION"));
    let result_file = json!({"version": 1, "harness": harness, "results": results});
    std::fs::write(
        out_dir.join("jitr-results.json"),
        serde_json::to_string_pretty(&result_file).unwrap_or_default(),
    )
    .expect("the results can be written");
    std::fs::write(out_dir.join("table.md"), &report).expect("the table can be written");

    println!("{report}");
    println!(
        "parsed limbo.json ({} cases) in {parsed_in:.2?}; ran {} cases in {run_in:.2?}",
        cases.len(),
        runs.iter().filter(|(_, r)| r.is_some()).count()
    );
    let ours: HashMap<&str, (&Scoped, &Run)> = cases
        .iter()
        .zip(&runs)
        .filter_map(|(c, (s, r))| Some((c.id.as_str(), (s, r.as_ref()?))))
        .collect();
    let mut references: Vec<PathBuf> = std::fs::read_dir(dir.join("reference-results"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    references.sort();
    for reference in references {
        if reference
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("-exceptions.json"))
        {
            continue;
        }
        if let Some(line) = compare(&reference, &cases, &ours, &out_dir) {
            println!("{line}");
        }
    }
    println!(
        "peer-name-dependent (skipped): {pn_run} run on the chain alone, {pn_accepted} accepted, {} rejected for reasons other than the peer name{}",
        pn_rejected.len(),
        indented(&pn_rejected)
    );
    let profile_only: Vec<String> = cases
        .iter()
        .zip(&runs)
        .filter(|(_, (scoped, run))| {
            *scoped == Scoped::Gating
                && run
                    .as_ref()
                    .is_some_and(|r| r.context.ends_with(DECISION_PROFILE_ACCEPTS))
        })
        .map(|(case, _)| format!("{} (expected {})", case.id, case.expected_result))
        .collect();
    println!(
        "gating cases only the RFC 5280 profile refuses (the JITR decision's profile accepts them): {}{}",
        profile_only.len(),
        indented(&profile_only)
    );
    println!(
        "informational divergences: {}{}",
        info_divergent.len(),
        indented(&info_divergent)
    );
    println!("SLOW (> {SLOW:?}): {}{}", slow.len(), indented(&slow));
    println!(
        "gating: {} cases, {} passed, {} known divergences (tests/conformance/limbo-exceptions.json), {} unexplained",
        total.passed + total.failed,
        total.passed,
        total.excepted,
        unexplained.len()
    );
    println!(
        "{} passed, {} failed, {} skipped",
        total.passed + total.info_passed,
        total.failed + total.info - total.info_passed,
        total.skipped
    );

    let mut problems = Vec::new();
    if !broken.is_empty() {
        problems.push(format!(
            "cases that panicked or ran over {TOO_SLOW:?}:\n{}",
            broken.join("\n")
        ));
    }
    if !stale.is_empty() {
        problems.push(format!(
            "stale entries in limbo-exceptions.json (remove or fix them):\n{}",
            stale.join("\n")
        ));
    }
    if !unexplained.is_empty() {
        problems.push(format!(
            "{} gating cases diverge without an entry in limbo-exceptions.json:\n{}",
            unexplained.len(),
            unexplained.join("\n")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn rfc3339_times() {
    let t = |s| parse_rfc3339(s).map(Timestamp::unix_millis);
    assert_eq!(t("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(t("2024-01-01T00:00:00+00:00"), Some(1_704_067_200_000));
    assert_eq!(t("2024-01-01T01:30:00+01:30"), Some(1_704_067_200_000));
    assert_eq!(t("2024-01-01T00:00:00.25-00:00"), Some(1_704_067_200_250));
    assert_eq!(t("2000-02-29T12:00:00Z"), Some(951_825_600_000));
    assert_eq!(t("not a time"), None);
}

#[test]
fn families() {
    assert_eq!(
        family("bettertls::nameconstraints::tc1"),
        "bettertls::nameconstraints"
    );
    assert_eq!(family("rfc5280::nc::permitted-dns-match"), "rfc5280::nc");
    assert_eq!(family("rfc5280::ca-as-leaf"), "rfc5280");
    assert_eq!(family("online::google.com"), "online");
}
