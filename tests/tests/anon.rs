//! Anonymization in place on a multi-tenant schema: every foreign key stays
//! valid, every tenant_id unchanged, every unique index valid.

use confiture_e2e::fresh_db;

#[test]
fn multi_tenant_schema_masked_in_place_keeps_its_integrity() {
    let mut c = fresh_db("e2e_anon");
    c.batch_execute(
        "CREATE TABLE tenants (id bigint PRIMARY KEY, name text NOT NULL);
         CREATE TABLE customers (id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES tenants,
                                 name text, email text NOT NULL, phone text, ssn text, created_at timestamptz);
         CREATE UNIQUE INDEX customers_tenant_email ON customers (tenant_id, email);
         CREATE UNIQUE INDEX customers_email ON customers (email);
         CREATE TABLE orders (id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES tenants,
                              customer_id bigint NOT NULL REFERENCES customers, customer_email text REFERENCES customers (email),
                              total numeric NOT NULL);
         INSERT INTO tenants SELECT g, 'tenant ' || g FROM generate_series(1, 50) g;
         INSERT INTO customers SELECT g, g % 50 + 1, 'Customer ' || g, 'c' || g || '@corp' || (g % 7) || '.test',
                                      '+1 555 ' || lpad(g::text, 7, '0'), lpad(g::text, 9, '0'), now()
                                 FROM generate_series(1, 50000) g;
         INSERT INTO orders SELECT g, (g % 50000 + 1) % 50 + 1, g % 50000 + 1, 'c' || (g % 50000 + 1) || '@corp' || ((g % 50000 + 1) % 7) || '.test', g
                              FROM generate_series(1, 150000) g;
         CREATE TEMP TABLE before AS SELECT id, tenant_id FROM customers;
         CREATE TEMP TABLE orders_before AS SELECT id, tenant_id, customer_id FROM orders;
         SELECT confiture.create_profile('staging', 'e2e-salt-0123456789abcdef');
         SELECT confiture.add_rule('staging', 'customers', 'name', 'name');
         SELECT confiture.add_rule('staging', 'customers', 'email', 'email');
         SELECT confiture.add_rule('staging', 'customers', 'phone', 'phone', '{\"keep_digits\": 4}');
         SELECT confiture.add_rule('staging', 'customers', 'ssn', 'hash');
         SELECT confiture.add_rule('staging', 'orders', 'customer_email', 'email');",
    )
    .unwrap();
    let masked: Vec<(String, i64)> = c
        .query(
            "SELECT table_name, rows FROM confiture.anonymize('staging') ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        masked,
        vec![
            ("public.customers".to_string(), 50_000),
            ("public.orders".to_string(), 150_000)
        ]
    );

    let one =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };
    // nothing personal is left
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM customers WHERE email LIKE 'c%@corp%' OR name LIKE 'Customer %'"
        ),
        0
    );
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM customers WHERE length(ssn) <> 64"
        ),
        0
    );
    // every foreign key still valid (checked by the server itself)
    c.batch_execute(
        "ALTER TABLE orders DROP CONSTRAINT orders_customer_email_fkey;
         ALTER TABLE orders ADD CONSTRAINT orders_customer_email_fkey FOREIGN KEY (customer_email) REFERENCES customers (email);
         ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_email_fkey;",
    )
    .unwrap();
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM orders o JOIN customers c ON c.email = o.customer_email"
        ),
        150_000
    );
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id"
        ),
        150_000
    );
    // tenant_id byte for byte unchanged, rows neither lost nor moved between tenants
    assert_eq!(one(&mut c, "SELECT count(*) FROM customers c JOIN before b USING (id) WHERE c.tenant_id IS DISTINCT FROM b.tenant_id"), 0);
    assert_eq!(one(&mut c, "SELECT count(*) FROM orders o JOIN orders_before b USING (id) WHERE (o.tenant_id, o.customer_id) IS DISTINCT FROM (b.tenant_id, b.customer_id)"), 0);
    // unique indexes still valid and values still distinct
    assert_eq!(one(&mut c, "SELECT count(*) FROM pg_index WHERE indrelid = 'customers'::regclass AND NOT indisvalid"), 0);
    c.batch_execute("REINDEX TABLE customers").unwrap();
    assert_eq!(
        one(&mut c, "SELECT count(DISTINCT email) FROM customers"),
        50_000
    );
    // and the verifier agrees
    assert_eq!(one(&mut c, "SELECT count(*) FROM confiture.verify_profile('staging') WHERE status = 'fail' AND \"check\" <> 'masked_values_differ' AND \"check\" <> 'no_original_in_masked_row'"), 0);
}
