//! MQTT framing over rumqttc's codecs (`rumqttc::mqttbytes::v4` for MQTT 3.1.1,
//! `rumqttc::v5::mqttbytes::v5` for MQTT 5): read one whole packet from a stream with a
//! size bound, keep its bytes (so what the gateway does not change is forwarded as the
//! peer sent it), and encode the packets the gateway writes itself.

use std::future::Future;
use std::io;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::{self as m4, v4};
use rumqttc::v5::mqttbytes::{self as m5, v5};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest packet the gateway reads: AWS IoT's 128 KB message size plus headroom for
/// the topic and properties (<https://docs.aws.amazon.com/general/latest/gr/iot-core.html>).
pub(crate) const MAX_PACKET: usize = 128 * 1024 + 4 * 1024;

/// The protocol a connection speaks, from its CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// MQTT 3.1.1 (protocol level 4).
    V4,
    /// MQTT 5 (protocol level 5).
    V5,
}

impl Version {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::V4 => "3.1.1",
            Self::V5 => "5",
        }
    }
}

/// A decoded packet of either version.
// MQTT 5's packets are larger; a packet lives only while it is handled.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(crate) enum Packet {
    V4(v4::Packet),
    V5(v5::Packet),
}

/// One packet as read: its bytes on the wire and what they decode to.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub(crate) raw: Bytes,
    pub(crate) packet: Packet,
}

/// Why no packet could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the stream between packets.
    Closed,
    /// The stream failed (or closed inside a packet).
    Io(io::Error),
    /// The bytes are not an MQTT packet of this version.
    Malformed(String),
    /// The packet announces more than [`MAX_PACKET`] bytes.
    TooLarge(usize),
    /// The first packet is not a CONNECT of MQTT 3.1.1 or 5.
    UnsupportedProtocol(u8),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Closed => write!(f, "the peer closed the connection"),
            Self::Io(e) => write!(f, "{e}"),
            Self::Malformed(why) => write!(f, "malformed MQTT packet: {why}"),
            Self::TooLarge(n) => write!(f, "a packet of {n} bytes (at most {MAX_PACKET})"),
            Self::UnsupportedProtocol(level) => {
                write!(f, "MQTT protocol level {level} (3.1.1 and 5 are served)")
            }
        }
    }
}

/// Reads whole packets from a byte stream into one buffer.
#[derive(Debug, Default)]
pub(crate) struct FrameReader {
    buf: BytesMut,
}

impl FrameReader {
    /// The next packet of `version`.
    pub(crate) async fn read<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        version: Version,
    ) -> Result<Frame, ReadError> {
        loop {
            if let Some(raw) = self.take_raw()? {
                let packet = decode(&raw, version)?;
                return Ok(Frame { raw, packet });
            }
            self.fill(r).await?;
        }
    }

    /// The first packet, which must be a CONNECT: its version is the connection's.
    pub(crate) async fn read_connect<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
    ) -> Result<(Version, Frame), ReadError> {
        loop {
            if let Some(raw) = self.take_raw()? {
                let version = connect_version(&raw)?;
                let packet = decode(&raw, version)?;
                return Ok((version, Frame { raw, packet }));
            }
            self.fill(r).await?;
        }
    }

    /// Whether a whole packet (or a framing error) is buffered: `read_now` has it
    /// without reading.
    pub(crate) fn has_packet(&self) -> bool {
        !matches!(frame_len(&self.buf), Ok(None))
    }

    /// The next packet of `version` if it is whole once what the stream has now is read;
    /// `None` when more bytes are needed. Never waits for the stream, and takes a buffer
    /// only for bytes that are there (the caller waits for readiness first, holding
    /// none).
    pub(crate) async fn read_now<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        version: Version,
    ) -> Result<Option<Frame>, ReadError> {
        if !self.has_packet() {
            // One read, polled once: what is there now, or nothing.
            let filled = {
                let mut fill = std::pin::pin!(self.fill(r));
                std::future::poll_fn(|cx| Poll::Ready(fill.as_mut().poll(cx))).await
            };
            match filled {
                Poll::Ready(done) => done?,
                Poll::Pending => {
                    self.release();
                    return Ok(None);
                }
            }
        }
        match self.take_raw()? {
            Some(raw) => {
                let packet = decode(&raw, version)?;
                Ok(Some(Frame { raw, packet }))
            }
            None => Ok(None),
        }
    }

    /// The first whole packet's bytes, taken from the buffer, if they are all there.
    fn take_raw(&mut self) -> Result<Option<Bytes>, ReadError> {
        let Some(len) = frame_len(&self.buf)? else {
            return Ok(None);
        };
        let raw = self.buf.split_to(len).freeze();
        self.release();
        Ok(Some(raw))
    }

    /// An idle connection holds no buffer: when nothing is left after a packet, the
    /// buffer is given up (the packet's bytes keep the allocation only while they live).
    fn release(&mut self) {
        if self.buf.is_empty() {
            self.buf = BytesMut::new();
        }
    }

    async fn fill<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<(), ReadError> {
        // Small first: most packets are; a large one grows the buffer as it arrives.
        self.buf
            .reserve(if self.buf.is_empty() { 512 } else { 4096 });
        match r.read_buf(&mut self.buf).await {
            Ok(0) if self.buf.is_empty() => Err(ReadError::Closed),
            Ok(0) => Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(_) => Ok(()),
            Err(e) => Err(ReadError::Io(e)),
        }
    }
}

/// The length of the first whole packet in `buf`, if it is all there. The fixed header
/// is read by hand only to bound the read: a remaining length over [`MAX_PACKET`] is
/// refused before its bytes arrive.
fn frame_len(buf: &[u8]) -> Result<Option<usize>, ReadError> {
    match m4::check(buf.iter(), MAX_PACKET) {
        Ok(header) => Ok(Some(header.frame_length())),
        Err(m4::Error::InsufficientBytes(_)) => Ok(None),
        Err(m4::Error::PayloadSizeLimitExceeded(n)) => Err(ReadError::TooLarge(n)),
        Err(e) => Err(ReadError::Malformed(e.to_string())),
    }
}

/// The protocol level of a CONNECT frame: byte 1 is the packet type, then the remaining
/// length (1 to 4 bytes), then the protocol name ("MQTT", or "MQIsdp" for 3.1) and level.
fn connect_version(raw: &[u8]) -> Result<Version, ReadError> {
    if raw.first().map(|b| b >> 4) != Some(1) {
        return Err(ReadError::Malformed(
            "the first packet is not a CONNECT".into(),
        ));
    }
    let len_bytes = raw[1..]
        .iter()
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map(|i| i + 1)
        .ok_or_else(|| ReadError::Malformed("bad remaining length".into()))?;
    let header = &raw[1 + len_bytes..];
    let name_len = match header {
        [hi, lo, ..] => usize::from(*hi) << 8 | usize::from(*lo),
        _ => {
            return Err(ReadError::Malformed(
                "CONNECT without a protocol name".into(),
            ))
        }
    };
    match header.get(2 + name_len) {
        Some(4) if &header[2..2 + name_len] == b"MQTT" => Ok(Version::V4),
        Some(5) if &header[2..2 + name_len] == b"MQTT" => Ok(Version::V5),
        Some(level) => Err(ReadError::UnsupportedProtocol(*level)),
        None => Err(ReadError::Malformed(
            "CONNECT without a protocol level".into(),
        )),
    }
}

/// The fixed header's rules the codecs leave unchecked (MQTT 3.1.1 §2.2.2 and §3.12-14,
/// MQTT 5 §2.1.3): the flags are reserved (0, or 0b0010 for PUBREL, SUBSCRIBE and
/// UNSUBSCRIBE) except on PUBLISH, and PINGREQ and PINGRESP (and a 3.1.1 DISCONNECT)
/// carry nothing.
fn check_fixed_header(raw: &[u8], version: Version) -> Result<(), ReadError> {
    let (kind, flags) = (raw[0] >> 4, raw[0] & 0x0f);
    let empty = raw.get(1) == Some(&0);
    let bad = |why: &str| Err(ReadError::Malformed(why.to_owned()));
    match kind {
        3 if flags & 0b0110 == 0b0110 => bad("PUBLISH with QoS 3"),
        3 => Ok(()),
        6 | 8 | 10 if flags != 0b0010 => bad("reserved flags must be 0010"),
        6 | 8 | 10 => Ok(()),
        _ if flags != 0 => bad("reserved flags must be 0"),
        12 | 13 if !empty => bad("PINGREQ and PINGRESP have no payload"),
        14 if version == Version::V4 && !empty => bad("a 3.1.1 DISCONNECT has no payload"),
        _ => Ok(()),
    }
}

fn decode(raw: &Bytes, version: Version) -> Result<Packet, ReadError> {
    check_fixed_header(raw, version)?;
    let mut frame = BytesMut::from(&raw[..]);
    match version {
        Version::V4 => v4::Packet::read(&mut frame, MAX_PACKET)
            .map(Packet::V4)
            .map_err(|e| ReadError::Malformed(e.to_string())),
        Version::V5 => {
            // MQTT 5 §3.14.2.1: a DISCONNECT with no reason code (remaining length 0)
            // means a normal disconnection; the codec wants a payload there.
            if raw[..] == [0xE0, 0x00] {
                return Ok(Packet::V5(v5::Packet::Disconnect(v5::Disconnect::new(
                    v5::DisconnectReasonCode::NormalDisconnection,
                ))));
            }
            v5::Packet::read(&mut frame, Some(MAX_PACKET as u32))
                .map(Packet::V5)
                .map_err(|e| ReadError::Malformed(e.to_string()))
        }
    }
}

/// Encodes a packet of either version.
pub(crate) fn encode(p: &Packet) -> Result<Bytes, String> {
    let mut buf = BytesMut::new();
    match p {
        Packet::V4(p) => p
            .write(&mut buf, MAX_PACKET)
            .map_err(|e: m4::Error| e.to_string())?,
        Packet::V5(p) => p
            .write(&mut buf, Some(MAX_PACKET as u32))
            .map_err(|e: m5::Error| e.to_string())?,
    };
    Ok(buf.freeze())
}

/// The CONNACK codes the gateway sends of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 3.1.1: 5; MQTT 5: 0x87.
    NotAuthorized,
    /// 3.1.1: 3; MQTT 5: 0x88 (the upstream broker cannot be reached).
    ServerUnavailable,
}

/// A CONNACK refusing the connection, in the connection's version.
pub(crate) fn connack_refusal(version: Version, why: Refusal) -> Packet {
    match version {
        Version::V4 => Packet::V4(v4::Packet::ConnAck(v4::ConnAck::new(
            match why {
                Refusal::NotAuthorized => v4::ConnectReturnCode::NotAuthorized,
                Refusal::ServerUnavailable => v4::ConnectReturnCode::ServiceUnavailable,
            },
            false,
        ))),
        Version::V5 => Packet::V5(v5::Packet::ConnAck(v5::ConnAck {
            session_present: false,
            code: match why {
                Refusal::NotAuthorized => v5::ConnectReturnCode::NotAuthorized,
                Refusal::ServerUnavailable => v5::ConnectReturnCode::ServerUnavailable,
            },
            properties: None,
        })),
    }
}

/// A CONNECT as `client_id` in `version` with a clean session (3.1.1) or a clean start
/// (MQTT 5), no will and no credentials.
pub(crate) fn clean_connect(version: Version, client_id: &str, keep_alive: u16) -> Packet {
    match version {
        Version::V4 => {
            let mut c = v4::Connect::new(client_id);
            c.keep_alive = keep_alive;
            c.clean_session = true;
            Packet::V4(v4::Packet::Connect(c))
        }
        Version::V5 => Packet::V5(v5::Packet::Connect(
            v5::Connect {
                keep_alive,
                client_id: client_id.to_owned(),
                clean_start: true,
                properties: None,
            },
            None,
            None,
        )),
    }
}

/// The numeric code of a CONNACK (3.1.1 return code or MQTT 5 reason code).
pub(crate) fn connack_code(p: &Packet) -> Option<u8> {
    match p {
        Packet::V4(v4::Packet::ConnAck(c)) => Some(c.code as u8),
        Packet::V5(v5::Packet::ConnAck(c)) => Some(v5_connack_code(c.code)),
        _ => None,
    }
}

fn v5_connack_code(c: v5::ConnectReturnCode) -> u8 {
    use v5::ConnectReturnCode as C;
    match c {
        C::Success => 0x00,
        C::UnspecifiedError => 0x80,
        C::MalformedPacket => 0x81,
        C::ProtocolError => 0x82,
        C::ImplementationSpecificError => 0x83,
        C::UnsupportedProtocolVersion | C::RefusedProtocolVersion => 0x84,
        C::ClientIdentifierNotValid | C::BadClientId => 0x85,
        C::BadUserNamePassword => 0x86,
        C::NotAuthorized => 0x87,
        C::ServerUnavailable | C::ServiceUnavailable => 0x88,
        C::ServerBusy => 0x89,
        C::Banned => 0x8A,
        C::BadAuthenticationMethod => 0x8C,
        C::TopicNameInvalid => 0x90,
        C::PacketTooLarge => 0x95,
        C::QuotaExceeded => 0x97,
        C::PayloadFormatInvalid => 0x99,
        C::RetainNotSupported => 0x9A,
        C::QoSNotSupported => 0x9B,
        C::UseAnotherServer => 0x9C,
        C::ServerMoved => 0x9D,
        C::ConnectionRateExceeded => 0x9F,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_split_packets_and_detects_the_version() {
        let mut wire = BytesMut::new();
        v4::Packet::Connect(v4::Connect::new("c1"))
            .write(&mut wire, MAX_PACKET)
            .unwrap();
        v4::Packet::PingReq.write(&mut wire, MAX_PACKET).unwrap();
        // Delivered one byte at a time.
        let (mut tx, mut rx) = tokio::io::duplex(1);
        let bytes = wire.to_vec();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for b in bytes {
                tx.write_all(&[b]).await.unwrap();
            }
        });
        let mut r = FrameReader::default();
        let (v, f) = r.read_connect(&mut rx).await.unwrap();
        assert_eq!(v, Version::V4);
        assert!(matches!(f.packet, Packet::V4(v4::Packet::Connect(c)) if c.client_id == "c1"));
        let f = r.read(&mut rx, v).await.unwrap();
        assert!(matches!(f.packet, Packet::V4(v4::Packet::PingReq)));
        assert!(matches!(r.read(&mut rx, v).await, Err(ReadError::Closed)));
    }

    #[tokio::test]
    async fn refuses_oversized_and_foreign_packets_before_reading_them() {
        // A PUBLISH announcing 200 MB: refused from its header alone.
        let mut r = FrameReader::default();
        let mut src: &[u8] = &[0x30, 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(
            r.read(&mut src, Version::V4).await,
            Err(ReadError::TooLarge(_))
        ));
        // MQTT 3.1 (MQIsdp, level 3).
        let mut r = FrameReader::default();
        let mut src: &[u8] = &[
            0x10, 0x0c, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 2, 0, 10,
        ];
        assert!(matches!(
            r.read_connect(&mut src).await,
            Err(ReadError::UnsupportedProtocol(3))
        ));
        // A PUBLISH first.
        let mut r = FrameReader::default();
        let mut src: &[u8] = &[0x30, 0x03, 0, 1, b'a'];
        assert!(matches!(
            r.read_connect(&mut src).await,
            Err(ReadError::Malformed(_))
        ));
        // A stream that ends inside a packet.
        let mut r = FrameReader::default();
        let mut src: &[u8] = &[0x30, 0x05, 0];
        assert!(matches!(
            r.read(&mut src, Version::V4).await,
            Err(ReadError::Io(_))
        ));
    }

    #[test]
    fn an_empty_v5_disconnect_is_a_normal_disconnection() {
        let raw = Bytes::from_static(&[0xE0, 0x00]);
        assert!(matches!(
            decode(&raw, Version::V5),
            Ok(Packet::V5(v5::Packet::Disconnect(d)))
                if d.reason_code == v5::DisconnectReasonCode::NormalDisconnection
        ));
    }
}
