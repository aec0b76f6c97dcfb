//! `--format json`: one document, stable field names.
//!
//! ```json
//! {"tool": "confiture", "version": "0.1.0", "parser": "…", "pg_version": 18, "files": 2,
//!  "findings": [{"file", "rule", "severity", "object", "line", "column", "message", "suggestion"}],
//!  "errors": [{"file", "message", "detail"}]}
//! ```

use super::Run;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Document<'a> {
    tool: &'static str,
    version: &'static str,
    parser: &'a str,
    pg_version: u32,
    files: usize,
    findings: Vec<Finding<'a>>,
    errors: Vec<Error<'a>>,
}

#[derive(Serialize)]
struct Finding<'a> {
    file: &'a str,
    rule: &'a str,
    severity: &'static str,
    object: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
    suggestion: &'a str,
}

#[derive(Serialize)]
struct Error<'a> {
    file: &'a str,
    message: &'a str,
    detail: &'a str,
}

pub fn write(run: &Run, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        tool: "confiture",
        version: env!("CARGO_PKG_VERSION"),
        parser: run.parser,
        pg_version: run.pg_version,
        files: run.reports.iter().filter(|r| r.error.is_none()).count(),
        findings: run
            .findings()
            .map(|(r, f)| Finding {
                file: &r.path,
                rule: &f.rule,
                severity: f.severity.as_str(),
                object: &f.object,
                line: f.line,
                column: f.column,
                message: &f.message,
                suggestion: &f.suggestion,
            })
            .collect(),
        errors: run
            .reports
            .iter()
            .filter_map(|r| {
                r.error.as_ref().map(|e| Error {
                    file: &r.path,
                    message: &e.message,
                    detail: &e.detail,
                })
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
