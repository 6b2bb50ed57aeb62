#!/usr/bin/env bash
# Builds the npm package jitr-wasm into jitr-wasm/pkg/ (one package for browsers, bundlers
# and Node, ES module and CommonJS; see npm/package.json and tools/package.mjs), and
# `npm pack`s it into jitr-wasm/pkg/jitr-wasm-<version>.tgz when given --pack.
# Needs: the wasm32-unknown-unknown target, clang (ring), wasm-bindgen-cli at the version
# jitr-wasm pins, and the npm dev dependencies (esbuild) in jitr-wasm/node_modules
# (scripts/test-wasm.sh installs them all). Prints the .wasm size.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# A size-optimised profile of our own, so that this build never changes the flags of
# anyone's native release build (profiles are workspace-wide; this one is ours alone).
profile=(
  --config 'profile.wasm-release.inherits="release"'
  --config 'profile.wasm-release.opt-level="z"'
  --config 'profile.wasm-release.lto=true'
  --config 'profile.wasm-release.codegen-units=1'
  --config 'profile.wasm-release.panic="abort"'
)
cargo build --locked -q -p jitr-wasm --target wasm32-unknown-unknown --profile wasm-release "${profile[@]}"
wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm-release/jitr_wasm.wasm"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
bindgen=$(mktemp -d)
trap 'rm -rf "$bindgen"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$bindgen" --out-name jitr_wasm \
  --remove-name-section --remove-producers-section "$wasm"
rm -rf jitr-wasm/pkg jitr-wasm/pkg-node
node jitr-wasm/tools/package.mjs "$bindgen" jitr-wasm/pkg "$version"

if [ "${1:-}" = "--pack" ]; then
  (cd jitr-wasm/pkg && npm pack --silent --pack-destination . >/dev/null)
  echo "packed: jitr-wasm/pkg/jitr-wasm-$version.tgz ($(wc -c <"jitr-wasm/pkg/jitr-wasm-$version.tgz") bytes)"
fi

raw=$(wc -c <jitr-wasm/pkg/jitr_wasm_bg.wasm)
gz=$(gzip -9 -c jitr-wasm/pkg/jitr_wasm_bg.wasm | wc -c)
echo "jitr_wasm_bg.wasm: $raw bytes raw, $gz bytes gzip -9"
