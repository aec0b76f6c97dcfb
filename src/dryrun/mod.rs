//! Dry runs: run the pending migrations and their hooks exactly as
//! `migrate` would, inside a subtransaction that is always rolled back, and
//! report per migration, statement and hook what happened and what it
//! would cost in production.

pub mod calibrate;
pub mod model;
pub mod probe;

use crate::error::{require, Error, Kind, Result};
use crate::hooks::registry::HookSet;
use crate::hooks::run::{HookRun, MigrationHooks};
use crate::migrate::run::{Observer, Outcome};
use crate::migrate::{self, ledger, Report};
use crate::privilege::require_admin;
use crate::subxact::Subtransaction;
use confiture_core::estimate::{self, Estimate, Growth, Observed};
use confiture_core::plan::State;
use pgrx::datum::Interval;
use pgrx::prelude::*;
use pgrx::JsonB;
use probe::{Effects, Probe};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pgrx::extension_sql_file!(
    "../../sql/20_dry_run.sql",
    name = "dry_run",
    requires = ["ledger"]
);

/// How to run and what to report.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Show this many rows before and after for each table a statement changed.
    pub sample_rows: i64,
    /// Production row counts by table name, for estimates.
    pub production_rows: BTreeMap<String, f64>,
    /// Or: production is this many times larger than here.
    pub scale: Option<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatementReport {
    pub index: usize,
    pub sql: String,
    pub duration_ms: f64,
    #[serde(flatten)]
    pub effects: Effects,
    pub violations: Vec<Value>,
    pub growth: &'static str,
    pub estimated_ms: f64,
    pub confidence: &'static str,
    /// What the estimate rests on (the model's inputs, when it scaled it).
    pub estimate_inputs: Vec<String>,
    pub blocks: &'static str,
    pub blocking_ms: f64,
    pub samples: Option<Value>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationReport {
    pub version: String,
    pub name: String,
    pub outcome: &'static str,
    pub duration_ms: f64,
    pub estimated_ms: f64,
    pub message: Option<String>,
    pub statements: Vec<StatementReport>,
    pub hooks: Vec<HookRun>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DryRun {
    pub run_id: String,
    pub migrations: Vec<MigrationReport>,
    pub duration_ms: f64,
}

impl DryRun {
    /// One `migrate`-style row per migration.
    pub fn summaries(&self) -> Vec<Report> {
        self.migrations
            .iter()
            .map(|m| Report {
                version: m.version.clone(),
                name: m.name.clone(),
                state: if m.outcome == "applied" {
                    State::Applied
                } else {
                    State::Failed
                },
                duration: Duration::from_secs_f64(m.duration_ms / 1000.0),
                statements: Some(m.statements.len() as i32),
                hooks_duration: Duration::from_secs_f64(
                    m.hooks.iter().map(|h| h.duration_ms).sum::<f64>() / 1000.0,
                ),
                message: Some(match &m.message {
                    Some(msg) => format!("dry run, rolled back: {msg}"),
                    None => "dry run, rolled back".to_owned(),
                }),
            })
            .collect()
    }
}

/// Probes every statement of a dry run.
struct Watcher<'o> {
    options: &'o Options,
    reports: Vec<StatementReport>,
    sizes: BTreeMap<String, f64>,
    rates: &'o confiture_core::estimate::Rates,
    mwm_kb: f64,
}

impl Observer for Watcher<'_> {
    fn statement(&mut self, index: usize, text: &str, run: &mut dyn FnMut()) {
        // the probes are confiture's own queries: pinned (`run` restores the
        // migration's search_path for its statement)
        let _pinned =
            crate::security::GucScope::set(&[("search_path", crate::security::PINNED_SEARCH_PATH)]);
        let mut before = probe_or_raise();
        let n = self.options.sample_rows;
        let mut samples_before = None;
        let started;
        let mut written_by = None;
        if n > 0 {
            // Learn which rows change in a subtransaction undone at once, to
            // show the same rows before; then run it for real in a
            // subtransaction of its own, so its rows are recognisable after.
            let trial = Subtransaction::new().always_roll_back().run(|| {
                run();
                let tables = sampled_tables(&probe::effects(&before, &probe_or_raise()));
                let xid = current_xid();
                (sample(&tables, xid.as_deref(), None, n).1, tables)
            });
            if let Ok((keys, tables)) = trial {
                samples_before = Some((sample(&tables, None, Some(&keys), n).0, tables));
            }
            // the trial's rolled-back writes still count in the statistics
            before = probe_or_raise();
            started = Instant::now();
            match Subtransaction::new().run(|| {
                run();
                current_xid()
            }) {
                Ok(xid) => written_by = xid,
                Err(f) => f.rethrow(),
            }
        } else {
            started = Instant::now();
            run();
        }
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let after = probe_or_raise();
        let effects = probe::effects(&before, &after);
        // NOT VALID constraints are checked against existing rows at the end
        // of the migration, unless a later statement validated them
        let violations = Vec::new();
        let samples = samples_before.and_then(|(before_rows, mut tables)| {
            for t in sampled_tables(&effects) {
                if !tables.contains(&t) {
                    tables.push(t);
                }
            }
            if tables.is_empty() {
                return None;
            }
            // rows written by the statement where it wrote some, else the first rows
            let (wrote, rest): (Vec<String>, Vec<String>) = tables
                .into_iter()
                .partition(|t| effects.changed_tables.contains(t));
            let mut after = sample(&wrote, written_by.as_deref(), None, n).0;
            if let (Value::Object(a), Value::Object(b)) =
                (&mut after, sample(&rest, None, None, n).0)
            {
                a.extend(b);
            }
            Some(json!({ "before": before_rows, "after": after }))
        });
        let mut effects = effects;
        // What the statement works on, by the model: a lock an earlier
        // statement of the dry run already holds (VALIDATE after another
        // VALIDATE, an UPDATE after another) shows no new lock, yet the
        // statement still scans or writes that table.
        let planned = planned_tables(text);
        for table in &planned {
            if let Some(stats) = model::table_stats(table) {
                effects.tables.entry(stats.name).or_insert(stats.rows);
            }
        }
        let mut growth = growth(&effects, duration_ms);
        if growth == Growth::Constant && !planned.is_empty() {
            growth = Growth::Linear;
        }
        let (rows_here, rows_production) = self.sizes_for(&effects);
        let (model_factor, estimate_inputs) = match (growth, rows_here, rows_production) {
            (Growth::Constant, ..) => (None, Vec::new()),
            (_, Some(here), Some(prod)) => self.model_factor(text, here, prod),
            _ => (None, Vec::new()),
        };
        let Estimate {
            duration_ms: estimated_ms,
            confidence,
            ..
        } = estimate::estimate(&Observed {
            duration_ms,
            growth,
            rows_here,
            rows_production,
            model_factor,
        });
        let strongest = estimate::strongest(effects.locks.iter().map(|(_, m)| m.as_str()));
        self.reports.push(StatementReport {
            index: index + 1,
            sql: text.to_owned(),
            duration_ms,
            blocks: strongest.map(estimate::blocks).unwrap_or("nothing"),
            effects,
            violations,
            growth: growth.as_str(),
            estimated_ms,
            confidence,
            estimate_inputs,
            blocking_ms: 0.0,
            samples,
        });
    }
}

impl Watcher<'_> {
    /// The cost model's production / here ratio for this statement, from
    /// the table as it is now with `here` rows and with `prod` rows.
    fn model_factor(&self, text: &str, here: f64, prod: f64) -> (Option<f64>, Vec<String>) {
        let Some(stmt) = crate::ddl::parse::parse(text)
            .ok()
            .and_then(|s| s.into_iter().next())
        else {
            return (None, Vec::new());
        };
        let a = confiture_core::risk::assess(&stmt, &Default::default());
        let (mut small, mut big, mut inputs) = (0.0, 0.0, Vec::new());
        for (table, planned) in model::plan(&stmt, &a, text) {
            // a filtered UPDATE scales with the rows it wrote: linear
            if matches!(planned, model::Planned::Filtered { .. }) {
                continue;
            }
            let Some(stats) = model::table_stats(&table) else {
                continue;
            };
            let (work, notes) = model::resolve(&table, &planned, text);
            let here_stats = stats.scaled_to(here);
            let s = estimate::cost(&work, &here_stats, self.rates, self.mwm_kb);
            let b = estimate::cost(&work, &here_stats.scaled_to(prod), self.rates, self.mwm_kb);
            small += s.ms;
            big += b.ms;
            for i in notes.into_iter().chain(s.inputs).chain(b.inputs) {
                if !inputs.contains(&i) {
                    inputs.push(i);
                }
            }
        }
        if small > 0.0 {
            (Some(big / small), inputs)
        } else {
            (None, Vec::new())
        }
    }

    /// Rows of the largest table involved, here and in production.
    fn sizes_for(&mut self, e: &Effects) -> (Option<f64>, Option<f64>) {
        let mut best: Option<(String, f64)> = None;
        for (table, &reltuples) in &e.tables {
            let rows = match self.sizes.get(table) {
                Some(&n) => n,
                None => {
                    let n = if reltuples > 0.0 {
                        reltuples
                    } else {
                        exact_count(table)
                    };
                    self.sizes.insert(table.clone(), n);
                    n
                }
            };
            if best.as_ref().is_none_or(|(_, b)| rows > *b) {
                best = Some((table.clone(), rows));
            }
        }
        let Some((table, here)) = best else {
            return (None, None);
        };
        let bare = table
            .rsplit('.')
            .next()
            .unwrap_or(&table)
            .trim_matches('"')
            .to_owned();
        let prod = self
            .options
            .production_rows
            .get(&table)
            .or_else(|| self.options.production_rows.get(&bare))
            .copied()
            .or(self.options.scale.map(|s| here * s))
            .unwrap_or(here);
        (Some(here), Some(prod))
    }
}

fn probe_or_raise() -> Probe {
    Probe::take().unwrap_or_else(|e| {
        e.report(PgLogLevel::ERROR);
        unreachable!("ERROR does not return")
    })
}

fn growth(e: &Effects, duration_ms: f64) -> Growth {
    if e.index_built {
        Growth::Sort
    } else if !e.rewritten.is_empty() || e.inserted + e.updated + e.deleted > 0 {
        Growth::Linear
    } else if !e.tables.is_empty() && duration_ms > 5.0 {
        // no rows written and no rewrite, yet slow: a full scan (validating a
        // constraint, SET NOT NULL)
        Growth::Linear
    } else {
        Growth::Constant
    }
}

/// The tables the cost model says a statement works on.
fn planned_tables(text: &str) -> Vec<String> {
    let Some(stmt) = crate::ddl::parse::parse(text)
        .ok()
        .and_then(|s| s.into_iter().next())
    else {
        return Vec::new();
    };
    let a = confiture_core::risk::assess(&stmt, &Default::default());
    model::plan(&stmt, &a, text)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

fn exact_count(table: &str) -> f64 {
    Spi::get_one::<i64>(&format!("SELECT count(*) FROM {table}"))
        .ok()
        .flatten()
        .unwrap_or(0) as f64
}

fn sampled_tables(e: &Effects) -> Vec<String> {
    let mut t: Vec<String> = e.changed_tables.clone();
    for r in e.rewritten.iter().chain(&e.altered) {
        if e.tables.contains_key(r) && !t.contains(r) {
            t.push(r.clone());
        }
    }
    t
}

/// The advisory locks this backend holds (a transaction-level one taken in
/// the rolled-back dry run is gone by now; a session-level one is not).
fn advisory_locks() -> Result<Vec<(i64, i64, i32, bool)>> {
    Spi::connect_mut(|c| {
        c.update(
            "SELECT classid::int8, objid::int8, objsubid::int4, mode = 'ShareLock' FROM pg_catalog.pg_locks
              WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid() AND granted",
            None,
            &[],
        )?
        .map(|r| Ok((r.get(1)?.unwrap_or(0), r.get(2)?.unwrap_or(0), r.get(3)?.unwrap_or(1), r.get(4)?.unwrap_or(false))))
        .collect::<std::result::Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .map_err(|e| Error::from(e).into())
}

/// A dry run leaves nothing behind: session-level advisory locks its
/// migrations or hooks took would outlive the rollback, so they are released.
fn release_session_locks(before: &[(i64, i64, i32, bool)]) -> Result<()> {
    let after = advisory_locks()?;
    let taken: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
    for (classid, objid, subid, shared) in &taken {
        let (f, args): (&str, Vec<pgrx::datum::DatumWithOid>) = match (subid, shared) {
            (1, false) => (
                "SELECT pg_catalog.pg_advisory_unlock($1)",
                vec![((classid << 32) | objid).into()],
            ),
            (1, true) => (
                "SELECT pg_catalog.pg_advisory_unlock_shared($1)",
                vec![((classid << 32) | objid).into()],
            ),
            (_, false) => (
                "SELECT pg_catalog.pg_advisory_unlock($1::int4, $2::int4)",
                vec![(*classid as i32).into(), (*objid as i32).into()],
            ),
            (_, true) => (
                "SELECT pg_catalog.pg_advisory_unlock_shared($1::int4, $2::int4)",
                vec![(*classid as i32).into(), (*objid as i32).into()],
            ),
        };
        // a lock taken several times is held until unlocked as many times;
        // the last try's "you don't own a lock" WARNING is expected
        let _quiet = crate::security::GucScope::set(&[("client_min_messages", "error")]);
        for _ in 0..1000 {
            if ledger::first_value::<bool>(f, &args)? != Some(true) {
                break;
            }
        }
    }
    if !taken.is_empty() {
        Error::new(
            Kind::WrongState,
            format!(
                "the dry run took {} session-level advisory lock(s); released",
                taken.len()
            ),
        )
        .detail(
            "Session-level advisory locks outlive a rollback; a dry run must leave nothing behind.",
        )
        .hint("Use pg_advisory_xact_lock in migrations and hooks.")
        .warn();
    }
    Ok(())
}

/// The transaction id of the current subtransaction, if it wrote anything.
fn current_xid() -> Option<String> {
    let xid = unsafe { pg_sys::GetCurrentTransactionIdIfAny() };
    (xid != pg_sys::InvalidTransactionId).then(|| u32::from(xid).to_string())
}

/// Up to `n` rows of each table: those written by transaction `xid` when
/// given (the rows a statement inserted or updated), else the first `n` in
/// the order of the first column. Returned with their keys (first column).
fn sample(
    tables: &[String],
    xid: Option<&str>,
    keys: Option<&BTreeMap<String, Value>>,
    n: i64,
) -> (Value, BTreeMap<String, Value>) {
    let mut rows_out = serde_json::Map::new();
    let mut keys_out = BTreeMap::new();
    for t in tables {
        // samples are kept: only of tables the role running the dry run may read
        let readable = ledger::first_value::<bool>(
            "SELECT pg_catalog.has_table_privilege($1, $2::pg_catalog.regclass, 'SELECT')",
            &[crate::security::invoker().into(), t.clone().into()],
        )
        .ok()
        .flatten()
        .unwrap_or(false);
        if !readable {
            continue;
        }
        let key = format!(
            "to_jsonb(r) -> (SELECT attname::text FROM pg_catalog.pg_attribute WHERE attrelid = {}::regclass AND attnum = 1)",
            confiture_core::sql::quote_literal(t)
        );
        let wanted = keys
            .and_then(|k| k.get(t))
            .filter(|k| k.as_array().is_some_and(|a| !a.is_empty()));
        let (filter, args): (String, Vec<pgrx::datum::DatumWithOid>) = match (wanted, xid) {
            (Some(k), _) => (
                format!("WHERE {key} IN (SELECT jsonb_array_elements($1))"),
                vec![JsonB(k.clone()).into()],
            ),
            (None, Some(x)) => (
                "WHERE r.xmin = $1::xid".to_owned(),
                vec![x.to_owned().into()],
            ),
            (None, None) => (String::new(), vec![]),
        };
        let found = ledger::first_value::<JsonB>(
            &format!(
                "SELECT jsonb_build_object('rows', coalesce(jsonb_agg(s.row), '[]'), 'keys', coalesce(jsonb_agg(s.key), '[]'))
                   FROM (SELECT to_jsonb(r) AS row, {key} AS key FROM {t} r {filter} ORDER BY 2 LIMIT {n}) s"
            ),
            &args,
        )
        .ok()
        .flatten()
        .map(|j| j.0)
        .unwrap_or(Value::Null);
        rows_out.insert(t.clone(), found.get("rows").cloned().unwrap_or(Value::Null));
        keys_out.insert(t.clone(), found.get("keys").cloned().unwrap_or(Value::Null));
    }
    (Value::Object(rows_out), keys_out)
}

/// For each constraint a statement added NOT VALID and that is still not
/// validated: would validating it fail on the existing rows?
fn not_valid_checks(constraints: &[(String, String, bool)]) -> Vec<Value> {
    constraints
        .iter()
        .filter(|(_, _, valid)| !valid)
        .map(|(name, table, _)| {
            let still = ledger::first_value::<bool>(
                "SELECT NOT convalidated FROM pg_catalog.pg_constraint WHERE conname = $1 AND conrelid = $2::regclass",
                &[name.clone().into(), table.clone().into()],
            );
            match still {
                Ok(Some(true)) => check_not_valid(name, table),
                _ => json!({ "constraint": name, "table": table, "validated_later": true }),
            }
        })
        .collect()
}

/// Would validating this NOT VALID constraint fail on existing rows?
fn check_not_valid(name: &str, table: &str) -> Value {
    let validate = format!(
        "ALTER TABLE {table} VALIDATE CONSTRAINT {}",
        pgrx::spi::quote_identifier(name)
    );
    let outcome = Subtransaction::new()
        .always_roll_back()
        .run(|| Spi::run(&validate));
    match outcome {
        Ok(_) => json!({ "constraint": name, "table": table, "existing_rows_violate": false }),
        Err(f) => json!({ "constraint": name, "table": table, "existing_rows_violate": true,
                          "sqlstate": f.code(), "message": f.message, "detail": f.detail }),
    }
}

/// Remember sequence positions: `nextval` is not transactional, and a dry
/// run must leave the database as it found it.
fn save_sequences() -> Result<Value> {
    ledger::first_value::<JsonB>(
        "SELECT coalesce(jsonb_agg(jsonb_build_object('seq', format('%I.%I', schemaname, sequencename),
                                                      'last', last_value, 'start', start_value)), '[]')
           FROM pg_catalog.pg_sequences",
        &[],
    )
    .map(|v| v.map(|j| j.0).unwrap_or(Value::Null))
}

fn restore_sequences(saved: &Value) -> Result<()> {
    Spi::run_with_args(
        "SELECT CASE WHEN s.last IS NULL THEN setval(s.seq::regclass, s.start, false)
                     ELSE setval(s.seq::regclass, s.last, true) END
           FROM jsonb_to_recordset($1) AS s(seq text, last int8, start int8)
           JOIN pg_catalog.pg_sequences p ON format('%I.%I', p.schemaname, p.sequencename) = s.seq
          WHERE p.last_value IS DISTINCT FROM s.last",
        &[JsonB(saved.clone()).into()],
    )
    .map_err(|e| Error::from(e).into())
}

/// Dry-run the migrations `migrate(target)` would apply.
pub fn run_plan(function: &str, target: Option<&str>, options: &Options) -> Result<DryRun> {
    let started = Instant::now();
    let ledger_rows = ledger::load()?;
    let (scripts, unparsable) = migrate::scripts_to_apply(&ledger_rows, target, function)?;
    let hook_set = HookSet::load()?;
    let info = migrate::run_info(true)?;
    let sequences = save_sequences()?;
    let locks_before = advisory_locks()?;
    let rates = calibrate::stored_rates();
    let mwm_kb = model::maintenance_work_mem_kb();

    let outcome = Subtransaction::new().always_roll_back().run(|| {
        let mut reports = Vec::with_capacity(scripts.len() + 1);
        for (m, script) in &scripts {
            let mut hooks = MigrationHooks::new(
                hook_set.for_migration(&m.version, &m.name),
                &m.version,
                &m.name,
                &info,
            );
            let mut watcher = Watcher {
                options,
                reports: Vec::new(),
                sizes: BTreeMap::new(),
                rates: &rates,
                mwm_kb,
            };
            let outcome = script.run_atomically(&mut hooks, Some(&mut watcher));
            let mut statements = watcher.reports;
            if matches!(outcome, Outcome::Done { .. }) {
                for s in &mut statements {
                    s.violations = not_valid_checks(&s.effects.constraints);
                }
            }
            let estimates: Vec<f64> = statements.iter().map(|s| s.estimated_ms).collect();
            let blocking: Vec<bool> = statements.iter().map(|s| s.blocks != "nothing").collect();
            for (s, b) in statements
                .iter_mut()
                .zip(estimate::blocking_ms(&estimates, &blocking))
            {
                s.blocking_ms = b;
            }
            let (outcome_label, duration, message) = match outcome {
                Outcome::Done { duration } => ("applied", duration, None),
                Outcome::Failed {
                    duration,
                    failure,
                    hook,
                    ..
                } => {
                    let place = hook
                        .map(|(h, p)| format!(" (hook {h}, phase {p})"))
                        .unwrap_or_default();
                    (
                        "failed",
                        duration,
                        Some(format!("{} [{}]{place}", failure.message, failure.code())),
                    )
                }
            };
            let failed = outcome_label == "failed";
            reports.push(MigrationReport {
                version: m.version.clone(),
                name: m.name.clone(),
                outcome: outcome_label,
                duration_ms: duration.as_secs_f64() * 1000.0,
                estimated_ms: estimates.iter().sum(),
                message,
                statements,
                hooks: std::mem::take(&mut hooks.runs),
            });
            if failed {
                return reports;
            }
        }
        if let Some((m, stop)) = &unparsable {
            let (outcome, message) = match stop {
                migrate::Stop::Syntax(e) => (
                    "failed",
                    format!("{} [{}]", migrate::syntax_message(e), e.sqlstate),
                ),
                migrate::Stop::NeedsClient(why) => (
                    "not run",
                    format!("runs outside a transaction, so it cannot be dry-run: {why}"),
                ),
            };
            reports.push(MigrationReport {
                version: m.version.clone(),
                name: m.name.clone(),
                outcome,
                duration_ms: 0.0,
                estimated_ms: 0.0,
                message: Some(message),
                statements: Vec::new(),
                hooks: Vec::new(),
            });
        }
        reports
    });
    restore_sequences(&sequences)?;
    release_session_locks(&locks_before)?;
    let migrations = match outcome {
        Ok(r) => r,
        Err(f) => f.rethrow(),
    };
    let dry = DryRun {
        run_id: info.run_id,
        migrations,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    let by_role = crate::security::role_name(crate::security::invoker()).unwrap_or_default();
    crate::security::as_owner(|| {
        Spi::run_with_args(
            "INSERT INTO confiture.dry_runs (run_id, target, report, by_role) VALUES ($1::uuid, $2, $3, $4)",
            &[
                dry.run_id.clone().into(),
                target.into(),
                JsonB(serde_json::to_value(&dry).unwrap_or(Value::Null)).into(),
                by_role.into(),
            ],
        )
        .map_err(|e| Error::from(e).into())
    })?;
    Ok(dry)
}

fn options(
    sample_rows: Option<i32>,
    production_rows: Option<JsonB>,
    scale: Option<f64>,
    f: &str,
) -> Result<Options> {
    let sample_rows = require(sample_rows, f, "sample_rows")?;
    if sample_rows < 0 {
        return Err(Error::new(
            Kind::InvalidArgument,
            format!("sample_rows must be 0 or more, not {sample_rows}"),
        )
        .detail("It is how many rows to show before and after each change.")
        .hint("Pass sample_rows => 5, or 0 for none.")
        .into());
    }
    if let Some(s) = scale {
        if !(s.is_finite() && s > 0.0) {
            return Err(Error::new(
                Kind::InvalidArgument,
                format!("scale must be a positive number, not {s}"),
            )
            .detail("It is how many times larger production is than this database.")
            .hint("Pass e.g. scale => 10, or production_rows => '{\"orders\": 2100000}'.")
            .into());
        }
    }
    let mut production = BTreeMap::new();
    if let Some(JsonB(v)) = production_rows {
        let Some(map) = v.as_object() else {
            return Err(Error::new(
                Kind::InvalidArgument,
                "production_rows must be a JSON object",
            )
            .detail(format!("production_rows => {v}"))
            .hint("Map table names to row counts, e.g. '{\"orders\": 2100000}'.")
            .into());
        };
        for (table, n) in map {
            match n.as_f64() {
                Some(n) if n >= 0.0 => {
                    production.insert(table.clone(), n);
                }
                _ => {
                    return Err(Error::new(
                        Kind::InvalidArgument,
                        format!("production_rows for {table} is not a row count"),
                    )
                    .detail(format!("{table} => {n}"))
                    .hint("Use a non-negative number.")
                    .into())
                }
            }
        }
    }
    Ok(Options {
        sample_rows: sample_rows as i64,
        production_rows: production,
        scale,
    })
}

fn ms_interval(ms: f64) -> Interval {
    Interval::from_micros((ms * 1000.0).round() as i64)
}

/// Dry-run the pending migrations up to `target`: everything runs, hooks
/// included, and everything is rolled back. One row per migration (step 0),
/// then one per hook and statement in the order they ran.
#[pg_extern]
fn dry_run(
    target: default!(Option<String>, "NULL"),
    sample_rows: default!(Option<i32>, "0"),
    production_rows: default!(Option<JsonB>, "NULL"),
    scale: default!(Option<f64>, "NULL"),
) -> Result<
    TableIterator<
        'static,
        (
            name!(version, String),
            name!(step, i32),
            name!(kind, String),
            name!(statement, Option<String>),
            name!(outcome, String),
            name!(duration, Interval),
            name!(rows_inserted, Option<i64>),
            name!(rows_updated, Option<i64>),
            name!(rows_deleted, Option<i64>),
            name!(locks, Option<Vec<String>>),
            name!(blocks, Option<String>),
            name!(rewritten, Option<Vec<String>>),
            name!(created, Option<Vec<String>>),
            name!(altered, Option<Vec<String>>),
            name!(dropped, Option<Vec<String>>),
            name!(constraints, Option<JsonB>),
            name!(estimated_duration, Option<Interval>),
            name!(estimated_blocking, Option<Interval>),
            name!(confidence, Option<String>),
            name!(message, Option<String>),
            name!(samples, Option<JsonB>),
        ),
    >,
> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.dry_run";
    let opts = options(sample_rows, production_rows, scale, F)?;
    require_admin(F)?;
    migrate::refuse_nested(F)?;
    migrate::lock::acquire(F)?;
    let dry = run_plan(F, target.as_deref(), &opts)?;
    let mut rows = Vec::new();
    for m in dry.migrations {
        let blocking: f64 = m
            .statements
            .iter()
            .map(|s| s.blocking_ms)
            .fold(0.0, f64::max);
        rows.push((
            m.version.clone(),
            0,
            "migration".to_owned(),
            Some(m.name.clone()),
            m.outcome.to_owned(),
            ms_interval(m.duration_ms),
            Some(m.statements.iter().map(|s| s.effects.inserted).sum()),
            Some(m.statements.iter().map(|s| s.effects.updated).sum()),
            Some(m.statements.iter().map(|s| s.effects.deleted).sum()),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            Some(ms_interval(m.estimated_ms)),
            Some(ms_interval(blocking)),
            None,
            m.message.clone(),
            None,
        ));
        let mut step = 0;
        let mut hooks = m.hooks.iter().peekable();
        let push_hooks =
            |rows: &mut Vec<_>,
             step: &mut i32,
             phases: &[&str],
             hooks: &mut std::iter::Peekable<std::slice::Iter<HookRun>>| {
                while let Some(h) = hooks.next_if(|h| phases.contains(&h.phase)) {
                    *step += 1;
                    rows.push((
                        m.version.clone(),
                        *step,
                        format!("hook {}", h.phase),
                        Some(h.hook.clone()),
                        h.outcome.to_owned(),
                        ms_interval(h.duration_ms),
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        h.result.clone().map(JsonB),
                        None,
                        None,
                        None,
                        h.message.clone(),
                        None,
                    ));
                }
            };
        push_hooks(
            &mut rows,
            &mut step,
            &["before_validation", "before_ddl"],
            &mut hooks,
        );
        for s in &m.statements {
            step += 1;
            let e = &s.effects;
            let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
            rows.push((
                m.version.clone(),
                step,
                "statement".to_owned(),
                Some(s.sql.clone()),
                "ok".to_owned(),
                ms_interval(s.duration_ms),
                Some(e.inserted),
                Some(e.updated),
                Some(e.deleted),
                (!e.locks.is_empty()).then(|| e.locks.iter().map(|(r, m)| format!("{r}: {m}")).collect()),
                Some(s.blocks.to_owned()),
                list(&e.rewritten),
                list(&e.created),
                list(&e.altered),
                list(&e.dropped),
                (!e.constraints.is_empty()).then(|| {
                    JsonB(json!({
                        "added_or_changed": e.constraints.iter().map(|(n, t, v)| json!({"constraint": n, "table": t, "validated": v})).collect::<Vec<_>>(),
                        "not_valid_checks": s.violations,
                    }))
                }),
                Some(ms_interval(s.estimated_ms)),
                Some(ms_interval(s.blocking_ms)),
                Some(format!("{} ({})", s.confidence, s.growth)),
                None,
                s.samples.clone().map(JsonB),
            ));
        }
        push_hooks(
            &mut rows,
            &mut step,
            &["after_ddl", "after_validation", "cleanup", "on_error"],
            &mut hooks,
        );
    }
    Ok(TableIterator::new(rows))
}

/// The same dry run as one jsonb document, for machines.
#[pg_extern]
fn dry_run_report(
    target: default!(Option<String>, "NULL"),
    sample_rows: default!(Option<i32>, "0"),
    production_rows: default!(Option<JsonB>, "NULL"),
    scale: default!(Option<f64>, "NULL"),
) -> Result<JsonB> {
    let _entered = crate::security::enter();
    const F: &str = "confiture.dry_run_report";
    let opts = options(sample_rows, production_rows, scale, F)?;
    require_admin(F)?;
    migrate::refuse_nested(F)?;
    migrate::lock::acquire(F)?;
    let dry = run_plan(F, target.as_deref(), &opts)?;
    Ok(JsonB(serde_json::to_value(&dry).unwrap_or(Value::Null)))
}
