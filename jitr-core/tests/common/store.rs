//! The store a test's registry lives in, chosen by `JITR_TEST_STORE`: unset or `memory`
//! (the default), `sqlite` (a fresh file per registry, under `JITR_TEST_TMP` or the
//! system's temporary directory), or a `postgresql://` URL (a fresh schema per registry
//! in that database). scripts/test.sh runs the registry tests and the shared vectors on
//! all three.

/// A URL naming a new, empty store of the kind the environment asks for.
pub fn fresh_store_url() -> String {
    fresh_store_url_of(
        std::env::var("JITR_TEST_STORE")
            .as_deref()
            .unwrap_or("memory"),
    )
}

/// The stores several processes or nodes can share, for the multi-node tests: always a
/// SQLite file; PostgreSQL too when `JITR_TEST_PG` (or `JITR_TEST_STORE`) names a server.
pub fn shared_kinds() -> Vec<String> {
    let mut kinds = vec!["sqlite".to_string()];
    for var in ["JITR_TEST_PG", "JITR_TEST_STORE"] {
        if let Ok(url) = std::env::var(var) {
            if url.starts_with("postgres") && !kinds.contains(&url) {
                kinds.push(url);
            }
        }
    }
    kinds
}

/// A URL naming a new, empty store of `kind`: `memory`, `sqlite` or a PostgreSQL URL.
pub fn fresh_store_url_of(kind: &str) -> String {
    let unique = jitr_testkit::tmp::unique();
    match kind {
        "" | "memory" => "memory:".into(),
        "sqlite" => {
            let dir = jitr_testkit::tmp::tmp_root();
            std::fs::create_dir_all(&dir).expect("the test directory");
            format!(
                "sqlite://{}",
                dir.join(format!("jitr-{unique}.db")).display()
            )
        }
        url if url.starts_with("postgres") => {
            let schema = format!("t_{unique}");
            let mut client =
                postgres::Client::connect(url, postgres::NoTls).expect("the test PostgreSQL");
            client
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .expect("a fresh schema");
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-csearch_path%3D{schema}")
        }
        other => panic!("store kind {other:?}: expected memory, sqlite or a postgresql:// URL"),
    }
}

/// A new, empty store of the kind the environment asks for.
pub fn fresh_store() -> jitr_core::Store {
    jitr_core::Store::open(&fresh_store_url()).expect("the test store opens")
}

/// Polls `cond` every `every` until it holds, for `within` at the most; false if it never
/// held.
pub fn eventually(
    within: std::time::Duration,
    every: std::time::Duration,
    mut cond: impl FnMut() -> bool,
) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(every);
    }
    cond()
}
