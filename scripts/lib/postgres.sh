# Sourced by test scripts: starts a throw-away PostgreSQL cluster (Debian's package,
# installed when missing) on a free loopback port, as the unprivileged `postgres` user
# when run as root, and stops it on exit. Sets JITR_PG_URL (the `jitr` database).
#
#   . scripts/lib/postgres.sh && pg_start && ... ; (stopped by the EXIT trap it adds)

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  return 1
}

pg_install() {
  if ! pg_bin >/dev/null 2>&1; then
    echo "installing PostgreSQL (Debian package postgresql)"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
  pg_install
  local bin; bin=$(pg_bin)
  PG_DIR=$(mktemp -d /tmp/jitr-pg.XXXXXX)
  PG_PORT=$(free_port)
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  PG_AS=("${as[@]}")
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_BIN=$bin
  trap pg_stop EXIT
  "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres jitr
  export JITR_PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/jitr"
  # For the outage test: the commands that stop and start this server.
  export JITR_PG_STOP_CMD="${as[*]} $bin/pg_ctl -D $PG_DIR/data -m fast stop"
  export JITR_PG_START_CMD="${as[*]} $bin/pg_ctl -D $PG_DIR/data -l $PG_DIR/server.log -w -o '-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1' start"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

# Stops the server (fast when asked to simulate an outage: pg_stop_now).
pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}
