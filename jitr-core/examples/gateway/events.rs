//! Registration events, published to the broker as AWS IoT publishes them: on
//! `$aws/events/certificates/registered/<caCertificateId>`, QoS 1, the JSON payload of
//! <https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html>.
//!
//! The gateway publishes an event before it answers the device's first CONNECT and
//! waits for the broker's PUBACK: a device that saw its CONNACK 5 has its event on the
//! broker. A subscriber with a persistent session (the activation handler) receives it
//! even if it was away, as long as the broker keeps its session.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use jitr_core::RegistrationEvent;
use rumqttc::mqttbytes::{v4, QoS};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::mqtt::{encode, FrameReader, Packet, Version};
use crate::Error;

/// How long the broker has to acknowledge an event.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// Publishes `event` with QoS 1 on its topic and waits for the broker's PUBACK.
pub(crate) async fn publish(broker: &str, event: &RegistrationEvent) -> Result<(), Error> {
    tokio::time::timeout(PUBLISH_TIMEOUT, publish_inner(broker, event))
        .await
        .map_err(|_| format!("the broker did not acknowledge within {PUBLISH_TIMEOUT:?}"))?
}

async fn publish_inner(broker: &str, event: &RegistrationEvent) -> Result<(), Error> {
    static N: AtomicU64 = AtomicU64::new(0);
    let client_id = format!(
        "jitr-gateway-events-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut tcp = TcpStream::connect(broker).await?;
    tcp.set_nodelay(true)?;
    let mut connect = v4::Connect::new(client_id);
    connect.keep_alive = 30;
    let mut publish = v4::Publish::new(event.topic(), QoS::AtLeastOnce, event.to_json());
    publish.pkid = 1;
    let mut out = Vec::new();
    for p in [v4::Packet::Connect(connect), v4::Packet::Publish(publish)] {
        out.extend_from_slice(&encode(&Packet::V4(p))?);
    }
    tcp.write_all(&out).await?;
    let mut reader = FrameReader::default();
    loop {
        match reader.read(&mut tcp, Version::V4).await {
            Ok(f) => match f.packet {
                Packet::V4(v4::Packet::ConnAck(c)) if c.code != v4::ConnectReturnCode::Success => {
                    return Err(format!("the broker refused the connection: {:?}", c.code).into())
                }
                Packet::V4(v4::Packet::PubAck(a)) if a.pkid == 1 => break,
                _ => {}
            },
            Err(e) => return Err(e.to_string().into()),
        }
    }
    let bye: Bytes = encode(&Packet::V4(v4::Packet::Disconnect))?;
    let _ = tcp.write_all(&bye).await;
    Ok(())
}
