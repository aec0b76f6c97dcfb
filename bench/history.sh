#!/usr/bin/env bash
# The cost of the DDL history, in one run and one cluster:
# 1. the lemmy chain (247 migrations) with confiture.ddl_log and
#    confiture.snapshots on vs off (goal: ratio <= 1.15);
# 2. one query string of 1,000 vs 4,000 CREATE TABLE statements with the
#    log on: the time per statement should not grow with the string (goal:
#    within 1.5x), with the same strings and the log off for reference.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-5}
# 4,000 CREATE TABLEs in one transaction lock 12,000 relations
CLUSTER_OPTIONS="-c max_locks_per_transaction=1024" bench_cluster history
DIR=$BENCH_DIR
python3 bench/register_corpus.py "$CORPUS/lemmy" 247 > "$DIR/register.sql"
on=() off=()
for rep in $(seq "$REPS"); do
    for mode in off on; do
        fresh_db "b_history_$mode"
        psql -X -q -d "b_history_$mode" -c "SET client_min_messages = error" -f "$DIR/register.sql" >/dev/null
        psql -X -q -d "b_history_$mode" -c "CHECKPOINT"
        t0=$(now)
        psql -X -q -At -d "b_history_$mode" -c "SET client_min_messages = error" \
            -c "SET confiture.ddl_log = $mode" -c "SET confiture.snapshots = $mode" \
            -c "SELECT count(*) FROM confiture.migrate()" >/dev/null
        t1=$(now)
        if [ $mode = on ]; then on+=("$(calc "$t1 - $t0")"); else off+=("$(calc "$t1 - $t0")"); fi
    done
done
entries=$(psql -X -q -At -d b_history_on -c "SELECT count(*) FROM confiture.ddl_log")
snaps=$(psql -X -q -At -d b_history_on -c "SELECT count(*) FROM confiture.snapshot_objects")
printf "history: lemmy chain with the DDL log and snapshots on %.3f s vs off %.3f s (medians of %d; %s log entries, %s snapshot rows): ratio %.3f; best runs %.3f (goal <= 1.15)\n" \
    "$(median "${on[@]}")" "$(median "${off[@]}")" "$REPS" "$entries" "$snaps" \
    "$(calc "$(median "${on[@]}") / $(median "${off[@]}")")" "$(calc "$(minimum "${on[@]}") / $(minimum "${off[@]}")")"

create_tables_query_string 1000 > "$DIR/s1000.sql"
create_tables_query_string 4000 > "$DIR/s4000.sql"
declare -A per
for mode in off on; do
    for n in 1000 4000; do
        fresh_db b_history_string
        psql -X -q -d b_history_string -c "CHECKPOINT"
        t0=$(now)
        PGOPTIONS="-c confiture.ddl_log=$mode" psql -X -q -v ON_ERROR_STOP=1 -d b_history_string -f "$DIR/s$n.sql" >/dev/null
        t1=$(now)
        per[$mode$n]=$(calc "($t1 - $t0) / $n * 1000")
        logged=$(psql -X -q -At -d b_history_string -c "SELECT count(*) FROM confiture.ddl_log")
        printf "history: %d CREATE TABLE in one query string, log %s: %.2f s, %.3f ms per statement (%s log entries)\n" \
            "$n" "$mode" "$(calc "$t1 - $t0")" "${per[$mode$n]}" "$logged"
    done
done
printf "history: per-statement time, 4,000 vs 1,000 statements in one string: log on %.2f, log off %.2f (goal: log on <= 1.5)\n" \
    "$(calc "${per[on4000]} / ${per[on1000]}")" "$(calc "${per[off4000]} / ${per[off1000]}")"
