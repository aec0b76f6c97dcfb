#!/usr/bin/env bash
# Hook overhead, in one run and one cluster:
#  1. the lemmy chain (247 migrations) with six no-op SQL hooks on every
#     migration vs the same chain without hooks (goal: ratio <= 1.10);
#  2. the cost of a phase with ten SQL hooks beyond the hooks' own work
#     (goal: < 2 ms per phase).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-5}
bench_cluster hooks
DIR=$BENCH_DIR
python3 bench/register_corpus.py "$CORPUS/lemmy" 247 > "$DIR/register.sql"
timed_migrate() {
    local t0 t1
    psql -X -q -d "$1" -c "CHECKPOINT"  # start each run with no dirty buffers to write
    t0=$(now)
    psql -X -q -At -d "$1" -c "SET client_min_messages = error" -c "SELECT count(*) FROM confiture.migrate()" >/dev/null
    t1=$(now)
    calc "$t1 - $t0"
}

plain=() hooked=()
for rep in $(seq "$REPS"); do
    fresh_db b_plain
    psql -X -q -d b_plain -c "SET client_min_messages = error" -f "$DIR/register.sql" >/dev/null
    plain+=("$(timed_migrate b_plain)")

    fresh_db b_hooks
    psql -X -q -d b_hooks -c "SET client_min_messages = error" -f "$DIR/register.sql" >/dev/null
    psql -X -q -d b_hooks -c "SET client_min_messages = warning" -c "
        SELECT confiture.add_hook(p, 'SELECT 1', name => 'noop_' || p || n)
          FROM unnest(ARRAY['before_validation', 'before_ddl', 'after_ddl', 'after_validation', 'cleanup']) p,
               LATERAL (SELECT '' AS n UNION ALL SELECT '_2' WHERE p = 'after_ddl') x" >/dev/null
    hooked+=("$(timed_migrate b_hooks)")
    runs=$(psql -X -q -At -d b_hooks -c "SELECT count(*) FROM confiture.hook_runs")
    printf "  rep %d: lemmy chain %.3f s without hooks, %.3f s with 6 hooks per migration (%s hook runs)\n" \
        "$rep" "${plain[-1]}" "${hooked[-1]}" "$runs"
done
mp=$(median "${plain[@]}") mh=$(median "${hooked[@]}")
lp=$(minimum "${plain[@]}") lh=$(minimum "${hooked[@]}")
printf "hooks: lemmy chain with/without six no-op hooks per migration: ratio of medians %.3f, of best runs %.3f (goal <= 1.10)\n" \
    "$(calc "$mh / $mp")" "$(calc "$lh / $lp")"

# ten SQL hooks in one phase: 200 trivial migrations with and without them
M=200
fresh_db b_ten
psql -X -q -d b_ten -c "SET client_min_messages = warning" -c "
    CREATE TABLE work (i int);
    SELECT confiture.register(g::text, 'm' || g, 'INSERT INTO work VALUES (' || g || ')') FROM generate_series(1, $((2 * M))) g" >/dev/null
base=$(psql -X -q -At -d b_ten -c "SET client_min_messages = error" -c "\timing on" \
    -c "SELECT count(*) FROM confiture.migrate(target => '$M')" | awk '/^Time:/ {print $2}')
psql -X -q -d b_ten -c "SET client_min_messages = warning" \
    -c "SELECT confiture.add_hook('after_ddl', 'SELECT 1', name => 'ten_' || g) FROM generate_series(1, 10) g" >/dev/null
with=$(psql -X -q -At -d b_ten -c "SET client_min_messages = error" -c "\timing on" \
    -c "SELECT count(*) FROM confiture.migrate()" | awk '/^Time:/ {print $2}')
own=$(psql -X -q -At -d b_ten -c "\timing on" -c "DO \$\$ BEGIN FOR i IN 1..$((10 * M)) LOOP PERFORM 1; END LOOP; END \$\$" | awk '/^Time:/ {print $2}')
printf "hooks: a phase with ten SQL hooks costs %.3f ms per migration beyond the hooks' own work (goal < 2 ms)\n" \
    "$(calc "(($with - $base) - $own) / $M")"
