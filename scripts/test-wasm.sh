#!/usr/bin/env bash
# Builds jitr-wasm (wasm32 + wasm-bindgen, for browsers and Node) and runs all its tests:
# wasm-bindgen-test under Node, the shared vectors through the JS API, tsc over the
# TypeScript types, and the page end to end in headless Chromium.
#
# Installs what it needs itself, each step skipped when already present at the right
# version: clang and chromium (Debian), the wasm32 target, wasm-bindgen-cli at the version
# jitr-wasm pins, and the npm dev dependencies from jitr-wasm/package-lock.json.
#
# Usage (from anywhere): scripts/test-wasm.sh [--install-only]
# The last line is "N passed, N failed"; the exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export PATH="$HOME/.cargo/bin:$PATH"

WASM_BINDGEN_VERSION=0.2.130 # = the wasm-bindgen pin in jitr-wasm/Cargo.toml
CHROMIUM=/usr/bin/chromium

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- install (idempotent) ----------------------------------------------------------------

step "system packages: clang (ring for wasm32), chromium (page test)"
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -x "$CHROMIUM" ] || missing+=(chromium)
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

step "npm dev dependencies (jitr-wasm/package-lock.json)"
if [ -f jitr-wasm/node_modules/.package-lock.json ] &&
  [ jitr-wasm/node_modules/.package-lock.json -nt jitr-wasm/package-lock.json ]; then
  echo "present"
else
  (cd jitr-wasm && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi

# --- build and test ----------------------------------------------------------------------
exec node jitr-wasm/tests/run-all.mjs
