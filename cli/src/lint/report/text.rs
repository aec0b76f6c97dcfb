//! `--format text`: for people.
//!
//! ```text
//! migrations/3/up.sql:4:3: error volatile-default: column seen is added with volatile default …
//!    4 |   ALTER TABLE t ADD COLUMN seen timestamptz DEFAULT clock_timestamp();
//!      |   ^
//!      = Add the column without a default, set the default for new rows, …
//! ```

use super::{printable, Run};
use anstyle::{AnsiColor, Style};
use confiture_core::lint::Severity;
use std::io::{self, Write};

/// Longer source lines are shown as a window around the column.
const MAX_SHOWN: usize = 160;

fn severity_style(s: Severity) -> Style {
    let color = match s {
        Severity::Error => AnsiColor::Red,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Info => AnsiColor::Cyan,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

pub fn write(run: &Run, out: &mut dyn Write) -> io::Result<()> {
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let mut counts = [0usize; 3];
    let mut files_with_findings = 0;
    for report in run.reports.iter().filter(|r| !r.findings.is_empty()) {
        files_with_findings += 1;
        let lines: Vec<&str> = report.source.lines().collect();
        for f in &report.findings {
            counts[f.severity as usize] += 1;
            let sev = severity_style(f.severity);
            // `file:line:col:`, or `file:` when the position is unknown
            let at = if f.line == 0 {
                String::new()
            } else {
                format!(":{}:{}", f.line, f.column)
            };
            writeln!(
                out,
                "{bold}{}{at}:{bold:#} {sev}{}{sev:#} {bold}{}:{bold:#} {}",
                printable(&report.path),
                f.severity.as_str(),
                f.rule,
                printable(&f.message)
            )?;
            let gutter = f.line.to_string().len().max(3);
            if let Some(line) = f.line.checked_sub(1).and_then(|i| lines.get(i)) {
                let (shown, caret_at) = window(line, f.column.max(1) - 1);
                writeln!(
                    out,
                    "{dim}{:>gutter$} |{dim:#} {}",
                    f.line,
                    printable(&shown)
                )?;
                // the caret under the column; tabs kept so it lines up
                let pad: String = shown
                    .chars()
                    .take(caret_at)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                writeln!(out, "{dim}{:>gutter$} |{dim:#} {pad}{sev}^{sev:#}", "")?;
            }
            if !f.suggestion.is_empty() {
                writeln!(
                    out,
                    "{dim}{:>gutter$} ={dim:#} {}",
                    "",
                    printable(&f.suggestion)
                )?;
            }
        }
    }
    let [info, warnings, errors] = counts;
    let linted = run.reports.iter().filter(|r| r.error.is_none()).count();
    let total = info + warnings + errors;
    if total == 0 {
        writeln!(out, "no findings in {linted} file{}", plural(linted))?;
    } else {
        writeln!(
            out,
            "{bold}{total} finding{}{bold:#} ({errors} error{}, {warnings} warning{}, {info} info) in {files_with_findings} of {linted} file{}",
            plural(total),
            plural(errors),
            plural(warnings),
            plural(linted)
        )?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The part of `line` to show, and where the caret goes in it (both in characters).
fn window(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= MAX_SHOWN {
        return (line.to_owned(), column.min(chars.len()));
    }
    let start = column.saturating_sub(MAX_SHOWN / 3).min(chars.len());
    let end = (start + MAX_SHOWN).min(chars.len());
    let mut shown = String::new();
    let mut caret = column - start;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_windowed_around_the_column() {
        assert_eq!(window("ab\tc", 3), ("ab\tc".to_owned(), 3));
        let long = "x".repeat(1000) + "HERE" + &"y".repeat(1000);
        let (shown, caret) = window(&long, 1000);
        assert!(shown.chars().count() <= MAX_SHOWN + 2);
        assert_eq!(
            shown.chars().skip(caret).take(4).collect::<String>(),
            "HERE"
        );
    }
}
