#!/usr/bin/env bash
# The gateway's tests (jitr-core/examples/gateway/tests.rs), on 127.0.0.1 only: 2,000
# concurrent devices, idle/half-open/slow-drip sockets, malformed packets of every type,
# an upstream broker restart, eviction, DeleteConnection, kill -9 mid-registration, an
# oversized chain and certificate, a second instance, the printed commands run verbatim,
# and on PostgreSQL the store outage rules and two gateway nodes.
#
# Installs mosquitto and mosquitto-clients when missing. Uses the PostgreSQL the caller
# started (JITR_TEST_PG, JITR_TEST_PG_STOP, JITR_TEST_PG_START: scripts/test.sh), or
# starts a throw-away one (scripts/lib/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
. scripts/lib/mosquitto.sh
mosquitto_install
if [ -z "${JITR_TEST_PG:-}" ]; then
  . scripts/lib/postgres.sh
  pg_start
  export JITR_TEST_PG=$JITR_PG_URL JITR_TEST_PG_STOP=$JITR_PG_STOP_CMD JITR_TEST_PG_START=$JITR_PG_START_CMD
fi
# The process tests start the gateway program itself.
cargo build --locked -q -p jitr-core --all-features --example gateway
export JITR_GATEWAY_BIN=$PWD/target/debug/examples/gateway
cargo test --locked -p jitr-core --all-features --example gateway -- --test-threads=2 "$@"
