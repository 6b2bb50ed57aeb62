//! Certificates and registries for the benchmarks.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use jitr_core::rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, TrustAnchor, UnixTime,
};
use jitr_core::*;
use jitr_testkit::{self as kit, Key};
use rcgen::{CertificateParams, KeyPair};

/// 2026-06-01.
pub fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_780_272_000)
}

pub struct Ca {
    pub ca: kit::Ca,
    pub der: CertificateDer<'static>,
    pub pem: String,
}

impl Ca {
    pub fn new(cn: &str, key: Key) -> Self {
        let ca = kit::Ca::root(kit::ca_params(kit::cn(cn), None, kit::VALIDITY), key).unwrap();
        Self {
            der: CertificateDer::from(ca.cert.der.clone()),
            pem: ca.cert.pem.clone(),
            ca,
        }
    }

    pub fn p256(cn: &str) -> Self {
        Self::new(cn, Key::random_p256().unwrap())
    }

    pub fn rsa(cn: &str) -> Self {
        Self::new(cn, Key::rsa2048().unwrap())
    }

    /// A device certificate (P-256 key) signed by this CA, and its key (PKCS#8 DER).
    pub fn device(&self, cn: &str) -> (CertificateDer<'static>, Vec<u8>) {
        let key = Key::random_p256().unwrap();
        let p = kit::leaf_params(kit::cn(cn), None, kit::VALIDITY, kit::Eku::ClientAuth);
        let cert = self.ca.issue(&p, &key).unwrap();
        (CertificateDer::from(cert.der), key.pkcs8_der())
    }
}

/// A registry holding `cas` (ACTIVE, auto-registration, SNI_ONLY so no verification
/// certificate is needed), loaded in one go from a state (registering 100,000 CAs one by
/// one would rebuild the CA index each time).
pub fn registry_with(cas: &[&str]) -> Registry {
    let ca_states: Vec<_> = cas
        .iter()
        .map(|pem| {
            let id = Certificate::from_pem(pem).unwrap().id();
            serde_json::json!({
                "certificateId": id.to_string(),
                "certificatePem": pem,
                "status": "ACTIVE",
                "autoRegistrationStatus": "ENABLE",
                "certificateMode": "SNI_ONLY",
                "creationDate": 0,
                "lastModifiedDate": 0,
                "customerVersion": 1,
                "generationId": "00000000-0000-4000-8000-000000000000"
            })
        })
        .collect();
    let state = serde_json::json!({
        "format": 1,
        "scope": {"partition": "aws", "region": "us-east-1", "account": "123456789012"},
        "registrationCode": null,
        "caCertificates": ca_states,
        "certificates": [],
        "policies": [],
        "attachments": []
    });
    let state = RegistryState::from_json(&state.to_string()).unwrap();
    Registry::from_state(&state, RegistryConfig::default()).unwrap()
}

/// Registers `leaf` (its CA registered) as ACTIVE; its ID.
pub fn register_active(reg: &Registry, leaf: &CertificateDer<'_>) -> CertificateId {
    let pem = Certificate::from_der(leaf).unwrap().to_pem();
    let req = RegisterCertificateRequest {
        certificate_pem: pem,
        status: Some(CertificateStatus::Active),
        ..Default::default()
    };
    reg.register_certificate(&req, now())
        .unwrap()
        .certificate_id
}

/// Registers `ca` (ACTIVE, auto-registration, SNI_ONLY: no verification certificate).
pub fn register_sni_only_ca(reg: &Registry, ca: &Ca) -> CertificateId {
    let req = RegisterCaCertificateRequest {
        ca_certificate: ca.pem.clone(),
        set_as_active: true,
        allow_auto_registration: true,
        certificate_mode: CertificateMode::SniOnly,
        ..Default::default()
    };
    reg.register_ca_certificate(&req, now())
        .unwrap()
        .certificate_id
}

/// `n` distinct CA certificates (Ed25519: fast to make) as PEM.
pub fn filler_cas(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| Ca::new(&format!("Filler CA {i}"), Key::random_ed25519().unwrap()).pem)
        .collect()
}

/// The signature algorithms the baselines accept (those the benches' keys use).
pub static ALGS: &[&dyn jitr_core::rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
];

/// The baseline for a new certificate: webpki parse + `verify_for_usage` against `anchors`.
pub fn webpki_verify(leaf: &CertificateDer<'_>, anchors: &[TrustAnchor<'_>]) -> bool {
    let ee = webpki::EndEntityCert::try_from(leaf).unwrap();
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now().unix_secs() as u64));
    ee.verify_for_usage(
        ALGS,
        anchors,
        &[],
        now,
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .is_ok()
}

/// A TLS server identity ("iot.example") and the roots a client trusts it with.
pub struct Tls {
    pub roots: rustls::RootCertStore,
    pub resolver: Arc<dyn rustls::server::ResolvesServerCert>,
}

#[derive(Debug)]
struct Fixed(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

pub fn tls_server() -> Tls {
    let ca = Ca::p256("Server CA");
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["iot.example".into()])
        .unwrap()
        .signed_by(&key, &ca.ca.issuer())
        .unwrap();
    let provider = rustls::crypto::ring::default_provider();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let certified =
        rustls::sign::CertifiedKey::from_der(vec![cert.der().clone()], key, &provider).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    Tls {
        roots,
        resolver: Arc::new(Fixed(Arc::new(certified))),
    }
}

impl Tls {
    /// A client presenting `chain`, full handshakes only: no session resumption (a
    /// resumed TLS 1.3 handshake carries no client certificate).
    pub fn client(
        &self,
        chain: Vec<CertificateDer<'static>>,
        key: Vec<u8>,
    ) -> Arc<rustls::ClientConfig> {
        let mut c = rustls::ClientConfig::builder()
            .with_root_certificates(self.roots.clone())
            .with_client_auth_cert(chain, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)))
            .unwrap();
        c.resumption = rustls::client::Resumption::disabled();
        Arc::new(c)
    }

    /// A server with this client-certificate verifier, issuing no session tickets.
    pub fn server(
        &self,
        verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    ) -> Arc<rustls::ServerConfig> {
        let mut s = rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(self.resolver.clone());
        s.send_tls13_tickets = 0;
        s.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        Arc::new(s)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// Writes certificates `1..n` (IDs made from their number, `ACTIVE`, under `ca_id`, each
/// carrying `der`) straight into `store`, for a registry opened afterwards to load.
pub fn fill_active(
    store: &Store,
    scope: &Scope,
    ca_id: CertificateId,
    n: u64,
    validity: Validity,
    der: &[u8],
) {
    let mut rows = (1..n).map(|i| store::BenchCertificate {
        id: CertificateId::from_bytes(sha256(&i.to_le_bytes())),
        ca_id: Some(ca_id),
        status: CertificateStatus::Active,
        validity,
        creation_date: now(),
    });
    store
        .bench_insert_certificates(scope, &mut rows, der)
        .unwrap();
}

/// The time `iters` first connections from `pool` (leaves of `ca`) take, each one
/// registering its device: a fresh registry from `fresh` per pass over the pool, kept
/// with what must outlive it (its store). The CAs are `SNI_ONLY`: the SNI names the
/// account.
pub fn time_registrations<G>(
    iters: u64,
    pool: &[CertificateDer<'static>],
    ca: &CertificateDer<'_>,
    mut fresh: impl FnMut() -> (Registry, G),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let (reg, keep) = fresh();
        let k = (iters - done).min(pool.len() as u64) as usize;
        let start = Instant::now();
        for leaf in &pool[..k] {
            let chain = [
                CertificateDer::from(leaf.as_ref()),
                CertificateDer::from(ca.as_ref()),
            ];
            let d = reg.decide(&chain, Some("iot.example"), now());
            assert!(d.registered(), "{:?}", d.refusal);
        }
        total += start.elapsed();
        done += k as u64;
        drop(reg);
        drop(keep);
    }
    total
}
