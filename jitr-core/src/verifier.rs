//! JITR as a rustls client-certificate verifier.
//!
//! Every line of jitr that touches rustls is in this file, so a change in rustls'
//! verifier API (its main branch renames `ClientCertVerifier::verify_client_cert`) touches
//! only here.
//!
//! Two ways to use it:
//!
//! - **Handshake mode** ([`Mode::Handshake`], the default): the verifier makes the JITR
//!   decision during the handshake. A new certificate is registered, its event published
//!   and the handshake refused; anything not `ACTIVE` is refused.
//! - **Protocol mode** ([`Mode::Protocol`], what AWS does): the handshake only proves that
//!   the chain leads to a registered CA (or that the certificate is registered); the
//!   server asks [`JitrClientVerifier::decide`] once per connection when the device sends
//!   its MQTT CONNECT, and answers CONNACK return code 5 (not authorized) on refusal.
//!
//! rustls does not give a verifier the client's SNI. To route by SNI (several accounts,
//! or leaf-only chains), read the ClientHello with [`rustls::server::Acceptor`] and bind
//! the verifier to it with [`JitrClientVerifier::for_server_name`]. The read loop must
//! stop when the client closes the connection before a whole ClientHello (`read_tls`
//! returns 0), and the socket needs a read timeout, or one silent client holds the
//! server. (An async server does the same with `tokio_rustls::LazyConfigAcceptor`, as
//! the gateway example does.)
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use jitr_core::{Registry, Scope};
//! # use jitr_core::verifier::JitrClientVerifier;
//! # fn serve(
//! #     registry: Arc<Registry>,
//! #     certs: Arc<dyn rustls::server::ResolvesServerCert>,
//! #     stream: &mut std::net::TcpStream,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = JitrClientVerifier::builder(registry).build()?;
//! let mut acceptor = rustls::server::Acceptor::default();
//! stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
//! let accepted = loop {
//!     if acceptor.read_tls(stream)? == 0 {
//!         return Err("the client closed the connection before its ClientHello".into());
//!     }
//!     if let Some(accepted) = acceptor.accept().map_err(|(e, _)| e)? {
//!         break accepted;
//!     }
//! };
//! let sni = accepted.client_hello().server_name().map(str::to_owned);
//! let config = rustls::ServerConfig::builder()
//!     .with_client_cert_verifier(verifier.for_server_name(sni.as_deref()))
//!     .with_cert_resolver(certs);
//! let conn = accepted.into_connection(Arc::new(config)).map_err(|(e, _)| e)?;
//! # let _ = conn; Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme,
};

use crate::directory::{Directory, Router};
use crate::time::{Clock, SystemClock};
use crate::{Decision, RefusalReason, Timestamp};

/// When the JITR decision is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// During the TLS handshake: only `ACTIVE` certificates complete it.
    #[default]
    Handshake,
    /// After the handshake, when the application protocol asks (MQTT CONNECT): the
    /// handshake only checks that the chain leads to a registered CA.
    Protocol,
}

/// A rustls [`ClientCertVerifier`] that makes the JITR decision. See the module docs.
#[derive(Clone)]
pub struct JitrClientVerifier {
    router: Arc<dyn Router>,
    mode: Mode,
    server_name: Option<Arc<str>>,
    algorithms: WebPkiSupportedAlgorithms,
    root_hints: Arc<[DistinguishedName]>,
    clock: Arc<dyn Clock>,
}

/// Builds a [`JitrClientVerifier`]. The defaults refuse: handshake mode, no CA names
/// advertised, client certificates mandatory.
pub struct JitrClientVerifierBuilder {
    router: Arc<dyn Router>,
    mode: Mode,
    provider: Option<Arc<CryptoProvider>>,
    advertise_ca_names: bool,
    clock: Arc<dyn Clock>,
}

/// Why a verifier could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierBuilderError {
    /// No CA and no device certificate is registered: every client would be refused.
    #[error(
        "no CA certificate or device certificate is registered; every client would be refused"
    )]
    NothingRegistered,
}

impl JitrClientVerifier {
    /// A builder over one account's [`Registry`](crate::Registry) or a multi-account [`Directory`] (the
    /// SNI selects the account): any [`Router`].
    pub fn builder(router: Arc<dyn Router>) -> JitrClientVerifierBuilder {
        JitrClientVerifierBuilder::new(router)
    }

    /// A builder over a multi-account directory: the same as [`builder`](Self::builder).
    pub fn builder_for_directory(directory: Arc<Directory>) -> JitrClientVerifierBuilder {
        JitrClientVerifierBuilder::new(directory)
    }

    /// This verifier bound to a connection's SNI host name (from the ClientHello). Cheap:
    /// it shares everything but the name.
    pub fn for_server_name(&self, server_name: Option<&str>) -> Arc<Self> {
        Arc::new(Self {
            server_name: server_name.map(Arc::from),
            ..self.clone()
        })
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The JITR decision for a connection whose handshake completed, at `now`: what a
    /// protocol-mode server calls once per connection (MQTT CONNECT).
    pub fn decide(&self, chain: &[CertificateDer<'_>], now: Timestamp) -> Decision {
        self.router.decide(chain, self.server_name.as_deref(), now)
    }

    fn authenticate(&self, chain: &[CertificateDer<'_>], now: Timestamp) -> Result<(), Decision> {
        self.router
            .authenticate(chain, self.server_name.as_deref(), now)
    }
}

impl JitrClientVerifierBuilder {
    fn new(router: Arc<dyn Router>) -> Self {
        Self {
            router,
            mode: Mode::default(),
            provider: None,
            advertise_ca_names: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The crypto provider whose signature algorithms check the TLS handshake
    /// signatures. Default: the process default, else *ring*.
    pub fn with_crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// The clock the decisions read (default: the system clock). rustls passes its own
    /// time in whole seconds; the verifier reads this clock instead, so registration
    /// events carry milliseconds. A host that fakes rustls' time gives the same time here.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Advertise the registered CAs' subjects in the CertificateRequest (a snapshot taken
    /// at build time). Off by default: with many CAs the list overflows TLS's 64 KiB
    /// message limit, and devices rarely need it.
    pub fn advertise_ca_names(mut self, yes: bool) -> Self {
        self.advertise_ca_names = yes;
        self
    }

    /// Builds the verifier; fails when nothing at all is registered.
    pub fn build(self) -> Result<Arc<JitrClientVerifier>, VerifierBuilderError> {
        let registries = self.router.accounts();
        if registries
            .iter()
            .all(|r| r.ca_certificate_count() == 0 && r.certificate_count() == 0)
        {
            return Err(VerifierBuilderError::NothingRegistered);
        }
        let root_hints: Arc<[DistinguishedName]> = if self.advertise_ca_names {
            registries
                .iter()
                .flat_map(|r| r.ca_subjects())
                .map(DistinguishedName::from)
                .collect()
        } else {
            Arc::from([])
        };
        let provider = self
            .provider
            .or_else(|| CryptoProvider::get_default().cloned())
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        Ok(Arc::new(JitrClientVerifier {
            router: self.router.clone(),
            mode: self.mode,
            server_name: None,
            algorithms: provider.signature_verification_algorithms,
            root_hints,
            clock: self.clock,
        }))
    }
}

impl ClientCertVerifier for JitrClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.root_hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _rustls_now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone());
        chain.extend(intermediates.iter().cloned());
        // The verifier's clock, not rustls' whole seconds: events carry milliseconds.
        let now = self.clock.now();
        let result = match self.mode {
            Mode::Handshake => {
                let d = self.decide(&chain, now);
                if d.is_allowed() {
                    Ok(())
                } else {
                    Err(d)
                }
            }
            Mode::Protocol => self.authenticate(&chain, now),
        };
        result
            .map(|()| ClientCertVerified::assertion())
            .map_err(refusal_error)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let verdict = rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms);
        V1Key::unless_v1(verdict, cert, |key| {
            let algs = self
                .algorithms
                .mapping
                .iter()
                .find(|(scheme, _)| *scheme == dss.scheme)
                .map(|(_, algs)| *algs)
                .ok_or(rustls::Error::PeerMisbehaved(
                    rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
                ))?;
            algs.iter()
                .filter(|alg| alg.public_key_alg_id().as_ref() == key.algorithm.as_slice())
                .any(|alg| {
                    alg.verify_signature(&key.bits, message, dss.signature())
                        .is_ok()
                })
                .then(HandshakeSignatureValid::assertion)
                .ok_or(rustls::Error::InvalidCertificate(
                    CertificateError::BadSignature,
                ))
        })
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let verdict = rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms);
        V1Key::unless_v1(verdict, cert, |key| {
            rustls::crypto::verify_tls13_signature_with_raw_key(
                message,
                &rustls::pki_types::SubjectPublicKeyInfoDer::from(key.spki.as_slice()),
                dss,
                &self.algorithms,
            )
        })
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl fmt::Debug for JitrClientVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JitrClientVerifier")
            .field("mode", &self.mode)
            .field("server_name", &self.server_name)
            .field("root_hints", &self.root_hints.len())
            .finish_non_exhaustive()
    }
}

/// A JITR refusal as rustls carries it: inside
/// `rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(..)))`, so the
/// host can tell it from a bad chain and read the decision (and any published event):
///
/// ```
/// # use jitr_core::verifier::JitrRefusal;
/// fn jitr_refusal(err: &rustls::Error) -> Option<&JitrRefusal> {
///     match err {
///         rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
///             other.0.downcast_ref::<JitrRefusal>()
///         }
///         _ => None,
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitrRefusal {
    /// The decision that refused the connection.
    pub decision: Decision,
}

impl fmt::Display for JitrRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.decision.reason_code().unwrap_or("ALLOWED"),
            self.decision.message()
        )
    }
}

impl std::error::Error for JitrRefusal {}

/// The one place refusals become rustls errors. Chain problems that rustls has a
/// certificate error for map to it (and so to the right TLS alert); every other refusal
/// — the registry's state, and a chain too long or a certificate too large, which are
/// well-formed but over jitr's bounds (alert `bad_certificate`) — is a [`JitrRefusal`],
/// so the host can log its code (`CHAIN_TOO_LONG`, `CERTIFICATE_TOO_LARGE`).
fn refusal_error(d: Decision) -> rustls::Error {
    use RefusalReason as R;
    let e = match &d.refusal {
        Some(R::UnknownIssuer) => CertificateError::UnknownIssuer,
        Some(R::BadSignature) => CertificateError::BadSignature,
        Some(R::CertificateExpired { .. }) => CertificateError::Expired,
        Some(R::CertificateNotYetValid { .. }) => CertificateError::NotValidYet,
        Some(R::EkuNotClientAuth) => CertificateError::InvalidPurpose,
        Some(R::NoCertificate | R::MalformedCertificate { .. }) => CertificateError::BadEncoding,
        _ => CertificateError::Other(OtherError(Arc::new(JitrRefusal { decision: d }))),
    };
    rustls::Error::InvalidCertificate(e)
}

/// Whether webpki refuses `cert` only for being X.509 v1: such a device certificate got
/// through `verify_client_cert` by jitr's own v1 check
/// ([`RegistryConfig::accept_v1_device_certificates`](crate::RegistryConfig)), and its
/// handshake signature is checked with the key taken from it here.
fn is_v1(cert: &CertificateDer<'_>) -> bool {
    matches!(
        webpki::EndEntityCert::try_from(cert),
        Err(webpki::Error::UnsupportedCertVersion)
    )
}

/// The public key of a v1 certificate, in the forms rustls and webpki compare.
struct V1Key {
    /// The whole SubjectPublicKeyInfo.
    spki: Vec<u8>,
    /// The contents of its AlgorithmIdentifier.
    algorithm: Vec<u8>,
    /// The subjectPublicKey bits.
    bits: Vec<u8>,
}

impl V1Key {
    /// rustls' `verdict` on a handshake signature, unless it failed on a v1 certificate
    /// (which webpki cannot read): then `check`'s, with the key read from the certificate.
    fn unless_v1(
        verdict: Result<HandshakeSignatureValid, rustls::Error>,
        cert: &CertificateDer<'_>,
        check: impl FnOnce(Self) -> Result<HandshakeSignatureValid, rustls::Error>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match verdict {
            Err(_) if is_v1(cert) => check(Self::of(cert)?),
            other => other,
        }
    }

    fn of(cert: &CertificateDer<'_>) -> Result<Self, rustls::Error> {
        use x509_parser::asn1_rs::{Any, FromDer as _};
        let bad = || rustls::Error::InvalidCertificate(CertificateError::BadEncoding);
        let (_, x509) =
            x509_parser::certificate::X509Certificate::from_der(cert).map_err(|_| bad())?;
        let spki = x509.public_key().raw.to_vec();
        let (_, seq) = Any::from_der(&spki).map_err(|_| bad())?;
        let (rest, alg) = Any::from_der(seq.data).map_err(|_| bad())?;
        let (_, bits) = Any::from_der(rest).map_err(|_| bad())?;
        Ok(Self {
            algorithm: alg.data.to_vec(),
            bits: bits.data.get(1..).ok_or_else(bad)?.to_vec(),
            spki,
        })
    }
}
