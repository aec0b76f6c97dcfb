//! Reporters, one per `--format`: each writes every file's findings (and
//! the files that could not be read) to standard output.

mod github;
mod gitlab;
mod json;
mod sarif;
mod text;

use super::FileReport;
use clap::ValueEnum;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// file:line:col: severity rule: message, the line with a caret, the suggestion
    Text,
    /// One JSON document: findings and unreadable files
    Json,
    /// SARIF 2.1.0, for GitHub code scanning
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
    /// GitLab Code Quality report
    Gitlab,
}

/// Everything a reporter shows.
pub struct Run<'a> {
    pub reports: &'a [FileReport],
    /// The server version the migrations are for.
    pub pg_version: u32,
    /// What parsed the SQL.
    pub parser: &'a str,
}

impl Run<'_> {
    pub fn findings(&self) -> impl Iterator<Item = (&FileReport, &super::Finding)> {
        self.reports
            .iter()
            .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
    }
}

pub fn write(format: Format, run: &Run) -> io::Result<()> {
    if format == Format::Text {
        // colours only on a terminal, and never with NO_COLOR (anstream decides)
        let mut out = io::BufWriter::new(anstream::stdout().lock());
        text::write(run, &mut out)?;
        return out.flush();
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    match format {
        Format::Json => json::write(run, &mut out)?,
        Format::Sarif => sarif::write(run, &mut out)?,
        Format::Github => github::write(run, &mut out)?,
        Format::Gitlab => gitlab::write(run, &mut out)?,
        Format::Text => unreachable!(),
    }
    out.flush()
}

/// Text from SQL files shown on a terminal: control characters (escape
/// sequences a file could smuggle in) replaced, tabs and newlines kept.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// A path as a SARIF / GitLab location: forward slashes, relative paths kept relative.
pub fn uri_path(path: &str) -> String {
    path.replace('\\', "/")
}

/// A stable identity for a finding, unchanged when lines move: the file,
/// the rule, the object, the message and which occurrence of those it is.
pub fn fingerprint(path: &str, f: &super::Finding, occurrence: usize) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        path,
        &f.rule,
        &f.object,
        &f.message,
        &occurrence.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Fingerprints of every finding of a run, in `Run::findings` order.
pub fn fingerprints(run: &Run) -> Vec<String> {
    let mut seen = std::collections::HashMap::new();
    run.findings()
        .map(|(r, f)| {
            let n = seen
                .entry((
                    r.path.as_str(),
                    f.rule.as_str(),
                    f.object.as_str(),
                    f.message.as_str(),
                ))
                .or_insert(0usize);
            *n += 1;
            fingerprint(&r.path, f, *n)
        })
        .collect()
}
