#!/usr/bin/env bash
# The cost of the DDL log and the per-migration snapshots: the lemmy chain
# (247 migrations) with confiture.ddl_log and confiture.snapshots on vs off,
# in one run and one cluster (goal: ratio <= 1.15).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-5}
bench_cluster history
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
