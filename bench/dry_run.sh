#!/usr/bin/env bash
# Dry runs and estimates, in one run and one cluster, for ten migrations of
# different kinds on customers (bench/sql/risk_schema.sql):
#  - estimate from a dry run on a 210,000-row copy (scaled to 2,100,000 rows)
#    vs the real run on 2,100,000 rows, per migration (goal: within ±15%);
#  - the dry run's own duration vs the real run's (goal: ratio <= 1.10).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BIG=${BIG:-2100000}
SMALL=${SMALL:-210000}
bench_cluster dry-run
DIR=$BENCH_DIR
q() { psql -X -q -At -d "$1" -c "SET client_min_messages = error" -c "$2"; }
for db in b_small b_big; do
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
psql -X -q -d b_small -v rows="$SMALL" -f bench/sql/risk_schema.sql >/dev/null
psql -X -q -d b_big -v rows="$BIG" -f bench/sql/risk_schema.sql >/dev/null

# estimates from the small copy, told the production size (after one
# untimed dry run, so both sides run with warm caches, as the real run does)
q b_small "SELECT count(*) FROM confiture.dry_run()" >/dev/null
q b_small "SELECT version, extract(epoch FROM estimated_duration) * 1000
             FROM confiture.dry_run(production_rows => '{\"customers\": $BIG, \"tenants\": 1000}')
            WHERE kind = 'migration' ORDER BY version" > "$DIR/estimates"
# the dry run on the big table itself (again after a warm-up), then the real run
q b_big "SELECT count(*) FROM confiture.dry_run()" >/dev/null
dry_ms=$(psql -X -q -At -d b_big -c "SET client_min_messages = error" -c "\timing on" \
    -c "\o $DIR/dry" -c "SELECT version, extract(epoch FROM duration) * 1000 FROM confiture.dry_run()
                          WHERE kind = 'migration' ORDER BY version" | awk '/^Time:/ {print int($2)}')
# assess() alone, without running anything
q b_big "SELECT version, extract(epoch FROM (SELECT estimated_duration FROM confiture.assess_migration(version)
                                              WHERE statement = 0)) * 1000
           FROM confiture.status() ORDER BY version" > "$DIR/assessed"
q b_big "CHECKPOINT"
real_ms=$(psql -X -q -At -d b_big -c "SET client_min_messages = error" -c "\timing on" \
    -c "SELECT count(*) FROM confiture.migrate()" | awk '/^Time:/ {print int($2)}')
q b_big "SELECT version, extract(epoch FROM duration) * 1000 FROM confiture.status() ORDER BY version" > "$DIR/real"

echo "dry_run: estimate from a $SMALL-row copy vs real run on $BIG rows, per migration (and the dry run on $BIG rows):"
join -t '|' "$DIR/estimates" "$DIR/real" | join -t '|' - "$DIR/dry" | while IFS='|' read -r v est real dry; do
    name=$(q b_big "SELECT name FROM confiture.status() WHERE version = '$v'")
    printf "  %-3s %-38s estimate %8.1f ms  real %8.1f ms  ratio %5.2f | dry run %8.1f ms  ratio %5.2f\n" \
        "$v" "$name" "$est" "$real" "$(calc "$est / max($real, 0.001)")" "$dry" "$(calc "$dry / max($real, 0.001)")"
done
echo "dry_run: assess() alone (nothing run) vs the real run on $BIG rows:"
join -t '|' "$DIR/assessed" "$DIR/real" | while IFS='|' read -r v est real; do
    printf "  %-3s assess %9.1f ms  real %9.1f ms  ratio %5.2f\n" "$v" "${est:-0}" "$real" "$(calc "${est:-0} / max($real, 0.001)")"
done
printf "dry_run: dry run on %d rows took %d ms, the real run %d ms: ratio %.3f (goal <= 1.10)\n" \
    "$BIG" "$dry_ms" "$real_ms" "$(calc "$dry_ms / $real_ms")"
