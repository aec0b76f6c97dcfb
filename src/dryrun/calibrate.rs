//! `confiture.calibrate()`: measure, on this server and within a few
//! seconds, the rates estimates rest on, on a scratch table shaped like a
//! typical narrow table (seven columns, about 110 bytes a row) that is
//! created and dropped inside a subtransaction that is always rolled back.
//! The rates are stored in `confiture.calibration`, one row per rate.

use crate::error::{Error, Kind, Result};
use crate::migrate::ledger;
use crate::privilege::require_admin;
use crate::security::{as_owner, GucScope};
use crate::subxact::Subtransaction;
use confiture_core::estimate::{self, Rates, RATE_UNITS};
use pgrx::prelude::*;
use std::time::Instant;

pgrx::extension_sql_file!(
    "../../sql/21_calibration.sql",
    name = "calibration",
    requires = ["dry_run"]
);

/// Rows of the scratch table.
const ROWS: i64 = 100_000;

fn run(sql: &str) {
    pg_sys::check_for_interrupts!();
    Spi::run(sql).unwrap_or_else(|e| {
        Error::new(Kind::Internal, format!("calibration step failed: {e}"))
            .detail(format!("The step was: {sql}"))
            .hint("Calibration needs a writable database where the extension's owner may create tables in schema confiture.")
            .raise()
    });
}

/// Milliseconds `sql` takes.
fn timed(sql: &str) -> f64 {
    let t = Instant::now();
    run(sql);
    t.elapsed().as_secs_f64() * 1000.0
}

/// The fastest of `n` runs: on a busy machine the minimum is what the
/// server can do, the rest is other work's noise.
fn fastest(sql: &str, n: usize) -> f64 {
    (0..n).map(|_| timed(sql)).fold(f64::MAX, f64::min)
}

fn insert(t: &str, from: i64, to: i64) -> String {
    format!(
        "INSERT INTO {t} SELECT g, g % 1000 + 1, 'name ' || g, 'user' || g || '@example.com',
                '+1-555-' || lpad((g % 10000)::text, 4, '0'), lpad((g % 1000000000)::text, 9, '0'),
                timestamptz '2024-01-01' + g * interval '1 second'
           FROM generate_series({from}, {to}) g"
    )
}

/// Measure every rate; returns (name, value) pairs.
fn measure() -> Vec<(&'static str, f64)> {
    let pid = unsafe { pg_sys::MyProcPid };
    let t = format!("confiture.calibration_scratch_{pid}");
    let p = format!("confiture.calibration_parent_{pid}");
    let n = ROWS as f64;
    let n1 = ROWS / 4;
    // confiture's own scratch DDL is not linted
    let _lint = GucScope::set_as_superuser(&[("confiture.lint_mode", "off")]);
    // index builds measured in memory, then with a sort that must spill
    let in_memory = GucScope::set(&[("maintenance_work_mem", "1GB"), ("work_mem", "1GB")]);
    run(&format!(
        "CREATE TABLE {t} (id bigint NOT NULL, tenant_id int NOT NULL, name text NOT NULL, email text,
                           phone text, ssn text, created_at timestamptz NOT NULL)"
    ));
    run(&insert(&t, 1, n1));
    run(&format!("SELECT count(email) FROM {t}"));
    let idx = format!("CREATE INDEX calibration_email_{pid} ON {t} (email)");
    let drop_idx = format!("DROP INDEX confiture.calibration_email_{pid}");
    let mut small_index = f64::MAX;
    for _ in 0..2 {
        small_index = small_index.min(timed(&idx));
        run(&drop_idx);
    }
    let inserted = timed(&insert(&t, n1 + 1, ROWS));
    let insert_row_us = inserted * 1000.0 / (n - n1 as f64);
    let bytes =
        ledger::first_value::<i64>(&format!("SELECT pg_catalog.pg_relation_size('{t}')"), &[])
            .ok()
            .flatten()
            .unwrap_or(0) as f64;
    let pages = (bytes / 8192.0).max(1.0);
    run(&format!("SELECT count(email) FROM {t}"));
    let scan = fastest(&format!("SELECT count(email) FROM {t}"), 3);
    let mut text_index = f64::MAX;
    for _ in 0..2 {
        text_index = text_index.min(timed(&idx));
        run(&drop_idx);
    }
    let sort = fastest(
        &format!("SELECT count(*) FROM (SELECT email FROM {t} ORDER BY email OFFSET 0) s"),
        2,
    );
    drop(in_memory);
    let spilled = {
        let _small = GucScope::set(&[("maintenance_work_mem", "1MB")]);
        let ms = timed(&idx);
        run(&drop_idx);
        ms
    };
    let not_null = timed(&format!("ALTER TABLE {t} ALTER COLUMN email SET NOT NULL"));
    run(&format!(
        "ALTER TABLE {t} ADD CONSTRAINT calibration_check_{pid} CHECK (id > 0) NOT VALID"
    ));
    let check = timed(&format!(
        "ALTER TABLE {t} VALIDATE CONSTRAINT calibration_check_{pid}"
    ));
    // a rewrite with no index to rebuild (the type of a column no constraint uses)
    let rewrite = timed(&format!(
        "ALTER TABLE {t} ALTER COLUMN tenant_id TYPE bigint"
    ));
    run(&format!(
        "CREATE TABLE {p} (id bigint PRIMARY KEY); INSERT INTO {p} SELECT generate_series(1, 1000)"
    ));
    run(&format!(
        "ALTER TABLE {t} ADD CONSTRAINT calibration_fk_{pid} FOREIGN KEY (tenant_id) REFERENCES {p} (id) NOT VALID"
    ));
    let fk = timed(&format!(
        "ALTER TABLE {t} VALIDATE CONSTRAINT calibration_fk_{pid}"
    ));
    let int_index = timed(&format!(
        "CREATE UNIQUE INDEX calibration_id_{pid} ON {t} (id)"
    ));
    let update = timed(&format!("UPDATE {t} SET phone = 'p' || id"));
    run(&format!("DROP TABLE {t}, {p}"));

    let per_row = |ms: f64| ms * 1000.0 / n;
    // an index build costs a startup (workers, the build's own setup) plus
    // c * n log2 n: two sizes give both
    let (startup_ms, text_row_us) =
        estimate::fit_index_build(n1 as f64, small_index, n, text_index);
    vec![
        ("seq_scan_row_us", per_row(scan)),
        ("seq_scan_page_us", scan * 1000.0 / pages),
        ("insert_row_us", insert_row_us),
        ("rewrite_row_us", per_row(rewrite)),
        ("not_null_scan_row_us", per_row(not_null)),
        ("check_validate_row_us", per_row(check)),
        ("fk_check_row_us", per_row(fk)),
        ("index_build_text_row_us", text_row_us),
        (
            "index_build_int_row_us",
            per_row((int_index - startup_ms).max(int_index / 2.0)),
        ),
        ("index_build_startup_ms", startup_ms),
        ("index_build_growth", 1.0),
        ("index_build_spill_factor", (spilled / text_index).max(1.0)),
        ("sort_row_us", per_row(sort)),
        // the scratch rows are this transaction's own; production's are committed
        (
            "update_row_us",
            per_row(update) / estimate::OWN_TRANSACTION_WRITE_FACTOR,
        ),
        ("calibration_rows", n),
        ("calibration_row_bytes", bytes / n),
    ]
}

/// Measure this server's rates (a few seconds; the scratch table is
/// dropped) and store them in confiture.calibration: one row per rate.
#[pg_extern]
fn calibrate() -> Result<
    TableIterator<
        'static,
        (
            name!(name, String),
            name!(value, f64),
            name!(unit, String),
            name!(measured_at, pgrx::datum::TimestampWithTimeZone),
            name!(server_version, String),
        ),
    >,
> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.calibrate";
    require_admin(F)?;
    let read_only = crate::security::setting("transaction_read_only").as_deref() == Some("on");
    if read_only {
        return Err(Error::new(
            Kind::WrongState,
            "confiture.calibrate needs a writable transaction",
        )
        .detail("It creates and drops a scratch table, and stores the rates it measured.")
        .hint("Run it on the primary, outside a READ ONLY transaction.")
        .into());
    }
    let measured = as_owner(|| {
        Subtransaction::new()
            .always_roll_back()
            .run(measure)
            .map_err(|f| {
                Error::new(Kind::Internal, format!("calibration failed: {}", f.message))
                    .detail(format!("SQLSTATE {}", f.code()))
                    .hint("Nothing was stored; the scratch table is gone. Check the server log.")
                    .into()
            })
    })?;
    let version = crate::security::setting("server_version").unwrap_or_default();
    as_owner(|| {
        for (name, value) in &measured {
            pg_sys::check_for_interrupts!();
            let unit = RATE_UNITS
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, u)| *u)
                .unwrap_or("");
            Spi::run_with_args(
                "INSERT INTO confiture.calibration (name, value, unit, measured_at, server_version)
                 VALUES ($1, $2, $3, pg_catalog.now(), $4)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, unit = EXCLUDED.unit,
                        measured_at = EXCLUDED.measured_at, server_version = EXCLUDED.server_version",
                &[
                    (*name).into(),
                    (*value).into(),
                    unit.into(),
                    version.clone().into(),
                ],
            )
            .map_err(Error::from)?;
        }
        Ok(())
    })?;
    let rows = as_owner(|| {
        Spi::connect(|c| {
            c.select(
                "SELECT name, value, unit, measured_at, server_version FROM confiture.calibration ORDER BY name",
                None,
                &[],
            )?
            .map(|r| {
                Ok((
                    r.get::<String>(1)?.unwrap_or_default(),
                    r.get::<f64>(2)?.unwrap_or(0.0),
                    r.get::<String>(3)?.unwrap_or_default(),
                    r.get::<pgrx::datum::TimestampWithTimeZone>(4)?
                        .expect("measured_at is NOT NULL"),
                    r.get::<String>(5)?.unwrap_or_default(),
                ))
            })
            .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
        })
        .map_err(|e| Error::from(e).into())
    })?;
    Ok(TableIterator::new(rows))
}

/// The stored rates, or the defaults (saying so) when never calibrated.
pub fn stored_rates() -> Rates {
    let mut rates = Rates::default();
    let rows = as_owner(|| {
        Spi::connect(|c| {
            c.select(
                "SELECT name, value, pg_catalog.to_char(measured_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM confiture.calibration",
                None,
                &[],
            )?
            .map(|r| {
                Ok((
                    r.get::<String>(1)?.unwrap_or_default(),
                    r.get::<f64>(2)?.unwrap_or(0.0),
                    r.get::<String>(3)?.unwrap_or_default(),
                ))
            })
            .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
        })
        .map_err(|e| Error::from(e).into())
    })
    .unwrap_or_default();
    let mut when = None;
    for (name, value, at) in rows {
        rates.set(&name, value);
        when = Some(at);
    }
    if let Some(at) = when {
        rates.calibrated = true;
        rates.source = format!("rates calibrated {at}");
    }
    rates
}
