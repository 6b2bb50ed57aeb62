#!/usr/bin/env bash
# CI for the fuzz targets: installs cargo-fuzz if missing, extracts the seeds, builds
# every target and runs each for a short fixed time (FUZZ_SECONDS, default 10) on its
# corpus and its committed regressions, then prints the executions per target.
# Idempotent; run from anywhere. Longer runs: scripts/fuzz-long.sh TARGET SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
secs=${FUZZ_SECONDS:-10}
start=$SECONDS

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
rustup run nightly rustc --version >/dev/null

python3 fuzz/extract_seeds.py

cd fuzz
cargo +nightly fuzz build
summary=""
for target in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$target" "artifacts/$target"
  log="artifacts/$target/test-fuzz.log"
  if ! cargo +nightly fuzz run "$target" "corpus/$target" "regressions/$target" -- \
      -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  line=$(printf '%-14s %10s executions in %ss' "$target" "${execs:-?}" "$secs")
  echo "$line"
  summary+="$line"$'\n'
done
printf '\nfuzz targets: all ran clean (%ss in all)\n%s' "$((SECONDS - start))" "$summary"
