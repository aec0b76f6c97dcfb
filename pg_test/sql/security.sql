-- Security model: what each role may do, as whom code runs, where secrets
-- live. Every block here is an attack that must fail.
SET client_min_messages = warning;
-- a database of its own: the other suites' ledger stays out of it
CREATE DATABASE confiture_security;
\c confiture_security
SET client_min_messages = warning;
CREATE EXTENSION confiture;
SELECT pg_postmaster_start_time() AS started \gset

-- Roles: two confiture admins who are not superusers, an attacker who can
-- create objects in the database (as a database owner can), a plain role.
CREATE ROLE sec_admin;
CREATE ROLE sec_admin2;
CREATE ROLE sec_attacker;
CREATE ROLE sec_plain;
GRANT confiture_admin TO sec_admin, sec_admin2;
GRANT CREATE ON SCHEMA public TO sec_admin, sec_admin2, sec_attacker;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO sec_attacker, sec_admin', current_database()); END $$;

-- 1. Deep expressions end in "stack depth limit exceeded" (54001), never in
-- a crash that restarts the server.
\set VERBOSITY sqlstate
SELECT count(*) FROM confiture.lint('CREATE TABLE t (c int DEFAULT ' || repeat('1+', 100000) || '1)');
SELECT count(*) FROM confiture.lint('CREATE TABLE t (c int DEFAULT ' || repeat('1+', 1000000) || '1)');
SELECT count(*) FROM confiture.assess('ALTER TABLE t ALTER COLUMN c SET DEFAULT ' || repeat('1+', 100000) || '1');
SELECT confiture.register('900', 'deep', 'CREATE TABLE t (c int DEFAULT ' || repeat('1+', 100000) || '1)');
SELECT count(*) FROM confiture.lint('SET lock_timeout = ' || repeat('''1''::text', 1) || repeat('::text', 100000));
SET confiture.lint_mode = warn;
SET ROLE sec_plain;
DO $$ BEGIN EXECUTE 'CREATE TEMP TABLE deep (c int DEFAULT ' || repeat('1+', 100000) || '1)'; END $$;
RESET ROLE;
RESET confiture.lint_mode;
\set VERBOSITY default
SELECT pg_postmaster_start_time() = :'started' AS server_stayed_up;

-- 2. Shadowing: an attacker's schema that clones the built-in operators and
-- functions confiture uses. Each clone records that it ran. With the
-- attacker's schema first in a superuser's search_path, confiture's own
-- queries still use only pg_catalog's (every entry point pins
-- search_path = pg_catalog, pg_temp).
CREATE SCHEMA attack AUTHORIZATION sec_attacker;
SET ROLE sec_attacker;
CREATE TABLE attack.hits (who text, what text);
GRANT INSERT, SELECT ON attack.hits TO PUBLIC;
GRANT USAGE ON SCHEMA attack TO PUBLIC;
DO $$
DECLARE p record; n int := 0;
BEGIN
    FOR p IN
        SELECT o.oprname, o.oprleft::regtype AS l, o.oprright::regtype AS r, o.oprresult::regtype AS res
          FROM pg_catalog.pg_operator o
         WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprleft <> 0 AND o.oprright <> 0
           AND o.oprname IN ('=', '<>', '||', '~~', '!~~', '~', '~*', '<', '>', '<=', '>=', '+', '-', '*', '@>', '?', '?|', '->', '->>', '&&')
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_type t WHERE t.oid IN (o.oprleft, o.oprright, o.oprresult) AND t.typtype = 'p')
    LOOP
        n := n + 1;
        EXECUTE format('CREATE FUNCTION attack.op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L',
                       n, p.l, p.r, p.res,
                       format('BEGIN INSERT INTO attack.hits VALUES (current_user, %L); RETURN NULL; END', p.oprname));
        EXECUTE format('CREATE OPERATOR attack.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = attack.op_%s)',
                       p.oprname, p.l, p.r, n);
    END LOOP;
    FOR p IN
        SELECT f.proname, pg_catalog.oidvectortypes(f.proargtypes) AS args, f.prorettype::regtype AS res
          FROM pg_catalog.pg_proc f
         WHERE f.pronamespace = 'pg_catalog'::regnamespace AND f.prokind = 'f' AND NOT f.proretset AND f.pronargs > 0
           AND f.proname IN ('lower', 'upper', 'format', 'quote_ident', 'quote_literal', 'current_setting', 'set_config',
                             'replace', 'regexp_replace', 'split_part', 'array_position', 'jsonb_build_object', 'to_jsonb',
                             'encode', 'sha256', 'convert_to', 'md5', 'has_table_privilege', 'to_regclass',
                             'to_regprocedure', 'pg_get_expr', 'format_type', 'length', 'btrim', 'left', 'right',
                             'pg_try_advisory_xact_lock', 'pg_advisory_xact_lock', 'pg_identify_object', 'host',
                             'date_trunc', 'pg_get_indexdef', 'pg_get_constraintdef', 'jsonb_strip_nulls', 'textcat',
                             'substring', 'strpos', 'position', 'starts_with', 'string_to_array', 'array_to_string')
           AND NOT EXISTS (SELECT FROM pg_catalog.unnest(f.proargtypes::oid[]) a JOIN pg_catalog.pg_type t ON t.oid = a WHERE t.typtype = 'p')
           AND (SELECT typtype FROM pg_catalog.pg_type WHERE oid = f.prorettype) <> 'p'
    LOOP
        EXECUTE format('CREATE FUNCTION attack.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                       p.proname, p.args, p.res,
                       format('BEGIN INSERT INTO attack.hits VALUES (current_user, %L); RETURN NULL; END', p.proname));
    END LOOP;
END $$;
-- and the issue's own example, in public: ||(bigint, text)
CREATE FUNCTION public.cat(bigint, text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO attack.hits VALUES (current_user, 'public.||'); RETURN $2; END $$;
CREATE OPERATOR public.|| (LEFTARG = bigint, RIGHTARG = text, FUNCTION = public.cat);
RESET ROLE;
SELECT count(*) > 500 AS many_clones FROM pg_catalog.pg_proc WHERE pronamespace = 'attack'::regnamespace;

-- (control: the clones do fire for a query that is not pinned)
SET search_path = attack, pg_catalog;
SELECT 'a'::text = 'a'::text AS control;
RESET search_path;
SELECT count(*) AS control_hits FROM attack.hits;
DELETE FROM attack.hits;

-- A superuser uses every feature with the attacker's schema first.
SELECT confiture.register('901', 'shadow target', 'CREATE TABLE sec_shadow (id bigint PRIMARY KEY, email text);',
                          'DROP TABLE sec_shadow;');
SET search_path = attack, pg_catalog, public;
SET confiture.lint_mode = warn;
SELECT version, state FROM confiture.migrate();
SELECT true AS ran FROM (SELECT count(*) FROM confiture.lint('CREATE INDEX i ON sec_shadow (email); ALTER TABLE sec_shadow ADD COLUMN n int DEFAULT 0')) s;
SELECT true AS ran FROM (SELECT count(*) FROM confiture.assess('ALTER TABLE sec_shadow ALTER COLUMN email SET NOT NULL')) s;
SELECT true AS ran FROM (SELECT count(*) FROM confiture.drift()) s;
SELECT true AS ran FROM (SELECT count(*) FROM confiture.status()) s;
SELECT true AS ran FROM (SELECT count(*) FROM confiture.dry_run()) s;
SELECT confiture.create_profile('sec_shadow', 'shadow-salt-0123456789');
SELECT confiture.add_rule('sec_shadow', 'sec_shadow', 'email', 'email');
SELECT table_name, rows FROM confiture.anonymize('sec_shadow');
SELECT true AS ran FROM (SELECT count(*) FROM confiture.verify_profile('sec_shadow')) s;
CREATE TABLE public.sec_logged (id int);
SELECT version, state FROM confiture.rollback();
RESET confiture.lint_mode;
RESET search_path;
SELECT who, what FROM attack.hits;
SELECT rolsuper FROM pg_roles WHERE rolname = 'sec_attacker';
-- (the rest of this suite makes objects by hand on purpose)
SET confiture.drift_mode = off;

-- 3. A fake pgGit: a role with CREATE on the database makes schema pggit.
-- Confiture calls pgGit only when its objects belong to a superuser or to
-- confiture's owner; this one is ignored (with a WARNING).
SET ROLE sec_attacker;
CREATE SCHEMA pggit;
CREATE TABLE pggit.migrations (version text, description text, up_sql text, down_sql text, checksum text,
                               applied_at timestamptz, applied_by text, execution_time_ms bigint);
CREATE FUNCTION pggit.create_commit(text, text, text, uuid[] DEFAULT NULL) RETURNS uuid LANGUAGE plpgsql
    AS $$ BEGIN INSERT INTO attack.hits VALUES (current_user, 'pggit.create_commit'); RETURN NULL; END $$;
RESET ROLE;
SET client_min_messages = warning;
SELECT version, state FROM confiture.migrate();
SELECT count(*) AS fake_pggit_calls FROM attack.hits WHERE what = 'pggit.create_commit';
SELECT count(*) AS rows_given_to_fake_pggit FROM pggit.migrations;
DROP SCHEMA pggit CASCADE;

-- 4. Migrations run with the privileges of the role that registered them.
-- A confiture_admin member who is not a superuser: their migration that
-- runs a program on the server fails with 42501 even when a superuser
-- applies it.
SET ROLE sec_admin;
SELECT confiture.register('902', 'program', $$COPY (SELECT 1) TO PROGRAM 'touch /tmp/confiture-pwned'$$);
RESET ROLE;
\set VERBOSITY sqlstate
SELECT version, state FROM confiture.migrate();
\set VERBOSITY default
SELECT version, state, last_sqlstate, run_as FROM confiture.migrations WHERE version = '902';
-- only a superuser can trust it to run as the caller
SET ROLE sec_admin;
SELECT confiture.trust_migration('902');
RESET ROLE;
SELECT confiture.trust_migration('902', false);
SET ROLE sec_admin;
SELECT confiture.register('902', 'harmless now', 'CREATE TABLE sec_by_admin (id int)');
RESET ROLE;
-- ... and it can no longer write the ledger directly
SET ROLE sec_admin;
UPDATE confiture.migrations SET run_as = 'postgres' WHERE version = '902';
INSERT INTO confiture.migration_log (version, action) VALUES ('902', 'apply');
RESET ROLE;

-- 5. The main flows, as a non-superuser confiture_admin member, on tables
-- they own.
SET ROLE sec_admin;
SELECT version, state FROM confiture.migrate();
SELECT tableowner FROM pg_tables WHERE tablename = 'sec_by_admin';
SELECT confiture.register('903', 'customers', 'CREATE TABLE sec_customers (id bigint PRIMARY KEY, email text UNIQUE);
                                               CREATE TABLE sec_orders (id bigint PRIMARY KEY, customer bigint REFERENCES sec_customers);',
                          'DROP TABLE sec_orders; DROP TABLE sec_customers;');
SELECT confiture.add_hook('after_ddl', 'SELECT 1', migration => '903', name => 'sec_hook');
SELECT DISTINCT version, outcome FROM confiture.dry_run() ORDER BY 1, 2;
SELECT version, state FROM confiture.migrate();
INSERT INTO sec_customers SELECT g, 'person' || g || '@example.com' FROM generate_series(1, 20) g;
INSERT INTO sec_orders SELECT g, g FROM generate_series(1, 20) g;
SELECT count(*) AS drifted FROM confiture.drift();
SELECT confiture.create_profile('sec_admin_profile', 'admin-salt-0123456789');
SELECT confiture.add_rule('sec_admin_profile', 'sec_customers', 'id', 'hash', '{"format": "bigint"}');
SELECT confiture.add_rule('sec_admin_profile', 'sec_orders', 'customer', 'hash', '{"format": "bigint"}');
SELECT confiture.add_rule('sec_admin_profile', 'sec_customers', 'email', 'email');
SELECT table_name, rows FROM confiture.anonymize('sec_admin_profile');
SELECT count(*) AS orphans FROM sec_orders o LEFT JOIN sec_customers c ON c.id = o.customer WHERE c.id IS NULL;
SELECT count(*) AS originals_left FROM sec_customers WHERE email LIKE 'person%';
SELECT condeferrable FROM pg_constraint WHERE conrelid = 'sec_orders'::regclass AND contype = 'f';
SELECT "check", status FROM confiture.verify_profile('sec_admin_profile') WHERE "check" IN ('deterministic', 'foreign_keys_join') ORDER BY 1, 2;
SELECT count(*) AS masked_rows FROM confiture.anonymized(NULL::sec_customers, 'sec_admin_profile');
SELECT version, state FROM confiture.rollback();
SELECT version, state FROM confiture.migrate();
SELECT confiture.drop_hook('sec_hook');
RESET ROLE;

-- A dry run leaves nothing behind: a session-level advisory lock taken by
-- a hook is released (with a WARNING).
SET ROLE sec_admin;
SELECT confiture.register('907', 'locks', 'CREATE TABLE sec_locks (id int)');
SELECT confiture.add_hook('after_ddl', 'SELECT pg_advisory_lock(4242)', migration => '907', name => 'sec_lock_hook');
SELECT DISTINCT version, outcome FROM confiture.dry_run() ORDER BY 1, 2;
SELECT count(*) AS advisory_locks_left FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242;
SELECT confiture.drop_hook('sec_lock_hook');
SELECT confiture.baseline('907');
RESET ROLE;

-- 6. A hook function is pinned to its owner and definition: after CREATE OR
-- REPLACE it refuses to run until registered again.
SET ROLE sec_admin;
CREATE FUNCTION sec_hook_fn(context jsonb) RETURNS void LANGUAGE sql AS 'SELECT';
SELECT confiture.add_hook('before_ddl', 'sec_hook_fn(jsonb)'::regprocedure, migration => '904', name => 'pinned');
SELECT confiture.register('904', 'pinned hook', 'CREATE TABLE sec_pinned (id int)');
RESET ROLE;
CREATE OR REPLACE FUNCTION sec_hook_fn(context jsonb) RETURNS void LANGUAGE sql AS 'SELECT pg_sleep(0)';
SELECT version, state, message LIKE '%changed since the hook was registered%' AS refused FROM confiture.migrate();
SELECT confiture.baseline('904');
SELECT confiture.drop_hook('pinned');

-- 7. Secrets. The DDL log is written only by confiture and read only by
-- confiture_admin; credentials typed in DDL are redacted.
SET ROLE sec_plain;
SELECT count(*) FROM confiture.ddl_log;
INSERT INTO confiture.ddl_log (command_tag, statement) VALUES ('CREATE TABLE', 'forged');
RESET ROLE;
CREATE FOREIGN DATA WRAPPER sec_fdw;
CREATE SERVER sec_srv FOREIGN DATA WRAPPER sec_fdw OPTIONS (host 'db', password 'hunter2');
CREATE USER MAPPING FOR sec_plain SERVER sec_srv OPTIONS (user 'u', password 'hunter2');
ALTER USER MAPPING FOR sec_plain SERVER sec_srv OPTIONS (SET password E'hunter2\\');
CREATE TABLE sec_multi (id int); ALTER ROLE sec_plain PASSWORD 'hunter2';
SELECT command_tag, statement FROM confiture.ddl_log WHERE command_tag LIKE '%SERVER%' OR command_tag LIKE '%MAPPING%' OR object_identity = 'public.sec_multi' ORDER BY id;
SELECT count(*) AS secrets_in_log FROM confiture.ddl_log WHERE statement LIKE '%hunter2%';
DROP SERVER sec_srv CASCADE;
DROP FOREIGN DATA WRAPPER sec_fdw;

-- The default salt is no oracle: without a salt argument, only roles that
-- may read confiture.anon_salt may mask.
SET confiture.anon_salt = 'server-secret-0123456789';
SET ROLE sec_plain;
SELECT confiture.mask_email('alice@example.com');
SELECT confiture.mask_email('alice@example.com', 'my-own-salt-0123456789') LIKE '%@%' AS with_own_salt;
RESET ROLE;
SELECT confiture.mask_email('alice@example.com') LIKE '%@%' AS superuser_may;
RESET confiture.anon_salt;

-- One admin cannot read another's salt, nor use their profile.
SET ROLE sec_admin2;
SELECT confiture.profile_salt('sec_admin_profile');
SELECT confiture.add_rule('sec_admin_profile', 'sec_customers', 'email', 'redact');
SELECT count(*) FROM confiture.anonymized(NULL::sec_customers, 'sec_admin_profile');
SELECT salt FROM confiture.anon_profiles;
RESET ROLE;
SET ROLE sec_admin;
SELECT length(confiture.profile_salt('sec_admin_profile')) AS own_salt_length;
SELECT confiture.create_profile('sec_random_salt');
SELECT length(confiture.profile_salt('sec_random_salt')) AS random_salt_hex_length;
RESET ROLE;

-- Dry-run samples: stored only for tables the caller may read, and read
-- only by the role that ran the dry run.
CREATE TABLE sec_secret (id int PRIMARY KEY, ssn text);
INSERT INTO sec_secret VALUES (1, '123-45-6789');
GRANT SELECT ON sec_secret TO sec_admin;
SET ROLE sec_admin;
SELECT confiture.register('905', 'touch secret', 'UPDATE sec_secret SET ssn = ssn WHERE id = 1');
RESET ROLE;
GRANT UPDATE ON sec_secret TO sec_admin;
SET ROLE sec_admin;
SELECT DISTINCT version, outcome FROM confiture.dry_run(sample_rows => 5) ORDER BY 1, 2;
SELECT count(*) AS own_dry_runs FROM confiture.dry_runs WHERE report::text LIKE '%123-45-6789%';
RESET ROLE;
SET ROLE sec_admin2;
SELECT count(*) AS others_dry_runs FROM confiture.dry_runs;
RESET ROLE;
SELECT confiture.baseline('905');
-- a superuser's migration touches the table; an admin who may not read it
-- dry-runs it: it runs (as the superuser), but no row of it is kept
REVOKE SELECT, UPDATE ON sec_secret FROM sec_admin;
SELECT confiture.register('906', 'superuser touches secret', 'UPDATE sec_secret SET ssn = ssn WHERE id = 1');
SET ROLE sec_admin;
SELECT DISTINCT version, outcome FROM confiture.dry_run(sample_rows => 5) ORDER BY 1, 2;
SELECT count(*) AS unreadable_sampled FROM confiture.dry_runs d
 WHERE d.id = (SELECT max(id) FROM confiture.dry_runs) AND d.report::text LIKE '%123-45-6789%';
RESET ROLE;
SELECT confiture.baseline('906');

-- 8. SQL built from option text is quoted as the server quotes it: with
-- standard_conforming_strings off, a replacement cannot end the literal.
CREATE TABLE sec_notes (id int PRIMARY KEY, note text);
INSERT INTO sec_notes VALUES (1, 'call 555-1234');
SET standard_conforming_strings = off;
SELECT confiture.create_profile('sec_inject', 'inject-salt-0123456789');
SELECT confiture.add_rule('sec_inject', 'sec_notes', 'note', 'regex_redact',
       $j${"pattern": "[0-9-]+", "replacement": "x\\'); DROP TABLE sec_secret; --"}$j$);
SELECT confiture.masking_query('sec_notes', 'sec_inject');
SELECT table_name, rows FROM confiture.anonymize('sec_inject');
RESET standard_conforming_strings;
SELECT note FROM sec_notes;
SELECT to_regclass('sec_secret') IS NOT NULL AS sec_secret_still_there;

-- Clean up.
SET client_min_messages = warning;
DROP SCHEMA attack CASCADE;
DROP TABLE IF EXISTS sec_secret, sec_notes, sec_shadow, sec_logged, sec_multi, sec_pinned CASCADE;
SELECT pg_postmaster_start_time() = :'started' AS server_stayed_up;
\c confiture_regress
SET client_min_messages = warning;
DROP DATABASE confiture_security;
DROP OWNED BY sec_admin, sec_admin2, sec_attacker, sec_plain CASCADE;
DROP ROLE sec_admin, sec_admin2, sec_attacker, sec_plain;
