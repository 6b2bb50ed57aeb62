//! Deterministic generator of the shared jitr test vectors (`tests/vectors/*.json`).
//!
//! Run from the workspace root: `cargo run -q -p jitr-tests --bin gen-vectors`.
//! Every expected value is computed here from `docs/behaviour.md`, never by jitr-core:
//! certificate ids are SHA-256 of the DER, ARNs and event payloads are formatted by hand.
//! Running it twice yields byte-identical files (CI regenerates them and checks `git diff`).
//! The pieces, and one module per vector file, are in `tests/src/gen/`.

#[path = "../gen/mod.rs"]
mod gen;

use std::path::{Path, PathBuf};

use gen::catalogue::build_pki;
use gen::json;
use gen::pki::Error;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn main() -> Result<(), Error> {
    let pki = build_pki()?;
    assert_eq!(pki.code.len(), 64);
    let dir = vectors_dir();
    std::fs::create_dir_all(&dir)?;
    for s in &gen::scenarios(&pki) {
        let text = json::to_pretty(&s.to_json())?;
        let path = dir.join(format!("{}.json", s.name));
        std::fs::write(&path, text)?;
        println!("{} ({} steps)", path.display(), s.steps.len());
    }
    let path = dir.join("jitp.json");
    std::fs::write(&path, json::to_pretty(&gen::jitp::jitp()?)?)?;
    println!("{} (JITP previews)", path.display());
    Ok(())
}
