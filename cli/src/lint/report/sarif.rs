//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning reads it. One
//! run; every rule the command knows is described in `tool.driver.rules`;
//! columns count Unicode code points (`columnKind`); files that could not
//! be read are tool notifications, and make the run unsuccessful.

use super::{fingerprints, uri_path, Run};
use crate::lint::rules::{self, RuleInfo};
use confiture_core::lint::Severity;
use serde_json::{json, Value};
use std::io::{self, Write};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a URI reference: percent-encoded, absolute paths as file: URIs.
fn uri(path: &str) -> String {
    let path = uri_path(path);
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(path: &str, line: usize, column: usize) -> Value {
    let mut physical = json!({"artifactLocation": {"uri": uri(path)}});
    if line > 0 {
        let mut region = json!({"startLine": line});
        if column > 0 {
            region["startColumn"] = json!(column);
        }
        physical["region"] = region;
    }
    json!({"physicalLocation": physical})
}

fn descriptor(r: &RuleInfo) -> Value {
    json!({
        "id": r.id,
        "shortDescription": {"text": r.message},
        "fullDescription": {"text": r.why},
        "help": {"text": r.alternative},
        "defaultConfiguration": {"level": level(r.severity)},
    })
}

/// A rule only the server knows (with --database): what its finding says.
fn server_descriptor(id: &str, severity: Severity) -> Value {
    json!({"id": id, "shortDescription": {"text": id}, "defaultConfiguration": {"level": level(severity)}})
}

pub fn write(run: &Run, out: &mut dyn Write) -> io::Result<()> {
    let known = rules::all();
    let mut ids: Vec<&str> = known.iter().map(|r| r.id).collect();
    let mut descriptors: Vec<Value> = known.iter().map(descriptor).collect();
    for (_, f) in run.findings() {
        if !ids.contains(&f.rule.as_str()) {
            ids.push(&f.rule);
            descriptors.push(server_descriptor(&f.rule, f.severity));
        }
    }
    let results: Vec<Value> = run
        .findings()
        .zip(fingerprints(run))
        .map(|((r, f), fingerprint)| {
            let index = ids.iter().position(|id| *id == f.rule).unwrap_or(0);
            let mut message = f.message.clone();
            if !f.suggestion.is_empty() {
                message = format!("{message}\n{}", f.suggestion);
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": {"text": message},
                "locations": [location(&r.path, f.line, f.column)],
                "partialFingerprints": {"confiture/v1": fingerprint},
                "properties": {"object": f.object},
            })
        })
        .collect();
    let notifications: Vec<Value> = run
        .reports
        .iter()
        .filter_map(|r| {
            r.error.as_ref().map(|e| {
                json!({
                    "level": "error",
                    "message": {"text": format!("{}: {}: {}", r.path, e.message, e.detail)},
                    "locations": [location(&r.path, 0, 0)],
                })
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "confiture",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {"pg_version": run.pg_version, "parser": run.parser},
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            uri("migrations/1 init/up.sql"),
            "migrations/1%20init/up.sql"
        );
        assert_eq!(uri("/abs/é.sql"), "file:///abs/%C3%A9.sql");
        assert_eq!(uri("<stdin>"), "%3Cstdin%3E");
    }
}
