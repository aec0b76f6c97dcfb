-- Versioned migrations: register, migrate, status, rollback, baseline.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)

-- Register migrations; versions sort naturally (2 before 10).
SELECT confiture.register('10', 'add email', 'ALTER TABLE customers ADD COLUMN email text;',
                          'ALTER TABLE customers DROP COLUMN email;');
SELECT confiture.register('2', 'create customers',
    $$CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
      INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');$$,
    'DROP TABLE customers;');
SELECT version, name, state, statements, has_down FROM confiture.status();

-- Registering the same thing again is a no-op, so deploys can re-register every file.
SELECT confiture.register('2', 'create customers',
    $$CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
      INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace');$$,
    'DROP TABLE customers;');
SELECT count(*) FROM confiture.migrations;

-- migrate() applies pending migrations in version order, up to a target.
SELECT version, state, statements, message FROM confiture.migrate(target => '2');
SELECT version, state FROM confiture.status();
SELECT version, state, statements FROM confiture.migrate();
SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' ORDER BY ordinal_position;
-- Nothing left to do.
SELECT count(*) FROM confiture.migrate();

-- The up SQL of an applied migration cannot change...
SELECT confiture.register('10', 'add email', 'ALTER TABLE customers ADD COLUMN email varchar(200);');
-- ...but its down SQL can.
SELECT confiture.register('10', 'add email', 'ALTER TABLE customers ADD COLUMN email text;',
                          'ALTER TABLE customers DROP COLUMN IF EXISTS email;');

-- A failing migration leaves nothing behind, is recorded, and stops the run.
SELECT confiture.register('11', 'add phone', 'ALTER TABLE customers ADD COLUMN phone text;');
SELECT confiture.register('12', 'broken', $$ALTER TABLE customers ADD COLUMN city text;
UPDATE customers SET city = 'x' WHERE missing_column = 1;$$);
SELECT confiture.register('13', 'after broken', 'ALTER TABLE customers ADD COLUMN zip text;');
SELECT version, state, statements, message FROM confiture.migrate();
SELECT version, state, last_sqlstate, last_error FROM confiture.status() WHERE version IN ('11', '12', '13');
SELECT count(*) AS city_columns FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'city';
SELECT failed_statement, failed_line FROM confiture.migrations WHERE version = '12';

-- A failed migration can be fixed by registering it again; the next run retries it.
SELECT confiture.register('12', 'fixed', $$ALTER TABLE customers ADD COLUMN city text;
UPDATE customers SET city = 'x' WHERE id = 1;$$, 'ALTER TABLE customers DROP COLUMN city;');
SELECT version, state FROM confiture.migrate();

-- atomic => true: all or nothing.
SELECT confiture.register('14', 'ok', 'CREATE TABLE t14 (id int);', 'DROP TABLE t14;');
SELECT confiture.register('15', 'fails', 'SELECT 1/0;');
SELECT * FROM confiture.migrate(atomic => true);
SELECT version, state FROM confiture.status() WHERE version IN ('14', '15');
SELECT to_regclass('t14');
SELECT confiture.register('15', 'fixed', 'CREATE TABLE t15 (id int);', 'DROP TABLE t15;');

-- Drift: the ledger's SQL no longer matches what was applied.
UPDATE confiture.migrations SET up_sql = up_sql || ' -- edited' WHERE version = '11';
SELECT version, drifted FROM confiture.status() WHERE version IN ('10', '11');
UPDATE confiture.migrations SET up_sql = 'ALTER TABLE customers ADD COLUMN phone text;' WHERE version = '11';

-- Rollback refuses, before changing anything, when a down SQL is missing.
SELECT version, state FROM confiture.migrate();
SELECT confiture.rollback(3);
SELECT version, state FROM confiture.status() WHERE state = 'applied';
-- rollback(n) undoes the last n; rollback_to(v) undoes everything after v.
SELECT version, state, message FROM confiture.rollback();
SELECT confiture.register('13', 'after broken', 'ALTER TABLE customers ADD COLUMN zip text;',
                          'ALTER TABLE customers DROP COLUMN zip;');
SELECT version, state FROM confiture.rollback(2);
SELECT version, state FROM confiture.rollback_to('10');
SELECT confiture.register('11', 'add phone', 'ALTER TABLE customers ADD COLUMN phone text;',
                          'ALTER TABLE customers DROP COLUMN phone;');
SELECT version, state FROM confiture.rollback_to('10');
SELECT version, state FROM confiture.status();
SELECT to_regclass('t15'), to_regclass('t14');
-- Rolling back past the first migration is refused.
SELECT confiture.rollback(100);

SELECT version, state FROM confiture.migrate(target => '15');

-- Baseline: adopt a database that already has these changes.
CREATE TABLE orders (id bigint);
SELECT confiture.register('20', 'create orders', 'CREATE TABLE orders (id bigint);');
SELECT confiture.register('21', 'orders total', 'ALTER TABLE orders ADD COLUMN total numeric;');
SELECT confiture.baseline('20');
SELECT version, state FROM confiture.status() WHERE version::int >= 20;

-- Statements that cannot run inside a transaction block make a migration
-- "client-run": registered with a NOTICE, and confiture.migrate() stops
-- before it (the confiture client applies it, one statement at a time).
SET client_min_messages = notice;
SELECT confiture.register('30', 'concurrent index', 'CREATE INDEX CONCURRENTLY ON orders (id);');
SELECT confiture.register('31', 'vacuum', '-- confiture:no-transaction
UPDATE orders SET total = total;');
SET client_min_messages = warning;
BEGIN;  -- (rolled back: the rest of this manual wants 21 pending)
SELECT version, state, message FROM confiture.migrate();
ROLLBACK;
SELECT statement, line, sql, transactional FROM confiture.migration_statements('30');
-- Transaction control and COPY from the client are refused at registration...
SELECT confiture.register('32', 'commit', 'UPDATE orders SET total = total; COMMIT;');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- ...and at migrate time, before anything runs, if the ledger was edited by hand.
DELETE FROM confiture.migrations WHERE version IN ('30', '31');
INSERT INTO confiture.migrations (version, sort_key, name, up_sql, checksum)
VALUES ('33', '#0233', 'sneaky', 'SAVEPOINT s;', repeat('0', 64));
SELECT * FROM confiture.migrate();
SELECT version, state FROM confiture.status() WHERE version = '21';
DELETE FROM confiture.migrations WHERE version = '33';

-- SQL that does not parse is refused, with its line and column...
SELECT confiture.register('40', 'newer syntax', 'SELECT * FROM (SELECT 1);');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- ...unless it is written for a newer server: then a WARNING, and it fails when applied.
SELECT confiture.register('40', 'newer syntax', 'SELECT * FROM (SELECT 1);', allow_syntax_errors => true);
SELECT version, state, message FROM confiture.migrate();

-- psql scripts: meta-commands are skipped (lines keep their numbers) and a
-- BEGIN/COMMIT around the whole script is the migration's own transaction.
SET client_min_messages = notice;
SELECT confiture.register('39', 'psql script', E'\\set ON_ERROR_STOP 1\nBEGIN;\nCREATE TABLE from_psql (id bigint PRIMARY KEY);\nCOMMIT;\n');
SET client_min_messages = warning;
SELECT version, state FROM confiture.migrate(target => '39');
SELECT to_regclass('from_psql') IS NOT NULL AS created;
-- ... and a psql variable nothing sets is refused, with where it is.
SELECT confiture.register('38', 'psql variable', E'\\set ON_ERROR_STOP 1\nALTER TABLE :tbl ADD COLUMN c int;');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Bad input: a clear error with a SQLSTATE.
SELECT confiture.register(NULL, 'x', 'SELECT 1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.register('', 'x', 'SELECT 1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.register('50', 'x', '  -- only a comment');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.register('50', 'x', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.register('020', 'x', 'SELECT 1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.migrate(target => 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.rollback(0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.rollback_to('nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.baseline(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Only superusers and members of confiture_admin may migrate.
CREATE ROLE confiture_regress_user;
SET ROLE confiture_regress_user;
SELECT * FROM confiture.migrate();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE confiture_regress_user;

DROP EXTENSION confiture;
DROP TABLE customers, orders;
