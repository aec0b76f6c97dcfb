//! Errors for the user: one line saying what went wrong, then `detail:` and
//! `hint:` lines, and the documented exit code (see `lint::EXIT_CODES`).

use std::io::Write;

/// Exit codes, documented in `confiture lint --help`.
pub mod exit {
    /// No finding at or above `--fail-on`.
    pub const OK: u8 = 0;
    /// Findings at or above `--fail-on`.
    pub const FINDINGS: u8 = 1;
    /// Bad usage or configuration.
    pub const USAGE: u8 = 2;
    /// A file (or an included file) could not be read.
    pub const UNREADABLE: u8 = 3;
    /// `--database`: the server could not be reached or `confiture.lint` failed.
    pub const DATABASE: u8 = 4;
    /// `migrate`: a migration failed (the same code as lint's findings: the
    /// run did not succeed).
    pub const FAILED: u8 = 1;
    /// `migrate`: the server could not be reached, or has no extension.
    pub const CONNECT: u8 = 4;
    /// `migrate`: refused before running (an applied migration changed,
    /// drift under enforce, the lint guard rejected a statement).
    pub const REFUSED: u8 = 5;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub exit_code: u8,
    pub message: String,
    /// `detail: …` and `hint: …` lines.
    pub lines: Vec<String>,
}

impl CliError {
    pub fn new(exit_code: u8, message: impl Into<String>) -> Self {
        CliError {
            exit_code,
            message: message.into(),
            lines: Vec::new(),
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }
    pub fn detail(mut self, detail: impl std::fmt::Display) -> Self {
        for line in detail.to_string().lines().filter(|l| !l.trim().is_empty()) {
            self.lines.push(format!("detail: {line}"));
        }
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.lines.push(format!("hint: {}", hint.into()));
        self
    }

    /// Print to standard error.
    pub fn print(&self) {
        let mut err = anstream::stderr().lock();
        let red = anstyle::Style::new()
            .fg_color(Some(anstyle::AnsiColor::Red.into()))
            .bold();
        let _ = writeln!(err, "confiture: {red}error:{red:#} {}", self.message);
        for line in &self.lines {
            let _ = writeln!(err, "  {line}");
        }
    }
}
