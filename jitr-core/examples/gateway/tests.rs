//! The gateway's tests: real sockets on 127.0.0.1, Debian's mosquitto, bounded in count
//! and time. Run by `scripts/test-gateway.sh` (which also starts PostgreSQL for the
//! store tests): `cargo test -p jitr-core --all-features --example gateway`.
//!
//! No test asserts a duration: bounds such as "within 10 s" only say when to stop
//! waiting for something that must happen.

use std::time::Duration;

use bytes::BytesMut;
use jitr_core::{CertificateStatus, Timestamp};
use rumqttc::mqttbytes::v4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{self, Connected, Device, Published};
use crate::mqtt::{self, Packet, Version};
use crate::state::HOST;
use crate::testutil::{blocking, eventually, Env};

const LIVE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_known_devices_connect_at_once() {
    let env = Env::start("many", &["--store", "memory:"]).await;
    let devices: Vec<Device> = (0..2000)
        .map(|i| env.active_device(&format!("device-{i}")))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for d in devices {
        let config = client::tls_config(&env.server_ca, &d).unwrap();
        let addr = env.addr();
        let version = if d.id.as_bytes()[0] % 2 == 0 {
            Version::V4
        } else {
            Version::V5
        };
        tasks.spawn(async move {
            let c = tokio::time::timeout(
                Duration::from_secs(120),
                client::connect(addr, HOST, config, &d.client_id(), version),
            )
            .await;
            match c {
                Ok(Ok(Connected::Connack(0, Some(c)))) => Ok(c),
                Ok(Ok(Connected::Connack(code, _))) => Err(format!("CONNACK {code}")),
                Ok(Ok(Connected::TlsRefused(e))) => Err(e),
                Ok(Err(e)) => Err(e),
                Err(_) => Err("no CONNACK within 120 s".into()),
            }
        });
    }
    let mut clients = Vec::new();
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(c) => clients.push(c),
            Err(e) => errors.push(e),
        }
    }
    assert!(
        errors.is_empty(),
        "{} failed, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(3)]
    );
    assert_eq!(clients.len(), 2000);
    assert_eq!(
        env.gateway.sessions.len(),
        2000,
        "every session is live at once"
    );
    // Every one of them is proxied: a round trip through mosquitto.
    for c in clients.iter_mut().step_by(100) {
        assert!(c.ping().await);
    }
    for c in clients {
        c.disconnect().await;
    }
    assert!(eventually(LIVE, || env.gateway.sessions.len() == 0).await);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_half_open_and_slow_sockets_do_not_stall_a_good_device() {
    let env = Env::start(
        "idle",
        &[
            "--store",
            "memory:",
            "--handshake-timeout",
            "3",
            "--connect-timeout",
            "3",
        ],
    )
    .await;
    let good = env.active_device("good");
    let addr = env.addr();
    // 1,000 sockets that never send a byte.
    let mut idle = Vec::new();
    for _ in 0..1000 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Half a ClientHello, then silence; and sockets that close at once.
    let mut half = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc])
            .await
            .unwrap();
        half.push(s);
        let mut closed = TcpStream::connect(addr).await.unwrap();
        closed.write_all(&[0x16, 0x03]).await.unwrap();
        drop(closed);
    }
    // Slow drip: a byte every 200 ms.
    let drip = tokio::spawn(async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        for b in [
            0x16u8, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ]
        .iter()
        .cycle()
        .take(100)
        {
            if s.write_all(&[*b]).await.is_err() {
                return true; // the gateway closed it
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    });
    // A TLS client that completes its handshake and then never sends CONNECT.
    let silent = env.tls(&good).await;
    // Meanwhile the good device connects, and its session works.
    let mut c = tokio::time::timeout(LIVE, env.connect(&good, Version::V4))
        .await
        .expect("the good device connects while 1,100 sockets idle");
    assert!(c.ping().await);
    c.disconnect().await;
    // The deadlines close the others.
    for mut s in idle.into_iter().chain(half).take(1050) {
        let mut b = [0u8; 64];
        let r = tokio::time::timeout(LIVE, s.read(&mut b)).await;
        assert!(
            matches!(r, Ok(Ok(0)) | Ok(Err(_))),
            "an idle socket is closed by the handshake deadline"
        );
    }
    assert!(
        tokio::time::timeout(Duration::from_secs(30), drip)
            .await
            .unwrap()
            .unwrap(),
        "a slow drip is closed by the handshake deadline"
    );
    let (mut r, _) = tokio::io::split(silent);
    let mut b = [0u8; 16];
    let closed = tokio::time::timeout(LIVE, r.read(&mut b)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "no CONNECT: closed by its deadline"
    );
    env.stop().await;
}

/// One malformed packet of every MQTT packet type, after a valid CONNECT (and as the
/// first packet): the gateway closes that connection and serves the next device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_of_every_type_close_only_their_connection() {
    let env = Env::start("malformed", &["--store", "memory:"]).await;
    let d = env.active_device("fuzzy");
    // Each: (what, bytes). Types 1..15 with bad flags, bad lengths or bad contents.
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("second CONNECT", {
            let mut b = BytesMut::new();
            v4::Packet::Connect(v4::Connect::new("again"))
                .write(&mut b, 1024)
                .unwrap();
            b.to_vec()
        }),
        ("CONNACK from a client", vec![0x20, 0x02, 0x00, 0x00]),
        (
            "PUBLISH with QoS 3",
            vec![0x36, 0x05, 0x00, 0x01, b'a', 0x00, 0x01],
        ),
        (
            "PUBLISH topic longer than the packet",
            vec![0x30, 0x03, 0x00, 0x09, b'a'],
        ),
        (
            "PUBLISH topic not UTF-8",
            vec![0x30, 0x04, 0x00, 0x02, 0xff, 0xfe],
        ),
        ("PUBACK without packet id", vec![0x40, 0x00]),
        ("PUBREC truncated", vec![0x50, 0x01, 0x00]),
        ("PUBREL truncated", vec![0x62, 0x01, 0x00]),
        ("PUBCOMP truncated", vec![0x70, 0x01, 0x00]),
        ("SUBSCRIBE without filters", vec![0x82, 0x02, 0x00, 0x01]),
        (
            "SUBSCRIBE with QoS 3",
            vec![0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x03],
        ),
        ("SUBACK from a client", vec![0x90, 0x03, 0x00, 0x01, 0x00]),
        ("UNSUBSCRIBE without topics", vec![0xa2, 0x02, 0x00, 0x01]),
        ("UNSUBACK from a client", vec![0xb0, 0x02, 0x00, 0x01]),
        ("PINGREQ with a payload", vec![0xc0, 0x01, 0x00]),
        ("PINGRESP from a client", vec![0xd0, 0x00]),
        ("DISCONNECT with a payload", vec![0xe0, 0x01, 0x00]),
        ("reserved type 15", vec![0xf0, 0x00]),
        ("reserved type 0", vec![0x00, 0x00]),
        (
            "remaining length of five bytes",
            vec![0x30, 0xff, 0xff, 0xff, 0xff, 0x7f],
        ),
        (
            "a 200 MB PUBLISH announced",
            vec![0x30, 0xff, 0xff, 0xff, 0x5f],
        ),
    ];
    for (what, bytes) in &cases {
        for version in [Version::V4, Version::V5] {
            let mut c = env.connect(&d, version).await;
            c.send_raw(bytes).await.unwrap();
            assert!(
                c.closed_within(LIVE).await,
                "{what} (MQTT {}): the connection is closed",
                version.label()
            );
        }
    }
    // As the first packet instead of CONNECT.
    for (what, bytes) in &cases[1..] {
        let mut tls = env.tls(&d).await;
        tls.write_all(bytes).await.unwrap();
        let mut b = [0u8; 64];
        let r = tokio::time::timeout(LIVE, tls.read(&mut b)).await;
        assert!(
            matches!(r, Ok(Ok(0)) | Ok(Err(_)) | Ok(Ok(4))),
            "{what} instead of CONNECT: closed (or refused) at once, got {r:?}"
        );
    }
    // Still serving.
    let mut c = env.connect(&d, Version::V5).await;
    assert!(c.ping().await);
    assert_eq!(env.gateway.sessions.len(), 1);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_drops_sessions_cleanly_and_the_gateway_reconnects() {
    let mut env = Env::start("restart", &["--store", "memory:"]).await;
    let (d, mut v4c) = env.connected_device("survivor", Version::V4).await;
    let (d5, mut v5c) = env.connected_device("survivor5", Version::V5).await;
    let port = env.broker.port;
    env.broker.stop();
    assert!(
        v4c.closed_within(LIVE).await,
        "3.1.1 session dropped with the broker"
    );
    assert!(
        v5c.closed_within(LIVE).await,
        "5 session dropped with the broker"
    );
    assert!(eventually(LIVE, || env.gateway.sessions.len() == 0).await);
    // While the broker is down: server unavailable (3 on 3.1.1, 0x88 on 5).
    assert_eq!(env.connack(&d, Version::V4).await, Some(3));
    assert_eq!(env.connack(&d5, Version::V5).await, Some(0x88));
    env.broker = crate::broker::Mosquitto::start(&env.dir, Some(port)).unwrap();
    let mut c = env.connect(&d, Version::V4).await;
    assert!(c.ping().await);
    let topic = "after/restart";
    assert_eq!(c.subscribe(&[topic]).await.unwrap(), vec![1]);
    assert_eq!(
        c.publish(topic, b"back", false).await.unwrap(),
        Published::Acked(0)
    );
    assert!(c.receive(topic, LIVE).await.is_some());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_or_deleted_certificate_loses_its_live_session_and_a_ca_change_does_not() {
    let env = Env::start("evict", &[]).await;
    let reg = env.registry().clone();
    let a = env.active_device("a");
    let b = env.active_device("b");
    let c = env.active_device("c");
    let mut ca = env.connect(&a, Version::V4).await;
    let mut cb = env.connect(&b, Version::V5).await;
    let mut cc = env.connect(&c, Version::V4).await;
    // Deactivating the CA keeps sessions (AWS).
    let ca_id = jitr_core::CertificateId::of_der(env.ca.certificate().der());
    let mut off = jitr_core::UpdateCaCertificateRequest::new(ca_id);
    off.new_status = Some(jitr_core::CaStatus::Inactive);
    reg.update_ca_certificate(&off, Timestamp::now()).unwrap();
    assert!(ca.ping().await && cb.ping().await && cc.ping().await);
    reg.update_certificate(&a.id, CertificateStatus::Revoked, Timestamp::now())
        .unwrap();
    assert!(ca.closed_within(LIVE).await, "REVOKED: closed");
    reg.update_certificate(&b.id, CertificateStatus::Inactive, Timestamp::now())
        .unwrap();
    assert!(
        cb.closed_within(LIVE).await,
        "INACTIVE: closed (MQTT 5 gets a DISCONNECT)"
    );
    assert!(cc.ping().await, "the other device's session is untouched");
    reg.update_certificate(&c.id, CertificateStatus::Inactive, Timestamp::now())
        .unwrap();
    reg.delete_certificate(&c.id, true).unwrap();
    assert!(cc.closed_within(LIVE).await, "deleted: closed");
    assert_eq!(env.connack(&a, Version::V4).await, Some(5));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_connection_is_awss_data_plane_call() {
    let env = Env::start("deleteconn", &["--store", "memory:"]).await;
    let (d, mut c) = env.connected_device("operated", Version::V5).await;
    let admin = env.gateway.admin;
    let call = |path: String| async move {
        let mut s = TcpStream::connect(admin).await.unwrap();
        s.write_all(
            format!("DELETE {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    };
    let r = call("/connections/nobody".into()).await;
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    assert!(r.contains("ResourceNotFoundException"), "{r}");
    let r = call("/connections/%24aws?cleanSession=true".into()).await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = call(format!("/connections/{}?cleanSession=maybe", d.client_id())).await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = call(format!(
        "/connections/{}?cleanSession=true&preventWillMessage=true",
        d.client_id()
    ))
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(c.closed_within(LIVE).await);
    // The metrics name what happened.
    let mut s = TcpStream::connect(admin).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut m = String::new();
    s.read_to_string(&mut m).await.unwrap();
    for name in [
        "jitr_gateway_connections_open",
        "jitr_gateway_handshakes_total",
        "jitr_gateway_connacks_total",
    ] {
        assert!(m.contains(name), "{name} in /metrics:\n{m}");
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt5_topic_aliases_are_resolved_before_the_policy_and_the_broker() {
    let env = Env::start("alias", &["--store", "memory:"]).await;
    let (_, mut c) = env.connected_device("aliased", Version::V5).await;
    assert_eq!(c.subscribe(&["alias/+"]).await.unwrap(), vec![1]);
    // Set alias 1 with the topic, then publish with the alias alone.
    use rumqttc::v5::mqttbytes::{v5, QoS};
    let mut first = v5::Publish::new("alias/one", QoS::AtMostOnce, b"1".to_vec(), None);
    first.properties = Some(v5::PublishProperties {
        topic_alias: Some(1),
        ..Default::default()
    });
    let mut second = v5::Publish::new("", QoS::AtMostOnce, b"2".to_vec(), None);
    second.properties = first.properties.clone();
    for p in [first, second] {
        let bytes = mqtt::encode(&Packet::V5(v5::Packet::Publish(p))).unwrap();
        c.send_raw(&bytes).await.unwrap();
    }
    let one = c.receive("alias/one", LIVE).await.expect("the first");
    let two = c
        .receive("alias/one", LIVE)
        .await
        .expect("the aliased one, whole topic");
    assert_eq!((&one.1[..], &two.1[..]), (&b"1"[..], &b"2"[..]));
    // An alias never set is a protocol error.
    let mut bad = v5::Publish::new("", QoS::AtMostOnce, b"3".to_vec(), None);
    bad.properties = Some(v5::PublishProperties {
        topic_alias: Some(7),
        ..Default::default()
    });
    c.send_raw(&mqtt::encode(&Packet::V5(v5::Packet::Publish(bad))).unwrap())
        .await
        .unwrap();
    assert!(c.closed_within(LIVE).await);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_mode_decides_during_the_handshake() {
    let env = Env::start(
        "handshake",
        &["--store", "memory:", "--decide-at", "handshake"],
    )
    .await;
    let mut watcher = crate::procs::Watcher::start(&env.broker.addr(), &["$aws/events/#"])
        .await
        .unwrap();
    let d = Device::issue(&env.ca, "hs").unwrap();
    assert_eq!(
        env.connack(&d, Version::V4).await,
        None,
        "refused in the handshake"
    );
    let ca_id = jitr_core::CertificateId::of_der(env.ca.certificate().der());
    let event = watcher
        .wait_for(
            &format!("$aws/events/certificates/registered/{ca_id}"),
            LIVE,
        )
        .await
        .expect("the registration event is published");
    assert!(event.contains(&d.id.to_string()));
    let reg = env.registry();
    reg.update_certificate(&d.id, CertificateStatus::Active, Timestamp::now())
        .unwrap();
    let arn = reg.scope().certificate_arn(&d.id);
    let _ = reg.create_policy("AllowAll", crate::testutil::ALLOW_ALL, Timestamp::now());
    reg.attach_policy("AllowAll", &arn).unwrap();
    assert_eq!(env.connack(&d, Version::V5).await, Some(0));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_protocol_level_gets_connack_1() {
    let env = Env::start("level", &["--store", "memory:"]).await;
    let d = env.active_device("old");
    let mut tls = env.tls(&d).await;
    // MQTT 3.1: protocol name MQIsdp, level 3.
    tls.write_all(&[
        0x10, 0x0e, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 2, 0, 10, 0, 0,
    ])
    .await
    .unwrap();
    let mut b = [0u8; 4];
    tls.read_exact(&mut b).await.unwrap();
    assert_eq!(b, [0x20, 0x02, 0x00, 0x01]);
    env.stop().await;
}

// ---------------------------------------------------------------------------------------
// The gateway as a process: started, refused, killed and restarted.

use crate::broker::Mosquitto;
use crate::procs::{fleet_registry, gateway_cas, gateway_exe, GatewayProcess, Watcher};
use crate::testutil::temp_dir;
use jitr_core::tooling::GeneratedCertificate;

/// A fresh directory `root` for a gateway process: its broker, the gateway's own
/// directory and its log file.
struct ProcessSetup {
    root: std::path::PathBuf,
    broker: Mosquitto,
    dir: std::path::PathBuf,
    log: std::path::PathBuf,
}

impl ProcessSetup {
    fn new(name: &str) -> Self {
        let root = temp_dir(name);
        let broker = Mosquitto::start(&root, None).unwrap();
        ProcessSetup {
            dir: root.join("gw"),
            log: root.join("gateway.log"),
            root,
            broker,
        }
    }

    /// The gateway, started without the activation handler.
    async fn gateway(&self) -> GatewayProcess {
        GatewayProcess::start(
            &self.dir,
            0,
            &self.broker.addr(),
            &["--no-handler"],
            &self.log,
        )
        .await
        .unwrap()
    }

    /// Runs one more gateway, without the handler, on this broker, listening on `listen`
    /// with the directory `dir`, to its end (the tests expect it to refuse to start).
    async fn run_another(&self, listen: &str, dir: &std::path::Path) -> std::process::Output {
        tokio::process::Command::new(gateway_exe().unwrap())
            .args([
                "--listen",
                listen,
                "--no-handler",
                "--broker",
                &self.broker.addr(),
                "--dir",
            ])
            .arg(dir)
            .output()
            .await
            .unwrap()
    }

    /// The fleet CA the gateway made and the PEM of its server's CA.
    fn cas(&self) -> (GeneratedCertificate, String) {
        gateway_cas(&self.dir).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_refuses_to_start_before_it_touches_a_file() {
    let setup = ProcessSetup::new("second");
    let (root, dir) = (&setup.root, &setup.dir);
    let first = setup.gateway().await;
    let before: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let key = std::fs::read(dir.join("fleet-ca.key")).unwrap();
    // Same directory, another port.
    let out = setup.run_another("127.0.0.1:0", dir).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another gateway is running"), "{err}");
    // Same port, another directory: refused before the directory exists.
    let other = root.join("other");
    let out = setup.run_another(&first.addr.to_string(), &other).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
    assert!(!other.exists(), "nothing was created");
    let after: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), after.len());
    assert_eq!(
        std::fs::read(dir.join("fleet-ca.key")).unwrap(),
        key,
        "not overwritten"
    );
    first.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_chain_or_certificate_is_refused_with_its_reason_in_the_log() {
    let setup = ProcessSetup::new("oversized");
    let (root, log) = (&setup.root, &setup.log);
    let gw = setup.gateway().await;
    let (ca, server_ca) = setup.cas();
    // 20 certificates: the leaf, its CA, and 18 more CAs.
    let mut long = Device::issue(&ca, "long").unwrap();
    for i in 0..18 {
        let extra = jitr_core::tooling::generate_ca(
            &format!("extra {i}"),
            &jitr_core::tooling::CertificateOptions::new_ca(client::yesterday()),
            None,
        )
        .unwrap();
        long.chain.push(rustls::pki_types::CertificateDer::from(
            extra.certificate().der().to_vec(),
        ));
    }
    assert_eq!(long.chain.len(), 20);
    // A 100 KB certificate.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec![]).unwrap();
    p.custom_extensions
        .push(rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 99999, 1],
            vec![0x42; 100_000],
        ));
    let issuer = rcgen::Issuer::from_ca_cert_pem(
        &ca.certificate_pem(),
        rcgen::KeyPair::from_pem(&ca.private_key_pem()).unwrap(),
    )
    .unwrap();
    let big = p.signed_by(&key, &issuer).unwrap();
    assert!(big.der().len() > 100_000);
    let big = Device {
        id: jitr_core::CertificateId::of_der(big.der()),
        chain: vec![big.der().clone()],
        key: std::sync::Arc::new(rustls::pki_types::PrivateKeyDer::Pkcs8(
            key.serialize_der().into(),
        )),
    };
    for (device, name) in [(&long, "long"), (&big, "big")] {
        let tls = client::tls_config(&server_ca, device).unwrap();
        let r = client::connect(gw.addr, HOST, tls, name, Version::V4)
            .await
            .unwrap();
        assert!(matches!(r, Connected::TlsRefused(_)), "{name}");
    }
    gw.stop().await;
    let text = std::fs::read_to_string(log).unwrap();
    for code in ["CHAIN_TOO_LONG", "CERTIFICATE_TOO_LARGE"] {
        let field = format!("code=\"{code}\"");
        assert!(
            text.lines().any(|l| l.contains(&field)),
            "{code} in the log:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// First connects of many new devices; the gateway is killed with SIGKILL mid-way. Every
/// device that got its CONNACK 5 has its certificate in the store and its event on the
/// broker after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_registration_loses_nothing_acknowledged() {
    let setup = ProcessSetup::new("kill9");
    let (root, broker, dir) = (&setup.root, &setup.broker, &setup.dir);
    let gw = setup.gateway().await;
    let (ca, server_ca) = setup.cas();
    let mut watcher = Watcher::start(&broker.addr(), &["$aws/events/#"])
        .await
        .unwrap();
    let devices: Vec<Device> = (0..150)
        .map(|i| Device::issue(&ca, &format!("new-{i}")).unwrap())
        .collect();
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (enough_tx, mut enough) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut tasks = tokio::task::JoinSet::new();
    for d in devices.clone() {
        let config = client::tls_config(&server_ca, &d).unwrap();
        let addr = gw.addr;
        let acked = acked.clone();
        let tx = enough_tx.clone();
        tasks.spawn(async move {
            if let Ok(Ok(Connected::Connack(5, _))) =
                tokio::time::timeout(LIVE, d.connect(addr, &config, Version::V4)).await
            {
                acked.lock().unwrap().push(d.id);
                let _ = tx.send(());
            }
        });
    }
    for _ in 0..40 {
        enough.recv().await.unwrap();
    }
    let killed_at = acked.lock().unwrap().len();
    gw.kill9().await;
    while tasks.join_next().await.is_some() {}
    let acked: Vec<_> = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= killed_at && acked.len() < devices.len(),
        "{} of {}",
        acked.len(),
        devices.len()
    );
    // A restart on the same directory, then the store as a new process sees it.
    let gw = setup.gateway().await;
    let registry = fleet_registry(dir).expect("the store opens: nothing half-written");
    let ca_id = jitr_core::CertificateId::of_der(ca.certificate().der());
    let topic = format!("$aws/events/certificates/registered/{ca_id}");
    let mut events = Vec::new();
    while let Some(e) = watcher.wait_for(&topic, Duration::from_secs(2)).await {
        events.push(e);
    }
    for id in &acked {
        let d = registry
            .describe_certificate(id)
            .expect("an acknowledged registration survives kill -9");
        assert_eq!(d.status, CertificateStatus::PendingActivation);
        assert!(
            events.iter().any(|e| e.contains(&id.to_string())),
            "the event of an acknowledged registration reached the broker"
        );
    }
    // And the restarted gateway serves: a device it registered before the kill can be
    // activated and connects.
    let d = devices.iter().find(|d| acked.contains(&d.id)).unwrap();
    registry
        .update_certificate(&d.id, CertificateStatus::Active, Timestamp::now())
        .unwrap();
    let arn = registry.scope().certificate_arn(&d.id);
    registry
        .create_policy("AllowAll", crate::testutil::ALLOW_ALL, Timestamp::now())
        .unwrap();
    registry.attach_policy("AllowAll", &arn).unwrap();
    let config = client::tls_config(&server_ca, d).unwrap();
    let ok = eventually_async(LIVE, || {
        let config = config.clone();
        let id = d.client_id();
        async move {
            matches!(
                client::connect(gw.addr, HOST, config, &id, Version::V4).await,
                Ok(Connected::Connack(0, _))
            )
        }
    })
    .await;
    assert!(ok, "CONNACK 0 after the restart and the activation");
    gw.stop().await;
    registry.close();
    let _ = std::fs::remove_dir_all(&root);
}

async fn eventually_async<F, Fut>(within: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if f().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `--listen` prints the commands a person runs; they work as printed (openssl,
/// mosquitto_pub, mosquitto_sub), with the activation handler the gateway starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_commands_work_verbatim() {
    let root = temp_dir("verbatim");
    let dir = root.join("gw");
    // No --broker: the gateway starts its own mosquitto; with its handler.
    let mut child = tokio::process::Command::new(gateway_exe().unwrap())
        .args(["--listen", "127.0.0.1:0", "--dir"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(root.join("gateway.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut commands = Vec::new();
    let mut watch = None;
    let collect = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(cmd) = line.strip_prefix("  ") {
                if cmd.starts_with("mosquitto_sub") {
                    watch = Some(cmd.to_owned());
                } else {
                    commands.push(cmd.to_owned());
                }
            }
            if line.starts_with("  sleep 2;") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), collect)
        .await
        .unwrap();
    let watch = watch.expect("a mosquitto_sub command");
    assert_eq!(commands.len(), 6, "{commands:?}");
    let mut script = String::from("set -u\ncd \"$1\"\n");
    script.push_str(&format!("timeout 20 {watch} > watch.out 2>&1 &\nsleep 1\n"));
    for c in &commands {
        script.push_str(&format!("{c}\necho \"rc=$?\" >> rcs\n"));
    }
    script.push_str("wait\n");
    let out = tokio::process::Command::new("bash")
        .args(["-c", &script, "bash"])
        .arg(&root)
        .output()
        .await
        .unwrap();
    let rcs = std::fs::read_to_string(root.join("rcs")).unwrap_or_default();
    let watched = std::fs::read_to_string(root.join("watch.out")).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rcs: Vec<&str> = rcs.lines().collect();
    // openssl x3, cat, ID=...: fine; the first mosquitto_pub refused; the second through.
    assert_eq!(&rcs[..4], &["rc=0", "rc=0", "rc=0", "rc=0"], "{stderr}");
    assert_ne!(rcs[4], "rc=0", "the first connection is refused: {stderr}");
    assert!(stderr.contains("not authori"), "{stderr}");
    assert_eq!(rcs[5], "rc=0", "the second goes through: {stderr}");
    assert!(
        watched.contains("$aws/events/certificates/registered/"),
        "{watched}"
    );
    assert!(
        watched
            .lines()
            .any(|l| l.starts_with("foo/bar/") && l.ends_with("/hello hi")),
        "{watched}"
    );
    let _ = tokio::process::Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .await;
    let _ = tokio::time::timeout(LIVE, child.wait()).await;
    let _ = std::fs::remove_dir_all(&root);
}

/// Two gateway nodes on one PostgreSQL store: a device registered through one connects
/// through the other, a revocation made on one closes the session on the other, and while
/// PostgreSQL is stopped the outage rules hold (known devices connect on the allow-known
/// node and are refused on the refuse-all node; new devices are refused,
/// STORE_UNAVAILABLE); after it restarts both nodes resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgresql_share_the_fleet_and_follow_the_outage_rules() {
    let pg = std::env::var("JITR_TEST_PG")
        .expect("JITR_TEST_PG is unset: run scripts/test-gateway.sh, which starts PostgreSQL");
    let stop = std::env::var("JITR_TEST_PG_STOP").expect("JITR_TEST_PG_STOP");
    let start = std::env::var("JITR_TEST_PG_START").expect("JITR_TEST_PG_START");
    // An account of this run alone, in the shared database.
    let account = format!(
        "{:012}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000_000
    );
    let a = Env::start("pg-a", &["--store", &pg, "--account", &account]).await;
    let b = Env::start_with(
        "pg-b",
        &[
            "--store",
            &pg,
            "--account",
            &account,
            "--store-outage",
            "refuse-all",
        ],
        Some(a.ca.clone()),
    )
    .await;
    assert!(
        !b.gateway.dir.join("fleet-ca.key").exists(),
        "the second node made no CA"
    );
    // Registered through node A, seen by node B.
    let one = a.active_device("one");
    assert!(
        eventually_async(LIVE, || async {
            b.connack(&one, Version::V4).await == Some(0)
        })
        .await,
        "node B connects a device registered on node A"
    );
    // A revocation on A closes the session on B.
    let mut on_b = b.connect(&one, Version::V5).await;
    blocking(|| {
        a.registry()
            .update_certificate(&one.id, CertificateStatus::Revoked, Timestamp::now())
    })
    .unwrap();
    assert!(
        on_b.closed_within(LIVE).await,
        "closed on the other node through the feed"
    );
    // The outage.
    let known = a.active_device("known");
    assert!(
        eventually_async(LIVE, || async {
            b.connack(&known, Version::V4).await == Some(0)
        })
        .await
    );
    assert_eq!(a.connack(&known, Version::V4).await, Some(0));
    let newcomer = Device::issue(&a.ca, "newcomer").unwrap();
    assert!(sh(&stop).await, "PostgreSQL stopped");
    let outage = async {
        assert!(
            eventually(LIVE, || !b.registry().store_available()
                && !a.registry().store_available())
            .await,
            "both nodes notice the outage"
        );
        assert_eq!(
            a.connack(&known, Version::V4).await,
            Some(0),
            "allow-known: a known device connects"
        );
        assert_eq!(
            b.connack(&known, Version::V4).await,
            Some(5),
            "refuse-all: refused"
        );
        assert_eq!(
            a.connack(&newcomer, Version::V4).await,
            Some(5),
            "a new device: STORE_UNAVAILABLE"
        );
    };
    let result = tokio::time::timeout(Duration::from_secs(60), outage).await;
    assert!(sh(&start).await, "PostgreSQL started again");
    result.expect("the outage checks finished");
    assert!(
        eventually_async(Duration::from_secs(30), || async {
            b.connack(&known, Version::V4).await == Some(0)
        })
        .await,
        "node B resumes"
    );
    assert!(
        blocking(|| a.registry().describe_certificate(&newcomer.id)).is_err(),
        "nothing was registered during the outage"
    );
    assert_eq!(a.connack(&newcomer, Version::V4).await, Some(5));
    assert_eq!(
        blocking(|| a.registry().describe_certificate(&newcomer.id))
            .unwrap()
            .status,
        CertificateStatus::PendingActivation,
        "registered once the store is back"
    );
    a.stop().await;
    b.stop().await;
}

/// Runs `command` with `sh -c`; whether it succeeded.
async fn sh(command: &str) -> bool {
    tokio::process::Command::new("sh")
        .args(["-c", command])
        .status()
        .await
        .unwrap()
        .success()
}

/// AWS IoT policies on every packet: iot:Connect on the client id, iot:Publish and
/// iot:RetainPublish, iot:Subscribe per filter, iot:Receive per delivery; and a session
/// whose policies stop allowing iot:Connect (detached, or a new default version) is
/// closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_are_enforced_on_every_packet_and_their_changes_close_sessions() {
    let env = Env::start("policies", &["--store", "memory:"]).await;
    let reg = env.registry().clone();
    let now = Timestamp::now();
    let d = Device::issue(&env.ca, "restricted").unwrap();
    let arn = blocking(|| {
        let r = reg
            .register_certificate(
                &jitr_core::RegisterCertificateRequest {
                    certificate_pem: jitr_core::Certificate::from_der(&d.chain[0])
                        .unwrap()
                        .to_pem(),
                    ca_certificate_pem: Some(env.ca.certificate_pem()),
                    status: Some(CertificateStatus::Active),
                },
                now,
            )
            .unwrap();
        r.certificate_arn
    });
    let doc = |connect: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/{connect}"}},
            {{"Effect":"Allow","Action":"iot:Publish","Resource":["arn:aws:iot:us-east-1:123456789012:topic/pub/*","arn:aws:iot:us-east-1:123456789012:topic/cert/${{iot:CertificateId}}"]}},
            {{"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:123456789012:topicfilter/recv/#"}},
            {{"Effect":"Allow","Action":"iot:Receive","Resource":"arn:aws:iot:us-east-1:123456789012:topic/recv/ok"}}]}}"#
        )
    };
    blocking(|| {
        reg.create_policy("Restricted", &doc("${iot:Connection.Thing.ThingName}"), now)
            .unwrap();
        reg.create_policy_version("Restricted", &doc(&d.client_id()), true, now)
            .unwrap();
        reg.attach_policy("Restricted", &arn).unwrap();
    });
    // iot:Connect on the client id.
    let config = client::tls_config(&env.server_ca, &d).unwrap();
    for (v, code) in [(Version::V4, 5), (Version::V5, 0x87)] {
        let r = client::connect(env.addr(), HOST, config.clone(), "someone-else", v)
            .await
            .unwrap();
        assert!(
            matches!(r, Connected::Connack(c, None) if c == code),
            "wrong client id: refused"
        );
    }
    let mut c = env.connect(&d, Version::V5).await;
    // iot:Subscribe per filter.
    assert_eq!(
        c.subscribe(&["recv/#", "other/#"]).await.unwrap(),
        vec![1, 0x87]
    );
    // iot:Publish, and iot:RetainPublish for a retained message.
    // (0x10: "no matching subscribers", a success code of MQTT 5 from mosquitto.)
    let r = c.publish("pub/a", b"x", false).await.unwrap();
    assert!(matches!(r, Published::Acked(0 | 0x10)), "{r:?}");
    // iot:CertificateId: the certificate's own topic only.
    let r = c
        .publish(&format!("cert/{}", d.id), b"x", false)
        .await
        .unwrap();
    assert!(matches!(r, Published::Acked(0 | 0x10)), "{r:?}");
    // Denied: another certificate's topic, a retained message where iot:RetainPublish is
    // not allowed, a topic the policy does not let it publish on.
    let ca_topic = format!(
        "cert/{}",
        jitr_core::CertificateId::of_der(env.ca.certificate().der())
    );
    for (topic, retain) in [
        (ca_topic.as_str(), false),
        ("pub/a", true),
        ("recv/ok", false),
    ] {
        assert_eq!(
            c.publish(topic, b"x", retain).await.unwrap(),
            Published::Acked(0x87),
            "{topic}, retain {retain}"
        );
    }
    // iot:Receive per delivery: another device publishes on both topics.
    let (_, mut o) = env.connected_device("publisher", Version::V4).await;
    for (topic, payload) in [("recv/denied", &b"no"[..]), ("recv/ok", b"yes")] {
        assert_eq!(
            o.publish(topic, payload, false).await.unwrap(),
            Published::Acked(0),
            "{topic}"
        );
    }
    let got = c
        .receive("recv/ok", LIVE)
        .await
        .expect("the allowed delivery");
    assert_eq!(&got.1[..], b"yes");
    assert!(
        c.inbox.iter().all(|(t, _)| t != "recv/denied"),
        "the denied delivery was withheld (it was published first)"
    );
    // A new default version that no longer allows this client id: closed.
    blocking(|| reg.create_policy_version("Restricted", &doc("nobody"), true, Timestamp::now()))
        .unwrap();
    assert!(
        c.closed_within(LIVE).await,
        "closed when iot:Connect is no longer allowed"
    );
    // Back, then detached: closed again.
    blocking(|| reg.set_default_policy_version("Restricted", "2", Timestamp::now())).unwrap();
    let mut c = env.connect(&d, Version::V4).await;
    blocking(|| reg.detach_policy("Restricted", &arn)).unwrap();
    assert!(
        c.closed_within(LIVE).await,
        "closed when the policy is detached"
    );
    assert_eq!(env.connack(&d, Version::V4).await, Some(5));
    env.stop().await;
}
