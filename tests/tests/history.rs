//! DDL history on the lemmy chain: every logged statement carries its
//! migration, and schema_diff between the first and the last migration
//! lists every table of the final schema.

use confiture_e2e::{connect, corpus_migrations, fresh_db, register_corpus};

#[test]
fn lemmy_chain_is_logged_and_diffed() {
    let mut c = fresh_db("e2e_history");
    register_corpus(&mut c, "lemmy");
    let applied: i64 = c
        .query_one(
            "SELECT count(*) FROM confiture.migrate() WHERE state = 'applied'",
            &[],
        )
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

    let versions: Vec<String> = corpus_migrations("lemmy")
        .into_iter()
        .map(|m| m.version)
        .collect();
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
    assert!(
        missing.is_empty(),
        "tables missing from schema_diff: {missing:?}"
    );
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM confiture.schema_diff($1, $2) WHERE kind = 'table'",
            &[first, last],
        )
        .unwrap()
        .get(0);
    assert!(tables > 50, "{tables} tables in the diff");
    // no drift right after the run
    let drift: i64 = c
        .query_one("SELECT count(*) FROM confiture.drift()", &[])
        .unwrap()
        .get(0);
    assert_eq!(drift, 0);
}

fn fixture() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/pggit_fixture.sql"
    ))
    .unwrap()
}

/// (branch, message) of pgGit's commits, oldest first.
fn commits(c: &mut postgres::Client) -> Vec<(String, String)> {
    c.query("SELECT b.name, c.message FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id ORDER BY c.id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn waiting(c: &mut postgres::Client) -> Vec<(String, String, String)> {
    c.query(
        "SELECT event, version, branch FROM confiture.pggit_outbox WHERE delivered_at IS NULL AND skipped_at IS NULL ORDER BY id",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

fn states(c: &mut postgres::Client, call: &str) -> Vec<String> {
    c.query(&format!("SELECT state FROM confiture.{call}"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Against the pgGit fixture: apply, roll back and apply again with a
/// backslash in the SQL, then pgGit fails while a RESET branch session
/// queues events, and another session delivers them, in order, on the
/// branch they were queued for; an event pgGit never takes is skipped.
#[test]
fn pggit_gets_every_event_in_order_on_its_branch() {
    let mut a = fresh_db("e2e_pggit");
    a.batch_execute("SET client_min_messages = error").unwrap();
    a.batch_execute(&fixture()).unwrap();
    // pgGit's first new branch collides once with 'main' (the regress suite
    // shows it); start past it
    a.batch_execute("SELECT setval('pggit.branches_id_seq', 1)")
        .unwrap();
    a.execute(
        "SELECT confiture.register('1', 'paths', $1, 'DROP TABLE paths')",
        &[&r"CREATE TABLE paths (p text DEFAULT 'C:\temp\new'); COMMENT ON TABLE paths IS E'tab\there'"],
    )
    .unwrap();
    assert_eq!(states(&mut a, "migrate()"), ["applied"]);
    assert_eq!(states(&mut a, "rollback()"), ["pending"]);
    assert_eq!(states(&mut a, "migrate()"), ["applied"]);
    let m = |v: &str| format!("(event {v})");
    let got = commits(&mut a);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|(b, _)| b == "main"));
    assert!(
        got[0].1.starts_with("confiture: apply 1 paths") && got[0].1.ends_with(&m("1")),
        "{got:?}"
    );
    assert!(
        got[1].1.starts_with("confiture: roll back 1 paths"),
        "{got:?}"
    );
    let (rows, hash_ok): (i64, bool) = {
        let r = a
            .query_one(
                "SELECT count(*), bool_and(p.up_script = m.up_sql AND p.applied_at IS NOT NULL)
                   FROM pggit.migrations p JOIN confiture.migrations m USING (version)",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((rows, hash_ok), (1, true));
    let tree_ok: bool = a
        .query_one(
            "SELECT c.tree_hash = encode(sha256(convert_to(m.up_sql, 'UTF8')), 'hex')
               FROM pggit.commits c, confiture.migrations m ORDER BY c.id DESC LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(tree_ok, "pgGit hashed the SQL as written");

    // pgGit breaks; this session's branch was RESET ('' counts as unset)
    a.batch_execute("SET pggit.branch = 'feature/x'; RESET pggit.branch; SELECT pggit.switch_branch('feature/y')").unwrap();
    a.batch_execute("SET pggit.fixture_fail = on").unwrap();
    assert_eq!(states(&mut a, "rollback()"), ["pending"]);
    assert_eq!(states(&mut a, "migrate()"), ["applied"]);
    a.batch_execute("SELECT confiture.register('2', 'more', 'CREATE TABLE more (id int)')")
        .unwrap();
    assert_eq!(states(&mut a, "migrate()"), ["applied"]);
    assert_eq!(
        waiting(&mut a),
        [
            ("rollback".into(), "1".into(), "feature/y".into()),
            ("apply".into(), "1".into(), "feature/y".into()),
            ("apply".into(), "2".into(), "feature/y".into())
        ]
    );
    // another session, with no branch set and a working pgGit, delivers them
    let mut b = connect("e2e_pggit");
    b.batch_execute("SET client_min_messages = error").unwrap();
    let delivered: i64 = b
        .query_one("SELECT confiture.pggit_sync()", &[])
        .unwrap()
        .get(0);
    assert_eq!(delivered, 3);
    assert!(waiting(&mut b).is_empty());
    let got = commits(&mut b);
    let tail: Vec<&(String, String)> = got.iter().rev().take(3).collect();
    assert!(
        tail.iter().all(|(branch, _)| branch == "feature/y"),
        "{got:?}"
    );
    assert!(tail[2].1.starts_with("confiture: roll back 1"), "{got:?}");
    assert!(tail[1].1.starts_with("confiture: apply 1"), "{got:?}");
    assert!(tail[0].1.starts_with("confiture: apply 2"), "{got:?}");
    let errors: i64 = b
        .query_one(
            "SELECT count(*) FROM confiture.pggit_outbox WHERE last_error IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(errors, 0, "last_error is cleared on delivery");

    // an event pgGit never takes (a branch name it refuses) blocks the next
    // ones until it is skipped
    b.batch_execute("SET pggit.branch = 'not a branch'")
        .unwrap();
    b.batch_execute("SELECT confiture.register('3', 'stuck', 'CREATE TABLE stuck (id int)')")
        .unwrap();
    assert_eq!(states(&mut b, "migrate()"), ["applied"]);
    b.batch_execute(
        "RESET pggit.branch; SELECT confiture.register('4', 'next', 'CREATE TABLE next (id int)')",
    )
    .unwrap();
    assert_eq!(states(&mut b, "migrate()"), ["applied"]);
    assert_eq!(waiting(&mut b).len(), 2);
    let left: i64 = b
        .query_one(
            "SELECT confiture.pggit_skip(id, 'pgGit refuses the branch name') FROM confiture.pggit_outbox
              WHERE version = '3' AND event = 'apply'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 1);
    let delivered: i64 = b
        .query_one("SELECT confiture.pggit_sync()", &[])
        .unwrap()
        .get(0);
    assert_eq!(delivered, 1);
    let versions: Vec<String> = b
        .query("SELECT version FROM pggit.migrations ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, ["1", "2", "4"]);
}

/// One query string from a client: each statement is logged with its own
/// text, a command inside a DO block with the DO statement; a long string
/// (1,000 statements) too, each with its own.
#[test]
fn a_query_string_logs_each_statement_with_its_own_text() {
    let mut c = fresh_db("e2e_history_text");
    c.batch_execute("CREATE TABLE la (id int); DO $$ BEGIN CREATE TABLE lb (id int); END $$; CREATE TABLE lc (id int)")
        .unwrap();
    let rows: Vec<(String, String)> = c
        .query(
            "SELECT object_identity, statement FROM confiture.history()
              WHERE object_identity IN ('public.la', 'public.lb', 'public.lc') ORDER BY object_identity",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [
            ("public.la".into(), "CREATE TABLE la (id int)".into()),
            (
                "public.lb".into(),
                "DO $$ BEGIN CREATE TABLE lb (id int); END $$".into()
            ),
            ("public.lc".into(), "CREATE TABLE lc (id int)".into()),
        ]
    );
    let many: String = (0..1000)
        .map(|i| format!("CREATE TABLE m{i} (id int);\n"))
        .collect();
    c.batch_execute(&many).unwrap();
    let wrong: i64 = c
        .query_one(
            "SELECT count(*) FROM confiture.ddl_log
              WHERE object_identity LIKE 'public.m%'
                AND statement IS DISTINCT FROM 'CREATE TABLE ' || split_part(object_identity, '.', 2) || ' (id int)'",
            &[],
        )
        .unwrap()
        .get(0);
    let logged: i64 = c
        .query_one(
            "SELECT count(*) FROM confiture.ddl_log WHERE object_identity LIKE 'public.m%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!((logged, wrong), (1000, 0));
}
