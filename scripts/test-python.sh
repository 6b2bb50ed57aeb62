#!/usr/bin/env bash
# The Python package's tests, on the package as a user installs it: the manylinux2014 wheel.
#   1. scripts/build-wheels.sh x86_64: the release wheel a user (or AWS Lambda) installs,
#      tagged manylinux2014 and checked with auditwheel (tools in .venv, made if missing);
#   2. a virtual environment holding only the test tools (target/py-wheel-venv, made if
#      missing, or afresh with JITR_FRESH_VENV=1) — pytest, mypy, and what the tests use as
#      independent implementations: `cryptography` (makes CRLs), boto3/botocore and
#      `moto[iot]` (a mocked boto3 `iot` client), paho-mqtt (the handler's subscriber mode,
#      tested against Debian's mosquitto, installed when missing) — into which the wheel is installed with
#      pip (any previous jitr-iot uninstalled first);
#   3. pytest on jitr-py/tests against the installed wheel, `mypy --strict` on the
#      package's Python sources, the tests, examples and benchmark, and `mypy.stubtest` on
#      the installed package's type stubs.
# Needs python3 (>= 3.9, with venv and pip) and a Rust toolchain with rustup; reaches PyPI
# only for packages not in pip's cache. Safe to run again. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never PIP_DISABLE_PIP_VERSION_CHECK=1
start=$SECONDS
step() { printf '\n==> python: %s\n' "$*"; }

build_start=$SECONDS
WHEEL_DIR=target/wheels scripts/build-wheels.sh x86_64
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
wheel=$(ls "$PWD"/target/wheels/jitr_iot-"$version"-cp39-abi3-*manylinux2014_x86_64*.whl)
echo "wheel built in $((SECONDS - build_start))s"

python=${PYTHON:-python3}
venv=$PWD/target/py-wheel-venv
tools_start=$SECONDS
if [ "${JITR_FRESH_VENV:-0}" = 1 ] || [ ! -x "$venv/bin/python" ]; then
  step "a new venv ($venv) with $($python --version)"
  "$python" -m venv --clear "$venv"
else
  step "the test venv ($venv): test tools only, never a source or editable jitr"
fi
py=$venv/bin/python
"$py" -m pip install -q "pytest>=7" "mypy>=1.10" "cryptography>=42" "moto[iot]>=5" boto3 "paho-mqtt>=2,<3"
# The handler's subscriber test runs a real broker: Debian's mosquitto.
if ! [ -x /usr/sbin/mosquitto ] && ! command -v mosquitto >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
fi
echo "venv and test tools in $((SECONDS - tools_start))s"

step "pip install $(basename "$wheel")"
install_start=$SECONDS
"$py" -m pip uninstall -q -y jitr-iot 2>/dev/null || true
"$py" -m pip install -q --no-deps "$wheel"
where=$("$py" -c 'import jitr_iot; print(jitr_iot.__file__)')
echo "installed in $((SECONDS - install_start))s: $where"
case $where in
  "$venv"/*) ;;
  *) echo "jitr_iot was imported from $where, not from the wheel installed in $venv" >&2; exit 1 ;;
esac

cd jitr-py
step "pytest (against the installed wheel)"
"$py" -m pytest tests -q -p no:cacheprovider

step "mypy --strict (the package's Python sources)"
(cd python && "$py" -m mypy --strict --cache-dir ../../target/mypy-cache-package jitr_iot)

step "mypy --strict (tests, examples, bench)"
"$py" -m mypy --strict --cache-dir ../target/mypy-cache tests examples bench

step "mypy.stubtest (the installed package's stubs)"
(cd "$venv" && "$py" -m mypy.stubtest jitr_iot --allowlist "$OLDPWD/stubtest-allowlist.txt")

printf '\npython: all checks passed in %ss\n' "$((SECONDS - start))"
