//! Executing a migration's SQL: statement by statement, in a
//! subtransaction, with the current migration published for event
//! triggers and hooks.

use super::context;
use super::ledger::FailedAt;
use crate::error::{Error, Kind};
use crate::hooks::run::MigrationHooks;
use crate::subxact::{Failure, Subtransaction};
use confiture_core::ddl::Statement;
use confiture_core::hooks::Phase;
use confiture_core::source;
use pgrx::prelude::*;
use std::cell::Cell;
use std::time::{Duration, Instant};

/// Watches each statement of a migration as it runs: dry runs probe the
/// catalog around it. `run` executes the statement; an observer may run it
/// more than once only inside subtransactions it rolls back.
pub trait Observer {
    fn statement(&mut self, index: usize, text: &str, run: &mut dyn FnMut());
}

/// A migration script parsed and ready to run.
pub struct Script<'a> {
    pub version: &'a str,
    /// The SQL as it runs: the registered text, or that text with psql
    /// meta-commands and a BEGIN/COMMIT wrapper blanked (same lines).
    pub sql: std::borrow::Cow<'a, str>,
    pub statements: Vec<Statement>,
    /// Whose privileges and search_path its statements run with.
    pub runner: crate::security::Runner,
    /// False: it holds statements that cannot run in a transaction block
    /// (or says `-- confiture:no-transaction`), so the client applies it.
    pub transactional: bool,
    /// Why it is applied by the client.
    pub client_reason: Option<String>,
    /// A BEGIN/COMMIT around the whole script was dropped.
    pub dropped_wrapper: bool,
}

/// How a script's run ended.
pub enum Outcome {
    Done {
        duration: Duration,
    },
    Failed {
        duration: Duration,
        failure: Failure,
        at: FailedAt,
        /// The hook (and its phase) that failed, when it was not a statement.
        hook: Option<(String, Phase)>,
    },
}

impl Script<'_> {
    /// The statement texts, in order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.statements.iter().map(|s| s.span.text(&self.sql))
    }

    /// Where statement `i` (0-based) starts.
    pub fn failed_at(&self, i: usize) -> FailedAt {
        let line = self
            .statements
            .get(i)
            .map(|s| source::line_col(&self.sql, s.span.start).0 as i32);
        FailedAt {
            statement: Some(i as i32 + 1),
            line,
        }
    }

    /// Run every statement in the current transaction; on error, `failed`
    /// holds the index of the statement that raised it.
    pub fn execute(&self, failed: &Cell<usize>, observer: Option<&mut dyn Observer>) {
        self.runner
            .run(|| self.execute_statements(failed, observer))
    }

    fn execute_statements(&self, failed: &Cell<usize>, mut observer: Option<&mut dyn Observer>) {
        // the migration's own search_path, for its statements (an observer
        // pins confiture's around them)
        let search_path = crate::security::setting("search_path").unwrap_or_default();
        let mut prev_end = 0;
        for (i, (stmt, text)) in self.statements.iter().zip(self.texts()).enumerate() {
            failed.set(i);
            pgrx::check_for_interrupts!();
            let leading = source::leading_comments(&self.sql, prev_end, stmt.span.start);
            prev_end = stmt.span.end;
            context::set_statement_with_comments(Some(text), Some(leading));
            let mut run = || {
                let _path = crate::security::GucScope::set(&[("search_path", &search_path)]);
                if let Err(e) = Spi::run(text) {
                    // SPI refuses a few statements itself (e.g. transaction control).
                    Error::new(
                        Kind::NotInTransactionBlock,
                        format!("statement {} cannot run in a migration", i + 1),
                    )
                    .detail(e.to_string())
                    .hint("Remove transaction control statements from the migration.")
                    .raise();
                }
            };
            match observer.as_deref_mut() {
                Some(o) => o.statement(i, text, &mut run),
                None => run(),
            }
        }
        context::set_statement(None);
    }

    /// Run the script and its hooks in their own subtransaction: all of
    /// it, or none of it. Phases run in order around the statements; when
    /// anything fails, the subtransaction is rolled back and then the
    /// `on_error` hooks run.
    pub fn run_atomically(
        &self,
        hooks: &mut MigrationHooks,
        observer: Option<&mut dyn Observer>,
    ) -> Outcome {
        let started = Instant::now();
        let failed = Cell::new(0);
        let _entered = context::enter(self.version, hooks.dry_run());
        let with_hooks = !hooks.is_empty();
        let result = Subtransaction::new().run(|| {
            if with_hooks {
                hooks.run_phase(Phase::BeforeValidation);
                hooks.run_phase(Phase::BeforeDdl);
            }
            self.execute(&failed, observer);
            if with_hooks {
                hooks.run_phase(Phase::AfterDdl);
                hooks.run_phase(Phase::AfterValidation);
                hooks.run_phase(Phase::Cleanup);
            }
        });
        match result {
            Ok(()) => Outcome::Done {
                duration: started.elapsed(),
            },
            Err(failure) => {
                context::set_statement(None);
                if with_hooks {
                    hooks.run_on_error(&failure);
                }
                let hook = hooks.failed.take();
                let at = if hook.is_some() {
                    FailedAt::default()
                } else {
                    self.failed_at(failed.get())
                };
                Outcome::Failed {
                    duration: started.elapsed(),
                    failure,
                    at,
                    hook,
                }
            }
        }
    }
}
