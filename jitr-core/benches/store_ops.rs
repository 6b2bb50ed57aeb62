//! The durable stores against the in-memory one, in one run (issue 10's benchmarks
//! that fit criterion):
//!
//! ```text
//! JITR_BENCH_PG=postgresql://… cargo bench -p jitr-core --features bench-internals,sqlite,postgres --bench store_ops
//! ```
//!
//! - `store_known/1000`: the decision for a registered ACTIVE certificate among 1,000
//!   loaded from each store, vs the floor (SHA-256 of the DER + one `HashMap` lookup).
//!   The decision reads the hot index only, so the store should not show.
//! - `store_register`: a first connect that registers the device (one P-256 signature
//!   verified, one durable commit), on each store; beside it the price of durability
//!   alone: one `fdatasync` of a 4 KiB write in the SQLite file's directory, and one
//!   PostgreSQL round trip (`SELECT 1`) and empty-transaction commit.
//!
//! PostgreSQL is measured when `JITR_BENCH_PG` names a server (scripts/bench-store.sh
//! starts a throw-away one); each registry gets a fresh schema there. SQLite files go to
//! `JITR_BENCH_DIR` (default `target/bench-store`) and are deleted at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1").unwrap()
}

fn bench_dir() -> PathBuf {
    let dir = std::env::var_os("JITR_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-store"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The stores measured: memory, SQLite, and PostgreSQL when a server is given.
fn kinds() -> Vec<&'static str> {
    let mut k = vec!["memory", "sqlite"];
    if std::env::var("JITR_BENCH_PG").is_ok() {
        k.push("postgresql");
    }
    k
}

/// A new, empty store of `kind`.
fn fresh_store(kind: &str) -> Store {
    let url = match kind {
        "memory" => "memory:".to_string(),
        "sqlite" => {
            let path = bench_dir().join(format!("ops_{}.db", unique()));
            format!("sqlite://{}", path.display())
        }
        _ => {
            let url = std::env::var("JITR_BENCH_PG").unwrap();
            let schema = format!("ops_{}", unique());
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-csearch_path%3D{schema}")
        }
    };
    Store::open(&url).unwrap()
}

/// Deletes the SQLite files and PostgreSQL schemas this run made.
fn clean_up() {
    if let Ok(entries) = std::fs::read_dir(bench_dir()) {
        let mine = format!("ops_{}_", std::process::id());
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&mine) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    if let Ok(url) = std::env::var("JITR_BENCH_PG") {
        if let Ok(mut client) = postgres::Client::connect(&url, postgres::NoTls) {
            let mine = format!("ops_{}_%", std::process::id());
            let schemas: Vec<String> = client
                .query(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
                    &[&mine],
                )
                .map(|rows| rows.iter().map(|r| r.get(0)).collect())
                .unwrap_or_default();
            for s in schemas {
                let _ = client.batch_execute(&format!("DROP SCHEMA {s} CASCADE"));
            }
        }
    }
}

fn open(store: &Store) -> Registry {
    Registry::open(scope(), RegistryConfig::default(), store).unwrap()
}

fn known_active(c: &mut Criterion) {
    const N: u64 = 1_000;
    let ca = Ca::p256("Fleet CA");
    let (leaf, _) = ca.device("device");
    let validity = Certificate::from_der(&leaf).unwrap().validity();
    let mut floor: HashMap<[u8; 32], u64> = HashMap::with_capacity(N as usize);
    floor.insert(sha256(&leaf), 0);
    for i in 1..N {
        floor.insert(sha256(&i.to_le_bytes()), i);
    }
    let chain = [leaf.clone()];
    let mut g = c.benchmark_group(format!("store_known/{N}"));
    g.bench_function("floor: sha256 + HashMap::get", |b| {
        b.iter(|| black_box(floor.get(&sha256(black_box(&leaf)))))
    });
    for kind in kinds() {
        // The device registered through the registry, 999 more written into the
        // store, then a fresh registry loads all 1,000 from it.
        let store = fresh_store(kind);
        let setup = open(&store);
        let ca_id = register_sni_only_ca(&setup, &ca);
        register_active(&setup, &leaf);
        drop(setup);
        fill_active(&store, &scope(), ca_id, N, validity, &leaf);
        let reg = open(&store);
        assert_eq!(reg.certificate_count(), N as usize);
        g.bench_function(format!("jitr: Registry::decide, {kind} store"), |b| {
            b.iter(|| {
                let d = reg.decide(black_box(&chain), None, now());
                assert!(d.is_allowed());
                d
            })
        });
    }
    g.finish();
}

fn register(c: &mut Criterion) {
    const POOL: usize = 400;
    let ca = Ca::p256("Registering CA");
    let pool: Vec<CertificateDer<'static>> =
        (0..POOL).map(|i| ca.device(&format!("d{i}")).0).collect();
    let mut g = c.benchmark_group("store_register");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));
    for kind in kinds() {
        g.bench_function(
            format!("jitr: Registry::decide registers, {kind} store"),
            |b| {
                b.iter_custom(|iters| {
                    // A fresh store per pass over the pool: each decision registers.
                    time_registrations(iters, &pool, &ca.der, || {
                        let store = fresh_store(kind);
                        let reg = open(&store);
                        register_sni_only_ca(&reg, &ca);
                        (reg, store)
                    })
                })
            },
        );
    }
    // What durability costs by itself on this machine.
    let path = bench_dir().join(format!("ops_{}_fsync", unique()));
    let mut file = std::fs::File::create(&path).unwrap();
    let block = [0x5au8; 4096];
    g.bench_function("floor: 4 KiB write + fdatasync (SQLite's commit)", |b| {
        b.iter(|| {
            file.write_all(&block).unwrap();
            file.sync_data().unwrap();
        })
    });
    drop(file);
    let _ = std::fs::remove_file(&path);
    if let Ok(url) = std::env::var("JITR_BENCH_PG") {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        g.bench_function("floor: PostgreSQL round trip (SELECT 1)", |b| {
            b.iter(|| client.simple_query("SELECT 1").unwrap())
        });
        // A logged table (a temporary one would skip the WAL flush at commit).
        let table = format!("ops_{}.floor", unique());
        let schema = table.split('.').next().unwrap_or_default().to_string();
        client
            .batch_execute(&format!(
                "CREATE SCHEMA {schema}; CREATE TABLE {table} (n BIGINT)"
            ))
            .unwrap();
        let insert = client
            .prepare(&format!("INSERT INTO {table} VALUES (1)"))
            .unwrap();
        g.bench_function(
            "floor: PostgreSQL one-row insert, committed (WAL flush)",
            |b| b.iter(|| client.execute(&insert, &[]).unwrap()),
        );
    }
    g.finish();
}

fn cleanup(_: &mut Criterion) {
    clean_up();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1)).sample_size(50);
    targets = known_active, register, cleanup
}
criterion_main!(benches);
