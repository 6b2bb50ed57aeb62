//! Stores shared by several nodes and processes: exactly-once registration across nodes,
//! changes reaching the other node through the feed, compare-and-set across nodes,
//! several processes on one SQLite file, `kill -9` losing nothing acknowledged, bad
//! store URLs and files, and migration between stores. Every test runs on a SQLite file
//! and, when `JITR_TEST_PG` names a server, on PostgreSQL.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::store::{self, fresh_store_url_of, shared_kinds};
use common::*;
use jitr_core::rustls_pki_types::CertificateDer;
use jitr_core::*;

/// Waits (bounded) for `cond`; false if it never held.
fn eventually(cond: impl FnMut() -> bool) -> bool {
    store::eventually(Duration::from_secs(10), Duration::from_millis(5), cond)
}

/// Two nodes on a fresh store of `kind` (see [`two_nodes`]) and a device of their CA,
/// not connected yet: its chain and its ID.
fn two_nodes_and_a_device(
    kind: &str,
) -> (
    Registry,
    Registry,
    Vec<CertificateDer<'static>>,
    CertificateId,
) {
    let (a, b, ca) = two_nodes(kind);
    let chain = ca.device("d").chain_with(&ca);
    let id = leaf_id(&chain);
    (a, b, chain, id)
}

#[test]
fn first_connects_split_across_two_nodes_register_once() {
    for kind in shared_kinds() {
        let (a, b, ca) = two_nodes(&kind);
        let (a, b, ca_id) = (Arc::new(a), Arc::new(b), ca.id());
        b.catch_up().unwrap();
        assert_eq!(b.ca_certificate_count(), 1, "{kind}: node B knows the CA");
        let chain = ca.device("shared").chain_with(&ca);
        let barrier = Arc::new(Barrier::new(64));
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let node = if i % 2 == 0 { a.clone() } else { b.clone() };
                let chain = chain.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    node.decide(&chain, None, now())
                })
            })
            .collect();
        let decisions: Vec<Decision> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let registered = decisions.iter().filter(|d| d.registered()).count();
        assert_eq!(registered, 1, "{kind}: exactly one registration");
        for d in &decisions {
            assert!(
                matches!(
                    d.refusal,
                    Some(
                        RefusalReason::RegisteredPendingActivation
                            | RefusalReason::PendingActivation
                    )
                ),
                "{kind}: {d:?}"
            );
            assert_eq!(d.ca_certificate_id, Some(ca_id));
            let e = d.event.as_ref().expect("each decision publishes its event");
            assert_eq!(e.certificate_registration_timestamp, now(), "{kind}");
        }
        let id = leaf_id(&chain);
        assert_eq!(
            a.describe_certificate(&id).unwrap().creation_date,
            b.describe_certificate(&id).unwrap().creation_date
        );
    }
}

#[test]
fn a_revocation_on_one_node_is_refused_by_the_other() {
    for kind in shared_kinds() {
        let (a, b, chain, id) = two_nodes_and_a_device(&kind);
        assert!(a.decide(&chain, None, now()).registered());
        a.update_certificate(&id, CertificateStatus::Active, now())
            .unwrap();
        assert!(
            eventually(|| b.decide(&chain, None, now()).is_allowed()),
            "{kind}: node B admits the device once the activation arrives"
        );
        let feed = b.subscribe();
        a.update_certificate(&id, CertificateStatus::Revoked, now())
            .unwrap();
        assert!(
            eventually(
                || b.decide(&chain, None, now()).refusal == Some(RefusalReason::CertificateRevoked)
            ),
            "{kind}: node B refuses the revoked device"
        );
        // The feed may first replay the registration and activation B had not followed
        // yet (B decided from the store's row meanwhile): in order, each once.
        let mut seen = feed
            .recv_timeout(Duration::from_secs(10))
            .expect("node B's subscribers hear of it");
        let mut last_seq = 0;
        while !matches!(
            seen.change,
            Change::CertificateStatusChanged {
                status: CertificateStatus::Revoked,
                ..
            }
        ) {
            assert!(seen.seq > last_seq, "{kind}: in commit order");
            last_seq = seen.seq;
            seen = feed
                .recv_timeout(Duration::from_secs(10))
                .expect("node B's subscribers hear of it");
        }
        match seen.change {
            Change::CertificateStatusChanged {
                certificate_id,
                previous_status,
                status,
                ..
            } => {
                assert_eq!(certificate_id, id);
                assert_eq!(previous_status, CertificateStatus::Active);
                assert_eq!(status, CertificateStatus::Revoked);
            }
            other => panic!("{kind}: unexpected {other:?}"),
        }
        assert!(seen.seq > 0);
    }
}

#[test]
fn a_lost_update_across_nodes_fails_with_awss_error() {
    for kind in shared_kinds() {
        let (a, b, chain, id) = two_nodes_and_a_device(&kind);
        a.decide(&chain, None, now());
        let read_a = a.describe_certificate(&id).unwrap().customer_version;
        let read_b = b.describe_certificate(&id).unwrap().customer_version;
        assert_eq!(read_a, read_b);
        a.update_certificate_if(&id, CertificateStatus::Active, Some(read_a), now())
            .unwrap();
        let err = b
            .update_certificate_if(&id, CertificateStatus::Revoked, Some(read_b), now())
            .unwrap_err();
        assert_eq!(err.code(), "VersionConflictException", "{kind}");
        assert_eq!(
            a.describe_certificate(&id).unwrap().status,
            CertificateStatus::Active,
            "{kind}: the losing write changed nothing"
        );
    }
}

#[test]
fn the_default_ca_claim_and_the_subject_quota_hold_across_nodes() {
    for kind in shared_kinds() {
        let url = fresh_store_url_of(&kind);
        let store = Store::open(&url).unwrap();
        let other = Scope::new("210987654321", REGION).unwrap();
        let a = Registry::open(scope(), RegistryConfig::default(), &store).unwrap();
        let b = Registry::open(
            other,
            RegistryConfig::default(),
            &Store::open(&url).unwrap(),
        )
        .unwrap();
        let ca = Ca::new("Shared CA");
        a.get_registration_code().unwrap();
        ca.register(&a);
        let err = b
            .register_ca_certificate(
                &RegisterCaCertificateRequest {
                    ca_certificate: ca.pem(),
                    verification_certificate: ca.proof_for(&b),
                    ..Default::default()
                },
                now(),
            )
            .unwrap_err();
        assert_eq!(err.code(), "ResourceAlreadyExistsException", "{kind}");
    }
}

/// The role of a child process, set by the parent.
const ROLE: &str = "JITR_STORE_TEST_ROLE";

/// Runs this test binary again as a child process in `role`.
fn child(role: &str, url: &str, dir: &std::path::Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env("JITR_STORE_TEST_URL", url)
        .env("JITR_STORE_TEST_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The child's side. As a test of its own (no role set) it only checks that the roles it
/// knows are the ones the parent tests use.
#[test]
fn child_process() {
    let Ok(role) = std::env::var(ROLE) else {
        assert_eq!(KNOWN_ROLES, ["connect", "watch", "write"]);
        return;
    };
    let url = std::env::var("JITR_STORE_TEST_URL").unwrap();
    let dir = std::path::PathBuf::from(std::env::var("JITR_STORE_TEST_DIR").unwrap());
    let reg = open_node(&url);
    let out = std::io::stdout();
    match role.as_str() {
        // One first connect of the device whose chain the parent wrote.
        "connect" => {
            let chain: Vec<_> = ["leaf.der", "ca.der"]
                .iter()
                .map(|f| {
                    jitr_core::rustls_pki_types::CertificateDer::from(
                        std::fs::read(dir.join(f)).unwrap(),
                    )
                })
                .collect();
            let d = reg.decide(&chain, None, now());
            writeln!(
                out.lock(),
                "reason {}",
                d.reason_code().unwrap_or("ALLOWED")
            )
            .unwrap();
        }
        // Answers "check <id>" lines with the certificate's status as its next call
        // reads it.
        "watch" => {
            writeln!(out.lock(), "ready").unwrap();
            for line in std::io::stdin().lock().lines() {
                let line = line.unwrap();
                let id: CertificateId = line.trim_start_matches("check ").parse().unwrap();
                let status = reg
                    .describe_certificate(&id)
                    .map(|d| d.status.to_string())
                    .unwrap_or_else(|e| e.code().to_string());
                writeln!(out.lock(), "status {status}").unwrap();
            }
        }
        // Registers certificates for ever, printing each ID once the call returned.
        "write" => {
            let ca = Ca::ed25519("Writer CA");
            for i in 0.. {
                let device = ca.device(&format!("w{i}"));
                device.register_without_ca(&reg, Some(CertificateStatus::Active));
                writeln!(out.lock(), "ack {}", device.id()).unwrap();
            }
        }
        other => panic!("unknown role {other}"),
    }
}

const KNOWN_ROLES: [&str; 3] = ["connect", "watch", "write"];

/// The next line of a child's output that holds `needle`, from `needle` on (libtest
/// prints its own lines around the child's).
fn next_line_with(output: &mut impl BufRead, needle: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(output.read_line(&mut line).unwrap() > 0, "the child ended");
        if let Some(i) = line.find(needle) {
            return line[i..].trim().to_string();
        }
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    jitr_testkit::tmp::fresh_dir(&format!("jitr-store-test-{name}"))
}

#[test]
fn processes_on_one_store_register_once_and_see_each_others_changes() {
    for kind in shared_kinds() {
        let url = fresh_store_url_of(&kind);
        let dir = temp_dir("processes");
        let reg = open_node(&url);
        let ca = Ca::new("Fleet CA");
        reg.get_registration_code().unwrap();
        ca.register(&reg);
        let device = ca.device("multi-process");
        std::fs::write(dir.join("leaf.der"), device.der()).unwrap();
        std::fs::write(dir.join("ca.der"), ca.der()).unwrap();
        let children: Vec<_> = (0..4).map(|_| child("connect", &url, &dir)).collect();
        let reasons: Vec<String> = children
            .into_iter()
            .map(|c| {
                let out = c.wait_with_output().unwrap();
                assert!(out.status.success(), "{kind}: a child failed");
                String::from_utf8(out.stdout)
                    .unwrap()
                    .lines()
                    // libtest prints "test child_process ... " before the child's own line.
                    .find_map(|l| l.split_once("reason ").map(|(_, r)| r.trim().to_string()))
                    .expect("the child's reason")
            })
            .collect();
        assert_eq!(
            reasons
                .iter()
                .filter(|r| *r == "REGISTERED_PENDING_ACTIVATION")
                .count(),
            1,
            "{kind}: {reasons:?}"
        );
        assert!(reasons
            .iter()
            .all(|r| r == "REGISTERED_PENDING_ACTIVATION" || r == "PENDING_ACTIVATION"));
        assert_eq!(
            reg.describe_certificate(&device.id()).unwrap().status,
            CertificateStatus::PendingActivation
        );

        // A change made here is seen by the other process's next call.
        let mut watcher = child("watch", &url, &dir);
        let mut input = watcher.stdin.take().unwrap();
        let mut output = BufReader::new(watcher.stdout.take().unwrap());
        assert_eq!(next_line_with(&mut output, "ready"), "ready");
        for status in [CertificateStatus::Active, CertificateStatus::Revoked] {
            reg.update_certificate(&device.id(), status, now()).unwrap();
            writeln!(input, "check {}", device.id()).unwrap();
            assert_eq!(
                next_line_with(&mut output, "status "),
                format!("status {status}"),
                "{kind}"
            );
        }
        drop(input);
        assert!(watcher.wait().unwrap().success());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_killed_writer_loses_nothing_it_acknowledged() {
    for kind in shared_kinds() {
        let url = fresh_store_url_of(&kind);
        let dir = temp_dir("kill");
        let mut writer = child("write", &url, &dir);
        let mut output = BufReader::new(writer.stdout.take().unwrap());
        let mut acked = Vec::new();
        while acked.len() < 40 {
            let line = next_line_with(&mut output, "ack ");
            acked.push(line["ack ".len()..].parse::<CertificateId>().unwrap());
        }
        // SIGKILL, mid-write: the writer is in its loop.
        writer.kill().unwrap();
        writer.wait().unwrap();
        let reg = open_node(&url);
        for id in &acked {
            let d = reg
                .describe_certificate(id)
                .unwrap_or_else(|e| panic!("{kind}: acknowledged {id} is lost: {e}"));
            assert_eq!(d.status, CertificateStatus::Active);
            assert_eq!(Certificate::from_pem(&d.certificate_pem).unwrap().id(), *id);
        }
        // Nothing partial: every stored certificate reads back whole, and the caches
        // loaded at open agree with the store.
        let state = reg.export_state().unwrap();
        assert!(state.certificates.len() >= acked.len());
        assert_eq!(reg.certificate_count(), state.certificates.len(), "{kind}");
        for c in &state.certificates {
            assert_eq!(
                Certificate::from_pem(&c.certificate_pem).unwrap().id(),
                c.certificate_id
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn bad_store_urls_and_files_are_refused_at_open() {
    for url in [
        "",
        "mysql://localhost/db",
        "sqlite:",
        "sqlite://",
        "memory:extra",
        "nonsense",
    ] {
        let err = Store::open(url).unwrap_err();
        assert_eq!(err.code(), "InvalidRequestException", "{url:?}: {err}");
    }
    // A password in the URL is never echoed.
    let err = Store::open("mysql://user:secret@host/db").unwrap_err();
    assert!(!err.message().contains("secret"), "{err}");
    // A server that is not there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Store::open(&format!("postgresql://nobody@127.0.0.1:{port}/nothing")).unwrap_err();
    assert_eq!(err.code(), "ServiceUnavailableException", "{err}");

    // A file that is not a database: refused, and left as it was.
    let dir = temp_dir("bad-files");
    let garbage = dir.join("garbage.db");
    let bytes = b"this is not a SQLite database, just text that is long enough".repeat(200);
    std::fs::write(&garbage, &bytes).unwrap();
    let err = Store::open(&format!("sqlite://{}", garbage.display())).unwrap_err();
    assert_eq!(err.code(), "InvalidRequestException", "{err}");
    assert!(
        err.message().contains("not a usable SQLite database"),
        "{err}"
    );
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes);

    // A schema newer than this code: refused, nothing written.
    let newer = dir.join("newer.db");
    let url = format!("sqlite://{}", newer.display());
    drop(Store::open(&url).unwrap());
    mark_schema_from_the_future(&newer);
    let err = Store::open(&url).unwrap_err();
    assert_eq!(err.code(), "InvalidRequestException", "{err}");
    assert!(err.message().contains("newer than this jitr"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Marks a SQLite store as written by a future jitr (schema version 999). jitr has no API
/// for this on purpose; Python's sqlite3 module edits the file.
fn mark_schema_from_the_future(path: &std::path::Path) {
    let status = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE jitr_meta SET value='999' WHERE key='schema_version'\"); c.commit()",
        ])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_state_migrates_memory_to_sqlite_to_postgresql() {
    let mem = registry();
    let ca = Ca::new("Fleet CA");
    ca.register(&mem);
    let chain = ca.device("d").chain_with(&ca);
    mem.decide(&chain, None, now());
    mem.update_certificate(&leaf_id(&chain), CertificateStatus::Active, now())
        .unwrap();
    mem.create_policy("P", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#, now())
        .unwrap();
    mem.attach_policy("P", &scope().certificate_arn(&leaf_id(&chain)))
        .unwrap();
    mem.create_policy_version(
        "P",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}"#,
        true,
        now(),
    )
    .unwrap();
    mem.create_thing_type("Sensor", None, &[], now()).unwrap();
    mem.create_thing(
        "sensor-1",
        Some("Sensor"),
        &AttributePayload {
            attributes: [("room".to_string(), "12".to_string())].into(),
            merge: false,
        },
        None,
        now(),
    )
    .unwrap();
    mem.attach_thing_principal(
        "sensor-1",
        &scope().certificate_arn(&leaf_id(&chain)),
        ThingPrincipalType::Exclusive,
    )
    .unwrap();
    mem.tag_resource(
        &scope().policy_arn("P"),
        &[Tag {
            key: "team".into(),
            value: Some("fleet".into()),
        }],
    )
    .unwrap();
    let before = mem.export_state().unwrap();
    assert_eq!(before.things.len(), 1);
    assert_eq!(before.tags.len(), 1);
    let mut current = mem;
    for kind in shared_kinds() {
        let next = current
            .migrate_to(&Store::open(&fresh_store_url_of(&kind)).unwrap())
            .unwrap();
        assert_eq!(next.export_state().unwrap(), before, "{kind}");
        assert!(next.decide(&chain, None, now()).is_allowed(), "{kind}");
        assert_eq!(
            next.list_things(
                &ThingFilter {
                    attribute_name: Some("room".into()),
                    attribute_value: Some("12".into()),
                    ..Default::default()
                },
                &ListRequest::default()
            )
            .unwrap()
            .items
            .len(),
            1,
            "{kind}: the attribute index moved too"
        );
        // Importing twice into the same account is refused.
        let err =
            Registry::import_state(&before, RegistryConfig::default(), next.store()).unwrap_err();
        assert_eq!(err.code(), "InvalidRequestException", "{kind}");
        current = next;
    }
}
