#!/usr/bin/env bash
# Runs one fuzz target for longer than CI does, on the whole seed pool (the limbo-derived
# seeds included: loading them takes libFuzzer a few minutes before fuzzing starts).
#
#   scripts/fuzz-long.sh TARGET SECONDS [libFuzzer options...]
#
# New inputs go to fuzz/corpus/TARGET, crashes to fuzz/artifacts/TARGET (both ignored by
# git). A crash that is fixed goes into fuzz/regressions/TARGET/ (committed), which the
# ordinary `cargo test` replays. Prints the total executions at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: scripts/fuzz-long.sh TARGET SECONDS [libFuzzer options...]"
target=${1:?$usage}
secs=${2:?$usage}
shift 2

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
python3 fuzz/extract_seeds.py --quiet

cd fuzz
mkdir -p "corpus/$target" "artifacts/$target"
dirs=("corpus/$target" "regressions/$target")
if [ -d "corpus/limbo/$target" ]; then
  dirs+=("corpus/limbo/$target")
fi
log="artifacts/$target/fuzz-long.log"
status=0
cargo +nightly fuzz run "$target" "${dirs[@]}" -- \
  -max_total_time="$secs" -timeout=10 -print_final_stats=1 "$@" 2>&1 | tee "$log" || status=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
printf '\n%s: %s executions in %ss (log: fuzz/%s)\n' "$target" "${execs:-?}" "$secs" "$log"
exit "$status"
