#!/usr/bin/env bash
# Linting speed, in one run (medians of REPS=5 repetitions, interleaved):
#  1. offline: every .sql file of the shared corpus through
#     `confiture lint --format json` (the command, pg_query, no database) vs
#     squawk (the newest squawk-cli from PyPI) `--reporter json` on the same
#     files (goal: ratio <= 0.5);
#  2. in the server: the same files through confiture.lint, one call per
#     file over one connection, vs the same squawk runs;
#  3. the DDL guard's overhead: the lemmy chain (247 migrations) with
#     confiture.lint_mode = warn vs off (goal: ratio <= 1.10).
# Benchmarks never fail on speed; a part whose tool is missing says so.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-5}
bench_cluster lint
DIR=$BENCH_DIR
mapfile -t files < <(find "$CORPUS" -name '*.sql' -type f | sort)
nfiles=${#files[@]}

# the command, release build (incremental when already built)
CONFITURE=${CONFITURE_BIN:-target/release/confiture}
if [ -z "${CONFITURE_BIN:-}" ]; then
    cargo build --release --quiet -p confiture-cli >/dev/null 2>&1 || true
fi
[ -x "$CONFITURE" ] || CONFITURE=

# squawk, installed on first use into .run/squawk
SQUAWK=.run/squawk/bin/squawk
if [ ! -x "$SQUAWK" ]; then
    python3 -m pip install --quiet --upgrade --target .run/squawk squawk-cli >/dev/null 2>&1 || true
fi
[ -x "$SQUAWK" ] || SQUAWK=$(find .run/squawk -name squawk -type f -perm -u+x 2>/dev/null | head -1)
squawk_version=$([ -n "$SQUAWK" ] && "$SQUAWK" --version 2>/dev/null | head -1 || echo "squawk")

# the server path: one confiture.lint call per file, over one connection
fresh_db b_lint
python3 - "$DIR/lint_all.sql" "${files[@]}" <<'PY'
import sys
out = open(sys.argv[1], "w")
for path in sys.argv[2:]:
    sql = open(path, encoding="utf-8").read()
    tag = "$lint$"
    while tag in sql:
        tag = tag[:-1] + "x$"
    out.write(f"SELECT count(*) FROM confiture.lint({tag}{sql}{tag});\n")
PY

# warm the file cache and check every tool once
[ -n "$CONFITURE" ] && { "$CONFITURE" lint --format json --fail-on never "${files[@]}" > "$DIR/confiture.json" 2> "$DIR/confiture.err" || true; }
[ -n "$SQUAWK" ] && { "$SQUAWK" --reporter json "${files[@]}" > "$DIR/squawk.json" 2>&1 || true; }

cli=() srv=() sq=()
for rep in $(seq "$REPS"); do
    if [ -n "$CONFITURE" ]; then
        t0=$(now)
        "$CONFITURE" lint --format json --fail-on never "${files[@]}" > "$DIR/confiture.json" 2> "$DIR/confiture.err" || true
        t1=$(now)
        cli+=("$(calc "$t1 - $t0")")
    fi
    if [ -n "$SQUAWK" ]; then
        t0=$(now)
        "$SQUAWK" --reporter json "${files[@]}" > "$DIR/squawk.json" 2>&1 || true
        t1=$(now)
        sq+=("$(calc "$t1 - $t0")")
    fi
    t0=$(now)
    psql -X -q -At -d b_lint -c "SET client_min_messages = error" -f "$DIR/lint_all.sql" > "$DIR/lint_counts"
    t1=$(now)
    srv+=("$(calc "$t1 - $t0")")
done
server_findings=$(awk '{s += $1} END {print s + 0}' "$DIR/lint_counts")
cli_findings=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['findings']))" "$DIR/confiture.json" 2>/dev/null || echo "?")
ms=$([ ${#sq[@]} -gt 0 ] && median "${sq[@]}" || echo "")
msrv=$(median "${srv[@]}")
if [ ${#cli[@]} -gt 0 ]; then
    mc=$(median "${cli[@]}")
    if [ -n "$ms" ]; then
        printf "lint: %d files, confiture lint --format json %.3f s (%s findings) vs %s --reporter json %.3f s: ratio %.3f (goal <= 0.5)\n" \
            "$nfiles" "$mc" "$cli_findings" "$squawk_version" "$ms" "$(calc "$mc / $ms")"
    else
        printf "lint: %d files, confiture lint --format json %.3f s (%s findings); squawk could not be installed (no PyPI?)\n" "$nfiles" "$mc" "$cli_findings"
    fi
else
    echo "lint: the confiture command could not be built (cargo build --release -p confiture-cli); offline part skipped"
fi
if [ -n "$ms" ]; then
    printf "lint: %d files, confiture.lint in the server %.3f s (%d findings) vs %s --reporter json %.3f s: ratio %.3f\n" \
        "$nfiles" "$msrv" "$server_findings" "$squawk_version" "$ms" "$(calc "$msrv / $ms")"
else
    printf "lint: %d files, confiture.lint in the server %.3f s (%d findings)\n" "$nfiles" "$msrv" "$server_findings"
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
