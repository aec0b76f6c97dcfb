#!/usr/bin/env bash
# Lint stays linear: confiture.lint over 1k, 10k and 100k statements (one
# script each, statements on one line and one per line); prints the time
# per statement and the ratio of the 100k figure to the 1k figure
# (goal: <= 2). Median of REPS runs each.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-3}
bench_cluster lint_scale
fresh_db b_lint_scale
# the fixed cost of one psql call, subtracted so the 1k figure is not inflated
base=()
for _ in $(seq "$REPS"); do
    t0=$(now); psql -X -q -At -d b_lint_scale -c "SELECT count(*) FROM confiture.lint('SELECT 1')" >/dev/null; t1=$(now)
    base+=("$(calc "$t1 - $t0")")
done
BASE=$(median "${base[@]}")
printf 'one psql call: %.3f s (subtracted)\n' "$BASE"
declare -A per
for layout in "one line" "one per line"; do
    sep=' '; [ "$layout" = "one per line" ] && sep='\n'
    for n in 1000 10000 100000; do
        times=()
        for _ in $(seq "$REPS"); do
            t0=$(now)
            psql -X -q -At -d b_lint_scale -c "SELECT count(*) FROM confiture.lint(repeat(E'ALTER TABLE t ADD COLUMN c int;$sep', $n))" >/dev/null
            t1=$(now)
            times+=("$(calc "$t1 - $t0")")
        done
        m=$(median "${times[@]}")
        per["$layout/$n"]=$(calc "max($m - $BASE, 1e-6) / $n * 1e6")
        printf '%-13s %7d statements: %8.3f s, %7.2f us/statement\n' "$layout" "$n" "$m" "${per["$layout/$n"]}"
    done
    printf '%-13s ratio 100k/1k per statement: %.2f (goal <= 2)\n' "$layout" "$(calc "${per["$layout/100000"]} / ${per["$layout/1000"]}")"
done
