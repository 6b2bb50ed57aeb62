//! Certificates no one here wrote: every certificate file of `pyca-x509/`,
//! `x509-parser-assets/` and `rustls-webpki-tests/` (real-world oddities, hand-made
//! malformed certificates, unusual encodings) either parses or returns a typed error,
//! and never panics, through every entry point that takes certificate bytes: DER and PEM
//! parsing, the accessors and findings of a parsed certificate, CA registration, the
//! path validation and the JITR decision.
//!
//! CRLs are left to issue 7 (CRL checking): `rustls-webpki-tests/crls/`, `*.crl` files
//! and CRL PEM blocks are not read here, nor the Amazon PKI's revocation scenario.
//! `rustls-webpki-tests/chromium-verify-signed-data/` holds signature vectors, not
//! certificates. DER files that are CRLs or CSRs are still fed to the certificate parser,
//! which must refuse them with a typed error.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use jitr_core::inspect::{inspect, Role, CODES};
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::{
    parse_pem_chain, pem_blocks_der, Certificate, CertificateMode, PathOptions,
    RegisterCaCertificateRequest, Registry, RequiredEku, Scope, Timestamp,
};

/// The suites, and files that must parse (a sanity check that the walk reads them).
const SUITES: &[(&str, &[&str])] = &[
    ("pyca-x509", &["cryptography.io.pem", "letsencryptx3.pem"]),
    ("x509-parser-assets", &["certificate.der", "IGC_A.pem"]),
    ("rustls-webpki-tests", &["ed25519/ee.der", "netflix/ee.der"]),
];

/// 2026-06-01: the time for validity-dependent paths.
const NOW: Timestamp = Timestamp::from_unix_secs(1_780_272_000);

fn corpora_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("JITR_CORPORA_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora")
}

/// Files under `dir` that may hold certificates.
fn candidate_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                if name != "crls" && name != "chromium-verify-signed-data" {
                    stack.push(path);
                }
                continue;
            }
            let ext = path
                .extension()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let skip_ext = ["md", "json", "txt", "py", "sh", "crl", "csr"];
            if name.starts_with("LICENSE")
                || name.starts_with("README")
                || skip_ext.contains(&ext.as_str())
            {
                continue;
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

#[derive(Default)]
struct Tally {
    files: usize,
    certificates: usize,
    parsed: usize,
    typed_errors: usize,
    registered_as_ca: usize,
    panics: Vec<String>,
    untyped: Vec<String>,
}

/// Everything a certificate's bytes can go through. Returns whether it parsed.
fn exercise(der: &[u8], tally: &mut Tally, what: &str) -> bool {
    tally.certificates += 1;
    let parsed = match Certificate::from_der(der) {
        Ok(cert) => {
            tally.parsed += 1;
            let again =
                Certificate::from_pem(&cert.to_pem()).expect("a parsed certificate's PEM parses");
            assert_eq!(again, cert, "{what}: PEM round trip");
            let _ = (
                cert.subject().rfc4514(),
                cert.issuer().attributes(),
                cert.serial_hex(),
                cert.key_algorithm().to_string(),
                cert.extended_key_usage(),
                cert.subject_alternative_names(),
                cert.signature_algorithm(),
                cert.is_signed_by(&cert),
            );
            for role in [Role::Any, Role::Device, Role::Ca] {
                for f in inspect(&cert, role, NOW) {
                    assert!(CODES.contains(&f.code), "{what}: finding {f:?}");
                }
            }
            true
        }
        Err(e) => {
            if e.code() == "CertificateValidationException" {
                tally.typed_errors += 1;
            } else {
                tally
                    .untyped
                    .push(format!("{what}: {} {}", e.code(), e.message()));
            }
            false
        }
    };
    // The decision and path validation read raw DER, whether or not it parsed.
    let registry = Registry::new(Scope::new("123456789012", "us-east-1").expect("scope"));
    let chain = [CertificateDer::from(der)];
    let d = registry.decide(&chain, Some("device.example"), NOW);
    assert!(!d.is_allowed(), "{what}: allowed by an empty registry");
    let options = PathOptions::default()
        .with_intermediates(true)
        .with_eku(RequiredEku::ServerAuth);
    assert!(
        registry.verify_path(&chain, options, NOW).is_err(),
        "{what}: a path without anchors"
    );
    // As a CA to register (SNI_ONLY: no proof of possession needed), at the CA's own
    // notBefore when it parsed, so the validity rule does not hide the rest.
    let at = Certificate::from_der(der).map_or(NOW, |c| c.validity().not_before);
    let req = RegisterCaCertificateRequest {
        ca_certificate: pem_armor(der),
        set_as_active: true,
        allow_auto_registration: true,
        certificate_mode: CertificateMode::SniOnly,
        ..Default::default()
    };
    match registry.register_ca_certificate(&req, at) {
        Ok(_) => {
            tally.registered_as_ca += 1;
            // Itself as a device of itself: a CA as end entity is refused, never allowed.
            let d = registry.decide(&chain, Some("device.example"), at);
            assert!(!d.is_allowed(), "{what}: a CA connects as its own device");
        }
        Err(e) => assert!(
            ["CertificateValidationException", "InvalidRequestException"].contains(&e.code()),
            "{what}: RegisterCACertificate error {}",
            e.code()
        ),
    }
    parsed
}

fn pem_armor(der: &[u8]) -> String {
    let b64: String = {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in der.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                s.push(if i <= c.len() {
                    char::from(A[((n >> (18 - 6 * i)) & 63) as usize])
                } else {
                    '='
                });
            }
        }
        s
    };
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// One file: PEM text (each CERTIFICATE block, and the whole text as a bundle) or DER.
fn exercise_file(path: &Path, tally: &mut Tally) -> bool {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let what = path.display().to_string();
    tally.files += 1;
    if let Err(e) = Certificate::from_pem_or_der(&bytes) {
        if e.code() != "CertificateValidationException" {
            tally
                .untyped
                .push(format!("{what}: {} {}", e.code(), e.message()));
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    if !text.contains("-----BEGIN") {
        return exercise(&bytes, tally, &what);
    }
    // The whole text as a bundle: certificates, or a typed error (keys and CRLs in it).
    if let Err(e) = parse_pem_chain(&text) {
        if e.code() != "CertificateValidationException" {
            tally
                .untyped
                .push(format!("{what} (bundle): {} {}", e.code(), e.message()));
        }
    }
    let mut any_parsed = false;
    for (i, block) in pem_blocks(&text).into_iter().enumerate() {
        any_parsed |= exercise(&block, tally, &format!("{what} block {}", i + 1));
    }
    any_parsed
}

/// The DER of each CERTIFICATE block, read one block at a time (a bundle with a key or a
/// CRL in it is refused whole by `pem_blocks_der`).
fn pem_blocks(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for label in ["CERTIFICATE", "X509 CERTIFICATE"] {
        let (begin, end) = (
            format!("-----BEGIN {label}-----"),
            format!("-----END {label}-----"),
        );
        let mut rest = text;
        while let Some(start) = rest.find(&begin) {
            let Some(stop) = rest[start..].find(&end) else {
                break;
            };
            let block = &rest[start..start + stop + end.len()];
            if let Ok(ders) = pem_blocks_der(block) {
                out.extend(ders);
            }
            rest = &rest[start + stop + end.len()..];
        }
    }
    out
}

#[test]
fn parser_corpora_parse_or_refuse_with_a_typed_error() {
    let root = corpora_dir();
    let mut ran = 0;
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (suite, must_parse) in SUITES {
        let dir = root.join(suite);
        if !dir.is_dir() {
            println!("SKIP {suite}: corpus not found (set JITR_CORPORA_DIR)");
            continue;
        }
        ran += 1;
        let mut tally = Tally::default();
        let mut parsed_files = BTreeMap::new();
        for path in candidate_files(&dir) {
            let rel = path
                .strip_prefix(&dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let result = catch_unwind(AssertUnwindSafe(|| exercise_file(&path, &mut tally)));
            match result {
                Ok(parsed) => {
                    parsed_files.insert(rel, parsed);
                }
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    tally.panics.push(format!("{rel}: PANIC {msg}"));
                }
            }
        }
        for f in *must_parse {
            if parsed_files.get(*f) != Some(&true) {
                failures.push(format!("{suite}/{f}: expected to parse"));
            }
        }
        report.push(format!(
            "{suite}: {} files, {} certificates: {} parsed, {} refused with a typed error, {} registrable as CA, {} panics, {} untyped errors",
            tally.files, tally.certificates, tally.parsed, tally.typed_errors, tally.registered_as_ca, tally.panics.len(), tally.untyped.len()
        ));
        failures.extend(tally.panics.iter().map(|p| format!("{suite}/{p}")));
        failures.extend(
            tally
                .untyped
                .iter()
                .map(|p| format!("{suite}: untyped error {p}")),
        );
        assert!(
            tally.certificates > 0,
            "{suite}: no certificate found under {}",
            dir.display()
        );
    }
    for line in &report {
        println!("{line}");
    }
    if ran == 0 {
        return;
    }
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}
