# Sourced by scripts/demo.sh and scripts/bench-gateway.sh (from the repository's root):
# the gateway example's release build, with mosquitto (Debian's) installed when missing.
. scripts/lib/mosquitto.sh

gateway_release_build() {
  mosquitto_install
  export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
  cargo build --locked --release -q -p jitr-core --all-features --example gateway
}
