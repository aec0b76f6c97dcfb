//! `confiture migrate wizard` driven in tmux like a person would, and its
//! `--yes --max-tier` gate: three migrations (safe, caution, dangerous).

use confiture_e2e::{confiture_bin, fresh_db};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn three_migrations(dir: &Path) {
    let files = [
        ("1_orders.up.sql", "CREATE TABLE w_orders (id bigint PRIMARY KEY, tenant_id bigint NOT NULL, total numeric);\n\
                             INSERT INTO w_orders SELECT g, g % 10, g FROM generate_series(1, 1000) g;"),
        ("2_tenant_index.up.sql", "CREATE INDEX w_orders_tenant_idx ON w_orders (tenant_id);"),
        ("3_retype_total.up.sql", "ALTER TABLE w_orders ALTER COLUMN total TYPE float8;"),
    ];
    for (f, sql) in files {
        std::fs::write(dir.join(f), sql).unwrap();
    }
}

fn env_args(db: &str) -> String {
    format!(
        "PGHOST={} PGPORT={} PGUSER=postgres PGDATABASE={db} NO_COLOR=1",
        std::env::var("CONFITURE_PGHOST").unwrap(),
        std::env::var("CONFITURE_PGPORT").unwrap_or_else(|_| "5432".into())
    )
}

struct Tmux(&'static str);

impl Tmux {
    fn start(name: &'static str, cmd: &str) -> Tmux {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", name])
            .output();
        let ok = Command::new("tmux")
            .args(["new-session", "-d", "-s", name, "-x", "80", "-y", "40", cmd])
            .status()
            .unwrap();
        assert!(ok.success());
        Command::new("tmux")
            .args(["set-option", "-t", name, "history-limit", "5000"])
            .status()
            .unwrap();
        Tmux(name)
    }
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-2000", "-t", self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Wait until the screen shows `text` `times` times in all.
    fn wait_for(&self, text: &str, times: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if s.matches(text).count() >= times {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {text:?} x{times}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.0];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", self.0])
            .output();
    }
}

#[test]
fn a_person_applies_dry_runs_and_refuses_in_the_wizard() {
    let mut c = fresh_db("e2e_wizard");
    let tmp = tempfile::tempdir().unwrap();
    three_migrations(tmp.path());
    let cmd = format!(
        "env {} {} migrate wizard --dir {} --note 'reviewed in e2e'; echo WIZARD-EXIT=$?; sleep 60",
        env_args("e2e_wizard"),
        confiture_bin().display(),
        tmp.path().display()
    );
    let t = Tmux::start("confiture_e2e_wizard", &cmd);
    let table = t.wait_for("[a]pply", 1);
    assert!(table.contains("3 pending migration(s)"), "{table}");
    assert!(
        table.contains("dangerous") && table.contains("caution"),
        "the table shows the tiers:\n{table}"
    );
    t.keys(&["a"]);
    t.wait_for("[a]pply", 2);
    // the second: its risk, then a dry run, then apply
    let risk = t.screen();
    assert!(
        risk.contains("risk:") && risk.contains("ShareLock"),
        "the risk of the index build:\n{risk}"
    );
    t.keys(&["d"]);
    let dry = t.wait_for("dry run (rolled back)", 1);
    t.wait_for("[a]pply", 3);
    assert!(
        dry.contains("locks:") && dry.contains("w_orders: ShareLock"),
        "the dry run's locks:\n{dry}"
    );
    t.keys(&["a"]);
    t.wait_for("applied 2 in", 1);
    t.wait_for("[a]pply", 4);
    t.keys(&["a"]);
    t.wait_for("type its version", 1);
    t.keys(&["2", "Enter"]);
    t.wait_for("not applied: the version typed does not match", 1);
    t.wait_for("[a]pply", 5);
    let refused_screen = t.screen();
    assert!(
        refused_screen.contains("why dangerous"),
        "the reasons of the tier:\n{refused_screen}"
    );
    t.keys(&["q"]);
    let end = t.wait_for("WIZARD-EXIT=", 1);
    assert!(
        end.contains("summary: 2 applied, 0 skipped, 0 failed, 1 not reviewed"),
        "{end}"
    );
    let rows = c
        .query("SELECT version, state, approved_by, approved_role::text, approval_note FROM confiture.migrations ORDER BY sort_key", &[])
        .unwrap();
    let states: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        states,
        [
            ("1".into(), "applied".into()),
            ("2".into(), "applied".into()),
            ("3".into(), "pending".into())
        ]
    );
    for r in rows.iter().take(2) {
        assert!(
            r.get::<_, Option<String>>(2).is_some_and(|u| !u.is_empty()),
            "the OS user is recorded"
        );
        assert_eq!(r.get::<_, Option<String>>(3).as_deref(), Some("postgres"));
        assert_eq!(
            r.get::<_, Option<String>>(4).as_deref(),
            Some("reviewed in e2e")
        );
    }
}

#[test]
fn the_ci_gate_applies_up_to_the_allowed_tier_and_refuses() {
    let mut c = fresh_db("e2e_wizard_gate");
    let tmp = tempfile::tempdir().unwrap();
    three_migrations(tmp.path());
    let out = Command::new(confiture_bin())
        .args([
            "migrate",
            "wizard",
            "--yes",
            "--max-tier",
            "caution",
            "--format",
            "json",
            "--dir",
            tmp.path().to_str().unwrap(),
        ])
        .env("PGHOST", std::env::var("CONFITURE_PGHOST").unwrap())
        .env(
            "PGPORT",
            std::env::var("CONFITURE_PGPORT").unwrap_or_else(|_| "5432".into()),
        )
        .env("PGUSER", "postgres")
        .env("PGDATABASE", "e2e_wizard_gate")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/wizard-json-schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["outcome"]["applied"], 2);
    assert!(
        doc["outcome"]["refused"]
            .as_str()
            .unwrap()
            .contains("migration 3 is dangerous"),
        "{doc}"
    );
    assert_eq!(doc["outcome"]["reviews"][2]["decision"], "refused");
    let applied: i64 = c
        .query_one(
            "SELECT count(*) FROM confiture.migrations WHERE state = 'applied'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(applied, 2);
}
