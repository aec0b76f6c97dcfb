# The only entry points: setup, build, install, test, demo, bench.
# Everything runs from a fresh Debian 12 machine with PostgreSQL 15.
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
export PG_CONFIG

.PHONY: setup build install test test-core test-pgrx test-regress test-e2e demo bench clean

setup:
	@scripts/setup.sh

build: setup
	cargo build --release -p confiture -p confiture-cli

install: setup
	@scripts/install.sh

test: setup
	@scripts/test.sh

# single layers, for development
test-core:
	cargo test -p confiture-core -p confiture-cli
test-pgrx: setup
	@scripts/test.sh pgrx
test-regress: setup
	@scripts/test.sh regress
test-e2e: setup
	@scripts/test.sh e2e

demo: setup
	@scripts/demo.sh

bench: setup
	@scripts/bench.sh

clean:
	-@bash -c 'source scripts/cluster.sh; for d in .run/*/; do cluster_stop "$$d"; done'
	rm -rf .run
