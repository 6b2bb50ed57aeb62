#!/usr/bin/env bash
# Builds jitr-wasm into two npm packages:
#   jitr-wasm/pkg/       ES module for browsers (wasm-bindgen --target web): `await init()` first
#   jitr-wasm/pkg-node/  CommonJS for Node (wasm-bindgen --target nodejs): ready on require/import
# Needs: the wasm32-unknown-unknown target, clang (ring), wasm-bindgen-cli at the version
# jitr-wasm pins (scripts/test-wasm.sh installs all three). Prints the .wasm size.
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
for target in web nodejs; do
  out=jitr-wasm/pkg
  [ "$target" = nodejs ] && out=jitr-wasm/pkg-node
  rm -rf "$out"
  wasm-bindgen --target "$target" --out-dir "$out" --out-name jitr_wasm \
    --remove-name-section --remove-producers-section "$wasm"
  sed "s/@VERSION@/$version/" "jitr-wasm/npm/package.$target.json" >"$out/package.json"
  cp jitr-wasm/README.md "$out/README.md"
done

raw=$(wc -c <jitr-wasm/pkg/jitr_wasm_bg.wasm)
gz=$(gzip -9 -c jitr-wasm/pkg/jitr_wasm_bg.wasm | wc -c)
echo "jitr_wasm_bg.wasm: $raw bytes raw, $gz bytes gzip -9"
