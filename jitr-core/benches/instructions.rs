//! Instruction counts of the hot path beside its baselines: the load-independent
//! cross-check of the criterion ratios (the machine these run on is shared).
//!
//! `scripts/bench-instructions.sh` runs the binary once per case under
//! `valgrind --tool=callgrind`, counting only inside `measure` (or, for handshakes, only
//! the server's calls), and prints the table. Each case runs its operation `N` times (a
//! handshake `N / 10` times); the counts include everything the operation calls.
#![allow(clippy::unwrap_used)]

mod common;

use std::hint::black_box;
use std::sync::Arc;

use common::*;
use jitr_core::rustls_pki_types::{CertificateDer, ServerName};
use jitr_core::verifier::JitrClientVerifier;
use jitr_core::*;

const N: usize = 200;

/// Everything inside is counted (callgrind `--toggle-collect=instructions::measure`).
#[inline(never)]
fn measure(f: &mut dyn FnMut()) {
    f()
}

/// One TLS 1.3 handshake; only the server's calls (`server_new`, `server_step`) are
/// counted when those are the toggled functions.
fn handshake(client: Arc<rustls::ClientConfig>, server: Arc<rustls::ServerConfig>) {
    let mut c = rustls::ClientConnection::new(client, ServerName::try_from("iot.example").unwrap())
        .unwrap();
    let mut s = server_new(server);
    let mut buf = Vec::with_capacity(8192);
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        c.write_tls(&mut buf).unwrap();
        server_step(&mut s, &mut buf);
        c.read_tls(&mut &buf[..]).unwrap();
        c.process_new_packets().unwrap();
    }
}

#[inline(never)]
fn server_new(server: Arc<rustls::ServerConfig>) -> rustls::ServerConnection {
    rustls::ServerConnection::new(server).unwrap()
}

#[inline(never)]
fn server_step(s: &mut rustls::ServerConnection, buf: &mut Vec<u8>) {
    s.read_tls(&mut &buf[..]).unwrap();
    s.process_new_packets().unwrap();
    buf.clear();
    s.write_tls(buf).unwrap();
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    // Known ACTIVE certificate among 1,000.
    let ca = Ca::p256("Fleet CA");
    let (leaf, key) = ca.device("device");
    let reg = registry_with(&[&ca.pem]);
    register_active(&reg, &leaf);
    let validity = Certificate::from_der(&leaf).unwrap().validity();
    let mut map = std::collections::HashMap::new();
    map.insert(
        {
            let mut k = [0u8; 32];
            k.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &leaf).as_ref());
            k
        },
        0u64,
    );
    for i in 1..1000u64 {
        let mut k = [0u8; 32];
        k.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &i.to_le_bytes()).as_ref());
        reg.bench_insert_hot_active(CertificateId::from_bytes(k), &validity);
        map.insert(k, i);
    }
    match case.as_str() {
        "known-floor" => measure(&mut || {
            for _ in 0..N {
                let d = ring::digest::digest(&ring::digest::SHA256, &leaf);
                let mut k = [0u8; 32];
                k.copy_from_slice(d.as_ref());
                black_box(map.get(&k));
            }
        }),
        "known-jitr" => measure(&mut || {
            for _ in 0..N {
                assert!(
                    black_box(reg.decide(core::slice::from_ref(&leaf), None, now())).is_allowed()
                );
            }
        }),
        _ => {}
    }

    // New certificates: P-256 and RSA-2048 CAs.
    for (rsa, ca) in [(false, Ca::p256("P-256 CA")), (true, Ca::rsa("RSA CA"))] {
        let pool: Vec<CertificateDer<'static>> =
            (0..N).map(|i| ca.device(&format!("d{i}")).0).collect();
        let anchor = webpki::anchor_from_trusted_cert(&ca.der)
            .unwrap()
            .to_owned();
        let reg = registry_with(&[&ca.pem]);
        let alg = if rsa { "rsa" } else { "p256" };
        if case == format!("new-floor-{alg}") {
            measure(&mut || {
                for leaf in &pool {
                    assert!(webpki_verify(leaf, core::slice::from_ref(&anchor)));
                }
            });
        }
        if case == format!("new-jitr-{alg}") {
            measure(&mut || {
                for leaf in &pool {
                    let chain = [
                        CertificateDer::from(leaf.as_ref()),
                        CertificateDer::from(ca.der.as_ref()),
                    ];
                    assert!(reg.decide(&chain, Some("iot.example"), now()).registered());
                }
            });
        }
    }

    // Server side of full TLS 1.3 handshakes, known ACTIVE device, 1 CA.
    let tls = tls_server();
    let client = tls.client(vec![leaf.clone(), ca.der.clone()], key);
    let mut client_roots = rustls::RootCertStore::empty();
    client_roots.add(ca.der.clone()).unwrap();
    let webpki_server = tls.server(
        rustls::server::WebPkiClientVerifier::builder(Arc::new(client_roots))
            .clear_root_hint_subjects()
            .build()
            .unwrap(),
    );
    let jitr_server = tls.server(JitrClientVerifier::builder(Arc::new(reg)).build().unwrap());
    let server = match case.as_str() {
        "handshake-webpki" => &webpki_server,
        "handshake-jitr" => &jitr_server,
        _ => return,
    };
    for _ in 0..N / 10 {
        handshake(client.clone(), server.clone());
    }
}
