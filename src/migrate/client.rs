//! Migrations the confiture client applies outside a transaction block
//! (`CREATE INDEX CONCURRENTLY`, `VACUUM`, `-- confiture:no-transaction`):
//! the client runs each statement at top level, in autocommit; the ledger,
//! hooks, guard and history stay here.
//!
//! The run's lock is its ledger row: state `running` with the client's
//! backend pid, written under the ledger lock. Every ledger change first
//! settles it: a live run makes the others wait for nothing and fail with
//! 55P03 naming the session; a run whose session is gone (the client was
//! killed) becomes `failed`, and the next run drops the INVALID index a
//! killed `CREATE INDEX CONCURRENTLY` left behind before retrying.

use super::ledger::{self, FailedAt};
use super::{context, lock, prepare, refuse_nested, runner, Direction};
use crate::error::{require, Error, Kind, Result};
use crate::hooks::registry::HookSet;
use crate::hooks::run::{self as hook_run, MigrationHooks};
use crate::privilege::require_admin;
use crate::security;
use crate::subxact::Failure;
use confiture_core::ddl::transaction::restriction_of;
use confiture_core::ddl::StatementKind;
use confiture_core::hooks::Phase;
use confiture_core::plan::{self, State};
use confiture_core::source;
use pgrx::prelude::*;
use std::time::Duration;

/// A client run in progress: (version, pid), if any.
fn running() -> Result<Option<(String, i32, bool)>> {
    let row = ledger::first_value::<pgrx::JsonB>(
        "SELECT pg_catalog.jsonb_build_array(m.version, m.running_pid,
                    EXISTS (SELECT FROM pg_catalog.pg_stat_activity a WHERE a.pid = m.running_pid))
           FROM confiture.migrations m WHERE m.state = 'running' LIMIT 1",
        &[],
    )?;
    Ok(row.and_then(|j| {
        let a = j.0.as_array()?.clone();
        Some((
            a.first()?.as_str()?.to_owned(),
            a.get(1)?.as_i64()? as i32,
            a.get(2)?.as_bool()?,
        ))
    }))
}

/// Called under the ledger lock before any ledger change: a live client run
/// elsewhere is an error (55P03); one whose session died is recorded as
/// failed, so the next run retries it.
pub fn settle_interrupted() -> Result<()> {
    let Some((version, pid, alive)) = running()? else {
        return Ok(());
    };
    let own = pid == unsafe { pg_sys::MyProcPid };
    if alive && !own {
        return Err(Error::new(Kind::LockNotAvailable, format!("migration {version} is being applied by session {pid}"))
            .detail("The confiture client runs it outside a transaction, statement by statement; the ledger is locked until it ends.")
            .hint("Wait for that run to finish (see pg_stat_activity), then try again.")
            .into());
    }
    if !alive {
        ledger::record_failed(
            &version,
            Duration::ZERO,
            "08006",
            &format!("interrupted: the client applying it (session {pid}) disconnected"),
            FailedAt::default(),
        )?;
        pgrx::warning!("migration {version} was interrupted (its client, session {pid}, disconnected); it is marked failed and will be retried");
    }
    Ok(())
}

/// The statements of a migration as the server splits them, for the client
/// to run one at a time: where each starts, whether it may run inside a
/// transaction, and for a `CREATE INDEX CONCURRENTLY` whose index exists
/// but is INVALID (a killed earlier try), that index, to drop first.
#[pg_extern]
fn migration_statements(
    version: Option<String>,
) -> Result<
    TableIterator<
        'static,
        (
            name!(statement, i32),
            name!(line, i32),
            name!(sql, String),
            name!(transactional, bool),
            name!(invalid_index, Option<String>),
        ),
    >,
> {
    let _entered = security::enter();
    const F: &str = "confiture.migration_statements";
    let version = require(version, F, "version")?;
    require_admin(F)?;
    let Some(m) = ledger::find(&version)? else {
        return Err(Error::new(
            Kind::UndefinedObject,
            format!("migration {version} is not registered"),
        )
        .detail(format!(
            "{F} was given a version that is not in confiture.migrations."
        ))
        .hint("SELECT version FROM confiture.status() lists the registered versions.")
        .into());
    };
    let script = parsed_up(&m)?;
    let mut rows = Vec::with_capacity(script.statements.len());
    let mut locator = source::Locator::new(&script.sql);
    for (i, stmt) in script.statements.iter().enumerate() {
        pgrx::check_for_interrupts!();
        let invalid = match &stmt.kind {
            StatementKind::CreateIndex(ci) if ci.concurrently => match &ci.name {
                Some(name) => invalid_index(name, &ci.table.to_string(), &m.search_path)?,
                None => None,
            },
            _ => None,
        };
        rows.push((
            i as i32 + 1,
            locator.line_col(stmt.span.start).0 as i32,
            stmt.span.text(&script.sql).to_owned(),
            restriction_of(stmt).is_none(),
            invalid,
        ));
    }
    Ok(TableIterator::new(rows))
}

/// A migration's up SQL, parsed; SQL that does not parse is an error here.
fn parsed_up(m: &ledger::Migration) -> Result<super::run::Script<'_>> {
    match prepare(&m.version, &m.up_sql, Direction::Up)? {
        Ok(s) => Ok(s),
        Err(e) => Err(Error::new(
            Kind::SyntaxError,
            format!("up SQL of migration {} does not parse", m.version),
        )
        .detail(super::syntax_message(&e))
        .hint("Register it again with SQL that parses.")
        .into()),
    }
}

/// The index `name` on `table` (resolved under the migration's
/// search_path), if it exists and is INVALID.
fn invalid_index(name: &str, table: &str, search_path: &str) -> Result<Option<String>> {
    let _path = security::GucScope::set(&[("search_path", search_path)]);
    // fully qualified: this runs under the migration's search_path
    ledger::first_value::<String>(
        "SELECT i.indexrelid::pg_catalog.regclass::pg_catalog.text
           FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid
          WHERE i.indrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($2)
            AND c.relname OPERATOR(pg_catalog.=) $1 AND NOT i.indisvalid",
        &[name.into(), table.into()],
    )
}

/// Start applying `version` from the client: it must be the next migration
/// to apply and hold statements that cannot run in a transaction. Marks it
/// `running` for this session; DDL from now on belongs to it (guard,
/// history) until `end_client_run`. Returns the number of statements.
#[pg_extern]
fn begin_client_run(version: Option<String>) -> Result<i32> {
    let _entered = security::enter();
    const F: &str = "confiture.begin_client_run";
    let version = require(version, F, "version")?;
    require_admin(F)?;
    refuse_nested(F)?;
    lock::acquire(F)?;
    settle_interrupted()?;
    let all = ledger::load()?;
    let entries: Vec<_> = all.iter().map(ledger::Migration::entry).collect();
    let next = plan::to_apply(&entries, None).map_err(|e| super::plan_error(e, F))?;
    let Some(&first) = next.first() else {
        return Err(Error::new(
            Kind::WrongState,
            format!("migration {version} is not pending"),
        )
        .detail("Every registered migration is applied.")
        .hint("SELECT * FROM confiture.status() shows the ledger.")
        .into());
    };
    let m = &all[first];
    if m.version != version {
        return Err(Error::new(
            Kind::WrongState,
            format!("migration {version} is not the next one to apply"),
        )
        .detail(format!("Migration {} comes first.", m.version))
        .hint("Apply the migrations in order: confiture migrate up does.")
        .into());
    }
    let script = parsed_up(m)?;
    if script.transactional {
        return Err(Error::new(Kind::WrongState, format!("migration {version} runs in a transaction"))
            .detail("Only migrations with statements that cannot run in a transaction block are applied by the client.")
            .hint("Apply it with SELECT * FROM confiture.migrate().")
            .into());
    }
    // The client's statements run as the connected role: it must be the
    // role the migration runs as (or have its privileges), unless trusted.
    let runner = runner(m);
    if let Some(role) = runner.role {
        security::require_privs_of(
            security::current_role(),
            role,
            &format!("migration {version}"),
        )?;
    }
    security::as_owner(|| {
        Spi::run_with_args(
            "UPDATE confiture.migrations
                SET state = 'running', running_pid = pg_catalog.pg_backend_pid(),
                    running_since = pg_catalog.clock_timestamp()
              WHERE version = $1",
            &[version.clone().into()],
        )
        .map_err(|e| Error::from(e).into())
    })?;
    ledger::log(
        &version,
        "start",
        None,
        None,
        Some("applied by the confiture client, outside a transaction"),
    )?;
    context::begin_client_run(&version);
    Ok(script.statements.len() as i32)
}

fn require_own_run(version: &str, function: &str) -> Result<ledger::Migration> {
    let m = ledger::find(version)?;
    let own = ledger::first_value::<bool>(
        "SELECT running_pid = pg_catalog.pg_backend_pid() FROM confiture.migrations WHERE version = $1 AND state = 'running'",
        &[version.into()],
    )?;
    match (m, own) {
        (Some(m), Some(true)) => Ok(m),
        _ => Err(Error::new(Kind::WrongState, format!("migration {version} is not being applied by this session"))
            .detail(format!("{function} continues a run started with confiture.begin_client_run in the same session."))
            .hint("Start it with SELECT confiture.begin_client_run(version).")
            .into()),
    }
}

/// Run the hooks of one phase of a client run, in the caller's transaction
/// (the client gives each phase its own). `on_error` takes the failure.
#[pg_extern]
fn run_client_hooks(
    version: Option<String>,
    phase: Option<String>,
    sqlstate: default!(Option<String>, "NULL"),
    message: default!(Option<String>, "NULL"),
) -> Result<i32> {
    let _entered = security::enter();
    const F: &str = "confiture.run_client_hooks";
    let version = require(version, F, "version")?;
    let phase_text = require(phase, F, "phase")?;
    require_admin(F)?;
    let Some(phase) = Phase::parse(&phase_text) else {
        return Err(Error::new(
            Kind::InvalidArgument,
            format!("unknown hook phase {phase_text:?}"),
        )
        .detail(format!("Phases are, in order: {}.", Phase::names()))
        .hint("Pick one of those phases.")
        .into());
    };
    let m = require_own_run(&version, F)?;
    let set = HookSet::load()?;
    let info = super::run_info(false)?;
    let mut hooks = MigrationHooks::new(
        set.for_migration(&m.version, &m.name),
        &m.version,
        &m.name,
        &info,
    );
    if phase == Phase::OnError {
        let code = sqlstate
            .as_deref()
            .map(crate::subxact::sqlstate_code)
            .unwrap_or(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR);
        hooks.run_on_error(&Failure::detected(code, message.unwrap_or_default()));
    } else {
        hooks.run_phase(phase);
    }
    hook_run::record(&hooks.runs)?;
    Ok(hooks.runs.len() as i32)
}

/// End a client run: applied (snapshot, pgGit) or failed at a statement,
/// with the server's SQLSTATE and message. The session's DDL no longer
/// belongs to the migration.
#[pg_extern]
fn end_client_run(
    version: Option<String>,
    failed_statement: default!(Option<i32>, "NULL"),
    sqlstate: default!(Option<String>, "NULL"),
    message: default!(Option<String>, "NULL"),
    duration: default!(Option<f64>, "NULL"),
) -> Result<String> {
    let _entered = security::enter();
    const F: &str = "confiture.end_client_run";
    let version = require(version, F, "version")?;
    require_admin(F)?;
    lock::acquire(F)?;
    let m = require_own_run(&version, F)?;
    let took = Duration::from_secs_f64(duration.unwrap_or(0.0).max(0.0) / 1000.0);
    context::end_client_run();
    let state = match (failed_statement, sqlstate) {
        (None, None) => {
            let n = super::prepare(&m.version, &m.up_sql, Direction::Up)?
                .map(|s| s.statements.len() as i32)
                .unwrap_or(0);
            ledger::record_applied(&version, took, n)?;
            crate::history::after_client_run_applied(&version, took)?;
            State::Applied
        }
        (statement, code) => {
            let line = match (
                statement,
                super::prepare(&m.version, &m.up_sql, Direction::Up)?,
            ) {
                (Some(i), Ok(script)) if i >= 1 => script.failed_at(i as usize - 1).line,
                _ => None,
            };
            ledger::record_failed(
                &version,
                took,
                code.as_deref().unwrap_or("XX000"),
                message.as_deref().unwrap_or("failed"),
                FailedAt { statement, line },
            )?;
            State::Failed
        }
    };
    security::as_owner(|| {
        Spi::run_with_args(
            "UPDATE confiture.migrations SET running_pid = NULL, running_since = NULL WHERE version = $1",
            &[version.clone().into()],
        )
        .map_err(|e| Error::from(e).into())
    })?;
    Ok(state.as_str().to_owned())
}
