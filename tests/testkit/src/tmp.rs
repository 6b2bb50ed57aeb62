//! Scratch names and directories for tests that run in parallel, in several processes or
//! again on the same machine: one rule for what makes a name unique and where the files
//! go, so that `scripts/test.sh` (which points `JITR_TEST_TMP` at a directory of its own
//! and removes it afterwards) cleans up after every test.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A name no other call, in this process or another, has made: the process ID, a counter
/// and the clock's nanoseconds, joined by `_`, so that it also ends a file name or an SQL
/// identifier (a PostgreSQL schema) as it is.
pub fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Where tests put their files: `JITR_TEST_TMP` when set, else the system's temporary
/// directory.
pub fn tmp_root() -> PathBuf {
    std::env::var_os("JITR_TEST_TMP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// A new, empty directory `{prefix}-{unique}` under [`tmp_root`].
///
/// # Panics
///
/// If the directory cannot be made (a test has nowhere to put its files).
pub fn fresh_dir(prefix: &str) -> PathBuf {
    let dir = tmp_root().join(format!("{prefix}-{}", unique()));
    std::fs::create_dir_all(&dir).expect("the test directory");
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differ_and_directories_are_new() {
        assert_ne!(unique(), unique());
        let (a, b) = (fresh_dir("jitr-testkit"), fresh_dir("jitr-testkit"));
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
        assert!(a
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("jitr-testkit-"));
        std::fs::remove_dir(a).unwrap();
        std::fs::remove_dir(b).unwrap();
    }
}
