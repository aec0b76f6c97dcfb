#!/usr/bin/env bash
# Every test layer, in order: core unit tests, #[pg_test]s, pg_regress
# suites, end-to-end tests. Clusters run as `postgres` on a unix socket in
# .run/ and are stopped on exit, also when a test fails. Prints one line
# "N passed, N failed" at the end; the exit status is non-zero on failure.
#   scripts/test.sh [core|pgrx|regress|e2e ...]   (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/cluster.sh
RUN=$ROOT/.run
mkdir -p "$RUN" && chown postgres: "$RUN"
LAYERS=("$@"); [ ${#LAYERS[@]} -eq 0 ] && LAYERS=(core pgrx regress e2e)
PASSED=0 FAILED=0 BROKEN=()
exec 9>/tmp/confiture-install.lock

trap 'cluster_stop "$RUN/regress-cluster"; cluster_stop "$RUN/e2e-cluster"' EXIT

# count "test result: ok. N passed; M failed" lines of cargo test output
count_cargo() {
    local p f
    p=$(grep -Eo '[0-9]+ passed' "$1" | awk '{s+=$1} END {print s+0}')
    f=$(grep -Eo '[0-9]+ failed' "$1" | awk '{s+=$1} END {print s+0}')
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
}

layer_core() {
    echo "== core: cargo test -p confiture-core -p confiture-cli (pure logic, and the client offline)"
    cargo test -p confiture-core -p confiture-cli 2>&1 | tee "$RUN/core.log" | grep -E "^test result|FAILED|panicked" || true
    count_cargo "$RUN/core.log"
    grep -q "test result: FAILED\|error\[" "$RUN/core.log" && return 1 || return 0
}

layer_pgrx() {
    echo "== pgrx: cargo pgrx test pg15 --runas postgres"
    hold_install_lock
    INSTALLED=  # it installs its own test build over ours
    rm -rf "$RUN/pgrx-data"
    cargo pgrx test pg15 -p confiture --runas postgres --pgdata "$RUN/pgrx-data" >"$RUN/pgrx.log" 2>&1
    local rc=$?
    grep -E "^test result|FAILED|panicked" "$RUN/pgrx.log"
    count_cargo "$RUN/pgrx.log"
    if [ $rc -ne 0 ] && ! grep -q "test result" "$RUN/pgrx.log"; then tail -30 "$RUN/pgrx.log"; FAILED=$((FAILED + 1)); fi
    return $rc
}

# Several checkouts on one machine share PostgreSQL's extension directory:
# from the first install to the end of the run, this run owns it.
hold_install_lock() {
    [ -n "${LOCKED:-}" ] && return 0
    # a caller that already holds it (CONFITURE_LOCK_HELD=1, as for install.sh)
    [ -n "${CONFITURE_LOCK_HELD:-}" ] && { LOCKED=1; return 0; }
    flock 9; LOCKED=1
}

# `cargo pgrx test` installs its test build; tests of the user-visible
# contract run against the real (release) build.
install_release() {
    hold_install_lock
    [ -n "${INSTALLED:-}" ] && return 0
    echo "== install release build"
    CONFITURE_LOCK_HELD=1 CONFITURE_EXTENSION_ONLY=1 scripts/install.sh || return 1
    INSTALLED=1
}

layer_regress() {
    install_release || { FAILED=$((FAILED + 1)); return 1; }
    echo "== regress: pg_regress pg_test/sql/*.sql"
    cluster_start "$RUN/regress-cluster" || { FAILED=$((FAILED + 1)); return 1; }
    local tests; tests=$(cd pg_test/sql && ls *.sql | sed 's/\.sql$//' | sort)
    # --use-existing runs in an existing database; start from a clean one
    psql -X -q -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS confiture_regress" -c "CREATE DATABASE confiture_regress"
    rm -rf "$RUN/regress-out" && mkdir -p "$RUN/regress-out"
    /usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress \
        --use-existing --host="$PGHOST" --port="$PGPORT" --user=postgres \
        --bindir=/usr/lib/postgresql/15/bin \
        --inputdir=pg_test --outputdir="$RUN/regress-out" \
        --dbname=confiture_regress $tests >"$RUN/regress.log" 2>&1
    local rc=$?
    grep -E "^(ok|not ok|test )|tests (passed|failed)" "$RUN/regress.log"
    local p f
    p=$(grep -Ec "^(ok|test ).* ok( |$)|^ok " "$RUN/regress.log")
    f=$(grep -Ec "FAILED|^not ok" "$RUN/regress.log")
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    [ $rc -ne 0 ] && [ -f "$RUN/regress-out/regression.diffs" ] && head -80 "$RUN/regress-out/regression.diffs"
    return $rc
}

layer_e2e() {
    install_release || { FAILED=$((FAILED + 1)); return 1; }
    echo "== e2e: cargo test -p confiture-e2e (real cluster, several connections)"
    # the client's tests run the built binary
    cargo build -q -p confiture-cli || { FAILED=$((FAILED + 1)); return 1; }
    export CONFITURE_BIN="$ROOT/target/debug/confiture"
    cluster_start "$RUN/e2e-cluster" || { FAILED=$((FAILED + 1)); return 1; }
    CONFITURE_PGHOST="$PGHOST" CONFITURE_PGPORT="$PGPORT" CONFITURE_CORPUS="$ROOT/../shared/corpus" \
        cargo test -p confiture-e2e --no-fail-fast -- --test-threads=1 2>&1 | tee "$RUN/e2e.log" | grep -E "^test |^test result|panicked"
    count_cargo "$RUN/e2e.log"
    grep -q "test result: FAILED\|^error" "$RUN/e2e.log" && return 1 || return 0
}

for layer in "${LAYERS[@]}"; do
    "layer_$layer" || BROKEN+=("$layer")
done

echo
echo "$PASSED passed, $FAILED failed"
if [ ${#BROKEN[@]} -gt 0 ]; then
    echo "failing layers: ${BROKEN[*]}"
    exit 1
fi
