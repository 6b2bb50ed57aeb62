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

use jitr_core::crl::CrlStore;
use jitr_core::handler::{Action, Handler, PolicyTemplate};
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

/// Runs jitr's activation handler (CRL check, AWS's sample policy, activation) on each
/// event; sends back what it did, in words.
fn spawn_handler(
    registry: Arc<Registry>,
    crls: Arc<CrlStore>,
    events: mpsc::Receiver<RegistrationEvent>,
) -> mpsc::Receiver<Vec<String>> {
    let handler = Handler::new(registry, crls, PolicyTemplate::aws_sample());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for event in events {
            let words = match handler.handle(&event, Timestamp::now()) {
                Ok(report) => report.actions.iter().map(describe).collect(),
                Err(e) => vec![format!("failed: {} {}", e.code(), e.message())],
            };
            if tx.send(words).is_err() {
                return;
            }
        }
    });
    rx
}

fn describe(a: &Action) -> String {
    match a {
        Action::Revoked => "the serial is on the CA's CRL: set the certificate REVOKED".into(),
        Action::PolicyCreated { name } => format!("created policy {name}"),
        Action::PolicyReused { name } => format!("reused policy {name}"),
        Action::PolicyAttached { name, target } => format!("attached {name} to {target}"),
        Action::Activated => "set the certificate ACTIVE".into(),
        Action::Skipped(s) => format!("left it alone: {}", s.message()),
        other => format!("{other:?}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn crl_listing(
    ca: &CertificateParams,
    key: &KeyPair,
    serial: &[u8],
) -> Result<jitr_core::crl::Crl, Error> {
    let now = time_now();
    let params = rcgen::CertificateRevocationListParams {
        this_update: now - std::time::Duration::from_secs(3600),
        next_update: now + std::time::Duration::from_secs(7 * 86400),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(serial.to_vec()),
            revocation_time: now - std::time::Duration::from_secs(60),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&Issuer::new(ca.clone(), key))?;
    Ok(jitr_core::crl::Crl::from_pem_or_der(crl.der())?)
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(Timestamp::now().unix_secs())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
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
    issue_device_with_serial(ca_params, ca_key, ca_der, name, None)
}

fn issue_device_with_serial(
    ca_params: &CertificateParams,
    ca_key: &KeyPair,
    ca_der: &CertificateDer<'static>,
    name: &'static str,
    serial: Option<Vec<u8>>,
) -> Result<Device, Error> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(vec![])?;
    p.serial_number = serial.map(rcgen::SerialNumber::from);
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
    let code = registry.get_registration_code().unwrap();
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

    // The CA's CRL, which the handler checks: it lists device-2's serial.
    let crls = Arc::new(CrlStore::new());
    let revoked_serial = vec![0x0d, 0xe2];
    crls.set(
        &Certificate::from_pem(&ca_cert.pem())?,
        crl_listing(&ca_params, &ca_key, &revoked_serial)?,
    )?;
    println!(
        "  the CA's CRL is loaded (it lists serial {})",
        hex(&revoked_serial)
    );
    // The activation handler runs beside the gateway, fed by the event sink.
    let acted_rx = spawn_handler(registry.clone(), crls, events_rx);

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
    let handler_ran = |n: &str| -> Result<(), Error> {
        let actions = acted_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the handler did not run")?;
        println!("{n} The activation handler ran:");
        for a in &actions {
            println!("  handler {a}");
        }
        Ok(())
    };
    handler_ran("4.")?;
    step("5.", "device-1 connects again.", &device, Ok(0));
    let device2 = issue_device_with_serial(
        &ca_params,
        &ca_key,
        ca_cert.der(),
        "device-2",
        Some(revoked_serial.clone()),
    )?;
    step(
        "6.",
        "device-2, whose serial is on the CA's CRL, connects.",
        &device2,
        Ok(5),
    );
    handler_ran("7.")?;
    step("8.", "device-2 connects again.", &device2, Ok(5));
    registry.update_certificate(&device_id, CertificateStatus::Revoked, Timestamp::now())?;
    println!("9. The fleet owner revokes device-1.");
    step("10.", "device-1 connects after revocation.", &device, Ok(5));
    let (sp, sk, sc) = fleet_ca("Someone else's CA")?;
    let stranger = issue_device(&sp, &sk, sc.der(), "stranger")?;
    step(
        "11.",
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
    v.distinguished_name.push(
        DnType::CommonName,
        registry.get_registration_code().unwrap(),
    );
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
    let acted = spawn_handler(registry.clone(), Arc::new(CrlStore::new()), events_rx);
    std::thread::spawn(move || {
        for actions in acted {
            println!("handler: {}", actions.join("; "));
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
