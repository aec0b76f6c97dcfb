//! Linting inside the server: `confiture.lint(sql)`, `lint_rules()`, the
//! configuration tables, `lint_schema()` (SQL, in sql/30_lint.sql) and the
//! DDL guard, an event trigger that lints every DDL statement as it runs.

pub mod guard;

use crate::ddl::parse;
use crate::error::{require, Error, Result};
use confiture_core::lint::{self, catalog, Config, Context, Finding, Severity};
use pgrx::prelude::*;

pgrx::extension_sql_file!(
    "../../sql/30_lint.sql",
    name = "lint",
    requires = ["ledger", lint_rules]
);

/// The lint configuration stored in `confiture.lint_rules` and
/// `confiture.lint_exemptions`.
pub fn load_config() -> Result<Config> {
    let mut config = Config::default();
    Spi::connect_mut(|c| {
        for r in c.update(
            "SELECT rule, enabled, severity FROM confiture.lint_rules",
            None,
            &[],
        )? {
            let rule: String = r.get(1)?.unwrap_or_default();
            match r.get::<bool>(2)? {
                Some(false) => {
                    config.disabled.insert(rule.clone());
                }
                Some(true) => {
                    config.enabled.insert(rule.clone());
                }
                None => {}
            }
            if let Some(s) = r.get::<String>(3)?.as_deref().and_then(Severity::parse) {
                config.severities.push((rule, s));
            }
        }
        for r in c.update(
            "SELECT coalesce(rule, '*'), object_pattern FROM confiture.lint_exemptions",
            None,
            &[],
        )? {
            config
                .exemptions
                .push((r.get(1)?.unwrap_or_default(), r.get(2)?.unwrap_or_default()));
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })
    .map_err(Error::from)?;
    Ok(config)
}

/// `reltuples` and `relpages` of the existing tables `statements` name
/// (resolved with the caller's search path), keyed by the name as written.
pub fn table_sizes(
    statements: &[confiture_core::ddl::Statement],
) -> std::collections::BTreeMap<String, lint::TableSize> {
    let mut names: Vec<confiture_core::ddl::QualifiedName> = Vec::new();
    for s in statements {
        for t in s.target_tables() {
            if !t.name.is_empty() && !names.contains(&t) {
                names.push(t);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    if names.is_empty() {
        return out;
    }
    crate::security::with_caller_search_path(|| {
        let _ = Spi::connect_mut(|c| {
            for n in &names {
                check_interrupts();
                let rows = c.update(
                    "SELECT c.reltuples::pg_catalog.float8, c.relpages::pg_catalog.float8
                       FROM pg_catalog.pg_class c
                      WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(
                            CASE WHEN $1 IS NULL THEN pg_catalog.quote_ident($2)
                                 ELSE pg_catalog.quote_ident($1) OPERATOR(pg_catalog.||) '.'
                                      OPERATOR(pg_catalog.||) pg_catalog.quote_ident($2) END)
                        AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,m}'::pg_catalog.\"char\"[])",
                    Some(1),
                    &[n.schema.clone().into(), n.name.clone().into()],
                )?;
                if let Some(r) = rows.into_iter().next() {
                    if let (Some(rows), Some(pages)) = (r.get::<f64>(1)?, r.get::<f64>(2)?) {
                        out.insert(n.to_string(), lint::TableSize { rows, pages });
                    }
                }
            }
            Ok::<_, pgrx::spi::SpiError>(())
        });
    });
    out
}

/// `confiture.lock_budget` in milliseconds.
pub fn lock_budget_ms() -> f64 {
    crate::guc::LOCK_BUDGET.get() as f64
}

/// Called per statement: a long lint can be cancelled.
fn check_interrupts() {
    pgrx::check_for_interrupts!();
}

/// Lint a script: its findings, or one `syntax-error` finding where the
/// server's parser stops.
pub fn lint_text(sql: &str, config: &Config) -> Vec<Finding> {
    // psql scripts: meta-commands and a BEGIN/COMMIT wrapper are not SQL
    let script = parse::psql_script(sql);
    let mut out = Vec::new();
    if let Some(first) = script.unresolved.first() {
        let (line, column) = confiture_core::source::line_col(sql, first.offset);
        let names: Vec<&str> = script.unresolved.iter().map(|v| v.name.as_str()).collect();
        out.push(Finding {
            rule: "psql-variable",
            severity: Severity::Error,
            object: String::new(),
            line,
            column,
            message: format!(
                "psql variable(s) that nothing sets here: {}",
                names.join(", ")
            ),
            suggestion:
                "Set them with \\set in the script, or lint with confiture lint -v name=value.",
        });
    }
    let sql = script.text.as_str();
    out.extend(match parse::parse(sql) {
        Ok(statements) => lint::lint_with_progress(
            sql,
            &statements,
            config,
            &mut Context {
                state: crate::ddl::state::script_state(&statements),
                sizes: table_sizes(&statements),
                lock_budget_ms: Some(lock_budget_ms()),
                ..Default::default()
            },
            &mut check_interrupts,
        ),
        Err(e) => vec![Finding {
            rule: "syntax-error",
            severity: Severity::Error,
            object: String::new(),
            line: e.line.unwrap_or(0),
            column: e.column.unwrap_or(0),
            message: e.message,
            suggestion: "Fix the SQL; this server's parser (PostgreSQL 15) rejects it.",
        }],
    });
    out
}

/// Lint SQL text with the migration rules: one row per finding.
#[pg_extern(volatile, parallel_safe)]
fn lint(
    sql: Option<String>,
) -> Result<
    TableIterator<
        'static,
        (
            name!(rule, String),
            name!(severity, String),
            name!(object, String),
            name!(line, i32),
            name!(column, i32),
            name!(message, String),
            name!(suggestion, String),
        ),
    >,
> {
    let _entered = crate::security::enter();
    let sql = require(sql, "confiture.lint", "sql")?;
    let config = load_config()?;
    Ok(TableIterator::new(
        lint_text(&sql, &config).into_iter().map(|f| {
            (
                f.rule.to_owned(),
                f.severity.as_str().to_owned(),
                f.object,
                f.line as i32,
                f.column as i32,
                f.message,
                f.suggestion.to_owned(),
            )
        }),
    ))
}

/// Every rule, migration and catalog, with its default and effective settings.
#[pg_extern]
fn lint_rules() -> Result<
    TableIterator<
        'static,
        (
            name!(rule, String),
            name!(kind, String),
            name!(default_severity, String),
            name!(severity, String),
            name!(enabled, bool),
            name!(message, String),
            name!(why, Option<String>),
            name!(alternative, String),
        ),
    >,
> {
    let _entered = crate::security::enter();
    let config = load_config()?;
    let effective = |id: &str, default: Severity| {
        config
            .severities
            .iter()
            .find(|(r, _)| r == id)
            .map(|(_, s)| *s)
            .unwrap_or(default)
            .as_str()
            .to_owned()
    };
    let mut rows: Vec<_> = lint::rules::ALL
        .iter()
        .map(|r| {
            (
                r.id.to_owned(),
                "migration".to_owned(),
                r.severity.as_str().to_owned(),
                effective(r.id, r.severity),
                config.is_enabled(r.id),
                r.message.to_owned(),
                Some(r.why.to_owned()),
                r.alternative.to_owned(),
            )
        })
        .collect();
    rows.extend(catalog::ALL.iter().map(|r| {
        (
            r.id.to_owned(),
            "catalog".to_owned(),
            r.severity.as_str().to_owned(),
            effective(r.id, r.severity),
            config.is_enabled(r.id),
            r.message.to_owned(),
            None,
            r.alternative.to_owned(),
        )
    }));
    Ok(TableIterator::new(rows))
}
