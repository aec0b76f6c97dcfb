#!/usr/bin/env bash
# Apply the first 247 lemmy migrations (everything PostgreSQL 15 can parse)
# through one confiture.migrate() call, and through plain `psql -1 -f` per
# file, in the same cluster and the same run; print the ratio.
# Goal: ratio <= 1.0 (confiture is not slower than psql).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-247}
REPS=${REPS:-3}
bench_cluster migrate
DIR=$BENCH_DIR
files=$(ls -d "$CORPUS/lemmy"/*/ | sort | head -n "$N")

python3 bench/register_corpus.py "$CORPUS/lemmy" "$N" > "$DIR/register.sql"

psql_times=() conf_times=() reg_times=()
for rep in $(seq "$REPS"); do
    empty_db b_psql
    t0=$(now)
    psql_per_file "$files" b_psql
    t1=$(now)
    psql_times+=("$(calc "$t1 - $t0")")

    fresh_db b_conf
    psql -X -q -d b_conf -c "CHECKPOINT"
    t0=$(now)
    psql -X -q -d b_conf -v ON_ERROR_STOP=1 -c "SET client_min_messages = error" -f "$DIR/register.sql" >/dev/null
    t1=$(now)
    applied=$(psql -X -q -At -d b_conf -c "SET client_min_messages = error" \
        -c "SELECT count(*) FROM confiture.migrate() WHERE state = 'applied'")
    t2=$(now)
    [ "$applied" = "$N" ] || { echo "confiture applied $applied of $N"; exit 1; }
    reg_times+=("$(calc "$t1 - $t0")")
    conf_times+=("$(calc "$t2 - $t1")")
    printf "  rep %d: psql -1 -f per file %6.2f s | confiture.migrate() %6.2f s (+ register %5.2f s)\n" \
        "$rep" "${psql_times[-1]}" "${conf_times[-1]}" "${reg_times[-1]}"
done
mp=$(median "${psql_times[@]}") mc=$(median "${conf_times[@]}") mr=$(median "${reg_times[@]}")
printf "migrate: %d lemmy migrations, median of %d: psql %.2f s, confiture.migrate %.2f s (register %.2f s)\n" "$N" "$REPS" "$mp" "$mc" "$mr"
printf "migrate: ratio confiture/psql = %.3f (goal <= 1.0); with registration = %.3f\n" \
    "$(calc "$mc / $mp")" "$(calc "($mc + $mr) / $mp")"
