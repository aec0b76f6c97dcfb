//! Hardening against a real cluster: long lint calls are cancellable, the
//! migration lock cannot be taken by a plain role and waits a bounded time,
//! and generated hostile SQL through lint, assess and the guard never
//! crashes the server.

use confiture_e2e::{connect, fresh_db};
use std::time::{Duration, Instant};

fn started(c: &mut postgres::Client) -> String {
    c.query_one("SELECT pg_postmaster_start_time()::text", &[])
        .unwrap()
        .get(0)
}

fn sqlstate(e: &postgres::Error) -> String {
    e.code().map(|c| c.code().to_owned()).unwrap_or_default()
}

#[test]
fn long_lint_is_cancelled_by_statement_timeout() {
    let mut c = fresh_db("e2e_sec_cancel");
    c.batch_execute("SET statement_timeout = '1s'").unwrap();
    // (500k: the cancel lands in the conversion loop; the server's own parser
    // is not interruptible, about 2 s per million statements)
    for n in [100_000, 500_000] {
        let t = Instant::now();
        let r = c.query_one(
            "SELECT count(*) FROM confiture.lint(repeat('ALTER TABLE t ADD COLUMN c int;', $1))",
            &[&(n as i32)],
        );
        let took = t.elapsed();
        match r {
            Ok(_) => assert!(
                took < Duration::from_secs(1),
                "{n} statements finished after the timeout: {took:?}"
            ),
            Err(e) => {
                assert_eq!(sqlstate(&e), "57014", "{e}");
                assert!(
                    took < Duration::from_secs(2),
                    "{n} statements: cancelled only after {took:?}"
                );
            }
        }
        if n == 500_000 {
            assert!(
                took >= Duration::from_millis(900),
                "500k statements should need the cancel ({took:?})"
            );
        }
    }
}

#[test]
fn a_plain_role_holding_the_old_advisory_key_blocks_nothing() {
    let mut c = fresh_db("e2e_sec_lock");
    c.batch_execute(
        "DROP ROLE IF EXISTS e2e_plain; CREATE ROLE e2e_plain LOGIN;
         SELECT confiture.register('1', 'one', 'CREATE TABLE one (id int)')",
    )
    .unwrap();
    let mut plain = connect("e2e_sec_lock");
    plain
        .batch_execute("SET ROLE e2e_plain; SELECT pg_advisory_lock(x'636f6e6669747572'::bigint)")
        .unwrap();
    // nor can it take the ledger's lock
    let denied = plain.batch_execute("BEGIN; LOCK TABLE confiture.migrations IN EXCLUSIVE MODE");
    assert_eq!(sqlstate(&denied.unwrap_err()), "42501");
    plain.batch_execute("ROLLBACK").unwrap();
    let t = Instant::now();
    let applied: i64 = c
        .query_one(
            "SELECT count(*) FROM confiture.migrate() WHERE state = 'applied'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn migrate_waits_a_bounded_time_when_lock_timeout_is_zero() {
    let mut c = fresh_db("e2e_sec_wait");
    c.batch_execute("SELECT confiture.register('1', 'one', 'CREATE TABLE one (id int)')")
        .unwrap();
    let mut holder = connect("e2e_sec_wait");
    holder
        .batch_execute("BEGIN; SELECT * FROM confiture.migrate()")
        .unwrap();
    c.batch_execute("SET lock_timeout = 0; SET confiture.lock_wait_timeout = '700ms'")
        .unwrap();
    let t = Instant::now();
    let e = c
        .query("SELECT * FROM confiture.migrate()", &[])
        .unwrap_err();
    let took = t.elapsed();
    assert_eq!(sqlstate(&e), "55P03", "{e}");
    let db = e.as_db_error().unwrap();
    assert!(
        db.detail()
            .unwrap_or("")
            .contains("confiture.lock_wait_timeout = 700ms"),
        "{:?}",
        db.detail()
    );
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "{took:?}"
    );
    holder.batch_execute("COMMIT").unwrap();
    let left: i64 = c
        .query_one("SELECT count(*) FROM confiture.migrate()", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the holder applied it");
}

/// A small deterministic generator (no dependency): xorshift.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Deep, wide, huge and malformed SQL.
fn hostile(r: &mut Rng) -> String {
    let depth = [10, 1_000, 50_000, 200_000][r.below(4) as usize];
    match r.below(12) {
        0 => format!("CREATE TABLE f (c int DEFAULT {}1)", "1+".repeat(depth)),
        1 => format!(
            "ALTER TABLE f ALTER COLUMN c SET DEFAULT {}1{}",
            "(".repeat(depth.min(5000)),
            ")".repeat(depth.min(5000))
        ),
        2 => format!("SET lock_timeout = '1s'{}", "::text".repeat(depth)),
        3 => format!(
            "CREATE TABLE f ({})",
            (0..depth.min(1600))
                .map(|i| format!("c{i} int"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        4 => "ALTER TABLE f ADD COLUMN x int;".repeat(depth.min(20_000)),
        5 => format!(
            "CREATE TABLE f (c int DEFAULT random(){})",
            "+random()".repeat(depth.min(50_000))
        ),
        6 => {
            // random bytes from a SQL alphabet
            let alphabet = b"()';,.$ \n\t-*/\"\\abcCREATETABLEALTERINDEX0123456789=+<>[]{}";
            (0..r.below(4000))
                .map(|_| alphabet[r.below(alphabet.len() as u64) as usize] as char)
                .collect()
        }
        7 => format!(
            "CREATE INDEX i ON f ((c{}))",
            " + c".repeat(depth.min(50_000))
        ),
        8 => format!("SELECT 'unterminated{}", "x".repeat(depth)),
        9 => format!(
            "CREATE TABLE f (c int CHECK ({}true{}))",
            "NOT (".repeat(depth.min(20_000)),
            ")".repeat(depth.min(20_000))
        ),
        10 => format!("CREATE TABLE f (c int DEFAULT {}1)", "-".repeat(depth)),
        _ => format!(
            "CREATE TABLE f (c text DEFAULT {}'x')",
            "lower(".repeat(depth.min(20_000)) + &")".repeat(depth.min(20_000))
        ),
    }
}

#[test]
fn fuzz_lint_assess_and_guard_never_crash_the_server() {
    let seconds: u64 = std::env::var("CONFITURE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut c = fresh_db("e2e_sec_fuzz");
    let before = started(&mut c);
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut runs, mut errors) = (0u64, 0u64);
    c.batch_execute("SET statement_timeout = '10s'").unwrap();
    while Instant::now() < deadline {
        let sql = hostile(&mut r);
        let outcome = match r.below(3) {
            0 => c.query("SELECT count(*) FROM confiture.lint($1)", &[&sql]).map(|_| ()),
            1 => c.query("SELECT count(*) FROM confiture.assess($1)", &[&sql]).map(|_| ()),
            // the guard converts the statement the server parsed
            _ => c.batch_execute(&format!("BEGIN; SET LOCAL confiture.lint_mode = warn; SET LOCAL client_min_messages = error; {sql}; ROLLBACK")),
        };
        if let Err(e) = outcome {
            errors += 1;
            assert!(
                !e.is_closed(),
                "the connection died on: {}",
                &sql[..sql.len().min(200)]
            );
            let code = sqlstate(&e);
            assert!(
                code != "XX000",
                "internal error {e} on: {}",
                &sql[..sql.len().min(200)]
            );
            let _ = c.batch_execute("ROLLBACK");
        }
        runs += 1;
    }
    assert_eq!(
        started(&mut c),
        before,
        "the server restarted during the fuzz run"
    );
    eprintln!("fuzz: {runs} inputs in {seconds} s, {errors} rejected with an ERROR, no crash");
    assert!(runs > 50);
}
