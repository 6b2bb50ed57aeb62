//! jitr's gateway: an MQTT front door that does Just-in-Time Registration as AWS IoT
//! Core does, in front of a real MQTT broker.
//!
//! ```text
//! cargo run --release -p jitr-core --all-features --example gateway       # the story, in one command
//! cargo run --release -p jitr-core --all-features --example gateway -- \
//!     --listen 127.0.0.1:8883 --dir ./gw [--broker HOST:PORT] [--store URL] [--no-handler]
//! cargo run --release -p jitr-core --all-features --example gateway -- \
//!     --handler --broker HOST:PORT --store URL                            # the activation handler alone
//! ```
//!
//! - **The story** (no arguments): starts mosquitto, the gateway on a SQLite store and the
//!   activation handler as a separate process subscribed to the registration events, then
//!   drives real MQTT clients through every step of JITR and of AWS IoT's policies; exits
//!   0 when every step behaved (`story.rs`).
//! - **`--listen`**: the long-lived server (`server.rs`, `proxy.rs`). TLS with the JITR
//!   verifier (SNI picks the account), the decision at CONNECT as AWS makes it, policies
//!   enforced on every packet, registration events published to the broker, live
//!   sessions closed when their certificate or policies change (`sessions.rs`), state in
//!   `--dir` (`state.rs`), logs on stderr and Prometheus metrics plus AWS's
//!   DeleteConnection on `--admin` (`admin.rs`).
//! - **`--handler`**: the activation handler process (`handler.rs`).

mod admin;
mod bench;
mod broker;
mod client;
mod events;
mod handler;
mod mqtt;
mod policy;
mod procs;
mod proxy;
mod server;
mod sessions;
mod state;
mod story;
mod tls;
mod tls_io;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use jitr_core::verifier::{JitrClientVerifier, Mode};
use jitr_core::{Directory, Registry, RegistryConfig, Scope, Store, StoreOutage};
use tokio::sync::watch;

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

/// A policy that allows every action: what the tests and the benchmark attach to their
/// known devices.
pub(crate) const ALLOW_ALL_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#;

/// The command line.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "gateway",
    about = "jitr's gateway: JITR and AWS IoT policies in front of an MQTT broker. Without arguments, runs the story."
)]
pub(crate) struct Args {
    /// Run the long-lived server on this address (e.g. 127.0.0.1:8883).
    #[arg(long, value_name = "ADDR", conflicts_with = "handler")]
    pub(crate) listen: Option<SocketAddr>,
    /// The gateway's directory: lock, TLS identity, fleet CA, and the SQLite store unless
    /// --store names another. Reused when it exists; nothing in it is overwritten.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
    /// The upstream MQTT broker (plain TCP). Without it, the gateway starts its own
    /// mosquitto on a free loopback port.
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) broker: Option<String>,
    /// The store: sqlite:///path or postgresql://user@host:port/db (default: SQLite in
    /// --dir).
    #[arg(long, value_name = "URL")]
    pub(crate) store: Option<String>,
    /// Do not start the activation handler: an operator (or another process on the same
    /// store) activates certificates.
    #[arg(long)]
    pub(crate) no_handler: bool,
    /// Run as the activation handler: subscribe to the registration events on --broker
    /// and activate on --store.
    #[arg(long)]
    pub(crate) handler: bool,
    /// (With --handler) exit when standard input closes: how a gateway ties the handler
    /// it starts to its own life.
    #[arg(long, hide = true)]
    pub(crate) exit_on_stdin_eof: bool,
    /// The metrics and DeleteConnection endpoint (default: a free loopback port).
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin: Option<SocketAddr>,
    /// Where the JITR decision is made: at the MQTT CONNECT, as AWS does ("connect"), or
    /// during the TLS handshake ("handshake").
    #[arg(long, value_name = "WHEN", default_value = "connect")]
    pub(crate) decide_at: String,
    /// The TLS handshake's deadline, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub(crate) handshake_timeout: f64,
    /// The deadline for the MQTT CONNECT after the handshake, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub(crate) connect_timeout: f64,
    /// The most connections open at once (default: from the file descriptor limit).
    #[arg(long, value_name = "N")]
    pub(crate) max_connections: Option<usize>,
    /// While the store is unreachable: "allow-known" (ACTIVE certificates still connect)
    /// or "refuse-all".
    #[arg(long, value_name = "RULE", default_value = "allow-known")]
    pub(crate) store_outage: String,
    /// The AWS account the gateway serves.
    #[arg(long, default_value = "123456789012")]
    pub(crate) account: String,
    /// The AWS region.
    #[arg(long, default_value = "us-east-1")]
    pub(crate) region: String,
    /// Run the benchmark (scripts/bench-gateway.sh runs it on a release build).
    #[arg(long, conflicts_with_all = ["handler", "listen"])]
    pub(crate) bench: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
}

fn main() {
    let args = Args::parse();
    init_logging();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    };
    let result = rt.block_on(async move {
        if args.handler {
            let broker = args
                .broker
                .as_deref()
                .ok_or("--handler needs --broker HOST:PORT")?;
            let store = args.store.as_deref().ok_or("--handler needs --store URL")?;
            handler::run(broker, store, &args.region, args.exit_on_stdin_eof).await
        } else if args.bench {
            bench::run().await
        } else if args.listen.is_some() {
            listen(args).await
        } else {
            story::run().await
        }
    });
    if let Err(e) = result {
        fail(&e.to_string());
    }
}

fn fail(message: &str) -> ! {
    eprintln!("gateway: {message}");
    std::process::exit(1);
}

/// Logs for the tests: warnings and errors on stderr (shown for failing tests).
#[cfg(test)]
pub(crate) fn init_test_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JITR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

/// A gateway that runs: what `--listen` and the tests start.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) admin: SocketAddr,
    pub(crate) registry: Arc<Registry>,
    pub(crate) sessions: Arc<sessions::Sessions>,
    pub(crate) broker: String,
    pub(crate) dir: PathBuf,
    pub(crate) store_url: String,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    _lock: state::DirLock,
    _mosquitto: Option<broker::Mosquitto>,
    handler: Option<Child>,
}

impl Running {
    /// Stops accepting, closes every session and waits for the accept loop.
    pub(crate) async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        self.sessions.close_all(sessions::CloseReason::Shutdown);
        let _ = (&mut self.server).await;
        if let Some(mut h) = self.handler.take() {
            let _ = h.kill();
            let _ = h.wait();
        }
        self.registry.close();
    }
}

/// Starts a gateway: binds first (a busy port stops here), locks the directory, then
/// opens the store and the TLS identity.
pub(crate) async fn start(args: &Args) -> Result<Running, Error> {
    let listen = args.listen.ok_or("--listen ADDR is required")?;
    let dir = args.dir.clone().ok_or("--listen needs --dir DIR")?;
    let listener = server::bind(listen)?;
    let admin_listener = tokio::net::TcpListener::bind(
        args.admin
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
    )
    .await
    .map_err(|e| format!("cannot listen for the admin endpoint: {e}"))?;
    let lock = state::lock(&dir)?;
    let dir = lock.dir.clone();
    let mode = match args.decide_at.as_str() {
        "connect" => Mode::Protocol,
        "handshake" => Mode::Handshake,
        other => return Err(format!("--decide-at {other:?}: connect or handshake").into()),
    };
    let mut config = RegistryConfig::default();
    config.store_outage = match args.store_outage.as_str() {
        "allow-known" => StoreOutage::AllowKnown,
        "refuse-all" => StoreOutage::RefuseAll,
        other => return Err(format!("--store-outage {other:?}: allow-known or refuse-all").into()),
    };
    let mosquitto = match &args.broker {
        Some(_) => None,
        None => Some(broker::Mosquitto::start(&dir, None)?),
    };
    let broker = match (&args.broker, &mosquitto) {
        (Some(b), _) => b.clone(),
        (None, Some(m)) => m.addr(),
        (None, None) => unreachable!("a broker is started when none is given"),
    };
    let store_url = args
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("fleet.db").display()));
    let store = tokio::task::block_in_place(|| Store::open(&store_url))
        .map_err(|e| format!("the store: {}", e.message()))?;
    let scope = Scope::new(&args.account, &args.region).map_err(|e| e.message())?;
    let mut directory = Directory::with_store(store);
    let registry = tokio::task::block_in_place(|| {
        directory.add_account(scope, config, &[state::HOST, "localhost"])
    })
    .map_err(|e| format!("opening the account: {}", e.message()))?;
    directory.set_default_account(&registry);
    let directory = Arc::new(directory);
    tokio::task::block_in_place(|| state::fleet_ca(&dir, &registry))?;
    let identity = state::server_identity(&dir)?;
    let verifier = JitrClientVerifier::builder(directory.clone())
        .mode(mode)
        .build()?;
    let sessions = Arc::new(sessions::Sessions::default());
    for account in directory.accounts() {
        sessions::follow(sessions.clone(), account.clone());
    }
    let metrics = metrics_handle();
    let addr = listener.local_addr()?;
    let admin = admin_listener.local_addr()?;
    tokio::spawn(admin::serve(admin_listener, metrics, sessions.clone()));
    let gw = Arc::new(server::Gateway {
        config: server::Config {
            broker: broker.clone(),
            mode,
            handshake_timeout: Duration::from_secs_f64(args.handshake_timeout),
            connect_timeout: Duration::from_secs_f64(args.connect_timeout),
            max_connections: args
                .max_connections
                .unwrap_or_else(server::default_max_connections),
        },
        directory,
        verifier,
        certs: Arc::new(tls::FixedCert(identity.key)),
        configs: tls::Configs::default(),
        sessions: sessions.clone(),
    });
    let (stop, stopped) = watch::channel(false);
    let server = tokio::spawn(server::run(gw, listener, stopped));
    let handler = if args.no_handler {
        None
    } else {
        Some(spawn_handler(&broker, &store_url, &args.region)?)
    };
    Ok(Running {
        addr,
        admin,
        registry,
        sessions,
        broker,
        dir,
        store_url,
        stop,
        server,
        _lock: lock,
        _mosquitto: mosquitto,
        handler,
    })
}

/// The process-wide Prometheus recorder (installed once).
fn metrics_handle() -> metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Starts the activation handler as a separate process: this program with `--handler`,
/// tied to this process's life by its standard input.
pub(crate) fn spawn_handler(broker: &str, store_url: &str, region: &str) -> Result<Child, Error> {
    let exe = std::env::current_exe()?;
    Ok(Command::new(exe)
        .args([
            "--handler",
            "--exit-on-stdin-eof",
            "--broker",
            broker,
            "--store",
            store_url,
        ])
        .args(["--region", region])
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()?)
}

/// `--listen`: runs until SIGINT or SIGTERM.
async fn listen(args: Args) -> Result<(), Error> {
    let running = start(&args).await?;
    print_instructions(&running);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

fn print_instructions(r: &Running) {
    let d = r.dir.display();
    let port = r.addr.port();
    let host = match r.addr.ip() {
        ip if ip.is_unspecified() || ip.is_loopback() => "localhost".to_string(),
        ip => ip.to_string(),
    };
    // The first two lines are for programs that start the gateway (the story, the tests).
    println!("jitr-gateway listening on {}", r.addr);
    println!("jitr-gateway admin on {}", r.admin);
    let pub_cmd = format!(
        "mosquitto_pub -h {host} -p {port} --cafile {d}/server-ca.pem --cert {d}/device-chain.pem --key {d}/device.key -i $ID -t foo/bar/$ID/hello -m hi"
    );
    println!(
        "\nThe gateway listens on {addr} (TLS; MQTT 3.1.1 and 5), in front of the broker at {broker}.\n\
         State: {d} (store {store}). Metrics: {metrics}.\n\
         DeleteConnection: curl -X DELETE 'http://{admin}/connections/CLIENT_ID?cleanSession=false&preventWillMessage=false'\n\
         \n\
         Issue a device certificate with the fleet CA:\n\
         \n  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {d}/device.key -subj /CN=device-1 -out {d}/device.csr\n\
         \x20 openssl x509 -req -in {d}/device.csr -CA {d}/fleet-ca.pem -CAkey {d}/fleet-ca.key -days 365 -out {d}/device.pem\n\
         \x20 cat {d}/device.pem {d}/fleet-ca.pem > {d}/device-chain.pem\n\
         \x20 ID=$(openssl x509 -in {d}/device.pem -outform DER | sha256sum | cut -d' ' -f1)\n\
         \n\
         In another terminal, watch the broker: the registration event, then the device's message:\n\
         \n  mosquitto_sub -h {bhost} -p {bport} -t '$aws/events/#' -t 'foo/bar/#' -v\n\
         \n\
         Connect. The first time registers the certificate: refused (\"not authorised\", CONNACK 5) and its event\n\
         published; the activation handler activates it and attaches AWS's sample policy (client id $ID, topics\n\
         foo/bar/$ID/*). The second time, the message goes through to the broker:\n\
         \n  {pub_cmd}\n\
         \x20 sleep 2; {pub_cmd}\n",
        addr = r.addr,
        broker = r.broker,
        store = redact(&r.store_url),
        metrics = admin::describe(r.admin),
        admin = r.admin,
        bhost = r.broker.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h),
        bport = r.broker.rsplit_once(':').map_or("1883", |(_, p)| p),
    );
}

/// A store URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
