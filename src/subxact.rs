//! Work in a subtransaction: the one helper that migrations, hooks and dry
//! runs share.
//!
//! pgrx has no subtransaction API. This follows what PL/pgSQL does for an
//! `EXCEPTION` block: remember the memory context and resource owner,
//! `BeginInternalSubTransaction`, run the work under `PgTryBuilder`, then
//! release (commit into the parent) or roll back, and restore both. The
//! error is copied out first, so its SQLSTATE and text survive the rollback
//! and the outer transaction stays usable.

use crate::timeout::Timer;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;
use std::panic::AssertUnwindSafe;

/// A caught error, with what callers report and a way to rethrow it as is.
#[derive(Debug)]
pub struct Failure {
    pub sqlstate: PgSqlErrorCode,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The subtransaction's own timeout fired (not a user cancel).
    pub timed_out: bool,
    caught: Option<CaughtError>,
}

impl Failure {
    fn from_caught(caught: CaughtError, timed_out: bool) -> Self {
        let report = match &caught {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
            CaughtError::RustPanic { ereport, .. } => ereport,
        };
        Failure {
            sqlstate: report.sql_error_code(),
            message: report.message().to_owned(),
            detail: report.detail().map(str::to_owned),
            hint: report.hint().map(str::to_owned),
            timed_out,
            caught: Some(caught),
        }
    }

    /// A failure that was not raised by the server (e.g. SQL that did not
    /// parse before anything ran), for code that reports failures.
    pub fn detected(sqlstate: PgSqlErrorCode, message: impl Into<String>) -> Self {
        Failure {
            sqlstate,
            message: message.into(),
            detail: None,
            hint: None,
            timed_out: false,
            caught: None,
        }
    }

    /// The five-character SQLSTATE, e.g. `42P01`.
    pub fn code(&self) -> String {
        sqlstate_text(self.sqlstate)
    }

    /// Raise the original error again, unchanged.
    pub fn rethrow(mut self) -> ! {
        match self.caught.take() {
            Some(c) => c.rethrow(),
            None => panic!("{}", self.message),
        }
    }
}

/// Decode PostgreSQL's packed SQLSTATE (`MAKE_SQLSTATE`) into its text form.
pub fn sqlstate_text(code: PgSqlErrorCode) -> String {
    let packed = code as i32;
    (0..5)
        .map(|i| ((((packed >> (6 * i)) & 0x3f) as u8) + b'0') as char)
        .collect()
}

/// The code of a five-character SQLSTATE (`23505`); internal_error for
/// anything that is not one.
pub fn sqlstate_code(text: &str) -> PgSqlErrorCode {
    let b = text.as_bytes();
    if b.len() != 5
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        return PgSqlErrorCode::ERRCODE_INTERNAL_ERROR;
    }
    let packed = b.iter().enumerate().fold(0i32, |acc, (i, c)| {
        acc | ((((*c - b'0') & 0x3f) as i32) << (6 * i))
    });
    PgSqlErrorCode::from(packed)
}

thread_local! {
    /// Set when confiture itself raises a 57014 (a hook's timeout reported
    /// under its own name), so an enclosing subtransaction does not take it
    /// for the user's cancel.
    static OWN_CANCEL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Raise `report` as an ERROR from inside a [`Subtransaction`]; a 57014
/// raised this way is reported, not rethrown as a user cancel.
pub fn raise_own(report: pgrx::pg_sys::panic::ErrorReport, sqlstate: PgSqlErrorCode) -> ! {
    if sqlstate == PgSqlErrorCode::ERRCODE_QUERY_CANCELED {
        OWN_CANCEL.with(|c| c.set(true));
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}

/// How a piece of work runs: in its own subtransaction, optionally with a
/// timeout, and kept (released into the parent) or always rolled back.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subtransaction {
    timeout_ms: i64,
    always_roll_back: bool,
}

impl Subtransaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancel the work after `ms` milliseconds (0 = no timeout of its own).
    pub fn timeout_ms(mut self, ms: i64) -> Self {
        self.timeout_ms = ms;
        self
    }

    /// Roll the work back even when it succeeds (dry runs, probes).
    pub fn always_roll_back(mut self) -> Self {
        self.always_roll_back = true;
        self
    }

    /// Run `work`. On success its effects are kept unless
    /// [`always_roll_back`](Self::always_roll_back); on error they are
    /// undone and the error is returned. A cancel that is not this
    /// subtransaction's own timeout (the user's Ctrl-C, an outer
    /// `statement_timeout`) is rethrown: it must stop everything.
    pub fn run<T>(self, work: impl FnOnce() -> T) -> Result<T, Failure> {
        unsafe {
            let memory_context = pg_sys::CurrentMemoryContext;
            let resource_owner = pg_sys::CurrentResourceOwner;
            pg_sys::BeginInternalSubTransaction(std::ptr::null());
            // Keep allocating where the caller was, as PL/pgSQL does.
            pg_sys::MemoryContextSwitchTo(memory_context);

            let timer = Timer::arm(self.timeout_ms);
            let outcome = PgTryBuilder::new(AssertUnwindSafe(|| Ok(work())))
                .catch_others(|caught| Err(caught))
                .execute();
            let timed_out = outcome.is_err() && timer.expired();
            drop(timer);

            if outcome.is_ok() && !self.always_roll_back {
                pg_sys::ReleaseCurrentSubTransaction();
            } else {
                pg_sys::RollbackAndReleaseCurrentSubTransaction();
            }
            pg_sys::MemoryContextSwitchTo(memory_context);
            pg_sys::CurrentResourceOwner = resource_owner;

            outcome.map_err(|caught| {
                let failure = Failure::from_caught(caught, timed_out);
                let own = OWN_CANCEL.with(|c| c.replace(false));
                if failure.sqlstate == PgSqlErrorCode::ERRCODE_QUERY_CANCELED && !timed_out && !own
                {
                    failure.rethrow();
                }
                failure
            })
        }
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn sqlstate_decodes() {
        assert_eq!(
            sqlstate_text(PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE),
            "42P01"
        );
        assert_eq!(
            sqlstate_code("42P01"),
            PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE
        );
        assert_eq!(
            sqlstate_code("nope"),
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR
        );
        assert_eq!(
            sqlstate_text(PgSqlErrorCode::ERRCODE_QUERY_CANCELED),
            "57014"
        );
    }

    #[pg_test]
    fn failure_is_rolled_back_and_outer_transaction_survives() {
        Spi::run("CREATE TABLE sx_probe(i int)").unwrap();
        let r = Subtransaction::new().run(|| {
            Spi::run("INSERT INTO sx_probe VALUES (1)").unwrap();
            Spi::run("SELECT 1/0").unwrap();
        });
        let f = r.unwrap_err();
        assert_eq!(f.code(), "22012");
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM sx_probe").unwrap(),
            Some(0)
        );
        Subtransaction::new()
            .run(|| Spi::run("INSERT INTO sx_probe VALUES (2)").unwrap())
            .unwrap();
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM sx_probe").unwrap(),
            Some(1)
        );
    }

    #[pg_test]
    fn always_roll_back_discards_success() {
        Spi::run("CREATE TABLE sx_probe2(i int)").unwrap();
        let n = Subtransaction::new()
            .always_roll_back()
            .run(|| {
                Spi::run("INSERT INTO sx_probe2 VALUES (1)").unwrap();
                Spi::get_one::<i64>("SELECT count(*) FROM sx_probe2").unwrap()
            })
            .unwrap();
        assert_eq!(n, Some(1));
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM sx_probe2").unwrap(),
            Some(0)
        );
    }

    #[pg_test]
    fn own_timeout_is_reported_not_rethrown() {
        let r = Subtransaction::new()
            .timeout_ms(100)
            .run(|| Spi::run("SELECT pg_sleep(5)").unwrap());
        let f = r.unwrap_err();
        assert!(f.timed_out);
        assert_eq!(f.code(), "57014");
        // and the timer is disarmed afterwards
        Spi::run("SELECT pg_sleep(0.3)").unwrap();
    }
}
