//! Migration hooks: `confiture.add_hook`, `drop_hook`, `hook_context()`;
//! the runner (`run.rs`) is called by `confiture.migrate` for each migration.

pub mod builtins;
pub mod registry;
pub mod run;

use crate::error::{fail, require, Error, Kind, Result};
use crate::privilege::require_admin;
use confiture_core::hooks::builtin::{self, Builtin};
use confiture_core::hooks::Phase;
use pgrx::datum::Interval;
use pgrx::prelude::*;
use pgrx::JsonB;

pgrx::extension_sql_file!(
    "../../sql/10_hooks.sql",
    name = "hooks",
    requires = ["ledger"]
);

/// What a new hook does.
enum NewAction {
    Sql(String),
    Builtin(Builtin),
    Function(pg_sys::Oid),
}

/// Everything `add_hook` takes besides the action.
struct Settings {
    phase: Option<String>,
    migration: Option<String>,
    name: Option<String>,
    run_order: Option<i32>,
    timeout: Option<Interval>,
    on_failure: Option<String>,
    options: Option<JsonB>,
    condition: Option<String>,
    survive: Option<bool>,
}

/// Register a hook whose action is SQL text or the name of a built-in
/// (`capture_row_counts`, `verify_row_counts`, `verify_no_violations`,
/// `backfill`, `refresh_materialized_view`, `analyze`, `reindex`).
/// Returns the hook's name.
#[allow(clippy::too_many_arguments)]
#[pg_extern]
fn add_hook(
    phase: Option<String>,
    action: Option<String>,
    migration: default!(Option<String>, "NULL"),
    name: default!(Option<String>, "NULL"),
    run_order: default!(Option<i32>, "0"),
    timeout: default!(Option<Interval>, "'5 minutes'"),
    on_failure: default!(Option<String>, "'abort'"),
    options: default!(Option<JsonB>, "'{}'"),
    condition: default!(Option<String>, "NULL"),
    survive: default!(Option<bool>, "false"),
) -> Result<String> {
    let _entered = crate::security::enter();
    let action = require(action, "confiture.add_hook", "action")?;
    let action = match Builtin::parse(action.trim()) {
        Some(b) => NewAction::Builtin(b),
        None => NewAction::Sql(action),
    };
    let settings = Settings {
        phase,
        migration,
        name,
        run_order,
        timeout,
        on_failure,
        options,
        condition,
        survive,
    };
    register(action, settings)
}

/// Register a hook whose action is a function taking the hook's `jsonb`
/// context, e.g. `'audit_migration(jsonb)'::regprocedure`.
#[allow(clippy::too_many_arguments)]
#[pg_extern(sql = r#"
CREATE FUNCTION confiture.add_hook(
    phase text, action regprocedure, migration text DEFAULT NULL, name text DEFAULT NULL,
    run_order integer DEFAULT 0, timeout interval DEFAULT '5 minutes', on_failure text DEFAULT 'abort',
    options jsonb DEFAULT '{}', condition text DEFAULT NULL, survive boolean DEFAULT false)
RETURNS text LANGUAGE c AS 'MODULE_PATHNAME', '@FUNCTION_NAME@';
"#)]
fn add_hook_function(
    phase: Option<String>,
    action: Option<pg_sys::Oid>,
    migration: default!(Option<String>, "NULL"),
    name: default!(Option<String>, "NULL"),
    run_order: default!(Option<i32>, "0"),
    timeout: default!(Option<Interval>, "'5 minutes'"),
    on_failure: default!(Option<String>, "'abort'"),
    options: default!(Option<JsonB>, "'{}'"),
    condition: default!(Option<String>, "NULL"),
    survive: default!(Option<bool>, "false"),
) -> Result<String> {
    let action = require(action, "confiture.add_hook", "action")?;
    let settings = Settings {
        phase,
        migration,
        name,
        run_order,
        timeout,
        on_failure,
        options,
        condition,
        survive,
    };
    register(NewAction::Function(action), settings)
}

fn register(action: NewAction, s: Settings) -> Result<String> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.add_hook";
    let phase_text = require(s.phase, F, "phase")?;
    let run_order = require(s.run_order, F, "run_order")?;
    let timeout = require(s.timeout, F, "timeout")?;
    let on_failure = require(s.on_failure, F, "on_failure")?;
    let options = require(s.options, F, "options")?.0;
    let survive = require(s.survive, F, "survive")?;
    require_admin(F)?;

    let Some(phase) = Phase::parse(phase_text.trim()) else {
        return fail(
            Error::new(
                Kind::InvalidArgument,
                format!("unknown hook phase {phase_text:?}"),
            )
            .detail(format!("Phases are, in order: {}.", Phase::names()))
            .hint("Pick one of those phases."),
        );
    };
    if !matches!(on_failure.as_str(), "abort" | "warn") {
        return fail(
            Error::new(
                Kind::InvalidArgument,
                format!("on_failure must be 'abort' or 'warn', not {on_failure:?}"),
            )
            .detail("'abort' fails the migration when the hook fails; 'warn' only emits a WARNING.")
            .hint("Pass on_failure => 'abort' or on_failure => 'warn'."),
        );
    }
    if survive && phase != Phase::OnError {
        return fail(
            Error::new(Kind::InvalidArgument, "only on_error hooks can survive")
                .detail(format!("The work of a {phase} hook is part of the migration and is rolled back with it."))
                .hint("Use phase => 'on_error' for work that must outlive a failed migration, such as an audit row."),
        );
    }
    let timeout_ms = (timeout.months() as i64 * 30 + timeout.days() as i64) * 86_400_000
        + timeout.micros() / 1000;
    if timeout_ms <= 0 {
        return fail(
            Error::new(Kind::InvalidArgument, "a hook's timeout must be positive")
                .detail(format!("timeout => {timeout_ms} ms"))
                .hint("Pass e.g. timeout => '30 seconds'."),
        );
    }
    if !options.is_object() {
        return fail(
            Error::new(Kind::InvalidArgument, "hook options must be a JSON object")
                .detail(format!("options => {options}"))
                .hint("Pass e.g. options => '{\"tables\": [\"orders\"]}'."),
        );
    }
    let (sql, function, builtin) = match &action {
        NewAction::Sql(sql) => {
            check_parses(sql, "the hook's SQL", true)?;
            (Some(sql.clone()), None, None)
        }
        NewAction::Builtin(b) => {
            if let Err(why) = builtin::validate(*b, &options) {
                return fail(
                    Error::new(
                        Kind::InvalidArgument,
                        format!("invalid options for built-in hook {}", b.as_str()),
                    )
                    .detail(format!("{why}."))
                    .hint(options_hint(*b)),
                );
            }
            (None, None, Some(b.as_str()))
        }
        NewAction::Function(oid) => {
            check_function(*oid)?;
            (None, Some(*oid), None)
        }
    };
    if let Some(cond) = &s.condition {
        let probe =
            format!("SELECT ({cond})::boolean FROM (SELECT NULL::jsonb AS context) AS hook");
        check_parses(&probe, "the condition", false)?;
    }
    let name = match s.name {
        Some(n) if n.trim().is_empty() => {
            return fail(
                Error::new(Kind::InvalidArgument, "a hook's name cannot be empty")
                    .detail("Names identify hooks in confiture.hook_runs and in drop_hook.")
                    .hint("Pass a name, or leave it NULL to have one generated."),
            )
        }
        Some(n) => n,
        None => generated_name(phase, &action)?,
    };
    let exists = crate::migrate::ledger::first_value::<bool>(
        "SELECT true FROM confiture.hooks WHERE name = $1",
        &[name.clone().into()],
    )?;
    if exists.is_some() {
        return fail(
            Error::new(Kind::DuplicateObject, format!("hook {name} already exists"))
                .detail("Hook names are unique.")
                .hint(format!(
                    "Drop it first with confiture.drop_hook('{name}'), or choose another name."
                )),
        );
    }
    // The hook runs as the role registering it, under its search_path; a
    // function is pinned to its definition and owner as they are now.
    let registrant = crate::security::current_role_name();
    let search_path = crate::security::caller_search_path().unwrap_or_default();
    crate::security::as_owner(|| {
        Spi::run_with_args(
        "INSERT INTO confiture.hooks (name, phase, migration, action_sql, action_function, builtin, options,
                                      run_order, timeout, on_failure, survive, condition,
                                      created_by, run_as, search_path, function_fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9 * interval '1 millisecond', $10, $11, $12,
                 $13, $13::regrole, $14, confiture.function_fingerprint($5))",
        &[
            name.clone().into(),
            phase.as_str().into(),
            s.migration.into(),
            sql.into(),
            function.into(),
            builtin.into(),
            JsonB(options).into(),
            run_order.into(),
            timeout_ms.into(),
            on_failure.into(),
            survive.into(),
            s.condition.into(),
            registrant.into(),
            search_path.into(),
        ],
    )
    .map_err(|e| Error::from(e).into())
    })?;
    Ok(name)
}

fn options_hint(b: Builtin) -> String {
    let keys: Vec<String> = b
        .options()
        .iter()
        .map(|(k, _, required, meaning)| {
            format!(
                "{k}{} ({meaning})",
                if *required { " [required]" } else { "" }
            )
        })
        .collect();
    format!("{} takes: {}.", b.as_str(), keys.join("; "))
}

/// `action` says whether the SQL is a hook's action (which could also
/// have been meant as a built-in's name) or an expression we wrapped.
fn check_parses(sql: &str, what: &str, action: bool) -> Result<()> {
    match crate::ddl::parse::parse(sql) {
        Ok(stmts) if stmts.is_empty() => fail(
            Error::new(Kind::InvalidArgument, format!("{what} is empty"))
                .detail("It has no statements.")
                .hint("Pass SQL, or the name of a built-in hook."),
        ),
        Ok(_) => Ok(()),
        Err(e) if action => fail(
            Error::new(Kind::SyntaxError, format!("{what} does not parse: {}", e.message))
                .detail(if e.location().is_empty() { "No position reported.".into() } else { format!("At {}.", e.location()) })
                .hint(format!("Fix the SQL. Built-in hooks are: {}.", Builtin::ALL.map(Builtin::as_str).join(", "))),
        ),
        Err(e) => fail(
            Error::new(Kind::SyntaxError, format!("{what} does not parse: {}", e.message))
                .detail(format!("It is evaluated as: {sql}"))
                .hint("Write a boolean SQL expression over the jsonb \"context\", e.g. context->>'version' LIKE '2024%'."),
        ),
    }
}

/// A hook function takes exactly one `jsonb` argument.
fn check_function(oid: pg_sys::Oid) -> Result<()> {
    let ok = crate::migrate::ledger::first_value::<bool>(
        "SELECT p.pronargs = 1 AND p.proargtypes[0] = 'jsonb'::regtype AND p.prokind = 'f'
           FROM pg_catalog.pg_proc p WHERE p.oid = $1",
        &[oid.into()],
    )?;
    match ok {
        Some(true) => Ok(()),
        Some(false) => fail(
            Error::new(
                Kind::InvalidArgument,
                "a hook function must take exactly one jsonb argument",
            )
            .detail(format!("{} does not.", regprocedure_text(oid)))
            .hint("Declare it as CREATE FUNCTION my_hook(context jsonb) RETURNS ... ."),
        ),
        None => fail(
            Error::new(
                Kind::UndefinedObject,
                format!("function with OID {oid:?} does not exist"),
            )
            .detail("The hook's action names no function.")
            .hint("Pass an existing function, e.g. 'my_hook(jsonb)'::regprocedure."),
        ),
    }
}

fn regprocedure_text(oid: pg_sys::Oid) -> String {
    crate::migrate::ledger::first_value::<String>("SELECT $1::regprocedure::text", &[oid.into()])
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn generated_name(phase: Phase, action: &NewAction) -> Result<String> {
    let kind = match action {
        NewAction::Sql(_) => "sql",
        NewAction::Builtin(b) => b.as_str(),
        NewAction::Function(_) => "function",
    };
    let n = crate::migrate::ledger::first_value::<i64>(
        "SELECT count(*) + 1 FROM confiture.hooks WHERE name LIKE $1",
        &[format!("{phase}_{kind}_%").into()],
    )?
    .unwrap_or(1);
    Ok(format!("{phase}_{kind}_{n}"))
}

/// Remove a hook. Returns true; an unknown name is an error.
#[pg_extern]
fn drop_hook(name: Option<String>) -> Result<bool> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.drop_hook";
    let name = require(name, F, "name")?;
    require_admin(F)?;
    let dropped = crate::security::as_owner(|| {
        crate::migrate::ledger::first_value::<String>(
            "DELETE FROM confiture.hooks WHERE name = $1 RETURNING name",
            &[name.clone().into()],
        )
    })?;
    if dropped.is_none() {
        return fail(
            Error::new(Kind::UndefinedObject, format!("hook {name} does not exist"))
                .detail("confiture.hooks has no hook of that name.")
                .hint("SELECT name FROM confiture.hooks lists them."),
        );
    }
    Ok(true)
}

/// The context of the hook running now (for SQL hooks), or NULL.
#[pg_extern(volatile, parallel_unsafe)]
fn hook_context() -> Option<JsonB> {
    run::current_context().map(JsonB)
}
