//! Helpers for the gateway's tests: a directory, mosquitto, a gateway in this process or
//! as a child, devices registered `ACTIVE` with a policy.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use jitr_core::tooling::GeneratedCertificate;
use jitr_core::{CertificateStatus, RegisterCertificateRequest, Registry, Timestamp};

use crate::broker::Mosquitto;
use crate::client::{self, Connected, Device};
use crate::mqtt::Version;
use crate::state::HOST;
use crate::{Args, Running};

/// A fresh directory under the test temp root.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    jitr_testkit::tmp::fresh_dir(&format!("jitr-gateway-{name}"))
}

/// A policy that allows every action of the tests' devices.
pub(crate) const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#;

/// mosquitto and a gateway in this process.
pub(crate) struct Env {
    pub(crate) dir: PathBuf,
    pub(crate) broker: Mosquitto,
    pub(crate) gateway: Running,
    pub(crate) ca: GeneratedCertificate,
    pub(crate) server_ca: String,
}

impl Env {
    /// Starts mosquitto and a gateway (no handler) with these extra arguments.
    pub(crate) async fn start(name: &str, extra: &[&str]) -> Self {
        Self::start_with(name, extra, None).await
    }

    /// Starts mosquitto and a gateway; `ca`: the fleet CA when another node made it (a
    /// gateway on a store whose account has a CA makes none).
    pub(crate) async fn start_with(
        name: &str,
        extra: &[&str],
        ca: Option<GeneratedCertificate>,
    ) -> Self {
        crate::init_test_logging();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = temp_dir(name);
        let broker = Mosquitto::start(&dir, None).unwrap();
        let gw_dir = dir.join("gateway");
        let mut argv: Vec<String> = [
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--dir",
            gw_dir.to_str().unwrap(),
            "--broker",
            &broker.addr(),
            "--no-handler",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        argv.extend(extra.iter().map(|s| s.to_string()));
        let args = Args::parse_from(argv);
        let gateway = crate::start(&args).await.unwrap();
        let ca = ca.unwrap_or_else(|| {
            GeneratedCertificate::from_pem(
                &std::fs::read_to_string(gw_dir.join("fleet-ca.pem")).unwrap(),
                &std::fs::read_to_string(gw_dir.join("fleet-ca.key")).unwrap(),
            )
            .unwrap()
        });
        let server_ca = std::fs::read_to_string(gw_dir.join("server-ca.pem")).unwrap();
        Self {
            dir,
            broker,
            gateway,
            ca,
            server_ca,
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.gateway.addr
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.gateway.registry
    }

    /// A new device, registered `ACTIVE` with the allow-all policy attached.
    pub(crate) fn active_device(&self, name: &str) -> Device {
        let d = Device::issue(&self.ca, name).unwrap();
        tokio::task::block_in_place(|| activate(self.registry(), &self.ca, &d));
        d
    }

    /// A new device, registered `ACTIVE` with the allow-all policy attached, connected
    /// in `v` (see [`Env::active_device`] and [`Env::connect`]).
    pub(crate) async fn connected_device(
        &self,
        name: &str,
        v: Version,
    ) -> (
        Device,
        client::Client<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
    ) {
        let d = self.active_device(name);
        let c = self.connect(&d, v).await;
        (d, c)
    }

    /// A TLS connection as `d`, before any MQTT (for tests that write raw bytes).
    pub(crate) async fn tls(
        &self,
        d: &Device,
    ) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        let config = client::tls_config(&self.server_ca, d).unwrap();
        tokio_rustls::TlsConnector::from(config)
            .connect(
                rustls::pki_types::ServerName::try_from(HOST).unwrap(),
                tokio::net::TcpStream::connect(self.addr()).await.unwrap(),
            )
            .await
            .unwrap()
    }

    /// Connects a device with its certificate id as client id; panics unless CONNACK 0.
    pub(crate) async fn connect(
        &self,
        d: &Device,
        v: Version,
    ) -> client::Client<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let config = client::tls_config(&self.server_ca, d).unwrap();
        match client::connect(self.addr(), HOST, config, &d.client_id(), v)
            .await
            .unwrap()
        {
            Connected::Connack(0, Some(c)) => c,
            Connected::Connack(code, _) => panic!("CONNACK {code}"),
            Connected::TlsRefused(e) => panic!("TLS refused: {e}"),
        }
    }

    /// The CONNACK code of one connection attempt, or `None` when TLS refused it.
    pub(crate) async fn connack(&self, d: &Device, v: Version) -> Option<u8> {
        let config = client::tls_config(&self.server_ca, d).unwrap();
        match client::connect(self.addr(), HOST, config, &d.client_id(), v)
            .await
            .unwrap()
        {
            Connected::Connack(code, c) => {
                if let Some(c) = c {
                    c.disconnect().await;
                }
                Some(code)
            }
            Connected::TlsRefused(_) => None,
        }
    }

    pub(crate) async fn stop(self) {
        self.gateway.shutdown().await;
        drop(self.broker);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Registers the device `ACTIVE` and attaches the allow-all policy.
pub(crate) fn activate(registry: &Registry, ca: &GeneratedCertificate, d: &Device) {
    let now = Timestamp::now();
    let pem = jitr_core::Certificate::from_der(&d.chain[0])
        .unwrap()
        .to_pem();
    let r = registry
        .register_certificate(
            &RegisterCertificateRequest {
                certificate_pem: pem,
                ca_certificate_pem: Some(ca.certificate_pem()),
                status: Some(CertificateStatus::Active),
            },
            now,
        )
        .unwrap();
    if registry.get_policy("AllowAll").is_err() {
        let _ = registry.create_policy("AllowAll", ALLOW_ALL, now);
    }
    registry
        .attach_policy("AllowAll", &r.certificate_arn)
        .unwrap();
}

/// Polls `f` every 20 ms until it holds; false after `within`. (`f` may call the
/// registry: PostgreSQL's client blocks, so it runs outside the runtime's scheduling.)
pub(crate) async fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if tokio::task::block_in_place(&mut f) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::task::block_in_place(f)
}

/// Runs a blocking call (the registry on PostgreSQL) from a test's async code.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}
