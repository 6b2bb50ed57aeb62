//! The server: accepts TLS connections, decides each at its MQTT CONNECT (or during the
//! handshake), and hands admitted ones to the proxy.
//!
//! No connection can hold another: each runs in its own task; the TLS handshake and the
//! CONNECT each have a deadline; a cap on open connections makes the accept loop wait
//! (the kernel's listen queue, 1,024 deep, holds the rest) instead of running out of
//! file descriptors; packets are bounded before they are read.
//!
//! AWS IoT decides at CONNECT: the handshake only proves the chain leads to a registered
//! CA, a refusal is CONNACK return code 5 (MQTT 3.1.1) or reason code 0x87 (MQTT 5)
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html>). Then
//! `iot:Connect` is checked on the client id
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html>).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jitr_core::policy::CertificateAttributes;
use jitr_core::verifier::{JitrClientVerifier, Mode};
use jitr_core::{CertificateId, Decision, Directory, Registry, Router, Timestamp};
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;
use rustls::pki_types::CertificateDer;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::mqtt::{self, Frame, FrameReader, Packet, ReadError, Refusal, Version};
use crate::policy::{self, Act, ConnectionFacts};
use crate::sessions::Sessions;
use crate::tls::{self, FixedCert, HandshakeError};
use crate::tls_io::{TlsReader, TlsWriter};
use crate::{events, proxy, Error};

/// The server's settings.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// The upstream broker, `host:port`.
    pub(crate) broker: String,
    /// Where the JITR decision is made.
    pub(crate) mode: Mode,
    /// The TLS handshake's deadline.
    pub(crate) handshake_timeout: Duration,
    /// The deadline for the CONNECT after the handshake.
    pub(crate) connect_timeout: Duration,
    /// The most connections open at once.
    pub(crate) max_connections: usize,
}

/// Everything a connection needs.
pub(crate) struct Gateway {
    pub(crate) config: Config,
    pub(crate) directory: Arc<Directory>,
    pub(crate) verifier: Arc<JitrClientVerifier>,
    pub(crate) certs: Arc<FixedCert>,
    pub(crate) configs: tls::Configs,
    pub(crate) sessions: Arc<Sessions>,
}

/// Binds the listener (backlog 1,024, address reuse for quick restarts). Done first, so
/// a busy port stops a second instance before it touches anything.
pub(crate) fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    Ok(socket.listen(1024)?)
}

/// The default cap on open connections: each admitted one holds two descriptors (the
/// device and the upstream broker), so half the process's limit, less a margin.
pub(crate) fn default_max_connections() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    (limit.saturating_sub(128) / 2).clamp(16, 100_000)
}

/// Accepts connections until `stop` changes.
pub(crate) async fn run(gw: Arc<Gateway>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(gw.config.max_connections));
    loop {
        // Wait for a free slot first: at the cap, connections queue in the kernel.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        // The opening is boxed before the task is made: the task's future carries
        // neither the socket nor the peer's address for the connection's life.
        let opening = {
            let gw = gw.clone();
            Box::pin(async move { open(&gw, tcp, peer).await })
        };
        tokio::spawn(serve(gw.clone(), opening, permit));
    }
}

/// An open connection, counted in its gauge while alive.
struct OpenConnection;

impl OpenConnection {
    const GAUGE: &'static str = "jitr_gateway_connections_open";

    fn count() -> Self {
        metrics::gauge!(Self::GAUGE).increment(1.0);
        Self
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!(Self::GAUGE).decrement(1.0);
    }
}

fn refused(code: &str) {
    metrics::counter!("jitr_gateway_refusals_total", "code" => code.to_owned()).increment(1);
}

/// An admitted connection, ready to be proxied.
pub(crate) struct Opened {
    pub(crate) device_rd: TlsReader,
    pub(crate) device_wr: TlsWriter,
    pub(crate) reader: FrameReader,
    pub(crate) version: Version,
    pub(crate) connect: Frame,
    pub(crate) admitted: Box<Admitted>,
    pub(crate) started: Instant,
}

/// One connection, start to end. Its phases are boxed futures of their own: a task is
/// allocated at its future's largest state for the connection's life, and most
/// connections sit idle, so the opening (TLS handshake, CONNECT, decision; boxed by the
/// accept loop with the socket it owns) and the proxy's start (the upstream CONNECT, the
/// CONNACK) are freed once they are done and only the pump's wait is carried
/// (`gateway --bench` measures RSS per idle connection).
async fn serve(
    gw: Arc<Gateway>,
    opening: Pin<Box<impl Future<Output = Option<Box<Opened>>>>>,
    permit: OwnedSemaphorePermit,
) {
    let _permit = permit;
    let _open = OpenConnection::count();
    let Some(opened) = opening.await else {
        return;
    };
    let Some(live) = Box::pin(proxy::start(&gw, opened)).await else {
        return;
    };
    proxy::run(&gw, live).await;
}

/// The opening of a connection: TLS handshake, CONNECT, decision. `None` when the
/// connection was refused or closed (already answered and counted).
async fn open(gw: &Arc<Gateway>, tcp: TcpStream, peer: SocketAddr) -> Option<Box<Opened>> {
    let _ = tcp.set_nodelay(true);
    let started = Instant::now();
    let handshake = tokio::time::timeout(
        gw.config.handshake_timeout,
        tls::accept(tcp, &gw.verifier, &gw.certs, &gw.configs),
    )
    .await;
    let hs = match handshake {
        Ok(Ok(hs)) => {
            metrics::counter!("jitr_gateway_handshakes_total", "result" => "ok").increment(1);
            hs
        }
        Ok(Err(e)) => {
            metrics::counter!("jitr_gateway_handshakes_total", "result" => "failed").increment(1);
            handshake_failed(gw, peer, e).await;
            return None;
        }
        Err(_) => {
            metrics::counter!("jitr_gateway_handshakes_total", "result" => "timeout").increment(1);
            refused("HANDSHAKE_TIMEOUT");
            tracing::debug!(%peer, "TLS handshake deadline passed; closed");
            return None;
        }
    };
    let chain: Vec<CertificateDer<'static>> = hs
        .stream
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let (mut device_rd, mut device_wr) = hs.stream.split();
    let mut reader = FrameReader::default();
    let first = tokio::time::timeout(
        gw.config.connect_timeout,
        reader.read_connect(&mut device_rd),
    );
    let (version, connect) = match first.await {
        Ok(Ok(x)) => x,
        Ok(Err(ReadError::UnsupportedProtocol(level))) => {
            refused("UNSUPPORTED_PROTOCOL");
            tracing::info!(%peer, level, "refused: MQTT protocol level {level}");
            let nack = v4::Packet::ConnAck(v4::ConnAck::new(
                v4::ConnectReturnCode::RefusedProtocolVersion,
                false,
            ));
            let _ = write_packet(&mut device_wr, &Packet::V4(nack)).await;
            return None;
        }
        Ok(Err(e)) => {
            refused("MALFORMED_CONNECT");
            tracing::info!(%peer, error = %e, "closed before a valid CONNECT");
            return None;
        }
        Err(_) => {
            refused("CONNECT_TIMEOUT");
            tracing::debug!(%peer, "CONNECT deadline passed; closed");
            return None;
        }
    };
    let info = ConnectInfo::of(&connect)?;
    // The decision (and any registration, which writes to the store) off the reactor.
    let admit = {
        let gw = gw.clone();
        let verifier = hs.verifier.clone();
        let sni = hs.sni.clone();
        let info = info.clone();
        tokio::task::spawn_blocking(move || {
            admit(&gw, &verifier, sni.as_deref(), &chain, &info, peer)
        })
    };
    let admission = match admit.await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(%peer, error = %e, "the decision failed");
            return None;
        }
    };
    let admitted = match admission {
        Admission::Refused { decision, why } => {
            if let Some(event) = decision.as_ref().and_then(|d| d.event.clone()) {
                publish_event(gw, &event).await;
            }
            let _ = write_packet(&mut device_wr, &mqtt::connack_refusal(version, why)).await;
            let code = mqtt::connack_code(&mqtt::connack_refusal(version, why)).unwrap_or(0);
            metrics::counter!("jitr_gateway_connacks_total", "code" => code.to_string())
                .increment(1);
            let _ = device_wr.shutdown().await;
            return None;
        }
        Admission::Admitted(a) => a,
    };
    Some(Box::new(Opened {
        device_rd,
        device_wr,
        reader,
        version,
        connect,
        admitted,
        started,
    }))
}

async fn publish_event(gw: &Gateway, event: &jitr_core::RegistrationEvent) {
    match events::publish(&gw.config.broker, event).await {
        Ok(()) => {
            metrics::counter!("jitr_gateway_events_published_total").increment(1);
            tracing::info!(
                certificate_id = %event.certificate_id,
                ca_certificate_id = %event.ca_certificate_id,
                topic = %event.topic(),
                "registration event published"
            );
        }
        Err(e) => {
            metrics::counter!("jitr_gateway_event_errors_total").increment(1);
            tracing::error!(
                certificate_id = %event.certificate_id,
                ca_certificate_id = %event.ca_certificate_id,
                error = %e,
                "registration event NOT published"
            );
        }
    }
}

async fn handshake_failed(gw: &Gateway, peer: SocketAddr, e: HandshakeError) {
    refused(e.code());
    match &e {
        HandshakeError::Refused(d) => {
            log_refusal(peer, d, "TLS handshake");
            if let Some(event) = &d.event {
                metrics::counter!("jitr_gateway_registrations_total").increment(1);
                publish_event(gw, event).await;
            }
        }
        HandshakeError::Tls { code, message } => {
            tracing::info!(%peer, code, error = %message, "TLS handshake refused");
        }
        HandshakeError::Closed => {
            tracing::debug!(%peer, "closed during the TLS handshake");
        }
    }
}

fn log_refusal(peer: SocketAddr, d: &Decision, at: &str) {
    tracing::info!(
        %peer,
        code = d.reason_code().unwrap_or("ALLOWED"),
        certificate_id = %d.certificate_id.map(|i| i.to_string()).unwrap_or_default(),
        ca_certificate_id = %d.ca_certificate_id.map(|i| i.to_string()).unwrap_or_default(),
        reason = %d.message(),
        "refused at {at}"
    );
}

/// What the CONNECT says, in either version.
#[derive(Clone, Debug)]
pub(crate) struct ConnectInfo {
    pub(crate) client_id: String,
    pub(crate) persistent: bool,
    pub(crate) will: Option<(String, bool)>,
}

impl ConnectInfo {
    fn of(f: &Frame) -> Option<Self> {
        match &f.packet {
            Packet::V4(v4::Packet::Connect(c)) => Some(Self {
                client_id: c.client_id.clone(),
                persistent: !c.clean_session,
                will: c.last_will.as_ref().map(|w| (w.topic.clone(), w.retain)),
            }),
            Packet::V5(v5::Packet::Connect(c, will, _)) => Some(Self {
                client_id: c.client_id.clone(),
                persistent: !c.clean_start
                    || c.properties
                        .as_ref()
                        .and_then(|p| p.session_expiry_interval)
                        .unwrap_or(0)
                        > 0,
                will: will
                    .as_ref()
                    .map(|w| (String::from_utf8_lossy(&w.topic).into_owned(), w.retain)),
            }),
            _ => None,
        }
    }
}

/// An admitted connection.
pub(crate) struct Admitted {
    pub(crate) certificate_id: CertificateId,
    pub(crate) registry: Arc<Registry>,
    pub(crate) facts: ConnectionFacts,
    pub(crate) policies: policy::ConnectionPolicies,
}

enum Admission {
    Admitted(Box<Admitted>),
    Refused {
        decision: Option<Box<Decision>>,
        why: Refusal,
    },
}

/// The decision at CONNECT: the JITR decision (protocol mode), then `iot:Connect` on the
/// client id, and the will's topic as a publish.
fn admit(
    gw: &Gateway,
    verifier: &JitrClientVerifier,
    sni: Option<&str>,
    chain: &[CertificateDer<'static>],
    info: &ConnectInfo,
    peer: SocketAddr,
) -> Admission {
    let now = Timestamp::now();
    let not_authorized = |decision: Option<Decision>| Admission::Refused {
        decision: decision.map(Box::new),
        why: Refusal::NotAuthorized,
    };
    let Some(leaf) = chain.first() else {
        refused("NO_CERTIFICATE");
        return not_authorized(None);
    };
    let certificate_id = CertificateId::of_der(leaf);
    if gw.config.mode == Mode::Protocol {
        let d = verifier.decide(chain, now);
        if !d.is_allowed() {
            refused(d.reason_code().unwrap_or("REFUSED"));
            if d.event.is_some() {
                metrics::counter!("jitr_gateway_registrations_total").increment(1);
            }
            log_refusal(peer, &d, "CONNECT");
            return not_authorized(Some(d));
        }
    }
    let Some(registry) = account(&gw.directory, sni) else {
        refused("NO_ACCOUNT");
        return not_authorized(None);
    };
    let certificate = match jitr_core::Certificate::from_der(leaf) {
        Ok(c) => c,
        Err(e) => {
            refused("MALFORMED_CERTIFICATE");
            tracing::info!(%peer, error = %e.message(), "refused: unreadable certificate");
            return not_authorized(None);
        }
    };
    // What the policy variables read of it: a session keeps no parsed certificate,
    // and its ID only once (as 32 bytes).
    let mut attributes = CertificateAttributes::from_certificate(&certificate);
    attributes.certificate_id = None;
    let facts = ConnectionFacts {
        client_id: info.client_id.clone(),
        source_ip: peer.ip(),
        certificate: attributes,
        domain_name: sni.map(str::to_owned),
        last_will_topic: info.will.as_ref().map(|(t, _)| t.clone()),
        persistent: info.persistent,
    };
    let policies = match gw
        .sessions
        .policies
        .compile(&registry, &certificate_id, &facts, now)
    {
        Ok(p) => p,
        Err(e) => {
            refused("POLICY_UNAVAILABLE");
            tracing::warn!(%peer, %certificate_id, error = %e.message(), "refused: the policies could not be read");
            return Admission::Refused {
                decision: None,
                why: Refusal::ServerUnavailable,
            };
        }
    };
    let mut denied = None;
    if !policies.allows(Act::Connect, &info.client_id, now) {
        denied = Some(Act::Connect);
    } else if let Some((topic, retain)) = &info.will {
        if !policies.allows(Act::Publish, topic, now) {
            denied = Some(Act::Publish);
        } else if *retain && !policies.allows(Act::RetainPublish, topic, now) {
            denied = Some(Act::RetainPublish);
        }
    }
    if let Some(act) = denied {
        act.count_denial();
        refused("POLICY_DENIED");
        tracing::info!(
            %peer,
            code = "POLICY_DENIED",
            action = act.name(),
            certificate_id = %certificate_id,
            client_id = %info.client_id,
            policies = ?policies.names(),
            "refused at CONNECT: the attached policies do not allow it"
        );
        return not_authorized(None);
    }
    Admission::Admitted(Box::new(Admitted {
        certificate_id,
        registry,
        facts,
        policies,
    }))
}

/// The account (registry) the SNI routes to.
fn account(directory: &Directory, sni: Option<&str>) -> Option<Arc<Registry>> {
    let routed = directory.route(sni).ok()?;
    directory
        .accounts()
        .iter()
        .find(|r| r.scope() == routed.registry.scope())
        .cloned()
}

/// Writes one packet.
pub(crate) async fn write_packet<W: tokio::io::AsyncWrite + Unpin>(
    w: &mut W,
    p: &Packet,
) -> Result<(), Error> {
    let bytes = mqtt::encode(p)?;
    w.write_all(&bytes).await?;
    w.flush().await?;
    Ok(())
}
