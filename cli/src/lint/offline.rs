//! Linting one file without a database: psql script → SQL → pg_query →
//! DDL model → the core rules, plus the command's own findings (unset psql
//! variables, statements that cannot run in the migration's transaction,
//! statements too deep to read). Positions are those of the original file.

use super::{own_finding, parse, rules, FileReport, Finding, Linted, Source};
use crate::config::LintConfig;
use confiture_core::ddl::transaction::restriction_of;
use confiture_core::lint::{self, ignore, Context};
use confiture_core::psql::{self, Script};
use confiture_core::source::{line_col, Locator};
use std::collections::BTreeSet;

/// The SQL of a source, with its BEGIN … COMMIT wrapper blanked, and
/// whether there was one.
pub fn prepare(source: &Source) -> (Script, bool) {
    let mut script = psql::preprocess(&source.text, &source.variables);
    let wrapped = script.blank_transaction_wrapper();
    (script, wrapped)
}

pub fn lint(source: &Source, config: &LintConfig) -> Linted {
    let (script, wrapped) = prepare(source);
    let sql = &script.text;
    let original = &source.text;
    // core reads these itself for its rules; here only when an own finding needs them
    let file_ignores = std::cell::OnceCell::new();
    let file_ignores = || file_ignores.get_or_init(|| ignore::file_ignores(sql));
    let mut findings = Vec::new();
    match parse::statements(sql) {
        Err(e) => {
            let at = e
                .offset
                .map_or((0, 0), |o| line_col(original, script.original_offset(o)));
            findings.push(Finding {
                rule: rules::SYNTAX_ERROR.id.to_owned(),
                severity: rules::SYNTAX_ERROR.severity,
                object: String::new(),
                line: at.0,
                column: at.1,
                message: e.message,
                suggestion: rules::SYNTAX_ERROR.alternative.to_owned(),
            });
        }
        Ok(parsed) => {
            for f in lint::lint(
                sql,
                &parsed.statements,
                &config.rules,
                &mut Context::default(),
            ) {
                let (line, column) = script.original_line_col(original, f.line, f.column);
                findings.push(Finding {
                    rule: f.rule.to_owned(),
                    severity: f.severity,
                    object: f.object,
                    line,
                    column,
                    message: f.message,
                    suggestion: f.suggestion.to_owned(),
                });
            }
            let mut prev_end = 0;
            let transactional = config.transactional || wrapped;
            let mut locator = Locator::new(original);
            for stmt in &parsed.statements {
                let starts_at = prev_end;
                prev_end = stmt.span.end;
                let too_deep = parsed.too_deep.iter().any(|d| d.span == stmt.span);
                let restriction = if transactional {
                    restriction_of(stmt)
                } else {
                    None
                };
                if !too_deep && restriction.is_none() {
                    continue;
                }
                let mut silenced = ignore::statement_ignores(sql, starts_at, stmt.span.start);
                silenced.extend(file_ignores().iter().cloned());
                let at = locator.line_col(script.original_offset(stmt.span.start));
                if too_deep {
                    let r = &rules::PARSE_LIMIT;
                    let message = "statement nests too deeply for the offline parser's tree (more than 100 levels)".to_owned();
                    findings.extend(own_finding(
                        r,
                        config,
                        &silenced,
                        String::new(),
                        message,
                        r.alternative.into(),
                        at,
                    ));
                    continue;
                }
                if let Some(restriction) = restriction {
                    let object = stmt
                        .target_tables()
                        .first()
                        .map_or_else(|| stmt.tag.clone(), |t| t.to_string());
                    let r = &rules::NON_TRANSACTIONAL;
                    findings.extend(own_finding(
                        r,
                        config,
                        &silenced,
                        object,
                        restriction.reason,
                        restriction.hint,
                        at,
                    ));
                }
            }
        }
    }
    if !script.unresolved.is_empty() {
        findings.extend(unset_variables(&script, original, config, file_ignores()));
    }
    findings.sort_by_key(|f| (f.line, f.column));
    Linted {
        report: FileReport {
            path: source.path.clone(),
            source: source.text.clone(),
            findings,
            error: None,
        },
        includes: script.includes,
        dir: source.dir.clone(),
    }
}

/// One finding for the variables a script uses and nothing sets, at the first.
pub fn unset_variables(
    script: &Script,
    original: &str,
    config: &LintConfig,
    file_ignores: &BTreeSet<String>,
) -> Option<Finding> {
    let first = script.unresolved.first()?;
    let mut names: Vec<&str> = Vec::new();
    for u in &script.unresolved {
        if !names.contains(&u.name.as_str()) {
            names.push(&u.name);
        }
    }
    let listed: Vec<String> = names.iter().take(10).map(|n| format!(":{n}")).collect();
    let more = if names.len() > 10 {
        format!(" and {} more", names.len() - 10)
    } else {
        String::new()
    };
    let (noun, verb) = if names.len() == 1 {
        ("variable", "is")
    } else {
        ("variables", "are")
    };
    let message = format!("psql {noun} {}{more} {verb} not set", listed.join(", "));
    let at = line_col(original, first.offset);
    let r = &rules::PSQL_VARIABLE;
    own_finding(
        r,
        config,
        file_ignores,
        names.join(","),
        message,
        r.alternative.into(),
        at,
    )
}
