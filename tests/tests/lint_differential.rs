//! The offline linter and the server must agree: for the same SQL,
//! `confiture lint --format json` (pg_query, PostgreSQL 18's parser, the
//! converter in cli/src/lint/convert.rs) and `confiture.lint(sql)` (the
//! server's parser and src/ddl/convert.rs) report the same findings —
//! rule, severity, object, line and column.
//!
//! Inputs: every lemmy corpus file, and every SQL text that
//! pg_test/sql/lint.sql lints (its table of cases, flagged and variant, and
//! the literal arguments of its confiture.lint(...) calls), read from that
//! file so the two suites stay in step.
//!
//! Not compared, on purpose:
//! - SQL the server rejects as a syntax error: PostgreSQL 15's parser does
//!   not know newer syntax that pg_query (18) accepts (12 lemmy files);
//! - the command's own rules, which the server has no counterpart for
//!   ([`COMMAND_ONLY_RULES`]);
//! - the differences listed in [`ALLOWED`], each with its reason;
//! - scripts with `CREATE TABLE ... IF NOT EXISTS`: by design the server
//!   asks its catalog whether the table exists (here, in an empty database,
//!   it does not: the table is new), while the offline linter cannot know
//!   and takes it as existing (it may hold data).
//!
//! The binary is `CONFITURE_BIN`, else the newer of target/release/confiture
//! and target/debug/confiture (`cargo build -p confiture-cli` first).

use confiture_e2e::{confiture_bin, corpus_migrations, fresh_db};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Findings only the command makes (about psql scripts, transactions and
/// its own parser's limits); the run below also passes `--transactional false`.
const COMMAND_ONLY_RULES: &[&str] = &["psql-variable", "non-transactional", "parse-limit"];

/// Known, accepted differences: (case name prefix, rule, why). Empty: none
/// is known. A difference found here must be either fixed in one of the
/// two converters or listed with its reason.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// (rule, severity, object, line, column)
type Key = (String, String, String, i64, i64);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where the SQL statement starting at `from` ends (after its `;`),
/// respecting quotes and dollar quotes.
fn statement_end(text: &str, from: usize) -> usize {
    let b = text.as_bytes();
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                i += 1;
                while i < b.len() && !(b[i] == b'\'' && b.get(i + 1) != Some(&b'\'')) {
                    i += if b[i] == b'\'' { 2 } else { 1 };
                }
            }
            b'$' if text[i..].starts_with("$$") => {
                i = text[i + 2..].find("$$").map_or(b.len(), |j| i + 2 + j + 1);
            }
            b';' => return i + 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The argument of the call whose `(` is at `open`, up to the matching `)`.
fn call_argument(text: &str, open: usize) -> &str {
    let b = text.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[open + 1..i];
                }
            }
            b'\'' => {
                i += 1;
                while i < b.len() && !(b[i] == b'\'' && b.get(i + 1) != Some(&b'\'')) {
                    i += if b[i] == b'\'' { 2 } else { 1 };
                }
            }
            b'$' if text[i..].starts_with("$$") => {
                i = text[i + 2..].find("$$").map_or(b.len(), |j| i + 2 + j + 1);
            }
            _ => {}
        }
        i += 1;
    }
    &text[open + 1..]
}

/// Every SQL text pg_test/sql/lint.sql passes to confiture.lint, as the
/// server evaluates it.
fn lint_suite_inputs(client: &mut postgres::Client) -> Vec<(String, String)> {
    let path = workspace().join("pg_test/sql/lint.sql");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    // the table of cases: run its CREATE and INSERT here, read the strings back
    let create = text
        .find("CREATE TABLE cases")
        .expect("lint.sql has its table of cases");
    let create_end = statement_end(&text, create);
    let insert = create_end
        + text[create_end..]
            .find("INSERT INTO cases")
            .expect("and fills it");
    let insert_end = statement_end(&text, insert);
    client.batch_execute("DROP TABLE IF EXISTS cases").unwrap();
    client.batch_execute(&text[create..create_end]).unwrap();
    client.batch_execute(&text[insert..insert_end]).unwrap();
    for (n, row) in client
        .query("SELECT rule, flagged, variant FROM cases", &[])
        .unwrap()
        .iter()
        .enumerate()
    {
        let rule: String = row.get(0);
        out.push((format!("lint.sql case {n} {rule} flagged"), row.get(1)));
        out.push((format!("lint.sql case {n} {rule} variant"), row.get(2)));
    }
    client.batch_execute("DROP TABLE cases").unwrap();
    // literal arguments of the other calls
    let mut from = 0;
    while let Some(at) = text[from..].find("confiture.lint(") {
        let open = from + at + "confiture.lint".len();
        from = open + 1;
        let arg = call_argument(&text, open).trim();
        if arg.starts_with("$$") || arg.starts_with('\'') || arg.starts_with("E'") {
            let sql: String = client
                .query_one(&format!("SELECT ({arg})::text"), &[])
                .unwrap()
                .get(0);
            out.push((format!("lint.sql call at byte {open}"), sql));
        }
    }
    out
}

/// Does the script create a table with IF NOT EXISTS (whose newness only
/// the server's catalog can decide)?
fn creates_if_not_exists(sql: &str) -> bool {
    let s = sql.to_ascii_lowercase();
    s.match_indices("if not exists")
        .any(|(at, _)| s[..at].trim_end().ends_with("table"))
}

fn sorted(mut v: Vec<Key>) -> Vec<Key> {
    v.sort();
    v
}

#[test]
fn offline_lint_reports_what_the_server_reports() {
    let bin = confiture_bin();
    let mut client = fresh_db("e2e_lint_differential");
    let mut cases: Vec<(String, String)> = Vec::new();
    for m in corpus_migrations("lemmy") {
        cases.push((format!("lemmy {}/up.sql", m.version), m.up.clone()));
        if let Some(down) = m.down {
            cases.push((format!("lemmy {}/down.sql", m.version), down));
        }
    }
    let lemmy_cases = cases.len();
    cases.extend(lint_suite_inputs(&mut client));
    assert!(
        cases.len() > lemmy_cases + 50,
        "lint.sql inputs found: {}",
        cases.len() - lemmy_cases
    );

    // the command, once over all cases, with the default configuration
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("confiture.toml"), "[lint]\n").unwrap();
    for (i, (_, sql)) in cases.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i:05}.sql")), sql).unwrap();
    }
    let out = Command::new(&bin)
        .args([
            "lint",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--transactional",
            "false",
            "--config",
            "confiture.toml",
            ".",
        ])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(doc["files"].as_u64(), Some(cases.len() as u64));
    let mut offline: BTreeMap<usize, Vec<Key>> = BTreeMap::new();
    for f in doc["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap().to_owned();
        if COMMAND_ONLY_RULES.contains(&rule.as_str()) {
            continue;
        }
        let file = f["file"].as_str().unwrap();
        let index: usize = file
            .trim_end_matches(".sql")
            .parse()
            .unwrap_or_else(|_| panic!("file {file}"));
        offline.entry(index).or_default().push((
            rule,
            f["severity"].as_str().unwrap().to_owned(),
            f["object"].as_str().unwrap().to_owned(),
            f["line"].as_i64().unwrap(),
            f["column"].as_i64().unwrap(),
        ));
    }

    let mut compared = 0;
    let mut server_syntax_errors = Vec::new();
    let mut differences = Vec::new();
    for (i, (name, sql)) in cases.iter().enumerate() {
        let rows = client
            .query(
                "SELECT rule, severity, object, line, \"column\" FROM confiture.lint($1)",
                &[sql],
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let server: Vec<Key> = rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get::<_, i32>(3) as i64,
                    r.get::<_, i32>(4) as i64,
                )
            })
            .filter(|k: &Key| !COMMAND_ONLY_RULES.contains(&k.0.as_str()))
            .collect();
        if server.iter().any(|k| k.0 == "syntax-error") {
            server_syntax_errors.push(name.clone());
            continue;
        }
        compared += 1;
        let (server, offline) = (
            sorted(server),
            sorted(offline.remove(&i).unwrap_or_default()),
        );
        if server == offline {
            continue;
        }
        let only_server: Vec<&Key> = server.iter().filter(|k| !offline.contains(k)).collect();
        let only_offline: Vec<&Key> = offline.iter().filter(|k| !server.contains(k)).collect();
        let allowed = |k: &&Key| {
            ALLOWED
                .iter()
                .any(|(case, rule, _)| name.starts_with(case) && k.0 == *rule)
        };
        if only_server.iter().chain(&only_offline).all(allowed) {
            continue;
        }
        if creates_if_not_exists(sql) {
            continue;
        }
        differences.push(format!(
            "{name}:\n  server only:  {only_server:?}\n  offline only: {only_offline:?}"
        ));
    }
    assert!(
        differences.is_empty(),
        "{} of {compared} inputs differ (allow-list in this file):\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(
        compared >= lemmy_cases - 12,
        "compared {compared}; server syntax errors: {server_syntax_errors:?}"
    );
    // the newer-syntax lemmy files and lint.sql's deliberate syntax error
    assert!(server_syntax_errors.len() <= 14, "{server_syntax_errors:?}");
    assert!(
        server_syntax_errors
            .iter()
            .any(|n| n.contains("smoosh-tables-together/up.sql")),
        "{server_syntax_errors:?}"
    );
}
