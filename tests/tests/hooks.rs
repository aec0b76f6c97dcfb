//! Hooks on a real cluster: a read model backfilled over 1,000,000 rows.

use confiture_e2e::fresh_db;

#[test]
fn backfill_a_read_model_of_a_million_rows_and_verify_it() {
    let mut c = fresh_db("e2e_hooks");
    c.batch_execute(
        "CREATE TABLE w_orders (id bigint PRIMARY KEY, tenant_id int NOT NULL, total numeric NOT NULL);
         INSERT INTO w_orders SELECT g, g % 50, g * 1.5 FROM generate_series(1, 1000000) g;
         SELECT confiture.add_hook('before_ddl', 'capture_row_counts', name => 'counts',
                                   options => '{\"tables\": [\"w_orders\"]}');
         SELECT confiture.add_hook('after_ddl', 'backfill', name => 'fill_r_orders', migration => 'r\\_%',
             options => '{\"sql\": \"INSERT INTO r_orders SELECT tenant_id, id, total FROM w_orders WHERE id BETWEEN $1 AND $2\",
                          \"table\": \"w_orders\", \"key\": \"id\", \"batch_size\": 100000}');
         SELECT confiture.add_hook('after_validation', 'verify_row_counts', name => 'complete',
             options => '{\"equal\": [[\"r_orders\", \"w_orders\"]]}');
         SELECT confiture.add_hook('after_validation', 'verify_row_counts', name => 'source_untouched',
             options => '{\"tables\": [\"w_orders\"], \"ratio\": 1}');
         SELECT confiture.register('1', 'r_orders read model',
             'CREATE TABLE r_orders (tenant_id int NOT NULL, order_id bigint PRIMARY KEY, total numeric NOT NULL)');",
    )
    .unwrap();
    let rows = c
        .query(
            "SELECT version, state, message FROM confiture.migrate()",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].get::<_, String>(1),
        "applied",
        "{:?}",
        rows[0].get::<_, Option<String>>(2)
    );

    let n: i64 = c
        .query_one("SELECT count(*) FROM r_orders", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1_000_000);
    let runs = c
        .query(
            "SELECT hook, outcome, rows, result::text FROM confiture.hook_runs ORDER BY id",
            &[],
        )
        .unwrap();
    let summary: Vec<(String, String, Option<i64>)> = runs
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("counts".into(), "ok".into(), None),
            ("fill_r_orders".into(), "ok".into(), Some(1_000_000)),
            ("complete".into(), "ok".into(), None),
            ("source_untouched".into(), "ok".into(), None),
        ]
    );
    let fill: String = runs[1].get(3);
    assert!(fill.contains("\"batches\": 10"), "{fill}");

    // and the verifier would have caught a backfill that lost rows
    c.batch_execute(
        "SELECT confiture.add_hook('after_ddl', 'DELETE FROM r_orders WHERE order_id % 1000 = 0', name => 'lossy',
                                   migration => '2');
         SELECT confiture.register('2', 'index by tenant', 'CREATE INDEX r_orders_tenant ON r_orders (tenant_id)');",
    )
    .unwrap();
    let rows = c
        .query("SELECT state, message FROM confiture.migrate()", &[])
        .unwrap();
    assert_eq!(rows[0].get::<_, String>(0), "failed");
    assert!(rows[0].get::<_, String>(1).contains("complete"));
    let n: i64 = c
        .query_one("SELECT count(*) FROM r_orders", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        n, 1_000_000,
        "the failed migration and its hooks left nothing behind"
    );
}
