//! What this backend is migrating right now.
//!
//! Event triggers (the DDL log, the lint guard) and hooks run inside
//! `confiture.migrate` without being passed anything; they read the
//! current migration and statement from here. Backend-local: a session
//! only ever runs one migration at a time.

use std::cell::RefCell;

#[derive(Debug, Clone, Default)]
pub struct Current {
    pub version: String,
    /// The statement of the migration being executed (its own text).
    pub statement: Option<String>,
    /// The comments just before it (for `-- confiture:ignore` in the guard).
    pub leading: Option<String>,
    pub dry_run: bool,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// The migration being applied or rolled back, if any.
pub fn current() -> Option<Current> {
    CURRENT.with(|c| c.borrow().clone())
}

pub fn current_version() -> Option<String> {
    CURRENT.with(|c| c.borrow().as_ref().map(|m| m.version.clone()))
}

pub fn current_statement() -> Option<String> {
    CURRENT.with(|c| c.borrow().as_ref().and_then(|m| m.statement.clone()))
}

pub fn is_active() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Marks `version` as current until dropped, also when unwinding from an
/// error, so a failed migration never leaves a stale attribution behind.
pub struct Entered(());

pub fn enter(version: &str, dry_run: bool) -> Entered {
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Current {
            version: version.to_owned(),
            statement: None,
            leading: None,
            dry_run,
        })
    });
    Entered(())
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }
}

/// A migration the confiture client applies statement by statement, over
/// several transactions of this session: current from
/// `confiture.begin_client_run` until `confiture.end_client_run`.
pub fn begin_client_run(version: &str) {
    CURRENT.with(|c| {
        *c.borrow_mut() = Some(Current {
            version: version.to_owned(),
            ..Default::default()
        })
    });
}

pub fn end_client_run() {
    CURRENT.with(|c| *c.borrow_mut() = None);
}

pub fn set_statement(statement: Option<&str>) {
    set_statement_with_comments(statement, None);
}

pub fn set_statement_with_comments(statement: Option<&str>, leading: Option<&str>) {
    CURRENT.with(|c| {
        if let Some(m) = c.borrow_mut().as_mut() {
            m.statement = statement.map(str::to_owned);
            m.leading = leading.map(str::to_owned);
        }
    });
}
