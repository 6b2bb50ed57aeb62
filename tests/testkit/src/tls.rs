//! rustls glue for tests that play a TLS client (feature `rustls`).

use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;

/// A client-certificate resolver that offers `chain`, signed for by `key`, whatever the
/// server asks.
///
/// rustls' own `with_client_auth_cert` first checks that the key matches the certificate,
/// by parsing the certificate with webpki, which refuses what tests send on purpose (v1
/// certificates, 100 KB ones): through a resolver the pair goes to the server as it is,
/// and the server is what must refuse it.
///
/// # Errors
///
/// rustls' (ring) key provider cannot load `key`.
pub fn client_cert_resolver(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<dyn ResolvesClientCert>, rustls::Error> {
    let signing = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key)?;
    Ok(Arc::new(OneCert(Arc::new(CertifiedKey::new(
        chain, signing,
    )))))
}

#[derive(Debug)]
struct OneCert(Arc<CertifiedKey>);

impl ResolvesClientCert for OneCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
