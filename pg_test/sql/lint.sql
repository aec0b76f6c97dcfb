-- Linting: migration rules over SQL text, catalog rules over the live
-- schema, configuration, ignore comments, and the DDL guard.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)
CREATE TABLE t (id bigint PRIMARY KEY, a int, b text, created timestamptz);
CREATE TABLE r (id bigint PRIMARY KEY);
COMMENT ON TABLE t IS 'lint fixture';
COMMENT ON TABLE r IS 'lint fixture';

-- Every rule: a statement it flags, and a close variant it must not flag.
CREATE TABLE cases (rule text, flagged text, variant text);
INSERT INTO cases VALUES
 ('index-not-concurrent', 'CREATE INDEX ON t (a)', 'CREATE TABLE n (a int); CREATE INDEX ON n (a)'),
 ('drop-index-not-concurrent', 'DROP INDEX t_a_idx', 'DROP INDEX CONCURRENTLY t_a_idx'),
 ('constraint-not-valid', 'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES r (id)',
                          'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES r (id) NOT VALID'),
 ('constraint-not-valid', 'ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)', 'ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID'),
 ('blocking-unique', 'ALTER TABLE t ADD CONSTRAINT u UNIQUE (b)', 'ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX t_b_idx'),
 ('set-not-null', 'ALTER TABLE t ALTER COLUMN a SET NOT NULL',
                  'ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT a_nn; ALTER TABLE t ALTER COLUMN a SET NOT NULL'),
 ('volatile-default', 'ALTER TABLE t ADD COLUMN d timestamptz DEFAULT clock_timestamp()', 'ALTER TABLE t ADD COLUMN d timestamptz DEFAULT now()'),
 ('add-serial-column', 'ALTER TABLE t ADD COLUMN s bigserial', 'ALTER TABLE t ADD COLUMN s bigint'),
 ('add-serial-column', 'ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED', 'ALTER TABLE t ADD COLUMN g int'),
 ('not-null-without-default', 'ALTER TABLE t ADD COLUMN n int NOT NULL', 'ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 0'),
 ('change-column-type', 'ALTER TABLE t ALTER COLUMN a TYPE bigint', 'ALTER TABLE t ALTER COLUMN a SET DEFAULT 0'),
 ('rename', 'ALTER TABLE t RENAME COLUMN a TO a2', 'CREATE TABLE n (a int); ALTER TABLE n RENAME COLUMN a TO a2'),
 ('rename', 'ALTER TABLE t RENAME TO t2', 'ALTER INDEX t_pkey RENAME TO t_pk'),
 ('drop-column', 'ALTER TABLE t DROP COLUMN b', 'ALTER TABLE t DROP CONSTRAINT IF EXISTS c'),
 ('drop-table', 'DROP TABLE t', 'CREATE TABLE n (a int); DROP TABLE n'),
 ('drop-table', 'DROP SCHEMA s CASCADE', 'DROP VIEW v'),
 ('table-rewrite', 'VACUUM FULL t', 'VACUUM t'),
 ('table-rewrite', 'CLUSTER t USING t_pkey', 'ANALYZE t'),
 ('table-rewrite', 'ALTER TABLE t SET UNLOGGED', 'ALTER TABLE t SET (fillfactor = 90)'),
 ('missing-lock-timeout', 'ALTER TABLE t ADD COLUMN x int', 'SET lock_timeout = ''5s''; ALTER TABLE t ADD COLUMN x int'),
 ('missing-lock-timeout', 'SET lock_timeout = 0; DROP TABLE t', 'SET lock_timeout = ''5s''; DROP TABLE t'),
 ('missing-lock-timeout', 'TRUNCATE t', 'ALTER TABLE t SET (autovacuum_enabled = false)'),
 ('prefer-bigint', 'CREATE TABLE n (id int PRIMARY KEY)', 'CREATE TABLE n (id bigint PRIMARY KEY)'),
 ('prefer-identity', 'CREATE TABLE n (id bigserial PRIMARY KEY)', 'CREATE TABLE n (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY)'),
 ('prefer-text', 'CREATE TABLE n (name varchar(100))', 'CREATE TABLE n (name char(1))'),
 ('ban-char-field', 'CREATE TABLE n (code char(2))', 'CREATE TABLE n (code varchar(2))'),
 ('prefer-timestamptz', 'CREATE TABLE n (at timestamp)', 'CREATE TABLE n (at timestamptz)'),
 ('prefer-jsonb', 'ALTER TABLE t ADD COLUMN doc json', 'ALTER TABLE t ADD COLUMN doc jsonb'),
 ('identifier-too-long', 'CREATE TABLE ' || repeat('x', 64) || ' (a int)', 'CREATE TABLE ' || repeat('x', 63) || ' (a int)'),
 ('dml-without-where', 'UPDATE t SET a = 1', 'UPDATE t SET a = 1 WHERE id < 1000'),
 ('dml-without-where', 'DELETE FROM t', 'DELETE FROM t WHERE a IS NULL'),
 ('security-definer-search-path', 'CREATE FUNCTION f() RETURNS int SECURITY DEFINER LANGUAGE sql AS ''SELECT 1''',
                                  'CREATE FUNCTION f() RETURNS int SECURITY DEFINER SET search_path = pg_catalog LANGUAGE sql AS ''SELECT 1'''),
 ('truncate', 'TRUNCATE t', 'CREATE TABLE n (a int); TRUNCATE n'),
 ('truncate-cascade', 'TRUNCATE t CASCADE', 'TRUNCATE t'),
 ('drop-constraint', 'ALTER TABLE t DROP CONSTRAINT t_pkey', 'CREATE TABLE n (a int UNIQUE); ALTER TABLE n DROP CONSTRAINT n_a_key'),
 ('drop-default', 'ALTER TABLE t ALTER COLUMN a DROP DEFAULT', 'ALTER TABLE t ADD COLUMN d int DEFAULT 1; ALTER TABLE t ALTER COLUMN d DROP DEFAULT'),
 ('drop-not-null', 'ALTER TABLE t ALTER COLUMN a DROP NOT NULL', 'CREATE TABLE n (a int NOT NULL); ALTER TABLE n ALTER COLUMN a DROP NOT NULL'),
 ('drop-object', 'DROP FUNCTION f()', 'CREATE VIEW v2 AS SELECT 1; DROP VIEW v2'),
 ('drop-object', 'DROP TRIGGER trg ON t', 'DROP INDEX CONCURRENTLY IF EXISTS t_a_idx'),
 ('drop-database', 'DROP DATABASE d', 'DROP TABLESPACE ts'),
 ('set-schema', 'ALTER TABLE t SET SCHEMA archive', 'CREATE TABLE n (a int); ALTER TABLE n SET SCHEMA archive'),
 ('rename-object', 'ALTER INDEX t_pkey RENAME TO t_pk', 'CREATE TABLE n (a int CONSTRAINT n_c CHECK (a > 0)); ALTER TABLE n RENAME CONSTRAINT n_c TO n_c2'),
 ('rename-object', 'ALTER TRIGGER trg ON t RENAME TO trg2', 'ALTER TABLE t ALTER COLUMN a SET STATISTICS 100'),
 ('enum-value-order', 'ALTER TYPE mood ADD VALUE ''meh''', 'ALTER TYPE mood ADD VALUE ''meh'' BEFORE ''happy'''),
 ('concurrently-in-transaction', 'SELECT 1; BEGIN; CREATE INDEX CONCURRENTLY ON t (a); COMMIT', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a)'),
 ('transaction-nesting', 'BEGIN; BEGIN; COMMIT; COMMIT', 'BEGIN; COMMIT; BEGIN; COMMIT'),
 ('uncommitted-transaction', 'BEGIN; ALTER TABLE t ADD COLUMN x int', 'BEGIN; ALTER TABLE t ADD COLUMN x int; COMMIT'),
 ('reindex-not-concurrent', 'REINDEX TABLE t', 'REINDEX TABLE CONCURRENTLY t'),
 ('detach-partition-not-concurrent', 'ALTER TABLE p DETACH PARTITION p1', 'ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY'),
 ('exclusion-constraint', 'ALTER TABLE t ADD CONSTRAINT x EXCLUDE USING gist (a WITH =)', 'CREATE TABLE n (a int, EXCLUDE USING gist (a WITH =))'),
 ('statements-after-access-exclusive', 'ALTER TABLE t ADD COLUMN x int; UPDATE r SET id = id WHERE id < 0', 'UPDATE r SET id = id WHERE id < 0; ALTER TABLE t ADD COLUMN x int'),
 ('combine-alter-table', 'ALTER TABLE t ADD COLUMN x int; ALTER TABLE t ADD COLUMN y int', 'ALTER TABLE t ADD COLUMN x int, ADD COLUMN y int'),
 ('primary-key-using-index', 'ALTER TABLE r ADD CONSTRAINT r_pk PRIMARY KEY USING INDEX r_id_u', 'ALTER TABLE r ADD CONSTRAINT r_u UNIQUE USING INDEX r_id_u'),
 ('missing-statement-timeout', 'ALTER TABLE t ADD COLUMN x int', 'SET statement_timeout = ''10s''; ALTER TABLE t ADD COLUMN x int'),
 ('prefer-robust-stmts', 'CREATE INDEX CONCURRENTLY t_a ON t (a)', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a)'),
 ('domain-constraint', 'ALTER DOMAIN pos ADD CONSTRAINT pos_c CHECK (VALUE > 0)', 'CREATE DOMAIN pos2 AS int'),
 ('domain-constraint', 'CREATE DOMAIN pos2 AS int CHECK (VALUE > 0)', 'ALTER DOMAIN pos DROP CONSTRAINT pos_c'),
 ('duplicate-column-assignment', 'UPDATE t SET a = 1, b = ''x'', a = 2 WHERE id = 1', 'UPDATE t SET a = 1, b = ''x'' WHERE id = 1'),
 ('duplicate-column-assignment', 'INSERT INTO t (id, a, a) VALUES (1, 2, 3)', 'INSERT INTO t (id, a, b) VALUES (1, 2, ''x'')');
-- rules that are off by default are checked switched on
INSERT INTO confiture.lint_rules (rule, enabled) SELECT r, true FROM unnest(ARRAY['combine-alter-table',
  'statements-after-access-exclusive', 'enum-value-order', 'missing-statement-timeout']) r;
SELECT c.rule,
       EXISTS (SELECT FROM confiture.lint(c.flagged) l WHERE l.rule = c.rule) AS flags,
       NOT EXISTS (SELECT FROM confiture.lint(c.variant) l WHERE l.rule = c.rule) AS variant_passes
  FROM cases c;
-- and every rule is covered by a case
SELECT rule FROM confiture.lint_rules() WHERE kind = 'migration' EXCEPT SELECT rule FROM cases;
DELETE FROM confiture.lint_rules;
-- which rules are off unless switched on
SELECT rule, default_severity FROM confiture.lint_rules() WHERE NOT enabled ORDER BY rule;
SELECT count(*) AS migration_rules FROM confiture.lint_rules() WHERE kind = 'migration';

-- Findings carry a severity, the object, the line and column, a message and a suggestion.
SELECT rule, severity, object, line, "column", message FROM confiture.lint($$
CREATE TABLE w_orders (id bigint PRIMARY KEY, total numeric);
CREATE INDEX ON w_orders (total);  -- new table: not a risk
  ALTER TABLE t ADD COLUMN seen timestamptz DEFAULT clock_timestamp();
$$);

-- What the script did is followed statement by statement. Copy and swap:
-- the index is built on the new copy, only the DROP of the old table counts.
SELECT rule, object, line FROM confiture.lint($$
CREATE TABLE t_new (id bigint PRIMARY KEY, a int);
DROP TABLE t;
ALTER TABLE t_new RENAME TO t;
CREATE INDEX ON t (a);
ALTER TABLE t RENAME COLUMN a TO a2;
$$) WHERE rule <> 'missing-lock-timeout';
-- renaming an existing table onto a name the script dropped: it is not new
SELECT rule, object, line FROM confiture.lint($$
CREATE TABLE t2 (a int);
DROP TABLE t2;
ALTER TABLE t RENAME TO t2;
CREATE INDEX ON t2 (a);
$$) WHERE rule = 'index-not-concurrent';
-- SELECT ... INTO and CREATE TABLE ... AS make new tables
SELECT rule, object, line FROM confiture.lint($$
SELECT * INTO t_copy FROM t;
CREATE INDEX ON t_copy (a);
CREATE TABLE t_copy2 AS SELECT * FROM t;
ALTER TABLE t_copy2 ADD COLUMN z int NOT NULL;
$$);
-- names resolve as the server resolves them: staging.t is not public.t
CREATE SCHEMA staging;
SELECT rule, object, line FROM confiture.lint($$
CREATE TABLE staging.t (id bigint);
CREATE INDEX ON t (a);
CREATE INDEX ON public.t (a);
CREATE INDEX ON staging.t (id);
$$) WHERE rule = 'index-not-concurrent';
-- ... and unqualified names follow the search_path
SET search_path = staging, public;
SELECT rule, object, line FROM confiture.lint($$
CREATE TABLE r (id bigint);
CREATE INDEX ON r (id);
CREATE INDEX ON public.r (id);
$$) WHERE rule = 'index-not-concurrent';
RESET search_path;
-- CREATE TABLE IF NOT EXISTS of a table that exists creates nothing: the
-- catalog says so (offline, confiture lint takes it as existing)
SELECT rule, object, line FROM confiture.lint($$
CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY);
DROP TABLE t;
CREATE TABLE IF NOT EXISTS brand_new (id bigint PRIMARY KEY);
DROP TABLE brand_new;
$$) WHERE rule = 'drop-table';
-- a column the script added can be renamed and dropped
SELECT rule, object, line FROM confiture.lint($$
ALTER TABLE t ADD COLUMN tmp int;
ALTER TABLE t RENAME COLUMN tmp TO tmp2;
ALTER TABLE t DROP COLUMN tmp2;
$$) WHERE rule IN ('rename', 'drop-column');

-- missing-lock-timeout: once per script, naming every statement it covers
-- (lock_timeout = 0 waits forever: not a timeout)
SELECT rule, object, line, message FROM confiture.lint($$
SET lock_timeout = 0;
ALTER TABLE t ADD COLUMN c int;
DROP TABLE r;
DROP INDEX t_a_idx;
TRUNCATE t;
ALTER TABLE t RENAME TO t3;
DROP TRIGGER trg ON t;
ALTER TRIGGER trg2 ON t RENAME TO trg3;
LOCK TABLE t;
ALTER TABLE t SET (autovacuum_enabled = false);
$$) WHERE rule = 'missing-lock-timeout';

-- the parser's own NOTICE about the long name does not reach the client
SET client_min_messages = notice;
SELECT rule FROM confiture.lint('CREATE TABLE ' || repeat('y', 70) || ' (a int)');
SET client_min_messages = warning;

-- SQL the server cannot parse is one finding, with its position.
SELECT rule, line, "column", message FROM confiture.lint(E'SELECT 1;\nSELECT * FROM (SELECT 1);');

-- Ignore comments, for one statement or the whole script.
SELECT rule FROM confiture.lint($$
-- confiture:ignore index-not-concurrent
CREATE INDEX ON t (a);
CREATE INDEX ON t (b);
$$);
SELECT count(*) FROM confiture.lint('/* confiture:ignore-file all */ DROP TABLE t; TRUNCATE r');

-- Configuration: switch a rule off, change a severity, exempt objects.
INSERT INTO confiture.lint_rules VALUES ('prefer-timestamptz', false, NULL), ('index-not-concurrent', true, 'error');
INSERT INTO confiture.lint_exemptions (rule, object_pattern, reason) VALUES ('drop-column', 'legacy_%', 'being retired');
SELECT rule, severity, object FROM confiture.lint($$
CREATE TABLE n (at timestamp);
CREATE INDEX ON t (a);
ALTER TABLE legacy_orders DROP COLUMN x;
ALTER TABLE orders DROP COLUMN x;
$$) WHERE rule <> 'missing-lock-timeout';
SELECT rule, default_severity, severity, enabled FROM confiture.lint_rules() WHERE rule IN ('prefer-timestamptz', 'index-not-concurrent');
DELETE FROM confiture.lint_rules; DELETE FROM confiture.lint_exemptions;

-- Catalog rules over the live schema.
CREATE SCHEMA app;
CREATE TABLE app.customers (id bigint PRIMARY KEY, tenant_id int, "Email" text, password text);
CREATE TABLE app.orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES app.customers, tenant_id int);
CREATE TABLE app.events (payload jsonb);
CREATE UNLOGGED TABLE app.cache (k text PRIMARY KEY, tenant_id int);
CREATE TABLE app.r_orders (id bigint PRIMARY KEY, tenant_id int);
COMMENT ON TABLE app.orders IS 'orders';
INSERT INTO confiture.lint_naming (schema_pattern, object_kind, name_regex, description) VALUES ('app', 'table', '^(w|r)_', 'CQRS: w_ write tables, r_ read models');
INSERT INTO confiture.lint_required_columns (column_name, schema_pattern, exempt_pattern) VALUES ('tenant_id', 'app', 'cache');
INSERT INTO confiture.read_models VALUES ('app.r_orders', ARRAY['app.w_orders']);
SELECT rule, severity, object, message FROM confiture.lint_schema('app');
-- fixed: the foreign key gets its index
CREATE INDEX ON app.orders (customer_id);
SELECT count(*) AS fk_findings FROM confiture.lint_schema('app') WHERE rule = 'fk-without-index';

-- The DDL guard: every DDL statement, as it runs.
SHOW confiture.lint_mode;
CREATE INDEX t_b_idx ON t (b);               -- off: nothing
SET confiture.lint_mode = warn;
CREATE INDEX t_created_idx ON t (created);   -- warn: a WARNING, and it runs
SET client_min_messages = notice;
SELECT to_regclass('t_created_idx') IS NOT NULL AS created;
SET confiture.lint_mode = enforce;
ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();   -- error severity: rejected
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS token_columns FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'token';
CREATE INDEX t_a_idx ON t (a);                -- warning severity: allowed with a WARNING
-- a table created in the same transaction is new: nothing to protect
BEGIN;
CREATE TABLE fresh (id bigint PRIMARY KEY, a int);
ALTER TABLE fresh ADD COLUMN token uuid DEFAULT gen_random_uuid();
COMMIT;
-- the guard follows renames within the transaction: the swapped-in copy is new
BEGIN;
CREATE TABLE g_new (id bigint PRIMARY KEY);
ALTER TABLE g_new RENAME TO g_swapped;
ALTER TABLE g_swapped ADD COLUMN token uuid DEFAULT gen_random_uuid();
COMMIT;
-- ... and asks the catalog about IF NOT EXISTS: t exists, so it is not new
BEGIN;
CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY);
ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();   -- rejected
ROLLBACK;
-- info findings are a NOTICE, not a WARNING
SET client_min_messages = notice;
CREATE TABLE info_only (id bigserial PRIMARY KEY);
SET client_min_messages = warning;
-- ignore comments work in the guard (psql drops -- comments, so a /* */ one here)
/* confiture:ignore volatile-default */ ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();
-- migrations follow the same mode
SELECT confiture.register('1', 'volatile default', 'ALTER TABLE r ADD COLUMN seen timestamptz DEFAULT clock_timestamp();');
SELECT version, state, message FROM confiture.migrate();
SET confiture.lint_mode = off;
SET client_min_messages = warning;

-- Severity from the real table: the same CREATE INDEX is info on 500 rows
-- and an error on 5,000,000 (the estimated time under its lock against
-- confiture.lock_budget); findings say the size and the estimate.
SHOW confiture.lock_budget;
CREATE UNLOGGED TABLE small_t (id int);
INSERT INTO small_t SELECT generate_series(1, 500);
CREATE UNLOGGED TABLE big_t (id int);
INSERT INTO big_t SELECT generate_series(1, 5000000);
ANALYZE small_t, big_t;
SELECT severity, message FROM confiture.lint('CREATE INDEX ON small_t (id)') WHERE rule = 'index-not-concurrent';
SELECT severity, message FROM confiture.lint('CREATE INDEX ON big_t (id)') WHERE rule = 'index-not-concurrent';
-- enforce runs the first and refuses the second
SET confiture.lint_mode = enforce;
SET lock_timeout = '5s';
SET client_min_messages = notice;
CREATE INDEX small_t_id ON small_t (id);
CREATE INDEX big_t_id ON big_t (id);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
SELECT indexname FROM pg_indexes WHERE tablename IN ('small_t', 'big_t');
-- a larger budget accepts it
SET confiture.lock_budget = '10s';
SELECT severity FROM confiture.lint('CREATE INDEX ON big_t (id)') WHERE rule = 'index-not-concurrent';
RESET confiture.lock_budget;
RESET lock_timeout;
SET confiture.lint_mode = off;
DROP TABLE small_t, big_t;

-- Bad input
SELECT * FROM confiture.lint(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM confiture.lint('');

DROP EXTENSION confiture;
DROP SCHEMA app CASCADE;
DROP TABLE t, r, cases, fresh, g_swapped, info_only;
DROP SCHEMA staging;
