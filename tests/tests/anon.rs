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

/// The masking view of a 1,000,000-row table is inlined: `LIMIT 1` stops
/// at the first row and a primary-key filter reaches the index.
#[test]
fn masking_views_stream_and_use_indexes_on_a_million_rows() {
    let mut c = fresh_db("e2e_anon_views");
    c.batch_execute(
        "CREATE TABLE customers (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, name text, email text UNIQUE, phone text);
         INSERT INTO customers SELECT g, g % 50, 'Customer ' || g, 'c' || g || '@corp.test', '+1 555 ' || lpad(g::text, 7, '0')
           FROM generate_series(1, 1000000) g;
         ANALYZE customers;
         SELECT confiture.create_profile('p', 'e2e-views-salt-0123456789');
         SELECT confiture.add_rule('p', 'customers', 'name', 'name');
         SELECT confiture.add_rule('p', 'customers', 'email', 'email');
         SELECT confiture.add_rule('p', 'customers', 'phone', 'phone');
         SELECT * FROM confiture.create_masking_views('p');",
    )
    .unwrap();
    let best = |c: &mut postgres::Client, sql: &str| -> f64 {
        (0..5)
            .map(|_| {
                let t = std::time::Instant::now();
                let rows = c.query(sql, &[]).unwrap();
                assert_eq!(rows.len(), 1, "{sql}");
                t.elapsed().as_secs_f64() * 1000.0
            })
            .fold(f64::INFINITY, f64::min)
    };
    let limit = best(
        &mut c,
        "SELECT id, email FROM confiture_masked_p.customers LIMIT 1",
    );
    let by_key = best(
        &mut c,
        "SELECT id, email, name FROM confiture_masked_p.customers WHERE id = 424242",
    );
    eprintln!("masked view, 1,000,000 rows: LIMIT 1 {limit:.2} ms, primary key {by_key:.2} ms");
    assert!(limit < 50.0, "LIMIT 1 took {limit} ms");
    assert!(by_key < 50.0, "a primary-key filter took {by_key} ms");
    let plan: Vec<String> = c
        .query(
            "EXPLAIN SELECT email FROM confiture_masked_p.customers WHERE id = 424242",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(plan.iter().any(|l| l.contains("Index Scan")), "{plan:?}");
    let row = c
        .query_one(
            "SELECT email, name FROM confiture_masked_p.customers WHERE id = 424242",
            &[],
        )
        .unwrap();
    let (email, name): (String, String) = (row.get(0), row.get(1));
    assert!(
        email.starts_with("user_") && email.ends_with("@example.com"),
        "{email}"
    );
    assert_ne!(name, "Customer 424242");
}

/// `anonymize` takes all its locks at once, waiting with none held: a
/// `migrate` that locks the same tables in the other order does not
/// deadlock with it, and a held lock makes it give up after lock_timeout.
#[test]
fn anonymize_and_a_concurrent_migrate_do_not_deadlock() {
    let mut c = fresh_db("e2e_anon_locks");
    c.batch_execute(
        "CREATE TABLE a (id bigint PRIMARY KEY, email text);
         CREATE TABLE b (id bigint PRIMARY KEY, email text);
         INSERT INTO a SELECT g, 'a' || g || '@real.org' FROM generate_series(1, 20000) g;
         INSERT INTO b SELECT g, 'b' || g || '@real.org' FROM generate_series(1, 20000) g;
         SELECT confiture.create_profile('p', 'e2e-locks-salt-0123456789');
         SELECT confiture.add_rule('p', 'a', 'email', 'email');
         SELECT confiture.add_rule('p', 'b', 'email', 'email');
         SELECT confiture.register('1', 'b then a',
            'ALTER TABLE b ADD COLUMN x int; SELECT pg_sleep(1); ALTER TABLE a ADD COLUMN y int;');",
    )
    .unwrap();
    let migrate = std::thread::spawn(|| {
        let mut m = confiture_e2e::connect("e2e_anon_locks");
        m.batch_execute("SET client_min_messages = warning; SET lock_timeout = '20s'")
            .unwrap();
        m.query("SELECT * FROM confiture.migrate(atomic => true)", &[])
            .map(|_| ())
            .map_err(|e| e.as_db_error().map(|d| d.code().code().to_owned()))
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut a = confiture_e2e::connect("e2e_anon_locks");
    a.batch_execute("SET client_min_messages = warning; SET lock_timeout = '20s'")
        .unwrap();
    let anonymized = a
        .query("SELECT * FROM confiture.anonymize('p')", &[])
        .map(|r| r.len())
        .map_err(|e| e.as_db_error().map(|d| d.code().code().to_owned()));
    let migrated = migrate.join().unwrap();
    assert_eq!(anonymized, Ok(2), "anonymize");
    assert_eq!(migrated, Ok(()), "migrate");
    let one =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM a WHERE email LIKE '%@real.org'"
        ),
        0
    );
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM information_schema.columns WHERE column_name IN ('x', 'y')"
        ),
        2
    );

    // a lock held elsewhere: anonymize gives up after lock_timeout, holding nothing meanwhile
    let mut holder = confiture_e2e::connect("e2e_anon_locks");
    holder
        .batch_execute("BEGIN; LOCK TABLE b IN ACCESS SHARE MODE")
        .unwrap();
    a.batch_execute("SET lock_timeout = '300ms'").unwrap();
    let started = std::time::Instant::now();
    let err = a
        .query("SELECT * FROM confiture.anonymize('p')", &[])
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "55P03", "{}", db.message());
    assert!(db.message().contains("could not lock"), "{}", db.message());
    assert!(started.elapsed().as_millis() < 5000);
    holder.batch_execute("COMMIT").unwrap();
}

/// No user trigger fires while masking, with or without a foreign key, and
/// for a non-superuser confiture_admin who owns the tables too.
#[test]
fn no_user_trigger_sees_an_original_while_masking() {
    let mut c = fresh_db("e2e_anon_triggers");
    c.batch_execute(
        "CREATE TABLE audit (email text);
         CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (OLD.email); RETURN NEW; END $$;
         CREATE TABLE plain (id bigint PRIMARY KEY, email text);
         CREATE TABLE parent (id bigint PRIMARY KEY, email text UNIQUE);
         CREATE TABLE child (id bigint PRIMARY KEY, parent_email text REFERENCES parent (email));
         CREATE TRIGGER plain_audit AFTER UPDATE ON plain FOR EACH ROW EXECUTE FUNCTION audit();
         CREATE TRIGGER parent_audit AFTER UPDATE ON parent FOR EACH ROW EXECUTE FUNCTION audit();
         CREATE TRIGGER parent_always BEFORE UPDATE ON parent FOR EACH ROW EXECUTE FUNCTION audit();
         ALTER TABLE parent ENABLE ALWAYS TRIGGER parent_always;
         INSERT INTO plain SELECT g, 'p' || g || '@real.org' FROM generate_series(1, 1000) g;
         INSERT INTO parent SELECT g, 'q' || g || '@real.org' FROM generate_series(1, 1000) g;
         INSERT INTO child SELECT g, 'q' || g || '@real.org' FROM generate_series(1, 1000) g;
         SELECT confiture.create_profile('nofk', 'e2e-trig-salt-0123456789');
         SELECT confiture.add_rule('nofk', 'plain', 'email', 'email');
         SELECT confiture.create_profile('fk', 'e2e-trig-salt-9876543210');
         SELECT confiture.add_rule('fk', 'parent', 'email', 'email');
         SELECT confiture.add_rule('fk', 'child', 'parent_email', 'email');
         SELECT * FROM confiture.anonymize('nofk');
         SELECT * FROM confiture.anonymize('fk');",
    )
    .unwrap();
    let one =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(one(&mut c, "SELECT count(*) FROM audit"), 0);
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM plain WHERE email LIKE '%@real.org'"
        ),
        0
    );
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM child c JOIN parent p ON p.email = c.parent_email"
        ),
        1000
    );
    // the triggers are back as they were
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM pg_trigger WHERE tgname IN ('plain_audit', 'parent_audit') AND tgenabled = 'O'"),
        2
    );
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'parent_always' AND tgenabled = 'A'"
        ),
        1
    );
    c.batch_execute("UPDATE plain SET email = email WHERE id = 1")
        .unwrap();
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM audit"),
        1,
        "the trigger fires again afterwards"
    );
}
