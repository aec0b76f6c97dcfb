//! `confiture lint`: migration files checked by the same rules as the
//! server's `confiture.lint`, without a database.
//!
//! Each file is read as a psql script (`confiture_core::psql`: meta-commands
//! blanked, variables substituted, `\i`/`\ir` followed), parsed with
//! pg_query (PostgreSQL 18's parser), converted into the DDL model
//! (`convert.rs`, the twin of the server's converter) and linted by
//! `confiture_core::lint` unchanged. Files are linted in parallel; the
//! reports are printed in the order the files were given.
//!
//! Exit codes ([`EXIT_CODES`]): 0 no finding at or above `--fail-on`,
//! 1 findings at or above it, 2 bad usage or configuration, 3 a file could
//! not be read (the others are still linted and reported), 4 with
//! `--database`: the server could not be reached or `confiture.lint` failed.

mod command_tag;
mod convert;
mod files;
mod offline;
mod parse;
mod report;
pub mod rules;
mod server;

use crate::config::{self, LintConfig, Overrides};
use crate::error::{exit, CliError};
use clap::{Args, ValueEnum};
use confiture_core::lint::Severity;
use confiture_core::psql::{Include, Variables};
use rayon::prelude::*;
use report::Format;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `\i` inside `\i` inside … : deeper than this is not followed.
pub const MAX_INCLUDE_DEPTH: usize = 16;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  bad usage or configuration (unknown option, invalid confiture.toml, unknown rule)
  3  a file or an included file could not be read (the other files are still linted)
  4  --database: the server could not be reached, or confiture.lint failed";

const LONG_HELP: &str = "\
Paths are files, directories (searched recursively for *.sql, hidden ones \
skipped), glob patterns, or - for standard input; without a path, the \
current directory. Files are read as psql scripts: meta-commands (\\set, \
\\echo, \\if …) are ignored, :variables are substituted (-v), \\i and \\ir \
are followed, \\if branches are all linted, and a BEGIN … COMMIT around \
the whole file is taken as the migration's transaction.

The offline parser is PostgreSQL 18's (pg_query 18.1). Syntax newer than \
the server the migrations are for (--pg-version) is accepted offline but \
rejected by that server; --database lints with the server's own parser \
(and the server's configuration tables decide its rules' settings).

Configuration: the nearest confiture.toml above the working directory, or \
--config. Its [lint] section: disabled = [rule, …], exclude = [glob, …], \
pg_version = 18, transactional = true, [lint.severity] rule = \
\"info|warning|error\", [lint.variables] name = \"value\", and \
[[lint.exemptions]] rule = …, object_pattern = \"LIKE pattern\". \
--print-config shows the effective configuration. In a file, \
`-- confiture:ignore rule, …` before a statement and `confiture:ignore-file \
rule` anywhere silence rules, as in the server.";

#[derive(Args, Debug)]
#[command(after_help = EXIT_CODES, after_long_help = format!("{LONG_HELP}\n\n{EXIT_CODES}"))]
pub struct LintArgs {
    /// Files, directories, glob patterns, or - for standard input
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Output format [default: text, or github when GITHUB_ACTIONS=true]
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,

    /// Configuration file, instead of the nearest confiture.toml
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print the effective configuration and exit
    #[arg(long)]
    pub print_config: bool,

    /// List the rules and exit
    #[arg(long)]
    pub list_rules: bool,

    /// Set a psql variable, as psql -v does
    #[arg(short = 'v', long = "variable", visible_alias = "set", value_name = "NAME=VALUE", value_parser = parse_variable)]
    pub variables: Vec<(String, String)>,

    /// PostgreSQL version the migrations are for (the parser is always 18's)
    #[arg(long, value_name = "VERSION", value_parser = clap::value_parser!(u32).range(14..=18))]
    pub pg_version: Option<u32>,

    /// Whether migrations run inside one transaction (flags statements that cannot)
    #[arg(long, value_name = "BOOL")]
    pub transactional: Option<bool>,

    /// Skip files matching this glob (in addition to the configuration's)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Lint with the server's confiture.lint instead (a postgres:// URL or key=value string)
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,

    /// When to colour text output
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn fails(self, s: Severity) -> bool {
        match self {
            FailOn::Error => s >= Severity::Error,
            FailOn::Warning => s >= Severity::Warning,
            FailOn::Info => true,
            FailOn::Never => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

fn parse_variable(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got \"{s}\"")),
    }
}

/// One finding, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub object: String,
    /// 1-based; 0 when unknown.
    pub line: usize,
    /// 1-based, in characters; 0 when unknown.
    pub column: usize,
    pub message: String,
    pub suggestion: String,
}

/// Why a file has no findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub message: String,
    pub detail: String,
}

/// What linting one file gave.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The path as the user gave it (or `<stdin>`).
    pub path: String,
    /// The file's text, for showing the lines of findings.
    pub source: String,
    pub findings: Vec<Finding>,
    pub error: Option<FileError>,
}

/// A file to lint.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    /// `\ir` is relative to this directory.
    pub dir: PathBuf,
    pub text: String,
    pub variables: Variables,
}

/// A file linted, and the files it includes.
pub struct Linted {
    pub report: FileReport,
    pub includes: Vec<Include>,
    pub dir: PathBuf,
}

pub fn run(args: LintArgs) -> ExitCode {
    match execute(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            e.print();
            ExitCode::from(e.exit_code)
        }
    }
}

fn execute(args: LintArgs) -> Result<u8, CliError> {
    match args.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::usage("cannot read the working directory").detail(e))?;
    let overrides = Overrides {
        pg_version: args.pg_version,
        transactional: args.transactional,
        exclude: args.exclude.clone(),
        variables: args.variables.clone(),
    };
    let config = config::load(args.config.as_deref(), &cwd, &overrides)?;
    if args.print_config {
        print!("{}", config.to_toml());
        return Ok(exit::OK);
    }
    if args.list_rules {
        let mut out = std::io::stdout().lock();
        for r in rules::all() {
            let _ = writeln!(out, "{:<30} {:<8} {}", r.id, r.severity.as_str(), r.message);
        }
        return Ok(exit::OK);
    }
    let format = args.format.unwrap_or_else(|| {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            Format::Github
        } else {
            Format::Text
        }
    });

    let inputs = files::collect(&args.paths, &config)?;
    let mut reports = Vec::new();
    let mut queue = Vec::new();
    let mut seen = HashSet::new();
    for input in &inputs {
        match admit(input, &config.variables, &mut seen, &cwd) {
            Ok(Some(pending)) => queue.push(pending),
            Ok(None) => {}
            Err(report) => reports.push(report),
        }
    }

    let (mut client, pg_version) = match &args.database {
        Some(url) => {
            let (client, version) = server::connect(url)?;
            (Some(client), version)
        }
        None => (None, config.pg_version),
    };
    // Breadth first: the given files, then the files they include, and so on.
    for depth in 0..=MAX_INCLUDE_DEPTH {
        if queue.is_empty() {
            break;
        }
        let linted: Vec<Result<Linted, FileReport>> = match client.as_mut() {
            Some(c) => {
                let mut out = Vec::with_capacity(queue.len());
                for p in &queue {
                    out.push(match load(p) {
                        Ok(source) => Ok(server::lint(c, &source, &config)?),
                        Err(report) => Err(report),
                    });
                }
                out
            }
            // reading, parsing and linting in parallel, one file a task
            None => queue
                .par_iter()
                .map(|p| load(p).map(|source| offline::lint(&source, &config)))
                .collect(),
        };
        queue = Vec::new();
        for l in linted {
            let l = match l {
                Ok(l) => l,
                Err(report) => {
                    reports.push(report);
                    continue;
                }
            };
            for include in &l.includes {
                let path = if include.relative {
                    l.dir.join(&include.path)
                } else {
                    cwd.join(&include.path)
                };
                let from = format!("included from {}:{}", l.report.path, include.line);
                let failed = |mut report: FileReport| {
                    if let Some(e) = &mut report.error {
                        e.detail = if e.detail.is_empty() {
                            from.clone()
                        } else {
                            format!("{} ({from})", e.detail)
                        };
                    }
                    report
                };
                if depth == MAX_INCLUDE_DEPTH {
                    let message =
                        format!("not followed: more than {MAX_INCLUDE_DEPTH} levels of \\i");
                    reports.push(failed(unreadable(
                        &display(&path, &cwd),
                        message,
                        String::new(),
                    )));
                    continue;
                }
                match admit(
                    &files::Input::File(path),
                    &include.variables,
                    &mut seen,
                    &cwd,
                ) {
                    Ok(Some(pending)) => queue.push(pending),
                    Ok(None) => {}
                    Err(report) => reports.push(failed(report)),
                }
            }
            reports.push(l.report);
        }
    }

    let parser = if args.database.is_some() {
        format!("the server (PostgreSQL {pg_version})")
    } else {
        "pg_query 18.1 (PostgreSQL 18)".to_owned()
    };
    let run = report::Run {
        reports: &reports,
        pg_version,
        parser: &parser,
    };
    report::write(format, &run)
        .map_err(|e| CliError::new(exit::USAGE, "cannot write the report").detail(e))?;

    for r in &reports {
        if let Some(e) = &r.error {
            CliError::new(exit::UNREADABLE, format!("{}: {}", r.path, e.message))
                .detail(&e.detail)
                .print();
        }
    }
    let code = if reports.iter().any(|r| r.error.is_some()) {
        exit::UNREADABLE
    } else if reports
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| args.fail_on.fails(f.severity))
    {
        exit::FINDINGS
    } else {
        exit::OK
    };
    Ok(code)
}

/// A file to read: its canonical path once known (standard input is read at once).
struct Pending {
    path: String,
    file: Option<PathBuf>,
    stdin: String,
    variables: Variables,
}

/// Take one input into the run; `Ok(None)` when that file is already in
/// it (a file named twice, included twice, or an include cycle).
fn admit(
    input: &files::Input,
    variables: &Variables,
    seen: &mut HashSet<PathBuf>,
    cwd: &Path,
) -> Result<Option<Pending>, FileReport> {
    let variables = variables.clone();
    match input {
        files::Input::Stdin => {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                .map_err(|e| unreadable("<stdin>", "cannot read standard input", e.to_string()))?;
            let stdin = utf8("<stdin>", buf)?;
            Ok(Some(Pending {
                path: "<stdin>".to_owned(),
                file: None,
                stdin,
                variables,
            }))
        }
        files::Input::File(p) => {
            let path = display(p, cwd);
            let canonical = std::fs::canonicalize(p)
                .map_err(|e| unreadable(&path, "cannot read the file", e.to_string()))?;
            Ok(seen.insert(canonical.clone()).then_some(Pending {
                path,
                file: Some(canonical),
                stdin: String::new(),
                variables,
            }))
        }
    }
}

/// Read a pending file (`\ir` is relative to its directory; for standard input, the working directory).
fn load(p: &Pending) -> Result<Source, FileReport> {
    let (dir, text) = match &p.file {
        None => (std::env::current_dir().unwrap_or_default(), p.stdin.clone()),
        Some(file) => {
            let bytes = std::fs::read(file)
                .map_err(|e| unreadable(&p.path, "cannot read the file", e.to_string()))?;
            (
                file.parent().map(Path::to_path_buf).unwrap_or_default(),
                utf8(&p.path, bytes)?,
            )
        }
    };
    Ok(Source {
        path: p.path.clone(),
        dir,
        text,
        variables: p.variables.clone(),
    })
}

fn utf8(path: &str, bytes: Vec<u8>) -> Result<String, FileReport> {
    String::from_utf8(bytes).map_err(|e| {
        unreadable(
            path,
            "not UTF-8 text",
            format!(
                "invalid byte sequence at byte {}",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn unreadable(path: &str, message: impl Into<String>, detail: impl Into<String>) -> FileReport {
    FileReport {
        path: path.to_owned(),
        source: String::new(),
        findings: Vec::new(),
        error: Some(FileError {
            message: message.into(),
            detail: detail.into(),
        }),
    }
}

/// A path as reports show it: relative to the working directory when it is
/// inside it, without `./`.
fn display(path: &Path, cwd: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    let s = shown.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// A finding of one of the command's own rules, or `None` when the
/// configuration or an ignore comment silences it (as core does for its rules).
pub fn own_finding(
    rule: &rules::RuleInfo,
    config: &LintConfig,
    silenced: &std::collections::BTreeSet<String>,
    object: String,
    message: String,
    suggestion: String,
    (line, column): (usize, usize),
) -> Option<Finding> {
    let c = &config.rules;
    if !c.is_enabled(rule.id) || [rule.id, "all"].iter().any(|r| silenced.contains(*r)) {
        return None;
    }
    if c.exempt(rule.id, &object) {
        return None;
    }
    let severity = c.severity_of(rule.id, rule.severity);
    Some(Finding {
        rule: rule.id.to_owned(),
        severity,
        object,
        line,
        column,
        message,
        suggestion,
    })
}
