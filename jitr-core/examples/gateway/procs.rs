//! Child processes the story, the tests and the benchmark start: the gateway itself
//! (this program with `--listen`) and mosquitto's command-line clients.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::Error;

/// A gateway running as a child process.
pub(crate) struct GatewayProcess {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    /// The metrics and DeleteConnection endpoint.
    #[allow(dead_code)]
    pub(crate) admin: SocketAddr,
}

impl GatewayProcess {
    /// Starts `gateway --listen 127.0.0.1:PORT --dir DIR --broker BROKER EXTRA...` (port 0:
    /// any), its log appended to `log`, and waits for its address.
    pub(crate) async fn start(
        dir: &Path,
        port: u16,
        broker: &str,
        extra: &[&str],
        log: &Path,
    ) -> Result<Self, Error> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut child = Command::new(gateway_exe()?)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--dir")
            .arg(dir)
            .args(["--broker", broker])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let read_two = async {
            let mut addr = None;
            let mut admin = None;
            while let Some(line) = lines.next_line().await? {
                if let Some(a) = line.strip_prefix("jitr-gateway listening on ") {
                    addr = Some(a.parse::<SocketAddr>()?);
                } else if let Some(a) = line.strip_prefix("jitr-gateway admin on ") {
                    admin = Some(a.parse::<SocketAddr>()?);
                }
                if let (Some(addr), Some(admin)) = (addr, admin) {
                    return Ok::<_, Error>((addr, admin));
                }
            }
            Err("the gateway exited before listening".into())
        };
        let (addr, admin) = match tokio::time::timeout(Duration::from_secs(60), read_two).await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("{e}; its log:\n{log}").into());
            }
            Err(_) => return Err("the gateway did not start within 60 s".into()),
        };
        // Keep reading its stdout so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, addr, admin })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGTERM, then waits for the exit (SIGKILL after 10 s).
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }

    /// SIGKILL: the process dies at once, wherever it is.
    #[cfg(test)]
    pub(crate) async fn kill9(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `mosquitto_sub` on the broker (plain MQTT): every message on `filters`, as
/// `topic payload` lines.
pub(crate) struct Watcher {
    _child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Watcher {
    pub(crate) async fn start(broker: &str, filters: &[&str]) -> Result<Self, Error> {
        let (host, port) = broker.rsplit_once(':').ok_or("broker is not HOST:PORT")?;
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args([
            "-h",
            host,
            "-p",
            port,
            "-v",
            "-q",
            "1",
            "-i",
            "jitr-story-watcher",
        ]);
        for f in filters {
            cmd.args(["-t", f]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("mosquitto_sub: {e} (apt-get install mosquitto-clients)"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut l = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = l.next_line().await {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        // mosquitto_sub subscribes right after it connects; give it that moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Self {
            _child: child,
            lines,
            seen: Vec::new(),
        })
    }

    /// Waits up to `within` for a line starting with `topic `; returns its payload.
    pub(crate) async fn wait_for(&mut self, topic: &str, within: Duration) -> Option<String> {
        let prefix = format!("{topic} ");
        if let Some(i) = self.seen.iter().position(|l| l.starts_with(&prefix)) {
            return Some(self.seen.remove(i)[prefix.len()..].to_owned());
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.lines.recv()).await {
                Ok(Some(line)) if line.starts_with(&prefix) => {
                    return Some(line[prefix.len()..].to_owned())
                }
                Ok(Some(line)) => self.seen.push(line),
                _ => return None,
            }
        }
    }
}

/// The gateway program: this one, or (in the tests, whose binary is
/// `examples/gateway-<hash>`) `JITR_GATEWAY_BIN` or the `examples/gateway` beside it.
pub(crate) fn gateway_exe() -> Result<std::path::PathBuf, Error> {
    if let Some(p) = std::env::var_os("JITR_GATEWAY_BIN") {
        return Ok(p.into());
    }
    let me = std::env::current_exe()?;
    let is_test = me
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("gateway-"));
    Ok(if is_test {
        me.with_file_name("gateway")
    } else {
        me
    })
}

/// The CAs a gateway made in its directory `dir`: its fleet CA (certificate and key) and
/// its server's CA (PEM), as a device's maker or an operator reads them.
pub(crate) fn gateway_cas(
    dir: &Path,
) -> Result<(jitr_core::tooling::GeneratedCertificate, String), Error> {
    let fleet_ca = jitr_core::tooling::GeneratedCertificate::from_pem(
        &std::fs::read_to_string(dir.join("fleet-ca.pem"))?,
        &std::fs::read_to_string(dir.join("fleet-ca.key"))?,
    )?;
    let server_ca = std::fs::read_to_string(dir.join("server-ca.pem"))?;
    Ok((fleet_ca, server_ca))
}

/// The registry of the fleet a gateway keeps in `dir` (its SQLite store), opened as
/// another process (the operator's tooling) opens it.
pub(crate) fn fleet_registry(dir: &Path) -> Result<jitr_core::Registry, Error> {
    let store = jitr_core::Store::open(&format!("sqlite://{}", dir.join("fleet.db").display()))?;
    Ok(jitr_core::Registry::open(
        jitr_core::Scope::new("123456789012", "us-east-1")?,
        jitr_core::RegistryConfig::default(),
        &store,
    )?)
}
