//! One error type for every SQL function.
//!
//! pgrx keeps a SQLSTATE only when a `#[pg_extern]` returns
//! `Result<_, ErrorReport>`; any other error type becomes `22000`. So every
//! failure Confiture reports is an [`Error`]: a [`Kind`] that fixes the
//! SQLSTATE, a one-line message, a DETAIL with the specifics and a HINT with
//! the fix. Functions return `Result<T, ErrorReport>` and use `?` on it.

pub use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// What went wrong, which decides the SQLSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A required argument is NULL (22004).
    NullArgument,
    /// An argument has a value we cannot accept (22023).
    InvalidArgument,
    /// A named migration, hook, profile ... does not exist (42704).
    UndefinedObject,
    /// It already exists, differently (42710).
    DuplicateObject,
    /// The object is in the wrong state for this (55000), e.g. changing the
    /// SQL of an applied migration.
    WrongState,
    /// The statement cannot run inside a transaction block (25001).
    NotInTransactionBlock,
    /// Waiting for another session's lock gave up (55P03).
    LockNotAvailable,
    /// The caller lacks a privilege (42501).
    InsufficientPrivilege,
    /// Retry the transaction (40001).
    SerializationFailure,
    /// A statement rejected by the lint guard (42P17).
    LintViolation,
    /// A column that does not exist (42703).
    UndefinedColumn,
    /// A value of the wrong type (42804).
    DatatypeMismatch,
    /// Uniqueness would break (23505).
    UniqueViolation,
    /// A NOT NULL column would get NULLs (23502).
    NotNullViolation,
    /// A foreign key would break (23503).
    ForeignKeyViolation,
    /// A check the user asked for found a violation (23514).
    CheckViolation,
    /// SQL text does not parse (42601).
    SyntaxError,
    /// A hook ran out of time (57014).
    Timeout,
    /// Something that is not supported (0A000).
    NotSupported,
    /// A bug in Confiture (XX000).
    Internal,
}

impl Kind {
    pub fn sqlstate(self) -> PgSqlErrorCode {
        use PgSqlErrorCode::*;
        match self {
            Kind::NullArgument => ERRCODE_NULL_VALUE_NOT_ALLOWED,
            Kind::InvalidArgument => ERRCODE_INVALID_PARAMETER_VALUE,
            Kind::UndefinedObject => ERRCODE_UNDEFINED_OBJECT,
            Kind::DuplicateObject => ERRCODE_DUPLICATE_OBJECT,
            Kind::WrongState => ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            Kind::NotInTransactionBlock => ERRCODE_ACTIVE_SQL_TRANSACTION,
            Kind::LockNotAvailable => ERRCODE_LOCK_NOT_AVAILABLE,
            Kind::InsufficientPrivilege => ERRCODE_INSUFFICIENT_PRIVILEGE,
            Kind::CheckViolation => ERRCODE_CHECK_VIOLATION,
            Kind::UndefinedColumn => ERRCODE_UNDEFINED_COLUMN,
            Kind::DatatypeMismatch => ERRCODE_DATATYPE_MISMATCH,
            Kind::UniqueViolation => ERRCODE_UNIQUE_VIOLATION,
            Kind::NotNullViolation => ERRCODE_NOT_NULL_VIOLATION,
            Kind::ForeignKeyViolation => ERRCODE_FOREIGN_KEY_VIOLATION,
            Kind::LintViolation => ERRCODE_INVALID_OBJECT_DEFINITION,
            Kind::SerializationFailure => ERRCODE_T_R_SERIALIZATION_FAILURE,
            Kind::SyntaxError => ERRCODE_SYNTAX_ERROR,
            Kind::Timeout => ERRCODE_QUERY_CANCELED,
            Kind::NotSupported => ERRCODE_FEATURE_NOT_SUPPORTED,
            Kind::Internal => ERRCODE_INTERNAL_ERROR,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

pub type Result<T> = std::result::Result<T, ErrorReport>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            detail: None,
            hint: None,
        }
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The standard error for a NULL where a value is required.
    pub fn null_argument(function: &str, argument: &str) -> Self {
        Error::new(Kind::NullArgument, format!("{argument} must not be NULL"))
            .detail(format!("{function} was called with {argument} => NULL."))
            .hint(format!("Pass a value for {argument}."))
    }

    /// Raise as an ERROR; never returns.
    pub fn raise(self) -> ! {
        ErrorReport::from(self).report(PgLogLevel::ERROR);
        unreachable!("ERROR does not return")
    }

    /// Convert with the server's original SQLSTATE instead of the kind's
    /// (a failed migration keeps the error code its SQL raised).
    pub fn into_report(self, sqlstate: PgSqlErrorCode) -> ErrorReport {
        let mut r = ErrorReport::new(sqlstate, self.message, "confiture");
        if let Some(d) = self.detail {
            r = r.set_detail(d);
        }
        if let Some(h) = self.hint {
            r = r.set_hint(h);
        }
        r
    }

    /// Emit as a NOTICE (same fields, no abort; SQLSTATE 00000).
    pub fn notice(self) {
        self.into_report(PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION)
            .report(PgLogLevel::NOTICE);
    }

    /// Emit as a WARNING (same fields, no abort).
    pub fn warn(self) {
        ErrorReport::from(self).report(PgLogLevel::WARNING);
    }
}

impl From<Error> for ErrorReport {
    fn from(e: Error) -> Self {
        let sqlstate = e.kind.sqlstate();
        e.into_report(sqlstate)
    }
}

/// `Option<T>` argument that must be present: `require(x, "fn", "arg")?`.
pub fn require<T>(value: Option<T>, function: &str, argument: &str) -> Result<T> {
    value.ok_or_else(|| Error::null_argument(function, argument).into())
}

/// SPI errors are bugs or catalog surprises, not user mistakes.
impl From<pgrx::spi::SpiError> for Error {
    fn from(e: pgrx::spi::SpiError) -> Self {
        Error::new(Kind::Internal, format!("SPI failed: {e}"))
            .hint("This is a bug in confiture; please report it with the statement that caused it.")
    }
}

/// Shorthand for `Err(Error::new(...).into())` in functions returning [`Result`].
pub fn fail<T>(e: Error) -> Result<T> {
    Err(e.into())
}
