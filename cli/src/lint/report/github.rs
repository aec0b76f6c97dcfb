//! `--format github`: GitHub Actions workflow commands, one annotation per
//! finding (`::error file=…,line=…,col=…,title=…::message`), chosen
//! automatically when GITHUB_ACTIONS=true and no --format is given.

use super::Run;
use confiture_core::lint::Severity;
use std::io::{self, Write};

/// Escaping of a command's message (GitHub's `escapeData`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a command's property (`escapeProperty`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(run: &Run, out: &mut dyn Write) -> io::Result<()> {
    for (r, f) in run.findings() {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut properties = format!("file={}", escape_property(&r.path));
        if f.line > 0 {
            properties.push_str(&format!(",line={}", f.line));
        }
        if f.column > 0 {
            properties.push_str(&format!(",col={}", f.column));
        }
        properties.push_str(&format!(
            ",title={}",
            escape_property(&format!("confiture {}", f.rule))
        ));
        let message = format!("{}\n{}", f.message, f.suggestion);
        writeln!(
            out,
            "::{command} {properties}::{}",
            escape_data(&super::printable(&message))
        )?;
    }
    for r in run.reports {
        if let Some(e) = &r.error {
            let message = format!("{}: {}", e.message, e.detail);
            writeln!(
                out,
                "::error file={},title=confiture::{}",
                escape_property(&r.path),
                escape_data(&message)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_escaped() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
