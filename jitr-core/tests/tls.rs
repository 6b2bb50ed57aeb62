//! Real rustls handshakes (in memory and over loopback TCP) through `JitrClientVerifier`,
//! in both modes, for P-256, RSA-2048 and Ed25519 devices, with and without the CA in the
//! chain, with and without SNI.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use common::*;
use jitr_core::verifier::{JitrClientVerifier, JitrRefusal, Mode, VerifierBuilderError};
use jitr_core::*;
use jitr_testkit::{self as kit, Key};
use rcgen::{CertificateParams, KeyPair, SanType};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::{Accepted, Acceptor, ResolvesServerCert};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

const SNI: &str = "a1b2c3-ats.iot.us-east-1.amazonaws.com";

struct Server {
    roots: RootCertStore,
    resolver: Arc<dyn ResolvesServerCert>,
}

/// A server certificate for SNI and 127.0.0.1, and the roots a client trusts it with.
fn fixed_server() -> Server {
    let ca = Ca::new("Server CA");
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![SNI.into()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = p.signed_by(&key, &ca.issuer()).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(ca.der()).unwrap();
    let provider = rustls::crypto::ring::default_provider();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let certified =
        rustls::sign::CertifiedKey::from_der(vec![cert.der().clone()], key, &provider).unwrap();
    Server {
        roots,
        resolver: Arc::new(Fixed(Arc::new(certified))),
    }
}

/// Serves one certificate chain whatever the ClientHello says.
#[derive(Debug)]
struct Fixed(Arc<rustls::sign::CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

#[derive(Clone, Copy, Debug)]
enum KeyKind {
    P256,
    Rsa2048,
    Ed25519,
}

fn device_key(kind: KeyKind) -> Key {
    match kind {
        KeyKind::P256 => Key::random_p256(),
        KeyKind::Ed25519 => Key::random_ed25519(),
        KeyKind::Rsa2048 => Key::rsa2048(),
    }
    .unwrap()
}

fn device(ca: &Ca, kind: KeyKind, cn: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = device_key(kind);
    let mut p = kit::leaf_params(kit::cn(cn), None, kit::VALIDITY, kit::Eku::ClientAuth);
    p.serial_number = Some(rcgen::SerialNumber::from(cn.as_bytes().to_vec()));
    let cert = ca.0.issue(&p, &key).unwrap();
    (
        CertificateDer::from(cert.der),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der())),
    )
}

fn client(
    server: &Server,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    sni: bool,
) -> ClientConnection {
    let config = ClientConfig::builder()
        .with_root_certificates(server.roots.clone())
        .with_client_auth_cert(chain, key)
        .unwrap();
    let name = if sni {
        ServerName::try_from(SNI).unwrap()
    } else {
        ServerName::IpAddress("127.0.0.1".parse::<std::net::IpAddr>().unwrap().into())
    };
    ClientConnection::new(Arc::new(config), name).unwrap()
}

/// The server's side of an accepted ClientHello: its certificate, and the verifier
/// routed by the ClientHello's SNI.
fn serve(
    server: &Server,
    verifier: &JitrClientVerifier,
    accepted: Accepted,
) -> Result<ServerConnection, rustls::Error> {
    let sni = accepted.client_hello().server_name().map(str::to_owned);
    let config = ServerConfig::builder()
        .with_client_cert_verifier(verifier.for_server_name(sni.as_deref()))
        .with_cert_resolver(server.resolver.clone());
    accepted
        .into_connection(Arc::new(config))
        .map_err(|(e, _)| e)
}

/// Runs a handshake in memory; the server routes the verifier by the ClientHello's SNI.
fn handshake(
    server: &Server,
    verifier: &JitrClientVerifier,
    mut client: ClientConnection,
) -> Result<ServerConnection, rustls::Error> {
    let mut buf = Vec::new();
    let mut acceptor = Acceptor::default();
    let accepted = loop {
        buf.clear();
        client.write_tls(&mut buf).unwrap();
        acceptor.read_tls(&mut &buf[..]).unwrap();
        if let Some(a) = acceptor.accept().map_err(|(e, _)| e)? {
            break a;
        }
    };
    let mut server_conn = serve(server, verifier, accepted)?;
    for _ in 0..10 {
        buf.clear();
        server_conn.write_tls(&mut buf).unwrap();
        client.read_tls(&mut &buf[..]).unwrap();
        let _ = client.process_new_packets();
        buf.clear();
        client.write_tls(&mut buf).unwrap();
        server_conn.read_tls(&mut &buf[..]).unwrap();
        server_conn.process_new_packets()?;
        if !server_conn.is_handshaking() {
            return Ok(server_conn);
        }
    }
    panic!("handshake did not finish");
}

fn refusal(err: &rustls::Error) -> Option<&JitrRefusal> {
    match err {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o)) => o.0.downcast_ref(),
        _ => None,
    }
}

/// Why a handshake failed: JITR's decision refused it, or rustls failed otherwise.
#[derive(Debug, PartialEq)]
enum Failure {
    /// JITR's refusal (`None` would be a refusal of an allowed decision: a bug).
    Refused(Option<RefusalReason>),
    /// Another rustls error (its `Debug` text).
    Tls(String),
}

fn jitr_refusal(r: Result<ServerConnection, rustls::Error>) -> Result<ServerConnection, Failure> {
    r.map_err(|e| match refusal(&e) {
        Some(j) => Failure::Refused(j.decision.refusal.clone()),
        None => Failure::Tls(format!("{e:?}")),
    })
}

/// The failure of a handshake JITR refused for `reason`.
fn refused(reason: RefusalReason) -> Option<Failure> {
    Some(Failure::Refused(Some(reason)))
}

fn setup() -> (Arc<Registry>, Ca, Arc<Mutex<Vec<String>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let reg = Arc::new(registry().with_event_sink(Arc::new(
        move |_: &str, e: &RegistrationEvent| {
            sink.lock().unwrap().push(e.to_json());
        },
    )));
    let ca = Ca::new("Fleet CA");
    ca.register(&reg);
    (reg, ca, events)
}

#[test]
fn builder_refuses_an_empty_registry_and_hides_ca_names_by_default() {
    let empty = Arc::new(registry());
    assert_eq!(
        JitrClientVerifier::builder(empty).build().unwrap_err(),
        VerifierBuilderError::NothingRegistered
    );
    let (reg, _, _) = setup();
    use rustls::server::danger::ClientCertVerifier;
    let v = JitrClientVerifier::builder(reg.clone()).build().unwrap();
    assert!(v.root_hint_subjects().is_empty());
    assert!(v.client_auth_mandatory());
    let v = JitrClientVerifier::builder(reg)
        .advertise_ca_names(true)
        .build()
        .unwrap();
    assert_eq!(v.root_hint_subjects().len(), 1);
}

#[test]
fn handshake_mode_every_key_type_with_and_without_ca_and_sni() {
    let srv = fixed_server();
    for kind in [KeyKind::P256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        for (with_ca, sni) in [(true, true), (true, false), (false, true), (false, false)] {
            let (reg, ca, events) = setup();
            let verifier = JitrClientVerifier::builder(reg.clone()).build().unwrap();
            let (leaf, key) = device(&ca, kind, &format!("{kind:?}-{with_ca}-{sni}"));
            let chain = if with_ca {
                vec![leaf.clone(), ca.der()]
            } else {
                vec![leaf.clone()]
            };
            let first = jitr_refusal(handshake(
                &srv,
                &verifier,
                client(&srv, chain.clone(), key.clone_key(), sni),
            ));
            let ctx = format!("{kind:?} ca={with_ca} sni={sni}");
            if !with_ca && !sni {
                assert_eq!(first.err(), refused(RefusalReason::SniRequired), "{ctx}");
                assert_eq!(reg.certificate_count(), 0, "{ctx}");
                continue;
            }
            assert_eq!(
                first.err(),
                refused(RefusalReason::RegisteredPendingActivation),
                "{ctx}"
            );
            assert_eq!(events.lock().unwrap().len(), 1, "{ctx}");
            let id = CertificateId::of_der(&leaf);
            let second = jitr_refusal(handshake(
                &srv,
                &verifier,
                client(&srv, chain.clone(), key.clone_key(), sni),
            ));
            assert_eq!(
                second.err(),
                refused(RefusalReason::PendingActivation),
                "{ctx}"
            );
            reg.update_certificate(&id, CertificateStatus::Active, now())
                .unwrap();
            let conn = handshake(
                &srv,
                &verifier,
                client(&srv, chain.clone(), key.clone_key(), sni),
            )
            .expect(&ctx);
            assert_eq!(conn.peer_certificates().unwrap()[0], leaf, "{ctx}");
            reg.update_certificate(&id, CertificateStatus::Revoked, now())
                .unwrap();
            let revoked = jitr_refusal(handshake(&srv, &verifier, client(&srv, chain, key, sni)));
            assert_eq!(
                revoked.err(),
                refused(RefusalReason::CertificateRevoked),
                "{ctx}"
            );
        }
    }
}

#[test]
fn protocol_mode_completes_the_handshake_then_decides_once() {
    let srv = fixed_server();
    let (reg, ca, events) = setup();
    let verifier = JitrClientVerifier::builder(reg.clone())
        .mode(Mode::Protocol)
        .build()
        .unwrap();
    let (leaf, key) = device(&ca, KeyKind::P256, "proto");
    let chain = vec![leaf.clone(), ca.der()];
    let conn = handshake(
        &srv,
        &verifier,
        client(&srv, chain.clone(), key.clone_key(), true),
    )
    .expect("handshake completes");
    assert_eq!(
        reg.certificate_count(),
        0,
        "nothing is registered during the handshake"
    );
    let bound = verifier.for_server_name(conn.server_name());
    let peer: Vec<_> = conn.peer_certificates().unwrap().to_vec();
    let d = bound.decide(&peer, now());
    assert_eq!(d.refusal, Some(RefusalReason::RegisteredPendingActivation));
    assert_eq!(events.lock().unwrap().len(), 1);
    reg.update_certificate(
        &CertificateId::of_der(&leaf),
        CertificateStatus::Active,
        now(),
    )
    .unwrap();
    let conn = handshake(
        &srv,
        &verifier,
        client(&srv, chain.clone(), key.clone_key(), false),
    )
    .unwrap();
    assert!(verifier
        .for_server_name(conn.server_name())
        .decide(conn.peer_certificates().unwrap(), now())
        .is_allowed());
    // A revoked certificate still completes the handshake (as on AWS) and is refused at CONNECT.
    reg.update_certificate(
        &CertificateId::of_der(&leaf),
        CertificateStatus::Revoked,
        now(),
    )
    .unwrap();
    let conn = handshake(&srv, &verifier, client(&srv, chain, key, true)).unwrap();
    assert_eq!(
        verifier
            .decide(conn.peer_certificates().unwrap(), now())
            .refusal,
        Some(RefusalReason::CertificateRevoked)
    );
}

#[test]
fn bad_chains_are_rustls_certificate_errors_not_jitr_refusals() {
    let srv = fixed_server();
    let (reg, ca, _) = setup();
    for mode in [Mode::Handshake, Mode::Protocol] {
        let verifier = JitrClientVerifier::builder(reg.clone())
            .mode(mode)
            .build()
            .unwrap();
        // An unknown issuer, and a forged signature under a registered CA's name.
        for (issuer, expected) in [
            ("Stranger", rustls::CertificateError::UnknownIssuer),
            ("Fleet CA", rustls::CertificateError::BadSignature),
        ] {
            let ca = Ca::new(issuer);
            let (leaf, key) = device(&ca, KeyKind::P256, "d");
            let chain = vec![leaf, ca.der()];
            let err = handshake(&srv, &verifier, client(&srv, chain, key, true)).unwrap_err();
            assert_eq!(err, rustls::Error::InvalidCertificate(expected), "{mode:?}");
            assert!(refusal(&err).is_none());
        }
    }
    assert_eq!(reg.certificate_count(), 0);
    let _ = ca;
}

#[test]
fn directory_routes_by_sni_over_loopback_tcp() {
    let srv = Arc::new(fixed_server());
    let mut dir = Directory::with_store(common::store::fresh_store());
    let reg = dir
        .add_account(
            Scope::new(ACCOUNT, REGION).unwrap(),
            RegistryConfig::default(),
            &[SNI],
        )
        .unwrap();
    let ca = Ca::new("Fleet CA");
    ca.register(&reg);
    let verifier = JitrClientVerifier::builder_for_directory(Arc::new(dir))
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (srv2, v2) = (srv.clone(), verifier.clone());
    let server_thread = std::thread::spawn(move || {
        let mut outcomes = Vec::new();
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut acceptor = Acceptor::default();
            let accepted = loop {
                acceptor.read_tls(&mut stream).unwrap();
                if let Some(a) = acceptor.accept().map_err(|(e, _)| e).unwrap() {
                    break a;
                }
            };
            let mut conn = serve(&srv2, &v2, accepted).unwrap();
            let mut outcome = "allowed".to_string();
            while conn.is_handshaking() {
                match conn.complete_io(&mut stream) {
                    Ok(_) => {}
                    Err(e) => {
                        outcome = e.to_string();
                        break;
                    }
                }
            }
            if outcome == "allowed" {
                let mut tls = rustls::Stream::new(&mut conn, &mut stream);
                tls.write_all(b"hello").unwrap();
                tls.flush().unwrap();
            }
            outcomes.push(outcome);
        }
        outcomes
    });
    let (leaf, key) = device(&ca, KeyKind::P256, "tcp");
    let id = CertificateId::of_der(&leaf);
    let connect = || {
        let mut conn = client(&srv, vec![leaf.clone()], key.clone_key(), true);
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        let mut buf = [0u8; 5];
        rustls::Stream::new(&mut conn, &mut sock)
            .read_exact(&mut buf)
            .map(|_| buf)
    };
    // First connection: refused; by the time the client sees the alert, the server has
    // registered the certificate (leaf alone, routed by SNI).
    assert!(connect().is_err());
    assert_eq!(
        reg.describe_certificate(&id).unwrap().status,
        CertificateStatus::PendingActivation
    );
    reg.update_certificate(&id, CertificateStatus::Active, now())
        .unwrap();
    assert_eq!(&connect().unwrap(), b"hello");
    let outcomes = server_thread.join().unwrap();
    assert!(
        outcomes[0].contains("RegisteredPendingActivation"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], "allowed");
}

/// An X.509 v1 device certificate (as AWS's JITR walkthrough issues them with
/// `openssl x509 -req`) through real handshakes, TLS 1.3 and 1.2: webpki refuses v1, so the
/// verifier checks the handshake signature with the certificate's key itself.
#[test]
fn v1_device_certificates_complete_handshakes_in_both_tls_versions() {
    let srv = fixed_server();
    let ca_pem = include_str!("data/v1/ca.pem");
    let leaf = CertificateDer::from(
        Certificate::from_pem(include_str!("data/v1/device.pem"))
            .unwrap()
            .der()
            .to_vec(),
    );
    let ca_der = CertificateDer::from(Certificate::from_pem(ca_pem).unwrap().der().to_vec());
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("data/v1/device.key")).unwrap();
    let reg = Arc::new(registry());
    register_sni_only_ca(&reg, ca_pem, Timestamp::now());
    let verifier = JitrClientVerifier::builder(reg.clone()).build().unwrap();
    // A connection of the device (its chain, with `key`) in `version`, with SNI.
    let connection = |version, key: &PrivateKeyDer<'static>| {
        let config = v1_client(
            &srv,
            version,
            vec![leaf.clone(), ca_der.clone()],
            key.clone_key(),
        );
        ClientConnection::new(Arc::new(config), ServerName::try_from(SNI).unwrap()).unwrap()
    };
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let conn = || connection(version, &key);
        let first = jitr_refusal(handshake(&srv, &verifier, conn()));
        if reg.certificate_count() == 0
            || first.as_ref().err() == refused(RefusalReason::RegisteredPendingActivation).as_ref()
        {
            assert_eq!(
                first.err(),
                refused(RefusalReason::RegisteredPendingActivation),
                "{version:?}"
            );
            reg.update_certificate(
                &CertificateId::of_der(&leaf),
                CertificateStatus::Active,
                Timestamp::now(),
            )
            .unwrap();
        }
        let ok =
            handshake(&srv, &verifier, conn()).unwrap_or_else(|e| panic!("{version:?}: {e:?}"));
        assert_eq!(ok.peer_certificates().unwrap()[0], leaf);
    }
    // A client that holds the certificate but not its key cannot complete the handshake.
    let wrong_key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        KeyPair::generate().unwrap().serialize_der(),
    ));
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let conn = connection(version, &wrong_key);
        assert!(handshake(&srv, &verifier, conn).is_err(), "{version:?}");
    }
}

/// rustls' client builder checks that its key matches its certificate by parsing the
/// certificate with webpki, which refuses v1; a resolver hands the pair over as it is.
fn v1_client(
    srv: &Server,
    version: &'static rustls::SupportedProtocolVersion,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> ClientConfig {
    ClientConfig::builder_with_protocol_versions(&[version])
        .with_root_certificates(srv.roots.clone())
        .with_client_cert_resolver(jitr_testkit::tls::client_cert_resolver(chain, key).unwrap())
}

#[test]
fn the_verifier_reads_the_clock_the_host_gives_it() {
    let srv = fixed_server();
    let (reg, ca, events) = setup();
    let (leaf, key) = device(&ca, KeyKind::P256, "clocked");
    let chain = vec![leaf, ca.der()];
    // Before the device's notBefore (2025-01-01) by the host's clock: refused,
    // whatever rustls' own time says.
    let early = Timestamp::from_unix_secs(100_000_000); // 1973
    let verifier = JitrClientVerifier::builder(reg.clone())
        .clock(Arc::new(FixedClock(early)))
        .build()
        .unwrap();
    let r = handshake(
        &srv,
        &verifier,
        client(&srv, chain.clone(), key.clone_key(), true),
    );
    assert!(
        matches!(
            r.err(),
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidYet
            ))
        ),
        "the fixed clock decides"
    );
    // In range, to the millisecond: the event's timestamp is the clock's.
    let at = Timestamp::from_unix_millis(1_780_272_000_123);
    let verifier = JitrClientVerifier::builder(reg.clone())
        .clock(Arc::new(FixedClock(at)))
        .build()
        .unwrap();
    let r = jitr_refusal(handshake(&srv, &verifier, client(&srv, chain, key, true)));
    assert_eq!(r.err(), refused(RefusalReason::RegisteredPendingActivation));
    let event = RegistrationEvent::from_json(&events.lock().unwrap()[0]).unwrap();
    assert_eq!(event.timestamp, at);
}
