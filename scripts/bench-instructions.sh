#!/usr/bin/env bash
# Instruction counts of the hot path beside its baselines (callgrind): deterministic, so
# they cross-check the criterion ratios on a shared machine. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
bin=$(cargo bench --locked -q -p jitr-core --features bench-internals --bench instructions --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable") and "instructions" in m["executable"]][-1])')
count() { # case, toggled functions -> instructions
  local out=target/callgrind.$1.out
  valgrind --tool=callgrind --callgrind-out-file="$out" $2 "$bin" "$1" >/dev/null 2>&1
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
m="--toggle-collect=instructions::measure"
s="--toggle-collect=instructions::server_new --toggle-collect=instructions::server_step"
row() { # name, jitr, baseline name, baseline, iterations
  python3 -c "import sys; n=int(sys.argv[5]); j=int(sys.argv[2])/n; b=int(sys.argv[4])/n; print(f'| {sys.argv[1]} | {j:,.0f} | {sys.argv[3]} | {b:,.0f} | {j/b:.2f}× |')" "$@"
}
echo "| case | jitr (instructions) | baseline | baseline (instructions) | ratio |"
echo "|---|---|---|---|---|"
row "known ACTIVE decision (1k registered)" "$(count known-jitr "$m")" "SHA-256 + HashMap::get" "$(count known-floor "$m")" 200
row "new certificate registered, P-256 CA" "$(count new-jitr-p256 "$m")" "webpki parse + verify" "$(count new-floor-p256 "$m")" 200
row "new certificate registered, RSA-2048 CA" "$(count new-jitr-rsa "$m")" "webpki parse + verify" "$(count new-floor-rsa "$m")" 200
row "TLS 1.3 handshake with client auth, server side" "$(count handshake-jitr "$s")" "WebPkiClientVerifier" "$(count handshake-webpki "$s")" 20
