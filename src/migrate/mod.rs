//! Versioned migrations: `confiture.register`, `migrate`, `rollback`,
//! `rollback_to` and `baseline`. The ledger's SQL lives in `ledger.rs`,
//! the decisions (what to apply, what to undo) in `confiture_core::plan`.

pub mod client;
pub mod context;
pub mod ledger;
pub mod lock;
pub mod run;

use crate::ddl::parse::{self, SyntaxError};
use crate::error::{require, Error, Kind, Result};
use crate::hooks::registry::HookSet;
use crate::hooks::run::{self as hook_run, HookRun, MigrationHooks, RunInfo};
use crate::privilege::require_admin;
use crate::subxact::Failure;
use confiture_core::checksum::sha256_hex;
use confiture_core::ddl::transaction::{
    has_no_transaction_marker, restriction_of, NO_TRANSACTION_MARKER,
};
use confiture_core::plan::{self, PlanError, State};
use confiture_core::source;
use confiture_core::version;
use ledger::{FailedAt, Migration};
use pgrx::datum::Interval;
use pgrx::prelude::*;
use run::{Outcome, Script};
use std::time::Duration;

pgrx::extension_sql_file!("../../sql/00_ledger.sql", name = "ledger", bootstrap);
pgrx::extension_sql_file!(
    "../../sql/01_status.sql",
    name = "status",
    requires = ["ledger"]
);

/// One row of a `migrate` / `rollback` report.
pub struct Report {
    pub version: String,
    pub name: String,
    pub state: State,
    pub duration: Duration,
    pub statements: Option<i32>,
    pub hooks_duration: Duration,
    pub message: Option<String>,
}

type ReportRow = (
    name!(version, String),
    name!(name, String),
    name!(state, String),
    name!(duration, Interval),
    name!(statements, Option<i32>),
    name!(hooks_duration, Interval),
    name!(message, Option<String>),
);

fn interval(d: Duration) -> Interval {
    Interval::from_micros(d.as_micros().min(i64::MAX as u128) as i64)
}

fn rows(reports: Vec<Report>) -> TableIterator<'static, ReportRow> {
    TableIterator::new(reports.into_iter().map(|r| {
        (
            r.version,
            r.name,
            r.state.as_str().to_owned(),
            interval(r.duration),
            r.statements,
            interval(r.hooks_duration),
            r.message,
        )
    }))
}

/// Which half of a migration a script is.
#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Direction::Up => "up SQL",
            Direction::Down => "down SQL",
        }
    }
}

/// Parse a migration script and refuse statements that cannot run inside
/// a transaction block. A syntax error is returned, not raised: the caller
/// decides whether it is fatal.
fn prepare<'a>(
    version: &'a str,
    sql: &'a str,
    direction: Direction,
) -> Result<std::result::Result<Script<'a>, SyntaxError>> {
    // a psql script runs without its meta-commands (and without a
    // BEGIN/COMMIT around everything: the migration is one transaction)
    let psql = parse::psql_script(sql);
    if let Some(v) = psql.unresolved.first() {
        let (line, column) = source::line_col(sql, v.offset);
        let names: Vec<&str> = psql.unresolved.iter().map(|v| v.name.as_str()).collect();
        return Err(Error::new(Kind::InvalidArgument, format!("the {} of migration {version} uses psql variables", direction.label()))
            .detail(format!("{} (first at line {line}, column {column}); nothing sets them when confiture runs it.", names.join(", ")))
            .hint("Replace them with their values (confiture lint -v name=value shows the result), or \\set them in the script.")
            .into());
    }
    let dropped_wrapper = psql.dropped_wrapper;
    let sql: std::borrow::Cow<'a, str> = if psql.text == sql {
        std::borrow::Cow::Borrowed(sql)
    } else {
        std::borrow::Cow::Owned(psql.text)
    };
    let statements = match parse::parse(&sql) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    // Statements the client can run outside a transaction make the whole
    // migration a client-run one; what no migration may hold is refused.
    let mut client_reason =
        has_no_transaction_marker(&sql).then(|| format!("it starts with {NO_TRANSACTION_MARKER}"));
    for (i, stmt) in statements.iter().enumerate() {
        if let Some(r) = restriction_of(stmt) {
            let (line, _) = source::line_col(&sql, stmt.span.start);
            let detail = format!(
                "Statement {} of its {} (line {line}): {}",
                i + 1,
                direction.label(),
                excerpt(stmt.span.text(&sql))
            );
            if r.client_runs && matches!(direction, Direction::Up) {
                client_reason.get_or_insert(format!(
                    "{} (statement {}, line {line})",
                    r.reason,
                    i + 1
                ));
                continue;
            }
            let message = if r.client_runs {
                format!(
                    "the down SQL of migration {version} cannot run inside a transaction: {}",
                    r.reason
                )
            } else {
                format!(
                    "migration {version} cannot run inside a transaction: {}",
                    r.reason
                )
            };
            let hint = if r.client_runs {
                "Rollbacks run in one transaction: use the transactional form in down SQL (DROP INDEX without CONCURRENTLY).".to_owned()
            } else {
                r.hint
            };
            return Err(Error::new(Kind::NotInTransactionBlock, message)
                .detail(detail)
                .hint(hint)
                .into());
        }
    }
    let transactional = client_reason.is_none();
    let script = Script {
        version,
        sql,
        statements,
        runner: Default::default(),
        transactional,
        client_reason,
        dropped_wrapper,
    };
    Ok(Ok(script))
}

/// The first line of a statement, shortened for messages.
pub fn excerpt(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    if first.chars().count() > 80 || text.lines().count() > 1 {
        let short: String = first.chars().take(77).collect();
        format!("{short}...")
    } else {
        first.to_owned()
    }
}

pub fn syntax_message(e: &SyntaxError) -> String {
    match e.location().as_str() {
        "" => e.message.clone(),
        loc => format!("{} at {loc}", e.message),
    }
}

fn plan_error(e: PlanError, function: &str) -> Error {
    match e {
        PlanError::UnknownVersion(v) => {
            Error::new(Kind::UndefinedObject, format!("migration {v} is not registered"))
                .detail(format!("{function} was given version {v:?}, which is not in confiture.migrations."))
                .hint("SELECT version FROM confiture.status() lists the registered versions.")
        }
        PlanError::BadSteps(n) => Error::new(Kind::InvalidArgument, format!("steps must be at least 1, not {n}"))
            .detail(format!("{function} was called with steps => {n}."))
            .hint("Pass the number of migrations to undo, e.g. 1."),
        PlanError::TooManySteps { steps, in_effect } => Error::new(
            Kind::InvalidArgument,
            format!("cannot roll back {steps} migrations: only {in_effect} are applied"),
        )
        .detail("Rolling back past the first migration is not possible; nothing was changed.")
        .hint(format!("Pass steps => {in_effect} or fewer.")),
        PlanError::NotInEffect { version, state } => Error::new(
            Kind::WrongState,
            format!("migration {version} is {state}, not applied"),
        )
        .detail(format!("{function} can only roll back to a migration that is applied or baselined."))
        .hint("Pick an applied version from confiture.status()."),
        PlanError::MissingDown(versions) => Error::new(
            Kind::WrongState,
            format!(
                "cannot roll back: {} {} no down SQL",
                versions.join(", "),
                if versions.len() == 1 { "has" } else { "have" }
            ),
        )
        .detail("Nothing was changed: a rollback runs only when every migration it must undo has down SQL.")
        .hint("Register the missing down SQL with confiture.register(version, name, up_sql, down_sql)."),
    }
}

pub fn refuse_nested(function: &str) -> Result<()> {
    if let Some(current) = context::current() {
        return Err(Error::new(
            Kind::WrongState,
            format!("{function} cannot run inside a migration"),
        )
        .detail(format!(
            "It was called while migration {} was running.",
            current.version
        ))
        .hint("Call it at top level, not from a migration or a hook.")
        .into());
    }
    Ok(())
}

/// Register a migration (pending until `migrate` applies it).
///
/// Registering the same version again with the same SQL does nothing, so a
/// deploy can register every file every time. New up SQL is accepted only
/// while the migration is pending or failed; name and down SQL may change.
/// Returns what happened: `registered`, `unchanged`, `replaced` (new up
/// SQL) or `updated` (new name or down SQL).
#[pg_extern]
fn register(
    version: Option<String>,
    name: Option<String>,
    up_sql: Option<String>,
    down_sql: default!(Option<String>, "NULL"),
    allow_syntax_errors: default!(Option<bool>, "false"),
) -> Result<&'static str> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.register";
    let version = require(version, F, "version")?;
    let name = require(name, F, "name")?;
    let up_sql = require(up_sql, F, "up_sql")?;
    let lenient = require(allow_syntax_errors, F, "allow_syntax_errors")?;
    require_admin(F)?;
    refuse_nested(F)?;
    if let Err(why) = version::validate(&version) {
        return Err(Error::new(
            Kind::InvalidArgument,
            format!("invalid migration version {version:?}"),
        )
        .detail(format!("{}.", capitalize(&why)))
        .hint("Use a version such as 42, 0042 or 2024-05-01-120000_add_orders.")
        .into());
    }
    if name.trim().is_empty() {
        return Err(Error::new(
            Kind::InvalidArgument,
            format!("migration {version} has an empty name"),
        )
        .detail("The name is shown by confiture.status() and in the DDL history.")
        .hint("Pass a short description such as 'add orders table'.")
        .into());
    }
    let statements = check_script(&version, &up_sql, Direction::Up, lenient)?;
    if let Some(down) = &down_sql {
        check_script(&version, down, Direction::Down, lenient)?;
    }
    lock::acquire(F)?;
    client::settle_interrupted()?;

    let sort_key = version::sort_key(&version);
    if let Some(other) = ledger::version_with_sort_key(&sort_key, &version)? {
        return Err(Error::new(
            Kind::DuplicateObject,
            format!("migration version {version} collides with registered version {other}"),
        )
        .detail("Versions are ordered by their numbers; these two have the same position.")
        .hint("Choose a version that sorts before or after the existing one.")
        .into());
    }
    let checksum = sha256_hex(&up_sql);
    let Some(existing) = ledger::find(&version)? else {
        ledger::insert(
            &version,
            &sort_key,
            &name,
            &up_sql,
            down_sql.as_deref(),
            &checksum,
            statements,
        )?;
        return Ok("registered");
    };
    if existing.checksum != checksum {
        if existing.state.is_in_effect() {
            return Err(Error::new(
                Kind::WrongState,
                format!("migration {version} is {} and its up SQL cannot change", existing.state),
            )
            .detail(format!(
                "Registered checksum {}, new checksum {}.",
                &existing.checksum[..12],
                &checksum[..12]
            ))
            .hint("Add a new migration for the change, or roll this one back first with confiture.rollback_to.")
            .into());
        }
        ledger::replace(
            &version,
            &name,
            &up_sql,
            down_sql.as_deref(),
            &checksum,
            statements,
        )?;
        return Ok("replaced");
    }
    if existing.name != name || existing.down_sql != down_sql {
        ledger::update_metadata(&version, &name, down_sql.as_deref())?;
        return Ok("updated");
    }
    Ok("unchanged")
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Validate one script at registration: refuse empty SQL, statements that
/// cannot run in a transaction, and SQL this server cannot parse, unless
/// `lenient` (SQL written for a newer PostgreSQL): then a WARNING, and the
/// migration fails when applied until it is replaced.
/// Returns the number of statements when it parses.
fn check_script(
    version: &str,
    sql: &str,
    direction: Direction,
    lenient: bool,
) -> Result<Option<i32>> {
    if sql.trim().is_empty() {
        return Err(empty_script(version, direction));
    }
    match prepare(version, sql, direction)? {
        Ok(script) if script.statements.is_empty() => Err(empty_script(version, direction)),
        Ok(script) => {
            if script.dropped_wrapper {
                pgrx::notice!("the BEGIN/COMMIT around the {} of migration {version} is dropped: each migration already runs in one transaction", direction.label());
            }
            if let Some(why) = &script.client_reason {
                pgrx::notice!("migration {version} will be applied by the confiture client, one statement at a time outside a transaction: {why}");
            }
            Ok(Some(script.statements.len() as i32))
        }
        Err(e) if lenient => {
            Error::new(Kind::SyntaxError, format!("{} of migration {version} does not parse", direction.label()))
                .detail(syntax_message(&e))
                .hint("It is registered, but applying it will fail until it is registered again with SQL that parses.")
                .warn();
            Ok(None)
        }
        Err(e) => Err(Error::new(Kind::SyntaxError, format!("{} of migration {version} does not parse", direction.label()))
            .detail(syntax_message(&e))
            .hint("Fix the SQL; if it is written for a newer PostgreSQL, register it with allow_syntax_errors => true.")
            .into()),
    }
}

fn empty_script(version: &str, direction: Direction) -> crate::error::ErrorReport {
    let hint = match direction {
        Direction::Up => "Pass the SQL the migration runs.",
        Direction::Down => "Pass NULL when the migration cannot be rolled back.",
    };
    Error::new(
        Kind::InvalidArgument,
        format!(
            "{} of migration {version} has no statements",
            direction.label()
        ),
    )
    .detail("It is empty or only comments.")
    .hint(hint)
    .into()
}

/// Apply pending (and previously failed) migrations in version order, up to
/// and including `target`. Each migration runs in its own subtransaction:
/// a failure undoes that migration only, records it as failed, and stops
/// the run. With `atomic => true` a failure raises the error instead, so
/// the whole run is undone.
#[pg_extern]
fn migrate(
    target: default!(Option<String>, "NULL"),
    atomic: default!(Option<bool>, "false"),
    dry_run: default!(Option<bool>, "false"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(version, String),
            name!(name, String),
            name!(state, String),
            name!(duration, Interval),
            name!(statements, Option<i32>),
            name!(hooks_duration, Interval),
            name!(message, Option<String>),
        ),
    >,
> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.migrate";
    let atomic = require(atomic, F, "atomic")?;
    let dry_run = require(dry_run, F, "dry_run")?;
    require_admin(F)?;
    refuse_nested(F)?;
    lock::acquire(F)?;
    client::settle_interrupted()?;
    if !dry_run {
        crate::history::check_drift_before_migrate()?;
    }
    if dry_run {
        let dry =
            crate::dryrun::run_plan(F, target.as_deref(), &crate::dryrun::Options::default())?;
        return Ok(rows(dry.summaries()));
    }
    let ledger = ledger::load()?;
    let (scripts, unparsable) = scripts_to_apply(&ledger, target.as_deref(), F)?;
    let hook_set = HookSet::load()?;
    let info = run_info(false)?;
    let mut hook_runs: Vec<HookRun> = Vec::new();
    let mut reports = Vec::with_capacity(scripts.len() + 1);
    let total = scripts.len();
    let progress = |n: usize, m: &Migration, state: &str, d: Duration| {
        if crate::guc::PROGRESS.get() {
            pgrx::notice!(
                "confiture progress: {n}/{total} {} {state} {}",
                m.version,
                d.as_millis()
            );
        }
    };
    for (n, (m, script)) in scripts.iter().enumerate() {
        let mut hooks = MigrationHooks::new(
            hook_set.for_migration(&m.version, &m.name),
            &m.version,
            &m.name,
            &info,
        );
        let outcome = script.run_atomically(&mut hooks, None);
        match &outcome {
            Outcome::Done { duration } => progress(n + 1, m, "applied", *duration),
            Outcome::Failed { duration, .. } => progress(n + 1, m, "failed", *duration),
        }
        let hooks_duration = hooks.total;
        hook_runs.append(&mut hooks.runs);
        match outcome {
            Outcome::Done { duration } => {
                let n = script.statements.len() as i32;
                ledger::record_applied(&m.version, duration, n)?;
                crate::history::after_migration_applied(&m.version, duration)?;
                let mut r = report(m, State::Applied, duration, Some(n), None);
                r.hooks_duration = hooks_duration;
                reports.push(r);
            }
            Outcome::Failed {
                duration,
                failure,
                at,
                hook,
            } => {
                let where_ = match &hook {
                    Some((name, phase)) => format!("hook {name} (phase {phase})"),
                    None => {
                        let text = script
                            .texts()
                            .nth(at.statement.unwrap_or(1) as usize - 1)
                            .unwrap_or("");
                        format!(
                            "statement {} (line {}): {}",
                            at.statement.unwrap_or(0),
                            at.line.unwrap_or(0),
                            excerpt(text)
                        )
                    }
                };
                if atomic {
                    return Err(migration_failed(
                        m,
                        &failure.code(),
                        &failure.message,
                        &where_,
                        &reports,
                        true,
                    )
                    .into_report(failure.sqlstate));
                }
                ledger::record_failure(&m.version, duration, &failure, at)?;
                crate::history::after_migration_failed(&m.version)?;
                hook_run::record(&hook_runs)?;
                migration_failed(
                    m,
                    &failure.code(),
                    &failure.message,
                    &where_,
                    &reports,
                    false,
                )
                .warn();
                let mut r = report(
                    m,
                    State::Failed,
                    duration,
                    Some(script.statements.len() as i32),
                    Some(failure.message),
                );
                r.hooks_duration = hooks_duration;
                reports.push(r);
                return Ok(rows(reports));
            }
        }
    }
    if let Some((m, Stop::NeedsClient(why))) = &unparsable {
        let message = format!("applied by the confiture client (confiture migrate up): {why}");
        pgrx::notice!(
            "migration {} must be applied outside a transaction; the run stops before it",
            m.version
        );
        reports.push(report(
            m,
            State::Pending,
            Duration::ZERO,
            None,
            Some(message),
        ));
        hook_run::record(&hook_runs)?;
        return Ok(rows(reports));
    }
    if let Some((m, Stop::Syntax(e))) = unparsable {
        let message = syntax_message(&e);
        if atomic {
            return Err(migration_failed(
                m,
                &e.sqlstate,
                &message,
                "its up SQL does not parse",
                &reports,
                true,
            )
            .into_report(PgSqlErrorCode::ERRCODE_SYNTAX_ERROR));
        }
        let at = FailedAt {
            statement: None,
            line: e.line.map(|l| l as i32),
        };
        // nothing ran, but the migration failed: its on_error hooks still run
        let mut hooks = MigrationHooks::new(
            hook_set.for_migration(&m.version, &m.name),
            &m.version,
            &m.name,
            &info,
        );
        hooks.run_on_error(&Failure::detected(
            PgSqlErrorCode::ERRCODE_SYNTAX_ERROR,
            message.clone(),
        ));
        hook_runs.append(&mut hooks.runs);
        ledger::record_failed(&m.version, Duration::ZERO, &e.sqlstate, &message, at)?;
        crate::history::after_migration_failed(&m.version)?;
        migration_failed(
            m,
            &e.sqlstate,
            &message,
            "its up SQL does not parse",
            &reports,
            false,
        )
        .warn();
        reports.push(report(
            m,
            State::Failed,
            Duration::ZERO,
            None,
            Some(message),
        ));
    }
    hook_run::record(&hook_runs)?;
    Ok(rows(reports))
}

/// The migrations `migrate` would apply, parsed: every statement that
/// cannot run in a transaction refuses the whole run before anything
/// changes; a script that does not parse ends the list (returned apart,
/// since the run stops there).
pub type Scripts<'a> = (
    Vec<(&'a Migration, Script<'a>)>,
    Option<(&'a Migration, Stop)>,
);

/// Why a run stops before a migration.
pub enum Stop {
    /// Its up SQL does not parse.
    Syntax(SyntaxError),
    /// It must run outside a transaction: the client applies it (why).
    NeedsClient(String),
}

pub fn scripts_to_apply<'a>(
    ledger: &'a [Migration],
    target: Option<&str>,
    function: &str,
) -> Result<Scripts<'a>> {
    let entries: Vec<_> = ledger.iter().map(Migration::entry).collect();
    let planned = plan::to_apply(&entries, target).map_err(|e| plan_error(e, function))?;
    let late = plan::out_of_order(&entries, &planned);
    if !late.is_empty() {
        pgrx::notice!(
            "applying {} migration(s) registered out of order (older than an applied one): {}",
            late.len(),
            late.join(", ")
        );
    }
    let mut scripts = Vec::with_capacity(planned.len());
    for &i in &planned {
        let m = &ledger[i];
        match prepare(&m.version, &m.up_sql, Direction::Up)? {
            Ok(script) if !script.transactional => {
                let why = script.client_reason.unwrap_or_default();
                return Ok((scripts, Some((m, Stop::NeedsClient(why)))));
            }
            Ok(script) => scripts.push((
                m,
                Script {
                    runner: runner(m),
                    ..script
                },
            )),
            Err(e) => return Ok((scripts, Some((m, Stop::Syntax(e))))),
        }
    }
    Ok((scripts, None))
}

/// A migration runs as the role that registered its SQL, under the
/// search_path it was registered with, unless a superuser trusted it.
pub fn runner(m: &Migration) -> crate::security::Runner {
    crate::security::Runner {
        role: (!m.trusted).then_some(m.run_as),
        search_path: (!m.trusted).then(|| m.search_path.clone()),
        what: format!("migration {}", m.version),
    }
}

/// Identity of one `migrate` call, shared by its hooks.
pub fn run_info(dry_run: bool) -> Result<RunInfo> {
    let (run_id, user) =
        Spi::get_two::<String, String>("SELECT gen_random_uuid()::text, current_user::text")
            .map_err(Error::from)?;
    Ok(RunInfo {
        run_id: run_id.unwrap_or_default(),
        user: user.unwrap_or_default(),
        dry_run,
    })
}

pub fn report(
    m: &Migration,
    state: State,
    duration: Duration,
    statements: Option<i32>,
    message: Option<String>,
) -> Report {
    Report {
        version: m.version.clone(),
        name: m.name.clone(),
        state,
        duration,
        statements,
        hooks_duration: Duration::ZERO,
        message,
    }
}

fn migration_failed(
    m: &Migration,
    sqlstate: &str,
    message: &str,
    where_: &str,
    done: &[Report],
    atomic: bool,
) -> Error {
    let kept = if atomic {
        "The whole run was rolled back (atomic => true).".to_owned()
    } else {
        format!(
            "Nothing of it remains; the {} migration(s) before it in this run stay applied.",
            done.len()
        )
    };
    Error::new(Kind::Internal, format!("migration {} failed: {message}", m.version))
        .detail(format!("SQLSTATE {sqlstate} in {where_}. {kept}"))
        .hint("Fix it and register it again (a failed migration can be replaced), then run confiture.migrate() again.")
}

/// Undo the last `steps` applied migrations by running their down SQL,
/// newest first. All or nothing: any failure raises and undoes the call.
#[pg_extern]
fn rollback(
    steps: default!(Option<i32>, "1"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(version, String),
            name!(name, String),
            name!(state, String),
            name!(duration, Interval),
            name!(statements, Option<i32>),
            name!(hooks_duration, Interval),
            name!(message, Option<String>),
        ),
    >,
> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.rollback";
    let steps = require(steps, F, "steps")?;
    undo(F, |entries| plan::rollback_steps(entries, steps as i64))
}

/// Undo every applied migration after `version`, newest first.
#[pg_extern]
fn rollback_to(
    version: Option<String>,
) -> Result<
    TableIterator<
        'static,
        (
            name!(version, String),
            name!(name, String),
            name!(state, String),
            name!(duration, Interval),
            name!(statements, Option<i32>),
            name!(hooks_duration, Interval),
            name!(message, Option<String>),
        ),
    >,
> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.rollback_to";
    let version = require(version, F, "version")?;
    undo(F, |entries| plan::rollback_to(entries, &version))
}

fn undo(
    function: &str,
    choose: impl FnOnce(&[plan::Entry]) -> std::result::Result<Vec<usize>, PlanError>,
) -> Result<TableIterator<'static, ReportRow>> {
    require_admin(function)?;
    refuse_nested(function)?;
    lock::acquire(function)?;
    let ledger = ledger::load()?;
    let entries: Vec<_> = ledger.iter().map(Migration::entry).collect();
    let chosen = choose(&entries).map_err(|e| plan_error(e, function))?;

    // Every down script must parse before the first one runs.
    let mut scripts = Vec::with_capacity(chosen.len());
    for &i in &chosen {
        let m = &ledger[i];
        let down = m.down_sql.as_deref().unwrap_or_default();
        match prepare(&m.version, down, Direction::Down)? {
            Ok(script) => scripts.push((
                m,
                Script {
                    runner: runner(m),
                    ..script
                },
            )),
            Err(e) => {
                return Err(Error::new(
                    Kind::SyntaxError,
                    format!("down SQL of migration {} does not parse", m.version),
                )
                .detail(format!("{}. Nothing was rolled back.", syntax_message(&e)))
                .hint("Register the migration again with down SQL that parses.")
                .into())
            }
        }
    }
    let info = run_info(false)?;
    let mut reports = Vec::with_capacity(scripts.len());
    for (m, script) in &scripts {
        // hooks belong to applying a migration, not to undoing it
        let mut no_hooks = MigrationHooks::new(Vec::new(), &m.version, &m.name, &info);
        match script.run_atomically(&mut no_hooks, None) {
            Outcome::Done { duration } => {
                ledger::record_rolled_back(&m.version, duration)?;
                crate::history::after_migration_rolled_back(&m.version, duration)?;
                let n = script.statements.len() as i32;
                reports.push(report(
                    m,
                    State::Pending,
                    duration,
                    Some(n),
                    Some("rolled back".into()),
                ));
            }
            Outcome::Failed { failure, at, .. } => {
                let text = script
                    .texts()
                    .nth(at.statement.unwrap_or(1) as usize - 1)
                    .unwrap_or("");
                return Err(Error::new(
                    Kind::Internal,
                    format!("rolling back migration {} failed: {}", m.version, failure.message),
                )
                .detail(format!(
                    "SQLSTATE {} in statement {} (line {}) of its down SQL: {}. Nothing was rolled back.",
                    failure.code(),
                    at.statement.unwrap_or(0),
                    at.line.unwrap_or(0),
                    excerpt(text)
                ))
                .hint("Fix the down SQL with confiture.register and try again.")
                .into_report(failure.sqlstate));
            }
        }
    }
    Ok(rows(reports))
}

/// Mark every pending or failed migration up to and including
/// `through_version` as applied without running it: adopting a database
/// whose schema already has them. Returns how many were marked.
#[pg_extern]
fn baseline(through_version: Option<String>) -> Result<i32> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.baseline";
    let through = require(through_version, F, "through_version")?;
    require_admin(F)?;
    refuse_nested(F)?;
    lock::acquire(F)?;
    let ledger = ledger::load()?;
    let entries: Vec<_> = ledger.iter().map(Migration::entry).collect();
    let chosen = plan::to_baseline(&entries, &through).map_err(|e| plan_error(e, F))?;
    for &i in &chosen {
        ledger::record_baselined(&ledger[i].version)?;
    }
    Ok(chosen.len() as i32)
}

/// Let a migration run with the privileges of whoever calls `migrate`
/// (`trusted => true`) instead of those of the role that registered it.
/// Superusers only: it decides what may run as a superuser.
#[pg_extern]
fn trust_migration(
    version: Option<String>,
    trusted: default!(Option<bool>, "true"),
) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.trust_migration";
    let version = require(version, F, "version")?;
    let trusted = require(trusted, F, "trusted")?;
    if !crate::security::is_superuser(crate::security::current_role()) {
        return Err(Error::new(Kind::InsufficientPrivilege, format!("permission denied for {F}"))
            .detail("Trusting a migration lets it run with the privileges of whoever applies it, superusers included.")
            .hint("Ask a superuser to review the migration and trust it.")
            .into());
    }
    refuse_nested(F)?;
    lock::acquire(F)?;
    if ledger::find(&version)?.is_none() {
        return Err(plan_error(PlanError::UnknownVersion(version), F).into());
    }
    ledger::record_trusted(&version, trusted)?;
    Ok(trusted)
}

/// Record who approved applying a migration (the wizard calls it before
/// applying): the operating-system user the client runs as, the database
/// role (the caller), and an optional note. Kept in the ledger and its log.
#[pg_extern]
fn record_approval(
    version: Option<String>,
    os_user: Option<String>,
    note: default!(Option<String>, "NULL"),
) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.record_approval";
    let version = require(version, F, "version")?;
    let os_user = require(os_user, F, "os_user")?;
    require_admin(F)?;
    refuse_nested(F)?;
    lock::acquire(F)?;
    if ledger::find(&version)?.is_none() {
        return Err(plan_error(PlanError::UnknownVersion(version), F).into());
    }
    ledger::record_approval(&version, &os_user, note.as_deref())?;
    Ok(true)
}

/// The version of the migration this session is applying or rolling back
/// right now (for triggers and hooks), or NULL.
#[pg_extern(volatile, parallel_unsafe)]
pub fn current_migration() -> Option<String> {
    context::current_version()
}
