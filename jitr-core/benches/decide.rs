//! The hot path, each beside the baseline it is judged against, in one run:
//!
//! ```text
//! cargo bench -p jitr-core --features bench-internals --bench decide
//! ```
//!
//! - `known_active/N`: the decision for a registered ACTIVE certificate among N, vs the
//!   floor (SHA-256 of the DER + one `HashMap` lookup).
//! - `new_cert/ALG`: the decision that registers a new certificate, vs the floor (webpki
//!   parse + one signature verification against the CA).
//! - `ca_scaling/N`: the handshake-time check of a new device's chain with N registered
//!   CAs, vs stock webpki `verify_for_usage` given all N as anchors; and the rejection of
//!   an unknown issuer.
//! - `handshake/N`: full in-memory TLS 1.3 handshakes with client auth, JitrClientVerifier
//!   vs WebPkiClientVerifier, with N CAs: the server's CPU time per handshake (the
//!   client's work is excluded), the inverse of a gateway's handshakes per second per core.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use criterion::{criterion_group, criterion_main, Criterion};
use jitr_core::rustls_pki_types::{CertificateDer, ServerName, TrustAnchor};
use jitr_core::verifier::JitrClientVerifier;
use jitr_core::*;

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

fn known_active(c: &mut Criterion) {
    let ca = Ca::p256("Fleet CA");
    let (leaf, _) = ca.device("device");
    let validity = Certificate::from_der(&leaf).unwrap().validity();
    for n in [1_000usize, 10_000_000] {
        let reg = registry_with(&[&ca.pem]);
        register_active(&reg, &leaf);
        let mut floor: HashMap<[u8; 32], u64> = HashMap::with_capacity(n);
        floor.insert(sha256(&leaf), 0);
        for i in 1..n as u64 {
            let id = sha256(&i.to_le_bytes());
            reg.bench_insert_hot_active(CertificateId::from_bytes(id), &validity);
            floor.insert(id, i);
        }
        let chain = [leaf.clone()];
        let mut g = c.benchmark_group(format!("known_active/{n}"));
        g.bench_function("floor: sha256 + HashMap::get", |b| {
            b.iter(|| black_box(floor.get(&sha256(black_box(&leaf)))))
        });
        g.bench_function("jitr: Registry::decide", |b| {
            b.iter(|| {
                let d = reg.decide(black_box(&chain), None, now());
                assert!(d.is_allowed());
                d
            })
        });
        g.finish();
    }
}

fn new_cert(c: &mut Criterion) {
    for (name, ca) in [
        ("P-256", Ca::p256("P-256 CA")),
        ("RSA-2048", Ca::rsa("RSA CA")),
    ] {
        let pool: Vec<CertificateDer<'static>> =
            (0..500).map(|i| ca.device(&format!("d{i}")).0).collect();
        let anchor = webpki::anchor_from_trusted_cert(&ca.der)
            .unwrap()
            .to_owned();
        let mut g = c.benchmark_group(format!("new_cert/{name}"));
        let mut i = 0;
        g.bench_function("floor: webpki parse + verify", |b| {
            b.iter(|| {
                i = (i + 1) % pool.len();
                webpki_verify(&pool[i], core::slice::from_ref(&anchor))
            })
        });
        g.bench_function("jitr: Registry::decide (registers)", |b| {
            b.iter_custom(|iters| {
                // A fresh registry per pass over the pool: each decision registers.
                time_registrations(iters, &pool, &ca.der, || (registry_with(&[&ca.pem]), ()))
            })
        });
        g.finish();
    }
}

fn ca_scaling(c: &mut Criterion) {
    let target = Ca::p256("Fleet CA");
    let (leaf, _) = target.device("new-device");
    let stranger = Ca::p256("Stranger CA");
    let (stranger_leaf, _) = stranger.device("stranger");
    let fillers = filler_cas(99_999);
    for n in [1usize, 1_000, 100_000] {
        let mut pems: Vec<&str> = fillers[..n - 1].iter().map(String::as_str).collect();
        pems.push(&target.pem);
        let reg = registry_with(&pems);
        let ders: Vec<CertificateDer<'static>> = pems
            .iter()
            .map(|p| CertificateDer::from(Certificate::from_pem(p).unwrap().der().to_vec()))
            .collect();
        let anchors: Vec<TrustAnchor<'static>> = ders
            .iter()
            .map(|d| webpki::anchor_from_trusted_cert(d).unwrap().to_owned())
            .collect();
        let chain = [leaf.clone(), target.der.clone()];
        let mut g = c.benchmark_group(format!("ca_scaling/{n}"));
        g.bench_function("webpki verify_for_usage, all CAs as anchors", |b| {
            b.iter(|| webpki_verify(&leaf, &anchors))
        });
        g.bench_function("jitr: Registry::authenticate (new device)", |b| {
            b.iter(|| assert!(reg.authenticate(black_box(&chain), None, now()).is_ok()))
        });
        if n == 100_000 {
            let unknown = [stranger_leaf.clone(), stranger.der.clone()];
            g.bench_function("jitr: unknown issuer refused", |b| {
                b.iter(|| {
                    let d = reg.decide(black_box(&unknown), None, now());
                    assert_eq!(d.reason_code(), Some("UNKNOWN_ISSUER"));
                })
            });
        }
        g.finish();
    }
}

/// One in-memory TLS 1.3 handshake with client auth; returns the time spent in the
/// server's calls alone (a gateway's cost per handshake; the client's work is excluded).
fn handshake(client: Arc<rustls::ClientConfig>, server: Arc<rustls::ServerConfig>) -> Duration {
    let mut c = rustls::ClientConnection::new(client, ServerName::try_from("iot.example").unwrap())
        .unwrap();
    let mut server_time = Duration::ZERO;
    let t = Instant::now();
    let mut s = rustls::ServerConnection::new(server).unwrap();
    server_time += t.elapsed();
    let mut buf = Vec::with_capacity(8192);
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        c.write_tls(&mut buf).unwrap();
        let t = Instant::now();
        s.read_tls(&mut &buf[..]).unwrap();
        s.process_new_packets().unwrap();
        buf.clear();
        s.write_tls(&mut buf).unwrap();
        server_time += t.elapsed();
        c.read_tls(&mut &buf[..]).unwrap();
        c.process_new_packets().unwrap();
    }
    server_time
}

fn handshakes(c: &mut Criterion) {
    let tls = tls_server();
    let fleet = Ca::p256("Fleet CA");
    let (leaf, key) = fleet.device("device");
    let client = tls.client(vec![leaf.clone(), fleet.der.clone()], key);
    let fillers = filler_cas(99_999);
    for n in [1usize, 100_000] {
        let mut pems: Vec<&str> = fillers[..n - 1].iter().map(String::as_str).collect();
        pems.push(&fleet.pem);
        let reg = Arc::new(registry_with(&pems));
        register_active(&reg, &leaf);
        let mut client_roots = rustls::RootCertStore::empty();
        for p in &pems {
            client_roots
                .add(CertificateDer::from(
                    Certificate::from_pem(p).unwrap().der().to_vec(),
                ))
                .unwrap();
        }
        let webpki_verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(client_roots))
            .clear_root_hint_subjects()
            .build()
            .unwrap();
        let jitr_verifier = JitrClientVerifier::builder(reg).build().unwrap();
        let webpki_server = tls.server(webpki_verifier);
        let jitr_server = tls.server(jitr_verifier);
        let mut g = c.benchmark_group(format!("handshake/{n}"));
        let server_side = |server: &Arc<rustls::ServerConfig>| {
            let (client, server) = (client.clone(), server.clone());
            move |iters: u64| {
                (0..iters)
                    .map(|_| handshake(client.clone(), server.clone()))
                    .sum::<Duration>()
            }
        };
        g.bench_function("server CPU: WebPkiClientVerifier", |b| {
            b.iter_custom(server_side(&webpki_server))
        });
        g.bench_function("server CPU: JitrClientVerifier (ACTIVE device)", |b| {
            b.iter_custom(server_side(&jitr_server))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1)).sample_size(50);
    targets = known_active, new_cert, ca_scaling, handshakes
}
criterion_main!(benches);
