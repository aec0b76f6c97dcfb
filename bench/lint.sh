#!/usr/bin/env bash
# Linting speed, in one run:
#  1. all 684 lemmy corpus files through confiture.lint (one call per file,
#     one connection) vs squawk (squawk-cli from PyPI) on the same files
#     (goal: ratio <= 1.0);
#  2. the DDL guard's overhead: the lemmy chain (247 migrations) with
#     confiture.lint_mode = warn vs off (goal: ratio <= 1.10).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-5}
bench_cluster lint
DIR=$BENCH_DIR
files=$(ls "$CORPUS"/lemmy/*/up.sql "$CORPUS"/lemmy/*/down.sql)
nfiles=$(echo "$files" | wc -l)

# squawk, installed on first use into .run/squawk
SQUAWK=.run/squawk/bin/squawk
if [ ! -x "$SQUAWK" ]; then
    python3 -m pip install --quiet --target .run/squawk squawk-cli >/dev/null 2>&1 || true
fi
[ -x "$SQUAWK" ] || SQUAWK=$(find .run/squawk -name squawk -type f -perm -u+x 2>/dev/null | head -1)

fresh_db b_lint
python3 - "$DIR/lint_all.sql" $files <<'PY'
import sys
out = open(sys.argv[1], "w")
for path in sys.argv[2:]:
    sql = open(path, encoding="utf-8").read()
    tag = "$lint$"
    while tag in sql:
        tag = tag[:-1] + "x$"
    out.write(f"SELECT count(*) FROM confiture.lint({tag}{sql}{tag});\n")
PY
conf=() sq=()
for rep in $(seq "$REPS"); do
    t0=$(now)
    psql -X -q -At -d b_lint -c "SET client_min_messages = error" -f "$DIR/lint_all.sql" > "$DIR/lint_counts"
    t1=$(now)
    conf+=("$(calc "$t1 - $t0")")
    if [ -n "$SQUAWK" ]; then
        t0=$(now)
        "$SQUAWK" $files > "$DIR/squawk.out" 2>&1 || true
        t1=$(now)
        sq+=("$(calc "$t1 - $t0")")
    fi
done
findings=$(awk '{s += $1} END {print s}' "$DIR/lint_counts")
mc=$(median "${conf[@]}")
if [ ${#sq[@]} -gt 0 ]; then
    ms=$(median "${sq[@]}")
    printf "lint: %d files, confiture.lint %.3f s (%d findings) vs squawk %.3f s: ratio %.3f (goal <= 1.0)\n" \
        "$nfiles" "$mc" "$findings" "$ms" "$(calc "$mc / $ms")"
else
    printf "lint: %d files, confiture.lint %.3f s (%d findings); squawk could not be installed (no PyPI?)\n" "$nfiles" "$mc" "$findings"
fi

# the guard's overhead on the lemmy chain
python3 bench/register_corpus.py "$CORPUS/lemmy" 247 > "$DIR/register.sql"
off=() warn=()
for rep in $(seq "$REPS"); do
    for mode in off warn; do
        fresh_db "b_guard_$mode"
        psql -X -q -d "b_guard_$mode" -c "SET client_min_messages = error" -f "$DIR/register.sql" >/dev/null
        psql -X -q -d "b_guard_$mode" -c "CHECKPOINT"
        t0=$(now)
        psql -X -q -At -d "b_guard_$mode" -c "SET client_min_messages = error" -c "SET confiture.lint_mode = $mode" \
            -c "SELECT count(*) FROM confiture.migrate()" >/dev/null
        t1=$(now)
        if [ $mode = off ]; then off+=("$(calc "$t1 - $t0")"); else warn+=("$(calc "$t1 - $t0")"); fi
    done
done
printf "lint: guard on the lemmy chain, warn %.3f s vs off %.3f s (medians of %d): ratio %.3f; best runs %.3f (goal <= 1.10)\n" \
    "$(median "${warn[@]}")" "$(median "${off[@]}")" "$REPS" "$(calc "$(median "${warn[@]}") / $(median "${off[@]}")")" \
    "$(calc "$(minimum "${warn[@]}") / $(minimum "${off[@]}")")"
