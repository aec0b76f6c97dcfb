//! `confiture calibrate` and calibration on first use: the built binary
//! against the test cluster.

use confiture_e2e::{confiture_bin, fresh_db};
use std::process::{Command, Output};

fn confiture(db: &str, args: &[&str], dir: Option<&std::path::Path>) -> Output {
    let mut cmd = Command::new(confiture_bin());
    cmd.args(args)
        .env("PGHOST", std::env::var("CONFITURE_PGHOST").unwrap())
        .env(
            "PGPORT",
            std::env::var("CONFITURE_PGPORT").unwrap_or_else(|_| "5432".into()),
        )
        .env("PGUSER", "postgres")
        .env("PGDATABASE", db)
        .env("NO_COLOR", "1");
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    cmd.output().expect("run confiture")
}

fn rates(c: &mut postgres::Client) -> i64 {
    c.query_one("SELECT count(*) FROM confiture.calibration", &[])
        .unwrap()
        .get(0)
}

#[test]
fn calibrate_stores_every_rate_and_prints_them() {
    let mut c = fresh_db("e2e_calibrate");
    assert_eq!(rates(&mut c), 0);
    let out = confiture("e2e_calibrate", &["calibrate", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shown = doc["rates"].as_array().unwrap();
    let stored = rates(&mut c);
    assert_eq!(shown.len() as i64, stored);
    assert_eq!(stored, confiture_core::estimate::RATE_UNITS.len() as i64);
    assert!(shown.iter().all(|r| r["value"].as_f64().unwrap() >= 0.0));
    // a non-admin may not calibrate: a clear error and a non-zero exit
    c.batch_execute("DROP ROLE IF EXISTS e2e_cal_user; CREATE ROLE e2e_cal_user LOGIN")
        .unwrap();
    let mut cmd = Command::new(confiture_bin());
    let out = cmd
        .args(["calibrate"])
        .env("PGHOST", std::env::var("CONFITURE_PGHOST").unwrap())
        .env(
            "PGPORT",
            std::env::var("CONFITURE_PGPORT").unwrap_or_else(|_| "5432".into()),
        )
        .env("PGUSER", "e2e_cal_user")
        .env("PGDATABASE", "e2e_calibrate")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        err.contains("permission denied for confiture.calibrate"),
        "{err}"
    );
    c.batch_execute("DROP ROLE e2e_cal_user").unwrap();
}

#[test]
fn plan_calibrates_a_database_on_first_use_only() {
    let mut c = fresh_db("e2e_calibrate_first_use");
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("db/migrations/001_t");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("up.sql"), "CREATE TABLE t (id int);").unwrap();
    let first = confiture(
        "e2e_calibrate_first_use",
        &["migrate", "plan"],
        Some(dir.path()),
    );
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(err.contains("calibrated this server's rates"), "{err}");
    assert!(rates(&mut c) > 0);
    let at: String = c
        .query_one(
            "SELECT max(measured_at)::text FROM confiture.calibration",
            &[],
        )
        .unwrap()
        .get(0);
    let again = confiture(
        "e2e_calibrate_first_use",
        &["migrate", "plan"],
        Some(dir.path()),
    );
    assert!(!String::from_utf8_lossy(&again.stderr).contains("calibrated"));
    let same: String = c
        .query_one(
            "SELECT max(measured_at)::text FROM confiture.calibration",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(at, same, "calibrated once per database");
}
