#!/usr/bin/env bash
# The cost of the DDL history in instructions, not seconds: the lemmy chain
# (247 migrations) through one confiture.migrate() in a server run under
# callgrind, with the log and the snapshots off, each alone, and both on.
# Instruction counts repeat exactly whatever else the machine does, so the
# split between the log and the snapshots is not noise (bench/history.sh
# gives the wall-clock ratio). Then one query string of 1,000 vs 4,000
# CREATE TABLEs with the log on and off: instructions per statement.
# Takes about twenty minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
command -v valgrind >/dev/null || { echo "history_instructions: valgrind is not installed, skipped"; exit 0; }
DIR=$(realpath -m .run/bench-history-instructions)
OUT=$DIR/callgrind
rm -rf "$DIR" && mkdir -p "$OUT" && chown -R postgres: "$DIR"
as_postgres "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
export PGHOST=$DIR PGPORT=$(cluster_port "$DIR") PGUSER=postgres
as_postgres valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$OUT/cg.%p" \
    "$PGBIN/postgres" -D "$DIR/data" -p "$PGPORT" -k "$DIR" -c listen_addresses= -c fsync=off \
    -c synchronous_commit=off -c autovacuum=off -c max_wal_size=4GB -c max_locks_per_transaction=1024 >"$OUT/server.log" 2>&1 &
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
ratio() { calc "round($1 / $2, 3)"; }
echo "history_instructions: ratio to all off: log alone $(ratio "${instr[on,off]}" "${instr[off,off]}"), snapshots alone $(ratio "${instr[off,on]}" "${instr[off,off]}") (nothing logged: nothing to snapshot), both $(ratio "${instr[on,on]}" "${instr[off,off]}") (goal <= 1.15)"

declare -A per
for n in 1000 4000; do
    create_tables_query_string $n >"$DIR/s$n.sql"
    for log in off on; do
        psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS b_hist_string" -c "CREATE DATABASE b_hist_string"
        psql -X -q -d b_hist_string -c "SET client_min_messages = error" -c "CREATE EXTENSION confiture"
        base=$(psql -X -q -At -d b_hist_string -c "SELECT pg_backend_pid()")
        pid=$( { echo "SET confiture.ddl_log = $log;"; echo "SELECT pg_backend_pid();"; cat "$DIR/s$n.sql"; } | psql -X -q -At -v ON_ERROR_STOP=1 -d b_hist_string)
        for p in $base $pid; do for _ in $(seq 60); do grep -q '^totals:' "$OUT/cg.$p" 2>/dev/null && break; sleep 1; done; done
        total=$(( $(awk '/^totals:/ {print $2}' "$OUT/cg.$pid") - $(awk '/^totals:/ {print $2}' "$OUT/cg.$base") ))
        per[$log$n]=$(( total / n ))
        echo "history_instructions: $n CREATE TABLE in one query string, log $log: ${per[$log$n]} instructions per statement"
    done
done
echo "history_instructions: per statement, 4,000 vs 1,000 in one string: log on $(ratio "${per[on4000]}" "${per[on1000]}"), log off $(ratio "${per[off4000]}" "${per[off1000]}") (goal: log on <= 1.5)"
