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
echo "The demo cluster is still running. Connect with:"
echo "    psql -h $DIR -p $PGPORT -U postgres demo"
echo "Stop it with:"
echo "    scripts/cluster.sh stop $DIR"
