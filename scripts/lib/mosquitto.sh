# Sourced by scripts: installs Debian's mosquitto (the broker) and mosquitto-clients
# (mosquitto_pub, mosquitto_sub) when missing. The gateway starts its own mosquitto with
# its own config file; the package's service is not used.
#
#   . scripts/lib/mosquitto.sh && mosquitto_install

mosquitto_install() {
  if { [ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1; } &&
    command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1; then
    return 0
  fi
  echo "installing mosquitto and mosquitto-clients (Debian packages)"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    mosquitto mosquitto-clients openssl >/dev/null
}
