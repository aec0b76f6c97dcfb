//! `--format gitlab`: a GitLab Code Quality report (an array of issues with
//! description, check_name, fingerprint, severity, location.path and
//! location.lines.begin); errors are "major", warnings "minor", info "info",
//! as GitLab's own linter integrations map them.

use super::{fingerprints, uri_path, Run};
use confiture_core::lint::Severity;
use serde_json::json;
use std::io::{self, Write};

pub fn write(run: &Run, out: &mut dyn Write) -> io::Result<()> {
    let issues: Vec<_> = run
        .findings()
        .zip(fingerprints(run))
        .map(|((r, f), fingerprint)| {
            let severity = match f.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
                Severity::Info => "info",
            };
            json!({
                "type": "issue",
                "description": format!("{}: {}", f.rule, f.message),
                "check_name": f.rule,
                "fingerprint": fingerprint,
                "severity": severity,
                "categories": ["Bug Risk"],
                "location": {"path": uri_path(&r.path), "lines": {"begin": f.line.max(1)}},
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}
