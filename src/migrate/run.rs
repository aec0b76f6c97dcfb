//! Executing a migration's SQL: statement by statement, in a
//! subtransaction, with the current migration published for event
//! triggers and hooks.

use super::context;
use super::ledger::FailedAt;
use crate::error::{Error, Kind};
use crate::subxact::{Failure, Subtransaction};
use confiture_core::ddl::Statement;
use confiture_core::source;
use pgrx::prelude::*;
use std::cell::Cell;
use std::time::{Duration, Instant};

/// A migration script parsed and ready to run.
pub struct Script<'a> {
    pub version: &'a str,
    pub sql: &'a str,
    pub statements: Vec<Statement>,
}

/// How a script's run ended.
pub enum Outcome {
    Done { duration: Duration },
    Failed { duration: Duration, failure: Failure, at: FailedAt },
}

impl Script<'_> {
    /// The statement texts, in order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.statements.iter().map(|s| s.span.text(self.sql))
    }

    /// Where statement `i` (0-based) starts.
    pub fn failed_at(&self, i: usize) -> FailedAt {
        let line = self
            .statements
            .get(i)
            .map(|s| source::line_col(self.sql, s.span.start).0 as i32);
        FailedAt { statement: Some(i as i32 + 1), line }
    }

    /// Run every statement in the current transaction; on error, `failed`
    /// holds the index of the statement that raised it.
    pub fn execute(&self, failed: &Cell<usize>) {
        for (i, text) in self.texts().enumerate() {
            failed.set(i);
            context::set_statement(Some(text));
            if let Err(e) = Spi::run(text) {
                // SPI refuses a few statements itself (e.g. transaction control).
                Error::new(Kind::NotInTransactionBlock, format!("statement {} cannot run in a migration", i + 1))
                    .detail(e.to_string())
                    .hint("Remove transaction control statements from the migration.")
                    .raise();
            }
        }
        context::set_statement(None);
    }

    /// Run the script in its own subtransaction: all of it, or none of it.
    pub fn run_atomically(&self) -> Outcome {
        let started = Instant::now();
        let failed = Cell::new(0);
        let _entered = context::enter(self.version, false);
        let result = Subtransaction::new().run(|| self.execute(&failed));
        let duration = started.elapsed();
        match result {
            Ok(()) => Outcome::Done { duration },
            Err(failure) => Outcome::Failed { duration, failure, at: self.failed_at(failed.get()) },
        }
    }
}
