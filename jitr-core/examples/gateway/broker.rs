//! Starts Debian's mosquitto as the upstream broker: plain MQTT on a free loopback
//! port, anonymous (the gateway is its only door), no persistence, TCP_NODELAY.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// A running mosquitto, stopped when dropped.
#[derive(Debug)]
pub(crate) struct Mosquitto {
    child: Child,
    pub(crate) port: u16,
}

impl Mosquitto {
    /// `host:port` for clients.
    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts mosquitto with a config file written in `dir`, on `port` (a free one when
    /// `None`), and waits until it accepts connections.
    pub(crate) fn start(dir: &Path, port: Option<u16>) -> Result<Self, Error> {
        let binary = binary()?;
        let port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        let config = dir.join(format!("mosquitto-{port}.conf"));
        std::fs::write(
            &config,
            format!(
                "# Written by the jitr gateway: the upstream broker on loopback only.\n\
                 listener {port} 127.0.0.1\n\
                 allow_anonymous true\n\
                 persistence false\n\
                 set_tcp_nodelay true\n\
                 max_keepalive 1200\n\
                 log_dest stderr\n\
                 log_type error\n\
                 log_type warning\n"
            ),
        )?;
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut m = Self { child, port };
        m.wait_ready()?;
        Ok(m)
    }

    fn wait_ready(&mut self) -> Result<(), Error> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("mosquitto exited at start ({status})").into());
            }
            if Instant::now() > deadline {
                return Err("mosquitto did not accept connections within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it.
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Debian's mosquitto: on `PATH` or in `/usr/sbin`.
pub(crate) fn binary() -> Result<PathBuf, Error> {
    for candidate in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"] {
        if Path::new(candidate).exists() {
            return Ok(candidate.into());
        }
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("mosquitto"))
                .find(|p| p.exists())
        })
        .ok_or_else(|| {
            "mosquitto is not installed: apt-get install -y --no-install-recommends mosquitto mosquitto-clients (scripts/demo.sh does it)".into()
        })
}

/// A loopback port nothing listens on now.
pub(crate) fn free_port() -> Result<u16, Error> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
