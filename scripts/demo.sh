#!/usr/bin/env bash
# Build and install confiture, start a throwaway cluster, create database
# `demo` with the extension, and walk through the features on real data
# (the lemmy migrations in ../shared/corpus). The cluster keeps running so
# you can explore; the last lines say how to connect and how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CORPUS=${CONFITURE_CORPUS:-$(realpath ../shared/corpus)}
source scripts/cluster.sh
echo "== building and installing confiture (release)"
scripts/install.sh
DIR=$ROOT/.run/demo
mkdir -p "$ROOT/.run" && chown postgres: "$ROOT/.run"
cluster_start "$DIR"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS demo" -c "CREATE DATABASE demo"
python3 bench/register_corpus.py "$CORPUS/lemmy" > "$DIR/register_lemmy.sql"
echo "== psql session (database demo)"
psql -X -d demo -v ON_ERROR_STOP=0 -v lemmy="$DIR/register_lemmy.sql" -f scripts/demo.sql 2>&1 | grep -v "^NOTICE:"
echo
echo "== the confiture command: a migration folder with a CREATE INDEX CONCURRENTLY"
psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS demo_cli" -c "CREATE DATABASE demo_cli"
psql -X -q -d demo_cli -c "SET client_min_messages = warning" -c "CREATE EXTENSION confiture"
FOLDER=$DIR/migrations
rm -rf "$FOLDER" && mkdir -p "$FOLDER"
cat > "$FOLDER/1_customers.up.sql" <<'SQL'
CREATE TABLE customers (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, email text NOT NULL);
INSERT INTO customers SELECT g, g % 10, 'c' || g || '@example.com' FROM generate_series(1, 200000) g;
SQL
echo "DROP TABLE customers;" > "$FOLDER/1_customers.down.sql"
echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS customers_email_idx ON customers (tenant_id, email);" > "$FOLDER/2_email_index.up.sql"
echo "DROP INDEX customers_email_idx;" > "$FOLDER/2_email_index.down.sql"
( set -x; PGDATABASE=demo_cli confiture migrate plan --dir "$FOLDER" )
( set -x; PGDATABASE=demo_cli confiture migrate up --dir "$FOLDER" ) || true
( set -x; PGDATABASE=demo_cli confiture migrate status --dir "$FOLDER" )
echo
echo "The demo cluster is still running. Connect with:"
echo "    psql -h $DIR -p $PGPORT -U postgres demo"
echo "Stop it with:"
echo "    scripts/cluster.sh stop $DIR"
