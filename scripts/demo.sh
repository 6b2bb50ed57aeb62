#!/usr/bin/env bash
# The README's main job, in one command: mosquitto, jitr's gateway on a SQLite store, the
# activation handler as its own process, and real MQTT clients through the whole JITR
# story (first connect → CONNACK 5 and the event on the broker, activation and AWS's
# sample policy, CONNACK 0, allowed and denied publishes and subscriptions, revocation of
# a live session, a restart). Exits 0 when every step behaved.
#
#   scripts/demo.sh                                        # the story
#   scripts/demo.sh --listen 127.0.0.1:8883 --dir ./gw     # the long-lived gateway
#
# Installs mosquitto and mosquitto-clients (Debian) when missing; builds with cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/gateway.sh
gateway_release_build
exec target/release/examples/gateway "$@"
