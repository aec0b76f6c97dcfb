#!/usr/bin/env bash
# The lemmy folder applied by `confiture migrate up` (register every file,
# apply the first 247: everything PostgreSQL 15 parses, then stop at the
# 248th) vs `psql -1 -f` per file for the same 247 files, same cluster,
# same run. Goal: ratio <= 1.0.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=247
REPS=${REPS:-3}
cargo build -q --release -p confiture-cli
BIN=target/release/confiture
bench_cluster cli_migrate
files=$(ls -d "$CORPUS/lemmy"/*/ | sort | head -n "$N")
psql_times=() cli_times=()
for rep in $(seq "$REPS"); do
    empty_db b_psql
    t0=$(now)
    psql_per_file "$files" b_psql
    t1=$(now)
    psql_times+=("$(calc "$t1 - $t0")")

    fresh_db b_cli
    t0=$(now)
    PGDATABASE=b_cli NO_COLOR=1 "$BIN" migrate up --dir "$CORPUS/lemmy" >/dev/null 2>&1 || true
    t1=$(now)
    applied=$(psql -X -q -At -d b_cli -c "SELECT count(*) FROM confiture.migrations WHERE state = 'applied'")
    [ "$applied" = "$N" ] || { echo "confiture applied $applied of $N"; exit 1; }
    cli_times+=("$(calc "$t1 - $t0")")
    printf "  rep %d: psql -1 -f per file %6.2f s | confiture migrate up %6.2f s\n" "$rep" "${psql_times[-1]}" "${cli_times[-1]}"
done
mp=$(median "${psql_times[@]}") mc=$(median "${cli_times[@]}")
printf "cli_migrate: %d lemmy migrations, median of %d: psql %.2f s, confiture migrate up %.2f s (all 342 files registered)\n" "$N" "$REPS" "$mp" "$mc"
printf "cli_migrate: ratio confiture/psql = %.3f (goal <= 1.0)\n" "$(calc "$mc / $mp")"
