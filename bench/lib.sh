# Shared by the benchmarks: source it after `cd` to the project root.
#   bench_cluster NAME   start .run/bench-NAME (stopped on exit), export PGHOST/PGPORT
#   fresh_db DB          drop and create DB with the extension
#   now / calc EXPR / median N...
source scripts/cluster.sh
CORPUS=${CONFITURE_CORPUS:-$(realpath ../shared/corpus)}

bench_cluster() {
    BENCH_DIR=.run/bench-$1
    trap 'cluster_stop $BENCH_DIR' EXIT
    cluster_start "$BENCH_DIR"
}
fresh_db() {
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
    psql -X -q -d "$1" -c "SET client_min_messages = warning" -c "CREATE EXTENSION confiture"
}
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# One query string of N CREATE TABLE statements: psql sends statements
# joined by \; as one query.
create_tables_query_string() { python3 -c "import sys; print(' \\\\; '.join(f'CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL)' for i in range(int(sys.argv[1]))) + ';')" "$1"; }
minimum() { printf '%s\n' "$@" | sort -g | head -1; }

# Apply each folder's up.sql with `psql -1 -f`, one transaction per file,
# into database $2: the baseline the migration benchmarks compare with.
#   empty_db DB; psql_per_file "<folders>" DB   (time the second call)
empty_db() {
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
}
psql_per_file() {
    for f in $1; do
        psql -X -q -1 -v ON_ERROR_STOP=1 -d "$2" -f "$f/up.sql" >/dev/null 2>&1
    done
}
