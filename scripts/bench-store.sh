#!/usr/bin/env bash
# The durable stores measured against issue 10's goals, in one run, printed as one table:
# the known-certificate decision and a registering first connect on each store
# (criterion, benches/store_ops.rs), change propagation between two nodes, 100,000 CAs
# registered one by one, and at 1 M and 10 M certificates the hot-index load, its
# resident memory and one list page (benches/store_scale.rs).
#
#   scripts/bench-store.sh            # about 15 minutes on a quiet machine; needs ~7 GB of RAM for /dev/shm
#
# PostgreSQL is a throw-away cluster (scripts/lib/postgres.sh, fsync on). What must be
# durable (commits, propagation, CAs) is written to the disk, under target/bench-store.
# The bulk data of the 1 M / 10 M cases (5-7 GB at 10 M) goes to JITR_BENCH_SCALE_DIR
# (default: a directory in /dev/shm; PostgreSQL through a tablespace there), deleted
# as soon as each case is measured: those cases read from the page cache either way.
# Knobs: JITR_BENCH_SIZES (default "1000000 10000000"), JITR_BENCH_CA_SECONDS (the time
# budget of each durable store's CA run, default 60), JITR_BENCH_CAS (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

sizes=${JITR_BENCH_SIZES:-"1000000 10000000"}
ca_seconds=${JITR_BENCH_CA_SECONDS:-60}
cas=${JITR_BENCH_CAS:-100000}
disk_dir=$PWD/target/bench-store
scale_dir=${JITR_BENCH_SCALE_DIR:-/dev/shm/jitr-bench-$$}
results=$disk_dir/results-$$.jsonl
mkdir -p "$disk_dir" "$scale_dir"

echo "==> building the benchmarks"
features=bench-internals,sqlite,postgres
scale_bin=$(cargo bench --locked -q -p jitr-core --features $features --bench store_scale --bench store_ops \
  --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys; print([m["executable"] for m in map(json.loads, sys.stdin) if (m.get("executable") or "").split("/")[-1].startswith("store_scale-")][-1])')

. scripts/lib/postgres.sh
pg_start
cleanup() {
  rm -rf "$scale_dir" "$disk_dir"/*.db "$disk_dir"/*.db-wal "$disk_dir"/*.db-shm
  pg_stop
}
trap cleanup EXIT
pg_base=${JITR_PG_URL%/*}
psql_() { psql -q -X -v ON_ERROR_STOP=1 "$JITR_PG_URL" "$@"; }
# Bound the WAL on the disk while millions of rows are written (into /dev/shm).
psql_ -c "ALTER SYSTEM SET max_wal_size = '256MB'" -c "SELECT pg_reload_conf()" >/dev/null
mkdir -p "$scale_dir/pgts"
if [ "$(id -u)" = 0 ]; then chown postgres: "$scale_dir/pgts"; fi
psql_ -c "CREATE TABLESPACE bench_scale LOCATION '$scale_dir/pgts'"
fresh_db() { # name [tablespace] -> URL
  psql_ -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 ${2:+TABLESPACE $2}"
  echo "$pg_base/$1"
}
run() { echo "    $*" >&2; "$scale_bin" "$@" | tee -a "$results"; }
: >"$results"

echo "==> criterion: known-certificate decision and registration on each store"
rm -rf target/criterion/store_known_1000 target/criterion/store_register
JITR_BENCH_PG=$JITR_PG_URL JITR_BENCH_DIR=$disk_dir \
  cargo bench --locked -q -p jitr-core --features $features --bench store_ops 2>&1 |
  grep -E '^(store_|\s+time:)' || true

if command -v valgrind >/dev/null; then
  echo "==> the same decision counted in instructions (callgrind: deterministic on a busy machine)"
  count() { # store URL, measured function -> instructions per decision
    local out=$disk_dir/callgrind.out
    valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="store_scale::$2" \
      "$scale_bin" decide "$1" 200 >/dev/null 2>&1
    callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1 / 200}'
    rm -f "$out"
  }
  for s in floor memory: "sqlite://$disk_dir/decide.db" "$(fresh_db decide)"; do
    f=measure_decide; [ "$s" = floor ] && f=measure_floor
    i=$(count "$s" $f)
    echo "{\"case\": \"instructions\", \"store\": \"${s%%:*}\", \"per_decision\": $i}" | tee -a "$results"
  done
  psql_ -c "DROP DATABASE decide"
else
  echo "(no valgrind: the instruction counts are skipped; apt-get install valgrind)"
fi

echo "==> change propagation, node A to node B"
run propagate "sqlite://$disk_dir/propagate.db" 300
run propagate "$(fresh_db propagate)" 300

echo "==> $cas CAs registered one by one (each with its proof of possession)"
run cas memory: "$cas" 120
run cas "sqlite://$disk_dir/cas.db" "$cas" "$ca_seconds"
run cas "$(fresh_db cas)" "$cas" "$ca_seconds"
psql_ -c "DROP DATABASE propagate" -c "DROP DATABASE cas"

for n in $sizes; do
  echo "==> $n certificates: bulk load, then a fresh node's startup, its memory, list pages"
  db=$scale_dir/fleet_$n.db
  run fill "sqlite://$db" "$n"
  run load "sqlite://$db" "$n"
  if [ "$n" -le 1000000 ]; then run list "sqlite://$db" "$n"; fi
  rm -f "$db" "$db-wal" "$db-shm"
  url=$(fresh_db fleet_$n bench_scale)
  run fill "$url" "$n"
  run load "$url" "$n"
  if [ "$n" -le 1000000 ]; then run list "$url" "$n"; fi
  psql_ -c "DROP DATABASE fleet_$n"
  if [ "$n" -le 1000000 ]; then run list memory: "$n"; fi
done

echo
python3 - "$results" target/criterion <<'EOF'
import glob, json, os, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
crit = {}
for bench in glob.glob(os.path.join(sys.argv[2], "store_*", "*", "new", "benchmark.json")):
    meta = json.load(open(bench))
    est = json.load(open(os.path.join(os.path.dirname(bench), "estimates.json")))
    crit[(meta["group_id"], meta["function_id"])] = est["median"]["point_estimate"]

def t(ns):
    if ns is None: return "n/a"
    if ns >= 1e6: return f"{ns/1e6:.2f} ms"
    if ns >= 1e3: return f"{ns/1e3:.1f} µs"
    return f"{ns:.0f} ns"

def ok(cond): return "✓" if cond else "✗"
def find(case, **kw):
    return [r for r in rows if r["case"] == case and all(r.get(k) == v for k, v in kw.items())]

out = ["| case | store | measured | beside | ratio | goal |", "|---|---|---:|---|---:|---|"]
g = "store_known/1000"
floor = crit.get((g, "floor: sha256 + HashMap::get"))
mem = crit.get((g, "jitr: Registry::decide, memory store"))
for s in ["memory", "sqlite", "postgresql"]:
    v = crit.get((g, f"jitr: Registry::decide, {s} store"))
    if v is None: continue
    out.append(f"| known ACTIVE certificate decided, 1 k loaded | {s} | {t(v)} | floor (SHA-256 + HashMap::get) {t(floor)} | {v/floor:.2f}× | ≤ 1.5× {ok(v/floor <= 1.5)} |")
    if s != "memory":
        out.append(f"| same | {s} | {t(v)} | memory store {t(mem)} | {v/mem:.2f}× | ≤ 1.05× {ok(v/mem <= 1.05)} |")
ins = {r["store"]: r["per_decision"] for r in rows if r["case"] == "instructions"}
ins["postgresql"] = ins.pop("postgresql", None) or ins.pop("postgres", None)
for s in ["memory", "sqlite", "postgresql"]:
    if ins.get(s) and ins.get("floor") and ins.get("memory"):
        out.append(f"| same, in instructions (callgrind) | {s} | {ins[s]:,.0f} | floor {ins['floor']:,.0f}; memory store {ins['memory']:,.0f} | {ins[s]/ins['floor']:.2f}× floor, {ins[s]/ins['memory']:.3f}× memory | ≤ 1.5×, ≤ 1.05× {ok(ins[s]/ins['floor'] <= 1.5 and ins[s]/ins['memory'] <= 1.05)} |")
g = "store_register"
mem = crit.get((g, "jitr: Registry::decide registers, memory store"))
fsync = crit.get((g, "floor: 4 KiB write + fdatasync (SQLite's commit)"))
wal = crit.get((g, "floor: PostgreSQL one-row insert, committed (WAL flush)"))
rt = crit.get((g, "floor: PostgreSQL round trip (SELECT 1)"))
out.append(f"| first connect that registers (P-256) | memory | {t(mem)} | | | report |")
for s, floor_name, f in [("sqlite", "one 4 KiB write + fdatasync", fsync), ("postgresql", "one committed one-row insert (WAL flush)", wal)]:
    v = crit.get((g, f"jitr: Registry::decide registers, {s} store"))
    if v is None or f is None: continue
    extra = f" (a round trip alone: {t(rt)})" if s == "postgresql" and rt else ""
    out.append(f"| same, durable commit | {s} | {t(v)} | memory store; {floor_name} {t(f)}{extra} | {v/mem:.1f}× memory, {v/f:.2f}× the commit | report |")
for r in find("propagate"):
    out.append(f"| change propagation A → B, p50 / p99 ({r['samples']} changes) | {r['store']} | {r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms | after A's call returned: {r['after_ack_p50_ms']:.1f} / {r['after_ack_p99_ms']:.1f} ms | | p99 ≤ 100 ms {ok(r['p99_ms'] <= 100)} |")
for r in find("cas"):
    full = r["registered"] == r["asked"]
    total = r["seconds"] if full else r["projected_seconds_for_asked"]
    what = f"{r['seconds']:.1f} s" if full else f"{r['registered']:,} in {r['seconds']:.0f} s → {total:.0f} s projected"
    out.append(f"| {r['asked']:,} CAs registered one by one, proof of possession each | {r['store']} | {what}; {r['mean_ms']:.3f} ms each (first 1 k {r['first_1000_mean_ms']:.3f}, last 1 k {r['last_1000_mean_ms']:.3f}) | the proof of possession alone {r['proof_of_possession_floor_ms']:.3f} ms | {r['mean_ms']/r['proof_of_possession_floor_ms']:.1f}× | ≤ 10 s {ok(total <= 10)} |")
for r in find("load"):
    goal = f"≤ 10 s {ok(r['seconds'] <= 10)}" if r["n"] >= 10_000_000 else ""
    out.append(f"| hot-index load at startup, {r['n']:,} certificates | {r['store']} | {r['seconds']:.2f} s | | | {goal} |")
for r in find("load"):
    goal = f"≤ 64 B {ok(r['rss_bytes_per_certificate'] <= 64)}" if r["n"] >= 10_000_000 else "(≤ 64 B is set at 10 M)"
    out.append(f"| RSS growth per certificate after that load, {r['n']:,} | {r['store']} | {r['rss_bytes_per_certificate']:.1f} B (peak {r['peak_rss_bytes_per_certificate']:.1f} B) | hot index {r['hot_index_bytes_per_certificate']:.1f} B | | {goal} |")
for s in ["memory", "sqlite", "postgresql"]:
    for size in [25, 250]:
        rs = find("list", store=s, page_size=size)
        if not rs: continue
        p50 = max(r["p50_ms"] for r in rs); p99 = max(r["p99_ms"] for r in rs)
        out.append(f"| one list page of {size} at a marker in the deepest fifth, {rs[0]['n']:,} certificates, p50 / p99 (worse direction) | {s} | {p50:.2f} / {p99:.2f} ms | | | p50 ≤ 1 ms {ok(p50 <= 1)}, p99 {ok(p99 <= 1)} |")
print("\n".join(out))
EOF
