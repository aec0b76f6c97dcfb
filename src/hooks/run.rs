//! Running a migration's hooks: each in its own savepoint with its own
//! timeout, in phase order; recording every run.

use super::builtins::{self, Done};
use super::registry::{Action, Hook};
use crate::error::{Error, Kind};
use crate::subxact::{Failure, Subtransaction};
use confiture_core::hooks::Phase;
use pgrx::prelude::*;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What every hook of one `migrate` call shares.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub run_id: String,
    pub user: String,
    pub dry_run: bool,
}

/// One hook run, as recorded in `confiture.hook_runs`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HookRun {
    pub run_id: String,
    pub version: String,
    pub phase: &'static str,
    pub hook: String,
    /// seconds since the epoch
    pub started_at: f64,
    pub duration_ms: f64,
    pub rows: Option<i64>,
    pub outcome: &'static str,
    pub message: Option<String>,
    pub result: Option<Value>,
    pub dry_run: bool,
}

thread_local! {
    /// The context of the hook running now, for `confiture.hook_context()`.
    static CONTEXT: RefCell<Option<Value>> = const { RefCell::new(None) };
}

pub fn current_context() -> Option<Value> {
    CONTEXT.with(|c| c.borrow().clone())
}

struct ContextGuard;
impl ContextGuard {
    fn set(v: Value) -> ContextGuard {
        CONTEXT.with(|c| *c.borrow_mut() = Some(v));
        ContextGuard
    }
}
impl Drop for ContextGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| *c.borrow_mut() = None);
    }
}

/// The hooks of one migration and what they have done so far.
pub struct MigrationHooks<'a> {
    hooks: Vec<&'a Hook>,
    version: &'a str,
    name: &'a str,
    info: &'a RunInfo,
    started: Instant,
    /// Results by hook name, in run order (earlier hooks first).
    results: Vec<(String, Value)>,
    pub runs: Vec<HookRun>,
    pub total: Duration,
    /// The hook whose failure aborted the migration.
    pub failed: Option<(String, Phase)>,
}

/// How one hook ended.
enum Ran {
    Done(Done),
    Skipped,
}

impl<'a> MigrationHooks<'a> {
    pub fn new(hooks: Vec<&'a Hook>, version: &'a str, name: &'a str, info: &'a RunInfo) -> Self {
        MigrationHooks {
            hooks,
            version,
            name,
            info,
            started: Instant::now(),
            results: Vec::new(),
            runs: Vec::new(),
            total: Duration::ZERO,
            failed: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    pub fn dry_run(&self) -> bool {
        self.info.dry_run
    }

    fn context(&self, hook: &Hook, phase: Phase, error: Option<&Failure>) -> Value {
        let mut ctx = json!({
            "version": self.version,
            "name": self.name,
            "phase": phase.as_str(),
            "hook": hook.name,
            "run_id": self.info.run_id,
            "user": self.info.user,
            "dry_run": self.info.dry_run,
            "elapsed_ms": self.started.elapsed().as_secs_f64() * 1000.0,
            "options": hook.options,
            "results": Value::Object(self.results.iter().cloned().collect::<Map<_, _>>()),
        });
        if let Some(f) = error {
            ctx["error"] =
                json!({ "sqlstate": f.code(), "message": f.message, "detail": f.detail });
        }
        ctx
    }

    /// Run every hook of `phase`. A failing hook that aborts raises an
    /// ERROR naming it (caught by the migration's subtransaction); a
    /// warn-only one emits a WARNING and its work is undone.
    pub fn run_phase(&mut self, phase: Phase) {
        let hooks: Vec<&Hook> = self
            .hooks
            .iter()
            .copied()
            .filter(|h| h.phase == phase)
            .collect();
        for hook in hooks {
            if let Err(failure) = self.run_one(hook, phase, None, false) {
                if hook.warn_only {
                    hook_error(hook, phase, &failure).warn();
                } else {
                    self.failed = Some((hook.name.clone(), phase));
                    let report = hook_error(hook, phase, &failure).into_report(failure.sqlstate);
                    crate::subxact::raise_own(report, failure.sqlstate);
                }
            }
        }
    }

    /// Run the `on_error` hooks after the migration was rolled back. Their
    /// work is undone too, unless the hook is marked `survive`. Their
    /// failures are WARNINGs: the migration already failed.
    pub fn run_on_error(&mut self, failure: &Failure) {
        let hooks: Vec<&Hook> = self
            .hooks
            .iter()
            .copied()
            .filter(|h| h.phase == Phase::OnError)
            .collect();
        for hook in hooks {
            if let Err(f) = self.run_one(hook, Phase::OnError, Some(failure), !hook.survive) {
                hook_error(hook, Phase::OnError, &f).warn();
            }
        }
    }

    fn run_one(
        &mut self,
        hook: &Hook,
        phase: Phase,
        error: Option<&Failure>,
        roll_back: bool,
    ) -> Result<(), Failure> {
        let context = self.context(hook, phase, error);
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let clock = Instant::now();
        let mut tx = Subtransaction::new().timeout_ms(hook.timeout_ms);
        if roll_back {
            tx = tx.always_roll_back();
        }
        let outcome = {
            let _guard = ContextGuard::set(context.clone());
            tx.run(|| {
                hook.runner.run(|| {
                    if let Some(cond) = &hook.condition {
                        if !condition_holds(cond, &context) {
                            return Ran::Skipped;
                        }
                    }
                    Ran::Done(perform(hook, &context, &self.results))
                })
            })
        };
        let duration = clock.elapsed();
        self.total += duration;
        let (outcome_label, rows, result, message) = match &outcome {
            Ok(Ran::Done(done)) => ("ok", done.rows, done.result.clone(), None),
            Ok(Ran::Skipped) => ("skipped", None, None, Some("condition is false".to_owned())),
            Err(f) if f.timed_out => (
                "timeout",
                None,
                None,
                Some(format!("timed out after {} ms", hook.timeout_ms)),
            ),
            Err(f) => (
                if hook.warn_only { "warned" } else { "failed" },
                None,
                None,
                Some(f.message.clone()),
            ),
        };
        self.results.push((
            hook.name.clone(),
            json!({ "outcome": outcome_label, "rows": rows, "result": result, "duration_ms": duration.as_secs_f64() * 1000.0 }),
        ));
        self.runs.push(HookRun {
            run_id: self.info.run_id.clone(),
            version: self.version.to_owned(),
            phase: phase.as_str(),
            hook: hook.name.clone(),
            started_at,
            duration_ms: duration.as_secs_f64() * 1000.0,
            rows,
            outcome: outcome_label,
            message,
            result,
            dry_run: self.info.dry_run,
        });
        outcome.map(|_| ())
    }
}

fn hook_error(hook: &Hook, phase: Phase, f: &Failure) -> Error {
    if f.timed_out {
        Error::new(Kind::Timeout, format!("hook {} timed out after {} ms in phase {phase}", hook.name, hook.timeout_ms))
            .detail(format!("The {} hook was cancelled; its work was rolled back.", hook.kind()))
            .hint("Make the hook faster, or give it a longer timeout with confiture.add_hook(..., timeout => ...).")
    } else {
        let mut detail = format!("SQLSTATE {}", f.code());
        if let Some(d) = &f.detail {
            detail.push_str(&format!(": {d}"));
        }
        Error::new(
            Kind::Internal,
            format!("hook {} failed in phase {phase}: {}", hook.name, f.message),
        )
        .detail(detail)
        .hint(match (&f.hint, hook.warn_only) {
            (Some(h), _) => h.clone(),
            (None, true) => {
                "The hook only warns (on_failure => 'warn'); the migration went on.".into()
            }
            (None, false) => {
                "Fix the hook or the data, or register it with on_failure => 'warn'.".into()
            }
        })
    }
}

fn condition_holds(condition: &str, context: &Value) -> bool {
    Spi::get_one_with_args::<bool>(
        &format!("SELECT ({condition})::boolean FROM (SELECT $1::jsonb AS context) AS hook"),
        &[pgrx::JsonB(context.clone()).into()],
    )
    .unwrap_or_else(|e| Error::new(Kind::Internal, format!("hook condition failed: {e}")).raise())
    .unwrap_or(false)
}

fn perform(hook: &Hook, context: &Value, results: &[(String, Value)]) -> Done {
    match &hook.action {
        Action::Sql(sql) => {
            let rows = Spi::connect_mut(|c| c.update(sql, None, &[]).map(|t| t.len() as i64))
                .unwrap_or_else(|e| Error::new(Kind::Internal, format!("hook SQL failed: {e}")).raise());
            Done { rows: Some(rows), result: None }
        }
        Action::Function { signature, changed: true, .. } => Error::new(
            Kind::InsufficientPrivilege,
            format!("hook {}: function {signature} changed since the hook was registered", hook.name),
        )
        .detail("Its owner or definition is no longer the one reviewed at registration (CREATE OR REPLACE, ALTER ... OWNER).")
        .hint(format!("Review the function, then register the hook again: confiture.drop_hook('{}') and confiture.add_hook(...).", hook.name))
        .raise(),
        Action::Function { call, returns_void, signature, .. } => {
            let arg = pgrx::JsonB(context.clone());
            let failed = |e: &dyn std::fmt::Display| -> ! {
                Error::new(Kind::Internal, format!("hook function {signature} failed: {e}")).raise()
            };
            if *returns_void {
                Spi::run_with_args(&format!("SELECT {call}($1::jsonb)"), &[arg.into()]).unwrap_or_else(|e| failed(&e));
                Done::default()
            } else {
                let sql = format!("SELECT to_jsonb({call}($1::jsonb))");
                let result = crate::migrate::ledger::first_value::<pgrx::JsonB>(&sql, &[arg.into()])
                    .unwrap_or_else(|e| failed(&e.message()))
                    .map(|j| j.0);
                Done { rows: None, result }
            }
        }
        Action::Builtin(b) => builtins::run(*b, &hook.name, &hook.options, results),
    }
}

/// Write the recorded runs to `confiture.hook_runs` in one statement.
pub fn record(runs: &[HookRun]) -> crate::error::Result<()> {
    if runs.is_empty() {
        return Ok(());
    }
    let rows = serde_json::to_value(runs).unwrap_or(Value::Null);
    crate::security::as_owner(|| {
        Spi::run_with_args(
        "INSERT INTO confiture.hook_runs
                (run_id, version, phase, hook, started_at, duration, rows, outcome, message, result, dry_run)
         SELECT r.run_id, r.version, r.phase, r.hook, to_timestamp(r.started_at),
                r.duration_ms * interval '1 millisecond', r.rows, r.outcome, r.message, r.result, r.dry_run
           FROM jsonb_to_recordset($1) AS r(run_id uuid, version text, phase text, hook text,
                started_at float8, duration_ms float8, rows int8, outcome text, message text,
                result jsonb, dry_run boolean)",
        &[pgrx::JsonB(rows).into()],
    )
    .map_err(|e| Error::from(e).into())
    })
}
