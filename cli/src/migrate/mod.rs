//! `confiture migrate`: the repository's migration folder applied through
//! the extension, to one database or many.
//!
//! ```text
//! confiture migrate up [--target V]          register every file, apply what is pending
//! confiture migrate down [--steps N | --to V] run down SQL, newest first
//! confiture migrate status                   the ledger, and files not registered yet
//! confiture migrate baseline --through V     adopt an existing database
//! confiture migrate dry-run [--target V]     run pending migrations in a transaction that is rolled back
//! confiture migrate plan [--target V]        what up would do, with each migration's risk; changes nothing
//! ```
//!
//! Exit codes: 0 done; 1 a migration failed; 2 bad usage; 3 the folder is
//! malformed or a file unreadable; 4 cannot connect (or no extension);
//! 5 refused (an applied migration changed, drift under enforce, the lint
//! guard rejected a statement).

pub mod apply;
pub mod files;
pub mod progress;
pub mod wizard;

use crate::connect::{NoticeSink, Target};
use crate::error::{exit, CliError};
use apply::Applied;
use clap::{Args, Subcommand, ValueEnum};
use progress::{Mode, Progress};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Args, Debug)]
#[command(
    after_help = "Exit codes: 0 done; 1 a migration failed; 2 bad usage; 3 malformed folder or unreadable file; \
4 cannot connect or extension missing; 5 refused (an applied migration changed, drift under enforce, the lint guard)."
)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
    /// The folder of migrations
    #[arg(long, global = true, default_value = "db/migrations")]
    pub dir: PathBuf,
    /// A database (URL or conninfo); repeat for several. Default: the PG* environment variables.
    #[arg(long = "database", short = 'd', global = true, env = "DATABASE_URL")]
    pub databases: Vec<String>,
    /// A file with one database URL per line (# comments allowed)
    #[arg(long, global = true)]
    pub databases_file: Option<PathBuf>,
    /// How many databases at a time
    #[arg(long, short = 'j', global = true, default_value_t = 1)]
    pub jobs: usize,
    /// With several databases: go on after one fails (default: start no new one)
    #[arg(long, global = true)]
    pub keep_going: bool,
    /// Output: text, or one JSON document (docs/cli-json.md)
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug, Clone)]
pub enum MigrateCommand {
    /// Register every file and apply what is pending (client-run migrations included)
    Up {
        #[arg(long)]
        target: Option<String>,
    },
    /// Roll back: the last N migrations, or every one after V
    Down {
        #[arg(long, conflicts_with = "to")]
        steps: Option<i32>,
        #[arg(long)]
        to: Option<String>,
    },
    /// The ledger, and files not registered yet
    Status,
    /// Mark everything up to V as applied without running it
    Baseline {
        #[arg(long)]
        through: String,
    },
    /// Run the pending migrations in a transaction that is always rolled back
    DryRun {
        #[arg(long)]
        target: Option<String>,
    },
    /// What `up` would apply, with each migration's risk tier; changes nothing
    Plan {
        #[arg(long)]
        target: Option<String>,
    },
    /// Review each pending migration (risk, lint, dry run) and apply it; or, with --yes, a CI gate
    Wizard(wizard::WizardArgs),
}

/// One database's result.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseResult {
    pub database: String,
    pub ok: bool,
    pub exit_code: u8,
    pub applied: usize,
    pub failed: usize,
    pub duration_ms: f64,
    pub migrations: Vec<Applied>,
    /// Rows of status/plan/dry-run as JSON objects.
    pub rows: Vec<serde_json::Value>,
    pub error: Option<ErrorJson>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorJson {
    pub message: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    command: &'a str,
    dir: String,
    layout: &'a str,
    exit_code: u8,
    databases: &'a [DatabaseResult],
}

fn targets(args: &MigrateArgs) -> Result<Vec<Target>, CliError> {
    let mut out: Vec<Target> = args.databases.iter().map(Target::new).collect();
    if let Some(file) = &args.databases_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            CliError::new(exit::UNREADABLE, format!("cannot read {}", file.display())).detail(e)
        })?;
        out.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(Target::new),
        );
    }
    if out.is_empty() {
        out.push(Target::new(""));
    }
    Ok(out)
}

pub fn run(args: MigrateArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if args.format == Format::Json {
                let r = serde_json::json!({ "command": command_name(&args.command), "exit_code": e.exit_code,
                                            "error": { "message": e.message, "lines": e.lines }, "databases": [] });
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            } else {
                e.print();
            }
            ExitCode::from(e.exit_code)
        }
    }
}

fn command_name(c: &MigrateCommand) -> &'static str {
    match c {
        MigrateCommand::Up { .. } => "up",
        MigrateCommand::Down { .. } => "down",
        MigrateCommand::Status => "status",
        MigrateCommand::Baseline { .. } => "baseline",
        MigrateCommand::DryRun { .. } => "dry-run",
        MigrateCommand::Plan { .. } => "plan",
        MigrateCommand::Wizard(_) => "wizard",
    }
}

fn run_inner(args: &MigrateArgs) -> Result<u8, CliError> {
    if args.jobs == 0 {
        return Err(CliError::usage("--jobs must be at least 1"));
    }
    let folder = files::read_folder(&args.dir)?;
    let targets = targets(args)?;
    let many = targets.len() > 1;
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mode = if args.format == Format::Json || many {
        Mode::Quiet
    } else if std::io::stderr().is_terminal() {
        Mode::Bar
    } else {
        Mode::Lines
    };
    if let MigrateCommand::Wizard(w) = &args.command {
        if many {
            return Err(CliError::usage("the wizard reviews one database at a time"));
        }
        let mut c = targets[0].connect()?;
        apply::require_extension(&mut c)?;
        apply::register_all(&mut c, &folder.migrations)?;
        crate::calibrate::ensure(&mut c);
        let outcome = wizard::run(&mut c, &folder.migrations, w, args.format == Format::Json)?;
        if args.format == Format::Json {
            let doc = serde_json::json!({ "command": "wizard", "database": targets[0].label(), "max_tier": w.max_tier,
                                          "interactive": !w.yes, "outcome": outcome });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        return Ok(outcome.exit_code);
    }
    let results: Vec<DatabaseResult> = if many {
        run_many(args, &folder, &targets)
    } else {
        vec![run_one(args, &folder, &targets[0], mode, color)]
    };
    let code = results
        .iter()
        .map(|r| r.exit_code)
        .max()
        .unwrap_or(exit::OK);
    match args.format {
        Format::Json => {
            let layout = folder.layout.describe();
            let report = Report {
                command: command_name(&args.command),
                dir: args.dir.display().to_string(),
                layout,
                exit_code: code,
                databases: &results,
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
        Format::Text => {
            if many {
                print_summary(&results);
            } else if let Some(r) = results.first() {
                print_single(args, r);
            }
        }
    }
    Ok(code)
}

/// Several databases, `--jobs` at a time; without `--keep-going` no new
/// one starts after a failure (the others are reported as skipped).
fn run_many(args: &MigrateArgs, folder: &files::Folder, targets: &[Target]) -> Vec<DatabaseResult> {
    let next = Mutex::new(0usize);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let results: Mutex<Vec<(usize, DatabaseResult)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..args.jobs.min(targets.len()) {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(t) = targets.get(i) else { break };
                let r = if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    DatabaseResult {
                        database: t.label(),
                        ok: false,
                        exit_code: exit::OK,
                        applied: 0,
                        failed: 0,
                        duration_ms: 0.0,
                        migrations: Vec::new(),
                        rows: Vec::new(),
                        error: Some(ErrorJson {
                            message: "skipped: an earlier database failed (use --keep-going)"
                                .into(),
                            lines: vec![],
                        }),
                    }
                } else {
                    run_one(args, folder, t, Mode::Quiet, false)
                };
                if !r.ok && r.exit_code != exit::OK && !args.keep_going {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut r = results.into_inner().unwrap();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, r)| r).collect()
}

fn failed_result(
    database: String,
    started: Instant,
    e: CliError,
    migrations: Vec<Applied>,
) -> DatabaseResult {
    DatabaseResult {
        database,
        ok: false,
        exit_code: e.exit_code,
        applied: migrations.iter().filter(|m| m.state == "applied").count(),
        failed: migrations.iter().filter(|m| m.state == "failed").count(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        migrations,
        rows: Vec::new(),
        error: Some(ErrorJson {
            message: e.message,
            lines: e.lines,
        }),
    }
}

fn run_one(
    args: &MigrateArgs,
    folder: &files::Folder,
    target: &Target,
    mode: Mode,
    color: bool,
) -> DatabaseResult {
    let started = Instant::now();
    let label = target.label();
    let progress_slot: Arc<Mutex<Option<Arc<Progress>>>> = Arc::new(Mutex::new(None));
    let slot = progress_slot.clone();
    let sink: NoticeSink = Arc::new(move |text: &str| {
        if let Some(p) = slot.lock().unwrap().as_ref() {
            p.notice(text);
        }
    });
    let mut c = match target.connect_with_notices(Some(sink)) {
        Ok(c) => c,
        Err(e) => return failed_result(label, started, e, Vec::new()),
    };
    if let Err(e) = apply::require_extension(&mut c) {
        return failed_result(label, started, e, Vec::new());
    }
    let mut rows = Vec::new();
    let outcome: Result<Vec<Applied>, CliError> = (|| match &args.command {
        MigrateCommand::Wizard(_) => Err(CliError::usage("the wizard runs on its own")),
        MigrateCommand::Up { target: t } => {
            let reg = apply::register_all(&mut c, &folder.migrations)?;
            let p = Arc::new(Progress::new(mode, reg.pending, color));
            *progress_slot.lock().unwrap() = Some(p.clone());
            // a second connection for the progress of long statements
            let mut watcher = if mode == Mode::Quiet {
                None
            } else {
                target.connect().ok()
            };
            let r = apply::up(
                &mut c,
                watcher.as_mut(),
                &folder.migrations,
                t.as_deref(),
                &p,
            );
            p.finish();
            r
        }
        MigrateCommand::Down { steps, to } => {
            apply::register_all(&mut c, &folder.migrations)?;
            const COLUMNS: &str = "version, name, state, extract(epoch FROM duration)::float8 * 1000, statements, message";
            let steps = steps.unwrap_or(1);
            let res = match to {
                Some(v) => c.query(
                    &format!("SELECT {COLUMNS} FROM confiture.rollback_to($1)"),
                    &[v],
                ),
                None => c.query(
                    &format!("SELECT {COLUMNS} FROM confiture.rollback($1)"),
                    &[&steps],
                ),
            }
            .map_err(|e| {
                apply::server_error(
                    exit::FAILED,
                    "rollback failed (nothing was rolled back)",
                    &e,
                )
            })?;
            Ok(res
                .iter()
                .map(|r| Applied {
                    version: r.get(0),
                    name: r.get(1),
                    state: "rolled back".into(),
                    duration_ms: r.get::<_, Option<f64>>(3).unwrap_or(0.0),
                    statements: r.get(4),
                    mode: "server",
                    message: r.get(5),
                    failed_statement: None,
                    failed_line: None,
                    sqlstate: None,
                    file: None,
                })
                .collect())
        }
        MigrateCommand::Status => {
            let res = c
                .query("SELECT version, name, state, drifted, applied_at::text, applied_by::text, last_error FROM confiture.status()", &[])
                .map_err(|e| apply::server_error(exit::FAILED, "cannot read the ledger", &e))?;
            let known: std::collections::BTreeSet<String> =
                res.iter().map(|r| r.get::<_, String>(0)).collect();
            for r in &res {
                rows.push(serde_json::json!({
                    "version": r.get::<_, String>(0), "name": r.get::<_, String>(1), "state": r.get::<_, String>(2),
                    "drifted": r.get::<_, bool>(3), "applied_at": r.get::<_, Option<String>>(4),
                    "applied_by": r.get::<_, Option<String>>(5), "last_error": r.get::<_, Option<String>>(6),
                }));
            }
            for f in folder
                .migrations
                .iter()
                .filter(|f| !known.contains(&f.version))
            {
                rows.push(serde_json::json!({ "version": f.version, "name": f.name, "state": "not registered",
                                              "drifted": false, "applied_at": null, "applied_by": null, "last_error": null }));
            }
            Ok(Vec::new())
        }
        MigrateCommand::Baseline { through } => {
            apply::register_all(&mut c, &folder.migrations)?;
            let n: i32 = c
                .query_one("SELECT confiture.baseline($1)", &[through])
                .map_err(|e| apply::server_error(exit::FAILED, "baseline failed", &e))?
                .get(0);
            rows.push(serde_json::json!({ "baselined": n }));
            Ok(Vec::new())
        }
        MigrateCommand::DryRun { target: t } => {
            apply::register_all(&mut c, &folder.migrations)?;
            crate::calibrate::ensure(&mut c);
            let res = c
                .query(
                    "SELECT version, step, kind, statement, outcome, extract(epoch FROM duration)::float8 * 1000,
                            locks, rewritten, extract(epoch FROM estimated_duration)::float8 * 1000, message
                       FROM confiture.dry_run(target => $1) ORDER BY version, step",
                    &[t],
                )
                .map_err(|e| apply::server_error(exit::FAILED, "dry run failed", &e))?;
            for r in &res {
                rows.push(serde_json::json!({
                    "version": r.get::<_, String>(0), "step": r.get::<_, i32>(1), "kind": r.get::<_, String>(2),
                    "statement": r.get::<_, Option<String>>(3), "outcome": r.get::<_, String>(4),
                    "duration_ms": r.get::<_, Option<f64>>(5), "locks": r.get::<_, Option<Vec<String>>>(6),
                    "rewritten": r.get::<_, Option<Vec<String>>>(7), "estimated_ms": r.get::<_, Option<f64>>(8),
                    "message": r.get::<_, Option<String>>(9),
                }));
            }
            Ok(Vec::new())
        }
        MigrateCommand::Plan { target: t } => {
            crate::calibrate::ensure(&mut c);
            // register in a transaction that is rolled back: plan changes nothing
            let mut tx = c
                .transaction()
                .map_err(|e| apply::server_error(exit::FAILED, "cannot start a transaction", &e))?;
            tx.batch_execute("SET LOCAL client_min_messages = warning")
                .ok();
            for f in &folder.migrations {
                tx.execute(
                    "SELECT confiture.register($1, $2, $3, $4, allow_syntax_errors => true)",
                    &[&f.version, &f.name, &f.up, &f.down],
                )
                .map_err(|e| {
                    apply::server_error(
                        exit::REFUSED,
                        &format!("cannot register {}", f.up_path.display()),
                        &e,
                    )
                })?;
            }
            let pending = tx
                .query(
                    "SELECT s.version, s.name, s.statements, m.transactional FROM confiture.status() s
                       JOIN confiture.migrations m USING (version)
                      WHERE s.state IN ('pending', 'failed')
                        AND ($1::text IS NULL OR m.sort_key <= (SELECT sort_key FROM confiture.migrations WHERE version = $1))
                      ORDER BY m.sort_key",
                    &[t],
                )
                .map_err(|e| apply::server_error(exit::FAILED, "cannot read the ledger", &e))?;
            for p in &pending {
                let version: String = p.get(0);
                let statements: Option<i32> = p.get(2);
                // SQL this server cannot parse has no assessment: say so
                let risk = match statements {
                    Some(_) => tx
                        .query_one(
                            "SELECT (array_agg(q.tier ORDER BY CASE q.tier WHEN 'dangerous' THEN 3 WHEN 'caution' THEN 2 ELSE 1 END DESC))[1],
                                    (array_agg(q.lock ORDER BY CASE q.lock WHEN 'AccessExclusiveLock' THEN 8 WHEN 'ExclusiveLock' THEN 7
                                         WHEN 'ShareRowExclusiveLock' THEN 6 WHEN 'ShareLock' THEN 5 WHEN 'ShareUpdateExclusiveLock' THEN 4
                                         WHEN 'RowExclusiveLock' THEN 3 WHEN 'RowShareLock' THEN 2 ELSE 1 END DESC))[1],
                                    sum(extract(epoch FROM q.estimated_duration) * 1000)::float8
                               FROM confiture.assess_migration($1) q",
                            &[&version],
                        )
                        .map(|r| (r.get::<_, Option<String>>(0), r.get::<_, Option<String>>(1), r.get::<_, Option<f64>>(2)))
                        .map_err(|e| apply::server_error(exit::FAILED, &format!("cannot assess migration {version}"), &e))?,
                    None => (Some("does not parse".into()), None, None),
                };
                rows.push(serde_json::json!({
                    "version": version, "name": p.get::<_, String>(1), "statements": statements,
                    "tier": risk.0, "longest_lock": risk.1, "estimated_ms": risk.2,
                    "mode": if p.get::<_, bool>(3) { "server" } else { "client" },
                }));
            }
            tx.rollback().ok();
            Ok(Vec::new())
        }
    })();
    match outcome {
        Ok(migrations) => {
            let failed = migrations.iter().filter(|m| m.state == "failed").count();
            DatabaseResult {
                database: label,
                ok: failed == 0,
                exit_code: if failed > 0 { exit::FAILED } else { exit::OK },
                applied: migrations.iter().filter(|m| m.state == "applied").count(),
                failed,
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                migrations,
                rows,
                error: None,
            }
        }
        Err(e) => failed_result(label, started, e, Vec::new()),
    }
}

fn print_single(args: &MigrateArgs, r: &DatabaseResult) {
    if let Some(e) = &r.error {
        CliError {
            exit_code: r.exit_code,
            message: e.message.clone(),
            lines: e.lines.clone(),
        }
        .print();
        return;
    }
    match &args.command {
        MigrateCommand::Up { .. } => {
            println!(
                "{}: {} applied, {} failed in {:.1} s",
                r.database,
                r.applied,
                r.failed,
                r.duration_ms / 1000.0
            );
            if r.applied == 0 && r.failed == 0 {
                println!("nothing to apply");
            }
        }
        MigrateCommand::Down { .. } => {
            for m in &r.migrations {
                println!(
                    "rolled back {} {} ({:.0} ms)",
                    m.version, m.name, m.duration_ms
                );
            }
        }
        MigrateCommand::Status => print_table(
            &r.rows,
            &[
                "version",
                "name",
                "state",
                "drifted",
                "applied_at",
                "last_error",
            ],
        ),
        MigrateCommand::Plan { .. } => print_table(
            &r.rows,
            &[
                "version",
                "name",
                "statements",
                "tier",
                "longest_lock",
                "estimated_ms",
                "mode",
            ],
        ),
        MigrateCommand::DryRun { .. } => print_table(
            &r.rows,
            &[
                "version",
                "step",
                "kind",
                "statement",
                "outcome",
                "duration_ms",
                "locks",
                "estimated_ms",
            ],
        ),
        MigrateCommand::Baseline { .. } => print_table(&r.rows, &["baselined"]),
        MigrateCommand::Wizard(_) => {}
    }
}

/// Rows as an aligned table, psql-like; long cells are cut to fit.
fn print_table(rows: &[serde_json::Value], columns: &[&str]) {
    let cell = |row: &serde_json::Value, c: &str| -> String {
        let v = &row[c];
        let s = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.lines().next().unwrap_or("").to_owned(),
            serde_json::Value::Number(n) if n.is_f64() => {
                format!("{:.1}", n.as_f64().unwrap_or(0.0))
            }
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        if s.chars().count() > 48 {
            format!("{}...", s.chars().take(45).collect::<String>())
        } else {
            s
        }
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|c| cell(r, c)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let line = |values: Vec<String>| -> String {
        values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_owned()
    };
    println!("{}", line(columns.iter().map(|c| c.to_string()).collect()));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    );
    for r in cells {
        println!("{}", line(r));
    }
    println!(
        "({} row{})",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
}

fn print_summary(results: &[DatabaseResult]) {
    let width = results
        .iter()
        .map(|r| r.database.len())
        .max()
        .unwrap_or(8)
        .max(8);
    println!(
        "{:<width$}  {:>7}  {:>6}  {:>8}  result",
        "database", "applied", "failed", "time"
    );
    for r in results {
        let result = match &r.error {
            Some(e) => e.message.clone(),
            None if r.failed > 0 => {
                let m = r.migrations.iter().find(|m| m.state == "failed");
                m.map(|m| {
                    format!(
                        "{} failed: {}",
                        m.version,
                        m.message.as_deref().unwrap_or("")
                    )
                })
                .unwrap_or_default()
            }
            None => "ok".into(),
        };
        println!(
            "{:<width$}  {:>7}  {:>6}  {:>7.1}s  {}",
            r.database,
            r.applied,
            r.failed,
            r.duration_ms / 1000.0,
            result
        );
    }
}
