-- Anonymization: strategies, profiles, in-place masking, streaming, verifier.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)
SET confiture.anon_salt = 'regress-salt-0123456789';
SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD';  -- pg_regress runs in PST8PDT, Postgres style

-- Strategies: NULL stays NULL, same input + same salt = same output.
SELECT strategy, injective, reversible, changes_every_value FROM confiture.strategies();
SELECT confiture.mask_email('ada@example.org') = confiture.mask_email('ada@example.org') AS deterministic,
       confiture.mask_email('ada@example.org') <> confiture.mask_email('ada@example.org', 'another-salt-000') AS salted,
       confiture.mask_email(NULL) IS NULL AS null_stays_null,
       confiture.mask_email('ada@corp.io', keep_domain => true) LIKE '%@corp.io' AS keeps_domain;
SELECT confiture.mask_hash('x', 'k') AS hex, confiture.mask_hash('x', 'k', 'uuid')::uuid AS uuid,
       confiture.mask_hash_bigint('x', 'k') AS bigint;
SELECT confiture.mask_pattern('123-45-6789', '***-**-####') AS ssn,
       confiture.mask_partial('Ada Lovelace', 1, 2) AS partial,
       confiture.mask_redact('secret') AS redacted,
       confiture.mask_phone('+1 (555) 123-4567', keep_digits => 4) LIKE '+1 (555) %' AS phone_keeps_area,
       confiture.mask_credit_card('4111 1111 1111 1111') LIKE '% 1111' AS card_keeps_last_four,
       host(confiture.mask_ip('192.168.10.42')) LIKE '192.168.10.%' AS ip_keeps_network,
       confiture.mask_date_trunc('2024-05-17 10:00+00') AS truncated,
       abs(extract(day FROM confiture.mask_date_shift('2024-05-17'::date::timestamptz, days => 10) - '2024-05-17'::date::timestamptz)) <= 10 AS shifted,
       confiture.mask_number_range(42, min => 1, max => 5) BETWEEN 1 AND 5 AS in_range,
       confiture.mask_regex('call 555-1234 now', '\d{3}-\d{4}', '[PHONE]') AS redacted_text;

-- A multi-tenant schema.
CREATE TABLE tenants (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE customers (
    id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES tenants, name text, email text UNIQUE,
    phone text, ssn text, birth_date date, internal boolean NOT NULL DEFAULT false, notes text);
CREATE TABLE orders (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, customer_email text REFERENCES customers (email),
                     total numeric NOT NULL);
INSERT INTO tenants VALUES (1, 'Acme'), (2, 'Globex');
INSERT INTO customers
SELECT g, g % 2 + 1, 'Customer ' || g, 'customer' || g || '@mail.test', '+33 6 ' || lpad(g::text, 8, '0'),
       lpad(g::text, 9, '0'), date '1980-01-01' + g, g = 1, CASE WHEN g = 3 THEN NULL ELSE 'vip' END
  FROM generate_series(1, 20) g;
INSERT INTO orders SELECT g, g % 2 + 1, 'customer' || (g % 20 + 1) || '@mail.test', g FROM generate_series(1, 60) g;

-- Profiles and rules, validated when declared.
SELECT confiture.create_profile('qa', 'qa-salt-0123456789abcdef');
SELECT confiture.add_rule('qa', 'customers', 'name', 'name');
SELECT confiture.add_rule('qa', 'customers', 'email', 'email');
SELECT confiture.add_rule('qa', 'customers', 'phone', 'phone', '{"keep_digits": 3}', condition => 'NOT internal');
SELECT confiture.add_rule('qa', 'customers', 'ssn', 'pattern', '{"pattern": "*****####"}');
SELECT confiture.add_rule('qa', 'customers', 'birth_date', 'date_shift', '{"days": 15}');
SELECT confiture.add_rule('qa', 'orders', 'customer_email', 'email');
SELECT table_name::text, column_name, strategy, options, condition FROM confiture.anon_rules ORDER BY 1, 2;
-- bad declarations are refused, nothing is stored
SELECT confiture.add_rule('qa', 'customers', 'nope', 'email');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'no_such_table', 'x', 'email');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'customers', 'id', 'email');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'customers', 'email', 'redact');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'customers', 'name', 'emial');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'customers', 'notes', 'number_range', '{"min": 1}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'customers', 'notes', 'partial', '[1]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule(NULL, 'customers', 'notes', 'redact');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('nope', 'customers', 'notes', 'redact');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.create_profile('weak', 'short');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS rules FROM confiture.anon_rules;

-- The salt is only for the profile's owner and superusers.
CREATE ROLE anon_regress_user;
GRANT confiture_admin TO anon_regress_user;
SET ROLE anon_regress_user;
SELECT salt FROM confiture.anon_profiles;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.profile_salt('qa');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE anon_regress_user;

-- Streaming: the table's rows, masked, the table unchanged.
SELECT id, tenant_id, name, email, phone, ssn, internal FROM confiture.anonymized(NULL::customers, 'qa') ORDER BY id LIMIT 3;
SELECT count(*) AS unchanged FROM customers WHERE email LIKE 'customer%@mail.test';
CREATE TEMP TABLE copied AS SELECT * FROM confiture.anonymized(NULL::customers, 'qa');
SELECT count(*), count(DISTINCT email) FROM copied;

-- Masking views: one schema per profile, plain views the planner inlines.
SELECT table_name, view_name FROM confiture.create_masking_views('qa');
SELECT id, name, email FROM confiture_masked_qa.customers ORDER BY id LIMIT 2;
SELECT count(*) AS differ FROM (SELECT * FROM confiture_masked_qa.customers
                                EXCEPT SELECT * FROM confiture.anonymized(NULL::customers, 'qa')) d;
-- a primary-key filter reaches the table's index
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT email FROM confiture_masked_qa.customers WHERE id = 7;
RESET enable_seqscan;
-- the salt is in no view's text (pg_views is world-readable)
SELECT count(*) AS views_with_salt FROM pg_views WHERE definition LIKE '%qa-salt-0123456789abcdef%';
ANALYZE customers;

-- Masked access: a role reads the views, never the tables or the salt.
CREATE ROLE anon_analyst;
SELECT confiture.grant_masked_access('qa', 'anon_analyst');
SET ROLE anon_analyst;
SELECT count(*) AS rows, count(*) FILTER (WHERE email LIKE 'customer%') AS originals,
       count(*) FILTER (WHERE name LIKE 'Customer%') AS original_names
  FROM confiture_masked_qa.customers;
SELECT count(*) FILTER (WHERE email LIKE 'customer%') AS originals FROM confiture.anonymized(NULL::customers, 'qa');
SELECT count(*) FROM customers;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT salt FROM confiture.anon_profiles;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.profile_salt('qa');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM confiture.verify_profile('qa');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_email('customer1@mail.test');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM confiture.anonymize('qa');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.grant_masked_access('qa', 'anon_analyst');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS visible_stats FROM pg_stats WHERE tablename = 'customers';
-- an error shows the masked value, not the original
SELECT email::integer FROM confiture_masked_qa.customers WHERE id = 7;
-- EXPLAIN shows expressions: neither the salt nor an original value
DO $$
DECLARE l text; hits int := 0;
BEGIN
    FOR l IN EXPLAIN (VERBOSE, ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
             SELECT email, name FROM confiture_masked_qa.customers WHERE id = 7 LOOP
        IF l LIKE '%qa-salt%' OR l LIKE '%customer7@%' OR l LIKE '%Customer 7%' THEN hits := hits + 1; END IF;
    END LOOP;
    RAISE WARNING 'EXPLAIN lines showing the salt or an original: %', hits;
END $$;
RESET ROLE;
SELECT confiture.revoke_masked_access('qa', 'anon_analyst');
SET ROLE anon_analyst;
SELECT count(*) FROM confiture_masked_qa.customers;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE anon_analyst;

-- The verifier: every check, on the good profile.
SELECT "check", table_name, column_name, status FROM confiture.verify_profile('qa') ORDER BY 1, 2, 3;

-- ...and on a purpose-made bad one: an identity "mask", a leak, a broken
-- foreign key, a masked tenant_id, personal columns with no rule.
SELECT confiture.create_profile('bad', 'bad-salt-0123456789abcdef');
SELECT confiture.add_rule('bad', 'customers', 'email', 'hash');
SELECT confiture.add_rule('bad', 'customers', 'name', 'regex_redact', '{"pattern": "never matches"}');
SELECT confiture.add_rule('bad', 'customers', 'tenant_id', 'number_range', '{"min": 1, "max": 9}');
SELECT "check", table_name, column_name, status, detail FROM confiture.verify_profile('bad')
 WHERE status <> 'ok' ORDER BY 1, 2, 3, 5;


-- Salt-less masking depends on a setting: no mask_* function is IMMUTABLE,
-- and an index cannot be built on one (it would be wrong under the next salt).
SELECT count(*) AS immutable_masks FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'confiture' AND p.proname LIKE 'mask\_%' AND p.provolatile = 'i';
CREATE TABLE idx_probe (email text);
CREATE INDEX ON idx_probe (confiture.mask_email(email));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TABLE idx_probe;

-- Rules that would change nothing are refused when declared (22023).
CREATE TABLE devices (id bigint PRIMARY KEY, ip inet, card text, phone text, seen date);
SELECT confiture.add_rule('qa', 'devices', 'seen', 'date_shift', '{"days": 0}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'devices', 'ip', 'ip', '{"keep_bits": 32}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'devices', 'ip', 'ip', '{"keep_bits_v6": 128}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'devices', 'phone', 'phone', '{"keep_digits": 99}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'devices', 'id', 'number_range', '{"min": 3, "max": 3}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_date_shift('2024-05-17'::date, 'salt-0123456789', 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_ip('10.1.2.3', 'salt-0123456789', 32);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the strategies that may leave a value as it was say so, and which
SELECT strategy, may_keep FROM confiture.strategies() WHERE NOT changes_every_value ORDER BY 1;
-- the others change every value: one replaced digit per phone, a host bit, full-width digits
SELECT count(*) FILTER (WHERE confiture.mask_phone(p, 'salt-0123456789', 6) = p) AS phones_unchanged,
       count(*) FILTER (WHERE confiture.mask_ip(ip, 'salt-0123456789', 31) = ip) AS ips_unchanged,
       count(*) FILTER (WHERE confiture.mask_credit_card(w, 'salt-0123456789') = w) AS wide_cards_unchanged
  FROM (SELECT lpad(g::text, 6, '0') || '-7' AS p, ('10.0.' || g % 256 || '.' || g / 256 % 256)::inet AS ip,
               translate(lpad(g::text, 16, '4'), '0123456789', '０１２３４５６７８９') AS w
          FROM generate_series(1, 20000) g) s;
-- thousands of people get thousands of distinct names, none their own
SELECT count(DISTINCT confiture.mask_name('person ' || g, 'salt-0123456789')) > 15000 AS many_names
  FROM generate_series(1, 20000) g;
SELECT count(*) AS names_unchanged
  FROM (SELECT confiture.mask_name('person ' || g, 'salt-0123456789') AS n FROM generate_series(1, 2000) g) s
 WHERE confiture.mask_name(n, 'salt-0123456789') = n;

-- Edge cases: empty or NaN ranges, overflowing noise, NULL arguments named.
SELECT confiture.mask_number_range(5, NULL, 10, 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_number_range(5, 'salt-0123456789', 'NaN', 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_noise(1e308, NULL, 1e308);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_noise(1.7e308, 'salt-0123456789', 100) NOT IN ('Infinity', '-Infinity') AS finite;
SELECT confiture.mask_number_range(5, 'salt-0123456789', NULL, 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_number_range(5, 'salt-0123456789', 0, NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.mask_partial('abcdef', 1, NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a null rule on a NOT NULL column names NOT NULL
SELECT confiture.add_rule('qa', 'customers', 'id', 'null');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT confiture.add_rule('qa', 'tenants', 'name', 'null');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TABLE devices;

-- The verifier looks for originals in every column of the masked row, and
-- lists triggers; anonymize runs no user trigger, foreign key or not.
CREATE TABLE leads (id bigint PRIMARY KEY, email text, note text, search tsvector, tags text[], extra jsonb);
CREATE TABLE lead_audit (email text);
CREATE FUNCTION lead_audit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO lead_audit VALUES (OLD.email); RETURN NEW; END $$;
CREATE TRIGGER leads_audit AFTER UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION lead_audit();
CREATE TRIGGER customers_audit AFTER UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION lead_audit();
CREATE TRIGGER customers_audit_always AFTER UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION lead_audit();
ALTER TABLE customers ENABLE ALWAYS TRIGGER customers_audit_always;
INSERT INTO leads SELECT g, 'Lead' || g || '@real.org', 'mail lead' || g || '@real.org', to_tsvector('simple', 'Lead' || g || '@real.org'),
                         ARRAY['Lead' || g || '@real.org'], jsonb_build_object('contact', 'Lead' || g || '@real.org')
  FROM generate_series(1, 5) g;
SELECT confiture.create_profile('leads', 'leads-salt-0123456789abcdef');
SELECT confiture.add_rule('leads', 'leads', 'email', 'email');
SELECT "check", table_name, column_name, status, detail FROM confiture.verify_profile('leads')
 WHERE "check" IN ('no_original_in_masked_row', 'user_triggers') ORDER BY 1, 2, 3;
-- another extension's tables are not the user's personal data
CREATE TABLE ext_owned (email text);
INSERT INTO ext_owned VALUES ('someone@real.org');
ALTER EXTENSION confiture ADD TABLE ext_owned;
SELECT count(*) AS extension_tables_reported FROM confiture.verify_profile('leads') WHERE table_name = 'ext_owned';
ALTER EXTENSION confiture DROP TABLE ext_owned;
DROP TABLE ext_owned;
SELECT table_name, rows FROM confiture.anonymize('leads');
SELECT count(*) AS audited_originals FROM lead_audit;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE '%audit%' ORDER BY 1;

-- In place: foreign keys keep matching, tenant_id untouched, unique keys unique.
SELECT confiture.anonymize('bad');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT table_name, rows FROM confiture.anonymize('qa');
SELECT count(*) FILTER (WHERE email LIKE 'user\_%@example.com') AS masked_emails,
       count(*) FILTER (WHERE id = 1 AND phone LIKE '+33 6 00000001') AS internal_phone_kept,
       count(DISTINCT email) AS distinct_emails
  FROM customers;
SELECT count(*) AS joined_orders FROM orders o JOIN customers c ON c.email = o.customer_email;
SELECT tenant_id, count(*) FROM customers GROUP BY 1 ORDER BY 1;
SELECT count(*) AS ssn_masked FROM customers WHERE ssn LIKE '*****%';
SELECT count(*) AS null_notes_still_null FROM customers WHERE id = 3 AND notes IS NULL;
-- with a foreign key involved too, no trigger ran (ENABLE ALWAYS ones neither)
SELECT count(*) AS audited_originals FROM lead_audit;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE '%audit%' ORDER BY 1;

-- A confiture_admin member who owns the tables (not a superuser) creates
-- a profile and anonymizes, foreign keys and triggers included.
CREATE ROLE anon_regress_owner;
GRANT confiture_admin TO anon_regress_owner;
CREATE SCHEMA anon_own AUTHORIZATION anon_regress_owner;
SET ROLE anon_regress_owner;
CREATE TABLE anon_own.people (id bigint PRIMARY KEY, email text UNIQUE, boss text REFERENCES anon_own.people (email));
CREATE TABLE anon_own.audit (email text);
CREATE FUNCTION anon_own.audit() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO anon_own.audit VALUES (OLD.email); RETURN NEW; END $$;
CREATE TRIGGER people_audit AFTER UPDATE ON anon_own.people FOR EACH ROW EXECUTE FUNCTION anon_own.audit();
INSERT INTO anon_own.people SELECT g, 'p' || g || '@real.org', CASE WHEN g > 1 THEN 'p1@real.org' END FROM generate_series(1, 10) g;
SELECT confiture.create_profile('own', 'own-salt-0123456789abcdef');
SELECT confiture.add_rule('own', 'anon_own.people', 'email', 'email');
SELECT confiture.add_rule('own', 'anon_own.people', 'boss', 'email');
SELECT table_name, rows FROM confiture.anonymize('own');
SELECT count(*) FILTER (WHERE email LIKE 'user\_%') AS masked, count(*) FILTER (WHERE boss LIKE '%@real.org') AS original_bosses
  FROM anon_own.people;
SELECT count(*) AS audited_originals FROM anon_own.audit;
RESET ROLE;
DROP SCHEMA anon_own CASCADE;

SELECT confiture.drop_masking_views('qa');
DROP EXTENSION confiture;
DROP TABLE orders, customers, tenants, leads, lead_audit;
DROP FUNCTION lead_audit();
DROP OWNED BY anon_regress_owner;
DROP ROLE anon_regress_owner;
