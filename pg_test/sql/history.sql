-- DDL history, schema snapshots, drift and pgGit.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'

-- DDL typed by hand and DDL run by migrate both land in the history, each
-- statement with its own text, even from one multi-statement query string.
CREATE TABLE legacy (id bigint PRIMARY KEY); CREATE INDEX legacy_idx ON legacy (id); SELECT 1 AS not_ddl; COMMENT ON TABLE legacy IS 'old';
SELECT confiture.register('1', 'customers', $$
    CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
    CREATE INDEX customers_name_idx ON customers (name);$$);
SELECT confiture.register('2', 'orders', $$
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);
    ALTER TABLE customers ADD COLUMN email text;
    DROP TABLE legacy;$$);
SELECT version, state FROM confiture.migrate();
SELECT command_tag, object_type, object_identity, statement, migration_version, role_name = current_user AS by_me
  FROM confiture.history() ORDER BY at, object_identity;
SELECT command_tag, statement FROM confiture.history('public.customers');

-- What changed between two migrations, object by object.
SELECT kind, identity, change FROM confiture.schema_diff('1', '2');
SELECT jsonb_array_length(after->'columns') AS columns_after FROM confiture.schema_diff('1', '2') WHERE identity = 'public.customers';

-- Drift: a column added by hand and an index dropped by hand are found,
-- with the statements that did it.
SELECT count(*) AS drift_before FROM confiture.drift();
ALTER TABLE customers ADD COLUMN nickname text;
DROP INDEX customers_name_idx;
SELECT kind, identity, change, jsonb_path_query_array(explained_by, '$[*].statement') AS explained_by FROM confiture.drift();
-- drift_mode = enforce refuses to migrate; warn only warns
SELECT confiture.register('3', 'more', 'ALTER TABLE orders ADD COLUMN total numeric;');
SET confiture.drift_mode = enforce;
SELECT version, state FROM confiture.migrate();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET confiture.drift_mode = warn;
SELECT version, state FROM confiture.migrate();
RESET confiture.drift_mode;

-- The log can be turned off per session.
SET confiture.ddl_log = off;
CREATE TABLE unlogged_ddl (id int);
RESET confiture.ddl_log;
SELECT count(*) AS logged FROM confiture.history('public.unlogged_ddl');

-- pgGit: migrations and rollbacks are registered with it when it is installed.
\set ECHO none
\i tests/fixtures/pggit_fixture.sql
\set ECHO all
SELECT confiture.register('4', 'with pggit', 'CREATE TABLE shipments (id bigint PRIMARY KEY);', 'DROP TABLE shipments;');
SELECT version, state FROM confiture.migrate();
SELECT version, description, up_sql, applied_by = current_user AS by_me FROM pggit.migrations;
SELECT message FROM pggit.get_history('main', 10);
SELECT version, state FROM confiture.rollback();
SELECT count(*) AS pggit_migrations FROM pggit.migrations;
-- When pgGit fails, the migration still succeeds and the event waits.
SET pggit.fixture_fail = on;
SELECT version, state FROM confiture.migrate();
SELECT event, version, attempts, delivered_at IS NULL AS waiting FROM confiture.pggit_outbox;
SELECT confiture.pggit_sync();
RESET pggit.fixture_fail;
SELECT confiture.pggit_sync() AS delivered;
SELECT version FROM pggit.migrations;
SELECT count(*) AS still_waiting FROM confiture.pggit_outbox WHERE delivered_at IS NULL;

-- Bad input
SELECT * FROM confiture.schema_diff(NULL, '1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.schema_diff('1', 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

DROP EXTENSION confiture;
DROP SCHEMA pggit CASCADE;
DROP TABLE orders, customers, unlogged_ddl, shipments;
