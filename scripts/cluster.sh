#!/usr/bin/env bash
# Throwaway PostgreSQL 15 clusters run by the `postgres` user on a unix
# socket inside the project (never a TCP port, never the system cluster).
#   cluster.sh start <dir>   init (if needed) and start; prints nothing
#   cluster.sh stop <dir>    stop if running
# CLUSTER_OPTIONS: more server options for a start, e.g. "-c max_locks_per_transaction=512"
# Source it to get cluster_start / cluster_stop / cluster_env.
# CONFITURE_PGBIN: another server build to run, e.g. a private copy with a build under test
PGBIN=${CONFITURE_PGBIN:-/usr/lib/postgresql/15/bin}

as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

# Each cluster gets a port derived from its path, so several can run at
# once (the port only names the socket file).
cluster_port() { echo $(( 20000 + $(echo -n "$1" | cksum | cut -d' ' -f1) % 20000 )); }

cluster_start() {
    local dir; dir=$(realpath -m "$1")
    mkdir -p "$dir"
    chown postgres: "$dir" 2>/dev/null || true
    local port; port=$(cluster_port "$dir")
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_postgres "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log"; return 1; }
    fi
    if ! as_postgres "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40 -c shared_buffers=512MB -c max_wal_size=4GB ${CLUSTER_OPTIONS:-}" \
            start >/dev/null || { tail -20 "$dir/server.log"; return 1; }
    fi
    export PGHOST="$dir" PGPORT="$port" PGUSER=postgres
}

cluster_stop() {
    local dir; dir=$(realpath -m "$1")
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

cluster_env() {
    local dir; dir=$(realpath -m "$1")
    echo "PGHOST=$dir PGPORT=$(cluster_port "$dir") PGUSER=postgres"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    case "${1:-}" in
        start) cluster_start "$2"; cluster_env "$2" ;;
        stop) cluster_stop "$2" ;;
        *) echo "usage: $0 start|stop <dir>" >&2; exit 2 ;;
    esac
fi
