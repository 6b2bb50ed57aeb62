#!/usr/bin/env bash
# Builds jitr-iot's wheels: one abi3 wheel (every CPython >= 3.9) per architecture, tagged
# manylinux2014 (glibc >= 2.17: AWS Lambda, Amazon Linux 2 and 2023, every current
# distribution), for x86_64 and aarch64. Usage:
#
#   scripts/build-wheels.sh [x86_64] [aarch64]     (both when none is named)
#
# Each wheel is built with maturin and zig (the PyPI package `ziglang`) as the linker, so
# it links against glibc 2.17's symbols whatever the build machine's glibc; aarch64 is a
# cross build (`rustup target add aarch64-unknown-linux-gnu`). Then, for each wheel:
#   - `auditwheel show` (PyPI `auditwheel`) must report it consistent with manylinux2014
#     for its architecture (the wheel's own tag is only what the builder claimed);
#   - `pip install --platform manylinux2014_<arch> --only-binary=:all: --target ...` (the
#     AWS Lambda packaging recipe of jitr-py/README.md) must accept it.
# The wheels land in target/wheels/ (WHEEL_DIR overrides); the tools go into .venv (made
# if missing). Prints the build time of each wheel. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never PIP_DISABLE_PIP_VERSION_CHECK=1
step() { printf '\n==> wheels: %s\n' "$*"; }

archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(x86_64 aarch64)
for arch in "${archs[@]}"; do
  case $arch in
    x86_64 | aarch64) ;;
    *) echo "unknown architecture $arch (x86_64 or aarch64)" >&2; exit 2 ;;
  esac
done

out=${WHEEL_DIR:-target/wheels}
mkdir -p "$out"
out=$(cd "$out" && pwd)

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  step "create .venv with $($python --version)"
  "$python" -m venv .venv
fi
py=$PWD/.venv/bin/python

step "tools: maturin, ziglang, auditwheel"
"$py" -m pip install -q "maturin>=1.9.4,<2" "ziglang>=0.11" "auditwheel>=6"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
for arch in "${archs[@]}"; do
  triple=$arch-unknown-linux-gnu
  if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$triple"; then
    step "rustup target add $triple"
    rustup target add "$triple"
  fi

  step "build $arch (release, manylinux2014, zig)"
  rm -f "$out"/jitr_iot-"$version"-*"$arch".whl
  start=$SECONDS
  # maturin (cargo-zigbuild) runs zig as `$CARGO_ZIGBUILD_PYTHON_PATH -m ziglang`.
  CARGO_ZIGBUILD_PYTHON_PATH=$py "$py" -m maturin build --release --manifest-path jitr-py/Cargo.toml \
    --target "$triple" --zig --compatibility manylinux2014 --out "$out"
  wheel=$(ls "$out"/jitr_iot-"$version"-cp39-abi3-*manylinux2014_"$arch"*.whl)
  echo "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB) in $((SECONDS - start))s"

  step "auditwheel show $(basename "$wheel")"
  report=$("$py" -m auditwheel show "$wheel")
  echo "$report"
  # auditwheel names the most compatible tag the wheel's symbols allow.
  if ! grep -q "\"manylinux_2_17_$arch\"" <<<"$report"; then
    echo "auditwheel does not confirm manylinux2014 (manylinux_2_17) for $wheel" >&2
    exit 1
  fi

  step "the Lambda recipe accepts it: pip install --platform manylinux2014_$arch"
  target=$(mktemp -d)
  "$py" -m pip install -q --platform "manylinux2014_$arch" --implementation cp \
    --python-version 3.12 --only-binary=:all: --no-deps --target "$target" "$wheel"
  test -f "$target/jitr_iot/_jitr.abi3.so"
  echo "installed for Lambda (python3.12, $arch): $(ls "$target")"
  rm -rf "$target"
done

printf '\nwheels: %s\n' "$(cd "$out" && ls jitr_iot-"$version"-*.whl | tr '\n' ' ')"
