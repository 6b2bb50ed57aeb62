//! `gateway --bench`: the gateway's benchmark (not a test), run by
//! `scripts/bench-gateway.sh` on a release build. In one run, on 127.0.0.1:
//!
//! 1. connections per second and p99 CONNECT latency (TCP connect to CONNACK) for known
//!    devices at concurrency 1, 16, 64 and 256, through the gateway (a child process,
//!    SQLite store, proxying to mosquitto) and to mosquitto's own TLS listener with
//!    `require_certificate true` and the same device certificates; CPU per connection of
//!    each server process from `/proc/<pid>/stat` (the gateway's includes its upstream
//!    leg; the upstream mosquitto's is shown beside it), and this process's (the load
//!    generator: it shares the machine's cores with the servers, so on a small machine it
//!    bounds the rate either server can show);
//! 2. RSS per idle connection of the gateway (as many idle devices as its file descriptor
//!    limit allows: each holds two descriptors);
//! 3. eviction latency: revocation committed by another process on the same SQLite
//!    store → the device sees its connection closed, p50 and p99;
//! 4. policy checks on PUBLISH: publishes per second through the proxy (one
//!    `iot:Publish` check each), and the compiled check alone in this process.
//!
//! On a machine of 4 cores or more the servers run on half the cores and the load
//! generator on the other half (`JITR_BENCH_SPLIT=1` splits 2 cores as well).
//!
//! Every loop is bounded in count and time.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jitr_core::{CertificateStatus, Timestamp};

use crate::broker::{free_port, Mosquitto};
use crate::client::{self, Connected, Device};
use crate::mqtt::Version;
use crate::procs::{fleet_registry, gateway_cas, GatewayProcess};
use crate::state::HOST;
use crate::Error;

const CONCURRENCY: [usize; 4] = [1, 16, 64, 256];
/// How long each (target, concurrency) point runs.
const POINT: Duration = Duration::from_secs(6);

/// CPU time of a process (user + system), from `/proc/<pid>/stat`.
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 (1-based); rest starts at field 3.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One point: `c` workers connecting and disconnecting for [`POINT`].
struct Point {
    connections: u64,
    errors: u64,
    rate: f64,
    p99: Duration,
    cpu_per_conn: Duration,
    upstream_cpu_per_conn: Option<Duration>,
    /// This process's CPU per connection: the load generator shares the machine.
    client_cpu_per_conn: Duration,
}

async fn run_point(
    addr: std::net::SocketAddr,
    server_ca: &str,
    devices: &[Device],
    c: usize,
    server_pid: u32,
    upstream_pid: Option<u32>,
) -> Result<Point, Error> {
    let configs: Vec<_> = devices
        .iter()
        .map(|d| client::tls_config(server_ca, d).map(|cfg| (cfg, d.client_id())))
        .collect::<Result<_, _>>()?;
    let configs = Arc::new(configs);
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let cpu0 = cpu(server_pid);
    let up0 = upstream_pid.map(cpu);
    let client0 = cpu(std::process::id());
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..c {
        let (configs, stop, next, errors) =
            (configs.clone(), stop.clone(), next.clone(), errors.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                let i = n % configs.len();
                let (cfg, id) = &configs[i];
                // A client id of its own per attempt: two workers on one device must not
                // take over each other's session.
                let cid = format!("{id}-{}", n / configs.len());
                let t = Instant::now();
                let r = tokio::time::timeout(
                    Duration::from_secs(30),
                    client::connect(addr, HOST, cfg.clone(), &cid, Version::V4),
                )
                .await;
                match r {
                    Ok(Ok(Connected::Connack(0, Some(cl)))) => {
                        lat.push(t.elapsed());
                        cl.disconnect().await;
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        });
    }
    tokio::time::sleep(POINT).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    while let Some(r) = tasks.join_next().await {
        lat.extend(r?);
    }
    let wall = start.elapsed();
    // Let the servers finish closing what the workers left.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let used = cpu(server_pid).saturating_sub(cpu0);
    let client_used = cpu(std::process::id()).saturating_sub(client0);
    lat.sort();
    let n = lat.len() as u64;
    Ok(Point {
        connections: n,
        errors: errors.load(Ordering::Relaxed),
        rate: n as f64 / wall.as_secs_f64(),
        p99: percentile(&lat, 0.99),
        cpu_per_conn: used / (n.max(1) as u32),
        client_cpu_per_conn: client_used / (n.max(1) as u32),
        upstream_cpu_per_conn: upstream_pid
            .zip(up0)
            .map(|(pid, c0)| cpu(pid).saturating_sub(c0) / (n.max(1) as u32)),
    })
}

fn mosquitto_tls(dir: &Path, gw_dir: &Path) -> Result<(tokio::process::Child, u16), Error> {
    let port = free_port()?;
    let conf = dir.join("mosquitto-tls.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\n\
             cafile {ca}\ncertfile {cert}\nkeyfile {key}\n\
             require_certificate true\nuse_identity_as_username true\n\
             # Run as root, mosquitto drops to its own user, which cannot read the 0600 key.\n\
             user {user}\n\
             allow_anonymous false\npersistence false\nset_tcp_nodelay true\n\
             max_keepalive 1200\nlog_dest stderr\nlog_type error\n",
            ca = gw_dir.join("fleet-ca.pem").display(),
            cert = gw_dir.join("server.pem").display(),
            key = gw_dir.join("server.key").display(),
            user = std::env::var("USER").unwrap_or_else(|_| "root".into()),
        ),
    )?;
    let child = tokio::process::Command::new(crate::broker::binary()?)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("mosquitto's TLS listener did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((child, port))
}

/// Runs the benchmark and prints its table.
pub(crate) async fn run() -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("jitr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = bench(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench(dir: &Path) -> Result<(), Error> {
    // Every server is started while this process runs on the servers' cores (a process
    // starts on its parent's); the load generator moves to its own cores after.
    let cores = num_cpus();
    let split = split_cores();
    if let Some((servers, _)) = &split {
        pin_self(servers)?;
    }
    let upstream = Mosquitto::start(dir, None)?;
    let gw_dir = dir.join("gw");
    let log = dir.join("gateway.log");
    let gw = GatewayProcess::start(&gw_dir, 0, &upstream.addr(), &["--no-handler"], &log).await?;
    let gw_pid = gw.pid().ok_or("no gateway pid")?;
    let (ca, server_ca) = gateway_cas(&gw_dir)?;
    let registry = fleet_registry(&gw_dir)?;
    println!(
        "jitr gateway benchmark (release build, 127.0.0.1, {} cores)",
        cores
    );
    // Known devices: registered ACTIVE with one policy that allows them.
    let n_devices = 512;
    let mut devices = Vec::new();
    let now = Timestamp::now();
    tokio::task::block_in_place(|| -> Result<(), Error> {
        registry.create_policy("BenchAllow", crate::ALLOW_ALL_POLICY, now)?;
        for i in 0..n_devices {
            let d = Device::issue(&ca, &format!("bench-{i}"))?;
            let pem = jitr_core::Certificate::from_der(&d.chain[0])?.to_pem();
            let r = registry.register_certificate(
                &jitr_core::RegisterCertificateRequest {
                    certificate_pem: pem,
                    ca_certificate_pem: Some(ca.certificate_pem()),
                    status: Some(CertificateStatus::Active),
                },
                now,
            )?;
            registry.attach_policy("BenchAllow", &r.certificate_arn)?;
            devices.push(d);
        }
        Ok(())
    })?;
    // The gateway follows the store: wait until it knows the last one.
    let last = devices.last().ok_or("no devices")?.clone();
    let cfg = client::tls_config(&server_ca, &last)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Connected::Connack(0, Some(c))) = last.connect(gw.addr, &cfg, Version::V4).await {
            c.disconnect().await;
            break;
        }
        if Instant::now() > deadline {
            return Err("the gateway did not learn the devices within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mosq_tls, tls_port) = mosquitto_tls(dir, &gw_dir)?;
    match &split {
        Some((servers, load)) => {
            pin_self(load)?;
            println!("servers on cores {servers}, the load generator on cores {load}");
        }
        None => println!("servers and the load generator share the machine's cores"),
    }
    let mosq_pid = mosq_tls.id().ok_or("no mosquitto pid")?;
    let mosq_addr: std::net::SocketAddr = format!("127.0.0.1:{tls_port}").parse()?;

    println!("\n1. Known devices: connect (TLS 1.3, client certificate) + MQTT CONNECT → CONNACK 0 + DISCONNECT, {}s per point", POINT.as_secs());
    println!("| concurrency | gateway conn/s | mosquitto TLS conn/s | ratio | gateway p99 | mosquitto p99 | gateway CPU/conn (+ upstream mosquitto) | mosquitto TLS CPU/conn | load generator CPU/conn gw/mq | errors gw/mq |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for c in CONCURRENCY {
        let g = run_point(
            gw.addr,
            &server_ca,
            &devices,
            c,
            gw_pid,
            Some(upstream.pid()),
        )
        .await?;
        let m = run_point(mosq_addr, &server_ca, &devices, c, mosq_pid, None).await?;
        println!(
            "| {c} | {:.0} | {:.0} | {:.2}× | {:.1} ms | {:.1} ms | {} µs (+ {} µs) | {} µs | {}/{} µs | {}/{} |",
            g.rate,
            m.rate,
            g.rate / m.rate.max(1e-9),
            g.p99.as_secs_f64() * 1e3,
            m.p99.as_secs_f64() * 1e3,
            g.cpu_per_conn.as_micros(),
            g.upstream_cpu_per_conn.unwrap_or_default().as_micros(),
            m.cpu_per_conn.as_micros(),
            g.client_cpu_per_conn.as_micros(),
            m.client_cpu_per_conn.as_micros(),
            g.errors,
            m.errors,
        );
        let _ = (g.connections, m.connections);
    }
    drop(mosq_tls);

    // 2. RSS per idle connection.
    let limit = crate::server::default_max_connections().min(9_000);
    let idle_n = limit.saturating_sub(200).min(9_000);
    let rss0 = rss_kb(gw_pid);
    let mut idle = Vec::with_capacity(idle_n);
    let configs: Vec<_> = devices
        .iter()
        .map(|d| client::tls_config(&server_ca, d).map(|cfg| (cfg, d.client_id())))
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let mut i = 0usize;
    // Distinct client ids (the broker keeps one session per id): device i%512 with
    // client id "<id>-<i>" (the allow-all policy allows any).
    while idle.len() < idle_n && started.elapsed() < Duration::from_secs(120) {
        let mut batch = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let (cfg, id) = configs[i % configs.len()].clone();
            let cid = format!("{id}-{i}");
            i += 1;
            let addr = gw.addr;
            batch.spawn(async move { client::connect(addr, HOST, cfg, &cid, Version::V4).await });
        }
        while let Some(r) = batch.join_next().await {
            if let Ok(Ok(Connected::Connack(0, Some(c)))) = r {
                idle.push(c);
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss1 = rss_kb(gw_pid);
    let per = (rss1.saturating_sub(rss0) as f64 * 1024.0) / idle.len().max(1) as f64;
    println!(
        "\n2. Idle devices: {} connected; gateway RSS {:.1} MB → {:.1} MB: {:.1} KB per idle connection (→ {:.0} MB for 10,000)",
        idle.len(),
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        per / 1024.0,
        (rss0 as f64 * 1024.0 + per * 10_000.0) / 1e6
    );
    for c in idle.drain(..) {
        drop(c);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // 3. Eviction latency.
    let mut lat = Vec::new();
    let victims = &devices[..200.min(devices.len())];
    for d in victims {
        let cfg = client::tls_config(&server_ca, d)?;
        let Ok(Connected::Connack(0, Some(mut c))) = d.connect(gw.addr, &cfg, Version::V4).await
        else {
            continue;
        };
        let t = Instant::now();
        tokio::task::block_in_place(|| {
            registry.update_certificate(&d.id, CertificateStatus::Revoked, Timestamp::now())
        })?;
        if c.closed_within(Duration::from_secs(10)).await {
            lat.push(t.elapsed());
        }
    }
    lat.sort();
    println!(
        "\n3. Eviction (revocation by another process on the SQLite store → connection closed): {} sessions, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );

    // 4. Policy checks on PUBLISH.
    let publishers = &devices[200..204];
    let mut clients = Vec::new();
    for d in publishers {
        let cfg = client::tls_config(&server_ca, d)?;
        if let Connected::Connack(0, Some(c)) = d.connect(gw.addr, &cfg, Version::V4).await? {
            clients.push(c);
        }
    }
    let cpu0 = cpu(gw_pid);
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut c in clients {
        tasks.spawn(async move {
            let mut n = 0u64;
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                // 100 QoS 0 then one QoS 1: the PUBACK says every earlier one was read.
                for _ in 0..100 {
                    let _ = c.publish_qos0("bench/telemetry", b"{\"t\":21.5}").await;
                }
                if !matches!(
                    c.publish("bench/telemetry", b"sync", false).await,
                    Ok(client::Published::Acked(_))
                ) {
                    break;
                }
                n += 101;
            }
            n
        });
    }
    let mut total = 0;
    while let Some(r) = tasks.join_next().await {
        total += r?;
    }
    let wall = t.elapsed();
    let used = cpu(gw_pid).saturating_sub(cpu0);
    println!(
        "\n4. PUBLISH through the proxy (iot:Publish checked on each): {:.0} publishes/s, gateway CPU {:.1} µs per publish",
        total as f64 / wall.as_secs_f64(),
        used.as_secs_f64() * 1e6 / total.max(1) as f64
    );
    println!("   {}", crate::policy::bench_checks());
    gw.stop().await;
    registry.close();
    Ok(())
}

/// The cores this process may use, split in two halves (servers, load generator) as
/// `taskset` lists: on a machine of 4 cores or more, or of 2 with `JITR_BENCH_SPLIT=1`.
fn split_cores() -> Option<(String, String)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?
        .trim();
    let mut cores = Vec::new();
    for part in list.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        cores.extend(a.trim().parse::<usize>().ok()?..=b.trim().parse::<usize>().ok()?);
    }
    let forced = std::env::var("JITR_BENCH_SPLIT").is_ok_and(|v| v == "1");
    if cores.len() < 4 && !(forced && cores.len() >= 2) {
        return None;
    }
    let join = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let (servers, load) = cores.split_at(cores.len() / 2);
    Some((join(servers), join(load)))
}

/// Moves every thread of this process to `cores` (util-linux's `taskset`).
fn pin_self(cores: &str) -> Result<(), Error> {
    let pid = std::process::id().to_string();
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &pid])
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("taskset -a -p -c {cores} {pid} failed").into());
    }
    Ok(())
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
