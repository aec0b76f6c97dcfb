#!/usr/bin/env bash
# Dry runs and estimates, in one run and one cluster, for fourteen migrations
# of different kinds on customers (bench/sql/risk_schema.sql and
# bench/sql/estimate_kinds.sql). Per migration it prints:
#  - the dry run's estimate from a 210,000-row copy (scaled to 2,100,000
#    rows) vs the real run on 2,100,000 rows (goal: within ±15%);
#  - assess() alone (nothing run: statistics and rates), before and after
#    confiture.calibrate(), vs the real run (goal after calibrating: ±25%);
#  - the dry run's own duration vs the real run's (goal: ratio <= 1.10).
# The real run applies every migration in one transaction (as one
# confiture.migrate() call does), each assessed just before it runs.
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
    psql -X -q -d $db -v rows="$([ $db = b_big ] && echo "$BIG" || echo "$SMALL")" -f bench/sql/risk_schema.sql >/dev/null
    psql -X -q -d $db -f bench/sql/estimate_kinds.sql >/dev/null
done
load() { awk '{print $1}' /proc/loadavg; }
echo "dry_run: load average at start $(load) ($(nproc) cores)"

# calibrate once per database, as the client does on first use (the small
# copy's dry run and the big one's assess each use their own)
for db in b_small b_big; do q $db "SELECT count(*) FROM confiture.calibrate()" >/dev/null; done
q b_big "CREATE TABLE saved_rates AS SELECT * FROM confiture.calibration"

# estimates from the small copy, told the production size (after one
# untimed dry run, so both sides run with warm caches, as the real run does)
q b_small "SELECT count(*) FROM confiture.dry_run()" >/dev/null
q b_small "SELECT version, extract(epoch FROM estimated_duration) * 1000
             FROM confiture.dry_run(production_rows => '{\"customers\": $BIG, \"tenants\": 1000}')
            WHERE kind = 'migration' ORDER BY version" > "$DIR/estimates"
# the dry run on the big table itself (again after a warm-up)
q b_big "SELECT count(*) FROM confiture.dry_run()" >/dev/null
dry_ms=$(psql -X -q -At -d b_big -c "SET client_min_messages = error" -c "\timing on" \
    -c "\o $DIR/dry" -c "SELECT version, extract(epoch FROM duration) * 1000 FROM confiture.dry_run()
                          WHERE kind = 'migration' ORDER BY version" | awk '/^Time:/ {print int($2)}')
q b_big "CHECKPOINT"
# The real run: every migration in one transaction, as one migrate() call
# would, each assessed just before it runs (on the table as it is then),
# first with default rates, then with this server's.
q b_big "CREATE TABLE bench_assessed (version text, before float8, after float8)"
{
    echo "SET client_min_messages = error;"
    for v in $(q b_big "SELECT version FROM confiture.status() ORDER BY version"); do
        cat <<SQL
DELETE FROM confiture.calibration;
INSERT INTO bench_assessed SELECT '$v', extract(epoch FROM estimated_duration) * 1000 FROM confiture.assess_migration('$v') WHERE statement = 0;
INSERT INTO confiture.calibration SELECT * FROM saved_rates;
UPDATE bench_assessed SET after = (SELECT extract(epoch FROM estimated_duration) * 1000 FROM confiture.assess_migration('$v') WHERE statement = 0) WHERE version = '$v';
SELECT count(*) FROM confiture.migrate(target => '$v');
SQL
    done
} > "$DIR/real.sql"
psql -X -q -1 -v ON_ERROR_STOP=1 -d b_big -f "$DIR/real.sql" >/dev/null
q b_big "SELECT version, before, after FROM bench_assessed ORDER BY version" > "$DIR/assessed"
echo "dry_run: load average after the real run $(load)"
q b_big "SELECT version, extract(epoch FROM duration) * 1000 FROM confiture.status() ORDER BY version" > "$DIR/real"
real_ms=$(awk -F'|' '{s += $2} END {print int(s)}' "$DIR/real")

echo "dry_run: per migration, real run on $BIG rows; the dry run's estimate from a $SMALL-row copy; assess() alone before and after calibrate(); the dry run on $BIG rows"
printf "  %-3s %-38s %10s | %10s %6s | %10s %6s | %10s %6s | %10s %6s\n" \
    "" "migration" "real ms" "estimate" "ratio" "assess" "ratio" "calibrated" "ratio" "dry run" "ratio"
join -t '|' "$DIR/real" "$DIR/estimates" | join -t '|' - "$DIR/assessed" | join -t '|' - "$DIR/dry" |
while IFS='|' read -r v real est before after dry; do
    name=$(q b_big "SELECT name FROM confiture.status() WHERE version = '$v'")
    r() { calc "${1:-0} / max($real, 0.001)"; }
    printf "  %-3s %-38s %10.1f | %10.1f %6.2f | %10.1f %6.2f | %10.1f %6.2f | %10.1f %6.2f\n" \
        "$v" "$name" "$real" "$est" "$(r "$est")" "${before:-0}" "$(r "$before")" "${after:-0}" "$(r "$after")" "$dry" "$(r "$dry")"
done
printf "dry_run: dry run on %d rows took %d ms, the real run %d ms: ratio %.3f (goal <= 1.10)\n" \
    "$BIG" "$dry_ms" "$real_ms" "$(calc "$dry_ms / $real_ms")"
echo "dry_run: rates calibrated on this server:"
q b_big "SELECT '  ' || name || ' = ' || round(value::numeric, 4) || ' ' || unit FROM saved_rates ORDER BY name"
