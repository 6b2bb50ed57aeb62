//! The durable stores at scale (issue 10's benchmarks that do not fit criterion): each
//! command measures one thing in a fresh process and prints one JSON line per figure.
//! `scripts/bench-store.sh` runs them all on SQLite and a throw-away PostgreSQL and
//! prints the table; run one by hand with
//!
//! ```text
//! cargo bench -p jitr-core --features bench-internals,sqlite,postgres --bench store_scale -- CMD ARGS
//! ```
//!
//! - `fill URL N [DER_BYTES]`: registers one CA, then writes N synthetic certificate
//!   rows straight into the store (`Store::bench_insert_certificates`: large
//!   transactions, PostgreSQL `COPY`), each holding the same DER of DER_BYTES bytes (a
//!   real device certificate when DER_BYTES is `real`).
//! - `load URL N`: a fresh `Registry::open` on a store filled by `fill`: the time to load
//!   the hot index, and the resident memory it added, per certificate.
//! - `list URL N`: one `list_certificates` page at markers deep in a list of N (after
//!   `fill`; for `memory:` the rows are written in-process first).
//! - `propagate URL SAMPLES`: two registries on one store (separate connections, as two
//!   nodes); node A flips a certificate ACTIVE/INACTIVE; the time until node B's
//!   subscription delivers the change (node B's decision is checked to have changed).
//! - `cas URL N SECONDS`: N CA certificates registered one by one in DEFAULT mode, each
//!   with its proof of possession (the CAs and verification certificates are made in
//!   chunks of 1,000 between the timed calls); stops once the registrations took
//!   SECONDS. Beside it, the floor: the proof-of-possession check alone.
//!
//! - `decide URL N`: N decisions of a known certificate among 1,000 loaded from the
//!   store (or `floor`: SHA-256 + `HashMap::get`), for an instruction count under
//!   callgrind.
//!
//! Every loop is bounded in count and in time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{now, register_active, register_sni_only_ca, sha256, Ca};
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::store::BenchCertificate;
use jitr_core::*;
use jitr_testkit::{self as kit, Key};

const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1").unwrap()
}

fn open(store: &Store) -> Registry {
    Registry::open(scope(), RegistryConfig::default(), store).unwrap()
}

fn kind(url: &str) -> &'static str {
    if url.starts_with("sqlite") {
        "sqlite"
    } else if url.starts_with("postgres") {
        "postgresql"
    } else {
        "memory"
    }
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// The percentile `p` (0..=100) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn emit(v: serde_json::Value) {
    println!("{v}");
}

/// The synthetic certificate number `i`: ID = SHA-256 of `i`, created at a base date
/// plus `i / 4` milliseconds (so creation dates tie and the ID breaks the tie).
fn synthetic(i: u64, ca: CertificateId) -> BenchCertificate {
    let d = ring::digest::digest(&ring::digest::SHA256, &i.to_le_bytes());
    let mut id = [0u8; 32];
    id.copy_from_slice(d.as_ref());
    BenchCertificate {
        id: CertificateId::from_bytes(id),
        ca_id: Some(ca),
        status: CertificateStatus::Active,
        validity: Validity {
            not_before: Timestamp::from_unix_secs(1_735_689_600),
            not_after: Timestamp::from_unix_secs(2_051_222_400),
        },
        creation_date: Timestamp::from_unix_millis(1_750_000_000_000 + (i / 4) as i64),
    }
}

/// The CA the synthetic rows name, registered through the registry (SNI_ONLY). Made from
/// a fixed key so every process makes the same one.
fn fleet_ca() -> Ca {
    Ca::new(
        "Synthetic fleet CA",
        Key::ed25519("synthetic fleet").unwrap(),
    )
}

fn fill_store(store: &Store, n: u64, der: &[u8]) -> Duration {
    let reg = open(store);
    let ca = fleet_ca();
    let ca_id = register_sni_only_ca(&reg, &ca);
    drop(reg);
    let start = Instant::now();
    let written = store
        .bench_insert_certificates(&scope(), &mut (0..n).map(|i| synthetic(i, ca_id)), der)
        .unwrap();
    assert_eq!(written, n);
    start.elapsed()
}

fn der_of(arg: Option<&str>) -> Vec<u8> {
    match arg {
        Some("real") => {
            let ca = fleet_ca();
            ca.device("a device").0.to_vec()
        }
        Some(n) => vec![0x30; n.parse().expect("DER_BYTES: a number or `real`")],
        None => vec![0x30; 64],
    }
}

fn cmd_fill(url: &str, n: u64, der: Option<&str>) {
    let der = der_of(der);
    let store = Store::open(url).unwrap();
    let took = fill_store(&store, n, &der);
    emit(serde_json::json!({
        "case": "fill", "store": kind(url), "n": n, "der_bytes": der.len(),
        "seconds": took.as_secs_f64(),
        "rows_per_second": n as f64 / took.as_secs_f64(),
    }));
}

fn cmd_load(url: &str, n: u64) {
    // The connections are open (and the schema checked) before the baseline.
    let store = Store::open(url).unwrap();
    let before = resident_bytes();
    let peak_before = peak_resident_bytes();
    let start = Instant::now();
    let reg = open(&store);
    let took = start.elapsed();
    let after = resident_bytes();
    let peak = peak_resident_bytes();
    let count = reg.certificate_count() as u64;
    assert!(
        count >= n,
        "the store holds {count} certificates, expected {n}"
    );
    emit(serde_json::json!({
        "case": "load", "store": kind(url), "n": count,
        "seconds": took.as_secs_f64(),
        "rss_bytes_per_certificate": after.saturating_sub(before) as f64 / count as f64,
        "peak_rss_bytes_per_certificate": peak.saturating_sub(peak_before.max(before)) as f64 / count as f64,
        "hot_index_bytes_per_certificate": reg.hot_index_bytes() as f64 / count as f64,
    }));
}

fn marker_of(c: &BenchCertificate) -> String {
    format!("{:016x}{}", c.creation_date.unix_millis() as u64, c.id)
}

fn key_of(s: &CertificateSummary) -> (Timestamp, CertificateId) {
    (s.creation_date, s.certificate_id)
}

fn cmd_list(url: &str, n: u64) {
    let store = Store::open(url).unwrap();
    let ca_id = Certificate::from_pem(&fleet_ca().pem).unwrap().id();
    if kind(url) == "memory" {
        fill_store(&store, n, &der_of(None));
    }
    let reg = open(&store);
    // The marker format is the registry's own: check it against a real page first.
    let first = reg
        .list_certificates(&ListRequest {
            page_size: Some(25),
            ascending_order: true,
            ..Default::default()
        })
        .unwrap();
    let mut head: Vec<BenchCertificate> = (0..64).map(|i| synthetic(i, ca_id)).collect();
    head.sort_by_key(|c| (c.creation_date, c.id));
    assert_eq!(
        first.next_marker.as_deref(),
        Some(marker_of(&head[24]).as_str()),
        "the marker format changed: update marker_of"
    );
    assert_eq!(first.items[0].certificate_id, head[0].id);
    for (size, ascending) in [(25u32, true), (25, false), (250, true), (250, false)] {
        let mut samples = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..300 {
            if Instant::now() > deadline {
                break;
            }
            // A marker in the deepest fifth of the list (either direction).
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let k = if ascending {
                n * 4 / 5 + state % (n / 5 - u64::from(size) - 1)
            } else {
                n / 5 - state % (n / 5 - u64::from(size) - 1)
            };
            let at = synthetic(k, ca_id);
            let req = ListRequest {
                page_size: Some(size),
                marker: Some(marker_of(&at)),
                ascending_order: ascending,
            };
            let start = Instant::now();
            let page = reg.list_certificates(&req).unwrap();
            let took = start.elapsed();
            assert_eq!(page.items.len(), size as usize);
            let at_key = (at.creation_date, at.id);
            for w in page.items.windows(2) {
                assert_eq!(key_of(&w[0]) < key_of(&w[1]), ascending, "page order");
            }
            assert_eq!(
                key_of(&page.items[0]) > at_key,
                ascending,
                "the page starts after the marker"
            );
            if round >= 10 {
                samples.push(took); // the first ten warm the caches
            }
        }
        samples.sort();
        emit(serde_json::json!({
            "case": "list", "store": kind(url), "n": n, "page_size": size,
            "ascending": ascending, "samples": samples.len(),
            "p50_ms": ms(percentile(&samples, 50.0)),
            "p99_ms": ms(percentile(&samples, 99.0)),
        }));
    }
}

fn cmd_propagate(url: &str, samples: usize) {
    let a = open(&Store::open(url).unwrap());
    let b = open(&Store::open(url).unwrap());
    let ca = Ca::p256("Propagation CA");
    register_sni_only_ca(&a, &ca);
    let (leaf, _) = ca.device("propagating device");
    let id = register_active(&a, &leaf);
    b.catch_up().unwrap();
    let chain = [CertificateDer::from(leaf.to_vec())];
    assert!(b.decide(&chain, None, now()).is_allowed());
    let feed = b.subscribe();
    let mut from_call = Vec::new();
    let mut from_ack = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for i in 0..samples {
        if Instant::now() > deadline {
            break;
        }
        // A random pause, so a polling follower is caught at every phase of its cycle.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::thread::sleep(Duration::from_micros(state % 30_000));
        let status = if i % 2 == 0 {
            CertificateStatus::Inactive
        } else {
            CertificateStatus::Active
        };
        let start = Instant::now();
        a.update_certificate(&id, status, now()).unwrap();
        let acked = Instant::now();
        let arrived = loop {
            let c = feed
                .recv_timeout(Duration::from_secs(5))
                .expect("node B's feed delivers the change within 5 s");
            if let Change::CertificateStatusChanged {
                certificate_id,
                status: s,
                ..
            } = c.change
            {
                if certificate_id == id && s == status {
                    break Instant::now();
                }
            }
        };
        assert_eq!(
            b.decide(&chain, None, now()).is_allowed(),
            status == CertificateStatus::Active,
            "node B decides by the new status once its feed delivered it"
        );
        from_call.push(arrived - start);
        from_ack.push(arrived - acked);
    }
    from_call.sort();
    from_ack.sort();
    emit(serde_json::json!({
        "case": "propagate", "store": kind(url), "samples": from_call.len(),
        "p50_ms": ms(percentile(&from_call, 50.0)),
        "p99_ms": ms(percentile(&from_call, 99.0)),
        "max_ms": ms(percentile(&from_call, 100.0)),
        "after_ack_p50_ms": ms(percentile(&from_ack, 50.0)),
        "after_ack_p99_ms": ms(percentile(&from_ack, 99.0)),
    }));
}

/// CA `i` and its verification certificate (CN = the registration code) as a request:
/// an Ed25519 CA with its own key, the verification certificate under `verification_key`.
fn ca_request(i: usize, verification_key: &Key) -> RegisterCaCertificateRequest {
    let ca = kit::Ca::root(
        kit::ca_params(kit::cn(&format!("Bench CA {i}")), None, kit::VALIDITY),
        Key::random_ed25519().unwrap(),
    )
    .unwrap();
    let verification = ca
        .issue(
            &kit::leaf_params(kit::cn(CODE), None, kit::VALIDITY, kit::Eku::ClientAuth),
            verification_key,
        )
        .unwrap();
    RegisterCaCertificateRequest {
        ca_certificate: ca.cert.pem.clone(),
        verification_certificate: Some(verification.pem),
        set_as_active: true,
        allow_auto_registration: true,
        certificate_mode: CertificateMode::Default,
        ..Default::default()
    }
}

fn cmd_cas(url: &str, n: usize, seconds: u64) {
    const CHUNK: usize = 1_000;
    let verification_key = Key::random_ed25519().unwrap();
    let store = Store::open(url).unwrap();
    let reg = open(&store).with_registration_code(CODE).unwrap();
    let budget = Duration::from_secs(seconds);
    let mut each = Vec::with_capacity(n);
    let mut registering = Duration::ZERO;
    let mut generating = Duration::ZERO;
    // The floor: the proof of possession alone (parse the CA, parse the verification
    // certificate, check its CN and its signature), on the first 10,000 requests.
    let mut floor = Vec::new();
    let wall = Instant::now();
    'all: while each.len() < n {
        // The next CAs and their verification certificates, made outside the timed part.
        let made = Instant::now();
        let chunk: Vec<_> = (each.len()..n.min(each.len() + CHUNK))
            .map(|i| ca_request(i, &verification_key))
            .collect();
        generating += made.elapsed();
        if floor.len() < 10_000 {
            for req in &chunk {
                let t = Instant::now();
                let ca = Certificate::from_pem(&req.ca_certificate).unwrap();
                check_verification_certificate(
                    &ca,
                    req.verification_certificate.as_deref().unwrap(),
                    CODE,
                    now(),
                    true,
                )
                .unwrap();
                floor.push(t.elapsed());
            }
        }
        for req in &chunk {
            let t = Instant::now();
            reg.register_ca_certificate(req, now()).unwrap();
            let took = t.elapsed();
            registering += took;
            each.push(took);
            if registering > budget || wall.elapsed() > budget * 3 {
                break 'all;
            }
        }
    }
    let done = each.len();
    assert_eq!(reg.ca_certificate_count(), done);
    let window = 1000.min(done);
    let mean = |s: &[Duration]| ms(s.iter().sum::<Duration>()) / s.len().max(1) as f64;
    emit(serde_json::json!({
        "case": "cas", "store": kind(url), "asked": n, "registered": done,
        "seconds": registering.as_secs_f64(),
        "projected_seconds_for_asked": registering.as_secs_f64() * n as f64 / done.max(1) as f64,
        "mean_ms": mean(&each),
        "first_1000_mean_ms": mean(&each[..window]),
        "last_1000_mean_ms": mean(&each[done - window..]),
        "proof_of_possession_floor_ms": mean(&floor),
        "generation_seconds": generating.as_secs_f64(),
    }));
}

/// The decisions counted under callgrind (`--toggle-collect=store_scale::measure_decide`).
#[inline(never)]
fn measure_decide(reg: &Registry, chain: &[CertificateDer<'_>], n: usize) -> usize {
    (0..n)
        .filter(|_| reg.decide(black_box(chain), None, now()).is_allowed())
        .count()
}

/// The floor, counted the same way: SHA-256 of the DER and one `HashMap` lookup.
#[inline(never)]
fn measure_floor(map: &HashMap<[u8; 32], u64>, der: &[u8], n: usize) -> usize {
    (0..n)
        .filter(|_| map.get(&sha256(black_box(der))).is_some())
        .count()
}

/// `decide URL N`: N decisions of a known ACTIVE certificate among 1,000 loaded from the
/// store (`floor` instead of a URL: the floor), for an instruction count under callgrind
/// (deterministic, so it holds on a busy machine where wall time does not).
fn cmd_decide(url: &str, n: usize) {
    const LOADED: u64 = 1_000;
    let ca = Ca::p256("Fleet CA");
    let (leaf, _) = ca.device("device");
    let chain = [leaf.clone()];
    if url == "floor" {
        let mut map: HashMap<[u8; 32], u64> =
            (1..LOADED).map(|i| (sha256(&i.to_le_bytes()), i)).collect();
        map.insert(sha256(&leaf), 0);
        assert_eq!(measure_floor(&map, &leaf, n), n);
        emit(serde_json::json!({"case": "decide", "store": "floor", "n": n}));
        return;
    }
    let store = Store::open(url).unwrap();
    let setup = open(&store);
    let ca_id = register_sni_only_ca(&setup, &ca);
    let validity = Certificate::from_der(&leaf).unwrap().validity();
    register_active(&setup, &leaf);
    drop(setup);
    common::fill_active(&store, &scope(), ca_id, LOADED, validity, &leaf);
    let reg = open(&store);
    assert_eq!(reg.certificate_count() as u64, LOADED);
    assert_eq!(measure_decide(&reg, &chain, n), n);
    emit(serde_json::json!({"case": "decide", "store": kind(url), "n": n}));
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let arg = |i: usize| -> &str {
        args.get(i)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("missing argument {i}; see the module docs"))
    };
    let num = |i: usize| -> u64 { arg(i).parse().expect("a number") };
    match args.first().map(String::as_str) {
        Some("fill") => cmd_fill(arg(1), num(2), args.get(3).map(String::as_str)),
        Some("load") => cmd_load(arg(1), num(2)),
        Some("list") => cmd_list(arg(1), num(2)),
        Some("propagate") => cmd_propagate(arg(1), num(2) as usize),
        Some("decide") => cmd_decide(arg(1), num(2) as usize),
        Some("cas") => cmd_cas(arg(1), num(2) as usize, num(3)),
        // `cargo bench` with no command (the whole suite): nothing to do here.
        None => println!("store_scale: give a command (see scripts/bench-store.sh)"),
        Some(other) => panic!("unknown command {other:?}"),
    }
}
