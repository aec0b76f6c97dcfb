//! Applying the folder to one database: register every file, then let the
//! extension apply what runs in a transaction, and apply the client-run
//! migrations (`CREATE INDEX CONCURRENTLY` ...) here, statement by
//! statement in autocommit, under the ledger's `running` state, with their
//! hooks. Decisions stay in the extension; this only drives it.

use super::files::MigrationFile;
use super::progress::Progress;
use crate::error::{exit, CliError};
use postgres::Client;
use serde::Serialize;
use std::time::Instant;

/// One migration's outcome, as printed and as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub version: String,
    pub name: String,
    pub state: String,
    pub duration_ms: f64,
    pub statements: Option<i32>,
    /// "server" (in a transaction) or "client" (outside one).
    pub mode: &'static str,
    pub message: Option<String>,
    /// For a failure: the statement (1-based) and its line, and the SQLSTATE.
    pub failed_statement: Option<i32>,
    pub failed_line: Option<i32>,
    pub sqlstate: Option<String>,
    pub file: Option<String>,
}

/// What registering found, before anything runs.
pub struct Registered {
    pub pending: usize,
}

fn db_error(e: &postgres::Error) -> (String, String, Option<String>, Option<String>) {
    match e.as_db_error() {
        Some(d) => (
            d.code().code().to_owned(),
            d.message().to_owned(),
            d.detail().map(str::to_owned),
            d.hint().map(str::to_owned),
        ),
        None => ("08006".into(), e.to_string(), None, None),
    }
}

/// A server error as the user sees it from psql: message, detail, hint.
pub fn server_error(code: u8, what: &str, e: &postgres::Error) -> CliError {
    let (sqlstate, message, detail, hint) = db_error(e);
    let mut err =
        CliError::new(code, format!("{what}: {message}")).detail(format!("SQLSTATE {sqlstate}"));
    if let Some(d) = detail {
        err = err.detail(d);
    }
    if let Some(h) = hint {
        err = err.hint(h);
    }
    err
}

/// The extension must be installed (the client never re-implements it).
pub fn require_extension(c: &mut Client) -> Result<(), CliError> {
    let row = c
        .query_opt(
            "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'confiture'",
            &[],
        )
        .map_err(|e| server_error(exit::CONNECT, "cannot read pg_extension", &e))?;
    if row.is_none() {
        return Err(CliError::new(
            exit::CONNECT,
            "extension confiture is not installed in this database",
        )
        .hint("A superuser can run: CREATE EXTENSION confiture;"));
    }
    Ok(())
}

/// Register every file in one transaction. A changed applied migration
/// stops everything (exit code "refused") and shows what changed.
pub fn register_all(c: &mut Client, files: &[MigrationFile]) -> Result<Registered, CliError> {
    let mut tx = c
        .transaction()
        .map_err(|e| server_error(exit::CONNECT, "cannot start a transaction", &e))?;
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .map_err(|e| server_error(exit::CONNECT, "cannot configure the session", &e))?;
    for f in files {
        let r = tx.execute(
            "SELECT confiture.register($1, $2, $3, $4, allow_syntax_errors => true)",
            &[&f.version, &f.name, &f.up, &f.down],
        );
        if let Err(e) = r {
            let (code, message, _, _) = db_error(&e);
            if code == "55000" {
                drop(tx);
                return Err(changed_applied(c, f, &message));
            }
            return Err(server_error(
                exit::FAILED,
                &format!("cannot register {}", f.up_path.display()),
                &e,
            ));
        }
    }
    let pending: i64 = tx
        .query_one("SELECT count(*) FROM confiture.migrations WHERE state IN ('pending', 'failed', 'running')", &[])
        .map(|r| r.get(0))
        .unwrap_or(0);
    tx.commit()
        .map_err(|e| server_error(exit::FAILED, "cannot commit the registrations", &e))?;
    Ok(Registered {
        pending: pending as usize,
    })
}

/// The error for an applied migration whose file changed, with a diff.
fn changed_applied(c: &mut Client, f: &MigrationFile, message: &str) -> CliError {
    let applied: Option<String> = c
        .query_opt(
            "SELECT up_sql FROM confiture.migrations WHERE version = $1",
            &[&f.version],
        )
        .ok()
        .flatten()
        .map(|r| r.get(0));
    let mut err = CliError::new(exit::REFUSED, format!("{}: {message}", f.up_path.display()));
    if let Some(old) = applied {
        let diff = similar::TextDiff::from_lines(old.as_str(), f.up.as_str());
        let text = diff
            .unified_diff()
            .context_radius(2)
            .header("applied", "file")
            .to_string();
        err = err.detail(text);
    }
    err.hint("An applied migration cannot change: add a new migration for the change (or roll this one back first).")
}

/// Apply everything pending up to `target`.
pub fn up(
    c: &mut Client,
    progress_client: Option<&mut Client>,
    files: &[MigrationFile],
    target: Option<&str>,
    progress: &Progress,
) -> Result<Vec<Applied>, CliError> {
    let file_of = |v: &str| {
        files
            .iter()
            .find(|f| f.version == v)
            .map(|f| f.up_path.display().to_string())
    };
    let mut done: Vec<Applied> = Vec::new();
    let mut progress_client = progress_client;
    c.batch_execute("SET confiture.progress = on")
        .map_err(|e| server_error(exit::FAILED, "cannot configure the session", &e))?;
    // if this client dies, the server stops its statement (PostgreSQL 14+)
    let _ = c.batch_execute("SET client_connection_check_interval = '200ms'");
    loop {
        let rows = c.query(
            "SELECT m.version, m.name, m.state, extract(epoch FROM m.duration)::float8 * 1000, m.statements, m.message
               FROM confiture.migrate(target => $1) m",
            &[&target],
        );
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                let (code, ..) = db_error(&e);
                let exit_code = match code.as_str() {
                    "55000" => exit::REFUSED, // drift_mode = enforce
                    "42P17" => exit::REFUSED, // the guard rejected a statement
                    "55P03" => exit::FAILED,
                    _ => exit::FAILED,
                };
                return Err(server_error(exit_code, "confiture.migrate failed", &e));
            }
        };
        let mut client_run: Option<(String, String)> = None;
        for r in &rows {
            let version: String = r.get(0);
            let state: String = r.get(2);
            let message: Option<String> = r.get(5);
            if state == "pending"
                && message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("applied by the confiture client"))
            {
                client_run = Some((version, r.get(1)));
                continue;
            }
            let failed = state == "failed";
            // where it failed: read after the run (its snapshot is newer)
            let at = if failed {
                c.query_opt("SELECT failed_statement, failed_line, last_sqlstate FROM confiture.migrations WHERE version = $1", &[&version])
                    .ok()
                    .flatten()
            } else {
                None
            };
            let a = Applied {
                version: version.clone(),
                name: r.get(1),
                state,
                duration_ms: r.get::<_, Option<f64>>(3).unwrap_or(0.0),
                statements: r.get(4),
                mode: "server",
                message,
                failed_statement: at.as_ref().and_then(|r| r.get(0)),
                failed_line: at.as_ref().and_then(|r| r.get(1)),
                sqlstate: at.as_ref().and_then(|r| r.get(2)),
                file: file_of(&version),
            };
            progress.finished(&a);
            done.push(a);
        }
        if done.last().is_some_and(|a| a.state == "failed") {
            return Ok(done);
        }
        let Some((version, name)) = client_run else {
            return Ok(done);
        };
        let a = client_side(c, progress_client.as_deref_mut(), &version, &name, progress)?;
        let failed = a.state == "failed";
        let a = Applied {
            file: file_of(&version),
            ..a
        };
        progress.finished(&a);
        done.push(a);
        if failed || target == Some(version.as_str()) {
            return Ok(done);
        }
    }
}

/// One client-run migration: its statements at top level, in autocommit.
fn client_side(
    c: &mut Client,
    progress_client: Option<&mut Client>,
    version: &str,
    name: &str,
    progress: &Progress,
) -> Result<Applied, CliError> {
    let started = Instant::now();
    let fail_start = |e: postgres::Error| {
        server_error(
            exit::FAILED,
            &format!("cannot start migration {version}"),
            &e,
        )
    };
    // INVALID indexes left by an interrupted earlier try go first
    let statements = c
        .query("SELECT statement, line, sql, transactional, invalid_index FROM confiture.migration_statements($1)", &[&version])
        .map_err(fail_start)?;
    for s in &statements {
        if let Some(index) = s.get::<_, Option<String>>(4) {
            progress.note(&format!(
                "dropping INVALID index {index} left by an interrupted run of {version}"
            ));
            c.batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))
                .map_err(|e| {
                    server_error(
                        exit::FAILED,
                        &format!("cannot drop INVALID index {index}"),
                        &e,
                    )
                })?;
        }
    }
    c.query_one("SELECT confiture.begin_client_run($1)", &[&version])
        .map_err(fail_start)?;
    let pid: i32 = c
        .query_one("SELECT pg_backend_pid()", &[])
        .map(|r| r.get(0))
        .unwrap_or(0);
    let outcome = (|| -> Result<(), (i32, postgres::Error)> {
        for phase in ["before_validation", "before_ddl"] {
            c.query_one(
                "SELECT confiture.run_client_hooks($1, $2)",
                &[&version, &phase],
            )
            .map_err(|e| (0, e))?;
        }
        let mut watcher = progress_client;
        for s in &statements {
            let n: i32 = s.get(0);
            let sql: String = s.get(2);
            progress.statement(version, name, n, statements.len(), &sql);
            progress
                .watched(watcher.as_deref_mut(), pid, &sql, || c.batch_execute(&sql))
                .map_err(|e| (n, e))?;
        }
        for phase in ["after_ddl", "after_validation", "cleanup"] {
            c.query_one(
                "SELECT confiture.run_client_hooks($1, $2)",
                &[&version, &phase],
            )
            .map_err(|e| (0, e))?;
        }
        Ok(())
    })();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(()) => {
            c.query_one(
                "SELECT confiture.end_client_run($1, duration => $2)",
                &[&version, &ms],
            )
            .map_err(|e| {
                server_error(
                    exit::FAILED,
                    &format!("cannot record migration {version}"),
                    &e,
                )
            })?;
            Ok(Applied {
                version: version.into(),
                name: name.into(),
                state: "applied".into(),
                duration_ms: ms,
                statements: Some(statements.len() as i32),
                mode: "client",
                message: None,
                failed_statement: None,
                failed_line: None,
                sqlstate: None,
                file: None,
            })
        }
        Err((n, e)) => {
            let (sqlstate, message, ..) = db_error(&e);
            let _ = c.query_one(
                "SELECT confiture.run_client_hooks($1, 'on_error', $2, $3)",
                &[&version, &sqlstate, &message],
            );
            let failed_statement = (n > 0).then_some(n);
            let line = statements
                .iter()
                .find(|s| s.get::<_, i32>(0) == n)
                .map(|s| s.get::<_, i32>(1));
            let mut note = message.clone();
            // a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind
            if let Ok(rows) = c.query("SELECT invalid_index FROM confiture.migration_statements($1) WHERE invalid_index IS NOT NULL", &[&version]) {
                for r in rows {
                    let idx: String = r.get(0);
                    note.push_str(&format!("; INVALID index {idx} remains (the next run drops it before retrying)"));
                }
            }
            c.query_one(
                "SELECT confiture.end_client_run($1, $2, $3, $4, $5)",
                &[
                    &version,
                    &failed_statement.or(Some(0)),
                    &sqlstate,
                    &message,
                    &ms,
                ],
            )
            .map_err(|e| {
                server_error(
                    exit::FAILED,
                    &format!("cannot record the failure of {version}"),
                    &e,
                )
            })?;
            Ok(Applied {
                version: version.into(),
                name: name.into(),
                state: "failed".into(),
                duration_ms: ms,
                statements: Some(statements.len() as i32),
                mode: "client",
                message: Some(note),
                failed_statement,
                failed_line: line,
                sqlstate: Some(sqlstate),
                file: None,
            })
        }
    }
}
