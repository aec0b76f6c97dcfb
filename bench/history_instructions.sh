#!/usr/bin/env bash
# The cost of the DDL history in instructions, not seconds: the lemmy chain
# (247 migrations) through one confiture.migrate() in a server run under
# callgrind, with the log and the snapshots off, each alone, and both on.
# Instruction counts repeat exactly whatever else the machine does, so the
# split between the log and the snapshots is not noise (bench/history.sh
# gives the wall-clock ratio). Takes about ten minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster.sh
PGBIN=${CONFITURE_PGBIN:-$PGBIN}   # another build to measure, e.g. a private copy
command -v valgrind >/dev/null || { echo "history_instructions: valgrind is not installed, skipped"; exit 0; }
CORPUS=${CONFITURE_CORPUS:-$(realpath ../shared/corpus)}
DIR=$(realpath -m .run/bench-history-instructions)
OUT=$DIR/callgrind
rm -rf "$DIR" && mkdir -p "$OUT" && chown -R postgres: "$DIR"
as_postgres "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
export PGHOST=$DIR PGPORT=$(cluster_port "$DIR") PGUSER=postgres
as_postgres valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$OUT/cg.%p" \
    "$PGBIN/postgres" -D "$DIR/data" -p "$PGPORT" -k "$DIR" -c listen_addresses= -c fsync=off \
    -c synchronous_commit=off -c autovacuum=off -c max_wal_size=4GB >"$OUT/server.log" 2>&1 &
trap 'as_postgres "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true' EXIT
for _ in $(seq 180); do pg_isready -q && break; sleep 1; done
python3 bench/register_corpus.py "$CORPUS/lemmy" 247 >"$DIR/register.sql"

declare -A instr
for mode in off,off on,off off,on on,on; do
    IFS=, read -r log snap <<<"$mode"
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS b_hist_instr" -c "CREATE DATABASE b_hist_instr"
    psql -X -q -d b_hist_instr -c "SET client_min_messages = error" -c "CREATE EXTENSION confiture" -f "$DIR/register.sql" >/dev/null
    # one connection per mode: its backend's count is the migrate() call (plus a constant start-up)
    pid=$(psql -X -q -At -d b_hist_instr <<SQL
SET client_min_messages = error;
SET confiture.ddl_log = $log;
SET confiture.snapshots = $snap;
SELECT pg_backend_pid();
SELECT count(*) FROM confiture.migrate() \g /dev/null
SQL
)
    for _ in $(seq 60); do grep -q '^totals:' "$OUT/cg.$pid" 2>/dev/null && break; sleep 1; done
    instr[$mode]=$(awk '/^totals:/ {print $2}' "$OUT/cg.$pid")
    printf "history_instructions: log %-3s snapshots %-3s %'15d instructions\n" "$log" "$snap" "${instr[$mode]}"
done
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
echo "history_instructions: ratio to all off: log alone $(ratio "${instr[on,off]}" "${instr[off,off]}"), snapshots alone $(ratio "${instr[off,on]}" "${instr[off,off]}") (nothing logged: nothing to snapshot), both $(ratio "${instr[on,on]}" "${instr[off,off]}") (goal <= 1.15)"
