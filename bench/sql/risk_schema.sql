-- customers(id, tenant_id, name, email, phone, ssn, created_at) with :rows rows,
-- and the ten migrations of different kinds used by bench/dry_run.sh and the
-- end-to-end dry-run test.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS confiture;
CREATE TABLE tenants (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO tenants SELECT g, 'tenant ' || g FROM generate_series(1, 1000) g;
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    tenant_id int NOT NULL,
    name text NOT NULL,
    email text,
    phone text,
    ssn text,
    created_at timestamptz NOT NULL
);
INSERT INTO customers
SELECT g, g % 1000 + 1, 'name ' || g, 'user' || g || '@example.com', '+1-555-' || lpad((g % 10000)::text, 4, '0'),
       lpad((g % 1000000000)::text, 9, '0'), timestamptz '2024-01-01' + g * interval '1 second'
  FROM generate_series(1, :rows) g;
VACUUM ANALYZE tenants, customers;

SELECT confiture.register('01', 'add nullable column', 'ALTER TABLE customers ADD COLUMN note text;');
SELECT confiture.register('02', 'add column with constant default',
    $$ALTER TABLE customers ADD COLUMN status text NOT NULL DEFAULT 'active';$$);
SELECT confiture.register('03', 'add column with volatile default',
    'ALTER TABLE customers ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();');
SELECT confiture.register('04', 'change a column type', 'ALTER TABLE customers ALTER COLUMN tenant_id TYPE bigint;');
SELECT confiture.register('05', 'create index', 'CREATE INDEX customers_email_idx ON customers (email);');
SELECT confiture.register('07', 'foreign key not valid, then validate',
    $$ALTER TABLE customers ADD CONSTRAINT customers_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) NOT VALID;
      ALTER TABLE customers VALIDATE CONSTRAINT customers_tenant_fk;$$);
SELECT confiture.register('08', 'set not null', 'ALTER TABLE customers ALTER COLUMN email SET NOT NULL;');
SELECT confiture.register('09', 'backfill update', $$UPDATE customers SET note = 'n' || id;$$);
SELECT confiture.register('10', 'drop column', 'ALTER TABLE customers DROP COLUMN note;');
