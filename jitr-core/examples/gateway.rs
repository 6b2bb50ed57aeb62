//! A device gateway that does JITR: a real TLS server on 127.0.0.1 speaking MQTT 3.1.1
//! CONNECT/CONNACK, with an in-process activation handler, driven through the whole
//! story by real TLS clients.
//!
//! ```text
//! cargo run --release -p jitr-core --example gateway                 # the narrated demo
//! cargo run --release -p jitr-core --example gateway -- --listen 127.0.0.1:8883 --dir ./gw
//! ```
//!
//! The demo exits 0 when every step behaved as expected. `--listen` runs a long-lived
//! server for real MQTT clients (mosquitto_pub): it writes a CA, its key and the server's
//! trust anchor into `--dir` and prints how to issue a device certificate and connect.
//!
//! Like AWS IoT, the gateway works in protocol mode: the TLS handshake only proves the
//! device's chain leads to a registered CA; the JITR decision is made once per
//! connection when the CONNECT arrives, and a refusal is CONNACK return code 5.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use jitr_core::verifier::{JitrClientVerifier, Mode};
use jitr_core::*;
use mqtt::control::variable_header::ConnectReturnCode;
use mqtt::packet::{ConnackPacket, ConnectPacket, DisconnectPacket, VariablePacket};
use mqtt::{Decodable, Encodable};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::{Acceptor, ResolvesServerCert};
use rustls::sign::CertifiedKey;

type Error = Box<dyn std::error::Error + Send + Sync>;

const HOST: &str = "iot.jitr.localhost";

/// AWS's sample JITR policy (spec §8), for the in-process handler.
fn sample_policy(scope: &Scope, id: &CertificateId) -> String {
    let base = format!(
        "arn:{}:iot:{}:{}",
        scope.partition(),
        scope.region(),
        scope.account()
    );
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["iot:Connect"],"Resource":["{base}:client/{id}"]}},{{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["{base}:topic/foo/bar/{id}/*"]}},{{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["{base}:topicfilter/foo/bar/{id}/#"]}}]}}"#
    )
}

/// The activation handler, in process: on each registration event, create (or reuse)
/// `Policy_<id>`, attach it and activate the certificate. Idempotent.
fn activate(
    registry: &Registry,
    event: &RegistrationEvent,
) -> Result<Vec<String>, jitr_core::Error> {
    let id = event.certificate_id;
    let now = Timestamp::now();
    let d = registry.describe_certificate(&id)?;
    if d.status != CertificateStatus::PendingActivation {
        return Ok(vec![format!("left alone: the certificate is {}", d.status)]);
    }
    let name = format!("Policy_{id}");
    let mut actions = Vec::new();
    match registry.create_policy(&name, &sample_policy(registry.scope(), &id), now) {
        Ok(_) => actions.push(format!("created policy {name}")),
        Err(jitr_core::Error::ResourceAlreadyExists { .. }) => {
            actions.push(format!("reused policy {name}"))
        }
        Err(e) => return Err(e),
    }
    registry.attach_policy(&name, &d.certificate_arn)?;
    actions.push(format!("attached it to {}", d.certificate_arn));
    registry.update_certificate(&id, CertificateStatus::Active, now)?;
    actions.push("set the certificate ACTIVE".into());
    Ok(actions)
}

struct Pki {
    server_ca: rcgen::Certificate,
    server: Arc<CertifiedKey>,
}

fn server_pki() -> Result<Pki, Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(vec![])?;
    ca.distinguished_name
        .push(DnType::CommonName, "jitr gateway server CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let server_ca = ca.self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(vec![HOST.into(), "localhost".into()])?;
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse()?));
    let cert = p.signed_by(&key, &Issuer::new(ca, &ca_key))?;
    let provider = rustls::crypto::ring::default_provider();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let server = Arc::new(CertifiedKey::from_der(
        vec![cert.der().clone()],
        key,
        &provider,
    )?);
    Ok(Pki { server_ca, server })
}

#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Serves one connection: TLS (verifier bound to the SNI), then MQTT CONNECT → the JITR
/// decision → CONNACK. Returns a line for the log.
fn serve(
    mut stream: TcpStream,
    verifier: &JitrClientVerifier,
    certs: &Arc<Fixed>,
) -> Result<String, Error> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut acceptor = Acceptor::default();
    let accepted = loop {
        acceptor.read_tls(&mut stream)?;
        if let Some(a) = acceptor.accept().map_err(|(e, _)| e)? {
            break a;
        }
    };
    let sni = accepted.client_hello().server_name().map(str::to_owned);
    let bound = verifier.for_server_name(sni.as_deref());
    let config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(bound.clone())
        .with_cert_resolver(certs.clone());
    let mut conn = accepted
        .into_connection(Arc::new(config))
        .map_err(|(e, _)| e)?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut stream) {
            return Ok(format!("TLS handshake refused: {e}"));
        }
    }
    let chain: Vec<CertificateDer<'static>> = conn
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let mut tls = rustls::Stream::new(&mut conn, &mut stream);
    let connect = match VariablePacket::decode(&mut BufReader::new(&mut tls))? {
        VariablePacket::ConnectPacket(c) => c,
        other => return Ok(format!("expected CONNECT, got {other:?}")),
    };
    // The decision, once per connection.
    let decision = bound.decide(&chain, Timestamp::now());
    let code = if decision.is_allowed() {
        ConnectReturnCode::ConnectionAccepted
    } else {
        ConnectReturnCode::NotAuthorized
    };
    let mut out = Vec::new();
    ConnackPacket::new(false, code).encode(&mut out)?;
    tls.write_all(&out)?;
    tls.flush()?;
    Ok(format!(
        "CONNECT from {:?} → CONNACK {} ({})",
        connect.client_identifier(),
        code.to_u8(),
        decision.reason_code().map_or_else(
            || decision.message(),
            |c| format!("{c}: {}", decision.message())
        )
    ))
}

fn run_server(
    listener: TcpListener,
    verifier: Arc<JitrClientVerifier>,
    certs: Arc<Fixed>,
    log: mpsc::Sender<String>,
) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let line =
            serve(stream, &verifier, &certs).unwrap_or_else(|e| format!("connection error: {e}"));
        if log.send(line).is_err() {
            return;
        }
    }
}

struct Device {
    name: &'static str,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// One device connection: TLS with its certificate, CONNECT, read CONNACK. Returns the
/// CONNACK return code, or the TLS error.
fn device_connects(
    addr: SocketAddr,
    roots: &rustls::RootCertStore,
    d: &Device,
) -> Result<u8, String> {
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots.clone())
        .with_client_auth_cert(d.chain.clone(), d.key.clone_key())
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(HOST).map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let mut out = Vec::new();
    ConnectPacket::new(d.name)
        .encode(&mut out)
        .map_err(|e| e.to_string())?;
    tls.write_all(&out).map_err(|e| format!("TLS: {e}"))?;
    let connack = match VariablePacket::decode(&mut BufReader::new(&mut tls)) {
        Ok(VariablePacket::ConnackPacket(c)) => c,
        Ok(other) => return Err(format!("expected CONNACK, got {other:?}")),
        Err(e) => return Err(format!("TLS: {e}")),
    };
    let mut out = Vec::new();
    let _ = DisconnectPacket::new().encode(&mut out);
    let _ = tls.write_all(&out);
    Ok(connack.connect_return_code().to_u8())
}

fn issue_device(
    ca_params: &CertificateParams,
    ca_key: &KeyPair,
    ca_der: &CertificateDer<'static>,
    name: &'static str,
) -> Result<Device, Error> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(vec![])?;
    p.distinguished_name.push(DnType::CommonName, name);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, &Issuer::new(ca_params.clone(), ca_key))?;
    Ok(Device {
        name,
        chain: vec![cert.der().clone(), ca_der.clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    })
}

fn fleet_ca(cn: &str) -> Result<(CertificateParams, KeyPair, rcgen::Certificate), Error> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(vec![])?;
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key)?;
    Ok((p, key, cert))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => demo(),
        Some("--listen") => listen(&args),
        Some(_) => Err("usage: gateway [--listen ADDR --dir DIR]".into()),
    };
    match result {
        Ok(()) => {}
        Err(e) => {
            eprintln!("gateway: {e}");
            std::process::exit(1);
        }
    }
}

fn demo() -> Result<(), Error> {
    let pki = server_pki()?;
    let (events_tx, events_rx) = mpsc::channel::<RegistrationEvent>();
    let sink = move |topic: &str, e: &RegistrationEvent| {
        println!("  event   published on {topic}\n          {}", e.to_json());
        let _ = events_tx.send(e.clone());
    };
    let registry = Arc::new(
        Registry::new(Scope::new("123456789012", "us-east-1")?).with_event_sink(Arc::new(sink)),
    );

    println!("1. The fleet owner registers a CA with proof of possession.");
    let code = registry.get_registration_code();
    let (ca_params, ca_key, ca_cert) = fleet_ca("Fleet CA")?;
    let mut v = CertificateParams::new(vec![])?;
    v.distinguished_name.push(DnType::CommonName, code.clone());
    let verification = v.signed_by(
        &KeyPair::generate()?,
        &Issuer::new(ca_params.clone(), &ca_key),
    )?;
    let now = Timestamp::now();
    let ca_id = registry
        .register_ca_certificate(
            &RegisterCaCertificateRequest {
                ca_certificate: ca_cert.pem(),
                verification_certificate: Some(verification.pem()),
                set_as_active: true,
                ..Default::default()
            },
            now,
        )?
        .certificate_id;
    println!(
        "  CA {ca_id} registered ACTIVE (verification CN = registration code {}…)",
        &code[..12]
    );
    let mut enable = UpdateCaCertificateRequest::new(ca_id);
    enable.new_auto_registration_status = Some(AutoRegistrationStatus::Enable);
    registry.update_ca_certificate(&enable, now)?;
    println!("  auto-registration ENABLE");

    // The activation handler runs beside the gateway, fed by the event sink.
    let handler_registry = registry.clone();
    let (acted_tx, acted_rx) = mpsc::channel::<Vec<String>>();
    std::thread::spawn(move || {
        for event in events_rx {
            let actions = activate(&handler_registry, &event)
                .unwrap_or_else(|e| vec![format!("failed: {} {}", e.code(), e.message())]);
            if acted_tx.send(actions).is_err() {
                return;
            }
        }
    });

    let verifier = JitrClientVerifier::builder(registry.clone())
        .mode(Mode::Protocol)
        .build()?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (log_tx, log_rx) = mpsc::channel();
    let certs = Arc::new(Fixed(pki.server.clone()));
    std::thread::spawn(move || run_server(listener, verifier, certs, log_tx));
    println!("2. The gateway listens on {addr} (TLS, MQTT 3.1.1, SNI {HOST}).");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.server_ca.der().clone())?;

    let device = issue_device(&ca_params, &ca_key, ca_cert.der(), "device-1")?;
    let device_id = CertificateId::of_der(&device.chain[0]);
    let mut failures = Vec::new();
    let mut step = |n: &str, what: &str, device: &Device, want: Result<u8, ()>| {
        println!("{n} {what}");
        let got = device_connects(addr, &roots, device);
        let server = log_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| "(no server log)".into());
        println!(
            "  device  {}\n  server  {server}",
            match &got {
                Ok(c) => format!("CONNACK return code {c}"),
                Err(e) => format!("refused: {e}"),
            }
        );
        let ok = match (&got, want) {
            (Ok(g), Ok(w)) => *g == w,
            (Err(_), Err(())) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!("{n} {what}: got {got:?}, expected {want:?}"));
        }
    };

    step(
        "3.",
        "device-1 connects for the first time.",
        &device,
        Ok(5),
    );
    let actions = acted_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the handler did not run")?;
    println!("4. The activation handler ran:");
    for a in &actions {
        println!("  handler {a}");
    }
    step("5.", "device-1 connects again.", &device, Ok(0));
    registry.update_certificate(&device_id, CertificateStatus::Revoked, Timestamp::now())?;
    println!("6. The fleet owner revokes device-1.");
    step("7.", "device-1 connects after revocation.", &device, Ok(5));
    let (sp, sk, sc) = fleet_ca("Someone else's CA")?;
    let stranger = issue_device(&sp, &sk, sc.der(), "stranger")?;
    step(
        "8.",
        "a device of an unregistered CA connects.",
        &stranger,
        Err(()),
    );

    let d = registry.describe_certificate(&device_id)?;
    println!(
        "\ndevice-1: {} (customerVersion {}), policies {:?}",
        d.status,
        d.customer_version,
        registry
            .list_attached_policies(&d.certificate_arn)?
            .iter()
            .map(|p| p.policy_name.clone())
            .collect::<Vec<_>>()
    );
    if failures.is_empty() {
        println!("every step behaved as expected");
        Ok(())
    } else {
        Err(failures.join("\n").into())
    }
}

/// The long-lived server for real MQTT clients.
fn listen(args: &[String]) -> Result<(), Error> {
    let addr = args
        .get(1)
        .ok_or("--listen needs an address, e.g. 127.0.0.1:8883")?;
    let dir = match (args.get(2).map(String::as_str), args.get(3)) {
        (Some("--dir"), Some(d)) => std::path::PathBuf::from(d),
        _ => return Err("usage: gateway --listen ADDR --dir DIR".into()),
    };
    std::fs::create_dir_all(&dir)?;
    let pki = server_pki()?;
    let (events_tx, events_rx) = mpsc::channel::<RegistrationEvent>();
    let sink = move |topic: &str, e: &RegistrationEvent| {
        println!("event on {topic}: {}", e.to_json());
        let _ = events_tx.send(e.clone());
    };
    let registry = Arc::new(
        Registry::new(Scope::new("123456789012", "us-east-1")?).with_event_sink(Arc::new(sink)),
    );
    let (ca_params, ca_key, ca_cert) = fleet_ca("jitr gateway fleet CA")?;
    let mut v = CertificateParams::new(vec![])?;
    v.distinguished_name
        .push(DnType::CommonName, registry.get_registration_code());
    let verification = v.signed_by(&KeyPair::generate()?, &Issuer::new(ca_params, &ca_key))?;
    registry.register_ca_certificate(
        &RegisterCaCertificateRequest {
            ca_certificate: ca_cert.pem(),
            verification_certificate: Some(verification.pem()),
            set_as_active: true,
            allow_auto_registration: true,
            ..Default::default()
        },
        Timestamp::now(),
    )?;
    std::fs::write(dir.join("fleet-ca.pem"), ca_cert.pem())?;
    std::fs::write(dir.join("fleet-ca.key"), ca_key.serialize_pem())?;
    std::fs::write(dir.join("server-ca.pem"), pki.server_ca.pem())?;
    let handler_registry = registry.clone();
    std::thread::spawn(move || {
        for event in events_rx {
            match activate(&handler_registry, &event) {
                Ok(actions) => println!("handler: {}", actions.join("; ")),
                Err(e) => println!("handler failed: {} {}", e.code(), e.message()),
            }
        }
    });
    let verifier = JitrClientVerifier::builder(registry)
        .mode(Mode::Protocol)
        .build()?;
    let listener = TcpListener::bind(addr.as_str())?;
    let d = dir.display();
    println!(
        "listening on {addr} (server names {HOST}, localhost, 127.0.0.1). Files in {d}.\n\
         Issue a device certificate and connect twice (the first connection registers it):\n\
         \n  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {d}/device.key -subj /CN=device-1 -out {d}/device.csr\n\
         \x20 openssl x509 -req -in {d}/device.csr -CA {d}/fleet-ca.pem -CAkey {d}/fleet-ca.key -days 365 -out {d}/device.pem\n\
         \x20 cat {d}/device.pem {d}/fleet-ca.pem > {d}/device-chain.pem\n\
         \x20 mosquitto_pub -h localhost -p {port} --cafile {d}/server-ca.pem --cert {d}/device-chain.pem --key {d}/device.key -i device-1 -t hello -m hi\n",
        port = listener.local_addr()?.port()
    );
    let (log_tx, log_rx) = mpsc::channel();
    let certs = Arc::new(Fixed(pki.server));
    std::thread::spawn(move || run_server(listener, verifier, certs, log_tx));
    for line in log_rx {
        println!("{line}");
    }
    Ok(())
}
