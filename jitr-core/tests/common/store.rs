//! The store a test's registry lives in, chosen by `JITR_TEST_STORE`: unset or `memory`
//! (the default), `sqlite` (a fresh file per registry, under `JITR_TEST_TMP` or the
//! system's temporary directory), or a `postgresql://` URL (a fresh schema per registry
//! in that database). scripts/test.sh runs the registry tests and the shared vectors on
//! all three.

use std::sync::atomic::{AtomicU64, Ordering};

/// A URL naming a new, empty store of the kind the environment asks for.
pub fn fresh_store_url() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let unique = format!(
        "{}_{}_{}",
        std::process::id(),
        n,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    match std::env::var("JITR_TEST_STORE").as_deref() {
        Err(_) | Ok("" | "memory") => "memory:".into(),
        Ok("sqlite") => {
            let dir = std::env::var_os("JITR_TEST_TMP")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(std::env::temp_dir);
            std::fs::create_dir_all(&dir).expect("the test directory");
            format!(
                "sqlite://{}",
                dir.join(format!("jitr-{unique}.db")).display()
            )
        }
        Ok(url) if url.starts_with("postgres") => {
            let schema = format!("t_{unique}");
            let mut client =
                postgres::Client::connect(url, postgres::NoTls).expect("the test PostgreSQL");
            client
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .expect("a fresh schema");
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-csearch_path%3D{schema}")
        }
        Ok(other) => {
            panic!("JITR_TEST_STORE={other:?}: expected memory, sqlite or a postgresql:// URL")
        }
    }
}

/// A new, empty store of the kind the environment asks for.
pub fn fresh_store() -> jitr_core::Store {
    jitr_core::Store::open(&fresh_store_url()).expect("the test store opens")
}
