//! DDL history on the lemmy chain: every logged statement carries its
//! migration, and schema_diff between the first and the last migration
//! lists every table of the final schema.

use confiture_e2e::{corpus_migrations, fresh_db, register_corpus};

#[test]
fn lemmy_chain_is_logged_and_diffed() {
    let mut c = fresh_db("e2e_history");
    register_corpus(&mut c, "lemmy");
    let applied: i64 = c
        .query_one("SELECT count(*) FROM confiture.migrate() WHERE state = 'applied'", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, 247);

    let (entries, without_version, without_text, unknown_version): (i64, i64, i64, i64) = {
        let r = c
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE migration_version IS NULL),
                        count(*) FILTER (WHERE statement IS NULL OR statement = ''),
                        count(*) FILTER (WHERE migration_version NOT IN (SELECT version FROM confiture.migrations))
                   FROM confiture.ddl_log",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2), r.get(3))
    };
    assert!(entries > 1000, "{entries} DDL log entries");
    assert_eq!((without_version, without_text, unknown_version), (0, 0, 0));
    // each statement of a multi-statement migration is logged alone
    let longest: i64 = c
        .query_one(
            "SELECT max(length(g.statement))::int8 FROM confiture.ddl_log g
               JOIN confiture.migrations m ON m.version = g.migration_version
              WHERE length(g.statement) = length(m.up_sql)",
            &[],
        )
        .unwrap()
        .get::<_, Option<i64>>(0)
        .unwrap_or(0);
    assert_eq!(longest, 0, "no log entry holds a whole migration's text");

    let versions: Vec<String> = corpus_migrations("lemmy").into_iter().map(|m| m.version).collect();
    let (first, last) = (&versions[0], &versions[246]);
    let missing: Vec<String> = c
        .query(
            "SELECT identity FROM confiture.schema_objects() WHERE kind = 'table'
             EXCEPT
             SELECT identity FROM confiture.schema_diff($1, $2) WHERE kind = 'table' AND change <> 'dropped'",
            &[first, last],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(missing.is_empty(), "tables missing from schema_diff: {missing:?}");
    let tables: i64 = c
        .query_one("SELECT count(*) FROM confiture.schema_diff($1, $2) WHERE kind = 'table'", &[first, last])
        .unwrap()
        .get(0);
    assert!(tables > 50, "{tables} tables in the diff");
    // no drift right after the run
    let drift: i64 = c.query_one("SELECT count(*) FROM confiture.drift()", &[]).unwrap().get(0);
    assert_eq!(drift, 0);
}
