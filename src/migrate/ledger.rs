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
}

impl Migration {
    pub fn entry(&self) -> Entry {
        Entry { version: self.version.clone(), state: self.state, has_down: self.down_sql.is_some() }
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
                "SELECT version, name, up_sql, down_sql, checksum, state
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

fn run(sql: &str, args: &[DatumWithOid]) -> Result<()> {
    Spi::run_with_args(sql, args).map_err(|e| Error::from(e).into())
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
        "INSERT INTO confiture.migration_log (version, action, duration, sqlstate, message)
         VALUES ($1, $2, $3 * interval '1 millisecond', $4, $5)",
        &[
            version.into(),
            action.into(),
            duration.map(ms).into(),
            sqlstate.into(),
            message.into(),
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
        "INSERT INTO confiture.migrations (version, sort_key, name, up_sql, down_sql, checksum, statements)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            version.into(),
            sort_key.into(),
            name.into(),
            up_sql.into(),
            down_sql.into(),
            checksum.into(),
            statements.into(),
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
                registered_at = now(), registered_by = current_user
          WHERE version = $1",
        &[version.into(), name.into(), up_sql.into(), down_sql.into(), checksum.into(), statements.into()],
    )?;
    log(version, "replace", None, None, Some("up SQL replaced"))
}

/// Change what may change on a migration in effect: its name and down SQL.
pub fn update_metadata(version: &str, name: &str, down_sql: Option<&str>) -> Result<()> {
    run(
        "UPDATE confiture.migrations SET name = $2, down_sql = $3 WHERE version = $1",
        &[version.into(), name.into(), down_sql.into()],
    )?;
    log(version, "replace", None, None, Some("name or down SQL changed"))
}

pub fn record_applied(version: &str, duration: Duration, statements: i32) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET state = 'applied', applied_at = now(), applied_by = current_user,
                duration = $2 * interval '1 millisecond', statements = $3,
                attempts = attempts + 1, last_error = NULL, last_sqlstate = NULL,
                failed_statement = NULL, failed_line = NULL
          WHERE version = $1",
        &[version.into(), ms(duration).into(), statements.into()],
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
                duration = $2 * interval '1 millisecond', attempts = attempts + 1,
                last_error = $3, last_sqlstate = $4, failed_statement = $5, failed_line = $6
          WHERE version = $1",
        &[
            version.into(),
            ms(duration).into(),
            message.into(),
            sqlstate.into(),
            at.statement.into(),
            at.line.into(),
        ],
    )?;
    log(version, "fail", Some(duration), Some(sqlstate), Some(message))
}

pub fn record_failure(version: &str, duration: Duration, f: &Failure, at: FailedAt) -> Result<()> {
    record_failed(version, duration, &f.code(), &f.message, at)
}

pub fn record_rolled_back(version: &str, duration: Duration) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET state = 'pending', applied_at = NULL, applied_by = NULL, duration = NULL
          WHERE version = $1",
        &[version.into()],
    )?;
    log(version, "rollback", Some(duration), None, None)
}

pub fn record_baselined(version: &str) -> Result<()> {
    run(
        "UPDATE confiture.migrations
            SET state = 'baselined', applied_at = now(), applied_by = current_user,
                duration = NULL, last_error = NULL, last_sqlstate = NULL,
                failed_statement = NULL, failed_line = NULL
          WHERE version = $1",
        &[version.into()],
    )?;
    log(version, "baseline", None, None, None)
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
pub fn first_value<T: FromDatum + IntoDatum>(sql: &str, args: &[DatumWithOid]) -> Result<Option<T>> {
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
