//! CRL load and lookup on the real 14,102-entry Amazon CRL (`r2m02.crl` in the shared
//! corpora), beside a linear scan of the same serials as the baseline a naive handler uses.
//!
//! ```text
//! cargo bench -p jitr-core --bench crl
//! ```
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use jitr_core::crl::Crl;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

fn corpus_crl() -> Option<Vec<u8>> {
    let dir = std::env::var_os("JITR_CORPORA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora"));
    std::fs::read(dir.join("rustls-webpki-tests/amazon/r2m02.crl")).ok()
}

fn crl(c: &mut Criterion) {
    let Some(der) = corpus_crl() else {
        println!("SKIP crl bench: corpus not found (set JITR_CORPORA_DIR)");
        return;
    };
    let crl = Crl::from_pem_or_der(&der).unwrap();
    assert_eq!(crl.len(), 14_102);
    let (_, parsed) = CertificateRevocationList::from_der(&der).unwrap();
    let serials: Vec<Vec<u8>> = parsed
        .iter_revoked_certificates()
        .map(|r| r.raw_serial().to_vec())
        .collect();
    let listed = serials[serials.len() / 2].clone();
    let absent = vec![0x7f; 16];
    let mut g = c.benchmark_group("crl/r2m02 (14,102 entries)");
    g.bench_function("load: Crl::from_pem_or_der", |b| {
        b.iter(|| Crl::from_pem_or_der(black_box(&der)).unwrap())
    });
    g.bench_function("lookup, listed serial: Crl::is_revoked", |b| {
        b.iter(|| assert!(crl.is_revoked(black_box(&listed))))
    });
    g.bench_function("lookup, absent serial: Crl::is_revoked", |b| {
        b.iter(|| assert!(!crl.is_revoked(black_box(&absent))))
    });
    g.bench_function("baseline: linear scan, absent serial", |b| {
        b.iter(|| {
            assert!(!serials
                .iter()
                .any(|s| s.as_slice() == black_box(&absent[..])))
        })
    });
    g.finish();
}

criterion_group!(benches, crl);
criterion_main!(benches);
