#!/usr/bin/env bash
# Build the release extension and install it into the system PostgreSQL 15.
# Serialised with a lock: several checkouts on one machine share the
# install directory (and `cargo pgrx test` installs its own build there).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CONFITURE_LOCK_HELD:-}" ]; then
    exec 9>/tmp/confiture-install.lock
    flock 9
fi
cargo pgrx install -p confiture --release --pg-config "${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" 2>&1 \
    | grep -Ev '^\s+(Compiling|Checking)' | tail -4

# the client, on the PATH (the tests use their own debug build)
[ -n "${CONFITURE_EXTENSION_ONLY:-}" ] && exit 0
cargo build -q --release -p confiture-cli
install -m 0755 target/release/confiture /usr/local/bin/confiture
echo "installed /usr/local/bin/confiture"
