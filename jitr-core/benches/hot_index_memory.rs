//! Bytes per registered certificate in the decision path's hot index, at 1 M and 10 M
//! certificates: what the index reports, and the process's resident memory growth.
//!
//! ```text
//! cargo bench -p jitr-core --features bench-internals --bench hot_index_memory
//! ```

use jitr_core::{CertificateId, Registry, Scope, Timestamp, Validity};

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn main() {
    let validity = Validity {
        not_before: Timestamp::from_unix_secs(1_735_689_600),
        not_after: Timestamp::from_unix_secs(2_051_222_400),
    };
    println!("| certificates | hot index bytes / certificate | RSS growth / certificate |");
    println!("|---|---|---|");
    for n in [1_000_000u64, 10_000_000] {
        let before = resident_bytes();
        let reg = Registry::new(Scope::new("123456789012", "us-east-1").expect("scope"));
        for i in 0..n {
            let d = ring::digest::digest(&ring::digest::SHA256, &i.to_le_bytes());
            let mut id = [0u8; 32];
            id.copy_from_slice(d.as_ref());
            reg.bench_insert_hot_active(CertificateId::from_bytes(id), &validity);
        }
        let after = resident_bytes();
        let rss = match (before, after) {
            (Some(b), Some(a)) => format!("{:.1}", (a.saturating_sub(b)) as f64 / n as f64),
            _ => "n/a".into(),
        };
        println!(
            "| {n} | {:.1} | {rss} |",
            reg.hot_index_bytes() as f64 / n as f64
        );
        drop(reg);
    }
}
