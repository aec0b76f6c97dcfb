//! Reads and writes of `confiture.migrations` and `confiture.migration_log`.
//! Every SQL statement that touches the ledger is here.

use crate::error::{Error, Result};
use crate::subxact::Failure;
use confiture_core::plan::{Entry, State};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use std::time::Duration;

/// One registered migration.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: String,
    pub name: String,
    pub up_sql: String,
    pub down_sql: Option<String>,
    pub checksum: String,
    pub state: State,
    /// The role it runs as (the role that last registered its SQL).
    pub run_as: pg_sys::Oid,
    /// The search_path it was registered under.
    pub search_path: String,
    /// Marked by a superuser to run as whoever calls migrate.
    pub trusted: bool,
}

impl Migration {
    pub fn entry(&self) -> Entry {
        Entry {
            version: self.version.clone(),
            state: self.state,
            has_down: self.down_sql.is_some(),
        }
    }
}

/// Every migration, in version order.
pub fn load() -> Result<Vec<Migration>> {
    select("", &[])
}

fn select(filter: &str, args: &[DatumWithOid]) -> Result<Vec<Migration>> {
    Spi::connect_mut(|client| {
        // read-write SPI: a fresh snapshot that sees this transaction's own changes
        let rows = client.update(
            &format!(
                "SELECT version, name, up_sql, down_sql, checksum, state, run_as::oid, search_path, trusted
                   FROM confiture.migrations {filter} ORDER BY sort_key"
            ),
            None,
            args,
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let state: String = row.get(6)?.unwrap_or_default();
            out.push(Migration {
                version: row.get(1)?.unwrap_or_default(),
                name: row.get(2)?.unwrap_or_default(),
                up_sql: row.get(3)?.unwrap_or_default(),
                down_sql: row.get(4)?,
                checksum: row.get(5)?.unwrap_or_default(),
                state: State::parse(&state).unwrap_or(State::Pending),
                run_as: row.get(7)?.unwrap_or(pg_sys::InvalidOid),
                search_path: row.get(8)?.unwrap_or_default(),
                trusted: row.get(9)?.unwrap_or(false),
            });
        }
        Ok::<_, pgrx::spi::SpiError>(out)
    })
    .map_err(|e| Error::from(e).into())
}

/// One migration by version.
pub fn find(version: &str) -> Result<Option<Migration>> {
    Ok(select("WHERE version = $1", &[version.into()])?.pop())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Write the ledger: as the extension's owner, since no role may write it
/// directly (a row decides what runs as whom).
fn run(sql: &str, args: &[DatumWithOid]) -> Result<()> {
    crate::security::as_owner(|| Spi::run_with_args(sql, args).map_err(|e| Error::from(e).into()))
}

/// The role calling confiture (`current_user` before any switch).
fn invoker() -> String {
    crate::security::current_role_name()
}

/// Append to the audit trail.
pub fn log(
    version: &str,
    action: &str,
    duration: Option<Duration>,
    sqlstate: Option<&str>,
    message: Option<&str>,
) -> Result<()> {
    run(
        "INSERT INTO confiture.migration_log (version, action, duration, sqlstate, message, by_role)
         VALUES ($1, $2, $3 OPERATOR(pg_catalog.*) '1 millisecond'::pg_catalog.interval, $4, $5, $6)",
        &[
            version.into(),
            action.into(),
            duration.map(ms).into(),
            sqlstate.into(),
            message.into(),
            invoker().into(),
        ],
    )
}

/// Register a new migration.
pub fn insert(
    version: &str,
    sort_key: &str,
    name: &str,
    up_sql: &str,
    down_sql: Option<&str>,
    checksum: &str,
    statements: Option<i32>,
) -> Result<()> {
    run(
        "INSERT INTO confiture.migrations (version, sort_key, name, up_sql, down_sql, checksum, statements,
                                           registered_by, run_as, search_path)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8::pg_catalog.regrole, $9)",
        &[
            version.into(),
            sort_key.into(),
            name.into(),
            up_sql.into(),
            down_sql.into(),
            checksum.into(),
            statements.into(),
            invoker().into(),
            caller_search_path().into(),
        ],
    )?;
    log(version, "register", None, None, None)
}

/// Replace the SQL of a migration that is not in effect; it becomes pending again.
pub fn replace(
    version: &str,
    name: &str,
    up_sql: &str,
    down_sql: Option<&str>,
    checksum: &str,
    statements: Option<i32>,
) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET name = $2, up_sql = $3, down_sql = $4, checksum = $5, statements = $6,
                state = 'pending', last_error = NULL, last_sqlstate = NULL,
                failed_statement = NULL, failed_line = NULL,
                registered_at = pg_catalog.now(), registered_by = $7, run_as = $7::pg_catalog.regrole,
                search_path = $8, trusted = false
          WHERE version OPERATOR(pg_catalog.=) $1",
        &[
            version.into(),
            name.into(),
            up_sql.into(),
            down_sql.into(),
            checksum.into(),
            statements.into(),
            invoker().into(),
            caller_search_path().into(),
        ],
    )?;
    log(version, "replace", None, None, Some("up SQL replaced"))
}

/// Change what may change on a migration in effect: its name and down SQL.
pub fn update_metadata(version: &str, name: &str, down_sql: Option<&str>) -> Result<()> {
    run(
        // new down SQL is new code: it runs as the role that wrote it
        "UPDATE confiture.migrations
            SET name = $2,
                (run_as, search_path, trusted, registered_by) =
                    (SELECT CASE WHEN down_sql IS DISTINCT FROM $3 THEN $4::pg_catalog.regrole ELSE run_as END,
                            CASE WHEN down_sql IS DISTINCT FROM $3 THEN $5 ELSE search_path END,
                            trusted AND down_sql IS NOT DISTINCT FROM $3,
                            CASE WHEN down_sql IS DISTINCT FROM $3 THEN $4::pg_catalog.name ELSE registered_by END),
                down_sql = $3
          WHERE version OPERATOR(pg_catalog.=) $1",
        &[version.into(), name.into(), down_sql.into(), invoker().into(), caller_search_path().into()],
    )?;
    log(
        version,
        "replace",
        None,
        None,
        Some("name or down SQL changed"),
    )
}

pub fn record_applied(version: &str, duration: Duration, statements: i32) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET state = 'applied', applied_at = pg_catalog.now(), applied_by = $4,
                duration = $2 OPERATOR(pg_catalog.*) '1 millisecond'::pg_catalog.interval, statements = $3,
                attempts = attempts OPERATOR(pg_catalog.+) 1, last_error = NULL, last_sqlstate = NULL,
                failed_statement = NULL, failed_line = NULL
          WHERE version OPERATOR(pg_catalog.=) $1",
        &[version.into(), ms(duration).into(), statements.into(), invoker().into()],
    )?;
    log(version, "apply", Some(duration), None, None)
}

/// Where a migration failed: the statement (1-based) and its first line.
#[derive(Debug, Clone, Copy, Default)]
pub struct FailedAt {
    pub statement: Option<i32>,
    pub line: Option<i32>,
}

pub fn record_failed(
    version: &str,
    duration: Duration,
    sqlstate: &str,
    message: &str,
    at: FailedAt,
) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET state = 'failed', applied_at = NULL, applied_by = NULL,
                duration = $2 OPERATOR(pg_catalog.*) '1 millisecond'::pg_catalog.interval,
                attempts = attempts OPERATOR(pg_catalog.+) 1,
                last_error = $3, last_sqlstate = $4, failed_statement = $5, failed_line = $6
          WHERE version OPERATOR(pg_catalog.=) $1",
        &[
            version.into(),
            ms(duration).into(),
            message.into(),
            sqlstate.into(),
            at.statement.into(),
            at.line.into(),
        ],
    )?;
    log(
        version,
        "fail",
        Some(duration),
        Some(sqlstate),
        Some(message),
    )
}

pub fn record_failure(version: &str, duration: Duration, f: &Failure, at: FailedAt) -> Result<()> {
    record_failed(version, duration, &f.code(), &f.message, at)
}

pub fn record_rolled_back(version: &str, duration: Duration) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET state = 'pending', applied_at = NULL, applied_by = NULL, duration = NULL
          WHERE version OPERATOR(pg_catalog.=) $1",
        &[version.into()],
    )?;
    log(version, "rollback", Some(duration), None, None)
}

pub fn record_baselined(version: &str) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET state = 'baselined', applied_at = pg_catalog.now(), applied_by = $2,
                duration = NULL, last_error = NULL, last_sqlstate = NULL,
                failed_statement = NULL, failed_line = NULL
          WHERE version OPERATOR(pg_catalog.=) $1",
        &[version.into(), invoker().into()],
    )?;
    log(version, "baseline", None, None, None)
}

/// Who approved applying it, and why.
pub fn record_approval(version: &str, os_user: &str, note: Option<&str>) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET approved_by = $2, approved_role = $3, approval_note = $4, approved_at = pg_catalog.now()
          WHERE version OPERATOR(pg_catalog.=) $1",
        &[version.into(), os_user.into(), invoker().into(), note.into()],
    )?;
    log(
        version,
        "approve",
        None,
        None,
        Some(&format!(
            "approved by {os_user}{}",
            note.map(|n| format!(": {n}")).unwrap_or_default()
        )),
    )
}

/// Mark a migration as trusted (it runs as whoever calls migrate) or not.
pub fn record_trusted(version: &str, trusted: bool) -> Result<()> {
    run(
        "UPDATE confiture.migrations SET trusted = $2 WHERE version OPERATOR(pg_catalog.=) $1",
        &[version.into(), trusted.into()],
    )?;
    log(
        version,
        "trust",
        None,
        None,
        Some(if trusted {
            "trusted: runs as the caller"
        } else {
            "runs as its registrant"
        }),
    )
}

/// The search_path of the session calling confiture.
fn caller_search_path() -> String {
    crate::security::caller_search_path().unwrap_or_default()
}

/// The version that already has this natural-order key, if another one does.
pub fn version_with_sort_key(sort_key: &str, except: &str) -> Result<Option<String>> {
    first_value(
        "SELECT version FROM confiture.migrations WHERE sort_key = $1 AND version <> $2",
        &[sort_key.into(), except.into()],
    )
}

/// The first column of the first row, or `None` when there is no row
/// (`Spi::get_one` treats an empty result as an error).
pub fn first_value<T: FromDatum + IntoDatum>(
    sql: &str,
    args: &[DatumWithOid],
) -> Result<Option<T>> {
    Spi::connect_mut(|client| {
        // read-write SPI: a fresh snapshot that sees this transaction's own changes
        let rows = client.update(sql, Some(1), args)?;
        if rows.is_empty() {
            Ok(None)
        } else {
            rows.first().get_one::<T>()
        }
    })
    .map_err(|e: pgrx::spi::SpiError| Error::from(e).into())
}
