-- More kinds of migration for bench/dry_run.sh, after bench/sql/risk_schema.sql's
-- ten (versions 11-14 run after them). The batches of 14 split a 2,100,000-row
-- table in three (on a smaller copy the first batch takes every row).
SET client_min_messages = warning;
SELECT confiture.register('11', 'change a column type with USING',
    'ALTER TABLE customers ALTER COLUMN ssn TYPE bigint USING ssn::bigint;');
SELECT confiture.register('12', 'create unique index',
    'CREATE UNIQUE INDEX customers_email_key ON customers (email);');
SELECT confiture.register('13', 'check not valid, then validate',
    $$ALTER TABLE customers ADD CONSTRAINT customers_created_check CHECK (created_at > '2000-01-01') NOT VALID;
      ALTER TABLE customers VALIDATE CONSTRAINT customers_created_check;$$);
SELECT confiture.register('14', 'backfill update in batches',
    $$UPDATE customers SET phone = replace(phone, '-', '') WHERE id <= 700000;
      UPDATE customers SET phone = replace(phone, '-', '') WHERE id > 700000 AND id <= 1400000;
      UPDATE customers SET phone = replace(phone, '-', '') WHERE id > 1400000;$$);
