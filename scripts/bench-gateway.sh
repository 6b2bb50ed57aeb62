#!/usr/bin/env bash
# The gateway's benchmark (not a test): a release build of the gateway example in its
# --bench mode, on 127.0.0.1. In one run: connections/s, p99 CONNECT latency and CPU per
# connection at concurrency 1, 16, 64, 256 through the gateway (to mosquitto) beside
# mosquitto's own TLS listener (require_certificate true, the same device certificates);
# RSS per idle connection; eviction latency; publishes/s through the proxy and compiled
# policy checks/s. Prints a table with the ratios. Takes about two minutes.
#
# Installs mosquitto when missing. The machine's other load shows in the figures: run it
# on a quiet machine. With 4 cores or more the servers run on half of them and the load
# generator on the other half (util-linux's taskset); JITR_BENCH_SPLIT=1 splits 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/gateway.sh
gateway_release_build
JITR_LOG=${JITR_LOG:-warn} exec target/release/examples/gateway --bench "$@"
