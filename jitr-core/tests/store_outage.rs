//! PostgreSQL stopped under load and started again, alone in its own test binary (it
//! stops the server other tests use). scripts/test.sh gives the commands.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::store::{self, fresh_store_url_of};
use common::*;
use jitr_core::*;

/// Waits (bounded) for `cond`; false if it never held.
fn eventually(cond: impl FnMut() -> bool) -> bool {
    store::eventually(Duration::from_secs(20), Duration::from_millis(20), cond)
}

/// PostgreSQL stopped under load and started again (the test script gives the commands):
/// known ACTIVE devices still connect from the cache, a new device is refused as
/// STORE_UNAVAILABLE and leaves nothing behind, management calls answer
/// ServiceUnavailableException, a fail-closed node refuses everyone; after the restart
/// the nodes reconnect, and a change made on one reaches the other.
#[test]
fn postgresql_stopped_and_restarted_under_load() {
    let (Ok(base), Ok(stop), Ok(start)) = (
        std::env::var("JITR_TEST_PG"),
        std::env::var("JITR_TEST_PG_STOP"),
        std::env::var("JITR_TEST_PG_START"),
    ) else {
        eprintln!("SKIP postgresql_stopped_and_restarted_under_load: scripts/test.sh sets JITR_TEST_PG, JITR_TEST_PG_STOP and JITR_TEST_PG_START");
        return;
    };
    let sh = |cmd: &str| {
        assert!(
            Command::new("sh")
                .args(["-c", cmd])
                .status()
                .unwrap()
                .success(),
            "{cmd}"
        )
    };
    let url = fresh_store_url_of(&base);
    let a = Arc::new(open_node(&url));
    let b = open_node(&url);
    let mut closed = RegistryConfig::default();
    closed.store_outage = StoreOutage::RefuseAll;
    let c = Registry::open(scope(), closed, &Store::open(&url).unwrap()).unwrap();
    let ca = Ca::new("Fleet CA");
    a.get_registration_code().unwrap();
    ca.register(&a);
    let known = ca.device("known").chain_with(&ca);
    a.decide(&known, None, now());
    a.update_certificate(&leaf_id(&known), CertificateStatus::Active, now())
        .unwrap();
    assert!(eventually(
        || b.decide(&known, None, now()).is_allowed() && c.decide(&known, None, now()).is_allowed()
    ));
    let feed = b.subscribe();

    // Load on node A throughout.
    let stop_load = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (a, known, stop_load) = (a.clone(), known.clone(), stop_load.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop_load.load(std::sync::atomic::Ordering::Relaxed) {
                assert!(
                    a.decide(&known, None, now()).is_allowed(),
                    "a known device was refused"
                );
                n += 1;
            }
            n
        })
    };

    sh(&stop);
    let new = ca.device("new").chain_with(&ca);
    assert_eq!(
        a.decide(&new, None, now()).refusal,
        Some(RefusalReason::StoreUnavailable)
    );
    assert!(
        a.decide(&known, None, now()).is_allowed(),
        "fail open for known devices"
    );
    let err = a.describe_certificate(&leaf_id(&known)).unwrap_err();
    assert_eq!(err.code(), "ServiceUnavailableException", "{err}");
    assert!(!a.store_available());
    assert!(
        eventually(
            || c.decide(&known, None, now()).refusal == Some(RefusalReason::StoreUnavailable)
        ),
        "the fail-closed node refuses once it notices"
    );

    sh(&start);
    stop_load.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        load.join().unwrap() > 0,
        "node A decided throughout the outage"
    );
    assert!(
        eventually(|| a
            .update_certificate(&leaf_id(&known), CertificateStatus::Revoked, now())
            .is_ok()),
        "node A writes again after the restart"
    );
    assert!(
        eventually(
            || b.decide(&known, None, now()).refusal == Some(RefusalReason::CertificateRevoked)
        ),
        "node B caught up"
    );
    let change = feed
        .recv_timeout(Duration::from_secs(10))
        .expect("node B's subscribers hear of the revocation");
    assert_eq!(change.change.certificate_id(), Some(leaf_id(&known)));
    let err = a.describe_certificate(&leaf_id(&new)).unwrap_err();
    assert_eq!(
        err.code(),
        "ResourceNotFoundException",
        "the refused registration left nothing"
    );
}
