//! `confiture migrate`: the built binary against the test cluster. The
//! lemmy folder, the three layouts, malformed folders, a `CREATE INDEX
//! CONCURRENTLY` on two million rows under a concurrent writer, the client
//! killed in the middle of it, eight databases at once, the JSON report
//! against its schema, and the progress bar in a terminal (tmux).

use confiture_e2e::{confiture_bin, connect, corpus_dir, fresh_db};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn env() -> Vec<(&'static str, String)> {
    vec![
        ("PGHOST", std::env::var("CONFITURE_PGHOST").unwrap()),
        (
            "PGPORT",
            std::env::var("CONFITURE_PGPORT").unwrap_or_else(|_| "5432".into()),
        ),
        ("PGUSER", "postgres".into()),
    ]
}

fn confiture(db: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(confiture_bin());
    cmd.args(args)
        .envs(env())
        .env("PGDATABASE", db)
        .env("NO_COLOR", "1");
    cmd.output().expect("run confiture")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn count(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, t) in files {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    }
}

#[test]
fn lemmy_folder_applies_the_first_247_and_names_the_failing_file() {
    let mut c = fresh_db("e2e_cli_lemmy");
    let dir = corpus_dir().join("lemmy");
    let out = confiture(
        "e2e_cli_lemmy",
        &["migrate", "up", "--dir", dir.to_str().unwrap()],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "a migration failed: {shown}");
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM confiture.migrations WHERE state = 'applied'"
        ),
        247
    );
    let failed: String = c
        .query_one(
            "SELECT version FROM confiture.migrations WHERE state = 'failed'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(failed, "2025-08-01-000016");
    assert!(
        shown.contains("2025-08-01-000016_smoosh-tables-together/up.sql:13"),
        "file and line: {shown}"
    );
    assert!(shown.contains("42601"), "{shown}");
    // up to the 247th: nothing left to do
    let again = confiture(
        "e2e_cli_lemmy",
        &[
            "migrate",
            "up",
            "--dir",
            dir.to_str().unwrap(),
            "--target",
            "2025-08-01-000015",
        ],
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("0 applied"), "{}", text(&again));
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM confiture.migrations WHERE state = 'applied'"
        ),
        247
    );
}

#[test]
fn each_layout_applies_rolls_back_and_applies_again() {
    let layouts: [&[(&str, &str)]; 3] = [
        &[
            (
                "1_create_a.up.sql",
                "CREATE TABLE la (id bigint PRIMARY KEY);",
            ),
            ("1_create_a.down.sql", "DROP TABLE la;"),
            ("2_add_b.up.sql", "ALTER TABLE la ADD COLUMN b text;"),
            ("2_add_b.down.sql", "ALTER TABLE la DROP COLUMN b;"),
        ],
        &[
            (
                "V1__create_a.sql",
                "CREATE TABLE la (id bigint PRIMARY KEY);",
            ),
            ("U1__create_a.sql", "DROP TABLE la;"),
            ("V1_1__add_b.sql", "ALTER TABLE la ADD COLUMN b text;"),
            ("U1_1__add_b.sql", "ALTER TABLE la DROP COLUMN b;"),
        ],
        &[
            (
                "20240101_create_a/up.sql",
                "CREATE TABLE la (id bigint PRIMARY KEY);",
            ),
            ("20240101_create_a/down.sql", "DROP TABLE la;"),
            ("20240102_add_b/up.sql", "ALTER TABLE la ADD COLUMN b text;"),
            ("20240102_add_b/down.sql", "ALTER TABLE la DROP COLUMN b;"),
        ],
    ];
    for (i, files) in layouts.iter().enumerate() {
        let db = format!("e2e_cli_layout{i}");
        let mut c = fresh_db(&db);
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), files);
        let d = tmp.path().to_str().unwrap();
        let up = confiture(&db, &["migrate", "up", "--dir", d]);
        assert_eq!(up.status.code(), Some(0), "layout {i}: {}", text(&up));
        assert_eq!(
            count(
                &mut c,
                "SELECT count(*) FROM confiture.migrations WHERE state = 'applied'"
            ),
            2
        );
        let down = confiture(&db, &["migrate", "down", "--dir", d, "--steps", "2"]);
        assert_eq!(down.status.code(), Some(0), "layout {i}: {}", text(&down));
        assert_eq!(
            count(
                &mut c,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'la'"
            ),
            0
        );
        let again = confiture(&db, &["migrate", "up", "--dir", d]);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        assert_eq!(
            count(
                &mut c,
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'la'"
            ),
            2
        );
    }
}

#[test]
fn malformed_folders_are_refused_with_nothing_applied() {
    let cases: [&[(&str, &str)]; 4] = [
        &[
            ("1_a.up.sql", "CREATE TABLE m1 ();"),
            ("1_b.up.sql", "CREATE TABLE m2 ();"),
        ],
        &[
            ("1_a.up.sql", "CREATE TABLE m1 ();"),
            ("2_b.down.sql", "SELECT 1;"),
        ],
        &[
            ("1_a.up.sql", "CREATE TABLE m1 ();"),
            ("V2__b.sql", "CREATE TABLE m2 ();"),
        ],
        &[
            ("1_a.up.sql", "CREATE TABLE m1 ();"),
            ("notes.sql", "SELECT 1;"),
        ],
    ];
    let mut c = fresh_db("e2e_cli_bad");
    for files in cases {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), files);
        let out = confiture(
            "e2e_cli_bad",
            &["migrate", "up", "--dir", tmp.path().to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        assert!(text(&out).contains("Nothing was applied"), "{}", text(&out));
    }
    let unreadable = tempfile::tempdir().unwrap();
    std::fs::write(unreadable.path().join("1_a.up.sql"), [0xffu8, 0xfe, 0x00]).unwrap();
    assert_eq!(
        confiture(
            "e2e_cli_bad",
            &[
                "migrate",
                "up",
                "--dir",
                unreadable.path().to_str().unwrap()
            ]
        )
        .status
        .code(),
        Some(3)
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM confiture.migrations"),
        0
    );
}

/// A table of `rows` rows for index builds.
fn big_table(c: &mut postgres::Client, rows: i64) {
    c.batch_execute(&format!(
        "CREATE TABLE big (id bigint PRIMARY KEY, v bigint, pad text);
         INSERT INTO big SELECT g, (g::bigint * 7919) % 1000003, repeat('x', 40) FROM generate_series(1, {rows}) g;
         ANALYZE big;"
    ))
    .unwrap();
}

#[test]
fn create_index_concurrently_on_two_million_rows_does_not_block_writers() {
    let mut c = fresh_db("e2e_cli_cic");
    big_table(&mut c, 2_000_000);
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[(
            "1_index_v.up.sql",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS big_v_idx ON big (v);",
        )],
    );
    // a writer that inserts all along and measures each insert
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut w = connect("e2e_cli_cic");
        let (mut worst, mut n) = (Duration::ZERO, 0i64);
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            w.execute(
                "INSERT INTO big VALUES (10000000 + $1::bigint, $1::bigint, 'w')",
                &[&n],
            )
            .unwrap();
            worst = worst.max(t.elapsed());
            n += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        (worst, n)
    });
    std::thread::sleep(Duration::from_millis(300));
    let out = confiture(
        "e2e_cli_cic",
        &["migrate", "up", "--dir", tmp.path().to_str().unwrap()],
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (worst, inserts) = writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(inserts > 10, "the writer ran ({inserts} inserts)");
    assert!(
        worst < Duration::from_secs(1),
        "an insert waited {worst:?} during the concurrent build"
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_index WHERE indexrelid = 'big_v_idx'::regclass AND indisvalid"
        ),
        1
    );
    let state: String = c
        .query_one(
            "SELECT state FROM confiture.migrations WHERE version = '1'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(state, "applied");
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM confiture.ddl_log WHERE migration_version = '1' AND command_tag = 'CREATE INDEX'"),
        1,
        "the history ties the index to its migration"
    );
}

#[test]
fn a_client_killed_during_the_build_is_recovered_on_the_next_run() {
    let mut c = fresh_db("e2e_cli_kill");
    big_table(&mut c, 2_000_000);
    let tmp = tempfile::tempdir().unwrap();
    // not re-runnable on purpose: the retry must drop the INVALID index first
    write(
        tmp.path(),
        &[(
            "1_index_v.up.sql",
            "CREATE INDEX CONCURRENTLY big_v_idx ON big (v, pad);",
        )],
    );
    let mut child = Command::new(confiture_bin())
        .args(["migrate", "up", "--dir", tmp.path().to_str().unwrap()])
        .envs(env())
        .env("PGDATABASE", "e2e_cli_kill")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until the build is under way, then kill the client
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&mut c, "SELECT count(*) FROM pg_stat_progress_create_index") == 0 {
        assert!(Instant::now() < deadline, "the index build never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // the server notices the client is gone and stops the build
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&mut c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'confiture' AND datname = 'e2e_cli_kill'") > 0 {
        assert!(Instant::now() < deadline, "the killed client's session never ended");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(count(&mut c, "SELECT count(*) FROM pg_index WHERE indexrelid = 'big_v_idx'::regclass AND NOT indisvalid"), 1, "an INVALID index was left");
    let out = confiture(
        "e2e_cli_kill",
        &["migrate", "up", "--dir", tmp.path().to_str().unwrap()],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("INVALID index"),
        "the invalid index is reported: {shown}"
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_index WHERE indexrelid = 'big_v_idx'::regclass AND indisvalid"
        ),
        1
    );
    let log: Vec<String> = c
        .query(
            "SELECT action FROM confiture.migration_log WHERE version = '1' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        log,
        ["register", "start", "fail", "start", "apply"],
        "the ledger tells the story"
    );
}

#[test]
fn eight_databases_four_at_a_time_with_one_failing() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[(
            "1_t.up.sql",
            "CREATE TABLE tenant_data (id bigint PRIMARY KEY, tenant_id bigint NOT NULL);",
        )],
    );
    let mut urls = Vec::new();
    for i in 0..8 {
        let db = format!("e2e_cli_many{i}");
        let mut c = fresh_db(&db);
        if i == 5 {
            c.batch_execute("SET confiture.drift_mode = off; CREATE TABLE tenant_data (x int)")
                .unwrap();
        }
        urls.push(format!(
            "host={} port={} user=postgres dbname={db}",
            env()[0].1,
            env()[1].1
        ));
    }
    let list = tmp.path().join("databases.txt");
    std::fs::write(&list, format!("# shards\n{}\n", urls.join("\n"))).unwrap();
    let d = tmp.path().to_str().unwrap();
    let out = confiture(
        "postgres",
        &[
            "migrate",
            "up",
            "--dir",
            d,
            "--databases-file",
            list.to_str().unwrap(),
            "--jobs",
            "4",
            "--keep-going",
        ],
    );
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("e2e_cli_many5") && l.contains("1 failed")),
        "{shown}"
    );
    assert_eq!(
        shown
            .lines()
            .filter(|l| l.starts_with("e2e_cli_many") && l.ends_with("ok"))
            .count(),
        7,
        "{shown}"
    );
    // the JSON report says the same, and matches its schema
    let json = confiture(
        "postgres",
        &[
            "migrate",
            "status",
            "--dir",
            d,
            "--databases-file",
            list.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli-json-schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["databases"].as_array().unwrap().len(), 8);
    let up_json = confiture(
        "e2e_cli_many0",
        &["migrate", "up", "--dir", d, "--format", "json"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&up_json.stdout).unwrap();
    assert!(validator.iter_errors(&doc).next().is_none());
    assert_eq!(doc["exit_code"], 0);
}

#[test]
fn the_progress_bar_shows_in_a_terminal() {
    let _c = fresh_db("e2e_cli_tty");
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("1_slow.up.sql", "SELECT pg_sleep(2);"),
            ("2_slow.up.sql", "SELECT pg_sleep(2);"),
        ],
    );
    let session = "confiture_e2e_progress";
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", session])
        .output();
    let envs: Vec<String> = env().iter().map(|(k, v)| format!("{k}={v}")).collect();
    let cmd = format!(
        "env {} PGDATABASE=e2e_cli_tty {} migrate up --dir {}; sleep 30",
        envs.join(" "),
        confiture_bin().display(),
        tmp.path().display()
    );
    let started = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "100",
            "-y",
            "20",
            &cmd,
        ])
        .status()
        .unwrap();
    assert!(started.success());
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let cap = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", session])
            .output()
            .unwrap();
        seen = String::from_utf8_lossy(&cap.stdout).into_owned();
        if seen.contains("1/2") || seen.contains("0/2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", session])
        .output();
    assert!(
        seen.contains("/2") && seen.contains("[00:00:0"),
        "no progress bar on the screen:\n{seen}"
    );
}
