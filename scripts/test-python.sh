#!/usr/bin/env bash
# The Python package's tests, on the package as a user installs it:
#   1. a virtual environment in .venv (made if missing) with pytest and mypy (and maturin,
#      for `maturin develop` while working on the binding), plus what the activation
#      handler's tests use: `cryptography` (makes CRLs) and `moto[iot]` (a mocked boto3
#      `iot` client, an independent implementation of the API; brings boto3);
#   2. `pip install ./jitr-py`: pip builds the abi3 wheel with maturin (PEP 517, one
#      release build) and installs it;
#   3. pytest on jitr-py/tests, `mypy --strict` on the package's Python sources, the tests
#      and examples, and `mypy.stubtest` on the installed package's type stubs.
# Needs python3 (>= 3.9, with venv and pip) and a Rust toolchain; reaches PyPI only for
# packages not yet installed. Safe to run again. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never PIP_DISABLE_PIP_VERSION_CHECK=1
start=$SECONDS
step() { printf '\n==> python: %s\n' "$*"; }

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  step "create .venv with $($python --version)"
  "$python" -m venv .venv
fi
py=.venv/bin/python

step "tools: pytest, mypy, maturin, cryptography, moto[iot]"
"$py" -m pip install -q "pytest>=7" "mypy>=1.10" "maturin>=1.9.4,<2" "cryptography>=42" "moto[iot]>=5"

step "pip install ./jitr-py (release build)"
build_start=$SECONDS
"$py" -m pip install -q --force-reinstall --no-deps ./jitr-py
echo "built and installed in $((SECONDS - build_start))s: $("$py" -c 'import jitr_iot; print(jitr_iot.__file__)')"

cd jitr-py
step "pytest"
"../$py" -m pytest tests -q -p no:cacheprovider

step "mypy --strict (the package's Python sources)"
(cd python && "../../$py" -m mypy --strict --cache-dir ../../target/mypy-cache-package jitr_iot)

step "mypy --strict (tests, examples, bench)"
"../$py" -m mypy --strict --cache-dir ../target/mypy-cache tests examples bench

step "mypy.stubtest (the installed package's stubs)"
"../$py" -m mypy.stubtest jitr_iot

printf '\npython: all checks passed in %ss\n' "$((SECONDS - start))"
