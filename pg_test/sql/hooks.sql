-- Migration hooks: code that runs in six phases around each migration.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)
CREATE TABLE hook_log (id serial, entry text);

-- Phases run in order; within a phase, by run_order then name.
SELECT confiture.add_hook('after_ddl', $$INSERT INTO hook_log (entry) VALUES ('after_ddl b')$$, name => 'b', run_order => 2);
SELECT confiture.add_hook('after_ddl', $$INSERT INTO hook_log (entry) VALUES ('after_ddl a')$$, name => 'a', run_order => 1);
SELECT confiture.add_hook('before_ddl', $$INSERT INTO hook_log (entry) VALUES ('before_ddl')$$, name => 'before');
SELECT confiture.add_hook('cleanup', $$INSERT INTO hook_log (entry) VALUES ('cleanup')$$, name => 'cleanup');
SELECT confiture.add_hook('after_validation', $$INSERT INTO hook_log (entry) VALUES ('after_validation')$$, name => 'validate');
SELECT confiture.add_hook('before_validation', $$INSERT INTO hook_log (entry) VALUES ('before_validation')$$, name => 'first');
SELECT name, phase, run_order, migration, timeout, on_failure FROM confiture.hooks
 ORDER BY array_position(ARRAY[$$before_validation$$, $$before_ddl$$, $$after_ddl$$, $$after_validation$$, $$cleanup$$], phase), run_order;

SELECT confiture.register('1', 'create orders', $$
    CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
    INSERT INTO hook_log (entry) VALUES ('migration 1');
    INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 100) g;$$);
SELECT version, state, hooks_duration > '0' AS hooks_ran FROM confiture.migrate();
SELECT entry FROM hook_log ORDER BY id;
SELECT hook, phase, outcome, rows FROM confiture.hook_runs WHERE version = '1' ORDER BY id;
SELECT confiture.drop_hook(name) FROM confiture.hooks;
TRUNCATE hook_log;

-- Hooks receive a jsonb context: the migration, the phase, the run, and
-- the results of earlier hooks of the same migration.
CREATE FUNCTION remember(context jsonb) RETURNS jsonb LANGUAGE sql AS $$
    INSERT INTO hook_log (entry) VALUES (context::text);
    SELECT jsonb_build_object('seen', context->>'phase')
$$;
SELECT confiture.add_hook('before_ddl', 'capture_row_counts', name => 'counts',
                          options => '{"tables": ["orders"]}');
SELECT confiture.add_hook('after_validation', 'remember(jsonb)'::regprocedure, name => 'remember');
SELECT confiture.register('2', 'add column', 'ALTER TABLE orders ADD COLUMN note text;');
SELECT version, state FROM confiture.migrate();
SELECT c->>'version' AS version, c->>'name' AS name, c->>'phase' AS phase, c->>'hook' AS hook,
       c->>'user' = current_user AS user_ok, (c->>'dry_run')::boolean AS dry_run,
       (c->>'run_id')::uuid IS NOT NULL AS has_run_id, (c->>'elapsed_ms')::float >= 0 AS has_elapsed,
       c->'results'->'counts'->'result' AS earlier_result
  FROM (SELECT entry::jsonb AS c FROM hook_log) s;
SELECT hook, result FROM confiture.hook_runs WHERE hook = 'remember';
SELECT confiture.drop_hook('remember');
TRUNCATE hook_log;

-- verify_row_counts compares with what capture_row_counts saw before the DDL.
SELECT confiture.add_hook('after_validation', 'verify_row_counts', name => 'same_counts');
SELECT confiture.register('3', 'loses rows', 'DELETE FROM orders WHERE id > 90;');
SELECT version, state, message FROM confiture.migrate();
SELECT count(*) AS orders_still FROM orders;
SELECT confiture.register('3', 'keeps rows', 'UPDATE orders SET note = $$checked$$;');
SELECT version, state FROM confiture.migrate();
SELECT confiture.drop_hook('same_counts');
SELECT confiture.drop_hook('counts');

-- A failing after_ddl hook rolls the migration back and runs on_error
-- hooks; their work is undone too unless they survive.
SELECT confiture.add_hook('after_ddl', 'verify_no_violations', name => 'no_negative_totals',
                          options => '{"query": "SELECT id FROM orders WHERE total < 0"}');
SELECT confiture.add_hook('on_error', $$INSERT INTO hook_log (entry) VALUES ('undone audit')$$, name => 'audit_undone');
SELECT confiture.add_hook('on_error',
    $$INSERT INTO hook_log (entry) SELECT 'kept audit: ' || (confiture.hook_context()->'error'->>'sqlstate')$$,
    name => 'audit_kept', survive => true);
SELECT confiture.register('4', 'negative totals', $$
    ALTER TABLE orders ADD COLUMN discount numeric;
    UPDATE orders SET total = -1 WHERE id = 7;$$);
SELECT version, state, message FROM confiture.migrate();
SELECT count(*) AS discount_columns FROM information_schema.columns WHERE column_name = 'discount';
SELECT entry FROM hook_log ORDER BY id;
SELECT hook, phase, outcome FROM confiture.hook_runs WHERE version = '4' ORDER BY id;

-- A warn-only hook does not abort the migration.
SELECT confiture.drop_hook('no_negative_totals');
SELECT confiture.add_hook('after_ddl', 'verify_no_violations', name => 'soft_check', on_failure => 'warn',
                          options => '{"query": "SELECT count(*) FROM orders WHERE total < 0"}');
SELECT version, state FROM confiture.migrate();
SELECT confiture.drop_hook('soft_check');
SELECT confiture.drop_hook('audit_undone');
SELECT confiture.drop_hook('audit_kept');

-- Timeouts fire and name the hook and phase.
SELECT confiture.add_hook('before_ddl', 'SELECT pg_sleep(2)', name => 'slow', timeout => '100 ms');
SELECT confiture.register('5', 'after a slow hook', 'CREATE TABLE t5 (id int);');
SELECT version, state, message FROM confiture.migrate();
SELECT hook, outcome, message FROM confiture.hook_runs WHERE hook = 'slow';
SELECT confiture.drop_hook('slow');

-- Hooks can be limited to some migrations (a version or a LIKE pattern on
-- version or name) and carry a condition over their context.
SELECT confiture.add_hook('after_ddl', $$INSERT INTO hook_log (entry) VALUES ('w_ hook')$$,
                          migration => 'w\_%', name => 'write_models_only');
SELECT confiture.add_hook('after_ddl', $$INSERT INTO hook_log (entry) VALUES ('conditional')$$,
                          name => 'only_v7', condition => $$context->>'version' = '7'$$);
TRUNCATE hook_log;
SELECT confiture.register('6', 'w_orders add column', 'ALTER TABLE orders ADD COLUMN w int;');
SELECT confiture.register('7', 'r_orders view', 'CREATE VIEW r_orders AS SELECT id FROM orders;');
SELECT version, state FROM confiture.migrate();
SELECT entry FROM hook_log ORDER BY id;
SELECT hook, version, outcome FROM confiture.hook_runs WHERE hook IN ('write_models_only', 'only_v7') ORDER BY id;
SELECT confiture.drop_hook('write_models_only');
SELECT confiture.drop_hook('only_v7');

-- Built-ins: backfill in batches, analyze, refresh a materialized view, reindex.
CREATE TABLE w_items (id int PRIMARY KEY, price int);
INSERT INTO w_items SELECT g, g FROM generate_series(1, 2500) g;
SELECT confiture.add_hook('after_ddl', 'backfill', migration => '8', name => 'fill_read_model',
    options => '{"sql": "INSERT INTO r_items SELECT id, price * 2 FROM w_items WHERE id BETWEEN $1 AND $2",
                 "table": "w_items", "key": "id", "batch_size": 1000}');
SELECT confiture.add_hook('after_validation', 'verify_row_counts', migration => '8', name => 'read_model_complete',
    options => '{"equal": [["r_items", "w_items"]]}');
SELECT confiture.add_hook('cleanup', 'analyze', migration => '8', options => '{"tables": ["r_items"]}');
SELECT confiture.register('8', 'r_items read model', 'CREATE TABLE r_items (id int PRIMARY KEY, doubled int);');
SET client_min_messages = notice;
SELECT version, state FROM confiture.migrate();
SET client_min_messages = warning;
SELECT count(*), sum(doubled) FROM r_items;
SELECT hook, rows, result FROM confiture.hook_runs WHERE version = '8' ORDER BY id;

CREATE MATERIALIZED VIEW item_totals AS SELECT count(*) AS n FROM r_items;
SELECT confiture.add_hook('after_ddl', 'refresh_materialized_view', migration => '9',
                          options => '{"view": "item_totals"}');
SELECT confiture.add_hook('cleanup', 'reindex', migration => '9', options => '{"table": "r_items"}');
SELECT confiture.register('9', 'more items', 'INSERT INTO r_items VALUES (100000, 0);');
SELECT version, state FROM confiture.migrate();
SELECT n FROM item_totals;

-- Bad input: clear errors, nothing registered.
SELECT count(*) AS hooks_before FROM confiture.hooks;
SELECT confiture.add_hook('after_dll', 'SELECT 1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'backfil');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'capture_row_counts', options => '{"tables": "orders"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'backfill', options => '{"sql": "UPDATE x SET y = 1", "batchsize": 10}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'analyze', options => '[1, 2]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'lower(text)'::regprocedure);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook(NULL, 'SELECT 1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', NULL::text);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'SELECT 1', timeout => '-1 s');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'SELECT 1', on_failure => 'ignore');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'SELECT 1', survive => true);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'SELECT 1', condition => 'context->>');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_hook('after_ddl', 'SELECT 1', name => 'dup');
SELECT confiture.add_hook('after_ddl', 'SELECT 2', name => 'dup');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.drop_hook('dup');
SELECT confiture.drop_hook('no_such_hook');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS hooks_after FROM confiture.hooks;

-- Only superusers, the extension owner and members of confiture_admin
-- may register or drop hooks.
CREATE ROLE hooks_regress_user;
SET ROLE hooks_regress_user;
SELECT confiture.add_hook('after_ddl', 'SELECT 1');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE hooks_regress_user;

DROP EXTENSION confiture;
DROP MATERIALIZED VIEW item_totals;
DROP VIEW r_orders;
DROP TABLE hook_log, orders, t5, w_items, r_items;
DROP FUNCTION remember(jsonb);
