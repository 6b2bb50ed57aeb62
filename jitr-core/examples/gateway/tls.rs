//! The TLS side: the ClientHello is read first (rustls' `Acceptor`, in `tls_io.rs`, which
//! ends on a closed stream), its SNI binds the JITR verifier to an account, then the
//! handshake runs with that verifier over rustls' unbuffered API (an idle connection
//! holds no buffer). Every failure is classified for the log: a JITR
//! refusal keeps its code; rustls' own failures say what rustls said.

use std::collections::HashMap;
use std::sync::Arc;

use jitr_core::verifier::{JitrClientVerifier, JitrRefusal};
use jitr_core::Decision;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::net::TcpStream;

use crate::tls_io::{self, Failure, TlsStream};

/// The server certificate, whatever the SNI.
#[derive(Debug)]
pub(crate) struct FixedCert(pub(crate) Arc<CertifiedKey>);

/// The verifier bound to each SNI seen, and its rustls configuration: made once per
/// host name, not once per connection (a fleet uses one or a few names).
#[derive(Default)]
pub(crate) struct Configs {
    by_sni: std::sync::Mutex<HashMap<Option<String>, Bound>>,
}

type Bound = (Arc<JitrClientVerifier>, Arc<rustls::ServerConfig>);

/// The most host names remembered (a client may send any SNI).
const MAX_NAMES: usize = 256;

impl Configs {
    fn get(
        &self,
        sni: Option<&str>,
        verifier: &JitrClientVerifier,
        certs: &Arc<FixedCert>,
    ) -> Bound {
        let key = sni.map(str::to_owned);
        let mut m = self
            .by_sni
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(b) = m.get(&key) {
            return b.clone();
        }
        let bound = verifier.for_server_name(sni);
        let mut config = rustls::ServerConfig::builder()
            .with_client_cert_verifier(bound.clone())
            .with_cert_resolver(certs.clone());
        // Devices reconnect with a full handshake: no tickets or session cache to keep.
        config.send_tls13_tickets = 0;
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        let b = (bound, Arc::new(config));
        if m.len() >= MAX_NAMES {
            m.clear();
        }
        m.insert(key, b.clone());
        b
    }
}

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A completed handshake.
pub(crate) struct Handshaken {
    pub(crate) stream: TlsStream,
    pub(crate) sni: Option<String>,
    pub(crate) verifier: Arc<JitrClientVerifier>,
}

/// Why a handshake did not complete.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// The JITR verifier refused the chain (handshake mode decisions, and protocol
    /// mode's check that the chain leads to a registered CA).
    Refused(Box<Decision>),
    /// rustls refused something else, or the stream failed.
    Tls {
        /// The JITR refusal code where rustls' error is one (`UNKNOWN_ISSUER`...),
        /// `CERTIFICATE_TOO_LARGE` for a client certificate message over rustls' 64 KiB
        /// handshake message limit, else `TLS_ERROR`.
        code: &'static str,
        /// What rustls said.
        message: String,
    },
    /// The client closed the connection before the handshake finished.
    Closed,
}

impl HandshakeError {
    /// A stable code for logs and metrics.
    pub(crate) fn code(&self) -> &str {
        match self {
            Self::Refused(d) => d.reason_code().unwrap_or("ALLOWED"),
            Self::Tls { code, .. } => code,
            Self::Closed => "CLOSED",
        }
    }
}

/// Reads the ClientHello, binds the verifier to its SNI and completes the handshake.
pub(crate) async fn accept(
    mut tcp: TcpStream,
    verifier: &JitrClientVerifier,
    certs: &Arc<FixedCert>,
    configs: &Configs,
) -> Result<Handshaken, HandshakeError> {
    let (hello, seen) = tls_io::read_client_hello(&mut tcp)
        .await
        .map_err(|e| classify(e, false))?;
    let sni = hello.client_hello().server_name().map(str::to_owned);
    drop(hello);
    let (bound, config) = configs.get(sni.as_deref(), verifier, certs);
    let stream = tls_io::handshake(tcp, seen, config)
        .await
        .map_err(|e| classify(e, true))?;
    Ok(Handshaken {
        stream,
        sni,
        verifier: bound,
    })
}

/// Sorts a failed handshake into a JITR refusal, a TLS error or a close.
/// `after_hello`: the ClientHello was read, so a handshake message over rustls' limit is
/// the client's Certificate message (its other messages are small).
fn classify(e: Failure, after_hello: bool) -> HandshakeError {
    use std::io::ErrorKind;
    let e = match e {
        Failure::Closed => return HandshakeError::Closed,
        Failure::Io(e) => e,
        Failure::Tls(err) => return classify_tls(&err, after_hello),
    };
    match e.kind() {
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => {
            HandshakeError::Closed
        }
        _ => HandshakeError::Tls {
            code: "TLS_ERROR",
            message: e.to_string(),
        },
    }
}

/// What rustls refused, by its JITR code where it has one.
fn classify_tls(err: &rustls::Error, after_hello: bool) -> HandshakeError {
    if let rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) = err {
        if let Some(r) = other.0.downcast_ref::<JitrRefusal>() {
            return HandshakeError::Refused(Box::new(r.decision.clone()));
        }
    }
    // The JITR verifier maps these refusals to rustls' own certificate errors (for
    // the right TLS alert): name them by their JITR codes again.
    if let rustls::Error::InvalidCertificate(c) = err {
        let code = match c {
            rustls::CertificateError::UnknownIssuer => Some("UNKNOWN_ISSUER"),
            rustls::CertificateError::BadSignature => Some("BAD_SIGNATURE"),
            rustls::CertificateError::Expired => Some("CERTIFICATE_EXPIRED"),
            rustls::CertificateError::NotValidYet => Some("CERTIFICATE_NOT_YET_VALID"),
            rustls::CertificateError::InvalidPurpose => Some("EKU_NOT_CLIENT_AUTH"),
            rustls::CertificateError::BadEncoding => Some("MALFORMED_CERTIFICATE"),
            _ => None,
        };
        if let Some(code) = code {
            return HandshakeError::Tls {
                code,
                message: err.to_string(),
            };
        }
    }
    if let rustls::Error::NoCertificatesPresented = err {
        return HandshakeError::Tls {
            code: "NO_CERTIFICATE",
            message: err.to_string(),
        };
    }
    let too_large = matches!(
        err,
        rustls::Error::InvalidMessage(rustls::InvalidMessage::HandshakePayloadTooLarge)
    );
    HandshakeError::Tls {
        code: if too_large && after_hello {
            "CERTIFICATE_TOO_LARGE"
        } else {
            "TLS_ERROR"
        },
        message: if too_large && after_hello {
            "the client's certificate message is over rustls' 64 KiB handshake message limit".into()
        } else {
            err.to_string()
        },
    }
}
