//! Helpers for the gateway's tests.
use std::path::PathBuf;

/// A fresh directory under the test temp root.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let root = std::env::var_os("JITR_TEST_TMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = root.join(format!(
        "jitr-gateway-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
