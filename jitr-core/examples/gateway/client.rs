//! A device's MQTT client over TLS (tokio-rustls and the same codecs), for the story, the
//! tests and the benchmark: it reports exactly what the gateway answered (CONNACK,
//! SUBACK and PUBACK codes, a closed connection).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jitr_core::tooling::{self, CertificateOptions, GeneratedCertificate};
use jitr_core::{CertificateId, Timestamp};
use rumqttc::mqttbytes::{v4, QoS as Q4};
use rumqttc::v5::mqttbytes::{v5, QoS as Q5};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::mqtt::{self, FrameReader, Packet, ReadError, Version};
use crate::state::HOST;

/// A device: its certificate chain and key.
#[derive(Clone)]
pub(crate) struct Device {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: Arc<PrivateKeyDer<'static>>,
    pub(crate) id: CertificateId,
}

impl Device {
    /// A new device certificate (P-256) from `ca`, sent with the CA in its chain.
    pub(crate) fn issue(ca: &GeneratedCertificate, common_name: &str) -> Result<Self, String> {
        let cert =
            tooling::issue_certificate(ca, common_name, &CertificateOptions::new(yesterday()))
                .map_err(|e| e.message())?;
        Self::from_pems(&cert, &[ca])
    }

    /// A device from a generated certificate and the chain to send after it.
    pub(crate) fn from_pems(
        cert: &GeneratedCertificate,
        then: &[&GeneratedCertificate],
    ) -> Result<Self, String> {
        let key = PrivateKeyDer::from_pem_slice(cert.private_key_pem().as_bytes())
            .map_err(|e| e.to_string())?;
        let mut chain = vec![CertificateDer::from(cert.certificate().der().to_vec())];
        chain.extend(
            then.iter()
                .map(|c| CertificateDer::from(c.certificate().der().to_vec())),
        );
        Ok(Self {
            id: CertificateId::of_der(&chain[0]),
            chain,
            key: Arc::new(key),
        })
    }

    /// The client id AWS's sample policy allows: the certificate id.
    pub(crate) fn client_id(&self) -> String {
        self.id.to_string()
    }

    /// Connects to the gateway on `addr` (as `HOST`) as this device, under its client ID,
    /// with its TLS configuration `config`.
    pub(crate) async fn connect(
        &self,
        addr: SocketAddr,
        config: &Arc<rustls::ClientConfig>,
        version: Version,
    ) -> Result<Connected<tokio_rustls::client::TlsStream<TcpStream>>, String> {
        connect(addr, HOST, config.clone(), &self.client_id(), version).await
    }
}

/// A day ago: certificates are valid from then, so clocks a little apart agree.
pub(crate) fn yesterday() -> Timestamp {
    Timestamp::from_unix_secs(Timestamp::now().unix_secs() - 86_400)
}

/// The TLS client configuration of a device.
pub(crate) fn tls_config(
    server_ca_pem: &str,
    device: &Device,
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(server_ca_pem.as_bytes()) {
        roots
            .add(c.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    // The key is used as it is: the tests send certificates rustls itself would not
    // parse (100 KB ones), and the server is what must refuse them.
    let resolver =
        jitr_testkit::tls::client_cert_resolver(device.chain.clone(), device.key.clone_key())
            .map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_cert_resolver(resolver);
    Ok(Arc::new(config))
}

/// A connected client (TLS or plain).
pub(crate) struct Client<S> {
    stream: S,
    reader: FrameReader,
    pub(crate) version: Version,
    next_pkid: u16,
    /// Messages that arrived while the client waited for something else.
    pub(crate) inbox: Vec<(String, Bytes)>,
}

/// A message delivered to the client.
pub(crate) type Message = (String, Bytes);

/// What came of a connection attempt.
pub(crate) enum Connected<S> {
    /// CONNACK with this code (0 is accepted; the client is open only then).
    Connack(u8, Option<Client<S>>),
    /// The TLS handshake failed.
    TlsRefused(String),
}

/// TLS connect, then MQTT CONNECT with `client_id`; reads the CONNACK.
pub(crate) async fn connect(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<rustls::ClientConfig>,
    client_id: &str,
    version: Version,
) -> Result<Connected<tokio_rustls::client::TlsStream<TcpStream>>, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| e.to_string())?;
    let tls = match tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
    {
        Ok(t) => t,
        Err(e) => return Ok(Connected::TlsRefused(e.to_string())),
    };
    mqtt_connect(tls, client_id, version).await
}

/// MQTT CONNECT over an open stream; reads the CONNACK. (TLS 1.3 client certificates
/// are checked after the client's handshake ends: a refused certificate shows here as a
/// closed stream, reported as `TlsRefused`.)
pub(crate) async fn mqtt_connect<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    client_id: &str,
    version: Version,
) -> Result<Connected<S>, String> {
    let connect = mqtt::clean_connect(version, client_id, 60);
    if let Err(e) = write(&mut stream, &connect).await {
        return Ok(Connected::TlsRefused(e));
    }
    let mut reader = FrameReader::default();
    let frame = match reader.read(&mut stream, version).await {
        Ok(f) => f,
        Err(e) => return Ok(Connected::TlsRefused(e.to_string())),
    };
    let code = mqtt::connack_code(&frame.packet).ok_or("expected CONNACK")?;
    let client = (code == 0).then_some(Client {
        stream,
        reader,
        version,
        next_pkid: 1,
        inbox: Vec::new(),
    });
    Ok(Connected::Connack(code, client))
}

async fn write<S: AsyncWrite + Unpin>(s: &mut S, p: &Packet) -> Result<(), String> {
    let bytes = mqtt::encode(p)?;
    s.write_all(&bytes).await.map_err(|e| e.to_string())?;
    s.flush().await.map_err(|e| e.to_string())
}

/// What the server did with a publish.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Published {
    /// PUBACK with this reason code (0 on MQTT 3.1.1).
    Acked(u8),
    /// The server closed the connection.
    Closed,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn pkid(&mut self) -> u16 {
        let p = self.next_pkid;
        self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
        p
    }

    /// Reads the next packet, keeping deliveries in the inbox.
    async fn next(&mut self, within: Duration) -> Result<Option<Packet>, ReadError> {
        match tokio::time::timeout(within, self.reader.read(&mut self.stream, self.version)).await {
            Err(_) => Ok(None),
            Ok(Err(e)) => Err(e),
            Ok(Ok(f)) => {
                match &f.packet {
                    Packet::V4(v4::Packet::Publish(p)) => {
                        self.inbox.push((p.topic.clone(), p.payload.clone()));
                        if p.qos == Q4::AtLeastOnce {
                            let ack = Packet::V4(v4::Packet::PubAck(v4::PubAck::new(p.pkid)));
                            let _ = write(&mut self.stream, &ack).await;
                        }
                    }
                    Packet::V5(v5::Packet::Publish(p)) => {
                        self.inbox.push((
                            String::from_utf8_lossy(&p.topic).into_owned(),
                            p.payload.clone(),
                        ));
                        if p.qos == Q5::AtLeastOnce {
                            let ack = Packet::V5(v5::Packet::PubAck(v5::PubAck::new(p.pkid, None)));
                            let _ = write(&mut self.stream, &ack).await;
                        }
                    }
                    _ => {}
                }
                Ok(Some(f.packet))
            }
        }
    }

    /// Publishes with QoS 1 and waits for the PUBACK (or the connection's end).
    pub(crate) async fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        retain: bool,
    ) -> Result<Published, String> {
        let pkid = self.pkid();
        let p = match self.version {
            Version::V4 => {
                let mut p = v4::Publish::new(topic, Q4::AtLeastOnce, payload.to_vec());
                p.pkid = pkid;
                p.retain = retain;
                Packet::V4(v4::Packet::Publish(p))
            }
            Version::V5 => {
                let mut p = v5::Publish::new(topic, Q5::AtLeastOnce, payload.to_vec(), None);
                p.pkid = pkid;
                p.retain = retain;
                Packet::V5(v5::Packet::Publish(p))
            }
        };
        if write(&mut self.stream, &p).await.is_err() {
            return Ok(Published::Closed);
        }
        loop {
            match self.next(Duration::from_secs(10)).await {
                Ok(Some(Packet::V4(v4::Packet::PubAck(a)))) if a.pkid == pkid => {
                    return Ok(Published::Acked(0))
                }
                Ok(Some(Packet::V5(v5::Packet::PubAck(a)))) if a.pkid == pkid => {
                    return Ok(Published::Acked(puback_code(a.reason)))
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err("no PUBACK within 10 s".into()),
                Err(_) => return Ok(Published::Closed),
            }
        }
    }

    /// Publishes with QoS 0 (nothing comes back).
    pub(crate) async fn publish_qos0(&mut self, topic: &str, payload: &[u8]) -> Result<(), String> {
        let p = match self.version {
            Version::V4 => Packet::V4(v4::Packet::Publish(v4::Publish::new(
                topic,
                Q4::AtMostOnce,
                payload.to_vec(),
            ))),
            Version::V5 => Packet::V5(v5::Packet::Publish(v5::Publish::new(
                topic,
                Q5::AtMostOnce,
                payload.to_vec(),
                None,
            ))),
        };
        write(&mut self.stream, &p).await
    }

    /// Subscribes (QoS 1 for each filter) and returns the SUBACK's codes.
    pub(crate) async fn subscribe(&mut self, filters: &[&str]) -> Result<Vec<u8>, String> {
        let pkid = self.pkid();
        let p = match self.version {
            Version::V4 => {
                let mut s = v4::Subscribe::new_many(
                    filters
                        .iter()
                        .map(|f| v4::SubscribeFilter::new((*f).to_owned(), Q4::AtLeastOnce)),
                );
                s.pkid = pkid;
                Packet::V4(v4::Packet::Subscribe(s))
            }
            Version::V5 => {
                let mut s = v5::Subscribe::new_many(
                    filters.iter().map(|f| v5::Filter::new(*f, Q5::AtLeastOnce)),
                    None,
                );
                s.pkid = pkid;
                Packet::V5(v5::Packet::Subscribe(s))
            }
        };
        write(&mut self.stream, &p).await?;
        loop {
            match self.next(Duration::from_secs(10)).await {
                Ok(Some(Packet::V4(v4::Packet::SubAck(a)))) if a.pkid == pkid => {
                    return Ok(a
                        .return_codes
                        .iter()
                        .map(|c| match c {
                            v4::SubscribeReasonCode::Success(q) => *q as u8,
                            v4::SubscribeReasonCode::Failure => 0x80,
                        })
                        .collect())
                }
                Ok(Some(Packet::V5(v5::Packet::SubAck(a)))) if a.pkid == pkid => {
                    return Ok(a.return_codes.iter().map(|c| suback_code(*c)).collect())
                }
                Ok(Some(_)) => {}
                Ok(None) => return Err("no SUBACK within 10 s".into()),
                Err(e) => return Err(format!("closed while subscribing: {e}")),
            }
        }
    }

    /// Waits up to `within` for a message on `topic`.
    pub(crate) async fn receive(&mut self, topic: &str, within: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(i) = self.inbox.iter().position(|(t, _)| t == topic) {
                return Some(self.inbox.remove(i));
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            match self.next(left).await {
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Waits up to `within` for the server to close the connection; true if it did.
    pub(crate) async fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.next(left).await {
                Ok(Some(Packet::V5(v5::Packet::Disconnect(_)))) => return true,
                Ok(_) => {}
                Err(_) => return true,
            }
        }
    }

    /// Sends PINGREQ and waits for PINGRESP: the session is alive.
    pub(crate) async fn ping(&mut self) -> bool {
        let p = match self.version {
            Version::V4 => Packet::V4(v4::Packet::PingReq),
            Version::V5 => Packet::V5(v5::Packet::PingReq(v5::PingReq)),
        };
        if write(&mut self.stream, &p).await.is_err() {
            return false;
        }
        loop {
            match self.next(Duration::from_secs(10)).await {
                Ok(Some(
                    Packet::V4(v4::Packet::PingResp) | Packet::V5(v5::Packet::PingResp(_)),
                )) => return true,
                Ok(Some(_)) => {}
                _ => return false,
            }
        }
    }

    /// Sends raw bytes (malformed packets, in the tests).
    #[cfg(test)]
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())?;
        self.stream.flush().await.map_err(|e| e.to_string())
    }

    /// DISCONNECT and close.
    pub(crate) async fn disconnect(mut self) {
        let p = match self.version {
            Version::V4 => Packet::V4(v4::Packet::Disconnect),
            Version::V5 => Packet::V5(v5::Packet::Disconnect(v5::Disconnect::new(
                v5::DisconnectReasonCode::NormalDisconnection,
            ))),
        };
        let _ = write(&mut self.stream, &p).await;
        let _ = self.stream.shutdown().await;
    }
}

fn puback_code(r: v5::PubAckReason) -> u8 {
    use v5::PubAckReason as R;
    match r {
        R::Success => 0,
        R::NoMatchingSubscribers => 0x10,
        R::UnspecifiedError => 0x80,
        R::ImplementationSpecificError => 0x83,
        R::NotAuthorized => 0x87,
        R::TopicNameInvalid => 0x90,
        R::PacketIdentifierInUse => 0x91,
        R::QuotaExceeded => 0x97,
        R::PayloadFormatInvalid => 0x99,
    }
}

fn suback_code(c: v5::SubscribeReasonCode) -> u8 {
    use v5::SubscribeReasonCode as C;
    match c {
        C::Success(q) => q as u8,
        C::Failure | C::Unspecified => 0x80,
        C::ImplementationSpecific => 0x83,
        C::NotAuthorized => 0x87,
        C::TopicFilterInvalid => 0x8F,
        C::PkidInUse => 0x91,
        C::QuotaExceeded => 0x97,
        C::SharedSubscriptionsNotSupported => 0x9E,
        C::SubscriptionIdNotSupported => 0xA1,
        C::WildcardSubscriptionsNotSupported => 0xA2,
    }
}
