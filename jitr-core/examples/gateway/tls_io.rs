//! A device's TLS connection over rustls' unbuffered API, so that an idle connection
//! holds no buffer.
//!
//! rustls' buffered `ServerConnection` (what tokio-rustls drives) keeps a 4 KiB read
//! buffer for the connection's whole life; most of a fleet's connections sit idle, so
//! that buffer was the largest part of the gateway's memory per device. Here the bytes
//! live in three `Vec`s this module owns — received TLS bytes not yet processed (a partial
//! record), decrypted bytes not yet read, sealed bytes not yet written — and each is
//! given back as soon as it is empty. The record layer, the handshake and every check
//! stay rustls'; this module only moves bytes between the socket and rustls.
//!
//! The ClientHello is read first with rustls' `Acceptor` (its SNI picks the account's
//! configuration); the bytes read for it are then replayed into the unbuffered
//! connection, which runs the whole handshake.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};

use rustls::pki_types::CertificateDer;
use rustls::server::{Accepted, Acceptor, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, UnbufferedStatus};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How much is read from the socket at once.
const READ_SIZE: usize = 8 * 1024;

/// The most received bytes held unprocessed. rustls refuses a record over its 16 KiB
/// limit and a handshake message over 64 KiB before they are whole; this bound only
/// makes sure a bug there cannot turn into unbounded memory.
const MAX_INCOMING: usize = 96 * 1024;

/// The most plaintext sealed by one `poll_write` (rustls cuts it into records).
const MAX_WRITE: usize = 64 * 1024;

/// Why a handshake did not complete, before it is classified for the log.
#[derive(Debug)]
pub(crate) enum Failure {
    /// rustls refused (the peer was sent its alert).
    Tls(rustls::Error),
    /// The client closed the connection before the handshake finished.
    Closed,
    /// The socket failed.
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Reads until a whole ClientHello is there. Returns it with every byte read so far,
/// which [`handshake`] replays into the connection. A bad ClientHello is answered with
/// rustls' alert.
pub(crate) async fn read_client_hello(tcp: &mut TcpStream) -> Result<(Accepted, Vec<u8>), Failure> {
    let mut acceptor = Acceptor::default();
    let mut seen = Vec::new();
    loop {
        let start = seen.len();
        if read_some(tcp, &mut seen).await? == 0 {
            return Err(Failure::Closed);
        }
        let mut fresh = &seen[start..];
        while !fresh.is_empty() {
            match acceptor.read_tls(&mut fresh) {
                Ok(0) => break, // takes no more: accept() below says why
                Ok(_) => {}
                // Over rustls' handshake message limit.
                Err(e) => return Err(Failure::Tls(rustls::Error::General(e.to_string()))),
            }
        }
        match acceptor.accept() {
            Ok(Some(accepted)) => return Ok((accepted, seen)),
            Ok(None) => {}
            Err((e, mut alert)) => {
                let mut out = Vec::new();
                let _ = alert.write_all(&mut out);
                let _ = tcp.write_all(&out).await;
                return Err(Failure::Tls(e));
            }
        }
    }
}

/// Appends what the socket has (at least one byte, or 0 at its end) to `buf`.
async fn read_some(tcp: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        tcp.readable().await?;
        buf.reserve(READ_SIZE);
        match tcp.try_read_buf(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return r,
        }
    }
}

/// Runs the handshake with `config`, starting from the bytes `read_client_hello` read.
pub(crate) async fn handshake(
    tcp: TcpStream,
    hello: Vec<u8>,
    config: Arc<rustls::ServerConfig>,
) -> Result<TlsStream, Failure> {
    let conn = UnbufferedServerConnection::new(config).map_err(Failure::Tls)?;
    let mut s = TlsStream {
        tcp,
        conn,
        incoming: hello,
        plain: Vec::new(),
        plain_at: 0,
        outgoing: Vec::new(),
        out_at: 0,
        eof: false,
        close_sent: false,
        reader: None,
    };
    loop {
        let phase = s.advance(Then::Nothing);
        // What rustls wrote (its flight, or the alert of a refusal) goes out first.
        poll_fn(|cx| s.poll_drain(cx)).await?;
        match phase.map_err(Failure::Tls)? {
            Phase::Traffic => break,
            Phase::Closed => return Err(Failure::Closed),
            Phase::Handshaking if s.eof => return Err(Failure::Closed),
            Phase::Handshaking => {
                if s.incoming.len() >= MAX_INCOMING {
                    return Err(Failure::Tls(rustls::Error::General(
                        "too many unprocessed handshake bytes".into(),
                    )));
                }
                if read_some(&mut s.tcp, &mut s.incoming).await? == 0 {
                    return Err(Failure::Closed);
                }
            }
        }
    }
    s.release();
    Ok(s)
}

/// Where the connection stands after rustls has processed what it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The handshake needs more bytes.
    Handshaking,
    /// Application data flows.
    Traffic,
    /// Both sides sent close_notify.
    Closed,
}

/// What to do once application data may be written.
enum Then<'a> {
    Nothing,
    Seal(&'a [u8]),
    CloseNotify,
}

/// A server-side TLS connection on a TCP socket.
pub(crate) struct TlsStream {
    tcp: TcpStream,
    conn: UnbufferedServerConnection,
    /// Received bytes rustls has not consumed yet: a partial record, between wakeups.
    incoming: Vec<u8>,
    /// Decrypted bytes not yet read, from `plain_at` on.
    plain: Vec<u8>,
    plain_at: usize,
    /// Sealed bytes not yet written, from `out_at` on.
    outgoing: Vec<u8>,
    out_at: usize,
    /// No more bytes will come: close_notify, or the end of the TCP stream.
    eof: bool,
    close_sent: bool,
    /// The reader waiting for bytes, woken when a write's processing decrypted some.
    reader: Option<Waker>,
}

impl TlsStream {
    /// The certificates the client presented.
    pub(crate) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.conn.peer_certificates()
    }

    /// Its two halves, for a reader and a writer that wait independently.
    pub(crate) fn split(self) -> (TlsReader, TlsWriter) {
        let shared = Arc::new(Mutex::new(self));
        (TlsReader(shared.clone()), TlsWriter(shared))
    }

    /// Runs rustls over the received bytes: application data goes to `plain`, what
    /// rustls has to send to `outgoing`; `then` runs when application data may be sent.
    /// On an error, rustls' alert is sealed into `outgoing` for the caller to send.
    fn advance(&mut self, then: Then<'_>) -> Result<Phase, rustls::Error> {
        let Self {
            conn,
            incoming,
            plain,
            outgoing,
            eof,
            ..
        } = self;
        let mut consumed = 0;
        let mut then = then;
        let result = loop {
            let UnbufferedStatus { mut discard, state } =
                conn.process_tls_records(&mut incoming[consumed..]);
            let state = match state {
                Ok(s) => s,
                Err(e) => {
                    consumed += discard;
                    break Err(e);
                }
            };
            match state {
                ConnectionState::ReadTraffic(mut records) => {
                    let mut failed = None;
                    while let Some(record) = records.next_record() {
                        match record {
                            Ok(r) => {
                                discard += r.discard;
                                plain.extend_from_slice(r.payload);
                            }
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    if let Some(e) = failed {
                        consumed += discard;
                        break Err(e);
                    }
                }
                ConnectionState::EncodeTlsData(mut data) => {
                    if let Err(e) = encode(outgoing, |buf| data.encode(buf)) {
                        consumed += discard;
                        break Err(e);
                    }
                }
                ConnectionState::TransmitTlsData(data) => data.done(),
                ConnectionState::PeerClosed => *eof = true,
                ConnectionState::Closed => {
                    *eof = true;
                    consumed += discard;
                    break Ok(Phase::Closed);
                }
                ConnectionState::BlockedHandshake => {
                    consumed += discard;
                    break Ok(Phase::Handshaking);
                }
                ConnectionState::WriteTraffic(mut traffic) => {
                    // rustls puts what sealing made it queue (a key update, when the
                    // keys are spent) ahead of the sealed data.
                    match std::mem::replace(&mut then, Then::Nothing) {
                        Then::Nothing => {
                            consumed += discard;
                            break Ok(Phase::Traffic);
                        }
                        Then::Seal(data) => {
                            if let Err(e) = seal(outgoing, |buf| traffic.encrypt(data, buf)) {
                                consumed += discard;
                                break Err(e);
                            }
                        }
                        Then::CloseNotify => {
                            if let Err(e) = seal(outgoing, |buf| traffic.queue_close_notify(buf)) {
                                consumed += discard;
                                break Err(e);
                            }
                        }
                    }
                }
                // Early data is not enabled (the configuration's max_early_data_size is 0),
                // and a state added by a later rustls is not understood.
                _ => {
                    consumed += discard;
                    break Err(rustls::Error::General(
                        "unexpected TLS connection state".into(),
                    ));
                }
            }
            consumed += discard;
        };
        incoming.drain(..consumed.min(incoming.len()));
        self.release();
        match result {
            Ok(p) => Ok(p),
            Err(e) => Err(fail(
                &mut self.conn,
                &mut self.incoming,
                &mut self.outgoing,
                e,
            )),
        }
    }

    /// Gives back every buffer that is empty: what makes an idle connection cheap.
    fn release(&mut self) {
        if self.incoming.is_empty() {
            self.incoming = Vec::new();
        }
        if self.plain_at >= self.plain.len() {
            self.plain = Vec::new();
            self.plain_at = 0;
        }
        if self.out_at >= self.outgoing.len() {
            self.outgoing = Vec::new();
            self.out_at = 0;
        }
    }

    /// Writes `outgoing` to the socket.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_at < self.outgoing.len() {
            let n = ready!(Pin::new(&mut self.tcp).poll_write(cx, &self.outgoing[self.out_at..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_at += n;
        }
        self.release();
        Poll::Ready(Ok(()))
    }

    /// Writes what it can of `outgoing` without waiting (the reader's side: it must not
    /// take the writer's wakeup). What is left goes with the next write or flush.
    fn drain_now(&mut self) -> io::Result<()> {
        while self.out_at < self.outgoing.len() {
            match self.tcp.try_write(&self.outgoing[self.out_at..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_at += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        self.release();
        Ok(())
    }

    /// Until decrypted bytes are there or the stream has ended. Holds no buffer while it
    /// waits for the socket.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.plain_at < self.plain.len() || self.eof {
                return Poll::Ready(Ok(()));
            }
            if !self.incoming.is_empty() {
                let phase = self.advance(Then::Nothing);
                let drained = self.drain_now();
                match phase {
                    Err(e) => {
                        return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)))
                    }
                    Ok(Phase::Closed) => self.eof = true,
                    Ok(_) => {}
                }
                drained?;
                if self.plain_at < self.plain.len() || self.eof {
                    continue;
                }
            }
            if self.incoming.len() >= MAX_INCOMING {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "too many unprocessed TLS bytes",
                )));
            }
            if self.tcp.poll_read_ready(cx)?.is_pending() {
                self.reader = Some(cx.waker().clone());
                return Poll::Pending;
            }
            self.incoming.reserve(READ_SIZE);
            match self.tcp.try_read_buf(&mut self.incoming) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            self.release();
        }
    }

    fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(self.poll_fill(cx))?;
        let available = &self.plain[self.plain_at..];
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.plain_at += n;
        self.release();
        Poll::Ready(Ok(()))
    }

    fn poll_write_from(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.close_sent {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let data = &data[..data.len().min(MAX_WRITE)];
        let had_plain = self.plain.len() - self.plain_at;
        let phase = self.advance(Then::Seal(data));
        if self.plain.len() - self.plain_at > had_plain {
            if let Some(w) = self.reader.take() {
                w.wake();
            }
        }
        match phase {
            Ok(Phase::Traffic) => {}
            Ok(_) => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            Err(e) => {
                let _ = self.drain_now();
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
            }
        }
        // The data is sealed and counted as written; what the socket does not take now
        // goes before the next write, or with the flush.
        let _ = self.poll_drain(cx)?;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.close_sent {
            ready!(self.poll_drain(cx))?;
            self.close_sent = true;
            if let Err(e) = self.advance(Then::CloseNotify) {
                let _ = self.drain_now();
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
            }
        }
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// After rustls failed, seals the alert it queued into `outgoing`, and returns the error.
/// rustls is given the same unconsumed bytes as before (it may still refer to some of
/// them); it answers with the queued alert, then the error again.
fn fail(
    conn: &mut UnbufferedServerConnection,
    incoming: &mut [u8],
    outgoing: &mut Vec<u8>,
    e: rustls::Error,
) -> rustls::Error {
    let mut consumed = 0;
    // Each round either encodes a queued record or ends; a handful is plenty.
    for _ in 0..8 {
        let status = conn.process_tls_records(&mut incoming[consumed..]);
        let discard = status.discard;
        match status.state {
            Ok(ConnectionState::EncodeTlsData(mut data)) => {
                if encode(outgoing, |buf| data.encode(buf)).is_err() {
                    break;
                }
            }
            Ok(ConnectionState::TransmitTlsData(data)) => data.done(),
            _ => break,
        }
        consumed = (consumed + discard).min(incoming.len());
    }
    e
}

/// Appends a handshake record, growing `out` to the size rustls asks for.
fn encode(
    out: &mut Vec<u8>,
    mut f: impl FnMut(&mut [u8]) -> Result<usize, EncodeError>,
) -> Result<(), rustls::Error> {
    let at = out.len();
    let need = match f(&mut []) {
        Ok(_) => return Ok(()),
        Err(EncodeError::InsufficientSize(s)) => s.required_size,
        Err(e) => return Err(rustls::Error::General(e.to_string())),
    };
    out.resize(at + need, 0);
    match f(&mut out[at..]) {
        Ok(n) => {
            out.truncate(at + n);
            Ok(())
        }
        Err(e) => {
            out.truncate(at);
            Err(rustls::Error::General(e.to_string()))
        }
    }
}

/// Appends sealed application data (or close_notify), growing `out` as rustls asks.
fn seal(
    out: &mut Vec<u8>,
    mut f: impl FnMut(&mut [u8]) -> Result<usize, EncryptError>,
) -> Result<(), rustls::Error> {
    let at = out.len();
    // Room for the data in 16 KiB records plus their headers and tags; rustls says
    // how much it needs if that is not enough.
    let mut room = 64;
    for _ in 0..2 {
        out.resize(at + room, 0);
        match f(&mut out[at..]) {
            Ok(n) => {
                out.truncate(at + n);
                return Ok(());
            }
            Err(EncryptError::InsufficientSize(s)) => room = s.required_size,
            Err(e) => {
                out.truncate(at);
                return Err(rustls::Error::General(e.to_string()));
            }
        }
    }
    out.truncate(at);
    Err(rustls::Error::General(
        "cannot size the sealed record".into(),
    ))
}

fn lock(m: &Mutex<TlsStream>) -> MutexGuard<'_, TlsStream> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reading half of a [`TlsStream`].
pub(crate) struct TlsReader(Arc<Mutex<TlsStream>>);

/// The writing half of a [`TlsStream`].
pub(crate) struct TlsWriter(Arc<Mutex<TlsStream>>);

impl TlsReader {
    /// Until decrypted bytes can be read (or the stream ended): a reader that waits with
    /// this before taking a buffer holds none while the device is idle.
    pub(crate) async fn ready(&mut self) -> io::Result<()> {
        poll_fn(|cx| lock(&self.0).poll_fill(cx)).await
    }
}

impl AsyncRead for TlsReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        lock(&self.0).poll_read_into(cx, buf)
    }
}

impl AsyncWrite for TlsWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.0).poll_write_from(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.0).poll_flush_out(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.0).poll_shutdown_out(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A server configuration (no client authentication: this module moves bytes, the
    /// verifier is tested with the gateway) and a client that trusts it.
    fn configs(
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
        configs_with(rustls::DEFAULT_VERSIONS, versions)
    }

    /// The same, with the server limited to `server_versions`.
    fn configs_with(
        server_versions: &[&'static rustls::SupportedProtocolVersion],
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (der, key) = identity();
        let server = rustls::ServerConfig::builder_with_protocol_versions(server_versions)
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        let client = rustls::ClientConfig::builder_with_protocol_versions(versions)
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }

    /// A self-signed certificate for `localhost` and its key.
    fn identity() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let der = CertificateDer::from(ck.cert.der().to_vec());
        let key = PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
        (der, key)
    }

    /// The client's side of a handshake over `io`.
    async fn connect<IO: AsyncRead + AsyncWrite + Unpin>(
        client: Arc<rustls::ClientConfig>,
        io: IO,
    ) -> io::Result<tokio_rustls::client::TlsStream<IO>> {
        tokio_rustls::TlsConnector::from(client)
            .connect(ServerName::try_from("localhost").unwrap(), io)
            .await
    }

    /// A client connected to a server: the client's stream and the server's.
    async fn pair(
        server: Arc<rustls::ServerConfig>,
        client: Arc<rustls::ClientConfig>,
    ) -> (tokio_rustls::client::TlsStream<TcpStream>, TlsStream) {
        let (addr, task) = serve(server).await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let c = connect(client, tcp).await.unwrap();
        (c, task.await.unwrap().unwrap())
    }

    /// A socket that takes at most one byte per write: every TLS record reaches the
    /// server in pieces.
    struct Drip(TcpStream);

    impl AsyncRead for Drip {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Drip {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = data.len().min(1);
            Pin::new(&mut self.0).poll_write(cx, &data[..n])
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_shutdown(cx)
        }
    }

    /// A listener and a server task that hands back the accepted stream.
    async fn serve(
        config: Arc<rustls::ServerConfig>,
    ) -> (
        std::net::SocketAddr,
        tokio::task::JoinHandle<Result<TlsStream, Failure>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let (accepted, seen) = read_client_hello(&mut tcp).await?;
            assert_eq!(accepted.client_hello().server_name(), Some("localhost"));
            drop(accepted);
            handshake(tcp, seen, config).await
        });
        (addr, task)
    }

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Writes `data` on `w` and reads it whole from `r`.
    async fn cross<W: AsyncWrite + Unpin, R: AsyncRead + Unpin>(w: &mut W, r: &mut R, data: &[u8]) {
        w.write_all(data).await.unwrap();
        w.flush().await.unwrap();
        let mut got = vec![0; data.len()];
        r.read_exact(&mut got).await.unwrap();
        assert_eq!(got, data);
    }

    fn holds_no_buffer(s: &TlsStream) -> bool {
        s.incoming.capacity() == 0 && s.plain.capacity() == 0 && s.outgoing.capacity() == 0
    }

    #[tokio::test]
    async fn large_payloads_cross_both_ways_and_an_idle_stream_holds_no_buffer() {
        let (server, client) = configs(rustls::DEFAULT_VERSIONS);
        let (mut c, s) = pair(server, client).await;
        assert!(holds_no_buffer(&s));
        let (mut rd, mut wr) = s.split();
        // 200 KB: many records, more than one poll_write of the server.
        cross(&mut c, &mut rd, &pattern(200_000, 7)).await;
        cross(&mut wr, &mut c, &pattern(150_000, 3)).await;
        assert!(
            holds_no_buffer(&lock(&rd.0)),
            "an idle stream gives its buffers back"
        );
        // close_notify both ways: each side reads a clean end.
        wr.shutdown().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(c.read_to_end(&mut rest).await.unwrap(), 0);
        c.shutdown().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(rd.read_to_end(&mut rest).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn records_arriving_a_byte_at_a_time_are_joined() {
        let (server, client) = configs(rustls::DEFAULT_VERSIONS);
        let (addr, task) = serve(server).await;
        let tcp = Drip(TcpStream::connect(addr).await.unwrap());
        let mut c = connect(client, tcp).await.unwrap();
        let s = task.await.unwrap().unwrap();
        let (mut rd, mut wr) = s.split();
        let up = pattern(3_000, 1);
        let writing = tokio::spawn(async move {
            c.write_all(&up).await.unwrap();
            c.flush().await.unwrap();
            c
        });
        rd.ready().await.unwrap();
        let mut got = vec![0; 3_000];
        rd.read_exact(&mut got).await.unwrap();
        assert_eq!(got, pattern(3_000, 1));
        let mut c = writing.await.unwrap();
        wr.write_all(b"done").await.unwrap();
        wr.flush().await.unwrap();
        let mut four = [0; 4];
        c.read_exact(&mut four).await.unwrap();
        assert_eq!(&four, b"done");
    }

    #[tokio::test]
    async fn a_key_update_from_the_client_is_answered_and_traffic_goes_on() {
        let (server, client) = configs(&[&rustls::version::TLS13]);
        let (mut c, s) = pair(server, client).await;
        let (mut rd, mut wr) = s.split();
        for round in 0..3u8 {
            // The client updates its keys and asks the server to update its own.
            c.get_mut().1.refresh_traffic_keys().unwrap();
            cross(&mut c, &mut rd, &pattern(5_000, round)).await;
            // The server's answer: its own key update, then data under the new keys.
            cross(&mut wr, &mut c, &pattern(5_000, round + 100)).await;
        }
    }

    #[tokio::test]
    async fn keys_refreshed_by_sealing_go_out_before_the_data_sealed_under_them() {
        // A suite whose keys are spent after 16 records: sealing the 16th makes rustls
        // send a key update, and the data sealed with the new keys must follow it.
        let (_, client) = configs(&[&rustls::version::TLS13]);
        let ring = rustls::crypto::ring::default_provider();
        let Some(rustls::SupportedCipherSuite::Tls13(aes)) = ring
            .cipher_suites
            .iter()
            .copied()
            .find(|s| s.suite() == rustls::CipherSuite::TLS13_AES_128_GCM_SHA256)
        else {
            panic!("ring has TLS13_AES_128_GCM_SHA256");
        };
        let short: &'static rustls::Tls13CipherSuite =
            Box::leak(Box::new(rustls::Tls13CipherSuite {
                common: rustls::CipherSuiteCommon {
                    suite: aes.common.suite,
                    hash_provider: aes.common.hash_provider,
                    confidentiality_limit: 16,
                },
                hkdf_provider: aes.hkdf_provider,
                aead_alg: aes.aead_alg,
                quic: aes.quic,
            }));
        let provider = rustls::crypto::CryptoProvider {
            cipher_suites: vec![rustls::SupportedCipherSuite::Tls13(short)],
            ..ring
        };
        let (der, key) = identity();
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).unwrap();
        let client = Arc::new(
            rustls::ClientConfig::builder_with_provider(client.crypto_provider().clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        );
        let (mut c, s) = pair(Arc::new(server), client).await;
        let (_rd, mut wr) = s.split();
        // 100 writes, a record each: several key updates on the way.
        for i in 0..100u8 {
            wr.write_all(&[i; 10]).await.unwrap();
            wr.flush().await.unwrap();
        }
        let mut got = vec![0; 1_000];
        c.read_exact(&mut got).await.unwrap();
        let want: Vec<u8> = (0..100u8).flat_map(|i| [i; 10]).collect();
        assert_eq!(got, want);
    }

    #[tokio::test]
    async fn a_refused_handshake_sends_rustls_alert() {
        // The server speaks TLS 1.3 only; a TLS 1.2 client gets protocol_version.
        let (server, client) = configs_with(&[&rustls::version::TLS13], &[&rustls::version::TLS12]);
        let (addr, task) = serve(server).await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = connect(client, tcp).await.unwrap_err();
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>());
        assert!(
            matches!(
                inner,
                Some(rustls::Error::AlertReceived(
                    rustls::AlertDescription::ProtocolVersion
                ))
            ),
            "{err:?}"
        );
        assert!(matches!(task.await.unwrap(), Err(Failure::Tls(_))));
    }

    #[tokio::test]
    async fn a_client_that_closes_mid_handshake_is_closed_not_an_error() {
        let (server, _) = configs(rustls::DEFAULT_VERSIONS);
        let (addr, task) = serve(server).await;
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        // The first bytes of a TLS handshake record, then the end.
        tcp.write_all(&[0x16, 0x03, 0x01, 0x00, 0x40, 0x01])
            .await
            .unwrap();
        tcp.shutdown().await.unwrap();
        assert!(matches!(task.await.unwrap(), Err(Failure::Closed)));
    }
}
