\set ECHO queries
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION confiture;

-- 1. Register every lemmy migration (342, up and down SQL). Twelve files use
--    syntax newer than PostgreSQL 15: they are accepted with a WARNING.
SET client_min_messages = error;
\o /dev/null
\i :lemmy
\o
SET client_min_messages = warning;
SELECT state, count(*), count(*) FILTER (WHERE statements IS NULL) AS unparsable
  FROM confiture.status() GROUP BY state;

-- 2. Hooks: code that runs around every migration, each in its own savepoint.
SELECT confiture.add_hook('before_ddl', 'SELECT 1', name => 'trace_start');
SELECT confiture.add_hook('on_error',
       $$SELECT 'migration ' || (confiture.hook_context()->>'version') || ' failed'$$,
       name => 'report_failure', on_failure => 'warn');

-- 3. Apply them all in one call: each migration in its own subtransaction.
--    The 248th does not parse on PostgreSQL 15: it is recorded as failed,
--    leaves nothing behind, and stops the run; the 247 before it stay applied.
SELECT state, count(*), sum(duration) AS total_time, sum(hooks_duration) AS hook_time
  FROM confiture.migrate() GROUP BY state;
SELECT version, state, last_sqlstate, last_error FROM confiture.status() WHERE state = 'failed';
SELECT count(*) AS tables_created FROM pg_tables WHERE schemaname = 'public';

-- 4. Running it again applies nothing new.
SELECT version, state FROM confiture.migrate();

-- 5. Roll back the last two migrations (their down SQL runs, newest first).
SELECT version, state, duration FROM confiture.rollback(2);
SELECT version, state FROM confiture.migrate(target => '2025-08-01-000015_add_mark_fetched_posts_as_read');

-- 6. Statements that cannot run in a transaction are refused before anything runs.
SELECT confiture.register('9999', 'concurrent index', 'CREATE INDEX CONCURRENTLY ON person (name);');

-- 7. Every hook run is recorded.
SELECT hook, phase, outcome, count(*) FROM confiture.hook_runs GROUP BY 1, 2, 3 ORDER BY 1;
