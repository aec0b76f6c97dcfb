//! Lint rules over migration SQL. Each rule is a file under `rules/`: an
//! id, a default severity, a one-line message, why it matters and the safe
//! alternative, and a check over one statement of the DDL model that knows
//! what earlier statements of the same script did ([`Context`]).

pub mod catalog;
pub mod identifiers;
pub mod ignore;
pub mod rules;

use crate::ddl::state::ScriptState;
use crate::ddl::{
    AlterTableCmd, ObjectKind, QualifiedName, Statement, StatementKind, TransactionKind,
};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A rule: what it flags, why, and what to do instead.
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub message: &'static str,
    pub why: &'static str,
    pub alternative: &'static str,
    pub check: fn(&Statement, &Context, &mut Vec<Hit>),
}

/// One thing a rule found in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub object: String,
    /// Specific message; the rule's own when empty.
    pub detail: String,
}

impl Hit {
    pub fn on(object: impl ToString, detail: impl Into<String>) -> Hit {
        Hit {
            object: object.to_string(),
            detail: detail.into(),
        }
    }
}

/// A finding, located in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub object: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub suggestion: &'static str,
}

/// What the statements before this one did, and what the server knows
/// (in the DDL guard, tables created earlier in the same transaction).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Relations, schemas and columns the script created, following renames.
    pub state: ScriptState,
    /// A non-zero `lock_timeout` is in effect.
    pub lock_timeout: bool,
    /// A non-zero `statement_timeout` is in effect.
    pub statement_timeout: bool,
    /// Source text of the current statement (for identifier lengths).
    pub text: String,
    /// An explicit BEGIN of the script is open.
    pub in_transaction: bool,
    /// Views, functions and triggers the script creates (`view:v`,
    /// `function:f`, `trigger:table.trg`): dropping one to create it again
    /// in the same script breaks nothing.
    pub recreated: BTreeSet<String>,
    /// Where the script last sets each column's default (`table.column` as
    /// written → offset): a DROP DEFAULT before it is a swap, not a removal.
    pub default_set_at: std::collections::BTreeMap<String, usize>,
    /// Offsets of the script's BEGINs that no COMMIT / ROLLBACK closes.
    pub unclosed_begins: BTreeSet<usize>,
    /// An existing table on which ACCESS EXCLUSIVE is held (until COMMIT).
    pub holding_access_exclusive: Option<String>,
    /// How many ALTER TABLE statements each existing table has had.
    pub altered: std::collections::BTreeMap<String, usize>,
    /// With a database: the size of the existing tables the script names
    /// (by the name as written), and `confiture.lock_budget` in ms. Rules
    /// about a lock held while the table is scanned, rewritten or indexed
    /// then take their severity from the estimated time under the lock.
    pub sizes: std::collections::BTreeMap<String, TableSize>,
    pub lock_budget_ms: Option<f64>,
}

/// `pg_class.reltuples` and `relpages` of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableSize {
    pub rows: f64,
    pub pages: f64,
}

/// Rules whose cost grows with the table while a blocking lock is held.
pub const SIZED_RULES: &[&str] = &[
    "index-not-concurrent",
    "constraint-not-valid",
    "blocking-unique",
    "set-not-null",
    "volatile-default",
    "add-serial-column",
    "change-column-type",
    "table-rewrite",
    "reindex-not-concurrent",
    "exclusion-constraint",
];

/// The estimated time `stmt` holds its lock on `table` of `size`, in ms.
pub fn estimate_ms(stmt: &Statement, size: TableSize) -> f64 {
    let a = crate::risk::assess(stmt, &crate::risk::Context::default());
    size.rows.max(0.0) * crate::risk::micros_per_row(&a) / 1000.0
}

fn human_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{:.1} min", ms / 60_000.0)
    }
}

/// Size-aware severity: info when the estimated time under the lock fits
/// the budget, error when it does not; the message says both.
fn sized(stmt: &Statement, ctx: &Context, object: &str, f: &mut Finding) {
    let Some(budget) = ctx.lock_budget_ms else {
        return;
    };
    // the hit's object is the table, or table.column
    let table = stmt
        .target_tables()
        .into_iter()
        .find(|t| object == t.to_string() || object.starts_with(&format!("{t}.")));
    let Some(table) = table else { return };
    let Some(size) = ctx.sizes.get(&table.to_string()).copied() else {
        return;
    };
    if size.rows < 0.0 {
        return; // never analyzed nor vacuumed: the catalog does not know, keep the rule's severity
    }
    let ms = estimate_ms(stmt, size);
    let lock = crate::risk::locks::statement_locks(stmt)
        .into_iter()
        .find(|(t, _)| *t == table)
        .map(|(_, m)| crate::risk::locks::sql_mode(m))
        .unwrap_or_else(|| "its lock".into());
    f.severity = if ms > budget {
        Severity::Error
    } else {
        Severity::Info
    };
    f.message = format!(
        "{} [{table}: {:.0} rows, {:.0} pages; about {} under {lock}, confiture.lock_budget {}]",
        f.message,
        size.rows,
        size.pages,
        human_ms(ms),
        human_ms(budget)
    );
}

/// Is a `SET lock_timeout` / `statement_timeout` value a real bound? `0`
/// (any unit) and `DEFAULT` wait forever.
pub fn is_timeout(value: Option<&str>) -> bool {
    let Some(v) = value else { return false };
    let v = v.trim().to_ascii_lowercase();
    if v.is_empty() || v == "default" {
        return false;
    }
    let digits: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    match digits.parse::<f64>() {
        Ok(n) => n > 0.0,
        Err(_) => true,
    }
}

impl Context {
    pub fn is_new(&self, t: &QualifiedName) -> bool {
        self.state.is_new(t)
    }

    /// Remember what `stmt` did for the statements after it.
    pub fn after(&mut self, stmt: &Statement) {
        match &stmt.kind {
            StatementKind::Set { name, value, .. } if name == "lock_timeout" => {
                self.lock_timeout = is_timeout(value.as_deref());
            }
            StatementKind::Set { name, value, .. } if name == "statement_timeout" => {
                self.statement_timeout = is_timeout(value.as_deref());
            }
            StatementKind::Transaction(TransactionKind::Begin) => self.in_transaction = true,
            StatementKind::Transaction(
                TransactionKind::Commit | TransactionKind::Rollback | TransactionKind::Prepare,
            ) => {
                self.in_transaction = false;
                self.holding_access_exclusive = None;
            }
            StatementKind::AlterTable(at) if !self.is_new(&at.table) => {
                *self.altered.entry(self.state.key(&at.table)).or_default() += 1;
            }
            _ => {}
        }
        if self.holding_access_exclusive.is_none() {
            self.holding_access_exclusive = crate::risk::locks::statement_locks(stmt)
                .into_iter()
                .find(|(t, m)| *m == crate::risk::locks::ACCESS_EXCLUSIVE && !self.is_new(t))
                .map(|(t, _)| t.to_string());
        }
        self.state.after(stmt);
    }
}

/// Configuration from the server's tables: rules switched off, severity
/// overrides, exemptions by object pattern.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub disabled: BTreeSet<String>,
    /// Rules switched on that are off by default ([`rules::OFF_BY_DEFAULT`]).
    pub enabled: BTreeSet<String>,
    pub severities: Vec<(String, Severity)>,
    /// (rule or "*", SQL LIKE pattern on the object)
    pub exemptions: Vec<(String, String)>,
}

impl Config {
    /// Is rule `id` on: switched on or off explicitly, else its default.
    pub fn is_enabled(&self, id: &str) -> bool {
        if self.disabled.contains(id) {
            return false;
        }
        self.enabled.contains(id) || !rules::OFF_BY_DEFAULT.contains(&id)
    }
    fn severity(&self, rule: &Rule) -> Severity {
        self.severity_of(rule.id, rule.severity)
    }
    /// The severity configured for rule `id`, else its default.
    pub fn severity_of(&self, id: &str, default: Severity) -> Severity {
        self.severities
            .iter()
            .find(|(r, _)| r == id)
            .map(|(_, s)| *s)
            .unwrap_or(default)
    }
    /// Is `object` exempt from `rule` (or from every rule)?
    pub fn exempt(&self, rule: &str, object: &str) -> bool {
        self.exemptions
            .iter()
            .any(|(r, p)| (r == rule || r == "*") && crate::hooks::like(p, object))
    }
}

/// Lint every statement of a script. `statements` come from the server's
/// parser; `src` is the script text (for positions and ignore comments).
pub fn lint(
    src: &str,
    statements: &[Statement],
    config: &Config,
    ctx: &mut Context,
) -> Vec<Finding> {
    lint_with_progress(src, statements, config, ctx, &mut || {})
}

/// [`lint`], calling `tick` before each statement: the server checks for
/// interrupts there, so a long script can be cancelled.
pub fn lint_with_progress(
    src: &str,
    statements: &[Statement],
    config: &Config,
    ctx: &mut Context,
    tick: &mut dyn FnMut(),
) -> Vec<Finding> {
    let file_ignores = ignore::file_ignores(src);
    let mut out = Vec::new();
    ctx.unclosed_begins = unclosed_begins(statements);
    ctx.recreated = statements.iter().filter_map(created_object).collect();
    ctx.default_set_at = statements
        .iter()
        .flat_map(|s| {
            let at = s.span.start;
            match &s.kind {
                StatementKind::AlterTable(t) => t
                    .commands
                    .iter()
                    .filter_map(|c| match c {
                        AlterTableCmd::SetDefault { column, .. } => {
                            Some((format!("{}.{column}", t.table), at))
                        }
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            }
        })
        .collect();
    let mut prev_end = 0;
    let mut locator = crate::source::Locator::new(src);
    for stmt in statements {
        tick();
        let ignores = ignore::statement_ignores(src, prev_end, stmt.span.start);
        prev_end = stmt.span.end;
        ctx.text = stmt.span.text(src).to_owned();
        let (line, column) = locator.line_col(stmt.span.start);
        for f in check(stmt, config, ctx) {
            if [f.rule, "all"]
                .iter()
                .any(|r| file_ignores.contains(*r) || ignores.contains(*r))
            {
                continue;
            }
            out.push(Finding { line, column, ..f });
        }
        ctx.after(stmt);
    }
    rules::lock_timeout::merge(
        &mut out,
        "missing-lock-timeout",
        " with no lock_timeout set",
        "take locks that queue every query on their tables, with no lock_timeout set",
    );
    rules::lock_timeout::merge(
        &mut out,
        "missing-statement-timeout",
        " with no statement_timeout set",
        "hold locks that block other queries, with no statement_timeout set",
    );
    rules::lock_timeout::merge(
        &mut out,
        "statements-after-access-exclusive",
        "",
        "run while ACCESS EXCLUSIVE is held",
    );
    out
}

/// The view, function or trigger a statement creates, as [`Context::recreated`] names it.
pub fn created_object(s: &Statement) -> Option<String> {
    match &s.kind {
        StatementKind::CreateView { name, .. } => Some(format!("view:{}", name.name)),
        StatementKind::CreateFunction(f) => Some(format!("function:{}", f.name.name)),
        StatementKind::CreateTrigger { table, name } => {
            Some(format!("trigger:{}.{name}", table.name))
        }
        // a rename provides the new name (DROP TYPE t; ALTER TYPE t_new RENAME
        // TO t), or parks the old object under it to be dropped (ALTER TYPE t
        // RENAME TO t_old; ... DROP TYPE t_old)
        StatementKind::Rename(r) if r.sub.is_none() => {
            let kind = match r.object {
                ObjectKind::View | ObjectKind::MaterializedView => "view",
                ObjectKind::Function | ObjectKind::Procedure => "function",
                ObjectKind::Type | ObjectKind::Domain => "type",
                _ => return None,
            };
            Some(format!("{kind}:{}", r.new_name))
        }
        _ => None,
    }
}

/// The BEGINs no COMMIT, ROLLBACK or PREPARE TRANSACTION closes.
fn unclosed_begins(statements: &[Statement]) -> BTreeSet<usize> {
    let mut open: Option<usize> = None;
    let mut out = BTreeSet::new();
    for s in statements {
        match &s.kind {
            StatementKind::Transaction(TransactionKind::Begin) => {
                if open.is_none() {
                    open = Some(s.span.start);
                }
            }
            StatementKind::Transaction(
                TransactionKind::Commit | TransactionKind::Rollback | TransactionKind::Prepare,
            ) => open = None,
            _ => {}
        }
    }
    out.extend(open);
    out
}

/// The findings of one statement (line and column left at 0).
pub fn check(stmt: &Statement, config: &Config, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in rules::ALL {
        if !config.is_enabled(rule.id) {
            continue;
        }
        let mut hits = Vec::new();
        (rule.check)(stmt, ctx, &mut hits);
        for h in hits {
            if config.exempt(rule.id, &h.object) {
                continue;
            }
            let configured = config.severities.iter().any(|(r, _)| r == rule.id);
            let object = h.object.clone();
            let mut f = Finding {
                rule: rule.id,
                severity: config.severity(rule),
                message: if h.detail.is_empty() {
                    rule.message.to_owned()
                } else {
                    h.detail
                },
                object: h.object,
                line: 0,
                column: 0,
                suggestion: rule.alternative,
            };
            if !configured && SIZED_RULES.contains(&rule.id) {
                sized(stmt, ctx, &object, &mut f);
            }
            out.push(f);
        }
    }
    out
}

/// The ALTER TABLE subcommands of `stmt` on a table that existed before the
/// script (a table created in it has no readers to block): what most rules
/// look at.
pub fn existing_table_commands<'a>(
    stmt: &'a Statement,
    ctx: &Context,
) -> impl Iterator<Item = (&'a QualifiedName, &'a AlterTableCmd)> {
    let commands = match &stmt.kind {
        StatementKind::AlterTable(at) if !ctx.is_new(&at.table) => at.commands.as_slice(),
        _ => &[],
    };
    let table = match &stmt.kind {
        StatementKind::AlterTable(at) => Some(&at.table),
        _ => None,
    };
    commands.iter().filter_map(move |c| table.map(|t| (t, c)))
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    rules::ALL.iter().copied().find(|r| r.id == id)
}
