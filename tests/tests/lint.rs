//! Linting against a real cluster: the lemmy chain under the guard in warn
//! and enforce mode, and hostile input through confiture.lint.

use confiture_e2e::{connect, corpus_migrations, fresh_db, register_corpus};
use std::sync::{Arc, Mutex};

#[test]
fn lemmy_chain_in_warn_mode_applies_and_reports_findings() {
    let mut c = fresh_db("e2e_lint_warn");
    register_corpus(&mut c, "lemmy");
    // a second connection that collects the guard's WARNINGs
    let warnings = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = warnings.clone();
    let host = std::env::var("CONFITURE_PGHOST").unwrap();
    let port = std::env::var("CONFITURE_PGPORT").unwrap_or_else(|_| "5432".into());
    let mut config = postgres::Config::new();
    config
        .host(&host)
        .port(port.parse().unwrap())
        .user("postgres")
        .dbname("e2e_lint_warn");
    config.notice_callback(move |n| {
        sink.lock()
            .unwrap()
            .push(format!("{}: {}", n.message(), n.detail().unwrap_or("")))
    });
    let mut w = config.connect(postgres::NoTls).unwrap();
    w.batch_execute("SET confiture.lint_mode = warn").unwrap();
    let applied: i64 = w
        .query_one(
            "SELECT count(*) FROM confiture.migrate() WHERE state = 'applied'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        applied, 247,
        "warn mode changes nothing about what is applied"
    );
    let warnings = warnings.lock().unwrap();
    let findings: Vec<&String> = warnings
        .iter()
        .filter(|m| m.starts_with("confiture lint:"))
        .collect();
    assert!(
        findings.len() > 50,
        "the guard reported {} findings",
        findings.len()
    );
    assert!(
        findings.iter().any(|m| m.contains("(migration 2019-")),
        "findings name their migration"
    );
    assert!(findings
        .iter()
        .any(|m| m.contains("index-not-concurrent") || m.contains("drop-column")));
}

#[test]
fn lemmy_chain_in_enforce_mode_stops_at_the_first_error_and_leaves_nothing() {
    let mut c = fresh_db("e2e_lint_enforce");
    register_corpus(&mut c, "lemmy");
    c.batch_execute("SET confiture.lint_mode = enforce")
        .unwrap();
    let rows = c
        .query(
            "SELECT version, state, message FROM confiture.migrate()",
            &[],
        )
        .unwrap();
    let failed = rows.last().unwrap();
    assert_eq!(failed.get::<_, String>(1), "failed");
    let version: String = failed.get(0);
    let message: String = failed.get(2);
    assert!(
        message.contains("confiture.lint_mode = enforce rejected"),
        "{message}"
    );
    let (state, sqlstate): (String, String) = {
        let r = c
            .query_one(
                "SELECT state, last_sqlstate FROM confiture.status() WHERE version = $1",
                &[&version],
            )
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((state.as_str(), sqlstate.as_str()), ("failed", "42P17"));
    // nothing of the rejected migration is left: its statements before the
    // rejected one were rolled back with it
    let applied: i64 = c
        .query_one(
            "SELECT count(*) FROM confiture.status() WHERE state = 'applied'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(applied as usize, rows.len() - 1);
    c.batch_execute("SET confiture.lint_mode = off").unwrap();
    let after: Vec<String> = c
        .query(
            "SELECT version FROM confiture.migrate(target => $1)",
            &[&version],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        after,
        vec![version],
        "with the guard off the same migration applies"
    );
}

#[test]
fn hostile_input_through_lint_never_crashes() {
    let mut c = fresh_db("e2e_lint_fuzz");
    let mut seed: u64 = 0x2545f4914f6cdd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut calls = 0;
    for m in corpus_migrations("lemmy") {
        for text in [Some(m.up.clone()), m.down.clone()].into_iter().flatten() {
            let chars: Vec<char> = text.chars().collect();
            for _ in 0..3 {
                let cut = (next() as usize) % (chars.len() + 1);
                let piece: String = chars[..cut].iter().collect();
                let rows = c.query("SELECT rule FROM confiture.lint($1)", &[&piece]);
                assert!(
                    rows.is_ok(),
                    "lint failed on a truncated {}: {:?}",
                    m.version,
                    rows.err()
                );
                calls += 1;
            }
        }
        let noise: String = (0..300)
            .map(|_| char::from_u32((next() % 0xD7FF) as u32 + 1).unwrap_or('?'))
            .collect();
        let _ = c.query("SELECT rule FROM confiture.lint($1)", &[&noise]);
        calls += 1;
    }
    let deep = format!("SELECT {}1{}", "(".repeat(50_000), ")".repeat(50_000));
    let _ = c.query("SELECT rule FROM confiture.lint($1)", &[&deep]);
    let long = format!("CREATE TABLE \"{}\" (a int)", "é".repeat(100_000));
    let rows = c
        .query("SELECT rule FROM confiture.lint($1)", &[&long])
        .unwrap();
    assert!(rows
        .iter()
        .any(|r| r.get::<_, String>(0) == "identifier-too-long"));
    assert!(calls > 2000);
    // the backend is still alive
    let one: i32 = connect("e2e_lint_fuzz")
        .query_one("SELECT 1", &[])
        .unwrap()
        .get(0);
    assert_eq!(one, 1);
    let alive: i32 = c.query_one("SELECT 1", &[]).unwrap().get(0);
    assert_eq!(alive, 1);
}

#[test]
fn every_corpus_file_lints_and_exactly_twelve_use_newer_syntax() {
    let mut c = fresh_db("e2e_lint_corpus");
    let mut files = 0;
    let mut syntax_errors = Vec::new();
    for m in corpus_migrations("lemmy") {
        for (which, text) in [("up", Some(m.up.clone())), ("down", m.down.clone())] {
            let Some(text) = text else { continue };
            files += 1;
            let rows = c
                .query("SELECT rule, line, \"column\", message FROM confiture.lint($1) WHERE rule = 'syntax-error'", &[&text])
                .unwrap_or_else(|e| panic!("lint failed on {}/{which}: {e}", m.version));
            for r in rows {
                let (line, column): (i32, i32) = (r.get(1), r.get(2));
                assert!(line > 0 && column > 0, "{}/{which}: no position", m.version);
                syntax_errors.push(format!("{}/{which}", m.version));
            }
        }
    }
    assert!(files >= 600, "{files} files");
    assert_eq!(syntax_errors.len(), 12, "{syntax_errors:?}");
    assert!(syntax_errors.contains(&"2025-08-01-000016_smoosh-tables-together/up".to_string()));
}
