//! The migration ledger against a real cluster: the lemmy chain, concurrent
//! sessions, lock timeouts and hostile input.

use confiture_e2e::{connect, corpus_migrations, fresh_db, register_corpus};
use std::sync::{Arc, Barrier};
use std::thread;

const SMOOSH: &str = "2025-08-01-000016_smoosh-tables-together";

fn count(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn lemmy_chain_applies_exactly_the_first_247() {
    let mut c = fresh_db("e2e_lemmy");
    assert_eq!(register_corpus(&mut c, "lemmy"), 342);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM confiture.status() WHERE state = 'pending'"
        ),
        342
    );

    let rows = c
        .query(
            "SELECT version, state, message FROM confiture.migrate()",
            &[],
        )
        .unwrap();
    let applied: Vec<String> = rows
        .iter()
        .filter(|r| r.get::<_, String>(1) == "applied")
        .map(|r| r.get(0))
        .collect();
    assert_eq!(applied.len(), 247);
    let expected: Vec<String> = corpus_migrations("lemmy")
        .into_iter()
        .take(247)
        .map(|m| m.version)
        .collect();
    assert_eq!(
        applied, expected,
        "applied in version order, exactly the first 247"
    );
    let last = rows.last().unwrap();
    assert_eq!(last.get::<_, String>(0), SMOOSH);
    assert_eq!(last.get::<_, String>(1), "failed");
    assert!(last
        .get::<_, String>(2)
        .contains("subquery in FROM must have an alias"));

    // status() agrees, with the server's error recorded
    let s = c
        .query_one(
            "SELECT count(*) FILTER (WHERE state = 'applied'), count(*) FILTER (WHERE state = 'failed'),
                    count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE drifted)
               FROM confiture.status()",
            &[],
        )
        .unwrap();
    assert_eq!(
        (
            s.get::<_, i64>(0),
            s.get::<_, i64>(1),
            s.get::<_, i64>(2),
            s.get::<_, i64>(3)
        ),
        (247, 1, 94, 0)
    );
    let (state, sqlstate): (String, String) = {
        let r = c
            .query_one(
                "SELECT state, last_sqlstate FROM confiture.status() WHERE version = $1",
                &[&SMOOSH],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((state.as_str(), sqlstate.as_str()), ("failed", "42601"));

    // none of its changes are left: it would create table post_actions
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_class WHERE relname = 'post_actions'"
        ),
        0
    );
    let relations = count(
        &mut c,
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
    );

    // a second run applies nothing new
    let again = c
        .query("SELECT version, state FROM confiture.migrate()", &[])
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].get::<_, String>(1), "failed");
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM confiture.status() WHERE state = 'applied'"
        ),
        247
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        ),
        relations
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM confiture.migration_log WHERE action = 'apply'"
        ),
        247,
        "every migration applied exactly once"
    );
}

/// Migrations that take a while and leave one row each in `applied_by_run`.
fn register_slow_chain(c: &mut postgres::Client, n: usize) {
    c.batch_execute("CREATE TABLE applied_by_run (version text, pid int)")
        .unwrap();
    for i in 1..=n {
        let up = format!(
            "SELECT pg_sleep(0.02); INSERT INTO applied_by_run VALUES ('{i}', pg_backend_pid()); CREATE TABLE t{i} (id int);"
        );
        c.execute(
            "SELECT confiture.register($1, 'slow', $2)",
            &[&i.to_string(), &up],
        )
        .unwrap();
    }
}

#[test]
fn concurrent_sessions_never_apply_a_migration_twice() {
    let mut c = fresh_db("e2e_concurrent");
    register_slow_chain(&mut c, 20);
    let sessions = 4;
    let barrier = Arc::new(Barrier::new(sessions));
    let handles: Vec<_> = (0..sessions)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let mut s = connect("e2e_concurrent");
                s.batch_execute("SET client_min_messages = warning; SET lock_timeout = '30s'")
                    .unwrap();
                barrier.wait();
                s.query(
                    "SELECT version FROM confiture.migrate() WHERE state = 'applied'",
                    &[],
                )
                .unwrap()
                .len()
            })
        })
        .collect();
    let applied: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        applied.iter().sum::<usize>(),
        20,
        "each migration applied by exactly one session: {applied:?}"
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM applied_by_run"), 20);
    assert_eq!(
        count(&mut c, "SELECT count(DISTINCT version) FROM applied_by_run"),
        20
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM confiture.status() WHERE state = 'applied'"
        ),
        20
    );
}

#[test]
fn a_waiting_session_gives_up_after_lock_timeout() {
    let mut c = fresh_db("e2e_locktimeout");
    c.execute(
        "SELECT confiture.register('1', 'one', 'CREATE TABLE one (id int)')",
        &[],
    )
    .unwrap();
    let mut holder = connect("e2e_locktimeout");
    holder
        .batch_execute("BEGIN; SELECT * FROM confiture.migrate();")
        .unwrap();

    let mut waiter = connect("e2e_locktimeout");
    waiter.batch_execute("SET lock_timeout = '200ms'").unwrap();
    let started = std::time::Instant::now();
    let err = waiter
        .query("SELECT * FROM confiture.migrate()", &[])
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "55P03");
    assert!(db.message().contains("gave up waiting"), "{}", db.message());
    assert!(started.elapsed().as_millis() < 5000);

    // once the holder commits, the waiter finds nothing left to do
    holder.batch_execute("COMMIT").unwrap();
    assert_eq!(
        waiter
            .query("SELECT * FROM confiture.migrate()", &[])
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn hostile_sql_never_crashes_the_backend() {
    let mut c = fresh_db("e2e_hostile");
    c.batch_execute("SET client_min_messages = error").unwrap();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut n = 0;
    for m in corpus_migrations("lemmy").iter().step_by(3) {
        let chars: Vec<char> = m.up.chars().collect();
        let cut = (next() as usize) % (chars.len() + 1);
        let truncated: String = chars[..cut].iter().collect();
        n += 1;
        // an error or a registration, never a lost connection
        let _ = c.execute(
            "SELECT confiture.register($1, 'cut', $2)",
            &[&format!("{n}"), &truncated],
        );
        let garbage: String = (0..200)
            .map(|_| char::from_u32((next() % 0x2FF) as u32 + 1).unwrap_or('x'))
            .collect();
        let _ = c.execute(
            "SELECT confiture.register($1, 'garbage', $2)",
            &[&format!("g{n}"), &garbage],
        );
        assert_eq!(
            count(&mut c, "SELECT 1::int8"),
            1,
            "backend alive after {}",
            m.version
        );
    }
    let huge = format!("CREATE TABLE \"{}\" (id int)", "x".repeat(1_000_000));
    assert!(c
        .execute(
            "SELECT confiture.register('huge', 'huge identifier', $1)",
            &[&huge]
        )
        .is_ok());
    let deep = format!("SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let _ = c.execute(
        "SELECT confiture.register('deep', 'deep nesting', $1)",
        &[&deep],
    );
    assert_eq!(count(&mut c, "SELECT 1::int8"), 1);
    // and migrate over all that junk records failures instead of crashing
    let _ = c.query("SELECT * FROM confiture.migrate()", &[]);
    assert_eq!(count(&mut c, "SELECT 1::int8"), 1);
}
