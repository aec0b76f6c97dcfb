//! `--database`: each file's SQL goes through the server's own
//! `confiture.lint(sql)` (its parser, its configuration tables) over one
//! connection. The psql handling is the same as offline, so positions are
//! those of the file and unset variables are still reported here.

use super::offline::{prepare, unset_variables};
use super::{FileReport, Finding, Linted, Source};
use crate::config::LintConfig;
use crate::connect::Target;
use crate::error::{exit, CliError};
use confiture_core::lint::{ignore, Severity};
use postgres::Client;

/// Connect to `url` (`postgres://…` or `host=… dbname=…`, the `PG*`
/// variables for what it leaves out, as `crate::connect` does for every
/// command) and check that the database has `confiture.lint`; also the
/// server's major version, which is then the one that parses.
pub fn connect(url: &str) -> Result<(Client, u32), CliError> {
    let target = Target::new(url);
    let mut client = target.connect()?;
    let fail = |e: postgres::Error| {
        CliError::new(exit::DATABASE, format!("cannot query {}", target.label())).detail(e)
    };
    let row = client
        .query_one(
            "SELECT to_regprocedure('confiture.lint(text)') IS NOT NULL, current_setting('server_version_num')::int / 10000",
            &[],
        )
        .map_err(fail)?;
    let (has_lint, version): (bool, i32) = (row.get(0), row.get(1));
    if !has_lint {
        return Err(
            CliError::new(exit::DATABASE, "the database has no confiture.lint(text)").hint(
                "CREATE EXTENSION confiture; in that database, or lint offline without --database",
            ),
        );
    }
    Ok((client, version.max(0) as u32))
}

pub fn lint(client: &mut Client, source: &Source, config: &LintConfig) -> Result<Linted, CliError> {
    let (script, _) = prepare(source);
    let rows = client
        .query(
            "SELECT rule, severity, object, line, \"column\", message, suggestion FROM confiture.lint($1)",
            &[&script.text],
        )
        .map_err(|e| {
            let detail = e.as_db_error().map_or_else(|| e.to_string(), |d| format!("{}: {}", d.code().code(), d.message()));
            CliError::new(exit::DATABASE, format!("{}: confiture.lint failed", source.path)).detail(detail)
        })?;
    let mut findings: Vec<Finding> = rows
        .iter()
        .map(|r| {
            let (line, column): (i32, i32) = (r.get(3), r.get(4));
            let (line, column) = script.original_line_col(
                &source.text,
                line.max(0) as usize,
                column.max(0) as usize,
            );
            Finding {
                rule: r.get(0),
                severity: Severity::parse(r.get(1)).unwrap_or(Severity::Error),
                object: r.get(2),
                line,
                column,
                message: r.get(5),
                suggestion: r.get(6),
            }
        })
        .collect();
    findings.extend(unset_variables(
        &script,
        &source.text,
        config,
        &ignore::file_ignores(&script.text),
    ));
    findings.sort_by_key(|f| (f.line, f.column));
    Ok(Linted {
        report: FileReport {
            path: source.path.clone(),
            source: source.text.clone(),
            findings,
            error: None,
        },
        includes: script.includes,
        dir: source.dir.clone(),
    })
}
