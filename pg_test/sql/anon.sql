-- Anonymization: strategies, profiles, in-place masking, streaming, verifier.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)
SET confiture.anon_salt = 'regress-salt-0123456789';
SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD';  -- pg_regress runs in PST8PDT, Postgres style

-- Strategies: NULL stays NULL, same input + same salt = same output.
SELECT strategy, injective, reversible FROM confiture.strategies();
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

DROP EXTENSION confiture;
DROP TABLE orders, customers, tenants;
