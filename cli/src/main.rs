//! `confiture`: the command-line side of Confiture. One module per command;
//! for now `lint`, which checks migration files without a database (with
//! pg_query, PostgreSQL's parser as a library) or with the server's
//! `confiture.lint`.

mod calibrate;
mod config;
mod connect;
mod error;
mod lint;
mod migrate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "confiture",
    version,
    about = "Schema governance for PostgreSQL, from the command line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint migration files (SQL or psql scripts) without a database
    Lint(lint::LintArgs),
    /// Apply the repository's migration folder through the extension
    Migrate(migrate::MigrateArgs),
    /// Measure this server's rates for estimates (confiture.calibrate())
    Calibrate(calibrate::CalibrateArgs),
}

fn main() -> ExitCode {
    // `confiture ... | head` ends quietly, as other Unix tools do
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match Cli::parse().command {
        Command::Lint(args) => lint::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Calibrate(args) => calibrate::run(args),
    }
}
