-- Dry runs: run migrations and hooks for real, report, roll everything back.
CREATE EXTENSION confiture;
SET client_min_messages = warning;
SET IntervalStyle = postgres;  -- pg_regress would print '@ 5 mins'
SET confiture.drift_mode = off;  -- this suite makes objects by hand on purpose (drift: history.sql)
CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 2000) g;
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint, total numeric NOT NULL);
INSERT INTO orders (customer_id, total) SELECT g % 2000 + 1, g FROM generate_series(1, 5000) g;
ANALYZE customers, orders;

-- A fingerprint of the schema, the data and the sequences, to compare after.
CREATE FUNCTION fingerprint() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(c.relname::text || c.relkind::text || c.relfilenode::text, ',' ORDER BY c.relname)
           FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace),
        (SELECT string_agg(a.attrelid::regclass::text || a.attname::text || a.atttypid::text || a.attnotnull::text, ',' ORDER BY a.attrelid, a.attnum)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0),
        (SELECT string_agg(conname::text || pg_get_constraintdef(oid), ',' ORDER BY conname)
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
        (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c),
        (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o),
        (SELECT string_agg(sequencename::text || coalesce(last_value, 0)::text, ',' ORDER BY sequencename)
           FROM pg_sequences WHERE schemaname = 'public'),
        (SELECT string_agg(version || state, ',' ORDER BY version) FROM confiture.migrations)))
$$;

SELECT confiture.register('1', 'column, index, foreign key', $$
ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX orders_customer_idx ON orders (customer_id);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
INSERT INTO customers (name) VALUES ('one more');
$$);
SELECT confiture.register('2', 'rewrite', $$
ALTER TABLE orders ALTER COLUMN total TYPE float8;
UPDATE orders SET note = 'big' WHERE total > 4990;
$$);
SELECT confiture.add_hook('after_ddl', 'verify_no_violations', name => 'no_orphans',
    options => '{"query": "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT FROM customers c WHERE c.id = o.customer_id)"}');
SELECT fingerprint() AS before \gset

-- One row per migration, hook and statement: time, rows, locks, rewrites,
-- created and altered objects, constraints, and estimates.
SELECT version, step, kind, statement, outcome, rows_inserted AS ins, rows_updated AS upd,
       locks, blocks, rewritten, created, altered
  FROM confiture.dry_run();
SELECT version, step, constraints
  FROM confiture.dry_run() WHERE constraints IS NOT NULL;

-- Nothing remains: schema, data, sequences and ledger are as they were.
SELECT fingerprint() = :'before' AS unchanged;
SELECT version, state FROM confiture.status();
SELECT count(*) AS hook_runs_recorded FROM confiture.hook_runs;
SELECT count(*) AS dry_runs_recorded FROM confiture.dry_runs;

-- Estimates: the measured work scaled to production sizes, with a
-- confidence (timing-dependent, not shown) and how the work grows.
SELECT step, left(statement, 45) AS statement, substring(confidence FROM '\((.*)\)') AS growth,
       estimated_duration >= duration AS scaled_up, estimated_blocking >= estimated_duration AS blocks_until_commit
  FROM confiture.dry_run(target => '1', production_rows => '{"orders": 500000, "customers": 200000}')
 WHERE kind = 'statement';

-- sample_rows shows rows before and after for each table a statement changed.
SELECT version, step, left(statement, 40) AS statement, samples
  FROM confiture.dry_run(sample_rows => 2) WHERE samples IS NOT NULL;

-- migrate(dry_run => true) reports like migrate and keeps nothing.
SELECT version, state, statements, message FROM confiture.migrate(dry_run => true);
SELECT fingerprint() = :'before' AS unchanged;

-- A failing migration is reported as it would fail.
SELECT confiture.register('3', 'breaks', 'ALTER TABLE orders ADD CONSTRAINT positive CHECK (total < 100);');
SELECT fingerprint() AS before \gset
SELECT version, kind, outcome, message FROM confiture.dry_run() WHERE kind = 'migration';
SELECT fingerprint() = :'before' AS unchanged;

-- The machine-readable form.
SELECT jsonb_path_query_array(confiture.dry_run_report(target => '2'), '$.migrations[*].statements[*].rewritten') AS rewritten;

-- Bad input
SELECT * FROM confiture.dry_run(sample_rows => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.dry_run(scale => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.dry_run(production_rows => '[1]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.dry_run(production_rows => '{"orders": "many"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.dry_run(target => 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM confiture.dry_run(sample_rows => NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

DROP EXTENSION confiture;
DROP FUNCTION fingerprint();
DROP TABLE orders, customers;
