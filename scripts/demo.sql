\set ECHO queries
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION confiture;

-- 1. Register every lemmy migration (342, up and down SQL). Twelve files use
--    syntax newer than PostgreSQL 15: they are accepted with a WARNING.
SET client_min_messages = error;
\set ECHO none
\o /dev/null
\i :lemmy
\o
\set ECHO queries
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

-- 8. Risk assessment without running anything.
SELECT statement, lock, blocks, rewrite, tier, left(recommendations[1], 60) AS recommendation
  FROM confiture.assess($$
    ALTER TABLE person ADD COLUMN last_seen timestamptz DEFAULT clock_timestamp();
    CREATE INDEX person_last_seen_idx ON person (last_seen);
    ALTER TABLE post ADD CONSTRAINT post_creator_fk FOREIGN KEY (creator_id) REFERENCES person (id) NOT VALID;
  $$);

-- 9. A dry run: run it, measure it, roll it all back.
--    (version 0 sorts before everything: only it is pending up to it)
SELECT confiture.register('0', 'demo: person name index', 'CREATE INDEX person_name_lower_idx ON person (lower(name));');
SELECT step, kind, left(statement, 50) AS statement, locks, blocks, created, estimated_duration
  FROM confiture.dry_run(target => '0', scale => 100);
SELECT version, state FROM confiture.status() WHERE version = '0';
SELECT to_regclass('person_name_lower_idx') AS still_absent;

-- 10. Linting: the lemmy migrations, and the live schema.
SELECT rule, severity, count(*) FROM confiture.migrations m, confiture.lint(m.up_sql) l
 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 8;
SELECT rule, count(*) FROM confiture.lint_schema('public') GROUP BY 1 ORDER BY 2 DESC;
-- the guard, on every DDL statement
SET confiture.lint_mode = enforce;
ALTER TABLE person ADD COLUMN token uuid DEFAULT gen_random_uuid();
SET confiture.lint_mode = off;

-- 11. DDL history: who changed what, through which migration.
SELECT command_tag, object_identity, left(statement, 50) AS statement, migration_version
  FROM confiture.history('public.person') LIMIT 5;
SELECT change, count(*) FROM confiture.schema_diff('2019-02-26-002946_create_user', '2025-08-01-000015_add_mark_fetched_posts_as_read')
 GROUP BY 1;
ALTER TABLE person ADD COLUMN hotfix text;   -- typed by hand
SELECT kind, identity, change FROM confiture.drift();

-- 12. Anonymization: mask customers, stream them, verify the profile.
CREATE TABLE demo_customers (id bigint PRIMARY KEY, tenant_id int NOT NULL, name text, email text UNIQUE, phone text, ssn text);
INSERT INTO demo_customers SELECT g, g % 3, 'Customer ' || g, 'customer' || g || '@mail.test', '+1 555 01' || lpad(g::text, 5, '0'), lpad(g::text, 9, '0')
  FROM generate_series(1, 1000) g;
SELECT confiture.create_profile('demo', 'demo-salt-change-me-0123456789');
SELECT confiture.add_rule('demo', 'demo_customers', 'name', 'name');
SELECT confiture.add_rule('demo', 'demo_customers', 'email', 'email');
SELECT confiture.add_rule('demo', 'demo_customers', 'phone', 'phone', '{"keep_digits": 4}');
SELECT confiture.add_rule('demo', 'demo_customers', 'ssn', 'pattern', '{"pattern": "*****####"}');
SELECT * FROM confiture.anonymized(NULL::demo_customers, 'demo') LIMIT 3;
SELECT "check", status, count(*) FROM confiture.verify_profile('demo') WHERE table_name = 'demo_customers' GROUP BY 1, 2 ORDER BY 1;
SELECT * FROM confiture.anonymize('demo');
