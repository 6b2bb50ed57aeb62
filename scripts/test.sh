#!/usr/bin/env bash
# Runs every test of jitr: Rust (fmt, clippy, tests, doc tests, docs, shared vectors),
# Python and WASM. Installs what it needs itself; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }
start=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step "rust: format"
cargo fmt --all -- --check

step "rust: clippy (-D warnings)"
cargo clippy --locked --workspace --exclude jitr-wasm --exclude jitr-py --all-targets --all-features -- -D warnings
# The Python binding without maturin (pyo3 finds python3; no extension-module linking).
cargo clippy --locked -p jitr-py --all-targets -- -D warnings

step "PostgreSQL for the store tests (a throw-away cluster on a free loopback port)"
. scripts/lib/postgres.sh
pg_start
export JITR_TEST_PG=$JITR_PG_URL JITR_TEST_PG_STOP=$JITR_PG_STOP_CMD JITR_TEST_PG_START=$JITR_PG_START_CMD
export JITR_TEST_TMP=${TMPDIR:-/tmp}/jitr-test-$$
trap 'rm -f "$log"; rm -rf "$JITR_TEST_TMP"; pg_stop' EXIT

step "rust: tests (unit, integration, doc, shared vectors; the multi-node store tests on SQLite and PostgreSQL)"
cargo test --locked --workspace --exclude jitr-wasm --exclude jitr-py --all-features 2>&1 | tee -a "$log"

# The registry's tests and the shared vectors again, on each durable store: a fresh
# SQLite file, then a fresh PostgreSQL schema, per registry.
registry_tests=(-p jitr-core --test registry --test decide --test precedence --test tls
  --test handler --test handler_scenarios --test resources --test issuing -p jitr-tests --test vectors)
for store in sqlite "$JITR_PG_URL"; do
  step "rust: registry tests and shared vectors on ${store%%:*}"
  JITR_TEST_STORE=$store cargo test --locked --all-features "${registry_tests[@]}" 2>&1 | tee -a "$log"
done

step "rust: docs (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p jitr-core -q

step "rust: licences, bans, sources and advisories (cargo-deny, deny.toml)"
command -v cargo-deny >/dev/null 2>&1 || cargo install cargo-deny --locked
cargo deny --locked check licenses bans sources
# The advisories need the RustSec database, fetched from GitHub. Where GitHub cannot be
# reached, an earlier copy is used (offline); with none, the check is skipped, loudly.
if timeout 20 git ls-remote --exit-code https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
  cargo deny --locked check advisories
elif compgen -G "${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/*/crates" >/dev/null; then
  echo "advisories: github.com is unreachable; checking against the RustSec database fetched earlier"
  cargo deny --locked --offline check advisories
else
  echo "SKIP advisories: the RustSec database cannot be fetched (github.com unreachable) and none was fetched before; run 'cargo deny check advisories' where GitHub is reachable" >&2
fi

step "the gateway story (mosquitto, the gateway, the handler process, real MQTT clients on 127.0.0.1; exits non-zero if a step misbehaves)"
. scripts/lib/mosquitto.sh
mosquitto_install
cargo run --locked -q -p jitr-core --all-features --example gateway

step "the gateway's tests (scripts/test-gateway.sh: mosquitto, the PostgreSQL above, 127.0.0.1 only)"
scripts/test-gateway.sh 2>&1 | tee -a "$log"

step "shared vectors: regenerate and compare"
cargo run --locked -q -p jitr-tests --bin gen-vectors
if [ -d .git ] && ! git diff --exit-code --stat -- tests/vectors; then
  echo "tests/vectors differ from what the generator writes: run the generator and commit" >&2
  exit 1
fi

for suite in python wasm fuzz; do
  if [ -x "scripts/test-$suite.sh" ]; then
    step "$suite"
    "scripts/test-$suite.sh" 2>&1 | tee -a "$log"
  fi
done

# One closing line for every suite: Rust's test results, pytest's and the WASM suite's.
passed=$(python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
rust = sum(int(n) for n in re.findall(r"^test result: ok\. (\d+) passed", text, re.M))
python = sum(int(n) for n in re.findall(r"^(\d+) passed in [\d.]+s", text, re.M))
wasm = sum(int(n) for n in re.findall(r"^(\d+) passed, 0 failed$", text, re.M))
print(rust + python + wasm)
PY
)
printf '\nall test suites passed in %ss\n' "$((SECONDS - start))"
echo "tests: $passed passed, 0 failed"
