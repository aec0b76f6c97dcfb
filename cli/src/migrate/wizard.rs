//! `confiture migrate wizard`: a person reviews each pending migration —
//! its SQL, the risk of every statement, the lint findings, the tier — and
//! applies it, dry-runs it first, or stops. With `--yes --max-tier T` the
//! same judgement is a gate for CI: apply up to the first migration above
//! the tier, then refuse (exit 5). The judgement is the extension's
//! (`assess_migration`, `lint`, `dry_run`); this only asks.

use super::apply::{self, Applied};
use super::files::MigrationFile;
use super::progress::{Mode, Progress};
use crate::error::{exit, CliError};
use console::{style, Key, Term};
use postgres::Client;
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Safe,
    Caution,
    Dangerous,
}

impl Tier {
    fn parse(s: &str) -> Tier {
        match s {
            "safe" => Tier::Safe,
            "caution" => Tier::Caution,
            _ => Tier::Dangerous,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Tier::Safe => "safe",
            Tier::Caution => "caution",
            Tier::Dangerous => "dangerous",
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct WizardArgs {
    /// Review up to this version
    #[arg(long)]
    pub target: Option<String>,
    /// No prompts: apply while the tier allows, then refuse (a CI gate)
    #[arg(long)]
    pub yes: bool,
    /// With --yes: the highest tier applied without a person
    #[arg(long, value_enum, default_value_t = Tier::Safe)]
    pub max_tier: Tier,
    /// A note kept with each approval (asked once when interactive)
    #[arg(long)]
    pub note: Option<String>,
    /// Scale the estimates to production: N times the rows here
    #[arg(long)]
    pub scale: Option<f64>,
}

/// One statement's assessment.
#[derive(Debug, Clone, Serialize)]
pub struct StatementRisk {
    pub statement: i32,
    pub line: Option<i32>,
    pub sql: String,
    pub lock: Option<String>,
    pub blocks: Option<String>,
    pub rewrite: Option<String>,
    pub full_scan: Option<bool>,
    pub data_loss: Option<String>,
    pub compatibility: Option<String>,
    pub recommendations: Vec<String>,
    pub inverse: Option<String>,
    pub tier: String,
    pub reasons: Vec<String>,
    pub estimated_ms: Option<f64>,
}

/// A pending migration as the wizard shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub version: String,
    pub name: String,
    pub statements: Option<i32>,
    pub tier: Tier,
    pub longest_lock: Option<String>,
    pub estimated_ms: f64,
    pub risks: Vec<StatementRisk>,
    pub lint: Vec<serde_json::Value>,
    pub up_sql: String,
    /// What happened: applied, failed, skipped, refused, not reached.
    pub decision: String,
    pub result: Option<Applied>,
}

fn lock_rank(lock: &str) -> u8 {
    match lock {
        "AccessExclusiveLock" => 8,
        "ExclusiveLock" => 7,
        "ShareRowExclusiveLock" => 6,
        "ShareLock" => 5,
        "ShareUpdateExclusiveLock" => 4,
        "RowExclusiveLock" => 3,
        "RowShareLock" => 2,
        _ => 1,
    }
}

/// Assess every pending migration up to `target`.
pub fn reviews(c: &mut Client, target: Option<&str>, scale: f64) -> Result<Vec<Review>, CliError> {
    let pending = c
        .query(
            "SELECT m.version, m.name, m.statements, m.up_sql FROM confiture.migrations m
              WHERE m.state IN ('pending', 'failed')
                AND ($1::text IS NULL OR m.sort_key <= (SELECT sort_key FROM confiture.migrations WHERE version = $1))
              ORDER BY m.sort_key",
            &[&target],
        )
        .map_err(|e| apply::server_error(exit::FAILED, "cannot read the ledger", &e))?;
    let mut out = Vec::new();
    for p in &pending {
        let version: String = p.get(0);
        let statements: Option<i32> = p.get(2);
        let up_sql: String = p.get(3);
        let risks = if statements.is_some() {
            c.query(
                "SELECT statement, line, sql, lock, blocks, rewrite, full_scan, data_loss, compatibility,
                        coalesce(recommendations, '{}'), inverse, tier, reasons,
                        extract(epoch FROM estimated_duration)::float8 * 1000
                   FROM confiture.assess_migration($1) ORDER BY statement",
                &[&version],
            )
            .map_err(|e| apply::server_error(exit::FAILED, &format!("cannot assess migration {version}"), &e))?
            .iter()
            .map(|r| StatementRisk {
                statement: r.get(0),
                line: r.get(1),
                sql: r.get::<_, Option<String>>(2).unwrap_or_default(),
                lock: r.get(3),
                blocks: r.get(4),
                rewrite: r.get(5),
                full_scan: r.get(6),
                data_loss: r.get(7),
                compatibility: r.get(8),
                recommendations: r.get(9),
                inverse: r.get(10),
                tier: r.get(11),
                reasons: r.get(12),
                estimated_ms: r.get::<_, Option<f64>>(13).map(|ms| ms * scale),
            })
            .collect()
        } else {
            Vec::new()
        };
        let lint: Vec<serde_json::Value> = c
            .query("SELECT rule, severity, line, message FROM confiture.lint($1)", &[&up_sql])
            .map(|rows| {
                rows.iter()
                    .map(|r| serde_json::json!({ "rule": r.get::<_, String>(0), "severity": r.get::<_, String>(1),
                                                 "line": r.get::<_, i32>(2), "message": r.get::<_, String>(3) }))
                    .collect()
            })
            .unwrap_or_default();
        // SQL this server cannot parse cannot be judged: the worst tier
        let tier = if statements.is_none() {
            Tier::Dangerous
        } else {
            risks
                .iter()
                .map(|r| Tier::parse(&r.tier))
                .max()
                .unwrap_or(Tier::Safe)
        };
        let longest_lock = risks
            .iter()
            .filter_map(|r| r.lock.clone())
            .max_by_key(|l| lock_rank(l));
        let estimated_ms = risks.iter().filter_map(|r| r.estimated_ms).sum();
        out.push(Review {
            version,
            name: p.get(1),
            statements,
            tier,
            longest_lock,
            estimated_ms,
            risks,
            lint,
            up_sql,
            decision: "not reached".into(),
            result: None,
        });
    }
    Ok(out)
}

fn tier_text(t: Tier, color: bool) -> String {
    if !color {
        return t.as_str().to_owned();
    }
    match t {
        Tier::Safe => style(t.as_str()).green().to_string(),
        Tier::Caution => style(t.as_str()).yellow().to_string(),
        Tier::Dangerous => style(t.as_str()).red().bold().to_string(),
    }
}

fn duration_text(ms: f64) -> String {
    let ms = ms.max(0.0);
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 120_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{:.1} min", ms / 60_000.0)
    }
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// The pending migrations as a table that fits 80 columns.
fn print_pending(term: &Term, reviews: &[Review], color: bool) {
    let _ = term.write_line(&format!("{} pending migration(s):", reviews.len()));
    let _ = term.write_line(&format!(
        "{:<18} {:<22} {:>5} {:<9} {:<22}",
        "version", "name", "stmts", "tier", "longest lock / est."
    ));
    for r in reviews {
        let lock = format!(
            "{} {}",
            r.longest_lock
                .as_deref()
                .unwrap_or("-")
                .trim_end_matches("Lock"),
            duration_text(r.estimated_ms)
        );
        let tier = format!("{:<9}", r.tier.as_str());
        let tier = if color {
            tier.replace(r.tier.as_str(), &tier_text(r.tier, true))
        } else {
            tier
        };
        let _ = term.write_line(&format!(
            "{:<18} {:<22} {:>5} {} {}",
            cut(&r.version, 18),
            cut(&r.name, 22),
            r.statements
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            tier,
            cut(&lock, 22)
        ));
    }
}

const KEYWORDS: &[&str] = &[
    "CREATE",
    "ALTER",
    "DROP",
    "TABLE",
    "INDEX",
    "CONCURRENTLY",
    "ADD",
    "COLUMN",
    "CONSTRAINT",
    "PRIMARY",
    "KEY",
    "FOREIGN",
    "REFERENCES",
    "NOT",
    "NULL",
    "DEFAULT",
    "UPDATE",
    "SET",
    "WHERE",
    "INSERT",
    "INTO",
    "VALUES",
    "DELETE",
    "FROM",
    "SELECT",
    "TYPE",
    "USING",
    "UNIQUE",
    "CHECK",
    "VALID",
    "VALIDATE",
    "RENAME",
    "TO",
    "ON",
    "IF",
    "EXISTS",
    "BEGIN",
    "COMMIT",
    "TRUNCATE",
    "GRANT",
    "REVOKE",
    "AND",
    "OR",
    "AS",
];

/// SQL with keywords highlighted and line numbers; paged when long.
fn show_sql(term: &Term, sql: &str, color: bool, all: bool) {
    let lines: Vec<&str> = sql.lines().collect();
    let limit = if all {
        lines.len()
    } else {
        lines.len().min(30)
    };
    for (i, line) in lines.iter().take(limit).enumerate() {
        let text = if color {
            line.split_inclusive(|c: char| !c.is_alphanumeric() && c != '_')
                .map(|w| {
                    let word = w.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
                    if KEYWORDS.contains(&word.to_ascii_uppercase().as_str()) && !word.is_empty() {
                        format!("{}{}", style(word).cyan().bold(), &w[word.len()..])
                    } else {
                        w.to_owned()
                    }
                })
                .collect::<String>()
        } else {
            line.to_string()
        };
        let _ = term.write_line(&format!("{:>4} | {text}", i + 1));
    }
    if limit < lines.len() {
        let _ = term.write_line(&format!(
            "     … {} more line(s): p shows all",
            lines.len() - limit
        ));
    }
}

fn show_review(term: &Term, r: &Review, color: bool, n: usize, total: usize) {
    let _ = term.write_line("");
    let _ = term.write_line(&format!(
        "── {n}/{total}: {} {} ── tier {} ──",
        r.version,
        r.name,
        tier_text(r.tier, color)
    ));
    show_sql(term, &r.up_sql, color, false);
    if r.statements.is_none() {
        let _ = term.write_line("  this server cannot parse it: applying it will fail");
    }
    let _ = term.write_line("  risk:");
    for s in &r.risks {
        let _ = term.write_line(&format!(
            "  #{:<2} {:<9} {} | blocks {} | rewrite {} | scan {} | loss {} | ~{}",
            s.statement,
            tier_text(Tier::parse(&s.tier), color),
            s.lock.as_deref().unwrap_or("-"),
            s.blocks.as_deref().unwrap_or("-"),
            s.rewrite.as_deref().unwrap_or("-"),
            if s.full_scan == Some(true) {
                "yes"
            } else {
                "no"
            },
            s.data_loss.as_deref().unwrap_or("none"),
            s.estimated_ms
                .map(duration_text)
                .unwrap_or_else(|| "?".into())
        ));
        if let Some(c) = &s.compatibility {
            let _ = term.write_line(&format!("      compatibility: {c}"));
        }
        for rec in &s.recommendations {
            let _ = term.write_line(&format!("      advice: {rec}"));
        }
        if let Some(inv) = &s.inverse {
            let _ = term.write_line(&format!("      undo: {}", cut(inv, 70)));
        }
        for reason in &s.reasons {
            let _ = term.write_line(&format!("      why {}: {reason}", s.tier));
        }
    }
    for f in &r.lint {
        let _ = term.write_line(&format!(
            "  lint line {}: {} {}: {}",
            f["line"],
            f["severity"].as_str().unwrap_or(""),
            f["rule"].as_str().unwrap_or(""),
            cut(f["message"].as_str().unwrap_or(""), 50)
        ));
    }
}

fn show_dry_run(term: &Term, c: &mut Client, version: &str) {
    let rows = c.query(
        "SELECT step, kind, coalesce(statement, ''), outcome, extract(epoch FROM duration)::float8 * 1000,
                coalesce(rows_inserted, 0) + coalesce(rows_updated, 0) + coalesce(rows_deleted, 0),
                coalesce(locks, '{}'), coalesce(rewritten, '{}'), extract(epoch FROM estimated_duration)::float8 * 1000, message
           FROM confiture.dry_run(target => $1) WHERE version = $1 ORDER BY step",
        &[&version],
    );
    match rows {
        Err(e) => {
            let _ = term.write_line(&format!(
                "  dry run failed: {}",
                e.as_db_error()
                    .map(|d| d.message().to_owned())
                    .unwrap_or(e.to_string())
            ));
        }
        Ok(rows) => {
            let _ = term.write_line("  dry run (rolled back):");
            for r in rows {
                let locks: Vec<String> = r.get(6);
                let rewritten: Vec<String> = r.get(7);
                let _ = term.write_line(&format!(
                    "  {:>2} {:<10} {:<8} {:>8} rows {:>6} {}",
                    r.get::<_, i32>(0),
                    cut(&r.get::<_, String>(1), 10),
                    r.get::<_, String>(3),
                    duration_text(r.get::<_, Option<f64>>(4).unwrap_or(0.0)),
                    r.get::<_, i64>(5),
                    cut(&r.get::<_, String>(2), 36)
                ));
                if !locks.is_empty() {
                    let _ = term.write_line(&format!("       locks: {}", locks.join(", ")));
                }
                if !rewritten.is_empty() {
                    let _ = term.write_line(&format!("       rewrote: {}", rewritten.join(", ")));
                }
                if let Some(ms) = r.get::<_, Option<f64>>(8) {
                    let _ = term.write_line(&format!(
                        "       estimate in production: {}",
                        duration_text(ms)
                    ));
                }
                if let Some(m) = r.get::<_, Option<String>>(9) {
                    let _ = term.write_line(&format!("       {}", cut(&m, 70)));
                }
            }
        }
    }
}

fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// The outcome of a wizard session.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub reviews: Vec<Review>,
    pub applied: usize,
    pub skipped: usize,
    pub failed: usize,
    pub refused: Option<String>,
    pub duration_ms: f64,
    pub exit_code: u8,
}

fn apply_one(
    c: &mut Client,
    files: &[MigrationFile],
    r: &mut Review,
    note: Option<&str>,
    progress: &Progress,
) -> Result<bool, CliError> {
    c.query_one(
        "SELECT confiture.record_approval($1, $2, $3)",
        &[&r.version, &os_user(), &note],
    )
    .map_err(|e| {
        apply::server_error(
            exit::FAILED,
            &format!("cannot record the approval of {}", r.version),
            &e,
        )
    })?;
    let applied = apply::up(c, None, files, Some(&r.version), progress)?;
    let last = applied.into_iter().last();
    let ok = last.as_ref().is_some_and(|a| a.state == "applied");
    r.decision = if ok {
        "applied".into()
    } else {
        "failed".into()
    };
    r.result = last;
    Ok(ok)
}

/// The whole session: interactive, or the `--yes` gate.
pub fn run(
    c: &mut Client,
    files: &[MigrationFile],
    args: &WizardArgs,
    json: bool,
) -> Result<Outcome, CliError> {
    let started = Instant::now();
    let term = Term::stdout();
    let color =
        console::colors_enabled() && std::env::var_os("NO_COLOR").is_none() && term.is_term();
    let mut reviews = reviews(c, args.target.as_deref(), args.scale.unwrap_or(1.0))?;
    let interactive = !args.yes;
    if interactive && !term.is_term() {
        return Err(CliError::usage(
            "the wizard asks questions: run it in a terminal, or pass --yes --max-tier TIER",
        ));
    }
    let quiet = Progress::new(Mode::Quiet, reviews.len(), false);
    let progress = if json || !interactive {
        &quiet
    } else {
        &Progress::new(Mode::Lines, 0, false)
    };
    if !json {
        print_pending(&term, &reviews, color);
    }
    let mut note = args.note.clone();
    if interactive && note.is_none() && !reviews.is_empty() {
        let answer: String = dialoguer::Input::new()
            .with_prompt("Note for the approvals (enter for none)")
            .allow_empty(true)
            .interact_text_on(&term)
            .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
        note = Some(answer).filter(|s| !s.trim().is_empty());
    }
    let (mut applied, mut skipped, mut failed, mut refused) = (0, 0, 0, None);
    let total = reviews.len();
    let mut i = 0;
    'outer: while i < reviews.len() {
        let n = i + 1;
        if !interactive {
            let r = &mut reviews[i];
            if r.tier > args.max_tier {
                r.decision = "refused".into();
                refused = Some(format!(
                    "migration {} is {} (above --max-tier {}): {}",
                    r.version,
                    r.tier.as_str(),
                    args.max_tier.as_str(),
                    r.risks
                        .iter()
                        .flat_map(|s| s.reasons.clone())
                        .next()
                        .unwrap_or_else(|| "its SQL does not parse".into())
                ));
                break;
            }
            if !json {
                let _ = term.write_line(&format!(
                    "applying {} {} ({})",
                    r.version,
                    r.name,
                    r.tier.as_str()
                ));
            }
            if apply_one(c, files, r, note.as_deref(), progress)? {
                applied += 1;
            } else {
                failed += 1;
                break;
            }
            i += 1;
            continue;
        }
        show_review(&term, &reviews[i], color, n, total);
        loop {
            let _ = term.write_str("[a]pply [d]ry-run [p]review [s]kip [q]uit [?] > ");
            let key = term
                .read_key()
                .map_err(|e| CliError::usage(format!("cannot read a key: {e}")))?;
            let _ = term.write_line("");
            match key {
                Key::Char('a') => {
                    let r = &mut reviews[i];
                    if r.tier == Tier::Dangerous {
                        let typed: String = dialoguer::Input::new()
                            .with_prompt(format!(
                                "{} is dangerous: type its version to apply it",
                                r.version
                            ))
                            .allow_empty(true)
                            .interact_text_on(&term)
                            .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
                        if typed.trim() != r.version {
                            let _ =
                                term.write_line("  not applied: the version typed does not match");
                            continue;
                        }
                    }
                    let t = Instant::now();
                    let ok = apply_one(c, files, r, note.as_deref(), progress)?;
                    match &r.result {
                        Some(a) if ok => {
                            let _ = term.write_line(&format!(
                                "  applied {} in {}",
                                a.version,
                                duration_text(t.elapsed().as_secs_f64() * 1000.0)
                            ));
                        }
                        Some(a) => {
                            let _ = term.write_line(&format!(
                                "  failed at statement {} (line {}): [{}] {}",
                                a.failed_statement
                                    .map(|s| s.to_string())
                                    .unwrap_or_else(|| "?".into()),
                                a.failed_line
                                    .map(|s| s.to_string())
                                    .unwrap_or_else(|| "?".into()),
                                a.sqlstate.as_deref().unwrap_or(""),
                                a.message.as_deref().unwrap_or("")
                            ));
                            let _ = term.write_line("  everything it did was rolled back; the migrations before it stay applied");
                        }
                        None => {}
                    }
                    if ok {
                        applied += 1;
                        i += 1;
                        continue 'outer;
                    }
                    failed += 1;
                    break 'outer;
                }
                Key::Char('d') => show_dry_run(&term, c, &reviews[i].version.clone()),
                Key::Char('p') => show_sql(&term, &reviews[i].up_sql, color, true),
                Key::Char('s') => {
                    reviews[i].decision = "skipped".into();
                    skipped += 1;
                    let _ = term.write_line(
                        "  skipped: the migrations after it depend on it, so the review stops here",
                    );
                    break 'outer;
                }
                Key::Char('q') | Key::Escape => break 'outer,
                Key::Char('?') => {
                    let _ =
                        term.write_line("  a  apply it now (a dangerous one asks for its version)");
                    let _ = term.write_line("  d  dry-run it: run it in a transaction that is rolled back and show what it did");
                    let _ = term.write_line("  p  show its whole SQL");
                    let _ = term.write_line(
                        "  s  skip it, which ends the review (later migrations depend on it)",
                    );
                    let _ = term.write_line("  q  quit");
                }
                _ => {}
            }
        }
    }
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let exit_code = if failed > 0 {
        exit::FAILED
    } else if refused.is_some() {
        exit::REFUSED
    } else {
        exit::OK
    };
    if !json {
        if let Some(why) = &refused {
            let _ = term.write_line(&format!("refused: {why}"));
        }
        let _ = term.write_line(&format!(
            "summary: {applied} applied, {skipped} skipped, {failed} failed, {} not reviewed, {}",
            total - applied - skipped - failed,
            duration_text(duration_ms)
        ));
    }
    Ok(Outcome {
        reviews,
        applied,
        skipped,
        failed,
        refused,
        duration_ms,
        exit_code,
    })
}
