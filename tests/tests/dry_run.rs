//! Dry runs on 2,100,000 rows: ten migrations of different kinds report the
//! locks, rewrites and row counts the server really produced, and leave the
//! database exactly as it was.

use confiture_e2e::fresh_db;
use postgres::Client;

const ROWS: i64 = 2_100_000;

fn fingerprint(c: &mut Client) -> String {
    c.query_one(
        "SELECT md5(concat_ws('|',
            (SELECT string_agg(a.attrelid::regclass::text || a.attname || a.atttypid::text || a.attnotnull::text, ','
                               ORDER BY a.attrelid, a.attnum)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
              WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0),
            (SELECT string_agg(c.relname::text || c.relfilenode::text, ',' ORDER BY c.relname)
               FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace),
            (SELECT string_agg(conname::text || pg_get_constraintdef(oid), ',' ORDER BY conname)
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
            (SELECT sum(hashtext(c::text)::int8)::text FROM customers c),
            (SELECT string_agg(version || state, ',' ORDER BY version) FROM confiture.migrations)))",
        &[],
    )
    .unwrap()
    .get(0)
}

struct Step {
    version: String,
    statement: String,
    locks: Vec<String>,
    rewritten: Vec<String>,
    created: Vec<String>,
    updated: i64,
    constraints: Option<String>,
}

#[test]
fn ten_kinds_of_migration_on_two_million_rows() {
    let mut c = fresh_db("e2e_dry_run");
    let schema = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bench/sql/risk_schema.sql"
    ))
    .unwrap()
    .replace(":rows", &ROWS.to_string())
    // one simple-query string runs as one transaction: no VACUUM in it
    .replace("VACUUM ANALYZE", "ANALYZE");
    c.batch_execute(&schema).unwrap();

    // 6. CREATE INDEX CONCURRENTLY is for the client: a dry run cannot run
    // it in its transaction, and says so (the client applies it; see cli_migrate.rs)
    c.execute("SELECT confiture.register('06', 'concurrent index', 'CREATE INDEX CONCURRENTLY ON customers (phone)')", &[])
        .unwrap();
    let outcome: String = c
        .query_one(
            "SELECT outcome FROM confiture.dry_run() WHERE version = '06' AND kind = 'migration'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(outcome, "not run");
    c.batch_execute("DELETE FROM confiture.migrations WHERE version = '06'")
        .unwrap();

    // Dry-run each migration alone (earlier ones applied for real), so its
    // report starts from a transaction holding no locks, and check what it saw.
    let mut steps: Vec<Step> = Vec::new();
    for v in ["01", "02", "03", "04", "05", "07", "08", "09", "10"] {
        let check_unchanged = matches!(v, "01" | "03" | "09");
        let before = check_unchanged.then(|| fingerprint(&mut c));
        let rows = c
            .query(
                "SELECT version, coalesce(statement, ''), coalesce(locks, '{}'), coalesce(rewritten, '{}'),
                        coalesce(created, '{}'), rows_updated, constraints::text
                   FROM confiture.dry_run(target => $1) WHERE kind = 'statement' ORDER BY step",
                &[&v],
            )
            .unwrap();
        assert!(
            rows.iter().all(|r| r.get::<_, String>(0) == v),
            "only {v} is pending"
        );
        steps.extend(rows.iter().map(|r| Step {
            version: r.get(0),
            statement: r.get(1),
            locks: r.get(2),
            rewritten: r.get(3),
            created: r.get(4),
            updated: r.get::<_, Option<i64>>(5).unwrap_or(0),
            constraints: r.get(6),
        }));
        if let Some(before) = before {
            // nothing of the dry run remains: schema, rows, ledger
            assert_eq!(
                fingerprint(&mut c),
                before,
                "dry run of {v} left something behind"
            );
        }
        let applied: String = c
            .query_one("SELECT state FROM confiture.migrate(target => $1)", &[&v])
            .unwrap()
            .get(0);
        assert_eq!(applied, "applied");
    }
    let step = |v: &str, n: usize| {
        steps
            .iter()
            .filter(|s| s.version == v)
            .nth(n)
            .unwrap_or_else(|| panic!("{v}#{n}"))
    };
    let has_lock = |s: &Step, l: &str| s.locks.iter().any(|x| x == l);

    // 1, 2, 10: catalog-only changes under ACCESS EXCLUSIVE, no rewrite
    for v in ["01", "02", "10"] {
        let s = step(v, 0);
        assert!(
            has_lock(s, "public.customers: AccessExclusiveLock"),
            "{v}: {:?}",
            s.locks
        );
        assert!(s.rewritten.is_empty(), "{v} rewrote {:?}", s.rewritten);
    }
    // 3, 4: volatile default and type change rewrite the table and its indexes
    for v in ["03", "04"] {
        let s = step(v, 0);
        assert!(
            s.rewritten.contains(&"public.customers".to_string()),
            "{v}: {:?}",
            s.rewritten
        );
        assert!(
            s.rewritten.contains(&"public.customers_pkey".to_string()),
            "{v}: {:?}",
            s.rewritten
        );
        assert!(has_lock(s, "public.customers: AccessExclusiveLock"));
    }
    // 5: a plain index build blocks writes (SHARE), not reads
    let s = step("05", 0);
    assert_eq!(s.created, vec!["public.customers_email_idx".to_string()]);
    assert!(has_lock(s, "public.customers: ShareLock"), "{:?}", s.locks);
    assert!(!has_lock(s, "public.customers: AccessExclusiveLock"));
    // 7: NOT VALID takes SHARE ROW EXCLUSIVE on both tables, VALIDATE only SHARE UPDATE EXCLUSIVE
    let add = step("07", 0);
    assert!(
        has_lock(add, "public.customers: ShareRowExclusiveLock")
            && has_lock(add, "public.tenants: ShareRowExclusiveLock"),
        "{:?}",
        add.locks
    );
    assert!(
        add.constraints
            .as_deref()
            .unwrap_or("")
            .contains("validated_later"),
        "{:?}",
        add.constraints
    );
    let validate = step("07", 1);
    assert!(validate
        .statement
        .starts_with("ALTER TABLE customers VALIDATE"));
    assert!(
        has_lock(validate, "public.customers: ShareUpdateExclusiveLock"),
        "{:?}",
        validate.locks
    );
    assert!(!has_lock(validate, "public.customers: AccessExclusiveLock"));
    // 8: SET NOT NULL scans under ACCESS EXCLUSIVE without rewriting
    let s = step("08", 0);
    assert!(has_lock(s, "public.customers: AccessExclusiveLock") && s.rewritten.is_empty());
    // 9: the backfill updates every row
    assert_eq!(step("09", 0).updated, ROWS);

    c.execute(
        "SELECT confiture.register('11', 'more', 'ALTER TABLE customers ADD COLUMN extra int DEFAULT 0; CREATE INDEX ON customers (phone)')",
        &[],
    )
    .unwrap();
    let before = fingerprint(&mut c);
    // estimates exist for every statement, scaled up for a 10x larger production
    let est = c
        .query(
            "SELECT count(*) FILTER (WHERE estimated_duration IS NOT NULL), count(*)
               FROM confiture.dry_run(scale => 10) WHERE kind = 'statement'",
            &[],
        )
        .unwrap();
    assert_eq!(est[0].get::<_, i64>(0), est[0].get::<_, i64>(1));
    assert_eq!(fingerprint(&mut c), before);
}
