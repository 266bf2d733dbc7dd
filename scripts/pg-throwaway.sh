#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: `start DIR PORT` creates DIR (trust auth, socket in DIR, TCP on
# 127.0.0.1:PORT only) and starts it; `stop DIR PORT` stops it and removes DIR. As root the cluster runs as the
# `postgres` user (PostgreSQL refuses to run as root); otherwise as the calling user.
# Then: FACEGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres npm test
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"; port="${3:-55432}"
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR [PORT]" >&2
  exit 2
fi
bin="${PG_BIN:-}"
if [[ -z "$bin" ]]; then
  if command -v pg_ctl >/dev/null; then
    bin="$(dirname "$(command -v pg_ctl)")"
  else
    # Debian installs the server binaries outside PATH; take the newest major version.
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  fi
fi
if [[ -z "$bin" || ! -x "$bin/pg_ctl" ]]; then
  echo "PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)" >&2
  exit 1
fi
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    mkdir -p "$dir"
    if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      as_owner "$bin/initdb" -D "$dir" -A trust -U postgres --no-sync >/dev/null
    fi
    # fsync off: the cluster is thrown away, durability buys nothing here.
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -w start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [[ -f "$dir/postmaster.pid" ]]; then
      as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
    fi
    # Only ever remove a folder that is a cluster (a mistyped DIR must not cost anything).
    if [[ -f "$dir/PG_VERSION" ]]; then rm -rf "$dir"; fi
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
