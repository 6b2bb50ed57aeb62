#!/usr/bin/env bash
# Builds the npm package jitr-wasm (wasm32 + wasm-bindgen + the JS layer, packed with
# `npm pack`) and runs all its tests: wasm-bindgen-test under Node, the JS API and its
# errors, the shared vectors through the JS API, tsc over the TypeScript types, the page
# end to end in headless Chromium, and the packed tarball in scratch consumers (Node ESM
# and CommonJS, esbuild, webpack, Vite, TypeScript).
#
# Installs what it needs itself, each step skipped when already present at the right
# version: clang and chromium (Debian), the wasm32 target, wasm-bindgen-cli at the version
# jitr-wasm pins, and the npm packages of jitr-wasm/package-lock.json and
# jitr-wasm/tests/consumers/package-lock.json (from the npm registry).
#
# Usage (from anywhere): scripts/test-wasm.sh [--install-only]
# CHROMIUM=/path overrides the browser of the end-to-end test (default: Debian's /usr/bin/chromium).
# The last line is "N passed, N failed"; the exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=0.2.130 # = the wasm-bindgen pin in jitr-wasm/Cargo.toml
CHROMIUM=${CHROMIUM:-/usr/bin/chromium} # the e2e test's browser (Debian's)

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- install (idempotent) ----------------------------------------------------------------

step "system packages: clang (ring for wasm32), chromium (page test)"
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "present: clang, chromium"
fi

step "rust target wasm32-unknown-unknown"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "present"
else
  rustup target add wasm32-unknown-unknown
fi

step "wasm-bindgen-cli $WASM_BINDGEN_VERSION"
if ! grep -q "^wasm-bindgen = \"=$WASM_BINDGEN_VERSION\"" jitr-wasm/Cargo.toml; then
  echo "jitr-wasm/Cargo.toml does not pin wasm-bindgen = \"=$WASM_BINDGEN_VERSION\"; update both" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null || true)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  echo "present"
else
  # Not --locked: the CLI's lock file names a webpki-roots version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features
fi

npm_ci() { # dir: npm ci there unless node_modules is newer than the lock file
  step "npm packages ($1/package-lock.json)"
  if [ -f "$1/node_modules/.package-lock.json" ] &&
    [ "$1/node_modules/.package-lock.json" -nt "$1/package-lock.json" ]; then
    echo "present"
  else
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_ci jitr-wasm
npm_ci jitr-wasm/tests/consumers

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi

# --- build and test ----------------------------------------------------------------------
# Every step runs even if an earlier one failed (except what needs the build); the counts
# are added up: tests as their runners count them, each other check as one.
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

check() { # name command...: one pass or one fail
  local name=$1
  shift
  step "$name"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAILED: $name" >&2
    failed=$((failed + 1))
  fi
}

count_cargo() { # name command...: adds up "test result: ... N passed; M failed"
  local name=$1 out=$log/cargo.txt status=0
  shift
  step "$name"
  "$@" 2>&1 | tee "$out" || status=$?
  local p f
  p=$(sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
  f=$(sed -n 's/^test result: .* \([0-9][0-9]*\) passed; \([0-9][0-9]*\) failed.*/\2/p' "$out" | awk '{s+=$1} END {print s+0}')
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # it failed before counting
  passed=$((passed + p))
  failed=$((failed + f))
}

count_node() { # name command...: adds up node:test's TAP "# pass N" / "# fail N"
  local name=$1 out=$log/node.txt status=0
  shift
  step "$name"
  "$@" >"$out" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 300 "$out" # the failures, with their reasons
  else
    grep -E '^# (tests|suites|pass|fail|cancelled|skipped|duration_ms) ' "$out" || true
  fi
  local p f
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -n1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out" | tail -n1)
  p=${p:-0}
  f=${f:-0}
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  echo "$name: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
}

check "rustfmt (jitr-wasm)" cargo fmt -p jitr-wasm -- --check
check "build: wasm32 + wasm-bindgen + the JS layer, packed (pkg/)" jitr-wasm/build.sh --pack
check "clippy (jitr-wasm, wasm32, -D warnings)" \
  cargo clippy --locked -q -p jitr-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings
count_cargo "wasm-bindgen-test under Node (jitr-wasm/tests/api.rs)" \
  env CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --locked -p jitr-wasm --target wasm32-unknown-unknown
if [ -f jitr-wasm/pkg/jitr_wasm_bg.wasm ] && [ -f jitr-wasm/pkg/node.cjs ]; then
  check "tsc --noEmit over the .d.ts and a typed usage example" \
    jitr-wasm/node_modules/.bin/tsc -p jitr-wasm/tests/types
  count_node "node:test: JS API, errors, shared vectors, the page in Chromium, the packed tarball's consumers" \
    env CHROMIUM="$CHROMIUM" node --test --test-reporter=tap \
    jitr-wasm/tests/api.test.mjs jitr-wasm/tests/errors.test.mjs jitr-wasm/tests/vectors.test.mjs \
    jitr-wasm/tests/policy-vectors.test.mjs jitr-wasm/tests/jitp-vectors.test.mjs \
    jitr-wasm/tests/e2e.test.mjs jitr-wasm/tests/consumers.test.mjs
else
  echo "FAILED: no build, so no JS tests" >&2
  failed=$((failed + 1))
fi

printf '\n'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
