-- DDL history, schema snapshots, drift and pgGit.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'

-- DDL typed by hand and DDL run by migrate both land in the history, each
-- statement with its own text, even from one multi-statement query string
-- (\; sends the four statements as one string).
CREATE TABLE legacy (id bigint PRIMARY KEY) \; CREATE INDEX legacy_idx ON legacy (id) \; SELECT 1 AS not_ddl \; COMMENT ON TABLE legacy IS 'old';
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

-- A command run inside a DO block (or a function) belongs to the
-- top-level statement that ran it; the statements around it keep their own.
CREATE TABLE la (id int) \; DO $$ BEGIN CREATE TABLE lb (id int); END $$ \; CREATE TABLE lc (id int);
CREATE FUNCTION make_ld() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE TABLE ld (id int); END $$;
SELECT make_ld();
SELECT object_identity, statement FROM confiture.history()
 WHERE object_identity IN ('public.la', 'public.lb', 'public.lc', 'public.ld') ORDER BY object_identity;
-- ... and such a statement is redacted when it may hold a secret
DO $$ BEGIN CREATE TABLE le (id int); CREATE ROLE regress_history_secret PASSWORD 'hunter2'; END $$;
SELECT command_tag, statement FROM confiture.history('public.le');
DROP ROLE regress_history_secret;
DROP TABLE la, lb, lc, ld, le;
DROP FUNCTION make_ld();

-- The log of a transaction is written when it commits (or earlier, when
-- something reads it), and goes with it when it rolls back, also in part.
BEGIN;
CREATE TABLE tx_kept (id int);
SAVEPOINT s;
CREATE TABLE tx_undone (id int);
ROLLBACK TO s;
SELECT object_identity FROM confiture.history() WHERE object_identity LIKE 'public.tx\_%';
CREATE TABLE tx_kept_too (id int);
COMMIT;
BEGIN;
CREATE TABLE tx_rolled_back (id int);
ROLLBACK;
SELECT object_identity FROM confiture.history() WHERE object_identity LIKE 'public.tx\_%' ORDER BY 1;
DROP TABLE tx_kept, tx_kept_too;

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
-- undo the drift by hand
ALTER TABLE customers DROP COLUMN nickname;
CREATE INDEX customers_name_idx ON customers (name);
SELECT count(*) AS drift_after_undo FROM confiture.drift();

-- The log can be turned off per session.
SET confiture.ddl_log = off;
CREATE TABLE unlogged_ddl (id int);
RESET confiture.ddl_log;
SELECT count(*) AS logged FROM confiture.history('public.unlogged_ddl');
DROP TABLE unlogged_ddl;

-- What an on_error hook keeps (survive => true) was made by migrate, not
-- by hand: it is not drift.
SELECT confiture.add_hook('on_error', 'CREATE TABLE failure_audit (at timestamptz DEFAULT now())',
                          migration => '3a', name => 'keep_audit', survive => true);
SELECT confiture.register('3a', 'fails', 'CREATE TABLE never (id int); SELECT 1/0;');
SELECT version, state FROM confiture.migrate();
SELECT to_regclass('failure_audit') IS NOT NULL AS audit_kept, to_regclass('never') IS NULL AS migration_undone;
SELECT count(*) AS drift_after_hook FROM confiture.drift();
SELECT confiture.drop_hook('keep_audit');
SELECT confiture.register('3a', 'fixed', 'CREATE TABLE never (id int);');
SELECT version, state FROM confiture.migrate();

-- pgGit (tests/fixtures/pggit_fixture.sql reproduces the part of pgGit
-- confiture uses, as pgGit defines it). Its schemas are not user schemas:
-- nothing of them is drift, even under drift_mode = enforce.
\set ECHO none
\i tests/fixtures/pggit_fixture.sql
\set ECHO all
SET confiture.drift_mode = enforce;
SELECT count(*) AS drift_with_pggit FROM confiture.drift();

-- Apply, roll back, apply again: pggit.migrations has the migration once
-- (upserted by version), each event is a commit on the branch, in order.
-- The SQL has a backslash (pgGit casts it to bytea): it is delivered, and
-- pgGit's hash is that of the SQL as written.
SELECT confiture.register('4', 'with pggit', $$CREATE TABLE shipments (id bigint PRIMARY KEY, note text DEFAULT E'a\tb');$$,
                          'DROP TABLE shipments;');
SELECT version, state FROM confiture.migrate();
SELECT version, state FROM confiture.rollback();
SELECT version, description, up_script, applied_at IS NULL AS pending FROM pggit.migrations;
SELECT version, state FROM confiture.migrate();
SELECT version, description, up_script, down_script, applied_at IS NOT NULL AS applied, applied_by = current_user AS by_me,
       execution_time_ms >= 0 AS timed, checksum = (SELECT checksum FROM confiture.migrations WHERE version = '4') AS same_checksum
  FROM pggit.migrations;
SELECT b.name AS branch, c.message,
       c.tree_hash = encode(sha256(convert_to(CASE WHEN c.message LIKE '%apply%' THEN m.up_sql ELSE m.down_sql END, 'UTF8')), 'hex') AS hash_of_sql
  FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id, confiture.migrations m
 WHERE m.version = '4' ORDER BY c.id;
SELECT id, event, version, branch, attempts, last_error, delivered_at IS NOT NULL AS delivered FROM confiture.pggit_outbox ORDER BY id;

-- The branch: pggit.branch, else pgGit's own pggit.current_branch, else main
-- (RESET leaves '' behind, which counts as unset). pgGit fails once on its
-- first new branch (its 'main' row did not advance the branch sequence):
-- that event waits, and goes first with the next one.
SET pggit.branch = 'feature/shipping';
SELECT version, state FROM confiture.rollback();
RESET pggit.branch;
SELECT pggit.switch_branch('release-1');
SELECT version, state FROM confiture.migrate();
RESET pggit.current_branch;
SELECT version, state FROM confiture.rollback();
SELECT b.name AS branch, c.message FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id ORDER BY c.id DESC LIMIT 3;

-- When pgGit fails, migrations still succeed and their events wait, in
-- order: the apply queues behind the rollback before it. They keep their
-- branch: another session delivers them there.
SET pggit.fixture_fail = on;
SET pggit.branch = 'hotfix';
SELECT version, state FROM confiture.migrate();
SELECT version, state FROM confiture.rollback();
SELECT confiture.register('5', 'later', 'CREATE TABLE later (id int);');
SELECT version, state FROM confiture.migrate();
SELECT id, event, version, branch, attempts, last_error FROM confiture.pggit_outbox WHERE delivered_at IS NULL ORDER BY id;
SELECT confiture.pggit_sync();
\c
SET client_min_messages = warning;
SELECT confiture.pggit_sync() AS delivered;
SELECT b.name AS branch, c.message FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id ORDER BY c.id DESC LIMIT 3;
SELECT version, applied_at IS NOT NULL AS applied FROM pggit.migrations ORDER BY version;
SELECT count(*) FILTER (WHERE delivered_at IS NULL) AS waiting, count(*) FILTER (WHERE last_error IS NOT NULL) AS with_error
  FROM confiture.pggit_outbox;

-- An apply pgGit already has (here: a row pgGit made itself) is updated,
-- not refused.
INSERT INTO pggit.migrations (version, description, up_script) VALUES ('6', 'made by pgGit', 'SELECT 1');
SELECT confiture.register('6', 'known to pggit', 'CREATE TABLE known (id int);');
SELECT version, state FROM confiture.migrate();
SELECT version, description, up_script, applied_at IS NOT NULL AS applied FROM pggit.migrations WHERE version = '6';

-- An event pgGit will never take (a branch name it refuses) blocks the
-- ones after it until it is skipped, with a reason.
SET pggit.branch = 'no spaces allowed';
SELECT confiture.register('7', 'stuck', 'CREATE TABLE stuck (id int);');
SELECT version, state FROM confiture.migrate();
RESET pggit.branch;
SELECT confiture.register('8', 'behind', 'CREATE TABLE behind (id int);');
SELECT version, state FROM confiture.migrate();
SELECT id, event, version, branch, left(last_error, 60) AS last_error FROM confiture.pggit_outbox
 WHERE delivered_at IS NULL ORDER BY id;
SELECT confiture.pggit_sync() AS delivered;
SELECT confiture.pggit_skip(id, 'pgGit refuses branch names with spaces') AS still_waiting
  FROM confiture.pggit_outbox WHERE version = '7';
SELECT confiture.pggit_sync() AS delivered;
SELECT version, branch, delivered_at IS NOT NULL AS delivered, skipped_at IS NOT NULL AS skipped, skipped_by = current_user AS by_me,
       skip_reason, last_error IS NOT NULL AS kept_error
  FROM confiture.pggit_outbox WHERE version IN ('7', '8') ORDER BY id;
SELECT version FROM pggit.migrations ORDER BY version;
RESET confiture.drift_mode;

-- Bad input
SELECT * FROM confiture.schema_diff(NULL, '1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.schema_diff('1', 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.pggit_skip(1, NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.pggit_skip(1, ' ');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.pggit_skip(1000, 'no such event');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.pggit_skip(1, 'already delivered');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

DROP EXTENSION confiture;
DROP SCHEMA pggit, pggit_errors, pggit_audit, pggit_migration CASCADE;
DROP TABLE orders, customers, shipments, later, known, stuck, behind, failure_audit, never;
