//! The MQTT proxy: one upstream connection to the broker per admitted device, with the
//! device's AWS IoT policies enforced on every packet
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html>):
//!
//! - **PUBLISH** from the device: `iot:Publish` on the topic, and `iot:RetainPublish` too
//!   when the retain flag is set. Topics starting with `$` are reserved
//!   (<https://docs.aws.amazon.com/iot/latest/developerguide/reserved-topics.html>): a
//!   device never publishes there. Unauthorized, AWS closes an MQTT 3.1.1 connection and
//!   answers an MQTT 5 one with PUBACK (or PUBREC) reason code 0x87
//!   (<https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html>); an MQTT 5 QoS 0
//!   publish has no answer and is dropped.
//! - **SUBSCRIBE**: `iot:Subscribe` per filter; denied filters get the failure code
//!   (0x80 on 3.1.1, 0x87 on MQTT 5) in the SUBACK, the rest go to the broker.
//! - **PUBLISH** to the device: `iot:Receive` on the topic; a denied message is not
//!   delivered (the gateway acknowledges it to the broker itself).
//! - Everything else is forwarded as the peer sent it.
//!
//! MQTT 5 topic aliases from the device are resolved here (the broker gets whole
//! topics); the broker is asked for none.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::mqtt::{self, Frame, FrameReader, Packet, ReadError, Refusal, Version};
use crate::policy::Act;
use crate::server::{write_packet, Admitted, Gateway, Opened};
use crate::sessions::{CloseReason, Registration, Session};
use crate::tls_io::{TlsReader, TlsWriter};

/// How long the broker has to answer the upstream CONNECT.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// A session whose broker accepted it and whose device has its CONNACK: what the pump
/// needs, and nothing else (the TLS stream is split, its halves share it on the heap).
pub(crate) struct Live {
    client_rd: TlsReader,
    client_wr: TlsWriter,
    client_reader: FrameReader,
    up_rd: OwnedReadHalf,
    up_wr: OwnedWriteHalf,
    upstream_reader: FrameReader,
    version: Version,
    /// The session, in the table while this lives.
    registration: Registration,
}

/// The upstream leg (the device's CONNECT, without credentials or what the gateway
/// handles itself), the broker's CONNACK passed on, the session made live. `None` when
/// the broker could not be reached or refused (the device has its answer).
pub(crate) async fn start(gw: &Arc<Gateway>, opened: Box<Opened>) -> Option<Live> {
    let Opened {
        device_rd: client_rd,
        device_wr: mut client_wr,
        reader: client_reader,
        version,
        connect,
        admitted,
        started,
    } = *opened;
    let Admitted {
        certificate_id,
        registry,
        facts,
        policies,
    } = *admitted;
    let client_id = facts.client_id.clone();
    let (upstream, upstream_reader, connack) = match connect_upstream(
        &gw.config.broker,
        &connect,
        version,
    )
    .await
    {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(%certificate_id, %client_id, error = %e, "the broker cannot be reached");
            let nack = mqtt::connack_refusal(version, Refusal::ServerUnavailable);
            count_connack(&nack);
            let _ = write_packet(&mut client_wr, &nack).await;
            return None;
        }
    };
    let code = mqtt::connack_code(&connack.packet).unwrap_or(0x80);
    count_connack(&connack.packet);
    if code != 0 {
        let _ = client_wr.write_all(&connack.raw).await;
        tracing::info!(%certificate_id, %client_id, code, "the broker refused the connection");
        return None;
    }
    // The session is live (and can be evicted) before the device hears it is connected.
    let registration = gw.sessions.add(certificate_id, facts, registry, policies);
    if client_wr.write_all(&connack.raw).await.is_err() || client_wr.flush().await.is_err() {
        return None;
    }
    metrics::histogram!("jitr_gateway_connect_seconds").record(started.elapsed().as_secs_f64());
    tracing::debug!(%certificate_id, %client_id, version = version.label(), "session open");
    let (up_rd, up_wr) = upstream.into_split();
    Some(Live {
        client_rd,
        client_wr,
        client_reader,
        up_rd,
        up_wr,
        upstream_reader,
        version,
        registration,
    })
}

/// Runs a live session until either side ends it or the gateway closes it. Each
/// packet's handling and the closing are boxed futures of their own, so an idle
/// session carries only the pump's wait.
pub(crate) async fn run(gw: &Arc<Gateway>, mut live: Live) {
    let mut pump = Pump {
        version: live.version,
        session: live.registration.session().clone(),
        tracking: None,
    };
    // The pump is built inside select! (a future bound to a name first and then moved
    // in would take its room twice in this task's state).
    let ended = tokio::select! {
        end = pump.run(
            &mut live.client_rd,
            &mut live.client_wr,
            &mut live.client_reader,
            &mut live.up_rd,
            &mut live.up_wr,
            &mut live.upstream_reader,
        ) => end,
        reason = live.registration.session().closed() => End::Closed(reason),
    };
    drop(pump);
    let writers = (live.client_wr, live.up_wr);
    Box::pin(finish(
        gw,
        ended,
        live.version,
        writers,
        live.up_rd,
        live.registration.session(),
    ))
    .await;
    drop(live.registration);
}

/// The end of a session: the pump is gone (whatever it was waiting on is cancelled),
/// and the gateway writes what ends the session.
async fn finish(
    gw: &Arc<Gateway>,
    ended: End,
    version: Version,
    (mut client_wr, mut up_wr): (TlsWriter, OwnedWriteHalf),
    up_rd: OwnedReadHalf,
    session: &Session,
) {
    let (certificate_id, client_id) = (&session.certificate_id, session.facts.client_id.as_str());
    match &ended {
        End::Closed(reason) => {
            tracing::info!(%certificate_id, %client_id, reason = reason.label(), "session closed by the gateway");
            if version == Version::V5 {
                let code = match reason {
                    CloseReason::DeleteConnection { .. } => {
                        v5::DisconnectReasonCode::AdministrativeAction
                    }
                    CloseReason::Shutdown => v5::DisconnectReasonCode::ServerShuttingDown,
                    _ => v5::DisconnectReasonCode::NotAuthorized,
                };
                let d = Packet::V5(v5::Packet::Disconnect(v5::Disconnect::new(code)));
                let _ = tokio::time::timeout(
                    Duration::from_millis(200),
                    write_packet(&mut client_wr, &d),
                )
                .await;
            }
            if let CloseReason::DeleteConnection {
                prevent_will_message: true,
                ..
            } = reason
            {
                // A DISCONNECT tells the broker not to publish the will.
                let d = match version {
                    Version::V4 => Packet::V4(v4::Packet::Disconnect),
                    Version::V5 => Packet::V5(v5::Packet::Disconnect(v5::Disconnect::new(
                        v5::DisconnectReasonCode::NormalDisconnection,
                    ))),
                };
                let _ = write_packet(&mut up_wr, &d).await;
            }
        }
        End::Client(why) => {
            tracing::debug!(%certificate_id, %client_id, why = %why, "device ended the session")
        }
        End::Upstream(why) => {
            tracing::info!(%certificate_id, %client_id, why = %why, "the broker ended the session")
        }
        End::Denied(act, topic) => tracing::info!(
            %certificate_id,
            %client_id,
            code = "POLICY_DENIED",
            action = act.name(),
            %topic,
            "connection closed: an unauthorized publish (MQTT 3.1.1)"
        ),
    }
    let _ = client_wr.shutdown().await;
    let _ = up_wr.shutdown().await;
    drop((up_rd, up_wr));
    if let End::Closed(CloseReason::DeleteConnection {
        clean_session: true,
        ..
    }) = ended
    {
        clean_broker_session(&gw.config.broker, client_id, version).await;
    }
}

fn count_connack(p: &Packet) {
    if let Some(code) = mqtt::connack_code(p) {
        metrics::counter!("jitr_gateway_connacks_total", "code" => code.to_string()).increment(1);
    }
}

/// Connects to the broker with the device's CONNECT (credentials and MQTT 5 topic
/// aliases and enhanced authentication removed) and reads its CONNACK.
async fn connect_upstream(
    broker: &str,
    connect: &Frame,
    version: Version,
) -> Result<(TcpStream, FrameReader, Frame), String> {
    let upstream_connect = match &connect.packet {
        Packet::V4(v4::Packet::Connect(c)) => {
            let mut c = c.clone();
            c.login = None;
            Packet::V4(v4::Packet::Connect(c))
        }
        Packet::V5(v5::Packet::Connect(c, will, _)) => {
            let mut c = c.clone();
            if let Some(p) = c.properties.as_mut() {
                p.topic_alias_max = None;
                p.authentication_method = None;
                p.authentication_data = None;
            }
            Packet::V5(v5::Packet::Connect(c, will.clone(), None))
        }
        _ => return Err("not a CONNECT".into()),
    };
    let bytes = mqtt::encode(&upstream_connect)?;
    let attempt = async {
        let mut tcp = TcpStream::connect(broker)
            .await
            .map_err(|e| format!("connect to {broker}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        tcp.write_all(&bytes).await.map_err(|e| e.to_string())?;
        let mut reader = FrameReader::default();
        let connack = reader
            .read(&mut tcp, version)
            .await
            .map_err(|e| format!("reading the broker's CONNACK: {e}"))?;
        if mqtt::connack_code(&connack.packet).is_none() {
            return Err("the broker answered CONNECT with another packet".to_string());
        }
        Ok((tcp, reader, connack))
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, attempt)
        .await
        .map_err(|_| format!("{broker} did not answer within {UPSTREAM_TIMEOUT:?}"))?
}

/// DeleteConnection with cleanSession: connects once more with the client id and a clean
/// session, which makes the broker discard the stored one.
async fn clean_broker_session(broker: &str, client_id: &str, version: Version) {
    let connect = mqtt::clean_connect(version, client_id, 10);
    let Ok(raw) = mqtt::encode(&connect) else {
        return;
    };
    let frame = Frame {
        raw,
        packet: connect,
    };
    if let Ok((mut tcp, _, _)) = connect_upstream(broker, &frame, version).await {
        let bye = match version {
            Version::V4 => Packet::V4(v4::Packet::Disconnect),
            Version::V5 => Packet::V5(v5::Packet::Disconnect(v5::Disconnect::new(
                v5::DisconnectReasonCode::NormalDisconnection,
            ))),
        };
        let _ = write_packet(&mut tcp, &bye).await;
    }
}

/// How a session ended.
enum End {
    /// The gateway closed it (eviction, DeleteConnection, shutdown).
    Closed(CloseReason),
    /// The device closed it, sent DISCONNECT, or broke the protocol.
    Client(String),
    /// The broker closed it.
    Upstream(String),
    /// An MQTT 3.1.1 device published where it may not: AWS closes the connection.
    Denied(Act, String),
}

/// A SUBSCRIBE whose denied filters the gateway answers itself: whether each filter, in
/// order, was allowed (and sent on to the broker).
struct PendingSubscribe {
    allowed: Vec<bool>,
}

impl PendingSubscribe {
    /// The device's SUBACK codes: `denied` for the filters the gateway refused, the
    /// broker's codes in order for the others (`missing` if it sent too few).
    fn merge<C: Copy>(&self, broker: Vec<C>, denied: C, missing: C) -> Vec<C> {
        let mut broker = broker.into_iter();
        self.allowed
            .iter()
            .map(|ok| {
                if *ok {
                    broker.next().unwrap_or(missing)
                } else {
                    denied
                }
            })
            .collect()
    }
}

struct Pump {
    version: Version,
    session: Arc<Session>,
    /// What the session tracks between packets, made on first use: most sessions never
    /// need it, and an idle session's task stays smaller without it.
    tracking: Option<Box<Tracking>>,
}

#[derive(Default)]
struct Tracking {
    /// MQTT 5 topic aliases the device set.
    aliases: HashMap<u16, String>,
    pending_subscribes: HashMap<u16, PendingSubscribe>,
    /// QoS 2 deliveries the policy denied, acknowledged to the broker by the gateway.
    dropped_qos2: HashSet<u16>,
}

/// The side a packet came from.
#[derive(Clone, Copy)]
enum Side {
    Device,
    Broker,
}

impl Side {
    /// How a failed read ends the session.
    fn ended(self, e: ReadError) -> End {
        match (self, e) {
            (Side::Device, ReadError::Closed) => End::Client("closed".into()),
            (Side::Device, e) => {
                metrics::counter!("jitr_gateway_malformed_packets_total").increment(1);
                End::Client(e.to_string())
            }
            (Side::Broker, e) => End::Upstream(e.to_string()),
        }
    }
}

/// What one packet leads to.
enum Step {
    Continue,
    End(End),
}

impl Pump {
    fn tracking(&mut self) -> &mut Tracking {
        self.tracking.get_or_insert_with(Box::default)
    }

    /// Whether the gateway dropped this QoS 2 delivery (and so answers its PUBREL).
    fn qos2_dropped(&mut self, pkid: u16) -> bool {
        self.tracking
            .as_mut()
            .is_some_and(|t| t.dropped_qos2.remove(&pkid))
    }

    /// The session's loop. It waits with two readiness futures and nothing else, so an
    /// idle session's task stays small; reading and handling a packet is a boxed future
    /// of its own, which reads only what is there (a packet still arriving never makes
    /// the other side wait).
    #[allow(clippy::too_many_arguments)]
    async fn run<CW, UW>(
        &mut self,
        client_rd: &mut TlsReader,
        client_wr: &mut CW,
        client_reader: &mut FrameReader,
        up_rd: &mut OwnedReadHalf,
        up_wr: &mut UW,
        up_reader: &mut FrameReader,
    ) -> End
    where
        CW: AsyncWrite + Unpin,
        UW: AsyncWrite + Unpin,
    {
        loop {
            // A whole packet already buffered goes first; else whichever side has bytes.
            let device = if client_reader.has_packet() {
                true
            } else if up_reader.has_packet() {
                false
            } else {
                tokio::select! {
                    r = client_rd.ready() => match r {
                        Ok(()) => true,
                        Err(e) => return End::Client(e.to_string()),
                    },
                    r = std::future::poll_fn(|cx| up_rd.as_ref().poll_read_ready(cx)) => match r {
                        Ok(()) => false,
                        Err(e) => return End::Upstream(e.to_string()),
                    },
                }
            };
            let step = if device {
                let (r, rd) = (&mut *client_reader, &mut *client_rd);
                Box::pin(self.turn(Side::Device, r, rd, client_wr, up_wr)).await
            } else {
                let (r, rd) = (&mut *up_reader, &mut *up_rd);
                Box::pin(self.turn(Side::Broker, r, rd, client_wr, up_wr)).await
            };
            if let Step::End(e) = step {
                return e;
            }
        }
    }

    /// What one side has sent: a whole packet is handled, part of one waits for more.
    async fn turn<R, CW, UW>(
        &mut self,
        side: Side,
        reader: &mut FrameReader,
        rd: &mut R,
        client: &mut CW,
        up: &mut UW,
    ) -> Step
    where
        R: AsyncRead + Unpin,
        CW: AsyncWrite + Unpin,
        UW: AsyncWrite + Unpin,
    {
        let f = match reader.read_now(rd, self.version).await {
            Ok(Some(f)) => f,
            Ok(None) => return Step::Continue,
            Err(e) => return Step::End(side.ended(e)),
        };
        match side {
            Side::Device => self.on_device_packet(f, client, up).await,
            Side::Broker => self.on_broker_packet(f, client, up).await,
        }
    }

    async fn on_device_packet<CW, UW>(&mut self, f: Frame, client: &mut CW, up: &mut UW) -> Step
    where
        CW: AsyncWrite + Unpin,
        UW: AsyncWrite + Unpin,
    {
        match f.packet {
            Packet::V4(v4::Packet::Publish(p)) => {
                if let Some(act) = self.publish_denied(&p.topic, p.retain) {
                    return Step::End(End::Denied(act, p.topic));
                }
                forward(up, f.raw).await
            }
            Packet::V5(v5::Packet::Publish(mut p)) => {
                let alias = p.properties.as_ref().and_then(|x| x.topic_alias);
                let topic = match resolve_alias(&mut self.tracking().aliases, &p.topic, alias) {
                    Ok(t) => t,
                    Err(why) => return Step::End(End::Client(why)),
                };
                if let Some(_act) = self.publish_denied(&topic, p.retain) {
                    let answer = match p.qos {
                        rumqttc::v5::mqttbytes::QoS::AtMostOnce => return Step::Continue,
                        rumqttc::v5::mqttbytes::QoS::AtLeastOnce => {
                            v5::Packet::PubAck(v5::PubAck {
                                pkid: p.pkid,
                                reason: v5::PubAckReason::NotAuthorized,
                                properties: None,
                            })
                        }
                        rumqttc::v5::mqttbytes::QoS::ExactlyOnce => {
                            v5::Packet::PubRec(v5::PubRec {
                                pkid: p.pkid,
                                reason: v5::PubRecReason::NotAuthorized,
                                properties: None,
                            })
                        }
                    };
                    return match write_packet(client, &Packet::V5(answer)).await {
                        Ok(()) => Step::Continue,
                        Err(e) => Step::End(End::Client(e.to_string())),
                    };
                }
                if alias.is_none() {
                    return forward(up, f.raw).await;
                }
                // Aliased: the broker gets the whole topic.
                p.topic = Bytes::from(topic.into_bytes());
                if let Some(props) = p.properties.as_mut() {
                    props.topic_alias = None;
                }
                encode_and_forward(up, &Packet::V5(v5::Packet::Publish(p))).await
            }
            Packet::V4(v4::Packet::Subscribe(s)) => {
                let judged =
                    self.judge_subscribe(s.pkid, s.filters.iter().map(|f| f.path.as_str()));
                let refusal = |n| {
                    let ack = v4::SubAck::new(s.pkid, vec![v4::SubscribeReasonCode::Failure; n]);
                    Packet::V4(v4::Packet::SubAck(ack))
                };
                let narrowed = |allowed: &[bool]| {
                    Packet::V4(v4::Packet::Subscribe(kept(&s, |k| &mut k.filters, allowed)))
                };
                self.on_subscribe(judged, f.raw, client, up, refusal, narrowed)
                    .await
            }
            Packet::V5(v5::Packet::Subscribe(s)) => {
                let judged =
                    self.judge_subscribe(s.pkid, s.filters.iter().map(|f| f.path.as_str()));
                let refusal = |n| {
                    Packet::V5(v5::Packet::SubAck(v5::SubAck {
                        pkid: s.pkid,
                        return_codes: vec![v5::SubscribeReasonCode::NotAuthorized; n],
                        properties: None,
                    }))
                };
                let narrowed = |allowed: &[bool]| {
                    Packet::V5(v5::Packet::Subscribe(kept(&s, |k| &mut k.filters, allowed)))
                };
                self.on_subscribe(judged, f.raw, client, up, refusal, narrowed)
                    .await
            }
            Packet::V4(v4::Packet::Disconnect) | Packet::V5(v5::Packet::Disconnect(_)) => {
                let _ = up.write_all(&f.raw).await;
                Step::End(End::Client("DISCONNECT".into()))
            }
            // Packets a device never sends.
            Packet::V4(
                v4::Packet::Connect(_)
                | v4::Packet::ConnAck(_)
                | v4::Packet::SubAck(_)
                | v4::Packet::UnsubAck(_)
                | v4::Packet::PingResp,
            )
            | Packet::V5(
                v5::Packet::Connect(..)
                | v5::Packet::ConnAck(_)
                | v5::Packet::SubAck(_)
                | v5::Packet::UnsubAck(_)
                | v5::Packet::PingResp(_)
                | v5::Packet::Auth(_),
            ) => {
                metrics::counter!("jitr_gateway_malformed_packets_total").increment(1);
                Step::End(End::Client(
                    "a packet a client may not send (protocol error)".into(),
                ))
            }
            // UNSUBSCRIBE, PINGREQ and the acknowledgements go as they are.
            _ => forward(up, f.raw).await,
        }
    }

    async fn on_broker_packet<CW, UW>(&mut self, f: Frame, client: &mut CW, up: &mut UW) -> Step
    where
        CW: AsyncWrite + Unpin,
        UW: AsyncWrite + Unpin,
    {
        match f.packet {
            Packet::V4(v4::Packet::Publish(p)) => {
                if self.receive_allowed(&p.topic) {
                    return deliver(client, f.raw).await;
                }
                let ack = match p.qos {
                    rumqttc::mqttbytes::QoS::AtMostOnce => return Step::Continue,
                    rumqttc::mqttbytes::QoS::AtLeastOnce => {
                        v4::Packet::PubAck(v4::PubAck::new(p.pkid))
                    }
                    rumqttc::mqttbytes::QoS::ExactlyOnce => {
                        self.tracking().dropped_qos2.insert(p.pkid);
                        v4::Packet::PubRec(v4::PubRec::new(p.pkid))
                    }
                };
                self.tell_broker(up, Packet::V4(ack)).await
            }
            Packet::V5(v5::Packet::Publish(p)) => {
                let topic = String::from_utf8_lossy(&p.topic).into_owned();
                if self.receive_allowed(&topic) {
                    return deliver(client, f.raw).await;
                }
                let ack = match p.qos {
                    rumqttc::v5::mqttbytes::QoS::AtMostOnce => return Step::Continue,
                    rumqttc::v5::mqttbytes::QoS::AtLeastOnce => {
                        v5::Packet::PubAck(v5::PubAck::new(p.pkid, None))
                    }
                    rumqttc::v5::mqttbytes::QoS::ExactlyOnce => {
                        self.tracking().dropped_qos2.insert(p.pkid);
                        v5::Packet::PubRec(v5::PubRec::new(p.pkid, None))
                    }
                };
                self.tell_broker(up, Packet::V5(ack)).await
            }
            Packet::V4(v4::Packet::PubRel(r)) if self.qos2_dropped(r.pkid) => {
                self.tell_broker(
                    up,
                    Packet::V4(v4::Packet::PubComp(v4::PubComp::new(r.pkid))),
                )
                .await
            }
            Packet::V5(v5::Packet::PubRel(r)) if self.qos2_dropped(r.pkid) => {
                self.tell_broker(
                    up,
                    Packet::V5(v5::Packet::PubComp(v5::PubComp::new(r.pkid, None))),
                )
                .await
            }
            Packet::V4(v4::Packet::SubAck(mut a)) => match self.pending_subscribe(a.pkid) {
                None => deliver(client, f.raw).await,
                Some(p) => {
                    let failure = v4::SubscribeReasonCode::Failure;
                    a.return_codes = p.merge(a.return_codes, failure, failure);
                    self.answer(client, Packet::V4(v4::Packet::SubAck(a))).await
                }
            },
            Packet::V5(v5::Packet::SubAck(mut a)) => match self.pending_subscribe(a.pkid) {
                None => deliver(client, f.raw).await,
                Some(p) => {
                    a.return_codes = p.merge(
                        a.return_codes,
                        v5::SubscribeReasonCode::NotAuthorized,
                        v5::SubscribeReasonCode::Unspecified,
                    );
                    self.answer(client, Packet::V5(v5::Packet::SubAck(a))).await
                }
            },
            Packet::V5(v5::Packet::Disconnect(_)) => {
                let _ = client.write_all(&f.raw).await;
                Step::End(End::Upstream("the broker sent DISCONNECT".into()))
            }
            _ => deliver(client, f.raw).await,
        }
    }

    /// The action a PUBLISH on `topic` is denied for, if any.
    fn publish_denied(&self, topic: &str, retain: bool) -> Option<Act> {
        let denied = if topic.starts_with('$') || !self.session.allows(Act::Publish, topic) {
            Some(Act::Publish)
        } else if retain && !self.session.allows(Act::RetainPublish, topic) {
            Some(Act::RetainPublish)
        } else {
            None
        };
        match denied {
            Some(act) => {
                act.count_denial();
                tracing::info!(
                    certificate_id = %self.session.certificate_id,
                    client_id = %self.session.facts.client_id,
                    code = "POLICY_DENIED",
                    action = act.name(),
                    topic,
                    "publish refused"
                );
            }
            None => metrics::counter!("jitr_gateway_publishes_total").increment(1),
        }
        denied
    }

    /// What the policies make of a SUBSCRIBE's filters; a partly allowed one is
    /// remembered under its packet id, for the broker's SUBACK to be completed.
    fn judge_subscribe<'a>(
        &mut self,
        pkid: u16,
        filters: impl Iterator<Item = &'a str>,
    ) -> Filters {
        let allowed = self.authorize_filters(filters);
        if allowed.iter().all(|a| *a) {
            return Filters::AllAllowed;
        }
        if allowed.iter().all(|a| !*a) {
            return Filters::AllDenied(allowed.len());
        }
        self.tracking().pending_subscribes.insert(
            pkid,
            PendingSubscribe {
                allowed: allowed.clone(),
            },
        );
        Filters::Some(allowed)
    }

    /// A SUBSCRIBE of either version, as `judged`: it goes on as it came (`raw`) when
    /// every filter is allowed, is answered with `refusal(n)` when none of its `n` is,
    /// and otherwise goes on as `narrowed(allowed)`, with the allowed filters alone.
    async fn on_subscribe<CW, UW>(
        &self,
        judged: Filters,
        raw: Bytes,
        client: &mut CW,
        up: &mut UW,
        refusal: impl FnOnce(usize) -> Packet,
        narrowed: impl FnOnce(&[bool]) -> Packet,
    ) -> Step
    where
        CW: AsyncWrite + Unpin,
        UW: AsyncWrite + Unpin,
    {
        match judged {
            Filters::AllAllowed => forward(up, raw).await,
            Filters::AllDenied(n) => self.answer(client, refusal(n)).await,
            Filters::Some(allowed) => encode_and_forward(up, &narrowed(&allowed)).await,
        }
    }

    /// The SUBSCRIBE a SUBACK answers, if the gateway denied some of its filters.
    fn pending_subscribe(&mut self, pkid: u16) -> Option<PendingSubscribe> {
        self.tracking
            .as_mut()
            .and_then(|t| t.pending_subscribes.remove(&pkid))
    }

    fn authorize_filters<'a>(&self, filters: impl Iterator<Item = &'a str>) -> Vec<bool> {
        filters
            .map(|filter| {
                let ok = self.session.allows(Act::Subscribe, filter);
                if !ok {
                    Act::Subscribe.count_denial();
                    tracing::info!(
                        certificate_id = %self.session.certificate_id,
                        client_id = %self.session.facts.client_id,
                        code = "POLICY_DENIED",
                        action = Act::Subscribe.name(),
                        filter = %filter,
                        "subscription refused"
                    );
                }
                ok
            })
            .collect()
    }

    fn receive_allowed(&self, topic: &str) -> bool {
        let ok = self.session.allows(Act::Receive, topic);
        if !ok {
            Act::Receive.count_denial();
            tracing::debug!(
                certificate_id = %self.session.certificate_id,
                topic,
                "delivery withheld: iot:Receive denied"
            );
        }
        ok
    }

    async fn answer<CW: AsyncWrite + Unpin>(&self, client: &mut CW, p: Packet) -> Step {
        match write_packet(client, &p).await {
            Ok(()) => Step::Continue,
            Err(e) => Step::End(End::Client(e.to_string())),
        }
    }

    async fn tell_broker<UW: AsyncWrite + Unpin>(&self, up: &mut UW, p: Packet) -> Step {
        match write_packet(up, &p).await {
            Ok(()) => Step::Continue,
            Err(e) => Step::End(End::Upstream(e.to_string())),
        }
    }
}

/// What the policies make of a SUBSCRIBE's filters.
enum Filters {
    /// All are allowed: the packet goes on as it came.
    AllAllowed,
    /// None is (this many): the gateway answers with a failure code for each.
    AllDenied(usize),
    /// Some are: those go on, in a packet of their own.
    Some(Vec<bool>),
}

/// A copy of the SUBSCRIBE `s` with only the filters (its `filters`) whose place in
/// `allowed` is true.
fn kept<S: Clone, T>(s: &S, filters: impl FnOnce(&mut S) -> &mut Vec<T>, allowed: &[bool]) -> S {
    let mut kept = s.clone();
    let mut it = allowed.iter();
    filters(&mut kept).retain(|_| *it.next().unwrap_or(&false));
    kept
}

/// Forwards a packet the gateway rewrote.
async fn encode_and_forward<W: AsyncWrite + Unpin>(up: &mut W, p: &Packet) -> Step {
    match mqtt::encode(p) {
        Ok(b) => forward(up, b).await,
        Err(e) => Step::End(End::Client(e)),
    }
}

/// Writes a packet's bytes to the broker.
async fn forward<W: AsyncWrite + Unpin>(up: &mut W, bytes: Bytes) -> Step {
    match up.write_all(&bytes).await {
        Ok(()) => Step::Continue,
        Err(e) => Step::End(End::Upstream(e.to_string())),
    }
}

/// Writes a packet's bytes to the device.
async fn deliver<W: AsyncWrite + Unpin>(client: &mut W, bytes: Bytes) -> Step {
    match client.write_all(&bytes).await {
        Ok(()) => Step::Continue,
        Err(e) => Step::End(End::Client(e.to_string())),
    }
}

/// The topic of an MQTT 5 PUBLISH, resolving (and recording) a topic alias.
fn resolve_alias(
    aliases: &mut HashMap<u16, String>,
    topic: &Bytes,
    alias: Option<u16>,
) -> Result<String, String> {
    let topic = std::str::from_utf8(topic)
        .map_err(|_| "a topic that is not UTF-8".to_string())?
        .to_owned();
    match alias {
        None => Ok(topic),
        Some(0) => Err("topic alias 0 (protocol error)".into()),
        Some(a) if topic.is_empty() => aliases
            .get(&a)
            .cloned()
            .ok_or_else(|| format!("unknown topic alias {a}")),
        Some(a) => {
            if aliases.len() >= 64 && !aliases.contains_key(&a) {
                return Err("too many topic aliases".into());
            }
            aliases.insert(a, topic.clone());
            Ok(topic)
        }
    }
}
